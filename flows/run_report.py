"""Write a run's HTML report: read the warehouse, compute the figures, render, and keep the
newest reports on disk. Used by the nightly flow (after loading) and `citylinks report`."""
from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine

from report.html import ReportContent, render
from transforms.report import map_points, partner_countries, quarantine_by_reason
from warehouse.report_data import read_report_frames

LATEST = "latest.html"
#: The names write_report gives: only these are ever pruned, never a file someone else put there.
REPORT_NAME = re.compile(r"report-\d{8}T\d{6}Z-[0-9A-Za-z-]{1,8}\.html")


def build_report(engine: Engine, run_id: str, *, now: datetime | None = None) -> str:
    frames = read_report_frames(engine, run_id)
    started = frames.run["started_at"].min() if len(frames.run) else None
    return render(ReportContent(
        run_id=run_id, run_started=_stamp(started), previous_run=_previous(frames.previous), written_at=_stamp(now or datetime.now(timezone.utc)),
        totals=frames.totals, points=map_points(frames.municipalities, frames.sides, frames.memberships),
        coverage_by_land=frames.coverage_by_land, coverage_by_size=frames.coverage_by_size,
        partner_countries=partner_countries(frames.sides), changes=frames.changes, run=frames.run,
        quarantine=quarantine_by_reason(frames.quarantine, run_id), sources=frames.sources))


def write_report(engine: Engine, run_id: str, directory: Path, *, keep: int, now: datetime | None = None) -> Path:
    """The report as `report-<time>-<run>.html` and `latest.html`, each written whole (a reader
    never sees half a file); the oldest of its own reports beyond `keep` are removed."""
    now = now or datetime.now(timezone.utc)
    html = build_report(engine, run_id, now=now)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"report-{now:%Y%m%dT%H%M%SZ}-{run_id[:8]}.html"
    for target in (path, directory / LATEST):
        _write_whole(target, html)
    ours = sorted(p for p in directory.glob("report-*.html") if REPORT_NAME.fullmatch(p.name) and p != path)
    for old in ours[:max(0, len(ours) - (keep - 1))]:  # the one just written counts as one of `keep`
        old.unlink(missing_ok=True)
    return path


def _write_whole(target: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".report-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _previous(previous) -> str:
    if previous.empty:
        return ""
    row = previous.iloc[0]
    return f"the run of {_stamp(row['started_at'])} ({str(row['run_id'])[:8]})"


def _stamp(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
