"""The demo workbook end to end: generated, synced, and every planted mistake found."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import sheetcrm
from sheetcrm.cli import cli
from sheetcrm.demo import PLANTED_MISTAKES, make_demo
from sheetcrm.schema import Lang, Tab
from tests.helpers import AS_OF


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.xlsx"
    result = CliRunner().invoke(cli, ["demo", str(path), "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    assert "Stage moves:" in result.output and "Open" in result.output
    assert "Monthly report 2026-10: open " in result.output
    return path


def test_every_planted_problem_is_reported(demo_path: Path) -> None:
    problems = sheetcrm.open(demo_path).validate()
    found = set(zip(problems["tab"], problems["id"], strict=True))
    for mistake in PLANTED_MISTAKES:
        if mistake["severity"] == "problem" and mistake.get("id"):
            assert (
                mistake["tab"].value if isinstance(mistake["tab"], Tab) else mistake["tab"],
                mistake["id"],
            ) in found, mistake


def test_demo_is_synced_and_converged(demo_path: Path) -> None:
    wb = sheetcrm.open(demo_path)
    assert wb.contacts["ID"].notna().all() and wb.activities["ID"].notna().all()
    again = wb.sync(as_of=AS_OF, dry_run=True)
    assert again.changes.empty, again.changes.head().to_string()
    nesl = wb.contacts["NESL"].value_counts()
    assert set(nesl.index) == {"N", "E", "S", "L"}


def test_demo_keeps_the_extra_column_and_fills_the_log(demo_path: Path) -> None:
    book = openpyxl.load_workbook(demo_path)
    assert "Notes" in [c.value for c in book["Contacts"][1]]
    assert book["Log"].max_row > 2


def test_chinese_demo(tmp_path: Path) -> None:
    made = make_demo(tmp_path / "zh.xlsx", lang=Lang.ZH_TW, as_of=AS_OF, size=0.1)
    assert made.sync.counts["stage_moves"] > 0
    assert "連絡人" in openpyxl.load_workbook(made.path).sheetnames


def test_demo_also_writes_its_latest_monthly_report(demo_path: Path) -> None:
    folder = demo_path.parent / "demo-report"  # named after the workbook
    assert sorted(p.name for p in folder.iterdir()) == [
        "report-2026-10.csv",
        "report-2026-10.html",
        "report-2026-10.md",
    ]
    report = sheetcrm.monthly_report(demo_path, "2026-10")
    assert (folder / "report-2026-10.md").read_text(encoding="utf-8") == sheetcrm.report.render.to_markdown(report)


def test_chinese_demo_says_what_to_open_in_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import functools

    import sheetcrm.demo

    monkeypatch.setattr(sheetcrm.demo, "make_demo", functools.partial(make_demo, size=0.1))
    path = tmp_path / "zh.xlsx"
    result = CliRunner().invoke(cli, ["demo", str(path), "--lang", "zh-TW", "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"已建立示範活頁簿 {path}（") and "家公司、" in lines[0] and "位連絡人、" in lines[0]
    assert f"開啟 {path} 可看到計算欄位（灰底）與同步紀錄分頁" in result.output
    assert "2026-10 月報：用瀏覽器開啟 " in result.output
    assert "Open " not in result.output and "Monthly report" not in result.output


def test_demo_writes_sample_leads_that_import_shows_every_outcome_of(demo_path: Path) -> None:
    from sheetcrm.backends.xlsx import XlsxBackend
    from sheetcrm.team.leads import import_leads

    leads = demo_path.with_name("demo-leads.csv")
    result = import_leads(XlsxBackend(demo_path), leads, dry_run=True)
    assert result.counts["added"] == 2 and result.counts["duplicates"] == 2 and result.counts["rejected"] == 1
    assert result.counts["companies"] == 1


def test_demo_refuses_a_name_that_is_no_workbook_before_writing_anything(tmp_path: Path) -> None:
    got = CliRunner().invoke(cli, ["demo", str(tmp_path / "z.csv")])
    assert got.exit_code == 2 and ".xlsx" in got.output
    assert list(tmp_path.iterdir()) == []
