"""What every source module declares, and the errors a source raises."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from schemas.records import RecordContract


@dataclass(frozen=True)
class SourceInfo:
    name: str
    domain: str  # partnerships | networks | funding
    url: str
    licence: str
    #: SPDX id (or LicenseRef-) of schemas/licences.py: what exports and the report say a row is under
    licence_id: str
    attribution: str
    recorded: str  # date of the bundled recording, "" if none
    contract: RecordContract


#: Media types the extractors accept; anything else (an HTML error page with 200) fails the source.
JSON_TYPES = ("application/json",)
SPARQL_TYPES = ("application/sparql-results+json", "application/json")


class SourceError(Exception):
    """The source as a whole cannot be used this run; the message says why."""


class SourceChanged(SourceError):
    """The response no longer has the structure the parser was written against."""


class EmptyResult(SourceChanged):
    """A response that should hold rows held none."""


def response_time(response) -> datetime:
    """When the data was obtained: the response's Date header, else now.

    Replaying a recording therefore yields the recording's time, so reruns are identical.
    """
    value = response.headers.get("Date") if response is not None else None
    if value:
        try:
            return parsedate_to_datetime(value).astimezone(timezone.utc)
        except (TypeError, ValueError):
            pass
    return datetime.now(timezone.utc)


def open_workbook(content: bytes, url: str, source: str):
    """An XLSX response as a read-only openpyxl workbook; anything else fails the source loudly."""
    import io

    from openpyxl import load_workbook

    try:
        return load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - not a workbook at all (an HTML error page, a truncated download)
        raise SourceChanged(f"{source}: {url} is not an XLSX workbook ({type(exc).__name__})") from exc


def number_repeated_keys(records: list[dict]) -> list[dict]:
    """Records of one fixed list that share a record key (two Münsters in one member list, told
    apart only by population) stay separate: the second and later get '|2', '|3' in list order."""
    seen: dict[str, int] = {}
    for record in records:
        key = record["record_key"]
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            record["record_key"] = f"{key}|{seen[key]}"
    return records
