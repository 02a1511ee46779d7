"""Screenshot a report for the README (needs the test extra's playwright and a system Chromium):

    python -m report.screenshot $CITYLINKS_HOME/reports/latest.html report/example-report.png
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def main(report: str, out: str) -> None:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(Path(report).resolve().as_uri())
        page.wait_for_selector("body[data-map-ready]")
        page.screenshot(path=out)
        browser.close()
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:3])
