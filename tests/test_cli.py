from __future__ import annotations

import json
from pathlib import Path

import click
import openpyxl
import pytest
from click.testing import CliRunner

import sheetcrm
from sheetcrm.cli import cli
from sheetcrm.schema import Tab
from tests.helpers import AS_OF


def _commands() -> list[str]:
    return sorted(cli.commands)


def test_top_level_help_says_what_sheetcrm_does() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0 and "CRM" in result.output
    for name in _commands():
        assert name in result.output


@pytest.mark.parametrize("name", _commands())
def test_every_command_has_help(name: str) -> None:
    command = cli.commands[name]
    assert command.help and len(command.help.split()) >= 8, f"{name} needs a real help text"
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.opts} has no help"


def test_init_then_library_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "crm.xlsx"
    result = CliRunner().invoke(cli, ["init", str(path), "--lang", "zh-TW"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"已建立 {path}。") and f"執行：sheetcrm sync {path}" in result.output
    wb = sheetcrm.open(path)
    assert wb.tables[Tab.CONTACTS].title == "連絡人" and wb.settings.language == "zh-TW"
    again = CliRunner().invoke(cli, ["init", str(path)])
    assert again.exit_code == 2 and "--force" in again.output


@pytest.mark.parametrize("typed", ["zh", "zh_TW", "zh-tw", "中文"])
def test_lang_takes_chinese_as_people_type_it(tmp_path: Path, typed: str) -> None:
    path = tmp_path / "crm.xlsx"
    result = CliRunner().invoke(cli, ["init", str(path), "--lang", typed])
    assert result.exit_code == 0, result.output
    assert sheetcrm.open(path).settings.language == "zh-TW"
    again = CliRunner().invoke(cli, ["init", str(path), "--lang", typed])
    assert again.exit_code == 2 and "已存在" in again.output, again.output  # told in the language asked for


def test_validate_exit_codes_and_formats(make_workbook, small_crm) -> None:
    clean = make_workbook(small_crm)
    assert CliRunner().invoke(cli, ["validate", str(clean)]).exit_code == 0
    small_crm[Tab.CONTACTS][0]["Email"] = "lin@example"
    dirty = make_workbook(small_crm)
    table = CliRunner().invoke(cli, ["validate", str(dirty)])
    assert table.exit_code == 1 and "lin@example" in table.output
    as_json = CliRunner().invoke(cli, ["validate", str(dirty), "--format", "json"])
    records = json.loads(as_json.stdout)
    assert records[0]["tab"] == "Contacts" and records[0]["row"] == 2
    as_csv = CliRunner().invoke(cli, ["validate", str(dirty), "--format", "csv"])
    assert as_csv.stdout.splitlines()[0] == "\ufefftab,row,id,column,value,problem,severity"  # BOM for Excel
    assert len(sheetcrm.open(dirty).validate()) == len(records)


@pytest.mark.parametrize(
    "args,message",
    [
        (["validate", "nope.xlsx"], "no workbook at"),
        (["sync", "nope.xlsx"], "no workbook at"),
        (["validate", "notes.txt"], "not an .xlsx"),
    ],
)
def test_failures_exit_2_with_one_clear_line(tmp_path: Path, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hi")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_sync_dry_run_then_sync(make_workbook, small_crm, tmp_path: Path) -> None:
    path = make_workbook(small_crm)
    plan_csv = tmp_path / "plan.csv"
    dry = CliRunner().invoke(
        cli, ["sync", str(path), "--as-of", AS_OF.isoformat(), "--dry-run", "--plan-csv", str(plan_csv), "-q"]
    )
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output and plan_csv.read_text(encoding="utf-8-sig").startswith("tab,row,id,column")
    real = CliRunner().invoke(cli, ["sync", str(path), "--as-of", AS_OF.isoformat(), "-q"])
    assert real.exit_code == 0 and "Stage moves: 1" in real.output
    ws = openpyxl.load_workbook(path)["Opportunities"]
    assert ws["E2"].value == "Proposal"
    assert sheetcrm.open(path).sync(as_of=AS_OF).changes.empty
    # Nothing left to plan: the same columns, no rows (a script reading it needs no special case).
    heading = plan_csv.read_text(encoding="utf-8-sig").splitlines()[0]
    again = CliRunner().invoke(cli, ["sync", str(path), "--as-of", AS_OF.isoformat(), "--plan-csv", str(plan_csv)])
    assert again.exit_code == 0, again.output
    assert plan_csv.read_text(encoding="utf-8-sig").splitlines() == [heading]


def test_as_of_is_read_as_people_write_it(make_workbook, small_crm) -> None:
    path = make_workbook(small_crm)

    def dry(as_of: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["sync", str(path), "--as-of", as_of, "--dry-run", "-q"])
        return result.exit_code, result.output

    assert dry("2026/11/30") == dry("2026-11-30") and dry("2026-11-30")[0] == 0
    assert dry("30/11/2026")[0] == 2  # ambiguous the other way round: refused


@pytest.mark.parametrize("typed", ["2026/11/22", "11/22/2026", "2026年11月22日", "115/11/22", "民國115年11月22日"])
def test_as_of_takes_a_day_as_the_cells_do(make_workbook, small_crm, typed: str) -> None:
    path = make_workbook(small_crm)
    iso = CliRunner().invoke(cli, ["forecast", str(path), "--as-of", "2026-11-22", "--format", "csv"])
    same = CliRunner().invoke(cli, ["forecast", str(path), "--as-of", typed, "--format", "csv"])
    assert same.exit_code == 0 and same.stdout == iso.stdout, same.output


def test_as_of_that_is_no_day_says_what_a_day_looks_like(make_workbook, small_crm) -> None:
    got = CliRunner().invoke(cli, ["forecast", str(make_workbook(small_crm)), "--as-of", "soon"])
    assert got.exit_code == 2 and "expected a date like 2026-03-05" in got.output and "%Y" not in got.output
