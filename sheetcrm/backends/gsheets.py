"""The product's backend: a Google Sheets spreadsheet, reached only through gspread.

A sync that writes costs four requests (two when nothing changed) for a workbook of up to
READ_CHUNK_CELLS cells whose changes fit WRITE_PAYLOAD_BYTES; larger ones are read in
chunks of that many cells and written in payloads of that size (one request each):

1. ``spreadsheets.get`` (metadata only, no grid data): tab titles, grid sizes, protected
   ranges;
2. ``values.batchGet`` of every CRM tab, ``UNFORMATTED_VALUE`` with ``SERIAL_NUMBER`` dates;
3. one atomic ``spreadsheets.batchUpdate``: grow the grid if needed (new computed columns,
   a Log past its last row, a missing Log tab), lock every tab the plan writes (a protected
   range that stops every editor but the owner), tag their rows (rowtags.py), put a strict
   rule no entry passes on each blank ID cell it fills (it stops the owner too), and answer
   the re-read of the ID column of those tabs (the rows read and a margin) with each row's
   tag and each cell's rule, the compare-and-set columns (Stage) and the rows whose missing
   ID it fills;
4. one atomic ``spreadsheets.batchUpdate``: guards that refuse the whole request if a row
   it writes has moved since the re-read (the owner is not stopped by the lock; sync then
   re-reads and re-plans, still locked), the ID-fill rules removed, Stage moves as
   compare-and-set ``findReplace``, ``updateCells`` of values only (text stays text, like
   RAW), Log rows included, the row tags and the locks removed. A larger write goes in
   several payloads, each complete in itself (guards, rules, Stages, values and Log rows of
   the rows it writes: :class:`_PayloadPlan`); a refused one is re-planned from what the
   payloads before it wrote.

People edit while sync runs. Step 3 aims every write at the row where its record's ID is
now, skips records whose ID vanished or now appears twice, skips a Stage or ID cell that
changed since step 2, and fills a missing ID only if its row still holds exactly what was
read; the lock keeps it so until step 4 (docs/sync.md). Nothing a person typed is
overwritten; no computed value lands on another record.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import json
import math
import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import gspread
import numpy as np
import pandas as pd
from gspread.exceptions import APIError
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL, SPREADSHEET_URL
from gspread.utils import DateTimeOption, Dimension, ValueRenderOption, absolute_range_name

from sheetcrm.backends import rowtags
from sheetcrm.backends.append import NewRows, place, spans
from sheetcrm.backends.base import (
    LOG_ABOUT,
    LOG_IDS,
    LOG_SUMMARY,
    ChangeKind,
    RawTab,
    WritePlan,
    WriteReport,
    because,
    encode_log_row,
    id_run_part,
    norm_cell,
    reconcile_log,
    summary_at,
)
from sheetcrm.cells.a1 import column_letters, parse_a1
from sheetcrm.cells.serial import to_serial
from sheetcrm.exceptions import (
    AnswerLostError,
    Named,
    PermissionDeniedError,
    Phrase,
    SheetCRMError,
    Worded,
    WorkbookNotFoundError,
    WorkbookWriteError,
    shown,
)
from sheetcrm.google.http import RetriesExhaustedError
from sheetcrm.i18n import N_
from sheetcrm.schema import TABS, LogField, Tab, find_tabs

#: How the short-lived locks of a sync describe themselves (found and removed by the next
#: sync if one was ever left behind).
LOCK_DESCRIPTION = "sheetcrm sync in progress"
#: How the short-lived rule on a blank ID cell that a sync fills describes itself (what
#: Sheets shows whoever types there in that moment; found and removed by the next sync if
#: one was ever left behind).
FILL_RULE_NOTE = "sheetcrm is filling in this ID"
#: What a re-read asks of each grid: the values, the ID-fill rules and the row tags.
_REREAD_FIELDS = f"rowData.values(effectiveValue,dataValidation.inputMessage),{rowtags.ROW_TAG_FIELDS}"
#: The re-read's key (next to column indexes) for the cells of the ID column holding an ID-fill rule.
_FILL_RULES = -3
#: Cells per values.batchGet request when a tab is read in row chunks.
READ_CHUNK_CELLS = 2_000_000
#: Bytes per values.batchUpdate payload.
WRITE_PAYLOAD_BYTES = 2_000_000
_KEY_IN_URL = re.compile(r"/spreadsheets/d/([a-zA-Z0-9_-]+)")
_BARE_KEY = re.compile(r"^[a-zA-Z0-9_-]{20,}$")


def spreadsheet_key(key_or_url: str) -> str:
    """The spreadsheet key in a full sheet URL, or the bare key itself."""
    text = key_or_url.strip()
    found = _KEY_IN_URL.search(text)
    if found:
        return found.group(1)
    if _BARE_KEY.match(text):
        return text
    raise WorkbookNotFoundError(
        Phrase(
            N_(
                "{target} is neither a Google Sheets URL nor a spreadsheet key; copy the URL "
                "from the browser's address bar ({example})"
            ),
            {"target": shown(key_or_url), "example": "https://docs.google.com/spreadsheets/d/KEY/edit"},
        )
    )


def to_cell_json(value: Any) -> Any:
    """A plan value as JSON the Sheets API takes with RAW input: dates as serial numbers,
    None and NaN as "" (which clears the cell)."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.date):
        return to_serial(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass
class SheetInfo:
    title: str
    sheet_id: int
    rows: int
    cols: int
    #: Position among the spreadsheet's sheets.
    index: int = 0
    #: IDs of every sheetcrm lock on the sheet (this sync's own included).
    locks: frozenset[int] = frozenset()
    #: IDs of the locks on the sheet that a sync left behind (removed by the next write).
    stale_locks: frozenset[int] = frozenset()
    #: Merged ranges, 0-based and inclusive (first row, first column, last row, last column).
    merges: tuple[tuple[int, int, int, int], ...] = ()


def _merge(grid_range: dict[str, Any], rows: int, cols: int) -> tuple[int, int, int, int]:
    """A GridRange (end indexes exclusive, an absent bound meaning the sheet's edge) as
    (first row, first column, last row, last column), inclusive, as calamine gives them."""
    return (
        int(grid_range.get("startRowIndex", 0)),
        int(grid_range.get("startColumnIndex", 0)),
        int(grid_range.get("endRowIndex", rows)) - 1,
        int(grid_range.get("endColumnIndex", cols)) - 1,
    )


@dataclass(frozen=True)
class ReadToken:
    """What ``write`` needs from the read a plan was made from (:attr:`RawTab.token`): the
    sheet's ID, grid size and locks, its header and its rows as read (to re-target writes
    by ID, and to repair a Log tab left without its header)."""

    sheet: SheetInfo
    rows: list[list[Any]]
    header: list[Any] = field(default_factory=list)


@dataclass
class _Write:
    """What one call of ``write`` knows while it runs (never kept on the backend): the
    sheets as read (grid sizes updated as the write grows them), the rows and headers as
    read, the Log's title, and the locks."""

    sheets: dict[str, SheetInfo]
    rows: dict[str, list[list[Any]]]
    headers: dict[str, list[Any]]
    log_title: str
    log_exists: bool
    #: Locks some sync left behind, removed by this write.
    stale: list[int]
    #: Every lock of any sync the last metadata read saw.
    present: set[int] = field(default_factory=set)
    #: The sheetId chosen for a Log tab this write adds.
    log_sheet_id: int | None = None
    #: True from the moment this write's locks are known to be in place until removed.
    locked: bool = False
    #: createDeveloperMetadata requests tagging the untagged rows of the tabs written.
    new_tags: list[dict[str, Any]] = field(default_factory=list)


def _api_error(exc: APIError, key: str, credentials: Any, action: str) -> SheetCRMError:
    """A gspread APIError as a sheetcrm error that says what to do."""
    from sheetcrm.google.auth import service_account_email

    status = exc.response.status_code if exc.response is not None else 0
    if status == 404:
        return WorkbookNotFoundError(
            Phrase(
                N_("spreadsheet {key} was not found; check the key or URL (copy it from the browser's address bar)"),
                {"key": repr(key)},
            )
        )
    if status == 403 and _reason(exc) == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
        # Sharing would not help: the token itself lacks the Sheets scope.
        return PermissionDeniedError(
            Phrase(
                N_(
                    "the credentials may not {action} spreadsheet {key}: their access token lacks the Google "
                    "Sheets scope ({reason}); for a signed-in user run '{command}' "
                    "again, for other credentials grant {scope}"
                ),
                {
                    "action": Phrase(_ACTIONS[action]),
                    "key": repr(key),
                    "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    "command": "sheetcrm login",
                    "scope": "https://www.googleapis.com/auth/spreadsheets",
                },
            )
        )
    if status == 403:
        email = service_account_email(credentials)
        share = (
            Phrase(N_("share the spreadsheet with {email} (Share → add that email as Editor)"), {"email": email})
            if email
            else Phrase(N_("share the spreadsheet with the account sheetcrm signs in as"))
        )
        return PermissionDeniedError(
            Phrase(
                N_("no permission to {action} spreadsheet {key}; {share}"),
                {"action": Phrase(_ACTIONS[action]), "key": repr(key), "share": share},
            )
        )
    message = google_message(exc)
    if status == 400 and _CELL_LIMIT.search(message):
        # Only growing the grid meets the limit, and that request is atomic.
        return WorkbookWriteError(
            Phrase(
                N_(
                    "could not {action} spreadsheet {key}: the new columns and Log rows would take it past "
                    "Google's limit of 10,000,000 cells per spreadsheet ({message}); nothing was written. Make "
                    "room, then run again: delete the empty rows and columns at the end of each tab (Google "
                    "counts every cell of the grid, filled or not) and the tabs you no longer need, or move old "
                    "Activities to another spreadsheet"
                ),
                {"action": Phrase(_ACTIONS[action]), "key": repr(key), "message": message},
            )
        )
    return WorkbookWriteError(
        Phrase(
            N_("could not {action} spreadsheet {key}: {status} {message}"),
            {"action": Phrase(_ACTIONS[action]), "key": repr(key), "status": status, "message": message},
        )
    )


#: What sync was doing when Google refused, as the errors above say it.
_ACTIONS = {
    "open": N_("open"),
    "read": N_("read"),
    "write": N_("write"),
    "resize": N_("resize"),
    "unlock": N_("unlock"),
}


#: Google's answer when a request would grow a spreadsheet past its cell limit.
_CELL_LIMIT = re.compile(r"above the limit of [\d,]+ cells")


def _reason(exc: APIError) -> str:
    """The ErrorInfo reason of Google's error body ("" when there is none)."""
    try:
        details = exc.response.json()["error"].get("details", [])
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""
    return next((str(d.get("reason")) for d in details if isinstance(d, dict) and d.get("reason")), "")


def google_message(exc: APIError) -> str:
    """Google's own error message from an APIError's JSON body."""
    try:
        return str(exc.response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return "the Google Sheets API refused the request"


class GoogleSheetsBackend:
    """A CRM workbook in Google Sheets, reached through ``client`` (a gspread.Client).
    It keeps no state between calls: what ``write`` needs from the read travels in the
    plan (:class:`ReadToken`)."""

    def __init__(self, key_or_url: str, client: gspread.Client, credentials: Any = None) -> None:
        self.key = spreadsheet_key(key_or_url)
        self.client = client
        self.credentials = credentials
        self.location = f"https://docs.google.com/spreadsheets/d/{self.key}"

    @property
    def http(self) -> Any:
        return self.client.http_client

    # ---------------------------------------------------------------- read

    def metadata(self) -> dict[str, SheetInfo]:
        failure: SheetCRMError | None = None
        try:
            meta = self.http.fetch_sheet_metadata(
                self.key,
                params={
                    "includeGridData": "false",
                    # No grid data: its row metadata comes one entry per grid row, so a tab
                    # with a huge empty grid would make this answer huge (row tags are read
                    # under the lock, for the used rows only: _reread_range).
                    "fields": "sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),"
                    "protectedRanges(protectedRangeId,description),merges)",
                },
            )
        except APIError as exc:
            failure = _api_error(exc, self.key, self.credentials, "open")
        if failure is not None:  # outside the except block: nothing chained to it
            raise failure
        out = {}
        for index, sheet in enumerate(meta.get("sheets", [])):
            described = [
                (int(pr["protectedRangeId"]), str(pr.get("description", ""))) for pr in sheet.get("protectedRanges", [])
            ]
            props = sheet["properties"]
            grid = props.get("gridProperties", {})
            rows, cols = int(grid.get("rowCount", 1000)), int(grid.get("columnCount", 26))
            out[props["title"]] = SheetInfo(
                props["title"],
                int(props.get("sheetId", 0)),
                rows,
                cols,
                index,
                frozenset(pid for pid, text in described if text.startswith(LOCK_DESCRIPTION)),
                frozenset(pid for pid, text in described if _stale_lock(text)),
                tuple(_merge(m, rows, cols) for m in sheet.get("merges", [])),
            )
        return out

    def _batch_get(self, ranges: list[str]) -> list[list[list[Any]]]:
        failure: SheetCRMError | None = None
        try:
            answer = self.http.values_batch_get(
                self.key,
                ranges,
                params={
                    "valueRenderOption": ValueRenderOption.unformatted,
                    "dateTimeRenderOption": DateTimeOption.serial_number,
                    "majorDimension": Dimension.rows,
                },
            )
        except APIError as exc:
            failure = _api_error(exc, self.key, self.credentials, "read")
        if failure is not None:  # outside the except block: nothing chained to it
            raise failure
        return [vr.get("values", []) for vr in answer.get("valueRanges", [])]

    def read(self, sheets: dict[str, SheetInfo] | None = None) -> dict[Tab, RawTab]:
        """Every CRM tab: one metadata request (none when ``sheets``, the answer of
        :meth:`metadata` just before, is given), then one values.batchGet (more only for
        tabs too large for one answer, read in row chunks)."""
        sheets = sheets if sheets is not None else self.metadata()
        tabs = find_tabs(list(sheets))
        ranges: list[_Chunk] = []
        for title in tabs.values():
            info = sheets[title]
            last = column_letters(max(info.cols, 1) - 1)
            rows_per_chunk = max(1000, READ_CHUNK_CELLS // max(info.cols, 1))
            for start in range(1, info.rows + 1, rows_per_chunk):
                end = min(info.rows, start + rows_per_chunk - 1)
                ranges.append(_Chunk(title, start, end, absolute_range_name(title, f"A{start}:{last}{end}")))
        grids: dict[str, list[list[Any]]] = defaultdict(list)
        for group in _chunk_ranges(ranges, sheets):
            values = self._batch_get([chunk.a1 for chunk in group])
            for chunk, rows in zip(group, values, strict=True):
                grid = grids[chunk.title]
                grid.extend([] for _ in range(chunk.start - 1 - len(grid)))
                grid.extend(rows)
        out: dict[Tab, RawTab] = {}
        for tab, title in tabs.items():
            grid = grids.get(title, [])
            header = list(grid[0]) if grid else []
            rows = [list(r) for r in grid[1:]]
            while rows and not rows[-1]:
                rows.pop()
            token = ReadToken(sheets[title], rows, header)
            out[tab] = RawTab(tab, title, header, rows, token, merged=sheets[title].merges)
        return out

    # --------------------------------------------------------------- write

    def write(self, plan: WritePlan) -> WriteReport:
        """Lock the tabs the plan writes and re-read the rows it aims at (one atomic
        spreadsheets.batchUpdate), re-target or skip each change, then write everything
        and unlock (one atomic spreadsheets.batchUpdate per payload, RAW values). See
        docs/sync.md. What the read saw comes from the plan's read tokens."""
        report = WriteReport()
        if plan.empty:
            stale = sorted({pid for t in plan.read.values() if isinstance(t, ReadToken) for pid in t.sheet.stale_locks})
            if stale:
                self._unlock(stale)
                report.requests += 1
            return report
        # A plan made without this backend's read (by hand, or from another backend's
        # tabs) is aimed at the sheet as it is now.
        tokens = plan.read or {tab: raw.token for tab, raw in self.read().items()}
        read = [t for t in tokens.values() if isinstance(t, ReadToken)]
        log_read = tokens.get(Tab.LOG)
        w = _Write(
            # Copies: growing the grid updates them, and the plan's tokens stay as read.
            sheets={t.sheet.title: replace(t.sheet) for t in sorted(read, key=lambda t: t.sheet.index)},
            rows={t.sheet.title: t.rows for t in read},
            headers={t.sheet.title: t.header for t in read},
            log_title=log_read.sheet.title if isinstance(log_read, ReadToken) else plan.log_title,
            log_exists=isinstance(log_read, ReadToken),
            stale=sorted({pid for t in read for pid in t.sheet.stale_locks}),
        )
        cells = plan.cells
        locks = self._new_locks(w, cells, plan)
        # Chosen once: a request sent again after a lost answer carries the same metadataIds,
        # so it fails instead of tagging a row twice.
        w.new_tags = _new_tags(w, cells)
        appended: list[dict[str, Any]] = []
        # What the payloads that landed carried: a re-plan after a refusal sends and logs
        # only the rest (an ID fill that landed, sent again, would be refused as typed).
        landed = _Landed()
        cells = cells.reset_index(drop=True)
        rest = cells
        unlocked = False
        try:
            reread, requests = self._lock_and_reread(w, cells, plan, locks)
            report.requests += requests
            for attempt in range(_WRITE_ATTEMPTS):
                targets, skipped = retarget(rest, reread, w.rows)
                if plan.appends and attempt == 0:
                    # Under the lock: the bottom rows re-read here stay where they are.
                    appended = append_ranges(self, w.sheets, plan.appends, report)
                payloads = _payloads(w, plan, targets, skipped, reread, landed, appended, list(locks.values()))
                try:
                    report.requests += self._write_and_unlock(w, payloads, list(locks.values()), landed)
                except _Refused as refused:
                    # A row a payload aims at moved (the spreadsheet's owner, whom the lock
                    # does not stop, inserted, deleted or sorted rows): nothing of that
                    # payload was written, the ones before it were (and logged). Re-read and
                    # re-plan the rest, still locked.
                    report.requests += refused.requests
                    if attempt == _WRITE_ATTEMPTS - 1:
                        done = (
                            Phrase(N_("part of the changes were written and logged"))
                            if landed.cells or landed.log_rows
                            else Phrase(N_("nothing was written"))
                        )
                        raise WorkbookWriteError(
                            Phrase(
                                N_(
                                    "could not write spreadsheet {key}: rows kept moving while sync "
                                    "wrote; {done}; run sync again"
                                ),
                                {"key": repr(self.key), "done": done},
                            )
                        ) from None
                    rest = cells[~cells.index.isin(list(landed.cells))] if landed.cells else cells
                    # The ID columns of the tabs written, with their tags, even when only the
                    # Log rows and the unlocking are left.
                    reread = self._reread_tagged(rest if len(rest) else cells, w.rows, w.sheets)
                    report.requests += 1
                    continue
                break
            report.skipped.extend(skipped)
            report.log_rows = landed.log_rows
            unlocked = True
        finally:
            if w.locked and not unlocked:
                # Never leave people locked out: unlock whatever happened (best effort; a
                # lock or an ID-fill rule that survives this is removed by the next sync).
                with contextlib.suppress(Exception):
                    self._unlock(
                        list(locks.values()),
                        [_no_rule(w.sheets[t].sheet_id, row, col) for t, row, col in _fill_cells(w, cells)],
                    )
        report.written = len(landed.cells)
        return report

    # -- the window between the re-read and the write, closed ---------------------------

    @staticmethod
    def _new_locks(w: _Write, cells: pd.DataFrame, plan: WritePlan) -> dict[str, int]:
        """A fresh client-chosen protectedRangeId for each existing tab the plan writes
        (the Log is appended to, not locked)."""
        titles = [str(t) for t in dict.fromkeys(cells["title"])] if len(cells) else []
        titles += [title for _tab, title, _col, _text in plan.headers if title not in titles]
        titles += [new.title for new in plan.appends if new.title not in titles]
        rng = random.SystemRandom()
        return {t: rng.randrange(1 << 20, 1 << 31) for t in titles if t in w.sheets}

    def _lock_and_reread(
        self, w: _Write, cells: pd.DataFrame, plan: WritePlan, locks: dict[str, int]
    ) -> tuple[dict[str, dict[Any, Any]], int]:
        """One atomic spreadsheets.batchUpdate: grow the grid, lock the tabs the plan
        writes (people other than the spreadsheet's owner cannot edit them until the
        write), remove stale locks, and answer with the re-read ranges as they are under
        the lock. Returns the re-read (see :func:`_grid_reread`) and the requests made."""
        wanted = _reread_wanted(cells, w.rows)
        bounded = True
        fill_rules = _fill_rules(w, cells)
        made = 0
        for _attempt in range(6):
            # Sized on copies: a request that fails grows nothing.
            grown = {title: replace(info) for title, info in w.sheets.items()}
            structure = self._growth(w, cells, plan, grown)
            structure += append_growth(grown, w.rows, plan.appends)
            structure += [
                {
                    "addProtectedRange": {
                        "protectedRange": {
                            "protectedRangeId": pid,
                            "range": {"sheetId": w.sheets[title].sheet_id},
                            "description": f"{LOCK_DESCRIPTION} since {_now_utc()}: removed when the sync has written",
                            "warningOnly": False,
                        }
                    }
                }
                for title, pid in locks.items()
            ]
            structure += [{"deleteProtectedRange": {"protectedRangeId": pid}} for pid in w.stale]
            structure += w.new_tags
            structure += fill_rules
            bounds = _reread_bounds(grown, w.rows) if bounded else None
            ranges = [_reread_range(x, bounds) for x in wanted]
            made += 1
            failure: SheetCRMError | None = None
            try:
                answer = self.http.request(
                    "post",
                    SPREADSHEET_BATCH_UPDATE_URL % self.key,
                    json={
                        "requests": structure,
                        "includeSpreadsheetInResponse": bool(ranges),
                        "responseRanges": ranges,
                        "responseIncludeGridData": bool(ranges),
                    },
                    # Only the values: no replies, formats or row sizes for every row.
                    params={"fields": f"updatedSpreadsheet.sheets(properties.title,data({_REREAD_FIELDS}))"},
                ).json()
            except AnswerLostError:
                answer = None
            except APIError as exc:
                if "createDeveloperMetadata" in google_message(exc) and w.new_tags:
                    # No room for the tags (other metadata on the sheet): without them.
                    w.new_tags = []
                    continue
                if "exceeds grid limits" in google_message(exc) and "setDataValidation" in google_message(exc):
                    # A row whose ID the plan fills is past a grid that deletions shrank:
                    # fill no ID this time (without its full row re-read, none is filled).
                    fill_rules = []
                    wanted = [x for x in wanted if x[1] is not None]
                    continue
                if "exceeds grid limits" in google_message(exc) and bounded:
                    # People deleted rows since the read, and the grid shrank below the
                    # bound: open-ended ranges (the grid is about the data's size then).
                    bounded = False
                    continue
                if "exceeds grid limits" in google_message(exc) and any(x[1] is None for x in wanted):
                    # A full row past a grid that deletions shrank: prove nothing by it (its
                    # changes are skipped) rather than fail the sync.
                    wanted = [x for x in wanted if x[1] is not None]
                    continue
                failure = _api_error(exc, self.key, self.credentials, "write")
            if failure is not None:
                raise failure  # outside the except block: no context carrying request details
            if answer is not None:
                w.sheets = grown
                w.stale = []
                w.locked = bool(locks)
                return _grid_reread(wanted, answer, _id_cols(cells)), made
            # The answer was lost: applied or not, our locks say. Look before sending again.
            self._look(w)
            made += 1
            if set(locks.values()) <= w.present:
                w.locked = bool(locks)
                w.stale = [pid for pid in w.stale if pid not in locks.values()]
                # With the tags that request put on the rows, so the write is guarded.
                return self._reread_tagged(cells, w.rows, w.sheets, full_rows=True), made + 1
        raise WorkbookWriteError(
            Phrase(
                N_(
                    "could not lock spreadsheet {key} for writing: three answers were lost; "
                    "check the network connection and run sync again"
                ),
                {"key": repr(self.key)},
            )
        )

    def _look(self, w: _Write) -> None:
        """After a lost answer: the sheets as they are now (grid sizes, a Log tab this
        write may have added, every lock present) into ``w``; the rows as read stay."""
        now = self.metadata()
        w.sheets = {title: info for title, info in now.items() if title in w.sheets or title == w.log_title}
        w.present = {pid for info in now.values() for pid in info.locks}
        if w.log_title in now:
            w.log_sheet_id = now[w.log_title].sheet_id

    def _write_and_unlock(self, w: _Write, payloads: list[_Payload], locks: list[int], landed: _Landed) -> int:
        """Send ``payloads`` (:func:`_payloads`) in order, each one atomic
        spreadsheets.batchUpdate; the last one removes the row tags and ``locks``. Each
        payload that lands goes into ``landed``; a guard refusing one raises
        :class:`_Refused` (that payload wrote nothing, the ones before it landed). Returns
        the requests made."""
        made = 0
        for i, payload in enumerate(payloads):
            body = payload.body
            failure: SheetCRMError | None = None
            lost = False
            made += 1
            try:
                self._post_write(body)
            except AnswerLostError:
                lost = True
            except APIError as exc:
                if "createDeveloperMetadata" in google_message(exc):
                    failure = _Refused(made)
                else:
                    failure = _api_error(exc, self.key, self.credentials, "write")
            except RetriesExhaustedError as exc:
                failure = exc
                if exc.status is None:
                    # The answer never came: Google may have applied the write.
                    failure = RetriesExhaustedError(
                        Phrase(
                            N_(
                                "{error}. The write ({n} of {total}) may have landed before the answer was "
                                "lost; run sync again: it reads what landed and confirms or finishes it "
                                "(nothing is written twice)"
                            ),
                            {"error": exc.phrase or str(exc), "n": i + 1, "total": len(payloads)},
                        ),
                        method=exc.method,
                        path=exc.path,
                        status=None,
                        attempts=exc.attempts,
                        elapsed=exc.elapsed,
                    )
            if lost:
                # Applied if our locks are gone (only the last payload removes them); else
                # send it again: a payload sent twice sets the same cells and Log rows, its
                # guards re-create the tags they deleted, a Stage already moved no longer
                # matches its findReplace.
                present = {pid for info in self.metadata().values() for pid in info.locks}
                made += 1
                if set(locks) & present:
                    made += 1
                    try:
                        self._post_write(body)
                    except APIError as exc:
                        failure = _api_error(exc, self.key, self.credentials, "write")
            if failure is not None:
                raise failure  # outside the except block: no context carrying request details
            landed.add(payload)
        return made

    def _post_write(self, body: list[dict[str, Any]]) -> None:
        """One write request, answered without its replies: the guards' re-created tags
        and the deleted ones would come back one by one, megabytes nobody reads."""
        self.http.request(
            "post", SPREADSHEET_BATCH_UPDATE_URL % self.key, json={"requests": body}, params={"fields": "spreadsheetId"}
        )

    def _reread_tagged(
        self,
        cells: pd.DataFrame,
        rows_as_read: dict[str, list[list[Any]]],
        sheets: dict[str, SheetInfo],
        full_rows: bool = False,
    ) -> dict[str, dict[Any, Any]]:
        """The re-read (as :meth:`_lock_and_reread` answers it, row tags included) by one
        spreadsheets.get of the same ranges: used, still under the lock, after a write a
        moved row refused (without the full rows: an ID is filled only on the first
        attempt) and after the answer to the locking request was lost."""
        wanted = [x for x in _reread_wanted(cells, rows_as_read) if full_rows or x[1] is not None]
        bounds: dict[str, int] | None = _reread_bounds(sheets, rows_as_read)
        for _attempt in range(3):
            failure: SheetCRMError | None = None
            try:
                answer = self.http.request(
                    "get",
                    SPREADSHEET_URL % self.key,
                    params={
                        "ranges": [_reread_range(x, bounds) for x in wanted],
                        "fields": f"sheets(properties.title,data({_REREAD_FIELDS}))",
                    },
                ).json()
                return _grid_reread(wanted, answer, _id_cols(cells))
            except APIError as exc:
                if bounds is not None and "exceeds grid limits" in google_message(exc):
                    bounds = None  # the grid shrank below the bound: open-ended
                    continue
                if "exceeds grid limits" in google_message(exc) and any(x[1] is None for x in wanted):
                    wanted = [x for x in wanted if x[1] is not None]  # as in _lock_and_reread
                    continue
                failure = _api_error(exc, self.key, self.credentials, "read")
            if failure is not None:
                raise failure
        raise WorkbookWriteError(
            Phrase(N_("could not read spreadsheet {key} again while writing; run sync again"), {"key": repr(self.key)})
        )

    def _unlock(self, locks: list[int], rules: list[dict[str, Any]] | None = None) -> None:
        """Remove sheetcrm's locks in one request, with ``rules`` (the ID-fill rules this
        sync put, where it put them); a lock already gone is no error, and a rule that can
        no longer be reached (rows deleted) is left to the next sync."""
        rules = list(rules or [])
        for _attempt in range(len(locks) + 2):
            failure: SheetCRMError | None = None
            try:
                self.http.batch_update(
                    self.key,
                    {"requests": rules + [{"deleteProtectedRange": {"protectedRangeId": pid}} for pid in locks]},
                )
                break
            except APIError as exc:
                gone = re.search(r"No protected range with id: (\d+)", google_message(exc))
                if gone:
                    locks = [pid for pid in locks if pid != int(gone.group(1))]
                elif rules:
                    rules = []
                else:
                    failure = _api_error(exc, self.key, self.credentials, "unlock")
            if failure is not None:
                raise failure
            if not locks:
                break

    def replace_tab(self, title: str, rows: list[list[Any]]) -> WriteReport:
        """Write ``rows`` into worksheet ``title``, replacing it when it exists: one metadata
        read, then one spreadsheets.batchUpdate (delete the old sheet, add the new one, set
        its cells) so readers never see half a tab. Text is written as a string value, so
        it never becomes a formula."""
        sheets = self.metadata()
        taken = {info.sheet_id for info in sheets.values()}
        new_id = max(taken, default=0) + 1
        width = max((len(r) for r in rows), default=1) or 1
        requests: list[dict[str, Any]] = []
        if title in sheets:
            requests.append({"deleteSheet": {"sheetId": sheets[title].sheet_id}})
        requests.append(
            {
                "addSheet": {
                    "properties": {
                        "sheetId": new_id,
                        "title": title,
                        "gridProperties": {"rowCount": max(len(rows), 1), "columnCount": width},
                    }
                }
            }
        )
        cells = [{"values": [_cell_data(v) for v in row]} for row in rows]
        requests.append(
            {
                "updateCells": {
                    "start": {"sheetId": new_id, "rowIndex": 0, "columnIndex": 0},
                    "rows": cells,
                    "fields": "userEnteredValue",
                }
            }
        )
        failure: SheetCRMError | None = None
        try:
            self.http.batch_update(self.key, {"requests": requests})
        except APIError as exc:
            failure = _api_error(exc, self.key, self.credentials, "write")
        if failure is not None:  # outside the except block: nothing chained to it
            raise failure
        written = sum(v is not None for r in rows for v in r)
        return WriteReport(written=written, requests=2)

    @staticmethod
    def _growth(
        w: _Write, targets: pd.DataFrame, plan: WritePlan, sheets: dict[str, SheetInfo]
    ) -> list[dict[str, Any]]:
        """spreadsheets.batchUpdate requests that make room for the writes (if any), given
        the sheets as read (``sheets``) and the rows the Log held."""
        log_title = w.log_title
        need_rows: dict[str, int] = defaultdict(int)
        need_cols: dict[str, int] = defaultdict(int)
        for title, group in targets.groupby("title", sort=False) if len(targets) else ():
            need_rows[str(title)] = int(group["row"].max())
            need_cols[str(title)] = int(group["col"].max()) + 1
        from sheetcrm.google.template import _COMPUTED_SHADE as COMPUTED_SHADE  # that module imports this one

        requests: list[dict[str, Any]] = []
        shading: list[dict[str, Any]] = []
        for _tab, title, col, _text in plan.headers:
            need_cols[title] = max(need_cols[title], col + 1)
            info = sheets.get(title)
            if info is not None:  # shaded like the template's computed headers
                at = plan.header_rows.get(title, 1)
                shading.append(
                    {
                        "repeatCell": {
                            "range": {
                                "sheetId": info.sheet_id,
                                "startRowIndex": at - 1,
                                "endRowIndex": at,
                                "startColumnIndex": col,
                                "endColumnIndex": col + 1,
                            },
                            "cell": {
                                "userEnteredFormat": {
                                    "backgroundColor": COMPUTED_SHADE,
                                    "textFormat": {"bold": True, "italic": True},
                                }
                            },
                            "fields": "userEnteredFormat(backgroundColor,textFormat)",
                        }
                    }
                )
        if plan.log:
            last = len(w.rows.get(log_title, [])) + 1 + len(plan.log)
            log_width = len(encode_log_row(plan.log[0]))
            if log_title not in sheets:
                # Room for many runs, so later syncs do not need this extra request.
                rows = max(1000, last + 1000)
                # Its sheetId chosen here, so the write can aim at it without asking.
                if w.log_sheet_id is None:
                    taken = {info.sheet_id for info in sheets.values()}
                    rng = random.SystemRandom()
                    w.log_sheet_id = next(i for i in iter(lambda: rng.randrange(1, 1 << 31), None) if i not in taken)
                requests.append(
                    {
                        "addSheet": {
                            "properties": {
                                "sheetId": w.log_sheet_id,
                                "title": log_title,
                                "gridProperties": {
                                    "rowCount": rows,
                                    "columnCount": log_width,
                                    "frozenRowCount": 1,
                                },
                            }
                        }
                    }
                )
            else:
                need_rows[log_title] = max(need_rows[log_title], last)
                need_cols[log_title] = max(need_cols[log_title], log_width)
        for title, info in sheets.items():
            if need_rows.get(title, 0) > info.rows:
                requests.append(
                    {
                        "appendDimension": {
                            "sheetId": info.sheet_id,
                            "dimension": Dimension.rows,
                            "length": need_rows[title] - info.rows + 1000,
                        }
                    }
                )
            if need_cols.get(title, 0) > info.cols:
                requests.append(
                    {
                        "appendDimension": {
                            "sheetId": info.sheet_id,
                            "dimension": Dimension.cols,
                            "length": need_cols[title] - info.cols,
                        }
                    }
                )
        # Shading rides along with the locking request, which a write makes anyway.
        return requests + shading

    def _batch_update_structure(self, requests: list[dict[str, Any]]) -> None:
        failure: SheetCRMError | None = None
        try:
            self.http.batch_update(self.key, {"requests": requests})
        except APIError as exc:
            failure = _api_error(exc, self.key, self.credentials, "resize")
        if failure is not None:  # outside the except block: nothing chained to it
            raise failure


#: Write attempts when a moved row refuses one (each further one costs a re-read and a write).
_WRITE_ATTEMPTS = 3


class _Refused(SheetCRMError):
    """A write request refused by a row-tag guard (or a new tag): nothing was written."""

    def __init__(self, requests: int) -> None:
        super().__init__("a row the write aims at moved")
        self.requests = requests


def _id_cols(cells: pd.DataFrame) -> dict[str, int]:
    """Title -> ID column index of each tab the changes touch (tabs with an ID column)."""
    if not len(cells):
        return {}
    first = cells.groupby("title", sort=False)["id_col"].first()
    return {str(t): int(c) for t, c in first.items() if int(c) >= 0}


def _guards(w: _Write, targets: pd.DataFrame, reread: dict[str, dict[Any, Any]]) -> list[dict[str, Any]]:
    """The guards (rowtags.guards) of the rows ``targets`` write, from the tags the re-read
    saw on them."""
    guard: list[dict[str, Any]] = []
    for title, group in targets.groupby("title", sort=False) if len(targets) else ():
        seen = reread.get(str(title), {})
        info = w.sheets.get(str(title))
        if info is None or int(group["id_col"].iloc[0]) < 0 or rowtags.TAGS not in seen:
            continue
        row_tags: list[int | None] = seen[rowtags.TAGS]
        rows = [int(r) for r in group["row"]]
        guard += rowtags.guards(info.sheet_id, rowtags.guarded_rows(rows, row_tags), row_tags)
    return guard


def _logged(targets: pd.DataFrame) -> np.ndarray:
    """Which of ``targets`` are changes the Log reports (every change but a computed
    value), with the Stage Reason that goes with a Stage move."""
    if not len(targets):
        return np.zeros(0, dtype=bool)
    return ((targets["kind"] != ChangeKind.COMPUTED) | (targets["column"] == "Stage Reason")).to_numpy()


@dataclass
class _Payload:
    """One write request (:attr:`body`) and what it carries."""

    body: list[dict[str, Any]]
    #: Indexes (in the plan's cells) of the changes it writes.
    cells: list[int] = field(default_factory=list)
    #: The Log entries it writes: (index in the plan's log, position in its run of IDs, or -1).
    entries: list[tuple[int, int]] = field(default_factory=list)
    log_rows: int = 0
    log_header: bool = False
    headers: bool = False
    #: The Log grid's rows once this payload has grown it (None: not grown).
    log_grid: int | None = None


@dataclass
class _Landed:
    """What the payloads of one write that landed carried (:meth:`add`); a re-plan after a
    refusal sends and logs only the rest."""

    cells: set[int] = field(default_factory=set)
    entries: set[tuple[int, int]] = field(default_factory=set)
    log_rows: int = 0
    log_header: bool = False
    headers: bool = False
    log_grid: int | None = None

    def add(self, payload: _Payload) -> None:
        self.cells.update(payload.cells)
        self.entries.update(payload.entries)
        self.log_rows += payload.log_rows
        self.log_header |= payload.log_header
        self.headers |= payload.headers
        if payload.log_grid is not None:
            self.log_grid = payload.log_grid


#: The columns a sync reads a Stage against next time (pipeline/stages.py): written with
#: the Stage move (or the person's Stage noticed) in the first payloads.
_STAGE_STATE = ("Stage Seen", "Stage Since", "Stage Reason")
#: Estimates of the JSON bytes of a write, for cutting it into payloads (each payload's
#: real size is measured before it is sent, and cut again if over): a cell's value besides
#: its text, an updateCells request besides its cells, a guard (two requests), a removed
#: ID-fill rule.
_CELL_BYTES = 60
_RANGE_BYTES = 190
_GUARD_BYTES = 525
_RULE_BYTES = 180
#: Room each payload keeps besides its rows: the guard of the row below each tab's block,
#: a run of IDs split across payloads (logged in one row per payload), headers.
_PAYLOAD_SLACK = 6_000


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str).encode())


class _PayloadPlan:
    """How one write attempt is cut into payloads (:func:`_payloads`).

    Each payload is self-contained and atomic: the guards of exactly the rows it writes
    (and of the tagged row below each tab's block, rowtags.guarded_rows), the ID-fill rules
    of the cells it fills, its Stage swaps, its values, and the Log rows of the changes it
    carries, placed at the next free Log row. The last payload also carries the Log rows
    about no change it knows of (skips, the run's summary, notices), the appended rows, the
    removal of the row tags and the unlocking. Rows are taken in order within each tab,
    first those holding a change the Log reports (with all their cells), then the others,
    so each payload holds blocks of rows and each row is in one payload."""

    def __init__(
        self,
        w: _Write,
        plan: WritePlan,
        targets: pd.DataFrame,
        skipped: list[dict[str, Any]],
        reread: dict[str, dict[Any, Any]],
        landed: _Landed,
        appended: list[dict[str, Any]],
        locks: list[int],
    ) -> None:
        self.w, self.plan, self.targets, self.skipped, self.reread = w, plan, targets, skipped, reread
        self.appended, self.locks = appended, locks
        n = len(targets)
        self.logged = _logged(targets)
        titles = {t: i for i, t in enumerate(dict.fromkeys(targets["title"]))} if n else {}
        self.n_titles = len(titles)
        rank = targets["title"].map(titles).to_numpy(dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
        rows = targets["row"].to_numpy(dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
        # What goes first: the rows holding a logged change, all their cells with it (each
        # row guarded once, and a Stage never lands without the Stage Seen the next sync
        # reads it against, which would look like a person's edit), then the other rows.
        first = self.logged | (targets["column"].isin(_STAGE_STATE).to_numpy() if n else self.logged)
        if n:
            first = pd.Series(first).groupby([rank, rows]).transform("any").to_numpy(dtype=bool)
        phase = (~first).astype(np.int64)
        self.phase = phase
        # Row-major within each tab, the logged changes first.
        self.order = np.lexsort((rows, rank, phase))
        key = np.stack([phase, rank, rows])[:, self.order] if n else np.zeros((3, 0), dtype=np.int64)
        self.unit_start = (
            np.flatnonzero(np.r_[True, (key[:, 1:] != key[:, :-1]).any(axis=0)]) if n else np.zeros(0, dtype=np.int64)
        )
        self.spots = self._entry_spots(landed)
        self.spot_keys = sorted(self.spots)
        # The ID-fill rules the re-read found: with the payload that fills the cell, else the first.
        self.rules = _fill_rule_spots(w, reread)
        fills = {}
        if n:
            is_fill = (targets["kind"] == ChangeKind.ID).to_numpy()[self.order]
            titles_sorted = targets["title"].to_numpy()[self.order]
            fills = {(str(titles_sorted[j]), int(rows[self.order[j]])): int(j) for j in np.flatnonzero(is_fill)}
        self.rule_at = [fills.get((title, row), -1) for title, row, _req in self.rules]
        self.tagged = next(
            (
                (title, seen[rowtags.TAGS])
                for title, seen in reread.items()
                if title in w.sheets and any(seen.get(rowtags.TAGS, []))
            ),
            None,
        )
        # Running state: what the payloads before the one being built carry.
        self.sent = _Landed(
            set(landed.cells),
            set(landed.entries),
            landed.log_rows,
            landed.log_header,
            landed.headers,
            landed.log_grid if landed.log_grid is not None else _log_grid_rows(w, plan),
        )

    # -- which Log entries travel with which change --------------------------------------

    def _entry_spots(self, landed: _Landed) -> dict[int, list[tuple[int, int]]]:
        """Position (in :attr:`order`) -> the Log entries about the change there: an entry
        about a cell (ID fills, one per ID of a run; Stage moves; Owners...) with that cell,
        an entry about a record but no cell (a person's Stage noticed) with the record's
        first change. Entries already landed, the summary and what follows it are left to
        the last payload's :func:`reconcile_log`."""
        plan, targets = self.plan, self.targets
        if not plan.log or not len(targets):
            return {}
        exact: dict[tuple[str, str, str], tuple[int, int]] = {}
        by_record: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        for i, entry in enumerate(plan.log[: summary_at(plan.log)]):
            tab, about, ids = str(entry.get(LogField.TAB, "")), entry.get(LOG_ABOUT), entry.get(LOG_IDS)
            if ids and about:
                for k, rid in enumerate(ids):
                    if (i, k) not in landed.entries:
                        exact[(tab, str(norm_cell(rid)), str(about))] = (i, k)
            elif (i, -1) in landed.entries:
                continue
            elif about:
                exact[(tab, str(norm_cell(entry.get(LogField.ID))), str(about))] = (i, -1)
            elif norm_cell(entry.get(LogField.ID)) != "":
                by_record[(tab, str(norm_cell(entry.get(LogField.ID))))].append((i, -1))
        out: dict[int, list[tuple[int, int]]] = defaultdict(list)
        title = targets["title"].to_numpy()[self.order]
        rid = targets["record_id"].to_numpy()[self.order]
        column = targets["column"].to_numpy()[self.order]
        if exact:
            for pos in np.flatnonzero(self.logged[self.order]).tolist():
                hit = exact.pop((str(title[pos]), str(norm_cell(rid[pos])), str(column[pos])), None)
                if hit is not None:
                    out[pos].append(hit)
        if by_record:
            for j in range(len(title)):
                hits = by_record.pop((str(title[j]), str(norm_cell(rid[j]))), None)
                if hits:
                    out[j].extend(hits)
                if not by_record:
                    break
        return out

    def _entry_rows(self, entries: list[tuple[int, int]]) -> list[list[Any]]:
        """The Log rows of ``entries`` (a run of IDs only partly here: the IDs that are)."""
        plan = self.plan
        by: dict[int, list[int]] = defaultdict(list)
        for i, k in entries:
            by[i].append(k)
        rows: list[list[Any]] = []
        for i in sorted(by):
            entry, ks = plan.log[i], sorted(by[i])
            ids = entry.get(LOG_IDS)
            if ks[0] < 0 or not ids:
                rows.append(encode_log_row(entry))
                continue
            rows.extend(encode_log_row(e) for e in id_run_part(entry, [ids[k] for k in ks], plan.language))
        return rows

    def _rest(self) -> list[dict[str, Any]]:
        """The plan's Log entries not yet written, the run's summary marked as such."""
        plan = self.plan
        at = summary_at(plan.log)
        out: list[dict[str, Any]] = []
        for i, entry in enumerate(plan.log):
            ids = entry.get(LOG_IDS)
            if i == at:
                out.append(entry if entry.get(LOG_SUMMARY) else {**entry, LOG_SUMMARY: True})
            elif i < at and ids and entry.get(LOG_ABOUT):
                left = [rid for k, rid in enumerate(ids) if (i, k) not in self.sent.entries]
                if left:
                    out.extend(id_run_part(entry, left, plan.language))
            elif (i, -1) not in self.sent.entries:
                out.append(entry)
        return out

    # -- one payload ----------------------------------------------------------------------

    def build(self, lo: int, hi: int, first: bool, last: bool) -> _Payload:
        """The payload of the changes at positions ``lo`` to ``hi`` of :attr:`order` (the
        state of the payloads before it taken as landed)."""
        w, plan = self.w, self.plan
        part = self.targets.iloc[np.sort(self.order[lo:hi])] if hi > lo else self.targets.iloc[0:0]
        swaps, swapped = _stage_swaps(w, part)
        logged = _logged(part)
        data = _ranges_for(part[logged & ~swapped])
        out = _Payload([], cells=[int(i) for i in part.index])
        if first and not self.sent.headers and plan.headers:
            out.headers = True
            for _tab, title, col, text in plan.headers:
                at = plan.header_rows.get(title, 1)
                data.append({"range": absolute_range_name(title, f"{column_letters(col)}{at}"), "values": [[text]]})
        if last:
            log = reconcile_log(replace(plan, log=self._rest()), self.skipped)
        else:
            left = bisect.bisect_left(self.spot_keys, lo)
            right = bisect.bisect_left(self.spot_keys, hi)
            out.entries = [e for j in self.spot_keys[left:right] for e in self.spots[j]]
            log = self._entry_rows(out.entries)
        grow: list[dict[str, Any]] = []
        if log:
            log_title = w.log_title
            header = w.headers.get(log_title, [])
            if not self.sent.log_header and (not w.log_exists or not any(norm_cell(v) != "" for v in header)):
                # A new Log tab, or one a failed sync created without its header row.
                out.log_header = True
                data.append({"range": absolute_range_name(log_title, "A1"), "values": [list(plan.log_header)]})
            first_row = len(w.rows.get(log_title, [])) + 2 + self.sent.log_rows
            grid = self.sent.log_grid
            assert grid is not None  # set from the plan when nothing had grown it
            last_row = first_row + len(log) - 1
            if last_row > grid:
                # More Log rows than the plan had entries (runs of IDs split by skips or by
                # payloads) past the grid the locking request made room for.
                sheet_id = w.sheets[log_title].sheet_id if log_title in w.sheets else w.log_sheet_id
                extra = last_row - grid + 1000
                grow.append({"appendDimension": {"sheetId": sheet_id, "dimension": Dimension.rows, "length": extra}})
                out.log_grid = grid + extra
            data.append(
                {
                    "range": absolute_range_name(
                        log_title, f"A{first_row}:{column_letters(len(log[0]) - 1)}{last_row}"
                    ),
                    "values": [[to_cell_json(v) for v in row] for row in log],
                }
            )
            out.log_rows = len(log)
        data.extend(_ranges_for(part[~logged & ~swapped]))
        if last:
            data.extend(self.appended)
        guard = _guards(w, part, self.reread)
        tail: list[dict[str, Any]] = []
        if last and self.tagged is not None:
            if not guard:
                # The tags go only behind a guard, which has just re-created a tag (a delete
                # whose filter matches nothing is not documented as harmless).
                title, tags = self.tagged
                row = next(i + 2 for i, t in enumerate(tags) if t is not None)
                guard = rowtags.guards(w.sheets[title].sheet_id, [row], tags)
            tail = [rowtags.clear_all()]
        if last:
            tail += [{"deleteProtectedRange": {"protectedRangeId": pid}} for pid in self.locks]
        rules = [
            req
            for (_title, _row, req), at in zip(self.rules, self.rule_at, strict=True)
            if lo <= at < hi or (first and at < 0)
        ]
        ids = {title: info.sheet_id for title, info in w.sheets.items()}
        if w.log_sheet_id is not None:  # a Log tab this sync has just added
            ids.setdefault(w.log_title, w.log_sheet_id)
        # Guards first (a moved row refuses the request before anything is written), then
        # the ID-fill rules off (before any value), then the Stage moves and the values.
        out.body = guard + rules + swaps + grow + [_update_cells(item, ids) for item in _split_long(data)] + tail
        return out

    def accept(self, payload: _Payload) -> None:
        """Take ``payload`` as sent: the next one is built after it."""
        self.sent.add(payload)

    # -- cutting ----------------------------------------------------------------------------

    def unit_costs(self) -> np.ndarray:
        """Estimated bytes of each block of one row (:attr:`unit_start`): its values, the
        updateCells requests a run of rows in a column starts, its guard, its ID-fill
        rules, its Stage swaps and its Log rows."""
        targets, order = self.targets, self.order
        n = len(order)
        if not n:
            return np.zeros(0)
        swaps, swapped_mask = _stage_swaps(self.w, targets)
        cost = np.zeros(len(targets))
        cost[swapped_mask] = [_json_bytes(swap) + 2 for swap in swaps]
        values = targets["new"].to_numpy()
        for i in np.flatnonzero(~swapped_mask).tolist():
            value = to_cell_json(values[i])
            cost[i] = _CELL_BYTES + len(str(value).encode()) if value != "" else 18
        cost = cost[order]
        swapped = swapped_mask[order]
        # A cell starts an updateCells range unless the cell above it in the same column
        # (and the same part of the write) comes just before it.
        phase = self.phase[order]
        title = pd.factorize(targets["title"].to_numpy()[order])[0]
        col = targets["col"].to_numpy(dtype=np.int64)[order]
        row = targets["row"].to_numpy(dtype=np.int64)[order]
        by_col = np.lexsort((row, col, title, phase))
        same = np.zeros(n, dtype=bool)
        if n > 1:
            a, b = by_col[:-1], by_col[1:]
            same[b] = (phase[a] == phase[b]) & (title[a] == title[b]) & (col[a] == col[b]) & (row[a] + 1 == row[b])
        cost += np.where(same | swapped, 0, _RANGE_BYTES)
        cost += np.where((targets["kind"] == ChangeKind.ID).to_numpy()[order], _RULE_BYTES, 0)
        runs: set[int] = set()
        for j, entries in self.spots.items():
            for i, k in entries:
                if k < 0 or i not in runs:  # a run of IDs: one row per payload, counted once
                    runs.add(i)
                    cost[j] += _log_row_bytes(self.plan.log[i])
        unit = np.cumsum(np.isin(np.arange(n), self.unit_start)) - 1
        # A guard for each tagged row (rows past the tag budget have none).
        titles, rows = targets["title"].to_numpy()[order], targets["row"].to_numpy(dtype=np.int64)[order]
        tagged = np.zeros(len(self.unit_start), dtype=bool)
        for u, j in enumerate(int(x) for x in self.unit_start):
            tags = self.reread.get(str(titles[j]), {}).get(rowtags.TAGS, [])
            tagged[u] = 0 <= rows[j] - 2 < len(tags) and tags[rows[j] - 2] is not None
        return np.bincount(unit, weights=cost) + np.where(tagged, _GUARD_BYTES, 0)

    def last_only(self) -> int:
        """Estimated bytes of what only the last payload carries: the Log rows about no
        change a payload carries (skips, the summary, notices), the appended rows, the
        unlocking."""
        plan = self.plan
        assigned = {e for entries in self.spots.values() for e in entries} | self.sent.entries
        at = summary_at(plan.log) if plan.log else 0
        size = _json_bytes(self.appended) + 100 * len(self.locks) + 500
        for i, entry in enumerate(plan.log):
            ids = entry.get(LOG_IDS)
            keys = [(i, k) for k in range(len(ids))] if ids and entry.get(LOG_ABOUT) and i < at else [(i, -1)]
            if any(key not in assigned for key in keys):
                size += _log_row_bytes(entry)
        return size


def _log_row_bytes(entry: dict[str, Any]) -> int:
    """The bytes of a Log row in an updateCells request (its reason grows a little when
    the row says why a change was not made)."""
    return _json_bytes({"values": [_extended(to_cell_json(v)) for v in encode_log_row(entry)]}) + 60


def _payloads(
    w: _Write,
    plan: WritePlan,
    targets: pd.DataFrame,
    skipped: list[dict[str, Any]],
    reread: dict[str, dict[Any, Any]],
    landed: _Landed,
    appended: list[dict[str, Any]],
    locks: list[int],
) -> list[_Payload]:
    """The write of ``targets`` (re-targeted, what ``landed`` holds left out) as payloads
    of at most WRITE_PAYLOAD_BYTES (:class:`_PayloadPlan`): one whenever it fits.

    Blocks of rows are cut on estimated sizes (:meth:`_PayloadPlan.unit_costs`), each
    payload is measured once built, and the estimate is scaled by what the last payload
    measured: a payload over the limit is cut shorter and built again (a single row stays
    whole, whatever its size)."""
    cut = _PayloadPlan(w, plan, targets, skipped, reread, landed, appended, locks)
    costs = cut.unit_costs()
    if costs.sum() <= WRITE_PAYLOAD_BYTES * 1.3:
        whole = cut.build(0, len(cut.order), first=True, last=True)
        if _json_bytes(whole.body) <= WRITE_PAYLOAD_BYTES:
            return [whole]
    starts = [int(x) for x in cut.unit_start] + [len(cut.order)]
    total = np.r_[0.0, np.cumsum(costs)]
    units = len(costs)
    limit = WRITE_PAYLOAD_BYTES
    budget = int(limit * 0.98) - min(_PAYLOAD_SLACK + cut.n_titles * _GUARD_BYTES, limit // 5)
    rules_first = float(sum(_RULE_BYTES for at in cut.rule_at if at < 0))
    last_only = float(cut.last_only())
    ratio = 1.0  # measured bytes per estimated byte
    out: list[_Payload] = []
    u = 0
    while True:
        extra = rules_first if not out else 0.0
        room = (budget - extra) / ratio
        end = max(int(np.searchsorted(total, total[u] + room, side="right")) - 1, min(u + 1, units))
        # No rows left: the last payload, whatever it carries.
        last = end == units and (u == units or (total[units] - total[u] + last_only) * ratio + extra <= budget)
        if end == units and not last:
            # What the last payload alone carries does not fit after these rows: the rows
            # that leave it room go with it, in a payload of their own.
            end = int(np.searchsorted(total, total[units] - (budget / ratio - last_only), side="left"))
            end = min(max(end, u + 1), units)
        payload = cut.build(starts[u], starts[end], first=not out, last=last)
        size = _json_bytes(payload.body)
        estimate = total[end] - total[u] + extra + (last_only if last else 0.0)
        if size > limit and end - u > 1:
            ratio = max(ratio * 1.05, size / max(estimate, 1.0))
            continue
        if estimate > budget / 4:
            ratio = min(max(size / estimate, 0.5), 2.0)
        cut.accept(payload)
        out.append(payload)
        u = end
        if last:
            return out


def _log_grid_rows(w: _Write, plan: WritePlan) -> int:
    """The rows of the Log tab's grid once the locking request has made room
    (:meth:`GoogleSheetsBackend._growth`)."""
    last = len(w.rows.get(w.log_title, [])) + 1 + len(plan.log)
    info = w.sheets.get(w.log_title)
    if info is None:
        return max(1000, last + 1000)
    return info.rows if info.rows >= last else last + 1000


def _fill_rule_spots(w: _Write, reread: dict[str, dict[Any, Any]]) -> list[tuple[str, int, dict[str, Any]]]:
    """(title, row, request clearing it) of every ID-fill rule the re-read found in the ID
    columns (this sync's, wherever rows took them, and any a sync that died left behind)."""
    out: list[tuple[str, int, dict[str, Any]]] = []
    for title, seen in reread.items():
        info = w.sheets.get(title)
        if info is not None:
            out += [(title, row, _no_rule(info.sheet_id, row, col)) for row, col in seen.get(_FILL_RULES, [])]
    return out


def _stage_swaps(w: _Write, targets: pd.DataFrame) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Stage moves as compare-and-set requests: a ``findReplace`` of the whole cell, case
    and all, limited to that one cell, replaces the Stage only if it still holds the label
    sync read. Not even the spreadsheet's owner (whom the lock does not stop) typing a
    Stage in the moment before the write is overwritten. Returns the requests and which
    of ``targets`` they carry (a Stage read empty is written as usual)."""
    old = targets["old"].map(to_cell_json) if len(targets) else targets.get("old", pd.Series(dtype=object))
    mask = (
        (targets["kind"] == ChangeKind.STAGE).to_numpy()
        & targets["cas"].astype(bool).to_numpy()
        & np.array([isinstance(v, str) and v != "" for v in old], dtype=bool)
        & targets["title"].isin(list(w.sheets)).to_numpy()
        if len(targets)
        else np.zeros(0, dtype=bool)
    )
    out: list[dict[str, Any]] = []
    for (title, row, col, new), before in zip(
        targets.loc[mask, ["title", "row", "col", "new"]].itertuples(index=False), old[mask], strict=True
    ):
        info = w.sheets[str(title)]
        out.append(
            {
                "findReplace": {
                    "find": before,
                    "replacement": str(to_cell_json(new)),
                    "matchCase": True,
                    "matchEntireCell": True,
                    "range": {
                        "sheetId": info.sheet_id,
                        "startRowIndex": int(row) - 1,
                        "endRowIndex": int(row),
                        "startColumnIndex": int(col),
                        "endColumnIndex": int(col) + 1,
                    },
                }
            }
        )
    return out, mask


def _new_tags(w: _Write, cells: pd.DataFrame) -> list[dict[str, Any]]:
    """createDeveloperMetadata requests tagging the rows of the tabs ``cells`` writes
    (rowtags.new_tags), from row 2 to one past the last row read. Every sync tags afresh
    and its write removes the tags (rowtags.clear_all): knowing which rows already carry
    one would need the row metadata of every grid row before the lock."""
    rng = random.SystemRandom()
    taken: set[int] = set()
    out: list[dict[str, Any]] = []
    for title in _id_cols(cells):
        info = w.sheets.get(title)
        if info is None:
            continue
        out += rowtags.new_tags(info.sheet_id, len(w.rows.get(title, [])) + 1, info.rows, [], taken, rng)
    return out


#: Rows the re-read looks at below the last row read (people may insert rows before the
#: lock): a record pushed further down is not found and gets nothing this time.
REREAD_SLACK_ROWS = 1000


def _reread_bounds(sheets: dict[str, SheetInfo], rows_as_read: dict[str, list[list[Any]]]) -> dict[str, int]:
    """Title -> the last row the re-read covers: the rows read plus REREAD_SLACK_ROWS (and a
    tenth), within the grid. Google answers row metadata for every row of a range, so an
    open-ended range over a huge empty grid would make the answer huge."""
    out = {}
    for title, info in sheets.items():
        last = len(rows_as_read.get(title, [])) + 1
        out[title] = max(2, min(info.rows, last + 1 + REREAD_SLACK_ROWS + last // 10))
    return out


def _fill_cells(w: _Write, cells: pd.DataFrame) -> list[tuple[str, int, int]]:
    """(title, 1-based row, column index) of each blank ID cell the plan fills, as read."""
    if not len(cells):
        return []
    fills = cells[(cells["kind"] == ChangeKind.ID).to_numpy() & cells["title"].isin(list(w.sheets)).to_numpy()]
    return [(str(t), int(r), int(c)) for t, r, c in fills[["title", "row", "col"]].itertuples(index=False)]


def _cell_range(sheet_id: int, row: int, col: int) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": row - 1,
        "endRowIndex": row,
        "startColumnIndex": col,
        "endColumnIndex": col + 1,
    }


def _fill_rules(w: _Write, cells: pd.DataFrame) -> list[dict[str, Any]]:
    """setDataValidation requests putting, on each blank ID cell the plan fills, a strict
    rule no entry passes: from the re-read to the write nobody, not even the spreadsheet's
    owner (whom the lock does not stop), can type an ID there that the fill would
    overwrite. Sheets refuses the entry with the rule's message; the write removes it."""
    note = f"{FILL_RULE_NOTE} (since {_now_utc()}); type it again in a moment"
    rule = {
        "condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": "=FALSE"}]},
        "inputMessage": note,
        "strict": True,
    }
    return [
        {"setDataValidation": {"range": _cell_range(w.sheets[title].sheet_id, row, col), "rule": rule}}
        for title, row, col in _fill_cells(w, cells)
    ]


def _no_rule(sheet_id: int, row: int, col: int) -> dict[str, Any]:
    """setDataValidation without a rule: clears the cell's rule."""
    return {"setDataValidation": {"range": _cell_range(sheet_id, row, col)}}


def _reread_wanted(
    cells: pd.DataFrame, rows_as_read: dict[str, list[list[Any]]]
) -> list[tuple[str, int | None, int | None]]:
    """What the re-read covers: each touched tab's ID column, its compare-and-set columns,
    and the full rows whose identity the ID alone cannot prove (rows whose ID the plan
    fills, rows that shared their ID with another row when read), as (title, column or
    None, row or None)."""
    wanted: list[tuple[str, int | None, int | None]] = []
    for title, group in cells.groupby("title", sort=False):
        title = str(title)
        id_col = int(group["id_col"].iloc[0])
        if id_col >= 0:
            wanted.append((title, id_col, None))
        for col in sorted(set(group.loc[group["cas"].astype(bool) & (group["kind"] != ChangeKind.ID), "col"])):
            wanted.append((title, int(col), None))
        rows = set(group.loc[group["kind"] == ChangeKind.ID, "row"])
        if id_col >= 0:
            read = rows_as_read.get(title, [])
            shared = {
                rid
                for rid, at in _positions([r[id_col] if id_col < len(r) else None for r in read]).items()
                if len(at) > 1
            }
            rows |= set(group.loc[group["record_id"].map(norm_cell).isin(list(shared)), "row"])
        wanted.extend((title, None, int(row)) for row in sorted(rows))
    return wanted


def _reread_range(wanted: tuple[str, int | None, int | None], bounds: dict[str, int] | None = None) -> str:
    """The A1 range of one re-read item; a column down to ``bounds[title]`` (open-ended
    without bounds)."""
    title, col, row = wanted
    if col is not None:
        letter = column_letters(col)
        end = (bounds or {}).get(title)
        return absolute_range_name(title, f"{letter}2:{letter}{end if end is not None else ''}")
    return absolute_range_name(title, f"{row}:{row}")


def _grid_reread(
    wanted: list[tuple[str, int | None, int | None]], answer: Any, id_cols: dict[str, int]
) -> dict[str, dict[Any, Any]]:
    """The re-read: title -> {column index: values from row 2}, -1 -> {row: full row}, from the grid data of
    a spreadsheets.batchUpdate answer (one GridData per response range, per sheet in the
    order asked) or of a spreadsheets.get (``answer`` the spreadsheet itself), with the row
    tags of each ID column (``id_cols``: title -> its index) under :data:`rowtags.TAGS`."""
    data: dict[str, list[dict[str, Any]]] = {}
    book = (answer or {}).get("updatedSpreadsheet", answer or {})
    for sheet in book.get("sheets", []):
        data[sheet["properties"]["title"]] = list(sheet.get("data", []))
    seen: dict[str, int] = defaultdict(int)
    out: dict[str, dict[Any, Any]] = defaultdict(dict)
    for title, col, row in wanted:
        grids = data.get(title, [])
        grid = grids[seen[title]] if seen[title] < len(grids) else {}
        seen[title] += 1
        row_data = grid.get("rowData", [])
        rows = [[_effective(v) for v in r.get("values", [])] for r in row_data]
        if col is not None:
            out[title][col] = [r[0] if r else None for r in rows]
            if col == id_cols.get(title) and "rowMetadata" in grid:
                out[title][rowtags.TAGS] = rowtags.tags_of(grid["rowMetadata"])
            if col == id_cols.get(title):
                out[title][_FILL_RULES] = [(i + 2, col) for i, r in enumerate(row_data) if _fill_rule(r)]
        else:
            out[title].setdefault(-1, {})[row] = _trim_row(rows[0]) if rows else []
    return out


def append_growth(
    sheets: dict[str, SheetInfo], rows_as_read: dict[str, list[list[Any]]], appends: list[NewRows]
) -> list[dict[str, Any]]:
    """appendDimension requests giving ``appends`` room below the rows as read (the grid
    sizes in ``sheets`` are updated to what they will be)."""
    requests: list[dict[str, Any]] = []
    for new in appends:
        info = sheets.get(new.title)
        need = len(rows_as_read.get(new.title, [])) + 1 + len(new.rows)
        if info is not None and need > info.rows:
            extra = need - info.rows + 1000
            requests.append(
                {"appendDimension": {"sheetId": info.sheet_id, "dimension": Dimension.rows, "length": extra}}
            )
            info.rows += extra
    return requests


def append_ranges(
    backend: GoogleSheetsBackend, sheets: dict[str, SheetInfo], appends: list[NewRows], report: WriteReport
) -> list[dict[str, Any]]:
    """values.batchUpdate data putting ``appends`` below each tab's last used row as it is
    now: one values.batchGet re-reads the tabs (a person may have inserted rows or typed
    a record at the bottom since the read), then explicit ranges per run of columns. Not
    values.append, whose table detection lands rows after a blank row or in the columns
    of whatever block it finds."""
    titles = list(dict.fromkeys(new.title for new in appends))
    grids = dict(zip(titles, backend._batch_get([absolute_range_name(t) for t in titles]), strict=True))
    report.requests += 1
    data: list[dict[str, Any]] = []
    grow: list[dict[str, Any]] = []
    for new in appends:
        grid = grids[new.title]
        spot = place(new, list(grid[0]) if grid else [], [list(r) for r in grid[1:]])
        report.skipped.extend(spot.skipped)
        report.notes.extend(spot.notes)
        if not spot.rows:
            continue
        last = spot.first_row + len(spot.rows) - 1
        info = sheets.get(new.title)
        if info is not None and last > info.rows:
            # A person filled rows below the table since the read: grow again.
            grow.append(
                {
                    "appendDimension": {
                        "sheetId": info.sheet_id,
                        "dimension": Dimension.rows,
                        "length": last - info.rows + 1000,
                    }
                }
            )
            info.rows = last + 1000
        for first, end, idx in spans(spot.cols):
            data.append(
                {
                    "range": absolute_range_name(
                        new.title, f"{column_letters(first)}{spot.first_row}:{column_letters(end)}{last}"
                    ),
                    "values": [[to_cell_json(values[i]) for i in idx] for values in spot.rows],
                }
            )
        report.appended += len(spot.rows)
        # Later appends to the same tab go below these rows.
        grid.extend([_row_of(spot.cols, values) for values in spot.rows])
    if grow:
        backend._batch_update_structure(grow)
        report.requests += 1
    return data


def _row_of(cols: list[int], values: list[Any]) -> list[Any]:
    row: list[Any] = [None] * (max(cols) + 1)
    for col, value in zip(cols, values, strict=True):
        row[col] = value
    return row


def _batches(items: Iterable[Any], size: Any, limit: int) -> Iterable[list[Any]]:
    """Consecutive groups of ``items`` whose ``size(item)`` adds up to at most ``limit``
    (an item larger than ``limit`` goes alone)."""
    group: list[Any] = []
    total = 0
    for item in items:
        n = size(item)
        if group and total + n > limit:
            yield group
            group, total = [], 0
        group.append(item)
        total += n
    if group:
        yield group


@dataclass(frozen=True)
class _Chunk:
    """Rows ``start`` to ``end`` (1-based, inclusive) of a sheet, and their A1 range."""

    title: str
    start: int
    end: int
    a1: str


def _chunk_ranges(ranges: list[_Chunk], sheets: dict[str, SheetInfo]) -> Iterable[list[_Chunk]]:
    """Group ranges into batchGet requests of about READ_CHUNK_CELLS cells (one request
    for any workbook up to that size)."""
    return _batches(ranges, lambda c: (c.end - c.start + 1) * sheets[c.title].cols, READ_CHUNK_CELLS)


def _positions(ids: list[Any]) -> dict[Any, list[int]]:
    """Folded ID -> the sheet rows (from row 2) that hold it."""
    where: dict[Any, list[int]] = defaultdict(list)
    for i, value in enumerate(ids):
        key = norm_cell(value)
        if key != "":
            where[key].append(i + 2)
    return where


def retarget(
    cells: pd.DataFrame, reread: dict[str, dict[Any, Any]], rows_as_read: dict[str, list[list[Any]]]
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Aim every planned change at the row where its record is now.

    ``reread``: per title, column index -> that column's values from row 2 on as re-read,
    and -1 -> {row: full row} for rows whose missing ID the plan fills. ``rows_as_read``:
    per title, the rows as first read. Returns the changes with current rows, and the
    skipped ones with why. A record gets nothing when its ID is gone or now on more rows
    than when it was read, when its missing ID could not be filled (the row was edited or
    moved, or someone used that ID meanwhile), or when a person changed its Stage since the
    read (the cells computed from the planned move would be wrong too).
    """
    parts: list[pd.DataFrame] = []
    skipped: list[dict[str, Any]] = []
    # Linear in the number of changes and rows: every per-record decision is made once per
    # ID in a dict, then mapped onto the changes (never one scan of the changes per ID).
    for title, group in cells.groupby("title", sort=False):
        title = str(title)
        spec = TABS[Tab(group["tab"].iloc[0])]
        seen = reread.get(title, {})
        id_col = int(group["id_col"].iloc[0])
        if id_col < 0:
            parts.append(group)
            continue
        read_rows = rows_as_read.get(title, [])
        now = _positions(seen.get(id_col, []))
        then = _positions([r[id_col] if id_col < len(r) else None for r in read_rows])
        record = group["record_id"].map(norm_cell)
        rec = record.to_numpy()
        planned_rows = group["row"].astype("int64").to_numpy()
        is_fill = (group["kind"] == ChangeKind.ID).to_numpy()
        full_rows = seen.get(-1, {})
        refused: dict[Any, Worded] = {}
        fill_row: dict[Any, int] = {}
        for row, new in zip(planned_rows[is_fill], group["new"].to_numpy()[is_fill], strict=True):
            row, new_id = int(row), norm_cell(new)
            before = read_rows[row - 2] if row - 2 < len(read_rows) else []
            if new_id in now:
                refused[new_id] = because(N_("the ID {id} is now used on row {row}"), id=new_id, row=now[new_id][0])
            elif not _same_row(full_rows.get(row, []), before):
                refused[new_id] = because(N_("the row without an ID was edited or moved since it was read"))
            else:
                fill_row[new_id] = row
        unique_row: dict[Any, int] = {}
        shared_ok: set[tuple[Any, int]] = set()
        for rid, rows in now.items():
            if rid in fill_row or rid in refused:
                continue
            read_at = then.get(rid, [])
            if len(rows) == 1 and len(read_at) <= 1:
                unique_row[rid] = rows[0]
            elif len(read_at) > 1 and rows == read_at:
                # Read with this ID on the same rows: a change stays on the row it was planned
                # for (so the Problems cell reporting the duplicate lands), if that row still
                # holds exactly what was read (a sort may have swapped the two records).
                for row in read_at:
                    if _same_row(full_rows.get(row, []), read_rows[row - 2] if row - 2 < len(read_rows) else []):
                        shared_ok.add((rid, row))
            elif len(read_at) > 1:
                refused[rid] = because(
                    N_("its ID was on {before} rows when read and is now on {now}"), before=len(read_at), now=len(rows)
                )
        target = np.full(len(group), -1, dtype="int64")
        for i, (rid, row, fill) in enumerate(zip(rec, planned_rows, is_fill, strict=True)):
            if rid in fill_row:
                target[i] = fill_row[rid]
            elif fill:
                continue
            elif rid in unique_row:
                target[i] = unique_row[rid]
            elif (rid, int(row)) in shared_ok:
                target[i] = row
        cas = group["cas"].astype(bool).to_numpy() & ~is_fill
        for i, col, old, column in zip(
            (int(k) for k in np.flatnonzero(cas)),
            group["col"].to_numpy()[cas],
            group["old"].to_numpy()[cas],
            group["column"].to_numpy()[cas],
            strict=True,
        ):
            rid, row = rec[i], int(target[i])
            if row < 0 or rid in refused:
                continue
            values = seen.get(int(col), [])
            current = values[row - 2] if row - 2 < len(values) else None
            if norm_cell(current) != norm_cell(old):
                # Named: a Chinese Log names the column in Chinese too
                name = Named(column, spec.column(column).zh) if spec.has(column) else column
                refused[rid] = because(
                    N_("{column} changed to {value} since it was read"), column=name, value=repr(current)
                )
        for rid in set(rec[target < 0]) - set(refused):
            rows = now.get(rid, [])
            refused[rid] = because(N_("its ID is now on {count} rows"), count=len(rows)) if rows else because(GONE)
        dropped = record.isin(list(refused)).to_numpy() | (target < 0)
        for ix, change in group[dropped].iterrows():
            skipped.append(_skip(title, change, refused.get(record.at[ix]) or because(GONE)))
        kept = group[~dropped].copy()
        kept["row"] = target[~dropped]
        parts.append(kept)
    out = pd.concat(parts) if parts else cells.iloc[0:0]
    return out, skipped


#: A lock older than this is one a sync left behind (a sync locks for seconds); younger
#: ones belong to a sync still writing and are left alone.
STALE_LOCK_SECONDS = 600


def _now_utc() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stale_lock(description: str) -> bool:
    """Whether a protected range is a lock some sync left behind."""
    if not description.startswith(LOCK_DESCRIPTION):
        return False
    found = re.search(r" since (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", description)
    if not found:
        return True
    since = dt.datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return (dt.datetime.now(dt.UTC) - since).total_seconds() > STALE_LOCK_SECONDS


def _fill_rule(row: dict[str, Any]) -> bool:
    """Whether the first cell of a GridData row holds an ID-fill rule (:func:`_fill_rules`)."""
    first = (row.get("values") or [{}])[0]
    return str((first.get("dataValidation") or {}).get("inputMessage", "")).startswith(FILL_RULE_NOTE)


def _effective(cell: dict[str, Any]) -> Any:
    """A cell's value from GridData, as values.get with UNFORMATTED_VALUE gives it."""
    value = cell.get("effectiveValue") or {}
    for key in ("stringValue", "numberValue", "boolValue"):
        if key in value:
            return value[key]
    if "errorValue" in value:
        return value["errorValue"].get("type", "#ERROR!")
    return ""


def _trim_row(row: list[Any]) -> list[Any]:
    while row and row[-1] in ("", None):
        row = row[:-1]
    return row


def _update_cells(item: dict[str, Any], sheet_ids: dict[str, int]) -> dict[str, Any]:
    """A values.batchUpdate data item (A1 range, rows of JSON values) as an updateCells
    request that sets only the values: text as stringValue (never a formula, like RAW),
    "" clears the cell."""
    ref = parse_a1(item["range"])
    r0, c0 = int(ref.start_row or 0), int(ref.start_col or 0)
    rows = item["values"]
    width = max((len(r) for r in rows), default=1)
    return {
        "updateCells": {
            "range": {
                "sheetId": sheet_ids[str(ref.sheet)],
                "startRowIndex": r0,
                "endRowIndex": r0 + len(rows),
                "startColumnIndex": c0,
                "endColumnIndex": c0 + width,
            },
            "rows": [{"values": [_extended(v) for v in row]} for row in rows],
            "fields": "userEnteredValue",
        }
    }


def _extended(value: Any) -> dict[str, Any]:
    """:func:`_cell_data`, with an empty string left empty too."""
    return {} if value == "" else _cell_data(value)


def _same_row(now: list[Any], before: list[Any]) -> bool:
    width = max(len(now), len(before))
    pad = lambda r: [norm_cell(v) for v in r] + [""] * (width - len(r))  # noqa: E731
    return bool(before) and pad(now) == pad(before)


#: Why a change is not written: no row holds its record's ID any more.
GONE = N_("its record is gone")


def _skip(title: str, change: Any, reason: Worded) -> dict[str, Any]:
    return {
        "tab": title,
        "row": int(change["row"]),
        "column": change["column"],
        "id": change["record_id"],
        "reason": reason,
    }


def _ranges_for(targets: pd.DataFrame) -> list[dict[str, Any]]:
    """values.batchUpdate data: runs of consecutive rows in one column become one range."""
    data: list[dict[str, Any]] = []
    if targets.empty:
        return data
    ordered = targets.sort_values(["title", "col", "row"], kind="stable")
    for (title, col), group in ordered.groupby(["title", "col"], sort=False):
        rows = group["row"].astype(int).to_list()
        values = [to_cell_json(v) for v in group["new"]]
        letter = column_letters(int(str(col)))
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or rows[i] != rows[i - 1] + 1:
                data.append(
                    {
                        "range": absolute_range_name(str(title), f"{letter}{rows[start]}:{letter}{rows[i - 1]}"),
                        "values": [[v] for v in values[start:i]],
                    }
                )
                start = i
    return data


def _split_long(data: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for item in data:
        values = item["values"]
        n = len(json.dumps(values, ensure_ascii=False).encode())
        if n <= WRITE_PAYLOAD_BYTES or len(values) < 2:
            yield item
            continue
        where = parse_a1(item["range"])
        sheet, r1, c1, c2 = where.sheet, where.start_row, where.start_col, where.end_col
        if sheet is None or r1 is None or c1 is None or c2 is None or where.end_row is None:
            yield item
            continue
        per = max(1, len(values) * WRITE_PAYLOAD_BYTES // (2 * n))
        for i in range(0, len(values), per):
            part = values[i : i + per]
            start = r1 + 1 + i
            cols = f"{column_letters(c1)}{start}:{column_letters(c2 - 1)}{start + len(part) - 1}"
            yield {"range": absolute_range_name(sheet, cols), "values": part}


def _cell_data(value: Any) -> dict[str, Any]:
    """A CellData for updateCells: numbers and booleans as such, everything else as a
    string value (never a formula)."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": str(value)}}


__all__ = ["GoogleSheetsBackend", "ReadToken", "retarget", "spreadsheet_key", "to_cell_json"]
