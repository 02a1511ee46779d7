"""Twin-cities CSV extractor on the real file."""
from datetime import datetime, timezone

import pytest

from extractors import twincities_dataset as tc
from extractors.base import EmptyResult, SourceChanged

WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def real_csv(bundled_body):
    return bundled_body("GET", tc.URL)


def test_real_file_parses_every_line(real_csv):
    records = tc.parse(real_csv, extracted_at=WHEN)
    assert len(records) == real_csv.count(b"\n") - 1
    first = records[0]
    assert (first["a_name"], first["a_country"], first["b_name"], first["b_country"]) == ("Berat", "Albania", "Amasya", "Turkey")
    assert first["a_lat"] == pytest.approx(40.7022)
    assert not any(r["reject_reason"] for r in records)


def test_changed_header_fails_loudly(real_csv):
    changed = real_csv.replace(b"city1,country1", b"town1,nation1", 1)
    with pytest.raises(SourceChanged, match="header"):
        tc.parse(changed)


@pytest.mark.parametrize("content", [b"", b"city1,country1,lat1,lng1,city2,country2,lat2,lng2\n"])
def test_empty_file_is_an_error(content):
    with pytest.raises(EmptyResult):
        tc.parse(content)


def test_malformed_rows_are_kept_with_a_reason(real_csv):
    header, first, second, *_ = real_csv.decode().splitlines()
    bad_number = first.replace("40.7022", "40,7O22", 1)  # a typo'd latitude
    short = ",".join(second.split(",")[:5])
    out_of_range = first.replace("19.9583", "199.9583", 1)
    records = tc.parse("\n".join([header, bad_number, short, out_of_range, second]).encode())
    assert len(records) == 4
    assert "not a number" in records[0]["reject_reason"] or "fields" in records[0]["reject_reason"]
    assert "fields" in records[1]["reject_reason"]
    assert "out of range" in records[2]["reject_reason"]
    assert records[3]["reject_reason"] is None
