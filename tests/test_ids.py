"""An ID is never issued twice: not after the record with the highest ID is deleted."""

from __future__ import annotations

import pandas as pd
import pytest

from sheetcrm.backends.memory import MemoryBackend
from sheetcrm.engine.ids import next_ids
from sheetcrm.schema import Tab
from sheetcrm.workbook import Workbook

LOG_HEADER = ["Time", "Run", "Tab", "ID", "Column", "Old", "New", "Reason"]


def _workbook(log: list[list[object]]) -> Workbook:
    return Workbook(
        MemoryBackend.from_rows(
            {
                Tab.COMPANIES: (["ID", "Name"], [["CO-0001", "A"], ["CO-0002", "B"], [None, "New shop"]]),
                Tab.CONTACTS: (["ID", "Company ID", "Name"], [["P-0001", "CO-0003", "Old friend"]]),
                Tab.OPPORTUNITIES: (["ID", "Name"], []),
                Tab.ACTIVITIES: (["ID", "Date", "Type"], []),
                Tab.LOG: (LOG_HEADER, log),
            }
        )
    )


def test_a_deleted_records_id_is_not_given_to_a_new_row() -> None:
    # CO-0003 was filled by an earlier sync, then its row was deleted; CO-0004 was issued too.
    log: list[list[object]] = [
        ["2026-03-01 10:00", "r1", "Companies", "CO-0004", "ID", "", "CO-0004", "filled a missing ID"]
    ]
    wb = _workbook(log)
    result = wb.sync(as_of="2026-03-31")
    new = result.changes[result.changes["column"] == "ID"]["new"].tolist()
    assert new == ["CO-0005"]


@pytest.mark.parametrize(
    ("logged", "new"),
    [
        (["CO-0004 – CO-0120", "CO-0004 – CO-0120"], "CO-0121"),  # a run of fills is one Log row
        (["CO-0004 – CO-0120", ""], "CO-0004"),  # a run that was not made issued nothing
    ],
)
def test_the_last_id_of_a_logged_run_of_fills_is_never_given_again(logged: list[str], new: str) -> None:
    log: list[list[object]] = [["2026-03-01 10:00", "r1", "Companies", logged[0], "ID", "", logged[1], "filled"]]
    result = _workbook(log).sync(as_of="2026-03-31")
    assert result.changes[result.changes["column"] == "ID"]["new"].tolist() == [new]


def test_a_reference_to_a_deleted_record_stays_dangling_and_is_reported() -> None:
    wb = _workbook([])
    problems = wb.validate("en")
    dangling = problems[problems["tab"] == "Contacts"]
    assert dangling["problem"].str.contains("CO-0003 matches no ID in the Companies tab").all()
    result = wb.sync(as_of="2026-03-31")
    # Without the Log, the reference itself keeps CO-0003 from being reissued.
    assert result.changes[result.changes["column"] == "ID"]["new"].tolist() == ["CO-0004"]
    assert wb.contacts["Company ID"].tolist() == ["CO-0003"]


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ([" CO-0009 ", "CO-12x", "XCO-50", None, 7.0], ["CO-0010"]),
        (["CO-0009", "CO-٣٣"], ["CO-0034"]),  # any decimal digits count, as \d matches them
        (["CO-0009", "CO-²"], ["CO-0010"]),  # a superscript is not a decimal digit
        (["CO-0009", "CO-" + "1" * 70], ["CO-" + "1" * 69 + "2"]),  # longer than an ID usually is
        (["CO-00001", "CO-0002"], ["CO-00003"]),
        ([], ["CO-0001"]),
    ],
)
def test_next_ids_continue_after_the_highest_number_in_use(existing: list[object], expected: list[str]) -> None:
    assert next_ids(pd.Series(existing, dtype=object), "CO-", 1) == expected
