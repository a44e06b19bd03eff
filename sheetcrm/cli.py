"""The ``sheetcrm`` command: a thin layer over the library.

Each command parses its options, calls one library function and turns library errors
into a one-line message and an exit code: 0 done (or clean), 1 problems found, 2 the run
itself failed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from sheetcrm import __version__
from sheetcrm.automation.workflows import EVERY_CHOICES, Auth, OnProblems
from sheetcrm.exceptions import SheetCRMError, Worded
from sheetcrm.google.redact import redact
from sheetcrm.i18n import N_
from sheetcrm.schema import Lang, Severity, Tab

if TYPE_CHECKING:
    import pandas as pd

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_PROBLEMS, EXIT_FAILED = 0, 1, 2


@contextlib.contextmanager
def library_errors(lang: str | None = None, as_json: bool = False) -> Iterator[None]:
    """Turn a library error, or any ordinary file error, into ``Error: ...`` on stderr
    and exit code 2 (with ``as_json``, also ``{"status": "failed", ...}`` on stdout for
    the machine reading it)."""
    from sheetcrm.exceptions import WORKBOOK_LANGUAGE

    # A command's errors are told in its workbook's language once it is known.
    known = WORKBOOK_LANGUAGE.set(None)
    try:
        yield
    except SheetCRMError as exc:
        from sheetcrm.i18n import locale_language, tr
        from sheetcrm.output import visible

        spoken = lang or WORKBOOK_LANGUAGE.get() or locale_language()
        # redact() is a safety net: messages are written not to hold secrets at all.
        reason = visible(redact(exc.in_language(spoken)))
        prefix = tr(spoken, "Error: {message}", message="")
        click.echo(prefix + reason, err=True)
        if as_json:
            from sheetcrm.automation.run import RunStatus

            click.echo(json.dumps({"status": RunStatus.FAILED.value, "exit_code": EXIT_FAILED, "error": reason}))
        sys.exit(EXIT_FAILED)
    except OSError as exc:
        from sheetcrm.i18n import locale_language, tr

        where = f" {exc.filename!s}" if exc.filename else ""
        # The system's own words (English); only the prefix is ours.
        message = f"{exc.strerror or type(exc).__name__}:{where}"
        spoken = lang or WORKBOOK_LANGUAGE.get() or locale_language()
        click.echo(tr(spoken, "Error: {message}", message=message), err=True)
        sys.exit(EXIT_FAILED)
    finally:
        WORKBOOK_LANGUAGE.reset(known)


class StepDisplay:
    """Progress of a long command on stderr: a live spinner with the current step and its
    elapsed time on a terminal (rich), plain lines otherwise, nothing when quiet."""

    def __init__(self, quiet: bool, lang: str | None = None) -> None:
        self.quiet = quiet
        #: --lang; else the workbook's language once it is known, else the locale's.
        self.lang = lang
        self.live = not quiet and sys.stderr.isatty()
        self._status: Any = None
        self._step = ""
        self._started = 0.0

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        if isinstance(message, Worded):
            from sheetcrm.exceptions import WORKBOOK_LANGUAGE
            from sheetcrm.i18n import locale_language

            message = message.in_language(self.lang or WORKBOOK_LANGUAGE.get() or locale_language())
        if not self.live:
            click.echo(f"  {message}...", err=True)
            return
        import time

        if self._status is None:
            from rich.console import Console

            self._status = Console(stderr=True, log_path=False).status(f"{message}...")
            self._status.start()
        else:
            self._status.console.log(f"{self._step}: {time.perf_counter() - self._started:.1f} s", highlight=False)
            self._status.update(f"{message}...")
        self._step, self._started = message, time.perf_counter()

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


#: How people type the two languages -> the language.
_LANGS_SAID = {"zh": "zh-TW", "zh-tw": "zh-TW", "zh-hant": "zh-TW", "中文": "zh-TW", "en-us": "en", "en-gb": "en"}


class LangChoice(click.Choice):
    """en or zh-TW, also as people type them: zh, zh_TW, zh-tw, zh-Hant, 中文, en-US."""

    def __init__(self) -> None:
        super().__init__([lang.value for lang in Lang])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        said = _LANGS_SAID.get(str(value).strip().lower().replace("_", "-"), value)
        return super().convert(said, param, ctx)


LANG = LangChoice()


def output_lang_option(func: F) -> F:
    return click.option(
        "--lang",
        "out_lang",
        type=LANG,
        default=None,
        help="Language of the output (default: Traditional Chinese when the workbook or your locale is).",
    )(func)


def output_lang(chosen: str | None, workbook_lang: object = None) -> str:
    """The language to speak: ``--lang`` if given, else zh-TW when the workbook or the
    locale is Chinese, else English."""
    from sheetcrm.i18n import locale_language

    if chosen:
        return chosen
    if str(workbook_lang) == Lang.ZH_TW:
        return Lang.ZH_TW.value
    return locale_language()


def workbook_options(func: F) -> F:
    """PATH of a local .xlsx, or --spreadsheet (a Google Sheets URL or key) with
    --credentials; the command receives ``target`` and ``credentials``."""

    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
    @click.option(
        "--spreadsheet",
        metavar="KEY_OR_URL",
        envvar="SHEETCRM_SPREADSHEET",
        help="A Google Sheets URL or key instead of PATH (env SHEETCRM_SPREADSHEET).",
    )
    @click.option(
        "--credentials",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Service-account key, OAuth client or authorized-user JSON for Google Sheets "
        "(default: SHEETCRM_CREDENTIALS_JSON, SHEETCRM_CREDENTIALS, then application "
        "default credentials).",
    )
    @functools.wraps(func)
    def wrapper(path: Path | None, spreadsheet: str | None, credentials: Path | None, **kwargs: Any) -> Any:
        if (path is None) == (spreadsheet is None):
            raise click.UsageError("give either PATH (a local .xlsx) or --spreadsheet KEY_OR_URL")
        if spreadsheet is not None and not spreadsheet.strip():
            # An unset CI variable arrives as "": say so rather than look for a file named "".
            raise click.UsageError("--spreadsheet is empty; give the spreadsheet's key or URL")
        target = spreadsheet if spreadsheet is not None else path
        return func(target=target, credentials=credentials, **kwargs)

    return wrapper  # type: ignore[return-value]


def format_option(*choices: str) -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help="Output format.",
    )


class DayParam(click.ParamType):
    """A day as the workbook's cells take one: 2026-11-30, 2026/11/30, 11/30/2026,
    2026年11月30日, 民國115年11月30日 or 115/11/30."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        from sheetcrm.cells.parse import CellParseError, parse_date

        if isinstance(value, dt.datetime):
            return value
        try:
            return dt.datetime.combine(parse_date(str(value)), dt.time())
        except CellParseError as exc:
            self.fail(str(exc), param, ctx)


def as_of_option(func: F) -> F:
    return click.option(
        "--as-of",
        "as_of",
        type=DayParam(),
        default=None,
        help="Compute as of this date (2026-11-30, 2026/11/30 or 115/11/30) instead of today.",
    )(func)


def lang_option(func: F) -> F:
    return click.option(
        "--lang",
        type=LANG,
        default=Lang.EN.value,
        show_default=True,
        help="Language of the tab names, headers and labels.",
    )(func)


#: Column and severity names of the frames the CLI prints, for the catalog.
_HEADINGS = {
    "tab": N_("tab"),
    "row": N_("row"),
    "id": N_("id"),
    "column": N_("column"),
    "value": N_("value"),
    "problem": N_("problem"),
    "severity": N_("severity"),
    "old": N_("old"),
    "new": N_("new"),
    "kind": N_("kind"),
    "header_row": N_("header row"),
    "header": N_("header"),
    "recognised_as": N_("recognised as"),
    "status": N_("status"),
    "owner": N_("owner"),
    "reason": N_("reason"),
    "name": N_("name"),
}
_WORDS = {"error": N_("error"), "warning": N_("warning"), "note": N_("note")}
#: A planned change's kind, as the dry run's table names it.
_KINDS = {
    "computed": N_("computed"),
    "id": N_("ID filled"),
    "stage": N_("stage moved"),
    "owner": N_("owner assigned"),
    "setting": N_("setting"),
    "merge": N_("blank filled"),
    "append": N_("row added"),
}


def _changes_shown(changes: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Planned changes for the terminal: each column by its header in ``lang`` and each
    kind in words (CSV and JSON keep the keys)."""
    from sheetcrm.i18n import tr
    from sheetcrm.schema import TABS, Tab

    def header(title: str, key: str) -> str:
        tab = Tab.parse(title)
        spec = TABS.get(tab) if tab is not None else None
        return spec.column(key).header(lang) if spec is not None and spec.has(key) else key

    return changes.assign(
        column=[header(t, k) for t, k in zip(changes["tab"], changes["column"], strict=True)],
        kind=changes["kind"].map(lambda k: tr(lang, _KINDS[k]) if k in _KINDS else k),
    )


def emit_frame(frame: pd.DataFrame, fmt: str, lang: str = "en") -> None:
    """Print a DataFrame as an aligned table (headings in ``lang``, CJK aligned by display
    width), CSV (UTF-8 BOM, formula triggers neutralised) or JSON records."""
    from sheetcrm.i18n import tr
    from sheetcrm.output import csv_text, json_text, table_text

    if fmt == "csv":
        _echo_bytes(csv_text(frame))
    elif fmt == "json":
        _echo_bytes(json_text(frame) + "\n")
    elif not frame.empty:
        shown = frame.rename(columns={k: tr(lang, v) for k, v in _HEADINGS.items()})
        if "severity" in frame:
            words = {k: tr(lang, v) for k, v in _WORDS.items()}
            shown[tr(lang, _HEADINGS["severity"])] = frame["severity"].map(lambda v: words.get(v, v))
        click.echo(table_text(shown, whole={tr(lang, _HEADINGS["problem"])}))


def _echo_bytes(text: str) -> None:
    """Write ``text`` as UTF-8 whatever the terminal's encoding (CSV and JSON are files)."""
    click.echo(text.encode("utf-8"), nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sheetcrm")
def cli() -> None:
    """sheetcrm: a working CRM in the spreadsheet your team already uses.

    People keep editing the workbook (Companies, Contacts, Opportunities, Activities);
    sheetcrm checks every row, advances deals on evidence, scores customers (RFM, NESL,
    value tier, lifecycle) and writes back only its own computed cells.
    """
    from sheetcrm.google.redact import install_log_redaction

    # Whatever a command logs (google-auth and urllib3 at DEBUG included) goes through
    # redaction; the library leaves the process's logging alone.
    install_log_redaction()


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
@lang_option
@click.option("--force", is_flag=True, help="Replace an existing file (its data is lost).")
@click.option("--google", is_flag=True, help="Create the workbook in Google Sheets instead of a file.")
@click.option("--title", default="sheetcrm CRM", show_default=True, help="Title of the new Google spreadsheet.")
@click.option("--share", metavar="EMAIL", default=None, help="Share the new Google spreadsheet with EMAIL as editor.")
@click.option(
    "--credentials",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Credentials JSON for --google (default: as for every Google command).",
)
def init(
    path: Path | None, lang: str, force: bool, google: bool, title: str, share: str | None, credentials: Path | None
) -> None:
    """Create an empty CRM workbook: at PATH (.xlsx), or with --google in Google Sheets.
    Every tab gets its headers, dropdowns, a frozen header row, shaded (and protected)
    computed columns and the default Settings."""
    from sheetcrm.i18n import tr

    if google:
        from sheetcrm.google.connect import connect
        from sheetcrm.google.template import create_google_workbook

        with library_errors(lang):
            client, creds = connect(credentials, create=True)
            url = create_google_workbook(client, title, Lang(lang), share, creds)
        command = f"sheetcrm sync --spreadsheet {url}"
        click.echo(tr(lang, "Created {where}. Add your customers, then run: {command}", where=url, command=command))
        return
    if path is None:
        raise click.UsageError("give PATH for a local .xlsx workbook, or --google")
    from sheetcrm.template import init_workbook

    with library_errors(lang):
        created = init_workbook(path, lang, force=force)
    command = f"sheetcrm sync {created}"
    click.echo(
        tr(
            lang,
            "Created {where}. Open it in Excel, LibreOffice or Google Sheets, add your customers, then run: {command}",
            where=created,
            command=command,
        )
    )


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="sheetcrm-demo.xlsx")
@lang_option
@click.option("--seed", type=int, default=2026, show_default=True, help="Random seed of the demo data.")
@as_of_option
@click.option("--force", is_flag=True, help="Replace an existing file at PATH (its data is lost).")
def demo(path: Path, lang: str, seed: int, as_of: dt.datetime | None, force: bool) -> None:
    """Generate a realistic demo workbook at PATH (default sheetcrm-demo.xlsx), run the main
    job on it, and say what to open."""
    from sheetcrm.demo import make_demo
    from sheetcrm.i18n import tr

    with library_errors(lang):
        made = make_demo(path, lang=lang, seed=seed, as_of=as_of.date() if as_of else None, force=force)
    click.echo(tr(lang, "Wrote demo workbook {path} ({counts}).", path=made.path, counts=made.counts_text))
    for line in made.summary_lines:
        click.echo(line)
    click.echo(
        tr(
            lang,
            "Open {path} to see the computed columns (shaded) and the {log} tab; "
            "run 'sheetcrm validate {path}' for the full list of planted mistakes.",
            path=made.path,
            log=Tab.LOG.label(lang),
        )
    )
    from sheetcrm.report.monthly import last_complete_month
    from sheetcrm.report.run import run_report

    with library_errors():
        done = run_report(
            made.path,
            last_complete_month(as_of),
            out=made.path.with_name(f"{made.path.stem}-report"),
            formats=("html", "md", "csv"),
        )
    click.echo(
        tr(
            lang,
            "Monthly report {month}: open {page} in a browser (also {others}).",
            month=done.report.month,
            page=done.paths[0],
            others=", ".join(str(p) for p in done.paths[1:]),
        )
    )
    if made.leads is not None:
        command = f"sheetcrm import {made.path} {made.leads} --dry-run"
        click.echo(tr(lang, "Sample leads to try an import with: {command}", command=command))


@cli.command()
@workbook_options
@format_option("table", "csv", "json")
@click.option("--errors-only", is_flag=True, help="Leave out warnings (likely duplicates etc.) and notes.")
@output_lang_option
def validate(target: Path | str, credentials: Path | None, fmt: str, errors_only: bool, out_lang: str | None) -> None:
    """Check every row of the workbook at PATH and list the problems: tab, row, column,
    value and what was expected (and notes on references matched by name). Reads only.
    Exit 0 when clean, 1 when problems were found, 2 when the workbook could not be read."""
    from sheetcrm.i18n import tr
    from sheetcrm.workbook import open_workbook

    with library_errors(out_lang):
        wb = open_workbook(target, credentials=credentials)
        lang = output_lang(out_lang, wb.settings.language)
        problems = wb.validate(lang)
    if errors_only:
        problems = problems[problems["severity"] == Severity.ERROR]
    if fmt == "table":
        # Problems first: in a sheet kept by names, notes on how a name was matched can
        # outnumber them many times over.
        rank = problems["severity"].map({Severity.ERROR: 0, Severity.WARNING: 1}).fillna(2)
        problems = problems.iloc[rank.to_numpy().argsort(kind="stable")]
    emit_frame(problems, fmt, lang)
    errors = int((problems["severity"] == Severity.ERROR).sum())
    warnings = int((problems["severity"] == Severity.WARNING).sum())
    notes = len(problems) - errors - warnings
    if fmt == "table":
        said = (
            tr(
                lang,
                "{count} problem(s): {errors} error(s), {warnings} warning(s)",
                count=errors + warnings,
                errors=errors,
                warnings=warnings,
            )
            if errors + warnings
            else tr(lang, "No problems found.")
        )
        if notes:
            said += tr(lang, "; {notes} note(s) on references matched by name, email or phone", notes=notes)
        click.echo(said, err=bool(errors + warnings))
    sys.exit(EXIT_PROBLEMS if errors + warnings else EXIT_OK)


@cli.command()
@workbook_options
@format_option("table", "csv", "json")
@output_lang_option
def inspect(target: Path | str, credentials: Path | None, fmt: str, out_lang: str | None) -> None:
    """Show how sheetcrm reads the workbook at PATH: per tab, the header row it found,
    what each header was recognised as, which columns are kept as the people's own, which
    rows are instructions, and every missing required column at once. Reads only. Exit 0
    when sync can read the layout, 1 when it cannot."""
    from sheetcrm.engine.bind import mostly_chinese
    from sheetcrm.engine.inspect import inspect_tabs
    from sheetcrm.i18n import tr
    from sheetcrm.workbook import open_backend

    with library_errors(out_lang):
        raw = open_backend(target, credentials=credentials).read()
    lang = output_lang(out_lang, Lang.ZH_TW if mostly_chinese([r.title for r in raw.values()]) else None)
    frame = inspect_tabs(raw, lang)
    blocking = int(frame["blocking"].sum())
    if fmt != "table":
        emit_frame(frame, fmt, lang)
    else:
        for title, group in frame.groupby("tab", sort=False):
            at = int(group["header_row"].iloc[0])
            heading = tr(lang, "{tab}: header on row {row}", tab=title, row=at) if at else str(title)
            click.echo(heading)
            emit_frame(group.drop(columns=["tab", "header_row", "blocking"]), "table", lang)
            click.echo("")
        click.echo(
            tr(lang, "{count} layout problem(s) to fix before sync can run.", count=blocking)
            if blocking
            else tr(lang, "sync can read this layout.")
        )
    sys.exit(EXIT_PROBLEMS if blocking else EXIT_OK)


@cli.command()
@workbook_options
@as_of_option
@click.option("--dry-run", is_flag=True, help="Show the planned changes; write nothing.")
@click.option(
    "--backup",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Save a local .xlsx copy of the workbook as read into this folder before writing.",
)
@click.option(
    "--plan-csv",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also save the planned cell changes as CSV to this file.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress messages.")
@click.option(
    "--force", is_flag=True, help="Write the .xlsx even when Excel or LibreOffice has it open (their save would win)."
)
@output_lang_option
@click.option(
    "--fail-on-problems",
    is_flag=True,
    help="Validation problems are fatal: write nothing and exit 2 (default: write, then exit 1).",
)
@click.option("--problems-ok", is_flag=True, help="Exit 0 even when validation found problems.")
@click.option(
    "--summary-md",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="GITHUB_STEP_SUMMARY",
    default=None,
    help="Append a Markdown summary of the run to FILE (default: $GITHUB_STEP_SUMMARY when set).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what the run did as one JSON object.")
@click.option(
    "--last-activity",
    metavar="DATE",
    default=None,
    help="Date of the repository's last commit (git log -1 --format=%cI): the summary says when "
    "GitHub would turn the schedule off.",
)
def sync(
    target: Path | str,
    credentials: Path | None,
    as_of: dt.datetime | None,
    dry_run: bool,
    backup: Path | None,
    plan_csv: Path | None,
    quiet: bool,
    force: bool,
    out_lang: str | None,
    fail_on_problems: bool,
    problems_ok: bool,
    summary_md: Path | None,
    as_json: bool,
    last_activity: str | None,
) -> None:
    """Validate the workbook at PATH, advance opportunity stages, compute RFM, NESL, tiers,
    lifecycle and the forecast columns, and write back only the computed cells that changed
    (plus missing IDs and Stage moves, logged in the Log tab).

    Exit 0 done, 1 done but validation found problems, 2 the run failed (docs/automation.md)."""
    from sheetcrm.automation.run import run_sync

    if fail_on_problems and problems_ok:
        raise click.UsageError("give --fail-on-problems or --problems-ok, not both")
    policy = OnProblems.STOP if fail_on_problems else OnProblems.PASS if problems_ok else OnProblems.FLAG

    def save_plan(changes: pd.DataFrame) -> None:
        # Before the workbook is written: a failure here cannot make a successful write look failed.
        if plan_csv is not None:
            from sheetcrm.backends.files import write_bytes
            from sheetcrm.output import csv_text

            write_bytes(csv_text(changes).encode("utf-8"), plan_csv)

    progress = StepDisplay(quiet, out_lang)
    try:
        with library_errors(out_lang, as_json):
            run = run_sync(
                target,
                credentials=credentials,
                as_of=as_of,
                dry_run=dry_run,
                backup=backup,
                problems=policy,
                summary_md=summary_md,
                last_activity=last_activity,
                env={},
                progress=progress,
                force=force,
                before_write=save_plan,
            )
    finally:
        progress.close()
    result = run.result
    lang = output_lang(out_lang, result.lang)
    for warning in run.warnings:
        # GitHub turns a ::warning:: line into an annotation on the run's page.
        prefix = "::warning title=sheetcrm::" if os.environ.get("GITHUB_ACTIONS") == "true" else "Warning: "
        click.echo(f"{prefix}{warning}", err=True)
    if as_json:
        click.echo(json.dumps(run.to_json(), ensure_ascii=False))
    else:
        if dry_run and len(result.changes):
            emit_frame(_changes_shown(result.changes.head(50), lang), "table", lang)
            if len(result.changes) > 50:
                from sheetcrm.i18n import tr

                click.echo(
                    tr(lang, "... and {count} more (use --plan-csv FILE for all)", count=len(result.changes) - 50)
                )
        for line in run.lines_in(lang):
            click.echo(line)
    sys.exit(int(run.exit_code))


@cli.command("init-workflow")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=".github/workflows",
    show_default=True,
    help="Where to write the workflow files.",
)
@click.option(
    "--auth",
    type=click.Choice([a.value for a in Auth]),
    default="wif",
    show_default=True,
    help="wif: keyless, through workload identity federation; key: a service-account key in a secret.",
)
@click.option(
    "--every",
    type=click.Choice(EVERY_CHOICES),
    default="1h",
    show_default=True,
    help="How often the sync runs.",
)
@click.option(
    "--spreadsheet-var",
    metavar="NAME",
    default="SHEETCRM_SPREADSHEET",
    show_default=True,
    help="The repository variable that holds the spreadsheet's key or URL.",
)
@click.option(
    "--on-problems",
    type=click.Choice([p.value for p in OnProblems]),
    default="pass",
    show_default=True,
    help="What validation problems do to a scheduled sync: pass (green run, the summary lists them), "
    "flag (write, then a red run), stop (write nothing, a red run).",
)
@click.option("--include-pii", is_flag=True, help="Let the monthly report name customers (off by default).")
@click.option(
    "--requirement",
    metavar="SPEC",
    default=None,
    help="What the workflows pip install (default: this version of sheetcrm from PyPI).",
)
@click.option("--force", is_flag=True, help="Replace existing workflow files (your changes to them are lost).")
@output_lang_option
def init_workflow(
    directory: Path,
    auth: str,
    every: str,
    spreadsheet_var: str,
    on_problems: str,
    include_pii: bool,
    requirement: str | None,
    force: bool,
    out_lang: str | None,
) -> None:
    """Write the GitHub Actions workflows that run sheetcrm unattended: the scheduled sync
    and the monthly report, then say what to set up next (docs/scheduled-sync.md)."""
    from sheetcrm.automation.workflows import WorkflowOptions, write_workflows
    from sheetcrm.i18n import tr

    lang = output_lang(out_lang)
    with library_errors(lang):
        options = WorkflowOptions(
            auth=Auth(auth),
            every=every,
            spreadsheet_var=spreadsheet_var,
            on_problems=OnProblems(on_problems),
            include_pii=include_pii,
            **({"requirement": requirement} if requirement is not None else {}),
        )
        written = write_workflows(directory, options, force=force, lang=lang)
    for path in written.paths:
        click.echo(tr(lang, "Wrote {path}", path=path))
    click.echo(tr(lang, "Next:"))
    for n, step in enumerate(written.next_steps, 1):
        click.echo(f"  {n}. {step}")


@cli.command()
@click.option(
    "--credentials",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The OAuth client JSON (type 'Desktop app') downloaded from Google Cloud Console.",
)
@click.option("--google-drive", is_flag=True, help="Also allow creating spreadsheets (for init --google).")
def login(credentials: Path, google_drive: bool) -> None:
    """Sign in to Google once, in the browser, as yourself (OAuth), and keep the token so
    later commands with the same --credentials run without asking."""
    from sheetcrm.google.auth import default_token_path, load_credentials

    with library_errors():
        load_credentials(credentials, create=google_drive, interactive=True)
    click.echo(f"Signed in; the token is kept in {default_token_path()}.")


@cli.command()
@workbook_options
@click.option(
    "--to",
    "to",
    type=click.Path(path_type=Path),
    required=True,
    help="The .xlsx file to write, or a folder for a timestamped copy.",
)
def pull(target: Path | str, credentials: Path | None, to: Path) -> None:
    """Save a local .xlsx copy of a workbook (usually a Google spreadsheet): every CRM tab
    with its headers and values, dates as dates. Changes nothing in the workbook."""
    from sheetcrm.backends.backup import pull as pull_copy
    from sheetcrm.workbook import open_backend

    with library_errors():
        saved = pull_copy(open_backend(target, credentials=credentials), to)
    click.echo(f"Saved {saved}")


# ------------------------------------------------------------------------ team workflows


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        theirs, eq, ours = value.partition("=")
        if not eq or not theirs.strip() or not ours.strip():
            raise click.BadParameter(f"{value!r} is not HEADER=Column", param_hint="--map")
        out[theirs.strip()] = ours.strip()
    return out


@cli.command("import")
@workbook_options
@click.argument("leads", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--source", default=None, help="Fill Source with this (default: the file's Source column, else its name)."
)
@click.option("--map", "maps", multiple=True, metavar="HEADER=Column", help='An odd header, e.g. --map "手機=Phone".')
@click.option("--merge-empty", is_flag=True, help="Fill only blank cells of the one record a duplicate matches.")
@click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing.")
@click.option(
    "--report-csv",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the per-row outcome here.",
)
@output_lang_option
def import_(
    target: Path | str,
    credentials: Path | None,
    leads: Path,
    source: str | None,
    maps: tuple[str, ...],
    merge_empty: bool,
    dry_run: bool,
    report_csv: Path | None,
    out_lang: str | None,
) -> None:
    """Import new people from LEADS (CSV in UTF-8 or Big5, or .xlsx) into the workbook at
    PATH: headers in English or Chinese, every row checked, likely duplicates (email, phone,
    name + company) listed for a person to decide, the rest added with fresh IDs."""
    from sheetcrm.team.leads import import_target

    with library_errors(out_lang):
        result = import_target(
            target,
            leads,
            credentials=credentials,
            source=source,
            mapping=_pairs(maps),
            merge_empty=merge_empty,
            dry_run=dry_run,
            lang=out_lang,
        )
    if report_csv is not None:
        result.outcomes.to_csv(report_csv, index=False, encoding="utf-8-sig")
    for line in result.summary_lines():
        click.echo(line)


class TabChoice(click.ParamType):
    """One of ``tabs``, by its English or Chinese name (as a worksheet title is read)."""

    name = "tab"

    def __init__(self, tabs: tuple[Tab, ...]) -> None:
        self.tabs = tabs

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(t.value for t in self.tabs) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        tab = value if isinstance(value, Tab) else Tab.parse(str(value))
        if tab not in self.tabs:
            names = ", ".join(f"{t.value} ({t.zh})" for t in self.tabs)
            self.fail(f"{value!r} is not one of {names}", param, ctx)
        return tab.value


@cli.command()
@workbook_options
@click.option(
    "--strategy",
    type=click.Choice(["round-robin", "weighted", "territory", "balanced", "relay"]),
    default=None,
    help="How to choose (default: the assign.strategy setting).",
)
@click.option(
    "--tab",
    "tab_name",
    type=TabChoice((Tab.CONTACTS, Tab.COMPANIES, Tab.OPPORTUNITIES)),
    default="Contacts",
    show_default=True,
    help="Which tab's empty Owner cells to fill (Contacts, Companies or Opportunities; 連絡人, 公司 or 機會).",
)
@click.option("--dry-run", is_flag=True, help="Show the assignments; write nothing.")
@format_option("table", "csv", "json")
@output_lang_option
def assign(
    target: Path | str,
    credentials: Path | None,
    strategy: str | None,
    tab_name: str,
    dry_run: bool,
    fmt: str,
    out_lang: str | None,
) -> None:
    """Fill empty Owner cells from active Team members (round-robin resuming where it
    stopped, weighted, territory, balanced by expected value, or relay by stage); each
    Owner is written only if still empty, and logged with its reason."""
    from sheetcrm.schema import Tab
    from sheetcrm.team.assign import assign_target

    with library_errors():
        result = assign_target(target, credentials=credentials, tab=Tab(tab_name), strategy=strategy, dry_run=dry_run)
    lang = output_lang(out_lang, result.lang)
    emit_frame(result.assignments, fmt, lang)
    for line in result.summary_lines(lang):
        click.echo(line, err=fmt != "table")


@cli.command()
@workbook_options
@click.option("--event", required=True, help="The event's name (the Subject of recorded invitations).")
@click.option("--segment", "segments", multiple=True, help="RFM segment(s), e.g. Champions,Loyal.")
@click.option("--nesl", multiple=True, help="NESL class(es), e.g. E,S.")
@click.option("--tier", "tiers", multiple=True, help="Value tier(s), e.g. Strategic.")
@click.option("--owner", "owners", multiple=True, help="Only customers of this owner (repeatable).")
@click.option("--attended-before", is_flag=True, help="Only people who came to an event before.")
@click.option(
    "--not-invited-within", default=None, metavar="DAYS", help="Leave out people invited within DAYS (90d; 0 for none)."
)
@click.option("--limit", type=int, default=None, help="At most this many people.")
@click.option("--record", is_flag=True, help="Append an Event Invited activity per person.")
@as_of_option
@format_option("table", "csv", "xlsx")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the list here.")
@output_lang_option
def invite(
    target: Path | str,
    credentials: Path | None,
    event: str,
    segments: tuple[str, ...],
    nesl: tuple[str, ...],
    tiers: tuple[str, ...],
    owners: tuple[str, ...],
    attended_before: bool,
    not_invited_within: str | None,
    limit: int | None,
    record: bool,
    as_of: dt.datetime | None,
    fmt: str,
    out: Path | None,
    out_lang: str | None,
) -> None:
    """The invitation list for an event, ranked by value then recency; opt-outs and people
    without an email or phone are always left out (and named)."""
    from sheetcrm.schema import NESL, Segment, Tier
    from sheetcrm.team.invite import InviteFilters, invite_target, list_headings, parse_choices, relabel

    try:
        days = None if not_invited_within is None else int(not_invited_within.strip().rstrip("dD"))
        filters = InviteFilters(
            segments=parse_choices(segments, Segment, "segment"),
            nesl=parse_choices(nesl, NESL, "NESL class"),
            tiers=parse_choices(tiers, Tier, "tier"),
            owners=owners,
            attended_before=attended_before,
            recent_days=days,
            limit=limit,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx needs --out FILE.xlsx")
    with library_errors():
        result = invite_target(
            target, credentials=credentials, event=event, filters=filters, record=record, as_of=as_of
        )
    lang = output_lang(out_lang, result.lang)
    listed = relabel(result.invite, lang).rename(columns=list_headings(lang))
    if fmt == "xlsx" and out is not None:
        listed.to_excel(out, index=False)
    elif out is not None:
        from sheetcrm.output import write_csv

        write_csv(listed, out)  # like every CSV of sheetcrm's: a name like =1+1 stays text
    else:
        emit_frame(listed, fmt)
    for line in result.summary_lines(lang):
        click.echo(line, err=fmt == "csv" and out is None)


def _progress(quiet: bool) -> Callable[[str], None]:
    def say(message: str) -> None:
        if not quiet:
            click.echo(f"  {message}...", err=True)

    return say


def print_table(frame: pd.DataFrame, title: str | None = None) -> None:
    """A DataFrame as an aligned terminal table (rich), numbers right-aligned and never
    wrapped; wide enough for a pipe or a CI log when there is no terminal."""
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False) if sys.stdout.isatty() else Console(width=220, soft_wrap=False)
    table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    numeric = [frame[c].dtype.kind in "iuf" for c in frame.columns]
    for col, num in zip(frame.columns, numeric, strict=True):
        table.add_column(str(col), justify="right" if num else "left", no_wrap=num)
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell_text(v) for v in row))
    console.print(table)


def _cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@cli.command()
@workbook_options
@click.option(
    "--month", metavar="YYYY-MM", default=None, help="The month to report (default: the last complete month)."
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder for the report files.",
)
@click.option(
    "--format",
    "formats",
    default="html,md,csv",
    show_default=True,
    metavar="LIST",
    help="Comma-separated: html, md (a CI job summary), csv (one row per customer), xlsx.",
)
@click.option(
    "--lang",
    type=LANG,
    default=None,
    help="Language of the report (default: the workbook's).",
)
@click.option("--tab", is_flag=True, help="Also write a 'Report YYYY-MM' tab into the workbook (replaces it).")
@click.option("--include-pii", is_flag=True, help="Show customers' names, emails and phones (left out by default).")
@click.option("-q", "--quiet", is_flag=True, help="No progress messages.")
@click.option(
    "--summary-md",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="GITHUB_STEP_SUMMARY",
    default=None,
    help="Append the report's Markdown to FILE (default: $GITHUB_STEP_SUMMARY when set).",
)
def report(
    target: Path | str,
    credentials: Path | None,
    month: str | None,
    out: Path,
    formats: str,
    lang: str | None,
    tab: bool,
    include_pii: bool,
    quiet: bool,
    summary_md: Path | None,
) -> None:
    """The owners' monthly segment report: NESL classes and moves, RFM segments, the value
    pyramid and the 80/20 check, lifecycle, the pipeline funnel, won/lost and the quarter
    forecast, as of the month's last day compared with the month before. Writes
    report-YYYY-MM.html (self-contained, charts inline), .md and .csv into --out."""
    from sheetcrm.automation.report import run_report_job

    with library_errors():
        done, _summary = run_report_job(
            target,
            month,
            summary_md=summary_md,
            env={},
            out=out,
            formats=tuple(formats.split(",")),
            lang=lang,
            tab=tab,
            include_pii=include_pii,
            credentials=credentials,
            progress=_progress(quiet),
        )
    from sheetcrm.i18n import tr

    told = str(done.report.lang)
    for path in done.paths:
        click.echo(tr(told, "Wrote {path}", path=path))
    if done.tab:
        click.echo(tr(told, "Wrote tab {tab}", tab=repr(done.tab)))


@cli.command()
@workbook_options
@click.option("--quarter", metavar="YYYYQn", default=None, help="The quarter, e.g. 2026Q4 (default: this one).")
@click.option(
    "--by",
    type=click.Choice(["owner", "stage"]),
    default="owner",
    show_default=True,
    help="Break the forecast down by owner or by stage.",
)
@format_option("table", "csv", "json")
@click.option("--deals", is_flag=True, help="List the quarter's deals instead of the totals.")
@as_of_option
@output_lang_option
def forecast(
    target: Path | str,
    credentials: Path | None,
    quarter: str | None,
    by: str,
    fmt: str,
    deals: bool,
    as_of: dt.datetime | None,
    out_lang: str | None,
) -> None:
    """The quarter's forecast per owner or stage: won to date, open pipeline, weighted by
    stage probability, commit (Won + Negotiation) and best case (every open deal won),
    counting deals whose close (expected, or actual for Won) falls in the quarter."""
    import pandas as pd

    from sheetcrm.report.run import forecast as run_forecast
    from sheetcrm.schema import Stage

    with library_errors(out_lang):
        result = run_forecast(target, quarter, by=by, as_of=as_of, credentials=credentials)
    lang = output_lang(out_lang, result.lang)
    frame = result.deals if deals else result.table
    if fmt == "table":
        from sheetcrm.report.catalog import text
        from sheetcrm.report.render import display_frame

        if not deals:
            # The quarter's total, under the owners (or stages) it sums.
            total = frame.drop(columns=[frame.columns[0]]).sum(numeric_only=True)
            frame = pd.concat([frame, pd.DataFrame([{frame.columns[0]: text("total", lang), **total}])])
        frame = frame.assign(
            **{
                c: frame[c].map(
                    lambda v: text("no_owner", lang) if v is None else v.label(lang) if isinstance(v, Stage) else str(v)
                )
                for c in ("Owner", "Stage")
                if c in frame
            }
        )
        if "date" in frame:
            frame = frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d"))
        if deals:
            frame = frame.assign(
                Probability=frame["Probability"].map(lambda p: "" if pd.isna(p) else f"{p:.0%}"),
                won=frame["won"].map(lambda w: "✓" if w else ""),
            ).rename(columns={"won": "won_deal"})  # a tick per deal, not the quarter's won amount
        print_table(display_frame(frame, lang), f"{result.quarter} ({result.as_of.date()})")
    else:
        # Data for another program: the keys, stage names and ISO dates as the library gives them.
        frame = frame.assign(
            **{c: frame[c].map(lambda v: None if v is None else str(v)) for c in ("Owner", "Stage") if c in frame}
        )
        if "date" in frame:
            frame = frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d"))
        emit_frame(frame, fmt)
    _say_left_out(result.unstaged, lang)
    _say_left_out(result.undated, lang, "undated")
    _say_left_out(result.unpriced, lang, "unpriced")


def _say_left_out(deals: tuple[str, ...], lang: str, why: str = "unstaged") -> None:
    """On stderr, so that CSV and JSON on stdout stay data: the deals left out and why
    (a catalog key of :mod:`sheetcrm.report.catalog`)."""
    if deals:
        from sheetcrm.report.catalog import listed, text

        click.echo(text(why, lang, n=len(deals), deals=listed(deals, lang)), err=True)


@cli.command()
@workbook_options
@click.option("--days", type=click.IntRange(min=0), default=7, show_default=True, help="How many days ahead.")
@click.option("--owner", metavar="NAME", default=None, help="Only this owner's rows.")
@format_option("table", "csv", "json")
@click.option(
    "--lang",
    type=LANG,
    default=None,
    help="Language of the texts (default: the workbook's).",
)
@as_of_option
def focus(
    target: Path | str,
    credentials: Path | None,
    days: int,
    owner: str | None,
    fmt: str,
    lang: str | None,
    as_of: dt.datetime | None,
) -> None:
    """What to do in the next days: next steps due and overdue, deals expected to close,
    stale deals, and main or important customers who just went to sleep. Each row says
    why it is there and what to do."""
    from sheetcrm.report.run import focus as run_focus

    with library_errors():
        rows = run_focus(target, days, owner=owner, as_of=as_of, lang=lang, credentials=credentials)
    use = rows.attrs.get("lang", lang or Lang.EN.value)
    shown_rows = rows.assign(
        kind=rows["kind"].map(lambda k: k.label(use)),
        tab=rows["tab"].map(lambda t: t.label(use)),
        date=rows["date"].dt.strftime("%Y-%m-%d"),
    )
    if fmt == "table" and shown_rows.empty:
        from sheetcrm.report.catalog import text

        click.echo(text("focus_none", use, days=days))
    elif fmt == "table":
        from sheetcrm.report.render import display_frame

        print_table(display_frame(shown_rows, use))
    else:
        emit_frame(shown_rows, fmt)
    _say_left_out(rows.attrs.get("unstaged", ()), use)


def main() -> None:
    cli(prog_name="sheetcrm")


if __name__ == "__main__":
    main()
