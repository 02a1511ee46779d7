"""`citylinks export`: the analyst views declared in schemas/exports.py as typed Parquet or CSV
files, with a Frictionless datapackage.json and ATTRIBUTION.md saying which licences apply to
which rows.

Every column is cast to its declared type here — SQLite returns dates and timestamps as text and
booleans as integers — so pandas, DuckDB and Polars read the files as they are. The files are
written into a directory beside the target and renamed into place at the end: a failed export
leaves the previous export, or nothing.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, inspect, select, text

from schemas import warehouse as W
from schemas.domains import RELATION_DOMAINS
from schemas.exports import (
    DATASETS,
    LICENCES_COLUMN,
    TYPES,
    UNKNOWN_LICENCE,
    Dataset,
    IdentitySources,
    KeyPrefix,
    SourcesColumn,
    StatedBy,
)
from schemas.licences import LICENCES, Licence
from warehouse.history import compose_key, split_key
from warehouse.rows import read_frame, read_snapshot

FORMATS = ("parquet", "csv")
#: The package name that marks a directory as a previous export (which may be replaced).
PACKAGE_NAME = "citylinks-export"
PACKAGE_FILES = ("datapackage.json", "ATTRIBUTION.md")
ARROW_TYPES = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
               "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}
CSV_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class NoRunYet(Exception):
    """Nothing to export: no run has loaded the warehouse."""


class ExportRefused(Exception):
    """The target holds something other than a previous export; nothing was written."""


class ExportError(Exception):
    """A value that does not fit its declared type, or a view whose columns are not the declared ones."""


@dataclass(frozen=True)
class Written:
    file: str
    rows: int | None  # None: datapackage.json, ATTRIBUTION.md
    bytes: int
    sha256: str


def export_warehouse(engine: Engine, target: Path, fmt: str, *, now: datetime | None = None) -> list[Written]:
    """Every dataset of schemas/exports.py as `<name>.<fmt>` in `target`, replacing a previous export."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    target = Path(target).absolute()
    refuse_foreign(target)
    now = now or datetime.now(timezone.utc)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    try:
        with read_snapshot(engine) as conn:
            run = last_run(conn)
            sources = read_frame(conn, select(W.source).order_by(W.source.c.source))
            licence_of = dict(zip(sources["source"], sources["licence_id"].fillna(UNKNOWN_LICENCE)))
            written, licence_rows = [], {}
            for dataset in DATASETS:  # one dataset in memory at a time: read, write, keep its licence counts
                frame = read_dataset(conn, dataset, licence_of)
                written.append(_write(staging, dataset, frame, fmt))
                if LICENCES_COLUMN in frame:
                    licence_rows[dataset.name] = licence_counts(frame)
                del frame
        package = datapackage(written, fmt, sources, licence_rows, run, now)
        (staging / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
        (staging / "ATTRIBUTION.md").write_text(attribution_text(package, sources), encoding="utf-8")
        written += [_written(staging / name, None) for name in PACKAGE_FILES]
        _replace(target, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def last_run(conn) -> dict:
    """The last run that loaded anything, with how its steps ended; NoRunYet where there is none."""
    if "load_run" not in inspect(conn).get_table_names():
        raise NoRunYet("the warehouse has no tables yet: run `citylinks run` first")
    r = W.load_run
    row = conn.execute(select(r.c.run_id, func.min(r.c.started_at), func.max(r.c.finished_at))
                       .where(r.c.status == "loaded").group_by(r.c.run_id)
                       .order_by(func.max(r.c.finished_at).desc()).limit(1)).first()
    if row is None:
        raise NoRunYet("no run has loaded the warehouse yet: run `citylinks run` first")
    statuses = dict(conn.execute(select(r.c.status, func.count()).where(r.c.run_id == row[0]).group_by(r.c.status))
                    .all())
    return {"run_id": row[0], "started_at": _iso(row[1]), "finished_at": _iso(row[2]), "steps": statuses}


def read_dataset(conn, dataset: Dataset, licence_of: dict[str, str]) -> pd.DataFrame:
    frame = read_frame(conn, text(dataset.sql))
    if list(frame.columns) != list(dataset.columns):
        raise ExportError(f"{dataset.name}: the view has columns {list(frame.columns)}, schemas/exports.py "
                          f"declares {list(dataset.columns)}")
    typed = pd.DataFrame({name: cast(frame[name], kind, f"{dataset.name}.{name}")
                          for name, kind in dataset.columns.items()}, index=frame.index)
    if dataset.sources:
        names = row_sources(conn, dataset.sources, frame)
        typed[LICENCES_COLUMN] = pd.Series([";".join(sorted({licence_of.get(n, UNKNOWN_LICENCE) for n in row}))
                                            or UNKNOWN_LICENCE for row in names], index=frame.index, dtype=object)
    return typed


def cast(values: pd.Series, kind: str, where: str) -> pd.Series:
    """A column in its declared type: nullable Int64 and boolean, float64, date objects, UTC
    timestamps in microseconds, str."""
    try:
        if kind == "timestamp":
            return pd.to_datetime(values, utc=True, format="ISO8601").dt.as_unit("us")
        present = [v if ok else None for v, ok in zip(values.tolist(), values.notna().tolist())]
        if kind == "string":
            return pd.Series([v if v is None or isinstance(v, str) else str(v) for v in present], index=values.index,
                             dtype=object)
        if kind == "int":
            return pd.Series(pd.array([v if v is None else _integer(v) for v in present], dtype="Int64"),
                             index=values.index)
        if kind == "float":
            return pd.Series([np.nan if v is None else float(v) for v in present], index=values.index,
                             dtype="float64")
        if kind == "bool":
            return pd.Series(pd.array([v if v is None else _boolean(v) for v in present], dtype="boolean"),
                             index=values.index)
        if kind == "date":
            return pd.Series([v if v is None else _date(v) for v in present], index=values.index, dtype=object)
    except (TypeError, ValueError) as exc:
        raise ExportError(f"{where}: a value does not fit type {kind!r}: {exc}") from None
    raise ExportError(f"{where}: unknown type {kind!r} (known: {', '.join(TYPES)})")


def _missing(value) -> bool:
    return value is None or (not isinstance(value, (str, bytes)) and bool(pd.isna(value)))


def _integer(value) -> int:
    number = int(value)
    if number != value:
        raise ValueError(f"{value!r}")
    return number


def _boolean(value) -> bool:
    if isinstance(value, str) or value not in (0, 1):
        raise ValueError(f"{value!r}")
    return bool(value)


def _date(value) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)")


def _iso(moment) -> str | None:
    if moment is None:
        return None
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the sources of each row ------------------------------------------------------------------


def row_sources(conn, sourcing, frame: pd.DataFrame) -> list[set[str]]:
    """Per row, the names of the sources it comes from (schemas/exports.py says how to find them)."""
    if isinstance(sourcing, SourcesColumn):
        return [set() if _missing(v) else {s.strip() for s in str(v).split(",") if s.strip()}
                for v in frame[sourcing.column]]
    if isinstance(sourcing, KeyPrefix):
        return [set() if _missing(v) or ":" not in v else {v.split(":", 1)[0]} for v in frame[sourcing.column]]
    if isinstance(sourcing, StatedBy):
        stated = read_frame(conn, text("SELECT relation_key, source FROM provenance WHERE domain = :domain "
                                       "AND is_current").bindparams(domain=sourcing.domain))
        by_key = _grouped(stated["relation_key"], stated["source"])
        keys = compose_key([frame[c] for c in sourcing.key_columns])
        return [set(by_key.get(k, ())) for k in keys]
    if isinstance(sourcing, IdentitySources):
        return _identity_sources(conn, sourcing, frame)
    raise TypeError(f"unknown sourcing {sourcing!r}")


def _identity_sources(conn, sourcing: IdentitySources, frame: pd.DataFrame) -> list[set[str]]:
    naming = _sources_naming_identities(conn)
    out = []
    for row in frame[["municipality_id", "ags", "match_method", "geonames_id"]].itertuples(index=False):
        found = set()
        if not _missing(row.ags) or row.match_method == "register":
            found.add(sourcing.register)
        if not _missing(row.geonames_id):
            found.add(sourcing.gazetteer)
        out.append(found or set(naming.get(row.municipality_id, ())))
    return out


def _sources_naming_identities(conn) -> dict[str, set[str]]:
    """Identity -> the sources whose current assertions name it (its name is theirs)."""
    pairs = []
    for spec in RELATION_DOMAINS.values():
        table = spec.provenance
        stated = read_frame(conn, select(table.c.source, table.c[spec.key])
                            .where(table.c.is_current == True))  # noqa: E712
        ids = split_key(stated[spec.key], spec)
        pairs += [pd.DataFrame({"municipality_id": ids[part], "source": stated["source"]}) for part in spec.identities]
    named = pd.concat(pairs) if pairs else pd.DataFrame(columns=["municipality_id", "source"])
    return _grouped(named["municipality_id"], named["source"])


def _grouped(keys: pd.Series, sources: pd.Series) -> dict[str, set[str]]:
    """Key -> the set of its sources (a plain loop: groupby(...).agg(set) takes seconds here)."""
    out: dict[str, set[str]] = {}
    for key, source in zip(keys.tolist(), sources.tolist()):
        out.setdefault(key, set()).add(source)
    return out


# --- writing ----------------------------------------------------------------------------------


def _write(directory: Path, dataset: Dataset, frame: pd.DataFrame, fmt: str) -> Written:
    path = directory / f"{dataset.name}.{fmt}"
    if fmt == "parquet":
        schema = pa.schema([pa.field(name, ARROW_TYPES[kind]) for name, kind in dataset.fields.items()])
        pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), path)
    else:
        csv_text(frame, dataset.fields).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return _written(path, len(frame))


def _written(path: Path, rows: int | None) -> Written:
    return Written(path.name, rows, path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())


def csv_text(frame: pd.DataFrame, fields: dict[str, str]) -> pd.DataFrame:
    """Every value as the text CSV readers type without help: ISO dates, UTC timestamps with Z,
    true/false, floats with a decimal point (so a column of whole amounts still reads as
    numbers), empty for NULL."""
    out = {}
    for name, kind in fields.items():
        column = frame[name]
        if kind == "timestamp":
            out[name] = column.dt.strftime(CSV_TIMESTAMP)
        elif kind in ("date", "bool", "float"):
            write = {"date": date.isoformat, "bool": lambda v: "true" if v else "false",
                     "float": lambda v: repr(float(v))}[kind]
            out[name] = [None if _missing(v) else write(v) for v in column.astype(object)]
        else:
            out[name] = column
    return pd.DataFrame(out, index=frame.index)


def datapackage(written: list[Written], fmt: str, sources: pd.DataFrame, licence_rows: dict[str, dict[str, int]],
                run: dict, now: datetime) -> dict:
    """The Frictionless Data Package: a resource per file with its typed fields and licences."""
    resources, used = [], set()
    for dataset, file in zip(DATASETS, written):
        resource = {"name": dataset.name, "path": file.file, "format": fmt, "description": dataset.description,
                    "bytes": file.bytes, "hash": f"sha256:{file.sha256}",
                    "rows": file.rows, "schema": _table_schema(dataset, fmt)}
        if fmt == "csv":
            resource.update(mediatype="text/csv", encoding="utf-8")
        else:
            resource["mediatype"] = "application/vnd.apache.parquet"
        if dataset.name in licence_rows:
            counts = licence_rows[dataset.name]
            used |= set(counts)
            resource["licenses"] = [licence_entry(i) for i in sorted(counts)]
            resource["licence_rows"] = counts
        resources.append(resource)
    return {
        "name": PACKAGE_NAME, "title": "CityLinks: twinnings, city networks and funding of German municipalities",
        "profile": "data-package", "created": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "citylinks": {"format": fmt, "last_run": run},
        "licenses": [licence_entry(i) for i in sorted(used)],
        "sources": [{"title": r.source, "path": r.url, "licence_id": r.licence_id, "attribution": r.attribution}
                    for r in sources.itertuples()],
        "resources": resources,
    }


def _table_schema(dataset: Dataset, fmt: str) -> dict:
    schema: dict = {"fields": _fields(dataset, fmt)}
    if dataset.primary_key:
        schema["primaryKey"] = list(dataset.primary_key)
    if dataset.references:
        schema["foreignKeys"] = [{"fields": [column], "reference": {"resource": dataset_name, "fields": [target]}}
                                 for column, dataset_name, target in dataset.references]
    return schema


def _fields(dataset: Dataset, fmt: str) -> list[dict]:
    fields = []
    for name, kind in dataset.fields.items():
        field = {"name": name, "type": TYPES[kind]}
        if kind == "timestamp" and fmt == "csv":
            field["format"] = CSV_TIMESTAMP
        if name == LICENCES_COLUMN:
            field["description"] = "SPDX ids of the licences of the sources of this row, ';'-separated (ATTRIBUTION.md)"
        fields.append(field)
    return fields


def licence_entry(licence_id: str) -> dict:
    """A Data Package licence: SPDX id, title and URL from schemas/licences.py."""
    known = LICENCES.get(licence_id)
    if known is None:
        return {"name": licence_id, "title": "no licence recorded for the source: check before reuse"}
    return {"name": known.id, "title": known.name, **({"path": known.url} if known.url else {})}


def attribution_text(package: dict, sources: pd.DataFrame) -> str:
    """ATTRIBUTION.md: per licence the files and rows under it, share-alike first; every source
    with its credit and URL."""
    run, fmt = package["citylinks"]["last_run"], package["citylinks"]["format"]
    steps = ", ".join(f"{n} {status}" for status, n in sorted(run["steps"].items()))
    rows_under: dict[str, list[str]] = {}
    for resource in package["resources"]:
        for licence_id, rows in resource.get("licence_rows", {}).items():
            rows_under.setdefault(licence_id, []).append(f"| {resource['path']} | {rows:,} | {resource['rows']:,} |")
    credits = sources.assign(licence_id=sources["licence_id"].fillna(UNKNOWN_LICENCE))
    credited = {i: "; ".join(f"{r.source} ({r.attribution})" for r in group.itertuples())
                for i, group in credits.groupby("licence_id")}
    order = sorted(rows_under, key=lambda i: (not _licence(i).share_alike, not _licence(i).attribution_required, i))
    lines = [
        "# Attribution and licences", "",
        f"CityLinks export of {package['created']} ({fmt} files). Warehouse state: the last loaded run "
        f"`{run['run_id']}`, started {run['started_at']}, finished {run['finished_at']} ({steps}).", "",
        "The rows come from sources under different licences. Every file whose rows come from sources has a column "
        "`licences`: the SPDX ids of the licences of that row's sources, `;`-separated. Reuse a row under all of "
        f"them. `provenance.{fmt}` has every assertion with the page it was taken from (`source_url`: for rows "
        "from Wikipedia the article to credit). Names, AGS, Länder and coordinates of municipalities come from "
        f"their identities: `municipalities.{fmt}` says which licences apply to each (the official register, "
        "GeoNames, or the sources naming it). The files without the column are counts over the others and the "
        "warehouse's own records (runs, sources): credit the sources below when you publish them.", "",
    ]
    for licence_id in (i for i in order if _licence(i).share_alike):
        known = _licence(licence_id)
        lines += [f"## Share alike: {licence_id}", "",
                  f"Rows marked `{licence_id}` come from {credited.get(licence_id, 'no source in the source table')}. "
                  f"Whoever publishes them, or data derived from them, must credit their sources and share the "
                  f"result under the same licence ({known.name}, {known.url}). To publish without that "
                  f"obligation, leave out the rows whose `licences` contain `{licence_id}`.", ""]
    lines += ["## Licences: files and rows", ""]
    for licence_id in order:
        known = _licence(licence_id)
        terms = ("attribution required" if known.attribution_required else
                 "no attribution required (crediting the source is still good practice)")
        lines += [f"### {licence_id}: {known.name}", "",
                  " — ".join(filter(None, [known.url, terms + ("; share alike" if known.share_alike else "")])) + ".",
                  f"Sources: {credited.get(licence_id, '-')}.", "",
                  "| file | rows under it | rows in file |", "|---|---:|---:|", *rows_under[licence_id], ""]
    lines += ["## Sources", ""]
    for r in sources.itertuples():
        recorded = f" Recorded: {r.recorded}." if isinstance(r.recorded, str) else ""
        lines.append(f"- **{r.source}** ({r.domain}): {r.licence} (`{r.licence_id or UNKNOWN_LICENCE}`). "
                     f"Credit: {r.attribution}. URL: {r.url}.{recorded}")
    return "\n".join(lines) + "\n"


def _licence(licence_id: str) -> Licence:
    return LICENCES.get(licence_id) or Licence(licence_id, "no licence recorded for the source: check before reuse",
                                               "", True, False)


def licence_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Licence id -> rows of the frame under it (a row under several counts for each)."""
    counts = Counter(licence_id for value in frame[LICENCES_COLUMN] for licence_id in value.split(";"))
    return dict(sorted(counts.items()))


# --- into place -------------------------------------------------------------------------------


def refuse_foreign(target: Path) -> None:
    """A target that is new, empty or a previous export (all its files named by its datapackage.json)
    may be (re)placed; anything else is someone's data."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ExportRefused(f"{target} exists and is not a directory")
    if not target.exists():
        return
    present = {p.name for p in target.iterdir()}
    if not present:
        return
    try:
        package = json.loads((target / "datapackage.json").read_text(encoding="utf-8"))
        ours = package.get("name") == PACKAGE_NAME
        listed = {r["path"] for r in package.get("resources", [])} | set(PACKAGE_FILES)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        ours, listed = False, set()
    if not ours:
        raise ExportRefused(f"{target} is not empty and holds no previous export (no datapackage.json of "
                            f"{PACKAGE_NAME}); choose a new or empty directory")
    extra = sorted(present - listed)
    if extra:
        raise ExportRefused(f"{target} holds a previous export and files it did not write ({', '.join(extra[:5])}); "
                            "move them or choose another directory")


def _replace(target: Path, staging: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return
    refuse_foreign(target)  # again: something may have been put there while the views were read
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)  # the new export is in place either way
