"""The rules every curated reference file shares (networks.yaml, funders.yaml, the SKEW
programmes): a list of entries, each with a key of its own and only known fields."""
from __future__ import annotations

from collections.abc import Iterable, Iterator


def keyed_entries(entries: Iterable | None, *, what: str, fields: frozenset[str], file: str,
                  error: type[Exception]) -> Iterator[tuple[str, dict]]:
    """(key, its fields without the key) per entry in file order; `error` names the file, the
    entry and the field where a key is missing or used twice or a field is unknown."""
    keys: set[str] = set()
    for entry in entries or []:
        key = entry.get("key") if isinstance(entry, dict) else None
        if not key or not isinstance(key, str) or key in keys:
            raise error(f"{file}: {what} key {key!r} missing or used twice")
        keys.add(key)
        unknown = next((field for field in entry if field != "key" and field not in fields), None)
        if unknown is not None:
            raise error(f"{file}: {key}: unknown field {unknown!r} (known: {', '.join(sorted(fields))})")
        yield key, {field: value for field, value in entry.items() if field != "key"}
