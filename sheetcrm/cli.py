"""The ``sheetcrm`` command: a thin layer over the library.

Each command parses its options, calls one library function and turns library errors
into a one-line message and an exit code: 0 done (or clean), 1 problems found, 2 the run
itself failed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
import pandas as pd

from . import __version__
from .exceptions import SheetCRMError
from .schema import Lang

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_PROBLEMS, EXIT_FAILED = 0, 1, 2


@contextlib.contextmanager
def library_errors() -> Iterator[None]:
    """Turn a library error into ``Error: ...`` on stderr and exit code 2."""
    try:
        yield
    except SheetCRMError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_FAILED)


def workbook_argument(func: F) -> F:
    return click.argument("path", type=click.Path(dir_okay=False, path_type=Path))(func)


def format_option(*choices: str) -> Callable[[F], F]:
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=choices[0],
                        show_default=True, help="Output format.")


def as_of_option(func: F) -> F:
    return click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
                        help="Compute as of this date (YYYY-MM-DD) instead of today.")(func)


def lang_option(func: F) -> F:
    return click.option("--lang", type=click.Choice([lang.value for lang in Lang]),
                        default=Lang.EN.value, show_default=True,
                        help="Language of the tab names, headers and labels.")(func)


def emit_frame(frame: pd.DataFrame, fmt: str) -> None:
    """Print a DataFrame as an aligned table, CSV or JSON records."""
    if fmt == "csv":
        buf = io.StringIO()
        frame.to_csv(buf, index=False)
        click.echo(buf.getvalue(), nl=False)
    elif fmt == "json":
        click.echo(frame.to_json(orient="records", force_ascii=False, indent=1))
    elif not frame.empty:
        with pd.option_context("display.max_colwidth", 110, "display.width", 250):
            click.echo(frame.fillna("").to_string(index=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sheetcrm")
def cli() -> None:
    """sheetcrm: a working CRM in the spreadsheet your team already uses.

    People keep editing the workbook (Companies, Contacts, Opportunities, Activities);
    sheetcrm checks every row, advances deals on evidence, scores customers (RFM, NESL,
    value tier, lifecycle) and writes back only its own computed cells.
    """


@cli.command()
@workbook_argument
@lang_option
@click.option("--force", is_flag=True, help="Replace an existing file (its data is lost).")
def init(path: Path, lang: str, force: bool) -> None:
    """Create an empty CRM workbook at PATH (.xlsx): every tab with its headers, dropdowns,
    a frozen header row, shaded computed columns and the default Settings."""
    from .template import init_workbook

    with library_errors():
        created = init_workbook(path, lang, force=force)
    click.echo(f"Created {created}. Open it in Excel, LibreOffice or Google Sheets, add your "
               f"customers, then run: sheetcrm sync {created}")


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="sheetcrm-demo.xlsx")
@lang_option
@click.option("--seed", type=int, default=2026, show_default=True, help="Random seed of the demo data.")
@as_of_option
@click.option("--force/--no-force", default=True, show_default=True,
              help="Replace an existing demo file.")
def demo(path: Path, lang: str, seed: int, as_of: dt.datetime | None, force: bool) -> None:
    """Generate a realistic demo workbook at PATH (default sheetcrm-demo.xlsx), run the main
    job on it, and say what to open."""
    from .demo import make_demo

    with library_errors():
        made = make_demo(path, lang=lang, seed=seed, as_of=as_of.date() if as_of else None,
                         force=force)
    click.echo(f"Wrote demo workbook {made.path} ({made.counts_text}).")
    for line in made.summary_lines:
        click.echo(line)
    click.echo(f"Open {made.path} to see the computed columns (shaded) and the Log tab; "
               f"run 'sheetcrm validate {made.path}' for the full list of planted mistakes.")


@cli.command()
@workbook_argument
@format_option("table", "csv", "json")
@click.option("--errors-only", is_flag=True, help="Leave out warnings (likely duplicates etc.).")
def validate(path: Path, fmt: str, errors_only: bool) -> None:
    """Check every row of the workbook at PATH and list the problems: tab, row, column,
    value and what was expected. Reads only. Exit 0 when clean, 1 when problems were found."""
    from .workbook import open_workbook

    with library_errors():
        problems = open_workbook(path).validate()
    if errors_only:
        problems = problems[problems["severity"] == "error"]
    emit_frame(problems, fmt)
    if fmt == "table":
        errors = int((problems["severity"] == "error").sum())
        click.echo(f"{len(problems)} problem(s): {errors} error(s), {len(problems) - errors} warning(s)"
                   if len(problems) else "No problems found.", err=bool(len(problems)))
    sys.exit(EXIT_PROBLEMS if len(problems) else EXIT_OK)


@cli.command()
@workbook_argument
@as_of_option
@click.option("--dry-run", is_flag=True, help="Show the planned changes; write nothing.")
@click.option("--plan-csv", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also save the planned cell changes as CSV to this file.")
@click.option("-q", "--quiet", is_flag=True, help="No progress messages.")
def sync(path: Path, as_of: dt.datetime | None, dry_run: bool, plan_csv: Path | None, quiet: bool) -> None:
    """Validate the workbook at PATH, advance opportunity stages, compute RFM, NESL, tiers,
    lifecycle and the forecast columns, and write back only the computed cells that changed
    (plus missing IDs and Stage moves, logged in the Log tab)."""
    from .workbook import open_workbook

    def progress(message: str) -> None:
        if not quiet:
            click.echo(f"  {message}...", err=True)

    with library_errors():
        progress(f"reading {path}")
        result = open_workbook(path).sync(as_of=as_of, dry_run=dry_run, progress=progress)
    if dry_run and len(result.changes):
        emit_frame(result.changes.head(50), "table")
        if len(result.changes) > 50:
            click.echo(f"... and {len(result.changes) - 50} more (use --plan-csv FILE for all)")
    if plan_csv is not None:
        result.changes.to_csv(plan_csv, index=False)
    for line in result.summary_lines():
        click.echo(line)


def main() -> None:
    cli(prog_name="sheetcrm")


if __name__ == "__main__":
    main()
