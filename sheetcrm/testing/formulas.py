"""A small formula evaluator: tokenizer, parser and about forty common functions."""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeAlias

from sheetcrm.cells.a1 import (
    A1Range,
    A1SyntaxError,
    parse_cell_part,
)
from sheetcrm.testing.values import _NUMBER_RE, format_general, format_number, parse_user_entered, to_serial

if TYPE_CHECKING:  # the model evaluates formulas; formulas only name the model's types
    from sheetcrm.testing.model import Sheet, Spreadsheet

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
