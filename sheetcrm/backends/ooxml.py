"""Changing cells of an .xlsx package without rewriting the rest of it.

An .xlsx is a zip of XML parts. :func:`rewrite` copies every part of the package as it
is, except the worksheets that have changed cells: those are streamed chunk by chunk, and
only the ``<row>`` elements holding a change are parsed and rebuilt (every other byte of
the worksheet is copied). New text goes in as inline strings, so the shared-strings table
is never touched; a cell keeps its style (a new cell takes its row's or column's style);
``styles.xml`` changes only when a date lands in a cell not yet formatted as a date.
Charts, images, pivot tables, drawings, comments, validations and defined names live in
parts that are copied byte for byte.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import html
import math
import numbers
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from lxml import etree

from sheetcrm.cells.serial import SERIAL_EPOCH, to_serial

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
WORKSHEET_TYPE = DOC_REL_NS + "/worksheet"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

CHUNK = 1 << 20
_R_ATTR = re.compile(rb'(?:^|\s)r="(\d+)"')
_CELL_ATTR = re.compile(rb'(?:^|\s)(r|s|t)="([^"]*)"')
_T_ATTR = re.compile(rb'(?:^|\s)t="([^"]*)"')
_S_ATTR = re.compile(rb'<[^>]*?\ss="(\d+)"')
_REF = re.compile(rb'(?:^|\s)r="([A-Z]+)\d+"')
_LETTERS_AT = re.compile(rb"[A-Z]{1,3}")
_SPANS = re.compile(rb'\s+spans="[^"]*"')
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
# Characters XML 1.0 cannot hold (and CR, which parsers fold into LF): written as Excel's _xHHHH_.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN_TEXT = re.compile("[^&<>\x00-\x1f\ud800-\udfff\ufffe\uffff_]*")
# Built-in number formats that show dates or times.
_DATE_FMT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
DATE_CODE = "yyyy-mm-dd"
DATETIME_CODE = "yyyy-mm-dd hh:mm"


def column_index(letters: bytes) -> int:
    """0-based column of ``b"AB"``."""
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def column_letters(index: int) -> str:
    """Letters of the 0-based column ``index``."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _split_ref(ref: bytes) -> tuple[int, int]:
    """(0-based column, 1-based row) of ``b"C12"``."""
    i = 0
    while i < len(ref) and ref[i] >= 65:
        i += 1
    return column_index(ref[:i].upper()), int(ref[i:] or 0)


def _unescape(text: bytes) -> str:
    value = html.unescape(text.decode("utf-8"))
    if "_x" in value:
        value = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), value)
    return value


def escape_text(value: str) -> str:
    """Text as XML character data, with what XML cannot hold written as ``_xHHHH_`` (as
    Excel does) and a lone surrogate (not encodable) shown as U+FFFD."""
    if _PLAIN_TEXT.fullmatch(value):
        return value
    if _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if _UNSAFE.search(value):
        value = _UNSAFE.sub(lambda m: f"_x{ord(m.group(0)):04X}_", value)
    return value


def _number(value: float) -> str:
    if type(value) is int:
        return str(value)
    if isinstance(value, numbers.Integral) or (value == value and float(value).is_integer() and abs(value) < 1e15):
        return str(int(value))
    return repr(float(value))


_LETTERS: dict[int, str] = {}
_COLUMN_INDEX: dict[bytes, int] = {}


def _letters(col: int) -> str:
    try:
        return _LETTERS[col]
    except KeyError:
        _LETTERS[col] = column_letters(col)
        return _LETTERS[col]


_EPOCH_ORDINAL = SERIAL_EPOCH.date().toordinal()


def _no_style(col: int) -> int:
    return 0


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):
        return False


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Python's cycle collector held off: a write makes millions of short-lived objects
    (none in cycles), and each full collection walks every object alive, the plan's
    hundreds of thousands of values included (a third of a large write's time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# ------------------------------------------------------------------ the package


class Styles:
    """The cell formats of ``styles.xml``, loaded only when a date needs a date format."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.root = etree.fromstring(data)
        ns = {"m": MAIN_NS}
        self.num_fmts = self.root.find("m:numFmts", ns)
        self.codes = {
            int(f.get("numFmtId")): f.get("formatCode", "")
            for f in (self.num_fmts if self.num_fmts is not None else [])
        }
        cell_xfs = self.root.find("m:cellXfs", ns)
        if cell_xfs is None:
            cell_xfs = etree.SubElement(self.root, f"{{{MAIN_NS}}}cellXfs")
            etree.SubElement(cell_xfs, f"{{{MAIN_NS}}}xf", numFmtId="0", fontId="0", fillId="0", borderId="0")
        self.cell_xfs = cell_xfs
        self.xfs = list(cell_xfs)
        self.changed = False
        self._made: dict[tuple[int, bool], int] = {}
        self._shaded: dict[tuple[int, str, str], int] = {}

    def is_date(self, style: int) -> bool:
        if not 0 <= style < len(self.xfs):
            return False
        fmt = int(self.xfs[style].get("numFmtId", "0"))
        if fmt in _DATE_FMT_IDS:
            return True
        code = self.codes.get(fmt)
        if not code:
            return False
        bare = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.', "", code.split(";")[0]).lower()
        return any(ch in bare for ch in "dmyhs") and "general" not in bare

    def date_style(self, style: int, with_time: bool) -> int:
        """A style like ``style`` that shows a date (and time): ``style`` itself when it
        already shows one, else a copy with the date format (added once)."""
        key = (style, with_time)
        if key in self._made:
            return self._made[key]
        if self.is_date(style):
            self._made[key] = style
            return style
        code = DATETIME_CODE if with_time else DATE_CODE
        fmt_id = next((i for i, c in self.codes.items() if c == code), None)
        if fmt_id is None:
            fmt_id = max([163, *self.codes]) + 1
            if self.num_fmts is None:
                self.num_fmts = etree.Element(f"{{{MAIN_NS}}}numFmts")
                self.root.insert(0, self.num_fmts)
            etree.SubElement(self.num_fmts, f"{{{MAIN_NS}}}numFmt", numFmtId=str(fmt_id), formatCode=code)
            self.num_fmts.set("count", str(len(self.num_fmts)))
            self.codes[fmt_id] = code
        base = self.xfs[style] if 0 <= style < len(self.xfs) else self.xfs[0]
        # A format the workbook already has (the same look, showing dates) is used as it is,
        # so styles.xml stays untouched and repeated syncs add nothing.
        wanted = _xf_key(base)
        for i, xf in enumerate(self.xfs):
            if (
                self.is_date(i)
                and _xf_key(xf) == wanted
                and (with_time == any(ch in self._code(i).lower() for ch in "hs"))
            ):
                self._made[key] = i
                return i
        xf = etree.fromstring(etree.tostring(base))
        xf.set("numFmtId", str(fmt_id))
        xf.set("applyNumberFormat", "1")
        self.cell_xfs.append(xf)
        self.xfs.append(xf)
        self.cell_xfs.set("count", str(len(self.xfs)))
        self.changed = True
        self._made[key] = len(self.xfs) - 1
        return self._made[key]

    def shaded_style(self, style: int, fill_rgb: str, font_rgb: str) -> int:
        """A style like ``style`` with a solid ``fill_rgb`` background and a bold italic
        ``font_rgb`` font (RRGGBB): the look of the template's computed headers. The fill,
        the font and the format are each added once, or reused when the workbook has them."""
        key = (style, fill_rgb, font_rgb)
        if key in self._shaded:
            return self._shaded[key]
        fill_id = self._find_or_add(
            "fills",
            "fill",
            lambda el: (
                _rgb_of(el, "patternFill/m:fgColor") == fill_rgb
                and (el.find("m:patternFill", _NS) is not None)
                and el.find("m:patternFill", _NS).get("patternType") == "solid"
            ),
            f'<fill xmlns="{MAIN_NS}"><patternFill patternType="solid"><fgColor rgb="FF{fill_rgb}"/>'
            '<bgColor indexed="64"/></patternFill></fill>',
        )
        font_id = self._find_or_add(
            "fonts",
            "font",
            lambda el: (
                _rgb_of(el, "color") == font_rgb
                and el.find("m:b", _NS) is not None
                and el.find("m:i", _NS) is not None
                and el.find("m:strike", _NS) is None
                and el.find("m:u", _NS) is None
            ),
            f'<font xmlns="{MAIN_NS}"><b/><i/><sz val="11"/><color rgb="FF{font_rgb}"/><name val="Calibri"/>'
            '<family val="2"/></font>',
        )
        base = self.xfs[style] if 0 <= style < len(self.xfs) else self.xfs[0]
        want = {"fillId": str(fill_id), "fontId": str(font_id)}
        found = None
        for i, xf in enumerate(self.xfs):
            if all(xf.get(k) == v for k, v in want.items()) and xf.get("numFmtId", "0") == base.get("numFmtId", "0"):
                found = i
                break
        if found is None:
            xf = etree.fromstring(etree.tostring(base))
            for k, v in want.items():
                xf.set(k, v)
            xf.set("applyFill", "1")
            xf.set("applyFont", "1")
            self.cell_xfs.append(xf)
            self.xfs.append(xf)
            self.cell_xfs.set("count", str(len(self.xfs)))
            self.changed = True
            found = len(self.xfs) - 1
        self._shaded[key] = found
        return found

    def _find_or_add(self, group: str, tag: str, matches: Callable[[Any], bool], xml: str) -> int:
        parent = self.root.find(f"m:{group}", _NS)
        if parent is None:
            parent = etree.Element(f"{{{MAIN_NS}}}{group}")
            self.root.insert(1 if self.root.find("m:numFmts", _NS) is not None else 0, parent)
        items = parent.findall(f"m:{tag}", _NS)
        for i, el in enumerate(items):
            if matches(el):
                return i
        parent.append(etree.fromstring(xml))
        parent.set("count", str(len(items) + 1))
        self.changed = True
        return len(items)

    def _code(self, style: int) -> str:
        fmt = int(self.xfs[style].get("numFmtId", "0"))
        return self.codes.get(fmt, "h" if fmt in (18, 19, 20, 21, 22, 45, 46, 47) else "")

    def to_bytes(self) -> bytes:
        if not self.changed:
            return self.data
        return bytes(etree.tostring(self.root, xml_declaration=True, encoding="UTF-8", standalone=True))


_NS = {"m": MAIN_NS}


def _rgb_of(el: Any, path: str) -> str | None:
    """RRGGBB of the ``rgb`` colour at ``path`` under ``el`` (alpha dropped), or None."""
    found = el.find("/".join(f"m:{p}" if not p.startswith("m:") else p for p in path.split("/")), _NS)
    rgb = found.get("rgb") if found is not None else None
    return rgb[-6:].upper() if rgb else None


def _xf_key(xf: Any) -> tuple[Any, ...]:
    """What an ``<xf>`` looks like apart from its number format."""
    attrs = tuple(sorted((k, v) for k, v in xf.attrib.items() if k not in ("numFmtId", "applyNumberFormat")))
    return attrs, tuple(etree.tostring(child) for child in xf)


class Package:
    """The parts of an open .xlsx that say where things are: sheet titles → worksheet
    parts, the shared strings and the styles."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.names = set(zf.namelist())
        self.workbook_part = self._main_part()
        rels = self._rels(self.workbook_part)
        self.workbook_rels_part = _rels_name(self.workbook_part)
        wb = etree.fromstring(zf.read(self.workbook_part))
        self.sheets: dict[str, str] = {}
        self.sheet_ids: list[int] = []
        for sheet in wb.iter(f"{{{MAIN_NS}}}sheet"):
            rid = sheet.get(f"{{{DOC_REL_NS}}}id")
            self.sheet_ids.append(int(sheet.get("sheetId", "0")))
            if rid in rels:
                self.sheets[sheet.get("name", "")] = rels[rid][1]
        by_type = {t.rsplit("/", 1)[-1]: target for t, target in rels.values()}
        self.shared_strings_part = by_type.get("sharedStrings")
        self.styles_part = by_type.get("styles")
        self.rel_ids = set(rels)
        self._sst: list[str] | None = None
        self._styles: Styles | None = None

    def _main_part(self) -> str:
        root = etree.fromstring(self.zf.read("_rels/.rels"))
        for rel in root:
            if rel.get("Type", "").endswith("/officeDocument"):
                return rel.get("Target", "").lstrip("/")
        raise KeyError("officeDocument")

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        name = _rels_name(part)
        if name not in self.names:
            return {}
        base = part.rsplit("/", 1)[0] if "/" in part else ""
        out = {}
        for rel in etree.fromstring(self.zf.read(name)):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            path = target.lstrip("/") if target.startswith("/") else _join(base, target)
            out[rel.get("Id", "")] = (rel.get("Type", ""), path)
        return out

    def shared_strings(self) -> list[str]:
        """Every shared string, in order (rich text runs joined, phonetic hints left out)."""
        if self._sst is None:
            self._sst = []
            if self.shared_strings_part and self.shared_strings_part in self.names:
                si_tag, t_tag, rph_tag = (f"{{{MAIN_NS}}}{n}" for n in ("si", "t", "rPh"))
                with self.zf.open(self.shared_strings_part) as fh:
                    for _, si in etree.iterparse(fh, tag=si_tag, huge_tree=True):
                        text = "".join(
                            t.text or ""
                            for t in si.iter(t_tag)
                            if t.getparent() is not None and t.getparent().tag != rph_tag
                        )
                        if "_x" in text:
                            text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
                        self._sst.append(text)
                        si.clear()
        return self._sst

    @property
    def styles(self) -> Styles:
        if self._styles is None:
            if self.styles_part and self.styles_part in self.names:
                self._styles = Styles(self.zf.read(self.styles_part))
            else:
                self._styles = Styles(
                    f'<styleSheet xmlns="{MAIN_NS}"><cellXfs count="1"><xf numFmtId="0" fontId="0" '
                    'fillId="0" borderId="0"/></cellXfs></styleSheet>'.encode()
                )
        return self._styles


def _rels_name(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def _join(base: str, target: str) -> str:
    parts = [p for p in base.split("/") if p]
    for piece in target.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


# ------------------------------------------------------------------ rows


class Row:
    """One ``<row>`` of a worksheet being changed: read a cell's current value, set cells."""

    def __init__(self, sheet: _SheetWriter, number: int, attrs: bytes, body: bytes) -> None:
        self.sheet = sheet
        self.number = number
        self.attrs = attrs
        self.cells: dict[int, bytes] = {}  # col -> the cell's XML as in the file
        self.tail = b""
        self._new: dict[int, bytes] = {}
        self._values: dict[int, Any] = {}
        if body:
            self._parse(body)

    def _parse(self, body: bytes) -> None:
        sheet = self.sheet
        cells = self.cells
        quick = sheet.quick_re.findall(body)
        p = sheet.prefix
        if quick and len(quick) == body.count(b"<" + p + b"c ") + body.count(b"<" + p + b"c>") + body.count(
            b"<" + p + b"c/"
        ):
            index = _COLUMN_INDEX
            for whole, letters in quick:
                col = index.get(letters)
                if col is None:
                    col = index[letters] = column_index(letters)
                cells[col] = whole
            last = quick[-1][0]
            self.tail = body[body.rfind(last) + len(last) :].strip()
            return
        col = -1
        end = 0
        for m in sheet.cell_re.finditer(body):
            ref = _REF.search(m.group(1))
            col = column_index(ref.group(1)) if ref else col + 1
            cells[col] = m.group(0)
            end = m.end()
        self.tail = body[end:].strip()

    def _split(self, col: int) -> tuple[bytes, bytes | None] | None:
        """(attributes, inner XML or None when empty) of the cell at ``col``."""
        whole = self.cells.get(col)
        if whole is None:
            return None
        m = self.sheet.cell_re.match(whole)
        if m is None:
            return None
        return m.group(1), (m.group(3) if m.group(2) != b"/>" else None)

    def _attr(self, col: int, name: bytes) -> bytes | None:
        whole = self.cells.get(col)
        if whole is None or name + b'="' not in whole:
            return None
        cell = self._split(col)
        if cell is None:
            return None
        return next((v for k, v in _CELL_ATTR.findall(cell[0]) if k == name), None)

    def value(self, col: int) -> Any:
        """The cell's value as it is in the file now: text, number, bool, error text, or
        ``"=FORMULA"`` for a formula cell; None when blank."""
        if col in self._values:
            return self._values[col]
        value = self._values[col] = self._decode(col)
        return value

    def _decode(self, col: int) -> Any:
        whole = self.cells.get(col)
        return None if whole is None else self.sheet.decode(whole)

    def is_shared_formula_master(self, col: int) -> bool:
        whole = self.cells.get(col)
        return bool(whole and b'"shared"' in whole and re.search(rb'<(?:\w+:)?f\b[^>]*\bt="shared"[^>]*\bref="', whole))

    def style(self, col: int) -> int:
        whole = self.cells.get(col)
        if whole is not None and b' s="' in whole:
            m = _S_ATTR.match(whole)
            if m is not None:
                return int(m.group(1))
        return self.sheet.default_style(self.attrs, col)

    def set(self, col: int, value: Any, style: int | None = None) -> None:
        """Write ``value`` (None clears; text stays text) keeping the cell's style (or
        giving it ``style``)."""
        sheet = self.sheet
        q = sheet.prefix_text
        ref = f"{_letters(col)}{self.number}"
        if style is None:
            style = self.style(col)
        kind = type(value)
        if kind is str:
            self._values[col] = value if value else None
        elif _is_blank(value):
            value, kind = None, type(None)
            self._values[col] = None
        else:
            self._values[col] = value
            if isinstance(value, dt.date | dt.time | dt.timedelta):
                with_time = not isinstance(value, dt.date) or (
                    isinstance(value, dt.datetime) and value.time() != dt.time(0)
                )
                style = sheet.package.styles.date_style(style, with_time)
                value = to_serial(value)
                kind = float
        s = f' s="{style}"' if style else ""
        if kind is str:
            text = escape_text(value)
            space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
            xml = f'<{q}c r="{ref}"{s} t="inlineStr"><{q}is><{q}t{space}>{text}</{q}t></{q}is></{q}c>'
        elif value is None or (kind is float and math.isinf(value)):
            xml = f'<{q}c r="{ref}"{s}/>' if style else ""
        elif kind is bool or kind.__name__ == "bool_":
            xml = f'<{q}c r="{ref}"{s} t="b"><{q}v>{int(bool(value))}</{q}v></{q}c>'
        elif kind is int or kind is float or isinstance(value, numbers.Real):
            xml = f'<{q}c r="{ref}"{s}><{q}v>{_number(value)}</{q}v></{q}c>'
        else:
            text = escape_text(str(value))
            space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
            xml = f'<{q}c r="{ref}"{s} t="inlineStr"><{q}is><{q}t{space}>{text}</{q}t></{q}is></{q}c>'
        self._new[col] = xml.encode("utf-8")
        if col > sheet.max_col:
            sheet.max_col = col

    def set_many(self, cols: list[int], values: list[Any]) -> None:
        """:meth:`set` for many cells at once (the same XML), with the common values
        rendered by :meth:`_SheetWriter.render`: a first sync sets hundreds of thousands."""
        sheet = self.sheet
        cells = self.cells
        defaults = sheet.row_defaults(self.attrs)

        def style_of(col: int) -> int:
            whole = cells.get(col)
            if whole is not None and b' s="' in whole:
                m = _S_ATTR.match(whole)
                if m is not None:
                    return int(m.group(1))
            return defaults(col)

        known = self._values
        for col, value, xml in zip(cols, values, sheet.render(self.number, cols, values, style_of), strict=True):
            if xml is None:
                self.set(col, value)
            else:
                self._new[col] = xml
                known[col] = value if value.__class__ is not str else value or None

    def to_bytes(self) -> bytes:
        p = self.sheet.prefix
        attrs = _SPANS.sub(b"", self.attrs).rstrip(b"/").rstrip()
        if not _R_ATTR.search(attrs):
            attrs = b' r="%d"' % self.number + attrs
        parts = [b"<" + p + b"row" + attrs + b">"]
        cells, fresh = self.cells, self._new
        if not cells or not fresh or max(cells) < min(fresh):
            # The usual sync: computed columns to the right of what people typed.
            parts += cells.values() if list(cells) == sorted(cells) else [cells[c] for c in sorted(cells)]
            parts += [fresh[c] for c in sorted(fresh)]
        else:
            merged = {**cells, **fresh}
            parts += [merged[c] for c in sorted(merged)]
        parts.append(self.tail)
        parts.append(b"</" + p + b"row>")
        return b"".join(parts)


RowEdit = Callable[[Row], None]


@dataclass(slots=True)
class SetCells:
    """A row edit setting ``values`` at ``cols`` (whatever the cells hold) when
    ``guard(value of the cell at guard_col)`` holds (or ``guard_col`` is -1) and no cell
    there is a shared formula's master; otherwise ``otherwise`` decides cell by cell.
    ``written(n)`` is told how many cells were set. The writer can add these cells
    without taking the row apart."""

    cols: list[int]
    values: list[Any]
    guard_col: int
    guard: Callable[[Any], bool]
    otherwise: RowEdit
    written: Callable[[int], None]

    def __call__(self, row: Row) -> None:
        cells = row.cells
        if (self.guard_col >= 0 and not self.guard(row.value(self.guard_col))) or any(
            b"shared" in whole for c in self.cols if (whole := cells.get(c)) is not None
        ):
            self.otherwise(row)
            return
        row.set_many(self.cols, self.values)
        self.written(len(self.cols))


@dataclass
class SheetEdit:
    """What to change in one worksheet: ``rows`` maps a 1-based row number to the function
    that changes it (called once, with the row as it is in the file now); ``lines`` maps a
    row number to values written from column A on."""

    rows: dict[int, RowEdit] = field(default_factory=dict)
    #: Rows to fill with plain values from column A on (appended rows: no checks needed).
    lines: dict[int, list[Any]] = field(default_factory=dict)
    #: The rightmost 0-based column written (to widen the sheet's dimension).
    max_col: int = -1


class _SheetWriter:
    def __init__(self, package: Package, edit: SheetEdit) -> None:
        self.package = package
        self.edit = edit
        self.set_prefix(b"")
        self.row_styles: dict[int, int] = {}
        self.col_styles: list[tuple[int, int, int]] = []
        self.max_col = -1
        self.max_row = max([*edit.rows, *edit.lines], default=0)
        self._line_styles: dict[int, int] = {}
        self._line_dates: dict[tuple[int, bool], int] = {}
        #: (style, with time) -> the date style :meth:`Styles.date_style` gives for them.
        self._date_styles: dict[tuple[int, bool], int] = {}

    def set_prefix(self, prefix: bytes) -> None:
        p = self.prefix = prefix
        self.cell_re = re.compile(rb"<" + p + rb"c\b([^>]*?)(/>|>(.*?)</" + p + rb"c>)", re.S)
        # Cells whose first attribute is their reference, as Excel, LibreOffice and the
        # Python writers all write them: split in one pass.
        self.quick_re = re.compile(rb"(<" + p + rb'c r="([A-Z]{1,3})\d+"[^>]*?(?:/>|>.*?</' + p + rb"c>))", re.S)
        self.f_open = b"<" + p + b"f"
        self.f_re = re.compile(rb"<" + p + rb"f\b[^>]*?(?:/>|>(.*?)</" + p + rb"f>)", re.S)
        self.rph_re = re.compile(rb"<" + p + rb"rPh\b.*?</" + p + rb"rPh>", re.S)
        self.t_re = re.compile(rb"<" + p + rb"t\b[^>]*>(.*?)</" + p + rb"t>", re.S)
        self.v_open, self.v_close = b"<" + p + b"v>", b"</" + p + b"v>"
        self.is_t_open, self.is_t_close = b"<" + p + b"is><" + p + b"t>", b"</" + p + b"t></" + p + b"is>"
        self.prefix_text = p.decode()

    def row_defaults(self, row_attrs: bytes) -> Callable[[int], int]:
        """:meth:`default_style` of a row, as a function of the column."""
        if b'customFormat="1"' in row_attrs:
            m = re.search(rb'(?:^|\s)s="(\d+)"', row_attrs)
            if m:
                style = int(m.group(1))
                return lambda col: style
        if not self.col_styles:
            return _no_style
        return self._col_style

    def default_style(self, row_attrs: bytes, col: int) -> int:
        if b'customFormat="1"' in row_attrs:
            m = re.search(rb'(?:^|\s)s="(\d+)"', row_attrs)
            if m:
                return int(m.group(1))
        if not self.col_styles:
            return 0
        return self._col_style(col)

    @functools.lru_cache(maxsize=1024)  # noqa: B019 - one writer per worksheet, short-lived
    def _col_style(self, col: int) -> int:
        for lo, hi, style in self.col_styles:
            if lo <= col <= hi:
                return style
        return 0

    def read_head(self, head: bytes) -> bytes:
        """Note column styles, and widen ``<dimension>`` to cover what will be written."""
        p = self.prefix
        for m in re.finditer(rb"<" + p + rb"col\b([^>]*)>", head):
            attrs: dict[bytes, bytes] = dict(re.findall(rb'(\w+)="([^"]*)"', m.group(1)))
            if b"style" in attrs and b"min" in attrs:
                lo, hi = int(attrs[b"min"]) - 1, int(attrs.get(b"max", attrs[b"min"])) - 1
                self.col_styles.append((lo, hi, int(attrs[b"style"])))
        return head

    def finish_head(self, head: bytes, max_col: int) -> bytes:
        p = self.prefix
        m = re.search(rb"(<" + p + rb'dimension\b[^>]*\bref=")([^"]*)(")', head)
        if m is None or not self.max_row:
            return head
        ref = m.group(2)
        first, _, last = ref.partition(b":")
        last = last or first
        try:
            c1, r1 = _split_ref(first)
            c2, r2 = _split_ref(last)
        except ValueError:
            return head
        c2, r2 = max(c2, max_col), max(r2, self.max_row)
        new = f"{column_letters(max(c1, 0))}{max(r1, 1)}:{column_letters(c2)}{r2}".encode()
        return head[: m.start(2)] + new + head[m.end(2) :]

    def decode(self, whole: bytes) -> Any:
        """The value of a cell's XML ``whole``: text, number, bool, error text, or
        ``"=FORMULA"`` for a formula cell; None when blank."""
        m = self.cell_re.match(whole)
        if m is None or m.group(2) == b"/>":
            return None
        attrs, inner = m.group(1), m.group(3)
        if self.f_open in inner:
            f = self.f_re.search(inner)
            if f is not None:
                return "=" + _unescape(f.group(1) or b"")
        t = _T_ATTR.search(attrs) if b't="' in attrs else None
        kind = t.group(1) if t is not None else b"n"
        if kind == b"inlineStr":
            # The usual inline string (an ID the writer checks): one plain <t> element.
            if inner.startswith(self.is_t_open) and inner.endswith(self.is_t_close):
                text = inner[len(self.is_t_open) : len(inner) - len(self.is_t_close)]
                if b"<" not in text:
                    return _unescape(text)
            inner = self.rph_re.sub(b"", inner)
            return "".join(_unescape(t) for t in self.t_re.findall(inner))
        i = inner.find(self.v_open)
        if i < 0:
            return None
        i += len(self.v_open)
        text = inner[i : inner.find(self.v_close, i)]
        if kind == b"s":
            sst = self.package.shared_strings()
            n = int(text)
            return sst[n] if 0 <= n < len(sst) else None
        if kind == b"b":
            return text.strip() == b"1"
        if kind in (b"str", b"e", b"d"):
            return _unescape(text)
        number = float(text)
        return int(number) if number.is_integer() and abs(number) < 1e15 else number

    def render(
        self, number: int, cols: list[int], values: list[Any], style_of: Callable[[int], int]
    ) -> list[bytes | None]:
        """The XML of new cells in row ``number`` holding ``values`` at ``cols``, as
        :meth:`Row.set` writes them, for text, finite numbers and dates; None for any
        other value (left to :meth:`Row.set`)."""
        q = self.prefix_text
        row = str(number)
        letters = _LETTERS
        plain = _PLAIN_TEXT.fullmatch
        # Most rows have no column or row style: no call per cell to learn that.
        styled = style_of is not _no_style
        dates = self._date_styles
        out: list[bytes | None] = []
        top = self.max_col
        for col, value in zip(cols, values, strict=True):
            kind = value.__class__
            style = style_of(col) if styled else 0
            if kind is str:
                text = value if plain(value) else escape_text(value)
                if text != text.strip() or "\n" in text:
                    out.append(None)
                    continue
                body = f' t="inlineStr"><{q}is><{q}t>{text}</{q}t></{q}is></{q}c>'
            elif kind is int:
                body = f"><{q}v>{value}</{q}v></{q}c>"
            elif kind is float and value == value and abs(value) < 1e15:
                body = f"><{q}v>{_number(value)}</{q}v></{q}c>"
            elif kind is dt.date or kind is dt.datetime:
                with_time = kind is dt.datetime and value.time() != dt.time(0)
                key = (style, with_time)
                date_style = dates.get(key)
                if date_style is None:
                    date_style = dates[key] = self.package.styles.date_style(style, with_time)
                style = date_style
                # A date's serial is its whole days since the epoch, as to_serial counts.
                serial = value.toordinal() - _EPOCH_ORDINAL if kind is dt.date else _number(to_serial(value))
                body = f"><{q}v>{serial}</{q}v></{q}c>"
            else:
                out.append(None)
                continue
            ref = letters.get(col) or _letters(col)
            if style:
                out.append(f'<{q}c r="{ref}{row}" s="{style}"{body}'.encode())
            else:
                out.append(f'<{q}c r="{ref}{row}"{body}'.encode())
            if col > top:
                top = col
        self.max_col = top
        return out

    def append_cells(self, number: int, attrs: bytes, body: bytes, edit: SetCells) -> bytes | None:
        """Row ``number`` with ``edit``'s cells added after its last cell (or before its
        first), without taking the row apart: the usual first sync (computed columns right
        of what people typed, and on an unnumbered sheet the ID left of it). None when that
        does not apply (a cell there already, the guard cell not plainly found or not
        passing): the row then goes through :class:`Row`."""
        p = self.prefix
        body = body.strip()
        first_col = last_col = -1
        opener = b"<" + p + b'c r="'
        if body:
            if not body.endswith(b"c>") and not body.endswith(b"/>"):
                return None
            j = body.rfind(opener)
            if j < 0 or body.find(b"<" + p + b"c", j + 2) >= 0:
                return None
            m = _LETTERS_AT.match(body, j + len(opener))
            if m is None:
                return None
            last_col = column_index(m.group(0))
            first = _LETTERS_AT.match(body, len(opener)) if body.startswith(opener) else None
            # A first cell without its reference hides where the row starts: nothing before it.
            first_col = column_index(first.group(0)) if first is not None else -1
        cols = edit.cols
        if min(cols) > last_col:
            before = None  # the usual case: everything goes after the last cell
        else:
            before = [c < first_col for c in cols]
            if any(not b and c <= last_col for b, c in zip(before, cols, strict=True)):
                return None
        if len(set(cols)) < len(cols):
            return None
        if edit.guard_col >= 0:
            held = None
            if first_col <= edit.guard_col <= last_col:
                tag = f'<{self.prefix_text}c r="{_letters(edit.guard_col)}{number}"'.encode()
                i = body.find(tag)
                m = self.cell_re.match(body, i) if i >= 0 else None
                if m is None:
                    return None
                held = self.decode(m.group(0))
            if not edit.guard(held):
                return None
        rendered = self.render(number, edit.cols, edit.values, self.row_defaults(attrs))
        xml = [x for x in rendered if x is not None]
        if len(xml) < len(rendered):
            return None
        edit.written(len(edit.cols))
        clean = _SPANS.sub(b"", attrs).rstrip(b"/").rstrip()
        if not _R_ATTR.search(clean):
            clean = b' r="%d"' % number + clean
        order = sorted(range(len(xml)), key=cols.__getitem__)
        if before is None:
            return b"".join([b"<" + p + b"row" + clean + b">", body, *(xml[i] for i in order), b"</" + p + b"row>"])
        head = [xml[i] for i in order if before[i]]
        tail = [xml[i] for i in order if not before[i]]
        return b"".join([b"<" + p + b"row" + clean + b">", *head, body, *tail, b"</" + p + b"row>"])

    def build(self, number: int, attrs: bytes, body: bytes) -> bytes:
        line = self.edit.lines.get(number)
        if line is not None and not body:
            return self.line(number, line)
        edit = self.edit.rows.get(number)
        if line is None and isinstance(edit, SetCells):
            quick = self.append_cells(number, attrs, body, edit)
            if quick is not None:
                return quick
        row = Row(self, number, attrs, body)
        if line is not None:
            for col, value in enumerate(line):
                if not (value is None or value == ""):
                    row.set(col, value)
        if edit is not None:
            edit(row)
        return row.to_bytes()

    def line(self, number: int, values: list[Any]) -> bytes:
        """A new row holding ``values`` from column A on: the appended Log rows, built
        without a :class:`Row` since nothing is there to keep."""
        q = self.prefix_text
        out = [f'<{q}row r="{number}">']
        styles = self._line_styles
        for col, value in enumerate(values):
            kind = value.__class__
            if value is None or (kind is str and not value):
                continue
            style = styles.get(col)
            if style is None:
                style = styles[col] = self.default_style(b"", col)
            ref = f"{_letters(col)}{number}"
            if kind is str:
                s = f' s="{style}"' if style else ""
                text = escape_text(value)
                space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
                out.append(f'<{q}c r="{ref}"{s} t="inlineStr"><{q}is><{q}t{space}>{text}</{q}t></{q}is></{q}c>')
            elif (kind is int or kind is float) and value == value:
                s = f' s="{style}"' if style else ""
                out.append(f'<{q}c r="{ref}"{s}><{q}v>{_number(value)}</{q}v></{q}c>')
            elif isinstance(value, dt.date) and value == value:
                with_time = isinstance(value, dt.datetime) and value.time() != dt.time(0)
                key = (col, with_time)
                date_style = self._line_dates.get(key)
                if date_style is None:
                    date_style = self._line_dates[key] = self.package.styles.date_style(style, with_time)
                s = f' s="{date_style}"' if date_style else ""
                out.append(f'<{q}c r="{ref}"{s}><{q}v>{_number(to_serial(value))}</{q}v></{q}c>')
            else:
                row = Row(self, number, b"", b"")
                row.set(col, value)
                out.append(row._new[col].decode("utf-8"))
        if len(values) - 1 > self.max_col:
            self.max_col = len(values) - 1
        out.append(f"</{q}row>")
        return "".join(out).encode("utf-8")

    def patch(self, src: IO[bytes], out: IO[bytes], max_col: int) -> None:
        """Stream the worksheet from ``src`` to ``out``, rebuilding only the edited rows."""
        dst = _Gather(out)
        try:
            self._patch(src, dst, max_col)
        finally:
            dst.flush()

    def _patch(self, src: IO[bytes], dst: _Gather, max_col: int) -> None:
        buf = b""
        while True:
            chunk = src.read(CHUNK)
            buf += chunk
            sd = re.search(rb"<(\w+:)?sheetData\b[^>]*?(/?)>", buf)
            if sd or not chunk:
                break
        if sd is None:
            raise ValueError("worksheet without sheetData")
        root = re.search(rb"<(?:(\w+):)?worksheet\b", buf)
        if root and root.group(1):
            self.set_prefix(root.group(1) + b":")
        p = self.prefix
        head = self.read_head(buf[: sd.start()])
        dst.write(self.finish_head(head, max(max_col, self.edit.max_col)))
        pending = sorted({*self.edit.rows, *self.edit.lines})
        k = 0
        if sd.group(2):  # <sheetData/>: nothing in it yet
            dst.write(b"<" + p + b"sheetData>")
            for number in pending:
                dst.write(self.build(number, b' r="%d"' % number, b""))
            dst.write(b"</" + p + b"sheetData>")
            dst.write(buf[sd.end() :])
            dst.flush()
            shutil.copyfileobj(src, dst.out, CHUNK)
            return
        dst.write(buf[sd.start() : sd.end()])
        buf = buf[sd.end() :]
        row_re = re.compile(rb"<" + p + rb"row\b([^>]*)>")
        row_tag = b"<" + p + b'row r="%d"'
        row_start = b"<" + p + b"row "
        row_end = b"</" + p + b"row>"
        end_tag = b"</" + p + b"sheetData>"
        implicit = 0
        while True:
            end_pos = buf.find(end_tag)
            limit = end_pos if end_pos >= 0 else buf.rfind(b"<")
            if limit < 0:
                limit = len(buf)
            flushed = 0
            restart = -1
            pos = 0
            while k < len(pending):
                # Straight to the next row to change: the rows before it are copied as
                # they are without looking at each (rows come in order in a worksheet).
                j = buf.find(row_tag % pending[k], pos, limit)
                if j < 0:
                    j = buf.rfind(row_start, pos, limit)
                    if j > pos:
                        last = _R_ATTR.match(buf, j + len(row_start) - 1)
                        if last is None or int(last.group(1)) >= pending[k]:
                            j = pos
                if j > pos:
                    pos = j
                m = row_re.search(buf, pos, limit)
                if m is None:
                    break
                pos = m.end()
                attrs = m.group(1)
                rm = _R_ATTR.search(attrs)
                number = int(rm.group(1)) if rm else implicit + 1
                while k < len(pending) and pending[k] < number:
                    dst.write(buf[flushed : m.start()])
                    flushed = m.start()
                    dst.write(self.build(pending[k], b' r="%d"' % pending[k], b""))
                    k += 1
                if k < len(pending) and pending[k] == number:
                    if attrs.endswith(b"/"):
                        end, body = m.end(), b""
                    else:
                        e = buf.find(row_end, m.end())
                        if e < 0:
                            restart = m.start()
                            break
                        end, body = e + len(row_end), buf[m.end() : e]
                    dst.write(buf[flushed : m.start()])
                    dst.write(self.build(number, attrs, body))
                    flushed = pos = end
                    k += 1
                implicit = number
            if restart >= 0:
                dst.write(buf[flushed:restart])
                buf = buf[restart:]
                chunk = src.read(CHUNK)
                if not chunk:
                    raise ValueError("worksheet ends inside a row")
                buf += chunk
                continue
            if k >= len(pending):
                dst.write(buf[flushed:])
                dst.flush()
                shutil.copyfileobj(src, dst.out, CHUNK)
                return
            if end_pos >= 0:
                dst.write(buf[flushed:end_pos])
                for number in pending[k:]:
                    dst.write(self.build(number, b' r="%d"' % number, b""))
                dst.write(buf[end_pos:])
                dst.flush()
                shutil.copyfileobj(src, dst.out, CHUNK)
                return
            dst.write(buf[flushed:limit])
            buf = buf[limit:]
            chunk = src.read(CHUNK)
            if not chunk:
                raise ValueError("worksheet ends inside sheetData")
            buf += chunk


class _Gather:
    """Many small writes (one per rebuilt row) gathered into large ones: each write to a
    zip member costs a compressor call."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)
        if self.size >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.out.write(b"".join(self.parts))
            self.parts, self.size = [], 0


def last_value_row(zf: zipfile.ZipFile, part: str) -> int:
    """The last row of a worksheet that holds a value or formula (0 when none): where
    appended rows go, whatever empty formatted rows follow."""
    last = current = 0
    buf = b""
    value_re = re.compile(rb"<(?:\w+:)?(?:v|is)>|<(?:\w+:)?f\b")
    row_re = re.compile(rb'<(?:\w+:)?row\b[^>]*?(?:^|\s)r="(\d+)"')
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(CHUNK)
            buf += chunk
            cut = buf.rfind(b"<") if chunk else len(buf)
            if cut <= 0 and chunk:
                continue
            scan, buf = buf[:cut], buf[cut:]
            starts = [(m.start(), int(m.group(1))) for m in row_re.finditer(scan)]
            marker = None
            for found in value_re.finditer(scan):
                marker = found
            if marker is not None:
                before = [n for pos, n in starts if pos < marker.start()]
                last = before[-1] if before else current
            if starts:
                current = starts[-1][1]
            if not chunk:
                return last


# ------------------------------------------------------------------ whole package


@dataclass
class NewSheet:
    """A worksheet to add at the end of the workbook (the Log tab when there is none)."""

    title: str
    edit: SheetEdit
    freeze_header: bool = True


def _copy_member(zin: zipfile.ZipFile, info: zipfile.ZipInfo, zout: zipfile.ZipFile) -> None:
    out = _out_info(info, zout.compresslevel)
    with zin.open(info) as src, zout.open(out, "w", force_zip64=info.file_size > 0x7FFF0000) as dst:
        shutil.copyfileobj(src, dst, CHUNK)


def _patch_member(
    zin: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    zout: zipfile.ZipFile,
    pkg: Package,
    edit: SheetEdit,
    on_sheet: Callable[[str], None] | None,
) -> None:
    """Stream worksheet ``info`` from ``zin`` to ``zout`` with the cells of ``edit`` changed."""
    if on_sheet:
        on_sheet(next((title for title, part in pkg.sheets.items() if part == info.filename), info.filename))
    with (
        zin.open(info) as src,
        zout.open(_out_info(info, zout.compresslevel), "w", force_zip64=False) as dst,
    ):
        _SheetWriter(pkg, edit).patch(src, dst, -1)


def _out_info(info: zipfile.ZipInfo, level: int | None) -> zipfile.ZipInfo:
    out = zipfile.ZipInfo(info.filename, info.date_time)
    # A ZipInfo handed to ZipFile.open/writestr carries its own level (None: zlib's default
    # 6, several times slower than 1), not the ZipFile's; Python 3.13 names it compress_level.
    out._compresslevel = level  # type: ignore[attr-defined]
    out.compress_type = info.compress_type if info.compress_type == zipfile.ZIP_STORED else zipfile.ZIP_DEFLATED
    out.external_attr = info.external_attr
    return out


def _write_member(zout: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes) -> None:
    zout.writestr(_out_info(info, zout.compresslevel), data)


def _add_sheets(pkg: Package, new: list[NewSheet]) -> dict[str, bytes]:
    """Patched workbook.xml, its rels and [Content_Types].xml, plus the new parts."""
    zf = pkg.zf
    out: dict[str, bytes] = {}
    wb = etree.fromstring(zf.read(pkg.workbook_part))
    sheets_el = wb.find(f"{{{MAIN_NS}}}sheets")
    rels = etree.fromstring(zf.read(pkg.workbook_rels_part))
    types = etree.fromstring(zf.read("[Content_Types].xml"))
    folder = pkg.workbook_part.rsplit("/", 1)[0] if "/" in pkg.workbook_part else ""
    next_id = max(pkg.sheet_ids, default=0) + 1
    n = 1
    for sheet in new:
        while f"{folder}/worksheets/sheet{n}.xml".lstrip("/") in pkg.names:
            n += 1
        part = f"{folder}/worksheets/sheet{n}.xml".lstrip("/")
        pkg.names.add(part)
        rid = 1
        while f"rId{rid}" in pkg.rel_ids:
            rid += 1
        pkg.rel_ids.add(f"rId{rid}")
        el = etree.SubElement(sheets_el, f"{{{MAIN_NS}}}sheet", name=sheet.title, sheetId=str(next_id))
        el.set(f"{{{DOC_REL_NS}}}id", f"rId{rid}")
        next_id += 1
        etree.SubElement(
            rels,
            f"{{{PKG_REL_NS}}}Relationship",
            Id=f"rId{rid}",
            Type=WORKSHEET_TYPE,
            Target=f"worksheets/sheet{n}.xml",
        )
        etree.SubElement(types, f"{{{CT_NS}}}Override", PartName=f"/{part}", ContentType=WORKSHEET_CT)
        pkg.sheets[sheet.title] = part
        out[part] = _new_sheet_xml(pkg, sheet)
    for name, root in (
        (pkg.workbook_part, wb),
        (pkg.workbook_rels_part, rels),
        ("[Content_Types].xml", types),
    ):
        out[name] = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))
    return out


def _new_sheet_xml(pkg: Package, sheet: NewSheet) -> bytes:
    import io

    views = (
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        if sheet.freeze_header
        else ""
    )
    skeleton = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}" '
        f'xmlns:r="{DOC_REL_NS}">{views}<sheetFormatPr defaultRowHeight="15"/><sheetData/></worksheet>'
    ).encode()
    dst = io.BytesIO()
    _SheetWriter(pkg, sheet.edit).patch(io.BytesIO(skeleton), dst, 0)
    return dst.getvalue()


def rewrite(
    source: IO[bytes],
    out: IO[bytes],
    edits: dict[str, SheetEdit],
    *,
    late: Callable[[Package], tuple[dict[str, SheetEdit], list[NewSheet]]] | None = None,
    late_titles: Iterable[str] = (),
    compresslevel: int = 6,
    on_sheet: Callable[[str], None] | None = None,
) -> Package:
    """Copy the .xlsx ``source`` to ``out`` with the cells of ``edits`` (worksheet title →
    :class:`SheetEdit`) changed. ``late`` is called after those worksheets are written and
    returns more edits (of the worksheets ``late_titles``, held back till then) and new sheets:
    the Log, which says what the first ones skipped (added as a new sheet when missing).
    Every part not edited is copied unchanged. ``on_sheet`` is told the title of each
    worksheet as it is written.
    """
    with (
        zipfile.ZipFile(source) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zout,
    ):
        pkg = Package(zin)
        missing = [t for t in edits if t not in pkg.sheets]
        if missing:
            raise KeyError(missing[0])
        by_part = {pkg.sheets[t]: e for t, e in edits.items()}
        deferred: dict[str, zipfile.ZipInfo] = {}
        late_parts = {pkg.styles_part} if pkg.styles_part else set()
        late_titles = list(late_titles)
        late_parts |= {pkg.sheets[t] for t in late_titles if t in pkg.sheets} - set(by_part)
        if late is not None and any(t not in pkg.sheets for t in late_titles):
            late_parts |= {pkg.workbook_part, pkg.workbook_rels_part, "[Content_Types].xml"}
        for info in zin.infolist():
            name = info.filename
            if name in by_part:
                _patch_member(zin, info, zout, pkg, by_part[name], on_sheet)
            elif name in late_parts:
                deferred[name] = info
            else:
                _copy_member(zin, info, zout)
        more, new_sheets = late(pkg) if late is not None else ({}, [])
        added = _add_sheets(pkg, new_sheets) if new_sheets else {}
        more_parts = {pkg.sheets[t]: e for t, e in more.items() if pkg.sheets.get(t) in deferred}
        for name, info in deferred.items():
            if name == pkg.styles_part:
                continue
            if name in more_parts:
                _patch_member(zin, info, zout, pkg, more_parts[name], on_sheet)
            elif name in added:
                _write_member(zout, info, added.pop(name))
            else:
                _copy_member(zin, info, zout)
        for name, data in added.items():
            zout.writestr(
                zipfile.ZipInfo(name, dt.datetime.now().timetuple()[:6]), data, zipfile.ZIP_DEFLATED, compresslevel
            )
        if pkg.styles_part in deferred:
            info = deferred[pkg.styles_part]
            if pkg._styles is not None and pkg._styles.changed:
                _write_member(zout, info, pkg._styles.to_bytes())
            else:
                _copy_member(zin, info, zout)
        return pkg


def replace_sheet(
    source: IO[bytes], out: IO[bytes], title: str, rows: dict[int, list[Any]], *, compresslevel: int = 6
) -> None:
    """Copy the .xlsx ``source`` to ``out`` with worksheet ``title`` holding only ``rows``
    (1-based row number → values from column A on): the worksheet's part is replaced where
    it stands (the tab keeps its place), or a new worksheet is added at the end (with its
    entries in workbook.xml, its rels and [Content_Types].xml). Every other part is copied
    unchanged (``styles.xml`` changes only when a date needs a date format)."""
    edit = SheetEdit(lines=rows, max_col=max((len(r) for r in rows.values()), default=0) - 1)
    with (
        zipfile.ZipFile(source) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zout,
    ):
        pkg = Package(zin)
        sheet = NewSheet(title, edit, freeze_header=False)
        if title in pkg.sheets:
            changed = {pkg.sheets[title]: _new_sheet_xml(pkg, sheet)}
        else:
            changed = _add_sheets(pkg, [sheet])
        styles = pkg._styles
        if styles is not None and styles.changed and pkg.styles_part:
            changed[pkg.styles_part] = styles.to_bytes()
        for info in zin.infolist():
            if info.filename in changed:
                _write_member(zout, info, changed.pop(info.filename))
            else:
                _copy_member(zin, info, zout)
        for name, data in changed.items():
            zout.writestr(
                zipfile.ZipInfo(name, dt.datetime.now().timetuple()[:6]), data, zipfile.ZIP_DEFLATED, compresslevel
            )
