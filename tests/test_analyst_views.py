"""The analyst views of migration 0013 on both backends: `open_funding_calls` decides by the
call's last deadline on today's date, `provenance` credits every assertion with its licence."""
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import text

from extractors import eu_funding_tenders, registry
from schemas.domains import FUNDING_CALLS
from schemas.records import FUNDING_CALL
from transforms.funding import stage_calls
from warehouse import load as wh
from warehouse.organisations import refresh_sources

BODY = Path(__file__).parent / "fixtures" / "eu_funding_tenders" / "sedia_search_trimmed_2026-06-11.json"


def load_calls(engine, frame):
    staged = stage_calls(frame)
    now = datetime.now(timezone.utc)
    refresh_sources(engine, registry.declarations(), now=now)
    wh.start_run(engine, "r1", staged.source, now)
    wh.load_source(engine, run_id="r1", source=staged.source, assertions=staged.assertions, spec=FUNDING_CALLS,
                   municipalities=staged.municipalities, rejected=staged.rejected, rows_extracted=len(frame), now=now)
    wh.consolidate_domain(engine, FUNDING_CALLS, run_id="r1", now=now)


def test_open_calls_are_those_not_past_their_last_deadline_and_provenance_names_the_licence(engine):
    frame = FUNDING_CALL.to_frame(eu_funding_tenders.parse(BODY.read_bytes(), url=eu_funding_tenders.ENDPOINT))
    assert len(frame) == 2
    in_a_year = (date.today() + timedelta(days=365)).isoformat()
    frame.loc[0, ["closes", "deadlines"]] = [in_a_year] * 2  # still open, far beyond calls_closing_soon's 60 days
    load_calls(engine, frame)
    with engine.connect() as conn:
        open_calls = conn.execute(text("SELECT call_identifier, closes, status FROM open_funding_calls")).fetchall()
        soon = conn.execute(text("SELECT COUNT(*) FROM calls_closing_soon")).scalar_one()
        credited = conn.execute(text("SELECT domain, source, licence_id, attribution FROM provenance")).fetchall()
    assert [(row[0], row[1]) for row in open_calls] == [(frame.loc[0, "call_identifier"], in_a_year)]
    assert open_calls[0][2] in ("open", "forthcoming") and soon == 0
    assert len(credited) == 2
    assert {tuple(row[:3]) for row in credited} == {("funding_call", "eu_funding_tenders",
                                                     "LicenseRef-EU-Reuse-2011-833")}
    assert all(row[3] for row in credited)
