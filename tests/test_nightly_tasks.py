"""Task logic of the nightly flow, through .fn() (no Prefect server): gates and retry policy."""

import pandas as pd
import pytest
from prefect.logging import disable_run_logger
from prefect.states import Failed
from sqlalchemy import select

from extractors.base import SourceError
from extractors.http import FetchError, HttpStatusError, NotRecorded
from flows import nightly as N
from schemas import warehouse as W
from transforms.quality import QualityReport
from transforms.staging import StagedSource
from warehouse import load as wh


def staged(rows_extracted: int, rejected: int) -> StagedSource:
    frame = pd.DataFrame({"record_key": [str(i) for i in range(rejected)], "reject_reason": "failed X"})
    report = QualityReport("partnership_source", rows_extracted, False, pd.Series(dtype="string"), [],
                           [{"expectation": "ExpectColumnValuesToNotBeNull(municipality_b_id)", "success": False,
                             "unexpected_count": rejected, "unexpected_percent": 50.0, "exception": None}])
    return StagedSource("s1", rows_extracted, pd.DataFrame(), pd.DataFrame(), frame, [report])


def test_source_above_reject_threshold_is_not_loaded(tmp_path):
    from tests.test_load import T0, assertions, load

    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = wh.make_engine(url)
    wh.create_schema(engine)
    load(engine, "s1", assertions("s1", [("a", "b")]), "r0", T0)  # what last night loaded
    with engine.connect() as conn:
        before = {t.name: wh.read_frame(conn, select(t)) for t in (W.partnership_source, W.quarantine)}
    with disable_run_logger(), pytest.raises(SourceError, match=r"50.0%\) failed validation.*municipality_b_id"):
        N.load.fn(url, "r1", staged(10, 5), max_reject_share=0.2, max_shrink=0.5, boundary=T0)
    with engine.connect() as conn:
        for table in (W.partnership_source, W.quarantine):
            pd.testing.assert_frame_equal(wh.read_frame(conn, select(table)), before[table.name])
    engine.dispose()


def _state(exc: Exception):
    return Failed(data=exc)


@pytest.mark.parametrize("exc, retry", [
    (HttpStatusError("HTTP 503", url="u", status=503), True),
    (HttpStatusError("HTTP 429", url="u", status=429), True),
    (HttpStatusError("HTTP 404", url="u", status=404), False),
    (NotRecorded("No recording", url="u"), False),
    (SourceError("page changed"), False),
])
def test_fetch_retry_only_for_transient_errors(exc, retry):
    assert N._transient(None, None, _state(exc)) is retry


def test_connection_error_is_transient_but_a_bad_url_is_not():
    assert N._transient(None, None, _state(FetchError("GET u failed: refused", url="u", transient=True))) is True
    assert N._transient(None, None, _state(FetchError("Not an absolute http(s) URL", url="x"))) is False


@pytest.mark.parametrize("exc", [
    HttpStatusError("HTTP 503 from u", url="u", status=503),
    FetchError("GET u failed: timed out", url="u", transient=True),
    NotRecorded("No recording of GET u", url="u"),
])
def test_fetch_errors_survive_pickling_with_their_retry_verdict(exc):
    """Prefect may persist a failed task's exception; the retry condition must read it back."""
    import pickle

    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc) and str(copy) == str(exc)
    assert (copy.url, copy.status, copy.transient) == (exc.url, exc.status, exc.transient)
