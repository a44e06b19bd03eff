"""Linking references typed as an ID, a name, an email or a phone."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from sheetcrm.backends.memory import MemoryBackend
from sheetcrm.schema import Tab
from sheetcrm.workbook import Workbook

COMPANIES = (
    ["ID", "Name"],
    [["CO-0001", "台灣好物股份有限公司"], ["CO-0002", "山海商行"], ["CO-0003", "Harbor Logistics Ltd."]],
)
CONTACTS = (
    ["ID", "Company", "Name", "Mobile", "Phone", "Email"],
    [
        ["P-0001", "台灣好物", "王小明", "0912-345-678", None, "ming@example.com"],
        ["P-0002", "山海商行", "陳美玲", None, "02-2345-6789", None],
        ["P-0003", "山海商行", "王小明", None, None, None],
    ],
)


def _workbook(activities: list[list[Any]], header: list[str] | None = None) -> Workbook:
    backend = MemoryBackend.from_rows(
        {
            Tab.COMPANIES: COMPANIES,
            Tab.CONTACTS: CONTACTS,
            Tab.OPPORTUNITIES: (["ID", "Name", "Company", "Stage"], [["OP-0001", "年度採購", "台灣好物", "Lead"]]),
            Tab.ACTIVITIES: (header or ["ID", "Date", "Type", "Customer", "Company"], activities),
        }
    )
    return Workbook(backend)


def _problems(wb: Workbook) -> pd.DataFrame:
    p = wb.validate("en")
    return p[p["tab"] == "Activities"]


@pytest.mark.parametrize(
    ("customer", "company", "linked", "how"),
    [
        ("P-0002", None, "P-0002", None),
        ("陳美玲", None, "P-0002", "matched 陳美玲 by name (P-0002)"),
        ("  陳美玲 ", None, "P-0002", "by name"),
        ("MING@Example.com", None, "P-0001", "by email"),
        ("+886 912 345 678", None, "P-0001", "by phone"),
        ("(02) 2345-6789", None, "P-0002", "by phone"),
        ("王小明", "山海商行", "P-0003", "by name (P-0003)"),  # narrowed by the row's company
        ("王小明", "台灣好物股份有限公司", "P-0001", "by name (P-0001)"),
    ],
)
def test_a_unique_match_links_and_says_how(customer: str, company: str | None, linked: str, how: str | None) -> None:
    wb = _workbook([["A-1", "2026-03-05", "Call", customer, company]])
    assert wb.activities["Contact ID"].tolist() == [linked]
    notes = _problems(wb)
    mine = notes[notes["column"].str.startswith("Customer")]
    if how is None:
        assert mine.empty
    else:
        assert mine["severity"].tolist() == ["note"] and how in mine["problem"].iloc[0]


def test_companies_link_by_their_folded_name() -> None:
    wb = _workbook([["A-1", "2026-03-05", "Call", None, "harbor logistics"]])
    assert wb.activities["Company ID"].tolist() == ["CO-0003"]
    assert wb.contacts["Company ID"].tolist() == ["CO-0001", "CO-0002", "CO-0002"]


@pytest.mark.parametrize(
    ("customer", "expected"),
    [
        ("王小明", "王小明 could be any of P-0001 王小明, P-0003 王小明; write the ID of the one you mean"),
        ("陳美鈴", "陳美鈴 matches no ID or name in the Contacts tab; did you mean 陳美玲?"),
        ("P-0099", "P-0099 matches no ID in the Contacts tab (a deleted record?)"),
    ],
)
def test_ambiguous_unknown_and_dangling_references_are_errors(customer: str, expected: str) -> None:
    wb = _workbook([["A-1", "2026-03-05", "Call", customer, None]])
    problems = _problems(wb)
    row = problems[problems["column"].str.startswith("Customer")].iloc[0]
    assert row["severity"] == "error" and row["problem"].startswith(expected)
    assert wb.activities["Contact ID"].tolist() == [customer]  # the person's text, linking nothing


def test_the_persons_cell_is_never_rewritten() -> None:
    wb = _workbook([["A-1", "2026-03-05", "Call", "陳美玲", None]])
    result = wb.sync(as_of="2026-03-31")
    assert not (result.changes["column"] == "Contact ID").any()
    assert wb.backend.tabs[Tab.ACTIVITIES].rows[0][3] == "陳美玲"  # type: ignore[attr-defined]
