"""The curated networks reference: every fact sourced, every network the seeds and sources name."""
import pytest

from extractors import covenant_of_mayors, etmun_member_lists
from schemas import networks


def test_every_network_named_by_the_seeds_and_the_member_sources_is_there():
    keys = networks.network_keys()
    named_by_seeds = {"uclg", "cemr", "eurocities", "rainbow_cities", "iccar", "eccar", "european_social_network",
                      "climate_alliance", "mayors_for_peace", "regio_nrw", "covenant_of_mayors", "connective_cities"}
    asked_for = {"iclei", "energy_cities", "union_of_baltic_cities", "cittaslow"}
    assert named_by_seeds | asked_for <= keys
    assert set(etmun_member_lists.NETWORKS.values()) | {covenant_of_mayors.NETWORK} <= keys


def test_disagreeing_sources_are_both_kept():
    _, claims = networks.load()
    founded = {(c.value, c.source) for c in claims if c.network == "eurocities" and c.field == "founded"}
    assert founded == {(1986, "seed003"), (1991, "etmun")}
    german = {c.value for c in claims if c.network == "climate_alliance" and c.field == "name_de"}
    assert german == {"Klima-Bündnis"}


@pytest.mark.parametrize("text, message", [
    ("sources: {s: x}\nnetworks:\n  - key: a\n    founded: [{value: 1990}]\n", "needs a source"),
    ("sources: {s: x}\nnetworks:\n  - key: a\n    founded: [{value: 1990, source: t}]\n", "needs a source"),
    ("sources: {s: x}\nnetworks:\n  - key: a\n  - key: a\n", "used twice"),
    ("sources: {s: x}\nnetworks:\n  - key: a\n    mascot: {value: owl, source: s}\n", "unknown field"),
    ("sources: {s: x}\nnetworks:\n  - key: a\n    admits: {value: [cats], source: s}\n", "not member kinds"),
])
def test_an_unsourced_or_malformed_fact_is_refused(tmp_path, text, message):
    path = tmp_path / "networks.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(networks.NetworkFileError, match=message):
        networks.load(path)
