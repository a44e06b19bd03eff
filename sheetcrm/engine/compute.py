"""Compute: bound tables in, sheetcrm's cell values out (pure).

New IDs for blank ID cells, stage moves, pipeline figures, customer metrics (RFM, NESL,
tiers, lifecycle) and the Problems cell, as frames indexed like each table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from sheetcrm.cells.parse import blank_mask, money_decimals
from sheetcrm.customers import notices
from sheetcrm.customers.nesl import nesl_table
from sheetcrm.customers.rfm import customer_index, flat_scores, rfm_table, value_tiers
from sheetcrm.customers.rhythm import rhythm_table
from sheetcrm.customers.transactions import attach_company, left_out_purchases, transactions
from sheetcrm.engine.bind import ROW, Table
from sheetcrm.engine.ids import ID_TABS, issue_ids
from sheetcrm.engine.ids import fill_ids as fill_ids  # where tests import it from
from sheetcrm.engine.ids import next_ids as next_ids  # where team/ imports it from
from sheetcrm.exceptions import Named, worded
from sheetcrm.i18n import N_
from sheetcrm.pipeline.stages import advance_stages, evidence_seen
from sheetcrm.schema import (
    TABS,
    ColumnType,
    Flag,
    LabeledEnum,
    Tab,
)
from sheetcrm.settings import Settings

if TYPE_CHECKING:
    pass

Progress = Callable[[str], None]


#: Columns the customer metrics fill, from the rfm/nesl frames.
_RFM_COLUMNS = {
    "Last Purchase": "last_purchase",
    "Recency": "recency",
    "Frequency": "frequency",
    "Monetary": "monetary",
    "R": "r",
    "F": "f",
    "M": "m",
    "RFM Score": "rfm_score",
    "Segment": "segment",
}
_PIPELINE_COLUMNS = [
    "Probability",
    "Weighted Amount",
    "Stage Since",
    "Days in Stage",
    "Stage Seen",
    "Stage Reason",
    "Flags",
]
_WEIGHING = ["Probability", "Weighted Amount"]
_PROBLEM_SEPARATOR = " | "
#: The tabs whose records carry a stable ID and feed the computations.
RECORD_TABS = (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES)


def as_of_date(value: Any = None) -> pd.Timestamp:
    """``value`` (date, datetime, ISO text, Timestamp or None for today) as a midnight
    Timestamp."""
    if value is None:
        return pd.Timestamp(dt.date.today())
    return pd.Timestamp(value).normalize()


# ----------------------------------------------------------------------- compute


@dataclass
class Computed:
    """Everything ``compute`` derives, as cell values ready to write.

    ``cells[tab]``: sheetcrm's columns for each record of ``tab``, indexed like the
    table's typed frame. ``ids[tab]``: new IDs for blank ID cells. ``stages``: the pipeline
    result (new Stage, change, evidence, ...). ``customers[tab]``: typed customer metrics.
    ``notices``: what the customer numbers tell the owner (flat quintiles, the P(alive)
    fit or why it is empty, the one-time rules note), for the sync summary and the Log.
    """

    cells: dict[Tab, pd.DataFrame]
    ids: dict[Tab, pd.Series]
    stages: pd.DataFrame
    customers: dict[Tab, pd.DataFrame]
    transactions: pd.DataFrame
    notices: list[notices.Notice] = field(default_factory=list)


def _label(value: Any, lang: str) -> Any:
    return value.label(lang) if isinstance(value, LabeledEnum) else value


def _numbers_as_cells(values: np.ndarray) -> np.ndarray:
    """Floats -> cell values: None for NaN, int for whole numbers, float otherwise."""
    out = np.full(len(values), None, dtype=object)
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(values) & (np.floor(values) == values)
    small = whole & (np.abs(values) < 2**53)
    out[small] = values[small].astype(np.int64).tolist()
    big = whole & ~small  # beyond int64's exact range: Python's int is exact
    out[big] = [int(v) for v in values[big]]
    other = ~whole & ~np.isnan(values)
    out[other] = values[other].tolist()
    return out


def _each_distinct(values: pd.Series, fn: Callable[[Any], Any], *, members_as_text: bool = False) -> np.ndarray:
    """``fn`` of every value (missing and "" give None), called once per distinct value.
    ``members_as_text``: ``fn`` gives a vocabulary member and its value's text the same
    result (they hash alike, so only one of them is seen)."""
    arr = values.to_numpy(dtype=object)
    codes, distinct = pd.factorize(arr)
    members = [isinstance(v, LabeledEnum) for v in distinct]
    text = infer_dtype(arr, skipna=True) in ("string", "empty")  # 1, 1.0 and True hash alike
    if not text or (not members_as_text and any(members) and not all(members)):
        # A member hashes like its value's text, which fn may treat otherwise: one by one.
        each = np.empty(len(arr), dtype=object)
        each[:] = [None if _missing(v) or v == "" else fn(v) for v in arr]
        return each
    mapped = np.empty(len(distinct) + 1, dtype=object)
    mapped[:-1] = [None if v == "" else fn(v) for v in distinct]
    mapped[-1] = None
    return mapped[codes]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def to_cells(frame: pd.DataFrame, spec_tab: Tab, lang: str) -> pd.DataFrame:
    """Typed computed values -> cell values (date, int, rounded float, label text, None)."""
    spec = TABS[spec_tab]
    out = {}
    for key in frame.columns:
        col = spec.column(key)
        s = frame[key]
        if col.type in (ColumnType.DATE, ColumnType.DATETIME):
            values = pd.to_datetime(s)
            dates = np.array(values.dt.date, dtype=object)
            dates[values.isna().to_numpy()] = None
            out[key] = pd.Series(dates, index=s.index, dtype=object)
        elif col.type is ColumnType.INTEGER:
            ints = np.full(len(s), None, dtype=object)
            present = s.notna().to_numpy()
            ints[present] = s[present].to_numpy(dtype=np.int64).tolist()
            out[key] = pd.Series(ints, index=s.index, dtype=object)
        elif key == "Monetary":
            # already the double nearest the exact sum: rounding again could only move it
            amounts = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            out[key] = pd.Series(_numbers_as_cells(amounts), index=s.index, dtype=object)
        elif col.type in (ColumnType.MONEY, ColumnType.NUMBER):
            digits = 4 if col.percent else 2
            rounded = pd.to_numeric(s, errors="coerce").round(digits)
            out[key] = pd.Series(
                _numbers_as_cells(rounded.to_numpy(dtype=float, na_value=np.nan)), index=s.index, dtype=object
            )
        elif col.type is ColumnType.ENUM and col.enum is not None:
            # Members can come back as plain str from pandas operations: label them again.
            enum = col.enum

            def relabel(v: Any, enum: type[LabeledEnum] = enum) -> Any:
                return _label(enum.parse(v) or v, lang)

            out[key] = pd.Series(_each_distinct(s, relabel, members_as_text=True), index=s.index, dtype=object)
        else:
            out[key] = pd.Series(_each_distinct(s, lambda v: _label(v, lang)), index=s.index, dtype=object)
    return pd.DataFrame(out, index=frame.index)


def problems_by_row(problems: pd.DataFrame, title: str, rows: pd.Series) -> pd.Series:
    """The Problems cell of each record: its problems joined, None when clean."""
    mine = problems[problems["tab"] == title]
    if mine.empty:
        return pd.Series([None] * len(rows), index=rows.index, dtype=object)
    text = (mine["column"].astype(str) + ": " + mine["problem"].astype(str)).to_numpy(dtype=object)
    row = mine["row"].astype(int).to_numpy()
    # One stable sort by row, then each row's run of problems joined in their order (a
    # groupby calling join per group is far slower with 100,000s of records).
    order = np.argsort(row, kind="stable")
    row, texts = row[order], text[order].tolist()
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]]).tolist()
    ends = [*starts[1:], len(texts)]
    joined = pd.Series(
        [texts[a] if b - a == 1 else _PROBLEM_SEPARATOR.join(texts[a:b]) for a, b in zip(starts, ends, strict=True)],
        index=row[starts],
        dtype=object,
    )
    return rows.astype(int).map(joined).astype(object).where(lambda s: s.notna(), None)


def _customer_metrics(
    tab: Tab, ids: pd.Series, tx: pd.DataFrame, as_of: pd.Timestamp, settings: Settings, decimals: int
) -> tuple[pd.DataFrame, list[notices.Notice]]:
    """RFM, NESL, tier, lifecycle and rhythm of each record of a Contacts or Companies
    table, indexed like its typed frame, and the notices about them."""
    key = "contact_id" if tab is Tab.CONTACTS else "company_id"
    customer_ids = customer_index(ids)
    rfm = rfm_table(tx, customer_ids, key, as_of, settings, decimals=decimals)
    buyers = rfm["last_purchase"].notna()
    tiers = value_tiers(rfm["monetary"], buyers, settings)
    nesl = nesl_table(tx, customer_ids, key, as_of, settings, tiers=tiers, decimals=decimals)
    rhythm = rhythm_table(tx, customer_ids, key, as_of, settings, tab)
    said = [notices.flat_score(tab, f.dimension, f.customers, f.value, f.score) for f in flat_scores(rfm, settings)]
    if buyers.any():
        said.append(rhythm.notice)
    metrics = rfm.join(nesl).join(rhythm.table).assign(tier=tiers)
    lang = settings.language
    # Four possible cells (neither, main, important, both), picked per customer.
    choices = np.array(
        [_join_flags([Flag.MAIN] * m + [Flag.IMPORTANT] * i, lang) for i in (0, 1) for m in (0, 1)], dtype=object
    )
    pick = metrics["main"].to_numpy(dtype=bool) + 2 * metrics["important"].to_numpy(dtype=bool)
    metrics["flags"] = pd.Series(choices[pick], index=metrics.index, dtype=object)
    aligned = metrics.reindex(ids.to_numpy())
    aligned.index = ids.index
    frame = pd.DataFrame({col: aligned[src] for col, src in _RFM_COLUMNS.items()})
    frame["NESL"] = aligned["nesl"]
    frame["Tier"] = aligned["tier"]
    frame["Lifecycle"] = aligned["lifecycle"]
    frame["P(alive)"] = aligned["p_alive"]
    frame["Expected 90d"] = aligned["expected_90d"]
    frame["Rhythm"] = aligned["rhythm"]
    frame["Flags"] = aligned["flags"]
    return frame, said


def _issued_ids(tables: dict[Tab, Table]) -> dict[Tab, pd.Series]:
    """The new IDs of every record tab: those linking issued when the tables were bound
    (:attr:`Table.issued_ids`), or issued now for tables that were not linked."""
    record = [t for t in ID_TABS if t in tables]
    kept = {t: tables[t].issued_ids for t in record}
    if all(ids is not None for ids in kept.values()):
        return {t: ids for t, ids in kept.items() if ids is not None}
    return issue_ids(tables)


def _rules_note_due(tables: dict[Tab, Table]) -> bool:
    """Whether the Log has yet to tell the owner about the current customer rules: the
    first sync under them writes the note, every later one finds it there."""
    log = tables.get(Tab.LOG)
    reasons = log.typed["Reason"].tolist() if log is not None and "Reason" in log.typed else []
    return not notices.has_rules_note(reasons)


def _scored_before(tables: dict[Tab, Table]) -> bool:
    """Whether any customer already holds scores (from rules before the current ones)."""
    return any(
        not blank_mask(table.raw[key]).all()
        for tab in (Tab.CONTACTS, Tab.COMPANIES)
        if (table := tables.get(tab)) is not None
        for key in ("R", "Segment", "Tier")
        if key in table.raw
    )


def _join_flags(flags: list[Flag], lang: str) -> str | None:
    return "; ".join(f.label(lang) for f in flags) or None


def compute(
    tables: dict[Tab, Table], settings: Settings, as_of: Any, problems: pd.DataFrame, progress: Progress | None = None
) -> Computed:
    """Derive every computed cell from the bound tables, as of ``as_of``.

    Takes the tables, settings and validation problems; returns :class:`Computed`. Pure:
    nothing is read or written.
    """
    as_of = as_of_date(as_of)
    say = progress or (lambda _msg: None)
    lang = str(settings.language)
    ids = _issued_ids(tables)
    # Only a tab taking new IDs is copied: what follows reads the frames, never changes them.
    typed = {tab: t.typed for tab, t in tables.items()}
    for tab, new in ids.items():
        if len(new):
            typed[tab] = typed[tab].copy()
            typed[tab].loc[new.index, "ID"] = new

    say(worded(N_("computing transactions")))
    tx = attach_company(transactions(typed[Tab.ACTIVITIES], typed[Tab.OPPORTUNITIES], as_of), typed[Tab.CONTACTS])
    # Customer keys as categories of the customers' own IDs: RFM and NESL then match
    # customers to transactions without hashing a million ID strings twice.
    categories = {
        key: customer_index(typed[tab]["ID"])
        for key, tab in (("contact_id", Tab.CONTACTS), ("company_id", Tab.COMPANIES))
    }
    tx = tx.assign(
        **{  # unknown IDs (a dangling reference) become missing, not new categories
            key: pd.Categorical(tx[key].where(tx[key].isin(cats)), categories=cats) for key, cats in categories.items()
        }
    )
    cells: dict[Tab, pd.DataFrame] = {}
    customers: dict[Tab, pd.DataFrame] = {}
    # A workbook never scored before has no scores to change: its Log notes the rules
    # quietly (so no later sync tells of them), and the run's summary says nothing.
    said = [notices.rules_changed(told=_scored_before(tables))] if _rules_note_due(tables) else []
    missed = left_out_purchases(typed[Tab.ACTIVITIES], as_of, typed[Tab.CONTACTS]["ID"], typed[Tab.COMPANIES]["ID"])
    if missed.undated or missed.unlinked:
        said.append(notices.left_out(*missed))
    # one money scale for the whole book, so contacts and companies compare alike
    decimals = money_decimals(tx["amount"])
    for tab in (Tab.CONTACTS, Tab.COMPANIES):
        say(worded(N_("scoring {tab}"), tab=Named(tab.value.lower(), tab.zh)))
        metrics, about = _customer_metrics(tab, typed[tab]["ID"], tx, as_of, settings, decimals)
        customers[tab] = metrics
        said.extend(about)
        cells[tab] = to_cells(metrics, tab, lang)

    say(worded(N_("advancing opportunity stages")))
    opps = typed[Tab.OPPORTUNITIES]
    unreadable = tables[Tab.OPPORTUNITIES].unreadable("Stage")
    stages = advance_stages(opps[~unreadable], typed[Tab.ACTIVITIES], as_of, settings)
    pipeline = stages[_PIPELINE_COLUMNS]
    cells[Tab.OPPORTUNITIES] = to_cells(pipeline, Tab.OPPORTUNITIES, lang).reindex(opps.index)
    # A Stage nobody can read keeps what sheetcrm remembers of the deal (Stage Seen and
    # Since, so a later fix is told apart from a move) but weighs nothing: its Probability
    # and Weighted Amount are cleared, as the forecast leaves it out, so that a sum of the
    # column in the sheet agrees with the forecast. A Stage column gone (its header
    # misspelt: a warning says so) leaves every cell as it is until the header is back.
    if unreadable.any():
        current = tables[Tab.OPPORTUNITIES].raw.reindex(columns=_PIPELINE_COLUMNS)
        if "Stage" in tables[Tab.OPPORTUNITIES].headers.positions:
            current[_WEIGHING] = None
        cells[Tab.OPPORTUNITIES].loc[unreadable] = current.loc[unreadable].to_numpy()

    acts = typed[Tab.ACTIVITIES]
    if len(acts):
        seen = evidence_seen(opps[~unreadable], acts, as_of, settings)
        cells[Tab.ACTIVITIES] = to_cells(pd.DataFrame({"Seen": seen}), Tab.ACTIVITIES, lang)

    if settings.write_resolved_ids:
        for tab, table in tables.items():
            for key, linked in table.resolved.items():
                frame = cells.setdefault(tab, pd.DataFrame(index=table.typed.index))
                frame[f"{key} (resolved)"] = linked.astype(object).where(linked.notna(), None)

    for tab, table in tables.items():
        if "Problems" not in [c.key for c in table.spec.computed_columns] or table.typed.empty:
            continue
        frame = cells.setdefault(tab, pd.DataFrame(index=table.typed.index))
        frame["Problems"] = problems_by_row(problems, table.title, table.typed[ROW])
    return Computed(cells, ids, stages, customers, tx, said)
