"""History rules without a database: municipality merge, assertion and version diffs."""
from datetime import datetime, timezone

import pandas as pd

from warehouse.history import diff_assertions, diff_versions, keys_ending, merge_municipalities

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def municipality(mid, **values):
    row = {"municipality_id": mid, "geonames_id": None, "wikidata_qid": None, "ags": None, "name": "X",
           "kind": "municipality", "country_code": "DE", "admin1_code": None, "latitude": None, "longitude": None,
           "population": None, "match_method": "none", "match_score": 0.0, "match_status": "unresolved"}
    row.update(values)
    return row


def frame(*rows):
    return pd.DataFrame(list(rows))


def test_identifiers_fill_gaps_and_are_never_blanked():
    existing = frame(municipality("gn:1", geonames_id=1, wikidata_qid=None, ags="05711000", match_method="exact",
                                  match_score=0.9, match_status="resolved", name="Bielefeld"))
    existing["row_hash"] = "old"
    incoming = frame(municipality("gn:1", geonames_id=1, wikidata_qid="Q2112", ags=None, match_method="exact",
                                  match_score=0.9, match_status="resolved", name="Bielefeld"))
    inserts, updates = merge_municipalities(existing, incoming)
    assert inserts.empty
    [row] = updates.to_dict("records")
    assert row["wikidata_qid"] == "Q2112" and row["ags"] == "05711000"


def test_a_worse_match_from_another_source_does_not_replace_a_better_one():
    better = municipality("gn:1", geonames_id=1, match_method="coordinates", match_score=0.98,
                          match_status="resolved", latitude=52.0, longitude=8.5)
    first, _ = merge_municipalities(frame(municipality("gn:0")).iloc[:0], frame(better))
    worse = frame(municipality("gn:1", geonames_id=1, match_method="name_only", match_score=0.7,
                               match_status="ambiguous", latitude=52.0, longitude=8.5))
    inserts, updates = merge_municipalities(first, worse)
    assert inserts.empty and updates.empty  # nothing to write: no flip-flop between sources
    _, upgraded = merge_municipalities(first, frame(dict(better, match_score=0.99, match_method="source_id")))
    assert upgraded["match_method"].tolist() == ["source_id"]


def test_assertion_diff_classifies_every_row():
    existing = pd.DataFrame({"record_key": ["same", "changed", "gone", "back"],
                             "row_hash": ["h1", "h2", "h3", "h4"], "is_current": [True, True, True, False]})
    incoming = pd.DataFrame({"record_key": ["same", "changed", "back", "fresh"],
                             "row_hash": ["h1", "h2x", "h4", "h6"]})
    diff = diff_assertions(existing, incoming)
    assert diff.new["record_key"].tolist() == ["fresh"]
    assert diff.changed["record_key"].tolist() == ["changed"]
    assert diff.reopened["record_key"].tolist() == ["back"]
    assert diff.ended["record_key"].tolist() == ["gone"]
    assert diff.unchanged == 1


def test_keys_ending_counts_current_keys_missing_from_the_extract():
    existing = pd.DataFrame({"record_key": ["a", "b", "c"], "is_current": [True, True, False]})
    assert keys_ending(existing, pd.DataFrame({"record_key": ["a", "b"]})) == 0
    assert keys_ending(existing, pd.DataFrame({"record_key": ["x", "y", "z"]})) == 2  # same size, all new keys


def test_version_diff_new_changed_ended_only_among_affected_keys():
    current = pd.DataFrame({"partnership_key": ["a|b", "a|c", "a|d", "a|f"], "row_hash": ["x", "y", "z", "w"]})
    consolidated = pd.DataFrame({"partnership_key": ["a|b", "a|e"], "municipality_a_id": ["a"] * 2,
                                 "municipality_b_id": ["b", "e"], "relation_type": ["partnership"] * 2,
                                 "start_year": pd.array([None] * 2, dtype="Int64"),
                                 "end_year": pd.array([None] * 2, dtype="Int64")})
    diff = diff_versions(current, consolidated, pd.Series(["a|b", "a|d", "a|e"]))
    assert sorted(diff.inserts["partnership_key"]) == ["a|b", "a|e"]  # changed + new
    assert sorted(diff.closes) == ["a|b", "a|d"]  # a|c and a|f were not touched by the run
    assert (diff.new, diff.changed, diff.ended) == (1, 1, 1)
