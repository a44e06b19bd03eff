"""New IDs for records whose ID cell is blank, never one that was used before.

Pure: bound tables in, a Series of new IDs per tab out. An ID is never issued twice: new
numbers continue after the highest one the tab holds, the Log has ever recorded for the
tab's prefix (one ID or a run "first – last"; so a deleted record's ID is not handed to a
new row), and any reference in another tab still names (a reference to a deleted record
stays dangling, not re-pointed).
"""

from __future__ import annotations

import pandas as pd

from sheetcrm.backends.base import ID_RANGE
from sheetcrm.cells.parse import blank_mask
from sheetcrm.engine.bind import Table
from sheetcrm.schema import TABS, ColumnType, Tab

#: The tabs whose records carry an ID sheetcrm fills.
ID_TABS = (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES)


def _numbers(values: pd.Series, prefix: str) -> pd.Series:
    """The distinct numbers of the values that are ``prefix`` + digits (after stripping),
    as strings (digits kept). Each distinct value is looked at once (references repeat an
    ID many times; a workbook holds a million of them)."""
    distinct = pd.unique(values.dropna().to_numpy(dtype=object))
    texts = (v if type(v) is str else str(v) for v in distinct)
    cut = len(prefix)
    # isdecimal is exactly what an ID pattern's \d matches (Unicode decimal digits).
    found = [digits for t in texts if (s := t.strip()).startswith(prefix) and (digits := s[cut:]).isdecimal()]
    return pd.Series(list(dict.fromkeys(found)), dtype=object)


def used_numbers(tab: Tab, tables: dict[Tab, Table]) -> pd.Series:
    """Every number of ``tab``'s prefix sheetcrm has issued or seen: the tab's IDs, the
    IDs in the Log, and references to ``tab`` typed in other tabs (digits as strings)."""
    prefix = TABS[tab].id_prefix
    parts = [_numbers(tables[tab].typed["ID"], prefix)] if tab in tables else []
    log = tables.get(Tab.LOG)
    if log is not None and "ID" in log.typed:
        # A Log row with a blank New is a change that was not made (an ID fill skipped
        # because the sheet changed meanwhile): that ID was never issued.
        made = log.typed["New"].notna() if "New" in log.typed else pd.Series(True, index=log.typed.index)
        logged = log.typed["ID"].where(made).dropna()
        # A run of fills is one Log row "P-0001 – P-0500": its last ID is the one that counts.
        spans = logged.astype(str).str.contains(ID_RANGE, regex=False)
        ends = logged[spans].astype(str).str.split(ID_RANGE, regex=False).explode()
        parts.append(_numbers(pd.concat([logged[~spans], ends]), prefix))
    for other in tables.values():
        for col in other.spec.columns:
            if col.type is ColumnType.REF and col.ref is tab and col.key in other.raw:
                parts.append(_numbers(other.raw[col.key], prefix))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.Series(dtype=object)


def _blank_ids(table: Table) -> pd.Series | None:
    """Which records of ``table`` have a blank ID cell (indexed like ``table.typed``), or
    None when none has or the tab has no ID column sheetcrm fills."""
    key = table.spec.id_column
    if key != "ID" or table.typed.empty:
        return None
    blank = pd.Series(blank_mask(table.raw_column(key)), index=table.typed.index)
    return blank if blank.any() else None


def fill_ids(table: Table, used: pd.Series | None = None) -> pd.Series:
    """New IDs for records whose ID cell is blank, indexed like ``table.typed``.

    New IDs continue after the highest number in ``used`` (default: the tab's own IDs) with
    the tab's prefix (``P-0041`` after ``P-0040``) in row order; existing IDs are never
    renumbered. A cell holding an ID that does not parse is not blank and gets none.
    """
    blank = _blank_ids(table)
    if blank is None:
        return pd.Series(dtype=object)
    key = table.spec.id_column
    prefix = table.spec.id_prefix
    numbers = _numbers(table.typed[key], prefix) if used is None else used
    start = max(map(int, numbers), default=0)  # Python ints: an ID may hold 30 digits
    width = max(4, int(numbers.str.len().max()) if len(numbers) else 4)
    count = int(blank.sum())
    new = [f"{prefix}{n:0{width}d}" for n in range(start + 1, start + 1 + count)]
    return pd.Series(new, index=blank[blank].index, dtype=object)


def next_ids(existing: pd.Series, prefix: str, count: int) -> list[str]:
    """``count`` new IDs continuing after the highest number already used with ``prefix``
    among ``existing`` (``P-0041`` after ``P-0040``), as wide as the widest used (at
    least 4 digits), none already taken. Pass :func:`used_numbers`' IDs as ``existing`` so
    a deleted record's ID is not issued again."""
    existing = existing.dropna().astype(str)
    numbers = _numbers(existing, prefix)
    start = max(map(int, numbers), default=0)  # Python ints: an ID may hold 30 digits
    width = max(4, int(numbers.str.len().max()) if len(numbers) else 4)
    new = [f"{prefix}{n:0{width}d}" for n in range(start + 1, start + 1 + count)]
    taken = set(existing)
    return [i for i in new if i not in taken] or new


def issue_ids(tables: dict[Tab, Table]) -> dict[Tab, pd.Series]:
    """New IDs for every record tab (see :func:`fill_ids` and :func:`used_numbers`)."""
    # Every number ever used is gathered only for a tab that needs new IDs: it reads every
    # ID and reference of the workbook, and most syncs fill none.
    return {
        tab: fill_ids(tables[tab], used_numbers(tab, tables))
        if _blank_ids(tables[tab]) is not None
        else pd.Series(dtype=object)
        for tab in ID_TABS
        if tab in tables
    }
