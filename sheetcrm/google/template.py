"""A new CRM spreadsheet in Google Sheets, laid out from the schema: tabs, frozen
headers, dropdowns, shaded and warning-protected computed columns, number formats.
The Google twin of :mod:`sheetcrm.template` (the .xlsx template)."""

from __future__ import annotations

from typing import Any

import gspread
from gspread.exceptions import APIError
from gspread.utils import ValueInputOption, absolute_range_name

from sheetcrm.backends.gsheets import google_message, to_cell_json
from sheetcrm.exceptions import PermissionDeniedError, SheetCRMError, WorkbookWriteError
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


def create_google_workbook(
    client: gspread.Client, title: str, lang: Any, share: str | None = None, credentials: Any = None
) -> str:
    """Create an empty CRM spreadsheet in Google Sheets from the schema and return its URL.

    Four requests: create (Drive), open, lay out (one spreadsheets.batchUpdate), headers and
    Settings (one values.batchUpdate); one more to share it with ``share``."""
    try:
        key = client.create(title).id
    except APIError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):
            raise PermissionDeniedError(
                f"Google refused to create spreadsheet {title!r} ({status}); enable the Google Drive "
                "API for the credentials' project and use credentials allowed to create files "
                "(the drive.file scope; for OAuth users run 'sheetcrm login --google-drive')"
            ) from None
        raise WorkbookWriteError(f"could not create spreadsheet {title!r}: {status} {google_message(exc)}") from None
    url = f"https://docs.google.com/spreadsheets/d/{key}/edit"
    try:
        client.http_client.batch_update(key, {"requests": _grid_requests(lang)})
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
        client.http_client.values_batch_update(key, body={"valueInputOption": ValueInputOption.raw, "data": data})
        if share:
            client.insert_permission(key, share, perm_type="user", role="writer", notify=True)
    except (APIError, SheetCRMError) as exc:
        detail = google_message(exc) if isinstance(exc, APIError) else str(exc)
        raise WorkbookWriteError(
            f"created {url} but could not finish setting it up ({detail}); delete that spreadsheet "
            "and run 'sheetcrm init --google' again"
        ) from None
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"
