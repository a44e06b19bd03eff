"""sheetcrm.google.http: bounded retries against a tiny scripted HTTP server on 127.0.0.1."""

from __future__ import annotations

import email.utils
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import gspread
import pytest
import requests
from google.auth import exceptions as gauth_exceptions
from google.oauth2.credentials import Credentials as UserCredentials
from gspread.exceptions import APIError

from sheetcrm.exceptions import AuthError, QuotaError
from sheetcrm.google.http import RetriesExhaustedError, RetryingHTTPClient, make_client
from tests.helpers import serving

SHEET_URL = "https://sheets.googleapis.com/v4/spreadsheets/abc"

METADATA = {
    "spreadsheetId": "abc",
    "properties": {"title": "CRM", "locale": "en_US", "timeZone": "Asia/Taipei"},
    "sheets": [
        {
            "properties": {
                "sheetId": 0,
                "title": "Contacts",
                "index": 0,
                "sheetType": "GRID",
                "gridProperties": {"rowCount": 1000, "columnCount": 26},
            }
        },
    ],
    "spreadsheetUrl": "https://docs.google.com/spreadsheets/d/abc/edit",
}

GOOGLE_404 = {"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}}


# --------------------------------------------------------------------------------------
# the scripted server
# --------------------------------------------------------------------------------------


@dataclass
class Action:
    """What the server does with one request."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the socket without answering
    truncate: bool = False  # promise a longer body than is sent, then close
    delay: float = 0.0  # wait this long before answering


class Script:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.actions: list[Action] = []
        self.default = Action(500, {"error": {"code": 500, "message": "script exhausted"}})
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    def reset(self, *actions: Action, default: Action | None = None) -> None:
        with self.lock:
            self.actions = list(actions)
            self.seen = []
            if default is not None:
                self.default = default
            else:
                self.default = Action(500, {"error": {"code": 500, "message": "exhausted"}})

    def next(self, method: str, path: str, headers: dict[str, str]) -> Action:
        with self.lock:
            self.seen.append((method, path, headers))
            return self.actions.pop(0) if self.actions else self.default


class Handler(BaseHTTPRequestHandler):
    server: Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        action = self.server.script.next(self.command, self.path, headers)
        if action.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if action.delay:
            time.sleep(action.delay)
        payload = json.dumps(action.body if action.body is not None else {}).encode()
        try:
            self.send_response(action.status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload) + (100 if action.truncate else 0)))
            for name, value in action.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            if action.truncate:
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:  # the client gave up (timeout) and closed the socket
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script = Script()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # dropped and timed-out connections are the point of these tests

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with serving(Server()) as srv:
        yield srv


@pytest.fixture
def script(server: Server) -> Script:
    server.script.reset()
    return server.script


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


class FakeTime:
    """sleep() records the delay and advances clock() instead of waiting."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self.offset = 0.0

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.offset += seconds

    def clock(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def creds() -> UserCredentials:
    return UserCredentials(token="test-access-token")


def client(server: Server, fake_time: FakeTime, **options: Any) -> RetryingHTTPClient:
    options.setdefault("random", lambda: 0.5)
    return RetryingHTTPClient(creds(), base_url=server.url, sleep=fake_time.sleep, clock=fake_time.clock, **options)


# --------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------


def test_scripted_failures_then_success(
    server: Server, script: Script, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    script.reset(
        Action(429, {"error": {"code": 429, "message": "Quota exceeded"}}, headers={"Retry-After": "2"}),
        Action(500),
        Action(503),
        Action(drop=True),
        Action(200, {"late": True}, delay=0.6),  # beyond the 0.2 s read timeout of attempt 5
        Action(200, {"ok": True}),
    )
    c = client(server, fake_time, timeout=(10.0, 60.0))
    # Only the late answer's attempt waits 0.2 s: a slow answer on a busy machine is
    # never taken for it.
    monkeypatch.setattr(c, "_attempt_timeout", lambda _remaining: (10.0, 0.2) if c.attempts == 5 else c.timeout)
    response = c.request("get", SHEET_URL + "?fields=sheets")
    assert response.json() == {"ok": True}
    assert c.attempts == 6
    assert c.retries == 5
    # Retry-After honoured as given, then full jitter (random() = 0.5) on 1, 2, 4, 8 s
    assert fake_time.slept == [2.0, 1.0, 2.0, 4.0, 8.0]
    assert c.delays == fake_time.slept
    # every attempt went to the local server, with Google's path and the credentials
    assert [(m, p) for m, p, _ in script.seen] == [("GET", "/v4/spreadsheets/abc?fields=sheets")] * 6
    assert all(h.get("authorization") == "Bearer test-access-token" for _, _, h in script.seen)


def test_delays_capped_and_jittered_within_bounds(server: Server, script: Script, fake_time: FakeTime) -> None:
    script.reset(default=Action(503))
    c = client(server, fake_time, max_attempts=12, budget_seconds=10_000, random=random.Random(1234))
    with pytest.raises(QuotaError):
        c.request("get", SHEET_URL)
    assert c.attempts == 12 and c.retries == 11
    for n, delay in enumerate(fake_time.slept):
        assert 0 <= delay <= min(32.0, 1.0 * 2**n)
    assert max(fake_time.slept) <= 32.0
    assert len(set(fake_time.slept)) == len(fake_time.slept)  # jittered, not fixed


def test_backoff_ceiling_is_capped() -> None:
    c = RetryingHTTPClient(creds(), random=lambda: 0.999999, base_delay=1.0, max_delay=32.0)
    ceilings = [round(c.backoff(n)) for n in range(1, 10)]
    assert ceilings == [1, 2, 4, 8, 16, 32, 32, 32, 32]
    zero = RetryingHTTPClient(creds(), random=lambda: 0.0)
    assert zero.backoff(5) == 0.0


def test_budget_exhaustion_raises_clear_quota_error(server: Server, script: Script, fake_time: FakeTime) -> None:
    script.reset(
        default=Action(429, {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}})
    )
    c = client(server, fake_time, budget_seconds=10, random=lambda: 0.999999, max_attempts=50)
    with pytest.raises(QuotaError) as info:
        c.request("get", SHEET_URL + "/values/Contacts!A1?access_token=SECRET123&key=K")
    exc = info.value
    assert isinstance(exc, RetriesExhaustedError)
    message = str(exc)
    assert message.startswith("GET /v4/spreadsheets/abc/values/Contacts!A1: ")
    assert "the Google Sheets API kept answering 429 (rate limit)" in message
    assert "wait a minute and run again, or lower the request rate" in message
    assert "retry budget" in message
    assert "SECRET123" not in message and "?" not in message
    assert exc.status == 429 and exc.method == "GET"
    assert exc.path == "/v4/spreadsheets/abc/values/Contacts!A1"
    # waits never exceed the budget: 1, 2, 4, then the 3 s that were left
    assert sum(fake_time.slept) <= 10 + 0.5
    assert len(fake_time.slept) == 4
    assert fake_time.slept[3] <= 3.5
    assert c.attempts == 5


def test_max_attempts_exhaustion(server: Server, script: Script, fake_time: FakeTime) -> None:
    script.reset(default=Action(500))
    c = client(server, fake_time, max_attempts=3)
    with pytest.raises(RetriesExhaustedError) as info:
        c.request("post", SHEET_URL + ":batchUpdate", json={"requests": []})
    assert c.attempts == 3 and c.retries == 2
    assert info.value.status == 500 and info.value.attempts == 3
    assert "POST /v4/spreadsheets/abc:batchUpdate" in str(info.value)
    assert "after 3 attempts" in str(info.value)
    assert "Google's side" in str(info.value)
    assert info.value.in_language("zh-TW").startswith(
        "POST /v4/spreadsheets/abc:batchUpdate：Google Sheets API 持續回應 500（Google 端內部錯誤），已嘗試 3 次（"
    )
    assert info.value.in_language("zh-TW").endswith(
        "秒）；問題出在 Google 端：請等幾分鐘再執行一次（https://www.google.com/appsstatus 會列出服務中斷）"
    )
    assert info.value.__cause__ is None


def test_404_is_not_retried(server: Server, script: Script, fake_time: FakeTime) -> None:
    script.reset(Action(404, GOOGLE_404), Action(200))
    c = client(server, fake_time)
    with pytest.raises(APIError) as info:
        c.request("get", SHEET_URL)
    assert info.value.code == 404
    assert c.attempts == 1 and c.retries == 0 and fake_time.slept == []


@pytest.mark.parametrize("status", [400, 403, 409])
def test_other_4xx_are_not_retried(server: Server, script: Script, fake_time: FakeTime, status: int) -> None:
    script.reset(Action(status, {"error": {"code": status, "message": "no"}}))
    c = client(server, fake_time)
    with pytest.raises(APIError):
        c.request("get", SHEET_URL)
    assert c.attempts == 1


def test_retry_after_http_date(server: Server, script: Script, fake_time: FakeTime) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    script.reset(Action(503, headers={"Retry-After": when}), Action(200, {"ok": 1}))
    c = client(server, fake_time)
    assert c.request("get", SHEET_URL).json() == {"ok": 1}
    assert len(fake_time.slept) == 1
    assert 28.0 <= fake_time.slept[0] <= 31.0


def test_retry_after_beyond_budget_gives_up_at_once(server: Server, script: Script, fake_time: FakeTime) -> None:
    script.reset(default=Action(429, headers={"Retry-After": "3600"}))
    c = client(server, fake_time)
    with pytest.raises(RetriesExhaustedError) as info:
        c.request("get", SHEET_URL)
    assert fake_time.slept == []
    assert c.attempts == 1
    assert "asked to wait 3600 s" in str(info.value)


def test_connection_refused_is_retried(fake_time: FakeTime) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = RetryingHTTPClient(
        creds(),
        base_url=f"http://127.0.0.1:{port}",
        max_attempts=3,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        random=lambda: 0.5,
    )
    with pytest.raises(RetriesExhaustedError) as info:
        c.request("get", SHEET_URL)
    assert c.attempts == 3
    assert info.value.status is None
    assert "refusing the connection" in str(info.value)
    assert "check the network" in str(info.value)


def test_connection_dropped_mid_answer_is_retried(server: Server, script: Script, fake_time: FakeTime) -> None:
    script.reset(Action(200, {"partial": True}, truncate=True), Action(200, {"ok": True}))
    c = client(server, fake_time)
    assert c.request("get", SHEET_URL).json() == {"ok": True}
    assert c.attempts == 2 and c.retries == 1


def test_drive_rate_limit_403_is_retried(server: Server, script: Script, fake_time: FakeTime) -> None:
    limited = {
        "error": {
            "code": 403,
            "message": "User Rate Limit Exceeded",
            "errors": [{"domain": "usageLimits", "reason": "userRateLimitExceeded"}],
        }
    }
    script.reset(Action(403, limited), Action(200, {"files": []}))
    c = client(server, fake_time)
    assert c.request("get", "https://www.googleapis.com/drive/v3/files").json() == {"files": []}
    assert c.attempts == 2
    script.reset(default=Action(403, limited))
    with pytest.raises(RetriesExhaustedError) as info:
        client(server, fake_time, max_attempts=2).request("get", "https://www.googleapis.com/drive/v3/files")
    assert "Google Drive API kept answering 403 (rate limit exceeded)" in str(info.value)
    assert "lower the request rate" in str(info.value)


def test_timeouts_exhausted(server: Server, script: Script, fake_time: FakeTime) -> None:
    script.reset(default=Action(200, delay=0.4))
    c = client(server, fake_time, timeout=0.1, max_attempts=2)
    with pytest.raises(RetriesExhaustedError) as info:
        c.request("get", SHEET_URL)
    assert "timing out" in str(info.value)
    assert c.attempts == 2


def test_make_client_open_by_key(server: Server, script: Script, fake_time: FakeTime) -> None:
    script.reset(Action(429, headers={"Retry-After": "1"}), default=Action(200, METADATA))
    gc = make_client(creds(), base_url=server.url, sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: 0.5)
    assert isinstance(gc, gspread.Client)
    http = gc.http_client
    assert isinstance(http, RetryingHTTPClient)
    sh = gc.open_by_key("abc")
    assert sh.title == "CRM"
    assert [ws.title for ws in sh.worksheets()] == ["Contacts"]
    assert http.attempts == 3 and http.retries == 1  # open (429, 200) + worksheets
    assert fake_time.slept == [1.0]
    assert script.seen[0][1] == "/v4/spreadsheets/abc?includeGridData=false"


def test_make_client_404_is_spreadsheet_not_found(server: Server, script: Script, fake_time: FakeTime) -> None:
    script.reset(Action(404, GOOGLE_404))
    gc = make_client(creds(), base_url=server.url, sleep=fake_time.sleep)
    with pytest.raises(gspread.SpreadsheetNotFound):
        gc.open_by_key("missing")
    assert gc.http_client.attempts == 1  # type: ignore[attr-defined]


def test_401_with_unrefreshable_credentials_is_auth_error(server: Server, script: Script, fake_time: FakeTime) -> None:
    # google-auth's session refreshes the token on 401; a token-only credential cannot.
    script.reset(Action(401, {"error": {"code": 401, "message": "expired"}}))
    c = client(server, fake_time)
    with pytest.raises(AuthError):
        c.request("get", SHEET_URL)
    assert c.attempts == 1 and c.retries == 0


def test_refresh_refused_becomes_auth_error(server: Server, script: Script, fake_time: FakeTime) -> None:
    class Refused(UserCredentials):
        def refresh(self, request: Any) -> None:
            raise gauth_exceptions.RefreshError("invalid_grant: Invalid JWT Signature.", {"access_token": "ya29.leak"})

    c = RetryingHTTPClient(Refused(token=None), base_url=server.url, sleep=fake_time.sleep)
    with pytest.raises(AuthError) as info:
        c.request("get", SHEET_URL)
    assert "invalid_grant" in str(info.value)
    assert "ya29.leak" not in str(info.value)
    assert info.value.__cause__ is None
    assert script.seen == []


def test_timeout_defaults_and_set_timeout() -> None:
    c = RetryingHTTPClient(creds())
    assert c.timeout == (10.0, 60.0)
    c.set_timeout(5)
    assert c.timeout == 5
    c.set_timeout(None)  # restores the default, never "no timeout"
    assert c.timeout == (10.0, 60.0)
    gc = make_client(creds(), timeout=(1.0, 2.0))
    assert gc.http_client.timeout == (1.0, 2.0)
    gc.set_timeout(None)
    assert gc.http_client.timeout == (1.0, 2.0)


def test_defaults() -> None:
    c = RetryingHTTPClient(creds())
    assert (c.max_attempts, c.budget_seconds, c.base_delay, c.max_delay) == (8, 100.0, 1.0, 32.0)
    assert c.base_url is None
    assert c.attempts == 0 and c.retries == 0


def test_rewrite_url() -> None:
    c = RetryingHTTPClient(creds(), base_url="http://127.0.0.1:9/")
    assert c.rewrite_url(SHEET_URL + "?a=1") == "http://127.0.0.1:9/v4/spreadsheets/abc?a=1"
    assert c.rewrite_url("https://www.googleapis.com/drive/v3/files") == "http://127.0.0.1:9/drive/v3/files"
    assert c.rewrite_url("https://sheets.googleapis.com.evil.example/x").startswith("https://")
    assert c.rewrite_url("https://oauth2.googleapis.com/token").startswith("https://")
    plain = RetryingHTTPClient(creds())
    assert plain.rewrite_url(SHEET_URL) == SHEET_URL


def test_base_url_as_class_attribute(server: Server, script: Script, fake_time: FakeTime) -> None:
    class Local(RetryingHTTPClient):
        base_url = server.url

    script.reset(Action(200, METADATA))
    gc = gspread.Client(creds(), http_client=Local)
    assert gc.open_by_key("abc").title == "CRM"


def test_configured_rejects_unknown_options() -> None:
    with pytest.raises(TypeError, match="max_tries"):
        RetryingHTTPClient.configured(max_tries=3)
    with pytest.raises(ValueError):
        RetryingHTTPClient(creds(), max_attempts=0)
    cls = RetryingHTTPClient.configured(max_attempts=3)
    assert issubclass(cls, RetryingHTTPClient)
    assert cls(creds()).max_attempts == 3
    assert cls.configured(base_delay=2)(creds()).max_attempts == 3  # options accumulate


def test_session_errors_are_requests_exceptions() -> None:
    # The retry loop relies on requests' hierarchy: ConnectTimeout is both.
    assert issubclass(requests.ConnectTimeout, requests.Timeout)
    assert issubclass(requests.ConnectTimeout, requests.ConnectionError)
