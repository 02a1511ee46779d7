"""The nightly sync: every source fetched, staged and loaded in isolation.

Orchestration only: what to run, with which retries, in which order, and what to report.
Sources extract and stage concurrently (bounded); loads run one at a time, because each
load writes one source's provenance; then each relation domain's versions (partnerships,
memberships) are computed once for the whole run, at one boundary time. One run at a time
per warehouse (a lock in the warehouse), whoever starts it.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import TerminationSignal
from prefect.runtime import deployment, flow_run
from prefect.states import Failed
from prefect.task_runners import ThreadPoolTaskRunner

from extractors import registry
from extractors.base import SourceError
from extractors.http import FetchError, HttpClient
from flows import domains, settings
from flows.gazetteer import gazetteer
from flows.report import (
    counts_in_words,
    coverage_markdown,
    describe_error,
    funding_markdown,
    quality_markdown,
    summary_rows,
)
from schemas.domains import VERSIONED_DOMAINS
from warehouse import load as wh
from warehouse.lock import WarehouseBusy, exclusive_run

#: Delays of the fetch task's own retries after a transient failure (on top of the HTTP
#: layer's quick retries); `CITYLINKS_FETCH_RETRY_DELAYS="60,300"`, empty for none.
FETCH_RETRY_DELAYS_ENV = "CITYLINKS_FETCH_RETRY_DELAYS"


class SourcesFailed(Exception):
    """Some sources failed; the others were loaded. Ends the flow run Failed, naming them."""


@dataclass
class SourceOutcome:
    source: str
    status: str  # loaded | failed
    message: str = ""
    counts: dict = field(default_factory=dict)
    domain: str = ""  # partnerships | memberships | registers; "" for the run's own steps

    @property
    def is_source(self) -> bool:
        return bool(self.domain)


def _transient(task, task_run, state) -> bool:
    """Retry a fetch only for errors that can pass (429/5xx/network), never a changed page."""
    try:
        state.result()
    except FetchError as exc:
        return exc.transient
    except Exception:  # noqa: BLE001 - anything else (SourceChanged, bugs) will fail again
        return False
    return False


def fetch_retry_delays() -> list[int]:
    raw = os.environ.get(FETCH_RETRY_DELAYS_ENV, "60,300")
    try:
        return [int(float(part)) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise settings.ConfigError(f"{FETCH_RETRY_DELAYS_ENV} must be comma-separated seconds, got {raw!r}") from None


@task(name="extract", retry_jitter_factor=0.5, retry_condition_fn=_transient, cache_policy=NO_CACHE)
def extract(source: str, mode: str, recordings_dir: str | None, options: dict) -> list[dict]:
    logger = get_run_logger()
    module = registry.get(source)
    # One cache file per source: concurrent extract tasks never contend for one SQLite file.
    cache = settings.cache_dir() / f"http_{source}.sqlite"
    cache.parent.mkdir(parents=True, exist_ok=True)
    with HttpClient.from_environment(mode=mode, recordings_dir=recordings_dir, cache_path=cache) as http:
        records = module.extract(http, **options)
    logger.info("%s: %s records extracted (%s mode)", source, f"{len(records):,}", mode)
    return records


@task(name="stage", cache_policy=NO_CACHE)
def stage(records: list[dict], source: str, register=None):
    """`register`: the official municipalities (`OfficialRegister`, from the warehouse), for the German sides."""
    logger = get_run_logger()
    module = registry.get(source)
    frame = module.SOURCE.contract.to_frame(records)
    logger.info("%s: staging %s rows (names, countries, identities, quality gate)", source, f"{len(frame):,}")
    places, index = gazetteer()  # shared by the concurrent stage tasks, built once (and kept on disk)
    staged = domains.of(module).stage(frame, places=places, index=index, register=register,
                                      progress=lambda message: logger.info("%s: %s", source, message))
    logger.info("%s: staged %s rows, %s to quarantine, %s exact duplicates", source,
                f"{staged.rows_extracted - len(staged.rejected) - staged.duplicates_collapsed:,}",
                f"{len(staged.rejected):,}", f"{staged.duplicates_collapsed:,}")
    return staged


@task(name="load", cache_policy=NO_CACHE)
def load(warehouse_url: str, run_id: str, staged, max_reject_share: float, max_shrink: float,
         boundary: datetime) -> dict:
    logger = get_run_logger()
    engine = wh.make_engine(warehouse_url)
    try:
        if staged.reject_share > max_reject_share:
            raise SourceError(
                f"{staged.source}: {len(staged.rejected):,} of {staged.rows_extracted:,} rows "
                f"({staged.reject_share:.1%}) failed validation, above the {max_reject_share:.0%} threshold; "
                f"not loaded. Failed checks: " + ", ".join(
                    r["expectation"] for q in staged.quality for r in q.results if not r["success"]))
        table_failures = [f for q in staged.quality for f in q.table_failures]
        if table_failures:
            raise SourceError(f"{staged.source}: quality gate failed: " + "; ".join(table_failures))
        logger.info("%s: loading into the warehouse (one transaction)", staged.source)
        domain = domains.of(registry.get(staged.source))
        counts = domain.load(engine, staged, run_id=run_id, max_shrink=max_shrink, now=boundary)
        counts = wh.counts_dict(counts)
        logger.info("%s loaded: %s", staged.source, counts_in_words(counts))
        return counts
    finally:
        engine.dispose()


@task(name="consolidate", cache_policy=NO_CACHE)
def consolidate(warehouse_url: str, run_id: str, boundary: datetime, domain: str) -> dict:
    """One relation domain's versions from all sources' current assertions, once per run."""
    from transforms.quality import validate

    logger = get_run_logger()
    engine = wh.make_engine(warehouse_url)
    try:
        spec = VERSIONED_DOMAINS[domain]
        counts = wh.counts_dict(wh.consolidate_domain(engine, spec, run_id=run_id, now=boundary, check=validate))
        logger.info("%s consolidated: %s new, %s changed, %s ended", domain, f"{counts['rows_new']:,}",
                    f"{counts['rows_changed']:,}", f"{counts['rows_ended']:,}")
        return counts
    finally:
        engine.dispose()


@task(name="load-organisations", cache_policy=NO_CACHE)
def load_networks(warehouse_url: str, run_id: str, boundary: datetime) -> dict:
    """The curated city networks and funders (schemas/networks.yaml, funders.yaml) as the
    `organisation` table, SCD2; the sources' licences and attributions as the `source` table."""
    from schemas import funders
    from schemas.networks import organisations
    from warehouse.organisations import load_organisations, refresh_sources

    engine = wh.make_engine(warehouse_url)
    try:
        rows = [*organisations(), *funders.load()]
        counts = wh.counts_dict(load_organisations(engine, rows, run_id=run_id, now=boundary))
        refresh_sources(engine, registry.declarations(), now=boundary)
        get_run_logger().info("networks reference: %s", counts_in_words(counts))
        return counts
    finally:
        engine.dispose()


@task(name="publish-report", cache_policy=NO_CACHE)
def publish(outcomes: list[SourceOutcome], quality: dict[str, list], rejected: dict, warehouse: str,
            coverage=None, funding=None) -> None:
    sources = [o for o in outcomes if o.is_source]
    failed = [o for o in outcomes if o.status != "loaded"]
    headline = (f"{sum(o.status == 'loaded' for o in sources)} of {len(sources)} sources loaded into {warehouse}"
                + ("; failed: " + "; ".join(f"{o.source} — {o.message}" for o in failed) if failed else ""))
    create_table_artifact(key="citylinks-run-summary", table=summary_rows(outcomes), description=headline)
    for domain, rows in _per_domain(outcomes).items():
        loaded = sum(o.status == "loaded" for o in rows if o.is_source)
        create_table_artifact(key=f"citylinks-run-summary-{domain.replace('_', '-')}", table=summary_rows(rows),
                              description=f"{domain}: {loaded} of {sum(o.is_source for o in rows)} sources loaded, "
                                          "then the domain's consolidation into SCD2 versions")
    create_markdown_artifact(key="citylinks-quality-report", markdown=quality_markdown(quality, rejected),
                             description="Great Expectations results per source: failing expectations first")
    if coverage is not None:
        create_markdown_artifact(key="citylinks-coverage", markdown=coverage_markdown(*coverage),
                                 description="Partnerships per Land next to the RGRE's counts; official "
                                             "municipalities with a partnership per size class")
    if funding is not None:
        closing, by_theme = funding_markdown(*funding)
        create_markdown_artifact(key="citylinks-calls-closing", markdown=closing,
                                 description="Open calls whose deadline is within 60 days")
        create_markdown_artifact(key="citylinks-programmes-for-municipalities", markdown=by_theme,
                                 description="Current funding programmes municipalities may apply to, by theme")


def _funding(url: str):
    """(calls closing within 60 days, programmes open to municipalities); None if unreadable."""
    from schemas.funding import deadline_day
    from warehouse.read import current_calls, programmes_for_municipalities

    engine = wh.make_engine(url)
    try:
        return current_calls(engine, today=deadline_day(), closing_within=60), programmes_for_municipalities(engine)
    except Exception as exc:  # noqa: BLE001 - a report, never a reason to fail the run
        get_run_logger().warning("funding report skipped: %s", describe_error(exc))
        return None
    finally:
        engine.dispose()


@task(name="write-report", cache_policy=NO_CACHE)
def write_html_report(warehouse_url: str, run_id: str) -> str:
    """The run's HTML report next to the warehouse (flows/run_report.py), linked from the
    artifact `citylinks-report`."""
    from flows.run_report import write_report

    engine = wh.make_engine(warehouse_url)
    try:
        path = write_report(engine, run_id, settings.report_dir(warehouse_url), keep=settings.reports_kept())
    finally:
        engine.dispose()
    create_link_artifact(key="citylinks-report", link=path.as_uri(), link_text=str(path),
                         description="The run's report (map, coverage per Land, partner countries, changes, "
                                     "quarantine) — a self-contained HTML file on the machine that ran the flow")
    get_run_logger().info("report: %s", path)
    return str(path)


def _report(url: str, run_id: str) -> str | None:
    """The report is for people, not data: failing to write it warns and never fails the run."""
    try:
        return write_html_report(url, run_id)
    except Exception as exc:  # noqa: BLE001
        get_run_logger().warning("HTML report not written: %s", describe_error(exc))
        return None


def _per_domain(outcomes: list[SourceOutcome]) -> dict[str, list[SourceOutcome]]:
    """Each relation domain's sources with its consolidation step, for one summary per domain."""
    step_of = {spec.consolidation: name for name, spec in VERSIONED_DOMAINS.items()}
    out: dict[str, list[SourceOutcome]] = {}
    for outcome in outcomes:
        domain = outcome.domain or step_of.get(outcome.source)
        if domain in VERSIONED_DOMAINS:
            out.setdefault(domain, []).append(outcome)
    return out


def _coverage(url: str):
    """The coverage views after the run; None (and a warning) if they cannot be read."""
    engine = wh.make_engine(url)
    try:
        return wh.coverage(engine)
    except Exception as exc:  # noqa: BLE001 - a report, never a reason to fail the run
        get_run_logger().warning("coverage report skipped: %s", describe_error(exc))
        return None
    finally:
        engine.dispose()


def _refused_counts(staged) -> wh.LoadCounts:
    """What a source that was not loaded really brought: its audit row keeps the real numbers."""
    return wh.LoadCounts(rows_extracted=staged.rows_extracted, rows_quarantined=len(staged.rejected),
                         rows_duplicate=staged.duplicates_collapsed)


@flow(name="citylinks-nightly", task_runner=ThreadPoolTaskRunner(max_workers=3), log_prints=True)
def nightly(
    sources: list[str] | None = None,
    mode: str = "replay",
    recordings_dir: str | None = None,
    max_reject_share: float = 0.2,
    max_shrink: float = 0.5,
    source_options: dict[str, dict] | None = None,
    lock_wait_seconds: float = 60.0,
):
    """Fetch, check and load every source; one failing source does not stop the others.

    The warehouse is a setting of the machine that runs the flow (CITYLINKS_WAREHOUSE_URL or the
    Secret block `citylinks-warehouse-url`), never a parameter. `recordings_dir`: null = the
    recordings bundled with the code (replay mode).
    """
    logger = get_run_logger()
    run_id = str(flow_run.id or uuid.uuid4())
    try:
        names = registry.names(sources)
        if mode not in ("live", "record", "replay"):
            raise settings.ConfigError(f"mode must be live, record or replay; got {mode!r}")
        recordings = settings.recordings_dir(mode, recordings_dir)
        retry_delays = fetch_retry_delays()
        url, origin = settings.warehouse_url(required=deployment.id is not None)
        engine = wh.make_engine(url)
        wh.check_reachable(engine)
    except registry.UnknownSource as exc:
        return _failed_to_start(settings.ConfigError(str(exc)))
    except (settings.ConfigError, wh.WarehouseUnreachable) as exc:
        return _failed_to_start(exc)
    shown = settings.redact(url)
    logger.info("warehouse: %s (from %s); sources: %s; mode: %s", shown, origin, ", ".join(names), mode)
    try:
        with exclusive_run(engine, run_id, lock_wait_seconds):
            outcomes, quality, rejected = _sync(engine, url, run_id, names, mode, recordings, retry_delays,
                                      source_options or {}, max_reject_share, max_shrink)
            _report(url, run_id)  # still under the lock: the report shows this run's state, no later one's
    except WarehouseBusy as exc:
        return _failed_to_start(exc)
    except (KeyboardInterrupt, TerminationSignal) as exc:
        what = "SIGINT (Ctrl-C)" if isinstance(exc, KeyboardInterrupt) else f"signal {getattr(exc, 'signal', '')}"
        _release_interrupted_statement(exc)
        wh.cancel_run(engine, run_id, f"run cancelled by {what} before this source finished; its load "
                                      "was rolled back, the warehouse holds the data of the previous run")
        logger.error("run cancelled by %s; unfinished sources rolled back and marked cancelled", what)
        raise
    finally:
        engine.dispose()
    publish(outcomes, quality, rejected, shown, _coverage(url), _funding(url))
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        sources = sum(o.is_source for o in outcomes)
        message = f"{len(failed)} of {sources} sources failed: " + "; ".join(
            f"{o.source} ({o.message})" for o in failed)
        logger.error("%s", message)
        return Failed(message=message, data=SourcesFailed(message))
    return outcomes


def _release_interrupted_statement(exc: BaseException) -> None:
    """A signal that lands inside a SQLite executemany leaves the closed connection a 'zombie'
    holding the write lock until its statement is finalized — and the traceback's frames keep
    the cursor alive. Clearing them finalizes it, so the rollback is complete before we write
    the audit row."""
    import gc
    import traceback

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__
    gc.collect()


def _failed_to_start(exc: Exception):
    """The run could not begin (a setting, the warehouse, the lock): one line, a Failed state
    that carries the error, so the CLI can tell configuration from a busy warehouse."""
    get_run_logger().error("%s", exc)
    return Failed(message=str(exc), data=exc)


def _sync(engine, url, run_id, names, mode, recordings, retry_delays, source_options, max_reject_share,
          max_shrink) -> tuple[list[SourceOutcome], dict, dict]:
    """Under the run lock: migrate, close what killed runs left open, then the sources."""
    logger = get_run_logger()
    wh.create_schema(engine)
    aborted = wh.abort_stale_runs(engine, run_id)
    if aborted:
        logger.warning("%d load_run row(s) left 'running' by a killed run marked 'aborted'", aborted)
    options = {**_recorded_options(mode, recordings), **source_options}
    started = datetime.now(timezone.utc)
    for name in names:
        wh.start_run(engine, run_id, name, started)
    reference = _run_step(engine, run_id, "reference:organisation", "loading the networks reference",
                          lambda: load_networks(url, run_id, started))

    extracted = {}
    # A recording answers the same every time: no fetch retries in replay mode.
    retries = {"retries": 0} if mode == "replay" or not retry_delays else \
        {"retries": len(retry_delays), "retry_delay_seconds": retry_delays}
    for name in names:
        extracted[name] = extract.with_options(name=f"extract-{name}", **retries).submit(
            name, mode, recordings, options.get(name, {}))

    outcomes, quality, rejected = [], {}, {}

    def load_one(name, staged_future):
        """Loads one after another, all at the run's one boundary time."""
        staged = None
        try:
            extracted[name].result()  # raises the source's own error, not "upstream failed"
            staged = staged_future.result() if hasattr(staged_future, "result") else staged_future
            quality[name], rejected[name] = staged.quality, staged.rejected
            counts = load.with_options(name=f"load-{name}")(url, run_id, staged, max_reject_share, max_shrink,
                                                             started)
            outcomes.append(SourceOutcome(name, "loaded", counts=counts, domain=domain_of(name)))
        except Exception as exc:  # noqa: BLE001 - isolate sources; the message goes to audit and summary
            message = describe_error(exc)
            logger.error("source %s failed: %s", name, message)
            counts = _refused_counts(staged) if staged is not None else None
            wh.fail_run(engine, run_id, name, message, counts)
            outcomes.append(SourceOutcome(name, "failed", message, wh.counts_dict(counts) if counts else {},
                                          domain=domain_of(name)))

    first = [n for n in names if domains.of(registry.get(n)).first]
    for name in first:  # official registers: loaded before the others resolve their sides
        load_one(name, stage.with_options(name=f"stage-{name}").submit(extracted[name], name))
    register = _official_register(engine, announce=bool(first))
    rest = [n for n in names if n not in first]
    staged_futures = {name: stage.with_options(name=f"stage-{name}").submit(extracted[name], name, register)
                      for name in rest}
    staged = _staged_or_failed(extracted, staged_futures)
    if register is not None:
        ready = {n: s for n, s in staged.items() if not isinstance(s, _Failed)}
        try:
            staged.update(corroborate_sides(ready, register))
        except Exception as exc:  # noqa: BLE001 - a check that failed leaves the sides as staged
            logger.warning("corroborating sides across sources failed (%s); sources load as staged",
                           describe_error(exc))
    for name in rest:
        load_one(name, staged[name])
    outcomes.insert(0, reference)
    for domain, spec in VERSIONED_DOMAINS.items():
        outcomes.append(_run_step(engine, run_id, spec.consolidation, f"{domain} consolidation",
                                  lambda domain=domain: consolidate.with_options(name=f"consolidate-{domain}")(
                                      url, run_id, started, domain)))
    return outcomes, quality, rejected


def domain_of(name: str) -> str:
    return domains.of(registry.get(name)).name


def _staged_or_failed(extracted: dict, staged_futures: dict) -> dict:
    """Each source's staged frames, or the exception that stopped it (raised again at its load)."""
    out = {}
    for name, future in staged_futures.items():
        try:
            extracted[name].result()
            out[name] = future.result()
        except Exception as exc:  # noqa: BLE001 - the source's own failure, reported by load_one
            out[name] = _Failed(exc)
    return out


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc

    def result(self):
        raise self.exc


@task(name="corroborate", cache_policy=NO_CACHE)
def corroborate_sides(staged: dict, register) -> dict:
    """Sides a source placed among namesakes by its own coordinates, checked against the other
    sources' twin towns (`transforms.corroboration`)."""
    from transforms.corroboration import corroborate

    partnerships = [s for s in staged.values() if domains.of(registry.get(s.source)).name == "partnerships"]
    moved, moves = corroborate(partnerships, register)
    for row in moves.itertuples(index=False):
        get_run_logger().info("%s: %s → %s (%d of its %d partners are twinned with it in other sources)",
                              row.source, row.from_key, row.to_key, row.shared, row.partners)
    return {s.source: s for s in moved}


def _run_step(engine, run_id: str, step: str, what: str, run) -> SourceOutcome:
    """A step of the run that is not a source (a domain's consolidation, the networks reference):
    if it fails, the sources' provenance stays loaded and the next run recomputes what it left."""
    try:
        return SourceOutcome(step, "loaded", counts=run())
    except Exception as exc:  # noqa: BLE001 - reported like a failed source
        message = describe_error(exc)
        get_run_logger().error("%s failed: %s", what, message)
        wh.fail_run(engine, run_id, step, message)
        return SourceOutcome(step, "failed", message)


def _official_register(engine, announce: bool):
    """This run's register if it loaded, else the last one: indexed once, shared by the stage tasks."""
    from transforms.registers import OfficialRegister

    municipalities = wh.read_register(engine)
    if announce or len(municipalities):
        get_run_logger().info("official register: %s municipalities for resolving German sides",
                              f"{len(municipalities):,}")
    return OfficialRegister(municipalities) if len(municipalities) else None


def _recorded_options(mode: str, recordings_dir: str | None) -> dict:
    """Options a recording was made with (e.g. which Wikipedia articles), so a replay asks the same."""
    import json

    if mode != "replay" or not recordings_dir:
        return {}
    path = Path(recordings_dir) / "options.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
