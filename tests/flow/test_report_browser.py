"""The run's HTML report as a person sees it: opened from disk in a real headless Chromium,
offline — the map draws its markers, the tables have rows, nothing fails in the page."""
import pytest

from tests.support import headless_chromium

pytestmark = pytest.mark.flow


def test_the_bundled_run_writes_a_report_that_renders_offline(bundled_warehouse, tmp_path):
    engine, run_id, directory = bundled_warehouse
    reports = directory / "reports"
    latest = reports / "latest.html"
    assert latest.exists(), f"no report next to the warehouse: {sorted(p.name for p in directory.iterdir())}"
    dated = list(reports.glob(f"report-*-{run_id[:8]}.html"))
    assert len(dated) == 1 and dated[0].read_bytes() == latest.read_bytes()
    html = latest.read_text(encoding="utf-8")
    assert "http://" not in html.split("<body>", 1)[1].split('<section class="wide" id="sources">')[0]
    assert f'content="{run_id}"' in html

    with headless_chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors, requests = [], []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("request", lambda request: requests.append(request.url))
        page.goto(latest.as_uri())
        page.wait_for_selector("body[data-map-ready]", timeout=30_000)
        partnership_markers = page.locator("#map path.marker-partnership").count()
        membership_markers = page.locator("#map path.marker-membership").count()
        land_rows = page.locator("#coverage-by-land tbody tr").count()
        country_rows = page.locator("#partner-countries tbody tr").all_inner_texts()
        change_rows = page.locator("#run-changes tbody tr").all_inner_texts()
        quarantine_rows = page.locator("#quarantine-by-reason tbody tr").count()
        outline_paths = page.locator("#map path:not(.leaflet-interactive)").count()
        page.locator("#map path.marker-partnership").first.click(force=True)
        popup = page.locator(".leaflet-popup-content").inner_text()
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot))

    assert errors == []
    assert all(url.startswith(("file:", "data:", "about:")) for url in requests), requests
    # one circle per official municipality with a partnership; Köln, Berlin … have many
    assert partnership_markers > 3000 and membership_markers > 300
    assert outline_paths >= 10  # Germany and its neighbours drawn from the bundled outlines
    assert land_rows == 16
    assert country_rows[0].startswith("France")
    assert any(row.startswith("partnership\tnew") for row in change_rows)
    assert quarantine_rows >= 3
    assert "partnership" in popup
    assert shot.stat().st_size > 50_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
