"""The curated reference of city networks (`networks.yaml`): loaded, checked, flattened.

Every fact is a claim with its source (`{value: …, source: key}`; several claims where sources
disagree); a fact without a known source, a duplicate key or an unknown field is refused when
the file is read, so a maintainer's edit that breaks the rule fails the tests and the run.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from schemas.curated import keyed_entries

PATH = Path(__file__).with_name("networks.yaml")
FIELDS = frozenset({"name", "acronym", "founded", "founded_in", "secretariat", "secretariat_country", "website",
                    "scope", "admits", "themes", "part_of", "funded_by", "wikidata", "first_joins"})
MEMBER_KINDS = frozenset({"municipality", "district", "region", "association", "organisation", "group"})


class NetworkFileError(ValueError):
    """networks.yaml breaks a rule; the message names the network and the field."""


@dataclass(frozen=True)
class Claim:
    network: str
    field: str
    value: object
    source: str


def load(path: Path = PATH) -> tuple[dict[str, str], list[Claim]]:
    """(sources by key, every claim), checked."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources = document.get("sources") or {}
    claims = []
    for key, network in keyed_entries(document.get("networks"), what="network", fields=FIELDS, file=path.name,
                                      error=NetworkFileError):
        for field, facts in network.items():
            for fact in facts if isinstance(facts, list) else [facts]:
                claims.extend(_claims(key, field, fact, sources, path))
    return sources, claims


def _claims(key: str, field: str, fact, sources: dict, path: Path) -> list[Claim]:
    if not isinstance(fact, dict) or fact.get("source") not in sources:
        raise NetworkFileError(f"{path.name}: {key}.{field}: every fact needs a source listed under 'sources' "
                               f"(got {fact!r})")
    source = fact["source"]
    if field == "name":  # {en: …, de: …, source: …}: one claim per language
        return [Claim(key, f"name_{lang}", text, source) for lang, text in fact.items() if lang != "source"]
    if "value" not in fact:
        raise NetworkFileError(f"{path.name}: {key}.{field}: a fact is {{value: …, source: …}}")
    if field == "admits" and not set(fact["value"]) <= MEMBER_KINDS:
        raise NetworkFileError(f"{path.name}: {key}.admits: {sorted(set(fact['value']) - MEMBER_KINDS)} "
                               f"are not member kinds ({', '.join(sorted(MEMBER_KINDS))})")
    return [Claim(key, field, fact["value"], source)]


@lru_cache(maxsize=1)
def network_keys() -> frozenset[str]:
    return frozenset(claim.network for claim in load()[1])


#: Fields of the `organisation` table taken from the first claim; `founded` is the earliest.
SINGLE_FIELDS = ("acronym", "scope", "secretariat", "website", "wikidata")


def organisations(path: Path = PATH) -> list[dict]:
    """One row per network for the `organisation` table: the facts flattened (the first claim of
    a field; the earliest founding year; lists ';'-joined), every claim kept with its source."""
    _, claims = load(path)
    rows: dict[str, dict] = {}
    for claim in claims:
        row = rows.setdefault(claim.network, {"organisation_key": claim.network, "kind": "network", "claims": []})
        row["claims"].append({"field": claim.field, "value": claim.value, "source": claim.source})
        if claim.field in ("name_en", "name_de"):
            row.setdefault(claim.field, claim.value)
        elif claim.field == "founded":
            row["founded"] = min(int(claim.value), row.get("founded", int(claim.value)))
        elif claim.field in ("themes", "admits"):
            row.setdefault(claim.field, ";".join(claim.value))
        elif claim.field in SINGLE_FIELDS:
            row.setdefault("wikidata_qid" if claim.field == "wikidata" else claim.field, str(claim.value))
    return list(rows.values())


@lru_cache(maxsize=1)
def earliest_join_years() -> dict[str, int]:
    """Network key → the earliest year a member can have joined: its earliest stated founding,
    or the earliest join a member list states where that is earlier. A join before it is wrong."""
    years: dict[str, int] = {}
    for claim in load()[1]:
        if claim.field in ("founded", "first_joins"):
            years[claim.network] = min(int(claim.value), years.get(claim.network, int(claim.value)))
    return years


@lru_cache(maxsize=1)
def network_qids() -> dict[str, str]:
    """Wikidata QID → network key, for the networks whose QID a source states."""
    return {row["wikidata_qid"]: row["organisation_key"] for row in organisations() if row.get("wikidata_qid")}
