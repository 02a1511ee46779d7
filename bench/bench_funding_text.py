"""Amount and deadline extraction on the recorded programme pages: how much is found, and how
much of it carries the text span it came from.

Run: python bench/bench_funding_text.py (or `make bench`). Prints figures; asserts nothing.
The recorded Förderdatenbank detail pages (bundled) and the curated SKEW programmes.
"""
from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractors import foerderdatenbank, skew_programmes  # noqa: E402
from schemas.records import FUNDING_PROGRAMME  # noqa: E402
from transforms.funding_text import funding_facts  # noqa: E402

PAGES = ROOT / "tests" / "fixtures" / "foerderdatenbank"
FACTS = ("amount_min_eur", "amount_max_eur", "funding_share_pct", "own_contribution_pct", "duration_months", "deadline")


def main() -> None:
    details = [foerderdatenbank.parse_detail(p.read_bytes(), url=p.resolve().as_uri())
               for p in sorted(PAGES.glob("detail*.html"))]
    sets = {"foerderdatenbank (recorded detail pages)": FUNDING_PROGRAMME.to_frame(details),
            "skew_programmes (curated)": FUNDING_PROGRAMME.to_frame(skew_programmes.extract(None))}
    for name, frame in sets.items():
        started = time.perf_counter()
        facts = funding_facts(frame, date.today())
        elapsed = time.perf_counter() - started
        print(f"\n{name}: {len(frame)} programmes, extraction {elapsed * 1000:.0f} ms")
        any_amount = facts[list(FACTS[:5])].notna().any(axis=1)
        deadline = facts["deadline"].notna() | facts["deadline_kind"].notna()
        print(f"  with an amount, share or duration: {any_amount.mean():.0%}; with a deadline or its kind: {deadline.mean():.0%}")
        for column in FACTS:
            found = facts[column].notna()
            if column == "deadline":
                found |= facts["deadline_kind"].notna()
            rules = facts.loc[found, f"{column}_rule"]
            spans = facts.loc[found, f"{column}_span"].notna() | (rules == "stated")
            print(f"  {column:22} {int(found.sum()):3} of {len(frame)}; with evidence (span or stated field): "
                  f"{spans.mean() if found.any() else float('nan'):.0%}; rules: "
                  f"{', '.join(f'{k} {v}' for k, v in rules.value_counts().items()) or '-'}")
    scale = pd.concat([sets["foerderdatenbank (recorded detail pages)"]] * 600, ignore_index=True)
    started = time.perf_counter()
    funding_facts(scale, date.today())
    print(f"\nthroughput: {len(scale):,} programme texts in {time.perf_counter() - started:.1f} s "
          "(the database holds ~2,400)")


if __name__ == "__main__":
    main()
