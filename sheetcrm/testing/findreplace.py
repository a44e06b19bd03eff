"""The ``findReplace`` request of ``spreadsheets.batchUpdate`` in the fake.

Modelled as Google documents it: ``find`` in ``range``, ``sheetId`` or ``allSheets``;
``matchCase``, ``matchEntireCell``, ``searchByRegex`` (Python's ``re`` standing in for
Google's RE2 syntax) and ``includeFormulas``; the reply counts ``valuesChanged``,
``formulasChanged``, ``rowsChanged``, ``sheetsChanged`` and ``occurrencesChanged`` (zero
counts omitted, as proto3 JSON does). Empty cells never match. Only text cells are
searched: a number, date or boolean cell matches nothing here (Google searches their
formatted text; the fake does not model that) and a replaced cell stays text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sheetcrm.testing.common import _RequestError
from sheetcrm.testing.model import Spreadsheet, _grid_box

if TYPE_CHECKING:
    from sheetcrm.testing.api import _Api


def find_replace(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    """Apply one FindReplaceRequest to ``book``; returns the FindReplaceResponse."""
    find = payload.get("find")
    if not find:
        raise _RequestError("find must be set.")
    replacement = str(payload.get("replacement") or "")
    flags = 0 if payload.get("matchCase") else re.IGNORECASE
    pattern = str(find) if payload.get("searchByRegex") else re.escape(str(find))
    if payload.get("matchEntireCell"):
        pattern = f"^(?:{pattern})$"
    try:
        regex = re.compile(pattern, flags)
    except re.error as err:
        raise _RequestError(f"Invalid regular expression: {err}") from None
    if "range" in payload:
        grid = payload["range"] or {}
        sheet = book.sheet_by_id(int(grid.get("sheetId") or 0))
        if sheet is None:
            raise _RequestError(f"No grid with id: {int(grid.get('sheetId') or 0)}")
        boxes = [_grid_box(sheet, grid)]
    elif "sheetId" in payload:
        sheet = book.sheet_by_id(int(payload["sheetId"] or 0))
        if sheet is None:
            raise _RequestError(f"No grid with id: {int(payload['sheetId'] or 0)}")
        boxes = [_grid_box(sheet, {"sheetId": sheet.sheet_id})]
    elif payload.get("allSheets"):
        boxes = [_grid_box(s, {"sheetId": s.sheet_id}) for s in book.sheets]
    else:
        raise _RequestError("One of range, sheetId or allSheets must be set.")
    counts = {"valuesChanged": 0, "formulasChanged": 0, "occurrencesChanged": 0}
    rows: set[tuple[int, int]] = set()
    sheets: set[int] = set()
    for box in boxes:
        for r, c, cell in list(_cells_in(box)):
            if not isinstance(cell.value, str):
                continue
            if cell.formula and not payload.get("includeFormulas"):
                continue
            new, n = regex.subn(lambda _m: replacement, cell.value)
            if not n:
                continue
            owned = box.sheet.cell_for_write(r, c)
            assert owned is not None
            owned.value = new
            counts["formulasChanged" if cell.formula else "valuesChanged"] += 1
            counts["occurrencesChanged"] += n
            rows.add((box.sheet.sheet_id, r))
            sheets.add(box.sheet.sheet_id)
            api.cells_written += 1
    out = {"rowsChanged": len(rows), "sheetsChanged": len(sheets), **counts}
    return {"findReplace": {k: v for k, v in out.items() if v}}


def _cells_in(box: Any) -> Iterator[tuple[int, int, Any]]:
    """The stored cells of ``box``: its rows looked up one by one when it is smaller than
    the sheet's stored rows (a sync's compare-and-set findReplace covers one cell; a scan
    of the whole sheet each made its write quadratic)."""
    sheet = box.sheet
    rows = range(box.r0, box.r1) if box.r1 - box.r0 < len(sheet.cells) else sorted(sheet.cells)
    for r in rows:
        row_cells = sheet.cells.get(r)
        if not row_cells or not box.r0 <= r < box.r1:
            continue
        for c in sorted(row_cells):
            if box.c0 <= c < box.c1:
                yield r, c, row_cells[c]
