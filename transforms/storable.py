"""Can the warehouse store this row? Checked before loading, against the tables' own definitions.

PostgreSQL rejects a NUL character in text and a string longer than its varchar; SQLite
accepts both. Checking here, on every backend alike, turns what would fail a whole source's
transaction on PostgreSQL into a quarantined row with its reason on both.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import BigInteger, Integer, String, Table

#: Characters no warehouse value may hold: NUL (PostgreSQL text cannot) and lone surrogates
#: (not encodable as UTF-8: what undecodable bytes become).
_UNSTORABLE = r"[\x00\ud800-\udfff]"
_INT_RANGE = {Integer: 2**31 - 1, BigInteger: 2**63 - 1}


def violations(frame: pd.DataFrame, table: Table) -> pd.Series:
    """Per row: why `table` could not store it ("; "-joined), or NA."""
    reasons = pd.Series(pd.NA, index=frame.index, dtype="string")
    for column in table.columns:
        if column.name not in frame.columns:
            continue
        values = frame[column.name]
        where = f"{table.name}.{column.name}"
        if not column.nullable and column.server_default is None:
            reasons = _add(reasons, values.isna(), f"{column.name} is empty but {where} requires a value")
        if isinstance(column.type, String):  # Text included (a String without length)
            text = values.astype("string")
            bad = text.str.contains(_UNSTORABLE, regex=True).fillna(False)
            reasons = _add(reasons, bad, f"{column.name} contains a NUL character or bytes that are not valid "
                                         f"UTF-8, which {where} cannot store")
            limit = getattr(column.type, "length", None)
            if limit:
                lengths = text.str.len()
                too_long = (lengths > limit).fillna(False)
                reasons = _add(reasons, too_long, column.name + " is " + _thousands(lengths) +
                               f" characters long; {where} holds at most {limit}")
        for kind, bound in _INT_RANGE.items():
            if type(column.type) is kind and pd.api.types.is_numeric_dtype(values):
                out_of_range = (values.astype("Float64").abs() > bound).fillna(False)
                reasons = _add(reasons, out_of_range, column.name + " " + values.astype("string") +
                               f" does not fit {where}")
    return reasons


def _thousands(numbers: pd.Series) -> pd.Series:
    return numbers.map(lambda n: f"{int(n):,}" if pd.notna(n) else "?").astype("string")


def _add(reasons: pd.Series, mask: pd.Series, text: pd.Series | str) -> pd.Series:
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return reasons
    text = pd.Series(text, index=reasons.index, dtype="string") if isinstance(text, str) else text.astype("string")
    joined = reasons.where(reasons.isna(), reasons + "; ").fillna("") + text
    return reasons.mask(mask, joined)


def shorten(value: str, limit: int = 80) -> str:
    """A long value as it appears in a reason: its start and its length."""
    return value if len(value) <= limit else f"{value[:limit]}… ({len(value):,} characters)"
