"""The empty CRM workbook: built from the schema, stored under ``templates/``, copied by
``sheetcrm init``.

``build_workbook`` is the single source; ``scripts/build_templates.py`` writes its output
to ``templates/sheetcrm-<lang>.xlsx`` and a test keeps the stored files equal to it.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from openpyxl import Workbook as XLWorkbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from sheetcrm.cells.a1 import column_letters
from sheetcrm.exceptions import Phrase, WorkbookExistsError, WorkbookNotFoundError, WorkbookWriteError
from sheetcrm.i18n import N_
from sheetcrm.schema import TABS, Column, ColumnType, Lang, Tab, TabSpec
from sheetcrm.settings import settings_rows

PEOPLE_FILL = PatternFill("solid", fgColor="DDEBF7")
COMPUTED_FILL = PatternFill("solid", fgColor="E7E6E6")
COMPUTED_FONT = Font(bold=True, italic=True, color="595959")
HEADER_FONT = Font(bold=True)
COMPUTED_NOTE = {
    Lang.EN: "Computed by sheetcrm. Look, don't edit: the next sync overwrites this column.",
    Lang.ZH_TW: "由 sheetcrm 計算。請勿編輯：下次同步會覆寫此欄。",
}
BOOL_CHOICES = {Lang.EN: ["TRUE", "FALSE"], Lang.ZH_TW: ["是", "否"]}
LAST_ROW = 1048576


def _validation(col: Column, lang: Lang) -> DataValidation | None:
    """A dropdown for a people's enum or yes/no column. Typing another spelling (an alias,
    the other language) is warned about, not refused: sheetcrm reads aliases."""
    if col.computed:
        return None
    if col.type is ColumnType.ENUM and col.enum is not None:
        choices = col.enum.choices(lang)
    elif col.type is ColumnType.BOOL:
        choices = BOOL_CHOICES[lang]
    else:
        return None
    formula = '"' + ",".join(choices) + '"'
    return DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        errorStyle="warning",
        showErrorMessage=True,
        error=f"Expected one of: {', '.join(choices)}",
        errorTitle=col.header(lang),
    )


def _add_tab(wb: XLWorkbook, spec: TabSpec, lang: Lang) -> None:
    ws = wb.create_sheet(spec.title(lang))
    ws.freeze_panes = "A2"
    protect = spec.tab is not Tab.SETTINGS
    for i, col in enumerate(spec.template_columns):
        letter = column_letters(i)
        cell = ws.cell(row=1, column=i + 1, value=col.header(lang))
        dim = ws.column_dimensions[letter]
        dim.width = max(10, min(28, len(col.header(lang)) * (2.2 if lang is Lang.ZH_TW else 1.3) + 4))
        fmt = col.number_format
        if fmt:
            dim.number_format = fmt
        if col.computed:
            cell.fill, cell.font = COMPUTED_FILL, COMPUTED_FONT
            cell.comment = Comment(COMPUTED_NOTE[lang], "sheetcrm")
            dim.fill = COMPUTED_FILL
        else:
            cell.fill, cell.font = PEOPLE_FILL, HEADER_FONT
            # Column-level unlock: people type in rows that do not exist yet.
            dim.protection = Protection(locked=False)
            cell.protection = Protection(locked=True)
        dv = _validation(col, lang)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{LAST_ROW}")
            ws.add_data_validation(dv)
    if spec.tab is Tab.SETTINGS:
        for row in settings_rows(lang):
            ws.append(row)
        ws.column_dimensions["A"].width = 26
        ws.column_dimensions["C"].width = 90
    if protect and spec.computed_columns:
        # No password: the point is a speed bump for computed cells, not security. People
        # can still insert, delete, sort and filter rows.
        ws.protection.sheet = True
        for attr in (
            "insertRows",
            "deleteRows",
            "sort",
            "autoFilter",
            "formatColumns",
            "formatRows",
            "formatCells",
            "insertHyperlinks",
        ):
            setattr(ws.protection, attr, False)
    ws.auto_filter.ref = f"A1:{column_letters(len(spec.template_columns) - 1)}1"


def build_workbook(lang: Lang | str = Lang.EN) -> XLWorkbook:
    """An empty CRM workbook for ``lang``: every tab of the schema with its headers,
    dropdowns, frozen header, shaded and protected computed columns, and Settings filled
    with the defaults and a description of each."""
    lang = Lang(lang)
    wb = XLWorkbook()
    default = wb.active
    for spec in TABS.values():
        _add_tab(wb, spec, lang)
    if default is not None:
        wb.remove(default)
    return wb


def template_path(lang: Lang | str = Lang.EN) -> Path:
    """The stored template for ``lang`` (inside the installed package, or ``templates/`` of
    a source checkout)."""
    name = f"sheetcrm-{Lang(lang).value}.xlsx"
    packaged = resources.files("sheetcrm") / "_templates" / name
    candidates = [Path(str(packaged)), Path(__file__).resolve().parent.parent / "templates" / name]
    for path in candidates:
        if path.is_file():
            return path
    raise WorkbookNotFoundError(
        Phrase(N_("the {name} template is missing from this installation; reinstall sheetcrm"), {"name": name})
    )


def xlsx_target(path: str | os.PathLike[str]) -> Path:
    """Where a new workbook goes: ``path``, with .xlsx added when it has no suffix. Raises
    :class:`WorkbookWriteError` for any other suffix, before anything is written."""
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(".xlsx")
    if target.suffix.lower() != ".xlsx":
        raise WorkbookWriteError(Phrase(N_("{path}: a CRM workbook must be an .xlsx file"), {"path": repr(str(path))}))
    return target


def init_workbook(path: str | Path, lang: Lang | str = Lang.EN, *, force: bool = False) -> Path:
    """Create an empty CRM workbook at ``path`` from the stored template.

    Refuses to overwrite an existing file unless ``force``. Returns the path.
    """
    target = xlsx_target(path)
    if target.exists() and not force:
        raise WorkbookExistsError(
            Phrase(
                N_("{path} already exists; pass --force to replace it (its data would be lost)"),
                {"path": repr(str(target))},
            )
        )
    from sheetcrm.backends.files import copy_file

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbookWriteError(
            Phrase(N_("cannot create {path}: {reason}"), {"path": repr(str(target)), "reason": exc.strerror})
        ) from None
    copy_file(template_path(lang), target)  # atomic, through a symlink, the usual mode
    return target
