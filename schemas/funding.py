"""Vocabularies of the funding domain, shared by its sources, transforms and suites."""
from __future__ import annotations

from datetime import date, datetime, timezone

#: Themes a programme is tagged with (each tag with the rule that set it).
THEMES = ("partnership", "development_cooperation", "climate", "europe_citizenship", "integration", "ukraine",
          "youth", "culture", "middle_east", "maghreb", "governance")
#: What a programme gives, normalised from Förderart (Zuschuss, Darlehen …) or a curated kind.
FUNDING_TYPES = ("grant", "loan", "equity", "guarantee", "advice", "in_kind", "networking", "prize", "other")
#: Who may apply, normalised from the sources' words (Förderberechtigte …).
ELIGIBLE_CLASSES = ("municipality", "association", "company", "research", "public_body", "person", "ngo")
#: Where the money comes from / where a programme is open.
REGION_LEVELS = ("bund", "land", "eu", "other")
DEADLINE_KINDS = ("date", "annual", "rolling", "ended")
#: The German Länder as the Förderdatenbank writes them.
LAENDER = ("Baden-Württemberg", "Bayern", "Berlin", "Brandenburg", "Bremen", "Hamburg", "Hessen",
           "Mecklenburg-Vorpommern", "Niedersachsen", "Nordrhein-Westfalen", "Rheinland-Pfalz", "Saarland", "Sachsen",
           "Sachsen-Anhalt", "Schleswig-Holstein", "Thüringen")


def deadline_day() -> date:
    """The day deadlines are compared with, everywhere (staging, views, CLI, report): the UTC
    date — the views' SQL uses the same on SQLite and PostgreSQL, whatever the machine's zone."""
    return datetime.now(timezone.utc).date()
