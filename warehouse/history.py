"""Pure history rules: what the warehouse holds vs what a run brings, and the consolidation.

The load layer only executes what these return, so history rules (SCD2, provenance, the
municipality merge) are tested without a database.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from schemas.domains import PARTNERSHIPS, DomainSpec, FirstIn
from schemas.warehouse import ASSERTION_TRACKED, PARTNERSHIP_VERSIONED, row_hash  # noqa: F401 (re-exported)

MUNICIPALITY_ATTRIBUTES = [
    "geonames_id", "wikidata_qid", "ags", "name", "kind", "country_code", "admin1_code", "latitude", "longitude",
    "population", "match_method", "match_score", "match_status", "official_name", "region_name", "district_name",
    "postcode", "candidates", "part_of",
]
#: Filled from whichever source knows them; never overwritten by a missing value.
MUNICIPALITY_IDENTIFIERS = ["wikidata_qid", "ags", "official_name", "region_name", "district_name", "postcode",
                            "part_of"]
MUNICIPALITY_DTYPES = {
    "municipality_id": "string", "geonames_id": "Int64", "wikidata_qid": "string", "ags": "string",
    "name": "string", "kind": "string", "country_code": "string", "admin1_code": "string", "latitude": "Float64",
    "longitude": "Float64", "population": "Int64", "match_method": "string", "match_score": "Float64",
    "match_status": "string", "official_name": "string", "region_name": "string", "district_name": "string",
    "postcode": "string", "candidates": "string", "part_of": "string",
}
MUNICIPALITY_MATCH = ["geonames_id", "name", "kind", "country_code", "admin1_code", "latitude", "longitude",
                      "population", "match_method", "match_score", "match_status", "candidates"]
#: Evidence that decides a municipality's attributes whatever a gazetteer match scored: the
#: official register, and a maintainer's curated decision.
AUTHORITATIVE_METHODS = ("override", "register")


@dataclass
class AssertionDiff:
    new: pd.DataFrame  # not in the warehouse for this source
    changed: pd.DataFrame  # tracked content changed
    reopened: pd.DataFrame  # ended before, asserted again
    ended: pd.DataFrame  # current in the warehouse, absent from this full extract
    unchanged: int  # same content, still current: not written at all


def diff_assertions(existing: pd.DataFrame, incoming: pd.DataFrame) -> AssertionDiff:
    """Compare one source's full extract with its rows in the provenance table.

    `existing` has record_key, row_hash, is_current; `incoming` has record_key, row_hash and the
    tracked columns. A row seen again unchanged is not rewritten: that a source's snapshot was
    confirmed is recorded once per run (its `load_run` row), not once per row.
    """
    merged = incoming.merge(
        existing[["record_key", "row_hash", "is_current"]].rename(
            columns={"row_hash": "old_hash", "is_current": "old_current"}),
        on="record_key", how="left", indicator=True)
    known = (merged["_merge"] == "both").to_numpy()
    was_current = merged["old_current"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    same_hash = (merged["row_hash"] == merged["old_hash"]).fillna(False).to_numpy(dtype=bool)
    drop = ["old_hash", "old_current", "_merge"]
    kept = merged.drop(columns=drop)
    gone = existing[existing["is_current"].astype(bool) & ~existing["record_key"].isin(incoming["record_key"])]
    return AssertionDiff(kept[~known], kept[known & was_current & ~same_hash], kept[known & ~was_current],
                         gone, int((known & was_current & same_hash).sum()))


def keys_ending(existing: pd.DataFrame, incoming: pd.DataFrame) -> int:
    """How many current rows a full extract would end: the shrink guard counts keys, not rows,
    so a reload under new record keys (all old ones ending) is caught although the count holds."""
    if existing.empty:
        return 0
    current = existing.loc[existing["is_current"].astype(bool), "record_key"]
    return int((~current.isin(incoming["record_key"])).sum())


@dataclass
class VersionDiff:
    inserts: pd.DataFrame  # new versions (new keys, changed keys, reappeared keys)
    closes: pd.Series  # keys whose current version ends now
    new: int
    changed: int
    ended: int


def diff_versions(current: pd.DataFrame, consolidated: pd.DataFrame, affected: pd.Series | None = None,
                  spec: DomainSpec = PARTNERSHIPS, key: str | None = None,
                  versioned: list[str] | None = None) -> VersionDiff:
    """SCD2: compare current versions with the consolidated state of all sources' assertions.

    Computed once per run, after every source has loaded, so a relation that moves between
    sources or a value one source changes and another reverts makes no version: history records
    runs, not load order. `current` has the key and row_hash; both frames may be restricted to
    the `affected` keys (those whose assertions this run touched) — keys outside are left as
    they are. `key`/`versioned` override the domain's (a reference table such as `organisation`).
    """
    key = key or spec.key
    incoming = consolidated.copy()
    incoming["row_hash"] = row_hash(incoming, list(versioned or spec.versioned))
    old = current[[key, "row_hash"]].rename(columns={"row_hash": "old_hash"})
    merged = incoming.merge(old, on=key, how="left")
    is_new = merged["old_hash"].isna()
    is_changed = merged["old_hash"].notna() & (merged["old_hash"] != merged["row_hash"])
    gone = ~current[key].isin(incoming[key])
    if affected is not None:
        gone &= current[key].isin(affected)
    ended = current.loc[gone, key]
    changed_keys = merged.loc[is_changed, key]
    inserts = merged[is_new | is_changed].drop(columns=["old_hash"])
    return VersionDiff(inserts, pd.concat([changed_keys, ended], ignore_index=True),
                       int(is_new.sum()), int(is_changed.sum()), len(ended))


def compose_key(parts: list[pd.Series], undirected: bool = False) -> pd.Series:
    """A relation's key: its parts '|'-joined; sorted first where the relation has no direction."""
    parts = [p.astype("string") for p in parts]
    if undirected:
        a, b = parts
        parts = [a.where(a <= b, b), b.where(a <= b, a)]
    key = parts[0]
    for part in parts[1:]:
        key = key + "|" + part
    return key.astype("string")


def split_key(keys: pd.Series, spec: DomainSpec) -> pd.DataFrame:
    """The key's parts as columns (the inverse of `compose_key`; ids and network keys hold no '|')."""
    parts = keys.astype("string").str.split("|", n=len(spec.key_parts) - 1, expand=True)
    return pd.DataFrame({name: parts[i].astype("string") for i, name in enumerate(spec.key_parts)},
                        index=keys.index)


def merge_municipalities(existing: pd.DataFrame, incoming: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows to insert, rows to update) for the `municipality` table.

    Identifiers (QID, AGS) and register attributes fill gaps from any source; the match itself is
    replaced only by a better-scored one, so two sources resolving the same place differently
    don't flip-flop — except that the register and curated overrides always decide, whatever a
    gazetteer match scored.
    """
    incoming = typed(_with_attributes(incoming), MUNICIPALITY_DTYPES).drop_duplicates("municipality_id")
    existing = typed(_with_attributes(existing), MUNICIPALITY_DTYPES)
    inserts = incoming[~incoming["municipality_id"].isin(existing["municipality_id"])].copy()
    inserts["row_hash"] = row_hash(inserts, MUNICIPALITY_ATTRIBUTES)
    old = existing.set_index("municipality_id")
    new = incoming[incoming["municipality_id"].isin(existing["municipality_id"])].set_index("municipality_id")
    if new.empty:
        return inserts, new.reset_index().assign(row_hash=pd.Series(dtype="string"))
    old = old.loc[new.index]
    merged = old[MUNICIPALITY_ATTRIBUTES].copy()
    for column in MUNICIPALITY_IDENTIFIERS:
        merged[column] = old[column].where(old[column].notna(), new[column])
    authoritative = new["match_method"].isin(AUTHORITATIVE_METHODS).fillna(False).astype(bool)
    held = old["match_method"].isin(AUTHORITATIVE_METHODS).fillna(False).astype(bool)
    better = authoritative | (~held & (new["match_score"].astype(float) > old["match_score"].astype(float)))
    for column in MUNICIPALITY_MATCH:
        merged[column] = old[column].where(~better, new[column])
    merged = merged.reset_index()
    merged["row_hash"] = row_hash(merged, MUNICIPALITY_ATTRIBUTES)
    updates = merged[merged["row_hash"].values != old["row_hash"].values]
    return inserts, updates


def attribute_hashes(incoming: pd.DataFrame) -> pd.Series:
    """The row hash an incoming identity row would have if stored as it is."""
    return row_hash(typed(_with_attributes(incoming), MUNICIPALITY_DTYPES), MUNICIPALITY_ATTRIBUTES)


def _with_attributes(frame: pd.DataFrame) -> pd.DataFrame:
    """Attributes a frame does not carry (a partnership source knows no Kreis) as missing."""
    missing = [c for c in MUNICIPALITY_ATTRIBUTES if c not in frame.columns]
    return frame.assign(**{c: pd.NA for c in missing}) if missing else frame


def typed(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    """Same dtypes whether a frame comes from a transform or from the database, so hashes agree."""
    return frame.astype({c: t for c, t in dtypes.items() if c in frame.columns})


def consolidate(assertions: pd.DataFrame, spec: DomainSpec = PARTNERSHIPS) -> pd.DataFrame:
    """One row per relation from all current assertions of all sources, by the domain's rules
    (partnerships: the most specific relation any source states, the earliest start, the latest end)."""
    columns = [spec.key, *spec.versioned]
    if assertions.empty:
        return pd.DataFrame(columns=columns)
    frame = assertions[[spec.key, *spec.rules]].copy()
    grouped_columns = {}
    for column, rule in spec.rules.items():
        dtype = spec.dtype_of(column)
        if isinstance(rule, FirstIn):
            frame[column] = frame[column].map({name: rank for rank, name in enumerate(rule.order)}).astype("float64")
        elif dtype != "string":
            # as float: nullable extension columns fall back to a per-group Python loop in groupby
            frame[column] = frame[column].astype("Float64").astype("float64")
        else:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        grouped_columns[column] = "min" if isinstance(rule, FirstIn) else rule
    out = frame.groupby(spec.key, sort=True).agg(grouped_columns).reset_index()
    for column, rule in spec.rules.items():
        if isinstance(rule, FirstIn):
            codes = out[column].fillna(-1).astype(int).to_numpy()
            out[column] = pd.Series(pd.Categorical.from_codes(codes, categories=list(rule.order)),
                                    index=out.index).astype("string")
        elif spec.dtype_of(column) == "boolean":
            out[column] = out[column].astype("Float64").map(lambda v: pd.NA if pd.isna(v) else bool(v)).astype("boolean")
        else:
            out[column] = out[column].astype(spec.dtype_of(column))
    if spec.key_parts != (spec.key,):
        out = pd.concat([out, split_key(out[spec.key], spec)], axis=1)
    return out[columns]
