"""The declarative member-page engine: unverified specs never load; a verified spec parses real
list markup (the only list page recorded so far is a Förderdatenbank result page — no member page
is recorded yet), checks its contract and refuses a list that lost half of its reference."""
from dataclasses import replace
from pathlib import Path

import pytest

from extractors import network_member_pages as pages
from extractors import registry
from extractors.base import EmptyResult, SourceChanged
from schemas.networks import network_keys
from schemas.records import MEMBERSHIP_ASSERTION

LIST_PAGE = (Path(__file__).parent / "fixtures" / "foerderdatenbank" / "overview.html").read_bytes()
#: A spec as a maintainer would write it against that recording: one card per row.
CARDS = pages.PageSpec(network="eurocities", url="https://www.foerderdatenbank.de/SiteGlobals/FDB/Forms/Suche/"
                       "Foederprogrammsuche_Formular.html", reference=12, min_rows=5, verified="2024-01-01",
                       rows="div.card--fundingprogram", fields={"member_name": "p.card--title"})


class Http:
    """The HTTP layer as the engine sees it: a mode and GETs (real pages, from recordings)."""

    def __init__(self, mode: str, body: bytes = LIST_PAGE):
        self.mode, self.body, self.asked = mode, body, []

    def get(self, url, expect=()):
        self.asked.append(url)
        return type("Response", (), {"content": self.body, "headers": {}})()


def test_every_spec_names_a_reference_network_and_none_is_verified_so_none_runs_by_default():
    assert pages.SPECS and {s.network for s in pages.SPECS} <= network_keys()
    assert not any(s.verified for s in pages.SPECS) and not pages.RUNS_BY_DEFAULT
    assert "network_member_pages" not in registry.names(None)
    assert registry.names(["network_member_pages"]) == ["network_member_pages"]


def test_unverified_specs_are_fetched_only_to_record_and_never_load():
    live, record = Http("live"), Http("record")
    with pytest.raises(EmptyResult, match="no verified member page"):
        pages.extract(live)
    assert live.asked == []  # a live run does not even fetch them
    with pytest.raises(EmptyResult):
        pages.extract(record)
    assert record.asked == [s.url for s in pages.SPECS]  # recorded for the maintainer, nothing loaded


def test_a_verified_spec_parses_real_list_markup_into_the_membership_contract():
    records = pages.parse_page(CARDS, LIST_PAGE, url=CARDS.url)
    assert len(records) == 10 and all(r["member_name"] for r in records)
    assert records[0]["member_name"] == "Beteiligungsgarantien der Bürgschaftsbank Sachsen"  # the first card's title
    frame = MEMBERSHIP_ASSERTION.to_frame(records)
    assert frame["record_key"].is_unique and (frame["network"] == "eurocities").all()
    assert (frame["status"] == "member").all() and frame["reject_reason"].isna().all()


def test_a_page_that_no_longer_fits_its_selectors_fails_the_source():
    with pytest.raises(SourceChanged, match="the page changed"):
        pages.parse_page(replace(CARDS, rows="div.member-card"), LIST_PAGE, url=CARDS.url)


def test_a_list_with_less_than_half_of_its_reference_is_refused():
    with pytest.raises(SourceChanged, match="fewer than 50% of the 112"):
        pages.parse_page(replace(CARDS, reference=112), LIST_PAGE, url=CARDS.url)


def test_a_verified_spec_loads_and_unverified_ones_are_skipped(monkeypatch):
    monkeypatch.setattr(pages, "SPECS", [CARDS, *pages.SPECS])
    records = pages.extract(Http("replay"))
    assert len(records) == 10 and {r["network"] for r in records} == {"eurocities"}
