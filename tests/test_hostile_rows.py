"""Hostile rows in a real source file load and quarantine the same way on SQLite and PostgreSQL.

PostgreSQL rejects a NUL in text and an over-long varchar, SQLite does not: without checks
before the load, one such row failed a whole source in production only. Here every row of
the file is accounted for in `load_run`, on both backends, with the same outcome.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from extractors import twincities_dataset as tc
from schemas import warehouse as W
from schemas.records import PARTNERSHIP_ASSERTION
from transforms.quality import validate
from transforms.staging import stage
from warehouse import load as wh

WHEN = datetime(2026, 2, 8, tzinfo=timezone.utc)
LONG = "A" * 5000
HOSTILE = {  # name of side A (Germany) → what happens to the row
    "Robert'); DROP TABLE partnership;--": "loaded",
    "<script>alert('x')</script>": "loaded",
    "Ber\x1b[31mlin": "loaded",  # ESC: stored raw in provenance, removed from the display name
    "\u202eKöln": "loaded",  # right-to-left override: same
    "Bre\x00men": "quarantined",  # NUL: PostgreSQL cannot store it
    LONG: "quarantined",  # its record key exceeds record_key's 600 characters (its identity key is cut with a digest)
}


def _line(*fields) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    return out.getvalue()


@pytest.fixture(scope="module")
def hostile_file(bundled_body) -> bytes:
    """The real file's header and 30 real lines, then the probe's hostile lines."""
    real = bundled_body("GET", tc.URL).decode("utf-8").splitlines(keepends=True)
    header, rows = real[0], real[1:31]
    text = header + "".join(rows)
    for name in HOSTILE:
        text += _line(name, "Germany", "", "", "Lille", "France", "50.63", "3.06")
    text += _line("Neun", "Germany", "1", "2", "Felder", "France", "1", "2", "extra")  # 9 fields
    text += _line("Sechs", "Germany", "1", "2", "Felder", "France")  # 6 fields
    text += rows[0]  # an exact duplicate
    city1, country1, lat1, lng1, city2, country2, lat2, lng2 = next(csv.reader([rows[1]]))
    text += _line(city1, country1, lat1, lng1, city2, country2, "0.5", "0.5")  # same key, other content
    return text.encode("utf-8") + b"Gr\xfcnstadt,Germany,,,Lille,France,50.63,3.06\n"  # Latin-1, not UTF-8


def test_hostile_rows_are_loaded_or_quarantined_alike_on_every_backend(engine, hostile_file, gazetteer_places,
                                                                      name_index):
    records = tc.parse(hostile_file, extracted_at=WHEN)
    staged = stage(PARTNERSHIP_ASSERTION.to_frame(records), places=gazetteer_places, index=name_index)
    wh.start_run(engine, "r1", tc.SOURCE.name, WHEN)
    counts = wh.load_source(engine, run_id="r1", source=tc.SOURCE.name, assertions=staged.assertions,
                            municipalities=staged.municipalities, rejected=staged.rejected,
                            rows_extracted=staged.rows_extracted, rows_duplicate=staged.duplicates_collapsed,
                            now=WHEN)
    wh.consolidate_partnerships(engine, run_id="r1", now=WHEN, check=validate)

    with engine.connect() as conn:
        audit = conn.execute(select(W.load_run).where(W.load_run.c.source == tc.SOURCE.name)).one()._asdict()
        sources = wh.read_frame(conn, select(W.partnership_source))
        names = set(conn.execute(select(W.municipality.c.name)).scalars())
        quarantine = wh.read_frame(conn, select(W.quarantine))
        partnerships = conn.execute(select(func.count()).select_from(W.partnership)).scalar()

    # every line of the file accounted for, in the audit itself
    assert audit["status"] == "loaded" and audit["rows_extracted"] == 30 + len(HOSTILE) + 5
    assert audit["rows_new"] + audit["rows_changed"] + audit["rows_unchanged"] + audit["rows_quarantined"] \
        + audit["rows_duplicate"] == audit["rows_extracted"]
    assert audit["rows_duplicate"] == 1 and counts.rows_quarantined == len(quarantine)

    raw_names = set(sources["raw_name_a"])
    for name, fate in HOSTILE.items():
        assert (name in raw_names) == (fate == "loaded"), repr(name[:30])
    assert "\u202eKöln" in raw_names and "Ber\x1b[31mlin" in raw_names  # provenance: exactly as written
    assert not any(ch in name for name in names for ch in "\x00\x1b\u202e")  # display names: clean
    assert "Köln" in names or "Cologne" in names

    by_start = {record["a_name_raw"][:4]: reason for record, reason in zip(quarantine["raw_record"], quarantine["reason"])}
    assert "NUL" in by_start["Bre\x00"]
    assert "holds at most 600" in by_start["AAAA"] and "5,021 characters" in by_start["AAAA"]
    assert "has 9 fields" in by_start["Neun"] and "has 6 fields" in by_start["Sech"]
    assert "not valid UTF-8" in by_start["Gr\ufffdn"]
    assert any("duplicate record_key with different content" in r for r in quarantine["reason"])
    assert len(quarantine) == 6 and partnerships == len(set(sources["partnership_key"]))
    assert quarantine["record_key"].str.len().max() <= 600  # quarantine keys fit their column too


def test_rerunning_the_hostile_file_changes_nothing(engine, hostile_file, gazetteer_places, name_index):
    records = tc.parse(hostile_file, extracted_at=WHEN)
    staged = stage(PARTNERSHIP_ASSERTION.to_frame(records), places=gazetteer_places, index=name_index)
    for run in ("r1", "r2"):
        wh.start_run(engine, run, tc.SOURCE.name, WHEN)
        counts = wh.load_source(engine, run_id=run, source=tc.SOURCE.name, assertions=staged.assertions,
                                municipalities=staged.municipalities, rejected=staged.rejected,
                                rows_extracted=staged.rows_extracted, rows_duplicate=staged.duplicates_collapsed)
        wh.consolidate_partnerships(engine, run_id=run, now=WHEN)
    assert (counts.rows_new, counts.rows_changed, counts.rows_ended) == (0, 0, 0)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(W.quarantine)).scalar() == 6
