"""A workbook held in memory: for notebooks that build tables in Python, and for
benchmarks that measure compute without file I/O. Applies plans with the same checks
(ID at the row, compare-and-set) as the file and Google backends."""

from __future__ import annotations

import copy
from typing import Any

from sheetcrm.backends.append import NewRows, place
from sheetcrm.backends.base import RawTab, WritePlan, WriteReport, reconcile_log, skip_reason
from sheetcrm.schema import TABS, Lang, Tab


class MemoryBackend:
    """Tabs as lists of rows. ``tabs`` maps Tab -> RawTab and is updated by ``write``."""

    def __init__(self, tabs: dict[Tab, RawTab], location: str = "<memory>") -> None:
        self.tabs = copy.deepcopy(tabs)
        self.location = location
        self.writes = 0
        #: Worksheets that are not CRM tabs (report tabs), title -> rows.
        self.extra: dict[str, list[list[Any]]] = {}

    @classmethod
    def from_rows(cls, rows: dict[Tab, tuple[list[Any], list[list[Any]]]], lang: Lang = Lang.EN) -> MemoryBackend:
        return cls(
            {tab: RawTab(tab, TABS[tab].title(lang), list(h), [list(r) for r in rs]) for tab, (h, rs) in rows.items()}
        )

    def read(self) -> dict[Tab, RawTab]:
        # Cells are immutable scalars, so copying each row list is as safe as a deepcopy
        # and about fifty times faster on a 10-million-cell workbook.
        return {
            tab: RawTab(raw.tab, raw.title, list(raw.header), [list(r) for r in raw.rows])
            for tab, raw in self.tabs.items()
        }

    def _grid(self, title: str) -> RawTab:
        for raw in self.tabs.values():
            if raw.title == title:
                return raw
        raise KeyError(title)

    def write(self, plan: WritePlan) -> WriteReport:
        report = WriteReport(requests=0 if plan.empty else 1)
        if plan.empty:
            return report
        self.writes += 1
        for _tab, title, col, text in plan.headers:
            raw = self._grid(title)
            at = plan.header_rows.get(title, 1)
            row = raw.header if at == 1 else raw.rows[at - 2]
            row += [None] * (col + 1 - len(row))
            row[col] = text
        change: Any
        for change in plan.cells.itertuples(index=False):
            raw = self._grid(change.title)
            i = int(change.row) - 2
            row = raw.rows[i]
            id_col = int(change.id_col)
            col = int(change.col)
            row += [None] * (max(col, id_col) + 1 - len(row))
            reason = skip_reason(
                change.kind,
                id_col,
                row[id_col] if id_col >= 0 else None,
                change.record_id,
                bool(change.cas),
                row[col],
                change.old,
            )
            if reason:
                report.skipped.append(
                    {
                        "tab": change.title,
                        "row": change.row,
                        "column": change.column,
                        "id": change.record_id,
                        "reason": reason,
                    }
                )
                continue
            row[col] = change.new
            report.written += 1
        for new in plan.appends:
            append_rows(self._grid(new.title), new, report)
        log = reconcile_log(plan, report.skipped)
        if log:
            if Tab.LOG not in self.tabs:
                self.tabs[Tab.LOG] = RawTab(Tab.LOG, plan.log_title, list(plan.log_header), [])
            self.tabs[Tab.LOG].rows.extend(log)
            report.log_rows = len(log)
        return report

    def replace_tab(self, title: str, rows: list[list[Any]]) -> WriteReport:
        """Keep ``rows`` as worksheet ``title`` (in :attr:`extra`), replacing it."""
        self.writes += 1
        self.extra[title] = [list(r) for r in rows]
        return WriteReport(written=sum(v is not None for r in rows for v in r), requests=1)


def append_rows(raw: RawTab, new: NewRows, report: WriteReport) -> None:
    """Add ``new``'s rows below the last used row of ``raw`` (see backends/append.py)."""
    spot = place(new, raw.header, raw.rows)
    report.skipped.extend(spot.skipped)
    report.notes.extend(spot.notes)
    if not spot.rows:
        return
    del raw.rows[spot.first_row - 2 :]  # trailing blank rows only: place() aims below the last used one
    for values in spot.rows:
        row: list[Any] = [None] * (max(spot.cols, default=-1) + 1)
        for col, value in zip(spot.cols, values, strict=True):
            row[col] = value
        raw.rows.append(row)
    report.appended += len(spot.rows)
