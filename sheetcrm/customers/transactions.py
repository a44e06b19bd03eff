"""Transactions: the purchases that RFM, NESL, value tiers and lifecycle are computed from.

DESIGN §2: a customer's transactions are Activities of a purchase type (``Order`` /
``Purchase``) with an Amount, plus Won opportunities that no purchase activity already
records. Everything here is a pure, vectorised function over the typed frames the rest of
sheetcrm produces, computed *as of* a date so a past month end can be recomputed: rows
dated after ``as_of`` do not exist as far as these functions are concerned.

The rules, exactly (see also ``docs/customer-rules.md``):

* An **activity** is a transaction when its Type is in :data:`~sheetcrm.schema.PURCHASE_TYPES`,
  its Amount is a number (not NaN; 0 and negative amounts count as given) and its Date is
  known and on or before ``as_of``.
* A **Won opportunity** is a transaction, dated at its ``Closed`` date, with its Amount,
  unless it is *recorded*: a purchase activity that is itself a transaction as of
  ``as_of`` carries its ID in ``Opportunity ID``. A deal is therefore counted exactly once
  at any ``as_of``: by the order activity once that is on the books, by the deal until then.
* A Won opportunity that is not recorded but has no ``Closed`` date (it cannot be dated) or
  no Amount is **not** a transaction; :func:`skipped_won` lists those so the caller can warn.
* Contact and company references are kept as given. :func:`attach_company` fills a missing
  company from the contact's company, for company-level RFM.
"""

from __future__ import annotations

import ctypes
from datetime import date, datetime
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from sheetcrm.schema import PURCHASE_TYPES, Stage

#: Columns of a transactions frame, in order.
TX_COLUMNS: tuple[str, ...] = (
    "date",
    "amount",
    "contact_id",
    "company_id",
    "opportunity_id",
    "source_id",
    "source",
)

#: Values of the ``source`` column.
SOURCE_ACTIVITY = "activity"
SOURCE_OPPORTUNITY = "opportunity"

#: Values of :func:`skipped_won`'s ``reason`` column.
REASON_NO_CLOSED = "no Closed date"
REASON_NO_AMOUNT = "no Amount"

DAY_NS = 86_400_000_000_000

DateLike = pd.Timestamp | datetime | date | str | np.datetime64


def as_of_timestamp(as_of: DateLike) -> pd.Timestamp:
    """``as_of`` as a midnight ``Timestamp`` (ns, time of day and time zone dropped).

    "As of D" always means "up to and including the whole day D". Raises ``ValueError``
    for a missing date.
    """
    ts = pd.Timestamp(as_of)
    if pd.isna(ts):
        raise ValueError("as_of must be a date, not missing")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize().as_unit("ns")


def date_ns(values: Any) -> np.ndarray:
    """Dates as an int64 array of nanoseconds since the epoch; NaT stays NaT's int64 value
    (use :func:`pandas.isna` on the original or compare with ``NAT_NS``)."""
    ser = pd.Series(pd.to_datetime(pd.Series(values), errors="coerce"))
    return ser.to_numpy(dtype="datetime64[ns]").view("int64")


#: int64 view of NaT.
NAT_NS = np.datetime64("NaT", "ns").view("int64")


def _refs(values: Any) -> np.ndarray:
    """An object array of reference strings, every missing value (None, NaN, NaT) as None."""
    arr = np.asarray(pd.Series(values, dtype=object).to_numpy(dtype=object), dtype=object)
    missing = pd.isna(arr)
    if missing.any():
        arr = arr.copy()
        arr[missing] = None
    return arr


def positions_in(index: pd.Index, keys: np.ndarray, *, distinct: bool = False) -> np.ndarray:
    """int64 position in ``index`` (unique) of each of ``keys``; -1 where absent or missing.

    Each pass over a million Python strings costs about as much as the matching itself
    (the objects sit all over memory), so: keys that are the same object (as a parsed
    column hands them out) are matched once (:func:`_same_objects`); text IDs of up to
    :data:`PACKED_WIDTH` characters are matched as numbers (:func:`_packed_positions`);
    anything else is factorized and only the distinct keys looked up. ``distinct``: the
    keys are known to be distinct (categories), so the same-object shortcut is skipped.
    """
    if not len(index) or not len(keys):
        return np.full(len(keys), -1, dtype=np.int64)
    keys = np.asarray(keys, dtype=object)
    shared = None if distinct else _same_objects(keys)
    if shared is not None:
        codes, first = shared
        return _positions(index, keys[first])[codes]
    return _positions(index, keys)


def _same_objects(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(codes, first)`` with ``keys[first][codes]`` being ``keys`` object for object, when
    many keys are the very same object; None when that would not save work.

    The objects are told apart by address, read from the array's own buffer without
    touching the objects, so this costs an integer factorization.
    """
    n = len(keys)
    keys = np.ascontiguousarray(keys)
    addresses = np.frombuffer(memoryview((ctypes.c_void_p * n).from_address(keys.ctypes.data)), dtype=np.intp)
    low = int(addresses.min())
    # Python objects are 16-byte aligned; when they lie close together (a parsed column's
    # values were made together) a direct table over their addresses beats hashing them
    slots = (addresses - low) >> 4
    span = int(slots.max()) + 1
    if span > 16 * n:
        codes, uniques = pd.factorize(addresses)
        if 2 * len(uniques) > n:
            return None
        first = np.full(len(uniques), n, dtype=np.int64)
        np.minimum.at(first, codes, np.arange(n, dtype=np.int64))
        return codes.astype(np.int64), first
    first_at = np.full(span, n, dtype=np.int64)
    np.minimum.at(first_at, slots, np.arange(n, dtype=np.int64))
    used = first_at < n
    distinct = int(used.sum())
    if 2 * distinct > n:
        return None
    rank = np.cumsum(used, dtype=np.int64) - 1
    return rank[slots], first_at[used]


def _positions(index: pd.Index, keys: np.ndarray) -> np.ndarray:
    """:func:`positions_in` without the same-object shortcut."""
    values = index.to_numpy(dtype=object)
    if infer_dtype(keys, skipna=False) == "string":
        found = _packed_positions(values, keys)
        if found is not None:
            return found
    else:
        present = ~pd.isna(keys)
        subset = keys[present]
        found = _packed_positions(values, subset) if infer_dtype(subset, skipna=False) == "string" else None
        if found is not None:
            out = np.full(len(keys), -1, dtype=np.int64)
            out[present] = found
            return out
    codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    found = index.get_indexer(pd.Index(np.asarray(uniques, dtype=object), dtype=object))
    lookup = np.append(found, -1).astype(np.int64)  # code -1 (missing key) -> last slot
    return lookup[codes]


#: Longest text ID matched by :func:`_packed_positions` (wider ones cost more memory than
#: they save time).
PACKED_WIDTH = 32

_FNV_PRIME = np.uint64(1099511628211)


def _fold(codepoints: np.ndarray) -> np.ndarray:
    """One uint64 per row of a (rows, width) uint32 array of code points (FNV-style)."""
    out = np.full(len(codepoints), np.uint64(14695981039346656037), dtype=np.uint64)
    for j in range(codepoints.shape[1]):
        out = (out ^ codepoints[:, j].astype(np.uint64)) * _FNV_PRIME
    return out


def _packed_positions(values: np.ndarray, keys: np.ndarray) -> np.ndarray | None:
    """:func:`positions_in` for text: both sides become fixed-width numpy text, each ID is
    folded into one 64-bit number, numbers are matched through an integer hash table, and
    every match is then checked character by character, so the result is exact. ``keys``
    must all be text. None when an ID is not text, an ID or key is too long, or two
    different IDs fold alike (the caller then takes the general path)."""
    if infer_dtype(values, skipna=False) != "string":
        return None
    packed_values, packed_keys = values.astype("U"), keys.astype("U")
    width = max(packed_values.dtype.itemsize, packed_keys.dtype.itemsize) // 4
    if width > PACKED_WIDTH:
        return None
    # one width for both, so rows compare and fold alike (widening is a cheap numpy copy)
    if packed_values.dtype.itemsize != 4 * width:
        packed_values = packed_values.astype(f"U{width}")
    if packed_keys.dtype.itemsize != 4 * width:
        packed_keys = packed_keys.astype(f"U{width}")
    table = pd.Index(_fold(packed_values.view(np.uint32).reshape(len(values), width)))
    if not table.is_unique:
        return None
    found = table.get_indexer(_fold(packed_keys.view(np.uint32).reshape(len(keys), width))).astype(np.int64)
    hit = found >= 0
    if not np.array_equal(packed_values[found[hit]], packed_keys[hit]):
        return None
    return found


def _obj(values: Any) -> pd.Series:
    """An object-dtype Series (pandas 3 would otherwise infer its ``str`` dtype and turn
    None into NaN and enum members into a string column)."""
    return pd.Series(values, dtype=object)


def _empty_tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.Series([], dtype="datetime64[ns]"),
            "amount": pd.Series([], dtype="float64"),
            **{c: pd.Series([], dtype=object) for c in TX_COLUMNS[2:]},
        }
    )


def purchase_mask(activities: pd.DataFrame) -> np.ndarray:
    """Which activities are purchases: a Type in :data:`~sheetcrm.schema.PURCHASE_TYPES`
    and an Amount that is a number. In: columns ``Type`` and ``Amount``; out: a bool array."""
    amount = pd.to_numeric(activities["Amount"], errors="coerce").to_numpy(dtype="float64")
    return activities["Type"].isin(list(PURCHASE_TYPES)).to_numpy(dtype=bool) & ~np.isnan(amount)


class LeftOut(NamedTuple):
    """Purchases that count for no customer: how many lack a date, how many name nobody,
    and their total amount."""

    undated: int
    unlinked: int
    amount: float


def left_out_purchases(
    activities: pd.DataFrame, as_of: DateLike, contact_ids: pd.Series, company_ids: pd.Series
) -> LeftOut:
    """The purchases that count for no customer: a purchase (:func:`purchase_mask`) with
    no date that could be read, or dated on or before ``as_of`` but naming neither a
    contact of ``contact_ids`` nor a company of ``company_ids`` (an unknown or ambiguous
    name). In: the Activities table as for :func:`transactions`, references linked. Out:
    a :class:`LeftOut`."""
    bought = purchase_mask(activities)
    dates = date_ns(activities["Date"])
    undated = bought & (dates == NAT_NS)
    nobody = ~activities["Contact ID"].isin(contact_ids.dropna()).to_numpy(dtype=bool) & ~activities["Company ID"].isin(
        company_ids.dropna()
    ).to_numpy(dtype=bool)
    unlinked = bought & ~undated & (dates <= int(as_of_timestamp(as_of).value)) & nobody
    amount = pd.to_numeric(activities["Amount"], errors="coerce").to_numpy(dtype="float64")
    return LeftOut(int(undated.sum()), int(unlinked.sum()), float(amount[undated | unlinked].sum()))


def won_unrecorded(opportunities: pd.DataFrame, recorded: pd.Series) -> np.ndarray:
    """Which opportunities are Won deals that no purchase records: their ID is not among
    ``recorded`` (the Opportunity IDs of purchase activities). Such a deal is a purchase
    itself, if it can be dated. In: columns ``Stage`` and ``ID``; out: a bool array."""
    won = opportunities["Stage"].isin([Stage.WON]).to_numpy(dtype=bool)
    ids = _refs(opportunities["ID"])
    known = recorded.dropna().unique()
    is_recorded = pd.Series(ids, dtype=object).isin(known).to_numpy(dtype=bool)
    return won & ~is_recorded


def _counted_activities(activities: pd.DataFrame, as_of_ns: int) -> pd.DataFrame:
    """The activities that are transactions as of ``as_of_ns`` (see module docstring)."""
    dates = date_ns(activities["Date"])
    amount = pd.to_numeric(activities["Amount"], errors="coerce").to_numpy(dtype="float64")
    mask = purchase_mask(activities) & (dates != NAT_NS) & (dates <= as_of_ns)
    return pd.DataFrame(
        {
            "date": dates[mask].view("datetime64[ns]"),
            "amount": amount[mask],
            "contact_id": _obj(_refs(activities["Contact ID"].to_numpy(dtype=object)[mask])),
            "company_id": _obj(_refs(activities["Company ID"].to_numpy(dtype=object)[mask])),
            "opportunity_id": _obj(_refs(activities["Opportunity ID"].to_numpy(dtype=object)[mask])),
            "source_id": _obj(_refs(activities["ID"].to_numpy(dtype=object)[mask])),
            "source": _obj(np.full(int(mask.sum()), SOURCE_ACTIVITY, dtype=object)),
        }
    )


def _unrecorded_won(opportunities: pd.DataFrame, recorded: pd.Series) -> pd.DataFrame:
    """Won opportunities whose ID no counted purchase activity references."""
    return opportunities.loc[won_unrecorded(opportunities, recorded)]


def transactions(
    activities: pd.DataFrame,
    opportunities: pd.DataFrame,
    as_of: DateLike,
) -> pd.DataFrame:
    """All transactions dated on or before ``as_of``.

    In:
      * ``activities`` — the Activities table: columns ``ID, Date, Type, Contact ID,
        Company ID, Opportunity ID, Amount`` (Date datetime64, Type :class:`ActivityType`
        members or None, Amount float64 with NaN for missing, refs object str or None).
        Other columns are ignored.
      * ``opportunities`` — the Opportunities table: columns ``ID, Company ID, Contact ID,
        Stage, Amount, Closed`` (Stage :class:`Stage` members or None). Others ignored.
      * ``as_of`` — the day to compute as of (inclusive; time of day is dropped).

    Out: a new frame with a fresh RangeIndex and columns :data:`TX_COLUMNS`:
    ``date`` (datetime64[ns], never NaT), ``amount`` (float64, never NaN),
    ``contact_id``, ``company_id``, ``opportunity_id`` (object str or None, as given),
    ``source_id`` (the activity's or the opportunity's ID) and ``source``
    (``"activity"`` or ``"opportunity"``). Rows are the counted activities in table order,
    then the counted opportunities in table order (not sorted by date: nothing downstream
    needs it, and sorting a million object rows costs more than everything else here).

    Counting rules are in the module docstring. Won opportunities that would count but
    lack a Closed date or an Amount are left out; :func:`skipped_won` lists them.
    """
    as_of_ns = int(as_of_timestamp(as_of).value)
    acts = _counted_activities(activities, as_of_ns)
    opps = _unrecorded_won(opportunities, acts["opportunity_id"])
    closed = date_ns(opps["Closed"])
    amount = pd.to_numeric(opps["Amount"], errors="coerce").to_numpy(dtype="float64")
    keep = (closed != NAT_NS) & (closed <= as_of_ns) & ~np.isnan(amount)
    opp_ids = _refs(opps["ID"].to_numpy(dtype=object)[keep])
    from_opps = pd.DataFrame(
        {
            "date": closed[keep].view("datetime64[ns]"),
            "amount": amount[keep],
            "contact_id": _obj(_refs(opps["Contact ID"].to_numpy(dtype=object)[keep])),
            "company_id": _obj(_refs(opps["Company ID"].to_numpy(dtype=object)[keep])),
            "opportunity_id": _obj(opp_ids),
            "source_id": _obj(opp_ids.copy()),
            "source": _obj(np.full(int(keep.sum()), SOURCE_OPPORTUNITY, dtype=object)),
        }
    )
    parts = [p for p in (acts, from_opps) if len(p)]
    if not parts:
        return _empty_tx()
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def skipped_won(
    activities: pd.DataFrame,
    opportunities: pd.DataFrame,
    as_of: DateLike,
) -> pd.DataFrame:
    """Won opportunities that should be transactions as of ``as_of`` but cannot be.

    In: the same ``activities``, ``opportunities`` and ``as_of`` as :func:`transactions`.

    Out: one row per Won opportunity that no purchase activity records (as of ``as_of``)
    and that either has no ``Closed`` date (it cannot be dated, so it is listed whatever
    ``as_of`` is) or is closed on or before ``as_of`` without an Amount. Columns:
    ``opportunity_id``, ``contact_id``, ``company_id`` (object), ``closed``
    (datetime64[ns]), ``amount`` (float64) and ``reason`` (``"no Closed date"``, or
    ``"no Amount"`` when the date is known). Index is a fresh RangeIndex, rows in table
    order. Such deals are in no customer's RFM/NESL; the caller should warn about them.
    """
    as_of_ns = int(as_of_timestamp(as_of).value)
    acts = _counted_activities(activities, as_of_ns)
    opps = _unrecorded_won(opportunities, acts["opportunity_id"])
    closed = date_ns(opps["Closed"])
    amount = pd.to_numeric(opps["Amount"], errors="coerce").to_numpy(dtype="float64")
    no_date = closed == NAT_NS
    no_amount = ~no_date & (closed <= as_of_ns) & np.isnan(amount)
    keep = no_date | no_amount
    reason = np.where(no_date[keep], REASON_NO_CLOSED, REASON_NO_AMOUNT).astype(object)
    return pd.DataFrame(
        {
            "opportunity_id": _obj(_refs(opps["ID"].to_numpy(dtype=object)[keep])),
            "contact_id": _obj(_refs(opps["Contact ID"].to_numpy(dtype=object)[keep])),
            "company_id": _obj(_refs(opps["Company ID"].to_numpy(dtype=object)[keep])),
            "closed": closed[keep].view("datetime64[ns]"),
            "amount": amount[keep],
            "reason": _obj(reason),
        }
    )


def attach_company(tx: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """Fill each transaction's missing ``company_id`` from its contact's company.

    In: ``tx`` — a transactions frame (:data:`TX_COLUMNS`); ``contacts`` — the Contacts
    table with columns ``ID`` and ``Company ID`` (object str or None). A contact ID listed
    twice uses its first row; unknown contacts and contacts without a company fill nothing.

    Out: a copy of ``tx`` (same index and columns) where ``company_id`` is the given value
    when present, else the contact's ``Company ID``, else None. A company given on the
    transaction always wins over the contact's company. Use it before company-level
    RFM/NESL so a purchase recorded only against a contact counts for that contact's company.
    """
    ids = _refs(contacts["ID"])
    companies = _refs(contacts["Company ID"])
    usable = ~pd.isna(ids)
    index = pd.Index(ids[usable], dtype=object)
    first = ~index.duplicated(keep="first")
    index = index[first]
    companies = np.concatenate([companies[usable][first], np.array([None], dtype=object)])
    current = _refs(tx["company_id"])
    missing = pd.isna(current)
    filled = current.copy()
    if missing.any():
        pos = positions_in(index, tx["contact_id"].to_numpy(dtype=object)[missing])
        filled[missing] = companies[pos]  # pos -1 -> the appended None
    out = tx.copy()
    out["company_id"] = pd.Series(filled, index=tx.index, dtype=object)
    return out
