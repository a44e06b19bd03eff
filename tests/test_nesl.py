"""NESL classes, main/important marks, lifecycle stages and month-to-month moves."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sheetcrm.customers.nesl import NESL_COLUMNS, nesl_moves, nesl_table
from sheetcrm.schema import NESL, Lifecycle, Tier
from sheetcrm.settings import Settings
from tests.helpers import TX_AS_OF, ids, tx_of

AS_OF = TX_AS_OF
DEFAULT = Settings()


def general(*customers: str) -> pd.Series:
    return pd.Series([Tier.GENERAL] * len(customers), index=list(customers), dtype=object)


# --- NESL boundaries --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (0, NESL.E),
        (1, NESL.E),
        (30, NESL.E),
        (31, NESL.S),
        (100, NESL.S),
        (180, NESL.S),
        (181, NESL.L),
        (1000, NESL.L),
        (None, NESL.N),
    ],
)
def test_nesl_boundaries(age: int | None, expected: NESL) -> None:
    rows = [] if age is None else [("P-1", age, 10.0)]
    table = nesl_table(tx_of(rows), ids("P-1"), "contact_id", AS_OF, DEFAULT)
    assert table.loc["P-1", "nesl"] is expected


@pytest.mark.parametrize(
    ("age", "expected"),
    [(10, NESL.E), (11, NESL.S), (20, NESL.S), (21, NESL.L)],
)
def test_nesl_boundaries_follow_settings(age: int, expected: NESL) -> None:
    settings = Settings(existing_days=10, sleeping_days=20)
    table = nesl_table(tx_of([("P-1", age, 10.0)]), ids("P-1"), "contact_id", AS_OF, settings)
    assert table.loc["P-1", "nesl"] is expected


def test_future_transactions_are_ignored() -> None:
    table = nesl_table(
        tx_of([("P-1", -1, 10.0), ("P-2", 200, 1.0), ("P-2", -5, 1.0)]), ids("P-1", "P-2"), "contact_id", AS_OF, DEFAULT
    )
    assert table["nesl"].tolist() == [NESL.N, NESL.L]


# --- marks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ages", "main"),
    [
        ([0, 1, 2, 3], True),  # 4 > 3
        ([0, 1, 2], False),  # 3 is not more than 3
        ([0, 10, 20, 30], True),  # day 30 is inside the E window
        ([0, 10, 20, 31], False),  # day 31 is not
        ([5, 5, 5, 5, 5], True),  # same day counts each time
        ([40, 41, 42, 43, 44], False),  # S customer: never main
    ],
)
def test_main_customer(ages: list[int], main: bool) -> None:
    rows = [("P-1", a, 1.0) for a in ages]
    table = nesl_table(tx_of(rows), ids("P-1"), "contact_id", AS_OF, DEFAULT)
    assert bool(table.loc["P-1", "main"]) is main


def test_main_customer_count_setting() -> None:
    rows = [("P-1", a, 1.0) for a in (0, 1)]
    settings = Settings(main_customer_count=1)
    assert nesl_table(tx_of(rows), ids("P-1"), "contact_id", AS_OF, settings)["main"].all()


@pytest.mark.parametrize(
    ("rows", "important"),
    [
        ([("P-1", 3, 100_001.0)], True),
        ([("P-1", 3, 100_000.0)], False),  # not above the amount
        ([("P-1", 3, 60_000.0), ("P-1", 200, 50_000.0)], True),  # S-aged purchase counts
        ([("P-1", 3, 60_000.0), ("P-1", 400, 50_000.0)], False),  # outside the 12 months
        ([("P-1", 100, 200_000.0)], True),  # an S customer can be important
        ([], False),
    ],
)
def test_important_customer(rows: list[tuple[str, int, float]], important: bool) -> None:
    table = nesl_table(tx_of(rows), ids("P-1"), "contact_id", AS_OF, DEFAULT)
    assert bool(table.loc["P-1", "important"]) is important


def test_important_amount_setting() -> None:
    table = nesl_table(tx_of([("P-1", 3, 600.0)]), ids("P-1"), "contact_id", AS_OF, Settings(important_amount=500))
    assert table["important"].tolist() == [True]


# --- lifecycle -------------------------------------------------------------------------

# (history as (age, amount) pairs, tier, expected stage); tiers General unless set
LIFECYCLE_CASES = [
    ("recruit", [], Tier.POTENTIAL, Lifecycle.RECRUIT),
    ("divorce", [(181, 10.0)], Tier.GENERAL, Lifecycle.DIVORCE),
    ("divorce-top", [(400, 10.0), (200, 10.0)], Tier.STRATEGIC, Lifecycle.DIVORCE),
    ("sleeping", [(31, 10.0)], Tier.GENERAL, Lifecycle.POTENTIAL_DIVORCE),
    ("sleeping-top", [(31, 10.0), (40, 10.0), (50, 10.0), (60, 10.0)], Tier.STRATEGIC, Lifecycle.POTENTIAL_DIVORCE),
    ("declining", [(100, 1000.0), (5, 499.0)], Tier.STRATEGIC, Lifecycle.POTENTIAL_DIVORCE),
    ("half-is-not-under-half", [(100, 1000.0), (5, 500.0)], Tier.GENERAL, Lifecycle.GETTING_TO_KNOW),
    ("decline-window-edges", [(181, 1e6), (91, 100.0), (90, 49.0)], Tier.GENERAL, Lifecycle.POTENTIAL_DIVORCE),
    ("win-back", [(300, 10.0), (10, 10.0)], Tier.STRATEGIC, Lifecycle.WIN_BACK),
    ("win-back-gap-181", [(191, 10.0), (10, 10.0)], Tier.GENERAL, Lifecycle.WIN_BACK),
    ("gap-180-is-no-win-back", [(190, 10.0), (10, 10.0)], Tier.GENERAL, Lifecycle.GETTING_TO_KNOW),
    ("win-back-streak", [(400, 10.0), (500, 10.0), (25, 10.0), (5, 10.0)], Tier.GENERAL, Lifecycle.WIN_BACK),
    ("came-back-earlier", [(300, 10.0), (100, 10.0), (5, 10.0)], Tier.GENERAL, Lifecycle.GETTING_TO_KNOW),
    ("intensive-care", [(5, 10.0)], Tier.STRATEGIC, Lifecycle.INTENSIVE_CARE),
    ("intensive-care-hp", [(5, 10.0), (20, 10.0), (40, 10.0), (60, 10.0)], Tier.HIGH_PROFIT, Lifecycle.INTENSIVE_CARE),
    ("account-management", [(5, 10.0), (20, 10.0), (40, 10.0), (60, 10.0)], Tier.MAJOR, Lifecycle.ACCOUNT_MANAGEMENT),
    (
        "account-management-old",
        [(5, 10.0), (150, 1.0), (500, 10.0), (700, 10.0)],
        Tier.GENERAL,
        Lifecycle.ACCOUNT_MANAGEMENT,
    ),
    ("getting-to-know-2", [(5, 10.0), (20, 10.0)], Tier.GENERAL, Lifecycle.GETTING_TO_KNOW),
    ("getting-to-know-3", [(0, 10.0), (20, 10.0), (160, 10.0)], Tier.GENERAL, Lifecycle.GETTING_TO_KNOW),
    ("welcome", [(30, 10.0)], Tier.GENERAL, Lifecycle.WELCOME),
]


@pytest.mark.parametrize(
    ("name", "history", "tier", "stage"),
    LIFECYCLE_CASES,
    ids=[c[0] for c in LIFECYCLE_CASES],
)
def test_lifecycle_stage(name: str, history: list, tier: Tier, stage: Lifecycle) -> None:
    rows = [(name, age, amount) for age, amount in history]
    tiers = pd.Series([tier], index=[name], dtype=object)
    table = nesl_table(tx_of(rows), ids(name), "contact_id", AS_OF, DEFAULT, tiers=tiers)
    assert table.loc[name, "lifecycle"] is stage


def test_all_eight_stages_reached_in_one_book() -> None:
    rows = [(name, age, amount) for name, history, _, _ in LIFECYCLE_CASES for age, amount in history]
    customers = ids(*[c[0] for c in LIFECYCLE_CASES])
    tiers = pd.Series([c[2] for c in LIFECYCLE_CASES], index=customers, dtype=object)
    table = nesl_table(tx_of(rows), customers, "contact_id", AS_OF, DEFAULT, tiers=tiers)
    assert table["lifecycle"].tolist() == [c[3] for c in LIFECYCLE_CASES]
    assert set(table["lifecycle"]) == set(Lifecycle)


def test_tiers_computed_when_not_given() -> None:
    # 10 E buyers; the one with the highest monetary is Strategic -> Intensive Care
    rows = [(f"P-{i}", 1, 10.0 * (i + 1)) for i in range(10)]
    customers = ids(*[r[0] for r in rows])
    table = nesl_table(tx_of(rows), customers, "contact_id", AS_OF, DEFAULT)
    assert table.loc["P-9", "lifecycle"] is Lifecycle.INTENSIVE_CARE
    assert table.loc["P-8", "lifecycle"] is Lifecycle.INTENSIVE_CARE  # 1 above < 20% of 10
    assert table.loc["P-7", "lifecycle"] is Lifecycle.WELCOME
    # missing tiers in a given Series: not top tier
    other = nesl_table(tx_of(rows), customers, "contact_id", AS_OF, DEFAULT, tiers=general("P-1"))
    assert set(other["lifecycle"]) == {Lifecycle.WELCOME}


def test_nesl_table_exact() -> None:
    tx = tx_of(
        [
            ("P-1", 0, 50_000.0),
            ("P-1", 1, 50_000.0),
            ("P-1", 2, 1.0),
            ("P-1", 30, 1.0),
            ("P-2", 31, 10.0),
            ("P-3", 181, 10.0),
            ("X-9", 0, 1.0),
        ]
    )
    customers = ids("P-1", "P-2", "P-3", "P-4")
    table = nesl_table(tx, customers, "contact_id", AS_OF, DEFAULT, tiers=general(*customers))
    index = pd.Index(["P-1", "P-2", "P-3", "P-4"], dtype=object, name="ID")
    expected = pd.DataFrame(
        {
            "nesl": pd.Series([NESL.E, NESL.S, NESL.L, NESL.N], index=index, dtype=object),
            "main": pd.Series([True, False, False, False], index=index),
            "important": pd.Series([True, False, False, False], index=index),
            "lifecycle": pd.Series(
                [Lifecycle.ACCOUNT_MANAGEMENT, Lifecycle.POTENTIAL_DIVORCE, Lifecycle.DIVORCE, Lifecycle.RECRUIT],
                index=index,
                dtype=object,
            ),
        },
        index=index,
    )
    assert_frame_equal(table, expected)
    assert list(table.columns) == list(NESL_COLUMNS)


def test_empty_book() -> None:
    table = nesl_table(tx_of([]), ids(), "contact_id", AS_OF, DEFAULT)
    assert list(table.columns) == list(NESL_COLUMNS) and len(table) == 0
    assert table["main"].dtype == bool


# --- moves ----------------------------------------------------------------------------------


def test_nesl_moves() -> None:
    before = pd.Series(
        [NESL.E, NESL.E, NESL.S, NESL.L, NESL.N, NESL.E], index=["P-1", "P-2", "P-3", "P-4", "P-5", "P-6"], dtype=object
    )
    after = pd.Series(
        [NESL.S, NESL.E, NESL.E, NESL.E, NESL.E, NESL.N], index=["P-1", "P-2", "P-3", "P-4", "P-7", "P-5"], dtype=object
    )
    counts, customers = nesl_moves(before, after)

    index = pd.Index(["P-1", "P-2", "P-3", "P-4", "P-5", "P-6", "P-7"], dtype=object)
    expected_customers = pd.DataFrame(
        {
            "from": pd.Series([NESL.E, NESL.E, NESL.S, NESL.L, NESL.N, NESL.E, None], index=index, dtype=object),
            "to": pd.Series([NESL.S, NESL.E, NESL.E, NESL.E, NESL.N, None, NESL.E], index=index, dtype=object),
            "changed": pd.Series([True, False, True, True, False, True, True], index=index),
        },
        index=index,
    )
    assert_frame_equal(customers, expected_customers)

    got = {(f, t): c for f, t, c in counts.itertuples(index=False)}
    assert len(counts) == 16 + 2
    assert got[(NESL.E, NESL.S)] == 1  # slipped
    assert got[(NESL.S, NESL.E)] == 1 and got[(NESL.L, NESL.E)] == 1  # came back
    assert got[(NESL.E, NESL.E)] == 1 and got[(NESL.N, NESL.N)] == 1
    assert got[(NESL.E, None)] == 1 and got[(None, NESL.E)] == 1
    assert got[(NESL.S, NESL.L)] == 0
    assert counts["customers"].sum() == len(index)
    assert counts["customers"].dtype == "int64"
    assert counts.iloc[:4]["from"].tolist() == [NESL.N] * 4
    assert counts.iloc[:4]["to"].tolist() == [NESL.N, NESL.E, NESL.S, NESL.L]


def test_nesl_moves_between_two_tables() -> None:
    tx = tx_of([("P-1", 40, 1.0), ("P-2", 3, 1.0)])
    customers = ids("P-1", "P-2")
    may = nesl_table(tx, customers, "contact_id", pd.Timestamp("2025-05-31"), DEFAULT)
    june = nesl_table(tx, customers, "contact_id", AS_OF, DEFAULT)
    moves = nesl_moves(may["nesl"], june["nesl"]).customers
    assert moves.loc["P-1", "from"] is NESL.E and moves.loc["P-1", "to"] is NESL.S
    assert moves.loc["P-2", "from"] is NESL.N and moves.loc["P-2", "to"] is NESL.E
