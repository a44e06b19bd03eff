"""Requests applied by Google whose answer was lost: nothing is ever applied twice.

The fake's ``lost`` fault handles the request (its changes stay) and then drops the
connection or holds the answer back past the client's read timeout. Every request
position of ``init --google``, ``sync`` (with and without a Log tab to create) and
``pull`` runs through it: each ends in the state of a fault-free run. The retrying client
repeats only requests that are safe to repeat; for the others the caller looks at the
spreadsheet (the file with this run's marker, the tabs, the share) and carries on.

No test here depends on a timeout being met: a dropped connection is immediate, and a
held-back answer is held far longer (30 s) than the client waits for it (1 s), so only
the client's own timer decides, however loaded the machine. Only the request the fault
fires on is given that short wait; every other request keeps a roomy one.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from google.oauth2.credentials import Credentials

import sheetcrm
from sheetcrm.backends import rowtags
from sheetcrm.backends.backup import pull
from sheetcrm.exceptions import AnswerLostError
from sheetcrm.google import http as sheetcrm_http
from sheetcrm.google.http import is_idempotent, make_client
from sheetcrm.google.template import create_google_workbook
from sheetcrm.schema import TABS, Lang
from tests.helpers import AS_OF, sheet_state

ROOMY = (10.0, 120.0)
#: The read timeout of the one request whose answer is held back.
SHORT = (10.0, 1.0)


def _client(fake: Any) -> Any:
    return make_client(Credentials(token="t"), base_url=fake.url, sleep=lambda _s: None, timeout=ROOMY)


def _short_on_the_faulted_request(monkeypatch: pytest.MonkeyPatch, fake: Any) -> None:
    """Clients wait :data:`SHORT` for the request the fault fires on, and as configured for
    every other: a slow answer on a busy machine is never taken for a lost one."""
    original = sheetcrm_http.RetryingHTTPClient._attempt_timeout

    def pick(self: Any, remaining: float) -> Any:
        return SHORT if fake.fault_due_next() else original(self, remaining)

    monkeypatch.setattr(sheetcrm_http.RetryingHTTPClient, "_attempt_timeout", pick)


def _url(key: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"


@pytest.fixture
def sheets(make_workbook, small_crm) -> dict[str, list[list[Any]]]:
    wb = openpyxl.load_workbook(make_workbook(small_crm), data_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


@pytest.mark.parametrize(
    ("method", "path", "body", "safe"),
    [
        ("GET", "/v4/spreadsheets/k", None, True),
        ("PUT", "/v4/spreadsheets/k/values/A1", None, True),
        ("POST", "/v4/spreadsheets/k/values:batchUpdate", {}, True),
        ("POST", "/v4/spreadsheets/k/values:batchUpdateByDataFilter", {}, True),
        ("POST", "/v4/spreadsheets/k/values:batchGet", {}, True),
        ("POST", "/v4/spreadsheets/k/values/Log!A1:append", {}, False),
        ("POST", "/v4/spreadsheets/k:batchUpdate", {"requests": [{"repeatCell": {}}]}, True),
        ("POST", "/v4/spreadsheets/k:batchUpdate", {"requests": [{"repeatCell": {}}, {"addSheet": {}}]}, False),
        ("POST", "/v4/spreadsheets/k:batchUpdate", {"requests": [{"appendDimension": {}}]}, False),
        ("POST", "/v4/spreadsheets/k:batchUpdate", {"requests": [{"insertDimension": {}}]}, False),
        ("POST", "/v4/spreadsheets/k:batchUpdate", {"requests": []}, False),
        ("POST", "/drive/v3/files", {}, False),
        ("POST", "/drive/v3/files/k/permissions", {}, False),
        ("DELETE", "/drive/v3/files/k", None, False),
    ],
)
def test_requests_are_sorted_into_safe_to_repeat_or_not(method: str, path: str, body: Any, safe: bool) -> None:
    assert is_idempotent(method, "https://sheets.googleapis.com" + path, body) is safe


def test_a_lost_answer_to_an_append_is_not_retried(fake, sheets) -> None:
    key = fake.create_spreadsheet("CRM", copy.deepcopy(sheets))
    gc = _client(fake)
    fake.inject_fault(at_request=1, lost="drop")
    with pytest.raises(AnswerLostError) as caught:
        gc.http_client.values_append(key, "Log!A1", params={"valueInputOption": "RAW"}, body={"values": [["x"]]})
    assert "may have applied it" in str(caught.value) and "\n" not in str(caught.value)
    assert [r.endpoint for r in fake.requests] == ["values.append"]
    assert sum(r == ["x"] for r in fake.get_values(key, "Log")) == 1  # applied, once


# ---------------------------------------------------------------------------- init --google


def _init(fake: Any) -> str:
    url = create_google_workbook(_client(fake), "T", Lang.EN, share="someone@example.com")
    return url.split("/d/")[1].split("/")[0]


@pytest.fixture
def init_reference(fake) -> tuple[int, dict[str, list[list[Any]]]]:
    fake.reset_counters()
    key = _init(fake)
    n = len(fake.requests)
    assert [r.endpoint for r in fake.requests] == [
        "drive.files.create",
        "spreadsheets.batchUpdate",
        "values.batchUpdate",
        "drive.permissions.create",
    ]
    state = sheet_state(fake, key)
    fake.delete_spreadsheet(key)
    return n, state


@pytest.mark.parametrize(
    ("position", "lost"), [(1, "drop"), (2, "drop"), (3, "drop"), (4, "drop"), (1, "timeout"), (2, "timeout")]
)
def test_init_google_with_a_lost_answer_makes_one_spreadsheet_shared_once(
    fake, init_reference, monkeypatch: pytest.MonkeyPatch, position: int, lost: str
) -> None:
    _n, reference = init_reference
    fake.reset_counters()
    fake.inject_fault(at_request=position, lost=lost)
    _short_on_the_faulted_request(monkeypatch, fake)
    key = _init(fake)
    assert fake.spreadsheet_ids() == [key]
    assert sheet_state(fake, key) == reference
    shared = [p for p in _client(fake).list_permissions(key) if p.get("emailAddress") == "someone@example.com"]
    assert len(shared) == 1
    assert sum(r.endpoint == "spreadsheets.batchUpdate" for r in fake.requests) == 1


# --------------------------------------------------------------------------------- sync


def _sync(fake: Any, key: str) -> Any:
    return sheetcrm.open(_url(key), client=_client(fake)).sync(as_of=AS_OF)


_references: dict[str, tuple[list[str], dict[str, list[list[Any]]]]] = {}


def _case(fake: Any, sheets: dict[str, list[list[Any]]], with_log: bool) -> tuple[Any, list[str], Any]:
    """(sheets to upload, endpoints of a fault-free sync, the state after it: a fixed
    point), worked out once per module."""
    tabs = copy.deepcopy(sheets)
    if not with_log:
        tabs.pop("Log")
    name = "with Log" if with_log else "without Log"
    if name not in _references:
        key = fake.create_spreadsheet("CRM", copy.deepcopy(tabs))
        fake.reset_counters()
        _sync(fake, key)
        endpoints = [str(r.endpoint) for r in fake.requests]
        state = sheet_state(fake, key)
        assert _sync(fake, key).changes.empty
        _references[name] = (endpoints, state)
    return (tabs, *_references[name])


@pytest.mark.parametrize(("with_log", "position"), [(True, 1), (True, 2), (True, 3), (True, 4), (False, 3), (False, 4)])
def test_a_sync_with_a_lost_answer_ends_as_a_fault_free_sync(fake, sheets, with_log: bool, position: int) -> None:
    tabs, endpoints, reference = _case(fake, sheets, with_log)
    assert endpoints == [
        "spreadsheets.get",
        "values.batchGet",
        "spreadsheets.batchUpdate",
        "spreadsheets.batchUpdate",
    ]
    key = fake.create_spreadsheet("CRM", copy.deepcopy(tabs))
    fake.reset_counters()
    fake.inject_fault(at_request=position, lost="drop")
    _sync(fake, key)
    assert sheet_state(fake, key) == reference
    assert fake.sheet_titles(key).count("Log") == 1
    # Request 3 tags the record rows and the write removes the tags: after a lost answer
    # (3) or a guarded write sent again (4) none is left behind.
    assert _row_tags(fake, key) == {}
    assert any("createDeveloperMetadata" in r.batch_kinds for r in fake.requests)


def _row_tags(fake: Any, key: str) -> dict[tuple[str, int], int]:
    """(tab, 0-based row) -> how many sheetcrm row tags it carries."""
    out: dict[tuple[str, int], int] = {}
    for sheet in fake.spreadsheet_resource(key, grid_data=True)["sheets"]:
        for i, meta in enumerate(sheet["data"][0].get("rowMetadata", [])):
            n = sum(m.get("metadataKey") == rowtags.TAG_KEY for m in meta.get("developerMetadata", []))
            if n:
                out[(sheet["properties"]["title"], i)] = n
    return out


def test_a_lost_answer_to_the_new_log_tab_times_out_and_is_found(fake, sheets, monkeypatch: pytest.MonkeyPatch) -> None:
    tabs, _endpoints, reference = _case(fake, sheets, with_log=False)
    key = fake.create_spreadsheet("CRM", copy.deepcopy(tabs))
    fake.reset_counters()
    fake.inject_fault(at_request=3, lost="timeout")
    _short_on_the_faulted_request(monkeypatch, fake)
    _sync(fake, key)
    assert sheet_state(fake, key) == reference
    assert sum("addSheet" in r.batch_kinds for r in fake.requests) == 1  # never sent twice


def test_a_log_tab_left_without_its_header_gets_it_next_time(fake, sheets) -> None:
    tabs = copy.deepcopy(sheets)
    tabs["Log"] = []
    key = fake.create_spreadsheet("CRM", tabs)
    _sync(fake, key)
    log = fake.get_values(key, "Log")
    assert log[0][:3] == ["Time", "Run", "Tab"] and len(log) > 1


# --------------------------------------------------------------------------------- pull


@pytest.mark.parametrize("position", [1, 2])
def test_pull_with_a_lost_answer_saves_the_same_copy(fake, sheets, tmp_path: Path, position: int) -> None:
    key = fake.create_spreadsheet("CRM", copy.deepcopy(sheets))
    from sheetcrm.backends.gsheets import GoogleSheetsBackend

    clean = pull(GoogleSheetsBackend(key, _client(fake)), tmp_path / "a.xlsx")
    fake.inject_fault(at_request=position, lost="drop")
    faulted = pull(GoogleSheetsBackend(key, _client(fake)), tmp_path / "b.xlsx")

    def rows(path: Path) -> dict[str, list[list[Any]]]:
        wb = openpyxl.load_workbook(path)
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}

    assert rows(faulted) == rows(clean)
    assert {spec.title(Lang.EN) for spec in TABS.values()} >= set(rows(clean)) - {"Log"}


# ------------------------------------------------------------- the fake, closer to Google


def test_an_unsupported_endpoint_answers_501_before_reading_the_body(fake) -> None:
    import requests

    key = fake.create_spreadsheet("CRM", {"Sheet1": [["a"]]})
    answer = requests.put(
        f"{fake.url}/upload/drive/v2/files/{key}?uploadType=media&convert=true",
        data=b"name,email\nA,a@example.com\n",
        headers={"Content-Type": "text/csv"},
        timeout=30,
    )
    assert answer.status_code == 501
    message = answer.json()["error"]["message"]
    assert "does not implement PUT /upload/drive/v2/files/" in message and "JSON" not in message


@pytest.mark.parametrize(
    ("values", "cells", "rows", "cols"),
    [
        ([["a", "b"], ["c", "d"]], 4, 2, 2),
        ([[None, "b"], ["c", None]], 2, 2, 2),
        ([[None, "b"], [None, None]], 1, 1, 1),
        ([[None, None]], 0, 0, 0),
    ],
)
def test_updated_cells_count_only_cells_that_got_a_value(fake, values, cells: int, rows: int, cols: int) -> None:
    key = fake.create_spreadsheet("CRM", {"Sheet1": [["x"]]})
    http = _client(fake).http_client
    one = http.values_update(key, "Sheet1!A1:B2", params={"valueInputOption": "RAW"}, body={"values": values})
    many = http.values_batch_update(
        key, body={"valueInputOption": "RAW", "data": [{"range": "Sheet1!A1:B2", "values": values}]}
    )
    assert (one.get("updatedCells", 0), one.get("updatedRows", 0), one.get("updatedColumns", 0)) == (cells, rows, cols)
    totals = [many.get(k, 0) for k in ("totalUpdatedCells", "totalUpdatedRows", "totalUpdatedColumns")]
    assert totals == [cells, rows, cols]  # zero counts are left out, as Google leaves them


# ------------------------------------------------------------------------------- import


def _import(fake: Any, key: str, leads: Path) -> Any:
    from sheetcrm.backends.gsheets import GoogleSheetsBackend
    from sheetcrm.team.leads import import_leads

    return import_leads(GoogleSheetsBackend(key, _client(fake)), leads, source="Expo", today=AS_OF)


def test_an_import_with_a_lost_answer_at_any_request_adds_each_lead_once(fake, sheets, tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("Name,Email\nLost Answer One,l1@x.com\nLost Answer Two,l2@x.com\n", encoding="utf-8")
    key = fake.create_spreadsheet("CRM", copy.deepcopy(sheets))
    fake.reset_counters()
    assert _import(fake, key, leads).report.appended == 2
    positions = len(fake.requests)
    reference = sheet_state(fake, key)
    assert positions >= 3
    for position in range(1, positions + 1):
        key = fake.create_spreadsheet("CRM", copy.deepcopy(sheets))
        fake.reset_counters()
        fake.inject_fault(at_request=position, lost="drop")
        _import(fake, key, leads)
        assert sheet_state(fake, key) == reference, f"lost answer at request {position}"
