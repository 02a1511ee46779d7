"""What a source's load contained: a content hash per load, so a snapshot identical to the one
the last successful load of that source wrote is confirmed without reading or comparing the
source's provenance again (the nightly case: most sources change nothing most nights)."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from schemas import warehouse as W

#: Columns that differ between two extractions of the same content.
VOLATILE = frozenset({"extracted_at"})


def content_hash(*frames: pd.DataFrame) -> str:
    """SHA-256 over the frames' columns and rows, independent of row order."""
    digest = hashlib.sha256()
    for frame in frames:
        columns = sorted(c for c in frame.columns if c not in VOLATILE)
        digest.update(("\x1e" + "\x1f".join(columns) + f"\x1f{len(frame)}").encode())
        if len(frame) and columns:
            rows = pd.util.hash_pandas_object(frame[columns].astype("string"), index=False).to_numpy()
            digest.update(np.sort(rows).tobytes())
    return digest.hexdigest()


def same_as_last_load(conn: Connection, source: str, digest: str, run_id: str) -> dict | None:
    """The source's last successful load (run_id, rows_quarantined) if it wrote exactly this
    content; None otherwise (or if a later attempt failed: its content is unknown)."""
    runs = W.load_run
    last = conn.execute(
        select(runs.c.run_id, runs.c.status, runs.c.content_hash, runs.c.rows_quarantined)
        .where(and_(runs.c.source == source, runs.c.run_id != run_id, runs.c.status.in_(("loaded", "failed"))))
        .order_by(runs.c.started_at.desc()).limit(1)).first()
    if last is None or last.status != "loaded" or last.content_hash != digest:
        return None
    return {"run_id": last.run_id, "rows_quarantined": last.rows_quarantined}
