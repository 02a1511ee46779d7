"""Förderdatenbank extractor on real recorded pages of foerderdatenbank.de (see fixtures' PROVENANCE.md)."""
from datetime import datetime, timezone
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from extractors import foerderdatenbank as fdb
from extractors.base import SourceChanged
from extractors.http import FetchError, HttpStatusError
from schemas.records import FUNDING_PROGRAMME

FIXTURES = Path(__file__).parent / "fixtures" / "foerderdatenbank"
WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)
SITE = "https://www.foerderdatenbank.de"
PROGRAMMES = SITE + "/FDB/Content/DE/Foerderprogramm"
MULTI = PROGRAMMES + "/Land/Thueringen/beteiligungen-thueringen-mbg-express.html"
RECHTS = PROGRAMMES + "/Land/Thueringen/schulbezogene-jahresprogramme-bne.html"
SINGLE = PROGRAMMES + "/Bund/BMWi/exist-women-2024.html"
ALT = PROGRAMMES + "/Bund/BMBF/foerderung-forschende-fachaerztinnen-unimedizin.html"
DETAILS = {"detail_multi_desc.html": MULTI, "detail_rechts_only.html": RECHTS,
           "detail_single_desc.html": SINGLE, "details_single_desc_alt.html": ALT}
SEARCH = SITE + "/SiteGlobals/FDB/Forms/Suche/Foederprogrammsuche_Formular.html"
PAGE_2 = SEARCH + "?gtp=%2526816beae2-d57e-4bdc-b55d-392bc1e17027_list%253D2&filterCategories=FundingProgram"


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def detail(name: str) -> dict:
    return fdb.parse_detail(page(name), url=DETAILS[name], extracted_at=WHEN)


# --- result list -------------------------------------------------------------------------------

def test_result_page_gives_hit_count_absolute_detail_urls_and_the_next_page():
    hits, urls, next_url = fdb.parse_list(page("overview.html"), url=fdb.LIST_URL)
    assert hits == 2395
    assert len(urls) == 10 and len(set(urls)) == 10
    # relative hrefs resolve against <base href>, not against the search page's own path
    assert urls[0] == PROGRAMMES + "/Land/Sachsen/buergschaft-sachsen-beteiligung.html"
    assert urls[1] == PROGRAMMES + "/Land/NRW/garantien-von-beteiligungen-an-kmu-der-gewerbliche.html"
    assert urls[-1] == MULTI  # the card of the page recorded as detail_multi_desc.html
    assert next_url == PAGE_2  # the page's own "weiter" link, query encoded twice as the site writes it


def test_page_n_is_built_in_the_form_of_the_pages_own_links():
    soup = BeautifulSoup(page("overview.html"), "html.parser")
    links = {a.get_text(strip=True): a["href"] for a in soup.select("a.page[href]")}
    assert fdb.page_url(links["2"], 240) == links["240"]
    assert fdb.page_url(links["240"], 3) == links["3"]
    with pytest.raises(ValueError):
        fdb.page_url(fdb.LIST_URL, 2)


def test_without_a_weiter_link_the_next_page_is_built_from_the_page_links():
    soup = BeautifulSoup(page("overview.html"), "html.parser")
    soup.select_one("a.forward").decompose()
    assert fdb.parse_list(str(soup), url=fdb.LIST_URL)[2] == PAGE_2


@pytest.mark.parametrize("name", ["detail_multi_desc.html", "detail_single_desc.html"])
def test_a_page_that_is_not_a_result_list_fails_the_source_naming_its_url(name):
    with pytest.raises(SourceChanged, match="hits--count") as error:
        fdb.parse_list(page(name), url=DETAILS[name])
    assert DETAILS[name] in str(error.value)


def test_parse_of_a_result_page_gives_one_record_per_card():
    records = fdb.parse(page("overview.html"), url=fdb.LIST_URL, extracted_at=WHEN)
    assert len(records) == 10 and all(r["reject_reason"] is None for r in records)
    first = records[0]
    assert first["title"] == "Beteiligungsgarantien der Bürgschaftsbank Sachsen"
    assert first["record_key"] == "/FDB/Content/DE/Foerderprogramm/Land/Sachsen/buergschaft-sachsen-beteiligung.html"
    assert first["eligible"] == "Existenzgründer/in; Unternehmen"
    assert first["areas"] == "Existenzgründung & -festigung; Unternehmensfinanzierung"
    teilhabe = records[4]
    assert teilhabe["title"].startswith("Investive Förderung von Einrichtungen, Diensten und Angeboten")
    assert teilhabe["eligible"] == "Kommune; Öffentliche Einrichtung; Verband/Vereinigung"
    assert teilhabe["areas"] == "Gesundheit & Soziales; Infrastruktur"
    assert records[-1]["programme_url"] == MULTI and records[-1]["source_url"] == fdb.LIST_URL
    assert len(FUNDING_PROGRAMME.to_frame(records)) == 10


def test_every_category_label_of_the_sites_facets_survives_the_split():
    """The site writes several categories as one ', '-joined text; one label has a comma itself."""
    soup = BeautifulSoup(page("overview.html"), "html.parser")
    opener = next(b for b in soup.select("button.sidebar--accordion-opener")
                  if b.get_text(strip=True) == "Förderbereich")
    labels = [s.get_text(strip=True) for s in opener.find_next_sibling("ul").select(".link--label")]
    assert "Kultur, Medien & Sport" in labels
    dd = BeautifulSoup(f"<dd>{', '.join(labels)}</dd>", "html.parser").dd
    assert fdb._categories([dd]).split("; ") == labels


# --- detail pages ------------------------------------------------------------------------------

def test_detail_with_three_tabs():
    r = detail("detail_multi_desc.html")
    assert r["reject_reason"] is None
    assert r["title"] == "Beteiligungen der Mittelständischen Beteiligungsgesellschaft Thüringen mbH (MBG express)"
    assert r["record_key"] == MULTI.removeprefix(SITE) and r["record_key"].startswith("/FDB/Content/DE/")
    assert (r["funding_type"], r["areas"], r["region"], r["eligible"]) == (
        "Beteiligung", "Unternehmensfinanzierung", "Thüringen", "Unternehmen")
    assert r["funder"] is None and r["funder_url"] is None  # this page has no Fördergeber
    assert r["contact"].splitlines() == [
        "Mittelständische Beteiligungsgesellschaft Thüringen mbH (MBG)", "Bonifaciusstraße 19", "99084 Erfurt",
        "Tel: 0361 21350", "Fax: 0361 2135100", "info@mbg-thueringen.de", "https://www.mbg-thueringen.de/"]
    assert r["links"] == "https://mbg-thueringen.de/loesungen/mbg-express/"
    summary = r["summary"].splitlines()
    assert summary[:2] == ["Kurztext", "Wenn Sie Investitionen planen, um die Wettbewerbsfähigkeit Ihres "
                           "Unternehmens zu verbessern, können Sie unter bestimmten Voraussetzungen eine Beteiligung "
                           "erhalten."]
    assert "Sie erhalten die Förderung als stille Beteiligung bis zu EUR 140.000." in summary
    assert r["details"].splitlines()[:2] == ["rechtliche Voraussetzungen",
                                             "Die Förderung ist an bestimmte Bedingungen geknüpft."]
    legal = r["legal_basis"].splitlines()
    assert legal[:2] == ["Richtlinie", "Beteiligungsrichtlinien der Mittelständischen Beteiligungsgesellschaft "
                                       "Thüringen mbH (MBG Thüringen)"]
    assert "Offene Beteiligungen bis zu einer Höhe von 300.000 EUR pro Unternehmen." in legal
    # no tab leaks into another, and the cookie banner's "Rechtsgrundlage" is not read
    assert "Kurztext" not in r["legal_basis"] and "TTDSG" not in r["legal_basis"]


def test_detail_with_rechtsgrundlage_only():
    r = detail("detail_rechts_only.html")
    assert r["reject_reason"] is None
    assert r["title"] == ("Förderung von Bildung für nachhaltige Entwicklung (BNE) in Thüringen im non-formalen und "
                          "informellen Bildungsbereich")  # wrapped over two source lines
    assert (r["funding_type"], r["areas"], r["region"], r["eligible"]) == (
        "Zuschuss", "Aus- & Weiterbildung; Umwelt- & Naturschutz", "Thüringen", "Bildungseinrichtung")
    assert r["funder"] == "Thüringer Ministerium für Umwelt, Energie, Naturschutz und Forsten (TMUENF)"
    assert r["funder_url"] == (SITE + "/FDB/Content/DE/Foerdergeber/T/"
                               "tmuen-thueringer_ministerium_fuer_umwelt_energie_und_naturschutz.html")
    assert "poststelle@@tmuenf.thueringen.de" in r["contact"]  # the source's typo, kept as written
    assert r["summary"] is None and r["details"] is None
    assert r["legal_basis"].splitlines()[:2] == [
        "Richtlinie zur Förderung von Bildung für nachhaltige Entwicklung (BNE) in Thüringen im non-formalen und "
        "informellen Bildungsbereich", "vom: 31.07.2024"]
    assert r["links"] == "https://umwelt.thueringen.de/themen/nachhaltigkeit/bildung-fuer-nachhaltige-entwicklung"


def test_detail_with_one_description_and_several_links():
    r = detail("detail_single_desc.html")
    assert r["reject_reason"] is None
    assert r["title"] == ("Förderung von Unternehmerinnen in der Vorgründungsphase (EXIST-Women) im Rahmen des "
                          "Förderprogramms „Existenzgründungen aus der Wissenschaft“")
    assert r["funding_type"] == "Zuschuss" and r["region"] == "bundesweit"
    assert r["areas"] == ("Beratung; Existenzgründung & -festigung; Frauenförderung; "
                          "Forschung & Innovation (themenoffen)")
    assert r["eligible"] == "Forschungseinrichtung; Hochschule"
    assert r["funder"] == "Bundesministerium für Wirtschaft und Klimaschutz (BMWK)"
    assert r["contact"].splitlines()[:3] == ["Projektträger Jülich (PtJ)", "Forschungszentrum Jülich GmbH",
                                             "Geschäftsstelle Berlin"]
    assert r["links"].split("; ") == [
        "https://www.exist.de/EXIST/Navigation/DE/Gruendungsfoerderung/EXIST-WOMEN/EXIST-WOMEN/exist-women.html",
        "https://www.exist.de", "https://foerderportal.bund.de/easyonline/", "https://foerderportal.bund.de/easy/"]
    assert r["legal_basis"].startswith("Richtlinie zur Förderung von Unternehmerinnen in der Vorgründungsphase")
    assert "Im Jahr 2024 ist die Antragstellung bis zum 06.12.2024 möglich." in r["legal_basis"]


def test_detail_in_the_alternative_layout_without_foerderart_and_foerdergebiet():
    r = detail("details_single_desc_alt.html")
    assert r["reject_reason"] is None
    assert r["title"] == "Förderung von forschenden Fachärztinnen und Fachärzten in der Universitätsmedizin"
    assert r["funding_type"] is None and r["region"] is None
    assert r["areas"] == "Aus- & Weiterbildung; Forschung & Innovation (themenspezifisch); Gesundheit & Soziales"
    assert r["eligible"] == "Forschungseinrichtung; Hochschule"
    assert r["funder"] == "Bundesministerium für Bildung und Forschung (BMBF)"
    assert r["contact"].splitlines()[:2] == ["DLR Projektträger", "Bereich Gesundheit"]
    assert r["links"].split("; ")[1] == "https://projekttraeger.dlr.de/media/gesundheit/leitfaden/ACS2.pdf"
    assert r["legal_basis"].splitlines()[1] == "Die Frist zur Einreichung von Projektskizzen endete am 28.11.2024"


def test_all_detail_records_fit_the_contract():
    records = [detail(name) for name in DETAILS]
    frame = FUNDING_PROGRAMME.to_frame(records)
    assert frame["record_key"].is_unique and frame["reject_reason"].isna().all()
    assert all(frame[column].notna().all() for column in FUNDING_PROGRAMME.required)


def test_parse_of_a_saved_detail_page_keys_it_by_its_canonical_url():
    """`citylinks parse` passes a file:// URL; the page's canonical link names the programme."""
    path = FIXTURES / "detail_single_desc.html"
    [r] = fdb.parse(path.read_bytes(), url=path.resolve().as_uri(), extracted_at=WHEN)
    assert r["record_key"] == "/FDB/Content/DE/Foerderprogramm/Bund/BMWi/exist-women-2024.html"
    assert r["programme_url"] == SINGLE and r["source_url"] == path.resolve().as_uri()
    assert r["funder"] == "Bundesministerium für Wirtschaft und Klimaschutz (BMWK)"


# --- pages that do not fit: quarantine, never an exception -------------------------------------

def test_a_result_page_read_as_a_detail_page_is_rejected_not_raised():
    r = fdb.parse_detail(page("overview.html"), url=MULTI, extracted_at=WHEN)
    assert "no dl.document-info-fundingprogram" in r["reject_reason"]  # the cards' dl's do not count
    assert (r["source"], r["record_key"], r["source_url"], r["extracted_at"]) == (
        "foerderdatenbank", "/FDB/Content/DE/Foerderprogramm/Land/Thueringen/beteiligungen-thueringen-mbg-express.html",
        MULTI, WHEN)
    assert r["title"] == "Fördersuche"  # what was found is kept
    assert len(FUNDING_PROGRAMME.to_frame([r])) == 1


@pytest.mark.parametrize("name", list(DETAILS))
def test_a_truncated_detail_page_is_rejected_keeping_what_was_found(name):
    content = page(name)
    halved = fdb.parse_detail(content[: len(content) // 2], url=DETAILS[name], extracted_at=WHEN)
    assert "truncated" in halved["reject_reason"]
    start = content.index(b"document-info-fundingprogram")  # cut again halfway through the dl
    in_dl = fdb.parse_detail(content[: (start + content.index(b"</dl>", start)) // 2], url=DETAILS[name],
                             extracted_at=WHEN)
    assert in_dl["reject_reason"] == "page is truncated (no closing </html>)"
    assert in_dl["title"] == detail(name)["title"] and in_dl["legal_basis"] is None
    for record in (halved, in_dl):
        assert record["record_key"] == detail(name)["record_key"] and record["source_url"] == DETAILS[name]
        assert record["extracted_at"] == WHEN and record["source"] == "foerderdatenbank"
    assert len(FUNDING_PROGRAMME.to_frame([halved, in_dl])) == 2


def test_the_byte_middle_of_most_detail_pages_lies_before_the_title():
    cut = page("detail_single_desc.html")[: len(page("detail_single_desc.html")) // 2]
    r = fdb.parse_detail(cut, url=SINGLE, extracted_at=WHEN)
    assert r["reject_reason"] == ("no title (h1); no dl.document-info-fundingprogram: not a programme detail page; "
                                  "page is truncated (no closing </html>)")


# --- the crawl ---------------------------------------------------------------------------------

class Response:
    def __init__(self, content: bytes, url: str):
        self.content, self.url, self.headers = content, url, {}


class FakeHttp:
    """Serves recorded pages by URL; `errors` maps a URL to the exception its fetch raises."""

    def __init__(self, pages: dict[str, bytes], errors: dict[str, Exception] | None = None):
        self.pages, self.errors, self.requested = pages, errors or {}, []

    def get(self, url, *, params=None, headers=None, expect=()):
        self.requested.append(url)
        if url in self.errors:
            raise self.errors[url]
        return Response(self.pages[url], url)


def crawl_pages(errors=None) -> tuple[FakeHttp, list[str]]:
    """The result page, and its ten detail URLs answered round-robin by the four real detail pages
    (this only exercises the crawl), except the third, answered by the result page itself."""
    _, urls, _ = fdb.parse_list(page("overview.html"), url=fdb.LIST_URL)
    names = list(DETAILS)
    pages = {fdb.LIST_URL: page("overview.html")}
    pages.update({url: page(names[n % len(names)]) for n, url in enumerate(urls)})
    pages[urls[2]] = page("overview.html")
    return FakeHttp(pages, errors), urls


def test_extract_gives_one_record_per_card_and_quarantines_a_page_that_is_no_detail():
    http, urls = crawl_pages()
    records = fdb.extract(http, max_pages=1)
    assert http.requested == [fdb.LIST_URL, *urls]
    assert [r["record_key"] for r in records] == [url.removeprefix(SITE) for url in urls]
    rejected = [r for r in records if r["reject_reason"]]
    assert [r["programme_url"] for r in rejected] == [urls[2]]
    assert "no dl.document-info-fundingprogram" in rejected[0]["reject_reason"]
    assert rejected[0]["title"] == "Fördersuche"
    assert records[0]["title"] == detail("detail_multi_desc.html")["title"]  # round-robin: first file
    assert all(r["extracted_at"] is not None for r in records)
    assert len(FUNDING_PROGRAMME.to_frame(records)) == 10


def test_a_detail_page_that_cannot_be_fetched_becomes_a_quarantine_record_with_the_cards_data():
    _, urls = crawl_pages()
    gone = HttpStatusError(f"HTTP 404 from {urls[4]} after 1 attempt", url=urls[4], status=404)
    http, _ = crawl_pages(errors={urls[4]: gone})
    records = fdb.extract(http, max_pages=1)
    assert len(records) == 10
    [lost] = [r for r in records if r["programme_url"] == urls[4]]
    assert lost["reject_reason"].startswith("detail page not fetched: HTTP 404")
    assert lost["title"].startswith("Investive Förderung von Einrichtungen")  # from the result card
    assert lost["eligible"] == "Kommune; Öffentliche Einrichtung; Verband/Vereinigung"
    assert len(FUNDING_PROGRAMME.to_frame(records)) == 10


def test_a_transient_failure_of_a_detail_page_is_left_to_the_task_retry():
    _, urls = crawl_pages()
    http, _ = crawl_pages(errors={urls[1]: FetchError("timed out", url=urls[1], transient=True)})
    with pytest.raises(FetchError, match="timed out"):
        fdb.extract(http, max_pages=1)


def test_a_full_crawl_that_links_far_fewer_programmes_than_the_hit_count_fails_the_source():
    """Every list URL answers with the recorded first page: page 2 links back to page 2, the crawl
    stops there with 10 of 2,395 programmes."""
    http, _ = crawl_pages()
    http.pages[PAGE_2] = page("overview.html")
    with pytest.raises(SourceChanged, match="2,395 hits"):
        fdb.extract(http)
    assert http.requested == [fdb.LIST_URL, PAGE_2]  # no detail page fetched for a broken list


def test_a_list_page_that_does_not_parse_fails_the_source():
    http = FakeHttp({fdb.LIST_URL: page("detail_rechts_only.html")})
    with pytest.raises(SourceChanged, match="not a result page"):
        fdb.extract(http)


def test_source_info():
    assert fdb.SOURCE.name == "foerderdatenbank" and fdb.SOURCE.domain == "funding"
    assert fdb.SOURCE.contract is FUNDING_PROGRAMME and fdb.SOURCE.licence == "CC BY-ND 3.0 DE (texts)"
