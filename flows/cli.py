"""`citylinks` command line: run the pipeline, list sources, debug a parser, check matches."""
from __future__ import annotations

import csv
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from extractors import registry

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="CityLinks: international relations of municipalities, consolidated.")

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@app.command()
def run(
    sources: list[str] = typer.Argument(None, help="Sources to run (default: all). See `citylinks sources`."),
    replay: Optional[Path] = typer.Option(None, "--replay", help="Serve recorded responses from DIR; no network."),
    live: bool = typer.Option(False, "--live", help="Fetch the real sources over the network."),
    record: Optional[Path] = typer.Option(None, "--record", help="Fetch live and save every response into DIR."),
    warehouse: str = typer.Option(None, "--warehouse", envvar="CITYLINKS_WAREHOUSE_URL",
                                  help="SQLAlchemy URL of the warehouse [default: sqlite:///warehouse.db]"),
    max_reject_share: float = typer.Option(0.2, help="Refuse to load a source with more failing rows than this share."),
    max_shrink: float = typer.Option(0.5, help="Refuse to end more than this share of a source's current rows."),
) -> None:
    """Run the nightly flow once and print rows per source; exit 1 if any source failed."""
    from flows.nightly import DEFAULT_REPLAY_DIR, DEFAULT_WAREHOUSE_URL, nightly

    if sum(bool(x) for x in (replay, live, record)) > 1:
        raise typer.BadParameter("choose one of --replay DIR, --live, --record DIR")
    mode, directory = ("live", None) if live else ("record", str(record)) if record else \
        ("replay", str(replay or DEFAULT_REPLAY_DIR))
    for name in sources or []:
        if name not in registry.SOURCES:  # before the flow starts: a typo is a usage error, exit 2
            raise typer.BadParameter(f"unknown source {name!r}; known: {', '.join(registry.SOURCES)}")
    url = warehouse or DEFAULT_WAREHOUSE_URL
    state = nightly(sources=sources or None, mode=mode, recordings_dir=directory, warehouse_url=url,
                    max_reject_share=max_reject_share, max_shrink=max_shrink, return_state=True)
    runs = _audit_rows(url, str(state.state_details.flow_run_id))
    if runs:
        _print_summary(runs)
    if state.is_failed():
        typer.echo(f"\nrun failed: {state.message}", err=True)
        raise typer.Exit(1)


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
    header = f"{'source':32} {'status':7} {'extracted':>9} {'new':>7} {'changed':>7} {'ended':>6} {'quarant.':>8}"
    typer.echo(header)
    typer.echo("-" * len(header))
    for c in outcomes:
        typer.echo(f"{c['source']:32} {c['status']:7} {c['rows_extracted']:>9} {c['rows_new']:>7} "
                   f"{c['rows_changed']:>7} {c['rows_ended']:>6} {c['rows_quarantined']:>8}")
        if c["message"]:
            typer.echo(f"    {c['message']}")


@app.command("sources")
def list_sources() -> None:
    """List the sources with domain, URL, licence and the date of the bundled recording."""
    for module in registry.SOURCES.values():
        info = module.SOURCE
        typer.echo(f"{info.name}\n  domain:   {info.domain}\n  url:      {info.url}\n  licence:  {info.licence}\n"
                   f"  credit:   {info.attribution}\n  recorded: {info.recorded or '-'}")


@app.command()
def parse(source: str, file: Path) -> None:
    """Parse one saved response of SOURCE and print its records as JSON lines."""
    module = registry.get(source)
    content = file.read_bytes()
    records = module.parse(content, url=file.resolve().as_uri(), extracted_at=datetime.now(timezone.utc))
    for record in records:
        sys.stdout.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")


@app.command()
def resolve() -> None:
    """Read `name,country` CSV on stdin; write it back with the pipeline's GeoNames match added."""
    import pandas as pd

    from extractors.geonames_gazetteer import load_places
    from transforms.countries import to_iso2
    from transforms.identity import build_name_index, resolve as resolve_names

    frame = pd.read_csv(sys.stdin, dtype="string", keep_default_na=False)
    if not {"name", "country"} <= set(frame.columns):
        raise typer.BadParameter(f"stdin needs a CSV header with name,country; got {list(frame.columns)}")
    places = load_places()
    queries = pd.DataFrame({"name": frame["name"].replace("", pd.NA),
                            "country_code": to_iso2(frame["country"].replace("", pd.NA)),
                            "lat": pd.array([pd.NA] * len(frame), dtype="Float64"),
                            "lon": pd.array([pd.NA] * len(frame), dtype="Float64")})
    result = resolve_names(queries, build_name_index(places), places)
    out = frame.assign(geonames_id=result["geonames_id"].values, canonical_name=result["canonical_name"].values,
                       score=result["match_score"].round(3).values, method=result["match_method"].values,
                       status=result["match_status"].values)
    out.to_csv(sys.stdout, index=False, quoting=csv.QUOTE_MINIMAL)


if __name__ == "__main__":  # pragma: no cover
    app()
