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
  about forty common functions). Anything else evaluates to ``#NAME?``. References are
  rewritten when rows/columns are inserted or deleted and when a sheet is renamed, as in
  Google; sorting moves formulas without adjusting their references, and deleting a sheet
  leaves references to it evaluating to ``#REF!`` rather than rewriting the text.
* ``USER_ENTERED`` parsing covers numbers (with thousands separators, ``%``, ``$``),
  booleans, ISO dates and datetimes, ``M/D/YYYY`` (day-first for non-US locales) and times.
  Google's parser knows more (``1-2`` becomes a date there, text here).
* Number formats: a subset of Google's pattern language (``0``, ``#``, ``,``, ``.``,
  ``%``, ``E+``, quoted literals, date/time tokens). "Automatic" formatting shows up to ten
  decimals and switches to ``1.23457E+15`` above 1e15.
* Data validation is stored and reported but not enforced on writes; protected ranges are
  stored but the caller is always treated as the owner (who may edit them).
* Batch-update request kinds that only change presentation (borders, conditional
  formats, filters, banding, auto-resize) are accepted and answered with ``{}`` without
  modelling their effect; kinds that change data and are not implemented (``findReplace``,
  ``copyPaste``, ``cutPaste``, ``moveDimension``, ``insertRange``/``deleteRange``, ...)
  answer 501 UNIMPLEMENTED, never a silent success. Drive export/import also answer 501.
* Error texts for cases absent from the recordings follow Google's known wording where it
  is known (``exceeds grid limits``, ``Requested writing within range``, ``Unable to parse
  range``, ``You can't hide all the sheets``); a few rarer ones are best guesses.
* Whether a non-ASCII sheet title is quoted in echoed ranges (``公司!A1`` vs
  ``'公司'!A1``) is not in the recordings; the fake leaves letters of any script bare.
"""

from __future__ import annotations

import contextlib
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Literal, TypeAlias
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from gspread.http_client import HTTPClient
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
    "FakeHTTPClient",
    "FakeSheetsServer",
    "Fault",
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
                if (after := self.peek()) is not None and after[0] == ")":
                    self.pos += 1
                    return ("call", value.upper(), args)
                while True:
                    if (after := self.peek()) is not None and after[0] in (",", ")"):
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
        "#VALUE!",
        f"Function expects number values. But '{value}' is a text and cannot be coerced to a number.",
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
            return node[1]
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
            raise FormulaError("#VALUE!", "An array value could not be found.")
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
                raise FormulaError("#N/A", f"Wrong number of arguments to {name}. Expected more arguments.")
            return default

        def result(number: float) -> float | int:
            return int(number) if float(number).is_integer() and abs(number) < 2**53 else number

        if name == "IF":
            branch = 1 if _to_bool(arg(0)) else 2
            if branch < len(args):
                return self.scalar(args[branch], sheet)
            return branch != 2
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
                    raise FormulaError("#DIV/0!", "Evaluation of function AVERAGE caused a divide by zero error.")
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
                moment = _dt.date(int(_to_number(arg(0))), int(_to_number(arg(1))), int(_to_number(arg(2))))
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
    now = _dt.datetime.now(_dt.UTC)
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
    depths: dict[str, dict[int, int]] = field(default_factory=lambda: {"ROWS": {}, "COLUMNS": {}})
    group_control_after: dict[str, bool] = field(default_factory=dict)
    dim_props: dict[str, dict[int, dict[str, Any]]] = field(default_factory=lambda: {"ROWS": {}, "COLUMNS": {}})
    presentation: dict[str, Any] = field(default_factory=dict)

    def clone(self) -> Sheet:
        """An independent copy (cells are copied one by one; their dicts are never mutated
        in place, so sharing those is safe and much faster than a deep copy)."""
        other = copy.copy(self)
        other.cells = {
            r: {c: Cell(x.value, x.formula, x.fmt, x.note, x.validation) for c, x in row.items()}
            for r, row in self.cells.items()
        }
        for name in (
            "extra", "protected_ranges", "depths", "group_control_after", "dim_props",
            "presentation",
        ):  # fmt: skip
            setattr(other, name, copy.deepcopy(getattr(self, name)))
        return other

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

    def clone(self) -> Spreadsheet:
        """An independent copy, for all-or-nothing batch updates."""
        other = copy.copy(self)
        other.sheets = [sheet.clone() for sheet in self.sheets]
        other.extra = copy.deepcopy(self.extra)
        other.permissions = copy.deepcopy(self.permissions)
        other.named_ranges = copy.deepcopy(self.named_ranges)
        return other

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
        return format_grid_range(self.sheet.title, self.r0, self.c0, self.r1, self.c1, always_quote=always_quote)


def _exceeds_grid(sheet: Sheet, r0: int, c0: int, r1: int, c1: int) -> ApiError:
    text = format_grid_range(sheet.title, r0, c0, max(r1, r0 + 1), max(c1, c0 + 1), always_quote=True)
    return _bad_request(
        f"Range ({text}) exceeds grid limits. Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
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
    grid_range: dict[str, Any],
    dim: str,
    *,
    insert: tuple[int, int] | None = None,
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


_REF_ENDPOINT_RE = re.compile(r"^(\$?)([A-Za-z]{0,3})(\$?)(\d*)$")


def _shift_ref(ref: str, dim: str, shift: Callable[[int, str], int | None]) -> str:
    """Rewrite one reference (``A5``, ``$B$2:C9``, ``A:A``, ``3:4``) for a row/column move."""
    ends = ref.split(":")
    parsed = []
    for text in ends:
        m = _REF_ENDPOINT_RE.match(text)
        if m is None:
            return ref
        parsed.append(list(m.groups()))
    for i, parts in enumerate(parsed):
        role = "cell" if len(parsed) == 1 else ("start" if i == 0 else "end")
        if dim == "ROWS" and parts[3]:
            moved = shift(int(parts[3]) - 1, role)
            if moved is None or moved < 0:
                return "#REF!"
            parts[3] = str(moved + 1)
        elif dim == "COLUMNS" and parts[1]:
            moved = shift(column_index(parts[1]), role)
            if moved is None or moved < 0:
                return "#REF!"
            parts[1] = column_letters(moved)
    if len(parsed) == 2:
        index = 3 if dim == "ROWS" else 1
        first, last = parsed[0][index], parsed[1][index]
        if first and last:
            as_int = int if dim == "ROWS" else column_index
            if as_int(last) < as_int(first):
                return "#REF!"
    return ":".join("".join(p) for p in parsed)


RefRewriter: TypeAlias = Callable[[str | None, str, str], str]


def _rewrite_book_formulas(book: Spreadsheet, rewrite_for: Callable[[Sheet], RefRewriter]) -> None:
    """Rewrite the references of every formula in ``book``.

    ``rewrite_for(home_sheet)`` returns a function ``(title, sheet_prefix, ref) -> text``
    for formulas living on ``home_sheet`` (``title`` is None for unqualified references).
    """
    for sheet in book.sheets:
        rewrite = rewrite_for(sheet)
        for _, _, cell in sheet.iter_cells():
            if cell.formula and isinstance(cell.value, str):
                cell.value = _rewrite_formula_refs(cell.value, rewrite)


def _shift_formulas(book: Spreadsheet, target: Sheet, dim: str, shift: Callable[[int, str], int | None]) -> None:
    """Rewrite every formula reference to ``target`` after its rows/columns moved."""

    def rewrite_for(home: Sheet) -> RefRewriter:
        def rewrite(title: str | None, prefix: str, ref: str) -> str:
            if (home if title is None else book.find_sheet(title)) is not target:
                return prefix + ref
            moved = _shift_ref(ref, dim, shift)
            return moved if moved == "#REF!" else prefix + moved

        return rewrite

    _rewrite_book_formulas(book, rewrite_for)


def rename_in_formulas(book: Spreadsheet, old_title: str, new_title: str) -> None:
    """Point ``'Old'!A1``-style references at a renamed sheet, as Google does on rename."""

    def rewrite(title: str | None, prefix: str, ref: str) -> str:
        if title is not None and title.casefold() == old_title.casefold():
            return quote_sheet_title(new_title) + "!" + ref
        return prefix + ref

    _rewrite_book_formulas(book, lambda _home: rewrite)


def _rewrite_formula_refs(formula: str, rewrite: RefRewriter) -> str:
    """Pass each reference of one formula through ``rewrite``; strings stay untouched."""
    out: list[str] = []
    i = 0
    text = formula
    while i < len(text):
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < len(text):
                if text[j] == '"':
                    if j + 1 < len(text) and text[j + 1] == '"':
                        j += 2
                        continue
                    break
                j += 1
            out.append(text[i : j + 1])
            i = j + 1
            continue
        m = _ERROR_LITERAL_RE.match(text, i)
        if m is None and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_.$")):
            m = _REF_RE.match(text, i)
            if m is not None:
                prefix = m.group("sheet") or ""
                title = None
                if prefix:
                    raw = prefix[:-1]
                    title = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
                out.append(rewrite(title, prefix, m.group("ref")))
                i = m.end()
                continue
        m = m or _FNUM_RE.match(text, i) or _IDENT_RE.match(text, i)
        if m is not None and m.end() > i:
            out.append(m.group(0))
            i = m.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def insert_dimension(sheet: Sheet, dim: str, at: int, count: int, book: Spreadsheet | None = None) -> None:
    """Insert ``count`` empty rows/columns before index ``at`` (0-based).

    With ``book``, formulas anywhere in it that point at this sheet are rewritten the way
    Google rewrites them (``=A5`` becomes ``=A6`` when a row is inserted above row 5).
    """
    if book is not None:
        _shift_formulas(book, sheet, dim, lambda i, role: i + count if i >= at else i)
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


def delete_dimension(sheet: Sheet, dim: str, start: int, end: int, book: Spreadsheet | None = None) -> None:
    """Delete rows/columns ``[start, end)``; everything below/right moves up/left.

    With ``book``, formulas pointing at this sheet are rewritten; references to deleted
    cells become ``#REF!``, ranges shrink.
    """
    count = end - start
    if book is not None:

        def shift(index: int, role: str) -> int | None:
            if index < start:
                return index
            if index >= end:
                return index - count
            # Inside the deleted block: a lone cell is gone, a range edge snaps to its rim.
            return {"start": start, "end": start - 1}.get(role)

        _shift_formulas(book, sheet, dim, shift)

    def move(index: int) -> int | None:
        if index < start:
            return index
        if index >= end:
            return index - count
        return None

    if dim == "ROWS":

        def move_row(r: int, c: int) -> tuple[int, int] | None:
            moved = move(r)
            return None if moved is None else (moved, c)

        sheet.remap(move_row)
        sheet.row_count -= count
        sheet.frozen_rows -= max(0, min(end, sheet.frozen_rows) - start)
    else:

        def move_col(r: int, c: int) -> tuple[int, int] | None:
            moved = move(c)
            return None if moved is None else (r, moved)

        sheet.remap(move_col)
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
        table[dim] = {moved: v for k, v in table[dim].items() if (moved := move(k)) is not None}


def resize_sheet(sheet: Sheet, rows: int, cols: int, book: Spreadsheet | None = None) -> None:
    """Set the grid size; shrinking drops whatever lies outside."""
    if rows < sheet.row_count:
        delete_dimension(sheet, "ROWS", rows, sheet.row_count, book)
    elif rows > sheet.row_count:
        sheet.row_count = rows
    if cols < sheet.col_count:
        delete_dimension(sheet, "COLUMNS", cols, sheet.col_count, book)
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
    values = {r: {col: evaluator.cell_value(sheet, r, col) for col, _ in specs} for r in rows}

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

    def row_has(r: int) -> bool:
        return any(c0 - 1 <= c <= c1 and cell.value is not None for c, cell in sheet.cells.get(r, {}).items())

    def col_has(c: int) -> bool:
        return any(
            r0 - 1 <= r <= r1 and (cell := cells.get(c)) is not None and cell.value is not None
            for r, cells in sheet.cells.items()
        )

    # Grow one edge at a time so a tall table costs O(rows), not O(rows^2).
    while True:
        grown = False
        while r0 > 0 and row_has(r0 - 1):
            r0, grown = r0 - 1, True
        while r1 < sheet.row_count and row_has(r1):
            r1, grown = r1 + 1, True
        while c0 > 0 and col_has(c0 - 1):
            c0, grown = c0 - 1, True
        while c1 < sheet.col_count and col_has(c1):
            c1, grown = c1 + 1, True
        if not grown:
            return r0, c0, r1, c1


# --------------------------------------------------------------------------------------
# Field masks (the ``fields`` query parameter and the ``fields`` of update requests)
# --------------------------------------------------------------------------------------


def parse_field_mask(text: str) -> MaskTree:
    """Parse ``sheets(properties(title,index)),spreadsheetId`` or ``a/b,a.c`` into a tree.

    The tree maps a field name to its sub-tree; ``None`` means "the whole field". ``*``
    (alone) returns None: everything.
    """
    pos = 0

    def parse_list(closing: str | None) -> dict[str, Any]:
        nonlocal pos
        tree: dict[str, Any] = {}
        while pos < len(text):
            if text[pos] in ", ":
                pos += 1
                continue
            if closing is not None and text[pos] == closing:
                pos += 1
                return tree
            start = pos
            while pos < len(text) and text[pos] not in ",()":
                pos += 1
            path = [p for p in re.split(r"[./]", text[start:pos].strip()) if p]
            sub: Any = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = parse_list(")")
            _merge_path(tree, path, sub)
        if closing is not None:
            raise ValueError(f"unbalanced parentheses in field mask {text!r}")
        return tree

    tree = parse_list(None)
    if "*" in tree and tree["*"] is None:
        return None
    return tree


def _merge_path(tree: dict[str, Any], path: list[str], sub: Any) -> None:
    if not path:
        return
    node = tree
    for name in path[:-1]:
        existing = node.get(name, {})
        if existing is None:  # already "everything"
            return
        node[name] = existing
        node = existing
    last = path[-1]
    if last in node:
        if node[last] is None or sub is None:
            node[last] = None
        else:
            for key, value in sub.items():
                _merge_path(node[last], [key], value)
    else:
        node[last] = sub


def apply_mask(obj: Json, tree: MaskTree) -> Json:
    """Keep only the parts of ``obj`` named by the mask (lists are masked element-wise)."""
    if tree is None:
        return obj
    if isinstance(obj, list):
        return [apply_mask(item, tree) for item in obj]
    if isinstance(obj, dict):
        if "*" in tree:
            return {k: apply_mask(v, tree.get(k, tree["*"])) for k, v in obj.items()}
        return {k: apply_mask(obj[k], sub) for k, sub in tree.items() if k in obj}
    return obj


def _mask_reaches(tree: MaskTree, path: Sequence[str]) -> bool:
    """Does the mask select anything at or below ``path``?"""
    node = tree
    for name in path:
        if node is None:
            return True
        if name in node:
            node = node[name]
        elif "*" in node:
            node = node["*"]
        else:
            return False
    return True


def apply_update_mask(target: dict[str, Any], source: Mapping[str, Any], tree: MaskTree) -> None:
    """Copy the masked fields from ``source`` into ``target``; masked-but-absent fields reset."""
    if tree is None:
        target.clear()
        target.update(copy.deepcopy(dict(source)))
        return
    for key, sub in tree.items():
        if key == "*":
            for name, value in source.items():
                target[name] = copy.deepcopy(value)
            continue
        if sub is None:
            if key in source and source[key] is not None:
                target[key] = copy.deepcopy(source[key])
            else:
                target.pop(key, None)
            continue
        child = target.get(key)
        if not isinstance(child, dict):
            child = {}
        src_child = source.get(key)
        apply_update_mask(child, src_child if isinstance(src_child, Mapping) else {}, sub)
        if child:
            target[key] = child
        else:
            target.pop(key, None)


# --------------------------------------------------------------------------------------
# Value rendering
# --------------------------------------------------------------------------------------

_VALUE_RENDER = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
_DATETIME_RENDER = ("SERIAL_NUMBER", "FORMATTED_STRING")
_DIMENSIONS = ("ROWS", "COLUMNS")
_INPUT_OPTIONS = ("RAW", "USER_ENTERED")


def _json_number(value: float | int) -> float | int:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def render_cell(
    evaluator: _Evaluator,
    sheet: Sheet,
    row: int,
    col: int,
    cell: Cell | None,
    value_render: str = "FORMATTED_VALUE",
    datetime_render: str = "SERIAL_NUMBER",
) -> Json:
    """One cell as the values API returns it, or None for an empty cell."""
    if cell is None or cell.value is None:
        return None
    if cell.formula and value_render == "FORMULA":
        return cell.value
    value = evaluator.cell_value(sheet, row, col) if cell.formula else cell.value
    if isinstance(value, FormulaError):
        return value.code
    if isinstance(value, _Blank):
        return ""
    if isinstance(value, bool):
        if value_render == "FORMATTED_VALUE":
            return "TRUE" if value else "FALSE"
        return value
    if isinstance(value, int | float):
        number_format = _number_format_of(cell)
        if value_render == "FORMATTED_VALUE":
            return format_number(float(value), number_format)
        if number_format and number_format.get("type") in _DATE_TYPES and datetime_render == "FORMATTED_STRING":
            return format_number(float(value), number_format)
        return _json_number(value)
    return value


def _rows_in(sheet: Sheet, r0: int, r1: int) -> list[int]:
    return sorted(r for r in sheet.cells if r0 <= r < r1)


def render_matrix(
    book: Spreadsheet,
    box: _Box,
    major: str = "ROWS",
    value_render: str = "FORMATTED_VALUE",
    datetime_render: str = "SERIAL_NUMBER",
    evaluator: _Evaluator | None = None,
) -> list[list[Json]]:
    """The ``values`` of a ValueRange: trailing empty cells and rows trimmed like Google."""
    evaluator = evaluator or _Evaluator(book)
    sheet = box.sheet
    found: dict[int, dict[int, Json]] = {}
    for r in _rows_in(sheet, box.r0, box.r1):
        for c, cell in sheet.cells[r].items():
            if box.c0 <= c < box.c1:
                value = render_cell(evaluator, sheet, r, c, cell, value_render, datetime_render)
                if value is not None:
                    outer, inner = (r - box.r0, c - box.c0)
                    if major == "COLUMNS":
                        outer, inner = inner, outer
                    found.setdefault(outer, {})[inner] = value
    if not found:
        return []
    out: list[list[Json]] = []
    for i in range(max(found) + 1):
        line = found.get(i)
        out.append([line.get(j, "") for j in range(max(line) + 1)] if line else [])
    return out


def _user_entered_value(cell: Cell) -> dict[str, Any]:
    if cell.formula:
        return {"formulaValue": cell.value}
    if isinstance(cell.value, bool):
        return {"boolValue": cell.value}
    if isinstance(cell.value, int | float):
        return {"numberValue": _json_number(cell.value)}
    return {"stringValue": cell.value}


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _cell_data(evaluator: _Evaluator, sheet: Sheet, row: int, col: int, cell: Cell) -> dict:
    """``CellData`` for grid-data responses."""
    data: dict[str, Any] = {}
    if cell.value is not None:
        data["userEnteredValue"] = _user_entered_value(cell)
        value = evaluator.cell_value(sheet, row, col) if cell.formula else cell.value
        if isinstance(value, FormulaError):
            data["effectiveValue"] = {"errorValue": {"type": value.error_type, "message": value.message}}
        elif isinstance(value, bool):
            data["effectiveValue"] = {"boolValue": value}
        elif isinstance(value, int | float):
            data["effectiveValue"] = {"numberValue": _json_number(value)}
        elif isinstance(value, str):
            data["effectiveValue"] = {"stringValue": value}
        formatted = render_cell(evaluator, sheet, row, col, cell)
        if formatted not in (None, ""):
            data["formattedValue"] = formatted
    if cell.fmt:
        data["userEnteredFormat"] = copy.deepcopy(cell.fmt)
    if cell.value is not None or cell.fmt:
        data["effectiveFormat"] = _deep_merge(_DEFAULT_FORMAT, cell.fmt or {})
    if cell.note:
        data["note"] = cell.note
    if cell.validation:
        data["dataValidation"] = copy.deepcopy(cell.validation)
    return data


def _grid_data(evaluator: _Evaluator, box: _Box) -> dict[str, Any]:
    """``GridData`` for one range (rows up to the last stored one, Google-style)."""
    sheet = box.sheet
    grid: dict[str, Any] = {}
    if box.r0:
        grid["startRow"] = box.r0
    if box.c0:
        grid["startColumn"] = box.c0
    stored = [r for r in _rows_in(sheet, box.r0, box.r1) if any(box.c0 <= c < box.c1 for c in sheet.cells[r])]
    if stored:
        row_data: list[dict[str, Any]] = []
        for r in range(box.r0, stored[-1] + 1):
            cols = [c for c in sheet.cells.get(r, {}) if box.c0 <= c < box.c1]
            if not cols:
                row_data.append({})
                continue
            values = []
            for c in range(box.c0, max(cols) + 1):
                cell = sheet.get(r, c)
                values.append({} if cell is None else _cell_data(evaluator, sheet, r, c, cell))
            row_data.append({"values": values})
        grid["rowData"] = row_data
    for dim, key, lo, hi, size in (
        ("ROWS", "rowMetadata", box.r0, box.r1, 21),
        ("COLUMNS", "columnMetadata", box.c0, box.c1, 100),
    ):
        props = sheet.dim_props[dim]
        grid[key] = [{"pixelSize": size, **props.get(i, {})} for i in range(lo, hi)]
    return grid


def _clean_color(color: Mapping[str, Any]) -> dict[str, Any]:
    """Colours as Google echoes them: zero components are omitted (proto3 defaults)."""
    return {k: v for k, v in color.items() if v}


def _normalize_format(fmt: dict[str, Any], *, tab: bool = False) -> dict[str, Any]:
    """Fill in the ``*Style`` twins Google derives from plain colours (and vice versa).

    ``tab=True`` handles sheet properties (``tabColor``/``tabColorStyle``) instead.
    """

    def pair(container: dict[str, Any], plain: str) -> None:
        style = plain + "Style"
        if isinstance(container.get(plain), dict):
            container[plain] = _clean_color(container[plain])
            container[style] = {"rgbColor": copy.deepcopy(container[plain])}
        elif isinstance(container.get(style), dict) and "rgbColor" in container[style]:
            container[style] = {"rgbColor": _clean_color(container[style]["rgbColor"])}
            container[plain] = copy.deepcopy(container[style]["rgbColor"])
        else:
            container.pop(style, None)

    if tab:
        pair(fmt, "tabColor")
        return fmt
    pair(fmt, "backgroundColor")
    text_format = fmt.get("textFormat")
    if isinstance(text_format, dict):
        pair(text_format, "foregroundColor")
    borders = fmt.get("borders")
    if isinstance(borders, dict):
        for side in borders.values():
            if isinstance(side, dict):
                pair(side, "color")
    return fmt


# --------------------------------------------------------------------------------------
# The API: state plus one method per endpoint (no HTTP in here)
# --------------------------------------------------------------------------------------

_ID_ALPHABET = string.ascii_letters + string.digits + "-_"
_PRESENTATION_ONLY = frozenset(
    {
        "updateBorders",
        "autoResizeDimensions",
        "addConditionalFormatRule",
        "setBasicFilter",
        "clearBasicFilter",
        "updateDimensionGroup",
        "updateBanding",
        "deleteBanding",
    }
)
_NOT_IMPLEMENTED = frozenset(
    {
        "findReplace", "copyPaste", "cutPaste", "pasteData", "textToColumns", "autoFill",
        "deleteRange", "insertRange", "moveDimension", "trimWhitespace", "deleteDuplicates",
        "randomizeRange", "addChart", "addSlicer", "addFilterView", "duplicateFilterView",
        "updateFilterView", "deleteFilterView", "addBanding", "createDeveloperMetadata",
        "updateDeveloperMetadata", "deleteDeveloperMetadata", "updateChartSpec",
        "deleteEmbeddedObject", "updateEmbeddedObjectPosition", "updateEmbeddedObjectBorder",
        "updateSlicerSpec", "addDataSource", "updateDataSource", "deleteDataSource",
        "refreshDataSource", "cancelDataSourceRefresh", "updateNamedRange",
        "updateConditionalFormatRule", "deleteConditionalFormatRule", "addTable",
        "updateTable", "deleteTable", "appendCells",
    }
)  # fmt: skip


@dataclass
class _Response:
    status: int
    body: Json = None
    headers: dict[str, str] = field(default_factory=dict)


def _first(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _query_bool(query: Mapping[str, list[str]], name: str, proto_name: str) -> bool | None:
    raw = _first(query, name)
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0", ""):
        return False
    raise _field_violation(proto_name, f"Invalid value at '{proto_name}' (TYPE_BOOL), \"{raw}\"")


def _query_enum(
    query: Mapping[str, list[str]],
    name: str,
    allowed: Sequence[str],
    default: str | None,
    proto_name: str,
    proto_type: str,
) -> str | None:
    raw = _first(query, name)
    if raw is None or raw.endswith("_UNSPECIFIED"):
        return default
    if raw not in allowed:
        raise _field_violation(
            proto_name,
            f"Invalid value at '{proto_name}' (type.googleapis.com/google.apps.sheets.v4.{proto_type}), \"{raw}\"",
        )
    return raw


def _body_enum(
    body: Mapping[str, Any],
    name: str,
    allowed: Sequence[str],
    default: str | None,
    proto_name: str,
    proto_type: str,
) -> str | None:
    raw = body.get(name)
    if raw is None or (isinstance(raw, str) and raw.endswith("_UNSPECIFIED")):
        return default
    if raw not in allowed:
        raise _field_violation(
            proto_name,
            f"Invalid value at '{proto_name}' (type.googleapis.com/google.apps.sheets.v4."
            f"{proto_type}), {json.dumps(raw)}",
        )
    return str(raw)


def _clean_range(grid_range: Mapping[str, Any]) -> dict[str, Any]:
    """A GridRange as Google echoes it: ``sheetId`` 0 is omitted (proto3 default)."""
    return {k: v for k, v in grid_range.items() if not (k == "sheetId" and not v)}


@dataclass
class _Write:
    """A validated, not yet applied write of a matrix at (r0, c0) on one sheet."""

    sheet: Sheet
    r0: int
    c0: int
    matrix: list[list[Json]]
    input_option: str

    @property
    def rows(self) -> int:
        return len(self.matrix)

    @property
    def cols(self) -> int:
        return max((len(row) for row in self.matrix), default=0)

    @property
    def cells(self) -> int:
        return sum(len(row) for row in self.matrix)

    def box(self) -> _Box:
        return _Box(self.sheet, self.r0, self.c0, self.r0 + self.rows, self.c0 + self.cols)


class _Api:
    """All spreadsheets plus the logic of every endpoint. Callers hold ``lock``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lock = threading.RLock()
        self.books: dict[str, Spreadsheet] = {}
        self.deleted: set[str] = set()
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.cells_written = 0

    # -- ids and lookup ---------------------------------------------------------------

    def new_spreadsheet_id(self) -> str:
        while True:
            sid = "1" + "".join(self.rng.choice(_ID_ALPHABET) for _ in range(43))
            if sid not in self.books and sid not in self.deleted:
                return sid

    def new_sheet_id(self, book: Spreadsheet) -> int:
        while True:
            sheet_id = self.rng.randrange(1, 2**31 - 1)
            if book.sheet_by_id(sheet_id) is None:
                return sheet_id

    def new_small_id(self) -> int:
        return self.rng.randrange(1, 2**31 - 1)

    def create_book(self, title: str, sheet_specs: Sequence[Mapping[str, Any]] | None = None) -> Spreadsheet:
        """A new spreadsheet; ``sheet_specs`` are SheetProperties-like dicts."""
        book = Spreadsheet(self.new_spreadsheet_id(), title)
        book.permissions.append(
            {
                "kind": "drive#permission",
                "id": "00000000000000000000",
                "type": "user",
                "role": "owner",
                "emailAddress": _OWNER_EMAIL,
                "displayName": "Fake Owner",
                "deleted": False,
                "pendingOwner": False,
            }
        )
        for i, spec in enumerate(sheet_specs or [{}]):
            grid = spec.get("gridProperties") or {}
            sheet_id = spec.get("sheetId")
            if sheet_id is None:
                sheet_id = 0 if i == 0 else self.new_sheet_id(book)
            book.sheets.append(
                Sheet(
                    sheet_id=int(sheet_id),
                    title=str(spec.get("title") or self._default_title(book)),
                    row_count=int(grid.get("rowCount", DEFAULT_ROWS)),
                    col_count=int(grid.get("columnCount", DEFAULT_COLUMNS)),
                    frozen_rows=int(grid.get("frozenRowCount", 0)),
                    frozen_cols=int(grid.get("frozenColumnCount", 0)),
                    hidden=bool(spec.get("hidden", False)),
                )
            )
        self.books[book.spreadsheet_id] = book
        return book

    @staticmethod
    def _default_title(book: Spreadsheet) -> str:
        n = len(book.sheets) + 1
        while book.find_sheet(f"Sheet{n}") is not None:
            n += 1
        return f"Sheet{n}"

    def book_for_sheets(self, spreadsheet_id: str) -> Spreadsheet:
        """The spreadsheet, or the 404/403 a Sheets endpoint answers."""
        book = self.books.get(spreadsheet_id)
        if book is None:
            raise ApiError(404, "Requested entity was not found.")
        if book.private:
            raise ApiError(403, "The caller does not have permission")
        return book

    def book_for_drive(self, file_id: str) -> Spreadsheet:
        """The spreadsheet, or Drive's 404 (Drive hides files the caller cannot see)."""
        book = self.books.get(file_id)
        if book is None or book.private:
            raise ApiError(404, f"File not found: {file_id}.", drive_reason="notFound")
        return book

    # -- ranges -----------------------------------------------------------------------

    def resolve_range(self, book: Spreadsheet, text: str) -> tuple[Sheet, A1Range]:
        """Parse A1 text against a spreadsheet (sheet names, named ranges, first sheet)."""
        try:
            parsed = parse_a1(text)
        except A1SyntaxError:
            raise _bad_request(f"Unable to parse range: {text}") from None
        if parsed.sheet is None:
            # "A1:B2 refers to ... the first visible sheet" (Sheets API docs).
            first = next((s for s in book.sheets if not s.hidden), book.sheets[0])
            return first, parsed
        sheet = book.find_sheet(parsed.sheet)
        if sheet is None and not parsed.cells:
            named = next((n for n in book.named_ranges if n.get("name") == parsed.sheet), None)
            if named is not None:
                grid = named.get("range", {})
                target = book.sheet_by_id(int(grid.get("sheetId", 0)))
                if target is not None:
                    return target, A1Range(
                        target.title,
                        grid.get("startRowIndex", 0),
                        grid.get("startColumnIndex", 0),
                        grid.get("endRowIndex"),
                        grid.get("endColumnIndex"),
                    )
        if sheet is None:
            raise _bad_request(f"Unable to parse range: {text}")
        return sheet, parsed

    def read_box(self, book: Spreadsheet, text: str) -> _Box:
        """A range for reading/clearing: open ends stop at the grid, explicit ends must fit."""
        sheet, rng = self.resolve_range(book, text)
        r0 = rng.start_row or 0
        c0 = rng.start_col or 0
        r1 = sheet.row_count if rng.end_row is None else rng.end_row
        c1 = sheet.col_count if rng.end_col is None else rng.end_col
        if r0 >= sheet.row_count or c0 >= sheet.col_count or r1 > sheet.row_count or c1 > sheet.col_count:
            raise _exceeds_grid(sheet, r0, c0, r1, c1)
        return _Box(sheet, r0, c0, r1, c1)

    # -- values: writing --------------------------------------------------------------

    @staticmethod
    def _matrix(values: Json, major: str, field_prefix: str) -> list[list[Json]]:
        if values is None:
            return []
        if not isinstance(values, list):
            raise _field_violation(
                f"{field_prefix}.values",
                f"Invalid value at '{field_prefix}.values' "
                f"(type.googleapis.com/google.protobuf.ListValue), {json.dumps(values)}",
            )
        for i, row in enumerate(values):
            if not isinstance(row, list):
                name = f"{field_prefix}.values[{i}]"
                raise _field_violation(
                    name,
                    f"Invalid value at '{name}' (type.googleapis.com/google.protobuf.ListValue), {json.dumps(row)}",
                )
            for j, value in enumerate(row):
                if isinstance(value, dict | list):
                    kind = "struct_value" if isinstance(value, dict) else "list_value"
                    raise _bad_request(f"Invalid values[{i}][{j}]: {kind}")
        if major == "COLUMNS":
            height = max((len(col) for col in values), default=0)
            return [[col[r] if r < len(col) else None for col in values] for r in range(height)]
        return [list(row) for row in values]

    def plan_write(
        self,
        book: Spreadsheet,
        range_text: str,
        body: Mapping[str, Any],
        input_option: str,
        field_prefix: str,
    ) -> _Write:
        """Validate a values write (update or batchUpdate entry) without applying it."""
        major = _body_enum(
            body,
            "majorDimension",
            _DIMENSIONS,
            "ROWS",
            f"{field_prefix}.major_dimension",
            "Dimension",
        )
        matrix = self._matrix(body.get("values"), str(major), field_prefix)
        sheet, rng = self.resolve_range(book, range_text)
        r0 = rng.start_row or 0
        c0 = rng.start_col or 0
        single_cell = (
            rng.cells
            and rng.end_row is not None
            and rng.end_col is not None
            and rng.end_row - r0 == 1
            and rng.end_col - c0 == 1
        )
        limit_r1 = sheet.row_count if rng.end_row is None or single_cell else rng.end_row
        limit_c1 = sheet.col_count if rng.end_col is None or single_cell else rng.end_col
        write = _Write(sheet, r0, c0, matrix, input_option)
        if single_cell and (r0 >= sheet.row_count or c0 >= sheet.col_count):
            # A lone start cell names no size: Google reports where the data would go.
            raise _exceeds_grid(sheet, r0, c0, r0 + max(write.rows, 1), c0 + max(write.cols, 1))
        if r0 >= sheet.row_count or c0 >= sheet.col_count or limit_r1 > sheet.row_count or limit_c1 > sheet.col_count:
            raise _exceeds_grid(sheet, r0, c0, max(limit_r1, r0 + 1), max(limit_c1, c0 + 1))
        if not single_cell:
            requested = format_grid_range(sheet.title, r0, c0, limit_r1, limit_c1, always_quote=True)
            if r0 + write.rows > limit_r1:
                raise _bad_request(
                    f"Requested writing within range [{requested}], but tried writing to row [{limit_r1 + 1}]"
                )
            if c0 + write.cols > limit_c1:
                raise _bad_request(
                    f"Requested writing within range [{requested}], but tried writing to column "
                    f"[{column_letters(limit_c1)}]"
                )
        if r0 + write.rows > sheet.row_count or c0 + write.cols > sheet.col_count:
            raise _exceeds_grid(sheet, r0, c0, r0 + write.rows, c0 + write.cols)
        return write

    def apply_write(self, book: Spreadsheet, write: _Write) -> None:
        """Store a planned write and count its cells."""
        sheet = write.sheet
        for i, row in enumerate(write.matrix):
            for j, raw in enumerate(row):
                if raw is None:
                    continue  # null means "leave this cell alone"
                r, c = write.r0 + i, write.c0 + j
                if write.input_option == "RAW":
                    stored: Scalar | None = None if raw == "" else raw
                    is_formula, number_format = False, None
                else:
                    stored, is_formula, number_format = parse_user_entered(raw, book.locale)
                if stored is None:
                    cell = sheet.get(r, c)
                    if cell is not None:
                        cell.value, cell.formula = None, False
                        sheet.prune(r, c)
                    continue
                if isinstance(stored, float) and stored.is_integer() and abs(stored) < 2**53:
                    stored = int(stored)
                cell = sheet.ensure(r, c)
                cell.value, cell.formula = stored, is_formula
                if number_format is not None:
                    cell.fmt = {**(cell.fmt or {}), "numberFormat": number_format}
        self.cells_written += write.cells
        book.touch()

    @staticmethod
    def _update_response(
        book: Spreadsheet, write: _Write, include_values: bool, query_body: Mapping[str, Any]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if write.cells:
            box = write.box()
            out.update(
                updatedRange=box.a1(),
                updatedRows=write.rows,
                updatedColumns=write.cols,
                updatedCells=write.cells,
            )
            if include_values:
                values = render_matrix(
                    book,
                    box,
                    "ROWS",
                    str(query_body.get("responseValueRenderOption") or "FORMATTED_VALUE"),
                    str(query_body.get("responseDateTimeRenderOption") or "SERIAL_NUMBER"),
                )
                data: dict[str, Any] = {"range": box.a1(), "majorDimension": "ROWS"}
                if values:
                    data["values"] = values
                out["updatedData"] = data
        else:
            out["updatedRange"] = _Box(write.sheet, write.r0, write.c0, write.r0 + 1, write.c0 + 1).a1()
        return out

    def _input_option(self, query: Mapping[str, list[str]]) -> str:
        option = _query_enum(
            query,
            "valueInputOption",
            _INPUT_OPTIONS,
            None,
            "value_input_option",
            "ValueInputOption",
        )
        if option is None:
            raise _bad_request("'valueInputOption' is required but not specified")
        return option

    def _response_render(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        return {
            "responseValueRenderOption": _query_enum(
                query,
                "responseValueRenderOption",
                _VALUE_RENDER,
                "FORMATTED_VALUE",
                "response_value_render_option",
                "ValueRenderOption",
            ),
            "responseDateTimeRenderOption": _query_enum(
                query,
                "responseDateTimeRenderOption",
                _DATETIME_RENDER,
                "SERIAL_NUMBER",
                "response_date_time_render_option",
                "DateTimeRenderOption",
            ),
        }

    # -- values endpoints -------------------------------------------------------------

    def values_get(self, sid: str, range_text: str, query: Mapping[str, list[str]]) -> Json:
        book = self.book_for_sheets(sid)
        return self._value_range(book, range_text, query)

    def _value_range(
        self,
        book: Spreadsheet,
        range_text: str,
        query: Mapping[str, list[str]],
        evaluator: _Evaluator | None = None,
    ) -> dict[str, Any]:
        major = _query_enum(query, "majorDimension", _DIMENSIONS, "ROWS", "major_dimension", "Dimension")
        value_render = _query_enum(
            query,
            "valueRenderOption",
            _VALUE_RENDER,
            "FORMATTED_VALUE",
            "value_render_option",
            "ValueRenderOption",
        )
        dt_render = _query_enum(
            query,
            "dateTimeRenderOption",
            _DATETIME_RENDER,
            "SERIAL_NUMBER",
            "date_time_render_option",
            "DateTimeRenderOption",
        )
        box = self.read_box(book, range_text)
        out: dict[str, Any] = {"range": box.a1(), "majorDimension": major}
        values = render_matrix(book, box, str(major), str(value_render), str(dt_render), evaluator)
        if values:
            out["values"] = values
        return out

    def values_batch_get(self, sid: str, query: Mapping[str, list[str]]) -> Json:
        book = self.book_for_sheets(sid)
        evaluator = _Evaluator(book)
        ranges = query.get("ranges", [])
        out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if ranges:
            out["valueRanges"] = [self._value_range(book, r, query, evaluator) for r in ranges]
        return out

    def values_update(self, sid: str, range_text: str, query: Mapping[str, list[str]], body: Json) -> Json:
        book = self.book_for_sheets(sid)
        input_option = self._input_option(query)
        include = _query_bool(query, "includeValuesInResponse", "include_values_in_response")
        render = self._response_render(query)
        body = self._object_body(body)
        if body.get("range"):
            body_sheet, body_rng = self.resolve_range(book, str(body["range"]))
            url_sheet, url_rng = self.resolve_range(book, range_text)
            same_bounds = dataclasses.replace(body_rng, sheet=None) == dataclasses.replace(url_rng, sheet=None)
            if body_sheet is not url_sheet or not same_bounds:
                raise _bad_request(
                    f"Invalid values[0][0]: the range in the ValueRange ({body['range']}) does "
                    f"not match the range in the request ({range_text})."
                )
        write = self.plan_write(book, range_text, body, input_option, "data")
        self.apply_write(book, write)
        return self._update_response(book, write, bool(include), render)

    def values_batch_update(self, sid: str, body: Json) -> Json:
        book = self.book_for_sheets(sid)
        body = self._object_body(body)
        input_option = _body_enum(
            body, "valueInputOption", _INPUT_OPTIONS, None, "value_input_option", "ValueInputOption"
        )
        if input_option is None:
            raise _bad_request("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
        data = body.get("data") or []
        if not isinstance(data, list):
            raise _field_violation("data", f"Invalid value at 'data', {json.dumps(data)}")
        writes: list[_Write] = []
        for i, entry in enumerate(data):
            if not isinstance(entry, dict) or not entry.get("range"):
                raise _bad_request(f"Invalid data[{i}]: No range specified.")
            writes.append(self.plan_write(book, str(entry["range"]), entry, input_option, f"data[{i}]"))
        for write in writes:  # all validated first: a bad entry writes nothing
            self.apply_write(book, write)
        out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        rows = {(w.sheet.sheet_id, w.r0 + i) for w in writes for i, row in enumerate(w.matrix) if row}
        cols = {(w.sheet.sheet_id, w.c0 + j) for w in writes for row in w.matrix for j in range(len(row))}
        total = sum(w.cells for w in writes)
        if total:
            out.update(
                totalUpdatedRows=len(rows),
                totalUpdatedColumns=len(cols),
                totalUpdatedCells=total,
                totalUpdatedSheets=len({w.sheet.sheet_id for w in writes if w.cells}),
            )
        if writes:
            include = bool(body.get("includeValuesInResponse"))
            out["responses"] = [self._update_response(book, w, include, body) for w in writes]
        return out

    def values_append(self, sid: str, range_text: str, query: Mapping[str, list[str]], body: Json) -> Json:
        book = self.book_for_sheets(sid)
        input_option = self._input_option(query)
        insert_option = _query_enum(
            query,
            "insertDataOption",
            ("OVERWRITE", "INSERT_ROWS"),
            "OVERWRITE",
            "insert_data_option",
            "InsertDataOption",
        )
        include = _query_bool(query, "includeValuesInResponse", "include_values_in_response")
        render = self._response_render(query)
        body = self._object_body(body)
        major = _body_enum(body, "majorDimension", _DIMENSIONS, "ROWS", "data.major_dimension", "Dimension")
        matrix = self._matrix(body.get("values"), str(major), "data")
        sheet, rng = self.resolve_range(book, range_text)
        search = _Box(
            sheet,
            rng.start_row or 0,
            rng.start_col or 0,
            min(sheet.row_count, sheet.row_count if rng.end_row is None else rng.end_row),
            min(sheet.col_count, sheet.col_count if rng.end_col is None else rng.end_col),
        )
        if search.r0 >= sheet.row_count or search.c0 >= sheet.col_count:
            raise _exceeds_grid(sheet, search.r0, search.c0, search.r0 + 1, search.c0 + 1)
        table: tuple[int, int, int, int] | None = None
        for r in _rows_in(sheet, search.r0, search.r1):
            hits = sorted(
                c for c, cell in sheet.cells[r].items() if search.c0 <= c < search.c1 and cell.value is not None
            )
            if hits:
                table = _current_region(sheet, r, hits[0])
                break
        out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if table is None:
            target_row, target_col = search.r0, search.c0
        else:
            out["tableRange"] = _Box(sheet, *table).a1()
            target_row, target_col = table[2], table[1]
        write = _Write(sheet, target_row, target_col, matrix, input_option)
        # Append never fails for lack of room: it grows the grid (or inserts rows).
        if insert_option == "INSERT_ROWS" and write.rows:
            insert_dimension(sheet, "ROWS", min(target_row, sheet.row_count), write.rows, book)
        elif target_row + write.rows > sheet.row_count:
            sheet.row_count = target_row + write.rows
        if target_col + write.cols > sheet.col_count:
            sheet.col_count = target_col + write.cols
        self._check_cell_limit(book)
        self.apply_write(book, write)
        out["updates"] = self._update_response(book, write, bool(include), render)
        return out

    def values_clear(self, sid: str, range_text: str) -> Json:
        book = self.book_for_sheets(sid)
        box = self.read_box(book, range_text)
        self._clear_box(box)
        book.touch()
        return {"spreadsheetId": book.spreadsheet_id, "clearedRange": box.a1()}

    def values_batch_clear(self, sid: str, body: Json) -> Json:
        book = self.book_for_sheets(sid)
        body = self._object_body(body)
        ranges = body.get("ranges") or []
        boxes = [self.read_box(book, str(r)) for r in ranges]
        for box in boxes:
            self._clear_box(box)
        book.touch()
        out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if boxes:
            out["clearedRanges"] = [box.a1() for box in boxes]
        return out

    @staticmethod
    def _clear_box(box: _Box) -> None:
        sheet = box.sheet
        for r in _rows_in(sheet, box.r0, box.r1):
            for c in [c for c in sheet.cells[r] if box.c0 <= c < box.c1]:
                cell = sheet.cells[r][c]
                cell.value, cell.formula = None, False
                sheet.prune(r, c)

    @staticmethod
    def _object_body(body: Json) -> dict[str, Any]:
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise _bad_request(f"Invalid JSON payload received. Expected an object, got {type(body).__name__}.")
        return body

    def _check_cell_limit(self, book: Spreadsheet) -> None:
        total = sum(s.row_count * s.col_count for s in book.sheets)
        if total > _MAX_CELLS:
            raise _RequestError(
                f"This action would increase the number of cells in the workbook above the limit of {_MAX_CELLS} cells."
            )

    # -- spreadsheets -----------------------------------------------------------------

    def spreadsheet_resource(
        self,
        book: Spreadsheet,
        *,
        include_grid: bool = False,
        ranges: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The ``Spreadsheet`` resource (metadata, optionally grid data)."""
        evaluator = _Evaluator(book)
        boxes: dict[int, list[_Box]] = {}
        for text in ranges:
            box = self.read_box(book, text)
            boxes.setdefault(box.sheet.sheet_id, []).append(box)
        sheets_out = []
        for index, sheet in enumerate(book.sheets):
            if ranges and sheet.sheet_id not in boxes:
                continue
            entry: dict[str, Any] = {"properties": sheet.properties(index)}
            if include_grid:
                targets = boxes.get(sheet.sheet_id) or [_Box(sheet, 0, 0, sheet.row_count, sheet.col_count)]
                entry["data"] = [_grid_data(evaluator, box) for box in targets]
            merges = sheet.presentation.get("merges")
            if merges:
                entry["merges"] = [_clean_range(m) for m in merges]
            if sheet.protected_ranges:
                entry["protectedRanges"] = [
                    {**pr, "range": _clean_range(pr["range"])} if "range" in pr else dict(pr)
                    for pr in copy.deepcopy(sheet.protected_ranges)
                ]
            for dim, key in (("ROWS", "rowGroups"), ("COLUMNS", "columnGroups")):
                groups = sheet.groups(dim)
                if groups:
                    entry[key] = groups
            sheets_out.append(entry)
        out: dict[str, Any] = {
            "spreadsheetId": book.spreadsheet_id,
            "properties": book.properties(),
            "sheets": sheets_out,
        }
        if book.named_ranges:
            out["namedRanges"] = copy.deepcopy(book.named_ranges)
        out["spreadsheetUrl"] = f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit"
        return out

    def spreadsheets_get(self, sid: str, query: Mapping[str, list[str]]) -> Json:
        book = self.book_for_sheets(sid)
        include = _query_bool(query, "includeGridData", "include_grid_data") or False
        fields = _first(query, "fields")
        if fields:
            # With a field mask Google ignores includeGridData and returns what is asked for.
            include = _mask_reaches(parse_field_mask(fields), ["sheets", "data"])
        return self.spreadsheet_resource(book, include_grid=include, ranges=query.get("ranges", []))

    def spreadsheets_create(self, body: Json) -> Json:
        body = self._object_body(body)
        props = body.get("properties") or {}
        specs = [dict(s.get("properties") or {}) for s in body.get("sheets") or []]
        book = self.create_book(str(props.get("title") or "Untitled spreadsheet"), specs or None)
        for key, attr in (
            ("locale", "locale"),
            ("timeZone", "time_zone"),
            ("autoRecalc", "auto_recalc"),
        ):
            if props.get(key):
                setattr(book, attr, props[key])
        for spec, sheet in zip(body.get("sheets") or [], book.sheets, strict=False):
            for grid in spec.get("data") or []:
                r0, c0 = int(grid.get("startRow", 0)), int(grid.get("startColumn", 0))
                for i, row in enumerate(grid.get("rowData") or []):
                    for j, cell_data in enumerate(row.get("values") or []):
                        _apply_cell_data(sheet, r0 + i, c0 + j, cell_data, None)
        return self.spreadsheet_resource(book)

    def batch_update(self, sid: str, body: Json) -> Json:
        book = self.book_for_sheets(sid)
        body = self._object_body(body)
        requests_in = body.get("requests") or []
        if not isinstance(requests_in, list):
            raise _field_violation("requests", f"Invalid value at 'requests', {json.dumps(requests_in)}")
        work = book.clone()  # all-or-nothing: apply to a copy, commit at the end
        written_before = self.cells_written
        replies: list[dict[str, Any]] = []
        for i, request in enumerate(requests_in):
            if not isinstance(request, dict) or not request:
                raise _bad_request(f"Invalid requests[{i}]: No request set.")
            if len(request) > 1:
                kinds = list(request)
                raise _bad_request(
                    f"Invalid JSON payload received. Oneof field 'kind' is already set. Cannot set '{kinds[1]}'"
                )
            kind, payload = next(iter(request.items()))
            handler = _REQUEST_HANDLERS.get(kind)
            try:
                if handler is not None:
                    reply = handler(self, work, payload if isinstance(payload, dict) else {})
                elif kind in _PRESENTATION_ONLY:
                    reply = None
                elif kind in _NOT_IMPLEMENTED:
                    raise ApiError(
                        501,
                        f"Invalid requests[{i}].{kind}: FakeSheetsServer does not implement '{kind}'.",
                    )
                else:
                    message = (
                        f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]': Cannot find field."
                    )
                    raise _field_violation(f"requests[{i}]", message)
            except _RequestError as err:
                self.cells_written = written_before
                raise _bad_request(f"Invalid requests[{i}].{kind}: {err}") from None
            except ApiError:
                self.cells_written = written_before
                raise
            replies.append(reply or {})
        work.touch()
        self.books[sid] = work
        out: dict[str, Any] = {"spreadsheetId": sid, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            out["updatedSpreadsheet"] = self.spreadsheet_resource(
                work,
                include_grid=bool(body.get("responseIncludeGridData")),
                ranges=body.get("responseRanges") or (),
            )
        return out

    def copy_sheet_to(self, sid: str, sheet_id: int, body: Json) -> Json:
        book = self.book_for_sheets(sid)
        body = self._object_body(body)
        source = book.sheet_by_id(sheet_id)
        if source is None:
            raise ApiError(404, "Requested entity was not found.")
        dest_id = str(body.get("destinationSpreadsheetId") or "")
        dest = self.book_for_sheets(dest_id)
        clone = copy.deepcopy(source)
        clone.sheet_id = self.new_sheet_id(dest)
        base = f"Copy of {source.title}"
        title, n = base, 2
        while dest.find_sheet(title) is not None:
            title, n = f"{base} {n}", n + 1
        clone.title = title
        clone.protected_ranges = []
        dest.sheets.append(clone)
        dest.touch()
        return clone.properties(len(dest.sheets) - 1)

    # -- Drive --------------------------------------------------------------------------

    @staticmethod
    def drive_file(book: Spreadsheet) -> dict[str, Any]:
        """The full Drive ``File`` resource for a spreadsheet."""
        return {
            "kind": "drive#file",
            "id": book.spreadsheet_id,
            "name": book.title,
            "mimeType": SPREADSHEET_MIME,
            "starred": False,
            "trashed": False,
            "parents": ["0AFakeRootFolder"],
            "webViewLink": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit?usp=drivesdk",
            "createdTime": book.created_time,
            "modifiedTime": book.modified_time,
            "owners": [
                {
                    "kind": "drive#user",
                    "displayName": "Fake Owner",
                    "me": True,
                    "emailAddress": _OWNER_EMAIL,
                }
            ],
            "shared": len(book.permissions) > 1,
            "ownedByMe": True,
        }

    @staticmethod
    def _drive_view(resource: dict[str, Any], query: Mapping[str, list[str]], default: Sequence[str]) -> dict[str, Any]:
        fields = _first(query, "fields")
        if fields:
            return dict(apply_mask(resource, parse_field_mask(fields)))
        return {k: resource[k] for k in default if k in resource}

    _FILE_DEFAULT = ("kind", "id", "name", "mimeType")

    def drive_create(self, query: Mapping[str, list[str]], body: Json) -> Json:
        body = self._object_body(body)
        mime = body.get("mimeType")
        if mime != SPREADSHEET_MIME:
            raise ApiError(
                501,
                f"FakeSheetsServer only stores Google Sheets files, not {mime!r}.",
                drive_reason="notImplemented",
            )
        book = self.create_book(str(body.get("name") or "Untitled spreadsheet"))
        return self._drive_view(self.drive_file(book), query, self._FILE_DEFAULT)

    def drive_get(self, file_id: str, query: Mapping[str, list[str]]) -> Json:
        book = self.book_for_drive(file_id)
        return self._drive_view(self.drive_file(book), query, self._FILE_DEFAULT)

    def drive_update(self, file_id: str, query: Mapping[str, list[str]], body: Json) -> Json:
        book = self.book_for_drive(file_id)
        body = self._object_body(body)
        if body.get("name"):
            book.title = str(body["name"])
            book.touch()
        return self._drive_view(self.drive_file(book), query, self._FILE_DEFAULT)

    def drive_delete(self, file_id: str) -> None:
        self.book_for_drive(file_id)
        del self.books[file_id]
        self.deleted.add(file_id)
        self.comments.pop(file_id, None)

    def drive_copy(self, file_id: str, query: Mapping[str, list[str]], body: Json) -> Json:
        source = self.book_for_drive(file_id)
        body = self._object_body(body)
        clone = copy.deepcopy(source)
        clone.spreadsheet_id = self.new_spreadsheet_id()
        clone.title = str(body.get("name") or f"Copy of {source.title}")
        clone.created_time = clone.modified_time = _now_iso()
        clone.permissions = [p for p in clone.permissions if p.get("role") == "owner"]
        self.books[clone.spreadsheet_id] = clone
        return self._drive_view(self.drive_file(clone), query, self._FILE_DEFAULT)

    def drive_list(self, query: Mapping[str, list[str]]) -> Json:
        q = _first(query, "q") or ""
        files = [self.drive_file(b) for b in self.books.values() if not b.private]
        for clause in re.split(r"\s+and\s+", q.strip()) if q.strip() else []:
            m = re.match(r"""^(\w+)\s*(=|!=|contains)\s*(['"])(.*)\3$""", clause.strip())
            if m:
                name, op, _, value = m.groups()
                key = {"name": "name", "mimeType": "mimeType"}.get(name)
                if key is None:
                    continue
                if op == "=":
                    files = [f for f in files if f[key] == value]
                elif op == "!=":
                    files = [f for f in files if f[key] != value]
                else:
                    files = [f for f in files if value in f[key]]
                continue
            m = re.match(r"""^(['"])(.*)\1\s+in\s+parents$""", clause.strip())
            if m:
                files = [f for f in files if m.group(2) in f["parents"]]
                continue
            m = re.match(r"""^parents\s+in\s+(['"])(.*)\1$""", clause.strip())
            if m:
                files = [f for f in files if m.group(2) in f["parents"]]
        fields = _first(query, "fields")
        listing = {"kind": "drive#fileList", "incompleteSearch": False, "files": files}
        if fields:
            return apply_mask(listing, parse_field_mask(fields))
        listing["files"] = [{k: f[k] for k in self._FILE_DEFAULT} for f in files]
        return listing

    def permission_create(self, file_id: str, query: Mapping[str, list[str]], body: Json) -> Json:
        book = self.book_for_drive(file_id)
        body = self._object_body(body)
        perm_type, role = body.get("type"), body.get("role")
        if perm_type not in ("user", "group", "domain", "anyone"):
            raise ApiError(400, "The permission type field is required.", drive_reason="required")
        if role not in ("owner", "organizer", "fileOrganizer", "writer", "commenter", "reader"):
            raise ApiError(400, "The permission role field is required.", drive_reason="required")
        if perm_type in ("user", "group") and not body.get("emailAddress"):
            raise ApiError(400, "The permission emailAddress field is required.", drive_reason="required")
        permission: dict[str, Any] = {
            "kind": "drive#permission",
            "id": str(self.rng.randrange(10**19, 10**20)),
            "type": perm_type,
            "role": role,
        }
        for key in ("emailAddress", "domain", "allowFileDiscovery", "expirationTime"):
            if body.get(key) is not None:
                permission[key] = body[key]
        permission["deleted"] = False
        book.permissions.append(permission)
        return self._drive_view(permission, query, ("kind", "id", "type", "role"))

    def permission_list(self, file_id: str, query: Mapping[str, list[str]]) -> Json:
        book = self.book_for_drive(file_id)
        listing = {"kind": "drive#permissionList", "permissions": copy.deepcopy(book.permissions)}
        fields = _first(query, "fields")
        return apply_mask(listing, parse_field_mask(fields)) if fields else listing

    def permission_delete(self, file_id: str, permission_id: str) -> None:
        book = self.book_for_drive(file_id)
        for i, permission in enumerate(book.permissions):
            if permission["id"] == permission_id:
                del book.permissions[i]
                return
        raise ApiError(404, f"Permission not found: {permission_id}.", drive_reason="notFound")

    def comments_list(self, file_id: str, query: Mapping[str, list[str]]) -> Json:
        self.book_for_drive(file_id)
        listing = {
            "kind": "drive#commentList",
            "comments": copy.deepcopy(self.comments.get(file_id, [])),
        }
        fields = _first(query, "fields")
        return apply_mask(listing, parse_field_mask(fields)) if fields else listing

    def comment_create(self, file_id: str, query: Mapping[str, list[str]], body: Json) -> Json:
        self.book_for_drive(file_id)
        comment = {
            "kind": "drive#comment",
            "id": f"AAAA{self.rng.randrange(10**9)}",
            **self._object_body(body),
        }
        self.comments.setdefault(file_id, []).append(comment)
        return self._drive_view(comment, query, ("kind", "id"))


# --------------------------------------------------------------------------------------
# spreadsheets.batchUpdate request kinds
# --------------------------------------------------------------------------------------

_RequestHandler: TypeAlias = Callable[[_Api, Spreadsheet, dict[str, Any]], "dict[str, Any] | None"]


def _sheet_for(book: Spreadsheet, sheet_id: Any) -> Sheet:
    sheet = book.sheet_by_id(int(sheet_id or 0))
    if sheet is None:
        raise _RequestError(f"No grid with id: {int(sheet_id or 0)}")
    return sheet


def _dimension_range(book: Spreadsheet, payload: Mapping[str, Any]) -> tuple[Sheet, str, int, int]:
    """Validate a ``DimensionRange``: returns (sheet, dimension, start, end)."""
    sheet = _sheet_for(book, payload.get("sheetId"))
    dim = payload.get("dimension")
    if dim not in _DIMENSIONS:
        raise _RequestError("range.dimension must be ROWS or COLUMNS.")
    start = int(payload.get("startIndex") or 0)
    end_raw = payload.get("endIndex")
    end = sheet.count(str(dim)) if end_raw is None else int(end_raw)
    if start < 0 or end <= start:
        raise _RequestError("range.startIndex must be less than range.endIndex.")
    return sheet, str(dim), start, end


def _dimension_exceeds(sheet: Sheet, dim: str, start: int, end: int) -> _RequestError:
    if dim == "ROWS":
        err = _exceeds_grid(sheet, start, 0, end, 1)
    else:
        err = _exceeds_grid(sheet, 0, start, 1, end)
    return _RequestError(err.message)


def _req_add_sheet(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    props = payload.get("properties") or {}
    if props.get("sheetType", "GRID") != "GRID":
        raise _RequestError("FakeSheetsServer only supports sheetType GRID.")
    title = props.get("title")
    title = str(title) if title else api._default_title(book)
    if book.find_sheet(title) is not None:
        raise _RequestError(f'A sheet with the name "{title}" already exists. Please enter another name.')
    sheet_id = props.get("sheetId")
    if sheet_id is not None and book.sheet_by_id(int(sheet_id)) is not None:
        raise _RequestError(f"A sheet with id {int(sheet_id)} already exists.")
    grid = props.get("gridProperties") or {}
    sheet = Sheet(
        sheet_id=api.new_sheet_id(book) if sheet_id is None else int(sheet_id),
        title=title,
        row_count=int(grid.get("rowCount", DEFAULT_ROWS)),
        col_count=int(grid.get("columnCount", DEFAULT_COLUMNS)),
        frozen_rows=int(grid.get("frozenRowCount", 0)),
        frozen_cols=int(grid.get("frozenColumnCount", 0)),
        hidden=bool(props.get("hidden", False)),
        hide_gridlines=bool(grid.get("hideGridlines", False)),
        extra=_normalize_format({k: copy.deepcopy(props[k]) for k in _SHEET_EXTRA_PROPS if k in props}, tab=True),
    )
    _validate_grid(sheet)
    index = int(props.get("index", len(book.sheets)))
    book.sheets.insert(max(0, min(index, len(book.sheets))), sheet)
    if all(s.hidden for s in book.sheets):
        raise _RequestError("You can't hide all the sheets in a document.")
    api._check_cell_limit(book)
    return {"addSheet": {"properties": sheet.properties(book.index_of(sheet))}}


def _validate_grid(sheet: Sheet) -> None:
    if sheet.row_count < 1:
        raise _RequestError("You can't delete all the rows on the sheet.")
    if sheet.col_count < 1:
        raise _RequestError("You can't delete all the columns on the sheet.")
    if sheet.frozen_rows < 0 or sheet.frozen_cols < 0:
        raise _RequestError("Frozen row and column counts must not be negative.")
    if sheet.frozen_rows >= sheet.row_count:
        raise _RequestError("You can't freeze all visible rows on the sheet.")
    if sheet.frozen_cols >= sheet.col_count:
        raise _RequestError("You can't freeze all visible columns on the sheet.")


def _req_delete_sheet(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    sheet_id = int(payload.get("sheetId") or 0)
    sheet = book.sheet_by_id(sheet_id)
    if sheet is None:
        raise _RequestError(f"No sheet with id: {sheet_id}")
    if len(book.sheets) == 1:
        raise _RequestError("You can't remove all the sheets in a document.")
    if not sheet.hidden and all(s.hidden for s in book.sheets if s is not sheet):
        raise _RequestError("You can't remove all the visible sheets in a document.")
    book.sheets.remove(sheet)


def _req_update_sheet_properties(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    props_in = payload.get("properties") or {}
    sheet = _sheet_for(book, props_in.get("sheetId"))
    fields = payload.get("fields")
    if not fields:
        raise _RequestError("At least one field must be specified in 'fields'.")
    current = sheet.properties(book.index_of(sheet))
    updated = copy.deepcopy(current)
    apply_update_mask(updated, props_in, parse_field_mask(str(fields)))
    updated["sheetId"], updated["sheetType"] = sheet.sheet_id, "GRID"
    if "index" not in updated:
        updated["index"] = current["index"]
    title = str(updated.get("title") or "")
    if not title:
        raise _RequestError("The sheet name cannot be empty.")
    other = book.find_sheet(title)
    if other is not None and other is not sheet and other.title.casefold() == title.casefold():
        raise _RequestError(f'A sheet with the name "{title}" already exists. Please enter another name.')
    grid = updated.get("gridProperties") or {}
    rows, cols = int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0))
    if rows < 1:
        raise _RequestError("You can't delete all the rows on the sheet.")
    if cols < 1:
        raise _RequestError("You can't delete all the columns on the sheet.")
    if title != sheet.title:
        rename_in_formulas(book, sheet.title, title)
    sheet.title = title
    sheet.hidden = bool(updated.get("hidden", False))
    sheet.hide_gridlines = bool(grid.get("hideGridlines", False))
    sheet.frozen_rows = int(grid.get("frozenRowCount", 0))
    sheet.frozen_cols = int(grid.get("frozenColumnCount", 0))
    for dim, key in (("ROWS", "rowGroupControlAfter"), ("COLUMNS", "columnGroupControlAfter")):
        sheet.group_control_after[dim] = bool(grid.get(key, False))
    sheet.extra = _normalize_format({k: updated[k] for k in _SHEET_EXTRA_PROPS if k in updated}, tab=True)
    resize_sheet(sheet, rows, cols, book)
    _validate_grid(sheet)
    if all(s.hidden for s in book.sheets):
        raise _RequestError("You can't hide all the sheets in a document.")
    new_index = max(0, min(int(updated["index"]), len(book.sheets) - 1))
    book.sheets.remove(sheet)
    book.sheets.insert(new_index, sheet)
    api._check_cell_limit(book)


def _req_update_spreadsheet_properties(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    fields = payload.get("fields")
    if not fields:
        raise _RequestError("At least one field must be specified in 'fields'.")
    updated = book.properties()
    apply_update_mask(updated, payload.get("properties") or {}, parse_field_mask(str(fields)))
    if not updated.get("title"):
        raise _RequestError("The spreadsheet title cannot be empty.")
    book.title = str(updated.pop("title"))
    book.locale = str(updated.pop("locale", "en_US") or "en_US")
    book.time_zone = str(updated.pop("timeZone", "Etc/GMT") or "Etc/GMT")
    book.auto_recalc = str(updated.pop("autoRecalc", "ON_CHANGE") or "ON_CHANGE")
    defaults = {"defaultFormat": _DEFAULT_FORMAT, "spreadsheetTheme": _DEFAULT_THEME}
    book.extra = {k: v for k, v in updated.items() if defaults.get(k) != v}


def _apply_cell_data(sheet: Sheet, row: int, col: int, data: Mapping[str, Any], tree: MaskTree) -> None:
    """Apply one ``CellData`` to a cell under a field mask (None = all fields given)."""
    if tree is None:
        tree = {key: None for key in data}
        if not tree:
            return
    cell = sheet.get(row, col)
    if cell is None:
        if not any(data.get(k) for k in tree if k != "*"):
            return  # clearing an absent cell: nothing to do
        cell = sheet.ensure(row, col)
    for key, sub in tree.items():
        if key in ("*", "userEnteredValue"):
            entered = data.get("userEnteredValue") or {}
            if "formulaValue" in entered:
                cell.value, cell.formula = str(entered["formulaValue"]), True
            elif "stringValue" in entered:
                cell.value, cell.formula = str(entered["stringValue"]), False
            elif "numberValue" in entered:
                cell.value, cell.formula = _json_number(entered["numberValue"]), False
            elif "boolValue" in entered:
                cell.value, cell.formula = bool(entered["boolValue"]), False
            elif "errorValue" in entered:
                raise _RequestError("Cannot set an errorValue in userEnteredValue.")
            else:
                cell.value, cell.formula = None, False
        if key in ("*", "userEnteredFormat"):
            fmt = copy.deepcopy(cell.fmt or {})
            source = data.get("userEnteredFormat") or {}
            apply_update_mask(fmt, source, None if key == "*" else sub)
            cell.fmt = _normalize_format(fmt) or None
        if key in ("*", "note"):
            cell.note = data.get("note") or None
        if key in ("*", "dataValidation"):
            cell.validation = copy.deepcopy(data.get("dataValidation")) or None
    sheet.prune(row, col)


def _req_repeat_cell(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    grid_range = payload.get("range") or {}
    box = _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    fields = payload.get("fields")
    if not fields:
        raise _RequestError("At least one field must be specified in 'fields'.")
    tree = parse_field_mask(str(fields))
    data = payload.get("cell") or {}
    for r in range(box.r0, box.r1):
        for c in range(box.c0, box.c1):
            _apply_cell_data(box.sheet, r, c, data, tree)


def _req_update_cells(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    fields = payload.get("fields")
    if not fields:
        raise _RequestError("At least one field must be specified in 'fields'.")
    tree = parse_field_mask(str(fields))
    rows = payload.get("rows") or []
    if "start" in payload:
        start = payload["start"] or {}
        sheet = _sheet_for(book, start.get("sheetId"))
        r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
        width = max((len(row.get("values") or []) for row in rows), default=0)
        box = _grid_box(
            sheet,
            {
                "startRowIndex": r0,
                "endRowIndex": r0 + max(len(rows), 1),
                "startColumnIndex": c0,
                "endColumnIndex": c0 + max(width, 1),
            },
        )
        for i, row in enumerate(rows):
            for j, cell_data in enumerate(row.get("values") or []):
                _apply_cell_data(sheet, box.r0 + i, box.c0 + j, cell_data, tree)
        return
    grid_range = payload.get("range") or {}
    box = _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    for r in range(box.r0, box.r1):
        row_values = (rows[r - box.r0].get("values") or []) if r - box.r0 < len(rows) else []
        for c in range(box.c0, box.c1):
            cell_data = row_values[c - box.c0] if c - box.c0 < len(row_values) else {}
            _apply_cell_data(box.sheet, r, c, cell_data, tree)


def _req_set_data_validation(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    grid_range = payload.get("range") or {}
    box = _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    rule = payload.get("rule")
    if rule is not None:
        condition = (rule or {}).get("condition") or {}
        if not condition.get("type"):
            raise _RequestError("The data validation rule must have a condition type.")
        # Google drops proto3 defaults (false booleans) from what it echoes back.
        rule = {k: v for k, v in rule.items() if v is not False and v is not None}
    for r in range(box.r0, box.r1):
        for c in range(box.c0, box.c1):
            if rule is None and box.sheet.get(r, c) is None:
                continue
            cell = box.sheet.ensure(r, c)
            cell.validation = copy.deepcopy(rule)
            box.sheet.prune(r, c)


def _req_add_protected_range(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    protected = copy.deepcopy(payload.get("protectedRange") or {})
    grid_range = protected.get("range")
    if grid_range is None:
        raise _RequestError("A protected range must specify a range.")
    sheet = _sheet_for(book, grid_range.get("sheetId"))
    _grid_box(sheet, grid_range)
    existing = {pr["protectedRangeId"] for s in book.sheets for pr in s.protected_ranges}
    range_id = protected.get("protectedRangeId")
    if range_id is None:
        range_id = api.new_small_id()
        while range_id in existing:
            range_id = api.new_small_id()
    elif int(range_id) in existing:
        raise _RequestError(f"A protected range with id {range_id} already exists.")
    stored: dict[str, Any] = {"protectedRangeId": int(range_id), "range": grid_range}
    for key in ("description", "warningOnly", "unprotectedRanges"):
        if protected.get(key):
            stored[key] = protected[key]
    stored["requestingUserCanEdit"] = True
    if not protected.get("warningOnly"):
        editors = copy.deepcopy(protected.get("editors") or {})
        users = list(editors.get("users") or [])
        if _OWNER_EMAIL not in users:
            users.insert(0, _OWNER_EMAIL)
        editors["users"] = users
        stored["editors"] = editors
    sheet.protected_ranges.append(stored)
    shown = {**copy.deepcopy(stored), "range": _clean_range(grid_range)}
    return {"addProtectedRange": {"protectedRange": shown}}


def _req_delete_protected_range(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    range_id = int(payload.get("protectedRangeId") or 0)
    for sheet in book.sheets:
        for i, pr in enumerate(sheet.protected_ranges):
            if pr["protectedRangeId"] == range_id:
                del sheet.protected_ranges[i]
                return
    raise _RequestError(f"No protected range with id: {range_id}")


def _req_insert_dimension(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    sheet, dim, start, end = _dimension_range(book, payload.get("range") or {})
    inherit = bool(payload.get("inheritFromBefore", False))
    count = sheet.count(dim)
    noun = "rows" if dim == "ROWS" else "columns"
    if start > count:
        raise _dimension_exceeds(sheet, dim, start, end)
    if inherit and start == 0:
        raise _RequestError(f"Cannot inherit properties from before when inserting {noun} at the start of the sheet.")
    if start == count and not inherit:
        raise _RequestError(f"Cannot insert {noun} at the end of the sheet without inheritFromBefore.")
    insert_dimension(sheet, dim, start, end - start, book)
    api._check_cell_limit(book)


def _req_delete_dimension(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    sheet, dim, start, end = _dimension_range(book, payload.get("range") or {})
    if end > sheet.count(dim):
        raise _dimension_exceeds(sheet, dim, start, end)
    if start == 0 and end == sheet.count(dim):
        noun = "rows" if dim == "ROWS" else "columns"
        raise _RequestError(f"You can't delete all the {noun} on the sheet.")
    delete_dimension(sheet, dim, start, end, book)


def _req_append_dimension(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    sheet = _sheet_for(book, payload.get("sheetId"))
    dim = payload.get("dimension")
    if dim not in _DIMENSIONS:
        raise _RequestError("dimension must be ROWS or COLUMNS.")
    length = int(payload.get("length") or 0)
    if length < 1:
        raise _RequestError("length must be greater than 0.")
    if dim == "ROWS":
        sheet.row_count += length
    else:
        sheet.col_count += length
    api._check_cell_limit(book)


def _req_sort_range(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    grid_range = payload.get("range") or {}
    box = _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    specs: list[tuple[int, bool]] = []
    for spec in payload.get("sortSpecs") or []:
        if "dimensionIndex" not in spec:
            raise _RequestError("Each sort spec must set dimensionIndex.")
        column = int(spec["dimensionIndex"])
        if not 0 <= column < box.sheet.col_count:
            raise _RequestError(f"Invalid sort column index: {column}")
        specs.append((column, spec.get("sortOrder") == "DESCENDING"))
    if specs:
        sort_box(book, box, specs)


def _req_update_dimension_properties(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    if "range" not in payload:
        raise _RequestError("range must be specified.")
    sheet, dim, start, end = _dimension_range(book, payload["range"] or {})
    if end > sheet.count(dim):
        raise _dimension_exceeds(sheet, dim, start, end)
    fields = payload.get("fields")
    if not fields:
        raise _RequestError("At least one field must be specified in 'fields'.")
    tree = parse_field_mask(str(fields))
    props = payload.get("properties") or {}
    table = sheet.dim_props[dim]
    for index in range(start, end):
        current = table.get(index, {})
        apply_update_mask(current, props, tree)
        if current:
            table[index] = current
        else:
            table.pop(index, None)


def _req_add_dimension_group(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    sheet, dim, start, end = _dimension_range(book, payload.get("range") or {})
    if end > sheet.count(dim):
        raise _dimension_exceeds(sheet, dim, start, end)
    depths = sheet.depths[dim]
    for index in range(start, end):
        depths[index] = depths.get(index, 0) + 1
    if max(depths.values()) > 8:
        raise _RequestError("Groups cannot be nested more than 8 levels deep.")
    sheet.group_control_after[dim] = True
    return {"addDimensionGroup": {"dimensionGroups": sheet.groups(dim)}}


def _req_delete_dimension_group(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    sheet, dim, start, end = _dimension_range(book, payload.get("range") or {})
    depths = sheet.depths[dim]
    for index in range(start, end):
        if depths.get(index, 0) > 1:
            depths[index] -= 1
        else:
            depths.pop(index, None)
    groups = sheet.groups(dim)
    return {"deleteDimensionGroup": {"dimensionGroups": groups} if groups else {}}


def _req_duplicate_sheet(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict:
    source = book.sheet_by_id(int(payload.get("sourceSheetId") or 0))
    if source is None:
        raise _RequestError(f"No sheet with id: {int(payload.get('sourceSheetId') or 0)}")
    clone = copy.deepcopy(source)
    new_id = payload.get("newSheetId")
    if new_id is not None and book.sheet_by_id(int(new_id)) is not None:
        raise _RequestError(f"A sheet with id {int(new_id)} already exists.")
    clone.sheet_id = api.new_sheet_id(book) if new_id is None else int(new_id)
    title = payload.get("newSheetName")
    if not title:
        title, n = f"Copy of {source.title}", 2
        while book.find_sheet(title) is not None:
            title, n = f"Copy of {source.title} {n}", n + 1
    if book.find_sheet(str(title)) is not None:
        raise _RequestError(f'A sheet with the name "{title}" already exists. Please enter another name.')
    clone.title = str(title)
    clone.protected_ranges = []
    index = payload.get("insertSheetIndex")
    index = book.index_of(source) + 1 if index is None else int(index)
    book.sheets.insert(max(0, min(index, len(book.sheets))), clone)
    api._check_cell_limit(book)
    return {"duplicateSheet": {"properties": clone.properties(book.index_of(clone))}}


def _req_add_named_range(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict:
    named = copy.deepcopy(payload.get("namedRange") or {})
    name = str(named.get("name") or "")
    if not re.match(r"^[A-Za-z_][\w.]*$", name) or re.match(r"^[A-Za-z]{1,3}\d+$", name):
        raise _RequestError(f"Invalid named range name: {name}")
    if any(n["name"] == name for n in book.named_ranges):
        raise _RequestError(f"A named range with the name {name} already exists.")
    grid_range = named.get("range") or {}
    _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    named["namedRangeId"] = str(named.get("namedRangeId") or api.new_small_id())
    named["range"] = _clean_range(grid_range)
    book.named_ranges.append(named)
    return {"addNamedRange": {"namedRange": copy.deepcopy(named)}}


def _req_delete_named_range(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    range_id = str(payload.get("namedRangeId") or "")
    for i, named in enumerate(book.named_ranges):
        if named["namedRangeId"] == range_id:
            del book.named_ranges[i]
            return
    raise _RequestError(f"No named range with id: {range_id}")


def _req_merge_cells(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    grid_range = payload.get("range") or {}
    box = _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    merges = box.sheet.presentation.setdefault("merges", [])
    merge_type = payload.get("mergeType", "MERGE_ALL")
    pieces: list[tuple[int, int, int, int]] = [(box.r0, box.c0, box.r1, box.c1)]
    if merge_type == "MERGE_ROWS":
        pieces = [(r, box.c0, r + 1, box.c1) for r in range(box.r0, box.r1)]
    elif merge_type == "MERGE_COLUMNS":
        pieces = [(box.r0, c, box.r1, c + 1) for c in range(box.c0, box.c1)]
    for r0, c0, r1, c1 in pieces:
        merges.append(
            {
                "sheetId": box.sheet.sheet_id,
                "startRowIndex": r0,
                "endRowIndex": r1,
                "startColumnIndex": c0,
                "endColumnIndex": c1,
            }
        )


def _req_unmerge_cells(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> None:
    grid_range = payload.get("range") or {}
    box = _grid_box(_sheet_for(book, grid_range.get("sheetId")), grid_range)
    merges = box.sheet.presentation.get("merges", [])
    merges[:] = [
        m
        for m in merges
        if m["endRowIndex"] <= box.r0
        or m["startRowIndex"] >= box.r1
        or m["endColumnIndex"] <= box.c0
        or m["startColumnIndex"] >= box.c1
    ]


_REQUEST_HANDLERS: dict[str, _RequestHandler] = {
    "addSheet": _req_add_sheet,
    "deleteSheet": _req_delete_sheet,
    "duplicateSheet": _req_duplicate_sheet,
    "updateSheetProperties": _req_update_sheet_properties,
    "updateSpreadsheetProperties": _req_update_spreadsheet_properties,
    "repeatCell": _req_repeat_cell,
    "updateCells": _req_update_cells,
    "setDataValidation": _req_set_data_validation,
    "addProtectedRange": _req_add_protected_range,
    "deleteProtectedRange": _req_delete_protected_range,
    "insertDimension": _req_insert_dimension,
    "deleteDimension": _req_delete_dimension,
    "appendDimension": _req_append_dimension,
    "sortRange": _req_sort_range,
    "updateDimensionProperties": _req_update_dimension_properties,
    "addDimensionGroup": _req_add_dimension_group,
    "deleteDimensionGroup": _req_delete_dimension_group,
    "addNamedRange": _req_add_named_range,
    "deleteNamedRange": _req_delete_named_range,
    "mergeCells": _req_merge_cells,
    "unmergeCells": _req_unmerge_cells,
}


# --------------------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------------------

_SID = r"(?P<sid>[^/:]+)"
_FID = r"(?P<fid>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern), name)
    for method, pattern, name in (
        ("POST", r"^/token$", "oauth2.token"),
        ("POST", r"^/v4/spreadsheets$", "spreadsheets.create"),
        ("GET", rf"^/v4/spreadsheets/{_SID}$", "spreadsheets.get"),
        ("POST", rf"^/v4/spreadsheets/{_SID}:batchUpdate$", "spreadsheets.batchUpdate"),
        ("GET", rf"^/v4/spreadsheets/{_SID}/values:batchGet$", "values.batchGet"),
        ("POST", rf"^/v4/spreadsheets/{_SID}/values:batchUpdate$", "values.batchUpdate"),
        ("POST", rf"^/v4/spreadsheets/{_SID}/values:batchClear$", "values.batchClear"),
        ("POST", rf"^/v4/spreadsheets/{_SID}/values/(?P<range>.+):append$", "values.append"),
        ("POST", rf"^/v4/spreadsheets/{_SID}/values/(?P<range>.+):clear$", "values.clear"),
        ("GET", rf"^/v4/spreadsheets/{_SID}/values/(?P<range>.+)$", "values.get"),
        ("PUT", rf"^/v4/spreadsheets/{_SID}/values/(?P<range>.+)$", "values.update"),
        ("POST", rf"^/v4/spreadsheets/{_SID}/sheets/(?P<sheet>\d+):copyTo$", "sheets.copyTo"),
        ("POST", rf"^/v4/spreadsheets/{_SID}[:/].*ByDataFilter$", "unimplemented"),
        ("POST", r"^/drive/v3/files$", "drive.files.create"),
        ("GET", r"^/drive/v3/files$", "drive.files.list"),
        ("GET", rf"^/drive/v3/files/{_FID}$", "drive.files.get"),
        ("PATCH", rf"^/drive/v3/files/{_FID}$", "drive.files.update"),
        ("DELETE", rf"^/drive/v3/files/{_FID}$", "drive.files.delete"),
        ("POST", rf"^/drive/v3/files/{_FID}/copy$", "drive.files.copy"),
        ("GET", rf"^/drive/v3/files/{_FID}/export$", "unimplemented"),
        ("POST", rf"^/drive/v3/files/{_FID}/permissions$", "drive.permissions.create"),
        ("GET", rf"^/drive/v3/files/{_FID}/permissions$", "drive.permissions.list"),
        (
            "DELETE",
            rf"^/drive/v3/files/{_FID}/permissions/(?P<pid>[^/]+)$",
            "drive.permissions.delete",
        ),
        ("GET", rf"^/drive/v3/files/{_FID}/comments$", "drive.comments.list"),
        ("POST", rf"^/drive/v3/files/{_FID}/comments$", "drive.comments.create"),
        ("PUT", r"^/upload/drive/v2/files/.+$", "unimplemented"),
    )
]


def _route(method: str, raw_path: str) -> tuple[str, dict[str, str]] | None:
    """(endpoint name, decoded path parameters) for a request, or None if unknown."""
    for route_method, pattern, name in _ROUTES:
        if route_method != method:
            continue
        m = pattern.match(raw_path)
        if m:
            return name, {k: unquote(v) for k, v in m.groupdict().items()}
    return None


# --------------------------------------------------------------------------------------
# Test hooks: recorded requests and faults
# --------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request the fake received.

    ``path`` is URL-decoded and has no host; ``query`` maps each parameter to its first
    value and ``query_all`` to every value (``ranges`` repeats in batchGet); ``json`` is
    the decoded JSON body (None without one); ``status`` is the HTTP status sent (None for
    a dropped connection, or while the request is still being handled); ``endpoint`` names
    the API method, e.g. ``values.update`` or ``spreadsheets.batchUpdate``.
    """

    number: int
    method: str
    path: str
    query: dict[str, str]
    query_all: dict[str, list[str]]
    json: Json
    endpoint: str | None
    status: int | None = None

    @property
    def batch_kinds(self) -> list[str]:
        """For spreadsheets.batchUpdate: the request kinds in order (e.g. ``["addSheet"]``)."""
        if self.endpoint != "spreadsheets.batchUpdate" or not isinstance(self.json, dict):
            return []
        return [next(iter(r)) for r in self.json.get("requests") or [] if isinstance(r, dict) and r]


@dataclass
class Fault:
    """A scheduled failure: see :meth:`FakeSheetsServer.inject_fault`."""

    status: int | None = 429
    retry_after: float | None = None
    delay: float | None = None
    drop: bool = False
    body: Json = None
    message: str | None = None

    def error(self) -> ApiError:
        status = int(self.status or 500)
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = format_general(float(self.retry_after))
        details = None
        if status == 429:
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "RATE_LIMIT_EXCEEDED",
                    "domain": "googleapis.com",
                    "metadata": {
                        "service": "sheets.googleapis.com",
                        "quota_metric": "sheets.googleapis.com/write_requests",
                        "quota_limit": "WriteRequestsPerMinutePerUser",
                        "consumer": "projects/000000000000",
                        "quota_limit_value": "60",
                    },
                }
            ]
        message = self.message or _DEFAULT_FAULT_MESSAGES.get(status, "Injected fault.")
        return ApiError(status, message, details=details, headers=headers)


BetweenRequestsCallback: TypeAlias = Callable[["FakeSheetsServer", int], None]


# --------------------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, fake: FakeSheetsServer, address: tuple[str, int]) -> None:
        self.fake = fake
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle plus the
        # client's delayed ACK adds ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._track(self.connection, add=False)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        self.server.fake._serve(self, self.command, body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


def _send(handler: _Handler, response: _Response) -> None:
    payload = b""
    if response.body is not None:
        payload = json.dumps(response.body, ensure_ascii=False, indent=2).encode("utf-8")
    try:
        handler.send_response(response.status)
        if response.status != 204:
            handler.send_header("Content-Type", "application/json; charset=UTF-8")
        handler.send_header("Content-Length", str(len(payload)))
        for key, value in response.headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        if payload:
            handler.wfile.write(payload)
    except OSError:
        handler.close_connection = True  # the client gave up (timeout) or went away


# --------------------------------------------------------------------------------------
# Pointing clients at the fake
# --------------------------------------------------------------------------------------


class _RedirectAdapter(HTTPAdapter):
    """A transport adapter that sends requests for Google hosts to the fake instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url or "")
        request.url = self.base_url + parts.path + ("?" + parts.query if parts.query else "")
        return super().send(request, *args, **kwargs)


def redirect_session(session: requests.Session, base_url: str) -> requests.Session:
    """Make ``session`` send every Google API request to ``base_url`` (a fake's ``.url``).

    Mounts a transport adapter for ``https://sheets.googleapis.com``,
    ``https://www.googleapis.com`` and ``https://oauth2.googleapis.com``; the path and query
    are kept. For a ``google.auth`` ``AuthorizedSession`` the separate session it uses to
    refresh tokens is redirected too, so even service-account credentials never leave the
    machine. Returns the same session.
    """
    adapter = _RedirectAdapter(base_url)
    for host in GOOGLE_HOSTS:
        session.mount(host + "/", adapter)
    auth_request = getattr(session, "_auth_request", None)
    token_session = getattr(auth_request, "session", None)
    if isinstance(token_session, requests.Session) and token_session is not session:
        for host in GOOGLE_HOSTS:
            token_session.mount(host + "/", adapter)
    return session


class FakeHTTPClient(HTTPClient):
    """A gspread ``HTTPClient`` whose session talks to a :class:`FakeSheetsServer`.

    Use a bound subclass: ``gspread.Client(creds, http_client=fake.http_client_class)``
    or ``FakeHTTPClient.bound_to(fake.url)``. Everything else is gspread's own code.
    """

    fake_base_url: ClassVar[str | None] = None

    def __init__(self, auth: Any, session: requests.Session | None = None) -> None:
        if not self.fake_base_url:
            raise RuntimeError(
                "FakeHTTPClient is not bound to a fake; use FakeHTTPClient.bound_to(fake.url) or fake.http_client_class"
            )
        super().__init__(auth, session)
        redirect_session(self.session, self.fake_base_url)

    @classmethod
    def bound_to(cls, base_url: str) -> type[FakeHTTPClient]:
        """A subclass that redirects to ``base_url``."""
        return type(cls.__name__, (cls,), {"fake_base_url": base_url.rstrip("/")})


def fake_http_client(base_url: str, base: type[Any] | None = None) -> type[Any]:
    """A subclass of gspread HTTP client class ``base`` that talks to the fake at ``base_url``.

    ``base`` defaults to gspread's ``HTTPClient``; pass ``gspread.BackOffHTTPClient`` or
    your own subclass to keep its retry logic while testing against the fake.
    """
    if base is None or base is HTTPClient:
        return FakeHTTPClient.bound_to(base_url)
    if issubclass(base, FakeHTTPClient):
        return base.bound_to(base_url)
    return type(f"Fake{base.__name__}", (FakeHTTPClient, base), {"fake_base_url": base_url.rstrip("/")})


def _fake_credentials() -> Any:
    from google.oauth2.credentials import Credentials

    return Credentials(token="fake-token")


# --------------------------------------------------------------------------------------
# The public fake
# --------------------------------------------------------------------------------------

ValueInput = Literal["RAW", "USER_ENTERED"]


class FakeSheetsServer:
    """A local, in-memory Google Sheets v4 + Drive v3 API server for tests.

    ``FakeSheetsServer(seed=None, require_auth=False, strict=True, port=0)``:
    ``seed`` makes generated ids reproducible; ``require_auth`` answers 401 to requests
    without an ``Authorization`` header, like Google; ``strict`` makes leaving the
    ``with`` block raise if the fake itself failed (a bug in the fake or an exception in a
    ``between_requests`` callback answered 500 instead of crashing the test); ``port`` 0
    picks a free port.

    Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        require_auth: bool = False,
        strict: bool = True,
        port: int = 0,
    ) -> None:
        self._api = _Api(random.Random(seed))
        self._require_auth = require_auth
        self._strict = strict
        self._port = port
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._hook_lock = threading.Lock()
        self._seq = 0
        self._count = 0
        self._requests: list[RecordedRequest] = []
        self._faults: dict[int, Fault] = {}
        self._callbacks: list[BetweenRequestsCallback] = []
        self._connections: set[socket.socket] = set()
        self.errors: list[BaseException] = []
        """Exceptions raised inside the fake (answered as 500); see ``strict``."""

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> FakeSheetsServer:
        """Bind 127.0.0.1 (an ephemeral port unless one was given) and serve in a thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _HTTPServer(self, ("127.0.0.1", self._port))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeSheetsServer:{int(self._server.server_address[1])}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._hook_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSheetsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self._strict and self.errors and exc is None:
            raise RuntimeError(
                f"FakeSheetsServer failed internally {len(self.errors)} time(s); first: {self.errors[0]!r}"
            ) from self.errors[0]

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (paths are Google's: ``/v4/...``)."""
        if self._server is None:
            raise RuntimeError("FakeSheetsServer is not running; call start() or use `with`")
        # Always 127.0.0.1 (we bind it); only the port is ephemeral.
        return f"http://127.0.0.1:{int(self._server.server_address[1])}"

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._hook_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # -- clients ----------------------------------------------------------------------

    @property
    def http_client_class(self) -> type[FakeHTTPClient]:
        """A gspread ``HTTPClient`` subclass bound to this fake (for ``http_client=``)."""
        return FakeHTTPClient.bound_to(self.url)

    def client(
        self,
        credentials: Any = None,
        *,
        http_client: type[Any] | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> Any:
        """A real ``gspread.Client`` whose HTTP goes to this fake.

        ``credentials`` defaults to ``google.oauth2.credentials.Credentials(token=...)``
        with a dummy token; any google-auth credentials work (token refreshes are answered
        by the fake too). ``http_client`` is an optional gspread HTTP client class to keep
        (e.g. ``gspread.BackOffHTTPClient``); ``timeout`` is passed to ``set_timeout``.
        """
        import gspread

        gc = gspread.Client(
            credentials if credentials is not None else _fake_credentials(),
            http_client=fake_http_client(self.url, http_client),
        )
        if timeout is not None:
            gc.set_timeout(timeout)
        return gc

    def redirect(self, session: requests.Session) -> requests.Session:
        """``redirect_session(session, self.url)``: send that session's Google calls here."""
        return redirect_session(session, self.url)

    # -- counters and hooks -----------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last :meth:`reset_counters`, oldest first."""
        with self._hook_lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """How many requests arrived since the last :meth:`reset_counters` (faults included)."""
        with self._hook_lock:
            return self._count

    @property
    def cells_written(self) -> int:
        """Cells written through values update, batchUpdate and append since the last reset."""
        with self._api.lock:
            return self._api.cells_written

    def reset_counters(self) -> None:
        """Forget recorded requests and zero ``request_count`` and ``cells_written``.

        Scheduled faults keep their place: a fault due on the 3rd request from when it
        was injected still fires then.
        """
        with self._hook_lock:
            self._requests.clear()
            self._count = 0
        with self._api.lock:
            self._api.cells_written = 0

    def inject_fault(
        self,
        at_request: int = 1,
        status: int | None = 429,
        *,
        retry_after: float | None = None,
        delay: float | None = None,
        drop: bool = False,
        body: Json = None,
        message: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the ``at_request``-th request from now (1 = the next one) fail.

        ``status`` is the HTTP status to answer with (Google-style error body; 429 adds
        Google's RATE_LIMIT_EXCEEDED ``ErrorInfo``); ``None`` answers normally, which only
        makes sense with ``delay``. ``retry_after`` adds a ``Retry-After`` header (seconds).
        ``delay`` sleeps that many seconds before answering (exceeding a client timeout
        makes ``requests`` raise ``ReadTimeout``). ``drop=True`` closes the connection
        without any response (``requests`` raises ``ConnectionError``). ``body`` replaces
        the JSON error body, ``message`` only its message. ``times`` repeats the fault on
        that many consecutive requests. A faulted request changes no state.
        """
        if at_request < 1 or times < 1:
            raise ValueError("at_request and times must be >= 1")
        with self._hook_lock:
            for k in range(times):
                self._faults[self._seq + at_request + k] = Fault(
                    status=status,
                    retry_after=retry_after,
                    delay=delay,
                    drop=drop,
                    body=body,
                    message=message,
                )

    def clear_faults(self) -> None:
        """Cancel every fault not yet fired."""
        with self._hook_lock:
            self._faults.clear()

    def between_requests(self, callback: BetweenRequestsCallback) -> BetweenRequestsCallback:
        """Run ``callback(fake, request_number)`` before each request is handled.

        ``request_number`` counts from 1 since the last :meth:`reset_counters`. The callback
        runs on the server thread, before the request sees the spreadsheet, so it can act as
        a person editing between a sync's read and its write (``set_values``,
        ``insert_rows``, ``delete_rows``, ``sort_rows``...). Returns ``callback``, so it
        works as a decorator.
        """
        with self._hook_lock:
            self._callbacks.append(callback)
        return callback

    def clear_between_requests(self) -> None:
        """Remove every ``between_requests`` callback."""
        with self._hook_lock:
            self._callbacks.clear()

    # -- request handling ---------------------------------------------------------------

    def _serve(self, handler: _Handler, method: str, raw_body: bytes) -> None:
        split = urlsplit(handler.path)
        raw_path = split.path
        query_all = parse_qs(split.query, keep_blank_values=True)
        routed = _route(method, raw_path)
        body: Json = None
        body_error = False
        is_token = routed is not None and routed[0] == "oauth2.token"
        if raw_body and not is_token:  # the token endpoint takes a form, not JSON
            try:
                # NaN/Infinity are not JSON; Python clients (pandas!) send them anyway and
                # Google rejects the whole request.
                body = json.loads(raw_body.decode("utf-8"), parse_constant=_reject_constant)
            except (UnicodeDecodeError, ValueError):
                body_error = True
        with self._hook_lock:
            self._seq += 1
            self._count += 1
            seq, number = self._seq, self._count
            record = RecordedRequest(
                number=number,
                method=method,
                path=unquote(raw_path),
                query={k: v[0] for k, v in query_all.items()},
                query_all=query_all,
                json=body,
                endpoint=routed[0] if routed else None,
            )
            self._requests.append(record)
            callbacks = list(self._callbacks)
            fault = self._faults.pop(seq, None)
        response: _Response | None = None
        for callback in callbacks:
            try:
                callback(self, number)
            except Exception as exc:  # the test's callback failed: report, don't hang
                self.errors.append(exc)
                response = _Response(500, ApiError(500, f"between_requests callback failed: {exc!r}").body())
                break
        if fault is not None and response is None:
            if fault.delay:
                self._stopping.wait(fault.delay)
            if fault.drop:
                handler.close_connection = True
                with contextlib.suppress(OSError):
                    handler.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.status is not None:
                error = fault.error()
                response = _Response(
                    error.code,
                    fault.body if fault.body is not None else error.body(),
                    error.headers,
                )
        if response is None:
            if self._require_auth and not is_token and not handler.headers.get("Authorization"):
                response = _Response(
                    401,
                    ApiError(
                        401,
                        "Request is missing required authentication credential. Expected OAuth 2 "
                        "access token, login cookie or other valid authentication credential.",
                    ).body(),
                )
            elif body_error:
                response = _Response(400, _bad_request("Invalid JSON payload received. Unexpected token.").body())
            else:
                response = self._dispatch(routed, query_all, body)
        record.status = response.status
        _send(handler, response)

    def _dispatch(
        self, routed: tuple[str, dict[str, str]] | None, query: dict[str, list[str]], body: Json
    ) -> _Response:
        if routed is None:
            return _Response(404, ApiError(404, "Method not found.").body())
        name, params = routed
        api = self._api
        try:
            with api.lock:
                result = self._call(api, name, params, query, body)
        except ApiError as err:
            return _Response(err.code, err.body(), err.headers)
        except _RequestError as err:  # raised outside batchUpdate: still a 400
            return _Response(400, _bad_request(str(err)).body())
        except Exception as exc:  # a bug in the fake: answer like Google's 500, remember it
            self.errors.append(exc)
            return _Response(500, ApiError(500, f"Internal error encountered. ({exc!r})").body())
        if result is None:
            return _Response(204)
        return _Response(200, self._masked(name, query, result))

    @staticmethod
    def _masked(name: str, query: dict[str, list[str]], result: Json) -> Json:
        fields = _first(query, "fields")
        if fields and not name.startswith(("drive.", "oauth2.")):
            return apply_mask(result, parse_field_mask(fields))
        return result

    @staticmethod
    def _call(api: _Api, name: str, p: dict[str, str], query: dict[str, list[str]], body: Json) -> Json:
        if name == "oauth2.token":
            return {"access_token": "fake-token", "expires_in": 3599, "token_type": "Bearer"}
        if name == "spreadsheets.create":
            return api.spreadsheets_create(body)
        if name == "spreadsheets.get":
            return api.spreadsheets_get(p["sid"], query)
        if name == "spreadsheets.batchUpdate":
            return api.batch_update(p["sid"], body)
        if name == "values.get":
            return api.values_get(p["sid"], p["range"], query)
        if name == "values.batchGet":
            return api.values_batch_get(p["sid"], query)
        if name == "values.update":
            return api.values_update(p["sid"], p["range"], query, body)
        if name == "values.batchUpdate":
            return api.values_batch_update(p["sid"], body)
        if name == "values.append":
            return api.values_append(p["sid"], p["range"], query, body)
        if name == "values.clear":
            return api.values_clear(p["sid"], p["range"])
        if name == "values.batchClear":
            return api.values_batch_clear(p["sid"], body)
        if name == "sheets.copyTo":
            return api.copy_sheet_to(p["sid"], int(p["sheet"]), body)
        if name == "drive.files.create":
            return api.drive_create(query, body)
        if name == "drive.files.list":
            return api.drive_list(query)
        if name == "drive.files.get":
            return api.drive_get(p["fid"], query)
        if name == "drive.files.update":
            return api.drive_update(p["fid"], query, body)
        if name == "drive.files.delete":
            api.drive_delete(p["fid"])
            return None
        if name == "drive.files.copy":
            return api.drive_copy(p["fid"], query, body)
        if name == "drive.permissions.create":
            return api.permission_create(p["fid"], query, body)
        if name == "drive.permissions.list":
            return api.permission_list(p["fid"], query)
        if name == "drive.permissions.delete":
            api.permission_delete(p["fid"], p["pid"])
            return None
        if name == "drive.comments.list":
            return api.comments_list(p["fid"], query)
        if name == "drive.comments.create":
            return api.comment_create(p["fid"], query, body)
        raise ApiError(501, "FakeSheetsServer does not implement this method.")

    # -- state helpers (act as a person in the browser; not counted as requests) -------

    def _book(self, spreadsheet_id: str) -> Spreadsheet:
        book = self._api.books.get(spreadsheet_id)
        if book is None:
            raise KeyError(f"no spreadsheet {spreadsheet_id!r} in the fake")
        return book

    def _sheet(self, spreadsheet_id: str, title: str) -> tuple[Spreadsheet, Sheet]:
        book = self._book(spreadsheet_id)
        sheet = book.find_sheet(title)
        if sheet is None:
            raise KeyError(f"no sheet {title!r} in spreadsheet {spreadsheet_id!r}")
        return book, sheet

    def create_spreadsheet(
        self,
        title: str = "Untitled spreadsheet",
        sheets: Mapping[str, Sequence[Sequence[Any]]] | None = None,
        *,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
        value_input: ValueInput = "RAW",
    ) -> str:
        """Create a spreadsheet and return its id.

        ``sheets`` maps tab titles to rows of values (default: one empty ``Sheet1``). Grids
        are Google's default 1000 x 26, grown to fit the data. Values are stored as given
        (``value_input="RAW"``: strings stay strings) unless ``value_input="USER_ENTERED"``;
        ``date``/``datetime`` values become date serials with a date format either way.
        """
        with self._api.lock:
            specs = []
            for name, rows in (sheets or {"Sheet1": []}).items():
                width = max((len(r) for r in rows), default=0)
                specs.append(
                    {
                        "title": name,
                        "gridProperties": {
                            "rowCount": max(DEFAULT_ROWS, len(rows)),
                            "columnCount": max(DEFAULT_COLUMNS, width),
                        },
                    }
                )
            book = self._api.create_book(title, specs)
            book.locale, book.time_zone = locale, time_zone
            for sheet, rows in zip(book.sheets, (sheets or {"Sheet1": []}).values(), strict=True):
                self._store_rows(book, sheet, 0, 0, rows, value_input)
            return book.spreadsheet_id

    def delete_spreadsheet(self, spreadsheet_id: str) -> None:
        """Delete a spreadsheet (later requests for it answer 404)."""
        with self._api.lock:
            self._book(spreadsheet_id)
            del self._api.books[spreadsheet_id]
            self._api.deleted.add(spreadsheet_id)

    def spreadsheet_ids(self) -> list[str]:
        """Ids of every spreadsheet in the fake, oldest first."""
        with self._api.lock:
            return list(self._api.books)

    def make_private(self, spreadsheet_id: str, private: bool = True) -> None:
        """Make the caller lose access: Sheets answers 403, Drive 404 (``private=False`` undoes)."""
        with self._api.lock:
            self._book(spreadsheet_id).private = private

    def add_sheet(
        self,
        spreadsheet_id: str,
        title: str,
        rows: Sequence[Sequence[Any]] = (),
        *,
        row_count: int = DEFAULT_ROWS,
        col_count: int = DEFAULT_COLUMNS,
        index: int | None = None,
        value_input: ValueInput = "RAW",
    ) -> int:
        """Add a tab (optionally with data) and return its sheetId."""
        with self._api.lock:
            book = self._book(spreadsheet_id)
            if book.find_sheet(title) is not None:
                raise ValueError(f"sheet {title!r} already exists")
            width = max((len(r) for r in rows), default=0)
            sheet = Sheet(
                self._api.new_sheet_id(book),
                title,
                row_count=max(row_count, len(rows)),
                col_count=max(col_count, width),
            )
            book.sheets.insert(len(book.sheets) if index is None else index, sheet)
            self._store_rows(book, sheet, 0, 0, rows, value_input)
            return sheet.sheet_id

    def sheet_titles(self, spreadsheet_id: str) -> list[str]:
        """Tab titles in order."""
        with self._api.lock:
            return [s.title for s in self._book(spreadsheet_id).sheets]

    def sheet_properties(self, spreadsheet_id: str, title: str) -> dict[str, Any]:
        """The tab's ``SheetProperties`` exactly as the API would return them."""
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, title)
            return sheet.properties(book.index_of(sheet))

    def spreadsheet_resource(self, spreadsheet_id: str, *, grid_data: bool = False) -> dict:
        """What ``GET /v4/spreadsheets/{id}`` would return (optionally with grid data)."""
        with self._api.lock:
            return self._api.spreadsheet_resource(self._book(spreadsheet_id), include_grid=grid_data)

    def get_values(
        self,
        spreadsheet_id: str,
        sheet_title: str,
        *,
        render: Literal["UNFORMATTED_VALUE", "FORMATTED_VALUE", "FORMULA"] = "UNFORMATTED_VALUE",
    ) -> list[list[Any]]:
        """All values of a tab as rows, trailing empty cells and rows trimmed.

        Unformatted by default: numbers are numbers, dates are serial numbers, formulas
        are their computed value (``render="FORMULA"`` gives the formula text).
        """
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            box = _Box(sheet, 0, 0, sheet.row_count, sheet.col_count)
            return render_matrix(book, box, "ROWS", render)

    def get_cell(
        self,
        spreadsheet_id: str,
        sheet_title: str,
        a1: str,
        *,
        render: Literal["UNFORMATTED_VALUE", "FORMATTED_VALUE", "FORMULA"] = "UNFORMATTED_VALUE",
    ) -> Any:
        """One cell's value (None when empty)."""
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            r0, c0, _, _ = parse_cell_part(a1)
            row, col = r0 or 0, c0 or 0
            return render_cell(_Evaluator(book), sheet, row, col, sheet.get(row, col), render)

    def cell_format(self, spreadsheet_id: str, sheet_title: str, a1: str) -> dict | None:
        """One cell's ``userEnteredFormat`` (None when unformatted)."""
        with self._api.lock:
            _, sheet = self._sheet(spreadsheet_id, sheet_title)
            r0, c0, _, _ = parse_cell_part(a1)
            cell = sheet.get(r0 or 0, c0 or 0)
            return copy.deepcopy(cell.fmt) if cell and cell.fmt else None

    def data_validation(self, spreadsheet_id: str, sheet_title: str, a1: str) -> dict | None:
        """One cell's data validation rule (None when there is none)."""
        with self._api.lock:
            _, sheet = self._sheet(spreadsheet_id, sheet_title)
            r0, c0, _, _ = parse_cell_part(a1)
            cell = sheet.get(r0 or 0, c0 or 0)
            return copy.deepcopy(cell.validation) if cell and cell.validation else None

    def protected_ranges(self, spreadsheet_id: str, sheet_title: str) -> list[dict[str, Any]]:
        """The tab's protected ranges as the API reports them."""
        with self._api.lock:
            _, sheet = self._sheet(spreadsheet_id, sheet_title)
            return copy.deepcopy(sheet.protected_ranges)

    def set_values(
        self,
        spreadsheet_id: str,
        sheet_title: str,
        a1_start: str,
        rows: Sequence[Sequence[Any]],
        *,
        value_input: ValueInput = "USER_ENTERED",
    ) -> None:
        """Type ``rows`` into the tab starting at ``a1_start`` (e.g. ``"B3"``), as a person would.

        Interpreted like ``USER_ENTERED`` by default (``"=A1*2"`` is a formula, ``"42"`` a
        number); ``None`` leaves a cell alone and ``""`` clears it. The grid grows if
        needed. Not an API request: not counted and never faulted.
        """
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            r0, c0, _, _ = parse_cell_part(a1_start)
            self._store_rows(book, sheet, r0 or 0, c0 or 0, rows, value_input)

    def clear_values(self, spreadsheet_id: str, sheet_title: str) -> None:
        """Delete every value in the tab (formatting stays), like selecting all + Delete."""
        with self._api.lock:
            _, sheet = self._sheet(spreadsheet_id, sheet_title)
            _Api._clear_box(_Box(sheet, 0, 0, sheet.row_count, sheet.col_count))

    def insert_rows(self, spreadsheet_id: str, sheet_title: str, row: int, n: int = 1) -> None:
        """Insert ``n`` empty rows before 1-based row ``row`` (row ``row`` becomes empty)."""
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            if not 1 <= row <= sheet.row_count + 1 or n < 1:
                raise ValueError(f"cannot insert {n} row(s) at row {row}")
            insert_dimension(sheet, "ROWS", row - 1, n, book)

    def delete_rows(self, spreadsheet_id: str, sheet_title: str, start: int, end: int | None = None) -> None:
        """Delete 1-based rows ``start``..``end`` inclusive (``end`` defaults to ``start``)."""
        end = start if end is None else end
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            if not 1 <= start <= end <= sheet.row_count or end - start + 1 >= sheet.row_count:
                raise ValueError(f"cannot delete rows {start}..{end}")
            delete_dimension(sheet, "ROWS", start - 1, end, book)

    def insert_columns(self, spreadsheet_id: str, sheet_title: str, column: int | str, n: int = 1) -> None:
        """Insert ``n`` empty columns before ``column`` (1-based number or letters)."""
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            index = self._column(column)
            if not 0 <= index <= sheet.col_count or n < 1:
                raise ValueError(f"cannot insert {n} column(s) at {column!r}")
            insert_dimension(sheet, "COLUMNS", index, n, book)

    def delete_columns(
        self,
        spreadsheet_id: str,
        sheet_title: str,
        start: int | str,
        end: int | str | None = None,
    ) -> None:
        """Delete columns ``start``..``end`` inclusive (1-based numbers or letters)."""
        first = self._column(start)
        last = first if end is None else self._column(end)
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            if not 0 <= first <= last < sheet.col_count or last - first + 1 >= sheet.col_count:
                raise ValueError(f"cannot delete columns {start!r}..{end!r}")
            delete_dimension(sheet, "COLUMNS", first, last + 1, book)

    def sort_rows(
        self,
        spreadsheet_id: str,
        sheet_title: str,
        key_col: int | str,
        start_row: int = 1,
        *,
        descending: bool = False,
    ) -> None:
        """Sort rows ``start_row``..last row with data by one column, like Data > Sort range.

        ``key_col`` is a 1-based column number or letters; ``start_row`` is 1-based (pass 2
        to keep a header row in place). Stable; blanks sort last in both directions.
        """
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            rows, cols = sheet.value_bounds()
            if rows < start_row:
                return
            box = _Box(sheet, start_row - 1, 0, rows, max(cols, self._column(key_col) + 1))
            sort_box(book, box, [(self._column(key_col), descending)])

    def rename_sheet(self, spreadsheet_id: str, old_title: str, new_title: str) -> None:
        """Rename a tab, as a person double-clicking it would."""
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, old_title)
            other = book.find_sheet(new_title)
            if other is not None and other is not sheet:
                raise ValueError(f"sheet {new_title!r} already exists")
            rename_in_formulas(book, sheet.title, new_title)
            sheet.title = new_title

    @staticmethod
    def _column(column: int | str) -> int:
        if isinstance(column, str):
            return column_index(column)
        if column < 1:
            raise ValueError("column numbers are 1-based")
        return column - 1

    def _store_rows(
        self,
        book: Spreadsheet,
        sheet: Sheet,
        r0: int,
        c0: int,
        rows: Sequence[Sequence[Any]],
        value_input: ValueInput,
    ) -> None:
        matrix: list[list[Json]] = []
        formats: dict[tuple[int, int], dict[str, str]] = {}
        for i, row in enumerate(rows):
            line: list[Json] = []
            for j, value in enumerate(row):
                if isinstance(value, _dt.datetime | _dt.date):
                    serial = to_serial(value)
                    is_datetime = isinstance(value, _dt.datetime)
                    formats[(r0 + i, c0 + j)] = (
                        {"type": "DATE_TIME", "pattern": "yyyy-mm-dd h:mm:ss"}
                        if is_datetime
                        else {"type": "DATE", "pattern": "yyyy-mm-dd"}
                    )
                    line.append(serial)
                elif value is None or isinstance(value, str | int | float | bool):
                    line.append(value)
                else:
                    line.append(str(value))
            matrix.append(line)
        write = _Write(sheet, r0, c0, matrix, value_input)
        sheet.row_count = max(sheet.row_count, r0 + write.rows)
        sheet.col_count = max(sheet.col_count, c0 + write.cols)
        written = self._api.cells_written
        self._api.apply_write(book, write)
        self._api.cells_written = written  # a person typing is not API traffic
        for (r, c), number_format in formats.items():
            cell = sheet.ensure(r, c)
            cell.fmt = {**(cell.fmt or {}), "numberFormat": number_format}
