"""Member lists of ten European city networks, as collected for the BD ETMUN research database.

One workbook (P. Gourdon, 2016–19), one sheet per network named "<UIA code>_<name>" with the
columns Full_Name, Locality_Siege, CountryCode, Continent, Region, Y, X, Pop_collect, Statut,
Entity, Year_of_Joining, Note, Network_Name, Code_Network: Climate Alliance/Klima-Bündnis
(1,742, join year for all), EUROCITIES (status Full Member), ECCAR, ICLEI (join year, Associated
Partner), Energy Cities, UBC (join year), Cittaslow, WHO Healthy Cities ("Phase VI"), C40, Peace
Messenger Cities. Members are typed by the collector (Municipality, City, District, Region,
Intermunicipality, National Association …); names come in local, English or French forms;
coordinates (Y = latitude, X = longitude, text) only for some networks.

A static snapshot: it is the reference a live member page is compared against, and the only
source of join years for several networks. No live URL besides the copy it was taken from.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from extractors.base import EmptyResult, SourceChanged, SourceInfo, number_repeated_keys, open_workbook, response_time
from extractors.cells import coordinate
from schemas.records import MEMBERSHIP_ASSERTION

URL = ("https://raw.githubusercontent.com/pgourdongeo/Chap3_LocationalAnalysis/78eaac08ed77/ETMUN/DataSource/"
       "ETMUN_MemberCitiesCollect.xlsx")
XLSX_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream")
COLUMNS = ("Full_Name", "Locality_Siege", "CountryCode", "Y", "X", "Pop_collect", "Statut", "Entity",
           "Year_of_Joining", "Network_Name", "Code_Network")
#: The collector's network codes (UIA) → the network keys of schemas/networks.yaml.
NETWORKS = {"04477": "energy_cities", "17030": "union_of_baltic_cities", "03210": "cittaslow",
            "04621": "eurocities", "02194": "peace_messenger_cities", "03241": "climate_alliance",
            "F3238": "who_healthy_cities", "13963": "iclei", "02723": "c40", "10538": "eccar"}
#: The collector's entity types → member kinds.
KINDS = {"municipality": "municipality", "city": "municipality", "municipal authority": "municipality",
         "municipal administration": "municipality", "inframunicipal authority": "borough",
         "district": "district", "county": "district", "county authority": "district",
         "region": "region", "regional authority": "region", "regional authorities": "region",
         "intermunicipality": "association", "intermuncipality": "association",
         "intermunicipal authority": "association", "intercommunality": "association",
         "association of municipalities": "association", "national association": "organisation",
         "regional association": "organisation", "international association": "organisation",
         "local association": "organisation", "other": "other"}
STATUSES = {"member": "member", "full member": "full", "associated partner": "associate", "phase vi": "member"}
#: Fewer members than this over all sheets is not the workbook (2,923 rows in the 2016–19 copy).
MIN_ROWS = 2_000

SOURCE = SourceInfo(
    name="etmun_member_lists",
    domain="memberships",
    url=URL,
    licence_id="LicenseRef-Facts-No-Licence",
    licence="no licence stated: facts compiled from the networks' public member lists",
    attribution="BD ETMUN (P. Gourdon, 2016–2019), after the networks' own member lists",
    recorded="2016–2019 collection (Eurocities 2018)",
    contract=MEMBERSHIP_ASSERTION,
)


def extract(http, url: str = URL) -> list[dict]:
    response = http.get(url, expect=XLSX_TYPES)
    return parse(response.content, url=url, extracted_at=response_time(response))


def parse(content: bytes, *, url: str = URL, extracted_at: datetime | None = None) -> list[dict]:
    extracted_at = extracted_at or datetime.now(timezone.utc)
    workbook = open_workbook(content, url, SOURCE.name)
    records, sheets = [], 0
    for sheet in workbook.worksheets:
        rows = sheet.iter_rows(values_only=True)
        header = [str(v).strip() if v is not None else "" for v in (next(rows, None) or ())]
        if not all(column in header for column in COLUMNS):
            continue  # the "Meta data" sheet
        sheets += 1
        for line, row in enumerate(rows, start=2):
            values = dict(zip(header, row))
            if any(values.get(c) not in (None, "") for c in COLUMNS):
                records.append(_record(sheet.title, line, values, url, extracted_at))
    if not sheets:
        raise SourceChanged(f"{SOURCE.name}: no sheet of {url} has the member-list columns ({', '.join(COLUMNS)})")
    if len(records) < MIN_ROWS:
        raise EmptyResult(f"{SOURCE.name}: {url} lists {len(records):,} members; the workbook has ~2,900")
    return number_repeated_keys(records)  # two Münsters in one list are two members


def _record(sheet: str, line: int, row: dict, url: str, extracted_at: datetime) -> dict:
    reasons = []
    code = _text(row.get("Code_Network")) or sheet.split("_", 1)[0]
    network = NETWORKS.get(code) or _slug(_text(row.get("Network_Name")) or sheet)
    name = _text(row.get("Full_Name"))
    locality = _text(row.get("Locality_Siege"))
    if not name:
        reasons.append(f"{sheet} row {line}: no member name")
    entity = (_text(row.get("Entity")) or "").lower()
    kind = KINDS.get(entity)
    if entity and kind is None:
        reasons.append(f"{sheet} row {line}: unknown member type {row.get('Entity')!r}")
    year = row.get("Year_of_Joining")
    since_year = year if isinstance(year, int) and 1900 <= year <= 2100 else None
    if year not in (None, "") and since_year is None:
        reasons.append(f"{sheet} row {line}: year of joining {year!r} is not a year")
    raw_status = (_text(row.get("Statut")) or "").lower()
    return {
        "source": SOURCE.name,
        "record_key": f"{code}|{name or ''}|{locality or ''}",  # numbered where namesakes repeat it
        "network": network,
        "member_id": None,
        "member_name": name,
        "member_kind": kind,
        "member_country": _text(row.get("CountryCode")),
        "member_lat": coordinate(row.get("Y"), 90),
        "member_lon": coordinate(row.get("X"), 180),
        "member_population": _population(row.get("Pop_collect")),
        "status": STATUSES.get(raw_status, raw_status or None),
        "since_raw": str(year) if year not in (None, "") else None,
        "since_year": since_year,
        "source_url": url,
        "extracted_at": extracted_at,
        "reject_reason": "; ".join(reasons) or None,
    }


def _text(value) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _population(value) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
