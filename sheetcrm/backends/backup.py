"""Local copies of a workbook: ``sheetcrm pull`` and ``sync --backup``.

A copy is a plain .xlsx holding every CRM tab as read (same titles, headers and values;
dates in date columns as real dates), written atomically.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook as XLWorkbook
from openpyxl.styles import Font

from sheetcrm.backends.base import Backend, RawTab
from sheetcrm.backends.xlsx import DATE_FORMAT, XlsxBackend
from sheetcrm.cells.serial import MAX_SERIAL, SERIAL_EPOCH
from sheetcrm.exceptions import SchemaError, WorkbookWriteError
from sheetcrm.schema import TABS, ColumnType, Tab, match_headers


def _as_date(value: object, with_time: bool) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < MAX_SERIAL + 1:
        moment = SERIAL_EPOCH + dt.timedelta(days=float(value))
        return moment if with_time else moment.date()
    return value


def pull(backend: Backend, to: str | Path) -> Path:
    """Read every CRM tab through ``backend`` and save it as an .xlsx at ``to`` (see
    :func:`save_copy`)."""
    return save_copy(backend.read(), to)


def save_copy(tabs: dict[Tab, RawTab], to: str | Path) -> Path:
    """Save raw tabs as an .xlsx at ``to``: a file, or a folder to put a timestamped
    ``sheetcrm-backup-YYYYmmdd-HHMMSS.xlsx`` in. Returns the file's path."""
    target = Path(to)
    if target.is_dir() or not target.suffix:
        target.mkdir(parents=True, exist_ok=True)
        target = target / f"sheetcrm-backup-{dt.datetime.now():%Y%m%d-%H%M%S}.xlsx"
    elif target.suffix.lower() != ".xlsx":
        raise WorkbookWriteError(f"{str(to)!r}: a copy is saved as an .xlsx file")
    wb = XLWorkbook()
    default = wb.active
    for tab, raw in tabs.items():
        ws = wb.create_sheet(raw.title)
        ws.append(raw.header)
        for cell in ws[1]:
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
        for row in raw.rows:
            ws.append([_as_date(v, dates[i]) if i in dates else v for i, v in enumerate(row)])
        for pos in dates:
            for (cell,) in ws.iter_rows(min_row=2, min_col=pos + 1, max_col=pos + 1):
                if isinstance(cell.value, dt.date):
                    cell.number_format = DATE_FORMAT
    if default is not None and len(wb.sheetnames) > 1:
        wb.remove(default)
    target.parent.mkdir(parents=True, exist_ok=True)
    XlsxBackend(target).save(wb)
    return target
