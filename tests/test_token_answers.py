"""Odd answers from the token endpoint, and secrets in error texts.

Real google-auth and gspread run against two servers on 127.0.0.1: the Sheets fake
(``sheetcrm.testing``) and a small token endpoint scripted per test, which may echo the
signed assertion and the key id in its error, answer a captive portal's page with 200, ask
for a proxy login with 407, or act as a proxy refusing CONNECT with 407. Every failure must
be a one-line error with exit 2 that names the real cause, whose text (and every exception
chained to it) holds no key id, assertion, access token or piece of the private key.
"""

from __future__ import annotations

import json
import secrets
import traceback
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import sheetcrm
from sheetcrm.cli import cli
from sheetcrm.exceptions import AuthError, PermissionDeniedError, SheetCRMError
from sheetcrm.google import http as sheetcrm_http
from sheetcrm.google.connect import ENV_API_URL
from tests.helpers import serving, write_service_account_key

SA_EMAIL = "sheetcrm-odd@demo-project.iam.gserviceaccount.com"
#: Issued by the token endpoint; deliberately not ya29.-shaped: only scrubbing by value hides it.
ACCESS_TOKEN = "tok-" + secrets.token_urlsafe(24)
PROXY_VARS = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
)
SCOPE_INSUFFICIENT = {
    "error": {
        "code": 403,
        "message": "Request had insufficient authentication scopes.",
        "status": "PERMISSION_DENIED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "domain": "googleapis.com",
                "metadata": {"service": "sheets.googleapis.com"},
            }
        ],
    }
}


# --------------------------------------------------------------------------------------
# the token endpoint (and proxy) on 127.0.0.1
# --------------------------------------------------------------------------------------


@dataclass
class Answer:
    """What the token endpoint answers; ``{assertion}`` and ``{key_id}`` in ``body`` are
    replaced by the assertion received and the key id in its header (as an echo)."""

    status: int = 200
    content_type: str = "application/json"
    body: str = json.dumps({"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"})


class TokenServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = Answer()
        self.assertions: list[str] = []
        self.connects: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: TokenServer

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, content_type: str, body: bytes, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        assertion = form.get("assertion", [""])[0]
        self.server.assertions.append(assertion)
        header = json.loads(urllib.parse.unquote(_b64(assertion.split(".")[0]))) if assertion else {}
        answer = self.server.answer
        body = answer.body.replace("{assertion}", assertion).replace("{key_id}", str(header.get("kid", "")))
        self._send(answer.status, answer.content_type, body.encode())

    def do_CONNECT(self) -> None:  # as a proxy that wants a login
        self.server.connects.append(self.path)
        self._send(407, "text/html", b"<html>login first</html>", {"Proxy-Authenticate": 'Basic realm="office"'})
        self.close_connection = True


def _b64(part: str) -> str:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


@pytest.fixture(scope="module")
def token_server() -> Iterator[TokenServer]:
    with serving(TokenServer()) as srv:
        yield srv


@pytest.fixture
def token(token_server: TokenServer) -> TokenServer:
    token_server.answer = Answer()
    token_server.assertions.clear()
    token_server.connects.clear()
    return token_server


@pytest.fixture(autouse=True)
def _isolated(loopback_only: None, google_env: Path, monkeypatch: pytest.MonkeyPatch, fake: Any) -> None:
    """Google API calls to the fake, no proxy unless a test sets one, no sleeping, two tries."""
    monkeypatch.setenv(ENV_API_URL, fake.url)
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setitem(sheetcrm_http.DEFAULT_OPTIONS, "sleep", lambda _s: None)
    monkeypatch.setitem(sheetcrm_http.DEFAULT_OPTIONS, "max_attempts", 2)


@pytest.fixture
def key_file(tmp_path: Path, pem: str, token: TokenServer) -> Path:
    return write_service_account_key(tmp_path / "sa.json", pem=pem, email=SA_EMAIL, token_uri=f"{token.url}/token")


@pytest.fixture
def crm_key(fake: Any) -> str:
    """A spreadsheet on the fake (every failure here comes before its contents matter)."""
    return fake.create_spreadsheet("CRM", {"Contacts": [["ID", "Name"]]})


# --------------------------------------------------------------------------------------
# what must never show
# --------------------------------------------------------------------------------------


def _secrets_of(key_file: Path, token: TokenServer) -> dict[str, str]:
    info = json.loads(key_file.read_text())
    body = "".join(line for line in info["private_key"].splitlines() if not line.startswith("-----"))
    found = {"private_key_id": info["private_key_id"], "access token": ACCESS_TOKEN}
    found.update({f"private key line {i}": line for i, line in enumerate(info["private_key"].splitlines()[1:-1])})
    found["private key (joined)"] = body[100:160]
    for n, assertion in enumerate(token.assertions):
        found[f"assertion {n}"] = assertion
        found[f"assertion {n} signature"] = assertion.rsplit(".", 1)[-1]
    return found


def _leaks(text: str, secret_values: dict[str, str]) -> list[str]:
    texts = (text, urllib.parse.unquote_plus(text), text.replace("\\n", "\n"))
    return [name for name, value in secret_values.items() if any(value in t for t in texts)]


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception chained to it, as cause or as context."""
    out: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and all(link is not seen for seen in out):
        out.append(link)
        link = link.__cause__ or link.__context__
    return out


def _assert_clean_exception(exc: BaseException, secret_values: dict[str, str]) -> None:
    chain = _chain(exc)
    foreign = [type(link).__module__ + "." + type(link).__name__ for link in chain[1:]]
    assert not [f for f in foreign if not f.startswith("sheetcrm.")], f"chained to {foreign}"
    for link in chain:
        shown = f"{link!s}\n{link!r}\n{vars(link)!r}\n{''.join(traceback.format_exception(link))}"
        assert not _leaks(shown, secret_values), (_leaks(shown, secret_values), shown[:300])


def _invoke(args: list[str], lang: str = "en_US.UTF-8") -> Result:
    return CliRunner().invoke(cli, args, env={"LANG": lang, "LC_ALL": lang})


def _one_line_error(result: Result) -> str:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def _url(key: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"


# --------------------------------------------------------------------------------------
# the token endpoint's answers, through the CLI
# --------------------------------------------------------------------------------------

ECHOES = {
    "key id in error_description": Answer(
        400,
        body=json.dumps({"error": "invalid_grant", "error_description": "Invalid JWT: key {key_id} was deleted"}),
    ),
    "key id and assertion in error": Answer(
        400, body=json.dumps({"error": "invalid_grant: kid={key_id} assertion={assertion}"})
    ),
    "assertion in a URL query string": Answer(
        401,
        body=json.dumps(
            {
                "error": "unauthorized_client",
                "error_description": "see https://oauth2.googleapis.com/token?assertion={assertion}&kid={key_id}",
            }
        ),
    ),
}


@pytest.mark.parametrize("case", list(ECHOES))
def test_a_refusal_that_echoes_the_key_id_and_assertion_shows_neither(
    token: TokenServer, key_file: Path, crm_key: str, case: str
) -> None:
    token.answer = ECHOES[case]
    result = _invoke(["validate", "--spreadsheet", _url(crm_key), "--credentials", str(key_file)])
    line = _one_line_error(result)
    assert "refused the credentials" in line
    assert len(token.assertions) == 1
    assert not _leaks(result.output, _secrets_of(key_file, token)), line


PORTAL = "<!DOCTYPE html><html><body>Welcome to Café Wi-Fi: accept the terms to go online</body></html>"
ODD = {
    # (answer, words the line must hold, words it must not)
    "captive portal page, 200": (
        Answer(200, "text/html; charset=utf-8", PORTAL),
        ["a web page", "HTTP 200", "captive portal", "HTTPS_PROXY"],
    ),
    "JSON without a token, 200": (Answer(200, body="{}"), ["an answer without an access token", "proxy"]),
    "empty answer, 200": (Answer(200, "text/plain", ""), ["an empty answer", "captive portal"]),
    "plain text, 200": (Answer(200, "text/plain", "OK"), ["unreadable text", "captive portal"]),
    "proxy page, 403": (Answer(403, "text/html", "<html>Blocked by policy</html>"), ["a web page", "HTTP 403"]),
    "proxy wants a login, 407": (
        Answer(407, "text/html", "<html>Proxy login</html>"),
        ["407 Proxy Authentication Required", "HTTPS_PROXY", "USER:PASSWORD"],
    ),
}


@pytest.mark.parametrize("case", list(ODD))
def test_an_answer_that_is_not_googles_token_names_the_real_cause(
    token: TokenServer, key_file: Path, crm_key: str, fake: Any, case: str
) -> None:
    token.answer, expected = ODD[case]
    result = _invoke(["validate", "--spreadsheet", _url(crm_key), "--credentials", str(key_file)])
    line = _one_line_error(result)
    for words in expected:
        assert words in line, (words, line)
    # Not the advice for a refused key: the key is fine, something else answered.
    assert "deleted" not in line and "revoked" not in line and "create a new key" not in line
    assert [r.endpoint for r in fake.requests] == []  # Google's API was never reached
    assert not _leaks(result.output, _secrets_of(key_file, token))


def test_the_odd_answers_are_told_in_chinese(token: TokenServer, key_file: Path, crm_key: str) -> None:
    args = ["validate", "--spreadsheet", _url(crm_key), "--credentials", str(key_file)]
    token.answer = Answer(200, "text/html", PORTAL)
    line = _one_line_error(_invoke(args, lang="zh_TW.UTF-8"))
    assert line.startswith("錯誤：") and "認證入口網頁" in line and "一個網頁" in line and "HTTP 200" in line
    token.answer = Answer(407, "text/html", "<html>Proxy login</html>")
    line = _one_line_error(_invoke(args, lang="zh_TW.UTF-8"))
    assert "代理伺服器要求帳號與密碼" in line and "HTTPS_PROXY" in line


def test_a_proxy_refusing_connect_without_a_login_is_named(
    token: TokenServer, tmp_path: Path, pem: str, crm_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Google's real token endpoint (https) through a proxy that answers CONNECT with 407:
    requests never reaches Google, and no DNS lookup or connection leaves 127.0.0.1."""
    key = write_service_account_key(
        tmp_path / "sa.json", pem=pem, email=SA_EMAIL, token_uri="https://oauth2.googleapis.com/token"
    )
    monkeypatch.setenv("HTTPS_PROXY", token.url)
    line = _one_line_error(_invoke(["validate", "--spreadsheet", _url(crm_key), "--credentials", str(key)]))
    assert "407 Proxy Authentication Required" in line and "oauth2.googleapis.com" in line and "HTTPS_PROXY" in line
    assert token.connects and all(c == "oauth2.googleapis.com:443" for c in token.connects)
    assert token.assertions == []


def test_scope_insufficient_does_not_advise_sharing(token: TokenServer, key_file: Path, crm_key: str, fake) -> None:
    fake.inject_fault(at_request=1, status=403, body=SCOPE_INSUFFICIENT)
    line = _one_line_error(_invoke(["validate", "--spreadsheet", _url(crm_key), "--credentials", str(key_file)]))
    assert "ACCESS_TOKEN_SCOPE_INSUFFICIENT" in line and "https://www.googleapis.com/auth/spreadsheets" in line
    assert "share" not in line.lower() and SA_EMAIL not in line
    assert len(token.assertions) == 1  # a real token was issued, then refused for its scope


# --------------------------------------------------------------------------------------
# the library: no exception chain carries a secret
# --------------------------------------------------------------------------------------


def test_no_exception_or_its_chain_holds_a_secret(token: TokenServer, key_file: Path, crm_key: str, fake) -> None:
    """Every failure of ``sheetcrm.open`` on Google is a sheetcrm error chained to nothing
    but sheetcrm errors, and its str, repr, attributes and traceback hold no secret."""
    # Google's own message quoting the token and the key id: only scrubbing by value hides the token.
    echo = f"Request had invalid authentication credentials (token {ACCESS_TOKEN}, key %s)"
    key_id = json.loads(key_file.read_text())["private_key_id"]
    cases: list[tuple[str, Any, type[SheetCRMError], Any]] = [
        ("refused, echoing", Answer(400, body=ECHOES["key id and assertion in error"].body), AuthError, None),
        ("captive portal", Answer(200, "text/html", PORTAL), AuthError, None),
        ("proxy login", Answer(407, "text/html", "<html/>"), AuthError, None),
        ("scope", Answer(), PermissionDeniedError, dict(status=403, body=SCOPE_INSUFFICIENT)),
        ("API echoes the token", Answer(), SheetCRMError, dict(status=400, message=echo % key_id)),
    ]
    for name, answer, expected, api in cases:
        token.answer = answer
        if api is not None:
            fake.inject_fault(at_request=1, **api)
        with pytest.raises(expected) as caught:
            sheetcrm.open(_url(crm_key), credentials=key_file)
        _assert_clean_exception(caught.value, _secrets_of(key_file, token))
        if name == "scope":
            assert "share" not in str(caught.value)
        if name == "API echoes the token":
            assert "invalid authentication credentials" in str(caught.value)  # the rest of Google's words stay
    assert len(token.assertions) == len(cases)


def test_the_chain_check_finds_what_it_looks_for(key_file: Path, token: TokenServer) -> None:
    """The check above can fail: a leak in the text, and a google-auth error as context."""
    from google.auth.exceptions import RefreshError

    secret_values = _secrets_of(key_file, token)
    with pytest.raises(AssertionError):
        _assert_clean_exception(ValueError(f"id {secret_values['private_key_id']}"), secret_values)
    try:
        try:
            raise RefreshError("invalid_grant")
        except RefreshError:
            raise AuthError("refused") from None
    except AuthError as exc:
        with pytest.raises(AssertionError, match=r"google\.auth\.exceptions\.RefreshError"):
            _assert_clean_exception(exc, secret_values)


@pytest.mark.parametrize("case", ["portal page", "proxy login on CONNECT"])
def test_a_cached_sign_in_that_cannot_refresh_through_the_network_says_why(
    token: TokenServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """An OAuth user's cached token, refreshed at start-up, meets a proxy or portal: that is
    named (signing in again in the browser would not help), and no secret is shown."""
    import google.oauth2.credentials

    from sheetcrm.google.auth import load_credentials

    if case == "portal page":
        # google-auth always sends a user's refresh to Google's endpoint: aim that at 127.0.0.1.
        monkeypatch.setattr(google.oauth2.credentials, "_GOOGLE_OAUTH2_TOKEN_ENDPOINT", f"{token.url}/token")
        token.answer = Answer(200, "text/html", PORTAL)
    else:
        monkeypatch.setenv("HTTPS_PROXY", token.url)
    refresh_token = "1//" + secrets.token_urlsafe(30)
    client_secret = "opaque-" + secrets.token_urlsafe(12)  # old-style: no GOCSPX- shape
    client = {"client_id": "123-abc.apps.googleusercontent.com", "client_secret": client_secret}
    (tmp_path / "client.json").write_text(json.dumps({"installed": client}))
    cached = tmp_path / "token.json"
    cached.write_text(
        json.dumps(
            {
                **client,
                "token": "ya29.old",
                "refresh_token": refresh_token,
                "scopes": ["https://www.googleapis.com/auth/spreadsheets"],
                "expiry": "2000-01-01T00:00:00Z",
            }
        )
    )
    with pytest.raises(AuthError) as caught:
        load_credentials(tmp_path / "client.json", env={}, token_path=cached)
    expected = "captive portal" if case == "portal page" else "407 Proxy Authentication Required"
    assert expected in str(caught.value)
    _assert_clean_exception(caught.value, {"refresh token": refresh_token, "client secret": client_secret})


def test_a_proxy_wanting_a_login_for_the_sheets_api_is_named_at_once(
    token: TokenServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Sheets API request (not a token refresh) through a proxy that answers CONNECT with
    407: one attempt, no retries (asking again without a login cannot help)."""
    from google.oauth2.credentials import Credentials

    from sheetcrm.google.http import RetryingHTTPClient

    monkeypatch.setenv("HTTPS_PROXY", token.url)
    client = RetryingHTTPClient(Credentials(token=ACCESS_TOKEN), sleep=lambda _s: None)
    with pytest.raises(AuthError) as caught:
        client.request("get", "https://sheets.googleapis.com/v4/spreadsheets/abc")
    assert "407 Proxy Authentication Required" in str(caught.value) and "sheets.googleapis.com" in str(caught.value)
    assert client.attempts == 1 and client.retries == 0
    _assert_clean_exception(caught.value, {"access token": ACCESS_TOKEN})
