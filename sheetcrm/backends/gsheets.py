"""The product's backend: a Google Sheets spreadsheet, reached only through gspread.

A full sync costs at most four requests whatever the workbook's size (larger workbooks
are read in row chunks and written in payloads of about 2 MB):

1. ``spreadsheets.get`` (metadata only): tab titles and grid sizes;
2. ``values.batchGet`` of every CRM tab, ``UNFORMATTED_VALUE`` with ``SERIAL_NUMBER`` dates;
3. before writing, one ``values.batchGet`` re-reading the ID column of every tab the plan
   touches, the compare-and-set columns (Stage), and the rows whose missing ID it fills;
4. one ``values.batchUpdate`` with ``RAW`` input (text typed as ``=...`` stays text),
   Log rows included.

A fifth request (``spreadsheets.batchUpdate``) happens only when the grid must grow (new
computed columns, a Log past its last row) or the Log tab is missing.

People edit while sync runs. Step 3 aims every write at the row where its record's ID is
now, skips records whose ID vanished or now appears twice, skips a Stage or ID cell that
changed since step 2, and fills a missing ID only if its row still holds exactly what was
read. Nothing a person typed is overwritten; no computed value lands on another record.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import gspread
import pandas as pd
from gspread.exceptions import APIError
from gspread.utils import DateTimeOption, Dimension, ValueInputOption, ValueRenderOption, absolute_range_name

from sheetcrm.backends.append import NewRows, place, spans
from sheetcrm.backends.base import (
    ChangeKind,
    RawTab,
    WritePlan,
    WriteReport,
    encode_log_row,
    norm_cell,
    reconcile_log,
)
from sheetcrm.cells.a1 import column_letters, parse_a1
from sheetcrm.cells.serial import to_serial
from sheetcrm.exceptions import PermissionDeniedError, SheetCRMError, WorkbookNotFoundError, WorkbookWriteError, shown
from sheetcrm.schema import Tab, find_tabs

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
        f"{shown(key_or_url)} is neither a Google Sheets URL nor a spreadsheet key; copy the URL "
        "from the browser's address bar (https://docs.google.com/spreadsheets/d/KEY/edit)"
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


@dataclass(frozen=True)
class ReadToken:
    """What ``write`` needs from the read a plan was made from (:attr:`RawTab.token`): the
    sheet's ID and grid size, and its rows as read (to re-target writes by ID)."""

    sheet: SheetInfo
    rows: list[list[Any]]


def _api_error(exc: APIError, key: str, credentials: Any, action: str) -> SheetCRMError:
    """A gspread APIError as a sheetcrm error that says what to do."""
    from sheetcrm.google.auth import service_account_email

    status = exc.response.status_code if exc.response is not None else 0
    if status == 404:
        return WorkbookNotFoundError(
            f"spreadsheet {key!r} was not found; check the key or URL (copy it from the browser's address bar)"
        )
    if status == 403:
        email = service_account_email(credentials)
        share = (
            f"share the spreadsheet with {email} (Share → add that email as Editor)"
            if email
            else "share the spreadsheet with the account sheetcrm signs in as"
        )
        return PermissionDeniedError(f"no permission to {action} spreadsheet {key!r}; {share}")
    return WorkbookWriteError(f"could not {action} spreadsheet {key!r}: {status} {google_message(exc)}")


def google_message(exc: APIError) -> str:
    """Google's own error message from an APIError's JSON body."""
    try:
        return str(exc.response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return "the Google Sheets API refused the request"


class GoogleSheetsBackend:
    """A CRM workbook in Google Sheets, reached through ``client`` (a gspread.Client)."""

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
        try:
            meta = self.http.fetch_sheet_metadata(
                self.key,
                params={
                    "includeGridData": "false",
                    "fields": "sheets.properties(sheetId,title,gridProperties(rowCount,columnCount))",
                },
            )
        except APIError as exc:
            raise _api_error(exc, self.key, self.credentials, "open") from None
        out = {}
        for index, sheet in enumerate(meta.get("sheets", [])):
            props = sheet["properties"]
            grid = props.get("gridProperties", {})
            out[props["title"]] = SheetInfo(
                props["title"],
                int(props.get("sheetId", 0)),
                int(grid.get("rowCount", 1000)),
                int(grid.get("columnCount", 26)),
                index,
            )
        return out

    def _batch_get(self, ranges: list[str]) -> list[list[list[Any]]]:
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
            raise _api_error(exc, self.key, self.credentials, "read") from None
        return [vr.get("values", []) for vr in answer.get("valueRanges", [])]

    def read(self) -> dict[Tab, RawTab]:
        """Every CRM tab: one metadata request, then one values.batchGet (more only for
        tabs too large for one answer, read in row chunks)."""
        sheets = self.metadata()
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
            out[tab] = RawTab(tab, title, header, rows, ReadToken(sheets[title], rows))
        return out

    # --------------------------------------------------------------- write

    def write(self, plan: WritePlan) -> WriteReport:
        """Re-read the rows the plan aims at (one request), re-target or skip each change,
        then write everything in one values.batchUpdate (RAW)."""
        report = WriteReport()
        if plan.empty:
            return report
        # A plan made without this backend's read (by hand, or from another backend's
        # tabs) is aimed at the sheet as it is now.
        tokens = plan.read or {tab: raw.token for tab, raw in self.read().items()}
        read = [t for t in tokens.values() if isinstance(t, ReadToken)]
        # Copies: growing the grid updates them, and the plan's tokens stay as read.
        sheets = {t.sheet.title: replace(t.sheet) for t in sorted(read, key=lambda t: t.sheet.index)}
        rows_as_read = {t.sheet.title: t.rows for t in read}
        log_read = tokens.get(Tab.LOG)
        log_title = log_read.sheet.title if isinstance(log_read, ReadToken) else plan.log_title
        cells = plan.cells
        # Grow the grid first, so the re-read sits right before the write: the window in
        # which a person's inserted row could shift the writes is one request wide.
        grow = self._growth(cells, plan, log_title, sheets, len(rows_as_read.get(log_title, [])))
        grow += append_growth(sheets, rows_as_read, plan.appends)
        if grow:
            self._batch_update_structure(grow)
            report.requests += 1
        reread, requests = self._reread(cells, rows_as_read)
        report.requests += requests
        targets, skipped = retarget(cells, reread, rows_as_read)
        report.skipped.extend(skipped)
        data = _ranges_for(targets)
        if plan.appends:
            data.extend(append_ranges(self, sheets, plan.appends, report))
        for _tab, title, col, text in plan.headers:
            at = plan.header_rows.get(title, 1)
            data.append({"range": absolute_range_name(title, f"{column_letters(col)}{at}"), "values": [[text]]})
        log = reconcile_log(plan, skipped)
        if log:
            first = len(rows_as_read.get(log_title, [])) + 2
            if log_title not in sheets:
                data.append({"range": absolute_range_name(log_title, "A1"), "values": [list(plan.log_header)]})
            last = first + len(log) - 1
            data.append(
                {
                    "range": absolute_range_name(log_title, f"A{first}:{column_letters(len(log[0]) - 1)}{last}"),
                    "values": [[to_cell_json(v) for v in row] for row in log],
                }
            )
            report.log_rows = len(log)
        for body in _payloads(data):
            try:
                self.http.values_batch_update(self.key, body={"valueInputOption": ValueInputOption.raw, "data": body})
            except APIError as exc:
                raise _api_error(exc, self.key, self.credentials, "write") from None
            report.requests += 1
        report.written = len(targets)
        return report

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
        try:
            self.http.batch_update(self.key, {"requests": requests})
        except APIError as exc:
            raise _api_error(exc, self.key, self.credentials, "write") from None
        written = sum(v is not None for r in rows for v in r)
        return WriteReport(written=written, requests=2)

    def _reread(
        self, cells: pd.DataFrame, rows_as_read: dict[str, list[list[Any]]]
    ) -> tuple[dict[str, dict[Any, Any]], int]:
        """One batchGet: each touched tab's ID column, its compare-and-set columns, and the
        full rows whose identity the ID alone cannot prove (rows whose ID the plan fills,
        rows that shared their ID with another row when read). Returns title -> {column
        index: values from row 2} (key -1 holds {row: full row}) and the requests made."""
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
        requests = 1
        try:
            values = self._batch_get([self._reread_range(w) for w in wanted]) if wanted else []
        except WorkbookWriteError as exc:
            if "exceeds grid limits" not in str(exc):
                raise
            # A full row past a grid that deletions shrank: prove nothing by it (its changes
            # are skipped) rather than fail the sync.
            wanted = [w for w in wanted if w[1] is not None]
            values = self._batch_get([self._reread_range(w) for w in wanted])
            requests += 1
        out: dict[str, dict[Any, Any]] = defaultdict(dict)
        for (title, col, row), got in zip(wanted, values, strict=True):
            if col is not None:
                out[title][col] = [r[0] if r else None for r in got]
            else:
                out[title].setdefault(-1, {})[row] = list(got[0]) if got else []
        return out, requests

    @staticmethod
    def _reread_range(wanted: tuple[str, int | None, int | None]) -> str:
        title, col, row = wanted
        if col is not None:
            # Open-ended: people may have deleted rows, shrinking the grid, since the read.
            letter = column_letters(col)
            return absolute_range_name(title, f"{letter}2:{letter}")
        return absolute_range_name(title, f"{row}:{row}")

    @staticmethod
    def _growth(
        targets: pd.DataFrame, plan: WritePlan, log_title: str, sheets: dict[str, SheetInfo], log_rows: int
    ) -> list[dict[str, Any]]:
        """spreadsheets.batchUpdate requests that make room for the writes (if any), given
        the sheets as read and how many rows the Log held."""
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
            last = log_rows + 1 + len(plan.log)
            log_width = len(encode_log_row(plan.log[0]))
            if log_title not in sheets:
                # Room for many runs, so later syncs do not need this extra request.
                rows = max(1000, last + 1000)
                requests.append(
                    {
                        "addSheet": {
                            "properties": {
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
        # Shading rides along with a request the grid needs anyway: a sync stays at four
        # requests when the new columns fit (they then keep the sheet's own format).
        return requests + shading if requests else []

    def _batch_update_structure(self, requests: list[dict[str, Any]]) -> None:
        try:
            self.http.batch_update(self.key, {"requests": requests})
        except APIError as exc:
            raise _api_error(exc, self.key, self.credentials, "resize") from None


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
    for title, group in cells.groupby("title", sort=False):
        title = str(title)
        seen = reread.get(title, {})
        id_col = int(group["id_col"].iloc[0])
        if id_col < 0:
            parts.append(group)
            continue
        read_rows = rows_as_read.get(title, [])
        now = _positions(seen.get(id_col, []))
        then = _positions([r[id_col] if id_col < len(r) else None for r in read_rows])
        record = group["record_id"].map(norm_cell)
        is_fill = (group["kind"] == ChangeKind.ID).to_numpy()
        fill_ids = set(group.loc[is_fill, "new"].map(norm_cell))
        target = pd.Series(-1, index=group.index, dtype="int64")
        refused: dict[Any, str] = {}
        for _ix, change in group[is_fill].iterrows():
            row, new_id = int(change["row"]), norm_cell(change["new"])
            before = read_rows[row - 2] if row - 2 < len(read_rows) else []
            if new_id in now:
                refused[new_id] = f"the ID {new_id} is now used on row {now[new_id][0]}"
            elif not _same_row(seen.get(-1, {}).get(row, []), before):
                refused[new_id] = "the row without an ID was edited or moved since it was read"
            else:
                target[record == new_id] = row
        full_rows = seen.get(-1, {})
        for rid, rows in now.items():
            if rid in fill_ids:
                continue
            mine = (record == rid).to_numpy() & ~is_fill
            read_at = then.get(rid, [])
            if len(rows) == 1 and len(read_at) <= 1:
                target[mine] = rows[0]
            elif len(read_at) > 1 and rows == read_at:
                # Read with this ID on the same rows: a change stays on the row it was planned
                # for (so the Problems cell reporting the duplicate lands), if that row still
                # holds exactly what was read (a sort may have swapped the two records).
                for row in read_at:
                    if _same_row(full_rows.get(row, []), read_rows[row - 2] if row - 2 < len(read_rows) else []):
                        on_row = mine & (group["row"].astype("int64") == row).to_numpy()
                        target[on_row] = row
            elif len(read_at) > 1:
                refused[rid] = f"its ID was on {len(read_at)} rows when read and is now on {len(rows)}"
        for ix, change in group[group["cas"].astype(bool) & ~is_fill].iterrows():
            rid, row = record.at[ix], int(str(target.at[ix]))
            if row < 0 or rid in refused:
                continue
            column = seen.get(int(change["col"]), [])
            current = column[row - 2] if row - 2 < len(column) else None
            if norm_cell(current) != norm_cell(change["old"]):
                refused[rid] = f"{change['column']} changed to {current!r} since it was read"
        for rid in set(record[target < 0]) - set(refused):
            rows = now.get(rid, [])
            refused[rid] = "its record is gone" if not rows else f"its ID is now on {len(rows)} rows"
        dropped = record.isin(list(refused)).to_numpy() | (target < 0).to_numpy()
        for ix, change in group[dropped].iterrows():
            skipped.append(_skip(title, change, refused.get(record.at[ix], "its record is gone")))
        kept = group[~dropped].copy()
        kept["row"] = target[~dropped].to_numpy()
        parts.append(kept)
    out = pd.concat(parts) if parts else cells.iloc[0:0]
    return out, skipped


def _same_row(now: list[Any], before: list[Any]) -> bool:
    width = max(len(now), len(before))
    pad = lambda r: [norm_cell(v) for v in r] + [""] * (width - len(r))  # noqa: E731
    return bool(before) and pad(now) == pad(before)


def _skip(title: str, change: Any, reason: str) -> dict[str, Any]:
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


def _payloads(data: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    """Split ``data`` into request bodies of at most WRITE_PAYLOAD_BYTES (a long single
    range is split by rows)."""
    return _batches(
        _split_long(data), lambda item: len(json.dumps(item, ensure_ascii=False).encode()), WRITE_PAYLOAD_BYTES
    )


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
