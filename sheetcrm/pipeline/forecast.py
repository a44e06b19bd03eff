"""The quarter forecast, the pipeline funnel and won/lost counts: pure functions over a
deals frame.

A *deals frame* is the Opportunities table as of a day, with the stage sheetcrm computes
for that day (see :func:`sheetcrm.report.run.deals_as_of`): columns ``ID``, ``Owner``
(str|None), ``Stage`` (:class:`~sheetcrm.schema.Stage`|None), ``Amount`` (number, NaN
missing), ``Probability`` (0–1), ``Expected Close`` and ``Closed`` (datetime64, NaT
missing). Missing amounts count as 0 in every sum.

Definitions (seed 000, "how much will we sell this quarter"):

* a deal is **in the quarter** when it is Won with its Closed date in the quarter and on or
  before ``as_of``, or open (not Won/Lost) with its Expected Close in the quarter; a Won
  deal without a Closed date closed when it entered Won (see :func:`deals_as_of`);
* **won** — amount of the won deals in the quarter; **open** — amount of the open deals in
  the quarter; **weighted** — their amount times the stage probability;
* **forecast** = won + weighted; **commit** = won + the open deals in Negotiation;
  **best case** = won + every open deal (all of them won).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import numpy as np
import pandas as pd

from sheetcrm.i18n import N_
from sheetcrm.schema import Stage

#: Stages of the funnel, in order (Lost is counted apart: its deals reached no next stage).
FUNNEL_STAGES: Final[tuple[Stage, ...]] = (
    Stage.LEAD,
    Stage.QUALIFIED,
    Stage.PROPOSAL,
    Stage.NEGOTIATION,
    Stage.WON,
)
_OPEN: Final = (Stage.LEAD, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION)


class ForecastBy(StrEnum):
    """What a forecast is broken down by."""

    OWNER = "owner"
    STAGE = "stage"


#: Columns of :func:`forecast_table`, after the group column.
FORECAST_COLUMNS: Final[tuple[str, ...]] = (
    "deals_won",
    "won",
    "deals_open",
    "open",
    "weighted",
    "commit",
    "best_case",
    "forecast",
)


#: What :meth:`Quarter.parse` says of text that is not a quarter ({text}: the text, quoted).
NOT_A_QUARTER = N_("{text} is not a quarter; write it like 2026Q4")


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter (``Quarter(2026, 4)`` is October to December 2026)."""

    year: int
    q: int

    def __post_init__(self) -> None:
        if not 1 <= self.q <= 4:
            raise ValueError(f"quarter must be 1 to 4, not {self.q}")

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """``"2026Q4"``, ``"2026-Q4"`` or ``"Q4 2026"`` -> Quarter. Raises ValueError."""
        s = str(text).strip().upper()
        m = re.fullmatch(r"(\d{4})\s*-?\s*Q([1-4])", s) or re.fullmatch(r"Q([1-4])\s*-?\s*(\d{4})", s)
        if m is None:
            raise ValueError(NOT_A_QUARTER.format(text=repr(text)))
        a, b = m.groups()
        return cls(int(a), int(b)) if len(a) == 4 else cls(int(b), int(a))

    @classmethod
    def of(cls, day: Any) -> Quarter:
        ts = pd.Timestamp(day)
        return cls(ts.year, (ts.month - 1) // 3 + 1)

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(dt.date(self.year, 3 * self.q - 2, 1))

    @property
    def end(self) -> pd.Timestamp:
        """The quarter's last day (midnight)."""
        return (self.start + pd.offsets.QuarterEnd(startingMonth=3)).normalize()

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"


def _amount(deals: pd.DataFrame) -> np.ndarray:
    from sheetcrm.pipeline.stages import deal_amounts

    return np.nan_to_num(deal_amounts(deals["Amount"]))


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce")


def quarter_deals(deals: pd.DataFrame, quarter: Quarter, as_of: Any) -> pd.DataFrame:
    """The deals of ``quarter`` as of ``as_of`` (module docstring), one row each.

    In: a deals frame. Out: its rows in the quarter (same index and columns) plus
    ``won`` (bool), ``amount`` (float, missing 0), ``weighted`` (float: amount × Probability
    for open deals, 0 for won ones) and ``date`` (Closed for won deals, Expected Close for
    open ones), sorted by date then ID.
    """
    as_of_ts = pd.Timestamp(as_of).normalize()
    closed = _dates(deals["Closed"])
    expected = _dates(deals["Expected Close"])
    stage = deals["Stage"]
    won = stage.isin([Stage.WON]) & closed.between(quarter.start, min(quarter.end, as_of_ts))
    open_ = stage.isin(list(_OPEN)) & expected.between(quarter.start, quarter.end)
    amount = _amount(deals)
    prob = pd.to_numeric(deals["Probability"], errors="coerce").fillna(0.0).to_numpy(dtype="float64")
    out = deals.assign(
        won=won.to_numpy(dtype=bool),
        amount=amount,
        weighted=np.where(open_.to_numpy(dtype=bool), amount * prob, 0.0),
        date=closed.where(won, expected),
    )[(won | open_).to_numpy(dtype=bool)]
    return out.sort_values(["date", "ID"], kind="stable")


def forecast_table(
    deals: pd.DataFrame, quarter: Quarter, as_of: Any, by: ForecastBy | str = ForecastBy.OWNER
) -> pd.DataFrame:
    """Won to date, open, weighted, commit, best case and forecast of ``quarter``.

    In: a deals frame, the quarter, the day to compute as of, and ``by`` (owner or stage).
    Out: one row per owner (sorted by name, deals without an owner last as None) or per
    stage (Lead ... Won, every stage listed), column ``Owner`` or ``Stage`` then
    :data:`FORECAST_COLUMNS` (``deals_*`` int64, amounts float64), RangeIndex.
    Definitions: module docstring.
    """
    by = ForecastBy(by)
    qd = quarter_deals(deals, quarter, as_of)
    won = qd["won"].to_numpy(dtype=bool)
    negotiation = qd["Stage"].isin([Stage.NEGOTIATION]).to_numpy(dtype=bool)
    amount = qd["amount"].to_numpy(dtype="float64")
    parts = pd.DataFrame(
        {
            "deals_won": won.astype(np.int64),
            "won": np.where(won, amount, 0.0),
            "deals_open": (~won).astype(np.int64),
            "open": np.where(~won, amount, 0.0),
            "weighted": qd["weighted"].to_numpy(dtype="float64"),
            "negotiation": np.where(negotiation & ~won, amount, 0.0),
        }
    )
    if by is ForecastBy.OWNER:
        key = "Owner"
        groups = qd["Owner"].astype(object).where(qd["Owner"].notna(), None).to_numpy(dtype=object)
        names = sorted({g for g in groups if g is not None}, key=str)
        order: list[Any] = names + ([None] if any(g is None for g in groups) else [])
    else:
        key = "Stage"
        groups = qd["Stage"].to_numpy(dtype=object)
        order = list(FUNNEL_STAGES)
    codes = pd.Series(groups, dtype=object).map({g: i for i, g in enumerate(order) if g is not None})
    if None in order:
        codes = codes.fillna(order.index(None))
    code_arr = codes.to_numpy(dtype="float64")
    keep = ~np.isnan(code_arr)
    idx = code_arr[keep].astype(np.int64)
    sums = {c: np.bincount(idx, weights=parts[c].to_numpy()[keep], minlength=len(order)) for c in parts}
    out = pd.DataFrame({key: pd.Series(order, dtype=object)})
    out["deals_won"] = sums["deals_won"].round().astype(np.int64)
    out["won"] = sums["won"]
    out["deals_open"] = sums["deals_open"].round().astype(np.int64)
    out["open"] = sums["open"]
    out["weighted"] = sums["weighted"]
    out["commit"] = sums["won"] + sums["negotiation"]
    out["best_case"] = sums["won"] + sums["open"]
    out["forecast"] = sums["won"] + sums["weighted"]
    return out


def with_total(frame: pd.DataFrame, key: str, label: Any) -> pd.DataFrame:
    """``frame`` with a last row holding the column sums of its numeric columns and
    ``label`` in column ``key``. Conversion-like columns (``conversion``) are left NaN."""
    numeric = frame.select_dtypes("number").drop(columns=["conversion"], errors="ignore")
    total = {c: numeric[c].sum() for c in numeric}
    total[key] = label
    row = pd.DataFrame([total]).reindex(columns=frame.columns)
    out = pd.concat([frame, row], ignore_index=True)
    for c in numeric:
        out[c] = out[c].astype(frame[c].dtype)
    return out


def funnel(deals: pd.DataFrame) -> pd.DataFrame:
    """The pipeline funnel of a deals frame.

    Out: one row per stage Lead ... Won, then Lost; columns ``Stage`` (Stage), ``deals``
    (int64: deals now in the stage), ``amount`` and ``weighted`` (float64 sums),
    ``reached`` (int64: deals in this stage or a later one, Lost deals excluded as their
    furthest stage is not known; 0 for Lost) and ``conversion`` (float64: reached of the
    next stage / reached of this one, NaN for Won, Lost and stages nobody reached).
    Deals without a stage are not counted.
    """
    stages = [*FUNNEL_STAGES, Stage.LOST]
    order = {s: i for i, s in enumerate(stages)}
    code = deals["Stage"].map(order).to_numpy(dtype="float64", na_value=np.nan)
    ok = ~np.isnan(code)
    idx = code[ok].astype(np.int64)
    amount = _amount(deals)[ok]
    prob = pd.to_numeric(deals["Probability"], errors="coerce").fillna(0.0).to_numpy(dtype="float64")[ok]
    count = np.bincount(idx, minlength=len(stages)).astype(np.int64)
    amount_sum = np.bincount(idx, weights=amount, minlength=len(stages))
    weighted = np.bincount(idx, weights=amount * prob, minlength=len(stages))
    n = len(FUNNEL_STAGES)
    reached = np.append(np.cumsum(count[:n][::-1])[::-1], 0).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        conversion = np.where(reached[: n - 1] > 0, reached[1:n] / np.maximum(reached[: n - 1], 1), np.nan)
    return pd.DataFrame(
        {
            "Stage": pd.Series(stages, dtype=object),
            "deals": count,
            "amount": amount_sum,
            "weighted": weighted,
            "reached": reached,
            "conversion": np.append(conversion, [np.nan, np.nan]).astype("float64"),
        }
    )


def won_lost(deals: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    """Deals won and lost with a Closed date from ``start`` to ``end`` (both inclusive),
    by owner.

    Out: one row per owner with a won or lost deal in the period (sorted by name, no owner
    last as None); columns ``Owner``, ``won`` (int64), ``won_amount`` (float64), ``lost``
    (int64), ``lost_amount`` (float64).
    """
    closed = _dates(deals["Closed"])
    inside = closed.between(pd.Timestamp(start), pd.Timestamp(end)).to_numpy(dtype=bool)
    won = deals["Stage"].isin([Stage.WON]).to_numpy(dtype=bool) & inside
    lost = deals["Stage"].isin([Stage.LOST]).to_numpy(dtype=bool) & inside
    amount = _amount(deals)
    frame = pd.DataFrame(
        {
            "Owner": pd.Series(
                [None if pd.isna(o) else o for o in deals["Owner"].to_numpy(dtype=object)],
                index=deals.index,
                dtype=object,
            ),
            "won": won.astype(np.int64),
            "won_amount": np.where(won, amount, 0.0),
            "lost": lost.astype(np.int64),
            "lost_amount": np.where(lost, amount, 0.0),
        }
    )[won | lost]
    owner_key = frame["Owner"].fillna("\uffff")  # no owner sorts last
    out = frame.groupby(owner_key, sort=True)[["won", "won_amount", "lost", "lost_amount"]].sum()
    out.index = pd.Index([None if k == "\uffff" else k for k in out.index], dtype=object, name="Owner")
    out = out.reset_index().astype(
        {"won": np.int64, "lost": np.int64, "won_amount": "float64", "lost_amount": "float64"}
    )
    out["Owner"] = pd.Series(list(out["Owner"]), dtype=object)
    return out


def deals_as_of(opportunities: pd.DataFrame, activities: pd.DataFrame, as_of: Any, settings: Any) -> pd.DataFrame:
    """The deals frame as of ``as_of``: each deal's stage as sheetcrm computes it that day.

    In: the typed Opportunities and Activities tables, the day, the settings (stage rules
    and probabilities). A deal closed (Won or Lost) after ``as_of`` was still open then: its
    Stage, Stage Seen, Stage Since and Closed are cleared so that only the evidence dated up
    to ``as_of`` places it. (The sheet keeps no stage history, so a stage a person set by
    hand before ``as_of`` and closed later is read from the evidence alone.)

    Out: ``opportunities``' columns and index with ``Stage``, ``Stage Since``,
    ``Probability`` and ``Weighted Amount`` as of ``as_of``.
    """
    from sheetcrm.pipeline.stages import StageChange, advance_stages

    as_of_ts = pd.Timestamp(as_of).normalize()
    opps = opportunities.copy()
    closed = _dates(opps["Closed"])
    later = (closed > as_of_ts).to_numpy(dtype=bool) & opps["Stage"].isin([Stage.WON, Stage.LOST]).to_numpy(dtype=bool)
    if later.any():
        opps.loc[later, ["Stage", "Stage Seen", "Stage Reason"]] = None
        opps.loc[later, ["Stage Since", "Closed"]] = pd.NaT
    result = advance_stages(opps, activities, as_of_ts, settings)
    # A closed deal nobody dated closed on the day it is known to have entered its stage:
    # the Stage Since an earlier sync kept, or the activity that moved it now; failing
    # both, an Expected Close already past. Otherwise it stays undated (and is named).
    closed = _dates(opps["Closed"])
    shut = result["Stage"].isin([Stage.WON, Stage.LOST]).to_numpy(dtype=bool) & closed.isna().to_numpy(dtype=bool)
    if shut.any():
        kept = _dates(opps["Stage Since"])
        moved = _dates(result["Stage Since"]).where(result["change"].isin(StageChange.made_by_sheetcrm()))
        expected = _dates(opps["Expected Close"])
        known = kept.fillna(moved).fillna(expected.where(expected <= as_of_ts))
        opps["Closed"] = closed.where(~shut, known)
    for col in ("Stage", "Stage Since", "Probability", "Weighted Amount"):
        opps[col] = result[col]
    return opps
