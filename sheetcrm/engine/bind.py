"""Raw tabs -> typed DataFrames: headers matched to the schema, every cell parsed.

A :class:`Table` keeps the raw cell values (what the sheet holds, for diffing and
compare-and-set) beside the typed values (what the domain modules compute on). Both are
indexed alike; the ``_row`` column holds each record's 1-based sheet row.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sheetcrm.backends.base import RawTab
from sheetcrm.cells.a1 import column_letters
from sheetcrm.cells.parse import ParseOptions, blank_mask, is_blank, parse_column
from sheetcrm.exceptions import WORKBOOK_LANGUAGE, Joined, Named, Phrase, SchemaError, Worded
from sheetcrm.i18n import N_
from sheetcrm.schema import (
    TABS,
    ActivityType,
    HeaderMap,
    Lang,
    Severity,
    Tab,
    TabSpec,
    is_order_book,
    is_total_mark,
    match_headers,
    misspelt_headers,
    normalize_label,
    recognised_count,
)
from sheetcrm.settings import Settings

ROW = "_row"
PROBLEM_COLUMNS = ["tab", "row", "id", "column", "value", "problem", "severity"]

#: The header row may sit below title rows: it is looked for in this many first rows.
HEADER_SEARCH_ROWS = 10
#: Rows right under the header that may be instructions ("(必填)", "YYYY/MM/DD") or
#: example rows marked as such; they are never records.
INSTRUCTION_SEARCH_ROWS = 3
_INSTRUCTION_WORDS = (
    "必填",
    "選填",
    "非必填",
    "範例",
    "示例",
    "例：",
    "例:",
    "例如",
    "格式",
    "請填",
    "請輸入",
    "請選",
    "說明",
    "填寫",
    "required",
    "optional",
    "example",
    "e.g.",
    "format",
    "yyyy",
    "mm/dd",
    "dd/mm",
    "如：",
    "如:",
    "ex:",
    "選項",
    "下拉",
    "擇一",
)
#: A list of choices ("電話/拜訪/訂單", "Call / Visit / Order"): three or more words
#: without digits (a date "2026/3/5" is no list) between slashes or enumeration commas.
_CHOICES = re.compile(r"[^\d/／、,，\s]+(?:\s*[/／、]\s*[^\d/／、,，\s]+){2,}")
#: What goes in, said as "this or that": "姓名或電話", "name or phone".
_EITHER = re.compile(r"[^\d\s]{1,8}或[^\d\s]{1,8}|[a-z]+(?: [a-z]+)? or [a-z]+(?: [a-z]+)?", re.IGNORECASE)
_EXAMPLE_MARKS = ("範例", "示例", "例", "example", "sample", "e.g.")

#: The tabs a workbook cannot do without: a shop selling to people keeps no companies
#: and no deals, only its customers and what they bought.
REQUIRED_TABS = (Tab.CONTACTS, Tab.ACTIVITIES)
#: The tabs of records, whose headers say the workbook's language.
_RECORD_TABS = (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES)


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
    #: 1-based sheet row of the header (below any title rows).
    header_row: int = 1
    #: Sheet rows under the header read as instructions or marked examples, not records.
    instruction_rows: tuple[int, ...] = ()
    #: The header goes on over the row under ``header_row`` (see :func:`locate_header`).
    two_row_header: bool = False
    #: False for a tab the workbook does not have (an empty table with the schema's headers).
    present: bool = True
    #: Columns in use: past the last header, the last cell holding anything under it and the
    #: last merge reaching the header row. Columns sheetcrm adds go right of it, never into
    #: a column a person uses without a header of its own (under a merged 聯絡方式, or notes).
    used_width: int = 0
    #: Reference column -> the ID each record links to (None: blank or no match), set by
    #: linking (:mod:`sheetcrm.engine.link`); the typed column holds the same IDs.
    resolved: dict[str, pd.Series] = field(default_factory=dict)
    #: The new IDs linking issued for this tab's blank ID cells (indexed like ``typed``),
    #: None before linking. Compute takes them from here instead of issuing them again:
    #: issuing scans every ID and reference of the workbook.
    issued_ids: pd.Series | None = None

    @property
    def tab(self) -> Tab:
        return self.spec.tab

    def __len__(self) -> int:
        return len(self.typed)

    def ids(self) -> pd.Series:
        """Each record's ID (indexed like ``typed``): the one in its ID cell, or for a
        blank cell the one linking issued, which this sync writes there."""
        ids = self.typed[self.spec.id_column or ""]
        if self.issued_ids is None or not len(self.issued_ids):
            return ids
        return ids.astype(object).where(ids.notna(), self.issued_ids.reindex(ids.index))

    def unreadable(self, key: str) -> np.ndarray:
        """Which records' ``key`` cell holds something that does not parse (a stage word
        sheetcrm does not know): bool, aligned with ``typed``."""
        if key == "Stage" and key not in self.headers.positions and self.typed["Stage Seen"].notna().any():
            # Its header renamed or misspelt: sheetcrm saw stages here, and none can be read.
            return np.ones(len(self.typed), dtype=bool)
        return self.unparsed.get(key, np.zeros(len(self.typed), dtype=bool))

    def raw_column(self, key: str) -> pd.Series:
        """Raw cells of column ``key``; all None when the sheet has no such column."""
        if key in self.raw:
            return self.raw[key]
        return pd.Series(None, index=self.typed.index, dtype=object)


def column_label(headers: HeaderMap, key: str) -> str:
    """A column as people see it in problems: its header as typed and its letter; a
    column the tab lacks by the schema's header in the language of the tab's headers."""
    pos = headers.positions.get(key)
    if pos is None:
        chinese = sum(1 for t in headers.texts if _CJK.search(t)) * 2 > sum(1 for t in headers.texts if t)
        return TABS[headers.tab].column(key).header(Lang.ZH_TW if chinese else Lang.EN)
    text = headers.texts[pos] if pos < len(headers.texts) else key
    return f"{text} ({column_letters(pos)})"


def empty_problems() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})


def locate_header(raw: RawTab, spec: TabSpec) -> tuple[int, list[object], int, int | None]:
    """Where the header row of ``raw`` is: (its 1-based sheet row, its cells, the index in
    ``raw.rows`` of the first row under it, the sheet row of a second header row or None).
    The header is the row among the first :data:`HEADER_SEARCH_ROWS` with the most
    recognised headers (the first such row); title rows above it are left alone.

    A header written on two rows (聯絡方式 merged over 手機 | Email, 姓名 merged down over
    both) is read as one: the top row is the header row, its cells completed by the row
    under it (see :func:`_two_row_header`), and that second row is no record."""
    candidates = [raw.header, *raw.rows[: HEADER_SEARCH_ROWS - 1]]
    scores = [recognised_count(spec, row) for row in candidates]
    best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
    if scores[best] == 0:
        return 1, list(raw.header), 0, None
    for top in (best, best - 1):
        if top >= 0 and top + 1 < len(candidates):
            both = _two_row_header(spec, candidates[top], candidates[top + 1])
            if both is not None:
                return top + 1, both, top, top + 2
    return best + 1, list(candidates[best]), best, None


def _two_row_header(spec: TabSpec, top: list[object], below: list[object]) -> list[object] | None:
    """``top`` completed by ``below`` when the two rows are one header: each row names a
    schema column the other leaves blank or covers with a heading of people's own, and
    no row holds a value under a header the other names. None otherwise."""
    width = max(len(top), len(below))
    out: list[object] = []
    took = {"top": 0, "below": 0}
    for c in range(width):
        t = top[c] if c < len(top) else None
        u = below[c] if c < len(below) else None
        t_known, u_known = recognised_count(spec, [t]) > 0, recognised_count(spec, [u]) > 0
        if t_known and u_known:
            return None
        if u_known:
            out.append(u)
            took["below"] += 1
        elif t_known:
            if not is_blank(u):
                return None  # a value under a header: a record, not a second header row
            out.append(t)
            took["top"] += 1
        else:
            out.append(t if not is_blank(t) else u)
    return out if took["top"] and took["below"] else None


def is_instruction_row(row: list[object], id_at: int | None = None) -> bool:
    """True for a row people put under a header to explain it: its first filled cell
    marks it as an example ("範例", "Example"), or at least half its filled cells are
    bracketed notes, placeholders, format hints, lists of choices or "this or that"
    ("(必填)", "YYYY/MM/DD", "09XX-XXX-XXX", "例：王小明", "電話/拜訪/訂單…", "姓名或電話").
    A row with an ID (at 0-based ``id_at``) that is no such hint is a record."""
    cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
    if not cells:
        return False
    first = normalize_label(cells[0])
    if any(first.startswith(normalize_label(mark)) for mark in _EXAMPLE_MARKS) and (
        len(cells) > 1 or first.startswith(("範例", "example", "sample"))
    ):
        return True

    def hint(text: str) -> bool:
        folded = text.casefold()
        bracketed = text[:1] in "(（[【" and text[-1:] in ")）]】"
        placeholder = re.search(r"xx|XX|ＸＸ|○○|ＯＯ", text) is not None
        trailing = text.endswith(("…", "...", "⋯"))
        listed = _CHOICES.fullmatch(text.rstrip("…⋯. 等")) is not None or _EITHER.fullmatch(text) is not None
        return bracketed or placeholder or trailing or listed or any(w in folded for w in _INSTRUCTION_WORDS)

    if id_at is not None and id_at < len(row) and not is_blank(row[id_at]) and not hint(str(row[id_at]).strip()):
        return False
    # At least half the filled cells must read as hints: the rest are often plain words
    # ("縣市", "公司名稱") that say what goes in the column.
    return sum(hint(c) for c in cells) * 2 >= len(cells)


def bind(raw: RawTab | None, tab: Tab, opts: ParseOptions) -> Table:
    """Match ``raw``'s header to the schema of ``tab`` and parse every cell.

    The header may sit below title rows (see :func:`locate_header`); instruction or
    example rows right under it are not records (:func:`is_instruction_row`). A missing
    tab gives an empty table with the schema's English headers. Raises
    :class:`SchemaError` naming every duplicate, ambiguous or missing required header.
    """
    spec = TABS[tab]
    header_row = 1
    instructions: list[int] = []
    merged_down: dict[str, dict[int, tuple[object, str]]] = {}
    second: int | None = None
    if raw is None:
        headers = match_headers(spec, spec.keys, spec.title())
        rows: list[list[object]] = []
        title = spec.title()
        first_row = 2
    else:
        header_row, header, start, second = (
            locate_header(raw, spec) if tab is not Tab.LOG else (1, list(raw.header), 0, None)
        )
        headers = match_headers(spec, header, raw.title, header_row)
        rows = raw.rows[start:]
        title = raw.title
        first_row = header_row + 1
        if second is not None:
            instructions.append(second)
        if tab not in (Tab.LOG, Tab.SETTINGS):
            id_at = headers.positions.get("ID")
            skip = len(instructions)
            for k, row in enumerate(rows[skip : skip + INSTRUCTION_SEARCH_ROWS], start=skip):
                if not is_instruction_row(row, id_at):
                    break
                instructions.append(first_row + k)
            merged_down = _merged_down(raw, headers, spec, first_row + len(instructions))
    present = list(headers.positions.items())
    grid = _grid(rows)
    merged_ends = [c1 + 1 for _r0, _c0, r1, c1 in (raw.merged if raw is not None else ()) if r1 >= header_row - 1]
    used_width = max(headers.width, len(headers.texts), grid.shape[1], *merged_ends)
    raw_frame = pd.DataFrame(
        {key: _raw_cells(grid, pos) for key, pos in present},
        index=pd.RangeIndex(len(rows)),
        dtype=object,
    )
    del grid  # a second reference to every cell, not kept while the columns are parsed
    raw_frame[ROW] = raw_frame.index + first_row
    if instructions:
        raw_frame = raw_frame[~raw_frame[ROW].isin(instructions)]
    if raw is not None and tab not in (Tab.LOG, Tab.SETTINGS) and len(raw_frame):
        raw_frame = raw_frame[~_total_rows(rows, raw_frame, spec.id_column)]

    people_keys = [c.key for c in spec.people_columns if c.key in headers.positions]
    if len(raw_frame) and people_keys:
        raw_frame = raw_frame[~_blank_rows(raw_frame, people_keys)]
    raw_frame = raw_frame.reset_index(drop=True)

    typed: dict[str, pd.Series] = {}
    problem_parts: list[pd.DataFrame] = []
    # Every row of a shop's order book (交易紀錄) is a sale unless its Type says otherwise.
    order_book = tab is Tab.ACTIVITIES and raw is not None and is_order_book(raw.title)
    unparsed: dict[str, np.ndarray] = {}
    id_key = spec.id_column
    if merged_down:
        problem_parts.append(_merge_notes(merged_down, raw_frame, headers, title, id_key))
    if raw is not None:
        problem_parts.append(_misspelt(spec, headers, title, header_row))
    for col in spec.columns:
        source = raw_frame[col.key] if col.key in raw_frame else pd.Series([None] * len(raw_frame), dtype=object)
        if col.key in merged_down:
            # Read (never written) as the merge shows it: the value on every row it covers.
            covered = raw_frame[ROW].map({r: v for r, (v, _) in merged_down[col.key].items()})
            source = source.where(covered.isna(), covered)
        if col.key == "Type" and order_book:
            source = source.where(~blank_mask(source), ActivityType.ORDER.value)
        values, problems = parse_column(source, col, opts)
        typed[col.key] = values.reset_index(drop=True)
        if col.key in raw_frame:
            bad = np.not_equal(problems.to_numpy(), _NONE)  # a message or None
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
                            "column": column_label(headers, col.key),
                            "value": source[bad].map(_show).to_numpy(),
                            "problem": problems[bad].to_numpy(),
                            "severity": Severity.ERROR,
                        }
                    )
                )
    typed_frame = pd.DataFrame(typed)
    typed_frame[ROW] = raw_frame[ROW].to_numpy()
    problems_frame = pd.concat(problem_parts, ignore_index=True) if problem_parts else empty_problems()
    return Table(
        spec,
        title,
        headers,
        raw_frame,
        typed_frame,
        problems_frame,
        raw.token if raw else None,
        unparsed,
        header_row,
        tuple(instructions),
        present=raw is not None,
        used_width=used_width,
        two_row_header=second is not None,
    )


def _total_rows(rows: list[list[object]], raw_frame: pd.DataFrame, id_key: str | None) -> np.ndarray:
    """Which rows of ``raw_frame`` (indexed by position in ``rows``) are totals: no ID, and
    a first filled cell reading 合計, 小計, Total and the like."""
    candidates = blank_mask(raw_frame[id_key]) if id_key and id_key in raw_frame else np.ones(len(raw_frame), bool)
    out = np.zeros(len(raw_frame), dtype=bool)
    for k in np.flatnonzero(candidates).tolist():
        first = next((c for c in rows[raw_frame.index[k]] if not is_blank(c)), None)
        out[k] = is_total_mark(first)
    return out


def _merged_down(
    raw: RawTab, headers: HeaderMap, spec: TabSpec, first_record_row: int
) -> dict[str, dict[int, tuple[object, str]]]:
    """Column key -> {sheet row: (value, range)} for the rows below the first of a merge
    down a people's column (not ID) among the records: a person merges a company's name
    over its contacts' rows to mean it for each. Merges across columns are left alone."""
    by_col = {pos: key for key, pos in headers.positions.items() if key != spec.id_column}
    people = {c.key for c in spec.people_columns}
    out: dict[str, dict[int, tuple[object, str]]] = {}
    for r0, c0, r1, c1 in raw.merged:
        key = by_col.get(c0)
        # Sheet rows r0 + 1 .. r1 + 1; the anchor's value sits in raw.rows[r0 - 1].
        if key not in people or r1 <= r0 or r0 + 1 < first_record_row or r0 - 1 >= len(raw.rows):
            continue
        anchor = raw.rows[r0 - 1]
        value = anchor[c0] if c0 < len(anchor) else None
        if is_blank(value):
            continue
        cells = f"{column_letters(c0)}{r0 + 1}:{column_letters(c1)}{r1 + 1}"
        rows = out.setdefault(key, {})
        for r in range(r0 + 2, r1 + 2):
            rows[r] = (value, cells)
    return out


def _misspelt(spec: TabSpec, headers: HeaderMap, title: str, header_row: int) -> pd.DataFrame:
    """A warning on the header row for each header one slip off a column the tab lacks."""
    rows = [
        {
            "tab": title,
            "row": header_row,
            "id": None,
            "column": f"{headers.texts[pos]} ({column_letters(pos)})",
            "value": headers.texts[pos],
            "problem": Worded(
                Phrase(
                    N_(
                        "looks like {column} misspelt: sheetcrm reads that column only by its name, so this "
                        "one is left as your own and not read; rename the header to {column} if it is meant"
                    ),
                    {"column": Named(col.key, col.zh)},
                )
            ),
            "severity": Severity.WARNING,
        }
        for pos, col in misspelt_headers(spec, headers)
    ]
    return pd.DataFrame(rows, columns=PROBLEM_COLUMNS) if rows else empty_problems()


def _merge_notes(
    merged_down: dict[str, dict[int, tuple[object, str]]],
    raw_frame: pd.DataFrame,
    headers: HeaderMap,
    title: str,
    id_key: str | None,
) -> pd.DataFrame:
    """A note on each record row read from a merged cell above it."""
    rows = []
    records = set(raw_frame[ROW].tolist())
    ids = dict(zip(raw_frame[ROW], raw_frame[id_key], strict=True)) if id_key and id_key in raw_frame else {}
    for key, covered in merged_down.items():
        for row, (value, cells) in covered.items():
            if row not in records:
                continue  # a blank row under the merge: no record
            rows.append(
                {
                    "tab": title,
                    "row": row,
                    "id": _id_text(ids.get(row)),
                    "column": column_label(headers, key),
                    "value": None,
                    "problem": Worded(
                        Phrase(
                            N_("read as {value}: the merged cells {cells} show it on this row"),
                            {"value": _show(value), "cells": cells},
                        )
                    ),
                    "severity": Severity.NOTE,
                }
            )
    return pd.DataFrame(rows, columns=PROBLEM_COLUMNS) if rows else empty_problems()


#: The tabs as a backend read them: a mapping, or the tabs one by one with the Settings tab
#: (when there is one) first, as :meth:`~sheetcrm.backends.xlsx.XlsxBackend.read_each` gives them.
RawTabs = Mapping[Tab, RawTab] | Iterable[RawTab]


def _settings_first(raw_tabs: RawTabs) -> Iterator[RawTab]:
    if isinstance(raw_tabs, Mapping):
        settings = raw_tabs.get(Tab.SETTINGS)
        return itertools.chain([settings] if settings else [], (r for r in raw_tabs.values() if r is not settings))
    return iter(raw_tabs)


def bind_tabs(
    raw_tabs: RawTabs, tabs: tuple[Tab, ...], required: tuple[Tab, ...] = ()
) -> tuple[dict[Tab, Table], Settings, list[dict[str, Any]]]:
    """Bind Settings first (they say how to read dates, money and synonyms), then only
    ``tabs``: a job that reads Contacts need not parse a million Activities. Tabs given one
    by one are bound as they come. Returns the tables (Settings, then ``tabs`` in that
    order), the settings and the Settings tab's issues. Raises :class:`SchemaError` naming
    the ``required`` tabs the workbook lacks, else every tab's layout problems at once."""
    stream = _settings_first(raw_tabs)
    tables: dict[Tab, Table] = {}
    errors: list[SchemaError] = []
    settings: Settings | None = None
    settings_issues: list[dict[str, Any]] = []
    opts = ParseOptions()
    seen: set[Tab] = set()
    titles: list[str] = []
    try:
        for raw in itertools.chain(stream, [None]):
            if settings is None:
                # The first tab is Settings when the workbook has one; without one, defaults.
                settings_raw = raw if raw is not None and raw.tab is Tab.SETTINGS else None
                tables[Tab.SETTINGS] = bind(settings_raw, Tab.SETTINGS, opts)
                settings, settings_issues = Settings.from_table(tables[Tab.SETTINGS].typed)
                opts = ParseOptions.from_settings(settings)
                if settings_raw is not None:
                    seen.add(Tab.SETTINGS)
                    continue
            if raw is None:
                break
            seen.add(raw.tab)
            titles.append(raw.title)
            if raw.tab in tabs and raw.tab is not Tab.SETTINGS:
                try:
                    tables[raw.tab] = bind(raw, raw.tab, opts)
                except SchemaError as exc:  # every tab's layout problems at once, not one per run
                    errors.append(exc)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    missing = [t for t in required if t not in seen]
    # Told in the workbook's language even when binding stops here: its Settings say
    # which, or its tabs are named in Chinese (else the locale decides).
    if settings is not None and settings.language_set:
        WORKBOOK_LANGUAGE.set(str(settings.language))
    elif mostly_chinese(titles):
        WORKBOOK_LANGUAGE.set(Lang.ZH_TW)
    if missing:
        names = Joined(N_(", "), tuple(Named(t.value, t.zh) for t in missing))
        # The names a sheet may have, so that renaming one is the fix people see first.
        titles_ok = "; ".join(", ".join((t.zh, t.value, *t.aliases[:4])) + "…" for t in missing)
        # With every other tab's layout problems: one run shows all there is to fix.
        errors.insert(
            0,
            SchemaError(
                Phrase(
                    N_(
                        "the workbook has no {names} tab; rename the sheet that holds them to one of these "
                        "names ({titles}), or add a tab of that name with its headers (a new workbook made "
                        "by 'sheetcrm init new.xlsx' shows them)"
                    ),
                    {"names": names, "titles": titles_ok},
                )
            ),
        )
    if errors:
        raise SchemaError(
            Phrase(
                N_("{problems} ('sheetcrm inspect' shows how each header was read)"),
                {"problems": Joined(N_(" | "), tuple(errors))},
            )
        )
    assert settings is not None
    # In a fixed order, not as parsed: problems and plans list tabs in this order.
    bound = {Tab.SETTINGS: tables[Tab.SETTINGS]}
    for tab in tabs:
        bound[tab] = tables[tab] if tab in tables else bind(None, tab, opts)
    if not settings.language_set:
        settings = settings.replace(language=infer_language(bound))
    WORKBOOK_LANGUAGE.set(str(settings.language))
    return bound, settings, settings_issues


def bind_all(raw_tabs: RawTabs) -> tuple[dict[Tab, Table], Settings, pd.DataFrame]:
    """Bind every tab, then link references. Settings are read first, since they say how to
    read dates, money and synonyms; the language, when Settings do not give it, is inferred
    from the headers.

    Returns the tables, the settings, and the problems found in the Settings tab and in
    linking (:func:`link_tables`).
    """
    tables, settings, settings_issues = bind_tabs(raw_tabs, tuple(TABS), REQUIRED_TABS)
    settings_table = tables[Tab.SETTINGS]
    lang = str(settings.language)
    link_problems = link_tables(tables, lang)
    issues = (
        pd.DataFrame(
            [
                {
                    **p,
                    "tab": settings_table.title,
                    # The column as the tab heads it (值 (B)), not the schema's key.
                    "column": column_label(settings_table.headers, p["column"])
                    if p.get("column") in settings_table.spec.keys
                    else p.get("column"),
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
    if len(link_problems):
        issues = pd.concat([issues, link_problems], ignore_index=True) if len(issues) else link_problems
    return tables, settings, issues


def link_tables(tables: dict[Tab, Table], lang: str) -> pd.DataFrame:
    """Link every reference cell (ID, or name / email / phone) in place: each table's
    typed reference columns then hold the linked IDs, its ``resolved`` the same per column
    (unmatched text stays in typed, where it links to nothing). Returns the link problems
    and notes."""
    from sheetcrm.engine.ids import issue_ids
    from sheetcrm.engine.link import link_references

    issued = issue_ids(tables)
    for tab, new in issued.items():
        tables[tab].issued_ids = new
    resolved, problems = link_references(tables, issued, lang)
    for tab, columns in resolved.items():
        table = tables[tab]
        for key, ids in columns.items():
            table.typed[key] = ids.where(ids.notna(), table.typed[key])
            table.resolved[key] = ids
    return problems


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def infer_language(tables: dict[Tab, Table]) -> Lang:
    """The workbook's language when Settings do not say: Traditional Chinese when most of
    the recognised headers of its record tabs (those it has) are written in Chinese."""
    texts: list[str] = []
    for tab in _RECORD_TABS:
        table = tables.get(tab)
        if table is None or not table.present:
            continue
        header = table.headers.texts
        texts += [header[i] for i in table.headers.positions.values() if i < len(header)]
    return Lang.ZH_TW if mostly_chinese(texts) else Lang.EN


def mostly_chinese(texts: list[str]) -> bool:
    """Whether most of ``texts`` (headers, tab titles) are written in Chinese."""
    return bool(texts) and sum(1 for t in texts if _CJK.search(t)) * 2 > len(texts)


def _grid(rows: list[list[object]]) -> np.ndarray:
    """The ragged rows as one 2-d object array, None past the end of a short row. Rows of
    one length go in together, each group converted in C; each column is then a slice (a
    transpose into a tuple per column costs several times more to turn into arrays)."""
    n = len(rows)
    lengths = np.fromiter(map(len, rows), dtype=np.intp, count=n)
    width = int(lengths.max()) if n else 0
    grid = np.full((n, width), None, dtype=object)
    for length in np.unique(lengths).tolist():
        if not length:
            continue
        at = np.flatnonzero(lengths == length)
        group = [rows[i] for i in at.tolist()]
        # Into an object array of the final shape: a cell that is itself a sequence
        # stays one cell.
        part = np.empty((len(group), length), dtype=object)
        part[:] = group
        grid[at, :length] = part
    return grid


#: Cell types that are never missing: a column of only these (and None) needs no NaN check.
_NEVER_NA = frozenset({str, int, bool, type(None), dt.datetime, dt.date, dt.time, dt.timedelta})


def _raw_cells(grid: np.ndarray, pos: int) -> np.ndarray:
    """Column ``pos`` of ``grid`` as an object array: None for a blank cell (NaN, NaT and
    NA included) and past the end of every row."""
    if pos >= grid.shape[1]:
        return np.full(grid.shape[0], None, dtype=object)
    out = grid[:, pos].copy()
    if not set(map(type, out)) <= _NEVER_NA:
        out[pd.isna(out)] = None
    return out


def _blank_rows(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Rows of ``frame`` whose cells in ``keys`` are all blank. Only rows still blank so
    far are checked in the next column: most rows are settled by their first cell."""
    blank = np.ones(len(frame), dtype=bool)
    for key in keys:
        rows = np.flatnonzero(blank)
        if not len(rows):
            break
        blank[rows] = blank_mask(frame[key].to_numpy(dtype=object)[rows])
    return blank


#: None as an array, for comparing object arrays with None cell by cell.
_NONE = np.array(None)


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
