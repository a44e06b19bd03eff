"""The embedded default backend: a local .xlsx workbook through openpyxl.

Reads are streamed (read-only mode, cached formula values). Writes load the whole
workbook with formulas, styles, comments, validations and rich text, change only the
planned cells, and replace the file atomically (temporary file in the same folder, then a
rename), so a crash mid-write never leaves a truncated workbook.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook as XLWorkbook
from openpyxl.worksheet.worksheet import Worksheet

from sheetcrm.backends.append import NewRows, place
from sheetcrm.backends.base import RawTab, WritePlan, WriteReport, reconcile_log, skip_reason
from sheetcrm.exceptions import WorkbookFormatError, WorkbookNotFoundError, WorkbookWriteError, shown
from sheetcrm.schema import NUMBER_FORMATS, ColumnType, Tab, find_tabs

DATE_FORMAT = NUMBER_FORMATS[ColumnType.DATE]
DATETIME_FORMAT = NUMBER_FORMATS[ColumnType.DATETIME]


def _check_path(path: Path) -> None:
    where = shown(path)
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise WorkbookNotFoundError(f"no workbook at {where}: {exc.strerror or 'not a usable path'}") from None
    if not exists:
        raise WorkbookNotFoundError(
            f"no workbook at {where}; check the path, or create one with 'sheetcrm init PATH' or 'sheetcrm demo PATH'"
        )
    if is_dir:
        raise WorkbookFormatError(f"{where} is a folder; expected an .xlsx file")
    if path.suffix.lower() != ".xlsx":
        raise WorkbookFormatError(f"{where} is not an .xlsx workbook; save it as Excel Workbook (.xlsx) first")


def _load(path: Path, **kwargs: Any) -> XLWorkbook:
    _check_path(path)
    try:
        return load_workbook(path, **kwargs)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        if isinstance(exc, PermissionError):
            raise WorkbookWriteError(f"cannot open {shown(path)}: permission denied") from None
        raise WorkbookFormatError(
            f"{shown(path)} cannot be read as an .xlsx workbook ({type(exc).__name__}); "
            "open it in Excel or LibreOffice and save it as .xlsx"
        ) from None


def _trim(values: tuple[Any, ...]) -> list[Any]:
    row = list(values)
    while row and (row[-1] is None or row[-1] == ""):
        row.pop()
    return row


def _set_raw(cell: Any, value: Any) -> None:
    """Store ``value`` as it is: openpyxl would turn text starting with "=" into a formula."""
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


class XlsxBackend:
    """A CRM workbook stored as an .xlsx file at ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.location = str(self.path)

    def read(self) -> dict[Tab, RawTab]:
        """Every CRM tab found in the workbook (by English or Chinese title), raw values.
        Formula cells give their last computed value."""
        wb = _load(self.path, read_only=True, data_only=True)
        try:
            titles = find_tabs(wb.sheetnames)
            out: dict[Tab, RawTab] = {}
            for tab, title in titles.items():
                ws = wb[title]
                rows_iter = ws.iter_rows(values_only=True)
                header = _trim(next(rows_iter, ()))
                rows = [_trim(r) for r in rows_iter]
                while rows and not rows[-1]:
                    rows.pop()
                out[tab] = RawTab(tab, title, header, rows)
            return out
        finally:
            wb.close()

    def write(self, plan: WritePlan) -> WriteReport:
        """Apply ``plan`` and atomically replace the file. Every cell not in the plan, and
        every format, formula, comment, validation and sheet, stays as it was."""
        report = WriteReport(requests=1)
        if plan.empty:
            report.requests = 0
            return report
        if not os.access(self.path.parent, os.W_OK) or (self.path.exists() and not os.access(self.path, os.W_OK)):
            raise WorkbookWriteError(
                f"cannot write {str(self.path)!r}: the file or its folder is read-only; nothing was changed"
            )
        wb = _load(self.path, rich_text=True)
        for _tab, title, col, text in plan.headers:
            ws = wb[title]
            ws.cell(row=1, column=col + 1, value=text)
        cells = plan.cells
        for title in cells["title"].unique() if len(cells) else ():
            group = cells[cells["title"] == title]
            ws = wb[str(title)]
            self._apply(ws, group, report)
        for new in plan.appends:
            append_rows(wb[new.title], new, report)
        log = reconcile_log(plan, report.skipped)
        if log:
            self._append_log(wb, plan, log, report)
        self.save(wb)
        return report

    @staticmethod
    def _apply(ws: Worksheet, group: Any, report: WriteReport) -> None:
        for row, col, record_id, id_col, new, old, cas, kind, column in zip(
            group["row"],
            group["col"],
            group["record_id"],
            group["id_col"],
            group["new"],
            group["old"],
            group["cas"],
            group["kind"],
            group["column"],
            strict=True,
        ):
            row, col, id_col = int(row), int(col), int(id_col)
            held = ws.cell(row=row, column=id_col + 1).value if id_col >= 0 else None
            cell = ws.cell(row=row, column=col + 1)
            reason = skip_reason(kind, id_col, held, record_id, bool(cas), cell.value, old)
            if reason:
                report.skipped.append(
                    {"tab": ws.title, "row": row, "column": column, "id": record_id, "reason": reason}
                )
                continue
            _set_raw(cell, new)
            if isinstance(new, dt.datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(new, dt.date) and cell.number_format == "General":
                cell.number_format = DATE_FORMAT
            report.written += 1

    @staticmethod
    def _append_log(wb: XLWorkbook, plan: WritePlan, log: list[list[Any]], report: WriteReport) -> None:
        if plan.log_title in wb.sheetnames:
            ws = wb[plan.log_title]
        else:
            ws = wb.create_sheet(plan.log_title)
            ws.append(plan.log_header)
            ws.freeze_panes = "A2"
        for values in log:
            row = ws.max_row + 1
            for col, value in enumerate(values, start=1):
                cell = ws.cell(row=row, column=col)
                _set_raw(cell, value)
                if isinstance(value, dt.datetime):
                    cell.number_format = DATETIME_FORMAT
        report.log_rows += len(log)

    def replace_tab(self, title: str, rows: list[list[Any]]) -> WriteReport:
        """Write ``rows`` (values as they are; text never becomes a formula) into worksheet
        ``title``, replacing that worksheet when it exists and keeping its place; every
        other sheet stays as it was. One file save."""
        if not os.access(self.path.parent, os.W_OK) or (self.path.exists() and not os.access(self.path, os.W_OK)):
            raise WorkbookWriteError(
                f"cannot write {str(self.path)!r}: the file or its folder is read-only; nothing was changed"
            )
        wb = _load(self.path, rich_text=True)
        index = None
        if title in wb.sheetnames:
            index = wb.sheetnames.index(title)
            del wb[title]
        report = WriteReport(requests=1)
        _fill_sheet(wb.create_sheet(title, index), rows, report)
        self.save(wb)
        return report

    def save(self, wb: XLWorkbook) -> None:
        """Save ``wb`` over the file atomically: temp file in the same folder, fsync, rename."""
        folder = self.path.parent
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            wb.save(tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            if self.path.exists():
                with contextlib.suppress(OSError):
                    os.chmod(tmp, self.path.stat().st_mode & 0o7777)
            os.replace(tmp, self.path)
        except OSError as exc:
            raise WorkbookWriteError(
                f"could not save {str(self.path)!r} ({exc.strerror or type(exc).__name__}); "
                "the workbook was left as it was"
            ) from None
        finally:
            if tmp.exists():
                tmp.unlink()


def _fill_sheet(ws: Worksheet, rows: list[list[Any]], report: WriteReport) -> None:
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if value is None:
                continue
            _set_raw(ws.cell(row=r, column=c), value)
            report.written += 1


def write_sheet_file(path: str | os.PathLike[str], title: str, rows: list[list[Any]]) -> Path:
    """A new .xlsx file at ``path`` holding one worksheet ``title`` with ``rows`` (values as
    they are; text never becomes a formula). Replaces an existing file atomically."""
    from openpyxl import Workbook as NewWorkbook

    target = Path(path)
    wb = NewWorkbook()
    ws = wb.worksheets[0]
    ws.title = title
    _fill_sheet(ws, rows, WriteReport())
    XlsxBackend(target).save(wb)
    return target


def append_rows(ws: Worksheet, new: NewRows, report: WriteReport) -> None:
    """Add ``new``'s rows below the last used row of ``ws`` (see backends/append.py), as it
    is in the file now; rows formatted but empty (a template's dropdowns) count as free."""
    rows_iter = ws.iter_rows(values_only=True)
    header = list(next(rows_iter, ()))
    spot = place(new, header, [list(r) for r in rows_iter])
    report.skipped.extend(spot.skipped)
    for n, values in enumerate(spot.rows):
        for col, value in zip(spot.cols, values, strict=True):
            if value is None:
                continue
            cell = ws.cell(row=spot.first_row + n, column=col + 1)
            _set_raw(cell, value)
            if isinstance(value, dt.datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(value, dt.date) and cell.number_format == "General":
                cell.number_format = DATE_FORMAT
    report.appended += len(spot.rows)
