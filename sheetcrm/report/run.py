"""The library entry points over a workbook: the monthly report, the quarter forecast and
the focus list. Each reads the workbook once (through its backend), then calls the pure
functions of :mod:`sheetcrm.report.monthly`, :mod:`sheetcrm.pipeline.forecast` and
:mod:`sheetcrm.pipeline.focus`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sheetcrm.backends.base import WriteReport
from sheetcrm.customers.rfm import customer_index
from sheetcrm.customers.rhythm import rhythm_table
from sheetcrm.customers.transactions import left_out_purchases, transactions
from sheetcrm.engine.bind import ROW
from sheetcrm.exceptions import Phrase, ReportError
from sheetcrm.i18n import N_
from sheetcrm.pipeline.focus import FOCUS_COLUMNS, customer_focus, deal_focus, focus_list, gone_focus
from sheetcrm.pipeline.forecast import NOT_A_QUARTER, ForecastBy, Quarter, deals_as_of, forecast_table, quarter_deals
from sheetcrm.pipeline.stages import deal_amounts
from sheetcrm.report.catalog import lang_of, text
from sheetcrm.report.monthly import MonthlyReport, build_report, customer_snapshot, last_complete_month
from sheetcrm.schema import Lang, Stage, Tab
from sheetcrm.workbook import Workbook, open_workbook

Progress = Callable[[str], None]
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _workbook(wb: Workbook | str | os.PathLike[str], credentials: Any = None) -> Workbook:
    return wb if isinstance(wb, Workbook) else open_workbook(wb, credentials=credentials)


def workbook_language(wb: Workbook) -> Lang:
    """The language the workbook's tabs are named in (Traditional Chinese when any CRM tab
    title has Chinese characters), else its ``language`` setting."""
    titles = [t.title for t in wb.tables.values()]
    if any(_CJK.search(title) for title in titles):
        return Lang.ZH_TW
    return lang_of(wb.settings.language)


def _typed(wb: Workbook) -> dict[Tab, pd.DataFrame]:
    """The typed tables the figures come from. A deal whose Stage cell holds a word that
    is no stage is left out (sync leaves it alone too): placed by its evidence alone it
    would count as a Lead, or in a stage nobody chose."""
    # A record not numbered yet carries the ID the references to it were linked with (the
    # one the next sync writes): a workbook never synced still has customers who bought.
    tables = {
        tab: wb.table(tab).assign(ID=wb.tables[tab].ids())
        for tab in (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES)
    }
    tables[Tab.OPPORTUNITIES] = tables[Tab.OPPORTUNITIES][~wb.tables[Tab.OPPORTUNITIES].unreadable("Stage")]
    return tables


def unstaged_deals(wb: Workbook) -> tuple[str, ...]:
    """The deals the forecast, focus list and report leave out because their Stage cell
    cannot be read (:func:`deal_names`)."""
    table = wb.tables[Tab.OPPORTUNITIES]
    return deal_names(wb, pd.Series(table.unreadable("Stage"), index=table.typed.index))


def undated_deals(wb: Workbook, deals: pd.DataFrame) -> tuple[str, ...]:
    """The deals of a deals frame (:func:`~sheetcrm.pipeline.forecast.deals_as_of`) no
    quarter can hold: open without a readable Expected Close, won without a Closed date."""
    stage = deals["Stage"]
    open_ = stage.map(lambda s: isinstance(s, Stage) and not s.is_closed).astype(bool)
    undated = (open_ & pd.to_datetime(deals["Expected Close"], errors="coerce").isna()) | (
        stage.isin([Stage.WON]) & pd.to_datetime(deals["Closed"], errors="coerce").isna()
    )
    return deal_names(wb, undated)


def deal_names(wb: Workbook, which: pd.Series) -> tuple[str, ...]:
    """Deals as people find them in the sheet: their name and ID, or their sheet row when
    they have no ID yet (``which``: bool on the Opportunities table's typed index)."""
    table = wb.tables[Tab.OPPORTUNITIES]
    picked = table.typed[which.reindex(table.typed.index, fill_value=False).to_numpy(dtype=bool)]
    return tuple(
        f"{name} ({rid if isinstance(rid, str) else f'{table.title}!{row}'})"
        for name, rid, row in zip(picked["Name"], picked["ID"], picked[ROW], strict=True)
    )


def _day(value: Any) -> pd.Timestamp:
    try:
        return pd.Timestamp(value if value is not None else pd.Timestamp.today()).normalize()
    except (ValueError, TypeError):
        raise ReportError(
            Phrase(N_("{value} is not a date; write it like 2026-10-31"), {"value": repr(value)})
        ) from None


def monthly_report(
    wb: Workbook | str | os.PathLike[str],
    month: Any = None,
    *,
    lang: Lang | str | None = None,
    include_pii: bool = False,
    credentials: Any = None,
    progress: Progress | None = None,
) -> MonthlyReport:
    """The owners' monthly segment report of ``month`` ("YYYY-MM"; default: the last
    complete month), computed as of its last day and compared with the month before.

    ``wb`` is a :class:`~sheetcrm.Workbook` or what :func:`sheetcrm.open` takes. ``lang``
    defaults to the workbook's (see :func:`workbook_language`). Names, emails and phones are
    left out unless ``include_pii``. Render the result with ``report.write(folder)`` or
    :mod:`sheetcrm.report.render`.
    """
    say = progress or (lambda _m: None)
    book = _workbook(wb, credentials)
    if month is None:
        period = last_complete_month()
    elif isinstance(month, pd.Period):
        period = month.asfreq("M")
    elif re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(month).strip()):
        period = pd.Period(str(month).strip(), freq="M")
    else:
        raise ReportError(Phrase(N_("{value} is not a month; write it like 2026-10"), {"value": repr(month)}))
    last = last_complete_month()
    if period > last:
        # Computed as of the month's last day, a month still running (or to come) would
        # count every customer's silence up to a day that has not come.
        raise ReportError(
            Phrase(
                N_("{month} has not ended yet; the last complete month is {last}"),
                {"month": str(period), "last": str(last)},
            )
        )
    use = lang_of(lang) if lang is not None else workbook_language(book)
    say(text("progress_month", use, date=str(period.end_time.date())))
    from sheetcrm.exceptions import shown

    tables = _typed(book)
    if include_pii:  # show what people typed (a phone as written, not its normalised form)
        table = book.tables[Tab.CONTACTS]
        tables[Tab.CONTACTS] = tables[Tab.CONTACTS].assign(
            **{
                key: table.raw_column(key).map(lambda v: None if v is None or v == "" else str(v))
                for key in ("Name", "Email", "Phone")
            }
        )
    report = build_report(tables, book.settings, period, lang=use, include_pii=include_pii, source=shown(book.location))
    missed = left_out_purchases(
        tables[Tab.ACTIVITIES], period.end_time, tables[Tab.CONTACTS]["ID"], tables[Tab.COMPANIES]["ID"]
    )
    return dataclasses.replace(
        report, unstaged=unstaged_deals(book), contacts_tab=book.tables[Tab.CONTACTS].title, left_out=missed
    )


def write_report_tab(wb: Workbook, report: MonthlyReport) -> tuple[str, WriteReport]:
    """Write ``report`` as the ``Report YYYY-MM`` tab (``報告 YYYY-MM`` in Chinese) of the
    workbook through its backend, in one write; a second run replaces the tab. Returns the
    tab title and what the backend did."""
    from sheetcrm.report.render import tab_rows

    title = text("report_tab", report.lang, month=str(report.month))
    return title, wb.backend.replace_tab(title, tab_rows(report))


@dataclass
class Forecast:
    """A quarter's forecast: ``table`` (one row per owner or stage, see
    :func:`~sheetcrm.pipeline.forecast.forecast_table`) and ``deals`` (the deals in the
    quarter: ID, Name, Owner, Stage, date, amount, Probability, weighted, won)."""

    quarter: Quarter
    as_of: pd.Timestamp
    by: ForecastBy
    table: pd.DataFrame
    deals: pd.DataFrame
    #: The workbook's language (for headers shown to people).
    lang: Lang = Lang.EN
    #: Deals left out because their Stage cannot be read (:func:`unstaged_deals`).
    unstaged: tuple[str, ...] = ()
    #: Deals no quarter can hold for want of a date (:func:`undated_deals`).
    undated: tuple[str, ...] = ()
    #: Deals of the quarter without an Amount that can be read: they count as 0.
    unpriced: tuple[str, ...] = ()


def forecast(
    wb: Workbook | str | os.PathLike[str],
    quarter: Quarter | str | None = None,
    *,
    by: ForecastBy | str = ForecastBy.OWNER,
    as_of: Any = None,
    credentials: Any = None,
) -> Forecast:
    """The weighted forecast of ``quarter`` ("2026Q4"; default: the quarter of ``as_of``)
    as of ``as_of`` (default today): won to date, open, weighted, commit and best case per
    owner or stage, and the deals of the quarter."""
    book = _workbook(wb, credentials)
    day = _day(as_of)
    try:
        q = quarter if isinstance(quarter, Quarter) else (Quarter.parse(quarter) if quarter else Quarter.of(day))
    except ValueError:  # only Quarter.parse raises it
        raise ReportError(Phrase(NOT_A_QUARTER, {"text": repr(quarter)})) from None
    tables = _typed(book)
    deals = deals_as_of(tables[Tab.OPPORTUNITIES], tables[Tab.ACTIVITIES], day, book.settings)
    in_quarter = quarter_deals(deals, q, day)
    listed = in_quarter[["ID", "Name", "Owner", "Stage", "date", "amount", "Probability", "weighted", "won"]]
    no_amount = np.isnan(deal_amounts(deals["Amount"])) & deals.index.isin(in_quarter.index)
    return Forecast(
        q,
        day,
        ForecastBy(by),
        forecast_table(deals, q, day, by),
        listed.reset_index(drop=True),
        workbook_language(book),
        unstaged_deals(book),
        undated_deals(book, deals),
        deal_names(book, pd.Series(no_amount, index=deals.index)),
    )


def focus(
    wb: Workbook | str | os.PathLike[str],
    days: int = 7,
    *,
    owner: str | None = None,
    as_of: Any = None,
    lang: Lang | str | None = None,
    credentials: Any = None,
) -> pd.DataFrame:
    """The focus list for the next ``days`` days from ``as_of`` (default today), for one
    ``owner`` or everyone: columns ``kind, tab, id, owner, date, days, why, todo`` (see
    :mod:`sheetcrm.pipeline.focus`), ``why`` and ``todo`` in ``lang`` (default: the
    workbook's). Customers appear by ID only."""
    book = _workbook(wb, credentials)
    day = _day(as_of)
    use = lang_of(lang) if lang is not None else workbook_language(book)
    tables = _typed(book)
    contacts, acts, opps = tables[Tab.CONTACTS], tables[Tab.ACTIVITIES], tables[Tab.OPPORTUNITIES]
    deals = deals_as_of(opps, acts, day, book.settings)
    deal_rows = deal_focus(deals, acts, day, book.settings, days=days, lang=use, currency=book.settings.currency)
    now = customer_snapshot(contacts, acts, opps, day, book.settings)
    before = customer_snapshot(contacts, acts, opps, day - pd.Timedelta(days=int(days)), book.settings)
    first = contacts[contacts["ID"].notna() & ~contacts["ID"].duplicated(keep="first")].set_index("ID")
    customers = pd.DataFrame(
        {
            "ID": now.index.to_numpy(dtype=object),
            "Owner": first["Owner"].reindex(now.index).to_numpy(dtype=object),
            "nesl_before": before["nesl"].reindex(now.index).to_numpy(dtype=object),
            "nesl": now["nesl"].to_numpy(dtype=object),
            "main_before": before["main"].reindex(now.index).fillna(False).to_numpy(dtype=bool),
            "important": now["important"].to_numpy(dtype=bool),
            "last_purchase": now["last_purchase"].to_numpy(),
        }
    )
    tx = transactions(acts, opps, day)
    rhythm = rhythm_table(tx, customer_index(contacts["ID"]), "contact_id", day, book.settings).table
    customers["rhythm"] = rhythm["rhythm"].reindex(now.index).to_numpy(dtype=object)
    customers["p_alive"] = rhythm["p_alive"].reindex(now.index).to_numpy(dtype="float64")
    customer_rows = pd.concat([customer_focus(customers, day, use), gone_focus(customers, day, use)], ignore_index=True)
    out = focus_list(deal_rows, customer_rows, owner=owner)[list(FOCUS_COLUMNS)]
    out.attrs["lang"] = str(use)
    out.attrs["unstaged"] = unstaged_deals(book)
    return out


@dataclass
class ReportRun:
    """What :func:`run_report` made: the report, the files written and the tab written
    (title, or None without ``tab``)."""

    report: MonthlyReport
    paths: list[Any]
    tab: str | None


def run_report(
    target: Workbook | str | os.PathLike[str],
    month: Any = None,
    *,
    out: Any = ".",
    formats: tuple[str, ...] = ("html", "md", "csv"),
    lang: Lang | str | None = None,
    tab: bool = False,
    include_pii: bool = False,
    credentials: Any = None,
    progress: Progress | None = None,
) -> ReportRun:
    """The ``sheetcrm report`` job: compute the month's report, write it in each of
    ``formats`` into ``out``, and with ``tab`` write the ``Report YYYY-MM`` tab into the
    workbook (one backend write, replacing an earlier one)."""
    from sheetcrm.exceptions import shown
    from sheetcrm.report.render import Format

    say = progress or (lambda _m: None)
    try:
        wanted = tuple(Format(f.strip()) for f in formats if f.strip())
    except ValueError:
        raise ReportError(
            Phrase(N_("unknown format in {formats}; use html, md, csv or xlsx"), {"formats": repr(",".join(formats))})
        ) from None
    book = _workbook(target, credentials)
    say(text("progress_reading", lang_of(lang) if lang else workbook_language(book), location=shown(book.location)))
    report = monthly_report(book, month, lang=lang, include_pii=include_pii, progress=say)
    say(text("progress_render", report.lang, fmt=",".join(wanted)))
    paths = report.write(out, tuple(str(f) for f in wanted))
    title = write_report_tab(book, report)[0] if tab else None
    return ReportRun(report, paths, title)
