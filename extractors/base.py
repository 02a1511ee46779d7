"""What every source module declares, and the errors a source raises."""
from __future__ import annotations

from dataclasses import dataclass

from schemas.records import RecordContract


@dataclass(frozen=True)
class SourceInfo:
    name: str
    domain: str  # partnerships | networks | funding
    url: str
    licence: str
    attribution: str
    recorded: str  # date of the bundled recording, "" if none
    contract: RecordContract


class SourceError(Exception):
    """The source as a whole cannot be used this run; the message says why."""


class SourceChanged(SourceError):
    """The response no longer has the structure the parser was written against."""


class EmptyResult(SourceChanged):
    """A response that should hold rows held none."""
