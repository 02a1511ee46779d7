"""From one membership source's raw rows to the frames the load layer writes (`membership_source`).

Pure. A member is resolved exactly as a partnership side is (`transforms.staging.resolve_side`:
the official register for German members, the gazetteer with the source's coordinates) — except
that a member the source types as a group of municipalities, an association or an organisation
is never resolved to a place by name: "Alkmaar, Bergen, Castricum, …" (a Covenant group) is not
Alkmaar. Its identity is a name placeholder of its own kind. Then the same gate as partnerships:
the identities' suite, the memberships' suite (`schemas.expectations`), the warehouse's columns.
"""
from __future__ import annotations

import pandas as pd

from schemas import warehouse as W
from schemas.domains import MEMBERSHIP_ROLES
from schemas.networks import earliest_join_years
from schemas.records import REJECT_REASON
from schemas.warehouse import MEMBERSHIP_TRACKED, row_hash
from transforms import partnerships as P
from transforms.countries import to_iso2
from transforms.quality import validate
from transforms.registers import OfficialRegister
from transforms.staging import StagedSource, municipality_frame, resolve_side
from transforms.storable import shorten, violations

#: Kinds of member that are not one place: kept by name, never resolved to a municipality.
NOT_A_PLACE = ("group", "association", "organisation", "other")
#: Columns of a staged membership (`membership_source`, plus what the gate checks).
MEMBERSHIP_COLUMNS = ["source", "record_key", "membership_key", "network", "municipality_id", "member_id",
                      "member_kind", "raw_name", "raw_country", "country_code", "status", "role", "since_raw",
                      "since_date", "since_year", "until_year", "commitments", "source_url", "extracted_at",
                      "network_joins_from"]


def stage_memberships(raw: pd.DataFrame, *, places: pd.DataFrame, index: pd.DataFrame,
                      register: OfficialRegister | None = None, progress=None) -> StagedSource:
    source = str(raw["source"].iloc[0]) if len(raw) else ""
    ok, rejected = P.split_rejected(raw)
    before = len(ok)
    ok, conflicting = P.dedupe(ok)
    collapsed = before - len(ok) - len(conflicting)
    ok = ok.reset_index(drop=True)
    side = pd.DataFrame({
        "a_name": P.clean_names(ok["member_name"]),
        "a_country_code": to_iso2(ok["member_country"]),
        "a_lat": ok["member_lat"], "a_lon": ok["member_lon"],
        "a_geonames_id": pd.array([pd.NA] * len(ok), dtype="Int64"),
        "a_qid": ok["member_qid"],
        "a_ags": ok["member_ags"],
    })
    places_only = ~ok["member_kind"].isin(NOT_A_PLACE).fillna(False).to_numpy()
    resolved = resolve_side(side, "a", places, index, register)
    if progress is not None:
        status = resolved["match_status"].value_counts()
        progress(f"members resolved: {int(status.get('resolved', 0)):,} resolved, "
                 f"{int(status.get('ambiguous', 0)):,} ambiguous, {int(status.get('unresolved', 0)):,} unresolved "
                 f"of {len(ok):,}")
    not_places = ~places_only
    if not_places.any():  # a group or association is its own identity, by name
        by_name = P.municipality_ids(pd.DataFrame({"geonames_id": pd.array([pd.NA] * int(not_places.sum()),
                                                                            dtype="Int64"),
                                                   "country_code": side.loc[not_places, "a_country_code"]}),
                                     side.loc[not_places, "a_name"], side.loc[not_places, "a_qid"])
        for column in ("geonames_id", "ags", "canonical_name", "match_country", "admin1", "population", "lat", "lon",
                       "candidates", "part_of"):
            if column in resolved:
                resolved.loc[not_places, column] = pd.NA
        resolved.loc[not_places, "municipality_id"] = by_name.to_numpy()
        resolved.loc[not_places, ["match_method", "match_status"]] = ["none", "unresolved"]
        resolved.loc[not_places, "match_score"] = 0.0
        resolved.loc[not_places, "kind"] = ok.loc[not_places, "member_kind"].to_numpy()
    typed = ok["member_kind"].isin(("district", "region")).fillna(False).to_numpy()
    resolved.loc[typed, "kind"] = ok.loc[typed, "member_kind"].to_numpy()
    status, role = _status_and_role(ok["status"])
    memberships = pd.DataFrame({
        "source": ok["source"], "record_key": ok["record_key"], "network": ok["network"],
        "municipality_id": resolved["municipality_id"].astype("string"),
        "member_id": ok["member_id"], "member_kind": ok["member_kind"], "raw_name": ok["member_name"],
        "raw_country": ok["member_country"],
        "country_code": side["a_country_code"].fillna(resolved["match_country"]).astype("string"),
        "status": status, "role": role, "since_raw": ok["since_raw"], "since_date": ok["since_date"],
        "since_year": ok["since_year"], "until_year": ok["until_year"], "commitments": ok["commitments"],
        "source_url": ok["source_url"], "extracted_at": ok["extracted_at"],
        "network_joins_from": ok["network"].map(earliest_join_years()).astype("Int64"),
    })
    memberships["membership_key"] = (memberships["network"] + "|" + memberships["municipality_id"]).astype("string")
    memberships = memberships[MEMBERSHIP_COLUMNS]
    ok = ok.assign(**{REJECT_REASON: memberships["municipality_id"].isna().map({True: "identity: the member has no name",
                                                                               False: None}).astype("string")})
    municipalities = municipality_frame(resolved[memberships["municipality_id"].notna().to_numpy()])
    ok, municipalities, reports = _gate(ok, memberships, municipalities)
    passed = ok[REJECT_REASON].isna().to_numpy()
    parts = [frame for frame in (rejected, conflicting, ok[~passed]) if len(frame)]
    rejected = pd.concat(parts, ignore_index=True) if parts else rejected
    memberships = memberships[passed].reset_index(drop=True)
    memberships["row_hash"] = row_hash(memberships, MEMBERSHIP_TRACKED)
    municipalities = municipalities[municipalities["municipality_id"].isin(set(memberships["municipality_id"]))]
    staged = StagedSource(source, len(raw), memberships, municipalities.reset_index(drop=True), rejected, reports,
                          collapsed)
    if not staged.accounted:
        raise RuntimeError(f"{source}: staging lost rows ({len(raw)} in, {len(memberships)} staged, "
                           f"{len(rejected)} rejected, {collapsed} exact copies)")
    return staged


def _status_and_role(stated: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A source's "full member"/"associate" is a role of a listed member; its "active"/"suspended"
    a state. Unknown words stay as written, for the suite to refuse."""
    stated = stated.astype("string").str.strip().str.lower()
    is_role = stated.isin(MEMBERSHIP_ROLES).fillna(False)
    role = stated.where(is_role)
    status = stated.mask(is_role, "member").fillna("member")
    return status.astype("string"), role.astype("string")


def _gate(ok: pd.DataFrame, memberships: pd.DataFrame, municipalities: pd.DataFrame):
    """The identities' suite, then the memberships' suite, then the warehouse's columns: a failing
    row goes to quarantine with every reason; returns (rows with reasons, identities, reports)."""
    muni_report = validate(municipalities, "municipality")
    muni_reasons = muni_report.row_reasons.fillna(violations(municipalities, W.municipality))
    failed = muni_reasons.notna()
    if failed.any():
        ids = municipalities.loc[failed, "municipality_id"].astype(str).map(shorten)
        why = dict(zip(municipalities.loc[failed, "municipality_id"],
                       "member " + ids + ": " + muni_reasons[failed]))
        reason = memberships["municipality_id"].map(why)
        ok = P.add_reason(ok, reason.notna(), reason.fillna(""))
        municipalities = municipalities[~municipalities["municipality_id"].isin(why)]
    candidates = ok[REJECT_REASON].isna().to_numpy()
    report = validate(memberships[candidates], "membership_source")
    gate = report.row_reasons.reindex(ok.index)
    ok = P.add_reason(ok, gate.notna(), gate.fillna(""))
    unstorable = violations(memberships, W.membership_source).where(ok[REJECT_REASON].isna())
    ok = P.add_reason(ok, unstorable.notna(), unstorable.fillna(""))
    return ok, municipalities, [muni_report, report]
