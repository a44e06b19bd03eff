from __future__ import annotations

import datetime as dt
import os
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from sheetcrm.backends import calamine
from sheetcrm.backends.base import PLAN_COLUMNS, WritePlan, empty_cells
from sheetcrm.backends.xlsx import XlsxBackend
from sheetcrm.exceptions import WorkbookFormatError, WorkbookNotFoundError, WorkbookWriteError
from sheetcrm.schema import Tab
from tests.helpers import Rows


def _plan(rows: list[dict]) -> WritePlan:
    cells = (
        pd.DataFrame([{**{c: None for c in PLAN_COLUMNS}, **r} for r in rows], columns=PLAN_COLUMNS)
        if rows
        else empty_cells()
    )
    return WritePlan(cells)


def _decorated(path: Path) -> None:
    """A workbook with everything a person may have added."""
    wb = openpyxl.Workbook()
    ws = wb.worksheets[0]
    ws.title = "Contacts"
    ws.append(["ID", "Name", "Email", "My notes", "Score x2", "Problems"])
    ws.append(["P-1", "Amy", "amy@example.com", "likes tea", "=LEN(B2)*2", None])
    ws.append(["P-2", "Bob", "bob@example.com", None, "=LEN(B3)*2", None])
    ws["D2"].comment = Comment("ask about Q3", "amy")
    ws["C2"].number_format = "@"
    ws["B2"].font = Font(bold=True, color="FF0000")
    dv = DataValidation(type="list", formula1='"hot,cold"', allow_blank=True)
    dv.add("D2:D100")
    ws.add_data_validation(dv)
    extra = wb.create_sheet("Pivot notes")
    extra["A1"] = "not a CRM tab"
    wb.save(path)


def test_read_finds_tabs_and_values(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    _decorated(path)
    tabs = XlsxBackend(path).read()
    assert list(tabs) == [Tab.CONTACTS]
    raw = tabs[Tab.CONTACTS]
    assert raw.header == ["ID", "Name", "Email", "My notes", "Score x2", "Problems"]
    assert raw.rows[0][:4] == ["P-1", "Amy", "amy@example.com", "likes tea"]


def test_write_changes_only_planned_cells_and_keeps_everything_else(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    _decorated(path)
    report = XlsxBackend(path).write(
        _plan(
            [
                {
                    "tab": Tab.CONTACTS,
                    "title": "Contacts",
                    "row": 3,
                    "col": 5,
                    "record_id": "P-2",
                    "id_col": 0,
                    "column": "Problems",
                    "old": None,
                    "new": "Email: bad",
                    "cas": False,
                    "kind": "computed",
                },
            ]
        )
    )
    assert report.written == 1 and not report.skipped
    wb = openpyxl.load_workbook(path)
    ws = wb["Contacts"]
    assert ws["F3"].value == "Email: bad"
    assert ws["E2"].value == "=LEN(B2)*2" and ws["E3"].value == "=LEN(B3)*2"
    assert ws["D2"].comment.text == "ask about Q3"
    assert ws["C2"].number_format == "@"
    assert ws["B2"].font.bold and ws["B2"].font.color.rgb.endswith("FF0000")
    assert [str(r) for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges] == ["D2:D100"]
    assert wb["Pivot notes"]["A1"].value == "not a CRM tab"
    assert ws["D2"].value == "likes tea"


def test_write_skips_a_row_whose_id_moved(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    _decorated(path)
    report = XlsxBackend(path).write(
        _plan(
            [
                {
                    "tab": Tab.CONTACTS,
                    "title": "Contacts",
                    "row": 2,
                    "col": 5,
                    "record_id": "P-2",
                    "id_col": 0,
                    "column": "Problems",
                    "old": None,
                    "new": "x",
                    "cas": False,
                    "kind": "computed",
                },
            ]
        )
    )
    assert report.written == 0 and "P-1" in report.skipped[0]["reason"]
    assert report.skipped[0]["column"] == "Problems" and report.skipped[0]["row"] == 2
    assert openpyxl.load_workbook(path)["Contacts"]["F2"].value is None


def test_compare_and_set_refuses_a_changed_cell(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    _decorated(path)
    report = XlsxBackend(path).write(
        _plan(
            [
                {
                    "tab": Tab.CONTACTS,
                    "title": "Contacts",
                    "row": 2,
                    "col": 1,
                    "record_id": "P-1",
                    "id_col": 0,
                    "column": "Name",
                    "old": "Amelia",
                    "new": "x",
                    "cas": True,
                    "kind": "stage",
                },
            ]
        )
    )
    assert report.written == 0 and "changed" in report.skipped[0]["reason"]
    assert openpyxl.load_workbook(path)["Contacts"]["B2"].value == "Amy"


def test_dates_get_a_date_format(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    _decorated(path)
    XlsxBackend(path).write(
        _plan(
            [
                {
                    "tab": Tab.CONTACTS,
                    "title": "Contacts",
                    "row": 2,
                    "col": 5,
                    "record_id": "P-1",
                    "id_col": 0,
                    "column": "Last Purchase",
                    "old": None,
                    "new": dt.date(2026, 3, 5),
                    "cas": False,
                    "kind": "computed",
                },
            ]
        )
    )
    cell = openpyxl.load_workbook(path)["Contacts"]["F2"]
    assert cell.value == dt.datetime(2026, 3, 5) and cell.number_format == "yyyy-mm-dd"


def test_an_interrupted_write_leaves_the_workbook_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.xlsx"
    _decorated(path)
    before = path.read_bytes()

    def crash(*_args: object) -> None:
        raise OSError(5, "simulated crash before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(WorkbookWriteError, match="left as it was"):
        XlsxBackend(path).write(
            _plan(
                [
                    {
                        "tab": Tab.CONTACTS,
                        "title": "Contacts",
                        "row": 2,
                        "col": 5,
                        "record_id": "P-1",
                        "id_col": 0,
                        "column": "Problems",
                        "old": None,
                        "new": "x",
                        "cas": False,
                        "kind": "computed",
                    },
                ]
            )
        )
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.xlsx"]
    assert XlsxBackend(path).read()[Tab.CONTACTS].rows[0][0] == "P-1"


def test_an_empty_plan_does_not_touch_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    _decorated(path)
    mtime = path.stat().st_mtime_ns
    report = XlsxBackend(path).write(_plan([]))
    assert report.requests == 0 and path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize(
    "name,content,error,match",
    [
        ("missing.xlsx", None, WorkbookNotFoundError, "sheetcrm init"),
        ("notes.txt", b"hello", WorkbookFormatError, "not an .xlsx"),
        ("broken.xlsx", b"not a zip", WorkbookFormatError, "cannot be read"),
        ("old.xls", b"\xd0\xcf\x11\xe0", WorkbookFormatError, "save it as Excel Workbook"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path: Path, name: str, content: bytes | None, error: type, match: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=match):
        XlsxBackend(path).read()
    if content is not None:
        assert path.read_bytes() == content


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write read-only files")
def test_read_only_file_is_refused_before_writing(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    _decorated(path)
    path.chmod(0o444)
    with pytest.raises(WorkbookWriteError, match="read-only"):
        XlsxBackend(path).write(
            _plan(
                [
                    {
                        "tab": Tab.CONTACTS,
                        "title": "Contacts",
                        "row": 2,
                        "col": 5,
                        "record_id": "P-1",
                        "id_col": 0,
                        "column": "Problems",
                        "old": None,
                        "new": "x",
                        "cas": False,
                        "kind": "computed",
                    },
                ]
            )
        )


def test_text_starting_with_equals_is_written_as_text(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    _decorated(path)
    XlsxBackend(path).write(
        _plan(
            [
                {
                    "tab": Tab.CONTACTS,
                    "title": "Contacts",
                    "row": 2,
                    "col": 5,
                    "record_id": "P-1",
                    "id_col": 0,
                    "column": "Problems",
                    "old": None,
                    "new": "=1+1",
                    "cas": False,
                    "kind": "computed",
                },
            ]
        )
    )
    cell = openpyxl.load_workbook(path)["Contacts"]["F2"]
    assert cell.value == "=1+1" and cell.data_type == "s"


def test_added_computed_headers_are_shaded_like_the_template(tmp_path: Path) -> None:
    path = tmp_path / "crm.xlsx"
    wb = openpyxl.Workbook()
    wb.worksheets[0].title = "Contacts"
    wb["Contacts"].append(["ID", "Name"])
    wb.save(path)
    plan = _plan([])
    plan.headers = [(Tab.CONTACTS, "Contacts", 2, "Segment"), (Tab.CONTACTS, "Contacts", 3, "Tier")]

    XlsxBackend(path).write(plan)
    plan.headers = [(Tab.CONTACTS, "Contacts", 4, "Flags")]
    XlsxBackend(path).write(plan)

    ws = openpyxl.load_workbook(path)["Contacts"]
    assert [c.value for c in ws[1]] == ["ID", "Name", "Segment", "Tier", "Flags"]
    for cell in ws[1][2:]:
        assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb.endswith("E7E6E6")
        assert cell.font.b and cell.font.i and cell.font.color.rgb.endswith("595959")
    assert not ws["A1"].fill.fill_type
    # The shading is added to styles.xml once and reused by the second write.
    assert len({c.style_id for c in ws[1][2:]}) == 1
    assert len(openpyxl.load_workbook(path)._cell_styles) == 2  # type: ignore[attr-defined]  # the cellXfs openpyxl read


@pytest.mark.parametrize(
    ("id_cell", "written", "skipped_because"),
    [
        (None, 2, None),  # no ID cell at all: the ID goes in before the row's first cell
        ("bold blank", 2, None),  # a styled blank ID cell: filled, its style kept
        ("P-9", 0, "cell changed to 'P-9'"),  # a person typed an ID meanwhile: theirs stays
        ("=B4", 0, "formula"),
    ],
)
def test_a_blank_id_is_filled_with_the_rows_computed_cells_unless_the_cell_changed(
    tmp_path: Path, id_cell: str | None, written: int, skipped_because: str | None
) -> None:
    path = tmp_path / "a.xlsx"
    _decorated(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Contacts"]
    ws.append([None, "Cy", "cy@example.com"])
    if id_cell == "bold blank":
        ws["A4"].font = Font(bold=True)
    elif id_cell is not None:
        ws["A4"] = id_cell
    wb.save(path)
    base = {"tab": Tab.CONTACTS, "title": "Contacts", "row": 4, "record_id": "P-3", "id_col": 0, "old": None}
    report = XlsxBackend(path).write(
        _plan(
            [
                {**base, "col": 0, "column": "ID", "new": "P-3", "cas": True, "kind": "id"},
                {**base, "col": 5, "column": "Problems", "new": "ok", "cas": False, "kind": "computed"},
            ]
        )
    )
    assert report.written == written
    after = openpyxl.load_workbook(path)["Contacts"]
    row = [c.value for c in after[4]]
    if skipped_because is None:
        assert not report.skipped
        assert row == ["P-3", "Cy", "cy@example.com", None, None, "ok"]
        assert after["A4"].font.bold == (id_cell == "bold blank")
        # Excel wants a row's cells in column order.
        with zipfile.ZipFile(path) as z:
            xml = z.read("xl/worksheets/sheet1.xml").decode()
        assert xml.index('r="A4"') < xml.index('r="B4"') < xml.index('r="F4"')
    else:
        assert skipped_because in report.skipped[0]["reason"]
        assert row[0] == id_cell and row[5] is None


def test_parsing_worksheets_in_threads_reads_what_one_thread_reads(
    make_workbook: Callable[..., Path], small_crm: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_workbook(small_crm)
    together = XlsxBackend(path).read()
    monkeypatch.setattr(calamine, "PARALLEL_LIMIT", 0)  # too big to parse two at once
    alone = XlsxBackend(path).read()
    assert list(together) == list(alone)
    for tab, raw in together.items():
        assert (raw.tab, raw.title, raw.header, raw.rows) == (tab, alone[tab].title, alone[tab].header, alone[tab].rows)
    contacts = together[Tab.CONTACTS]
    assert contacts.rows[0][contacts.header.index("Name")] == small_crm[Tab.CONTACTS][0]["Name"]


def test_a_broken_worksheet_parsed_in_a_thread_is_reported(make_workbook: Callable[..., Path], tmp_path: Path) -> None:
    source = make_workbook()
    broken = tmp_path / "broken-sheet.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(broken, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data[: len(data) // 2]
            zout.writestr(info, data)
    before = broken.read_bytes()
    with pytest.raises(WorkbookFormatError, match="cannot be read"):
        XlsxBackend(broken).read()
    assert broken.read_bytes() == before


@pytest.mark.parametrize("together", [True, False])
def test_tabs_read_one_by_one_are_the_tabs_read_at_once_settings_first(
    make_workbook: Callable[..., Path], small_crm: Rows, monkeypatch: pytest.MonkeyPatch, together: bool
) -> None:
    path = make_workbook(small_crm)
    if not together:
        monkeypatch.setattr(calamine, "PARALLEL_LIMIT", 0)
    at_once = XlsxBackend(path).read()
    each = list(XlsxBackend(path).read_each())
    assert each[0].tab is Tab.SETTINGS
    assert sorted(r.tab for r in each) == sorted(at_once)
    for raw in each:
        assert (raw.title, raw.header, raw.rows) == (
            at_once[raw.tab].title,
            at_once[raw.tab].header,
            at_once[raw.tab].rows,
        )
    # Left after the first tab, the parse threads and workbook handles go with the iterator.
    unfinished = XlsxBackend(path).read_each()
    assert next(unfinished).tab is Tab.SETTINGS
    unfinished.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("sheetcrm-parse")]
