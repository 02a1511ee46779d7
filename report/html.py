"""Render the per-run report: one self-contained HTML file (Leaflet, the map's outlines and the
data inlined), so it opens offline from disk, a mail attachment or an artifact store."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import pandas as pd
import pycountry
from jinja2 import Environment, PackageLoader, select_autoescape


@dataclass
class ReportContent:
    run_id: str
    run_started: str
    previous_run: str  # "the run of <time> (<id>)", or "" for a warehouse's first run
    written_at: str
    totals: dict[str, int]
    points: pd.DataFrame  # transforms.report.map_points
    coverage_by_land: pd.DataFrame
    coverage_by_size: pd.DataFrame
    partner_countries: pd.DataFrame
    changes: pd.DataFrame
    run: pd.DataFrame
    quarantine: pd.DataFrame  # transforms.report.quarantine_by_reason
    sources: pd.DataFrame  # source, licence, licence_id, attribution, url


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(loader=PackageLoader("report", "templates"), autoescape=select_autoescape(["html"]),
                              trim_blocks=True, lstrip_blocks=True)
    environment.filters["thousands"] = lambda n: "" if n is None or pd.isna(n) else f"{int(n):,}"
    environment.filters["country"] = country_name
    environment.filters["web_url"] = web_url
    return environment


def _asset(name: str) -> str:
    return files("report").joinpath("assets", name).read_text(encoding="utf-8")


def web_url(url: str | None) -> str:
    """Only http(s) addresses become links: escaping does not stop a `javascript:` URL."""
    text = (url or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else ""


def country_name(code: str | None) -> str:
    if not code:
        return "unknown"
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or getattr(country, "name", code) if country else code


def _script_json(value) -> str:
    """JSON that can sit inside <script>: no '<' at all, so nothing can close or open an element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def render(content: ReportContent) -> str:
    points = [[row["name"], row["land"], round(float(row["latitude"]), 4), round(float(row["longitude"]), 4),
               int(row["partnerships"]), int(row["memberships"]), row["partners"], row["networks"]]
              for row in content.points.to_dict("records")]
    land = content.coverage_by_land.assign(
        ratio=lambda f: (f["partnerships"] / f["rgre_count"]).where(f["rgre_count"] > 0))
    peak = max(1, int(content.partner_countries["partnerships"].max())) if len(content.partner_countries) else 1
    return _environment().get_template("report.html").render(
        content=content, leaflet_js=_asset("leaflet.js"), leaflet_css=_asset("leaflet.css"),
        outlines=_asset("europe_outlines.geojson").replace("<", "\\u003c"), points=_script_json(points),
        land=_records(land), land_peak=max(1.0, float(land["ratio"].max())) if land["ratio"].notna().any() else 1.0,
        sizes=_records(content.coverage_by_size), countries=_records(content.partner_countries), country_peak=peak,
        changes=_records(content.changes), run=_records(content.run), quarantine=_records(content.quarantine),
        sources=_records(content.sources))
