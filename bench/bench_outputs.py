"""What the analysts' outputs cost on a real warehouse: the run report (read, compute, render,
size) and `citylinks export` to Parquet and CSV (time, size, peak memory of this process).

Run: python bench/bench_outputs.py [WAREHOUSE_URL] (or `make bench`; default: the warehouse
`make run` wrote under CITYLINKS_HOME). Prints figures; asserts nothing.
"""
from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows import settings  # noqa: E402
from flows.run_report import build_report  # noqa: E402
from warehouse import load as wh  # noqa: E402
from warehouse.export import export_warehouse  # noqa: E402
from warehouse.report_data import latest_run_id  # noqa: E402


def main(url: str) -> None:
    engine = wh.make_engine(url)
    run_id = latest_run_id(engine)
    if run_id is None:
        print(f"no run in {settings.redact(url)}: run `make run` first")
        return
    started = time.perf_counter()
    html = build_report(engine, run_id)
    print(f"report: {time.perf_counter() - started:.2f} s, {len(html.encode()) / 1e6:.2f} MB of HTML")
    for fmt in ("parquet", "csv"):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            written = export_warehouse(engine, Path(tmp) / "export", fmt)
            seconds = time.perf_counter() - started
            size = sum(w.bytes for w in written)
            rows = sum(w.rows or 0 for w in written)
            print(f"export {fmt}: {seconds:.2f} s, {len(written)} files, {rows:,} rows, {size / 1e6:.1f} MB")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak:.0f} MB")
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else settings.default_warehouse_url())
