"""An identical snapshot is confirmed by its load_run row without reading or rewriting the
source's provenance; anything else takes the full comparison."""
from datetime import timedelta

import pandas as pd
from sqlalchemy import select

from schemas import warehouse as W
from tests.test_identity_load import KOLN, KOTZTING, LYON, T0, read, staged
from warehouse import load as wh
from warehouse.snapshots import content_hash

ROWS = [("k1", KOLN, KOTZTING), ("k2", KOLN, LYON)]


def load(engine, run_id, now, rows, extracted_at=None):
    frame, munis = staged(rows)
    if extracted_at is not None:
        frame["extracted_at"] = extracted_at
    wh.start_run(engine, run_id, "s1", now)
    return wh.load_source(engine, run_id=run_id, source="s1", assertions=frame, municipalities=munis,
                          rejected=pd.DataFrame(), rows_extracted=len(frame), now=now)


def audit(engine, run_id):
    with engine.connect() as conn:
        return conn.execute(select(W.load_run).where(W.load_run.c.run_id == run_id)).mappings().one()


def test_the_hash_ignores_row_and_column_order_and_extraction_time_but_not_content():
    frame, _ = staged(ROWS)
    digest = content_hash(frame)
    assert content_hash(frame.iloc[::-1]) == digest
    assert content_hash(frame[list(reversed(frame.columns))]) == digest
    assert content_hash(frame.assign(extracted_at=T0)) == content_hash(frame.assign(extracted_at=T0 + timedelta(1)))
    assert content_hash(frame.assign(relation_type=["partnership", "friendship"])) != digest
    assert content_hash(frame.iloc[:1]) != digest


def test_the_same_content_next_day_is_confirmed_without_touching_provenance(engine):
    load(engine, "r1", T0, ROWS, extracted_at=T0)
    before = read(engine, W.partnership_source)
    counts = load(engine, "r2", T0 + timedelta(days=1), ROWS, extracted_at=T0 + timedelta(days=1))
    assert (counts.rows_new, counts.rows_changed, counts.rows_ended, counts.rows_unchanged) == (0, 0, 0, 2)
    second = audit(engine, "r2")
    assert second["status"] == "loaded" and "the same content as run r1" in second["message"]
    assert second["content_hash"] == audit(engine, "r1")["content_hash"]
    pd.testing.assert_frame_equal(read(engine, W.partnership_source), before)


def test_changed_content_or_a_failed_attempt_in_between_takes_the_full_comparison(engine):
    load(engine, "r1", T0, ROWS)
    counts = load(engine, "r2", T0 + timedelta(days=1), ROWS[:1] + [("k2", KOLN, LYON, 1975)])
    assert counts.rows_changed == 1 and audit(engine, "r2")["message"] is None
    wh.start_run(engine, "r3", "s1", T0 + timedelta(days=2))
    wh.fail_run(engine, "r3", "s1", "boom")
    counts = load(engine, "r4", T0 + timedelta(days=3), ROWS[:1] + [("k2", KOLN, LYON, 1975)])
    assert audit(engine, "r4")["message"] is None and counts.rows_unchanged == 2  # compared, found unchanged
