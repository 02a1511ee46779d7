"""Quality gate: GX suites find the bad rows (for quarantine) and table-level failures."""
from datetime import date, datetime, timezone

import pandas as pd

from transforms.quality import validate

WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


def staged(**columns):
    n = len(next(iter(columns.values())))
    base = {
        "source": ["s"] * n, "record_key": [str(i) for i in range(n)],
        "municipality_a_id": [f"gn:{i}" for i in range(n)], "municipality_b_id": [f"gn:{i + 100}" for i in range(n)],
        "partnership_key": [f"gn:{i}|gn:{i + 100}" for i in range(n)], "source_url": ["u"] * n,
        "extracted_at": [WHEN] * n, "a_country_code": ["DE"] * n, "b_country_code": ["FR"] * n,
        "is_self_pair": [False] * n, "relation_type": ["unspecified"] * n,
        "start_year": pd.array([None] * n, dtype="Int64"), "end_year": pd.array([None] * n, dtype="Int64"),
    }
    base.update(columns)
    frame = pd.DataFrame(base)
    for column in ("source", "record_key", "municipality_a_id", "municipality_b_id", "partnership_key",
                   "a_country_code", "b_country_code", "relation_type"):
        frame[column] = frame[column].astype("string")
    return frame


def test_clean_frame_passes():
    report = validate(staged(start_year=pd.array([1958, None, 2001], dtype="Int64")), "partnership_source",
                      today=date(2026, 11, 23))
    assert report.success and report.failing_rows == 0
    assert all(r["success"] for r in report.results)


def test_each_bad_row_is_named_with_the_failed_expectation():
    frame = staged(
        start_year=pd.array([1958, 3000, 1990, 1990, 700], dtype="Int64"),
        end_year=pd.array([None, None, 1980, None, None], dtype="Int64"),
        b_country_code=pd.array(["FR", "FR", "FR", "ZZ", "FR"], dtype="string"),
        is_self_pair=[False, False, False, False, True],
    )
    frame.loc[0, "municipality_b_id"] = pd.NA
    report = validate(frame, "partnership_source", today=date(2026, 11, 23))
    reasons = report.row_reasons
    assert "ExpectColumnValuesToNotBeNull(municipality_b_id)" in reasons[0]
    assert "ExpectColumnValuesToBeBetween(start_year)" in reasons[1]
    assert "ExpectColumnPairValuesAToBeGreaterThanB(end_year,start_year)" in reasons[2]
    assert "ExpectColumnValuesToBeInSet(b_country_code)" in reasons[3]
    assert "is_self_pair" in reasons[4] and "start_year" in reasons[4]
    assert report.failing_rows == 5 and not report.success


def test_duplicate_keys_fail_compound_uniqueness():
    frame = staged(record_key=pd.array(["k", "k", "j"], dtype="string"))
    report = validate(frame, "partnership_source")
    assert report.row_reasons.notna().tolist() == [True, True, False]


def test_empty_frame_is_a_table_level_failure():
    report = validate(staged(start_year=pd.array([], dtype="Int64")), "partnership_source")
    assert not report.success and any("RowCount" in f for f in report.table_failures)
