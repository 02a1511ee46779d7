"""The sources the pipeline knows, by name. Each module tells its own story (see its docstring)."""
from __future__ import annotations

from types import ModuleType

from extractors import twincities_dataset, wikidata_twinnings, wikipedia_twinning_sections

SOURCES: dict[str, ModuleType] = {
    module.SOURCE.name: module
    for module in (wikidata_twinnings, twincities_dataset, wikipedia_twinning_sections)
}


def get(name: str) -> ModuleType:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(SOURCES)}") from None
