"""The spreadsheet model: sheets, cells, grid geometry (insert, delete, sort) and field masks."""

from __future__ import annotations

import copy
import datetime as _dt
import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from sheetcrm.cells.a1 import (
    column_index,
    column_letters,
    format_grid_range,
    quote_sheet_title,
)
from sheetcrm.testing.common import (
    _DEFAULT_FORMAT,
    _DEFAULT_THEME,
    DEFAULT_COLUMNS,
    DEFAULT_ROWS,
    ApiError,
    Json,
    MaskTree,
    _bad_request,
    _RequestError,
)
from sheetcrm.testing.formulas import (
    _ERROR_LITERAL_RE,
    _FNUM_RE,
    _IDENT_RE,
    _REF_RE,
    FValue,
    _Blank,
    _Evaluator,
    _sort_rank,
)
from sheetcrm.testing.values import Cell

# --------------------------------------------------------------------------------------
# Spreadsheet model
# --------------------------------------------------------------------------------------

Dimension = Literal["ROWS", "COLUMNS"]
_SHEET_EXTRA_PROPS = ("tabColor", "tabColorStyle", "rightToLeft", "dataSourceSheetProperties")
_PRESENTATION_KEYS = ("merges", "conditionalFormats", "bandedRanges", "basicFilter", "charts")


def _now_iso() -> str:
    now = _dt.datetime.now(_dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _copy_props(props: dict[str, Any]) -> dict[str, Any]:
    """A copy of one row's (column's) properties to change: its list of developer
    metadata entries is copied, the entries (flat dicts) are not (``metadata.update``
    replaces one rather than change it); anything else deep-copied."""
    out: dict[str, Any] = {}
    for key, value in props.items():
        if key == "developerMetadata" and all(type(e) is dict for e in value):
            out[key] = list(value)
        elif isinstance(value, dict | list):
            out[key] = copy.deepcopy(value)
        else:
            out[key] = value
    return out


#: Sheet generations (see ``Sheet.clone``); ``next`` on it is atomic under the GIL.
_GENERATIONS = itertools.count(1)


@dataclass
class Sheet:
    """One tab: grid properties plus a sparse grid ``cells[row][col]`` (0-based)."""

    sheet_id: int
    title: str
    row_count: int = DEFAULT_ROWS
    col_count: int = DEFAULT_COLUMNS
    frozen_rows: int = 0
    frozen_cols: int = 0
    hidden: bool = False
    hide_gridlines: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    cells: dict[int, dict[int, Cell]] = field(default_factory=dict)
    protected_ranges: list[dict[str, Any]] = field(default_factory=list)
    depths: dict[str, dict[int, int]] = field(default_factory=lambda: {"ROWS": {}, "COLUMNS": {}})
    group_control_after: dict[str, bool] = field(default_factory=dict)
    dim_props: dict[str, dict[int, dict[str, Any]]] = field(default_factory=lambda: {"ROWS": {}, "COLUMNS": {}})
    presentation: dict[str, Any] = field(default_factory=dict)
    # Copy on write. A clone shares its row dicts, their cells and its row/column
    # properties with the sheet it came from, and both sides take a new generation. Each
    # copies a row dict (a properties dict) before its first change and lists it here as
    # its own, and a cell unless the cell carries its generation. A batchUpdate works on a
    # clone (all or nothing), so it costs what it changes, not the whole spreadsheet: a
    # full copy per request made a sync's write quadratic (5.7M cells, ~55 requests).
    # Whatever changes a stored cell or a row's properties goes through ``ensure``,
    # ``cell_for_write``, ``row_for_write`` or ``props_for_write``; whatever moves row
    # dicts or properties to other indexes calls ``disown``.
    _gen: int = field(default_factory=lambda: next(_GENERATIONS), repr=False, compare=False)
    _own_rows: set[int] = field(default_factory=set, repr=False, compare=False)
    _own_props: dict[str, set[int]] = field(
        default_factory=lambda: {"ROWS": set(), "COLUMNS": set()}, repr=False, compare=False
    )

    def clone(self) -> Sheet:
        """An independent copy (copy on write: cells and row/column properties are shared
        until either side changes them)."""
        other = copy.copy(self)
        other.cells = dict(self.cells)
        for name in (
            "extra", "protected_ranges", "depths", "group_control_after", "presentation",
        ):  # fmt: skip
            setattr(other, name, copy.deepcopy(getattr(self, name)))
        other.dim_props = {dim: dict(by_index) for dim, by_index in self.dim_props.items()}
        for sheet in (self, other):
            sheet._gen = next(_GENERATIONS)
            sheet._own_rows = set()
            sheet._own_props = {"ROWS": set(), "COLUMNS": set()}
        return other

    def get(self, row: int, col: int) -> Cell | None:
        """The stored cell at (row, col) or None (to read: see ``cell_for_write``)."""
        row_cells = self.cells.get(row)
        return None if row_cells is None else row_cells.get(col)

    def row_for_write(self, row: int) -> dict[int, Cell] | None:
        """The stored cells of ``row`` (None if it has none) in a dict this sheet's own to
        add cells to or remove them from; the cells in it may be shared (``cell_for_write``)."""
        row_cells = self.cells.get(row)
        if row_cells is None or row in self._own_rows:
            return row_cells
        row_cells = self.cells[row] = dict(row_cells)
        self._own_rows.add(row)
        return row_cells

    def cell_for_write(self, row: int, col: int) -> Cell | None:
        """The stored cell at (row, col) or None, this sheet's own to change."""
        cell = self.get(row, col)
        if cell is None or cell.gen == self._gen:
            return cell
        row_cells = self.row_for_write(row)
        assert row_cells is not None
        cell = row_cells[col] = Cell(cell.value, cell.formula, cell.fmt, cell.note, cell.validation, self._gen)
        return cell

    def ensure(self, row: int, col: int) -> Cell:
        """The cell at (row, col), created empty if absent; this sheet's own to change."""
        cell = self.cell_for_write(row, col)
        if cell is None:
            row_cells = self.row_for_write(row)
            if row_cells is None:
                row_cells = self.cells[row] = {}
                self._own_rows.add(row)
            cell = row_cells[col] = Cell(gen=self._gen)
        return cell

    def prune(self, row: int, col: int) -> None:
        """Forget the cell at (row, col) if nothing is stored in it any more."""
        row_cells = self.cells.get(row)
        if row_cells is None:
            return
        cell = row_cells.get(col)
        if cell is not None and cell.vacant():
            row_cells = self.row_for_write(row)
            assert row_cells is not None
            del row_cells[col]
        if not row_cells:
            del self.cells[row]
            self._own_rows.discard(row)

    def props_for_write(self, dim: str, index: int) -> dict[str, Any]:
        """The properties of row (column) ``index``, created empty if absent; this sheet's
        own to change. Developer metadata entries stay shared: change a copy."""
        table = self.dim_props[dim]
        props = table.get(index)
        if props is None:
            props = table[index] = {}
        elif index not in self._own_props[dim]:
            props = table[index] = _copy_props(props)
        self._own_props[dim].add(index)
        return props

    def disown(self, dim: str | None = None) -> None:
        """Forget which row dicts (``dim``'s properties) are this sheet's own: call after
        moving them to other indexes."""
        if dim is None:
            self._own_rows = set()
        else:
            self._own_props[dim] = set()

    def iter_cells(self) -> Iterator[tuple[int, int, Cell]]:
        """Every stored cell as (row, col, cell)."""
        for r, row_cells in self.cells.items():
            for c, cell in row_cells.items():
                yield r, c, cell

    def remap(self, fn: Callable[[int, int], tuple[int, int] | None]) -> None:
        """Move every stored cell to ``fn(row, col)``; cells mapped to None are dropped."""
        moved: dict[int, dict[int, Cell]] = {}
        for r, c, cell in self.iter_cells():
            pos = fn(r, c)
            if pos is not None:
                moved.setdefault(pos[0], {})[pos[1]] = cell
        self.cells = moved
        self.disown()

    def value_bounds(self) -> tuple[int, int]:
        """(rows, cols) just covering every cell that holds a value."""
        rows = cols = 0
        for r, c, cell in self.iter_cells():
            if cell.value is not None:
                rows = max(rows, r + 1)
                cols = max(cols, c + 1)
        return rows, cols

    def count(self, dim: str) -> int:
        return self.row_count if dim == "ROWS" else self.col_count

    def properties(self, index: int) -> dict[str, Any]:
        """This sheet's ``SheetProperties`` as Google returns them (zero values omitted)."""
        grid: dict[str, Any] = {"rowCount": self.row_count, "columnCount": self.col_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_cols:
            grid["frozenColumnCount"] = self.frozen_cols
        if self.hide_gridlines:
            grid["hideGridlines"] = True
        if self.group_control_after.get("ROWS"):
            grid["rowGroupControlAfter"] = True
        if self.group_control_after.get("COLUMNS"):
            grid["columnGroupControlAfter"] = True
        props: dict[str, Any] = {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }
        if self.hidden:
            props["hidden"] = True
        props.update(copy.deepcopy(self.extra))
        return props

    def groups(self, dim: str) -> list[dict[str, Any]]:
        """Dimension groups derived from per-index depths, as ``DimensionGroup`` dicts."""
        depths = self.depths[dim]
        if not depths:
            return []
        out: list[dict[str, Any]] = []
        for level in range(1, max(depths.values()) + 1):
            start: int | None = None
            for index in range(min(depths), max(depths) + 2):
                inside = depths.get(index, 0) >= level
                if inside and start is None:
                    start = index
                elif not inside and start is not None:
                    out.append(
                        {
                            "range": {"dimension": dim, "startIndex": start, "endIndex": index},
                            "depth": level,
                        }
                    )
                    start = None
        out.sort(key=lambda g: (g["range"]["startIndex"], g["depth"]))
        if self.sheet_id:
            for group in out:
                group["range"] = {"sheetId": self.sheet_id, **group["range"]}
        return out


@dataclass
class Spreadsheet:
    """A spreadsheet (one Drive file): properties, sheets and Drive-side metadata."""

    spreadsheet_id: str
    title: str
    sheets: list[Sheet] = field(default_factory=list)
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    auto_recalc: str = "ON_CHANGE"
    extra: dict[str, Any] = field(default_factory=dict)
    private: bool = False
    created_time: str = field(default_factory=_now_iso)
    modified_time: str = field(default_factory=_now_iso)
    permissions: list[dict[str, Any]] = field(default_factory=list)
    named_ranges: list[dict[str, Any]] = field(default_factory=list)
    app_properties: dict[str, str] = field(default_factory=dict)

    def clone(self) -> Spreadsheet:
        """An independent copy, for all-or-nothing batch updates."""
        other = copy.copy(self)
        other.sheets = [sheet.clone() for sheet in self.sheets]
        other.extra = copy.deepcopy(self.extra)
        other.permissions = copy.deepcopy(self.permissions)
        other.named_ranges = copy.deepcopy(self.named_ranges)
        return other

    def find_sheet(self, title: str) -> Sheet | None:
        """Sheet by title: exact match first, then case-insensitive (as Google resolves)."""
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        folded = title.casefold()
        for sheet in self.sheets:
            if sheet.title.casefold() == folded:
                return sheet
        return None

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        return None

    def index_of(self, sheet: Sheet) -> int:
        return next(i for i, s in enumerate(self.sheets) if s is sheet)

    def properties(self) -> dict[str, Any]:
        """``SpreadsheetProperties`` as Google returns them."""
        props: dict[str, Any] = {
            "title": self.title,
            "locale": self.locale,
            "autoRecalc": self.auto_recalc,
            "timeZone": self.time_zone,
            "defaultFormat": copy.deepcopy(_DEFAULT_FORMAT),
            "spreadsheetTheme": copy.deepcopy(_DEFAULT_THEME),
        }
        props.update(copy.deepcopy(self.extra))
        return props

    def touch(self) -> None:
        self.modified_time = _now_iso()


# --------------------------------------------------------------------------------------
# Grid geometry helpers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Box:
    """A resolved, bounded, half-open rectangle on one sheet."""

    sheet: Sheet
    r0: int
    c0: int
    r1: int
    c1: int

    @property
    def rows(self) -> int:
        return self.r1 - self.r0

    @property
    def cols(self) -> int:
        return self.c1 - self.c0

    def a1(self, *, always_quote: bool = False) -> str:
        return format_grid_range(self.sheet.title, self.r0, self.c0, self.r1, self.c1, always_quote=always_quote)


def _exceeds_grid(sheet: Sheet, r0: int, c0: int, r1: int, c1: int) -> ApiError:
    text = format_grid_range(sheet.title, r0, c0, max(r1, r0 + 1), max(c1, c0 + 1), always_quote=True)
    return _bad_request(
        f"Range ({text}) exceeds grid limits. Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
    )


def _grid_box(sheet: Sheet, grid_range: Mapping[str, Any], *, clip: bool = False) -> _Box:
    """Resolve a ``GridRange`` dict (missing indices = unbounded) to a box on ``sheet``."""
    r0 = int(grid_range.get("startRowIndex") or 0)
    c0 = int(grid_range.get("startColumnIndex") or 0)
    r1_raw = grid_range.get("endRowIndex")
    c1_raw = grid_range.get("endColumnIndex")
    r1 = sheet.row_count if r1_raw is None else int(r1_raw)
    c1 = sheet.col_count if c1_raw is None else int(c1_raw)
    if r0 < 0 or c0 < 0 or r1 < r0 or c1 < c0:
        raise _RequestError("The range is invalid: start indices must not exceed end indices.")
    if clip:
        r1, c1 = min(r1, sheet.row_count), min(c1, sheet.col_count)
    elif r1 > sheet.row_count or c1 > sheet.col_count:
        raise _RequestError(str(_exceeds_grid(sheet, r0, c0, r1, c1).message))
    return _Box(sheet, r0, c0, r1, c1)


def _shift_index_insert(index: int | None, at: int, count: int, *, is_end: bool) -> int | None:
    if index is None:
        return None
    if index > at or (index == at and not is_end):
        return index + count
    return index


def _shift_index_delete(index: int | None, start: int, end: int) -> int | None:
    if index is None:
        return None
    if index <= start:
        return index
    if index >= end:
        return index - (end - start)
    return start


_DIM_KEYS = {
    "ROWS": ("startRowIndex", "endRowIndex"),
    "COLUMNS": ("startColumnIndex", "endColumnIndex"),
}


def _shift_grid_range(
    grid_range: dict[str, Any],
    dim: str,
    *,
    insert: tuple[int, int] | None = None,
    delete: tuple[int, int] | None = None,
) -> bool:
    """Adjust a GridRange in place for an insert or delete; False when nothing is left."""
    start_key, end_key = _DIM_KEYS[dim]
    start, end = grid_range.get(start_key), grid_range.get(end_key)
    if insert is not None:
        at, count = insert
        start = _shift_index_insert(start, at, count, is_end=False)
        end = _shift_index_insert(end, at, count, is_end=True)
    elif delete is not None:
        start = _shift_index_delete(start, *delete)
        end = _shift_index_delete(end, *delete)
        if start is not None and end is not None and end <= start:
            return False
    for key, value in ((start_key, start), (end_key, end)):
        if value is not None:
            grid_range[key] = value
    return True


def _each_presentation_range(sheet: Sheet) -> Iterator[tuple[list[Any], int, dict[str, Any]]]:
    """Yield (owner list, index, GridRange) for every stored range that moves with the grid."""
    for owner in (sheet.protected_ranges, sheet.presentation.get("merges", [])):
        for i, item in enumerate(owner):
            grid = item.get("range", item) if owner is sheet.protected_ranges else item
            yield owner, i, grid


_REF_ENDPOINT_RE = re.compile(r"^(\$?)([A-Za-z]{0,3})(\$?)(\d*)$")


def _shift_ref(ref: str, dim: str, shift: Callable[[int, str], int | None]) -> str:
    """Rewrite one reference (``A5``, ``$B$2:C9``, ``A:A``, ``3:4``) for a row/column move."""
    ends = ref.split(":")
    parsed = []
    for text in ends:
        m = _REF_ENDPOINT_RE.match(text)
        if m is None:
            return ref
        parsed.append(list(m.groups()))
    for i, parts in enumerate(parsed):
        role = "cell" if len(parsed) == 1 else ("start" if i == 0 else "end")
        if dim == "ROWS" and parts[3]:
            moved = shift(int(parts[3]) - 1, role)
            if moved is None or moved < 0:
                return "#REF!"
            parts[3] = str(moved + 1)
        elif dim == "COLUMNS" and parts[1]:
            moved = shift(column_index(parts[1]), role)
            if moved is None or moved < 0:
                return "#REF!"
            parts[1] = column_letters(moved)
    if len(parsed) == 2:
        index = 3 if dim == "ROWS" else 1
        first, last = parsed[0][index], parsed[1][index]
        if first and last:
            as_int = int if dim == "ROWS" else column_index
            if as_int(last) < as_int(first):
                return "#REF!"
    return ":".join("".join(p) for p in parsed)


RefRewriter: TypeAlias = Callable[[str | None, str, str], str]


def _rewrite_book_formulas(book: Spreadsheet, rewrite_for: Callable[[Sheet], RefRewriter]) -> None:
    """Rewrite the references of every formula in ``book``.

    ``rewrite_for(home_sheet)`` returns a function ``(title, sheet_prefix, ref) -> text``
    for formulas living on ``home_sheet`` (``title`` is None for unqualified references).
    """
    for sheet in book.sheets:
        rewrite = rewrite_for(sheet)
        formulas = [(r, c, cell.value) for r, c, cell in sheet.iter_cells() if cell.formula]
        for r, c, text in formulas:
            if isinstance(text, str) and (new := _rewrite_formula_refs(text, rewrite)) != text:
                owned = sheet.cell_for_write(r, c)
                assert owned is not None
                owned.value = new


def _shift_formulas(book: Spreadsheet, target: Sheet, dim: str, shift: Callable[[int, str], int | None]) -> None:
    """Rewrite every formula reference to ``target`` after its rows/columns moved."""

    def rewrite_for(home: Sheet) -> RefRewriter:
        def rewrite(title: str | None, prefix: str, ref: str) -> str:
            if (home if title is None else book.find_sheet(title)) is not target:
                return prefix + ref
            moved = _shift_ref(ref, dim, shift)
            return moved if moved == "#REF!" else prefix + moved

        return rewrite

    _rewrite_book_formulas(book, rewrite_for)


def rename_in_formulas(book: Spreadsheet, old_title: str, new_title: str) -> None:
    """Point ``'Old'!A1``-style references at a renamed sheet, as Google does on rename."""

    def rewrite(title: str | None, prefix: str, ref: str) -> str:
        if title is not None and title.casefold() == old_title.casefold():
            return quote_sheet_title(new_title) + "!" + ref
        return prefix + ref

    _rewrite_book_formulas(book, lambda _home: rewrite)


def _rewrite_formula_refs(formula: str, rewrite: RefRewriter) -> str:
    """Pass each reference of one formula through ``rewrite``; strings stay untouched."""
    out: list[str] = []
    i = 0
    text = formula
    while i < len(text):
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < len(text):
                if text[j] == '"':
                    if j + 1 < len(text) and text[j + 1] == '"':
                        j += 2
                        continue
                    break
                j += 1
            out.append(text[i : j + 1])
            i = j + 1
            continue
        m = _ERROR_LITERAL_RE.match(text, i)
        if m is None and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_.$")):
            m = _REF_RE.match(text, i)
            if m is not None:
                prefix = m.group("sheet") or ""
                title = None
                if prefix:
                    raw = prefix[:-1]
                    title = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
                out.append(rewrite(title, prefix, m.group("ref")))
                i = m.end()
                continue
        m = m or _FNUM_RE.match(text, i) or _IDENT_RE.match(text, i)
        if m is not None and m.end() > i:
            out.append(m.group(0))
            i = m.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def insert_dimension(sheet: Sheet, dim: str, at: int, count: int, book: Spreadsheet | None = None) -> None:
    """Insert ``count`` empty rows/columns before index ``at`` (0-based).

    With ``book``, formulas anywhere in it that point at this sheet are rewritten the way
    Google rewrites them (``=A5`` becomes ``=A6`` when a row is inserted above row 5).
    """
    if book is not None:
        _shift_formulas(book, sheet, dim, lambda i, role: i + count if i >= at else i)
    if dim == "ROWS":
        sheet.remap(lambda r, c: (r + count if r >= at else r, c))
        sheet.row_count += count
        if at < sheet.frozen_rows:
            sheet.frozen_rows += count
    else:
        sheet.remap(lambda r, c: (r, c + count if c >= at else c))
        sheet.col_count += count
        if at < sheet.frozen_cols:
            sheet.frozen_cols += count
    for _owner, _i, grid in list(_each_presentation_range(sheet)):
        _shift_grid_range(grid, dim, insert=(at, count))
    depths = sheet.depths[dim]
    inherited = min(depths.get(at - 1, 0), depths.get(at, 0))
    shifted = {(k + count if k >= at else k): v for k, v in depths.items()}
    for k in range(at, at + count):
        if inherited:
            shifted[k] = inherited
    sheet.depths[dim] = shifted
    props = sheet.dim_props[dim]
    sheet.dim_props[dim] = {(k + count if k >= at else k): v for k, v in props.items()}
    sheet.disown(dim)


def delete_dimension(sheet: Sheet, dim: str, start: int, end: int, book: Spreadsheet | None = None) -> None:
    """Delete rows/columns ``[start, end)``; everything below/right moves up/left.

    With ``book``, formulas pointing at this sheet are rewritten; references to deleted
    cells become ``#REF!``, ranges shrink.
    """
    count = end - start
    if book is not None:

        def shift(index: int, role: str) -> int | None:
            if index < start:
                return index
            if index >= end:
                return index - count
            # Inside the deleted block: a lone cell is gone, a range edge snaps to its rim.
            return {"start": start, "end": start - 1}.get(role)

        _shift_formulas(book, sheet, dim, shift)

    def move(index: int) -> int | None:
        if index < start:
            return index
        if index >= end:
            return index - count
        return None

    if dim == "ROWS":

        def move_row(r: int, c: int) -> tuple[int, int] | None:
            moved = move(r)
            return None if moved is None else (moved, c)

        sheet.remap(move_row)
        sheet.row_count -= count
        sheet.frozen_rows -= max(0, min(end, sheet.frozen_rows) - start)
    else:

        def move_col(r: int, c: int) -> tuple[int, int] | None:
            moved = move(c)
            return None if moved is None else (r, moved)

        sheet.remap(move_col)
        sheet.col_count -= count
        sheet.frozen_cols -= max(0, min(end, sheet.frozen_cols) - start)
    for owner in (sheet.protected_ranges, sheet.presentation.get("merges", [])):
        keep = []
        for item in owner:
            grid = item.get("range", item) if owner is sheet.protected_ranges else item
            if _shift_grid_range(grid, dim, delete=(start, end)):
                keep.append(item)
        owner[:] = keep
    for key in ("depths", "dim_props"):
        table: dict[str, dict[int, Any]] = getattr(sheet, key)
        table[dim] = {moved: v for k, v in table[dim].items() if (moved := move(k)) is not None}
    sheet.disown(dim)


def resize_sheet(sheet: Sheet, rows: int, cols: int, book: Spreadsheet | None = None) -> None:
    """Set the grid size; shrinking drops whatever lies outside."""
    if rows < sheet.row_count:
        delete_dimension(sheet, "ROWS", rows, sheet.row_count, book)
    elif rows > sheet.row_count:
        sheet.row_count = rows
    if cols < sheet.col_count:
        delete_dimension(sheet, "COLUMNS", cols, sheet.col_count, book)
    elif cols > sheet.col_count:
        sheet.col_count = cols


def _sort_key(value: FValue, descending: bool) -> tuple[int, Any]:
    """Sort key that keeps blanks last in either direction (as Google does)."""
    if isinstance(value, _Blank) or value == "":
        return (1, 0)
    rank, inner = _sort_rank(value)
    if descending:
        # Negate by rank and value so a plain ascending sort yields descending order.
        if isinstance(inner, float):
            return (0, (-rank, -inner))
        return (0, (-rank, _Reversed(inner)))
    return (0, (rank, inner))


@dataclass(frozen=True)
class _Reversed:
    """Wraps a value so that comparisons are inverted (for descending text sorts)."""

    value: Any

    def __lt__(self, other: _Reversed) -> bool:
        return bool(self.value > other.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


def sort_box(book: Spreadsheet, box: _Box, specs: Sequence[tuple[int, bool]]) -> None:
    """Stable-sort the rows of ``box`` by (column index, descending) specs.

    Only cells inside the box's columns move, exactly like the Sheets UI and API.
    """
    evaluator = _Evaluator(book)
    sheet = box.sheet
    rows = list(range(box.r0, box.r1))
    snapshot = {r: {c: sheet.get(r, c) for c in range(box.c0, box.c1)} for r in rows}
    values = {r: {col: evaluator.cell_value(sheet, r, col) for col, _ in specs} for r in rows}

    def key(row: int) -> tuple[Any, ...]:
        return tuple(_sort_key(values[row][col], desc) for col, desc in specs)

    ordered = sorted(rows, key=key)
    from sheetcrm.testing.metadata import carry_through_sort  # it imports this module

    whole_rows = all(c0 >= box.c0 and c1 <= box.c1 for c0, c1 in _value_cols(sheet, rows))
    carry_through_sort(sheet, box.r0, ordered, whole_rows)
    for target, source in zip(rows, ordered, strict=True):
        row_cells = sheet.row_for_write(target)
        if row_cells is None:
            row_cells = sheet.cells[target] = {}
        for c in range(box.c0, box.c1):
            cell = snapshot[source][c]
            if cell is None:
                row_cells.pop(c, None)
            else:
                row_cells[c] = cell
        if not row_cells:
            del sheet.cells[target]


def _value_cols(sheet: Sheet, rows: Sequence[int]) -> Iterator[tuple[int, int]]:
    """(first, last + 1) column holding a value, per row of ``rows`` that has one."""
    for r in rows:
        cols = [c for c, cell in sheet.cells.get(r, {}).items() if cell.value is not None or cell.formula]
        if cols:
            yield min(cols), max(cols) + 1


def _current_region(sheet: Sheet, row: int, col: int) -> tuple[int, int, int, int]:
    """The table around a non-empty cell: grow the box while any neighbour has a value.

    Neighbours include diagonals, like Ctrl+A / Excel's CurrentRegion, which is how the
    Sheets ``values.append`` call finds the "table" it appends to.
    """
    r0, c0, r1, c1 = row, col, row + 1, col + 1

    def row_has(r: int) -> bool:
        return any(c0 - 1 <= c <= c1 and cell.value is not None for c, cell in sheet.cells.get(r, {}).items())

    def col_has(c: int) -> bool:
        return any(
            r0 - 1 <= r <= r1 and (cell := cells.get(c)) is not None and cell.value is not None
            for r, cells in sheet.cells.items()
        )

    # Grow one edge at a time so a tall table costs O(rows), not O(rows^2).
    while True:
        grown = False
        while r0 > 0 and row_has(r0 - 1):
            r0, grown = r0 - 1, True
        while r1 < sheet.row_count and row_has(r1):
            r1, grown = r1 + 1, True
        while c0 > 0 and col_has(c0 - 1):
            c0, grown = c0 - 1, True
        while c1 < sheet.col_count and col_has(c1):
            c1, grown = c1 + 1, True
        if not grown:
            return r0, c0, r1, c1


# --------------------------------------------------------------------------------------
# Field masks (the ``fields`` query parameter and the ``fields`` of update requests)
# --------------------------------------------------------------------------------------


def parse_field_mask(text: str) -> MaskTree:
    """Parse ``sheets(properties(title,index)),spreadsheetId`` or ``a/b,a.c`` into a tree.

    The tree maps a field name to its sub-tree; ``None`` means "the whole field". ``*``
    (alone) returns None: everything.
    """
    pos = 0

    def parse_list(closing: str | None) -> dict[str, Any]:
        nonlocal pos
        tree: dict[str, Any] = {}
        while pos < len(text):
            if text[pos] in ", ":
                pos += 1
                continue
            if closing is not None and text[pos] == closing:
                pos += 1
                return tree
            start = pos
            while pos < len(text) and text[pos] not in ",()":
                pos += 1
            path = [p for p in re.split(r"[./]", text[start:pos].strip()) if p]
            sub: Any = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = parse_list(")")
            _merge_path(tree, path, sub)
        if closing is not None:
            raise ValueError(f"unbalanced parentheses in field mask {text!r}")
        return tree

    tree = parse_list(None)
    if "*" in tree and tree["*"] is None:
        return None
    return tree


def _merge_path(tree: dict[str, Any], path: list[str], sub: Any) -> None:
    if not path:
        return
    node = tree
    for name in path[:-1]:
        existing = node.get(name, {})
        if existing is None:  # already "everything"
            return
        node[name] = existing
        node = existing
    last = path[-1]
    if last in node:
        if node[last] is None or sub is None:
            node[last] = None
        else:
            for key, value in sub.items():
                _merge_path(node[last], [key], value)
    else:
        node[last] = sub


def apply_mask(obj: Json, tree: MaskTree) -> Json:
    """Keep only the parts of ``obj`` named by the mask (lists are masked element-wise)."""
    if tree is None:
        return obj
    if isinstance(obj, list):
        return [apply_mask(item, tree) for item in obj]
    if isinstance(obj, dict):
        if "*" in tree:
            return {k: apply_mask(v, tree.get(k, tree["*"])) for k, v in obj.items()}
        return {k: apply_mask(obj[k], sub) for k, sub in tree.items() if k in obj}
    return obj


def _mask_reaches(tree: MaskTree, path: Sequence[str]) -> bool:
    """Does the mask select anything at or below ``path``?"""
    node = tree
    for name in path:
        if node is None:
            return True
        if name in node:
            node = node[name]
        elif "*" in node:
            node = node["*"]
        else:
            return False
    return True


def apply_update_mask(target: dict[str, Any], source: Mapping[str, Any], tree: MaskTree) -> None:
    """Copy the masked fields from ``source`` into ``target``; masked-but-absent fields reset."""
    if tree is None:
        target.clear()
        target.update(copy.deepcopy(dict(source)))
        return
    for key, sub in tree.items():
        if key == "*":
            for name, value in source.items():
                target[name] = copy.deepcopy(value)
            continue
        if sub is None:
            if key in source and source[key] is not None:
                target[key] = copy.deepcopy(source[key])
            else:
                target.pop(key, None)
            continue
        child = target.get(key)
        if not isinstance(child, dict):
            child = {}
        src_child = source.get(key)
        apply_update_mask(child, src_child if isinstance(src_child, Mapping) else {}, sub)
        if child:
            target[key] = child
        else:
            target.pop(key, None)


def _clean_range(grid_range: Mapping[str, Any]) -> dict[str, Any]:
    """A GridRange as Google echoes it: ``sheetId`` 0 is omitted (proto3 default)."""
    return {k: v for k, v in grid_range.items() if not (k == "sheetId" and not v)}
