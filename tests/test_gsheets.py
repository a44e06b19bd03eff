"""The Google Sheets backend: the real gspread client over HTTP against the local fake."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from gspread.utils import absolute_range_name

import sheetcrm
from sheetcrm.backends.gsheets import spreadsheet_key
from sheetcrm.demo import make_demo
from sheetcrm.exceptions import PermissionDeniedError, WorkbookNotFoundError, WorkbookWriteError
from sheetcrm.schema import Tab
from tests.helpers import AS_OF, upload_xlsx

KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


@pytest.mark.parametrize(
    "text,key",
    [
        (f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0", KEY),
        (f"https://docs.google.com/spreadsheets/d/{KEY}", KEY),
        (f"  {KEY} ", KEY),
    ],
)
def test_spreadsheet_key(text: str, key: str) -> None:
    assert spreadsheet_key(text) == key


@pytest.mark.parametrize("bad", ["https://example.com/x", "crm.xlsx", "short"])
def test_bad_key_says_where_to_find_it(bad: str) -> None:
    with pytest.raises(WorkbookNotFoundError, match="address bar"):
        spreadsheet_key(bad)


@pytest.mark.parametrize(
    "title,quoted",
    [
        ("Contacts", "'Contacts'"),
        ("活動紀錄", "'活動紀錄'"),
        ("It's mine", "'It''s mine'"),
        ("🌵 CRM", "'🌵 CRM'"),
    ],
)
def test_sheet_titles_are_always_quoted_in_ranges(title: str, quoted: str) -> None:
    """The backend builds every range with gspread's absolute_range_name: a title that
    looks like a cell reference or holds a quote must still name the sheet."""
    assert absolute_range_name(title, "A1:B2") == f"{quoted}!A1:B2"


@pytest.fixture(scope="module")
def demo_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("g") / "demo.xlsx"
    make_demo(path, as_of=AS_OF, size=0.2, sync=False)
    return path


def _open(fake, google_client, key: str) -> sheetcrm.Workbook:
    return sheetcrm.open(f"https://docs.google.com/spreadsheets/d/{key}/edit", client=google_client)


def test_full_sync_makes_four_requests_then_only_reads(fake, google_client, demo_xlsx) -> None:
    key = upload_xlsx(fake, demo_xlsx)
    fake.reset_counters()
    wb = _open(fake, google_client, key)
    result = wb.sync(as_of=AS_OF)
    assert result.counts["cells_written"] > 1000
    methods = [(r.method, r.endpoint) for r in fake.requests]
    assert len(methods) <= 4, methods
    # 3: lock the tabs it writes and re-read under the lock; 4: write and unlock, both atomic
    assert [e for _m, e in methods] == [
        "spreadsheets.get",
        "values.batchGet",
        "spreadsheets.batchUpdate",
        "spreadsheets.batchUpdate",
    ]
    lock, write = fake.requests[2].batch_kinds, fake.requests[3].batch_kinds
    # The lock request also tags the record rows, and puts a strict rule on each blank ID
    # cell it fills (the demo has rows without an ID).
    assert set(lock) == {"addProtectedRange", "createDeveloperMetadata", "setDataValidation"}
    assert lock.count("addProtectedRange") == len(write) - write.index("deleteProtectedRange")
    # Stage moves are compare-and-set findReplace requests; the rows written are guarded by
    # the tags request 3 put on them (delete and re-create each: a moved row fails it); the
    # ID-fill rules are removed before any value is written.
    assert set(write) == {
        "deleteDeveloperMetadata",
        "createDeveloperMetadata",
        "setDataValidation",
        "updateCells",
        "findReplace",
        "deleteProtectedRange",
    }
    assert write.index("updateCells") > write.index("createDeveloperMetadata")
    assert write.count("setDataValidation") == lock.count("setDataValidation")
    assert write.index("updateCells") > max(i for i, k in enumerate(write) if k == "setDataValidation")
    # RAW: values only, text as text (never formulaValue), formats left alone
    for req in fake.requests[3].json["requests"]:
        if "updateCells" in req:
            assert req["updateCells"]["fields"] == "userEnteredValue"
            kinds = {
                k for row in req["updateCells"]["rows"] for v in row["values"] for k in v.get("userEnteredValue", {})
            }
            assert kinds <= {"stringValue", "numberValue", "boolValue"}
    assert all(
        not fake.protected_ranges(key, t) or all(p.get("warningOnly") for p in fake.protected_ranges(key, t))
        for t in fake.sheet_titles(key)
    )
    # The row tags go with the write that they guarded.
    assert fake.requests[3].json["requests"][-1 - write[::-1].index("deleteDeveloperMetadata")] == {
        "deleteDeveloperMetadata": {
            "dataFilter": {"developerMetadataLookup": {"metadataKey": "crm", "locationType": "ROW"}}
        }
    }
    assert not any(
        m.get("developerMetadata")
        for sheet in fake.spreadsheet_resource(key, grid_data=True)["sheets"]
        for m in sheet["data"][0].get("rowMetadata", [])
    )
    fake.reset_counters()
    again = _open(fake, google_client, key).sync(as_of=AS_OF)
    assert again.changes.empty
    assert [r.method for r in fake.requests] == ["GET", "GET"]


def test_empty_grid_rows_do_not_grow_what_a_sync_is_answered(fake, google_client, make_workbook, small_crm) -> None:
    """Google answers row metadata one entry per row of the grid asked: a sync asks none
    for a whole tab (request 1) and the re-read under the lock (request 3) only for the
    rows read and a margin, so 40,000 empty rows in a tab it writes and in another tab
    change no answer's size."""
    sizes = []
    for extra in (0, 40_000):
        key = upload_xlsx(fake, make_workbook(small_crm))
        fake.add_sheet(key, "Notes", [["a note"]], row_count=1000 + extra)
        google_client.open_by_key(key).worksheet("Contacts").add_rows(extra or 1)
        fake.reset_counters()
        _open(fake, google_client, key).sync(as_of=AS_OF)
        sizes.append([r.response_bytes or 0 for r in fake.requests])
    assert len(sizes[0]) == len(sizes[1]) == 4
    assert all(abs(big - small) < 200 for small, big in zip(*sizes, strict=True)), sizes


def test_google_and_xlsx_compute_the_same_cells(fake, google_client, demo_xlsx, tmp_path: Path) -> None:
    key = upload_xlsx(fake, demo_xlsx)
    _open(fake, google_client, key).sync(as_of=AS_OF)
    local = tmp_path / "local.xlsx"
    local.write_bytes(demo_xlsx.read_bytes())
    sheetcrm.open(local).sync(as_of=AS_OF)
    g = _open(fake, google_client, key)
    x = sheetcrm.open(local)
    for tab, cols in {
        Tab.CONTACTS: ["ID", "NESL", "Segment", "Tier", "Lifecycle", "Recency", "Monetary"],
        Tab.OPPORTUNITIES: ["ID", "Stage", "Probability", "Weighted Amount", "Stage Since"],
    }.items():
        pd.testing.assert_frame_equal(g.table(tab)[cols], x.table(tab)[cols])


def test_text_that_looks_like_a_formula_stays_text(fake, google_client, make_workbook, small_crm) -> None:
    key = upload_xlsx(fake, make_workbook(small_crm))
    fake.set_values(key, "Contacts", "F2", [['=HYPERLINK("x")']], value_input="RAW")
    _open(fake, google_client, key).sync(as_of=AS_OF)
    contacts = fake.get_values(key, "Contacts", render="FORMULA")
    header = contacts[0]
    problems = contacts[1][header.index("Problems")]
    assert "HYPERLINK" in problems and not str(problems).startswith("=")
    assert contacts[1][header.index("Email")] == '=HYPERLINK("x")'


def test_private_sheet_says_whom_to_share_with(fake, google_client, demo_xlsx) -> None:
    key = upload_xlsx(fake, demo_xlsx)
    fake.make_private(key)
    with pytest.raises(PermissionDeniedError, match="share the spreadsheet"):
        _open(fake, google_client, key)


def test_missing_sheet_says_check_the_key(fake, google_client) -> None:
    with pytest.raises(WorkbookNotFoundError, match="check the key or URL"):
        _open(fake, google_client, KEY)


def test_a_new_computed_column_grows_the_grid(fake, google_client) -> None:
    key = fake.create_spreadsheet(
        "narrow",
        {
            "Companies": [["ID", "Name"], ["CO-1", "Acme"]],
            "Contacts": [["ID", "Name"], ["P-1", "Amy"]],
            "Opportunities": [["ID", "Name", "Stage"], ["OP-1", "Deal", "Lead"]],
            "Activities": [["ID", "Date", "Type", "Contact ID", "Amount"], ["A-1", 46330, "Purchase", "P-1", 10]],
        },
    )
    result = _open(fake, google_client, key).sync(as_of=AS_OF)
    assert result.report is not None and not result.report.skipped
    contacts = fake.get_values(key, "Contacts")
    assert "NESL" in contacts[0] and "Log" in fake.sheet_titles(key)
    assert contacts[1][contacts[0].index("NESL")] == "E"


def test_a_sync_that_would_pass_the_cell_limit_says_how_to_make_room(fake, google_client) -> None:
    key = fake.create_spreadsheet(
        "full",
        {
            "Companies": [["ID", "Name"], ["CO-1", "Acme"]],
            "Contacts": [["ID", "Name"], ["P-1", "Amy"]],
            "Opportunities": [["ID", "Name", "Stage"], ["OP-1", "Deal", "Lead"]],
            "Activities": [["ID", "Date", "Type", "Contact ID", "Amount"], ["A-1", 46330, "Purchase", "P-1", 10]],
            "Archive": [["old"]],
        },
        fit_grid=True,
    )
    # An old tab whose grid (not its data) fills the spreadsheet up to Google's limit.
    google_client.open_by_key(key).worksheet("Archive").resize(rows=1000, cols=9_999)
    before = {title: fake.get_values(key, title) for title in fake.sheet_titles(key)}
    with pytest.raises(WorkbookWriteError, match="past Google's limit of 10,000,000 cells") as caught:
        _open(fake, google_client, key).sync(as_of=AS_OF)
    assert "delete the empty rows and columns" in str(caught.value) and "nothing was written" in str(caught.value)
    assert {title: fake.get_values(key, title) for title in fake.sheet_titles(key)} == before


def test_a_range_longer_than_a_payload_is_split_by_rows(monkeypatch) -> None:
    from sheetcrm.backends import gsheets

    monkeypatch.setattr(gsheets, "WRITE_PAYLOAD_BYTES", 2000)
    data = [{"range": "'T'!A1:A1", "values": [["x" * 50]]}, {"range": "'T'!B1:B400", "values": [["y" * 20]] * 400}]
    parts = list(gsheets._split_long(data))
    assert len(parts) > 5 and parts[0] == data[0]
    assert all(len(json.dumps(p["values"])) <= 2000 for p in parts)
    assert parts[1]["range"] == "'T'!B1:B" + str(len(parts[1]["values"])) and parts[-1]["range"].endswith(":B400")
    assert sum(len(p["values"]) for p in parts) == 1 + 400


def test_a_sheet_without_an_id_column_gets_one_in_google(fake, google_client) -> None:
    key = fake.create_spreadsheet(
        "no ids",
        {
            "公司": [["公司名稱"], ["台灣好物"]],
            "連絡人": [["姓名", "公司"], ["王小明", "台灣好物"]],
            "機會": [["機會名稱", "階段"], ["春季訂單", "提案"]],
            "活動紀錄": [["日期", "類型", "連絡人"], [46330, "訂單", "王小明"]],
        },
    )
    result = _open(fake, google_client, key).sync(as_of=AS_OF)
    assert result.report is not None and not result.report.skipped
    contacts = fake.get_values(key, "連絡人")
    assert contacts[0][:3] == ["姓名", "公司", "編號"] and contacts[1][:3] == ["王小明", "台灣好物", "P-0001"]
    assert fake.get_values(key, "活動紀錄")[1][3] == "A-0001"
    assert "同步紀錄" in fake.sheet_titles(key)
    assert _open(fake, google_client, key).sync(as_of=AS_OF).report is None
