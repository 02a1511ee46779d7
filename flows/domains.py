"""What the pipeline does per domain: the stage step bound to each declared domain.

A source module declares its domain and record contract (`SOURCE`); the domain's tables, keys,
versioned columns and suites are declared in `schemas.domains`; here each domain gets its pure
stage function and the load it takes — one generic load for every versioned domain.
Registers (official lists of municipalities) load first: the other domains' staging resolves
their members and sides against them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from schemas.domains import FUNDING, FUNDING_CALLS, MEMBERSHIPS, PARTNERSHIPS, DomainSpec


@dataclass(frozen=True)
class Domain:
    name: str
    stage: Callable[..., object]  # (frame, places=, index=, register=, progress=) -> staged
    load: Callable[..., object]  # warehouse load function, called with the staged parts
    first: bool = False  # loaded before the other domains are staged
    spec: DomainSpec | None = None  # a relation domain's declaration (None: the register)


def _stage_partnerships(frame: pd.DataFrame, *, places, index, register, progress):
    from schemas.overrides import load_overrides
    from transforms.staging import stage

    return stage(frame, places=places, index=index, register=register, overrides=load_overrides(),
                 progress=progress)


def _stage_memberships(frame: pd.DataFrame, *, places, index, register, progress):
    from transforms.memberships import stage_memberships

    return stage_memberships(frame, places=places, index=index, register=register, progress=progress)


def _stage_funding(frame: pd.DataFrame, *, places, index, register, progress):
    from transforms.funding import stage_funding

    return stage_funding(frame)


def _stage_calls(frame: pd.DataFrame, *, places, index, register, progress):
    from transforms.funding import stage_calls

    return stage_calls(frame)


def _stage_register(frame: pd.DataFrame, *, places, index, register, progress):
    from transforms.registers import stage_register

    return stage_register(frame, places=places, index=index, progress=progress)


def _relation_load(spec: DomainSpec):
    def load(engine, staged, **kwargs):
        from warehouse.load import load_source

        return load_source(engine, source=staged.source, assertions=staged.assertions,
                           municipalities=staged.municipalities, rejected=staged.rejected,
                           rows_extracted=staged.rows_extracted, rows_duplicate=staged.duplicates_collapsed,
                           spec=spec, **kwargs)
    return load


def _load_register(engine, staged, **kwargs):
    from warehouse.load import load_register

    return load_register(engine, source=staged.source, municipalities=staged.municipalities,
                         rejected=staged.rejected, rows_extracted=staged.rows_extracted,
                         rows_duplicate=staged.duplicates_collapsed, **kwargs)


DOMAINS = {
    "registers": Domain("registers", _stage_register, _load_register, first=True),
    "partnerships": Domain("partnerships", _stage_partnerships, _relation_load(PARTNERSHIPS), spec=PARTNERSHIPS),
    "memberships": Domain("memberships", _stage_memberships, _relation_load(MEMBERSHIPS), spec=MEMBERSHIPS),
    "funding": Domain("funding", _stage_funding, _relation_load(FUNDING), spec=FUNDING),
    "funding_calls": Domain("funding_calls", _stage_calls, _relation_load(FUNDING_CALLS), spec=FUNDING_CALLS),
}


def of(source_module) -> Domain:
    return DOMAINS[source_module.SOURCE.domain]
