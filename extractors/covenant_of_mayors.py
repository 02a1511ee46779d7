"""Covenant of Mayors signatories: the JRC open-data workbook "GCoM – MyCovenant".

One XLSX per release (the bundled one: 5th release, January 2024, 11,973 signatories), sheet
"1" ORGANISATIONS-SIGNATORIES with the columns its METADATA sheet documents: organisation_id
(the MyCovenant id; the record key), organisation_name (a municipality, or a group of them
"Alkmaar, Bergen, Castricum, …"), lower-case ISO2 country_code (the EU's "el"/"uk" forms too),
population_adhesion, organisation_latitude/longitude (numbers, or text with a decimal comma,
"-" or "null" for missing), commitment flags (CoM 2020, CoM 2030, CoM 2050, Mayors Adapt),
adhesion_type, signatory_status ("published" = active, "on_hold" = suspended for not
reporting), date_of_adhesion (a date cell, or an Excel serial day where the cell is not
date-formatted), group_profile, gcom_id.

Live: the newest release is discovered on the JRC data catalogue's landing page (the first
"…Signatories….xlsx" it links); the `url` option points at a file directly. No recording of
the landing page exists yet: a live `--record` run stores it, and the workbook is checked against
the header words below and ≥ 5,000 signatories.


"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from urllib.parse import urljoin

from bs4 import BeautifulSoup

from extractors.base import EmptyResult, SourceChanged, SourceInfo, open_workbook, response_time
from extractors.cells import coordinate, number
from schemas.records import MEMBERSHIP_ASSERTION

LANDING_PAGE = "https://data.jrc.ec.europa.eu/dataset/b425918f-53a1-495c-8619-cd370c302eb0"
NETWORK = "covenant_of_mayors"
XLSX_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream",
              "application/zip")
#: Columns the signatories sheet must have (found by these, wherever the sheet sits).
REQUIRED = ("organisation_id", "organisation_name", "country_code", "organisation_latitude",
            "organisation_longitude", "signatory_status", "date_of_adhesion", "commitment_CoM2020_flag",
            "commitment_CoM2030_flag", "commitment_CoM2050_flag", "commitment_mayoradapt_flag", "group_profile")
#: Fewer signatories than this is not the whole list (11,973 in January 2024).
MIN_ROWS = 5_000
STATUSES = {"published": "active", "on_hold": "suspended", "on-hold": "suspended"}
COMMITMENTS = {"commitment_CoM2020_flag": "com2020", "commitment_CoM2030_flag": "com2030",
               "commitment_CoM2050_flag": "com2050", "commitment_mayoradapt_flag": "mayors_adapt"}
#: The EU's own country codes where ISO 3166-1 differs.
EU_CODES = {"EL": "GR", "UK": "GB"}
MISSING = {"", "-", "null", "none", "n/a"}

SOURCE = SourceInfo(
    name="covenant_of_mayors",
    domain="memberships",
    url=LANDING_PAGE,
    licence_id="CC-BY-4.0",
    licence="CC BY 4.0",
    attribution="European Commission, Joint Research Centre (JRC): GCoM – MyCovenant, CC BY 4.0",
    recorded="5th release, January 2024 (df1_Signatories_2024.xlsx)",
    contract=MEMBERSHIP_ASSERTION,
)


def discover(http, page: str = LANDING_PAGE) -> str:
    """The newest signatories workbook linked from the JRC landing page."""
    response = http.get(page, expect=("text/html",))
    soup = BeautifulSoup(response.content, "lxml")
    links = [urljoin(page, a["href"]) for a in soup.find_all("a", href=True)
             if re.search(r"signator\w*[^/]*\.xlsx", a["href"], re.IGNORECASE)]
    if not links:
        raise SourceChanged(f"{SOURCE.name}: no '…Signatories….xlsx' link on {page}; the page changed. Point the "
                            "source at the file with the option url=…")
    return links[0]


def extract(http, url: str | None = None) -> list[dict]:
    url = url or discover(http)
    response = http.get(url, expect=XLSX_TYPES)
    return parse(response.content, url=url, extracted_at=response_time(response))


def parse(content: bytes, *, url: str = LANDING_PAGE, extracted_at: datetime | None = None) -> list[dict]:
    extracted_at = extracted_at or datetime.now(timezone.utc)
    workbook = open_workbook(content, url, SOURCE.name)
    header, rows = _signatories(workbook, url)
    records = [_record(line, dict(zip(header, row)), url, extracted_at)
               for line, row in enumerate(rows, start=2) if any(v not in (None, "") for v in row)]
    if len(records) < MIN_ROWS:
        raise EmptyResult(f"{SOURCE.name}: {url} lists {len(records):,} signatories; the list has ~12,000")
    return records


def _signatories(workbook, url: str):
    for sheet in workbook.worksheets:
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None)
        header = [str(v).strip() if v is not None else "" for v in (first or ())]
        if all(column in header for column in REQUIRED):
            return header, rows
    raise SourceChanged(f"{SOURCE.name}: no sheet of {url} has the signatories' columns "
                        f"({', '.join(REQUIRED)}); sheets: {', '.join(workbook.sheetnames)}")


def _record(line: int, row: dict, url: str, extracted_at: datetime) -> dict:
    reasons = []
    member_id = _text(row.get("organisation_id"))
    name = _text(row.get("organisation_name"))
    if not member_id or not name:
        reasons.append(f"row {line}: no organisation id or name")
    raw_status = (_text(row.get("signatory_status")) or "").lower()
    status = STATUSES.get(raw_status)
    if status is None:
        reasons.append(f"row {line}: unknown signatory_status {raw_status!r}")
    since = _adhesion(row.get("date_of_adhesion"))
    if row.get("date_of_adhesion") not in (None, "") and _text(row.get("date_of_adhesion")) and since is None:
        reasons.append(f"row {line}: date_of_adhesion {row.get('date_of_adhesion')!r} is not a date")
    country = (_text(row.get("country_code")) or "").upper()
    return {
        "source": SOURCE.name,
        "record_key": member_id or f"row {line}",
        "network": NETWORK,
        "member_id": member_id,
        "member_name": name,
        "member_kind": "group" if row.get("group_profile") is True else None,
        "member_country": EU_CODES.get(country, country) or None,
        "member_lat": coordinate(row.get("organisation_latitude"), 90),
        "member_lon": coordinate(row.get("organisation_longitude"), 180),
        "member_population": _integer(row.get("population_adhesion")),
        "status": status or raw_status or None,
        "since_raw": _text(row.get("date_of_adhesion")) if not isinstance(row.get("date_of_adhesion"), datetime)
        else row["date_of_adhesion"].date().isoformat(),
        "since_date": since.isoformat() if since else None,
        "since_year": since.year if since else None,
        "commitments": ";".join(flag for column, flag in COMMITMENTS.items() if row.get(column) is True) or None,
        "source_url": url,
        "extracted_at": extracted_at,
        "reject_reason": "; ".join(reasons) or None,
    }


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in MISSING else text


def _integer(value) -> int | None:
    found = number(value)
    return int(found) if found is not None and found >= 0 else None


def _adhesion(value) -> date | None:
    """A date cell; an Excel serial day (a cell without date format); an ISO or d/m/Y string."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        return from_excel(value).date() if 1 <= value < 2_958_466 else None
    text = _text(value)
    if text is None:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None
