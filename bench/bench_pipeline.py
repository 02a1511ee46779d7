"""Pipeline figures on the bundled recordings, without Prefect: seconds per step, rows, peak RSS.

Run: python bench/bench_pipeline.py [WAREHOUSE_URL]   (default: a fresh SQLite file in /tmp)
Prints figures only; nothing here is asserted.
"""
from __future__ import annotations

import resource
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors import registry  # noqa: E402
from extractors.geonames_gazetteer import load_places  # noqa: E402
from extractors.http import HttpClient  # noqa: E402
from flows import domains  # noqa: E402
from transforms.identity import build_name_index  # noqa: E402
from warehouse import load as wh  # noqa: E402

REPLAY = ROOT / "recordings" / "bundled"


def timed(label, fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    print(f"{label:48} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    import json

    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    options = json.loads((REPLAY / "options.json").read_text())
    places = timed("gazetteer load", load_places)
    index = timed("name index build", build_name_index, places)
    engine = wh.make_engine(url)
    wh.create_schema(engine)
    for run in ("first run", "rerun (unchanged input)"):
        now = datetime.now(timezone.utc)
        ordered = sorted(((name, registry.get(name)) for name in registry.names(None)),
                         key=lambda item: not domains.of(item[1]).first)
        register = None
        for name, module in ordered:
            domain = domains.of(module)
            if not domain.first and register is None:
                register = wh.read_register(engine)
            with HttpClient(mode="replay", recordings_dir=REPLAY) as http:
                records = timed(f"{run}: extract {name}", module.extract, http, **options.get(name, {}))
            staged = timed(f"{run}: stage {name} ({len(records)} rows)", domain.stage,
                           module.SOURCE.contract.to_frame(records), places=places, index=index, register=register,
                           progress=None)
            wh.start_run(engine, f"bench-{run}", name, now)
            counts = timed(f"{run}: load {name}", domain.load, engine, staged, run_id=f"bench-{run}", now=now,
                           max_shrink=0.5)
            print(f"    new {counts.rows_new}, changed {counts.rows_changed}, ended {counts.rows_ended}, "
                  f"quarantined {counts.rows_quarantined}")
        versions = timed(f"{run}: consolidate partnerships", wh.consolidate_partnerships, engine,
                         run_id=f"bench-{run}", now=now)
        print(f"    partnerships new {versions.partnerships_new}, changed {versions.partnerships_changed}, "
              f"ended {versions.partnerships_ended}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB; warehouse {url}")


if __name__ == "__main__":
    main()
