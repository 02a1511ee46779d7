"""Identity-resolver benchmark: gazetteer load, index build, resolve throughput and shares.

Run: python bench/bench_resolver.py [path/to/twin_cities.csv]
Prints figures only; asserts nothing about timing.

The last block is the acceptance measure: the distinct German-side names (the CSV's German
sides, with their coordinates, plus the German city labels of the Wikidata 2017 P190 file),
counted per `kind`, and the share of real municipalities (kind == municipality) with a
GeoNames id (a name counts once, with an id when any of its rows got one).
"""
from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractors.geonames_gazetteer import load_places  # noqa: E402
from transforms.countries import to_iso2  # noqa: E402
from transforms.identity import build_name_index, resolve  # noqa: E402

DEFAULT_CSV = ROOT.parent / "shared" / "fixtures" / "twincities" / "twin_cities_2026-02.csv"
WIKIDATA_P190 = ROOT.parent / "shared" / "fixtures" / "wikidata" / "p190_german_cities_2017-02.sparql.json"


def shares(statuses: pd.Series) -> str:
    counts = statuses.value_counts(normalize=True)
    return "  ".join(f"{s} {counts.get(s, 0.0):6.1%}" for s in ("resolved", "ambiguous", "unresolved"))


def main(csv_path: Path) -> None:
    started = time.perf_counter()
    places = load_places()
    print(f"gazetteer load      {time.perf_counter() - started:7.2f} s   {len(places):,} places")

    started = time.perf_counter()
    index = build_name_index(places)
    print(f"index build         {time.perf_counter() - started:7.2f} s   {len(index):,} (name, place) rows")

    frame = pd.read_csv(csv_path, keep_default_na=False, na_values=[""])
    cols = ["name", "country", "lat", "lon"]
    sides = pd.concat([frame[["city1", "country1", "lat1", "lng1"]].set_axis(cols, axis=1),
                       frame[["city2", "country2", "lat2", "lng2"]].set_axis(cols, axis=1)], ignore_index=True)
    started = time.perf_counter()
    sides["country_code"] = to_iso2(sides["country"])
    print(f"to_iso2             {time.perf_counter() - started:7.2f} s   {len(sides):,} rows, "
          f"{sides['country_code'].isna().sum()} without a country code")
    distinct = sides.drop_duplicates(["name", "country_code", "lat", "lon"]).reset_index(drop=True)

    for label, queries in (("with coordinates", distinct),
                           ("without coordinates", distinct.assign(lat=float("nan"), lon=float("nan"))
                            .drop_duplicates(["name", "country_code"]).reset_index(drop=True))):
        started = time.perf_counter()
        got = resolve(queries, index, places)
        seconds = time.perf_counter() - started
        german = got["country_code"] == "DE"
        print(f"\nresolve {label}: {len(got):,} distinct names in {seconds:.2f} s "
              f"= {len(got) / seconds:,.0f} names/s")
        print(f"  all     ({len(got):>6,})  {shares(got['match_status'])}")
        print(f"  German  ({german.sum():>6,})  {shares(got.loc[german, 'match_status'])}")
        methods = got["match_method"].value_counts()
        print("  methods " + ", ".join(f"{m} {n:,}" for m, n in methods.items()))

    german_names(distinct, index, places)

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"\npeak RSS            {peak_kib / 1024:7.0f} MiB")


def german_names(distinct: pd.DataFrame, index: pd.DataFrame, places: pd.DataFrame) -> None:
    """Share of German municipalities with an id, over distinct names, and counts per kind."""
    queries = distinct.loc[distinct["country_code"] == "DE", ["name", "country_code", "lat", "lon"]]
    if WIKIDATA_P190.exists():
        bindings = json.loads(WIKIDATA_P190.read_text(encoding="utf-8"))["results"]["bindings"]
        labels = pd.Series([b["cityLabel"]["value"] for b in bindings]).drop_duplicates()
        queries = pd.concat([queries, pd.DataFrame({"name": labels, "country_code": "DE"})], ignore_index=True)
    got = resolve(queries.reset_index(drop=True), index, places)
    per_name = got.assign(has_id=got["geonames_id"].notna()).groupby("name").agg(
        kind=("kind", "first"), has_id=("has_id", "any"),
        other_country=("match_country", lambda c: bool((c.notna() & (c != "DE")).any())))
    print(f"\nGerman-side names (CSV + Wikidata 2017 labels): {len(per_name):,} distinct")
    for kind, group in per_name.groupby("kind"):
        print(f"  {kind:<13} {len(group):>6,}  with id {group['has_id'].sum():>6,} ({group['has_id'].mean():6.1%})")
    municipal = per_name[per_name["kind"] == "municipality"]
    print(f"  municipalities with a GeoNames id: {municipal['has_id'].mean():.1%} "
          f"({(~municipal['has_id']).sum():,} without; {municipal['other_country'].sum()} resolved "
          f"in another country than the source's)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CSV)
