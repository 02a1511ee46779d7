"""Resolver precision and recall on gold sets built from the real recordings.

Run: python bench/bench_identity_gold.py (or `make bench`). Prints figures; asserts nothing.

Gold sets (truth independent of the answer being measured):
- twincities: distinct sides of the Hekman/twincities CSV with the project's coordinates. The
  name and country are resolved *without* the coordinates; a `resolved` answer is right when
  the place lies within 10 km of them. (The project geocoded names itself, so a shared wrong
  geocoding counts as right: an upper bound.)
- destatis (gazetteer): the official German municipalities' names as Destatis writes them
  ("Halle (Westf.)", "Brühl"), country DE, no coordinates; right = within 10 km of the
  register's centroid.
- destatis (register): the same names through the register resolver; right = the same AGS.
- rgre: the German sides of the 2015 list (name, postcode, Land; municipalities, not districts)
  through the register resolver; right = the chosen municipality's centroid within 10 km of
  the collector's coordinates (some of which are a namesake's: a lower bound).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractors import destatis_municipalities as destatis  # noqa: E402
from extractors import german_partnerships_2015 as rgre  # noqa: E402
from extractors import twincities_dataset as tc  # noqa: E402
from extractors.geonames_gazetteer import load_places  # noqa: E402
from schemas.records import MUNICIPALITY_REGISTER, PARTNERSHIP_ASSERTION  # noqa: E402
from transforms.countries import to_iso2  # noqa: E402
from transforms.identity import build_name_index, haversine_km, municipality_kind, resolve  # noqa: E402
from transforms.registers import OfficialRegister, resolve_in_register, stage_register  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"
RIGHT_KM = 10.0


def report(label: str, method: pd.Series, status: pd.Series, right: pd.Series) -> None:
    n = len(status)
    resolved = status == "resolved"
    print(f"\n{label}: {n:,} gold items")
    print(f"  resolved {resolved.mean():6.1%}  ambiguous {(status == 'ambiguous').mean():6.1%}  "
          f"unresolved {(~status.isin(['resolved', 'ambiguous'])).mean():6.1%}")
    print(f"  precision of resolved {right[resolved].mean():6.2%}  recall (resolved and right) "
          f"{(right & resolved).sum() / n:6.2%}")
    table = pd.DataFrame({"method": method[resolved], "right": right[resolved]}).groupby("method")["right"]
    for name, group in sorted(table, key=lambda item: -len(item[1])):
        print(f"    {name:<22} {len(group):>7,}  right {group.mean():7.2%}  wrong {int((~group).sum()):>5,}")


def main() -> None:
    started = time.perf_counter()
    places = load_places()
    index = build_name_index(places)
    points = places.set_index("geonames_id")[["lat", "lon"]]
    print(f"gazetteer and index: {time.perf_counter() - started:.1f} s")

    # --- twincities: name + country, truth = the project's coordinates
    frame = PARTNERSHIP_ASSERTION.to_frame(tc.parse((FIXTURES / "twincities/twin_cities_2026-02.csv").read_bytes()))
    cols = ["name", "country", "lat", "lon"]
    sides = pd.concat([frame[["a_name", "a_country", "a_lat", "a_lon"]].set_axis(cols, axis=1),
                       frame[["b_name", "b_country", "b_lat", "b_lon"]].set_axis(cols, axis=1)], ignore_index=True)
    sides = sides.dropna().drop_duplicates(["name", "country"]).reset_index(drop=True)
    sides["country_code"] = to_iso2(sides["country"])
    got = resolve(sides[["name", "country_code"]], index, places)
    where = points.reindex(got["geonames_id"].astype("float64"))
    right = pd.Series(haversine_km(sides["lat"], sides["lon"], where["lat"], where["lon"]) <= RIGHT_KM)
    report("twincities sides, resolved by name and country (truth: the project's coordinates)",
           got["match_method"], got["match_status"], right)
    # The collector's coordinates are often another place's (Birmingham US at Birmingham UK):
    # label only the sides whose coordinates lie at a gazetteer place of that name and country
    # (resolved *with* the coordinates, within 10 km); right = within 10 km of that place.
    labels = resolve(sides[["name", "country_code", "lat", "lon"]], index, places)
    at = points.reindex(labels["geonames_id"].astype("float64"))
    labelled = ((labels["match_status"] == "resolved") & labels["match_method"].isin(["exact", "alternate"])
                & pd.Series(haversine_km(sides["lat"], sides["lon"], at["lat"], at["lon"]) <= RIGHT_KM)).to_numpy()
    right = pd.Series(haversine_km(at["lat"], at["lon"], where["lat"], where["lon"]) <= RIGHT_KM)
    report("twincities sides, by name and country (truth: the namesake at the collector's coordinates)",
           got["match_method"][labelled].reset_index(drop=True), got["match_status"][labelled].reset_index(drop=True),
           right[labelled].reset_index(drop=True))
    ambiguous = (got["match_status"] == "ambiguous").to_numpy() & labelled
    print(f"  ambiguous answers whose strongest candidate was the labelled place: "
          f"{right[ambiguous].mean():.1%} of {int(ambiguous.sum()):,} (the evidence did not decide)")

    # --- destatis: official names
    raw = MUNICIPALITY_REGISTER.to_frame(destatis.parse(
        (FIXTURES / "destatis/gemeindeverzeichnis_auszug_gv4q_2020.csv").read_bytes()))
    municipal = raw[(raw["kind"] == "municipality") & raw["lat"].notna()].reset_index(drop=True)
    got = resolve(pd.DataFrame({"name": municipal["name"], "country_code": "DE"}), index, places)
    where = points.reindex(got["geonames_id"].astype("float64"))
    right = pd.Series(haversine_km(municipal["lat"], municipal["lon"], where["lat"], where["lon"]) <= RIGHT_KM)
    report("official German municipalities by the gazetteer (truth: register centroid)",
           got["match_method"], got["match_status"], right)

    staged = stage_register(raw, places=places, index=index)
    register = OfficialRegister(staged.municipalities)
    found = resolve_in_register(pd.DataFrame({"name": municipal["name"], "lat": pd.NA, "lon": pd.NA}), register.index)
    report("official German municipalities by the register resolver (truth: AGS)",
           found["register_method"].fillna("none"), found["register_status"],
           (found["ags"] == municipal["ags"]).fillna(False))

    # --- rgre: German sides with postcode and Land; districts and Ämter are not municipalities
    # (the pipeline types them and never asks the register). Right = the chosen municipality's
    # centroid within 10 km of the collector's coordinates (which are sometimes a namesake's).
    rows = PARTNERSHIP_ASSERTION.to_frame(rgre.parse(
        (FIXTURES / "german_partnerships/partnerstaedte_rgre_categories_2015.csv").read_bytes()))
    german = rows.drop_duplicates(["a_name", "a_postcode"]).dropna(subset=["a_lat"]).reset_index(drop=True)
    german = german[(municipality_kind(german["a_name"], pd.Series("DE", index=german.index), index, places)
                     == "municipality").to_numpy()].reset_index(drop=True)
    found = resolve_in_register(pd.DataFrame({"name": german["a_name"], "lat": pd.NA, "lon": pd.NA,
                                              "region": german["a_region"], "postcode": german["a_postcode"]}),
                                register.index)
    chosen = register.table.reindex(found["ags"].astype("string"))
    right = pd.Series(haversine_km(german["a_lat"], german["a_lon"], chosen["latitude"].astype("float64"),
                                   chosen["longitude"].astype("float64")) <= RIGHT_KM)
    report("2015 list's German sides by name, postcode and Land (truth: the collector's coordinates)",
           found["register_method"].fillna("none"), found["register_status"], right)
    members(places, index, points)


def members(places, index, points) -> None:
    """City-network members (Covenant of Mayors signatories, BD ETMUN lists) — the kind of
    European names a held-out check uses: municipalities with coordinates, resolved by name and
    country; labelled and raw as for twincities."""
    from extractors import covenant_of_mayors, etmun_member_lists
    from schemas.records import MEMBERSHIP_ASSERTION
    from tests.support import bundled_path

    covenant_url = ("https://raw.githubusercontent.com/LisaMarieKauck/OfflineMARLCityNetworkClimate/a281afc7cade/"
                    "Data/df1_Signatories_2024.xlsx")
    for label, records in (
            ("Covenant of Mayors signatories", covenant_of_mayors.parse(bundled_path("GET", covenant_url).read_bytes(),
                                                                        url=covenant_url)),
            ("BD ETMUN network members", etmun_member_lists.parse(
                bundled_path("GET", etmun_member_lists.URL).read_bytes()))):
        frame = MEMBERSHIP_ASSERTION.to_frame(records)
        frame = frame[frame["reject_reason"].isna() & (frame["member_kind"].fillna("municipality") == "municipality")]
        frame = frame.dropna(subset=["member_lat", "member_lon"]).reset_index(drop=True)
        queries = pd.DataFrame({"name": frame["member_name"], "country_code": to_iso2(frame["member_country"])})
        got = resolve(queries, index, places)
        labels = resolve(queries.assign(lat=frame["member_lat"], lon=frame["member_lon"]), index, places)
        at = points.reindex(labels["geonames_id"].astype("float64"))
        where = points.reindex(got["geonames_id"].astype("float64"))
        labelled = ((labels["match_status"] == "resolved") & labels["match_method"].isin(["exact", "alternate"])
                    & pd.Series(haversine_km(frame["member_lat"], frame["member_lon"], at["lat"], at["lon"])
                                <= RIGHT_KM)).to_numpy()
        right = pd.Series(haversine_km(at["lat"], at["lon"], where["lat"], where["lon"]) <= RIGHT_KM)
        report(f"{label}, by name and country (truth: the namesake at the source's coordinates)",
               got["match_method"][labelled].reset_index(drop=True),
               got["match_status"][labelled].reset_index(drop=True), right[labelled].reset_index(drop=True))
        raw = pd.Series(haversine_km(frame["member_lat"], frame["member_lon"], where["lat"], where["lon"]) <= RIGHT_KM)
        report(f"{label}, by name and country (truth: the source's raw coordinates; groups' and country "
               f"centroids included)", got["match_method"], got["match_status"], raw)


if __name__ == "__main__":
    main()
