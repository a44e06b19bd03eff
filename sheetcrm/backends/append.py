"""New rows added below a tab's table: the one rule every backend applies to a plan's
``appends`` (lead import, recorded invitations, a Settings key that was missing).

The backend looks again at the tab right before writing, so the rows land below the
table's last row as it is then, not as it was read: a person who inserted rows, typed a
new record at the bottom or moved a column meanwhile loses nothing. Blank rows inside the
table are left alone (they may be a person's spacing) and values go to the columns by
header, never by "the first column of whatever table the API detects".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sheetcrm.backends.base import ChangeKind, because, norm_cell
from sheetcrm.exceptions import Worded
from sheetcrm.i18n import N_
from sheetcrm.schema import Tab, is_total_mark


@dataclass
class NewRows:
    """Rows to add at the bottom of one tab.

    ``headers``: the header text of each column a value goes to (as read), ``cols`` their
    0-based positions at read time; ``rows``: one list of values per new row, aligned with
    ``headers``. ``id_header``: the header of the tab's ID column ("" when the rows carry
    none); ``ids``: each new row's ID, which must still be free when written (a person may
    have typed the same ID meanwhile: that row is then not added). ``header_row``: the
    1-based sheet row of the header (below any title rows). ``added``: headers of columns
    the same write adds right of the table (its plan's ``headers``), blank until it lands.
    """

    tab: Tab
    title: str
    headers: list[str]
    cols: list[int]
    rows: list[list[Any]]
    id_header: str = ""
    ids: list[Any] = field(default_factory=list)
    header_row: int = 1
    added: tuple[str, ...] = ()
    #: The header goes on over the next row (手機 | Email under a merged 聯絡方式).
    two_row_header: bool = False


@dataclass
class Placement:
    """Where a :class:`NewRows` goes in the tab as it is now: ``first_row`` (1-based sheet
    row of the first added row), ``cols`` (current 0-based positions), ``rows`` (the rows
    to write) and ``skipped`` (rows not added, with why)."""

    first_row: int
    cols: list[int]
    rows: list[list[Any]]
    skipped: list[dict[str, Any]]
    #: What a person should know of where the rows went (under a totals row).
    notes: list[Worded] = field(default_factory=list)


def last_used_row(rows: list[list[Any]]) -> int:
    """1-based sheet row of the last row with any non-blank cell, given the rows from row 2
    on (1 when the tab holds only its header)."""
    for i in range(len(rows) - 1, -1, -1):
        if any(norm_cell(v) != "" for v in rows[i]):
            return i + 2
    return 1


def place(new: NewRows, header: list[Any], rows: list[list[Any]]) -> Placement:
    """Aim ``new`` at the tab whose current first row is ``header`` and next rows (from
    row 2) are ``rows``; the header is on ``new.header_row``. A column that moved is
    followed by its header; when a header is gone, nothing is added (every row skipped,
    saying which header)."""
    if new.header_row > 1:
        header = rows[new.header_row - 2] if new.header_row - 2 < len(rows) else []
    # A header on two rows names a column in either of them.
    lines = [[norm_cell(h) for h in header]]
    if new.two_row_header and new.header_row - 1 < len(rows):
        lines.append([norm_cell(h) for h in rows[new.header_row - 1]])

    def at(want: str, col: int) -> int | None:
        if any(col < len(line) and line[col] == want for line in lines):
            return col
        return next((line.index(want) for line in lines if want in line), None)

    cols: list[int] = []
    for text, col in zip(new.headers, new.cols, strict=True):
        found = at(norm_cell(text), col)
        if found is None and text in new.added and all(col >= len(line) or line[col] == "" for line in lines):
            found = col  # its header is written in the same go
        if found is None:
            reason = because(N_("the column {column} is no longer in the header row"), column=repr(text))
            return Placement(0, [], [], [_skip(new, i, reason) for i in range(len(new.rows))])
        cols.append(found)
    kept: list[list[Any]] = []
    skipped: list[dict[str, Any]] = []
    taken: set[Any] = set()
    id_col = at(norm_cell(new.id_header), -1) if new.id_header else None
    if id_col is not None:
        taken = {norm_cell(r[id_col]) for r in rows if id_col < len(r)} - {""}
    for i, values in enumerate(new.rows):
        rid = norm_cell(new.ids[i]) if i < len(new.ids) else ""
        if rid and rid in taken:
            skipped.append(_skip(new, i, because(N_("the ID {id} was taken by a person meanwhile"), id=new.ids[i])))
            continue
        kept.append(values)
    last = last_used_row(rows)
    notes = []
    if kept and last >= 2 and is_total_mark(next((c for c in rows[last - 2] if norm_cell(c) != ""), None)):
        # Moving the totals row (and its formula's range) is the person's call, not ours.
        notes.append(
            because(
                N_("{tab}: the new rows are below its totals row (row {row}); move that row under them"),
                tab=new.title,
                row=last,
            )
        )
    return Placement(last + 1, cols, kept, skipped, notes)


def _skip(new: NewRows, i: int, reason: Worded) -> dict[str, Any]:
    return {
        "tab": new.title,
        "row": None,
        "column": "ID",
        "id": new.ids[i] if i < len(new.ids) else None,
        "reason": reason,
        "kind": ChangeKind.APPEND,
    }


def spans(cols: list[int]) -> list[tuple[int, int, list[int]]]:
    """Runs of adjacent columns: (first col, last col, indexes into ``cols``), so one
    range per run is written and a person's column between two of ours is not."""
    order = sorted(range(len(cols)), key=lambda i: cols[i])
    out: list[tuple[int, int, list[int]]] = []
    for i in order:
        if out and cols[i] == out[-1][1] + 1:
            first, _last, idx = out[-1]
            out[-1] = (first, cols[i], [*idx, i])
        else:
            out.append((cols[i], cols[i], [i]))
    return out
