"""Row tags: developer metadata that names each record row of a Google Sheets tab, so a
sync's write can prove that the rows it aims at have not moved (docs/sync.md).

A tag is ROW-located developer metadata (``location.dimensionRange`` of one row,
``DOCUMENT`` visibility, key :data:`TAG_KEY`, no value) with a client-chosen
``metadataId``. Google documents that such metadata stays with its row when rows are
inserted or deleted above it, is deleted with its row, and that a ``metadataId`` is unique
in the spreadsheet. Those three facts make a guard: in the atomic write request (each
payload of a write in several, for the rows it writes), for each row written,
``deleteDeveloperMetadata`` of "tag X on exactly row N" followed by
``createDeveloperMetadata`` of tag X on row N. If tag X is still on row N the pair changes
nothing; if it has moved, the delete matches nothing, the create hits the existing X and
the whole request fails, so nothing of it is written and the sync re-reads and re-plans
what was not yet written.

Each sync that writes tags the rows of the tabs it writes in its locking request (the
re-read in the same answer shows each tag where it is) and removes every tag with its write
(:func:`clear_all`, in its last payload): tags live only from the re-read to the write. Knowing which rows
already carry a tag before the lock would need the row metadata of every grid row, which
Google answers one entry per row (a huge empty grid, a huge answer). Their keys count
against Google's limit on metadata characters per sheet (:data:`MAX_SHEET_CHARS`); past it
the remaining rows stay untagged and keep the lock-and-re-read protection only.

Pure functions: they take what the re-read found and return request bodies.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

#: The key of every sheetcrm row tag: short, because every character of every tag counts
#: against the per-sheet metadata limit.
TAG_KEY = "crm"
#: Google's limit on the characters (keys and values) of the developer metadata of a sheet.
MAX_SHEET_CHARS = 30_000
#: Headroom left for other projects' metadata on the same sheet.
TAG_BUDGET_CHARS = 28_000
#: The re-read's key (next to column indexes, and -1 for full rows) for the tag of each row
#: from row 2 on (None where a row has none).
TAGS = -2
#: The field mask that brings the tags with grid data.
ROW_TAG_FIELDS = "rowMetadata.developerMetadata(metadataId,metadataKey)"


def tags_of(row_metadata: Iterable[dict[str, Any]]) -> list[int | None]:
    """The sheetcrm tag of each row of a GridData's ``rowMetadata`` (None: untagged)."""
    out: list[int | None] = []
    for meta in row_metadata:
        found = [m for m in meta.get("developerMetadata", []) if m.get("metadataKey") == TAG_KEY]
        out.append(int(found[0]["metadataId"]) if found else None)
    return out


def _row_range(sheet_id: int, row: int) -> dict[str, Any]:
    """The DimensionRange of 1-based sheet row ``row``."""
    return {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": row - 1, "endIndex": row}


def _create(sheet_id: int, row: int, mid: int) -> dict[str, Any]:
    return {
        "createDeveloperMetadata": {
            "developerMetadata": {
                "metadataId": mid,
                "metadataKey": TAG_KEY,
                "visibility": "DOCUMENT",
                "location": {"dimensionRange": _row_range(sheet_id, row)},
            }
        }
    }


def guards(sheet_id: int, rows: Iterable[int], tags: list[int | None]) -> list[dict[str, Any]]:
    """batchUpdate requests that fail the whole request unless each tagged row of ``rows``
    (1-based) still carries the tag the re-read saw on it (``tags``: from row 2 on)."""
    out: list[dict[str, Any]] = []
    for row in sorted(set(rows)):
        mid = tags[row - 2] if 0 <= row - 2 < len(tags) else None
        if mid is None:
            continue
        lookup = {
            "metadataId": mid,
            "locationMatchingStrategy": "EXACT_LOCATION",
            "metadataLocation": {"dimensionRange": _row_range(sheet_id, row)},
        }
        out.append({"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": lookup}}})
        out.append(_create(sheet_id, row, mid))
    return out


def guarded_rows(rows: Iterable[int], tags: list[int | None]) -> list[int]:
    """The rows to guard for writes to ``rows``: each of them, and the first tagged row
    below the last (a row deleted with its tag cannot be told from one left alone; the
    row below it moving up can)."""
    rows = sorted(set(rows))
    if not rows:
        return []
    below = next((r for r in range(rows[-1] + 1, len(tags) + 2) if tags[r - 2] is not None), None)
    return rows + ([below] if below is not None else [])


def new_tags(
    sheet_id: int, last_row: int, grid_rows: int, tags: list[int | None], taken: set[int], rng: random.Random
) -> list[dict[str, Any]]:
    """createDeveloperMetadata requests tagging every untagged row from row 2 to one past
    ``last_row`` (the last row holding a record), within the grid and the tag budget.
    ``taken``: metadataIds already used (updated)."""
    have = sum(t is not None for t in tags)
    room = max(0, TAG_BUDGET_CHARS // len(TAG_KEY) - have)
    out: list[dict[str, Any]] = []
    for row in range(2, min(last_row + 1, grid_rows) + 1):
        if len(out) >= room:
            break
        if row - 2 < len(tags) and tags[row - 2] is not None:
            continue
        mid = rng.randrange(1 << 20, 1 << 31)
        while mid in taken:
            mid = rng.randrange(1 << 20, 1 << 31)
        taken.add(mid)
        out.append(_create(sheet_id, row, mid))
    return out


def clear_all() -> dict[str, Any]:
    """The deleteDeveloperMetadata request removing every sheetcrm row tag of the
    spreadsheet (this sync's, and any a sync that died left behind)."""
    return {
        "deleteDeveloperMetadata": {
            "dataFilter": {"developerMetadataLookup": {"metadataKey": TAG_KEY, "locationType": "ROW"}}
        }
    }


def moved(message: str) -> bool:
    """Whether a refused write request was refused by a guard (a tagged row moved)."""
    return "createDeveloperMetadata" in message and "already exists" in message
