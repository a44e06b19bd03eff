"""A sync rewrites only the worksheets whose cells change: every other part of the .xlsx
(charts, images, pivot tables, drawings, comments, validations, defined names, styles,
shared strings) comes out byte for byte, in workbooks made by XlsxWriter and by LibreOffice."""

from __future__ import annotations

import datetime as dt
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest

import sheetcrm
from sheetcrm.backends.ooxml import Package
from sheetcrm.backends.xlsx import XlsxBackend
from sheetcrm.schema import LOG

AS_OF = dt.date(2026, 6, 30)
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_libreoffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice is not installed (apt-get install libreoffice-calc-nogui; .ci/run does)"
)


def _png() -> bytes:
    """A 2x2 red PNG, made here so the test needs no image file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _xlsxwriter_workbook(path: Path) -> None:
    """A CRM workbook with everything a person may add, made by XlsxWriter (Excel's format)."""
    import io

    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    bold = book.add_format({"bold": True, "font_color": "red"})
    companies = book.add_worksheet("Companies")
    companies.write_row(0, 0, ["ID", "Name", "Region", "Created"])
    companies.write_row(1, 0, ["CO-0001", "宏達精密", "台北"])
    companies.write_datetime(1, 3, dt.datetime(2025, 1, 5), date)
    contacts = book.add_worksheet("Contacts")
    contacts.write_row(0, 0, ["ID", "Company ID", "Name", "Email", "Role", "My score"])
    people = [("P-0001", "CO-0001", "林志玲", "lin@example.com"), ("P-0002", "CO-0001", "Amy Chen", "amy@example.com")]
    for r, row in enumerate(people, start=1):
        contacts.write_row(r, 0, row)
        contacts.write_formula(r, 5, f"=LEN(C{r + 1})*2", None, len(row[2]) * 2)
    contacts.write(1, 2, "林志玲", bold)
    contacts.write_comment("C2", "VIP: call before noon")
    contacts.data_validation("E2:E100", {"validate": "list", "source": ["Decision Maker", "User"]})
    contacts.conditional_format("F2:F100", {"type": "cell", "criteria": ">", "value": 5, "format": bold})
    contacts.freeze_panes(1, 0)
    opps = book.add_worksheet("Opportunities")
    opps.write_row(0, 0, ["ID", "Company ID", "Contact ID", "Name", "Stage", "Amount"])
    opps.write_row(1, 0, ["OP-0001", "CO-0001", "P-0001", "Big order", "Won", 120000])
    acts = book.add_worksheet("Activities")
    acts.write_row(0, 0, ["ID", "Date", "Type", "Contact ID", "Company ID", "Amount"])
    for r, (when, who, amount) in enumerate(
        [(dt.datetime(2026, 1, 10), "P-0001", 1200), (dt.datetime(2026, 5, 2), "P-0001", 800)], start=1
    ):
        acts.write_row(r, 0, [f"A-{r:04d}"])
        acts.write_datetime(r, 1, when, date)
        acts.write_row(r, 2, ["Purchase", who, "CO-0001", amount])
    log = book.add_worksheet("Log")
    log.write_row(0, 0, [c.key for c in LOG.columns])
    log.set_column(0, 0, 18, stamp)
    report = book.add_worksheet("Report")
    report.write_row(0, 0, ["Region", "Sales"])
    report.write_row(1, 0, ["台北", 2000])
    report.write_formula(2, 1, "=SUM(Opportunities!F2:F10)", None, 120000)
    chart = book.add_chart({"type": "column"})
    chart.add_series({"categories": "=Report!$A$2:$A$2", "values": "=Report!$B$2:$B$2"})
    report.insert_chart("D2", chart)
    report.insert_image("D20", "logo.png", {"image_data": io.BytesIO(_png())})
    hidden = book.add_worksheet("Lookups")
    hidden.write_row(0, 0, ["Decision Maker", "User"])
    hidden.hide()
    book.define_name("DealAmounts", "=Opportunities!$F$2:$F$100")
    book.close()


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _values(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [tuple(c.value for c in row) for row in ws.iter_rows()] for ws in wb.worksheets}


def _cell_formats(styles_xml: bytes) -> list[bytes]:
    """The ``<xf>`` entries of styles.xml's cellXfs, as XML."""
    from lxml import etree

    root = etree.fromstring(styles_xml)
    ns = {"m": root.nsmap[None]}
    return [etree.tostring(xf) for xf in root.findall("m:cellXfs/m:xf", ns)]


def _sheet_parts(path: Path, titles: list[str]) -> set[str]:
    with zipfile.ZipFile(path) as zf:
        sheets = Package(zf).sheets
    return {sheets[t] for t in titles}


def _soffice(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    assert SOFFICE is not None
    return subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{home}", "--headless", "--norestore", *args],
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_sync_keeps_every_other_part_of_an_excel_workbook_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "crm.xlsx"
    _xlsxwriter_workbook(path)
    before_parts, before_values = _parts(path), _values(path)

    result = sheetcrm.open(path).sync(as_of=AS_OF)

    assert result.report is not None and result.report.written > 0 and not result.report.skipped
    after_parts = _parts(path)
    changed = {n for n in before_parts.keys() | after_parts.keys() if before_parts.get(n) != after_parts.get(n)}
    # Only the worksheets that got computed cells and the Log changed, and styles.xml got
    # the added headers' shading appended: the chart, the image, the drawing, comments,
    # shared strings and workbook.xml did not change.
    crm = ["Companies", "Contacts", "Opportunities", "Activities", "Log"]
    assert changed and changed <= _sheet_parts(path, crm) | {"xl/styles.xml"}
    assert _cell_formats(after_parts["xl/styles.xml"])[: len(_cell_formats(before_parts["xl/styles.xml"]))] == (
        _cell_formats(before_parts["xl/styles.xml"])
    )
    assert _sheet_parts(path, ["Contacts", "Log"]) <= changed
    assert any(n.startswith("xl/charts/") for n in after_parts)
    assert any(n.startswith("xl/media/") for n in after_parts)

    wb = openpyxl.load_workbook(path)
    after_values = _values(path)
    for title in ("Report", "Lookups"):
        assert after_values[title] == before_values[title]
    for title in crm[:4]:
        width = len(before_values[title][0])
        assert [row[:width] for row in after_values[title]] == [row[:width] for row in before_values[title]]
    contacts = wb["Contacts"]
    assert contacts["C2"].comment.text.startswith("VIP: call before noon")
    assert contacts["F2"].value == "=LEN(C2)*2"
    assert contacts["C2"].font.bold
    assert contacts.freeze_panes == "A2"
    assert [str(r) for dv in contacts.data_validations.dataValidation for r in dv.sqref.ranges] == ["E2:E100"]
    assert [str(cf.sqref) for cf in contacts.conditional_formatting] == ["F2:F100"]
    assert wb["Lookups"].sheet_state == "hidden"
    assert "DealAmounts" in wb.defined_names
    # Written cells are real values with their formats: a date shows as a date.
    header = [c.value for c in contacts[1]]
    last = contacts.cell(row=2, column=header.index("Last Purchase") + 1)
    assert last.value == dt.datetime(2026, 5, 2) and last.is_date
    log = wb["Log"]
    assert log.max_row >= 2 and isinstance(log["A2"].value, dt.datetime)

    # A second sync right after the first has nothing to write.
    again = sheetcrm.open(path).sync(as_of=AS_OF)
    assert again.report is None and len(again.changes) == 0
    assert _parts(path) == after_parts


def test_a_report_tab_is_written_without_touching_charts_images_or_other_sheets(tmp_path: Path) -> None:
    path = tmp_path / "crm.xlsx"
    _xlsxwriter_workbook(path)
    before = _parts(path)
    rows: list[list[object]] = [["Month", "Sales"], ["2026-10", 1200.5], ["=not a formula", dt.date(2026, 10, 31)]]

    XlsxBackend(path).replace_tab("Report 2026-10", rows)

    added = _parts(path)
    part = _sheet_parts(path, ["Report 2026-10"]).pop()
    changed = {n for n in before.keys() | added.keys() if before.get(n) != added.get(n)}
    assert changed <= {part, "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml"}
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[-1] == "Report 2026-10"
    tab = wb["Report 2026-10"]
    assert [[c.value for c in r] for r in tab.iter_rows()] == [
        ["Month", "Sales"],
        ["2026-10", 1200.5],
        ["=not a formula", dt.datetime(2026, 10, 31)],
    ]
    assert tab["A3"].data_type == "s" and tab["B3"].is_date

    # A second run replaces the tab where it stands; nothing else changes.
    XlsxBackend(path).replace_tab("Report 2026-10", [["Month"], ["2026-11"]])
    again = _parts(path)
    assert {n for n in added if added[n] != again.get(n)} == {part} and again.keys() == added.keys()
    assert [[c.value for c in r] for r in openpyxl.load_workbook(path)["Report 2026-10"].iter_rows()] == [
        ["Month"],
        ["2026-11"],
    ]


def _fods(path: Path) -> None:
    """A CRM workbook with a pivot table (DataPilot) as LibreOffice's flat XML."""

    def cell(v: object) -> str:
        if isinstance(v, int | float):
            kind = f'office:value-type="float" office:value="{v}"'
            return f"<table:table-cell {kind}><text:p>{v}</text:p></table:table-cell>"
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'

    def table(name: str, rows: list[list[object]]) -> str:
        body = "".join("<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>" for r in rows)
        return f'<table:table table:name="{name}">{body}</table:table>'

    tables = [
        table("Companies", [["ID", "Name"], ["CO-0001", "Harbor Ltd."]]),
        table("Contacts", [["ID", "Company ID", "Name", "Email"], ["P-0001", "CO-0001", "Amy", "amy@example.com"]]),
        table("Opportunities", [["ID", "Name", "Stage"], ["OP-0001", "Deal", "Lead"]]),
        table(
            "Activities",
            [["ID", "Date", "Type", "Contact ID", "Amount"], ["A-0001", "2026-03-05", "Purchase", "P-0001", 900]],
        ),
        table("Sales", [["Region", "Amount"], ["North", 10], ["South", 20], ["North", 5]]),
        table("Pivot", [[""]]),
    ]
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2" '
        'office:mimetype="application/vnd.oasis.opendocument.spreadsheet"><office:body><office:spreadsheet>'
        + "".join(tables)
        + '<table:data-pilot-tables><table:data-pilot-table table:name="DataPilot1" '
        'table:target-range-address="Pivot.A1:Pivot.B4" table:buttons="Pivot.A1">'
        '<table:source-cell-range table:cell-range-address="Sales.A1:Sales.B4"/>'
        '<table:data-pilot-field table:source-field-name="Region" table:orientation="row" table:used-hierarchy="-1"/>'
        '<table:data-pilot-field table:source-field-name="Amount" table:orientation="data" '
        'table:used-hierarchy="-1" table:function="sum"/>'
        '<table:data-pilot-field table:source-field-name="" table:is-data-layout-field="true" '
        'table:orientation="column" table:used-hierarchy="-1"/>'
        "</table:data-pilot-table></table:data-pilot-tables></office:spreadsheet></office:body></office:document>",
        encoding="utf-8",
    )


@needs_libreoffice
def test_a_libreoffice_workbook_keeps_its_pivot_table_and_still_opens_in_libreoffice(tmp_path: Path) -> None:
    home = tmp_path / "lo-profile"
    _fods(tmp_path / "crm.fods")
    made = _soffice(["--convert-to", "xlsx", "--outdir", str(tmp_path), str(tmp_path / "crm.fods")], home)
    path = tmp_path / "crm.xlsx"
    assert path.exists(), made.stderr
    before = _parts(path)
    assert any(n.startswith("xl/pivotTables/") for n in before)

    result = sheetcrm.open(path).sync(as_of=AS_OF)

    assert result.report is not None and result.report.written > 0
    after = _parts(path)
    changed = {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)}
    assert {n for n in changed if "pivot" in n.lower() or "sharedStrings" in n} == set()
    # The Log tab did not exist: adding it touches the workbook's part list, nothing else.
    assert changed <= _sheet_parts(path, ["Companies", "Contacts", "Opportunities", "Activities", "Log"]) | {
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "xl/styles.xml",
    }
    assert openpyxl.load_workbook(path)["Sales"]["B4"].value == 5
    out = tmp_path / "csv"
    converted = _soffice(["--convert-to", "csv", "--outdir", str(out), str(path)], home)
    assert converted.returncode == 0 and (out / "crm.csv").exists(), converted.stderr
