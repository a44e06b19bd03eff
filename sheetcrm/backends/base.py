"""What every backend does: turn a workbook into raw tabs, and a plan of cell changes
into writes. Backends know storage, not the CRM: they never parse or compute."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from sheetcrm.schema import Tab

if TYPE_CHECKING:
    from sheetcrm.backends.append import NewRows


@dataclass
class RawTab:
    """One worksheet as read: its title, header row and data rows of raw cell values.

    ``rows[i]`` is sheet row ``i + 2`` (row 1 is the header). Rows may be shorter than the
    header (trailing blanks are not stored by every backend).
    """

    tab: Tab
    title: str
    header: list[Any]
    rows: list[list[Any]]


@dataclass
class WritePlan:
    """Everything one sync writes, in one go.

    ``cells``: one row per cell, columns ``tab`` (Tab), ``title`` (worksheet title), ``row``
    (1-based sheet row at read time), ``col`` (0-based column index), ``record_id`` (the
    ID the row held, or will hold when the change fills it), ``id_col`` (0-based index of
    the tab's ID column, -1 when none), ``column`` (schema key), ``old`` (cell value as
    read), ``new`` (value to write, None clears), ``cas`` (compare-and-set: write only if
    the cell still holds ``old``), ``kind`` ("computed", "id" or "stage").
    ``headers``: (Tab, title, 0-based column index, header text) for computed columns
    added to the right of a header. ``log``: rows (Time, Run, Tab, ID, Column, Old, New,
    Reason) appended to the Log tab. ``appends``: new rows added below a tab's last row
    (:class:`sheetcrm.backends.append.NewRows`; see that module for the rule).
    """

    cells: pd.DataFrame
    headers: list[tuple[Tab, str, int, str]] = field(default_factory=list)
    log: list[list[Any]] = field(default_factory=list)
    log_title: str = "Log"
    log_header: list[str] = field(default_factory=list)
    appends: list[NewRows] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.cells.empty and not self.headers and not self.log and not self.appends


PLAN_COLUMNS = ["tab", "title", "row", "col", "record_id", "id_col", "column", "old", "new", "cas", "kind"]


def empty_cells() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PLAN_COLUMNS})


@dataclass
class WriteReport:
    """What a backend did with a plan: cells written, cells skipped (with why) and
    requests made (1 for a file)."""

    written: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    log_rows: int = 0
    appended: int = 0


def skip_reason(kind: str, id_col: int, held_id: Any, record_id: Any, cas: bool, current: Any, old: Any) -> str | None:
    """Why a planned change must not be written at its row, or None to write it: the row
    no longer holds the record's ID, or a compare-and-set cell holds a person's formula or
    no longer holds what sync read."""
    if id_col >= 0 and kind != "id" and norm_cell(held_id) != norm_cell(record_id):
        return f"row now holds ID {held_id!r}, not {record_id!r}"
    if cas and isinstance(current, str) and current.startswith("="):
        return "cell holds a formula"
    if cas and norm_cell(current) != norm_cell(old):
        return f"cell changed to {current!r} since it was read"
    return None


def reconcile_log(plan: WritePlan, skipped: list[dict[str, Any]]) -> list[list[Any]]:
    """The Log rows to write once the backend knows what it skipped: rows about ID fills,
    Stage moves, Owner assignments and added rows that did not happen are replaced by a
    row saying why, and the run's summary row (the last) says how many were skipped."""
    if not plan.log:
        return []
    keys = _reconciled_headers()
    gone = {
        (s["tab"], str(norm_cell(s.get("id"))), s.get("column")): s for s in skipped if s.get("column") in _RECONCILED
    }
    rows: list[list[Any]] = []
    for row in plan.log[:-1]:
        hit = gone.get((row[2], str(norm_cell(row[3])), keys.get(row[4])))
        if hit is not None:
            done = "not added" if hit.get("kind") == "append" else "not changed"
            rows.append([*row[:5], row[5], "", f"{done}: {hit['reason']}"])
        else:
            rows.append(list(row))
    summary = list(plan.log[-1])
    if skipped:
        summary[-1] = f"{summary[-1]}; {len(skipped)} cell(s) skipped because the sheet changed meanwhile"
    return [*rows, summary]


#: People's columns sheetcrm writes with compare-and-set, whose Log rows are reconciled.
_RECONCILED = ("ID", "Stage", "Owner")


def _reconciled_headers() -> dict[str, str]:
    """Log Column text (English or Chinese header) -> schema key, for _RECONCILED."""
    from sheetcrm.schema import OPPORTUNITIES

    return {h: key for key in _RECONCILED for h in (key, OPPORTUNITIES.column(key).zh)}


def norm_cell(value: Any) -> Any:
    """A cell value folded for compare-and-set: blank None and "" are alike, surrounding
    spaces do not count, and 12, 12.0 and "12" are the same ID."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class Backend(Protocol):
    """A workbook store. ``read`` returns the CRM tabs it finds; ``write`` applies a plan
    and leaves every other cell, format and sheet as it was."""

    location: str

    def read(self) -> dict[Tab, RawTab]: ...

    def write(self, plan: WritePlan) -> WriteReport: ...

    def replace_tab(self, title: str, rows: list[list[Any]]) -> WriteReport:
        """Write ``rows`` as worksheet ``title`` (not a CRM tab: a report), replacing it."""
        ...
