"""Google credentials for the Sheets backend, loaded with google-auth; secrets never shown.

:func:`load_credentials` finds credentials in this order:

1. ``source`` (the CLI's ``--credentials FILE``): a path to a service-account key JSON,
   an OAuth client-secrets JSON (``"installed"`` or ``"web"``: a person signs in once in
   the browser, see below), an authorized-user JSON or an ``external_account`` JSON
   (workload identity federation, as written by google-github-actions/auth);
2. the environment variable ``SHEETCRM_CREDENTIALS_JSON``: the same JSON inline (for CI
   secrets; base64 of the JSON is accepted too);
3. the environment variable ``SHEETCRM_CREDENTIALS``, then ``GOOGLE_APPLICATION_CREDENTIALS``:
   a path, read as in (1);
4. Application Default Credentials, ``google.auth.default(scopes=...)`` (``gcloud auth
   application-default login``, or the service account of the machine on Google Cloud).

The first source that is present is used; if it is broken that is an error (the next
source is not tried, so a typo never silently runs as someone else).

Scopes are the least that work: ``spreadsheets`` only; ``drive.file`` is added only when a
new spreadsheet is created (``create=True``). Authorized-user credentials keep the scopes
they were granted.

OAuth user sign-in: with a client-secrets file and ``interactive=True`` the browser flow
runs once (``InstalledAppFlow.run_local_server``); the resulting token is cached at
``~/.config/sheetcrm/token.json`` (``$XDG_CONFIG_HOME`` honoured) with 0600 permissions and
refreshed when it has expired. Without ``interactive`` only a cached token is used.

Secrets never appear in messages, logs or tracebacks: every failure is an
:class:`~sheetcrm.exceptions.AuthError` that names the source and the fix, raised with no
chained exception (errors from ``json`` or google-auth can carry the key text), and
:func:`redact` / :class:`RedactingFilter` scrub keys and tokens from any text. The exact
secret values of the credentials loaded (key id, private key, tokens, client secret) are
given to :func:`~sheetcrm.google.redact.remember_secrets` as they load, so they are scrubbed
by value too, whatever their shape.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import google.auth
import google.auth.credentials
from google.auth import exceptions as gauth_exceptions

from sheetcrm.exceptions import AuthError, Phrase, shown
from sheetcrm.google.redact import _SECRET_FIELDS, REDACTED, redact, remember_secrets
from sheetcrm.google.token import FIX_CREDENTIALS
from sheetcrm.i18n import N_

__all__ = [
    "DRIVE_FILE_SCOPE",
    "ENV_CREDENTIALS",
    "ENV_CREDENTIALS_JSON",
    "SHEETS_SCOPE",
    "default_token_path",
    "load_credentials",
    "remember_credentials",
    "scopes",
    "service_account_email",
]

log = logging.getLogger(__name__)

SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
DRIVE_FILE_SCOPE = "https://www.googleapis.com/auth/drive.file"

ENV_CREDENTIALS_JSON = "SHEETCRM_CREDENTIALS_JSON"
ENV_CREDENTIALS = "SHEETCRM_CREDENTIALS"
ENV_GOOGLE_APPLICATION_CREDENTIALS = "GOOGLE_APPLICATION_CREDENTIALS"

FIX = f"set {ENV_CREDENTIALS_JSON} to the key's JSON, or pass --credentials FILE; see README"
#: :data:`FIX` as a catalog phrase, the last part of every message here.
_FIX = Phrase(FIX_CREDENTIALS, {"variable": ENV_CREDENTIALS_JSON, "option": "--credentials FILE", "readme": "README"})
#: "{origin} {problem}; {fix}": the source, what is wrong with it, the fix.
_BROKEN = N_("{origin} {problem}; {fix}")

_MAX_CREDENTIALS_BYTES = 1_000_000
_SUPPORTED_TYPES = "service_account, authorized_user, external_account"


def scopes(create: bool = False) -> list[str]:
    """The OAuth scopes sheetcrm asks for: Sheets only, plus ``drive.file`` (access to
    files this app creates) only when a new spreadsheet is to be created."""
    return [SHEETS_SCOPE, DRIVE_FILE_SCOPE] if create else [SHEETS_SCOPE]


def default_token_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the OAuth user token is cached: ``$XDG_CONFIG_HOME/sheetcrm/token.json``,
    by default ``~/.config/sheetcrm/token.json``."""
    env = os.environ if env is None else env
    config_home = env.get("XDG_CONFIG_HOME")
    base = Path(config_home) if config_home else Path.home() / ".config"
    return base / "sheetcrm" / "token.json"


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def load_credentials(
    source: str | os.PathLike[str] | None = None,
    *,
    create: bool = False,
    env: Mapping[str, str] | None = None,
    interactive: bool = False,
    token_path: str | os.PathLike[str] | None = None,
) -> google.auth.credentials.Credentials:
    """Load Google credentials for the Sheets API.

    Resolution order (the first one present is used):

    1. ``source``: path to a service-account key, OAuth client secrets (``installed`` /
       ``web``), authorized-user or ``external_account`` JSON file;
    2. ``env["SHEETCRM_CREDENTIALS_JSON"]``: that JSON inline (or base64 of it):
       service_account, authorized_user or external_account;
    3. ``env["SHEETCRM_CREDENTIALS"]``, then ``env["GOOGLE_APPLICATION_CREDENTIALS"]``:
       a path, as in 1;
    4. ``google.auth.default(scopes=...)`` (Application Default Credentials; reads the
       process environment and gcloud's files, and may probe the GCE metadata server).

    ``create`` adds the ``drive.file`` scope (needed to create a new spreadsheet).
    ``env`` defaults to ``os.environ``. ``interactive`` allows the browser sign-in for an
    OAuth client-secrets file; the token is cached at ``token_path`` (default
    :func:`default_token_path`) with 0600 permissions and refreshed when expired.

    Raises :class:`AuthError` naming the source and the fix, never the file's contents.
    """
    env = os.environ if env is None else env
    wanted = scopes(create)
    options = _Options(
        scopes=wanted,
        interactive=interactive,
        token_path=Path(token_path) if token_path is not None else default_token_path(env),
    )
    if source is not None:
        path = Path(os.fspath(source)).expanduser()
        origin = Phrase(N_("credentials file {path}"), {"path": shown(path)})
        return _from_info(_read_json_file(path, origin), origin, options)
    inline = env.get(ENV_CREDENTIALS_JSON)
    if inline is not None and inline.strip():
        origin = Phrase(N_("environment variable {variable}"), {"variable": ENV_CREDENTIALS_JSON})
        return _from_info(_parse_inline_json(inline, origin), origin, options)
    for var in (ENV_CREDENTIALS, ENV_GOOGLE_APPLICATION_CREDENTIALS):
        value = env.get(var)
        if value and value.strip():
            path = Path(value.strip()).expanduser()
            origin = Phrase(N_("credentials file {path} (from {variable})"), {"path": shown(path), "variable": var})
            return _from_info(_read_json_file(path, origin), origin, options)
    return _application_default(wanted)


class _Options:
    __slots__ = ("interactive", "scopes", "token_path")

    def __init__(self, *, scopes: list[str], interactive: bool, token_path: Path) -> None:
        self.scopes = scopes
        self.interactive = interactive
        self.token_path = token_path


def _read_json_file(path: Path, origin: Phrase) -> Any:
    problem: Phrase | None = None
    data = b""
    try:
        if not path.exists():
            problem = Phrase(N_("does not exist"))
        elif path.is_dir():
            problem = Phrase(N_("is a directory, not a JSON key file"))
        elif path.stat().st_size > _MAX_CREDENTIALS_BYTES:
            problem = Phrase(N_("is too large to be a credentials JSON file"))
        else:
            data = path.read_bytes()
    except OSError as exc:  # permission denied and the like; strerror holds no contents
        problem = Phrase(N_("cannot be read ({reason})"), {"reason": exc.strerror or type(exc).__name__})
    if problem is not None:
        raise AuthError(Phrase(_BROKEN, {"origin": origin, "problem": problem, "fix": _FIX}))
    return _parse_json(data, origin)


def _parse_inline_json(text: str, origin: Phrase) -> Any:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        decoded = _maybe_base64(stripped)
        if decoded is not None:
            return _parse_json(decoded, Phrase(N_("{origin} (base64)"), {"origin": origin}))
        raise AuthError(
            Phrase(
                N_(
                    "{origin} does not hold JSON: it must contain the key file's contents "
                    "(not its path: for a path use {variable}); {fix}"
                ),
                {"origin": origin, "variable": ENV_CREDENTIALS, "fix": _FIX},
            )
        )
    return _parse_json(stripped.encode("utf-8"), origin)


def _maybe_base64(text: str) -> bytes | None:
    try:
        decoded = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if decoded.lstrip().startswith(b"{") else None


def _parse_json(data: bytes, origin: Phrase) -> Any:
    # The error is raised after the except block so it has no __context__ either: a
    # JSONDecodeError keeps the whole document (the private key) in its ``doc`` attribute.
    problem: Phrase | None = None
    info: Any = None
    try:
        info = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        problem = Phrase(N_("is not UTF-8 text"))
    except json.JSONDecodeError as exc:
        problem = Phrase(
            N_("is not valid JSON (line {line}, column {column}: {detail})"),
            {"line": exc.lineno, "column": exc.colno, "detail": exc.msg},
        )
    except (ValueError, RecursionError):
        problem = Phrase(N_("is not valid JSON"))
    if problem is not None:
        raise AuthError(Phrase(_BROKEN, {"origin": origin, "problem": problem, "fix": _FIX}))
    if not isinstance(info, dict):
        raise AuthError(
            Phrase(
                N_(
                    "{origin} holds JSON {kind}, not an object; expected a "
                    "service-account key or OAuth client JSON; {fix}"
                ),
                {"origin": origin, "kind": type(info).__name__, "fix": _FIX},
            )
        )
    return info


def _secret_values(info: Mapping[str, Any]) -> list[Any]:
    """The secret values of a credentials JSON (its client section's too)."""
    values = [info.get(f) for f in _SECRET_FIELDS]
    for section in ("installed", "web"):
        inner = info.get(section)
        if isinstance(inner, Mapping):
            values.append(inner.get("client_secret"))
    return values


def remember_credentials(credentials: Any) -> None:
    """Have :func:`redact` scrub the secret values a google-auth credentials object holds
    (its access and refresh tokens, client secret, service-account key id), by value."""
    signer = getattr(credentials, "_signer", None)
    remember_secrets(
        [
            getattr(credentials, "token", None),
            getattr(credentials, "refresh_token", None),
            getattr(credentials, "client_secret", None),
            getattr(signer, "key_id", None),
        ]
    )


def _from_info(info: dict[str, Any], origin: Phrase, options: _Options) -> google.auth.credentials.Credentials:
    # Before anything can fail: a loader's error may quote any of them.
    remember_secrets(_secret_values(info))
    if "installed" in info or "web" in info:
        return _oauth_user_credentials(info, origin, options)
    kind = info.get("type")
    if kind == "service_account":
        return _guarded(
            _service_account,
            info,
            options.scopes,
            what=Phrase(N_("the service-account key in {origin}"), {"origin": origin}),
        )
    if kind == "authorized_user":
        # Keeps the scopes it was granted: asking a refresh token for others fails.
        return _guarded(
            _authorized_user,
            info,
            None,
            what=Phrase(N_("the authorized-user credentials in {origin}"), {"origin": origin}),
        )
    if kind == "external_account":
        return _guarded(
            _external_account,
            info,
            options.scopes,
            what=Phrase(
                N_("the external_account (workload identity federation) configuration in {origin}"), {"origin": origin}
            ),
        )
    if kind == "external_account_authorized_user":
        return _guarded(
            _external_account_authorized_user,
            info,
            options.scopes,
            what=Phrase(N_("the external_account_authorized_user credentials in {origin}"), {"origin": origin}),
        )
    if kind == "impersonated_service_account":
        return _guarded(
            _impersonated,
            info,
            options.scopes,
            what=Phrase(N_("the impersonated_service_account credentials in {origin}"), {"origin": origin}),
        )
    said: Phrase | str
    if kind is None:
        said = Phrase(N_("missing"))
    elif isinstance(kind, str) and len(kind) <= 60 and kind.isprintable():
        said = repr(kind)
    else:
        said = Phrase(N_("not a known type"))
    raise AuthError(
        Phrase(
            N_(
                '{origin} is not a credentials file sheetcrm can use: its "type" is {type}; '
                "expected one of {types} (a service-account key: Google Cloud console → "
                "IAM → Service accounts → Keys → Add key → JSON) or an OAuth client "
                '("installed"); {fix}'
            ),
            {"origin": origin, "type": said, "types": _SUPPORTED_TYPES, "fix": _FIX},
        )
    )


def _guarded(
    loader: Any, info: dict[str, Any], wanted: Sequence[str] | None, *, what: Phrase
) -> google.auth.credentials.Credentials:
    """Run a google-auth loader; turn its failure into an AuthError with no chained
    exception and no secret text."""
    problem: Phrase | str | None = None
    try:
        return loader(info, wanted)
    except (ValueError, TypeError, KeyError, AttributeError, gauth_exceptions.GoogleAuthError) as exc:
        problem = _safe_reason(exc, info)
    raise AuthError(
        Phrase(N_("{what} could not be loaded: {problem}; {fix}"), {"what": what, "problem": problem, "fix": _FIX})
    )


class _KeyProblem(ValueError):
    """What is wrong with a service-account key, as a catalog phrase (its fields are
    scrubbed like any reason)."""

    def __init__(self, phrase: Phrase) -> None:
        super().__init__(phrase.render())
        self.phrase = phrase


def _safe_reason(exc: BaseException, info: Mapping[str, Any] | None = None) -> Phrase | str:
    """A one-line reason from a google-auth / parsing exception, with secrets removed
    (a :class:`Phrase` where sheetcrm words it, else the library's own English)."""
    if isinstance(exc, _KeyProblem):
        return Phrase(
            exc.phrase.template,
            {k: _scrub(v, info) if isinstance(v, str) else v for k, v in exc.phrase.fields.items()},
        )
    if isinstance(exc, KeyError):
        key = exc.args[0] if exc.args else None
        if isinstance(key, str):
            return Phrase(N_("missing field {field}"), {"field": _scrub(repr(key), info)})
        return Phrase(N_("a field is missing"))
    try:
        reason = str(exc).strip() or type(exc).__name__
    except Exception:
        reason = type(exc).__name__
    return _scrub(reason, info)


def _scrub(reason: str, info: Mapping[str, Any] | None) -> str:
    """``reason`` on one line, at most 300 characters, without the secret values of
    ``info`` (wherever they were quoted) or anything shaped like a secret."""
    if info is not None:  # the exact secret values, wherever they were quoted
        for field in _SECRET_FIELDS:
            value = info.get(field)
            if isinstance(value, str) and len(value) >= 6:
                reason = reason.replace(value, REDACTED)
                for line in value.replace("\\n", "\n").splitlines():
                    if len(line.strip()) >= 12:
                        reason = reason.replace(line.strip(), REDACTED)
    reason = redact(" ".join(reason.split()))
    if len(reason) > 300:
        reason = reason[:297] + "..."
    return reason.rstrip(".")


def _service_account(info: dict[str, Any], wanted: Sequence[str] | None) -> Any:
    from google.oauth2 import service_account

    missing = [f for f in ("client_email", "private_key", "token_uri") if not info.get(f)]
    if missing:
        raise _KeyProblem(Phrase(N_("missing field(s) {fields}"), {"fields": ", ".join(missing)}))
    key = info["private_key"]
    if not isinstance(key, str) or "-----BEGIN" not in key or "PRIVATE KEY-----" not in key:
        raise _KeyProblem(
            Phrase(
                N_(
                    "its private_key is not a PEM private key (it must run from the "
                    "BEGIN PRIVATE KEY line to the END PRIVATE KEY line): put in the "
                    "whole downloaded key file"
                )
            )
        )
    if "\\n" in key and "\n" not in key.strip():
        # pasted through a shell or CI form that kept the JSON escapes: mend, don't fail
        info = {**info, "private_key": key.replace("\\n", "\n")}
    try:
        return service_account.Credentials.from_service_account_info(info, scopes=wanted)
    except ValueError as exc:
        if "PEM" not in str(exc) and "key" not in str(exc).lower():
            raise
        reason = str(exc)
    # Outside the except block: nothing chained. _guarded scrubs the reason.
    raise _KeyProblem(
        Phrase(
            N_(
                "its private_key cannot be read ({reason}); copy the whole key file "
                "again, with its BEGIN/END lines and {escapes} escapes intact"
            ),
            {"reason": reason, "escapes": "\\n"},
        )
    )


def _authorized_user(info: dict[str, Any], wanted: Sequence[str] | None) -> Any:
    from google.oauth2 import credentials as oauth2_credentials

    return oauth2_credentials.Credentials.from_authorized_user_info(info, scopes=wanted)


def _external_account(info: dict[str, Any], wanted: Sequence[str] | None) -> Any:
    # Type-specific loaders rather than google.auth.load_credentials_from_dict: that one
    # is deprecated (warns) and, for workload identity pools, calls the Cloud Resource
    # Manager over the network just to find a project id sheetcrm does not need.
    source = info.get("credential_source")
    if info.get("subject_token_type") == "urn:ietf:params:aws:token-type:aws4_request":
        from google.auth import aws

        return aws.Credentials.from_info(info, scopes=wanted)
    if isinstance(source, Mapping) and source.get("executable") is not None:
        from google.auth import pluggable

        return pluggable.Credentials.from_info(info, scopes=wanted)
    from google.auth import identity_pool

    return identity_pool.Credentials.from_info(info, scopes=wanted)


def _external_account_authorized_user(info: dict[str, Any], wanted: Sequence[str] | None) -> Any:
    from google.auth import external_account_authorized_user

    creds = external_account_authorized_user.Credentials.from_info(info)
    return creds


def _impersonated(info: dict[str, Any], wanted: Sequence[str] | None) -> Any:
    from google.auth import impersonated_credentials

    return impersonated_credentials.Credentials.from_impersonated_service_account_info(info, scopes=wanted)


def _application_default(wanted: list[str]) -> google.auth.credentials.Credentials:
    problem: Phrase | str | None = None
    try:
        credentials, _project = google.auth.default(scopes=wanted)
        remember_credentials(credentials)
        return credentials
    except (gauth_exceptions.GoogleAuthError, ValueError, OSError) as exc:
        problem = _safe_reason(exc)
    raise AuthError(
        Phrase(
            N_("no Google credentials found (Application Default Credentials: {problem}); {fix}"),
            {"problem": problem, "fix": _FIX},
        )
    )


# --------------------------------------------------------------------------------------
# OAuth user sign-in (client secrets → browser → cached token)
# --------------------------------------------------------------------------------------


def _oauth_user_credentials(
    client_config: dict[str, Any], origin: Phrase, options: _Options
) -> google.auth.credentials.Credentials:
    section = client_config.get("installed") or client_config.get("web")
    if not isinstance(section, Mapping) or not section.get("client_id"):
        raise AuthError(
            Phrase(
                N_(
                    "{origin} is an OAuth client file without a client_id; download it "
                    "again from Google Cloud console → APIs & Services → Credentials; {fix}"
                ),
                {"origin": origin, "fix": _FIX},
            )
        )
    client_id = str(section["client_id"])
    creds = _load_cached_token(options.token_path, client_id, options.scopes)
    if creds is not None:
        if creds.valid:
            return creds
        if creds.refresh_token:
            refreshed = _refresh(creds)
            if refreshed:
                _save_token(creds, options.token_path)
                return creds
    if not options.interactive:
        raise AuthError(
            Phrase(
                N_(
                    "{origin} is an OAuth client: a person must sign in once in the browser "
                    "(run 'sheetcrm login --credentials FILE' once at a desk); the token is then kept in "
                    "{path}. For unattended use, {fix}"
                ),
                {"origin": origin, "path": repr(str(options.token_path)), "fix": _FIX},
            )
        )
    problem: Phrase | str | None = None
    try:
        creds = _run_installed_app_flow(client_config, options.scopes)
    except Exception as exc:  # oauthlib's own errors too (access denied, mismatched state)
        problem = _safe_reason(exc, section)
    if problem is not None:
        raise AuthError(
            Phrase(
                N_("the browser sign-in with {origin} failed: {problem}; {fix}"),
                {"origin": origin, "problem": problem, "fix": _FIX},
            )
        )
    remember_credentials(creds)
    _save_token(creds, options.token_path)
    return creds


def _run_installed_app_flow(client_config: Mapping[str, Any], wanted: Sequence[str]) -> Any:
    """The browser sign-in. Separate so tests can replace it."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    flow = InstalledAppFlow.from_client_config(client_config, scopes=list(wanted))
    return flow.run_local_server(
        port=0,
        open_browser=True,
        authorization_prompt_message="Sign in to Google to let sheetcrm use your sheets: {url}",
        success_message="sheetcrm is signed in; you may close this window.",
    )


def _load_cached_token(path: Path, client_id: str, wanted: Sequence[str]) -> Any:
    from google.oauth2 import credentials as oauth2_credentials

    try:
        if not path.is_file():
            return None
        info = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(info, dict) or info.get("client_id") != client_id:
            return None
        granted = info.get("scopes") or []
        if isinstance(granted, str):
            granted = granted.split()
        if not set(wanted) <= set(granted):
            return None  # signed in for less than we need now (e.g. drive.file): sign in again
        remember_secrets(_secret_values(info))
        return oauth2_credentials.Credentials.from_authorized_user_info(info)
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("ignoring unreadable cached token %s", path)
        return None


def _refresh(creds: Any) -> bool:
    from sheetcrm.google.token import TokenRequest, refresh_failure

    request = TokenRequest()
    problem: AuthError | None = None
    try:
        creds.refresh(request)
    except gauth_exceptions.RefreshError as exc:
        answer = request.last
        if answer is None or answer.is_googles:
            log.warning("the cached Google sign-in could not be refreshed (%s); signing in again", _safe_reason(exc))
            return False
        problem = refresh_failure(exc, answer)
    except gauth_exceptions.TransportError as exc:
        problem = refresh_failure(exc, request.last)
        if problem is None:
            log.warning("the cached Google sign-in could not be refreshed (%s); signing in again", _safe_reason(exc))
            return False
    except (TypeError, KeyError, ValueError) as exc:
        # Not Google's JSON (a captive portal's page): google-auth fails reading it.
        answer = request.last
        if answer is None or answer.is_googles:
            raise
        problem = refresh_failure(exc, answer)
    if problem is not None:
        # A proxy or portal in the way: signing in again in the browser would not help.
        raise problem
    remember_credentials(creds)
    return True


def _save_token(creds: Any, path: Path) -> None:
    """Write the user token to ``path`` with 0600 permissions (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".token-", suffix=".json", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(creds.to_json())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    os.chmod(path, 0o600)


# --------------------------------------------------------------------------------------
# Identity
# --------------------------------------------------------------------------------------


def service_account_email(credentials: Any) -> str | None:
    """The e-mail of the service account the credentials act as, if any — the address a
    spreadsheet must be shared with. ``None`` for a person's (OAuth user) credentials, or
    when it is not known before the first request (on Google Cloud's metadata server)."""
    for attr in ("service_account_email", "signer_email"):
        try:
            value = getattr(credentials, attr, None)
        except Exception:  # a property that needs a refresh first
            value = None
        if isinstance(value, str) and "@" in value:
            return value
    return None


# --------------------------------------------------------------------------------------
# Redaction
# --------------------------------------------------------------------------------------
