"""Country values of every source mapped to ISO 3166-1 alpha-2.

Sources write countries as ISO alpha-2 (JRC: lower case "de"), ISO alpha-3, IOC/FIFA-style
codes (Wikipedia flagicons: GER, POR, SUI, PRC) or names in many languages ("Deutschland",
"Polska", "Vereinigtes Königreich"). The lookup is built once from pycountry (ISO codes and
its gettext catalogues of country names in ~160 locales) and country_converter (English
variants, IOC and FIFA codes, and its regexes as last resort). Only what neither library gives
sits in `_OVERRIDES`.
"""
from __future__ import annotations

import contextlib
import gettext
import logging
import os
import re
import unicodedata
from functools import lru_cache

import country_converter as coco
import pandas as pd
import pycountry

#: Kosovo has a user-assigned code that pycountry (ISO 3166-1 proper) lacks but every source uses.
KOSOVO = "XK"

#: What no library maps, each with the reason. Keys are compared after `_name_key`.
_OVERRIDES: dict[str, str] = {
    # Constituent countries of the UK: no ISO 3166-1 entry; coco's regex knows only England.
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "schottland": "GB",  # German/Polish spellings: pycountry translates only sovereign entries
    "szkocja": "GB",
    "anglia": "GB",
    "walia": "GB",
    # Everyday short forms whose de/fr/pl catalogues hold only the formal name
    # ("Russische Föderation", "Fédération de Russie", "Federacja Rosyjska", ...).
    "russie": "RU",
    "rosja": "RU",
    "россия": "RU",  # ru/uk catalogues: only "Российская Федерация" / "Російська Федерація"
    "росія": "RU",
    "grossbritannien": "GB",
    "grande bretagne": "GB",
    "palastina": "PS",
    "mazedonien": "MK",
    "elfenbeinkuste": "CI",
    # abbreviations and misspellings of a 2015 German partnership list (german_partnerships_2015)
    "tschech republik": "CZ",
    "slow republik": "SK",
    "philipinen": "PH",
    "palastinensische autonomiebehorde": "PS",
    "republika chinska": "TW",
    # "UK"/"EL" are ISO "exceptionally reserved" codes (UK for GB, EL for Greece in EU
    # sources such as EU Funding & Tenders); pycountry has only assigned codes.
    "uk": "GB",
    "el": "GR",
    # Wikipedia flagicon aliases that are neither ISO nor IOC (IOC uses CHN and TPE).
    "prc": "CN",
    "roc": "TW",
    # Kosovo: pycountry has no entry, so its catalogues have no translations.
    "kosovo": KOSOVO,
    "kosowo": KOSOVO,
    "xkx": KOSOVO,
    "xk": KOSOVO,
}

#: Locales whose names win when two locales give the same spelling to different countries.
_PREFERRED_LOCALES = ("en", "de", "fr", "pl")

_CODE_RE = re.compile(r"^[A-Za-z]{2,3}$")
_PAREN_RE = re.compile(r"\s*\([^)]*\)\s*")
_coco_log = logging.getLogger("country_converter")


def _name_key(value: str) -> str:
    """Casefolded, accent-free, punctuation-free spelling: 'Türkiye' -> 'turkiye'.

    Non-Latin scripts stay as they are (no transliteration), so keys of different scripts
    cannot collide.
    """
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = re.sub(r"[\W_]+", " ", stripped.casefold())
    stripped = re.sub(r"^the ", "", stripped.strip())
    return stripped


@contextlib.contextmanager
def _quiet_coco():
    """coco logs a warning for every value it cannot match; unknown is a normal outcome here."""
    previous = _coco_log.level
    _coco_log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        _coco_log.setLevel(previous)


@lru_cache(maxsize=1)
def _converter() -> coco.CountryConverter:
    with _quiet_coco():
        return coco.CountryConverter()


@lru_cache(maxsize=1)
def _lookups() -> tuple[dict[str, str], dict[str, str]]:
    """(codes, names): code -> ISO2 and name key -> ISO2, built once per process."""
    valid = {c.alpha_2 for c in pycountry.countries} | {KOSOVO}
    data = _converter().data
    data = data[data["ISO2"].isin(valid)]

    codes: dict[str, str] = {}
    # Priority: ISO alpha-2, ISO alpha-3, then IOC, then FIFA (IOC "BRN" is Bahrain but ISO
    # alpha-3 "BRN" is Brunei: the standard wins).
    for country in pycountry.countries:
        codes.setdefault(country.alpha_2.lower(), country.alpha_2)
    for country in pycountry.countries:
        codes.setdefault(country.alpha_3.lower(), country.alpha_2)
    for column in ("ISO3", "IOC", "FIFA"):
        for code, iso2 in zip(data[column], data["ISO2"]):
            if isinstance(code, str) and _CODE_RE.match(code):
                codes.setdefault(code.lower(), iso2)

    english: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            name = getattr(country, attr, None)
            if name:
                english[name] = country.alpha_2
    for column in ("name_short", "name_official"):
        for name, iso2 in zip(data[column], data["ISO2"]):
            if isinstance(name, str):
                english.setdefault(name, iso2)

    names: dict[str, str] = {}
    for name, iso2 in english.items():
        names.setdefault(_name_key(name), iso2)
    available = set(os.listdir(pycountry.LOCALES_DIR))
    locales = [loc for loc in _PREFERRED_LOCALES if loc in available]
    locales += sorted(available - set(locales))
    for locale in locales:
        try:
            catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale])
        except OSError:  # locale folder without an iso3166-1 catalogue
            continue
        for name, iso2 in english.items():
            translated = catalogue.gettext(name)
            if translated and translated != name:
                names.setdefault(_name_key(translated), iso2)

    for key, iso2 in _OVERRIDES.items():
        if _CODE_RE.match(key):
            codes[key] = iso2
        names[key] = iso2
    return codes, names


def _lookup_one(value: str, codes: dict[str, str], names: dict[str, str]) -> str | None:
    """Exact code, then exact name, then the parts of 'Region, Country', without regexes."""
    text = value.strip()
    if not text:
        return None
    if _CODE_RE.match(text):
        hit = codes.get(text.lower())
        if hit:
            return hit
    key = _name_key(text)
    if key in names:
        return names[key]
    # "Georgia (country)" -> "Georgia"
    unbracketed = _PAREN_RE.sub(" ", text).strip()
    if unbracketed and unbracketed != text:
        hit = _lookup_one(unbracketed, codes, names)
        if hit:
            return hit
    # "Region, Country": the country part wins ("Georgia, United States" -> US), except where
    # the first part is a dependent territory that GeoNames files under its own code
    # ("Réunion, France" -> RE, "Åland Islands, Finland" -> AX).
    if "," in text:
        hits = [_lookup_one(part, codes, names) if part.strip() else None for part in text.split(",")]
        if hits[0] and hits[0] not in _sovereign():
            return hits[0]
        found = [h for h in hits if h]
        return found[-1] if found else None
    return None


@lru_cache(maxsize=1)
def _sovereign() -> frozenset[str]:
    """UN members and observers (plus XK, TW): the codes that are not dependent territories."""
    data = _converter().data
    members = data.loc[data["UNmember"].notna(), "ISO2"]
    return frozenset(members) | {KOSOVO, "TW", "PS", "VA"}


def _coco_fallback(values: list[str]) -> dict[str, str | None]:
    """coco's regexes for misspellings and long forms ('Kazakhstah', 'Republic of Ireland')."""
    if not values:
        return {}
    valid = {c.alpha_2 for c in pycountry.countries} | {KOSOVO}
    with _quiet_coco():
        converted = _converter().convert(values, src="regex", to="ISO2", not_found=None)
    if isinstance(converted, str):
        converted = [converted]
    return {v: (c if isinstance(c, str) and c in valid else None) for v, c in zip(values, converted)}


def to_iso2(values: pd.Series) -> pd.Series:
    """ISO 3166-1 alpha-2 for each value (string dtype, NA where unknown); same index.

    Distinct values are mapped once and the column is `.map`ped, so 100k rows cost as much as
    their few hundred distinct spellings.
    """
    codes, names = _lookups()
    text = values.astype("string")
    uniques = [u for u in text.dropna().unique() if isinstance(u, str)]
    mapping: dict[str, str | None] = {u: _lookup_one(u, codes, names) for u in uniques}
    missing = [u for u, iso2 in mapping.items() if iso2 is None and u.strip()]
    mapping.update(_coco_fallback(missing))
    return text.map(mapping, na_action="ignore").astype("string")


def is_valid_iso2(values: pd.Series) -> pd.Series:
    """True where the value is an assigned ISO alpha-2 code (upper case) or XK."""
    valid = {c.alpha_2 for c in pycountry.countries} | {KOSOVO}
    return values.astype("string").isin(valid).fillna(False).astype(bool)


def country_name(iso2: str) -> str:
    """English short name ('DE' -> 'Germany'); the code itself when unknown."""
    if not isinstance(iso2, str):
        raise TypeError(f"country code must be a string, got {type(iso2).__name__}")
    code = iso2.strip().upper()
    if code == KOSOVO:
        return "Kosovo"
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return iso2
    return getattr(country, "common_name", None) or country.name
