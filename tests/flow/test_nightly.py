"""The nightly flow end to end on the bundled recordings: merge, idempotence, isolation."""
import shutil

import pandas as pd
import pytest
from sqlalchemy import select

from flows.nightly import nightly
from flows.settings import WAREHOUSE_ENV, bundled_recordings
from schemas import warehouse as W
from tests.support import bundled_path
from warehouse import load as wh

pytestmark = pytest.mark.flow
DEFAULT_REPLAY_DIR = str(bundled_recordings())


PARTNERSHIP_SOURCES = {"wikidata_twinnings", "twincities_dataset", "wikipedia_twinning_sections",
                       "german_partnerships_2015"}
MEMBERSHIP_SOURCES = {"covenant_of_mayors", "etmun_member_lists", "wikidata_memberships"}
FUNDING_SOURCES = {"foerderdatenbank", "skew_programmes"}
CALL_SOURCES = {"eu_funding_tenders"}
SOURCES = {"destatis_municipalities", *PARTNERSHIP_SOURCES, *MEMBERSHIP_SOURCES, *FUNDING_SOURCES, *CALL_SOURCES}
#: The run's own steps, audited next to the sources.
STEPS = {"consolidate:partnership", "consolidate:membership", "consolidate:funding_programme",
         "consolidate:funding_call", "reference:organisation"}


def run_flow(url, **kwargs):
    """The flow reads its warehouse from the environment, as on a worker."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(WAREHOUSE_ENV, url)
        return nightly(return_state=True, **kwargs)


def tables(url):
    engine = wh.make_engine(url)
    with engine.connect() as conn:
        out = {name: wh.read_frame(conn, select(t)) for name, t in
               (("municipality", W.municipality), ("partnership", W.partnership),
                ("partnership_source", W.partnership_source), ("membership", W.membership),
                ("membership_source", W.membership_source), ("organisation", W.organisation),
                ("funding_programme", W.funding_programme), ("funding_programme_source", W.funding_programme_source),
                ("funding_call", W.funding_call), ("funding_call_source", W.funding_call_source),
                ("quarantine", W.quarantine), ("load_run", W.load_run))}
    engine.dispose()
    return out


@pytest.fixture(scope="module")
def warehouse_after_two_runs(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('wh') / 'warehouse.db'}"
    first = run_flow(url, mode="replay")
    after_first = tables(url)
    second = run_flow(url, mode="replay", recordings_dir=DEFAULT_REPLAY_DIR)
    return first, second, after_first, tables(url)


def test_every_source_loads_and_pairs_merge_across_sources(warehouse_after_two_runs):
    first, _, data, _ = warehouse_after_two_runs
    assert first.is_completed(), first.message
    ps = data["partnership_source"]
    assert set(ps["source"]) == PARTNERSHIP_SOURCES  # a register asserts no partnerships
    sources_per_pair = ps[ps["is_current"]].groupby("partnership_key")["source"].nunique()
    assert (sources_per_pair >= 2).sum() > 500  # Wikidata and the Wikipedia-derived CSV overlap widely
    current = data["partnership"][data["partnership"]["is_current"]]
    assert current["partnership_key"].is_unique
    assert set(current["partnership_key"]) == set(ps.loc[ps["is_current"], "partnership_key"])


def test_every_official_municipality_is_an_identity_and_german_sides_are_official(warehouse_after_two_runs):
    _, _, data, _ = warehouse_after_two_runs
    m = data["municipality"]
    official = m[m["ags"].notna() & m["merged_into"].isna()]
    assert official["ags"].is_unique and len(official) == 11_004  # 10,796 municipalities + 208 unincorporated
    by_ags = official.set_index("ags")
    halle, bruehl = by_ags.loc[["05754012", "15002000"]], by_ags.loc[["05362012", "08226009"]]
    assert halle["municipality_id"].nunique() == 2 and bruehl["municipality_id"].nunique() == 2
    assert list(halle["name"]) == ["Halle (Westf.)", "Halle (Saale)"]
    current = data["partnership"][data["partnership"]["is_current"]]
    sides = pd.concat([current["municipality_a_id"], current["municipality_b_id"]])
    german = m.set_index("municipality_id").loc[sides]
    german = german[german["country_code"] == "DE"]
    typed = german["ags"].notna() | german["part_of"].notna() | (german["kind"] != "municipality")
    # Measured on the bundled recordings: 98.1 % of German sides are an official municipality
    # (AGS), a part linked to one (Wolfen → Bitterfeld-Wolfen, Zehlendorf → Berlin) or typed as a
    # district/locality; the rest are 2017 Wikidata labels without coordinates or AGS that name
    # several municipalities ("Lichtenberg", "Friedberg") and whose twin towns do not decide, and
    # former municipalities the offline gazetteer lacks ("Bad Godesberg").
    assert len(german) > 11_000 and typed.mean() >= 0.98, f"{typed.mean():.1%} of {len(german)} German sides"
    hamm = m.set_index("ags").loc["05915000", "municipality_id"]
    twins_of_hamm = current[(current["municipality_a_id"] == hamm) | (current["municipality_b_id"] == hamm)]
    assert len(twins_of_hamm) >= 9  # twincities' coordinates put them at the village Hamm (Eifel): corroborated
    frankfurt = m[m["wikidata_qid"] == "Q1794"]  # Wikidata's "Frankfurt": its twin towns say which one
    assert set(frankfurt["merged_into"].dropna()) == {m.set_index("ags").loc["06412000", "municipality_id"]}
    parents = m.set_index("municipality_id")["name"]
    linked = german[german["part_of"].notna()]
    assert set(parents.loc[linked.loc[linked["name"] == "Wolfen", "part_of"]]) == {"Bitterfeld-Wolfen"}
    assert (german.loc[german["ags"].notna(), "match_method"] == "register").all()
    relations = data["partnership"].loc[data["partnership"]["is_current"], "relation_type"].value_counts()
    assert relations["partnership"] > 5000 and relations["contact"] > 1000 and relations["friendship"] > 500


#: Cologne's networks as seed 003 ("Mitgliedschaften in europäischen und internationalen
#: Städtenetzwerken", Stadt Köln) lists them, by their keys in schemas/networks.yaml.
SEED_003_KOELN = {"uclg", "cemr", "eurocities", "rainbow_cities", "iccar", "eccar", "european_social_network",
                  "climate_alliance", "mayors_for_peace", "regio_nrw"}
#: Those the offline recordings state for Köln (the 2016-19 BD ETMUN lists); README § Memberships.
KOELN_OFFLINE = {"eurocities", "eccar", "climate_alliance"}


def test_memberships_of_eleven_networks_load_from_the_membership_sources(warehouse_after_two_runs):
    _, _, data, _ = warehouse_after_two_runs
    provenance, current = data["membership_source"], data["membership"][data["membership"]["is_current"]]
    assert set(provenance["source"]) == MEMBERSHIP_SOURCES
    assert current["network"].nunique() >= 11 and current["membership_key"].is_unique
    alliance_de = provenance[(provenance["network"] == "climate_alliance") & (provenance["country_code"] == "DE")]
    assert len(alliance_de) >= 500  # the list's 510 German members, less namesakes the register could not tell apart
    identities = data["municipality"].set_index("municipality_id")
    kinds = identities.loc[current["municipality_id"], "kind"].value_counts()
    assert {"municipality", "district", "group", "association"} <= set(kinds.index)  # typed, never forced onto a town
    organisations = data["organisation"]
    assert set(current["network"]) <= set(organisations.loc[organisations["is_current"], "organisation_key"])
    bielefeld = data["municipality"].set_index("ags").loc["05711000", "municipality_id"]  # Wikidata states its AGS
    mine = current[current["municipality_id"] == bielefeld].set_index("network")
    assert mine.loc["mayors_for_peace", "since_year"] == 1984  # only Wikidata states it
    stated = provenance[provenance["membership_key"] == f"climate_alliance|{bielefeld}"]
    assert set(stated["source"]) == {"etmun_member_lists", "wikidata_memberships"}
    assert mine.loc["climate_alliance", "since_year"] == stated["since_year"].min()  # the earliest stated


def test_covenant_signatories_per_country_equal_the_workbook_less_the_quarantined(warehouse_after_two_runs):
    from extractors import covenant_of_mayors
    from tests.test_covenant_of_mayors import COPY

    _, _, data, _ = warehouse_after_two_runs
    workbook = pd.DataFrame(covenant_of_mayors.parse(bundled_path("GET", COPY).read_bytes(), url=COPY))
    stated = workbook["member_country"].str.upper().value_counts()
    quarantine = data["quarantine"][data["quarantine"]["source"] == "covenant_of_mayors"]
    assert len(quarantine) and quarantine["reason"].str.len().gt(0).all()
    held = pd.Series([r["member_country"] for r in quarantine["raw_record"]]).str.upper().value_counts()
    provenance = data["membership_source"]
    loaded = provenance[provenance["source"] == "covenant_of_mayors"]["country_code"].value_counts()
    pd.testing.assert_series_equal(loaded.sort_index(), stated.sub(held, fill_value=0).astype(int)
                                   .loc[lambda s: s > 0].sort_index(), check_names=False)


def test_koelns_memberships_against_seed_003(warehouse_after_two_runs):
    from schemas.networks import network_keys

    _, _, data, _ = warehouse_after_two_runs
    assert SEED_003_KOELN <= network_keys()  # every network of the seed is in the reference
    koeln = data["municipality"].set_index("ags").loc["05315000", "municipality_id"]
    current = data["membership"][data["membership"]["is_current"]]
    networks = set(current.loc[current["municipality_id"] == koeln, "network"])
    assert networks & SEED_003_KOELN == KOELN_OFFLINE
    assert networks - SEED_003_KOELN == {"covenant_of_mayors"}  # signed 2008, not in the seed's list


def test_funding_programmes_load_from_the_foerderdatenbank_pages_and_the_skew_reference(warehouse_after_two_runs):
    _, _, data, _ = warehouse_after_two_runs
    provenance, current = data["funding_programme_source"], data["funding_programme"]
    assert set(provenance["source"]) == FUNDING_SOURCES and current["is_current"].all()
    assert len(current) == 4 + 8  # the four recorded detail pages, the eight curated programmes
    nakopa = current.set_index("programme_key").loc["skew_programmes:nakopa"]
    assert bool(nakopa["municipalities_eligible"]) and "partnership" in nakopa["themes"]
    assert (nakopa["amount_min_eur"], nakopa["amount_max_eur"]) == (50_000, 250_000)
    assert nakopa["funder_key"] == "funder:bmz"
    organisations = data["organisation"].set_index("organisation_key")
    assert organisations.loc["funder:bmz", "kind"] == "funder"  # the funder is an organisation identity
    calls = data["funding_call"]
    assert len(calls) == 2 and set(calls["status"]) == {"closed"}  # the recorded topics' deadlines have passed
    assert set(data["funding_call_source"]["status_raw"]) == {"31094501"}  # the portal still said forthcoming


def test_second_run_changes_nothing(warehouse_after_two_runs):
    _, second, before, after = warehouse_after_two_runs
    assert second.is_completed(), second.message
    for name in ("municipality", "partnership", "partnership_source", "membership", "membership_source",
                 "organisation", "funding_programme", "funding_programme_source", "funding_call",
                 "funding_call_source", "quarantine"):
        columns = list(before[name].columns)
        pd.testing.assert_frame_equal(before[name].sort_values(columns[:2]).reset_index(drop=True),
                                      after[name].sort_values(columns[:2]).reset_index(drop=True))
    runs = after["load_run"]
    latest = runs[runs["run_id"] == runs.sort_values("started_at")["run_id"].iloc[-1]]
    assert set(latest["source"]) == {*SOURCES, *STEPS} and (latest["status"] == "loaded").all()
    assert (latest["rows_new"] == 0).all() and (latest["rows_changed"] == 0).all() and (latest["rows_ended"] == 0).all()


def test_a_broken_source_fails_alone_and_names_itself(tmp_path):
    replay = tmp_path / "replay"
    shutil.copytree(DEFAULT_REPLAY_DIR, replay)
    index = replay / "index.jsonl"
    index.write_text("".join(line for line in index.read_text().splitlines(keepends=True)
                             if "twin_cities.csv" not in line))
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    state = run_flow(url, mode="replay", recordings_dir=str(replay))
    assert state.is_failed() and "twincities_dataset" in state.message
    data = tables(url)
    runs = data["load_run"].set_index("source")
    assert runs.loc["twincities_dataset", "status"] == "failed"
    assert "No recording" in runs.loc["twincities_dataset", "message"]
    assert runs.loc["wikidata_twinnings", "status"] == "loaded"
    assert set(data["partnership_source"]["source"]) == PARTNERSHIP_SOURCES - {"twincities_dataset"}


def test_cli_run_prints_the_audit_and_exits_1_when_a_source_gets_http_500(tmp_path):
    from typer.testing import CliRunner

    from extractors import twincities_dataset as tc
    from extractors.http import add_recording
    from flows.cli import app

    replay = tmp_path / "replay"
    shutil.copytree(DEFAULT_REPLAY_DIR, replay)
    add_recording(replay, "GET", tc.URL, b"<html>Internal Server Error</html>", status=500,
                  headers={"content-type": "text/html"}, note="test: the server failed")
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    result = CliRunner().invoke(app, ["run", "--replay", str(replay), "--warehouse", url])
    assert result.exit_code == 1
    assert "twincities_dataset               failed" in result.output
    assert "HTTP 500" in result.output
    assert "wikidata_twinnings               loaded" in result.output
    assert "report:    " in result.output and "reports/latest.html" in result.output  # written despite the failure


def test_run_publishes_summary_and_quality_artifacts(warehouse_after_two_runs):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    first = warehouse_after_two_runs[0]
    run_filter = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[first.state_details.flow_run_id]))
    with get_client(sync_client=True) as client:
        artifacts = {a.key: a for a in client.read_artifacts(artifact_filter=run_filter)}
    assert {"citylinks-run-summary", "citylinks-quality-report", "citylinks-coverage", "citylinks-calls-closing",
            "citylinks-programmes-for-municipalities", "citylinks-report"} <= set(artifacts)
    report_link = artifacts["citylinks-report"].data
    assert report_link.startswith("[") and ".html](file://" in report_link, report_link
    by_theme = artifacts["citylinks-programmes-for-municipalities"].data
    assert "## partnership" in by_theme and "Nachhaltige Kommunalentwicklung durch Partnerschaftsprojekte" in by_theme
    coverage = artifacts["citylinks-coverage"].data
    assert "| Baden-Württemberg |" in coverage and "| 1,252 |" in coverage and "100,000 and more" in coverage
    summary = artifacts["citylinks-run-summary"].data
    rows = summary if isinstance(summary, list) else __import__("json").loads(summary)
    assert {r["source"] for r in rows} == {*SOURCES, *STEPS}
    assert {r["domain"] for r in rows if r["source"] in MEMBERSHIP_SOURCES} == {"memberships"}
    per_domain = artifacts["citylinks-run-summary-memberships"].data
    per_domain = per_domain if isinstance(per_domain, list) else __import__("json").loads(per_domain)
    assert {r["source"] for r in per_domain} == {*MEMBERSHIP_SOURCES, "consolidate:membership"}
    assert "citylinks-run-summary-partnerships" in artifacts
    assert all(list(r)[:3] == ["source", "status", "reason"] for r in rows)
    report = artifacts["citylinks-quality-report"].data
    assert "ExpectCompoundColumnsToBeUnique" in report and "is_self_pair" in report
    assert "## twincities_dataset: 11 rows quarantined" in report
    assert "| identity: both sides resolved to the same place | 11 |" in report


def test_a_source_refused_by_a_gate_keeps_its_real_counts_in_the_audit(tmp_path):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    state = run_flow(url, mode="replay", sources=["wikidata_twinnings"], max_reject_share=0.0001)
    assert state.is_failed() and "above the 0% threshold" in state.message
    runs = tables(url)["load_run"].set_index("source")
    row = runs.loc["wikidata_twinnings"].to_dict()
    assert row["status"] == "failed" and "failed validation" in row["message"]
    assert runs.loc["consolidate:partnership", "rows_new"] == 0  # it ran, found nothing to do
    assert (row["rows_extracted"], row["rows_quarantined"], row["rows_new"]) == (5758, 5, 0)
    assert tables(url)["partnership_source"].empty  # nothing written
