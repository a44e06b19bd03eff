"""The report, forecast, focus and demo commands, each run checked through the library;
and the report tab written into a Google spreadsheet on the local fake."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

import sheetcrm
from sheetcrm.cli import cli
from sheetcrm.report.run import write_report_tab
from sheetcrm.schema import Lang, Tab
from tests.helpers import upload_xlsx

MONTH = "2026-10"


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_report_command_writes_every_format_and_the_tab(report_workbook, tmp_path) -> None:
    book = tmp_path / "crm.xlsx"
    book.write_bytes(report_workbook.read_bytes())
    out = run(
        "report",
        str(book),
        "--month",
        MONTH,
        "--out",
        str(tmp_path / "r"),
        "--format",
        "html,md,csv,xlsx",
        "--tab",
        "-q",
    )
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert names == [f"report-{MONTH}.{ext}" for ext in ("csv", "html", "md", "xlsx")]
    assert "Wrote tab 'Report 2026-10'" in out
    assert "Report 2026-10" in openpyxl.load_workbook(book).sheetnames
    md = (tmp_path / "r" / f"report-{MONTH}.md").read_text(encoding="utf-8")
    assert md == sheetcrm.report.render.to_markdown(sheetcrm.monthly_report(book, MONTH))


def test_report_command_in_chinese(report_workbook, tmp_path) -> None:
    run("report", str(report_workbook), "--month", MONTH, "--out", str(tmp_path), "--format", "md", "--lang", "zh-TW")
    md = (tmp_path / f"report-{MONTH}.md").read_text(encoding="utf-8")
    assert md.startswith("# 2026-10 月度顧客分群報告") and "潛在離婚" in md


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "Oct"], "not a month"),
        (["--month", MONTH, "--format", "pdf"], "unknown format"),
    ],
)
def test_report_command_refuses_bad_options_in_one_line(report_workbook, tmp_path, args, message) -> None:
    result = CliRunner().invoke(cli, ["report", str(report_workbook), "--out", str(tmp_path), *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_forecast_command_csv_and_json_are_the_library_table(report_workbook) -> None:
    lib = sheetcrm.forecast(report_workbook, "2026Q4", as_of="2026-10-31").table
    got = pd.read_csv(
        io.StringIO(
            run("forecast", str(report_workbook), "--quarter", "2026Q4", "--as-of", "2026-10-31", "--format", "csv")
        )
    )
    assert list(got["Owner"]) == list(lib["Owner"])
    # Whole amounts are written without ".0"; the figures are the library's.
    pd.testing.assert_series_equal(got["forecast"], lib["forecast"], check_names=False, check_dtype=False)
    records = json.loads(
        run(
            "forecast",
            str(report_workbook),
            "--quarter",
            "2026Q4",
            "--as-of",
            "2026-10-31",
            "--by",
            "stage",
            "--format",
            "json",
        )
    )
    assert [r["Stage"] for r in records] == ["Lead", "Qualified", "Proposal", "Negotiation", "Won"]
    table = run("forecast", str(report_workbook), "--quarter", "2026Q4", "--as-of", "2026-10-31")
    assert "Amy Rep" in table and "Best case" in table
    total = next(line for line in table.splitlines() if "Total" in line)  # the last row sums the owners
    assert f"{lib['forecast'].sum():,.0f}" in total
    deals = run(
        "forecast", str(report_workbook), "--quarter", "2026Q4", "--as-of", "2026-10-31", "--deals", "--format", "csv"
    )
    assert "OP-W1" in deals and "OP-W2" not in deals


def test_focus_command_json_matches_the_library(report_workbook) -> None:
    records = json.loads(
        run(
            "focus",
            str(report_workbook),
            "--as-of",
            "2026-11-22",
            "--days",
            "7",
            "--format",
            "json",
            "--owner",
            "Bob Rep",
        )
    )
    lib = sheetcrm.focus(report_workbook, 7, as_of="2026-11-22", owner="Bob Rep")
    assert [r["id"] for r in records] == list(lib["id"])
    assert records[0]["kind"] == "next step due"
    zh = run("focus", str(report_workbook), "--as-of", "2026-11-22", "--lang", "zh-TW")
    assert "下一步逾期" in zh and "顧客轉為沉睡" in zh


def test_report_tab_on_google_sheets_is_one_write_and_replaced(fake, google_client, report_workbook) -> None:
    key = upload_xlsx(fake, report_workbook)
    url = f"https://docs.google.com/spreadsheets/d/{key}/edit"
    for _ in range(2):
        wb = sheetcrm.open(url, client=google_client)
        report = sheetcrm.monthly_report(wb, MONTH, include_pii=True)
        fake.reset_counters()
        title, written = write_report_tab(wb, report)
        writes = [r for r in fake.requests if r.method != "GET"]
        assert len(writes) == 1 and written.written > 0
    assert fake.sheet_titles(key).count(title) == 1
    values = fake.get_values(key, title)
    assert values[0][0] == "Monthly segment report 2026-10"
    flat = [v for row in values for v in row]
    assert '=HYPERLINK("http://x")' in flat  # stored as the text it is, not run as a formula
    assert sheetcrm.open(url, client=google_client).validate() is not None


def test_the_forecast_table_speaks_the_workbooks_language_and_totals(make_workbook, small_crm) -> None:
    small_crm[Tab.OPPORTUNITIES][1]["Owner"] = None
    path = make_workbook(small_crm, Lang.ZH_TW)
    by_owner = run("forecast", str(path), "--quarter", "2026Q4", "--as-of", "2026-10-31")
    assert "（無負責人）" in by_owner and "合計" in by_owner
    by_stage = run("forecast", str(path), "--quarter", "2026Q4", "--as-of", "2026-10-31", "--by", "stage")
    assert "確認需求" in by_stage and "議約" in by_stage
    assert "Qualified" not in by_stage and "Negotiation" not in by_stage
