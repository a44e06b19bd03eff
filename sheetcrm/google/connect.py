"""A gspread client on resolved credentials, with bounded retries.

Installs no logging hook: a program that logs Google traffic asks for
:func:`sheetcrm.google.redact.install_log_redaction` itself (the CLI does).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gspread

__all__ = ["ENV_API_URL", "connect"]

#: Environment variable that sends Sheets and Drive API calls to another base URL (a
#: local fake such as :mod:`sheetcrm.testing`), for testing automation without Google.
ENV_API_URL = "SHEETCRM_SHEETS_API_URL"


def connect(
    credentials: Any = None, *, create: bool = False, client: gspread.Client | None = None, base_url: str | None = None
) -> tuple[gspread.Client, Any]:
    """A gspread client with bounded retries, on credentials resolved by
    :func:`sheetcrm.google.auth.load_credentials` (``credentials`` may be a key file path, or
    already-built google-auth credentials). Returns (client, credentials).

    The credentials' secret values (key id, tokens, client secret) are given to
    :func:`~sheetcrm.google.redact.remember_secrets`: no error text shows them."""
    from sheetcrm.google.auth import load_credentials, remember_credentials
    from sheetcrm.google.http import make_client

    if client is not None:
        found = getattr(client.http_client, "auth", credentials)
        remember_credentials(found)
        return client, found
    if credentials is None or isinstance(credentials, str | os.PathLike):
        credentials = load_credentials(credentials, create=create)
    remember_credentials(credentials)
    return make_client(credentials, base_url=base_url or os.environ.get(ENV_API_URL) or None), credentials
