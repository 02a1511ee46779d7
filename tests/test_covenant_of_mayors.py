"""Covenant of Mayors signatories, parsed from the real JRC workbook (5th release, January 2024)."""
from datetime import datetime, timezone

import pandas as pd
import pytest

from extractors import covenant_of_mayors as com
from extractors.base import EmptyResult, SourceChanged
from schemas.records import MEMBERSHIP_ASSERTION
from tests.support import bundled_path, xlsx_bytes

COPY = ("https://raw.githubusercontent.com/LisaMarieKauck/OfflineMARLCityNetworkClimate/a281afc7cade/Data/"
        "df1_Signatories_2024.xlsx")


@pytest.fixture(scope="module")
def signatories():
    records = com.parse(bundled_path("GET", COPY).read_bytes(), url=COPY)
    return MEMBERSHIP_ASSERTION.to_frame(records)


def test_every_signatory_is_a_membership_keyed_by_its_organisation_id(signatories):
    assert len(signatories) == 11_973 and signatories["record_key"].is_unique
    assert (signatories["network"] == "covenant_of_mayors").all()
    # one real signatory has the name "None" (organisation 14991, coordinated by the Region of
    # Piemonte): kept for quarantine with its reason, not dropped
    rejected = signatories[signatories["reject_reason"].notna()]
    assert rejected["record_key"].tolist() == ["14991"] and "no organisation id or name" in rejected["reject_reason"].iloc[0]
    assert signatories["status"].value_counts().to_dict() == {"active": 9_720, "suspended": 2_253}
    assert signatories["since_year"].between(2008, 2024).all()  # the Covenant started in 2008


def test_countries_are_iso_codes_and_missing_is_missing(signatories):
    assert signatories["member_country"].str.fullmatch(r"[A-Z]{2}").all()
    assert "EL" not in set(signatories["member_country"]) and "UK" not in set(signatories["member_country"])
    kairouan = signatories.set_index("record_key").loc["18389_med"]
    assert (kairouan["member_country"], kairouan["status"], kairouan["member_population"]) == ("TN", "suspended",
                                                                                               160_000)
    group = signatories.iloc[0]
    assert group["member_kind"] == "group" and pd.isna(group["member_population"])  # "-" is missing
    assert group["since_date"] == "2010-01-26" and group["commitments"] == "com2020"


def test_decimal_comma_coordinates_are_read_and_placeholders_are_no_evidence(signatories):
    located = signatories.dropna(subset=["member_lat", "member_lon"])
    assert len(located) > 11_900 and located["member_lat"].between(-90, 90).all()
    # 22 latitudes arrive as text: "37,22999954" is 37.23, "-" and "null" are none
    assert (signatories["member_lat"].round(5) == 37.23).any()


def workbook(rows, header=com.REQUIRED):
    return xlsx_bytes(header, rows)


def row(**values):
    base = dict.fromkeys(com.REQUIRED, "-")
    base.update(organisation_id="1", organisation_name="Köln", country_code="de", signatory_status="published",
                date_of_adhesion=datetime(2009, 2, 10), commitment_CoM2020_flag=True, commitment_CoM2030_flag=False,
                commitment_CoM2050_flag=False, commitment_mayoradapt_flag=False, group_profile=False)
    base.update(values)
    return [base[c] for c in com.REQUIRED]


def test_serial_dates_unknown_statuses_and_bad_dates(monkeypatch):
    monkeypatch.setattr(com, "MIN_ROWS", 1)
    content = workbook([row(date_of_adhesion=39854), row(organisation_id="2", signatory_status="withdrawn"),
                        row(organisation_id="3", date_of_adhesion="sometime")])
    serial, unknown, bad = com.parse(content, extracted_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert serial["since_date"] == "2009-02-10" and serial["reject_reason"] is None
    assert "unknown signatory_status 'withdrawn'" in unknown["reject_reason"]  # quarantined, not dropped
    assert "'sometime' is not a date" in bad["reject_reason"]


def test_a_changed_or_short_workbook_fails_the_source_loudly():
    with pytest.raises(SourceChanged, match="no sheet .* has the signatories' columns"):
        com.parse(workbook([row()], header=("organisation_id", "name")))
    with pytest.raises(EmptyResult, match="lists 1 signatories"):
        com.parse(workbook([row()]))
    with pytest.raises(SourceChanged, match="not an XLSX workbook"):
        com.parse(b"<html>maintenance</html>")
