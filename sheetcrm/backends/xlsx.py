"""The embedded default backend: a local .xlsx workbook.

Reading uses calamine (a Rust reader; cell values, real dates as dates, sheet row numbers
kept). Writing changes only the worksheets that have changed cells, streamed, and copies
every other part of the package byte for byte (see :mod:`sheetcrm.backends.ooxml`), so
charts, images, pivot tables, drawings, comments, validations and defined names survive.
The new file replaces the old one atomically, and only if nobody saved it meanwhile (see
:mod:`sheetcrm.backends.files`). openpyxl stays for building new workbooks (templates,
the demo, copies).
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook as XLWorkbook
from openpyxl.worksheet.worksheet import Worksheet

from sheetcrm.backends import calamine, files, ooxml
from sheetcrm.backends.append import NewRows, place
from sheetcrm.backends.base import (
    ChangeKind,
    RawTab,
    WritePlan,
    WriteReport,
    because,
    norm_cell,
    reconcile_log,
    skip_reason,
)
from sheetcrm.cells.serial import to_serial
from sheetcrm.exceptions import (
    Phrase,
    SheetCRMError,
    WorkbookFormatError,
    WorkbookNotFoundError,
    WorkbookWriteError,
    shown,
    worded,
)
from sheetcrm.i18n import N_
from sheetcrm.output import xlsx_text
from sheetcrm.schema import NUMBER_FORMATS, ColumnType, Tab
from sheetcrm.template import COMPUTED_FILL, COMPUTED_FONT

#: The shading (RRGGBB) of the template's computed headers, given to headers sync adds.
HEADER_FILL = str(COMPUTED_FILL.fgColor.rgb)[-6:].upper()
HEADER_FONT_COLOR = str(COMPUTED_FONT.color.rgb)[-6:].upper() if COMPUTED_FONT.color is not None else "000000"
DATE_FORMAT = NUMBER_FORMATS[ColumnType.DATE]
DATETIME_FORMAT = NUMBER_FORMATS[ColumnType.DATETIME]

Progress = Callable[[str], None]


def _check_path(path: Path) -> None:
    where = shown(path)
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise WorkbookNotFoundError(
            Phrase(
                N_("no workbook at {path}: {reason}"),
                {"path": where, "reason": exc.strerror or Phrase(N_("not a usable path"))},
            )
        ) from None
    if not exists:
        raise WorkbookNotFoundError(
            Phrase(
                N_(
                    "no workbook at {path}; check the path, or create one with 'sheetcrm init PATH' or "
                    "'sheetcrm demo PATH'"
                ),
                {"path": where},
            )
        )
    if is_dir:
        raise WorkbookFormatError(Phrase(files.IS_A_FOLDER, {"path": where}))
    if path.suffix.lower() == ".xlsm":
        files.check_workbook_file(path)
    if path.suffix.lower() != ".xlsx":
        raise WorkbookFormatError(
            Phrase(N_("{path} is not an .xlsx workbook; save it as Excel Workbook (.xlsx) first"), {"path": where})
        )
    files.check_workbook_file(path)


def _unreadable(path: Path, exc: BaseException) -> WorkbookFormatError:
    return WorkbookFormatError(
        Phrase(
            N_(
                "{path} cannot be read as an .xlsx workbook ({kind}); "
                "open it in Excel or LibreOffice and save it as .xlsx"
            ),
            {"path": shown(path), "kind": type(exc).__name__},
        )
    )


def _denied(path: Path) -> WorkbookWriteError:
    return WorkbookWriteError(
        Phrase(files.CANNOT_OPEN, {"path": shown(path), "reason": Phrase(files.PERMISSION_DENIED)})
    )


def _cannot_open(path: Path, exc: OSError) -> WorkbookWriteError:
    return WorkbookWriteError(
        Phrase(files.CANNOT_OPEN, {"path": shown(path), "reason": exc.strerror or type(exc).__name__})
    )


def _read_only(path: Path) -> WorkbookWriteError:
    return WorkbookWriteError(Phrase(files.READ_ONLY, {"path": repr(str(path))}))


def _load(path: Path, **kwargs: Any) -> XLWorkbook:
    """An openpyxl workbook of ``path`` (for code that needs openpyxl's object model)."""
    _check_path(path)
    try:
        return load_workbook(path, **kwargs)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        if isinstance(exc, PermissionError):
            raise _denied(path) from None
        raise _unreadable(path, exc) from None


def _trim(values: list[Any]) -> list[Any]:
    row = values
    while row and (row[-1] is None or row[-1] == ""):
        row.pop()
    return row


def _cell(value: Any) -> Any:
    """A calamine value as openpyxl gave it: blank is None, whole numbers are ints."""
    if value == "":
        return None
    if type(value) is float and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def set_raw(cell: Any, value: Any) -> None:
    """Store ``value`` in an openpyxl cell as it is: text stays text (openpyxl would turn
    text starting with "=" into a formula), and characters an .xlsx cannot hold are
    replaced visibly (:func:`sheetcrm.output.xlsx_text`)."""
    if isinstance(value, str):
        cell.value = xlsx_text(value)
        cell.data_type = "s"
    else:
        cell.value = value


def _comparable(value: Any) -> Any:
    """A value as read, for comparing with what the file holds now (dates as serials)."""
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        serial = to_serial(value)
        return int(serial) if float(serial).is_integer() else serial
    return value


class XlsxBackend:
    """A CRM workbook stored as an .xlsx file at ``path``.

    ``force`` writes even when Excel or LibreOffice has the file open. ``progress`` is
    told each worksheet as it is written.
    """

    def __init__(self, path: str | os.PathLike[str], *, force: bool = False, progress: Progress | None = None) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.force = force
        self.progress = progress
        #: zlib level of the rewritten parts: 1 is several times faster than 6 for ~20% more bytes.
        self.compresslevel = 1
        #: Called after the new file is complete and before it replaces the old one (tests).
        self.before_replace: Callable[[], None] | None = None
        #: Titles of the worksheets holding CRM tabs, known once a read has opened the file.
        self.titles: list[str] = []

    def read(self) -> dict[Tab, RawTab]:
        """Every CRM tab found in the workbook (by English or Chinese title), raw values:
        text, numbers (whole numbers as int), bools, real dates as dates, blank as None;
        formula cells give their last computed value. ``rows[i]`` is sheet row ``i + 2``."""
        parse = self._parse()
        tabs = {raw.tab: raw for raw in self._each(parse)}
        return {tab: tabs[tab] for tab in parse.found}

    def read_each(self) -> Generator[RawTab, None, None]:
        """The tabs of :meth:`read` one by one as each is parsed, the Settings tab first, so
        that a tab is bound while the larger ones are still being parsed (in other threads).
        The file is checked and opened at the call; close the iterator if it is left unfinished."""
        return self._each(self._parse())

    def _parse(self) -> calamine.Parse:
        _check_path(self.path)
        target = files.real_path(self.path)
        files.clean_leftovers(target)
        try:
            parse = calamine.Parse(target)
            self.titles = list(parse.found.values())
            return parse
        except PermissionError:
            raise _denied(self.path) from None
        except SheetCRMError:
            raise  # the workbook reads; its tabs say what is wrong (two claiming one tab)
        except Exception as exc:  # calamine's zip, XML and password errors alike
            raise _unreadable(self.path, exc) from None

    def _each(self, parse: calamine.Parse) -> Generator[RawTab, None, None]:
        # The cycle collector stays off while the consumer binds between two tabs too.
        with ooxml.no_gc(), parse:
            tabs = parse.results()
            while True:
                try:
                    got = next(tabs, None)
                    if got is None:
                        return
                    tab, title, (rows, merged) = got
                    # Inlined rather than _cell() per cell (this loop sees every cell of the
                    # workbook), and in place: a second copy of a million-row grid is memory.
                    for r in rows:
                        r[:] = [
                            (v or None)
                            if v.__class__ is str
                            else int(v)
                            if v.__class__ is float and v.is_integer() and -1e15 < v < 1e15
                            else v
                            for v in r
                        ]
                        _trim(r)
                except Exception as exc:
                    raise _unreadable(self.path, exc) from None
                header = rows.pop(0) if rows else []
                while rows and not rows[-1]:
                    rows.pop()
                yield RawTab(tab, title, header, rows, merged=merged)

    def write(self, plan: WritePlan) -> WriteReport:
        """Apply ``plan`` and atomically replace the file. Only the worksheets with changed
        cells are rewritten; every other cell, format, formula, comment, validation,
        chart, image and sheet stays as it was. Refuses (writes nothing) when the file is
        open in Excel or LibreOffice (unless ``force``) or was saved by someone while this
        write ran."""
        report = WriteReport(requests=1)
        if plan.empty:
            report.requests = 0
            return report
        _check_path(self.path)
        target = files.real_path(self.path)
        files.check_not_open(target, self.force)
        if not os.access(target.parent, os.W_OK) or not os.access(target, os.W_OK):
            raise _read_only(self.path)
        with ooxml.no_gc():
            return self._write(plan, report, target)

    def _write(self, plan: WritePlan, report: WriteReport, target: Path) -> WriteReport:
        edits = _edits(plan, report)
        try:
            source = open(target, "rb")  # noqa: SIM115 - held open across the atomic write
        except OSError as exc:
            raise _cannot_open(self.path, exc) from None
        with source:
            st = os.fstat(source.fileno())
            before = files.Identity(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            if plan.appends:
                _append_edits(plan.appends, _current_rows(source, {n.title for n in plan.appends}), edits, report)
                source.seek(0)
            with files.atomic_write(self.path, expect=before, check=True, on_written=self.before_replace) as out:
                try:
                    ooxml.rewrite(
                        source,
                        out,
                        edits,
                        late=lambda pkg: _log_edits(plan, report, pkg),
                        late_titles=[plan.log_title],
                        compresslevel=self.compresslevel,
                        on_sheet=self._say_sheet,
                    )
                except KeyError as exc:
                    raise WorkbookWriteError(
                        Phrase(
                            N_("{path} has no tab {tab} any more; nothing was written"),
                            {"path": shown(self.path), "tab": repr(exc.args[0])},
                        )
                    ) from None
                except (zipfile.BadZipFile, ValueError, SyntaxError) as exc:
                    raise _unreadable(self.path, exc) from None
        return report

    def replace_tab(self, title: str, rows: list[list[Any]]) -> WriteReport:
        """Write ``rows`` (values as they are; text never becomes a formula) into worksheet
        ``title``, replacing that worksheet when it exists and keeping its place. Only that
        worksheet (and, when the tab is new, the workbook's list of parts) is rewritten:
        every other part of the file, charts, images and pivot tables included, is copied
        unchanged. Refuses like :meth:`write` when the file is open or saved meanwhile."""
        _check_path(self.path)
        target = files.real_path(self.path)
        files.check_not_open(target, self.force)
        if not os.access(target.parent, os.W_OK) or not os.access(target, os.W_OK):
            raise _read_only(self.path)
        report = WriteReport(requests=1)
        report.written = sum(v is not None for r in rows for v in r)
        lines = {n: [None if v is None else v for v in r] for n, r in enumerate(rows, start=1) if r}
        try:
            source = open(target, "rb")  # noqa: SIM115 - held open across the atomic write
        except OSError as exc:
            raise _cannot_open(self.path, exc) from None
        with source, ooxml.no_gc():
            st = os.fstat(source.fileno())
            before = files.Identity(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            with files.atomic_write(self.path, expect=before, check=True, on_written=self.before_replace) as out:
                try:
                    ooxml.replace_sheet(source, out, title, lines, compresslevel=self.compresslevel)
                except (zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as exc:
                    raise _unreadable(self.path, exc) from None
        return report

    def _say_sheet(self, title: str) -> None:
        if self.progress is not None:
            self.progress(worded(N_("writing {tab}"), tab=repr(title)))

    def save(self, wb: XLWorkbook) -> None:
        """Save an openpyxl workbook over the file atomically (temp file in the same folder,
        fsync, rename; a symlink is written through)."""
        with files.atomic_write(self.path) as out:
            wb.save(out)


def _fill_sheet(ws: Worksheet, rows: list[list[Any]], report: WriteReport) -> None:
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if value is None:
                continue
            set_raw(ws.cell(row=r, column=c), value)
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


_Change = tuple[int, Any, int, Any, Any, bool, str, str]


def _edits(plan: WritePlan, report: WriteReport) -> dict[str, ooxml.SheetEdit]:
    """The plan's cells (and added headers) as row edits per worksheet title."""
    cells = plan.cells
    by_title: dict[str, dict[int, ooxml.RowEdit]] = {}
    max_cols: dict[str, int] = {}
    headers: dict[str, list[tuple[int, str]]] = {}
    for _tab, title, col, text in plan.headers:
        headers.setdefault(title, []).append((col, text))
    if len(cells):
        # Grouped per row with numpy, not per cell in Python: a first sync writes hundreds
        # of thousands of computed cells, and a row whose changes are all plain computed
        # values of one record takes the quick path (one ID check for the whole row).
        # An unnumbered workbook's first sync fills the ID of every row as well: a fill of a
        # blank ID cell joins the quick path, guarded by that cell being blank still.
        kinds = cells["kind"].to_numpy()
        fills = kinds == ChangeKind.ID
        # Only the ID fills' old values are looked at, not every planned cell's.
        fills[fills] = [norm_cell(v) == "" for v in cells["old"].to_numpy(dtype=object)[fills]]
        simple = ((kinds == ChangeKind.COMPUTED) & ~cells["cas"].astype(bool).to_numpy()) | fills
        # Only the columns the quick path needs are taken whole (text columns as codes, not
        # millions of new str objects); the rest only for the rows that need them.
        all_cols = cells["col"].to_numpy(dtype="int64")
        all_new = cells["new"].to_numpy(dtype=object)
        rid_codes = pd.factorize(cells["record_id"])[0]
        all_rows = cells["row"].to_numpy(dtype="int64")
        names = ("col", "record_id", "id_col", "new", "old", "cas", "kind", "column")
        for key, positions in cells.groupby("title", sort=False).indices.items():
            title = str(key)
            index: np.ndarray = np.asarray(positions, dtype=np.int64)
            order: np.ndarray = index[np.argsort(all_rows[index], kind="stable")]
            rows_arr = all_rows[order]
            starts = np.flatnonzero(np.r_[True, rows_arr[1:] != rows_arr[:-1]])
            ends = np.r_[starts[1:], len(rows_arr)]
            codes = rid_codes[order]
            same = np.r_[True, codes[1:] == codes[:-1]]
            same[starts] = True  # the first change of each row starts its own comparison
            quick = np.logical_and.reduceat(simple[order] & same, starts)
            filling = np.logical_or.reduceat(fills[order], starts).tolist()
            header_row = plan.header_rows.get(title, 1) if title in headers else -1
            numbers = rows_arr[starts].tolist()
            quick &= rows_arr[starts] != header_row
            cols = all_cols[order].tolist()
            news = all_new[order].tolist()
            # A tab's column index names its schema key (for the words of a skipped change).
            named = cells[["col", "column"]].take(index).drop_duplicates("col")
            names_of: dict[int, str] = dict(zip(named["col"].tolist(), named["column"].tolist(), strict=True))
            head_rids = cells["record_id"].take(order[starts]).tolist()
            id_cols = cells["id_col"].take(order[starts]).tolist()
            slow = np.flatnonzero(~quick)
            slow_pos = np.concatenate([order[starts[i] : ends[i]] for i in slow]) if len(slow) else order[:0]
            sub = [cells[c].take(slow_pos).tolist() for c in names]
            offset = 0
            edits = by_title.setdefault(title, {})
            for i, (a, b, fast, number) in enumerate(
                zip(starts.tolist(), ends.tolist(), quick.tolist(), numbers, strict=True)
            ):
                if fast:
                    edits[number] = _quick_row_edit(
                        title, cols[a:b], news[a:b], head_rids[i], int(id_cols[i]), names_of, report, filling[i]
                    )
                    continue
                head = headers[title] if number == header_row else []
                edits[number] = _row_edit(title, _tuples(sub, offset, offset + b - a), head, report)
                offset += b - a
            max_cols[title] = max(cols)
    for title, head in headers.items():
        number = plan.header_rows.get(title, 1)
        edits = by_title.setdefault(title, {})
        if number not in edits:
            edits[number] = _row_edit(title, [], head, report)
        max_cols[title] = max(max_cols.get(title, -1), *(c for c, _ in head))
    return {title: ooxml.SheetEdit(rows, max_col=max_cols.get(title, -1)) for title, rows in by_title.items()}


def _tuples(lists: list[list[Any]], a: int, b: int) -> list[_Change]:
    """The changes ``a:b`` of the plan's column lists (col, record_id, id_col, new, old,
    cas, kind, column) as tuples."""
    return [
        (int(c), r, int(i), n, o, bool(cas), str(k), str(col))
        for c, r, i, n, o, cas, k, col in zip(*(v[a:b] for v in lists), strict=True)
    ]


def _quick_row_edit(
    title: str,
    cols: list[int],
    news: list[Any],
    record_id: Any,
    id_col: int,
    names_of: dict[int, str],
    report: WriteReport,
    fills_id: bool = False,
) -> ooxml.SetCells:
    """One row's changes, all computed values of one record (and, when ``fills_id``, the
    fill of its blank ID cell with ``record_id``): written in one go when the row still
    holds the record's ID (or a blank ID cell); any other case goes through
    :func:`_row_edit`, which words each refusal."""
    wanted = "" if fills_id else norm_cell(record_id)

    def written(n: int) -> None:
        report.written += n

    def otherwise(row: ooxml.Row) -> None:
        changes = [
            (
                c,
                record_id,
                id_col,
                n,
                None,
                fill,
                str(ChangeKind.ID if fill else ChangeKind.COMPUTED),
                names_of.get(c, ""),
            )
            for c, n in zip(cols, news, strict=True)
            for fill in [fills_id and c == id_col]
        ]
        # The ID first, as the plan orders it: the computed cells are checked against it.
        changes.sort(key=lambda change: change[0] != id_col)
        _row_edit(title, changes, [], report)(row)

    return ooxml.SetCells(cols, news, id_col, lambda held: norm_cell(held) == wanted, otherwise, written)


def _row_edit(title: str, changes: list[_Change], header: list[tuple[int, str]], report: WriteReport) -> ooxml.RowEdit:
    def apply(row: ooxml.Row) -> None:
        for col, text in header:
            # An added computed column's header looks like the template's computed headers.
            styles = row.sheet.package.styles
            row.set(col, text, styles.shaded_style(row.style(col), HEADER_FILL, HEADER_FONT_COLOR))
        held_ids: dict[int, Any] = {}
        for col, record_id, id_col, new, old, cas, kind, column in changes:
            # The usual case (a computed cell of a row that still holds its record's ID) is
            # decided here; skip_reason words every refusal.
            if id_col >= 0 and kind != "id":
                if id_col not in held_ids:
                    held_ids[id_col] = norm_cell(row.value(id_col))
                moved = held_ids[id_col] != norm_cell(record_id)
            else:
                moved = False
            reason = None
            if moved or cas:
                held = row.value(id_col) if id_col >= 0 else None
                reason = skip_reason(kind, id_col, held, record_id, cas, row.value(col), _comparable(old))
            whole = row.cells.get(col)
            if reason is None and whole is not None and b"shared" in whole and row.is_shared_formula_master(col):
                reason = because(N_("cell holds a formula that other cells share"))
            if reason:
                report.skipped.append(
                    {"tab": title, "row": row.number, "column": column, "id": record_id, "reason": reason}
                )
                continue
            row.set(col, new)
            if col == id_col:
                held_ids.pop(id_col, None)
            report.written += 1

    return apply


def _current_rows(source: Any, titles: set[str]) -> dict[str, tuple[list[Any], list[list[Any]]]]:
    """Header and data rows of the worksheets ``titles`` as the file holds them now."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(source)
    out: dict[str, tuple[list[Any], list[list[Any]]]] = {}
    try:
        for title in titles & set(wb.sheet_names):
            grid = wb.get_sheet_by_name(title).to_python(skip_empty_area=False)
            rows = [[_cell(v) for v in r] for r in grid]
            out[title] = (rows[0] if rows else [], rows[1:])
    finally:
        wb.close()
    return out


def _append_edits(
    appends: list[NewRows],
    current: dict[str, tuple[list[Any], list[list[Any]]]],
    edits: dict[str, ooxml.SheetEdit],
    report: WriteReport,
) -> None:
    """Rows added below each tab's last used row as the file is now (see backends/append.py)."""
    for new in appends:
        if new.title not in current:
            raise KeyError(new.title)
        header, rows = current[new.title]
        spot = place(new, header, rows)
        report.skipped.extend(spot.skipped)
        report.notes.extend(spot.notes)
        if not spot.rows:
            continue
        edit = edits.setdefault(new.title, ooxml.SheetEdit())
        for n, values in enumerate(spot.rows):
            number = spot.first_row + n
            line = [None] * (max(spot.cols) + 1)
            for col, value in zip(spot.cols, values, strict=True):
                line[col] = value
            edit.lines[number] = line
        edit.max_col = max(edit.max_col, *spot.cols)
        report.appended += len(spot.rows)


def _log_edits(
    plan: WritePlan, report: WriteReport, pkg: ooxml.Package
) -> tuple[dict[str, ooxml.SheetEdit], list[ooxml.NewSheet]]:
    """The Log rows, once the data sheets are written and what they skipped is known:
    appended after the Log's last row that holds a value, or in a new Log tab."""
    log = reconcile_log(plan, report.skipped)
    if not log:
        return {}, []
    report.log_rows = len(log)
    exists = plan.log_title in pkg.sheets
    start = ooxml.last_value_row(pkg.zf, pkg.sheets[plan.log_title]) + 1 if exists else 1
    lines: list[list[Any]] = [list(plan.log_header)] if start == 1 else []
    lines += log
    edit = ooxml.SheetEdit(
        lines={start + i: values for i, values in enumerate(lines)}, max_col=max(map(len, lines)) - 1
    )
    if exists:
        return {plan.log_title: edit}, []
    return {}, [ooxml.NewSheet(plan.log_title, edit)]


__all__ = ["DATETIME_FORMAT", "DATE_FORMAT", "XlsxBackend", "norm_cell"]
