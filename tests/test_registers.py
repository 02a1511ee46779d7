"""German sides against the official register: homonyms decided by what sources write."""
import pandas as pd
import pytest

from extractors import destatis_municipalities as destatis
from schemas.records import MUNICIPALITY_REGISTER
from tests.support import bundled_path
from tests.test_destatis import COPY
from transforms import registers as R


@pytest.fixture(scope="module")
def raw():
    return MUNICIPALITY_REGISTER.to_frame(destatis.parse(bundled_path("GET", COPY).read_bytes(), url=COPY))


@pytest.fixture(scope="module")
def staged(raw, gazetteer_places, name_index):
    return R.stage_register(raw, places=gazetteer_places, index=name_index)


@pytest.fixture(scope="module")
def register(staged):
    return R.OfficialRegister(staged.municipalities)


def decide(register, name, lat=None, lon=None):
    queries = pd.DataFrame({"name": [name], "lat": [lat], "lon": [lon]}).astype({"lat": "Float64", "lon": "Float64"})
    return R.resolve_in_register(queries, register.index).iloc[0]


@pytest.mark.parametrize("name, ags", [
    ("Halle (Westf.)", "05754012"), ("Halle (Saale)", "15002000"), ("Halle an der Saale", "15002000"),
    ("Brühl (Baden)", "08226009"), ("Falkenstein/Vogtl.", "14523120"), ("Aken (Elbe)", "15082005"),
    ("Frankfurt/Main", "06412000"), ("Frankfurt (Oder)", "12053000"), ("Kötzting", "09372137"),
    ("St. Wendel", "10046117"), ("Sankt Wendel", "10046117"), ("Bad Homburg vor der Höhe", "06434001"),
    ("Ebersbach-Neugersdorf", "14626085"), ("Stadt Köln", "05315000"),
])
def test_names_with_their_qualifiers_find_the_official_municipality(register, name, ags):
    found = decide(register, name)
    assert (found["ags"], found["register_status"]) == (ags, "resolved")


@pytest.mark.parametrize("name, candidates", [
    ("Halle", {"03255016", "03456008", "05754012", "15002000"}),
    ("Brühl", {"05362012", "08226009"}), ("Frankfurt", {"06412000", "12053000"}),
])
def test_a_name_several_municipalities_bear_is_ambiguous_with_its_candidates(register, name, candidates):
    found = decide(register, name)
    assert found["register_status"] == "ambiguous" and set(found["candidates"].split(";")) == candidates


def test_a_qualifier_that_fits_no_namesake_decides_nothing(register, gazetteer_places, name_index):
    # "Usedom" is an island (and a town), neither Land nor Kreis of Heringsdorf: left undecided
    assert decide(register, "Heringsdorf (Usedom)")["register_status"] == "none"
    from transforms.identity import resolve

    gazetteer = resolve(pd.DataFrame({"name": ["Heringsdorf (Usedom)"], "country_code": ["DE"]}), name_index,
                        gazetteer_places).iloc[0]
    assert gazetteer["match_status"] != "resolved"  # and the gazetteer does not guess the village in Holstein


def test_coordinates_decide_between_namesakes(register):
    assert decide(register, "Halle", 52.06, 8.36)["ags"] == "05754012"  # at Halle (Westf.)
    assert decide(register, "Brühl", 50.83, 6.90)["ags"] == "05362012"  # Brühl near Köln


def test_a_unique_name_far_from_the_source_coordinates_is_not_taken(register):
    found = decide(register, "Aken", 50.776, 6.084)  # Aachen's coordinates: the Dutch name of Aachen
    assert found["register_status"] == "ambiguous" and found["ags"] is None


def test_parts_of_another_municipality_are_left_to_the_part_rules(register):
    for name in ("Lichtenberg (Berlin)", "Gernrode (Quedlinburg)", "Berlin – Pankow", "Cologne"):
        assert decide(register, name)["register_status"] == "none", name


def test_register_identities_link_their_gazetteer_place_once(staged):
    m = staged.municipalities
    assert len(m) == 11_004 and m["municipality_id"].str.match(r"^ags:\d{8}$").all()
    linked = m["geonames_id"].dropna()
    assert linked.is_unique and len(linked) / len(m) > 0.85
    assert m.set_index("ags").loc["05315000", "geonames_id"] == 2886242  # Köln
    assert (m["match_method"] == "register").all() and m["official_name"].notna().all()


def test_boroughs_and_localities_point_at_their_official_municipality(register):
    resolved = pd.DataFrame({
        "query_name": ["Berlin – Pankow", "Spandau (Berlin)", "Wolfen", "Zehlendorf", "Köln"],
        "query_country": ["DE"] * 5, "match_country": ["DE"] * 5,
        "match_method": ["none", "none", "exact", "exact", "register_exact"],
        "kind": ["borough", "borough", "municipality", "municipality", "municipality"],
        "lat": [None, None, 51.66, None, 50.94], "lon": [None, None, 12.27, None, 6.96]}).astype(
        {"lat": "Float64", "lon": "Float64"})
    out = R.parts_of(resolved, register)
    assert out["part_of"].tolist()[:3] == ["ags:11000000", "ags:11000000", "ags:15082015"]
    assert out["kind"].tolist()[2] == "locality"  # Wolfen, part of Bitterfeld-Wolfen
    assert out["part_of"].iloc[3:].isna().all()  # no coordinates, no compound: not guessed; Köln is official
