"""Curated identity decisions a maintainer makes, as data: `identity_overrides.csv`.

Each row says: a side written `name` (in `country`; where `partner_of` is given, only when the
other side of the relation is that municipality) is the place `scheme:value` (geonames, ags
or wikidata), for `reason`. Reviewed like code; applied before the resolver's own answer.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

OVERRIDES = Path(__file__).resolve().parent / "identity_overrides.csv"
COLUMNS = ["name", "country", "partner_of", "scheme", "value", "reason"]
SCHEMES = {"geonames", "ags", "wikidata"}


def load_overrides(path: Path = OVERRIDES) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
    if list(frame.columns) != COLUMNS:
        raise ValueError(f"{path}: columns must be {COLUMNS}, not {list(frame.columns)}")
    bad = frame[~frame["scheme"].isin(SCHEMES) | frame["value"].isna() | frame["name"].isna()
                | frame["reason"].isna()]
    if len(bad):
        raise ValueError(f"{path}: rows {list(bad.index + 2)} need a name, a scheme in {sorted(SCHEMES)}, a value "
                         "and a reason")
    return frame
