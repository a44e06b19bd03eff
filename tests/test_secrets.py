"""A fake private key appears in no output, log or exception text.

A fake service-account key (a fresh RSA key) whose token_uri is the local fake's /token:
the real google-auth JWT flow signs an assertion with the key and trades it for an access
token on 127.0.0.1, and the fake then demands that token on every request. The CLI and the
library run validate, sync, pull and init --google against the fake, and the failure paths
(403, 404, 429 exhausted, a refused token, broken key JSON, key JSON inline in
SHEETCRM_CREDENTIALS_JSON). Everything a person or a log collector could see is gathered:
stdout, stderr, every log record at DEBUG from every logger (urllib3, gspread, google
included; the formatted message and every attribute of the record), the exception's
str/repr/traceback (and every exception chained to it, suppressed or not), the Log tab,
the pulled .xlsx and the --backup copy (every part of the zip). None may hold any 40-char
chunk of the key's base64 body, the private_key_id, or the access token the fake issued.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import traceback
import urllib.parse
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import sheetcrm
from sheetcrm.backends.backup import pull
from sheetcrm.cli import cli
from sheetcrm.exceptions import (
    AuthError,
    PermissionDeniedError,
    QuotaError,
    SheetCRMError,
    WorkbookNotFoundError,
)
from sheetcrm.google import http as sheetcrm_http
from sheetcrm.google.auth import load_credentials
from sheetcrm.google.connect import ENV_API_URL, connect
from sheetcrm.google.template import create_google_workbook
from sheetcrm.schema import Lang
from sheetcrm.testing import FakeSheetsServer
from sheetcrm.workbook import open_backend
from tests.helpers import AS_OF, upload_xlsx

SA_EMAIL = "sheetcrm-secrets@demo-project.iam.gserviceaccount.com"
#: A fresh key id and access token per run: if either shows up, it came from this run.
KEY_ID = secrets.token_hex(20)
ACCESS_TOKEN = "tok-" + secrets.token_urlsafe(32)  # deliberately not ya29.-shaped: no redaction by shape
WINDOW = 40
#: What the token endpoint says when it refuses a key (Google's wording).
INVALID_GRANT = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}


# --------------------------------------------------------------------------------------
# the leak detector
# --------------------------------------------------------------------------------------


def _pem_body(pem: str) -> str:
    return "".join(line.strip() for line in pem.splitlines() if line.strip() and not line.startswith("-----"))


class Exposure:
    """Everything a run showed, and the check that no secret is in it."""

    def __init__(self, pem: str) -> None:
        body = _pem_body(pem)
        assert len(body) > 400
        self.windows = {body[i : i + WINDOW] for i in range(len(body) - WINDOW + 1)}
        self.exact = {"private_key_id": KEY_ID, "access token": ACCESS_TOKEN}
        self.texts: list[tuple[str, str]] = []

    # -- gathering ------------------------------------------------------------------------

    def add(self, where: str, text: Any) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.texts.append((where, str(text)))

    def add_result(self, where: str, result: Result) -> None:
        self.add(f"{where}: stdout", result.stdout)
        self.add(f"{where}: stderr", result.stderr)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            self.add_exception(f"{where}: exception", result.exception)

    def add_exception(self, where: str, exc: BaseException) -> None:
        self.add(f"{where}: str", str(exc))
        self.add(f"{where}: repr", repr(exc))
        self.add(f"{where}: traceback", "".join(traceback.format_exception(exc)))
        seen: set[int] = set()
        link: BaseException | None = exc
        while link is not None and id(link) not in seen:  # suppressed contexts too
            seen.add(id(link))
            self.add(f"{where}: chained {type(link).__name__}", f"{link!s} {link!r} {vars(link)!r}")
            link = link.__cause__ or link.__context__

    def add_records(self, where: str, records: list[logging.LogRecord]) -> None:
        formatter = logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
        for record in records:
            self.add(f"{where}: log {record.name}", formatter.format(record))
            self.add(f"{where}: log {record.name} attributes", repr(vars(record)))

    def add_file(self, where: str, path: Path) -> None:
        """A file as bytes, and for an .xlsx every part of the zip (cells are in XML)."""
        self.add(where, path.read_bytes())
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    self.add(f"{where}:{name}", zf.read(name))

    def add_spreadsheet(self, where: str, fake: FakeSheetsServer, key: str) -> None:
        for title in fake.sheet_titles(key):
            for render in ("UNFORMATTED_VALUE", "FORMULA"):
                self.add(
                    f"{where}: tab {title}", json.dumps(fake.get_values(key, title, render=render), ensure_ascii=False)
                )
        self.add(f"{where}: resource", json.dumps(fake.spreadsheet_resource(key), ensure_ascii=False))

    # -- checking -------------------------------------------------------------------------

    @staticmethod
    def _variants(text: str) -> list[str]:
        """The text as shown, unescaped (JSON, URL), and with all whitespace and literal
        \\n removed (so a key split over lines still matches)."""
        unquoted = urllib.parse.unquote_plus(text)
        out = [text, unquoted]
        for t in (text, unquoted):
            squeezed = t.replace("\\n", "").replace("\\r", "").replace("\\/", "/")
            out.append("".join(squeezed.split()))
        return out

    def leaks(self) -> list[str]:
        found = []
        for where, text in self.texts:
            for variant in self._variants(text):
                hit = next(
                    (
                        variant[i : i + WINDOW]
                        for i in range(len(variant) - WINDOW + 1)
                        if variant[i : i + WINDOW] in self.windows
                    ),
                    None,
                )
                if hit is not None:
                    found.append(f"{where}: private key chunk {hit[:8]}...")
                    break
            for name, value in self.exact.items():
                if value in text or value in urllib.parse.unquote_plus(text):
                    found.append(f"{where}: {name}")
        return found

    def assert_clean(self) -> None:
        assert self.texts, "nothing was gathered"
        leaks = self.leaks()
        assert not leaks, "secrets leaked:\n" + "\n".join(leaks)


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeSheetsServer]:
    """The local Sheets API, answering 401 to any request without a token."""
    with FakeSheetsServer(require_auth=True) as server:
        yield server


@pytest.fixture
def seen_auth(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Make the fake's token endpoint issue ACCESS_TOKEN; record each request's
    Authorization header (to prove the token was really used)."""
    real_call = FakeSheetsServer._call
    real_serve = FakeSheetsServer._serve
    seen: list[str | None] = []

    def call(api: Any, name: str, params: Any, query: Any, body: Any) -> Any:
        if name == "oauth2.token":
            return {"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}
        return real_call(api, name, params, query, body)

    def serve(self: FakeSheetsServer, handler: Any, method: str, raw_body: bytes) -> None:
        seen.append(handler.headers.get("Authorization"))
        return real_serve(self, handler, method, raw_body)

    monkeypatch.setattr(FakeSheetsServer, "_call", staticmethod(call))
    monkeypatch.setattr(FakeSheetsServer, "_serve", serve)
    return seen


@pytest.fixture(autouse=True)
def _isolated(
    loopback_only: None,
    google_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake: FakeSheetsServer,
    seen_auth: list[str | None],
) -> Iterator[None]:
    """No real home directory, no credentials from the environment, Google API calls to
    the fake, no sleeping between retries, and no network beyond 127.0.0.1."""
    monkeypatch.setenv(ENV_API_URL, fake.url)
    monkeypatch.setitem(sheetcrm_http.DEFAULT_OPTIONS, "sleep", lambda _s: None)
    monkeypatch.setitem(sheetcrm_http.DEFAULT_OPTIONS, "max_attempts", 2)
    monkeypatch.setitem(sheetcrm_http.DEFAULT_OPTIONS, "timeout", (2.0, 2.0))
    yield


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> pytest.LogCaptureFixture:
    """Every record of every logger at DEBUG. google-auth only logs requests when the
    ``google`` logger is configured, and stops it propagating unless it is: set it up."""
    caplog.set_level(logging.DEBUG)
    for name in ("google", "google.auth", "urllib3", "gspread", "sheetcrm", "requests_oauthlib", "oauthlib"):
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setattr(logging.getLogger("google"), "propagate", True)
    return caplog


@pytest.fixture
def key_info(fake: FakeSheetsServer, pem: str) -> dict[str, Any]:
    return {
        "type": "service_account",
        "project_id": "demo-project",
        "private_key_id": KEY_ID,
        "private_key": pem,
        "client_email": SA_EMAIL,
        "client_id": "123456789012345678901",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": f"{fake.url}/token",
        "universe_domain": "googleapis.com",
    }


@pytest.fixture
def sa_json(tmp_path: Path, key_info: dict[str, Any]) -> Path:
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(key_info, indent=2))
    return path


@pytest.fixture
def exposure(pem: str) -> Exposure:
    return Exposure(pem)


@pytest.fixture
def crm_key(fake: FakeSheetsServer, make_workbook, small_crm) -> str:
    return upload_xlsx(fake, make_workbook(small_crm))


def _url(key: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"


def _invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, args, env=env)


def _assert_token_flow_ran(fake: FakeSheetsServer, seen_auth: list[str | None]) -> None:
    """The key was used: the JWT flow asked /token, and the issued token was sent."""
    assert any(r.endpoint == "oauth2.token" and r.status == 200 for r in fake.requests)
    assert f"Bearer {ACCESS_TOKEN}" in seen_auth


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# --------------------------------------------------------------------------------------
# the detector itself
# --------------------------------------------------------------------------------------


def test_the_detector_finds_the_key_however_it_is_shown(pem: str, key_info: dict[str, Any]) -> None:
    body = _pem_body(pem)
    shown = [
        pem,  # as is
        json.dumps(key_info),  # JSON-escaped newlines
        repr(key_info),  # a dict's repr
        urllib.parse.quote_plus(pem),  # URL-encoded
        f"... {body[200:241]} ...",  # one 41-char piece
        pem.splitlines()[3][-25:] + "\n" + pem.splitlines()[4][:25],  # a piece across a line break
        f"id={KEY_ID}",
        f"Authorization: Bearer {ACCESS_TOKEN}",
    ]
    for text in shown:
        found = Exposure(pem)
        found.add("sample", text)
        assert found.leaks(), text[:60]
    clean = Exposure(pem)
    clean.add("sample", f"{body[:39]} {SA_EMAIL} {KEY_ID[:39]}")
    assert not clean.leaks()


# --------------------------------------------------------------------------------------
# the CLI, working
# --------------------------------------------------------------------------------------


def test_cli_validate_sync_backup_pull_leak_nothing(
    fake, seen_auth, logs, exposure, sa_json: Path, crm_key: str, tmp_path: Path
) -> None:
    url = _url(crm_key)
    creds = ["--credentials", str(sa_json)]
    runs = {
        "validate": ["validate", "--spreadsheet", url, *creds],
        "validate json": ["validate", "--spreadsheet", crm_key, "--format", "json", *creds],
        "sync dry run": ["sync", "--spreadsheet", url, *creds, "--as-of", AS_OF.isoformat(), "--dry-run"],
        "sync --backup": [
            "sync",
            "--spreadsheet",
            url,
            *creds,
            "--as-of",
            AS_OF.isoformat(),
            "--backup",
            str(tmp_path / "backups"),
            "--plan-csv",
            str(tmp_path / "plan.csv"),
        ],
        "pull": ["pull", "--spreadsheet", url, *creds, "--to", str(tmp_path / "copy.xlsx")],
    }
    for name, args in runs.items():
        result = _invoke(args)
        assert result.exit_code == 0, (name, result.output)
        exposure.add_result(name, result)
    backups = list((tmp_path / "backups").glob("*.xlsx"))
    assert len(backups) == 1
    exposure.add_file("backup copy", backups[0])
    exposure.add_file("pulled copy", tmp_path / "copy.xlsx")
    exposure.add_file("plan csv", tmp_path / "plan.csv")
    assert len(fake.get_values(crm_key, "Log")) > 1  # the sync wrote Log rows
    exposure.add_spreadsheet("the spreadsheet (Log tab included)", fake, crm_key)
    exposure.add_records("logs", logs.records)
    _assert_token_flow_ran(fake, seen_auth)
    assert any(r.name.startswith("urllib3") for r in logs.records)  # DEBUG logging really was on
    assert any(r.name.startswith("google.auth") for r in logs.records)
    exposure.assert_clean()


def test_cli_init_google_leaks_nothing(fake, seen_auth, logs, exposure, sa_json: Path) -> None:
    result = _invoke(
        [
            "init",
            "--google",
            "--credentials",
            str(sa_json),
            "--title",
            "Secret-free CRM",
            "--share",
            "someone@example.com",
            "--lang",
            "zh-TW",
        ]
    )
    assert result.exit_code == 0, result.output
    exposure.add_result("init --google", result)
    (key,) = fake.spreadsheet_ids()
    exposure.add_spreadsheet("the new spreadsheet", fake, key)
    exposure.add("requests to the fake", repr([(r.path, r.query, r.json) for r in fake.requests]))
    exposure.add_records("logs", logs.records)
    _assert_token_flow_ran(fake, seen_auth)
    exposure.assert_clean()


@pytest.mark.parametrize("form", ["json", "base64", "escaped newlines"])
def test_cli_with_the_key_inline_in_the_environment_leaks_nothing(
    fake, seen_auth, logs, exposure, key_info: dict[str, Any], crm_key: str, tmp_path: Path, form: str
) -> None:
    if form == "escaped newlines":  # pasted through a CI form that kept the \n escapes
        key_info = {**key_info, "private_key": key_info["private_key"].replace("\n", "\\n")}
    inline = json.dumps(key_info)
    if form == "base64":
        inline = base64.b64encode(inline.encode()).decode()
    env = {"SHEETCRM_CREDENTIALS_JSON": inline}
    sync = _invoke(
        ["sync", "--spreadsheet", _url(crm_key), "--as-of", AS_OF.isoformat(), "--backup", str(tmp_path / "bk")],
        env=env,
    )
    assert sync.exit_code == 0, sync.output
    exposure.add_result("sync", sync)
    pulled = _invoke(["pull", "--spreadsheet", crm_key, "--to", str(tmp_path / "copy.xlsx")], env=env)
    assert pulled.exit_code == 0, pulled.output
    exposure.add_result("pull", pulled)
    exposure.add_file("backup", next((tmp_path / "bk").glob("*.xlsx")))
    exposure.add_file("pulled", tmp_path / "copy.xlsx")
    exposure.add_spreadsheet("the spreadsheet", fake, crm_key)
    exposure.add_records("logs", logs.records)
    _assert_token_flow_ran(fake, seen_auth)
    exposure.assert_clean()


# --------------------------------------------------------------------------------------
# the CLI, failing
# --------------------------------------------------------------------------------------


def _break(case: str, key_info: dict[str, Any], pem: str) -> str:
    """Key JSON text, broken as named."""
    text = json.dumps(key_info, indent=2)
    if case == "truncated JSON":  # cut in the middle of the private key
        return text[: text.index("-----END")]
    if case == "PEM that is not DER inside":  # the rest of the key intact, for the detector
        return json.dumps({**key_info, "private_key": pem.replace(_pem_body(pem)[:4], "AAAA", 1)})
    if case == "PEM without its BEGIN/END lines":
        return json.dumps({**key_info, "private_key": _pem_body(pem)})
    if case == "not a service account":
        return json.dumps({**key_info, "type": "servce_account"})
    if case == "no client_email":
        return json.dumps({k: v for k, v in key_info.items() if k != "client_email"})
    if case == "real newlines inside the JSON string":
        return text.replace("\\n", "\n")
    raise AssertionError(case)


BROKEN = [
    "truncated JSON",
    "PEM that is not DER inside",
    "PEM without its BEGIN/END lines",
    "not a service account",
    "no client_email",
    "real newlines inside the JSON string",
]


@pytest.mark.parametrize("where", ["--credentials file", "SHEETCRM_CREDENTIALS_JSON", "SHEETCRM_CREDENTIALS path"])
@pytest.mark.parametrize("case", BROKEN)
def test_cli_broken_key_json_fails_without_showing_it(
    fake, logs, exposure, key_info: dict[str, Any], pem: str, crm_key: str, tmp_path: Path, case: str, where: str
) -> None:
    text = _break(case, key_info, pem)
    path = tmp_path / "broken.json"
    path.write_text(text)
    args = ["sync", "-q", "--spreadsheet", _url(crm_key), "--as-of", AS_OF.isoformat()]
    env: dict[str, str] = {}
    if where == "--credentials file":
        args += ["--credentials", str(path)]
    elif where == "SHEETCRM_CREDENTIALS_JSON":
        env["SHEETCRM_CREDENTIALS_JSON"] = text
    else:
        env["SHEETCRM_CREDENTIALS"] = str(path)
    result = _invoke(args, env=env)
    line = _one_line_error(result)
    assert "SHEETCRM_CREDENTIALS_JSON" in line or "--credentials" in line  # says how to fix it
    exposure.add_result(case, result)
    exposure.add_records("logs", logs.records)
    exposure.add_spreadsheet("the spreadsheet", fake, crm_key)
    exposure.assert_clean()
    assert fake.request_count == 0  # nothing was sent anywhere


def test_cli_api_failures_leak_nothing(
    fake, seen_auth, logs, exposure, sa_json: Path, crm_key: str, tmp_path: Path
) -> None:
    creds = ["--credentials", str(sa_json)]
    private = upload_xlsx_copy(fake, crm_key)
    fake.make_private(private)
    # 403: the spreadsheet is not shared with the service account
    line = _one_line_error(_run(exposure, "403", ["sync", "-q", "--spreadsheet", _url(private), *creds]))
    assert SA_EMAIL in line and "share" in line
    # 404: no such spreadsheet
    line = _one_line_error(_run(exposure, "404", ["validate", "--spreadsheet", "1" + "x" * 43, *creds]))
    assert "check the key or URL" in line
    # 429 until the retries run out, on the write
    fake.reset_counters()
    fake.inject_fault(at_request=6, status=429, times=2)  # 1 token, 2 metadata, 3 read, 4 backup, 5 read, 6 write
    line = _one_line_error(
        _run(
            exposure,
            "429",
            [
                "sync",
                "-q",
                "--spreadsheet",
                _url(crm_key),
                *creds,
                "--as-of",
                AS_OF.isoformat(),
                "--backup",
                str(tmp_path / "bk"),
            ],
        )
    )
    assert "429" in line and "after 2 attempts" in line
    assert [r.endpoint for r in fake.requests][-1] == "values.batchUpdate"
    exposure.add_file("backup made before the failed write", next((tmp_path / "bk").glob("*.xlsx")))
    # the drive API's 429 while creating a spreadsheet
    fake.reset_counters()
    fake.inject_fault(at_request=2, status=429, times=2)
    line = _one_line_error(_run(exposure, "init 429", ["init", "--google", *creds]))
    assert "Drive API" in line
    # 500 on pull, until the retries run out
    fake.inject_fault(at_request=2, status=500, times=2)
    _one_line_error(
        _run(exposure, "pull 500", ["pull", "--spreadsheet", crm_key, *creds, "--to", str(tmp_path / "copy.xlsx")])
    )
    exposure.add_spreadsheet("the spreadsheet", fake, crm_key)
    exposure.add_records("logs", logs.records)
    _assert_token_flow_ran(fake, seen_auth)
    exposure.assert_clean()


def test_cli_token_refused_leaks_nothing(fake, seen_auth, logs, exposure, sa_json: Path, crm_key: str) -> None:
    """Google's token endpoint refuses the signed assertion (a deleted key)."""
    fake.inject_fault(at_request=1, status=400, body=INVALID_GRANT)
    result = _run(
        exposure, "token refused", ["validate", "--spreadsheet", _url(crm_key), "--credentials", str(sa_json)]
    )
    line = _one_line_error(result)
    assert "refused the credentials" in line and "invalid_grant" in line
    assert [r.endpoint for r in fake.requests] == ["oauth2.token"]
    exposure.add_records("logs", logs.records)
    exposure.assert_clean()


def _run(exposure: Exposure, name: str, args: list[str], env: dict[str, str] | None = None) -> Result:
    result = _invoke(args, env)
    exposure.add_result(name, result)
    return result


def upload_xlsx_copy(fake: FakeSheetsServer, key: str) -> str:
    """Another spreadsheet with the same tabs and values."""
    return fake.create_spreadsheet("copy", {t: fake.get_values(key, t) for t in fake.sheet_titles(key)})


# --------------------------------------------------------------------------------------
# the library
# --------------------------------------------------------------------------------------


def test_library_paths_leak_nothing(
    fake,
    seen_auth,
    logs,
    exposure,
    sa_json: Path,
    key_info: dict[str, Any],
    pem: str,
    crm_key: str,
    tmp_path: Path,
    monkeypatch,
) -> None:
    def expect(exc_type: type[SheetCRMError], name: str, func: Any) -> SheetCRMError:
        with pytest.raises(exc_type) as caught:
            func()
        exposure.add_exception(name, caught.value)
        return caught.value

    # working: open + validate + sync (writes the Log), pull, create
    wb = sheetcrm.open(_url(crm_key), credentials=sa_json)
    exposure.add("repr(workbook)", repr(wb))
    exposure.add("validate", wb.validate().to_csv())
    result = wb.sync(as_of=AS_OF)
    exposure.add("sync summary", "\n".join(result.summary_lines()))
    exposure.add("sync changes", result.changes.to_csv())
    exposure.add("sync report", repr(result.report))
    copy = pull(open_backend(crm_key, credentials=str(sa_json)), tmp_path / "copy.xlsx")
    exposure.add_file("pulled", copy)
    client, creds = connect(sa_json, create=True)
    exposure.add("repr(credentials)", repr(creds))
    created = create_google_workbook(client, "Library CRM", Lang.EN, "someone@example.com", creds)
    exposure.add("created", created)
    _assert_token_flow_ran(fake, seen_auth)

    # failing
    private = upload_xlsx_copy(fake, crm_key)
    fake.make_private(private)
    err = expect(PermissionDeniedError, "403", lambda: sheetcrm.open(private, credentials=sa_json))
    assert SA_EMAIL in str(err)
    expect(WorkbookNotFoundError, "404", lambda: sheetcrm.open("1" + "y" * 43, credentials=sa_json))
    fake.inject_fault(at_request=3, status=429, times=2)  # a fresh client: 1 token, 2 metadata, 3 read
    expect(QuotaError, "429", lambda: sheetcrm.open(crm_key, credentials=sa_json))
    fake.inject_fault(at_request=1, status=400, body=INVALID_GRANT)
    expect(AuthError, "token refused", lambda: sheetcrm.open(crm_key, credentials=sa_json))
    for case in BROKEN:
        text = _break(case, key_info, pem)
        path = tmp_path / "broken.json"
        path.write_text(text)
        expect(AuthError, f"{case} (file)", lambda path=path: load_credentials(path, env={}))
        expect(
            AuthError, f"{case} (inline)", lambda text=text: load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": text})
        )
        monkeypatch.setenv("SHEETCRM_CREDENTIALS_JSON", text)
        expect(AuthError, f"{case} (open)", lambda: sheetcrm.open(crm_key))
        monkeypatch.delenv("SHEETCRM_CREDENTIALS_JSON")

    exposure.add_spreadsheet("the spreadsheet", fake, crm_key)
    exposure.add_records("logs", logs.records)
    exposure.assert_clean()


# --------------------------------------------------------------------------------------
# easy mistakes that once leaked (each was a bug; kept as regression tests)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mistake",
    [
        "--credentials KEY-JSON",
        "SHEETCRM_CREDENTIALS=KEY-JSON",
        "GOOGLE_APPLICATION_CREDENTIALS=KEY-JSON",
        "--spreadsheet KEY-JSON",
        "SHEETCRM_SPREADSHEET=KEY-JSON",
        "sync PATH=KEY-JSON",
    ],
)
def test_key_contents_given_where_a_path_belongs_are_not_echoed(
    fake, logs, exposure, key_info: dict[str, Any], crm_key: str, mistake: str
) -> None:
    """Easy mistakes in a CI configuration: the key's contents put where its path (or the
    spreadsheet) belongs. The run must fail, saying what is wrong, without the key."""
    text = json.dumps(key_info)
    url = _url(crm_key)
    args, env = {
        "--credentials KEY-JSON": (["validate", "--spreadsheet", url, "--credentials", text], {}),
        "SHEETCRM_CREDENTIALS=KEY-JSON": (["validate", "--spreadsheet", url], {"SHEETCRM_CREDENTIALS": text}),
        "GOOGLE_APPLICATION_CREDENTIALS=KEY-JSON": (
            ["validate", "--spreadsheet", url],
            {"GOOGLE_APPLICATION_CREDENTIALS": text},
        ),
        "--spreadsheet KEY-JSON": (["validate", "--spreadsheet", text], {}),
        "SHEETCRM_SPREADSHEET=KEY-JSON": (["validate"], {"SHEETCRM_SPREADSHEET": text}),
        "sync PATH=KEY-JSON": (["sync", "-q", text], {}),
    }[mistake]
    result = _invoke(args, env)
    exposure.add_result(mistake, result)
    exposure.add_records("logs", logs.records)
    exposure.assert_clean()
    _one_line_error(result)


@pytest.mark.parametrize("name", ["k" * 300 + ".xlsx", "k" * 300])
def test_an_overlong_path_is_a_one_line_error_not_a_traceback(tmp_path: Path, name: str) -> None:
    result = _invoke(["validate", str(tmp_path / name)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    _one_line_error(result)


def test_no_log_record_carries_the_signed_assertion(fake, seen_auth, logs, sa_json: Path, crm_key: str) -> None:
    sent: list[str] = []
    real_serve = FakeSheetsServer._serve

    def serve(self: FakeSheetsServer, handler: Any, method: str, raw_body: bytes) -> None:
        if handler.path.startswith("/token"):
            sent.extend(urllib.parse.parse_qs(raw_body.decode()).get("assertion", []))
        return real_serve(self, handler, method, raw_body)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(FakeSheetsServer, "_serve", serve)
        result = _invoke(["validate", "--spreadsheet", _url(crm_key), "--credentials", str(sa_json)])
    assert result.exit_code == 0, result.output
    (assertion,) = sent
    signature = assertion.rsplit(".", 1)[1]
    assert len(signature) > 100
    carriers = [r.name for r in logs.records if signature in repr(vars(r))]
    assert not carriers, f"the signed assertion is in log records of {carriers}"
