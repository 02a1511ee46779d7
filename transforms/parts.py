"""German sides that are not official municipalities, typed and linked to the one they belong to.

Pure. The register lists every municipality, so a German place it neither names nor links is a
part of one (a borough, a former municipality, an Ortsteil) or a unit above it (a Landkreis).
Such a side keeps its own identity — a partnership of Pankow is Pankow's — and gets `kind` and,
where the evidence says which, `part_of` (evidence key `ags:<AGS>`).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from transforms.identity import _DASH_PART_RE, _PAREN_PARENT_RE, haversine_km, normalise_name
from transforms.registers import NOT_A_MUNICIPALITY, OfficialRegister, resolve_in_register

#: A place that is one part of an official compound name lies this close to its centroid.
COMPOUND_KM = 15.0
#: "Berlin (Bezirk Pankow)", "Bonn (Stadtbezirk Beuel)", "Erfurt (Ortsteil Stotternheim)".
_NAMED_BOROUGH_RE = re.compile(
    r"^\s*(?P<parent>[^()]+?)\s*\((?:stadtbezirk|bezirk|stadtteil|ortsteil|ortschaft)\s+[^()]+\)\s*$")
#: Inhabitants from which a municipality names its parts "City-Part" ("Mainz-Laubenheim").
CITY_POPULATION = 20_000


def parts_of(resolved: pd.DataFrame, official: OfficialRegister, *, index: pd.DataFrame | None = None,
             places: pd.DataFrame | None = None) -> pd.DataFrame:
    """This country's sides that are not official municipalities, linked to the one they belong to.

    A borough as sources write it ("Berlin – Pankow", "Spandau (Berlin)") belongs to its parent
    when the register knows the parent by name; a place the gazetteer knows that is one part of
    an official compound name ("Wolfen" → Bitterfeld-Wolfen, "Neugersdorf" →
    Ebersbach-Neugersdorf) within a few km is a `locality` of it. With the gazetteer (`index`,
    `places`): a place inside a Land that is one municipality (Berlin, Hamburg: "Zehlendorf",
    "Hamburg-Mitte", "Steglitz-Zehlendorf") is a `borough` of it; any other place the gazetteer
    knows that is not one of the register's municipalities ("Mylau", "Sankt Andreasberg":
    former municipalities, Ortsteile) is a `locality`, its parent left open. Adds `part_of`
    (evidence key `ags:<AGS>`); never changes a side's own identity.
    """
    out = resolved.copy()
    if "part_of" not in out:
        out["part_of"] = pd.array([pd.NA] * len(out), dtype="string")
    german = (out["query_country"] == official.country) | (out["match_country"] == official.country)
    german &= ~out["match_method"].astype("string").str.startswith("register").fillna(False)
    german = german.fillna(False).to_numpy(dtype=bool)
    if not german.any():
        return out
    names = out["query_name"].astype("string")
    boroughs = german & (out["kind"] == "borough").fillna(False).to_numpy(dtype=bool)
    parents = pd.Series(pd.NA, index=out.index, dtype="string")
    for i in np.flatnonzero(boroughs):
        name = names.iloc[i]
        match = _PAREN_PARENT_RE.match(name) or _DASH_PART_RE.match(name)  # the borough rules' own patterns
        if match:
            parents.iloc[i] = match.group("parent")
    asked = parents.notna().to_numpy()
    if asked.any():
        found = resolve_in_register(pd.DataFrame({"name": parents[asked], "lat": pd.NA, "lon": pd.NA}), official.index)
        hit = (found["register_status"] == "resolved").to_numpy()
        rows = np.flatnonzero(asked)[hit]
        out.loc[out.index[rows], "part_of"] = ("ags:" + found.loc[hit, "ags"].astype("string")).to_numpy()
    located = german & ~boroughs & (out["kind"] == "municipality").fillna(False).to_numpy(dtype=bool) \
        & out["lat"].notna().to_numpy()
    if located.any():
        compound = official.compound_parts()
        keys = normalise_name(names[located])
        for row, key in zip(np.flatnonzero(located), keys.tolist()):
            owners = compound.get(key)
            if not owners:
                continue
            lat, lon = float(out["lat"].iloc[row]), float(out["lon"].iloc[row])
            near = [ags for ags, olat, olon in owners
                    if pd.notna(olat) and haversine_km(lat, lon, olat, olon) <= COMPOUND_KM]
            if len(near) == 1:
                out.loc[out.index[row], ["part_of", "kind"]] = ["ags:" + near[0], "locality"]
    out = _named_parts(_districts(out, german, official), german, official)
    if places is not None and index is not None:
        out = _city_state_parts(out, german, official, index, places)
        out = _localities(out, german, official)
    return out


def _named_parts(out: pd.DataFrame, german: np.ndarray, official: OfficialRegister) -> pd.DataFrame:
    """Names nothing resolved that say which municipality they belong to: "Behringen
    (Hörselberg-Hainich)", "Mainz-Laubenheim", "Königsee-Rottenbach" (the parent an official
    municipality, the whole not), or one part of exactly one official compound name
    ("Leinefelde" → Leinefelde-Worbis)."""
    open_ = (german & out["part_of"].isna().to_numpy() & (out["kind"] == "municipality").fillna(False).to_numpy()
             & (out["match_status"] == "unresolved").fillna(False).to_numpy())
    rows = np.flatnonzero(open_)
    if not len(rows):
        return out
    names = out["query_name"].astype("string").iloc[rows]
    # "Berlin (Bezirk Pankow)": the parent first, its borough in brackets
    bezirk = names.str.extract(_NAMED_BOROUGH_RE.pattern, flags=re.IGNORECASE)["parent"]
    ask = bezirk.notna().to_numpy()
    if ask.any():
        found = resolve_in_register(pd.DataFrame({"name": bezirk[ask], "lat": pd.NA, "lon": pd.NA}), official.index)
        hit = (found["register_status"] == "resolved").to_numpy()
        out.loc[out.index[rows[ask][hit]], "part_of"] = ("ags:" + found.loc[hit, "ags"].astype("string")).to_numpy()
        out.loc[out.index[rows[ask][hit]], "kind"] = "borough"
        keep = ~np.isin(np.arange(len(rows)), np.flatnonzero(ask)[hit])
        rows, names = rows[keep], names[keep]
    paren = names.str.extract(_PAREN_PARENT_RE.pattern)["parent"]
    head = names.str.extract(r"^\s*([^\s()-][^()-]*?)\s*-\s*\S")[0]
    parents = paren.fillna(head)
    asked = parents.notna().to_numpy()
    if asked.any():
        found = resolve_in_register(pd.DataFrame({"name": parents[asked], "lat": pd.NA, "lon": pd.NA}), official.index)
        # "City-Stadtteil" is how cities name their parts; a small namesake at the head says
        # nothing ("Kühren-Burkartshain" in Saxony is not part of Kühren in Holstein)
        population = official.table["population"].reindex(found["ags"].astype("string")).to_numpy(dtype="float64",
                                                                                                   na_value=0.0)
        bracketed = paren[asked].notna().to_numpy()
        hit = (found["register_status"] == "resolved").to_numpy() & (bracketed | (population >= CITY_POPULATION))
        out.loc[out.index[rows[asked][hit]], "part_of"] = ("ags:" + found.loc[hit, "ags"].astype("string")).to_numpy()
        out.loc[out.index[rows[asked][hit]], "kind"] = "locality"
    compound = official.compound_parts()
    for row, key in zip(rows, normalise_name(names).tolist()):
        owners = compound.get(key) if isinstance(key, str) else None
        if owners and len(owners) == 1 and pd.isna(out["part_of"].iloc[row]):
            out.loc[out.index[row], ["part_of", "kind"]] = ["ags:" + owners[0][0], "locality"]
    return out


def _city_state_admin1(official: OfficialRegister, places: pd.DataFrame) -> dict[str, str]:
    """GeoNames admin1 code → AGS of the Länder that are one municipality (Berlin, Hamburg)."""
    table = official.table.reset_index()
    sizes = table.groupby("region_name")["ags"].transform("size")
    single = table[(sizes == 1).to_numpy() & table["geonames_id"].notna().to_numpy()]
    admin1 = places.set_index("geonames_id")["admin1"]
    admin1 = admin1[~admin1.index.duplicated()]
    return {str(admin1[g]): str(ags) for ags, g in zip(single["ags"], single["geonames_id"].astype("int64"))
            if g in admin1.index and isinstance(admin1[g], str)}


def _city_state_parts(out: pd.DataFrame, german: np.ndarray, official: OfficialRegister, index: pd.DataFrame,
                      places: pd.DataFrame) -> pd.DataFrame:
    states = _city_state_admin1(official, places)
    if not states:
        return out
    own = set(official.table["geonames_id"].dropna().astype("int64"))
    open_ = german & out["part_of"].isna().to_numpy() & ~out["kind"].isin(NOT_A_MUNICIPALITY[:3]).fillna(False).to_numpy()
    known = out["geonames_id"].notna().to_numpy() & ~out["geonames_id"].isin(own).fillna(False).to_numpy()
    inside = open_ & known & out["admin1"].isin(list(states)).fillna(False).to_numpy()
    out.loc[inside, "part_of"] = ("ags:" + out.loc[inside, "admin1"].astype("string").map(states)).to_numpy()
    out.loc[inside, "kind"] = "borough"
    # "Steglitz-Zehlendorf": every part a place of the same city-state
    names = out["query_name"].astype("string")
    compound = open_ & ~inside & out["geonames_id"].isna().to_numpy() & names.str.contains(r"\w-\w").fillna(False).to_numpy()
    rows = np.flatnonzero(compound)
    if not len(rows):
        return out
    parts = pd.DataFrame([(row, part.strip()) for row in rows for part in str(names.iloc[row]).split("-")
                          if part.strip()], columns=["row", "name"])
    parts["key"] = normalise_name(parts["name"].astype("string"))
    # which city-states have a place of each part's name (any of its names; namesakes elsewhere
    # do not matter: "Treptow" is also Altentreptow's old name)
    named = index[index["key"].isin(set(parts["key"].dropna())) & (index["country_code"] == official.country)]
    admin1 = places.set_index("geonames_id")["admin1"]
    named = pd.DataFrame({"key": named["key"].astype(object).to_numpy(),
                          "admin1": admin1[~admin1.index.duplicated()].reindex(named["geonames_id"]).to_numpy()})
    named = named[named["admin1"].isin(list(states))].drop_duplicates()
    parts = parts.merge(named, on="key", how="left")
    for row, group in parts.groupby("row"):
        common = set.intersection(*(set(g.dropna()) for _, g in group.groupby("name")["admin1"]))
        if len(common) == 1:
            out.loc[out.index[row], ["part_of", "kind"]] = ["ags:" + states[common.pop()], "borough"]
    return out


def _localities(out: pd.DataFrame, german: np.ndarray, official: OfficialRegister) -> pd.DataFrame:
    """A German place the gazetteer is sure of, that the register neither names nor links, is a
    locality: the register lists every municipality, so this place is part of one."""
    own = set(official.table["geonames_id"].dropna().astype("int64"))
    place = (german & out["part_of"].isna().to_numpy() & (out["kind"] == "municipality").fillna(False).to_numpy()
             & (out["match_status"] == "resolved").fillna(False).to_numpy()
             & out["geonames_id"].notna().to_numpy() & ~out["geonames_id"].isin(own).fillna(False).to_numpy())
    out.loc[place, "kind"] = "locality"
    return out


def _districts(out: pd.DataFrame, german: np.ndarray, official: OfficialRegister) -> pd.DataFrame:
    """A bare Landkreis name ("Lüchow-Dannenberg", "Wesermarsch") that no municipality bears."""
    unnamed = (german & out["part_of"].isna().to_numpy() & (out["kind"] == "municipality").fillna(False).to_numpy()
               & (out["match_status"] != "resolved").fillna(True).to_numpy()
               & (out["match_method"] != "register_candidates").fillna(True).to_numpy())
    district = unnamed & normalise_name(out["query_name"].astype("string")).isin(official.district_keys()).to_numpy()
    out.loc[district, "kind"] = "district"
    return out
