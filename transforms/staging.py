"""From one source's raw assertions to the frames the load layer writes.

Pure: the gazetteer (places + name index) is passed in. Every row ends up either staged or
rejected with a reason; `StagedSource.accounted` checks that nothing went missing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from schemas import warehouse as W
from schemas.records import REJECT_REASON
from schemas.warehouse import ASSERTION_TRACKED, row_hash
from transforms import partnerships as P
from transforms.identity import resolve
from transforms.overrides import apply_overrides
from transforms.parts import parts_of
from transforms.quality import QualityReport, validate
from transforms.registers import OfficialRegister
from transforms.storable import shorten, violations

#: Prefix of reasons for rows the source states correctly but that could not be given two
#: distinct identities: a resolution problem, not bad input, so not counted by the reject gate.
IDENTITY_REASON = "identity: "

#: Columns of `partnership_source` as staged (plus extracted_at, dropped at load).
ASSERTION_COLUMNS = [
    "source", "record_key", "partnership_key", "municipality_a_id", "municipality_b_id",
    "a_country_code", "b_country_code", "raw_name_a", "raw_name_b", "raw_country_a", "raw_country_b",
    "relation_type", "start_raw", "start_year", "end_year", "reference_url", "source_url",
    "extracted_at", "is_self_pair",
]


@dataclass
class StagedSource:
    source: str
    rows_extracted: int
    assertions: pd.DataFrame  # ready for partnership_source (row_hash included)
    municipalities: pd.DataFrame  # identities the assertions refer to
    rejected: pd.DataFrame  # raw columns + reject_reason, for quarantine
    quality: list[QualityReport]
    duplicates_collapsed: int = 0  # exact copies of a staged row (same key, same content)

    @property
    def bad_input(self) -> int:
        """Rejected rows that are the source's fault (not our resolution problems)."""
        if self.rejected.empty:
            return 0
        return int((~self.rejected[REJECT_REASON].astype(str).str.startswith(IDENTITY_REASON)).sum())

    @property
    def reject_share(self) -> float:
        return self.bad_input / self.rows_extracted if self.rows_extracted else 0.0

    @property
    def accounted(self) -> bool:
        """Every extracted row is staged, rejected, or an exact copy of a staged row."""
        return len(self.assertions) + len(self.rejected) + self.duplicates_collapsed == self.rows_extracted


def stage(raw: pd.DataFrame, *, places: pd.DataFrame, index: pd.DataFrame,
          register: OfficialRegister | pd.DataFrame | None = None,
          overrides: pd.DataFrame | None = None, progress: Callable[[str], None] | None = None) -> StagedSource:
    """`register`: the official municipalities (see `transforms.registers`), which decide German
    sides before the gazetteer does; `overrides`: a maintainer's decisions
    (schemas/identity_overrides.csv), which decide before both; `progress` receives a few lines in
    words while the (slow) resolution runs."""
    say = progress or (lambda message: None)
    official = register if isinstance(register, OfficialRegister) else (
        OfficialRegister(register) if register is not None and len(register) else None)
    source = str(raw["source"].iloc[0]) if len(raw) else ""
    rows_extracted = len(raw)
    cleaned = P.clean(raw)
    ok, rejected_early = P.split_rejected(cleaned)
    before_dedupe = len(ok)
    ok, duplicates = P.dedupe(ok)
    collapsed = before_dedupe - len(ok) - len(duplicates)
    say(f"{len(ok):,} rows to resolve; {len(rejected_early) + len(duplicates):,} rejected by the parser or as "
        f"conflicting duplicates, {collapsed:,} exact duplicates collapsed")

    ok = ok.reset_index(drop=True)
    sides = {}
    for side in ("a", "b"):
        sides[side] = resolve_side(ok, side, places, index, official)
        status = sides[side]["match_status"].value_counts()
        say(f"side {side.upper()} resolved: {int(status.get('resolved', 0)):,} resolved, "
            f"{int(status.get('ambiguous', 0)):,} ambiguous, {int(status.get('unresolved', 0)):,} unresolved "
            f"of {len(ok):,} rows")
    sides["a"] = apply_overrides(sides["a"], ok["b_name"], overrides, places)
    sides["b"] = apply_overrides(sides["b"], ok["a_name"], overrides, places)
    sides["b"] = _no_self_match(sides["a"], sides["b"])
    for side, resolved in sides.items():
        ok[f"municipality_{side}_id"] = resolved["municipality_id"]
        ok[f"{side}_country_code"] = ok[f"{side}_country_code"].fillna(resolved["match_country"])
    ok = P.pair(ok)
    ok = P.add_reason(ok, ok["is_self_pair"], _self_pair_reasons(ok, sides["a"]))
    assertions = _assertion_frame(ok)
    municipalities = pd.concat([sides["a"], sides["b"]], ignore_index=True)
    municipalities = municipality_frame(municipalities)

    reports = []
    muni_report = validate(municipalities, "municipality")
    reports.append(muni_report)
    muni_reasons = muni_report.row_reasons.fillna(violations(municipalities, W.municipality))
    failed = muni_reasons.notna()
    if failed.any():
        ids = municipalities.loc[failed, "municipality_id"].astype(str).map(shorten)
        why = dict(zip(municipalities.loc[failed, "municipality_id"], "municipality " + ids + ": " + muni_reasons[failed]))
        reason = (assertions["municipality_a_id"].map(why).fillna("")
                  + "; " + assertions["municipality_b_id"].map(why).fillna("")).str.strip("; ")
        ok = P.add_reason(ok, reason != "", reason)
        municipalities = municipalities[~municipalities["municipality_id"].isin(why)]
    # The gate checks what is still a candidate: a row rejected above would only fail again.
    candidates = ok[REJECT_REASON].isna()
    report = validate(assertions[candidates.values], "partnership_source")
    reports.append(report)
    gate = report.row_reasons.reindex(ok.index)
    ok = P.add_reason(ok, gate.notna(), gate.fillna(""))
    # Last: what the gate let through must also fit the warehouse's columns, on every backend.
    unstorable = violations(assertions, W.partnership_source).where(ok[REJECT_REASON].isna().values)
    ok = P.add_reason(ok, unstorable.notna(), unstorable.fillna(""))

    passed = ok[REJECT_REASON].isna()
    rejected = pd.concat([rejected_early, duplicates, ok[~passed]], ignore_index=True)
    assertions = assertions[passed.values].reset_index(drop=True)
    assertions["row_hash"] = row_hash(assertions, ASSERTION_TRACKED)
    used = set(assertions["municipality_a_id"]) | set(assertions["municipality_b_id"])
    municipalities = municipalities[municipalities["municipality_id"].isin(used)].reset_index(drop=True)
    staged = StagedSource(source, rows_extracted, assertions, municipalities, rejected, reports, collapsed)
    if not staged.accounted:  # a bug, not bad input: never load a frame that lost rows
        raise RuntimeError(f"{source}: staging lost rows ({rows_extracted} in, {len(assertions)} staged, "
                             f"{len(rejected)} rejected, {collapsed} exact copies)")
    return staged


def resolve_side(frame: pd.DataFrame, side: str, places: pd.DataFrame, index: pd.DataFrame,
                  official: OfficialRegister | None = None) -> pd.DataFrame:
    queries = pd.DataFrame({
        "name": frame[f"{side}_name"].astype("string"),
        "country_code": frame[f"{side}_country_code"].astype("string"),
        "lat": frame[f"{side}_lat"].astype("Float64"),
        "lon": frame[f"{side}_lon"].astype("Float64"),
        "geonames_id": frame[f"{side}_geonames_id"].astype("Int64"),
    })
    resolved = resolve(queries, index, places).reset_index(drop=True)
    coordinates = places.set_index("geonames_id")[["lat", "lon"]].reindex(resolved["geonames_id"].astype("float64"))
    resolved["lat"], resolved["lon"] = coordinates["lat"].values, coordinates["lon"].values
    resolved["query_name"] = queries["name"].values
    resolved["query_country"] = queries["country_code"].values
    resolved["wikidata_qid"] = _column(frame, f"{side}_qid").values
    resolved["ags"] = _column(frame, f"{side}_ags").values
    resolved["query_lat"], resolved["query_lon"] = queries["lat"].values, queries["lon"].values
    resolved["query_region"] = _column(frame, f"{side}_region").values
    resolved["query_postcode"] = _column(frame, f"{side}_postcode").values
    resolved["candidates"] = pd.array([pd.NA] * len(resolved), dtype="string")
    if official is not None:  # German sides: the official register decides first
        resolved = official.decide(resolved)
    resolved = _guesses_are_not_evidence(resolved)
    if official is not None:
        resolved = parts_of(resolved, official, index=index, places=places)
    by_register = (resolved["match_method"].str.startswith("register") & (resolved["match_status"] == "resolved"))
    by_register = by_register.fillna(False).to_numpy(dtype=bool)
    ids = P.municipality_ids(
        resolved.assign(country_code=resolved["match_country"].fillna(resolved["query_country"])),
        resolved["query_name"], resolved["wikidata_qid"])
    resolved["municipality_id"] = ids.where(~by_register, resolved.get("municipality_id", ids)).values
    return resolved


def _guesses_are_not_evidence(resolved: pd.DataFrame) -> pd.DataFrame:
    """A gazetteer pick the resolver itself calls ambiguous is kept as a candidate, not as the
    side's identity: it would attach the source's own facts (its QID) to a place it may not be
    ("Heringsdorf" with the QID of Heringsdorf on Usedom, picked as the village in Holstein)."""
    unsure = ((resolved["match_status"] != "resolved") & resolved["geonames_id"].notna()).fillna(False)
    unsure = unsure.to_numpy(dtype=bool)
    if not unsure.any():
        return resolved
    out = resolved.copy()
    out.loc[unsure, "candidates"] = ("gn:" + out.loc[unsure, "geonames_id"].astype("Int64").astype("string")).to_numpy()
    for column in ("geonames_id", "canonical_name", "match_country", "admin1", "population", "lat", "lon"):
        out.loc[unsure, column] = pd.NA
    return out


def _no_self_match(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """A partner found by name only, with no country, is never the municipality itself.

    Wikidata's 2017 labels give "Senftenberg" twinned with "Senftenberg" (the Austrian one):
    matching the partner to the German town would make a self-pair; it stays unresolved instead.
    """
    clash = (a["geonames_id"] == b["geonames_id"]).fillna(False) & (b["match_method"] == "name_only")
    if not clash.any():
        return b
    out = b.copy()
    for column in ("geonames_id", "canonical_name", "match_country", "admin1", "population", "lat", "lon"):
        out.loc[clash, column] = pd.NA
    out.loc[clash, ["match_method", "match_status"]] = ["none", "unresolved"]
    out.loc[clash, "match_score"] = 0.0
    out["municipality_id"] = P.municipality_ids(
        out.assign(country_code=out["match_country"].fillna(out["query_country"])),
        out["query_name"], out["wikidata_qid"]).values
    return out


def _self_pair_reasons(ok: pd.DataFrame, side_a: pd.DataFrame) -> pd.Series:
    """"both sides resolved to the same place (GeoNames 2208285): Randwick AU / Randwick GB"."""
    gn = side_a["geonames_id"].astype("Int64").astype("string")
    place = ("GeoNames " + gn).where(gn.notna(), ok["municipality_a_id"].astype("string"))
    def side(s: str) -> pd.Series:
        return ok[f"{s}_name"].astype("string").fillna("?") + " " + ok[f"{s}_country_code"].astype("string").fillna("??")
    same_words = (ok["a_name"] == ok["b_name"]).fillna(False) & (ok["a_country_code"] == ok["b_country_code"]).fillna(False)
    tail = pd.Series(" — the source pairs a place with its namesake; which one is meant is unknown",
                     index=ok.index, dtype="string").where(same_words, "")
    return IDENTITY_REASON + "both sides resolved to the same place (" + place.values + "): " + \
        side("a") + " / " + side("b") + tail


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A contract column, or all-missing where the contract has none for this side (e.g. b_ags)."""
    if name in frame:
        return frame[name].astype("string")
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def _assertion_frame(ok: pd.DataFrame) -> pd.DataFrame:
    out = ok.rename(columns={"a_name_raw": "raw_name_a", "b_name_raw": "raw_name_b",
                             "a_country": "raw_country_a", "b_country": "raw_country_b"})
    return out[ASSERTION_COLUMNS].copy()


def municipality_frame(resolved: pd.DataFrame) -> pd.DataFrame:
    """One row per identity; the best-scored match wins, identifiers from any row."""
    is_resolved = resolved["canonical_name"].notna()
    frame = pd.DataFrame({
        "municipality_id": resolved["municipality_id"],
        "geonames_id": resolved["geonames_id"].astype("Int64"),
        "wikidata_qid": resolved["wikidata_qid"],
        "ags": resolved["ags"],
        "name": resolved["canonical_name"].where(is_resolved, resolved["query_name"]).astype("string"),
        "kind": resolved["kind"].fillna("municipality").astype("string"),
        "country_code": resolved["match_country"].fillna(resolved["query_country"]).astype("string"),
        "admin1_code": resolved["admin1"].astype("string"),
        "latitude": resolved["lat"].astype("Float64").where(is_resolved, resolved["query_lat"]),
        "longitude": resolved["lon"].astype("Float64").where(is_resolved, resolved["query_lon"]),
        "candidates": resolved["candidates"].astype("string"),
        "part_of": (resolved["part_of"] if "part_of" in resolved
                    else pd.Series(pd.NA, index=resolved.index)).astype("string"),
        "population": resolved["population"].astype("Int64"),
        "match_method": resolved["match_method"].astype("string"),
        "match_score": resolved["match_score"].astype("Float64"),
        "match_status": resolved["match_status"].astype("string"),
    })
    frame = frame[frame["municipality_id"].notna()]
    frame = frame.sort_values(["municipality_id", "match_score"], ascending=[True, False], kind="stable")
    identifiers = frame.groupby("municipality_id", sort=False)[["wikidata_qid", "ags"]].first()
    best = frame.drop_duplicates("municipality_id").set_index("municipality_id")
    best[["wikidata_qid", "ags"]] = identifiers
    return best.reset_index()
