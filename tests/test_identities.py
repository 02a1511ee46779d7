"""Identity rules without a database: minting, the crosswalk, merges and conflicts."""
import pandas as pd

from warehouse.identities import assign, evidence_identifiers, format_id, id_number


def staged(*rows):
    """Staged identities: evidence key plus the identifiers the source stated."""
    frame = pd.DataFrame([{"municipality_id": key, "geonames_id": gn, "wikidata_qid": qid, "ags": ags}
                          for key, gn, qid, ags in rows])
    return frame.astype({"geonames_id": "Int64"})


def known(*rows):
    return pd.DataFrame(list(rows), columns=["scheme", "value", "municipality_id"], dtype="string")


NOTHING = known()


def test_ids_are_minted_once_in_a_stable_order_and_found_again():
    evidence = evidence_identifiers(staged(("nm:DE:x", None, None, None), ("gn:5", 5, "Q1", None)))
    first = assign(evidence, NOTHING, next_number=7)
    assert first.ids == {"gn:5": format_id(7), "nm:DE:x": format_id(8)}  # strongest evidence first
    crosswalk = first.attached[["scheme", "value", "municipality_id"]]
    assert set(map(tuple, crosswalk.to_numpy())) == {("geonames", "5", "m:00000007"), ("wikidata", "Q1", "m:00000007"),
                                                     ("name", "DE:x", "m:00000008")}
    again = assign(evidence, crosswalk, next_number=9)
    assert again.ids == first.ids and again.minted == [] and again.attached.empty


def test_a_qid_only_placeholder_is_merged_into_the_place_that_carries_its_qid():
    # Köln's twins: Treptow-Köpenick as wd:Q158089 (no country) and resolved via GeoNames
    crosswalk = known(("wikidata", "Q158089", "m:00000001"), ("geonames", "2950159", "m:00000002"))
    evidence = evidence_identifiers(staged(("gn:2950159", 2950159, "Q158089", None), ("wd:Q158089", None, "Q158089", None)))
    result = assign(evidence, crosswalk, next_number=3)
    assert result.ids == {"gn:2950159": "m:00000002", "wd:Q158089": "m:00000002"}
    assert result.redirects == {"m:00000001": "m:00000002"}
    assert result.repointed.to_dict("records") == [
        {"scheme": "wikidata", "value": "Q158089", "municipality_id": "m:00000002"}]


def test_two_gazetteer_places_sharing_a_qid_stay_two_identities():
    crosswalk = known(("geonames", "1", "m:00000001"), ("wikidata", "Q5", "m:00000001"))
    result = assign(evidence_identifiers(staged(("gn:2", 2, "Q5", None))), crosswalk, next_number=2)
    assert result.ids == {"gn:2": "m:00000002"} and result.redirects == {}
    assert len(result.conflicts) == 1 and "m:00000001" in result.conflicts[0]


def test_an_identified_place_is_never_merged_away():
    crosswalk = known(("geonames", "1", "m:00000001"), ("ags", "05711000", "m:00000002"))
    result = assign(evidence_identifiers(staged(("gn:1", 1, None, "05711000"))), crosswalk, next_number=3)
    assert result.redirects == {} and len(result.conflicts) == 1
    assert result.ids == {"gn:1": "m:00000002"}  # the AGS, the strongest evidence, decides


def test_a_placeholder_whose_rows_now_resolve_to_one_place_is_merged_into_it():
    crosswalk = known(("geonames", "10", "m:00000001"), ("name", "DE:kotzting", "m:00000002"))
    evidence = evidence_identifiers(staged(("gn:10", 10, None, None), ("gn:20", 20, None, None)))
    moves = pd.DataFrame({"old_1": ["m:00000001"], "old_2": ["m:00000002"], "key_a": ["gn:10"], "key_b": ["gn:20"]})
    result = assign(evidence, crosswalk, next_number=3, moves=moves)
    assert result.ids == {"gn:10": "m:00000001", "gn:20": "m:00000003"}
    assert result.redirects == {"m:00000002": "m:00000003"}  # "Kötzting" is Bad Kötzting
    assert ("name", "DE:kotzting", "m:00000003") in set(map(tuple, result.repointed.to_numpy()))


def test_a_placeholder_whose_rows_go_to_several_places_stays():
    crosswalk = known(("geonames", "10", "m:00000001"), ("geonames", "11", "m:00000004"),
                      ("name", "DE:halle", "m:00000002"))
    evidence = evidence_identifiers(staged(("gn:10", 10, None, None), ("gn:11", 11, None, None),
                                           ("gn:20", 20, None, None), ("gn:21", 21, None, None)))
    moves = pd.DataFrame({"old_1": ["m:00000001", "m:00000004"], "old_2": ["m:00000002", "m:00000002"],
                          "key_a": ["gn:10", "gn:11"], "key_b": ["gn:20", "gn:21"]})  # Halle (Saale), Halle (Westf.)
    result = assign(evidence, crosswalk, next_number=5, moves=moves)
    assert result.redirects == {}


def test_id_numbers():
    assert id_number("m:00000042") == 42 and id_number(None) == 0 and id_number("gn:5") == 0


def test_a_geonames_id_arriving_as_a_float_is_the_same_identifier():
    frame = pd.DataFrame({"municipality_id": ["ags:05315000"], "geonames_id": [2886242.0], "wikidata_qid": [None],
                          "ags": ["05315000"]})
    assert ("geonames", "2886242") in set(map(tuple, evidence_identifiers(frame)[["scheme", "value"]].to_numpy()))


def test_twin_towns_settle_a_placeholder_only_when_one_namesake_shares_them():
    from warehouse.identities import settle_by_partners

    options = pd.DataFrame({"municipality_id": ["P", "P", "Q", "Q", "R", "R"],
                            "candidate_id": ["main", "oder", "a1", "a2", "b1", "b2"]})
    pairs = pd.DataFrame({"a": ["P", "P", "main", "main", "oder", "Q", "a1", "a2", "R", "b1"],
                          "b": ["lyon", "milan", "lyon", "milan", "slubice", "x", "x", "x", "b2", "y"]})
    decided = settle_by_partners(options, pairs)
    assert decided[["from_id", "to_id"]].values.tolist() == [["P", "main"]]  # Q: both share x; R: nothing shared
    assert decided["reason"].iloc[0].startswith("its twin towns: 2 of its 2 partners are twinned with main")
    # a candidate the placeholder is twinned with is not the placeholder (no town is its own twin)
    twinned = pd.DataFrame({"a": ["P", "oder"], "b": ["oder", "lyon"]})
    assert settle_by_partners(options[options["municipality_id"] == "P"], twinned).empty
