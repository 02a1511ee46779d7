"""Load layer on SQLite and PostgreSQL: SCD2, provenance, idempotence, atomicity, bulk."""
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import func, select

from schemas import warehouse as W
from schemas.warehouse import ASSERTION_TRACKED, row_hash
from warehouse import load as wh

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def utc(value) -> pd.Timestamp:
    """SQLite gives naive UTC, PostgreSQL aware values in the session's zone: compare as UTC."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def key(name):
    """Staged sides name places by evidence key; these tests' places are unresolved names."""
    return f"nm:XX:{name}"


def assertions(source, pairs, prefix="", **overrides):
    rows = []
    for i, (a, b) in enumerate(pairs):
        low, high = sorted((key(a), key(b)))
        rows.append({"source": source, "record_key": f"{prefix}{a}>{b}", "partnership_key": f"{low}|{high}",
                     "municipality_a_id": key(a), "municipality_b_id": key(b), "raw_name_a": a, "raw_name_b": b,
                     "raw_country_a": None, "raw_country_b": None, "relation_type": "unspecified",
                     "start_raw": None, "start_year": None, "end_year": None, "reference_url": None,
                     "source_url": f"https://example.org/{source}", **overrides})
    frame = pd.DataFrame(rows).astype({"start_year": "Int64", "end_year": "Int64"})
    frame["row_hash"] = row_hash(frame, ASSERTION_TRACKED)
    return frame


def municipalities(ids):
    return pd.DataFrame({"municipality_id": ids, "geonames_id": pd.array([None] * len(ids), dtype="Int64"),
                         "wikidata_qid": None, "ags": None, "name": [i.split(":")[-1] for i in ids],
                         "kind": "municipality", "country_code": "DE", "admin1_code": None,
                         "latitude": None, "longitude": None, "population": pd.array([None] * len(ids), dtype="Int64"),
                         "match_method": "none", "match_score": 0.0, "match_status": "unresolved"})


def load_only(engine, source, frame, run_id, now, rejected=None, **kw):
    """One source's provenance load, without the end-of-run consolidation."""
    wh.start_run(engine, run_id, source, now)
    ids = sorted(set(frame["municipality_a_id"]) | set(frame["municipality_b_id"])) if len(frame) else []
    return wh.load_source(engine, run_id=run_id, source=source, assertions=frame, municipalities=municipalities(ids),
                          rejected=rejected if rejected is not None else pd.DataFrame(), rows_extracted=len(frame),
                          now=now, **kw)


def load(engine, source, frame, run_id, now, rejected=None, check=None, **kw):
    """A run of one source: its load, then the consolidation; counts of both."""
    counts = load_only(engine, source, frame, run_id, now, rejected, **kw)
    versions = wh.consolidate_partnerships(engine, run_id=run_id, now=now, check=check)
    counts.partnerships_new, counts.partnerships_changed, counts.partnerships_ended = (
        versions.partnerships_new, versions.partnerships_changed, versions.partnerships_ended)
    return counts


def run(engine, run_id, now, loads, check=None):
    """Several sources in one run, the way the flow does it: one boundary time, one consolidation."""
    for source, frame, kw in loads:
        load_only(engine, source, frame, run_id, now, **kw)
    return wh.consolidate_partnerships(engine, run_id=run_id, now=now, check=check)


def table(engine, t):
    """A table's rows; pair keys shown as the places' names ("a|b") instead of surrogate ids."""
    with engine.connect() as conn:
        frame = wh.read_frame(conn, select(t))
        names = dict(conn.execute(select(W.municipality.c.municipality_id, W.municipality.c.name)).all())
    if "partnership_key" in frame and len(frame):
        frame["partnership_key"] = frame["partnership_key"].map(
            lambda k: "|".join(sorted(names.get(part, part) for part in k.split("|"))))
    return frame


def snapshot(engine):
    return {name: table(engine, t).sort_values(list(table(engine, t).columns[:2])).reset_index(drop=True)
            for name, t in (("m", W.municipality), ("p", W.partnership), ("ps", W.partnership_source), ("q", W.quarantine))}


def test_pairs_from_two_sources_merge_into_one_partnership(engine):
    counts = run(engine, "r1", T0, [("s1", assertions("s1", [("a", "b"), ("a", "c")]), {}),
                                    ("s2", assertions("s2", [("b", "a")]), {})])
    assert counts.partnerships_new == 2
    p = table(engine, W.partnership)
    assert sorted(p["partnership_key"]) == ["a|b", "a|c"]
    ps = table(engine, W.partnership_source)
    assert sorted(ps.loc[ps["partnership_key"] == "a|b", "source"]) == ["s1", "s2"]


def test_rerun_on_unchanged_input_writes_nothing(engine):
    frame = assertions("s1", [("a", "b"), ("a", "c")])
    load(engine, "s1", frame, "r1", T0)
    before = snapshot(engine)
    counts = load(engine, "s1", frame, "r2", T0 + timedelta(days=1))
    assert (counts.rows_new, counts.rows_changed, counts.rows_ended, counts.rows_unchanged) == (0, 0, 0, 2)
    after = snapshot(engine)
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name])
    runs = table(engine, W.load_run).query("source == 's1'").set_index("run_id")
    assert runs.loc["r2", "status"] == "loaded" and runs.loc["r2", "rows_new"] == 0


def test_disappearing_pair_is_ended_and_reappearance_opens_a_new_version(engine):
    load(engine, "s1", assertions("s1", [("a", "b"), ("a", "c"), ("a", "d")]), "r1", T0)
    t1, t2 = T0 + timedelta(days=1), T0 + timedelta(days=2)
    counts = load(engine, "s1", assertions("s1", [("a", "b"), ("a", "c")]), "r2", t1)
    assert counts.rows_ended == 1 and counts.partnerships_ended == 1
    versions = table(engine, W.partnership)
    ended = versions[versions["partnership_key"] == "a|d"].iloc[0]
    assert not ended["is_current"] and utc(ended["valid_to"]) == utc(t1)
    counts = load(engine, "s1", assertions("s1", [("a", "b"), ("a", "c"), ("a", "d")]), "r3", t2)
    assert counts.rows_new == 1 and counts.partnerships_new == 1
    versions = table(engine, W.partnership)
    ad = versions[versions["partnership_key"] == "a|d"]
    assert len(ad) == 2 and ad["is_current"].sum() == 1


def test_changed_attribute_closes_the_version_and_opens_another(engine):
    load(engine, "s1", assertions("s1", [("a", "b")]), "r1", T0)
    later = assertions("s1", [("a", "b")], start_raw="1990", start_year=1990)
    counts = load(engine, "s1", later, "r2", T0 + timedelta(days=1))
    assert counts.rows_changed == 1 and counts.partnerships_changed == 1
    versions = table(engine, W.partnership).sort_values("valid_from")
    assert versions["start_year"].tolist()[0] is None or pd.isna(versions["start_year"].tolist()[0])
    assert versions["start_year"].tolist()[1] == 1990 and versions["is_current"].tolist() == [False, True]


def test_pair_stays_current_while_another_source_asserts_it(engine):
    run(engine, "r1", T0, [("s1", assertions("s1", [("a", "b"), ("c", "d")]), {}),
                           ("s2", assertions("s2", [("a", "b")]), {})])
    load(engine, "s1", assertions("s1", [("c", "d")]), "r2", T0 + timedelta(days=1), max_shrink=0.9)
    current = table(engine, W.partnership).query("is_current")
    assert sorted(current["partnership_key"]) == ["a|b", "c|d"]


def test_failed_load_leaves_the_warehouse_exactly_as_it_was(engine, monkeypatch):
    load(engine, "s1", assertions("s1", [("a", "b")]), "r1", T0)
    before = snapshot(engine)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(wh, "_load_quarantine", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        load_only(engine, "s1", assertions("s1", [("a", "b"), ("x", "y")]), "r2", T0 + timedelta(days=1))
    after = snapshot(engine)
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name])


def test_shrinking_source_is_refused_and_nothing_written(engine):
    load(engine, "s1", assertions("s1", [("a", "b"), ("a", "c"), ("a", "d"), ("a", "e")]), "r1", T0)
    before = snapshot(engine)
    with pytest.raises(wh.LoadRefused, match="loading would end 3 of the 4 current rows"):
        load_only(engine, "s1", assertions("s1", [("a", "b")]), "r2", T0 + timedelta(days=1))
    for name, frame in snapshot(engine).items():
        pd.testing.assert_frame_equal(before[name], frame)


def test_quarantine_keeps_raw_record_and_is_not_duplicated_on_rerun(engine):
    def rejected(fetched):  # a live rerun fetches the same bad record at another time
        return pd.DataFrame({"source": ["s1"], "record_key": ["k9"], "a_name": ["Köln"], "b_name": [None],
                             "extracted_at": [fetched],
                             "reject_reason": ["failed ExpectColumnValuesToNotBeNull(municipality_b_id)"]})

    load(engine, "s1", assertions("s1", [("a", "b")]), "r1", T0, rejected=rejected(T0))
    load(engine, "s1", assertions("s1", [("a", "b")]), "r2", T0 + timedelta(days=1),
         rejected=rejected(T0 + timedelta(days=1)))
    q = table(engine, W.quarantine)
    assert len(q) == 1 and q.loc[0, "raw_record"]["a_name"] == "Köln" and q.loc[0, "first_run_id"] == "r1"
    other_reason = rejected(T0).assign(reject_reason="duplicate record_key with different content")
    load(engine, "s1", assertions("s1", [("a", "b")]), "r3", T0 + timedelta(days=2), rejected=other_reason)
    assert len(table(engine, W.quarantine)) == 2


def test_rerun_on_a_later_day_rewrites_no_provenance_row(engine):
    load(engine, "s1", assertions("s1", [("a", "b")]), "r1", T0)
    before = snapshot(engine)
    counts = load(engine, "s1", assertions("s1", [("a", "b")]), "r2", T0 + timedelta(days=1))
    assert (counts.rows_new, counts.rows_changed, counts.rows_unchanged) == (0, 0, 1)
    for name, frame in snapshot(engine).items():  # the run's confirmation is its load_run row
        pd.testing.assert_frame_equal(before[name], frame)
    runs = table(engine, W.load_run).query("source == 's1'").set_index("run_id")
    assert runs.loc["r2", "status"] == "loaded" and utc(runs.loc["r2", "started_at"]) == utc(T0 + timedelta(days=1))


def test_failed_run_is_audited(engine):
    wh.start_run(engine, "r1", "s1", T0)
    wh.fail_run(engine, "r1", "s1", "HTTP 500 from https://example.org after 5 attempts")
    run = table(engine, W.load_run).iloc[0]
    assert run["status"] == "failed" and "HTTP 500" in run["message"]


def test_bulk_load_of_many_rows(engine):
    pairs = [(f"m{i}", f"m{i + 1}") for i in range(3000)]
    counts = load(engine, "s1", assertions("s1", pairs), "r1", T0)
    assert counts.rows_new == 3000 and counts.partnerships_new == 3000
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(W.municipality)).scalar() == 3001


def test_consolidated_partnerships_pass_their_suite_or_nothing_is_written(engine):
    from transforms.quality import validate

    load(engine, "s1", assertions("s1", [("a", "b")]), "r1", T0, check=validate)
    assert len(table(engine, W.partnership)) == 1
    bad = pd.concat([assertions("s1", [("a", "b")]), assertions("s1", [("c", "d")], start_year=2999)],
                    ignore_index=True)  # a year that slipped past staging's gate
    load_only(engine, "s1", bad, "r2", T0 + timedelta(days=1))
    before = snapshot(engine)
    with pytest.raises(wh.QualityGateFailed, match="ExpectColumnValuesToBeBetween"):
        wh.consolidate_partnerships(engine, run_id="r2", now=T0 + timedelta(days=1), check=validate)
    for name, frame in snapshot(engine).items():
        pd.testing.assert_frame_equal(before[name], frame)


# --- history defects of per-source consolidation, pinned -----------------------------------------

def versions_of(engine, key):
    return table(engine, W.partnership).query("partnership_key == @key").sort_values("valid_from")


def test_all_sources_of_a_run_share_one_boundary_and_a_pair_moving_between_them_keeps_its_version(engine):
    run(engine, "r1", T0, [("s1", assertions("s1", [("a", "b"), ("c", "d")]), {})])
    t1 = T0 + timedelta(days=1)
    counts = run(engine, "r2", t1, [("s1", assertions("s1", [("c", "d")]), {"max_shrink": 0.9}),
                                    ("s2", assertions("s2", [("a", "b")]), {})])
    assert (counts.partnerships_new, counts.partnerships_changed, counts.partnerships_ended) == (0, 0, 0)
    ab = versions_of(engine, "a|b")
    assert len(ab) == 1 and bool(ab.iloc[0]["is_current"]) and utc(ab.iloc[0]["valid_from"]) == utc(T0)
    provenance = table(engine, W.partnership_source).set_index(["source", "record_key"])
    assert utc(provenance.loc[("s1", "a>b"), "ended_at"]) == utc(t1)  # the run's time, not the load's
    assert utc(provenance.loc[("s2", "a>b"), "first_seen"]) == utc(t1)


def test_a_change_reverted_by_a_later_source_of_the_same_run_makes_no_version(engine):
    run(engine, "r1", T0, [("s1", assertions("s1", [("a", "b")], relation_type="partnership"), {}),
                           ("s2", assertions("s2", [("a", "c")]), {})])
    # s1 stops stating the partnership type, s2 states it: the consolidated pair is unchanged
    counts = run(engine, "r2", T0 + timedelta(days=1), [
        ("s1", assertions("s1", [("a", "b")]), {}),
        ("s2", pd.concat([assertions("s2", [("a", "c")]), assertions("s2", [("a", "b")], relation_type="partnership")],
                         ignore_index=True), {})])
    assert (counts.partnerships_new, counts.partnerships_changed, counts.partnerships_ended) == (0, 0, 0)
    assert counts.rows_extracted == 1  # only a|b was recomputed: a|c's assertions were not written
    ab = versions_of(engine, "a|b")
    assert len(ab) == 1 and ab.iloc[0]["relation_type"] == "partnership"
    assert ab["row_hash"].nunique() == len(ab)  # never two consecutive versions with one hash


def test_shrink_guard_counts_the_keys_a_load_would_end_not_rows(engine):
    pairs = [("a", "b"), ("a", "c"), ("a", "d"), ("a", "e")]
    load(engine, "s1", assertions("s1", pairs), "r1", T0)
    before = snapshot(engine)
    renamed = assertions("s1", pairs, prefix="v2:")  # same count, every record key new
    with pytest.raises(wh.LoadRefused, match="loading would end 4 of the 4 current rows"):
        load_only(engine, "s1", renamed, "r2", T0 + timedelta(days=1))
    for name, frame in snapshot(engine).items():
        pd.testing.assert_frame_equal(before[name], frame)
    load(engine, "s1", renamed, "r2", T0 + timedelta(days=1), max_shrink=1.0)  # allowed: pairs stay current
    assert versions_of(engine, "a|b")["is_current"].tolist() == [True]


def test_the_database_refuses_a_second_current_version_of_a_pair(engine):
    from sqlalchemy.exc import IntegrityError

    load(engine, "s1", assertions("s1", [("a", "b")]), "r1", T0)
    with engine.connect() as conn:
        row = wh.read_frame(conn, select(W.partnership)).iloc[0].to_dict()
    row["valid_from"] = T0 + timedelta(days=1)
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(W.partnership.insert().values(**{k: (None if pd.isna(v) else v) for k, v in row.items()}))
    row["is_current"], row["valid_to"] = False, T0 + timedelta(days=2)
    with engine.begin() as conn:  # closed versions are as many as history needs
        conn.execute(W.partnership.insert().values(**{k: (None if pd.isna(v) else v) for k, v in row.items()}))


def test_a_failed_source_keeps_its_assertions_and_pairs(engine):
    run(engine, "r1", T0, [("s1", assertions("s1", [("a", "b")]), {}), ("s2", assertions("s2", [("c", "d")]), {})])
    counts = run(engine, "r2", T0 + timedelta(days=1), [("s2", assertions("s2", [("c", "d")]), {})])  # s1 failed
    assert counts.partnerships_ended == 0
    assert sorted(table(engine, W.partnership).query("is_current")["partnership_key"]) == ["a|b", "c|d"]


def test_an_unchanged_rerun_consolidates_no_pair(engine):
    load(engine, "s1", assertions("s1", [("a", "b"), ("a", "c")]), "r1", T0)
    counts = wh.consolidate_partnerships(engine, run_id="r2", now=T0 + timedelta(days=1))
    assert counts.rows_extracted == 0  # no pair read: nothing this run wrote points at one


def test_two_sides_that_become_one_identity_go_to_quarantine_with_the_reason(engine):
    counts = load(engine, "s1", assertions("s1", [("a", "b"), ("c", "c")]), "r1", T0)
    assert counts.rows_new == 1 and counts.rows_quarantined == 1
    [reason] = table(engine, W.quarantine)["reason"]
    assert reason.startswith("identity: both sides are one municipality (m:")


def test_a_big_load_refreshes_postgresql_planner_statistics_at_once(engine):
    """Without them the next run's keyed reads became nested loops (200 s instead of 8 at 100k rows)."""
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    pairs = [(f"m{i}", f"m{i + 1}") for i in range(wh.ANALYZE_FROM_ROWS)]
    load(engine, "s1", assertions("s1", pairs), "r1", T0)
    with engine.connect() as conn:
        analyzed = dict(conn.execute(text(
            "SELECT relname, last_analyze FROM pg_stat_user_tables WHERE schemaname = current_schema()")).all())
    assert all(analyzed[t] is not None for t in ("partnership_source", "municipality", "municipality_identifier",
                                                  "partnership"))
