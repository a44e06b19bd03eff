"""Redaction: secrets never reach output, logs or errors.

Pure text functions plus a logging filter. Importing this module changes nothing;
the CLI (or a caller) asks for :func:`install_log_redaction` explicitly.
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "REDACTED",
    "REDACTED_LOGGERS",
    "RedactingFilter",
    "forget_secrets",
    "install_log_redaction",
    "redact",
    "remember_secrets",
]

_SECRET_FIELDS = (
    "private_key",
    "private_key_id",
    "client_secret",
    "refresh_token",
    "token",
    "access_token",
    "id_token",
    "rapt_token",
)


REDACTED = "[REDACTED]"

_PEM = re.compile(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----.*?"
    r"(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|(?=[\"'])|\Z)",
    re.DOTALL,
)
_SECRET_KEYS = (
    r"private_key_id|private_key|client_secret|refresh_token|access_token|id_token"
    r"|rapt_token|subject_token|token|assertion|password|api_key|x-goog-api-key|kid|key_id"
)
# "field": "value" (JSON) and 'field': 'value' (Python repr); escaped quotes allowed.
_FIELD_DQ = re.compile(rf'(?i)("(?:{_SECRET_KEYS})"\s*:\s*)"(?:[^"\\]|\\.)*"')
_FIELD_SQ = re.compile(rf"(?i)('(?:{_SECRET_KEYS})'\s*:\s*)'(?:[^'\\]|\\.)*'")
# field=value in query strings and form bodies.
_FIELD_QS = re.compile(
    r"(?i)((?:(?<![A-Za-z0-9_])(?:access_token|refresh_token|client_secret|assertion|id_token"
    r"|subject_token|token|password|private_key_id)|[?&](?:code|key|sig|signature))=)[^&\s\"';,]+"
)
# Authorization: <anything up to end of line / quote / comma>
_AUTH_HEADER = re.compile(r"(?i)(\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n,}]+")
_BEARER = re.compile(
    r"(?i)\b(bearer)\s+(?!\[REDACTED\]|(?:tokens?|authentication|credentials?|auth)\b)"
    r"[A-Za-z0-9\-._~+/=]+"
)
_TOKEN_SHAPES = re.compile(
    r"ya29\.[A-Za-z0-9\-_.]+"  # OAuth access tokens
    r"|\b1//[A-Za-z0-9\-_]{10,}"  # Google refresh tokens
    r"|\bGOCSPX-[A-Za-z0-9\-_]+"  # OAuth client secrets
    r"|\bAIza[0-9A-Za-z\-_]{30,}"  # API keys
    r"|\beyJ[A-Za-z0-9\-_]{5,}\.[A-Za-z0-9\-_]{5,}\.[A-Za-z0-9\-_]*"  # JWTs
    r"|(?<![0-9A-Za-z])[0-9a-fA-F]{40}(?![0-9A-Za-z])"  # service-account private_key_id
)


#: Exact secret values known from the credentials in use (key id, private key lines,
#: tokens, client secret), newest last; bounded, as a long run refreshes its token hourly.
_KNOWN: dict[str, None] = {}
_KNOWN_LIMIT = 256
_KNOWN_LOCK = threading.Lock()
_known_pattern: re.Pattern[str] | None = None
#: Shorter values are not secrets worth the risk of blanking ordinary words.
_MIN_SECRET_LENGTH = 8


def remember_secrets(values: Iterable[object]) -> None:
    """Scrub these exact values from every text :func:`redact` cleans from now on, whatever
    their shape (a test token, an old-style client secret, a key id quoted in a sentence).

    Each value is remembered as given and URL-encoded; a PEM private key is remembered line
    by line (its base64 lines, wherever a message quotes or joins them). Values shorter than
    8 characters, and non-strings, are ignored. The sheetcrm credential loaders call this;
    a program that builds its own credentials can too."""
    global _known_pattern
    fresh: list[str] = []
    for value in values:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            continue
        pieces = [value]
        if "PRIVATE KEY" in value:
            pieces = [line.strip() for line in value.replace("\\n", "\n").splitlines()]
            pieces = [line for line in pieces if not line.startswith("-----")]
        for piece in pieces:
            if len(piece) >= _MIN_SECRET_LENGTH:
                fresh.append(piece)
                quoted = urllib.parse.quote_plus(piece)
                if quoted != piece:
                    fresh.append(quoted)
    if not fresh:
        return
    with _KNOWN_LOCK:
        if all(v in _KNOWN for v in fresh):
            return
        for v in fresh:
            _KNOWN.pop(v, None)
            _KNOWN[v] = None
        while len(_KNOWN) > _KNOWN_LIMIT:
            del _KNOWN[next(iter(_KNOWN))]
        # Longest first: a value that contains another is replaced whole.
        ordered = sorted(_KNOWN, key=len, reverse=True)
        _known_pattern = re.compile("|".join(re.escape(v) for v in ordered))


def forget_secrets(values: Iterable[object] | None = None) -> None:
    """Forget these values (as given to :func:`remember_secrets`), or every value."""
    global _known_pattern
    with _KNOWN_LOCK:
        if values is None:
            _KNOWN.clear()
        else:
            for value in values:
                if isinstance(value, str):
                    _KNOWN.pop(value, None)
                    _KNOWN.pop(urllib.parse.quote_plus(value), None)
        ordered = sorted(_KNOWN, key=len, reverse=True)
        _known_pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None


def redact(text: str) -> str:
    """``text`` with secrets replaced by ``[REDACTED]``: the exact values given to
    :func:`remember_secrets`, PEM private keys (real newlines or literal ``\\n``),
    ``"private_key"``/``"private_key_id"``/``"client_secret"``/``"refresh_token"``/
    ``"token"``/``"assertion"``/``"kid"``/... fields (JSON or Python repr), ``token=...``,
    ``assertion=...``, ``?key=...`` query and form fields, ``Authorization:`` headers,
    ``Bearer`` credentials, and bare ``ya29.`` access tokens, ``1//`` refresh tokens,
    ``GOCSPX-`` client secrets, ``AIza`` API keys, JWTs (signed assertions) and 40-hex-digit
    service-account key ids."""
    if not text:
        return text
    known = _known_pattern
    if known is not None:
        text = known.sub(REDACTED, text)
    text = _PEM.sub("[REDACTED PRIVATE KEY]", text)
    text = _FIELD_DQ.sub(rf'\1"{REDACTED}"', text)
    text = _FIELD_SQ.sub(rf"\1'{REDACTED}'", text)
    text = _AUTH_HEADER.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    text = _FIELD_QS.sub(rf"\1{REDACTED}", text)
    text = _TOKEN_SHAPES.sub(REDACTED, text)
    return text


_STANDARD_RECORD_FIELDS: frozenset[str] = frozenset(
    {*vars(logging.LogRecord("", 0, "", 0, "", None, None)), "message", "asctime"}
)
_SECRET_ATTRIBUTES = frozenset(
    {*_SECRET_FIELDS, "assertion", "access_token", "id_token", "token", "authorization", "Authorization"}
)


def _redact_value(value: Any) -> Any:
    """``value`` with secrets removed, recursively through dicts, lists and text."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        return redact(value.decode("utf-8", "replace"))
    if isinstance(value, dict):
        return {k: REDACTED if str(k) in _SECRET_ATTRIBUTES else _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v) for v in value)
    return value


class RedactingFilter(logging.Filter):
    """A logging filter that runs :func:`redact` over each record's message, exception
    text and stack text (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the handler to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        # Libraries attach request details as extra attributes (google-auth puts the signed
        # JWT assertion in record.httpRequest); a structured handler would print them.
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_RECORD_FIELDS:
                setattr(record, name, _redact_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


REDACTED_LOGGERS: tuple[str, ...] = (
    "sheetcrm",
    # Libraries that log credentials at DEBUG: requests_oauthlib logs token request
    # bodies (client secret, code) and the tokens it obtains; urllib3 logs URLs.
    "google",
    "google_auth_oauthlib",
    "requests_oauthlib",
    "oauthlib",
    "urllib3",
    "gspread",
)


def install_log_redaction(names: Sequence[str] = REDACTED_LOGGERS) -> RedactingFilter:
    """Redact every log record of the ``sheetcrm`` loggers (and of the libraries that log
    credentials at DEBUG, see :data:`REDACTED_LOGGERS`).

    Adds a :class:`RedactingFilter` to the ``sheetcrm`` logger. Python applies a logger's
    filters only to records logged on that very logger, not to those propagated from its
    children (``sheetcrm.google.http`` and the like, including loggers created later), so the
    same filter is also applied where records are made: a log-record factory wrapping the
    current one runs it on records whose logger is one of ``names`` or below them.
    Idempotent; returns the filter."""
    logger = logging.getLogger("sheetcrm")
    flt = next((f for f in logger.filters if isinstance(f, RedactingFilter)), None)
    if flt is None:
        flt = RedactingFilter()
        logger.addFilter(flt)
    # Attributes passed as ``extra`` (google-auth's httpRequest) are set after the record
    # factory runs, so only a filter on the emitting logger sees them: add it to every
    # logger below ``names`` that exists now (google-auth's are created on import).
    for name in (
        "google.auth.transport.requests",
        "google.auth._helpers",
        *(n for n in list(logging.root.manager.loggerDict) if any(n == p or n.startswith(p + ".") for p in names)),
    ):
        child = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in child.filters):
            child.addFilter(flt)
    current = logging.getLogRecordFactory()
    if isinstance(current, _RedactingRecordFactory):
        current.names = tuple(dict.fromkeys((*current.names, *names)))
    else:
        logging.setLogRecordFactory(_RedactingRecordFactory(current, tuple(names), flt))
    return flt


class _RedactingRecordFactory:
    def __init__(self, inner: Any, names: tuple[str, ...], flt: RedactingFilter) -> None:
        self.inner = inner
        self.names = names
        self.filter = flt

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.inner(*args, **kwargs)
        name = record.name
        if any(name == n or name.startswith(n + ".") for n in self.names):
            self.filter.filter(record)
        return record
