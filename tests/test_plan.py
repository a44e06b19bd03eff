"""The plan step: which cells a sync writes (only those whose value changes), the IDs it
fills, and the Log rows a backend writes once it knows what it skipped."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from sheetcrm.backends.base import (
    LOG_IDS,
    LOG_SUMMARY,
    ChangeKind,
    WritePlan,
    because,
    empty_cells,
    id_fill_entries,
    log_entry,
    reconcile_log,
    skip_reason,
)
from sheetcrm.backends.memory import MemoryBackend
from sheetcrm.engine.compute import compute, fill_ids
from sheetcrm.engine.plan import Plan, plan
from sheetcrm.i18n import N_
from sheetcrm.schema import LogField, Tab
from sheetcrm.workbook import Workbook
from tests.helpers import AS_OF

NOW = dt.datetime(2026, 11, 22, 9, 30)


def _workbook(probability: Any = None, contact_ids: tuple[Any, ...] = ("P-0001",)) -> Workbook:
    """One company, its contacts, one open Lead deal (10% by the default Settings) whose
    Probability cell holds ``probability``, and one purchase."""
    return Workbook(
        MemoryBackend.from_rows(
            {
                Tab.COMPANIES: (["ID", "Name"], [["CO-0001", "Acme"]]),
                Tab.CONTACTS: (["ID", "Name"], [[cid, f"Person {i}"] for i, cid in enumerate(contact_ids)]),
                Tab.OPPORTUNITIES: (
                    ["ID", "Name", "Stage", "Amount", "Probability"],
                    [["OP-0001", "Deal", "Lead", 1000, probability]],
                ),
                Tab.ACTIVITIES: (
                    ["ID", "Date", "Type", "Contact ID", "Amount"],
                    [["A-00001", dt.date(2026, 11, 1), "Purchase", "P-0001", 500]],
                ),
            }
        )
    )


def _plan(wb: Workbook) -> Plan:
    computed = compute(wb.tables, wb.settings, AS_OF, wb.validate())
    return plan(wb.tables, computed, wb.settings, AS_OF, "run-1", NOW)


def _planned(result: Plan, column: str) -> pd.DataFrame:
    cells = result.write.cells
    return cells[cells["column"] == column]


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (0.1, False),  # already shows the value
        (0.1000000001, False),  # float noise is no change
        ("0.1", False),  # typed as text, reads as the same number
        (None, True),
        (0.5, True),
        ("garbage", True),  # a cell that does not parse never shows the new value
    ],
)
def test_a_computed_cell_is_written_only_when_its_value_changes(cell: Any, written: bool) -> None:
    probability = _planned(_plan(_workbook(cell)), "Probability")
    assert len(probability) == int(written)
    if written:
        assert probability.iloc[0][["old", "new", "kind"]].tolist() == [cell, 0.1, ChangeKind.COMPUTED]


def test_a_second_plan_after_writing_plans_nothing() -> None:
    wb = _workbook()
    wb.backend.write(_plan(wb).write)
    wb.reload()
    again = _plan(wb)
    assert again.write.cells.empty and again.write.empty


def test_a_missing_id_is_filled_first_and_logged_about_the_id() -> None:
    result = _plan(_workbook(contact_ids=("P-0001", None)))
    cells = result.write.cells
    assert cells.iloc[0][["title", "row", "column", "new", "cas", "kind"]].tolist() == [
        "Contacts",
        3,
        "ID",
        "P-0002",
        True,
        ChangeKind.ID,
    ]
    # The record's computed cells are aimed at it by the ID being filled.
    assert set(cells.loc[cells["row"] == 3, "record_id"]) == {"P-0002"}
    first = result.write.log[0]
    assert first == log_entry(NOW, "run-1", "Contacts", "P-0002", "ID", "", "P-0002", "filled a missing ID", about="ID")
    # One summary row follows the change rows (notices such as an unfitted P(alive) come after it).
    summaries = [r for r in result.write.log if str(r[LogField.REASON]).startswith("sync as of ")]
    assert len(summaries) == 1
    assert summaries[0][LogField.REASON].startswith("sync as of 2026-11-22: 1 ID(s) filled")


def test_a_run_of_filled_ids_is_one_log_row_and_one_change_each() -> None:
    result = _plan(_workbook(contact_ids=("P-0001", None, None, None)))
    first = result.write.log[0]
    assert [first[LogField.ID], first[LogField.NEW], first[LogField.REASON]] == [
        "P-0002 – P-0004",
        "P-0002 – P-0004",
        "filled 3 missing IDs",
    ]
    assert first[LOG_IDS] == ["P-0002", "P-0003", "P-0004"]
    filled = result.log_changes[result.log_changes["Column"] == "ID"]
    assert filled["New"].tolist() == ["P-0002", "P-0003", "P-0004"]


@pytest.mark.parametrize(
    ("ids", "rows"),
    [
        (["P-0001"], [("P-0001", "filled a missing ID")]),
        (["P-0009", "P-0010"], [("P-0009 – P-0010", "filled 2 missing IDs")]),
        (
            ["P-0001", "P-0003", "P-0004"],
            [("P-0001", "filled a missing ID"), ("P-0003 – P-0004", "filled 2 missing IDs")],
        ),
        (["P-0001", "Q-0002"], [("P-0001", "filled a missing ID"), ("Q-0002", "filled a missing ID")]),
        (["P-0002", "P-0001"], [("P-0002", "filled a missing ID"), ("P-0001", "filled a missing ID")]),
        ([], []),
    ],
)
def test_id_fill_entries_make_one_row_per_run_of_consecutive_numbers(
    ids: list[str], rows: list[tuple[str, str]]
) -> None:
    template = log_entry(NOW, "r", "Contacts", "", "ID", "", "", "filled a missing ID", about="ID")
    entries = id_fill_entries(template, ids, "en")
    assert [(e[LogField.ID], e[LogField.REASON]) for e in entries] == rows
    assert all(e[LogField.NEW] == e[LogField.ID] for e in entries)


def test_id_fill_entries_speak_the_workbooks_language() -> None:
    template = log_entry(NOW, "r", "連絡人", "", "編號", "", "", "補上缺少的編號", about="ID")
    (entry,) = id_fill_entries(template, ["P-0001", "P-0002"], "zh-TW")
    assert entry[LogField.REASON] == "補上 2 個缺少的編號"


@pytest.mark.parametrize(
    ("ids", "filled"),
    [
        (["P-0040", None, "P-0007"], {1: "P-0041"}),
        ([None, None], {0: "P-0001", 1: "P-0002"}),
        (["P-00099", None], {1: "P-00100"}),  # as wide as the widest used
        (["not an id", None], {1: "P-0001"}),  # other text is kept, never renumbered
        (["P-0001", "P-0002"], {}),
    ],
)
def test_fill_ids(ids: list[Any], filled: dict[int, str]) -> None:
    wb = _workbook(contact_ids=tuple(ids))
    new = fill_ids(wb.tables[Tab.CONTACTS])
    pd.testing.assert_series_equal(
        new, pd.Series(filled, dtype=object, index=pd.Index(list(filled), dtype="int64")), check_index_type=False
    )


# ------------------------------------------------------------------ Log reconciliation


def _log_plan() -> WritePlan:
    return WritePlan(
        empty_cells(),
        log=[
            log_entry(NOW, "r", "Contacts", "P-0005", "ID", "", "P-0005", "filled a missing ID", about="ID"),
            log_entry(NOW, "r", "Opportunities", "OP-0001", "Stage", "Lead", "Won", "Order A-1", about="Stage"),
            log_entry(NOW, "r", "Opportunities", "OP-0002", "Stage", "Won", "Lost", "changed by a person"),
            log_entry(NOW, "r", "Contacts", "P-0009", "ID", "", "P-0009", "added from leads.csv", about="ID"),
            log_entry(NOW, "r", reason="sync as of 2026-11-22"),
        ],
    )


def _skip(tab: str, rid: str, column: str, reason: str, kind: ChangeKind | None = None) -> dict[str, Any]:
    return {"tab": tab, "row": 2, "column": column, "id": rid, "reason": reason, **({"kind": kind} if kind else {})}


def test_reconcile_log_without_skips_encodes_the_rows_in_column_order() -> None:
    rows = reconcile_log(_log_plan(), [])
    assert rows[0] == [NOW, "r", "Contacts", "P-0005", "ID", "", "P-0005", "filled a missing ID"]
    assert rows[-1] == [NOW, "r", "", "", "", "", "", "sync as of 2026-11-22"]
    assert len(rows) == 5


def test_reconcile_log_says_why_each_skipped_change_did_not_happen() -> None:
    skipped = [
        _skip("Contacts", "P-0005", "ID", "the row without an ID was edited"),
        _skip("Opportunities", "OP-0001", "Stage", "Stage changed to 'Lost' since it was read"),
        _skip("Opportunities", "OP-0001", "Weighted Amount", "its record is gone"),
        _skip("Contacts", "P-0009", "ID", "the ID P-0009 was taken by a person meanwhile", ChangeKind.APPEND),
    ]
    rows = reconcile_log(_log_plan(), skipped)
    assert [r[6:] for r in rows] == [
        ["", "not changed: the row without an ID was edited"],
        ["", "not changed: Stage changed to 'Lost' since it was read"],
        ["Lost", "changed by a person"],  # about no planned write: kept
        ["", "not added: the ID P-0009 was taken by a person meanwhile"],
        ["", "sync as of 2026-11-22; 4 cell(s) skipped because the sheet changed meanwhile"],
    ]
    assert [r[:6] for r in rows] == [r[:6] for r in reconcile_log(_log_plan(), [])]


def test_reconcile_log_matches_the_record_and_the_column() -> None:
    # Both the ID fill and the Stage move of one new record were skipped: both rows say so.
    plan_ = WritePlan(
        empty_cells(),
        log=[
            log_entry(NOW, "r", "Opportunities", "OP-0003", "ID", "", "OP-0003", "filled", about="ID"),
            log_entry(NOW, "r", "Opportunities", "OP-0003", "Stage", "Lead", "Won", "Order", about="Stage"),
            log_entry(NOW, "r", reason="sync"),
        ],
    )
    skipped = [
        _skip("Opportunities", "OP-0003", "ID", "edited"),
        _skip("Opportunities", "OP-0003", "Stage", "row now holds ID ''"),
    ]
    assert [r[7] for r in reconcile_log(plan_, skipped)[:2]] == [
        "not changed: edited",
        "not changed: row now holds ID ''",
    ]
    assert reconcile_log(WritePlan(empty_cells()), skipped) == []


def test_reconcile_log_counts_the_skips_in_the_summary_not_in_a_notice_after_it() -> None:
    plan_ = WritePlan(
        empty_cells(),
        log=[
            log_entry(NOW, "r", "Contacts", "P-0005", "ID", "", "P-0005", "filled a missing ID", about="ID"),
            {**log_entry(NOW, "r", reason="sync as of 2026-11-22"), LOG_SUMMARY: True},
            log_entry(NOW, "r", "Contacts", reason="P(alive) not fitted"),
        ],
    )
    rows = reconcile_log(plan_, [_skip("Contacts", "P-0005", "ID", "edited")])
    assert [r[7] for r in rows] == [
        "not changed: edited",
        "sync as of 2026-11-22; 1 cell(s) skipped because the sheet changed meanwhile",
        "P(alive) not fitted",
    ]


def test_reconcile_log_splits_a_run_of_fills_around_the_skipped_ones() -> None:
    template = log_entry(NOW, "r", "Contacts", "", "ID", "", "", "filled a missing ID", about="ID")
    ids = ["P-0001", "P-0002", "P-0003", "P-0004", "P-0005"]
    plan_ = WritePlan(empty_cells(), log=[*id_fill_entries(template, ids, "en"), log_entry(NOW, "r", reason="sync")])
    rows = reconcile_log(plan_, [_skip("Contacts", "P-0003", "ID", "edited")])
    assert [r[3:] for r in rows[:-1]] == [
        ["P-0001 – P-0002", "ID", "", "P-0001 – P-0002", "filled 2 missing IDs"],
        ["P-0004 – P-0005", "ID", "", "P-0004 – P-0005", "filled 2 missing IDs"],
        ["P-0003", "ID", "", "", "not changed: edited"],
    ]
    assert reconcile_log(plan_, [_skip("Contacts", "P-0009", "ID", "edited")])[0][3] == "P-0001 – P-0005"


@pytest.mark.parametrize(
    "lang,stage_row,taken_row,summary",
    [
        (
            "en",
            "not changed: cell changed to 'Lost' since it was read",
            "not added: the ID P-0009 was taken by a person meanwhile",
            "sync as of 2026-11-22; 2 cell(s) skipped",
        ),
        (
            "zh-TW",
            "未變更：讀取後此格已改為 'Lost'",
            "未新增：編號 P-0009 在這段期間已被人使用",
            "sync as of 2026-11-22；2 格因工作表同時被修改而略過",
        ),
    ],
)
def test_a_skipped_change_is_told_in_the_workbooks_language_in_its_log(
    lang: str, stage_row: str, taken_row: str, summary: str
) -> None:
    plan_ = _log_plan()
    plan_.language = lang
    stage = skip_reason(ChangeKind.STAGE, 0, "OP-0001", "OP-0001", True, "Lost", "Proposal")
    assert stage == "cell changed to 'Lost' since it was read"  # what the backends report stays English
    taken = because(N_("the ID {id} was taken by a person meanwhile"), id="P-0009")
    skipped = [
        _skip("Opportunities", "OP-0001", "Stage", stage),
        _skip("Contacts", "P-0009", "ID", taken, ChangeKind.APPEND),
    ]
    rows = reconcile_log(plan_, skipped)
    assert (rows[1][7], rows[3][7]) == (stage_row, taken_row)
    assert rows[-1][7].startswith(summary)
