"""The warehouse's public interface: tables downstream tools (SQL, notebooks, BI) read.

Stable names, documented in README.md. Same definitions on SQLite and PostgreSQL.
Conventions: `*_id`/`*_key` are natural text keys; timestamps are UTC; history follows
SCD type 2 (`valid_from`, `valid_to` NULL while current, `is_current`).
"""
from __future__ import annotations

import hashlib

import pandas as pd
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

#: One row per municipality identity. `municipality_id` is a surrogate (`m:00000042`) minted once
#: and never derived from a match result; the evidence that points at it (GeoNames id, QID, AGS,
#: a name) lives in `municipality_identifier`. An identity found to be another one's duplicate is
#: kept, with `merged_into` naming the survivor (and a row in `municipality_redirect`).
municipality = Table(
    "municipality",
    metadata,
    Column("municipality_id", String(200), primary_key=True),
    Column("geonames_id", BigInteger, nullable=True),
    Column("wikidata_qid", String(20), nullable=True),
    Column("ags", String(12), nullable=True, comment="Amtlicher Gemeindeschlüssel (German municipalities)"),
    Column("name", Text, nullable=False, comment="canonical name (GeoNames) or the name as the source wrote it"),
    Column("kind", String(20), nullable=False,
           comment="municipality | borough | district | region | association (from the name as written)"),
    Column("country_code", String(2), nullable=True),
    Column("admin1_code", String(20), nullable=True),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("population", BigInteger, nullable=True),
    Column("match_method", String(20), nullable=False),
    Column("match_score", Float, nullable=False),
    Column("match_status", String(20), nullable=False, comment="resolved | ambiguous | unresolved"),
    Column("first_load_id", String(64), nullable=False),
    Column("last_load_id", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    Column("merged_into", String(200), nullable=True,
           comment="the identity this one was found to duplicate; NULL for live identities"),
    Column("official_name", Text, nullable=True, comment="as the official register writes it ('Halle (Westf.), Stadt')"),
    Column("region_name", Text, nullable=True, comment="first-level region from the register (Land)"),
    Column("district_name", Text, nullable=True, comment="district from the register (Kreis)"),
    Column("postcode", String(10), nullable=True, comment="postcode of the seat, from the register"),
    Column("candidates", Text, nullable=True,
           comment="where ambiguous: the candidate places ('ags:…' official, 'gn:…' gazetteer), ';'-separated"),
    Column("part_of", String(200), nullable=True,
           comment="the official municipality (municipality_id) this borough or locality belongs to"),
)

#: The crosswalk: which evidence points at which identity. Schemes: `ags` (Amtlicher
#: Gemeindeschlüssel), `geonames`, `wikidata`, `name` (`<ISO2>:<normalised name>` of a place no
#: gazetteer resolved). Identifiers are re-pointed, never deleted, when identities merge.
municipality_identifier = Table(
    "municipality_identifier",
    metadata,
    Column("scheme", String(20), primary_key=True),
    Column("value", String(200), primary_key=True),
    Column("municipality_id", String(200), nullable=False),
    Column("method", String(20), nullable=False, comment="how it was attached: the match method, or 'merge'"),
    Column("score", Float, nullable=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, comment="last attached or re-pointed"),
    Column("load_id", String(64), nullable=False),
)
Index("ix_municipality_identifier_target", municipality_identifier.c.municipality_id)

#: Identities merged into another: the old id keeps working for whoever stored it.
municipality_redirect = Table(
    "municipality_redirect",
    metadata,
    Column("from_id", String(200), primary_key=True),
    Column("to_id", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("redirected_at", DateTime(timezone=True), nullable=False),
    Column("load_id", String(64), nullable=False),
)

#: SCD2: one row per version of an undirected partnership (a pair of municipalities).
partnership = Table(
    "partnership",
    metadata,
    Column("partnership_key", String(420), primary_key=True, comment="'<municipality_id>|<municipality_id>', ids sorted"),
    Column("valid_from", DateTime(timezone=True), primary_key=True),
    Column("valid_to", DateTime(timezone=True), nullable=True),
    Column("is_current", Boolean, nullable=False),
    Column("municipality_a_id", String(200), nullable=False),
    Column("municipality_b_id", String(200), nullable=False),
    Column("relation_type", String(30), nullable=False),
    Column("start_year", Integer, nullable=True),
    Column("end_year", Integer, nullable=True),
    Column("row_hash", String(64), nullable=False),
    Column("load_id", String(64), nullable=False),
)
Index("ix_partnership_current", partnership.c.is_current, partnership.c.partnership_key)
#: At most one current version per pair, enforced by the database on both backends.
Index("ux_partnership_one_current", partnership.c.partnership_key, unique=True,
      sqlite_where=partnership.c.is_current == True, postgresql_where=partnership.c.is_current == True)  # noqa: E712

#: Provenance: one row per assertion of a partnership by one source.
partnership_source = Table(
    "partnership_source",
    metadata,
    Column("source", String(60), primary_key=True),
    Column("record_key", String(600), primary_key=True),
    Column("partnership_key", String(420), nullable=False),
    Column("raw_name_a", Text, nullable=True),
    Column("raw_name_b", Text, nullable=True),
    Column("raw_country_a", Text, nullable=True),
    Column("raw_country_b", Text, nullable=True),
    Column("relation_type", String(30), nullable=False),
    Column("start_raw", Text, nullable=True),
    Column("start_year", Integer, nullable=True),
    Column("end_year", Integer, nullable=True),
    Column("reference_url", Text, nullable=True),
    Column("source_url", Text, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False, comment="the run that first saw this row (run time)"),
    Column("changed_at", DateTime(timezone=True), nullable=False,
           comment="the run that last wrote this row (new, changed, reasserted or ended); that a source still "
                   "states it is recorded per run in load_run, not by rewriting the row"),
    Column("is_current", Boolean, nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("row_hash", String(64), nullable=False),
    Column("load_id", String(64), nullable=False),
)
Index("ix_partnership_source_pair", partnership_source.c.partnership_key)
Index("ix_partnership_source_load", partnership_source.c.load_id)

def _provenance_columns() -> list[Column]:
    """History of a source's assertion, the same for every domain (see `partnership_source`)."""
    return [
        Column("first_seen", DateTime(timezone=True), nullable=False),
        Column("changed_at", DateTime(timezone=True), nullable=False),
        Column("is_current", Boolean, nullable=False),
        Column("ended_at", DateTime(timezone=True), nullable=True),
        Column("row_hash", String(64), nullable=False),
        Column("load_id", String(64), nullable=False),
    ]


#: SCD2: one row per version of a membership (a member of a city network).
membership = Table(
    "membership",
    metadata,
    Column("membership_key", String(420), primary_key=True, comment="'<network>|<municipality_id>'"),
    Column("valid_from", DateTime(timezone=True), primary_key=True),
    Column("valid_to", DateTime(timezone=True), nullable=True),
    Column("is_current", Boolean, nullable=False),
    Column("network", String(60), nullable=False, comment="the network's key (organisation.organisation_key)"),
    Column("municipality_id", String(200), nullable=False,
           comment="the member's identity; its kind (municipality, district, group …) is municipality.kind"),
    Column("status", String(20), nullable=False, comment="active | suspended | former | member (listed, state unstated)"),
    Column("role", String(20), nullable=True, comment="full | associate, where a source states it"),
    Column("since_year", Integer, nullable=True),
    Column("since_date", String(10), nullable=True, comment="ISO date, where a source states the day"),
    Column("until_year", Integer, nullable=True),
    Column("row_hash", String(64), nullable=False),
    Column("load_id", String(64), nullable=False),
)
Index("ix_membership_current", membership.c.is_current, membership.c.membership_key)
Index("ix_membership_member", membership.c.municipality_id)
#: At most one current membership per member and network, enforced by the database.
Index("ux_membership_one_current", membership.c.membership_key, unique=True,
      sqlite_where=membership.c.is_current == True, postgresql_where=membership.c.is_current == True)  # noqa: E712

#: Provenance: one row per membership as one source states it.
membership_source = Table(
    "membership_source",
    metadata,
    Column("source", String(60), primary_key=True),
    Column("record_key", String(600), primary_key=True),
    Column("membership_key", String(420), nullable=False),
    Column("network", String(60), nullable=False),
    Column("municipality_id", String(200), nullable=False),
    Column("member_id", Text, nullable=True, comment="the source's own id of the member"),
    Column("member_kind", String(20), nullable=True, comment="as the source types the member"),
    Column("raw_name", Text, nullable=True),
    Column("raw_country", Text, nullable=True),
    Column("country_code", String(2), nullable=True),
    Column("status", String(20), nullable=False),
    Column("role", String(20), nullable=True),
    Column("since_raw", Text, nullable=True),
    Column("since_date", String(10), nullable=True),
    Column("since_year", Integer, nullable=True),
    Column("until_year", Integer, nullable=True),
    Column("commitments", Text, nullable=True),
    Column("source_url", Text, nullable=False),
    *_provenance_columns(),
)
Index("ix_membership_source_key", membership_source.c.membership_key)
Index("ix_membership_source_load", membership_source.c.load_id)

#: SCD2: one row per version of an organisation (a city network) from schemas/networks.yaml.
organisation = Table(
    "organisation",
    metadata,
    Column("organisation_key", String(60), primary_key=True, comment="the curated key in networks.yaml"),
    Column("valid_from", DateTime(timezone=True), primary_key=True),
    Column("valid_to", DateTime(timezone=True), nullable=True),
    Column("is_current", Boolean, nullable=False),
    Column("kind", String(20), nullable=False, comment="network | funder"),
    Column("wikidata_qid", String(20), nullable=True),
    Column("name_en", Text, nullable=True),
    Column("name_de", Text, nullable=True),
    Column("acronym", Text, nullable=True),
    Column("founded", Integer, nullable=True, comment="the earliest founding year a source states"),
    Column("scope", Text, nullable=True),
    Column("secretariat", Text, nullable=True),
    Column("website", Text, nullable=True),
    Column("themes", Text, nullable=True, comment="';'-separated"),
    Column("admits", Text, nullable=True, comment="member kinds it admits, ';'-separated"),
    Column("claims", JSON, nullable=False, comment="every fact with the source it comes from"),
    Column("row_hash", String(64), nullable=False),
    Column("load_id", String(64), nullable=False),
)
Index("ux_organisation_one_current", organisation.c.organisation_key, unique=True,
      sqlite_where=organisation.c.is_current == True, postgresql_where=organisation.c.is_current == True)  # noqa: E712

#: Columns a funding programme is described by, in provenance and versions alike: the
#: normalised facts (transforms/funding), each amount and deadline with its evidence in `evidence`.
def _programme_columns() -> list[Column]:
    return [
        Column("title", Text, nullable=False),
        Column("funder", Text, nullable=True, comment="Fördergeber as the source writes it"),
        Column("funder_key", String(60), nullable=True,
               comment="the funder's organisation_key (schemas/funders.yaml), where its text names one"),
        Column("funding_types", Text, nullable=True,
               comment="grant | loan | equity | guarantee | advice | in_kind | networking | prize | other, ';'-separated"),
        Column("region_level", String(10), nullable=True, comment="bund | land | eu | other"),
        Column("laender", Text, nullable=True, comment="the Länder it is open in, ';'-separated (region_level land)"),
        Column("eligible_classes", Text, nullable=True,
               comment="municipality | association | company | research | ngo | person | public_body, ';'-separated"),
        Column("municipalities_eligible", Boolean, nullable=True),
        Column("themes", Text, nullable=True, comment="partnership, development_cooperation, climate … ';'-separated"),
        Column("amount_min_eur", Float, nullable=True),
        Column("amount_max_eur", Float, nullable=True),
        Column("funding_share_pct", Float, nullable=True),
        Column("own_contribution_pct", Float, nullable=True),
        Column("duration_months", Integer, nullable=True),
        Column("deadline", String(10), nullable=True, comment="ISO date of the (next) closing date, where stated"),
        Column("deadline_kind", String(10), nullable=True, comment="date | annual | rolling | ended"),
        Column("programme_url", Text, nullable=True),
    ]


#: Provenance: one row per funding programme as one source states it (its own words kept).
funding_programme_source = Table(
    "funding_programme_source",
    metadata,
    Column("source", String(60), primary_key=True),
    Column("record_key", String(600), primary_key=True),
    Column("programme_key", String(420), nullable=False, comment="'<source>:<record_key>'"),
    *_programme_columns(),
    Column("funding_type", Text, nullable=True),
    Column("areas", Text, nullable=True),
    Column("region", Text, nullable=True),
    Column("eligible", Text, nullable=True),
    Column("summary", Text, nullable=True),
    Column("details", Text, nullable=True),
    Column("legal_basis", Text, nullable=True),
    Column("links", Text, nullable=True),
    Column("evidence", Text, nullable=True,
           comment="JSON: per extracted fact the text span, rule and confidence it came from"),
    Column("source_url", Text, nullable=False),
    *_provenance_columns(),
)
Index("ix_funding_programme_source_key", funding_programme_source.c.programme_key)
Index("ix_funding_programme_source_load", funding_programme_source.c.load_id)

#: SCD2: one row per version of a funding programme.
funding_programme = Table(
    "funding_programme",
    metadata,
    Column("programme_key", String(420), primary_key=True),
    Column("valid_from", DateTime(timezone=True), primary_key=True),
    Column("valid_to", DateTime(timezone=True), nullable=True),
    Column("is_current", Boolean, nullable=False),
    *_programme_columns(),
    Column("row_hash", String(64), nullable=False),
    Column("load_id", String(64), nullable=False),
)
Index("ux_funding_programme_one_current", funding_programme.c.programme_key, unique=True,
      sqlite_where=funding_programme.c.is_current == True,  # noqa: E712
      postgresql_where=funding_programme.c.is_current == True)  # noqa: E712

def _call_columns() -> list[Column]:
    return [
        Column("call_identifier", Text, nullable=True),
        Column("title", Text, nullable=False),
        Column("programme", Text, nullable=True, comment="the programme as the source names it (EU: frameworkProgramme)"),
        Column("funder_key", String(60), nullable=True, comment="the funder's organisation_key, where the source names one"),
        Column("status", String(12), nullable=True, comment="forthcoming | open | closed"),
        Column("opens", String(10), nullable=True, comment="ISO date"),
        Column("closes", String(10), nullable=True, comment="ISO date of the last deadline"),
        Column("deadlines", Text, nullable=True, comment="every deadline, ISO dates ';'-separated"),
        Column("deadline_model", String(40), nullable=True),
        Column("budget_eur", Float, nullable=True),
        Column("min_contribution_eur", Float, nullable=True),
        Column("max_contribution_eur", Float, nullable=True),
        Column("expected_grants", Integer, nullable=True),
        Column("themes", Text, nullable=True, comment="as for funding_programme, ';'-separated"),
        Column("call_url", Text, nullable=True),
    ]


#: Provenance: one row per call (an EU topic) as one source states it.
funding_call_source = Table(
    "funding_call_source",
    metadata,
    Column("source", String(60), primary_key=True),
    Column("record_key", String(600), primary_key=True),
    Column("call_key", String(420), nullable=False, comment="'<source>:<record_key>'"),
    *_call_columns(),
    Column("status_raw", String(40), nullable=True),
    Column("types_of_action", Text, nullable=True),
    Column("summary", Text, nullable=True),
    Column("languages", Text, nullable=True),
    Column("source_url", Text, nullable=False),
    *_provenance_columns(),
)
Index("ix_funding_call_source_key", funding_call_source.c.call_key)
Index("ix_funding_call_source_load", funding_call_source.c.load_id)

#: SCD2: one row per version of a call (a status change, a moved deadline, a new budget).
funding_call = Table(
    "funding_call",
    metadata,
    Column("call_key", String(420), primary_key=True),
    Column("valid_from", DateTime(timezone=True), primary_key=True),
    Column("valid_to", DateTime(timezone=True), nullable=True),
    Column("is_current", Boolean, nullable=False),
    *_call_columns(),
    Column("row_hash", String(64), nullable=False),
    Column("load_id", String(64), nullable=False),
)
Index("ux_funding_call_one_current", funding_call.c.call_key, unique=True,
      sqlite_where=funding_call.c.is_current == True,  # noqa: E712
      postgresql_where=funding_call.c.is_current == True)  # noqa: E712

#: The sources with their licence and attribution (from each source module's declaration),
#: refreshed every run: provenance rows name their `source`, this table says how to credit it.
source = Table(
    "source",
    metadata,
    Column("source", String(60), primary_key=True),
    Column("domain", String(20), nullable=False),
    Column("url", Text, nullable=False),
    Column("licence", Text, nullable=False),
    Column("attribution", Text, nullable=False),
    Column("recorded", Text, nullable=True, comment="the date of the bundled recording"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("licence_id", String(60), nullable=True, comment="SPDX id (or LicenseRef-) of the licence, schemas/licences.py"),
)

#: Audit: one row per source per run. `run_id` is the Prefect flow-run id.
load_run = Table(
    "load_run",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("source", String(60), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("status", String(20), nullable=False, comment="running | loaded | failed | cancelled | aborted"),
    Column("rows_extracted", Integer, nullable=False, default=0),
    Column("rows_new", Integer, nullable=False, default=0),
    Column("rows_changed", Integer, nullable=False, default=0),
    Column("rows_ended", Integer, nullable=False, default=0),
    Column("rows_unchanged", Integer, nullable=False, default=0),
    Column("rows_quarantined", Integer, nullable=False, default=0),
    Column("rows_duplicate", Integer, nullable=False, default=0, server_default="0",
           comment="exact copies of another extracted row, collapsed into it"),
    Column("message", Text, nullable=True),
    Column("content_hash", String(64), nullable=True,
           comment="SHA-256 of the staged rows this load wrote (order-independent); equal to the last loaded "
                   "run's = unchanged"),
)

#: Rejected records, with the reason and the raw record. A rejection seen again in a later
#: run is not written twice (same source, record hash and reason).
quarantine = Table(
    "quarantine",
    metadata,
    Column("source", String(60), primary_key=True),
    Column("record_hash", String(64), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("record_key", String(600), nullable=True),
    Column("raw_record", JSON, nullable=False),
    Column("first_run_id", String(64), nullable=False),
    Column("quarantined_at", DateTime(timezone=True), nullable=False),
)

PUBLIC_TABLES = ("municipality", "municipality_identifier", "municipality_redirect", "partnership",
                 "partnership_source", "membership", "membership_source", "organisation", "funding_programme", "funding_programme_source",
                 "funding_call", "funding_call_source", "source", "load_run", "quarantine")


# --- row hashes: what counts as a change ------------------------------------------------------

#: Columns whose change makes a new partnership version.
PARTNERSHIP_VERSIONED = ["municipality_a_id", "municipality_b_id", "relation_type", "start_year", "end_year"]
#: Columns whose change counts as a changed assertion of a source.
ASSERTION_TRACKED = [
    "partnership_key", "raw_name_a", "raw_name_b", "raw_country_a", "raw_country_b", "relation_type",
    "start_raw", "start_year", "end_year", "reference_url", "source_url",
]

#: Columns whose change makes a new membership version.
MEMBERSHIP_VERSIONED = ["network", "municipality_id", "status", "role", "since_year", "since_date", "until_year"]
#: Columns whose change counts as a changed membership assertion of a source.
MEMBERSHIP_TRACKED = [
    "membership_key", "member_id", "member_kind", "raw_name", "raw_country", "country_code", "status", "role",
    "since_raw", "since_date", "since_year", "until_year", "commitments", "source_url",
]
#: Columns whose change makes a new organisation version.
ORGANISATION_VERSIONED = ["kind", "wikidata_qid", "name_en", "name_de", "acronym", "founded", "scope", "secretariat",
                          "website", "themes", "admits", "claims"]

#: Columns whose change makes a new funding programme version.
PROGRAMME_VERSIONED = ["title", "funder", "funder_key", "funding_types", "region_level", "laender", "eligible_classes", "municipalities_eligible",
                       "themes", "amount_min_eur", "amount_max_eur", "funding_share_pct", "own_contribution_pct",
                       "duration_months", "deadline", "deadline_kind", "programme_url"]
#: Columns whose change counts as a changed programme assertion of a source.
PROGRAMME_TRACKED = ["programme_key", *PROGRAMME_VERSIONED, "funding_type", "areas", "region", "eligible", "summary",
                     "details", "legal_basis", "links", "evidence", "source_url"]

#: Columns whose change makes a new call version.
CALL_VERSIONED = ["call_identifier", "title", "programme", "funder_key", "status", "opens", "closes", "deadlines", "deadline_model",
                  "budget_eur", "min_contribution_eur", "max_contribution_eur", "expected_grants", "themes",
                  "call_url"]
#: Columns whose change counts as a changed call assertion of a source.
CALL_TRACKED = ["call_key", *CALL_VERSIONED, "status_raw", "types_of_action", "summary", "languages", "source_url"]


def row_hash(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Stable content hash of the given columns (NA and '' kept apart)."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype="string")
    parts = [frame[c].astype("string").fillna("\x00") for c in columns]
    joined = parts[0].str.cat(parts[1:], sep="\x1f")
    return joined.map(lambda text: hashlib.sha256(text.encode()).hexdigest()).astype("string")
