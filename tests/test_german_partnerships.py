"""The 2015 list of German partnerships with RGRE categories, on the real recorded file."""
import pandas as pd
import pytest

from extractors import german_partnerships_2015 as rgre
from extractors.base import SourceChanged
from schemas.records import PARTNERSHIP_ASSERTION
from tests.support import bundled_path
from tests.test_registers import raw, register, staged  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def content() -> bytes:
    return bundled_path("GET", rgre.URL).read_bytes()


@pytest.fixture(scope="module")
def records(content):
    return rgre.parse(content, url=rgre.URL)


def test_categories_years_and_the_german_side_are_read(records):
    frame = pd.DataFrame(records)
    assert len(frame) == 7_138 and frame["reject_reason"].isna().all()
    assert frame["relation_type"].value_counts().to_dict() == {"partnership": 5_436, "contact": 1_079,
                                                               "friendship": 613, "unspecified": 10}
    halle = frame[(frame["a_name"] == "Halle (Saale)") & (frame["b_name"] == "Linz")].iloc[0]
    assert (halle["a_postcode"], halle["a_region"], halle["start_raw"], halle["b_country"]) == (
        "06108", "Sachsen-Anhalt", "1975", "Österreich")  # the leading zero the file lost is back
    assert frame["a_country"].eq("DE").all()


def test_the_records_fit_the_partnership_contract(records):
    typed = PARTNERSHIP_ASSERTION.to_frame(records)
    assert typed["a_postcode"].str.fullmatch(r"\d{5}").all()


def test_a_changed_header_fails_the_source(content):
    with pytest.raises(SourceChanged, match="header of"):
        rgre.parse(content.replace(b'"form"', b'"kategorie"', 1), url=rgre.URL)


def test_postcode_and_land_decide_the_german_side(records, staged, gazetteer_places, name_index):  # noqa: F811
    from transforms.staging import stage

    frame = PARTNERSHIP_ASSERTION.to_frame(records)
    halle = frame[frame["a_name"].str.startswith("Halle")]
    result = stage(halle, places=gazetteer_places, index=name_index, register=staged.municipalities)
    sides = result.assertions.merge(result.municipalities, left_on="municipality_a_id", right_on="municipality_id")
    assert set(sides.loc[sides["raw_name_a"] == "Halle (Saale)", "ags"]) == {"15002000"}
    assert set(sides.loc[sides["raw_name_a"] == "Halle (Westf.)", "ags"]) == {"05754012"}


def test_a_maintainers_override_corrects_a_homonym_with_its_reason(records, gazetteer_places, name_index):
    from schemas.overrides import load_overrides
    from transforms.staging import stage

    frame = PARTNERSHIP_ASSERTION.to_frame(records)
    breisach = frame[frame["a_name"] == "Breisach am Rhein"]
    overrides = load_overrides()
    assert "Haut-Rhin" in overrides.set_index("name").loc["Saint-Louis", "reason"]

    def saint_louis(**kwargs):
        result = stage(breisach, places=gazetteer_places, index=name_index, **kwargs)
        row = result.assertions[result.assertions["raw_name_b"] == "Saint-Louis"].iloc[0]
        return result.municipalities.set_index("municipality_id").loc[row["municipality_b_id"]]

    without = saint_louis()  # the collector put it in Missouri; France has three Saint-Louis
    assert without["match_status"] != "resolved" and pd.isna(without["geonames_id"])  # undecided, not wrong
    decided = saint_louis(overrides=overrides)
    assert (decided["geonames_id"], decided["match_method"], decided["match_status"]) == (2978742, "override",
                                                                                        "resolved")
    other = stage(frame[frame["b_name"] == "Saint-Louis"], places=gazetteer_places, index=name_index,
                  overrides=overrides).municipalities
    assert (other["match_method"] == "override").sum() == 1  # only where the partner is Breisach


def test_an_override_file_without_a_reason_is_refused(tmp_path):
    from schemas.overrides import load_overrides

    path = tmp_path / "overrides.csv"
    path.write_text("name,country,partner_of,scheme,value,reason\nX,FR,,geonames,1,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="need a name, a scheme .* and a reason"):
        load_overrides(path)
