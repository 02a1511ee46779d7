"""Funding programmes through the generic load and SCD2 apply, on SQLite and PostgreSQL: a
domain without municipality identities."""
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import select

from extractors import skew_programmes
from schemas import warehouse as W
from schemas.domains import FUNDING
from schemas.records import FUNDING_PROGRAMME
from tests.test_load import T0
from transforms.funding import stage_funding
from transforms.quality import validate
from warehouse import load as wh


def run(engine, run_id, now, frame):
    staged = stage_funding(frame, today=date(2026, 11, 25))
    wh.start_run(engine, run_id, staged.source, now)
    counts = wh.load_source(engine, run_id=run_id, source=staged.source, assertions=staged.assertions,
                            municipalities=staged.municipalities, rejected=staged.rejected,
                            rows_extracted=staged.rows_extracted, spec=FUNDING, now=now)
    return counts, wh.consolidate_domain(engine, FUNDING, run_id=run_id, now=now, check=validate)


def versions(engine):
    with engine.connect() as conn:
        return wh.read_frame(conn, select(W.funding_programme)).sort_values(["programme_key", "valid_from"])


def test_a_changed_programme_makes_exactly_one_new_version_and_a_rerun_none(engine):
    frame = FUNDING_PROGRAMME.to_frame(skew_programmes.extract(None))
    loaded, first = run(engine, "r1", T0, frame)
    assert loaded.rows_new == len(frame) and first.rows_new == len(frame) and loaded.municipalities_new == 0
    before = versions(engine)
    _, again = run(engine, "r2", T0 + timedelta(days=1), frame)
    assert (again.rows_new, again.rows_changed, again.rows_ended) == (0, 0, 0)
    pd.testing.assert_frame_equal(before.reset_index(drop=True), versions(engine).reset_index(drop=True))

    changed = frame.copy()
    changed.loc[changed["record_key"] == "nakopa", "amount_max_eur"] = 300_000.0  # the next call's maximum
    counts, third = run(engine, "r3", T0 + timedelta(days=2), changed)
    assert (counts.rows_changed, third.rows_new, third.rows_changed, third.rows_ended) == (1, 0, 1, 0)
    nakopa = versions(engine).query("programme_key == 'skew_programmes:nakopa'")
    assert nakopa["amount_max_eur"].tolist() == [250_000.0, 300_000.0]
    assert nakopa["is_current"].astype(bool).tolist() == [False, True]


def test_a_programme_gone_from_the_source_is_ended_not_deleted(engine):
    frame = FUNDING_PROGRAMME.to_frame(skew_programmes.extract(None))
    run(engine, "r1", T0, frame)
    _, second = run(engine, "r2", T0 + timedelta(days=1), frame[frame["record_key"] != "kepol"])
    assert second.rows_ended == 1
    kepol = versions(engine).query("programme_key == 'skew_programmes:kepol'")
    assert len(kepol) == 1 and not bool(kepol["is_current"].iloc[0]) and kepol["valid_to"].notna().all()


def test_a_changed_recording_of_one_foerderdatenbank_page_makes_exactly_one_new_version(engine):
    from pathlib import Path

    from extractors import foerderdatenbank

    pages = sorted((Path(__file__).parent / "fixtures" / "foerderdatenbank").glob("detail*.html"))

    def frame(replace=None):
        records = []
        for page in pages:
            body = page.read_bytes()
            if replace and page.name == replace[0]:
                body = body.replace(*replace[1:])
            records.append(foerderdatenbank.parse_detail(body, url=f"https://www.foerderdatenbank.de/{page.name}"))
        return FUNDING_PROGRAMME.to_frame(records)

    run(engine, "r1", T0, frame())
    # the BNE page states a new Förderart: a changed recording of one programme
    changed = frame(("detail_rechts_only.html", "Zuschuss".encode(), "Darlehen".encode()))
    counts, versions_counts = run(engine, "r2", T0 + timedelta(days=1), changed)
    assert (counts.rows_changed, counts.rows_unchanged) == (1, 3)
    assert (versions_counts.rows_new, versions_counts.rows_changed, versions_counts.rows_ended) == (0, 1, 0)
    bne = versions(engine).query("programme_key == 'foerderdatenbank:/detail_rechts_only.html'")
    assert bne["funding_types"].tolist() == ["grant", "loan"]
