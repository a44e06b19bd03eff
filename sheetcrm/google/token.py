"""The access-token endpoint's answers, remembered, so a failed refresh says what happened.

google-auth reads whatever the token endpoint answers as Google's JSON. When something else
answers (a proxy asking for a login with 407, or a captive portal's or proxy's HTML page
with 200), google-auth ends in a ``TypeError`` (``string indices must be integers``) or a
``RefreshError`` that reads as if Google had refused the key. :class:`TokenRequest` is
google-auth's own ``requests`` transport that also remembers the last answer (status,
content type, whether it was Google's JSON) of the current thread; :func:`refresh_failure`
turns the failure into an :class:`~sheetcrm.exceptions.AuthError` naming the real cause, in
English and Chinese. It also remembers every access token issued, so :func:`redact` scrubs
it by value.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import requests
from google.auth import exceptions as gauth_exceptions
from google.auth.transport import requests as gauth_requests

from sheetcrm.exceptions import AuthError, Phrase
from sheetcrm.google.redact import redact, remember_secrets
from sheetcrm.i18n import N_

__all__ = ["Body", "TokenAnswer", "TokenRequest", "proxy_login_wanted", "proxy_refused", "refresh_failure"]

# Names and examples that stay as they are in every language are fields.
FIX_CREDENTIALS = N_("set {variable} to the key's JSON, or pass {option}; see {readme}")
PROXY_LOGIN = N_(
    "the network's proxy asked for a user name and password ({status}) when sheetcrm reached "
    "{host}, so {google} never saw the request: put the proxy's login in {variable} "
    "({example}), or ask whoever runs the network"
)
NOT_GOOGLE = N_(
    "{host} answered the request for an access token with {what} ({status}) instead of "
    "{google}'s token: a proxy or a captive portal (the sign-in page of a café, hotel or office "
    "network) answered instead of {google}; open any web page in a browser to sign in to the "
    "network, or set {variable} to the proxy this network requires, then run again"
)
REFUSED = N_(
    "{google} refused the credentials when refreshing the access token ({reason}); the key may "
    "have been deleted or disabled, or the sign-in revoked: create a new key (or sign in "
    "again) and {fix}"
)
A_WEB_PAGE = N_("a web page")
UNREADABLE_TEXT = N_("unreadable text")
NO_TOKEN = N_("an answer without an access token")
AN_EMPTY_ANSWER = N_("an empty answer")

_NAMES = {"google": "Google", "variable": "HTTPS_PROXY"}
_FIX = Phrase(
    FIX_CREDENTIALS, {"variable": "SHEETCRM_CREDENTIALS_JSON", "option": "--credentials FILE", "readme": "README"}
)

#: HTTP 407 Proxy Authentication Required.
PROXY_AUTH_STATUS = 407


class Body(StrEnum):
    """What a token endpoint's answer held."""

    TOKEN = "token"  # a JSON object with an access token
    JSON = "json"  # a JSON object without one (Google's error, or someone else's)
    HTML = "html"  # a web page
    TEXT = "text"  # anything else that is not a JSON object
    EMPTY = "empty"


@dataclass(frozen=True)
class TokenAnswer:
    """What the token endpoint answered: ``host`` (no path or query), HTTP ``status``,
    ``content_type``, and what the ``body`` held."""

    host: str
    status: int
    content_type: str
    body: Body

    @property
    def is_googles(self) -> bool:
        """Whether this reads like Google's token endpoint (JSON, with a token when 200)."""
        if self.status == PROXY_AUTH_STATUS:
            return False
        if self.status == 200:
            return self.body is Body.TOKEN
        return self.body in (Body.JSON, Body.TOKEN)


def _kind_of(data: Any, content_type: str) -> Body:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data or "")
    if not text.strip():
        return Body.EMPTY
    try:
        parsed = json.loads(text)
    except ValueError:
        page = "html" in content_type.lower() or text.lstrip().startswith("<")
        return Body.HTML if page else Body.TEXT
    if not isinstance(parsed, dict):
        return Body.TEXT
    token = parsed.get("access_token") or parsed.get("id_token")
    if isinstance(token, str) and token:
        # Remembered at once, whoever asked: redact() scrubs it by value from then on.
        remember_secrets([token, parsed.get("refresh_token"), parsed.get("id_token")])
        return Body.TOKEN
    return Body.JSON


class TokenRequest(gauth_requests.Request):
    """google-auth's ``requests`` transport (used for token refreshes) that remembers, per
    thread, the last answer in :attr:`last` (a :class:`TokenAnswer`, or ``None``)."""

    def __init__(self, session: requests.Session | None = None) -> None:
        if session is None:
            # As google-auth's AuthorizedSession makes its own: network errors retried.
            session = requests.Session()
            session.mount("https://", requests.adapters.HTTPAdapter(max_retries=3))
        super().__init__(session)
        self._local = threading.local()

    @property
    def last(self) -> TokenAnswer | None:
        return getattr(self._local, "last", None)

    def forget(self) -> None:
        """Drop the remembered answer (before a request, to tell whether it refreshed)."""
        self._local.last = None

    def __call__(self, url: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        response = super().__call__(url, method, *args, **kwargs)
        content_type = str(response.headers.get("content-type", ""))
        self._local.last = TokenAnswer(
            host=urlsplit(url).netloc or url,
            status=int(response.status),
            content_type=content_type,
            body=_kind_of(response.data, content_type),
        )
        return response


def _what(answer: TokenAnswer) -> Phrase:
    return Phrase(
        {Body.HTML: A_WEB_PAGE, Body.EMPTY: AN_EMPTY_ANSWER, Body.JSON: NO_TOKEN}.get(answer.body, UNREADABLE_TEXT)
    )


def proxy_refused(host: str) -> AuthError:
    """The error for a proxy that wants a login (HTTP 407) before it lets a request through."""
    return AuthError(
        Phrase(
            PROXY_LOGIN,
            {
                **_NAMES,
                "host": host,
                "status": "HTTP 407 Proxy Authentication Required",
                "example": "https://USER:PASSWORD@PROXY:PORT",
            },
        )
    )


_PROXY_407 = re.compile(r"\b407\b")
_HOST_IN_ERROR = re.compile(r"host='([^']+)'")


def proxy_login_wanted(exc: BaseException) -> str | None:
    """The host sheetcrm was reaching when ``exc`` says the proxy wants a login (requests'
    ``ProxyError`` for a CONNECT answered 407, as google-auth's ``TransportError`` too);
    ``None`` for any other failure."""
    if not isinstance(exc, requests.exceptions.ProxyError | gauth_exceptions.TransportError):
        return None
    text = str(exc)
    if "Proxy" not in text or not _PROXY_407.search(text):
        return None
    found = _HOST_IN_ERROR.search(text)
    return found.group(1) if found else "Google"


def refresh_failure(exc: BaseException, answer: TokenAnswer | None) -> AuthError | None:
    """The :class:`AuthError` for a failed token refresh, from the exception google-auth
    raised and the token endpoint's last ``answer``; ``None`` when it is not a refresh
    failure sheetcrm can explain (a bug to let through)."""
    if answer is not None and answer.status == PROXY_AUTH_STATUS:
        return proxy_refused(answer.host)
    if answer is not None and not answer.is_googles:
        return AuthError(
            Phrase(
                NOT_GOOGLE, {**_NAMES, "host": answer.host, "what": _what(answer), "status": f"HTTP {answer.status}"}
            )
        )
    host = proxy_login_wanted(exc)
    if host is not None:
        return proxy_refused(host)
    if isinstance(exc, gauth_exceptions.RefreshError):
        # RefreshError(message, response_data): its str() is the tuple's repr, doubled up.
        first = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        reason = redact(" ".join(first.split()))[:300].rstrip(".")
        return AuthError(Phrase(REFUSED, {**_NAMES, "reason": reason, "fix": _FIX}))
    return None
