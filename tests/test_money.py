"""Exact money: amounts summed and compared in minor units, never as binary floats."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheetcrm.cells.parse import (
    exact_money,
    exact_sum,
    from_minor,
    minor_floor,
    money_decimals,
    to_minor,
)
from sheetcrm.customers.nesl import nesl_table
from sheetcrm.customers.rfm import pareto, rfm_table, value_tiers
from sheetcrm.settings import Settings
from tests.helpers import TX_AS_OF, tx_of

AS_OF = TX_AS_OF
DEFAULT = Settings()


def cell(cents: int) -> float:
    """The float a sheet cell holds for an amount typed with two decimals."""
    return float(Decimal(cents).scaleb(-2))


# --- the parse helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amounts", "decimals"),
    [
        ([1200.0, 800.0, 35000.0], 0),  # NT$ typed whole
        ([1200, 800, np.nan], 0),
        ([11.77, 13.97], 2),
        ([0.1, 0.2, 5.0], 1),
        ([12.345, 1.0], 3),
        ([1 / 3], 4),  # a formula's result: counted to 4 decimals
        ([], 0),
        ([99999999999.99], 2),  # 13 digits plus cents: still exact
    ],
)
def test_money_decimals(amounts: list[float], decimals: int) -> None:
    assert money_decimals(amounts) == decimals


@pytest.mark.parametrize(
    ("amounts", "total"),
    [
        ([11.77, 13.97], "25.74"),
        ([0.1, 0.2], "0.3"),
        ([1.1, 2.2], "3.3"),
        ([1200.0, 800.0], "2000"),
        ([-19.99, 19.99, 0.01], "0.01"),
        ([99999999999.99, 0.01], "100000000000.00"),
    ],
)
def test_exact_sums(amounts: list[float], total: str) -> None:
    assert exact_sum(amounts) == Decimal(total)
    d = money_decimals(amounts)
    assert int(to_minor(amounts, d).sum()) == int(Decimal(total).scaleb(d))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.1, Decimal("0.1")), ("NT$1,200.50", Decimal("1200.50")), ("1.2萬", Decimal("12000")), (7, Decimal(7))],
)
def test_exact_money_reads_what_was_typed(value: object, expected: Decimal) -> None:
    assert exact_money(value) == expected


@pytest.mark.parametrize(
    ("threshold", "decimals", "floor"),
    [(100000.0, 0, 100000), (100000.0, 2, 10000000), (25.745, 2, 2574), (0.1, 2, 10), (-0.005, 2, -1)],
)
def test_minor_floor(threshold: float, decimals: int, floor: int) -> None:
    assert minor_floor(threshold, decimals) == floor


@given(st.lists(st.integers(-(10**13), 10**13), max_size=30))
def test_minor_units_round_trip(cents: list[int]) -> None:
    floats = [cell(c) for c in cents]
    assert to_minor(floats, 2).tolist() == cents
    assert to_minor(from_minor(np.array(cents, dtype=np.int64), 2), 2).tolist() == cents


# --- scores and tiers on exact money ---------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "whole"),
    [
        ((1177, 1397), 2574),  # 11.77 + 13.97 = 25.74 (25.740000000000002 as floats)
        ((10, 20), 30),  # 0.1 + 0.2 = 0.3
        ((110, 220), 330),
        ((10001, 20002), 30003),
        ((1, 1, 1, 1, 1, 1, 1, 1, 1, 1), 10),  # ten times 0.01
    ],
)
def test_split_and_whole_order_on_a_quintile_bound_score_alike(parts: tuple[int, ...], whole: int) -> None:
    # Five active buyers: 0.4·whole, SPLIT, WHOLE, 1.2·whole, 1.5·whole. The second quintile
    # bound is exactly `whole`; both tied customers must be on the same side of it.
    others = [("LOW", whole * 2 // 5), ("HIGH", whole * 6 // 5), ("TOP", whole * 3 // 2)]
    rows = [("SPLIT", 3, cell(c)) for c in parts] + [("WHOLE", 3, cell(whole))]
    rows += [(name, 3, cell(c)) for name, c in others]
    customers = pd.Index(["LOW", "SPLIT", "WHOLE", "HIGH", "TOP"], dtype=object)
    table = rfm_table(tx_of(rows), customers, "contact_id", AS_OF, DEFAULT)
    assert cast(float, table.loc["SPLIT", "monetary"]) == cast(float, table.loc["WHOLE", "monetary"]) == cell(whole)
    assert cast(int, table.loc["SPLIT", "m"]) == cast(int, table.loc["WHOLE", "m"]) == 2
    tiers = value_tiers(table["monetary"], table["last_purchase"].notna(), DEFAULT)
    assert tiers["SPLIT"] is tiers["WHOLE"]


amount_lists = st.lists(st.integers(-5_000, 2_000_000), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(orders=amount_lists, background=st.lists(amount_lists, min_size=3, max_size=12), data=st.data())
def test_equal_exact_sums_get_equal_m_and_tier(orders: list[int], background: list[list[int]], data) -> None:
    # B buys the same total as A in other orders: A's orders shuffled and regrouped into
    # sums. Others buy anything, some exactly the same total.
    total = sum(orders)
    shuffled = data.draw(st.permutations(orders))
    cuts = sorted(set(data.draw(st.lists(st.integers(1, max(1, len(orders) - 1)), max_size=len(orders)))))
    groups = [sum(shuffled[a:b]) for a, b in zip([0, *cuts], [*cuts, len(shuffled)], strict=True) if a < b]
    ages = data.draw(
        st.lists(st.integers(0, 300), min_size=len(orders) + len(groups), max_size=len(orders) + len(groups))
    )
    rows = [("A", ages[i], cell(c)) for i, c in enumerate(orders)]
    rows += [("B", ages[len(orders) + i], cell(c)) for i, c in enumerate(groups)]
    for k, amounts in enumerate([*background, [total]]):
        rows += [(f"O-{k}", 10, cell(c)) for c in amounts]
    customers = pd.Index(["A", "B", *[f"O-{k}" for k in range(len(background) + 1)]], dtype=object)
    table = rfm_table(tx_of(rows), customers, "contact_id", AS_OF, DEFAULT)
    assert cast(float, table.loc["A", "monetary"]) == cast(float, table.loc["B", "monetary"]) == cell(total)
    assert (
        cast(int, table.loc["A", "m"])
        == cast(int, table.loc["B", "m"])
        == cast(int, table.loc[f"O-{len(background)}", "m"])
    )
    tiers = value_tiers(table["monetary"], table["last_purchase"].notna(), DEFAULT)
    assert tiers["A"] is tiers["B"] is tiers[f"O-{len(background)}"]
    # the important mark compares exactly too
    at_threshold = Settings(important_amount=cell(total))
    marks = nesl_table(tx_of(rows), customers, "contact_id", AS_OF, at_threshold, tiers=tiers)
    assert not marks.loc["A", "important"] and not marks.loc["B", "important"]


def test_important_amount_compares_exactly() -> None:
    rows = [("SPLIT", 1, 11.77), ("SPLIT", 2, 13.97), ("MORE", 1, 25.75)]
    customers = pd.Index(["SPLIT", "MORE"], dtype=object)
    table = nesl_table(tx_of(rows), customers, "contact_id", AS_OF, Settings(important_amount=25.74))
    assert table["important"].tolist() == [False, True]


def test_whole_currency_book_stays_whole() -> None:
    # NT$ typed whole: no minor unit at all
    rows = [("P-1", 1, 1200.0), ("P-1", 2, 800.0), ("P-2", 1, 2000.0), ("P-3", 1, 35000.0)]
    customers = pd.Index(["P-1", "P-2", "P-3"], dtype=object)
    table = rfm_table(tx_of(rows), customers, "contact_id", AS_OF, DEFAULT)
    assert table["monetary"].tolist() == [2000.0, 2000.0, 35000.0]
    assert cast(int, table.loc["P-1", "m"]) == cast(int, table.loc["P-2", "m"])


def test_pareto_is_exact() -> None:
    # ten buyers: the top two hold exactly 80% of revenue, which is enough ("at least 80%")
    values = [cell(c) for c in (4000, 4000, 250, 250, 250, 250, 250, 250, 250, 250)]
    monetary = pd.Series(values, index=[f"P-{i}" for i in range(10)])
    tiers = value_tiers(monetary, np.ones(10, dtype=bool), DEFAULT)
    result = pareto(monetary, tiers)
    assert result["revenue_exact"] == Decimal("100.00")
    assert result["top_share"] == 0.8 and result["holds"] is True
