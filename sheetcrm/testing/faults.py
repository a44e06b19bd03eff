"""Test hooks: recorded requests and injected faults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from sheetcrm.testing.common import _DEFAULT_FAULT_MESSAGES, ApiError, Json
from sheetcrm.testing.values import format_general

if TYPE_CHECKING:
    from sheetcrm.testing.server import FakeSheetsServer

# --------------------------------------------------------------------------------------
# Test hooks: recorded requests and faults
# --------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request the fake received.

    ``path`` is URL-decoded and has no host; ``query`` maps each parameter to its first
    value and ``query_all`` to every value (``ranges`` repeats in batchGet); ``json`` is
    the decoded JSON body (None without one); ``status`` is the HTTP status sent (None for
    a dropped connection, or while the request is still being handled); ``endpoint`` names
    the API method, e.g. ``values.update`` or ``spreadsheets.batchUpdate``;
    ``response_bytes`` the size of the answer's body once sent; ``cpu_seconds`` the CPU
    time the fake spent on it (decoding, handling, encoding the answer; its thread only).
    """

    number: int
    method: str
    path: str
    query: dict[str, str]
    query_all: dict[str, list[str]]
    json: Json
    endpoint: str | None
    status: int | None = None
    #: The bytes of the answer's body, once sent (None before, and for a dropped connection).
    response_bytes: int | None = None
    #: CPU seconds of the fake's thread on this request, set with ``response_bytes``: the
    #: fake runs in the client's process, so benchmarks subtract it to see the client's.
    cpu_seconds: float | None = None

    @property
    def batch_kinds(self) -> list[str]:
        """For spreadsheets.batchUpdate: the request kinds in order (e.g. ``["addSheet"]``)."""
        if self.endpoint != "spreadsheets.batchUpdate" or not isinstance(self.json, dict):
            return []
        return [next(iter(r)) for r in self.json.get("requests") or [] if isinstance(r, dict) and r]


@dataclass
class Fault:
    """A scheduled failure: see :meth:`FakeSheetsServer.inject_fault`."""

    status: int | None = 429
    retry_after: float | None = None
    delay: float | None = None
    drop: bool = False
    body: Json = None
    message: str | None = None
    #: "applied, answer lost": handle the request (its changes stay), then drop the
    #: connection ("drop") or hold the answer back until the client gives up ("timeout").
    lost: str | None = None

    def error(self) -> ApiError:
        status = int(self.status or 500)
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = format_general(float(self.retry_after))
        details = None
        if status == 429:
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "RATE_LIMIT_EXCEEDED",
                    "domain": "googleapis.com",
                    "metadata": {
                        "service": "sheets.googleapis.com",
                        "quota_metric": "sheets.googleapis.com/write_requests",
                        "quota_limit": "WriteRequestsPerMinutePerUser",
                        "consumer": "projects/000000000000",
                        "quota_limit_value": "60",
                    },
                }
            ]
        message = self.message or _DEFAULT_FAULT_MESSAGES.get(status, "Injected fault.")
        return ApiError(status, message, details=details, headers=headers)


BetweenRequestsCallback: TypeAlias = Callable[["FakeSheetsServer", int], None]
