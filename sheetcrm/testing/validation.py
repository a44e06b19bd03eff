"""Data validation as the Sheets UI enforces it on what a person types.

Google documents ``DataValidationRule.strict`` as "True if invalid data should be
rejected": a person typing (or pasting) a value its condition does not accept into such
a cell sees the entry refused, whoever they are, the spreadsheet's owner included
(validation is not a permission). Writes through the API are not checked (assumed: the
reference says nothing, and Google applies rules to what is entered in the UI; a value
written through the API that breaks a rule is kept and flagged). Clearing a cell is never
refused. The fake evaluates the conditions sheetcrm and its tests use: ``CUSTOM_FORMULA``
(over the sheet as it is before the entry, exact for a formula that does not refer to the
cell itself), ``ONE_OF_LIST`` and ``TEXT_EQ``; any other condition accepts everything.
"""

from __future__ import annotations

from typing import Any

from sheetcrm.testing.formulas import FormulaError, _Evaluator
from sheetcrm.testing.model import Sheet, Spreadsheet


class RejectedInputError(ValueError):
    """A person-like entry that a strict data validation rule refuses, as the Sheets UI
    refuses it ("violates the data validation rules set on this cell")."""


def _accepts(book: Spreadsheet, sheet: Sheet, rule: dict[str, Any], value: Any) -> bool:
    condition = rule.get("condition") or {}
    kind = condition.get("type")
    wanted = [str((v or {}).get("userEnteredValue", "")) for v in condition.get("values") or []]
    if kind == "CUSTOM_FORMULA" and wanted:
        result = _Evaluator(book).evaluate(wanted[0], sheet)
        return not isinstance(result, FormulaError) and bool(result)
    if kind == "ONE_OF_LIST":
        return str(value) in wanted
    if kind == "TEXT_EQ" and wanted:
        return str(value) == wanted[0]
    return True


def refuse_invalid(book: Spreadsheet, sheet: Sheet, r0: int, c0: int, rows: Any, where: str) -> None:
    """Raise RejectedInputError if typing ``rows`` (None leaves a cell alone, "" clears it)
    at 0-based (``r0``, ``c0``) of ``sheet`` breaks a strict rule; ``where`` names the
    first cell in the message."""
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value is None or value == "":
                continue
            cell = sheet.get(r0 + i, c0 + j)
            rule = cell.validation if cell is not None else None
            if rule and rule.get("strict") and not _accepts(book, sheet, rule, value):
                note = f" ({rule['inputMessage']})" if rule.get("inputMessage") else ""
                raise RejectedInputError(
                    f"{sheet.title}: the data you entered in a cell from {where} violates the data "
                    f"validation rules set on this cell{note}"
                )
