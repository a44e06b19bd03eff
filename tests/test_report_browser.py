"""The monthly report in a real browser: headless Chromium (Debian's ``chromium``, driven
by Playwright with ``executable_path``) opens the HTML from disk in each language, at phone
and desktop widths: no console error, no network request, every chart drawn with a size,
nothing wider than a phone's screen, and the page prints to PDF."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import sheetcrm
from sheetcrm.report.render import to_html
from sheetcrm.schema import Lang

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install -e '.[test]')"
)

CHROMIUM = os.environ.get("SHEETCRM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium browser on this machine: apt-get install chromium (or set SHEETCRM_CHROMIUM to one)",
)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture(scope="module", params=[Lang.EN, Lang.ZH_TW], ids=["en", "zh-TW"])
def page_file(request, report_workbook, tmp_path_factory) -> Path:
    report = sheetcrm.monthly_report(report_workbook, "2026-10", lang=request.param, include_pii=True)
    path = tmp_path_factory.mktemp("html") / f"report-{request.param}.html"
    path.write_text(to_html(report), encoding="utf-8")
    return path


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 900)], ids=["phone", "desktop"])
def test_report_page_in_chromium(browser, page_file, width, height) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    problems: list[str] = []
    network: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("request", lambda req: network.append(req.url) if not req.url.startswith(("file:", "data:")) else None)
    page.goto(page_file.as_uri(), wait_until="load")
    sizes = page.eval_on_selector_all(
        "figure.chart svg", "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert len(sizes) == 7  # NESL, segments, pyramid, 80/20 curve, lifecycle, funnel, forecast
    assert all(w > 0 and h > 0 for w, h in sizes), sizes
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"
    assert page.title().startswith(("Monthly segment report", "2026-10"))
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert problems == []
    assert network == []
    page.close()
