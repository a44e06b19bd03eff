"""The API: state plus one method per endpoint (no HTTP in here)."""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import re
import string
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sheetcrm.cells.a1 import (
    A1Range,
    A1SyntaxError,
    column_letters,
    format_grid_range,
    parse_a1,
)
from sheetcrm.testing import metadata
from sheetcrm.testing.batch import _REQUEST_HANDLERS, _apply_cell_data
from sheetcrm.testing.common import (
    _MAX_CELLS,
    _OWNER_EMAIL,
    DEFAULT_COLUMNS,
    DEFAULT_ROWS,
    SPREADSHEET_MIME,
    ApiError,
    Json,
    MaskTree,
    Scalar,
    _bad_request,
    _field_violation,
    _RequestError,
)
from sheetcrm.testing.findreplace import find_replace
from sheetcrm.testing.formulas import _Evaluator
from sheetcrm.testing.model import (
    Sheet,
    Spreadsheet,
    _Box,
    _clean_range,
    _current_region,
    _exceeds_grid,
    _mask_reaches,
    _now_iso,
    apply_mask,
    insert_dimension,
    parse_field_mask,
)
from sheetcrm.testing.render import (
    _DATETIME_RENDER,
    _DIMENSIONS,
    _INPUT_OPTIONS,
    _VALUE_RENDER,
    _grid_data,
    _rows_in,
    render_matrix,
)
from sheetcrm.testing.values import parse_user_entered

# --------------------------------------------------------------------------------------
# The API: state plus one method per endpoint (no HTTP in here)
# --------------------------------------------------------------------------------------

_ID_ALPHABET = string.ascii_letters + string.digits + "-_"
_PRESENTATION_ONLY = frozenset(
    {
        "updateBorders",
        "autoResizeDimensions",
        "addConditionalFormatRule",
        "setBasicFilter",
        "clearBasicFilter",
        "updateDimensionGroup",
        "updateBanding",
        "deleteBanding",
    }
)
_NOT_IMPLEMENTED = frozenset(
    {
        "copyPaste", "cutPaste", "pasteData", "textToColumns", "autoFill",
        "deleteRange", "insertRange", "moveDimension", "trimWhitespace", "deleteDuplicates",
        "randomizeRange", "addChart", "addSlicer", "addFilterView", "duplicateFilterView",
        "updateFilterView", "deleteFilterView", "addBanding", "updateChartSpec",
        "deleteEmbeddedObject", "updateEmbeddedObjectPosition", "updateEmbeddedObjectBorder",
        "updateSlicerSpec", "addDataSource", "updateDataSource", "deleteDataSource",
        "refreshDataSource", "cancelDataSourceRefresh", "updateNamedRange",
        "updateConditionalFormatRule", "deleteConditionalFormatRule", "addTable",
        "updateTable", "deleteTable", "appendCells",
    }
)  # fmt: skip


#: Request kinds modelled outside batch.py.
_MORE_HANDLERS = {"findReplace": find_replace}


@dataclass
class _Response:
    status: int
    body: Json = None
    headers: dict[str, str] = field(default_factory=dict)


def _first(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _query_bool(query: Mapping[str, list[str]], name: str, proto_name: str) -> bool | None:
    raw = _first(query, name)
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0", ""):
        return False
    raise _field_violation(proto_name, f"Invalid value at '{proto_name}' (TYPE_BOOL), \"{raw}\"")


def _query_enum(
    query: Mapping[str, list[str]],
    name: str,
    allowed: Sequence[str],
    default: str | None,
    proto_name: str,
    proto_type: str,
) -> str | None:
    raw = _first(query, name)
    if raw is None or raw.endswith("_UNSPECIFIED"):
        return default
    if raw not in allowed:
        raise _field_violation(
            proto_name,
            f"Invalid value at '{proto_name}' (type.googleapis.com/google.apps.sheets.v4.{proto_type}), \"{raw}\"",
        )
    return raw


def _body_enum(
    body: Mapping[str, Any],
    name: str,
    allowed: Sequence[str],
    default: str | None,
    proto_name: str,
    proto_type: str,
) -> str | None:
    raw = body.get(name)
    if raw is None or (isinstance(raw, str) and raw.endswith("_UNSPECIFIED")):
        return default
    if raw not in allowed:
        raise _field_violation(
            proto_name,
            f"Invalid value at '{proto_name}' (type.googleapis.com/google.apps.sheets.v4."
            f"{proto_type}), {json.dumps(raw)}",
        )
    return str(raw)


@dataclass
class _Write:
    """A validated, not yet applied write of a matrix at (r0, c0) on one sheet."""

    sheet: Sheet
    r0: int
    c0: int
    matrix: list[list[Json]]
    input_option: str

    @property
    def rows(self) -> int:
        return len(self.matrix)

    @property
    def cols(self) -> int:
        return max((len(row) for row in self.matrix), default=0)

    @property
    def cells(self) -> int:
        """Cells that get a value: a null leaves its cell alone and is not counted (as
        Google counts updatedCells)."""
        return sum(v is not None for row in self.matrix for v in row)

    @property
    def updated_rows(self) -> int:
        return sum(any(v is not None for v in row) for row in self.matrix)

    @property
    def updated_cols(self) -> int:
        return len({j for row in self.matrix for j, v in enumerate(row) if v is not None})

    def box(self) -> _Box:
        return _Box(self.sheet, self.r0, self.c0, self.r0 + self.rows, self.c0 + self.cols)


class _Api:
    """All spreadsheets plus the logic of every endpoint. Callers hold ``lock``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lock = threading.RLock()
        self.books: dict[str, Spreadsheet] = {}
        self.deleted: set[str] = set()
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.cells_written = 0

    # -- ids and lookup ---------------------------------------------------------------

    def new_spreadsheet_id(self) -> str:
        while True:
            sid = "1" + "".join(self.rng.choice(_ID_ALPHABET) for _ in range(43))
            if sid not in self.books and sid not in self.deleted:
                return sid

    def new_sheet_id(self, book: Spreadsheet) -> int:
        while True:
            sheet_id = self.rng.randrange(1, 2**31 - 1)
            if book.sheet_by_id(sheet_id) is None:
                return sheet_id

    def new_small_id(self) -> int:
        return self.rng.randrange(1, 2**31 - 1)

    def create_book(self, title: str, sheet_specs: Sequence[Mapping[str, Any]] | None = None) -> Spreadsheet:
        """A new spreadsheet; ``sheet_specs`` are SheetProperties-like dicts."""
        book = Spreadsheet(self.new_spreadsheet_id(), title)
        book.permissions.append(
            {
                "kind": "drive#permission",
                "id": "00000000000000000000",
                "type": "user",
                "role": "owner",
                "emailAddress": _OWNER_EMAIL,
                "displayName": "Fake Owner",
                "deleted": False,
                "pendingOwner": False,
            }
        )
        for i, spec in enumerate(sheet_specs or [{}]):
            grid = spec.get("gridProperties") or {}
            sheet_id = spec.get("sheetId")
            if sheet_id is None:
                sheet_id = 0 if i == 0 else self.new_sheet_id(book)
            book.sheets.append(
                Sheet(
                    sheet_id=int(sheet_id),
                    title=str(spec.get("title") or self._default_title(book)),
                    row_count=int(grid.get("rowCount", DEFAULT_ROWS)),
                    col_count=int(grid.get("columnCount", DEFAULT_COLUMNS)),
                    frozen_rows=int(grid.get("frozenRowCount", 0)),
                    frozen_cols=int(grid.get("frozenColumnCount", 0)),
                    hidden=bool(spec.get("hidden", False)),
                )
            )
        self.books[book.spreadsheet_id] = book
        return book

    @staticmethod
    def _default_title(book: Spreadsheet) -> str:
        n = len(book.sheets) + 1
        while book.find_sheet(f"Sheet{n}") is not None:
            n += 1
        return f"Sheet{n}"

    def book_for_sheets(self, spreadsheet_id: str) -> Spreadsheet:
        """The spreadsheet, or the 404/403 a Sheets endpoint answers."""
        book = self.books.get(spreadsheet_id)
        if book is None:
            raise ApiError(404, "Requested entity was not found.")
        if book.private:
            raise ApiError(403, "The caller does not have permission")
        return book

    def book_for_drive(self, file_id: str) -> Spreadsheet:
        """The spreadsheet, or Drive's 404 (Drive hides files the caller cannot see)."""
        book = self.books.get(file_id)
        if book is None or book.private:
            raise ApiError(404, f"File not found: {file_id}.", drive_reason="notFound")
        return book

    # -- ranges -----------------------------------------------------------------------

    def resolve_range(self, book: Spreadsheet, text: str) -> tuple[Sheet, A1Range]:
        """Parse A1 text against a spreadsheet (sheet names, named ranges, first sheet)."""
        try:
            parsed = parse_a1(text)
        except A1SyntaxError:
            raise _bad_request(f"Unable to parse range: {text}") from None
        if parsed.sheet is None:
            # "A1:B2 refers to ... the first visible sheet" (Sheets API docs).
            first = next((s for s in book.sheets if not s.hidden), book.sheets[0])
            return first, parsed
        sheet = book.find_sheet(parsed.sheet)
        if sheet is None and not parsed.cells:
            named = next((n for n in book.named_ranges if n.get("name") == parsed.sheet), None)
            if named is not None:
                grid = named.get("range", {})
                target = book.sheet_by_id(int(grid.get("sheetId", 0)))
                if target is not None:
                    return target, A1Range(
                        target.title,
                        grid.get("startRowIndex", 0),
                        grid.get("startColumnIndex", 0),
                        grid.get("endRowIndex"),
                        grid.get("endColumnIndex"),
                    )
        if sheet is None:
            raise _bad_request(f"Unable to parse range: {text}")
        return sheet, parsed

    def read_box(self, book: Spreadsheet, text: str) -> _Box:
        """A range for reading/clearing: open ends stop at the grid, explicit ends must fit."""
        sheet, rng = self.resolve_range(book, text)
        r0 = rng.start_row or 0
        c0 = rng.start_col or 0
        r1 = sheet.row_count if rng.end_row is None else rng.end_row
        c1 = sheet.col_count if rng.end_col is None else rng.end_col
        if r0 >= sheet.row_count or c0 >= sheet.col_count or r1 > sheet.row_count or c1 > sheet.col_count:
            raise _exceeds_grid(sheet, r0, c0, r1, c1)
        return _Box(sheet, r0, c0, r1, c1)

    # -- values: writing --------------------------------------------------------------

    @staticmethod
    def _matrix(values: Json, major: str, field_prefix: str) -> list[list[Json]]:
        if values is None:
            return []
        if not isinstance(values, list):
            raise _field_violation(
                f"{field_prefix}.values",
                f"Invalid value at '{field_prefix}.values' "
                f"(type.googleapis.com/google.protobuf.ListValue), {json.dumps(values)}",
            )
        for i, row in enumerate(values):
            if not isinstance(row, list):
                name = f"{field_prefix}.values[{i}]"
                raise _field_violation(
                    name,
                    f"Invalid value at '{name}' (type.googleapis.com/google.protobuf.ListValue), {json.dumps(row)}",
                )
            for j, value in enumerate(row):
                if isinstance(value, dict | list):
                    kind = "struct_value" if isinstance(value, dict) else "list_value"
                    raise _bad_request(f"Invalid values[{i}][{j}]: {kind}")
        if major == "COLUMNS":
            height = max((len(col) for col in values), default=0)
            return [[col[r] if r < len(col) else None for col in values] for r in range(height)]
        return [list(row) for row in values]

    def plan_write(
        self,
        book: Spreadsheet,
        range_text: str,
        body: Mapping[str, Any],
        input_option: str,
        field_prefix: str,
    ) -> _Write:
        """Validate a values write (update or batchUpdate entry) without applying it."""
        major = _body_enum(
            body,
            "majorDimension",
            _DIMENSIONS,
            "ROWS",
            f"{field_prefix}.major_dimension",
            "Dimension",
        )
        matrix = self._matrix(body.get("values"), str(major), field_prefix)
        sheet, rng = self.resolve_range(book, range_text)
        r0 = rng.start_row or 0
        c0 = rng.start_col or 0
        single_cell = (
            rng.cells
            and rng.end_row is not None
            and rng.end_col is not None
            and rng.end_row - r0 == 1
            and rng.end_col - c0 == 1
        )
        limit_r1 = sheet.row_count if rng.end_row is None or single_cell else rng.end_row
        limit_c1 = sheet.col_count if rng.end_col is None or single_cell else rng.end_col
        write = _Write(sheet, r0, c0, matrix, input_option)
        if single_cell and (r0 >= sheet.row_count or c0 >= sheet.col_count):
            # A lone start cell names no size: Google reports where the data would go.
            raise _exceeds_grid(sheet, r0, c0, r0 + max(write.rows, 1), c0 + max(write.cols, 1))
        if r0 >= sheet.row_count or c0 >= sheet.col_count or limit_r1 > sheet.row_count or limit_c1 > sheet.col_count:
            raise _exceeds_grid(sheet, r0, c0, max(limit_r1, r0 + 1), max(limit_c1, c0 + 1))
        if not single_cell:
            requested = format_grid_range(sheet.title, r0, c0, limit_r1, limit_c1, always_quote=True)
            if r0 + write.rows > limit_r1:
                raise _bad_request(
                    f"Requested writing within range [{requested}], but tried writing to row [{limit_r1 + 1}]"
                )
            if c0 + write.cols > limit_c1:
                raise _bad_request(
                    f"Requested writing within range [{requested}], but tried writing to column "
                    f"[{column_letters(limit_c1)}]"
                )
        if r0 + write.rows > sheet.row_count or c0 + write.cols > sheet.col_count:
            raise _exceeds_grid(sheet, r0, c0, r0 + write.rows, c0 + write.cols)
        return write

    def apply_write(self, book: Spreadsheet, write: _Write) -> None:
        """Store a planned write and count its cells."""
        sheet = write.sheet
        for i, row in enumerate(write.matrix):
            for j, raw in enumerate(row):
                if raw is None:
                    continue  # null means "leave this cell alone"
                r, c = write.r0 + i, write.c0 + j
                if write.input_option == "RAW":
                    stored: Scalar | None = None if raw == "" else raw
                    is_formula, number_format = False, None
                else:
                    stored, is_formula, number_format = parse_user_entered(raw, book.locale)
                if stored is None:
                    cell = sheet.cell_for_write(r, c)
                    if cell is not None:
                        cell.value, cell.formula = None, False
                        sheet.prune(r, c)
                    continue
                if isinstance(stored, float) and stored.is_integer() and abs(stored) < 2**53:
                    stored = int(stored)
                cell = sheet.ensure(r, c)
                cell.value, cell.formula = stored, is_formula
                if number_format is not None:
                    cell.fmt = {**(cell.fmt or {}), "numberFormat": number_format}
        self.cells_written += write.cells
        book.touch()

    @staticmethod
    def _update_response(
        book: Spreadsheet, write: _Write, include_values: bool, query_body: Mapping[str, Any]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if write.cells:
            box = write.box()
            out.update(
                updatedRange=box.a1(),
                updatedRows=write.updated_rows,
                updatedColumns=write.updated_cols,
                updatedCells=write.cells,
            )
            if include_values:
                values = render_matrix(
                    book,
                    box,
                    "ROWS",
                    str(query_body.get("responseValueRenderOption") or "FORMATTED_VALUE"),
                    str(query_body.get("responseDateTimeRenderOption") or "SERIAL_NUMBER"),
                )
                data: dict[str, Any] = {"range": box.a1(), "majorDimension": "ROWS"}
                if values:
                    data["values"] = values
                out["updatedData"] = data
        else:
            out["updatedRange"] = _Box(write.sheet, write.r0, write.c0, write.r0 + 1, write.c0 + 1).a1()
        return out

    def _input_option(self, query: Mapping[str, list[str]]) -> str:
        option = _query_enum(
            query,
            "valueInputOption",
            _INPUT_OPTIONS,
            None,
            "value_input_option",
            "ValueInputOption",
        )
        if option is None:
            raise _bad_request("'valueInputOption' is required but not specified")
        return option

    def _response_render(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        return {
            "responseValueRenderOption": _query_enum(
                query,
                "responseValueRenderOption",
                _VALUE_RENDER,
                "FORMATTED_VALUE",
                "response_value_render_option",
                "ValueRenderOption",
            ),
            "responseDateTimeRenderOption": _query_enum(
                query,
                "responseDateTimeRenderOption",
                _DATETIME_RENDER,
                "SERIAL_NUMBER",
                "response_date_time_render_option",
                "DateTimeRenderOption",
            ),
        }

    # -- values endpoints -------------------------------------------------------------

    def values_get(self, sid: str, range_text: str, query: Mapping[str, list[str]]) -> Json:
        book = self.book_for_sheets(sid)
        return self._value_range(book, range_text, query)

    def _value_range(
        self,
        book: Spreadsheet,
        range_text: str,
        query: Mapping[str, list[str]],
        evaluator: _Evaluator | None = None,
    ) -> dict[str, Any]:
        major = _query_enum(query, "majorDimension", _DIMENSIONS, "ROWS", "major_dimension", "Dimension")
        value_render = _query_enum(
            query,
            "valueRenderOption",
            _VALUE_RENDER,
            "FORMATTED_VALUE",
            "value_render_option",
            "ValueRenderOption",
        )
        dt_render = _query_enum(
            query,
            "dateTimeRenderOption",
            _DATETIME_RENDER,
            "SERIAL_NUMBER",
            "date_time_render_option",
            "DateTimeRenderOption",
        )
        box = self.read_box(book, range_text)
        out: dict[str, Any] = {"range": box.a1(), "majorDimension": major}
        values = render_matrix(book, box, str(major), str(value_render), str(dt_render), evaluator)
        if values:
            out["values"] = values
        return out

    def values_batch_get(self, sid: str, query: Mapping[str, list[str]]) -> Json:
        book = self.book_for_sheets(sid)
        evaluator = _Evaluator(book)
        ranges = query.get("ranges", [])
        out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if ranges:
            out["valueRanges"] = [self._value_range(book, r, query, evaluator) for r in ranges]
        return out

    def values_update(self, sid: str, range_text: str, query: Mapping[str, list[str]], body: Json) -> Json:
        book = self.book_for_sheets(sid)
        input_option = self._input_option(query)
        include = _query_bool(query, "includeValuesInResponse", "include_values_in_response")
        render = self._response_render(query)
        body = self._object_body(body)
        if body.get("range"):
            body_sheet, body_rng = self.resolve_range(book, str(body["range"]))
            url_sheet, url_rng = self.resolve_range(book, range_text)
            same_bounds = dataclasses.replace(body_rng, sheet=None) == dataclasses.replace(url_rng, sheet=None)
            if body_sheet is not url_sheet or not same_bounds:
                raise _bad_request(
                    f"Invalid values[0][0]: the range in the ValueRange ({body['range']}) does "
                    f"not match the range in the request ({range_text})."
                )
        write = self.plan_write(book, range_text, body, input_option, "data")
        self.apply_write(book, write)
        return self._update_response(book, write, bool(include), render)

    def values_batch_update(self, sid: str, body: Json) -> Json:
        book = self.book_for_sheets(sid)
        body = self._object_body(body)
        input_option = _body_enum(
            body, "valueInputOption", _INPUT_OPTIONS, None, "value_input_option", "ValueInputOption"
        )
        if input_option is None:
            raise _bad_request("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
        data = body.get("data") or []
        if not isinstance(data, list):
            raise _field_violation("data", f"Invalid value at 'data', {json.dumps(data)}")
        writes: list[_Write] = []
        for i, entry in enumerate(data):
            if not isinstance(entry, dict) or not entry.get("range"):
                raise _bad_request(f"Invalid data[{i}]: No range specified.")
            writes.append(self.plan_write(book, str(entry["range"]), entry, input_option, f"data[{i}]"))
        for write in writes:  # all validated first: a bad entry writes nothing
            self.apply_write(book, write)
        out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        rows = {
            (w.sheet.sheet_id, w.r0 + i)
            for w in writes
            for i, row in enumerate(w.matrix)
            if any(v is not None for v in row)
        }
        cols = {
            (w.sheet.sheet_id, w.c0 + j) for w in writes for row in w.matrix for j, v in enumerate(row) if v is not None
        }
        total = sum(w.cells for w in writes)
        if total:
            out.update(
                totalUpdatedRows=len(rows),
                totalUpdatedColumns=len(cols),
                totalUpdatedCells=total,
                totalUpdatedSheets=len({w.sheet.sheet_id for w in writes if w.cells}),
            )
        if writes:
            include = bool(body.get("includeValuesInResponse"))
            out["responses"] = [self._update_response(book, w, include, body) for w in writes]
        return out

    def values_append(self, sid: str, range_text: str, query: Mapping[str, list[str]], body: Json) -> Json:
        book = self.book_for_sheets(sid)
        input_option = self._input_option(query)
        insert_option = _query_enum(
            query,
            "insertDataOption",
            ("OVERWRITE", "INSERT_ROWS"),
            "OVERWRITE",
            "insert_data_option",
            "InsertDataOption",
        )
        include = _query_bool(query, "includeValuesInResponse", "include_values_in_response")
        render = self._response_render(query)
        body = self._object_body(body)
        major = _body_enum(body, "majorDimension", _DIMENSIONS, "ROWS", "data.major_dimension", "Dimension")
        matrix = self._matrix(body.get("values"), str(major), "data")
        sheet, rng = self.resolve_range(book, range_text)
        search = _Box(
            sheet,
            rng.start_row or 0,
            rng.start_col or 0,
            min(sheet.row_count, sheet.row_count if rng.end_row is None else rng.end_row),
            min(sheet.col_count, sheet.col_count if rng.end_col is None else rng.end_col),
        )
        if search.r0 >= sheet.row_count or search.c0 >= sheet.col_count:
            raise _exceeds_grid(sheet, search.r0, search.c0, search.r0 + 1, search.c0 + 1)
        # Google's guide ("Append values"): of the tables the range touches, the *last*
        # one is appended to, even when it reaches outside the range; a range touching
        # no data is written at its own top-left cell. "Last" is the table holding the
        # range's last non-empty cell (row by row): a row like ["a", "", "c"] is two
        # tables, so a later append to the whole sheet lands under "c" (gspread's
        # ``table_range`` exists for that), while one aimed at A1 lands under "a".
        table: tuple[int, int, int, int] | None = None
        for r in reversed(_rows_in(sheet, search.r0, search.r1)):
            hits = [c for c, cell in sheet.cells[r].items() if search.c0 <= c < search.c1 and cell.value is not None]
            if hits:
                table = _current_region(sheet, r, max(hits))
                break
        out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if table is None:
            target_row, target_col = search.r0, search.c0
        else:
            out["tableRange"] = _Box(sheet, *table).a1()
            target_row, target_col = table[2], table[1]
        write = _Write(sheet, target_row, target_col, matrix, input_option)
        # Append never fails for lack of room: it grows the grid (or inserts rows).
        if insert_option == "INSERT_ROWS" and write.rows:
            insert_dimension(sheet, "ROWS", min(target_row, sheet.row_count), write.rows, book)
        elif target_row + write.rows > sheet.row_count:
            sheet.row_count = target_row + write.rows
        if target_col + write.cols > sheet.col_count:
            sheet.col_count = target_col + write.cols
        self._check_cell_limit(book)
        self.apply_write(book, write)
        out["updates"] = self._update_response(book, write, bool(include), render)
        return out

    def values_clear(self, sid: str, range_text: str) -> Json:
        book = self.book_for_sheets(sid)
        box = self.read_box(book, range_text)
        self._clear_box(box)
        book.touch()
        return {"spreadsheetId": book.spreadsheet_id, "clearedRange": box.a1()}

    def values_batch_clear(self, sid: str, body: Json) -> Json:
        book = self.book_for_sheets(sid)
        body = self._object_body(body)
        ranges = body.get("ranges") or []
        boxes = [self.read_box(book, str(r)) for r in ranges]
        for box in boxes:
            self._clear_box(box)
        book.touch()
        out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if boxes:
            out["clearedRanges"] = [box.a1() for box in boxes]
        return out

    @staticmethod
    def _clear_box(box: _Box) -> None:
        sheet = box.sheet
        for r in _rows_in(sheet, box.r0, box.r1):
            for c in [c for c in sheet.cells[r] if box.c0 <= c < box.c1]:
                cell = sheet.cell_for_write(r, c)
                assert cell is not None
                cell.value, cell.formula = None, False
                sheet.prune(r, c)

    @staticmethod
    def _object_body(body: Json) -> dict[str, Any]:
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise _bad_request(f"Invalid JSON payload received. Expected an object, got {type(body).__name__}.")
        return body

    def _check_cell_limit(self, book: Spreadsheet) -> None:
        total = sum(s.row_count * s.col_count for s in book.sheets)
        if total > _MAX_CELLS:
            raise _RequestError(
                f"This action would increase the number of cells in the workbook above the limit of {_MAX_CELLS} cells."
            )

    # -- spreadsheets -----------------------------------------------------------------

    def spreadsheet_resource(
        self,
        book: Spreadsheet,
        *,
        include_grid: bool = False,
        ranges: Sequence[str] = (),
        cells: bool = True,
        formats: bool = True,
    ) -> dict[str, Any]:
        """The ``Spreadsheet`` resource (metadata, optionally grid data; ``cells=False``:
        grid data without ``rowData``; ``formats=False``: cells without their formats)."""
        evaluator = _Evaluator(book)
        boxes: dict[int, list[_Box]] = {}
        for text in ranges:
            box = self.read_box(book, text)
            boxes.setdefault(box.sheet.sheet_id, []).append(box)
        sheets_out = []
        for index, sheet in enumerate(book.sheets):
            if ranges and sheet.sheet_id not in boxes:
                continue
            entry: dict[str, Any] = {"properties": sheet.properties(index)}
            if include_grid:
                targets = boxes.get(sheet.sheet_id) or [_Box(sheet, 0, 0, sheet.row_count, sheet.col_count)]
                entry["data"] = [_grid_data(evaluator, box, cells=cells, formats=formats) for box in targets]
            merges = sheet.presentation.get("merges")
            if merges:
                entry["merges"] = [_clean_range(m) for m in merges]
            if sheet.protected_ranges:
                entry["protectedRanges"] = [
                    {**pr, "range": _clean_range(pr["range"])} if "range" in pr else dict(pr)
                    for pr in copy.deepcopy(sheet.protected_ranges)
                ]
            for dim, key in (("ROWS", "rowGroups"), ("COLUMNS", "columnGroups")):
                groups = sheet.groups(dim)
                if groups:
                    entry[key] = groups
            sheets_out.append(entry)
        out: dict[str, Any] = {
            "spreadsheetId": book.spreadsheet_id,
            "properties": book.properties(),
            "sheets": sheets_out,
        }
        if book.named_ranges:
            out["namedRanges"] = copy.deepcopy(book.named_ranges)
        out["spreadsheetUrl"] = f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit"
        return out

    def spreadsheets_get(self, sid: str, query: Mapping[str, list[str]]) -> Json:
        book = self.book_for_sheets(sid)
        include = _query_bool(query, "includeGridData", "include_grid_data") or False
        fields = _first(query, "fields")
        cells = formats = True
        if fields:
            # With a field mask Google ignores includeGridData and returns what is asked for.
            tree = parse_field_mask(fields)
            include = _mask_reaches(tree, ["sheets", "data"])
            # Rendering every cell only for the mask to drop them is what makes asking for
            # row metadata alone slow: skip it when rowData is not asked for.
            cells = _mask_reaches(tree, ["sheets", "data", "rowData"])
            formats = _wants_formats(tree, ["sheets"])
        return self.spreadsheet_resource(
            book, include_grid=include, ranges=query.get("ranges", []), cells=cells, formats=formats
        )

    def spreadsheets_create(self, body: Json) -> Json:
        body = self._object_body(body)
        props = body.get("properties") or {}
        specs = [dict(s.get("properties") or {}) for s in body.get("sheets") or []]
        book = self.create_book(str(props.get("title") or "Untitled spreadsheet"), specs or None)
        for key, attr in (
            ("locale", "locale"),
            ("timeZone", "time_zone"),
            ("autoRecalc", "auto_recalc"),
        ):
            if props.get(key):
                setattr(book, attr, props[key])
        for spec, sheet in zip(body.get("sheets") or [], book.sheets, strict=False):
            for grid in spec.get("data") or []:
                r0, c0 = int(grid.get("startRow", 0)), int(grid.get("startColumn", 0))
                for i, row in enumerate(grid.get("rowData") or []):
                    for j, cell_data in enumerate(row.get("values") or []):
                        _apply_cell_data(sheet, r0 + i, c0 + j, cell_data, None)
        return self.spreadsheet_resource(book)

    def batch_update(self, sid: str, body: Json, fields: str | None = None) -> Json:
        book = self.book_for_sheets(sid)
        body = self._object_body(body)
        requests_in = body.get("requests") or []
        if not isinstance(requests_in, list):
            raise _field_violation("requests", f"Invalid value at 'requests', {json.dumps(requests_in)}")
        work = book.clone()  # all-or-nothing: apply to a copy, commit at the end
        written_before = self.cells_written
        replies: list[dict[str, Any]] = []
        for i, request in enumerate(requests_in):
            if not isinstance(request, dict) or not request:
                raise _bad_request(f"Invalid requests[{i}]: No request set.")
            if len(request) > 1:
                kinds = list(request)
                raise _bad_request(
                    f"Invalid JSON payload received. Oneof field 'kind' is already set. Cannot set '{kinds[1]}'"
                )
            kind, payload = next(iter(request.items()))
            handler = _REQUEST_HANDLERS.get(kind) or metadata.HANDLERS.get(kind) or _MORE_HANDLERS.get(kind)
            try:
                if handler is not None:
                    reply = handler(self, work, payload if isinstance(payload, dict) else {})
                elif kind in _PRESENTATION_ONLY:
                    reply = None
                elif kind in _NOT_IMPLEMENTED:
                    raise ApiError(
                        501,
                        f"Invalid requests[{i}].{kind}: FakeSheetsServer does not implement '{kind}'.",
                    )
                else:
                    message = (
                        f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]': Cannot find field."
                    )
                    raise _field_violation(f"requests[{i}]", message)
            except _RequestError as err:
                self.cells_written = written_before
                raise _bad_request(f"Invalid requests[{i}].{kind}: {err}") from None
            except ApiError:
                self.cells_written = written_before
                raise
            replies.append(reply or {})
        out: dict[str, Any] = {"spreadsheetId": sid, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            # Before committing: a bad response range fails the whole request, nothing applied.
            try:
                out["updatedSpreadsheet"] = self.spreadsheet_resource(
                    work,
                    include_grid=bool(body.get("responseIncludeGridData")),
                    ranges=body.get("responseRanges") or (),
                    formats=not fields or _wants_formats(parse_field_mask(fields), ["updatedSpreadsheet", "sheets"]),
                )
            except ApiError:
                self.cells_written = written_before
                raise
        work.touch()
        self.books[sid] = work
        return out

    def copy_sheet_to(self, sid: str, sheet_id: int, body: Json) -> Json:
        book = self.book_for_sheets(sid)
        body = self._object_body(body)
        source = book.sheet_by_id(sheet_id)
        if source is None:
            raise ApiError(404, "Requested entity was not found.")
        dest_id = str(body.get("destinationSpreadsheetId") or "")
        dest = self.book_for_sheets(dest_id)
        clone = copy.deepcopy(source)
        clone.sheet_id = self.new_sheet_id(dest)
        base = f"Copy of {source.title}"
        title, n = base, 2
        while dest.find_sheet(title) is not None:
            title, n = f"{base} {n}", n + 1
        clone.title = title
        clone.protected_ranges = []
        dest.sheets.append(clone)
        dest.touch()
        return clone.properties(len(dest.sheets) - 1)

    # -- Drive --------------------------------------------------------------------------

    @staticmethod
    def drive_file(book: Spreadsheet) -> dict[str, Any]:
        """The full Drive ``File`` resource for a spreadsheet."""
        return {
            "kind": "drive#file",
            "id": book.spreadsheet_id,
            "name": book.title,
            "mimeType": SPREADSHEET_MIME,
            "starred": False,
            "trashed": False,
            "parents": ["0AFakeRootFolder"],
            "webViewLink": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit?usp=drivesdk",
            "createdTime": book.created_time,
            "modifiedTime": book.modified_time,
            "owners": [
                {
                    "kind": "drive#user",
                    "displayName": "Fake Owner",
                    "me": True,
                    "emailAddress": _OWNER_EMAIL,
                }
            ],
            "shared": len(book.permissions) > 1,
            "ownedByMe": True,
            **({"appProperties": dict(book.app_properties)} if book.app_properties else {}),
        }

    @staticmethod
    def _drive_view(resource: dict[str, Any], query: Mapping[str, list[str]], default: Sequence[str]) -> dict[str, Any]:
        fields = _first(query, "fields")
        if fields:
            return dict(apply_mask(resource, parse_field_mask(fields)))
        return {k: resource[k] for k in default if k in resource}

    _FILE_DEFAULT = ("kind", "id", "name", "mimeType")

    def drive_create(self, query: Mapping[str, list[str]], body: Json) -> Json:
        body = self._object_body(body)
        mime = body.get("mimeType")
        if mime != SPREADSHEET_MIME:
            raise ApiError(
                501,
                f"FakeSheetsServer only stores Google Sheets files, not {mime!r}.",
                drive_reason="notImplemented",
            )
        book = self.create_book(str(body.get("name") or "Untitled spreadsheet"))
        props = body.get("appProperties") or {}
        if not isinstance(props, dict):
            raise ApiError(400, "Invalid value for appProperties.", drive_reason="invalid")
        book.app_properties = {str(k): str(v) for k, v in props.items()}
        return self._drive_view(self.drive_file(book), query, self._FILE_DEFAULT)

    def drive_get(self, file_id: str, query: Mapping[str, list[str]]) -> Json:
        book = self.book_for_drive(file_id)
        return self._drive_view(self.drive_file(book), query, self._FILE_DEFAULT)

    def drive_update(self, file_id: str, query: Mapping[str, list[str]], body: Json) -> Json:
        book = self.book_for_drive(file_id)
        body = self._object_body(body)
        if body.get("name"):
            book.title = str(body["name"])
            book.touch()
        return self._drive_view(self.drive_file(book), query, self._FILE_DEFAULT)

    def drive_delete(self, file_id: str) -> None:
        self.book_for_drive(file_id)
        del self.books[file_id]
        self.deleted.add(file_id)
        self.comments.pop(file_id, None)

    def drive_copy(self, file_id: str, query: Mapping[str, list[str]], body: Json) -> Json:
        source = self.book_for_drive(file_id)
        body = self._object_body(body)
        clone = copy.deepcopy(source)
        clone.spreadsheet_id = self.new_spreadsheet_id()
        clone.title = str(body.get("name") or f"Copy of {source.title}")
        clone.created_time = clone.modified_time = _now_iso()
        clone.permissions = [p for p in clone.permissions if p.get("role") == "owner"]
        self.books[clone.spreadsheet_id] = clone
        return self._drive_view(self.drive_file(clone), query, self._FILE_DEFAULT)

    def drive_list(self, query: Mapping[str, list[str]]) -> Json:
        q = _first(query, "q") or ""
        files = [self.drive_file(b) for b in self.books.values() if not b.private]
        # appProperties has { key='k' and value='v' } (Drive's query syntax) holds an "and"
        # of its own: take those clauses out before splitting on "and".
        has = r"""appProperties\s+has\s*\{\s*key\s*=\s*'([^']*)'\s+and\s+value\s*=\s*'([^']*)'\s*\}"""
        for key_, value_ in re.findall(has, q):
            files = [f for f in files if f.get("appProperties", {}).get(key_) == value_]
        q = re.sub(has, "", q)
        q = re.sub(r"^\s*and\s+|\s+and\s*$", "", re.sub(r"\s+and\s+and\s+", " and ", q.strip()))
        for clause in re.split(r"\s+and\s+", q.strip()) if q.strip() else []:
            if clause.strip() == "trashed = false":
                continue  # nothing the fake stores is in the trash
            m = re.match(r"""^(\w+)\s*(=|!=|contains)\s*(['"])(.*)\3$""", clause.strip())
            if m:
                name, op, _, value = m.groups()
                key = {"name": "name", "mimeType": "mimeType"}.get(name)
                if key is None:
                    continue
                if op == "=":
                    files = [f for f in files if f[key] == value]
                elif op == "!=":
                    files = [f for f in files if f[key] != value]
                else:
                    files = [f for f in files if value in f[key]]
                continue
            m = re.match(r"""^(['"])(.*)\1\s+in\s+parents$""", clause.strip())
            if m:
                files = [f for f in files if m.group(2) in f["parents"]]
                continue
            m = re.match(r"""^parents\s+in\s+(['"])(.*)\1$""", clause.strip())
            if m:
                files = [f for f in files if m.group(2) in f["parents"]]
        fields = _first(query, "fields")
        listing = {"kind": "drive#fileList", "incompleteSearch": False, "files": files}
        if fields:
            return apply_mask(listing, parse_field_mask(fields))
        listing["files"] = [{k: f[k] for k in self._FILE_DEFAULT} for f in files]
        return listing

    def permission_create(self, file_id: str, query: Mapping[str, list[str]], body: Json) -> Json:
        book = self.book_for_drive(file_id)
        body = self._object_body(body)
        perm_type, role = body.get("type"), body.get("role")
        if perm_type not in ("user", "group", "domain", "anyone"):
            raise ApiError(400, "The permission type field is required.", drive_reason="required")
        if role not in ("owner", "organizer", "fileOrganizer", "writer", "commenter", "reader"):
            raise ApiError(400, "The permission role field is required.", drive_reason="required")
        if perm_type in ("user", "group") and not body.get("emailAddress"):
            raise ApiError(400, "The permission emailAddress field is required.", drive_reason="required")
        permission: dict[str, Any] = {
            "kind": "drive#permission",
            "id": str(self.rng.randrange(10**19, 10**20)),
            "type": perm_type,
            "role": role,
        }
        for key in ("emailAddress", "domain", "allowFileDiscovery", "expirationTime"):
            if body.get(key) is not None:
                permission[key] = body[key]
        permission["deleted"] = False
        book.permissions.append(permission)
        return self._drive_view(permission, query, ("kind", "id", "type", "role"))

    def permission_list(self, file_id: str, query: Mapping[str, list[str]]) -> Json:
        book = self.book_for_drive(file_id)
        listing = {"kind": "drive#permissionList", "permissions": copy.deepcopy(book.permissions)}
        fields = _first(query, "fields")
        return apply_mask(listing, parse_field_mask(fields)) if fields else listing

    def permission_delete(self, file_id: str, permission_id: str) -> None:
        book = self.book_for_drive(file_id)
        for i, permission in enumerate(book.permissions):
            if permission["id"] == permission_id:
                del book.permissions[i]
                return
        raise ApiError(404, f"Permission not found: {permission_id}.", drive_reason="notFound")

    def comments_list(self, file_id: str, query: Mapping[str, list[str]]) -> Json:
        self.book_for_drive(file_id)
        listing = {
            "kind": "drive#commentList",
            "comments": copy.deepcopy(self.comments.get(file_id, [])),
        }
        fields = _first(query, "fields")
        return apply_mask(listing, parse_field_mask(fields)) if fields else listing

    def comment_create(self, file_id: str, query: Mapping[str, list[str]], body: Json) -> Json:
        self.book_for_drive(file_id)
        comment = {
            "kind": "drive#comment",
            "id": f"AAAA{self.rng.randrange(10**9)}",
            **self._object_body(body),
        }
        self.comments.setdefault(file_id, []).append(comment)
        return self._drive_view(comment, query, ("kind", "id"))


def _wants_formats(tree: MaskTree, sheets: list[str]) -> bool:
    """Whether a field mask asks for the cells' formats or formatted values (``sheets``:
    the path to the sheets in the answer)."""
    values = [*sheets, "data", "rowData", "values"]
    return any(_mask_reaches(tree, [*values, k]) for k in ("userEnteredFormat", "effectiveFormat", "formattedValue"))
