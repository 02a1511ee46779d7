"""Reading single cells of spreadsheets and CSV files whose coordinates are evidence, not facts:
a number with a decimal comma is read, anything missing or unreadable is simply no evidence."""
from __future__ import annotations


def number(value) -> float | None:
    """A number cell, or text such as "37,22999954" (decimal comma) or "51.41"; None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip().replace(" ", "").replace(",", "."))
    except ValueError:
        return None


def coordinate(value, limit: float) -> float | None:
    """Missing, unreadable, zero or out of range is no evidence (not a reason to refuse the row)."""
    found = number(value)
    return found if found is not None and found != 0 and -limit <= found <= limit else None
