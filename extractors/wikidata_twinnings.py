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

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from extractors.base import SPARQL_TYPES, EmptyResult, SourceChanged, SourceInfo, response_time
from extractors.wikidata import (
    ENDPOINT,
    as_int,
    entity_label,
    entity_objects,
    label,
    load_json,
    qid,
    qualifier_time,
    reference_url,
    sparql_rows,
    string_claim,
    wikidata_time,
    wkt_point,
)
from schemas.records import PARTNERSHIP_ASSERTION

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


def parse(content: bytes | str, *, url: str = ENDPOINT, extracted_at: datetime | None = None) -> list[dict]:
    """A WDQS result of the P190 query — or, for `citylinks parse`, a saved entity JSON."""
    extracted_at = extracted_at or datetime.now(timezone.utc)
    try:
        document = load_json(content, url, SOURCE.name)
    except SourceChanged as exc:
        raise SourceChanged(f"{exc} — not SPARQL JSON results") from exc
    if isinstance(document, dict) and "head" not in document and ("entities" in document or "claims" in document):
        return parse_entities(document, url=url, extracted_at=extracted_at)
    variables, rows = sparql_rows(document, url=url, source=SOURCE.name)
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
    city, partner = qid(row.get("city")), qid(row.get("partner"))
    reason = None
    if not city or not partner:
        reason = f"binding without a Wikidata item for city/partner: {row.get('city')!r} / {row.get('partner')!r}"
    city_lat, city_lon = wkt_point(row.get("cityCoord"))
    partner_lat, partner_lon = wkt_point(row.get("partnerCoord"))
    statement = row.get("stmt")
    key = statement.rsplit("/", 1)[-1] if statement else f"{city}-{partner}"
    return {
        "source": SOURCE.name,
        "record_key": key,
        "a_name": label(row.get("cityLabel"), city),
        "a_country": "DE",  # the query selects items carrying a German municipality key (P439)
        "a_qid": city,
        "a_ags": row.get("ags"),
        "a_geonames_id": as_int(row.get("cityGeonames")),
        "a_lat": city_lat,
        "a_lon": city_lon,
        "b_name": label(row.get("partnerLabel"), partner),
        "b_country": row.get("partnerCountryCode"),
        "b_qid": partner,
        "b_geonames_id": as_int(row.get("partnerGeonames")),
        "b_lat": partner_lat,
        "b_lon": partner_lon,
        "relation_type": "unspecified",  # P190 does not distinguish partnership from friendship
        "start_raw": wikidata_time(row.get("start"), row.get("startPrecision")),
        "end_raw": wikidata_time(row.get("end"), row.get("endPrecision")),
        "reference_url": row.get("refURL"),
        "source_url": f"https://www.wikidata.org/wiki/{city}#P190" if city else url,
        "extracted_at": extracted_at,
        "reject_reason": reason,
    }


# --- Wikidata entity JSON (wbgetentities / Special:EntityData) -------------------------------

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
    ags = string_claim(claims, "P439")
    name = entity_label(entity)
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
            "a_name": name,
            "a_country": "DE" if ags else None,
            "a_qid": qid,
            "a_ags": ags,
            "b_qid": partner,
            "b_name": None,
            "relation_type": "unspecified",
            "start_raw": qualifier_time(qualifiers, "P580"),
            "end_raw": qualifier_time(qualifiers, "P582"),
            "reference_url": reference_url(statement),
            "source_url": f"https://www.wikidata.org/wiki/{qid}#P190",
            "extracted_at": extracted_at,
            "reject_reason": None if partner else f"P190 statement without an item value ({snak.get('snaktype')})",
        })
    return records


