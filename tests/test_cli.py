"""The console script's inspection commands (run is covered by the flow tests)."""
import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractors import twincities_dataset as tc
from flows.cli import app
from tests.support import bundled_path

runner = CliRunner()


def test_sources_lists_every_source_with_licence_and_recording():
    result = runner.invoke(app, ["sources"])
    assert result.exit_code == 0, result.output
    for name in ("wikidata_twinnings", "twincities_dataset", "wikipedia_twinning_sections"):
        assert name in result.output
    assert "CC0" in result.output and "CC BY-SA 4.0" in result.output and "recorded: 2026-02-08" in result.output


def test_parse_prints_json_lines_of_a_saved_response():
    result = runner.invoke(app, ["parse", "twincities_dataset", str(bundled_path("GET", tc.URL))])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 25917
    assert json.loads(lines[0])["b_name"] == "Amasya"


def one_line_error(result) -> str:
    """The CLI's error: exactly one line on stderr, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_parse_of_a_changed_file_fails_with_the_reason_in_one_line(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><body>Service unavailable</body></html>")
    result = runner.invoke(app, ["parse", "wikidata_twinnings", str(page)])
    assert result.exit_code == 1
    assert "not SPARQL JSON" in one_line_error(result)


def test_parse_rejects_unknown_source_as_a_usage_error(tmp_path):
    result = runner.invoke(app, ["parse", "nope", str(tmp_path)])
    assert result.exit_code == 2 and "unknown source 'nope'" in one_line_error(result)


def test_parse_of_a_missing_file_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["parse", "twincities_dataset", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "no such file" in one_line_error(result)


def test_debug_still_states_the_reason(tmp_path):
    page = tmp_path / "page.json"
    page.write_text("{}")
    result = runner.invoke(app, ["--debug", "parse", "wikidata_twinnings", str(page)])
    assert result.exit_code == 1 and "not SPARQL JSON" in result.stderr


@pytest.mark.parametrize("stdin, expected", [
    ("", "stdin is empty"),
    ("name,country\nK\x00ln,DE\n", "binary data"),
])
def test_resolve_refuses_empty_or_binary_input_in_one_line(stdin, expected):
    result = runner.invoke(app, ["resolve"], input=stdin)
    assert result.exit_code == 2 and expected in one_line_error(result)


def test_resolve_refuses_bytes_that_are_not_utf8():
    result = runner.invoke(app, ["resolve"], input=b"name,country\n\xff\xfe\x81,DE\n")
    assert result.exit_code == 2 and "not UTF-8" in one_line_error(result)


def test_resolve_says_which_country_it_does_not_know_and_reads_cyrillic_names():
    result = runner.invoke(app, ["resolve"], input="name,country\nMoskau,XX\nМосква,Россия\n")
    assert result.exit_code == 0, result.output
    assert "line 2: country 'XX' not recognised" in result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[1]["geonames_id"] == "524901"  # Moscow, found with its country in Russian


def test_resolve_adds_matches_to_a_csv_on_stdin():
    csv_in = "name,country\nKöln,DE\nCologne,Germany\nKolonia,Niemcy\nAichtal,Deutschland\n"
    result = runner.invoke(app, ["resolve"], input=csv_in)
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in result.stdout.strip().splitlines()]
    header = rows[0]
    assert header[:2] == ["name", "country"] and {"geonames_id", "canonical_name", "score", "method"} <= set(header)
    ids = [row[header.index("geonames_id")] for row in rows[1:]]
    assert ids[:3] == ["2886242"] * 3  # Köln = Cologne = Kolonia
    assert ids[3] == "" and rows[4][header.index("status")] == "unresolved"  # not guessed


def test_resolve_requires_the_header():
    result = runner.invoke(app, ["resolve"], input="city;land\nKöln;DE\n")
    assert result.exit_code == 2 and "name,country" in one_line_error(result)


def test_parse_reads_a_saved_wikidata_entity_too():
    from pathlib import Path

    entity = Path(__file__).parent / "fixtures" / "wikidata" / "entity_Q2112_Bielefeld_2023-04-04.json"
    result = runner.invoke(app, ["parse", "wikidata_twinnings", str(entity)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert len(records) == 8 and {r["a_qid"] for r in records} == {"Q2112"}


def test_run_with_an_unreachable_warehouse_is_a_configuration_error(tmp_path):
    result = runner.invoke(app, ["run", "--warehouse", "postgresql+psycopg://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 3 and "cannot open the warehouse" in one_line_error(result)


def test_run_with_missing_recordings_is_a_configuration_error(tmp_path):
    result = runner.invoke(app, ["run", "--replay", str(tmp_path / "nothing"), "--warehouse",
                                 f"sqlite:///{tmp_path / 'w.db'}"])
    assert result.exit_code == 3 and "no recordings at" in one_line_error(result)


def test_run_with_an_unknown_source_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["run", "nope", "--warehouse", f"sqlite:///{tmp_path / 'w.db'}"])
    assert result.exit_code == 2 and "unknown source 'nope'" in one_line_error(result)
    assert not (tmp_path / "w.db").exists()  # nothing started


def test_parse_foerderdatenbank_prints_a_record_per_detail_page_and_a_reason_for_a_page_that_does_not_fit(tmp_path):
    pages = sorted((Path(__file__).parent / "fixtures" / "foerderdatenbank").glob("detail*.html"))
    assert len(pages) == 4
    for page in pages:
        result = runner.invoke(app, ["parse", "foerderdatenbank", str(page)])
        [record] = [json.loads(line) for line in result.output.splitlines()]
        assert result.exit_code == 0 and record["title"] and record["reject_reason"] is None
        assert record["programme_url"].startswith("https://www.foerderdatenbank.de/FDB/Content/DE/Foerderprogramm/")
    cut = tmp_path / "cut.html"
    cut.write_bytes(pages[0].read_bytes()[:20_000])
    result = runner.invoke(app, ["parse", "foerderdatenbank", str(cut)])
    [record] = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 0 and "truncated" in record["reject_reason"]


def test_calls_lists_the_warehouses_calls_soonest_first_with_filters(tmp_path):
    from datetime import date

    from tests.support import load_calls, recorded_calls
    from warehouse import load as wh

    frame = recorded_calls()
    frame.loc[0, ["closes", "deadlines"]] = [date.today().isoformat()] * 2  # one call closing today (derived)
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = wh.make_engine(url)
    wh.create_schema(engine)
    load_calls(engine, frame)
    engine.dispose()
    listed = runner.invoke(app, ["calls", "--format", "json", "--warehouse", url])
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert listed.exit_code == 0 and [r["days_left"] for r in rows][0] == 0 and len(rows) == 2
    soon = runner.invoke(app, ["calls", "--open", "--closing-within", "60", "--format", "csv", "--warehouse", url])
    assert soon.exit_code == 0 and soon.output.count("\n") == 2 and "Low power Edge AI Chips" in soon.output
    unknown = runner.invoke(app, ["calls", "--theme", "sports", "--warehouse", url])
    assert unknown.exit_code == 2 and "unknown theme 'sports'" in unknown.output


def test_report_writes_the_latest_runs_html_or_says_there_is_no_run(tmp_path):
    from tests.support import load_calls, recorded_calls
    from warehouse import load as wh

    url = f"sqlite:///{tmp_path / 'w.db'}"
    missing = runner.invoke(app, ["report", "--warehouse", url])
    assert missing.exit_code == 2 and "no warehouse at" in missing.output
    engine = wh.make_engine(url)
    wh.create_schema(engine)
    empty = runner.invoke(app, ["report", "--warehouse", url])
    assert empty.exit_code == 2 and "no run in the warehouse yet" in empty.output

    load_calls(engine, recorded_calls(), run_id="run-42")
    engine.dispose()
    written = runner.invoke(app, ["report", "--warehouse", url])
    assert written.exit_code == 0, written.output
    path = Path(written.output.strip())
    assert path.parent == tmp_path / "reports" and path.name.endswith("-run-42.html")
    html = (tmp_path / "reports" / "latest.html").read_text(encoding="utf-8")
    assert 'content="run-42"' in html and "eu_funding_tenders" in html
    assert "<b>2</b>calls for proposals" in html.replace("\n", "").replace("    ", "")


def test_reading_commands_on_a_missing_warehouse_say_so_and_create_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'none' / 'w.db'}"
    for command in (["memberships", "Köln"], ["calls"], ["report"], ["export", "--format", "csv", "--to",
                                                                      str(tmp_path / "out")]):
        result = runner.invoke(app, [*command, "--warehouse", url])
        assert result.exit_code == 2 and "no warehouse at" in result.output, (command, result.output)
    assert not (tmp_path / "none").exists()


def test_reading_commands_name_a_warehouse_at_an_older_schema_instead_of_reading_it(tmp_path):
    from alembic import command
    from alembic.config import Config

    from warehouse import load as wh

    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = wh.make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(wh.MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0012")
    engine.dispose()
    for command_line in (["report"], ["calls"], ["memberships", "Köln"],
                         ["export", "--format", "csv", "--to", str(tmp_path / "out")]):
        result = runner.invoke(app, [*command_line, "--warehouse", url])
        assert result.exit_code == 2, (command_line, result.output)
        assert "is at schema revision 0012" in result.output and "citylinks run" in result.output
