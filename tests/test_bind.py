"""Binding raw tabs: ragged rows as columns, and the IDs issued once for linking and compute."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from sheetcrm.backends.base import RawTab
from sheetcrm.backends.memory import MemoryBackend
from sheetcrm.cells.parse import ParseOptions
from sheetcrm.engine.bind import ROW, bind, bind_all, bind_tabs
from sheetcrm.engine.compute import compute
from sheetcrm.engine.ids import issue_ids
from sheetcrm.engine.validate import validate_tables
from sheetcrm.schema import Tab

AS_OF = dt.date(2026, 3, 31)


@pytest.mark.parametrize(
    "blank",
    [None, float("nan"), pd.NaT, pd.NA],
)
def test_ragged_rows_become_columns_with_blanks_as_none(blank: object) -> None:
    rows: list[list[object]] = [
        ["P-1", "Amy", "amy@example.com"],
        ["P-2"],
        [blank, "Bob", blank, "ignored: no header"],
        [],
        ["P-4", ("a", "tuple"), 7],
    ]
    table = bind(RawTab(Tab.CONTACTS, "Contacts", ["ID", "Name", "Email"], rows), Tab.CONTACTS, ParseOptions())
    expected = pd.DataFrame(
        {
            "ID": ["P-1", "P-2", None, "P-4"],
            "Name": ["Amy", None, "Bob", ("a", "tuple")],
            "Email": ["amy@example.com", None, None, 7],
            ROW: [2, 3, 4, 6],
        },
        dtype=object,
    ).astype({ROW: "int64"})
    pd.testing.assert_frame_equal(table.raw, expected)
    assert not any(isinstance(v, float) and math.isnan(v) for v in table.raw["Email"])


def _raw() -> dict[Tab, RawTab]:
    backend = MemoryBackend.from_rows(
        {
            Tab.COMPANIES: (["ID", "Name"], [["CO-0001", "A"], [None, "New shop"], [None, "Another"]]),
            Tab.CONTACTS: (["ID", "Company ID", "Name"], [["P-0001", "CO-0007", "Old friend"], [None, "A", "Amy"]]),
            Tab.OPPORTUNITIES: (["ID", "Name"], []),
            Tab.ACTIVITIES: (["ID", "Date", "Type"], []),
        }
    )
    return backend.read()


def test_compute_gives_the_ids_linking_issued() -> None:
    tables, settings, issues = bind_all(_raw())
    issued = {tab: table.issued_ids for tab, table in tables.items() if table.issued_ids is not None}
    assert issued[Tab.COMPANIES].tolist() == ["CO-0008", "CO-0009"]
    assert issued[Tab.CONTACTS].tolist() == ["P-0002"]
    computed = compute(tables, settings, AS_OF, validate_tables(tables, issues))
    assert computed.ids.keys() == issue_ids(tables).keys() == issued.keys()
    for tab, ids in issue_ids(tables).items():
        pd.testing.assert_series_equal(computed.ids[tab], ids)
        pd.testing.assert_series_equal(issued[tab], ids)


def test_tables_bound_without_linking_get_their_ids_from_compute() -> None:
    tables, settings, issues = bind_tabs(_raw(), tuple(Tab))
    assert all(table.issued_ids is None for table in tables.values())
    computed = compute(tables, settings, AS_OF, validate_tables(tables, pd.DataFrame(issues)))
    assert computed.ids[Tab.COMPANIES].tolist() == ["CO-0008", "CO-0009"]
    assert computed.ids[Tab.CONTACTS].tolist() == ["P-0002"]
