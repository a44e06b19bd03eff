"""Developer metadata in the fake Sheets API (``sheetcrm/testing/metadata.py``), through a
real gspread client over HTTP: row tags follow inserts, deletes and whole-row sorts, are
deleted with their row, and a client-chosen metadataId cannot be created twice."""

from __future__ import annotations

from typing import Any

import gspread
import pytest
from gspread.exceptions import APIError
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL, SPREADSHEETS_API_V4_BASE_URL

from sheetcrm.testing import FakeSheetsServer
from sheetcrm.testing.metadata import MAX_CHARS

ROWS = [["ID", "Name"], ["A-1", "Ann"], ["A-2", "Bob"], ["A-3", "Cy"]]


@pytest.fixture
def book(fake: FakeSheetsServer) -> tuple[FakeSheetsServer, gspread.Client, str, int]:
    key = fake.create_spreadsheet("CRM", {"Tab": ROWS})
    client = fake.client()
    sheet_id = client.open_by_key(key).worksheet("Tab").id
    return fake, client, key, sheet_id


def _tag(sheet_id: int, mid: int, row: int, key: str = "crm") -> dict[str, Any]:
    return {
        "createDeveloperMetadata": {
            "developerMetadata": {
                "metadataId": mid,
                "metadataKey": key,
                "visibility": "DOCUMENT",
                "location": {
                    "dimensionRange": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": row, "endIndex": row + 1}
                },
            }
        }
    }


def _post(client: gspread.Client, url: str, body: dict[str, Any]) -> Any:
    return client.http_client.request("post", url, json=body).json()


def _rows_of(client: gspread.Client, key: str) -> dict[int, int]:
    """metadataId -> 0-based row, by developerMetadata.search."""
    found = _post(
        client,
        f"{SPREADSHEETS_API_V4_BASE_URL}/{key}/developerMetadata:search",
        {"dataFilters": [{"developerMetadataLookup": {"metadataKey": "crm"}}]},
    )
    return {
        m["developerMetadata"]["metadataId"]: m["developerMetadata"]["location"]["dimensionRange"]["startIndex"]
        for m in found.get("matchedDeveloperMetadata", [])
    }


def test_row_tags_follow_inserts_deletes_and_sorts(book: Any) -> None:
    fake, client, key, sheet_id = book
    _post(
        client,
        SPREADSHEET_BATCH_UPDATE_URL % key,
        {"requests": [_tag(sheet_id, 11, 1), _tag(sheet_id, 12, 2), _tag(sheet_id, 13, 3)]},
    )
    fake.insert_rows(key, "Tab", 2)
    assert _rows_of(client, key) == {11: 2, 12: 3, 13: 4}
    fake.delete_rows(key, "Tab", 4)  # Bob's row, and its tag
    assert _rows_of(client, key) == {11: 2, 13: 3}
    fake.sort_rows(key, "Tab", "B", start_row=2, descending=True)  # Cy, Ann, then the blank row
    assert _rows_of(client, key) == {13: 1, 11: 2}
    got = client.http_client.request("get", f"{SPREADSHEETS_API_V4_BASE_URL}/{key}/developerMetadata/13").json()
    assert got["location"]["dimensionRange"]["startIndex"] == 1


def test_a_created_metadata_id_cannot_be_created_again(book: Any) -> None:
    _fake, client, key, sheet_id = book
    _post(client, SPREADSHEET_BATCH_UPDATE_URL % key, {"requests": [_tag(sheet_id, 7, 1)]})
    with pytest.raises(APIError, match="already exists"):
        # The whole batch fails: the first request's tag is not created either.
        _post(client, SPREADSHEET_BATCH_UPDATE_URL % key, {"requests": [_tag(sheet_id, 8, 2), _tag(sheet_id, 7, 3)]})
    assert _rows_of(client, key) == {7: 1}


def test_an_exact_delete_matches_only_the_tag_still_on_its_row(book: Any) -> None:
    fake, client, key, sheet_id = book
    _post(client, SPREADSHEET_BATCH_UPDATE_URL % key, {"requests": [_tag(sheet_id, 5, 1)]})
    lookup = {
        "metadataId": 5,
        "locationMatchingStrategy": "EXACT_LOCATION",
        "metadataLocation": {
            "dimensionRange": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}
        },
    }
    delete = {"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": lookup}}}
    fake.insert_rows(key, "Tab", 2)
    answer = _post(client, SPREADSHEET_BATCH_UPDATE_URL % key, {"requests": [delete]})
    assert answer["replies"] == [{"deleteDeveloperMetadata": {}}]
    assert _rows_of(client, key) == {5: 2}


def test_filters_that_match_nothing_and_unknown_ids(book: Any) -> None:
    _fake, client, key, _sheet_id = book
    assert _rows_of(client, key) == {}
    with pytest.raises(APIError, match="No developer metadata with ID: 99"):
        client.http_client.request("get", f"{SPREADSHEETS_API_V4_BASE_URL}/{key}/developerMetadata/99")


def test_metadata_beyond_the_sheet_quota_is_refused(book: Any) -> None:
    _fake, client, key, sheet_id = book
    long_key = "k" * (MAX_CHARS // 2 + 1)
    with pytest.raises(APIError, match="exceed the limit"):
        _post(
            client,
            SPREADSHEET_BATCH_UPDATE_URL % key,
            {"requests": [_tag(sheet_id, 1, 1, long_key), _tag(sheet_id, 2, 2, long_key)]},
        )


def test_row_tags_come_with_grid_data(book: Any) -> None:
    _fake, client, key, sheet_id = book
    _post(client, SPREADSHEET_BATCH_UPDATE_URL % key, {"requests": [_tag(sheet_id, 21, 2)]})
    got = client.http_client.request(
        "get",
        f"{SPREADSHEETS_API_V4_BASE_URL}/{key}",
        params={"ranges": "Tab!A2:A4", "fields": "sheets.data.rowMetadata.developerMetadata(metadataId,location)"},
    ).json()
    rows = got["sheets"][0]["data"][0]["rowMetadata"]
    assert [[m["metadataId"] for m in r.get("developerMetadata", [])] for r in rows] == [[], [21], []]
    assert rows[1]["developerMetadata"][0]["location"]["dimensionRange"]["startIndex"] == 2


def test_a_failed_batch_leaves_cells_and_row_properties_as_they_were(book: Any) -> None:
    # A batchUpdate works on a copy that shares rows with the spreadsheet until it changes
    # them (copy on write): every kind of change, then a bad request, must leave nothing.
    fake, client, key, sheet_id = book
    first = [_tag(sheet_id, 21, 1), _tag(sheet_id, 22, 2), _tag(sheet_id, 24, 0, "col")]
    first[2]["createDeveloperMetadata"]["developerMetadata"]["location"]["dimensionRange"]["dimension"] = "COLUMNS"
    formula = {"userEnteredValue": {"formulaValue": "=B3"}}
    first.append(
        {"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 2},
                         "rows": [{"values": [formula]}], "fields": "userEnteredValue"}}
    )  # fmt: skip
    _post(client, SPREADSHEET_BATCH_UPDATE_URL % key, {"requests": first})
    whole = f"{SPREADSHEETS_API_V4_BASE_URL}/{key}"
    before = client.http_client.request("get", whole, params={"includeGridData": "true"}).json()
    rows = {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": 1, "endIndex": 3}
    tag_21 = {"developerMetadataLookup": {"metadataId": 21}}
    failing = [
        {"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": 1, "columnIndex": 0},
                         "rows": [{"values": [{"userEnteredValue": {"stringValue": "X"}, "note": "n"}]}],
                         "fields": "userEnteredValue,note"}},
        {"repeatCell": {"range": {"sheetId": sheet_id, "endRowIndex": 4, "endColumnIndex": 2},
                        "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                        "fields": "userEnteredFormat.textFormat.bold"}},
        {"setDataValidation": {"range": {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": 3},
                               "rule": {"condition": {"type": "BOOLEAN"}}}},
        {"findReplace": {"find": "Bob", "replacement": "Zed", "allSheets": True}},
        {"updateDeveloperMetadata": {"dataFilters": [tag_21], "developerMetadata": {"metadataValue": "v"},
                                     "fields": "metadataValue"}},
        {"updateDeveloperMetadata": {"dataFilters": [tag_21], "fields": "location",
                                     "developerMetadata": {"location": {"dimensionRange": {**rows, "startIndex": 3,
                                                                                           "endIndex": 4}}}}},
        {"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {"metadataId": 22}}}},
        _tag(sheet_id, 23, 3),
        {"updateDimensionProperties": {"range": rows, "properties": {"pixelSize": 40}, "fields": "pixelSize"}},
        {"sortRange": {"range": {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": 4},
                       "sortSpecs": [{"dimensionIndex": 1, "sortOrder": "DESCENDING"}]}},
        {"insertDimension": {"range": rows}},
        {"deleteDimension": {"range": {**rows, "startIndex": 4, "endIndex": 5}}},
        {"frobnicate": {}},
    ]  # fmt: skip
    with pytest.raises(APIError, match='Unknown name "frobnicate"'):
        _post(client, SPREADSHEET_BATCH_UPDATE_URL % key, {"requests": failing})
    assert client.http_client.request("get", whole, params={"includeGridData": "true"}).json() == before
    # The same changes without the bad request do apply (the batch above got that far).
    _post(client, SPREADSHEET_BATCH_UPDATE_URL % key, {"requests": failing[:-1]})
    assert client.http_client.request("get", whole, params={"includeGridData": "true"}).json() != before
    # Bob's row (found as Zed, sorted first) moved down by the insert; the formula's row deleted.
    assert fake.get_values(key, "Tab") == [["ID", "Name", "#REF!"], [], [], ["A-2", "Zed"], ["X", "Ann"]]
