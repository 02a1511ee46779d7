"""Sides one source placed among namesakes by its own coordinates, checked against the twin
towns the other sources of the run give.

Pure. A collector's geocoding can belong to a namesake: the twincities dataset puts Hamm's twins
(Bradford, Toul, Kalisz, Chattanooga …) at the village Hamm in the Eifel (18 inhabitants),
Winsen (Luhe)'s at the village Winsen in Holstein. Where a side was decided by coordinates
among several official municipalities of one name (`candidates` lists them), none of its
partners is twinned with the chosen one in any other source, and the partners are twinned with
exactly one other of the namesakes, that namesake is the side. Stated facts (postcode, Land,
qualifier) are never overridden: only coordinate decisions are reconsidered.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from schemas.warehouse import ASSERTION_TRACKED, row_hash

#: Only these decisions are reconsidered.
RECONSIDERED_METHODS = ("register_coordinates",)
METHOD = "register_partners"
#: Shared partners needed to move a side (fewer if the side has fewer partners in its source).
MIN_SHARED = 2


def corroborate(staged: list, official) -> tuple[list, pd.DataFrame]:
    """(the staged sources with moved sides, one row per move: source, from_key, to_key, shared,
    partners). `staged`: `transforms.staging.StagedSource` of one run's partnership sources;
    `official`: the `OfficialRegister` the sides were decided with."""
    sides = {s.source: _sides(s.assertions) for s in staged}
    moves, out = [], []
    for source in staged:
        others = [frame for name, frame in sides.items() if name != source.source]
        elsewhere = pd.concat(others, ignore_index=True).drop_duplicates() if others else None
        mapping = _decide(source, sides[source.source], elsewhere)
        if mapping.empty:
            out.append(source)
            continue
        moved = _apply(source, mapping, official)
        out.append(moved)
        moves.append(mapping.assign(source=source.source))
    columns = ["source", "from_key", "to_key", "shared", "partners"]
    return out, (pd.concat(moves, ignore_index=True)[columns] if moves else pd.DataFrame(columns=columns))


def _sides(assertions: pd.DataFrame) -> pd.DataFrame:
    a, b = assertions["municipality_a_id"].astype("string"), assertions["municipality_b_id"].astype("string")
    return pd.concat([pd.DataFrame({"id": a, "partner": b}), pd.DataFrame({"id": b, "partner": a})],
                     ignore_index=True).drop_duplicates()


def _decide(source, own: pd.DataFrame, others: pd.DataFrame | None) -> pd.DataFrame:
    empty = pd.DataFrame({"from_key": [], "to_key": [], "shared": [], "partners": []})
    m = source.municipalities
    if others is None or others.empty or m.empty:
        return empty
    placed = m[m["match_method"].isin(RECONSIDERED_METHODS).fillna(False) & m["candidates"].notna()]
    if placed.empty:
        return empty
    options = placed[["municipality_id", "candidates"]].assign(candidate=placed["candidates"].str.split(";"))
    options = options.explode("candidate")[["municipality_id", "candidate"]]
    partners = own.rename(columns={"id": "municipality_id"})
    partners = partners[partners["municipality_id"].isin(placed["municipality_id"])]
    elsewhere = others.rename(columns={"id": "candidate"})
    shared = options.merge(partners, on="municipality_id").merge(elsewhere, on=["candidate", "partner"])
    counts = shared.groupby(["municipality_id", "candidate"]).size().rename("shared").reset_index()
    totals = partners.groupby("municipality_id").size().rename("partners")
    rows = []
    for key, group in counts.groupby("municipality_id"):
        chosen = group.loc[group["candidate"] == key, "shared"].sum()
        rivals = group[group["candidate"] != key]
        total = int(totals.get(key, 0))
        if chosen == 0 and len(rivals) == 1 and int(rivals["shared"].iloc[0]) >= min(MIN_SHARED, total):
            rows.append((key, rivals["candidate"].iloc[0], int(rivals["shared"].iloc[0]), total))
    return pd.DataFrame(rows, columns=["from_key", "to_key", "shared", "partners"]) if rows else empty


def _apply(source, mapping: pd.DataFrame, official):
    """The source's rows re-keyed to the corroborated namesake; a move that would pair a place
    with itself is not made."""
    to = dict(zip(mapping["from_key"], mapping["to_key"]))
    a = source.assertions
    new_a = a["municipality_a_id"].replace(to).astype("string")
    new_b = a["municipality_b_id"].replace(to).astype("string")
    selfish = set(a.loc[(new_a == new_b).to_numpy(), "municipality_a_id"]) | set(a.loc[(new_a == new_b).to_numpy(),
                                                                                         "municipality_b_id"])
    to = {k: v for k, v in to.items() if k not in selfish}
    if not to:
        return source
    assertions = a.copy()
    assertions["municipality_a_id"] = a["municipality_a_id"].replace(to).astype("string")
    assertions["municipality_b_id"] = a["municipality_b_id"].replace(to).astype("string")
    low = assertions[["municipality_a_id", "municipality_b_id"]].min(axis=1)
    high = assertions[["municipality_a_id", "municipality_b_id"]].max(axis=1)
    assertions["partnership_key"] = (low + "|" + high).astype("string")
    assertions["row_hash"] = row_hash(assertions, ASSERTION_TRACKED)
    m = source.municipalities
    added = m[m["municipality_id"].isin(to)].copy()
    added["municipality_id"] = added["municipality_id"].map(to).astype("string")
    rows = official.table.reindex(added["municipality_id"].str.removeprefix("ags:"))
    added["ags"] = rows.index.astype("string")
    added["geonames_id"] = rows["geonames_id"].astype("Int64").to_numpy()
    added["name"] = rows["name"].astype("string").to_numpy()
    added["latitude"] = rows["latitude"].astype("Float64").to_numpy()
    added["longitude"] = rows["longitude"].astype("Float64").to_numpy()
    added["population"] = rows["population"].astype("Int64").to_numpy()
    added["match_method"] = METHOD
    used = set(assertions["municipality_a_id"]) | set(assertions["municipality_b_id"])
    municipalities = pd.concat([m, added], ignore_index=True).drop_duplicates("municipality_id")
    municipalities = municipalities[municipalities["municipality_id"].isin(used)].reset_index(drop=True)
    return replace(source, assertions=assertions, municipalities=municipalities)
