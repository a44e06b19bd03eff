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
  A buyer with nothing in the window has 0 / 0; so do non-buyers. Money is summed and
  compared exactly, in integer minor units (:func:`sheetcrm.cells.parse.to_minor`): 11.77 +
  13.97 is 25.74, never 25.740000000000002.
* **Active buyer**: a buyer with at least one transaction in the window.
* **Scores** 1–5, a function of the value alone (identical values, identical scores):
  four ascending bounds b1..b4, F and M score ``1 + #(bounds < value)`` (≤ b1 → 1,
  > b4 → 5), R scores ``5 − #(bounds < recency days)`` (≤ b1 → 5, > b4 → 1). The bounds are
  ``settings.cut_points["R"|"F"|"M"]`` when set, otherwise the 20/40/60/80th percentiles
  (numpy's default linear interpolation, computed exactly in integers) of the values:
  R among all buyers, F and M among active buyers. A buyer with nothing in the window is
  F1 M1. Fewer than 5 buyers (R) or active buyers (F) make no quintiles worth the name:
  they use :data:`SMALL_BOOK_CUT_POINTS` (R=30,60,90,180 days; F=1,2,4,8) unless set; M
  stays percentile-based. :func:`flat_scores` names a dimension whose quintiles cannot
  separate anyone (every value equal).
* **Segment** from the (R, F) grid, :data:`SEGMENT_GRID`; non-buyers are Prospect.
* **Tiers** from active buyers ranked by a positive Monetary, :func:`value_tiers`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import pandas as pd

from sheetcrm.cells.parse import (
    EXACT_MINOR_LIMIT,
    exact_money,
    from_minor,
    minor_to_decimal,
    money_decimals,
    to_minor,
)
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
    if (
        isinstance(customer_ids, pd.Index)
        and customer_ids.dtype == object
        and not customer_ids.hasnans
        and customer_ids.is_unique
    ):
        return customer_ids if customer_ids.name == "ID" else customer_ids.rename("ID")
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
    its amount in int64 minor units of ``10**-decimals`` (NaN read as 0). Per customer
    (arrays of ``len(index)``): ``last_age`` (age of the latest transaction, -1 for
    non-buyers), ``count`` (all transactions up to as_of), ``frequency`` and ``monetary``
    (int64 minor units; in the look-back window: ``age < window_days``).
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
    decimals: int = 0

    @property
    def buyers(self) -> np.ndarray:
        return self.last_age >= 0

    @property
    def active(self) -> np.ndarray:
        """Buyers with at least one transaction in the look-back window."""
        return self.frequency > 0

    def per_customer_sum(self, mask: np.ndarray) -> np.ndarray:
        """Summed amount per customer (int64 minor units) of the transactions selected by ``mask``."""
        return sum_minor(self.code[mask], self.amount[mask], len(self.index))

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


def sum_minor(code: np.ndarray, minor: np.ndarray, n: int) -> np.ndarray:
    """Exact int64 sums of ``minor`` per ``code`` (0 <= code < n).

    float64 bincount is exact while every partial sum stays below 2**53 minor units
    (90 trillion with cents), and several times faster than an integer ``np.add.at``,
    which takes over only beyond that.
    """
    if not len(minor) or int(np.abs(minor).max()) * len(minor) < EXACT_MINOR_LIMIT:
        return np.rint(np.bincount(code, weights=minor.astype("float64"), minlength=n)).astype(np.int64)
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, code, minor)
    return out


def book(
    tx: pd.DataFrame,
    customer_ids: pd.Index | pd.Series | Sequence[Any],
    key: str,
    as_of: DateLike,
    lookback_months: int,
    decimals: int | None = None,
) -> Book:
    """Index ``tx`` by customer as of ``as_of`` (see :class:`Book`). Transactions after
    ``as_of``, undated ones, and ones whose ``key`` is missing or not among
    ``customer_ids`` are dropped. Amounts become minor units of ``10**-decimals``;
    ``decimals`` None takes as many as the amounts of ``tx`` need
    (:func:`sheetcrm.cells.parse.money_decimals`)."""
    if key not in KEYS:
        raise ValueError(f"key must be one of {KEYS}, got {key!r}")
    index = customer_index(customer_ids)
    ts = as_of_timestamp(as_of)
    as_of_day = ts.value // DAY_NS
    start_day = lookback_start(ts, lookback_months).value // DAY_NS
    ns = date_ns(tx["date"])
    day = np.floor_divide(ns, DAY_NS)
    keep = (ns != NAT_NS) & (day <= as_of_day)
    # the usual book has nothing undated or after as_of: skip the copies then
    every = bool(keep.all())
    keys = tx[key]
    if isinstance(keys.dtype, pd.CategoricalDtype):
        # Categorical keys (see sync.compute) are matched once per category, not per row.
        categories = keys.cat.categories
        found = (
            np.arange(len(index))
            if categories.equals(index)
            else positions_in(index, categories.to_numpy(dtype=object), distinct=True)
        )
        lookup = np.append(found, -1).astype(np.int64)
        category_codes = keys.cat.codes.to_numpy()
        code = lookup[category_codes if every else category_codes[keep]]
    else:
        raw_keys = keys.to_numpy(dtype=object)
        code = positions_in(index, raw_keys if every else raw_keys[keep])
    known = code >= 0
    if not known.all():
        code = code[known]
        keep[keep] = known  # from here on, keep selects the rows that count
        every = False
    age = as_of_day - (day if every else day[keep])
    amounts = pd.to_numeric(tx["amount"], errors="coerce").to_numpy(dtype="float64")
    if decimals is None:
        decimals = money_decimals(amounts)
    amount = to_minor(amounts if every else amounts[keep], decimals)
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
        monetary=sum_minor(code[in_window], amount[in_window], n),
        decimals=decimals,
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


def quintile_bounds5(values: np.ndarray) -> np.ndarray:
    """Five times the quintile bounds of integer ``values``, as exact int64.

    numpy's linear percentile at q = k/5 is ``v[lo] + (v[lo+1] − v[lo]) · rem/5`` with
    ``lo, rem = divmod((n − 1)·k, 5)`` on the sorted values; times five it is a whole number,
    so an integer value compares with a bound exactly (``5·value > bound5``) and a value
    equal to a bound always falls the same way. Empty input gives no bounds.
    """
    v = np.sort(np.asarray(values, dtype=np.int64))
    n = len(v)
    if not n:
        return np.empty(0, dtype=np.int64)
    out = np.empty(4, dtype=np.int64)
    for k in range(1, 5):
        lo, rem = divmod((n - 1) * k, 5)
        step = int(v[lo + 1] - v[lo]) if rem else 0
        out[k - 1] = 5 * int(v[lo]) + rem * step
    return out


def fixed_bounds5(bounds: Sequence[Any], decimals: int | None = None) -> np.ndarray:
    """Five times fixed cut points, floored to whole numbers: for an integer value,
    ``5·value > floor(5·b)`` exactly when ``value > b``. With ``decimals`` the bounds are
    amounts and are taken in minor units (read as typed: 0.1 is one tenth, not its double)."""
    scale = decimals or 0
    return np.array(
        [int((exact_money(b).scaleb(scale) * 5).to_integral_value(rounding=ROUND_FLOOR)) for b in bounds],
        dtype=np.int64,
    )


def score5(values: np.ndarray, bounds5: np.ndarray, *, inverted: bool = False) -> np.ndarray:
    """Scores 1–5 of integer ``values`` against :func:`quintile_bounds5` / :func:`fixed_bounds5`
    bounds (same rule as :func:`score`, in exact integers)."""
    above = np.searchsorted(bounds5, 5 * np.asarray(values, dtype=np.int64), side="left")
    return (5 - above if inverted else 1 + above).astype(np.int64)


def _masked_int(values: np.ndarray, valid: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(values.astype(np.int64), ~valid)


def _bounds5(
    name: str, values: np.ndarray, among: np.ndarray, settings: Settings, decimals: int
) -> tuple[np.ndarray, bool]:
    """The bounds (times five) of dimension ``name`` and whether they are quintiles."""
    fixed = settings.cut_points.get(name)
    if fixed:
        return fixed_bounds5(fixed, decimals if name == "M" else None), False
    small = SMALL_BOOK_CUT_POINTS.get(name)
    if small is not None and int(among.sum()) < MIN_BUYERS_FOR_QUINTILES:
        return fixed_bounds5(small), False
    return quintile_bounds5(values[among]), True


def rfm_table(
    tx: pd.DataFrame,
    customer_ids: pd.Index | pd.Series | Sequence[Any],
    key: Key | str,
    as_of: DateLike,
    settings: Settings,
    *,
    decimals: int | None = None,
) -> pd.DataFrame:
    """RFM of every given customer as of ``as_of``.

    In:
      * ``tx`` — a transactions frame (columns ``date``, ``amount`` and ``key``; see
        :func:`sheetcrm.customers.transactions.transactions`). Rows after ``as_of`` are ignored, as are
        rows whose ``key`` is missing or not a given customer. ``key`` may be object,
        ``str`` or categorical.
      * ``customer_ids`` — the customers (contact or company IDs), buyers or not. Missing IDs
        and repeats are dropped.
      * ``key`` — ``"contact_id"`` or ``"company_id"``: which column of ``tx`` names the
        customer.
      * ``as_of`` — the day (inclusive). ``settings`` — ``lookback_months`` and
        ``cut_points`` are used. ``decimals`` — minor-unit decimals of the amounts (None:
        as many as ``tx``'s amounts need).

    Out: a frame indexed by customer ID (object index named ``"ID"``, in the given order),
    columns :data:`RFM_COLUMNS`:
      * ``last_purchase`` datetime64[ns] (NaT for non-buyers);
      * ``recency`` Int64 days from last purchase to as_of (<NA> for non-buyers);
      * ``frequency`` Int64, count of transactions in the look-back window;
      * ``monetary`` float64, their amounts summed exactly in minor units and turned into
        the nearest double once (0 for buyers with nothing in the window and non-buyers).
        Equal exact sums give equal floats, and :func:`sheetcrm.cells.parse.to_minor`
        recovers the exact sum;
      * ``r``, ``f``, ``m`` Int64 scores 1–5, <NA> for non-buyers (R among buyers, F and M
        among active buyers, F1 M1 for a buyer with nothing in the window — module docstring);
      * ``rfm_score`` object: ``"545"`` style string, None for non-buyers;
      * ``segment`` object: :class:`Segment` members, Prospect for non-buyers.
    """
    b = book(tx, customer_ids, key, as_of, settings.lookback_months, decimals)
    buyers = b.buyers
    active = b.active
    n = len(b.index)
    recency = np.where(buyers, b.last_age, 0)
    r_bounds, _ = _bounds5("R", recency, buyers, settings, b.decimals)
    f_bounds, _ = _bounds5("F", b.frequency, active, settings, b.decimals)
    m_bounds, _ = _bounds5("M", b.monetary, active, settings, b.decimals)
    r = np.where(buyers, score5(recency, r_bounds, inverted=True), 0)
    f = np.where(active, score5(b.frequency, f_bounds), np.where(buyers, 1, 0))
    m = np.where(active, score5(b.monetary, m_bounds), np.where(buyers, 1, 0))
    rfm_score = np.full(n, None, dtype=object)
    segment = np.empty(n, dtype=object)
    segment[:] = Segment.PROSPECT  # np.full would store the plain str, not the member
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
            "monetary": from_minor(b.monetary, b.decimals),
            "r": _masked_int(r, buyers),
            "f": _masked_int(f, buyers),
            "m": _masked_int(m, buyers),
            "rfm_score": pd.Series(rfm_score, index=b.index, dtype=object),
            "segment": pd.Series(segment, index=b.index, dtype=object),
        },
        index=b.index,
    )


@dataclass(frozen=True)
class FlatScore:
    """A score dimension whose quintiles cannot separate anyone: all ``customers`` scored
    on it share the one ``value`` (days for R, transactions for F, an amount for M), so
    all get ``score``."""

    dimension: str
    customers: int
    value: float
    score: int


def flat_scores(rfm: pd.DataFrame, settings: Settings) -> list[FlatScore]:
    """The dimensions of an :func:`rfm_table` result that quintiles could not split.

    In: ``rfm`` — an :func:`rfm_table` frame; ``settings`` — the same settings
    (a dimension with fixed cut points, or on the small-book bounds, is the owner's or the
    rule's choice and is not reported). Out: one :class:`FlatScore` per dimension (R
    among buyers, F and M among active buyers) where at least two customers are scored
    and every value is equal, in R, F, M order.
    """
    buyers = rfm["last_purchase"].notna().to_numpy()
    active = buyers & (rfm["frequency"].to_numpy(dtype=np.int64, na_value=0) > 0)
    out: list[FlatScore] = []
    for name, column, among in (("R", "recency", buyers), ("F", "frequency", active), ("M", "monetary", active)):
        count = int(among.sum())
        if count < 2 or settings.cut_points.get(name):
            continue
        if name in SMALL_BOOK_CUT_POINTS and count < MIN_BUYERS_FOR_QUINTILES:
            continue
        values = rfm[column].to_numpy(dtype="float64", na_value=np.nan)[among]
        if np.all(values == values[0]):
            scores = rfm[name.lower()].to_numpy(dtype=np.int64, na_value=0)[among]
            out.append(FlatScore(name, count, float(values[0]), int(scores[0])))
    return out


def _minor_of(values: pd.Series | np.ndarray) -> tuple[np.ndarray, int]:
    """Exact minor units of amounts: integer input is taken as minor units already
    (decimals 0), float input as amounts read from cells."""
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64), 0
    decimals = money_decimals(arr)
    return to_minor(arr, decimals), decimals


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

    In: ``monetary`` — look-back Monetary per customer (the ``monetary`` of
    :func:`rfm_table`, read exactly; NaN read as 0; an integer Series is taken as minor
    units); ``buyers`` — boolean mask, same length/order as ``monetary`` (a Series is
    aligned on ``monetary``'s index), True for customers with a purchase ever;
    ``settings.tier_shares`` — percent of ranked buyers in Strategic, High-profit, Major,
    General (default 5, 15, 30, 45).

    Out: an object Series of :class:`Tier` on ``monetary``'s index. Non-buyers are
    Potential. Buyers with nothing, or a net refund, in the window (Monetary ≤ 0) are
    General. The others are ranked: with ``n`` of them and ``above`` the number with a
    *strictly* higher Monetary, the tier is Strategic when ``above < 5% · n``, else
    High-profit when ``above < 20% · n``, Major when ``above < 50% · n``, General otherwise
    (including the last 5% the shares leave over). Ties therefore share the tier of their
    best-placed member; with 100 ranked buyers of distinct values the split is 5
    Strategic, 15 High-profit, 30 Major, 45 + 5 General.
    """
    values, _ = _minor_of(monetary)
    if isinstance(buyers, pd.Series):
        mask = buyers.reindex(monetary.index).fillna(False).to_numpy(dtype=bool)
    else:
        mask = np.asarray(buyers, dtype=bool)
    if mask.shape != values.shape:
        raise ValueError("buyers must have one flag per monetary value")
    out = np.empty(len(values), dtype=object)
    out[:] = Tier.POTENTIAL  # np.full would store the plain str, not the member
    out[mask] = Tier.GENERAL
    ranked = mask & (values > 0)
    n = int(ranked.sum())
    if n:
        bv = values[ranked]
        ordered = np.sort(bv)
        above = n - np.searchsorted(ordered, bv, side="right")
        cumulative = np.cumsum(np.asarray(settings.tier_shares, dtype="float64")) * n
        rank = np.searchsorted(cumulative, above * 100.0, side="right")
        out[ranked] = _TIERS_BY_RANK[rank]
    return pd.Series(out, index=monetary.index, dtype=object, name="tier")


def pareto(monetary: pd.Series, tiers: pd.Series) -> dict[str, Any]:
    """The 80/20 check: how much revenue the top 20% of buyers bring, computed exactly.

    In: ``monetary`` — value per customer (read exactly, as in :func:`value_tiers`);
    ``tiers`` — :func:`value_tiers` output on the same index (buyers are the customers
    not Potential).

    Out: a dict of plain Python values:
      * ``buyers`` — number of buyers; ``revenue`` — their total monetary (float, the
        nearest double to the exact ``revenue_exact``, a ``Decimal``);
      * ``top_count`` — ceil(20% of buyers) (at least 1 when there are buyers);
      * ``top_share`` — share (0–1) of revenue from the ``top_count`` highest-value buyers
        (ties cannot change it), None when revenue ≤ 0;
      * ``holds`` — ``top_share >= 0.8`` (None when top_share is None), decided on the
        exact fraction;
      * ``by_tier`` — {Tier: {"customers": int, "revenue": float, "share": float | None}}
        for every tier, Potential included.
    """
    aligned = tiers.reindex(monetary.index)
    values, decimals = _minor_of(monetary)
    tier_arr = aligned.to_numpy(dtype=object)
    is_buyer = ~pd.isna(tier_arr) & (tier_arr != Tier.POTENTIAL)
    bv = np.sort(values[is_buyer])[::-1]
    n = len(bv)
    # Python ints: exact whatever the size of the book
    revenue = int(bv.sum(dtype=object)) if n else 0
    top_count = math.ceil(n * 0.2) if n else 0
    top = int(bv[:top_count].sum(dtype=object)) if top_count else 0
    share = Fraction(top, revenue) if revenue > 0 else None
    by_tier: dict[Tier, dict[str, Any]] = {}
    for t in Tier:
        sel = tier_arr == t
        rev = int(values[sel].sum(dtype=object)) if sel.any() else 0
        by_tier[t] = {
            "customers": int(sel.sum()),
            "revenue": float(minor_to_decimal(rev, decimals)),
            "share": float(Fraction(rev, revenue)) if revenue > 0 else None,
        }
    return {
        "buyers": n,
        "revenue": float(minor_to_decimal(revenue, decimals)),
        "revenue_exact": minor_to_decimal(revenue, decimals),
        "top_count": top_count,
        "top_share": None if share is None else float(share),
        "holds": None if share is None else share >= Fraction(4, 5),
        "by_tier": by_tier,
    }
