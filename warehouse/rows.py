"""DataFrames in and out of the database: batched keyed reads and DB-API parameter rows."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Select, false, select
from sqlalchemy.engine import Connection


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
    """DataFrame rows as DB-API parameters: plain Python scalars, None for missing."""
    columns = columns or [c for c in frame.columns if c in table.c]
    out = frame[columns].astype(object)
    out = out.where(out.notna(), None)
    rows = out.to_dict("records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                row[key] = value.to_pydatetime()
            elif hasattr(value, "item") and not isinstance(value, (str, bytes)):
                row[key] = value.item()  # numpy scalar → Python
    return rows
