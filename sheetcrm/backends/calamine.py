"""Parsing an .xlsx workbook's CRM worksheets with calamine, in background threads.

calamine lets go of the GIL while it parses a worksheet, so two threads parse two
worksheets at once while the reader turns the first ones into Python values.
"""

from __future__ import annotations

import itertools
import threading
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from sheetcrm.backends import ooxml
from sheetcrm.schema import Tab, find_tabs

#: Worksheets parsed at once.
PARSE_THREADS = 2
#: Bytes of worksheet XML above which the worksheets are parsed one after another in the
#: reader's thread: two parsed at once are two in memory at once, and the memory threads
#: free stays with the allocator (a 10-million-cell workbook went over 2 GB). At that size
#: turning cells into Python values, not parsing, takes most of the read.
PARALLEL_LIMIT = 256 * 2**20

Rows = list[list[Any]]
Merged = tuple[tuple[int, int, int, int], ...]


class Parse:
    """The CRM worksheets of the .xlsx at ``target`` (a real path), being parsed.

    Opening the workbook raises calamine's own error. Worksheets go to
    :data:`PARSE_THREADS` threads at once, largest first, each thread with its own
    workbook handle (a handle parses one worksheet at a time); past
    :data:`PARALLEL_LIMIT` they are parsed one by one as :meth:`results` asks for them.
    """

    def __init__(self, target: Path) -> None:
        from python_calamine import CalamineWorkbook

        self.target = target
        wb = CalamineWorkbook.from_path(str(target))
        self.handles = [wb]
        try:
            self.found: dict[Tab, str] = find_tabs(wb.sheet_names)
            sizes = _part_sizes(target)
        except Exception:
            wb.close()
            raise
        self.spare = [wb]
        self.local = threading.local()
        self.lock = threading.Lock()
        self.pool: ThreadPoolExecutor | None = None
        self.futures: dict[Future[tuple[Rows, Merged]], tuple[Tab, str]] = {}
        if PARSE_THREADS >= 2 and sum(sizes.get(title, 0) for title in self.found.values()) <= PARALLEL_LIMIT:
            self.pool = ThreadPoolExecutor(max_workers=PARSE_THREADS, thread_name_prefix="sheetcrm-parse")
            # Settings first (tiny, and binding every other tab needs them), then largest first.
            order = sorted(self.found.items(), key=lambda item: (item[0] is not Tab.SETTINGS, -sizes.get(item[1], 0)))
            self.futures = {self.pool.submit(self._rows, title): (tab, title) for tab, title in order}

    def _rows(self, title: str) -> tuple[Rows, Merged]:
        wb = getattr(self.local, "wb", None)
        if wb is None:
            with self.lock:
                wb = self.spare.pop() if self.spare else None
            if wb is None:
                from python_calamine import CalamineWorkbook

                wb = CalamineWorkbook.from_path(str(self.target))
                with self.lock:
                    self.handles.append(wb)
            self.local.wb = wb
        sheet = wb.get_sheet_by_name(title)
        rows: Rows = sheet.to_python(skip_empty_area=False)
        merged = tuple((r0, c0, r1, c1) for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or ())
        return rows, merged

    def results(self) -> Iterator[tuple[Tab, str, tuple[Rows, Merged]]]:
        """``(tab, title, (rows, merged ranges))`` of each worksheet as it is ready (cells as
        calamine gives them), the Settings tab first; a worksheet calamine cannot parse
        raises its error here."""
        if self.pool is None:
            order = sorted(self.found.items(), key=lambda item: item[0] is not Tab.SETTINGS)
            return ((tab, title, self._rows(title)) for tab, title in order)
        first = [f for f, (tab, _) in self.futures.items() if tab is Tab.SETTINGS]
        rest = as_completed([f for f in self.futures if f not in first])
        return ((*self.futures[f], f.result()) for f in itertools.chain(first, rest))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        for wb in self.handles:
            wb.close()

    def __enter__(self) -> Parse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _part_sizes(target: Path) -> dict[str, int]:
    """Worksheet title -> the size of its XML, to parse the largest first ({} when the
    package cannot say: calamine reports what is wrong with it)."""
    try:
        with zipfile.ZipFile(target) as zf:
            pkg = ooxml.Package(zf)
            return {title: zf.getinfo(part).file_size for title, part in pkg.sheets.items() if part in pkg.names}
    except Exception:  # only an order: calamine's own read tells what is wrong
        return {}
