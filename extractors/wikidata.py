"""Wikidata's formats, parsed in one place for every Wikidata source: SPARQL 1.1 JSON results,
entity JSON (`wbgetentities` / `Special:EntityData`), time values with their precision, WKT
points and item URIs."""
from __future__ import annotations

import json
import re

from extractors.base import SourceChanged

ENDPOINT = "https://query.wikidata.org/sparql"
ENTITY_PREFIX = "http://www.wikidata.org/entity/"


def load_json(content: bytes | str | dict, url: str, source: str) -> dict:
    if isinstance(content, dict):
        return content
    try:
        return json.loads(content)
    except ValueError as exc:
        raise SourceChanged(f"{source}: response from {url} is not JSON ({exc!s:.200})") from exc


def sparql_rows(content: bytes | str | dict, *, url: str, source: str) -> tuple[list[str], list[dict[str, str | None]]]:
    """SPARQL 1.1 JSON results → (vars, rows); unbound OPTIONAL variables become None."""
    try:
        document = load_json(content, url, source)
        variables = list(document["head"]["vars"])
        bindings = document["results"]["bindings"]
    except (SourceChanged, KeyError, TypeError) as exc:
        raise SourceChanged(f"{source}: response from {url} is not SPARQL JSON results ({exc!s:.200})") from exc
    rows = [{var: (binding.get(var) or {}).get("value") for var in variables} for binding in bindings]
    return variables, rows


def qid(value: str | None) -> str | None:
    if value and value.startswith(ENTITY_PREFIX):
        return value[len(ENTITY_PREFIX):]
    return None


def label(label: str | None, qid: str | None) -> str | None:
    """WDQS falls back to the QID itself when an item has no label in the asked languages."""
    if label and label != qid:
        return label
    return None


def as_int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def wkt_point(value: str | None) -> tuple[float | None, float | None]:
    """'Point(6.95 50.94)' (lon lat) → (lat, lon)."""
    if not value or not value.startswith("Point("):
        return None, None
    try:
        lon, lat = value[len("Point("):-1].split()
        return float(lat), float(lon)
    except ValueError:
        return None, None


def wikidata_time(value: str | None, precision: str | None) -> str | None:
    """Keep only the parts the stated precision vouches for: '+1953-00-00…' at year precision is
    '1953'. The year is kept whole ('+99999-…' is '99999', for the quality gate to judge)."""
    if not value:
        return None
    match = re.match(r"^([+-]?)(\d+)-(\d{2})-(\d{2})", value)
    if not match:
        return value  # not a Wikidata time: keep it as written
    sign, year, month, day = match.groups()
    year = ("-" if sign == "-" else "") + (year.lstrip("0") or "0").rjust(4, "0")
    precision_code = as_int(precision) or 11
    if precision_code <= 9:
        return year
    return f"{year}-{month}" if precision_code == 10 else f"{year}-{month}-{day}"


def entity_objects(content: bytes | str | dict, *, url: str, source: str) -> list[dict]:
    """The entities of a `wbgetentities` envelope or a bare entity object; an API error or any
    other shape fails `source`."""
    document = load_json(content, url, source)
    if "error" in document:
        raise SourceChanged(f"{source}: API error from {url}: {document['error']}")
    entities = document.get("entities", {"_": document} if "claims" in document else None)
    if not isinstance(entities, dict):
        raise SourceChanged(f"{source}: response from {url} holds no entities")
    return list(entities.values())


def entity_label(entity: dict) -> str | None:
    labels = entity.get("labels", {})
    for language in ("de", "en"):
        if language in labels:
            return labels[language].get("value")
    return next((v.get("value") for v in labels.values()), None)


def string_claim(claims: dict, prop: str) -> str | None:
    for statement in claims.get(prop, []):
        value = (statement.get("mainsnak", {}).get("datavalue") or {}).get("value")
        if isinstance(value, str):
            return value
    return None


def qualifier_time(qualifiers: dict, prop: str) -> str | None:
    for snak in qualifiers.get(prop, []):
        value = (snak.get("datavalue") or {}).get("value")
        if isinstance(value, dict) and value.get("time"):
            return wikidata_time(value["time"], str(value.get("precision", 11)))
    return None


def reference_url(statement: dict) -> str | None:
    for reference in statement.get("references", []):
        for snak in reference.get("snaks", {}).get("P854", []):
            value = (snak.get("datavalue") or {}).get("value")
            if value:
                return value
    return None
