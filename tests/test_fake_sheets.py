"""Tests for ``sheetcrm.testing``: the local fake of the Google Sheets v4 API.

Almost everything here drives the real gspread client over real HTTP to the fake, the way
users of the fake will. The last test replays the recorded Google traffic in
``../shared/sheets-api-recordings`` (skipped when that directory is absent).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gspread
import pytest
import requests
from google.oauth2.credentials import Credentials
from gspread.exceptions import APIError, SpreadsheetNotFound
from gspread.utils import DateTimeOption, Dimension, InsertDataOption
from gspread.utils import ValueInputOption as VIO
from gspread.utils import ValueRenderOption as VRO

from sheetcrm.cells.a1 import (
    A1Range,
    A1SyntaxError,
    column_index,
    column_letters,
    format_grid_range,
    parse_a1,
    quote_sheet_title,
)
from sheetcrm.testing import (
    FakeHTTPClient,
    FakeSheetsServer,
    fake_http_client,
    redirect_session,
)
from sheetcrm.testing.values import format_number, parse_user_entered

REPO_ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = REPO_ROOT.parent / "shared" / "sheets-api-recordings"


# --------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeSheetsServer]:
    with FakeSheetsServer(seed=1234) as server:
        yield server


@pytest.fixture
def gc(fake: FakeSheetsServer) -> gspread.Client:
    return fake.client()


@pytest.fixture
def sid(fake: FakeSheetsServer) -> str:
    return fake.create_spreadsheet(
        "CRM",
        {
            "Contacts": [
                ["Name", "Email", "Score"],
                ["Ann", "ann@example.org", 3],
                ["Bob", "bob@example.org", 1],
                ["Cid", "cid@example.org", 2],
            ]
        },
    )


@pytest.fixture
def ws(gc: gspread.Client, sid: str) -> gspread.Worksheet:
    return gc.open_by_key(sid).worksheet("Contacts")


def _raw(fake: FakeSheetsServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    """A plain HTTP call to the fake (for shapes gspread hides)."""
    return requests.request(method, fake.url + path, timeout=10, **kwargs)


# --------------------------------------------------------------------------------------
# A1 notation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sheet1", A1Range("Sheet1", cells=False)),
        ("Sheet1!A1", A1Range("Sheet1", 0, 0, 1, 1)),
        ("A1:D4", A1Range(None, 0, 0, 4, 4)),
        ("A:C", A1Range(None, None, 0, None, 3)),
        ("1:3", A1Range(None, 0, None, 3, None)),
        ("A2:2", A1Range(None, 1, 0, 2, None)),
        ("A1:1", A1Range(None, 0, 0, 1, None)),
        ("A2:D", A1Range(None, 1, 0, None, 4)),
        ("$B$3", A1Range(None, 2, 1, 3, 2)),
        ("D4:A1", A1Range(None, 0, 0, 4, 4)),
        ("'My Sheet'!A1", A1Range("My Sheet", 0, 0, 1, 1)),
        ("My Sheet!B2:C3", A1Range("My Sheet", 1, 1, 3, 3)),
        ("'It''s'!A1:B2", A1Range("It's", 0, 0, 2, 2)),
        ("'公司'!A1:Z", A1Range("公司", 0, 0, None, 26)),
        ("'🌵 test 1'!A1", A1Range("🌵 test 1", 0, 0, 1, 1)),
        ("🌵 test_values_batch_get 1!A:A", A1Range("🌵 test_values_batch_get 1", None, 0, None, 1)),
        ("'Sheet1'", A1Range("Sheet1", cells=False)),
        ("'a!b'!C3", A1Range("a!b", 2, 2, 3, 3)),
        ("AB", A1Range("AB", cells=False)),  # a lone column is a sheet name, as in Google
    ],
)
def test_parse_a1(text: str, expected: A1Range) -> None:
    assert parse_a1(text) == expected


@pytest.mark.parametrize("text", ["", "'unterminated!A1", "'x'A1", "Sheet1!A0", "S!A1:", "!A1"])
def test_parse_a1_rejects(text: str) -> None:
    with pytest.raises(A1SyntaxError):
        parse_a1(text)


@pytest.mark.parametrize(("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_column_letters_round_trip(index: int, letters: str) -> None:
    assert column_letters(index) == letters
    assert column_index(letters) == index
    assert column_index(letters.lower()) == index


@pytest.mark.parametrize(
    ("title", "quoted"),
    [
        ("Sheet1", "Sheet1"),
        ("My Sheet", "'My Sheet'"),
        ("It's", "'It''s'"),
        ("🌵 test 1", "'🌵 test 1'"),
        ("公司", "公司"),
        ("A1", "'A1'"),  # would read as a cell
        ("R1C1", "'R1C1'"),
        ("2024", "'2024'"),
        ("TRUE", "'TRUE'"),
        ("under_score", "under_score"),
    ],
)
def test_quote_sheet_title(title: str, quoted: str) -> None:
    assert quote_sheet_title(title) == quoted
    assert quote_sheet_title(title, always=True).startswith("'")


@pytest.mark.parametrize(
    ("bounds", "text"),
    [
        ((0, 0, 1, 1), "Sheet1!A1"),
        ((0, 0, 1000, 26), "Sheet1!A1:Z1000"),
        ((1, 2, 2, 5), "Sheet1!C2:E2"),
    ],
)
def test_format_grid_range(bounds: tuple[int, int, int, int], text: str) -> None:
    assert format_grid_range("Sheet1", *bounds) == text


# --------------------------------------------------------------------------------------
# Value parsing and formatting
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value", "formula", "fmt_type"),
    [
        ("42", 42, False, None),
        ("007", 7, False, None),
        ("-1.5", -1.5, False, None),
        ("1,234.50", 1234.5, False, "NUMBER"),
        ("12.5%", 0.125, False, "PERCENT"),
        ("$1,200", 1200, False, "CURRENCY"),
        ("TRUE", True, False, None),
        ("2020-01-01", 43831, False, "DATE"),
        ("1/2/1999", 36162, False, "DATE"),
        ("2020-01-01 12:00:00", 43831.5, False, "DATE_TIME"),
        ("=1+1", "=1+1", True, None),
        ("'=1+1", "=1+1", False, None),
        ("'0123", "0123", False, None),
        ("3_1_0", "3_1_0", False, None),
        ("", None, False, None),
        (53, 53, False, None),
    ],
)
def test_parse_user_entered(raw: Any, value: Any, formula: bool, fmt_type: str | None) -> None:
    parsed, is_formula, number_format = parse_user_entered(raw)
    assert parsed == value
    assert is_formula is formula
    assert (number_format or {}).get("type") == fmt_type


@pytest.mark.parametrize(
    ("value", "number_format", "text"),
    [
        (2, None, "2"),
        (1.5, None, "1.5"),
        (1 / 3, None, "0.3333333333"),
        (0.1 + 0.2, None, "0.3"),
        (1e20, None, "1E+20"),
        (43831, {"type": "DATE", "pattern": "yyyy-mm-dd"}, "2020-01-01"),
        (36162, {"type": "DATE", "pattern": "M/d/yyyy"}, "1/2/1999"),
        (43831.75, {"type": "DATE_TIME", "pattern": "yyyy-mm-dd h:mm:ss"}, "2020-01-01 18:00:00"),
        (0.5, {"type": "TIME", "pattern": "h:mm am/pm"}, "12:00 pm"),
        (1234.5, {"type": "NUMBER", "pattern": "#,##0.00"}, "1,234.50"),
        (-1234.5, {"type": "NUMBER", "pattern": "#,##0.00"}, "-1,234.50"),
        (0.125, {"type": "PERCENT", "pattern": "0.0%"}, "12.5%"),
        (1200, {"type": "CURRENCY", "pattern": '"$"#,##0.00'}, "$1,200.00"),
        (12345, {"type": "SCIENTIFIC", "pattern": "0.00E+00"}, "1.23E+04"),
        (43831, {"type": "DATE", "pattern": "dddd, mmmm d"}, "Wednesday, January 1"),
    ],
)
def test_format_number(value: float, number_format: dict[str, str] | None, text: str) -> None:
    assert format_number(value, number_format) == text


# --------------------------------------------------------------------------------------
# Spreadsheets and worksheets through gspread
# --------------------------------------------------------------------------------------


def test_open_by_key_returns_google_shaped_metadata(fake: FakeSheetsServer, gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    assert sh.title == "CRM"
    assert sh.locale == "en_US" and sh.timezone == "Etc/GMT"
    meta = sh.fetch_sheet_metadata()
    assert set(meta) == {"spreadsheetId", "properties", "sheets", "spreadsheetUrl"}
    assert set(meta["properties"]) == {
        "title", "locale", "autoRecalc", "timeZone", "defaultFormat", "spreadsheetTheme",
    }  # fmt: skip
    assert meta["sheets"][0]["properties"] == {
        "sheetId": 0,
        "title": "Contacts",
        "index": 0,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": 1000, "columnCount": 26},
    }
    assert meta["spreadsheetUrl"] == f"https://docs.google.com/spreadsheets/d/{sid}/edit"
    # The request really went over HTTP to the fake, with gspread's own parameters.
    assert fake.requests[-1].path == f"/v4/spreadsheets/{sid}"
    assert fake.requests[-1].query == {"includeGridData": "false"}


def test_add_and_delete_worksheets(gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    new = sh.add_worksheet("Deals", rows=10, cols=5)
    assert new.id != 0 and new.row_count == 10 and new.col_count == 5
    assert [w.title for w in sh.worksheets()] == ["Contacts", "Deals"]
    with pytest.raises(APIError) as err:
        sh.add_worksheet("deals", rows=1, cols=1)  # titles are case-insensitively unique
    assert err.value.code == 400
    assert 'A sheet with the name "deals" already exists' in err.value.error["message"]
    sh.del_worksheet(new)
    assert [w.title for w in sh.worksheets()] == ["Contacts"]
    with pytest.raises(APIError, match="You can't remove all the sheets in a document"):
        sh.del_worksheet(sh.sheet1)


def test_create_share_copy_and_delete_through_drive(fake: FakeSheetsServer, gc: gspread.Client) -> None:
    sh = gc.create("Pipeline")
    assert sh.sheet1.title == "Sheet1"
    assert fake.requests[0].path == "/drive/v3/files"
    assert sh.id in fake.spreadsheet_ids()
    assert [f["name"] for f in gc.list_spreadsheet_files()] == ["Pipeline"]
    assert sh.creationTime.endswith("Z")
    sh.share("teammate@example.org", perm_type="user", role="writer", notify=False)
    emails = [p.get("emailAddress") for p in sh.list_permissions()]
    assert "teammate@example.org" in emails
    sh.remove_permissions("teammate@example.org")
    assert "teammate@example.org" not in [p.get("emailAddress") for p in sh.list_permissions()]
    copied = gc.copy(sh.id, title="Pipeline (copy)")
    assert copied.title == "Pipeline (copy)" and copied.id != sh.id
    gc.del_spreadsheet(sh.id)
    with pytest.raises(SpreadsheetNotFound):
        gc.open_by_key(sh.id)


# --------------------------------------------------------------------------------------
# Values: writing and reading
# --------------------------------------------------------------------------------------


def test_update_raw_keeps_text_and_user_entered_interprets(
    fake: FakeSheetsServer, ws: gspread.Worksheet, sid: str
) -> None:
    ws.update([["=1+1", "007", "2020-01-01"]], "A6", value_input_option=VIO.raw)
    ws.update([["=1+1", "007", "2020-01-01", "'0123"]], "A7", value_input_option=VIO.user_entered)
    assert ws.get("A6:D7") == [
        ["=1+1", "007", "2020-01-01"],
        ["2", "7", "2020-01-01", "0123"],
    ]
    assert ws.get("A7:C7", value_render_option=VRO.unformatted) == [[2, 7, 43831]]
    assert ws.get("A6:A7", value_render_option=VRO.formula) == [["=1+1"], ["=1+1"]]
    assert ws.get(
        "C7", value_render_option=VRO.unformatted, date_time_render_option=DateTimeOption.formatted_string
    ) == [["2020-01-01"]]
    assert fake.get_values(sid, "Contacts")[5:7] == [
        ["=1+1", "007", "2020-01-01"],
        [2, 7, 43831, "0123"],
    ]


def test_update_response_and_cells_written(fake: FakeSheetsServer, ws: gspread.Worksheet) -> None:
    fake.reset_counters()
    response = ws.update([["a", "b"], ["c", "d"]], "B10")
    assert response == {
        "spreadsheetId": ws.spreadsheet_id,
        "updatedRange": "Contacts!B10:C11",
        "updatedRows": 2,
        "updatedColumns": 2,
        "updatedCells": 4,
    }
    assert fake.cells_written == 4
    assert fake.request_count == 1
    assert fake.requests[0].endpoint == "values.update"
    assert fake.requests[0].json["values"] == [["a", "b"], ["c", "d"]]
    assert fake.requests[0].status == 200
    cpu = fake.requests[0].cpu_seconds
    assert cpu is not None and cpu >= 0.0  # set with the answer


def test_get_trims_and_normalises_ranges(ws: gspread.Worksheet) -> None:
    ws.update([["x", "", "", ""], ["", "", "", ""], ["", "", "", "y"]], "A6:D8")
    got = ws.get("A6:D8", pad_values=False)
    assert isinstance(got, gspread.ValueRange)
    assert got.range == "Contacts!A6:D8"
    assert got == [["x"], [], ["", "", "", "y"]]
    assert ws.spreadsheet.values_get("Contacts!A:B")["range"] == "Contacts!A1:B1000"
    assert ws.spreadsheet.values_get("Contacts!A2:2")["range"] == "Contacts!A2:Z2"
    empty = ws.spreadsheet.values_get("Contacts!F1:G3")
    assert empty == {"range": "Contacts!F1:G3", "majorDimension": "ROWS"}  # no "values" key
    columns = ws.get("A1:B2", major_dimension=Dimension.cols)
    assert columns == [["Name", "Ann"], ["Email", "ann@example.org"]]


def test_batch_get(ws: gspread.Worksheet) -> None:
    first, second = ws.batch_get(["A1:B1", "C2:C4"])
    assert first == [["Name", "Email"]]
    assert second == [["3"], ["1"], ["2"]]


def test_values_batch_update_totals_and_atomicity(fake: FakeSheetsServer, ws: gspread.Worksheet, sid: str) -> None:
    result = ws.batch_update([{"range": "A6:B6", "values": [["x", "y"]]}, {"range": "A8:B8", "values": [["z", 1]]}])
    assert result["totalUpdatedRows"] == 2
    assert result["totalUpdatedColumns"] == 2
    assert result["totalUpdatedCells"] == 4
    assert result["totalUpdatedSheets"] == 1
    assert [r["updatedRange"] for r in result["responses"]] == ["Contacts!A6:B6", "Contacts!A8:B8"]
    before = fake.get_values(sid, "Contacts")
    with pytest.raises(APIError) as err:
        ws.batch_update([{"range": "A9", "values": [["lost"]]}, {"range": "A1001", "values": [["no"]]}])
    assert err.value.code == 400
    assert err.value.error["message"] == (
        "Range ('Contacts'!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"
    )
    assert fake.get_values(sid, "Contacts") == before  # nothing of the batch was written


def test_write_beyond_range_or_grid_is_rejected(ws: gspread.Worksheet) -> None:
    with pytest.raises(APIError, match=r"Requested writing within range \['Contacts'!A1:B1\]"):
        ws.update([["a", "b", "c"]], "A1:B1")
    with pytest.raises(APIError, match="exceeds grid limits"):
        ws.update([["x"]], "AA1")
    with pytest.raises(APIError, match="Unable to parse range: Nope!A1"):
        ws.spreadsheet.values_update("Nope!A1", {"valueInputOption": "RAW"}, {"values": [[1]]})


def test_malformed_values_body_matches_google(fake: FakeSheetsServer, sid: str) -> None:
    answer = _raw(
        fake,
        "PUT",
        f"/v4/spreadsheets/{sid}/values/Contacts!A1",
        params={"valueInputOption": "RAW"},
        json={"values": "X", "majorDimension": None},
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert error["details"][0]["fieldViolations"][0]["field"] == "data.values"


def test_append_rows_finds_the_table_and_grows_the_grid(fake: FakeSheetsServer, gc: gspread.Client, sid: str) -> None:
    ws = gc.open_by_key(sid).worksheet("Contacts")
    result = ws.append_rows([["Dee", "dee@example.org", 5]])
    assert result["tableRange"] == "Contacts!A1:C4"
    assert result["updates"]["updatedRange"] == "Contacts!A5:C5"
    # Appending at the very bottom adds rows instead of failing.
    small = gc.open_by_key(sid).add_worksheet("Small", rows=2, cols=2)
    small.update([["h1", "h2"], ["a", "b"]], "A1")
    small.append_rows([["c", "d"], ["e", "f"]])
    assert fake.sheet_properties(sid, "Small")["gridProperties"]["rowCount"] == 4
    assert fake.get_values(sid, "Small") == [["h1", "h2"], ["a", "b"], ["c", "d"], ["e", "f"]]
    inserted = small.append_rows(
        [["g", "h"]], insert_data_option=InsertDataOption.insert_rows, table_range="A1", value_input_option=VIO.raw
    )
    assert inserted["updates"]["updatedRange"] == "Small!A5:B5"
    values = small.append_row(["i"], include_values_in_response=True)
    assert values["updates"]["updatedData"]["values"] == [["i"]]


def test_append_to_an_empty_sheet_has_no_table_range(gc: gspread.Client) -> None:
    sh = gc.create("Empty")
    result = sh.sheet1.append_row(["first", "", "third"])
    assert "tableRange" not in result
    assert result["updates"]["updatedRange"] == "Sheet1!A1:C1"


def test_clear_and_batch_clear_keep_formatting(fake: FakeSheetsServer, ws: gspread.Worksheet, sid: str) -> None:
    ws.format("A1:C1", {"textFormat": {"bold": True}})
    ws.batch_clear(["A2:C2", "A4:C4"])
    assert fake.get_values(sid, "Contacts") == [
        ["Name", "Email", "Score"],
        [],
        ["Bob", "bob@example.org", 1],
    ]
    response = ws.clear()
    assert response["clearedRange"] == "Contacts!A1:Z1000"
    assert fake.get_values(sid, "Contacts") == []
    assert fake.cell_format(sid, "Contacts", "A1") is not None


# --------------------------------------------------------------------------------------
# Structure: rows, sorting, freezing, groups, formatting, validation, protection
# --------------------------------------------------------------------------------------


def test_insert_and_delete_rows(fake: FakeSheetsServer, ws: gspread.Worksheet, sid: str) -> None:
    ws.insert_rows([["New", "new@example.org", 9]], row=2)
    assert fake.get_values(sid, "Contacts")[1:3] == [
        ["New", "new@example.org", 9],
        ["Ann", "ann@example.org", 3],
    ]
    assert fake.sheet_properties(sid, "Contacts")["gridProperties"]["rowCount"] == 1001
    ws.delete_rows(2, 3)
    assert [row[0] for row in fake.get_values(sid, "Contacts")] == ["Name", "Bob", "Cid"]
    assert fake.sheet_properties(sid, "Contacts")["gridProperties"]["rowCount"] == 999


def test_sort_keeps_header_and_puts_blanks_last(fake: FakeSheetsServer, ws: gspread.Worksheet, sid: str) -> None:
    ws.update([["Eve", "", ""]], "A5")
    ws.sort((3, "asc"), range="A2:C5")
    assert [r[0] for r in fake.get_values(sid, "Contacts")] == ["Name", "Bob", "Cid", "Ann", "Eve"]
    ws.sort((1, "des"), range="A2:C5")
    assert [r[0] for r in fake.get_values(sid, "Contacts")] == ["Name", "Eve", "Cid", "Bob", "Ann"]


def test_freeze_and_hide(gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    ws = sh.worksheet("Contacts")
    ws.freeze(rows=1, cols=1)
    grid = sh.fetch_sheet_metadata()["sheets"][0]["properties"]["gridProperties"]
    assert grid["frozenRowCount"] == 1 and grid["frozenColumnCount"] == 1
    ws.freeze(rows=0, cols=0)
    grid = sh.fetch_sheet_metadata()["sheets"][0]["properties"]["gridProperties"]
    assert "frozenRowCount" not in grid and "frozenColumnCount" not in grid
    with pytest.raises(APIError) as err:
        ws.hide()
    assert err.value.error["message"] == (
        "Invalid requests[0].updateSheetProperties: You can't hide all the sheets in a document."
    )
    other = sh.add_worksheet("Other", 5, 5)
    other.hide()
    assert [w.title for w in sh.worksheets(exclude_hidden=True)] == ["Contacts"]
    assert [w.title for w in sh.worksheets()] == ["Contacts", "Other"]


def test_batch_update_is_all_or_nothing(fake: FakeSheetsServer, gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    body: dict[str, Any] = {
        "requests": [
            {"addSheet": {"properties": {"title": "Temp", "sheetId": 7}}},
            {"updateSheetProperties": {"properties": {"sheetId": 0, "hidden": True},
                                       "fields": "hidden"}},
            {"updateSheetProperties": {"properties": {"sheetId": 7, "hidden": True},
                                       "fields": "hidden"}},
        ]
    }  # fmt: skip
    with pytest.raises(APIError) as err:
        sh.batch_update(body)
    assert err.value.error == {
        "code": 400,
        "message": "Invalid requests[2].updateSheetProperties: You can't hide all the sheets in a document.",
        "status": "INVALID_ARGUMENT",
    }
    assert fake.sheet_titles(sid) == ["Contacts"]  # the addSheet was rolled back too
    with pytest.raises(APIError, match='Unknown name "frobnicate"'):
        sh.batch_update({"requests": [{"frobnicate": {}}]})
    reply = sh.batch_update({"requests": [{"addSheet": {"properties": {"title": "Kept"}}},
                                          {"updateSheetProperties": {"properties": {
                                              "sheetId": 0, "title": "People"},
                                              "fields": "title"}}]})  # fmt: skip
    assert reply["replies"][0]["addSheet"]["properties"]["title"] == "Kept"
    assert reply["replies"][1] == {}
    assert fake.sheet_titles(sid) == ["People", "Kept"]


def test_format_validation_protection_and_groups(fake: FakeSheetsServer, gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    ws = sh.worksheet("Contacts")
    ws.format("A1:C1", {"backgroundColor": {"green": 1}, "textFormat": {"bold": True}})
    meta = sh.fetch_sheet_metadata(
        params={
            "includeGridData": "false",
            "ranges": "Contacts!A1",
            "fields": "sheets.data.rowData.values.userEnteredFormat",
        }
    )
    assert meta == {
        "sheets": [
            {
                "data": [
                    {
                        "rowData": [
                            {
                                "values": [
                                    {
                                        "userEnteredFormat": {
                                            "backgroundColor": {"green": 1},
                                            "textFormat": {"bold": True},
                                            "backgroundColorStyle": {"rgbColor": {"green": 1}},
                                        }
                                    }
                                ]
                            }
                        ]
                    }
                ]
            }
        ]
    }
    rule = {"condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": "lead"}]},
            "strict": True}  # fmt: skip
    sh.batch_update({"requests": [{"setDataValidation": {
        "range": {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 4, "startColumnIndex": 2,
                  "endColumnIndex": 3}, "rule": rule}}]})  # fmt: skip
    assert fake.data_validation(sid, "Contacts", "C2") == rule
    assert fake.data_validation(sid, "Contacts", "C5") is None
    protected = ws.add_protected_range("A1:C1", description="header")
    range_id = protected["replies"][0]["addProtectedRange"]["protectedRange"]["protectedRangeId"]
    stored = sh.fetch_sheet_metadata()["sheets"][0]["protectedRanges"]
    assert stored[0]["protectedRangeId"] == range_id
    assert stored[0]["range"] == {"startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0,
                                  "endColumnIndex": 3}  # fmt: skip
    ws.insert_rows([["above"]], row=1)
    assert fake.protected_ranges(sid, "Contacts")[0]["range"]["startRowIndex"] == 1
    reply = ws.add_dimension_group_rows(2, 4)
    assert reply["replies"][0]["addDimensionGroup"]["dimensionGroups"] == [
        {"range": {"dimension": "ROWS", "startIndex": 2, "endIndex": 4}, "depth": 1}
    ]
    sheet_meta = sh.fetch_sheet_metadata()["sheets"][0]
    assert sheet_meta["rowGroups"][0]["depth"] == 1
    assert sheet_meta["properties"]["gridProperties"]["rowGroupControlAfter"] is True


def test_formulas_evaluate(fake: FakeSheetsServer, ws: gspread.Worksheet, sid: str) -> None:
    fake.add_sheet(sid, "Rates", [["rate"], [0.5]])
    ws.update(
        [
            ["=SUM(C2:C4)", "=AVERAGE(C2:C4)", "=C2/0", '=A2&" <"&B2&">"'],
            ["=Rates!A2*10", '=IF(C2>2,"hot","cold")', "=G7+1", "=UPPER(LEFT(A2,2))"],
        ],
        "E6",
        value_input_option=VIO.user_entered,
    )
    assert ws.get("E6:H7") == [
        ["6", "2", "#DIV/0!", "Ann <ann@example.org>"],
        ["5", "hot", "#REF!", "AN"],
    ]
    assert ws.get("E6", value_render_option=VRO.formula) == [["=SUM(C2:C4)"]]


def test_formula_references_follow_structural_changes(fake: FakeSheetsServer, gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    ws = sh.worksheet("Contacts")
    ws.update([["=SUM(C2:C4)", "=C4", "=Contacts!C3"]], "E1", value_input_option=VIO.user_entered)
    ws.insert_rows([["New", "new@example.org", 10]], row=3)
    assert ws.get("E1:G1", value_render_option=VRO.formula) == [["=SUM(C2:C5)", "=C5", "=Contacts!C4"]]
    assert ws.get("E1:G1") == [["16", "2", "1"]]
    ws.delete_rows(5)  # the row "=C5" points at
    assert ws.get("E1:G1", value_render_option=VRO.formula) == [["=SUM(C2:C4)", "=#REF!", "=Contacts!C4"]]
    assert ws.get("E1:F1") == [["14", "#REF!"]]
    ws.update_title("People")
    assert fake.get_cell(sid, "People", "G1", render="FORMULA") == "=People!C4"
    assert fake.get_cell(sid, "People", "G1") == 1


def test_notes_named_ranges_and_duplicates(fake: FakeSheetsServer, gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    ws = sh.worksheet("Contacts")
    ws.update_note("A1", "the key column")
    assert ws.get_note("A1") == "the key column"
    ws.define_named_range("A1:B2", "people")
    assert sh.values_get("people")["range"] == "Contacts!A1:B2"
    copy = ws.duplicate()
    assert copy.title == "Copy of Contacts"
    assert fake.get_values(sid, "Copy of Contacts") == fake.get_values(sid, "Contacts")


# --------------------------------------------------------------------------------------
# Sheet titles that need quoting
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "echoed"),
    [
        ("My Sheet", "'My Sheet'!A1:B2"),
        ("It's", "'It''s'!A1:B2"),
        ("公司", "公司!A1:B2"),
        ("🌵 test 1", "'🌵 test 1'!A1:B2"),
    ],
)
def test_titles_that_need_quoting(
    fake: FakeSheetsServer, gc: gspread.Client, sid: str, title: str, echoed: str
) -> None:
    ws = gc.open_by_key(sid).add_worksheet(title, rows=10, cols=4)
    result = ws.update([["a", "b"], ["c", "d"]], "A1")
    assert result["updatedRange"] == echoed
    assert ws.get("A1:B2") == [["a", "b"], ["c", "d"]]
    assert ws.get_all_values() == [["a", "b"], ["c", "d"]]
    assert ws.batch_get(["A:A"])[0] == [["a"], ["c"]]
    assert fake.get_values(sid, title) == [["a", "b"], ["c", "d"]]


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


def test_not_found_private_and_unknown_endpoints(fake: FakeSheetsServer, gc: gspread.Client, sid: str) -> None:
    with pytest.raises(SpreadsheetNotFound):
        gc.open_by_key("does-not-exist")
    answer = _raw(fake, "GET", "/v4/spreadsheets/does-not-exist")
    assert answer.status_code == 404
    assert answer.json() == {
        "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
    }
    fake.make_private(sid)
    with pytest.raises(PermissionError) as err:
        gc.open_by_key(sid)
    cause = err.value.__cause__
    assert isinstance(cause, APIError) and cause.code == 403
    assert cause.error["status"] == "PERMISSION_DENIED"
    assert cause.error["message"] == "The caller does not have permission"
    drive = _raw(fake, "GET", f"/drive/v3/files/{sid}")
    assert drive.status_code == 404  # Drive hides files the caller cannot see
    assert drive.json()["error"]["errors"][0]["reason"] == "notFound"
    unknown = _raw(fake, "GET", "/v4/nothing/here")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["status"] == "NOT_FOUND"


def test_nan_in_a_payload_is_rejected_like_google(fake: FakeSheetsServer, sid: str) -> None:
    # Python's json module writes NaN unless told not to; Google refuses such bodies.
    answer = _raw(
        fake,
        "PUT",
        f"/v4/spreadsheets/{sid}/values/Contacts!A1",
        params={"valueInputOption": "RAW"},
        data=b'{"values": [[NaN]]}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("Invalid JSON payload received.")
    assert fake.get_cell(sid, "Contacts", "A1") == "Name"


def test_unqualified_ranges_use_the_first_visible_sheet(fake: FakeSheetsServer, gc: gspread.Client, sid: str) -> None:
    sh = gc.open_by_key(sid)
    sh.add_worksheet("Second", 5, 5).update([["second"]], "A1")
    sh.worksheet("Contacts").hide()
    assert sh.values_get("A1") == {
        "range": "Second!A1",
        "majorDimension": "ROWS",
        "values": [["second"]],
    }


def test_token_refresh_is_answered_by_the_fake() -> None:
    with FakeSheetsServer(require_auth=True) as strict_fake:
        book = strict_fake.create_spreadsheet("Refresh")
        creds = Credentials(
            token=None,
            refresh_token="refresh",
            token_uri="https://oauth2.googleapis.com/token",
            client_id="client",
            client_secret="secret",
        )
        assert strict_fake.client(creds).open_by_key(book).title == "Refresh"
        assert creds.token == "fake-token"
        assert [r.endpoint for r in strict_fake.requests] == ["oauth2.token", "spreadsheets.get"]


def test_require_auth(sid: str) -> None:
    with FakeSheetsServer(require_auth=True) as strict_fake:
        book = strict_fake.create_spreadsheet("Auth")
        answer = _raw(strict_fake, "GET", f"/v4/spreadsheets/{book}")
        assert answer.status_code == 401
        assert answer.json()["error"]["status"] == "UNAUTHENTICATED"
        assert strict_fake.client().open_by_key(book).title == "Auth"


# --------------------------------------------------------------------------------------
# Test hooks: faults, callbacks, counting
# --------------------------------------------------------------------------------------


def test_429_then_success(fake: FakeSheetsServer, ws: gspread.Worksheet) -> None:
    fake.reset_counters()
    fake.inject_fault(at_request=2, status=429, retry_after=7)
    assert ws.get("A1") == [["Name"]]  # request 1: fine
    with pytest.raises(APIError) as err:
        ws.get("A1")  # request 2: rate limited
    assert err.value.code == 429
    assert err.value.error["status"] == "RESOURCE_EXHAUSTED"
    assert err.value.response.headers["Retry-After"] == "7"
    assert ws.get("A1") == [["Name"]]  # request 3: fine again
    assert [r.status for r in fake.requests] == [200, 429, 200]


def test_repeated_5xx_and_custom_body(fake: FakeSheetsServer, ws: gspread.Worksheet) -> None:
    fake.inject_fault(status=503, times=2)
    for _ in range(2):
        with pytest.raises(APIError) as err:
            ws.update([["x"]], "A10")
        assert err.value.code == 503
    fake.inject_fault(status=500, body={"error": {"code": 500, "message": "boom"}})
    with pytest.raises(APIError, match="boom"):
        ws.get("A1")
    assert fake.cells_written == 0  # faulted requests change nothing
    ws.update([["x"]], "A10")
    assert fake.cells_written == 1


def test_dropped_connection_raises_connection_error(fake: FakeSheetsServer, ws: gspread.Worksheet) -> None:
    fake.inject_fault(drop=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        ws.get("A1")
    assert fake.requests[-1].status is None
    assert fake.requests[-1].cpu_seconds is None  # no answer, no figure
    assert ws.get("A1") == [["Name"]]


def test_delay_makes_a_client_time_out(fake: FakeSheetsServer, sid: str) -> None:
    gc = fake.client()
    ws = gc.open_by_key(sid).sheet1
    # The answer is held far longer than the client waits for it, so the client's own
    # timer decides however loaded the machine (stop() cuts the sleep short at teardown).
    fake.inject_fault(status=None, delay=60.0)
    gc.set_timeout((10.0, 0.5))
    with pytest.raises(requests.exceptions.ReadTimeout):
        ws.get("A1")


def test_between_requests_acts_as_a_person(fake: FakeSheetsServer, ws: gspread.Worksheet, sid: str) -> None:
    seen: list[int] = []
    fake.reset_counters()

    @fake.between_requests
    def person(server: FakeSheetsServer, number: int) -> None:
        seen.append(number)
        if number == 2:  # after the "sync" read, before its write
            server.insert_rows(sid, "Contacts", 2)
            server.set_values(sid, "Contacts", "A2", [["Zed", "zed@example.org", "4"]])

    rows = ws.get_all_values()  # request 1: the read
    assert rows[1][0] == "Ann"
    ws.update([["Ann", "ann@new.example.org", 3]], "A2")  # request 2: writes by stale position
    fake.clear_between_requests()
    values = fake.get_values(sid, "Contacts")
    assert values[1] == ["Ann", "ann@new.example.org", 3]  # Zed was overwritten...
    assert values[2] == ["Ann", "ann@example.org", 3]  # ...and Ann moved down
    assert seen == [1, 2]


def test_person_helpers(fake: FakeSheetsServer, sid: str) -> None:
    fake.set_values(sid, "Contacts", "D1", [["Since"], [dt.date(2024, 5, 1)], ["=C3*2"]])
    assert fake.get_cell(sid, "Contacts", "D2", render="FORMATTED_VALUE") == "2024-05-01"
    assert fake.get_cell(sid, "Contacts", "D3") == 2
    fake.sort_rows(sid, "Contacts", "C", start_row=2, descending=True)
    assert [r[0] for r in fake.get_values(sid, "Contacts")] == ["Name", "Ann", "Cid", "Bob"]
    fake.delete_rows(sid, "Contacts", 2, 3)
    assert [r[0] for r in fake.get_values(sid, "Contacts")] == ["Name", "Bob"]
    fake.insert_columns(sid, "Contacts", "A")
    assert fake.get_values(sid, "Contacts")[0][:2] == ["", "Name"]
    fake.delete_columns(sid, "Contacts", 1)
    fake.rename_sheet(sid, "Contacts", "People")
    assert fake.sheet_titles(sid) == ["People"]
    assert fake.request_count == 0 and fake.cells_written == 0


def test_callback_errors_surface(sid: str) -> None:
    server = FakeSheetsServer()
    with pytest.raises(RuntimeError, match="failed internally"), server:
        book = server.create_spreadsheet("x")

        def broken(fake: FakeSheetsServer, number: int) -> None:
            raise ValueError("oops")

        server.between_requests(broken)
        answer = _raw(server, "GET", f"/v4/spreadsheets/{book}")
        assert answer.status_code == 500
    assert isinstance(server.errors[0], ValueError)


# --------------------------------------------------------------------------------------
# Pointing other code at the fake
# --------------------------------------------------------------------------------------


def test_redirect_session_rewrites_google_hosts(fake: FakeSheetsServer, sid: str) -> None:
    session = redirect_session(requests.Session(), fake.url)
    answer = session.get(f"https://sheets.googleapis.com/v4/spreadsheets/{sid}/values/Contacts!A1:B1", timeout=5)
    assert answer.json() == {
        "range": "Contacts!A1:B1",
        "majorDimension": "ROWS",
        "values": [["Name", "Email"]],
    }
    drive = session.get(f"https://www.googleapis.com/drive/v3/files/{sid}", timeout=5)
    assert drive.json()["mimeType"] == "application/vnd.google-apps.spreadsheet"


def test_custom_http_client_classes(fake: FakeSheetsServer, sid: str) -> None:
    creds = Credentials(token="anything")
    client = gspread.Client(creds, http_client=fake.http_client_class)
    assert client.open_by_key(sid).title == "CRM"
    backoff = fake.client(http_client=gspread.BackOffHTTPClient)
    assert isinstance(backoff.http_client, gspread.BackOffHTTPClient)
    assert isinstance(backoff.http_client, FakeHTTPClient)
    assert backoff.open_by_key(sid).title == "CRM"
    bound = fake_http_client(fake.url)
    assert issubclass(bound, FakeHTTPClient) and bound.fake_base_url == fake.url
    with pytest.raises(RuntimeError, match="not bound"):
        FakeHTTPClient(None)


# --------------------------------------------------------------------------------------
# Faithfulness against recorded Google traffic
# --------------------------------------------------------------------------------------


def _load_replay_module() -> Any:
    spec = importlib.util.spec_from_file_location("replay_recordings", REPO_ROOT / "scripts" / "replay_recordings.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_replay_of_recorded_google_traffic_has_no_differences() -> None:
    # Fails (never skips) without the recordings: a replay that compared nothing proves nothing.
    assert RECORDINGS.is_dir() and any(RECORDINGS.glob("*.json")), f"no recorded Google traffic in {RECORDINGS}"
    replay = _load_replay_module()
    results = replay.compare_recordings(RECORDINGS)
    assert len(results) >= 30
    differences = {name: diffs for name, diffs in results.items() if diffs}
    assert differences == {}


def test_replay_of_an_empty_folder_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replay = _load_replay_module()
    assert replay.main(["--recordings", str(tmp_path)]) == 2
    out = capsys.readouterr()
    assert "0 interactions compared" in out.out and "no interaction compared" in out.err
