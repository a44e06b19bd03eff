"""Bounded retries for gspread: :class:`RetryingHTTPClient` and :func:`make_client`.

gspread's own ``BackOffHTTPClient`` retries without end (and retries 403s); this client
retries only what is worth retrying, within a number of attempts *and* a time budget:

* retried: HTTP 429, 500, 502, 503, 504, a 403 whose reason is ``rateLimitExceeded`` /
  ``userRateLimitExceeded`` (the Drive API's 429), ``requests.ConnectionError`` (refused,
  reset, dropped before the answer), a connection dropped in the middle of the answer
  (``ChunkedEncodingError``), ``requests.Timeout``, and a network failure while
  refreshing the access token;
* delays: capped exponential backoff with full jitter, ``uniform(0, min(max_delay,
  base_delay * 2**n))`` before retry ``n + 1``; a ``Retry-After`` header (seconds or an
  HTTP date) is used as given instead. No wait runs past the budget: a backoff wait is cut
  to what is left of it, and a ``Retry-After`` longer than what is left ends the retries
  at once (retrying before the server allows is pointless);
* not retried: every other status (400, 401, 403, 404, ...): gspread's ``APIError``
  propagates as usual. Google refusing the credentials during a token refresh becomes
  :class:`~sheetcrm.exceptions.AuthError`; so does a token endpoint that answers with
  something that is not Google's JSON (a proxy's or captive portal's page) and a proxy
  that wants a login (HTTP 407), each saying so (:mod:`sheetcrm.google.token`);
* when attempts or budget run out: :class:`RetriesExhaustedError` (a
  :class:`~sheetcrm.exceptions.QuotaError`) naming the method, the URL path without its
  query, the last status and what to do.

Every sheetcrm error raised here is raised outside the ``except`` block that caught the
library's exception, so neither ``__cause__`` nor ``__context__`` holds google-auth's or
requests' exception (they carry the signed JWT assertion and the Authorization header).

Every request carries a timeout (connect 10 s, read 60 s by default; ``set_timeout(None)``
restores that default rather than waiting forever).

``base_url`` sends every ``https://sheets.googleapis.com`` / ``https://www.googleapis.com``
request to another server (e.g. a local fake: ``http://127.0.0.1:PORT``), path and query
kept. Token refreshes (``oauth2.googleapis.com``) are not redirected: use credentials that
need none (``google.oauth2.credentials.Credentials(token="x")``) against a fake.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import math
import random as _random
import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, ClassVar, NoReturn
from urllib.parse import urlsplit

import gspread
import requests
from google.auth import exceptions as gauth_exceptions
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession
from gspread.exceptions import APIError
from gspread.http_client import FileType, HTTPClient, ParamsType
from requests import Response, Session

from sheetcrm.exceptions import AnswerLostError, Phrase, QuotaError, SheetCRMError
from sheetcrm.google.redact import remember_secrets
from sheetcrm.google.token import (
    PROXY_AUTH_STATUS,
    TokenAnswer,
    TokenRequest,
    proxy_login_wanted,
    proxy_refused,
    refresh_failure,
)
from sheetcrm.i18n import N_

__all__ = [
    "DEFAULT_OPTIONS",
    "GOOGLE_API_PREFIXES",
    "RETRY_STATUSES",
    "RetriesExhaustedError",
    "RetryingHTTPClient",
    "is_idempotent",
    "make_client",
]

log = logging.getLogger(__name__)

RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})
GOOGLE_API_PREFIXES: tuple[str, ...] = (
    "https://sheets.googleapis.com",
    "https://www.googleapis.com",
)

Timeout = float | tuple[float, float] | None

DEFAULT_OPTIONS: Mapping[str, Any] = {
    "max_attempts": 8,
    "budget_seconds": 100.0,
    "base_delay": 1.0,
    "max_delay": 32.0,
    "timeout": (10.0, 60.0),
    "sleep": time.sleep,
    "random": _random.random,
    "clock": time.monotonic,
    "base_url": None,
}

#: spreadsheets.batchUpdate request kinds that leave the same state when applied twice.
#: Everything else (addSheet, appendDimension, insertDimension, addProtectedRange,
#: createDeveloperMetadata, deleteDimension, ...) creates, moves or removes something.
IDEMPOTENT_BATCH_KINDS: frozenset[str] = frozenset(
    {
        "updateCells",
        "repeatCell",
        "updateSheetProperties",
        "updateSpreadsheetProperties",
        "updateDimensionProperties",
        "setDataValidation",
        "updateBorders",
        "autoResizeDimensions",
    }
)
#: Sheets methods (the path's last ``:verb`` or ``/values/...`` form) that are safe to
#: repeat: they set the same values on the same cells, or read.
_IDEMPOTENT_VERBS = (
    "values:batchUpdate",
    "values:batchUpdateByDataFilter",
    "values:batchGet",
    "values:batchGetByDataFilter",
    "values:batchClear",
    "values:batchClearByDataFilter",
    "developerMetadata:search",
    ":getByDataFilter",
    ":clear",
)


def is_idempotent(method: str, url: str, body: Mapping[str, Any] | None = None) -> bool:
    """Whether sending this request twice leaves the same state as sending it once.

    Reads, ``values.update`` (PUT), ``values.batchUpdate`` / ``batchUpdateByDataFilter``,
    clears and ``spreadsheets.batchUpdate`` made only of set-this-property requests are;
    creating a file or a spreadsheet, sharing, ``values.append``, copying a tab, deleting,
    and a ``spreadsheets.batchUpdate`` that adds a tab, rows, a protected range or
    metadata are not (a second copy would be made, or the repeat would fail)."""
    verb = method.upper()
    if verb in ("GET", "HEAD", "OPTIONS", "PUT", "PATCH"):
        return True
    if verb != "POST":
        return False
    path = urlsplit(url).path
    if path.endswith(":batchUpdate") and "/values" not in path:
        kinds = [next(iter(r)) for r in (body or {}).get("requests") or [] if isinstance(r, dict) and r]
        return bool(kinds) and all(k in IDEMPOTENT_BATCH_KINDS for k in kinds)
    return path.endswith(_IDEMPOTENT_VERBS)


_STATUS_TEXT = {
    429: N_("429 (rate limit)"),
    500: N_("500 (internal error on Google's side)"),
    502: N_("502 (bad gateway on Google's side)"),
    503: N_("503 (service unavailable on Google's side)"),
    504: N_("504 (gateway timeout on Google's side)"),
}
# What the API kept doing: "the {api} kept {failure}" (and what the log says).
_NO_CONNECTION = N_("timing out (no connection within {wait})")
_NO_ANSWER = N_("timing out (no answer within {wait})")
_TIMING_OUT = (_NO_CONNECTION, _NO_ANSWER)
# A connection never made: the request cannot have arrived.
_NO_HOST = N_("failing to resolve its host name (no network?)")
_REFUSED = N_("refusing the connection")
_ANSWERING = N_("answering {status}")
_RATE_LIMITED_403 = N_("answering 403 (rate limit exceeded)")


class RetriesExhaustedError(QuotaError):
    """The API kept refusing or failing past the retry budget.

    ``method`` and ``path`` (no query) name the request, ``status`` is the last HTTP status
    (``None`` when the last failure was a timeout or a dropped connection), ``attempts``
    and ``elapsed`` (seconds) say how hard sheetcrm tried.
    """

    def __init__(
        self, message: str | Phrase, *, method: str, path: str, status: int | None, attempts: int, elapsed: float
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.attempts = attempts
        self.elapsed = elapsed


class RetryingHTTPClient(HTTPClient):
    """A gspread ``HTTPClient`` with bounded retries (see the module docstring).

    ``RetryingHTTPClient(auth, session=None, *, max_attempts=8, budget_seconds=100.0,
    base_delay=1.0, max_delay=32.0, timeout=(10.0, 60.0), sleep=time.sleep,
    random=random.random, clock=time.monotonic, base_url=None)``.

    ``sleep(seconds)``, ``random() -> float in [0, 1)`` (a ``random.Random`` instance works
    too) and ``clock() -> seconds`` are injectable so tests run instantly and
    deterministically. ``attempts`` counts HTTP attempts and ``retries`` the waits between
    them, over the client's life; ``delays`` lists every wait.

    gspread instantiates the class itself as ``http_client(auth, session)``, so options go
    in a subclass: ``RetryingHTTPClient.configured(max_attempts=3, base_url=...)``;
    :func:`make_client` does that. The class attribute :attr:`base_url` is honoured too.
    """

    base_url: str | None = None
    _configured: ClassVar[Mapping[str, Any]] = {}

    def __init__(
        self,
        auth: Credentials,
        session: Session | None = None,
        *,
        max_attempts: int | None = None,
        budget_seconds: float | None = None,
        base_delay: float | None = None,
        max_delay: float | None = None,
        timeout: Timeout = None,
        sleep: Callable[[float], object] | None = None,
        random: Callable[[], float] | _random.Random | None = None,
        clock: Callable[[], float] | None = None,
        base_url: str | None = None,
    ) -> None:
        if session is None:
            # gspread's own session, but token refreshes go through a transport that
            # remembers the token endpoint's answer (to explain a refresh that fails).
            session = AuthorizedSession(auth, auth_request=TokenRequest())
        super().__init__(auth, session)
        if not hasattr(self, "auth"):  # gspread sets it only when it makes the session
            self.auth = auth
        found = getattr(self.session, "_auth_request", None)
        self._token_request: TokenRequest | None = found if isinstance(found, TokenRequest) else None
        self._known_token: str | None = None
        given = {
            "max_attempts": max_attempts,
            "budget_seconds": budget_seconds,
            "base_delay": base_delay,
            "max_delay": max_delay,
            "timeout": timeout,
            "sleep": sleep,
            "random": random,
            "clock": clock,
            "base_url": base_url,
        }
        opts = {**DEFAULT_OPTIONS, **self._configured}
        if type(self).base_url is not None:
            opts["base_url"] = type(self).base_url
        opts.update({k: v for k, v in given.items() if v is not None})
        _validate(opts)
        self.max_attempts: int = int(opts["max_attempts"])
        self.budget_seconds: float = float(opts["budget_seconds"])
        self.base_delay: float = float(opts["base_delay"])
        self.max_delay: float = float(opts["max_delay"])
        self.default_timeout: Timeout = opts["timeout"]
        self.timeout = self.default_timeout
        self._sleep: Callable[[float], object] = opts["sleep"]
        rnd = opts["random"]
        self._random: Callable[[], float] = rnd.random if isinstance(rnd, _random.Random) else rnd
        self._clock: Callable[[], float] = opts["clock"]
        url = opts["base_url"]
        self.base_url = url.rstrip("/") if url else None
        self.attempts = 0
        self.retries = 0
        self.delays: list[float] = []

    @classmethod
    def configured(cls, **options: Any) -> type[RetryingHTTPClient]:
        """A subclass whose instances use ``options`` (any constructor keyword) — the form
        ``gspread.Client(auth, http_client=...)`` needs, as it builds the client itself."""
        unknown = set(options) - set(DEFAULT_OPTIONS)
        if unknown:
            raise TypeError(f"unknown retry option(s): {', '.join(sorted(unknown))}")
        merged = {**cls._configured, **{k: v for k, v in options.items() if v is not None}}
        _validate({**DEFAULT_OPTIONS, **merged})
        attrs: dict[str, Any] = {"_configured": merged, "__module__": cls.__module__}
        if "base_url" in merged:
            attrs["base_url"] = merged["base_url"]
        return type(cls.__name__, (cls,), attrs)

    def set_timeout(self, timeout: Timeout) -> None:
        """Per-request timeout, seconds or ``(connect, read)``; ``None`` restores the
        default (10 s connect, 60 s read) — never "wait forever"."""
        self.timeout = self.default_timeout if timeout is None else timeout

    # -- the request loop ---------------------------------------------------------------

    def request(
        self,
        method: str,
        endpoint: str,
        params: ParamsType | None = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: FileType = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> Response:
        url = self.rewrite_url(endpoint)
        safe = is_idempotent(method, endpoint, json)
        start = self._clock()
        status: int | None = None
        failure = Phrase("")
        attempt = 0
        while True:
            attempt += 1
            self.attempts += 1
            retry_after: float | None = None
            # Raised after the except block: chained to nothing (google-auth's and requests'
            # exceptions carry the signed assertion and the Authorization header).
            error: SheetCRMError | None = None
            if self._token_request is not None:
                self._token_request.forget()
            try:
                timeout = self._attempt_timeout(self.budget_seconds - (self._clock() - start))
                response = self.session.request(
                    method=method,
                    url=url,
                    json=json,
                    params=params,
                    data=data,
                    files=files,
                    headers=headers,
                    timeout=timeout,
                )
            except requests.exceptions.ConnectTimeout:
                status, failure = None, Phrase(_NO_CONNECTION, {"wait": _describe(timeout)})
            except requests.Timeout:
                status, failure = None, Phrase(_NO_ANSWER, {"wait": _describe(timeout)})
                if not safe:
                    error = self._answer_lost(method, endpoint, failure)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                # ChunkedEncodingError: the connection dropped in the middle of the answer
                proxy_host = proxy_login_wanted(exc)
                status, failure = None, _describe_connection_error(exc)
                if proxy_host is not None:  # asking again without a login is pointless
                    error = proxy_refused(proxy_host)
                elif not safe and _may_have_arrived(exc):
                    error = self._answer_lost(method, endpoint, failure)
            except gauth_exceptions.RefreshError as exc:
                answer = self._token_answer()
                if not getattr(exc, "retryable", False) or (answer is not None and answer.status == PROXY_AUTH_STATUS):
                    error = refresh_failure(exc, answer)
                # The token endpoint itself failed (5xx): Google's side, worth retrying.
                status, failure = (
                    None,
                    Phrase(N_("failing to issue an access token (its token endpoint answered an error)")),
                )
            except gauth_exceptions.TransportError as exc:
                proxy_host = proxy_login_wanted(exc)
                if proxy_host is not None:
                    error = proxy_refused(proxy_host)
                status, failure = None, Phrase(N_("failing to reach Google to refresh the access token"))
            except (TypeError, KeyError, ValueError) as exc:
                # google-auth reading a token answer that was not Google's JSON (a captive
                # portal's page with 200 ends in "string indices must be integers").
                answer = self._token_answer()
                if answer is None or answer.is_googles:
                    raise
                error = refresh_failure(exc, answer)
            else:
                self._remember_token()
                if response.ok:
                    return response
                status = response.status_code
                if status == 403 and _is_rate_limit(response):  # the Drive API's 429
                    failure = Phrase(_RATE_LIMITED_403)
                elif status in RETRY_STATUSES:
                    said = _STATUS_TEXT.get(status)
                    failure = Phrase(_ANSWERING, {"status": Phrase(said) if said else str(status)})
                else:
                    raise APIError(response)
                retry_after = _parse_retry_after(response.headers.get("Retry-After"))
                response.close()
            if error is not None:
                raise error
            _rewind_files(files)

            elapsed = self._clock() - start
            remaining = self.budget_seconds - elapsed
            why: Phrase | None = None
            if attempt >= self.max_attempts:
                why = Phrase(N_("after {n} attempts"), {"n": attempt})
            elif remaining <= 0:
                why = Phrase(N_("within the {budget} s retry budget"), {"budget": f"{self.budget_seconds:g}"})
            elif retry_after is not None and retry_after > remaining:
                why = Phrase(
                    N_("and asked to wait {wait} s, more than the {left} s left of the retry budget"),
                    {"wait": f"{retry_after:g}", "left": f"{max(remaining, 0):.0f}"},
                )
            if why is not None:
                self._give_up(method, endpoint, status, failure, attempt, elapsed, why)
            delay = retry_after if retry_after is not None else min(self.backoff(attempt), remaining)
            self.retries += 1
            self.delays.append(delay)
            log.info(
                "%s %s: %s; retry %d of %d in %.1f s",
                method.upper(),
                _path(endpoint),
                failure.render(),
                attempt,
                self.max_attempts - 1,
                delay,
            )
            if delay > 0:
                self._sleep(delay)

    def _token_answer(self) -> TokenAnswer | None:
        """The token endpoint's answer during this attempt, if a refresh ran."""
        return self._token_request.last if self._token_request is not None else None

    def _remember_token(self) -> None:
        """Have :func:`redact` scrub the current access token by value (a token that is
        not ``ya29.``-shaped, as a test's or another issuer's, is then scrubbed too)."""
        token = getattr(self.auth, "token", None)
        if isinstance(token, str) and token != self._known_token:
            self._known_token = token
            remember_secrets([token])

    @staticmethod
    def _answer_lost(method: str, endpoint: str, failure: Phrase) -> AnswerLostError:
        """Not retried: the request may have been applied, and applying it twice would
        make a second spreadsheet, tab, share or row."""
        return AnswerLostError(
            Phrase(
                N_(
                    "{method} {path}: the {api} was sent the request but the answer was lost ({failure}); "
                    "Google may have applied it, so it is not sent again"
                ),
                {"method": method.upper(), "path": _path(endpoint), "api": _api_name(endpoint), "failure": failure},
            ),
            method=method.upper(),
            path=_path(endpoint),
        )

    def _attempt_timeout(self, remaining: float) -> Timeout:
        """The configured timeout, cut to what is left of the budget (at least 1 s) so the
        budget bounds the whole call, not only the waits between attempts."""
        timeout = self.timeout
        if timeout is None:
            return None
        cap = max(remaining, 1.0)
        if isinstance(timeout, tuple):
            return (min(timeout[0], cap), min(timeout[1], cap))
        return min(timeout, cap)

    def backoff(self, attempt: int) -> float:
        """The full-jitter wait after failed attempt number ``attempt`` (1-based):
        ``random() * min(max_delay, base_delay * 2 ** (attempt - 1))``."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 62))
        return max(0.0, min(ceiling, self._random() * ceiling))

    def rewrite_url(self, endpoint: str) -> str:
        """``endpoint`` with a Google API origin replaced by :attr:`base_url`, if set."""
        if self.base_url:
            for prefix in GOOGLE_API_PREFIXES:
                if endpoint.startswith(prefix) and (len(endpoint) == len(prefix) or endpoint[len(prefix)] in "/?#"):
                    return self.base_url + endpoint[len(prefix) :]
        return endpoint

    def _give_up(
        self,
        method: str,
        endpoint: str,
        status: int | None,
        failure: Phrase,
        attempts: int,
        elapsed: float,
        why: Phrase,
    ) -> NoReturn:
        if status == 429 or "rate limit" in failure.render():
            advice = Phrase(N_("wait a minute and run again, or lower the request rate"))
        elif status is not None:
            advice = Phrase(
                N_("the problem is on Google's side: wait a few minutes and run again ({url} shows outages)"),
                {"url": "https://www.google.com/appsstatus"},
            )
        elif failure.template in _TIMING_OUT:
            advice = Phrase(
                N_("check the network connection and run again; for a very large sheet raise the read timeout")
            )
        else:
            advice = Phrase(N_("check the network connection (and any proxy) and run again"))
        message = Phrase(
            N_("{method} {path}: the {api} kept {failure} {why} ({elapsed} s); {advice}"),
            {
                "method": method.upper(),
                "path": _path(endpoint),
                "api": _api_name(endpoint),
                "failure": failure,
                "why": why,
                "elapsed": f"{elapsed:.0f}",
                "advice": advice,
            },
        )
        raise RetriesExhaustedError(
            message,
            method=method.upper(),
            path=_path(endpoint),
            status=status,
            attempts=attempts,
            elapsed=elapsed,
        )


def make_client(
    credentials: Credentials,
    *,
    base_url: str | None = None,
    session: Session | None = None,
    **retry_options: Any,
) -> gspread.Client:
    """A ``gspread.Client`` on ``credentials`` whose HTTP goes through
    :class:`RetryingHTTPClient` with ``retry_options`` (``max_attempts``,
    ``budget_seconds``, ``base_delay``, ``max_delay``, ``timeout``, ``sleep``, ``random``,
    ``clock``). ``base_url`` points it at another server (a local fake of the API).
    The retrying client is ``client.http_client``."""
    cls = RetryingHTTPClient.configured(base_url=base_url, **retry_options)
    return gspread.Client(auth=credentials, session=session, http_client=cls)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _validate(opts: Mapping[str, Any]) -> None:
    if int(opts["max_attempts"]) < 1:
        raise ValueError("max_attempts must be at least 1")
    for key in ("budget_seconds", "base_delay", "max_delay"):
        value = float(opts[key])
        if math.isnan(value) or value < 0:
            raise ValueError(f"{key} must be a number >= 0")
    for key in ("sleep", "clock"):
        if not callable(opts[key]):
            raise TypeError(f"{key} must be callable")
    rnd = opts["random"]
    if not (callable(rnd) or isinstance(rnd, _random.Random)):
        raise TypeError("random must be a callable returning a float in [0, 1)")


def _path(endpoint: str) -> str:
    """The URL path only: no scheme, host, query or fragment (queries can hold keys)."""
    return urlsplit(endpoint).path or "/"


def _api_name(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    if parts.hostname == "sheets.googleapis.com" or parts.path.startswith("/v4/spreadsheets"):
        return "Google Sheets API"
    if "/drive/" in parts.path:
        return "Google Drive API"
    return "Google API"


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def _describe(timeout: Timeout) -> Phrase:
    if isinstance(timeout, tuple):
        return Phrase(
            N_("connect {connect} s / read {read} s"), {"connect": f"{timeout[0]:g}", "read": f"{timeout[1]:g}"}
        )
    return Phrase(N_("{seconds} s"), {"seconds": f"{timeout:g}"}) if timeout is not None else Phrase(N_("no timeout"))


def _is_rate_limit(response: Response) -> bool:
    """A 403 that is really a rate limit (the Drive API answers those with 403 and reason
    ``rateLimitExceeded`` / ``userRateLimitExceeded`` rather than 429)."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return False
    if not isinstance(error, dict):
        return False
    reasons = {str(e.get("reason", "")) for e in error.get("errors", []) if isinstance(e, dict)}
    reasons |= {str(d.get("reason", "")) for d in error.get("details", []) if isinstance(d, dict)}
    return bool(reasons & {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})


def _may_have_arrived(exc: requests.RequestException) -> bool:
    """Whether the server may have received (and applied) the request: anything but a
    connection that was never made (refused, unresolvable host)."""
    return _describe_connection_error(exc).template not in (_REFUSED, _NO_HOST)


def _describe_connection_error(exc: requests.RequestException) -> Phrase:
    text = str(exc)
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return Phrase(N_("dropping the connection without an answer"))
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in text:
        return Phrase(N_("dropping the connection in the middle of an answer"))
    if "Connection reset" in text:
        return Phrase(N_("resetting the connection"))
    if any(
        s in text
        for s in (
            "NameResolutionError",
            "Name or service not known",
            "nodename nor servname",
            "getaddrinfo",
            "Temporary failure",
        )
    ):
        return Phrase(_NO_HOST)
    if "Connection refused" in text:
        return Phrase(_REFUSED)
    return Phrase(N_("failing to connect"))


def _rewind_files(files: FileType) -> None:
    """Put uploaded file objects back at their start so a retry sends them whole."""
    if not files:
        return
    for value in files.values():
        fh = value[1] if isinstance(value, tuple) else value
        seek = getattr(fh, "seek", None)
        if callable(seek):
            with contextlib.suppress(OSError, ValueError):
                seek(0)
