"""One identity per municipality: source names resolved to GeoNames ids.

Köln, Cologne and Kolonia are one place; so every source's municipality name (plus its country
and, where known, coordinates) is resolved against the GeoNames gazetteer
(`extractors.geonames_gazetteer.load_places`). Strategy, strongest evidence first:

1. ``source_id``    the source states a GeoNames id that the gazetteer has;
2. ``exact``        normalised name == a place's primary name (within the country);
   ``alternate``    ... == one of its alternate names, or equal after qualifiers such as
                    "Hansestadt", "(Oder)", "an der Ruhr" are dropped on both sides;
3. ``other_country`` no hit in the stated country, but the exact (or alternate) name of a
                    place in another country lies within ``OTHER_COUNTRY_KM`` of the source's
                    coordinates: the source mislabelled the country ("Kufstein", Germany, at
                    47.58 N 12.17 E is Kufstein, Austria). ``match_country`` is then the
                    gazetteer's country, which callers take as the municipality's country;
4. ``coordinates``  no name hit, but a place within a few km has a similar name (or is one part
                    of a merged municipality: "Aue-Bad Schlema" -> Aue, "Wettin-Löbejün" ->
                    Löbejün; or GeoNames names the seat after it: "Weinstadt" -> Weinstadt-Endersbach);
5. ``fuzzy``        rapidfuzz ratio >= 90 against the country's names;
6. ``name_only``    a name hit where the source gives no country (matched across countries).

Among several candidates the nearest within ``max_km`` wins; without coordinates the most
populous (primary-name hits weigh double) wins, and the row is "ambiguous" when the runner-up
is comparable. Loosened matches (variants, fuzzy) must lie near the source's coordinates when
it has them. Units that are not one municipality ("Lippe (district)") get no loosened key, so
they stay unresolved rather than becoming their seat town.

Independently of the id, `municipality_kind` tells what kind of unit a name denotes
(municipality, district, region, borough, association); `resolve` returns it as ``kind`` so
that coverage can be reported over real municipalities. Everything here is pure: the
gazetteer is passed in.
"""
from __future__ import annotations

import gettext
import html
import itertools
import os
import re
from functools import lru_cache

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from unidecode import unidecode

#: Columns `resolve` adds (or overwrites) and their dtypes.
RESULT_COLUMNS: dict[str, str] = {
    "geonames_id": "Int64",
    "canonical_name": "string",
    "match_country": "string",
    "admin1": "string",
    "population": "Int64",
    "match_score": "float64",
    "match_method": "string",
    "match_status": "string",
    "kind": "string",
}
#: ``other_country`` stays within the warehouse's 20 characters for ``match_method``.
METHODS = ("source_id", "exact", "alternate", "other_country", "coordinates", "fuzzy", "name_only", "none")
KINDS = ("municipality", "district", "region", "borough", "locality", "association", "unincorporated_area")
STATUSES = ("resolved", "ambiguous", "unresolved")

#: Index tiers; lower is stronger name evidence.
TIER_PRIMARY, TIER_ALTERNATE, TIER_VARIANT, TIER_FUZZY, TIER_COORDS, TIER_OTHER_COUNTRY = 0, 1, 2, 3, 4, 5
_NAME_SCORE = {TIER_PRIMARY: 1.0, TIER_ALTERNATE: 0.95, TIER_VARIANT: 0.9}

#: Candidates this close to the source's coordinates are taken as the place it means.
MAX_KM = 30.0
#: Radius for the coordinates fallback (no name hit at all).
NEAR_KM = 5.0
#: A name hit in another country than the stated one counts only this close to the coordinates.
OTHER_COUNTRY_KM = 15.0
#: Runner-up population share (after the primary-name weighting) that makes a pick ambiguous.
#: Measured on 14,689 twincities sides labelled with the namesake at the collector's
#: coordinates (bench/bench_identity_gold.py): 0.3 → 99.49 % of name-only answers right,
#: 0.2 → 99.64 %, 0.1 → 99.74 % (resolving 93.8 % of them), 0.05 → 99.83 % (92.5 %).
AMBIGUOUS_SHARE = 0.1
FUZZY_CUTOFF = 90.0
COORDS_NAME_CUTOFF = 85.0
#: Similarity given to "first part of a hyphenated compound" matches (ranked below real matches).
COMPOUND_PART_SIM = 85.0
#: Loosened names (variant keys, fuzzy) must lie this close when the source has coordinates.
VARIANT_KM = 15.0
#: Fuzzy ratio from which a name without coordinates counts as resolved, not ambiguous.
FUZZY_SURE = 95.0
_EARTH_KM = 6371.0088

#: After transliteration and lower-casing only ASCII is left: all but [0-9a-z] becomes a space.
_TO_SPACE = {cp: " " for cp in range(128) if not chr(cp).isalnum() or chr(cp).isupper()}
_QUALIFIER_CHARS = re.compile(r"[(\[/,|]| [-\u2013\u2014] ")
#: "Berlin – Pankow", "Bonn - Beuel": a parent municipality, then the part it is about.
_DASH_PARENT = re.compile(r" [-\u2013\u2014] ")
#: Bracketed or trailing markers of units that are not one municipality (districts, Ämter).
_ADMIN_UNIT = re.compile(
    r"[(,]\s*(?:district|landkreis|kreis|samtgemeinde|verbandsgemeinde|amt|county|region|"
    r"province|provinz|powiat|gmina wiejska)\b|^(?:landkreis|kreis|amt|samtgemeinde|verbandsgemeinde) "
)
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
#: All-caps 3-4 letter alternate names are IATA/ICAO/abbreviations ("CGN", "MUC", "FFM").
_CODE_LIKE = re.compile(r"[A-Z]{3,4}")
#: Titles that precede a municipality's name in official or foreign usage (normalised form).
_PREFIXES = (
    "freie und hansestadt", "freie hansestadt", "hansestadt", "lutherstadt",
    "landeshauptstadt", "grosse kreisstadt", "kreisstadt", "universitatsstadt",
    "wissenschaftsstadt", "stadt", "gemeinde", "markt", "city of", "town of",
    "village of", "municipality of", "borough of", "gmina", "miasto", "ville de",
    "commune de", "comune di", "citta di", "mesto", "obec", "municipio de",
    # how European municipalities name themselves (network member lists write the full form)
    "concello de", "concello da", "concello do", "concello", "ayuntamiento de", "ajuntament de",
    "ajuntament d", "municipio da", "municipio do", "municipio", "camara municipal de",
    "camara municipal da", "camara municipal do", "comune de", "comune", "citta", "commune d",
    "commune", "mairie de", "ville d", "marktgemeinde", "stadtgemeinde", "statutarstadt",
    "opcina", "obcina", "opstina", "grad", "dimos", "municipiul", "comuna", "orasul",
    "gemeente", "kommune", "mestska cast", "statutarne mesto", "statutarni mesto",
    # spa title, added or dropped over time ("Kötzting" became "Bad Kötzting" in 2005)
    "bad",
)
_PREFIX_RE = re.compile(r"^(?:%s) (?=\S)" % "|".join(re.escape(p) for p in _PREFIXES))
#: Trailing words naming the unit, not the place ("Växjö Municipality", "Vejle Kommune").
_UNIT_SUFFIX_RE = re.compile(
    r" (?:municipality|kommun|kommune|gemeente|gemeinde|stadt|kunta|kaupunki|savivaldybe|novads|vald|linn|"
    r"municipio|comune|kommuna)$")
#: Trailing locatives: "Mülheim an der Ruhr", "Weil am Rhein", "Frankfurt nad Odrą",
#: "Boulogne-sur-Mer". Dropped only in the variant key, which is consulted only when the
#: full name has no hit, so "Frankfurt am Main" and "Frankfurt (Oder)" stay distinct.
_SUFFIX_RE = re.compile(
    r"^(.+?) (?:am|an der|an den|an|im|in der|in|ob der|bei|vor der|auf der|unter der|"
    r"upon|on the|on|sur|sur le|sur la|sul|sull|nad|pod|na) \S.*$"
)


# --------------------------------------------------------------------------- normalisation

def _transliterate(texts: list[str]) -> list[str]:
    """unidecode, applied as one str.translate table over the distinct characters.

    unidecode maps code point by code point, so the table gives identical output at a fraction
    of the cost (1M gazetteer names in well under a second).
    """
    joined = "".join(text for text in texts if not text.isascii())
    points = np.unique(np.frombuffer(joined.encode("utf-32-le", errors="surrogatepass"), dtype="<u4"))
    table = {int(cp): unidecode(chr(cp)) for cp in points[points > 127]}
    return [text if text.isascii() else text.translate(table) for text in texts]


def _keys_and_variants(texts: list[str]) -> tuple[list[str], list[str]]:
    """(key, variant key) for each distinct string; see `normalise_name` and `variant_name`."""
    unescaped = [html.unescape(t) if "&" in t else t for t in texts]
    lowered = [t.lower() for t in _transliterate(unescaped)]
    keys = [" ".join(t.translate(_TO_SPACE).split()) for t in lowered]
    variants = []
    for text, key in zip(lowered, keys):
        variant = key
        if _ADMIN_UNIT.search(text):
            # "Karlsruhe (district)" is not the city Karlsruhe: no loosened key at all.
            variants.append(key)
            continue
        if _QUALIFIER_CHARS.search(text):
            # "Bonn – Bad Godesberg" -> the part after the parent; "Halle (Saale)" -> "halle";
            # "Heringen/Helme", "Friedberg, Hesse" -> the first part.
            text = _DASH_PARENT.split(text)[-1]
            text = _PARENS.sub(" ", text)
            text = re.split(r"[/,|]", text, maxsplit=1)[0]
            variant = " ".join(text.translate(_TO_SPACE).split())
        if " " in variant:
            variant = _PREFIX_RE.sub("", variant)
            match = _SUFFIX_RE.match(variant)
            if match:
                variant = match.group(1)
            variant = _UNIT_SUFFIX_RE.sub("", variant)
        variants.append(variant or key)
    return keys, variants


def _map_unique(names: pd.Series, which: int) -> pd.Series:
    """Normalise each distinct value once and map the column (the rest is a hash lookup)."""
    text = names.astype("string")
    uniques = [u for u in text.dropna().unique()]
    mapping = dict(zip(uniques, _keys_and_variants(uniques)[which]))
    return text.map(mapping, na_action="ignore").astype("string")


def normalise_name(names: pd.Series) -> pd.Series:
    """Match key: casefolded ASCII transliteration, punctuation to spaces ('Köln' -> 'koln').

    HTML entities are decoded first ('&amp;' -> '&'); other scripts are transliterated by
    unidecode ('Кёльн' -> 'kiol n'), the same way as the gazetteer's names.
    """
    return _map_unique(names, 0)


def variant_name(names: pd.Series) -> pd.Series:
    """Looser key without qualifiers ('Hansestadt Lübeck' -> 'lubeck', 'Halle (Saale)' -> 'halle').

    Used only when the full key has no hit, so qualifiers still separate places that need them.
    """
    return _map_unique(names, 1)


# --------------------------------------------------------------------------- kind of unit

#: Associations of municipalities: "Aue (Samtgemeinde)", "Trittau (Amt)", "Verbandsgemeinde Diez".
#: A leading "Amt" is not enough: "Amt Neuhaus" and "Amt Wachsenburg" are municipalities.
_ASSOCIATION_RE = re.compile(
    r"\((?:samtgemeinde|amt|verbandsgemeinde|verwaltungsgemeinschaft|vg|gemeindeverwaltungsverband)\)\s*$"
    r"|^(?:samtgemeinde|verbandsgemeinde|verwaltungsgemeinschaft|gemeindeverwaltungsverband) \S"
    # unions of municipalities elsewhere: Italy's comunità di valle / montane and unioni di comuni,
    # Spain's mancomunidades, France's communautés de communes / d'agglomération
    r"|^(?:comunita (?:della|delle|dei|del|di|montana)\b|unione (?:dei |delle )?comuni\b|mancomunidad\b"
    r"|communaute (?:de communes|d.agglomeration|urbaine)\b)"
)
#: Districts: "Lippe (district)", "Landkreis Harburg", "Main-Kinzig-Kreis", "Märkischer Kreis",
#: "Westerwaldkreis", "Powiat X", "X County", and RGRE's "Odenwaldkreis (Kreis) (Erbach, Kreisstadt)"
#: (the marker, then the seat in a bracket of its own). Only a whole bracket counts:
#: "Neustadt (Landkreis Harburg)" is a municipality told apart by its district.
_DISTRICT_RE = re.compile(
    r"\((?:district|landkreis|kreis|county|powiat|okres|stadteregion)\)\s*(?:\((?:[^()]|\([^()]*\))*\)\s*)?$"
    r"|^(?:landkreis|kreis|stadteregion|regionalverband|powiat|okres|county) \S"
    r"|.kreis$| (?:district|county)$"
)
#: Regions: "X (region)", "Region X", "X Province", "Tokushima Prefecture", "Wojewodschaft X",
#: Bavaria's "Bezirk Mittelfranken"; in Germany a "Region" is a district-level body ("Region
#: Hannover", "Hanover region").
_REGION_RE = re.compile(
    r"\((?:region|province|provinz|provincia|voivodeship|oblast|state|bundesland)\)\s*$"
    r"|^(?:region|province of|provincia de|provincia di|provinz|wojewodschaft|woiwodschaft|bezirk) \S"
    r"| (?:region|province|voivodeship|oblast|prefecture)$"
)
#: "<part> (<parent>)" and "<parent> – <part>": a borough when the parent is a municipality.
_PAREN_PARENT_RE = re.compile(r"^\s*(?P<part>[^()]*[^()\s])\s*\((?P<parent>[^()]+)\)\s*$")
_DASH_PART_RE = re.compile(r"^\s*(?P<parent>[^()]*?\S)\s+[-\u2013\u2014]\s+(?P<part>\S[^()]*)$")
#: Countries whose "<part> (<parent>)" names are read as boroughs (German usage).
BOROUGH_COUNTRIES = frozenset({"DE"})
#: A part that is a place of its own must lie this close to its parent, or the parent be the
#: more populous, to be its borough ("Spandau (Berlin)", "Laubenheim (Mainz)"); "Aken (Elbe)"
#: is the town Aken on the Elbe, not a part of the (smaller, distant) village Elbe.
BOROUGH_KM = 25.0
#: English exonyms of the German Länder that pycountry's iso3166-2 catalogues lack.
_STATE_EXONYMS = {
    "DE": ("Lower Saxony", "Saxony", "Saxony-Anhalt", "North Rhine-Westphalia", "Rhineland-Palatinate",
           "Mecklenburg-Western Pomerania", "Mecklenburg-West Pomerania", "Thuringia", "Bavaria",
           "Hesse", "Baden-Wuerttemberg"),
}


@lru_cache(maxsize=None)
def _subdivision_names(country: str) -> frozenset[str]:
    """Normalised names of a country's first-level subdivisions, in every pycountry language."""
    import pycountry

    try:
        subdivisions = pycountry.subdivisions.get(country_code=country) or []
    except (KeyError, LookupError):
        return frozenset()
    iso_names = sorted({s.name for s in subdivisions if s.parent_code is None})
    if not iso_names:
        return frozenset()
    names = set(iso_names)
    for lang in _iso3166_2_languages():
        catalogue = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[lang])
        names |= {catalogue.gettext(n) for n in iso_names}
    names |= set(_STATE_EXONYMS.get(country, ()))
    keys = _keys_and_variants(sorted(names))[0]
    return frozenset(k for k in keys if len(k) >= 3)


@lru_cache(maxsize=1)
def _iso3166_2_languages() -> tuple[str, ...]:
    import pycountry

    root = pycountry.LOCALES_DIR
    return tuple(sorted(lang for lang in os.listdir(root)
                        if os.path.exists(os.path.join(root, lang, "LC_MESSAGES", "iso3166-2.mo"))))


def _named_places(index: pd.DataFrame | None, keys: set[str]) -> set[tuple[str, str]]:
    """(key, country) pairs among `keys` that name a gazetteer place (primary or alternate name)."""
    if index is None or not keys:
        return set()
    wanted = np.asarray(sorted(keys), dtype=object)
    positions, rows = _lookup(index, "key", wanted)
    return set(zip(wanted[positions], index["country_code"].to_numpy(dtype=object)[rows]))


def _parts_near_parents(pairs: set[tuple[str, str]], index: pd.DataFrame | None,
                        places: pd.DataFrame | None) -> dict[tuple[str, str], bool]:
    """(part key, parent key) -> whether a German place so named lies near such a parent, or
    the parent's largest namesake outnumbers the part's (a city's part)."""
    if not pairs or index is None or places is None:
        return {}
    keys = np.asarray(sorted({k for pair in pairs for k in pair}), dtype=object)
    positions, rows = _lookup(index, "key", keys)
    hits = pd.DataFrame({"key": keys[positions], "geonames_id": index["geonames_id"].to_numpy()[rows],
                         "country": index["country_code"].to_numpy(dtype=object)[rows]})
    hits = hits[np.isin(hits["country"].to_numpy(dtype=object), list(BOROUGH_COUNTRIES))]
    hits = hits.merge(places[["geonames_id", "lat", "lon", "population"]], on="geonames_id")
    wanted = pd.DataFrame(sorted(pairs), columns=["part", "parent"])
    both = wanted.merge(hits.rename(columns={"key": "part"}), on="part").merge(
        hits.rename(columns={"key": "parent"}), on=["parent", "country"], suffixes=("", "_parent"))
    both["near"] = haversine_km(both["lat"], both["lon"], both["lat_parent"], both["lon_parent"]) <= BOROUGH_KM
    grouped = both.groupby(["part", "parent"])
    larger = grouped["population_parent"].max() > grouped["population"].max()
    near = grouped["near"].any() | larger
    return {pair: bool(flag) for pair, flag in near.items()}


def municipality_kind(names: pd.Series, country_codes: pd.Series,
                      index: pd.DataFrame | None = None, places: pd.DataFrame | None = None) -> pd.Series:
    """What a name denotes: municipality | district | region | borough | association.

    * ``association``: an Amt / Samtgemeinde / Verbandsgemeinde ("Aue (Samtgemeinde)");
    * ``district``: a Landkreis or county ("Lippe (district)", "Main-Kinzig-Kreis", "Hanover region");
    * ``region``: a marked region/province, or a first-level subdivision of the country by any of
      its names in pycountry's ISO 3166-2 catalogues ("Saarland", "Hesse", "Lower Saxony")
      unless a gazetteer place of that country bears the name (city-states such as Berlin,
      Hamburg, Bremen are municipalities);
    * ``borough``: in Germany, "<part> (<parent>)" or "<parent> – <part>" where the parent is a
      German place in the gazetteer, the whole "X (Y)" is not itself a place's name (GeoNames'
      "Berlin-Lichtenberg" alternates do not save the dash form), and a part that is a place of
      its own lies within ``BOROUGH_KM`` of the parent or is the smaller of the two ("Bonn –
      Beuel", "Tempelhof-Schöneberg (Berlin)", "Spandau (Berlin)"; but "Frankfurt (Oder)",
      "Halle (Saale)", "Neustadt (Hessen)" and "Aken (Elbe)" are municipalities);
    * ``municipality`` otherwise; NA where the name is missing or blank.

    The subdivision and borough rules need the gazetteer's name ``index`` (`build_name_index`);
    without it only the marker rules apply; without ``places`` (coordinates, population) a part
    that is a place of its own stays a municipality. The kind never changes an id: a borough
    with a place of its own still resolves to it. Each distinct (name, country) is classified
    once; the per-country subdivision names are cached per process.
    """
    frame = pd.DataFrame({
        "name": pd.Series(names.to_numpy(), dtype="string"),
        "country": pd.Series(country_codes.to_numpy(), dtype="string").str.strip().str.upper(),
    })
    pairs = frame.drop_duplicates().dropna(subset=["name"])
    pairs = pairs[pairs["name"].str.strip() != ""]
    texts = [str(t) for t in pairs["name"]]
    countries = [c if isinstance(c, str) else "" for c in pairs["country"].astype(object)]
    lowered = [t.lower() for t in _transliterate([html.unescape(t) if "&" in t else t for t in texts])]
    keys = _keys_and_variants(texts)[0]

    def normalised(text: str) -> str:
        return " ".join(text.translate(_TO_SPACE).split())

    # "<part> (<parent>)" candidates: (part key, parent key) per distinct name, or None
    split, dashed = [], []
    for low, key, country in zip(lowered, keys, countries):
        paren = _PAREN_PARENT_RE.match(low) if country in BOROUGH_COUNTRIES else None
        m = paren or (_DASH_PART_RE.match(low) if country in BOROUGH_COUNTRIES else None)
        split.append((normalised(m.group("part")), normalised(m.group("parent"))) if m else None)
        dashed.append(bool(m) and not paren)
    near = _parts_near_parents({pair for pair in split if pair}, index, places)
    named = _named_places(index, set(keys) | {k for pair in split if pair for k in pair})

    kinds = []
    for low, key, country, pair, dash in zip(lowered, keys, countries, split, dashed):
        if _ASSOCIATION_RE.search(low):
            kinds.append("association")
        elif _DISTRICT_RE.search(low):
            kinds.append("district")
        elif _REGION_RE.search(low):
            kinds.append("district" if country == "DE" else "region")
        elif index is not None and country and key in _subdivision_names(country) \
                and (key, country) not in named:
            kinds.append("region")
        elif index is not None and pair and pair[0] != pair[1] and (dash or (key, country) not in named) \
                and (pair[1], country) in named \
                and ((pair[0], country) not in named or near.get(pair, False)):
            kinds.append("borough")
        else:
            kinds.append("municipality")
    mapping = pd.Series(kinds, index=pd.MultiIndex.from_arrays(
        [pd.Index(texts, dtype=object), pd.Index(countries, dtype=object)]), dtype="string")
    mapping = mapping[~mapping.index.duplicated()]  # NA and "" are both "no country"
    lookup = pd.MultiIndex.from_arrays([frame["name"].astype(object).to_numpy(),
                                        frame["country"].fillna("").astype(object).to_numpy()])
    return pd.Series(mapping.reindex(lookup).to_numpy(), index=names.index, dtype="string")


# --------------------------------------------------------------------------- index

def build_name_index(places: pd.DataFrame) -> pd.DataFrame:
    """One row per (normalised name, geonames_id): key, vkey, geonames_id, tier, country_code.

    ``tier`` is 0 when the key comes from the place's primary name, 1 for an alternate name.
    Alternate names are kept in every script (transliterated); code-like all-caps 3-4 letter
    alternates (IATA "CGN") are skipped because they collide with real short names. ``key``,
    ``vkey`` and ``country_code`` are categoricals and rows are sorted by ``key``: `resolve`
    looks names up through the categories' (cached) hash table and binary search.
    """
    ids = places["geonames_id"].to_numpy(dtype="int64")
    lists = [a if isinstance(a, list) else [] for a in places["alternatenames"].to_numpy()]
    lengths = np.fromiter((len(a) for a in lists), dtype="int64", count=len(lists))
    alternates = np.empty(int(lengths.sum()), dtype=object)
    alternates[:] = list(itertools.chain.from_iterable(lists))
    raw = np.concatenate([places["name"].to_numpy(dtype=object), alternates])
    gid = np.concatenate([ids, np.repeat(ids, lengths)])
    tier = np.concatenate([np.full(len(ids), TIER_PRIMARY, dtype="int8"),
                           np.full(len(alternates), TIER_ALTERNATE, dtype="int8")])
    present = pd.notna(raw)
    raw, gid, tier = raw[present], gid[present], tier[present]

    raw_codes, uniques = pd.factorize(raw)
    uniques = [str(u) for u in uniques]
    keys, variants = _keys_and_variants(uniques)
    code_like = np.fromiter((bool(_CODE_LIKE.fullmatch(u)) for u in uniques), dtype=bool, count=len(uniques))
    key_codes, key_cats = pd.factorize(np.asarray(keys, dtype=object))
    vkey_codes, vkey_cats = pd.factorize(np.asarray(variants, dtype=object))

    row_key = key_codes[raw_codes]
    keep = ~(code_like[raw_codes] & (tier == TIER_ALTERNATE))
    keep &= np.fromiter((len(k) >= 2 for k in keys), dtype=bool, count=len(keys))[raw_codes]
    rows = pd.DataFrame({"key": row_key, "vkey": vkey_codes[raw_codes], "geonames_id": gid, "tier": tier})[keep]
    # primary first, so the (key, place) pair keeps its strongest tier
    rows = rows.sort_values("tier", kind="stable").drop_duplicates(["key", "geonames_id"])
    rows = rows.sort_values(["key", "geonames_id"], kind="stable")

    country = pd.Series(places["country_code"].to_numpy(dtype=object), index=places["geonames_id"].to_numpy())
    return pd.DataFrame({
        "key": pd.Categorical.from_codes(rows["key"].to_numpy(), categories=pd.Index(key_cats, dtype=object)),
        "vkey": pd.Categorical.from_codes(rows["vkey"].to_numpy(), categories=pd.Index(vkey_cats, dtype=object)),
        "geonames_id": rows["geonames_id"].to_numpy(dtype="int64"),
        "tier": rows["tier"].to_numpy(dtype="int8"),
        "country_code": pd.Categorical(country.reindex(rows["geonames_id"].to_numpy()).to_numpy()),
    })


# --------------------------------------------------------------------------- helpers

def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km, element-wise; NaN where a coordinate is missing."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(a, dtype="float64")) for a in (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _empty_result(queries: pd.DataFrame) -> pd.DataFrame:
    out = queries.copy()
    for column, dtype in RESULT_COLUMNS.items():
        out[column] = pd.Series(pd.NA if dtype != "float64" else np.nan, index=out.index, dtype=dtype)
    return out


def _lookup(index: pd.DataFrame, column: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(query position, index row) pairs where index[column] == keys[position]; no string joins.

    The key strings go through the categorical's categories (whose hash table pandas caches
    on first use), then a binary search over the integer codes expands each hit to its rows.
    """
    codes = index[column].cat.codes.to_numpy()
    presorted = bool(np.all(codes[:-1] <= codes[1:]))
    order = np.arange(len(codes)) if presorted else np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    wanted = index[column].cat.categories.get_indexer(keys)
    left = np.searchsorted(sorted_codes, wanted, side="left")
    right = np.searchsorted(sorted_codes, wanted, side="right")
    lengths = np.where(wanted >= 0, right - left, 0)
    positions = np.repeat(np.arange(len(keys)), lengths)
    starts = np.repeat(left - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    rows = order[starts + np.arange(int(lengths.sum()))]
    return positions, rows


def _candidates(pending: pd.DataFrame, index: pd.DataFrame, query_col: str, index_col: str) -> pd.DataFrame:
    """Index hits (qid, geonames_id, tier) of each pending query: within its country if known."""
    positions, rows = _lookup(index, index_col, pending[query_col].to_numpy(dtype=object))
    query_country = pending["country"].to_numpy(dtype=object)[positions]
    hit_country = index["country_code"].to_numpy(dtype=object)[rows]
    same = pd.isna(query_country) | (query_country == hit_country)
    found = pd.DataFrame({
        "qid": pending["qid"].to_numpy()[positions][same],
        "geonames_id": index["geonames_id"].to_numpy()[rows][same],
        "tier": index["tier"].to_numpy()[rows][same].astype("int64"),
    })
    return found.sort_values(["qid", "tier"], kind="stable").drop_duplicates(["qid", "geonames_id"])


def _pick(cands: pd.DataFrame, queries: pd.DataFrame, attrs: pd.DataFrame, max_km: float,
          require_near: bool = False) -> pd.DataFrame:
    """One winner per qid, with method, status and score.

    ``cands`` holds qid, geonames_id, tier, name_score and optionally ``uncertain`` (a weak
    name match that is ambiguous unless coordinates confirm it). With ``require_near``, a query
    that has coordinates but no candidate within ``max_km`` gets no winner: for loosened names
    (variants, fuzzy) distance is the only thing that tells a typo from a different town.
    """
    c = cands.merge(attrs[["geonames_id", "population", "lat", "lon"]], on="geonames_id")
    c = c.merge(queries[["qid", "lat", "lon", "country"]], on="qid", suffixes=("", "_q"))
    if "uncertain" not in c.columns:
        c["uncertain"] = False
    dist = haversine_km(c["lat_q"].astype("float64"), c["lon_q"].astype("float64"), c["lat"], c["lon"])
    c["dist_km"] = dist
    c["near"] = np.nan_to_num(dist, nan=np.inf) <= max_km
    if require_near:
        has_coords = c["lat_q"].notna() & c["lon_q"].notna()
        c = c[~has_coords | c.groupby("qid")["near"].transform("any")]
    c["rank_dist"] = np.where(c["near"], c["dist_km"], np.inf)
    c["weight"] = np.maximum(c["population"].to_numpy(), 1) * np.where(c["tier"] == TIER_PRIMARY, 5.0, 1.0)
    # A place whose own name is the query weighs 5x (measured on 6.6k European names with
    # coordinates as truth: fewer wrong resolved ids than 2x or a strict own-name preference).
    # Nearest within max_km first; otherwise (all distances inf) the heaviest; tier breaks ties.
    c = c.sort_values(["qid", "rank_dist", "weight", "tier", "geonames_id"],
                      ascending=[True, True, False, True, True], kind="stable")
    c["pos"] = c.groupby("qid").cumcount()
    winners = c[c["pos"] == 0].set_index("qid")
    runner = c[c["pos"] == 1].set_index("qid")["weight"]
    share = (runner.reindex(winners.index) / winners["weight"]).fillna(0.0)

    has_coords = winners["lat_q"].notna() & winners["lon_q"].notna()
    no_country = winners["country"].isna()
    near = winners["near"].astype(bool)
    ambiguous = ~near & ((share >= AMBIGUOUS_SHARE) | winners["uncertain"].astype(bool))
    evidence = np.select(
        [near, ambiguous, has_coords],
        [1.0 - 0.1 * (winners["dist_km"].fillna(0) / max_km), 0.5, 0.75],
        default=0.9,
    )
    evidence = evidence * np.where(no_country & ~near, 0.85, 1.0)
    method = np.select(
        [winners["tier"] == TIER_FUZZY, winners["tier"] == TIER_COORDS,
         winners["tier"] == TIER_OTHER_COUNTRY, no_country & ~near, winners["tier"] == TIER_PRIMARY],
        ["fuzzy", "coordinates", "other_country", "name_only", "exact"],
        default="alternate",
    )
    return pd.DataFrame({
        "geonames_id": winners["geonames_id"].astype("int64"),
        "match_score": (winners["name_score"] * evidence).clip(0.0, 1.0).round(4),
        "match_method": method,
        "match_status": np.where(ambiguous, "ambiguous", "resolved"),
    }, index=winners.index)


def _other_country_hits(pending: pd.DataFrame, index: pd.DataFrame, attrs: pd.DataFrame,
                        km: float) -> pd.DataFrame:
    """Exact/alternate name hits outside the stated country within `km` of the coordinates.

    Only the full key counts (no variants, no fuzz): "Mariazell (Eschbronn)" geocoded onto
    Mariazell, Austria, is a village in Baden-Württemberg and must not become the Austrian town.
    """
    todo = pending[pending["lat"].notna() & pending["lon"].notna() & pending["country"].notna()]
    empty = pd.DataFrame(columns=["qid", "geonames_id", "tier", "name_score"])
    if todo.empty:
        return empty
    positions, rows = _lookup(index, "key", todo["key"].to_numpy(dtype=object))
    hits = pd.DataFrame({
        "qid": todo["qid"].to_numpy()[positions],
        "country": todo["country"].to_numpy(dtype=object)[positions],
        "lat_q": todo["lat"].astype("float64").to_numpy()[positions],
        "lon_q": todo["lon"].astype("float64").to_numpy()[positions],
        "geonames_id": index["geonames_id"].to_numpy()[rows],
        "hit_tier": index["tier"].to_numpy()[rows].astype("int64"),
        "hit_country": index["country_code"].to_numpy(dtype=object)[rows],
    })
    hits = hits[hits["hit_country"] != hits["country"]]
    if hits.empty:
        return empty
    where = attrs.set_index("geonames_id")[["lat", "lon"]].reindex(hits["geonames_id"])
    dist = haversine_km(hits["lat_q"], hits["lon_q"], where["lat"].to_numpy(), where["lon"].to_numpy())
    hits = hits[np.nan_to_num(dist, nan=np.inf) <= km]
    hits = hits.sort_values(["qid", "hit_tier"], kind="stable").drop_duplicates(["qid", "geonames_id"])
    return pd.DataFrame({
        "qid": hits["qid"].to_numpy(), "geonames_id": hits["geonames_id"].to_numpy(dtype="int64"),
        "tier": TIER_OTHER_COUNTRY,
        # the stated country contradicts the gazetteer: a notch below an in-country name hit
        "name_score": np.where(hits["hit_tier"] == TIER_PRIMARY, 0.9, 0.85),
    })


def _coordinate_hits(pending: pd.DataFrame, index: pd.DataFrame, attrs: pd.DataFrame,
                     near_km: float) -> pd.DataFrame:
    """Places within `near_km` whose name resembles the query's (qid, geonames_id, tier, name_score).

    Loops over the (few) pending queries with coordinates; each looks only at a latitude band
    of the gazetteer sorted by latitude.
    """
    with_coords = pending[pending["lat"].notna() & pending["lon"].notna()]
    if with_coords.empty:
        return pd.DataFrame(columns=["qid", "geonames_id", "tier", "name_score"])
    order = np.argsort(attrs["lat"].to_numpy(), kind="stable")
    lat_sorted = attrs["lat"].to_numpy()[order]
    lon_sorted = attrs["lon"].to_numpy()[order]
    ids_sorted = attrs["geonames_id"].to_numpy()[order]
    country_sorted = attrs["country_code"].to_numpy(dtype=object)[order]
    band = near_km / 111.0
    qids, gids = [], []
    for qid, lat, lon, country in zip(with_coords["qid"], with_coords["lat"].astype(float),
                                      with_coords["lon"].astype(float), with_coords["country"]):
        lo, hi = np.searchsorted(lat_sorted, [lat - band, lat + band])
        if hi <= lo:
            continue
        dist = haversine_km(lat, lon, lat_sorted[lo:hi], lon_sorted[lo:hi])
        ok = dist <= near_km
        if isinstance(country, str):
            ok &= country_sorted[lo:hi] == country
        hits = ids_sorted[lo:hi][ok]
        qids.extend([qid] * len(hits))
        gids.extend(hits.tolist())
    if not qids:
        return pd.DataFrame(columns=["qid", "geonames_id", "tier", "name_score"])
    pairs = pd.DataFrame({"qid": qids, "geonames_id": np.asarray(gids, dtype="int64")})
    pairs = pairs.merge(index[["geonames_id", "key"]], on="geonames_id")
    pairs = pairs.merge(with_coords[["qid", "base", "first", "last", "compound"]]
                        .assign(qkey=with_coords["key"]), on="qid")
    a, b = pairs["base"].tolist(), pairs["key"].tolist()
    sim = np.maximum(process.cpdist(a, b, scorer=fuzz.ratio), process.cpdist(a, b, scorer=fuzz.token_sort_ratio))
    # Merged municipalities are named after their parts ("Aue-Bad Schlema", "Wettin-Löbejün")
    # and GeoNames often lists only the old town: the first (or, of two, the last) part, right
    # there, stands for it. Conversely GeoNames may name the seat after the municipality
    # ("Weinstadt-Endersbach" for Weinstadt): a place named "<query> <more>" right there.
    place_key = np.asarray(pairs["key"].to_numpy(dtype=object), dtype=object)
    first = pairs["first"].to_numpy(dtype=object)
    last = pairs["last"].to_numpy(dtype=object)
    compound = pairs["compound"].to_numpy(dtype=bool)
    plain = pairs["base"].to_numpy(dtype=object) == pairs["qkey"].to_numpy(dtype=object)  # no qualifier
    seat = plain & np.strings.startswith(place_key.astype(str), np.asarray(a, dtype=str) + " ")
    first_part = compound & (first == place_key)
    no_first = ~pd.Series(first_part).groupby(pairs["qid"].to_numpy()).transform("any").to_numpy()
    part = first_part | (compound & no_first & (last == place_key)) | seat
    pairs["sim"] = np.where(part & (sim < COORDS_NAME_CUTOFF), COMPOUND_PART_SIM, sim)
    pairs = pairs[pairs["sim"] >= COORDS_NAME_CUTOFF]
    pairs = pairs.sort_values(["qid", "geonames_id", "sim"], ascending=[True, True, False])
    pairs = pairs.drop_duplicates(["qid", "geonames_id"])
    return pd.DataFrame({
        "qid": pairs["qid"].to_numpy(), "geonames_id": pairs["geonames_id"].to_numpy(),
        "tier": TIER_COORDS, "name_score": pairs["sim"].to_numpy() / 100.0 * 0.85,
    })


def _fuzzy_hits(pending: pd.DataFrame, index: pd.DataFrame, cutoff: float) -> pd.DataFrame:
    """Best rapidfuzz ratio >= cutoff per distinct pending key, one `cdist` batch per country.

    With a country the choices are that country's keys; without one, primary names worldwide.
    Batches are cut so that a score matrix stays below ~80 MB.
    """
    todo = pending[pending["key"].str.len() >= 4]
    rows = []
    key_codes = index["key"].cat.codes.to_numpy()
    key_cats = index["key"].cat.categories
    country_codes = index["country_code"].cat.codes.to_numpy()
    country_cats = index["country_code"].cat.categories
    by_country = np.argsort(country_codes, kind="stable")
    bounds = np.searchsorted(country_codes[by_country], np.arange(len(country_cats) + 1))
    for country, group in todo.groupby(todo["country"].fillna(""), sort=False):
        if not country:
            rows_of = np.flatnonzero(index["tier"].to_numpy() == TIER_PRIMARY)
        elif country in country_cats:
            at = country_cats.get_loc(country)
            rows_of = by_country[bounds[at]:bounds[at + 1]]
        else:
            continue
        choices = key_cats.take(np.unique(key_codes[rows_of])).to_numpy(dtype=object)
        keys = pd.unique(group["key"].to_numpy(dtype=object))
        if len(choices) == 0:
            continue
        step = max(1, 20_000_000 // len(choices))
        best: dict[str, tuple[str, float]] = {}
        for start in range(0, len(keys), step):
            chunk = keys[start:start + step]
            scores = process.cdist(chunk, choices, scorer=fuzz.ratio, score_cutoff=cutoff,
                                   dtype=np.float32, workers=-1)
            top = scores.argmax(axis=1)
            for key, column, score in zip(chunk, top, scores[np.arange(len(chunk)), top]):
                if score >= cutoff:
                    best[key] = (choices[column], float(score))
        for qid, key in zip(group["qid"], group["key"]):
            if key in best:
                rows.append((qid, *best[key]))
    if not rows:
        return pd.DataFrame(columns=["qid", "geonames_id", "tier", "name_score"])
    matched = pd.DataFrame(rows, columns=["qid", "fkey", "ratio"]).merge(
        pending[["qid", "country"]], on="qid")
    cands = _candidates(matched.rename(columns={"fkey": "key"}), index, "key", "key")
    cands = cands.merge(matched[["qid", "ratio"]], on="qid")
    cands["tier"] = TIER_FUZZY
    cands["name_score"] = cands["ratio"] / 100.0 * 0.9
    # one edit apart is as often a different town (Weyhe/Weyher) as a typo
    cands["uncertain"] = cands["ratio"] < FUZZY_SURE
    return cands[["qid", "geonames_id", "tier", "name_score", "uncertain"]]


# --------------------------------------------------------------------------- resolve

def resolve(queries: pd.DataFrame, index: pd.DataFrame, places: pd.DataFrame, *,
            max_km: float = MAX_KM, near_km: float = NEAR_KM,
            fuzzy_cutoff: float = FUZZY_CUTOFF) -> pd.DataFrame:
    """Queries (name, country_code, lat, lon[, geonames_id]) with their GeoNames identity.

    Returns every input row, same index and order, plus `RESULT_COLUMNS`. Unresolved rows keep
    NA ids, method "none", status "unresolved" and score 0. Distinct queries are resolved once.
    """
    if queries.empty:
        return _empty_result(queries)
    n = len(queries)

    def column(name: str, dtype: str) -> pd.Series:
        if name not in queries.columns:
            return pd.Series(pd.NA, index=range(n), dtype=dtype)
        values = pd.Series(queries[name].to_numpy(), index=range(n))
        if dtype == "string":
            return values.astype("string")
        return pd.to_numeric(values, errors="coerce").astype(dtype)

    q = pd.DataFrame({
        "name": column("name", "string"),
        "country": column("country_code", "string").str.strip().str.upper().replace("", pd.NA),
        "lat": column("lat", "Float64"),
        "lon": column("lon", "Float64"),
        "src_id": column("geonames_id", "Int64"),
    })
    q["qid"] = q.groupby(["name", "country", "lat", "lon", "src_id"], dropna=False, sort=False).ngroup()
    uq = q.drop_duplicates("qid").reset_index(drop=True)
    uq["key"] = normalise_name(uq["name"]).astype(object)
    uq["vkey"] = variant_name(uq["name"]).astype(object)
    uq["base"] = uq["vkey"]
    compound = uq["name"].str.contains(r"\w-\w", regex=True).fillna(False) & \
        ~uq["name"].str.contains(r"[(\u2013]|\s-\s", regex=True).fillna(False)
    uq["compound"] = compound.to_numpy(dtype=bool)
    uq["first"] = normalise_name(uq["name"].str.split("-", n=1).str[0]).astype(object)
    # the last part only of a two-part compound ("Wettin-Löbejün"), not "Saint-Jean-de-Luz"
    two_parts = uq["name"].str.count("-").fillna(0).to_numpy() == 1
    uq["last"] = normalise_name(uq["name"].str.rsplit("-", n=1).str[-1]).astype(object).where(two_parts, None)
    uq["country"] = uq["country"].astype(object).where(uq["country"].notna(), None)
    uq["kind"] = municipality_kind(uq["name"], uq["country"], index, places).to_numpy(dtype=object)

    attrs = places[["geonames_id", "name", "country_code", "admin1", "population", "lat", "lon"]]
    picked: list[pd.DataFrame] = []
    done = pd.Index([], dtype="int64")

    # 1. ids the source states
    src = uq[uq["src_id"].notna()]
    src = src[src["src_id"].astype("int64").isin(attrs["geonames_id"])]
    if len(src):
        picked.append(pd.DataFrame({
            "geonames_id": src["src_id"].astype("int64").to_numpy(), "match_score": 1.0,
            "match_method": "source_id", "match_status": "resolved"}, index=src["qid"].to_numpy()))
        done = done.union(src["qid"])

    def pending() -> pd.DataFrame:
        return uq[~uq["qid"].isin(done) & uq["key"].notna() & (uq["key"] != "")]

    def take(result: pd.DataFrame) -> None:
        nonlocal done
        picked.append(result)
        done = done.union(result.index)

    # 2. exact name / alternate name; then qualifier-free variants, which must lie near the
    #    source's coordinates when it has them ("Vaihingen (Stuttgart)" is not Vaihingen/Enz)
    for query_col, variant in (("key", False), ("vkey", True)):
        todo = pending()
        if todo.empty:
            break
        cands = _candidates(todo, index, query_col, query_col)
        if cands.empty:
            continue
        if variant:
            cands["tier"] = TIER_VARIANT
            # the qualifier dropped from "Suzhou, Anhui" or "Kusatsu, Gunma" said which of
            # several namesakes: without coordinates the biggest is a guess, not an answer
            cands["uncertain"] = cands.groupby("qid")["geonames_id"].transform("nunique") > 1
        cands["name_score"] = cands["tier"].map(_NAME_SCORE)
        take(_pick(cands, uq, attrs, VARIANT_KM if variant else max_km, require_near=variant))

    # 3. the exact name in another country, right at the coordinates: the source's country is wrong
    todo = pending()
    if len(todo):
        cands = _other_country_hits(todo, index, attrs, OTHER_COUNTRY_KM)
        if len(cands):
            take(_pick(cands, uq, attrs, OTHER_COUNTRY_KM))

    # 4. a similar name close to the source's coordinates
    todo = pending()
    if len(todo):
        cands = _coordinate_hits(todo, index, attrs, near_km)
        if len(cands):
            take(_pick(cands, uq, attrs, near_km))

    # 5. fuzzy within the country (near the coordinates, when given)
    todo = pending()
    if len(todo):
        cands = _fuzzy_hits(todo, index, fuzzy_cutoff)
        if len(cands):
            take(_pick(cands, uq, attrs, max_km, require_near=True))

    return _assemble(queries, q["qid"].to_numpy(), picked, attrs, uq.set_index("qid")["kind"])


def _assemble(queries: pd.DataFrame, qids: np.ndarray, picked: list[pd.DataFrame],
              attrs: pd.DataFrame, kinds: pd.Series) -> pd.DataFrame:
    """The input rows plus RESULT_COLUMNS, from the per-query winners (indexed by qid)."""
    winners = pd.concat(picked) if picked else pd.DataFrame(
        {"geonames_id": pd.Series(dtype="int64"), "match_score": pd.Series(dtype="float64"),
         "match_method": pd.Series(dtype=object), "match_status": pd.Series(dtype=object)})
    details = attrs.set_index("geonames_id")[["name", "country_code", "admin1", "population"]]
    winners = winners.join(details, on="geonames_id")
    per_row = winners.reindex(qids)

    out = queries.copy()
    out["geonames_id"] = pd.array(per_row["geonames_id"].to_numpy(dtype="float64"), dtype="Int64")
    out["canonical_name"] = pd.array(per_row["name"].to_numpy(dtype=object), dtype="string")
    out["match_country"] = pd.array(per_row["country_code"].to_numpy(dtype=object), dtype="string")
    out["admin1"] = pd.array(per_row["admin1"].to_numpy(dtype=object), dtype="string")
    out["population"] = pd.array(per_row["population"].to_numpy(dtype="float64"), dtype="Int64")
    out["match_score"] = per_row["match_score"].astype("float64").fillna(0.0).to_numpy()
    out["match_method"] = pd.array(per_row["match_method"].fillna("none").to_numpy(dtype=object), dtype="string")
    out["match_status"] = pd.array(per_row["match_status"].fillna("unresolved").to_numpy(dtype=object), dtype="string")
    out["kind"] = pd.array(kinds.reindex(qids).to_numpy(dtype=object), dtype="string")
    return out
