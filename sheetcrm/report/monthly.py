"""The owners' monthly segment report: every figure, as DataFrames, from the typed tables.

:func:`build_report` is pure (tables in, :class:`MonthlyReport` out). The month is
computed as of its last day and compared with the previous month's last day, both
recomputed from the transaction history, so no stored snapshot is needed. Customers are
the Contacts tab (people and B2B contacts alike), as in the sync summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import numpy as np
import pandas as pd

from sheetcrm.customers.nesl import nesl_moves, nesl_table
from sheetcrm.customers.rfm import customer_index, pareto, rfm_table, value_tiers
from sheetcrm.customers.transactions import LeftOut, transactions
from sheetcrm.pipeline.forecast import (
    Quarter,
    deals_as_of,
    forecast_table,
    funnel,
    won_lost,
)
from sheetcrm.schema import NESL, Lang, Lifecycle, Segment, Tab, Tier
from sheetcrm.settings import Settings

#: How many movers the report lists.
MOVERS: Final = 20
_NESL: Final = (NESL.N, NESL.E, NESL.S, NESL.L)


class Move(StrEnum):
    """Named NESL moves (seed 000 / seed 001); value: the catalog key suffix."""

    POTENTIAL_DIVORCE = "potential_divorce"  # E -> S
    DIVORCE = "divorce"  # S -> L
    WIN_BACK = "win_back"  # S or L -> E
    FIRST_PURCHASE = "first_purchase"  # N -> E
    NEW_RECORD = "new_record"  # not in the sheet last month
    OTHER = "other"


#: Named moves in the order the report shows them.
NAMED_MOVES: Final[tuple[tuple[Move, tuple[NESL, ...], NESL], ...]] = (
    (Move.POTENTIAL_DIVORCE, (NESL.E,), NESL.S),
    (Move.DIVORCE, (NESL.S,), NESL.L),
    (Move.WIN_BACK, (NESL.S, NESL.L), NESL.E),
    (Move.FIRST_PURCHASE, (NESL.N,), NESL.E),
)


def move_of(before: Any, after: Any) -> Move | None:
    """The named move from NESL ``before`` to ``after``; None when nothing moved."""
    if before == after:
        return None
    if before is None or (isinstance(before, float) and before != before):
        return Move.NEW_RECORD
    for move, sources, target in NAMED_MOVES:
        if before in sources and after == target:
            return move
    return Move.OTHER


def month_bounds(month: Any) -> tuple[pd.Period, pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """``month`` ("2026-10", a date or a Period) -> (period, first day, last day, last day
    of the month before). Raises ValueError for text that is not a month."""
    period = month if isinstance(month, pd.Period) else pd.Period(str(month)[:7], freq="M")
    start = period.start_time.normalize()
    end = period.end_time.normalize()
    prev_end = (start - pd.Timedelta(days=1)).normalize()
    return period, start, end, prev_end


def last_complete_month(today: Any = None) -> pd.Period:
    """The month before ``today``'s (default: the real today)."""
    ts = pd.Timestamp(today if today is not None else pd.Timestamp.today()).normalize()
    return pd.Period(ts, freq="M") - 1


def customer_snapshot(
    contacts: pd.DataFrame, activities: pd.DataFrame, opportunities: pd.DataFrame, as_of: Any, settings: Settings
) -> pd.DataFrame:
    """Every contact's RFM, segment, tier, NESL, marks and lifecycle as of ``as_of``.

    In: the typed Contacts, Activities and Opportunities tables. Out: a frame indexed by
    contact ID (order kept, missing and repeated IDs dropped) with the columns of
    :func:`~sheetcrm.customers.rfm.rfm_table` plus ``tier``, ``nesl``, ``main``,
    ``important`` and ``lifecycle`` — the same figures sync writes on that day. A contact
    whose Created date is after ``as_of`` was nobody's customer yet: left out.
    """
    if "Created" in contacts:
        later = pd.to_datetime(contacts["Created"], errors="coerce") > pd.Timestamp(as_of).normalize()
        contacts = contacts[~later.to_numpy(dtype=bool)]
    tx = transactions(activities, opportunities, as_of)
    ids = customer_index(contacts["ID"])
    rfm = rfm_table(tx, ids, "contact_id", as_of, settings)
    tiers = value_tiers(rfm["monetary"], rfm["last_purchase"].notna(), settings)
    nesl = nesl_table(tx, ids, "contact_id", as_of, settings, tiers=tiers)
    return rfm.assign(tier=tiers).join(nesl)


def _objects(values: pd.Series) -> np.ndarray:
    """An object array with None (not NaN) where a value is missing."""
    arr = values.to_numpy(dtype=object, copy=True)
    arr[pd.isna(arr)] = None
    return arr


def _obj(values: Any) -> pd.Series:
    """An object Series (pandas would infer its string dtype for enum members and turn
    None into NaN)."""
    return pd.Series(values, dtype=object)


def _counts(values: pd.Series, members: tuple[Any, ...]) -> np.ndarray:
    return np.array([int((values == m).sum()) for m in members], dtype=np.int64)


def _sums(values: pd.Series, weights: pd.Series, members: tuple[Any, ...]) -> np.ndarray:
    w = pd.to_numeric(weights, errors="coerce").fillna(0.0)
    return np.array([float(w[(values == m).to_numpy(dtype=bool)].sum()) for m in members], dtype="float64")


@dataclass
class MonthlyReport:
    """Every figure of one month's report, as DataFrames keyed by the schema's enums.

    Render with :mod:`sheetcrm.report.render` (``to_html``, ``to_markdown``, ``to_csv``,
    ``tab_rows``) or :meth:`write`.
    """

    month: pd.Period
    end: pd.Timestamp
    prev_end: pd.Timestamp
    lang: Lang
    include_pii: bool
    source: str
    currency: str
    lookback_months: int
    #: NESL class, customers (this month end), prev, delta.
    nesl: pd.DataFrame
    #: 4×4 move matrix: index ``from`` NESL, columns ``to`` NESL, customer counts.
    matrix: pd.DataFrame
    #: move (Move), from, to (text like "E→S"), customers.
    moves: pd.DataFrame
    #: segment, customers, prev, delta, revenue, revenue_prev, revenue_delta.
    segments: pd.DataFrame
    #: tier, customers, revenue, share.
    tiers: pd.DataFrame
    #: buyers, revenue, top_count, top_share, holds (from customers.rfm.pareto).
    pareto: dict[str, Any]
    #: buyers_share, revenue_share: the cumulative curve behind the 80/20 check.
    lorenz: pd.DataFrame
    #: lifecycle, customers, prev, delta.
    lifecycle: pd.DataFrame
    #: funnel rows (pipeline.forecast.funnel) at the month end.
    funnel: pd.DataFrame
    #: Owner, won, won_amount, lost, lost_amount, won_prev, won_amount_prev, lost_prev.
    won_lost: pd.DataFrame
    quarter: Quarter
    #: forecast_table by owner for the quarter of the month end, as of the month end.
    forecast: pd.DataFrame
    #: customers whose NESL changed, most valuable first (at most MOVERS rows).
    movers: pd.DataFrame
    #: all movers count (before the MOVERS cut).
    movers_total: int
    #: one row per contact: ID, nesl, segment, tier, lifecycle, nesl_prev, segment_prev, move.
    customers: pd.DataFrame
    #: Name/Email/Phone per contact ID; empty unless include_pii.
    pii: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Deals left out of the funnel and forecast: their Stage cannot be read.
    unstaged: tuple[str, ...] = ()
    #: The workbook's own name of its Contacts tab (客戶名單), to say where customers come from.
    contacts_tab: str = ""
    #: Purchases up to the month end that count for no customer (no date, nobody named).
    left_out: LeftOut | None = None

    def headline(self) -> dict[str, Any]:
        """The figures of the "at a glance" cards."""
        moves = dict(zip(self.moves["move"], self.moves["customers"], strict=True))
        won = self.won_lost
        return {
            "buyers": int(self.pareto["buyers"]),
            "revenue": float(self.pareto["revenue"]),
            "slipped": int(moves.get(Move.POTENTIAL_DIVORCE, 0)),
            "back": int(moves.get(Move.WIN_BACK, 0)),
            "first": int(moves.get(Move.FIRST_PURCHASE, 0)),
            "won": int(won["won"].sum()),
            "won_prev": int(won["won_prev"].sum()),
            "won_amount": float(won["won_amount"].sum()),
            "forecast": float(self.forecast["forecast"].sum()),
            "top_share": self.pareto["top_share"],
        }

    def write(self, out_dir: Any, formats: tuple[str, ...] = ("html", "md", "csv")) -> list[Any]:
        """Write the report in each format into ``out_dir`` (created); returns the paths
        (``report-YYYY-MM.html`` ...). ``xlsx`` writes a standalone workbook of the tab."""
        from sheetcrm.report.render import write_files

        return write_files(self, out_dir, formats)


def build_report(
    tables: dict[Tab, pd.DataFrame],
    settings: Settings,
    month: Any,
    *,
    lang: Lang | str = Lang.EN,
    include_pii: bool = False,
    source: str = "",
) -> MonthlyReport:
    """Compute the monthly report of ``month`` from the typed tables.

    In: ``tables`` — typed frames of Contacts, Opportunities and Activities (as
    ``Workbook.table``); ``settings``; ``month`` ("YYYY-MM" or a Period); ``lang`` of the
    texts; ``include_pii`` — keep names, emails and phones; ``source`` — where the data came
    from (shown in the footer). Out: :class:`MonthlyReport`.
    """
    from sheetcrm.report.catalog import lang_of

    period, start, end, prev_end = month_bounds(month)
    contacts, acts, opps = tables[Tab.CONTACTS], tables[Tab.ACTIVITIES], tables[Tab.OPPORTUNITIES]
    now = customer_snapshot(contacts, acts, opps, end, settings)
    before = customer_snapshot(contacts, acts, opps, prev_end, settings)

    nesl_now, nesl_prev = _counts(now["nesl"], _NESL), _counts(before["nesl"], _NESL)
    nesl = pd.DataFrame(
        {
            "nesl": pd.Series(_NESL, dtype=object),
            "customers": nesl_now,
            "prev": nesl_prev,
            "delta": nesl_now - nesl_prev,
        }
    )
    moved = nesl_moves(before["nesl"], now["nesl"])
    known = moved.counts[moved.counts["from"].notna() & moved.counts["to"].notna()]
    matrix = (
        known.pivot(index="from", columns="to", values="customers")
        .reindex(index=list(_NESL), columns=list(_NESL))
        .fillna(0)
        .astype(np.int64)
    )
    matrix.index = pd.Index(list(_NESL), dtype=object, name="from")
    matrix.columns = pd.Index(list(_NESL), dtype=object, name="to")
    who = moved.customers
    move = pd.Series(
        [move_of(f, t) for f, t in zip(who["from"], who["to"], strict=True)], index=who.index, dtype=object
    )
    moves = pd.DataFrame(
        {
            "move": pd.Series([m for m, _, _ in NAMED_MOVES], dtype=object),
            "from": ["/".join(s.value for s in src) for _, src, _ in NAMED_MOVES],
            "to": [t.value for _, _, t in NAMED_MOVES],
            "customers": np.array([int((move == m).sum()) for m, _, _ in NAMED_MOVES], dtype=np.int64),
        }
    )

    segs = tuple(Segment)
    seg_now, seg_prev = _counts(now["segment"], segs), _counts(before["segment"], segs)
    rev_now, rev_prev = _sums(now["segment"], now["monetary"], segs), _sums(before["segment"], before["monetary"], segs)
    segments = pd.DataFrame(
        {
            "segment": pd.Series(segs, dtype=object),
            "customers": seg_now,
            "prev": seg_prev,
            "delta": seg_now - seg_prev,
            "revenue": rev_now,
            "revenue_prev": rev_prev,
            "revenue_delta": rev_now - rev_prev,
        }
    )

    p = pareto(now["monetary"], now["tier"])
    tiers = pd.DataFrame(
        {
            "tier": pd.Series(tuple(Tier), dtype=object),
            "customers": np.array([p["by_tier"][t]["customers"] for t in Tier], dtype=np.int64),
            "revenue": np.array([p["by_tier"][t]["revenue"] for t in Tier], dtype="float64"),
            "share": np.array(
                [np.nan if p["by_tier"][t]["share"] is None else p["by_tier"][t]["share"] for t in Tier],
                dtype="float64",
            ),
        }
    )
    buyer_values = np.sort(
        pd.to_numeric(now.loc[now["tier"] != Tier.POTENTIAL, "monetary"], errors="coerce")
        .fillna(0.0)
        .to_numpy(dtype="float64")
    )[::-1]
    total = buyer_values.sum()
    n_buyers = len(buyer_values)
    lorenz = pd.DataFrame(
        {
            "buyers_share": np.arange(0, n_buyers + 1, dtype="float64") / max(n_buyers, 1),
            "revenue_share": np.concatenate([[0.0], np.cumsum(buyer_values) / total])
            if total > 0
            else np.zeros(n_buyers + 1),
        }
    )

    lcs = tuple(Lifecycle)
    lc_now, lc_prev = _counts(now["lifecycle"], lcs), _counts(before["lifecycle"], lcs)
    lifecycle = pd.DataFrame(
        {"lifecycle": pd.Series(lcs, dtype=object), "customers": lc_now, "prev": lc_prev, "delta": lc_now - lc_prev}
    )

    deals = deals_as_of(opps, acts, end, settings)
    prev_start = (start - pd.Timedelta(days=1)).replace(day=1)
    this, last = won_lost(deals, start, end), won_lost(deals, prev_start, prev_end)
    last = last.rename(
        columns={
            "won": "won_prev",
            "won_amount": "won_amount_prev",
            "lost": "lost_prev",
            "lost_amount": "lost_amount_prev",
        }
    )
    wl = this.merge(last, on="Owner", how="outer")
    wl = wl.assign(_none=wl["Owner"].isna(), _o=wl["Owner"].fillna("")).sort_values(["_none", "_o"])
    wl = wl.drop(columns=["_none", "_o"]).reset_index(drop=True)
    for col in ("won", "lost", "won_prev", "lost_prev"):
        wl[col] = wl[col].fillna(0).astype(np.int64)
    for col in ("won_amount", "lost_amount", "won_amount_prev", "lost_amount_prev"):
        wl[col] = wl[col].fillna(0.0).astype("float64")
    wl["Owner"] = wl["Owner"].astype(object).where(wl["Owner"].notna(), None)
    quarter = Quarter.of(end)

    value = pd.Series(
        np.maximum(
            pd.to_numeric(before["monetary"].reindex(who.index), errors="coerce").fillna(0.0),
            pd.to_numeric(now["monetary"].reindex(who.index), errors="coerce").fillna(0.0),
        ),
        index=who.index,
    )
    changed = who[who["changed"] & who["from"].notna()]
    movers = pd.DataFrame(
        {
            "ID": _obj(changed.index.to_numpy(dtype=object)),
            "move": _obj(_objects(move.reindex(changed.index))),
            "nesl_prev": _obj(changed["from"].to_numpy(dtype=object)),
            "nesl": _obj(changed["to"].to_numpy(dtype=object)),
            "segment_prev": _obj(_objects(before["segment"].reindex(changed.index))),
            "segment": _obj(_objects(now["segment"].reindex(changed.index))),
            "monetary_prev": pd.to_numeric(before["monetary"].reindex(changed.index), errors="coerce").to_numpy(),
            "monetary": pd.to_numeric(now["monetary"].reindex(changed.index), errors="coerce").to_numpy(),
            "_value": value.reindex(changed.index).to_numpy(),
        }
    )
    movers = movers.sort_values(["_value", "ID"], ascending=[False, True], kind="stable")
    movers_total = len(movers)
    movers = movers.drop(columns="_value").head(MOVERS).reset_index(drop=True)

    ids = now.index
    customers = pd.DataFrame(
        {
            "ID": _obj(ids.to_numpy(dtype=object)),
            "nesl": _obj(now["nesl"].to_numpy(dtype=object)),
            "segment": _obj(now["segment"].to_numpy(dtype=object)),
            "tier": _obj(now["tier"].to_numpy(dtype=object)),
            "lifecycle": _obj(now["lifecycle"].to_numpy(dtype=object)),
            "nesl_prev": _obj(_objects(before["nesl"].reindex(ids))),
            "segment_prev": _obj(_objects(before["segment"].reindex(ids))),
            "move": _obj(_objects(move.reindex(ids))),
        }
    )
    pii = pd.DataFrame()
    if include_pii:
        first = contacts[contacts["ID"].notna() & ~contacts["ID"].duplicated(keep="first")]
        pii = first.set_index("ID")[["Name", "Email", "Phone"]]
    return MonthlyReport(
        month=period,
        end=end,
        prev_end=prev_end,
        lang=lang_of(lang),
        include_pii=include_pii,
        source=source,
        currency=settings.currency,
        lookback_months=settings.lookback_months,
        nesl=nesl,
        matrix=matrix,
        moves=moves,
        segments=segments,
        tiers=tiers,
        pareto=p,
        lorenz=lorenz,
        lifecycle=lifecycle,
        funnel=funnel(deals),
        won_lost=wl,
        quarter=quarter,
        forecast=forecast_table(deals, quarter, end),
        movers=movers,
        movers_total=movers_total,
        customers=customers,
        pii=pii,
    )
