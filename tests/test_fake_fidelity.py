"""The local Sheets fake (``sheetcrm.testing``) behaves like Google where a CRM feels it.

Each test drives the real gspread client over HTTP to ``FakeSheetsServer``. Where the
expected answer comes from Google's documentation rather than recorded traffic, the test
says so; ``sheetcrm/testing/__init__.py`` lists those behaviours.
"""

from __future__ import annotations

from typing import Any

import gspread
import pytest
from gspread.exceptions import APIError

OWNER = "fake-owner@sheetcrm.invalid"

# The sheet of the "Append values" guide: two tables, A1:C2 and B4:D6.
GUIDE_SHEET = [
    ["x", "y", "z"],
    ["x", "y", "z"],
    [],
    ["", "x", "y"],
    ["", "", "y", "z"],
    ["", "x", "y", "z"],
]


def _book(fake: Any, rows: list[list[str]] | None = None) -> gspread.Spreadsheet:
    sid = fake.create_spreadsheet("Fidelity", {"Sheet1": rows or []})
    return fake.client().open_by_key(sid)


def _error(err: pytest.ExceptionInfo[APIError]) -> tuple[int, str]:
    body = err.value.response.json()["error"]
    return body["code"], body["message"]


# --------------------------------------------------------------------------------------
# values.append: which table, which row, which column
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("search", "table", "written"),
    [
        # The guide: the last table the range touches, even one reaching outside it.
        ("Sheet1", "Sheet1!B4:D6", "Sheet1!B7:C7"),
        ("Sheet1!B4", "Sheet1!B4:D6", "Sheet1!B7:C7"),
        ("Sheet1!C5:D5", "Sheet1!B4:D6", "Sheet1!B7:C7"),
        ("Sheet1!B2:D4", "Sheet1!B4:D6", "Sheet1!B7:C7"),
        ("Sheet1!A3:G10", "Sheet1!B4:D6", "Sheet1!B7:C7"),
        ("Sheet1!A1", "Sheet1!A1:C2", "Sheet1!A3:B3"),
        # A range touching no data is written where it starts.
        ("Sheet1!E4", None, "Sheet1!E4:F4"),
        ("Sheet1!A4", None, "Sheet1!A4:B4"),
    ],
)
def test_append_goes_under_the_last_table_in_the_range(fake, search: str, table: str | None, written: str) -> None:
    sh = _book(fake, GUIDE_SHEET)
    answer = sh.values_append(search, {"valueInputOption": "RAW"}, {"values": [["n", "m"]]})
    assert answer.get("tableRange") == table
    assert answer["updates"]["updatedRange"] == written


def test_append_after_a_row_with_a_gap_depends_on_the_range(fake) -> None:
    """["a", "", "c"] is two tables (A1 and C1): the whole sheet's last table is C1, so
    the next row lands in column C; aimed at A1 (gspread's ``table_range``), in column A.
    The A1 case is in the recordings (WorksheetTest.test_append_row_with_empty_value...)."""
    ws = _book(fake).sheet1
    ws.append_row(["a", "", "c"])
    by_sheet = ws.append_row(["f", "g"])
    assert (by_sheet["tableRange"], by_sheet["updates"]["updatedRange"]) == ("Sheet1!C1", "Sheet1!C2:D2")
    by_table = ws.append_row(["d", "e"], table_range="A1")
    assert (by_table["tableRange"], by_table["updates"]["updatedRange"]) == ("Sheet1!A1", "Sheet1!A2:B2")
    assert ws.get_values("A1:D2") == [["a", "", "c", ""], ["d", "e", "f", "g"]]


def test_append_to_data_right_of_column_a_starts_at_its_first_column(fake) -> None:
    ws = _book(fake, [[], ["", "", "Name", "Email"], ["", "", "Ann", "", "note"]]).sheet1
    answer = ws.append_row(["Bob", "b@x.org"])
    assert answer["tableRange"] == "Sheet1!C2:E3"
    assert answer["updates"]["updatedRange"] == "Sheet1!C4:D4"


# --------------------------------------------------------------------------------------
# Protected ranges: the editors object
# --------------------------------------------------------------------------------------


def test_protected_range_editors_have_googles_shape_in_replies_and_reads(fake) -> None:
    sh = _book(fake, [["Name", "Email"]])
    ws = sh.sheet1
    warned = ws.add_protected_range("A1:B1", description="computed", warning_only=True)
    locked = ws.add_protected_range("A2:B9", editor_users_emails=["ed@x.org", OWNER], editor_groups_emails=[])
    warned_pr = warned["replies"][0]["addProtectedRange"]["protectedRange"]
    locked_pr = locked["replies"][0]["addProtectedRange"]["protectedRange"]
    assert {k: v for k, v in warned_pr.items() if k != "protectedRangeId"} == {
        "range": {"startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0, "endColumnIndex": 2},
        "description": "computed",
        "warningOnly": True,
        "requestingUserCanEdit": True,
    }
    assert locked_pr["editors"] == {"users": [OWNER, "ed@x.org"]}
    assert sh.fetch_sheet_metadata()["sheets"][0]["protectedRanges"] == [warned_pr, locked_pr]


def test_protected_range_made_strict_gets_the_documents_editors(fake) -> None:
    """Documented (ProtectedRange.warningOnly): changed from true to false with no editors
    given, "the editors will be set to all the editors in the document"."""
    sh = _book(fake, [["Name"]])
    sh.share("writer@x.org", perm_type="user", role="writer", notify=False)
    sh.share("reader@x.org", perm_type="user", role="reader", notify=False)
    added = sh.sheet1.add_protected_range("A1", warning_only=True)
    range_id = added["replies"][0]["addProtectedRange"]["protectedRange"]["protectedRangeId"]
    sh.batch_update(
        {
            "requests": [
                {
                    "updateProtectedRange": {
                        "protectedRange": {"protectedRangeId": range_id, "warningOnly": False},
                        "fields": "warningOnly",
                    }
                }
            ]
        }
    )
    (stored,) = sh.fetch_sheet_metadata()["sheets"][0]["protectedRanges"]
    assert "warningOnly" not in stored
    assert stored["editors"] == {"users": [OWNER, "writer@x.org"]}


# --------------------------------------------------------------------------------------
# Merges
# --------------------------------------------------------------------------------------


def test_a_merge_covering_an_old_one_replaces_it_and_a_partial_overlap_is_refused(fake) -> None:
    sh = _book(fake)
    ws = sh.sheet1
    ws.merge_cells("A1:B2")
    ws.merge_cells("A1:C3")
    assert sh.fetch_sheet_metadata()["sheets"][0]["merges"] == [
        {"startRowIndex": 0, "endRowIndex": 3, "startColumnIndex": 0, "endColumnIndex": 3}
    ]
    for partial in (ws.merge_cells, ws.unmerge_cells):
        with pytest.raises(APIError) as err:
            partial("B2:D4")
        assert _error(err) == (
            400,
            f"Invalid requests[0].{partial.__name__.replace('_c', 'C')}: "
            "You must select all cells in a merged range to merge or unmerge them.",
        )
    ws.unmerge_cells("A1:D4")
    assert "merges" not in sh.fetch_sheet_metadata()["sheets"][0]


# --------------------------------------------------------------------------------------
# Tab colours
# --------------------------------------------------------------------------------------


def _tab(sh: gspread.Spreadsheet) -> dict[str, Any]:
    props = sh.fetch_sheet_metadata()["sheets"][0]["properties"]
    return {k: v for k, v in props.items() if k.startswith("tabColor")}


def _set_tab(sh: gspread.Spreadsheet, fields: str, **props: Any) -> None:
    request = {"updateSheetProperties": {"properties": {"sheetId": 0, **props}, "fields": fields}}
    sh.batch_update({"requests": [request]})


def test_tab_colour_updates_and_clears_stick_rounded_to_8_bits(fake) -> None:
    sh = _book(fake)
    sh.sheet1.update_tab_color("#FF8000")
    assert _tab(sh) == {
        "tabColor": {"red": 1, "green": 0.5019608},
        "tabColorStyle": {"rgbColor": {"red": 1, "green": 0.5019608}},
    }
    _set_tab(sh, "tabColorStyle", tabColorStyle={"rgbColor": {"red": 0.5, "blue": 1 / 3}})
    assert _tab(sh)["tabColorStyle"] == {"rgbColor": {"red": 0.49803922, "blue": 0.33333334}}
    assert _tab(sh)["tabColor"] == {"red": 0.49803922, "blue": 0.33333334}
    _set_tab(sh, "tabColor", tabColor={"green": 1})
    assert _tab(sh) == {"tabColor": {"green": 1}, "tabColorStyle": {"rgbColor": {"green": 1}}}
    _set_tab(sh, "tabColorStyle", tabColorStyle={"themeColor": "ACCENT1"})
    assert _tab(sh) == {
        "tabColor": {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275},
        "tabColorStyle": {"themeColor": "ACCENT1"},
    }
    sh.sheet1.clear_tab_color()
    assert _tab(sh) == {}
    _set_tab(sh, "tabColor", tabColor={"blue": 1})
    _set_tab(sh, "title", title="Renamed")
    assert _tab(sh) == {"tabColor": {"blue": 1}, "tabColorStyle": {"rgbColor": {"blue": 1}}}
    _set_tab(sh, "tabColor")
    assert _tab(sh) == {}


# --------------------------------------------------------------------------------------
# Named ranges in values ranges
# --------------------------------------------------------------------------------------

_VALUES_CALLS = {
    "get": lambda sh, rng: sh.values_get(rng),
    "batchGet": lambda sh, rng: sh.values_batch_get([rng]),
    "update": lambda sh, rng: sh.values_update(rng, {"valueInputOption": "RAW"}, {"values": [["q"]]}),
    "batchUpdate": lambda sh, rng: sh.values_batch_update(
        {"valueInputOption": "RAW", "data": [{"range": rng, "values": [["q"]]}]}
    ),
    "append": lambda sh, rng: sh.values_append(rng, {"valueInputOption": "RAW"}, {"values": [["q"]]}),
}


@pytest.mark.parametrize("call", list(_VALUES_CALLS))
def test_named_range_resolves_bare_and_is_unparseable_sheet_qualified(fake, call: str) -> None:
    """Documented A1 forms name a named range bare ("MyNamedRange"); a sheet-qualified one
    is not among them and is answered as any unparseable range (from documentation, not
    recorded traffic)."""
    sh = _book(fake, [["a", "b"], ["c", "d"]])
    sh.sheet1.define_named_range("A1:B2", "people")
    _VALUES_CALLS[call](sh, "people")
    for qualified in ("'Sheet1'!people", "Sheet1!people"):
        with pytest.raises(APIError) as err:
            _VALUES_CALLS[call](sh, qualified)
        assert _error(err) == (400, f"Unable to parse range: {qualified}")
