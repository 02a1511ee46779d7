"""What `citylinks export` writes: each analyst view as one typed file, and how to find the
sources — and so the licences — of each of its rows.

Declarations only (warehouse/export.py reads and writes). Column types are declared, not taken
from the database: SQLite hands back dates as text and booleans as integers, and a file is only
readable without fixes if every column has one type whatever the backend.
"""
from __future__ import annotations

from dataclasses import dataclass

#: The column types of the declarations, with the Table Schema (Frictionless) type of each.
TYPES = {"string": "string", "int": "integer", "float": "number", "bool": "boolean", "date": "date",
         "timestamp": "datetime"}

#: The column every file with rows from sources gets: SPDX ids of their licences, sorted, ';'-joined.
LICENCES_COLUMN = "licences"
#: Where a row's source has no licence in the `source` table: not to be republished unchecked.
UNKNOWN_LICENCE = "LicenseRef-Unknown"


@dataclass(frozen=True)
class SourcesColumn:
    """The row names its sources itself: source names in `column`, comma-separated."""
    column: str


@dataclass(frozen=True)
class StatedBy:
    """The sources whose current assertions state the row's relation (view `provenance` of
    `domain`); the relation key is the `key_columns` joined by '|'."""
    domain: str
    key_columns: tuple[str, ...]


@dataclass(frozen=True)
class KeyPrefix:
    """Keys composed as '<source>:<record_key>': one source per row, named by its key."""
    column: str


@dataclass(frozen=True)
class IdentitySources:
    """An identity's name, codes and coordinates come from the official register (it has an AGS or
    was matched by the register) and from the gazetteer (it has a GeoNames id); one that neither
    knows is named as the sources of its relations write it, so those sources are its sources."""
    register: str = "destatis_municipalities"
    gazetteer: str = "geonames_gazetteer"


Sourcing = SourcesColumn | StatedBy | KeyPrefix | IdentitySources


@dataclass(frozen=True)
class Dataset:
    name: str
    sql: str
    description: str
    columns: dict[str, str]  # name -> type (TYPES), in the view's order
    sources: Sourcing | None = None  # None: aggregates and the warehouse's own records
    #: unique per row: Table Schema `primaryKey` (so BI tools and Frictionless can check it)
    primary_key: tuple[str, ...] = ()
    #: (column, dataset, its column): what the column points at — Table Schema `foreignKeys`
    references: tuple[tuple[str, str, str], ...] = ()

    @property
    def fields(self) -> dict[str, str]:
        """The file's columns: the view's, then `licences` where the rows come from sources."""
        return {**self.columns, LICENCES_COLUMN: "string"} if self.sources else dict(self.columns)


def _s(*names: str) -> dict[str, str]:
    return dict.fromkeys(names, "string")


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "partnership_sides",
        "SELECT * FROM partnership_sides ORDER BY partnership_key, municipality_id",
        "Every current partnership twice, once from each side, with the sources stating it.",
        {**_s("partnership_key", "municipality_id", "municipality", "kind", "country_code", "ags", "land",
              "partner_id", "partner", "partner_kind", "partner_country", "partner_land", "relation_type"),
         "since": "int", "until": "int", "sources": "string", "valid_from": "timestamp"},
        SourcesColumn("sources"),
        primary_key=("partnership_key", "municipality_id"),
        references=(("municipality_id", "municipalities", "municipality_id"),
                    ("partner_id", "municipalities", "municipality_id"))),
    Dataset(
        "networks_per_municipality",
        "SELECT * FROM networks_per_municipality ORDER BY municipality_id, network",
        "Current memberships of municipalities in city networks: status, role, since and until.",
        {**_s("municipality_id", "member_name", "member_kind", "country_code", "ags", "network", "network_name",
              "network_acronym", "status", "role"),
         "since_year": "int", "since_date": "date", "until_year": "int", "valid_from": "timestamp"},
        StatedBy("membership", ("network", "municipality_id")),
        primary_key=("network", "municipality_id"),
        references=(("municipality_id", "municipalities", "municipality_id"),)),
    Dataset(
        "members_per_network_country",
        "SELECT * FROM members_per_network_country "
        "ORDER BY network, country_code NULLS LAST, member_kind NULLS LAST",
        "Current members per city network, member country and kind of member (counts).",
        {**_s("network", "network_name", "country_code", "member_kind"), "members": "int", "listed_or_active": "int"}),
    Dataset(
        "programmes_for_municipalities",
        "SELECT * FROM programmes_for_municipalities ORDER BY theme NULLS LAST, programme_key",
        "Current funding programmes open to municipalities, one row per theme they carry.",
        {**_s("theme", "programme_key", "title", "funder", "region_level", "laender", "themes"),
         "amount_min_eur": "float", "amount_max_eur": "float", "own_contribution_pct": "float", "deadline": "date",
         "deadline_kind": "string", "programme_url": "string"},
        KeyPrefix("programme_key")),
    Dataset(
        "open_funding_calls",
        "SELECT * FROM open_funding_calls ORDER BY call_key",
        "Current calls for proposals open or forthcoming and not past their last deadline on the export day.",
        {**_s("call_key", "call_identifier", "title", "programme", "funder_key", "status"), "opens": "date",
         "closes": "date", "deadlines": "string", "deadline_model": "string", "budget_eur": "float",
         "min_contribution_eur": "float", "max_contribution_eur": "float", "expected_grants": "int",
         "themes": "string", "call_url": "string", "valid_from": "timestamp"},
        KeyPrefix("call_key"), primary_key=("call_key",)),
    Dataset(
        "coverage_by_land",
        "SELECT * FROM coverage_by_land ORDER BY land",
        "Current partnerships with a side in each Land, next to the RGRE's count (2024).",
        {"land": "string", "partnerships": "int", "rgre_count": "int"}, primary_key=("land",)),
    Dataset(
        "coverage_by_size",
        "SELECT * FROM coverage_by_size ORDER BY size_class",
        "Official municipalities with at least one current partnership, by population class.",
        {"size_class": "string", "municipalities": "int", "with_partnership": "int", "percent": "float"}, primary_key=("size_class",)),
    Dataset(
        "run_changes",
        "SELECT * FROM run_changes ORDER BY run_at, run_id, domain, relation_key, change",
        "What each run opened (new, changed) or closed (ended), per relation.",
        {"run_id": "string", "run_at": "timestamp", **_s("domain", "relation_key", "change")}),
    Dataset(
        "provenance",
        "SELECT * FROM provenance ORDER BY domain, source, record_key",
        "Every assertion of every source, current or ended, with the licence and attribution to credit it.",
        {**_s("domain", "relation_key", "source", "record_key", "source_url"), "is_current": "bool",
         "first_seen": "timestamp", "changed_at": "timestamp", "ended_at": "timestamp",
         **_s("licence_id", "licence", "attribution")},
        SourcesColumn("source"),
        primary_key=("domain", "source", "record_key"), references=(("source", "source", "source"),)),
    Dataset(
        "source",
        "SELECT source, domain, url, licence_id, licence, attribution, recorded, updated_at FROM source "
        "ORDER BY source",
        "The sources with their licence and how to credit them.",
        {**_s("source", "domain", "url", "licence_id", "licence", "attribution", "recorded"),
         "updated_at": "timestamp"}, primary_key=("source",)),
    Dataset(
        "municipalities",
        "SELECT municipality_id, name, kind, country_code, ags, official_name, region_name, district_name, "
        "geonames_id, wikidata_qid, latitude, longitude, population, match_method, match_status "
        "FROM municipality WHERE merged_into IS NULL ORDER BY municipality_id",
        "The live municipality identities the other files name by municipality_id.",
        {**_s("municipality_id", "name", "kind", "country_code", "ags", "official_name", "region_name",
              "district_name"), "geonames_id": "int", "wikidata_qid": "string", "latitude": "float",
         "longitude": "float", "population": "int", "match_method": "string", "match_status": "string"},
        IdentitySources(), primary_key=("municipality_id",)),
)
