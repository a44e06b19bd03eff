"""The texts the report, forecast and focus list show a person, by key, and how numbers
are written in them.

The report names its texts by key (templates and tables pick them by name, e.g.
``col_<field>``), so the English messages sit here, marked for the one catalog
(:mod:`sheetcrm.i18n`), and :func:`text` translates them there. Vocabulary labels
(stages, NESL, segments, tiers, lifecycle) come from the schema's enums.
"""

from __future__ import annotations

from typing import Any, Final

from sheetcrm.i18n import N_, tr
from sheetcrm.schema import Lang

MESSAGES: Final[dict[str, str]] = {
    "title": N_("Monthly segment report {month}"),
    "subtitle": N_("As of {end}, compared with {prev_end}. Customers are the people of the {tab} tab ({customers})."),
    "generated": N_("Made by sheetcrm from {source}."),
    "pii_hidden": N_(
        "Customers are shown by ID only; names, emails and phones are left out (use --include-pii to show them)."
    ),
    "pii_shown": N_("This report contains names, emails and phone numbers: share it with care."),
    "contents": N_("Contents"),
    "headline": N_("This month at a glance"),
    "kpi_customers": N_("Buying customers"),
    "kpi_revenue": N_("Revenue, last {months} months"),
    "kpi_slipped": N_("Went to sleep (E→S)"),
    "kpi_back": N_("Came back (S/L→E)"),
    "kpi_first": N_("First purchase (N→E)"),
    "kpi_won": N_("Won this month"),
    "kpi_forecast": N_("Weighted forecast {quarter}"),
    "kpi_pareto": N_("Revenue from the top 20%"),
    "vs_prev": N_("{delta} since last month"),
    "nesl_title": N_("New, existing, sleeping, lost (NESL)"),
    "nesl_intro": N_(
        "How many customers are in each class at the month end, and who moved between classes since last month."
    ),
    "nesl_chart": N_("Customers by NESL class"),
    "moves_title": N_("Moves since last month"),
    "matrix_caption": N_("Rows: class at the previous month end; columns: class at this month end."),
    "from_to": N_("last month ↓ / now →"),
    "move_potential_divorce": N_("potential divorce"),
    "move_divorce": N_("divorce"),
    "move_win_back": N_("came back"),
    "move_first_purchase": N_("first purchase"),
    "move_new_record": N_("new in the sheet"),
    "move_other": N_("other move"),
    "move": N_("Move"),
    "segments_title": N_("RFM segments"),
    "segments_intro": N_(
        "Customers and their revenue (last {months} months) per segment, with the change since last month."
    ),
    "segments_chart": N_("Revenue by RFM segment"),
    "tiers_title": N_("Value pyramid and the 80/20 check"),
    "tiers_chart": N_("Customers per value tier"),
    "pareto_chart": N_("Share of revenue by share of buyers"),
    "pareto_holds": N_("The top 20% of buyers ({top} of {buyers}) bring {share} of revenue: the 80/20 rule holds."),
    "pareto_fails": N_(
        "The top 20% of buyers ({top} of {buyers}) bring {share} of revenue: less than 80%, revenue is spread wider."
    ),
    "pareto_none": N_("No revenue in the window: no 80/20 check."),
    "buyers_axis": N_("Share of buyers, highest value first"),
    "revenue_axis": N_("Share of revenue"),
    "lifecycle_title": N_("Customer lifecycle"),
    "lifecycle_chart": N_("Customers per lifecycle stage"),
    "funnel_title": N_("Pipeline funnel"),
    "funnel_intro": N_(
        "Deals by stage at the month end; conversion is the share of deals that reached a stage and"
        " went on to the next."
    ),
    "funnel_chart": N_("Deals reaching each stage"),
    "undated": N_(
        "{n} deal(s) in no quarter for want of a date: {deals}; fill Expected Close (open deals) or"
        " Closed (won deals) with a date that has its year"
    ),
    "unpriced": N_("{n} deal(s) of the quarter have no Amount that can be read and count as 0: {deals}"),
    "unstaged": N_(
        "{n} deal(s) left out, their Stage is not a stage sheetcrm knows: {deals}; write one of the stages"
        " of the Settings tab ('sheetcrm validate' lists them)"
    ),
    "won_lost_title": N_("Won and lost, this month and last"),
    "forecast_title": N_("Forecast for {quarter}"),
    "forecast_intro": N_(
        "Deals closing in the quarter, as of {as_of}: won so far, open pipeline weighted by stage"
        " probability, commit (deals in Negotiation) and best case (every open deal won)."
    ),
    "forecast_chart": N_("Won and weighted pipeline by owner"),
    "movers_title": N_("Customers who moved most"),
    "movers_intro": N_("Customers whose NESL class changed, the most valuable first."),
    "none": N_("None."),
    "total": N_("Total"),
    "no_owner": N_("(no owner)"),
    "more_rows": N_("... and {n} more."),
    "more_names": N_("and {n} more"),
    "col_id": N_("ID"),
    "col_deal": N_("Deal"),
    "col_name": N_("Name"),
    "col_email": N_("Email"),
    "col_phone": N_("Phone"),
    "col_nesl": N_("NESL"),
    "col_nesl_prev": N_("NESL last month"),
    "col_segment": N_("Segment"),
    "col_segment_prev": N_("Segment last month"),
    "col_tier": N_("Tier"),
    "col_lifecycle": N_("Lifecycle"),
    "col_monetary": N_("Monetary"),
    "col_change": N_("Changed since last month"),
    "col_class": N_("Class"),
    "col_customers": N_("Customers"),
    "col_customers_prev": N_("Last month"),
    "col_delta": N_("Change"),
    "col_revenue": N_("Revenue"),
    "col_revenue_prev": N_("Revenue last month"),
    "col_revenue_delta": N_("Revenue change"),
    "col_share": N_("Share of revenue"),
    "col_stage": N_("Stage"),
    "col_deals": N_("Deals"),
    "col_amount": N_("Amount"),
    "col_reached": N_("Reached"),
    "col_conversion": N_("To next stage"),
    "col_owner": N_("Owner"),
    "col_won": N_("Deals won"),
    "col_won_deal": N_("Won"),
    "col_won_amount": N_("Won amount"),
    "col_lost": N_("Lost"),
    "col_won_prev": N_("Won last month"),
    "col_won_amount_prev": N_("Won amount last month"),
    "col_lost_prev": N_("Lost last month"),
    "col_won_to_date": N_("Won to date"),
    "col_open_deals": N_("Open deals"),
    "col_pipeline": N_("Open amount"),
    "col_weighted": N_("Weighted"),
    "col_commit": N_("Commit"),
    "col_best_case": N_("Best case"),
    "col_forecast": N_("Forecast"),
    "col_expected_close": N_("Expected close"),
    "col_closed": N_("Closed"),
    "col_probability": N_("Probability"),
    "col_days": N_("Days from today"),
    "col_kind": N_("What"),
    "col_record": N_("Record"),
    "col_date": N_("Date"),
    "col_why": N_("Why"),
    "col_todo": N_("What to do"),
    "focus_due": N_("next step due"),
    "focus_overdue": N_("next step overdue"),
    "focus_stale": N_("stale deal"),
    "focus_closing": N_("expected to close"),
    "focus_late": N_("past expected close"),
    "focus_sleeping": N_("customer went to sleep"),
    "focus_gone": N_("customer likely gone"),
    "why_due": N_("next step '{step}' is due {date} (in {days} day(s))"),
    "why_due_today": N_("next step '{step}' is due today"),
    "focus_none": N_("Nothing due in the next {days} day(s): no overdue step, no deal closing, no customer slipping."),
    "why_overdue": N_("next step '{step}' was due {date} ({days} day(s) ago)"),
    "why_stale": N_("no activity since {date} ({days} days) in stage {stage}"),
    "why_closing": N_("expected to close {date}, {stage}, amount {amount}"),
    "why_late": N_("expected to close {date} ({days} day(s) ago), still {stage}, amount {amount}"),
    "why_gone": N_(
        "P(alive) {p} by their own buying rhythm, last purchase {date} ({days} days ago), still {nesl} by NESL"
    ),
    "why_sleeping": N_("{marks} customer, last purchase {date} ({days} days ago): went from E to S"),
    "todo_due": N_("do the next step, then set a new one"),
    "todo_overdue": N_("do it now or set a new date"),
    "todo_stale": N_("call the customer and log the activity, or close the deal as Lost"),
    "todo_closing": N_("confirm the close date with the customer"),
    "todo_late": N_("mark it Won or Lost, or set a new Expected Close"),
    "todo_gone": N_("reach out now, before the fixed NESL windows call them lost"),
    "todo_sleeping": N_("call before they are lost; offer what they bought last"),
    "mark_main": N_("main"),
    "mark_important": N_("important"),
    "mark_join": N_(" and "),
    "no_date": N_("(no date)"),
    "no_step": N_("(none written)"),
    "wrote": N_("Wrote {path}"),
    "wrote_tab": N_("Wrote tab '{title}' ({rows} rows) into {location}"),
    "report_tab": N_("Report {month}"),
    "progress_reading": N_("reading {location}"),
    "progress_month": N_("computing customers as of {date}"),
    "progress_pipeline": N_("computing the pipeline"),
    "progress_render": N_("writing {fmt}"),
}


def lang_of(lang: Lang | str | None) -> Lang:
    """``lang`` as a :class:`Lang` (English for None or anything unknown)."""
    return Lang.ZH_TW if str(lang) == Lang.ZH_TW else Lang.EN


def text(key: str, lang: Lang | str, **fields: Any) -> str:
    """Message ``key`` in ``lang`` with ``fields`` filled in. Raises ``KeyError`` for an
    unknown key (a typo must fail in the tests, not show a blank)."""
    return tr(lang_of(lang), MESSAGES[key], **fields)


#: How many deals a "left out" line names before it counts the rest.
LISTED = 10


def listed(names: tuple[str, ...] | list[str], lang: Lang | str, limit: int = LISTED) -> str:
    """``names`` joined for a line of text, the first ``limit`` of them and a count of the rest."""
    shown = ", ".join(names[:limit])
    rest = len(names) - limit
    return shown if rest <= 0 else shown + ", " + text("more_names", lang, n=rest)


def fmt_money(value: Any, lang: Lang | str = Lang.EN, currency: str = "") -> str:
    """An amount as people read it: thousands separators, no decimals for whole amounts,
    two otherwise, the currency code in front when given; a missing amount is "–"."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "–"
    if number != number:
        return "–"
    body = f"{number:,.0f}" if round(number, 2).is_integer() else f"{number:,.2f}"
    return f"{currency} {body}" if currency else body


def fmt_count(value: Any) -> str:
    return f"{int(value):,}"


def fmt_delta(value: Any, money: bool = False) -> str:
    """A change with its sign (+3, −2, 0)."""
    number = float(value)
    if number == 0:
        return "0"
    body = fmt_money(abs(number)) if money else f"{abs(round(number)):,}"
    return ("+" if number > 0 else "−") + body


def fmt_share(value: Any) -> str:
    """A 0–1 share as a percent with one decimal; missing is "–"."""
    if value is None or value != value:
        return "–"
    return f"{float(value) * 100:.1f}%"
