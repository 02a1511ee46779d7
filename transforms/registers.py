"""An official register's rows → municipality identities (evidence key `ags:<AGS>`).

Pure. Each register row is also looked up in the GeoNames gazetteer, and its GeoNames id kept
only where the gazetteer has the same name within a few km of the register's centroid: that
link is how a partnership side resolved through GeoNames finds the official municipality. A
GeoNames place claimed by two register rows is linked to neither.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from schemas.records import REJECT_REASON
from transforms.identity import haversine_km, normalise_name, resolve
from transforms.quality import QualityReport, validate

#: Gazetteer methods that say "this is the same named place" (not a neighbour or a fuzzy guess).
NAME_METHODS = ("source_id", "exact", "alternate")
#: A GeoNames point farther than this from the register's centroid is another place.
LINK_KM = 10.0


@dataclass
class StagedRegister:
    source: str
    rows_extracted: int
    municipalities: pd.DataFrame  # identities, one per official key
    rejected: pd.DataFrame
    quality: list[QualityReport]
    duplicates_collapsed: int = 0
    assertions: pd.DataFrame = field(default_factory=pd.DataFrame)  # a register asserts no relations

    @property
    def bad_input(self) -> int:
        return len(self.rejected)

    @property
    def reject_share(self) -> float:
        return self.bad_input / self.rows_extracted if self.rows_extracted else 0.0

    @property
    def accounted(self) -> bool:
        return len(self.municipalities) + len(self.rejected) + self.duplicates_collapsed == self.rows_extracted


def stage_register(raw: pd.DataFrame, *, places: pd.DataFrame, index: pd.DataFrame, country: str = "DE",
                   progress: Callable[[str], None] | None = None) -> StagedRegister:
    say = progress or (lambda message: None)
    source = str(raw["source"].iloc[0]) if len(raw) else ""
    flagged = raw[REJECT_REASON].notna()
    report = validate(raw[~flagged].reset_index(drop=True), "register")
    reasons = report.row_reasons
    ok = raw[~flagged].reset_index(drop=True)
    rejected = pd.concat([raw[flagged], ok[reasons.notna()].assign(**{REJECT_REASON: reasons[reasons.notna()]})],
                         ignore_index=True)
    ok = ok[reasons.isna().to_numpy()].reset_index(drop=True)
    links = gazetteer_links(ok, places, index, country)
    say(f"{len(ok):,} official municipalities; {int(links.notna().sum()):,} linked to their GeoNames place")
    municipalities = pd.DataFrame({
        "municipality_id": ("ags:" + ok["ags"]).astype("string"),
        "geonames_id": pd.array(links, dtype="Int64"),
        "wikidata_qid": pd.array([pd.NA] * len(ok), dtype="string"),
        "ags": ok["ags"].astype("string"),
        "name": ok["name"].astype("string"),
        "kind": ok["kind"].astype("string"),
        "country_code": country,
        "admin1_code": pd.array([pd.NA] * len(ok), dtype="string"),  # GeoNames' code; the Land is region_name
        "latitude": ok["lat"].astype("Float64"),
        "longitude": ok["lon"].astype("Float64"),
        "population": ok["population"].astype("Int64"),
        "match_method": "register",
        "match_score": 1.0,
        "match_status": "resolved",
        "official_name": ok["official_name"].astype("string"),
        "region_name": ok["land"].astype("string"),
        "district_name": ok["kreis"].astype("string"),
        "postcode": ok["postcode"].astype("string"),
    })
    staged = StagedRegister(source, len(raw), municipalities, rejected, [report])
    if not staged.accounted:
        raise RuntimeError(f"{source}: staging lost rows ({len(raw)} in, {len(municipalities)} staged, "
                           f"{len(rejected)} rejected)")
    return staged


def gazetteer_links(register: pd.DataFrame, places: pd.DataFrame, index: pd.DataFrame, country: str) -> pd.Series:
    """GeoNames id per register row where the gazetteer has the same name close to the centroid:
    the full official name, else its base name ("Weilheim i.OB" → Weilheim, "Auerbach/Vogtl." →
    Auerbach), which GeoNames writes in full ("Weilheim in Oberbayern") or bare."""
    links = _links(register["name"], register, places, index, country)
    base = name_parts(register["name"].astype("string"))["base"]
    retry = links.isna().to_numpy() & base.notna().to_numpy() & (base != normalise_name(register["name"])).to_numpy()
    if retry.any():
        again = _links(base[retry].reset_index(drop=True), register[retry].reset_index(drop=True), places, index,
                       country)
        again = again.mask(again.isin(set(links.dropna())))  # a full-name link is never displaced
        links = links.copy()
        links.iloc[np.flatnonzero(retry)] = again.to_numpy()
    claimed_twice = links.notna() & links.duplicated(keep=False)
    return links.mask(claimed_twice).reset_index(drop=True)


def _links(names: pd.Series, register: pd.DataFrame, places: pd.DataFrame, index: pd.DataFrame,
           country: str) -> pd.Series:
    queries = pd.DataFrame({"name": names.to_numpy(), "country_code": country,
                            "lat": register["lat"].to_numpy(), "lon": register["lon"].to_numpy()})
    found = resolve(queries, index, places)
    points = places.set_index("geonames_id")[["lat", "lon"]].reindex(found["geonames_id"].astype("float64"))
    distance = haversine_km(register["lat"].to_numpy(dtype="float64", na_value=np.nan),
                             register["lon"].to_numpy(dtype="float64", na_value=np.nan),
                             points["lat"].to_numpy(dtype="float64"), points["lon"].to_numpy(dtype="float64"))
    good = (found["match_method"].isin(NAME_METHODS).to_numpy(dtype=bool)
            & (found["match_status"] == "resolved").to_numpy(dtype=bool) & (distance <= LINK_KM))
    return found["geonames_id"].astype("Int64").where(good).reset_index(drop=True)


# --------------------------------------------------------------------------- German sides

#: Words that join a name to its qualifier: "Frankfurt am Main", "Neustadt a.d.Donau", "Neustadt b.Coburg".
_LINK_WORDS = frozenset("am an der den dem a d v im in i ob bei b auf vor unter u o upon on".split())
#: Leading titles that are not the place's name ("Stadt Köln"), and "Bad", which comes and goes
#: ("Kötzting" became "Bad Kötzting" in 2005).
_TITLE_WORDS = ("freie und hansestadt", "hansestadt", "lutherstadt", "landeshauptstadt", "universitatsstadt",
                "stadt", "gemeinde", "markt", "bad")
_TITLE_RE = re.compile(r"^(?:%s) (?=\S)" % "|".join(_TITLE_WORDS))
#: Within this distance of the source's coordinates a register municipality is "there".
NEAR_KM = 20.0
#: A unique name whose municipality lies farther than this from the source's coordinates is
#: not taken on the name alone.
FAR_KM = 60.0
#: English names of the Länder, as sources qualify a place with them ("Falkenstein, Saxony").
LAND_EXONYMS = {"Bavaria": "Bayern", "Saxony": "Sachsen", "Lower Saxony": "Niedersachsen",
                "Saxony-Anhalt": "Sachsen-Anhalt", "North Rhine-Westphalia": "Nordrhein-Westfalen",
                "Rhineland-Palatinate": "Rheinland-Pfalz", "Thuringia": "Thüringen", "Hesse": "Hessen",
                "Mecklenburg-Western Pomerania": "Mecklenburg-Vorpommern",
                "Mecklenburg-West Pomerania": "Mecklenburg-Vorpommern", "Baden-Wuerttemberg": "Baden-Württemberg"}
#: Kinds of side the register of municipalities cannot decide.
NOT_A_MUNICIPALITY = ("district", "region", "association", "borough")
SCORES = {"register_exact": 1.0, "register_postcode": 0.98, "register_qualifier": 0.97, "register_region": 0.96,
          "register_coordinates": 0.95, "register_name": 0.9}


def name_parts(names: pd.Series) -> pd.DataFrame:
    """full key, base key (before any qualifier), alternative key (without a title) and the
    qualifier words: "Halle (Westf.)" → "halle westf", "halle", None, {westf}."""
    text = names.astype("string")
    text = text.str.replace(r"^(?:St\.|St\b|Sankt)\s*", "Sankt ", regex=True)  # "St. Wendel" = "Sankt Wendel"
    full = normalise_name(text)
    head = text.str.replace(r"\s*[(/,].*$", "", regex=True)
    head_key = normalise_name(head)
    tail_words = normalise_name(text.str.extract(r"[(/,](.*)$", expand=False))
    rows = []
    for key, head_text, tail in zip(full.tolist(), head_key.tolist(), tail_words.tolist()):
        if key is pd.NA or key is None:
            rows.append((None, None, None, frozenset()))
            continue
        words = (head_text or key).split()
        cut = next((i for i, w in enumerate(words) if i and w in _LINK_WORDS), len(words))
        base = " ".join(words[:cut])
        quals = [w for w in words[cut:] if w not in _LINK_WORDS]
        if isinstance(tail, str):
            quals += [w for w in tail.split() if w not in _LINK_WORDS]
        alt = _TITLE_RE.sub("", base)
        rows.append((key, base, alt if alt != base else None, frozenset(q for q in quals if len(q) >= 3)))
    return pd.DataFrame(rows, columns=["full", "base", "alt", "quals"], index=names.index)


def register_index(register: pd.DataFrame) -> pd.DataFrame:
    """One row per (key, municipality) for the register's official municipalities."""
    parts = name_parts(register["name"])
    context = normalise_name(register["region_name"].fillna("") + " " + register["district_name"].fillna(""))
    entries = []
    for kind in ("full", "base", "alt"):
        entries.append(pd.DataFrame({"kind": kind, "key": parts[kind], "ags": register["ags"]}).dropna())
    index = pd.concat(entries, ignore_index=True).drop_duplicates()
    details = pd.DataFrame({"ags": register["ags"], "quals": parts["quals"],
                            "context": context.fillna("").str.split().map(frozenset),
                            "lat": register["latitude"].astype("Float64"), "lon": register["longitude"].astype("Float64"),
                            "population": register["population"].astype("Int64"),
                            "region": normalise_name(register["region_name"].fillna("")).fillna(""),
                            "postcode": register["postcode"].astype("string") if "postcode" in register
                            else pd.Series(pd.NA, index=register.index, dtype="string")})
    return index.merge(details, on="ags", how="left")


def resolve_in_register(queries: pd.DataFrame, index: pd.DataFrame) -> pd.DataFrame:
    """German sides (name, lat, lon) → the official municipality (AGS), or why not.

    Strongest first: the full name ("Halle (Westf.)", "Frankfurt am Main"); the base name with
    a qualifier the source writes that matches the municipality's own qualifier, Land or Kreis
    ("Brühl (Baden)"); the source's coordinates near exactly one candidate; a base name only one
    municipality has. Several candidates that no evidence separates: `ambiguous`, candidates
    kept. No candidate: `none` (a part of a municipality, an exonym: the gazetteer decides).
    """
    parts = name_parts(queries["name"])
    lat = queries["lat"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    lon = queries["lon"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    n = len(queries)
    region = (normalise_name(queries["region"]) if "region" in queries else pd.Series([pd.NA] * n, dtype="string"))
    postcode = (queries["postcode"].astype("string") if "postcode" in queries
                else pd.Series([pd.NA] * n, dtype="string"))
    named_land = _land_qualifier(queries["name"], index).where(region.isna().to_numpy())
    region = region.fillna(named_land)
    land_qualified = named_land.notna().to_numpy()  # the qualifier was the Land: "saxony" reads "sachsen"
    region = [r if isinstance(r, str) and r else None for r in region.tolist()]
    postcode = [p if isinstance(p, str) and p else None for p in postcode.tolist()]
    groups = _Groups(index)
    decided: dict[tuple, tuple] = {}
    out = []
    for i, (full, base, alt, quals) in enumerate(parts.itertuples(index=False)):
        if land_qualified[i]:
            quals = frozenset(region[i].split())
        query = (full, base, alt, quals, lat[i], lon[i], region[i], postcode[i])
        if query not in decided:  # many rows name the same place
            decided[query] = _decide(*query, groups)
        out.append(decided[query])
    return pd.DataFrame(out, columns=["ags", "register_method", "register_status", "register_score",
                                      "candidates"], index=queries.index)


def _land_qualifier(names: pd.Series, index: pd.DataFrame) -> pd.Series:
    """The Land a name's qualifier states ("Falkenstein, Saxony", "Neustadt (Hessen)"), normalised
    as the index writes regions; NA where the qualifier is not a Land."""
    lands = {key: key for key in index["region"].unique() if isinstance(key, str) and key}
    english = pd.Series(list(LAND_EXONYMS), dtype="string")
    lands.update(zip(normalise_name(english), normalise_name(pd.Series(list(LAND_EXONYMS.values()), dtype="string"))))
    tail = normalise_name(names.astype("string").str.extract(r"(?:,|\()\s*([^(),]+?)\s*\)?\s*$", expand=False))
    return tail.map(lands, na_action="ignore").astype("string")


class _Groups:
    """Index rows by (kind, key), looked up without pandas per query."""

    def __init__(self, index: pd.DataFrame):
        self.index = index.reset_index(drop=True)
        self.positions = self.index.groupby(["kind", "key"]).indices

    def get(self, kind: str, key: str):
        found = self.positions.get((kind, key))
        return None if found is None else self.index.iloc[found]


def _decide(full, base, alt, quals, lat, lon, region, postcode, groups):
    if full is None:
        return (None, None, "none", 0.0, None)
    exact = _pool(groups, ("full",), full)
    namesakes = _pool(groups, ("base", "full"), base) if base else None
    if exact is not None and (region or postcode) and len(exact) > 1:
        stated = _stated(exact, region, postcode, quals)
        if stated is not None:
            return stated
    if exact is not None:
        if len(exact) == 1:
            if namesakes is None or len(namesakes) == 1 or base != full:
                return _one(exact, "register_exact", lat, lon, strict=False)
            # a bare "Winsen" is the village Winsen's full name, and the base of "Winsen (Luhe)":
            # the name alone does not decide, the source's other evidence does (below)
            exact = None
    if exact is not None:
        near = _near(exact, lat, lon)
        if near is not None:
            return (near, "register_coordinates", "resolved", SCORES["register_coordinates"],
                    _namesakes(exact, namesakes))
    pool = _pool(groups, ("base", "full"), base)
    if pool is None and alt is None:
        pool = _pool(groups, ("alt",), base)
    if pool is None and alt is not None:
        pool = _pool(groups, ("base", "full", "alt"), alt)
    if pool is None:
        return (None, None, "none", 0.0, None)
    if region or postcode:
        stated = _stated(pool, region, postcode, quals)
        if stated is not None:
            return stated
        if region:
            pool = pool[pool["region"] == region] if (pool["region"] == region).any() else pool
    if quals:
        fitting = pool[[_fits(quals, own, context) for own, context in zip(pool["quals"], pool["context"])]]
        if len(fitting) == 1:
            return _one(fitting, "register_qualifier", lat, lon, strict=False)
        if fitting.empty:  # "Lichtenberg (Berlin)", "Gernrode (Quedlinburg)": a part of another place
            near = _near(pool, lat, lon)
            if near is not None:
                return (near, "register_coordinates", "resolved", SCORES["register_coordinates"],
                        _namesakes(pool, namesakes))
            return (None, None, "none", 0.0, None)
        pool = fitting
    near = _near(pool, lat, lon)
    if near is not None:
        return (near, "register_coordinates", "resolved", SCORES["register_coordinates"], _namesakes(pool, namesakes))
    if len(pool) == 1:
        return _one(pool, "register_name", lat, lon, strict=True)
    return (None, None, "ambiguous", 0.0, ";".join(sorted(pool["ags"].unique())))


def _namesakes(*pools) -> str | None:
    """The municipalities of that name a coordinate decision chose among (kept: a source's
    coordinates can belong to a namesake — twincities places Hamm's twins at the village Hamm in
    the Eifel, Sulzbach (Taunus)'s at the village Sulzbach)."""
    ags = sorted({a for pool in pools if pool is not None for a in pool["ags"]})
    return ";".join(ags) if len(ags) > 1 else None


def _stated(pool, region, postcode, quals=frozenset()):
    """The source states the municipality's postcode (of its seat) or its Land: one candidate left.
    A Land decides only among the namesakes the name's own qualifier fits: "Neustadt am
    Rennsteig" (merged away in 2019) is not Thuringia's other Neustadt, an der Orla."""
    if postcode:
        same = pool[pool["postcode"] == postcode]
        if len(same) == 1:
            return (same["ags"].iloc[0], "register_postcode", "resolved", SCORES["register_postcode"], None)
    if region:
        same = pool[pool["region"] == region]
        if quals:
            same = same[[_fits(quals, own, context) for own, context in zip(same["quals"], same["context"])]]
        if len(same) == 1:
            return (same["ags"].iloc[0], "register_region", "resolved", SCORES["register_region"], None)
    return None


def _pool(groups: _Groups, kinds, key):
    frames = [f for f in (groups.get(kind, key) for kind in kinds) if f is not None]
    if not frames:
        return None
    return pd.concat(frames).drop_duplicates("ags") if len(frames) > 1 else frames[0].drop_duplicates("ags")


def _one(pool, method, lat, lon, strict):
    row = pool.iloc[0]
    if strict and not np.isnan(lat) and pd.notna(row["lat"]):
        if haversine_km(lat, lon, float(row["lat"]), float(row["lon"])) > FAR_KM:
            return (None, None, "ambiguous", 0.0, row["ags"])  # the name says here, the coordinates there
    return (row["ags"], method, "resolved", SCORES[method], None)


def _near(pool, lat, lon):
    """The one candidate within NEAR_KM of the source's coordinates, if exactly one is."""
    if np.isnan(lat) or np.isnan(lon):
        return None
    distance = haversine_km(lat, lon, pool["lat"].to_numpy(dtype="float64", na_value=np.nan),
                             pool["lon"].to_numpy(dtype="float64", na_value=np.nan))
    close = pool[distance <= NEAR_KM]
    return close["ags"].iloc[0] if len(close) == 1 else None


def _fits(quals: frozenset, own: frozenset, context: frozenset) -> bool:
    """A qualifier the source writes names the municipality's own qualifier, its Land or Kreis
    ("westf" ~ "westf", "baden" ~ "baden wurttemberg"); prefixes count from 4 letters."""
    words = own | context
    return any(q == w or (min(len(q), len(w)) >= 4 and (q.startswith(w) or w.startswith(q)))
               for q in quals for w in words)


class OfficialRegister:
    """A country's official municipalities, to decide that country's sides before the gazetteer.

    `register`: one row per official municipality with ags, name, region_name, district_name,
    latitude, longitude, population, geonames_id (the register's GeoNames link) and kind.
    """

    def __init__(self, register: pd.DataFrame, country: str = "DE"):
        self.country = country
        table = register[register["kind"].fillna("municipality") == "municipality"].copy()
        table["ags"] = table["ags"].astype("string")
        self.table = table.drop_duplicates("ags").set_index("ags")
        self.index = register_index(table.reset_index(drop=True))

    def district_keys(self) -> frozenset[str]:
        """Normalised names of the Landkreise ("Lüchow-Dannenberg", "Region Hannover"); the
        kreisfreie Städte, written "Kassel, documenta-Stadt", are municipalities themselves."""
        if not hasattr(self, "_districts"):
            names = self.table["district_name"].dropna().astype("string")
            self._districts = frozenset(normalise_name(names[~names.str.contains(",")]).dropna())
        return self._districts

    def compound_parts(self) -> dict[str, list[tuple[str, float, float]]]:
        """normalised part → [(AGS, lat, lon)] for official names of several parts ("Bitterfeld-Wolfen")."""
        if not hasattr(self, "_compound"):
            self._compound: dict[str, list] = {}
            table = self.table.reset_index()
            multi = table[table["name"].str.contains(r"\w-\w", regex=True).fillna(False)]
            for ags, name, lat, lon in multi[["ags", "name", "latitude", "longitude"]].itertuples(index=False):
                head = re.split(r"\s*[(/,]", name, maxsplit=1)[0]
                for part in normalise_name(pd.Series(head.split("-"), dtype="string")).dropna():
                    if len(part) >= 3:
                        self._compound.setdefault(part, []).append((ags, lat, lon))
        return self._compound

    def decide(self, resolved: pd.DataFrame) -> pd.DataFrame:
        """`resolved` (one side's gazetteer answers, see transforms.staging) with this country's
        sides decided by the register: official municipality, ambiguous with candidates, or (no
        candidate at all) the gazetteer's answer kept."""
        out = resolved.copy()
        # stated as this country, or stated without a country and placed here by the gazetteer
        guessed_here = out["query_country"].isna() & (out["match_country"] == self.country)
        mine = ((out["query_country"] == self.country) | guessed_here).fillna(False).to_numpy(dtype=bool)
        stated = mine & out["ags"].isin(self.table.index).fillna(False).to_numpy(dtype=bool)
        # a district, region, association or borough is not one of the register's municipalities:
        # "Aachen (Kreis) (Aachen, Stadt)" is the StädteRegion, not the city
        not_one = out["kind"].isin(NOT_A_MUNICIPALITY).fillna(False).to_numpy(dtype=bool)
        ask = mine & ~stated & ~not_one
        found = resolve_in_register(pd.DataFrame({
            "name": out.loc[ask, "query_name"], "lat": out.loc[ask, "query_lat"], "lon": out.loc[ask, "query_lon"],
            "region": out.loc[ask, "query_region"] if "query_region" in out else pd.NA,
            "postcode": out.loc[ask, "query_postcode"] if "query_postcode" in out else pd.NA}), self.index)
        decision = pd.DataFrame({"ags": pd.NA, "register_method": pd.NA, "register_status": "none",
                                 "register_score": 0.0, "candidates": pd.NA}, index=out.index)
        decision.loc[ask, list(found.columns)] = found.to_numpy()
        decision.loc[stated, "ags"] = out.loc[stated, "ags"].to_numpy()
        decision.loc[stated, ["register_method", "register_status", "register_score"]] = [
            "register_source", "resolved", 1.0]
        hit = (decision["register_status"] == "resolved").to_numpy(dtype=bool)
        ags = decision.loc[hit, "ags"].astype("string")
        rows = self.table.reindex(ags)
        out.loc[hit, "municipality_id"] = ("ags:" + ags).to_numpy()
        out.loc[hit, "ags"] = ags.to_numpy()
        out.loc[hit, "geonames_id"] = rows["geonames_id"].astype("Int64").to_numpy()
        out.loc[hit, "canonical_name"] = rows["name"].to_numpy()
        out.loc[hit, "match_country"] = self.country
        out.loc[hit, "admin1"] = pd.NA
        out.loc[hit, "population"] = rows["population"].astype("Int64").to_numpy()
        out.loc[hit, "lat"] = rows["latitude"].astype("float64").to_numpy()
        out.loc[hit, "lon"] = rows["longitude"].astype("float64").to_numpy()
        out.loc[hit, "kind"] = "municipality"
        out.loc[hit, "match_method"] = decision.loc[hit, "register_method"].to_numpy()
        out.loc[hit, "match_score"] = decision.loc[hit, "register_score"].astype(float).to_numpy()
        out.loc[hit, "match_status"] = "resolved"
        chosen_among = hit & decision["candidates"].notna().to_numpy(dtype=bool)
        out.loc[chosen_among, "candidates"] = ("ags:" + decision.loc[chosen_among, "candidates"].astype("string")
                                               .str.replace(";", ";ags:", regex=False)).to_numpy()
        unsure = (decision["register_status"] == "ambiguous").to_numpy(dtype=bool)
        for column in ("geonames_id", "canonical_name", "match_country", "admin1", "population", "lat", "lon"):
            out.loc[unsure, column] = pd.NA
        out.loc[unsure, "match_method"] = "register_candidates"
        out.loc[unsure, "match_score"] = 0.0
        out.loc[unsure, "match_status"] = "ambiguous"
        out.loc[unsure, "candidates"] = ("ags:" + decision.loc[unsure, "candidates"].astype("string")
                                         .str.replace(";", ";ags:", regex=False)).to_numpy()
        out.loc[unsure, "query_country"] = self.country
        return out
