"""EU Funding & Tenders (SEDIA search API) extractor on the real recorded response
(tests/fixtures/eu_funding_tenders/, see its PROVENANCE.md): 2 Horizon topics, totalResults 276.

Variants (another language, an unknown status, a broken budgetOverview, …) are made by editing
in-memory copies of the real results; each test says what it changed."""
import copy
import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from extractors import eu_funding_tenders as eft
from extractors.base import EmptyResult, SourceChanged
from extractors.http import HttpClient, add_recording
from schemas.records import FUNDING_CALL

FIXTURE = Path(__file__).parent / "fixtures" / "eu_funding_tenders" / "sedia_search_trimmed_2026-06-11.json"
URL = ("https://api.tech.ec.europa.eu/search-api/prod/rest/search?apiKey=SEDIA&text=***&pageSize=3&pageNumber=1")
WHEN = datetime(2026, 6, 11, tzinfo=timezone.utc)
CHIPS = "HORIZON-JU-CHIPS-2025-IA-LEAI-two-stage"
PRIZE = "HORIZON-JU-EDCTP3-2026-SCILEADERSHIPMANSSAPRIZE"
HORIZON = {"43108390": "Horizon Europe"}  # the programme of the recorded topics


def document() -> dict:
    return json.loads(FIXTURE.read_bytes())


def parse(doc: dict | None = None) -> dict[str, dict]:
    content = FIXTURE.read_bytes() if doc is None else json.dumps(doc).encode("utf-8")
    return {r["record_key"]: r for r in eft.parse(content, url=URL, extracted_at=WHEN)}


class Capture(logging.Handler):
    """The run uses -p no:logging (no caplog): collect the module's log records by hand."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def warnings_logged():
    handler = Capture()
    logger = logging.getLogger(eft.__name__)
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


# --- the real response ------------------------------------------------------------------------

def test_the_real_two_stage_topic_with_its_real_values():
    records = parse()
    assert list(records) == [CHIPS, PRIZE]  # one record per topic, in the response's order
    chips = records[CHIPS]
    assert chips["source"] == "eu_funding_tenders"
    assert chips["call_identifier"] == CHIPS
    assert chips["title"] == "Low power Edge AI Chips"  # metadata.title; the result's own title is null
    assert chips["summary"] == "Low power Edge AI Chips"
    assert chips["programme"] == "43108390"
    assert (chips["status"], chips["status_raw"]) == ("forthcoming", "31094501")
    assert chips["opens"] == "2025-03-04"  # startDate 2025-03-04T00:00:00.000+0000
    assert chips["deadlines"] == "2025-04-29;2025-09-17"  # two-stage: both deadlineDate values
    assert chips["closes"] == "2025-09-17"
    assert chips["deadline_model"] == "two-stage"
    assert chips["budget_eur"] == 20_000_000  # budgetYearMap {"2025": "20000000"}
    assert chips["min_contribution_eur"] == 1_000_000
    assert chips["max_contribution_eur"] == 20_000_000
    assert chips["expected_grants"] == 2
    assert chips["types_of_action"] == "HORIZON JU Innovation Actions"
    assert chips["languages"] == "en"
    assert chips["call_url"] == ("https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/"
                                 "opportunities/topic-details/" + CHIPS)
    assert chips["source_url"] == ("https://ec.europa.eu/info/funding-tenders/opportunities/data/topicDetails/"
                                   f"{CHIPS}.json")
    assert chips["extracted_at"] == WHEN
    assert chips["reject_reason"] is None


def test_the_real_single_stage_prize_topic():
    prize = parse()[PRIZE]
    assert prize["title"] == "HORIZON-JU-EDCTP3-2026-Scientific Leadership Man SSA Prize"
    assert (prize["opens"], prize["deadlines"], prize["closes"]) == ("2026-05-27", "2026-09-02", "2026-09-02")
    assert prize["deadline_model"] == "single-stage"
    assert (prize["budget_eur"], prize["min_contribution_eur"], prize["max_contribution_eur"]) == (15000, 15000, 15000)
    assert prize["expected_grants"] == 1
    assert prize["types_of_action"] == "HORIZON Recognition Prize"
    assert prize["status"] == "forthcoming"
    # this result's metadata.url is the portal page itself, not a topicDetails JSON: kept as stated
    assert prize["source_url"] == prize["call_url"]
    assert prize["reject_reason"] is None


def test_records_fit_the_funding_call_contract():
    frame = FUNDING_CALL.to_frame(list(parse().values()))
    assert len(frame) == 2
    assert frame["budget_eur"].tolist() == [20_000_000, 15_000]
    assert frame["expected_grants"].tolist() == [2, 1]
    assert set(FUNDING_CALL.required) <= set(frame.columns)
    assert frame[list(FUNDING_CALL.required)].notna().all().all()


def test_source_info():
    assert eft.SOURCE.name == "eu_funding_tenders"
    assert eft.SOURCE.domain == "funding_calls"
    assert eft.SOURCE.url == "https://api.tech.ec.europa.eu/search-api/prod/rest/search"
    assert eft.SOURCE.contract is FUNDING_CALL
    assert eft.FRAMEWORK_PROGRAMMES == {"43251589": "CERV"}


# --- per-language duplicates -------------------------------------------------------------------

def test_the_same_topic_in_two_languages_is_one_record_with_the_english_texts():
    doc = document()
    # Derived from the real record: a German copy of the real CHIPS result, placed BEFORE the
    # English one; only `language`, the `reference` suffix and the texts are changed.
    german = copy.deepcopy(doc["results"][0])
    german["language"] = "de"
    german["reference"] = german["reference"][:-len("en")] + "de"  # 47888746TOPICSde
    german["summary"] = "KI-Chips mit geringem Stromverbrauch"
    german["metadata"]["title"] = ["KI-Chips mit geringem Stromverbrauch"]
    doc["results"].insert(0, german)
    records = parse(doc)
    assert list(records) == [CHIPS, PRIZE]
    chips = records[CHIPS]
    assert chips["languages"] == "de;en"
    assert chips["title"] == chips["summary"] == "Low power Edge AI Chips"
    assert chips["deadlines"] == "2025-04-29;2025-09-17"
    assert records[PRIZE]["languages"] == "en"


def test_a_topic_only_in_another_language_keeps_that_languages_texts():
    doc = document()
    # Derived from the real record: the PRIZE result relabelled French, the English one removed.
    doc["results"][1]["language"] = "fr"
    doc["results"][1]["reference"] = "51349685TOPICSfr"
    prize = parse(doc)[PRIZE]
    assert prize["languages"] == "fr"
    assert prize["title"] == "HORIZON-JU-EDCTP3-2026-Scientific Leadership Man SSA Prize"


# --- row-level oddities: the row is kept ---------------------------------------------------------

def test_an_unknown_status_code_keeps_the_record_without_a_status():
    doc = document()
    doc["results"][0]["metadata"]["status"] = ["31094599"]  # changed from the real 31094501
    chips = parse(doc)[CHIPS]
    assert chips["status"] is None
    assert chips["status_raw"] == "31094599"
    assert "31094599" in chips["reject_reason"]
    assert parse(doc)[PRIZE]["reject_reason"] is None


def test_open_and_closed_codes_are_mapped():
    doc = document()
    doc["results"][0]["metadata"]["status"] = ["31094502"]
    doc["results"][1]["metadata"]["status"] = ["31094503"]  # inferred code (never seen recorded)
    records = parse(doc)
    assert records[CHIPS]["status"] == "open"
    assert records[PRIZE]["status"] == "closed"


def test_a_broken_budget_overview_leaves_the_budget_empty_and_warns(warnings_logged):
    doc = document()
    real = doc["results"][0]["metadata"]["budgetOverview"][0]
    doc["results"][0]["metadata"]["budgetOverview"] = [real[:120]]  # the real string, cut short
    chips = parse(doc)[CHIPS]
    assert chips["reject_reason"] is None  # a missing budget is not a bad row
    for column in ("budget_eur", "min_contribution_eur", "max_contribution_eur", "expected_grants"):
        assert chips[column] is None
    assert chips["deadlines"] == "2025-04-29;2025-09-17"  # from metadata, unaffected
    assert chips["opens"] == "2025-03-04"
    warnings = [r for r in warnings_logged if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and CHIPS in warnings[0].getMessage()
    assert "budgetOverview does not parse" in warnings[0].getMessage()
    assert parse(doc)[PRIZE]["budget_eur"] == 15000


def test_a_call_level_overview_counts_only_the_topics_own_actions():
    doc = document()
    # Derived from the real records: the CHIPS overview also lists the PRIZE topic's real action,
    # as a call-level overview lists every topic of the call.
    chips_md, prize_md = doc["results"][0]["metadata"], doc["results"][1]["metadata"]
    overview = json.loads(chips_md["budgetOverview"][0])
    overview["budgetTopicActionMap"].update(json.loads(prize_md["budgetOverview"][0])["budgetTopicActionMap"])
    chips_md["budgetOverview"] = [json.dumps(overview)]
    chips = parse(doc)[CHIPS]
    assert chips["budget_eur"] == 20_000_000
    assert (chips["min_contribution_eur"], chips["max_contribution_eur"], chips["expected_grants"]) == \
        (1_000_000, 20_000_000, 2)


def test_without_metadata_dates_the_budget_overview_supplies_them():
    doc = document()
    # The real CHIPS result without startDate/deadlineDate/deadlineModel: its budgetOverview
    # states plannedOpeningDate 2025-03-04 and deadlineDates 2025-04-29, 2025-09-17 itself.
    for field in ("startDate", "deadlineDate", "deadlineModel"):
        del doc["results"][0]["metadata"][field]
    chips = parse(doc)[CHIPS]
    assert chips["opens"] == "2025-03-04"
    assert chips["deadlines"] == "2025-04-29;2025-09-17"
    assert chips["closes"] == "2025-09-17"
    assert chips["deadline_model"] == "two-stage"


def test_an_unreadable_deadline_is_named_in_the_reject_reason():
    doc = document()
    doc["results"][1]["metadata"]["deadlineDate"] = ["02/09/2026"]  # changed from 2026-09-02T00:00:00.000+0000
    prize = parse(doc)[PRIZE]
    assert prize["deadlines"] is None and prize["closes"] is None
    assert "02/09/2026" in prize["reject_reason"]


# --- a changed response fails the source ---------------------------------------------------------

@pytest.mark.parametrize("change", [
    lambda d: d.pop("results"),
    lambda d: d.update(results={"0": d["results"][0]}),
    lambda d: d["results"][1].pop("metadata"),
    lambda d: d["results"][0].update(metadata=[]),
])
def test_a_changed_response_shape_raises_source_changed_naming_the_url(change):
    doc = document()
    change(doc)
    with pytest.raises(SourceChanged, match="apiKey=SEDIA"):
        parse(doc)


def test_an_html_page_instead_of_json_raises_source_changed():
    with pytest.raises(SourceChanged, match="not JSON"):
        eft.parse(b"<html><body>Service unavailable</body></html>", url=URL)


# --- the request ------------------------------------------------------------------------------

def test_request_is_the_exact_multipart_post_and_deterministic():
    one, again = eft.request(eft.FRAMEWORK_PROGRAMMES, 2), eft.request({"43251589": "CERV"}, 2)
    assert one == again  # same params, headers and body bytes: recordings are keyed on them
    assert one["method"] == "POST" and one["url"] == eft.ENDPOINT
    assert one["params"] == {"apiKey": "SEDIA", "text": "***", "pageSize": 100, "pageNumber": 2}
    assert one["headers"]["Content-Type"] == f"multipart/form-data; boundary={eft.BOUNDARY}"
    body = one["data"].decode("utf-8")
    parts = {}
    for chunk in body.split(f"--{eft.BOUNDARY}")[1:-1]:
        head, _, value = chunk.strip("\r\n").partition("\r\n\r\n")
        assert "Content-Type: application/json" in head
        parts[head.split('name="')[1].split('"')[0]] = json.loads(value)
    assert parts == {
        "query": {"bool": {"must": [{"terms": {"frameworkProgramme": ["43251589"]}},
                                    {"terms": {"type": ["1", "2", "8"]}}]}},
        "languages": ["en"],
        "sort": {"field": "sortStatus", "order": "ASC"},
    }
    assert eft.request(eft.FRAMEWORK_PROGRAMMES, 3)["data"] == one["data"]  # the page is in the URL only
    assert eft.request(["43251814", "43251589"], 1) == eft.request({"43251589": "", "43251814": ""}, 1)


# --- extract: pagination -------------------------------------------------------------------------

class FakeHttp:
    """Serves `pages[n]` for pageNumber n (a dict becomes JSON) and records every call."""

    def __init__(self, pages: dict[int, dict]):
        self.pages = pages
        self.calls: list[dict] = []

    def post(self, url, *, data=None, params=None, headers=None, expect=()):
        self.calls.append({"url": url, "params": dict(params), "data": data, "headers": headers, "expect": expect})
        body = self.pages[params["pageNumber"]]
        return SimpleNamespace(content=json.dumps(body).encode("utf-8"),
                               headers={"Content-Type": "application/json", "Date": "Thu, 11 Jun 2026 08:00:00 GMT"})


def empty_page(number: int) -> dict:
    return {"apiVersion": "2.146", "totalResults": 276, "pageNumber": number, "pageSize": 3, "results": []}


def test_extract_walks_pages_until_an_empty_page():
    http = FakeHttp({1: document(), 2: empty_page(2)})
    records = eft.extract(http, framework_programmes=HORIZON)
    assert [r["record_key"] for r in records] == [CHIPS, PRIZE]
    assert [c["params"]["pageNumber"] for c in http.calls] == [1, 2]
    assert http.calls[0]["data"] == eft.request(HORIZON, 1)["data"]
    assert http.calls[0]["expect"] == ("application/json",)
    assert records[0]["extracted_at"] == datetime(2026, 6, 11, 8, 0, tzinfo=timezone.utc)  # the response's Date


def test_extract_stops_when_total_results_are_reached():
    doc = document()
    doc["totalResults"] = 2  # changed from 276: everything is on page 1
    http = FakeHttp({1: doc})
    assert len(eft.extract(http, framework_programmes=HORIZON)) == 2
    assert len(http.calls) == 1


def test_extract_respects_max_pages():
    http = FakeHttp({1: document()})
    assert len(eft.extract(http, framework_programmes=HORIZON, max_pages=1)) == 2
    assert len(http.calls) == 1


def test_an_api_that_ignores_the_page_number_is_caught():
    http = FakeHttp({1: document(), 2: document(), 3: empty_page(3)})
    with pytest.raises(SourceChanged, match="ignores pageNumber"):
        eft.extract(http, framework_programmes=HORIZON)
    assert len(http.calls) == 2


def test_topics_of_another_programme_mean_the_filter_was_ignored():
    # The default filter asks for CERV (43251589); the real page holds Horizon (43108390) topics,
    # which is what an ignored query part would return.
    http = FakeHttp({1: document(), 2: empty_page(2)})
    with pytest.raises(SourceChanged, match="43108390"):
        eft.extract(http)
    assert len(http.calls) == 1


def test_no_topics_at_all_is_an_empty_result():
    http = FakeHttp({1: {**empty_page(1), "totalResults": 0}})
    with pytest.raises(EmptyResult, match="43251589"):
        eft.extract(http)


def test_a_page_without_total_results_fails_the_source():
    doc = document()
    del doc["totalResults"]
    with pytest.raises(SourceChanged, match="totalResults"):
        eft.extract(FakeHttp({1: doc}), framework_programmes=HORIZON)


def test_extract_replays_a_recording_keyed_on_request(tmp_path):
    """The real HTTP layer in replay mode finds the page under exactly the key `request()` gives."""
    for page, body in ((1, FIXTURE.read_bytes()), (2, json.dumps(empty_page(2)).encode("utf-8"))):
        req = eft.request(HORIZON, page)
        add_recording(tmp_path, req["method"], req["url"], body, params=req["params"], data=req["data"],
                      headers={"Content-Type": "application/json"}, recorded_at="2026-06-11T08:00:00Z")
    with HttpClient(mode="replay", recordings_dir=tmp_path) as http:
        records = eft.extract(http, framework_programmes=HORIZON)
    assert [r["record_key"] for r in records] == [CHIPS, PRIZE]
    assert records[0]["extracted_at"] == datetime(2026, 6, 11, 8, 0, tzinfo=timezone.utc)
