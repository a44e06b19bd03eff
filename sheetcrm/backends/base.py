"""What every backend does: turn a workbook into raw tabs, and a plan of cell changes
into writes. Backends know storage, not the CRM: they never parse or compute."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from sheetcrm.exceptions import Phrase, Worded
from sheetcrm.i18n import N_, tr
from sheetcrm.schema import LogField, Tab

if TYPE_CHECKING:
    from sheetcrm.backends.append import NewRows


class ChangeKind(StrEnum):
    """What a planned change is (the ``kind`` of a plan's cell, or of a skipped change)."""

    #: A computed value (sheetcrm's own column).
    COMPUTED = "computed"
    #: A missing ID filled (compare-and-set).
    ID = "id"
    #: A Stage moved (compare-and-set).
    STAGE = "stage"
    #: An Owner assigned (compare-and-set).
    OWNER = "owner"
    #: A Settings value sheetcrm keeps (the round-robin cursor).
    SETTING = "setting"
    #: A blank people's cell filled from an import (compare-and-set).
    MERGE = "merge"
    #: A new row added below a tab's table.
    APPEND = "append"


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
    #: What the backend needs back at write time about this tab as read (Google: the
    #: sheet's ID and grid size); the engine hands it to ``write`` inside the plan untouched.
    token: Any = None
    #: Merged cell ranges, 0-based and inclusive (first row, first column, last row, last
    #: column), row 0 being the header line: a person's merge down a column means its value
    #: for every row it covers (see :func:`~sheetcrm.engine.bind.bind`).
    merged: tuple[tuple[int, int, int, int], ...] = ()


@dataclass
class WritePlan:
    """Everything one sync writes, in one go.

    ``cells``: one row per cell, columns ``tab`` (Tab), ``title`` (worksheet title), ``row``
    (1-based sheet row at read time), ``col`` (0-based column index), ``record_id`` (the
    ID the row held, or will hold when the change fills it), ``id_col`` (0-based index of
    the tab's ID column, -1 when none), ``column`` (schema key), ``old`` (cell value as
    read), ``new`` (value to write, None clears), ``cas`` (compare-and-set: write only if
    the cell still holds ``old``), ``kind`` (a :class:`ChangeKind`).
    ``headers``: (Tab, title, 0-based column index, header text) for computed columns
    added to the right of a header (in row ``header_rows.get(title, 1)``). ``log``: rows for
    the Log tab, each keyed by :class:`~sheetcrm.schema.LogField` plus :data:`LOG_ABOUT`
    (the schema key of the column the row is about, for matching skipped changes) and, for a
    row standing for a run of ID fills, :data:`LOG_IDS`; the run's summary is the row marked
    :data:`LOG_SUMMARY` (notices may follow it), else the last.
    ``appends``: new rows added below a tab's last row
    (:class:`sheetcrm.backends.append.NewRows`; see that module for the rule).
    ``read``: the :attr:`RawTab.token` of each tab the plan was made from.
    """

    cells: pd.DataFrame
    headers: list[tuple[Tab, str, int, str]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    log_title: str = "Log"
    log_header: list[str] = field(default_factory=list)
    #: Worksheet title -> 1-based row of its header, for headers below title rows (absent: 1).
    header_rows: dict[str, int] = field(default_factory=dict)
    appends: list[NewRows] = field(default_factory=list)
    read: dict[Tab, Any] = field(default_factory=dict)
    #: The workbook's language: Log rows the backend rewords (a run of ID fills split
    #: by a skip) are written in it.
    language: str = "en"

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
    #: What a person should know of the write (rows added under a totals row).
    notes: list[Worded] = field(default_factory=list)


def because(template: str, **fields: Any) -> Worded:
    """Why a change was skipped (a catalog message and its fields): English text that its
    Log row tells again in the workbook's language (see :func:`reconcile_log`)."""
    return Worded(Phrase(template, fields))


def skip_reason(
    kind: str, id_col: int, held_id: Any, record_id: Any, cas: bool, current: Any, old: Any
) -> Worded | None:
    """Why a planned change must not be written at its row, or None to write it: the row
    no longer holds the record's ID, or a compare-and-set cell holds a person's formula or
    no longer holds what sync read. Told in the workbook's language in its Log."""
    if id_col >= 0 and kind != ChangeKind.ID and norm_cell(held_id) != norm_cell(record_id):
        return because(N_("row now holds ID {held}, not {record}"), held=repr(held_id), record=repr(record_id))
    if cas and isinstance(current, str) and current.startswith("="):
        return because(N_("cell holds a formula"))
    if cas and norm_cell(current) != norm_cell(old):
        return because(N_("cell changed to {value} since it was read"), value=repr(current))
    return None


#: Key of a Log row (besides the LogField keys) naming the schema key of the column it is about.
LOG_ABOUT = "about"


#: Key marking a run's summary row in a plan's ``log`` (rows after it are notices).
LOG_SUMMARY = "summary"

#: Key of a Log row standing for a run of ID fills: the IDs it stands for, in order.
LOG_IDS = "ids"

#: Between the first and last ID of a run of fills in one Log cell ("P-0001 – P-0500").
ID_RANGE = " – "

_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


def id_fill_entries(template: dict[str, Any], ids: Sequence[str], lang: str) -> list[dict[str, Any]]:
    """Log rows for IDs filled in one tab: one row per run of consecutive numbers.

    ``template`` is the row for one fill (tab, column, reason); a run of several IDs
    becomes one row whose ID and New read ``first – last`` and whose reason counts them,
    so a first sync that numbers 100,000 rows logs one row, not 100,000. Each row keeps the
    IDs it stands for under :data:`LOG_IDS`, for :func:`reconcile_log`."""
    if _one_run(ids):
        return [_fill_run(template, list(ids), lang)]
    entries: list[dict[str, Any]] = []
    run: list[str] = []
    last: tuple[str, int] | None = None
    for rid in ids:
        m = _TRAILING_NUMBER.match(rid)
        here = (m[1], int(m[2])) if m else None
        if run and not (here and last and here[0] == last[0] and here[1] == last[1] + 1):
            entries.append(_fill_run(template, run, lang))
            run = []
        run.append(rid)
        last = here
    if run:
        entries.append(_fill_run(template, run, lang))
    return entries


def id_run_part(entry: dict[str, Any], ids: Sequence[str], lang: str) -> list[dict[str, Any]]:
    """The Log rows for ``ids``, some of the IDs of the run of fills ``entry`` logs (a
    payload or a skip cut the run): ``entry`` itself when they are all of it."""
    if list(ids) == list(entry.get(LOG_IDS) or ()):
        return [entry]
    return id_fill_entries({**entry, LogField.REASON: tr(lang, "filled a missing ID")}, ids, lang)


def _one_run(ids: Sequence[str]) -> bool:
    """Whether ``ids`` are one run as :func:`~sheetcrm.engine.ids.fill_ids` issues them
    (one prefix, consecutive numbers of one width), checked without parsing each."""
    m = _TRAILING_NUMBER.match(ids[0]) if len(ids) > 1 else None
    if m is None:
        return False
    prefix, digits = m[1], m[2]
    start = int(digits)
    return list(ids) == [f"{prefix}{n:0{len(digits)}d}" for n in range(start, start + len(ids))]


def _fill_run(template: dict[str, Any], run: list[str], lang: str) -> dict[str, Any]:
    if len(run) == 1:
        return {**template, LogField.ID: run[0], LogField.NEW: run[0]}
    span = f"{run[0]}{ID_RANGE}{run[-1]}"
    reason = tr(lang, "filled {count} missing IDs", count=len(run))
    return {**template, LogField.ID: span, LogField.NEW: span, LogField.REASON: reason, LOG_IDS: run}


def reconcile_log(plan: WritePlan, skipped: list[dict[str, Any]]) -> list[list[Any]]:
    """The Log rows to write, encoded in the Log tab's column order, once the backend knows
    what it skipped: rows about ID fills, Stage moves, Owner assignments and added rows
    that did not happen say why instead (a run of ID fills is split around the skipped
    ones), and the run's summary row (marked :data:`LOG_SUMMARY`, else the last) says how
    many were skipped."""
    if not plan.log:
        return []
    gone = {(s["tab"], str(norm_cell(s.get("id"))), s.get("column")): s for s in skipped}
    rows: list[list[Any]] = []
    at = summary_at(plan.log)
    for i, entry in enumerate(plan.log):
        if i == at:
            summary = dict(entry)
            if skipped:
                summary[LogField.REASON] = tr(
                    plan.language,
                    "{reason}; {count} cell(s) skipped because the sheet changed meanwhile",
                    reason=summary[LogField.REASON],
                    count=len(skipped),
                )
            rows.append(encode_log_row(summary))
            continue
        about = entry.get(LOG_ABOUT)
        ids = entry.get(LOG_IDS)
        if ids and about and gone:
            hits = [gone.get((entry[LogField.TAB], str(norm_cell(i)), about)) for i in ids]
            if any(hits):
                made = [i for i, hit in zip(ids, hits, strict=True) if hit is None]
                rows.extend(encode_log_row(e) for e in id_run_part(entry, made, plan.language))
                rows.extend(
                    encode_log_row({**entry, LogField.ID: i, **_not_done(hit, plan.language)})
                    for i, hit in zip(ids, hits, strict=True)
                    if hit is not None
                )
                continue
        hit = gone.get((entry[LogField.TAB], str(norm_cell(entry[LogField.ID])), about)) if about else None
        if hit is not None:
            entry = {**entry, **_not_done(hit, plan.language)}
        rows.append(encode_log_row(entry))
    return rows


def summary_at(log: list[dict[str, Any]]) -> int:
    """Where a plan's ``log`` holds the run's summary: the row marked :data:`LOG_SUMMARY`
    (a sync's notices follow it), else the last."""
    return next((i for i, e in enumerate(log) if e.get(LOG_SUMMARY)), len(log) - 1)


def _not_done(hit: dict[str, Any], lang: str) -> dict[str, Any]:
    """What a Log row about a change that was skipped says instead, in ``lang``: no New,
    and why (a backend's reason is :func:`because`'s, or plain text)."""
    reason = hit["reason"]
    why = reason.in_language(lang) if isinstance(reason, Worded) else str(reason)
    said = N_("not added: {reason}") if hit.get("kind") == ChangeKind.APPEND else N_("not changed: {reason}")
    return {LogField.NEW: "", LogField.REASON: tr(lang, said, reason=why)}


def log_entry(
    time: Any,
    run: str,
    tab: str = "",
    record_id: Any = "",
    column: str = "",
    old: Any = "",
    new: Any = "",
    reason: Any = "",
    *,
    about: str | None = None,
) -> dict[str, Any]:
    """One row of a plan's ``log``. ``about``: the schema key of the cell (or, for an added
    row, "ID") the plan writes for this row, so that a backend that skips that write says
    so in this row instead; None for rows about no planned write (summaries)."""
    entry: dict[str, Any] = {
        LogField.TIME: time,
        LogField.RUN: run,
        LogField.TAB: tab,
        LogField.ID: record_id,
        LogField.COLUMN: column,
        LogField.OLD: old,
        LogField.NEW: new,
        LogField.REASON: reason,
    }
    if about is not None:
        entry[LOG_ABOUT] = about
    return entry


def encode_log_row(entry: dict[str, Any]) -> list[Any]:
    """A Log row as the cells of the Log tab, left to right."""
    return [entry.get(f, "") for f in LogField]


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
