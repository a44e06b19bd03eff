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

from sheetcrm.backends.base import LOG_SUMMARY, ChangeKind, WritePlan, empty_cells, id_fill_entries, log_entry
from sheetcrm.cells.parse import ParseOptions, blank_mask, is_blank, map_distinct, parse_column
from sheetcrm.engine.bind import ROW, Table
from sheetcrm.engine.compute import Computed, as_of_date
from sheetcrm.i18n import tr
from sheetcrm.pipeline.stages import StageChange
from sheetcrm.schema import (
    LOG,
    Column,
    ColumnType,
    LogField,
    Stage,
    Tab,
)
from sheetcrm.settings import Settings

# -------------------------------------------------------------------------- plan


def _same_as_cell(table: Table, old: pd.Series, new: pd.Series, col: Column, opts: ParseOptions) -> np.ndarray:
    """Which old cell values already show the new value (so need no write). Text is
    compared as written; other values as bind parsed the old cells and as the new cell
    values parse, and a cell that did not parse never shows the new value."""
    if col.type in (ColumnType.TEXT, ColumnType.ENUM):
        old_text = map_distinct(old, _cell_text, "")
        new_text = map_distinct(new, _cell_text, "")
        return np.asarray(old_text == new_text, dtype=bool)
    old_t = table.typed[col.key]
    unparsed = pd.Series(table.unparsed.get(col.key, False), index=old_t.index, dtype=bool)
    if not old_t.index.equals(new.index):
        old_t, unparsed = old_t.loc[new.index], unparsed.loc[new.index]
    new_t, _ = parse_column(new, col, opts)
    both_na = old_t.isna().to_numpy() & new_t.isna().to_numpy()
    if col.type in (ColumnType.MONEY, ColumnType.NUMBER):
        o = old_t.to_numpy(dtype=float, na_value=np.nan)
        n = new_t.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            equal = np.isclose(o, n, rtol=1e-9, atol=1e-9)
    else:
        equal = (old_t == new_t).fillna(False).to_numpy(dtype=bool)
    return (equal | both_na) & ~unparsed.to_numpy()


def _cell_text(value: Any) -> str:
    return "" if is_blank(value) else str(value).strip()


@dataclass
class Plan:
    """The write plan and what it means.

    ``write``: what goes to the backend. ``log_changes``: one row per change to a
    people's cell (ID filled, Stage advanced, a person's Stage change noticed), even where
    the Log tab gets one row for a run of ID fills.
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
    #: One row per change to a people's cell (the plan's ``log_changes``), in frames...
    change_parts: list[pd.DataFrame] = []
    change_rows: list[dict[str, Any]] = []
    #: ...and the Log tab's rows about them, where a run of ID fills is one row.
    log_rows: list[dict[str, Any]] = []

    def both(entry: dict[str, Any]) -> None:
        change_rows.append(entry)
        log_rows.append(entry)

    def settle() -> None:
        if change_rows:
            change_parts.append(_change_frame(change_rows))
            change_rows.clear()

    for tab, table in tables.items():
        spec = table.spec
        if table.typed.empty or tab is Tab.LOG:
            continue
        id_key = spec.id_column
        id_col = table.headers.positions.get(id_key, -1) if id_key else -1
        raw_ids = table.raw_column(id_key or "")
        new_ids = computed.ids.get(tab, pd.Series(dtype=object))
        record_ids = raw_ids.copy()
        # Columns sync adds go right of the last header, never between people's columns.
        next_col = table.used_width
        if id_key and id_col < 0 and len(new_ids):
            # A sheet kept without IDs gets an ID column, like a computed one.
            id_col, next_col = next_col, next_col + 1
            headers.append((tab, table.title, id_col, spec.column(id_key).header(lang)))
        if len(new_ids):
            record_ids.loc[new_ids.index] = new_ids
            ids_parts.append(
                _changes(
                    table,
                    new_ids.index,
                    "ID",
                    id_col,
                    id_col,
                    record_ids,
                    raw_ids,
                    new_ids,
                    cas=True,
                    kind=ChangeKind.ID,
                )
            )
            id_header = spec.column("ID").header(lang)
            filled = log_entry(
                now, run_id, table.title, "", id_header, "", "", tr(lang, "filled a missing ID"), about="ID"
            )
            settle()
            # A frame, not a dict per ID: an unnumbered workbook fills hundreds of thousands.
            filled_ids = new_ids.to_numpy(dtype=object)
            change_parts.append(
                pd.DataFrame({str(f): filled_ids if f in (LogField.ID, LogField.NEW) else filled[f] for f in _CHANGED})
            )
            log_rows.extend(id_fill_entries(filled, filled_ids.tolist(), lang))

        if tab is Tab.OPPORTUNITIES and len(computed.stages):
            stages = computed.stages
            moved = stages["change"].isin(StageChange.made_by_sheetcrm())
            stage_col = table.headers.positions.get("Stage")
            stage_header = spec.column("Stage").header(lang)
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
                        kind=ChangeKind.STAGE,
                    )
                )
                for record, old_stage, label, reason in zip(
                    record_ids.loc[idx].tolist(),
                    table.raw.loc[idx, "Stage"].tolist(),
                    labels.tolist(),
                    stages.loc[idx, "Stage Reason"].tolist(),
                    strict=True,
                ):
                    both(
                        log_entry(
                            now,
                            run_id,
                            table.title,
                            record,
                            stage_header,
                            _text(old_stage),
                            label,
                            reason,
                            about="Stage",
                        )
                    )
            person = stages.index[stages["change"] == StageChange.PERSON]
            noticed = tr(lang, "changed by a person (noticed by sheetcrm)")
            for record, seen, typed_stage in zip(
                record_ids.loc[person].tolist(),
                table.typed.loc[person, "Stage Seen"].tolist(),
                table.raw_column("Stage").loc[person].tolist(),
                strict=True,
            ):
                both(
                    log_entry(
                        now,
                        run_id,
                        table.title,
                        record,
                        stage_header,
                        seen.label(lang) if isinstance(seen, Stage) else "",
                        _text(typed_stage),
                        noticed,
                    )
                )

        frame = computed.cells.get(tab)
        if frame is None:
            continue
        for col in spec.computed_columns:
            if col.key not in frame:
                continue
            pos = table.headers.positions.get(col.key)
            new = frame[col.key]
            if pos is None:
                if blank_mask(new).all():
                    continue
                pos = next_col
                next_col += 1
                headers.append((tab, table.title, pos, col.header(lang)))
                old = pd.Series(None, index=new.index, dtype=object)
            else:
                old = table.raw[col.key]
            same = _same_as_cell(table, old, new, col, opts)
            idx = new.index[~same]
            if len(idx):
                computed_parts.append(
                    _changes(
                        table,
                        idx,
                        col.key,
                        pos,
                        id_col,
                        record_ids,
                        old[idx],
                        new[idx],
                        cas=False,
                        kind=ChangeKind.COMPUTED,
                    )
                )

    parts = [p for p in (*ids_parts, *stage_parts, *computed_parts) if len(p)]
    cells = pd.concat(parts, ignore_index=True) if parts else empty_cells()
    settle()
    log_frame = pd.concat(change_parts, ignore_index=True) if change_parts else _change_frame([])
    # A Log tab sync adds is named in the workbook's language.
    log_title = tables[Tab.LOG].title if tables[Tab.LOG].present else LOG.title(lang)
    log_header = [c.header(lang) for c in LOG.columns]
    computed_count = int((cells["kind"] == ChangeKind.COMPUTED).sum()) if len(cells) else 0
    write_log: list[dict[str, Any]] = []
    if len(cells) or headers or log_rows:
        moves = stage_counts(computed.stages)
        summary = tr(
            lang,
            "sync as of {date}: {ids} ID(s) filled, {moves} stage move(s), {person} person change(s), "
            "{cells} computed cell(s) updated",
            date=as_of.strftime("%Y-%m-%d"),
            ids=sum(len(s) for s in computed.ids.values()),
            moves=moves["moves"],
            person=moves["person"],
            cells=computed_count,
        )
        titles = {tab: table.title for tab, table in tables.items()}
        notes = [
            log_entry(now, run_id, titles.get(n.tab, "") if n.tab else "", reason=n.text(lang))
            for n in computed.notices
        ]
        write_log = [*log_rows, {**log_entry(now, run_id, reason=summary), LOG_SUMMARY: True}, *notes]
    read = {tab: table.token for tab, table in tables.items() if table.token is not None}
    return Plan(
        WritePlan(
            cells,
            headers,
            write_log,
            log_title=log_title,
            log_header=log_header,
            read=read,
            language=lang,
            header_rows={t.title: t.header_row for t in tables.values() if t.header_row != 1},
        ),
        log_frame,
        computed_count,
        len(headers),
    )


#: The columns of a plan's ``log_changes``.
_CHANGED = (LogField.TAB, LogField.ID, LogField.COLUMN, LogField.OLD, LogField.NEW, LogField.REASON)


def _change_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame({str(f): [r[f] for r in rows] for f in _CHANGED}, columns=[str(f) for f in _CHANGED])


def stage_counts(stages: pd.DataFrame) -> dict[str, int]:
    """Stage moves sheetcrm made and persons' changes it noticed."""
    if stages.empty:
        return {"moves": 0, "person": 0}
    return {
        "moves": int(stages["change"].isin(StageChange.made_by_sheetcrm()).sum()),
        "person": int((stages["change"] == StageChange.PERSON).sum()),
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
    kind: ChangeKind,
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
