"""sheetcrm.google.auth: every credentials source, scopes, and secrets never shown anywhere."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import secrets
import socket
import stat
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import google.auth
import pytest
from google.auth import exceptions as gauth_exceptions
from google.oauth2 import credentials as oauth2_credentials
from google.oauth2 import service_account

from sheetcrm.exceptions import AuthError, SheetCRMError
from sheetcrm.google import auth
from sheetcrm.google.auth import (
    DRIVE_FILE_SCOPE,
    SHEETS_SCOPE,
    load_credentials,
    scopes,
    service_account_email,
)
from sheetcrm.google.redact import RedactingFilter, forget_secrets, install_log_redaction, redact, remember_secrets

SA_EMAIL = "sheetcrm-bot@demo-project.iam.gserviceaccount.com"
CLIENT_SECRET = "GOCSPX-not-a-real-secret-1234567890"
REFRESH_TOKEN = "1//0g-not-a-real-refresh-token-abcdefghijklmnop"
PRIVATE_KEY_ID = "f00dfacef00dfacef00dfacef00dfacef00dface"


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------


def _generate_pem() -> str:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa as crypto_rsa
    except ImportError:  # pragma: no cover - google-auth depends on `rsa`, use that
        import rsa

        _pub, priv = rsa.newkeys(1024)
        return priv.save_pkcs1().decode("ascii")
    key = crypto_rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


@pytest.fixture(scope="module")
def pem() -> str:
    return _generate_pem()


@pytest.fixture
def sa_info(pem: str) -> dict[str, Any]:
    return {
        "type": "service_account",
        "project_id": "demo-project",
        "private_key_id": PRIVATE_KEY_ID,
        "private_key": pem,
        "client_email": SA_EMAIL,
        "client_id": "123456789012345678901",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/x",
        "universe_domain": "googleapis.com",
    }


@pytest.fixture
def user_info() -> dict[str, Any]:
    return {
        "type": "authorized_user",
        "client_id": "123-abc.apps.googleusercontent.com",
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
    }


@pytest.fixture
def external_info(tmp_path: Path) -> dict[str, Any]:
    token_file = tmp_path / "oidc-token.txt"
    token_file.write_text("header.payload.signature")
    return {
        "type": "external_account",
        "audience": "//iam.googleapis.com/projects/123456/locations/global/"
        "workloadIdentityPools/github/providers/my-repo",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": "https://sts.googleapis.com/v1/token",
        "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/"
        f"projects/-/serviceAccounts/{SA_EMAIL}:generateAccessToken",
        "credential_source": {"file": str(token_file), "format": {"type": "text"}},
    }


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading credentials must not talk to Google: only loopback connections allowed."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"unexpected network connection to {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def _write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return path


def _key_fragments(pem: str) -> list[str]:
    """Pieces of the secret that must never be shown: each base64 line of the key body,
    the key id, and the same lines as they look JSON-escaped."""
    body = [ln for ln in pem.splitlines() if ln and not ln.startswith("-----")]
    return [*body, PRIVATE_KEY_ID, json.dumps(pem)[1:60]]


def _assert_nowhere(exc: BaseException, fragments: list[str], logs: str = "") -> None:
    shown = "\n".join(
        [
            str(exc),
            repr(exc),
            "".join(traceback.format_exception(exc)),
            logs,
        ]
    )
    for fragment in fragments:
        assert fragment not in shown, f"secret fragment leaked: {fragment[:12]}..."
    # No chained exception at all: json/google-auth errors can carry the key text.
    assert exc.__cause__ is None
    assert exc.__context__ is None


# --------------------------------------------------------------------------------------
# scopes
# --------------------------------------------------------------------------------------


def test_scopes_are_minimal() -> None:
    assert scopes() == [SHEETS_SCOPE]
    assert scopes(create=False) == ["https://www.googleapis.com/auth/spreadsheets"]
    assert scopes(create=True) == [SHEETS_SCOPE, DRIVE_FILE_SCOPE]
    assert DRIVE_FILE_SCOPE == "https://www.googleapis.com/auth/drive.file"


# --------------------------------------------------------------------------------------
# service account
# --------------------------------------------------------------------------------------


def test_service_account_from_file(tmp_path: Path, sa_info: dict[str, Any]) -> None:
    path = _write(tmp_path / "key.json", sa_info)
    creds = load_credentials(path, env={})
    assert isinstance(creds, service_account.Credentials)
    assert creds.scopes == [SHEETS_SCOPE]
    assert service_account_email(creds) == SA_EMAIL
    assert creds.project_id == "demo-project"


def test_service_account_from_str_path_with_create_scope(tmp_path: Path, sa_info: dict[str, Any]) -> None:
    path = _write(tmp_path / "key.json", sa_info)
    creds = load_credentials(str(path), create=True, env={})
    assert isinstance(creds, service_account.Credentials)
    assert creds.scopes == [SHEETS_SCOPE, DRIVE_FILE_SCOPE]


def test_service_account_from_env_json(sa_info: dict[str, Any]) -> None:
    creds = load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": json.dumps(sa_info)})
    assert isinstance(creds, service_account.Credentials)
    assert creds.scopes == [SHEETS_SCOPE]
    assert service_account_email(creds) == SA_EMAIL


def test_private_key_with_literal_backslash_n_is_mended(sa_info: dict[str, Any]) -> None:
    sa_info["private_key"] = sa_info["private_key"].replace("\n", "\\n")
    assert "\n" not in sa_info["private_key"].strip()
    creds = load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": json.dumps(sa_info)})
    assert service_account_email(creds) == SA_EMAIL


def test_env_json_may_be_base64(sa_info: dict[str, Any]) -> None:
    encoded = base64.b64encode(json.dumps(sa_info).encode()).decode()
    creds = load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": encoded}, create=True)
    assert service_account_email(creds) == SA_EMAIL
    assert creds.scopes == [SHEETS_SCOPE, DRIVE_FILE_SCOPE]  # type: ignore[attr-defined]


@pytest.mark.parametrize("var", ["SHEETCRM_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS"])
def test_service_account_from_env_path(tmp_path: Path, sa_info: dict[str, Any], var: str) -> None:
    path = _write(tmp_path / "key.json", sa_info)
    creds = load_credentials(env={var: str(path)})
    assert service_account_email(creds) == SA_EMAIL


def test_resolution_order(tmp_path: Path, sa_info: dict[str, Any], user_info: dict[str, Any]) -> None:
    other = dict(sa_info, client_email="other@demo-project.iam.gserviceaccount.com")
    sa_path = _write(tmp_path / "sa.json", sa_info)
    other_path = _write(tmp_path / "other.json", other)
    env = {
        "SHEETCRM_CREDENTIALS_JSON": json.dumps(other),
        "SHEETCRM_CREDENTIALS": str(other_path),
        "GOOGLE_APPLICATION_CREDENTIALS": str(other_path),
    }
    # 1. source beats the environment
    assert service_account_email(load_credentials(sa_path, env=env)) == SA_EMAIL
    # 2. inline JSON beats paths
    env["SHEETCRM_CREDENTIALS_JSON"] = json.dumps(sa_info)
    assert service_account_email(load_credentials(env=env)) == SA_EMAIL
    # 3. SHEETCRM_CREDENTIALS beats GOOGLE_APPLICATION_CREDENTIALS
    env = {"SHEETCRM_CREDENTIALS": str(sa_path), "GOOGLE_APPLICATION_CREDENTIALS": "/nope"}
    assert service_account_email(load_credentials(env=env)) == SA_EMAIL
    # an empty variable counts as unset
    env = {"SHEETCRM_CREDENTIALS_JSON": "  ", "GOOGLE_APPLICATION_CREDENTIALS": str(sa_path)}
    assert service_account_email(load_credentials(env=env)) == SA_EMAIL


def test_application_default_credentials_last(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    sentinel = oauth2_credentials.Credentials(token="x")

    def fake_default(scopes: Any = None, **kwargs: Any) -> tuple[Any, str]:
        seen["scopes"] = scopes
        return sentinel, "proj"

    monkeypatch.setattr(google.auth, "default", fake_default)
    assert load_credentials(env={}, create=True) is sentinel
    assert seen["scopes"] == [SHEETS_SCOPE, DRIVE_FILE_SCOPE]


def test_no_credentials_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_default(**kwargs: Any) -> Any:
        raise gauth_exceptions.DefaultCredentialsError("Your default credentials were not found.")

    monkeypatch.setattr(google.auth, "default", fake_default)
    with pytest.raises(AuthError) as info:
        load_credentials(env={})
    message = str(info.value)
    assert "no Google credentials found" in message
    assert "SHEETCRM_CREDENTIALS_JSON" in message and "--credentials FILE" in message
    assert info.value.__cause__ is None and info.value.__context__ is None


# --------------------------------------------------------------------------------------
# authorized user, external account, OAuth client
# --------------------------------------------------------------------------------------


def test_authorized_user(tmp_path: Path, user_info: dict[str, Any]) -> None:
    creds = load_credentials(_write(tmp_path / "user.json", user_info), env={})
    assert isinstance(creds, oauth2_credentials.Credentials)
    assert creds.refresh_token == REFRESH_TOKEN
    assert service_account_email(creds) is None
    inline = load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": json.dumps(user_info)})
    assert isinstance(inline, oauth2_credentials.Credentials)


def test_external_account_loads_without_network(tmp_path: Path, external_info: dict[str, Any]) -> None:
    from google.auth import identity_pool

    path = _write(tmp_path / "wif.json", external_info)
    creds = load_credentials(path, env={})
    assert isinstance(creds, identity_pool.Credentials)
    assert creds._scopes == [SHEETS_SCOPE]
    assert service_account_email(creds) == SA_EMAIL
    inline = load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": json.dumps(external_info)}, create=True)
    assert inline._scopes == [SHEETS_SCOPE, DRIVE_FILE_SCOPE]  # type: ignore[attr-defined]
    # the subject token is read from the file only when a token is needed
    assert creds.retrieve_subject_token(None) == "header.payload.signature"


def test_external_account_without_impersonation_has_no_email(external_info: dict[str, Any]) -> None:
    del external_info["service_account_impersonation_url"]
    creds = load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": json.dumps(external_info)})
    assert service_account_email(creds) is None


def _client_secrets() -> dict[str, Any]:
    return {
        "installed": {
            "client_id": "123-abc.apps.googleusercontent.com",
            "client_secret": CLIENT_SECRET,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
            "redirect_uris": ["http://localhost"],
        }
    }


def test_oauth_client_needs_interactive_sign_in(tmp_path: Path) -> None:
    path = _write(tmp_path / "client.json", _client_secrets())
    with pytest.raises(AuthError) as info:
        load_credentials(path, env={}, token_path=tmp_path / "cfg" / "token.json")
    assert "sheetcrm login" in str(info.value)
    _assert_nowhere(info.value, [CLIENT_SECRET])


def test_oauth_client_flow_caches_token_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def fake_flow(client_config: Any, wanted: Any) -> oauth2_credentials.Credentials:
        calls.append(list(wanted))
        return oauth2_credentials.Credentials(
            token="ya29.fresh-access-token",
            refresh_token=REFRESH_TOKEN,
            token_uri="https://oauth2.googleapis.com/token",
            client_id=client_config["installed"]["client_id"],
            client_secret=CLIENT_SECRET,
            scopes=list(wanted),
            expiry=dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1),
        )

    monkeypatch.setattr(auth, "_run_installed_app_flow", fake_flow)
    path = _write(tmp_path / "client.json", _client_secrets())
    token_path = tmp_path / "config" / "sheetcrm" / "token.json"

    creds = load_credentials(path, env={}, interactive=True, token_path=token_path)
    assert creds.token == "ya29.fresh-access-token"
    assert calls == [[SHEETS_SCOPE]]
    assert stat.S_IMODE(token_path.stat().st_mode) == 0o600
    assert json.loads(token_path.read_text())["refresh_token"] == REFRESH_TOKEN

    # next time the cached token is used, no browser
    again = load_credentials(path, env={}, token_path=token_path)
    assert again.token == "ya29.fresh-access-token"
    assert len(calls) == 1

    # creating a spreadsheet needs drive.file, which the cached sign-in did not grant
    with pytest.raises(AuthError, match="sheetcrm login"):
        load_credentials(path, env={}, token_path=token_path, create=True)
    load_credentials(path, env={}, token_path=token_path, create=True, interactive=True)
    assert calls[-1] == [SHEETS_SCOPE, DRIVE_FILE_SCOPE]


def test_oauth_cached_token_refreshed_when_expired(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token_path = tmp_path / "token.json"
    token_path.write_text(
        json.dumps(
            {
                "token": "ya29.old",
                "refresh_token": REFRESH_TOKEN,
                "client_id": "123-abc.apps.googleusercontent.com",
                "client_secret": CLIENT_SECRET,
                "scopes": [SHEETS_SCOPE],
                "expiry": "2000-01-01T00:00:00Z",
            }
        )
    )
    refreshed: list[bool] = []

    def fake_refresh(self: oauth2_credentials.Credentials, request: Any) -> None:
        refreshed.append(True)
        self.token = "ya29.new"
        self.expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)

    monkeypatch.setattr(oauth2_credentials.Credentials, "refresh", fake_refresh)
    path = _write(tmp_path / "client.json", _client_secrets())
    creds = load_credentials(path, env={}, token_path=token_path)
    assert refreshed == [True]
    assert creds.token == "ya29.new"
    assert json.loads(token_path.read_text())["token"] == "ya29.new"
    assert stat.S_IMODE(token_path.stat().st_mode) == 0o600


def test_default_token_path() -> None:
    assert auth.default_token_path({"XDG_CONFIG_HOME": "/x/cfg"}) == Path("/x/cfg/sheetcrm/token.json")
    assert auth.default_token_path({}) == Path.home() / ".config" / "sheetcrm" / "token.json"


# --------------------------------------------------------------------------------------
# errors: helpful, and the key text appears nowhere
# --------------------------------------------------------------------------------------


def _broken_cases(pem: str, sa: dict[str, Any], tmp_path: Path) -> list[tuple[str, Any, str]]:
    """(name, how to load, a phrase the message must contain)."""
    broken_json = json.dumps(sa)[:-40]  # truncated: not valid JSON, key text inside
    corrupt_key = dict(sa, private_key=pem.replace("M", "!", 3))
    no_email = {k: v for k, v in sa.items() if k != "client_email"}
    wrong_type = dict(sa, type="serviceaccount")
    no_type = {k: v for k, v in sa.items() if k != "type"}
    user_missing = {"type": "authorized_user", "client_id": "x", "client_secret": CLIENT_SECRET}
    return [
        ("missing file", lambda: load_credentials(tmp_path / "nope.json", env={}), "does not exist"),
        ("directory", lambda: load_credentials(tmp_path, env={}), "is a directory"),
        (
            "broken json file",
            lambda: load_credentials(_write(tmp_path / "b.json", broken_json), env={}),
            "is not valid JSON",
        ),
        (
            "broken json env",
            lambda: load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": broken_json}),
            "is not valid JSON",
        ),
        (
            "path in json env",
            lambda: load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": "/home/me/key.json"}),
            "not its path",
        ),
        ("json list", lambda: load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": "[1, 2]"}), "not an object"),
        (
            "corrupt private key",
            lambda: load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": json.dumps(corrupt_key)}),
            "service-account key",
        ),
        (
            "missing client_email",
            lambda: load_credentials(_write(tmp_path / "n.json", no_email), env={}),
            "client_email",
        ),
        ("wrong type", lambda: load_credentials(_write(tmp_path / "w.json", wrong_type), env={}), "'serviceaccount'"),
        (
            "no type",
            lambda: load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": json.dumps(no_type)}),
            '"type" is missing',
        ),
        (
            "authorized user without refresh token",
            lambda: load_credentials(env={"SHEETCRM_CREDENTIALS_JSON": json.dumps(user_missing)}),
            "refresh_token",
        ),
        (
            "missing env path",
            lambda: load_credentials(env={"SHEETCRM_CREDENTIALS": str(tmp_path / "gone.json")}),
            "SHEETCRM_CREDENTIALS",
        ),
    ]


CASE_NAMES = [
    "missing file",
    "directory",
    "broken json file",
    "broken json env",
    "path in json env",
    "json list",
    "corrupt private key",
    "missing client_email",
    "wrong type",
    "no type",
    "authorized user without refresh token",
    "missing env path",
]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_broken_credentials_give_helpful_auth_error_without_secrets(
    case: str, pem: str, sa_info: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    install_log_redaction()
    cases = {name: (fn, phrase) for name, fn, phrase in _broken_cases(pem, sa_info, tmp_path)}
    load, phrase = cases[case]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as info:
        load()
    exc = info.value
    assert isinstance(exc, SheetCRMError)
    message = str(exc)
    assert phrase in message
    assert "SHEETCRM_CREDENTIALS_JSON" in message
    assert "--credentials FILE" in message
    assert "README" in message
    # the error tells where it came from, never what was in it
    logging.getLogger("sheetcrm.test").error("load failed: %s", exc, exc_info=exc)
    _assert_nowhere(exc, [*_key_fragments(pem), CLIENT_SECRET], caplog.text)


def test_error_from_file_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "creds.json", "{not json")
    with pytest.raises(AuthError) as info:
        load_credentials(path, env={})
    assert str(path) in str(info.value)
    assert "line 1" in str(info.value)


def test_corrupt_key_logged_traceback_is_clean(
    pem: str, sa_info: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Even a log call that dumps the key itself is scrubbed once redaction is on."""
    install_log_redaction()
    log = logging.getLogger("sheetcrm.somewhere")
    caplog.set_level(logging.DEBUG)
    log.debug("loaded %s", json.dumps(sa_info))
    try:
        raise ValueError(f"bad key {pem}")
    except ValueError:
        log.exception("failed")
    for fragment in _key_fragments(pem):
        assert fragment not in caplog.text
    assert "[REDACTED" in caplog.text


# --------------------------------------------------------------------------------------
# redaction
# --------------------------------------------------------------------------------------

_FAKE_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7secretsecret"
_PEM_NL = f"-----BEGIN PRIVATE KEY-----\n{_FAKE_BODY}\n{_FAKE_BODY}\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        pytest.param(f"key: {_PEM_NL} trailing", _FAKE_BODY, id="pem-newlines"),
        pytest.param(json.dumps({"k": _PEM_NL}), _FAKE_BODY, id="pem-literal-backslash-n"),
        pytest.param(_PEM_NL.replace("PRIVATE KEY", "RSA PRIVATE KEY"), _FAKE_BODY, id="pem-rsa"),
        pytest.param(_PEM_NL.replace("PRIVATE KEY", "EC PRIVATE KEY"), _FAKE_BODY, id="pem-ec"),
        pytest.param(f"-----BEGIN PRIVATE KEY-----\n{_FAKE_BODY}", _FAKE_BODY, id="pem-truncated"),
        pytest.param('{"private_key": "not-even-pem-abcdef"}', "not-even-pem-abcdef", id="private_key-field"),
        pytest.param(f'{{"private_key_id": "{PRIVATE_KEY_ID}"}}', PRIVATE_KEY_ID, id="private_key_id-field"),
        pytest.param('{"client_secret" : "s3cr3t-value-xyz"}', "s3cr3t-value-xyz", id="client_secret-field"),
        pytest.param("{'client_secret': 's3cr3t-value-xyz'}", "s3cr3t-value-xyz", id="client_secret-python-repr"),
        pytest.param(f"client secret {CLIENT_SECRET} here", "not-a-real-secret", id="client_secret-bare-GOCSPX"),
        pytest.param('{"refresh_token": "opaque-refresh-value"}', "opaque-refresh-value", id="refresh_token-field"),
        pytest.param(f"refresh with {REFRESH_TOKEN}", "not-a-real-refresh-token", id="refresh_token-bare"),
        pytest.param('{"token": "opaque-access-value", "expiry": "x"}', "opaque-access-value", id="token-field"),
        pytest.param('{"access_token": "opaque-access-value"}', "opaque-access-value", id="access_token-field"),
        pytest.param("got ya29.a0AfB_byC-abc.def123 back", "a0AfB_byC-abc", id="ya29-access-token"),
        pytest.param("sending Bearer abc123.def-ghi to the API", "abc123.def-ghi", id="bearer"),
        pytest.param("Authorization: Bearer abc123xyz\nHost: x", "abc123xyz", id="authorization-header"),
        pytest.param("authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", id="authorization-basic"),
        pytest.param("{'Authorization': 'Bearer abc123xyz', 'Accept': '*/*'}", "abc123xyz", id="authorization-dict"),
        pytest.param(
            "POST /token grant_type=refresh_token&refresh_token=opaque123&x=1", "opaque123", id="form-refresh_token"
        ),
        pytest.param("GET /v4/x?access_token=opaque123&alt=json", "opaque123", id="query-access_token"),
        pytest.param("assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl", "c2lnbmF0dXJl", id="jwt-assertion"),
        pytest.param("key AIzaSyA-not-a-real-api-key-0123456789abcd", "not-a-real-api-key", id="api-key"),
        pytest.param(f"invalid_grant: key {PRIVATE_KEY_ID} was deleted", PRIVATE_KEY_ID, id="key-id-in-a-sentence"),
        pytest.param(f"Invalid JWT (kid={PRIVATE_KEY_ID.upper()})", PRIVATE_KEY_ID.upper(), id="key-id-upper"),
        pytest.param(f'{{"kid": "{PRIVATE_KEY_ID}"}}', PRIVATE_KEY_ID, id="kid-field"),
        pytest.param(
            json.dumps({"error": "invalid_client", "error_description": "client_secret=s3cr3t-opaque-value is wrong"}),
            "s3cr3t-opaque-value",
            id="client_secret-in-error_description",
        ),
        pytest.param(
            "see https://oauth2.googleapis.com/token?grant_type=x&assertion=opaque-assertion-value",
            "opaque-assertion-value",
            id="assertion-in-url-query",
        ),
        pytest.param(
            "GET /v4/spreadsheets/x?alt=json&key=opaque-api-key-value", "opaque-api-key-value", id="key-query"
        ),
        pytest.param("GET /token?private_key_id=abc123opaque", "abc123opaque", id="private_key_id-query"),
    ],
)
def test_redact_removes_secret(text: str, secret: str) -> None:
    assert secret in text
    cleaned = redact(text)
    assert secret not in cleaned
    assert "[REDACTED" in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "the bearer token was rejected",
        '{"token_uri": "https://oauth2.googleapis.com/token", "type": "service_account"}',
        f"share the sheet with {SA_EMAIL}",
        "GET /v4/spreadsheets/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/values/A1",
        "the authorization server said no",
        "",
    ],
)
def test_redact_keeps_ordinary_text(text: str) -> None:
    assert redact(text) == text


def test_remembered_secret_values_are_scrubbed_whatever_their_shape(sa_info: dict[str, Any]) -> None:
    """Values of no recognisable shape (an opaque token, an old-style client secret, the
    key's lines quoted without its BEGIN line) are scrubbed once remembered, as given and
    URL-encoded; short values are not remembered (they would blank ordinary words)."""
    token = "opaque-" + secrets.token_urlsafe(12)
    client_secret = "s/" + secrets.token_hex(8) + "+x"
    line = sa_info["private_key"].splitlines()[2]
    text = f"token {token}, secret {quote_plus(client_secret)}, key line {line[5:60]}{line[60:]}, word abc1234"
    assert redact(text) == text
    remember_secrets([token, client_secret, sa_info["private_key"], "abc1234", None, 42])
    cleaned = redact(text)
    assert token not in cleaned and quote_plus(client_secret) not in cleaned and line not in cleaned
    assert "abc1234" in cleaned
    forget_secrets([token, client_secret])
    assert token in redact(text) and line not in redact(text)


def test_redact_keeps_structure_of_key_json(sa_info: dict[str, Any]) -> None:
    cleaned = redact(json.dumps(sa_info))
    data = json.loads(cleaned)  # still valid JSON
    assert data["client_email"] == SA_EMAIL
    assert data["private_key"] == "[REDACTED]"
    assert data["private_key_id"] == "[REDACTED]"


def test_redacting_filter_on_record() -> None:
    record = logging.LogRecord(
        "sheetcrm.x", logging.INFO, __file__, 1, "headers %s", ({"Authorization": "Bearer abc123xyz"},), None
    )
    assert RedactingFilter().filter(record) is True
    assert "abc123xyz" not in record.getMessage()
    assert "[REDACTED]" in record.getMessage()


def test_install_log_redaction_is_idempotent_and_covers_children(caplog: pytest.LogCaptureFixture) -> None:
    first = install_log_redaction()
    second = install_log_redaction()
    assert first is second
    assert sum(isinstance(f, RedactingFilter) for f in logging.getLogger("sheetcrm").filters) == 1
    caplog.set_level(logging.DEBUG)
    # a child logger made after installing, and a library that logs token bodies
    logging.getLogger("sheetcrm.made.later").info("token %s", "ya29.leaky-token-value")
    logging.getLogger("requests_oauthlib.oauth2_session").debug(
        "Request body was %s", f"grant_type=refresh_token&client_secret={CLIENT_SECRET}"
    )
    logging.getLogger("unrelated").info("ya29.other-apps-business")
    assert "leaky-token-value" not in caplog.text
    assert CLIENT_SECRET not in caplog.text
    assert "ya29.other-apps-business" in caplog.text  # other loggers are left alone


def test_credentials_example_file_is_a_placeholder_service_account() -> None:
    example = Path(__file__).resolve().parents[1] / "credentials.example.json"
    info = json.loads(example.read_text())
    assert info["type"] == "service_account"
    assert "REPLACE-ME" in info["private_key"]
    assert info["client_email"].endswith(".iam.gserviceaccount.com")
    # it is not a usable key, and loading it says so without echoing it
    with pytest.raises(AuthError) as exc:
        load_credentials(example, env={})
    assert "REPLACE-ME" not in str(exc.value)
    assert os.fspath(example) in str(exc.value)


_HOOKED = (
    "import logging, sys\n"
    "from sheetcrm.google.redact import RedactingFilter\n"
    "hooked = logging.getLogRecordFactory() is not logging.LogRecord or any(\n"
    "    isinstance(f, RedactingFilter) for f in logging.getLogger('sheetcrm').filters)\n"
    "print('hooked' if hooked else 'clean')\n"
)


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        # The library: opening a client changes nothing process-wide.
        (
            "from google.oauth2.credentials import Credentials\n"
            "from sheetcrm.google.connect import connect\n"
            "connect(Credentials(token='t'), base_url='http://127.0.0.1:9')\n",
            "clean",
        ),
        # The CLI: every command runs with redaction installed.
        (
            "from click.testing import CliRunner\n"
            "from sheetcrm.cli import cli\n"
            "CliRunner().invoke(cli, ['validate', 'no-such.xlsx'])\n",
            "hooked",
        ),
    ],
)
def test_only_the_cli_installs_log_redaction(setup: str, expected: str) -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", setup + _HOOKED], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected, out.stderr
