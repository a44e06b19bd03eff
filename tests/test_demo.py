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
    folder = demo_path.parent / "sheetcrm-demo-report"
    assert sorted(p.name for p in folder.iterdir()) == [
        "report-2026-10.csv",
        "report-2026-10.html",
        "report-2026-10.md",
    ]
    report = sheetcrm.monthly_report(demo_path, "2026-10")
    assert (folder / "report-2026-10.md").read_text(encoding="utf-8") == sheetcrm.report.render.to_markdown(report)
