"""The main Google Sheets flows (init, validate, sync, pull) replayed from vcrpy cassettes.

Each test replays ``tests/cassettes/<test name>.json``: the HTTP traffic of that flow,
recorded once. Replay needs no server and no network (sockets are blocked while a
cassette replays): vcrpy answers every request from the cassette, matched on method and
URI in recorded order, each interaction at most once, and the test fails unless every
recorded interaction was used.

How the cassettes are recorded (``SHEETCRM_VCR_RECORD=all``; see tests/cassettes/README.md):

* by default against the local fake ``sheetcrm.testing.FakeSheetsServer`` (seeded, so its
  ids are the same on every recording). The client is pointed at the fake with
  ``make_client(base_url=fake.url)`` and a ``before_record_request`` hook rewrites the
  fake's ``http://127.0.0.1:PORT`` origin to Google's (``https://www.googleapis.com``
  for Drive paths, ``https://sheets.googleapis.com`` for the rest), so the cassettes hold
  the URIs a client aimed at Google sends. Replay uses a client with no ``base_url``
  (real Google URIs), intercepted by vcrpy before any connection is made;
* against a real scratch spreadsheet when ``SHEETCRM_LIVE_SPREADSHEET`` and credentials
  (``SHEETCRM_CREDENTIALS_JSON`` or ``SHEETCRM_CREDENTIALS``) are set. The test data is
  first written into that spreadsheet (outside the cassette: not recorded). The init
  cassette is re-recorded live only with ``SHEETCRM_LIVE_CREATE=1`` (it creates a new
  spreadsheet in Drive).

Either way the spreadsheet's key is replaced by :data:`CASSETTE_KEY` (by
:data:`CASSETTE_NEW_KEY` for the spreadsheet ``init`` creates) in URIs and bodies, the
``authorization`` header by ``<ACCESS_TOKEN>``, token requests to
``oauth2.googleapis.com`` are not recorded, and answers that the client retries (408,
429, 5xx) are dropped, so replay needs no retries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openpyxl
import pandas as pd
import pytest
import vcr
from gspread.utils import absolute_range_name

import sheetcrm
from sheetcrm.backends.backup import pull
from sheetcrm.backends.gsheets import spreadsheet_key, to_cell_json
from sheetcrm.google.template import create_google_workbook
from sheetcrm.schema import Lang, Tab
from sheetcrm.workbook import open_backend
from tests.helpers import AS_OF

CASSETTES = Path(__file__).resolve().parent / "cassettes"
#: none (replay only, the default), all (re-record), once, new_episodes.
RECORD_MODE = os.environ.get("SHEETCRM_VCR_RECORD", "none")
TOKEN = "<ACCESS_TOKEN>"
#: The key of the spreadsheet the flows run against, in every cassette (44 characters
#: like a real key, so bodies keep their length when a real key is replaced).
CASSETTE_KEY = "1SheetcrmCassetteSpreadsheetKey0000000000000"
#: The key of the spreadsheet ``init`` creates, in its cassette.
CASSETTE_NEW_KEY = "1SheetcrmCassetteNewSpreadsheetKey0000000000"
#: Seed of the fake, so sheet ids and the like are the same on every recording.
FAKE_SEED = 2026
SHEETS_ORIGIN = "https://sheets.googleapis.com"
DRIVE_ORIGIN = "https://www.googleapis.com"
#: Answers the client retries: not recorded (as gspread's own cassettes drop 408/429).
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"

#: The requests of each flow, as (method, path) with the key as {key}.
FLOWS: dict[str, list[tuple[str, str]]] = {
    "init": [
        ("POST", "/drive/v3/files"),
        ("POST", "/v4/spreadsheets/{key}:batchUpdate"),
        ("POST", "/v4/spreadsheets/{key}/values:batchUpdate"),
    ],
    "read": [
        ("GET", "/v4/spreadsheets/{key}"),
        ("GET", "/v4/spreadsheets/{key}/values:batchGet"),
    ],
    # pull: the CRM tabs read as sync reads them, then every tab with its formulas (grid data).
    "pull": [
        ("GET", "/v4/spreadsheets/{key}"),
        ("GET", "/v4/spreadsheets/{key}/values:batchGet"),
        ("GET", "/v4/spreadsheets/{key}"),
    ],
    "sync": [
        ("GET", "/v4/spreadsheets/{key}"),
        ("GET", "/v4/spreadsheets/{key}/values:batchGet"),
        ("POST", "/v4/spreadsheets/{key}:batchUpdate"),
        ("POST", "/v4/spreadsheets/{key}:batchUpdate"),
    ],
}


def live_settings() -> tuple[str, str] | None:
    """(spreadsheet key or URL, name of the credentials variable) when a real scratch
    spreadsheet and credentials are configured, else None."""
    target = os.environ.get("SHEETCRM_LIVE_SPREADSHEET", "").strip()
    creds = next(
        (v for v in ("SHEETCRM_CREDENTIALS_JSON", "SHEETCRM_CREDENTIALS") if os.environ.get(v, "").strip()), None
    )
    return (target, creds) if target and creds else None


def live_create() -> bool:
    return os.environ.get("SHEETCRM_LIVE_CREATE", "") == "1"


# ------------------------------------------------------------------ the test data


def workbook_rows(path: Path) -> dict[str, list[list[Any]]]:
    """Every tab of the .xlsx at ``path`` as rows of values (trailing blanks trimmed)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    out: dict[str, list[list[Any]]] = {}
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        for row in rows:
            while row and row[-1] is None:
                row.pop()
        while rows and not rows[-1]:
            rows.pop()
        out[ws.title] = rows
    return out


def put_rows(client: Any, key: str, sheets: dict[str, list[list[Any]]]) -> None:
    """Make the spreadsheet ``key`` hold exactly ``sheets`` (title -> rows), in that
    order, each on a grid of at least 1000 x 26 (what uploading an .xlsx to Google Drive
    gives): adds missing tabs, deletes other tabs, clears and writes every value (RAW;
    dates as serial numbers). Works on a real spreadsheet as on the fake."""
    http = client.http_client
    fields = {"includeGridData": "false", "fields": "sheets.properties(sheetId,title)"}

    def existing() -> dict[str, int]:
        meta = http.fetch_sheet_metadata(key, params=fields)
        return {s["properties"]["title"]: int(s["properties"].get("sheetId", 0)) for s in meta.get("sheets", [])}

    def grid(rows: list[list[Any]]) -> dict[str, int]:
        return {"rowCount": max(1000, len(rows)), "columnCount": max(26, max((len(r) for r in rows), default=0))}

    have = existing()
    structure: list[dict[str, Any]] = [
        {"addSheet": {"properties": {"title": title, "gridProperties": grid(rows)}}}
        for title, rows in sheets.items()
        if title not in have
    ]
    structure += [{"deleteSheet": {"sheetId": sid}} for title, sid in have.items() if title not in sheets]
    if structure:
        http.batch_update(key, {"requests": structure})
        have = existing()
    http.batch_update(
        key,
        {
            "requests": [
                {
                    "updateSheetProperties": {
                        "properties": {"sheetId": have[title], "index": index, "gridProperties": grid(rows)},
                        "fields": "index,gridProperties(rowCount,columnCount)",
                    }
                }
                for index, (title, rows) in enumerate(sheets.items())
            ]
        },
    )
    http.values_batch_clear(key, body={"ranges": [absolute_range_name(t) for t in sheets]})
    data = [
        {"range": absolute_range_name(title, "A1"), "values": [[to_cell_json(v) for v in row] for row in rows]}
        for title, rows in sheets.items()
        if rows
    ]
    http.values_batch_update(key, body={"valueInputOption": "RAW", "data": data})


# ------------------------------------------------------------------ recording hooks


class Scrubber:
    """vcrpy hooks that make recorded traffic look like a client aimed at Google talking to
    the cassette spreadsheet: ``origin`` (the fake's base URL, if recording against it) is
    rewritten to Google's origins, recorded spreadsheet keys to the cassette keys.

    At replay both hooks see only Google URIs and cassette keys, and change nothing."""

    def __init__(
        self, origin: str | None = None, keys: dict[str, str] | None = None, new_key: str | None = None
    ) -> None:
        self.origin = origin.rstrip("/") if origin else None
        self.keys = dict(keys or {})
        self.new_key = new_key

    def scrub(self, text: str) -> str:
        for recorded, fixed in self.keys.items():
            text = text.replace(recorded, fixed)
        return text

    def request(self, request: Any) -> Any:
        uri = request.uri
        if self.origin and (uri == self.origin or uri.startswith(self.origin + "/")):
            path = uri[len(self.origin) :]
            drive = path.startswith(("/drive/", "/upload/drive/"))
            uri = (DRIVE_ORIGIN if drive else SHEETS_ORIGIN) + path
        request.uri = self.scrub(uri)
        body = request.body
        if isinstance(body, bytes) and self.keys:
            request.body = self.scrub(body.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any] | None:
        if response["status"]["code"] in RETRIED_STATUSES:
            return None
        response["headers"] = dict(sorted(response["headers"].items()))  # stable diffs on re-recording
        body = response["body"]["string"]
        text = body.decode("utf-8", "surrogateescape") if isinstance(body, bytes) else body
        if self.new_key and text:
            try:
                answer = json.loads(text)
            except ValueError:
                answer = None
            if (
                isinstance(answer, dict)
                and answer.get("mimeType") == SPREADSHEET_MIME
                and answer.get("id")
                and answer["id"] not in self.keys
            ):
                self.keys[str(answer["id"])] = self.new_key
        if self.keys and text:
            text = self.scrub(text)
            response["body"]["string"] = text.encode("utf-8", "surrogateescape") if isinstance(body, bytes) else text
        return response


def make_vcr(scrubber: Scrubber) -> vcr.VCR:
    return vcr.VCR(
        serializer="json",
        cassette_library_dir=str(CASSETTES),
        record_mode=RECORD_MODE,
        match_on=["method", "uri"],
        filter_headers=[("authorization", TOKEN)],
        ignore_hosts=["oauth2.googleapis.com"],
        decode_compressed_response=True,
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
    )


# ------------------------------------------------------------------ where the traffic goes


@dataclass
class Source:
    """Where a flow's requests go: ``kind`` is "replay" (the cassette, no server),
    "fake" (recording against FakeSheetsServer) or "live" (recording against Google)."""

    kind: str
    client: Any
    scrubber: Scrubber
    key: str = CASSETTE_KEY
    prepare: Callable[[dict[str, list[list[Any]]]], None] = field(default=lambda _sheets: None)

    @property
    def url(self) -> str:
        return f"https://docs.google.com/spreadsheets/d/{self.key}/edit"


def _replay_client() -> Any:
    from google.oauth2.credentials import Credentials

    from sheetcrm.google.http import make_client

    # A token that never expires: no refresh request. One attempt: a replayed answer that
    # the client would retry is a broken cassette.
    return make_client(Credentials(token=TOKEN), max_attempts=1, sleep=lambda _s: None)


@pytest.fixture
def source() -> Iterator[Source]:
    live = live_settings()
    if RECORD_MODE == "none":
        yield Source("replay", _replay_client(), Scrubber())
        return
    if live is not None:
        from sheetcrm.google.connect import ENV_API_URL, connect

        key = spreadsheet_key(live[0])
        # As every command connects (SHEETCRM_SHEETS_API_URL, if set, sends the traffic to
        # another server, e.g. a FakeSheetsServer run by hand; its origin is rewritten too).
        client, _creds = connect(create=live_create())
        scrubber = Scrubber(os.environ.get(ENV_API_URL) or None, {key: CASSETTE_KEY}, CASSETTE_NEW_KEY)
        yield Source("live", client, scrubber, key, prepare=lambda sheets: put_rows(client, key, sheets))
        return
    from google.oauth2.credentials import Credentials

    from sheetcrm.google.http import make_client
    from sheetcrm.testing import FakeSheetsServer

    with FakeSheetsServer(seed=FAKE_SEED) as fake:
        key = fake.create_spreadsheet("sheetcrm cassettes")
        client = make_client(
            Credentials(token="recording-token"), base_url=fake.url, sleep=lambda _s: None, timeout=(10.0, 120.0)
        )
        yield Source(
            "fake",
            client,
            Scrubber(origin=fake.url, keys={key: CASSETTE_KEY}, new_key=CASSETTE_NEW_KEY),
            key,
            prepare=lambda sheets: put_rows(client, key, sheets),
        )


# ------------------------------------------------------------------ running a flow on a cassette


def _block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a cassette replay tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@dataclass
class Sent:
    method: str
    url: str
    body: Any


@contextlib.contextmanager
def cassette(request: pytest.FixtureRequest, source: Source) -> Iterator[tuple[Any, list[Sent]]]:
    """Run the body on the test's cassette; yields (cassette, the requests the library
    sent). At replay the network is blocked and every recorded interaction must be used
    exactly once."""
    name = f"{request.node.name}.json"
    if source.kind == "replay" and not (CASSETTES / name).exists():
        pytest.fail(
            f"no cassette {CASSETTES / name}; record it with SHEETCRM_VCR_RECORD=all (see tests/cassettes/README.md)"
        )
    if RECORD_MODE == "all":
        # Re-recording replaces the cassette (vcrpy would keep old interactions it did not see).
        (CASSETTES / name).unlink(missing_ok=True)
    sent: list[Sent] = []
    http = source.client.http_client
    through = http.request

    def spy(method: str, endpoint: str, *args: Any, **kwargs: Any) -> Any:
        body = kwargs.get("json")
        sent.append(Sent(method.upper(), endpoint, json.loads(json.dumps(body)) if body is not None else None))
        return through(method, endpoint, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(http, "request", spy)
        if source.kind == "replay":
            _block_network(mp)
        with make_vcr(source.scrubber).use_cassette(name, allow_playback_repeats=False) as cass:
            yield cass, sent
    if source.kind == "replay":
        assert cass.play_count == len(cass) and cass.all_played, (
            f"{name}: {len(cass)} interaction(s) recorded, {cass.play_count} replayed"
        )


def check_traffic(
    cass: Any,
    sent: list[Sent],
    source: Source,
    flow: str,
    key: str = CASSETTE_KEY,
    *,
    normalize: Callable[[Any], Any] = lambda body: body,
) -> None:
    """The cassette holds exactly the requests of ``flow`` on spreadsheet ``key``, as a
    client aimed at Google sends them, with the token filtered; the library sent those
    requests in that order (same method, URI and, after ``normalize``, which blanks what
    differs per run, JSON body). Bodies are checked here because replay matches on method
    and URI only."""
    recorded = list(cass.requests)
    expected = [(m, p.format(key=key)) for m, p in FLOWS[flow]]
    assert [(r.method, urlsplit(r.uri).path) for r in recorded] == expected
    for r in recorded:
        assert r.uri.startswith((SHEETS_ORIGIN + "/", DRIVE_ORIGIN + "/")), r.uri
        assert r.headers.get("authorization") == TOKEN
    assert len(sent) == len(recorded)
    for s, r in zip(sent, recorded, strict=True):
        assert s.method == r.method
        assert urlsplit(source.scrubber.scrub(s.url)).path == urlsplit(r.uri).path
        body = json.loads(r.body) if r.body else None
        assert normalize(s.body) == normalize(body), f"{r.method} {r.uri}: body differs from the cassette's"


# ------------------------------------------------------------------ the flows


#: Mistakes planted in the small CRM for validate and pull: (tab, record, column, value).
MISTAKES = [
    (Tab.CONTACTS, 0, "Email", "lin@example"),
    (Tab.CONTACTS, 1, "Company ID", "CO-9999"),
    (Tab.OPPORTUNITIES, 0, "Stage", "Closing"),
    (Tab.OPPORTUNITIES, 1, "Amount", "lots"),
    (Tab.ACTIVITIES, 0, "Date", "yesterday"),
]


@pytest.fixture
def crm_xlsx(make_workbook: Callable[..., Path], small_crm: Any) -> Path:
    """The small CRM of tests/conftest.py as an .xlsx (clean: what sync runs on)."""
    return make_workbook(small_crm, name="crm.xlsx")


@pytest.fixture
def messy_xlsx(make_workbook: Callable[..., Path], small_crm: Any) -> Path:
    """The small CRM with :data:`MISTAKES` planted (what validate and pull run on)."""
    for tab, index, column, value in MISTAKES:
        small_crm[tab][index][column] = value
    return make_workbook(small_crm, name="messy.xlsx")


def test_init_google_workbook(request: pytest.FixtureRequest, source: Source) -> None:
    if source.kind == "live" and not live_create():
        pytest.skip("re-recording init against Google creates a spreadsheet: set SHEETCRM_LIVE_CREATE=1")
    with cassette(request, source) as (cass, sent):
        url = create_google_workbook(source.client, "sheetcrm cassette", Lang.EN)
    key = spreadsheet_key(url)
    if source.kind == "live":  # after the cassette: not recorded
        source.client.del_spreadsheet(key)
    assert source.scrubber.keys.get(key, key) == CASSETTE_NEW_KEY
    check_traffic(cass, sent, source, "init", CASSETTE_NEW_KEY, normalize=_per_run_blanked)
    layout = sent[1].body["requests"]
    titles = [r["addSheet"]["properties"]["title"] for r in layout if "addSheet" in r]
    assert titles == [t.value for t in Tab if t is not Tab.COMPANIES]
    headers = {d["range"]: d["values"] for d in sent[2].body["data"]}
    assert headers["'Contacts'!A1"][0][:3] == ["ID", "Company ID", "Name"]
    assert any(row[:2] == ["language", "en"] for row in headers["'Settings'!A2"])


def test_validate(request: pytest.FixtureRequest, source: Source, messy_xlsx: Path) -> None:
    source.prepare(workbook_rows(messy_xlsx))
    with cassette(request, source) as (cass, sent):
        problems = sheetcrm.open(source.url, client=source.client).validate()
    check_traffic(cass, sent, source, "read")
    for tab, index, column, value in MISTAKES:
        hit = problems[
            (problems["tab"] == tab.value)
            & (problems["row"] == index + 2)
            & problems["column"].str.startswith(column + " (")
        ]
        assert len(hit) == 1 and hit.iloc[0]["value"] == value, problems.to_string()
    # The same data in a local .xlsx has the same problems.
    expected = sheetcrm.open(messy_xlsx).validate()
    pd.testing.assert_frame_equal(problems.reset_index(drop=True), expected.reset_index(drop=True))


def _is_log_rows(cells: dict[str, Any]) -> bool:
    """An updateCells that writes Log rows: eight columns from A, below the header (every
    other cell the sync writes is one column wide)."""
    grid = cells["range"]
    return (
        grid.get("startColumnIndex", 0) == 0 and grid.get("endColumnIndex", 0) == 8 and grid.get("startRowIndex", 0) > 0
    )


def _per_run_blanked(body: Any) -> Any:
    """A sync's or init's request body with what differs per run blanked: the locks'
    protectedRangeIds and times, the row tags' metadataIds, the Log rows' time and run id,
    init's marker."""
    if not isinstance(body, dict):
        return body
    body = json.loads(json.dumps(body))
    if "appProperties" in body:
        body["appProperties"] = {k: "<marker>" for k in body["appProperties"]}
    for req in body.get("requests", []):
        for kind in ("addProtectedRange", "deleteProtectedRange"):
            if kind in req:
                target = req[kind].get("protectedRange", req[kind])
                target["protectedRangeId"] = "<lock>"
                if "description" in target:
                    target["description"] = re.sub(r" since \S+", " since <time>", target["description"])
        if "createDeveloperMetadata" in req:
            req["createDeveloperMetadata"]["developerMetadata"]["metadataId"] = "<tag>"
        if "deleteDeveloperMetadata" in req:
            req["deleteDeveloperMetadata"]["dataFilter"]["developerMetadataLookup"]["metadataId"] = "<tag>"
        cells = req.get("updateCells")
        if cells and _is_log_rows(cells):
            for row in cells["rows"]:
                row["values"][:2] = [{"<time>": 1}, {"<run>": 1}]
    return body


def test_sync(request: pytest.FixtureRequest, source: Source, crm_xlsx: Path, tmp_path: Path) -> None:
    source.prepare(workbook_rows(crm_xlsx))
    with cassette(request, source) as (cass, sent):
        result = sheetcrm.open(source.url, client=source.client).sync(as_of=AS_OF)
    check_traffic(cass, sent, source, "sync", normalize=_per_run_blanked)
    assert result.report is not None and result.report.requests == 2 and not result.report.skipped
    assert result.counts["cells_written"] == len(result.changes) > 0
    assert result.counts["stage_moves"] == 1
    locking, written = sent[2].body, sent[3].body
    locks = [next(iter(r)) for r in locking["requests"]]
    # Locks, and tags for the rows of the tabs written (none was tagged yet).
    assert set(locks) == {"addProtectedRange", "createDeveloperMetadata"}
    assert locking["includeSpreadsheetInResponse"] and locking["responseRanges"]
    kinds = [next(iter(r)) for r in written["requests"]]
    # Guards (delete and re-create each written row's tag) before any cell is written.
    assert set(kinds) == {
        "deleteDeveloperMetadata",
        "createDeveloperMetadata",
        "findReplace",
        "updateCells",
        "deleteProtectedRange",
    }
    assert kinds.index("findReplace") > kinds.index("createDeveloperMetadata")
    assert kinds.count("deleteProtectedRange") == locks.count("addProtectedRange")
    log = [r["updateCells"] for r in written["requests"] if "updateCells" in r and _is_log_rows(r["updateCells"])]
    assert len(log) == 1 and len(log[0]["rows"]) == result.report.log_rows > 0
    # The same data in a local .xlsx gets the same changes.
    local = tmp_path / "local.xlsx"
    local.write_bytes(crm_xlsx.read_bytes())
    expected = sheetcrm.open(local).sync(as_of=AS_OF)
    cols = ["tab", "id", "column", "new", "kind"]
    pd.testing.assert_frame_equal(
        result.changes[cols].reset_index(drop=True), expected.changes[cols].reset_index(drop=True)
    )


def test_pull(request: pytest.FixtureRequest, source: Source, messy_xlsx: Path, tmp_path: Path) -> None:
    source.prepare(workbook_rows(messy_xlsx))
    with cassette(request, source) as (cass, sent):
        saved = pull(open_backend(source.url, client=source.client), tmp_path / "copy.xlsx")
    check_traffic(cass, sent, source, "pull")
    # Every tab, header and value as in the workbook uploaded: dates in date columns as
    # dates again (they travel as serial numbers), text in a date column kept as text.
    pulled = workbook_rows(saved)
    assert pulled == workbook_rows(messy_xlsx)
    activities = pulled["Activities"]
    date = activities[0].index("Date")
    assert activities[1][date] == "yesterday" and isinstance(activities[2][date], dt.datetime)
