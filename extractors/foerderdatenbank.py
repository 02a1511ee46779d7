"""Förderdatenbank des Bundes: the federal funding database (foerderdatenbank.de, BMWK/BMWE).

About 2,400 open programmes of the Bund, the Länder and the EU (the recorded search page says
2,395). No API: a search-result list of 10 cards a page links each programme's detail page. Its
`dl.document-info-fundingprogram` holds the categories (Förderart, Förderbereich, Fördergebiet,
Förderberechtigte), the Fördergeber and Ansprechpunkt cards and "Weiterführende Links"; text
sections hold Kurzzusammenfassung / Zusatzinfos / Rechtsgrundlage. Amounts and deadlines are
only in that free text.

Detail pages vary (each recorded variant is tested): three tabs, or one "Rechtsgrundlage" section
under an h2 or an h5; no Fördergeber, or no Förderart and Fördergebiet. A category dd is one
', '-joined text, stored '; '-joined; "Kultur, Medien & Sport" has a comma of its own.

Pages set `<base href="https://www.foerderdatenbank.de/">`: relative links resolve against it,
not against the page URL. Pagination follows the page's own "weiter" link, whose query is
encoded twice: `…Foederprogrammsuche_Formular.html?gtp=%2526<list uuid>_list%253D<n>
&filterCategories=FundingProgram` (`page_url` builds that form when the link is missing).

A list page that does not parse fails the source. A detail page that does not fit, or whose
fetch fails for good, becomes a quarantined record: one odd programme must not cost the other
2,400. Texts are CC BY-ND 3.0 DE: stored unaltered, attributed. The official XML export
(/FDB/WS/export) is reported but unverified; this crawler is the path with real recordings.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from extractors.base import SourceChanged, SourceInfo, response_time
from extractors.http import FetchError
from schemas.records import FUNDING_PROGRAMME

SITE = "https://www.foerderdatenbank.de/"
LIST_URL = SITE + "SiteGlobals/FDB/Forms/Suche/Foederprogrammsuche_Formular.html?filterCategories=FundingProgram"
HTML = ("text/html",)
#: A full crawl that links fewer programmes than this share of the stated hits lost its way.
MIN_SHARE = 0.5

SOURCE = SourceInfo(
    name="foerderdatenbank",
    domain="funding",
    url=LIST_URL,
    licence_id="CC-BY-ND-3.0-DE",
    licence="CC BY-ND 3.0 DE (texts)",
    attribution="Förderdatenbank des Bundes (BMWK), foerderdatenbank.de",
    recorded="",
    contract=FUNDING_PROGRAMME,
)

#: Category dt labels of a detail page (and of a result card) → contract column.
CATEGORIES = {"Förderart": "funding_type", "Förderbereich": "areas", "Fördergebiet": "region",
              "Förderberechtigte": "eligible"}
CARD_CATEGORIES = {"Wer wird gefördert?": "eligible", "Was wird gefördert?": "areas"}
TABS = {"Kurzzusammenfassung": "summary", "Zusatzinfos": "details", "Rechtsgrundlage": "legal_basis"}
KNOWN_DT = (*CATEGORIES, "Fördergeber", "Ansprechpunkt", "Weiterführende Links")
#: Category labels that contain ", " themselves (from the site's Förderbereich facet).
COMMA_LABELS = ("Kultur, Medien & Sport",)
DETAIL_COLUMNS = ("title", *CATEGORIES.values(), "funder", "funder_url", "contact", *TABS.values(), "links")
BLOCKS = frozenset("p div li ul ol h1 h2 h3 h4 h5 h6 article section dl dt dd table tr blockquote br".split())
LIST_PARAM = re.compile(r"(gtp=%(?:25)?26[\w-]+_list%(?:25)?3D)(\d+)")


def extract(http, max_pages: int | None = None, query_url: str = LIST_URL, urls: list[str] | None = None) -> list[dict]:
    """Every result page (up to `max_pages`), then every programme's detail page; or, with `urls`,
    just those detail pages (the offline replay of the recorded ones; checking single programmes)."""
    if urls:
        return [_detail(http, {"source": SOURCE.name, "record_key": urlsplit(url).path, "programme_url": url,
                               "title": None, "eligible": None, "areas": None, "source_url": url,
                               "extracted_at": datetime.now(timezone.utc), "reject_reason": None}) for url in urls]
    cards: dict[str, dict] = {}
    hits, pages, seen, url = None, 0, set(), query_url
    while url and url not in seen and (max_pages is None or pages < max_pages):
        seen.add(url)
        response = http.get(url, expect=HTML)
        count, page_cards, url = _list_page(_soup(response.content), url=url, extracted_at=response_time(response))
        hits = count if hits is None else hits
        for card in page_cards:
            cards.setdefault(card["record_key"], card)  # the listing may shift while it is crawled
        pages += 1
    linked = sum(1 for card in cards.values() if card["programme_url"])
    if max_pages is None and hits and linked < MIN_SHARE * hits:
        raise SourceChanged(f"{SOURCE.name}: {query_url} states {hits:,} hits but {pages} pages linked only "
                            f"{linked:,} programmes; the pagination changed")
    return [card if card["reject_reason"] else _detail(http, card) for card in cards.values()]


def _detail(http, card: dict) -> dict:
    url = card["programme_url"]
    try:
        response = http.get(url, expect=HTML)
    except FetchError as exc:
        if exc.transient:
            raise  # worth a retry of the task; the HTTP cache makes that cheap
        return {**card, "source_url": url, "reject_reason": f"detail page not fetched: {exc}"}
    record = parse_detail(response.content, url=url, extracted_at=response_time(response))
    if record["reject_reason"]:  # keep what the card said, for whoever reads the quarantine
        record.update({k: card[k] for k in ("title", "eligible", "areas") if record.get(k) is None})
    return record


def parse(content: bytes | str, *, url: str = LIST_URL, extracted_at: datetime | None = None) -> list[dict]:
    """A saved result page → one record per card; anything else is read as a detail page."""
    extracted_at = extracted_at or datetime.now(timezone.utc)
    soup = _soup(content)
    if soup.find(id="hits--count") is not None or soup.select_one("div.card--fundingprogram") is not None:
        return _list_page(soup, url=url, extracted_at=extracted_at)[1]
    return [parse_detail(content, url=url, extracted_at=extracted_at)]


def parse_list(content: bytes | str, *, url: str) -> tuple[int, list[str], str | None]:
    """A result page → (stated hit count, absolute detail URLs, next page's URL or None)."""
    hits, cards, next_url = _list_page(_soup(content), url=url, extracted_at=None)
    return hits, [card["programme_url"] for card in cards if card["programme_url"]], next_url


def page_url(link: str, page: int) -> str:
    """Page `page` of the list that `link` (any of its pagination links) belongs to."""
    if not LIST_PARAM.search(link):
        raise ValueError(f"not a pagination link of the result list: {link!r}")
    return LIST_PARAM.sub(lambda m: f"{m.group(1)}{page}", link, count=1)


def _list_page(soup: BeautifulSoup, *, url: str, extracted_at: datetime | None) -> tuple[int, list[dict], str | None]:
    hits = soup.find(id="hits--count")
    cards = soup.select("div.card--fundingprogram")
    if hits is None or not cards:
        raise SourceChanged(f"{SOURCE.name}: {url} is not a result page: "
                            f"{'no <span id=hits--count>' if hits is None else 'no div.card--fundingprogram cards'}")
    digits = re.sub(r"\D", "", hits.get_text())
    if not digits:
        raise SourceChanged(f"{SOURCE.name}: {url}: hit count {hits.get_text(strip=True)!r} is not a number")
    base = _base(soup, url)
    records = [_card(card, n, base=base, url=url, extracted_at=extracted_at) for n, card in enumerate(cards, 1)]
    if not any(record["programme_url"] for record in records):
        raise SourceChanged(f"{SOURCE.name}: {url}: no card links a programme (p.card--title a[href])")
    return int(digits), records, _next_page(soup, base)


def _card(card: Tag, n: int, *, base: str, url: str, extracted_at: datetime | None) -> dict:
    link = card.select_one("p.card--title a[href]")
    title = card.select_one("p.card--title")
    programme_url = urljoin(base, link["href"]) if link else None
    record = {"source": SOURCE.name, "record_key": urlsplit(programme_url).path if link else f"{url}#card-{n}",
              "title": _clean(title.get_text(" ")) if title else None, "eligible": None, "areas": None,
              "programme_url": programme_url, "source_url": url, "extracted_at": extracted_at,
              "reject_reason": None if link else f"result card {n} links no programme (p.card--title a[href])"}
    dl = card.find("dl")
    for label, dds in _pairs(dl) if dl else ():
        if label in CARD_CATEGORIES:
            record[CARD_CATEGORIES[label]] = _categories(dds)
    return record


def _next_page(soup: BeautifulSoup, base: str) -> str | None:
    """The "weiter" link; failing that, page current+1 built from the highest page link."""
    forward = soup.select_one("a.forward[href]")
    if forward:
        return urljoin(base, forward["href"])
    links = {int(m.group(2)): a["href"] for a in soup.find_all("a", href=True) if (m := LIST_PARAM.search(a["href"]))}
    current = soup.select_one("span.current")
    number = re.sub(r"\D", "", current.get_text()) if current else ""
    if links and number and int(number) < max(links):
        return urljoin(base, page_url(links[max(links)], int(number) + 1))
    return None


def parse_detail(content: bytes | str, *, url: str, extracted_at: datetime | None = None) -> dict:
    """One programme's detail page → one record; a page that does not fit gets a reject_reason
    (and keeps what was found) instead of raising."""
    soup = _soup(content)
    programme_url = _programme_url(soup, url)
    record = {"source": SOURCE.name, "record_key": urlsplit(programme_url).path or programme_url,
              **dict.fromkeys(DETAIL_COLUMNS), "programme_url": programme_url, "source_url": url,
              "extracted_at": extracted_at or datetime.now(timezone.utc)}
    reasons = []
    heading = soup.select_one("main h1") or soup.find("h1")
    record["title"] = _clean(heading.get_text(" ")) if heading else None
    if not record["title"]:
        reasons.append("no title (h1)")
    dl = next((d for d in soup.select("dl.document-info-fundingprogram")
               if d.find_parent(class_="card--fundingprogram") is None), None)
    if dl is None:
        reasons.append("no dl.document-info-fundingprogram: not a programme detail page")
    else:
        fields = _fields(dl, _base(soup, url))
        record.update(fields)
        if not fields:
            reasons.append(f"dl.document-info-fundingprogram has none of {', '.join(KNOWN_DT)}")
    record.update(_texts(soup))
    raw = content if isinstance(content, bytes) else content.encode("utf-8")
    if b"</html>" not in raw.lower():
        reasons.append("page is truncated (no closing </html>)")
    record["reject_reason"] = "; ".join(reasons) or None
    return record


def _fields(dl: Tag, base: str) -> dict:
    out: dict = {}
    for label, dds in _pairs(dl):
        if label in CATEGORIES:
            out[CATEGORIES[label]] = _categories(dds)
        elif label == "Fördergeber":
            names = [t for dd in dds for t in dd.select("p.card--title") or [dd]]
            out["funder"] = _join(_clean(t.get_text(" ")) for t in names)
            out["funder_url"] = _join(urljoin(base, a["href"]) for t in names for a in t.find_all("a", href=True))
        elif label == "Ansprechpunkt":
            for a in (a for dd in dds for a in dd.select("p.website a[href]")):
                a.string = urljoin(base, a["href"])  # the web address, not its label
            out["contact"] = _plain(dds)
        elif label == "Weiterführende Links":
            urls = (urljoin(base, a["href"]) for dd in dds for a in dd.find_all("a", href=True))
            out["links"] = _join(dict.fromkeys(u for u in urls if not u.startswith("javascript:")))
    return out


def _texts(soup: BeautifulSoup) -> dict:
    """Each known section heading (a tab opener, an h2 or an h5) and the siblings after it, up to
    the next known heading, as plain text."""
    container = soup.select_one("main .content--main") or soup.find("main") or soup
    headings = [h for h in container.find_all(re.compile(r"^h[1-6]$")) if _label(h) in TABS]
    starts = {id(h) for h in headings}
    out: dict = {}
    for heading in headings:
        body = []
        for sibling in heading.next_siblings:
            if id(sibling) in starts:
                break
            body.append(sibling)
        column = TABS[_label(heading)]
        out[column] = _join((out.get(column), _plain(body)), "\n")
    return out


def _pairs(dl: Tag) -> list[tuple[str, list[Tag]]]:
    """dt label → the dd elements after it (a dt may carry several)."""
    pairs: list[tuple[str, list[Tag]]] = []
    for child in dl.find_all(["dt", "dd"], recursive=False):
        if child.name == "dt":
            pairs.append((_label(child), []))
        elif pairs:
            pairs[-1][1].append(child)
    return pairs


def _categories(dds: list[Tag]) -> str | None:
    """'Aus- & Weiterbildung, Umwelt- & Naturschutz' → 'Aus- & Weiterbildung; Umwelt- & Naturschutz'."""
    values = []
    for dd in dds:
        text = _clean(dd.get_text(" ")) or ""
        for label in COMMA_LABELS:
            text = text.replace(label, label.replace(",", "\0"))
        values += [part.strip().replace("\0", ",") for part in text.split(",")]
    return _join(values)


def _plain(nodes) -> str | None:
    """Text of `nodes`: block elements and <br> on their own lines, other whitespace one space."""
    parts: list[str] = []

    def walk(node) -> None:
        if isinstance(node, PreformattedString):  # comments, doctype, CDATA
            return
        if isinstance(node, NavigableString):
            parts.append(re.sub(r"\s+", " ", node))  # a line wrapped in the source is no break
        elif isinstance(node, Tag) and node.name not in ("script", "style"):
            block = node.name in BLOCKS
            parts.append("\n" if block else "")
            for child in node.children:
                walk(child)
            parts.append("\n" if block else "")

    for node in nodes:
        walk(node)
    return _join((" ".join(line.split()) for line in "".join(parts).split("\n")), "\n")


def _soup(content: bytes | str) -> BeautifulSoup:
    return BeautifulSoup(content, "html.parser")


def _base(soup: BeautifulSoup, url: str) -> str:
    base = soup.find("base", href=True)
    return urljoin(url, base["href"]) if base else url


def _programme_url(soup: BeautifulSoup, url: str) -> str:
    """The page's own URL; for a saved file (`citylinks parse`) its canonical link."""
    if url.startswith(("http://", "https://")):
        return url
    canonical = soup.find("link", rel="canonical", href=True)
    return urljoin(url, canonical["href"]) if canonical else url


def _label(node: Tag) -> str:
    return (_clean(node.get_text(" ")) or "").rstrip(":").strip()


def _clean(text: str | None) -> str | None:
    return " ".join(text.split()) or None if text else None


def _join(values, separator: str = "; ") -> str | None:
    return separator.join(v for v in values if v) or None
