"""Recorded invitations refer to an ID the contact's row holds: a contact without an ID
gets it filled in the same write (compare-and-set, as sync fills IDs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from sheetcrm.backends.memory import MemoryBackend
from sheetcrm.backends.xlsx import XlsxBackend
from sheetcrm.schema import Tab
from sheetcrm.team.invite import invite

AS_OF = dt.date(2026, 11, 22)


def records(path: Path, title: str) -> pd.DataFrame:
    rows = [list(r) for r in openpyxl.load_workbook(path)[title].iter_rows(values_only=True)]
    frame = pd.DataFrame(rows[1:], columns=rows[0], dtype=object)
    return frame[frame.notna().any(axis=1)].where(frame.notna(), None)


@pytest.fixture
def crm(make_workbook: Callable[..., Path], small_crm: dict) -> Path:
    rows = dict(small_crm)
    rows[Tab.CONTACTS] = [*small_crm[Tab.CONTACTS], {"Name": "No ID Yet", "Email": "noid@example.com"}]
    return make_workbook(rows)


def test_recording_fills_the_invited_contacts_missing_id_in_the_same_write(crm: Path) -> None:
    result = invite(XlsxBackend(crm), event="Spring Expo", record=True, as_of=AS_OF)
    listed = dict(zip(result.invite["Name"], result.invite["ID"], strict=True))
    new_id = listed["No ID Yet"]
    assert new_id and new_id not in {"P-0001", "P-0002", "P-0003"}
    contacts = records(crm, "Contacts").set_index("Name")
    assert contacts.at["No ID Yet", "ID"] == new_id
    acts = records(crm, "Activities")
    invited = acts[acts["Type"] == "Event Invited"]
    assert new_id in set(invited["Contact ID"])
    assert set(invited["Contact ID"]) <= set(contacts["ID"])
    log = records(crm, "Log")
    filled = log[(log["Tab"] == "Contacts") & (log["Column"] == "ID")]
    assert filled["New"].tolist() == [new_id]
    assert result.ids_not_filled() == []
    assert result.plan is not None and len(result.plan.cells) == 1


def test_listing_without_record_writes_nothing(crm: Path) -> None:
    before = crm.read_bytes()
    result = invite(XlsxBackend(crm), event="Spring Expo", as_of=AS_OF)
    assert "No ID Yet" in set(result.invite["Name"])
    assert crm.read_bytes() == before


def test_an_id_typed_meanwhile_is_kept_and_the_summary_says_the_invitation_needs_fixing(crm: Path) -> None:
    backend = MemoryBackend(XlsxBackend(crm).read())
    raw = backend.read()
    contacts = backend.tabs[Tab.CONTACTS]
    name_col, id_col = contacts.header.index("Name"), contacts.header.index("ID")
    row: list[Any] = next(r for r in contacts.rows if len(r) > name_col and r[name_col] == "No ID Yet")
    row += [None] * (id_col + 1 - len(row))
    row[id_col] = "P-0777"  # a person types an ID between the read and the write
    result = invite(backend, event="Spring Expo", record=True, as_of=AS_OF, raw=raw)
    assert row[id_col] == "P-0777"
    new_id = dict(zip(result.invite["Name"], result.invite["ID"], strict=True))["No ID Yet"]
    assert result.ids_not_filled() == [new_id]
    assert any(new_id in line and "sync" in line for line in result.summary_lines())
    log = backend.tabs[Tab.LOG].rows
    assert any(r[3] == new_id and str(r[-1]).startswith("not changed") for r in log)
