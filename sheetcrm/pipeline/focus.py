"""The daily focus list: what each sales person should do in the next few days.

Pure functions over frames (seed 000: "what should we focus on in the next few days?").
Each row names a record, why it is on the list and what to do, in the workbook's language.
Kinds, in the order they are listed:

* **overdue** — an open deal whose Next Step Due is before ``as_of``;
* **due** — an open deal whose Next Step Due is from ``as_of`` to ``as_of + days``;
* **closing** — an open deal whose Expected Close is from ``as_of`` to ``as_of + days``;
* **late** — an open deal whose Expected Close has passed (the deal sync flags overdue):
  it was won or lost without anyone saying so, or its date needs moving;
* **stale** — an open deal whose latest linked activity (or Stage Since, when it has none)
  is more than ``settings.stale_days`` days before ``as_of`` (the rule of the Flags column);
* **sleeping** — a main or important customer who was E (existing) ``days`` days ago and
  is S (sleeping) now.

A deal can be on the list more than once (overdue and stale): each row is one thing to do.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

import numpy as np
import pandas as pd

from sheetcrm.report.catalog import fmt_money, lang_of, text
from sheetcrm.schema import NESL, Lang, Rhythm, Stage, Tab
from sheetcrm.settings import Settings


class FocusKind(StrEnum):
    """Why a row is on the focus list (value: the catalog key suffix)."""

    OVERDUE = "overdue"
    DUE = "due"
    CLOSING = "closing"
    LATE = "late"
    STALE = "stale"
    SLEEPING = "sleeping"
    GONE = "gone"

    def label(self, lang: Lang | str) -> str:
        return text(f"focus_{self.value}", lang)


#: Columns of :func:`focus_list`, in order.
#: ``name`` is a deal's name; customers are listed by ID only (names are people's data).
FOCUS_COLUMNS: Final[tuple[str, ...]] = ("kind", "tab", "id", "name", "owner", "date", "days", "why", "todo")
_OPEN: Final = [Stage.LEAD, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION]


def last_activity(deals: pd.DataFrame, activities: pd.DataFrame, as_of: Any) -> pd.Series:
    """The date of each deal's latest linked activity on or before ``as_of`` (NaT when
    none), indexed like ``deals``. Activities need ``Date`` and ``Opportunity ID``."""
    as_of_ts = pd.Timestamp(as_of).normalize()
    dates = pd.to_datetime(activities["Date"], errors="coerce")
    ok = dates.notna() & (dates <= as_of_ts) & activities["Opportunity ID"].notna()
    latest = dates[ok].groupby(activities.loc[ok, "Opportunity ID"].astype(str)).max()
    # Through a dict: pandas cannot map onto an empty datetime Series (no activity yet)
    mapped = pd.to_datetime(deals["ID"].astype(object).map(latest.to_dict()), errors="coerce")
    return pd.Series(mapped.to_numpy(dtype="datetime64[ns]"), index=deals.index, dtype="datetime64[ns]")


def _day(ts: Any, lang: Lang) -> str:
    return text("no_date", lang) if pd.isna(ts) else str(pd.Timestamp(ts).date())


def _rows(
    kind: FocusKind, tab: Tab, frame: pd.DataFrame, date: pd.Series, days: pd.Series, why: list[str], lang: Lang
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": pd.Series([kind] * len(frame), dtype=object),
            "tab": pd.Series([tab] * len(frame), dtype=object),
            "id": pd.Series(frame["ID"].to_numpy(dtype=object), dtype=object),
            "name": pd.Series(
                frame["Name"].to_numpy(dtype=object)
                if tab is Tab.OPPORTUNITIES and "Name" in frame
                else [None] * len(frame),
                dtype=object,
            ),
            "owner": pd.Series(
                [None if pd.isna(o) else o for o in frame["Owner"].to_numpy(dtype=object)], dtype=object
            ),
            "date": pd.to_datetime(date).to_numpy(dtype="datetime64[ns]"),
            "days": days.astype(np.int64).to_numpy(),
            "why": pd.Series(why, dtype=object),
            "todo": pd.Series([text(f"todo_{kind.value}", lang)] * len(frame), dtype=object),
        }
    )


def deal_focus(
    deals: pd.DataFrame,
    activities: pd.DataFrame,
    as_of: Any,
    settings: Settings,
    days: int = 7,
    lang: Lang | str = Lang.EN,
    currency: str = "",
) -> pd.DataFrame:
    """Overdue and due next steps, expected and missed closes, stale deals (module docstring).

    In: a deals frame as of ``as_of`` (columns ``ID, Owner, Stage, Amount, Expected Close,
    Next Step, Next Step Due, Stage Since``), the Activities table (``Date``,
    ``Opportunity ID``), ``settings.stale_days``, the window in ``days``.
    Out: :data:`FOCUS_COLUMNS`; ``days`` is days until the date (negative: days ago).
    """
    lang = lang_of(lang)
    as_of_ts = pd.Timestamp(as_of).normalize()
    horizon = as_of_ts + pd.Timedelta(days=int(days))
    open_deals = deals[deals["Stage"].isin(_OPEN)]
    due = pd.to_datetime(open_deals["Next Step Due"], errors="coerce")
    expected = pd.to_datetime(open_deals["Expected Close"], errors="coerce")
    step = open_deals["Next Step"].astype(object).where(open_deals["Next Step"].notna(), text("no_step", lang))
    until_due = (due - as_of_ts).dt.days
    parts = []

    over = due < as_of_ts
    parts.append(
        _rows(
            FocusKind.OVERDUE,
            Tab.OPPORTUNITIES,
            open_deals[over],
            due[over],
            until_due[over],
            [
                text("why_overdue", lang, step=s, date=_day(d, lang), days=-int(n))
                for s, d, n in zip(step[over], due[over], until_due[over], strict=True)
            ],
            lang,
        )
    )
    soon = (due >= as_of_ts) & (due <= horizon)
    parts.append(
        _rows(
            FocusKind.DUE,
            Tab.OPPORTUNITIES,
            open_deals[soon],
            due[soon],
            until_due[soon],
            [
                text("why_due_today" if n == 0 else "why_due", lang, step=s, date=_day(d, lang), days=int(n))
                for s, d, n in zip(step[soon], due[soon], until_due[soon], strict=True)
            ],
            lang,
        )
    )
    closing = (expected >= as_of_ts) & (expected <= horizon)
    c = open_deals[closing]
    parts.append(
        _rows(
            FocusKind.CLOSING,
            Tab.OPPORTUNITIES,
            c,
            expected[closing],
            (expected[closing] - as_of_ts).dt.days,
            [
                text("why_closing", lang, date=_day(d, lang), stage=st.label(lang), amount=fmt_money(a, lang, currency))
                for d, st, a in zip(expected[closing], c["Stage"], c["Amount"], strict=True)
            ],
            lang,
        )
    )
    late = expected < as_of_ts
    lt = open_deals[late]
    until_close = (expected[late] - as_of_ts).dt.days
    parts.append(
        _rows(
            FocusKind.LATE,
            Tab.OPPORTUNITIES,
            lt,
            expected[late],
            until_close,
            [
                text(
                    "why_late",
                    lang,
                    date=_day(d, lang),
                    days=-int(n),
                    stage=st.label(lang),
                    amount=fmt_money(a, lang, currency),
                )
                for d, n, st, a in zip(expected[late], until_close, lt["Stage"], lt["Amount"], strict=True)
            ],
            lang,
        )
    )
    last = last_activity(open_deals, activities, as_of_ts)
    since = pd.to_datetime(open_deals["Stage Since"], errors="coerce")
    recent = last.where(last.notna(), since)
    stale = recent.notna() & (recent < as_of_ts - pd.Timedelta(days=int(settings.stale_days)))
    s = open_deals[stale]
    age = (recent[stale] - as_of_ts).dt.days
    parts.append(
        _rows(
            FocusKind.STALE,
            Tab.OPPORTUNITIES,
            s,
            recent[stale],
            age,
            [
                text("why_stale", lang, date=_day(d, lang), days=-int(n), stage=st.label(lang))
                for d, n, st in zip(recent[stale], age, s["Stage"], strict=True)
            ],
            lang,
        )
    )
    return pd.concat(parts, ignore_index=True)


def customer_focus(customers: pd.DataFrame, as_of: Any, lang: Lang | str = Lang.EN) -> pd.DataFrame:
    """Main or important customers who went from E to S (module docstring).

    In: one row per customer: ``ID``, ``Owner``, ``nesl_before`` and ``nesl`` (NESL, the
    class ``days`` ago and now), ``main_before`` (bool: a main customer back then, while
    E), ``important`` (bool, now) and ``last_purchase`` (datetime64).
    Out: :data:`FOCUS_COLUMNS`; ``days`` is minus the days since the last purchase.
    """
    lang = lang_of(lang)
    as_of_ts = pd.Timestamp(as_of).normalize()
    slipped = (customers["nesl_before"] == NESL.E) & (customers["nesl"] == NESL.S)
    worth = customers["main_before"].astype(bool) | customers["important"].astype(bool)
    picked = customers[(slipped & worth).to_numpy(dtype=bool)]
    last = pd.to_datetime(picked["last_purchase"], errors="coerce")
    age = (last - as_of_ts).dt.days
    marks = [
        text("mark_join", lang).join([text("mark_main", lang)] * bool(m) + [text("mark_important", lang)] * bool(i))
        for m, i in zip(picked["main_before"], picked["important"], strict=True)
    ]
    why = [
        text("why_sleeping", lang, marks=mk, date=_day(d, lang), days=-int(n))
        for mk, d, n in zip(marks, last, age, strict=True)
    ]
    return _rows(FocusKind.SLEEPING, Tab.CONTACTS, picked, last, age, why, lang)


def gone_focus(customers: pd.DataFrame, as_of: Any, lang: Lang | str = Lang.EN) -> pd.DataFrame:
    """Customers whose own buying rhythm says they are likely gone (P(alive) below
    ``rhythm.gone_p``) while NESL's fixed windows still call them Existing or Sleeping:
    the ones a call may still keep.

    In: one row per customer: ``ID``, ``Owner``, ``nesl``, ``rhythm`` (:class:`Rhythm` or
    None), ``p_alive`` (float) and ``last_purchase`` (datetime64).
    Out: :data:`FOCUS_COLUMNS`; ``days`` is minus the days since the last purchase.
    """
    lang = lang_of(lang)
    as_of_ts = pd.Timestamp(as_of).normalize()
    gone = (customers["rhythm"] == Rhythm.LIKELY_GONE) & customers["nesl"].isin([NESL.E, NESL.S])
    picked = customers[gone.to_numpy(dtype=bool)]
    last = pd.to_datetime(picked["last_purchase"], errors="coerce")
    age = (last - as_of_ts).dt.days
    why = [
        text("why_gone", lang, p=f"{p:.2f}", date=_day(d, lang), days=-int(n), nesl=NESL(c).label(lang))
        for p, d, n, c in zip(picked["p_alive"], last, age, picked["nesl"], strict=True)
    ]
    return _rows(FocusKind.GONE, Tab.CONTACTS, picked, last, age, why, lang)


def focus_list(deal_rows: pd.DataFrame, customer_rows: pd.DataFrame, owner: str | None = None) -> pd.DataFrame:
    """The focus list: :func:`deal_focus` rows and customer rows (:func:`customer_focus`,
    :func:`gone_focus`) together, in kind order (overdue, due, closing, late, stale,
    sleeping, likely gone), then by date and ID; only
    ``owner``'s rows when given (matched ignoring case and surrounding spaces).
    Out: :data:`FOCUS_COLUMNS` with a fresh RangeIndex."""
    out = pd.concat([deal_rows, customer_rows], ignore_index=True)
    if owner is not None:
        wanted = owner.strip().casefold()
        out = out[out["owner"].map(lambda o: o is not None and str(o).strip().casefold() == wanted)]
    kind_order = {k: i for i, k in enumerate(FocusKind)}
    out = out.assign(_k=out["kind"].map(kind_order)).sort_values(["_k", "date", "id"], kind="stable")
    return out.drop(columns="_k").reset_index(drop=True)[list(FOCUS_COLUMNS)]
