"""Local copies of a workbook: ``sheetcrm pull`` and ``sync --backup``.

A copy of a local .xlsx is a byte copy of the file: every tab, formula, merge, comment,
chart and format, so it can restore the workbook. A copy of any other workbook is a plain
.xlsx holding every CRM tab as read (same titles, headers and values; dates in date
columns as real dates; text that starts with "=" stays text). Copies are written
atomically.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl import Workbook as XLWorkbook
from openpyxl.styles import Font

from sheetcrm.backends import files
from sheetcrm.backends.base import Backend, RawTab
from sheetcrm.backends.xlsx import DATE_FORMAT, XlsxBackend, set_raw
from sheetcrm.cells.serial import MAX_SERIAL, SERIAL_EPOCH
from sheetcrm.exceptions import Phrase, SchemaError, WorkbookWriteError
from sheetcrm.i18n import N_
from sheetcrm.schema import TABS, ColumnType, Tab, match_headers


def _as_date(value: object, with_time: bool) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < MAX_SERIAL + 1:
        moment = SERIAL_EPOCH + dt.timedelta(days=float(value))
        return moment if with_time else moment.date()
    return value


def pull(backend: Backend, to: str | Path) -> Path:
    """Save a copy of the workbook behind ``backend`` at ``to`` (a file, or a folder for a
    timestamped copy): a byte copy of a local .xlsx, else every CRM tab as read (see
    :func:`save_copy`)."""
    if isinstance(backend, XlsxBackend):
        backend.read()  # the same checks (and messages) as every command that reads it
        return files.copy_file(files.real_path(backend.path), _target(to))
    tabs = backend.read()
    if hasattr(backend, "http") and hasattr(backend, "key"):
        return google_copy(backend, tabs, to)
    return save_copy(tabs, to)


def backup_copy(backend: Backend, tabs: dict[Tab, RawTab] | Iterator[RawTab], folder: str | Path) -> Path:
    """``sync --backup``: a byte copy of a local .xlsx, else the tabs as read (a dict),
    saved into ``folder`` under a timestamped name."""
    if isinstance(backend, XlsxBackend):
        return files.copy_file(files.real_path(backend.path), _target(folder))
    assert isinstance(tabs, dict), "only an .xlsx is read tab by tab"
    if hasattr(backend, "http") and hasattr(backend, "key"):
        return google_copy(backend, tabs, folder)
    return save_copy(tabs, folder)


_GRID_FIELDS = (
    "sheets(properties(title,hidden),merges,data(startRow,startColumn,"
    "rowData(values(userEnteredValue,userEnteredFormat(numberFormat),note))))"
)


def google_copy(backend: Any, tabs: dict[Tab, RawTab], to: str | Path) -> Path:
    """Every tab of a Google spreadsheet as an .xlsx at ``to``: formulas as formulas, text
    as text (a cell typed as ``=...`` text stays text), numbers, dates as dates, notes as
    comments, merges and hidden tabs, so the copy can restore the workbook. ``tabs`` (the
    CRM tabs as read) say which columns hold dates."""
    from openpyxl.comments import Comment

    target = _target(to)
    meta = backend.http.fetch_sheet_metadata(backend.key, params={"includeGridData": "true", "fields": _GRID_FIELDS})
    wb = XLWorkbook()
    default = wb.active
    date_columns = {raw.title: _date_positions(tab, raw) for tab, raw in tabs.items()}
    for sheet in meta.get("sheets", []):
        props = sheet.get("properties", {})
        ws = wb.create_sheet(props.get("title", "Sheet"))
        dates = date_columns.get(ws.title, {})
        if props.get("hidden"):
            ws.sheet_state = "hidden"
        for block in sheet.get("data", []):
            top, left = int(block.get("startRow", 0)), int(block.get("startColumn", 0))
            for r, row in enumerate(block.get("rowData", [])):
                for c, data in enumerate(row.get("values", [])):
                    col = left + c
                    when = dates.get(col) if top + r > 0 else None
                    _google_cell(ws.cell(row=top + r + 1, column=col + 1), data, Comment, when)
        for cell in ws[1]:
            if cell.value is not None:
                cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for m in sheet.get("merges", []):
            ws.merge_cells(
                start_row=int(m.get("startRowIndex", 0)) + 1,
                start_column=int(m.get("startColumnIndex", 0)) + 1,
                end_row=int(m["endRowIndex"]),
                end_column=int(m["endColumnIndex"]),
            )
    if default is not None and len(wb.sheetnames) > 1:
        wb.remove(default)
    XlsxBackend(target).save(wb)
    return target


def _google_cell(cell: Any, data: dict[str, Any], comment: Any, date_column: bool | None = None) -> None:
    entered = data.get("userEnteredValue") or {}
    if "formulaValue" in entered:
        cell.value = str(entered["formulaValue"])  # a formula: openpyxl stores "=..." as one
    elif "stringValue" in entered:
        set_raw(cell, entered["stringValue"])
    elif "numberValue" in entered:
        kind = ((data.get("userEnteredFormat") or {}).get("numberFormat") or {}).get("type", "")
        if date_column is not None and kind in ("", "DATE", "DATE_TIME"):  # the schema says which
            kind = "DATE_TIME" if date_column else "DATE"
        value = entered["numberValue"]
        if kind in ("DATE", "DATE_TIME"):
            cell.value = _as_date(value, kind == "DATE_TIME")
            cell.number_format = DATE_FORMAT if kind == "DATE" else "yyyy-mm-dd hh:mm"
        else:
            cell.value = value
    elif "boolValue" in entered:
        cell.value = bool(entered["boolValue"])
    if data.get("note"):
        cell.comment = comment(str(data["note"]), "Google Sheets")


NO_FOLDER = N_("cannot create the folder {folder}: {reason}")


def _target(to: str | Path) -> Path:
    """The file a copy goes to: ``to``, or a timestamped name in the folder ``to``."""
    target = Path(to)
    if target.is_dir() or not target.suffix:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkbookWriteError(Phrase(NO_FOLDER, {"folder": repr(str(to)), "reason": exc.strerror})) from None
        return target / f"sheetcrm-backup-{dt.datetime.now():%Y%m%d-%H%M%S}.xlsx"
    if target.suffix.lower() != ".xlsx":
        raise WorkbookWriteError(Phrase(N_("{path}: a copy is saved as an .xlsx file"), {"path": repr(str(to))}))
    return target


def _date_positions(tab: Tab, raw: RawTab) -> dict[int, bool]:
    """0-based positions of the tab's date columns -> True when it holds date-times."""
    try:
        positions = match_headers(TABS[tab], raw.header, raw.title).positions
    except SchemaError:  # a copy must be made even of a workbook sync would refuse
        positions = {}
    return {
        pos: TABS[tab].column(key).type is ColumnType.DATETIME
        for key, pos in positions.items()
        if TABS[tab].column(key).type in (ColumnType.DATE, ColumnType.DATETIME)
    }


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
        dates = _date_positions(tab, raw)
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
        raise WorkbookWriteError(
            Phrase(NO_FOLDER, {"folder": repr(str(target.parent)), "reason": exc.strerror})
        ) from None
    XlsxBackend(target).save(wb)
    return target
