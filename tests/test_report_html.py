"""The report's figures (transforms/report.py) and its rendering (report/html.py), without a
browser: counts per municipality, reasons without their values, escaping of source text."""
import json
import re

import pandas as pd

from report.html import ReportContent, country_name, render
from transforms.report import map_points, partner_countries, quarantine_by_reason, reason_class

MUNICIPALITIES = pd.DataFrame([
    {"municipality_id": "m:1", "name": "Köln", "land": "Nordrhein-Westfalen", "district_name": "Köln",
     "latitude": 50.94, "longitude": 6.96, "population": 1_087_863},
    {"municipality_id": "m:2", "name": "Bielefeld", "land": "Nordrhein-Westfalen", "district_name": "Bielefeld",
     "latitude": 52.02, "longitude": 8.53, "population": 334_195},
    {"municipality_id": "m:3", "name": "Ohnepartner", "land": "Bayern", "district_name": "X",
     "latitude": 48.0, "longitude": 11.0, "population": 900},
])
SIDES = pd.DataFrame([
    {"municipality_id": "m:1", "partner": "Barcelona", "partner_country": "ES", "relation_type": "partnership", "since": 1984},
    {"municipality_id": "m:1", "partner": "Lille", "partner_country": "FR", "relation_type": "partnership", "since": 1958},
    {"municipality_id": "m:1", "partner": "Bielefeld", "partner_country": "DE", "relation_type": "friendship", "since": None},
    {"municipality_id": "m:2", "partner": "Rochdale", "partner_country": "GB", "relation_type": "partnership", "since": 1953},
    {"municipality_id": "m:2", "partner": "Concarneau", "partner_country": "FR", "relation_type": "partnership", "since": 1974},
])
MEMBERSHIPS = pd.DataFrame([
    {"municipality_id": "m:1", "network": "eurocities", "network_name": "EUROCITIES", "network_acronym": None,
     "status": "member"},
    {"municipality_id": "m:1", "network": "climate_alliance", "network_name": "Climate Alliance",
     "network_acronym": "KB", "status": "member"},
])


def test_map_points_count_partnerships_and_networks_per_municipality():
    points = map_points(MUNICIPALITIES, SIDES, MEMBERSHIPS).set_index("name")
    assert list(points.index) == ["Köln", "Bielefeld"]  # most partnerships first; none at all: no point
    assert points.loc["Köln", "partnerships"] == 3 and points.loc["Köln", "memberships"] == 2
    assert points.loc["Köln", "partners"] == ["Barcelona (ES)", "Bielefeld (DE)", "Lille (FR)"]
    assert points.loc["Köln", "networks"] == ["EUROCITIES", "KB"]
    assert points.loc["Bielefeld", "memberships"] == 0 and points.loc["Bielefeld", "networks"] == []


def test_partner_countries_leave_out_german_partners():
    counts = partner_countries(SIDES)
    assert counts.to_dict("records")[0] == {"partner_country": "FR", "partnerships": 2}
    assert "DE" not in set(counts["partner_country"])


def test_reason_class_drops_the_rows_values():
    assert reason_class("identity: both sides resolved to the same place (GeoNames 2927226): Felsberg DE / "
                        "Felsberg DE — the source pairs a place with its namesake") == \
        "identity: both sides resolved to the same place"
    assert reason_class("municipality wd:Q22979565: has no name (the source gives only an id) (name=missing) "
                        "[ExpectColumnValuesToNotBeNull(name)]") == "has no name"
    assert reason_class("start year outside 836–2026 (start_year=2999) [ExpectColumnValuesToBeBetween(start_year)]") \
        == "start year outside 836–2026"


def test_quarantine_by_reason_counts_what_this_run_rejected_first():
    quarantine = pd.DataFrame([
        {"source": "wikidata_twinnings", "reason": "municipality wd:Q1: has no name (x) [E(name)]", "first_run_id": "r2"},
        {"source": "wikidata_twinnings", "reason": "municipality wd:Q2: has no name (y) [E(name)]", "first_run_id": "r1"},
        {"source": "twincities_dataset", "reason": "start year outside 836–2026 (start_year=3000)", "first_run_id": "r2"},
    ])
    grouped = quarantine_by_reason(quarantine, "r2")
    assert grouped.to_dict("records")[0] == {
        "source": "wikidata_twinnings", "reason": "has no name", "rows": 2, "new_this_run": 1,
        "example": "municipality wd:Q1: has no name (x) [E(name)]"}
    assert len(grouped) == 2


def content(**changes) -> ReportContent:
    base = dict(
        run_id="run-1", run_started="2026-11-25 06:00 UTC", written_at="2026-11-25 06:02 UTC",
        previous_run="the run of 2026-11-24 06:00 UTC (run-0)",
        totals={"partnerships": 5, "memberships": 2, "programmes": 0, "calls": 0, "identities": 9},
        points=map_points(MUNICIPALITIES, SIDES, MEMBERSHIPS),
        coverage_by_land=pd.DataFrame([{"land": "Nordrhein-Westfalen", "partnerships": 5, "rgre_count": 1000},
                                       {"land": "Bremen", "partnerships": 0, "rgre_count": 0}]),
        coverage_by_size=pd.DataFrame([{"size_class": "1 under 5,000", "municipalities": 10, "with_partnership": 1,
                                        "percent": 10.0}]),
        partner_countries=partner_countries(SIDES), changes=pd.DataFrame(columns=["domain", "change", "relations"]),
        run=pd.DataFrame([{"source": "wikidata_twinnings", "status": "failed", "rows_extracted": 0, "rows_new": 0,
                           "rows_changed": 0, "rows_ended": 0, "rows_quarantined": 0, "message": "HTTP 500"}]),
        quarantine=quarantine_by_reason(pd.DataFrame(columns=["source", "reason", "first_run_id"]), "run-1"),
        sources=pd.DataFrame([{"source": "wikipedia_twinning_sections", "licence": "CC BY-SA 4.0",
                               "licence_id": "CC-BY-SA-4.0", "attribution": "Wikipedia contributors",
                               "url": "https://www.mediawiki.org/"}]))
    return ReportContent(**{**base, **changes})


def embedded_points(html: str) -> list:
    return json.loads(re.search(r'<script id="points" type="application/json">(.*?)</script>', html, re.S).group(1))


def test_render_embeds_every_point_and_the_tables():
    html = render(content())
    points = embedded_points(html)
    assert [p[0] for p in points] == ["Köln", "Bielefeld"] and points[0][4:6] == [3, 2]
    assert "France" in html and "nothing: every relation is as the run before left it" in html
    assert "no row is in quarantine" in html and 'class="failed"' in html
    assert "Compared with the run of 2026-11-24 06:00 UTC (run-0)." in html
    assert "CC-BY-SA-4.0" in html and "Wikipedia contributors" in html
    assert "<script src=" not in html and "<link " not in html  # self-contained: opens offline


def test_source_text_cannot_inject_markup_into_the_report():
    hostile = MUNICIPALITIES.assign(name=MUNICIPALITIES["name"].replace("Köln", "Köln</script><script>alert(1)"))
    run = pd.DataFrame([{"source": "<b>x</b>", "status": "loaded", "rows_extracted": 1, "rows_new": 1,
                         "rows_changed": 0, "rows_ended": 0, "rows_quarantined": 0, "message": None}])
    html = render(content(points=map_points(hostile, SIDES, MEMBERSHIPS), run=run))
    assert "<script>alert(1)" not in html and "<b>x</b>" not in html
    assert embedded_points(html)[0][0] == "Köln</script><script>alert(1)"


def test_country_names_read_well():
    assert country_name("FR") == "France" and country_name(None) == "unknown" and country_name("XK") == "XK"


def test_only_web_addresses_become_links():
    sources = pd.DataFrame([{"source": "evil", "licence": "x", "licence_id": None, "attribution": "y",
                             "url": "javascript:alert(document.cookie)"},
                            {"source": "good", "licence": "x", "licence_id": None, "attribution": "y",
                             "url": "https://example.org/list"}])
    html = render(content(sources=sources))
    assert "javascript:" not in html.split("<script>", 1)[0]
    assert '<a href="https://example.org/list">good</a>' in html and "<td>evil</td>" in html
