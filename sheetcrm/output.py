"""Text out of sheetcrm: aligned terminal tables, CSV and JSON, safe for any text a cell
can hold.

A spreadsheet cell can hold control characters and, through the Sheets API, lone UTF-16
surrogates; a CSV opened in Excel runs a field starting with ``=`` as a formula. Every
output keeps what its format can hold and replaces the rest visibly, never crashing:

* terminal tables: control characters shown as their Unicode control pictures (``␋``),
  lone surrogates as U+FFFD, columns aligned by display width (CJK counts two);
* CSV: UTF-8 with a BOM (Excel in Taiwan then reads it as UTF-8), fields beginning with
  ``= + - @``, TAB or CR prefixed with ``'`` (OWASP CSV injection), lone surrogates U+FFFD;
* JSON: lone surrogates kept as ``\\udXXX`` escapes, which JSON allows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from wcwidth import wcswidth, wcwidth

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BOM", "csv_text", "display_width", "json_text", "neutralise_csv_field", "table_text", "visible"]

BOM = "\ufeff"
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# U+2028/U+2029 end a line for str.splitlines() and many terminals, so they are shown too.
_TERMINAL_CONTROL = re.compile("[\x00-\x1f\x7f\x80-\x9f\u2028\u2029]")
#: OWASP: a CSV field starting with one of these can run as a formula in a spreadsheet.
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _picture(m: re.Match[str]) -> str:
    code = ord(m.group())
    if code == 0x7F:
        return "\u2421"
    if code < 0x20:
        return chr(0x2400 + code)
    if code in (0x2028, 0x2029):
        return "\u2424"
    return "\ufffd"


def without_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def visible(text: str) -> str:
    """``text`` for a terminal: control characters as control pictures (``\\x0b`` -> ``␋``),
    lone surrogates as U+FFFD."""
    return _TERMINAL_CONTROL.sub(_picture, without_surrogates(text))


def xlsx_text(text: str) -> str:
    """``text`` as an .xlsx cell can hold it: XML 1.0 has no place for most control
    characters, so they become control pictures (tab and newline are kept; a CR-LF is read
    back as a newline by every XML parser, so it is written as one, and a lone CR is
    shown as ``␍``); lone surrogates become U+FFFD."""
    text = without_surrogates(text).replace("\r\n", "\n")
    return _CONTROL.sub(_picture, text).replace("\r", "\u240d")


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal (CJK characters take two)."""
    width = wcswidth(text)
    if width >= 0:
        return width
    return sum(max(wcwidth(c), 0) for c in text)


def _cell_text(value: Any) -> str:
    """A cell as people read it: blank for missing, a whole amount without ".0", a day
    without the midnight a date column's type gives it."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return ""
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date().isoformat()
    return str(value)


def table_text(frame: pd.DataFrame, max_width: int = 110, whole: Collection[str] = ()) -> str:
    """``frame`` as an aligned text table (a header line, then one line per row), columns
    padded by display width; long cells cut to ``max_width`` columns with "…", except in
    the columns named in ``whole`` (a problem's message is read to its end)."""
    headers = [visible(str(c)) for c in frame.columns]
    limits = [None if str(c) in whole else max_width for c in frame.columns]
    rows = [[visible(_cell_text(v)).replace("\n", " ") for v in row] for row in frame.itertuples(index=False)]
    rows = [[c if limit is None else _cut(c, limit) for c, limit in zip(row, limits, strict=True)] for row in rows]
    widths = [display_width(h) for h in headers]
    for row in rows:
        widths = [max(w, display_width(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - display_width(c)) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def _cut(text: str, limit: int) -> str:
    if display_width(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        w = max(wcwidth(ch), 0)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def neutralise_csv_field(value: Any) -> str:
    """A field for CSV: text starting with ``= + - @``, TAB or CR gets a leading ``'`` so a
    spreadsheet shows it as text instead of running it; lone surrogates become U+FFFD."""
    text = without_surrogates(_cell_text(value))
    return "'" + text if text.startswith(CSV_TRIGGERS) else text


def csv_text(frame: pd.DataFrame, bom: bool = True) -> str:
    """``frame`` as CSV text: a header line and one line per row, every field neutralised
    (:func:`neutralise_csv_field`), with a UTF-8 BOM first unless ``bom`` is False. Numbers
    are written as numbers (a negative amount is a number, not a formula), a whole one
    without a decimal point (2895000, not 2895000.0)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; any CR or LF in a field is then quoted
    writer.writerow([neutralise_csv_field(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        writer.writerow([_csv_value(v) for v in row])
    return (BOM if bom else "") + buf.getvalue()


def _csv_value(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _cell_text(value)
    return neutralise_csv_field(value)


def json_text(frame: pd.DataFrame) -> str:
    """``frame`` as a JSON array of records (dates ISO, missing null); readable non-ASCII
    text, and lone surrogates as JSON ``\\udXXX`` escapes, so the text is valid UTF-8."""
    records = [
        {str(k): _json_value(v) for k, v in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False)
    ]
    text = json.dumps(records, ensure_ascii=False, indent=1, default=str)
    # A lone surrogate cannot be encoded as UTF-8; its JSON escape can.
    return text.encode("utf-8", "backslashreplace").decode("utf-8") if _SURROGATE.search(text) else text


def _json_value(value: Any) -> Any:
    if _cell_text(value) == "" and not isinstance(value, str):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)  # a whole amount as people write it: 374000, not 374000.0
    return value


def write_csv(frame: pd.DataFrame, path: Any) -> None:
    """Save ``frame`` as a CSV file (see :func:`csv_text`)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(csv_text(frame))


__all__ += ["without_surrogates", "write_csv", "xlsx_text"]
