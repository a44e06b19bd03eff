"""A new CRM spreadsheet in Google Sheets, laid out from the schema: tabs, frozen
headers, dropdowns, shaded and warning-protected computed columns, number formats.
The Google twin of :mod:`sheetcrm.template` (the .xlsx template)."""

from __future__ import annotations

from typing import Any

import gspread
from gspread.exceptions import APIError
from gspread.utils import ValueInputOption, absolute_range_name

from sheetcrm.backends.gsheets import google_message, to_cell_json
from sheetcrm.exceptions import AnswerLostError, PermissionDeniedError, Phrase, SheetCRMError, WorkbookWriteError
from sheetcrm.i18n import N_
from sheetcrm.schema import TABS, ColumnType, Tab
from sheetcrm.settings import settings_rows

__all__ = ["create_google_workbook"]

# The same shades as the .xlsx template (E7E6E6 and DDEBF7).
_COMPUTED_SHADE = {"red": 0.91, "green": 0.90, "blue": 0.90}
_PEOPLE_SHADE = {"red": 0.87, "green": 0.92, "blue": 0.97}


def _grid_requests(lang: Any) -> list[dict[str, Any]]:
    """spreadsheets.batchUpdate requests laying out every tab of the schema: titles, sizes,
    frozen header, dropdowns, shaded and warning-protected computed columns, formats."""
    requests: list[dict[str, Any]] = []
    for sheet_id, spec in enumerate(TABS.values()):
        props = {
            "sheetId": sheet_id,
            "title": spec.title(lang),
            "index": sheet_id,
            "gridProperties": {"rowCount": 1000, "columnCount": len(spec.template_columns), "frozenRowCount": 1},
        }
        if sheet_id == 0:
            requests.append({"updateSheetProperties": {"properties": props, "fields": "title,index,gridProperties"}})
        else:
            requests.append({"addSheet": {"properties": props}})
        for i, col in enumerate(spec.template_columns):
            column = {"sheetId": sheet_id, "startColumnIndex": i, "endColumnIndex": i + 1}
            shade = _COMPUTED_SHADE if col.computed else _PEOPLE_SHADE
            requests.append(
                {
                    "repeatCell": {
                        "range": {**column, "startRowIndex": 0, "endRowIndex": 1},
                        "cell": {
                            "userEnteredFormat": {
                                "backgroundColor": shade,
                                "textFormat": {"bold": True, "italic": col.computed},
                            }
                        },
                        "fields": "userEnteredFormat(backgroundColor,textFormat)",
                    }
                }
            )
            pattern = col.number_format
            if pattern:
                requests.append(
                    {
                        "repeatCell": {
                            "range": {**column, "startRowIndex": 1},
                            "cell": {
                                "userEnteredFormat": {
                                    "numberFormat": {
                                        "type": "PERCENT"
                                        if col.percent
                                        else ("NUMBER" if col.type is ColumnType.MONEY else "DATE"),
                                        "pattern": pattern,
                                    }
                                }
                            },
                            "fields": "userEnteredFormat.numberFormat",
                        }
                    }
                )
            if not col.computed and (col.enum is not None or col.type is ColumnType.BOOL):
                choices = col.enum.choices(lang) if col.enum is not None else ["TRUE", "FALSE"]
                requests.append(
                    {
                        "setDataValidation": {
                            "range": {**column, "startRowIndex": 1},
                            "rule": {
                                "condition": {
                                    "type": "ONE_OF_LIST",
                                    "values": [{"userEnteredValue": c} for c in choices],
                                },
                                "strict": False,
                                "showCustomUi": True,
                            },
                        }
                    }
                )
            if col.computed:
                requests.append(
                    {
                        "addProtectedRange": {
                            "protectedRange": {
                                "range": column,
                                "warningOnly": True,
                                "description": f"{col.header(lang)}: computed by sheetcrm; edits are overwritten",
                            }
                        }
                    }
                )
    return requests


#: The Drive appProperties key that marks a spreadsheet with the run of init that made it.
INIT_MARKER = "sheetcrmInit"


def _create_file(http: Any, title: str, marker: str) -> str:
    """Create the spreadsheet file (Drive files.create) carrying ``marker``; after a lost
    answer, find the file with that marker instead of creating another. Returns its key."""
    from gspread.urls import DRIVE_FILES_API_V3_URL

    body = {
        "name": title,
        "mimeType": "application/vnd.google-apps.spreadsheet",
        "appProperties": {INIT_MARKER: marker},
    }
    failure: tuple[int, str] | None = None
    for _attempt in range(3):
        try:
            return str(
                http.request("post", DRIVE_FILES_API_V3_URL, json=body, params={"supportsAllDrives": True}).json()["id"]
            )
        except AnswerLostError:
            pass
        except APIError as exc:
            failure = (exc.response.status_code if exc.response is not None else 0, google_message(exc))
            break
        query = f"appProperties has {{ key='{INIT_MARKER}' and value='{marker}' }} and trashed = false"
        try:
            found = http.request(
                "get",
                DRIVE_FILES_API_V3_URL,
                params={
                    "q": query,
                    "fields": "files(id)",
                    "supportsAllDrives": True,
                    "includeItemsFromAllDrives": True,
                },
            ).json()
        except APIError as exc:
            failure = (exc.response.status_code if exc.response is not None else 0, google_message(exc))
            break
        if found.get("files"):
            return str(found["files"][0]["id"])
    if failure is None:
        raise WorkbookWriteError(
            Phrase(
                N_(
                    "could not create spreadsheet {title}: the answers were lost three times and no "
                    "spreadsheet was made; check the network connection and run 'sheetcrm init --google' again"
                ),
                {"title": repr(title)},
            )
        )
    status, message = failure
    if status in (401, 403):
        raise PermissionDeniedError(
            Phrase(
                N_(
                    "Google refused to create spreadsheet {title} ({status}); enable the Google Drive "
                    "API for the credentials' project and use credentials allowed to create files "
                    "(the drive.file scope; for OAuth users run 'sheetcrm login --google-drive')"
                ),
                {"title": repr(title), "status": status},
            )
        )
    raise WorkbookWriteError(
        Phrase(
            N_("could not create spreadsheet {title}: {status} {message}"),
            {"title": repr(title), "status": status, "message": message},
        )
    )


def create_google_workbook(
    client: gspread.Client, title: str, lang: Any, share: str | None = None, credentials: Any = None
) -> str:
    """Create an empty CRM spreadsheet in Google Sheets from the schema and return its URL.

    Three requests: create (Drive, marked with this run's marker), lay out (one
    spreadsheets.batchUpdate), headers and Settings (one values.batchUpdate); one more to
    share it with ``share``. A lost answer to a request that must not be repeated is
    followed by a look at what is there (the marked file, the tabs, the share)."""
    import secrets

    http = client.http_client
    # This run's marker, stored on the file: after a lost answer to "create", the file
    # that carries it is the one this run made (found, never made a second time).
    marker = secrets.token_hex(8)
    key = _create_file(http, title, marker)
    url = f"https://docs.google.com/spreadsheets/d/{key}/edit"
    failure: Phrase | str | None = None
    try:
        requests = _grid_requests(lang)
        try:
            http.batch_update(key, {"requests": requests})
        except AnswerLostError:
            # All or nothing: the tabs are there when it was applied.
            titles = {s["properties"]["title"] for s in http.fetch_sheet_metadata(key).get("sheets", [])}
            if not {spec.title(lang) for spec in TABS.values()} <= titles:
                http.batch_update(key, {"requests": requests})
        data = [
            {
                "range": absolute_range_name(spec.title(lang), "A1"),
                "values": [[c.header(lang) for c in spec.template_columns]],
            }
            for spec in TABS.values()
        ]
        settings = TABS[Tab.SETTINGS].title(lang)
        data.append(
            {
                "range": absolute_range_name(settings, "A2"),
                "values": [[to_cell_json(v) for v in row] for row in settings_rows(lang)],
            }
        )
        http.values_batch_update(key, body={"valueInputOption": ValueInputOption.raw, "data": data})
        if share:
            try:
                client.insert_permission(key, share, perm_type="user", role="writer", notify=True)
            except AnswerLostError:
                shared = {str(p.get("emailAddress", "")).casefold() for p in client.list_permissions(key)}
                if share.casefold() not in shared:
                    client.insert_permission(key, share, perm_type="user", role="writer", notify=True)
    except APIError as exc:
        failure = google_message(exc)
    except SheetCRMError as exc:
        failure = exc.phrase if exc.phrase is not None and not (exc.tab or exc.row or exc.column) else str(exc)
    if failure is not None:
        raise WorkbookWriteError(
            Phrase(
                N_(
                    "created {url} but could not finish setting it up ({failure}); delete that spreadsheet "
                    "and run 'sheetcrm init --google' again"
                ),
                {"url": url, "failure": failure},
            )
        )
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"
