"""What a run tells people: log lines in words, the run summary and the quality report.

Written for the engineer who opens the Prefect UI or a terminal after a failed night: the
reason of each failed source comes first, counts are words, and a failing expectation shows
the rows that failed it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

#: Audit counts shown per source, in this order, with the word used for them.
COUNT_WORDS = [("rows_extracted", "extracted"), ("rows_new", "new"), ("rows_changed", "changed"),
               ("rows_ended", "ended"), ("rows_unchanged", "unchanged"), ("rows_quarantined", "quarantined"),
               ("rows_duplicate", "exact duplicates")]
EXAMPLES_PER_EXPECTATION = 5


def counts_in_words(counts: dict) -> str:
    """'25,917 extracted: 25,906 new, 0 changed, … ; partnerships 25,000 new, 0 ended'."""
    head = f"{counts.get('rows_extracted', 0):,} extracted: "
    body = ", ".join(f"{counts.get(key, 0):,} {word}" for key, word in COUNT_WORDS[1:])
    tail = ""
    if any(counts.get(k) for k in ("partnerships_new", "partnerships_changed", "partnerships_ended")):
        tail = (f"; partnerships {counts.get('partnerships_new', 0):,} new, "
                f"{counts.get('partnerships_changed', 0):,} changed, {counts.get('partnerships_ended', 0):,} ended")
    return head + body + tail


def describe_error(exc: BaseException, limit: int = 600) -> str:
    """One line: the error's type and first line, without SQL parameter dumps or tracebacks."""
    reason = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error (and the whole statement)
    lines = str(reason).strip().splitlines()
    text = lines[0] if lines else ""
    if reason is not exc:
        text = f"{type(exc).__name__} ({type(reason).__name__}): {text}"
    else:
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_rows(outcomes: Iterable) -> list[dict]:
    """The run-summary artifact: source, status and reason first, so the reason is on screen."""
    rows = []
    for outcome in outcomes:
        row = {"source": outcome.source, "status": outcome.status, "reason": outcome.message or "",
               "domain": getattr(outcome, "domain", "") or "(run step)"}
        row.update({word: outcome.counts.get(key, 0) for key, word in COUNT_WORDS})
        rows.append(row)
    return rows


def quality_markdown(quality: dict[str, list], rejected: dict | None = None) -> str:
    """Per source: what was quarantined, by kind of reason; then per suite the failing
    expectations first, each with example rows, then the passing ones."""
    lines = ["# Data quality", ""]
    for source, frame in (rejected or {}).items():
        if frame is None or frame.empty:
            continue
        lines += [f"## {source}: {len(frame):,} rows quarantined", "", "| reason | rows | examples (record_key) |",
                  "|---|---|---|"]
        kinds = frame["reject_reason"].astype(str).map(reason_kind)
        for kind, group in frame.groupby(kinds, sort=False):
            keys = ", ".join(_cell(k) for k in group.get("record_key", group.index).astype(str).head(EXAMPLES_PER_EXPECTATION))
            lines.append(f"| {_cell(kind)} | {len(group):,} | {keys} |")
        lines.append("")
    if not quality:
        lines.append("No source reached the quality gate in this run.")
    for source, reports in quality.items():
        for report in reports:
            failing = [r for r in report.results if not r["success"]]
            passing = [r for r in report.results if r["success"]]
            verdict = "passed" if report.success else f"{len(failing)} failing expectation(s)"
            lines += [f"## {source} — `{report.suite}`: {verdict}",
                      f"{report.rows:,} rows checked, {report.failing_rows:,} rows failed at least one expectation.", ""]
            for result in failing:
                lines.append(f"### ❌ {result['expectation']} — {result['unexpected_count']:,} rows "
                             f"({result['unexpected_percent']} %)")
                if result.get("exception"):
                    lines.append(f"Error: {result['exception']}")
                examples = report.examples.get(result["expectation"], []) if hasattr(report, "examples") else []
                lines += _table(examples[:EXAMPLES_PER_EXPECTATION]) if examples else ["(no example rows)"]
                lines.append("")
            if passing:
                lines.append("Passed: " + ", ".join(f"`{r['expectation']}`" for r in passing))
                lines.append("")
    return "\n".join(lines)


def reason_kind(reason: str) -> str:
    """A reason without the row's particulars, for counting: 'line 38 has 9 fields' → 'line N has N fields'."""
    general = reason.split(" (")[0].split(" [")[0]
    return re.sub(r"\d[\d,.]*", "N", general)[:120]


def _table(rows: list[dict]) -> list[str]:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        out.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    return out


def _cell(value) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 80 else text[:79] + "…"


def coverage_markdown(by_land, by_size) -> str:
    """Partnerships per Land next to the RGRE's counts, and the share of official municipalities
    with a partnership per size class (the views coverage_by_land / coverage_by_size)."""
    lines = ["# Coverage", "", "## Partnerships per Land (a pair between two Länder counts in both)", "",
             "| Land | in the warehouse | RGRE (2024) | share |", "|---|---:|---:|---:|"]
    for row in by_land.itertuples(index=False):
        share = f"{row.partnerships / row.rgre_count:.0%}" if row.rgre_count else ""
        lines.append(f"| {row.land} | {row.partnerships:,} | {row.rgre_count:,} | {share} |")
    lines += ["", "## Official municipalities with at least one partnership", "",
              "| population | municipalities | with a partnership | % |", "|---|---:|---:|---:|"]
    for row in by_size.itertuples(index=False):
        lines.append(f"| {row.size_class[2:]} | {row.municipalities:,} | {row.with_partnership:,} | "
                     f"{float(row.percent):.1f} |")
    return "\n".join(lines) + "\n"


def funding_markdown(calls, programmes) -> tuple[str, str]:
    """(calls closing within 60 days, programmes open to municipalities by theme) as markdown."""
    lines = ["# Calls closing within 60 days", ""]
    if calls.empty:
        lines.append("No open call in the warehouse closes within 60 days.")
    else:
        lines += ["| closes | days left | status | call | budget € |", "|---|---:|---|---|---:|"]
        for r in calls.itertuples(index=False):
            budget = f"{r.budget_eur:,.0f}" if r.budget_eur == r.budget_eur and r.budget_eur is not None else ""
            lines.append(f"| {r.closes} | {r.days_left} | {r.status} | [{r.title}]({r.call_url}) | {budget} |")
    by_theme = ["# Programmes open to municipalities, by theme", ""]
    if programmes.empty:
        by_theme.append("No current programme states municipalities as eligible.")
    for theme, group in programmes.groupby(programmes["theme"].fillna("(no theme)"), sort=True):
        by_theme += [f"## {theme} ({len(group)})", "", "| programme | max € | deadline |", "|---|---:|---|"]
        for r in group.itertuples(index=False):
            amount = f"{r.amount_max_eur:,.0f}" if r.amount_max_eur == r.amount_max_eur and r.amount_max_eur else ""
            deadline = r.deadline or r.deadline_kind or ""
            by_theme.append(f"| [{r.title}]({r.programme_url or ''}) | {amount} | {deadline} |")
        by_theme.append("")
    return "\n".join(lines) + "\n", "\n".join(by_theme) + "\n"
