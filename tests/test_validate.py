from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import sheetcrm
from sheetcrm.cells.normalize import normalize_company_name
from sheetcrm.exceptions import SchemaError
from sheetcrm.schema import Lang, Tab


def _problems(make_workbook: Callable[..., Path], rows, lang: Lang = Lang.EN) -> pd.DataFrame:
    return sheetcrm.open(make_workbook(rows, lang)).validate()


def test_clean_workbook_has_no_problems(make_workbook, small_crm) -> None:
    problems = _problems(make_workbook, small_crm)
    assert problems.empty, problems.to_string()


def test_problem_frame_columns(make_workbook, small_crm) -> None:
    small_crm[Tab.CONTACTS][0]["Email"] = "lin@example"
    problems = _problems(make_workbook, small_crm)
    assert list(problems.columns) == ["tab", "row", "id", "column", "value", "problem", "severity"]
    row = problems.iloc[0]
    assert (row["tab"], row["row"], row["id"], row["value"], row["severity"]) == (
        "Contacts",
        2,
        "P-0001",
        "lin@example",
        "error",
    )
    assert row["column"].startswith("Email (")


# (tab, record index, column, bad value, words the message must contain)
BAD_CELLS = [
    (Tab.CONTACTS, 0, "Email", "lin@example", ["not", "email"]),
    (Tab.CONTACTS, 1, "Phone", "call me", ["phone"]),
    (Tab.CONTACTS, 2, "Role", "Boss", ["expected", "Decision Maker"]),
    (Tab.OPPORTUNITIES, 0, "Stage", "Closing", ["Lead", "成交"]),
    (Tab.OPPORTUNITIES, 0, "Amount", "lots", ["amount"]),
    (Tab.OPPORTUNITIES, 1, "Expected Close", "2026/13/5", ["date"]),
    (Tab.ACTIVITIES, 0, "Date", "yesterday", ["date"]),
    (Tab.ACTIVITIES, 1, "Type", "Lunch", ["activity type"]),
    (Tab.TEAM, 0, "Active", "maybe", ["expected"]),
]


@pytest.mark.parametrize("tab,index,column,value,words", BAD_CELLS)
def test_each_bad_cell_is_named_with_what_was_expected(
    make_workbook, small_crm, tab, index, column, value, words
) -> None:
    small_crm[tab][index][column] = value
    problems = _problems(make_workbook, small_crm)
    hit = problems[problems["column"].str.startswith(column + " (")]
    assert len(hit) == 1, problems.to_string()
    assert hit.iloc[0]["value"] == value and hit.iloc[0]["row"] == index + 2
    message = hit.iloc[0]["problem"].lower()
    assert all(w.lower() in message for w in words), message


@pytest.mark.parametrize(
    "column,value",
    [
        ("Date", "2026/3/5"),
        ("Date", "民國115年3月5日"),
        ("Date", "115/3/5"),
        ("Date", "2026年3月5日"),
        ("Date", 46086),
        ("Date", dt.datetime(2026, 3, 5)),
        ("Amount", "NT$1,200"),
        ("Amount", "１２００"),
        ("Type", "訂單"),
        ("Type", "ＯＲＤＥＲ"),
    ],
)
def test_values_as_people_type_them_are_accepted(make_workbook, small_crm, column, value) -> None:
    small_crm[Tab.ACTIVITIES][2][column] = value
    assert _problems(make_workbook, small_crm).empty


def test_required_values(make_workbook, small_crm) -> None:
    small_crm[Tab.COMPANIES][0]["Name"] = None
    small_crm[Tab.COMPANIES][0]["Industry"] = "Retail"
    problems = _problems(make_workbook, small_crm)
    assert problems["problem"].str.contains("Name is empty").sum() == 1


def test_duplicate_ids_name_both_rows(make_workbook, small_crm) -> None:
    small_crm[Tab.CONTACTS][2]["ID"] = "P-0001"
    problems = _problems(make_workbook, small_crm)
    dups = problems[problems["problem"].str.contains("also used on row")]
    assert sorted(dups["row"]) == [2, 4]
    assert "row(s) 4" in dups[dups["row"] == 2].iloc[0]["problem"]


@pytest.mark.parametrize(
    "tab,index,column",
    [
        (Tab.CONTACTS, 0, "Company ID"),
        (Tab.OPPORTUNITIES, 0, "Company ID"),
        (Tab.OPPORTUNITIES, 0, "Contact ID"),
        (Tab.ACTIVITIES, 0, "Opportunity ID"),
        (Tab.ACTIVITIES, 0, "Contact ID"),
        (Tab.ACTIVITIES, 0, "Company ID"),
    ],
)
def test_dangling_references(make_workbook, small_crm, tab, index, column) -> None:
    small_crm[tab][index][column] = "X-9999"
    problems = _problems(make_workbook, small_crm)
    hit = problems[problems["value"] == "X-9999"]
    assert len(hit) == 1 and "matches no ID" in hit.iloc[0]["problem"]


@pytest.mark.parametrize(
    "change",
    [
        {"Name": "宏達精密"},
        {"Name": "ＨＡＲＢＯＲ Logistics"},
        {"Name": "harbor logistics limited"},
    ],
)
def test_likely_duplicate_companies(make_workbook, small_crm, change) -> None:
    small_crm[Tab.COMPANIES].append({"ID": "CO-0003", **change})
    problems = _problems(make_workbook, small_crm)
    hit = problems[problems["problem"].str.contains("likely the same company")]
    assert list(hit["id"]) == ["CO-0003"] and (hit["severity"] == "warning").all()


@pytest.mark.parametrize(
    "change,what",
    [
        ({"Name": "Someone", "Email": "LIN@example.com"}, "email"),
        ({"Name": "Other", "Phone": "+886 912 345 678"}, "phone"),
        ({"Name": "林志玲", "Company ID": "CO-0001"}, "name and company"),
    ],
)
def test_likely_duplicate_contacts(make_workbook, small_crm, change, what) -> None:
    small_crm[Tab.CONTACTS].append({"ID": "P-0009", **change})
    problems = _problems(make_workbook, small_crm)
    hit = problems[problems["problem"].str.contains("likely the same contact")]
    assert list(hit["id"]) == ["P-0009"] and f"same {what}" in hit.iloc[0]["problem"]


@pytest.mark.parametrize(
    "a,b",
    [
        ("宏達精密股份有限公司", "宏達精密"),
        ("Harbor Logistics Ltd.", "HARBOR LOGISTICS"),
        ("Acme, Inc.", "acme"),
        ("Ｔａｉｐｅｉ Ｔｅａ Co., Ltd.", "taipei tea"),
    ],
)
def test_company_name_folding(a: str, b: str) -> None:
    assert normalize_company_name(a) == normalize_company_name(b)


def test_chinese_workbook_validates_alike(make_workbook, small_crm) -> None:
    small_crm[Tab.CONTACTS][0]["Email"] = "lin@example"
    problems = _problems(make_workbook, small_crm, Lang.ZH_TW)
    assert list(problems["tab"]) == ["連絡人"]
    assert problems.iloc[0]["column"].startswith("電子郵件 (")


def test_validate_never_writes(make_workbook, small_crm) -> None:
    small_crm[Tab.CONTACTS][0]["Email"] = "lin@example"
    path = make_workbook(small_crm)
    before = path.read_bytes()
    sheetcrm.open(path).validate()
    assert path.read_bytes() == before


def test_duplicate_header_is_a_schema_error(make_workbook, small_crm) -> None:
    path = make_workbook(small_crm)
    wb = openpyxl.load_workbook(path)
    ws = wb["Contacts"]
    ws.cell(row=1, column=ws.max_column + 1, value="電子郵件")
    wb.save(path)
    with pytest.raises(SchemaError, match="both mean 'Email'"):
        sheetcrm.open(path)


def test_bad_setting_is_a_problem_and_the_default_is_used(make_workbook, small_crm) -> None:
    path = make_workbook(small_crm)
    wb = openpyxl.load_workbook(path)
    ws = wb["Settings"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "nesl.existing_days":
            row[1].value = "a month"
    wb.save(path)
    book = sheetcrm.open(path)
    assert book.settings.existing_days == 30
    problems = book.validate()
    assert problems.iloc[0]["tab"] == "Settings" and "nesl.existing_days" in problems.iloc[0]["problem"]


def test_day_first_setting_reads_european_dates(make_workbook, small_crm) -> None:
    small_crm[Tab.ACTIVITIES][2]["Date"] = "5/3/2026"
    path = make_workbook(small_crm)
    assert sheetcrm.open(path).activities.loc[2, "Date"] == pd.Timestamp(2026, 5, 3)
    wb = openpyxl.load_workbook(path)
    for row in wb["Settings"].iter_rows(min_row=2):
        if row[0].value == "dates.day_first":
            row[1].value = "true"
    wb.save(path)
    assert sheetcrm.open(path).activities.loc[2, "Date"] == pd.Timestamp(2026, 3, 5)


def test_won_without_closed_date_is_a_warning(make_workbook, small_crm) -> None:
    small_crm[Tab.OPPORTUNITIES][1].update({"Stage": "成交"})
    problems = _problems(make_workbook, small_crm)
    hit = problems[problems["column"].str.startswith("Closed (")]
    assert list(hit["id"]) == ["OP-0002"] and hit.iloc[0]["severity"] == "warning"
    assert "does not count as a purchase" in hit.iloc[0]["problem"]


@pytest.mark.parametrize(
    ("tab", "index", "severity", "words"),
    [
        # A negative order is a refund: it counts, so it is only a warning.
        (Tab.ACTIVITIES, 2, "warning", ["refund", "monetary", "minus sign"]),
        # On a call it means nothing, and a deal is never worth less than nothing.
        (Tab.ACTIVITIES, 0, "error", ["0 or more"]),
        (Tab.OPPORTUNITIES, 0, "error", ["0 or more"]),
    ],
)
def test_a_negative_amount_is_a_refund_only_on_a_purchase(
    make_workbook, small_crm, tab, index, severity, words
) -> None:
    small_crm[tab][index]["Amount"] = -300
    path = make_workbook(small_crm)
    problems = _problems(make_workbook, small_crm)
    hit = problems[problems["column"].str.startswith("Amount (")]
    assert hit[["tab", "row", "severity"]].to_numpy().tolist() == [[tab.value, index + 2, severity]]
    assert all(w in hit.iloc[0]["problem"].lower() for w in words), hit.iloc[0]["problem"]
    if severity == "warning":
        wb = sheetcrm.open(path)
        computed = wb.sync(as_of="2026-11-30", dry_run=True).computed[Tab.CONTACTS]
        # The refund took the place of the 1200 order; the 800 one stays.
        assert computed["Monetary"][wb.table(Tab.CONTACTS)["ID"] == "P-0003"].tolist() == [800 - 300]


@pytest.mark.parametrize(("column", "header"), [("Mobile", "Mobile ("), ("Phone", "Phone (")])
def test_a_shared_number_is_named_in_the_column_that_holds_it(make_workbook, small_crm, column, header) -> None:
    small_crm[Tab.CONTACTS].append({"ID": "P-0009", "Name": "Other", column: "0912 345 678"})  # P-0001's phone
    problems = _problems(make_workbook, small_crm)
    hit = problems[problems["problem"].str.contains("same phone")]
    assert hit[["id"]].to_numpy().tolist() == [["P-0009"]] and hit.iloc[0]["column"].startswith(header)


def test_the_validate_table_lists_problems_before_notes_and_counts_the_notes(tmp_path) -> None:
    import datetime as dt

    from click.testing import CliRunner

    from sheetcrm.cli import cli
    from tests.helpers import save_sheets

    path = save_sheets(
        tmp_path / "notes.xlsx",
        {
            "公司": [["公司名稱"], ["山海商行"]],
            "連絡人": [["姓名", "公司"], ["王小明", "山海商行"], ["陳美玲", "山海商號"]],  # a note, then an error
            "機會": [["案名"]],
            "拜訪紀錄": [["日期", "類型", "客戶"], [dt.datetime(2026, 3, 2), "電話", "王小明"]],
        },
    )
    got = CliRunner().invoke(cli, ["validate", str(path)])
    assert got.exit_code == 1
    lines = got.output.splitlines()
    assert "山海商號" in lines[1] and lines[1].rstrip().endswith("錯誤")  # the problem comes first
    assert all(line.rstrip().endswith("說明") for line in lines[2:4])
    assert "1 個問題：錯誤 1 個，警告 0 個；另有 2 則說明" in got.output


@pytest.mark.parametrize(("typed", "meant"), [("Stgae", "Stage"), ("Emial", "Email"), ("電子郵建", None)])
def test_a_misspelt_header_is_named_and_a_stage_column_gone_keeps_the_pipeline(
    tmp_path: Path, typed: str, meant: str | None
) -> None:
    import datetime as dt

    import openpyxl

    import sheetcrm
    from sheetcrm.backends.xlsx import XlsxBackend
    from sheetcrm.engine.inspect import inspect_tabs
    from tests.helpers import save_sheets

    path = save_sheets(
        tmp_path / "crm.xlsx",
        {
            "Companies": [["ID", "Name"], ["CO-1", "Acme"]],
            "Contacts": [["ID", "Name", "Company ID", "Email"], ["P-1", "Amy", "CO-1", "amy@acme.com"]],
            "Opportunities": [
                ["ID", "Name", "Company ID", "Stage", "Amount", "Expected Close"],
                ["OP-1", "Renewal", "CO-1", "Proposal", 1000, dt.datetime(2026, 12, 20)],
            ],
            "Activities": [["ID", "Date", "Type", "Contact ID"]],
        },
    )
    sheetcrm.open(path).sync(as_of="2026-11-20")
    tab = "Opportunities" if meant == "Stage" else "Contacts"
    wb = openpyxl.load_workbook(path)
    ws = wb[tab]
    for cell in ws[1]:
        if cell.value == (meant or "Email"):
            cell.value = typed
    wb.save(path)

    book = sheetcrm.open(path)
    problems = book.validate()
    warned = problems[problems["column"].astype(str).str.startswith(typed)]
    layout = inspect_tabs(XlsxBackend(path).read())
    if meant is None:  # one character in four is more than a slip: it may be a column of its own
        assert warned.empty and not layout["status"].str.contains("misspelt").any()
        return
    assert warned["severity"].tolist() == ["warning"] and warned["row"].tolist() == [1]
    assert f"looks like {meant} misspelt" in str(warned["problem"].iloc[0])
    assert layout.loc[layout["header"] == typed, "status"].str.contains(f"looks like {meant} misspelt").all()

    before = {c.value: int(c.column or 0) for c in openpyxl.load_workbook(path)["Opportunities"][1]}
    result = book.sync(as_of="2026-11-30")  # no crash, and the deal's pipeline cells are kept
    row = [c.value for c in openpyxl.load_workbook(path)["Opportunities"][2]]
    assert row[before["Weighted Amount"] - 1] == 500 and row[before["Stage Seen"] - 1] == "Proposal"
    if meant == "Stage":
        assert sheetcrm.forecast(path, "2026Q4", as_of="2026-11-30").unstaged == ("Renewal (OP-1)",)
    assert result.problems["severity"].eq("warning").any()


@pytest.mark.parametrize(
    ("typed", "warned"),
    [("US$ 1,000", "USD"), ("3萬港幣", "HKD"), ("NT$1,200", None), ("$300", None), (1200, None), ("1,200元", None)],
)
def test_an_amount_in_another_currency_is_a_warning(tmp_path: Path, typed: object, warned: str | None) -> None:
    import datetime as dt

    import sheetcrm
    from tests.helpers import save_sheets

    path = save_sheets(
        tmp_path / "crm.xlsx",
        {
            "Contacts": [["ID", "Name"], ["P-1", "Amy"]],
            "Activities": [
                ["ID", "Date", "Type", "Contact ID", "Amount"],
                ["A-1", dt.datetime(2026, 3, 1), "Order", "P-1", typed],
            ],
        },
    )
    problems = sheetcrm.open(path).validate()
    said = problems[problems["column"].astype(str).str.startswith("Amount")]
    if warned is None:
        assert said.empty, said.to_dict("records")
    else:
        assert said["severity"].tolist() == ["warning"] and f"is in {warned}, but the workbook counts in TWD" in str(
            said["problem"].iloc[0]
        )
