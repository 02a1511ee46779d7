"""Wikidata extractor on real WDQS and entity responses."""
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from extractors import wikidata
from extractors import wikidata_twinnings as wd
from extractors.base import EmptyResult, SourceChanged
from schemas.records import PARTNERSHIP_ASSERTION

FIXTURES = Path(__file__).parent / "fixtures" / "wikidata"
WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_p190_replay_parses_every_row(bundled_body):
    records = wd.parse(bundled_body("POST", wd.ENDPOINT, data=wd.request()["data"]), extracted_at=WHEN)
    assert len(records) == 5758  # one per (city, partner): the 2017 result has no statement ids
    berlin_la = next(r for r in records if r["a_qid"] == "Q64" and r["b_qid"] == "Q65")
    assert berlin_la["a_name"] == "Berlin" and berlin_la["b_name"] == "Los Angeles"
    assert berlin_la["a_country"] == "DE" and berlin_la["b_country"] is None  # unbound → None
    assert berlin_la["record_key"] == "Q64-Q65"
    frame = PARTNERSHIP_ASSERTION.to_frame(records)
    assert frame["record_key"].is_unique


def test_live_shape_with_qualifiers_coordinates_and_duplicates():
    """The live query's variables; a statement repeated by a second P17 value collapses to one."""
    row = {
        "city": {"type": "uri", "value": "http://www.wikidata.org/entity/Q3955"},
        "cityLabel": {"xml:lang": "de", "type": "literal", "value": "Weimar"},
        "ags": {"type": "literal", "value": "16055000"},
        "cityCoord": {"datatype": "http://www.opengis.net/ont/geosparql#wktLiteral", "type": "literal",
                      "value": "Point(11.3235 50.9795)"},
        "partner": {"type": "uri", "value": "http://www.wikidata.org/entity/Q160927"},
        "partnerLabel": {"xml:lang": "de", "type": "literal", "value": "Siena"},
        "partnerCountryCode": {"type": "literal", "value": "IT"},
        "start": {"datatype": "http://www.w3.org/2001/XMLSchema#dateTime", "type": "literal",
                  "value": "1995-02-18T00:00:00Z"},
        "startPrecision": {"datatype": "http://www.w3.org/2001/XMLSchema#integer", "type": "literal", "value": "11"},
        "stmt": {"type": "uri", "value": "http://www.wikidata.org/entity/statement/Q3955-f5bc4a76"},
    }
    second = {**row, "partnerCountryCode": {"type": "literal", "value": "VA"}}
    doc = {"head": {"vars": list(row) + ["end", "refURL"]}, "results": {"bindings": [row, second]}}
    [record] = wd.parse(json.dumps(doc), extracted_at=WHEN)
    assert record["record_key"] == "Q3955-f5bc4a76"
    assert record["a_ags"] == "16055000" and (record["a_lat"], record["a_lon"]) == (50.9795, 11.3235)
    assert record["b_country"] == "IT" and record["start_raw"] == "1995-02-18"
    assert record["end_raw"] is None and record["reference_url"] is None


def test_optional_variables_absent_from_bindings_become_none():
    body = (FIXTURES / "sparql_results_films_optional_values.json").read_bytes()
    variables, rows = wikidata.sparql_rows(body, url="x", source="test")
    assert any(row[v] is None for row in rows for v in variables)
    assert all(set(row) == set(variables) for row in rows)


def test_other_real_sparql_result_without_p190_variables_is_a_changed_source():
    content = (FIXTURES / "sparql_results_german_cities_over_40k_2023-08.json").read_bytes()
    with pytest.raises(SourceChanged, match="lacks variables"):
        wd.parse(content, url="https://query.wikidata.org/sparql")


@pytest.mark.parametrize("content", [b"<html>502 Bad Gateway</html>", b'{"head": {}}', b""])
def test_malformed_response_is_a_clear_error(content):
    with pytest.raises(SourceChanged, match="not SPARQL JSON"):
        wd.parse(content, url="https://query.wikidata.org/sparql")


def test_empty_result_fails_the_source():
    doc = {"head": {"vars": ["city", "partner"]}, "results": {"bindings": []}}
    with pytest.raises(EmptyResult, match="no rows"):
        wd.parse(json.dumps(doc))


def test_entity_json_year_precision_and_ags():
    records = wd.parse_entities((FIXTURES / "entity_Q2112_Bielefeld_2023-04-04.json").read_bytes(), url="x",
                                extracted_at=WHEN)
    assert len(records) == 8
    assert {r["a_ags"] for r in records} == {"05711000"}
    years = {r["b_qid"]: r["start_raw"] for r in records}
    assert years["Q474605"] == "1953"  # precision 9: '+1953-00-00' is a year, not a date
    assert years["Q207614"] is None  # no P580 qualifier


def test_wbgetentities_day_precision_and_reference_url():
    records = wd.parse_entities((FIXTURES / "wbgetentities_Q3955_Weimar_2016-09.json").read_bytes(), url="x")
    siena = next(r for r in records if r["b_qid"] == "Q160927")
    assert siena["start_raw"] == "1995-02-18"
    assert siena["reference_url"] == "http://stadt.weimar.de/ueber-weimar/partnerstaedte/"


def test_wbgetentities_envelope_without_p190_gives_no_rows():
    assert wd.parse_entities((FIXTURES / "wbgetentities_envelope_Q3235026_2019.json").read_bytes(), url="x") == []


def test_entity_api_error_is_a_changed_source():
    with pytest.raises(SourceChanged, match="API error"):
        wd.parse_entities(b'{"error": {"code": "no-such-entity"}}', url="x")


def test_german_german_statement_returned_by_both_union_branches_keeps_its_own_direction():
    """Weimar (owner of the statement) ↔ Trier: the reverse branch must not lend Trier's ids to Weimar."""
    def binding(city, city_label, ags, partner, partner_label, geonames=None, coord=None):
        row = {"city": {"type": "uri", "value": wikidata.ENTITY_PREFIX + city},
               "cityLabel": {"type": "literal", "value": city_label},
               "ags": {"type": "literal", "value": ags},
               "partner": {"type": "uri", "value": wikidata.ENTITY_PREFIX + partner},
               "partnerLabel": {"type": "literal", "value": partner_label},
               "stmt": {"type": "uri", "value": "http://www.wikidata.org/entity/statement/Q3955-aaaa-bbbb"}}
        if geonames:
            row["cityGeonames"] = {"type": "literal", "value": geonames}
        if coord:
            row["cityCoord"] = {"type": "literal", "value": coord}
        return row

    reverse_first = [binding("Q3138", "Trier", "07211000", "Q3955", "Weimar", "2821164", "Point(6.64 49.75)"),
                     binding("Q3955", "Weimar", "16055000", "Q3138", "Trier")]
    doc = {"head": {"vars": ["city", "cityLabel", "ags", "cityGeonames", "cityCoord", "partner", "partnerLabel",
                             "stmt"]}, "results": {"bindings": reverse_first}}
    [record] = wd.parse(json.dumps(doc), extracted_at=WHEN)
    assert (record["a_qid"], record["b_qid"], record["a_ags"]) == ("Q3955", "Q3138", "16055000")
    assert record["a_geonames_id"] is None and record["a_lat"] is None  # Trier's, not Weimar's


@pytest.mark.parametrize("value, precision, written", [
    ("+1953-00-00T00:00:00Z", "9", "1953"),
    ("+1995-02-00T00:00:00Z", "10", "1995-02"),
    ("+1995-02-18T00:00:00Z", "11", "1995-02-18"),
    ("+99999-01-01T00:00:00Z", "9", "99999"),  # kept whole: the quality gate judges it, not a cut
    ("-0500-01-01T00:00:00Z", "9", "-0500"),
])
def test_times_keep_the_whole_year_at_their_precision(value, precision, written):
    assert wikidata.wikidata_time(value, precision) == written
