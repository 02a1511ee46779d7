"""The analyst views of migration 0013 on both backends: `open_funding_calls` decides by the
call's last deadline on today's date, `provenance` credits every assertion with its licence."""
from datetime import date, timedelta

from sqlalchemy import text

from tests.support import load_calls, recorded_calls


def test_open_calls_are_those_not_past_their_last_deadline_and_provenance_names_the_licence(engine):
    frame = recorded_calls()
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


def test_the_run_report_renders_from_either_backend(engine):
    from flows.run_report import build_report

    load_calls(engine, recorded_calls(), run_id="run-7")
    html = build_report(engine, "run-7")
    assert 'content="run-7"' in html and "eu_funding_tenders" in html
    assert "LicenseRef-EU-Reuse-2011-833" in html  # the sources table, from the source table
