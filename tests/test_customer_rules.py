"""The customer rules of issue 8 at their boundaries: F/M among active buyers, tiers over a
positive window Monetary, flat quintiles, every segment and lifecycle stage reachable."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_series_equal

from sheetcrm.customers.nesl import nesl_table
from sheetcrm.customers.rfm import FlatScore, flat_scores, rfm_table, value_tiers
from sheetcrm.schema import Lifecycle, Segment, Tier
from sheetcrm.settings import Settings
from tests.helpers import TX_AS_OF, ids, tx_of

AS_OF = TX_AS_OF
DEFAULT = Settings()
#: 2024-07-01 … 2025-06-30: ages 0..364 are in the window, 365 is not
WINDOW_DAYS = 365


def skewed_book(inactive: int, one_timers: int) -> list[tuple[str, int, float]]:
    """``inactive`` buyers who last bought two years ago, ``one_timers`` with one order in the
    window, and 10 regulars with 2..11 orders in it (the shape of a real shop's history)."""
    rows = [(f"OLD-{i}", 700 + i, 50.0) for i in range(inactive)]
    rows += [(f"ONCE-{i}", 100 + i, 30.0) for i in range(one_timers)]
    rows += [(f"REG-{k}", 5 + 20 * j, 40.0) for k in range(10) for j in range(k + 2)]
    return rows


def customers_of(rows: list[tuple[str, int, float]]) -> pd.Index:
    return ids(*dict.fromkeys(r[0] for r in rows))


# --- F and M among active buyers ---------------------------------------------------------


@pytest.mark.parametrize("inactive", [0, 60, 300])
def test_one_order_in_the_window_is_f1_however_many_buyers_are_inactive(inactive: int) -> None:
    # Before: with most buyers at F=0 the bounds were 0, 0, 0, 2 and one order scored F4.
    rows = skewed_book(inactive, one_timers=30)
    table = rfm_table(tx_of(rows), customers_of(rows), "contact_id", AS_OF, DEFAULT)
    once = table.loc[[f"ONCE-{i}" for i in range(30)]]
    assert set(once["f"]) == {1}
    assert not set(once["segment"]) & {Segment.CHAMPIONS, Segment.LOYAL}
    if inactive:
        old = table.loc[[f"OLD-{i}" for i in range(inactive)]]
        assert set(old["f"]) == {1} and set(old["m"]) == {1}
    # the regulars spread over the upper F scores
    assert table.loc["REG-9", "f"] == 5


@pytest.mark.parametrize(
    ("age", "active", "f"),
    [(0, True, 5), (364, True, 5), (365, False, 1), (700, False, 1)],
)
def test_active_is_a_transaction_in_the_window(age: int, active: bool, f: int) -> None:
    # four one-order buyers inside the window and X with two orders at `age`: inside, X is
    # the most frequent active buyer (F5); outside, X is F1 M1 whatever it spent
    rows = [(f"P-{i}", 10, 10.0) for i in range(4)] + [("X", age, 500.0), ("X", age, 500.0)]
    table = rfm_table(tx_of(rows), customers_of(rows), "contact_id", AS_OF, DEFAULT)
    assert bool(cast(float, table.loc["X", "frequency"]) > 0) == active
    assert table.loc["X", "f"] == f
    assert table.loc["X", "m"] == (5 if active else 1)


def test_r_still_ranks_every_buyer() -> None:
    rows = skewed_book(inactive=60, one_timers=30)
    table = rfm_table(tx_of(rows), customers_of(rows), "contact_id", AS_OF, DEFAULT)
    # 100 buyers: the 20 most recent are R5 and the 20 oldest (all inactive) R1
    assert (table["r"] == 5).sum() == 20 and (table["r"] == 1).sum() == 20
    assert set(table.loc[[f"OLD-{i}" for i in range(40, 60)], "r"]) == {1}


# --- tiers over a positive window Monetary -------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "age", "tier"),
    [
        (500.0, 10, Tier.STRATEGIC),  # the top spender in the window
        (0.01, 10, Tier.GENERAL),  # positive: ranked, and the lowest of 21
        (0.0, 10, Tier.GENERAL),  # a zero order: nothing spent
        (-100.0, 10, Tier.GENERAL),  # a net refund
        (500.0, 365, Tier.GENERAL),  # the big order fell out of the window
    ],
)
def test_tier_boundaries(amount: float, age: int, tier: Tier) -> None:
    rows = [(f"P-{i}", 10, 10.0 + i) for i in range(20)] + [("X", age, amount)]
    table = rfm_table(tx_of(rows), customers_of(rows), "contact_id", AS_OF, DEFAULT)
    tiers = value_tiers(table["monetary"], table["last_purchase"].notna(), DEFAULT)
    assert tiers["X"] is tier


def test_net_refund_within_the_window_is_general() -> None:
    rows = [("REFUND", 10, 100.0), ("REFUND", 5, -150.0)] + [(f"P-{i}", 10, 10.0 + i) for i in range(5)]
    table = rfm_table(tx_of(rows), customers_of(rows), "contact_id", AS_OF, DEFAULT)
    assert table.loc["REFUND", "monetary"] == -50.0 and table.loc["REFUND", "m"] == 1
    tiers = value_tiers(table["monetary"], table["last_purchase"].notna(), DEFAULT)
    assert tiers["REFUND"] is Tier.GENERAL


@pytest.mark.parametrize("lookback_months", [6, 12])
def test_nobody_is_promoted_for_spending_nothing(lookback_months: int) -> None:
    # Before: ties go up, so every buyer with nothing in the window shared the top tier
    # their tie reached (Major with 12 months, Strategic with 6).
    rows = skewed_book(inactive=60, one_timers=30)
    settings = Settings(lookback_months=lookback_months)
    table = rfm_table(tx_of(rows), customers_of(rows), "contact_id", AS_OF, settings)
    tiers = value_tiers(table["monetary"], table["last_purchase"].notna(), settings)
    nothing = table["monetary"] <= 0
    assert nothing.sum() >= 60
    assert set(tiers[nothing]) == {Tier.GENERAL}
    counts = tiers[~nothing].value_counts()
    assert counts.get(Tier.STRATEGIC, 0) < 0.1 * (~nothing).sum()


def test_tier_shares_among_positive_buyers() -> None:
    monetary = pd.Series([*np.arange(100, 0, -1, dtype=float), 0.0, -5.0], index=[f"P-{i}" for i in range(102)])
    tiers = value_tiers(monetary, np.ones(102, dtype=bool), DEFAULT)
    expected = [Tier.STRATEGIC] * 5 + [Tier.HIGH_PROFIT] * 15 + [Tier.MAJOR] * 30 + [Tier.GENERAL] * 52
    assert_series_equal(tiers, pd.Series(expected, index=monetary.index, dtype=object, name="tier"))


# --- quintiles that cannot separate anyone -------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "settings", "flat"),
    [
        # every active buyer bought once: F is flat (M too, all spent 30)
        ([(f"P-{i}", 10 + i, 30.0) for i in range(6)], DEFAULT, [("F", 6, 1.0, 1), ("M", 6, 30.0, 1)]),
        # equal spend, different frequency: only M flat
        ([(f"P-{i}", 10 + i, 30.0) for i in range(6)] + [("P-0", 50, 0.0)], DEFAULT, [("M", 6, 30.0, 1)]),
        # all bought on one day: R flat too
        ([(f"P-{i}", 10, 30.0 + i) for i in range(6)], DEFAULT, [("R", 6, 10.0, 5), ("F", 6, 1.0, 1)]),
        # fixed F bounds are the owner's choice: only M reported
        ([(f"P-{i}", 10 + i, 30.0) for i in range(6)], Settings(cut_points={"F": (1, 2, 4, 8)}), [("M", 6, 30.0, 1)]),
        # fewer than 5 active buyers: F uses the small-book bounds, M is still a quintile
        ([(f"P-{i}", 10 + i, 30.0) for i in range(4)], DEFAULT, [("M", 4, 30.0, 1)]),
        # one buyer cannot be told apart from anyone
        ([("P-0", 10, 30.0)], DEFAULT, []),
        # a normal book
        ([(f"P-{i}", 10 + i, 30.0 + i) for i in range(6)] + [("P-0", 50, 1.0)], DEFAULT, []),
    ],
)
def test_flat_scores(rows, settings: Settings, flat: list[tuple]) -> None:
    table = rfm_table(tx_of(rows), customers_of(rows), "contact_id", AS_OF, settings)
    assert flat_scores(table, settings) == [FlatScore(*f) for f in flat]


# --- every segment and lifecycle stage is reachable under the default rules ---------------


def test_every_segment_reachable_with_quintiles() -> None:
    # 25 active buyers, one per (R, F) pair: recency 5/50/100/200/300 days and 1..5 orders
    # put each group in its own quintile (bounds 41, 80, 140, 220 days; 1.8, 2.6, 3.4, 4.2)
    recency = {5: 5, 4: 50, 3: 100, 2: 200, 1: 300}
    rows = [(f"R{r}F{f}", recency[r] + 10 * j, 20.0) for r in range(1, 6) for f in range(1, 6) for j in range(f)]
    customers = ids(*[f"R{r}F{f}" for r in range(1, 6) for f in range(1, 6)], "NOBODY")
    table = rfm_table(tx_of(rows), customers, "contact_id", AS_OF, DEFAULT)
    for r in range(1, 6):
        for f in range(1, 6):
            assert (table.loc[f"R{r}F{f}", "r"], table.loc[f"R{r}F{f}", "f"]) == (r, f)
    assert set(table["segment"]) == set(Segment)  # all 11 named segments and Prospect


def test_every_lifecycle_stage_reachable_with_computed_tiers() -> None:
    book = {
        "recruit": [],
        "divorce": [(200, 5000.0)],  # L; second-highest spend: High-profit, but not E
        "potential-divorce": [(60, 10.0)],  # S
        "win-back": [(300, 10.0), (10, 10.0)],  # back after 290 quiet days
        "intensive-care": [(5, 10000.0)],  # E and Strategic
        "account-management": [(5, 10.0), (40, 10.0), (60, 10.0), (80, 10.0)],
        "getting-to-know": [(5, 10.0), (20, 10.0)],
        "welcome": [(3, 10.0)],
    }
    rows = [(name, age, amount) for name, history in book.items() for age, amount in history]
    table = nesl_table(tx_of(rows), ids(*book), "contact_id", AS_OF, DEFAULT)
    expected = [
        Lifecycle.RECRUIT,
        Lifecycle.DIVORCE,
        Lifecycle.POTENTIAL_DIVORCE,
        Lifecycle.WIN_BACK,
        Lifecycle.INTENSIVE_CARE,
        Lifecycle.ACCOUNT_MANAGEMENT,
        Lifecycle.GETTING_TO_KNOW,
        Lifecycle.WELCOME,
    ]
    assert table["lifecycle"].tolist() == expected
    assert set(table["lifecycle"]) == set(Lifecycle)
