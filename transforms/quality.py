"""Quality gate: run an expectation suite from `schemas.expectations` with GX Core 1.x.

Ephemeral context, no network, no files. Row-level failures come back as reasons per row
(for quarantine); table-level failures make the whole frame fail. GX is imported lazily
because importing it takes seconds, and flows/deployments should not pay that at import.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from schemas.expectations import SUITES, Expectation

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

_LOCK = threading.Lock()  # the ephemeral context is shared; validations run one at a time


@dataclass
class QualityReport:
    suite: str
    rows: int
    success: bool
    row_reasons: pd.Series  # index of the validated frame → "; "-joined failed expectations
    table_failures: list[str] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)  # one summary row per expectation
    examples: dict[str, list[dict]] = field(default_factory=dict)  # failing expectation → a few failing rows

    @property
    def failing_rows(self) -> int:
        return int(self.row_reasons.notna().sum())


def validate(frame: pd.DataFrame, suite: str, **suite_kwargs) -> QualityReport:
    expectations = SUITES[suite](**suite_kwargs)
    data = _gx_friendly(frame)
    with _LOCK:
        validation = _validation_definition(suite, expectations)
        result = validation.run(batch_parameters={"dataframe": data},
                                result_format={"result_format": "COMPLETE", "partial_unexpected_count": 0})
    reasons = pd.Series(pd.NA, index=frame.index, dtype="string")
    table_failures, summary, examples = [], [], {}
    by_label = {e.label: e for e in expectations}
    for outcome in result.results:  # GX does not keep the suite's order
        expectation = by_label[_label(outcome.expectation_config)]
        details = outcome.result or {}
        failed_index = list(details.get("unexpected_index_list") or [])
        summary.append({
            "expectation": expectation.label,
            "success": bool(outcome.success),
            "unexpected_count": int(details.get("unexpected_count") or 0),
            "unexpected_percent": round(float(details.get("unexpected_percent") or 0.0), 3),
            "exception": (outcome.exception_info or {}).get("exception_message") if not outcome.success else None,
        })
        if outcome.success:
            continue
        if expectation.row_level and failed_index:
            hit = pd.Series(False, index=frame.index)
            hit.loc[failed_index] = True
            text = _row_texts(frame, hit, expectation)
            reasons = reasons.mask(hit, reasons.where(reasons.isna(), reasons + "; ").fillna("") + text)
            examples[expectation.label] = _examples(frame, failed_index, expectation)
        else:
            table_failures.append(f"failed {expectation.label}: {summary[-1]['exception'] or details}")
    summary.sort(key=lambda row: [e.label for e in expectations].index(row["expectation"]))
    return QualityReport(suite, len(frame), not table_failures and reasons.isna().all(), reasons, table_failures,
                         summary, examples)


#: Columns that let a person find a failing row again, shown next to the checked column(s).
IDENTIFYING_COLUMNS = ("record_key", "raw_name_a", "raw_country_a", "raw_name_b", "raw_country_b",
                       "municipality_id", "name", "country_code")
MAX_EXAMPLES = 5


def _examples(frame: pd.DataFrame, failed_index: list, expectation: Expectation) -> list[dict]:
    """The first few failing rows: the checked column(s) and what identifies the row."""
    checked = [expectation.kwargs.get(k) for k in ("column", "column_A", "column_B")]
    checked += list(expectation.kwargs.get("column_list") or [])
    columns = [c for c in dict.fromkeys([*[c for c in checked if c], *IDENTIFYING_COLUMNS]) if c in frame.columns]
    rows = frame.loc[failed_index[:MAX_EXAMPLES], columns]
    return [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in rows.astype(object).to_dict("records")]


def _row_texts(frame: pd.DataFrame, hit: pd.Series, expectation: Expectation) -> pd.Series:
    """'start year outside 836–2026 (start_year=99999) [ExpectColumnValuesToBeBetween(start_year)]'."""
    column = expectation.kwargs.get("column")
    if not expectation.meaning or column not in frame.columns:
        return pd.Series(expectation.explained, index=frame.index, dtype="string")
    values = frame[column].astype("string").fillna("missing").str.slice(0, 60)
    return (expectation.meaning + f" ({column}=" + values + f") [{expectation.label}]").astype("string")


def _label(config) -> str:
    """The label of the spec a GX result belongs to, rebuilt from the result's own config."""
    kwargs = {k: v for k, v in config.kwargs.items() if k in ("column", "column_list", "column_A", "column_B")}
    return Expectation("".join(part.capitalize() for part in config.type.split("_")), kwargs).label


def _gx_friendly(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable extension dtypes (pd.NA) trip some GX metrics; give it NaN/None instead."""
    out = frame.copy()
    for column in out.columns:
        dtype = out[column].dtype
        if isinstance(dtype, pd.Int64Dtype) or isinstance(dtype, pd.Float64Dtype):
            out[column] = out[column].astype("float64")
        elif isinstance(dtype, pd.StringDtype) or isinstance(dtype, pd.BooleanDtype):
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


_DEFINITIONS: dict[str, object] = {}


def _validation_definition(suite_name: str, expectations: list[Expectation]):
    """One GX validation definition per distinct suite content, built once per process."""
    import hashlib

    import great_expectations as gx
    import great_expectations.expectations as gxe

    name = f"{suite_name}-" + hashlib.sha256(repr(expectations).encode()).hexdigest()[:12]
    if name in _DEFINITIONS:
        return _DEFINITIONS[name]
    context = _context()
    asset = context.data_sources.get("staged").add_dataframe_asset(name=name)
    batch = asset.add_batch_definition_whole_dataframe(name)
    suite = context.suites.add(gx.ExpectationSuite(name=name))
    for expectation in expectations:
        suite.add_expectation(getattr(gxe, expectation.type)(**expectation.kwargs))
    _DEFINITIONS[name] = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    return _DEFINITIONS[name]


@lru_cache(maxsize=1)
def _context():
    import logging

    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX pins INFO on some module loggers ("Created temporary directory … for ephemeral docs site")
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no tqdm floods in task logs
    context.data_sources.add_pandas(name="staged")
    return context
