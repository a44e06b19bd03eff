from __future__ import annotations

import pandas as pd

from sheetcrm.backends.base import PLAN_COLUMNS, RawTab, WritePlan
from sheetcrm.backends.memory import MemoryBackend
from sheetcrm.schema import Tab


def test_memory_backend_applies_the_same_row_and_compare_and_set_checks() -> None:
    backend = MemoryBackend(
        {
            Tab.CONTACTS: RawTab(
                Tab.CONTACTS, "Contacts", ["ID", "Name", "Stage"], [["P-1", "Amy", "Lead"], ["P-2", "Bob", "Lead"]]
            )
        }
    )
    base = {"tab": Tab.CONTACTS, "title": "Contacts", "id_col": 0}
    cells = pd.DataFrame(
        [
            {
                **base,
                "row": 2,
                "col": 2,
                "record_id": "P-1",
                "column": "Stage",
                "old": "Lead",
                "new": "Won",
                "cas": True,
                "kind": "stage",
            },
            {
                **base,
                "row": 3,
                "col": 2,
                "record_id": "P-2",
                "column": "Stage",
                "old": "Qualified",
                "new": "Won",
                "cas": True,
                "kind": "stage",
            },
            {
                **base,
                "row": 2,
                "col": 1,
                "record_id": "P-9",
                "column": "Name",
                "old": "Amy",
                "new": "x",
                "cas": False,
                "kind": "computed",
            },
        ],
        columns=PLAN_COLUMNS,
    )
    report = backend.write(WritePlan(cells))
    assert report.written == 1
    assert [(s["tab"], s["id"]) for s in report.skipped] == [("Contacts", "P-2"), ("Contacts", "P-9")]
    assert "changed to 'Lead'" in report.skipped[0]["reason"] and "P-1" in report.skipped[1]["reason"]
    assert backend.tabs[Tab.CONTACTS].rows == [["P-1", "Amy", "Won"], ["P-2", "Bob", "Lead"]]
