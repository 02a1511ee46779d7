"""The open twin-town dataset of the Hekman/twincities project.

~26k pairs scraped from English Wikipedia's "List of twin towns and sister cities in …" pages
and geocoded by the project (coordinates for ~99 % of rows). One CSV file, fetched with a
conditional GET so an unchanged file costs a 304. Each line is stated from the side of the
listing page's city (`city1`), so one partnership often appears twice (once per country page).
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

from extractors.base import EmptyResult, SourceChanged, SourceInfo, response_time
from schemas.records import PARTNERSHIP_ASSERTION

URL = "https://raw.githubusercontent.com/Hekman/twincities/main/app/public/twin_cities.csv"
_SURROGATE = re.compile("[\udc80-\udcff]")
EXPECTED_HEADER = ["city1", "country1", "lat1", "lng1", "city2", "country2", "lat2", "lng2"]

SOURCE = SourceInfo(
    name="twincities_dataset",
    domain="partnerships",
    url=URL,
    licence_id="CC-BY-SA-4.0",
    licence="MIT (code and file); content from Wikipedia, CC BY-SA 4.0",
    attribution="Erik Hekman, github.com/Hekman/twincities; Wikipedia contributors",
    recorded="2026-02-08 (commit 84ebdec26ee6)",
    contract=PARTNERSHIP_ASSERTION,
)


def fetch(http) -> tuple[str, bytes, datetime]:
    # raw.githubusercontent.com serves .csv as text/plain
    response = http.get(URL, headers={"Accept": "text/csv"}, expect=("text/csv", "text/plain"))
    return URL, response.content, response_time(response)


def extract(http) -> list[dict]:
    url, content, extracted_at = fetch(http)
    return parse(content, url=url, extracted_at=extracted_at)


def parse(content: bytes | str, *, url: str = URL, extracted_at: datetime | None = None) -> list[dict]:
    extracted_at = extracted_at or datetime.now(timezone.utc)
    # Undecodable bytes become lone surrogates, so one bad line is quarantined, not the whole file.
    text = content.decode("utf-8-sig", errors="surrogateescape") if isinstance(content, bytes) else content
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise EmptyResult(f"{SOURCE.name}: {url} is empty; expected a CSV with header {EXPECTED_HEADER}")
    if [h.strip() for h in header] != EXPECTED_HEADER:
        raise SourceChanged(f"{SOURCE.name}: header of {url} changed: {header[:10]} (expected {EXPECTED_HEADER})")
    records = [_record(line_no, row, url, extracted_at) for line_no, row in enumerate(reader, start=2) if row]
    if not records:
        raise EmptyResult(f"{SOURCE.name}: {url} has a header but no rows; expected ~26k pairs")
    return records


def _record(line_no: int, row: list[str], url: str, extracted_at: datetime) -> dict:
    reasons = []
    if any(_SURROGATE.search(value) for value in row):
        reasons.append(f"line {line_no} is not valid UTF-8")
        row = [_SURROGATE.sub("\ufffd", value) for value in row]
    if len(row) != len(EXPECTED_HEADER):
        reasons.append(f"line {line_no} has {len(row)} fields, expected {len(EXPECTED_HEADER)}")
        row = (row + [""] * len(EXPECTED_HEADER))[: len(EXPECTED_HEADER)]
    city1, country1, lat1, lng1, city2, country2, lat2, lng2 = (v.strip() for v in row)
    coordinates = []
    for name, value in (("lat1", lat1), ("lng1", lng1), ("lat2", lat2), ("lng2", lng2)):
        number, problem = _coordinate(value, 90 if name.startswith("lat") else 180)
        coordinates.append(number)
        if problem:
            reasons.append(f"{name} {problem}")
    if not city1 or not city2:
        reasons.append("empty city name")
    return {
        "source": SOURCE.name,
        # The file has no ids; the pair as written, with its direction, is the natural key.
        "record_key": f"{city1}|{country1}|{city2}|{country2}",
        "a_name": city1 or None,
        "a_country": country1 or None,
        "a_lat": coordinates[0],
        "a_lon": coordinates[1],
        "b_name": city2 or None,
        "b_country": country2 or None,
        "b_lat": coordinates[2],
        "b_lon": coordinates[3],
        "relation_type": "unspecified",
        "source_url": url,
        "extracted_at": extracted_at,
        "reject_reason": "; ".join(reasons) or None,
    }


def _coordinate(value: str, limit: float) -> tuple[float | None, str | None]:
    """Empty means 'not geocoded' (fine); anything else must be a number within range."""
    if not value:
        return None, None
    try:
        number = float(value)
    except ValueError:
        return None, f"is not a number: {value!r}"
    if not -limit <= number <= limit:
        return None, f"out of range: {value}"
    return number, None
