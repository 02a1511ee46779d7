"""A side one source placed among namesakes by its coordinates, checked against the twin towns
the other sources give (twincities puts Hamm's twins at the village Hamm in the Eifel)."""
from types import SimpleNamespace

import pandas as pd

from schemas.warehouse import ASSERTION_TRACKED, row_hash
from transforms.corroboration import corroborate
from transforms.staging import StagedSource

VILLAGE, CITY = "ags:07232046", "ags:05915000"
OFFICIAL = SimpleNamespace(table=pd.DataFrame(
    {"name": ["Hamm", "Hamm"], "geonames_id": pd.array([2911243, 2911240], dtype="Int64"),
     "latitude": [50.02, 51.68], "longitude": [6.42, 7.82], "population": [18, 179_916]},
    index=pd.Index(["07232046", "05915000"], name="ags")))


def source(name, pairs, decided=None):
    rows = [{"source": name, "record_key": f"{a}-{b}", "municipality_a_id": a, "municipality_b_id": b,
             "partnership_key": "|".join(sorted((a, b))), "raw_name_a": a, "raw_name_b": b, "raw_country_a": None,
             "raw_country_b": None, "relation_type": "unspecified", "start_raw": None, "start_year": None,
             "end_year": None, "reference_url": None, "source_url": "https://example.org"} for a, b in pairs]
    assertions = pd.DataFrame(rows)
    assertions["row_hash"] = row_hash(assertions, ASSERTION_TRACKED)
    keys = sorted({k for pair in pairs for k in pair})
    municipalities = pd.DataFrame({"municipality_id": keys, "name": keys,
                                   "match_method": [(decided or {}).get(k, ("exact", None))[0] for k in keys],
                                   "candidates": pd.array([(decided or {}).get(k, (None, None))[1] for k in keys],
                                                          dtype="string")})
    return StagedSource(name, len(rows), assertions, municipalities, pd.DataFrame(), [])


def test_a_coordinate_decision_contradicted_by_every_other_source_moves_to_the_namesake():
    placed = {VILLAGE: ("register_coordinates", f"{VILLAGE};{CITY}")}
    twincities = source("twincities", [(VILLAGE, "gn:bradford"), (VILLAGE, "gn:toul"), (VILLAGE, "gn:kalisz")], placed)
    rgre = source("rgre", [(CITY, "gn:bradford"), (CITY, "gn:toul")])
    [moved, same], moves = corroborate([twincities, rgre], OFFICIAL)
    assert moves[["source", "from_key", "to_key", "shared", "partners"]].values.tolist() == [
        ["twincities", VILLAGE, CITY, 2, 3]]
    assert set(moved.assertions["municipality_a_id"]) | set(moved.assertions["municipality_b_id"]) >= {CITY}
    assert VILLAGE not in set(moved.municipalities["municipality_id"])
    row = moved.municipalities.set_index("municipality_id").loc[CITY]
    assert row["match_method"] == "register_partners" and row["name"] == "Hamm" and row["population"] == 179_916
    assert moved.assertions["partnership_key"].str.contains(CITY).all()
    assert (moved.assertions["row_hash"] != twincities.assertions["row_hash"]).all()  # the key is tracked
    assert same is rgre


def test_a_coordinate_decision_someone_else_confirms_or_stated_facts_stay():
    placed = {VILLAGE: ("register_coordinates", f"{VILLAGE};{CITY}")}
    confirmed = source("twincities", [(VILLAGE, "gn:bradford"), (VILLAGE, "gn:toul")], placed)
    other = source("rgre", [(CITY, "gn:bradford"), (CITY, "gn:toul"), (VILLAGE, "gn:toul")])
    assert corroborate([confirmed, other], OFFICIAL)[1].empty  # the village is twinned with Toul elsewhere too
    by_postcode = source("twincities", [(VILLAGE, "gn:bradford"), (VILLAGE, "gn:toul")],
                         {VILLAGE: ("register_postcode", f"{VILLAGE};{CITY}")})
    assert corroborate([by_postcode, source("rgre", [(CITY, "gn:bradford"), (CITY, "gn:toul")])], OFFICIAL)[1].empty
    alone = source("twincities", [(VILLAGE, "gn:bradford")], placed)
    assert corroborate([alone], OFFICIAL)[1].empty  # no other source, no evidence
