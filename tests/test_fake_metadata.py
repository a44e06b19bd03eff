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
