"""City networks' own member-list pages, read by one declarative engine (`member_pages.yaml`).

One spec per network: the page URL, the reference count the live list is compared against
(the BD ETMUN list of 2016-19, or a cited count), the contract (≥ `min_rows` members, each with
a name) and the CSS selectors of a member row and its fields. No member page is recorded yet, so
every spec is unverified: an unverified spec never loads. In `record` mode it is fetched (the
HTTP layer stores the page) and, if selectors are written, checked against the contract, with
the result in the log; a maintainer then sets `verified` (a reviewed diff). A verified spec
loads; a page that no longer fits its selectors, or a list that lost more than half of its
reference, fails the source loudly (`SourceChanged`). The source runs by default only once a
spec is verified (`RUNS_BY_DEFAULT`); until then `citylinks run network_member_pages --record
DIR` is how pages get recorded.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml
from bs4 import BeautifulSoup

from extractors.base import EmptyResult, SourceChanged, SourceInfo, number_repeated_keys, response_time
from schemas.records import MEMBERSHIP_ASSERTION

log = logging.getLogger(__name__)

SPECS_PATH = Path(__file__).with_name("member_pages.yaml")
HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Record fields a spec may fill from a member row.
FIELDS = ("member_name", "member_country", "member_kind", "since_raw", "status")
#: A live list with fewer members than this share of its reference is refused.
MIN_SHARE_OF_REFERENCE = 0.5
YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


@dataclass(frozen=True)
class PageSpec:
    network: str
    url: str
    reference: int
    min_rows: int
    url_seen: bool = False
    verified: str | None = None  # date of the recording the selectors were checked against
    rows: str | None = None  # CSS selector of one member
    fields: dict = field(default_factory=dict)  # record field -> CSS selector in the row ("" = its text, "@attr")


def load_specs(path: Path = SPECS_PATH) -> list[PageSpec]:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    specs = []
    for entry in document.get("pages") or []:
        unknown = set(entry.get("fields") or {}) - set(FIELDS)
        if unknown:
            raise ValueError(f"{path.name}: {entry.get('network')}: unknown fields {sorted(unknown)}")
        if entry.get("verified") and not entry.get("rows"):
            raise ValueError(f"{path.name}: {entry['network']} is verified but has no row selector")
        specs.append(PageSpec(network=entry["network"], url=entry["url"], reference=int(entry["reference"]["members"]),
                              min_rows=int(entry["min_rows"]), url_seen=bool(entry.get("url_seen")),
                              verified=str(entry["verified"]) if entry.get("verified") else None,
                              rows=entry.get("rows"), fields=dict(entry.get("fields") or {})))
    return specs


SPECS = load_specs()
RUNS_BY_DEFAULT = any(spec.verified for spec in SPECS)

SOURCE = SourceInfo(
    name="network_member_pages",
    domain="memberships",
    url="extractors/member_pages.yaml",
    licence_id="LicenseRef-Facts-No-Licence",
    licence="facts from public member lists; © the networks",
    attribution="the network's member page (source_url)",
    recorded="",
    contract=MEMBERSHIP_ASSERTION,
)


def extract(http, networks: list[str] | None = None) -> list[dict]:
    specs = [s for s in SPECS if networks is None or s.network in networks]
    records, unverified = [], []
    for spec in specs:
        if not spec.verified:
            unverified.append(spec.network)
            if getattr(http, "mode", "") == "record":
                _record_unverified(http, spec)
            continue
        response = http.get(spec.url, expect=HTML_TYPES)
        records.extend(parse_page(spec, response.content, url=spec.url, extracted_at=response_time(response)))
    if not records:
        raise EmptyResult(f"{SOURCE.name}: no verified member page among {', '.join(s.network for s in specs)}; "
                          "record them with `citylinks run network_member_pages --record DIR`, write their "
                          "selectors in extractors/member_pages.yaml and set `verified`")
    if unverified:
        log.warning("%s: not loaded, spec unverified: %s", SOURCE.name, ", ".join(unverified))
    return records


def _record_unverified(http, spec: PageSpec) -> None:
    """Fetch (the HTTP layer records the page) and check the selectors, if any; never load."""
    response = http.get(spec.url, expect=HTML_TYPES)
    if not spec.rows:
        log.warning("%s: %s recorded from %s; no selectors yet: write them against the recording",
                    SOURCE.name, spec.network, spec.url)
        return
    try:
        members = parse_page(spec, response.content, url=spec.url)
        log.warning("%s: %s: the selectors find %d members (reference %d) — set `verified` to load it",
                    SOURCE.name, spec.network, len(members), spec.reference)
    except SourceChanged as exc:
        log.warning("%s: %s recorded, but the selectors do not fit: %s", SOURCE.name, spec.network, exc)


def parse_page(spec: PageSpec, content: bytes | str, *, url: str, extracted_at: datetime | None = None) -> list[dict]:
    """Member rows of one page by the spec's selectors, checked against its contract and reference."""
    extracted_at = extracted_at or datetime.now(timezone.utc)
    if not spec.rows:
        raise SourceChanged(f"{SOURCE.name}: {spec.network} has no row selector")
    soup = BeautifulSoup(content, "html.parser")
    rows = soup.select(spec.rows)
    records = []
    for number, row in enumerate(rows, start=1):
        values = {name: _value(row, selector) for name, selector in spec.fields.items()}
        since = values.get("since_raw")
        year = YEAR.search(since) if since else None
        records.append({
            "source": SOURCE.name,
            "record_key": f"{spec.network}|{values.get('member_name') or ''}|{values.get('member_country') or ''}",
            "network": spec.network,
            "member_name": values.get("member_name"),
            "member_kind": values.get("member_kind"),
            "member_country": values.get("member_country"),
            "status": values.get("status") or "member",
            "since_raw": since,
            "since_year": int(year.group(1)) if year else None,
            "source_url": url,
            "extracted_at": extracted_at,
            "reject_reason": None if values.get("member_name") else f"{spec.network} row {number}: no member name",
        })
    named = sum(1 for r in records if r["member_name"])
    if named < spec.min_rows:
        raise SourceChanged(f"{SOURCE.name}: {url} gives {named} named members for {spec.network} with "
                            f"'{spec.rows}'; the spec expects at least {spec.min_rows}: the page changed")
    if named < MIN_SHARE_OF_REFERENCE * spec.reference:
        raise SourceChanged(f"{SOURCE.name}: {spec.network} lists {named} members, fewer than "
                            f"{MIN_SHARE_OF_REFERENCE:.0%} of the {spec.reference} of its reference; refused")
    return number_repeated_keys(records)


def _value(row, selector: str) -> str | None:
    """'' = the row's own text; 'css' = the first match's text; 'css@attr' / '@attr' = an attribute."""
    css, _, attribute = selector.partition("@")
    node = row.select_one(css) if css else row
    if node is None:
        return None
    text = node.get(attribute) if attribute else node.get_text(" ", strip=True)
    text = " ".join(str(text).split()) if text else ""
    return text or None
