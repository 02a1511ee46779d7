"""Pure, vectorised steps from raw partnership assertions to a staged frame ready to load.

raw assertions → clean (names, countries, years) → dedupe → identity keys → undirected pairs.
Rows are never dropped silently: every step that rejects a row returns it with a reason.
"""
from __future__ import annotations

import hashlib
import html

import pandas as pd

from schemas.records import REJECT_REASON, RELATION_TYPES
from transforms.countries import to_iso2
from transforms.identity import normalise_name

#: Control characters (C0, DEL, C1), bidi overrides/isolates/marks and invisible spaces: removed
#: from names used for matching and display (a U+202E can make "Köln" render as "nlöK").
_INVISIBLE = r"[\x00-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
_APPROXIMATE = r"(?i)\?|\bc\.|\bca\.|\bcirca\b|\bum\b|\babout\b|\baround\b"


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Decode HTML entities and markup remnants, map countries to ISO2, read years."""
    out = frame.copy()
    for side in ("a", "b"):
        out[f"{side}_name_raw"] = out[f"{side}_name"]  # provenance keeps the name as the source wrote it
        out[f"{side}_name"] = clean_names(out[f"{side}_name"])
        out[f"{side}_country_code"] = to_iso2(out[f"{side}_country"])
    out["start_year"] = parse_year(out["start_raw"])
    out["end_year"] = parse_year(out["end_raw"])
    out["start_approximate"] = out["start_raw"].str.contains(_APPROXIMATE, regex=True).fillna(False).astype(bool)
    out["relation_type"] = out["relation_type"].fillna("unspecified")
    unknown_relation = ~out["relation_type"].isin(RELATION_TYPES)
    out = add_reason(out, unknown_relation, "unknown relation_type " + out["relation_type"].astype(str))
    return out


def clean_names(names: pd.Series) -> pd.Series:
    """HTML entities decoded; markup remnants, control and bidi characters, whitespace runs removed;
    scripts kept."""
    unique = names.dropna().unique()
    decoded = {value: html.unescape(html.unescape(value)) for value in unique}  # '&amp;amp;' happens
    cleaned = names.map(decoded, na_action="ignore").astype("string")
    cleaned = (
        cleaned.str.replace(r"<[^>]+>", " ", regex=True)
        .str.replace(r"\[\[|\]\]|'''|''", "", regex=True)
        .str.replace(r"[\u00a0\s]+", " ", regex=True)
        .str.replace(_INVISIBLE, "", regex=True)
        .str.strip(" ,;")
    )
    return cleaned.mask(cleaned == "")


def parse_year(raw: pd.Series) -> pd.Series:
    """The first 3–4 digit year in a date written any way ('1958?', 'c. 1990', 'seit 04.11.2005').

    No plausibility check here: out-of-range years are the quality gate's to reject.
    """
    text = raw.astype("string")
    iso = text.str.extract(r"^\+?(-?\d{1,9})-\d{2}", expand=False)  # ISO dates: year first, any width
    whole = text.str.extract(r"^\s*\+?(-?\d{1,9})\s*$", expand=False)  # a bare year, any width ("+99999")
    free = text.str.extract(r"(?<!\d)(\d{3,4})(?!\d)", expand=False)
    # German dates "04.11.2005": the year is the last number, not the first.
    german = text.str.extract(r"\d{1,2}\.\s?\d{1,2}\.\s?(\d{4})", expand=False)
    year = iso.fillna(whole).fillna(german).fillna(free)
    return pd.to_numeric(year, errors="coerce").astype("Int64")


def add_reason(frame: pd.DataFrame, mask: pd.Series, reason: pd.Series | str) -> pd.DataFrame:
    """Append a rejection reason to the rows in `mask`, keeping earlier reasons."""
    out = frame.copy()
    reason = pd.Series(reason, index=out.index, dtype="string") if isinstance(reason, str) else reason.astype("string")
    current = out[REJECT_REASON].astype("string")
    combined = current.where(current.isna(), current + "; ") .fillna("") + reason
    out[REJECT_REASON] = current.mask(mask.fillna(False).astype(bool), combined)
    return out


def split_rejected(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    rejected = frame[REJECT_REASON].notna()
    return frame[~rejected].copy(), frame[rejected].copy()


def dedupe(frame: pd.DataFrame, key: tuple[str, ...] = ("source", "record_key")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exact duplicate rows collapse to one; a key repeated with other content is rejected.

    Returns (unique rows, rows rejected as conflicting duplicates). The first occurrence wins.
    """
    content = [c for c in frame.columns if c != REJECT_REASON]
    exact = frame.duplicated(subset=content, keep="first")
    unique = frame[~exact]
    conflicting = unique.duplicated(subset=list(key), keep="first")
    rejected = add_reason(unique[conflicting], pd.Series(True, index=unique[conflicting].index),
                          "duplicate record_key with different content")
    return unique[~conflicting].copy(), rejected


def municipality_ids(resolved: pd.DataFrame, names: pd.Series, qids: pd.Series) -> pd.Series:
    """The evidence key: the GeoNames id when resolved; else the Wikidata QID the source states
    (one item is one place: two Falkensteins with their QIDs stay two); else country +
    normalised name, so that sources naming the same unresolved place meet."""
    geonames = resolved["geonames_id"]
    by_gn = "gn:" + geonames.astype("string")
    country = resolved["country_code"].astype("string")
    by_name = "nm:" + country + ":" + normalise_name(names.astype("string"))
    by_qid = "wd:" + qids.astype("string")
    by_name_anywhere = "nm:XX:" + normalise_name(names.astype("string"))
    fallback = by_qid.where(qids.notna(), by_name.where(country.notna(), by_name_anywhere))
    return bounded_keys(by_gn.where(geonames.notna(), fallback).astype("string"))


#: Longest evidence key kept as written; a longer one (a Covenant group naming 20 towns) is cut,
#: with a digest of the whole, so it still fits the crosswalk and stays one key per name.
MAX_KEY = 180


def bounded_keys(keys: pd.Series) -> pd.Series:
    long = keys.str.len().fillna(0) > MAX_KEY
    if not long.any():
        return keys
    digest = keys[long].map(lambda key: hashlib.sha1(key.encode()).hexdigest()[:12])
    return keys.mask(long, keys[long].str.slice(0, MAX_KEY - 14) + "…#" + digest).astype("string")


def pair(frame: pd.DataFrame) -> pd.DataFrame:
    """Undirected pair: A–B and B–A get the same `partnership_key` (ids sorted)."""
    out = frame.copy()
    a, b = out["municipality_a_id"], out["municipality_b_id"]
    low = a.where(a <= b, b)
    high = b.where(a <= b, a)
    out["partnership_key"] = (low + "|" + high).astype("string")
    out["is_self_pair"] = (a == b).fillna(False).astype(bool)
    return out
