"""History-layer benchmark: load + consolidation of N partnership assertions, next to raw inserts.

Run: python bench/bench_history.py [N ...] (default 100000 300000 1000000; `make bench` runs
100000 300000). Prints seconds and peak memory; asserts nothing. Per size and backend
(SQLite file; PostgreSQL when CITYLINKS_BENCH_POSTGRES_URL or the test server is reachable):
- raw:       one executemany of the same rows into an empty copy of partnership_source
- cold:      first load of the source into an empty warehouse, then the run's consolidation
- unchanged: the same extract in the next run (confirmed by its content hash, see warehouse/snapshots.py)
- next day:  the same content fetched a day later (only the fetch time differs)
- 1 % changed: one row in a hundred with another relation type
"""
from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Column, MetaData, Table, create_engine, insert, text  # noqa: E402

from schemas import warehouse as W  # noqa: E402
from schemas.warehouse import ASSERTION_TRACKED, row_hash  # noqa: E402
from warehouse import load as wh  # noqa: E402
from warehouse.rows import records  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
POSTGRES = os.environ.get("CITYLINKS_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def assertions(n: int, changed_share: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n pairs over n // 3 places (a twinning network's density), evidence keys as staging makes them."""
    places = max(n // 3, 10)
    i = pd.RangeIndex(n)
    a = (i % places).astype(str)
    b = ((i * 7 + 1) % places).astype(str)
    a_key, b_key = "gn:" + pd.Series(a), "gn:" + pd.Series(b) + "0"
    frame = pd.DataFrame({
        "source": "bench", "record_key": "k" + pd.Series(i.astype(str)), "municipality_a_id": a_key,
        "municipality_b_id": b_key, "raw_name_a": "A " + pd.Series(a), "raw_name_b": "B " + pd.Series(b),
        "raw_country_a": "DE", "raw_country_b": "FR", "relation_type": "partnership", "start_raw": None,
        "start_year": pd.array([None] * n, dtype="Int64"), "end_year": pd.array([None] * n, dtype="Int64"),
        "reference_url": None, "source_url": "https://example.org/bench",
    })
    if changed_share:
        step = int(1 / changed_share)
        frame.loc[frame.index % step == 0, "relation_type"] = "friendship"
    low = frame["municipality_a_id"].where(frame["municipality_a_id"] <= frame["municipality_b_id"],
                                           frame["municipality_b_id"])
    high = frame["municipality_b_id"].where(frame["municipality_a_id"] <= frame["municipality_b_id"],
                                            frame["municipality_a_id"])
    frame["partnership_key"] = low + "|" + high
    frame["row_hash"] = row_hash(frame, ASSERTION_TRACKED)
    keys = pd.concat([frame["municipality_a_id"], frame["municipality_b_id"]]).drop_duplicates()
    ids = keys.str.slice(3).astype("int64")
    municipalities = pd.DataFrame({
        "municipality_id": keys.to_numpy(), "geonames_id": pd.array(ids.to_numpy(), dtype="Int64"),
        "wikidata_qid": None, "ags": None, "name": keys.to_numpy(), "kind": "municipality", "country_code": "DE",
        "admin1_code": None, "latitude": None, "longitude": None,
        "population": pd.array([None] * len(keys), dtype="Int64"), "match_method": "exact", "match_score": 1.0,
        "match_status": "resolved"})
    return frame, municipalities


def timed(label: str, fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"    {label:<14} {time.perf_counter() - started:8.1f} s")
    return result


def run(engine, run_id, now, frame, municipalities):
    frame = frame.assign(extracted_at=now)  # as staging hands it over: the fetch time differs per run
    wh.start_run(engine, run_id, "bench", now)
    wh.load_source(engine, run_id=run_id, source="bench", assertions=frame, municipalities=municipalities,
                   rejected=pd.DataFrame(), rows_extracted=len(frame), now=now, max_shrink=1.0)
    wh.consolidate_partnerships(engine, run_id=run_id, now=now)


def raw_insert(engine, frame):
    rows = frame.assign(first_seen=T0, changed_at=T0, is_current=True, ended_at=None, load_id="raw")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS raw_copy"))
        copy = Table("raw_copy", MetaData(), *(Column(c.name, c.type, primary_key=c.primary_key)
                                               for c in W.partnership_source.c))  # same columns and key
        copy.create(conn)
        conn.execute(insert(copy), records(rows, W.partnership_source))


def bench(engine, n: int) -> None:
    frame, municipalities = assertions(n)
    changed, _ = assertions(n, changed_share=0.01)
    timed("raw insert", raw_insert, engine, frame)
    timed("cold", run, engine, "r1", T0, frame, municipalities)
    timed("unchanged", run, engine, "r2", T0 + timedelta(hours=1), frame, municipalities)
    timed("next day", run, engine, "r3", T0 + timedelta(days=1), frame, municipalities)
    timed("1 % changed", run, engine, "r4", T0 + timedelta(days=2), changed, municipalities)


def main(sizes: list[int]) -> None:
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            engine = wh.make_engine(f"sqlite:///{tmp}/bench.db")
            wh.create_schema(engine)
            print(f"\n{n:,} assertions, SQLite")
            bench(engine, n)
            engine.dispose()
        try:
            engine = create_engine(POSTGRES)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS bench_history CASCADE; CREATE SCHEMA bench_history"))
            engine.dispose()
        except Exception as exc:  # noqa: BLE001 - no server here: SQLite figures only
            print(f"  (PostgreSQL not reachable: {type(exc).__name__})")
            continue
        engine = create_engine(POSTGRES, connect_args={"options": "-csearch_path=bench_history"})
        wh.create_schema(engine)
        print(f"{n:,} assertions, PostgreSQL")
        bench(engine, n)
        engine.dispose()
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 300_000, 1_000_000])
