"""Faults at every request of a full Google Sheets sync, against the local fake.

A fault injected at each request position (429 with Retry-After, 500, 503, dropped
connection, timeout): the sync completes after retries or exits non-zero with the sheet
unchanged, and the next run converges.

A full sync of a small workbook is exactly four requests (the backend's docstring):

1. ``spreadsheets.get`` (metadata), 2. ``values.batchGet`` (every tab),
3. ``spreadsheets.batchUpdate`` (lock the tabs it writes, re-read under the lock),
4. ``spreadsheets.batchUpdate`` (the write, unlocking).

"Converges" means: every tab equals the sheet after a fault-free sync of an identical copy
(the Log's Time and Run columns aside), and that state is a fixed point (syncing it again
writes nothing).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from google.oauth2.credentials import Credentials

import sheetcrm
from sheetcrm.cli import cli
from sheetcrm.exceptions import QuotaError, SheetCRMError
from sheetcrm.google import http as sheetcrm_http
from sheetcrm.google.connect import ENV_API_URL
from sheetcrm.google.http import RetriesExhaustedError, make_client
from tests.helpers import AS_OF, sheet_state, write_service_account_key

#: The requests of a full sync, by position.
POSITIONS = {
    1: "spreadsheets.get",
    2: "values.batchGet",
    3: "spreadsheets.batchUpdate",
    4: "spreadsheets.batchUpdate",
}

#: (connect, read) timeouts of the test clients: short only for the attempts a "timeout"
#: fault hits (it keeps the client waiting HANG seconds, far past the short timeout), roomy
#: for every other attempt, so a busy machine never turns a slow answer into an unplanned
#: retry and the faulted attempt always times out: no result depends on the load.
SHORT_TIMEOUT = (10.0, 0.3)
ROOMY_TIMEOUT = (10.0, 120.0)
HANG = 30.0

#: inject_fault keywords per fault kind. The timeout hangs past the read timeout and then
#: answers 503, so the request it stands for did nothing on the server (see
#: test_a_write_that_timed_out_but_was_applied_is_not_applied_twice for the other case).
KINDS: dict[str, dict[str, Any]] = {
    "429+Retry-After": {"status": 429, "retry_after": 1},
    "500": {"status": 500},
    "503": {"status": 503},
    "dropped": {"status": None, "drop": True},
    "timeout": {"status": 503, "delay": HANG},
}
#: The last HTTP status RetriesExhaustedError reports per kind (None: no answer at all).
#: Requests that must not be repeated blindly (3 adds the locks, 4 removes them): after a
#: lost answer (dropped, timed out) the sync looks at the spreadsheet (a metadata read)
#: and sends again only when the request did not land.
LOOKED_AT = {3, 4}
LOST = {"dropped", "timeout"}

LAST_STATUS = {"429+Retry-After": 429, "500": 500, "503": 503, "dropped": None, "timeout": None}

SA_EMAIL = "sheetcrm-faults@demo-project.iam.gserviceaccount.com"


def _no_sleep(_seconds: float) -> None:
    return None


# --------------------------------------------------------------------------------------
# isolation: no network beyond 127.0.0.1, no real home directory
# --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated(loopback_only: None, google_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ENV_API_URL, raising=False)
    yield


# --------------------------------------------------------------------------------------
# the workbook, the fault-free reference and the clients
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _shared() -> dict[str, Any]:
    """Per-module cache: the small CRM's tabs as rows, and the fault-free reference."""
    return {}


@pytest.fixture
def crm_sheets(_shared: dict[str, Any], make_workbook, small_crm) -> dict[str, list[list[Any]]]:
    """The small CRM (conftest's small_crm in the real template) as tab -> rows, the way
    uploading the .xlsx to Google Drive would make it."""
    if "sheets" not in _shared:
        wb = openpyxl.load_workbook(make_workbook(small_crm), data_only=True)
        _shared["sheets"] = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    return copy.deepcopy(_shared["sheets"])


def _upload(fake, sheets: dict[str, list[list[Any]]]) -> str:
    return fake.create_spreadsheet("CRM", copy.deepcopy(sheets))


def _url(key: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"


def _timeout(kind: str | None) -> tuple[float, float]:
    return ROOMY_TIMEOUT


@pytest.fixture(autouse=True)
def _short_timeout_where_it_hangs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """For a "timeout" fault at ``position``: the short read timeout on that attempt and
    its retry only (attempts are counted per client, from 1)."""
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    if params.get("kind") == "timeout":
        position = params.get("position", 4)  # tests without a position fault the write
        _short_on(monkeypatch, {position, position + 1}, request.getfixturevalue("fake"))


def _short_on(monkeypatch: pytest.MonkeyPatch, attempts: set[int], fake: Any) -> None:
    """The short read timeout on those attempts of a client while a fault is still to fire:
    a later client's attempts of the same number (the sync that recovers) keep the roomy
    one, so a slow answer on a busy machine is never taken for the fault."""
    original = sheetcrm_http.RetryingHTTPClient._attempt_timeout

    def pick(self: Any, remaining: float) -> Any:
        hangs = self.attempts in attempts and fake.pending_faults() > 0
        return SHORT_TIMEOUT if hangs else original(self, remaining)

    monkeypatch.setattr(sheetcrm_http.RetryingHTTPClient, "_attempt_timeout", pick)


def _client(fake, kind: str | None = None, **options: Any):
    return make_client(
        Credentials(token="test-token"), base_url=fake.url, sleep=_no_sleep, timeout=_timeout(kind), **options
    )


def _snapshot(fake, key: str) -> dict[str, Any]:
    """Everything a sync could change: every tab's values (unformatted and as formulas) and
    grid properties."""
    return {
        title: (
            fake.get_values(key, title),
            fake.get_values(key, title, render="FORMULA"),
            fake.sheet_properties(key, title),
        )
        for title in fake.sheet_titles(key)
    }


@pytest.fixture
def reference(_shared: dict[str, Any], fake, crm_sheets) -> dict[str, list[list[Any]]]:
    """The sheet after a fault-free sync of an identical copy; a fixed point of sync."""
    if "reference" not in _shared:
        key = _upload(fake, crm_sheets)
        fake.reset_counters()
        result = sheetcrm.open(_url(key), client=_client(fake)).sync(as_of=AS_OF)
        assert [r.endpoint for r in fake.requests] == list(POSITIONS.values())
        assert result.counts["cells_written"] > 0 and result.counts["stage_moves"] == 1
        again = sheetcrm.open(_url(key), client=_client(fake)).sync(as_of=AS_OF)
        assert again.changes.empty, "the fault-free reference is not a fixed point of sync"
        _shared["reference"] = sheet_state(fake, key)
        fake.reset_counters()
    return copy.deepcopy(_shared["reference"])


# --------------------------------------------------------------------------------------
# the library, with a retrying client: completes, and equals the fault-free reference
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("position", list(POSITIONS))
def test_a_retrying_sync_completes_and_equals_a_fault_free_sync(
    fake, crm_sheets, reference, position: int, kind: str
) -> None:
    key = _upload(fake, crm_sheets)
    gc = _client(fake, kind)
    fake.reset_counters()
    fake.inject_fault(at_request=position, **KINDS[kind])

    result = sheetcrm.open(_url(key), client=gc).sync(as_of=AS_OF)

    endpoints = [r.endpoint for r in fake.requests]
    expected = list(POSITIONS.values())
    looked = kind in LOST and position in LOOKED_AT
    again = ["spreadsheets.get", expected[position - 1]] if looked else [expected[position - 1]]
    assert endpoints == [*expected[:position], *again, *expected[position:]], endpoints
    assert fake.requests[position].status == 200  # the retry of the faulted request (or the look)
    http = gc.http_client
    assert http.retries == (0 if looked else 1)
    if kind == "429+Retry-After":
        assert http.delays == [1.0]  # Retry-After honoured (the test client does not sleep)
    assert result.report is not None and not result.report.skipped
    assert result.counts["stage_moves"] == 1
    assert sheet_state(fake, key) == reference


def test_a_write_that_timed_out_but_was_applied_is_not_applied_twice(
    fake, crm_sheets, reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write is applied but its answer never comes (the client times out), and the
    client's retry writes again: the same cells, the same Log rows, once."""
    key = _upload(fake, crm_sheets)
    fake.reset_counters()
    _short_on(monkeypatch, {4}, fake)
    fake.inject_fault(at_request=4, lost="timeout")
    sheetcrm.open(_url(key), client=_client(fake)).sync(as_of=AS_OF)
    writes = [r for r in fake.requests if "updateCells" in r.batch_kinds]
    assert [w.status for w in writes] == [None]  # it landed (the locks are gone): not sent again
    assert sheet_state(fake, key) == reference
    again = sheetcrm.open(_url(key), client=_client(fake)).sync(as_of=AS_OF)
    assert again.changes.empty


# --------------------------------------------------------------------------------------
# the library, with a client that gives up: QuotaError, sheet unchanged, next run converges
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "kind"), [(p, k) for p in POSITIONS for k in KINDS if not (k in LOST and p in LOOKED_AT)]
)
def test_a_sync_that_gives_up_leaves_the_sheet_unchanged_and_the_next_run_converges(
    fake, crm_sheets, reference, position: int, kind: str
) -> None:
    key = _upload(fake, crm_sheets)
    before = _snapshot(fake, key)
    fake.reset_counters()
    fake.inject_fault(at_request=position, times=2, **KINDS[kind])  # the attempt and its one retry

    with pytest.raises(SheetCRMError) as caught:
        sheetcrm.open(_url(key), client=_client(fake, kind, max_attempts=2)).sync(as_of=AS_OF)

    err = caught.value
    assert isinstance(err, QuotaError) and isinstance(err, RetriesExhaustedError), repr(err)
    assert err.attempts == 2 and err.status == LAST_STATUS[kind]
    assert err.method == ("POST" if position >= 3 else "GET")
    assert err.path.startswith(f"/v4/spreadsheets/{key}")
    assert "\n" not in str(err) and "after 2 attempts" in str(err)
    unlock = ["spreadsheets.batchUpdate"] if position == 4 else []  # never leave people locked out
    assert [r.endpoint for r in fake.requests] == [
        *list(POSITIONS.values())[:position],
        POSITIONS[position],
        *unlock,
    ]
    assert _snapshot(fake, key) == before

    fake.clear_faults()
    fake.reset_counters()
    recovered = sheetcrm.open(_url(key), client=_client(fake)).sync(as_of=AS_OF)
    assert [r.endpoint for r in fake.requests] == list(POSITIONS.values())
    assert recovered.report is not None and not recovered.report.skipped
    assert sheet_state(fake, key) == reference


@pytest.mark.parametrize("position", [1, 4])
def test_a_retry_after_longer_than_the_budget_gives_up_at_once(fake, crm_sheets, reference, position: int) -> None:
    key = _upload(fake, crm_sheets)
    before = _snapshot(fake, key)
    fake.reset_counters()
    fake.inject_fault(at_request=position, status=429, retry_after=30)
    gc = _client(fake, budget_seconds=5.0)
    with pytest.raises(QuotaError, match=r"asked to wait 30 s") as caught:
        sheetcrm.open(_url(key), client=gc).sync(as_of=AS_OF)
    assert isinstance(caught.value, RetriesExhaustedError) and caught.value.attempts == 1
    assert gc.http_client.delays == []
    assert fake.request_count == position + (position == 4)  # after the write: the unlock
    assert _snapshot(fake, key) == before
    sheetcrm.open(_url(key), client=_client(fake)).sync(as_of=AS_OF)
    assert sheet_state(fake, key) == reference


# --------------------------------------------------------------------------------------
# the CLI: exit 2 with one line, sheet unchanged; after retries, converged
# --------------------------------------------------------------------------------------


@pytest.fixture
def sa_json(fake, tmp_path: Path, pem: str) -> Path:
    """A service-account key file whose token_uri is the fake's /token: the real
    google-auth JWT flow runs, against 127.0.0.1."""
    return write_service_account_key(tmp_path / "sa.json", pem=pem, email=SA_EMAIL, token_uri=f"{fake.url}/token")


@pytest.fixture
def cli_retries(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """The CLI's client (built by connect() from DEFAULT_OPTIONS): no sleeping, two
    attempts, the test's timeouts."""
    kind = getattr(request.node, "callspec", None) and request.node.callspec.params.get("kind")
    monkeypatch.setitem(sheetcrm_http.DEFAULT_OPTIONS, "sleep", _no_sleep)
    monkeypatch.setitem(sheetcrm_http.DEFAULT_OPTIONS, "timeout", _timeout(kind))
    monkeypatch.setitem(sheetcrm_http.DEFAULT_OPTIONS, "max_attempts", 2)


def _cli_sync(fake, key: str, sa_json: Path):
    return CliRunner().invoke(
        cli,
        ["sync", "--spreadsheet", _url(key), "--credentials", str(sa_json), "--as-of", AS_OF.isoformat(), "-q"],
        env={ENV_API_URL: fake.url},
    )


@pytest.mark.parametrize(  # a read before anything is computed, and the write
    ("position", "kind"), [(p, k) for p in (1, 4) for k in KINDS if not (k in LOST and p in LOOKED_AT)]
)
def test_cli_sync_that_gives_up_exits_2_with_one_line(
    fake, crm_sheets, reference, sa_json: Path, cli_retries, position: int, kind: str
) -> None:
    key = _upload(fake, crm_sheets)
    before = _snapshot(fake, key)
    fake.reset_counters()
    # request 1 is the service account's token (POST /token); the sync's requests follow
    fake.inject_fault(at_request=position + 1, times=2, **KINDS[kind])

    result = _cli_sync(fake, key, sa_json)

    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    assert "after 2 attempts" in lines[0] and "run again" in lines[0]
    endpoints = [r.endpoint for r in fake.requests]
    unlock = ["spreadsheets.batchUpdate"] if position == 4 else []
    assert endpoints == ["oauth2.token", *list(POSITIONS.values())[:position], POSITIONS[position], *unlock]
    assert _snapshot(fake, key) == before

    if position == 4:  # the next run converges (every position is covered for the library above)
        fake.clear_faults()
        again = _cli_sync(fake, key, sa_json)
        assert again.exit_code == 0, again.output
        assert sheet_state(fake, key) == reference


@pytest.mark.parametrize("kind", list(KINDS))
def test_cli_sync_retries_a_fault_at_the_write_and_converges(
    fake, crm_sheets, reference, sa_json: Path, cli_retries, kind: str
) -> None:
    key = _upload(fake, crm_sheets)
    fake.reset_counters()
    fake.inject_fault(at_request=5, **KINDS[kind])
    result = _cli_sync(fake, key, sa_json)
    assert result.exit_code == 0, result.output
    assert "Cells written" in result.stdout
    assert [r.endpoint for r in fake.requests][-1] == "spreadsheets.batchUpdate"
    assert sum("updateCells" in r.batch_kinds for r in fake.requests) == 2
    assert sheet_state(fake, key) == reference


def test_cli_token_endpoint_outage_is_retried_not_blamed_on_the_key(
    fake, crm_sheets, reference, sa_json: Path, cli_retries, monkeypatch
) -> None:
    """google-auth itself tries the token endpoint 3 times; when all three answer 503 it
    raises a RefreshError marked retryable. That is Google's outage, not a revoked key."""
    import google.auth._exponential_backoff as backoff

    monkeypatch.setattr(backoff, "time", type("NoSleep", (), {"sleep": staticmethod(_no_sleep)}))
    key = _upload(fake, crm_sheets)
    fake.reset_counters()
    fake.inject_fault(at_request=1, status=503, times=3)
    result = _cli_sync(fake, key, sa_json)
    assert "create a new key" not in result.output
    assert result.exit_code == 0, result.output
    assert sheet_state(fake, key) == reference
