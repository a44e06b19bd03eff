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
from sheetcrm.engine.bind import mostly_chinese
from sheetcrm.engine.compute import RECORD_TABS, as_of_date, compute
from sheetcrm.engine.link import NOTE
from sheetcrm.engine.plan import plan, stage_counts
from sheetcrm.exceptions import WORKBOOK_LANGUAGE, Phrase, ProblemsFoundError, shown, worded
from sheetcrm.i18n import N_, tr
from sheetcrm.schema import NESL, Lang, Severity, Tab, find_tabs

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
    #: The workbook's language (what it wrote in).
    lang: str = "en"
    #: What the run tells people beside its figures (``counts["notices"]`` has them worded
    #: in the workbook's language), to word them in the language asked for.
    notices: tuple[Phrase, ...] = ()
    #: Worksheet titles of the workbook's own (商機, 交易紀錄), to name its tabs as it does.
    titles: dict[str, str] = field(default_factory=dict)

    def summary_lines(self, lang: str | None = None) -> list[str]:
        """What the run did, as lines for people, in ``lang`` (default: the workbook's)."""
        lang = lang or self.lang
        c = self.counts
        rows = tr(lang, ", ").join(
            tr(lang, "{count} {tab}", count=format(n, ","), tab=self.titles.get(t) or Tab(t).label(lang).lower())
            for t, n in c["rows"].items()
        )
        nesl = tr(lang, ", ").join(f"{NESL(k).label(lang)} {v}" for k, v in c["nesl"].items())
        notes = c.get("notes", 0)
        lines = [
            tr(lang, "Read {rows}.", rows=rows),
            tr(
                lang,
                "Problems: {count} ({errors} error(s), {warnings} warning(s)).",
                count=c["problems"] - notes,
                errors=c["errors"],
                warnings=c["problems"] - c["errors"] - notes,
            ),
            tr(
                lang,
                "IDs filled: {ids}. Stage moves: {moves}. Person stage changes noticed: {person}.",
                ids=c["ids_filled"],
                moves=c["stage_moves"],
                person=c["person_changes"],
            ),
            tr(lang, "Contacts by NESL: {counts}.", counts=nesl),
            *([n.render(lang) for n in self.notices] if self.notices else c.get("notices", [])),
        ]
        if notes:
            lines.insert(2, tr(lang, "References matched by name, email or phone: {count}.", count=notes))
        if self.dry_run:
            lines.append(
                tr(lang, "Dry run: {count} cell(s) would be written; nothing was written.", count=len(self.changes))
            )
        else:
            skipped = len(self.report.skipped) if self.report else 0
            lines.append(
                tr(lang, "Cells written: {count}", count=c["cells_written"])
                + (tr(lang, " ({count} skipped because the sheet changed)", count=skipped) if skipped else "")
                + (tr(lang, " (nothing changed; the workbook was not rewritten)") if not len(self.changes) else "")
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
    before_write: Callable[[pd.DataFrame], None] | None = None,
    fail_on_problems: bool = False,
) -> SyncResult:
    """Validate, compute and write the computed cells of ``workbook``.

    Writes only cells whose value changes, in one backend write, and appends the Log rows.
    With ``dry_run`` nothing is written. ``before_write`` is given the planned changes
    (as in :attr:`SyncResult.changes`) before anything is written. With
    ``fail_on_problems``, a workbook with any validation problem raises
    :class:`ProblemsFoundError` before anything is written. Returns a :class:`SyncResult`.
    """
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    as_of_ts = as_of_date(as_of)
    now = dt.datetime.now().replace(microsecond=0)
    run_id = _new_run_id(now)
    lang = str(workbook.settings.language)  # read before the write marks the workbook stale
    # Only a name of the workbook's own; the usual names are told in the language asked for.
    titles = {t.value: title for t in RECORD_TABS if (title := workbook.tables[t].title) not in (t.value, t.zh)}
    t0 = time.perf_counter()
    say(worded(N_("validating")))
    problems = workbook.validate()
    timings["validate"] = time.perf_counter() - t0
    # Notes (references matched by name) tell what sheetcrm understood; they are no problem.
    blocking = int((problems["severity"] != NOTE).sum())
    if fail_on_problems and blocking and not dry_run:
        errors = int((problems["severity"] == Severity.ERROR).sum())
        raise ProblemsFoundError(
            Phrase(
                N_(
                    "{blocking} validation problem(s) ({errors} error(s)) and --fail-on-problems: nothing was "
                    "written; run 'sheetcrm validate' for the list, fix the cells and run again"
                ),
                {"blocking": blocking, "errors": errors},
            )
        )
    t0 = time.perf_counter()
    computed = compute(workbook.tables, workbook.settings, as_of_ts, problems, progress=say)
    timings["compute"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    say(worded(N_("planning")))
    the_plan = plan(workbook.tables, computed, workbook.settings, as_of_ts, run_id, now)
    if workbook.settings.assign_relay:
        from sheetcrm.team.assign import add_relay

        add_relay(
            the_plan.write, workbook.tables, stages=computed.stages, settings=workbook.settings, now=now, run=run_id
        )
    timings["plan"] = time.perf_counter() - t0
    report = None
    if before_write is not None:
        before_write(_changes_frame(the_plan.write.cells))
    if not dry_run and not the_plan.write.empty:
        say(worded(N_("writing {n} cell(s)"), n=len(the_plan.write.cells)))
        t0 = time.perf_counter()
        report = workbook.backend.write(the_plan.write)
        timings["write"] = time.perf_counter() - t0
    cells = the_plan.write.cells
    stages = computed.stages
    contacts_nesl = computed.customers[Tab.CONTACTS]["NESL"]
    nesl_counts = {n.value: int((contacts_nesl == n).sum()) for n in NESL}
    counts = {
        "rows": {t.value: len(workbook.tables[t]) for t in RECORD_TABS if workbook.tables[t].present},
        "problems": len(problems),
        "errors": int((problems["severity"] == Severity.ERROR).sum()),
        "notes": int((problems["severity"] == NOTE).sum()),
        "ids_filled": sum(len(s) for s in computed.ids.values()),
        "stage_moves": stage_counts(stages)["moves"],
        "person_changes": stage_counts(stages)["person"],
        "nesl": nesl_counts,
        "cells_planned": len(cells),
        "cells_written": report.written if report else 0,
        "log_rows": len(the_plan.write.log),
        "notices": [n.text(workbook.settings.language) for n in computed.notices if n.told],
    }
    changes = _changes_frame(cells)
    frames = {tab: computed.cells[tab] for tab in computed.cells}
    if not dry_run and report is not None:
        workbook.mark_stale()
    return SyncResult(
        run_id,
        as_of_ts,
        dry_run,
        changes,
        problems,
        frames,
        the_plan.log_changes,
        counts,
        report,
        timings,
        lang,
        tuple(n.phrase for n in computed.notices if n.told),
        titles,
    )


def _changes_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """Planned cells as a person reads them: tab title, row, id, column, old, new, kind
    (the same columns when nothing is planned)."""
    return cells.drop(columns=["tab", "col", "id_col", "cas"]).rename(columns={"title": "tab", "record_id": "id"})


def sync_target(
    target: str | os.PathLike[str],
    *,
    credentials: Any = None,
    as_of: Any = None,
    dry_run: bool = False,
    backup: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    force: bool = False,
    before_write: Callable[[pd.DataFrame], None] | None = None,
    fail_on_problems: bool = False,
) -> SyncResult:
    """The whole sync of the workbook at ``target`` (an .xlsx path, or a Google Sheets URL
    or key): read once, save a copy into the folder ``backup`` first if asked (a byte copy
    of an .xlsx), then :func:`sync`. ``force`` writes an .xlsx even when Excel or
    LibreOffice has it open. What the ``sync`` command runs."""
    from sheetcrm.backends.backup import backup_copy
    from sheetcrm.backends.gsheets import GoogleSheetsBackend
    from sheetcrm.backends.xlsx import XlsxBackend
    from sheetcrm.workbook import Workbook, open_backend

    say = progress or (lambda _msg: None)
    backend = open_backend(target, credentials=credentials)
    if isinstance(backend, XlsxBackend):
        backend.force = force
        backend.progress = progress
    # The tabs' names, known before their cells are read (an .xlsx's at once, a Google
    # spreadsheet's from its metadata), say the workbook's language for what follows. An
    # .xlsx tab is bound while calamine parses the larger ones in other threads.
    raw: Any = None
    sheets = None
    titles: list[str] = []
    if isinstance(backend, XlsxBackend):
        raw = backend.read_each()
        titles = backend.titles
    elif isinstance(backend, GoogleSheetsBackend):
        sheets = backend.metadata()
        titles = list(find_tabs(sheets).values())
    if WORKBOOK_LANGUAGE.get() is None and mostly_chinese(titles):
        WORKBOOK_LANGUAGE.set(Lang.ZH_TW)
    say(worded(N_("reading {location}"), location=shown(backend.location)))
    if raw is None:
        raw = backend.read(sheets) if isinstance(backend, GoogleSheetsBackend) else backend.read()
    if backup is not None:
        say(worded(N_("saved a copy to {path}"), path=str(backup_copy(backend, raw, Path(backup)))))
    say(worded(N_("parsing every cell")))
    workbook = Workbook(backend, raw)
    # The bound tables hold all sync needs: the rows as read would stay alive to the end
    # of the write, a large part of the peak memory of a big workbook.
    del raw
    return sync(
        workbook,
        as_of=as_of,
        dry_run=dry_run,
        progress=progress,
        before_write=before_write,
        fail_on_problems=fail_on_problems,
    )
