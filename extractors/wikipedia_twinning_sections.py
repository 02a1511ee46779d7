"""Twinning sections of Wikipedia municipality articles (English and German Wikipedia).

Source
    The MediaWiki Action API of ``<wiki>.wikipedia.org`` (wikitext of whole articles), the
    article list from the Wikidata Query Service. Licence CC BY-SA 4.0: every row carries the
    article URL (a permalink when the API gave a revision id) in ``source_url`` so that the
    attribution "Wikipedia contributors, <article URL>" can be produced downstream.

Recording
    Parsers are built and tested against two real enwiki articles (Toronto 2015-03, list layout;
    Bodmin 2017-08, prose layout), see ``tests/fixtures/wikipedia/PROVENANCE.md``. No recording
    of a live API or WDQS answer exists offline: the first online run (``record`` mode of the HTTP
    layer) records ``discover_titles`` and the batched ``fetch`` responses; both are keyed by
    deterministic parameters (sorted titles, fixed parameter order) so that they replay.

What is extracted
    Every heading (any level) whose title is a twinning title (see ``_SECTION_PATTERNS``; English
    and German) is taken with its subsections. Within it two layouts are read:

    1. *List items* (lines starting with ``*``, ``#`` or ``:``): one partner per line.
       - Partner = the first wikilink that is not a namespace link (File/Image/Category …), not
         a link to the twinning concept itself or to a list page, not a date and not the article
         itself. ``{{ill|…}}`` counts as a link. A link followed directly by ``:`` while another
         link follows ("[[France]]: [[Pontoise]]") is read as a label, not as the partner.
       - Country = first flag template (``{{flagicon|GER}}``, ``{{flag|Germany}}``,
         ``{{flagcountry|…}}``, German ``{{FRA|#}}``/``{{FRA}}``), raw as written ("GER");
         else the last capitalised chunk after a separator ("," / "(" / "in") of the text after
         the link, outside parentheses first ("…, Germany (1989)" → "Germany";
         "(Frankreich), seit 1956" → "Frankreich"); else the country of an enclosing group item
         (``* France`` / ``** [[Pontoise]]``).
       - ``start_raw`` = the first year-ish fragment after the link, as written: "1989" (from
         "(1989)"), "seit 1956", "since 1989", "1958?", "c. 1990", "ca. 1990",
         "seit 04. November 2005"; a range "1989–2010" gives ``end_raw`` "2010". No conversion
         here: the year is parsed by a transform.
       - A list item with a text but no usable link is yielded with ``reject_reason`` (goes to
         quarantine, never dropped silently). An item followed by deeper items is a group label
         (country/region/relation) and yields no row.
    2. *Prose* (other text lines): places are wikilinks followed, outside any parentheses and
       before the next place, by "in <Capitalised>" or ", <Capitalised>" (the country). Links
       inside parentheses and links attached to the previous place only by ", in" / "," are
       qualifiers ("[[Grass Valley, California|Grass Valley]], in [[California]], United States").

    Relation type: definition-list headers (``;Partnership cities``, ``;Friendship cities``,
    ``;Partnerschaften``, ``;Freundschaften``), sub-headings and group items set partnership /
    friendship (also contact / project_partnership for German "Kontakte" /
    "Projektpartnerschaften"); a header that names no relation ("; Europe") changes nothing.
    Default: "partnership" in twinning sections, "unspecified" in "International relations" /
    "Internationale Beziehungen". Sub-headings naming consulates, embassies or memberships switch
    reading off until the next sub-heading.

Public API
    ``parse_wikitext`` (one article, pure), ``parse_api_response`` / ``parse`` (either API
    envelope), ``query_request`` / ``parse_request`` / ``discovery_request`` (the exact requests,
    recordings are keyed on them), ``fetch`` (batched ``action=query``, 50 sorted titles per
    request, ``maxlag=5``, ``continue`` followed), ``fetch_one_parse`` (``action=parse``),
    ``discover_titles`` (WDQS: articles of items with P439 and P190), ``extract`` (the flow's
    entry point; ``single_pages=True`` uses ``action=parse`` per title, as the bundled replay
    in ``recordings/bundled/options.json`` asks).

Naming rule (``b_name``)
    The link *target* (the article title: the identity key a resolver can map to a Wikidata
    sitelink; the display text may be an abbreviation, a translation or an older/newer
    spelling), normalised like MediaWiki does (underscores, ``#anchor``, first letter upper case)
    — EXCEPT when the target is the display text plus a comma disambiguation
    ("[[Grass Valley, California|Grass Valley]]" → "Grass Valley"; the country column carries
    the disambiguation). Parenthesised suffixes are kept because in Germany they are often part
    of the official name ("Frankfurt (Oder)", "Neustadt (Hessen)"). So ``[[Kiev|Kyiv]]`` gives
    "Kiev". ``a_name`` is the article title as is; the resolver cleans both.

Reference URL
    The first ``url=`` of a template (cite web, Internetquelle, Webarchiv …) in the item's refs,
    else the first external link in them; named re-uses (``<ref name="IAP" />``) are looked up
    in the whole article. An item without a ref inherits the refs of the header/sub-heading/group
    item it is listed under (``;Partnership cities<ref …>`` cites the whole group). In prose all
    places of a line share the line's refs.

Limits (heuristics, see also tests)
    One partner per list item: "* [[Aachen]], [[Bonn]]" yields Aachen with country "Bonn".
    Wikitables are not read. Prose needs country evidence after the link: "twinned with [[A]],
    [[B]] and [[C]]" (no countries) yields nothing, and a date before the link ("seit 1990 mit
    [[X]]") is not seen; friendship is not recognised from prose wording. The country is raw
    ("GER", "Germany", "Frankreich"; sometimes a region when the text names no country) and is
    mapped by ``transforms.countries``.

Keys and duplicates
    ``record_key = f"{wiki}:{title}:{b_name}"``. The same partner listed twice (duplicate lines,
    or both as partnership and friendship) yields two rows with the same key; deduplication is a
    transform's job, this module reports what the article says. Rejected rows use the item's
    cleaned text instead of ``b_name``.
"""
from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlparse

import mwparserfromhell
from mwparserfromhell.nodes import (
    Comment,
    ExternalLink,
    HTMLEntity,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from extractors.base import JSON_TYPES, SPARQL_TYPES, EmptyResult, SourceChanged, SourceInfo, response_time
from schemas.records import PARTNERSHIP_ASSERTION, REJECT_REASON

log = logging.getLogger(__name__)

SOURCE = SourceInfo(
    name="wikipedia_twinning_sections",
    domain="partnerships",
    url="https://en.wikipedia.org/w/api.php",
    licence_id="CC-BY-SA-4.0",
    licence="CC BY-SA 4.0",
    attribution="Wikipedia contributors, <article URL>",
    recorded="2015-03/2017-08 (enwiki wikitext)",
    contract=PARTNERSHIP_ASSERTION,
)

WDQS_URL = "https://query.wikidata.org/sparql"
#: Titles per ``action=query`` request (the API limit for non-bot clients).
BATCH_SIZE = 50
#: Safety stop for ``continue`` loops (a batch of 50 articles needs a handful at most).
MAX_CONTINUATIONS = 200
_HEADERS = {"Accept": "application/json"}

# --------------------------------------------------------------------------------------------
# Section detection
# --------------------------------------------------------------------------------------------

#: Heading titles (normalised by `_norm_heading`: lower case, punctuation → space) that mark a
#: twinning section. Matched in full, so "International relations of Canada" does not match.
_SECTION_PATTERNS = [
    r"twin (?:towns?|cities|city)(?: (?:and |or )?sister (?:cities|city|towns?))?",
    r"sister (?:cities|city|towns?)(?: (?:and |or )?twin (?:towns?|cities))?",
    r"(?:town |city )?twinnings?",
    r"international relations",
    r"partner (?:cities|towns?)",
    r"partnership cities",
    r"st[aä]dtepartnerschaft(?:en)?",
    r"partnerst[aä]dte",
    r"partnerschaften",
    r"gemeindepartnerschaft(?:en)?",
    r"schwesterst[aä]dte",
    r"internationale beziehungen",
]
_SECTION_RE = re.compile(r"(?:%s)" % "|".join(_SECTION_PATTERNS))
#: Generic sections: the relation is "unspecified" unless a header says otherwise.
_GENERIC_SECTION_RE = re.compile(r"international relations|internationale beziehungen")
#: Sub-headings inside a matched section whose lists are not twinnings.
_OFF_TOPIC_RE = re.compile(
    r"consul|embass|diplomat|konsulat|botschaft|member|mitglied|organi[sz]ation|network|netzwerk",
    re.I,
)


def _norm_heading(title: str) -> str:
    text = mwparserfromhell.parse(title).strip_code()
    text = html.unescape(text).lower()
    text = re.sub(r"[^\w\s]|_", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _is_twinning_heading(title: str) -> bool:
    return _SECTION_RE.fullmatch(_norm_heading(title)) is not None


def _classify_relation(label: str) -> str | None:
    """Relation type a header/sub-heading/group label names, None if it names none."""
    text = label.lower()
    if "projektpartner" in text or "project partner" in text:
        return "project_partnership"
    friend = "friend" in text or "freundschaft" in text
    partner = any(w in text for w in ("partner", "twin", "sister", "schwester", "jumelage"))
    if friend and partner:
        return None  # "Partner- und Freundschaftsstädte": ambiguous, keep what applies
    if friend:
        return "friendship"
    if partner:
        return "partnership"
    if "kontakt" in text or "contact" in text:
        return "contact"
    return None


# --------------------------------------------------------------------------------------------
# Links, templates, text
# --------------------------------------------------------------------------------------------

_NAMESPACES = {
    "file", "image", "media", "category", "datei", "bild", "medium", "kategorie", "template",
    "vorlage", "wikipedia", "wp", "help", "hilfe", "portal", "special", "spezial", "user",
    "benutzer", "talk", "diskussion", "wikt", "wiktionary", "commons", "c", "s", "wikisource",
    "q", "wikiquote", "n", "wikinews", "voy", "wikivoyage", "d", "wikidata", "mw", "meta", "m",
}
_GENERIC_TARGET_RE = re.compile(
    r"twin town|sister cit|sister town|twinning|st[aä]dtepartnerschaft|partnerstadt|"
    r"partnerschaft|jumelage|^list of|^liste der|^liste von",
    re.I,
)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "januar|jänner|februar|märz|mai|juni|juli|oktober|dezember|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|okt|nov|dec|dez"
)
_DATE_TARGET_RE = re.compile(
    rf"\d{{1,4}}(?:s| BC| AD| v\. Chr\.)?|(?:\d{{1,2}}\.? )?(?:{_MONTHS})(?: \d{{1,2}})?",
    re.I,
)
#: Flag templates of enwiki (first positional parameter = country code or name).
_FLAG_TEMPLATES = {"flagicon", "flag", "flagcountry", "flagu", "flagdeco", "flag icon", "flagge"}
#: German-wiki country templates: the name is the code ({{FRA|#}}, {{FRA}}).
_COUNTRY_TEMPLATE_RE = re.compile(r"[A-Z]{3}")
#: Templates that only wrap their first parameter's text.
_WRAPPER_TEMPLATES = {"nowrap", "nobr", "small", "nowrap begin", "bold", "resize"}
_ILL_TEMPLATES = {"ill", "interlanguage link", "interlanguage link multi", "illm", "ill2"}

_REF_MARK = "\x7f"
_REF_MARK_RE = re.compile(r"\x7f(\d+)\x7f")


@dataclass
class _Link:
    target: str
    display: str


def _clean_text(text: str) -> str:
    text = _REF_MARK_RE.sub(" ", text)
    text = html.unescape(text).replace("\xa0", " ").replace("\u200b", "")
    return re.sub(r"\s+", " ", text).strip()


def _template_name(template: Template) -> str:
    name = str(template.name).strip()
    return name.replace("_", " ")


def _positional(template: Template, index: int) -> str | None:
    """Text of the index-th (1-based) positional parameter."""
    key = str(index)
    if template.has(key):
        value = _clean_text(template.get(key).value.strip_code())
        return value or None
    return None


def _normalise_target(target: str) -> str | None:
    """MediaWiki-style title of a link target; None for namespace (non-article) links."""
    target = _clean_text(target.replace("_", " "))
    target = target.split("#", 1)[0].strip()
    target = target.lstrip(":").strip()
    if ":" in target:
        prefix, rest = target.split(":", 1)
        prefix_key = prefix.strip().lower()
        if prefix_key in _NAMESPACES:
            return None
        if re.fullmatch(r"[a-z]{2,3}(?:-[a-z]+)?", prefix_key):
            target = rest.strip()  # interlanguage link [[:fr:Pontoise]]
    if not target:
        return None
    return target[0].upper() + target[1:]


def _flatten(code: Wikicode) -> list[str | _Link]:
    """The visible content of a line as text pieces and links, in order."""
    out: list[str | _Link] = []
    for node in code.nodes:
        if isinstance(node, Text):
            out.append(node.value)
        elif isinstance(node, Wikilink):
            target = str(node.title)
            if _normalise_target(target) is None:
                continue  # [[File:…]], [[Category:…]] etc. show no running text
            display = node.text.strip_code() if node.text is not None else ""
            display = _clean_text(display) or _clean_text(mwparserfromhell.parse(target).strip_code())
            out.append(_Link(target=target, display=display))
        elif isinstance(node, HTMLEntity):
            out.append(node.normalize())
        elif isinstance(node, Tag):
            tag = str(node.tag).strip().lower()
            if tag in ("ref", "references"):
                continue
            if tag == "br":
                out.append(" ")
            elif node.contents is not None:
                out.extend(_flatten(node.contents))
        elif isinstance(node, Template):
            name = _template_name(node).lower()
            if name in _ILL_TEMPLATES:
                target = _positional(node, 1)
                if target:
                    shown = _clean_text(node.get("lt").value.strip_code()) if node.has("lt") else ""
                    out.append(_Link(target=target, display=shown or target))
            elif name in _WRAPPER_TEMPLATES and node.has("1"):
                out.extend(_flatten(node.get("1").value))
            elif name == "lang" and node.has("2"):
                out.extend(_flatten(node.get("2").value))
        elif isinstance(node, ExternalLink):
            if node.title is not None:
                out.extend(_flatten(node.title))
        elif isinstance(node, Comment):
            continue
        # Heading/Argument/other: invisible for our purpose
    return out


def _as_text(pieces: list[str | _Link]) -> str:
    return "".join(p.display if isinstance(p, _Link) else p for p in pieces)


def _flag_country(code: Wikicode) -> str | None:
    for template in code.filter_templates(recursive=False):
        name = _template_name(template)
        if _COUNTRY_TEMPLATE_RE.fullmatch(name):
            return name
        if name.lower() in _FLAG_TEMPLATES:
            value = _positional(template, 1)
            if value:
                return value
    return None


def _is_candidate(link: _Link, article_title: str) -> str | None:
    """The normalised target if the link can name a partner municipality, else None."""
    target = _normalise_target(link.target)
    if target is None:
        return None
    if _GENERIC_TARGET_RE.search(target) or _DATE_TARGET_RE.fullmatch(target):
        return None
    if target.casefold() == article_title.strip().casefold():
        return None
    return target


def _partner_name(target: str, display: str) -> str:
    """Naming rule, see module docstring: target, or display when target = display + ', …'."""
    display = _clean_text(display)
    if display and display != target and target.startswith(display + ","):
        return display
    return target


# --------------------------------------------------------------------------------------------
# Dates and countries in the text after a link
# --------------------------------------------------------------------------------------------

_YEAR = r"(?<!\d)(?:1[0-9]{3}|20[0-9]{2})(?!\d)"
_DATE_CORE = (
    rf"(?:(?:\d{{1,2}}\.?\s*)?(?:{_MONTHS})\.?\s+(?:\d{{1,2}},?\s+)?)?{_YEAR}s?\??"
)
_DATE_RE = re.compile(
    rf"(?:\b(?:seit|since|from|ab|um|circa|etwa|approx\.?|ca\.|c\.)\s*)?{_DATE_CORE}",
    re.I,
)
_END_RE = re.compile(rf"\s*(?:[–—-]|\bbis\b|\buntil\b|\btill\b|\bto\b)\s*({_DATE_CORE})", re.I)
_CHUNK_SPLIT_RE = re.compile(r"[,;:/–—()\[\]]|\s-\s|\b(?:in der|in the|in|im)\b", re.I)
_CONNECTORS = {"and", "of", "the", "und", "de", "du", "des", "la", "le", "del", "da", "do"}
_NOT_COUNTRY = {
    "since", "seit", "from", "ab", "until", "bis", "c", "ca", "circa", "approx", "sister",
    "twin", "partner", "friendship", "city", "town", "cities", "towns", "see", "siehe",
}


def _find_date(text: str) -> tuple[str | None, str | None, tuple[int, int] | None]:
    match = _DATE_RE.search(text)
    if not match:
        return None, None, None
    start_raw = match.group(0).strip()
    end_raw = None
    end = match.end()
    end_match = _END_RE.match(text, end)
    if end_match:
        end_raw = end_match.group(1).strip()
        end = end_match.end()
    return start_raw, end_raw, (match.start(), end)


def _split_parens(text: str) -> tuple[str, list[str]]:
    """Text outside parentheses (each parenthesis replaced by ','), and the parenthesised texts."""
    outside: list[str] = []
    inside: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch == "(":
            if depth == 0:
                outside.append(",")
                current = []
            else:
                current.append(ch)
            depth += 1
        elif ch == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                inside.append("".join(current))
            else:
                current.append(ch)
        elif depth > 0:
            current.append(ch)
        else:
            outside.append(ch)
    if depth > 0:
        inside.append("".join(current))
    return "".join(outside), inside


def _capitalised_run(chunk: str) -> str | None:
    words = [w.strip("\"'.“”„«»*") for w in chunk.split()]
    words = [w for w in words if w]
    if words and words[0].lower() == "the":
        words = words[1:]
    run: list[str] = []
    for i, word in enumerate(words):
        if word[0].isupper():
            run.append(word)
        elif run and word.lower() in _CONNECTORS and i + 1 < len(words) and words[i + 1][0].isupper():
            run.append(word)
        else:
            break
    if not run or run[0].lower().rstrip(".") in _NOT_COUNTRY:
        return None
    if all(w.lower() in _NOT_COUNTRY for w in run):
        return None
    return " ".join(run)


def _last_capitalised(text: str, *, skip_first: bool) -> str | None:
    chunks = _CHUNK_SPLIT_RE.split(text)
    if skip_first:
        chunks = chunks[1:]
    found = None
    for chunk in chunks:
        candidate = _capitalised_run(chunk)
        if candidate:
            found = candidate
    return found


def _country_in(text: str) -> str | None:
    outside, inside = _split_parens(text)
    found = _last_capitalised(outside, skip_first=True)
    if found:
        return found
    for part in reversed(inside):
        found = _last_capitalised(part, skip_first=False)
        if found:
            return found
    return None


def _country_from_tail(tail: str, date_span: tuple[int, int] | None) -> str | None:
    if date_span is None:
        return _country_in(tail)
    before, after = tail[: date_span[0]], tail[date_span[1]:]
    # the text after the date starts after a separator-less cut: prefix "," keeps chunk logic
    return _country_in(before) or _country_in("," + after)


# --------------------------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------------------------


def _is_ref(tag: Any) -> bool:
    return str(tag.tag).strip().lower() == "ref"


def _ref_name(tag: Tag) -> str | None:
    if tag.has("name"):
        name = str(tag.get("name").value).strip().strip("\"'")
        return name or None
    return None


def _first_url(code: Wikicode) -> str | None:
    for template in code.filter_templates(recursive=True):
        for key in ("url", "URL"):
            if template.has(key):
                value = _clean_text(str(template.get(key).value))
                if value:
                    return value
    for link in code.filter_external_links(recursive=True):
        value = str(link.url).strip()
        if value:
            return value
    return None


def _named_ref_urls(code: Wikicode) -> dict[str, str | None]:
    urls: dict[str, str | None] = {}
    for tag in code.filter_tags(matches=_is_ref, recursive=True):
        name = _ref_name(tag)
        if name and tag.contents is not None and str(tag.contents).strip() and name not in urls:
            urls[name] = _first_url(tag.contents)
    return urls


def _mark_refs(section_text: str, named: dict[str, str | None]) -> tuple[str, list[str | None]]:
    """Section text with every <ref> replaced by a marker \\x7fN\\x7f; N indexes the URL list."""
    code = mwparserfromhell.parse(section_text)
    for comment in code.filter_comments(recursive=True):
        try:
            code.remove(comment)
        except ValueError:
            pass
    urls: list[str | None] = []
    for tag in code.filter_tags(matches=_is_ref, recursive=True):
        if tag.contents is not None and str(tag.contents).strip():
            url = _first_url(tag.contents)
        else:
            url = named.get(_ref_name(tag) or "")
        try:
            code.replace(tag, f"{_REF_MARK}{len(urls)}{_REF_MARK}")
        except ValueError:  # nested in a ref already replaced
            continue
        urls.append(url)
    return str(code), urls


def _line_ref_url(line: str, urls: list[str | None]) -> str | None:
    for match in _REF_MARK_RE.finditer(line):
        url = urls[int(match.group(1))]
        if url:
            return url
    return None


# --------------------------------------------------------------------------------------------
# Parsing an article
# --------------------------------------------------------------------------------------------

_HEADING_LINE_RE = re.compile(r"^(={1,6})(.+?)\1[ \t]*(?:<!--.*?-->[ \t]*)*$", re.M)
_LIST_RE = re.compile(r"^([*#:]+)\s*(.*)$")
_TABLE_RE = re.compile(r"^\s*(?:\{\||\|\}|\||!)")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@dataclass
class _Context:
    wiki: str
    title: str
    source_url: str
    extracted_at: datetime
    urls: list[str | None]

    def row(self, *, b_name: str | None, key_name: str, b_country: str | None, relation: str,
            start_raw: str | None = None, end_raw: str | None = None,
            reference_url: str | None = None, reject: str | None = None) -> dict:
        row = {
            "source": SOURCE.name,
            "record_key": f"{self.wiki}:{self.title}:{key_name}",
            "a_name": self.title,
            "a_country": None,
            "b_name": b_name,
            "b_country": b_country,
            "relation_type": relation,
            "start_raw": start_raw,
            "end_raw": end_raw,
            "reference_url": reference_url,
            "source_url": self.source_url,
            "extracted_at": self.extracted_at,
        }
        if reject:
            row[REJECT_REASON] = reject
        return row


def _list_partner(pieces: list[str | _Link], title: str) -> tuple[int, str, str | None] | None:
    """Index in pieces, normalised target of the partner link, and a label link's text."""
    candidates = [
        (i, target)
        for i, piece in enumerate(pieces)
        if isinstance(piece, _Link) and (target := _is_candidate(piece, title))
    ]
    if not candidates:
        return None
    first_index, first_target = candidates[0]
    following = _as_text(pieces[first_index + 1:]).lstrip()
    if len(candidates) > 1 and following.startswith(":"):
        # "[[France]]: [[Pontoise]]": the first link is a label (the country, mostly)
        label = pieces[first_index]
        assert isinstance(label, _Link)
        return candidates[1][0], candidates[1][1], _clean_text(label.display) or None
    return first_index, first_target, None


def _group_label_country(code: Wikicode, pieces: list[str | _Link], title: str) -> str | None:
    flag = _flag_country(code)
    if flag:
        return flag
    for piece in pieces:
        if isinstance(piece, _Link) and _is_candidate(piece, title):
            return _clean_text(piece.display)
    text = _clean_text(_as_text(pieces)).strip(" :")
    return _capitalised_run(text) if text else None


def _parse_list_item(body: str, ctx: _Context, relation: str, group_country: str | None,
                     inherited_ref: str | None) -> dict | None:
    text_only = _REF_MARK_RE.sub(" ", body)
    code = mwparserfromhell.parse(text_only)
    pieces = _flatten(code)
    ref_url = _line_ref_url(body, ctx.urls) or inherited_ref
    visible = _clean_text(_as_text(pieces))
    flag = _flag_country(code)
    partner = _list_partner(pieces, ctx.title)
    if partner is None:
        if not visible and not flag:
            return None  # template-only line ({{Main|…}}, {{Col-2}}): nothing to report
        raw = _clean_text(body) or body.strip()
        return ctx.row(
            b_name=None, key_name=visible or raw, b_country=flag or group_country,
            relation=relation, reference_url=ref_url,
            reject=f"no partner link in list item: {raw}",
        )
    index, target, label = partner
    link = pieces[index]
    assert isinstance(link, _Link)
    name = _partner_name(target, link.display)
    tail = _clean_text(_as_text(pieces[index + 1:]))
    start_raw, end_raw, span = _find_date(tail)
    country = flag or _country_from_tail(tail, span) or label or group_country
    return ctx.row(
        b_name=name, key_name=name, b_country=country, relation=relation,
        start_raw=start_raw, end_raw=end_raw, reference_url=ref_url,
    )


def _attached(between: str) -> bool:
    """True if only ',', whitespace and a preposition separate a link from the previous one."""
    return re.fullmatch(r"[\s,]*(?:(?:in|im|in the|in der|near|bei|nahe)\b[\s,]*)?", between, re.I) is not None


def _cut_sentence(text: str) -> str:
    text = text.split(";", 1)[0]
    return re.split(r"\.\s+(?=[A-ZÄÖÜ])", text, maxsplit=1)[0]


def _parse_prose_line(line: str, ctx: _Context, relation: str, inherited_ref: str | None) -> list[dict]:
    code = mwparserfromhell.parse(_REF_MARK_RE.sub(" ", line))
    pieces = _flatten(code)
    ref_url = _line_ref_url(line, ctx.urls) or inherited_ref
    places: list[tuple[str, _Link, list[str]]] = []  # (target, link, tail pieces)
    depth = 0
    between = ""
    for piece in pieces:
        if isinstance(piece, str):
            for ch in piece:
                if ch == "(":
                    depth += 1
                elif ch == ")" and depth > 0:
                    depth -= 1
            between += piece
            if places:
                places[-1][2].append(piece)
            continue
        target = _is_candidate(piece, ctx.title)
        qualifier = depth > 0 or (places and _attached(between))
        if target is None or qualifier:
            between = between + piece.display if target is None else ""
            if places:
                places[-1][2].append(piece.display)
            continue
        places.append((target, piece, []))
        between = ""
    rows = []
    for target, link, tail_pieces in places:
        tail = _cut_sentence(_clean_text("".join(tail_pieces)))
        start_raw, end_raw, span = _find_date(tail)
        country = _country_from_tail(tail, span)
        if not country:
            continue  # not evidently a place: prose heuristic needs "in <Country>"/", <Country>"
        name = _partner_name(target, link.display)
        rows.append(ctx.row(
            b_name=name, key_name=name, b_country=country, relation=relation,
            start_raw=start_raw, end_raw=end_raw, reference_url=ref_url,
        ))
    return rows


def _parse_section(heading_title: str, text: str, ctx: _Context) -> list[dict]:
    default = "unspecified" if _GENERIC_SECTION_RE.fullmatch(_norm_heading(heading_title)) else (
        _classify_relation(heading_title) or "partnership"
    )
    relation = default
    inherited_ref: str | None = None
    active = True
    lines = text.split("\n")[1:]  # the first line is the section's own heading

    events: list[tuple[str, Any]] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        heading = _HEADING_LINE_RE.match(stripped)
        if heading:
            events.append(("heading", heading.group(2)))
        elif stripped.startswith(";"):
            events.append(("header", stripped[1:]))
        elif (item := _LIST_RE.match(stripped)) is not None:
            events.append(("item", (len(item.group(1)), item.group(2))))
        elif _TABLE_RE.match(stripped):
            continue  # wikitables are not read (see limits)
        else:
            events.append(("prose", stripped))

    rows: list[dict] = []
    groups: list[tuple[int, str | None, str | None, str | None]] = []  # depth, country, relation, ref
    for index, (kind, value) in enumerate(events):
        if kind == "heading":
            label = _clean_text(mwparserfromhell.parse(_REF_MARK_RE.sub(" ", value)).strip_code())
            active = not _OFF_TOPIC_RE.search(label)
            relation = _classify_relation(label) or default
            inherited_ref = _line_ref_url(value, ctx.urls)
            groups = []
            continue
        if not active:
            continue
        if kind == "header":
            label_part = value.split(":", 1)[0]
            label = _clean_text(mwparserfromhell.parse(_REF_MARK_RE.sub(" ", label_part)).strip_code())
            named = _classify_relation(label)
            if named:
                relation = named
                inherited_ref = _line_ref_url(value, ctx.urls)
            groups = []
            continue
        if kind == "prose":
            groups = []
            rows.extend(_parse_prose_line(value, ctx, relation, inherited_ref))
            continue
        depth, body = value
        while groups and groups[-1][0] >= depth:
            groups.pop()
        next_event = events[index + 1] if index + 1 < len(events) else None
        if next_event and next_event[0] == "item" and next_event[1][0] > depth:
            code = mwparserfromhell.parse(_REF_MARK_RE.sub(" ", body))
            pieces = _flatten(code)
            label = _clean_text(_as_text(pieces))
            groups.append((
                depth,
                _group_label_country(code, pieces, ctx.title),
                _classify_relation(label) if label else None,
                _line_ref_url(body, ctx.urls),
            ))
            continue
        group_country = next((g[1] for g in reversed(groups) if g[1]), None)
        group_relation = next((g[2] for g in reversed(groups) if g[2]), None)
        group_ref = next((g[3] for g in reversed(groups) if g[3]), None)
        row = _parse_list_item(body, ctx, group_relation or relation, group_country,
                               group_ref or inherited_ref)
        if row is not None:
            rows.append(row)
    return rows


def parse_wikitext(wikitext: str, *, title: str, wiki: str = "en", source_url: str,
                   extracted_at: datetime) -> list[dict]:
    """Partnership assertions of one article; [] if it has no twinning section. Pure."""
    headings = (m.group(2) for m in _HEADING_LINE_RE.finditer(wikitext))
    if not any(_is_twinning_heading(h) for h in headings):
        return []  # most articles: skip the full parse
    code = mwparserfromhell.parse(wikitext)
    named = _named_ref_urls(code)
    covered: set[int] = set()
    rows: list[dict] = []
    for section in code.get_sections(include_lead=False, include_headings=True):
        heading = section.nodes[0]
        if id(heading) in covered:
            continue
        heading_title = str(heading.title).strip()
        if not _is_twinning_heading(heading_title):
            continue
        covered.update(id(h) for h in section.filter_headings(recursive=False))
        text, urls = _mark_refs(str(section), named)
        ctx = _Context(wiki=wiki, title=title, source_url=source_url,
                       extracted_at=_utc(extracted_at), urls=urls)
        rows.extend(_parse_section(heading_title, text, ctx))
    return rows


# --------------------------------------------------------------------------------------------
# API responses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    title: str
    wikitext: str
    revid: int | None


def _decode(content: bytes, url: str) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceChanged(f"{SOURCE.name}: response from {url} is not JSON: {exc}") from exc


def _wiki_of(url: str) -> str:
    host = urlparse(url).hostname or ""
    match = re.fullmatch(r"([a-z][a-z0-9-]*)\.(?:m\.)?wikipedia\.org", host)
    return match.group(1) if match else "en"


def article_url(title: str, wiki: str = "en", revid: int | None = None) -> str:
    """Public URL of the article (a permalink when the revision id is known)."""
    quoted = quote(title.replace(" ", "_"), safe="/:(),'!*")
    if revid:
        return f"https://{wiki}.wikipedia.org/w/index.php?title={quoted}&oldid={revid}"
    return f"https://{wiki}.wikipedia.org/wiki/{quoted}"


def _read_pages(content: bytes, url: str) -> tuple[list[_Page], list[str]]:
    """(pages with wikitext, titles reported missing/invalid) of either API response shape."""
    data = _decode(content, url)
    if not isinstance(data, dict):
        raise SourceChanged(f"{SOURCE.name}: response from {url} is a JSON {type(data).__name__}, not an object")
    for warning in _warnings(data):
        log.warning("%s: API warning from %s: %s", SOURCE.name, url, warning)
    query = data.get("query") if isinstance(data.get("query"), dict) else None
    parse = data.get("parse") if isinstance(data.get("parse"), dict) else None
    if "error" in data and not (query and "pages" in query) and not (parse and "wikitext" in parse):
        error = data["error"] if isinstance(data["error"], dict) else {"info": data["error"]}
        code, info = error.get("code", "?"), error.get("info", "")
        if code == "missingtitle":
            page = parse_qs(urlparse(url).query).get("page", ["?"])[0]
            log.info("%s: page missing: %s (%s)", SOURCE.name, page, url)
            return [], [page]
        raise SourceChanged(f"{SOURCE.name}: API error from {url}: {code}: {info}")
    if parse is not None and "wikitext" in parse:
        wikitext = parse["wikitext"]
        if isinstance(wikitext, dict):  # formatversion=1: {"*": "…"}
            wikitext = wikitext.get("*")
        if not isinstance(wikitext, str) or not isinstance(parse.get("title"), str):
            raise SourceChanged(f"{SOURCE.name}: parse.wikitext/parse.title from {url} are not strings")
        return [_Page(parse["title"], wikitext, parse.get("revid"))], []
    if query is not None and "pages" in query:
        raw_pages = query["pages"]
        if isinstance(raw_pages, dict):  # formatversion=1 keys pages by id
            raw_pages = list(raw_pages.values())
        if not isinstance(raw_pages, list):
            raise SourceChanged(f"{SOURCE.name}: query.pages from {url} is neither list nor object")
        pages: list[_Page] = []
        missing: list[str] = []
        for raw in raw_pages:
            if not isinstance(raw, dict) or "title" not in raw:
                raise SourceChanged(f"{SOURCE.name}: page without title in {url}: {str(raw)[:200]}")
            # formatversion=2 writes "missing": true, formatversion=1 "missing": ""
            if raw.get("missing", False) is not False or raw.get("invalid", False) is not False:
                missing.append(raw["title"])
                continue
            revisions = raw.get("revisions")
            if not revisions:
                continue  # content follows in a continuation response
            revision = revisions[0]
            slot = (revision.get("slots") or {}).get("main") or revision
            wikitext = slot.get("content", slot.get("*"))
            if not isinstance(wikitext, str):
                raise SourceChanged(f"{SOURCE.name}: no revision content for {raw['title']!r} in {url}")
            model = slot.get("contentmodel", "wikitext")
            if model != "wikitext":
                log.info("%s: skipping %r with content model %s", SOURCE.name, raw["title"], model)
                continue
            pages.append(_Page(raw["title"], wikitext, revision.get("revid")))
        if missing:
            log.info("%s: %d page(s) missing in %s: %s", SOURCE.name, len(missing), url, " | ".join(missing))
        return pages, missing
    raise SourceChanged(
        f"{SOURCE.name}: response from {url} has neither query.pages nor parse.wikitext "
        f"(top-level keys: {sorted(data)})"
    )


def _warnings(data: dict) -> list[str]:
    warnings = data.get("warnings")
    if not warnings:
        return []
    if isinstance(warnings, list):  # errorformat=plaintext etc.
        return [str(w) for w in warnings]
    if isinstance(warnings, dict):
        return [f"{module}: {value}" for module, value in warnings.items()]
    return [str(warnings)]


def parse_api_response(content: bytes, *, url: str, extracted_at: datetime,
                       wiki: str | None = None) -> list[dict]:
    """Rows of every article in an ``action=query`` (revisions) or ``action=parse`` response.

    Missing/invalid pages are skipped (logged). Not JSON, an API ``error`` or an unknown shape
    raise SourceChanged. ``wiki`` defaults to the language of the URL's host.
    """
    wiki = wiki or _wiki_of(url)
    pages, _missing = _read_pages(content, url)
    rows: list[dict] = []
    for page in pages:
        rows.extend(parse_wikitext(page.wikitext, title=page.title, wiki=wiki,
                                   source_url=article_url(page.title, wiki, page.revid),
                                   extracted_at=extracted_at))
    return rows


# --------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------


def _api_url(wiki: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,15}", wiki):
        raise ValueError(f"{SOURCE.name}: not a Wikipedia language code: {wiki!r}")
    return f"https://{wiki}.wikipedia.org/w/api.php"


def query_request(titles: list[str], wiki: str = "en") -> dict[str, Any]:
    """The ``action=query&prop=revisions`` request for one batch (titles sorted, "|"-joined).

    Fixed key order and sorted titles: the recordings key must not depend on input order.
    Beyond the documented minimum, ``rvprop`` adds ``ids`` (revision id → permalink in
    ``source_url``) and ``redirects=1`` resolves titles that moved since discovery.
    """
    return {
        "url": _api_url(wiki),
        "params": {
            "action": "query",
            "prop": "revisions",
            "rvprop": "content|ids",
            "rvslots": "main",
            "redirects": "1",
            "formatversion": "2",
            "format": "json",
            "maxlag": "5",
            "titles": "|".join(sorted(titles)),
        },
        "headers": dict(_HEADERS),
    }


def parse_request(title: str, wiki: str = "en") -> dict[str, Any]:
    """The ``action=parse&prop=wikitext`` request for one article (the bundled replay shape)."""
    return {
        "url": _api_url(wiki),
        "params": {
            "action": "parse",
            "page": title,
            "prop": "wikitext",
            "formatversion": "2",
            "format": "json",
            "redirects": "1",
        },
        "headers": dict(_HEADERS),
    }


def _full_url(url: str, params: dict[str, str]) -> str:
    return f"{url}?{urlencode(params)}"


def _batches(titles: list[str]) -> list[list[str]]:
    unique = sorted({t.strip() for t in titles if t and t.strip()})
    return [unique[i:i + BATCH_SIZE] for i in range(0, len(unique), BATCH_SIZE)]


def _query_responses(http: Any, titles: list[str], wiki: str) -> Iterator[tuple[str, Any]]:
    """(request URL, response) of every batch and continuation."""
    for batch in _batches(titles):
        req = query_request(batch, wiki)
        continuation: dict[str, str] = {}
        for _ in range(MAX_CONTINUATIONS):
            params = {**req["params"], **{k: str(continuation[k]) for k in sorted(continuation)}}
            response = http.get(req["url"], params=params, headers=req["headers"], expect=JSON_TYPES)
            url = _full_url(req["url"], params)
            yield url, response
            try:
                data = json.loads(response.content)
            except (ValueError, UnicodeDecodeError):
                break  # the parser reports it as SourceChanged
            following = data.get("continue") if isinstance(data, dict) else None
            if not following:
                break
            following = {str(k): str(v) for k, v in following.items()}
            if following == continuation:
                raise SourceChanged(f"{SOURCE.name}: API repeats continuation {following} at {url}")
            continuation = following
        else:
            raise SourceChanged(f"{SOURCE.name}: more than {MAX_CONTINUATIONS} continuations for one batch")


def fetch(http: Any, titles: list[str], *, wiki: str = "en") -> Iterator[tuple[str, bytes]]:
    """(request URL, body) of every ``action=query`` response for the titles, ≤ 50 per batch.

    Titles are deduplicated and sorted; ``continue`` is followed until the batch is complete.
    """
    for url, response in _query_responses(http, titles, wiki):
        yield url, response.content


def _parse_response(http: Any, title: str, wiki: str) -> tuple[str, Any]:
    req = parse_request(title, wiki)
    response = http.get(req["url"], params=req["params"], headers=req["headers"], expect=JSON_TYPES)
    return _full_url(req["url"], req["params"]), response


def fetch_one_parse(http: Any, title: str, wiki: str = "en") -> tuple[str, bytes]:
    """(request URL, body) of ``action=parse&prop=wikitext`` for one article."""
    url, response = _parse_response(http, title, wiki)
    return url, response.content


def discovery_query(wiki: str = "en") -> str:
    """SPARQL: article titles on <wiki>.wikipedia.org of items with an AGS (P439) and a P190."""
    _api_url(wiki)  # validates the code
    return (
        "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\n"
        "PREFIX schema: <http://schema.org/>\n"
        "SELECT DISTINCT ?title WHERE {\n"
        "  ?item wdt:P439 ?ags ;\n"
        "        wdt:P190 ?partner .\n"
        "  ?article schema:about ?item ;\n"
        f"           schema:isPartOf <https://{wiki}.wikipedia.org/> ;\n"
        "           schema:name ?title .\n"
        "}\n"
        "ORDER BY ?title\n"
    )


def discovery_request(wiki: str = "en") -> dict[str, Any]:
    """The exact WDQS request (POST form) made live; a recording would be keyed on it."""
    return {"url": WDQS_URL, "data": {"query": discovery_query(wiki), "format": "json"},
            "headers": {"Accept": "application/sparql-results+json"}}


def parse_discovery(content: bytes, *, url: str = WDQS_URL) -> list[str]:
    """Titles from a SPARQL 1.1 JSON results document binding ?title (sorted, unique)."""
    data = _decode(content, url)
    try:
        bindings = data["results"]["bindings"]
        if not isinstance(bindings, list):
            raise TypeError("results.bindings is not a list")
    except (KeyError, TypeError) as exc:
        raise SourceChanged(f"{SOURCE.name}: WDQS answer from {url} is not SPARQL JSON results: {exc!r}") from exc
    titles = {
        b["title"]["value"].strip()
        for b in bindings
        if isinstance(b, dict) and isinstance(b.get("title"), dict) and b["title"].get("value")
    }
    return sorted(titles)


def discover_titles(http: Any, wiki: str = "en") -> list[str]:
    """Live discovery of the articles to read via WDQS (POST, SPARQL 1.1 JSON results).

    No recording of this answer exists offline: the first online run in ``record`` mode
    records it (keyed by `discovery_request`), later replays reuse it.
    """
    req = discovery_request(wiki)
    response = http.post(req["url"], data=req["data"], headers=req["headers"], expect=SPARQL_TYPES)
    return parse_discovery(response.content, url=req["url"])


def extract(http: Any, *, titles: list[str] | None = None, wiki: str = "en",
            extracted_at: datetime | None = None, single_pages: bool = False) -> list[dict]:
    """Discover (if no titles given), fetch and parse. Rows of all articles.

    ``single_pages`` fetches each title with ``action=parse`` instead of batched
    ``action=query`` (the shape of the bundled offline replay). ``extracted_at`` defaults to the
    response's Date header (so a replay reproduces the recording's time), else now.
    """
    discovered = titles is None
    if discovered:
        titles = discover_titles(http, wiki)
        if not titles:
            raise EmptyResult(
                f"{SOURCE.name}: WDQS discovery on {wiki}.wikipedia.org expected German "
                "municipality articles, got none"
            )
    if not titles:
        return []
    if single_pages:
        responses: Iterator[tuple[str, Any]] = (
            _parse_response(http, title, wiki) for batch in _batches(titles) for title in batch
        )
    else:
        responses = _query_responses(http, titles, wiki)
    rows: list[dict] = []
    seen: set[str] = set()
    missing: set[str] = set()
    requested = {t.strip() for t in titles if t and t.strip()}
    for url, response in responses:
        pages, gone = _read_pages(response.content, url)
        missing.update(gone)
        at = _utc(extracted_at) if extracted_at is not None else response_time(response)
        for page in pages:
            if page.title in seen:
                continue  # a page repeated by a continuation
            seen.add(page.title)
            rows.extend(parse_wikitext(page.wikitext, title=page.title, wiki=wiki,
                                       source_url=article_url(page.title, wiki, page.revid),
                                       extracted_at=at))
    if discovered:  # discovery selects items with a German municipality key (P439)
        for row in rows:
            row["a_country"] = row["a_country"] or "DE"
    if not seen:
        raise EmptyResult(
            f"{SOURCE.name}: requested {len(requested)} titles on {wiki}.wikipedia.org, the API "
            f"returned no page with content ({len(missing)} missing)"
        )
    if missing:
        log.info("%s: %d of %d titles missing: %s", SOURCE.name, len(missing), len(requested),
                 " | ".join(sorted(missing)[:50]))
    log.info("%s: %d pages read, %d rows", SOURCE.name, len(seen), len(rows))
    return rows


#: `citylinks parse <source> <file>` entry point: a saved API response (either envelope).
parse = parse_api_response
