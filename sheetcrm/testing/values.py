"""Cells, USER_ENTERED value parsing and number formats, as Google Sheets does them."""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sheetcrm.testing.common import _SERIAL_EPOCH, Scalar

# --------------------------------------------------------------------------------------
# Cells and value parsing
# --------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One stored cell.

    ``value`` is what the user entered: a str, int, float or bool, the formula text when
    ``formula`` is true, or ``None`` for a cell that only carries formatting, a note or a
    validation rule. ``fmt`` is the cell's ``userEnteredFormat`` (dates keep their
    ``numberFormat`` there, which is how they render as dates).
    """

    value: Scalar | None = None
    formula: bool = False
    fmt: dict[str, Any] | None = None
    note: str | None = None
    validation: dict[str, Any] | None = None
    #: The generation of the one ``model.Sheet`` that may change this cell in place (copy
    #: on write, see ``Sheet.clone``); 0: none may.
    gen: int = field(default=0, compare=False, repr=False)

    def vacant(self) -> bool:
        """True when nothing at all is stored (the cell can be dropped)."""
        return self.value is None and not self.fmt and self.note is None and not self.validation


_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_GROUPED_RE = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+)(\.\d*)?$")
_PERCENT_RE = re.compile(r"^([+-]?(?:\d+(?:\.(\d*))?|\.(\d+)))\s*%$")
_CURRENCY_RE = re.compile(r"^([+-]?)\$\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$")
_ISO_DATE_RE = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_SLASH_DATE_RE = re.compile(r"^(\d{1,2})([/.])(\d{1,2})\2(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?$")
_MONTH_FIRST_LOCALES = ("en_US", "en_PH", "en_CA", "fil")  # the rest read 1/2/2020 day-first


def to_serial(moment: _dt.date | _dt.datetime) -> float:
    """Date or datetime -> Google's serial number (days since 1899-12-30)."""
    if not isinstance(moment, _dt.datetime):
        moment = _dt.datetime(moment.year, moment.month, moment.day)
    delta = moment - _SERIAL_EPOCH
    return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000


def from_serial(serial: float) -> _dt.datetime:
    """Google serial number -> datetime, rounded to the second like Google's rendering."""
    return _SERIAL_EPOCH + _dt.timedelta(seconds=round(serial * 86400))


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2**53 and "." not in text else value


def _date_value(year: int, month: int, day: int, hh: str | None, mm: str | None, ss: str | None) -> float | None:
    try:
        moment = _dt.datetime(year, month, day, int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        return None
    serial = to_serial(moment)
    return int(serial) if float(serial).is_integer() else serial


def parse_user_entered(value: Scalar, locale: str = "en_US") -> tuple[Scalar | None, bool, dict[str, str] | None]:
    """Interpret one value the way Google does for ``valueInputOption=USER_ENTERED``.

    Returns ``(stored value, is_formula, number format or None)``. Numeric strings become
    numbers (``"007"`` -> 7), ``TRUE``/``FALSE`` become booleans, dates become serial
    numbers with a DATE/TIME/DATE_TIME number format, ``=...`` is a formula, a leading
    ``'`` forces text (and is dropped), and ``""`` clears the cell (returned as None).
    """
    if isinstance(value, bool) or not isinstance(value, str):
        return value, False, None
    if value == "":
        return None, False, None
    if value.startswith("'"):
        return value[1:], False, None
    if value.startswith("=") and len(value) > 1:
        return value, True, None
    text = value.strip()
    if _NUMBER_RE.match(text):
        return _number(text), False, None
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE", False, None
    m = _GROUPED_RE.match(text)
    if m:
        decimals = len(m.group(3) or ".") - 1
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return (
            _number(m.group(1) + m.group(2).replace(",", "") + (m.group(3) or "")),
            False,
            {"type": "NUMBER", "pattern": pattern},
        )
    m = _PERCENT_RE.match(text)
    if m:
        decimals = len(m.group(2) or m.group(3) or "")
        number = float(m.group(1)) / 100
        pattern = "0" + ("." + "0" * decimals if decimals else "") + "%"
        return (
            int(number) if number.is_integer() else number,
            False,
            {"type": "PERCENT", "pattern": pattern},
        )
    m = _CURRENCY_RE.match(text)
    if m:
        decimals = len(m.group(3) or "")
        number = float(m.group(2).replace(",", "") + ("." + m.group(3) if m.group(3) else ""))
        if m.group(1) == "-":
            number = -number
        pattern = '"$"#,##0' + ("." + "0" * decimals if decimals else "")
        return (
            int(number) if number.is_integer() else number,
            False,
            {"type": "CURRENCY", "pattern": pattern},
        )
    m = _ISO_DATE_RE.match(text)
    if m:
        sep = m.group(2)
        serial = _date_value(int(m.group(1)), int(m.group(3)), int(m.group(4)), m.group(5), m.group(6), m.group(7))
        if serial is not None:
            base = f"yyyy{sep}mm{sep}dd"
            if m.group(5) is None:
                return serial, False, {"type": "DATE", "pattern": base}
            return serial, False, {"type": "DATE_TIME", "pattern": base + " h:mm:ss"}
    m = _SLASH_DATE_RE.match(text)
    if m:
        first, second = int(m.group(1)), int(m.group(3))
        month_first = locale in _MONTH_FIRST_LOCALES
        month, day = (first, second) if month_first else (second, first)
        serial = _date_value(int(m.group(4)), month, day, m.group(5), m.group(6), m.group(7))
        if serial is not None:
            sep = m.group(2)
            base = f"M{sep}d{sep}yyyy" if month_first else f"d{sep}M{sep}yyyy"
            if m.group(5) is None:
                return serial, False, {"type": "DATE", "pattern": base}
            return serial, False, {"type": "DATE_TIME", "pattern": base + " H:mm:ss"}
    m = _TIME_RE.match(text)
    if m:
        hours, minutes, seconds = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        meridiem = (m.group(4) or "").lower()
        if meridiem == "pm" and hours < 12:
            hours += 12
        elif meridiem == "am" and hours == 12:
            hours = 0
        if hours < 24 and minutes < 60 and seconds < 60:
            serial = (hours * 3600 + minutes * 60 + seconds) / 86400
            pattern = "h:mm:ss am/pm" if meridiem or m.group(3) else "h:mm am/pm"
            return serial, False, {"type": "TIME", "pattern": pattern}
    return value, False, None


# --------------------------------------------------------------------------------------
# Number formats
# --------------------------------------------------------------------------------------

_DEFAULT_PATTERNS: dict[str, str] = {
    "NUMBER": "#,##0.00",
    "PERCENT": "0.00%",
    "CURRENCY": '"$"#,##0.00',
    "DATE": "M/d/yyyy",
    "TIME": "h:mm:ss am/pm",
    "DATE_TIME": "M/d/yyyy H:mm:ss",
    "SCIENTIFIC": "0.00E+00",
}
_DATE_TYPES = ("DATE", "TIME", "DATE_TIME")
_DATE_TOKEN_RE = re.compile(r"yyyy|yy|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss\.0+|ss|s|am/pm|a/p", re.IGNORECASE)
_MONTHS = [
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
]  # fmt: skip
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def format_general(value: float) -> str:
    """Google's "automatic" number rendering: ``2``, ``1.5``, ``0.3333333333``, ``1E+20``."""
    if math.isnan(value) or math.isinf(value):
        return "#NUM!"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e15 or magnitude < 1e-10:
        mantissa, exponent = f"{value:.5E}".split("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}E{sign}{int(exponent.lstrip('+-')):02d}"
    if float(value).is_integer():
        return str(int(value))
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _split_literals(pattern: str) -> list[tuple[bool, str]]:
    """Split a format pattern into (is_literal, text) runs, honouring quotes and ``\\x``."""
    out: list[tuple[bool, str]] = []
    i = 0
    buf = ""
    while i < len(pattern):
        ch = pattern[i]
        if ch == '"':
            end = pattern.find('"', i + 1)
            end = len(pattern) if end < 0 else end
            if buf:
                out.append((False, buf))
                buf = ""
            out.append((True, pattern[i + 1 : end]))
            i = end + 1
            continue
        if ch == "\\" and i + 1 < len(pattern):
            if buf:
                out.append((False, buf))
                buf = ""
            out.append((True, pattern[i + 1]))
            i += 2
            continue
        buf += ch
        i += 1
    if buf:
        out.append((False, buf))
    return out


def _format_date(serial: float, pattern: str) -> str:
    moment = from_serial(serial)
    runs = _split_literals(pattern)
    tokens: list[tuple[str, str]] = []  # (kind, text): kind "lit" or a lower-case token
    for literal, text in runs:
        if literal:
            tokens.append(("lit", text))
            continue
        pos = 0
        for m in _DATE_TOKEN_RE.finditer(text):
            if m.start() > pos:
                tokens.append(("lit", text[pos : m.start()]))
            tokens.append((m.group(0).lower(), m.group(0)))
            pos = m.end()
        if pos < len(text):
            tokens.append(("lit", text[pos:]))
    twelve_hour = any(kind in ("am/pm", "a/p") for kind, _ in tokens)
    real = [i for i, (kind, _) in enumerate(tokens) if kind != "lit"]
    out: list[str] = []
    for i, (kind, text) in enumerate(tokens):
        if kind == "lit":
            out.append(text)
            continue
        if kind in ("m", "mm"):
            pos = real.index(i)
            before = tokens[real[pos - 1]][0] if pos > 0 else ""
            after = tokens[real[pos + 1]][0] if pos + 1 < len(real) else ""
            if before in ("h", "hh") or after.startswith("s"):
                out.append(f"{moment.minute:02d}" if kind == "mm" else str(moment.minute))
                continue
            out.append(f"{moment.month:02d}" if kind == "mm" else str(moment.month))
            continue
        hour = moment.hour
        if twelve_hour:
            hour = hour % 12 or 12
        if kind == "yyyy":
            out.append(f"{moment.year:04d}")
        elif kind == "yy":
            out.append(f"{moment.year % 100:02d}")
        elif kind == "mmmmm":
            out.append(_MONTHS[moment.month - 1][0])
        elif kind == "mmmm":
            out.append(_MONTHS[moment.month - 1])
        elif kind == "mmm":
            out.append(_MONTHS[moment.month - 1][:3])
        elif kind == "dddd":
            out.append(_WEEKDAYS[moment.weekday()])
        elif kind == "ddd":
            out.append(_WEEKDAYS[moment.weekday()][:3])
        elif kind == "dd":
            out.append(f"{moment.day:02d}")
        elif kind == "d":
            out.append(str(moment.day))
        elif kind == "hh":
            out.append(f"{hour:02d}")
        elif kind == "h":
            out.append(str(hour))
        elif kind.startswith("ss"):
            out.append(f"{moment.second:02d}")
        elif kind == "s":
            out.append(str(moment.second))
        elif kind == "am/pm":
            pm = moment.hour >= 12
            word = "PM" if pm else "AM"
            out.append(word if text[0].isupper() else word.lower())
        elif kind == "a/p":
            out.append(("P" if moment.hour >= 12 else "A") if text[0].isupper() else "p")
    return "".join(out)


def _format_numeric(value: float, pattern: str) -> str:
    sections = pattern.split(";")
    section = sections[0]
    negative = value < 0
    if negative and len(sections) > 1 and sections[1]:
        # An explicit negative section carries its own sign or parentheses.
        section, value, negative = sections[1], -value, False
    elif value == 0 and len(sections) > 2 and sections[2]:
        section = sections[2]
    flat = [(lit, ch) for lit, text in _split_literals(section) for ch in text]
    core_idx = [i for i, (lit, ch) in enumerate(flat) if not lit and ch in "0#?"]
    if not core_idx:
        return "".join(ch for _, ch in flat)
    start, end = core_idx[0], core_idx[-1]
    core = "".join(ch for _, ch in flat[start : end + 1])
    prefix = "".join(ch for _, ch in flat[:start])
    suffix = "".join(ch for _, ch in flat[end + 1 :])
    magnitude = abs(value)
    if any(not lit and ch == "%" for lit, ch in flat):
        magnitude *= 100
    exp_match = re.search(r"[eE][+-]", core)
    if exp_match:
        mantissa_part = core[: exp_match.start()]
        exp_digits = max(len(core) - exp_match.end(), 1)
        decimals = len(mantissa_part.split(".", 1)[1]) if "." in mantissa_part else 0
        exponent = math.floor(math.log10(magnitude)) if magnitude else 0
        mantissa = round(magnitude / (10**exponent), decimals) if magnitude else 0.0
        if mantissa >= 10:
            mantissa /= 10
            exponent += 1
        exp_sign = "-" if exponent < 0 else "+"
        body = f"{mantissa:.{decimals}f}E{exp_sign}{abs(exponent):0{exp_digits}d}"
        is_zero = mantissa == 0
    else:
        int_part, _, dec_part = core.partition(".")
        min_int = int_part.count("0")
        max_dec = sum(1 for c in dec_part if c in "0#?")
        min_dec = dec_part.count("0")
        whole, _, frac = f"{magnitude:.{max_dec}f}".partition(".")
        frac = frac.rstrip("0").ljust(min_dec, "0")
        is_zero = int(whole) == 0 and not frac.strip("0")
        whole = str(int(whole)) if int(whole) else ""
        whole = whole.rjust(min_int, "0")
        if "," in int_part and whole:
            whole = f"{int(whole):,}"
        body = whole + ("." + frac if frac else "")
        if not body:
            body = "0"
    sign = "-" if negative and not is_zero else ""
    return sign + prefix + body + suffix


def format_number(value: float, number_format: Mapping[str, Any] | None) -> str:
    """Render a number with a cell's ``numberFormat`` (or "automatic" when there is none)."""
    if not number_format:
        return format_general(value)
    kind = str(number_format.get("type", "NUMBER"))
    pattern = str(number_format.get("pattern") or _DEFAULT_PATTERNS.get(kind, ""))
    if not pattern or kind == "TEXT" or pattern.lower() == "general":
        return format_general(value)
    if kind in _DATE_TYPES:
        return _format_date(value, pattern)
    return _format_numeric(value, pattern)


def _number_format_of(cell: Cell | None) -> dict[str, Any] | None:
    if cell is None or not cell.fmt:
        return None
    fmt = cell.fmt.get("numberFormat")
    return fmt if isinstance(fmt, dict) else None
