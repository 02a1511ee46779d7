"""Expectation suites, as data: one per staged table, checked before anything is loaded.

Kept as plain specs so importing schemas never pulls in Great Expectations (slow to import);
`transforms.quality` turns them into GX Core 1.x expectations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pycountry

from schemas.domains import MEMBERSHIP_ROLES, MEMBERSHIP_STATUSES
from schemas.funding import DEADLINE_KINDS, ELIGIBLE_CLASSES, FUNDING_TYPES, REGION_LEVELS, THEMES
from schemas.networks import network_keys
from schemas.records import RELATION_TYPES

MUNICIPALITY_KINDS = ("municipality", "borough", "locality", "district", "region", "association",
                      "unincorporated_area", "group", "organisation", "other")
#: ISO 3166-1 alpha-2 plus XK (Kosovo, user-assigned but used by the EU and GeoNames).
ISO2_CODES = sorted({c.alpha_2 for c in pycountry.countries} | {"XK"})
#: Earliest year a twinning can plausibly start (Paderborn–Le Mans, 836) and the latest.
FIRST_YEAR = 836


@dataclass(frozen=True)
class Expectation:
    type: str  # GX expectation class name
    kwargs: dict = field(default_factory=dict)
    row_level: bool = True  # failing rows go to quarantine; False: the whole table fails
    meaning: str = ""  # what a failure means, in words, for quarantine reasons

    @property
    def explained(self) -> str:
        return f"{self.meaning} [{self.label}]" if self.meaning else f"failed {self.label}"

    @property
    def label(self) -> str:
        target = self.kwargs.get("column") or self.kwargs.get("column_list") or ""
        if not target and "column_A" in self.kwargs:
            target = f"{self.kwargs['column_A']},{self.kwargs['column_B']}"
        return f"{self.type}({target})" if target else self.type


def partnership_source_suite(today: date | None = None) -> list[Expectation]:
    this_year = (today or date.today()).year
    not_null = ["source", "record_key", "municipality_a_id", "municipality_b_id", "partnership_key",
                "source_url", "extracted_at"]
    return [
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": 1}, row_level=False),
        *[Expectation("ExpectColumnValuesToNotBeNull", {"column": c}, meaning=f"{c} is missing") for c in not_null],
        Expectation("ExpectCompoundColumnsToBeUnique", {"column_list": ["source", "record_key"], "ignore_row_if": "never"},
                    meaning="the source states this record key more than once"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "a_country_code", "value_set": ISO2_CODES},
                    meaning="country of side A is not an ISO 3166-1 code"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "b_country_code", "value_set": ISO2_CODES},
                    meaning="country of side B is not an ISO 3166-1 code"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "is_self_pair", "value_set": [False]},
                    meaning="both sides are the same municipality"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "relation_type", "value_set": list(RELATION_TYPES)},
                    meaning="unknown relation type"),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "start_year", "min_value": FIRST_YEAR, "max_value": this_year},
                    meaning=f"start year outside {FIRST_YEAR}–{this_year}"),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "end_year", "min_value": FIRST_YEAR, "max_value": this_year},
                    meaning=f"end year outside {FIRST_YEAR}–{this_year}"),
        Expectation("ExpectColumnPairValuesAToBeGreaterThanB", {
            "column_A": "end_year", "column_B": "start_year", "or_equal": True,
            "ignore_row_if": "either_value_is_missing"}, meaning="ends before it starts"),
    ]


def municipality_suite() -> list[Expectation]:
    return [
        Expectation("ExpectColumnValuesToNotBeNull", {"column": "municipality_id"}, meaning="has no id"),
        Expectation("ExpectColumnValuesToBeUnique", {"column": "municipality_id"}, meaning="id given twice"),
        Expectation("ExpectColumnValuesToNotBeNull", {"column": "name"},
                    meaning="has no name (the source gives only an id, e.g. a Wikidata item without a label)"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "country_code", "value_set": ISO2_CODES},
                    meaning="country is not an ISO 3166-1 code"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "match_status",
                                                    "value_set": ["resolved", "ambiguous", "unresolved"]},
                    meaning="unknown match status"),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "match_score", "min_value": 0, "max_value": 1},
                    meaning="match score outside 0–1"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "kind", "value_set": list(MUNICIPALITY_KINDS)},
                    meaning="unknown municipality kind"),
    ]


def partnership_suite(today: date | None = None) -> list[Expectation]:
    """The consolidated pairs, checked inside the load before any version is written."""
    this_year = (today or date.today()).year
    return [
        *[Expectation("ExpectColumnValuesToNotBeNull", {"column": c}, row_level=False)
          for c in ("partnership_key", "municipality_a_id", "municipality_b_id", "relation_type")],
        Expectation("ExpectColumnValuesToBeUnique", {"column": "partnership_key"}, row_level=False),
        # ids sorted and distinct: an undirected pair, never a municipality with itself
        Expectation("ExpectColumnPairValuesAToBeGreaterThanB", {
            "column_A": "municipality_b_id", "column_B": "municipality_a_id", "or_equal": False,
            "ignore_row_if": "either_value_is_missing"}, row_level=False),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "relation_type", "value_set": list(RELATION_TYPES)},
                    row_level=False),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "start_year", "min_value": FIRST_YEAR,
                                                      "max_value": this_year}, row_level=False),
    ]


def register_suite() -> list[Expectation]:
    """An official register's rows: one row per official key, a name, a place in the country."""
    return [
        Expectation("ExpectColumnValuesToNotBeNull", {"column": "ags"}, meaning="has no AGS"),
        Expectation("ExpectColumnValuesToMatchRegex", {"column": "ags", "regex": r"^\d{8}$"},
                    meaning="AGS is not 8 digits"),
        Expectation("ExpectColumnValuesToBeUnique", {"column": "ags"}, meaning="AGS stated twice"),
        Expectation("ExpectColumnValuesToNotBeNull", {"column": "name"}, meaning="has no name"),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "lat", "min_value": 47.2, "max_value": 55.1},
                    meaning="centroid latitude outside Germany"),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "lon", "min_value": 5.8, "max_value": 15.1},
                    meaning="centroid longitude outside Germany"),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "population", "min_value": 0},
                    meaning="negative population"),
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": 10_000}, row_level=False),
    ]


def membership_source_suite(today: date | None = None) -> list[Expectation]:
    """One source's memberships: a known network, the status vocabulary, a join not in the future
    and not before the network existed (`network_joins_from`: networks.yaml), ISO countries."""
    this_year = (today or date.today()).year
    not_null = ["source", "record_key", "network", "municipality_id", "membership_key", "status", "source_url",
                "extracted_at"]
    return [
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": 1}, row_level=False),
        *[Expectation("ExpectColumnValuesToNotBeNull", {"column": c}, meaning=f"{c} is missing") for c in not_null],
        Expectation("ExpectCompoundColumnsToBeUnique", {"column_list": ["source", "record_key"], "ignore_row_if": "never"},
                    meaning="the source states this record key more than once"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "network", "value_set": sorted(network_keys())},
                    meaning="network not in schemas/networks.yaml"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "status", "value_set": list(MEMBERSHIP_STATUSES)},
                    meaning="unknown membership status"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "role", "value_set": list(MEMBERSHIP_ROLES)},
                    meaning="unknown membership role"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "country_code", "value_set": ISO2_CODES},
                    meaning="country is not an ISO 3166-1 code"),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "since_year", "max_value": this_year},
                    meaning=f"joined after {this_year} (in the future)"),
        Expectation("ExpectColumnPairValuesAToBeGreaterThanB", {
            "column_A": "since_year", "column_B": "network_joins_from", "or_equal": True,
            "ignore_row_if": "either_value_is_missing"}, meaning="joined before the network was founded"),
        Expectation("ExpectColumnPairValuesAToBeGreaterThanB", {
            "column_A": "until_year", "column_B": "since_year", "or_equal": True,
            "ignore_row_if": "either_value_is_missing"}, meaning="left before it joined"),
        Expectation("ExpectColumnValuesToMatchRegex", {"column": "since_date", "regex": r"^\d{4}-\d{2}-\d{2}$"},
                    meaning="join date is not an ISO date"),
    ]


def membership_suite(today: date | None = None) -> list[Expectation]:
    """The consolidated memberships, checked inside the load before any version is written:
    one current membership per member and network."""
    this_year = (today or date.today()).year
    return [
        *[Expectation("ExpectColumnValuesToNotBeNull", {"column": c}, row_level=False)
          for c in ("membership_key", "network", "municipality_id", "status")],
        Expectation("ExpectColumnValuesToBeUnique", {"column": "membership_key"}, row_level=False),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "network", "value_set": sorted(network_keys())},
                    row_level=False),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "status", "value_set": list(MEMBERSHIP_STATUSES)},
                    row_level=False),
        Expectation("ExpectColumnValuesToBeBetween", {"column": "since_year", "max_value": this_year},
                    row_level=False),
    ]


def _listed(vocabulary) -> str:
    """A '; '-joined list of words from `vocabulary`, nothing else."""
    word = "(?:" + "|".join(vocabulary) + ")"
    return rf"^{word}(?:; {word})*$"


def funding_programme_source_suite() -> list[Expectation]:
    """One source's programmes: amounts ≥ 0 and max ≥ min, shares in 0–100, absolute URLs, the
    region and deadline vocabularies, an ISO deadline."""
    url = r"^https?://"
    return [
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": 1}, row_level=False),
        *[Expectation("ExpectColumnValuesToNotBeNull", {"column": c}, meaning=f"{c} is missing")
          for c in ("source", "record_key", "programme_key", "title", "source_url", "extracted_at")],
        Expectation("ExpectCompoundColumnsToBeUnique", {"column_list": ["source", "record_key"], "ignore_row_if": "never"},
                    meaning="the source states this record key more than once"),
        *[Expectation("ExpectColumnValuesToBeBetween", {"column": c, "min_value": 0}, meaning=f"{c} is negative")
          for c in ("amount_min_eur", "amount_max_eur")],
        *[Expectation("ExpectColumnValuesToBeBetween", {"column": c, "min_value": 0, "max_value": 100},
                      meaning=f"{c} outside 0–100 %") for c in ("funding_share_pct", "own_contribution_pct")],
        Expectation("ExpectColumnPairValuesAToBeGreaterThanB", {
            "column_A": "amount_max_eur", "column_B": "amount_min_eur", "or_equal": True,
            "ignore_row_if": "either_value_is_missing"}, meaning="maximum amount below the minimum"),
        Expectation("ExpectColumnValuesToMatchRegex", {"column": "programme_url", "regex": url},
                    meaning="programme_url is not an absolute URL"),
        # a curated source is read from the repository ("repo:extractors/skew_programmes.yaml#nakopa")
        Expectation("ExpectColumnValuesToMatchRegex", {"column": "source_url", "regex": r"^(?:https?://|repo:|file:)"},
                    meaning="source_url is not an absolute URL"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "region_level", "value_set": list(REGION_LEVELS)},
                    meaning="unknown region level"),
        Expectation("ExpectColumnValuesToMatchRegex", {"column": "eligible_classes", "regex": _listed(ELIGIBLE_CLASSES)},
                    meaning="eligible applicants outside the vocabulary"),
        Expectation("ExpectColumnValuesToMatchRegex", {"column": "themes", "regex": _listed(THEMES)},
                    meaning="theme outside the vocabulary"),
        Expectation("ExpectColumnValuesToMatchRegex", {"column": "funding_types", "regex": _listed(FUNDING_TYPES)},
                    meaning="funding type outside the vocabulary"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "deadline_kind", "value_set": list(DEADLINE_KINDS)},
                    meaning="unknown deadline kind"),
        Expectation("ExpectColumnValuesToMatchRegex", {"column": "deadline", "regex": r"^\d{4}-\d{2}-\d{2}$"},
                    meaning="deadline is not an ISO date"),
    ]


def funding_call_source_suite() -> list[Expectation]:
    """One source's calls: closes ≥ opens, status consistent with the run's day, amounts ≥ 0,
    max ≥ min contribution, the status vocabulary, absolute URLs, ISO dates."""
    iso = r"^\d{4}-\d{2}-\d{2}$"
    return [
        Expectation("ExpectTableRowCountToBeBetween", {"min_value": 1}, row_level=False),
        *[Expectation("ExpectColumnValuesToNotBeNull", {"column": c}, meaning=f"{c} is missing")
          for c in ("source", "record_key", "call_key", "title", "source_url", "extracted_at")],
        Expectation("ExpectCompoundColumnsToBeUnique", {"column_list": ["source", "record_key"], "ignore_row_if": "never"},
                    meaning="the source states this record key more than once"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "status", "value_set": ["forthcoming", "open", "closed"]},
                    meaning="unknown call status"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "status_consistent", "value_set": [True]},
                    meaning="status contradicts the call's dates on the run's day"),
        Expectation("ExpectColumnValuesToBeInSet", {"column": "closes_after_opens", "value_set": [True]},
                    meaning="closes before it opens"),
        *[Expectation("ExpectColumnValuesToMatchRegex", {"column": c, "regex": iso}, meaning=f"{c} is not an ISO date")
          for c in ("opens", "closes")],
        *[Expectation("ExpectColumnValuesToBeBetween", {"column": c, "min_value": 0}, meaning=f"{c} is negative")
          for c in ("budget_eur", "min_contribution_eur", "max_contribution_eur")],
        Expectation("ExpectColumnPairValuesAToBeGreaterThanB", {
            "column_A": "max_contribution_eur", "column_B": "min_contribution_eur", "or_equal": True,
            "ignore_row_if": "either_value_is_missing"}, meaning="maximum contribution below the minimum"),
        *[Expectation("ExpectColumnValuesToMatchRegex", {"column": c, "regex": r"^https?://"},
                      meaning=f"{c} is not an absolute URL") for c in ("call_url", "source_url")],
    ]


def funding_call_suite() -> list[Expectation]:
    return [
        *[Expectation("ExpectColumnValuesToNotBeNull", {"column": c}, row_level=False) for c in ("call_key", "title")],
        Expectation("ExpectColumnValuesToBeUnique", {"column": "call_key"}, row_level=False),
    ]


def funding_programme_suite() -> list[Expectation]:
    """The consolidated programmes, checked inside the load before any version is written."""
    return [
        *[Expectation("ExpectColumnValuesToNotBeNull", {"column": c}, row_level=False) for c in ("programme_key", "title")],
        Expectation("ExpectColumnValuesToBeUnique", {"column": "programme_key"}, row_level=False),
        Expectation("ExpectColumnPairValuesAToBeGreaterThanB", {
            "column_A": "amount_max_eur", "column_B": "amount_min_eur", "or_equal": True,
            "ignore_row_if": "either_value_is_missing"}, row_level=False),
    ]


SUITES = {"partnership_source": partnership_source_suite, "municipality": municipality_suite,
          "partnership": partnership_suite, "register": register_suite,
          "membership_source": membership_source_suite, "membership": membership_suite,
          "funding_programme_source": funding_programme_source_suite, "funding_programme": funding_programme_suite,
          "funding_call_source": funding_call_source_suite, "funding_call": funding_call_suite}
