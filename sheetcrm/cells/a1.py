"""A1 notation as the Google Sheets v4 API reads and writes it.

Used by :mod:`sheetcrm.testing` (the local Sheets API fake). Everything here is pure:
strings in, small value objects out.

Coordinates are 0-based and half-open, like the API's ``GridRange``: row 0 is spreadsheet
row 1, and ``end_row`` is exclusive. ``None`` in a bound means "open": ``A:C`` has no row
bounds, ``1:3`` has no column bounds, ``A2:D`` has no end row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "A1Range",
    "A1SyntaxError",
    "column_index",
    "column_letters",
    "format_cell",
    "format_grid_range",
    "parse_a1",
    "parse_cell_part",
    "quote_sheet_title",
    "split_sheet",
]

# Google's limit is 18,278 columns (ZZZ); longer letter runs are not cell references.
_MAX_COLUMN_LETTERS = 3
_ENDPOINT = re.compile(r"^\$?([A-Za-z]{0,3})\$?([0-9]*)$")
_CELL_LIKE = re.compile(r"^[A-Za-z]{1,3}[0-9]+$")
_R1C1_LIKE = re.compile(r"^[Rr][0-9]*[Cc][0-9]*$")


class A1SyntaxError(ValueError):
    """The text is not a range Google could parse (the API answers 400 "Unable to parse range")."""


@dataclass(frozen=True)
class A1Range:
    """A parsed A1 range: an optional sheet title plus 0-based, half-open bounds.

    ``sheet`` is ``None`` when the text named no sheet (Google then uses the first sheet).
    ``cells`` is False when the text was only a sheet name (``'My Sheet'``), which means
    the whole grid.
    """

    sheet: str | None
    start_row: int | None = None
    start_col: int | None = None
    end_row: int | None = None
    end_col: int | None = None
    cells: bool = True


def column_letters(index: int) -> str:
    """0-based column index -> letters (0 -> ``A``, 26 -> ``AA``)."""
    if index < 0:
        raise ValueError(f"column index must be >= 0, got {index}")
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """Column letters (any case) -> 0-based index (``A`` -> 0, ``AA`` -> 26)."""
    if not letters or not letters.isascii() or not letters.isalpha():
        raise ValueError(f"not column letters: {letters!r}")
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - ord("A") + 1)
    return n - 1


def format_cell(row: int, col: int) -> str:
    """0-based (row, col) -> ``B3``-style reference."""
    return f"{column_letters(col)}{row + 1}"


def quote_sheet_title(title: str, *, always: bool = False) -> str:
    """Return the sheet title as it appears before ``!`` in a range Google sends back.

    Google leaves simple names bare (``Sheet1!A1:Z1000``) and single-quotes the rest,
    doubling embedded quotes (``'It''s'!A1``, ``'🌵 test 1'!A1:J10``). "Simple" here means
    letters, digits and underscores, not starting with a digit, and not readable as a cell
    reference (``AB12``), an R1C1 reference or a boolean. Error messages always quote
    (``Range ('Sheet1'!A1001) exceeds grid limits``): pass ``always=True`` for those.
    """
    simple = (
        bool(title)
        and not title[0].isdigit()
        and all(ch == "_" or (ch.isalnum() and (ch.isascii() or ch.isalpha())) for ch in title)
        and not _CELL_LIKE.match(title)
        and not _R1C1_LIKE.match(title)
        and title.upper() not in ("TRUE", "FALSE")
    )
    if simple and not always:
        return title
    return "'" + title.replace("'", "''") + "'"


def format_grid_range(
    title: str,
    start_row: int,
    start_col: int,
    end_row: int,
    end_col: int,
    *,
    always_quote: bool = False,
) -> str:
    """Format a bounded, half-open range the way Google echoes it.

    A single cell collapses to ``Sheet1!B3``; anything larger is ``Sheet1!A1:D4``.
    """
    prefix = quote_sheet_title(title, always=always_quote) + "!"
    first = format_cell(start_row, start_col)
    if end_row - start_row == 1 and end_col - start_col == 1:
        return prefix + first
    return prefix + first + ":" + format_cell(end_row - 1, end_col - 1)


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """Split ``'My Sheet'!A1:B2`` into (sheet title, cell part).

    Returns ``(title, None)`` when the text is only a quoted sheet name and
    ``(None, text)`` when there is no ``!``: the caller decides whether bare text is a
    cell range or a sheet name. Unquoted titles may contain spaces (gspread sends
    ``🌵 test 1!A:A``); the split is at the last ``!``.
    """
    if text.startswith("'"):
        i = 1
        title_chars: list[str] = []
        while i < len(text):
            ch = text[i]
            if ch == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    title_chars.append("'")
                    i += 2
                    continue
                break
            title_chars.append(ch)
            i += 1
        else:
            raise A1SyntaxError(f"unterminated quoted sheet name in {text!r}")
        rest = text[i + 1 :]
        title = "".join(title_chars)
        if rest == "":
            return title, None
        if not rest.startswith("!"):
            raise A1SyntaxError(f"expected '!' after quoted sheet name in {text!r}")
        return title, rest[1:]
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, cells
    return None, text


def _parse_endpoint(text: str) -> tuple[int | None, int | None]:
    """``$B$3`` -> (col 1, row 2); ``B`` -> (1, None); ``3`` -> (None, 2)."""
    m = _ENDPOINT.match(text.strip())
    if not m or (not m.group(1) and not m.group(2)):
        raise A1SyntaxError(f"not a cell reference: {text!r}")
    letters, digits = m.group(1), m.group(2)
    if len(letters) > _MAX_COLUMN_LETTERS:
        raise A1SyntaxError(f"column out of range: {text!r}")
    col = column_index(letters) if letters else None
    row = int(digits) - 1 if digits else None
    if row is not None and row < 0:
        raise A1SyntaxError(f"row 0 does not exist: {text!r}")
    return col, row


def parse_cell_part(text: str) -> tuple[int | None, int | None, int | None, int | None]:
    """Parse the part after ``!``: returns (start_row, start_col, end_row, end_col).

    Accepts ``A1``, ``A1:D4``, ``A:C``, ``1:3``, ``A2:2`` (A2 to the end of row 2),
    ``A2:D`` (open-ended down), ``$A$1`` and reversed corners (``D4:A1``). A lone
    ``A1`` is one cell. Raises :class:`A1SyntaxError` for anything else.
    """
    if text == "":
        raise A1SyntaxError("empty range")
    first, sep, second = text.partition(":")
    c1, r1 = _parse_endpoint(first)
    if not sep:
        if c1 is None or r1 is None:
            # A lone column ("A") or row ("3") is not a range; Google reads it as a sheet name.
            raise A1SyntaxError(f"incomplete cell reference: {text!r}")
        return r1, c1, r1 + 1, c1 + 1
    c2, r2 = _parse_endpoint(second)
    if c1 is None and r1 is None:
        raise A1SyntaxError(f"not a range: {text!r}")
    if c1 is None and c2 is not None:
        raise A1SyntaxError(f"not a range: {text!r}")
    if r1 is None and r2 is not None and c1 is not None and c2 is None:
        raise A1SyntaxError(f"not a range: {text!r}")
    start_row = r1 if r1 is not None else (None if r2 is None else 0)
    start_col = c1
    end_row = r2 + 1 if r2 is not None else None
    end_col = c2 + 1 if c2 is not None else None
    if c1 is None:
        start_col = None
    # Rows-only ("1:3") are open in columns; "A2:2" starts at column A and is open to the right.
    if start_row is not None and end_row is not None and end_row <= start_row:
        start_row, end_row = end_row - 1, start_row + 1
    if start_col is not None and end_col is not None and end_col <= start_col:
        start_col, end_col = end_col - 1, start_col + 1
    return start_row, start_col, end_row, end_col


def parse_a1(text: str) -> A1Range:
    """Parse a full A1 range such as ``'It''s'!A2:D``, ``Sheet1``, ``A1:B2`` or ``公司!A:Z``.

    Text without ``!`` is a cell range on the first sheet if it parses as one and a sheet
    name otherwise (that is how Google reads ``Sheet1`` versus ``A1``). Whether a named
    sheet exists is the caller's business.
    """
    text = text.strip()
    if text == "":
        raise A1SyntaxError("empty range")
    title, cells = split_sheet(text)
    if cells is None:
        return A1Range(sheet=title, cells=False)
    if title is None:
        try:
            bounds = parse_cell_part(cells)
        except A1SyntaxError:
            return A1Range(sheet=cells, cells=False)
        return A1Range(None, *bounds)
    if title == "":
        raise A1SyntaxError(f"empty sheet name in {text!r}")
    return A1Range(title, *parse_cell_part(cells))
