"""The official register of German municipalities: Destatis Gemeindeverzeichnis (GV-ISys).

The quarterly extract "Auszug GV" lists every level of German administration, one row per unit
with its `Satzart`: 10 Land, 20 Regierungsbezirk, 30 Region, 40 Kreis, 50 Gemeindeverband,
60 Gemeinde. Each Gemeinde row carries the parts of its Amtlicher Gemeindeschlüssel (AGS =
Land + RB + Kreis + Gemeinde, 8 digits), the official name with its title after a comma
("Flensburg, Stadt", "Halle (Westf.), Stadt", "Neustadt a.d.Donau, St"), area, population,
the postcode of the seat and the centroid. `Textkennzeichen` says what a row is (61 kreisfreie
Stadt, 63 Stadt, 64 Gemeinde, 65/66 gemeindefreies Gebiet inhabited/uninhabited, …).

Two layouts of the same table exist, and both are parsed:
- the XLSX Destatis publishes (sheet "Onlineprodukt_Gemeinden", several title rows, a header
  block, typed cells). No recording of it exists yet: a live `--record` run stores it, and the
  contract below (header words, ≥ 10,000 Gemeinde rows, 8-digit AGS) checks it; a workbook that
  does not fit fails the source naming what differs;
- the CSV that tools derive from it (lower-case header `satzart,textkennzeichen,land,…`,
  decimal commas, space as thousands separator, UTF-8 with BOM) — the bundled recording.

Live: the extract is discovered on Destatis' GV-ISys page (the newest "AuszugGV…" workbook
linked there); the `url` option points the source at a file directly (the bundled replay does).
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone
from urllib.parse import urljoin

from bs4 import BeautifulSoup

from extractors.base import EmptyResult, SourceChanged, SourceInfo, open_workbook, response_time
from schemas.records import MUNICIPALITY_REGISTER

#: GV-ISys' page, which links the quarterly and annual tables (Excel).
PAGE = ("https://www.destatis.de/EN/Themes/Countries-Regions/Regional-Statistics/OnlineListMunicipalities/"
        "list-municipalities-information-system.html")
XLSX_TYPES = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream",
              "application/zip")
CSV_TYPES = ("text/csv", "text/plain", "application/octet-stream")
COLUMNS = ["satzart", "textkennzeichen", "land", "rb", "kreis", "vb", "gemeinde", "gemeindename", "flaeche",
           "bevoelkerung", "maennlich", "weiblich", "jekm2", "postleitzahl", "laengengrad", "breitengrad",
           "schluessel", "bezeichnung", "verstaedterungschluessel", "verstaedterungbezeichnung"]
#: Words the XLSX header block must contain (the columns are then taken by position).
XLSX_HEADER_WORDS = ("Satz", "Textkenn", "Gemeindename", "Bevölkerung", "Postleit", "Längengrad", "Breitengrad")
#: Fewer Gemeinde rows than this is not the whole register (there were 10,796 municipalities in 2020).
MIN_MUNICIPALITIES = 10_000
#: What a Gemeinde row is, by Textkennzeichen.
KINDS = {"60": "municipality", "61": "municipality", "62": "municipality", "63": "municipality",
         "64": "municipality", "67": "municipality",
         # 65: an inhabited gemeindefreier Bezirk (Lohheide, Osterheide) has an AGS, people and an
         # administration of its own, so it counts with the municipalities (10,796 in 2020); 66 is
         # uninhabited land (forests, lakes)
         "65": "municipality", "66": "unincorporated_area"}
#: Centroids outside this box are not in Germany.
LAT_RANGE, LON_RANGE = (47.2, 55.1), (5.8, 15.1)

SOURCE = SourceInfo(
    name="destatis_municipalities",
    domain="registers",
    url=PAGE,
    licence_id="DL-DE-BY-2.0",
    licence="Datenlizenz Deutschland – Namensnennung 2.0 (dl-de/by-2-0)",
    attribution="© Statistisches Bundesamt (Destatis), Gemeindeverzeichnis-Informationssystem GV-ISys",
    recorded="Gebietsstand 31.12.2020 (CSV derived from the quarterly XLSX)",
    contract=MUNICIPALITY_REGISTER,
)


def discover(http, page: str = PAGE) -> str:
    """The newest quarterly extract linked from the GV-ISys page."""
    response = http.get(page, expect=("text/html",))
    soup = BeautifulSoup(response.content, "lxml")
    links = [urljoin(page, a["href"]) for a in soup.find_all("a", href=True)
             if re.search(r"AuszugGV.*\.xlsx", a["href"], re.IGNORECASE)]
    if not links:
        raise SourceChanged(f"{SOURCE.name}: no 'AuszugGV….xlsx' link on {page}; the page changed. Point the "
                            "source at the file with the option url=…")
    return links[0]


def extract(http, url: str | None = None) -> list[dict]:
    url = url or discover(http)
    response = http.get(url, expect=XLSX_TYPES + CSV_TYPES)
    return parse(response.content, url=url, extracted_at=response_time(response))


def parse(content: bytes, *, url: str = PAGE, extracted_at: datetime | None = None) -> list[dict]:
    extracted_at = extracted_at or datetime.now(timezone.utc)
    rows = _xlsx_rows(content, url) if content[:4] == b"PK\x03\x04" else _csv_rows(content, url)
    records = list(_records(rows, url, extracted_at))
    municipalities = sum(r["kind"] == "municipality" for r in records)
    if municipalities < MIN_MUNICIPALITIES:
        raise EmptyResult(f"{SOURCE.name}: {url} lists {municipalities:,} municipalities; the whole register has "
                          f"over {MIN_MUNICIPALITIES:,}. Not loaded: a partial register would end the others.")
    return records


def _csv_rows(content: bytes, url: str) -> list[dict]:
    text = content.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:len(COLUMNS)] != COLUMNS:
        raise SourceChanged(f"{SOURCE.name}: header of {url} changed: {header[:8]}… (expected {COLUMNS[:8]}…)")
    return [dict(zip(COLUMNS, row)) for row in reader if row]


def _xlsx_rows(content: bytes, url: str) -> list[dict]:
    workbook = open_workbook(content, url, SOURCE.name)
    sheet = next((workbook[n] for n in workbook.sheetnames if "gemeinden" in n.lower()), workbook.worksheets[-1])
    rows = sheet.iter_rows(values_only=True)
    header_text, data = "", []
    for row in rows:
        first = "" if row[0] is None else str(row[0]).strip()
        if first.isdigit() and len(first) == 2 and header_text:
            data.append(dict(zip(COLUMNS, ("" if v is None else v for v in row))))
        elif not data:
            header_text += " " + " ".join(str(v) for v in row if v is not None)
    missing = [w for w in XLSX_HEADER_WORDS if w.lower() not in header_text.lower()]
    if missing or not data:
        raise SourceChanged(f"{SOURCE.name}: workbook {url} (sheet {sheet.title!r}) does not have the GV-ISys "
                            f"layout: header words missing {missing}, {len(data)} data rows")
    return data


def _records(rows: list[dict], url: str, extracted_at: datetime):
    lands, kreise, verbaende = {}, {}, {}
    for line, row in enumerate(rows, start=2):
        row = {k: ("" if v is None else str(v).strip()) for k, v in row.items()}
        level, land, kreis_key = row["satzart"], row["land"].zfill(2), row["land"].zfill(2) + row["rb"] + row["kreis"]
        if level == "10":
            lands[land] = row["gemeindename"]
        elif level == "40":
            kreise[kreis_key] = row["gemeindename"]
        elif level == "50":
            verbaende[kreis_key + row["vb"]] = row["gemeindename"]
        elif level == "60":
            yield _municipality(line, row, lands, kreise, verbaende, url, extracted_at)


def _municipality(line, row, lands, kreise, verbaende, url, extracted_at) -> dict:
    reasons = []
    land = row["land"].zfill(2)
    ags = land + row["rb"] + row["kreis"].zfill(2) + row["gemeinde"].zfill(3)
    if not re.fullmatch(r"\d{8}", ags):
        reasons.append(f"line {line}: AGS {ags!r} is not 8 digits")
    official = row["gemeindename"]
    name, _, title = official.partition(",")
    if not name.strip():
        reasons.append(f"line {line}: no name")
    lat, lat_problem = _number(row["breitengrad"], float)
    lon, lon_problem = _number(row["laengengrad"], float)
    if lat == 0 and lon == 0:  # the register's "no centroid" (the German-Luxembourg condominium)
        lat = lon = None
    for label, value, problem, bounds in (("latitude", lat, lat_problem, LAT_RANGE),
                                          ("longitude", lon, lon_problem, LON_RANGE)):
        if problem:
            reasons.append(f"line {line}: {label} {problem}")
        elif value is not None and not bounds[0] <= value <= bounds[1]:
            reasons.append(f"line {line}: {label} {value} is outside Germany")
    population, problem = _number(row["bevoelkerung"], int)
    if problem:
        reasons.append(f"line {line}: population {problem}")
    area, problem = _number(row["flaeche"], float)
    if problem:
        reasons.append(f"line {line}: area {problem}")
    kind = KINDS.get(row["textkennzeichen"])
    if kind is None:
        reasons.append(f"line {line}: unknown Textkennzeichen {row['textkennzeichen']!r}")
    kreis_key = land + row["rb"] + row["kreis"].zfill(2)
    return {
        "source": SOURCE.name,
        "record_key": ags,
        "ags": ags,
        "name": name.strip() or None,
        "official_name": official or None,
        "title": title.strip() or None,
        "kind": kind or "municipality",
        "type_code": row["textkennzeichen"] or None,
        "land_code": land,
        "land": lands.get(land),
        "kreis_code": land + row["rb"] + row["kreis"].zfill(2),
        "kreis": kreise.get(kreis_key),
        "verband": verbaende.get(kreis_key + row["vb"]),
        "population": population,
        "area_km2": area,
        "postcode": row["postleitzahl"] or None,
        "lat": lat,
        "lon": lon,
        "source_url": url,
        "extracted_at": extracted_at,
        "reject_reason": "; ".join(reasons) or None,
    }


def _number(text: str, kind):
    """'90 164' → 90164, '9,43751' → 9.43751, 53.02 → 53.02 (XLSX cells arrive typed)."""
    text = text.replace("\u00a0", "").replace(" ", "")
    if not text:
        return None, None
    try:
        if kind is int:
            value = float(text.replace(",", "."))
            if not value.is_integer() or value < 0:
                return None, f"is not a count: {text!r}"
            return int(value), None
        return float(text.replace(",", ".")), None
    except ValueError:
        return None, f"is not a number: {text!r}"
