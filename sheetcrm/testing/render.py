"""Rendering cells and grids into the API's value and grid-data shapes."""

from __future__ import annotations

import copy
import math
import struct
from collections.abc import Mapping
from typing import Any

from sheetcrm.testing.common import _DEFAULT_FORMAT, Json
from sheetcrm.testing.formulas import FormulaError, _Blank, _Evaluator
from sheetcrm.testing.metadata import with_locations
from sheetcrm.testing.model import Sheet, Spreadsheet, _Box
from sheetcrm.testing.values import _DATE_TYPES, Cell, _number_format_of, format_number

# --------------------------------------------------------------------------------------
# Value rendering
# --------------------------------------------------------------------------------------

_VALUE_RENDER = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
_DATETIME_RENDER = ("SERIAL_NUMBER", "FORMATTED_STRING")
_DIMENSIONS = ("ROWS", "COLUMNS")
_INPUT_OPTIONS = ("RAW", "USER_ENTERED")


def _json_number(value: float | int) -> float | int:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def render_cell(
    evaluator: _Evaluator,
    sheet: Sheet,
    row: int,
    col: int,
    cell: Cell | None,
    value_render: str = "FORMATTED_VALUE",
    datetime_render: str = "SERIAL_NUMBER",
) -> Json:
    """One cell as the values API returns it, or None for an empty cell."""
    if cell is None or cell.value is None:
        return None
    if cell.formula and value_render == "FORMULA":
        return cell.value
    value = evaluator.cell_value(sheet, row, col) if cell.formula else cell.value
    if isinstance(value, FormulaError):
        return value.code
    if isinstance(value, _Blank):
        return ""
    if isinstance(value, bool):
        if value_render == "FORMATTED_VALUE":
            return "TRUE" if value else "FALSE"
        return value
    if isinstance(value, int | float):
        number_format = _number_format_of(cell)
        if value_render == "FORMATTED_VALUE":
            return format_number(float(value), number_format)
        if number_format and number_format.get("type") in _DATE_TYPES and datetime_render == "FORMATTED_STRING":
            return format_number(float(value), number_format)
        return _json_number(value)
    return value


def _rows_in(sheet: Sheet, r0: int, r1: int) -> list[int]:
    return sorted(r for r in sheet.cells if r0 <= r < r1)


def render_matrix(
    book: Spreadsheet,
    box: _Box,
    major: str = "ROWS",
    value_render: str = "FORMATTED_VALUE",
    datetime_render: str = "SERIAL_NUMBER",
    evaluator: _Evaluator | None = None,
) -> list[list[Json]]:
    """The ``values`` of a ValueRange: trailing empty cells and rows trimmed like Google."""
    evaluator = evaluator or _Evaluator(book)
    sheet = box.sheet
    found: dict[int, dict[int, Json]] = {}
    for r in _rows_in(sheet, box.r0, box.r1):
        for c, cell in sheet.cells[r].items():
            if box.c0 <= c < box.c1:
                value = render_cell(evaluator, sheet, r, c, cell, value_render, datetime_render)
                if value is not None:
                    outer, inner = (r - box.r0, c - box.c0)
                    if major == "COLUMNS":
                        outer, inner = inner, outer
                    found.setdefault(outer, {})[inner] = value
    if not found:
        return []
    out: list[list[Json]] = []
    for i in range(max(found) + 1):
        line = found.get(i)
        out.append([line.get(j, "") for j in range(max(line) + 1)] if line else [])
    return out


def _user_entered_value(cell: Cell) -> dict[str, Any]:
    if cell.formula:
        return {"formulaValue": cell.value}
    if isinstance(cell.value, bool):
        return {"boolValue": cell.value}
    if isinstance(cell.value, int | float):
        return {"numberValue": _json_number(cell.value)}
    return {"stringValue": cell.value}


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _cell_data(evaluator: _Evaluator, sheet: Sheet, row: int, col: int, cell: Cell, formats: bool = True) -> dict:
    """``CellData`` for grid-data responses (``formats=False``: without the formats and the
    formatted value, for a field mask that does not ask for them)."""
    data: dict[str, Any] = {}
    if cell.value is not None:
        data["userEnteredValue"] = _user_entered_value(cell)
        value = evaluator.cell_value(sheet, row, col) if cell.formula else cell.value
        if isinstance(value, FormulaError):
            data["effectiveValue"] = {"errorValue": {"type": value.error_type, "message": value.message}}
        elif isinstance(value, bool):
            data["effectiveValue"] = {"boolValue": value}
        elif isinstance(value, int | float):
            data["effectiveValue"] = {"numberValue": _json_number(value)}
        elif isinstance(value, str):
            data["effectiveValue"] = {"stringValue": value}
        formatted = render_cell(evaluator, sheet, row, col, cell) if formats else None
        if formatted not in (None, ""):
            data["formattedValue"] = formatted
    if cell.fmt and formats:
        data["userEnteredFormat"] = copy.deepcopy(cell.fmt)
    if (cell.value is not None or cell.fmt) and formats:
        data["effectiveFormat"] = _deep_merge(_DEFAULT_FORMAT, cell.fmt or {})
    if cell.note:
        data["note"] = cell.note
    if cell.validation:
        data["dataValidation"] = copy.deepcopy(cell.validation)
    return data


def _grid_data(evaluator: _Evaluator, box: _Box, *, cells: bool = True, formats: bool = True) -> dict[str, Any]:
    """``GridData`` for one range (rows up to the last stored one, Google-style);
    ``cells=False`` leaves out ``rowData``, ``formats=False`` the cells' formats and
    formatted values (a field mask that does not ask for them: rendering them only for
    the mask to drop them was most of the CPU of a sync's re-read)."""
    sheet = box.sheet
    grid: dict[str, Any] = {}
    if box.r0:
        grid["startRow"] = box.r0
    if box.c0:
        grid["startColumn"] = box.c0
    stored = [r for r in _rows_in(sheet, box.r0, box.r1) if any(box.c0 <= c < box.c1 for c in sheet.cells[r])]
    stored = stored if cells else []
    if stored:
        row_data: list[dict[str, Any]] = []
        for r in range(box.r0, stored[-1] + 1):
            cols = [c for c in sheet.cells.get(r, {}) if box.c0 <= c < box.c1]
            if not cols:
                row_data.append({})
                continue
            values = []
            for c in range(box.c0, max(cols) + 1):
                cell = sheet.get(r, c)
                values.append({} if cell is None else _cell_data(evaluator, sheet, r, c, cell, formats))
            row_data.append({"values": values})
        grid["rowData"] = row_data
    for dim, key, lo, hi, size in (
        ("ROWS", "rowMetadata", box.r0, box.r1, 21),
        ("COLUMNS", "columnMetadata", box.c0, box.c1, 100),
    ):
        props = sheet.dim_props[dim]
        grid[key] = [{"pixelSize": size, **with_locations(sheet, dim, i, props.get(i, {}))} for i in range(lo, hi)]
    return grid


def _float32_text(value: float) -> float:
    """``value`` as a 32-bit float printed the shortest way that reads back the same,
    which is how Google's JSON shows ``Color`` components (1/3 -> 0.33333334)."""
    single = struct.unpack("<f", struct.pack("<f", value))[0]
    for digits in range(1, 10):
        shown = float(f"{single:.{digits}g}")
        if struct.unpack("<f", struct.pack("<f", shown))[0] == single:
            return shown
    return single


def _channel_8bit(value: Any) -> Any:
    """A colour channel as Google stores it: 8 bits (k/255), halves rounded down, so
    0.5 reads back as 0.49803922 (127/255). Not a number: left for validation."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    level = math.floor(min(max(float(value), 0.0), 1.0) * 255 + 0.5 - 1e-9)
    return _json_number(_float32_text(level / 255))


def _clean_color(color: Mapping[str, Any]) -> dict[str, Any]:
    """Colours as Google echoes them: red/green/blue rounded to 8 bits, zero components
    omitted (proto3 defaults)."""
    out = {k: _channel_8bit(v) if k in ("red", "green", "blue") else v for k, v in color.items()}
    return {k: v for k, v in out.items() if v}


def _normalize_format(fmt: dict[str, Any]) -> dict[str, Any]:
    """Fill in the ``*Style`` twins Google derives from plain colours (and vice versa)."""

    def pair(container: dict[str, Any], plain: str) -> None:
        style = plain + "Style"
        if isinstance(container.get(plain), dict):
            container[plain] = _clean_color(container[plain])
            container[style] = {"rgbColor": copy.deepcopy(container[plain])}
        elif isinstance(container.get(style), dict) and "rgbColor" in container[style]:
            container[style] = {"rgbColor": _clean_color(container[style]["rgbColor"])}
            container[plain] = copy.deepcopy(container[style]["rgbColor"])
        else:
            container.pop(style, None)

    pair(fmt, "backgroundColor")
    text_format = fmt.get("textFormat")
    if isinstance(text_format, dict):
        pair(text_format, "foregroundColor")
    borders = fmt.get("borders")
    if isinstance(borders, dict):
        for side in borders.values():
            if isinstance(side, dict):
                pair(side, "color")
    return fmt
