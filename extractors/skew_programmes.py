"""BMZ/SKEW programmes for municipalities: a curated, cited reference (`skew_programmes.yaml`).

The Servicestelle Kommunen in der Einen Welt (SKEW, Engagement Global) runs the BMZ's offers for
German municipalities: Nakopa project funding, Kommunales Know-how für Nahost, the Kommunale
Klimapartnerschaften, German–Palestinian and German–Ukrainian partnerships, the Koordination
kommunaler Entwicklungspolitik. Their pages (skew.engagement-global.de) are rewritten each call
year and their facts sit in prose and PDF "Bekanntmachungen"; no archived copy of them was kept,
only the facts the source catalogue (docs/sources.md §3.1) took from them, and the BMZ brochure
"Lokal handeln, global wirken" (January 2022). So the facts are curated by hand, in the YAML next
to this module, and loaded like any source: a maintainer's edit is a reviewed diff.

Every fact is a claim `{value: …, source: key}` whose source is listed in the file; where sources
disagree (Nakopa: 50,000–250,000 € in the 2023/24 Bekanntmachung, historically up to 500,000 € in
exceptional cases) both claims are kept. `load` refuses the file (`ProgrammeFileError`, naming the
programme and the field) for a fact without a listed source, an unknown field, a duplicate key,
an unknown theme or kind, a negative amount, a minimum above the maximum, a share outside 0–100.

One record per programme (contract FUNDING_PROGRAMME). A column takes the claim with the latest
`as_of` (undated claims count as oldest; on a tie the first listed); every claim that no column
shows, and every qualifier ("up to", "historically"), goes to `details` as "field: value (source)",
with the full citation of each source the programme uses: nothing curated is lost. Nothing is
fetched: `extract(http)` keeps the signature of the other sources and ignores `http`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from extractors.base import SourceChanged, SourceInfo
from schemas.curated import keyed_entries
from schemas.funding import THEMES as FUNDING_THEMES
from schemas.records import FUNDING_PROGRAMME

PATH = Path(__file__).with_name("skew_programmes.yaml")
REPO_PATH = "extractors/skew_programmes.yaml"

#: Fields a programme may have (besides `key`).
TEXT_FIELDS = frozenset({"acronym", "includes", "funder", "page", "website", "deadlines", "eligible", "region",
                         "summary", "phases"})
AMOUNT_FIELDS = frozenset({"amount_min_eur", "amount_max_eur", "budget_eur"})
SHARE_FIELDS = frozenset({"own_contribution_pct", "max_funding_share_pct"})
FIELDS = frozenset({"name", "kind", "themes", "duration_months"}) | TEXT_FIELDS | AMOUNT_FIELDS | SHARE_FIELDS
THEMES = frozenset(FUNDING_THEMES)
#: What a programme gives: money (grants, personnel funding), in-kind aid, advice, networking.
KINDS = frozenset({"money", "in_kind", "advice", "networking"})
NAME_LANGUAGES = frozenset({"de", "en"})
FACT_KEYS = frozenset({"value", "source", "as_of", "note"})
YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")

SOURCE = SourceInfo(
    name="skew_programmes",
    domain="funding",
    url=REPO_PATH,
    licence_id="LicenseRef-Facts-No-Licence",
    licence="facts from SKEW/BMZ pages and brochures (© Engagement Global / BMZ); curated",
    attribution="Servicestelle Kommunen in der Einen Welt (SKEW), Engagement Global, for the BMZ; BMZ brochure "
                "'Lokal handeln, global wirken' (January 2022); curated in extractors/skew_programmes.yaml, "
                "every fact with its source",
    recorded="2026-11-25",
    contract=FUNDING_PROGRAMME,
)


class ProgrammeFileError(SourceChanged, ValueError):
    """skew_programmes.yaml breaks a rule; the message names the programme and the field."""


@dataclass(frozen=True)
class Claim:
    programme: str
    field: str  # a FIELDS name; the name's languages as name_de / name_en
    value: object
    source: str
    as_of: str | None = None
    note: str | None = None

    @property
    def year(self) -> int:
        """The claim's year for 'most recent first': the first year in `as_of`; undated is oldest."""
        match = YEAR.search(self.as_of or "")
        return int(match.group(1)) if match else 0


@dataclass(frozen=True)
class Programme:
    key: str
    claims: tuple[Claim, ...]

    def all(self, field: str) -> list[Claim]:
        return [claim for claim in self.claims if claim.field == field]

    def latest(self, field: str) -> Claim | None:
        """The claim with the latest `as_of` (undated = oldest; ties: the first listed)."""
        claims = self.all(field)
        return max(claims, key=lambda claim: claim.year) if claims else None  # max keeps the first of equals


def load(path: Path = PATH) -> tuple[dict[str, str], list[Programme]]:
    """(sources by key, programmes in file order), checked."""
    return read(path.read_text(encoding="utf-8"), name=path.name)


def read(text: str, *, name: str = PATH.name) -> tuple[dict[str, str], list[Programme]]:
    """The YAML text of the reference, checked as `load` checks the file."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProgrammeFileError(f"{name}: not YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("programmes"), list):
        raise ProgrammeFileError(f"{name}: expected a mapping with 'sources' and a list 'programmes'")
    sources = document.get("sources") or {}
    if not isinstance(sources, dict) or not all(isinstance(v, str) and v.strip() for v in sources.values()):
        raise ProgrammeFileError(f"{name}: 'sources' maps each key to its full citation (a text)")
    programmes = []
    for key, entry in keyed_entries(document["programmes"], what="programme", fields=FIELDS, file=name,
                                    error=ProgrammeFileError):
        claims: list[Claim] = []
        for field, facts in entry.items():
            for fact in facts if isinstance(facts, list) else [facts]:
                claims.extend(_claims(key, field, fact, sources, name))
        programme = Programme(key, tuple(claims))
        _check_programme(programme, name)
        programmes.append(programme)
    return sources, programmes


def _claims(key: str, field: str, fact, sources: dict, name: str) -> list[Claim]:
    where = f"{name}: {key}.{field}"
    if not isinstance(fact, dict) or fact.get("source") not in sources:
        raise ProgrammeFileError(f"{where}: every fact needs a source listed under 'sources' (got {fact!r})")
    source, as_of, note = fact["source"], fact.get("as_of"), fact.get("note")
    allowed = NAME_LANGUAGES | {"source", "note"} if field == "name" else FACT_KEYS
    if set(fact) - allowed:
        raise ProgrammeFileError(f"{where}: unknown keys {sorted(set(fact) - allowed)} in a fact "
                                 f"(a fact is {{{', '.join(sorted(allowed))}}})")
    if as_of is not None and not YEAR.search(str(as_of)):
        raise ProgrammeFileError(f"{where}: as_of {as_of!r} names no year")
    if note is not None and not (isinstance(note, str) and note.strip()):
        raise ProgrammeFileError(f"{where}: a note is a text")
    as_of = str(as_of) if as_of is not None else None
    if field == "name":  # {de: …, en: …, source: …}: one claim per language
        names = [Claim(key, f"name_{lang}", _text(text, f"{where}.{lang}"), source, None, note)
                 for lang, text in fact.items() if lang in NAME_LANGUAGES]
        if not names:
            raise ProgrammeFileError(f"{where}: a name is {{de: …, en: …, source: …}}")
        return names
    if "value" not in fact or fact["value"] is None or fact["value"] in ("", []):
        raise ProgrammeFileError(f"{where}: a fact is {{value: …, source: …}} with a value")
    return [Claim(key, field, _value(field, fact["value"], where), source, as_of, note)]


def _text(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProgrammeFileError(f"{where}: expected a text, got {value!r}")
    return " ".join(value.split())


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProgrammeFileError(f"{where}: expected a number, got {value!r}")
    return value


def _value(field: str, value, where: str):
    if field in ("themes", "kind"):
        vocabulary = THEMES if field == "themes" else KINDS
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProgrammeFileError(f"{where}: expected a list of terms, got {value!r}")
        unknown = sorted(set(value) - vocabulary)
        if unknown:
            raise ProgrammeFileError(f"{where}: {unknown} not in the vocabulary ({', '.join(sorted(vocabulary))})")
        return list(value)
    if field in AMOUNT_FIELDS:
        if _number(value, where) < 0:
            raise ProgrammeFileError(f"{where}: negative amount {value!r}")
        return value
    if field in SHARE_FIELDS:
        if not 0 <= _number(value, where) <= 100:
            raise ProgrammeFileError(f"{where}: share {value!r} outside 0–100 %")
        return value
    if field == "duration_months":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ProgrammeFileError(f"{where}: expected a positive whole number of months, got {value!r}")
        return value
    text = _text(value, where)
    if field in ("page", "website") and not text.startswith(("https://", "http://")):
        raise ProgrammeFileError(f"{where}: expected an absolute URL, got {text!r}")
    return text


def _check_programme(programme: Programme, name: str) -> None:
    key = programme.key
    if not programme.all("name_de"):
        raise ProgrammeFileError(f"{name}: {key}.name: a programme needs its German name (the record's title)")
    minimums, maximums = programme.all("amount_min_eur"), programme.all("amount_max_eur")
    for low in minimums:  # within one source and call, a minimum above a maximum is a typo
        for high in maximums:
            if (low.source, low.as_of) == (high.source, high.as_of) and low.value > high.value:
                raise ProgrammeFileError(f"{name}: {key}.amount_min_eur: {low.value} is above amount_max_eur "
                                         f"{high.value} (source {low.source})")
    low, high = programme.latest("amount_min_eur"), programme.latest("amount_max_eur")
    if low and high and low.value > high.value:
        raise ProgrammeFileError(f"{name}: {key}.amount_min_eur: the latest minimum {low.value} ({low.source}) is "
                                 f"above the latest amount_max_eur {high.value} ({high.source})")


#: Contract column ← field: the latest claim (see Programme.latest). The name gives the title.
COLUMNS = {"funder": "funder", "eligible": "eligible", "region": "region", "summary": "summary",
           "page": "programme_url", "amount_min_eur": "amount_min_eur", "amount_max_eur": "amount_max_eur",
           "own_contribution_pct": "own_contribution_pct", "duration_months": "duration_months"}


def extract(http=None, path: Path = PATH) -> list[dict]:
    """One record per programme of the curated file; `http` is unused (the file is in the repo)."""
    sources, programmes = load(path)
    extracted_at = datetime.now(timezone.utc)
    return [_record(programme, sources, url=REPO_PATH, extracted_at=extracted_at) for programme in programmes]


def parse(content: bytes | str, *, url: str = REPO_PATH, extracted_at: datetime | None = None) -> list[dict]:
    """A copy of the curated file (YAML text) → records, checked as `extract` checks the file."""
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    sources, programmes = read(text, name=url.rsplit("/", 1)[-1] or PATH.name)
    extracted_at = extracted_at or datetime.now(timezone.utc)
    return [_record(programme, sources, url=url, extracted_at=extracted_at) for programme in programmes]


def _record(programme: Programme, sources: dict[str, str], *, url: str, extracted_at: datetime) -> dict:
    shown: set[int] = set()  # ids of the claims a column shows (a claim's list value is not hashable)

    def column(field: str):
        claim = programme.latest(field)
        if claim is None:
            return None
        shown.add(id(claim))
        return claim.value

    title = programme.all("name_de")[0]
    shown.add(id(title))
    record = {"source": SOURCE.name, "record_key": programme.key, "title": title.value,
              "extracted_at": extracted_at}
    record.update({name: column(field) for field, name in COLUMNS.items()})
    kind = programme.latest("kind")
    if kind:
        shown.add(id(kind))
        record["funding_type"] = "; ".join(kind.value) + (f" ({kind.note})" if kind.note else "")
    themes = programme.all("themes")  # the union of every source's themes, in the curated vocabulary
    record["areas"] = "; ".join(dict.fromkeys(t for claim in themes for t in claim.value)) or None
    shown.update(map(id, themes))
    websites = programme.all("website")
    record["links"] = "; ".join(claim.value for claim in websites) or None
    shown.update(map(id, websites))
    # read from the curated file, not from the page: "repo:<path>#<key>" (a `citylinks parse` of a
    # copy: that file's URL)
    record["source_url"] = f"repo:{url}#{programme.key}" if url == REPO_PATH else url
    # Everything a column does not show in full: other claims, and the qualifiers of shown ones.
    lines = [_line(claim) for claim in programme.claims
             if id(claim) not in shown or claim.note or claim.as_of or (claim.field == "themes" and len(themes) > 1)]
    used = dict.fromkeys(claim.source for claim in programme.claims)
    lines.extend(f"source {key}: {sources[key]}" for key in used)
    record["details"] = "\n".join(lines)
    return record


def _line(claim: Claim) -> str:
    value = claim.value
    if isinstance(value, list):
        value = ", ".join(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    qualifiers = "; ".join(part for part in (claim.as_of, claim.note) if part)
    return f"{claim.field}: {value} ({claim.source}{'; ' + qualifiers if qualifiers else ''})"
