"""The nightly sync: every source fetched, staged and loaded in isolation.

Orchestration only: what to run, with which retries, in which order, and what to report.
Sources extract and stage concurrently (bounded); loads run one at a time, because each
load reconciles the consolidated `partnership` table across all sources.
"""
from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from extractors import registry
from extractors.base import SourceError
from extractors.http import FetchError, HttpClient
from schemas.records import PARTNERSHIP_ASSERTION
from warehouse import load as wh

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_REPLAY_DIR = str(PROJECT_DIR / "recordings" / "bundled")
DEFAULT_WAREHOUSE_URL = os.environ.get("CITYLINKS_WAREHOUSE_URL", wh.DEFAULT_URL)


class SourcesFailed(Exception):
    """Some sources failed; the others were loaded. Ends the flow run Failed, naming them."""


@dataclass
class SourceOutcome:
    source: str
    status: str  # loaded | failed
    message: str = ""
    counts: dict = field(default_factory=dict)


def _transient(task, task_run, state) -> bool:
    """Retry a fetch only for errors that can pass (429/5xx/network), never a changed page."""
    try:
        state.result()
    except FetchError as exc:
        return exc.transient
    except Exception:  # noqa: BLE001 - anything else (SourceChanged, bugs) will fail again
        return False
    return False


@task(name="extract", retries=2, retry_delay_seconds=[60, 300], retry_jitter_factor=0.5,
      retry_condition_fn=_transient, cache_policy=NO_CACHE)
def extract(source: str, mode: str, recordings_dir: str | None, options: dict) -> list[dict]:
    logger = get_run_logger()
    module = registry.get(source)
    # One cache file per source: concurrent extract tasks never contend for one SQLite file.
    cache = Path(os.environ.get("CITYLINKS_HTTP_CACHE_DIR", ".cache")) / f"http_{source}.sqlite"
    with HttpClient(mode=mode, recordings_dir=recordings_dir, cache_path=cache) as http:
        records = module.extract(http, **options)
    logger.info("%s: %d records extracted (%s mode)", source, len(records), mode)
    return records


@task(name="stage", cache_policy=NO_CACHE)
def stage(records: list[dict]):
    from transforms.staging import stage as stage_frame

    with _GAZETTEER_LOCK:  # concurrent stage tasks share one gazetteer and index, built once
        places, index = _gazetteer()
    return stage_frame(PARTNERSHIP_ASSERTION.to_frame(records), places=places, index=index)


_GAZETTEER_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _gazetteer():
    """Places and name index, built once per process (~8 s) and shared by every stage task."""
    from extractors.geonames_gazetteer import load_places
    from transforms.identity import build_name_index

    places = load_places()
    return places, build_name_index(places)


@task(name="load", cache_policy=NO_CACHE)
def load(warehouse_url: str, run_id: str, staged, max_reject_share: float, max_shrink: float) -> dict:
    from transforms.quality import validate

    logger = get_run_logger()
    engine = wh.make_engine(warehouse_url)
    try:
        if staged.reject_share > max_reject_share:
            raise SourceError(
                f"{staged.source}: {len(staged.rejected)} of {staged.rows_extracted} rows "
                f"({staged.reject_share:.1%}) failed validation, above the {max_reject_share:.0%} threshold; "
                f"not loaded. Failed checks: " + ", ".join(
                    r["expectation"] for q in staged.quality for r in q.results if not r["success"]))
        table_failures = [f for q in staged.quality for f in q.table_failures]
        if table_failures:
            raise SourceError(f"{staged.source}: quality gate failed: " + "; ".join(table_failures))
        counts = wh.load_source(engine, run_id=run_id, source=staged.source, assertions=staged.assertions,
                                municipalities=staged.municipalities, rejected=staged.rejected,
                                rows_extracted=staged.rows_extracted, max_shrink=max_shrink, check=validate)
        logger.info("%s loaded: %s", staged.source, counts)
        return wh.counts_dict(counts)
    finally:
        engine.dispose()


@task(name="publish-report", cache_policy=NO_CACHE)
def publish(outcomes: list[SourceOutcome], quality: dict[str, list]) -> None:
    rows = [{"source": o.source, "status": o.status, **{k: o.counts.get(k, 0) for k in SUMMARY_COLUMNS},
             "message": o.message[:300]} for o in outcomes]
    create_table_artifact(key="citylinks-run-summary", table=rows, description="Rows per source in this run")
    lines = ["# Data quality", ""]
    for source, reports in quality.items():
        for report in reports:
            lines += [f"## {source} — suite `{report.suite}`: {'passed' if report.success else 'failures'}",
                      f"{report.rows} rows, {report.failing_rows} failing rows", "",
                      "| expectation | success | unexpected | % |", "|---|---|---|---|"]
            lines += [f"| {r['expectation']} | {'✅' if r['success'] else '❌'} | {r['unexpected_count']} | "
                      f"{r['unexpected_percent']} |" for r in report.results]
            lines.append("")
    create_markdown_artifact(key="citylinks-quality-report", markdown="\n".join(lines),
                             description="Great Expectations results per source")


SUMMARY_COLUMNS = ["rows_extracted", "rows_new", "rows_changed", "rows_ended", "rows_unchanged",
                   "rows_quarantined", "partnerships_new", "partnerships_ended"]


@flow(name="citylinks-nightly", task_runner=ThreadPoolTaskRunner(max_workers=3), log_prints=True)
def nightly(
    sources: list[str] | None = None,
    mode: str = "replay",
    recordings_dir: str | None = DEFAULT_REPLAY_DIR,
    warehouse_url: str = DEFAULT_WAREHOUSE_URL,
    max_reject_share: float = 0.2,
    max_shrink: float = 0.5,
    source_options: dict[str, dict] | None = None,
):
    """Fetch, check and load every source; one failing source does not stop the others."""
    logger = get_run_logger()
    names = list(sources or registry.SOURCES)
    for name in names:
        registry.get(name)  # unknown names fail the run before anything is fetched
    run_id = flow_run.id or str(uuid.uuid4())
    options = {**_recorded_options(mode, recordings_dir), **(source_options or {})}
    engine = wh.make_engine(warehouse_url)
    wh.create_schema(engine)
    started = datetime.now(timezone.utc)
    for name in names:
        wh.start_run(engine, run_id, name, started)

    extracted, staged_futures = {}, {}
    for name in names:
        retries = {"retries": 0} if mode == "replay" else {}  # a recording answers the same every time
        extracted[name] = extract.with_options(name=f"extract-{name}", **retries).submit(
            name, mode, recordings_dir, options.get(name, {}))
        staged_futures[name] = stage.with_options(name=f"stage-{name}").submit(extracted[name])

    outcomes, quality = [], {}
    for name in names:  # loads one after another: each reconciles partnerships across sources
        try:
            extracted[name].result()  # raises the source's own error, not "upstream failed"
            staged = staged_futures[name].result()
            quality[name] = staged.quality
            counts = load.with_options(name=f"load-{name}")(warehouse_url, run_id, staged, max_reject_share, max_shrink)
            outcomes.append(SourceOutcome(name, "loaded", counts=counts))
        except Exception as exc:  # noqa: BLE001 - isolate sources; the message goes to audit and summary
            message = f"{type(exc).__name__}: {exc}"
            logger.error("source %s failed: %s", name, message)
            wh.fail_run(engine, run_id, name, message)
            outcomes.append(SourceOutcome(name, "failed", message))
    engine.dispose()
    publish(outcomes, quality)
    failed = [o.source for o in outcomes if o.status == "failed"]
    if failed:
        raise SourcesFailed(f"sources failed: {', '.join(failed)} (see load_run and the run summary artifact)")
    return outcomes


def _recorded_options(mode: str, recordings_dir: str | None) -> dict:
    """Options a recording was made with (e.g. which Wikipedia articles), so a replay asks the same."""
    import json

    if mode != "replay" or not recordings_dir:
        return {}
    path = Path(recordings_dir) / "options.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
