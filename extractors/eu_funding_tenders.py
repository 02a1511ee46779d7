"""EU Funding & Tenders portal: calls for proposals (topics) from the portal's search API (SEDIA).

The portal's own search page is backed by an undocumented, unauthenticated Elasticsearch front:
`POST https://api.tech.ec.europa.eu/search-api/prod/rest/search?apiKey=SEDIA&text=***
&pageSize=100&pageNumber=<n>` (the key `SEDIA` is public; per the source catalogue GET answers
405 and the server caps pageSize at 100). CityLinks wants the CERV programme (Citizens, Equality, Rights and Values,
`frameworkProgramme` 43251589), whose "Town Twinning" (CERV-…-CITIZENS-TOWN-TT) and "Networks of
Towns" (…-NT) topics fund municipal partnerships; the programme filter is an option, so other
programmes (Horizon Europe 43108390, …) can be asked for the same way.

What is verified against a recording — one real response, trimmed by its recorder to 2 Horizon
topics (tests/fixtures/eu_funding_tenders/, fetched 2026-06-11):
* the envelope: `totalResults` (276 there), `pageNumber`, `pageSize`, `results`;
* a result: `reference` with a language suffix ("47888746TOPICSen"), `language`, `url`, `summary`,
  `title` (null there: the title lives in metadata), and `metadata`, whose values are all arrays
  of strings: identifier, callIdentifier, title, status, frameworkProgramme, startDate,
  deadlineDate ("2025-04-29T00:00:00.000+0000"; a two-stage topic has two), deadlineModel,
  typesOfAction, url (the topicDetails JSON, or the portal page itself);
* `budgetOverview`: a JSON *string* holding budgetTopicActionMap → per action minContribution,
  maxContribution, expectedGrants, budgetYearMap (amounts as strings), plannedOpeningDate,
  deadlineModel, deadlineDates. Action names start with the topic identifier ("<ID> - <type>").

What is NOT verified (public client code and the source catalogue only; check on the first
online run, which records it):
* the request body. It is multipart/form-data with the JSON parts `query`, `languages` and
  `sort`, each sent as an application/json "blob" part (clients report HTTP 500 or an ignored
  filter otherwise). The recording's note names the three parts but not their content, so
  the body here is built from client code. Whether `sortStatus` alone orders pages stably is
  unknown too; topics seen twice across pages are collapsed anyway. Because the filter might be ignored, `extract` fails the source when a page holds
  topics of other programmes rather than walk the whole index (~74k topics);
* the CERV id 43251589 (seen in several independent clients only);
* the status codes: 31094501 forthcoming and 31094502 open are seen in clients, 31094503 closed
  is inferred. An unknown code keeps the record with status None and a reject_reason;
* that each topic comes once per language (the catalogue says so; the recording is English
  only). Records are collapsed by `metadata.identifier`, texts taken from the English one;
* the `SEDIA_PRD_CENTRICITY` stale copy of the index reported by clients: not seen here. The
  recording itself shows how far a status may lag: both topics are "forthcoming" (31094501)
  although the first one's deadlines (2025) lie before the fetch date. The code is kept in
  `status_raw`; the quality gate checks status against the dates.

A page that is not a SEDIA result page (no `results`, a result without `metadata`) fails the
source. A topic whose budgetOverview does not parse is kept with empty budget fields and a
logged warning: a missing budget is not a bad row. Dates are kept as the calendar date the
portal states (the timestamps are midnight, +0000 in the recording). Licence: EU reuse policy
(Commission Decision 2011/833/EU), attribution to the European Commission.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import urlencode

from urllib3.filepost import encode_multipart_formdata

from extractors.base import JSON_TYPES, EmptyResult, SourceChanged, SourceInfo, response_time
from schemas.records import FUNDING_CALL

log = logging.getLogger(__name__)

ENDPOINT = "https://api.tech.ec.europa.eu/search-api/prod/rest/search"
PORTAL_TOPIC = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/"
API_KEY = "SEDIA"
PAGE_SIZE = 100  # the server's cap
#: Result types asked for, as the portal's own searches and the clients do (1 = grants/calls).
TYPES = ("1", "2", "8")
LANGUAGES = ("en",)
SORT = {"field": "sortStatus", "order": "ASC"}
#: A fixed multipart boundary: recordings are keyed on the body's hash, so it must not vary.
BOUNDARY = "citylinks-sedia-search-0c7f3b2e"

#: Who pays for the portal's grants (sources.md §3.3: the European Commission's portal).
FUNDER = "European Commission"

SOURCE = SourceInfo(
    name="eu_funding_tenders",
    domain="funding_calls",
    url=ENDPOINT,
    licence_id="LicenseRef-EU-Reuse-2011-833",
    licence="EU reuse policy (Commission Decision 2011/833/EU)",
    attribution="European Commission, EU Funding & Tenders Portal",
    recorded="2026-06-11 (a trimmed search response: 2 Horizon topics)",
    contract=FUNDING_CALL,
)

#: frameworkProgramme ids to ask for → a name for logs (CERV's id: public client code, unconfirmed).
FRAMEWORK_PROGRAMMES = {"43251589": "CERV"}
#: metadata.status → contract status; 31094503 (closed) is inferred, not seen.
STATUSES = {"31094501": "forthcoming", "31094502": "open", "31094503": "closed"}
_STAMP_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d")
_NO_BUDGET = {"budget_eur": None, "min_contribution_eur": None, "max_contribution_eur": None,
              "expected_grants": None, "planned_opening": None, "deadline_model": None, "deadline_dates": []}


class _Hit(NamedTuple):
    """One search result with the page it came from."""
    result: dict
    url: str
    extracted_at: datetime


# --- request -----------------------------------------------------------------------------------

def request(framework_programmes: Mapping[str, str] | Iterable[str] = FRAMEWORK_PROGRAMMES, page: int = 1, *,
            text: str = "***") -> dict[str, Any]:
    """The exact POST made live for one result page; recordings are keyed on it (method, URL,
    params, body), so the same arguments always give the same bytes."""
    programmes = sorted(str(p) for p in framework_programmes)
    if not programmes:
        raise ValueError("at least one frameworkProgramme id is needed")
    query = {"bool": {"must": [{"terms": {"frameworkProgramme": programmes}},
                               {"terms": {"type": list(TYPES)}}]}}
    parts = [(name, ("blob", json.dumps(value, separators=(",", ":")), "application/json"))
             for name, value in (("query", query), ("languages", list(LANGUAGES)), ("sort", SORT))]
    body, content_type = encode_multipart_formdata(parts, boundary=BOUNDARY)
    return {"method": "POST", "url": ENDPOINT,
            "params": {"apiKey": API_KEY, "text": text, "pageSize": PAGE_SIZE, "pageNumber": int(page)},
            "data": body, "headers": {"Content-Type": content_type, "Accept": "application/json"}}


def page_url(req: dict[str, Any]) -> str:
    """The request's URL with its query, for messages and as a last-resort source_url."""
    return f"{req['url']}?{urlencode(req['params'])}"


# --- extract -----------------------------------------------------------------------------------

def extract(http, framework_programmes: Mapping[str, str] | Iterable[str] | None = None, text: str = "***",
            max_pages: int | None = None) -> list[dict]:
    """Every result page of the programmes' topics (up to `max_pages`), collapsed to one record per
    topic. Pages follow `totalResults`; an empty page ends the walk too."""
    programmes = {str(p) for p in (FRAMEWORK_PROGRAMMES if framework_programmes is None else framework_programmes)}
    if max_pages is not None and max_pages < 1:
        raise ValueError("max_pages must be at least 1")
    hits: list[_Hit] = []
    seen: dict[tuple, int] = {}
    page = 1
    while max_pages is None or page <= max_pages:
        req = request(programmes, page, text=text)
        url = page_url(req)
        response = http.post(req["url"], params=req["params"], data=req["data"], headers=req["headers"],
                             expect=JSON_TYPES)
        document, results = _page(response.content, url=url)
        if not results:
            break
        references = tuple(str(r.get("reference")) for r in results)
        if references in seen:
            raise SourceChanged(f"{SOURCE.name}: page {page} ({url}) repeats the results of page {seen[references]}; "
                                f"the API ignores pageNumber")
        seen[references] = page
        foreign = [r for r in results if not set(_values(r["metadata"], "frameworkProgramme")) & set(programmes)]
        if foreign:
            found = sorted({p for r in foreign for p in _values(r["metadata"], "frameworkProgramme")}) or ["none"]
            raise SourceChanged(f"{SOURCE.name}: {len(foreign)} of {len(results)} results on {url} belong to "
                                f"frameworkProgramme {', '.join(found)}, not {', '.join(sorted(programmes))}: "
                                f"the query part of the body was not applied")
        when = response_time(response)
        hits.extend(_Hit(result, url, when) for result in results)
        total = document.get("totalResults")
        if not isinstance(total, int) or isinstance(total, bool):
            raise SourceChanged(f"{SOURCE.name}: {url} states no totalResults ({total!r}); pagination needs it")
        size = document.get("pageSize")
        size = size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else PAGE_SIZE
        if page * size >= total:
            break
        page += 1
    if not hits:
        raise EmptyResult(f"{SOURCE.name}: no topics for frameworkProgramme {', '.join(sorted(programmes))} "
                          f"({page_url(request(programmes, 1, text=text))}); is the programme id right?")
    return _collapse(hits)


# --- parse -------------------------------------------------------------------------------------

def parse(content: bytes | str | dict, *, url: str = ENDPOINT, extracted_at: datetime | None = None) -> list[dict]:
    """One saved result page → one record per topic (its per-language results collapsed)."""
    extracted_at = extracted_at or datetime.now(timezone.utc)
    _, results = _page(content, url=url)
    return _collapse([_Hit(result, url, extracted_at) for result in results])


def _page(content: bytes | str | dict, *, url: str) -> tuple[dict, list[dict]]:
    """(document, results) of a result page; anything else fails the source."""
    if isinstance(content, dict):
        document = content
    else:
        try:
            document = json.loads(content)
        except ValueError as exc:
            raise SourceChanged(f"{SOURCE.name}: response from {url} is not JSON ({exc!s:.200})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        keys = sorted(document)[:10] if isinstance(document, dict) else type(document).__name__
        raise SourceChanged(f"{SOURCE.name}: response from {url} has no 'results' list (has {keys})")
    results = document["results"]
    for n, result in enumerate(results, 1):
        if not isinstance(result, dict) or not isinstance(result.get("metadata"), dict):
            reference = result.get("reference") if isinstance(result, dict) else None
            raise SourceChanged(f"{SOURCE.name}: result {n} ({reference!r}) from {url} has no 'metadata' object")
    return document, results


def _collapse(hits: list[_Hit]) -> list[dict]:
    """One record per topic, in order of first appearance: the same topic comes once per language."""
    groups: dict[str, list[_Hit]] = {}
    for hit in hits:
        groups.setdefault(_topic_key(hit.result), []).append(hit)
    return [_record(key, group) for key, group in groups.items()]


def _topic_key(result: dict) -> str:
    identifier = _first(result["metadata"], "identifier")
    if identifier:
        return identifier
    reference, language = str(result.get("reference") or ""), str(result.get("language") or "")
    return reference[:-len(language)] if language and reference.endswith(language) else reference


def _record(key: str, group: list[_Hit]) -> dict:
    hit = next((h for h in group if h.result.get("language") == "en"), group[0])
    result, metadata = hit.result, hit.result["metadata"]
    reasons = []
    identifier = _first(metadata, "identifier")
    if not identifier:
        reasons.append(f"result {result.get('reference')!r} has no metadata.identifier")

    status_raw = _first(metadata, "status")
    status = STATUSES.get(status_raw or "")
    if status is None:
        reasons.append(f"unknown status code {status_raw!r}" if status_raw else "no status code")

    budget = _budget(metadata, identifier or key, hit.url)
    stamps = _values(metadata, "deadlineDate") or budget["deadline_dates"]
    deadlines = sorted({d for d in (_iso_date(s) for s in stamps) if d})
    bad = [s for s in stamps if not _iso_date(s)]
    start = _first(metadata, "startDate")
    opens = _iso_date(start) if start else budget["planned_opening"]
    if start and not opens:
        bad.append(start)
    if bad:
        reasons.append(f"not a date: {', '.join(repr(s) for s in bad)}")

    title = _first(metadata, "title") or _text(result.get("title")) or _first(metadata, "callTitle")
    if not title:
        reasons.append("no title")
    languages = sorted({str(h.result["language"]) for h in group if h.result.get("language")})
    return {
        "source": SOURCE.name,
        "record_key": key,
        "call_identifier": _first(metadata, "callIdentifier"),
        "title": title,
        "programme": _first(metadata, "frameworkProgramme"),
        "funder": FUNDER,
        "status": status,
        "status_raw": status_raw,
        "opens": opens,
        "closes": deadlines[-1] if deadlines else None,
        "deadlines": ";".join(deadlines) or None,
        "deadline_model": _first(metadata, "deadlineModel") or budget["deadline_model"],
        "budget_eur": budget["budget_eur"],
        "min_contribution_eur": budget["min_contribution_eur"],
        "max_contribution_eur": budget["max_contribution_eur"],
        "expected_grants": budget["expected_grants"],
        "types_of_action": "; ".join(_values(metadata, "typesOfAction")) or None,
        "summary": _text(result.get("summary")),
        "languages": ";".join(languages) or None,
        "call_url": PORTAL_TOPIC + identifier if identifier else None,
        "source_url": _first(metadata, "url") or _text(result.get("url")) or hit.url,
        "extracted_at": hit.extracted_at,
        "reject_reason": "; ".join(reasons) or None,
    }


def _budget(metadata: dict, identifier: str, url: str) -> dict:
    """Budget facts of the topic's own actions in budgetOverview (a JSON string). An overview that
    does not parse leaves them empty, with a warning: the topic itself is fine."""
    raw = _first(metadata, "budgetOverview")
    if raw is None:
        return dict(_NO_BUDGET)
    try:
        overview = json.loads(raw)
        action_map = overview["budgetTopicActionMap"]
        actions = [a for group in action_map.values() for a in group if isinstance(a, dict)]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("%s: %s on %s: budgetOverview does not parse (%s: %.100s); budget left empty",
                    SOURCE.name, identifier, url, type(exc).__name__, exc)
        return dict(_NO_BUDGET)
    # A call-level overview lists the actions of every topic of the call, each named "<topic> - <type>".
    named = [a for a in actions if _action_topic(a)]
    own = [a for a in named if _action_topic(a) == identifier.upper()]
    if named and not own:
        log.warning("%s: %s on %s: budgetOverview names only other topics' actions; budget left empty",
                    SOURCE.name, identifier, url)
        return dict(_NO_BUDGET)
    actions = own or actions
    try:
        years = [v for a in actions for v in (a.get("budgetYearMap") or {}).values() if v is not None]
        budget = sum(_number(v) for v in years) if years else None
        minimums = [_number(a["minContribution"]) for a in actions if a.get("minContribution") is not None]
        maximums = [_number(a["maxContribution"]) for a in actions if a.get("maxContribution") is not None]
        grants = [int(_number(a["expectedGrants"])) for a in actions if a.get("expectedGrants") is not None]
    except (ValueError, TypeError, AttributeError) as exc:
        log.warning("%s: %s on %s: budgetOverview amounts are not numbers (%.100s); budget left empty",
                    SOURCE.name, identifier, url, exc)
        return dict(_NO_BUDGET)
    openings = sorted(d for d in (_iso_date(a.get("plannedOpeningDate")) for a in actions) if d)
    models = [str(a["deadlineModel"]) for a in actions if a.get("deadlineModel")]
    return {
        "budget_eur": budget,
        "min_contribution_eur": min(minimums) if minimums else None,
        "max_contribution_eur": max(maximums) if maximums else None,
        "expected_grants": sum(grants) if grants else None,
        "planned_opening": openings[0] if openings else None,
        "deadline_model": models[0] if models else None,
        "deadline_dates": [str(d) for a in actions for d in (a.get("deadlineDates") or [])],
    }


def _action_topic(action: dict) -> str | None:
    name = str(action.get("action") or "")
    return name.split(" - ", 1)[0].strip().upper() if " - " in name else None


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{value!r} is not an amount")
    return float(value)


def _values(metadata: dict, field: str) -> list[str]:
    """A metadata field's values: arrays of strings in the recording (a bare string tolerated)."""
    value = metadata.get(field)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [text for text in (_text(item) for item in items) if text]


def _first(metadata: dict, field: str) -> str | None:
    values = _values(metadata, field)
    return values[0] if values else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value).strip() or None


def _iso_date(value: Any) -> str | None:
    """'2025-04-29T00:00:00.000+0000' or '2025-03-04' → '2025-04-29': the calendar date as the
    portal states it (not shifted to UTC; the recorded stamps are midnight +0000 anyway)."""
    if not isinstance(value, str):
        return None
    value = re.sub(r"Z$", "+0000", value.strip())
    for fmt in _STAMP_FORMATS:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return None
