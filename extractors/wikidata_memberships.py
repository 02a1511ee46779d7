"""Wikidata P463 ("member of") statements naming a city network of `schemas/networks.yaml`.

Live: one SPARQL query against the Wikidata Query Service for every network whose QID the
reference states (`VALUES ?network { … }`), statement-level so that the P580/P582 qualifiers
(joined / left) come along with their precision, plus what lets the
resolver skip guessing: the member's AGS (P439), coordinates (P625) and country (P17/P297).
No recording of that query exists yet: the first `--record` run stores the response, and the
parser checks it (the SPARQL variables below, ≥ 1 membership); until then the offline run
replays entity JSON.

Offline / for single municipalities: Wikidata entity JSON (`Special:EntityData/<QID>.json`,
a `wbgetentities` envelope or a bare entity), option `entities: [Q2112, …]`. Statements naming
organisations that are not in the reference (a Land's association of cities) are not city
network memberships and are skipped, counted in the log.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from extractors.base import JSON_TYPES, SPARQL_TYPES, EmptyResult, SourceChanged, SourceInfo, response_time
from extractors.wikidata import (
    ENDPOINT,
    ENTITY_PREFIX,
    entity_label,
    entity_objects,
    load_json,
    qualifier_time,
    sparql_rows,
    string_claim,
    wikidata_time,
    wkt_point,
)
from schemas.networks import network_qids
from schemas.records import MEMBERSHIP_ASSERTION

log = logging.getLogger(__name__)

ENTITY_URL = "https://www.wikidata.org/wiki/Special:EntityData/{qid}.json"

SOURCE = SourceInfo(
    name="wikidata_memberships",
    domain="memberships",
    url=ENDPOINT,
    licence_id="CC0-1.0",
    licence="CC0 1.0",
    attribution="Wikidata (wikidata.org), CC0",
    recorded="2023-04-04 (entity JSON of Bielefeld, Q2112; the SPARQL query is not recorded yet)",
    contract=MEMBERSHIP_ASSERTION,
)

#: The variables the live query binds; a response without them is a changed service.
VARIABLES = ("member", "memberLabel", "network", "stmt")
QUERY_TEMPLATE = """# P463 (member of) statements naming the city networks of schemas/networks.yaml
SELECT ?member ?memberLabel ?network ?ags ?countryCode ?coord
       ?start ?startPrecision ?end ?endPrecision ?stmt WHERE {{
  VALUES ?network {{ {networks} }}
  ?member p:P463 ?stmt . ?stmt ps:P463 ?network .
  FILTER NOT EXISTS {{ ?stmt wikibase:rank wikibase:DeprecatedRank }}
  OPTIONAL {{ ?stmt pqv:P580 [ wikibase:timeValue ?start ; wikibase:timePrecision ?startPrecision ] }}
  OPTIONAL {{ ?stmt pqv:P582 [ wikibase:timeValue ?end ; wikibase:timePrecision ?endPrecision ] }}
  OPTIONAL {{ ?member wdt:P439 ?ags }}
  OPTIONAL {{ ?member wdt:P625 ?coord }}
  OPTIONAL {{ ?member wdt:P17/wdt:P297 ?countryCode }}
  SERVICE wikibase:label {{ bd:serviceParam wikibase:language "de,en". }}
}}"""


def request(networks: dict[str, str] | None = None) -> dict[str, Any]:
    """The exact live request (recordings are keyed on it): the networks' QIDs, sorted."""
    qids = " ".join(f"wd:{qid}" for qid in sorted(networks or network_qids()))
    return {"url": ENDPOINT, "data": {"query": QUERY_TEMPLATE.format(networks=qids), "format": "json"},
            "headers": {"Accept": "application/sparql-results+json"}}


def extract(http, entities: list[str] | None = None) -> list[dict]:
    if entities:
        records = []
        for qid in entities:
            url = ENTITY_URL.format(qid=qid)
            response = http.get(url, expect=JSON_TYPES)
            records.extend(parse_entities(response.content, url=url, extracted_at=response_time(response)))
        return records
    req = request()
    response = http.post(req["url"], data=req["data"], headers=req["headers"], expect=SPARQL_TYPES)
    return parse(response.content, url=req["url"], extracted_at=response_time(response))


def parse(content: bytes | str | dict, *, url: str = ENDPOINT, extracted_at: datetime | None = None) -> list[dict]:
    """SPARQL results of the live query, or entity JSON (told apart by their shape)."""
    document = load_json(content, url, SOURCE.name)
    if "results" not in document:
        return parse_entities(document, url=url, extracted_at=extracted_at)
    extracted_at = extracted_at or datetime.now(timezone.utc)
    variables, rows = sparql_rows(document, url=url, source=SOURCE.name)
    missing = [v for v in VARIABLES if v not in variables]
    if missing:
        raise SourceChanged(f"{SOURCE.name}: the query's results from {url} lack {', '.join(missing)}")
    networks = network_qids()
    records = []
    for row in rows:
        qid = _qid(row.get("member"))
        lat, lon = wkt_point(row.get("coord"))
        records.append(_record(
            record_key=_statement_id(row.get("stmt")) or f"{qid}-{_qid(row.get('network'))}",
            network=networks.get(_qid(row.get("network"))), name=row.get("memberLabel"), qid=qid,
            ags=row.get("ags"), country=row.get("countryCode"), lat=lat, lon=lon,
            since=wikidata_time(row.get("start"), row.get("startPrecision")), until=wikidata_time(row.get("end"), row.get("endPrecision")),
            extracted_at=extracted_at))
    if not records:
        raise EmptyResult(f"{SOURCE.name}: no member of any of the {len(networks)} networks at {url}")
    return records


def parse_entities(content: bytes | str | dict, *, url: str, extracted_at: datetime | None = None) -> list[dict]:
    """P463 statements naming a network of the reference, of every entity in the response."""
    extracted_at = extracted_at or datetime.now(timezone.utc)
    networks, records, skipped = network_qids(), [], 0
    for entity in entity_objects(content, url=url, source=SOURCE.name):
        claims = entity.get("claims", {})
        ags = string_claim(claims, "P439")
        lat, lon = _entity_point(claims)
        for statement in claims.get("P463", []):
            target = ((statement.get("mainsnak", {}).get("datavalue") or {}).get("value") or {}).get("id")
            if statement.get("rank") == "deprecated":
                continue
            if target not in networks:
                skipped += 1
                continue
            qualifiers = statement.get("qualifiers", {})
            records.append(_record(
                record_key=statement.get("id") or f"{entity.get('id')}-{target}", network=networks[target],
                name=entity_label(entity), qid=entity.get("id"), ags=ags, country="DE" if ags else None,
                lat=lat, lon=lon, since=qualifier_time(qualifiers, "P580"), until=qualifier_time(qualifiers, "P582"),
                extracted_at=extracted_at))
    if skipped:
        log.info("%s: %d P463 statement(s) name organisations outside schemas/networks.yaml; skipped",
                 SOURCE.name, skipped)
    return records


def _record(*, record_key, network, name, qid, ags, country, lat, lon, since, until, extracted_at) -> dict:
    since_year, until_year = _year(since), _year(until)
    reasons = [f"{what} {value!r} is not a date" for what, value, year in (("start", since, since_year),
                                                                            ("end", until, until_year))
               if value and year is None]
    return {
        "source": SOURCE.name,
        "record_key": record_key,
        "network": network,
        "member_name": name,
        "member_country": country,
        "member_qid": qid,
        "member_ags": ags,
        "member_lat": lat,
        "member_lon": lon,
        "status": "former" if until else "member",
        "since_raw": since,
        "since_date": since if since and len(since) == 10 else None,
        "since_year": since_year,
        "until_year": until_year,
        "source_url": f"https://www.wikidata.org/wiki/{qid}#P463",
        "extracted_at": extracted_at,
        "reject_reason": "; ".join(reasons) or (None if name else f"{qid}: the item has no label"),
    }


def _year(value: str | None) -> int | None:
    try:
        return int(value.split("-")[0]) if value and not value.startswith("-") else None
    except ValueError:
        return None


def _entity_point(claims: dict) -> tuple[float | None, float | None]:
    for statement in claims.get("P625", []):
        value = (statement.get("mainsnak", {}).get("datavalue") or {}).get("value")
        if isinstance(value, dict) and "latitude" in value:
            return value["latitude"], value["longitude"]
    return None, None


def _qid(uri: str | None) -> str | None:
    return uri[len(ENTITY_PREFIX):] if uri and uri.startswith(ENTITY_PREFIX) else uri


def _statement_id(uri: str | None) -> str | None:
    """'http://www.wikidata.org/entity/statement/Q2112-…' → 'Q2112$…' (the id entity JSON uses)."""
    if not uri or "/statement/" not in uri:
        return None
    local = uri.rsplit("/", 1)[-1]
    return local.replace("-", "$", 1)
