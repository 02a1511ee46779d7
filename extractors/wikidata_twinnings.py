"""Wikidata P190 ("twinned administrative body") of German municipalities.

Live: one SPARQL query against the Wikidata Query Service (WDQS), both directions of P190,
statement-level so that start/end qualifiers and reference URLs come along. WDQS asks for a
descriptive User-Agent, honours Retry-After on 429 and bans clients that ignore it — all of
which the shared HTTP layer does. One query returns every row (no pagination); it stays well
inside the 60 s timeout (~15k statements).

Also here: a parser for Wikidata entity JSON (`wbgetentities`), which carries qualifier
precision (year vs day) that SPARQL's `wdt:` shortcut loses; used by `citylinks parse`
and for checking single municipalities.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from extractors.base import SPARQL_TYPES, EmptyResult, SourceChanged, SourceInfo, response_time
from schemas.records import PARTNERSHIP_ASSERTION

ENDPOINT = "https://query.wikidata.org/sparql"
ENTITY_PREFIX = "http://www.wikidata.org/entity/"
QUERY = (Path(__file__).parent / "queries" / "wikidata_p190_germany.rq").read_text(encoding="utf-8")

SOURCE = SourceInfo(
    name="wikidata_twinnings",
    domain="partnerships",
    url=ENDPOINT,
    licence_id="CC0-1.0",
    licence="CC0 1.0",
    attribution="Wikidata (wikidata.org), CC0",
    recorded="2017-02 (P190 of German cities, labels only)",
    contract=PARTNERSHIP_ASSERTION,
)

#: Variables without which a row is not an assertion at all.
REQUIRED_VARS = ("city", "partner")
#: Wikidata time precision → how many characters of "YYYY-MM-DD" the value really has.


def request() -> dict[str, Any]:
    """The exact request made live; bundled recordings are keyed on it."""
    return {"url": ENDPOINT, "data": {"query": QUERY, "format": "json"},
            "headers": {"Accept": "application/sparql-results+json"}}


def fetch(http) -> tuple[str, bytes, datetime]:
    req = request()
    response = http.post(req["url"], data=req["data"], headers=req["headers"], expect=SPARQL_TYPES)
    return req["url"], response.content, response_time(response)


def extract(http) -> list[dict]:
    url, content, extracted_at = fetch(http)
    return parse(content, url=url, extracted_at=extracted_at)


def _load(content: bytes | str | dict, url: str) -> dict:
    if isinstance(content, dict):
        return content
    try:
        return json.loads(content)
    except ValueError as exc:
        raise SourceChanged(f"{SOURCE.name}: response from {url} is not JSON ({exc!s:.200})") from exc


def sparql_rows(content: bytes | str | dict, *, url: str) -> tuple[list[str], list[dict[str, str | None]]]:
    """SPARQL 1.1 JSON results → (vars, rows); unbound OPTIONAL variables become None."""
    try:
        document = _load(content, url)
        variables = list(document["head"]["vars"])
        bindings = document["results"]["bindings"]
    except (SourceChanged, KeyError, TypeError) as exc:
        raise SourceChanged(f"{SOURCE.name}: response from {url} is not SPARQL JSON results ({exc!s:.200})") from exc
    rows = [{var: (binding.get(var) or {}).get("value") for var in variables} for binding in bindings]
    return variables, rows


def parse(content: bytes | str, *, url: str = ENDPOINT, extracted_at: datetime | None = None) -> list[dict]:
    """A WDQS result of the P190 query — or, for `citylinks parse`, a saved entity JSON."""
    extracted_at = extracted_at or datetime.now(timezone.utc)
    try:
        document = _load(content, url)
    except SourceChanged as exc:
        raise SourceChanged(f"{exc} — not SPARQL JSON results") from exc
    if isinstance(document, dict) and "head" not in document and ("entities" in document or "claims" in document):
        return parse_entities(document, url=url, extracted_at=extracted_at)
    variables, rows = sparql_rows(document, url=url)
    missing = [v for v in REQUIRED_VARS if v not in variables]
    if missing:
        raise SourceChanged(f"{SOURCE.name}: SPARQL result from {url} lacks variables {missing}; has {variables}")
    if not rows:
        raise EmptyResult(f"{SOURCE.name}: SPARQL result from {url} has no rows; expected thousands of P190 links")

    by_key: dict[str, list[dict]] = {}
    for row in rows:
        record = _record(row, url=url, extracted_at=extracted_at)
        by_key.setdefault(record["record_key"], []).append(record)
    return [_one_per_statement(group) for group in by_key.values()]


def _one_per_statement(group: list[dict]) -> dict:
    """One record per P190 statement from the rows WDQS returns for it.

    A statement between two German municipalities comes back twice, once per UNION branch with
    the roles swapped: keep the branch whose city owns the statement (its id starts with the
    city's QID), never mixing the two directions. Several values of a multi-valued property
    (P17, P1566, P625, references) repeat the row: take the smallest, so the choice is the same
    every night whatever order the endpoint returns.
    """
    owner = group[0]["record_key"].split("-", 1)[0].upper()
    same_direction = [r for r in group if (r["a_qid"] or "").upper() == owner] or [group[0]]
    oriented = [r for r in same_direction if (r["a_qid"], r["b_qid"]) == (same_direction[0]["a_qid"], same_direction[0]["b_qid"])]
    merged = dict(oriented[0])
    for column in merged:
        values = [r[column] for r in oriented if r[column] is not None]
        if values and column not in ("extracted_at",):
            merged[column] = min(values, key=lambda v: (str(type(v)), v))
    return merged


def _record(row: dict[str, str | None], *, url: str, extracted_at: datetime) -> dict:
    city, partner = _qid(row.get("city")), _qid(row.get("partner"))
    reason = None
    if not city or not partner:
        reason = f"binding without a Wikidata item for city/partner: {row.get('city')!r} / {row.get('partner')!r}"
    city_lat, city_lon = _wkt_point(row.get("cityCoord"))
    partner_lat, partner_lon = _wkt_point(row.get("partnerCoord"))
    statement = row.get("stmt")
    key = statement.rsplit("/", 1)[-1] if statement else f"{city}-{partner}"
    return {
        "source": SOURCE.name,
        "record_key": key,
        "a_name": _label(row.get("cityLabel"), city),
        "a_country": "DE",  # the query selects items carrying a German municipality key (P439)
        "a_qid": city,
        "a_ags": row.get("ags"),
        "a_geonames_id": _int(row.get("cityGeonames")),
        "a_lat": city_lat,
        "a_lon": city_lon,
        "b_name": _label(row.get("partnerLabel"), partner),
        "b_country": row.get("partnerCountryCode"),
        "b_qid": partner,
        "b_geonames_id": _int(row.get("partnerGeonames")),
        "b_lat": partner_lat,
        "b_lon": partner_lon,
        "relation_type": "unspecified",  # P190 does not distinguish partnership from friendship
        "start_raw": _time(row.get("start"), row.get("startPrecision")),
        "end_raw": _time(row.get("end"), row.get("endPrecision")),
        "reference_url": row.get("refURL"),
        "source_url": f"https://www.wikidata.org/wiki/{city}#P190" if city else url,
        "extracted_at": extracted_at,
        "reject_reason": reason,
    }


def _qid(value: str | None) -> str | None:
    if value and value.startswith(ENTITY_PREFIX):
        return value[len(ENTITY_PREFIX):]
    return None


def _label(label: str | None, qid: str | None) -> str | None:
    """WDQS falls back to the QID itself when an item has no label in the asked languages."""
    if label and label != qid:
        return label
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _wkt_point(value: str | None) -> tuple[float | None, float | None]:
    """'Point(6.95 50.94)' (lon lat) → (lat, lon)."""
    if not value or not value.startswith("Point("):
        return None, None
    try:
        lon, lat = value[len("Point("):-1].split()
        return float(lat), float(lon)
    except ValueError:
        return None, None


def _time(value: str | None, precision: str | None) -> str | None:
    """Keep only the parts the stated precision vouches for: '+1953-00-00…' at year precision is
    '1953'. The year is kept whole ('+99999-…' is '99999', for the quality gate to judge)."""
    if not value:
        return None
    match = re.match(r"^([+-]?)(\d+)-(\d{2})-(\d{2})", value)
    if not match:
        return value  # not a Wikidata time: keep it as written
    sign, year, month, day = match.groups()
    year = ("-" if sign == "-" else "") + (year.lstrip("0") or "0").rjust(4, "0")
    precision_code = _int(precision) or 11
    if precision_code <= 9:
        return year
    return f"{year}-{month}" if precision_code == 10 else f"{year}-{month}-{day}"


# --- Wikidata entity JSON (wbgetentities / Special:EntityData) -------------------------------

def entity_objects(content: bytes | str | dict, *, url: str, source: str) -> list[dict]:
    """The entities of a `wbgetentities` envelope or a bare entity object; an API error or any
    other shape fails `source`."""
    document = _load(content, url)
    if "error" in document:
        raise SourceChanged(f"{source}: API error from {url}: {document['error']}")
    entities = document.get("entities", {"_": document} if "claims" in document else None)
    if not isinstance(entities, dict):
        raise SourceChanged(f"{source}: response from {url} holds no entities")
    return list(entities.values())


def parse_entities(content: bytes | str | dict, *, url: str, extracted_at: datetime | None = None) -> list[dict]:
    """P190 statements of every entity in a `wbgetentities` envelope or a bare entity object."""
    extracted_at = extracted_at or datetime.now(timezone.utc)
    records = []
    for entity in entity_objects(content, url=url, source=SOURCE.name):
        records.extend(entity_records(entity, url=url, extracted_at=extracted_at))
    return records


def entity_records(entity: dict, *, url: str, extracted_at: datetime) -> list[dict]:
    qid = entity.get("id")
    claims = entity.get("claims", {})
    ags = _string_claim(claims, "P439")
    label = _entity_label(entity)
    records = []
    for statement in claims.get("P190", []):
        if statement.get("rank") == "deprecated":
            continue
        snak = statement.get("mainsnak", {})
        partner = ((snak.get("datavalue") or {}).get("value") or {}).get("id")
        qualifiers = statement.get("qualifiers", {})
        records.append({
            "source": SOURCE.name,
            "record_key": statement.get("id") or f"{qid}-{partner}",
            "a_name": label,
            "a_country": "DE" if ags else None,
            "a_qid": qid,
            "a_ags": ags,
            "b_qid": partner,
            "b_name": None,
            "relation_type": "unspecified",
            "start_raw": _qualifier_time(qualifiers, "P580"),
            "end_raw": _qualifier_time(qualifiers, "P582"),
            "reference_url": _reference_url(statement),
            "source_url": f"https://www.wikidata.org/wiki/{qid}#P190",
            "extracted_at": extracted_at,
            "reject_reason": None if partner else f"P190 statement without an item value ({snak.get('snaktype')})",
        })
    return records


def _entity_label(entity: dict) -> str | None:
    labels = entity.get("labels", {})
    for language in ("de", "en"):
        if language in labels:
            return labels[language].get("value")
    return next((v.get("value") for v in labels.values()), None)


def _string_claim(claims: dict, prop: str) -> str | None:
    for statement in claims.get(prop, []):
        value = (statement.get("mainsnak", {}).get("datavalue") or {}).get("value")
        if isinstance(value, str):
            return value
    return None


def _qualifier_time(qualifiers: dict, prop: str) -> str | None:
    for snak in qualifiers.get(prop, []):
        value = (snak.get("datavalue") or {}).get("value")
        if isinstance(value, dict) and value.get("time"):
            return _time(value["time"], str(value.get("precision", 11)))
    return None


def _reference_url(statement: dict) -> str | None:
    for reference in statement.get("references", []):
        for snak in reference.get("snaks", {}).get("P854", []):
            value = (snak.get("datavalue") or {}).get("value")
            if value:
                return value
    return None
