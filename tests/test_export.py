"""`citylinks export` on SQLite and PostgreSQL: Parquet and CSV that pandas and DuckDB read typed as
they are, the licences of every row (Wikipedia rows share-alike), and a target directory that is
replaced whole or not at all."""
import csv
import json
from datetime import date, datetime, timedelta, timezone

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from extractors import destatis_municipalities as destatis
from extractors import eu_funding_tenders, registry, skew_programmes
from flows.cli import app
from schemas import funders
from schemas.domains import FUNDING, FUNDING_CALLS, MEMBERSHIPS, PARTNERSHIPS
from schemas.exports import DATASETS, LICENCES_COLUMN, TYPES
from schemas.networks import organisations
from schemas.records import FUNDING_CALL, FUNDING_PROGRAMME, MUNICIPALITY_REGISTER
from schemas.warehouse import ASSERTION_TRACKED, MEMBERSHIP_TRACKED, row_hash
from tests.support import BACKENDS, ROOT, bundled_path, postgres_schema, postgres_url
from tests.test_destatis import COPY
from tests.test_load import municipalities as unresolved
from transforms.funding import stage_calls, stage_funding
from transforms.quality import validate
from transforms.registers import stage_register
from warehouse import export as exports
from warehouse import load as wh
from warehouse.organisations import load_organisations, refresh_sources

RUN, T0 = "r1", datetime(2026, 1, 1, tzinfo=timezone.utc)
KOELN, BIELEFELD = "ags:05315000", "ags:05711000"
CALL_CLOSES = date.today() + timedelta(days=30)
runner = CliRunner()


# --- a warehouse of one run, through the real loads --------------------------------------------


def twinnings(source: str, pairs) -> pd.DataFrame:
    """Staged partnership assertions: (side key, side key, start year) per row."""
    rows = [{"source": source, "record_key": f"{a}>{b}", "partnership_key": "|".join(sorted((a, b))),
             "municipality_a_id": a, "municipality_b_id": b, "raw_name_a": a.split(":")[-1],
             "raw_name_b": b.split(":")[-1], "raw_country_a": None, "raw_country_b": None,
             "relation_type": "partnership", "start_raw": str(year), "start_year": year, "end_year": None,
             "reference_url": None, "source_url": f"https://example.org/{source}"} for a, b, year in pairs]
    frame = pd.DataFrame(rows).astype({"start_year": "Int64", "end_year": "Int64"})
    return frame.assign(row_hash=row_hash(frame, ASSERTION_TRACKED))


def memberships(source: str, rows) -> pd.DataFrame:
    """Staged memberships: (network, member key, status, since year, since date) per row."""
    frame = pd.DataFrame([{
        "source": source, "record_key": f"{network}|{member}", "network": network, "municipality_id": member,
        "membership_key": f"{network}|{member}", "member_id": None, "member_kind": None, "raw_name": "Köln",
        "raw_country": "DE", "country_code": "DE", "status": status, "role": None, "since_raw": None,
        "since_date": since_date, "since_year": since, "until_year": None, "commitments": None,
        "source_url": f"https://example.org/{source}"} for network, member, status, since, since_date in rows])
    frame = frame.astype({"since_year": "Int64", "until_year": "Int64"})
    return frame.assign(row_hash=row_hash(frame, MEMBERSHIP_TRACKED))


def load_relations(engine, source: str, spec, assertions: pd.DataFrame, municipalities: pd.DataFrame) -> None:
    wh.start_run(engine, RUN, source, T0)
    wh.load_source(engine, run_id=RUN, source=source, assertions=assertions, municipalities=municipalities,
                   rejected=pd.DataFrame(), rows_extracted=len(assertions), spec=spec, now=T0)


def build(url: str, places, index) -> None:
    """One run: the register's Köln and Bielefeld; twinnings from Wikipedia (CC BY-SA) and Wikidata
    (CC0) with unresolved partners; memberships from the Covenant of Mayors (CC BY) and Wikidata;
    the SKEW programmes; one EU call open for 30 more days; the networks and the source table."""
    engine = wh.make_engine(url)
    wh.create_schema(engine)
    records = destatis.parse(bundled_path("GET", COPY).read_bytes(), url=COPY)
    raw = MUNICIPALITY_REGISTER.to_frame([r for r in records if r["ags"] in ("05315000", "05711000")])
    register = stage_register(raw, places=places, index=index)
    wh.start_run(engine, RUN, register.source, T0)
    wh.load_register(engine, run_id=RUN, source=register.source, municipalities=register.municipalities,
                     rejected=register.rejected, rows_extracted=register.rows_extracted, now=T0)

    official = register.municipalities
    partners = unresolved(["nm:GB:Liverpool", "nm:GB:Rochdale", "nm:FR:Concarneau"])
    partners = partners.reindex(columns=official.columns).astype(official.dtypes.to_dict())
    load_relations(engine, "wikipedia_twinning_sections", PARTNERSHIPS,
                   twinnings("wikipedia_twinning_sections", [(KOELN, "nm:GB:Liverpool", 1952),
                                                             (BIELEFELD, "nm:FR:Concarneau", 1974)]),
                   pd.concat([official, partners], ignore_index=True))
    load_relations(engine, "wikidata_twinnings", PARTNERSHIPS,
                   twinnings("wikidata_twinnings", [(KOELN, "nm:GB:Liverpool", 1952),
                                                    (BIELEFELD, "nm:GB:Rochdale", 1953)]),
                   pd.concat([official, partners], ignore_index=True))
    load_relations(engine, "covenant_of_mayors", MEMBERSHIPS,
                   memberships("covenant_of_mayors", [("covenant_of_mayors", KOELN, "active", 2008, "2008-05-15")]),
                   official)
    load_relations(engine, "wikidata_memberships", MEMBERSHIPS,
                   memberships("wikidata_memberships", [("climate_alliance", KOELN, "member", 1993, None)]), official)

    programmes = stage_funding(FUNDING_PROGRAMME.to_frame(skew_programmes.extract(None)), today=date(2026, 11, 25))
    load_relations(engine, programmes.source, FUNDING, programmes.assertions, programmes.municipalities)
    body = ROOT / "tests" / "fixtures" / "eu_funding_tenders" / "sedia_search_trimmed_2026-06-11.json"
    calls = FUNDING_CALL.to_frame(eu_funding_tenders.parse(body.read_bytes(), url=eu_funding_tenders.ENDPOINT))
    calls.loc[0, ["closes", "deadlines"]] = [CALL_CLOSES.isoformat()] * 2
    calls = stage_calls(calls)
    load_relations(engine, calls.source, FUNDING_CALLS, calls.assertions, calls.municipalities)

    load_organisations(engine, [*organisations(), *funders.load()], run_id=RUN, now=T0)
    refresh_sources(engine, registry.declarations(), now=T0)
    for spec in (PARTNERSHIPS, MEMBERSHIPS, FUNDING, FUNDING_CALLS):
        wh.consolidate_domain(engine, spec, run_id=RUN, now=T0, check=validate)
    engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def warehouse(request, tmp_path_factory, gazetteer_places, name_index):
    """The URL of that warehouse on each backend, built once per module."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('export') / 'warehouse.db'}"
        build(url, gazetteer_places, name_index)
        yield url
        return
    with postgres_schema() as schema:
        url = postgres_url(schema)
        build(url, gazetteer_places, name_index)
        yield url


def export(url: str, target, fmt: str) -> dict[str, int]:
    """Export, returning rows per data file."""
    engine = wh.make_engine(url)
    try:
        return {w.file: w.rows for w in exports.export_warehouse(engine, target, fmt) if w.rows is not None}
    finally:
        engine.dispose()


def duckdb_types(query: str) -> dict[str, str]:
    return {name: kind for name, kind, *_ in duckdb.sql(f"DESCRIBE {query}").fetchall()}


# --- typed files ------------------------------------------------------------------------------


def test_parquet_reads_typed_in_pandas_and_duckdb(warehouse, tmp_path):
    out = tmp_path / "export"
    rows = export(warehouse, out, "parquet")
    engine = wh.make_engine(warehouse)
    with engine.connect() as conn:
        for view in ("partnership_sides", "networks_per_municipality", "provenance", "open_funding_calls"):
            assert rows[f"{view}.parquet"] == conn.execute(text(f"SELECT COUNT(*) FROM {view}")).scalar_one() > 0
    engine.dispose()
    assert rows["partnership_sides.parquet"] == 6  # three pairs, each from both sides
    for dataset in DATASETS:  # every file has its declared columns in their declared order
        assert pq.read_schema(out / f"{dataset.name}.parquet").names == list(dataset.fields)

    members = pd.read_parquet(out / "networks_per_municipality.parquet").set_index("network")
    assert isinstance(members["valid_from"].dtype, pd.DatetimeTZDtype) and str(members["valid_from"].dt.tz) == "UTC"
    assert (members["valid_from"] == pd.Timestamp(T0)).all()
    assert members["since_year"].dtype == "Int64" and members.loc["covenant_of_mayors", "since_year"] == 2008
    assert members["since_date"].dtype == object and members.loc["covenant_of_mayors", "since_date"] == date(2008, 5, 15)
    assert type(members.loc["covenant_of_mayors", "since_date"]) is date
    assert pd.isna(members.loc["climate_alliance", "since_date"]) and pd.isna(members.loc["climate_alliance", "until_year"])
    provenance = pd.read_parquet(out / "provenance.parquet")
    assert pd.api.types.is_bool_dtype(provenance["is_current"]) and provenance["is_current"].all()
    assert isinstance(provenance["first_seen"].dtype, pd.DatetimeTZDtype) and provenance["ended_at"].isna().all()
    calls = pd.read_parquet(out / "open_funding_calls.parquet")
    assert calls["closes"].tolist() == [CALL_CLOSES] and calls["expected_grants"].dtype == "Int64"
    towns = pd.read_parquet(out / "municipalities.parquet").set_index("municipality_id")
    assert towns["population"].dtype == "Int64" and towns["latitude"].dtype == "float64"
    assert sorted(towns["ags"].dropna()) == ["05315000", "05711000"]  # text, leading zero kept

    parquet = f"read_parquet('{out / 'networks_per_municipality.parquet'}')"
    typed = duckdb_types(f"SELECT * FROM {parquet}")
    assert (typed["since_date"], typed["valid_from"], typed["since_year"]) == (
        "DATE", "TIMESTAMP WITH TIME ZONE", "BIGINT")
    assert duckdb.sql(f"SELECT since_date FROM {parquet} WHERE network = 'covenant_of_mayors'").fetchall() == [
        (date(2008, 5, 15),)]
    assert duckdb_types(f"SELECT * FROM read_parquet('{out / 'provenance.parquet'}')")["is_current"] == "BOOLEAN"


def test_the_declared_keys_hold_in_the_files_and_datapackage_names_them(warehouse, tmp_path):
    out = tmp_path / "export"
    export(warehouse, out, "parquet")
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    schemas = {resource["name"]: resource["schema"] for resource in package["resources"]}
    assert schemas["partnership_sides"]["primaryKey"] == ["partnership_key", "municipality_id"]
    assert {"fields": ["partner_id"], "reference": {"resource": "municipalities", "fields": ["municipality_id"]}} \
        in schemas["partnership_sides"]["foreignKeys"]
    checked = 0
    for dataset in DATASETS:
        file = f"read_parquet('{out / dataset.name}.parquet')"
        if dataset.primary_key:
            columns = ", ".join(dataset.primary_key)
            duplicates = duckdb.sql(f"SELECT {columns}, COUNT(*) FROM {file} GROUP BY ALL HAVING COUNT(*) > 1")
            assert duplicates.fetchall() == [], dataset.name
        for column, target, target_column in dataset.references:
            dangling = duckdb.sql(f"SELECT {column} FROM {file} WHERE {column} IS NOT NULL AND {column} NOT IN "
                                  f"(SELECT {target_column} FROM read_parquet('{out / target}.parquet'))")
            assert dangling.fetchall() == [], (dataset.name, column)
            checked += duckdb.sql(f"SELECT COUNT({column}) FROM {file}").fetchall()[0][0]
    assert checked > 10  # the references were checked on real rows, not on empty files


def test_csv_reads_typed_in_duckdb_and_pandas(warehouse, tmp_path):
    out = tmp_path / "export"
    rows = export(warehouse, out, "csv")
    assert rows["partnership_sides.csv"] == 6 and sorted(p.suffix for p in out.glob("*.*") if p.suffix != ".md") == [
        ".csv"] * len(DATASETS) + [".json"]
    with open(out / "networks_per_municipality.csv", encoding="utf-8", newline="") as handle:
        members = {row["network"]: row for row in csv.DictReader(handle)}
    assert members["covenant_of_mayors"]["since_date"] == "2008-05-15"
    assert members["covenant_of_mayors"]["valid_from"] == "2026-01-01T00:00:00.000000Z"
    assert members["climate_alliance"]["since_date"] == "" and members["climate_alliance"]["until_year"] == ""

    typed = duckdb_types(f"SELECT * FROM read_csv_auto('{out / 'networks_per_municipality.csv'}')")
    assert (typed["since_date"], typed["since_year"], typed["valid_from"]) == (
        "DATE", "BIGINT", "TIMESTAMP WITH TIME ZONE")
    assert duckdb_types(f"SELECT * FROM read_csv_auto('{out / 'provenance.csv'}')")["is_current"] == "BOOLEAN"
    programmes = duckdb_types(f"SELECT * FROM read_csv_auto('{out / 'programmes_for_municipalities.csv'}')")
    assert programmes["amount_max_eur"] == "DOUBLE"  # whole euro amounts are still written as numbers with a point
    provenance = pd.read_csv(out / "provenance.csv", parse_dates=["first_seen"])
    assert provenance["is_current"].dtype == bool and str(provenance["first_seen"].dt.tz) == "UTC"


# --- licences ---------------------------------------------------------------------------------


def test_every_row_says_its_licences_and_wikipedia_rows_are_share_alike(warehouse, tmp_path):
    out = tmp_path / "export"
    export(warehouse, out, "parquet")
    sides = pd.read_parquet(out / "partnership_sides.parquet")
    assert sides.groupby("partner")["licences"].agg(set).to_dict() == {
        "Concarneau": {"CC-BY-SA-4.0"}, "Liverpool": {"CC-BY-SA-4.0;CC0-1.0"}, "Rochdale": {"CC0-1.0"},
        "Köln": {"CC-BY-SA-4.0;CC0-1.0"}, "Bielefeld": {"CC-BY-SA-4.0", "CC0-1.0"}}
    members = pd.read_parquet(out / "networks_per_municipality.parquet")
    assert dict(zip(members["network"], members["licences"])) == {"covenant_of_mayors": "CC-BY-4.0",
                                                                   "climate_alliance": "CC0-1.0"}
    towns = pd.read_parquet(out / "municipalities.parquet").set_index("name")
    assert towns.loc["Concarneau", "licences"] == "CC-BY-SA-4.0"  # unresolved: named by Wikipedia only
    assert towns.loc["Liverpool", "licences"] == "CC-BY-SA-4.0;CC0-1.0"
    for town in ("Köln", "Bielefeld"):  # the register's; GeoNames' too where the gazetteer place is linked
        expected = {"DL-DE-BY-2.0"} | ({"CC-BY-4.0"} if pd.notna(towns.loc[town, "geonames_id"]) else set())
        assert set(towns.loc[town, "licences"].split(";")) == expected
    assert set(pd.read_parquet(out / "programmes_for_municipalities.parquet")["licences"]) == {
        "LicenseRef-Facts-No-Licence"}
    assert pd.read_parquet(out / "open_funding_calls.parquet")["licences"].tolist() == ["LicenseRef-EU-Reuse-2011-833"]
    provenance = pd.read_parquet(out / "provenance.parquet")
    assert (provenance["licences"] == provenance["licence_id"]).all()
    assert LICENCES_COLUMN not in pd.read_parquet(out / "coverage_by_land.parquet")

    attribution = (out / "ATTRIBUTION.md").read_text(encoding="utf-8")
    share_alike = attribution.split("## Share alike: CC-BY-SA-4.0", 1)[1].split("\n## ", 1)[0]
    assert "wikipedia_twinning_sections" in share_alike and "share the result under the same licence" in share_alike
    sections = dict(part.split("\n", 1) for part in attribution.split("\n### ")[1:])
    by_sa = next(body for title, body in sections.items() if title.startswith("CC-BY-SA-4.0"))
    assert "| partnership_sides.parquet | 4 | 6 |" in by_sa and "| municipalities.parquet | 2 |" in by_sa
    cc0 = next(body for title, body in sections.items() if title.startswith("CC0-1.0"))
    assert "| partnership_sides.parquet | 4 | 6 |" in cc0 and "no attribution required" in cc0
    dl_de = next(body for title, body in sections.items() if title.startswith("DL-DE-BY-2.0"))
    assert "destatis_municipalities" in dl_de and "| municipalities.parquet | 2 |" in dl_de
    cc_by = next(body for title, body in sections.items() if title.startswith("CC-BY-4.0"))
    assert "covenant_of_mayors" in cc_by and "| networks_per_municipality.parquet | 1 | 2 |" in cc_by
    for source in registry.declarations():
        assert f"**{source['source']}**" in attribution and source["attribution"] in attribution
        assert source["url"] in attribution
    assert f"`{RUN}`" in attribution and datetime.now(timezone.utc).date().isoformat() in attribution

    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in package["resources"]}
    assert [r["path"] for r in package["resources"]] == [f"{d.name}.parquet" for d in DATASETS]
    assert [lic["name"] for lic in resources["partnership_sides"]["licenses"]] == ["CC-BY-SA-4.0", "CC0-1.0"]
    fields = {f["name"]: f["type"] for f in resources["networks_per_municipality"]["schema"]["fields"]}
    assert (fields["since_date"], fields["valid_from"], fields["since_year"], fields["licences"]) == (
        "date", "datetime", "integer", "string")
    assert {f["type"] for r in package["resources"] for f in r["schema"]["fields"]} <= set(TYPES.values())


# --- the target directory ---------------------------------------------------------------------


def test_a_non_empty_foreign_directory_is_refused_and_left_alone(warehouse, tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(exports.ExportRefused, match="holds no previous export"):
        export(warehouse, target, "parquet")
    result = runner.invoke(app, ["export", "--format", "csv", "--to", str(target), "--warehouse", warehouse])
    assert result.exit_code == 2 and "holds no previous export" in result.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"] and sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_an_export_into_a_previous_export_replaces_it_whole(warehouse, tmp_path):
    target = tmp_path / "export"
    export(warehouse, target, "parquet")
    export(warehouse, target, "csv")
    assert sorted(p.name for p in target.iterdir()) == sorted([f"{d.name}.csv" for d in DATASETS]
                                                              + ["ATTRIBUTION.md", "datapackage.json"])
    assert [p.name for p in tmp_path.iterdir()] == ["export"]  # no staging or old directory left beside it
    (target / "my_notebook.ipynb").write_text("{}")  # someone's file in it: not ours to delete
    with pytest.raises(exports.ExportRefused, match="my_notebook.ipynb"):
        export(warehouse, target, "parquet")
    assert (target / "partnership_sides.csv").exists()


def test_a_failed_export_leaves_the_previous_one_and_no_half_directory(warehouse, tmp_path, monkeypatch):
    target = tmp_path / "export"
    export(warehouse, target, "parquet")
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def fail(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(exports, "attribution_text", fail)  # after every data file is written
    with pytest.raises(OSError, match="No space left"):
        export(warehouse, target, "csv")
    with pytest.raises(OSError, match="No space left"):
        export(warehouse, tmp_path / "new", "csv")
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["export"]


# --- the command ------------------------------------------------------------------------------


def test_the_command_prints_each_file_with_its_rows(warehouse, tmp_path):
    result = runner.invoke(app, ["export", "--format", "parquet", "--to", str(tmp_path / "out"), "--warehouse",
                                 warehouse])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "6 rows" in lines["partnership_sides.parquet"] and "2 rows" in lines["networks_per_municipality.parquet"]
    assert {"datapackage.json", "ATTRIBUTION.md"} <= set(lines) and len(DATASETS) + 3 == len(lines)


def test_the_command_on_a_warehouse_without_a_run_exits_2(warehouse_url, tmp_path):
    out = tmp_path / "out"
    args = ["export", "--format", "parquet", "--to", str(out), "--warehouse", warehouse_url]
    empty = runner.invoke(app, args)
    assert empty.exit_code == 2 and "run `citylinks run` first" in empty.stderr.strip().splitlines()[0]
    assert not (tmp_path / "warehouse.db").exists()  # SQLite: not created by asking
    engine = wh.make_engine(warehouse_url)
    wh.create_schema(engine)
    engine.dispose()
    migrated = runner.invoke(app, args)
    assert migrated.exit_code == 2 and "no run has loaded the warehouse yet" in migrated.stderr
    assert not out.exists()
    assert runner.invoke(app, ["export", "--format", "xlsx", "--to", str(out)]).exit_code == 2


def test_values_that_do_not_fit_their_type_are_named_not_written():
    assert exports.cast(pd.Series([1, 0, None]), "bool", "t.c").tolist() == [True, False, pd.NA]
    assert exports.cast(pd.Series(["2024-02-29", None]), "date", "t.c").tolist() == [date(2024, 2, 29), None]
    with pytest.raises(exports.ExportError, match=r"networks_per_municipality.since_date: .*'2024-13-01'"):
        exports.cast(pd.Series(["2024-13-01"]), "date", "networks_per_municipality.since_date")
    with pytest.raises(exports.ExportError, match="does not fit type 'int': 2.5"):
        exports.cast(pd.Series([2.5]), "int", "t.c")
    with pytest.raises(exports.ExportError, match="does not fit type 'bool'"):
        exports.cast(pd.Series([2]), "bool", "t.c")
