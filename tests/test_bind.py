"""Binding raw tabs: ragged rows as columns, and the IDs issued once for linking and compute."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import pandas as pd
import pytest

from sheetcrm.backends.base import RawTab
from sheetcrm.backends.memory import MemoryBackend
from sheetcrm.cells.parse import ParseOptions
from sheetcrm.engine.bind import ROW, bind, bind_all, bind_tabs
from sheetcrm.engine.compute import compute
from sheetcrm.engine.ids import issue_ids
from sheetcrm.engine.validate import validate_tables
from sheetcrm.exceptions import SchemaError
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


def _settings_tab(language: str) -> RawTab:
    return RawTab(Tab.SETTINGS, "Settings", ["Key", "Value"], [["language", language]])


def test_tabs_given_one_by_one_bind_as_the_whole_read_binds_them() -> None:
    raw = {Tab.SETTINGS: _settings_tab("zh-TW"), **_raw()}
    # Settings first, the rest in any order (as an .xlsx's tabs finish parsing).
    stream = [raw[Tab.SETTINGS], *reversed([r for t, r in raw.items() if t is not Tab.SETTINGS])]
    whole, settings, issues = bind_all(raw)
    each, each_settings, each_issues = bind_all(iter(stream))
    # Settings, then the schema's order: not the order read.
    assert list(each) == list(whole) == [Tab.SETTINGS, *(t for t in Tab if t is not Tab.SETTINGS)]
    assert each_settings == settings and str(settings.language) == "zh-TW"
    for tab in whole:
        pd.testing.assert_frame_equal(each[tab].typed, whole[tab].typed)
        pd.testing.assert_frame_equal(each[tab].raw, whole[tab].raw)
    pd.testing.assert_frame_equal(each_issues, issues)


def test_a_missing_tab_is_named_before_any_layout_problem_and_the_stream_is_closed() -> None:
    raw = _raw()
    raw[Tab.CONTACTS] = RawTab(Tab.CONTACTS, "Contacts", ["ID", "Name", "Name"], [])
    del raw[Tab.ACTIVITIES]
    closed: list[bool] = []

    def stream() -> Iterator[RawTab]:
        try:
            yield from raw.values()
        finally:
            closed.append(True)

    with pytest.raises(SchemaError, match="no Activities"):
        bind_all(stream())
    assert closed == [True]
    # A job that binds only some tabs needs only those.
    del raw[Tab.CONTACTS]
    tables, _settings, _issues = bind_tabs(iter(raw.values()), (Tab.COMPANIES, Tab.LOG))
    assert list(tables) == [Tab.SETTINGS, Tab.COMPANIES, Tab.LOG]
    assert tables[Tab.COMPANIES].typed["Name"].tolist() == ["A", "New shop", "Another"]
    assert tables[Tab.LOG].typed.empty


def test_a_settings_error_closes_the_stream_at_once() -> None:
    closed: list[bool] = []

    def stream() -> Iterator[RawTab]:
        try:
            yield RawTab(Tab.SETTINGS, "Settings", ["Key", "Key"], [])
            yield from _raw().values()
        finally:
            closed.append(True)

    with pytest.raises(SchemaError):
        bind_all(stream())
    assert closed == [True]
