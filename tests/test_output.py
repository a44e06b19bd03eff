"""Any text a cell can hold goes through every output: terminal, CSV, JSON, .xlsx copies."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheetcrm.backends.backup import save_copy
from sheetcrm.backends.base import RawTab
from sheetcrm.cli import cli
from sheetcrm.output import (
    BOM,
    csv_text,
    display_width,
    json_text,
    neutralise_csv_field,
    table_text,
    without_surrogates,
    xlsx_text,
)
from sheetcrm.schema import Tab

#: Every code point, lone surrogates and control characters included.
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(ANY_TEXT, min_size=1, max_size=4))
def test_any_text_survives_every_output(texts: list[str], tmp_path: Path) -> None:
    frame = pd.DataFrame({"value": texts, "n": range(len(texts))})

    table = table_text(frame)
    table.encode("utf-8")  # printable on any UTF-8 terminal
    assert len(table.splitlines()) == len(texts) + 1

    text = csv_text(frame)
    assert text.startswith(BOM)
    parsed = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert [r[0] for r in parsed[1:]] == [neutralise_csv_field(t) for t in texts]
    for field in (r[0] for r in parsed[1:]):
        assert not field.startswith(("=", "+", "-", "@", "\t", "\r"))
    text.encode("utf-8")

    out = json_text(frame)
    out.encode("utf-8")
    assert [r["value"] for r in json.loads(out)] == texts  # kept exactly, surrogates too

    path = save_copy(
        {Tab.COMPANIES: RawTab(Tab.COMPANIES, "Companies", ["ID", "Name"], [["CO-1", t] for t in texts])},
        tmp_path / "copy.xlsx",
    )
    ws = openpyxl.load_workbook(path)["Companies"]
    for row, t in enumerate(texts, start=2):
        cell = ws.cell(row=row, column=2)
        assert (cell.value or "") == xlsx_text(t)
        assert cell.data_type == "s" or cell.value is None  # text stays text, never a formula


@pytest.mark.parametrize(
    ("text", "width"),
    [("abc", 3), ("台灣好物", 8), ("王 A", 4), ("", 0), ("\u200b", 0)],
)
def test_display_width_counts_cjk_as_two(text: str, width: int) -> None:
    assert display_width(text) == width


def test_terminal_tables_align_cjk_by_display_width() -> None:
    lines = table_text(pd.DataFrame({"name": ["台灣好物", "Acme"], "n": [1, 22]})).splitlines()
    assert [display_width(line.rstrip()[: line.rstrip().rfind(" ") + 1]) for line in lines[1:]] == [10, 10]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("=1+2", "'=1+2"),
        ("+886", "'+886"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("台灣", "台灣"),
        ("a=b", "a=b"),
        ("\ud800", "\ufffd"),
    ],
)
def test_csv_fields_that_a_spreadsheet_would_run_are_neutralised(value: str, field: str) -> None:
    assert neutralise_csv_field(value) == field


def test_numbers_stay_numbers_in_csv() -> None:
    assert csv_text(pd.DataFrame({"a": [-5, 2]}), bom=False).splitlines() == ["a", "-5", "2"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (50000.0, "50000"),  # an amount read from a float column
        (1234.5, "1234.5"),
        (pd.Timestamp("2026-11-02"), "2026-11-02"),  # a date column's day, no midnight
        (dt.datetime(2026, 11, 2, 9, 30), "2026-11-02 09:30:00"),  # a time of day is kept
        (pd.NaT, ""),
        (float("nan"), ""),
    ],
)
def test_cells_read_as_people_typed_them_in_tables_and_csv(value: object, shown: str) -> None:
    frame = pd.DataFrame({"a": pd.Series([value], dtype=object)})
    assert table_text(frame).split("\n")[1].strip() == shown
    assert list(csv.reader(io.StringIO(csv_text(frame, bom=False))))[1] == [shown]


def test_validate_csv_and_json_from_the_command(make_workbook, small_crm) -> None:
    # Two companies with the same hostile name: the likely-duplicate warning quotes it.
    small_crm[Tab.COMPANIES][0]["Name"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    small_crm[Tab.COMPANIES][1]["Name"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    path = make_workbook(small_crm)
    out = CliRunner().invoke(cli, ["validate", str(path), "--format", "csv", "--lang", "en"]).stdout_bytes
    text = out.decode("utf-8")
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows and all(not f.startswith(("=", "+", "-", "@")) for r in rows for f in r)
    as_json = CliRunner().invoke(cli, ["validate", str(path), "--format", "json"]).stdout_bytes
    assert any(r["value"].startswith("@SUM") for r in json.loads(as_json.decode("utf-8")))
    assert any(r[4].startswith("'@SUM") for r in rows[1:])
    assert without_surrogates("ok") == "ok"


def test_a_long_cell_is_cut_unless_its_column_is_read_whole() -> None:
    long = "台灣好物" * 40  # 320 columns wide
    frame = pd.DataFrame({"problem": [long], "value": [long]})
    line = table_text(frame, whole={"problem"}).splitlines()[1]
    assert long in line and line.endswith("…")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (374000.0, "374000"),
        (1581000.5, "1581000.5"),
        (-250.0, "-250"),
        (float("nan"), "null"),
        (2.0**60, "1.152921504606847e+18"),
    ],
)
def test_json_writes_whole_amounts_without_a_point(value: float, written: str) -> None:
    assert json_text(pd.DataFrame({"amount": [value]})) == '[\n {\n  "amount": ' + written + "\n }\n]"
