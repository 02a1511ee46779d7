"""A maintainer's curated decisions (schemas/identity_overrides.csv) applied to resolved sides.

Pure. A matching side takes the decided place as its evidence (`gn:`/`ags:`/`wd:` key), with
`match_method` "override" and full score, whatever the resolver said; the decision is
authoritative in the warehouse too (`warehouse.history.AUTHORITATIVE_METHODS`).
"""
from __future__ import annotations

import pandas as pd

from transforms.identity import normalise_name

PREFIX = {"geonames": "gn:", "ags": "ags:", "wikidata": "wd:"}


def apply_overrides(resolved: pd.DataFrame, partners: pd.Series, overrides: pd.DataFrame | None,
                    places: pd.DataFrame) -> pd.DataFrame:
    """`resolved`: one side's answers (see transforms.staging); `partners`: the other side's
    names, row by row."""
    if overrides is None or overrides.empty or resolved.empty:
        return resolved
    side = pd.DataFrame({"name": normalise_name(resolved["query_name"]).to_numpy(),
                         "country": resolved["query_country"].to_numpy(),
                         "partner": normalise_name(partners.astype("string")).to_numpy()})
    rules = overrides.assign(name=normalise_name(overrides["name"]),
                             partner_of=normalise_name(overrides["partner_of"]))
    out = resolved.copy()
    for rule in rules.itertuples(index=False):
        hit = (side["name"] == rule.name).fillna(False)
        if isinstance(rule.country, str):
            hit &= (side["country"] == rule.country).fillna(False)
        if isinstance(rule.partner_of, str):
            hit &= (side["partner"] == rule.partner_of).fillna(False)
        hit = hit.to_numpy(dtype=bool)
        if not hit.any():
            continue
        out.loc[hit, "municipality_id"] = PREFIX[rule.scheme] + rule.value
        out.loc[hit, ["match_method", "match_status"]] = ["override", "resolved"]
        out.loc[hit, "match_score"] = 1.0
        out.loc[hit, "candidates"] = pd.NA
        if rule.scheme == "geonames":
            place = places.loc[places["geonames_id"] == int(rule.value)]
            if place.empty:
                raise ValueError(f"override for {rule.name}: GeoNames {rule.value} is not in the gazetteer")
            row = place.iloc[0]
            out.loc[hit, "geonames_id"] = int(rule.value)
            out.loc[hit, ["canonical_name", "match_country", "admin1"]] = [row["name"], row["country_code"], row["admin1"]]
            out.loc[hit, ["lat", "lon"]] = [row["lat"], row["lon"]]
            out.loc[hit, "population"] = row["population"]
        elif rule.scheme == "ags":
            out.loc[hit, "ags"] = rule.value
        else:
            out.loc[hit, "wikidata_qid"] = rule.value
    return out
