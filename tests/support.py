"""Shared fixtures: warehouse engines (SQLite, PostgreSQL) and the bundled recordings."""
from __future__ import annotations

import json
import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from extractors.http import RecordingStore, request_key
from warehouse import load as wh

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "recordings" / "bundled"
POSTGRES_URL = os.environ.get("CITYLINKS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_available() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"


@contextmanager
def postgres_schema():
    """A private schema on the test server, dropped afterwards; skips with the reason where the
    server is absent (fails instead under CITYLINKS_REQUIRE_POSTGRES=1, as in CI)."""
    problem = _postgres_available()
    if problem:
        if os.environ.get("CITYLINKS_REQUIRE_POSTGRES") == "1":
            pytest.fail(problem + " (CITYLINKS_REQUIRE_POSTGRES=1)")
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def postgres_url(schema: str) -> str:
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    """A fresh warehouse on each backend; PostgreSQL skips with a reason where absent (CI requires it)."""
    if request.param == "sqlite":
        engine = wh.make_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
        wh.create_schema(engine)
        yield engine
        engine.dispose()
        return
    with postgres_schema() as schema:
        engine = create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
        wh.create_schema(engine)
        yield engine
        engine.dispose()


@pytest.fixture(scope="session")
def bundled_body():
    """Body of a bundled recording, looked up by the request the extractor makes."""
    store = RecordingStore(BUNDLED)

    def body(method: str, url: str, *, params=None, data=None) -> bytes:
        key, canonical, _ = request_key(method, url, params, data)
        entry = store.lookup(key)
        assert entry is not None, f"no bundled recording for {method} {canonical}"
        return store.read_body(entry)

    return body


def bundled_path(method: str, url: str, *, params=None, data=None) -> Path:
    """File of a bundled recording (the real source file), looked up by the extractor's request."""
    store = RecordingStore(BUNDLED)
    key, canonical, _ = request_key(method, url, params, data)
    entry = store.lookup(key)
    if entry is None:
        raise LookupError(f"no bundled recording for {method} {canonical}")
    return BUNDLED / entry["file"]


@pytest.fixture(params=BACKENDS)
def warehouse_url(request, tmp_path):
    """A URL of a fresh, empty warehouse on each backend, for code that opens its own engines
    (flows, CLI processes). PostgreSQL: a private schema, selected through the URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.db'}"
        return
    with postgres_schema() as schema:
        yield postgres_url(schema)


#: Columns that differ between two runs that loaded the same data (run ids and load times).
RUN_COLUMNS = {"load_id", "first_load_id", "last_load_id", "valid_from", "valid_to", "ended_at", "first_run_id",
               "quarantined_at", "first_seen", "changed_at"}  # the times of the runs, not of the data


def warehouse_content(url: str) -> dict:
    """Every public table except the audit, as sorted strings, without run ids and load times:
    what two warehouses holding the same data have in common, whatever their backend."""
    from datetime import datetime

    import pandas as pd

    from schemas import warehouse as W

    engine = wh.make_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in (W.municipality, W.partnership, W.partnership_source, W.quarantine):
            frame = wh.read_frame(conn, table.select())
            frame = frame.drop(columns=[c for c in frame.columns if c in RUN_COLUMNS])
            for column in frame.columns:
                values = frame[column]
                if values.map(lambda v: isinstance(v, datetime)).any():
                    values = pd.to_datetime(values, utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
                elif values.map(lambda v: isinstance(v, (dict, list))).any():
                    values = values.map(lambda v: json.dumps(v, sort_keys=True))
                frame[column] = values.astype("string")
            out[table.name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    engine.dispose()
    return out


def load_runs(url: str, consolidation: bool = False):
    """The audit rows of the sources (and, if asked, of the end-of-run consolidation)."""
    from schemas import warehouse as W

    engine = wh.make_engine(url)
    statement = W.load_run.select().order_by(W.load_run.c.started_at, W.load_run.c.source)
    if not consolidation:
        statement = statement.where(~W.load_run.c.source.like("%:%"))
    with engine.connect() as conn:
        frame = wh.read_frame(conn, statement)
    engine.dispose()
    return frame


def xlsx_bytes(header, rows, title: str | None = None) -> bytes:
    """A one-sheet workbook as a source would serve it, for parser edge cases."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    if title:
        sheet.title = title
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@contextmanager
def headless_chromium():
    """A real Chromium driven by Playwright (the system's browser: Playwright's own download needs
    a network). Skips with the reason where either is missing; fails instead under
    CITYLINKS_REQUIRE_BROWSER=1, as in CI."""
    from report.screenshot import CHROMIUM_ARGS, chromium_path

    executable = chromium_path()
    problem = None if executable else "no Chromium found (apt-get install chromium, or set CITYLINKS_CHROMIUM)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = problem or "playwright is not installed (pip install -r requirements.lock)"
    if problem:
        if os.environ.get("CITYLINKS_REQUIRE_BROWSER") == "1":
            pytest.fail(problem + " (CITYLINKS_REQUIRE_BROWSER=1)")
        pytest.skip(problem)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def recorded_calls():
    """The two EU topics of the recorded SEDIA response, as the extractor yields them."""
    from extractors import eu_funding_tenders
    from schemas.records import FUNDING_CALL

    body = ROOT / "tests" / "fixtures" / "eu_funding_tenders" / "sedia_search_trimmed_2026-06-11.json"
    return FUNDING_CALL.to_frame(eu_funding_tenders.parse(body.read_bytes(), url=eu_funding_tenders.ENDPOINT))


def load_calls(engine, frame, run_id: str = "r1") -> None:
    """Stage, load and consolidate calls as one run does (with the source table filled)."""
    from datetime import datetime, timezone

    from extractors import registry
    from schemas.domains import FUNDING_CALLS
    from transforms.funding import stage_calls
    from warehouse.organisations import refresh_sources

    staged = stage_calls(frame)
    now = datetime.now(timezone.utc)
    refresh_sources(engine, registry.declarations(), now=now)
    wh.start_run(engine, run_id, staged.source, now)
    wh.load_source(engine, run_id=run_id, source=staged.source, assertions=staged.assertions, spec=FUNDING_CALLS,
                   municipalities=staged.municipalities, rejected=staged.rejected, rows_extracted=len(frame), now=now)
    wh.consolidate_domain(engine, FUNDING_CALLS, run_id=run_id, now=now)
