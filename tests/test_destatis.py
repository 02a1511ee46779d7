"""The Destatis register parser on the real recorded extract (Gebietsstand 31.12.2020)."""
import io

import pytest

from extractors import destatis_municipalities as destatis
from extractors.base import EmptyResult, SourceChanged
from tests.support import bundled_path

COPY = ("https://raw.githubusercontent.com/grundeinkommensbuero/backend/dbb05dba5237/utils/analyseData/"
        "recentMunicipalityData/data/AuszugGV4QAktuell.csv")


@pytest.fixture(scope="module")
def content() -> bytes:
    return bundled_path("GET", COPY).read_bytes()


@pytest.fixture(scope="module")
def records(content):
    return destatis.parse(content, url=COPY)


def test_every_unit_of_the_register_is_a_record_with_its_ags(records):
    kinds = [r["kind"] for r in records]
    assert kinds.count("municipality") == 10_796 and kinds.count("unincorporated_area") == 208
    keys = [r["ags"] for r in records]
    assert len(set(keys)) == len(keys) and all(len(k) == 8 and k.isdigit() for k in keys)
    assert not [r for r in records if r["reject_reason"]]


def test_names_titles_numbers_and_the_hierarchy_are_read(records):
    by_ags = {r["ags"]: r for r in records}
    koeln = by_ags["05315000"]
    assert (koeln["name"], koeln["title"], koeln["land"]) == ("Köln", "Stadt", "Nordrhein-Westfalen")
    assert koeln["population"] > 1_000_000 and 50.8 < koeln["lat"] < 51.1 and 6.8 < koeln["lon"] < 7.1
    halle = by_ags["05754012"]
    assert (halle["name"], halle["official_name"], halle["kreis"]) == ("Halle (Westf.)", "Halle (Westf.), Stadt",
                                                                      "Gütersloh")
    assert by_ags["15002000"]["name"] == "Halle (Saale)"
    assert by_ags["09176121"]["postcode"] and by_ags["01001000"]["area_km2"] == pytest.approx(53.02)
    condominium = by_ags["07000999"]  # the German-Luxembourg condominium: "0,0" means no centroid
    assert condominium["kind"] == "unincorporated_area" and condominium["lat"] is None


def test_a_bad_value_quarantines_its_row_with_the_line(content):
    text = content.decode("utf-8-sig").replace('"Flensburg, Stadt", 53.02, 90 164', '"Flensburg, Stadt", 53.02, 9x 164', 1)
    records = destatis.parse(text.encode("utf-8-sig"), url=COPY)
    [bad] = [r for r in records if r["reject_reason"]]
    assert bad["ags"] == "01001000" and "line 5: population is not a number: '9x164'" in bad["reject_reason"]


def test_a_changed_header_fails_the_source_naming_it(content):
    text = content.decode("utf-8-sig").replace("gemeindename", "name", 1)
    with pytest.raises(SourceChanged, match="header of .* changed"):
        destatis.parse(text.encode(), url=COPY)


def test_a_partial_register_is_refused(content):
    head = b"\n".join(content.splitlines()[:3000])
    with pytest.raises(EmptyResult, match="partial register would end the others"):
        destatis.parse(head, url=COPY)


def test_a_workbook_without_the_gv_isys_layout_fails_loudly():
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Regionalschlüssel", "Name"])
    book.active.append(["05315000", "Köln"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(SourceChanged, match="does not have the GV-ISys layout"):
        destatis.parse(buffer.getvalue(), url="https://example.org/AuszugGV.xlsx")
