"""The sync engine: read → validate → compute → plan → write → log.

``compute`` and ``plan`` are pure: they take bound tables and return frames, so a past
month end can be recomputed and a plan inspected before anything is written. ``sync``
runs the whole path against a workbook's backend, in one write call.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .backends.base import WritePlan, WriteReport, empty_cells
from .nesl import nesl_table
from .parse import ParseOptions, parse_column
from .pipeline import advance_stages
from .rfm import customer_index, rfm_table, value_tiers
from .schema import (
    LOG,
    NESL,
    TABS,
    Column,
    ColumnType,
    Flag,
    LabeledEnum,
    Stage,
    Tab,
)
from .settings import Settings
from .tables import ROW, Table
from .transactions import attach_company, transactions

if TYPE_CHECKING:
    from .workbook import Workbook

Progress = Callable[[str], None]

#: Columns the customer metrics fill, from the rfm/nesl frames.
_RFM_COLUMNS = {
    "Last Purchase": "last_purchase", "Recency": "recency", "Frequency": "frequency",
    "Monetary": "monetary", "R": "r", "F": "f", "M": "m", "RFM Score": "rfm_score",
    "Segment": "segment",
}
_PIPELINE_COLUMNS = ["Probability", "Weighted Amount", "Stage Since", "Days in Stage",
                     "Stage Seen", "Stage Reason", "Flags"]
_PROBLEM_SEPARATOR = " | "
#: The tabs whose records carry a stable ID and feed the computations.
RECORD_TABS = (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES)


def as_of_date(value: Any = None) -> pd.Timestamp:
    """``value`` (date, datetime, ISO text, Timestamp or None for today) as a midnight
    Timestamp."""
    if value is None:
        return pd.Timestamp(dt.date.today())
    return pd.Timestamp(value).normalize()


# --------------------------------------------------------------------------- IDs


def fill_ids(table: Table) -> pd.Series:
    """New IDs for records whose ID cell is blank, indexed like ``table.typed``.

    New IDs continue after the highest number already used with the tab's prefix
    (``P-0041`` after ``P-0040``) in row order; existing IDs are never renumbered. A cell
    holding an ID that does not parse is not blank and gets none.
    """
    key = table.spec.id_column
    if key != "ID" or table.typed.empty:
        return pd.Series(dtype=object)
    raw = table.raw_column(key)
    blank = raw.map(lambda v: v is None or (isinstance(v, str) and not v.strip())
                    or (isinstance(v, float) and v != v))
    if not blank.any():
        return pd.Series(dtype=object)
    prefix = table.spec.id_prefix
    existing = table.typed[key].dropna().astype(str)
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    numbers = existing.str.extract(pattern.pattern, expand=False).dropna()
    start = int(numbers.astype(int).max()) if len(numbers) else 0
    width = max(4, int(numbers.str.len().max()) if len(numbers) else 4)
    count = int(blank.sum())
    new = [f"{prefix}{n:0{width}d}" for n in range(start + 1, start + 1 + count)]
    taken = set(existing)
    new = [i for i in new if i not in taken] or new
    return pd.Series(new, index=blank[blank].index, dtype=object)


# ----------------------------------------------------------------------- compute


@dataclass
class Computed:
    """Everything ``compute`` derives, as cell values ready to write.

    ``cells[tab]``: sheetcrm's columns for each record of ``tab``, indexed like the
    table's typed frame. ``ids[tab]``: new IDs for blank ID cells. ``stages``: the pipeline
    result (new Stage, change, evidence, ...). ``customers[tab]``: typed customer metrics.
    """

    cells: dict[Tab, pd.DataFrame]
    ids: dict[Tab, pd.Series]
    stages: pd.DataFrame
    customers: dict[Tab, pd.DataFrame]
    transactions: pd.DataFrame


def _label(value: Any, lang: str) -> Any:
    return value.label(lang) if isinstance(value, LabeledEnum) else value


def to_cells(frame: pd.DataFrame, spec_tab: Tab, lang: str) -> pd.DataFrame:
    """Typed computed values -> cell values (date, int, rounded float, label text, None)."""
    spec = TABS[spec_tab]
    out = {}
    for key in frame.columns:
        col = spec.column(key)
        s = frame[key]
        if col.type in (ColumnType.DATE, ColumnType.DATETIME):
            values = pd.to_datetime(s)
            out[key] = pd.Series([None if pd.isna(v) else v.date() for v in values],
                                 index=s.index, dtype=object)
        elif col.type is ColumnType.INTEGER:
            out[key] = pd.Series([None if pd.isna(v) else int(v) for v in s], index=s.index, dtype=object)
        elif col.type in (ColumnType.MONEY, ColumnType.NUMBER):
            digits = 4 if key == "Probability" else 2
            rounded = pd.to_numeric(s, errors="coerce").round(digits)
            out[key] = pd.Series([None if pd.isna(v) else (int(v) if float(v).is_integer() else float(v))
                                  for v in rounded], index=s.index, dtype=object)
        else:
            out[key] = pd.Series([None if v is None or (isinstance(v, float) and v != v) or v == ""
                                  else _label(v, lang) for v in s], index=s.index, dtype=object)
    return pd.DataFrame(out, index=frame.index)


def problems_by_row(problems: pd.DataFrame, title: str, rows: pd.Series) -> pd.Series:
    """The Problems cell of each record: its problems joined, None when clean."""
    mine = problems[problems["tab"] == title]
    if mine.empty:
        return pd.Series([None] * len(rows), index=rows.index, dtype=object)
    text = mine["column"].astype(str) + ": " + mine["problem"].astype(str)
    joined = text.groupby(mine["row"].astype(int)).agg(_PROBLEM_SEPARATOR.join)
    return rows.astype(int).map(joined).astype(object).where(lambda s: s.notna(), None)


def _customer_metrics(tab: Tab, ids: pd.Series, tx: pd.DataFrame, as_of: pd.Timestamp,
                      settings: Settings) -> pd.DataFrame:
    """RFM, NESL, tier and lifecycle of each record of a Contacts or Companies table,
    indexed like its typed frame."""
    key = "contact_id" if tab is Tab.CONTACTS else "company_id"
    customer_ids = customer_index(ids)
    rfm = rfm_table(tx, customer_ids, key, as_of, settings)
    buyers = rfm["last_purchase"].notna()
    tiers = value_tiers(rfm["monetary"], buyers, settings)
    nesl = nesl_table(tx, customer_ids, key, as_of, settings, tiers=tiers)
    metrics = rfm.join(nesl).assign(tier=tiers)
    lang = settings.language
    flags = pd.Series(
        [_join_flags([Flag.MAIN] * bool(m) + [Flag.IMPORTANT] * bool(i), lang)
         for m, i in zip(metrics["main"], metrics["important"], strict=True)],
        index=metrics.index, dtype=object,
    )
    metrics["flags"] = flags
    aligned = metrics.reindex(ids.to_numpy())
    aligned.index = ids.index
    frame = pd.DataFrame({col: aligned[src] for col, src in _RFM_COLUMNS.items()})
    frame["NESL"] = aligned["nesl"]
    frame["Tier"] = aligned["tier"]
    frame["Lifecycle"] = aligned["lifecycle"]
    frame["Flags"] = aligned["flags"]
    return frame


def _join_flags(flags: list[Flag], lang: str) -> str | None:
    return "; ".join(f.label(lang) for f in flags) or None


def compute(tables: dict[Tab, Table], settings: Settings, as_of: Any, problems: pd.DataFrame,
            progress: Progress | None = None) -> Computed:
    """Derive every computed cell from the bound tables, as of ``as_of``.

    Takes the tables, settings and validation problems; returns :class:`Computed`. Pure:
    nothing is read or written.
    """
    as_of = as_of_date(as_of)
    say = progress or (lambda _msg: None)
    lang = str(settings.language)
    ids = {tab: fill_ids(tables[tab]) for tab in RECORD_TABS}
    typed = {tab: t.typed.copy() for tab, t in tables.items()}
    for tab, new in ids.items():
        if len(new):
            typed[tab].loc[new.index, "ID"] = new

    say("computing transactions")
    tx = attach_company(transactions(typed[Tab.ACTIVITIES], typed[Tab.OPPORTUNITIES], as_of),
                        typed[Tab.CONTACTS])
    # Customer keys as categories of the customers' own IDs: RFM and NESL then match
    # customers to transactions without hashing a million ID strings twice.
    categories = {key: customer_index(typed[tab]["ID"])
                  for key, tab in (("contact_id", Tab.CONTACTS), ("company_id", Tab.COMPANIES))}
    tx = tx.assign(**{  # unknown IDs (a dangling reference) become missing, not new categories
        key: pd.Categorical(tx[key].where(tx[key].isin(cats)), categories=cats)
        for key, cats in categories.items()
    })
    cells: dict[Tab, pd.DataFrame] = {}
    customers: dict[Tab, pd.DataFrame] = {}
    for tab in (Tab.CONTACTS, Tab.COMPANIES):
        say(f"scoring {tab.value.lower()}")
        metrics = _customer_metrics(tab, typed[tab]["ID"], tx, as_of, settings)
        customers[tab] = metrics
        cells[tab] = to_cells(metrics, tab, lang)

    say("advancing opportunity stages")
    opps = typed[Tab.OPPORTUNITIES]
    unreadable = opps["Stage"].isna() & ~tables[Tab.OPPORTUNITIES].raw_column("Stage").map(_blank)
    stages = advance_stages(opps[~unreadable], typed[Tab.ACTIVITIES], as_of, settings)
    pipeline = stages[_PIPELINE_COLUMNS]
    cells[Tab.OPPORTUNITIES] = to_cells(pipeline, Tab.OPPORTUNITIES, lang).reindex(opps.index)
    # A Stage nobody can read keeps its pipeline cells as they are (planned as unchanged).
    if unreadable.any():
        current = tables[Tab.OPPORTUNITIES].raw.reindex(columns=_PIPELINE_COLUMNS)
        cells[Tab.OPPORTUNITIES].loc[unreadable] = current.loc[unreadable].to_numpy()

    for tab, table in tables.items():
        if "Problems" not in [c.key for c in table.spec.computed_columns] or table.typed.empty:
            continue
        frame = cells.setdefault(tab, pd.DataFrame(index=table.typed.index))
        frame["Problems"] = problems_by_row(problems, table.title, table.typed[ROW])
    return Computed(cells, ids, stages, customers, tx)


# -------------------------------------------------------------------------- plan


def _same_as_cell(old: pd.Series, new: pd.Series, col: Column, opts: ParseOptions) -> np.ndarray:
    """Which old cell values already show the new value (so need no write)."""
    if col.type in (ColumnType.TEXT, ColumnType.ENUM):
        old_text = old.map(lambda v: "" if _blank(v) else str(v).strip())
        new_text = new.map(lambda v: "" if _blank(v) else str(v).strip())
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


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


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


def plan(tables: dict[Tab, Table], computed: Computed, settings: Settings, as_of: Any = None,
         run_id: str = "", now: dt.datetime | None = None) -> Plan:
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
            ids_parts.append(_changes(table, new_ids.index, "ID", id_col, id_col, record_ids,
                                      raw_ids, new_ids, cas=True, kind="id"))
            for new in new_ids:
                log_rows.append({"Tab": table.title, "ID": new, "Column": spec.column("ID").header(lang),
                                 "Old": "", "New": new, "Reason": "filled a missing ID"})

        if tab is Tab.OPPORTUNITIES and len(computed.stages):
            stages = computed.stages
            moved = stages["change"].isin(["advanced", "filled"])
            stage_col = table.headers.positions.get("Stage")
            if moved.any() and stage_col is not None:
                idx = stages.index[moved]
                labels = stages.loc[idx, "Stage"].map(lambda s: s.label(lang))
                stage_parts.append(_changes(table, idx, "Stage", stage_col, id_col, record_ids,
                                            table.raw.loc[idx, "Stage"], labels, cas=True, kind="stage"))
                for i in idx:
                    log_rows.append({"Tab": table.title, "ID": record_ids[i],
                                     "Column": spec.column("Stage").header(lang),
                                     "Old": _text(table.raw.at[i, "Stage"]), "New": labels[i],
                                     "Reason": stages.at[i, "Stage Reason"]})
            person = stages["change"] == "person"
            for i in stages.index[person]:
                seen = table.typed.at[i, "Stage Seen"]
                log_rows.append({"Tab": table.title, "ID": record_ids[i],
                                 "Column": spec.column("Stage").header(lang),
                                 "Old": seen.label(lang) if isinstance(seen, Stage) else "",
                                 "New": _text(table.raw.at[i, "Stage"]),
                                 "Reason": "changed by a person (noticed by sheetcrm)"})

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
                if new.map(_blank).all():
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
                computed_parts.append(_changes(table, idx, col.key, pos, id_col, record_ids,
                                               old[idx], new[idx], cas=False, kind="computed"))

    parts = [p for p in (*ids_parts, *stage_parts, *computed_parts) if len(p)]
    cells = pd.concat(parts, ignore_index=True) if parts else empty_cells()
    log_frame = pd.DataFrame(log_rows, columns=["Tab", "ID", "Column", "Old", "New", "Reason"])
    log_title = tables[Tab.LOG].title
    log_header = [c.header(lang) for c in LOG.columns]
    computed_count = int((cells["kind"] == "computed").sum()) if len(cells) else 0
    write_log: list[list[Any]] = []
    if len(cells) or headers or len(log_frame):
        write_log = [[now, run_id, r.Tab, r.ID, r.Column, r.Old, r.New, r.Reason]
                     for r in log_frame.itertuples(index=False)]
        moves = stage_counts(computed.stages)
        write_log.append([now, run_id, "", "", "", "", "",
                          f"sync as of {as_of:%Y-%m-%d}: {sum(len(s) for s in computed.ids.values())} "
                          f"ID(s) filled, {moves['moves']} stage move(s), {moves['person']} person "
                          f"change(s), {computed_count} computed cell(s) updated"])
    return Plan(
        WritePlan(cells, headers, write_log, log_title=log_title, log_header=log_header),
        log_frame, computed_count, len(headers),
    )


def stage_counts(stages: pd.DataFrame) -> dict[str, int]:
    """Stage moves sheetcrm made and persons' changes it noticed."""
    if stages.empty:
        return {"moves": 0, "person": 0}
    return {"moves": int(stages["change"].isin(["advanced", "filled"]).sum()),
            "person": int((stages["change"] == "person").sum())}


def _changes(table: Table, idx: pd.Index, key: str, col: int, id_col: int, record_ids: pd.Series,
             old: pd.Series, new: pd.Series, *, cas: bool, kind: str) -> pd.DataFrame:
    n = len(idx)
    return pd.DataFrame({
        "tab": [table.tab] * n, "title": table.title,
        "row": table.typed.loc[idx, ROW].astype(int).to_numpy(),
        "col": col, "record_id": record_ids.loc[idx].to_numpy(), "id_col": id_col,
        "column": key, "old": old.loc[idx].to_numpy(), "new": new.loc[idx].to_numpy(),
        "cas": cas, "kind": kind,
    })


def _text(v: Any) -> str:
    return "" if _blank(v) else str(v)


# -------------------------------------------------------------------------- sync


@dataclass
class SyncResult:
    """What a sync did (or, with ``dry_run``, would do).

    ``changes``: the planned cells (tab, row, id, column, old, new, kind). ``problems``:
    validation's problems. ``computed``: sheetcrm's columns per tab as DataFrames.
    ``counts``: the figures the CLI prints. ``report``: what the backend wrote (None on a
    dry run or when there was nothing to write).
    """

    run_id: str
    as_of: pd.Timestamp
    dry_run: bool
    changes: pd.DataFrame
    problems: pd.DataFrame
    computed: dict[Tab, pd.DataFrame]
    log: pd.DataFrame
    counts: dict[str, Any] = field(default_factory=dict)
    report: WriteReport | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        c = self.counts
        rows = ", ".join(f"{n} {t.lower()}" for t, n in c["rows"].items())
        nesl = ", ".join(f"{k} {v}" for k, v in c["nesl"].items())
        lines = [
            f"Read {rows}.",
            f"Problems: {c['problems']} ({c['errors']} error(s), {c['problems'] - c['errors']} warning(s)).",
            f"IDs filled: {c['ids_filled']}. Stage moves: {c['stage_moves']}. "
            f"Person stage changes noticed: {c['person_changes']}.",
            f"Contacts by NESL: {nesl}.",
        ]
        if self.dry_run:
            lines.append(f"Dry run: {len(self.changes)} cell(s) would be written; nothing was written.")
        else:
            skipped = len(self.report.skipped) if self.report else 0
            lines.append(f"Cells written: {c['cells_written']}"
                         + (f" ({skipped} skipped because the sheet changed)" if skipped else "")
                         + (" (nothing changed; the workbook was not rewritten)" if not len(self.changes) else ""))
        return lines


def _new_run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def sync(workbook: Workbook, as_of: Any = None, *, dry_run: bool = False,
         progress: Progress | None = None) -> SyncResult:
    """Validate, compute and write the computed cells of ``workbook``.

    Writes only cells whose value changes, in one backend write, and appends the Log rows.
    With ``dry_run`` nothing is written. Returns a :class:`SyncResult`.
    """
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    as_of_ts = as_of_date(as_of)
    now = dt.datetime.now().replace(microsecond=0)
    run_id = _new_run_id(now)
    t0 = time.perf_counter()
    say("validating")
    problems = workbook.validate()
    timings["validate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    computed = compute(workbook.tables, workbook.settings, as_of_ts, problems, progress=say)
    timings["compute"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    say("planning")
    the_plan = plan(workbook.tables, computed, workbook.settings, as_of_ts, run_id, now)
    timings["plan"] = time.perf_counter() - t0
    report = None
    if not dry_run and not the_plan.write.empty:
        say(f"writing {len(the_plan.write.cells)} cell(s)")
        t0 = time.perf_counter()
        report = workbook.backend.write(the_plan.write)
        timings["write"] = time.perf_counter() - t0
    cells = the_plan.write.cells
    stages = computed.stages
    contacts_nesl = computed.customers[Tab.CONTACTS]["NESL"]
    nesl_counts = {n.value: int((contacts_nesl == n).sum()) for n in NESL}
    counts = {
        "rows": {t.value: len(workbook.tables[t]) for t in RECORD_TABS},
        "problems": len(problems),
        "errors": int((problems["severity"] == "error").sum()),
        "ids_filled": sum(len(s) for s in computed.ids.values()),
        "stage_moves": stage_counts(stages)["moves"],
        "person_changes": stage_counts(stages)["person"],
        "nesl": nesl_counts,
        "cells_planned": len(cells),
        "cells_written": report.written if report else 0,
        "log_rows": len(the_plan.write.log),
    }
    changes = cells.drop(columns=["tab", "col", "id_col", "cas"]) if len(cells) else cells
    changes = changes.rename(columns={"title": "tab", "record_id": "id"}) if len(changes) else changes
    frames = {tab: computed.cells[tab] for tab in computed.cells}
    if not dry_run and report is not None:
        workbook.mark_stale()
    return SyncResult(run_id, as_of_ts, dry_run, changes, problems, frames, the_plan.log_changes,
                      counts, report, timings)


