"""Screenshot a report for the README (needs the test extra's playwright and a system Chromium):

    python -m report.screenshot $CITYLINKS_HOME/reports/latest.html report/example-report.png
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

#: Chromium flags for a machine with a closed network (no background connections, no sandbox as root).
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    """The system's Chromium (Playwright's own browser download needs a network): CITYLINKS_CHROMIUM,
    else the first of chromium, chromium-browser, google-chrome on PATH."""
    configured = os.environ.get("CITYLINKS_CHROMIUM")
    if configured:
        return configured
    return next(filter(None, (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome"))),
                None)


def main(report: str, out: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(Path(report).resolve().as_uri())
        page.wait_for_selector("body[data-map-ready]")
        page.screenshot(path=out)
        browser.close()
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:3])
