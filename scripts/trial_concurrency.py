"""Randomized trials: a Google Sheets sync racing a person who edits the sheet.

    python scripts/trial_concurrency.py                      # 1000 trials, seed 1, size 0.05
    python scripts/trial_concurrency.py --trials 200 --seed 7 --size 0.1 --workers 2
    python scripts/trial_concurrency.py --late 0             # edits only before the re-read

Each trial uploads the same demo rows (one demo .xlsx, made once) into a fresh spreadsheet
on a local :class:`sheetcrm.testing.FakeSheetsServer` (one server per worker process),
opens it through the real gspread client and syncs it. A ``between_requests`` callback
plays a person: once the sync has read the sheet (request 2 done, before the re-read,
request 3) and, in a share ``--late`` of the trials, also between the re-read and the
write (request 4), it makes 1–5 random edits in the Companies, Contacts, Opportunities
and Activities tabs: inserts blank rows or new records (with a new unique ID, with an ID
sheetcrm is about to fill in elsewhere, or with none), deletes rows, sorts a tab by a
random column, types into people's cells (Name, Email, Owner, Subject, Stage, the Stage
mostly of deals the plan advances), types an ID into a row that had none, pastes a copy
of a record (a duplicate ID), or fixes a duplicate ID the way its Problems cell asks
(deletes one of its rows or gives one a new ID).

Every row is followed through those edits (an insert, a delete and a sort move rows; a
sort is followed by matching row contents), so each value the person typed is known with
the row of its record. After the sync the final sheet (``fake.get_values``) is checked:

* lost edits: a value the person typed (in an existing row or a row they inserted) that
  is no longer on its record's row;
* misplaced values: a cell the sync wrote (the cells of the values.batchUpdate body and
  the cells that differ between the sheet right before and right after the write) that
  does not hold what the plan (``result.changes``: id, column, new) intended for the
  record whose ID is on that row now, or that lands on another record's row than the one
  the plan computed it from (a row the sync read, or a row added since then when the
  record had no ID or shared it when read).

A compare-and-set write over a value the person typed counts as no loss when that value
is the one the sync read for the record now on the row (as if typed before the read).

Also counted: IDs that the sync's own writes left on two rows ("IDs duplicated") and
syncs that failed. The run is deterministic for a seed: each trial draws from
``Random(f"{seed}:{index}")`` and results are printed in trial order whatever the number
of workers. Exit status 1 when any trial lost an edit or misplaced a value (both must be
0), and also when one duplicated an ID, failed to sync or tripped the harness.

``--late 0`` keeps the person to the window the re-read guards. ``--duplicates N`` pastes
N copies of records (same ID, " (copy)" added to the name) into the rows before they are
uploaded, so the sync reads duplicate IDs and the person's edits move them about.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import re
import sys
import tempfile
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sheetcrm
from sheetcrm.backends.base import norm_cell
from sheetcrm.backends.gsheets import to_cell_json
from sheetcrm.cells.a1 import column_letters, parse_a1
from sheetcrm.schema import TABS, Stage, Tab
from sheetcrm.testing import FakeSheetsServer, ProtectedCellError, RecordedRequest, RejectedInputError

AS_OF = dt.date(2026, 11, 22)
#: The tabs the person edits and the checks cover.
RECORD_TABS = (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES)
#: People's columns the person types into, per tab (Stage has its own action).
EDITABLE = {
    Tab.COMPANIES: ("Name", "Owner"),
    Tab.CONTACTS: ("Name", "Email", "Owner"),
    Tab.OPPORTUNITIES: ("Name", "Owner"),
    Tab.ACTIVITIES: ("Subject", "Owner"),
}
#: Who the person is when not the owner.
PERSON_EMAIL = "colleague@example.com"
#: Action kinds and how often the person picks each.
ACTION_WEIGHTS = {
    "insert_blank": 1.0,
    "insert_record": 2.0,
    "delete_rows": 2.0,
    "sort": 1.5,
    "edit_cell": 3.0,
    "edit_stage": 2.0,
    "type_id": 1.0,
    "duplicate_id": 0.5,
    "fix_duplicate": 1.0,
}
STAGE_LABELS = [s.label("en") for s in Stage]
MAX_DETAILS = 8

Grid = list[list[Any]]


@dataclass(frozen=True)
class Options:
    """How the person behaves. ``late``: share of trials in which some of the edits come
    between the re-read and the write (a window the re-read cannot see)."""

    late: float = 0.2
    #: The person is the spreadsheet's owner, whom the sync's short-lived protected ranges
    #: do not stop (Google lets owners edit protected ranges); else an editor, who is.
    owner: bool = False


def load_sheets(xlsx: str | os.PathLike[str]) -> dict[str, list[list[Any]]]:
    """Every tab of an .xlsx as rows of values, ready for ``fake.create_spreadsheet`` (the
    way uploading the file to Google Drive would convert it)."""
    import openpyxl

    wb = openpyxl.load_workbook(xlsx, data_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def add_duplicates(sheets: dict[str, list[list[Any]]], n: int, seed: int | str = 1) -> dict[str, list[list[Any]]]:
    """``sheets`` with ``n`` record rows copied (same ID, " (copy)" added to the Name or
    Subject) to random rows of their tab: duplicate IDs the sync reads as such.
    Deterministic for a seed."""
    rng = random.Random(f"{seed}:duplicates")
    out = {title: [list(r) for r in rows] for title, rows in sheets.items()}
    titles = [t for t in out if Tab.parse(t) in RECORD_TABS and out[t] and "ID" in out[t][0]]
    for _ in range(n):
        rows = out[rng.choice(titles)]
        id_col = rows[0].index("ID")
        name_col = next((rows[0].index(k) for k in ("Name", "Subject") if k in rows[0]), None)
        sources = [i for i, r in enumerate(rows) if i and id_col < len(r) and norm_cell(r[id_col]) != ""]
        copy = list(rows[rng.choice(sources)])
        if name_col is not None:
            copy[name_col] = f"{copy[name_col] or ''} (copy)"
        last = max(i for i, r in enumerate(rows) if any(norm_cell(v) != "" for v in r))
        rows.insert(rng.randint(1, last + 1), copy)
    return out


def make_client(fake: FakeSheetsServer) -> Any:
    """A real gspread client with sheetcrm's retries, aimed at ``fake``, that never sleeps."""
    from google.oauth2.credentials import Credentials

    from sheetcrm.google.http import make_client as _make_client

    return _make_client(Credentials(token="trial-token"), base_url=fake.url, sleep=lambda _s: None, timeout=(5.0, 60.0))


def sheet_url(key: str) -> str:
    """The browser URL of spreadsheet ``key``."""
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"


def cell(grid: Grid, row: int, col: int) -> Any:
    """The value at 1-based ``row`` and 0-based ``col`` of a ``get_values`` grid (None past
    its trimmed edges)."""
    if row - 1 < len(grid) and col < len(grid[row - 1]):
        return grid[row - 1][col]
    return None


def row_content(grid: Grid, row: int) -> tuple[Any, ...]:
    """1-based ``row`` of ``grid`` folded for comparison, trailing blanks dropped."""
    values = [norm_cell(v) for v in (grid[row - 1] if row - 1 < len(grid) else [])]
    while values and values[-1] == "":
        values.pop()
    return tuple(values)


# ------------------------------------------------------------------------------ context


@dataclass
class TabInfo:
    """One record tab of the demo: title, header, where its ID is, its people's columns."""

    tab: Tab
    title: str
    header: list[str]
    id_col: int
    people_cols: list[int]

    def col(self, key: str) -> int | None:
        return self.header.index(key) if key in self.header else None


@dataclass
class Context:
    """What every trial starts from: the rows to upload, the record tabs, and what a sync
    of the untouched rows plans (Stage moves by ID, ID fills by row), from one dry run."""

    sheets: dict[str, list[list[Any]]]
    tabs: dict[Tab, TabInfo]
    team: list[str]
    stage_moves: dict[str, str]
    fills: dict[str, dict[int, str]]

    @classmethod
    def prepare(cls, fake: FakeSheetsServer, client: Any, sheets: dict[str, list[list[Any]]]) -> Context:
        """Upload ``sheets`` once, dry-run a sync and remember its plan; the spreadsheet is
        deleted afterwards."""
        key = fake.create_spreadsheet("trial-context", sheets)
        try:
            tabs: dict[Tab, TabInfo] = {}
            for title in fake.sheet_titles(key):
                tab = Tab.parse(title)
                if tab not in RECORD_TABS:
                    continue
                header = [str(h) for h in fake.get_values(key, title)[0]]
                computed = {c.key for c in TABS[tab].computed_columns}
                tabs[tab] = TabInfo(
                    tab, title, header, header.index("ID"), [i for i, h in enumerate(header) if h not in computed]
                )
            team_title = next(t for t in fake.sheet_titles(key) if Tab.parse(t) is Tab.TEAM)
            team = [str(r[0]) for r in fake.get_values(key, team_title)[1:] if r and r[0]]
            result = sheetcrm.open(sheet_url(key), client=client).sync(as_of=AS_OF, dry_run=True)
        finally:
            fake.delete_spreadsheet(key)
        changes = result.changes
        stage_moves = {str(r.id): str(r.new) for r in changes[changes["kind"] == "stage"].itertuples()}
        fills: dict[str, dict[int, str]] = {info.title: {} for info in tabs.values()}
        ids = changes[changes["kind"] == "id"]
        for title, row, new in zip(ids["tab"].to_list(), ids["row"].to_list(), ids["new"].to_list(), strict=True):
            fills.setdefault(str(title), {})[int(row)] = str(new)
        return cls(sheets, tabs, team, stage_moves, fills)


# -------------------------------------------------------------------------------- person


@dataclass
class Tracked:
    """The rows of one tab as the person has left them: ``tokens[i]`` names the row now at
    sheet row ``i + 2``; ``at_read`` the rows as the sync read them."""

    info: TabInfo
    tokens: list[int]
    at_read: list[int]


class Person:
    """A person editing the sheet between a sync's read and its write, as a
    ``between_requests`` callback; remembers every value typed, by row token."""

    def __init__(
        self,
        fake: FakeSheetsServer,
        key: str,
        context: Context,
        rng: random.Random,
        early: int,
        late: int,
        options: Options,
    ) -> None:
        self.fake = fake
        self.options = options
        self.key = key
        self.context = context
        self.rng = rng
        self.planned = {"early": early, "late": late}
        self.serial = 0
        self.typed = 0
        self.tabs: dict[Tab, Tracked] = {}
        for tab, info in context.tabs.items():
            n = max(len(context.sheets[info.title]) - 1, 0)
            tokens = [self._token() for _ in range(n)]
            self.tabs[tab] = Tracked(info, tokens, list(tokens))
        #: token -> column -> the value the person left there.
        self.expect: dict[int, dict[int, Any]] = {}
        #: token -> how the person knows the record (for reports).
        self.described: dict[int, str] = {}
        self.actions: list[str] = []
        self.kinds: Counter[str] = Counter()
        self.errors: list[str] = []
        self.refused = 0
        self.batch_gets = 0
        self.phase = "read"
        self.pre_write: dict[str, Grid] | None = None
        #: (request number, cells it sets) of every write request sent.
        self.sent_writes: list[tuple[int, list[dict[str, Any]]]] = []

    # -- the callback -------------------------------------------------------------

    def __call__(self, fake: FakeSheetsServer, number: int) -> None:
        """Act on the request schedule: before the re-read (2nd values.batchGet), maybe
        before the next request, and snapshot the sheet before each values.batchUpdate."""
        try:
            request: RecordedRequest = fake.requests[number - 1]
            if request.endpoint == "values.batchGet":
                self.batch_gets += 1
            # The re-read: a second values.batchGet, or the request that locks the tabs and
            # re-reads under the lock.
            reread = self.batch_gets == 2 or "addProtectedRange" in request.batch_kinds
            if self.phase == "read" and reread:
                self.phase = "reread"
                self.act(self.planned["early"], "early")
            elif self.phase == "reread":
                self.phase = "write"
                self.act(self.planned["late"], "late")
            if request.endpoint == "values.batchUpdate" or "updateCells" in request.batch_kinds:
                if self.pre_write is None:
                    self.pre_write = self.snapshot()
                    self.errors.extend(f"harness: before the write, {m}" for m in self.lost(self.pre_write))
                self.sent_writes.append((number, self._as_value_ranges(request)))
        except Exception:  # a harness bug: report it with the trial, never as a 500
            self.errors.append("harness: " + traceback.format_exc(limit=4))

    @property
    def write_bodies(self) -> list[list[dict[str, Any]]]:
        """The cells of the write requests that were applied (a write a moved row's guard
        refused changed nothing)."""
        done = {r.number for r in self.fake.requests if r.status is not None and r.status < 300}
        return [body for number, body in self.sent_writes if number in done]

    def _as_value_ranges(self, request: RecordedRequest) -> list[dict[str, Any]]:
        """The cells a write request sets, as values.batchUpdate ``data`` items."""
        body = request.json or {}
        if request.endpoint == "values.batchUpdate":
            return list(body.get("data", []))
        titles = {
            s["properties"]["sheetId"]: s["properties"]["title"]
            for s in self.fake.spreadsheet_resource(self.key)["sheets"]
        }
        out = []
        for item in body.get("requests", []):
            if "findReplace" in item:
                # A compare-and-set Stage move: it sets the cell only if the cell holds
                # ``find`` now (this runs before the request is served).
                swap = item["findReplace"]
                grid = swap["range"]
                title = titles[grid.get("sheetId", 0)]
                row, col = int(grid["startRowIndex"]) + 1, int(grid["startColumnIndex"])
                now = self.fake.get_values(self.key, title)
                held = now[row - 1][col] if row - 1 < len(now) and col < len(now[row - 1]) else None
                if norm_cell(held) == norm_cell(swap["find"]):
                    out.append({"range": f"'{title}'!{column_letters(col)}{row}", "values": [[swap["replacement"]]]})
                continue
            if "updateCells" not in item:
                continue
            grid = item["updateCells"]["range"]
            values = [
                [next(iter(v.get("userEnteredValue", {"": ""}).values())) for v in row.get("values", [])]
                for row in item["updateCells"].get("rows", [])
            ]
            start = f"{column_letters(int(grid.get('startColumnIndex', 0)))}{int(grid.get('startRowIndex', 0)) + 1}"
            out.append({"range": f"'{titles[grid.get('sheetId', 0)]}'!{start}", "values": values})
        return out

    def snapshot(self) -> dict[str, Grid]:
        """The record tabs' values now."""
        return {t.info.title: self.fake.get_values(self.key, t.info.title) for t in self.tabs.values()}

    # -- actions ------------------------------------------------------------------

    def act(self, count: int, phase: str) -> None:
        """Make ``count`` random edits, labelled with ``phase`` in the action list."""
        kinds = list(ACTION_WEIGHTS)
        weights = list(ACTION_WEIGHTS.values())
        for _ in range(count):
            done = None
            for _attempt in range(5):  # nothing to do that way (no blank ID, no duplicate): another
                kind = self.rng.choices(kinds, weights)[0]
                done = self._try(kind)
                if done is not None:
                    break
            if done is None:
                kind, done = "edit_cell", self.edit_cell()
            self.kinds[kind] += 1
            self.actions.append(f"{phase}: {done}")

    def _try(self, kind: str) -> str | None:
        """One action; an edit a protected range refuses is made by nobody (the person
        sees Google's "protected cell" message) and is counted as refused."""
        try:
            return str(getattr(self, kind)()) if kind else None
        except ProtectedCellError:
            self.refused += 1
            return f"{kind} refused: the tab is protected while sheetcrm writes"
        except RejectedInputError:
            # The owner too: sheetcrm's short-lived rule on a blank ID cell it fills.
            self.refused += 1
            return f"{kind} refused: sheetcrm is filling in that ID"

    def _token(self) -> int:
        self.serial += 1
        return self.serial

    def _next(self) -> int:
        self.typed += 1
        return self.typed

    def _grid(self, tracked: Tracked) -> Grid:
        return self.fake.get_values(self.key, tracked.info.title)

    def _tab(self) -> Tracked:
        return self.tabs[self.rng.choice(list(self.tabs))]

    def _records(self, tracked: Tracked, grid: Grid) -> list[int]:
        """Sheet rows (1-based) of the tab that hold anything."""
        return [i + 2 for i in range(len(tracked.tokens)) if row_content(grid, i + 2)]

    def _type(self, tracked: Tracked, row: int, values: dict[int, Any], about: str) -> None:
        """Type ``values`` (column -> value) into sheet row ``row`` and remember them."""
        width = max(values) + 1
        line = [values.get(c) for c in range(width)]  # None leaves a cell alone
        self.fake.set_values(self.key, tracked.info.title, f"A{row}", [line])
        token = tracked.tokens[row - 2]
        self.expect.setdefault(token, {}).update(values)
        self.described[token] = about

    def _describe(self, tracked: Tracked, grid: Grid, row: int) -> str:
        rid = norm_cell(cell(grid, row, tracked.info.id_col))
        if rid != "":
            return f"{tracked.info.title} {rid}"
        people = [norm_cell(cell(grid, row, c)) for c in tracked.info.people_cols]
        return f"{tracked.info.title} row without ID {[p for p in people if p != ''][:3]}"

    def _new_id(self, tab: Tab) -> str:
        prefix = TABS[tab].id_prefix
        width = 5 if tab is Tab.ACTIVITIES else 4
        return f"{prefix}{9 * 10 ** (width - 1) + self._next():0{width}d}"

    def _value(self, tracked: Tracked, key: str, current: Any) -> Any:
        n = self._next()
        if key == "Owner":
            return self.rng.choice([t for t in self.context.team if t != current] or ["Someone New"])
        if key == "Email":
            return f"edit{n}@example.org"
        if key == "Subject":
            return f"edited subject {n}"
        return f"Edited {tracked.info.title} {n}"

    def insert_blank(self) -> str:
        tracked = self._tab()
        at = self.rng.randint(2, len(tracked.tokens) + 2)
        n = self.rng.randint(1, 2)
        self.fake.insert_rows(self.key, tracked.info.title, at, n)
        tracked.tokens[at - 2 : at - 2] = [self._token() for _ in range(n)]
        return f"inserted {n} blank row(s) at {tracked.info.title}!{at}"

    def insert_record(self) -> str:
        tracked = self._tab()
        info = tracked.info
        at = self.rng.randint(2, len(tracked.tokens) + 2)
        self.fake.insert_rows(self.key, info.title, at, 1)
        tracked.tokens.insert(at - 2, self._token())
        roll = self.rng.random()
        fills = list(self.context.fills.get(info.title, {}).values())
        if roll < 0.15:
            rid = ""
        elif roll < 0.35 and fills:
            rid = self.rng.choice(fills)  # the next free ID, which sheetcrm fills in elsewhere
        else:
            rid = self._new_id(info.tab)
        values: dict[int, Any] = {}
        if rid:
            values[info.id_col] = rid
        for key in ("Name", "Email", "Owner", "Subject", "Stage"):
            col = info.col(key)
            if col is not None:
                values[col] = "Lead" if key == "Stage" else self._value(tracked, key, None)
        about = f"{info.title} new record {rid or '(no ID)'}"
        self._type(tracked, at, values, about)
        return f"inserted {about} at row {at}"

    def delete_rows(self) -> str | None:
        tracked = self._tab()
        if not tracked.tokens:
            return None
        start = self.rng.randint(2, len(tracked.tokens) + 1)
        end = min(start + (0 if self.rng.random() < 0.8 else self.rng.randint(1, 2)), len(tracked.tokens) + 1)
        return self._delete(tracked, start, end)

    def _delete(self, tracked: Tracked, start: int, end: int) -> str:
        grid = self._grid(tracked)
        gone = [self._describe(tracked, grid, r) for r in range(start, end + 1) if row_content(grid, r)]
        self.fake.delete_rows(self.key, tracked.info.title, start, end)
        for token in tracked.tokens[start - 2 : end - 1]:
            self.expect.pop(token, None)
        del tracked.tokens[start - 2 : end - 1]
        return f"deleted {tracked.info.title}!{start}:{end} {gone}"

    def sort(self) -> str:
        tracked = self._tab()
        info = tracked.info
        col = self.rng.choice(info.people_cols)
        descending = self.rng.random() < 0.5
        n = len(tracked.tokens)
        before = self._grid(tracked)
        self.fake.sort_rows(self.key, info.title, col + 1, start_row=2, descending=descending)
        after = self._grid(tracked)
        if len(after) - 1 > n:
            raise AssertionError(f"sort of {info.title} grew it past the rows followed")
        # A stable sort keeps rows of equal content in order: match them first come, first served.
        queues: dict[tuple[Any, ...], deque[int]] = {}
        for i, token in enumerate(tracked.tokens):
            queues.setdefault(row_content(before, i + 2), deque()).append(token)
        tracked.tokens = [queues[row_content(after, i + 2)].popleft() for i in range(n)]
        return f"sorted {info.title} by {info.header[col]} {'descending' if descending else 'ascending'}"

    def edit_cell(self) -> str:
        tracked = self._tab()
        info = tracked.info
        grid = self._grid(tracked)
        rows = self._records(tracked, grid)
        keys = [k for k in EDITABLE[info.tab] if info.col(k) is not None]
        if not rows or not keys:
            return "found nothing to edit"
        row = self.rng.choice(rows)
        key = self.rng.choice(keys)
        col = info.header.index(key)
        value = self._value(tracked, key, cell(grid, row, col))
        about = self._describe(tracked, grid, row)
        self._type(tracked, row, {col: value}, about)
        return f"typed {value!r} into {key} of {about} (row {row})"

    def edit_stage(self) -> str | None:
        tracked = self.tabs[Tab.OPPORTUNITIES]
        info = tracked.info
        stage_col = info.col("Stage")
        if stage_col is None:
            return None
        grid = self._grid(tracked)
        rows = self._records(tracked, grid)
        moved = [r for r in rows if norm_cell(cell(grid, r, info.id_col)) in self.context.stage_moves]
        if moved and self.rng.random() < 0.75:
            rows = moved
        if not rows:
            return None
        row = self.rng.choice(rows)
        current = norm_cell(cell(grid, row, stage_col))
        planned = self.context.stage_moves.get(str(norm_cell(cell(grid, row, info.id_col))))
        if planned and self.rng.random() < 0.2:
            value = planned  # the person makes the very move sheetcrm planned
        else:
            value = self.rng.choice([s for s in STAGE_LABELS if s != current])
        about = self._describe(tracked, grid, row)
        self._type(tracked, row, {stage_col: value}, about)
        return f"set Stage of {about} (row {row}) from {current!r} to {value!r}"

    def type_id(self) -> str | None:
        fill_tokens: dict[int, str] = {}
        candidates: list[tuple[Tracked, int]] = []
        for tracked in self.tabs.values():
            info = tracked.info
            for row, rid in self.context.fills.get(info.title, {}).items():
                fill_tokens[tracked.at_read[row - 2]] = rid
            grid = self._grid(tracked)
            for row in self._records(tracked, grid):
                if norm_cell(cell(grid, row, info.id_col)) == "":
                    candidates.append((tracked, row))
        if not candidates:
            return None
        planned = [(t, r) for t, r in candidates if t.tokens[r - 2] in fill_tokens]
        tracked, row = self.rng.choice(planned if planned and self.rng.random() < 0.8 else candidates)
        info = tracked.info
        own = fill_tokens.get(tracked.tokens[row - 2])
        others = [rid for rid in self.context.fills.get(info.title, {}).values() if rid != own]
        roll = self.rng.random()
        if own and roll < 0.35:
            rid = own  # the ID sheetcrm is about to fill into this very row
        elif others and roll < 0.65:
            rid = self.rng.choice(others)  # the ID sheetcrm is about to fill into another row
        else:
            rid = self._new_id(info.tab)
        grid = self._grid(tracked)
        about = self._describe(tracked, grid, row)
        self._type(tracked, row, {info.id_col: rid}, about)
        return f"typed ID {rid!r} into {about} (row {row})"

    def duplicate_id(self) -> str | None:
        tracked = self._tab()
        info = tracked.info
        grid = self._grid(tracked)
        rows = [r for r in self._records(tracked, grid) if norm_cell(cell(grid, r, info.id_col)) != ""]
        if not rows:
            return None
        source = self.rng.choice(rows)
        at = self.rng.randint(2, len(tracked.tokens) + 2)
        values = {c: cell(grid, source, c) for c in info.people_cols}
        values = {c: v for c, v in values.items() if norm_cell(v) != ""}
        self.fake.insert_rows(self.key, info.title, at, 1)
        tracked.tokens.insert(at - 2, self._token())
        about = f"{info.title} copy of {cell(grid, source, info.id_col)}"
        # Pasted as the source holds them (RAW): numbers and dates stay what they were.
        width = max(values) + 1
        self.fake.set_values(self.key, info.title, f"A{at}", [[values.get(c) for c in range(width)]], value_input="RAW")
        token = tracked.tokens[at - 2]
        self.expect.setdefault(token, {}).update(values)
        self.described[token] = about
        return f"pasted {about} at row {at}"

    def fix_duplicate(self) -> str | None:
        """What the Problems cell asks of a duplicate ID: delete one of its rows, or give
        one of them a new ID."""
        choices: list[tuple[Tracked, int]] = []
        for tracked in self.tabs.values():
            grid = self._grid(tracked)
            rows = self._records(tracked, grid)
            ids = Counter(norm_cell(cell(grid, r, tracked.info.id_col)) for r in rows)
            choices += [
                (tracked, r)
                for r in rows
                if ids[norm_cell(cell(grid, r, tracked.info.id_col))] > 1
                and norm_cell(cell(grid, r, tracked.info.id_col)) != ""
            ]
        if not choices:
            return None
        tracked, row = self.rng.choice(choices)
        if self.rng.random() < 0.5:
            return "fixed a duplicate ID: " + self._delete(tracked, row, row)
        rid = self._new_id(tracked.info.tab)
        about = self._describe(tracked, self._grid(tracked), row)
        self._type(tracked, row, {tracked.info.id_col: rid}, about)
        return f"fixed a duplicate ID: typed {rid!r} into {about} (row {row})"

    # -- checks -------------------------------------------------------------------

    def lost(self, grids: dict[str, Grid], excused: Callable[[str, int, int, Any], bool] | None = None) -> list[str]:
        """Every value the person left that ``grids`` no longer hold on its record's row
        (unless ``excused(title, row, col, value)``)."""
        out = []
        for tracked in self.tabs.values():
            grid = grids[tracked.info.title]
            for i, token in enumerate(tracked.tokens):
                for col, value in self.expect.get(token, {}).items():
                    now = cell(grid, i + 2, col)
                    if norm_cell(now) != norm_cell(value) and not (
                        excused and excused(tracked.info.title, i + 2, col, value)
                    ):
                        out.append(
                            f"{self.described[token]} (row {i + 2}) {tracked.info.header[col]}: "
                            f"the person typed {value!r}, the sheet holds {now!r}"
                        )
        return out


# -------------------------------------------------------------------------------- trials


@dataclass
class TrialResult:
    """What one trial did and found."""

    index: int
    seed: str
    actions: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    late: bool = False
    refused: int = 0
    written: int = 0
    skipped: int = 0
    skip_reasons: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)
    misplaced: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sync_failed: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.lost or self.misplaced or self.duplicated or self.errors or self.sync_failed)

    def report(self) -> list[str]:
        """Lines that say what failed and what the person did."""
        lines = [
            f"trial {self.index} (seed {self.seed!r}){' with late edits' if self.late else ''}: "
            f"{len(self.lost)} lost edit(s), {len(self.misplaced)} misplaced value(s), "
            f"{len(self.duplicated)} ID(s) duplicated, {len(self.errors)} harness error(s)"
            + (", the sync failed" if self.sync_failed else "")
        ]
        lines += [f"    person {a}" for a in self.actions]
        if self.sync_failed:
            lines.append(f"    sync failed: {self.sync_failed}")
        for label, items in (
            ("lost", self.lost),
            ("misplaced", self.misplaced),
            ("duplicated", self.duplicated),
            ("error", self.errors),
        ):
            lines += [f"    {label}: {item}" for item in items[:MAX_DETAILS]]
            if len(items) > MAX_DETAILS:
                lines.append(f"    ... and {len(items) - MAX_DETAILS} more {label}")
        return lines


def _written_cells(bodies: Iterable[list[dict[str, Any]]], titles: set[str]) -> dict[tuple[str, int, int], Any]:
    """(title, 1-based row, 0-based col) -> value of every data cell in write bodies."""
    cells: dict[tuple[str, int, int], Any] = {}
    for body in bodies:
        for item in body:
            ref = parse_a1(item["range"])
            if ref.sheet not in titles or ref.start_row is None or ref.start_col is None or ref.start_row < 1:
                continue  # another tab, or a header
            for i, line in enumerate(item.get("values", [])):
                for j, value in enumerate(line):
                    cells[(ref.sheet, ref.start_row + i + 1, ref.start_col + j)] = value
    return cells


def _skip_reason(reason: str) -> str:
    """A skip reason without its particulars (values, IDs, row numbers), for counting."""
    reason = re.sub(r" to .*? since", " since", reason)
    return re.sub(r"\d+", "N", re.sub(r"\b[A-Z]+-\d+\b", "<ID>", reason))


def check(person: Person, result: Any, final: dict[str, Grid], trial: TrialResult) -> None:
    """Fill ``trial`` with lost edits, misplaced values and duplicated IDs."""
    pre = person.pre_write if person.pre_write is not None else final
    titles = {t.info.title for t in person.tabs.values()}
    by_title = {t.info.title: t for t in person.tabs.values()}
    written = _written_cells(person.write_bodies, titles)
    changes = result.changes
    # A compare-and-set write over a value the person typed is no loss when that value is
    # the very one the sync read for the record now on the row (say the person pasted a
    # copy of the record, then gave the original another ID): as if typed before the read.
    read_then: dict[tuple[str, Any, str], set[Any]] = {}
    cas = changes[changes["kind"].isin(["stage", "id"])] if len(changes) else changes
    for r in cas.itertuples() if len(cas) else ():
        read_then.setdefault((str(r.tab), norm_cell(r.id), str(r.column)), set()).add(norm_cell(r.old))

    def excused(title: str, row: int, col: int, typed: Any) -> bool:
        info = by_title[title].info
        rid = norm_cell(cell(final[title], row, info.id_col))
        return (title, row, col) in written and norm_cell(typed) in read_then.get((title, rid, info.header[col]), ())

    trial.lost.extend(person.lost(final, excused))
    cells = set(written)
    for title in titles:
        before, after = pre[title], final[title]
        for r in range(2, max(len(before), len(after)) + 1):
            width = max(len(before[r - 1]) if r <= len(before) else 0, len(after[r - 1]) if r <= len(after) else 0)
            for c in range(width):
                if norm_cell(cell(before, r, c)) != norm_cell(cell(after, r, c)):
                    cells.add((title, r, c))
    intended: dict[tuple[str, Any, str], list[tuple[int, Any]]] = {}
    filled: set[tuple[str, Any]] = set()  # (title, ID) of records that had no ID when read
    read_tokens = {title: set(tracked.at_read) for title, tracked in by_title.items()}
    for r in changes.itertuples() if len(changes) else ():
        intended.setdefault((str(r.tab), norm_cell(r.id), str(r.column)), []).append(
            (int(r.row), norm_cell(to_cell_json(r.new)))
        )
        if r.kind == "id":
            filled.add((str(r.tab), norm_cell(r.id)))
    for title, row, col in sorted(cells):
        tracked = by_title[title]
        info = tracked.info
        grid = final[title]
        column = info.header[col] if col < len(info.header) else str(cell(grid, 1, col))
        where = f"{title}!{column_letters(col)}{row} ({column})"
        if row - 2 >= len(tracked.tokens):
            trial.misplaced.append(f"{where}: written below every row followed")
            continue
        rid = norm_cell(cell(grid, row, info.id_col))
        now = norm_cell(cell(grid, row, col))
        if (title, row, col) not in written:
            trial.misplaced.append(f"{where} changed to {now!r} without being in the write")
            continue
        if norm_cell(written[(title, row, col)]) != now:
            trial.misplaced.append(f"{where}: wrote {written[(title, row, col)]!r}, the sheet holds {now!r}")
            continue
        plans = intended.get((title, rid, column), [])
        if not plans:
            trial.misplaced.append(
                f"{where}: wrote {now!r} on the row of {rid or '(no ID)'}, for which the plan has no such change"
            )
            continue
        same = [read_row for read_row, new in plans if new == now]
        if not same:
            trial.misplaced.append(f"{where}: wrote {now!r} for {rid}, but the plan has {[n for _, n in plans]!r}")
            continue
        # The ID says whose row it is; the row itself must agree. On a row the sync read,
        # only the record read there may land. On a row added since the read, the writes of
        # a record read with that ID on one row follow the ID (the person moved or copied
        # it), but not those of a record read without an ID or with its ID on several rows.
        token = tracked.tokens[row - 2]
        if token in {tracked.at_read[r - 2] for r in same if r - 2 < len(tracked.at_read)}:
            continue
        if token in read_tokens[title]:
            trial.misplaced.append(
                f"{where}: wrote {now!r} for {rid} on row {row}, another record's row "
                f"when read (the plan computed it from row(s) {same})"
            )
        elif (title, rid) in filled or len({r for r, _ in plans}) > 1:
            trial.misplaced.append(
                f"{where}: wrote {now!r} for {rid} on row {row}, a row added since the read "
                f"(the plan computed it from row(s) {same})"
            )
    for title in titles:
        id_col = by_title[title].info.id_col
        ids_before = Counter(norm_cell(cell(pre[title], r, id_col)) for r in range(2, len(pre[title]) + 1))
        ids_after = Counter(norm_cell(cell(final[title], r, id_col)) for r in range(2, len(final[title]) + 1))
        for rid, n in ids_after.items():
            if rid != "" and n > 1 and ids_before[rid] < n:
                trial.duplicated.append(f"{title} {rid}: on {ids_before[rid]} row(s) before the write, {n} after")


class TrialRunner:
    """Runs trials on one fake server with one client and one prepared :class:`Context`."""

    def __init__(self, fake: FakeSheetsServer, client: Any, sheets: dict[str, list[list[Any]]]) -> None:
        self.fake = fake
        self.client = client
        self.context = Context.prepare(fake, client, sheets)

    def run(self, index: int, seed: int | str = 1, options: Options | None = None) -> TrialResult:
        """One trial: a fresh spreadsheet, a sync raced by a person, the checks."""
        options = options or Options()
        seed_text = f"{seed}:{index}"
        rng = random.Random(seed_text)
        trial = TrialResult(index, seed_text)
        total = rng.randint(1, 5)
        n_late = rng.randint(1, total) if rng.random() < options.late else 0
        trial.late = n_late > 0
        key = self.fake.create_spreadsheet(f"trial-{index}", self.context.sheets)
        self.fake.act_as(None if options.owner else PERSON_EMAIL)
        person = Person(self.fake, key, self.context, rng, total - n_late, n_late, options)
        try:
            self.fake.reset_counters()
            self.fake.between_requests(person)
            try:
                result = sheetcrm.open(sheet_url(key), client=self.client).sync(as_of=AS_OF)
            finally:
                self.fake.clear_between_requests()
            final = person.snapshot()
            trial.actions, trial.kinds = person.actions, person.kinds
            trial.refused = person.refused
            trial.errors.extend(person.errors)
            report = result.report
            if report is not None:
                trial.written = report.written
                trial.skipped = len(report.skipped)
                trial.skip_reasons = Counter(_skip_reason(str(s["reason"])) for s in report.skipped)
            if person.phase == "read":
                trial.errors.append("harness: the sync never re-read the sheet; the person did nothing")
            check(person, result, final, trial)
        except Exception as exc:
            trial.actions, trial.kinds = person.actions, person.kinds
            trial.errors.extend(person.errors)
            trial.sync_failed = f"{type(exc).__name__}: {exc}"
        finally:
            self.fake.delete_spreadsheet(key)
        return trial


# ------------------------------------------------------------------------------- running

_RUNNER: TrialRunner | None = None
_SERVER: FakeSheetsServer | None = None


def _init_worker(xlsx: str, duplicates: int, seed: int) -> None:
    global _RUNNER, _SERVER
    _SERVER = FakeSheetsServer(seed=0, strict=False).start()
    _RUNNER = TrialRunner(_SERVER, make_client(_SERVER), add_duplicates(load_sheets(xlsx), duplicates, seed))


def _run_one(job: tuple[int, int, Options]) -> TrialResult:
    assert _RUNNER is not None
    return _RUNNER.run(*job)


def run_trials(
    xlsx: str | os.PathLike[str], trials: int, seed: int, options: Options, workers: int = 1, duplicates: int = 0
) -> Iterator[TrialResult]:
    """Run ``trials`` trials on the demo at ``xlsx`` (with ``duplicates`` pasted copies,
    see :func:`add_duplicates`) in ``workers`` processes, each with its own fake server;
    yields results in trial order."""
    jobs = [(i, seed, options) for i in range(trials)]
    if workers <= 1:
        with FakeSheetsServer(seed=0, strict=False) as fake:
            runner = TrialRunner(fake, make_client(fake), add_duplicates(load_sheets(xlsx), duplicates, seed))
            for job in jobs:
                yield runner.run(*job)
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(str(xlsx), duplicates, seed)) as pool:
        yield from pool.imap(_run_one, jobs, chunksize=max(1, min(20, trials // (workers * 8) or 1)))


@dataclass
class Totals:
    """Sums over trials."""

    trials: int = 0
    late_trials: int = 0
    failed: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    written: int = 0
    skipped: int = 0
    skip_reasons: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    misplaced: int = 0
    lost_late: int = 0
    misplaced_late: int = 0
    duplicated: int = 0
    sync_failed: int = 0
    errors: int = 0
    refused: int = 0

    def add(self, t: TrialResult) -> None:
        self.trials += 1
        self.late_trials += t.late
        self.failed += t.failed
        self.kinds.update(t.kinds)
        self.written += t.written
        self.skipped += t.skipped
        self.skip_reasons.update(t.skip_reasons)
        self.lost += len(t.lost)
        self.misplaced += len(t.misplaced)
        if t.late:
            self.lost_late += len(t.lost)
            self.misplaced_late += len(t.misplaced)
        self.duplicated += len(t.duplicated)
        self.refused += t.refused
        self.sync_failed += bool(t.sync_failed)
        self.errors += len(t.errors)

    def lines(self, elapsed: float) -> list[str]:
        kinds = ", ".join(f"{k} {self.kinds[k]}" for k in ACTION_WEIGHTS if self.kinds[k])
        reasons = "; ".join(f"{r}: {n}" for r, n in self.skip_reasons.most_common())
        return [
            f"trials: {self.trials} ({self.late_trials} with edits between the re-read and the write); "
            f"failed: {self.failed}",
            f"person actions: {sum(self.kinds.values())} ({kinds}); "
            f"refused by the sync's protected ranges or ID-fill rules: {self.refused}",
            f"cells written: {self.written}",
            f"cells skipped: {self.skipped}" + (f" ({reasons})" if reasons else ""),
            f"lost edits: {self.lost} ({self.lost_late} in trials with late edits; must be 0)",
            f"misplaced values: {self.misplaced} ({self.misplaced_late} in trials with late edits; must be 0)",
            f"IDs duplicated by the sync: {self.duplicated}",
            f"syncs that failed: {self.sync_failed}",
            f"harness errors: {self.errors}",
            f"elapsed: {elapsed:.1f} s ({elapsed / max(self.trials, 1) * 1000:.0f} ms per trial)",
        ]


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    """Command line: run the trials, print each failed trial and the totals; returns the
    exit status (1 when any trial failed)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=1000, help="number of trials (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--size", type=float, default=0.05, help="demo size (default 0.05)")
    parser.add_argument(
        "--late",
        type=float,
        default=0.2,
        help="share of trials that also edit between the re-read and the write (default 0.2)",
    )
    parser.add_argument(
        "--duplicates",
        type=int,
        default=0,
        help="copies of records (duplicate IDs) pasted into the rows before upload (default 0)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="worker processes, each with its own fake server (default: up to 2)",
    )
    parser.add_argument("--demo", type=Path, help="use this demo .xlsx instead of making one")
    parser.add_argument(
        "--owner",
        action="store_true",
        help="the person is the spreadsheet's owner, whom protected ranges do not stop (default: an editor)",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    totals = Totals()
    with tempfile.TemporaryDirectory() as tmp:
        xlsx = args.demo
        if xlsx is None:
            from sheetcrm.demo import make_demo

            xlsx = Path(tmp) / "demo.xlsx"
            make_demo(xlsx, as_of=AS_OF, size=args.size, sync=False)
        options = Options(late=args.late, owner=args.owner)
        for trial in run_trials(xlsx, args.trials, args.seed, options, args.workers, args.duplicates):
            totals.add(trial)
            if trial.failed:
                for line in trial.report():
                    out(line)
    for line in totals.lines(time.perf_counter() - start):
        out(line)
    return 1 if totals.failed else 0


if __name__ == "__main__":
    sys.exit(main())
