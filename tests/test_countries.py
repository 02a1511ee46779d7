"""Country values as sources write them -> ISO 3166-1 alpha-2."""
from __future__ import annotations

import pandas as pd
import pytest

from extractors import twincities_dataset
from tests.support import bundled_path
from transforms.countries import country_name, is_valid_iso2, to_iso2

TWIN_CITIES = bundled_path("GET", twincities_dataset.URL)  # the real CSV, as bundled for replay

CASES = {
    # ISO alpha-2 in any case (JRC/Covenant of Mayors writes lower case), alpha-3
    "DE": "DE", "de": "DE", "gb": "GB", "xk": "XK", "DEU": "DE", "UKR": "UA", "USA": "US",
    # IOC/FIFA-style Wikipedia flagicon codes
    "GER": "DE", "POR": "PT", "VIE": "VN", "SUI": "CH", "NED": "NL", "DEN": "DK", "CRO": "HR",
    "PRC": "CN", "ROC": "TW", "UK": "GB",
    # English
    "Germany": "DE", "Turkey": "TR", "Türkiye": "TR", "Czech Republic": "CZ", "Czechia": "CZ",
    "United States": "US", "People's Republic of China": "CN", "Republic of China": "TW",
    "Taiwan": "TW", "Russia": "RU", "Kosovo": "XK", "England": "GB", "Scotland": "GB",
    "Wales": "GB", "Northern Ireland": "GB", "Republic of Ireland": "IE", "Ivory Coast": "CI",
    "Moldova, Republic Of": "MD", "Bosnia-herzegovina": "BA", "Georgia (country)": "GE",
    # German, French, Polish
    "Deutschland": "DE", "Frankreich": "FR", "Vereinigtes Königreich": "GB", "Tschechien": "CZ",
    "Österreich": "AT", "Russland": "RU", "Weißrussland": "BY", "Niederlande": "NL",
    "Allemagne": "DE", "Royaume-Uni": "GB", "Russie": "RU", "Pays-Bas": "NL",
    "Polska": "PL", "Niemcy": "DE", "Rosja": "RU", "Wielka Brytania": "GB", "Czechy": "CZ",
    "Kosowo": "XK",
    # "Region, Country" as the twin-cities CSV writes it
    "England, United Kingdom": "GB", "Lower Saxony, Germany": "DE", "Réunion, France": "RE",
    "Åland Islands, Finland": "AX", "Georgia, United States": "US",
    # misspellings coco's regexes catch
    "Kazakhstah": "KZ", "Surinam": "SR",
}


def test_known_spellings():
    values = pd.Series(list(CASES))
    got = to_iso2(values)
    wrong = {v: g for v, g, want in zip(values, got, CASES.values()) if g != want}
    assert not wrong


def test_unknown_and_missing_are_na_and_index_kept():
    values = pd.Series(["Klingon Empire", "", None, "ZZ", "Germany"], index=[10, 11, 12, 13, 14])
    got = to_iso2(values)
    assert list(got.index) == [10, 11, 12, 13, 14]
    assert str(got.dtype) == "string"
    assert got.isna().tolist() == [True, True, True, True, False]


def test_many_rows_map_distinct_values_once():
    values = pd.Series(["Deutschland", "GER", "Polska"] * 50_000)
    got = to_iso2(values)
    assert got.value_counts().to_dict() == {"DE": 100_000, "PL": 50_000}


def test_every_country_of_the_twin_cities_csv_maps():
    frame = pd.read_csv(TWIN_CITIES, keep_default_na=False, na_values=[""])
    countries = pd.Series(pd.concat([frame["country1"], frame["country2"]]).dropna().unique())
    got = to_iso2(countries)
    assert got.isna().sum() == 0, countries[got.isna()].tolist()
    assert is_valid_iso2(got).all()


def test_is_valid_iso2():
    got = is_valid_iso2(pd.Series(["DE", "XK", "de", "ZZ", None, "GER"]))
    assert got.dtype == bool
    assert got.tolist() == [True, True, False, False, False, False]


@pytest.mark.parametrize(("code", "name"), [("DE", "Germany"), ("de", "Germany"), ("XK", "Kosovo"),
                                            ("TW", "Taiwan"), ("ZZ", "ZZ")])
def test_country_name(code, name):
    assert country_name(code) == name
