"""The monthly report as an unattended run sees it: the report's files, and its Markdown
in the job summary.

:func:`run_report_job` is the library call behind ``sheetcrm report``. In: what
:func:`sheetcrm.report.run.run_report` takes, plus where the Markdown summary goes
(``summary_md``, default ``$GITHUB_STEP_SUMMARY``). Out: its
:class:`~sheetcrm.report.run.ReportRun`. A failed run appends a one-line failure to the
summary and the :class:`~sheetcrm.exceptions.SheetCRMError` propagates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetcrm.automation.summary import append_summary, failure_markdown, summary_target
from sheetcrm.exceptions import SheetCRMError

if TYPE_CHECKING:
    from sheetcrm.report.run import ReportRun


def run_report_job(
    target: str | os.PathLike[str],
    month: Any = None,
    *,
    summary_md: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    **options: Any,
) -> tuple[ReportRun, Path | None]:
    """Run the monthly report of ``month`` for the workbook at ``target`` (``options``
    as for ``run_report``: out, formats, lang, tab, include_pii, credentials, progress)
    and append its Markdown (which the report keeps under GitHub's 1 MiB) to the summary
    file. Returns the run and the summary file (None when there is none)."""
    from sheetcrm.google.redact import redact
    from sheetcrm.i18n import locale_language
    from sheetcrm.report.render import to_markdown
    from sheetcrm.report.run import run_report

    path = summary_target(summary_md, env)
    try:
        done = run_report(target, month, **options)
    except SheetCRMError as exc:
        if path is not None:
            lang = str(options.get("lang") or locale_language(env))
            append_summary(path, failure_markdown(redact(str(exc)), command="report", lang=lang))
        raise
    if path is not None:
        append_summary(path, to_markdown(done.report))
    return done, path
