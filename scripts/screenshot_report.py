"""Screenshots of the demo's monthly report at phone and desktop widths, for people to look at.

    python scripts/screenshot_report.py                 # English, into report-screenshots/
    python scripts/screenshot_report.py --lang zh-TW --out shots/

Builds the demo workbook (sheetcrm.make_demo), writes its latest monthly report, opens the
HTML in headless Chromium (Debian's ``chromium``, or SHEETCRM_CHROMIUM) through Playwright
and saves full-page PNGs: phone (390 px wide) and desktop (1280 px), plus the printed PDF.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
from pathlib import Path

import sheetcrm
from sheetcrm.report.monthly import last_complete_month
from sheetcrm.report.run import run_report

AS_OF = dt.date(2026, 11, 22)
SIZES = {"phone": (390, 844, 3), "desktop": (1280, 900, 1)}


def chromium_path() -> str | None:
    return os.environ.get("SHEETCRM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", default="en", choices=["en", "zh-TW"])
    parser.add_argument("--out", type=Path, default=Path("report-screenshots"))
    args = parser.parse_args()
    browser_path = chromium_path()
    if browser_path is None:
        print("no Chromium found: apt-get install chromium (or set SHEETCRM_CHROMIUM)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        demo = sheetcrm.make_demo(Path(tmp) / "demo.xlsx", lang=args.lang, as_of=AS_OF)
        done = run_report(demo.path, last_complete_month(AS_OF), out=args.out, formats=("html",))
    html = done.paths[0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        for name, (width, height, scale) in SIZES.items():
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=scale)
            page.goto(html.resolve().as_uri())
            shot = args.out / f"report-{args.lang}-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"saved {shot}")
            page.close()
        page = browser.new_page()
        page.goto(html.resolve().as_uri())
        pdf = args.out / f"report-{args.lang}.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
        print(f"saved {pdf}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
