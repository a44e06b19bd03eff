from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.comments import Comment

import sheetcrm
from sheetcrm.schema import CONTACTS, NESL, Lang, Lifecycle, Segment, Stage, Tab, Tier
from tests.helpers import AS_OF


def _cells(path: Path, title: str) -> pd.DataFrame:
    ws = openpyxl.load_workbook(path)[title]
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


@pytest.fixture
def synced(make_workbook, small_crm) -> tuple[Path, sheetcrm.engine.sync.SyncResult]:
    small_crm[Tab.CONTACTS].append({"ID": None, "Name": "New Person", "Email": "new@example.com"})
    path = make_workbook(small_crm)
    result = sheetcrm.open(path).sync(as_of=AS_OF)
    return path, result


def test_stage_advances_on_evidence_and_is_logged(synced) -> None:
    path, result = synced
    opps = _cells(path, "Opportunities").set_index("ID")
    assert opps.loc["OP-0001", "Stage"] == "Proposal"
    assert opps.loc["OP-0001", "Stage Since"] == dt.datetime(2026, 11, 2)
    assert "A-00002" in str(opps.loc["OP-0001", "Stage Reason"])
    assert opps.loc["OP-0001", "Probability"] == 0.5
    assert opps.loc["OP-0001", "Weighted Amount"] == 60000
    assert opps.loc["OP-0002", "Stage"] == "Qualified"
    assert "overdue" in str(opps.loc["OP-0002", "Flags"])
    log = _cells(path, "Log")
    move = log[(log["ID"] == "OP-0001") & (log["Column"] == "Stage")].iloc[0]
    assert (move["Old"], move["New"]) == ("Lead", "Proposal") and "A-00002" in move["Reason"]
    assert result.counts["stage_moves"] == 1


def test_missing_id_is_filled_and_logged(synced) -> None:
    path, result = synced
    contacts = _cells(path, "Contacts")
    assert contacts.loc[contacts["Name"] == "New Person", "ID"].item() == "P-0004"
    log = _cells(path, "Log")
    assert ((log["ID"] == "P-0004") & (log["Column"] == "ID")).sum() == 1
    assert result.counts["ids_filled"] == 1


def test_customer_scores(synced) -> None:
    path, _ = synced
    c = _cells(path, "Contacts").set_index("ID")
    assert list(c.loc["P-0003", ["NESL", "Frequency", "Monetary", "Recency"]]) == ["E", 2, 2000, 12]
    assert c.loc["P-0003", "Last Purchase"] == dt.datetime(2026, 11, 10)
    assert c.loc["P-0002", "NESL"] == "L" and c.loc["P-0002", "Lifecycle"] == Lifecycle.DIVORCE.value
    assert list(c.loc["P-0001", ["NESL", "Segment", "Tier", "Lifecycle"]]) == [
        NESL.N.value,
        Segment.PROSPECT.value,
        Tier.POTENTIAL.value,
        Lifecycle.RECRUIT.value,
    ]
    assert c["R"].isna()["P-0001"]
    companies = _cells(path, "Companies").set_index("ID")
    assert companies.loc["CO-0002", "Monetary"] == 30000 and companies.loc["CO-0002", "NESL"] == "L"


def test_second_sync_plans_nothing_and_does_not_rewrite(synced) -> None:
    path, _ = synced
    before = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    result = sheetcrm.open(path).sync(as_of=AS_OF)
    assert result.changes.empty, result.changes.to_string()
    assert result.report is None
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


def test_people_cells_survive_a_sync(make_workbook, small_crm) -> None:
    small_crm[Tab.CONTACTS][0]["My notes"] = "=1+1 is text here"
    path = make_workbook(small_crm)
    wb = openpyxl.load_workbook(path)
    ws = wb["Contacts"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("Title") + 1, value='=UPPER("cto")')
    ws.cell(row=3, column=header.index("Name") + 1).comment = Comment("met at Computex", "amy")
    ws.cell(row=4, column=header.index("Created") + 1, value=dt.date(2026, 1, 2)).number_format = "dd/mm/yyyy"
    wb.save(path)
    people = [c.key for c in CONTACTS.people_columns if c.key != "ID"] + ["My notes"]
    before = _cells(path, "Contacts")[[c for c in people if c in header or c == "My notes"]]
    sheetcrm.open(path).sync(as_of=AS_OF)
    after_wb = openpyxl.load_workbook(path)
    after = _cells(path, "Contacts")[before.columns]
    pd.testing.assert_frame_equal(before, after)
    ws = after_wb["Contacts"]
    assert ws.cell(row=2, column=header.index("Title") + 1).value == '=UPPER("cto")'
    comment = ws.cell(row=3, column=header.index("Name") + 1).comment
    assert comment is not None and comment.text == "met at Computex"
    assert ws.cell(row=4, column=header.index("Created") + 1).number_format == "dd/mm/yyyy"


def test_a_persons_backward_move_is_respected(synced) -> None:
    path, _ = synced
    wb = openpyxl.load_workbook(path)
    ws = wb["Opportunities"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("Stage") + 1, value="Qualified")
    wb.save(path)
    result = sheetcrm.open(path).sync(as_of=AS_OF)
    assert result.counts["person_changes"] == 1 and result.counts["stage_moves"] == 0
    opps = _cells(path, "Opportunities").set_index("ID")
    assert opps.loc["OP-0001", "Stage"] == "Qualified"
    assert opps.loc["OP-0001", "Stage Seen"] == "Qualified"
    log = _cells(path, "Log")
    noticed = log[(log["ID"] == "OP-0001") & log["Reason"].str.contains("person", na=False)]
    assert noticed[["Old", "New"]].values.tolist() == [["Proposal", "Qualified"]]
    again = sheetcrm.open(path).sync(as_of=AS_OF)
    assert again.changes.empty


def test_dry_run_writes_nothing(make_workbook, small_crm) -> None:
    path = make_workbook(small_crm)
    before = path.read_bytes()
    result = sheetcrm.open(path).sync(as_of=AS_OF, dry_run=True)
    assert path.read_bytes() == before
    assert len(result.changes) > 0 and result.report is None
    assert set(result.changes.columns) >= {"tab", "row", "id", "column", "old", "new", "kind"}


def test_computed_columns_missing_from_a_tab_are_added_to_the_right(tmp_path: Path) -> None:
    path = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    tabs: dict[str, list[list[object]]] = {
        "Companies": [["ID", "Name"], ["CO-1", "Acme"]],
        "Contacts": [["ID", "Name", "Notes"], ["P-1", "Amy", "vip"]],
        "Opportunities": [["ID", "Name", "Stage"], ["OP-1", "Deal", "Lead"]],
        "Activities": [
            ["ID", "Date", "Type", "Contact ID", "Amount"],
            ["A-1", dt.date(2026, 11, 1), "Purchase", "P-1", 500],
        ],
    }
    for title, rows in tabs.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.remove(wb["Sheet"])
    wb.save(path)
    sheetcrm.open(path).sync(as_of=AS_OF)
    contacts = _cells(path, "Contacts")
    assert list(contacts.columns[:3]) == ["ID", "Name", "Notes"]
    assert {"R", "F", "M", "NESL", "Segment"} <= set(contacts.columns)
    assert contacts.loc[0, "NESL"] == "E" and contacts.loc[0, "Notes"] == "vip"
    assert "Log" in openpyxl.load_workbook(path).sheetnames


def test_stage_edited_after_read_is_not_overwritten(make_workbook, small_crm) -> None:
    path = make_workbook(small_crm)
    book = sheetcrm.open(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Opportunities"]
    header = [c.value for c in ws[1]]
    ws.cell(row=2, column=header.index("Stage") + 1, value="Lost")
    wb.save(path)
    result = book.sync(as_of=AS_OF)
    assert result.report is not None and any(s["column"] == "Stage" for s in result.report.skipped)
    assert _cells(path, "Opportunities").loc[0, "Stage"] == "Lost"


def test_chinese_workbook_gets_chinese_labels(make_workbook, small_crm) -> None:
    path = make_workbook(small_crm, Lang.ZH_TW)
    wb = openpyxl.load_workbook(path)
    for row in wb["設定"].iter_rows(min_row=2):
        assert row[0].value != "language" or row[1].value == "zh-TW"
    sheetcrm.open(path).sync(as_of=AS_OF)
    opps = _cells(path, "機會").set_index("編號")
    assert opps.loc["OP-0001", "階段"] == Stage.PROPOSAL.zh
    contacts = _cells(path, "連絡人").set_index("編號")
    assert contacts.loc["P-0003", "顧客關係"] == NESL.E.zh


def test_problems_column_lists_each_rows_problems(make_workbook, small_crm) -> None:
    small_crm[Tab.CONTACTS][1]["Email"] = "john@"
    path = make_workbook(small_crm)
    sheetcrm.open(path).sync(as_of=AS_OF)
    contacts = _cells(path, "Contacts").set_index("ID")
    assert "Email" in str(contacts.loc["P-0002", "Problems"]) and contacts["Problems"].isna()["P-0001"]
    assert contacts.loc["P-0002", "Email"] == "john@"


def test_compute_leaves_the_bound_tables_as_they_were(make_workbook, small_crm) -> None:
    # compute only copies a frame that takes new IDs; every later step must only read
    small_crm[Tab.CONTACTS].append({"ID": None, "Name": "New Person", "Email": "new@example.com"})
    workbook = sheetcrm.open(make_workbook(small_crm))
    before = {tab: table.typed.copy() for tab, table in workbook.tables.items()}
    result = workbook.sync(as_of=AS_OF, dry_run=True)
    assert result.counts["ids_filled"] == 1
    for tab, table in workbook.tables.items():
        pd.testing.assert_frame_equal(table.typed, before[tab])
