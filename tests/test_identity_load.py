"""Stable identities in the warehouse, on SQLite and PostgreSQL: a better resolution merges a
placeholder without touching partnership history; an old warehouse migrates without change."""
from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy import select, text

from schemas import warehouse as W
from schemas.warehouse import ASSERTION_TRACKED, row_hash
from tests.test_load import utc
from tests.test_migrations import _upgrade, blank_engine  # noqa: F401 (fixture)
from warehouse import load as wh

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def staged(rows):
    """Staged assertions + identities; rows: (record_key, (key, name, gn, qid), (key, name, gn, qid))."""
    out, identities = [], {}
    for record_key, a, b, *extra in rows:
        out.append({"source": "s1", "record_key": record_key, "municipality_a_id": a[0], "municipality_b_id": b[0],
                    "partnership_key": "|".join(sorted((a[0], b[0]))), "raw_name_a": a[1], "raw_name_b": b[1],
                    "raw_country_a": None, "raw_country_b": None, "relation_type": "partnership", "start_raw": None,
                    "start_year": extra[0] if extra else None, "end_year": None, "reference_url": None,
                    "source_url": "https://example.org/s1"})
        for key, name, gn, qid in (a, b):
            identities[key] = {"municipality_id": key, "geonames_id": gn, "wikidata_qid": qid, "ags": None,
                               "name": name, "kind": "municipality", "country_code": "DE", "admin1_code": None,
                               "latitude": None, "longitude": None, "population": None,
                               "match_method": "exact" if gn else "none", "match_score": 1.0 if gn else 0.0,
                               "match_status": "resolved" if gn else "unresolved"}
    frame = pd.DataFrame(out).astype({"start_year": "Int64", "end_year": "Int64"})
    frame["row_hash"] = row_hash(frame, ASSERTION_TRACKED)
    munis = pd.DataFrame(list(identities.values())).astype({"geonames_id": "Int64", "population": "Int64"})
    return frame, munis


def run(engine, run_id, now, rows):
    frame, munis = staged(rows)
    wh.start_run(engine, run_id, "s1", now)
    counts = wh.load_source(engine, run_id=run_id, source="s1", assertions=frame, municipalities=munis,
                            rejected=pd.DataFrame(), rows_extracted=len(frame), now=now)
    versions = wh.consolidate_partnerships(engine, run_id=run_id, now=now)
    return counts, versions


def read(engine, table):
    with engine.connect() as conn:
        return wh.read_frame(conn, select(table))


KOLN = ("gn:2886242", "Köln", 2886242, "Q365")
KOTZTING_UNRESOLVED = ("nm:DE:kotzting", "Kötzting", None, None)
KOTZTING = ("gn:2885679", "Kötzting", 2885679, None)


def test_a_side_that_now_resolves_keeps_its_partnership_open_with_its_history(engine):
    run(engine, "r1", T0, [("k1", KOLN, KOTZTING_UNRESOLVED)])
    [before] = read(engine, W.partnership).to_dict("records")
    counts, versions = run(engine, "r2", T0 + timedelta(days=1), [("k1", KOLN, KOTZTING)])
    assert counts.municipalities_merged == 1
    assert (versions.partnerships_new, versions.partnerships_changed, versions.partnerships_ended) == (0, 0, 0)
    [after] = read(engine, W.partnership).to_dict("records")
    assert utc(after["valid_from"]) == utc(before["valid_from"]) and after["is_current"]
    assert after["partnership_key"] != before["partnership_key"]  # the placeholder's id is redirected
    redirect = read(engine, W.municipality_redirect).iloc[0]
    placeholder = before["partnership_key"].split("|")
    assert redirect["from_id"] in placeholder and redirect["to_id"] in after["partnership_key"].split("|")
    municipality = read(engine, W.municipality).set_index("municipality_id")
    assert municipality.loc[redirect["from_id"], "merged_into"] == redirect["to_id"]
    identifiers = read(engine, W.municipality_identifier).set_index(["scheme", "value"])
    assert identifiers.loc[("name", "DE:kotzting"), "municipality_id"] == redirect["to_id"]
    assert identifiers.loc[("geonames", "2885679"), "municipality_id"] == redirect["to_id"]
    counts, versions = run(engine, "r3", T0 + timedelta(days=2), [("k1", KOLN, KOTZTING)])
    assert (counts.rows_new, counts.rows_changed, versions.rows_extracted) == (0, 0, 0)  # settled


def test_a_changed_fact_still_makes_a_new_version_after_a_merge(engine):
    run(engine, "r1", T0, [("k1", KOLN, KOTZTING_UNRESOLVED)])
    _, versions = run(engine, "r2", T0 + timedelta(days=1), [("k1", KOLN, KOTZTING, 1991)])
    assert versions.partnerships_changed == 1
    rows = read(engine, W.partnership).sort_values("valid_from")
    assert rows["start_year"].tolist()[-1] == 1991 and rows["is_current"].tolist() == [False, True]


def test_two_current_versions_that_become_one_pair_keep_the_older(engine):
    frame1, munis1 = staged([("k1", KOLN, KOTZTING_UNRESOLVED)])
    frame2, munis2 = staged([("k2", KOLN, KOTZTING)])
    frame2["source"] = "s2"
    for source, frame, munis, now in (("s1", frame1, munis1, T0), ("s2", frame2, munis2, T0 + timedelta(days=1))):
        wh.start_run(engine, f"r-{source}", source, now)
        wh.load_source(engine, run_id=f"r-{source}", source=source, assertions=frame, municipalities=munis,
                       rejected=pd.DataFrame(), rows_extracted=1, now=now)
        wh.consolidate_partnerships(engine, run_id=f"r-{source}", now=now)
    assert read(engine, W.partnership)["is_current"].sum() == 2  # the placeholder pair and the resolved one
    later = T0 + timedelta(days=2)
    counts, versions = run(engine, "r3", later, [("k1", KOLN, KOTZTING)])  # s1's side now resolves
    rows = read(engine, W.partnership).sort_values("valid_from")
    assert rows["partnership_key"].nunique() == 1 and rows["is_current"].tolist() == [True, False]
    assert utc(rows["valid_from"].iloc[0]) == utc(T0) and utc(rows["valid_to"].iloc[1]) == utc(later)
    assert versions.partnerships_ended == 0


def test_a_warehouse_with_match_derived_ids_migrates_and_a_rerun_changes_nothing(blank_engine):  # noqa: F811
    _upgrade(blank_engine, "0003")
    rows = [("k1", KOLN, KOTZTING_UNRESOLVED), ("k2", KOLN, ("wd:Q158089", "Treptow-Köpenick", None, "Q158089"))]
    frame, munis = staged(rows)
    with blank_engine.begin() as conn:  # what the previous version wrote: ids = the resolver's answers
        for m in munis.to_dict("records"):
            conn.execute(text("INSERT INTO municipality (municipality_id, geonames_id, wikidata_qid, name, kind, "
                              "country_code, match_method, match_score, match_status, first_load_id, last_load_id, "
                              "row_hash) VALUES (:municipality_id, :geonames_id, :wikidata_qid, :name, :kind, "
                              ":country_code, :match_method, :match_score, :match_status, 'r0', 'r0', 'h')"),
                         {k: (None if pd.isna(v) else v) for k, v in m.items()})
        for a in frame.to_dict("records"):
            conn.execute(text("INSERT INTO partnership_source (source, record_key, partnership_key, raw_name_a, "
                              "raw_name_b, relation_type, source_url, first_seen, changed_at, is_current, row_hash, "
                              "load_id) VALUES (:source, :record_key, :partnership_key, :raw_name_a, :raw_name_b, "
                              ":relation_type, :source_url, :t, :t, :cur, 'old', 'r0')"), {**a, "t": T0, "cur": True})
            low, high = a["partnership_key"].split("|")
            conn.execute(text("INSERT INTO partnership (partnership_key, valid_from, is_current, municipality_a_id, "
                              "municipality_b_id, relation_type, row_hash, load_id) VALUES (:k, :t, :cur, :a, :b, "
                              "'partnership', 'old', 'r0')"),
                         {"k": a["partnership_key"], "t": T0, "cur": True, "a": low, "b": high})
    wh.create_schema(blank_engine)
    ids = read(blank_engine, W.municipality)["municipality_id"]
    assert ids.str.match(r"^m:\d{8}$").all() and len(ids) == 3
    counts, versions = run(blank_engine, "r1", T0 + timedelta(days=1), rows)
    assert (counts.rows_new, counts.rows_changed, counts.rows_ended, counts.rows_unchanged) == (0, 0, 0, 2)
    assert (versions.partnerships_new, versions.partnerships_changed, versions.partnerships_ended) == (0, 0, 0)
    current = read(blank_engine, W.partnership)
    assert len(current) == 2 and current["is_current"].all()
    assert all(utc(v) == utc(T0) for v in current["valid_from"])


FRANKFURT_MAIN = ("gn:2925533", "Frankfurt am Main", 2925533, None)
FRANKFURT_ODER = ("gn:2925535", "Frankfurt (Oder)", 2925535, None)
FRANKFURT_QID = ("wd:Q1794", "Frankfurt", None, "Q1794")  # a QID the register could not place
LYON = ("gn:2996944", "Lyon", 2996944, None)
SLUBICE = ("gn:3085450", "Słubice", 3085450, None)


def run_with_frankfurt_placeholder(engine, rows):
    """One run in which Wikidata's "Frankfurt" (Q1794) is a placeholder with both Frankfurts as candidates."""
    frame, munis = staged(rows)
    munis["candidates"] = munis["municipality_id"].map({"wd:Q1794": "gn:2925533;gn:2925535"}).astype("string")
    wh.start_run(engine, "r1", "s1", T0)
    wh.load_source(engine, run_id="r1", source="s1", assertions=frame, municipalities=munis,
                   rejected=pd.DataFrame(), rows_extracted=len(frame), now=T0)
    wh.consolidate_partnerships(engine, run_id="r1", now=T0)


def test_a_placeholder_is_merged_into_the_namesake_its_twin_towns_identify(engine):
    run_with_frankfurt_placeholder(engine, [("k1", FRANKFURT_MAIN, LYON), ("k2", FRANKFURT_ODER, SLUBICE),
                                            ("k3", FRANKFURT_QID, LYON)])
    identifiers = read(engine, W.municipality_identifier).set_index(["scheme", "value"])["municipality_id"]
    main = identifiers[("geonames", "2925533")]
    assert identifiers[("wikidata", "Q1794")] == main
    [redirect] = read(engine, W.municipality_redirect).to_dict("records")
    assert redirect["to_id"] == main and "twin towns" in redirect["reason"]
    current = read(engine, W.partnership).query("is_current")
    lyon = identifiers[("geonames", "2996944")]
    assert (current["partnership_key"] == "|".join(sorted((main, lyon)))).sum() == 1  # one pair, not two
    assert len(current) == 2
    runs = read(engine, W.load_run).set_index("source")
    assert "1 placeholder(s) identified by their twin towns" in runs.loc[wh.CONSOLIDATION, "message"]


def test_a_placeholder_twinned_like_two_namesakes_stays_a_placeholder(engine):
    run_with_frankfurt_placeholder(engine, [("k1", FRANKFURT_MAIN, LYON), ("k2", FRANKFURT_ODER, LYON),
                                            ("k3", FRANKFURT_QID, LYON)])
    assert read(engine, W.municipality_redirect).empty
    assert len(read(engine, W.partnership).query("is_current")) == 3
