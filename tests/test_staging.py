"""Staging on real records: every row ends up staged or quarantined, identities and pairs right."""
from datetime import datetime, timezone

import pytest

from extractors import twincities_dataset as tc
from extractors import wikidata_twinnings as wd
from schemas.records import PARTNERSHIP_ASSERTION
from transforms.staging import stage

WHEN = datetime(2026, 2, 8, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def csv_records(bundled_body):
    return tc.parse(bundled_body("GET", tc.URL), extracted_at=WHEN)


def test_real_csv_slice_stages_with_nothing_lost(csv_records, gazetteer_places, name_index):
    german = [r for r in csv_records if r["a_country"] == "Germany"][:1500]
    broken = dict(german[0], record_key="broken", b_name=None)  # a partner name went missing
    staged = stage(PARTNERSHIP_ASSERTION.to_frame(german + [broken, german[1]]), places=gazetteer_places,
                   index=name_index)
    assert staged.accounted and staged.duplicates_collapsed == 1  # german[1] appended twice
    assert len(staged.assertions) + len(staged.rejected) == len(german) + 1
    rejected = staged.rejected.set_index("record_key")
    assert "municipality_b_id" in rejected.loc["broken", "reject_reason"] or "b_name" in rejected.loc["broken", "reject_reason"]
    assert staged.assertions["partnership_key"].notna().all()
    assert set(staged.assertions["municipality_a_id"]) <= set(staged.municipalities["municipality_id"])
    assert staged.municipalities["municipality_id"].is_unique
    resolved = staged.municipalities[staged.municipalities["country_code"] == "DE"]["geonames_id"].notna().mean()
    assert resolved > 0.85


def test_same_pair_from_both_directions_gets_one_key(csv_records, gazetteer_places, name_index):
    köln = [r for r in csv_records if r["a_name"] in ("Cologne", "Köln") and r["a_country"] == "Germany"][:5]
    assert köln, "Cologne's partners are in the real file"
    reverse = [dict(r, record_key=r["record_key"] + "|rev", a_name=r["b_name"], a_country=r["b_country"],
                    a_lat=r["b_lat"], a_lon=r["b_lon"], b_name=r["a_name"], b_country=r["a_country"],
                    b_lat=r["a_lat"], b_lon=r["a_lon"]) for r in köln]
    staged = stage(PARTNERSHIP_ASSERTION.to_frame(köln + reverse), places=gazetteer_places, index=name_index)
    keys = staged.assertions.groupby(staged.assertions["record_key"].str.removesuffix("|rev"))["partnership_key"].nunique()
    assert (keys == 1).all()
    assert staged.assertions["partnership_key"].str.contains("gn:2886242").all()  # Köln's GeoNames id


def test_wikidata_labels_resolve_and_keep_qids(bundled_body, gazetteer_places, name_index):
    records = wd.parse(bundled_body("POST", wd.ENDPOINT, data=wd.request()["data"]), extracted_at=WHEN)[:400]
    staged = stage(PARTNERSHIP_ASSERTION.to_frame(records), places=gazetteer_places, index=name_index)
    berlin = staged.municipalities.set_index("municipality_id").loc["gn:2950159"]
    assert berlin["wikidata_qid"] == "Q64" and berlin["country_code"] == "DE"
    assert staged.accounted


def test_out_of_range_year_goes_to_quarantine_with_the_expectation(csv_records, gazetteer_places, name_index):
    rows = [dict(r, start_raw=year) for r, year in zip(csv_records[:3], ["1958?", "c. 1990", "2999"])]
    staged = stage(PARTNERSHIP_ASSERTION.to_frame(rows), places=gazetteer_places, index=name_index)
    assert sorted(staged.assertions["start_year"].dropna().tolist()) == [1958, 1990]
    [reason] = staged.rejected["reject_reason"].tolist()
    assert "ExpectColumnValuesToBeBetween(start_year)" in reason
    summary = {r["expectation"]: r for r in staged.quality[-1].results}
    assert summary["ExpectColumnValuesToBeBetween(start_year)"]["unexpected_count"] == 1


def test_partner_by_name_only_is_never_the_municipality_itself(bundled_body, gazetteer_places, name_index):
    """Real 2017 row: Senftenberg (DE, Q491754) twinned with Senftenberg (AT, Q700286), no country."""
    records = [r for r in wd.parse(bundled_body("POST", wd.ENDPOINT, data=wd.request()["data"]), extracted_at=WHEN)
               if r["record_key"] == "Q491754-Q700286"]
    staged = stage(PARTNERSHIP_ASSERTION.to_frame(records), places=gazetteer_places, index=name_index)
    [row] = staged.assertions.to_dict("records")
    assert row["municipality_a_id"].startswith("gn:") and row["municipality_b_id"] == "wd:Q700286"
    partner = staged.municipalities.set_index("municipality_id").loc["wd:Q700286"]
    assert partner["match_status"] == "unresolved" and partner["name"] == "Senftenberg"


def test_partner_without_label_is_quarantined_naming_the_check(bundled_body, gazetteer_places, name_index):
    records = wd.parse(bundled_body("POST", wd.ENDPOINT, data=wd.request()["data"]), extracted_at=WHEN)
    unlabeled = [r for r in records if r["b_name"] is None][:2]
    assert unlabeled, "the real 2017 result has partners whose label is only their QID"
    staged = stage(PARTNERSHIP_ASSERTION.to_frame(unlabeled + records[:50]), places=gazetteer_places, index=name_index)
    reasons = staged.rejected.set_index("record_key").loc[[r["record_key"] for r in unlabeled], "reject_reason"]
    assert reasons.str.contains(r"municipality wd:Q\d+: has no name .*\[ExpectColumnValuesToNotBeNull\(name\)\]").all()
