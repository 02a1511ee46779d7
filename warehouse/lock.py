"""One run at a time per warehouse, whoever starts it (the CLI, the schedule, a second worker).

PostgreSQL: a session-level advisory lock on a dedicated connection, keyed by database and
schema. SQLite: an OS file lock beside the database file. Both vanish with the process that
holds them, so a killed run never leaves a stale lock behind (its `load_run` rows are marked
`aborted` by the next run, which holds the lock and therefore knows nobody else is loading).
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, text


class WarehouseBusy(Exception):
    """Another run holds the warehouse; the message names it."""


@contextmanager
def exclusive_run(engine: Engine, run_id: str, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's run lock for the block; WarehouseBusy after `wait_seconds`."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, run_id, wait_seconds):
            yield
    elif engine.dialect.name == "sqlite":
        with _file_lock(engine, run_id, wait_seconds):
            yield
    else:  # pragma: no cover - the warehouse supports SQLite and PostgreSQL only
        raise WarehouseBusy(f"no run lock for the {engine.dialect.name} dialect; refusing to load unguarded")


def _holder_description() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}


# --- PostgreSQL --------------------------------------------------------------------------------


@contextmanager
def _advisory_lock(engine: Engine, run_id: str, wait_seconds: float) -> Iterator[None]:
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        database, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
        key = _lock_key(f"citylinks:{database}:{schema}")
        holder = _holder_description()
        # The holder is found through pg_stat_activity, so name this session after the run.
        conn.execute(text("SELECT set_config('application_name', :name, false)"),
                     {"name": f"citylinks {run_id} pid {holder['pid']}"[:63]})
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        while not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
            if time.monotonic() >= deadline:
                raise WarehouseBusy(f"warehouse {database}/{schema} is being loaded by another run "
                                    f"({_pg_holder(conn, key)}); waited {wait_seconds:g} s")
            time.sleep(min(1.0, max(deadline - time.monotonic(), 0.05)))
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    finally:
        conn.close()


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key, stable across processes and Python versions."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _pg_holder(conn, key: int) -> str:
    row = conn.execute(text(
        "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.classid::bigint = :high AND l.objid::bigint = :low"),
        {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF}).first()
    if row is None:
        return "holder not visible"
    name, address, since = row
    return f"{name or 'unnamed session'} from {address or 'local socket'}, connected {since:%Y-%m-%d %H:%M:%S %Z}"


# --- SQLite ------------------------------------------------------------------------------------


@contextmanager
def _file_lock(engine: Engine, run_id: str, wait_seconds: float) -> Iterator[None]:
    from filelock import FileLock, Timeout

    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        yield  # a private in-memory warehouse: nobody else can load it
        return
    path = Path(database).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".lock", fallback_to_soft=False, preserve_lock_file=True, thread_local=False)
    info = Path(str(path) + ".lock.json")
    try:
        lock.acquire(timeout=max(wait_seconds, 0.0))
    except Timeout:
        raise WarehouseBusy(f"warehouse {path} is being loaded by another run ({_file_holder(info)}); "
                            f"waited {wait_seconds:g} s") from None
    try:
        tmp = info.with_name(info.name + ".tmp")
        tmp.write_text(json.dumps({"run_id": run_id, **_holder_description()}), encoding="utf-8")
        os.replace(tmp, info)
        yield
    finally:
        info.unlink(missing_ok=True)
        lock.release()


def _file_holder(info: Path) -> str:
    try:
        holder = json.loads(info.read_text(encoding="utf-8"))
        return f"run {holder['run_id']}, pid {holder['pid']} on {holder['host']}, since {holder['since']}"
    except (OSError, ValueError, KeyError):
        return "holder unknown"
