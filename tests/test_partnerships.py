"""Pure partnership transforms: cleaning, years, dedupe, undirected pairs, consolidation."""
from datetime import datetime, timezone

import pandas as pd

from schemas.records import PARTNERSHIP_ASSERTION
from schemas.warehouse import row_hash
from transforms import partnerships as P
from warehouse.history import consolidate

WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


def frame(*rows):
    base = {"source": "s", "source_url": "u", "extracted_at": WHEN}
    return PARTNERSHIP_ASSERTION.to_frame([{**base, **r} for r in rows])


def test_years_written_any_way():
    raw = pd.Series(["1958?", "c. 1990", "seit 04. November 2005", "seit 1989", "1995-02-18", "+1953",
                     "04.11.2005", None, "unknown", "ca. 1970er"], dtype="string")
    assert P.parse_year(raw).tolist() == [1958, 1990, 2005, 1989, 1995, 1953, 2005, pd.NA, pd.NA, 1970]


def test_years_wider_than_four_digits_are_read_whole_not_cut():
    raw = pd.Series(["99999", "+99999-01-01", "12345678901234567890"], dtype="string")
    assert P.parse_year(raw).tolist() == [99999, 99999, pd.NA]  # for the gate to reject; absurd widths: none


def test_control_and_bidi_characters_leave_names_used_for_matching():
    names = pd.Series(["\u202eKöln", "Ber\x1b[31mlin", "Bonn\u200b", "Zürich"], dtype="string")
    assert P.clean_names(names).tolist() == ["Köln", "Ber[31mlin", "Bonn", "Zürich"]


def test_clean_decodes_entities_and_flags_approximate_years():
    out = P.clean(frame(
        {"record_key": "1", "a_name": "Fr&ouml;ndenberg&amp;Ruhr", "b_name": " Kraków ", "a_country": "Deutschland",
         "b_country": "POL", "start_raw": "c. 1990"},
        {"record_key": "2", "a_name": "Київ", "b_name": "&#1052;&#1086;&#1089;&#1082;&#1074;&#1072;", "start_raw": "1958"},
    ))
    assert out["a_name"].tolist() == ["Fröndenberg&Ruhr", "Київ"]
    assert out["b_name"].tolist() == ["Kraków", "Москва"]
    assert out["a_country_code"].tolist()[0] == "DE" and out["b_country_code"].tolist()[0] == "PL"
    assert out["start_year"].tolist() == [1990, 1958]
    assert out["start_approximate"].tolist() == [True, False]


def test_unknown_relation_type_is_rejected_not_dropped():
    out = P.clean(frame({"record_key": "1", "a_name": "A", "b_name": "B", "relation_type": "sister"}))
    assert "unknown relation_type sister" in out.loc[0, "reject_reason"]


def test_dedupe_collapses_exact_copies_and_rejects_conflicts():
    rows = frame(
        {"record_key": "k1", "a_name": "A", "b_name": "B"},
        {"record_key": "k1", "a_name": "A", "b_name": "B"},
        {"record_key": "k1", "a_name": "A", "b_name": "C"},
        {"record_key": "k2", "a_name": "A", "b_name": "D"},
    )
    unique, rejected = P.dedupe(rows)
    assert unique["b_name"].tolist() == ["B", "D"]
    assert rejected["b_name"].tolist() == ["C"]
    assert rejected["reject_reason"].str.contains("duplicate").all()


def test_pair_is_undirected_and_flags_self_pairs():
    rows = pd.DataFrame({"municipality_a_id": ["gn:2", "gn:1", "gn:3"], "municipality_b_id": ["gn:1", "gn:2", "gn:3"]},
                        dtype="string")
    out = P.pair(rows)
    assert out["partnership_key"].tolist() == ["gn:1|gn:2", "gn:1|gn:2", "gn:3|gn:3"]
    assert out["is_self_pair"].tolist() == [False, False, True]


def test_consolidate_prefers_specific_relation_and_earliest_start():
    assertions = pd.DataFrame({
        "partnership_key": ["gn:1|gn:2", "gn:1|gn:2", "gn:1|gn:3"],
        "relation_type": ["unspecified", "friendship", "unspecified"],
        "start_year": pd.array([1990, 1985, None], dtype="Int64"),
        "end_year": pd.array([None, None, None], dtype="Int64"),
    })
    out = consolidate(assertions).set_index("partnership_key")
    assert out.loc["gn:1|gn:2", "relation_type"] == "friendship"
    assert out.loc["gn:1|gn:2", "start_year"] == 1985
    assert out.loc["gn:1|gn:3", "municipality_b_id"] == "gn:3"
    assert pd.isna(out.loc["gn:1|gn:3", "start_year"])


def test_row_hash_is_stable_and_sensitive():
    a = pd.DataFrame({"x": ["1", None], "y": pd.array([2, 3], dtype="Int64")})
    b = a.copy()
    b.loc[1, "x"] = ""
    assert row_hash(a, ["x", "y"]).tolist() == row_hash(a.copy(), ["x", "y"]).tolist()
    assert row_hash(a, ["x", "y"])[1] != row_hash(b, ["x", "y"])[1]


def test_an_evidence_key_too_long_for_the_crosswalk_is_cut_with_a_digest_of_the_whole():
    from transforms.partnerships import MAX_KEY, bounded_keys

    group = "nm:IT:" + "patti fondachelli fantina novara di sicilia basico castroreale " * 4
    keys = bounded_keys(pd.Series([group, group + "x", "nm:DE:koeln"], dtype="string"))
    assert (keys.str.len() <= MAX_KEY).all() and keys[2] == "nm:DE:koeln"
    assert keys[0] != keys[1] and keys[0].startswith(group[:100])  # two long names stay two keys
