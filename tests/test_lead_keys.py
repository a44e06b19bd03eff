"""The column-wise folds lead import matches with give exactly what the one-cell folds of
sheetcrm.cells.normalize give, value for value."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from sheetcrm.cells.normalize import (
    email_keys,
    fold_column,
    fold_email,
    fold_phone,
    normalize_company_name,
    person_key,
    person_keys,
    phone_keys,
)
from sheetcrm.cells.parse import parse_column
from sheetcrm.schema import CONTACTS
from sheetcrm.team.leads import _index

EMAILS: list[Any] = [
    "Lin@Example.COM",
    "  lin@example.com ",
    "ｌｉｎ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    "mailto:Wu@Harbor.hk",
    "STRASSE@ß.example",
    "not an email",
    "two@a.com, three@b.com",
    "",
    "\u3000",
    None,
    float("nan"),
    42,
    "lin@example.com",
]
PHONES: list[Any] = [
    "0912-345-678",
    "+886 912 345 678",
    "０９１２３４５６７８",
    "(02)2345-6789",
    "02-2345-6789 #123",
    912345678,
    "+44 (0)20 7946 0958",
    "12",
    "call me",
    "",
    None,
    "0912 345-678",
]
NAMES: list[tuple[Any, Any]] = [
    ("John Wu", "Harbor Logistics Ltd."),
    ("Ｊｏｈｎ  ｗｕ", "HARBOR LOGISTICS"),
    ("john wu", None),
    ("林志玲", "宏達精密股份有限公司"),
    ("林志玲", "宏達精密"),
    ("", "Somewhere"),
    (None, None),
    ("\u200b", "Zero Width"),
    (12, 3.0),
    ("A  B", ""),
    ("John Wu", "Harbor Logistics Ltd."),
]


@pytest.mark.parametrize(
    ("column", "values", "fold", "keys"),
    [
        ("Email", EMAILS, fold_email, email_keys),
        ("Phone", PHONES, fold_phone, phone_keys),
    ],
)
def test_keys_from_parsed_cells_equal_the_one_cell_fold(column: str, values: list[Any], fold: Any, keys: Any) -> None:
    raw = pd.Series(values, dtype=object, index=range(10, 10 + len(values)))
    parsed, _problems = parse_column(raw, CONTACTS.column(column))
    expected = pd.Series([fold(v) for v in values], index=raw.index, dtype=object)
    pd.testing.assert_series_equal(keys(parsed), expected, check_names=False)
    pd.testing.assert_series_equal(fold_column(raw, fold), expected, check_names=False)


def test_person_keys_equal_person_key_pair_by_pair() -> None:
    names = pd.Series([n for n, _c in NAMES], dtype=object, index=range(5, 5 + len(NAMES)))
    companies = pd.Series([c for _n, c in NAMES], dtype=object, index=names.index)
    expected = pd.Series([person_key(n, c) for n, c in NAMES], index=names.index, dtype=object)
    pd.testing.assert_series_equal(person_keys(names, companies), expected)
    assert person_keys(names, companies).iloc[0] == person_keys(names, companies).iloc[1]


def test_company_names_fold_alike() -> None:
    names = pd.Series(["Harbor Logistics Ltd.", "HARBOR  logistics", "宏達精密股份有限公司", None, "  "], dtype=object)
    assert fold_column(names, normalize_company_name).tolist() == [
        "harborlogistics",
        "harborlogistics",
        "宏達精密",
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (None, {"a": ["P-1", "P-3"], "b": ["P-2"], "c": ["P-5"]}),
        (["a", None, "z"], {"a": ["P-1", "P-3"]}),
        ([], {}),
    ],
)
def test_index_holds_ids_in_row_order_for_the_wanted_keys(wanted: list[Any] | None, expected: dict) -> None:
    keys = pd.Series(["a", "b", "a", None, "c", "b"], dtype=object)
    ids = pd.Series(["P-1", "P-2", "P-3", "P-4", "P-5", None], dtype=object)
    got = _index(keys, ids, None if wanted is None else pd.Series(wanted, dtype=object))
    assert got == expected


def test_dates_and_numbers_in_the_name_column_fold_as_text() -> None:
    names = pd.Series([dt.date(2026, 3, 5), 7, 7.0], dtype=object)
    assert person_keys(names, pd.Series([None] * 3, dtype=object)).tolist() == [
        person_key(dt.date(2026, 3, 5), None),
        person_key(7, None),
        person_key(7.0, None),
    ]
