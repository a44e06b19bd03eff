"""Aiming planned writes at the row where each record is now: the Google backend's
``retarget`` (rows re-read right before writing) and the row checks the .xlsx and memory
backends apply (``skip_reason``)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from sheetcrm.backends.base import PLAN_COLUMNS, ChangeKind, skip_reason
from sheetcrm.backends.gsheets import retarget
from sheetcrm.exceptions import Worded
from sheetcrm.schema import Tab

TITLE = "Contacts"
#: Contacts as read: ID in column 0, Name in 1, Stage in 2; rows 2, 3 and 4.
READ: list[list[Any]] = [["P-1", "Amy", "Lead"], ["P-2", "Bob", "Lead"], [None, "Cy", "Lead"]]


def _cells(*changes: dict[str, Any]) -> pd.DataFrame:
    base = {"tab": Tab.CONTACTS, "title": TITLE, "id_col": 0, "cas": False, "kind": ChangeKind.COMPUTED}
    return pd.DataFrame([{**base, **c} for c in changes], columns=PLAN_COLUMNS)


def _score(row: int, rid: str, new: Any = 5) -> dict[str, Any]:
    return {"row": row, "col": 3, "record_id": rid, "column": "Score", "old": None, "new": new}


def _stage(row: int, rid: str, old: str = "Lead", new: str = "Won") -> dict[str, Any]:
    return {
        "row": row,
        "col": 2,
        "record_id": rid,
        "column": "Stage",
        "old": old,
        "new": new,
        "cas": True,
        "kind": ChangeKind.STAGE,
    }


def _fill(row: int, new_id: str) -> dict[str, Any]:
    return {
        "row": row,
        "col": 0,
        "record_id": new_id,
        "column": "ID",
        "old": None,
        "new": new_id,
        "cas": True,
        "kind": ChangeKind.ID,
    }


def _aimed(targets: pd.DataFrame) -> list[tuple[str, str, int]]:
    return sorted(zip(targets["record_id"], targets["column"], targets["row"].astype(int), strict=True))


def _skips(skipped: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {(s["id"], s["column"]): s["reason"] for s in skipped}


def test_writes_follow_a_record_that_moved() -> None:
    # A person inserted a row above Bob: his ID is now on row 4, Amy's still on row 2.
    now_ids = ["P-1", "new person", "P-2", None]
    targets, skipped = retarget(_cells(_score(2, "P-1"), _score(3, "P-2")), {TITLE: {0: now_ids}}, {TITLE: READ})
    assert _aimed(targets) == [("P-1", "Score", 2), ("P-2", "Score", 4)]
    assert skipped == []


@pytest.mark.parametrize(
    ("now_ids", "reason"),
    [
        (["P-1", None, None], "its record is gone"),
        (["P-1", "P-2", "P-2"], "its ID is now on 2 rows"),
    ],
)
def test_a_record_gone_or_doubled_gets_nothing(now_ids: list[Any], reason: str) -> None:
    targets, skipped = retarget(_cells(_score(2, "P-1"), _score(3, "P-2")), {TITLE: {0: now_ids}}, {TITLE: READ})
    assert _aimed(targets) == [("P-1", "Score", 2)]
    assert _skips(skipped) == {("P-2", "Score"): reason}


def test_a_stage_changed_since_the_read_holds_back_the_whole_record() -> None:
    # The cells computed from the planned move would be wrong too.
    reread = {TITLE: {0: ["P-1", "P-2", None], 2: ["Lost", "Lead", "Lead"]}}
    cells = _cells(_stage(2, "P-1"), _score(2, "P-1"), _stage(3, "P-2"))
    targets, skipped = retarget(cells, reread, {TITLE: READ})
    assert _aimed(targets) == [("P-2", "Stage", 3)]
    assert set(_skips(skipped)) == {("P-1", "Stage"), ("P-1", "Score")}
    assert "Stage changed to 'Lost'" in _skips(skipped)[("P-1", "Score")]


def test_the_column_a_person_changed_is_named_in_the_logs_language() -> None:
    reread = {TITLE: {0: ["OP-1"], 2: ["Lost"]}}
    cells = _cells(_stage(2, "OP-1")).assign(tab=Tab.OPPORTUNITIES)
    _, skipped = retarget(cells, reread, {TITLE: [["OP-1", "Deal", "Lead"]]})
    reason = _skips(skipped)[("OP-1", "Stage")]
    assert reason == "Stage changed to 'Lost' since it was read"
    assert isinstance(reason, Worded)
    assert reason.in_language("zh-TW") == "讀取後「階段」已改為 'Lost'"


@pytest.mark.parametrize(
    ("row_now", "now_ids", "aimed", "reason"),
    [
        # The row without an ID holds what was read: the ID and the record's cells land there.
        ([None, "Cy", "Lead"], ["P-1", "P-2", None], [("P-3", "ID", 4), ("P-3", "Score", 4)], None),
        # Someone typed in that row meanwhile: nothing is written to it.
        (
            [None, "Cy Chen", "Lead"],
            ["P-1", "P-2", None],
            [],
            "the row without an ID was edited or moved since it was read",
        ),
        # Someone gave another row the ID sheetcrm was about to fill.
        ([None, "Cy", "Lead"], ["P-1", "P-2", None, "P-3"], [], "the ID P-3 is now used on row 5"),
    ],
)
def test_a_missing_id_is_filled_only_where_the_row_is_as_read(
    row_now: list[Any], now_ids: list[Any], aimed: list[tuple[str, str, int]], reason: str | None
) -> None:
    reread = {TITLE: {0: now_ids, -1: {4: row_now}}}
    targets, skipped = retarget(_cells(_fill(4, "P-3"), _score(4, "P-3")), reread, {TITLE: READ})
    assert _aimed(targets) == aimed
    assert set(_skips(skipped).values()) == ({reason} if reason else set())


def test_a_tab_without_an_id_column_is_written_as_planned() -> None:
    cells = _cells({**_score(7, ""), "id_col": -1})
    targets, skipped = retarget(cells, {}, {})
    assert _aimed(targets) == [("", "Score", 7)] and skipped == []


@pytest.mark.parametrize(
    ("kind", "held_id", "cas", "current", "old", "reason"),
    [
        (ChangeKind.COMPUTED, "P-1", False, "x", "y", None),  # computed cells overwrite
        (ChangeKind.COMPUTED, "P-9", False, None, None, "row now holds ID 'P-9', not 'P-1'"),
        (ChangeKind.COMPUTED, 1.0, False, None, None, None),  # 1.0 and "1" are the same ID
        (ChangeKind.STAGE, "P-1", True, "Lead ", "Lead", None),  # surrounding spaces do not count
        (ChangeKind.STAGE, "P-1", True, "Lost", "Lead", "cell changed to 'Lost' since it was read"),
        (ChangeKind.STAGE, "P-1", True, "=A1", "=A1", "cell holds a formula"),
        (ChangeKind.ID, "", True, None, None, None),  # a fill is checked by its cell, not the ID
        (ChangeKind.ID, "", True, "P-7", None, "cell changed to 'P-7' since it was read"),
    ],
)
def test_skip_reason(kind: ChangeKind, held_id: Any, cas: bool, current: Any, old: Any, reason: str | None) -> None:
    record = "1" if held_id == 1.0 else "P-1"
    assert skip_reason(kind, 0, held_id, record, cas, current, old) == reason
