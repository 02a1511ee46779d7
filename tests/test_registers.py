"""German sides against the official register: homonyms decided by what sources write."""
import pandas as pd
import pytest

from extractors import destatis_municipalities as destatis
from schemas.records import MUNICIPALITY_REGISTER
from tests.support import bundled_path
from tests.test_destatis import COPY
from transforms import registers as R
from transforms.parts import parts_of


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
        "match_status": ["unresolved", "unresolved", "resolved", "resolved", "resolved"],
        "kind": ["borough", "borough", "municipality", "municipality", "municipality"],
        "lat": [None, None, 51.66, None, 50.94], "lon": [None, None, 12.27, None, 6.96]}).astype(
        {"lat": "Float64", "lon": "Float64"})
    out = parts_of(resolved, register)
    assert out["part_of"].tolist()[:3] == ["ags:11000000", "ags:11000000", "ags:15082015"]
    assert out["kind"].tolist()[2] == "locality"  # Wolfen, part of Bitterfeld-Wolfen
    assert out["part_of"].iloc[3:].isna().all()  # no coordinates, no compound: not guessed; Köln is official


@pytest.mark.parametrize("name, ags", [
    ("Falkenstein, Saxony", "14523120"),  # the Land in English decides among four Falkensteins
    ("Weilheim in Oberbayern", None),  # a qualifier that is not the official one decides nothing here …
])
def test_a_land_written_as_qualifier_decides(register, name, ags):
    assert decide(register, name)["ags"] == ags


def test_a_land_decides_only_among_namesakes_the_qualifier_fits(register):
    # merged into Großbreitenbach in 2019; Thuringia's other Neustadt is "an der Orla"
    queries = pd.DataFrame({"name": ["Neustadt am Rennsteig", "Neustadt"], "lat": [None, None],
                            "lon": [None, None], "region": ["Thüringen"] * 2, "postcode": [None, None]})
    found = R.resolve_in_register(queries.astype({"lat": "Float64", "lon": "Float64"}), register.index)
    assert found["register_status"].iloc[0] == "none"
    assert found["ags"].iloc[1] == "16075073"  # a bare "Neustadt" in Thuringia: Neustadt an der Orla


def test_a_bare_name_that_is_also_the_base_of_a_qualified_one_needs_evidence(register):
    # "Winsen" is the village Winsen's full name and the base of Winsen (Luhe) and Winsen (Aller)
    found = decide(register, "Winsen")
    assert found["register_status"] == "ambiguous" and set(found["candidates"].split(";")) == {"01060100", "03351024", "03353040"}
    assert decide(register, "Winsen", 53.36, 10.21)["ags"] == "03353040"  # at Winsen (Luhe)
    near_village = decide(register, "Winsen", 53.83, 10.02)
    assert near_village["ags"] == "01060100" and set(near_village["candidates"].split(";")) == {"01060100", "03351024", "03353040"}


def test_the_gazetteer_link_falls_back_to_the_base_name(staged):
    linked = staged.municipalities.set_index("ags")["geonames_id"]
    assert linked["09190157"] == 2812515  # Weilheim i.OB ↔ GeoNames "Weilheim in Oberbayern"
    assert linked["09363000"] == 2813040  # Weiden i.d.OPf. ↔ "Weiden"


def _sides(names, methods, statuses, kinds=None, geonames=None, admin1=None):
    n = len(names)
    return pd.DataFrame({
        "query_name": names, "query_country": ["DE"] * n, "match_country": ["DE"] * n,
        "match_method": methods, "match_status": statuses, "kind": kinds or ["municipality"] * n,
        "geonames_id": pd.array(geonames or [None] * n, dtype="Int64"),
        "admin1": pd.array(admin1 or [None] * n, dtype="string"),
        "lat": pd.array([None] * n, dtype="Float64"), "lon": pd.array([None] * n, dtype="Float64")})


def test_places_of_a_city_state_are_its_boroughs(register, gazetteer_places, name_index):
    sides = _sides(["Zehlendorf", "Hamburg-Mitte", "Steglitz-Zehlendorf", "Berlin"],
                   ["exact", "exact", "none", "register_exact"], ["resolved", "resolved", "unresolved", "resolved"],
                   geonames=[2805059, 2911288, None, 2950159], admin1=["16", "04", None, "16"])
    out = parts_of(sides, register, index=name_index, places=gazetteer_places)
    assert out["part_of"].tolist()[:3] == ["ags:11000000", "ags:02000000", "ags:11000000"]
    assert out["kind"].tolist()[:3] == ["borough"] * 3 and pd.isna(out["part_of"].iloc[3])


def test_unofficial_places_are_localities_and_named_parents_are_kept(register, gazetteer_places, name_index):
    sides = _sides(["Mylau", "Mainz-Laubenheim", "Behringen (Hörselberg-Hainich)", "Kühren-Burkartshain",
                    "Lüchow-Dannenberg", "Leinefelde"],
                   ["exact", "none", "none", "none", "none", "none"],
                   ["resolved", "unresolved", "unresolved", "unresolved", "unresolved", "unresolved"],
                   geonames=[2867274, None, None, None, None, None], admin1=["13", None, None, None, None, None])
    out = parts_of(sides, register, index=name_index, places=gazetteer_places)
    assert out["kind"].tolist() == ["locality", "locality", "locality", "municipality", "district", "locality"]
    assert pd.isna(out["part_of"].iloc[0])  # a former municipality: its parent is not guessed
    assert out["part_of"].iloc[1] == "ags:07315000"  # Mainz
    assert out["part_of"].iloc[5] == "ags:16061115"  # Leinefelde-Worbis: the one compound it is part of
    assert pd.isna(out["part_of"].iloc[3])  # Kühren (Holstein) is small: its name at the head says nothing


def test_districts_and_associations_are_not_asked_of_the_register(register):
    resolved = _sides(["Aachen (Kreis) (Aachen, Stadt)"], ["none"], ["unresolved"], kinds=["district"])
    resolved = resolved.assign(ags=pd.array([None], dtype="string"), query_lat=pd.NA, query_lon=pd.NA,
                               query_region=pd.NA, query_postcode=pd.NA, candidates=pd.NA, canonical_name=pd.NA,
                               population=pd.NA, municipality_id=pd.NA, match_score=0.0)
    out = register.decide(resolved)
    assert out["match_method"].iloc[0] == "none" and pd.isna(out["ags"].iloc[0])
