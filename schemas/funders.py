"""The curated funders (`funders.yaml`): organisations that pay for funding programmes, with the
names the sources write for them. Loaded like the networks reference: every fact with its source."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from schemas.curated import keyed_entries
from schemas.funding import REGION_LEVELS

PATH = Path(__file__).with_name("funders.yaml")
FIELDS = frozenset({"name", "aliases", "level"})


class FunderFileError(ValueError):
    """funders.yaml breaks a rule; the message names the funder and the field."""


def load(path: Path = PATH) -> list[dict]:
    """One `organisation` row per funder (kind 'funder'), every claim kept with its source."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources = document.get("sources") or {}
    rows = []
    for key, funder in keyed_entries(document.get("funders"), what="funder", fields=FIELDS, file=path.name,
                                     error=FunderFileError):
        row = {"organisation_key": f"funder:{key}", "kind": "funder", "claims": []}
        for field, fact in funder.items():
            if not isinstance(fact, dict) or fact.get("source") not in sources:
                raise FunderFileError(f"{path.name}: {key}.{field}: every fact needs a listed source (got {fact!r})")
            if field == "name":
                for lang, text in fact.items():
                    if lang != "source":
                        row[f"name_{lang}"] = text
                        row["claims"].append({"field": f"name_{lang}", "value": text, "source": fact["source"]})
                continue
            if field == "level" and fact["value"] not in REGION_LEVELS:
                raise FunderFileError(f"{path.name}: {key}.level: {fact['value']!r} is not one of {REGION_LEVELS}")
            row["claims"].append({"field": field, "value": fact["value"], "source": fact["source"]})
            if field == "aliases":
                row["acronym"] = fact["value"][0]
            else:
                row["scope"] = fact["value"]
        rows.append(row)
    return rows


@lru_cache(maxsize=1)
def aliases() -> tuple[tuple[str, str], ...]:
    """(alias, organisation_key) for every funder, longest alias first."""
    pairs = [(alias, row["organisation_key"]) for row in load() for claim in row["claims"]
             if claim["field"] == "aliases" for alias in claim["value"]]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def alias_pattern() -> re.Pattern:
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(alias) for alias, _ in aliases()) + r")(?!\w)")
