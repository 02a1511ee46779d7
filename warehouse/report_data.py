"""What the per-run HTML report shows, read from the warehouse in one pass (read-only)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, inspect, text

from warehouse.rows import read_frame, read_snapshot


@dataclass
class ReportFrames:
    run: pd.DataFrame  # load_run rows of the run reported on
    totals: dict[str, int]
    municipalities: pd.DataFrame  # official German municipalities with coordinates
    sides: pd.DataFrame  # partnership_sides of German municipalities
    memberships: pd.DataFrame  # networks_per_municipality of German members
    coverage_by_land: pd.DataFrame
    coverage_by_size: pd.DataFrame
    changes: pd.DataFrame  # run_changes of the run, counted per domain and change
    quarantine: pd.DataFrame  # source, reason, first_run_id
    sources: pd.DataFrame  # the source table: licence and credit
    previous: pd.DataFrame  # the run before this one (run_id, started_at): what "changed" is measured against


def latest_run_id(engine: Engine) -> str | None:
    """The newest run; None where no run has written the warehouse (or it has no tables yet)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("load_run"):
            return None
        return conn.execute(text("SELECT run_id FROM load_run ORDER BY started_at DESC, run_id LIMIT 1")).scalar()


def read_report_frames(engine: Engine, run_id: str) -> ReportFrames:
    queries = {
        "run": ("SELECT source, status, started_at, finished_at, rows_extracted, rows_new, rows_changed, rows_ended, "
                "rows_unchanged, rows_quarantined, rows_duplicate, message FROM load_run WHERE run_id = :run_id "
                "ORDER BY source"),
        "municipalities": ("SELECT municipality_id, name, region_name AS land, district_name, latitude, longitude, "
                           "population FROM municipality WHERE merged_into IS NULL AND ags IS NOT NULL "
                           "AND match_method = 'register' AND latitude IS NOT NULL"),
        "sides": ("SELECT municipality_id, partner, partner_country, relation_type, since FROM partnership_sides "
                  "WHERE country_code = 'DE' AND ags IS NOT NULL"),
        "memberships": ("SELECT municipality_id, network, network_name, network_acronym, status FROM "
                        "networks_per_municipality WHERE country_code = 'DE' AND ags IS NOT NULL"),
        "coverage_by_land": "SELECT land, partnerships, rgre_count FROM coverage_by_land ORDER BY land",
        "coverage_by_size": ("SELECT size_class, municipalities, with_partnership, percent FROM coverage_by_size "
                             "ORDER BY size_class"),
        "changes": ("SELECT domain, change, COUNT(*) AS relations FROM run_changes WHERE run_id = :run_id "
                    "GROUP BY domain, change ORDER BY domain, change"),
        "quarantine": "SELECT source, reason, first_run_id FROM quarantine",
        "sources": "SELECT source, licence, licence_id, attribution, url FROM source ORDER BY source",
        "previous": ("SELECT run_id, MIN(started_at) AS started_at FROM load_run GROUP BY run_id "
                     "HAVING MIN(started_at) < (SELECT MIN(started_at) FROM load_run WHERE run_id = :run_id) "
                     "ORDER BY MIN(started_at) DESC LIMIT 1"),
    }
    totals_sql = {
        "partnerships": "SELECT COUNT(*) FROM partnership WHERE is_current",
        "memberships": "SELECT COUNT(*) FROM membership WHERE is_current",
        "programmes": "SELECT COUNT(*) FROM funding_programme WHERE is_current",
        "calls": "SELECT COUNT(*) FROM funding_call WHERE is_current",
        "identities": "SELECT COUNT(*) FROM municipality WHERE merged_into IS NULL",
    }
    with read_snapshot(engine) as conn:
        frames = {name: read_frame(conn, _bound(sql, run_id)) for name, sql in queries.items()}
        totals = {name: int(conn.execute(text(sql)).scalar() or 0) for name, sql in totals_sql.items()}
    return ReportFrames(totals=totals, **frames)


def _bound(sql: str, run_id: str):
    statement = text(sql)
    return statement.bindparams(run_id=run_id) if ":run_id" in sql else statement
