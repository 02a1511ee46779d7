"""From one membership source's raw rows to staged memberships (issue 7: staged and measured; the
load step comes with the memberships domain declaration).

Pure. A member is resolved exactly as a partnership side is (`transforms.staging.resolve_side`:
the official register for German members, the gazetteer with the source's coordinates, overrides
none yet) — except that a member the source types as a group of municipalities, an association
or an organisation is never resolved to a place by name: "Alkmaar, Bergen, Castricum, …" (a
Covenant group) is not Alkmaar. Its identity is a name placeholder of its own kind.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from schemas.records import REJECT_REASON
from transforms import partnerships as P
from transforms.countries import to_iso2
from transforms.registers import OfficialRegister
from transforms.staging import municipality_frame, resolve_side

#: Kinds of member that are not one place: kept by name, never resolved to a municipality.
NOT_A_PLACE = ("group", "association", "organisation", "other")
#: Columns of a staged membership (the provenance of the later `membership_source` table).
MEMBERSHIP_COLUMNS = ["source", "record_key", "membership_key", "network", "municipality_id", "member_id",
                      "raw_name", "raw_country", "status", "since_raw", "since_date", "since_year", "until_year",
                      "commitments", "source_url", "extracted_at"]


@dataclass
class StagedMemberships:
    source: str
    rows_extracted: int
    memberships: pd.DataFrame
    municipalities: pd.DataFrame
    rejected: pd.DataFrame
    duplicates_collapsed: int = 0

    @property
    def accounted(self) -> bool:
        return len(self.memberships) + len(self.rejected) + self.duplicates_collapsed == self.rows_extracted


def stage_memberships(raw: pd.DataFrame, *, places: pd.DataFrame, index: pd.DataFrame,
                      register: OfficialRegister | None = None) -> StagedMemberships:
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
    })
    places_only = ~ok["member_kind"].isin(NOT_A_PLACE).fillna(False).to_numpy()
    resolved = resolve_side(side, "a", places, index, register)
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
    memberships = pd.DataFrame({
        "source": ok["source"], "record_key": ok["record_key"], "network": ok["network"],
        "municipality_id": resolved["municipality_id"].astype("string"),
        "member_id": ok["member_id"], "raw_name": ok["member_name"], "raw_country": ok["member_country"],
        "status": ok["status"], "since_raw": ok["since_raw"], "since_date": ok["since_date"],
        "since_year": ok["since_year"], "until_year": ok["until_year"], "commitments": ok["commitments"],
        "source_url": ok["source_url"], "extracted_at": ok["extracted_at"],
    })
    memberships["membership_key"] = (memberships["network"] + "|" + memberships["municipality_id"]).astype("string")
    no_identity = memberships["municipality_id"].isna()
    nameless = ok[no_identity.to_numpy()].assign(**{REJECT_REASON: "identity: the member has no name"})
    parts = [frame for frame in (rejected, conflicting, nameless) if len(frame)]
    rejected = pd.concat(parts, ignore_index=True) if parts else rejected
    memberships = memberships[~no_identity.to_numpy()][MEMBERSHIP_COLUMNS].reset_index(drop=True)
    municipalities = municipality_frame(resolved[~no_identity.to_numpy()])
    staged = StagedMemberships(source, len(raw), memberships, municipalities, rejected, collapsed)
    if not staged.accounted:
        raise RuntimeError(f"{source}: staging lost rows ({len(raw)} in, {len(memberships)} staged, "
                           f"{len(rejected)} rejected, {collapsed} exact copies)")
    return staged
