"""What the team jobs share: turning their decisions into a
:class:`~sheetcrm.backends.base.WritePlan` (cells written with compare-and-set, new rows
appended, Log rows with reasons)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

import pandas as pd

from sheetcrm.backends.append import NewRows
from sheetcrm.backends.base import ChangeKind, WritePlan, empty_cells
from sheetcrm.cells.parse import is_blank
from sheetcrm.engine.bind import ROW, Table
from sheetcrm.exceptions import Named, Phrase, SchemaError
from sheetcrm.i18n import N_
from sheetcrm.schema import LOG, TABS, Lang, Tab
from sheetcrm.settings import Settings


def run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def cell_changes(table: Table, idx: pd.Index, key: str, new: pd.Series, *, kind: ChangeKind) -> pd.DataFrame:
    """Plan cells setting column ``key`` of the records at ``idx`` (the table's index) to
    ``new``, each with compare-and-set against the value read and the record's ID."""
    spec = table.spec
    id_key = spec.id_column or ""
    id_col = table.headers.positions.get(id_key, -1)
    n = len(idx)
    if n == 0:
        return empty_cells()
    if key not in table.headers.positions:
        column = spec.column(key)
        raise SchemaError(
            Phrase(
                N_("no {column} column yet; run 'sheetcrm sync' once, which adds it")
                if key == id_key
                else N_("no {column} column; add that header"),
                {"column": Named(column.key, column.zh)},
            ),
            tab=table.title,
        )
    return pd.DataFrame(
        {
            "tab": [table.tab] * n,
            "title": table.title,
            "row": table.typed.loc[idx, ROW].astype(int).to_numpy(),
            "col": table.headers.positions[key],
            "record_id": table.raw_column(id_key).loc[idx].to_numpy(),
            "id_col": id_col,
            "column": key,
            "old": table.raw_column(key).loc[idx].to_numpy(),
            "new": new.loc[idx].to_numpy(),
            "cas": True,
            "kind": kind,
        }
    )


#: Key of a column of the people's own in records for :func:`new_rows`: the prefix and
#: its 0-based position (``own:5``); no schema key starts so.
OWN_COLUMN = "own:"


def new_rows(
    table: Table, records: pd.DataFrame, *, add: Sequence[str] = (), lang: Lang | str = Lang.EN
) -> tuple[NewRows | None, list[str]]:
    """Rows for the bottom of ``table`` from ``records`` (columns are schema keys), aimed
    at its header row as read (below any title rows); a key :data:`OWN_COLUMN` + position
    fills that column of the people's own. A key of ``add`` the tab has no
    column for gets one right of its last header (named in ``lang``), so that what the
    rows say is not lost. Returns the rows (None when there are none) and the keys the tab
    has no column for (among those holding a value)."""
    positions = dict(table.headers.positions)
    positions.update({f"{OWN_COLUMN}{i}": i for i in table.headers.extras})
    header = [str(h) for h in table.headers.texts]
    filled = [k for k in records.columns if records[k].map(lambda v: not is_blank(v)).any()]
    added: list[str] = []
    for key in add:
        if key in filled and key not in positions:
            col = positions[key] = table.used_width + len(added)
            header += [""] * (col + 1 - len(header))
            header[col] = table.spec.column(key).header(lang)
            added.append(header[col])
    keys = [k for k in records.columns if k in positions]
    absent = [k for k in filled if k not in positions]
    if records.empty or not keys:
        return None, absent
    id_key = table.spec.id_column or ""
    values = records[keys].astype(object).where(records[keys].notna(), None)
    return (
        NewRows(
            table.tab,
            table.title,
            [header[positions[k]] for k in keys],
            [positions[k] for k in keys],
            values.to_numpy().tolist(),
            id_header=header[positions[id_key]] if id_key in positions else "",
            ids=records[id_key].tolist() if id_key in records else [],
            header_row=table.header_row,
            added=tuple(added),
            two_row_header=table.two_row_header,
        ),
        absent,
    )


def write_plan(
    tables: dict[Tab, Table],
    settings: Settings,
    cells: list[pd.DataFrame],
    appends: list[NewRows],
    log: list[dict[str, Any]],
) -> WritePlan:
    """The one write of a team job. ``log``: rows made by
    :func:`~sheetcrm.backends.base.log_entry`, the run's summary last."""
    parts = [c for c in cells if len(c)]
    lang = str(settings.language)
    log_table = tables.get(Tab.LOG)
    added = [(new, text, col) for new in appends for text, col in zip(new.headers, new.cols, strict=True)]
    added = [(new, text, col) for new, text, col in added if text in new.added]
    return WritePlan(
        pd.concat(parts, ignore_index=True) if parts else empty_cells(),
        headers=[(new.tab, new.title, col, text) for new, text, col in added],
        header_rows={new.title: new.header_row for new, _text, _col in added},
        log=log,
        log_title=log_table.title if log_table is not None and log_table.present else TABS[Tab.LOG].title(lang),
        log_header=[c.header(lang) for c in LOG.columns],
        appends=appends,
        read={tab: table.token for tab, table in tables.items() if table.token is not None},
    )


def header(tab: Tab, key: str, lang: Lang | str) -> str:
    """The Log's Column text for ``key`` of ``tab``."""
    return TABS[tab].column(key).header(lang)


def as_people_write(column: pd.Series, ids: pd.Series, names: pd.Series) -> pd.Series:
    """References for new rows, written the way people keep that column.

    In: ``column`` — the cells of the reference column as typed (raw); ``ids`` — the IDs
    to write; ``names`` — every record's name, indexed by its ID. Out: ``ids`` unchanged
    where people write IDs there (or the column is empty); where they write names (most
    of its cells are no ID), each record's name instead, unless another record has the
    same name: then its ID, which links for sure.
    """
    typed = column[~column.map(is_blank)].astype(str).str.strip()
    if typed.empty or typed.isin(set(names.index.astype(str))).mean() >= 0.5:
        return ids
    keys = names.astype(str).str.strip().str.casefold()
    unique = names[(keys.map(keys.value_counts()) == 1).to_numpy() & names.notna().to_numpy()]
    by_id = dict(zip(unique.index, unique.astype(str).str.strip(), strict=True))
    return ids.map(lambda i: by_id.get(i, i) if isinstance(i, str) else i)
