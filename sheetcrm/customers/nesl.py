"""NESL classes, main/important marks and lifecycle stages, as of a date.

NESL is seed 000's table 4; lifecycle is Stone & Woodcock's eight stages (seed 001). Pure,
vectorised functions over a transactions frame (:func:`sheetcrm.customers.transactions.transactions`).
Ages are whole days before ``as_of`` (0 = on as_of); "within N days" means age ≤ N.
The tables are in ``docs/customer-rules.md``.

NESL, with ``e = settings.existing_days`` (30) and ``s = settings.sleeping_days`` (180):

* **N** no transaction on or before as_of;
* **E** last transaction age ≤ e (day 30 is E, day 31 is S);
* **S** e < age ≤ s (day 180 is S, day 181 is L);
* **L** age > s.

Marks: **main** — more than ``settings.main_customer_count`` (3) transactions with age ≤ e
(only E customers can be main); **important** — look-back Monetary (as in
:func:`sheetcrm.customers.rfm.rfm_table`) strictly above ``settings.important_amount``, any class.

Lifecycle, first match wins:

1. Recruit — N.
2. Divorce — L.
3. Potential Divorce — S; or E with the amount of the last :data:`DECLINE_DAYS` days
   (age ≤ 90) under half the amount of the 90 days before (90 < age ≤ 180).
4. Win-back — E, and the gap from the customer's latest transaction before the E window
   (age > e) to their first transaction inside it (age ≤ e) is more than s days: they came
   back, this E window, after being lost.
5. Intensive Care — E and tier Strategic or High-profit.
6. Account Management — E and 4 or more transactions in total (up to as_of).
7. Getting to Know — E and 2 or 3 transactions in total.
8. Welcome — E and exactly one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from sheetcrm.cells.parse import minor_floor
from sheetcrm.customers.rfm import Key, book, value_tiers
from sheetcrm.customers.transactions import DateLike
from sheetcrm.schema import NESL, Lifecycle, Tier
from sheetcrm.settings import Settings

#: Length in days of the two periods compared for a decline (Potential Divorce).
DECLINE_DAYS = 90

#: An E customer whose last-90-days amount is below this fraction of the 90 days
#: before is a Potential Divorce.
DECLINE_RATIO = Fraction(1, 2)

#: Transactions in total from which an E customer is in Account Management.
ACCOUNT_MANAGEMENT_COUNT = 4

#: Columns of :func:`nesl_table`, in order.
NESL_COLUMNS: tuple[str, ...] = ("nesl", "main", "important", "lifecycle")

_NESL_ORDER: tuple[NESL, ...] = (NESL.N, NESL.E, NESL.S, NESL.L)
_NESL_MEMBERS = np.array(_NESL_ORDER, dtype=object)

#: Lifecycle stages in the order their rules are tried (first match wins).
LIFECYCLE_PRECEDENCE: tuple[Lifecycle, ...] = (
    Lifecycle.RECRUIT,
    Lifecycle.DIVORCE,
    Lifecycle.POTENTIAL_DIVORCE,
    Lifecycle.WIN_BACK,
    Lifecycle.INTENSIVE_CARE,
    Lifecycle.ACCOUNT_MANAGEMENT,
    Lifecycle.GETTING_TO_KNOW,
    Lifecycle.WELCOME,
)
_LIFECYCLE_ORDER = np.empty(len(LIFECYCLE_PRECEDENCE), dtype=object)
_LIFECYCLE_ORDER[:] = LIFECYCLE_PRECEDENCE


def nesl_table(
    tx: pd.DataFrame,
    customer_ids: pd.Index | pd.Series | Sequence[Any],
    key: Key | str,
    as_of: DateLike,
    settings: Settings,
    tiers: pd.Series | None = None,
    *,
    decimals: int | None = None,
) -> pd.DataFrame:
    """NESL class, marks and lifecycle stage of every given customer as of ``as_of``.

    In:
      * ``tx`` — a transactions frame (columns ``date``, ``amount`` and ``key``); rows after
        ``as_of``, undated rows and rows of customers not given are ignored.
      * ``customer_ids`` — the customers (missing IDs and repeats dropped); ``key`` —
        ``"contact_id"`` or ``"company_id"``.
      * ``as_of`` — the day (inclusive). ``settings`` — ``existing_days``, ``sleeping_days``,
        ``main_customer_count``, ``important_amount``, ``lookback_months`` (and
        ``tier_shares`` when ``tiers`` is None).
      * ``tiers`` — :class:`Tier` per customer ID (as from :func:`sheetcrm.customers.rfm.value_tiers`),
        for Intensive Care; aligned on ID, missing read as not Strategic/High-profit. None:
        computed here with :func:`~sheetcrm.customers.rfm.value_tiers` from the look-back Monetary.
      * ``decimals`` — minor-unit decimals of the amounts (None: as many as ``tx`` needs).

    Out: a frame indexed by customer ID (object index ``"ID"``, given order) with columns
    ``nesl`` (object, :class:`NESL`), ``main`` (bool), ``important`` (bool) and
    ``lifecycle`` (object, :class:`Lifecycle`). Rules: module docstring.
    """
    b = book(tx, customer_ids, key, as_of, settings.lookback_months, decimals)
    e_days, s_days = settings.existing_days, settings.sleeping_days
    buyer = b.buyers
    last = b.last_age
    is_e = buyer & (last <= e_days)
    is_s = buyer & (last > e_days) & (last <= s_days)
    is_l = buyer & (last > s_days)
    nesl = _NESL_MEMBERS[np.select([~buyer, is_e, is_s], [0, 1, 2], default=3)]

    in_e_window = b.age <= e_days
    main = b.per_customer_count(in_e_window) > settings.main_customer_count
    # exact: minor units against the threshold's minor units, floored
    important = buyer & (b.monetary > minor_floor(settings.important_amount, b.decimals))

    recent = b.per_customer_sum(b.age <= DECLINE_DAYS)
    before = b.per_customer_sum((b.age > DECLINE_DAYS) & (b.age <= 2 * DECLINE_DAYS))
    # exact in integers: recent < ratio · before
    declining = is_e & (recent * DECLINE_RATIO.denominator < before * DECLINE_RATIO.numerator)

    first_in_e = b.per_customer_max_age(in_e_window)  # oldest transaction inside the E window
    prev = b.per_customer_min_age(~in_e_window)  # latest transaction before the E window
    win_back = is_e & (prev >= 0) & (prev - first_in_e > s_days)

    if tiers is None:
        tier_values = value_tiers(
            pd.Series(b.monetary, index=b.index),
            pd.Series(buyer, index=b.index),
            settings,
        ).to_numpy(dtype=object)
    else:
        tier_values = tiers.reindex(b.index).to_numpy(dtype=object)
    tier_series = pd.Series(tier_values, dtype=object)
    top_tier = tier_series.isin([Tier.STRATEGIC, Tier.HIGH_PROFIT]).to_numpy(dtype=bool)

    conditions = [
        ~buyer,
        is_l,
        is_s | declining,
        win_back,
        is_e & top_tier,
        is_e & (b.count >= ACCOUNT_MANAGEMENT_COUNT),
        is_e & (b.count >= 2),
    ]
    # np.select on the enum members themselves would turn them into a numpy str array
    lifecycle = _LIFECYCLE_ORDER[np.select(conditions, list(range(len(conditions))), default=len(conditions))]
    return pd.DataFrame(
        {
            "nesl": pd.Series(nesl, index=b.index, dtype=object),
            "main": pd.Series(main, index=b.index, dtype=bool),
            "important": pd.Series(important, index=b.index, dtype=bool),
            "lifecycle": pd.Series(lifecycle, index=b.index, dtype=object),
        },
        index=b.index,
    )


class NeslMoves(NamedTuple):
    """Result of :func:`nesl_moves`."""

    #: Columns ``from``, ``to`` (object: :class:`NESL` or None) and ``customers`` (int64):
    #: every one of the 16 NESL→NESL pairs (zeros included) in N, E, S, L order, then any
    #: pair involving None (a customer present on one side only) that occurs.
    counts: pd.DataFrame
    #: Indexed by customer ID (the union: ``before``'s order, then new IDs in ``after``'s
    #: order): ``from``, ``to`` (object, NESL or None) and ``changed`` (bool, from != to).
    customers: pd.DataFrame


def _snapshot(side: pd.Series, index: pd.Index) -> np.ndarray:
    """``side``'s values on ``index`` (first of repeated IDs) as objects, None where absent."""
    values = side[~side.index.duplicated(keep="first")].reindex(index).to_numpy(dtype=object)
    values = values.copy()
    values[pd.isna(values)] = None
    return values


def nesl_moves(before: pd.Series, after: pd.Series) -> NeslMoves:
    """Moves between two NESL snapshots (e.g. last month end and this one).

    In: ``before`` and ``after`` — :class:`NESL` per customer ID (the ``nesl`` column of two
    :func:`nesl_table` results). IDs only on one side get None on the other.

    Out: :class:`NeslMoves` ``(counts, customers)``. ``customers[customers["changed"]]``
    lists who moved; ``(from, to) == (E, S)`` slipped to sleeping, ``to == E`` with
    ``from`` in (S, L) came back.
    """
    index = before.index.append(after.index[~after.index.isin(before.index)])
    index = pd.Index(index[~index.duplicated(keep="first")], dtype=object, name=index.name)
    frm, to = (_snapshot(side, index) for side in (before, after))
    changed = np.asarray(frm != to, dtype=bool)
    customers = pd.DataFrame(
        {
            "from": pd.Series(frm, index=index, dtype=object),
            "to": pd.Series(to, index=index, dtype=object),
            "changed": pd.Series(changed, index=index, dtype=bool),
        },
        index=index,
    )
    order = {v: i for i, v in enumerate(_NESL_ORDER)}
    f_code = pd.Series(frm, dtype=object).map(order).fillna(len(order)).to_numpy(dtype=np.int64)
    t_code = pd.Series(to, dtype=object).map(order).fillna(len(order)).to_numpy(dtype=np.int64)
    width = len(order) + 1
    tally = np.bincount(f_code * width + t_code, minlength=width * width)
    labels: list[NESL | None] = [*_NESL_ORDER, None]
    pairs = [
        (i, j)
        for i in range(width)
        for j in range(width)
        if (i < len(order) and j < len(order)) or tally[i * width + j]
    ]
    counts = pd.DataFrame(
        {
            "from": pd.Series([labels[i] for i, _ in pairs], dtype=object),
            "to": pd.Series([labels[j] for _, j in pairs], dtype=object),
            "customers": pd.Series([int(tally[i * width + j]) for i, j in pairs], dtype=np.int64),
        }
    )
    return NeslMoves(counts, customers)
