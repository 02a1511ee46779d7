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
