"""Every source names a licence the exports and the report know how to credit."""
import pytest

from extractors import registry
from schemas.licences import LICENCES, licence


def test_every_source_declares_a_known_licence():
    rows = registry.declarations()
    assert {row["source"] for row in rows} >= set(registry.SOURCES) | {"geonames_gazetteer"}
    for row in rows:
        assert row["licence_id"] in LICENCES, row["source"]


def test_wikipedia_derived_sources_are_share_alike_and_wikidata_is_not():
    by_source = {row["source"]: licence(row["licence_id"]) for row in registry.declarations()}
    assert by_source["wikipedia_twinning_sections"].share_alike
    assert by_source["twincities_dataset"].share_alike  # scraped from Wikipedia lists
    assert not by_source["wikidata_twinnings"].attribution_required
    assert by_source["destatis_municipalities"].id == "DL-DE-BY-2.0"
    assert by_source["covenant_of_mayors"].attribution_required and not by_source["covenant_of_mayors"].share_alike


def test_an_unknown_licence_id_is_named():
    with pytest.raises(KeyError, match="CC-BY-9.0"):
        licence("CC-BY-9.0")
