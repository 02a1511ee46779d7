"""Wikidata P463 memberships, parsed from a real entity (Bielefeld, Q2112, 2023-04-04)."""
import json

import pytest

from extractors import wikidata_memberships as wm
from extractors import wikidata_twinnings
from extractors.base import SourceChanged
from schemas.networks import network_qids
from schemas.records import MEMBERSHIP_ASSERTION
from tests.support import bundled_path

BIELEFELD = wm.ENTITY_URL.format(qid="Q2112")


@pytest.fixture(scope="module")
def entity():
    return bundled_path("GET", BIELEFELD).read_bytes()


def test_only_statements_naming_a_reference_network_are_memberships(entity):
    records = wm.parse_entities(entity, url=BIELEFELD)
    # 5 P463 statements: Climate Alliance (Q1768108), Mayors for Peace (Q747279) — and three
    # associations outside the reference (AGFS NRW, Städtetag NRW, …), skipped
    assert sorted(r["network"] for r in records) == ["climate_alliance", "mayors_for_peace"]
    by_network = {r["network"]: r for r in records}
    assert by_network["climate_alliance"]["since_year"] == 1995 and by_network["climate_alliance"]["since_raw"] == "1995"
    peace = by_network["mayors_for_peace"]
    assert peace["since_raw"] == "1984-09" and peace["since_year"] == 1984 and peace["since_date"] is None
    assert all(r["member_ags"] == "05711000" and r["member_qid"] == "Q2112" and r["member_name"] == "Bielefeld"
               for r in records)
    assert all(r["status"] == "member" and r["record_key"].startswith("Q2112$") for r in records)
    frame = MEMBERSHIP_ASSERTION.to_frame(records)
    assert frame["member_lat"].between(51.9, 52.1).all() and frame["reject_reason"].isna().all()


def test_the_envelope_and_the_bare_entity_parse_alike(entity):
    bare = wm.parse(entity, url=BIELEFELD)
    envelope = wm.parse(json.dumps({"entities": {"Q2112": json.loads(entity)}}), url=BIELEFELD)
    strip = [{k: v for k, v in r.items() if k != "extracted_at"} for r in bare]
    assert strip == [{k: v for k, v in r.items() if k != "extracted_at"} for r in envelope]


def test_an_end_qualifier_makes_a_former_membership(entity):
    document = json.loads(entity)
    statement = next(s for s in document["claims"]["P463"]
                     if s["mainsnak"]["datavalue"]["value"]["id"] == "Q747279")
    statement.setdefault("qualifiers", {})["P582"] = [{"datavalue": {"value": {
        "time": "+2011-03-01T00:00:00Z", "precision": 11}}}]
    [peace] = [r for r in wm.parse_entities(document, url=BIELEFELD) if r["network"] == "mayors_for_peace"]
    assert peace["status"] == "former" and peace["until_year"] == 2011


def test_the_live_query_asks_for_every_network_with_a_qid():
    query = wm.request()["data"]["query"]
    assert network_qids() and all(f"wd:{qid}" in query for qid in network_qids())
    assert "p:P463" in query and "pqv:P580" in query and "wdt:P439" in query


def test_a_sparql_answer_without_the_querys_variables_is_a_changed_source():
    # a real WDQS answer to another query (P190 of German cities, 2017): not ours
    req = wikidata_twinnings.request()
    other = bundled_path("POST", req["url"], data=req["data"]).read_bytes()
    with pytest.raises(SourceChanged, match="lack"):
        wm.parse(other, url=wm.ENDPOINT)


def test_a_response_that_is_not_json_fails_this_source_by_its_own_name():
    with pytest.raises(SourceChanged, match=r"^wikidata_memberships: response from https://q\.example is not"):
        wm.parse(b"<html>rate limited</html>", url="https://q.example")
