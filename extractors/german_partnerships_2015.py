"""A 2015 list of 7,137 partnerships of German municipalities with the RGRE's categories.

One CSV (`muenchdo/TwinTowns`, data/data/partnerstaedte_final.csv, 2015-06-18): per line the
German municipality (`gemeindename`, its `plz` — leading zero lost: "6108" is 06108 —,
`bundesland`, coordinates), the partner (`partnergemeinde`, country in German: "Tschech.
Republik", "Rußland"; continent), the year since (`seit`) and `form`, the category of the
Council of European Municipalities and Regions' German section: p Partnerschaft, f
Freundschaft, k Kontakt. The collector geocoded both sides; those coordinates carry real errors
(a partner placed at a namesake: "Bern, Schweiz" in the Netherlands) and are used only as
evidence next to the names, never alone. Its per-Land counts match the RGRE database of the time.

The file has no ids: a line's key is the German side (name + postcode) and the partner as
written. Live: the same file's public URL, recorded on the first `--record` run.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

from extractors.base import EmptyResult, SourceChanged, SourceInfo, response_time
from extractors.cells import coordinate
from schemas.records import PARTNERSHIP_ASSERTION

URL = "https://raw.githubusercontent.com/muenchdo/TwinTowns/6144481b3684/data/data/partnerstaedte_final.csv"
EXPECTED_HEADER = ["gemeindename", "plz", "bundesland", "latitude", "longitude", "partnergemeinde", "land",
                   "kontinent", "seit", "form", "latitude_partner", "longitude_partner"]
#: The RGRE categories.
RELATIONS = {"p": "partnership", "f": "friendship", "k": "contact", "": "unspecified"}
MIN_ROWS = 5_000

SOURCE = SourceInfo(
    name="german_partnerships_2015",
    domain="partnerships",
    url=URL,
    licence_id="MIT",
    licence="repository MIT; facts (categories as the RGRE publishes them)",
    attribution="github.com/muenchdo/TwinTowns (2015), after the RGRE partnership database",
    recorded="2015-06-18 (commit 6144481b3684)",
    contract=PARTNERSHIP_ASSERTION,
)


def extract(http, url: str = URL) -> list[dict]:
    response = http.get(url, headers={"Accept": "text/csv"}, expect=("text/csv", "text/plain"))
    return parse(response.content, url=url, extracted_at=response_time(response))


def parse(content: bytes | str, *, url: str = URL, extracted_at: datetime | None = None) -> list[dict]:
    extracted_at = extracted_at or datetime.now(timezone.utc)
    text = content.decode("utf-8-sig", errors="replace") if isinstance(content, bytes) else content
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    if header != EXPECTED_HEADER:
        raise SourceChanged(f"{SOURCE.name}: header of {url} changed: {header[:12]} (expected {EXPECTED_HEADER})")
    records = [_record(line, row, url, extracted_at) for line, row in enumerate(reader, start=2) if row]
    if len(records) < MIN_ROWS:
        raise EmptyResult(f"{SOURCE.name}: {url} has {len(records):,} rows; the list has ~7,100")
    return records


def _record(line: int, row: list[str], url: str, extracted_at: datetime) -> dict:
    reasons = []
    if len(row) != len(EXPECTED_HEADER):
        reasons.append(f"line {line} has {len(row)} fields, expected {len(EXPECTED_HEADER)}")
        row = (row + [""] * len(EXPECTED_HEADER))[:len(EXPECTED_HEADER)]
    (name, plz, land, lat, lon, partner, country, _continent, since, form, p_lat, p_lon) = (v.strip() for v in row)
    if form not in RELATIONS:
        reasons.append(f"line {line}: unknown category {form!r} (expected p, f, k)")
    if not name or not partner:
        reasons.append(f"line {line}: empty municipality name")
    postcode = plz.zfill(5) if re.fullmatch(r"\d{4,5}", plz) else None
    if plz and postcode is None:
        reasons.append(f"line {line}: postcode {plz!r} is not a German postcode")
    coordinates = [coordinate(v, limit) for v, limit in ((lat, 90), (lon, 180), (p_lat, 90), (p_lon, 180))]
    return {
        "source": SOURCE.name,
        "record_key": f"{name}|{postcode or plz}|{partner}|{country}",
        "a_name": name or None,
        "a_country": "DE",
        "a_region": land or None,
        "a_postcode": postcode,
        "a_lat": coordinates[0],
        "a_lon": coordinates[1],
        "b_name": partner or None,
        "b_country": country or None,
        "b_lat": coordinates[2],
        "b_lon": coordinates[3],
        "relation_type": RELATIONS.get(form, "unspecified"),
        "start_raw": since or None,
        "source_url": url,
        "extracted_at": extracted_at,
        "reject_reason": "; ".join(reasons) or None,
    }
