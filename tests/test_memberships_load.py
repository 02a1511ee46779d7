"""Memberships through the generic relation load and SCD2 apply, on SQLite and PostgreSQL;
the networks reference as an SCD2 table; the membership suites."""
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from schemas import warehouse as W
from schemas.domains import MEMBERSHIPS
from schemas.networks import organisations
from schemas.warehouse import MEMBERSHIP_TRACKED, row_hash
from tests.test_load import T0, municipalities, utc
from transforms.quality import validate
from warehouse import load as wh
from warehouse.crosswalk import _rekeyed
from warehouse.organisations import REFERENCE, load_organisations


def members(source, rows):
    """Staged memberships: (network, member name, status, since_year) per row; members by name key."""
    frame = pd.DataFrame([{
        "source": source, "record_key": f"{network}|{name}", "network": network, "municipality_id": f"nm:DE:{name}",
        "membership_key": f"{network}|nm:DE:{name}", "member_id": None, "member_kind": None, "raw_name": name,
        "raw_country": "DE", "country_code": "DE", "status": status, "role": None, "since_raw": None,
        "since_date": None, "since_year": since, "until_year": None, "commitments": None,
        "source_url": f"https://example.org/{source}"} for network, name, status, since in rows])
    frame = frame.astype({"since_year": "Int64", "until_year": "Int64"})
    frame["row_hash"] = row_hash(frame, MEMBERSHIP_TRACKED)
    return frame


def run(engine, run_id, now, loads):
    """Sources loaded one by one at one boundary time, then the memberships' consolidation."""
    for source, frame in loads:
        wh.start_run(engine, run_id, source, now)
        wh.load_source(engine, run_id=run_id, source=source, assertions=frame, spec=MEMBERSHIPS, now=now,
                       municipalities=municipalities(sorted(set(frame["municipality_id"]))),
                       rejected=pd.DataFrame(), rows_extracted=len(frame))
    return wh.consolidate_domain(engine, MEMBERSHIPS, run_id=run_id, now=now, check=validate)


def versions(engine):
    with engine.connect() as conn:
        frame = wh.read_frame(conn, select(W.membership, W.municipality.c.name).join(
            W.municipality, W.municipality.c.municipality_id == W.membership.c.municipality_id))
    return frame.sort_values(["network", "name", "valid_from"]).reset_index(drop=True)


KOELN = [("covenant_of_mayors", "Köln", "active", 2008), ("climate_alliance", "Köln", "member", 1993)]


def test_two_sources_stating_one_membership_make_one_version_with_both_in_provenance(engine):
    counts = run(engine, "r1", T0, [("s1", members("s1", KOELN)),
                                    ("s2", members("s2", [("climate_alliance", "Köln", "member", 1995)]))])
    assert (counts.rows_new, counts.rows_changed, counts.rows_ended) == (2, 0, 0)
    v = versions(engine).set_index("network")
    assert v.loc["climate_alliance", "since_year"] == 1993  # the earliest join any source states
    assert v.loc["covenant_of_mayors", "status"] == "active" and bool(v["is_current"].all())
    with engine.connect() as conn:
        provenance = wh.read_frame(conn, select(W.membership_source))
    assert sorted(provenance.loc[provenance["network"] == "climate_alliance", "source"]) == ["s1", "s2"]
    assert provenance["membership_key"].str.match(r"^[a-z_]+\|m:\d{8}$").all()  # keyed by identity, not evidence


def test_rerun_changes_nothing_and_a_changed_status_makes_exactly_one_version(engine):
    run(engine, "r1", T0, [("s1", members("s1", KOELN))])
    before = versions(engine)
    again = run(engine, "r2", T0 + timedelta(days=1), [("s1", members("s1", KOELN))])
    assert (again.rows_new, again.rows_changed, again.rows_ended) == (0, 0, 0)
    pd.testing.assert_frame_equal(before, versions(engine))

    later = T0 + timedelta(days=2)
    suspended = [("covenant_of_mayors", "Köln", "suspended", 2008), KOELN[1]]
    counts = run(engine, "r3", later, [("s1", members("s1", suspended))])
    assert (counts.rows_new, counts.rows_changed, counts.rows_ended) == (0, 1, 0)
    covenant = versions(engine).query("network == 'covenant_of_mayors'")
    assert list(covenant["status"]) == ["active", "suspended"]
    assert utc(covenant["valid_to"].iloc[0]) == later and list(covenant["is_current"].astype(bool)) == [False, True]


def test_a_member_gone_from_the_full_list_ends_its_membership(engine):
    run(engine, "r1", T0, [("s1", members("s1", KOELN))])
    counts = run(engine, "r2", T0 + timedelta(days=1), [("s1", members("s1", KOELN[:1]))])
    assert counts.rows_ended == 1
    alliance = versions(engine).query("network == 'climate_alliance'")
    assert len(alliance) == 1 and not bool(alliance["is_current"].iloc[0]) and alliance["valid_to"].notna().all()


def test_merged_identities_move_memberships_to_the_survivor():
    rows = pd.DataFrame({"membership_key": ["climate_alliance|m:00000002"], "network": ["climate_alliance"],
                         "municipality_id": ["m:00000002"], "status": ["member"], "role": [None],
                         "since_year": [1993], "since_date": [None], "until_year": [None]})
    moved = _rekeyed(rows, MEMBERSHIPS, {"m:00000002": "m:00000001"}, MEMBERSHIPS.versioned)
    assert moved["membership_key"].tolist() == ["climate_alliance|m:00000001"]
    assert moved["municipality_id"].tolist() == ["m:00000001"] and moved["network"].tolist() == ["climate_alliance"]


def test_the_membership_suite_refuses_future_joins_joins_before_founding_and_unknown_networks():
    frame = members("s1", [("climate_alliance", "Köln", "member", 1993), ("climate_alliance", "Bonn", "member", 1985),
                           ("covenant_of_mayors", "Aachen", "active", date.today().year + 1),
                           ("no_such_network", "Unna", "member", 2000), ("eurocities", "Essen", "retired", 2000)])
    frame["extracted_at"] = pd.Timestamp(T0)
    frame["network_joins_from"] = frame["network"].map({"climate_alliance": 1991, "covenant_of_mayors": 2008,
                                                         "eurocities": 1986}).astype("Int64")
    reasons = validate(frame, "membership_source").row_reasons
    assert pd.isna(reasons.iloc[0])
    assert "joined before the network was founded" in reasons.iloc[1]
    assert "in the future" in reasons.iloc[2]
    assert "network not in schemas/networks.yaml" in reasons.iloc[3]
    assert "unknown membership status" in reasons.iloc[4]


def test_networks_reference_is_versioned_like_everything_else(engine):
    reference = organisations()
    first = load_organisations(engine, reference, run_id="r1", now=T0)
    assert first.rows_new == len(reference) >= 19
    again = load_organisations(engine, reference, run_id="r2", now=T0 + timedelta(days=1))
    assert (again.rows_new, again.rows_changed, again.rows_ended) == (0, 0, 0)
    edited = [dict(row, secretariat="Stadt Potsdam, Geschäftsstelle") if row["organisation_key"] == "eccar" else row
              for row in reference if row["organisation_key"] != "regio_nrw"]
    counts = load_organisations(engine, edited, run_id="r3", now=T0 + timedelta(days=2))
    assert (counts.rows_new, counts.rows_changed, counts.rows_ended) == (0, 1, 1)
    with engine.connect() as conn:
        table = wh.read_frame(conn, select(W.organisation))
        audit = wh.read_frame(conn, select(W.load_run).where(W.load_run.c.source == REFERENCE))
    eccar = table[table["organisation_key"] == "eccar"].sort_values("valid_from")
    assert list(eccar["is_current"].astype(bool)) == [False, True]
    assert not table.loc[table["organisation_key"] == "regio_nrw", "is_current"].astype(bool).any()
    climate = table[(table["organisation_key"] == "climate_alliance") & table["is_current"].astype(bool)].iloc[0]
    assert climate["wikidata_qid"] == "Q1768108" and {"field": "founded", "value": 1992, "source": "etmun"} in climate["claims"]
    assert set(audit["status"]) == {"loaded"}


@pytest.mark.parametrize("missing", ["network", "status"])
def test_consolidated_memberships_without_network_or_status_fail_the_gate(missing):
    frame = pd.DataFrame({"membership_key": ["climate_alliance|m:00000001"], "network": ["climate_alliance"],
                          "municipality_id": ["m:00000001"], "status": ["member"], "role": [None],
                          "since_year": pd.array([1993], dtype="Int64"), "since_date": [None],
                          "until_year": pd.array([None], dtype="Int64")})
    frame[missing] = None
    assert not validate(frame, "membership").success


def test_run_changes_says_what_each_run_opened_and_closed(engine):
    from sqlalchemy import text

    run(engine, "r1", T0, [("s1", members("s1", KOELN))])
    suspended = [("covenant_of_mayors", "Köln", "suspended", 2008)]  # Klima-Bündnis gone, Covenant changed
    run(engine, "r2", T0 + timedelta(days=1), [("s1", members("s1", suspended))])
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT run_id, domain, change, relation_key FROM run_changes "
                                 "WHERE domain = 'membership' ORDER BY run_id, change")).fetchall()
    by_run = {}
    for run_id, _, change, key in rows:
        by_run.setdefault(run_id, []).append((change, key.split("|")[0]))
    assert sorted(by_run["r1"]) == [("new", "climate_alliance"), ("new", "covenant_of_mayors")]
    assert sorted(by_run["r2"]) == [("changed", "covenant_of_mayors"), ("ended", "climate_alliance")]
