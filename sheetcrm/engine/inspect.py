"""Inspect: how sheetcrm reads a workbook's layout, before anything is synced.

Pure: raw tabs in, one row per header cell (and per missing column) out, naming every
issue at once, so a person fixes the whole layout in one go instead of one error per run.
"""

from __future__ import annotations

import pandas as pd

from sheetcrm.backends.base import RawTab
from sheetcrm.cells.a1 import column_letters
from sheetcrm.engine.bind import INSTRUCTION_SEARCH_ROWS, REQUIRED_TABS, is_instruction_row, locate_header
from sheetcrm.exceptions import Worded
from sheetcrm.i18n import N_, tr
from sheetcrm.schema import TABS, Tab, is_order_book, misspelt_headers, read_headers

INSPECT_COLUMNS = ["tab", "header_row", "column", "header", "recognised_as", "status"]

#: What became of a header cell or a schema column.
STATUS = {
    "recognised": N_("recognised"),
    "own": N_("kept as the people's own"),
    "computed": N_("sheetcrm's (computed)"),
    "missing_required": N_("missing, required: add it"),
    "missing": N_("not in the sheet (optional)"),
    "id_added": N_("not in the sheet: sync adds it and numbers every record"),
    "orders": N_("not in the sheet: every row of this order book is read as an order"),
    "issue": N_("problem"),
    "no_tab": N_("tab missing, required: add it"),
    "no_tab_optional": N_("tab missing (optional: a shop without companies or deals needs none)"),
    "instructions": N_("instruction row, not a record"),
}
BLOCKING = ("missing_required", "issue", "no_tab")


def inspect_tabs(raw_tabs: dict[Tab, RawTab], lang: str = "en") -> pd.DataFrame:
    """Each tab's header row as sheetcrm reads it.

    Out: a DataFrame with columns tab, header_row (1-based), column (letter, or "" for a
    missing column), header (as typed), recognised_as (the schema column in ``lang``),
    status (text in ``lang``) and ``blocking`` (bool: sync would refuse the workbook).
    """
    rows: list[dict[str, object]] = []

    def add(tab: str, at: int, col: str, header: str, recognised: str, status: str, note: str = "") -> None:
        text = tr(lang, STATUS[status]) + (f": {note}" if note else "")
        rows.append(
            {
                "tab": tab,
                "header_row": at,
                "column": col,
                "header": header,
                "recognised_as": recognised,
                "status": text,
                "blocking": status in BLOCKING,
            }
        )

    for tab, spec in TABS.items():
        if tab is Tab.LOG:
            continue
        raw = raw_tabs.get(tab)
        if raw is None:
            if tab in REQUIRED_TABS:
                add(spec.title(lang), 0, "", "", spec.title(lang), "no_tab")
            elif tab in (Tab.COMPANIES, Tab.OPPORTUNITIES):
                add(spec.title(lang), 0, "", "", spec.title(lang), "no_tab_optional")
            continue
        at, header, start, second = locate_header(raw, spec)
        found, issues = read_headers(spec, header, raw.title)
        for key, pos in sorted(found.positions.items(), key=lambda kv: kv[1]):
            col = spec.column(key)
            status = "computed" if col.computed else "recognised"
            add(raw.title, at, column_letters(pos), str(header[pos]), col.header(lang), status)
        misspelt = {pos: col for pos, col in misspelt_headers(spec, found)}
        for pos in found.extras:
            near = misspelt.get(pos)
            note = tr(lang, "looks like {column} misspelt", column=near.header(lang)) if near else ""
            add(raw.title, at, column_letters(pos), str(header[pos]), "", "own", note)
        for issue in issues:
            if issue.column is not None:
                said = issue.message.in_language(lang) if isinstance(issue.message, Worded) else issue.message
                add(raw.title, at, column_letters(issue.column), str(header[issue.column]), "", "issue", said)
        for key in found.missing:
            col = spec.column(key)
            if key == spec.id_column:
                add(raw.title, at, "", "", col.header(lang), "id_added")
            elif key == "Type" and tab is Tab.ACTIVITIES and is_order_book(raw.title):
                add(raw.title, at, "", "", col.header(lang), "orders")
            elif col.required:
                add(raw.title, at, "", "", col.header(lang), "missing_required")
            elif not col.computed:
                add(raw.title, at, "", "", col.header(lang), "missing")
        if tab is not Tab.SETTINGS:
            skip = 0 if second is None else 1
            for k, row in enumerate(raw.rows[start + skip : start + skip + INSTRUCTION_SEARCH_ROWS], start=skip):
                if not is_instruction_row(row):
                    break
                add(raw.title, at, "", "", "", "instructions", tr(lang, "row {row}", row=at + 1 + k))
    frame = pd.DataFrame(rows, columns=[*INSPECT_COLUMNS, "blocking"])
    return frame
