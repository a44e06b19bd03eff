"""One sync as an unattended run sees it: the exit code, the job summary, the JSON.

:func:`run_sync` is the library call behind ``sheetcrm sync``. In: where the workbook is,
the sync's options, what validation problems should do to the run, where the Markdown
summary goes, the date of the repository's last activity. Out: a :class:`SyncRun` with
the :class:`~sheetcrm.engine.sync.SyncResult`, the exit code and the lines to print. A
:class:`~sheetcrm.exceptions.SheetCRMError` still propagates (the CLI makes it one line
and exit 2), after the failure has been written to the summary.

Exit codes: 0 done and no problems; 1 done, with validation problems (0 with
``problems=PASS``); 2 the run failed, or (with ``problems=STOP``) problems were found and
nothing was written.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetcrm.automation.lapse import ScheduleLapse, schedule_lapse
from sheetcrm.automation.summary import (
    append_summary,
    failure_markdown,
    headline,
    nothing_to_do,
    problem_count,
    summary_target,
    sync_json,
    sync_markdown,
)
from sheetcrm.automation.workflows import OnProblems
from sheetcrm.exceptions import SheetCRMError
from sheetcrm.i18n import tr

if TYPE_CHECKING:
    import pandas as pd

    from sheetcrm.engine.sync import SyncResult


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1
    FAILED = 2


class RunStatus(StrEnum):
    """``status`` in ``sheetcrm sync --json``."""

    OK = "ok"
    PROBLEMS = "problems"
    FAILED = "failed"


@dataclass
class SyncRun:
    """What :func:`run_sync` did: the engine's ``result``, the ``exit_code``, ``warnings`` for the run's log
    (GitHub shows them as annotations), ``summary_path`` where the Markdown went."""

    result: SyncResult
    exit_code: ExitCode
    warnings: list[str] = field(default_factory=list)
    summary_path: Path | None = None
    lapse: ScheduleLapse | None = None

    def lines_in(self, lang: str | None = None) -> list[str]:
        """What the run did for a person: one line when there was nothing to do, else the
        engine's summary lines in ``lang``."""
        return [headline(self.result, lang)] if nothing_to_do(self.result) else self.result.summary_lines(lang)

    @property
    def status(self) -> RunStatus:
        return RunStatus.PROBLEMS if problem_count(self.result) else RunStatus.OK

    def to_json(self) -> dict[str, Any]:
        return sync_json(
            self.result,
            exit_code=int(self.exit_code),
            status=self.status.value,
            lapse=self.lapse,
            summary_path=self.summary_path,
        )


def run_sync(
    target: str | os.PathLike[str],
    *,
    credentials: Any = None,
    as_of: Any = None,
    dry_run: bool = False,
    backup: str | os.PathLike[str] | None = None,
    problems: OnProblems = OnProblems.FLAG,
    summary_md: str | os.PathLike[str] | None = None,
    last_activity: str | dt.date | None = None,
    env: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
    force: bool = False,
    before_write: Callable[[pd.DataFrame], None] | None = None,
) -> SyncRun:
    """Validate and sync the workbook at ``target`` as an unattended run would (see the
    module docstring for the exit codes); the Markdown summary is appended to
    ``summary_md`` (default ``$GITHUB_STEP_SUMMARY``), also when the run fails."""
    from sheetcrm.engine.sync import sync_target

    summary_path = summary_target(summary_md, env)
    lapse = schedule_lapse(last_activity) if last_activity is not None else None
    problems = OnProblems(problems)
    try:
        result = sync_target(
            target,
            credentials=credentials,
            as_of=as_of,
            dry_run=dry_run,
            backup=backup,
            progress=progress,
            fail_on_problems=problems is OnProblems.STOP,
            force=force,
            before_write=before_write,
        )
    except SheetCRMError as exc:
        from sheetcrm.google.redact import redact
        from sheetcrm.i18n import locale_language

        if summary_path is not None:
            # The workbook may not have been read: its language is unknown, the locale's is not.
            reason = redact(str(exc))
            append_summary(summary_path, failure_markdown(reason, lapse=lapse, lang=locale_language(env)))
        raise
    found_problems = bool(problem_count(result))
    # STOP gets here with problems only on a dry run (a real one raised before writing).
    code = ExitCode.PROBLEMS if found_problems and problems is not OnProblems.PASS else ExitCode.OK
    warnings = []
    if lapse is not None and lapse.warn:
        warnings.append(lapse.sentence(result.lang))
    if found_problems and problems is OnProblems.PASS:
        warnings.append(
            tr(
                result.lang,
                "{n} validation problem(s) in the workbook; the job summary says where.",
                n=result.counts["problems"],
            )
        )
    if summary_path is not None:
        append_summary(summary_path, sync_markdown(result, exit_code=int(code), lapse=lapse))
    return SyncRun(result, code, warnings, summary_path, lapse)
