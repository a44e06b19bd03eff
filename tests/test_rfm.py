"""RFM scores, segments, value tiers and the 80/20 check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from sheetcrm.customers.rfm import (
    RFM_COLUMNS,
    SEGMENT_GRID,
    lookback_start,
    pareto,
    rfm_table,
    score,
    score_bounds,
    segment_of,
    value_tiers,
)
from sheetcrm.schema import Segment, Tier
from sheetcrm.settings import Settings

AS_OF = pd.Timestamp("2025-06-30")
DEFAULT = Settings()
FIXED = Settings(cut_points={"R": (30, 60, 90, 180), "F": (1, 2, 4, 8), "M": (10, 20, 30, 40)})


def tx_of(rows: list[tuple[str, int, float]], key: str = "contact_id") -> pd.DataFrame:
    """Transactions from (customer, age in days before AS_OF, amount)."""
    n = len(rows)
    cust = [r[0] for r in rows]
    return pd.DataFrame(
        {
            "date": pd.Series(
                [AS_OF - pd.Timedelta(days=r[1]) for r in rows],
                dtype="datetime64[ns]",
            ),
            "amount": pd.Series([r[2] for r in rows], dtype="float64"),
            "contact_id": pd.Series(cust if key == "contact_id" else [None] * n, dtype=object),
            "company_id": pd.Series(cust if key == "company_id" else [None] * n, dtype=object),
            "opportunity_id": pd.Series([None] * n, dtype=object),
            "source_id": pd.Series([f"A-{i}" for i in range(n)], dtype=object),
            "source": pd.Series(["activity"] * n, dtype=object),
        }
    )


def ids(*values: str) -> pd.Index:
    return pd.Index(list(values), dtype=object)


def ints(values: list) -> pd.Series:
    return pd.Series(values, dtype="Int64")


# --- the segment grid ---------------------------------------------------------------

# Written out from the brief, independently of the code's rules.
GRID_ROWS = {
    5: ["New Customers", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"],
    4: ["Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Loyal"],
    3: ["About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"],
    2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    1: ["Lost", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
}


@pytest.mark.parametrize(("r", "f"), [(r, f) for r in range(1, 6) for f in range(1, 6)])
def test_every_rf_pair_has_its_segment(r: int, f: int) -> None:
    assert segment_of(r, f) == GRID_ROWS[r][f - 1]
    assert isinstance(segment_of(r, f), Segment)


def test_grid_covers_every_named_segment_exactly() -> None:
    assert len(SEGMENT_GRID) == 25
    assert set(SEGMENT_GRID.values()) == set(Segment) - {Segment.PROSPECT}


# --- segments reachable from data ---------------------------------------------------


def _history(customer: str, recency: int, frequency: int) -> list[tuple[str, int, float]]:
    """``frequency`` purchases, the latest ``recency`` days ago, all inside the window."""
    return [(customer, recency + i, 15.0) for i in range(frequency)]


# (segment, recency days, purchases in window) under FIXED cut points R=30,60,90,180 F=1,2,4,8
SEGMENT_CASES = [
    (Segment.CHAMPIONS, 10, 6),  # R5 F4
    (Segment.LOYAL, 70, 12),  # R3 F5
    (Segment.POTENTIAL_LOYALIST, 45, 2),  # R4 F2
    (Segment.NEW_CUSTOMERS, 0, 1),  # R5 F1
    (Segment.PROMISING, 60, 1),  # R4 F1
    (Segment.NEED_ATTENTION, 90, 3),  # R3 F3
    (Segment.ABOUT_TO_SLEEP, 80, 2),  # R3 F2
    (Segment.AT_RISK, 150, 5),  # R2 F4
    (Segment.CANT_LOSE, 200, 9),  # R1 F5
    (Segment.HIBERNATING, 120, 2),  # R2 F2
    (Segment.LOST, 300, 1),  # R1 F1
]


def test_every_named_segment_is_reachable_from_transactions() -> None:
    rows = [t for seg, rec, freq in SEGMENT_CASES for t in _history(seg.name, rec, freq)]
    customers = ids(*[seg.name for seg, _, _ in SEGMENT_CASES], "PROSPECT")
    table = rfm_table(tx_of(rows), customers, "contact_id", AS_OF, FIXED)
    expected = pd.Series(
        [seg for seg, _, _ in SEGMENT_CASES] + [Segment.PROSPECT],
        index=customers,
        dtype=object,
        name="segment",
    )
    expected.index.name = "ID"
    assert_series_equal(table["segment"], expected)
    assert set(table["segment"]) == set(Segment)


# --- the table as a whole -----------------------------------------------------------


def test_rfm_table_small_book_exact() -> None:
    # 3 buyers, 2 of them active (small book: R and F use 30,60,90,180 / 1,2,4,8; M uses
    # percentiles among the 2 active buyers; P-3 bought only before the window: F1 M1)
    tx = tx_of(
        [
            ("P-1", 5, 100.0),
            ("P-1", 40, 50.0),
            ("P-2", 100, 20.0),
            ("P-3", 400, 70.0),  # bought, but before the 12-month window
            ("P-9", 1, 1.0),  # not a given customer: ignored
            ("P-2", -1, 1000.0),  # after as_of: ignored
        ]
    )
    table = rfm_table(tx, ids("P-1", "P-2", "P-3", "P-4"), "contact_id", AS_OF, DEFAULT)
    expected = pd.DataFrame(
        {
            "last_purchase": pd.Series(
                pd.to_datetime(pd.Series(["2025-06-25", "2025-03-22", "2024-05-26", None])),
                dtype="datetime64[ns]",
            ).to_numpy(),
            "recency": ints([5, 100, 400, pd.NA]).array,
            "frequency": ints([2, 1, 0, 0]).array,
            "monetary": [150.0, 20.0, 0.0, 0.0],
            "r": ints([5, 2, 1, pd.NA]).array,
            "f": ints([2, 1, 1, pd.NA]).array,
            "m": ints([5, 1, 1, pd.NA]).array,
        },
        index=pd.Index(["P-1", "P-2", "P-3", "P-4"], dtype=object, name="ID"),
    )
    # object columns set afterwards: pandas 3 would infer its str dtype from a list
    expected["rfm_score"] = pd.Series(["525", "211", "111", None], index=expected.index, dtype=object)
    expected["segment"] = pd.Series(
        [Segment.POTENTIAL_LOYALIST, Segment.HIBERNATING, Segment.LOST, Segment.PROSPECT],
        index=expected.index,
        dtype=object,
    )
    assert_frame_equal(table, expected)
    assert list(table.columns) == list(RFM_COLUMNS)
    assert table["segment"].map(type).iloc[0] is Segment


def test_company_key_and_customer_id_cleanup() -> None:
    tx = tx_of([("CO-1", 3, 10.0), ("CO-2", 3, 10.0)], key="company_id")
    customers = pd.Series(["CO-1", None, "CO-1", "CO-3"], dtype=object)
    table = rfm_table(tx, customers, "company_id", AS_OF, DEFAULT)
    assert table.index.tolist() == ["CO-1", "CO-3"]
    assert table["frequency"].tolist() == [1, 0]
    with pytest.raises(ValueError):
        rfm_table(tx, customers, "owner", AS_OF, DEFAULT)


def test_no_customers_and_no_transactions() -> None:
    empty = rfm_table(tx_of([]), ids(), "contact_id", AS_OF, DEFAULT)
    assert list(empty.columns) == list(RFM_COLUMNS) and len(empty) == 0
    none_bought = rfm_table(tx_of([]), ids("P-1"), "contact_id", AS_OF, DEFAULT)
    assert none_bought["segment"].tolist() == [Segment.PROSPECT]
    # The member, not its text: labels in Chinese come from it.
    assert type(none_bought["segment"].iloc[0]) is Segment
    assert none_bought["r"].isna().all()


def test_buyer_outside_window_still_scored_lowest_f_and_m() -> None:
    rows = [(f"P-{i}", i, 10.0 * (i + 1)) for i in range(10)]
    rows.append(("OLD", 500, 1e6))
    table = rfm_table(tx_of(rows), ids(*[r[0] for r in rows]), "contact_id", AS_OF, DEFAULT)
    old = table.loc["OLD"]
    assert (old["frequency"], old["monetary"]) == (0, 0.0)
    assert (old["r"], old["f"], old["m"]) == (1, 1, 1)


# --- scores ---------------------------------------------------------------------------


def test_quintiles_on_100_distinct_values() -> None:
    # P-i bought once, i days ago, for i * 10: 20 customers per score on R and M
    rows = [(f"P-{i:03d}", i, 10.0 * i) for i in range(1, 101)]
    table = rfm_table(tx_of(rows), ids(*[r[0] for r in rows]), "contact_id", AS_OF, DEFAULT)
    buckets = np.repeat([1, 2, 3, 4, 5], 20)
    assert table["m"].tolist() == buckets.tolist()
    assert table["r"].tolist() == (6 - buckets).tolist()
    assert table["f"].tolist() == [1] * 100  # everyone bought once: one tie, lowest F
    assert table["r"].value_counts().sort_index().tolist() == [20] * 5


@pytest.mark.parametrize(
    ("values", "bounds", "scores"),
    [
        ([1, 2, 3, 4, 5], (1.8, 2.6, 3.4, 4.2), [1, 2, 3, 4, 5]),
        (list(range(1, 11)), (2.8, 4.6, 6.4, 8.2), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]),
        ([1] * 60 + [2] * 20 + [3] * 20, (1.0, 1.0, 1.4, 2.2), [1] * 60 + [4] * 20 + [5] * 20),
        ([0, 0, 0, 1, 5, 5, 9, 20], (0.0, 0.8, 5.0, 7.4), [1, 1, 1, 3, 3, 3, 5, 5]),
        ([7, 7, 7], (7.0, 7.0, 7.0, 7.0), [1, 1, 1]),
        ([1, 2], (1.2, 1.4, 1.6, 1.8), [1, 5]),
        ([1, 2, 3], (1.4, 1.8, 2.2, 2.6), [1, 3, 5]),
        ([1, 2, 3, 4], (1.6, 2.2, 2.8, 3.4), [1, 2, 4, 5]),
    ],
)
def test_quintile_bucket_table(values: list[int], bounds: tuple, scores: list[int]) -> None:
    got = score_bounds(np.array(values, dtype=float))
    assert got == pytest.approx(bounds)
    assert score(values, got).tolist() == scores
    assert score(values, got, inverted=True).tolist() == [6 - s for s in scores]


def test_identical_customers_get_identical_scores() -> None:
    # pairs of identical histories, on a quintile-sized book
    rows = []
    for i in range(12):
        for twin in ("a", "b"):
            rows += [(f"P-{i}{twin}", 3 * i, 100.0 + i)] * (1 + i % 4)
    customers = ids(*sorted({r[0] for r in rows}))
    table = rfm_table(tx_of(rows), customers, "contact_id", AS_OF, DEFAULT)
    a = table.loc[[c for c in customers if c.endswith("a")]].reset_index(drop=True)
    b = table.loc[[c for c in customers if c.endswith("b")]].reset_index(drop=True)
    assert_frame_equal(a, b)
    # and the result does not depend on the order of the transactions
    shuffled = tx_of(rows).sample(frac=1.0, random_state=3)
    assert_frame_equal(rfm_table(shuffled, customers, "contact_id", AS_OF, DEFAULT), table)


def test_equal_values_share_a_score_across_a_quintile_boundary() -> None:
    # 10 buyers, 4 of them tied on the lowest recency: all four R5 (not 2 R5 + 2 R4)
    rows = [(f"P-{i}", 0 if i < 4 else 10 * i, 10.0) for i in range(10)]
    table = rfm_table(tx_of(rows), ids(*[r[0] for r in rows]), "contact_id", AS_OF, DEFAULT)
    assert table["r"].iloc[:4].tolist() == [5, 5, 5, 5]


@pytest.mark.parametrize(
    ("recency", "r"),
    [(0, 5), (30, 5), (31, 4), (60, 4), (61, 3), (90, 3), (91, 2), (180, 2), (181, 1), (330, 1)],
)
def test_fixed_r_cut_points(recency: int, r: int) -> None:
    table = rfm_table(tx_of([("P-1", recency, 1.0)]), ids("P-1"), "contact_id", AS_OF, FIXED)
    assert table.loc["P-1", "r"] == r


@pytest.mark.parametrize(
    ("purchases", "f", "amount", "m"),
    [
        (1, 1, 10.0, 1),
        (2, 2, 10.1, 2),
        (3, 3, 20.0, 2),
        (4, 3, 30.0, 3),
        (5, 4, 40.0, 4),
        (8, 4, 40.01, 5),
        (9, 5, 1e9, 5),
    ],
)
def test_fixed_f_and_m_cut_points(purchases: int, f: int, amount: float, m: int) -> None:
    # the whole amount on the first order, so no amount needs more decimals than money has
    rows = [("P-1", 1, amount)] + [("P-1", 1, 0.0)] * (purchases - 1)
    table = rfm_table(tx_of(rows), ids("P-1"), "contact_id", AS_OF, FIXED)
    assert (table.loc["P-1", "f"], table.loc["P-1", "m"]) == (f, m)


def test_cut_points_apply_per_dimension_on_a_large_book() -> None:
    only_r = Settings(cut_points={"R": (30, 60, 90, 180)})
    rows = [(f"P-{i}", 200 + i, float(i)) for i in range(20)]
    table = rfm_table(tx_of(rows), ids(*[r[0] for r in rows]), "contact_id", AS_OF, only_r)
    assert set(table["r"]) == {1}  # all over 180 days: fixed bounds
    assert table["m"].tolist() == np.repeat([1, 2, 3, 4, 5], 4).tolist()  # quintiles


@pytest.mark.parametrize(
    ("recencies", "rs"),
    [
        ([3], [5]),  # one buyer who bought 3 days ago: R5, New Customers
        ([400], [1]),  # one buyer, 400 days ago: R1, Lost
        ([10, 45, 100, 200], [5, 4, 2, 1]),
    ],
)
def test_small_book_uses_absolute_r_and_f(recencies: list[int], rs: list[int]) -> None:
    rows = [(f"P-{i}", d, 10.0) for i, d in enumerate(recencies)]
    table = rfm_table(tx_of(rows), ids(*[r[0] for r in rows]), "contact_id", AS_OF, DEFAULT)
    assert table["r"].tolist() == rs
    assert table["segment"].iloc[0] == segment_of(rs[0], 1)


# --- look-back window ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "months", "start"),
    [
        ("2025-06-30", 12, "2024-07-01"),
        ("2025-02-28", 12, "2024-03-01"),  # month end: whole calendar months, not 2024-02-29
        ("2024-02-29", 12, "2023-03-01"),
        ("2025-03-31", 1, "2025-03-01"),
        ("2025-02-28", 1, "2025-02-01"),
        ("2025-06-15", 12, "2024-06-16"),
        ("2025-03-15", 1, "2025-02-16"),
    ],
)
def test_lookback_start(as_of: str, months: int, start: str) -> None:
    assert lookback_start(as_of, months) == pd.Timestamp(start)


def test_window_boundary_days() -> None:
    first_in = (AS_OF - lookback_start(AS_OF, 12)).days  # age of the first day in the window
    rows = [("IN", first_in, 5.0), ("OUT", first_in + 1, 7.0)]
    table = rfm_table(tx_of(rows), ids("IN", "OUT"), "contact_id", AS_OF, DEFAULT)
    assert table["frequency"].tolist() == [1, 0]
    assert table["monetary"].tolist() == [5.0, 0.0]
    six = rfm_table(tx_of(rows), ids("IN", "OUT"), "contact_id", AS_OF, Settings(lookback_months=6))
    assert six["frequency"].tolist() == [0, 0]


# --- value tiers ----------------------------------------------------------------------


def test_tiers_100_distinct_buyers_split_5_15_30_45_5() -> None:
    monetary = pd.Series(np.arange(100, 0, -1, dtype=float), index=[f"P-{i}" for i in range(100)])
    tiers = value_tiers(monetary, np.ones(100, dtype=bool), DEFAULT)
    expected = (
        [Tier.STRATEGIC] * 5 + [Tier.HIGH_PROFIT] * 15 + [Tier.MAJOR] * 30 + [Tier.GENERAL] * 45 + [Tier.GENERAL] * 5
    )
    assert tiers.tolist() == expected
    assert tiers.index.equals(monetary.index) and tiers.dtype == object
    assert all(type(t) is Tier for t in tiers)


def test_tiers_ties_non_buyers_and_alignment() -> None:
    # 20 buyers: Strategic is "fewer than 1 buyer above", but the top two tie: both Strategic
    values = [100.0, 100.0, 90.0, 90.0] + [50.0] * 3 + [13.0 - i for i in range(13)]
    monetary = pd.Series([*values, 0.0, 0.0], index=[f"P-{i}" for i in range(22)])
    buyers = pd.Series([True] * 20 + [False, False], index=monetary.index)[::-1]  # aligned
    tiers = value_tiers(monetary, buyers, DEFAULT)
    assert tiers.iloc[:2].tolist() == [Tier.STRATEGIC] * 2  # 0 above
    assert tiers.iloc[2:4].tolist() == [Tier.HIGH_PROFIT] * 2  # 2 above < 20% of 20
    assert tiers.iloc[4:10].tolist() == [Tier.MAJOR] * 6  # 4..9 above < 10
    assert tiers.iloc[10:20].tolist() == [Tier.GENERAL] * 10
    assert tiers.iloc[20:].tolist() == [Tier.POTENTIAL] * 2
    assert all(type(t) is Tier for t in tiers)
    shuffled = monetary.sample(frac=1.0, random_state=1)
    assert_series_equal(value_tiers(shuffled, buyers, DEFAULT).reindex(monetary.index), tiers)


@pytest.mark.parametrize(
    ("values", "shares", "expected"),
    [
        ([5.0], (5, 15, 30, 45), [Tier.STRATEGIC]),
        ([3.0, 2.0, 1.0], (5, 15, 30, 45), [Tier.STRATEGIC, Tier.MAJOR, Tier.GENERAL]),
        ([1.0, 1.0, 1.0], (5, 15, 30, 45), [Tier.STRATEGIC] * 3),
        ([4.0, 3.0, 2.0, 1.0], (25, 25, 25, 25), [Tier.STRATEGIC, Tier.HIGH_PROFIT, Tier.MAJOR, Tier.GENERAL]),
        ([4.0, 3.0, 2.0, 1.0], (0, 50, 0, 50), [Tier.HIGH_PROFIT, Tier.HIGH_PROFIT, Tier.GENERAL, Tier.GENERAL]),
        ([], (5, 15, 30, 45), []),
    ],
)
def test_tiers_small_books_and_custom_shares(values, shares, expected) -> None:
    monetary = pd.Series(values, dtype=float)
    tiers = value_tiers(monetary, np.ones(len(values), dtype=bool), Settings(tier_shares=shares))
    assert tiers.tolist() == expected


def test_pareto() -> None:
    # 10 buyers: the top 2 bring 800 of 1000
    values = [500.0, 300.0] + [25.0] * 8 + [0.0]
    monetary = pd.Series(values, index=[f"P-{i}" for i in range(11)])
    buyers = np.array([True] * 10 + [False])
    tiers = value_tiers(monetary, buyers, DEFAULT)
    result = pareto(monetary, tiers)
    assert result["buyers"] == 10 and result["top_count"] == 2
    assert result["revenue"] == 1000.0
    assert result["top_share"] == pytest.approx(0.8) and result["holds"] is True
    assert result["by_tier"][Tier.STRATEGIC] == {"customers": 1, "revenue": 500.0, "share": 0.5}
    assert result["by_tier"][Tier.HIGH_PROFIT]["customers"] == 1
    assert result["by_tier"][Tier.POTENTIAL] == {"customers": 1, "revenue": 0.0, "share": 0.0}
    assert sum(v["customers"] for v in result["by_tier"].values()) == 11


def test_pareto_without_revenue() -> None:
    monetary = pd.Series([0.0, 0.0])
    result = pareto(monetary, value_tiers(monetary, np.array([False, False]), DEFAULT))
    assert (result["buyers"], result["top_count"], result["top_share"], result["holds"]) == (0, 0, None, None)


def test_categorical_customer_keys_give_the_same_table() -> None:
    """sync.compute passes categorical keys; the result must not depend on it."""

    rng = np.random.default_rng(3)
    ids = [f"P-{i}" for i in range(40)]
    tx = pd.DataFrame(
        {
            "date": pd.Timestamp("2026-11-22") - pd.to_timedelta(rng.integers(0, 400, 300), unit="D"),
            "amount": rng.integers(1, 100, 300).astype(float),
            "contact_id": pd.Series(rng.choice(np.array([*ids, None], dtype=object), 300), dtype=object),
            "company_id": None,
        }
    )
    settings = Settings()
    plain = rfm_table(tx, pd.Index(ids[:35]), "contact_id", pd.Timestamp("2026-11-22"), settings)
    cat = rfm_table(
        tx.astype({"contact_id": "category"}), pd.Index(ids[:35]), "contact_id", pd.Timestamp("2026-11-22"), settings
    )
    pd.testing.assert_frame_equal(plain, cat)
