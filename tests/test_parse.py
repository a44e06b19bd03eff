"""Tests of sheetcrm.cells.parse: every single-cell parser (valid and invalid, both options),
parse_column's dtypes, fast paths and problem alignment, and a property test."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheetcrm.cells.parse import (
    CellParseError,
    ParseOptions,
    blank_mask,
    is_blank,
    map_distinct,
    parse_bool,
    parse_column,
    parse_date,
    parse_datetime,
    parse_email,
    parse_enum,
    parse_id,
    parse_integer,
    parse_money,
    parse_number,
    parse_phone,
    parse_text,
)
from sheetcrm.cells.serial import to_serial
from sheetcrm.schema import (
    ActivityType,
    Column,
    ColumnType,
    ContactRole,
    LabeledEnum,
    Lifecycle,
    Stage,
)
from sheetcrm.settings import Settings

US = ParseOptions()
EU = ParseOptions(day_first=True, decimal_comma=True)
DAY_FIRST = ParseOptions(day_first=True)
COMMA = ParseOptions(decimal_comma=True)
BOTH = (US, EU)

D = dt.date
DT = dt.datetime


def _col(ctype: ColumnType, enum: type[LabeledEnum] | None = None) -> Column:
    return Column("X", "X", ctype, enum=enum)


def _problem(func, value, opts=US, *args) -> str:
    with pytest.raises(CellParseError) as info:
        func(value, *args, opts) if args else func(value, opts)
    return str(info.value)


# ---------------------------------------------------------------------------------------
# Options, errors, blanks


def test_options_from_settings() -> None:
    defaults = Settings()
    assert ParseOptions.from_settings(defaults) == ParseOptions(False, False, defaults.synonyms)
    s = Settings(day_first=True, decimal_comma=True, synonyms=())
    assert ParseOptions.from_settings(s) == ParseOptions(day_first=True, decimal_comma=True)


def test_cell_parse_error_carries_expected() -> None:
    err = CellParseError("'x' is not a date", "a date like 2026-03-05")
    assert isinstance(err, ValueError)
    assert err.message == "'x' is not a date"
    assert err.expected == "a date like 2026-03-05"
    assert str(err) == "'x' is not a date; expected a date like 2026-03-05"


@pytest.mark.parametrize(
    "value",
    [
        None,
        float("nan"),
        np.nan,
        pd.NA,
        pd.NaT,
        np.datetime64("NaT"),
        "",
        "   ",
        "\u3000",
        " \u3000\t\n",
        "\u200b",
        "\ufeff ",
        Decimal("NaN"),
        np.float64("nan"),
    ],
)
def test_is_blank_true(value) -> None:
    assert is_blank(value)


@pytest.mark.parametrize("value", [0, 0.0, False, "0", "-", "a", " x ", "\u3000a", dt.date(2026, 3, 5), "．"])
def test_is_blank_false(value) -> None:
    assert not is_blank(value)


# ---------------------------------------------------------------------------------------
# Text and IDs


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Acme  ", "Acme"),
        ("\u3000台積電\u3000", "台積電"),
        ("ＡＢＣ", "ＡＢＣ"),  # text keeps full width (NFC only)
        ("e\u0301", "\u00e9"),  # NFC
        (12.0, "12"),
        (12, "12"),
        (1.5, "1.5"),
        (-0.0, "0"),
        (True, "TRUE"),
        (False, "FALSE"),
        (dt.datetime(2026, 3, 5), "2026-03-05"),
        (dt.datetime(2026, 3, 5, 14, 30), "2026-03-05 14:30:00"),
        (dt.date(2026, 3, 5), "2026-03-05"),
        (dt.time(14, 30), "14:30:00"),
        (np.int64(7), "7"),
        (None, ""),
        ("  ", ""),
        ("line1\nline2", "line1\nline2"),
    ],
)
def test_parse_text(value, expected) -> None:
    assert parse_text(value, US) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("CO-0001", "CO-0001"),
        (" ＣＯ－０００１\u3000", "CO-0001"),
        (12.0, "12"),
        (12, "12"),
        (np.float64(7.0), "7"),
        ("P 12", "P 12"),
        (1.5, "1.5"),
        ("", ""),
        (None, ""),
    ],
)
def test_parse_id(value, expected) -> None:
    assert parse_id(value, US) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("CO-1\nCO-2", "more than one line"),
        ("CO-1\r\nCO-2", "more than one line"),
        ("CO\u20281", "more than one line"),
        ("CO\x001", "control characters"),
        (True, "true/false"),
        (dt.datetime(2026, 1, 2), "is a date"),
        (dt.date(2026, 1, 2), "is a date"),
        (float("inf"), "not an ID"),
    ],
)
def test_parse_id_invalid(value, fragment) -> None:
    message = _problem(parse_id, value)
    assert fragment in message
    assert "expected an ID" in message


# ---------------------------------------------------------------------------------------
# Dates

VALID_DATES = [
    ("2026/3/5", BOTH, D(2026, 3, 5)),
    ("2026-03-05", BOTH, D(2026, 3, 5)),
    ("2026.3.5", BOTH, D(2026, 3, 5)),
    ("2026 / 3 / 5", BOTH, D(2026, 3, 5)),
    ("２０２６／３／５", BOTH, D(2026, 3, 5)),
    ("\u3000 2026/3/5 ", BOTH, D(2026, 3, 5)),
    ("2026年3月5日", BOTH, D(2026, 3, 5)),
    ("2026 年 03 月 05 日", BOTH, D(2026, 3, 5)),
    ("2026年3月5号", BOTH, D(2026, 3, 5)),
    ("民國115年3月5日", BOTH, D(2026, 3, 5)),
    ("民国115年3月5日", BOTH, D(2026, 3, 5)),
    ("中華民國115年3月5日", BOTH, D(2026, 3, 5)),
    ("115年3月5日", BOTH, D(2026, 3, 5)),
    ("民國115/3/5", BOTH, D(2026, 3, 5)),
    ("民國 9/3/5", BOTH, D(1920, 3, 5)),
    ("115/3/5", BOTH, D(2026, 3, 5)),
    ("115.3.5", BOTH, D(2026, 3, 5)),
    ("115-03-05", BOTH, D(2026, 3, 5)),
    ("99/12/31", BOTH, D(2010, 12, 31)),
    ("26/3/5", BOTH, D(1937, 3, 5)),  # a 2-digit first part is an ROC year
    ("3/5/2026", (US, COMMA), D(2026, 3, 5)),
    ("3/5/2026", (EU, DAY_FIRST), D(2026, 5, 3)),
    ("05.03.2026", (US,), D(2026, 5, 3)),
    ("05.03.2026", (EU,), D(2026, 3, 5)),
    ("5-3-2026", (US,), D(2026, 5, 3)),
    ("5-3-2026", (EU,), D(2026, 3, 5)),
    ("12/31/2026", (US,), D(2026, 12, 31)),
    ("31/12/2026", (EU,), D(2026, 12, 31)),
    ("20260305", BOTH, D(2026, 3, 5)),
    ("2026-03-05T14:30:00", BOTH, D(2026, 3, 5)),
    ("2026-03-05 14:30", BOTH, D(2026, 3, 5)),
    ("2026/3/5 下午2:30", BOTH, D(2026, 3, 5)),
    ("Mar 5, 2026", BOTH, D(2026, 3, 5)),
    ("March 5 2026", BOTH, D(2026, 3, 5)),
    ("Thu, Mar 5, 2026", BOTH, D(2026, 3, 5)),
    ("5 Mar 2026", BOTH, D(2026, 3, 5)),
    ("5th March 2026", BOTH, D(2026, 3, 5)),
    ("05-Mar-2026", BOTH, D(2026, 3, 5)),
    ("Sept 30, 2026", BOTH, D(2026, 9, 30)),
    ("2026-Mar-05", BOTH, D(2026, 3, 5)),
    ("1900/1/1", BOTH, D(1900, 1, 1)),
    ("2200/12/31", BOTH, D(2200, 12, 31)),
    ("2028/2/29", BOTH, D(2028, 2, 29)),
    (45991, BOTH, D(2025, 11, 30)),
    (45991.0, BOTH, D(2025, 11, 30)),
    (45991.75, BOTH, D(2025, 11, 30)),
    (45990.99999999999, BOTH, D(2025, 11, 30)),  # float noise rounds to midnight
    (2, BOTH, D(1900, 1, 1)),
    (61, BOTH, D(1900, 3, 1)),
    (np.int64(45991), BOTH, D(2025, 11, 30)),
    (20260305, BOTH, D(2026, 3, 5)),
    (DT(2026, 3, 5, 14, 30), BOTH, D(2026, 3, 5)),
    (D(2026, 3, 5), BOTH, D(2026, 3, 5)),
    (pd.Timestamp("2026-03-05 10:00"), BOTH, D(2026, 3, 5)),
    (pd.Timestamp("2026-03-05 10:00", tz="Asia/Taipei"), BOTH, D(2026, 3, 5)),
    (np.datetime64("2026-03-05"), BOTH, D(2026, 3, 5)),
]


@pytest.mark.parametrize(
    ("value", "opts", "expected"),
    [(v, o, e) for v, opts, e in VALID_DATES for o in opts],
)
def test_parse_date_valid(value, opts, expected) -> None:
    assert parse_date(value, opts) == expected


INVALID_DATES = [
    ("2026/13/5", BOTH, "no month 13"),
    ("2026/2/30", BOTH, "February 2026 has no day 30"),
    ("2026/2/29", BOTH, "has no day 29"),
    ("2026/0/5", BOTH, "no month 0"),
    ("abc", BOTH, "'abc' is not a date"),
    ("3/5", BOTH, "add the year"),
    ("3月5日", BOTH, "add the year"),
    ("2026/3", BOTH, "add the day"),
    ("3/5/26", BOTH, "year in full"),
    ("05/03/26", BOTH, "year in full"),  # a leading zero is not an ROC year
    ("5-Mar-26", BOTH, "year in full"),
    ("13/5/2026", (US,), "set dates.day_first to true"),
    ("5/13/2026", (EU,), "set it to false"),
    ("300/3/5", BOTH, "not a date"),
    ("1899/12/31", BOTH, "year 1899 is outside 1900–2200"),
    ("2201/1/1", BOTH, "year 2201"),
    ("民國0年1月1日", BOTH, "no ROC year 0"),
    ("民國300年1月1日", BOTH, "year 2211"),
    ("Foo 5, 2026", BOTH, "unknown month"),
    ("2026-03-05 25:00", BOTH, "no time 25:00"),
    ("2026-03-05 13:00 pm", BOTH, "13 o'clock"),
    ("14:30", BOTH, "not a date"),
    ("45991", BOTH, "not a date"),
    ("2026/03-05", BOTH, "not a date"),
    (True, BOTH, "true/false"),
    (False, BOTH, "true/false"),
    (-5, BOTH, "negative"),
    (-0.5, BOTH, "negative"),
    (0, BOTH, "1 to 2958465"),
    (1, BOTH, "year 1899"),
    (2958466, BOTH, "1 to 2958465"),
    (2958465, BOTH, "year 9999"),
    (float("inf"), BOTH, "not a date"),
    (20261399, BOTH, "no month 13"),
    (DT(1850, 1, 1), BOTH, "year 1850"),
    (D(2300, 1, 1), BOTH, "year 2300"),
    (dt.time(14, 30), BOTH, "time of day"),
    ("", BOTH, "blank"),
    (None, BOTH, "blank"),
]


@pytest.mark.parametrize(
    ("value", "opts", "fragment"),
    [(v, o, f) for v, opts, f in INVALID_DATES for o in opts],
)
def test_parse_date_invalid(value, opts, fragment) -> None:
    message = _problem(parse_date, value, opts)
    assert fragment in message
    assert message.endswith("expected a date like 2026-03-05, 2026/3/5, 2026年3月5日, 民國115年3月5日 or 115/3/5")


def test_parse_date_message_matches_the_spec_example() -> None:
    message = _problem(parse_date, "2026/13/5")
    assert message.startswith("'2026/13/5' is not a date")
    assert message.endswith("; expected a date like 2026-03-05, 2026/3/5, 2026年3月5日, 民國115年3月5日 or 115/3/5")


@pytest.mark.parametrize(
    ("value", "opts", "expected"),
    [
        ("2026-03-05T14:30:00", US, DT(2026, 3, 5, 14, 30)),
        ("2026-03-05 14:30", US, DT(2026, 3, 5, 14, 30)),
        ("2026-03-05T14:30:00.25", US, DT(2026, 3, 5, 14, 30, 0, 250000)),
        ("2026-03-05T14:30:00Z", US, DT(2026, 3, 5, 14, 30)),
        ("2026-03-05T14:30:00+08:00", US, DT(2026, 3, 5, 14, 30)),
        ("2026/3/5 下午2:30", US, DT(2026, 3, 5, 14, 30)),
        ("2026/3/5 上午12:15", US, DT(2026, 3, 5, 0, 15)),
        ("2026年3月5日下午2:30", US, DT(2026, 3, 5, 14, 30)),
        ("3/5/2026 2:30 PM", US, DT(2026, 3, 5, 14, 30)),
        ("3/5/2026 2:30 PM", EU, DT(2026, 5, 3, 14, 30)),
        ("3/5/2026 12:00 am", US, DT(2026, 3, 5, 0, 0)),
        ("Mar 5, 2026, 9:05 a.m.", US, DT(2026, 3, 5, 9, 5)),
        ("2026-03-05", US, DT(2026, 3, 5)),
        ("115/3/5 14:30:15", US, DT(2026, 3, 5, 14, 30, 15)),
        (45991.6041666667, US, DT(2025, 11, 30, 14, 30)),
        (45991.5, US, DT(2025, 11, 30, 12, 0)),
        (45991, US, DT(2025, 11, 30)),
        (DT(2026, 3, 5, 14, 30, 1), US, DT(2026, 3, 5, 14, 30, 1)),
        (D(2026, 3, 5), US, DT(2026, 3, 5)),
        (pd.Timestamp("2026-03-05 14:30", tz="UTC"), US, DT(2026, 3, 5, 14, 30)),
    ],
)
def test_parse_datetime_valid(value, opts, expected) -> None:
    assert parse_datetime(value, opts) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2026-03-05 24:00", "no time 24:00"),
        ("2026-03-05 14:60", "no time"),
        ("上午2:30 2026/3/5", "not a date"),
        ("2026/3/5 下午2:30 pm", "AM/PM twice"),
        ("abc", "not a date"),
        (True, "true/false"),
        (dt.time(1, 2), "time of day"),
    ],
)
def test_parse_datetime_invalid(value, fragment) -> None:
    message = _problem(parse_datetime, value)
    assert fragment in message
    assert "expected a date and time like 2026-03-05 14:30" in message


# ---------------------------------------------------------------------------------------
# Money and numbers

VALID_MONEY = [
    ("NT$1,200", (US,), 1200.0),
    ("NT$ 1,200元", (US,), 1200.0),
    ("NT$1.200", (EU,), 1200.0),
    ("$1,200.50", (US,), 1200.5),
    ("HK$ 3,500.50", (US,), 3500.5),
    ("¥800", BOTH, 800.0),
    ("￥800", BOTH, 800.0),
    ("RMB 800", BOTH, 800.0),
    ("800 RMB", BOTH, 800.0),
    ("TWD 1200", BOTH, 1200.0),
    ("US$12", BOTH, 12.0),
    ("新台幣1200元整", BOTH, 1200.0),
    ("€1.200,50", (EU, COMMA), 1200.5),
    ("1.200,50 €", (EU,), 1200.5),
    ("1.200,50", (EU,), 1200.5),
    ("1 200,50", (EU,), 1200.5),
    ("1\u00a0200,50", (EU,), 1200.5),
    ("1 200.50", (US,), 1200.5),
    ("1'200.50", (US,), 1200.5),
    ("1,20", (EU,), 1.2),
    ("1.200", (US,), 1.2),
    ("1.200", (EU,), 1200.0),
    ("１２００", BOTH, 1200.0),
    ("１，２００", (US,), 1200.0),
    ("1.2萬", (US,), 12000.0),
    ("1,2萬", (EU,), 12000.0),
    ("3萬", BOTH, 30000.0),
    ("3万", BOTH, 30000.0),
    ("5千", BOTH, 5000.0),
    ("3k", BOTH, 3000.0),
    ("2億", BOTH, 200_000_000.0),
    ("NT$ 1.2萬元", (US,), 12000.0),
    ("十萬", BOTH, 100_000.0),  # Chinese numerals, as people say amounts
    ("三萬五千", BOTH, 35_000.0),
    ("兩百", BOTH, 200.0),
    ("一千零五", BOTH, 1005.0),
    ("三萬五", BOTH, 35_000.0),  # said short: the last digit counts in the next unit down
    ("三千五", BOTH, 3500.0),
    ("兩百五", BOTH, 250.0),
    ("一億二", BOTH, 120_000_000.0),
    ("一萬零五", BOTH, 10_005.0),  # ... but not after 零
    ("二十五", BOTH, 25.0),
    ("十二萬三千四百五十", BOTH, 123_450.0),
    ("一億二千萬", BOTH, 120_000_000.0),
    ("五十萬元", BOTH, 500_000.0),
    ("約3萬", BOTH, 30000.0),  # a rough amount is still the amount
    ("大概 5千", BOTH, 5000.0),
    ("2萬左右", BOTH, 20000.0),
    ("about 30k", BOTH, 30000.0),
    ("approx. 1,200", (US,), 1200.0),
    ("around 5千", BOTH, 5000.0),
    ("～300", BOTH, 300.0),
    ("-500", BOTH, -500.0),
    ("−500", BOTH, -500.0),
    ("+500", BOTH, 500.0),
    ("(500)", BOTH, -500.0),
    ("（500）", BOTH, -500.0),
    ("NT$(1,500)", (US,), -1500.0),
    ("-NT$500", BOTH, -500.0),
    ("NT$ -500", BOTH, -500.0),
    (".5", (US,), 0.5),
    ("0", BOTH, 0.0),
    ("1e3", (US,), 1000.0),
    (1200, BOTH, 1200.0),
    (1200.75, BOTH, 1200.75),
    (-3, BOTH, -3.0),
    (np.float32(2.5), BOTH, 2.5),
    (Decimal("12.5"), BOTH, 12.5),
]


@pytest.mark.parametrize(
    ("value", "opts", "expected"),
    [(v, o, e) for v, opts, e in VALID_MONEY for o in opts],
)
def test_parse_money_valid(value, opts, expected) -> None:
    assert parse_money(value, opts) == pytest.approx(expected)


INVALID_MONEY = [
    ("abc", BOTH, "is not an amount"),
    ("1,2,3.4.5", (US,), "wrong places"),
    ("1.2.3,4,5", (EU,), "wrong places"),
    (True, BOTH, "true/false"),
    ("NT$", BOTH, "no number"),
    ("12abc", BOTH, "is not an amount"),
    ("1,20", (US,), "set money.decimal_comma to true"),
    ("1.200,50", (US,), "set money.decimal_comma to true"),
    ("€1.200,50", (US,), "money.decimal_comma"),
    ("1 200,50", (US,), "money.decimal_comma"),
    ("12.50", (EU,), "money.decimal_comma is true"),
    ("1,200.50", (EU,), "money.decimal_comma is true"),
    ("1,2000", (US,), "is not an amount"),
    ("--500", BOTH, "is not an amount"),
    ("-(500)", BOTH, "is not an amount"),
    ("(-500)", BOTH, "more than one minus"),
    ("nan", BOTH, "is not an amount"),
    ("inf", BOTH, "is not an amount"),
    (float("inf"), BOTH, "is not an amount"),
    ("1e400", (US,), "too large"),
    (10**400, BOTH, "too large"),
    ("25%", BOTH, "is not an amount"),
    ("三五", BOTH, "is not an amount"),  # two digits in a row are no Chinese numeral
    ("約", BOTH, "no number"),
    (dt.date(2026, 1, 1), BOTH, "is a date"),
    ("", BOTH, "blank"),
]


@pytest.mark.parametrize(
    ("value", "opts", "fragment"),
    [(v, o, f) for v, opts, f in INVALID_MONEY for o in opts],
)
def test_parse_money_invalid(value, opts, fragment) -> None:
    message = _problem(parse_money, value, opts)
    assert fragment in message
    assert "expected an amount like" in message


@pytest.mark.parametrize(
    ("value", "opts", "expected"),
    [
        ("1,200.5", US, 1200.5),
        ("1.200,5", EU, 1200.5),
        ("-3", US, -3.0),
        ("(3)", US, -3.0),
        ("25%", US, 0.25),
        ("12,5%", EU, 0.125),
        ("１．５", US, 1.5),
        ("1.2萬", US, 12000.0),
        (7, US, 7.0),
        (0.1, EU, 0.1),
    ],
)
def test_parse_number_valid(value, opts, expected) -> None:
    assert parse_number(value, opts) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "opts", "fragment"),
    [
        ("NT$5", US, "remove the currency"),
        ("5元", US, "remove the currency"),
        ("abc", US, "is not a number"),
        ("1,5", US, "decimal_comma"),
        ("1.5", EU, "decimal_comma is true"),
        (False, US, "true/false"),
        ("%", US, "not a number"),
    ],
)
def test_parse_number_invalid(value, opts, fragment) -> None:
    message = _problem(parse_number, value, opts)
    assert fragment in message
    assert "expected a number like" in message


@pytest.mark.parametrize(
    ("value", "opts", "expected"),
    [
        ("12", US, 12),
        ("1,200", US, 1200),
        ("1.200", EU, 1200),
        ("-3", EU, -3),
        ("1.2萬", US, 12000),
        ("１２", US, 12),
        (3.0, US, 3),
        (7, US, 7),
        (2**62, US, 2**62),
        ("9223372036854775807", US, 2**63 - 1),
        (np.int64(5), US, 5),
    ],
)
def test_parse_integer_valid(value, opts, expected) -> None:
    result = parse_integer(value, opts)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("value", "opts", "fragment"),
    [
        ("1.5", US, "not a whole number"),
        ("1,5", EU, "not a whole number"),
        (1.5, US, "not a whole number"),
        ("50%", US, "not a whole number"),
        (2**63, US, "too large"),
        ("1e30", US, "too large"),
        (True, US, "true/false"),
        ("abc", US, "not a whole number"),
    ],
)
def test_parse_integer_invalid(value, opts, fragment) -> None:
    message = _problem(parse_integer, value, opts)
    assert fragment in message
    assert "expected a whole number like" in message


# ---------------------------------------------------------------------------------------
# Booleans


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *(
            (v, True)
            for v in (
                "true",
                "TRUE",
                "True",
                "yes",
                "Yes",
                "y",
                "Y",
                "1",
                "是",
                "對",
                "对",
                "v",
                "V",
                "ｖ",
                "✓",
                "✔",
                "☑",
                "✅",
                "on",
                " yes ",
                "ＹＥＳ",
            )
        ),
        *(
            (v, False)
            for v in (
                "false",
                "FALSE",
                "no",
                "No",
                "n",
                "N",
                "0",
                "否",
                "錯",
                "错",
                "x",
                "X",
                "✗",
                "✘",
                "×",
                "❌",
                "off",
            )
        ),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (1.0, True),
        (0.0, False),
        (np.bool_(True), True),
    ],
)
def test_parse_bool_valid(value, expected) -> None:
    for opts in BOTH:
        assert parse_bool(value, opts) is expected


@pytest.mark.parametrize("value", ["maybe", "opt-out", "退訂", "2", 2, -1, 0.5, "yes!", "是的", dt.date(2026, 1, 1)])
def test_parse_bool_invalid(value) -> None:
    message = _problem(parse_bool, value)
    assert "is not yes or no" in message
    assert "expected yes or no" in message


def test_parse_bool_blank_is_missing_in_columns() -> None:
    typed, problems = parse_column(pd.Series(["yes", "", None, "否"]), _col(ColumnType.BOOL), US)
    assert typed.dtype == "boolean"
    assert typed.tolist() == [True, pd.NA, pd.NA, False]
    assert problems.isna().all()


# ---------------------------------------------------------------------------------------
# Email


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("foo@example.com", "foo@example.com"),
        ("Foo@Example.COM", "foo@example.com"),
        ("  foo@example.com\u3000", "foo@example.com"),
        ("ｆｏｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "foo@example.com"),
        ("wang@example。com.tw", "wang@example.com.tw"),
        ("mailto:foo@example.com", "foo@example.com"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("王小明@例子.台灣", "王小明@例子.台灣"),
        ("a@xn--fiqs8s.xn--kpry57d", "a@xn--fiqs8s.xn--kpry57d"),
    ],
)
def test_parse_email_valid(value, expected) -> None:
    for opts in BOTH:
        assert parse_email(value, opts) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("foo@", "nothing after the @"),
        ("@example.com", "nothing before the @"),
        ("foo@bar", "has no dot"),
        ("a b@c.com", "contains a space"),
        ("foo@@bar.com", "more than one @"),
        ("foo.example.com", "no @"),
        ("a@x.com, b@y.com", "more than one address"),
        ("a@x.com;b@y.com", "more than one address"),
        ("foo@bar..com", "not a domain name"),
        ("foo@-bar.com", "not a domain name"),
        ("foo@bar.c", "not a domain name"),
        ("foo@bar.123", "not a domain name"),
        (".foo@bar.com", "cannot come before"),
        ("fo..o@bar.com", "cannot come before"),
        ("王 <wang@x.com>", "contains a space"),
        ("<wang@x.com>", "cannot come before"),
        (12, "not an email address"),
        (True, "not an email address"),
    ],
)
def test_parse_email_invalid(value, fragment) -> None:
    message = _problem(parse_email, value)
    assert fragment in message
    assert "expected an email address like name@example.com" in message


# ---------------------------------------------------------------------------------------
# Phones


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+886 2 2345 6789", "+886223456789"),
        ("02-2345-6789", "+886223456789"),
        ("(02)2345-6789", "+886223456789"),
        ("（０２）２３４５－６７８９", "+886223456789"),
        ("02 2345 6789", "+886223456789"),
        ("0912-345-678", "+886912345678"),
        ("0912345678", "+886912345678"),
        ("0912.345.678", "+886912345678"),
        ("+886912345678", "+886912345678"),
        ("+886-912-345-678", "+886912345678"),
        ("+886 0912 345 678", "+886912345678"),
        ("+886 (0)2 2345 6789", "+886223456789"),
        ("+852 2345 6789", "+85223456789"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("+44 (0)20 7946 0958", "+442079460958"),
        ("tel:+886-2-2345-6789", "+886223456789"),
        ("02-2345-6789 #123", "+886223456789x123"),
        ("02-2345-6789#123", "+886223456789x123"),
        ("02-2345-6789 轉123", "+886223456789x123"),
        ("02-2345-6789轉 123", "+886223456789x123"),
        ("02-2345-6789 分機 123", "+886223456789x123"),
        ("02-2345-6789 ext 123", "+886223456789x123"),
        ("02-2345-6789 ext. 123", "+886223456789x123"),
        ("02-2345-6789 x123", "+886223456789x123"),
        ("02-2345-6789(轉123)", "+886223456789x123"),
        ("2345 6789", "23456789"),  # no + and no leading 0: digits as written
        ("13800138000", "13800138000"),
        ("912345678", "+886912345678"),  # text of a dropped-zero mobile
        (912345678, "+886912345678"),  # Sheets dropped the leading zero
        (912345678.0, "+886912345678"),
        (np.int64(912345678), "+886912345678"),
        (223456789, "223456789"),  # only mobiles get the dropped-zero rule
        (886912345678, "886912345678"),
        ("00886 2 2345 6789", "00886223456789"),
    ],
)
def test_parse_phone_valid(value, expected) -> None:
    for opts in BOTH:
        assert parse_phone(value, opts) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("+886", "3 digits"),
        ("123", "3 digits"),
        ("123456", "6 digits"),
        ("1234567890123456", "16 digits"),
        ("0912-abc-678", "contains letters"),
        ("1-800-FLOWERS", "contains letters"),
        ("call me", "contains letters"),
        ("0912-345-678 / 02-2345-6789", "more than one number"),
        ("0912345678, 0922345678", "more than one number"),
        ("0912345678 或 0922345678", "more than one number"),
        ("02*2345*6789", "not part of a phone number"),
        ("886+2345678", "'+' may only come first"),
        (-912345678, "negative"),
        (9.5, "not a phone number"),
        (True, "not a phone number"),
        (dt.date(2026, 1, 1), "not a phone number"),
    ],
)
def test_parse_phone_invalid(value, fragment) -> None:
    message = _problem(parse_phone, value)
    assert fragment in message
    assert "expected a phone number like" in message


# ---------------------------------------------------------------------------------------
# Enums


@pytest.mark.parametrize(
    ("value", "enum_cls", "expected"),
    [
        ("Lead", Stage, Stage.LEAD),
        ("lead", Stage, Stage.LEAD),
        ("  ＬＥＡＤ\u3000", Stage, Stage.LEAD),
        ("潛在", Stage, Stage.LEAD),
        ("確認需求", Stage, Stage.QUALIFIED),
        ("Closed Won", Stage, Stage.WON),
        ("closedwon", Stage, Stage.WON),
        ("已成交", Stage, Stage.WON),
        ("Contract", ActivityType, ActivityType.CONTRACT),
        ("e-mail", ActivityType, ActivityType.EMAIL),
        ("決策者", ContactRole, ContactRole.DECISION_MAKER),
        ("decision maker", ContactRole, ContactRole.DECISION_MAKER),
        ("Win-back", Lifecycle, Lifecycle.WIN_BACK),
    ],
)
def test_parse_enum_valid(value, enum_cls, expected) -> None:
    for opts in BOTH:
        assert parse_enum(value, enum_cls, opts) is expected


def test_parse_enum_problem_lists_english_and_chinese() -> None:
    assert _problem(parse_enum, "Closing", US, Stage) == (
        "'Closing' is not a stage (a word of your own for one can go in the Settings key synonyms.stage, like "
        "簽約中=Negotiation); expected one of Lead, Qualified, Proposal, Negotiation, Won, Lost (or 潛在, 確認需求, "
        "提案, 議約, 成交, 失敗)"
    )


@pytest.mark.parametrize(
    ("value", "enum_cls", "start"),
    [
        ("Lunch", ActivityType, "'Lunch' is not an activity type (a word of your own for one can go in the Settings"),
        ("Boss", ContactRole, "'Boss' is not a contact role; expected one of Decision Maker,"),
        (3, Stage, "3 is not a stage"),
        (True, Stage, "TRUE is not a stage"),
        ("", Stage, "the cell is blank"),
    ],
)
def test_parse_enum_invalid(value, enum_cls, start) -> None:
    assert _problem(parse_enum, value, US, enum_cls).startswith(start)


# ---------------------------------------------------------------------------------------
# parse_column

DTYPES = {
    ColumnType.TEXT: "object",
    ColumnType.ID: "object",
    ColumnType.REF: "object",
    ColumnType.DATE: "datetime64[ns]",
    ColumnType.DATETIME: "datetime64[ns]",
    ColumnType.MONEY: "float64",
    ColumnType.NUMBER: "float64",
    ColumnType.INTEGER: "Int64",
    ColumnType.BOOL: "boolean",
    ColumnType.ENUM: "object",
    ColumnType.EMAIL: "object",
    ColumnType.PHONE: "object",
}


def _column_for(ctype: ColumnType) -> Column:
    return _col(ctype, Stage if ctype is ColumnType.ENUM else None)


@pytest.mark.parametrize("ctype", list(ColumnType))
@pytest.mark.parametrize(
    "raw",
    [
        [],
        [None, "", "  "],
        ["2026/3/5", None, "junk value", 45991, True, "Lead", "\u3000"],
        [np.nan, 1.5, 12.0],
    ],
)
def test_parse_column_dtypes(ctype, raw) -> None:
    values = pd.Series(raw, dtype=object, index=[f"r{i}" for i in range(len(raw))], name="X")
    typed, problems = parse_column(values, _column_for(ctype), US)
    assert str(typed.dtype) == DTYPES[ctype]
    assert problems.dtype == object
    assert typed.index.equals(values.index) and problems.index.equals(values.index)
    for raw_value, value, problem in zip(raw, typed, problems, strict=True):
        if is_blank(raw_value):
            assert pd.isna(value) and problem is None
        elif problem is None:
            assert not pd.isna(value)
        else:
            assert pd.isna(value) and isinstance(problem, str) and problem


def test_parse_column_problem_alignment() -> None:
    values = pd.Series(
        ["2026/3/5", "2026/13/5", None, "115/3/5", "2026/13/5", "3/5"],
        index=[10, 3, 7, 7, 1, 0],
    )
    typed, problems = parse_column(values, _col(ColumnType.DATE), US)
    assert list(typed.index) == [10, 3, 7, 7, 1, 0]
    assert typed.iloc[0] == pd.Timestamp("2026-03-05")
    assert typed.iloc[3] == pd.Timestamp("2026-03-05")
    assert pd.isna(typed.iloc[1]) and pd.isna(typed.iloc[2]) and pd.isna(typed.iloc[4])
    assert problems.iloc[0] is None and problems.iloc[2] is None and problems.iloc[3] is None
    assert problems.iloc[1] == problems.iloc[4]
    assert problems.iloc[1].startswith("'2026/13/5' is not a date")
    assert "add the year" in problems.iloc[5]


def test_parse_column_date_is_midnight_and_datetime_keeps_time() -> None:
    values = pd.Series(["2026-03-05 14:30", 45991.75, DT(2026, 3, 5, 9, 1)], dtype=object)
    dates, _ = parse_column(values, _col(ColumnType.DATE), US)
    times, _ = parse_column(values, _col(ColumnType.DATETIME), US)
    assert (dates == dates.dt.normalize()).all()
    assert list(dates) == [pd.Timestamp("2026-03-05"), pd.Timestamp("2025-11-30"), pd.Timestamp("2026-03-05")]
    assert list(times) == [
        pd.Timestamp("2026-03-05 14:30"),
        pd.Timestamp("2025-11-30 18:00"),
        pd.Timestamp("2026-03-05 09:01"),
    ]


def test_parse_column_keeps_true_apart_from_one() -> None:
    values = pd.Series([1, True, 1.0, 0, False, "1"], dtype=object)
    typed, problems = parse_column(values, _col(ColumnType.MONEY), US)
    assert typed.tolist()[0] == 1.0 and typed.tolist()[2] == 1.0 and typed.tolist()[5] == 1.0
    assert math.isnan(typed.iloc[1]) and math.isnan(typed.iloc[4])
    assert problems.iloc[1].startswith("TRUE is a true/false value")
    assert problems.iloc[4].startswith("FALSE is a true/false value")
    assert problems.iloc[0] is None and problems.iloc[3] is None
    text, _ = parse_column(values, _col(ColumnType.TEXT), US)
    assert text.tolist() == ["1", "TRUE", "1", "0", "FALSE", "1"]


def test_parse_column_phone_and_enum_values() -> None:
    phones, problems = parse_column(pd.Series(["02-2345-6789", 912345678, "abc", None]), _col(ColumnType.PHONE), US)
    assert phones.tolist() == ["+886223456789", "+886912345678", None, None]
    assert problems.iloc[2].startswith("'abc' is not a phone number")
    stages, problems = parse_column(pd.Series(["潛在", "won", "Closing", ""]), _col(ColumnType.ENUM, Stage), US)
    assert stages.tolist() == [Stage.LEAD, Stage.WON, None, None]
    assert problems.tolist()[:2] == [None, None] and problems.iloc[3] is None
    assert problems.iloc[2].startswith("'Closing' is not a stage")


def test_parse_column_enum_without_enum_class_is_a_schema_bug() -> None:
    with pytest.raises(ValueError, match="without an enum class"):
        parse_column(pd.Series(["x"]), _col(ColumnType.ENUM), US)


def _same(a: pd.Series, b: pd.Series) -> None:
    pd.testing.assert_series_equal(a, b, check_names=False)


NUMERIC_SAMPLES = [
    45991.0,
    45991.75,
    np.nan,
    -3.0,
    0.0,
    1.0,
    1.5,
    2.0,
    2958465.0,
    2958466.0,
    20260305.0,
    1e300,
    float("inf"),
    -float("inf"),
    12.0,
    61.0,
    72687.0,
    110575.0,
]


@pytest.mark.parametrize("ctype", list(ColumnType))
@pytest.mark.parametrize("opts", BOTH)
def test_parse_column_fast_paths_agree_with_scalar_path(ctype, opts) -> None:
    column = _column_for(ctype)
    floats = pd.Series(NUMERIC_SAMPLES, dtype="float64")
    objects = pd.Series([None if isinstance(v, float) and math.isnan(v) else v for v in NUMERIC_SAMPLES], dtype=object)
    fast = parse_column(floats, column, opts)
    slow = parse_column(objects, column, opts)
    _same(fast[0], slow[0])
    _same(fast[1], slow[1])
    ints = [1, 0, 45991, -5, 2, 20260305, 912345678]
    fast = parse_column(pd.Series(ints, dtype="int64"), column, opts)
    slow = parse_column(pd.Series(ints, dtype=object), column, opts)
    _same(fast[0], slow[0])
    _same(fast[1], slow[1])
    masked = parse_column(pd.Series([1, None, 45991], dtype="Int64"), column, opts)
    slow = parse_column(pd.Series([1, None, 45991], dtype=object), column, opts)
    _same(masked[0], slow[0])
    _same(masked[1], slow[1])
    bools = [True, False, True]
    fast = parse_column(pd.Series(bools, dtype=bool), column, opts)
    slow = parse_column(pd.Series(bools, dtype=object), column, opts)
    _same(fast[0], slow[0])
    _same(fast[1], slow[1])


#: Text a person may type, clean and not: settled text skips the scalar parser, the rest
#: must still come out as the scalar parser says.
TEXT_SAMPLES = [
    "CO-0001",
    "王小明",
    " CO-0001",
    "CO-0001 ",
    "ＣＯ－０００１",
    "Cafe\u0301",
    "Café",
    "a\u200b",
    "\u3000台灣好物",
    "two\nlines",
    "tab\there",
    "bell\x07",
    "ﬁle",
    "",
    "  ",
    None,
    12.0,
    True,
]


@pytest.mark.parametrize("ctype", [ColumnType.TEXT, ColumnType.ID, ColumnType.REF])
def test_parse_column_text_agrees_with_scalar_parser(ctype) -> None:
    typed, problems = parse_column(pd.Series(TEXT_SAMPLES, dtype=object), _column_for(ctype), US)
    scalar = parse_text if ctype is ColumnType.TEXT else parse_id
    for value, got, problem in zip(TEXT_SAMPLES, typed, problems, strict=True):
        try:
            expected = scalar(value) or None
        except CellParseError:
            assert got is None and problem
        else:
            assert (got, problem) == (expected, None), value


@pytest.mark.parametrize("sample", [v for v in TEXT_SAMPLES if isinstance(v, str)])
@pytest.mark.parametrize("ctype", [ColumnType.TEXT, ColumnType.ID, ColumnType.REF])
def test_parse_column_clean_text_column_with_one_other_cell(ctype, sample) -> None:
    # A column of clean text is checked all at once; one cell that is not clean must send
    # the whole column through the scalar parser.
    values = ["CO-0002", "王小明", sample, None, "CO-0002"]
    typed, problems = parse_column(pd.Series(values, dtype=object), _column_for(ctype), US)
    scalar = parse_text if ctype is ColumnType.TEXT else parse_id
    for value, got, problem in zip(values, typed, problems, strict=True):
        try:
            expected = None if is_blank(value) else scalar(value) or None
        except CellParseError:
            assert got is None and problem
        else:
            assert (got, problem) == (expected, None), value


EMAIL_SAMPLES = ["b@example.com", "B@Example.com", " b@example.com", "b@example", "b@@example.com", "ｂ@example.com"]
PHONE_SAMPLES = ["0223456789", "0012345678", "091234", "09123456789012", "+886912345678", "0912-345-678", "０９１２"]


@pytest.mark.parametrize(
    ("ctype", "common", "sample"),
    [(ColumnType.EMAIL, "a.b+c@sub.example.tw", s) for s in [*EMAIL_SAMPLES, "", 12]]
    + [(ColumnType.PHONE, "0912345678", s) for s in [*PHONE_SAMPLES, "", 912345678]],
)
def test_parse_column_usual_emails_and_phones_with_one_other_cell(ctype, common, sample) -> None:
    values = [common, sample, None, common]
    typed, problems = parse_column(pd.Series(values, dtype=object), _column_for(ctype), US)
    scalar = parse_email if ctype is ColumnType.EMAIL else parse_phone
    for value, got, problem in zip(values, typed, problems, strict=True):
        if is_blank(value):
            assert (got, problem) == (None, None)
            continue
        try:
            expected = scalar(value)
        except CellParseError as exc:
            assert (got, problem) == (None, str(exc))
        else:
            assert (got, problem) == (expected, None), value


def test_blank_mask_agrees_with_is_blank() -> None:
    values = [
        None,
        float("nan"),
        pd.NaT,
        pd.NA,
        "",
        " \u3000",
        "\u200b",
        Decimal("NaN"),
        0,
        0.0,
        False,
        True,
        1,
        "0",
        "x",
    ]
    assert blank_mask(pd.Series(values, dtype=object)).tolist() == [is_blank(v) for v in values]
    # A column of clean text is settled at once; any other cell decides for itself.
    for value in values:
        column = ["x", "CO-1", value, None]
        assert blank_mask(np.array(column, dtype=object)).tolist() == [is_blank(v) for v in column]


def test_map_distinct_keeps_values_that_hash_alike_apart() -> None:
    values = pd.Series([1, 1.0, True, "1", None, "1"], dtype=object)
    assert map_distinct(values, repr, "-").tolist() == ["1", "1.0", "True", "'1'", "-", "'1'"]
    text = pd.Series(["a", None, "a", "b"], dtype=object)
    assert map_distinct(text, str.upper, "").tolist() == ["A", "", "A", "B"]


@pytest.mark.parametrize("ctype", [ColumnType.DATE, ColumnType.DATETIME, ColumnType.TEXT])
def test_parse_column_datetime_series_agree_with_scalar_path(ctype) -> None:
    stamps = [DT(2026, 3, 5, 14, 30), None, DT(1850, 1, 1), DT(2026, 3, 5), DT(2199, 1, 1, 1)]
    column = _col(ctype)
    objects = pd.Series(stamps, dtype=object)
    as_datetime64 = pd.Series(stamps, dtype="datetime64[us]")
    aware = as_datetime64.dt.tz_localize("Asia/Taipei")
    reference = parse_column(objects, column, US)
    for series in (as_datetime64, aware, pd.Series(stamps, dtype="datetime64[s]")):
        typed, problems = parse_column(series, column, US)
        _same(typed, reference[0])
        _same(problems, reference[1])
    if ctype is not ColumnType.TEXT:
        assert "year 1850" in reference[1].iloc[2]
        assert reference[0].iloc[3] == pd.Timestamp("2026-03-05")


def test_parse_column_serial_numbers_vectorised() -> None:
    serials = pd.Series([45991.0, 45991.6041666667, 2.0, 0.0, np.nan])
    dates, problems = parse_column(serials, _col(ColumnType.DATE), US)
    assert dates.tolist()[:3] == [pd.Timestamp("2025-11-30"), pd.Timestamp("2025-11-30"), pd.Timestamp("1900-01-01")]
    assert pd.isna(dates.iloc[3]) and "1 to 2958465" in problems.iloc[3]
    assert pd.isna(dates.iloc[4]) and problems.iloc[4] is None
    times, _ = parse_column(serials, _col(ColumnType.DATETIME), US)
    assert times.iloc[1] == pd.Timestamp("2025-11-30 14:30")


def test_parse_column_money_passes_numbers_through() -> None:
    values = pd.Series([1200.5, np.nan, -3.0, float("inf")], index=list("abcd"))
    typed, problems = parse_column(values, _col(ColumnType.MONEY), US)
    assert typed.dtype == "float64"
    assert typed.iloc[0] == 1200.5 and typed.iloc[2] == -3.0
    assert math.isnan(typed.iloc[1]) and math.isnan(typed.iloc[3])
    assert problems.tolist()[:3] == [None, None, None] and "not an amount" in problems.iloc[3]


def test_parse_column_integer_from_floats() -> None:
    typed, problems = parse_column(pd.Series([1.0, 1.5, np.nan, 3e20]), _col(ColumnType.INTEGER), US)
    assert typed.dtype == "Int64"
    assert typed.iloc[0] == 1 and pd.isna(typed.iloc[1]) and pd.isna(typed.iloc[2])
    assert "not a whole number" in problems.iloc[1] and "too large" in problems.iloc[3]


def test_parse_column_string_dtype_and_options() -> None:
    values = pd.Series(["1.200,50", "€3,5", None])  # pandas' own string dtype
    typed, problems = parse_column(values, _col(ColumnType.MONEY), EU)
    assert typed.tolist()[:2] == [1200.5, 3.5] and math.isnan(typed.iloc[2])
    assert problems.isna().all()
    typed, problems = parse_column(values, _col(ColumnType.MONEY), US)
    assert typed.isna().iloc[:2].all()
    assert "money.decimal_comma" in problems.iloc[0]


# ---------------------------------------------------------------------------------------
# Property: parse_column never raises; non-blank cells give a value or a problem

CELLS = st.one_of(
    st.text(),
    st.text(alphabet="0123456789/.-年月日民國: ,$NT萬()+@x#轉ＡＢ１２\u3000", max_size=20),
    st.floats(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.datetimes(),
    st.dates(),
    st.none(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=CELLS, ctype=st.sampled_from(list(ColumnType)), opts=st.builds(ParseOptions, st.booleans(), st.booleans()))
def test_parse_column_property(value, ctype, opts) -> None:
    values = pd.Series([value]) if value is not None else pd.Series([None], dtype=object)
    typed, problems = parse_column(values, _column_for(ctype), opts)
    assert len(typed) == len(problems) == 1
    assert str(typed.dtype) == DTYPES[ctype]
    result, problem = typed.iloc[0], problems.iloc[0]
    if is_blank(value):
        assert pd.isna(result) and problem is None
    elif problem is None:
        assert not pd.isna(result)
    else:
        assert isinstance(problem, str) and problem
        assert pd.isna(result)


@pytest.mark.parametrize(
    ("value", "serial"),
    [
        (dt.date(1899, 12, 30), 0),
        (dt.date(2026, 11, 30), 46356),
        (dt.datetime(2026, 11, 30, 18), 46356.75),
        # the wall-clock time counts, whatever the zone
        (dt.datetime(2026, 11, 30, 18, tzinfo=dt.timezone(dt.timedelta(hours=8))), 46356.75),
        (dt.time(6), 0.25),
        (dt.timedelta(days=1, hours=12), 1.5),
    ],
)
def test_to_serial(value: Any, serial: float) -> None:
    got = to_serial(value)
    assert got == serial
    assert type(got) is (int if type(value) is dt.date else float)


@pytest.mark.parametrize(("key", "ahead"), [("Expected Close", True), ("Next Step Due", True), ("Closed", False)])
def test_a_yearless_day_is_told_as_the_next_one_in_a_column_of_days_ahead(key: str, ahead: bool) -> None:
    from sheetcrm.schema import OPPORTUNITIES

    day = dt.date.today() - dt.timedelta(days=1)
    typed = f"{day.month}/{day.day}"  # yesterday: gone, so the next such day is a year on
    _, problems = parse_column(pd.Series([typed], dtype=object), OPPORTUNITIES.column(key))
    said = str(problems.iloc[0])
    if ahead:
        assert f"the next such day is {day.year + 1}/{day.month}/{day.day}" in said, said
    else:
        assert f"the latest such day was {day.year}/{day.month}/{day.day}" in said, said


@pytest.mark.parametrize(
    ("typed", "month_end"),
    [
        ("2027年2月", dt.date(2027, 2, 28)),
        ("民國116年2月", dt.date(2027, 2, 28)),
        ("116年12月份", dt.date(2027, 12, 31)),
        ("2028/2", dt.date(2028, 2, 29)),
        ("2027-04", dt.date(2027, 4, 30)),
    ],
)
@pytest.mark.parametrize("key", ["Expected Close", "Closed"])
def test_a_month_alone_is_its_last_day_in_a_column_of_days_ahead(typed: str, month_end: dt.date, key: str) -> None:
    from sheetcrm.schema import OPPORTUNITIES

    values, problems = parse_column(pd.Series([typed], dtype=object), OPPORTUNITIES.column(key))
    if OPPORTUNITIES.column(key).ahead:
        assert values.iloc[0] == pd.Timestamp(month_end) and pd.isna(problems.iloc[0])
    else:  # a deal closed on a day: the day is asked for
        assert "it is a month without a day" in str(problems.iloc[0]), problems.iloc[0]
