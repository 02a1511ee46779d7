"""What the pipeline does per domain: which stage step and which load step a source's rows take.

A source module declares its domain and record contract (`SOURCE`); this table maps the domain
to the pure stage function and the load function. Registers (official lists of municipalities)
load first: the other domains' staging resolves their sides against them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Domain:
    name: str
    stage: Callable[..., object]  # (frame, places=, index=, register=, progress=) -> staged
    load: Callable[..., object]  # warehouse load function, called with the staged parts
    first: bool = False  # loaded before the other domains are staged


def _stage_partnerships(frame: pd.DataFrame, *, places, index, register, progress):
    from schemas.overrides import load_overrides
    from transforms.staging import stage

    return stage(frame, places=places, index=index, register=register, overrides=load_overrides(),
                 progress=progress)


def _stage_register(frame: pd.DataFrame, *, places, index, register, progress):
    from transforms.registers import stage_register

    return stage_register(frame, places=places, index=index, progress=progress)


def _load_partnerships(engine, staged, **kwargs):
    from warehouse.load import load_source

    return load_source(engine, source=staged.source, assertions=staged.assertions,
                       municipalities=staged.municipalities, rejected=staged.rejected,
                       rows_extracted=staged.rows_extracted, rows_duplicate=staged.duplicates_collapsed, **kwargs)


def _load_register(engine, staged, **kwargs):
    from warehouse.load import load_register

    return load_register(engine, source=staged.source, municipalities=staged.municipalities,
                         rejected=staged.rejected, rows_extracted=staged.rows_extracted,
                         rows_duplicate=staged.duplicates_collapsed, **kwargs)


DOMAINS = {
    "registers": Domain("registers", _stage_register, _load_register, first=True),
    "partnerships": Domain("partnerships", _stage_partnerships, _load_partnerships),
}


def of(source_module) -> Domain:
    return DOMAINS[source_module.SOURCE.domain]
