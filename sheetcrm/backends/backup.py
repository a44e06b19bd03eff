"""Local copies of a workbook: ``sheetcrm pull`` and ``sync --backup``.

A copy of a local .xlsx is a byte copy of the file: every tab, formula, merge, comment,
chart and format, so it can restore the workbook. A copy of any other workbook is a plain
.xlsx holding every CRM tab as read (same titles, headers and values; dates in date
columns as real dates; text that starts with "=" stays text). Copies are written
atomically.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook as XLWorkbook
from openpyxl.styles import Font

from sheetcrm.backends import files
from sheetcrm.backends.base import Backend, RawTab
from sheetcrm.backends.xlsx import DATE_FORMAT, XlsxBackend, set_raw
from sheetcrm.exceptions import SchemaError, WorkbookWriteError
from sheetcrm.schema import TABS, ColumnType, Tab, match_headers

_SERIAL_EPOCH = dt.datetime(1899, 12, 30)


def _as_date(value: object, with_time: bool) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        moment = _SERIAL_EPOCH + dt.timedelta(days=float(value))
        return moment if with_time else moment.date()
    return value


def pull(backend: Backend, to: str | Path) -> Path:
    """Save a copy of the workbook behind ``backend`` at ``to`` (a file, or a folder for a
    timestamped copy): a byte copy of a local .xlsx, else every CRM tab as read (see
    :func:`save_copy`)."""
    if isinstance(backend, XlsxBackend):
        backend.read()  # the same checks (and messages) as every command that reads it
        return files.copy_file(files.real_path(backend.path), _target(to))
    return save_copy(backend.read(), to)


def backup_copy(backend: Backend, tabs: dict[Tab, RawTab], folder: str | Path) -> Path:
    """``sync --backup``: a byte copy of a local .xlsx, else the tabs as read, saved into
    ``folder`` under a timestamped name."""
    if isinstance(backend, XlsxBackend):
        return files.copy_file(files.real_path(backend.path), _target(folder))
    return save_copy(tabs, folder)


def _target(to: str | Path) -> Path:
    """The file a copy goes to: ``to``, or a timestamped name in the folder ``to``."""
    target = Path(to)
    if target.is_dir() or not target.suffix:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkbookWriteError(f"cannot create the folder {str(to)!r}: {exc.strerror}") from None
        return target / f"sheetcrm-backup-{dt.datetime.now():%Y%m%d-%H%M%S}.xlsx"
    if target.suffix.lower() != ".xlsx":
        raise WorkbookWriteError(f"{str(to)!r}: a copy is saved as an .xlsx file")
    return target


def save_copy(tabs: dict[Tab, RawTab], to: str | Path) -> Path:
    """Save raw tabs as an .xlsx at ``to``: a file, or a folder to put a timestamped
    ``sheetcrm-backup-YYYYmmdd-HHMMSS.xlsx`` in. Text is stored as text (a cell that reads
    ``=...`` never becomes a formula in the copy). Returns the file's path."""
    target = _target(to)
    wb = XLWorkbook()
    default = wb.active
    for tab, raw in tabs.items():
        ws = wb.create_sheet(raw.title)
        for col, value in enumerate(raw.header, start=1):
            cell = ws.cell(row=1, column=col)
            set_raw(cell, value)
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        try:
            positions = match_headers(TABS[tab], raw.header, raw.title).positions
        except SchemaError:  # a copy must be made even of a workbook sync would refuse
            positions = {}
        dates = {
            pos: TABS[tab].column(key).type is ColumnType.DATETIME
            for key, pos in positions.items()
            if TABS[tab].column(key).type in (ColumnType.DATE, ColumnType.DATETIME)
        }
        for r, row in enumerate(raw.rows, start=2):
            for i, v in enumerate(row):
                if v is not None:
                    set_raw(ws.cell(row=r, column=i + 1), _as_date(v, dates[i]) if i in dates else v)
        for pos in dates:
            for (cell,) in ws.iter_rows(min_row=2, min_col=pos + 1, max_col=pos + 1):
                if isinstance(cell.value, dt.date):
                    cell.number_format = DATE_FORMAT
    if default is not None and len(wb.sheetnames) > 1:
        wb.remove(default)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbookWriteError(f"cannot create the folder {str(target.parent)!r}: {exc.strerror}") from None
    XlsxBackend(target).save(wb)
    return target
