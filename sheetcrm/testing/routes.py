"""Routing: HTTP method and path to an API method."""

from __future__ import annotations

import re
from urllib.parse import unquote

# --------------------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------------------

_SID = r"(?P<sid>[^/:]+)"
_FID = r"(?P<fid>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern), name)
    for method, pattern, name in (
        ("POST", r"^/token$", "oauth2.token"),
        ("POST", r"^/v4/spreadsheets$", "spreadsheets.create"),
        ("GET", rf"^/v4/spreadsheets/{_SID}$", "spreadsheets.get"),
        ("POST", rf"^/v4/spreadsheets/{_SID}:batchUpdate$", "spreadsheets.batchUpdate"),
        ("GET", rf"^/v4/spreadsheets/{_SID}/values:batchGet$", "values.batchGet"),
        ("POST", rf"^/v4/spreadsheets/{_SID}/values:batchUpdate$", "values.batchUpdate"),
        ("POST", rf"^/v4/spreadsheets/{_SID}/values:batchClear$", "values.batchClear"),
        ("POST", rf"^/v4/spreadsheets/{_SID}/values/(?P<range>.+):append$", "values.append"),
        ("POST", rf"^/v4/spreadsheets/{_SID}/values/(?P<range>.+):clear$", "values.clear"),
        ("GET", rf"^/v4/spreadsheets/{_SID}/values/(?P<range>.+)$", "values.get"),
        ("PUT", rf"^/v4/spreadsheets/{_SID}/values/(?P<range>.+)$", "values.update"),
        ("POST", rf"^/v4/spreadsheets/{_SID}/sheets/(?P<sheet>\d+):copyTo$", "sheets.copyTo"),
        ("GET", rf"^/v4/spreadsheets/{_SID}/developerMetadata/(?P<mid>\d+)$", "developerMetadata.get"),
        ("POST", rf"^/v4/spreadsheets/{_SID}/developerMetadata:search$", "developerMetadata.search"),
        ("POST", rf"^/v4/spreadsheets/{_SID}[:/].*ByDataFilter$", "unimplemented"),
        ("POST", r"^/drive/v3/files$", "drive.files.create"),
        ("GET", r"^/drive/v3/files$", "drive.files.list"),
        ("GET", rf"^/drive/v3/files/{_FID}$", "drive.files.get"),
        ("PATCH", rf"^/drive/v3/files/{_FID}$", "drive.files.update"),
        ("DELETE", rf"^/drive/v3/files/{_FID}$", "drive.files.delete"),
        ("POST", rf"^/drive/v3/files/{_FID}/copy$", "drive.files.copy"),
        ("GET", rf"^/drive/v3/files/{_FID}/export$", "unimplemented"),
        ("POST", rf"^/drive/v3/files/{_FID}/permissions$", "drive.permissions.create"),
        ("GET", rf"^/drive/v3/files/{_FID}/permissions$", "drive.permissions.list"),
        (
            "DELETE",
            rf"^/drive/v3/files/{_FID}/permissions/(?P<pid>[^/]+)$",
            "drive.permissions.delete",
        ),
        ("GET", rf"^/drive/v3/files/{_FID}/comments$", "drive.comments.list"),
        ("POST", rf"^/drive/v3/files/{_FID}/comments$", "drive.comments.create"),
        ("PUT", r"^/upload/drive/v2/files/.+$", "unimplemented"),
    )
]


def _route(method: str, raw_path: str) -> tuple[str, dict[str, str]] | None:
    """(endpoint name, decoded path parameters) for a request, or None if unknown."""
    for route_method, pattern, name in _ROUTES:
        if route_method != method:
            continue
        m = pattern.match(raw_path)
        if m:
            return name, {k: unquote(v) for k, v in m.groupdict().items()}
    return None
