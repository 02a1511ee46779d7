"""Load layer for identities: evidence keys → surrogate municipality ids, inside a source's load.

Executes `warehouse.identities.assign` against `municipality_identifier`: attaches new
identifiers, mints identities, merges placeholder identities into the place they turned out to
be (recording a redirect) and re-keys the provenance and partnership rows of merged identities,
keeping each partnership's history: a merge changes who a row is about, not the facts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from schemas import warehouse as W
from schemas.domains import RELATION_DOMAINS, DomainSpec
from schemas.warehouse import row_hash
from warehouse.history import attribute_hashes, compose_key, merge_municipalities, split_key
from warehouse.identities import (
    SCHEME_OF_KEY,
    Assignment,
    assign,
    evidence_identifiers,
    id_number,
    remap,
    settle_by_partners,
)
from warehouse.rows import bulk_insert, read_frame, read_keyed, records

KEY_BATCH = 5000


@dataclass
class IdentityCounts:
    minted: int = 0
    changed: int = 0
    identifiers_new: int = 0
    identifiers_repointed: int = 0
    merged: int = 0
    conflicts: int = 0


def assign_identities(conn: Connection, *, municipalities: pd.DataFrame, moves: pd.DataFrame, run_id: str,
                      now: datetime) -> tuple[dict[str, str], IdentityCounts]:
    """Evidence key → municipality_id for one source's staged identities, written in `conn`'s
    transaction. `moves`: see `warehouse.identities.assign`."""
    evidence = evidence_identifiers(municipalities)
    old_ids = pd.concat([moves["old_1"], moves["old_2"]]).dropna().unique().tolist() if len(moves) else []
    known = _known_identifiers(conn, evidence, old_ids)
    next_number = id_number(conn.execute(select(func.max(W.municipality.c.municipality_id))
                                         .where(W.municipality.c.municipality_id.like("m:%"))).scalar()) + 1
    result = assign(evidence, known, next_number, moves)
    counts = IdentityCounts(conflicts=len(result.conflicts))
    _write_identifiers(conn, result, evidence, municipalities, run_id, now, counts)
    municipalities = _parents(conn, municipalities, result)
    counts.minted, counts.changed = _write_municipalities(conn, result, municipalities, run_id)
    if result.redirects:
        _merge(conn, result, run_id, now)
        counts.merged = len(result.redirects)
    return result.ids, counts


def settle_placeholders(conn: Connection, run_id: str, now: datetime) -> int:
    """Placeholders (a QID the register could not place among namesakes) merged into the candidate
    their twin towns identify (`warehouse.identities.settle_by_partners`), over every source's
    current assertions. Runs before the run's consolidation: the re-keyed provenance rows carry
    this run's load_id, so the merged pairs are recomputed with the rest. Returns the merges."""
    m, ps, ident = W.municipality, W.partnership_source, W.municipality_identifier
    if conn.execute(select(ps.c.partnership_key).where(ps.c.load_id == run_id).limit(1)).first() is None:
        return 0  # no assertion changed this run: no new evidence
    open_ = read_frame(conn, select(m.c.municipality_id, m.c.candidates).where(
        m.c.candidates.is_not(None), m.c.wikidata_qid.is_not(None), m.c.merged_into.is_(None),
        m.c.ags.is_(None), m.c.geonames_id.is_(None)))
    if open_.empty:
        return 0
    options = open_.assign(key=open_["candidates"].str.split(";")).explode("key")
    options[["prefix", "value"]] = options["key"].str.split(":", n=1, expand=True)
    options["scheme"] = options["prefix"].map(SCHEME_OF_KEY)
    found = []
    for scheme, values in options.dropna(subset=["scheme"]).groupby("scheme")["value"]:
        found.append(read_keyed(conn, select(ident.c.scheme, ident.c.value, ident.c.municipality_id.label("candidate_id"))
                                .where(ident.c.scheme == scheme), ident.c.value, values.unique().tolist()))
    options = options.merge(pd.concat(found, ignore_index=True), on=["scheme", "value"]) if found else options.iloc[:0]
    if options.empty:
        return 0
    keys = pd.Series(conn.execute(select(ps.c.partnership_key).where(ps.c.is_current == True)).scalars().all(),  # noqa: E712
                     dtype="string")
    sides = keys.str.split("|", n=1, expand=True)
    decided = settle_by_partners(options[["municipality_id", "candidate_id"]],
                                 pd.DataFrame({"a": sides[0], "b": sides[1]}) if len(keys) else pd.DataFrame())
    if decided.empty:
        return 0
    redirects = dict(zip(decided["from_id"], decided["to_id"]))
    conn.execute(update(ident).where(ident.c.municipality_id == bindparam("old"))
                 .values(municipality_id=bindparam("new"), method="partners", changed_at=now, load_id=run_id),
                 [{"old": old, "new": new} for old, new in redirects.items()])
    empty = pd.DataFrame(columns=["scheme", "value", "municipality_id"], dtype="string")
    _merge(conn, Assignment({}, empty, empty, redirects, dict(zip(decided["from_id"], decided["reason"]))), run_id, now)
    # the survivor takes the placeholder's identifiers it lacks (its QID) now, as the next run would
    merged = read_keyed(conn, W.municipality, m.c.municipality_id, sorted(redirects))
    incoming = merged.assign(municipality_id=merged["municipality_id"].map(redirects)).drop(columns=["merged_into"])
    survivors = read_keyed(conn, W.municipality, m.c.municipality_id, sorted(set(redirects.values())))
    _, updates = merge_municipalities(survivors.drop(columns=["merged_into"]), incoming.sort_values("municipality_id"))
    _update_municipalities(conn, updates, run_id)
    return len(redirects)


def _known_identifiers(conn: Connection, evidence: pd.DataFrame, old_ids: list[str]) -> pd.DataFrame:
    table = W.municipality_identifier
    frames = []
    for scheme, values in evidence.groupby("scheme")["value"]:
        frames.append(read_keyed(conn, select(table.c.scheme, table.c.value, table.c.municipality_id)
                                 .where(table.c.scheme == scheme), table.c.value, values.unique().tolist()))
    frames.append(read_keyed(conn, select(table.c.scheme, table.c.value, table.c.municipality_id),
                             table.c.municipality_id, old_ids))
    found = [frame for frame in frames if len(frame)]
    if not found:
        return frames[-1]
    return pd.concat(found, ignore_index=True).drop_duplicates(["scheme", "value"])


def _parents(conn: Connection, municipalities: pd.DataFrame, result: Assignment) -> pd.DataFrame:
    """`part_of` as staged (an evidence key such as `ags:11000000`) → the parent's municipality_id."""
    if "part_of" not in municipalities or municipalities["part_of"].isna().all():
        return municipalities
    keys = municipalities["part_of"].dropna().unique().tolist()
    found = {key: result.ids[key] for key in keys if key in result.ids}
    asked = [key for key in keys if key not in found and ":" in key]
    table = W.municipality_identifier
    for scheme, prefix in (("ags", "ags:"), ("geonames", "gn:"), ("wikidata", "wd:")):
        values = [key[len(prefix):] for key in asked if key.startswith(prefix)]
        rows = read_keyed(conn, select(table.c.value, table.c.municipality_id).where(table.c.scheme == scheme),
                          table.c.value, values)
        found.update({prefix + value: mid for value, mid in zip(rows["value"], rows["municipality_id"])})
    return municipalities.assign(part_of=municipalities["part_of"].map(found).astype("string"))


def _write_identifiers(conn, result: Assignment, evidence, municipalities, run_id, now, counts) -> None:
    table = W.municipality_identifier
    if len(result.attached):
        how = municipalities[["municipality_id", "match_method", "match_score"]].rename(
            columns={"municipality_id": "key"}).drop_duplicates("key")
        first = evidence.merge(how, on="key").drop_duplicates(["scheme", "value"])
        rows = result.attached.merge(first[["scheme", "value", "match_method", "match_score"]],
                                     on=["scheme", "value"], how="left")
        rows["method"] = rows["method"].where(rows["method"] == "merge", rows["match_method"].fillna("evidence"))
        rows = rows.rename(columns={"match_score": "score"}).assign(first_seen=now, changed_at=now, load_id=run_id)
        bulk_insert(conn, table, rows)
        counts.identifiers_new = len(rows)
    if len(result.repointed):
        statement = (update(table).where(table.c.scheme == bindparam("k_scheme"), table.c.value == bindparam("k_value"))
                     .values(municipality_id=bindparam("municipality_id"), method="merge", changed_at=now,
                             load_id=run_id))
        rows = result.repointed.rename(columns={"scheme": "k_scheme", "value": "k_value"})
        conn.execute(statement, records(rows, None, ["k_scheme", "k_value", "municipality_id"]))
        counts.identifiers_repointed = len(rows)


def _write_municipalities(conn, result: Assignment, municipalities: pd.DataFrame, run_id: str) -> tuple[int, int]:
    """Attributes per identity: of several keys now pointing at one identity, the best match."""
    incoming = municipalities.assign(municipality_id=municipalities["municipality_id"].map(result.ids))
    incoming = incoming.assign(_resolved=incoming["geonames_id"].notna()).sort_values(
        ["municipality_id", "_resolved", "match_score"], ascending=[True, False, False], kind="stable")
    incoming = incoming.drop(columns="_resolved").drop_duplicates("municipality_id")
    ids = incoming["municipality_id"].tolist()
    stored = read_keyed(conn, select(W.municipality.c.municipality_id, W.municipality.c.row_hash),
                        W.municipality.c.municipality_id, ids)
    if len(stored):  # rows that would come out as they are need no read and no merge
        would_be = dict(zip(incoming["municipality_id"], attribute_hashes(incoming)))
        unchanged = {mid for mid, held in zip(stored["municipality_id"], stored["row_hash"]) if would_be.get(mid) == held}
        incoming = incoming[~incoming["municipality_id"].isin(unchanged)]
        ids = incoming["municipality_id"].tolist()
    held = set(stored["municipality_id"])
    existing = read_keyed(conn, W.municipality, W.municipality.c.municipality_id, [i for i in ids if i in held])
    inserts, updates = merge_municipalities(existing.drop(columns=["merged_into"], errors="ignore"), incoming)
    if len(inserts):
        bulk_insert(conn, W.municipality, inserts.assign(first_load_id=run_id, last_load_id=run_id))
    _update_municipalities(conn, updates, run_id)
    return len(inserts), len(updates)


def _update_municipalities(conn: Connection, updates: pd.DataFrame, run_id: str) -> None:
    if not len(updates):
        return
    columns = [c for c in updates.columns if c in W.municipality.c and c != "municipality_id"]
    statement = (update(W.municipality).where(W.municipality.c.municipality_id == bindparam("key"))
                 .values({c: bindparam(c) for c in [*columns, "last_load_id"]}))
    rows = updates.assign(last_load_id=run_id).rename(columns={"municipality_id": "key"})
    conn.execute(statement, records(rows, None, [*columns, "last_load_id", "key"]))


def _merge(conn: Connection, result: Assignment, run_id: str, now: datetime) -> None:
    """Record the redirects and move every row that named a merged identity to its survivor."""
    redirects = result.redirects
    final = {old: remap(pd.Series([old]), redirects).iloc[0] for old in redirects}
    conn.execute(insert(W.municipality_redirect), [
        {"from_id": old, "to_id": new, "reason": result.reasons.get(old, "merged")[:2000], "redirected_at": now,
         "load_id": run_id} for old, new in final.items()])
    statement = (update(W.municipality).where(W.municipality.c.municipality_id == bindparam("key"))
                 .values(merged_into=bindparam("merged_into"), last_load_id=run_id))
    conn.execute(statement, [{"key": old, "merged_into": new} for old, new in final.items()])
    conn.execute(update(W.municipality_redirect).where(W.municipality_redirect.c.to_id == bindparam("old"))
                 .values(to_id=bindparam("new")), [{"old": old, "new": new} for old, new in final.items()])
    for spec in RELATION_DOMAINS.values():  # the domains whose keys name municipalities
        _rekey_provenance(conn, spec, final, run_id, now)
        _rekey_versions(conn, spec, final, now)


def _rows_naming(conn: Connection, table, columns: tuple[str, ...], ids: list[str]) -> pd.DataFrame:
    frames = [read_frame(conn, select(table).where(or_(*[table.c[c].in_(ids[i:i + KEY_BATCH]) for c in columns])))
              for i in range(0, len(ids), KEY_BATCH)]
    found = [frame for frame in frames if len(frame)]
    frame = pd.concat(found, ignore_index=True) if len(found) > 1 else (found or frames)[0]
    return frame.drop_duplicates([c.name for c in table.primary_key.columns])


def _provenance_naming(conn: Connection, spec: DomainSpec, ids: list[str]) -> pd.DataFrame:
    """Provenance rows whose key names one of `ids` in an identity position of the key."""
    table, column = spec.provenance, spec.provenance.c[spec.key]
    first, last = spec.identities[0] == spec.key_parts[0], spec.identities[-1] == spec.key_parts[-1]
    frames = []
    for mid in ids:
        conditions = ([column.startswith(f"{mid}|", autoescape=True)] if first else []) + (
            [column.endswith(f"|{mid}", autoescape=True)] if last else [])
        frames.append(read_frame(conn, select(table).where(or_(*conditions))))
    found = [frame for frame in frames if len(frame)]
    frame = pd.concat(found, ignore_index=True) if len(found) > 1 else (found or frames)[0]
    return frame.drop_duplicates(["source", "record_key"])


def _rekeyed(rows: pd.DataFrame, spec: DomainSpec, final: dict[str, str], hashed: tuple[str, ...]) -> pd.DataFrame:
    """Rows with their identity parts moved to the survivors, key and row hash recomputed."""
    parts = split_key(rows[spec.key], spec)
    for column in spec.identities:
        parts[column] = remap(parts[column], final)
    key = compose_key([parts[c] for c in spec.key_parts], spec.undirected)
    if spec.undirected:  # the stored sides are sorted like the key
        parts = split_key(key, spec)
    rows = rows.assign(**{spec.key: key, **{c: parts[c] for c in spec.identities if c in rows.columns}})
    rows = rows.astype({c: "Int64" for c in spec.integer_columns if c in rows.columns})
    rows["row_hash"] = row_hash(rows, list(hashed))
    return rows


def _rekey_provenance(conn: Connection, spec: DomainSpec, final: dict[str, str], run_id: str, now: datetime) -> None:
    """Provenance rows of merged identities: new key; `load_id` = this run, so the end-of-run
    consolidation recomputes their relations."""
    table = spec.provenance
    rows = _provenance_naming(conn, spec, list(final))
    if rows.empty:
        return
    rows = _rekeyed(rows, spec, final, spec.tracked)
    columns = [spec.key, "row_hash", *[c for c in spec.identities if c in table.c]]
    statement = (update(table).where(table.c.source == bindparam("k_source"), table.c.record_key == bindparam("k_record"))
                 .values({**{c: bindparam(c) for c in columns}, "load_id": run_id, "changed_at": now}))
    conn.execute(statement, records(rows.rename(columns={"source": "k_source", "record_key": "k_record"}), None,
                                    [*columns, "k_source", "k_record"]))


def _rekey_versions(conn: Connection, spec: DomainSpec, final: dict[str, str], now: datetime) -> None:
    """Every version of a relation naming a merged identity moves to the survivor's relation,
    valid_from kept. Where the survivor's relation already has a current version, the older one
    stays current and the other is closed now; two versions opened at the same instant are one."""
    table, key = spec.versions, spec.key
    rows = _rows_naming(conn, table, spec.identities, list(final))
    if rows.empty:
        return
    rows["_old_key"] = rows[key]
    rows = _rekeyed(rows, spec, final, spec.versioned)
    survivors = read_keyed(conn, select(table).where(table.c.is_current == True),  # noqa: E712
                           table.c[key], rows[key].unique().tolist())
    survivors["_old_key"] = survivors[key]
    both = pd.concat([rows, survivors], ignore_index=True) if len(survivors) else rows
    statement = delete(table).where(table.c[key] == bindparam("k"), table.c.valid_from == bindparam("v"))
    conn.execute(statement, [{"k": k, "v": v} for k, v in zip(both["_old_key"], both["valid_from"])])
    both["_instant"] = pd.to_datetime(both["valid_from"], utc=True)
    both = both.sort_values([key, "_instant", "is_current"], ascending=[True, True, False], kind="stable")
    both = both.drop_duplicates([key, "_instant"])
    current = both["is_current"].astype(bool)
    later = current & both[key].where(current).duplicated() & current
    both.loc[later, "is_current"] = False
    both.loc[later, "valid_to"] = now
    conn.execute(insert(table), records(both, table))
