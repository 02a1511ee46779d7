"""Member lists of ten city networks (BD ETMUN, 2016–19), parsed from the real workbook."""
import pytest

from extractors import etmun_member_lists as etmun
from extractors.base import EmptyResult, SourceChanged
from schemas.records import MEMBERSHIP_ASSERTION
from tests.support import bundled_path, xlsx_bytes


@pytest.fixture(scope="module")
def members():
    return MEMBERSHIP_ASSERTION.to_frame(etmun.parse(bundled_path("GET", etmun.URL).read_bytes()))


def test_every_network_sheet_becomes_memberships_of_its_network(members):
    counts = members["network"].value_counts().to_dict()
    assert counts == {"climate_alliance": 1742, "cittaslow": 213, "energy_cities": 178, "iclei": 157,
                      "eccar": 146, "eurocities": 112, "peace_messenger_cities": 112, "c40": 92,
                      "union_of_baltic_cities": 86, "who_healthy_cities": 85}
    assert members["reject_reason"].isna().all()


def test_join_years_statuses_and_member_types(members):
    climate = members[members["network"] == "climate_alliance"]
    assert climate["since_year"].notna().all() and climate["since_year"].between(1990, 2019).all()  # founded 1990; collected in 2019
    luechow = climate.set_index("member_name").loc["Landkreis Lüchow-Dannenberg"]
    assert (luechow["member_kind"], luechow["since_year"], luechow["member_population"]) == ("district", 1997, 49165)
    iclei = members[members["network"] == "iclei"]["status"].value_counts().to_dict()
    assert iclei == {"member": 149, "associate": 8}
    assert set(members.loc[members["network"] == "eurocities", "status"]) == {"full"}
    assert set(members["member_kind"].dropna()) <= {"municipality", "district", "region", "association",
                                                     "organisation", "borough", "other"}


def test_text_coordinates_are_numbers_where_the_collector_has_them(members):
    ubc = members[members["network"] == "union_of_baltic_cities"].set_index("member_name")
    assert ubc.loc["Aarhus", "member_lat"] == pytest.approx(56.14972) and ubc.loc["Aarhus", "member_lon"] > 10
    assert members.loc[members["network"] == "c40", "member_lat"].isna().all()  # none collected


def sheet_bytes(rows, title="99999_Test", header=etmun.COLUMNS):
    return xlsx_bytes(header, rows, title)


def test_unknown_types_and_years_go_to_quarantine_and_a_changed_workbook_fails(monkeypatch):
    monkeypatch.setattr(etmun, "MIN_ROWS", 1)
    good = ["Köln", "Köln", "DE", "50.94", "6.96", 1_000_000, "Member", "City", 1993, "New Net", "99999"]
    odd = ["X", "X", "DE", None, None, None, "Member", "Spaceport", "1993?", "New Net", "99999"]
    first, second = etmun.parse(sheet_bytes([good, odd]))
    assert first["network"] == "new_net" and first["member_kind"] == "municipality" and first["since_year"] == 1993
    assert "unknown member type 'Spaceport'" in second["reject_reason"] and "'1993?' is not a year" in second[
        "reject_reason"]
    with pytest.raises(SourceChanged, match="no sheet"):
        etmun.parse(sheet_bytes([good], header=("Name", "Country")))
    monkeypatch.setattr(etmun, "MIN_ROWS", 5)
    with pytest.raises(EmptyResult, match="lists 2 members"):
        etmun.parse(sheet_bytes([good, odd]))
