"""The HTTP server, pointing clients at the fake, and the public :class:`FakeSheetsServer`."""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import json
import random
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from gspread.http_client import HTTPClient
from requests.adapters import HTTPAdapter

from sheetcrm.cells.a1 import (
    column_index,
    parse_cell_part,
)
from sheetcrm.testing import metadata
from sheetcrm.testing.api import _Api, _first, _Response, _Write
from sheetcrm.testing.common import (
    DEFAULT_COLUMNS,
    DEFAULT_ROWS,
    GOOGLE_HOSTS,
    ApiError,
    Json,
    _bad_request,
    _RequestError,
)
from sheetcrm.testing.faults import BetweenRequestsCallback, Fault, RecordedRequest
from sheetcrm.testing.formulas import _Evaluator
from sheetcrm.testing.model import (
    Sheet,
    Spreadsheet,
    _Box,
    apply_mask,
    delete_dimension,
    insert_dimension,
    parse_field_mask,
    rename_in_formulas,
    sort_box,
)
from sheetcrm.testing.render import render_cell, render_matrix
from sheetcrm.testing.routes import _route
from sheetcrm.testing.validation import refuse_invalid
from sheetcrm.testing.values import to_serial

# --------------------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, fake: FakeSheetsServer, address: tuple[str, int]) -> None:
        self.fake = fake
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle plus the
        # client's delayed ACK adds ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._track(self.connection, add=False)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        self.server.fake._serve(self, self.command, body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


#: Answers larger than this are sent without indentation.
_INDENT_LIMIT = 256 * 1024


def _payload(response: _Response) -> bytes:
    """The body of ``response`` as sent: indented by two spaces like Google's, except a
    large one, sent compact (JSON clients do not care; ``json``'s indenting encoder is pure
    Python and took seconds of CPU per megabyte of a sync's answers)."""
    if response.body is None:
        return b""
    compact = json.dumps(response.body, ensure_ascii=False)
    if len(compact) > _INDENT_LIMIT:
        return compact.encode("utf-8")
    return json.dumps(response.body, ensure_ascii=False, indent=2).encode("utf-8")


def _send(handler: _Handler, response: _Response, payload: bytes) -> None:
    try:
        handler.send_response(response.status)
        if response.status != 204:
            handler.send_header("Content-Type", "application/json; charset=UTF-8")
        handler.send_header("Content-Length", str(len(payload)))
        for key, value in response.headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        if payload:
            handler.wfile.write(payload)
    except OSError:
        handler.close_connection = True  # the client gave up (timeout) or went away


# --------------------------------------------------------------------------------------
# Pointing clients at the fake
# --------------------------------------------------------------------------------------


class _RedirectAdapter(HTTPAdapter):
    """A transport adapter that sends requests for Google hosts to the fake instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url or "")
        request.url = self.base_url + parts.path + ("?" + parts.query if parts.query else "")
        return super().send(request, *args, **kwargs)


def redirect_session(session: requests.Session, base_url: str) -> requests.Session:
    """Make ``session`` send every Google API request to ``base_url`` (a fake's ``.url``).

    Mounts a transport adapter for ``https://sheets.googleapis.com``,
    ``https://www.googleapis.com`` and ``https://oauth2.googleapis.com``; the path and query
    are kept. For a ``google.auth`` ``AuthorizedSession`` the separate session it uses to
    refresh tokens is redirected too, so even service-account credentials never leave the
    machine. Returns the same session.
    """
    adapter = _RedirectAdapter(base_url)
    for host in GOOGLE_HOSTS:
        session.mount(host + "/", adapter)
    auth_request = getattr(session, "_auth_request", None)
    token_session = getattr(auth_request, "session", None)
    if isinstance(token_session, requests.Session) and token_session is not session:
        for host in GOOGLE_HOSTS:
            token_session.mount(host + "/", adapter)
    return session


class FakeHTTPClient(HTTPClient):
    """A gspread ``HTTPClient`` whose session talks to a :class:`FakeSheetsServer`.

    Use a bound subclass: ``gspread.Client(creds, http_client=fake.http_client_class)``
    or ``FakeHTTPClient.bound_to(fake.url)``. Everything else is gspread's own code.
    """

    fake_base_url: ClassVar[str | None] = None

    def __init__(self, auth: Any, session: requests.Session | None = None) -> None:
        if not self.fake_base_url:
            raise RuntimeError(
                "FakeHTTPClient is not bound to a fake; use FakeHTTPClient.bound_to(fake.url) or fake.http_client_class"
            )
        super().__init__(auth, session)
        redirect_session(self.session, self.fake_base_url)

    @classmethod
    def bound_to(cls, base_url: str) -> type[FakeHTTPClient]:
        """A subclass that redirects to ``base_url``."""
        return type(cls.__name__, (cls,), {"fake_base_url": base_url.rstrip("/")})


def fake_http_client(base_url: str, base: type[Any] | None = None) -> type[Any]:
    """A subclass of gspread HTTP client class ``base`` that talks to the fake at ``base_url``.

    ``base`` defaults to gspread's ``HTTPClient``; pass ``gspread.BackOffHTTPClient`` or
    your own subclass to keep its retry logic while testing against the fake.
    """
    if base is None or base is HTTPClient:
        return FakeHTTPClient.bound_to(base_url)
    if issubclass(base, FakeHTTPClient):
        return base.bound_to(base_url)
    return type(f"Fake{base.__name__}", (FakeHTTPClient, base), {"fake_base_url": base_url.rstrip("/")})


def _fake_credentials() -> Any:
    from google.oauth2.credentials import Credentials

    return Credentials(token="fake-token")


# --------------------------------------------------------------------------------------
# The public fake
# --------------------------------------------------------------------------------------

ValueInput = Literal["RAW", "USER_ENTERED"]


class ProtectedCellError(PermissionError):
    """A person-like change (see :meth:`FakeSheetsServer.act_as`) that a protected range
    refuses, as the Sheets UI refuses it."""


class FakeSheetsServer:
    """A local, in-memory Google Sheets v4 + Drive v3 API server for tests.

    ``FakeSheetsServer(seed=None, require_auth=False, strict=True, port=0)``:
    ``seed`` makes generated ids reproducible; ``require_auth`` answers 401 to requests
    without an ``Authorization`` header, like Google; ``strict`` makes leaving the
    ``with`` block raise if the fake itself failed (a bug in the fake or an exception in a
    ``between_requests`` callback answered 500 instead of crashing the test); ``port`` 0
    picks a free port.

    Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        require_auth: bool = False,
        strict: bool = True,
        port: int = 0,
    ) -> None:
        self._api = _Api(random.Random(seed))
        self._require_auth = require_auth
        self._strict = strict
        self._port = port
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._hook_lock = threading.Lock()
        self._seq = 0
        self._count = 0
        self._requests: list[RecordedRequest] = []
        self._faults: dict[int, Fault] = {}
        self._callbacks: list[BetweenRequestsCallback] = []
        self._connections: set[socket.socket] = set()
        self.errors: list[BaseException] = []
        """Exceptions raised inside the fake (answered as 500); see ``strict``."""

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> FakeSheetsServer:
        """Bind 127.0.0.1 (an ephemeral port unless one was given) and serve in a thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _HTTPServer(self, ("127.0.0.1", self._port))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeSheetsServer:{int(self._server.server_address[1])}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._hook_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSheetsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self._strict and self.errors and exc is None:
            raise RuntimeError(
                f"FakeSheetsServer failed internally {len(self.errors)} time(s); first: {self.errors[0]!r}"
            ) from self.errors[0]

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (paths are Google's: ``/v4/...``)."""
        if self._server is None:
            raise RuntimeError("FakeSheetsServer is not running; call start() or use `with`")
        # Always 127.0.0.1 (we bind it); only the port is ephemeral.
        return f"http://127.0.0.1:{int(self._server.server_address[1])}"

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._hook_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # -- clients ----------------------------------------------------------------------

    @property
    def http_client_class(self) -> type[FakeHTTPClient]:
        """A gspread ``HTTPClient`` subclass bound to this fake (for ``http_client=``)."""
        return FakeHTTPClient.bound_to(self.url)

    def client(
        self,
        credentials: Any = None,
        *,
        http_client: type[Any] | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> Any:
        """A real ``gspread.Client`` whose HTTP goes to this fake.

        ``credentials`` defaults to ``google.oauth2.credentials.Credentials(token=...)``
        with a dummy token; any google-auth credentials work (token refreshes are answered
        by the fake too). ``http_client`` is an optional gspread HTTP client class to keep
        (e.g. ``gspread.BackOffHTTPClient``); ``timeout`` is passed to ``set_timeout``.
        """
        import gspread

        gc = gspread.Client(
            credentials if credentials is not None else _fake_credentials(),
            http_client=fake_http_client(self.url, http_client),
        )
        if timeout is not None:
            gc.set_timeout(timeout)
        return gc

    def redirect(self, session: requests.Session) -> requests.Session:
        """``redirect_session(session, self.url)``: send that session's Google calls here."""
        return redirect_session(session, self.url)

    # -- counters and hooks -----------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last :meth:`reset_counters`, oldest first."""
        with self._hook_lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """How many requests arrived since the last :meth:`reset_counters` (faults included)."""
        with self._hook_lock:
            return self._count

    @property
    def cells_written(self) -> int:
        """Cells given a value through values update, batchUpdate and append, and through
        ``updateCells`` in a spreadsheets.batchUpdate, since the last reset."""
        with self._api.lock:
            return self._api.cells_written

    def reset_counters(self) -> None:
        """Forget recorded requests and zero ``request_count`` and ``cells_written``.

        Scheduled faults keep their place: a fault due on the 3rd request from when it
        was injected still fires then.
        """
        with self._hook_lock:
            self._requests.clear()
            self._count = 0
        with self._api.lock:
            self._api.cells_written = 0

    def inject_fault(
        self,
        at_request: int = 1,
        status: int | None = 429,
        *,
        retry_after: float | None = None,
        delay: float | None = None,
        drop: bool = False,
        body: Json = None,
        message: str | None = None,
        times: int = 1,
        lost: str | None = None,
    ) -> None:
        """Make the ``at_request``-th request from now (1 = the next one) fail.

        ``status`` is the HTTP status to answer with (Google-style error body; 429 adds
        Google's RATE_LIMIT_EXCEEDED ``ErrorInfo``); ``None`` answers normally, which only
        makes sense with ``delay``. ``retry_after`` adds a ``Retry-After`` header (seconds).
        ``delay`` sleeps that many seconds before answering (exceeding a client timeout
        makes ``requests`` raise ``ReadTimeout``). ``drop=True`` closes the connection
        without any response (``requests`` raises ``ConnectionError``). ``body`` replaces
        the JSON error body, ``message`` only its message. ``times`` repeats the fault on
        that many consecutive requests. A faulted request changes no state, except with
        ``lost``: "applied, answer lost". The request is handled as usual (every change it
        makes stays), then the answer never arrives: ``lost="drop"`` closes the connection
        (``requests`` raises ``ConnectionError``), ``lost="timeout"`` holds the connection
        open and silent for ``delay`` seconds (default 30) so the client's read timeout
        fires whatever the machine's load, then closes it. ``status`` is ignored then.
        """
        if at_request < 1 or times < 1:
            raise ValueError("at_request and times must be >= 1")
        if lost not in (None, "drop", "timeout"):
            raise ValueError('lost must be None, "drop" or "timeout"')
        with self._hook_lock:
            for k in range(times):
                self._faults[self._seq + at_request + k] = Fault(
                    status=status,
                    retry_after=retry_after,
                    delay=delay,
                    drop=drop,
                    body=body,
                    message=message,
                    lost=lost,
                )

    def clear_faults(self) -> None:
        """Cancel every fault not yet fired."""
        with self._hook_lock:
            self._faults.clear()

    def pending_faults(self) -> int:
        """How many injected faults have not fired yet."""
        with self._hook_lock:
            return len(self._faults)

    def fault_due_next(self) -> bool:
        """Whether the next request to arrive is one an injected fault fires on."""
        with self._hook_lock:
            return self._seq + 1 in self._faults

    def between_requests(self, callback: BetweenRequestsCallback) -> BetweenRequestsCallback:
        """Run ``callback(fake, request_number)`` before each request is handled.

        ``request_number`` counts from 1 since the last :meth:`reset_counters`. The callback
        runs on the server thread, before the request sees the spreadsheet, so it can act as
        a person editing between a sync's read and its write (``set_values``,
        ``insert_rows``, ``delete_rows``, ``sort_rows``...). Returns ``callback``, so it
        works as a decorator.
        """
        with self._hook_lock:
            self._callbacks.append(callback)
        return callback

    def clear_between_requests(self) -> None:
        """Remove every ``between_requests`` callback."""
        with self._hook_lock:
            self._callbacks.clear()

    # -- request handling ---------------------------------------------------------------

    def _serve(self, handler: _Handler, method: str, raw_body: bytes) -> None:
        cpu_start = time.thread_time()
        split = urlsplit(handler.path)
        raw_path = split.path
        query_all = parse_qs(split.query, keep_blank_values=True)
        routed = _route(method, raw_path)
        body: Json = None
        body_error = False
        is_token = routed is not None and routed[0] == "oauth2.token"
        unsupported = routed is not None and routed[0] == "unimplemented"
        if raw_body and not is_token and not unsupported:  # the token endpoint takes a form, not JSON
            try:
                # NaN/Infinity are not JSON; Python clients (pandas!) send them anyway and
                # Google rejects the whole request.
                body = json.loads(raw_body.decode("utf-8"), parse_constant=_reject_constant)
            except (UnicodeDecodeError, ValueError):
                body_error = True
        with self._hook_lock:
            self._seq += 1
            self._count += 1
            seq, number = self._seq, self._count
            record = RecordedRequest(
                number=number,
                method=method,
                path=unquote(raw_path),
                query={k: v[0] for k, v in query_all.items()},
                query_all=query_all,
                json=body,
                endpoint=routed[0] if routed else None,
            )
            self._requests.append(record)
            callbacks = list(self._callbacks)
            fault = self._faults.pop(seq, None)
        response: _Response | None = None
        for callback in callbacks:
            try:
                callback(self, number)
            except Exception as exc:  # the test's callback failed: report, don't hang
                self.errors.append(exc)
                response = _Response(500, ApiError(500, f"between_requests callback failed: {exc!r}").body())
                break
        if fault is not None and response is None and fault.lost:
            if not body_error and not (
                self._require_auth and not is_token and not handler.headers.get("Authorization")
            ):
                self._dispatch(routed, query_all, body)  # applied; its answer is lost
            if fault.lost == "timeout":
                self._stopping.wait(fault.delay or 30.0)
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and response is None:
            if fault.delay:
                self._stopping.wait(fault.delay)
            if fault.drop:
                handler.close_connection = True
                with contextlib.suppress(OSError):
                    handler.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.status is not None:
                error = fault.error()
                response = _Response(
                    error.code,
                    fault.body if fault.body is not None else error.body(),
                    error.headers,
                )
        if response is None:
            if self._require_auth and not is_token and not handler.headers.get("Authorization"):
                response = _Response(
                    401,
                    ApiError(
                        401,
                        "Request is missing required authentication credential. Expected OAuth 2 "
                        "access token, login cookie or other valid authentication credential.",
                    ).body(),
                )
            elif unsupported:
                # Before the body is parsed: a CSV upload is not "Invalid JSON".
                response = _Response(
                    501,
                    ApiError(
                        501,
                        f"FakeSheetsServer does not implement {method} {unquote(raw_path)} "
                        "(uploads, exports and *ByDataFilter methods): use the methods it implements "
                        "(see sheetcrm.testing).",
                    ).body(),
                )
            elif body_error:
                response = _Response(400, _bad_request("Invalid JSON payload received. Unexpected token.").body())
            else:
                response = self._dispatch(routed, query_all, body)
        payload = _payload(response)
        # Set before the answer leaves: a test reading it once the client has its answer
        # never races the handler thread.
        record.response_bytes = len(payload)
        record.status = response.status
        record.cpu_seconds = time.thread_time() - cpu_start
        _send(handler, response, payload)

    def _dispatch(
        self, routed: tuple[str, dict[str, str]] | None, query: dict[str, list[str]], body: Json
    ) -> _Response:
        if routed is None:
            return _Response(404, ApiError(404, "Method not found.").body())
        name, params = routed
        api = self._api
        try:
            with api.lock:
                result = self._call(api, name, params, query, body)
        except ApiError as err:
            return _Response(err.code, err.body(), err.headers)
        except _RequestError as err:  # raised outside batchUpdate: still a 400
            return _Response(400, _bad_request(str(err)).body())
        except Exception as exc:  # a bug in the fake: answer like Google's 500, remember it
            self.errors.append(exc)
            return _Response(500, ApiError(500, f"Internal error encountered. ({exc!r})").body())
        if result is None:
            return _Response(204)
        return _Response(200, self._masked(name, query, result))

    @staticmethod
    def _masked(name: str, query: dict[str, list[str]], result: Json) -> Json:
        fields = _first(query, "fields")
        if fields and not name.startswith(("drive.", "oauth2.")):
            return apply_mask(result, parse_field_mask(fields))
        return result

    @staticmethod
    def _call(api: _Api, name: str, p: dict[str, str], query: dict[str, list[str]], body: Json) -> Json:
        if name == "oauth2.token":
            return {"access_token": "fake-token", "expires_in": 3599, "token_type": "Bearer"}
        if name == "spreadsheets.create":
            return api.spreadsheets_create(body)
        if name == "spreadsheets.get":
            return api.spreadsheets_get(p["sid"], query)
        if name == "spreadsheets.batchUpdate":
            return api.batch_update(p["sid"], body, _first(query, "fields"))
        if name == "values.get":
            return api.values_get(p["sid"], p["range"], query)
        if name == "values.batchGet":
            return api.values_batch_get(p["sid"], query)
        if name == "values.update":
            return api.values_update(p["sid"], p["range"], query, body)
        if name == "values.batchUpdate":
            return api.values_batch_update(p["sid"], body)
        if name == "values.append":
            return api.values_append(p["sid"], p["range"], query, body)
        if name == "values.clear":
            return api.values_clear(p["sid"], p["range"])
        if name == "values.batchClear":
            return api.values_batch_clear(p["sid"], body)
        if name == "developerMetadata.get":
            return metadata.get(api, api.book_for_sheets(p["sid"]), int(p["mid"]))
        if name == "developerMetadata.search":
            return metadata.search(api, api.book_for_sheets(p["sid"]), api._object_body(body))
        if name == "sheets.copyTo":
            return api.copy_sheet_to(p["sid"], int(p["sheet"]), body)
        if name == "drive.files.create":
            return api.drive_create(query, body)
        if name == "drive.files.list":
            return api.drive_list(query)
        if name == "drive.files.get":
            return api.drive_get(p["fid"], query)
        if name == "drive.files.update":
            return api.drive_update(p["fid"], query, body)
        if name == "drive.files.delete":
            api.drive_delete(p["fid"])
            return None
        if name == "drive.files.copy":
            return api.drive_copy(p["fid"], query, body)
        if name == "drive.permissions.create":
            return api.permission_create(p["fid"], query, body)
        if name == "drive.permissions.list":
            return api.permission_list(p["fid"], query)
        if name == "drive.permissions.delete":
            api.permission_delete(p["fid"], p["pid"])
            return None
        if name == "drive.comments.list":
            return api.comments_list(p["fid"], query)
        if name == "drive.comments.create":
            return api.comment_create(p["fid"], query, body)
        raise ApiError(501, "FakeSheetsServer does not implement this method.")

    # -- state helpers (act as a person in the browser; not counted as requests) -------

    def _book(self, spreadsheet_id: str) -> Spreadsheet:
        book = self._api.books.get(spreadsheet_id)
        if book is None:
            raise KeyError(f"no spreadsheet {spreadsheet_id!r} in the fake")
        return book

    def act_as(self, email: str | None) -> None:
        """Make the person-like methods (``set_values``, ``clear_values``,
        ``insert_rows``, ``delete_rows``, ``sort_rows``) act as the editor ``email``, to
        whom protected ranges apply the way Google applies them: a change touching a
        protected range (not warning-only) whose editors do not include ``email`` is
        refused with :class:`ProtectedCellError`. ``None`` (the default) acts as the
        spreadsheet's owner, whom no protected range stops."""
        self._acting_as = email

    def _refuse_protected(self, sheet: Sheet, r0: int, r1: int, c0: int = 0, c1: int | None = None) -> None:
        """Raise ProtectedCellError if the acting person may not change rows [r0, r1) x
        columns [c0, c1) of ``sheet`` (0-based, half-open)."""
        who = getattr(self, "_acting_as", None)
        if who is None:
            return
        c1 = sheet.col_count if c1 is None else c1
        for pr in sheet.protected_ranges:
            if pr.get("warningOnly") or who in (pr.get("editors") or {}).get("users", []):
                continue
            grid = pr.get("range", {})
            pr0, pr1 = int(grid.get("startRowIndex", 0)), int(grid.get("endRowIndex", sheet.row_count))
            pc0, pc1 = int(grid.get("startColumnIndex", 0)), int(grid.get("endColumnIndex", sheet.col_count))
            if r0 < pr1 and pr0 < r1 and c0 < pc1 and pc0 < c1:
                raise ProtectedCellError(
                    f"{sheet.title}: you are trying to edit a protected cell or object "
                    f"({pr.get('description', 'protected range')}); ask the owner to remove the protection"
                )

    def _sheet(self, spreadsheet_id: str, title: str) -> tuple[Spreadsheet, Sheet]:
        book = self._book(spreadsheet_id)
        sheet = book.find_sheet(title)
        if sheet is None:
            raise KeyError(f"no sheet {title!r} in spreadsheet {spreadsheet_id!r}")
        return book, sheet

    def create_spreadsheet(
        self,
        title: str = "Untitled spreadsheet",
        sheets: Mapping[str, Sequence[Sequence[Any]]] | None = None,
        *,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
        value_input: ValueInput = "RAW",
        fit_grid: bool = False,
    ) -> str:
        """Create a spreadsheet and return its id.

        ``sheets`` maps tab titles to rows of values (default: one empty ``Sheet1``). Grids
        are Google's default 1000 x 26, grown to fit the data (``fit_grid``: exactly the
        data's size, as in a workbook whose owner deleted the empty rows and columns, which
        Google counts against its cell limit). Values are stored as given
        (``value_input="RAW"``: strings stay strings) unless ``value_input="USER_ENTERED"``;
        ``date``/``datetime`` values become date serials with a date format either way.
        """
        with self._api.lock:
            specs = []
            for name, rows in (sheets or {"Sheet1": []}).items():
                width = max((len(r) for r in rows), default=0)
                specs.append(
                    {
                        "title": name,
                        "gridProperties": {
                            "rowCount": max(1, len(rows)) if fit_grid else max(DEFAULT_ROWS, len(rows)),
                            "columnCount": max(1, width) if fit_grid else max(DEFAULT_COLUMNS, width),
                        },
                    }
                )
            book = self._api.create_book(title, specs)
            book.locale, book.time_zone = locale, time_zone
            for sheet, rows in zip(book.sheets, (sheets or {"Sheet1": []}).values(), strict=True):
                self._store_rows(book, sheet, 0, 0, rows, value_input)
            return book.spreadsheet_id

    def delete_spreadsheet(self, spreadsheet_id: str) -> None:
        """Delete a spreadsheet (later requests for it answer 404)."""
        with self._api.lock:
            self._book(spreadsheet_id)
            del self._api.books[spreadsheet_id]
            self._api.deleted.add(spreadsheet_id)

    def spreadsheet_ids(self) -> list[str]:
        """Ids of every spreadsheet in the fake, oldest first."""
        with self._api.lock:
            return list(self._api.books)

    def make_private(self, spreadsheet_id: str, private: bool = True) -> None:
        """Make the caller lose access: Sheets answers 403, Drive 404 (``private=False`` undoes)."""
        with self._api.lock:
            self._book(spreadsheet_id).private = private

    def add_sheet(
        self,
        spreadsheet_id: str,
        title: str,
        rows: Sequence[Sequence[Any]] = (),
        *,
        row_count: int = DEFAULT_ROWS,
        col_count: int = DEFAULT_COLUMNS,
        index: int | None = None,
        value_input: ValueInput = "RAW",
    ) -> int:
        """Add a tab (optionally with data) and return its sheetId."""
        with self._api.lock:
            book = self._book(spreadsheet_id)
            if book.find_sheet(title) is not None:
                raise ValueError(f"sheet {title!r} already exists")
            width = max((len(r) for r in rows), default=0)
            sheet = Sheet(
                self._api.new_sheet_id(book),
                title,
                row_count=max(row_count, len(rows)),
                col_count=max(col_count, width),
            )
            book.sheets.insert(len(book.sheets) if index is None else index, sheet)
            self._store_rows(book, sheet, 0, 0, rows, value_input)
            return sheet.sheet_id

    def sheet_titles(self, spreadsheet_id: str) -> list[str]:
        """Tab titles in order."""
        with self._api.lock:
            return [s.title for s in self._book(spreadsheet_id).sheets]

    def sheet_properties(self, spreadsheet_id: str, title: str) -> dict[str, Any]:
        """The tab's ``SheetProperties`` exactly as the API would return them."""
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, title)
            return sheet.properties(book.index_of(sheet))

    def spreadsheet_resource(self, spreadsheet_id: str, *, grid_data: bool = False) -> dict:
        """What ``GET /v4/spreadsheets/{id}`` would return (optionally with grid data)."""
        with self._api.lock:
            return self._api.spreadsheet_resource(self._book(spreadsheet_id), include_grid=grid_data)

    def get_values(
        self,
        spreadsheet_id: str,
        sheet_title: str,
        *,
        render: Literal["UNFORMATTED_VALUE", "FORMATTED_VALUE", "FORMULA"] = "UNFORMATTED_VALUE",
    ) -> list[list[Any]]:
        """All values of a tab as rows, trailing empty cells and rows trimmed.

        Unformatted by default: numbers are numbers, dates are serial numbers, formulas
        are their computed value (``render="FORMULA"`` gives the formula text).
        """
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            box = _Box(sheet, 0, 0, sheet.row_count, sheet.col_count)
            return render_matrix(book, box, "ROWS", render)

    def get_cell(
        self,
        spreadsheet_id: str,
        sheet_title: str,
        a1: str,
        *,
        render: Literal["UNFORMATTED_VALUE", "FORMATTED_VALUE", "FORMULA"] = "UNFORMATTED_VALUE",
    ) -> Any:
        """One cell's value (None when empty)."""
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            r0, c0, _, _ = parse_cell_part(a1)
            row, col = r0 or 0, c0 or 0
            return render_cell(_Evaluator(book), sheet, row, col, sheet.get(row, col), render)

    def cell_format(self, spreadsheet_id: str, sheet_title: str, a1: str) -> dict | None:
        """One cell's ``userEnteredFormat`` (None when unformatted)."""
        with self._api.lock:
            _, sheet = self._sheet(spreadsheet_id, sheet_title)
            r0, c0, _, _ = parse_cell_part(a1)
            cell = sheet.get(r0 or 0, c0 or 0)
            return copy.deepcopy(cell.fmt) if cell and cell.fmt else None

    def data_validation(self, spreadsheet_id: str, sheet_title: str, a1: str) -> dict | None:
        """One cell's data validation rule (None when there is none)."""
        with self._api.lock:
            _, sheet = self._sheet(spreadsheet_id, sheet_title)
            r0, c0, _, _ = parse_cell_part(a1)
            cell = sheet.get(r0 or 0, c0 or 0)
            return copy.deepcopy(cell.validation) if cell and cell.validation else None

    def protected_ranges(self, spreadsheet_id: str, sheet_title: str) -> list[dict[str, Any]]:
        """The tab's protected ranges as the API reports them."""
        with self._api.lock:
            _, sheet = self._sheet(spreadsheet_id, sheet_title)
            return copy.deepcopy(sheet.protected_ranges)

    def set_values(
        self,
        spreadsheet_id: str,
        sheet_title: str,
        a1_start: str,
        rows: Sequence[Sequence[Any]],
        *,
        value_input: ValueInput = "USER_ENTERED",
    ) -> None:
        """Type ``rows`` into the tab starting at ``a1_start`` (e.g. ``"B3"``), as a person would.

        Interpreted like ``USER_ENTERED`` by default (``"=A1*2"`` is a formula, ``"42"`` a
        number); ``None`` leaves a cell alone and ``""`` clears it. The grid grows if
        needed. Not an API request: not counted and never faulted. A value a strict data
        validation rule does not accept is refused with :class:`RejectedInputError`
        (``validation.py``), for the owner too.
        """
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            r0, c0, _, _ = parse_cell_part(a1_start)
            width = max((len(r) for r in rows), default=0)
            self._refuse_protected(sheet, r0 or 0, (r0 or 0) + len(rows), c0 or 0, (c0 or 0) + width)
            # Anyone, the owner too: validation is not a permission.
            refuse_invalid(book, sheet, r0 or 0, c0 or 0, rows, a1_start)
            self._store_rows(book, sheet, r0 or 0, c0 or 0, rows, value_input)

    def clear_values(self, spreadsheet_id: str, sheet_title: str) -> None:
        """Delete every value in the tab (formatting stays), like selecting all + Delete."""
        with self._api.lock:
            _, sheet = self._sheet(spreadsheet_id, sheet_title)
            self._refuse_protected(sheet, 0, sheet.row_count)
            _Api._clear_box(_Box(sheet, 0, 0, sheet.row_count, sheet.col_count))

    def insert_rows(self, spreadsheet_id: str, sheet_title: str, row: int, n: int = 1) -> None:
        """Insert ``n`` empty rows before 1-based row ``row`` (row ``row`` becomes empty)."""
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            if not 1 <= row <= sheet.row_count + 1 or n < 1:
                raise ValueError(f"cannot insert {n} row(s) at row {row}")
            self._refuse_protected(sheet, row - 1, row)
            insert_dimension(sheet, "ROWS", row - 1, n, book)

    def delete_rows(self, spreadsheet_id: str, sheet_title: str, start: int, end: int | None = None) -> None:
        """Delete 1-based rows ``start``..``end`` inclusive (``end`` defaults to ``start``)."""
        end = start if end is None else end
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            if not 1 <= start <= end <= sheet.row_count or end - start + 1 >= sheet.row_count:
                raise ValueError(f"cannot delete rows {start}..{end}")
            self._refuse_protected(sheet, start - 1, end)
            delete_dimension(sheet, "ROWS", start - 1, end, book)

    def insert_columns(self, spreadsheet_id: str, sheet_title: str, column: int | str, n: int = 1) -> None:
        """Insert ``n`` empty columns before ``column`` (1-based number or letters)."""
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            index = self._column(column)
            if not 0 <= index <= sheet.col_count or n < 1:
                raise ValueError(f"cannot insert {n} column(s) at {column!r}")
            insert_dimension(sheet, "COLUMNS", index, n, book)

    def delete_columns(
        self,
        spreadsheet_id: str,
        sheet_title: str,
        start: int | str,
        end: int | str | None = None,
    ) -> None:
        """Delete columns ``start``..``end`` inclusive (1-based numbers or letters)."""
        first = self._column(start)
        last = first if end is None else self._column(end)
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            if not 0 <= first <= last < sheet.col_count or last - first + 1 >= sheet.col_count:
                raise ValueError(f"cannot delete columns {start!r}..{end!r}")
            delete_dimension(sheet, "COLUMNS", first, last + 1, book)

    def sort_rows(
        self,
        spreadsheet_id: str,
        sheet_title: str,
        key_col: int | str,
        start_row: int = 1,
        *,
        descending: bool = False,
    ) -> None:
        """Sort rows ``start_row``..last row with data by one column, like Data > Sort range.

        ``key_col`` is a 1-based column number or letters; ``start_row`` is 1-based (pass 2
        to keep a header row in place). Stable; blanks sort last in both directions.
        """
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, sheet_title)
            rows, cols = sheet.value_bounds()
            if rows < start_row:
                return
            box = _Box(sheet, start_row - 1, 0, rows, max(cols, self._column(key_col) + 1))
            self._refuse_protected(sheet, box.r0, box.r1, box.c0, box.c1)
            sort_box(book, box, [(self._column(key_col), descending)])

    def rename_sheet(self, spreadsheet_id: str, old_title: str, new_title: str) -> None:
        """Rename a tab, as a person double-clicking it would."""
        with self._api.lock:
            book, sheet = self._sheet(spreadsheet_id, old_title)
            other = book.find_sheet(new_title)
            if other is not None and other is not sheet:
                raise ValueError(f"sheet {new_title!r} already exists")
            rename_in_formulas(book, sheet.title, new_title)
            sheet.title = new_title

    @staticmethod
    def _column(column: int | str) -> int:
        if isinstance(column, str):
            return column_index(column)
        if column < 1:
            raise ValueError("column numbers are 1-based")
        return column - 1

    def _store_rows(
        self,
        book: Spreadsheet,
        sheet: Sheet,
        r0: int,
        c0: int,
        rows: Sequence[Sequence[Any]],
        value_input: ValueInput,
    ) -> None:
        matrix: list[list[Json]] = []
        formats: dict[tuple[int, int], dict[str, str]] = {}
        for i, row in enumerate(rows):
            line: list[Json] = []
            for j, value in enumerate(row):
                if isinstance(value, _dt.datetime | _dt.date):
                    serial = to_serial(value)
                    is_datetime = isinstance(value, _dt.datetime)
                    formats[(r0 + i, c0 + j)] = (
                        {"type": "DATE_TIME", "pattern": "yyyy-mm-dd h:mm:ss"}
                        if is_datetime
                        else {"type": "DATE", "pattern": "yyyy-mm-dd"}
                    )
                    line.append(serial)
                elif value is None or isinstance(value, str | int | float | bool):
                    line.append(value)
                else:
                    line.append(str(value))
            matrix.append(line)
        write = _Write(sheet, r0, c0, matrix, value_input)
        sheet.row_count = max(sheet.row_count, r0 + write.rows)
        sheet.col_count = max(sheet.col_count, c0 + write.cols)
        written = self._api.cells_written
        self._api.apply_write(book, write)
        self._api.cells_written = written  # a person typing is not API traffic
        for (r, c), number_format in formats.items():
            cell = sheet.ensure(r, c)
            cell.fmt = {**(cell.fmt or {}), "numberFormat": number_format}
