"""Load layer: one source's staged frames into the warehouse, in one transaction.

The history rules live in `warehouse.history` (pure, no database); here they are executed with bulk
statements (executemany), the same code on SQLite and PostgreSQL. Any failure rolls the
whole source back, so the warehouse is exactly as it was; the audit row then says why.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, and_, bindparam, create_engine, event, exists, insert, select, text, update
from sqlalchemy.engine import Connection

from schemas import warehouse as W
from schemas.domains import PARTNERSHIPS, DomainSpec
from schemas.warehouse import row_hash
from warehouse.crosswalk import IdentityCounts, assign_identities, settle_placeholders
from warehouse.history import VersionDiff, compose_key, consolidate, diff_assertions, diff_versions, keys_ending
from warehouse.rows import bulk_insert, read_frame, read_keyed, records  # noqa: F401 (re-exported)
from warehouse.snapshots import content_hash, same_as_last_load

log = logging.getLogger(__name__)



class LoadRefused(Exception):
    """The staged data would shrink the warehouse beyond the allowed share; nothing written."""


class WarehouseUnreachable(Exception):
    """The warehouse cannot be opened (bad URL, server down, no permission); one-line reason."""


class QualityGateFailed(Exception):
    """The consolidated partnerships failed their suite; the whole source load rolled back."""


@dataclass
class LoadCounts:
    rows_extracted: int = 0
    rows_new: int = 0
    rows_changed: int = 0
    rows_ended: int = 0
    rows_unchanged: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    partnerships_new: int = 0
    partnerships_changed: int = 0
    partnerships_ended: int = 0
    municipalities_new: int = 0
    municipalities_changed: int = 0
    municipalities_merged: int = 0
    identity_conflicts: int = 0


def make_engine(url: str) -> Engine:
    try:
        engine = create_engine(url, future=True)
    except Exception as exc:  # noqa: BLE001 - unknown dialect, missing driver, garbage
        raise WarehouseUnreachable(f"warehouse URL is not usable: {type(exc).__name__}: {exc}") from None
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)  # a fresh CITYLINKS_HOME

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # readers (BI) don't block the nightly load
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
    return engine


def check_reachable(engine: Engine) -> None:
    """Open one connection now, so a wrong URL or a server that is down is one clear line."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises, say it in one line
        reason = getattr(exc, "orig", None) or exc
        first = (str(reason).strip().splitlines() or [type(reason).__name__])[0]
        raise WarehouseUnreachable(f"cannot open the warehouse: {type(reason).__name__}: {first[:300]}") from None


MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The tables of revision 0001: a warehouse holding them without `alembic_version` predates migrations.
INITIAL_TABLES = ("municipality", "partnership", "partnership_source", "load_run", "quarantine")


def create_schema(engine: Engine) -> None:
    """Bring the warehouse to the current schema with Alembic (idempotent; run before every load).

    A warehouse made by an earlier `create_all` (before migrations existed) holds the initial
    tables but no `alembic_version`: it is stamped as revision 0001, then upgraded.
    """
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        tables = set(inspect(conn).get_table_names())
        if "alembic_version" not in tables and set(INITIAL_TABLES) <= tables:
            command.stamp(config, "0001")
        command.upgrade(config, "head")


def schema_revision(engine: Engine) -> str | None:
    """The warehouse's Alembic revision; None for a warehouse without one (empty, or pre-migrations)."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def start_run(engine: Engine, run_id: str, source: str, started_at: datetime | None = None) -> None:
    """Audit row first, in its own transaction, so a crash still leaves a trace."""
    started_at = started_at or datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(W.load_run.delete().where(and_(W.load_run.c.run_id == run_id, W.load_run.c.source == source)))
        conn.execute(insert(W.load_run).values(run_id=run_id, source=source, started_at=started_at, status="running",
                                               rows_extracted=0, rows_new=0, rows_changed=0, rows_ended=0,
                                               rows_unchanged=0, rows_quarantined=0))


def abort_stale_runs(engine: Engine, run_id: str) -> int:
    """Rows left `running` by a run that was killed: only called under the run lock, when no
    other run can be loading, so every such row belongs to a dead run."""
    with engine.begin() as conn:
        result = conn.execute(update(W.load_run).where(
            and_(W.load_run.c.status == "running", W.load_run.c.run_id != run_id)).values(
            status="aborted", finished_at=datetime.now(timezone.utc),
            message=f"the run stopped before finishing this source (killed?); its transaction was rolled back. "
                    f"Found by run {run_id}"))
        return result.rowcount or 0


def cancel_run(engine: Engine, run_id: str, reason: str) -> None:
    """This run's unfinished sources, after SIGTERM/SIGINT: their loads were rolled back."""
    with engine.begin() as conn:
        conn.execute(update(W.load_run).where(
            and_(W.load_run.c.run_id == run_id, W.load_run.c.status == "running")).values(
            status="cancelled", finished_at=datetime.now(timezone.utc), message=reason[:4000]))


def fail_run(engine: Engine, run_id: str, source: str, message: str, counts: LoadCounts | None = None) -> None:
    values = {"status": "failed", "finished_at": datetime.now(timezone.utc), "message": message[:4000]}
    if counts:
        values.update(_audit_counts(counts))
    with engine.begin() as conn:
        result = conn.execute(update(W.load_run).where(
            and_(W.load_run.c.run_id == run_id, W.load_run.c.source == source)).values(**values))
        if result.rowcount == 0:
            conn.execute(insert(W.load_run).values(run_id=run_id, source=source, started_at=values["finished_at"],
                                                   **{**_audit_counts(counts or LoadCounts()), **values}))


def load_source(
    engine: Engine,
    *,
    run_id: str,
    source: str,
    assertions: pd.DataFrame,
    municipalities: pd.DataFrame,
    rejected: pd.DataFrame,
    rows_extracted: int,
    rows_duplicate: int = 0,
    max_shrink: float = 0.5,
    now: datetime | None = None,
    spec: DomainSpec = PARTNERSHIPS,
) -> LoadCounts:
    """Replace one source's provenance with a full extract, in one transaction — for any domain.

    `assertions`: staged rows for the domain's provenance table (with its key, row_hash…), naming
    identities by evidence key; `municipalities`: the identities they refer to; `rejected`: rows
    for quarantine. `now` is the run's boundary time, the same for every source of a run. The
    domain's versions are not touched here: `consolidate_domain` computes them once per run.
    """
    boundary = now or datetime.now(timezone.utc)
    counts = LoadCounts(rows_extracted=rows_extracted, rows_duplicate=rows_duplicate)
    table = spec.provenance
    digest = content_hash(assertions, municipalities, rejected)
    with engine.begin() as conn:
        if _confirm_unchanged(conn, source, digest, run_id, counts):
            return counts
        existing = read_frame(conn, select(
            table.c.record_key, table.c.row_hash, table.c.is_current, table.c[spec.key],
            *[table.c[c] for c in spec.raw_names]).where(table.c.source == source))
        _refuse_shrink(source, existing, assertions, max_shrink)

        ids, identity = ({}, IdentityCounts()) if not spec.identities else assign_identities(
            conn, municipalities=municipalities, moves=_moves(existing, assertions, spec), run_id=run_id, now=boundary)
        counts.municipalities_new, counts.municipalities_changed = identity.minted, identity.changed
        counts.municipalities_merged, counts.identity_conflicts = identity.merged, identity.conflicts
        assertions, one_place = _with_identities(assertions, ids, spec)
        if identity.merged:  # merged identities re-keyed some of this source's rows: compare with those
            existing = read_frame(conn, select(table.c.record_key, table.c.row_hash, table.c.is_current)
                                  .where(table.c.source == source))
        _load_assertions(conn, table, source, existing, assertions, boundary, run_id, counts)
        rejected = pd.concat([rejected, one_place], ignore_index=True) if len(one_place) else rejected
        counts.rows_quarantined = len(rejected)
        _load_quarantine(conn, source, rejected, run_id, boundary)
        conn.execute(update(W.load_run).where(and_(W.load_run.c.run_id == run_id, W.load_run.c.source == source))
                     .values(status="loaded", finished_at=datetime.now(timezone.utc), content_hash=digest,
                             **_audit_counts(counts)))
    _refresh_statistics(engine, counts.rows_new + counts.rows_changed + counts.rows_ended + counts.municipalities_new,
                        (table.name, "municipality", "municipality_identifier"))
    return counts


def _confirm_unchanged(conn: Connection, source: str, digest: str, run_id: str, counts: LoadCounts) -> bool:
    """The same staged content as the source's last successful load: the run confirms it (its
    `load_run` row) and nothing is read, compared or written."""
    same = same_as_last_load(conn, source, digest, run_id)
    if same is None:
        return False
    # the same accounting as the load that wrote this content (rows it quarantined at load time,
    # such as sides that became one place, included)
    counts.rows_quarantined = same["rows_quarantined"]
    counts.rows_unchanged = max(counts.rows_extracted - counts.rows_quarantined - counts.rows_duplicate, 0)
    conn.execute(update(W.load_run).where(and_(W.load_run.c.run_id == run_id, W.load_run.c.source == source))
                 .values(status="loaded", finished_at=datetime.now(timezone.utc), content_hash=digest,
                         message=f"the same content as run {same['run_id']}: confirmed without comparing",
                         **_audit_counts(counts)))
    return True


#: Rows written from which PostgreSQL's planner statistics are refreshed at once.
ANALYZE_FROM_ROWS = 5_000


def _refresh_statistics(engine: Engine, written: int, tables: tuple[str, ...]) -> None:
    """After a big load, PostgreSQL's planner must not wait for autovacuum: with stale statistics
    the next run's keyed reads and anti-joins become nested loops (an unchanged rerun of 100k
    rows took 200 s instead of 8)."""
    if engine.dialect.name != "postgresql" or written < ANALYZE_FROM_ROWS:
        return
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE " + ", ".join(tables))


#: No source row moved between identities (see `_moves`).
NO_MOVES = pd.DataFrame({c: [] for c in ("old_1", "old_2", "key_a", "key_b")}, dtype="string")


def _moves(existing: pd.DataFrame, incoming: pd.DataFrame, spec: DomainSpec) -> pd.DataFrame:
    """Source rows still written the same way, with the identities they named (from the stored
    pair key) and the evidence keys they carry now: how a placeholder identity is found to be a
    known place when the resolver improves. A pair's other side anchors the move, so only
    two-sided relations move identities."""
    if existing.empty or incoming.empty or len(spec.identities) != 2 or not spec.raw_names:
        return NO_MOVES
    merged = incoming.merge(existing[existing["is_current"].astype(bool)], on="record_key", suffixes=("", "_old"))
    same = pd.Series(True, index=merged.index)
    for raw in spec.raw_names:
        same &= (merged[raw].astype("string") == merged[f"{raw}_old"].astype("string")).fillna(False)
    merged = merged[same.astype(bool)]
    olds = merged[f"{spec.key}_old"].astype("string").str.split("|", n=1, expand=True)
    if olds.empty:
        return NO_MOVES
    first, second = spec.identities
    return pd.DataFrame({"old_1": olds[0], "old_2": olds[1], "key_a": merged[first],
                         "key_b": merged[second]}).astype("string").dropna().drop_duplicates()


def _with_identities(assertions: pd.DataFrame, ids: dict[str, str],
                     spec: DomainSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staged rows name identities by evidence key; stored rows by identity. Returns (rows, rows
    whose two sides turned out to be one identity — for quarantine)."""
    out = assertions.copy()
    for column in spec.identities:
        mapped = out[column].map(ids)
        if mapped.isna().any():  # a bug, not bad input: staging hands over an identity for every side
            raise RuntimeError(f"{int(mapped.isna().sum())} staged identities have no id "
                               f"(e.g. {out.loc[mapped.isna(), column].iloc[0]!r})")
        out[column] = mapped.astype("string")
    out[spec.key] = compose_key([out[c] for c in spec.key_parts], spec.undirected)
    out["row_hash"] = row_hash(out, list(spec.tracked))
    if len(spec.identities) != 2:
        return out, out.iloc[:0].assign(reject_reason=pd.Series(dtype="string"))
    first, second = spec.identities
    same = (out[first] == out[second]).to_numpy(dtype=bool)
    one_place = out[same].assign(reject_reason="identity: both sides are one municipality ("
                                 + out.loc[same, first] + ") since identities were merged")
    return out[~same].reset_index(drop=True), one_place


def load_register(engine: Engine, *, run_id: str, source: str, municipalities: pd.DataFrame,
                  rejected: pd.DataFrame, rows_extracted: int, rows_duplicate: int = 0,
                  now: datetime | None = None, **_ignored) -> LoadCounts:
    """An official register: every row an identity (minted or found through the crosswalk), its
    attributes the register's, in one transaction. A unit that left the register is not ended:
    relations may still name it (what a dissolved municipality becomes is a later issue)."""
    boundary = now or datetime.now(timezone.utc)
    counts = LoadCounts(rows_extracted=rows_extracted, rows_duplicate=rows_duplicate)
    digest = content_hash(municipalities, rejected)
    with engine.begin() as conn:
        if _confirm_unchanged(conn, source, digest, run_id, counts):
            return counts
        _, identity = assign_identities(conn, municipalities=municipalities, moves=NO_MOVES, run_id=run_id,
                                        now=boundary)  # a register states identities, no relations
        counts.municipalities_new, counts.municipalities_changed = identity.minted, identity.changed
        counts.municipalities_merged, counts.identity_conflicts = identity.merged, identity.conflicts
        counts.rows_new, counts.rows_changed = identity.minted, identity.changed
        counts.rows_unchanged = len(municipalities) - identity.minted - identity.changed
        counts.rows_quarantined = len(rejected)
        _load_quarantine(conn, source, rejected, run_id, boundary)
        conn.execute(update(W.load_run).where(and_(W.load_run.c.run_id == run_id, W.load_run.c.source == source))
                     .values(status="loaded", finished_at=datetime.now(timezone.utc), content_hash=digest,
                             **_audit_counts(counts)))
    _refresh_statistics(engine, counts.rows_new + counts.rows_changed, ("municipality", "municipality_identifier"))
    return counts


def read_register(engine: Engine) -> pd.DataFrame:
    """The official municipalities the warehouse holds (loaded by a register source): what the
    other domains' staging resolves German sides against."""
    m = W.municipality
    with engine.connect() as conn:
        return read_frame(conn, select(m.c.municipality_id, m.c.ags, m.c.name, m.c.kind, m.c.region_name,
                                       m.c.district_name, m.c.postcode, m.c.latitude, m.c.longitude,
                                       m.c.population, m.c.geonames_id)
                          .where(m.c.match_method == "register", m.c.ags.is_not(None), m.c.merged_into.is_(None)))


def coverage(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(partnerships per Land next to the RGRE's counts, official municipalities with a
    partnership per size class): the views `coverage_by_land` and `coverage_by_size`."""
    with engine.connect() as conn:
        by_land = read_frame(conn, text("SELECT land, partnerships, rgre_count FROM coverage_by_land "
                                        "ORDER BY rgre_count DESC"))
        by_size = read_frame(conn, text("SELECT size_class, municipalities, with_partnership, percent "
                                        "FROM coverage_by_size ORDER BY size_class"))
    return by_land, by_size


def _refuse_shrink(source: str, existing: pd.DataFrame, assertions: pd.DataFrame, max_shrink: float) -> None:
    current = int(existing["is_current"].astype(bool).sum()) if len(existing) else 0
    ending = keys_ending(existing, assertions)
    if current and ending > max_shrink * current:
        raise LoadRefused(
            f"{source}: loading would end {ending:,} of the {current:,} current rows the warehouse holds "
            f"(more than {max_shrink:.0%}; this run brings {len(assertions):,} valid rows, "
            f"{len(assertions) - (current - ending):,} of them under keys the warehouse does not hold). Nothing "
            f"was written. If the source really changed that much, rerun with a higher --max-shrink.")


def _load_assertions(conn, table, source, existing, incoming, boundary, run_id, counts: LoadCounts) -> None:
    """Write only what changed: new, changed, reasserted and ended rows carry this run's load_id,
    which is how the end-of-run consolidation finds the relations to recompute."""
    diff = diff_assertions(existing, incoming)
    if len(diff.new):
        fresh = diff.new.assign(first_seen=boundary, changed_at=boundary, is_current=True, ended_at=None,
                                load_id=run_id)
        bulk_insert(conn, table, fresh)
    rewrite = pd.concat([diff.changed, diff.reopened], ignore_index=True)
    if len(rewrite):
        columns = [c for c in rewrite.columns
                   if c in table.c and c not in ("source", "record_key", "first_seen", "changed_at")]
        written = [*columns, "is_current", "ended_at", "load_id", "changed_at"]
        statement = (update(table)
                     .where(and_(table.c.source == bindparam("k_source"), table.c.record_key == bindparam("k_record")))
                     .values({c: bindparam(c) for c in written}))
        rows = rewrite.assign(is_current=True, ended_at=None, load_id=run_id, changed_at=boundary, k_source=source,
                              k_record=rewrite["record_key"])
        conn.execute(statement, records(rows, None, [*written, "k_source", "k_record"]))
    if len(diff.ended):
        statement = (update(table)
                     .where(and_(table.c.source == source, table.c.record_key == bindparam("k_record")))
                     .values(is_current=False, ended_at=boundary, changed_at=boundary, load_id=run_id))
        conn.execute(statement, [{"k_record": key} for key in diff.ended["record_key"]])
    counts.rows_new = len(diff.new) + len(diff.reopened)
    counts.rows_changed = len(diff.changed)
    counts.rows_ended = len(diff.ended)
    counts.rows_unchanged = diff.unchanged


#: The audit row of the partnerships' end-of-run consolidation (one per run, next to the sources' rows).
CONSOLIDATION = PARTNERSHIPS.consolidation


def consolidate_partnerships(engine: Engine, *, run_id: str, now: datetime,
                             check: Callable[[pd.DataFrame, str], object] | None = None) -> LoadCounts:
    return consolidate_domain(engine, PARTNERSHIPS, run_id=run_id, now=now, check=check)


def consolidate_domain(engine: Engine, spec: DomainSpec, *, run_id: str, now: datetime,
                       check: Callable[[pd.DataFrame, str], object] | None = None) -> LoadCounts:
    """Once per run, after the sources: recompute the relations this run's assertions touched
    and write their SCD2 versions at the run's boundary time, in one transaction.

    A failed source kept its previous assertions, so its relations stay as they were.
    `check(frame, suite)` validates the recomputed relations first (the flow passes the GX gate;
    the load layer itself knows no GX); a failure rolls back and the audit row says why.
    """
    table, source_table, key = spec.versions, spec.provenance, spec.key
    counts = LoadCounts()
    start_run(engine, run_id, spec.consolidation, now)
    with engine.begin() as conn:
        settled = settle_placeholders(conn, run_id, now) if spec.settles_placeholders else 0
        touched = select(source_table.c[key]).where(source_table.c.load_id == run_id)
        # relations whose last assertion moved to another key (a changed row) or was never consolidated
        orphaned = select(table.c[key]).where(table.c.is_current == True, ~exists().where(  # noqa: E712
            source_table.c[key] == table.c[key], source_table.c.is_current == True))  # noqa: E712
        affected = pd.Series(sorted({*conn.execute(touched).scalars(), *conn.execute(orphaned).scalars()}),
                             dtype="string")
        assertions = read_keyed(conn, select(source_table.c[key], *[source_table.c[c] for c in spec.rules])
                                .where(source_table.c.is_current == True),  # noqa: E712
                                source_table.c[key], affected.tolist())
        current = read_keyed(conn, select(table.c[key], table.c.row_hash)
                             .where(table.c.is_current == True), table.c[key],  # noqa: E712
                             affected.tolist())
        consolidated = consolidate(assertions, spec)
        if check is not None and len(consolidated):
            report = check(consolidated, spec.version_suite)
            if not report.success:
                failed = [r["expectation"] for r in report.results if not r["success"]]
                raise QualityGateFailed(f"consolidated {spec.name} failed {', '.join(failed)}; "
                                        f"{table.name} versions of this run rolled back")
        diff = apply_versions(conn, table, key, current, consolidated, affected, run_id, now, spec.versioned)
        counts.rows_extracted = len(affected)
        if spec is PARTNERSHIPS:
            counts.partnerships_new, counts.partnerships_changed, counts.partnerships_ended = (
                diff.new, diff.changed, diff.ended)
        counts.rows_new, counts.rows_changed, counts.rows_ended = diff.new, diff.changed, diff.ended
        counts.rows_unchanged = len(affected) - diff.new - diff.changed - diff.ended
        conn.execute(update(W.load_run).where(and_(W.load_run.c.run_id == run_id,
                                                   W.load_run.c.source == spec.consolidation))
                     .values(status="loaded", finished_at=datetime.now(timezone.utc), **_audit_counts(counts),
                             message=f"{len(affected):,} {spec.name} touched by this run recomputed"
                             + (f"; {settled:,} placeholder(s) identified by their twin towns" if settled else "")))
    _refresh_statistics(engine, diff.new + diff.changed + diff.ended, (table.name,))
    return counts


def apply_versions(conn: Connection, table, key: str, current: pd.DataFrame, incoming: pd.DataFrame,
                   affected: pd.Series | None, run_id: str, now: datetime, versioned,
                   stored: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> VersionDiff:
    """The one SCD2 apply: close the current version of changed and ended keys, insert the new
    versions, all at `now`. `current`: key + row_hash of the current versions (of `affected`);
    `stored`: how hashed values become column values (JSON text → objects), if they differ."""
    diff = diff_versions(current, incoming, affected, key=key, versioned=list(versioned))
    if len(diff.closes):
        statement = (update(table)
                     .where(and_(table.c[key] == bindparam("k_key"), table.c.is_current == True))  # noqa: E712
                     .values(valid_to=now, is_current=False))
        conn.execute(statement, [{"k_key": value} for value in diff.closes])
    if len(diff.inserts):
        rows = diff.inserts.assign(valid_from=now, valid_to=None, is_current=True, load_id=run_id)
        bulk_insert(conn, table, stored(rows) if stored else rows)
    return diff


def _load_quarantine(conn: Connection, source: str, rejected: pd.DataFrame, run_id: str, now: datetime) -> None:
    """Insert rejections not already held (same source, record content and reason)."""
    if rejected.empty:
        return
    raw = json.loads(rejected.drop(columns=["reject_reason"]).to_json(orient="records", date_format="iso"))
    rows = pd.DataFrame({
        "source": source,
        "reason": rejected["reject_reason"].astype(str).values,
        "record_key": _fit(rejected["record_key"].astype("string"), W.quarantine.c.record_key.type.length).values
        if "record_key" in rejected else None,  # the whole key stays in raw_record
        "raw_record": raw,
    })
    rows["record_hash"] = [_rejection_hash(r, reason) for r, reason in zip(raw, rows["reason"])]
    rows = rows.drop_duplicates("record_hash")
    held = set(read_frame(conn, select(W.quarantine.c.record_hash).where(W.quarantine.c.source == source))["record_hash"])
    rows = rows[~rows["record_hash"].isin(held)]
    if len(rows):
        conn.execute(insert(W.quarantine), records(rows.assign(first_run_id=run_id, quarantined_at=now), W.quarantine))


#: Columns that change with every run although the record did not (a live run's fetch time).
PER_RUN_COLUMNS = ("extracted_at", "last_seen")


def _rejection_hash(raw: dict, reason: str) -> str:
    """Same record, same reason → same hash, whenever it was fetched."""
    stable = {k: v for k, v in raw.items() if k not in PER_RUN_COLUMNS}
    return hashlib.sha256((json.dumps(stable, sort_keys=True, default=str) + "\x1f" + reason).encode()).hexdigest()


def _fit(values: pd.Series, limit: int) -> pd.Series:
    """Values cut to a column's length (with a visible "…"), NUL removed: a rejected row is stored
    whatever it holds."""
    values = values.str.replace("\x00", "", regex=False)
    return values.where(values.str.len().fillna(0) <= limit, values.str.slice(0, limit - 1) + "…")


def counts_dict(counts: LoadCounts) -> dict:
    return asdict(counts)


def _audit_counts(counts: LoadCounts) -> dict:
    return {k: v for k, v in asdict(counts).items() if k in W.load_run.c}
