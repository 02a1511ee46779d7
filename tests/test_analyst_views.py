"""The analyst views of migration 0013 on both backends: `open_funding_calls` decides by the
call's last deadline on today's date, `provenance` credits every assertion with its licence."""
from datetime import date, datetime, timedelta, timezone

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
    assert "The warehouse's first run" in html
    later = recorded_calls()
    later.loc[0, "title"] = "A retitled topic"
    load_calls(engine, later, run_id="run-8")
    html = build_report(engine, "run-8")
    assert "Compared with the run of" in html and "(run-7)" in html
    assert "<td>funding_call</td><td>changed</td>" in html  # the retitled topic, one new version


def test_the_deadline_day_is_the_utc_date_on_both_backends_whatever_the_sessions_zone(engine):
    """A call closing today (UTC) is still open, one that closed yesterday is not — also for a
    PostgreSQL session in a zone whose date is another (the day must not depend on the client)."""
    today = datetime.now(timezone.utc).date()
    frame = recorded_calls()
    frame.loc[0, ["closes", "deadlines"]] = [today.isoformat()] * 2
    frame.loc[1, ["closes", "deadlines"]] = [(today - timedelta(days=1)).isoformat()] * 2
    frame.loc[1, "opens"] = (today - timedelta(days=30)).isoformat()
    load_calls(engine, frame)
    zones = ["America/Los_Angeles", "Pacific/Kiritimati"] if engine.dialect.name == "postgresql" else [None]
    for zone in zones:
        with engine.connect() as conn:
            if zone:
                conn.execute(text(f"SET TIME ZONE '{zone}'"))
            open_calls = conn.execute(text("SELECT call_key, call_identifier FROM open_funding_calls")).all()
            soon = conn.execute(text("SELECT call_key FROM calls_closing_soon")).scalars().all()
        assert [row[1] for row in open_calls] == [frame.loc[0, "call_identifier"]], zone
        assert soon == [open_calls[0][0]], zone


def test_reports_are_pruned_to_the_newest_of_their_own_never_a_foreign_file(engine, tmp_path):
    from flows.run_report import write_report

    load_calls(engine, recorded_calls(), run_id="run-7")
    folder = tmp_path / "reports"
    folder.mkdir()
    foreign = [folder / "report-2025-q3.html", folder / "report-budget.html", folder / "notes.html"]
    older = [folder / f"report-2026010{i}T000000Z-run-{i}.html" for i in range(1, 4)]
    for file in [*foreign, *older]:
        file.write_text("kept?", encoding="utf-8")
    written = write_report(engine, "run-7", folder, keep=2,
                           now=datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc))
    assert written.name == "report-20261125T060000Z-run-7.html" and written.exists()
    assert all(file.exists() for file in foreign)
    assert [file.exists() for file in older] == [False, False, True]  # the newest older one and this one: 2
    assert (folder / "latest.html").read_bytes() == written.read_bytes()
    write_report(engine, "run-7", folder, keep=1, now=datetime(2026, 11, 26, tzinfo=timezone.utc))
    assert not written.exists() and all(file.exists() for file in foreign)
    assert sorted(p.name for p in folder.glob("report-2026*")) == ["report-20261126T000000Z-run-7.html"]
