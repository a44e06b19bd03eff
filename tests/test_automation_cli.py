"""The CLI contract unattended runs rely on (docs/automation.md), on local .xlsx
workbooks, each run checked through the library: exit codes with --fail-on-problems and
--problems-ok, the Markdown summary (to $GITHUB_STEP_SUMMARY by default), --json, the
one line of a sync with nothing to do, the schedule-lapse warning, and init-workflow.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

import sheetcrm
from sheetcrm.automation.lapse import INACTIVITY_DAYS, WARN_DAYS, parse_activity, schedule_lapse
from sheetcrm.automation.summary import SUMMARY_LIMIT, append_summary, problem_groups
from sheetcrm.automation.workflows import REPORT_WORKFLOW, SYNC_WORKFLOW
from sheetcrm.cli import cli
from sheetcrm.exceptions import WorkflowOptionError
from sheetcrm.schema import Lang, Tab

AS_OF = "2026-11-22"
BAD_EMAIL = "lin@example"


def _sync(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["sync", *args, "--as-of", AS_OF, "-q"], env=env)


@pytest.fixture
def clean(make_workbook, small_crm) -> Path:
    path: Path = make_workbook(small_crm)
    return path


@pytest.fixture
def dirty(make_workbook, small_crm) -> Path:
    small_crm[Tab.CONTACTS][0]["Email"] = BAD_EMAIL
    path: Path = make_workbook(small_crm)
    return path


def _pending(path: Path) -> int:
    """Cells a sync would still write (0: everything was written)."""
    return len(sheetcrm.open(path).sync(as_of=AS_OF, dry_run=True).changes)


@pytest.mark.parametrize(
    ("workbook", "flags", "code", "written"),
    [
        ("clean", [], 0, True),
        ("clean", ["--fail-on-problems"], 0, True),
        ("clean", ["--problems-ok"], 0, True),
        ("dirty", [], 1, True),
        ("dirty", ["--problems-ok"], 0, True),
        ("dirty", ["--fail-on-problems"], 2, False),
        ("dirty", ["--dry-run"], 1, False),
        ("dirty", ["--dry-run", "--fail-on-problems"], 1, False),
        ("dirty", ["--dry-run", "--problems-ok"], 0, False),
    ],
)
def test_exit_codes(workbook: str, flags: list[str], code: int, written: bool, request) -> None:
    path: Path = request.getfixturevalue(workbook)
    before = _pending(path)
    result = _sync(str(path), *flags)
    assert result.exit_code == code, result.output
    assert (_pending(path) == 0) == written and before > 0
    if code == 2:
        (line,) = result.stderr.splitlines()
        assert line.startswith("Error: 1 validation problem(s)") and "nothing was written" in line


def test_both_problem_flags_are_a_usage_error(clean: Path) -> None:
    result = _sync(str(clean), "--fail-on-problems", "--problems-ok")
    assert result.exit_code == 2 and "not both" in result.output
    assert _pending(clean) > 0


def test_summary_goes_to_github_step_summary_by_default_and_is_appended(dirty: Path, tmp_path: Path) -> None:
    summary = tmp_path / "step_summary"
    summary.write_text("## an earlier step\n", encoding="utf-8")
    first = _sync(str(dirty), "--problems-ok", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert first.exit_code == 0, first.output
    text = summary.read_text("utf-8")
    assert text.startswith("## an earlier step\n\n## ✅ sheetcrm sync")
    assert "| Contacts | Email (F) | error | 1 | 2 |" in text
    # where the problem is, never what the cell holds
    assert BAD_EMAIL not in text and "林志玲" not in text

    own = tmp_path / "own.md"
    second = _sync(str(dirty), "--summary-md", str(own), env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert second.exit_code == 1
    assert summary.read_text("utf-8") == text
    assert own.read_text("utf-8").startswith("## ⚠️ sheetcrm sync\n\nNothing to do")


def test_the_summary_of_a_chinese_workbook_is_chinese(make_workbook, small_crm, tmp_path: Path) -> None:
    small_crm[Tab.CONTACTS][0]["Email"] = BAD_EMAIL
    summary = tmp_path / "summary.md"
    result = _sync(str(make_workbook(small_crm, Lang.ZH_TW)), "--summary-md", str(summary))
    assert result.exit_code == 1, result.output
    text = summary.read_text("utf-8")
    assert "### 問題所在" in text and "| 寫入儲存格 |" in text and "| 錯誤 | 1 |" in text
    assert "Where the problems are" not in text and "Cells written" not in text


def test_a_second_sync_says_nothing_to_do_in_one_line(clean: Path) -> None:
    assert _sync(str(clean)).exit_code == 0
    again = _sync(str(clean))
    assert again.exit_code == 0
    assert again.stdout.splitlines() == ["Nothing to do: every computed cell is already up to date; no problems found."]
    assert _pending(clean) == 0


def test_json_output(dirty: Path) -> None:
    first = _sync(str(dirty), "--json", "--problems-ok")
    report = json.loads(first.stdout)
    assert first.exit_code == 0 and report["status"] == "problems" and report["exit_code"] == 0
    assert report["problems"] == report["errors"] == 1 and report["cells_written"] > 0
    assert report["nothing_to_do"] is False and report["as_of"] == AS_OF and report["schedule"] is None
    second = json.loads(_sync(str(dirty), "--json", "--last-activity", "2026-11-01T09:30:00+08:00").stdout)
    assert second["nothing_to_do"] is True and second["exit_code"] == 1 and second["cells_written"] == 0
    assert second["schedule"]["last_activity"] == "2026-11-01"
    assert second["schedule"]["lapses_on"] == "2026-12-31"


def test_json_on_failure_and_one_line_reason(tmp_path: Path) -> None:
    missing = tmp_path / "nope.xlsx"
    summary = tmp_path / "summary.md"
    result = _sync(str(missing), "--json", "--summary-md", str(summary))
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["status"] == "failed" and report["exit_code"] == 2 and "nope.xlsx" in report["error"]
    (line,) = result.stderr.splitlines()
    assert line == f"Error: {report['error']}"
    assert summary.read_text("utf-8").startswith("## ❌ sheetcrm sync failed\n\n")


def test_the_lapse_warning_reaches_the_run_log_as_an_annotation(clean: Path, tmp_path: Path) -> None:
    last = (dt.datetime.now(dt.UTC) - dt.timedelta(days=INACTIVITY_DAYS - 3)).isoformat()
    summary = tmp_path / "s.md"
    result = _sync(str(clean), "--last-activity", last, "--summary-md", str(summary), env={"GITHUB_ACTIONS": "true"})
    assert result.exit_code == 0
    assert "::warning title=sheetcrm::GitHub turns this repository's scheduled workflows off" in result.stderr
    assert "> [!WARNING]" in summary.read_text("utf-8")
    bad = _sync(str(clean), "--last-activity", "last tuesday")
    assert bad.exit_code == 2 and "--last-activity 'last tuesday' is not a date" in bad.stderr


# ------------------------------------------------------------------- pure pieces


@pytest.mark.parametrize(
    ("last", "today", "lapses_on", "days_left", "warn"),
    [
        ("2026-01-01", "2026-01-02", "2026-03-02", 59, False),
        ("2026-01-01", "2026-02-15", "2026-03-02", 15, False),
        ("2026-01-01", "2026-02-16", "2026-03-02", WARN_DAYS, True),
        ("2026-01-01", "2026-03-02", "2026-03-02", 0, True),
        ("2026-01-01", "2026-04-01", "2026-03-02", -30, True),
        ("2026-10-31T23:30:00-05:00", "2026-11-01", "2026-12-31", 60, False),
    ],
)
def test_schedule_lapse(last: str, today: str, lapses_on: str, days_left: int, warn: bool) -> None:
    lapse = schedule_lapse(last, dt.date.fromisoformat(today))
    assert (lapse.lapses_on.isoformat(), lapse.days_left, lapse.warn) == (lapses_on, days_left, warn)
    assert lapses_on in lapse.sentence()
    assert ("push a commit" in lapse.sentence()) == warn
    assert lapses_on in lapse.sentence("zh-TW")
    assert ("請推送一次提交" in lapse.sentence("zh-TW")) == warn


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", '{"private_key": 1}'])
def test_parse_activity_refuses_what_is_not_a_date(text: str) -> None:
    with pytest.raises(WorkflowOptionError, match="is not a date"):
        parse_activity(text)


def test_problem_groups() -> None:
    problems = pd.DataFrame(
        {
            "tab": ["Contacts", "Contacts", "Contacts", "Activities"],
            "row": [5, 3, 9, 2],
            "id": ["P-1", "P-2", "P-3", "A-1"],
            "column": ["Email (F)", "Email (F)", "Phone (G)", None],
            "value": ["a@", "b@", "12", "x"],
            "problem": ["bad", "bad", "bad", "bad"],
            "severity": ["error", "error", "warning", "error"],
        }
    )
    expected = pd.DataFrame(
        {
            "tab": ["Contacts", "Activities", "Contacts"],
            "column": ["Email (F)", "", "Phone (G)"],
            "severity": ["error", "error", "warning"],
            "count": [2, 1, 1],
            "rows": ["3, 5", "2", "9"],
        }
    )
    pd.testing.assert_frame_equal(problem_groups(problems), expected)


def test_append_summary_stays_under_githubs_limit(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "s.md"
    append_summary(path, "## an earlier step\n")
    append_summary(path, "| 表 |\n" * SUMMARY_LIMIT)
    text = path.read_text("utf-8")  # the cut never splits a character
    assert path.stat().st_size < SUMMARY_LIMIT
    assert text.startswith("## an earlier step\n\n| 表 |\n") and text.endswith("of a step's summary)*\n")


# ------------------------------------------------------------------ init-workflow


def test_init_workflow_writes_both_files_and_says_what_is_next(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    args = ["init-workflow", "--dir", str(folder), "--auth", "key", "--every", "30m", "--spreadsheet-var", "CRM"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"Wrote {folder / SYNC_WORKFLOW}" in result.stdout and f"Wrote {folder / REPORT_WORKFLOW}" in result.stdout
    assert "gh secret set SHEETCRM_CREDENTIALS_JSON" in result.stdout and "gh variable set CRM" in result.stdout
    sync = (folder / SYNC_WORKFLOW).read_text("utf-8")
    assert 'cron: "17,47 * * * *"' in sync and "${{ vars.CRM }}" in sync and "--problems-ok" in sync
    assert "--include-pii" not in (folder / REPORT_WORKFLOW).read_text("utf-8")

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and again.stderr.count("\n") == 1 and "--force" in again.stderr
    assert (folder / SYNC_WORKFLOW).read_text("utf-8") == sync
    forced = CliRunner().invoke(
        cli, [*args[:-4], "--force", "--include-pii", "--on-problems", "stop", "--lang", "zh-TW"]
    )
    assert forced.exit_code == 0
    assert f"已寫入 {folder / SYNC_WORKFLOW}" in forced.stdout and "接下來：" in forced.stdout
    assert "gh secret set SHEETCRM_CREDENTIALS_JSON" in forced.stdout and "Next:" not in forced.stdout
    assert "--fail-on-problems" in (folder / SYNC_WORKFLOW).read_text("utf-8")
    assert "--include-pii" in (folder / REPORT_WORKFLOW).read_text("utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--every", "7m"], "Invalid value for '--every'"),
        (["--auth", "password"], "Invalid value for '--auth'"),
        (["--spreadsheet-var", "GITHUB_TOKEN"], "is not a name GitHub allows"),
    ],
)
def test_init_workflow_refuses_bad_options(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init-workflow", "--dir", str(tmp_path), *args])
    assert result.exit_code == 2 and message in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_empty_spreadsheet_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["sync", "--spreadsheet", " "])
    assert result.exit_code == 2 and "--spreadsheet is empty" in result.output


def test_report_markdown_goes_to_github_step_summary(clean: Path, tmp_path: Path) -> None:
    summary = tmp_path / "step_summary"
    out = tmp_path / "out"
    args = ["report", str(clean), "--month", "2026-10", "--out", str(out), "--format", "html", "-q"]
    result = CliRunner().invoke(cli, args, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 0, result.output
    text = summary.read_text("utf-8")
    assert "2026-10" in text and 0 < len(text.encode("utf-8")) < SUMMARY_LIMIT
    assert [p.suffix for p in out.iterdir()] == [".html"]
    assert "林志玲" not in text and "lin@example.com" not in text

    failed = CliRunner().invoke(
        cli, [*args[:1], str(tmp_path / "nope.xlsx"), *args[2:]], env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert failed.exit_code == 2
    assert summary.read_text("utf-8").startswith(text + "\n## ❌ sheetcrm report failed\n")
