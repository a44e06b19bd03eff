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
from dataclasses import dataclass, field
from typing import Any

import gspread
import pandas as pd
from gspread.exceptions import APIError

from sheetcrm.backends.append import NewRows, place, spans
from sheetcrm.backends.base import RawTab, WritePlan, WriteReport, norm_cell, reconcile_log
from sheetcrm.exceptions import PermissionDeniedError, SheetCRMError, WorkbookNotFoundError, WorkbookWriteError, shown
from sheetcrm.schema import Tab, column_letter, find_tabs

SERIAL_EPOCH = dt.datetime(1899, 12, 30)
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


def quote_title(title: str) -> str:
    """A sheet title as A1 notation wants it: always quoted, inner quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


def to_cell_json(value: Any) -> Any:
    """A plan value as JSON the Sheets API takes with RAW input: dates as serial numbers,
    None and NaN as "" (which clears the cell)."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return (value - SERIAL_EPOCH).total_seconds() / 86400
    if isinstance(value, dt.date):
        return (value - SERIAL_EPOCH.date()).days
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


@dataclass
class ReadState:
    """What the last read saw: grid sizes and the rows as read (for re-targeting)."""

    sheets: dict[str, SheetInfo] = field(default_factory=dict)
    rows: dict[str, list[list[Any]]] = field(default_factory=dict)
    log_title: str | None = None


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
    return WorkbookWriteError(f"could not {action} spreadsheet {key!r}: {status} {_google_message(exc)}")


def _google_message(exc: APIError) -> str:
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
        self.state = ReadState()

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
        for sheet in meta.get("sheets", []):
            props = sheet["properties"]
            grid = props.get("gridProperties", {})
            out[props["title"]] = SheetInfo(
                props["title"],
                int(props.get("sheetId", 0)),
                int(grid.get("rowCount", 1000)),
                int(grid.get("columnCount", 26)),
            )
        return out

    def _batch_get(self, ranges: list[str]) -> list[list[list[Any]]]:
        try:
            answer = self.http.values_batch_get(
                self.key,
                ranges,
                params={
                    "valueRenderOption": "UNFORMATTED_VALUE",
                    "dateTimeRenderOption": "SERIAL_NUMBER",
                    "majorDimension": "ROWS",
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
        ranges: list[tuple[Tab, str, str]] = []
        for tab, title in tabs.items():
            info = sheets[title]
            last = column_letter(max(info.cols, 1) - 1)
            rows_per_chunk = max(1000, READ_CHUNK_CELLS // max(info.cols, 1))
            for start in range(1, info.rows + 1, rows_per_chunk):
                end = min(info.rows, start + rows_per_chunk - 1)
                ranges.append((tab, title, f"{quote_title(title)}!A{start}:{last}{end}"))
        grids: dict[str, list[list[Any]]] = defaultdict(list)
        for group in _chunk_ranges(ranges, sheets):
            values = self._batch_get([r for _, _, r in group])
            for (_tab, title, a1), rows in zip(group, values, strict=True):
                start = int(re.search(r"!A(\d+):", a1).group(1))  # type: ignore[union-attr]
                grid = grids[title]
                grid.extend([] for _ in range(start - 1 - len(grid)))
                grid.extend(rows)
        out: dict[Tab, RawTab] = {}
        self.state = ReadState(sheets=sheets, log_title=tabs.get(Tab.LOG))
        for tab, title in tabs.items():
            grid = grids.get(title, [])
            header = list(grid[0]) if grid else []
            rows = [list(r) for r in grid[1:]]
            while rows and not rows[-1]:
                rows.pop()
            self.state.rows[title] = rows
            out[tab] = RawTab(tab, title, header, rows)
        return out

    # --------------------------------------------------------------- write

    def write(self, plan: WritePlan) -> WriteReport:
        """Re-read the rows the plan aims at (one request), re-target or skip each change,
        then write everything in one values.batchUpdate (RAW)."""
        report = WriteReport()
        if plan.empty:
            return report
        if not self.state.sheets:
            self.read()
        cells = plan.cells
        log_title = self.state.log_title or plan.log_title
        # Grow the grid first, so the re-read sits right before the write: the window in
        # which a person's inserted row could shift the writes is one request wide.
        grow = self._growth(cells, plan, log_title) + append_growth(self.state, plan.appends)
        if grow:
            self._batch_update_structure(grow)
            report.requests += 1
        reread, requests = self._reread(cells)
        report.requests += requests
        targets, skipped = retarget(cells, reread, self.state.rows)
        report.skipped.extend(skipped)
        data = _ranges_for(targets)
        if plan.appends:
            data.extend(append_ranges(self, plan.appends, report))
        for _tab, title, col, text in plan.headers:
            data.append({"range": f"{quote_title(title)}!{column_letter(col)}1", "values": [[text]]})
        log = reconcile_log(plan, skipped)
        if log:
            first = len(self.state.rows.get(log_title, [])) + 2
            if self.state.log_title is None:
                data.append({"range": f"{quote_title(log_title)}!A1", "values": [list(plan.log_header)]})
            last = first + len(log) - 1
            data.append(
                {
                    "range": f"{quote_title(log_title)}!A{first}:{column_letter(len(log[0]) - 1)}{last}",
                    "values": [[to_cell_json(v) for v in row] for row in log],
                }
            )
            report.log_rows = len(log)
        for body in _payloads(data):
            try:
                self.http.values_batch_update(self.key, body={"valueInputOption": "RAW", "data": body})
            except APIError as exc:
                raise _api_error(exc, self.key, self.credentials, "write") from None
            report.requests += 1
        report.written = len(targets)
        self.state = ReadState()
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
        self.state = ReadState()
        written = sum(v is not None for r in rows for v in r)
        return WriteReport(written=written, requests=2)

    def _reread(self, cells: pd.DataFrame) -> tuple[dict[str, dict[Any, Any]], int]:
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
            for col in sorted(set(group.loc[group["cas"].astype(bool) & (group["kind"] != "id"), "col"])):
                wanted.append((title, int(col), None))
            rows = set(group.loc[group["kind"] == "id", "row"])
            if id_col >= 0:
                read = self.state.rows.get(title, [])
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
            letter = column_letter(col)
            return f"{quote_title(title)}!{letter}2:{letter}"
        return f"{quote_title(title)}!{row}:{row}"

    def _growth(self, targets: pd.DataFrame, plan: WritePlan, log_title: str) -> list[dict[str, Any]]:
        """spreadsheets.batchUpdate requests that make room for the writes (if any)."""
        need_rows: dict[str, int] = defaultdict(int)
        need_cols: dict[str, int] = defaultdict(int)
        for title, group in targets.groupby("title", sort=False) if len(targets) else ():
            need_rows[str(title)] = int(group["row"].max())
            need_cols[str(title)] = int(group["col"].max()) + 1
        for _tab, title, col, _text in plan.headers:
            need_cols[title] = max(need_cols[title], col + 1)
        requests: list[dict[str, Any]] = []
        if plan.log:
            last = len(self.state.rows.get(log_title, [])) + 1 + len(plan.log)
            if log_title not in self.state.sheets:
                # Room for many runs, so later syncs do not need this extra request.
                rows = max(1000, last + 1000)
                requests.append(
                    {
                        "addSheet": {
                            "properties": {
                                "title": log_title,
                                "gridProperties": {"rowCount": rows, "columnCount": 8, "frozenRowCount": 1},
                            }
                        }
                    }
                )
            else:
                need_rows[log_title] = max(need_rows[log_title], last)
                need_cols[log_title] = max(need_cols[log_title], len(plan.log[0]))
        for title, info in self.state.sheets.items():
            if need_rows.get(title, 0) > info.rows:
                requests.append(
                    {
                        "appendDimension": {
                            "sheetId": info.sheet_id,
                            "dimension": "ROWS",
                            "length": need_rows[title] - info.rows + 1000,
                        }
                    }
                )
            if need_cols.get(title, 0) > info.cols:
                requests.append(
                    {
                        "appendDimension": {
                            "sheetId": info.sheet_id,
                            "dimension": "COLUMNS",
                            "length": need_cols[title] - info.cols,
                        }
                    }
                )
        return requests

    def _batch_update_structure(self, requests: list[dict[str, Any]]) -> None:
        try:
            self.http.batch_update(self.key, {"requests": requests})
        except APIError as exc:
            raise _api_error(exc, self.key, self.credentials, "resize") from None


def append_growth(state: ReadState, appends: list[NewRows]) -> list[dict[str, Any]]:
    """appendDimension requests giving ``appends`` room below the rows as read (the grid
    sizes in ``state`` are updated to what they will be)."""
    requests: list[dict[str, Any]] = []
    for new in appends:
        info = state.sheets.get(new.title)
        need = len(state.rows.get(new.title, [])) + 1 + len(new.rows)
        if info is not None and need > info.rows:
            extra = need - info.rows + 1000
            requests.append({"appendDimension": {"sheetId": info.sheet_id, "dimension": "ROWS", "length": extra}})
            info.rows += extra
    return requests


def append_ranges(backend: GoogleSheetsBackend, appends: list[NewRows], report: WriteReport) -> list[dict[str, Any]]:
    """values.batchUpdate data putting ``appends`` below each tab's last used row as it is
    now: one values.batchGet re-reads the tabs (a person may have inserted rows or typed
    a record at the bottom since the read), then explicit ranges per run of columns. Not
    values.append, whose table detection lands rows after a blank row or in the columns
    of whatever block it finds."""
    titles = list(dict.fromkeys(new.title for new in appends))
    grids = dict(zip(titles, backend._batch_get([quote_title(t) for t in titles]), strict=True))
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
        info = backend.state.sheets.get(new.title)
        if info is not None and last > info.rows:
            # A person filled rows below the table since the read: grow again.
            grow.append(
                {"appendDimension": {"sheetId": info.sheet_id, "dimension": "ROWS", "length": last - info.rows + 1000}}
            )
            info.rows = last + 1000
        for first, end, idx in spans(spot.cols):
            data.append(
                {
                    "range": f"{quote_title(new.title)}!{column_letter(first)}{spot.first_row}:"
                    f"{column_letter(end)}{last}",
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


def _chunk_ranges(
    ranges: list[tuple[Tab, str, str]], sheets: dict[str, SheetInfo]
) -> Iterable[list[tuple[Tab, str, str]]]:
    """Group ranges into batchGet requests of about READ_CHUNK_CELLS cells (one request
    for any workbook up to that size)."""

    def cells(item: tuple[Tab, str, str]) -> int:
        m = re.search(r"!A(\d+):[A-Z]+(\d+)$", item[2])
        return (int(m.group(2)) - int(m.group(1)) + 1) * sheets[item[1]].cols if m else 0

    return _batches(ranges, cells, READ_CHUNK_CELLS)


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
        is_fill = (group["kind"] == "id").to_numpy()
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
        letter = column_letter(int(str(col)))
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or rows[i] != rows[i - 1] + 1:
                data.append(
                    {
                        "range": f"{quote_title(str(title))}!{letter}{rows[start]}:{letter}{rows[i - 1]}",
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
        m = re.match(r"^(.*!)([A-Z]+)(\d+):([A-Z]+)(\d+)$", item["range"])
        if not m:
            yield item
            continue
        sheet, c1, r1, c2, _r2 = m.groups()
        per = max(1, len(values) * WRITE_PAYLOAD_BYTES // (2 * n))
        for i in range(0, len(values), per):
            part = values[i : i + per]
            start = int(r1) + i
            yield {"range": f"{sheet}{c1}{start}:{c2}{start + len(part) - 1}", "values": part}


__all__ = ["GoogleSheetsBackend", "quote_title", "retarget", "spreadsheet_key", "to_cell_json"]


# ----------------------------------------------------------------- connect and create


#: Environment variable that sends Sheets and Drive API calls to another base URL (a
#: local fake such as :mod:`sheetcrm.testing`), for testing automation without Google.
ENV_API_URL = "SHEETCRM_SHEETS_API_URL"


def connect(
    credentials: Any = None, *, create: bool = False, client: gspread.Client | None = None, base_url: str | None = None
) -> tuple[gspread.Client, Any]:
    """A gspread client with bounded retries, on credentials resolved by
    :func:`sheetcrm.google.auth.load_credentials` (``credentials`` may be a key file path, or
    already-built google-auth credentials). Returns (client, credentials)."""
    import os

    from sheetcrm.google.auth import load_credentials
    from sheetcrm.google.http import make_client
    from sheetcrm.google.redact import install_log_redaction

    install_log_redaction()
    if client is not None:
        return client, getattr(client.http_client, "auth", credentials)
    if credentials is None or isinstance(credentials, str | os.PathLike):
        credentials = load_credentials(credentials, create=create)
    return make_client(credentials, base_url=base_url or os.environ.get(ENV_API_URL) or None), credentials


# The same shades as the .xlsx template (E7E6E6 and DDEBF7).
_COMPUTED_SHADE = {"red": 0.91, "green": 0.90, "blue": 0.90}
_PEOPLE_SHADE = {"red": 0.87, "green": 0.92, "blue": 0.97}


def _grid_requests(lang: Any) -> list[dict[str, Any]]:
    """spreadsheets.batchUpdate requests laying out every tab of the schema: titles, sizes,
    frozen header, dropdowns, shaded and warning-protected computed columns, formats."""
    from sheetcrm.schema import TABS, ColumnType

    requests: list[dict[str, Any]] = []
    for sheet_id, spec in enumerate(TABS.values()):
        props = {
            "sheetId": sheet_id,
            "title": spec.title(lang),
            "index": sheet_id,
            "gridProperties": {"rowCount": 1000, "columnCount": len(spec.columns), "frozenRowCount": 1},
        }
        if sheet_id == 0:
            requests.append({"updateSheetProperties": {"properties": props, "fields": "title,index,gridProperties"}})
        else:
            requests.append({"addSheet": {"properties": props}})
        for i, col in enumerate(spec.columns):
            column = {"sheetId": sheet_id, "startColumnIndex": i, "endColumnIndex": i + 1}
            shade = _COMPUTED_SHADE if col.computed else _PEOPLE_SHADE
            requests.append(
                {
                    "repeatCell": {
                        "range": {**column, "startRowIndex": 0, "endRowIndex": 1},
                        "cell": {
                            "userEnteredFormat": {
                                "backgroundColor": shade,
                                "textFormat": {"bold": True, "italic": col.computed},
                            }
                        },
                        "fields": "userEnteredFormat(backgroundColor,textFormat)",
                    }
                }
            )
            pattern = {"DATE": "yyyy-mm-dd", "DATETIME": "yyyy-mm-dd hh:mm", "MONEY": "#,##0.##"}.get(col.type.name)
            if col.key == "Probability":
                pattern = "0%"
            if pattern:
                requests.append(
                    {
                        "repeatCell": {
                            "range": {**column, "startRowIndex": 1},
                            "cell": {
                                "userEnteredFormat": {
                                    "numberFormat": {
                                        "type": "PERCENT"
                                        if pattern == "0%"
                                        else ("NUMBER" if "#" in pattern else "DATE"),
                                        "pattern": pattern,
                                    }
                                }
                            },
                            "fields": "userEnteredFormat.numberFormat",
                        }
                    }
                )
            if not col.computed and (col.enum is not None or col.type is ColumnType.BOOL):
                choices = col.enum.choices(lang) if col.enum is not None else ["TRUE", "FALSE"]
                requests.append(
                    {
                        "setDataValidation": {
                            "range": {**column, "startRowIndex": 1},
                            "rule": {
                                "condition": {
                                    "type": "ONE_OF_LIST",
                                    "values": [{"userEnteredValue": c} for c in choices],
                                },
                                "strict": False,
                                "showCustomUi": True,
                            },
                        }
                    }
                )
            if col.computed:
                requests.append(
                    {
                        "addProtectedRange": {
                            "protectedRange": {
                                "range": column,
                                "warningOnly": True,
                                "description": f"{col.header(lang)}: computed by sheetcrm; edits are overwritten",
                            }
                        }
                    }
                )
    return requests


def create_google_workbook(
    client: gspread.Client, title: str, lang: Any, share: str | None = None, credentials: Any = None
) -> str:
    """Create an empty CRM spreadsheet in Google Sheets from the schema and return its URL.

    Four requests: create (Drive), open, lay out (one spreadsheets.batchUpdate), headers and
    Settings (one values.batchUpdate); one more to share it with ``share``."""
    from sheetcrm.schema import TABS
    from sheetcrm.settings import settings_rows

    try:
        key = client.create(title).id
    except APIError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):
            raise PermissionDeniedError(
                f"Google refused to create spreadsheet {title!r} ({status}); enable the Google Drive "
                "API for the credentials' project and use credentials allowed to create files "
                "(the drive.file scope; for OAuth users run 'sheetcrm login --google-drive')"
            ) from None
        raise WorkbookWriteError(f"could not create spreadsheet {title!r}: {status} {_google_message(exc)}") from None
    url = f"https://docs.google.com/spreadsheets/d/{key}/edit"
    try:
        client.http_client.batch_update(key, {"requests": _grid_requests(lang)})
        data = [
            {"range": f"{quote_title(spec.title(lang))}!A1", "values": [[c.header(lang) for c in spec.columns]]}
            for spec in TABS.values()
        ]
        settings = TABS[Tab.SETTINGS].title(lang)
        data.append(
            {
                "range": f"{quote_title(settings)}!A2",
                "values": [[to_cell_json(v) for v in row] for row in settings_rows(lang)],
            }
        )
        client.http_client.values_batch_update(key, body={"valueInputOption": "RAW", "data": data})
        if share:
            client.insert_permission(key, share, perm_type="user", role="writer", notify=True)
    except (APIError, SheetCRMError) as exc:
        detail = _google_message(exc) if isinstance(exc, APIError) else str(exc)
        raise WorkbookWriteError(
            f"created {url} but could not finish setting it up ({detail}); delete that spreadsheet "
            "and run 'sheetcrm init --google' again"
        ) from None
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"


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
