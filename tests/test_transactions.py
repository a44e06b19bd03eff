"""Transactions: which activities and Won deals count, once, as of a date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sheetcrm.customers.transactions import (
    TX_COLUMNS,
    attach_company,
    positions_in,
    skipped_won,
    transactions,
)
from sheetcrm.schema import ActivityType as A
from sheetcrm.schema import Stage

AS_OF = "2025-06-30"


def dates(*values: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(pd.Series(list(values), dtype=object)), dtype="datetime64[ns]")


def objs(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype=object)


def activities(rows: list[tuple]) -> pd.DataFrame:
    """rows: (ID, Date, Type, Contact ID, Company ID, Opportunity ID, Amount)."""
    cols = list(zip(*rows, strict=True)) if rows else [()] * 7
    return pd.DataFrame(
        {
            "ID": objs(*cols[0]),
            "Date": dates(*cols[1]),
            "Type": objs(*cols[2]),
            "Contact ID": objs(*cols[3]),
            "Company ID": objs(*cols[4]),
            "Opportunity ID": objs(*cols[5]),
            "Amount": pd.Series(cols[6], dtype="float64"),
        }
    )


def opportunities(rows: list[tuple]) -> pd.DataFrame:
    """rows: (ID, Company ID, Contact ID, Stage, Amount, Closed)."""
    cols = list(zip(*rows, strict=True)) if rows else [()] * 6
    return pd.DataFrame(
        {
            "ID": objs(*cols[0]),
            "Company ID": objs(*cols[1]),
            "Contact ID": objs(*cols[2]),
            "Stage": objs(*cols[3]),
            "Amount": pd.Series(cols[4], dtype="float64"),
            "Closed": dates(*cols[5]),
            "Expected Close": dates(*([None] * len(rows))),
        }
    )


def tx_frame(rows: list[tuple]) -> pd.DataFrame:
    """rows: (date, amount, contact, company, opportunity, source_id, source)."""
    cols = list(zip(*rows, strict=True)) if rows else [()] * 7
    return pd.DataFrame(
        {
            "date": dates(*cols[0]),
            "amount": pd.Series(cols[1], dtype="float64"),
            **{name: objs(*col) for name, col in zip(TX_COLUMNS[2:], cols[2:], strict=True)},
        }
    )


NO_OPPS = opportunities([])
NO_ACTS = activities([])


def test_purchase_activities_with_amount_count_others_do_not() -> None:
    acts = activities(
        [
            ("A-1", "2025-01-05", A.ORDER, "P-1", "CO-1", None, 100.0),
            ("A-2", "2025-01-06", A.PURCHASE, "P-2", None, None, 50.0),
            ("A-3", "2025-01-07", A.CALL, "P-1", "CO-1", None, 999.0),  # not a purchase type
            ("A-4", "2025-01-08", A.QUOTE, "P-1", "CO-1", None, 500.0),  # not a purchase type
            ("A-5", "2025-01-09", A.ORDER, "P-1", "CO-1", None, np.nan),  # no amount
            ("A-6", None, A.ORDER, "P-1", "CO-1", None, 10.0),  # no date
            ("A-7", "2025-01-10", None, "P-1", "CO-1", None, 10.0),  # no type
            ("A-8", "2025-01-11", A.PURCHASE, "P-3", None, None, 0.0),  # zero counts
        ]
    )
    expected = tx_frame(
        [
            ("2025-01-05", 100.0, "P-1", "CO-1", None, "A-1", "activity"),
            ("2025-01-06", 50.0, "P-2", None, None, "A-2", "activity"),
            ("2025-01-11", 0.0, "P-3", None, None, "A-8", "activity"),
        ]
    )
    assert_frame_equal(transactions(acts, NO_OPPS, AS_OF), expected)


@pytest.mark.parametrize(
    ("as_of", "counted"),
    [
        ("2025-03-09", []),
        ("2025-03-10", ["A-1"]),  # the as_of day itself is included
        ("2025-03-10 23:59", ["A-1"]),  # time of day is dropped
        ("2025-03-11", ["A-1", "A-2"]),
        ("2026-01-01", ["A-1", "A-2"]),
    ],
)
def test_as_of_filters_activities(as_of: str, counted: list[str]) -> None:
    acts = activities(
        [
            ("A-1", "2025-03-10", A.ORDER, "P-1", None, None, 1.0),
            ("A-2", "2025-03-11", A.ORDER, "P-1", None, None, 2.0),
        ]
    )
    assert transactions(acts, NO_OPPS, as_of)["source_id"].tolist() == counted


def test_won_deal_counts_at_closed_unless_an_order_records_it() -> None:
    acts = activities(
        [
            ("A-1", "2025-02-01", A.ORDER, "P-1", "CO-1", "OP-1", 1000.0),  # records OP-1
            ("A-2", "2025-02-02", A.CALL, "P-2", "CO-2", "OP-2", np.nan),  # a call does not
            ("A-3", "2025-02-03", A.ORDER, "P-3", "CO-3", "OP-3", np.nan),  # no amount: does not
        ]
    )
    opps = opportunities(
        [
            ("OP-1", "CO-1", "P-1", Stage.WON, 1000.0, "2025-01-31"),
            ("OP-2", "CO-2", "P-2", Stage.WON, 2000.0, "2025-02-10"),
            ("OP-3", "CO-3", "P-3", Stage.WON, 3000.0, "2025-02-11"),
            ("OP-4", "CO-4", None, Stage.NEGOTIATION, 4000.0, None),  # open: not a purchase
            ("OP-5", "CO-5", None, Stage.LOST, 5000.0, "2025-02-12"),  # lost
            ("OP-6", "CO-6", None, Stage.WON, 6000.0, "2025-07-01"),  # closes after as_of
        ]
    )
    expected = tx_frame(
        [
            ("2025-02-01", 1000.0, "P-1", "CO-1", "OP-1", "A-1", "activity"),
            ("2025-02-10", 2000.0, "P-2", "CO-2", "OP-2", "OP-2", "opportunity"),
            ("2025-02-11", 3000.0, "P-3", "CO-3", "OP-3", "OP-3", "opportunity"),
        ]
    )
    assert_frame_equal(transactions(acts, opps, AS_OF), expected)


@pytest.mark.parametrize(
    ("as_of", "source"),
    [
        ("2025-01-30", []),  # before both
        ("2025-01-31", ["opportunity"]),  # deal won, order not yet on the books
        ("2025-02-04", ["opportunity"]),
        ("2025-02-05", ["activity"]),  # the order now records the deal
        ("2025-12-31", ["activity"]),
    ],
)
def test_deal_is_never_counted_twice_at_any_as_of(as_of: str, source: list[str]) -> None:
    acts = activities([("A-1", "2025-02-05", A.ORDER, "P-1", "CO-1", "OP-1", 1000.0)])
    opps = opportunities([("OP-1", "CO-1", "P-1", Stage.WON, 1000.0, "2025-01-31")])
    assert transactions(acts, opps, as_of)["source"].tolist() == source


def test_won_deals_that_cannot_count_are_reported() -> None:
    acts = activities([("A-1", "2025-02-05", A.ORDER, "P-1", "CO-1", "OP-1", 10.0)])
    opps = opportunities(
        [
            ("OP-1", "CO-1", "P-1", Stage.WON, 10.0, None),  # recorded by A-1: fine
            ("OP-2", "CO-2", None, Stage.WON, 20.0, None),  # cannot be dated
            ("OP-3", "CO-3", "P-3", Stage.WON, np.nan, "2025-03-01"),  # no amount
            ("OP-4", "CO-4", None, Stage.WON, np.nan, "2025-08-01"),  # no amount, but future
            ("OP-5", "CO-5", None, Stage.LOST, np.nan, None),  # not won
        ]
    )
    tx = transactions(acts, opps, AS_OF)
    assert tx["source_id"].tolist() == ["A-1"]
    expected = pd.DataFrame(
        {
            "opportunity_id": objs("OP-2", "OP-3"),
            "contact_id": objs(None, "P-3"),
            "company_id": objs("CO-2", "CO-3"),
            "closed": dates(None, "2025-03-01"),
            "amount": pd.Series([20.0, np.nan], dtype="float64"),
            "reason": objs("no Closed date", "no Amount"),
        }
    )
    assert_frame_equal(skipped_won(acts, opps, AS_OF), expected)


def test_plain_string_enum_values_work_too() -> None:
    acts = activities([("A-1", "2025-01-05", "Order", "P-1", None, None, 1.0)])
    opps = opportunities([("OP-1", None, "P-2", "Won", 2.0, "2025-01-06")])
    assert transactions(acts, opps, AS_OF)["source_id"].tolist() == ["A-1", "OP-1"]


def test_empty_inputs_give_typed_empty_frame() -> None:
    expected = tx_frame([])
    assert_frame_equal(transactions(NO_ACTS, NO_OPPS, AS_OF), expected)
    assert list(expected.columns) == list(TX_COLUMNS)
    assert str(expected["date"].dtype) == "datetime64[ns]"
    assert len(skipped_won(NO_ACTS, NO_OPPS, AS_OF)) == 0


def test_as_of_must_be_a_date() -> None:
    with pytest.raises(ValueError):
        transactions(NO_ACTS, NO_OPPS, pd.NaT)  # type: ignore[arg-type]


def test_attach_company_fills_missing_company_from_contact() -> None:
    tx = tx_frame(
        [
            ("2025-01-01", 1.0, "P-1", None, None, "A-1", "activity"),  # filled from P-1
            ("2025-01-02", 2.0, "P-1", "CO-9", None, "A-2", "activity"),  # given company wins
            ("2025-01-03", 3.0, "P-2", None, None, "A-3", "activity"),  # P-2 has no company
            ("2025-01-04", 4.0, "P-404", None, None, "A-4", "activity"),  # unknown contact
            ("2025-01-05", 5.0, None, None, None, "A-5", "activity"),  # no contact
            ("2025-01-06", 6.0, "P-3", None, None, "A-6", "activity"),  # first P-3 row wins
        ]
    ).set_axis([10, 11, 12, 13, 14, 15])
    contacts = pd.DataFrame(
        {
            "ID": objs("P-1", "P-2", "P-3", "P-3", None),
            "Company ID": objs("CO-1", None, "CO-3", "CO-X", "CO-Y"),
            "Name": objs("a", "b", "c", "d", "e"),
        }
    )
    out = attach_company(tx, contacts)
    expected = tx.copy()
    expected["company_id"] = pd.Series(
        ["CO-1", "CO-9", None, None, None, "CO-3"],
        index=tx.index,
        dtype=object,
    )
    assert_frame_equal(out, expected)
    assert tx["company_id"].tolist()[0] is None  # input untouched


def test_attach_company_with_no_contacts() -> None:
    tx = tx_frame([("2025-01-01", 1.0, "P-1", None, None, "A-1", "activity")])
    contacts = pd.DataFrame({"ID": objs(), "Company ID": objs()})
    assert attach_company(tx, contacts)["company_id"].tolist() == [None]


# --- matching keys to customers ----------------------------------------------------------


def _fresh(values: list) -> np.ndarray:
    """Each text its own object, as cells arrive."""
    return np.array([("".join(v) if isinstance(v, str) else v) for v in values], dtype=object)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["P-2", "P-1", "P-9", "王小明"], [1, 0, -1, 3]),  # text, one unknown, Chinese
        (["P-2", None, float("nan"), "P-3"], [1, -1, -1, 2]),  # missing keys
        (["P-1", 1, "P-3"], [0, -1, 2]),  # a number never matches the text "1"
        (["x" * 40, "P-1"], [-1, 0]),  # longer than the packed width
        (["P-1 ", "p-1", "P-1"], [-1, -1, 0]),  # exact: no folding here
    ],
)
def test_positions_in(keys: list, expected: list[int]) -> None:
    index = pd.Index(["P-1", "P-2", "P-3", "王小明"], dtype=object)
    assert positions_in(index, _fresh(keys)).tolist() == expected
    # the same keys as a few shared objects repeated (as a parsed column hands them out)
    shared = np.array(_fresh(keys), dtype=object)[np.repeat(np.arange(len(keys)), 5)]
    assert positions_in(index, shared).tolist() == np.repeat(expected, 5).tolist()


def test_positions_in_many_keys_agrees_with_get_indexer() -> None:
    rng = np.random.default_rng(5)
    index = pd.Index([f"C-{i}" for i in range(2000)], dtype=object)
    pool = np.array([f"C-{i}" for i in range(2500)], dtype=object)
    for keys in (pool[rng.integers(0, 2500, 20000)], _fresh(pool[rng.integers(0, 2500, 20000)].tolist())):
        assert positions_in(index, keys).tolist() == index.get_indexer(pd.Index(keys)).tolist()


def test_left_out_purchases_are_the_undated_and_the_ones_naming_nobody() -> None:
    from sheetcrm.customers.transactions import left_out_purchases

    acts = pd.DataFrame(
        {
            "Date": pd.to_datetime(["2026-11-01", "NaT", "2026-11-02", "2026-11-03", "2026-12-05", "2026-11-04"]),
            "Type": [A.ORDER, A.ORDER, A.PURCHASE, A.ORDER, A.ORDER, A.CALL],
            "Contact ID": ["P-1", "P-1", "洪雅婷", None, None, None],
            "Company ID": [None, None, None, "CO-1", "CO-9", None],
            "Amount": [100.0, 200.0, 300.0, 400.0, 500.0, 600.0],
        }
    )
    got = left_out_purchases(acts, "2026-11-30", pd.Series(["P-1"]), pd.Series(["CO-1"]))
    # undated: row 2; naming nobody: 洪雅婷 (row 3); the order after as_of and the call are no purchases yet
    assert got == (1, 1, 500.0)
