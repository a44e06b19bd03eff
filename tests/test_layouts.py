"""The layouts people really make: title rows, instruction rows, two phone columns, what
people type in cells, synonyms, and `sheetcrm inspect`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from sheetcrm.backends.base import RawTab
from sheetcrm.backends.memory import MemoryBackend
from sheetcrm.cells.parse import CellParseError, ParseOptions, parse_date, parse_enum, parse_money
from sheetcrm.cli import cli
from sheetcrm.engine.bind import is_instruction_row, locate_header
from sheetcrm.engine.inspect import inspect_tabs
from sheetcrm.exceptions import SchemaError
from sheetcrm.schema import CONTACTS, ActivityType, Stage, Tab
from sheetcrm.settings import Settings
from sheetcrm.workbook import Workbook
from tests.helpers import save_sheets


@pytest.mark.parametrize(
    ("rows", "header_row"),
    [
        ([["ID", "Name"], ["C-1", "x"]], 1),
        ([["客戶名單 2026"], ["ID", "Name", "Email"], ["C-1", "x", None]], 2),
        ([["Title"], [], ["Updated 3/1"], ["姓名", "電話", "手機"], ["王", "1", "2"]], 4),
        ([["nothing"], ["here"]], 1),
    ],
)
def test_the_header_is_found_below_title_rows(rows: list[list[Any]], header_row: int) -> None:
    raw = RawTab(Tab.CONTACTS, "Contacts", rows[0], rows[1:])
    at, _header, start, second = locate_header(raw, CONTACTS)
    assert at == header_row and start == header_row - 1 and second is None


@pytest.mark.parametrize(
    ("rows", "header_row", "header"),
    [
        # 聯絡方式 merged over 手機 | Email, 姓名 and 公司 merged down over both rows
        (
            [["姓名", "公司", "聯絡方式", None], [None, None, "手機", "Email"], ["王", "山海", "0912", "a@b.tw"]],
            1,
            ["姓名", "公司", "手機", "Email"],
        ),
        # below a title row; the lower row names more columns than the upper one
        (
            [["名單"], ["姓名", "聯絡方式", None, None], [None, "手機", "Email", "電話"], ["王", "0912", None, None]],
            2,
            ["姓名", "手機", "Email", "電話"],
        ),
    ],
)
def test_a_header_on_two_rows_is_read_as_one(rows: list[list[Any]], header_row: int, header: list[str]) -> None:
    raw = RawTab(Tab.CONTACTS, "Contacts", rows[0], rows[1:])
    at, cells, start, second = locate_header(raw, CONTACTS)
    assert (at, cells, start, second) == (header_row, header, header_row - 1, header_row + 1)


@pytest.mark.parametrize(
    "rows",
    [
        [["姓名", "手機"], ["王", "0912"]],  # a record under the header
        [["姓名", "手機"], [None, "Email"]],  # Email under 手機: both name a column there
        [["姓名", None], ["王小明", None]],  # nothing from the second row
    ],
)
def test_a_record_or_a_clash_is_no_second_header_row(rows: list[list[Any]]) -> None:
    raw = RawTab(Tab.CONTACTS, "Contacts", rows[0], rows[1:])
    assert locate_header(raw, CONTACTS)[3] is None


@pytest.mark.parametrize(
    ("row", "instruction"),
    [
        (["(必填)", "YYYY/MM/DD", "例：王小明"], True),
        (["(必填)", "公司名稱", "09XX-XXX-XXX", "name@example.com"], True),
        (["範例", "王小明", "0912-345-678"], True),
        (["Example", "Amy", "amy@example.com"], True),
        (["required", "optional", ""], True),
        (["王小明", "台灣好物", "0912-345-678"], False),
        (["例如", None], True),
        (["Amy (VIP)", "Acme", "0912"], False),
        ([None, None], False),
        # Choices and "this or that" say what goes in; a date or a real name list is data.
        ([None, "YYYY/MM/DD", "電話/拜訪/訂單…", "姓名或電話", "內容"], True),
        (["", "日期", "Call / Visit / Order", "name or phone"], True),
        ([None, "2026/03/05", "電話", "王小明", "談報價"], False),
        (["台灣好物", "台北/新竹", "王小明"], False),
        (["客戶名稱…", "金額", "備註"], False),
    ],
)
def test_instruction_rows(row: list[Any], instruction: bool) -> None:
    assert is_instruction_row(row) is instruction


@pytest.mark.parametrize(
    ("row", "instruction"),
    [
        (["AC-0001", "YYYY/MM/DD", "電話/拜訪/訂單", "姓名或電話"], False),  # an ID: a record
        (["(自動產生)", "YYYY/MM/DD", "電話/拜訪/訂單", "姓名或電話"], True),
        (["範例", "2026/03/05", "電話", "王小明"], True),
    ],
)
def test_a_row_with_an_id_is_a_record(row: list[Any], instruction: bool) -> None:
    assert is_instruction_row(row, id_at=0) is instruction


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2026/3/5(四)", dt.date(2026, 3, 5)),
        ("2026/3/5 (週四)", dt.date(2026, 3, 5)),
        ("2026年3月5日（星期四）", dt.date(2026, 3, 5)),
        ("3/5/2026 (Thu)", dt.date(2026, 3, 5)),
    ],
)
def test_dates_with_a_weekday(text: str, value: dt.date) -> None:
    assert parse_date(text) == value


@pytest.mark.parametrize("text", ["3月5日", "3/5"])
def test_a_date_without_a_year_says_which_year_it_would_be(text: str) -> None:
    today = dt.date.today()
    latest = today.year if dt.date(today.year, 3, 5) <= today else today.year - 1
    with pytest.raises(CellParseError, match=rf"left out; add the year: the latest such day was {latest}/3/5"):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1萬2", 12000), ("3萬5千", 35000), ("1萬2500", 12500), ("3千5", 3500), ("NT$1萬2", 12000), ("1.5萬", 15000)],
)
def test_amounts_as_people_say_them(text: str, value: float) -> None:
    assert parse_money(text) == value


@pytest.mark.parametrize(
    ("enum", "text", "member"),
    [
        (Stage, "報價", Stage.PROPOSAL),
        (Stage, "談判中", Stage.NEGOTIATION),
        (ActivityType, "電訪", ActivityType.CALL),
        (ActivityType, "line", ActivityType.MESSAGE),
        (ActivityType, "出貨", ActivityType.DELIVERY),
    ],
)
def test_default_synonyms(enum: Any, text: str, member: Any) -> None:
    assert parse_enum(text, enum, ParseOptions.from_settings(Settings())) is member


def test_owners_extend_the_synonyms_in_settings() -> None:
    wb = Workbook(
        MemoryBackend.from_rows(
            {
                Tab.SETTINGS: (["Key", "Value"], [["synonyms.activity_type", "電訪=Call; 視訊=Meeting"]]),
                Tab.COMPANIES: (["ID", "Name"], []),
                Tab.CONTACTS: (["ID", "Name"], []),
                Tab.OPPORTUNITIES: (["ID", "Name"], []),
                Tab.ACTIVITIES: (
                    ["ID", "Date", "Type"],
                    [["A-1", "2026-03-05", "視訊"], ["A-2", "2026-03-05", "電訪"]],
                ),
            }
        )
    )
    assert wb.activities["Type"].tolist() == [ActivityType.MEETING, ActivityType.CALL]


@pytest.mark.parametrize("separator", ["; ", ", ", "、", "\n"])
def test_a_teams_own_stage_words_add_to_the_built_in_ones(separator: str) -> None:
    own = separator.join(["已報價=Proposal", "議價=議約", "初洽=潛在"])
    wb = Workbook(
        MemoryBackend.from_rows(
            {
                Tab.SETTINGS: (["Key", "Value"], [["synonyms.stage", own]]),
                Tab.CONTACTS: (["ID", "Name"], []),
                Tab.OPPORTUNITIES: (
                    ["ID", "Name", "Stage"],
                    [["OP-1", "a", "已報價"], ["OP-2", "b", "初洽"], ["OP-3", "c", "洽談中"], ["OP-4", "d", "報價中"]],
                ),
                Tab.ACTIVITIES: (["ID", "Date", "Type"], []),
            }
        )
    )
    assert wb.validate().empty, wb.validate().to_dict("records")
    # 洽談中 and 報價中 are built-in words: naming others keeps them.
    assert wb.opportunities["Stage"].tolist() == [Stage.PROPOSAL, Stage.LEAD, Stage.QUALIFIED, Stage.PROPOSAL]


def test_both_phone_columns_are_kept_and_used_for_duplicates() -> None:
    wb = Workbook(
        MemoryBackend.from_rows(
            {
                Tab.COMPANIES: (["ID", "Name"], []),
                Tab.CONTACTS: (
                    ["ID", "Name", "手機", "電話"],
                    [["P-1", "王小明", "0912-345-678", "02-2345-6789"], ["P-2", "王先生", None, "0912 345 678"]],
                ),
                Tab.OPPORTUNITIES: (["ID", "Name"], []),
                Tab.ACTIVITIES: (["ID", "Date", "Type"], []),
            }
        )
    )
    assert wb.contacts["Mobile"].tolist() == ["+886912345678", None]
    assert wb.contacts["Phone"].tolist() == ["+886223456789", "+886912345678"]
    problems = wb.validate("en")
    assert problems["problem"].str.contains("likely the same contact as P-1 \\(row 2\\): same phone").any()


def test_every_layout_problem_is_named_at_once() -> None:
    backend = MemoryBackend.from_rows(
        {
            Tab.COMPANIES: (["Industry"], []),
            Tab.CONTACTS: (["ID", "Email", "E-mail"], []),
            Tab.OPPORTUNITIES: (["ID", "Name"], []),
            Tab.ACTIVITIES: (["ID", "Subject"], []),
        }
    )
    with pytest.raises(SchemaError) as err:
        Workbook(backend)
    text = str(err.value)
    for expected in ("'Name'", "both mean 'Email'", "'Date'", "'Type'"):
        assert expected in text
    assert "'ID'" not in text  # a missing ID column is added by sync


def _shop(tmp_path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "公司"
    ws.append(["台灣好物 客戶名單"])
    ws.append(["編號", "公司名稱", "我的備註"])
    for title, header in (("連絡人", ["姓名", "公司"]), ("機會", ["編號", "案名"]), ("活動紀錄", ["編號", "內容"])):
        wb.create_sheet(title).append(header)
    path = tmp_path / "shop.xlsx"
    wb.save(path)
    return path


def test_inspect_shows_what_each_header_was_read_as_and_every_missing_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["inspect", str(_shop(tmp_path))])
    assert result.exit_code == 1, result.output
    out = result.output
    assert "公司：標題在第 2 列" in out
    assert "保留為使用者自己的欄位" in out and "我的備註" in out
    # Every missing required column, in every tab, in one run.
    assert out.count("缺少必要欄位") == 2  # 活動紀錄: 日期 and 類型
    assert "sync 會加上這一欄，並為每一列編號" in out  # 連絡人 has no 編號: sync adds it
    en = CliRunner().invoke(cli, ["inspect", str(_shop(tmp_path)), "--lang", "en", "--format", "json"])
    assert '"recognised_as": "Name"' in en.output


def test_inspect_tells_header_problems_in_the_language_asked() -> None:
    raw = {Tab.CONTACTS: RawTab(Tab.CONTACTS, "Contacts", ["ID", "Name", "Email", "電子郵件"], [])}
    told = {lang: inspect_tabs(raw, lang).query("column == 'D'")["status"].tolist() for lang in ("en", "zh-TW")}
    assert told["en"] == [
        "problem: columns C ('Email') and D ('電子郵件') both mean 'Email'; rename or delete one of them"
    ]
    assert "C 欄（'Email'）與 D 欄（'電子郵件'）都代表 'Email'" in told["zh-TW"][0]


def test_sync_writes_nothing_on_an_instruction_row_of_choices(tmp_path: Path) -> None:
    import sheetcrm

    path = tmp_path / "shop.xlsx"
    sheetcrm.init_workbook(path, "zh-TW")
    wb = openpyxl.load_workbook(path)
    ws = wb["活動紀錄"]
    hints = [None, "YYYY/MM/DD", "電話/拜訪/訂單…", "姓名或電話", None, None, "金額", None, "內容"]
    ws.append(hints)
    ws.append([None, dt.datetime(2026, 3, 5), "電話", None, None, None, None, None, "談報價"])
    wb.save(path)
    sheetcrm.open(path).sync(as_of="2026-03-31")
    ws = openpyxl.load_workbook(path)["活動紀錄"]
    assert [c.value for c in ws[2]][: len(hints)] == hints
    assert all(c.value is None for c in ws[2][len(hints) :])
    assert ws["A3"].value  # the record under it got its ID


@pytest.mark.parametrize(
    ("header", "label"),
    [(["機會名稱", "階段", "金額"], "結案日期"), (["Name", "Stage", "Amount"], "Closed")],
)
def test_a_column_the_tab_lacks_is_named_in_the_language_of_its_headers(header: list[str], label: str) -> None:
    from sheetcrm.engine.bind import column_label
    from sheetcrm.schema import OPPORTUNITIES, match_headers

    assert column_label(match_headers(OPPORTUNITIES, header), "Closed") == label
    assert column_label(match_headers(OPPORTUNITIES, header), "Stage") == f"{header[1]} (B)"


def test_a_merge_down_a_column_is_read_on_every_row_it_covers_and_never_written(tmp_path: Path) -> None:
    import sheetcrm

    path = tmp_path / "merged.xlsx"
    sheetcrm.init_workbook(path)
    wb = openpyxl.load_workbook(path)
    wb["Companies"].append(["CO-0001", "Acme"])
    ws = wb["Contacts"]
    for name in ("Amy", "Bob", "Cy"):
        ws.append([None, "Acme" if name == "Amy" else None, name])
    ws.merge_cells("B2:B4")  # one company name over its three people
    ws.merge_cells("D2:E2")  # across columns: left alone
    wb.save(path)
    book = sheetcrm.open(path)
    assert book.table(Tab.CONTACTS)["Company ID"].tolist() == ["CO-0001"] * 3
    notes = book.validate()
    merged = notes[notes["problem"].str.contains("merged cells B2:B4")]
    assert merged[["row", "severity"]].to_numpy().tolist() == [[3, "note"], [4, "note"]]
    book.sync(as_of="2026-11-30")
    ws = openpyxl.load_workbook(path)["Contacts"]
    assert ws["B3"].value is None and ws["B4"].value is None  # the merge is as it was
    assert {str(r) for r in ws.merged_cells.ranges} == {"B2:B4", "D2:E2"}


def test_on_sheets_merges_are_read_too(fake: Any, google_client: Any) -> None:
    import sheetcrm

    key = fake.create_spreadsheet(
        "CRM",
        {
            "公司": [["公司名稱", "編號"], ["山海商行", "CO-1"]],
            "連絡人": [
                ["姓名", "公司", "聯絡方式", None],
                [None, None, "手機", "Email"],
                ["王小明", "山海商行", "0912-345-678", "ming@x.tw"],
                ["陳美玲", None, "0933-111-222", None],
            ],
            "機會": [["案名"]],
            "拜訪紀錄": [["日期", "類型", "客戶"]],
        },
    )
    sheet = google_client.open_by_key(key).worksheet("連絡人")
    for cells in ("A1:A2", "B1:B2", "C1:D1", "B3:B4"):  # through the real client, as a person would
        sheet.merge_cells(cells)
    book = sheetcrm.open(f"https://docs.google.com/spreadsheets/d/{key}/edit", client=google_client)
    contacts = book.table(Tab.CONTACTS)
    assert contacts["Email"].tolist() == ["ming@x.tw", None]  # the header's second row is read
    assert contacts["Company ID"].tolist() == ["CO-1", "CO-1"]  # the company merged down both people
    book.sync(as_of="2026-11-30")
    grid = fake.get_values(key, "連絡人")
    assert grid[0][4] == "編號" and [r[4] for r in grid[2:4]] == ["P-0001", "P-0002"]
    assert grid[3][1] in ("", None) and grid[3][3] in ("", None)  # nothing written into the merge or Email


def test_two_worksheets_claiming_one_tab_are_named_not_called_a_broken_file(tmp_path: Path) -> None:
    path = save_sheets(tmp_path / "two.xlsx", {"客戶": [["姓名"]], "連絡人": [["姓名"]]})
    result = CliRunner().invoke(cli, ["validate", str(path), "--lang", "zh-TW"])
    assert result.exit_code == 2
    assert "'客戶'" in result.output and "'連絡人'" in result.output and "cannot be read" not in result.output


def test_a_totals_row_is_no_record_and_gets_nothing_written(tmp_path: Path) -> None:
    import sheetcrm

    path = tmp_path / "totals.xlsx"
    sheetcrm.init_workbook(path, "zh-TW")
    wb = openpyxl.load_workbook(path)
    ws = wb["活動紀錄"]
    ws.append([None, dt.datetime(2026, 3, 5), "訂單", None, None, None, 1200])
    ws.append([None, "合計", None, None, None, None, "=SUM(G2:G2)"])
    wb.save(path)
    book = sheetcrm.open(path)
    assert book.table(Tab.ACTIVITIES)["_row"].tolist() == [2]
    book.sync(as_of="2026-03-31")
    ws = openpyxl.load_workbook(path)["活動紀錄"]
    assert ws["A2"].value and ws["A3"].value is None and ws["G3"].value == "=SUM(G2:G2)"
