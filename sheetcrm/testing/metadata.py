"""Developer metadata in the fake: the batchUpdate requests that create, update and delete
it, ``developerMetadata.get`` and ``developerMetadata.search``.

Only row- and column-located metadata (``location.dimensionRange`` of one or more rows or
columns) is modelled; sheet- and spreadsheet-located metadata answer 501. Each entry is
kept in the sheet's per-index dimension properties (``Sheet.dim_props``), under
``developerMetadata``, on the first row (column) of its range. That is what makes it
behave as Google documents:

* it stays with its row when rows are inserted or deleted above it, and is deleted with
  its row (the dimension properties move and vanish with their index);
* it is returned in ``GridData.rowMetadata[].developerMetadata`` (``render.py`` fills in
  its current ``location``);
* a ``metadataId`` is unique in the spreadsheet: creating one that exists fails the
  whole batchUpdate;
* the characters of keys and values are limited per sheet and per spreadsheet
  (:data:`MAX_CHARS`).

Chosen where Google's documentation is silent (see tests/cassettes/README.md): a sort of
whole rows (every column of the sheet) carries each row's metadata along with the row; a
sort of fewer columns leaves it where it is. A ``deleteDeveloperMetadata`` whose filter
matches nothing is no error (its reply lists nothing deleted). A lookup without
``locationMatchingStrategy`` matches intersecting locations.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sheetcrm.testing.common import ApiError, _RequestError
from sheetcrm.testing.model import Sheet, Spreadsheet

if TYPE_CHECKING:
    from sheetcrm.testing.api import _Api

#: Documented limit on the characters (keys and values) of the developer metadata
#: associated with one sheet, and with the spreadsheet itself.
MAX_CHARS = 30_000
_VISIBILITIES = ("DOCUMENT", "PROJECT")
_KEY = "developerMetadata"


def _entries(book: Spreadsheet) -> Iterator[tuple[Sheet, str, int, dict[str, Any]]]:
    """Every stored entry as (sheet, dimension, index, entry)."""
    for sheet in book.sheets:
        for dim in ("ROWS", "COLUMNS"):
            for index, props in sheet.dim_props[dim].items():
                for entry in props.get(_KEY, ()):
                    yield sheet, dim, index, entry


def location_of(sheet: Sheet, dim: str, index: int, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The ``DeveloperMetadataLocation`` of an entry stored at ``index``."""
    span = int(entry.get("_span", 1))
    return {
        "locationType": "ROW" if dim == "ROWS" else "COLUMN",
        "dimensionRange": {"sheetId": sheet.sheet_id, "dimension": dim, "startIndex": index, "endIndex": index + span},
    }


def resource(sheet: Sheet, dim: str, index: int, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The ``DeveloperMetadata`` resource of a stored entry."""
    out = {k: copy.deepcopy(v) for k, v in entry.items() if not k.startswith("_")}
    out["location"] = location_of(sheet, dim, index, entry)
    return out


def with_locations(sheet: Sheet, dim: str, index: int, props: Mapping[str, Any]) -> dict[str, Any]:
    """A row's (column's) stored properties as ``DimensionProperties``: its developer
    metadata as resources with their current location."""
    if _KEY not in props:
        return dict(props)
    return {**props, _KEY: [resource(sheet, dim, index, e) for e in props[_KEY]]}


def _chars(entry: Mapping[str, Any]) -> int:
    return len(str(entry.get("metadataKey", ""))) + len(str(entry.get("metadataValue", "")))


def _location(book: Spreadsheet, location: Mapping[str, Any]) -> tuple[Sheet, str, int, int]:
    rng = location.get("dimensionRange")
    if not isinstance(rng, Mapping):
        if location.get("spreadsheet") or "sheetId" in location:
            raise ApiError(501, "FakeSheetsServer only models row and column developer metadata.")
        raise _RequestError("location must be set.")
    sheet = book.sheet_by_id(int(rng.get("sheetId") or 0))
    if sheet is None:
        raise _RequestError(f"No grid with id: {int(rng.get('sheetId') or 0)}")
    dim = str(rng.get("dimension"))
    if dim not in ("ROWS", "COLUMNS"):
        raise _RequestError("location.dimensionRange.dimension must be ROWS or COLUMNS.")
    start = int(rng.get("startIndex") or 0)
    end = int(rng["endIndex"]) if rng.get("endIndex") is not None else sheet.count(dim)
    if start < 0 or end <= start:
        raise _RequestError("location.dimensionRange.startIndex must be less than endIndex.")
    if end > sheet.count(dim):
        raise _RequestError(
            f"Range ('{sheet.title}'!{dim} {start}:{end}) exceeds grid limits. Max {dim.lower()}: {sheet.count(dim)}"
        )
    return sheet, dim, start, end


@dataclass
class _Tally:
    """The metadataIds and characters per sheet of one spreadsheet object, kept up to date
    by :func:`create` and :func:`delete` so that a batch creating (or guarding) thousands of
    tags stays linear. It may hold
    more than there is (metadata deleted with its rows): a duplicate or a quota overrun is
    confirmed by a full count before anything is refused."""

    book: weakref.ref[Spreadsheet]
    ids: set[int] = field(default_factory=set)
    chars: dict[int, int] = field(default_factory=dict)


_TALLIES: dict[int, _Tally] = {}


def _tally(book: Spreadsheet, fresh: bool = False) -> _Tally:
    tally = _TALLIES.get(id(book))
    if fresh or tally is None or tally.book() is not book:
        tally = _Tally(weakref.ref(book))
        for sheet, _dim, _index, entry in _entries(book):
            tally.ids.add(int(entry["metadataId"]))
            tally.chars[sheet.sheet_id] = tally.chars.get(sheet.sheet_id, 0) + _chars(entry)
        for key in [k for k, t in _TALLIES.items() if t.book() is None]:
            del _TALLIES[key]
        _TALLIES[id(book)] = tally
    return tally


def _check_quota(book: Spreadsheet, sheet: Sheet) -> None:
    used = sum(_chars(e) for s, _d, _i, e in _entries(book) if s is sheet)
    if used > MAX_CHARS:
        raise _RequestError(
            f"Developer metadata associated with sheet {sheet.sheet_id} would exceed the limit of "
            f"{MAX_CHARS} characters ({used})."
        )


def create(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    """``createDeveloperMetadata``: its reply holds the metadata created."""
    meta = payload.get("developerMetadata")
    if not isinstance(meta, Mapping):
        raise _RequestError("developerMetadata must be set.")
    if not meta.get("metadataKey"):
        raise _RequestError("Developer metadata must always have a key specified.")
    visibility = meta.get("visibility")
    if visibility not in _VISIBILITIES:
        raise _RequestError("Developer metadata must always have a visibility specified.")
    sheet, dim, start, end = _location(book, meta.get("location") or {})
    tally = _tally(book)
    if meta.get("metadataId") is not None:
        mid = int(meta["metadataId"])
        if mid <= 0:
            raise _RequestError("metadataId must be positive.")
        if mid in tally.ids and mid in (tally := _tally(book, fresh=True)).ids:
            raise _RequestError(f"Developer metadata with id {mid} already exists.")
    else:
        mid = next(n for n in iter(lambda: api.rng.randrange(1, 1 << 31), None) if n not in tally.ids)
    entry: dict[str, Any] = {"metadataId": mid, "metadataKey": str(meta["metadataKey"]), "visibility": visibility}
    if meta.get("metadataValue") is not None:
        entry["metadataValue"] = str(meta["metadataValue"])
    if end - start > 1:
        entry["_span"] = end - start
    sheet.props_for_write(dim, start).setdefault(_KEY, []).append(entry)
    tally.ids.add(mid)
    tally.chars[sheet.sheet_id] = tally.chars.get(sheet.sheet_id, 0) + _chars(entry)
    if tally.chars[sheet.sheet_id] > MAX_CHARS:
        _check_quota(book, sheet)
    return {"createDeveloperMetadata": {"developerMetadata": resource(sheet, dim, start, entry)}}


def _lookup_matches(
    book: Spreadsheet, lookup: Mapping[str, Any], sheet: Sheet, dim: str, index: int, entry: Mapping[str, Any]
) -> bool:
    if "metadataId" in lookup and int(lookup["metadataId"]) != int(entry["metadataId"]):
        return False
    if "metadataKey" in lookup and lookup["metadataKey"] != entry.get("metadataKey"):
        return False
    if "metadataValue" in lookup and lookup["metadataValue"] != entry.get("metadataValue"):
        return False
    if "visibility" in lookup and lookup["visibility"] != entry.get("visibility"):
        return False
    kind = "ROW" if dim == "ROWS" else "COLUMN"
    if lookup.get("locationType") not in (None, "DEVELOPER_METADATA_LOCATION_TYPE_UNSPECIFIED", kind):
        return False
    where = lookup.get("metadataLocation")
    if isinstance(where, Mapping) and where:
        if "dimensionRange" not in where:
            return False
        want_sheet, want_dim, start, end = _location(book, where)
        span = int(entry.get("_span", 1))
        if want_sheet is not sheet or want_dim != dim:
            return False
        if lookup.get("locationMatchingStrategy") == "EXACT_LOCATION":
            return (start, end) == (index, index + span)
        return start < index + span and index < end
    return True


def _filter_matches(
    api: _Api, book: Spreadsheet, data_filter: Mapping[str, Any], sheet: Sheet, dim: str, index: int, entry: Any
) -> bool:
    if "developerMetadataLookup" in data_filter:
        return _lookup_matches(book, data_filter["developerMetadataLookup"] or {}, sheet, dim, index, entry)
    if "a1Range" in data_filter:
        box = api.read_box(book, str(data_filter["a1Range"]))
    elif "gridRange" in data_filter:
        from sheetcrm.testing.model import _grid_box

        grid = data_filter["gridRange"] or {}
        target = book.sheet_by_id(int(grid.get("sheetId") or 0))
        if target is None:
            raise _RequestError(f"No grid with id: {int(grid.get('sheetId') or 0)}")
        box = _grid_box(target, grid)
    else:
        raise _RequestError("DataFilter must set developerMetadataLookup, a1Range or gridRange.")
    span = int(entry.get("_span", 1))
    lo, hi = (box.r0, box.r1) if dim == "ROWS" else (box.c0, box.c1)
    return box.sheet is sheet and lo < index + span and index < hi


def matching(
    api: _Api, book: Spreadsheet, filters: list[Mapping[str, Any]]
) -> list[tuple[Sheet, str, int, dict[str, Any], list[Mapping[str, Any]]]]:
    """Entries that match any of ``filters``, each with the filters it matched."""
    out = []
    for sheet, dim, index, entry in list(_entries(book)):
        hits = [f for f in filters if _filter_matches(api, book, f, sheet, dim, index, entry)]
        if hits:
            out.append((sheet, dim, index, entry, hits))
    return out


def _matching_lookup(
    api: _Api, book: Spreadsheet, data_filter: Mapping[str, Any]
) -> list[tuple[Sheet, str, int, dict[str, Any], list[Mapping[str, Any]]]]:
    """:func:`matching` for one filter; a lookup of an exact location only looks there
    (what keeps a write guarding thousands of rows linear)."""
    lookup = data_filter.get("developerMetadataLookup")
    where = lookup.get("metadataLocation") if isinstance(lookup, Mapping) else None
    exact = isinstance(lookup, Mapping) and lookup.get("locationMatchingStrategy") == "EXACT_LOCATION"
    if not exact or not isinstance(where, Mapping) or "dimensionRange" not in where:
        return matching(api, book, [data_filter])
    assert isinstance(lookup, Mapping)
    sheet, dim, start, _end = _location(book, where)
    return [
        (sheet, dim, start, entry, [data_filter])
        for entry in list(sheet.dim_props[dim].get(start, {}).get(_KEY, ()))
        if _lookup_matches(book, lookup, sheet, dim, start, entry)
    ]


def delete(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    """``deleteDeveloperMetadata``: every entry its ``dataFilter`` matches."""
    data_filter = payload.get("dataFilter")
    if not isinstance(data_filter, Mapping) or not data_filter:
        raise _RequestError("dataFilter must be set.")
    gone = []
    tally = _TALLIES.get(id(book))
    if tally is not None and tally.book() is not book:
        tally = None
    for sheet, dim, index, entry, _hits in _matching_lookup(api, book, data_filter):
        gone.append(resource(sheet, dim, index, entry))
        if tally is not None:
            # Kept exact here: a guard deletes a tag and re-creates the same metadataId
            # at once, and a stale id would cost a full recount per guard (quadratic).
            tally.ids.discard(int(entry["metadataId"]))
            tally.chars[sheet.sheet_id] = tally.chars.get(sheet.sheet_id, 0) - _chars(entry)
        props = sheet.props_for_write(dim, index)
        props[_KEY] = [e for e in props[_KEY] if e is not entry]
        if not props[_KEY]:
            del props[_KEY]
        if not props:
            del sheet.dim_props[dim][index]
    # Empty lists are left out of Google's (proto3 JSON) answers.
    return {"deleteDeveloperMetadata": {"deletedDeveloperMetadata": gone} if gone else {}}


def update(api: _Api, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
    """``updateDeveloperMetadata``: the ``fields`` of ``developerMetadata`` onto every entry
    its ``dataFilters`` match (key, value, visibility; a new location moves it)."""
    filters = payload.get("dataFilters") or []
    fields = [f.strip() for f in str(payload.get("fields") or "").split(",") if f.strip()]
    if not filters:
        raise _RequestError("dataFilters must be set.")
    if not fields:
        raise _RequestError("At least one field must be specified in 'fields'.")
    new = payload.get("developerMetadata") or {}
    updated = []
    for sheet, dim, index, shared, _hits in matching(api, book, list(filters)):
        # Entries are shared with the spreadsheet a batch's working copy came from
        # (``Sheet.props_for_write``): change a copy.
        entries = sheet.props_for_write(dim, index)[_KEY]
        at = next(k for k, e in enumerate(entries) if e is shared)
        entry = entries[at] = dict(shared)
        for name in fields:
            if name == "*":
                raise ApiError(501, "FakeSheetsServer does not implement fields '*' here.")
            if name == "metadataId":
                raise _RequestError("metadataId cannot be updated.")
            if name == "location":
                target, tdim, start, end = _location(book, new.get("location") or {})
                props = sheet.props_for_write(dim, index)
                props[_KEY].remove(entry)
                if not props[_KEY]:
                    del props[_KEY]
                if not props:
                    del sheet.dim_props[dim][index]
                entry.pop("_span", None)
                if end - start > 1:
                    entry["_span"] = end - start
                target.props_for_write(tdim, start).setdefault(_KEY, []).append(entry)
                sheet, dim, index = target, tdim, start
            elif name in ("metadataKey", "metadataValue", "visibility"):
                if name in new:
                    entry[name] = new[name]
                else:
                    entry.pop(name, None)
            else:
                raise _RequestError(f"Invalid field: {name}")
        _check_quota(book, sheet)
        updated.append(resource(sheet, dim, index, entry))
    return {"updateDeveloperMetadata": {"developerMetadata": updated} if updated else {}}


def get(api: _Api, book: Spreadsheet, metadata_id: int) -> dict[str, Any]:
    """``developerMetadata.get``."""
    for sheet, dim, index, entry in _entries(book):
        if int(entry["metadataId"]) == metadata_id:
            return resource(sheet, dim, index, entry)
    raise ApiError(404, f"No developer metadata with ID: {metadata_id}")


def search(api: _Api, book: Spreadsheet, body: Mapping[str, Any]) -> dict[str, Any]:
    """``developerMetadata.search``: ``matchedDeveloperMetadata`` (omitted when empty)."""
    filters = body.get("dataFilters") or []
    if not filters:
        raise _RequestError("dataFilters must be set.")
    try:
        found = matching(api, book, list(filters))
    except _RequestError as err:
        raise ApiError(400, str(err)) from None
    if not found:
        return {}
    return {
        "matchedDeveloperMetadata": [
            {"developerMetadata": resource(sheet, dim, index, entry), "dataFilters": [copy.deepcopy(f) for f in hits]}
            for sheet, dim, index, entry, hits in found
        ]
    }


def carry_through_sort(sheet: Sheet, r0: int, order: list[int], full_width: bool) -> None:
    """After rows ``r0..`` were sorted into ``order`` (the source row of each target row):
    a sort of whole rows carries each row's metadata with it (chosen; see the module)."""
    if not full_width:
        return
    table = sheet.dim_props["ROWS"]
    moved = {target: table[source].get(_KEY) for target, source in enumerate(order, start=r0) if source in table}
    for target in range(r0, r0 + len(order)):
        if table.get(target) is not None:
            props = sheet.props_for_write("ROWS", target)
            props.pop(_KEY, None)
            if not props:
                del table[target]
    for target, entries in moved.items():
        if entries:
            sheet.props_for_write("ROWS", target)[_KEY] = list(entries)


HANDLERS = {
    "createDeveloperMetadata": create,
    "updateDeveloperMetadata": update,
    "deleteDeveloperMetadata": delete,
}
