"""RFM scores, named segments and value tiers (seed 000 table 4, seed 003), as of a date.

Pure, vectorised functions over a transactions frame (:func:`sheetcrm.customers.transactions.transactions`).
Rules in one place (the tables are in ``docs/customer-rules.md``):

* **Buyer**: a customer with at least one transaction dated on or before ``as_of``.
* **Recency**: whole days from the last transaction to ``as_of`` (0 = bought on ``as_of``).
* **Look-back window**: the ``settings.lookback_months`` months ending on ``as_of``: dates
  after ``as_of − N months`` up to and including ``as_of``. When ``as_of`` is the last day of
  a month the window is exactly the N calendar months ending with that month (as of
  2025-02-28 with N = 12: 2024-03-01 … 2025-02-28). See :func:`lookback_start`.
* **Frequency / Monetary**: number / summed amount of the transactions in the window.
  A buyer with nothing in the window has 0 / 0.0; so do non-buyers.
* **Scores** 1–5, a function of the value alone (identical values, identical scores):
  four ascending bounds b1..b4, F and M score ``1 + #(bounds < value)`` (≤ b1 → 1,
  > b4 → 5), R scores ``5 − #(bounds < recency days)`` (≤ b1 → 5, > b4 → 1). The bounds are
  ``settings.cut_points["R"|"F"|"M"]`` when set, otherwise the 20/40/60/80th percentiles
  (numpy's default linear interpolation) of the buyers' values: quintiles among buyers.
  A book with fewer than 5 buyers has no quintiles worth the name: its R and F use
  :data:`SMALL_BOOK_CUT_POINTS` (R=30,60,90,180 days; F=1,2,4,8) unless set, M stays
  percentile-based.
* **Segment** from the (R, F) grid, :data:`SEGMENT_GRID`; non-buyers are Prospect.
* **Tiers** from buyers ranked by Monetary, :func:`value_tiers`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from sheetcrm.customers.transactions import DAY_NS, NAT_NS, DateLike, as_of_timestamp, date_ns, positions_in
from sheetcrm.schema import Segment, Tier
from sheetcrm.settings import Settings

Key = Literal["contact_id", "company_id"]
KEYS: tuple[str, ...] = ("contact_id", "company_id")

#: Columns of :func:`rfm_table`, in order.
RFM_COLUMNS: tuple[str, ...] = (
    "last_purchase",
    "recency",
    "frequency",
    "monetary",
    "r",
    "f",
    "m",
    "rfm_score",
    "segment",
)

#: Percentiles that split buyers into quintiles.
QUINTILES: tuple[float, float, float, float] = (0.2, 0.4, 0.6, 0.8)

#: Quintiles need this many buyers; a smaller book scores R and F (the dimensions that
#: decide the segment) against :data:`SMALL_BOOK_CUT_POINTS` unless cut points are set.
MIN_BUYERS_FOR_QUINTILES = 5

#: Absolute R (days) and F (transactions) bounds for books with fewer than
#: :data:`MIN_BUYERS_FOR_QUINTILES` buyers: the example of the ``rfm.cut_points`` setting.
#: R5 is then "bought within 30 days" (NESL E at the default) and R1 "over 180 days" (L).
SMALL_BOOK_CUT_POINTS: Mapping[str, tuple[float, float, float, float]] = {
    "R": (30.0, 60.0, 90.0, 180.0),
    "F": (1.0, 2.0, 4.0, 8.0),
}


def _segment(r: int, f: int) -> Segment:
    """The named segment of an (R, F) score pair; first matching line wins."""
    if r == 5 and f >= 4:
        return Segment.CHAMPIONS
    if r in (3, 4) and f >= 4:
        return Segment.LOYAL
    if r >= 4 and f in (2, 3):
        return Segment.POTENTIAL_LOYALIST
    if r == 5 and f == 1:
        return Segment.NEW_CUSTOMERS
    if r == 4 and f == 1:
        return Segment.PROMISING
    if r == 3 and f == 3:
        return Segment.NEED_ATTENTION
    if r == 3 and f <= 2:
        return Segment.ABOUT_TO_SLEEP
    if r <= 2 and f in (3, 4):
        return Segment.AT_RISK
    if r <= 2 and f == 5:
        return Segment.CANT_LOSE
    if r == 1 and f == 1:
        return Segment.LOST
    return Segment.HIBERNATING  # R1–2 F1–2 except R1 F1


#: (R, F) -> Segment for all 25 score pairs.
SEGMENT_GRID: Mapping[tuple[int, int], Segment] = {(r, f): _segment(r, f) for r in range(1, 6) for f in range(1, 6)}

# _GRID_ARRAY[r - 1, f - 1] is the segment of (r, f); row 5 (index 5) is never used.
_GRID_ARRAY = np.array(
    [[SEGMENT_GRID[(r, f)] for f in range(1, 6)] for r in range(1, 6)],
    dtype=object,
)


# _SCORE_TEXT[(r - 1) * 25 + (f - 1) * 5 + (m - 1)] is "rfm" as text
_SCORE_TEXT = np.array(
    [f"{r}{f}{m}" for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)],
    dtype=object,
)


def segment_of(r: int, f: int) -> Segment:
    """The segment of one (R, F) pair of scores 1–5. Raises ``KeyError`` off the grid."""
    return SEGMENT_GRID[(int(r), int(f))]


def lookback_start(as_of: DateLike, months: int) -> pd.Timestamp:
    """First day inside the look-back window of ``months`` months ending on ``as_of``.

    The window is ``[lookback_start, as_of]``, both days included. It starts the day after
    ``as_of − months`` (calendar months, clipped to month end), or, when ``as_of`` is the last
    day of its month, on the first day of the month ``months − 1`` months before as_of's,
    so a month-end window always spans whole calendar months.
    """
    ts = as_of_timestamp(as_of)
    if months <= 0:
        raise ValueError(f"look-back months must be positive, got {months}")
    if ts.is_month_end:
        before = ts - pd.offsets.MonthEnd(months)
    else:
        before = ts - pd.DateOffset(months=months)
    return pd.Timestamp(before + pd.Timedelta(days=1)).as_unit("ns")


def customer_index(customer_ids: pd.Index | pd.Series | Sequence[Any]) -> pd.Index:
    """The customers as an object ``Index`` named ``"ID"``: order kept, missing IDs and
    repeats (after the first) dropped."""
    arr = pd.Series(np.asarray(customer_ids, dtype=object), dtype=object).to_numpy(dtype=object)
    arr = arr[~pd.isna(arr)]
    idx = pd.Index(arr, dtype=object, name="ID")
    return idx[~idx.duplicated(keep="first")]


@dataclass(frozen=True)
class Book:
    """Transactions of a set of customers as of a day, as integer arrays (shared by
    :mod:`sheetcrm.customers.rfm` and :mod:`sheetcrm.customers.nesl`; not a public API).

    ``code[i]``, ``age[i]``, ``amount[i]`` describe transaction i that counts: the position
    of its customer in ``index``, its age in whole days before ``as_of`` (0 = on as_of),
    its amount (NaN read as 0). Per customer (arrays of ``len(index)``): ``last_age``
    (age of the latest transaction, -1 for non-buyers), ``count`` (all transactions up to
    as_of), ``frequency`` and ``monetary`` (in the look-back window: ``age < window_days``).
    """

    index: pd.Index
    as_of: pd.Timestamp
    window_days: int
    code: np.ndarray
    age: np.ndarray
    amount: np.ndarray
    last_age: np.ndarray
    count: np.ndarray
    frequency: np.ndarray
    monetary: np.ndarray

    @property
    def buyers(self) -> np.ndarray:
        return self.last_age >= 0

    def per_customer_sum(self, mask: np.ndarray) -> np.ndarray:
        """Summed amount per customer of the transactions selected by ``mask``."""
        return np.bincount(self.code[mask], weights=self.amount[mask], minlength=len(self.index))

    def per_customer_count(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.code[mask], minlength=len(self.index)).astype(np.int64)

    def per_customer_min_age(self, mask: np.ndarray) -> np.ndarray:
        """Smallest age per customer among ``mask`` (-1 where none)."""
        out = np.full(len(self.index), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(out, self.code[mask], self.age[mask])
        out[out == np.iinfo(np.int64).max] = -1
        return out

    def per_customer_max_age(self, mask: np.ndarray) -> np.ndarray:
        """Largest age per customer among ``mask`` (-1 where none)."""
        out = np.full(len(self.index), -1, dtype=np.int64)
        np.maximum.at(out, self.code[mask], self.age[mask])
        return out


def book(
    tx: pd.DataFrame,
    customer_ids: pd.Index | pd.Series | Sequence[Any],
    key: str,
    as_of: DateLike,
    lookback_months: int,
) -> Book:
    """Index ``tx`` by customer as of ``as_of`` (see :class:`Book`). Transactions after
    ``as_of``, undated ones, and ones whose ``key`` is missing or not among
    ``customer_ids`` are dropped."""
    if key not in KEYS:
        raise ValueError(f"key must be one of {KEYS}, got {key!r}")
    index = customer_index(customer_ids)
    ts = as_of_timestamp(as_of)
    as_of_day = ts.value // DAY_NS
    start_day = lookback_start(ts, lookback_months).value // DAY_NS
    ns = date_ns(tx["date"])
    day = np.floor_divide(ns, DAY_NS)
    keep = (ns != NAT_NS) & (day <= as_of_day)
    keys = tx[key]
    if isinstance(keys.dtype, pd.CategoricalDtype):
        # Categorical keys (see sync.compute) are matched once per category, not per row.
        categories = keys.cat.categories
        found = np.arange(len(index)) if categories.equals(index) else index.get_indexer(categories)
        lookup = np.append(found, -1).astype(np.int64)
        code = lookup[keys.cat.codes.to_numpy()[keep]]
    else:
        code = positions_in(index, keys.to_numpy(dtype=object)[keep])
    known = code >= 0
    code = code[known].astype(np.int64)
    age = (as_of_day - day[keep][known]).astype(np.int64)
    amount = np.nan_to_num(
        pd.to_numeric(tx["amount"], errors="coerce").to_numpy(dtype="float64")[keep][known],
        nan=0.0,
    )
    n = len(index)
    window_days = int(as_of_day - start_day + 1)
    last_age = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(last_age, code, age)
    last_age[last_age == np.iinfo(np.int64).max] = -1
    in_window = age < window_days
    return Book(
        index=index,
        as_of=ts,
        window_days=window_days,
        code=code,
        age=age,
        amount=amount,
        last_age=last_age,
        count=np.bincount(code, minlength=n).astype(np.int64),
        frequency=np.bincount(code[in_window], minlength=n).astype(np.int64),
        monetary=np.bincount(code[in_window], weights=amount[in_window], minlength=n),
    )


def score_bounds(
    values: np.ndarray | pd.Series | Sequence[float],
) -> tuple[float, float, float, float]:
    """The four quintile bounds (20/40/60/80th percentiles, linear interpolation) of
    ``values`` (NaN ignored). Empty input gives four NaN bounds."""
    arr = np.asarray(values, dtype="float64")
    arr = arr[~np.isnan(arr)]
    if not len(arr):
        return (math.nan, math.nan, math.nan, math.nan)
    q = np.quantile(arr, QUINTILES)
    return (float(q[0]), float(q[1]), float(q[2]), float(q[3]))


def score(
    values: np.ndarray | pd.Series | Sequence[float],
    bounds: Sequence[float],
    *,
    inverted: bool = False,
) -> np.ndarray:
    """Scores 1–5 of ``values`` against four ascending ``bounds``.

    Not inverted (F, M): ``≤ b1 → 1, ≤ b2 → 2, ≤ b3 → 3, ≤ b4 → 4, > b4 → 5``.
    Inverted (R, days): ``≤ b1 → 5, ≤ b2 → 4, ≤ b3 → 3, ≤ b4 → 2, > b4 → 1``.
    Returns an int64 array; the score depends on the value only, so equal values score
    equal.
    """
    above = np.searchsorted(
        np.asarray(bounds, dtype="float64"),
        np.asarray(values, dtype="float64"),
        side="left",
    )
    return (5 - above if inverted else 1 + above).astype(np.int64)


def _masked_int(values: np.ndarray, valid: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(values.astype(np.int64), ~valid)


def rfm_table(
    tx: pd.DataFrame,
    customer_ids: pd.Index | pd.Series | Sequence[Any],
    key: Key | str,
    as_of: DateLike,
    settings: Settings,
) -> pd.DataFrame:
    """RFM of every given customer as of ``as_of``.

    In:
      * ``tx`` — a transactions frame (columns ``date``, ``amount`` and ``key``; see
        :func:`sheetcrm.customers.transactions.transactions`). Rows after ``as_of`` are ignored, as are
        rows whose ``key`` is missing or not a given customer.
      * ``customer_ids`` — the customers (contact or company IDs), buyers or not. Missing IDs
        and repeats are dropped.
      * ``key`` — ``"contact_id"`` or ``"company_id"``: which column of ``tx`` names the
        customer.
      * ``as_of`` — the day (inclusive). ``settings`` — ``lookback_months`` and
        ``cut_points`` are used.

    Out: a frame indexed by customer ID (object index named ``"ID"``, in the given order),
    columns :data:`RFM_COLUMNS`:
      * ``last_purchase`` datetime64[ns] (NaT for non-buyers);
      * ``recency`` Int64 days from last purchase to as_of (<NA> for non-buyers);
      * ``frequency`` Int64, ``monetary`` float64: count / sum of amounts in the look-back
        window (0 / 0.0 for buyers with nothing in it and for non-buyers);
      * ``r``, ``f``, ``m`` Int64 scores 1–5, <NA> for non-buyers (how they are bucketed:
        quintiles among the buyers, ``settings.cut_points``, small books — module docstring);
      * ``rfm_score`` object: ``"545"`` style string, None for non-buyers;
      * ``segment`` object: :class:`Segment` members, Prospect for non-buyers.
    """
    b = book(tx, customer_ids, key, as_of, settings.lookback_months)
    buyers = b.buyers
    n = len(b.index)
    recency = np.where(buyers, b.last_age, 0)
    cuts = settings.cut_points
    small = SMALL_BOOK_CUT_POINTS if int(buyers.sum()) < MIN_BUYERS_FOR_QUINTILES else {}
    scores: dict[str, np.ndarray] = {}
    for name, values, inverted in (
        ("r", recency.astype("float64"), True),
        ("f", b.frequency.astype("float64"), False),
        ("m", b.monetary, False),
    ):
        bounds = cuts.get(name.upper()) or small.get(name.upper()) or score_bounds(values[buyers])
        scores[name] = np.where(buyers, score(values, bounds, inverted=inverted), 0)
    r, f, m = scores["r"], scores["f"], scores["m"]
    rfm_score = np.full(n, None, dtype=object)
    segment = np.full(n, Segment.PROSPECT, dtype=object)
    if buyers.any():
        rb, fb, mb = r[buyers], f[buyers], m[buyers]
        rfm_score[buyers] = _SCORE_TEXT[(rb - 1) * 25 + (fb - 1) * 5 + (mb - 1)]
        segment[buyers] = _GRID_ARRAY[rb - 1, fb - 1]
    ns = np.where(buyers, b.as_of.value - b.last_age * DAY_NS, NAT_NS).astype(np.int64)
    return pd.DataFrame(
        {
            "last_purchase": ns.view("datetime64[ns]"),
            "recency": _masked_int(recency, buyers),
            "frequency": _masked_int(b.frequency, np.ones(n, dtype=bool)),
            "monetary": b.monetary.astype("float64"),
            "r": _masked_int(r, buyers),
            "f": _masked_int(f, buyers),
            "m": _masked_int(m, buyers),
            "rfm_score": pd.Series(rfm_score, index=b.index, dtype=object),
            "segment": pd.Series(segment, index=b.index, dtype=object),
        },
        index=b.index,
    )


def _money(values: pd.Series) -> np.ndarray:
    """float64 array of amounts, NaN and non-numbers read as 0."""
    return np.nan_to_num(pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64"), nan=0.0)


_TIERS_BY_RANK = np.array(
    [Tier.STRATEGIC, Tier.HIGH_PROFIT, Tier.MAJOR, Tier.GENERAL, Tier.GENERAL],
    dtype=object,
)


def value_tiers(
    monetary: pd.Series,
    buyers: pd.Series | np.ndarray | Sequence[bool],
    settings: Settings,
) -> pd.Series:
    """The customer-pyramid tier of each customer (seed 003).

    In: ``monetary`` — value per customer (the look-back Monetary of :func:`rfm_table`;
    NaN read as 0); ``buyers`` — boolean mask, same length/order as ``monetary`` (a Series is
    aligned on ``monetary``'s index), True for customers with a purchase ever;
    ``settings.tier_shares`` — percent of buyers in Strategic, High-profit, Major, General
    (default 5, 15, 30, 45).

    Out: an object Series of :class:`Tier` on ``monetary``'s index. Non-buyers are Potential.
    For a buyer, let ``above`` be the number of buyers with *strictly* higher value and ``n``
    the number of buyers: the tier is Strategic when ``above < 5% · n``, else High-profit when
    ``above < 20% · n``, Major when ``above < 50% · n``, General otherwise (including the
    buyers past the shares' sum, the last 5% by default). Ties therefore share the tier of
    their best-placed member; with 100 buyers of distinct values the split is 5 Strategic,
    15 High-profit, 30 Major, 45 + 5 General.
    """
    values = _money(monetary)
    if isinstance(buyers, pd.Series):
        mask = buyers.reindex(monetary.index).fillna(False).to_numpy(dtype=bool)
    else:
        mask = np.asarray(buyers, dtype=bool)
    if mask.shape != values.shape:
        raise ValueError("buyers must have one flag per monetary value")
    out = np.full(len(values), Tier.POTENTIAL, dtype=object)
    n = int(mask.sum())
    if n:
        bv = values[mask]
        ordered = np.sort(bv)
        above = n - np.searchsorted(ordered, bv, side="right")
        cumulative = np.cumsum(np.asarray(settings.tier_shares, dtype="float64")) * n
        rank = np.searchsorted(cumulative, above * 100.0, side="right")
        out[mask] = _TIERS_BY_RANK[rank]
    return pd.Series(out, index=monetary.index, dtype=object, name="tier")


def pareto(monetary: pd.Series, tiers: pd.Series) -> dict[str, Any]:
    """The 80/20 check: how much revenue the top 20% of buyers bring.

    In: ``monetary`` — value per customer; ``tiers`` — :func:`value_tiers` output on the
    same index (buyers are the customers not Potential).

    Out: a dict of plain Python values:
      * ``buyers`` — number of buyers; ``revenue`` — their total monetary;
      * ``top_count`` — ceil(20% of buyers) (at least 1 when there are buyers);
      * ``top_share`` — share (0–1) of revenue from the ``top_count`` highest-value buyers
        (ties cannot change it), None when revenue ≤ 0;
      * ``holds`` — ``top_share >= 0.8`` (None when top_share is None);
      * ``by_tier`` — {Tier: {"customers": int, "revenue": float, "share": float | None}}
        for every tier, Potential included.
    """
    aligned = tiers.reindex(monetary.index)
    values = _money(monetary)
    tier_arr = aligned.to_numpy(dtype=object)
    is_buyer = ~pd.isna(tier_arr) & (tier_arr != Tier.POTENTIAL)
    bv = np.sort(values[is_buyer])[::-1]
    n = len(bv)
    revenue = float(bv.sum())
    top_count = math.ceil(n * 0.2) if n else 0
    top_share = float(bv[:top_count].sum()) / revenue if revenue > 0 else None
    by_tier: dict[Tier, dict[str, Any]] = {}
    for t in Tier:
        sel = tier_arr == t
        rev = float(values[sel].sum())
        by_tier[t] = {
            "customers": int(sel.sum()),
            "revenue": rev,
            "share": rev / revenue if revenue > 0 else None,
        }
    return {
        "buyers": n,
        "revenue": revenue,
        "top_count": top_count,
        "top_share": top_share,
        "holds": None if top_share is None else top_share >= 0.8,
        "by_tier": by_tier,
    }
