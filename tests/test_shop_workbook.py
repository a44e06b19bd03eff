"""A Taiwanese shop's own workbook, typed by hand: title rows, an instruction row, names
instead of IDs, two phone columns, Chinese synonyms, odd column order, no Settings tab.

It must sync in one run with no binding error, link every activity a person could link by
eye, write only Chinese, and a second sync must write nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import sheetcrm
from sheetcrm.schema import Lang, Stage, Tab
from tests.helpers import save_sheets

AS_OF = dt.date(2026, 3, 31)


def build_shop(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "公司"
    ws.append(["台灣好物 客戶名單"])
    ws.merge_cells("A1:E1")
    ws.append(["更新：2026/3/1"])
    ws.append(["公司名稱", "產業", "地區", "負責業務", "編號"])
    ws.append(["(必填)", "例：零售", "縣市", "", "(系統自動產生)"])
    ws.append(["台灣好物股份有限公司", "零售", "台北", "阿美", None])
    ws.append(["山海商行", "批發", "台中", None, None])
    ws.append(["小林工作室", "設計", "高雄", None, None])

    ws = wb.create_sheet("連絡人")
    ws.append(["連絡人資料（請勿刪除標題）"])
    ws.append(["姓名", "公司", "手機", "電話", "電子郵件", "編號"])
    ws.append(["(必填)", "公司名稱", "09XX-XXX-XXX", "(02)XXXX-XXXX", "name@example.com", "(系統自動)"])
    ws.append(["王小明", "台灣好物", "0912-345-678", "02-2345-6789", "ming@example.com", None])
    ws.append(["陳美玲", "山海商行", "0933-111-222", None, None, None])
    ws.append(["林志豪", "台灣好物有限公司", None, "04-2222-3333", None, None])
    ws.append(["林小姐", "小林工作室", "0955 666 777", None, "lin@example.com", None])

    ws = wb.create_sheet("機會")
    ws.append(["銷售機會追蹤"])
    ws.append(["案名", "公司", "連絡人", "階段", "金額", "預計成交日", "編號"])
    ws.merge_cells("A2:A3")  # a header merged down over the instruction row
    ws.append([None, "(公司名稱)", "(姓名)", "(下拉選單)", "例：3萬5千", "YYYY/MM/DD", ""])
    ws.append(["年度採購", "台灣好物", "王小明", "談判中", "3萬5千", "2026/6/30(二)", None])
    ws.append(["門市陳列", "山海商行", "陳美玲", "報價", "1萬2", None, None])

    ws = wb.create_sheet("活動紀錄")
    ws.append(["日期", "類型", "客戶", "案名", "金額", "內容", "編號"])
    ws.append(["YYYY/MM/DD", "(電訪/LINE/出貨...)", "(姓名、手機或 email)", "(選填)", "(選填)", "", ""])
    ws.append(["2026/3/5(四)", "電訪", "王小明", None, None, "詢價", None])
    ws.append(["2026/3/6", "LINE", "0933-111-222", None, None, "傳型錄", None])
    ws.append(["2026/3/10", "報價", "陳美玲", "門市陳列", None, "報價單", None])
    ws.append(["2026/3/12（四）", "出貨", "ming@example.com", "年度採購", None, "第一批", None])
    ws.append(["2026/3/15", "訂單", "林志豪", None, "1萬2", "追加", None])
    ws.append(["2026/3/20", "購買", "lin@example.com", None, "3萬5千", "", None])
    wb.save(path)
    return path


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return build_shop(tmp_path / "台灣好物.xlsx")


def _written_text(before: dict[str, list[list[object]]], path: Path) -> list[str]:
    """Every text cell that differs from ``before`` (what sheetcrm wrote)."""
    wb = openpyxl.load_workbook(path)
    out = []
    for ws in wb.worksheets:
        old = before.get(ws.title, [])
        for r, row in enumerate(ws.iter_rows(values_only=True)):
            for c, value in enumerate(row):
                prev = old[r][c] if r < len(old) and c < len(old[r]) else None
                if value != prev and isinstance(value, str):
                    out.append(value)
    return out


def _cells(path: Path) -> dict[str, list[list[object]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def test_a_shops_workbook_syncs_in_one_run_links_by_eye_writes_chinese_and_settles(shop: Path) -> None:
    before = _cells(shop)
    wb = sheetcrm.open(shop)
    assert wb.settings.language is Lang.ZH_TW  # no Settings tab: inferred from the headers
    acts = wb.table(Tab.ACTIVITIES)
    assert len(acts) == 6  # the instruction row is no record
    assert len(wb.table(Tab.COMPANIES)) == 3 and len(wb.table(Tab.CONTACTS)) == 4
    assert acts["Type"].map(str).tolist() == ["Call", "Message", "Quote", "Delivery", "Order", "Purchase"]
    assert acts["Date"].dt.day.tolist() == [5, 6, 10, 12, 15, 20]

    result = wb.sync(as_of=AS_OF)
    assert result.counts["errors"] == 0, result.problems
    assert result.counts["ids_filled"] == 3 + 4 + 2 + 6

    again = sheetcrm.open(shop)
    acts = again.table(Tab.ACTIVITIES)
    contacts = again.table(Tab.CONTACTS).set_index("Name")["ID"]
    # Every activity is linked to the contact a person would pick by eye.
    assert acts["Contact ID"].tolist() == [
        contacts["王小明"],
        contacts["陳美玲"],
        contacts["陳美玲"],
        contacts["王小明"],
        contacts["林志豪"],
        contacts["林小姐"],
    ]
    companies = again.table(Tab.COMPANIES).set_index("Name")["ID"]
    assert again.table(Tab.CONTACTS)["Company ID"].tolist() == [
        companies["台灣好物股份有限公司"],
        companies["山海商行"],
        companies["台灣好物股份有限公司"],
        companies["小林工作室"],
    ]
    opps = again.table(Tab.OPPORTUNITIES).set_index("Name")
    assert opps.loc["年度採購", "Amount"] == 35000 and opps.loc["門市陳列", "Amount"] == 12000
    assert opps.loc["年度採購", "Stage"] is Stage.NEGOTIATION  # 談判中, a synonym
    assert opps.loc["門市陳列", "Stage"] is Stage.PROPOSAL  # 報價 as a stage
    buyers = again.table(Tab.CONTACTS).set_index("Name")
    assert buyers.loc["林志豪", "Frequency"] == 1 and buyers.loc["林小姐", "Monetary"] == 35000

    written = _written_text(before, shop)
    assert written
    for text in written:
        # IDs, dates, RFM letters and numbers aside, every written word is Chinese.
        stripped = re.sub(
            r"\d{8}-\d{6}-[0-9a-f]{4}|[A-Z]{1,2}-\d{4}|RFM|[\w.]+@[\w.]+|(?<![A-Za-z])[RFM](?![A-Za-z])"
            r"|docs/[\w-]+\.md|\b[a-z]+\.[a-z_]+\b",
            "",
            text,
        )  # the run ID, record IDs, emails, the RFM letters, a docs path and Settings keys aside
        assert not re.search(r"[A-Za-z]{2,}", stripped), text
    problems = again.table(Tab.ACTIVITIES)["Problems"].dropna().tolist()
    assert any("依名稱比對到 王小明" in p for p in problems)
    # Matched by phone or email, the note names whom it matched.
    assert any("依電話將 0933-111-222 比對到 陳美玲" in p for p in problems)
    assert any("依電子郵件將 ming@example.com 比對到 王小明" in p for p in problems)

    # Title rows, the people's headers and the instruction row keep what they held; new
    # headers go on the header row, and nothing is written on the instruction row.
    after = _cells(shop)
    for title, rows in before.items():
        header = {"公司": 2, "連絡人": 1, "機會": 1, "活動紀錄": 0}[title]
        for i, row in enumerate(rows[: header + 2]):
            assert after[title][i][: len(row)] == row
        assert set(after[title][header + 1][len(rows[header + 1]) :]) <= {None}
        assert len(after[title][header]) > len(rows[header])

    second = sheetcrm.open(shop).sync(as_of=AS_OF)
    assert second.report is None and len(second.changes) == 0


def test_resolved_ids_go_to_their_own_column_when_asked(shop: Path) -> None:
    wb = openpyxl.load_workbook(shop)
    ws = wb.create_sheet("設定")
    ws.append(["設定項", "設定值"])
    ws.append(["links.write_ids", "是"])
    ws.append(["language", "zh-TW"])
    wb.save(shop)
    sheetcrm.open(shop).sync(as_of=AS_OF)
    acts = pd.DataFrame(_cells(shop)["活動紀錄"])
    header = acts.iloc[0].tolist()
    assert "連絡人編號（比對）" in header
    resolved = acts[header.index("連絡人編號（比對）")].iloc[2:].tolist()
    assert all(re.fullmatch(r"P-\d{4}", v) for v in resolved)
    assert acts[header.index("客戶")].iloc[2:].tolist()[0] == "王小明"  # the person's cell stays


def test_a_sheet_kept_without_ids_gets_them_and_the_first_sync_says_what_the_second_would(tmp_path: Path) -> None:
    path = save_sheets(
        tmp_path / "no-ids.xlsx",
        {
            "公司": [["公司名稱", "負責人"], ["台灣好物", "阿明"]],
            "連絡人": [
                ["公司", "姓名", "手機"],
                ["台灣好物", "王小明", "0912-345-678"],
                ["台灣好物", "王明", "0912345678"],  # the same phone: likely the same person
            ],
            # A won deal without a close date...
            "機會": [["公司", "機會名稱", "進度", "金額"], ["台灣好物", "春季訂單", "成交", 50000]],
            "拜訪紀錄": [
                ["日期", "方式", "公司", "機會", "金額"],
                [dt.datetime(2026, 3, 1), "訂單", "台灣好物", "春季訂單", 50000],  # ...but its order is here
            ],
        },
    )
    result = sheetcrm.open(path).sync(as_of=AS_OF)
    assert result.counts["ids_filled"] == 1 + 2 + 1 + 1
    # What the first sync says about records without IDs names the IDs it gives them,
    # and the won deal is recorded by the order that names it.
    said = result.problems[["tab", "id", "problem", "severity"]]
    assert said[said["severity"] != "note"].drop(columns="severity").to_numpy().tolist() == [
        ["連絡人", "P-0002", "可能與P-0001（第 2 列）是同一個連絡人：電話相同；請合併兩列或加以區分"]
    ]
    assert said.loc[said["tab"] == "機會", "id"].tolist() == ["OP-0001"]  # a link note

    after = _cells(path)
    assert after["公司"][0][:3] == ["公司名稱", "負責人", "編號"]  # right of the people's headers
    assert [r[2] for r in after["公司"][1:]] == ["CO-0001"]
    assert after["拜訪紀錄"][0][5] == "編號" and after["拜訪紀錄"][1][5] == "A-0001"
    assert "同步紀錄" in after and "Log" not in after
    second = sheetcrm.open(path).sync(as_of=AS_OF)
    assert second.report is None and len(second.changes) == 0


def test_an_activitys_customer_that_is_a_company_links_to_the_company(tmp_path: Path) -> None:
    path = save_sheets(
        tmp_path / "firms.xlsx",
        {
            "公司": [["公司名稱"], ["阿福小吃店"]],
            "連絡人": [["姓名", "公司"], ["王小明", "阿福小吃店"]],
            "機會": [["機會名稱"]],
            "拜訪紀錄": [
                ["日期", "類型", "客戶", "金額"],
                [dt.datetime(2026, 3, 1), "訂單", "阿福小吃店", 5000],  # the shop, not a person
                [dt.datetime(2026, 3, 2), "訂單", "阿福小吃", 100],  # neither: still an error
            ],
        },
    )
    book = sheetcrm.open(path)
    acts = book.table(Tab.ACTIVITIES)
    assert acts["Company ID"].tolist()[0] == "CO-0001"
    problems = book.validate()
    said = problems[problems["tab"] == "拜訪紀錄"].set_index("row")
    assert said.loc[2, "severity"] == "note" and "阿福小吃店" in str(said.loc[2, "problem"])
    assert said.loc[3, "severity"] == "error"
    result = book.sync(as_of=AS_OF)
    assert result.computed[Tab.COMPANIES]["Monetary"].tolist() == [5000]


def test_a_deals_customer_links_to_the_person_or_else_the_company(tmp_path: Path) -> None:
    path = save_sheets(
        tmp_path / "deals.xlsx",
        {
            "公司": [["公司名稱"], ["阿福小吃店"], ["山海商行"]],
            "連絡人": [["姓名", "公司"], ["王小明", "山海商行"]],
            "機會": [
                ["案名", "客戶名稱", "階段", "金額", "結案日期"],
                ["年菜訂購", "阿福小吃店", "成交", 8000, dt.datetime(2026, 3, 2)],  # a shop, no person
                ["門市陳列", "王小明", "報價", 1200, None],  # a person
            ],
            "拜訪紀錄": [["日期", "類型", "客戶", "金額"]],
        },
    )
    book = sheetcrm.open(path)
    deals = book.table(Tab.OPPORTUNITIES)
    assert deals["Company ID"].tolist() == ["CO-0001", None]
    assert deals["Contact ID"].tolist()[1] == "P-0001"
    problems = book.validate()
    mine = problems[problems["tab"] == "機會"]
    assert (mine["severity"] == "note").all(), mine["problem"].tolist()
    result = book.sync(as_of=AS_OF)
    assert result.computed[Tab.COMPANIES]["Monetary"].tolist()[0] == 8000


def _two_row_contacts(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "公司"
    ws.append(["公司名稱"])
    ws.append(["山海商行"])
    ws = wb.create_sheet("連絡人")
    ws.append(["姓名", "公司", "聯絡方式", None])
    ws.append([None, None, "手機", "Email"])
    for cells in ("A1:A2", "B1:B2", "C1:D1"):
        ws.merge_cells(cells)
    ws.append(["王小明", "山海商行", "0912-345-678", "ming@x.tw"])
    ws.append(["陳美玲", "山海商行", "0933-111-222", None])
    wb.create_sheet("機會").append(["案名", "客戶", "階段"])
    acts = wb.create_sheet("拜訪紀錄")
    acts.append(["日期", "類型", "客戶", "金額"])
    acts.append([dt.datetime(2026, 3, 2), "訂單", "ming@x.tw", 500])
    wb.save(path)
    return path


def test_a_header_on_two_rows_reads_every_column_and_sync_writes_beside_them(tmp_path: Path) -> None:
    from sheetcrm.backends.xlsx import XlsxBackend
    from sheetcrm.team.leads import import_leads

    path = _two_row_contacts(tmp_path / "two.xlsx")
    book = sheetcrm.open(path)
    contacts = book.table(Tab.CONTACTS)
    assert contacts["Mobile"].tolist() == ["+886912345678", "+886933111222"]
    assert contacts["Email"].tolist() == ["ming@x.tw", None]
    assert book.tables[Tab.CONTACTS].instruction_rows == (2,)  # the second header row is no record
    result = book.sync(as_of=AS_OF)
    assert result.computed[Tab.CONTACTS]["Monetary"].tolist() == [500, 0]  # linked by email
    rows = _cells(path)["連絡人"]
    assert rows[0][:5] == ["姓名", "公司", "聯絡方式", None, "編號"]  # right of Email, not into it
    assert rows[2][3] == "ming@x.tw" and rows[3][3] is None and rows[3][4] == "P-0002"
    assert sheetcrm.open(path).sync(as_of=AS_OF).changes.empty
    leads = tmp_path / "leads.csv"
    leads.write_text("姓名,手機,電子郵件\n張三,0911-222-333,z@x.tw\n", encoding="utf-8")
    assert import_leads(XlsxBackend(path), leads, today=AS_OF).counts["added"] == 1
    assert _cells(path)["連絡人"][4][:5] == ["張三", None, "0911-222-333", "z@x.tw", "P-0003"]


def test_sync_never_writes_into_a_column_people_use_without_a_header(tmp_path: Path) -> None:
    path = save_sheets(
        tmp_path / "notes.xlsx",
        {
            "公司": [["公司名稱"], ["山海商行"]],
            "連絡人": [["姓名", "公司"], ["王小明", "山海商行", "老客戶，週三來"], ["陳美玲", "山海商行"]],
            "機會": [["案名"]],
            "拜訪紀錄": [["日期", "類型", "客戶", "金額"]],
        },
    )
    sheetcrm.open(path).sync(as_of=AS_OF)
    rows = _cells(path)["連絡人"]
    assert rows[0][2] is None and rows[0][3] == "編號"
    assert [r[2] for r in rows[1:3]] == ["老客戶，週三來", None]  # the notes column stays the person's


def test_a_misspelt_shop_in_the_customer_column_gets_a_suggestion(tmp_path: Path) -> None:
    path = save_sheets(
        tmp_path / "typo.xlsx",
        {
            "公司": [["公司名稱"], ["好日子咖啡"]],
            "連絡人": [["姓名", "公司"], ["王小明", "好日子咖啡"]],
            "機會": [["案名"]],
            "交易紀錄": [["日期", "類型", "客戶", "金額"], [dt.datetime(2026, 3, 2), "訂單", "好日子咖非", 300]],
        },
    )
    problems = sheetcrm.open(path).validate()
    said = problems[problems["tab"] == "交易紀錄"]["problem"].tolist()
    assert len(said) == 1 and "好日子咖啡" in said[0], said


def test_an_order_book_in_its_own_words_counts_every_row_as_a_sale(tmp_path: Path) -> None:
    from sheetcrm.backends.xlsx import XlsxBackend
    from sheetcrm.engine.inspect import inspect_tabs
    from sheetcrm.team.invite import invite

    path = save_sheets(
        tmp_path / "orders.xlsx",
        {
            "公司": [["公司名稱"]],
            "客戶名單": [["姓名", "手機"], ["王小明", "0912-345-678"], ["陳美玲", "0933-111-222"]],
            "案件": [
                ["案件名稱", "客戶", "階段", "金額", "預計成交"],
                ["年節禮盒", "陳美玲", "已報價", 9000, "2027年2月"],
            ],
            # No 類型: a shop's order book holds sales.
            "訂單紀錄": [
                ["訂單日期", "客戶姓名", "品項", "總金額"],
                [dt.datetime(2026, 3, 2), "王小明", "烏龍茶", 1200],
                [dt.datetime(2026, 3, 20), "王小明", "禮盒", "NT$3,500"],
            ],
        },
    )
    # Never synced: the report already counts 王小明's orders (by the IDs the sync will write).
    assert sheetcrm.monthly_report(path, "2026-03").pareto["buyers"] == 1
    layout = inspect_tabs(XlsxBackend(path).read(), "zh-TW")
    assert not layout["blocking"].any(), layout[layout["blocking"]]
    assert layout["status"].str.contains("當作訂單").any()
    book = sheetcrm.open(path)
    deals = book.table(Tab.OPPORTUNITIES)
    assert deals["Stage"].tolist() == [Stage.PROPOSAL]
    assert deals["Expected Close"].tolist() == [pd.Timestamp(2027, 2, 28)]
    result = book.sync(as_of=AS_OF)
    contacts = result.computed[Tab.CONTACTS]  # 王小明, 陳美玲
    assert contacts["Monetary"].tolist() == [4700, 0] and contacts["Frequency"].tolist() == [2, 0]

    # Invitations recorded into the book say what they are; its orders stay orders.
    invite(XlsxBackend(path), event="尾牙", record=True, as_of=AS_OF)
    rows = [list(r) for r in openpyxl.load_workbook(path)["訂單紀錄"].iter_rows(values_only=True)]
    assert "類型" in rows[0]
    kinds = [r[rows[0].index("類型")] for r in rows[1:] if any(v is not None for v in r)]
    assert kinds == [None, None, "活動邀請", "活動邀請"], kinds
    again = sheetcrm.open(path).sync(as_of=AS_OF)
    assert again.computed[Tab.CONTACTS]["Monetary"].tolist() == [4700, 0]


def test_a_customer_whose_orders_name_two_people_is_told_on_her_own_row(tmp_path: Path) -> None:
    path = save_sheets(
        tmp_path / "dup.xlsx",
        {
            "公司": [["公司名稱"]],
            "客戶名單": [["姓名", "Email"], ["洪雅婷", "a@x.tw"], ["王小明", None], ["洪雅婷 ", "b@x.tw"]],
            "案件": [["案件名稱"]],
            "訂單紀錄": [
                ["日期", "客戶", "金額"],
                [dt.datetime(2026, 3, 20), "洪雅婷", 350],
                [dt.datetime(2026, 3, 21), "洪雅婷", 350],
            ],
        },
    )
    from sheetcrm.report.render import to_markdown

    # Before any sync too, the report counts who bought and says what it leaves out.
    report = sheetcrm.monthly_report(path, "2026-03")
    assert report.left_out == (0, 2, 700.0) and report.pareto["buyers"] == 0
    assert "有 2 筆交易（共 700）沒有算進任何顧客" in to_markdown(report)
    result = sheetcrm.open(path).sync(as_of=AS_OF)
    # The run says what its customer numbers leave out, and what it comes to.
    assert "有 2 筆交易（共 700）沒有算進任何顧客：0 筆日期無法辨識，2 筆的顧客無法確定是誰" in "\n".join(
        result.summary_lines()
    )
    rows = [list(r) for r in openpyxl.load_workbook(path)["客戶名單"].iter_rows(values_only=True)]
    said = {r[0]: r[rows[0].index("問題")] for r in rows[1:]}
    for other in ("P-0003", "P-0001"):
        mine = said["洪雅婷" if other == "P-0003" else "洪雅婷 "]
        assert f"訂單紀錄 有 2 列寫的是 洪雅婷，也可能是 {other}" in str(mine), said
    assert said["王小明"] is None
