"""wikipedia_twinning_sections against real enwiki wikitext (Toronto 2015-03, Bodmin 2017-08).

Variants are made by editing copies of REAL lines of these files (or the real Böblingen dewiki
line format quoted in docs/sources.md §7), never by inventing new layouts.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from extractors import wikipedia_twinning_sections as W
from extractors.base import EmptyResult, SourceChanged
from extractors.http import HttpClient, add_recording
from schemas.records import PARTNERSHIP_ASSERTION, REJECT_REASON

FIXTURES = Path(__file__).parent / "fixtures" / "wikipedia"
TORONTO = (FIXTURES / "enwiki_Toronto_2015-03.wikitext").read_text(encoding="utf-8")
BODMIN = (FIXTURES / "enwiki_Bodmin_2017-08.wikitext").read_text(encoding="utf-8")
AT = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

FRANKFURT_LINE = "* {{flagicon|GER}} [[Frankfurt]], Germany (1989)"
KYIV_LINE = "* {{flagicon|UKR}} [[Kiev|Kyiv]], Ukraine (1991)"
CHICAGO_LINE = "* {{flagicon|USA}} [[Chicago]], United States (1991)"
BOEBLINGEN_LINE = ":{{FRA|#}} [[Pontoise]] (Frankreich), seit 1956"  # sources.md §7


def parse(wikitext: str, title: str = "Toronto", wiki: str = "en") -> list[dict]:
    return W.parse_wikitext(wikitext, title=title, wiki=wiki,
                            source_url=f"https://{wiki}.wikipedia.org/wiki/{title}", extracted_at=AT)


def by_name(rows: list[dict]) -> dict[str, dict]:
    return {r["b_name"]: r for r in rows if r["b_name"] is not None}


def toronto_with(old: str, new: str) -> str:
    assert old in TORONTO, old
    return TORONTO.replace(old, new, 1)


# --- the real articles ----------------------------------------------------------------------


def test_toronto_partnership_and_friendship_cities():
    rows = parse(TORONTO)
    assert [r["b_name"] for r in rows] == [
        "Chongqing", "Chicago", "Frankfurt", "Lisbon", "Milan", "São Paulo",
        "Ho Chi Minh City", "Kiev", "Quito", "Sagamihara", "Warsaw",
    ]
    rows_by = by_name(rows)
    partnership = {n for n, r in rows_by.items() if r["relation_type"] == "partnership"}
    friendship = {n for n, r in rows_by.items() if r["relation_type"] == "friendship"}
    assert partnership == {"Chongqing", "Chicago", "Frankfurt", "Lisbon", "Milan", "São Paulo"}
    assert friendship == {"Ho Chi Minh City", "Kiev", "Quito", "Sagamihara", "Warsaw"}
    assert rows_by["Chongqing"]["start_raw"] == "1986"  # the real text says 1986
    assert rows_by["Chicago"]["start_raw"] == "1991"
    assert rows_by["Frankfurt"]["start_raw"] == "1989"
    assert rows_by["Milan"]["start_raw"] == "2002"
    assert rows_by["Lisbon"]["start_raw"] is None and rows_by["São Paulo"]["start_raw"] is None
    assert {n: r["b_country"] for n, r in rows_by.items()} == {
        "Chongqing": "PRC", "Chicago": "USA", "Frankfurt": "GER", "Lisbon": "POR", "Milan": "ITA",
        "São Paulo": "BRA", "Ho Chi Minh City": "VIE", "Kiev": "UKR", "Quito": "ECU",
        "Sagamihara": "JPN", "Warsaw": "POL",
    }
    assert all(r["a_name"] == "Toronto" and r["a_country"] is None for r in rows)
    assert all(REJECT_REASON not in r for r in rows)


def test_toronto_reference_urls():
    rows_by = by_name(parse(TORONTO))
    # the item's own ref wins
    assert rows_by["Lisbon"]["reference_url"] == "http://www.anmp.pt/anmp/pro/mun1/gem101l0.php?cod_ent=M1100"
    assert rows_by["São Paulo"]["reference_url"].startswith("http://www3.prefeitura.sp.gov.br/cadlem/")
    # items without a ref inherit the header's ref; ";Friendship cities<ref name="IAP" />" re-uses it
    iap = "http://www.toronto.ca/invest-in-toronto/international-alliance-program.htm"
    assert rows_by["Frankfurt"]["reference_url"] == iap
    assert rows_by["Warsaw"]["reference_url"] == iap


def test_toronto_keys_and_contract():
    rows = parse(TORONTO)
    frankfurt = by_name(rows)["Frankfurt"]
    assert frankfurt["record_key"] == "en:Toronto:Frankfurt"
    assert frankfurt["source"] == "wikipedia_twinning_sections"
    assert frankfurt["source_url"] == "https://en.wikipedia.org/wiki/Toronto"
    frame = PARTNERSHIP_ASSERTION.to_frame(rows)
    assert len(frame) == 11
    assert frame["extracted_at"].dt.tz is not None
    assert not frame[list(PARTNERSHIP_ASSERTION.required)].isna().any().any()


def test_naming_rule_target_not_display():
    # documented rule: the link target, so [[Kiev|Kyiv]] gives "Kiev" ...
    assert "Kiev" in by_name(parse(TORONTO))
    # ... except a comma disambiguation of the display text, see Bodmin's Grass Valley
    assert W._partner_name("Grass Valley, California", "Grass Valley") == "Grass Valley"
    assert W._partner_name("Frankfurt (Oder)", "Frankfurt") == "Frankfurt (Oder)"


def test_bodmin_prose_yields_exactly_three_partners():
    rows = parse(BODMIN, title="Bodmin")
    assert [(r["b_name"], r["b_country"]) for r in rows] == [
        ("Bederkesa", "Germany"),
        ("Grass Valley", "United States"),
        ("Le Relecq-Kerhuon", "France"),
    ]
    assert all(r["relation_type"] == "partnership" for r in rows)  # "Town twinning" section
    assert {r["reference_url"] for r in rows} == {
        "http://thecornishlife.co.uk/twinned-towns-3-cornish-towns-surprising-sister-cities/"}


def test_article_without_twinning_section():
    start = TORONTO.index("==International relations==")
    end = TORONTO.index("==See also==")
    assert parse(TORONTO[:start] + TORONTO[end:]) == []


# --- variants of real lines -----------------------------------------------------------------


def test_html_entities_decoded():
    text = toronto_with(CHICAGO_LINE, "* {{flagicon|USA}} [[Chicago]],&nbsp;United&nbsp;States (1991)")
    text = text.replace("[[São Paulo]]", "[[S&atilde;o Paulo]]", 1)
    rows_by = by_name(parse(text))
    assert rows_by["Chicago"]["b_country"] == "USA"
    assert "São Paulo" in rows_by
    no_flag = toronto_with(CHICAGO_LINE, "* [[Chicago]],&nbsp;United&nbsp;States&nbsp;(1991)")
    chicago = by_name(parse(no_flag))["Chicago"]
    assert (chicago["b_country"], chicago["start_raw"]) == ("United States", "1991")


@pytest.mark.parametrize("raw", ["1958?", "c. 1990", "ca. 1990", "since 1989"])
def test_uncertain_years_kept_raw(raw):
    rows_by = by_name(parse(toronto_with(FRANKFURT_LINE, f"* {{{{flagicon|GER}}}} [[Frankfurt]], Germany ({raw})")))
    assert rows_by["Frankfurt"]["start_raw"] == raw


def test_year_range_gives_end_raw():
    rows_by = by_name(parse(toronto_with(FRANKFURT_LINE, "* {{flagicon|GER}} [[Frankfurt]], Germany (1989–2010)")))
    assert (rows_by["Frankfurt"]["start_raw"], rows_by["Frankfurt"]["end_raw"]) == ("1989", "2010")


def test_list_item_without_link_is_rejected_not_dropped():
    rows = parse(toronto_with(FRANKFURT_LINE, "* {{flagicon|GER}} Frankfurt, Germany (1989)"))
    rejected = [r for r in rows if REJECT_REASON in r]
    assert len(rows) == 11 and len(rejected) == 1
    assert rejected[0][REJECT_REASON].startswith("no partner link in list item: ")
    assert "Frankfurt, Germany (1989)" in rejected[0][REJECT_REASON]
    assert rejected[0]["b_name"] is None and rejected[0]["b_country"] == "GER"
    assert rejected[0]["record_key"] == "en:Toronto:Frankfurt, Germany (1989)"
    frame = PARTNERSHIP_ASSERTION.to_frame(rows)
    assert frame[REJECT_REASON].notna().sum() == 1


@pytest.mark.parametrize("name", ["Київ", "Θεσσαλονίκη", "重庆"])
def test_names_in_other_scripts_kept(name):
    rows_by = by_name(parse(toronto_with(KYIV_LINE, f"* {{{{flagicon|UKR}}}} [[{name}]], Ukraine (1991)")))
    assert rows_by[name]["record_key"] == f"en:Toronto:{name}"
    assert rows_by[name]["b_country"] == "UKR"


def test_duplicate_lines_give_two_rows_with_the_same_key():
    rows = parse(toronto_with(FRANKFURT_LINE, FRANKFURT_LINE + "\n" + FRANKFURT_LINE))
    frankfurt = [r for r in rows if r["b_name"] == "Frankfurt"]
    assert len(frankfurt) == 2  # deduplication is a transform's job
    assert frankfurt[0]["record_key"] == frankfurt[1]["record_key"]


def test_german_wiki_line_in_staedtepartnerschaften():
    text = f"Böblingen ist eine Stadt.\n\n== Städtepartnerschaften ==\n{BOEBLINGEN_LINE}\n\n== Literatur ==\n* [[Buch]]\n"
    rows = parse(text, title="Böblingen", wiki="de")
    assert len(rows) == 1
    row = rows[0]
    assert row["b_name"] == "Pontoise"
    assert row["b_country"] in ("FRA", "Frankreich")
    assert "1956" in row["start_raw"]
    assert row["relation_type"] == "partnership"
    assert row["record_key"] == "de:Böblingen:Pontoise"
    # without the country template the German parenthesis gives the country
    rows = parse(text.replace("{{FRA|#}} ", ""), title="Böblingen", wiki="de")
    assert (rows[0]["b_country"], rows[0]["start_raw"]) == ("Frankreich", "seit 1956")


def test_german_definition_list_headers():
    text = toronto_with(";Partnership cities", ";Partnerschaften").replace(";Friendship cities", ";Freundschaften", 1)
    rows_by = by_name(parse(text))
    assert rows_by["Frankfurt"]["relation_type"] == "partnership"
    assert rows_by["Warsaw"]["relation_type"] == "friendship"


def test_header_without_relation_keeps_relation():
    # a continent header (";Europe") is a grouping, not a relation type
    rows_by = by_name(parse(toronto_with(KYIV_LINE, ";Europe\n" + KYIV_LINE)))
    assert rows_by["Kiev"]["relation_type"] == "friendship"


def test_nested_group_item_gives_country():
    nested = "* Germany\n** [[Frankfurt]] (1989)"
    rows_by = by_name(parse(toronto_with(FRANKFURT_LINE, nested)))
    assert (rows_by["Frankfurt"]["b_country"], rows_by["Frankfurt"]["start_raw"]) == ("Germany", "1989")
    assert "Germany" not in rows_by


def test_international_relations_without_header_is_unspecified():
    section = TORONTO[TORONTO.index("==International relations=="):TORONTO.index("==See also==")]
    plain = "\n".join(line for line in section.split("\n") if not line.startswith(";"))
    rows = parse(plain)
    assert len(rows) == 11
    assert {r["relation_type"] for r in rows} == {"unspecified"}


def test_twinning_heading_variants_and_subsections():
    section = TORONTO[TORONTO.index("==International relations==") + len("==International relations=="):
                      TORONTO.index("==See also==")]
    for heading in ("Twin towns – sister cities", "Sister cities", "Partnerstädte", "twin towns and sister cities"):
        rows = parse(f"== {heading} ==\n{section}")
        assert len(rows) == 11, heading
    # subsections are included; a following same-level section ends it
    nested = f"== Politics ==\n=== International relations ===\n==== Details ====\n{section}== Economy ==\n* [[Bank]]\n"
    assert len(parse(nested)) == 11
    assert parse(f"== Economy ==\n{section}") == []


def test_consulate_subsection_is_not_read():
    section = TORONTO[TORONTO.index("==International relations=="):TORONTO.index("==See also==")]
    text = section + "===Consulates===\n* [[Consulate-General of Germany, Toronto]]\n"
    assert len(parse(text)) == 11


# --- API envelopes --------------------------------------------------------------------------


def query_envelope(*pages: dict) -> bytes:
    return json.dumps({"batchcomplete": True, "query": {
        "normalized": [{"fromencoded": False, "from": "toronto", "to": "Toronto"}],
        "pages": list(pages)}}, ensure_ascii=False).encode("utf-8")


def page(title: str, wikitext: str, pageid: int = 64646, revid: int | None = 650000000) -> dict:
    revision = {"slots": {"main": {"contentmodel": "wikitext", "contentformat": "text/x-wiki", "content": wikitext}}}
    if revid:
        revision["revid"] = revid
    return {"pageid": pageid, "ns": 0, "title": title, "revisions": [revision]}


QUERY_URL = "https://en.wikipedia.org/w/api.php?action=query&titles=Bodmin|Toronto"


def test_query_envelope_with_missing_page():
    content = query_envelope(page("Toronto", TORONTO), {"ns": 0, "title": "Nowhereville", "missing": True},
                             page("Bodmin", BODMIN, pageid=1, revid=None))
    rows = W.parse_api_response(content, url=QUERY_URL, extracted_at=AT)
    assert len(rows) == 14
    toronto = by_name(rows)["Frankfurt"]
    assert toronto["source_url"] == "https://en.wikipedia.org/w/index.php?title=Toronto&oldid=650000000"
    assert by_name(rows)["Bederkesa"]["source_url"] == "https://en.wikipedia.org/wiki/Bodmin"
    assert all(r["a_name"] != "Nowhereville" for r in rows)


def test_parse_envelope():
    content = json.dumps({"parse": {"title": "Toronto", "pageid": 64646, "wikitext": TORONTO}}).encode()
    rows = W.parse_api_response(content, url="https://en.wikipedia.org/w/api.php?action=parse&page=Toronto",
                                extracted_at=AT)
    assert [r["b_name"] for r in rows][:3] == ["Chongqing", "Chicago", "Frankfurt"]
    assert rows[0]["record_key"] == "en:Toronto:Chongqing"


def test_wiki_taken_from_url_host():
    content = json.dumps({"parse": {"title": "Böblingen", "pageid": 1,
                                    "wikitext": f"== Städtepartnerschaften ==\n{BOEBLINGEN_LINE}\n"}}).encode()
    rows = W.parse_api_response(content, url="https://de.wikipedia.org/w/api.php?action=parse&page=B%C3%B6blingen",
                                extracted_at=AT)
    assert rows[0]["record_key"] == "de:Böblingen:Pontoise"
    assert rows[0]["source_url"] == "https://de.wikipedia.org/wiki/B%C3%B6blingen"


def test_malformed_json_raises_source_changed():
    with pytest.raises(SourceChanged, match="is not JSON"):
        W.parse_api_response(b'{"query": {"pages": [', url=QUERY_URL, extracted_at=AT)
    with pytest.raises(SourceChanged, match="is not JSON"):
        W.parse_api_response(b"<!DOCTYPE html><html>Wikimedia Error</html>", url=QUERY_URL, extracted_at=AT)


def test_api_error_raises_source_changed():
    body = json.dumps({"error": {"code": "maxlag", "info": "Waiting for 10.0.0.1: 7 seconds lagged."},
                       "servedby": "mw1"}).encode()
    with pytest.raises(SourceChanged, match="maxlag: Waiting for"):
        W.parse_api_response(body, url=QUERY_URL, extracted_at=AT)


def test_unknown_shape_raises_source_changed():
    with pytest.raises(SourceChanged, match="neither query.pages nor parse.wikitext"):
        W.parse_api_response(b'{"batchcomplete": true}', url=QUERY_URL, extracted_at=AT)


def test_parse_of_missing_title_is_skipped():
    body = json.dumps({"error": {"code": "missingtitle", "info": "The page you specified doesn't exist."}}).encode()
    assert W.parse_api_response(body, url="https://en.wikipedia.org/w/api.php?action=parse&page=Nowhere",
                                extracted_at=AT) == []


# --- fetching -------------------------------------------------------------------------------


class FakeResponse:
    def __init__(self, content: bytes, date: str | None = None):
        self.content = content
        self.headers = {"Date": date} if date else {}


class FakeHttp:
    """Records calls; answers each query batch with its pages, split by one continuation."""

    def __init__(self, continue_first: bool = True):
        self.calls: list[tuple[str, str, dict]] = []
        self.continue_first = continue_first

    def get(self, url, params=None, headers=None, expect=()):
        self.calls.append(("GET", url, dict(params or {})))
        titles = params["titles"].split("|")
        if self.continue_first and "rvcontinue" not in params:
            body = {"continue": {"rvcontinue": "123|456", "continue": "||"},
                    "query": {"pages": [{"pageid": 1, "ns": 0, "title": titles[0]}]}}
        else:
            body = {"batchcomplete": True, "query": {"pages": [page(t, BODMIN.replace("Bodmin", t)) for t in titles]}}
        return FakeResponse(json.dumps(body).encode(), date="Wed, 01 May 2024 12:00:00 GMT")

    def post(self, url, data=None, headers=None, expect=()):
        self.calls.append(("POST", url, dict(data or {})))
        return FakeResponse(json.dumps({"head": {"vars": ["title"]}, "results": {"bindings": [
            {"title": {"type": "literal", "value": "Bielefeld"}},
            {"title": {"type": "literal", "value": "Aachen"}},
            {"title": {"type": "literal", "value": "Aachen"}}]}}).encode())


def test_fetch_batches_sorted_titles_and_follows_continuation():
    titles = [f"Town {i:03d}" for i in range(120, 0, -1)] + ["Town 005"]  # reversed, with a duplicate
    http = FakeHttp()
    responses = list(W.fetch(http, titles))
    batches = [c[2]["titles"].split("|") for c in http.calls if "rvcontinue" not in c[2]]
    assert [len(b) for b in batches] == [50, 50, 20]
    assert all(b == sorted(b) for b in batches)
    assert sum(batches, []) == sorted(set(titles))
    assert len(http.calls) == 6 and len(responses) == 6  # each batch + its continuation
    first, cont = http.calls[0][2], http.calls[1][2]
    assert first["maxlag"] == "5" and first["action"] == "query" and first["rvslots"] == "main"
    assert cont == {**first, "continue": "||", "rvcontinue": "123|456"}
    url, content = responses[1]
    assert parse_qs(urlparse(url).query)["rvcontinue"] == ["123|456"]
    assert json.loads(content)["batchcomplete"] is True


def test_extract_with_titles_parses_every_page_once():
    http = FakeHttp()
    rows = W.extract(http, titles=["Truro", "Bodmin"])
    assert {r["a_name"] for r in rows} == {"Truro", "Bodmin"}
    assert len(rows) == 6
    # extracted_at comes from the response's Date header (replays reproduce it)
    assert {r["extracted_at"] for r in rows} == {datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)}


def test_extract_discovers_titles_via_wdqs():
    http = FakeHttp(continue_first=False)
    rows = W.extract(http, extracted_at=AT)
    method, url, data = http.calls[0]
    assert (method, url) == ("POST", "https://query.wikidata.org/sparql")
    assert data["format"] == "json"
    assert "wdt:P439" in data["query"] and "wdt:P190" in data["query"]
    assert "<https://en.wikipedia.org/>" in data["query"]
    assert http.calls[1][2]["titles"] == "Aachen|Bielefeld"
    assert {r["a_name"] for r in rows} == {"Aachen", "Bielefeld"}
    assert {r["a_country"] for r in rows} == {"DE"}  # discovery selects German municipalities


def test_given_titles_carry_no_assumed_country():
    rows = W.extract(FakeHttp(continue_first=False), titles=["Bodmin"], extracted_at=AT)
    assert {r["a_country"] for r in rows} == {None}


def test_extract_raises_empty_result():
    class NoTitles(FakeHttp):
        def post(self, url, data=None, headers=None, expect=()):
            return FakeResponse(b'{"head": {"vars": ["title"]}, "results": {"bindings": []}}')

    with pytest.raises(EmptyResult, match="expected German municipality articles, got none"):
        W.extract(NoTitles())

    class AllMissing(FakeHttp):
        def get(self, url, params=None, headers=None, expect=()):
            pages = [{"ns": 0, "title": t, "missing": True} for t in params["titles"].split("|")]
            return FakeResponse(json.dumps({"batchcomplete": True, "query": {"pages": pages}}).encode())

    with pytest.raises(EmptyResult, match="no page with content"):
        W.extract(AllMissing(), titles=["Nowhere"])


def test_pages_without_section_are_fine():
    class Plain(FakeHttp):
        def get(self, url, params=None, headers=None, expect=()):
            pages = [page(t, "'''X''' is a town.\n== History ==\nOld.") for t in params["titles"].split("|")]
            return FakeResponse(json.dumps({"batchcomplete": True, "query": {"pages": pages}}).encode())

    assert W.extract(Plain(), titles=["A", "B"]) == []


def test_single_pages_replay_through_the_http_layer(tmp_path):
    """The bundled-replay path: action=parse recordings served by the project's HttpClient."""
    for title, wikitext in (("Toronto", TORONTO), ("Bodmin", BODMIN)):
        req = W.parse_request(title, wiki="en")
        body = json.dumps({"parse": {"title": title, "pageid": 0, "wikitext": wikitext}}, ensure_ascii=False)
        add_recording(tmp_path, "GET", req["url"], body.encode("utf-8"), params=req["params"],
                      headers={"content-type": "application/json; charset=utf-8"},
                      recorded_at="2015-03-01T00:00:00Z")
    with HttpClient(mode="replay", recordings_dir=tmp_path) as http:
        rows = W.extract(http, titles=["Toronto", "Bodmin"], single_pages=True, extracted_at=AT)
        url, content = W.fetch_one_parse(http, "Bodmin", "en")
    assert len(rows) == 14
    assert parse_qs(urlparse(url).query)["action"] == ["parse"]
    assert json.loads(content)["parse"]["title"] == "Bodmin"
