"""Run-time settings, read where the run happens (the CLI's shell or the worker), never stored
with a deployment: a deployment registered on one machine must run on another, and a
warehouse password must never appear as a flow-run parameter in the Prefect UI.
"""
from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "CITYLINKS_HOME"
WAREHOUSE_ENV = "CITYLINKS_WAREHOUSE_URL"
WAREHOUSE_SECRET_ENV = "CITYLINKS_WAREHOUSE_SECRET"
DEFAULT_WAREHOUSE_SECRET = "citylinks-warehouse-url"
CACHE_ENV = "CITYLINKS_CACHE_DIR"
CACHE_ENV_OLD = "CITYLINKS_HTTP_CACHE_DIR"  # its former name, still honoured
REPORT_DIR_ENV = "CITYLINKS_REPORT_DIR"
REPORT_KEEP_ENV = "CITYLINKS_REPORT_KEEP"
PROJECT_DIR = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line that names it."""


def home() -> Path:
    """Where CityLinks keeps its default warehouse and HTTP caches: never the current directory,
    so a cron job started elsewhere finds the same warehouse."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("citylinks", appauthor=False))


def default_warehouse_url() -> str:
    return f"sqlite:///{home() / 'warehouse.db'}"


def cache_dir() -> Path:
    """HTTP caches (one per source) and the gazetteer index: safe to delete, rebuilt on demand."""
    configured = os.environ.get(CACHE_ENV) or os.environ.get(CACHE_ENV_OLD)
    return Path(configured).expanduser() if configured else home() / "cache"


def report_dir(warehouse_url: str) -> Path:
    """Where each run's HTML report is written: next to a SQLite warehouse file, else under
    CITYLINKS_HOME (on the machine that ran the flow) — or CITYLINKS_REPORT_DIR."""
    configured = os.environ.get(REPORT_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    from sqlalchemy.engine import make_url

    parsed = make_url(warehouse_url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database).expanduser().resolve().parent / "reports"
    return home() / "reports"


def reports_kept() -> int:
    """How many run reports stay on disk (the newest; `latest.html` besides)."""
    value = os.environ.get(REPORT_KEEP_ENV, "30").strip()
    try:
        return max(1, int(value))
    except ValueError:
        raise ConfigError(f"{REPORT_KEEP_ENV} must be a whole number of reports; got {value!r}") from None


def bundled_recordings() -> Path:
    return PROJECT_DIR / "recordings" / "bundled"


def warehouse_url(*, required: bool) -> tuple[str, str]:
    """(URL, where it came from): the environment, else a Prefect Secret block, else — unless
    `required` (deployment runs) — the default SQLite file under CITYLINKS_HOME."""
    url = os.environ.get(WAREHOUSE_ENV, "").strip()
    if url:
        return url, f"${WAREHOUSE_ENV}"
    secret_name = os.environ.get(WAREHOUSE_SECRET_ENV, DEFAULT_WAREHOUSE_SECRET)
    secret = _secret(secret_name)
    if secret:
        return secret, f"Prefect Secret block {secret_name!r}"
    if required:
        raise ConfigError(f"no warehouse configured: set {WAREHOUSE_ENV} in the worker's environment or create "
                          f"the Prefect Secret block {secret_name!r} (prefect block create secret)")
    return default_warehouse_url(), f"default (${HOME_ENV}/warehouse.db)"


def _secret(name: str) -> str | None:
    """The Secret block's value, or None where there is none (or no Prefect API to ask)."""
    try:
        from prefect.blocks.system import Secret

        return str(Secret.load(name, _sync=True).get()).strip() or None
    except Exception:  # noqa: BLE001 - missing block, no API: the caller decides what that means
        return None


def recordings_dir(mode: str, given: str | None) -> str | None:
    """The recordings a replay or record run uses, checked before anything runs."""
    if mode == "live":
        return None
    if mode == "record":
        if not given:
            raise ConfigError("record mode needs a directory to write the recordings to (--record DIR)")
        return str(Path(given).expanduser().resolve())
    path = Path(given).expanduser() if given else bundled_recordings()
    if not (path / "index.jsonl").is_file():
        raise ConfigError(f"no recordings at {path} (expected {path / 'index.jsonl'}); "
                          "pass a directory made by `citylinks run --record DIR`")
    return str(path.resolve())


def redact(url: str) -> str:
    """The URL with any password masked, for logs, summaries and artifacts."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL at all: show nothing that could be a secret
        return "<unparseable warehouse URL>"
