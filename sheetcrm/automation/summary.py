"""The Markdown a sync leaves in a GitHub job summary (or any file), and the JSON it prints
for machines.

In: a :class:`~sheetcrm.sync.SyncResult` (or the one-line reason a run failed), the exit
code, the schedule lapse. Out: Markdown text in the workbook's language and a JSON-ready
dict (its keys and values stay English: machines read it).

A summary may be read by anyone who can see the repository's Actions runs, so it says where
problems are (tab, column, rows) but never what a cell holds: no names, emails, phones or
amounts, and nothing of the credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetcrm.automation.lapse import ScheduleLapse
from sheetcrm.i18n import tr

if TYPE_CHECKING:
    import pandas as pd

    from sheetcrm.engine.sync import SyncResult

#: GitHub Actions sets this to the file a step appends its Markdown summary to.
ENV_STEP_SUMMARY = "GITHUB_STEP_SUMMARY"
#: GitHub shows at most 1 MiB of one step's summary (a sync's stays far below).
SUMMARY_LIMIT = 1024 * 1024
#: Problem groups (tab, column, severity) listed; the rest are counted.
MAX_PROBLEM_GROUPS = 30
#: Row numbers listed per group.
MAX_ROWS_SHOWN = 12


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def problem_count(result: SyncResult) -> int:
    """Validation problems (errors and warnings; notes on references matched by name are
    not problems)."""
    return int(result.counts["problems"]) - int(result.counts.get("notes", 0))


def nothing_to_do(result: SyncResult) -> bool:
    """A real (not dry) run that found nothing to write: no cell, header or Log row (the
    engine then leaves the backend untouched and reports no write)."""
    return not result.dry_run and result.report is None


def problem_groups(problems: pd.DataFrame) -> pd.DataFrame:
    """Problems (columns tab, row, column, severity, ...) grouped by tab, column and
    severity: columns tab, column, severity, count, rows (the first sheet rows, as text)."""
    import pandas as pd

    if problems.empty:
        return pd.DataFrame(columns=["tab", "column", "severity", "count", "rows"])
    frame = problems.assign(
        column=problems["column"].fillna("").astype(str), tab=problems["tab"].fillna("").astype(str)
    )
    grouped = frame.groupby(["tab", "column", "severity"], sort=False, dropna=False)["row"]

    def rows_text(rows: pd.Series) -> str:
        numbers = sorted({int(r) for r in rows.dropna()})
        shown = ", ".join(str(n) for n in numbers[:MAX_ROWS_SHOWN])
        return shown + (f", … (+{len(numbers) - MAX_ROWS_SHOWN})" if len(numbers) > MAX_ROWS_SHOWN else "")

    out = grouped.agg(count="size", rows=rows_text).reset_index()
    return out.sort_values(["count", "tab", "column"], ascending=[False, True, True], kind="stable", ignore_index=True)


def headline(result: SyncResult, lang: str | None = None) -> str:
    """What the run did, in one line, in ``lang`` (default: the workbook's)."""
    lang = lang or result.lang
    c = result.counts
    count = problem_count(result)
    problems = tr(lang, "{n} problem(s) found", n=count) if count else tr(lang, "no problems found")
    if result.dry_run:
        return tr(
            lang,
            "Dry run: {n} cell(s) would be written, nothing was written; {problems}.",
            n=len(result.changes),
            problems=problems,
        )
    if nothing_to_do(result):
        return tr(lang, "Nothing to do: every computed cell is already up to date; {problems}.", problems=problems)
    skipped = len(result.report.skipped) if result.report else 0
    if skipped:
        return tr(
            lang,
            "Wrote {n} cell(s) ({skipped} skipped because the sheet changed meanwhile); {problems}.",
            n=c["cells_written"],
            skipped=skipped,
            problems=problems,
        )
    return tr(lang, "Wrote {n} cell(s); {problems}.", n=c["cells_written"], problems=problems)


def sync_markdown(result: SyncResult, *, exit_code: int, lapse: ScheduleLapse | None = None) -> str:
    """The job summary of a sync that ran (whatever it found), in the workbook's language."""
    from sheetcrm.engine.link import NOTE
    from sheetcrm.schema import NESL, Severity, Tab

    lang = result.lang
    c = result.counts
    sep = tr(lang, ", ")
    rows = sep.join(
        tr(lang, "{count} {tab}", count=format(n, ","), tab=Tab(t).label(lang).lower()) for t, n in c["rows"].items()
    )
    nesl = sep.join(f"{NESL(k).label(lang)} {v}" for k, v in c["nesl"].items())
    icon = {0: "✅", 1: "⚠️"}.get(exit_code, "❌")
    warnings = problem_count(result) - c["errors"]
    table = [
        (
            tr(lang, "Run"),
            tr(lang, "`{run}`, as of {date}", run=_cell(result.run_id), date=result.as_of.strftime("%Y-%m-%d")),
        ),
        (tr(lang, "Read"), _cell(rows)),
        (
            tr(lang, "Problems"),
            tr(
                lang,
                "{n} ({errors} error(s), {warnings} warning(s))",
                n=problem_count(result),
                errors=c["errors"],
                warnings=warnings,
            ),
        ),
        (tr(lang, "IDs filled"), str(c["ids_filled"])),
        (
            tr(lang, "Stage moves"),
            tr(lang, "{n} (person stage changes noticed: {person})", n=c["stage_moves"], person=c["person_changes"]),
        ),
        (
            tr(lang, "Cells written"),
            tr(lang, "{n} of {planned} planned", n=c["cells_written"], planned=c["cells_planned"]),
        ),
        (tr(lang, "Contacts by NESL"), _cell(nesl)),
        (tr(lang, "Exit code"), str(exit_code)),
    ]
    lines = [f"## {icon} sheetcrm sync", "", headline(result), "", "| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in table]
    groups = problem_groups(result.problems[result.problems["severity"] != NOTE])
    if len(groups):
        severity = {s.value: tr(lang, s.value) for s in Severity}
        lines += [
            "",
            "### " + tr(lang, "Where the problems are"),
            "",
            tr(lang, "Run `sheetcrm validate` on the workbook for every cell, value and fix."),
            "",
            "| {} | {} | {} | {} | {} |".format(
                tr(lang, "Tab"), tr(lang, "Column"), tr(lang, "Severity"), tr(lang, "Count"), tr(lang, "Rows")
            ),
            "|---|---|---|---:|---|",
        ]
        for g in groups.head(MAX_PROBLEM_GROUPS).itertuples(index=False):
            shown = severity.get(str(g.severity), str(g.severity))
            lines.append(
                f"| {_cell(g.tab)} | {_cell(g.column) or '—'} | {_cell(shown)} | {g.count} | {_cell(g.rows)} |"
            )
        if len(groups) > MAX_PROBLEM_GROUPS:
            rest = int(groups["count"].iloc[MAX_PROBLEM_GROUPS:].sum())
            more = tr(lang, "in {n} more column(s)", n=len(groups) - MAX_PROBLEM_GROUPS)
            lines.append(f"| … | | | {rest} | {more} |")
    lines += _lapse_lines(lapse, lang)
    return "\n".join(lines) + "\n"


def failure_markdown(
    reason: str, *, lapse: ScheduleLapse | None = None, command: str = "sync", lang: str = "en"
) -> str:
    """The job summary of a ``sheetcrm COMMAND`` that did not run through (``reason``:
    the one-line, already redacted error), in ``lang``."""
    lines = [
        "## ❌ " + tr(lang, "sheetcrm {command} failed", command=command),
        "",
        _cell(reason),
        "",
        tr(lang, "Nothing was written."),
    ]
    return "\n".join(lines + _lapse_lines(lapse, lang)) + "\n"


def _lapse_lines(lapse: ScheduleLapse | None, lang: str) -> list[str]:
    if lapse is None:
        return []
    sentence = lapse.sentence(lang)
    return ["", f"> [!WARNING]\n> {sentence}" if lapse.warn else f"<sub>{sentence}</sub>"]


def summary_target(summary_md: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None) -> Path | None:
    """``summary_md`` if given, else ``$GITHUB_STEP_SUMMARY`` when set, else None."""
    if summary_md is not None and str(summary_md) != "":
        return Path(summary_md)
    value = (os.environ if env is None else env).get(ENV_STEP_SUMMARY, "")
    return Path(value) if value else None


def append_summary(path: str | Path, markdown: str) -> Path:
    """Append ``markdown`` to the summary file at ``path`` (GitHub collects a step's
    summary from what is appended to ``$GITHUB_STEP_SUMMARY``), cut so that the file
    stays under :data:`SUMMARY_LIMIT` (GitHub drops a larger step summary whole)."""
    target = Path(path)
    if target.parent != Path():
        target.parent.mkdir(parents=True, exist_ok=True)
    existing = target.stat().st_size if target.exists() else 0
    # A blank line keeps this summary apart from what earlier steps appended.
    data = (b"\n" if existing else b"") + markdown.encode("utf-8")
    note = b"\n\n*(summary cut short: GitHub shows at most 1 MiB of a step's summary)*\n"
    room = SUMMARY_LIMIT - existing - len(note) - 1
    if len(data) > room:
        data = data[: max(room, 0)].decode("utf-8", errors="ignore").encode("utf-8") + note
    with target.open("ab") as fh:
        fh.write(data)
    return target


def sync_json(
    result: SyncResult,
    *,
    exit_code: int,
    status: str,
    lapse: ScheduleLapse | None = None,
    summary_path: Path | None = None,
) -> dict[str, Any]:
    """What a sync did, for machines (``sheetcrm sync --json``; a failed run prints
    ``{"status": "failed", "exit_code": 2, "error": ...}`` instead)."""
    c = result.counts
    return {
        "status": status,
        "exit_code": exit_code,
        "error": None,
        "summary_md": str(summary_path) if summary_path else None,
        "run_id": result.run_id,
        "as_of": f"{result.as_of:%Y-%m-%d}",
        "dry_run": result.dry_run,
        "nothing_to_do": nothing_to_do(result),
        "rows": dict(c["rows"]),
        "problems": problem_count(result),
        "errors": c["errors"],
        "warnings": problem_count(result) - c["errors"],
        "ids_filled": c["ids_filled"],
        "stage_moves": c["stage_moves"],
        "person_changes": c["person_changes"],
        "nesl": dict(c["nesl"]),
        "cells_planned": c["cells_planned"],
        "cells_written": c["cells_written"],
        "cells_skipped": len(result.report.skipped) if result.report else 0,
        "schedule": None
        if lapse is None
        else {
            "last_activity": lapse.last_activity.isoformat(),
            "lapses_on": lapse.lapses_on.isoformat(),
            "days_left": lapse.days_left,
            "warn": lapse.warn,
        },
    }
