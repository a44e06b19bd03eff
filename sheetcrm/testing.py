"""A local fake of the Google Sheets v4 REST API (plus the slice of Drive v3 gspread uses).

Like moto for AWS: a real HTTP server on ``127.0.0.1`` that answers the requests gspread
(and any other Sheets client) sends, with Google's response shapes, status codes and error
bodies, so automation can be tested without Google. Nothing in gspread is patched: the
real gspread code path runs and really goes over HTTP to the fake.

Quick start::

    from sheetcrm.testing import FakeSheetsServer

    with FakeSheetsServer() as fake:
        sid = fake.create_spreadsheet("CRM", {"Contacts": [["Name", "Email"], ["Ann", "a@x.org"]]})
        gc = fake.client()                      # a real gspread.Client
        ws = gc.open_by_key(sid).worksheet("Contacts")
        ws.update([["Bob", "b@x.org"]], "A3")
        assert fake.get_values(sid, "Contacts")[2] == ["Bob", "b@x.org"]

Pointing other code at the fake
-------------------------------
gspread hard-codes ``https://sheets.googleapis.com`` and ``https://www.googleapis.com``.
Code that builds its own gspread client (for example with its own ``HTTPClient`` subclass)
can be redirected in one of three ways:

* ``redirect_session(client.http_client.session, fake.url)`` mounts a ``requests``
  transport adapter that rewrites those hosts (and ``oauth2.googleapis.com``, for token
  refreshes) to the fake. Works on any ``requests.Session``, including
  ``google.auth.transport.requests.AuthorizedSession``.
* ``gspread.Client(creds, http_client=fake.http_client_class)`` uses
  :class:`FakeHTTPClient` bound to this fake.
* ``fake_http_client(fake.url, MyHTTPClient)`` returns a subclass of *your* HTTP client
  class that redirects, so its retry/backoff logic runs unchanged against the fake.

Test hooks
----------
``fake.requests`` (every request, recorded), ``fake.request_count``,
``fake.cells_written``, ``fake.reset_counters()``, ``fake.inject_fault(...)`` (429/5xx,
Retry-After, delays for timeouts, dropped connections) and
``fake.between_requests(callback)`` (act as a person editing the sheet between a sync's
read and its write). Helpers such as ``create_spreadsheet``, ``set_values``,
``insert_rows``, ``delete_rows``, ``sort_rows`` and ``make_private`` change state directly,
as a person in the browser would, without counting as API requests.

Faithfulness
------------
The reference is real recorded Google traffic; ``scripts/replay_recordings.py`` replays it
against the fake and reports every difference. Known, deliberate deviations:

* Formulas: a small evaluator (arithmetic, comparison, ``&``, cell and range references,
  about thirty common functions). Anything else evaluates to ``#NAME?``; ``FORMULA``
  rendering always returns the formula text as entered. References in formulas are not
  rewritten when rows or columns are inserted, deleted or sorted.
* ``USER_ENTERED`` parsing covers numbers (with thousands separators, ``%``, ``$``),
  booleans, ISO dates and datetimes, ``M/D/YYYY`` (day-first for non-US locales) and times.
  Google's parser knows more (``1-2`` becomes a date there, text here).
* Number formats: a subset of Google's pattern language (``0``, ``#``, ``,``, ``.``,
  ``%``, ``E+``, quoted literals, date/time tokens). "Automatic" formatting shows up to ten
  decimals and switches to ``1.23457E+15`` above 1e15.
* Data validation is stored and reported but not enforced on writes; protected ranges are
  stored but the caller is always treated as the owner (who may edit them).
* Batch-update request kinds that only change presentation (borders, merges, conditional
  formats, filters, banding, auto-resize) are accepted and answered with ``{}`` without
  modelling their effect; kinds that change data and are not implemented answer 501.
* Whether a non-ASCII sheet title is quoted in echoed ranges (``公司!A1`` vs
  ``'公司'!A1``) is not in the recordings; the fake leaves letters of any script bare.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import json
import math
import random
import re
import socket
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Literal, TypeAlias
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from sheetcrm._a1 import (
    A1Range,
    A1SyntaxError,
    column_index,
    column_letters,
    format_grid_range,
    parse_a1,
    parse_cell_part,
    quote_sheet_title,
)

__all__ = [
    "GOOGLE_HOSTS",
    "Fault",
    "FakeHTTPClient",
    "FakeSheetsServer",
    "RecordedRequest",
    "fake_http_client",
    "redirect_session",
]

GOOGLE_HOSTS: tuple[str, ...] = (
    "https://sheets.googleapis.com",
    "https://www.googleapis.com",
    "https://oauth2.googleapis.com",
)

Json: TypeAlias = Any
Scalar: TypeAlias = str | int | float | bool
MaskTree: TypeAlias = dict[str, Any] | None  # None = "everything below here"

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
_MAX_CELLS = 10_000_000  # Google's per-spreadsheet cell limit
_SERIAL_EPOCH = _dt.datetime(1899, 12, 30)
_OWNER_EMAIL = "fake-owner@sheetcrm.invalid"

# Google's defaults for a new spreadsheet, as every spreadsheets.get returns them.
_DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}


def _theme_color(kind: str, red: float = 0, green: float = 0, blue: float = 0) -> dict[str, Any]:
    rgb = {k: v for k, v in (("red", red), ("green", green), ("blue", blue)) if v}
    return {"colorType": kind, "color": {"rgbColor": rgb}}


_DEFAULT_THEME: dict[str, Any] = {
    "primaryFontFamily": "Arial",
    "themeColors": [
        _theme_color("TEXT"),
        _theme_color("BACKGROUND", 1, 1, 1),
        _theme_color("ACCENT1", 0.25882354, 0.52156866, 0.95686275),
        _theme_color("ACCENT2", 0.91764706, 0.2627451, 0.20784314),
        _theme_color("ACCENT3", 0.9843137, 0.7372549, 0.015686275),
        _theme_color("ACCENT4", 0.20392157, 0.65882355, 0.3254902),
        _theme_color("ACCENT5", 1, 0.42745098, 0.003921569),
        _theme_color("ACCENT6", 0.27450982, 0.7411765, 0.7764706),
        _theme_color("LINK", 0.06666667, 0.33333334, 0.8),
    ],
}

_STATUS_NAMES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_DEFAULT_FAULT_MESSAGES: dict[int, str] = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    409: "The operation was aborted.",
    429: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per "
    "minute per user' of service 'sheets.googleapis.com' for consumer "
    "'project_number:000000000000'.",
    500: "Internal error encountered.",
    502: "The service is currently unavailable.",
    503: "The service is currently unavailable.",
    504: "The service is currently unavailable.",
}


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer: HTTP status plus Google's JSON error body.

    ``drive=True`` gives the Drive v3 body shape (``errors[]`` with a ``reason``, no
    ``status``); otherwise the Sheets shape (``status`` name, optional ``details``).
    """

    def __init__(
        self,
        code: int,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        drive_reason: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        self.drive_reason = drive_reason
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body Google sends with this error."""
        if self.drive_reason is not None:
            return {
                "error": {
                    "code": self.code,
                    "message": self.message,
                    "errors": [
                        {
                            "message": self.message,
                            "domain": "global",
                            "reason": self.drive_reason,
                            **(
                                {"location": "fileId", "locationType": "parameter"}
                                if self.drive_reason == "notFound"
                                else {}
                            ),
                        }
                    ],
                }
            }
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "status": _STATUS_NAMES.get(self.code, "UNKNOWN"),
        }
        if self.details:
            error["details"] = self.details
        return {"error": error}


def _bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def _field_violation(field_name: str, description: str) -> ApiError:
    """400 with the ``google.rpc.BadRequest`` details Google adds for malformed payloads."""
    return ApiError(
        400,
        description,
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field_name, "description": description}],
            }
        ],
    )


class _RequestError(Exception):
    """A batchUpdate sub-request failed; the dispatcher prefixes ``Invalid requests[i].kind``."""


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

    def vacant(self) -> bool:
        """True when nothing at all is stored (the cell can be dropped)."""
        return self.value is None and not self.fmt and self.note is None and not self.validation


_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_GROUPED_RE = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+)(\.\d*)?$")
_PERCENT_RE = re.compile(r"^([+-]?(?:\d+(?:\.(\d*))?|\.(\d+)))\s*%$")
_CURRENCY_RE = re.compile(r"^([+-]?)\$\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$")
_ISO_DATE_RE = re.compile(
    r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_SLASH_DATE_RE = re.compile(
    r"^(\d{1,2})([/.])(\d{1,2})\2(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
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


def _date_value(
    year: int, month: int, day: int, hh: str | None, mm: str | None, ss: str | None
) -> float | None:
    try:
        moment = _dt.datetime(year, month, day, int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        return None
    serial = to_serial(moment)
    return int(serial) if float(serial).is_integer() else serial


def parse_user_entered(
    value: Scalar, locale: str = "en_US"
) -> tuple[Scalar | None, bool, dict[str, str] | None]:
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
        serial = _date_value(
            int(m.group(1)), int(m.group(3)), int(m.group(4)), m.group(5), m.group(6), m.group(7)
        )
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
_DATE_TOKEN_RE = re.compile(
    r"yyyy|yy|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss\.0+|ss|s|am/pm|a/p", re.IGNORECASE
)
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


# --------------------------------------------------------------------------------------
# Formulas
# --------------------------------------------------------------------------------------


class FormulaError(Exception):
    """A spreadsheet error value such as ``#DIV/0!``; also used to propagate it."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.message = message or {
            "#DIV/0!": "Function DIVIDE parameter 2 cannot be zero.",
            "#VALUE!": "Function parameter has the wrong type.",
            "#REF!": "Reference does not exist.",
            "#NAME?": "Unknown function or range name.",
            "#N/A": "Value not available.",
            "#NUM!": "Invalid numeric value.",
            "#ERROR!": "Formula parse error.",
        }.get(code, code)

    @property
    def error_type(self) -> str:
        """The ``ErrorValue.type`` name Google reports in grid data."""
        return {
            "#DIV/0!": "DIVIDE_BY_ZERO",
            "#VALUE!": "VALUE",
            "#REF!": "REF",
            "#NAME?": "NAME",
            "#N/A": "N_A",
            "#NUM!": "NUM",
            "#ERROR!": "ERROR",
        }.get(self.code, "ERROR")


class _Blank:
    """The value of an empty cell inside formulas (0 in arithmetic, "" in text)."""

    def __repr__(self) -> str:
        return "<blank>"


BLANK = _Blank()
FValue: TypeAlias = float | int | str | bool | _Blank | FormulaError

_SHEET_PREFIX = r"(?:'(?:[^']|'')+'|[^\W\d][\w.]*)!"
_REF_RE = re.compile(
    rf"(?P<sheet>{_SHEET_PREFIX})?"
    r"(?P<ref>\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d*)?"
    r"|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}(?:\$?\d+)?"
    r"|\$?\d+:\$?\d+)"
    r"(?![\w(])"
)
_FNUM_RE = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT_RE = re.compile(r"[^\W\d][\w.]*")
_ERROR_LITERAL_RE = re.compile(r"#(?:DIV/0!|VALUE!|REF!|NAME\?|N/A|NUM!|NULL!|ERROR!)")
_OPERATORS = ("<>", "<=", ">=", "+", "-", "*", "/", "^", "&", "=", "<", ">", "%")


def _tokenize_formula(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == '"':
            j = i + 1
            buf = []
            while True:
                if j >= len(text):
                    raise FormulaError("#ERROR!", "Unterminated string.")
                if text[j] == '"':
                    if j + 1 < len(text) and text[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            tokens.append(("str", "".join(buf)))
            i = j + 1
            continue
        m = _ERROR_LITERAL_RE.match(text, i)
        if m:
            tokens.append(("err", m.group(0)))
            i = m.end()
            continue
        m = _REF_RE.match(text, i)
        if m:
            sheet = m.group("sheet")
            title = None
            if sheet:
                raw = sheet[:-1]
                title = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
            try:
                bounds = parse_cell_part(m.group("ref"))
            except A1SyntaxError as exc:
                raise FormulaError("#ERROR!", str(exc)) from exc
            tokens.append(("ref", A1Range(title, *bounds)))
            i = m.end()
            continue
        m = _FNUM_RE.match(text, i)
        if m:
            tokens.append(("num", float(m.group(0))))
            i = m.end()
            continue
        m = _IDENT_RE.match(text, i)
        if m:
            tokens.append(("ident", m.group(0)))
            i = m.end()
            continue
        for op in _OPERATORS:
            if text.startswith(op, i):
                tokens.append(("op", op))
                i += len(op)
                break
        else:
            if ch in "(),;":
                tokens.append((ch if ch != ";" else ",", ch))
                i += 1
            else:
                raise FormulaError("#ERROR!", f"Unexpected character {ch!r}.")
    return tokens


class _FormulaParser:
    """Recursive descent over formula tokens; produces nested tuples (the AST)."""

    _COMPARE = ("=", "<>", "<", ">", "<=", ">=")

    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise FormulaError("#ERROR!", "Unexpected end of formula.")
        self.pos += 1
        return tok

    def parse(self) -> tuple[Any, ...]:
        node = self.comparison()
        if self.peek() is not None:
            raise FormulaError("#ERROR!", f"Unexpected token {self.peek()!r}.")
        return node

    def _binary(self, ops: tuple[str, ...], lower: Callable[[], tuple[Any, ...]]) -> Any:
        node = lower()
        while (tok := self.peek()) is not None and tok[0] == "op" and tok[1] in ops:
            self.pos += 1
            node = ("bin", tok[1], node, lower())
        return node

    def comparison(self) -> tuple[Any, ...]:
        return self._binary(self._COMPARE, self.concat)

    def concat(self) -> tuple[Any, ...]:
        return self._binary(("&",), self.additive)

    def additive(self) -> tuple[Any, ...]:
        return self._binary(("+", "-"), self.multiplicative)

    def multiplicative(self) -> tuple[Any, ...]:
        return self._binary(("*", "/"), self.power)

    def power(self) -> tuple[Any, ...]:
        return self._binary(("^",), self.unary)

    def unary(self) -> tuple[Any, ...]:
        tok = self.peek()
        if tok is not None and tok[0] == "op" and tok[1] in ("+", "-"):
            self.pos += 1
            return ("neg", self.unary()) if tok[1] == "-" else self.unary()
        return self.postfix()

    def postfix(self) -> tuple[Any, ...]:
        node = self.primary()
        while (tok := self.peek()) is not None and tok == ("op", "%"):
            self.pos += 1
            node = ("pct", node)
        return node

    def primary(self) -> tuple[Any, ...]:
        kind, value = self.take()
        if kind == "num":
            return ("num", value)
        if kind == "str":
            return ("str", value)
        if kind == "err":
            return ("err", value)
        if kind == "ref":
            return ("ref", value)
        if kind == "(":
            node = self.comparison()
            if self.take()[0] != ")":
                raise FormulaError("#ERROR!", "Missing ')'.")
            return node
        if kind == "ident":
            nxt = self.peek()
            if nxt is not None and nxt[0] == "(":
                self.pos += 1
                args: list[tuple[Any, ...]] = []
                if self.peek() is not None and self.peek()[0] == ")":  # type: ignore[index]
                    self.pos += 1
                    return ("call", value.upper(), args)
                while True:
                    if self.peek() is not None and self.peek()[0] in (",", ")"):  # type: ignore[index]
                        args.append(("blank",))
                    else:
                        args.append(self.comparison())
                    sep = self.take()[0]
                    if sep == ")":
                        return ("call", value.upper(), args)
                    if sep != ",":
                        raise FormulaError("#ERROR!", "Expected ',' or ')'.")
            upper = value.upper()
            if upper in ("TRUE", "FALSE"):
                return ("bool", upper == "TRUE")
            return ("name", value)
        raise FormulaError("#ERROR!", f"Unexpected token {value!r}.")


def _to_number(value: FValue) -> float:
    if isinstance(value, FormulaError):
        raise value
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, _Blank):
        return 0.0
    text = value.strip()
    if _NUMBER_RE.match(text):
        return float(text)
    parsed, _, fmt = parse_user_entered(text)
    if isinstance(parsed, int | float) and not isinstance(parsed, bool) and fmt is not None:
        return float(parsed)
    raise FormulaError(
        "#VALUE!", f"Function expects number values. But '{value}' is a text and cannot be "
        "coerced to a number."
    )


def _to_text(value: FValue) -> str:
    if isinstance(value, FormulaError):
        raise value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return format_general(float(value))
    if isinstance(value, _Blank):
        return ""
    return value


def _to_bool(value: FValue) -> bool:
    if isinstance(value, FormulaError):
        raise value
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, _Blank):
        return False
    if value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE"
    raise FormulaError("#VALUE!", f"Function expects boolean values. But '{value}' is a text.")


def _sort_rank(value: FValue) -> tuple[int, Any]:
    """Order used by comparisons and sorting: numbers < text < booleans < errors."""
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, float(value))
    if isinstance(value, str):
        return (1, value.casefold())
    if isinstance(value, FormulaError):
        return (3, value.code)
    return (-1, 0)


def _compare(op: str, left: FValue, right: FValue) -> bool:
    if isinstance(left, _Blank):
        left = "" if isinstance(right, str) else (False if isinstance(right, bool) else 0.0)
    if isinstance(right, _Blank):
        right = "" if isinstance(left, str) else (False if isinstance(left, bool) else 0.0)
    a, b = _sort_rank(left), _sort_rank(right)
    return {
        "=": a == b,
        "<>": a != b,
        "<": a < b,
        ">": a > b,
        "<=": a <= b,
        ">=": a >= b,
    }[op]


class _Evaluator:
    """Evaluates formulas of one spreadsheet, memoising each cell for one render pass."""

    def __init__(self, book: Spreadsheet) -> None:
        self.book = book
        self.memo: dict[tuple[int, int, int], FValue] = {}
        self.active: set[tuple[int, int, int]] = set()

    # -- cell access ------------------------------------------------------------------

    def cell_value(self, sheet: Sheet, row: int, col: int) -> FValue:
        """The computed value of one cell (formulas evaluated, errors as values)."""
        cell = sheet.get(row, col)
        if cell is None or cell.value is None:
            return BLANK
        if not cell.formula:
            return cell.value
        key = (sheet.sheet_id, row, col)
        if key in self.memo:
            return self.memo[key]
        if key in self.active:
            return FormulaError("#REF!", "Circular dependency detected.")
        self.active.add(key)
        try:
            result = self.evaluate(str(cell.value), sheet)
        finally:
            self.active.discard(key)
        self.memo[key] = result
        return result

    def evaluate(self, formula: str, sheet: Sheet) -> FValue:
        """Evaluate ``=...`` text in the context of ``sheet``."""
        try:
            ast = _FormulaParser(_tokenize_formula(formula[1:])).parse()
            value = self.scalar(ast, sheet)
        except FormulaError as err:
            return err
        except (OverflowError, ValueError) as exc:
            return FormulaError("#NUM!", str(exc))
        return value

    def _resolve(self, ref: A1Range, sheet: Sheet) -> tuple[Sheet, int, int, int, int]:
        target = sheet if ref.sheet is None else self.book.find_sheet(ref.sheet)
        if target is None:
            raise FormulaError("#REF!", f"Unresolved sheet name '{ref.sheet}'.")
        r0 = ref.start_row or 0
        c0 = ref.start_col or 0
        r1 = target.row_count if ref.end_row is None else ref.end_row
        c1 = target.col_count if ref.end_col is None else ref.end_col
        if r1 > target.row_count or c1 > target.col_count:
            raise FormulaError("#REF!", "Reference beyond the grid.")
        return target, r0, c0, r1, c1

    def range_values(self, ref: A1Range, sheet: Sheet) -> list[list[FValue]]:
        target, r0, c0, r1, c1 = self._resolve(ref, sheet)
        # Only materialise stored rows: a whole-column reference must not walk 10M cells.
        r1 = min(r1, max((r + 1 for r in target.cells if r < r1), default=r0))
        return [[self.cell_value(target, r, c) for c in range(c0, c1)] for r in range(r0, r1)]

    # -- evaluation -------------------------------------------------------------------

    def scalar(self, node: tuple[Any, ...], sheet: Sheet) -> FValue:
        kind = node[0]
        if kind == "num":
            value = node[1]
            return int(value) if float(value).is_integer() else value
        if kind in ("str", "bool"):
            return node[1]  # type: ignore[no-any-return]
        if kind == "blank":
            return BLANK
        if kind == "err":
            raise FormulaError(node[1])
        if kind == "name":
            raise FormulaError("#NAME?", f"Unknown range name: '{node[1]}'.")
        if kind == "ref":
            ref: A1Range = node[1]
            target, r0, c0, r1, c1 = self._resolve(ref, sheet)
            if r1 - r0 == 1 and c1 - c0 == 1:
                value = self.cell_value(target, r0, c0)
                if isinstance(value, FormulaError):
                    raise value
                return value
            raise FormulaError(
                "#VALUE!", "An array value could not be found."
            )
        if kind == "neg":
            return -_to_number(self.scalar(node[1], sheet))
        if kind == "pct":
            return _to_number(self.scalar(node[1], sheet)) / 100
        if kind == "bin":
            return self._binary(node[1], node[2], node[3], sheet)
        if kind == "call":
            return self._call(node[1], node[2], sheet)
        raise FormulaError("#ERROR!", f"Unknown node {kind}.")

    def _binary(self, op: str, left_node: Any, right_node: Any, sheet: Sheet) -> FValue:
        left = self.scalar(left_node, sheet)
        right = self.scalar(right_node, sheet)
        if op == "&":
            return _to_text(left) + _to_text(right)
        if op in _FormulaParser._COMPARE:
            for value in (left, right):
                if isinstance(value, FormulaError):
                    raise value
            return _compare(op, left, right)
        a, b = _to_number(left), _to_number(right)
        if op == "+":
            result = a + b
        elif op == "-":
            result = a - b
        elif op == "*":
            result = a * b
        elif op == "/":
            if b == 0:
                raise FormulaError("#DIV/0!")
            result = a / b
        else:
            result = a**b
            if isinstance(result, complex):
                raise FormulaError("#NUM!")
        return int(result) if float(result).is_integer() and abs(result) < 2**53 else result

    def flat(self, nodes: Iterable[tuple[Any, ...]], sheet: Sheet) -> Iterator[tuple[FValue, bool]]:
        """Yield (value, came_from_range) for aggregate functions like SUM."""
        for node in nodes:
            if node[0] == "ref":
                for row in self.range_values(node[1], sheet):
                    for value in row:
                        yield value, True
            else:
                yield self.scalar(node, sheet), False

    def _numbers(self, args: list[tuple[Any, ...]], sheet: Sheet) -> list[float]:
        out: list[float] = []
        for value, from_range in self.flat(args, sheet):
            if isinstance(value, FormulaError):
                raise value
            if from_range:
                if isinstance(value, int | float) and not isinstance(value, bool):
                    out.append(float(value))
            elif not isinstance(value, _Blank):
                out.append(_to_number(value))
        return out

    def _call(self, name: str, args: list[tuple[Any, ...]], sheet: Sheet) -> FValue:
        def arg(i: int, default: FValue | None = None) -> FValue:
            if i < len(args) and args[i][0] != "blank":
                return self.scalar(args[i], sheet)
            if default is None:
                raise FormulaError(
                    "#N/A", f"Wrong number of arguments to {name}. Expected more arguments."
                )
            return default

        def result(number: float) -> float | int:
            return int(number) if float(number).is_integer() and abs(number) < 2**53 else number

        if name == "IF":
            branch = 1 if _to_bool(arg(0)) else 2
            if branch < len(args):
                return self.scalar(args[branch], sheet)
            return False if branch == 2 else True
        if name == "IFERROR":
            try:
                value = arg(0)
                if isinstance(value, FormulaError):
                    raise value
                return value
            except FormulaError:
                return arg(1, "")
        if name in ("SUM", "AVERAGE", "MIN", "MAX", "COUNT", "PRODUCT"):
            numbers = self._numbers(args, sheet)
            if name == "SUM":
                return result(math.fsum(numbers))
            if name == "PRODUCT":
                return result(math.prod(numbers)) if numbers else 0
            if name == "COUNT":
                return len(numbers)
            if name == "AVERAGE":
                if not numbers:
                    raise FormulaError("#DIV/0!", "Evaluation of function AVERAGE caused a "
                                       "divide by zero error.")
                return result(math.fsum(numbers) / len(numbers))
            if not numbers:
                return 0
            return result(min(numbers) if name == "MIN" else max(numbers))
        if name in ("COUNTA", "COUNTBLANK"):
            values = [v for v, _ in self.flat(args, sheet)]
            blanks = sum(1 for v in values if isinstance(v, _Blank) or v == "")
            return len(values) - blanks if name == "COUNTA" else blanks
        if name in ("AND", "OR"):
            flags = [_to_bool(v) for v, _ in self.flat(args, sheet) if not isinstance(v, _Blank)]
            return all(flags) if name == "AND" else any(flags)
        if name == "NOT":
            return not _to_bool(arg(0))
        if name in ("CONCATENATE", "CONCAT"):
            return "".join(_to_text(v) for v, _ in self.flat(args, sheet))
        if name == "LEN":
            return len(_to_text(arg(0)))
        if name == "UPPER":
            return _to_text(arg(0)).upper()
        if name == "LOWER":
            return _to_text(arg(0)).lower()
        if name == "PROPER":
            return _to_text(arg(0)).title()
        if name == "TRIM":
            return " ".join(_to_text(arg(0)).split())
        if name == "LEFT":
            return _to_text(arg(0))[: int(_to_number(arg(1, 1)))]
        if name == "RIGHT":
            count = int(_to_number(arg(1, 1)))
            text = _to_text(arg(0))
            return text[len(text) - count :] if count else ""
        if name == "MID":
            start = int(_to_number(arg(1))) - 1
            return _to_text(arg(0))[start : start + int(_to_number(arg(2)))]
        if name in ("ROUND", "ROUNDUP", "ROUNDDOWN"):
            number = _to_number(arg(0))
            places = int(_to_number(arg(1, 0)))
            factor = 10.0**places
            if name == "ROUND":
                scaled = math.floor(abs(number) * factor + 0.5)
            elif name == "ROUNDUP":
                scaled = math.ceil(abs(number) * factor - 1e-9)
            else:
                scaled = math.floor(abs(number) * factor + 1e-9)
            return result(math.copysign(scaled / factor, number))
        if name == "ABS":
            return result(abs(_to_number(arg(0))))
        if name == "INT":
            return result(math.floor(_to_number(arg(0))))
        if name == "MOD":
            divisor = _to_number(arg(1))
            if divisor == 0:
                raise FormulaError("#DIV/0!")
            return result(_to_number(arg(0)) % divisor)
        if name == "POWER":
            return result(_to_number(arg(0)) ** _to_number(arg(1)))
        if name == "SQRT":
            number = _to_number(arg(0))
            if number < 0:
                raise FormulaError("#NUM!")
            return result(math.sqrt(number))
        if name == "VALUE":
            return result(_to_number(arg(0)))
        if name == "TEXT":
            value = arg(0)
            if isinstance(value, int | float) and not isinstance(value, bool):
                pattern = _to_text(arg(1))
                is_date = bool(re.search(r"[yd]|h|ss", pattern, re.IGNORECASE))
                kind = "DATE" if is_date else "NUMBER"
                return format_number(float(value), {"type": kind, "pattern": pattern})
            return _to_text(value)
        if name in ("ISBLANK", "ISNUMBER", "ISTEXT", "ISERROR", "ISLOGICAL"):
            try:
                value = arg(0)
            except FormulaError as err:
                value = err
            return {
                "ISBLANK": isinstance(value, _Blank),
                "ISNUMBER": isinstance(value, int | float) and not isinstance(value, bool),
                "ISTEXT": isinstance(value, str),
                "ISERROR": isinstance(value, FormulaError),
                "ISLOGICAL": isinstance(value, bool),
            }[name]
        if name == "DATE":
            try:
                moment = _dt.date(
                    int(_to_number(arg(0))), int(_to_number(arg(1))), int(_to_number(arg(2)))
                )
            except ValueError as exc:
                raise FormulaError("#NUM!", str(exc)) from exc
            return int(to_serial(moment))
        if name == "TODAY":
            return int(to_serial(_dt.date.today()))
        if name == "NOW":
            return to_serial(_dt.datetime.now())
        if name == "NA":
            raise FormulaError("#N/A")
        raise FormulaError("#NAME?", f"Unknown function: '{name.lower()}'.")


# --------------------------------------------------------------------------------------
# Spreadsheet model
# --------------------------------------------------------------------------------------

Dimension = Literal["ROWS", "COLUMNS"]
_SHEET_EXTRA_PROPS = ("tabColor", "tabColorStyle", "rightToLeft", "dataSourceSheetProperties")
_PRESENTATION_KEYS = ("merges", "conditionalFormats", "bandedRanges", "basicFilter", "charts")


def _now_iso() -> str:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass
class Sheet:
    """One tab: grid properties plus a sparse grid ``cells[row][col]`` (0-based)."""

    sheet_id: int
    title: str
    row_count: int = DEFAULT_ROWS
    col_count: int = DEFAULT_COLUMNS
    frozen_rows: int = 0
    frozen_cols: int = 0
    hidden: bool = False
    hide_gridlines: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    cells: dict[int, dict[int, Cell]] = field(default_factory=dict)
    protected_ranges: list[dict[str, Any]] = field(default_factory=list)
    depths: dict[str, dict[int, int]] = field(
        default_factory=lambda: {"ROWS": {}, "COLUMNS": {}}
    )
    group_control_after: dict[str, bool] = field(default_factory=dict)
    dim_props: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {"ROWS": {}, "COLUMNS": {}}
    )
    presentation: dict[str, Any] = field(default_factory=dict)

    def get(self, row: int, col: int) -> Cell | None:
        """The stored cell at (row, col) or None."""
        row_cells = self.cells.get(row)
        return None if row_cells is None else row_cells.get(col)

    def ensure(self, row: int, col: int) -> Cell:
        """The cell at (row, col), created empty if absent."""
        return self.cells.setdefault(row, {}).setdefault(col, Cell())

    def prune(self, row: int, col: int) -> None:
        """Forget the cell at (row, col) if nothing is stored in it any more."""
        row_cells = self.cells.get(row)
        if row_cells is None:
            return
        cell = row_cells.get(col)
        if cell is not None and cell.vacant():
            del row_cells[col]
        if not row_cells:
            del self.cells[row]

    def iter_cells(self) -> Iterator[tuple[int, int, Cell]]:
        """Every stored cell as (row, col, cell)."""
        for r, row_cells in self.cells.items():
            for c, cell in row_cells.items():
                yield r, c, cell

    def remap(self, fn: Callable[[int, int], tuple[int, int] | None]) -> None:
        """Move every stored cell to ``fn(row, col)``; cells mapped to None are dropped."""
        moved: dict[int, dict[int, Cell]] = {}
        for r, c, cell in self.iter_cells():
            pos = fn(r, c)
            if pos is not None:
                moved.setdefault(pos[0], {})[pos[1]] = cell
        self.cells = moved

    def value_bounds(self) -> tuple[int, int]:
        """(rows, cols) just covering every cell that holds a value."""
        rows = cols = 0
        for r, c, cell in self.iter_cells():
            if cell.value is not None:
                rows = max(rows, r + 1)
                cols = max(cols, c + 1)
        return rows, cols

    def count(self, dim: str) -> int:
        return self.row_count if dim == "ROWS" else self.col_count

    def properties(self, index: int) -> dict[str, Any]:
        """This sheet's ``SheetProperties`` as Google returns them (zero values omitted)."""
        grid: dict[str, Any] = {"rowCount": self.row_count, "columnCount": self.col_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_cols:
            grid["frozenColumnCount"] = self.frozen_cols
        if self.hide_gridlines:
            grid["hideGridlines"] = True
        if self.group_control_after.get("ROWS"):
            grid["rowGroupControlAfter"] = True
        if self.group_control_after.get("COLUMNS"):
            grid["columnGroupControlAfter"] = True
        props: dict[str, Any] = {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }
        if self.hidden:
            props["hidden"] = True
        props.update(copy.deepcopy(self.extra))
        return props

    def groups(self, dim: str) -> list[dict[str, Any]]:
        """Dimension groups derived from per-index depths, as ``DimensionGroup`` dicts."""
        depths = self.depths[dim]
        if not depths:
            return []
        out: list[dict[str, Any]] = []
        for level in range(1, max(depths.values()) + 1):
            start: int | None = None
            for index in range(min(depths), max(depths) + 2):
                inside = depths.get(index, 0) >= level
                if inside and start is None:
                    start = index
                elif not inside and start is not None:
                    out.append(
                        {
                            "range": {"dimension": dim, "startIndex": start, "endIndex": index},
                            "depth": level,
                        }
                    )
                    start = None
        out.sort(key=lambda g: (g["range"]["startIndex"], g["depth"]))
        if self.sheet_id:
            for group in out:
                group["range"] = {"sheetId": self.sheet_id, **group["range"]}
        return out


@dataclass
class Spreadsheet:
    """A spreadsheet (one Drive file): properties, sheets and Drive-side metadata."""

    spreadsheet_id: str
    title: str
    sheets: list[Sheet] = field(default_factory=list)
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    auto_recalc: str = "ON_CHANGE"
    extra: dict[str, Any] = field(default_factory=dict)
    private: bool = False
    created_time: str = field(default_factory=_now_iso)
    modified_time: str = field(default_factory=_now_iso)
    permissions: list[dict[str, Any]] = field(default_factory=list)
    named_ranges: list[dict[str, Any]] = field(default_factory=list)

    def find_sheet(self, title: str) -> Sheet | None:
        """Sheet by title: exact match first, then case-insensitive (as Google resolves)."""
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        folded = title.casefold()
        for sheet in self.sheets:
            if sheet.title.casefold() == folded:
                return sheet
        return None

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        return None

    def index_of(self, sheet: Sheet) -> int:
        return next(i for i, s in enumerate(self.sheets) if s is sheet)

    def properties(self) -> dict[str, Any]:
        """``SpreadsheetProperties`` as Google returns them."""
        props: dict[str, Any] = {
            "title": self.title,
            "locale": self.locale,
            "autoRecalc": self.auto_recalc,
            "timeZone": self.time_zone,
            "defaultFormat": copy.deepcopy(_DEFAULT_FORMAT),
            "spreadsheetTheme": copy.deepcopy(_DEFAULT_THEME),
        }
        props.update(copy.deepcopy(self.extra))
        return props

    def touch(self) -> None:
        self.modified_time = _now_iso()


# --------------------------------------------------------------------------------------
# Grid geometry helpers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Box:
    """A resolved, bounded, half-open rectangle on one sheet."""

    sheet: Sheet
    r0: int
    c0: int
    r1: int
    c1: int

    @property
    def rows(self) -> int:
        return self.r1 - self.r0

    @property
    def cols(self) -> int:
        return self.c1 - self.c0

    def a1(self, *, always_quote: bool = False) -> str:
        return format_grid_range(
            self.sheet.title, self.r0, self.c0, self.r1, self.c1, always_quote=always_quote
        )


def _exceeds_grid(sheet: Sheet, r0: int, c0: int, r1: int, c1: int) -> ApiError:
    text = format_grid_range(sheet.title, r0, c0, max(r1, r0 + 1), max(c1, c0 + 1),
                             always_quote=True)
    return _bad_request(
        f"Range ({text}) exceeds grid limits. Max rows: {sheet.row_count}, "
        f"max columns: {sheet.col_count}"
    )


def _grid_box(sheet: Sheet, grid_range: Mapping[str, Any], *, clip: bool = False) -> _Box:
    """Resolve a ``GridRange`` dict (missing indices = unbounded) to a box on ``sheet``."""
    r0 = int(grid_range.get("startRowIndex") or 0)
    c0 = int(grid_range.get("startColumnIndex") or 0)
    r1_raw = grid_range.get("endRowIndex")
    c1_raw = grid_range.get("endColumnIndex")
    r1 = sheet.row_count if r1_raw is None else int(r1_raw)
    c1 = sheet.col_count if c1_raw is None else int(c1_raw)
    if r0 < 0 or c0 < 0 or r1 < r0 or c1 < c0:
        raise _RequestError("The range is invalid: start indices must not exceed end indices.")
    if clip:
        r1, c1 = min(r1, sheet.row_count), min(c1, sheet.col_count)
    elif r1 > sheet.row_count or c1 > sheet.col_count:
        raise _RequestError(str(_exceeds_grid(sheet, r0, c0, r1, c1).message))
    return _Box(sheet, r0, c0, r1, c1)


def _shift_index_insert(index: int | None, at: int, count: int, *, is_end: bool) -> int | None:
    if index is None:
        return None
    if index > at or (index == at and not is_end):
        return index + count
    return index


def _shift_index_delete(index: int | None, start: int, end: int) -> int | None:
    if index is None:
        return None
    if index <= start:
        return index
    if index >= end:
        return index - (end - start)
    return start


_DIM_KEYS = {
    "ROWS": ("startRowIndex", "endRowIndex"),
    "COLUMNS": ("startColumnIndex", "endColumnIndex"),
}


def _shift_grid_range(
    grid_range: dict[str, Any], dim: str, *, insert: tuple[int, int] | None = None,
    delete: tuple[int, int] | None = None,
) -> bool:
    """Adjust a GridRange in place for an insert or delete; False when nothing is left."""
    start_key, end_key = _DIM_KEYS[dim]
    start, end = grid_range.get(start_key), grid_range.get(end_key)
    if insert is not None:
        at, count = insert
        start = _shift_index_insert(start, at, count, is_end=False)
        end = _shift_index_insert(end, at, count, is_end=True)
    elif delete is not None:
        start = _shift_index_delete(start, *delete)
        end = _shift_index_delete(end, *delete)
        if start is not None and end is not None and end <= start:
            return False
    for key, value in ((start_key, start), (end_key, end)):
        if value is not None:
            grid_range[key] = value
    return True


def _each_presentation_range(sheet: Sheet) -> Iterator[tuple[list[Any], int, dict[str, Any]]]:
    """Yield (owner list, index, GridRange) for every stored range that moves with the grid."""
    for owner in (sheet.protected_ranges, sheet.presentation.get("merges", [])):
        for i, item in enumerate(owner):
            grid = item.get("range", item) if owner is sheet.protected_ranges else item
            yield owner, i, grid


def insert_dimension(sheet: Sheet, dim: str, at: int, count: int) -> None:
    """Insert ``count`` empty rows/columns before index ``at`` (0-based)."""
    if dim == "ROWS":
        sheet.remap(lambda r, c: (r + count if r >= at else r, c))
        sheet.row_count += count
        if at < sheet.frozen_rows:
            sheet.frozen_rows += count
    else:
        sheet.remap(lambda r, c: (r, c + count if c >= at else c))
        sheet.col_count += count
        if at < sheet.frozen_cols:
            sheet.frozen_cols += count
    for _owner, _i, grid in list(_each_presentation_range(sheet)):
        _shift_grid_range(grid, dim, insert=(at, count))
    depths = sheet.depths[dim]
    inherited = min(depths.get(at - 1, 0), depths.get(at, 0))
    shifted = {(k + count if k >= at else k): v for k, v in depths.items()}
    for k in range(at, at + count):
        if inherited:
            shifted[k] = inherited
    sheet.depths[dim] = shifted
    props = sheet.dim_props[dim]
    sheet.dim_props[dim] = {(k + count if k >= at else k): v for k, v in props.items()}


def delete_dimension(sheet: Sheet, dim: str, start: int, end: int) -> None:
    """Delete rows/columns ``[start, end)``; everything below/right moves up/left."""
    count = end - start

    def move(index: int) -> int | None:
        if index < start:
            return index
        if index >= end:
            return index - count
        return None

    if dim == "ROWS":
        sheet.remap(lambda r, c: None if move(r) is None else (move(r), c))  # type: ignore[return-value]
        sheet.row_count -= count
        sheet.frozen_rows -= max(0, min(end, sheet.frozen_rows) - start)
    else:
        sheet.remap(lambda r, c: None if move(c) is None else (r, move(c)))  # type: ignore[return-value]
        sheet.col_count -= count
        sheet.frozen_cols -= max(0, min(end, sheet.frozen_cols) - start)
    for owner in (sheet.protected_ranges, sheet.presentation.get("merges", [])):
        keep = []
        for item in owner:
            grid = item.get("range", item) if owner is sheet.protected_ranges else item
            if _shift_grid_range(grid, dim, delete=(start, end)):
                keep.append(item)
        owner[:] = keep
    for key in ("depths", "dim_props"):
        table: dict[str, dict[int, Any]] = getattr(sheet, key)
        table[dim] = {
            moved: v for k, v in table[dim].items() if (moved := move(k)) is not None
        }


def resize_sheet(sheet: Sheet, rows: int, cols: int) -> None:
    """Set the grid size; shrinking drops whatever lies outside."""
    if rows < sheet.row_count:
        delete_dimension(sheet, "ROWS", rows, sheet.row_count)
    elif rows > sheet.row_count:
        sheet.row_count = rows
    if cols < sheet.col_count:
        delete_dimension(sheet, "COLUMNS", cols, sheet.col_count)
    elif cols > sheet.col_count:
        sheet.col_count = cols


def _sort_key(value: FValue, descending: bool) -> tuple[int, Any]:
    """Sort key that keeps blanks last in either direction (as Google does)."""
    if isinstance(value, _Blank) or value == "":
        return (1, 0)
    rank, inner = _sort_rank(value)
    if descending:
        # Negate by rank and value so a plain ascending sort yields descending order.
        if isinstance(inner, float):
            return (0, (-rank, -inner))
        return (0, (-rank, _Reversed(inner)))
    return (0, (rank, inner))


@dataclass(frozen=True)
class _Reversed:
    """Wraps a value so that comparisons are inverted (for descending text sorts)."""

    value: Any

    def __lt__(self, other: _Reversed) -> bool:
        return bool(self.value > other.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


def sort_box(book: Spreadsheet, box: _Box, specs: Sequence[tuple[int, bool]]) -> None:
    """Stable-sort the rows of ``box`` by (column index, descending) specs.

    Only cells inside the box's columns move, exactly like the Sheets UI and API.
    """
    evaluator = _Evaluator(book)
    sheet = box.sheet
    rows = list(range(box.r0, box.r1))
    snapshot = {r: {c: sheet.get(r, c) for c in range(box.c0, box.c1)} for r in rows}
    values = {
        r: {col: evaluator.cell_value(sheet, r, col) for col, _ in specs} for r in rows
    }

    def key(row: int) -> tuple[Any, ...]:
        return tuple(_sort_key(values[row][col], desc) for col, desc in specs)

    ordered = sorted(rows, key=key)
    for target, source in zip(rows, ordered, strict=True):
        for c in range(box.c0, box.c1):
            cell = snapshot[source][c]
            row_cells = sheet.cells.setdefault(target, {})
            if cell is None:
                row_cells.pop(c, None)
            else:
                row_cells[c] = cell
        if not sheet.cells[target]:
            del sheet.cells[target]


def _current_region(sheet: Sheet, row: int, col: int) -> tuple[int, int, int, int]:
    """The table around a non-empty cell: grow the box while any neighbour has a value.

    Neighbours include diagonals, like Ctrl+A / Excel's CurrentRegion, which is how the
    Sheets ``values.append`` call finds the "table" it appends to.
    """
    r0, c0, r1, c1 = row, col, row + 1, col + 1

    def has_value(r: int, c: int) -> bool:
        cell = sheet.get(r, c)
        return cell is not None and cell.value is not None

    while True:
        grown = False
        if r0 > 0 and any(has_value(r0 - 1, c) for c in range(max(c0 - 1, 0), c1 + 1)):
            r0 -= 1
            grown = True
        if r1 < sheet.row_count and any(has_value(r1, c) for c in range(max(c0 - 1, 0), c1 + 1)):
            r1 += 1
            grown = True
        if c0 > 0 and any(has_value(r, c0 - 1) for r in range(max(r0 - 1, 0), r1 + 1)):
            c0 -= 1
            grown = True
        if c1 < sheet.col_count and any(has_value(r, c1) for r in range(max(r0 - 1, 0), r1 + 1)):
            c1 += 1
            grown = True
        if not grown:
            return r0, c0, r1, c1
