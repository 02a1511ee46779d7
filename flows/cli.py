"""`citylinks` command line: run the pipeline, list sources, debug a parser, check matches.

Errors are one line on stderr with a distinct exit code (README § Exit codes); `--debug`
shows the traceback as well.
"""
from __future__ import annotations

import csv
import io
import json
import os
import sys
from datetime import datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Optional

import typer

from extractors import registry
from flows import settings

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

EXIT_SOURCES_FAILED, EXIT_USAGE, EXIT_CONFIG, EXIT_BUSY, EXIT_INTERRUPTED = 1, 2, 3, 4, 130

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="CityLinks: international relations of municipalities, consolidated.")
_state = {"debug": False}


class CliError(Exception):
    """A failure the user can act on: printed as one line, exits with `code`."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@app.callback()
def main_options(debug: bool = typer.Option(False, "--debug", help="Show tracebacks and Prefect's full logs.")) -> None:
    _state["debug"] = debug


def friendly(command):
    """Every error as one line with its exit code; the traceback only with --debug."""
    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except CliError as exc:
            _fail(str(exc), exc.code)
        except settings.ConfigError as exc:
            _fail(f"configuration: {exc}", EXIT_CONFIG)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not 40
            if _state["debug"]:
                raise
            from flows.report import describe_error

            _fail(f"{describe_error(exc)} (run with --debug for the traceback)", EXIT_SOURCES_FAILED)
    return wrapper


def _fail(message: str, code: int):
    typer.echo(f"citylinks: {message}", err=True)
    raise typer.Exit(code)


@app.command()
@friendly
def run(
    sources: list[str] = typer.Argument(None, help="Sources to run (default: all). See `citylinks sources`."),
    replay: Optional[Path] = typer.Option(None, "--replay", help="Serve recorded responses from DIR; no network."),
    live: bool = typer.Option(False, "--live", help="Fetch the real sources over the network."),
    record: Optional[Path] = typer.Option(None, "--record", help="Fetch live and save every response into DIR."),
    warehouse: str = typer.Option(None, "--warehouse", envvar=settings.WAREHOUSE_ENV, show_envvar=True,
                                  help="SQLAlchemy URL of the warehouse [default: sqlite file under $CITYLINKS_HOME]"),
    max_reject_share: float = typer.Option(0.2, help="Refuse to load a source with more failing rows than this share."),
    max_shrink: float = typer.Option(0.5, help="Refuse to end more than this share of a source's current rows."),
    wait: float = typer.Option(60.0, "--wait", help="Seconds to wait for another run on the same warehouse."),
) -> None:
    """Run the nightly flow once and print rows per source (exit codes: README § Exit codes)."""
    if sum(bool(x) for x in (replay, live, record)) > 1:
        raise CliError("choose one of --replay DIR, --live, --record DIR", EXIT_USAGE)
    _known_sources(sources)
    mode, directory = ("live", None) if live else ("record", str(record)) if record else \
        ("replay", str(replay) if replay else None)
    directory = settings.recordings_dir(mode, directory)  # a missing directory: one line, before anything starts
    url = warehouse or settings.default_warehouse_url()
    from warehouse.load import WarehouseUnreachable, check_reachable, make_engine

    try:
        engine = make_engine(url)
        check_reachable(engine)
        engine.dispose()
    except WarehouseUnreachable as exc:
        raise CliError(f"{exc} ({settings.redact(url)})", EXIT_CONFIG) from None
    os.environ[settings.WAREHOUSE_ENV] = url  # the flow reads it there: never a flow-run parameter
    typer.echo(f"warehouse: {settings.redact(url)}", err=True)

    from flows.runtime import interrupted_exit, local_prefect_api, one_line_console_logs

    if not _state["debug"]:
        one_line_console_logs()
    try:
        with local_prefect_api():
            from flows.nightly import nightly

            state = nightly(sources=sources or None, mode=mode, recordings_dir=directory,
                            max_reject_share=max_reject_share, max_shrink=max_shrink, lock_wait_seconds=wait,
                            return_state=True)
    except KeyboardInterrupt:
        interrupted_exit(url, EXIT_INTERRUPTED)
    _report_run(url, state)


def _known_sources(sources: list[str] | None) -> list[str]:
    """A typo in a source name is a usage error (exit 2), caught before anything starts."""
    try:
        return registry.names(sources)
    except registry.UnknownSource as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def _report_run(url: str, state) -> None:
    from warehouse.load import WarehouseUnreachable
    from warehouse.lock import WarehouseBusy

    outcome = state.result(raise_on_failure=False) if state.is_failed() else None
    runs = _audit_rows(url, str(state.state_details.flow_run_id))
    if runs:
        _print_summary(runs)
    typer.echo(f"\nwarehouse: {settings.redact(url)}")
    latest = settings.report_dir(url) / "latest.html"
    run_id = str(state.state_details.flow_run_id)
    if latest.exists() and f'content="{run_id}"' in latest.read_text(encoding="utf-8", errors="replace")[:2000]:
        typer.echo(f"report:    {latest}")
    if not state.is_failed():
        return
    code = EXIT_SOURCES_FAILED
    if isinstance(outcome, WarehouseBusy):
        code = EXIT_BUSY
    elif isinstance(outcome, (settings.ConfigError, WarehouseUnreachable)):
        code = EXIT_CONFIG
    _fail(f"run failed: {state.message}", code)


def _audit_rows(url: str, run_id: str) -> list[dict]:
    """This run's rows of `load_run`: the summary is what the audit table says, nothing else."""
    from sqlalchemy import select

    from schemas.warehouse import load_run
    from warehouse.load import make_engine, read_frame

    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            frame = read_frame(conn, select(load_run).where(load_run.c.run_id == run_id).order_by(load_run.c.source))
        engine.dispose()
    except Exception:  # noqa: BLE001 - no warehouse (bad URL): the flow's own message says why
        return []
    return frame.to_dict("records")


def _print_summary(outcomes: list[dict]) -> None:
    header = (f"{'source':32} {'status':9} {'extracted':>9} {'new':>7} {'changed':>7} {'ended':>6} "
              f"{'quarant.':>8} {'dupl.':>6}")
    typer.echo(header)
    typer.echo("-" * len(header))
    for c in outcomes:
        typer.echo(f"{c['source']:32} {c['status']:9} {c['rows_extracted']:>9} {c['rows_new']:>7} "
                   f"{c['rows_changed']:>7} {c['rows_ended']:>6} {c['rows_quarantined']:>8} "
                   f"{c.get('rows_duplicate', 0) or 0:>6}")
    failed = [c for c in outcomes if c["status"] != "loaded"]
    if failed:
        typer.echo("")
        for c in failed:
            typer.echo(f"{c['source']} {c['status']}: {c['message']}")


@app.command("sources")
@friendly
def list_sources() -> None:
    """List the sources with domain, URL, licence and the date of the bundled recording."""
    for module in registry.SOURCES.values():
        info = module.SOURCE
        typer.echo(f"{info.name}\n  domain:   {info.domain}\n  url:      {info.url}\n"
                   f"  licence:  {info.licence} ({info.licence_id})\n  credit:   {info.attribution}\n"
                   f"  recorded: {info.recorded or '-'}")


@app.command()
@friendly
def parse(source: str, file: Path) -> None:
    """Parse one saved response of SOURCE and print its records as JSON lines."""
    [source] = _known_sources([source])
    if not file.is_file():
        raise CliError(f"no such file: {file}", EXIT_USAGE)
    module = registry.get(source)
    content = file.read_bytes()
    from extractors.base import SourceError

    try:
        records = module.parse(content, url=file.resolve().as_uri(), extracted_at=datetime.now(timezone.utc))
    except SourceError as exc:
        raise CliError(f"{file} does not parse as {source}: {exc}", EXIT_SOURCES_FAILED) from None
    for record in records:
        sys.stdout.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")


@app.command()
@friendly
def resolve() -> None:
    """Read `name,country` CSV on stdin; write it back with the pipeline's GeoNames match added."""
    import pandas as pd

    raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
    if not raw.strip():
        raise CliError("stdin is empty; expected a CSV with the header name,country", EXIT_USAGE)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CliError(f"stdin is not UTF-8 text (byte {exc.start}); expected a CSV with the header "
                       "name,country", EXIT_USAGE) from None
    if "\x00" in text:
        raise CliError("stdin holds binary data (NUL bytes); expected a CSV with the header name,country", EXIT_USAGE)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype="string", keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CliError(f"stdin is not a CSV: {str(exc).strip().splitlines()[0]}", EXIT_USAGE) from None
    if not {"name", "country"} <= set(frame.columns):
        raise CliError(f"stdin needs a CSV header with name,country; got {list(frame.columns)[:5]}", EXIT_USAGE)

    from extractors.geonames_gazetteer import load_places
    from transforms.countries import to_iso2
    from transforms.identity import build_name_index
    from transforms.identity import resolve as resolve_names

    countries = to_iso2(frame["country"].replace("", pd.NA))
    unknown = frame["country"].ne("") & countries.isna()
    for row, value in frame.loc[unknown, "country"].items():
        typer.echo(f"citylinks: line {row + 2}: country {value!r} not recognised; matched by name without a "
                   "country", err=True)
    places = load_places()
    queries = pd.DataFrame({"name": frame["name"].replace("", pd.NA),
                            "country_code": countries,
                            "lat": pd.array([pd.NA] * len(frame), dtype="Float64"),
                            "lon": pd.array([pd.NA] * len(frame), dtype="Float64")})
    result = resolve_names(queries, build_name_index(places), places)
    out = frame.assign(geonames_id=result["geonames_id"].values, canonical_name=result["canonical_name"].values,
                       score=result["match_score"].round(3).values, method=result["match_method"].values,
                       status=result["match_status"].values)
    out.to_csv(sys.stdout, index=False, quoting=csv.QUOTE_MINIMAL)


@app.command()
@friendly
def memberships(
    municipality: str = typer.Argument(..., help="A name (Köln), an AGS (05315000) or a municipality_id."),
    warehouse: str = typer.Option(None, "--warehouse", envvar=settings.WAREHOUSE_ENV, show_envvar=True,
                                  help="Warehouse URL (default: the SQLite warehouse in CITYLINKS_HOME)."),
) -> None:
    """Print one municipality's city networks: since, status, role and the sources stating each."""
    from warehouse.read import find_municipalities, memberships_of

    engine = _reading_engine(_existing_warehouse(warehouse))
    try:
        found = find_municipalities(engine, municipality)
        if found.empty:
            raise CliError(f"no municipality named {municipality!r} in the warehouse (try its AGS or the name "
                           "the official register uses)", EXIT_USAGE)
        if len(found) > 1:
            lines = [f"  {r.municipality_id}  {r.name} ({r.country_code or '?'}"
                     + (f", AGS {r.ags}" if r.ags else "") + (f", {r.region_name}" if r.region_name else "") + ")"
                     for r in found.itertuples()]
            raise CliError(f"{municipality!r} names {len(found)} municipalities; give one of these ids:\n"
                           + "\n".join(lines), EXIT_USAGE)
        who = found.iloc[0]
        rows = memberships_of(engine, who["municipality_id"])
    finally:
        engine.dispose()
    typer.echo(f"{who['name']} ({who['municipality_id']}" + (f", AGS {who['ags']}" if who["ags"] else "")
               + f"): {len(rows)} network(s)")
    for r in rows.itertuples():
        since = r.since_date or (str(int(r.since_year)) if r.since_year == r.since_year and r.since_year else "-")
        until = str(int(r.until_year)) if r.until_year == r.until_year and r.until_year else ""
        typer.echo(f"  {(r.name_en or r.network)[:44]:44} {r.status:9} {(r.role or ''):9} since {since:10} "
                   + (f"until {until} " if until else "") + f"[{r.sources}]")


@app.command()
@friendly
def calls(
    open_only: bool = typer.Option(False, "--open", help="Only calls open or forthcoming whose deadline has not passed."),
    theme: Optional[str] = typer.Option(None, "--theme", help="Only calls with this theme (e.g. partnership)."),
    closing_within: Optional[int] = typer.Option(None, "--closing-within", help="Only calls closing within DAYS.",
                                                 metavar="DAYS", min=0),
    output: str = typer.Option("table", "--format", help="table, csv or json."),
    warehouse: str = typer.Option(None, "--warehouse", envvar=settings.WAREHOUSE_ENV, show_envvar=True,
                                  help="Warehouse URL (default: the SQLite warehouse in CITYLINKS_HOME)."),
) -> None:
    """Calls for proposals in the warehouse, soonest deadline first, with the days left."""
    import pandas as pd

    from schemas.funding import THEMES, deadline_day
    from warehouse.read import current_calls

    if output not in ("table", "csv", "json"):
        raise CliError(f"--format must be table, csv or json; got {output!r}", EXIT_USAGE)
    if theme is not None and theme not in THEMES:
        raise CliError(f"unknown theme {theme!r}; known: {', '.join(THEMES)}", EXIT_USAGE)
    engine = _reading_engine(_existing_warehouse(warehouse))
    try:
        rows = current_calls(engine, today=deadline_day(), open_only=open_only, theme=theme,
                             closing_within=closing_within)
    finally:
        engine.dispose()
    if output == "csv":
        rows.to_csv(sys.stdout, index=False)
    elif output == "json":
        for record in json.loads(rows.to_json(orient="records", force_ascii=False)):
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        typer.echo(f"{len(rows)} call(s)")
        for r in rows.itertuples():
            left = "-" if pd.isna(r.days_left) else f"{r.days_left} days"
            typer.echo(f"  {r.closes or '-':10} {left:>9}  {r.status or '-':11} {str(r.title)[:60]:60} {r.call_url or ''}")


@app.command()
@friendly
def export(
    output: str = typer.Option(..., "--format", help="parquet or csv."),
    to: Path = typer.Option(..., "--to", metavar="DIR", help="Directory to write; a previous export there is replaced."),
    warehouse: str = typer.Option(None, "--warehouse", envvar=settings.WAREHOUSE_ENV, show_envvar=True,
                                  help="Warehouse URL (default: the SQLite warehouse in CITYLINKS_HOME)."),
) -> None:
    """Write the analyst views as typed Parquet or CSV files, with datapackage.json and ATTRIBUTION.md
    (the licences of every row)."""
    import time

    from warehouse import export as exports

    if output not in exports.FORMATS:
        raise CliError(f"--format must be {' or '.join(exports.FORMATS)}; got {output!r}", EXIT_USAGE)
    url = _existing_warehouse(warehouse)
    started = time.monotonic()
    engine = _reading_engine(url)
    try:
        written = exports.export_warehouse(engine, to, output)
    except exports.NoRunYet as exc:
        raise CliError(f"nothing to export: {exc} ({settings.redact(url)})", EXIT_USAGE) from None
    except exports.ExportRefused as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    finally:
        engine.dispose()
    for file in written:
        rows = "" if file.rows is None else f"{file.rows:,} rows"
        typer.echo(f"{file.file:38} {rows:>14} {file.bytes:>13,} bytes")
    typer.echo(f"{len(written)} files written to {to} in {time.monotonic() - started:.1f} s")


@app.command()
@friendly
def report(
    to: Path = typer.Option(None, "--to", metavar="DIR",
                            help="Directory to write into (default: reports/ next to a SQLite warehouse, "
                                 "else $CITYLINKS_HOME/reports, or CITYLINKS_REPORT_DIR)."),
    warehouse: str = typer.Option(None, "--warehouse", envvar=settings.WAREHOUSE_ENV, show_envvar=True,
                                  help="Warehouse URL (default: the SQLite warehouse in CITYLINKS_HOME)."),
) -> None:
    """Write the HTML report of the warehouse's latest run (each run writes its own) and print its path."""
    from flows.run_report import write_report
    from warehouse.report_data import latest_run_id

    url = _existing_warehouse(warehouse)
    engine = _reading_engine(url)
    try:
        run_id = latest_run_id(engine)
        if run_id is None:
            raise CliError(f"no run in the warehouse yet ({settings.redact(url)}): run `citylinks run` first",
                           EXIT_USAGE)
        path = write_report(engine, run_id, to or settings.report_dir(url), keep=settings.reports_kept())
    finally:
        engine.dispose()
    typer.echo(str(path))


def _existing_warehouse(given: str | None) -> str:
    """The warehouse URL to read (the option, else the setting); a SQLite file that does not exist
    is a usage error — opening it would create an empty warehouse."""
    url = given or settings.warehouse_url(required=False)[0]
    missing = _missing_sqlite_file(url)
    if missing:
        raise CliError(f"no warehouse at {missing}: run `citylinks run` first", EXIT_USAGE)
    return url


def _reading_engine(url: str):
    """An engine on a reachable warehouse at this code's schema revision. Reading commands never
    migrate (a run does): an older warehouse is named, not read with wrong columns."""
    from warehouse import load as wh

    engine = wh.make_engine(url)
    try:
        wh.check_reachable(engine)
        revision, head = wh.schema_revision(engine), wh.head_revision()
    except wh.WarehouseUnreachable as exc:
        engine.dispose()
        raise CliError(f"{exc} ({settings.redact(url)})", EXIT_CONFIG) from None
    if revision != head:
        engine.dispose()
        state = "has no tables yet" if revision is None else f"is at schema revision {revision}, this code reads {head}"
        raise CliError(f"the warehouse {settings.redact(url)} {state}: run `citylinks run` first (it migrates, "
                       "then loads)", EXIT_USAGE)
    return engine


def _missing_sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL that does not exist: opening it would create an empty warehouse."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - make_engine says what is wrong with it
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    return None if path.exists() else str(path)


def main() -> None:  # pragma: no cover - the console script
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
