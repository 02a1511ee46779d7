"""What a run tells people: failing expectations first with example rows, counts in words,
errors in one line, and quarantine reasons a person understands."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd
import pytest
from sqlalchemy.exc import IntegrityError

from flows.report import counts_in_words, describe_error, quality_markdown, summary_rows
from schemas.records import PARTNERSHIP_ASSERTION
from transforms.quality import validate
from transforms.staging import IDENTITY_REASON, stage

WHEN = datetime(2026, 2, 8, tzinfo=timezone.utc)


def frame(n=4, **overrides):
    data = {"source": ["s"] * n, "record_key": [f"k{i}" for i in range(n)], "municipality_a_id": ["gn:1"] * n,
            "municipality_b_id": [f"gn:{i + 2}" for i in range(n)], "partnership_key": [f"gn:1|gn:{i + 2}" for i in range(n)],
            "source_url": ["u"] * n, "extracted_at": [WHEN] * n, "a_country_code": ["DE"] * n,
            "b_country_code": ["FR"] * n, "is_self_pair": [False] * n, "relation_type": ["unspecified"] * n,
            "start_year": pd.array([1960] * n, dtype="Int64"), "end_year": pd.array([None] * n, dtype="Int64"),
            "raw_name_a": ["Köln"] * n, "raw_name_b": [f"Partner {i}" for i in range(n)]}
    data.update(overrides)
    return pd.DataFrame(data)


def test_quality_report_puts_failures_first_with_example_rows():
    rows = frame(8, start_year=pd.array([1960, 3000, 1970, 3001, 1980, 3002, 3003, 3004], dtype="Int64"))
    report = validate(rows, "partnership_source")
    markdown = quality_markdown({"twincities_dataset": [report]})
    failing = markdown.index("### ❌ ExpectColumnValuesToBeBetween(start_year) — 5 rows")
    assert failing < markdown.index("Passed: ")
    example_rows = [line for line in markdown[failing:markdown.index("Passed: ")].splitlines() if line.startswith("| 3")]
    assert len(example_rows) == 5 and example_rows[0].startswith("| 3000 | k1 |") and "Partner 1" in example_rows[0]
    reason = report.row_reasons.iloc[1]
    assert reason.startswith("start year outside 836–") and "(start_year=3000)" in reason


def test_quarantine_section_groups_reasons_with_examples():
    rejected = pd.DataFrame({"record_key": ["a", "b", "c"], "reject_reason": [
        "line 38 has 9 fields, expected 8", "line 39 has 6 fields, expected 8",
        "identity: both sides resolved to the same place (GeoNames 1): X AU / X GB"]})
    markdown = quality_markdown({}, {"twincities_dataset": rejected})
    assert "3 rows quarantined" in markdown
    assert "| line N has N fields, expected N | 2 | a, b |" in markdown


def test_counts_and_errors_read_as_words_in_one_line():
    counts = {"rows_extracted": 25917, "rows_new": 25906, "rows_quarantined": 11, "partnerships_new": 21889}
    text = counts_in_words(counts)
    assert text.startswith("25,917 extracted: 25,906 new, 0 changed") and "11 quarantined" in text
    assert "partnerships 21,889 new" in text and "LoadCounts" not in text
    db_error = IntegrityError("INSERT INTO municipality ... " + "(?, ?), " * 2000, {"x": "y" * 4000},
                              Exception("UNIQUE constraint failed: municipality.municipality_id"))
    line = describe_error(db_error)
    assert line == "IntegrityError (Exception): UNIQUE constraint failed: municipality.municipality_id"


def test_summary_rows_show_status_and_reason_before_counts():
    @dataclass
    class Outcome:
        source: str
        status: str
        message: str = ""
        counts: dict = field(default_factory=dict)

    [row] = summary_rows([Outcome("wikidata_twinnings", "failed", "HTTP 503 after 5 attempts")])
    assert list(row)[:3] == ["source", "status", "reason"] and row["reason"] == "HTTP 503 after 5 attempts"


@pytest.mark.parametrize("a, b, expected", [
    (("Randwick", "Australia", -33.91, 151.24), ("Randwick", "England, United Kingdom", -33.91, 151.24),
     "both sides resolved to the same place (GeoNames 2208285): Randwick AU / Randwick GB"),
    (("Stryi", "Ukraine", 49.26, 23.85), ("Stryi", "Ukraine", 49.26, 23.85),
     "Stryi UA / Stryi UA — the source pairs a place with its namesake"),
])
def test_self_pairs_are_quarantined_as_a_resolution_problem_in_words(a, b, expected, gazetteer_places, name_index):
    record = {"source": "twincities_dataset", "record_key": "k", "a_name": a[0], "a_country": a[1], "a_lat": a[2],
              "a_lon": a[3], "b_name": b[0], "b_country": b[1], "b_lat": b[2], "b_lon": b[3],
              "relation_type": "unspecified", "source_url": "u", "extracted_at": WHEN}
    staged = stage(PARTNERSHIP_ASSERTION.to_frame([record]), places=gazetteer_places, index=name_index)
    [reason] = staged.rejected["reject_reason"]
    assert reason.startswith(IDENTITY_REASON) and expected in reason
    assert staged.bad_input == 0 and staged.reject_share == 0.0  # not counted against the source's quality
