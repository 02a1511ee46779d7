"""`citylinks run --live` on a machine without network: every source failed, named, within 60 s.

The test never leaves the machine: every source's origin is routed to a `.invalid` host
(RFC 2606: never resolves), which is what a machine without DNS sees for every host."""
from __future__ import annotations

import json
import time

import pytest

from extractors import registry

pytestmark = pytest.mark.processes
ORIGINS = ("https://query.wikidata.org", "https://raw.githubusercontent.com", "https://en.wikipedia.org",
           "https://de.wikipedia.org", "https://www.wikidata.org", "https://data.jrc.ec.europa.eu",
           "https://www.foerderdatenbank.de", "https://api.tech.ec.europa.eu")


def test_a_live_run_without_network_fails_every_source_fast_and_says_why(cli, tmp_path):
    routes = {origin: "http://no-network.invalid" for origin in ORIGINS}
    started = time.monotonic()
    result = cli.run("run", "--live", "--warehouse", f"sqlite:///{tmp_path / 'w.db'}",
                     env={"CITYLINKS_HTTP_ROUTES": json.dumps(routes)}, timeout=180)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr[-3000:]
    assert elapsed < 60, f"took {elapsed:.0f} s"
    reasons = {line.split(" failed: ")[0]: line for line in result.stdout.splitlines() if " failed: " in line}
    fetched = {name for name in registry.names(None) if registry.get(name).SOURCE.url.startswith("http")}
    assert set(reasons) == fetched, result.stdout  # a curated file in the repository needs no network
    for line in reasons.values():
        assert "DNS lookup failed" in line and "not retried" in line
    assert "Traceback" not in result.stdout + result.stderr
