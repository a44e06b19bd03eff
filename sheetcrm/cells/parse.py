"""Cell parsers: raw cell values -> typed values, or a clear problem.

Raw values come from openpyxl (``str``, ``int``, ``float``, ``bool``, ``datetime.datetime``,
``datetime.date``, ``datetime.time``, ``None``) or from the Google Sheets API read with
``UNFORMATTED_VALUE`` + ``SERIAL_NUMBER`` (``str``, ``int``, ``float``, ``bool``; dates as
serial numbers, days since 1899-12-30, fractional for date-times). numpy scalars, pandas
``Timestamp``/``NaT``/``NA`` and ``Decimal`` are accepted too.

Each single-cell parser (``parse_date`` ...) takes one raw value and returns the typed value
or raises :class:`CellParseError`, whose text says what is wrong and what would have been
accepted. :func:`parse_column` parses a whole column (each distinct raw value once, numeric
and datetime columns vectorised) into the dtypes the rest of sheetcrm relies on, plus a
series of problem messages.

Text is NFKC-normalised (full-width digits, letters, ``／``, ``＠``, full-width space) and
stripped (whitespace, full-width space and zero-width characters) before it is read; TEXT
cells keep their characters (NFC only).

Decisions worth knowing:

* **Dates.** ``a/b/yyyy`` (any of ``/ . -`` as separator, so also ``05.03.2026`` and
  ``5-3-2026``) is month first unless ``day_first`` (Settings ``dates.day_first``); there
  is no guessing per cell: ``13/5/2026`` read month first is a problem whose message points
  at the setting. A first part of 2–3 digits, at most 200 and without a leading zero,
  followed by month and day is a Taiwan (ROC, 民國) year: ``115/3/5`` is 2026-03-05 (so
  ``26/3/5`` is 1937-03-05). ``民國``/``民国`` before any numeric form forces the ROC
  reading. Other two-digit years (``3/5/26``) are a problem asking for the full year. Years
  must be 1900–2200. ``20260305`` (text or an 8-digit whole number) is yyyymmdd. Numbers
  from 1 to 2958465 are spreadsheet serial numbers (0 = 1899-12-30, no 1900 leap-year bug,
  as Google Sheets counts); the time of day of a fractional serial is rounded to the
  millisecond. A time written after a date (``14:30``, ``2:30 PM``, ``下午2:30``, ISO
  ``T14:30:00``) is kept by DATETIME and dropped by DATE; a ``Z`` or ``+08:00`` suffix is
  ignored (the wall-clock time as written is kept), and so is the zone of a tz-aware
  datetime. English month names only (``Mar 5, 2026``, ``5 March 2026``, ``5-Mar-2026``).
* **Amounts.** Currency signs/codes/words (``NT$``, ``HK$``, ``US$``, ``$``, ``¥``, ``€``,
  ``£``, ``RMB``, ``TWD``, ``元``, ``新台幣`` ...) are dropped, not converted. Multipliers
  ``k``, ``百``, ``千``, ``萬``/``万``, ``十萬``, ``百萬``, ``千萬``, ``億``/``亿``. ``-500``,
  ``(500)`` and ``−500`` are negative. Spoken amounts: ``3萬5千``, ``1萬2`` (12000), Chinese
  numerals (``十萬``, ``兩百``, ``一千零五``); a rough amount is read as the amount (``約3萬``,
  ``大概 5千``, ``2萬左右``, ``~300``). ``decimal_comma`` (Settings ``money.decimal_comma``)
  swaps the roles of ``.`` and ``,`` for MONEY, NUMBER and INTEGER alike; a space or an
  apostrophe may separate thousands in either mode. Thousands separators must sit between
  groups of three digits; a value that only makes sense in the other mode (``1.200,50``
  without decimal comma, ``12.50`` with it) is a problem naming the setting. NUMBER (not
  MONEY) reads ``25%`` as 0.25, as a spreadsheet does.
* **Booleans.** true/false, t/f, yes/no, y/n, on/off, 1/0, 是/否, 對/錯, 真/假, v/x (the
  Taiwanese tick and cross: ``x`` is *no*), ✓ ✔ ☑ ✅ ○ / ✗ ✘ × ☐ ❌; and bool or 0/1 cells.
* **Phones.** Normalised for dedupe: ``+`` and digits. A local number starting with one
  ``0`` is taken as Taiwan's (``02-2345-6789`` -> ``+886223456789``); ``+886 0...`` and
  ``+44 (0)...`` lose the trunk ``0``; other numbers without ``+`` keep their digits as
  they are. A bare 9-digit number starting with 9 (an int cell, or text of only digits) is
  a Taiwan mobile whose leading zero the spreadsheet dropped (``912345678`` ->
  ``+886912345678``). An extension (``#123``, ``ext 123``, ``x123``, ``轉123``, ``分機123``)
  is kept after an ``x``: ``+886223456789x123``; compare the part before the ``x`` to
  match people whatever their extension. 7–15 digits, extension excluded.
* **IDs** (ID and REF columns): NFKC, stripped, one line; ``12.0`` -> ``"12"``. A date or
  true/false cell is a problem (the spreadsheet probably turned a typed ID like ``1-2``
  into a date).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as _dt
import functools
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from sheetcrm.cells.serial import MAX_SERIAL, SERIAL_EPOCH
from sheetcrm.schema import Column, ColumnType, LabeledEnum, normalize_label

if TYPE_CHECKING:
    from sheetcrm.settings import Settings

__all__ = [
    "CellParseError",
    "ParseOptions",
    "blank_mask",
    "exact_money",
    "exact_sum",
    "from_minor",
    "is_blank",
    "map_distinct",
    "minor_floor",
    "minor_to_decimal",
    "money_decimals",
    "parse_bool",
    "parse_column",
    "parse_date",
    "parse_datetime",
    "parse_email",
    "parse_enum",
    "parse_id",
    "parse_integer",
    "parse_money",
    "parse_number",
    "parse_phone",
    "parse_text",
    "to_minor",
]


@dataclass(frozen=True)
class ParseOptions:
    """How ambiguous cells are read.

    ``day_first``: ``3/5/2026`` (and ``05.03.2026``, ``5-3-2026``) is 3 May when True,
    March 5 when False. ``decimal_comma``: ``1.200,50`` is 1200.5 when True (``,`` is the
    decimal point and ``.`` separates thousands, for amounts and numbers alike).
    """

    day_first: bool = False
    decimal_comma: bool = False
    #: Extra words for vocabulary cells, (enum class name, word, member value), from the
    #: Settings tab's synonyms.* keys.
    synonyms: tuple[tuple[str, str, str], ...] = ()
    #: The column holds days to come (:attr:`~sheetcrm.schema.Column.ahead`): a date
    #: written without its year is told as the next such day, not the last one.
    ahead: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> ParseOptions:
        """The options the Settings tab asks for (``dates.day_first``, ``money.decimal_comma``,
        ``synonyms.*``)."""
        return cls(day_first=settings.day_first, decimal_comma=settings.decimal_comma, synonyms=settings.synonyms)


_DEFAULT_OPTS = ParseOptions()


class CellParseError(ValueError):
    """Raised by a single-cell parser; .expected says what would have been accepted.

    ``message`` says what is wrong (it starts with the cell value as shown to people);
    ``str(error)`` is ``"<message>; expected <expected>"``, the text :func:`parse_column`
    puts in its problems series.
    """

    def __init__(self, message: str, expected: str) -> None:
        self.message = message
        self.expected = expected
        super().__init__(f"{message}; expected {expected}" if expected else message)


# ---------------------------------------------------------------------------------------
# Shared helpers

#: Characters stripped from both ends of every text cell: all Unicode whitespace (the
#: full-width space included) plus zero-width characters that survive copy-paste.
_STRIP_CHARS = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + ("\u200b\u200c\u200d\u2060\ufeff\u180e")
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

MIN_YEAR = 1900
MAX_YEAR = 2200
_UNIX_ORDINAL = _dt.date(1970, 1, 1).toordinal()
_NS_PER_DAY = 86_400 * 10**9
_MS_PER_DAY = 86_400_000
_NAT_I8 = np.iinfo(np.int64).min
_INT64_LIMIT = 2**63


def _strip(text: str) -> str:
    return text.strip(_STRIP_CHARS)


def _nfkc(text: str) -> str:
    """NFKC-normalised and stripped."""
    return _strip(unicodedata.normalize("NFKC", text))


def _coerce(value: Any) -> Any:
    """numpy scalars -> Python scalars, Decimal -> int/float, NaT/NA/NaN-like -> None."""
    kind = type(value)
    if kind is str or kind is float or kind is int or kind is bool:
        return value
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64):
            if np.isnat(value):
                return None
            try:
                return pd.Timestamp(value)
            except (ValueError, OverflowError):
                return value
        if isinstance(value, np.timedelta64):
            return value
        return value.item()
    if isinstance(value, Decimal):
        if not value.is_finite():
            return float("nan") if value.is_nan() else float(value)
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    return value


def is_blank(value: Any) -> bool:
    """True for a cell that holds nothing: None, NaN, NaT, pd.NA, ``""`` and text of only
    whitespace (the full-width space ``\\u3000`` included) or zero-width characters.

    Anything else (0, False, a date, ``"-"``) is not blank.
    """
    # No character that is not whitespace becomes whitespace under NFKC (checked over all
    # of Unicode 14), so stripping the raw text decides.
    if type(value) is str:
        return not _strip(value)
    v = _coerce(value)
    if v is None:
        return True
    if isinstance(v, str):
        return not _strip(v)
    if isinstance(v, float):
        return math.isnan(v)
    return False


def blank_mask(values: Any) -> np.ndarray:
    """:func:`is_blank` of every cell of ``values`` (a Series or 1-d array), as a bool
    array; each distinct value is checked once."""
    arr = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
    if not len(arr):
        return np.zeros(0, dtype=bool)
    texts = _texts_or_none(arr)
    if texts is not None and _all_settled(texts[1], None):
        return texts[0]
    codes, uniques = pd.factorize(arr)
    # The extra True at the end is what code -1 (None, NaN, NaT, NA) picks.
    lookup = np.fromiter((is_blank(u) for u in uniques), dtype=bool, count=len(uniques))
    return np.append(lookup, True)[codes]


def map_distinct(values: Any, fn: Callable[[Any], Any], missing: Any = None) -> np.ndarray:
    """``fn`` of every cell of ``values`` (a Series or 1-d array) as an object array;
    missing cells (None, NaN, NaT, NA) give ``missing``. When the cells are all text,
    ``fn`` is called once per distinct value (otherwise 1 and 1.0, or True and 1, which
    hash alike, would share one answer)."""
    arr = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else np.asarray(values, dtype=object)
    out = np.empty(len(arr), dtype=object)
    if infer_dtype(arr, skipna=True) in ("string", "empty"):
        codes, distinct = pd.factorize(arr)
        mapped = np.empty(len(distinct) + 1, dtype=object)
        mapped[:-1] = [fn(v) for v in distinct]
        mapped[-1] = missing
        out[:] = mapped[codes]
        return out
    na = pd.isna(arr)
    out[na] = missing
    out[~na] = [fn(v) for v in arr[~na]]
    return out


def _blank_error(expected: str) -> CellParseError:
    return CellParseError("the cell is blank", expected)


def _render_float(v: float) -> str:
    if v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(v)


def _render_int(v: int) -> str:
    try:
        return str(v)
    except ValueError:  # more digits than Python will print
        return f"a {v.bit_length()}-bit number"


def _render_datetime(v: _dt.datetime) -> str:
    if (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0):
        return v.date().isoformat()
    spec = "seconds" if v.microsecond == 0 else "microseconds"
    return v.replace(tzinfo=None).isoformat(sep=" ", timespec=spec)


def _render(v: Any) -> str:
    """A non-string cell value as the text a person would see in the cell."""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return _render_int(v)
    if isinstance(v, float):
        return _render_float(v)
    if isinstance(v, _dt.datetime):
        return _render_datetime(v)
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, _dt.time):
        return v.isoformat(timespec="seconds" if v.microsecond == 0 else "microseconds")
    return str(v)


def _show(value: Any) -> str:
    """The cell value as quoted in a problem message: text in quotes, numbers bare."""
    v = _coerce(value)
    if isinstance(v, str):
        s = _strip(v)
        if len(s) > 60:
            s = s[:57] + "…"
        return repr(s)
    text = _render(v)
    return text if len(text) <= 60 else text[:57] + "…"


_LINE_BREAK_RE = re.compile("[" + "".join(sorted(_LINE_BREAKS)) + "]")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


# ---------------------------------------------------------------------------------------
# Text and IDs

EXPECTED_ID = "an ID on a single line, like CO-0001 or 12"


def parse_text(value: Any, opts: ParseOptions | None = None) -> str:
    """Any cell -> its text: NFC-normalised and stripped (full-width characters are kept).

    Numbers are rendered as people see them without trailing ``.0`` (``12.0`` -> ``"12"``),
    booleans as ``TRUE``/``FALSE``, dates as ISO (``2026-03-05``, ``2026-03-05 14:30:00``).
    A blank cell gives ``""``. Never raises for ordinary cell values.
    """
    v = _coerce(value)
    if is_blank(v):
        return ""
    if isinstance(v, str):
        return _strip(unicodedata.normalize("NFC", v))
    return _strip(unicodedata.normalize("NFC", _render(v)))


def parse_id(value: Any, opts: ParseOptions | None = None) -> str:
    """An ID or reference cell -> the ID string: NFKC-normalised and stripped
    (``"ＣＯ－０００１ "`` -> ``"CO-0001"``, ``12.0`` -> ``"12"``). A blank cell gives ``""``.

    Raises :class:`CellParseError` for text with line breaks or control characters, for
    true/false cells and for date cells (an ID the spreadsheet turned into a date).
    """
    v = _coerce(value)
    if is_blank(v):
        return ""
    if isinstance(v, bool):
        raise CellParseError(f"{_show(v)} is a true/false value, not an ID", EXPECTED_ID)
    if isinstance(v, (_dt.date, _dt.time)):
        raise CellParseError(
            f"{_show(v)} is a date, not an ID (the spreadsheet may have turned a typed ID into "
            "a date: format the column as plain text and type the ID again)",
            EXPECTED_ID,
        )
    if isinstance(v, float) and not math.isfinite(v):
        raise CellParseError(f"{_show(v)} is not an ID", EXPECTED_ID)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if not isinstance(v, str):
        return _nfkc(_render(v))
    s = _nfkc(v)
    if _LINE_BREAK_RE.search(s):
        raise CellParseError(f"{_show(v)} spans more than one line; an ID is one line", EXPECTED_ID)
    if _CONTROL_RE.search(s):
        raise CellParseError(f"{_show(v)} contains control characters", EXPECTED_ID)
    return s


# ---------------------------------------------------------------------------------------
# Dates

EXPECTED_DATE = "a date like 2026-03-05, 2026/3/5, 2026年3月5日, 民國115年3月5日 or 115/3/5"
EXPECTED_DATETIME = (
    "a date and time like 2026-03-05 14:30, 2026/3/5 下午2:30 or 2026-03-05T14:30:00 "
    "(or a date like 2026-03-05, 2026/3/5, 2026年3月5日 or 115/3/5)"
)

_MONTHS: dict[str, int] = {}
for _i, _name in enumerate(calendar.month_name):
    if _i:
        _MONTHS[_name.lower()] = _i
        _MONTHS[_name.lower()[:3]] = _i
_MONTHS["sept"] = 9

_AMPM = r"am|pm|a\.m\.|p\.m\.|上午|下午|早上|晚上|中午"
_TIME = (
    rf"(?P<ap1>{_AMPM})?\s*(?P<h>\d{{1,2}}):(?P<mi>\d{{2}})"
    r"(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?"
    rf"\s*(?P<ap2>{_AMPM})?\s*(?P<tz>z|utc|gmt|[+-]\d{{2}}(?::?\d{{2}})?)?"
)
_DATE_TIME_RE = re.compile(rf"^(?P<date>.+?)(?:(?:t|,?\s+|(?<=[日號号])|(?={_AMPM}))(?P<time>{_TIME}))?$", re.ASCII)
#: A weekday in brackets, as people add it after a date: 2026/3/5(四), 2026/3/5 (週四), 3/5/2026 (Thu).
_BRACKET_WEEKDAY_RE = re.compile(
    r"\s*\(\s*(?:(?:週|周|星期|禮拜|礼拜)?[一二三四五六日天]|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?)\s*\)"
)
_WEEKDAY_RE = re.compile(r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s*(?=[a-z\d])", re.ASCII)
_ROC = r"(?P<roc>(?:中華)?民[國国])?\s*"
_YMD8_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$", re.ASCII)
_CJK_RE = re.compile(_ROC + r"(?P<y>\d{1,4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日號号]?$", re.ASCII)
_CJK_MONTH_RE = re.compile(_ROC + r"(?P<y>\d{1,4})\s*年\s*(?P<m>\d{1,2})\s*月\s*[份底]?$", re.ASCII)
_CJK_NO_YEAR_RE = re.compile(r"^(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日號号]?$", re.ASCII)
_NUM3_RE = re.compile(
    _ROC + r"(?P<a>\d{1,4})\s*(?P<sep>[/.\-])\s*(?P<b>\d{1,2})\s*(?P=sep)\s*(?P<c>\d{1,4})\.?$",
    re.ASCII,
)
_NUM2_RE = re.compile(_ROC + r"(?P<a>\d{1,4})\s*[/.\-]\s*(?P<b>\d{1,2})$", re.ASCII)
_MON_FIRST_RE = re.compile(
    r"^(?P<mon>[a-z]{3,9})\.?[\s\-/]*(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*[,\-/]?\s*(?P<y>\d{2,4})$",
    re.ASCII,
)
_DAY_FIRST_RE = re.compile(
    r"^(?P<d>\d{1,2})(?:st|nd|rd|th)?\.?[\s\-/]*(?P<mon>[a-z]{3,9})\.?\s*[,\-/]?\s*(?P<y>\d{2,4})$",
    re.ASCII,
)
_YEAR_MON_RE = re.compile(r"^(?P<y>\d{4})[\s\-/]*(?P<mon>[a-z]{3,9})\.?[\s\-/]*(?P<d>\d{1,2})$", re.ASCII)


def _month_day(m: re.Match[str], opts: ParseOptions) -> tuple[int, int]:
    a, b = int(m["a"]), int(m["b"])
    return (b, a) if opts.day_first else (a, b)


def _date_error(shown: str, detail: str, expected: str) -> CellParseError:
    return CellParseError(f"{shown} is not a date{detail}", expected)


def _make_date(y: int, m: int, d: int, shown: str, expected: str, hint: str = "") -> _dt.date:
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise _date_error(shown, f" (year {y} is outside {MIN_YEAR}–{MAX_YEAR})", expected)
    if not 1 <= m <= 12:
        raise _date_error(shown, f" (there is no month {m}{hint})", expected)
    last = calendar.monthrange(y, m)[1]
    if not 1 <= d <= last:
        name = calendar.month_name[m]
        raise _date_error(shown, f" ({name} {y} has no day {d}{hint})", expected)
    return _dt.date(y, m, d)


def _order_hint(opts: ParseOptions, first: int, second: int) -> str:
    """Why an a/b/yyyy date failed, when reading it the other way round would work."""
    if first > 12 >= second and not opts.day_first:
        return (
            "; it is read month first: if your dates are day first "
            f"({first}/{second} = {second} {calendar.month_abbr[second]}), set dates.day_first "
            "to true in Settings"
        )
    if second > 12 >= first and opts.day_first:
        return (
            "; it is read day first because dates.day_first is true in Settings: set it to "
            "false if your dates are month first"
        )
    return ""


def _parse_time(m: re.Match[str], shown: str, expected: str) -> _dt.time:
    h, mi = int(m["h"]), int(m["mi"])
    s = int(m["s"]) if m["s"] else 0
    us = int((m["frac"] or "0")[:6].ljust(6, "0"))
    ap1, ap2 = m["ap1"], m["ap2"]
    if ap1 and ap2:
        raise _date_error(shown, " (it says AM/PM twice)", expected)
    ap = ap1 or ap2
    if ap:
        if not 1 <= h <= 12 and not (h == 0 and ap in ("am", "a.m.", "上午", "早上")):
            raise _date_error(shown, f" (there is no {h} o'clock with AM/PM)", expected)
        pm = ap in ("pm", "p.m.", "下午", "晚上") or (ap == "中午" and h != 12)
        h = h % 12 + (12 if pm else 0)
    if h > 23 or mi > 59 or s > 59:
        raise _date_error(shown, f" (there is no time {m['h']}:{m['mi']})", expected)
    return _dt.time(h, mi, s, us)


def _parse_date_text(text: str, opts: ParseOptions, shown: str, expected: str) -> _dt.datetime:
    s = re.sub(r"\s+", " ", _nfkc(text).lower())
    s = _WEEKDAY_RE.sub("", s)
    s = _BRACKET_WEEKDAY_RE.sub("", s).strip()
    whole = _DATE_TIME_RE.match(s)
    if whole is None:  # pragma: no cover - the pattern matches any non-empty text
        raise _date_error(shown, "", expected)
    part = whole["date"].strip()
    time = _parse_time(whole, shown, expected) if whole["time"] else _dt.time()
    day = _parse_date_part(part, opts, shown, expected)
    return _dt.datetime.combine(day, time)


def _roc_year(text: str, shown: str, expected: str) -> int:
    n = int(text)
    if n < 1:
        raise _date_error(shown, " (there is no ROC year 0)", expected)
    return n + 1911


def _is_roc_first(a: str) -> bool:
    return len(a) in (2, 3) and a[0] != "0" and int(a) <= 200


def _parse_date_part(s: str, opts: ParseOptions, shown: str, expected: str) -> _dt.date:
    if m := _YMD8_RE.match(s):
        return _make_date(int(m[1]), int(m[2]), int(m[3]), shown, expected)
    if m := _NUM3_RE.match(s):
        a, b, c = m["a"], m["b"], m["c"]
        if m["roc"] and len(c) <= 2:
            return _make_date(_roc_year(a, shown, expected), int(b), int(c), shown, expected)
        if m["roc"]:
            raise _date_error(shown, " (write the ROC year first, like 民國115/3/5)", expected)
        if len(a) == 4 and len(c) <= 2:
            return _make_date(int(a), int(b), int(c), shown, expected)
        if len(a) <= 2 and len(c) == 4:
            first, second = int(a), int(b)
            month, day = (second, first) if opts.day_first else (first, second)
            hint = _order_hint(opts, first, second)
            return _make_date(int(c), month, day, shown, expected, hint)
        if _is_roc_first(a) and len(c) <= 2:
            return _make_date(int(a) + 1911, int(b), int(c), shown, expected)
        raise _date_error(
            shown,
            " (write the year in full, like 2026/3/5 or 3/5/2026, or an ROC year first, like 115/3/5)",
            expected,
        )
    if m := _CJK_RE.match(s):
        if (year := _cjk_year(m, shown, expected)) is None:
            raise _date_error(shown, " (write the year in full, like 2026年3月5日)", expected)
        return _make_date(year, int(m["m"]), int(m["d"]), shown, expected)
    for pattern in (_MON_FIRST_RE, _DAY_FIRST_RE, _YEAR_MON_RE):
        if m := pattern.match(s):
            if m["mon"] not in _MONTHS:
                raise _date_error(shown, f" (unknown month {m['mon']!r})", expected)
            if len(m["y"]) != 4:
                raise _date_error(shown, " (write the year in full, like Mar 5, 2026)", expected)
            return _make_date(int(m["y"]), _MONTHS[m["mon"]], int(m["d"]), shown, expected)
    if (year_month := _year_month(s, shown, expected)) is not None:
        # A month alone is how a close is often foreseen ("2027年2月"): in a column of days
        # ahead it stands for the month's last day; anywhere else the day is missing.
        if opts.ahead:
            return _make_date(*year_month, calendar.monthrange(*year_month)[1], shown, expected)
        raise _date_error(shown, " (it is a month without a day; add the day, like 2026年3月5日)", expected)
    if (m := _NUM2_RE.match(s)) and not m["roc"] and len(m["a"]) == 4:
        raise _date_error(shown, " (it has no day; add the day, like 2026/3/5)", expected)
    md = _CJK_NO_YEAR_RE.match(s)
    short = m if m is not None and not m["roc"] and len(m["a"]) <= 2 else None
    if md is not None or short is not None:
        if md is not None:
            month, day = int(md["m"]), int(md["d"])
        else:
            assert short is not None
            month, day = _month_day(short, opts)
        today = _dt.date.today()
        year = today.year
        try:
            # What was typed is most likely past (a day still to come this year was last
            # year's), or in a column of days ahead, to come (a day gone is next year's).
            if opts.ahead and _dt.date(year, month, day) < today:
                year += 1
            elif not opts.ahead and _dt.date(year, month, day) > today:
                year -= 1
        except ValueError:
            pass
        which = "next such day is" if opts.ahead else "latest such day was"
        raise _date_error(
            shown,
            f" (it has no year, so it is left out; add the year: the {which} {year}/{month}/{day})",
            expected,
        )
    if m:
        raise _date_error(shown, " (it has no year; add the year, like 2026/3/5)", expected)
    raise _date_error(shown, "", expected)


def _cjk_year(m: re.Match[str], shown: str, expected: str) -> int | None:
    """The year of a date written 年月(日): an ROC year (民國115, 115) or one in full
    (2026); None for a short one (26年)."""
    y = m["y"]
    if m["roc"] or _is_roc_first(y):
        return _roc_year(y, shown, expected)
    return int(y) if len(y) == 4 else None


def _year_month(s: str, shown: str, expected: str) -> tuple[int, int] | None:
    """(year, month) of a month written without a day: 2027年2月, 民國116年2月, 2027/2,
    2027-02; None for anything else (3/5 is a day without a year)."""
    if m := _CJK_MONTH_RE.match(s):
        if (cjk_year := _cjk_year(m, shown, expected)) is None:
            return None
        year, month = cjk_year, int(m["m"])
    elif (m := _NUM2_RE.match(s)) and (m["roc"] or len(m["a"]) == 4):
        year = _roc_year(m["a"], shown, expected) if m["roc"] else int(m["a"])
        month = int(m["b"])
    else:
        return None
    return (year, month) if 1 <= month <= 12 else None


def _check_year(v: _dt.date, shown: str, expected: str) -> None:
    if not MIN_YEAR <= v.year <= MAX_YEAR:
        raise _date_error(shown, f" (year {v.year} is outside {MIN_YEAR}–{MAX_YEAR})", expected)


def _serial_to_datetime(v: float, shown: str, expected: str) -> _dt.datetime:
    if not math.isfinite(v):
        raise _date_error(shown, "", expected)
    if v < 0:
        raise _date_error(shown, " (it is a negative number)", expected)
    if isinstance(v, int) and 19000101 <= v <= 22001231:  # typed 20260305, stored as a number
        return _dt.datetime.combine(_parse_date_part(str(v), _DEFAULT_OPTS, shown, expected), _dt.time())
    if v < 1 or v > MAX_SERIAL:
        raise _date_error(shown, f" (spreadsheet date numbers run from 1 to {MAX_SERIAL})", expected)
    result = SERIAL_EPOCH + _dt.timedelta(milliseconds=round(v * _MS_PER_DAY))
    _check_year(result, shown, expected)
    return result


def _to_datetime(value: Any, opts: ParseOptions, expected: str) -> _dt.datetime:
    v = _coerce(value)
    if is_blank(v):
        raise _blank_error(expected)
    shown = _show(v)
    if isinstance(v, bool):
        raise CellParseError(f"{shown} is a true/false value, not a date", expected)
    if isinstance(v, _dt.datetime):
        _check_year(v, shown, expected)
        return v.replace(tzinfo=None)
    if isinstance(v, _dt.date):
        _check_year(v, shown, expected)
        return _dt.datetime(v.year, v.month, v.day)
    if isinstance(v, _dt.time):
        raise CellParseError(f"{shown} is a time of day without a date", expected)
    if isinstance(v, float) and v.is_integer() and 19000101 <= v <= 22001231:
        v = int(v)
    if isinstance(v, (int, float)):
        return _serial_to_datetime(v, shown, expected)
    if isinstance(v, str):
        return _parse_date_text(v, opts, shown, expected)
    raise _date_error(shown, "", expected)


def parse_date(value: Any, opts: ParseOptions = _DEFAULT_OPTS) -> _dt.date:
    """A date cell -> ``datetime.date``.

    Accepts ``datetime``/``date``/``pandas.Timestamp`` cells (the time is dropped),
    spreadsheet serial numbers (1 to 2958465; 45991 -> 2025-11-30), yyyymmdd numbers and
    text such as ``2026/3/5``, ``2026-03-05``, ``2026.3.5``, ``2026年3月5日``,
    ``民國115年3月5日``, ``民國115/3/5``, ``115/3/5``, ``3/5/2026`` (month first unless
    ``opts.day_first``), ``05.03.2026``, ``20260305``, ``2026-03-05T14:30:00``,
    ``Mar 5, 2026``, ``5 Mar 2026``. Raises :class:`CellParseError` otherwise, and for
    blank cells, years outside 1900–2200, impossible days and dates without a year.
    """
    return _to_datetime(value, opts, EXPECTED_DATE).date()


def parse_datetime(value: Any, opts: ParseOptions = _DEFAULT_OPTS) -> _dt.datetime:
    """A date-time cell -> naive ``datetime.datetime``.

    Accepts everything :func:`parse_date` does (a date alone is midnight), plus a time after
    the date: ``2026-03-05 14:30``, ``2026-03-05T14:30:00.5``, ``3/5/2026 2:30 PM``,
    ``2026/3/5 下午2:30``, and fractional serial numbers (rounded to the millisecond).
    Time zones are dropped, keeping the wall-clock time. Raises :class:`CellParseError`.
    """
    return _to_datetime(value, opts, EXPECTED_DATETIME)


# ---------------------------------------------------------------------------------------
# Amounts and numbers


@dataclass(frozen=True)
class _NumberKind:
    noun: str
    currency: bool
    percent: bool


_MONEY = _NumberKind("an amount", currency=True, percent=False)
_NUMBER = _NumberKind("a number", currency=False, percent=True)
_INTEGER = _NumberKind("a whole number", currency=False, percent=True)

_CURRENCY_WORDS = (
    "nt$",
    "ntd",
    "nt",
    "twd",
    "hk$",
    "hkd",
    "us$",
    "usd",
    "rmb",
    "cny",
    "cn¥",
    "¥",
    "$",
    "€",
    "eur",
    "£",
    "gbp",
    "jpy",
    "sgd",
    "s$",
    "mop$",
    "mop",
    "a$",
    "aud",
    "c$",
    "cad",
    "新台幣",
    "新臺幣",
    "台幣",
    "臺幣",
    "港幣",
    "港币",
    "港元",
    "人民幣",
    "人民币",
    "美金",
    "美元",
    "歐元",
    "欧元",
    "日圓",
    "日元",
    "英鎊",
    "新幣",
)
#: The currency each unambiguous sign, code or word names ("$", "¥" and 元 name none).
_CURRENCY_CODES = {
    **dict.fromkeys(("nt$", "ntd", "nt", "twd", "新台幣", "新臺幣", "台幣", "臺幣"), "TWD"),
    **dict.fromkeys(("hk$", "hkd", "港幣", "港币", "港元"), "HKD"),
    **dict.fromkeys(("us$", "usd", "美金", "美元"), "USD"),
    **dict.fromkeys(("rmb", "cny", "cn¥", "人民幣", "人民币"), "CNY"),
    **dict.fromkeys(("€", "eur", "歐元", "欧元"), "EUR"),
    **dict.fromkeys(("£", "gbp", "英鎊"), "GBP"),
    **dict.fromkeys(("jpy", "日圓", "日元"), "JPY"),
    **dict.fromkeys(("sgd", "s$", "新幣"), "SGD"),
    **dict.fromkeys(("mop$", "mop"), "MOP"),
    **dict.fromkeys(("a$", "aud"), "AUD"),
    **dict.fromkeys(("c$", "cad"), "CAD"),
}
_CURRENCY_ALT = "|".join(re.escape(w) for w in sorted(_CURRENCY_WORDS, key=len, reverse=True))
_PREFIX_RE = re.compile(rf"^(?:{_CURRENCY_ALT})\s*", re.ASCII)
_SUFFIX_RE = re.compile(rf"\s*(?:{_CURRENCY_ALT}|元整|元|圓|块|塊|整)$", re.ASCII)


def named_currency(value: Any) -> str | None:
    """The currency code an amount typed as text names by its sign, code or word
    (``US$ 1,000`` -> USD, ``3萬港幣`` -> HKD); None for a number, no currency, or one
    that could be several (``$``, ``¥``)."""
    if not isinstance(value, str):
        return None
    s = _nfkc(value).strip().lower()
    s = s.lstrip("-+( ")
    found = _PREFIX_RE.match(s) or _SUFFIX_RE.search(s.rstrip(") "))
    return _CURRENCY_CODES.get(found.group(0).strip()) if found else None


_MULTIPLIERS = {
    "k": 1000,
    "百": 100,
    "千": 1000,
    "萬": 10_000,
    "万": 10_000,
    "十萬": 100_000,
    "十万": 100_000,
    "百萬": 1_000_000,
    "百万": 1_000_000,
    "千萬": 10_000_000,
    "千万": 10_000_000,
    "億": 100_000_000,
    "亿": 100_000_000,
}
_MULT_RE = re.compile(r"(?<=\d)\s*(" + "|".join(sorted(_MULTIPLIERS, key=len, reverse=True)) + r")$", re.ASCII)
_DOT_CORE = re.compile(
    r"(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|\.\d+|\d{1,3}(?P<g>[, '])\d{3}(?:(?P=g)\d{3})*(?:\.\d+)?)",
    re.ASCII,
)
_COMMA_CORE = re.compile(r"(?:\d+(?:,\d+)?|,\d+|\d{1,3}(?P<g>[. '])\d{3}(?:(?P=g)\d{3})*(?:,\d+)?)", re.ASCII)


_UNITS = {"萬": 10_000, "万": 10_000, "千": 1000, "百": 100}
_COMPOUND_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([萬万千])\s*(\d+)\s*([千百])?$")


def _cjk_compound(s: str) -> Decimal | None:
    """``1萬2`` (12000), ``3萬5千`` (35000), ``1萬2500``, ``3千5`` (3500): a number with a unit
    followed by the rest. A single trailing digit without a unit counts in the next unit
    down, as people say it (1萬2 is 12 thousand)."""
    m = _COMPOUND_RE.match(s)
    if m is None:
        return None
    high = Decimal(m[1]) * _UNITS[m[2]]
    rest = Decimal(m[3])
    if m[4]:
        rest *= _UNITS[m[4]]
    elif len(m[3]) == 1:
        rest *= _UNITS[m[2]] // 10
    if rest >= _UNITS[m[2]]:
        return None
    return high + rest


_CJK_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "兩": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CJK_SMALL = {"十": 10, "百": 100, "千": 1000}
_CJK_BIG = {"萬": 10_000, "万": 10_000, "億": 100_000_000, "亿": 100_000_000}
_CJK_NUMERAL_RE = re.compile("[" + "".join([*_CJK_DIGITS, *_CJK_SMALL, *_CJK_BIG]) + "]+")
#: Words around an amount that only say it is rough: 約3萬, 大概 5千, 2萬左右, ~300, about 30k.
_ROUGHLY_RE = re.compile(r"^(?:大約|大概|約|约|~|about\s|around\s|approx\.?\s*|ca\.\s*)\s*|\s*左右$")


def _cjk_numeral(s: str) -> Decimal | None:
    """A number in Chinese numerals: ``十萬`` (100000), ``三萬五千`` (35000), ``兩百`` (200),
    ``一千零五`` (1005), ``一億二千萬``, and the spoken short forms where a last digit right
    after a unit counts in the next unit down: ``三萬五`` (35000), ``三千五`` (3500),
    ``兩百五`` (250). None for two digits in a row (三五)."""
    total, section, digit = 0, 0, None
    last_big = None
    last_unit, zero = 0, False
    for ch in s:
        if ch in _CJK_DIGITS:
            if digit:
                return None
            digit = _CJK_DIGITS[ch]
            zero = zero or digit == 0
        elif ch in _CJK_SMALL:
            section += (1 if digit is None else digit) * _CJK_SMALL[ch]  # 十 alone is ten
            digit, last_unit, zero = None, _CJK_SMALL[ch], False
        else:
            unit, part = _CJK_BIG[ch], section + (digit or 0)
            # 一萬億: a larger unit after a smaller one multiplies all before it
            total = (total + part) * unit if last_big is not None and unit > last_big else total + (part or 1) * unit
            last_big, section, digit = unit, 0, None
            last_unit, zero = unit, False
    if digit and last_unit and not zero:
        digit *= last_unit // 10  # 三萬五: five thousand; after 零 (一千零五) a digit is itself
    return Decimal(total + section + (digit or 0))


def _expected_number(kind: _NumberKind, opts: ParseOptions) -> str:
    if kind is _MONEY:
        if opts.decimal_comma:
            return "an amount like 1200, 1.200,50, €1.200,50, -500 or 1,2萬"
        return "an amount like 1200, 1,200.50, NT$1,200, -500 or 1.2萬"
    if kind is _INTEGER:
        return "a whole number like 12, 1.200 or -3" if opts.decimal_comma else ("a whole number like 12, 1,200 or -3")
    return "a number like 1200, 1.200,5 or -3" if opts.decimal_comma else ("a number like 1200, 1,200.5 or -3")


def _number_from_text(text: str, kind: _NumberKind, opts: ParseOptions, shown: str) -> Decimal:
    expected = _expected_number(kind, opts)

    def fail(detail: str = "") -> CellParseError:
        return CellParseError(f"{shown} is not {kind.noun}{detail}", expected)

    s = re.sub(r"\s+", " ", _nfkc(text).lower().replace("−", "-").replace("–", "-"))
    s = _ROUGHLY_RE.sub("", s.replace("’", "'").strip())
    negative = False
    signs = 0
    currency = False

    def unwrap(s: str) -> str:
        nonlocal negative, signs
        if len(s) >= 2 and s[0] == "(" and s[-1] == ")":
            negative, signs = True, signs + 1
            s = s[1:-1].strip()
        if s[:1] in ("-", "+"):
            negative, signs = negative or s[0] == "-", signs + 1
            s = s[1:].lstrip()
        return s

    s = unwrap(s)
    if m := _PREFIX_RE.match(s):
        currency = True
        s = unwrap(s[m.end() :])
    while m := _SUFFIX_RE.search(s):
        currency = True
        s = s[: m.start()]
    if signs > 1:
        raise fail(" (it has more than one minus sign)")
    if currency and not kind.currency:
        raise fail(" (remove the currency)")
    if not s:
        raise fail(" (there is no number in it)")
    compound = _cjk_compound(s) if not _CJK_NUMERAL_RE.fullmatch(s) else _cjk_numeral(s)
    if compound is not None:
        return -compound if negative else compound
    scale = Decimal(1)
    if kind.percent and s.endswith("%"):
        s, scale = s[:-1].rstrip(), Decimal("0.01")
    elif m := _MULT_RE.search(s):
        s, scale = s[: m.start()], Decimal(_MULTIPLIERS[m[1]])
    core, other = (_COMMA_CORE, _DOT_CORE) if opts.decimal_comma else (_DOT_CORE, _COMMA_CORE)
    if core.fullmatch(s):
        if opts.decimal_comma:
            digits = s.replace(".", "").replace(" ", "").replace("'", "").replace(",", ".")
        else:
            digits = s.replace(",", "").replace(" ", "").replace("'", "")
        try:
            number = Decimal(digits)
            if scale != 1:
                number *= scale
        except (InvalidOperation, ArithmeticError):
            raise fail(" (it is too large)") from None
        return -number if negative else number
    if other.fullmatch(s):
        if not opts.decimal_comma and "," in s:
            raise fail(
                " (it looks like it uses a decimal comma, as in 1.200,50: if it does, set "
                "money.decimal_comma to true in Settings)"
            )
        if opts.decimal_comma and "." in s:
            raise fail(
                " (money.decimal_comma is true in Settings, so ',' is the decimal point and "
                "'.' separates thousands: write 1.200,50, or set money.decimal_comma to false)"
            )
    if re.fullmatch(r"[0-9.,' ]+", s) and re.search(r"[0-9]", s):
        raise fail(" (its separators are in the wrong places: thousands go in groups of three)")
    raise fail()


def _parse_numeric(value: Any, kind: _NumberKind, opts: ParseOptions) -> int | float | Decimal:
    v = _coerce(value)
    expected = _expected_number(kind, opts)
    if is_blank(v):
        raise _blank_error(expected)
    shown = _show(v)
    if isinstance(v, bool):
        raise CellParseError(f"{shown} is a true/false value, not {kind.noun}", expected)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise CellParseError(f"{shown} is not {kind.noun}", expected)
        return v
    if isinstance(v, (_dt.date, _dt.time)):
        raise CellParseError(f"{shown} is a date, not {kind.noun}", expected)
    if isinstance(v, str):
        return _number_from_text(v, kind, opts, shown)
    raise CellParseError(f"{shown} is not {kind.noun}", expected)


def _to_float(n: int | float | Decimal, kind: _NumberKind, shown: str, opts: ParseOptions) -> float:
    try:
        f = float(n)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise CellParseError(f"{shown} is too large", _expected_number(kind, opts))
    return f


def parse_money(value: Any, opts: ParseOptions = _DEFAULT_OPTS) -> float:
    """An amount cell -> float.

    Numbers pass straight through. Text may carry a currency sign, code or word, before or
    after (``NT$1,200``, ``NT$ 1,200元``, ``HK$ 3,500.50``, ``￥800``, ``RMB 800``,
    ``TWD 1200``, ``US$12``, ``€1.200,50``), a multiplier (``1.2萬``, ``5千``, ``3k``), a
    minus sign or accounting parentheses (``(500)``). ``opts.decimal_comma`` swaps ``.``
    and ``,``. Raises :class:`CellParseError` for text that is not an amount, for misplaced
    thousands separators, for booleans and dates.
    """
    n = _parse_numeric(value, _MONEY, opts)
    return _to_float(n, _MONEY, _show(value), opts)


def parse_number(value: Any, opts: ParseOptions = _DEFAULT_OPTS) -> float:
    """A number cell -> float. Like :func:`parse_money` without currencies; ``25%`` is 0.25."""
    n = _parse_numeric(value, _NUMBER, opts)
    return _to_float(n, _NUMBER, _show(value), opts)


def parse_integer(value: Any, opts: ParseOptions = _DEFAULT_OPTS) -> int:
    """A whole-number cell -> int. Like :func:`parse_number`, but ``1.5`` is a problem, and
    so is a number outside the 64-bit range."""
    n = _parse_numeric(value, _INTEGER, opts)
    expected = _expected_number(_INTEGER, opts)
    shown = _show(value)
    if isinstance(n, float):
        if not n.is_integer():
            raise CellParseError(f"{shown} is not a whole number", expected)
        n = int(n)
    elif isinstance(n, Decimal):
        if n.adjusted() >= 19:  # beyond int64; checked first, int() of a huge Decimal is slow
            raise CellParseError(f"{shown} is too large", expected)
        if n != n.to_integral_value():
            raise CellParseError(f"{shown} is not a whole number", expected)
        n = int(n)
    if not -_INT64_LIMIT <= n < _INT64_LIMIT:
        raise CellParseError(f"{shown} is too large", expected)
    return n


# ---------------------------------------------------------------------------------------
# Exact money
#
# Typed MONEY columns are float64, and a float64 read from a cell is the double nearest to
# the decimal the person typed (a sheet holds 15 significant digits). That double is a
# lossless carrier of the decimal as long as nobody does arithmetic on it: ``11.77`` comes
# back as exactly 1177 cents. Sums, comparisons, quantiles and thresholds therefore work on
# integer *minor units* (``to_minor``); floats are made again only to write a cell
# (``from_minor``) and ``Decimal`` only at the edges (``exact_money``, ``minor_to_decimal``).

#: Amounts are counted exactly to this many decimals; an amount with more (a formula's
#: 1/3) is rounded half to even to it.
MAX_MONEY_DECIMALS = 4

#: Minor-unit totals stay exact below this (sums run through float64 bincount).
EXACT_MINOR_LIMIT = 2**53


def _as_float_array(amounts: Any) -> np.ndarray:
    values = pd.Series(np.asarray(amounts).ravel())
    if values.dtype.kind == "f":
        return values.to_numpy(dtype="float64")
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def money_decimals(amounts: Any) -> int:
    """How many decimals the amounts need: the smallest ``d`` in 0..:data:`MAX_MONEY_DECIMALS`
    at which every finite amount is a whole number of ``10**-d`` (0 for a book typed in
    whole NT$, 2 for one with cents). NaN is ignored; an empty input needs 0.

    In: anything :func:`numpy.asarray` turns into floats (a Series, an array, a list).
    """
    x = _as_float_array(amounts)
    finite = np.isfinite(x)
    rest = x if finite.all() else x[finite]
    if np.array_equal(np.rint(rest), rest):
        return 0  # whole amounts, the common case for NT$: one cheap exact check
    for d in range(MAX_MONEY_DECIMALS + 1):
        y = rest * 10.0**d
        # the double nearest to a d-decimal value is within a few ulps of a whole y; an
        # amount whole at d decimals is whole at d + 1, so only the others are checked again
        rest = rest[np.abs(y - np.rint(y)) > np.abs(y) * 1e-14 + 1e-9]
        if not len(rest):
            return d
    return MAX_MONEY_DECIMALS


def to_minor(amounts: Any, decimals: int) -> np.ndarray:
    """Amounts as int64 counts of ``10**-decimals`` (cents when ``decimals`` is 2), exact for
    amounts of up to 15 significant digits. NaN and non-numbers are 0. More decimals than
    ``decimals`` are rounded half to even."""
    x = _as_float_array(amounts)
    finite = np.isfinite(x)
    if not finite.all():
        x = np.where(finite, x, 0.0)
    return np.rint(x * 10.0**decimals if decimals else x).astype(np.int64)


def from_minor(minor: Any, decimals: int) -> np.ndarray:
    """Minor units back to float64 amounts for a cell: the double nearest to the exact
    decimal (one correctly rounded division, so equal amounts give equal floats)."""
    return np.asarray(minor, dtype="float64") / 10.0**decimals


def minor_to_decimal(minor: int, decimals: int) -> Decimal:
    """One minor-unit amount as an exact ``Decimal`` (``1177, 2 -> Decimal("11.77")``)."""
    return Decimal(int(minor)).scaleb(-decimals)


def minor_floor(value: Any, decimals: int) -> int:
    """The largest whole number of minor units not above ``value`` (a float, int, Decimal
    or amount text): ``amount > value`` exactly when ``to_minor(amount) > minor_floor(value)``.
    Thresholds and fixed cut points go through this so they compare exactly."""
    exact = exact_money(value)
    return int((exact.scaleb(decimals)).to_integral_value(rounding="ROUND_FLOOR"))


def exact_money(value: Any, opts: ParseOptions = _DEFAULT_OPTS) -> Decimal:
    """An amount cell -> the exact ``Decimal`` the person typed.

    Like :func:`parse_money`, but text keeps every digit and a float cell is read by its
    shortest representation (the sheet's ``11.77``, not the binary 11.769999...).
    """
    v = _coerce(value) if not isinstance(value, Decimal) else value
    if isinstance(v, Decimal):
        if not v.is_finite():
            raise CellParseError(f"{_show(value)} is not an amount", _expected_number(_MONEY, opts))
        return v
    n = _parse_numeric(v, _MONEY, opts)
    if isinstance(n, float):
        return Decimal(repr(n))
    return Decimal(n)


def exact_sum(amounts: Any) -> Decimal:
    """The exact sum of amounts (float cells read as typed, NaN as 0), as a ``Decimal``."""
    d = money_decimals(amounts)
    return minor_to_decimal(int(to_minor(amounts, d).sum(dtype=object)), d)


# ---------------------------------------------------------------------------------------
# Booleans

EXPECTED_BOOL = "yes or no (or true/false, y/n, 1/0, 是/否, 對/錯, v/x, ✓/✗)"
_TRUE_WORDS = ("true", "t", "yes", "y", "on", "1", "是", "對", "对", "真", "v", "✓", "✔", "☑", "✅", "○")
_FALSE_WORDS = ("false", "f", "no", "n", "off", "0", "否", "錯", "错", "假", "x", "✗", "✘", "×", "☐", "❌")
_BOOL_WORDS: dict[str, bool] = {w: True for w in _TRUE_WORDS} | {w: False for w in _FALSE_WORDS}


def parse_bool(value: Any, opts: ParseOptions | None = None) -> bool:
    """A yes/no cell -> bool.

    Accepts bool cells, the numbers 1 and 0, and (any case or width) true/false, t/f,
    yes/no, y/n, on/off, 1/0, 是/否, 對/錯, 真/假, v/x, ✓ ✔ ☑ ✅ ○ / ✗ ✘ × ☐ ❌. Raises
    :class:`CellParseError` otherwise (and for a blank cell).
    """
    v = _coerce(value)
    if is_blank(v):
        raise _blank_error(EXPECTED_BOOL)
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        word = _nfkc(v).casefold()
        if word in _BOOL_WORDS:
            return _BOOL_WORDS[word]
    raise CellParseError(f"{_show(v)} is not yes or no", EXPECTED_BOOL)


# ---------------------------------------------------------------------------------------
# Email

EXPECTED_EMAIL = "an email address like name@example.com"
_LOCAL_RE = re.compile(r"[^\s@<>()\[\]\\,;:\"]+")
_LABEL_RE = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")
_TLD_RE = re.compile(r"[^\W\d_]{2,}|xn--[a-z0-9-]+")
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
#: Plain ASCII addresses that the full checks below would accept; most cells take this path.
_SIMPLE_EMAIL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{{2,}}", re.ASCII)


def parse_email(value: Any, opts: ParseOptions | None = None) -> str:
    """An email cell -> the address stripped, NFKC-normalised and lower-cased
    (``Foo@Example.COM`` -> ``foo@example.com``; full-width ``＠``/``．`` and the
    ideographic full stop ``。`` are accepted; a ``mailto:`` prefix is dropped).

    Raises :class:`CellParseError` unless there is exactly one ``@``, something before it,
    a domain with a dot after it, and no spaces.
    """
    v = _coerce(value)
    if is_blank(v):
        raise _blank_error(EXPECTED_EMAIL)
    if not isinstance(v, str):
        raise CellParseError(f"{_show(v)} is not an email address", EXPECTED_EMAIL)

    def fail(detail: str) -> CellParseError:
        return CellParseError(f"{_show(v)} is not an email address ({detail})", EXPECTED_EMAIL)

    s = _nfkc(v).replace("。", ".").lower()
    if _SIMPLE_EMAIL_RE.fullmatch(s):
        return s
    if s.startswith("mailto:"):
        s = s[len("mailto:") :].strip()
    ats = s.count("@")
    if ats > 1 and re.search(r"[,;\s/、]", s):
        raise fail("it holds more than one address; keep one per cell")
    if re.search(r"\s", s):
        raise fail("it contains a space")
    if ats == 0:
        raise fail("it has no @")
    if ats > 1:
        raise fail("it has more than one @")
    local, domain = s.split("@")
    if not local:
        raise fail("nothing before the @")
    if not domain:
        raise fail("nothing after the @")
    if not _LOCAL_RE.fullmatch(local) or local.startswith(".") or local.endswith(".") or (".." in local):
        raise fail(f"{local!r} cannot come before the @")
    if "." not in domain and "," in domain:
        raise fail(f"the domain {domain!r} has a comma where a dot goes, as in example.com")
    if "." not in domain:
        raise fail(f"the domain {domain!r} has no dot, as in example.com")
    labels = domain.split(".")
    if not all(_LABEL_RE.fullmatch(label) for label in labels) or not _TLD_RE.fullmatch(labels[-1]):
        raise fail(f"{domain!r} is not a domain name")
    return s


# ---------------------------------------------------------------------------------------
# Phone numbers

EXPECTED_PHONE = "a phone number like 02-2345-6789, 0912-345-678 or +886 2 2345 6789"
_EXT_RE = re.compile(
    r"\s*[(\[]?\s*(?:#|ext\.?|extension|x|轉|转|分機|分机|內線|内线)\s*[:.]?\s*(\d{1,6})\s*[)\]]?\s*$",
    re.ASCII,
)
_MULTI_SPLIT_RE = re.compile(r"\s*(?:[,;/、|]|\bor\b|或)\s*", re.ASCII)
_NON_DIGIT_RE = re.compile(r"[^0-9]")
#: Numbers made only of digits and the usual separators, with an optional leading +.
_SIMPLE_PHONE_RE = re.compile(r"\+?[0-9][0-9 \-.()]*")
_PHONE_CHARS_RE = re.compile(r"[\d\s\-.()+/]*", re.ASCII)


def parse_phone(value: Any, opts: ParseOptions | None = None) -> str:
    """A phone cell -> a normalised number for dedupe: ``+`` and digits, E.164-like.

    ``+886 2 2345 6789``, ``02-2345-6789``, ``(02)2345-6789`` -> ``+886223456789``;
    ``0912-345-678`` and the int cell ``912345678`` -> ``+886912345678``; ``+852 2345 6789``
    -> ``+85223456789``; ``+1 (415) 555-0100`` -> ``+14155550100``; numbers with neither
    ``+`` nor a leading ``0`` keep their digits. An extension (``#123``, ``ext 123``,
    ``轉123``) is kept after an ``x``: ``+886223456789x123``. Raises
    :class:`CellParseError` for letters, more than one number, and fewer than 7 or more than
    15 digits.
    """
    v = _coerce(value)
    if is_blank(v):
        raise _blank_error(EXPECTED_PHONE)

    def fail(detail: str = "") -> CellParseError:
        detail = f" ({detail})" if detail else ""
        return CellParseError(f"{_show(v)} is not a phone number{detail}", EXPECTED_PHONE)

    if isinstance(v, (bool, _dt.date, _dt.time)):
        raise fail()
    if isinstance(v, float):
        if not (math.isfinite(v) and v.is_integer()):
            raise fail()
        v = int(v)
    if isinstance(v, int):
        if v < 0:
            raise fail("it is negative")
        text = _render_int(v)
    elif isinstance(v, str):
        text = _nfkc(v).lower()
    else:
        raise fail()
    ext = ""
    if text.startswith("tel:"):
        text = text[4:].strip()
    if text.startswith("+"):
        text = text.replace("(0)", "", 1)
    if not _SIMPLE_PHONE_RE.fullmatch(text):
        parts = _MULTI_SPLIT_RE.split(text)
        if sum(1 for p in parts if len(_NON_DIGIT_RE.sub("", p)) >= 7) >= 2:
            raise fail("it holds more than one number; keep one per cell")
        if m := _EXT_RE.search(text):
            ext, text = m[1], text[: m.start()]
        if not _PHONE_CHARS_RE.fullmatch(text):
            if any(c.isalpha() for c in text):
                raise fail("it contains letters")
            raise fail("it contains characters that are not part of a phone number")
        if "+" in text[1:]:
            raise fail("'+' may only come first")
    digits = _NON_DIGIT_RE.sub("", text)
    if not 7 <= len(digits) <= 15:
        raise fail(f"it has {len(digits)} digits; a phone number has 7 to 15")
    if text.startswith("+"):
        if digits.startswith("8860"):
            digits = "886" + digits[4:]
        number = "+" + digits
    elif digits.startswith("0") and not digits.startswith("00"):
        number = "+886" + digits[1:]
    elif len(digits) == 9 and digits[0] == "9" and text == digits:
        number = "+886" + digits
    else:
        number = digits
    if len(number.lstrip("+")) > 15:
        raise fail(f"it has {len(number.lstrip('+'))} digits with the country code; at most 15")
    return f"{number}x{ext}" if ext else number


# ---------------------------------------------------------------------------------------
# Enums


@functools.cache
def _enum_noun(enum_cls: type[LabeledEnum]) -> str:
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z][a-z]*|[a-z]+|\d+", enum_cls.__name__)
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in words) or "value"


def _article(noun: str) -> str:
    first = noun[:1]
    if noun.isupper():
        return "an" if first in "AEFHILMNORSX" else "a"
    return "an" if first.lower() in "aeiou" else "a"


@functools.cache
def _enum_expected(enum_cls: type[LabeledEnum]) -> str:
    members = list(enum_cls)
    english = ", ".join(m.value for m in members)
    chinese = ", ".join(m.zh for m in members)
    if all(m.zh == m.value for m in members):
        return f"one of {english}"
    return f"one of {english} (or {chinese})"


@functools.cache
def _synonym_lookup(enum_cls: type[LabeledEnum], synonyms: tuple[tuple[str, str, str], ...]) -> dict[str, LabeledEnum]:
    """Folded word -> member, for the Settings synonyms of ``enum_cls``."""
    out: dict[str, LabeledEnum] = {}
    for name, word, value in synonyms:
        if name == enum_cls.__name__:
            member = enum_cls.parse(value)
            if member is not None:
                out.setdefault(normalize_label(word), member)
    return out


def parse_enum(value: Any, enum_cls: type[LabeledEnum], opts: ParseOptions | None = None) -> LabeledEnum:
    """A vocabulary cell -> the member of ``enum_cls`` it names (English value, Chinese label
    or alias; case, spaces and full-width forms are ignored: ``"ｑｕａｌｉｆｉｅｄ "`` and
    ``"確認需求"`` are ``Stage.QUALIFIED``).

    Raises :class:`CellParseError` whose message lists the English values and Chinese
    labels, e.g. ``'Closing' is not a stage; expected one of Lead, ... (or 潛在, ...)``.
    """
    v = _coerce(value)
    expected = _enum_expected(enum_cls)
    if is_blank(v):
        raise _blank_error(expected)
    text = v if isinstance(v, str) else _render(v)
    member = enum_cls.parse(text)
    if member is None and opts is not None and opts.synonyms:
        member = _synonym_lookup(enum_cls, opts.synonyms).get(normalize_label(text))
    if member is None:
        noun = _enum_noun(enum_cls)
        hint = _OWN_WORDS.get(enum_cls.__name__, "")
        raise CellParseError(f"{_show(v)} is not {_article(noun)} {noun}" + (f" ({hint})" if hint else ""), expected)
    return member


#: Where a workbook's own words for a vocabulary go (the Settings synonyms keys).
_OWN_WORDS = {
    "Stage": "a word of your own for one can go in the Settings key synonyms.stage, like 簽約中=Negotiation",
    "ActivityType": "a word of your own for one can go in the Settings key synonyms.activity_type, like 來店=Visit",
}


# ---------------------------------------------------------------------------------------
# Columns

_Parser = Callable[[Any, ParseOptions], Any]

_SCALAR_PARSERS: dict[ColumnType, _Parser] = {
    ColumnType.TEXT: parse_text,
    ColumnType.ID: parse_id,
    ColumnType.REF: parse_id,
    ColumnType.DATE: parse_date,
    ColumnType.DATETIME: parse_datetime,
    ColumnType.MONEY: parse_money,
    ColumnType.NUMBER: parse_number,
    ColumnType.INTEGER: parse_integer,
    ColumnType.BOOL: parse_bool,
    ColumnType.EMAIL: parse_email,
    ColumnType.PHONE: parse_phone,
}

_DTYPES: dict[ColumnType, str] = {
    ColumnType.DATE: "datetime64[ns]",
    ColumnType.DATETIME: "datetime64[ns]",
    ColumnType.MONEY: "float64",
    ColumnType.NUMBER: "float64",
    ColumnType.INTEGER: "Int64",
    ColumnType.BOOL: "boolean",
}

#: infer_dtype results that cannot hold both a bool and a number (which hash alike).
_NO_BOOL_NUMBER_MIX = frozenset(
    {
        "string",
        "empty",
        "boolean",
        "integer",
        "floating",
        "mixed-integer-float",
        "decimal",
        "datetime",
        "datetime64",
        "date",
        "time",
        "timedelta",
        "bytes",
        "period",
        "complex",
    }
)


def _datetime_ns(v: _dt.datetime) -> int:
    seconds = (v.toordinal() - _UNIX_ORDINAL) * 86_400 + v.hour * 3600 + v.minute * 60 + v.second
    return seconds * 10**9 + v.microsecond * 1000 + int(getattr(v, "nanosecond", 0))


def _build(ctype: ColumnType, items: list[Any]) -> Any:
    """Typed array (numpy or pandas extension array) of parsed values; None is missing."""
    if ctype is ColumnType.DATE:
        i8 = [_NAT_I8 if x is None else (x.toordinal() - _UNIX_ORDINAL) * _NS_PER_DAY for x in items]
        return np.array(i8, dtype=np.int64).view("M8[ns]")
    if ctype is ColumnType.DATETIME:
        i8 = [_NAT_I8 if x is None else _datetime_ns(x) for x in items]
        return np.array(i8, dtype=np.int64).view("M8[ns]")
    if ctype in (ColumnType.MONEY, ColumnType.NUMBER):
        return np.array([np.nan if x is None else x for x in items], dtype=np.float64)
    if ctype is ColumnType.INTEGER:
        return pd.array(items, dtype="Int64")
    if ctype is ColumnType.BOOL:
        return pd.array(items, dtype="boolean")
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _factorize(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 for NaN/None/NA/NaT) and distinct values of an object array, keeping True
    apart from 1 and False apart from 0 (Python hashes them alike)."""
    codes, uniques = pd.factorize(arr)
    if len(arr) == 0 or infer_dtype(arr, skipna=True) in _NO_BOOL_NUMBER_MIX:
        return codes, np.asarray(uniques, dtype=object)
    is_bool = np.fromiter((isinstance(x, (bool, np.bool_)) for x in arr), dtype=bool, count=len(arr))
    if not is_bool.any():
        return codes, np.asarray(uniques, dtype=object)
    valid = np.flatnonzero(codes >= 0)
    sub_codes, _ = pd.factorize(codes[valid].astype(np.int64) * 2 + is_bool[valid])
    _, first = np.unique(sub_codes, return_index=True)
    new_codes = np.full(len(arr), -1, dtype=np.intp)
    new_codes[valid] = sub_codes
    return new_codes, arr[valid[first]]


#: Column types whose parser returns a text cell unchanged when it is already clean (see
#: :func:`_settled_text`), with the normal form the parser applies.
_IDENTITY_FORMS: dict[ColumnType, Literal["NFC", "NFKC"]] = {
    ColumnType.TEXT: "NFC",
    ColumnType.ID: "NFKC",
    ColumnType.REF: "NFKC",
}


def _settled_text(value: Any, form: Literal["NFC", "NFKC"]) -> bool:
    """True for text its parser returns unchanged: printable (so no line break, control or
    zero-width character, and no whitespace but the ASCII space), not starting or ending
    with a space, and already in normal form ``form``. Most cells are such text; they skip
    the scalar parser."""
    return (
        type(value) is str
        and value.isprintable()
        and value != ""
        and value[0] != " "
        and value[-1] != " "
        and (value.isascii() or unicodedata.is_normalized(form, value))
    )


#: Joins the cells checked at once by :func:`_all_settled`: not printable (so never inside
#: a settled text), a starter that composes with nothing (so normal forms do not reach
#: across it), and neither a space nor empty.
_JOIN = "\x00"


#: None as an array, for comparing object arrays with None cell by cell.
_NONE = np.array(None)


def _texts_or_none(arr: np.ndarray) -> tuple[np.ndarray, list[str]] | None:
    """For an object array of only ``str`` and None cells: (the None mask, the texts);
    otherwise None."""
    kinds = set(map(type, arr))
    if not kinds <= {str, type(None)}:
        return None
    missing = np.equal(arr, _NONE) if type(None) in kinds else np.zeros(len(arr), dtype=bool)
    return missing, (arr[~missing] if type(None) in kinds else arr).tolist()


def _all_settled(texts: list[str], form: Literal["NFC", "NFKC"] | None) -> bool:
    """True when :func:`_settled_text` holds for every text (normal form ``form``; None:
    any), checked over two joined strings in C rather than once per text: a column of a
    million distinct IDs costs a few milliseconds. False says some text may not be
    settled (each is then looked at alone)."""
    if not texts:
        return True
    whole = "".join(texts)
    if not whole.isprintable():
        return False
    joined = _JOIN + _JOIN.join(texts) + _JOIN
    # An empty text, or one starting or ending with a space, sits beside a separator.
    if _JOIN + _JOIN in joined or _JOIN + " " in joined or " " + _JOIN in joined:
        return False
    return form is None or whole.isascii() or unicodedata.is_normalized(form, joined)


def _settled_column(arr: np.ndarray, form: Literal["NFC", "NFKC"]) -> np.ndarray | None:
    """``arr`` as its parser returns it (a copy, None for missing) when every cell is None
    or settled text (see :func:`_settled_text`); None otherwise."""
    texts = _texts_or_none(arr)
    if texts is None or not _all_settled(texts[1], form):
        return None
    return arr.copy()


#: Texts joined by :data:`_JOIN` that are all addresses :func:`parse_email` returns as
#: they are (plain lower-case ASCII).
_SIMPLE_EMAILS_RE = re.compile(rf"(?:(?:{_SIMPLE_EMAIL_RE.pattern}){re.escape(_JOIN)})*", re.ASCII)
#: Texts joined by :data:`_JOIN` that are all Taiwan numbers written as bare digits with
#: the trunk 0 (``0912345678``): :func:`parse_phone` gives ``+886`` and the rest.
_TRUNK_PHONES_RE = re.compile(rf"(?:0[1-9][0-9]{{5,11}}{re.escape(_JOIN)})*", re.ASCII)


def _common_column(arr: np.ndarray, ctype: ColumnType) -> np.ndarray | None:
    """The typed values of a column whose every cell is missing or in the form most cells
    take (settled text, a plain email address, a bare Taiwan number), each checked over
    one joined string in C; None when any cell is not (the cells are then parsed one by
    one)."""
    form = _IDENTITY_FORMS.get(ctype)
    if form is not None:
        return _settled_column(arr, form)
    if ctype not in (ColumnType.EMAIL, ColumnType.PHONE):
        return None
    texts = _texts_or_none(arr)
    if texts is None or not texts[1]:
        return None
    pattern = _SIMPLE_EMAILS_RE if ctype is ColumnType.EMAIL else _TRUNK_PHONES_RE
    if pattern.fullmatch(_JOIN.join(texts[1]) + _JOIN) is None:
        return None
    out = arr.copy()
    if ctype is ColumnType.PHONE:
        out[~texts[0]] = ["+886" + t[1:] for t in texts[1]]
    return out


def _parse_generic(values: pd.Series, ctype: ColumnType, parse_one: Callable[[Any], Any]) -> tuple[Any, np.ndarray]:
    arr = values.to_numpy(dtype=object)
    if len(arr):
        common = _common_column(arr, ctype)
        if common is not None:
            return common, np.full(len(arr), None, dtype=object)
    form = _IDENTITY_FORMS.get(ctype)
    codes, uniques = _factorize(arr)
    k = len(uniques)
    typed: list[Any] = [None] * (k + 1)
    problems = np.full(k + 1, None, dtype=object)
    for i, raw in enumerate(uniques):
        if form is not None and _settled_text(raw, form):
            typed[i] = raw
            continue
        if is_blank(raw):
            continue
        try:
            typed[i] = parse_one(raw)
        except CellParseError as exc:
            problems[i] = str(exc)
    idx = np.where(codes < 0, k, codes)
    return _build(ctype, typed).take(idx), problems.take(idx)


def _fast_numeric(x: np.ndarray, values: pd.Series, ctype: ColumnType) -> tuple[Any, np.ndarray] | None:
    """Typed array and a mask of the cells it settled, for a float64 view of a numeric
    column; cells outside the mask go through the scalar parser."""
    nan = np.isnan(x)
    if ctype in (ColumnType.MONEY, ColumnType.NUMBER):
        ok = np.isfinite(x)
        return np.where(ok, x, np.nan), ok | nan
    if ctype is ColumnType.INTEGER:
        kind = values.dtype.kind
        if kind == "u":
            return None  # rare; the scalar path keeps values above 2**53 exact
        if kind == "i":
            return values.astype("Int64").array.copy(), np.ones(len(x), dtype=bool)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(x) & (np.floor(x) == x) & (np.abs(x) < _INT64_LIMIT)
        ints = np.where(ok, x, 0).astype(np.int64)
        return pd.arrays.IntegerArray(ints, ~ok), ok | nan
    if ctype is ColumnType.BOOL:
        ok = (x == 0) | (x == 1)
        return pd.arrays.BooleanArray(x == 1, ~ok), ok | nan
    if ctype in (ColumnType.DATE, ColumnType.DATETIME):
        with np.errstate(invalid="ignore"):
            inrange = np.isfinite(x) & (x >= 1) & (x <= MAX_SERIAL)
        ms = np.round(np.where(inrange, x, 1.0) * _MS_PER_DAY).astype(np.int64)
        stamps = np.datetime64(SERIAL_EPOCH, "ms") + ms.astype("m8[ms]")
        return _fast_datetimes(stamps, ctype, inrange, nan)
    return None


def _fast_datetimes(
    stamps: np.ndarray, ctype: ColumnType, usable: np.ndarray, missing: np.ndarray
) -> tuple[Any, np.ndarray]:
    ok = usable & (stamps >= np.datetime64("1900-01-01")) & (stamps < np.datetime64("2201-01-01"))
    unit = "M8[D]" if ctype is ColumnType.DATE else "M8[ns]"
    out = np.full(len(stamps), np.datetime64("NaT"), dtype="M8[ns]")
    out[ok] = stamps[ok].astype(unit).astype("M8[ns]")
    return out, ok | missing


def _fast(values: pd.Series, ctype: ColumnType) -> tuple[Any, np.ndarray] | None:
    dtype = values.dtype
    kind = getattr(dtype, "kind", "O")
    numeric_types = (
        ColumnType.MONEY,
        ColumnType.NUMBER,
        ColumnType.INTEGER,
        ColumnType.BOOL,
        ColumnType.DATE,
        ColumnType.DATETIME,
    )
    if ctype not in numeric_types:
        return None
    if kind == "b" and ctype is ColumnType.BOOL:
        return values.astype("boolean").array.copy(), np.ones(len(values), dtype=bool)
    if kind in "iuf":
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return _fast_numeric(x, values, ctype)
    if kind == "M" and ctype in (ColumnType.DATE, ColumnType.DATETIME):
        return _fast_datetime_series(values, ctype)
    if kind != "O" or values.empty:
        return None
    inferred = infer_dtype(values, skipna=True)
    try:
        # Python ints may exceed int64/float precision: INTEGER reads them one by one.
        if inferred == "floating" or (
            inferred in ("integer", "mixed-integer-float") and ctype is not ColumnType.INTEGER
        ):
            as_float = values.astype(np.float64)
            return _fast_numeric(as_float.to_numpy(), as_float, ctype)
        if inferred in ("datetime", "date") and ctype in (ColumnType.DATE, ColumnType.DATETIME):
            return _fast_datetime_series(pd.to_datetime(values), ctype)
        if inferred == "boolean" and ctype is ColumnType.BOOL:
            return values.astype("boolean").array.copy(), np.ones(len(values), dtype=bool)
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return None
    return None


def _fast_datetime_series(values: pd.Series, ctype: ColumnType) -> tuple[Any, np.ndarray] | None:
    if not isinstance(values.dtype, (np.dtype, pd.DatetimeTZDtype)) or values.dtype.kind != "M":
        return None
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    stamps = values.to_numpy()
    nat = np.isnat(stamps)
    return _fast_datetimes(stamps, ctype, ~nat, nat)


def parse_column(values: pd.Series, column: Column, opts: ParseOptions = _DEFAULT_OPTS) -> tuple[pd.Series, pd.Series]:
    """Parse one column. Returns (typed, problems) aligned with `values`' index. Blank cells
    give a missing value and no problem (required-ness is checked elsewhere). A cell that
    does not parse gives a missing value and a problem message (str) saying what is wrong and
    what was expected, e.g. "'2026/13/5' is not a date (there is no month 13); expected a
    date like 2026-03-05, 2026/3/5, 2026年3月5日, 民國115年3月5日 or 115/3/5".

    Typed dtypes: DATE ``datetime64[ns]`` at midnight (NaT missing), DATETIME
    ``datetime64[ns]``, MONEY/NUMBER ``float64`` (NaN), INTEGER ``Int64``, BOOL
    ``boolean``, ENUM object holding members (None), TEXT/ID/REF/EMAIL/PHONE object holding
    str (None; PHONE holds the normalised number). Problems: object, None where fine.

    Each distinct raw value is parsed once; numeric and datetime columns are converted
    with numpy where the values allow.
    """
    ctype = ColumnType(column.type)
    if column.ahead and not opts.ahead:
        opts = dataclasses.replace(opts, ahead=True)
    if ctype is ColumnType.ENUM:
        if column.enum is None:
            raise ValueError(f"column {column.key!r} is an enum column without an enum class")
        enum_cls = column.enum

        def parse_one(raw: Any) -> Any:
            return parse_enum(raw, enum_cls, opts)
    else:
        scalar = _SCALAR_PARSERS[ctype]

        def parse_one(raw: Any) -> Any:
            return scalar(raw, opts)

    n = len(values)
    fast = _fast(values, ctype)
    if fast is None:
        typed, problems = _parse_generic(values, ctype, parse_one)
    else:
        typed, handled = fast
        problems = np.full(n, None, dtype=object)
        rest = np.flatnonzero(~handled)
        if len(rest):
            sub_typed, sub_problems = _parse_generic(values.iloc[rest], ctype, parse_one)
            typed[rest] = sub_typed
            problems[rest] = sub_problems
    dtype = _DTYPES.get(ctype, "object")
    typed_series = pd.Series(typed, index=values.index, name=values.name, dtype=dtype, copy=False)
    problem_series = pd.Series(problems, index=values.index, name=values.name, dtype=object)
    return typed_series, problem_series
