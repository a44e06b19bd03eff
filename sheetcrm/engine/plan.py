"""Plan: computed values against what the sheet holds; only the cells that change.

Pure: tables and a :class:`~sheetcrm.engine.compute.Computed` in, a
:class:`~sheetcrm.backends.base.WritePlan` and its Log rows out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sheetcrm.backends.base import WritePlan, empty_cells
from sheetcrm.cells.parse import ParseOptions, is_blank, parse_column
from sheetcrm.engine.bind import ROW, Table
from sheetcrm.engine.compute import Computed, as_of_date
from sheetcrm.schema import (
    LOG,
    Column,
    ColumnType,
    Stage,
    Tab,
)
from sheetcrm.settings import Settings

# -------------------------------------------------------------------------- plan


def _same_as_cell(old: pd.Series, new: pd.Series, col: Column, opts: ParseOptions) -> np.ndarray:
    """Which old cell values already show the new value (so need no write)."""
    if col.type in (ColumnType.TEXT, ColumnType.ENUM):
        old_text = old.map(lambda v: "" if is_blank(v) else str(v).strip())
        new_text = new.map(lambda v: "" if is_blank(v) else str(v).strip())
        return np.asarray(old_text.to_numpy() == new_text.to_numpy(), dtype=bool)
    old_t, old_p = parse_column(old, col, opts)
    new_t, _ = parse_column(new, col, opts)
    both_na = old_t.isna().to_numpy() & new_t.isna().to_numpy()
    if col.type in (ColumnType.MONEY, ColumnType.NUMBER):
        o = old_t.to_numpy(dtype=float, na_value=np.nan)
        n = new_t.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            equal = np.isclose(o, n, rtol=1e-9, atol=1e-9)
    else:
        equal = (old_t == new_t).fillna(False).to_numpy(dtype=bool)
    return (equal | both_na) & old_p.isna().to_numpy()


@dataclass
class Plan:
    """The write plan and what it means.

    ``write``: what goes to the backend. ``log_changes``: one row per change to a
    people's cell (ID filled, Stage advanced, a person's Stage change noticed).
    """

    write: WritePlan
    log_changes: pd.DataFrame
    computed_cells: int
    header_additions: int


def plan(
    tables: dict[Tab, Table],
    computed: Computed,
    settings: Settings,
    as_of: Any = None,
    run_id: str = "",
    now: dt.datetime | None = None,
) -> Plan:
    """Diff computed values against the sheet: only cells whose value would change.

    Returns a :class:`Plan` whose cells are ordered ID fills first (so later checks on a
    row see its new ID), then Stage moves, then computed cells.
    """
    now = now or dt.datetime.now().replace(microsecond=0)
    as_of = as_of_date(as_of)
    opts = ParseOptions.from_settings(settings)
    lang = str(settings.language)
    ids_parts: list[pd.DataFrame] = []
    stage_parts: list[pd.DataFrame] = []
    computed_parts: list[pd.DataFrame] = []
    headers: list[tuple[Tab, str, int, str]] = []
    log_rows: list[dict[str, Any]] = []

    for tab, table in tables.items():
        spec = table.spec
        if table.typed.empty or tab is Tab.LOG:
            continue
        id_key = spec.id_column
        id_col = table.headers.positions.get(id_key, -1) if id_key else -1
        raw_ids = table.raw_column(id_key or "")
        new_ids = computed.ids.get(tab, pd.Series(dtype=object))
        record_ids = raw_ids.copy()
        if len(new_ids):
            record_ids.loc[new_ids.index] = new_ids
            ids_parts.append(
                _changes(table, new_ids.index, "ID", id_col, id_col, record_ids, raw_ids, new_ids, cas=True, kind="id")
            )
            for new in new_ids:
                log_rows.append(
                    {
                        "Tab": table.title,
                        "ID": new,
                        "Column": spec.column("ID").header(lang),
                        "Old": "",
                        "New": new,
                        "Reason": "filled a missing ID",
                    }
                )

        if tab is Tab.OPPORTUNITIES and len(computed.stages):
            stages = computed.stages
            moved = stages["change"].isin(["advanced", "filled"])
            stage_col = table.headers.positions.get("Stage")
            if moved.any() and stage_col is not None:
                idx = stages.index[moved]
                labels = stages.loc[idx, "Stage"].map(lambda s: s.label(lang))
                stage_parts.append(
                    _changes(
                        table,
                        idx,
                        "Stage",
                        stage_col,
                        id_col,
                        record_ids,
                        table.raw.loc[idx, "Stage"],
                        labels,
                        cas=True,
                        kind="stage",
                    )
                )
                for i in idx:
                    log_rows.append(
                        {
                            "Tab": table.title,
                            "ID": record_ids[i],
                            "Column": spec.column("Stage").header(lang),
                            "Old": _text(table.raw.at[i, "Stage"]),
                            "New": labels[i],
                            "Reason": stages.at[i, "Stage Reason"],
                        }
                    )
            person = stages["change"] == "person"
            for i in stages.index[person]:
                seen = table.typed.at[i, "Stage Seen"]
                log_rows.append(
                    {
                        "Tab": table.title,
                        "ID": record_ids[i],
                        "Column": spec.column("Stage").header(lang),
                        "Old": seen.label(lang) if isinstance(seen, Stage) else "",
                        "New": _text(table.raw.at[i, "Stage"]),
                        "Reason": "changed by a person (noticed by sheetcrm)",
                    }
                )

        frame = computed.cells.get(tab)
        if frame is None:
            continue
        next_col = table.headers.width
        for col in spec.computed_columns:
            if col.key not in frame:
                continue
            pos = table.headers.positions.get(col.key)
            new = frame[col.key]
            if pos is None:
                if new.map(is_blank).all():
                    continue
                pos = next_col
                next_col += 1
                headers.append((tab, table.title, pos, col.header(lang)))
                old = pd.Series(None, index=new.index, dtype=object)
            else:
                old = table.raw[col.key]
            same = _same_as_cell(old, new, col, opts)
            idx = new.index[~same]
            if len(idx):
                computed_parts.append(
                    _changes(
                        table, idx, col.key, pos, id_col, record_ids, old[idx], new[idx], cas=False, kind="computed"
                    )
                )

    parts = [p for p in (*ids_parts, *stage_parts, *computed_parts) if len(p)]
    cells = pd.concat(parts, ignore_index=True) if parts else empty_cells()
    log_frame = pd.DataFrame(log_rows, columns=["Tab", "ID", "Column", "Old", "New", "Reason"])
    log_title = tables[Tab.LOG].title
    log_header = [c.header(lang) for c in LOG.columns]
    computed_count = int((cells["kind"] == "computed").sum()) if len(cells) else 0
    write_log: list[list[Any]] = []
    if len(cells) or headers or len(log_frame):
        write_log = [
            [now, run_id, r.Tab, r.ID, r.Column, r.Old, r.New, r.Reason] for r in log_frame.itertuples(index=False)
        ]
        moves = stage_counts(computed.stages)
        write_log.append(
            [
                now,
                run_id,
                "",
                "",
                "",
                "",
                "",
                f"sync as of {as_of:%Y-%m-%d}: {sum(len(s) for s in computed.ids.values())} "
                f"ID(s) filled, {moves['moves']} stage move(s), {moves['person']} person "
                f"change(s), {computed_count} computed cell(s) updated",
            ]
        )
    return Plan(
        WritePlan(cells, headers, write_log, log_title=log_title, log_header=log_header),
        log_frame,
        computed_count,
        len(headers),
    )


def stage_counts(stages: pd.DataFrame) -> dict[str, int]:
    """Stage moves sheetcrm made and persons' changes it noticed."""
    if stages.empty:
        return {"moves": 0, "person": 0}
    return {
        "moves": int(stages["change"].isin(["advanced", "filled"]).sum()),
        "person": int((stages["change"] == "person").sum()),
    }


def _changes(
    table: Table,
    idx: pd.Index,
    key: str,
    col: int,
    id_col: int,
    record_ids: pd.Series,
    old: pd.Series,
    new: pd.Series,
    *,
    cas: bool,
    kind: str,
) -> pd.DataFrame:
    n = len(idx)
    return pd.DataFrame(
        {
            "tab": [table.tab] * n,
            "title": table.title,
            "row": table.typed.loc[idx, ROW].astype(int).to_numpy(),
            "col": col,
            "record_id": record_ids.loc[idx].to_numpy(),
            "id_col": id_col,
            "column": key,
            "old": old.loc[idx].to_numpy(),
            "new": new.loc[idx].to_numpy(),
            "cas": cas,
            "kind": kind,
        }
    )


def _text(v: Any) -> str:
    return "" if is_blank(v) else str(v)
