"""A domain is a declaration: what one kind of relation looks like in the warehouse.

Partnerships and memberships share one pipeline — one generic provenance load, one generic
SCD2 apply, one identity re-keying when identities merge. What differs is declared here, as data
(the idea of Singer's stream metadata and dlt's resource hints): the record contract sources
yield, the provenance and version tables, the key and the columns it is made of, which of those
are municipality identities, what counts as a change, how several sources' statements of one
relation consolidate, and the expectation suites. The stage step (code) is bound to the domain
name in `flows/domains.py`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Boolean, Float, Integer, Table

from schemas import warehouse as W
from schemas.records import (
    FUNDING_CALL,
    FUNDING_PROGRAMME,
    MEMBERSHIP_ASSERTION,
    PARTNERSHIP_ASSERTION,
    RELATION_TYPES,
    RecordContract,
)

#: Membership states, most telling first: when sources disagree, the first one stated wins
#: ("member" = listed as a member, the state not stated).
MEMBERSHIP_STATUSES = ("active", "suspended", "former", "member")
#: Roles a network gives its members, where a source states one.
MEMBERSHIP_ROLES = ("full", "associate")


@dataclass(frozen=True)
class FirstIn:
    """Consolidation rule: the value that comes first in `order` among the sources' values."""
    order: tuple[str, ...]


@dataclass(frozen=True)
class DomainSpec:
    name: str
    contract: RecordContract
    provenance: Table  # one row per source assertion (source, record_key)
    versions: Table  # SCD2, one row per version of a relation
    key: str  # the relation's key column in both tables
    key_parts: tuple[str, ...]  # the columns the key is made of, '|'-joined in this order
    identities: tuple[str, ...]  # key parts that are municipality ids (re-keyed when identities merge)
    tracked: tuple[str, ...]  # provenance columns whose change is a changed assertion
    versioned: tuple[str, ...]  # version columns whose change is a new version
    rules: dict = field(default_factory=dict)  # version column -> "min" | "max" | FirstIn: how sources consolidate
    undirected: bool = False  # the key's parts are sorted (a pair has no direction)
    raw_names: tuple[str, ...] = ()  # provenance columns with the identities' names as written (per identity)
    source_suite: str = ""  # expectation suite of the staged provenance rows
    version_suite: str = ""  # expectation suite of the consolidated relations (checked inside the load)
    settles_placeholders: bool = False  # its relations are evidence that decides placeholder identities

    @property
    def consolidation(self) -> str:
        """The audit row (`load_run.source`) of the domain's end-of-run consolidation."""
        return f"consolidate:{self.versions.name}"

    @property
    def integer_columns(self) -> tuple[str, ...]:
        return tuple(c.name for t in (self.provenance, self.versions) for c in t.c if isinstance(c.type, Integer))

    def dtype_of(self, column: str) -> str:
        """The pandas dtype a version column is consolidated in (so hashes match the stored rows)."""
        kind = type(self.versions.c[column].type) if column in self.versions.c else None
        if kind is not None and issubclass(kind, Integer):
            return "Int64"
        if kind is not None and issubclass(kind, Float):
            return "Float64"
        if kind is not None and issubclass(kind, Boolean):
            return "boolean"
        return "string"


PARTNERSHIPS = DomainSpec(
    name="partnerships",
    contract=PARTNERSHIP_ASSERTION,
    provenance=W.partnership_source,
    versions=W.partnership,
    key="partnership_key",
    key_parts=("municipality_a_id", "municipality_b_id"),
    identities=("municipality_a_id", "municipality_b_id"),
    tracked=tuple(W.ASSERTION_TRACKED),
    versioned=tuple(W.PARTNERSHIP_VERSIONED),
    rules={"relation_type": FirstIn(RELATION_TYPES), "start_year": "min", "end_year": "max"},
    undirected=True,
    raw_names=("raw_name_a", "raw_name_b"),
    source_suite="partnership_source",
    version_suite="partnership",
    settles_placeholders=True,
)

MEMBERSHIPS = DomainSpec(
    name="memberships",
    contract=MEMBERSHIP_ASSERTION,
    provenance=W.membership_source,
    versions=W.membership,
    key="membership_key",
    key_parts=("network", "municipality_id"),
    identities=("municipality_id",),
    tracked=tuple(W.MEMBERSHIP_TRACKED),
    versioned=tuple(W.MEMBERSHIP_VERSIONED),
    rules={"status": FirstIn(MEMBERSHIP_STATUSES), "role": FirstIn(MEMBERSHIP_ROLES), "since_year": "min",
           "since_date": "min", "until_year": "max"},
    source_suite="membership_source",
    version_suite="membership",
)

#: Funding programmes: not a relation between municipalities (no identity columns); one key per
#: programme and source ('<source>:<record_key>'), so consolidation takes the one source's facts.
FUNDING = DomainSpec(
    name="funding",
    contract=FUNDING_PROGRAMME,
    provenance=W.funding_programme_source,
    versions=W.funding_programme,
    key="programme_key",
    key_parts=("programme_key",),
    identities=(),
    tracked=tuple(W.PROGRAMME_TRACKED),
    versioned=tuple(W.PROGRAMME_VERSIONED),
    rules={column: "max" for column in W.PROGRAMME_VERSIONED},
    source_suite="funding_programme_source",
    version_suite="funding_programme",
)

#: Calls for proposals (an EU topic): one key per call and source.
FUNDING_CALLS = DomainSpec(
    name="funding_calls",
    contract=FUNDING_CALL,
    provenance=W.funding_call_source,
    versions=W.funding_call,
    key="call_key",
    key_parts=("call_key",),
    identities=(),
    tracked=tuple(W.CALL_TRACKED),
    versioned=tuple(W.CALL_VERSIONED),
    rules={column: "max" for column in W.CALL_VERSIONED},
    source_suite="funding_call_source",
    version_suite="funding_call",
)

#: Domains whose keys name municipalities (re-keyed when identities merge).
RELATION_DOMAINS: dict[str, DomainSpec] = {spec.name: spec for spec in (PARTNERSHIPS, MEMBERSHIPS)}
#: Every versioned domain, in the order the run consolidates them.
VERSIONED_DOMAINS: dict[str, DomainSpec] = {spec.name: spec for spec in (PARTNERSHIPS, MEMBERSHIPS, FUNDING,
                                                                          FUNDING_CALLS)}
