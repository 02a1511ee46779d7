"""DataFrames in and out of the database: batched keyed reads and DB-API parameter rows."""
from __future__ import annotations

import json
from contextlib import contextmanager

import pandas as pd
from sqlalchemy import JSON, Engine, Select, false, select
from sqlalchemy.engine import Connection


@contextmanager
def read_snapshot(engine: Engine):
    """One read transaction for several queries: an export or a report taken while a run loads
    shows one state of the warehouse, not a mix."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            yield conn
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN")  # pysqlite opens no transaction for reads by itself
        yield conn


def read_frame(conn: Connection, statement) -> pd.DataFrame:
    result = conn.execute(statement)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


#: Keys per IN (...) list: under SQLite's and PostgreSQL's parameter limits.
KEY_BATCH = 5000


def read_keyed(conn: Connection, statement, key_column, keys: list) -> pd.DataFrame:
    """Rows of `statement` (or a whole table) whose key is in `keys`, read in batches: a load reads
    what it needs, not the table."""
    if not isinstance(statement, Select):
        statement = select(statement)
    rows, columns = [], None
    for i in range(0, len(keys), KEY_BATCH):
        result = conn.execute(statement.where(key_column.in_(keys[i:i + KEY_BATCH])))
        columns = list(result.keys())
        rows.extend(result.fetchall())
    if columns is None:
        return read_frame(conn, statement.where(false()))
    return pd.DataFrame(rows, columns=columns)


def records(frame: pd.DataFrame, table=None, columns: list[str] | None = None) -> list[dict]:
    """DataFrame rows as DB-API parameters: plain Python scalars, None for missing. Built column
    by column (DataFrame.to_dict per row boxed every value: a third of a cold load's time)."""
    columns = columns or [c for c in frame.columns if c in table.c]
    values = [_python_values(frame[c]) for c in columns]
    return [dict(zip(columns, row)) for row in zip(*values)]


def _python_values(column: pd.Series) -> list:
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in column]
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return column.to_numpy(dtype=object, na_value=None).tolist()
    if dtype == object:
        if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):  # the common case, no per-value work
            return column.where(column.notna(), None).tolist()
        return [_python_value(v) for v in column.tolist()]
    return column.astype(object).where(column.notna(), None).tolist()


def _python_value(value):
    if value is None or (not isinstance(value, (str, bytes, list, dict)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()  # numpy scalar → Python
    return value


def bulk_insert(conn: Connection, table, frame: pd.DataFrame) -> None:
    """Insert a frame's rows into `table` within `conn`'s transaction, bypassing SQLAlchemy's
    per-row parameter building: PostgreSQL COPY, SQLite one prepared executemany (a third of a
    cold load went into building parameter dicts)."""
    columns = [c.name for c in table.c if c.name in frame.columns]
    if frame.empty or not columns:
        return
    rows = list(zip(*(_python_values(frame[c]) for c in columns)))
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if conn.dialect.name == "postgresql":
        json_columns = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
        if json_columns:  # COPY takes JSON as text
            rows = [tuple(json.dumps(v) if i in json_columns and v is not None else v for i, v in enumerate(row))
                    for row in rows]
        cursor = conn.connection.cursor()
        try:
            with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    # the column types' own conversions (SQLite stores DateTime as SQLAlchemy's string format,
    # which later comparisons of that column rely on)
    processors = [table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in columns]
    if any(processors):
        rows = [tuple(v if p is None or v is None else p(v) for v, p in zip(row, processors)) for row in rows]
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})", rows)
