"""Load layer for organisations: the curated networks and funders (schemas/networks.yaml,
funders.yaml) as an SCD2 table.

The reference file is loaded like a source, once per run, with its own audit row: an edit of a
network's facts makes a new version of that network, an unchanged file writes nothing.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
from sqlalchemy import Engine, and_, select, update

from schemas import warehouse as W
from schemas.warehouse import ORGANISATION_VERSIONED
from warehouse.load import LoadCounts, _audit_counts, apply_versions, start_run
from warehouse.rows import read_frame

#: The audit row (`load_run.source`) of the reference load.
REFERENCE = "reference:organisation"


def organisation_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as the table stores them; claims as canonical JSON text, so the version hash is stable."""
    columns = [c.name for c in W.organisation.c if c.name in ("organisation_key", *ORGANISATION_VERSIONED)]
    frame = pd.DataFrame(rows).reindex(columns=columns)
    frame["claims"] = [json.dumps(c, sort_keys=True, ensure_ascii=False) for c in frame["claims"]]
    frame["founded"] = frame["founded"].astype("Int64")
    return frame.astype({c: "string" for c in columns if c != "founded"})


def _claims_as_objects(rows: pd.DataFrame) -> pd.DataFrame:
    """The JSON column takes the claims as objects; they were hashed as canonical text."""
    return rows.assign(claims=rows["claims"].map(json.loads))


def load_organisations(engine: Engine, rows: list[dict], *, run_id: str, now: datetime) -> LoadCounts:
    """SCD2 for every network of the reference, in one transaction; a network removed from the
    file ends its current version."""
    table = W.organisation
    incoming = organisation_frame(rows)
    counts = LoadCounts(rows_extracted=len(incoming))
    start_run(engine, run_id, REFERENCE, now)
    with engine.begin() as conn:
        current = read_frame(conn, select(table.c.organisation_key, table.c.row_hash).where(table.c.is_current == True))  # noqa: E712
        diff = apply_versions(conn, table, "organisation_key", current, incoming, None, run_id, now,
                              ORGANISATION_VERSIONED, stored=_claims_as_objects)
        counts.rows_new, counts.rows_changed, counts.rows_ended = diff.new, diff.changed, diff.ended
        counts.rows_unchanged = len(incoming) - diff.new - diff.changed
        conn.execute(update(W.load_run).where(and_(W.load_run.c.run_id == run_id, W.load_run.c.source == REFERENCE))
                     .values(status="loaded", finished_at=datetime.now(timezone.utc), **_audit_counts(counts),
                             message=f"{len(incoming)} organisations from schemas/networks.yaml and funders.yaml"))
    return counts


def refresh_sources(engine: Engine, rows: list[dict], *, now: datetime) -> int:
    """The `source` table: every source the code knows, with its licence and attribution as the
    source module declares them (replaced each run, in one transaction)."""
    with engine.begin() as conn:
        conn.execute(W.source.delete())
        if rows:
            conn.execute(W.source.insert(), [{**row, "updated_at": now} for row in rows])
    return len(rows)
