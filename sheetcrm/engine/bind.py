"""Raw tabs -> typed DataFrames: headers matched to the schema, every cell parsed.

A :class:`Table` keeps the raw cell values (what the sheet holds, for diffing and
compare-and-set) beside the typed values (what the domain modules compute on). Both are
indexed alike; the ``_row`` column holds each record's 1-based sheet row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sheetcrm.backends.base import RawTab
from sheetcrm.cells.a1 import column_letters
from sheetcrm.cells.parse import ParseOptions, is_blank, parse_column
from sheetcrm.exceptions import SchemaError
from sheetcrm.schema import TABS, HeaderMap, Severity, Tab, TabSpec, match_headers
from sheetcrm.settings import Settings

ROW = "_row"
PROBLEM_COLUMNS = ["tab", "row", "id", "column", "value", "problem", "severity"]

#: Tabs a CRM workbook cannot do without.
REQUIRED_TABS = (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES)


@dataclass
class Table:
    """One tab, bound to the schema.

    ``raw``: the schema columns present in the sheet, raw cell values (object dtype).
    ``typed``: every schema column (absent ones all missing) with parsed values, plus
    ``_row``. ``problems``: cells that did not parse (columns of :data:`PROBLEM_COLUMNS`).
    Blank rows (no people's cell filled) are not records and appear in none of them.
    ``token``: the backend's :attr:`RawTab.token`, handed back to it with the write plan.
    ``unparsed``: column key -> bool mask (aligned with ``typed``) of the cells that did
    not parse, for the columns that have any.
    """

    spec: TabSpec
    title: str
    headers: HeaderMap
    raw: pd.DataFrame
    typed: pd.DataFrame
    problems: pd.DataFrame
    token: Any = None
    unparsed: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def tab(self) -> Tab:
        return self.spec.tab

    def __len__(self) -> int:
        return len(self.typed)

    def raw_column(self, key: str) -> pd.Series:
        """Raw cells of column ``key``; all None when the sheet has no such column."""
        if key in self.raw:
            return self.raw[key]
        return pd.Series(None, index=self.typed.index, dtype=object)


def empty_problems() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})


def bind(raw: RawTab | None, tab: Tab, opts: ParseOptions) -> Table:
    """Match ``raw``'s header to the schema of ``tab`` and parse every cell.

    A missing tab gives an empty table with the schema's English headers. Raises
    :class:`SchemaError` for duplicate, ambiguous or missing required headers.
    """
    spec = TABS[tab]
    if raw is None:
        headers = match_headers(spec, spec.keys, spec.title())
        rows: list[list[object]] = []
        title = spec.title()
    else:
        headers = match_headers(spec, raw.header, raw.title)
        rows = raw.rows
        title = raw.title
    width = max([headers.width, *(len(r) for r in rows)]) if rows else headers.width
    frame = pd.DataFrame.from_records(
        [r + [None] * (width - len(r)) for r in rows] if rows else [],
        columns=range(width) if rows else None,
    )
    # Raw cells keep None for blank: pandas would infer a string dtype with NaN.
    frame = frame.astype(object).where(frame.notna(), None)
    present = list(headers.positions.items())
    raw_frame = pd.DataFrame(
        {key: frame[pos] if len(frame) else pd.Series(dtype=object) for key, pos in present},
        index=frame.index if len(frame) else pd.RangeIndex(0),
    ).astype(object)
    raw_frame[ROW] = raw_frame.index + 2

    people_keys = [c.key for c in spec.people_columns if c.key in headers.positions]
    if len(raw_frame) and people_keys:
        blank = pd.concat([_blank_mask(raw_frame[k]) for k in people_keys], axis=1).all(axis=1)
        raw_frame = raw_frame[~blank]
    raw_frame = raw_frame.reset_index(drop=True)

    typed: dict[str, pd.Series] = {}
    problem_parts: list[pd.DataFrame] = []
    unparsed: dict[str, np.ndarray] = {}
    id_key = spec.id_column
    for col in spec.columns:
        source = raw_frame[col.key] if col.key in raw_frame else pd.Series([None] * len(raw_frame), dtype=object)
        values, problems = parse_column(source, col, opts)
        typed[col.key] = values.reset_index(drop=True)
        if col.key in raw_frame:
            bad = problems.notna().to_numpy()
            if bad.any():
                unparsed[col.key] = bad
                problem_parts.append(
                    pd.DataFrame(
                        {
                            "tab": title,
                            "row": raw_frame[ROW][bad].to_numpy(),
                            "id": (
                                raw_frame[id_key][bad].map(_id_text).to_numpy()
                                if id_key and id_key in raw_frame
                                else None
                            ),
                            "column": f"{col.key} ({column_letters(headers.positions[col.key])})",
                            "value": source[bad].map(_show).to_numpy(),
                            "problem": problems[bad].to_numpy(),
                            "severity": Severity.ERROR,
                        }
                    )
                )
    typed_frame = pd.DataFrame(typed)
    typed_frame[ROW] = raw_frame[ROW].to_numpy()
    problems_frame = pd.concat(problem_parts, ignore_index=True) if problem_parts else empty_problems()
    return Table(spec, title, headers, raw_frame, typed_frame, problems_frame, raw.token if raw else None, unparsed)


def bind_tabs(
    raw_tabs: dict[Tab, RawTab], tabs: tuple[Tab, ...]
) -> tuple[dict[Tab, Table], Settings, list[dict[str, Any]]]:
    """Bind Settings first (they say how to read dates and money), then only ``tabs``: a
    job that reads Contacts need not parse a million Activities. Returns the tables
    (Settings and ``tabs``), the settings, and the Settings tab's issues."""
    settings_table = bind(raw_tabs.get(Tab.SETTINGS), Tab.SETTINGS, ParseOptions())
    settings, settings_issues = Settings.from_table(settings_table.typed)
    opts = ParseOptions.from_settings(settings)
    tables = {Tab.SETTINGS: settings_table}
    for tab in tabs:
        if tab is not Tab.SETTINGS:
            tables[tab] = bind(raw_tabs.get(tab), tab, opts)
    return tables, settings, settings_issues


def bind_all(raw_tabs: dict[Tab, RawTab]) -> tuple[dict[Tab, Table], Settings, pd.DataFrame]:
    """Bind every tab. Settings are read first, since they say how to read dates and money.

    Returns the tables, the settings, and the problems found in the Settings tab.
    """
    missing = [t for t in REQUIRED_TABS if t not in raw_tabs]
    if missing:
        names = ", ".join(f"{t.value} ({t.zh})" for t in missing)
        raise SchemaError(
            f"the workbook has no {names} tab; add it, or start from 'sheetcrm init' which "
            "creates every tab with its headers"
        )
    tables, settings, settings_issues = bind_tabs(raw_tabs, tuple(TABS))
    settings_table = tables[Tab.SETTINGS]
    issues = (
        pd.DataFrame(
            [
                {
                    **p,
                    "tab": settings_table.title,
                    "id": None,
                    "value": _show(p["value"]),
                    "severity": Severity.ERROR,
                    "problem": p["message"],
                }
                for p in settings_issues
            ],
            columns=PROBLEM_COLUMNS,
        )
        if settings_issues
        else empty_problems()
    )
    return tables, settings, issues


def _blank_mask(series: pd.Series) -> pd.Series:
    return series.map(is_blank).astype(bool)


def _id_text(value: object) -> str | None:
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _show(value: object) -> str:
    """A cell value as text for a problem report (long text cut)."""
    if value is None:
        return ""
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
