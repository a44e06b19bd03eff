"""The request kinds of ``spreadsheets.batchUpdate``."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from sheetcrm.testing.common import (
    _DEFAULT_FORMAT,
    _DEFAULT_THEME,
    _OWNER_EMAIL,
    DEFAULT_COLUMNS,
    DEFAULT_ROWS,
    MaskTree,
    _RequestError,
)
from sheetcrm.testing.model import (
    _SHEET_EXTRA_PROPS,
    Sheet,
    Spreadsheet,
    _clean_range,
    _exceeds_grid,
    _grid_box,
    _mask_reaches,
    apply_update_mask,
    delete_dimension,
    insert_dimension,
    parse_field_mask,
    rename_in_formulas,
    resize_sheet,
    sort_box,
)
from sheetcrm.testing.render import _DIMENSIONS, _clean_color, _json_number, _normalize_format

if TYPE_CHECKING:  # the API dispatches to these handlers
    from sheetcrm.testing.api import _Api

# --------------------------------------------------------------------------------------
# spreadsheets.batchUpdate request kinds
# --------------------------------------------------------------------------------------

_RequestHandler: TypeAlias = Callable[["_Api", Spreadsheet, dict[str, Any]], "dict[str, Any] | None"]


def _sheet_for(book: Spreadsheet, sheet_id: Any) -> Sheet:
    sheet = book.sheet_by_id(int(sheet_id or 0))
    if sheet is None:
        raise _RequestError(f"No grid with id: {int(sheet_id or 0)}")
    return sheet


def _dimension_range(book: Spreadsheet, payload: Mapping[str, Any]) -> tuple[Sheet, str, int, int]:
    """Validate a ``DimensionRange``: returns (sheet, dimension, start, end)."""
    sheet = _sheet_for(book, payload.get("sheetId"))
    dim = payload.get("dimension")
    if dim not in _DIMENSIONS:
        raise _RequestError("range.dimension must be ROWS or COLUMNS.")
    start = int(payload.get("startIndex") or 0)
    end_raw = payload.get("endIndex")
    end = sheet.count(str(dim)) if end_raw is None else int(end_raw)
    if start < 0 or end <= start:
        raise _RequestError("range.startIndex must be less than range.endIndex.")
    return sheet, str(dim), start, end


def _dimension_exceeds(sheet: Sheet, dim: str, start: int, end: int) -> _RequestError:
    if dim == "ROWS":
        err = _exceeds_grid(sheet, start, 0, end, 1)
    else:
        err = _exceeds_grid(sheet, 0, start, 1, end)
    return _RequestError(err.message)


def _req_add_sheet(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    props = payload.get("properties") or {}
    if props.get("sheetType", "GRID") != "GRID":
        raise _RequestError("FakeSheetsServer only supports sheetType GRID.")
    title = props.get("title")
    title = str(title) if title else api._default_title(book)
    if book.find_sheet(title) is not None:
        raise _RequestError(f'A sheet with the name "{title}" already exists. Please enter another name.')
    sheet_id = props.get("sheetId")
    if sheet_id is not None and book.sheet_by_id(int(sheet_id)) is not None:
        raise _RequestError(f"A sheet with id {int(sheet_id)} already exists.")
    grid = props.get("gridProperties") or {}
    sheet = Sheet(
        sheet_id=api.new_sheet_id(book) if sheet_id is None else int(sheet_id),
        title=title,
        row_count=int(grid.get("rowCount", DEFAULT_ROWS)),
        col_count=int(grid.get("columnCount", DEFAULT_COLUMNS)),
        frozen_rows=int(grid.get("frozenRowCount", 0)),
        frozen_cols=int(grid.get("frozenColumnCount", 0)),
        hidden=bool(props.get("hidden", False)),
        hide_gridlines=bool(grid.get("hideGridlines", False)),
        extra=_sheet_extra(book, props),
    )
    _validate_grid(sheet)
    index = int(props.get("index", len(book.sheets)))
    book.sheets.insert(max(0, min(index, len(book.sheets))), sheet)
    if all(s.hidden for s in book.sheets):
        raise _RequestError("You can't hide all the sheets in a document.")
    api._check_cell_limit(book)
    return {"addSheet": {"properties": sheet.properties(book.index_of(sheet))}}


def _validate_grid(sheet: Sheet) -> None:
    if sheet.row_count < 1:
        raise _RequestError("You can't delete all the rows on the sheet.")
    if sheet.col_count < 1:
        raise _RequestError("You can't delete all the columns on the sheet.")
    if sheet.frozen_rows < 0 or sheet.frozen_cols < 0:
        raise _RequestError("Frozen row and column counts must not be negative.")
    if sheet.frozen_rows >= sheet.row_count:
        raise _RequestError("You can't freeze all visible rows on the sheet.")
    if sheet.frozen_cols >= sheet.col_count:
        raise _RequestError("You can't freeze all visible columns on the sheet.")


def _sheet_extra(book: Spreadsheet, props: Mapping[str, Any], tree: MaskTree = None) -> dict[str, Any]:
    """The sheet properties kept in ``Sheet.extra``, with the tab colour as Google keeps it.

    ``tabColorStyle`` and the deprecated ``tabColor`` are twins: whichever one a request
    sets (``tree``, its field mask; None = every field given) decides both, the style
    first when both are set ("if tabColor is also set, this field takes precedence"),
    and a twin named in the mask but absent clears the colour. A theme colour keeps its
    ``themeColor`` and shows the theme's RGB in ``tabColor``; channels are 8-bit.
    """
    extra = {k: copy.deepcopy(props[k]) for k in _SHEET_EXTRA_PROPS if k in props and not k.startswith("tabColor")}
    plain, style = props.get("tabColor"), props.get("tabColorStyle")
    if tree is not None:
        plain_named, style_named = _mask_reaches(tree, ["tabColor"]), _mask_reaches(tree, ["tabColorStyle"])
        if style_named and not plain_named:
            plain = None
        elif plain_named and not style_named:
            style = None
    if isinstance(style, Mapping) and style.get("themeColor"):
        kind = str(style["themeColor"])
        theme = book.properties().get("spreadsheetTheme") or {}
        rgb = next(
            (t.get("color", {}).get("rgbColor") for t in theme.get("themeColors", []) if t.get("colorType") == kind),
            None,
        )
        extra["tabColorStyle"] = {"themeColor": kind}
        if rgb is not None:
            extra["tabColor"] = _clean_color(rgb)
    elif isinstance(style, Mapping) and isinstance(style.get("rgbColor"), Mapping):
        extra["tabColor"] = _clean_color(style["rgbColor"])
        extra["tabColorStyle"] = {"rgbColor": _clean_color(style["rgbColor"])}
    elif isinstance(plain, Mapping):
        extra["tabColor"] = _clean_color(plain)
        extra["tabColorStyle"] = {"rgbColor": _clean_color(plain)}
    return extra


def _req_delete_sheet(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    sheet_id = int(payload.get("sheetId") or 0)
    sheet = book.sheet_by_id(sheet_id)
    if sheet is None:
        raise _RequestError(f"No sheet with id: {sheet_id}")
    if len(book.sheets) == 1:
        raise _RequestError("You can't remove all the sheets in a document.")
    if not sheet.hidden and all(s.hidden for s in book.sheets if s is not sheet):
        raise _RequestError("You can't remove all the visible sheets in a document.")
    book.sheets.remove(sheet)


def _req_update_sheet_properties(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    props_in = payload.get("properties") or {}
    sheet = _sheet_for(book, props_in.get("sheetId"))
    fields = payload.get("fields")
    if not fields:
        raise _RequestError("At least one field must be specified in 'fields'.")
    current = sheet.properties(book.index_of(sheet))
    updated = copy.deepcopy(current)
    apply_update_mask(updated, props_in, parse_field_mask(str(fields)))
    updated["sheetId"], updated["sheetType"] = sheet.sheet_id, "GRID"
    if "index" not in updated:
        updated["index"] = current["index"]
    title = str(updated.get("title") or "")
    if not title:
        raise _RequestError("The sheet name cannot be empty.")
    other = book.find_sheet(title)
    if other is not None and other is not sheet and other.title.casefold() == title.casefold():
        raise _RequestError(f'A sheet with the name "{title}" already exists. Please enter another name.')
    grid = updated.get("gridProperties") or {}
    rows, cols = int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0))
    if rows < 1:
        raise _RequestError("You can't delete all the rows on the sheet.")
    if cols < 1:
        raise _RequestError("You can't delete all the columns on the sheet.")
    if title != sheet.title:
        rename_in_formulas(book, sheet.title, title)
    sheet.title = title
    sheet.hidden = bool(updated.get("hidden", False))
    sheet.hide_gridlines = bool(grid.get("hideGridlines", False))
    sheet.frozen_rows = int(grid.get("frozenRowCount", 0))
    sheet.frozen_cols = int(grid.get("frozenColumnCount", 0))
    for dim, key in (("ROWS", "rowGroupControlAfter"), ("COLUMNS", "columnGroupControlAfter")):
        sheet.group_control_after[dim] = bool(grid.get(key, False))
    sheet.extra = _sheet_extra(book, updated, parse_field_mask(str(fields)))
    resize_sheet(sheet, rows, cols, book)
    _validate_grid(sheet)
    if all(s.hidden for s in book.sheets):
        raise _RequestError("You can't hide all the sheets in a document.")
    new_index = max(0, min(int(updated["index"]), len(book.sheets) - 1))
    book.sheets.remove(sheet)
    book.sheets.insert(new_index, sheet)
    api._check_cell_limit(book)


def _req_update_spreadsheet_properties(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    fields = payload.get("fields")
    if not fields:
        raise _RequestError("At least one field must be specified in 'fields'.")
    updated = book.properties()
    apply_update_mask(updated, payload.get("properties") or {}, parse_field_mask(str(fields)))
    if not updated.get("title"):
        raise _RequestError("The spreadsheet title cannot be empty.")
    book.title = str(updated.pop("title"))
    book.locale = str(updated.pop("locale", "en_US") or "en_US")
    book.time_zone = str(updated.pop("timeZone", "Etc/GMT") or "Etc/GMT")
    book.auto_recalc = str(updated.pop("autoRecalc", "ON_CHANGE") or "ON_CHANGE")
    defaults = {"defaultFormat": _DEFAULT_FORMAT, "spreadsheetTheme": _DEFAULT_THEME}
    book.extra = {k: v for k, v in updated.items() if defaults.get(k) != v}


def _apply_cell_data(sheet: Sheet, row: int, col: int, data: Mapping[str, Any], tree: MaskTree) -> None:
    """Apply one ``CellData`` to a cell under a field mask (None = all fields given)."""
    if tree is None:
        tree = {key: None for key in data}
        if not tree:
            return
    if sheet.get(row, col) is None and not any(data.get(k) for k in tree if k != "*"):
        return  # clearing an absent cell: nothing to do
    cell = sheet.ensure(row, col)
    for key, sub in tree.items():
        if key in ("*", "userEnteredValue"):
            entered = data.get("userEnteredValue") or {}
            if "formulaValue" in entered:
                cell.value, cell.formula = str(entered["formulaValue"]), True
            elif "stringValue" in entered:
                cell.value, cell.formula = str(entered["stringValue"]), False
            elif "numberValue" in entered:
                cell.value, cell.formula = _json_number(entered["numberValue"]), False
            elif "boolValue" in entered:
                cell.value, cell.formula = bool(entered["boolValue"]), False
            elif "errorValue" in entered:
                raise _RequestError("Cannot set an errorValue in userEnteredValue.")
            else:
                cell.value, cell.formula = None, False
        if key in ("*", "userEnteredFormat"):
            fmt = copy.deepcopy(cell.fmt or {})
            source = data.get("userEnteredFormat") or {}
            apply_update_mask(fmt, source, None if key == "*" else sub)
            cell.fmt = _normalize_format(fmt) or None
        if key in ("*", "note"):
            cell.note = data.get("note") or None
        if key in ("*", "dataValidation"):
            cell.validation = copy.deepcopy(data.get("dataValidation")) or None
    sheet.prune(row, col)


def _req_repeat_cell(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    grid_range = payload.get("range") or {}
    box = _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    fields = payload.get("fields")
    if not fields:
        raise _RequestError("At least one field must be specified in 'fields'.")
    tree = parse_field_mask(str(fields))
    data = payload.get("cell") or {}
    for r in range(box.r0, box.r1):
        for c in range(box.c0, box.c1):
            _apply_cell_data(box.sheet, r, c, data, tree)


def _req_update_cells(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    fields = payload.get("fields")
    if not fields:
        raise _RequestError("At least one field must be specified in 'fields'.")
    tree = parse_field_mask(str(fields))
    rows = payload.get("rows") or []
    if "start" in payload:
        start = payload["start"] or {}
        sheet = _sheet_for(book, start.get("sheetId"))
        r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
        width = max((len(row.get("values") or []) for row in rows), default=0)
        box = _grid_box(
            sheet,
            {
                "startRowIndex": r0,
                "endRowIndex": r0 + max(len(rows), 1),
                "startColumnIndex": c0,
                "endColumnIndex": c0 + max(width, 1),
            },
        )
        values = tree is None or "userEnteredValue" in tree
        for i, row in enumerate(rows):
            for j, cell_data in enumerate(row.get("values") or []):
                _apply_cell_data(sheet, box.r0 + i, box.c0 + j, cell_data, tree)
                # A test hook, not an API figure: values written by updateCells count as
                # written, as those of values.update do.
                api.cells_written += values and "userEnteredValue" in cell_data
        return
    grid_range = payload.get("range") or {}
    box = _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    for r in range(box.r0, box.r1):
        row_values = (rows[r - box.r0].get("values") or []) if r - box.r0 < len(rows) else []
        for c in range(box.c0, box.c1):
            cell_data = row_values[c - box.c0] if c - box.c0 < len(row_values) else {}
            _apply_cell_data(box.sheet, r, c, cell_data, tree)
            api.cells_written += (tree is None or "userEnteredValue" in tree) and "userEnteredValue" in cell_data


def _req_set_data_validation(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    grid_range = payload.get("range") or {}
    box = _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    rule = payload.get("rule")
    if rule is not None:
        condition = (rule or {}).get("condition") or {}
        if not condition.get("type"):
            raise _RequestError("The data validation rule must have a condition type.")
        # Google drops proto3 defaults (false booleans) from what it echoes back.
        rule = {k: v for k, v in rule.items() if v is not False and v is not None}
    for r in range(box.r0, box.r1):
        for c in range(box.c0, box.c1):
            if rule is None and box.sheet.get(r, c) is None:
                continue
            cell = box.sheet.ensure(r, c)
            cell.validation = copy.deepcopy(rule)
            box.sheet.prune(r, c)


def _req_add_protected_range(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    protected = copy.deepcopy(payload.get("protectedRange") or {})
    grid_range = protected.get("range")
    if grid_range is None:
        raise _RequestError("A protected range must specify a range.")
    sheet = _sheet_for(book, grid_range.get("sheetId"))
    _grid_box(sheet, grid_range)
    existing = {pr["protectedRangeId"] for s in book.sheets for pr in s.protected_ranges}
    range_id = protected.get("protectedRangeId")
    if range_id is None:
        range_id = api.new_small_id()
        while range_id in existing:
            range_id = api.new_small_id()
    elif int(range_id) in existing:
        raise _RequestError(f"A protected range with id {range_id} already exists.")
    for hole in protected.get("unprotectedRanges") or []:
        _grid_box(_sheet_for(book, hole.get("sheetId")), hole)
    stored = _stored_protection(int(range_id), grid_range, protected)
    # "When writing: if this field [warningOnly] is true, then editors are ignored."
    if not protected.get("warningOnly"):
        stored["editors"] = _editors(protected.get("editors"))
    sheet.protected_ranges.append(stored)
    shown = {**copy.deepcopy(stored), "range": _clean_range(grid_range)}
    return {"addProtectedRange": {"protectedRange": shown}}


def _stored_protection(range_id: int, grid_range: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """A protected range as the fake keeps it (editors aside), from what a request gave."""
    stored: dict[str, Any] = {"protectedRangeId": range_id, "range": grid_range}
    if given.get("description"):
        stored["description"] = str(given["description"])
    if given.get("warningOnly"):
        stored["warningOnly"] = True
    stored["requestingUserCanEdit"] = True
    if given.get("unprotectedRanges"):
        stored["unprotectedRanges"] = [_clean_range(r) for r in given["unprotectedRanges"]]
    return stored


def _req_update_protected_range(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    given = payload.get("protectedRange") or {}
    fields = payload.get("fields")
    if not fields:
        raise _RequestError("At least one field must be specified in 'fields'.")
    range_id = int(given.get("protectedRangeId") or 0)
    found = next(
        (
            (sheet, i)
            for sheet in book.sheets
            for i, pr in enumerate(sheet.protected_ranges)
            if pr["protectedRangeId"] == range_id
        ),
        None,
    )
    if found is None:
        raise _RequestError(f"No protected range with id: {range_id}")
    home, index = found
    old = home.protected_ranges[index]
    tree = parse_field_mask(str(fields))
    updated = copy.deepcopy(old)
    apply_update_mask(updated, given, tree)
    grid_range = updated.get("range")
    if grid_range is None:
        raise _RequestError("A protected range must specify a range.")
    sheet = _sheet_for(book, grid_range.get("sheetId"))
    _grid_box(sheet, grid_range)
    for hole in updated.get("unprotectedRanges") or []:
        _grid_box(_sheet_for(book, hole.get("sheetId")), hole)
    stored = _stored_protection(range_id, grid_range, updated)
    if not updated.get("warningOnly"):
        if old.get("warningOnly") and not _mask_reaches(tree, ["editors"]):
            # "if this field is changed from true to false and the editors field is not
            # set (nor included in the field mask), then the editors will be set to all
            # the editors in the document."
            stored["editors"] = _editors(
                {
                    "users": [
                        p["emailAddress"]
                        for p in book.permissions
                        if p.get("type") == "user" and p.get("role") in ("owner", "writer") and p.get("emailAddress")
                    ],
                    "groups": [
                        p["emailAddress"]
                        for p in book.permissions
                        if p.get("type") == "group" and p.get("role") == "writer" and p.get("emailAddress")
                    ],
                    "domainUsersCanEdit": any(
                        p.get("type") == "domain" and p.get("role") == "writer" for p in book.permissions
                    ),
                }
            )
        else:
            stored["editors"] = _editors(updated.get("editors"))
    del home.protected_ranges[index]
    sheet.protected_ranges.insert(index if sheet is home else len(sheet.protected_ranges), stored)


def _editors(given: Any) -> dict[str, Any]:
    """``Editors`` as Google keeps them: the owner (the fake's API caller) always first
    among the users, no duplicates, and proto3 defaults left out (no empty ``groups`` or
    ``users`` list, no ``domainUsersCanEdit: false``)."""
    given = given if isinstance(given, Mapping) else {}
    users = [_OWNER_EMAIL]
    for user in given.get("users") or []:
        if str(user).lower() not in (u.lower() for u in users):
            users.append(str(user))
    groups: list[str] = []
    for group in given.get("groups") or []:
        if str(group).lower() not in (g.lower() for g in groups):
            groups.append(str(group))
    editors: dict[str, Any] = {"users": users}
    if groups:
        editors["groups"] = groups
    if given.get("domainUsersCanEdit"):
        editors["domainUsersCanEdit"] = True
    return editors


def _req_delete_protected_range(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    range_id = int(payload.get("protectedRangeId") or 0)
    for sheet in book.sheets:
        for i, pr in enumerate(sheet.protected_ranges):
            if pr["protectedRangeId"] == range_id:
                del sheet.protected_ranges[i]
                return
    raise _RequestError(f"No protected range with id: {range_id}")


def _req_insert_dimension(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    sheet, dim, start, end = _dimension_range(book, payload.get("range") or {})
    inherit = bool(payload.get("inheritFromBefore", False))
    count = sheet.count(dim)
    noun = "rows" if dim == "ROWS" else "columns"
    if start > count:
        raise _dimension_exceeds(sheet, dim, start, end)
    if inherit and start == 0:
        raise _RequestError(f"Cannot inherit properties from before when inserting {noun} at the start of the sheet.")
    if start == count and not inherit:
        raise _RequestError(f"Cannot insert {noun} at the end of the sheet without inheritFromBefore.")
    insert_dimension(sheet, dim, start, end - start, book)
    api._check_cell_limit(book)


def _req_delete_dimension(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    sheet, dim, start, end = _dimension_range(book, payload.get("range") or {})
    if end > sheet.count(dim):
        raise _dimension_exceeds(sheet, dim, start, end)
    if start == 0 and end == sheet.count(dim):
        noun = "rows" if dim == "ROWS" else "columns"
        raise _RequestError(f"You can't delete all the {noun} on the sheet.")
    delete_dimension(sheet, dim, start, end, book)


def _req_append_dimension(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    sheet = _sheet_for(book, payload.get("sheetId"))
    dim = payload.get("dimension")
    if dim not in _DIMENSIONS:
        raise _RequestError("dimension must be ROWS or COLUMNS.")
    length = int(payload.get("length") or 0)
    if length < 1:
        raise _RequestError("length must be greater than 0.")
    if dim == "ROWS":
        sheet.row_count += length
    else:
        sheet.col_count += length
    api._check_cell_limit(book)


def _req_sort_range(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    grid_range = payload.get("range") or {}
    box = _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    specs: list[tuple[int, bool]] = []
    for spec in payload.get("sortSpecs") or []:
        if "dimensionIndex" not in spec:
            raise _RequestError("Each sort spec must set dimensionIndex.")
        column = int(spec["dimensionIndex"])
        if not 0 <= column < box.sheet.col_count:
            raise _RequestError(f"Invalid sort column index: {column}")
        specs.append((column, spec.get("sortOrder") == "DESCENDING"))
    if specs:
        sort_box(book, box, specs)


def _req_update_dimension_properties(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    if "range" not in payload:
        raise _RequestError("range must be specified.")
    sheet, dim, start, end = _dimension_range(book, payload["range"] or {})
    if end > sheet.count(dim):
        raise _dimension_exceeds(sheet, dim, start, end)
    fields = payload.get("fields")
    if not fields:
        raise _RequestError("At least one field must be specified in 'fields'.")
    tree = parse_field_mask(str(fields))
    props = payload.get("properties") or {}
    table = sheet.dim_props[dim]
    for index in range(start, end):
        current = sheet.props_for_write(dim, index)
        apply_update_mask(current, props, tree)
        if not current:
            del table[index]


def _req_add_dimension_group(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    sheet, dim, start, end = _dimension_range(book, payload.get("range") or {})
    if end > sheet.count(dim):
        raise _dimension_exceeds(sheet, dim, start, end)
    depths = sheet.depths[dim]
    for index in range(start, end):
        depths[index] = depths.get(index, 0) + 1
    if max(depths.values()) > 8:
        raise _RequestError("Groups cannot be nested more than 8 levels deep.")
    sheet.group_control_after[dim] = True
    return {"addDimensionGroup": {"dimensionGroups": sheet.groups(dim)}}


def _req_delete_dimension_group(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    sheet, dim, start, end = _dimension_range(book, payload.get("range") or {})
    depths = sheet.depths[dim]
    for index in range(start, end):
        if depths.get(index, 0) > 1:
            depths[index] -= 1
        else:
            depths.pop(index, None)
    groups = sheet.groups(dim)
    return {"deleteDimensionGroup": {"dimensionGroups": groups} if groups else {}}


def _req_duplicate_sheet(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict:
    source = book.sheet_by_id(int(payload.get("sourceSheetId") or 0))
    if source is None:
        raise _RequestError(f"No sheet with id: {int(payload.get('sourceSheetId') or 0)}")
    clone = copy.deepcopy(source)
    new_id = payload.get("newSheetId")
    if new_id is not None and book.sheet_by_id(int(new_id)) is not None:
        raise _RequestError(f"A sheet with id {int(new_id)} already exists.")
    clone.sheet_id = api.new_sheet_id(book) if new_id is None else int(new_id)
    title = payload.get("newSheetName")
    if not title:
        title, n = f"Copy of {source.title}", 2
        while book.find_sheet(title) is not None:
            title, n = f"Copy of {source.title} {n}", n + 1
    if book.find_sheet(str(title)) is not None:
        raise _RequestError(f'A sheet with the name "{title}" already exists. Please enter another name.')
    clone.title = str(title)
    clone.protected_ranges = []
    index = payload.get("insertSheetIndex")
    index = book.index_of(source) + 1 if index is None else int(index)
    book.sheets.insert(max(0, min(index, len(book.sheets))), clone)
    api._check_cell_limit(book)
    return {"duplicateSheet": {"properties": clone.properties(book.index_of(clone))}}


def _req_add_named_range(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict:
    named = copy.deepcopy(payload.get("namedRange") or {})
    name = str(named.get("name") or "")
    if not re.match(r"^[A-Za-z_][\w.]*$", name) or re.match(r"^[A-Za-z]{1,3}\d+$", name):
        raise _RequestError(f"Invalid named range name: {name}")
    if any(n["name"] == name for n in book.named_ranges):
        raise _RequestError(f"A named range with the name {name} already exists.")
    grid_range = named.get("range") or {}
    _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    named["namedRangeId"] = str(named.get("namedRangeId") or api.new_small_id())
    named["range"] = _clean_range(grid_range)
    book.named_ranges.append(named)
    return {"addNamedRange": {"namedRange": copy.deepcopy(named)}}


def _req_delete_named_range(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    range_id = str(payload.get("namedRangeId") or "")
    for i, named in enumerate(book.named_ranges):
        if named["namedRangeId"] == range_id:
            del book.named_ranges[i]
            return
    raise _RequestError(f"No named range with id: {range_id}")


def _req_merge_cells(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    grid_range = payload.get("range") or {}
    box = _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    merges = box.sheet.presentation.setdefault("merges", [])
    merge_type = payload.get("mergeType", "MERGE_ALL")
    pieces: list[tuple[int, int, int, int]] = [(box.r0, box.c0, box.r1, box.c1)]
    if merge_type == "MERGE_ROWS":
        pieces = [(r, box.c0, r + 1, box.c1) for r in range(box.r0, box.r1)]
    elif merge_type == "MERGE_COLUMNS":
        pieces = [(box.r0, c, box.r1, c + 1) for c in range(box.c0, box.c1)]
    # A merge is replaced by a new one covering it; one only partly covered is refused,
    # as unmergeCells documents ("The range must not partially span any merge").
    _refuse_partial_merges(merges, box.r0, box.c0, box.r1, box.c1)
    merges[:] = [m for m in merges if not _overlaps(m, box.r0, box.c0, box.r1, box.c1)]
    for r0, c0, r1, c1 in pieces:
        merges.append(
            {
                "sheetId": box.sheet.sheet_id,
                "startRowIndex": r0,
                "endRowIndex": r1,
                "startColumnIndex": c0,
                "endColumnIndex": c1,
            }
        )


def _req_unmerge_cells(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    grid_range = payload.get("range") or {}
    box = _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    merges = box.sheet.presentation.get("merges", [])
    _refuse_partial_merges(merges, box.r0, box.c0, box.r1, box.c1)
    merges[:] = [m for m in merges if not _overlaps(m, box.r0, box.c0, box.r1, box.c1)]


def _overlaps(merge: Mapping[str, Any], r0: int, c0: int, r1: int, c1: int) -> bool:
    return not (
        merge["endRowIndex"] <= r0
        or merge["startRowIndex"] >= r1
        or merge["endColumnIndex"] <= c0
        or merge["startColumnIndex"] >= c1
    )


def _refuse_partial_merges(merges: list[dict[str, Any]], r0: int, c0: int, r1: int, c1: int) -> None:
    """Google's answer (Apps Script's and the web app's wording) to a merge or unmerge
    whose range cuts through an existing merge."""
    for m in merges:
        inside = (
            r0 <= m["startRowIndex"]
            and m["endRowIndex"] <= r1
            and c0 <= m["startColumnIndex"]
            and m["endColumnIndex"] <= c1
        )
        if _overlaps(m, r0, c0, r1, c1) and not inside:
            raise _RequestError("You must select all cells in a merged range to merge or unmerge them.")


_REQUEST_HANDLERS: dict[str, _RequestHandler] = {
    "addSheet": _req_add_sheet,
    "deleteSheet": _req_delete_sheet,
    "duplicateSheet": _req_duplicate_sheet,
    "updateSheetProperties": _req_update_sheet_properties,
    "updateSpreadsheetProperties": _req_update_spreadsheet_properties,
    "repeatCell": _req_repeat_cell,
    "updateCells": _req_update_cells,
    "setDataValidation": _req_set_data_validation,
    "addProtectedRange": _req_add_protected_range,
    "deleteProtectedRange": _req_delete_protected_range,
    "updateProtectedRange": _req_update_protected_range,
    "insertDimension": _req_insert_dimension,
    "deleteDimension": _req_delete_dimension,
    "appendDimension": _req_append_dimension,
    "sortRange": _req_sort_range,
    "updateDimensionProperties": _req_update_dimension_properties,
    "addDimensionGroup": _req_add_dimension_group,
    "deleteDimensionGroup": _req_delete_dimension_group,
    "addNamedRange": _req_add_named_range,
    "deleteNamedRange": _req_delete_named_range,
    "mergeCells": _req_merge_cells,
    "unmergeCells": _req_unmerge_cells,
}
