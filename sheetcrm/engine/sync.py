"""The sync engine: read → validate → compute → plan → write → log.

``compute`` and ``plan`` are pure: they take bound tables and return frames, so a past
month end can be recomputed and a plan inspected before anything is written. ``sync``
runs the whole path against a workbook's backend, in one write call.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sheetcrm.backends.base import WriteReport
from sheetcrm.engine.compute import RECORD_TABS, as_of_date, compute
from sheetcrm.engine.plan import plan, stage_counts
from sheetcrm.exceptions import ProblemsFoundError, shown
from sheetcrm.schema import (
    NESL,
    Severity,
    Tab,
)

if TYPE_CHECKING:
    from sheetcrm.workbook import Workbook

Progress = Callable[[str], None]

# -------------------------------------------------------------------------- sync


@dataclass
class SyncResult:
    """What a sync did (or, with ``dry_run``, would do).

    ``changes``: the planned cells (tab, row, id, column, old, new, kind). ``problems``:
    validation's problems. ``computed``: sheetcrm's columns per tab as DataFrames.
    ``counts``: the figures the CLI prints. ``report``: what the backend wrote (None on a
    dry run or when there was nothing to write).
    """

    run_id: str
    as_of: pd.Timestamp
    dry_run: bool
    changes: pd.DataFrame
    problems: pd.DataFrame
    computed: dict[Tab, pd.DataFrame]
    log: pd.DataFrame
    counts: dict[str, Any] = field(default_factory=dict)
    report: WriteReport | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        c = self.counts
        rows = ", ".join(f"{n} {t.lower()}" for t, n in c["rows"].items())
        nesl = ", ".join(f"{k} {v}" for k, v in c["nesl"].items())
        lines = [
            f"Read {rows}.",
            f"Problems: {c['problems']} ({c['errors']} error(s), {c['problems'] - c['errors']} warning(s)).",
            f"IDs filled: {c['ids_filled']}. Stage moves: {c['stage_moves']}. "
            f"Person stage changes noticed: {c['person_changes']}.",
            f"Contacts by NESL: {nesl}.",
            *c.get("notices", []),
        ]
        if self.dry_run:
            lines.append(f"Dry run: {len(self.changes)} cell(s) would be written; nothing was written.")
        else:
            skipped = len(self.report.skipped) if self.report else 0
            lines.append(
                f"Cells written: {c['cells_written']}"
                + (f" ({skipped} skipped because the sheet changed)" if skipped else "")
                + (" (nothing changed; the workbook was not rewritten)" if not len(self.changes) else "")
            )
        return lines


def _new_run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def sync(
    workbook: Workbook,
    as_of: Any = None,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    fail_on_problems: bool = False,
) -> SyncResult:
    """Validate, compute and write the computed cells of ``workbook``.

    Writes only cells whose value changes, in one backend write, and appends the Log rows.
    With ``dry_run`` nothing is written. With ``fail_on_problems``, a workbook with any
    validation problem raises :class:`ProblemsFoundError` before anything is written.
    Returns a :class:`SyncResult`.
    """
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    as_of_ts = as_of_date(as_of)
    now = dt.datetime.now().replace(microsecond=0)
    run_id = _new_run_id(now)
    t0 = time.perf_counter()
    say("validating")
    problems = workbook.validate()
    timings["validate"] = time.perf_counter() - t0
    if fail_on_problems and len(problems) and not dry_run:
        errors = int((problems["severity"] == "error").sum())
        raise ProblemsFoundError(
            f"{len(problems)} validation problem(s) ({errors} error(s)) and --fail-on-problems: nothing was "
            f"written; run 'sheetcrm validate' for the list, fix the cells and run again"
        )
    t0 = time.perf_counter()
    computed = compute(workbook.tables, workbook.settings, as_of_ts, problems, progress=say)
    timings["compute"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    say("planning")
    the_plan = plan(workbook.tables, computed, workbook.settings, as_of_ts, run_id, now)
    if workbook.settings.assign_relay:
        from sheetcrm.team.assign import add_relay

        add_relay(
            the_plan.write, workbook.tables, stages=computed.stages, settings=workbook.settings, now=now, run=run_id
        )
    timings["plan"] = time.perf_counter() - t0
    report = None
    if not dry_run and not the_plan.write.empty:
        say(f"writing {len(the_plan.write.cells)} cell(s)")
        t0 = time.perf_counter()
        report = workbook.backend.write(the_plan.write)
        timings["write"] = time.perf_counter() - t0
    cells = the_plan.write.cells
    stages = computed.stages
    contacts_nesl = computed.customers[Tab.CONTACTS]["NESL"]
    nesl_counts = {n.value: int((contacts_nesl == n).sum()) for n in NESL}
    counts = {
        "rows": {t.value: len(workbook.tables[t]) for t in RECORD_TABS},
        "problems": len(problems),
        "errors": int((problems["severity"] == Severity.ERROR).sum()),
        "ids_filled": sum(len(s) for s in computed.ids.values()),
        "stage_moves": stage_counts(stages)["moves"],
        "person_changes": stage_counts(stages)["person"],
        "nesl": nesl_counts,
        "cells_planned": len(cells),
        "cells_written": report.written if report else 0,
        "log_rows": len(the_plan.write.log),
        "notices": [n.text(workbook.settings.language) for n in computed.notices],
    }
    changes = cells.drop(columns=["tab", "col", "id_col", "cas"]) if len(cells) else cells
    changes = changes.rename(columns={"title": "tab", "record_id": "id"}) if len(changes) else changes
    frames = {tab: computed.cells[tab] for tab in computed.cells}
    if not dry_run and report is not None:
        workbook.mark_stale()
    return SyncResult(
        run_id, as_of_ts, dry_run, changes, problems, frames, the_plan.log_changes, counts, report, timings
    )


def sync_target(
    target: str | os.PathLike[str],
    *,
    credentials: Any = None,
    as_of: Any = None,
    dry_run: bool = False,
    backup: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    fail_on_problems: bool = False,
) -> SyncResult:
    """The whole sync of the workbook at ``target`` (an .xlsx path, or a Google Sheets URL
    or key): read once, save a local copy into the folder ``backup`` first if asked, then
    :func:`sync`. What the ``sync`` command runs."""
    from sheetcrm.backends.backup import save_copy
    from sheetcrm.workbook import Workbook, open_backend

    say = progress or (lambda _msg: None)
    backend = open_backend(target, credentials=credentials)
    say(f"reading {shown(backend.location)}")
    raw = backend.read()
    if backup is not None:
        say(f"saved a copy to {save_copy(raw, Path(backup))}")
    return sync(
        Workbook(backend, raw), as_of=as_of, dry_run=dry_run, progress=progress, fail_on_problems=fail_on_problems
    )
