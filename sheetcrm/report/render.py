"""Render a :class:`~sheetcrm.report.monthly.MonthlyReport` for people: HTML (one
self-contained page), Markdown (a CI job summary), CSV (one row per customer) and the rows
of a report tab. Texts come from :mod:`sheetcrm.report.catalog`; pages are Jinja2
templates shipped with the package; charts are matplotlib SVG.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from sheetcrm.customers import notices
from sheetcrm.report import charts
from sheetcrm.report.catalog import fmt_count, fmt_delta, fmt_money, fmt_share, listed, text
from sheetcrm.schema import NESL, LabeledEnum, Lang, Stage, Tab

if TYPE_CHECKING:
    from sheetcrm.report.monthly import MonthlyReport

#: GitHub Actions' limit for one job summary.
MARKDOWN_LIMIT: Final = 1024 * 1024
#: Rows a Markdown table shows before "... and N more".
MARKDOWN_ROWS: Final = 25
#: First characters that make a spreadsheet read a CSV cell as a formula.
CSV_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")


class Format(StrEnum):
    HTML = "html"
    MD = "md"
    CSV = "csv"
    XLSX = "xlsx"


class Kind(StrEnum):
    """How a column's values are shown."""

    TEXT = "text"
    COUNT = "count"
    DELTA = "delta"
    MONEY = "money"
    MONEY_DELTA = "money_delta"
    SHARE = "share"


@dataclass
class Table:
    """A table as people see it: localised headers, raw cell values, a kind per column."""

    key: str
    headers: list[str]
    kinds: list[Kind]
    rows: list[list[Any]]
    caption: str = ""
    more: int = 0

    def formatted(self, currency: str = "") -> list[list[str]]:
        return [[fmt(v, k, currency) for v, k in zip(row, self.kinds, strict=True)] for row in self.rows]

    @property
    def numeric(self) -> list[bool]:
        return [k is not Kind.TEXT for k in self.kinds]


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    charts: list[tuple[str, Markup]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def fmt(value: Any, kind: Kind, currency: str = "") -> str:
    """One cell as text."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if kind is Kind.COUNT:
        return fmt_count(value)
    if kind is Kind.DELTA:
        return fmt_delta(value)
    if kind is Kind.MONEY:
        return fmt_money(value)
    if kind is Kind.MONEY_DELTA:
        return fmt_delta(value, money=True)
    if kind is Kind.SHARE:
        return fmt_share(value)
    return str(value)


def label(value: Any, lang: Lang | str) -> Any:
    """An enum member in ``lang`` (NESL as "E 既有顧客" / "E Existing"); other values as given."""
    if isinstance(value, NESL):
        return f"{value.value} {value.zh if str(lang) == Lang.ZH_TW else value.aliases[0]}"
    if isinstance(value, LabeledEnum):
        return value.label(lang)
    return value


def _owner(value: Any, lang: Lang) -> str:
    return text("no_owner", lang) if value is None or (isinstance(value, float) and value != value) else str(value)


def _move_text(move: Any, lang: Lang) -> str:
    return "" if move is None else text(f"move_{move.value}", lang)


# ------------------------------------------------------------------ the sections


def sections(r: MonthlyReport, with_charts: bool = True) -> list[Section]:
    """Every section of the report, localised, with charts (SVG) when asked."""
    lang = r.lang

    def t(key: str, **kw: Any) -> str:
        return text(key, lang, **kw)

    def svg(s: str) -> Markup:
        return Markup(s)

    now_l, prev_l = str(r.end.date()), str(r.prev_end.date())
    out: list[Section] = []

    # NESL
    nesl = Section("nesl", t("nesl_title"), t("nesl_intro"))
    if with_charts:
        nesl.charts.append(
            (
                t("nesl_chart"),
                svg(
                    charts.grouped_bars(
                        [label(n, lang) for n in r.nesl["nesl"]], r.nesl["customers"], r.nesl["prev"], now_l, prev_l
                    )
                ),
            )
        )
    nesl.tables.append(
        Table(
            "nesl",
            [t("col_class"), t("col_customers"), t("col_customers_prev"), t("col_delta")],
            [Kind.TEXT, Kind.COUNT, Kind.COUNT, Kind.DELTA],
            [[label(n, lang), c, p, d] for n, c, p, d in r.nesl.itertuples(index=False)],
        )
    )
    nesl.tables.append(
        Table(
            "moves",
            [t("move"), t("col_class"), t("col_customers")],
            [Kind.TEXT, Kind.TEXT, Kind.COUNT],
            [[_move_text(m, lang), f"{f}→{to}", c] for m, f, to, c in r.moves.itertuples(index=False)],
            caption=t("moves_title"),
        )
    )
    nesl.tables.append(
        Table(
            "matrix",
            [t("from_to"), *(str(n) for n in r.matrix.columns)],
            [Kind.TEXT] + [Kind.COUNT] * 4,
            [[label(f, lang), *row] for f, row in zip(r.matrix.index, r.matrix.to_numpy().tolist(), strict=True)],
            caption=t("matrix_caption"),
        )
    )
    out.append(nesl)

    # RFM segments
    seg = Section("segments", t("segments_title"), t("segments_intro", months=r.lookback_months))
    if with_charts:
        shown = r.segments[r.segments["revenue"] != 0] if (r.segments["revenue"] != 0).any() else r.segments
        seg.charts.append(
            (
                t("segments_chart"),
                svg(
                    charts.hbars(
                        [label(s, lang) for s in shown["segment"]],
                        shown["revenue"],
                        [fmt_money(v) for v in shown["revenue"]],
                    )
                ),
            )
        )
    seg.tables.append(
        Table(
            "segments",
            [t("col_segment"), t("col_customers"), t("col_delta"), t("col_revenue"), t("col_revenue_delta")],
            [Kind.TEXT, Kind.COUNT, Kind.DELTA, Kind.MONEY, Kind.MONEY_DELTA],
            [
                [label(s.segment, lang), s.customers, s.delta, s.revenue, s.revenue_delta]
                for s in r.segments.itertuples(index=False)
            ],
        )
    )
    out.append(seg)

    # Tiers and 80/20
    p = r.pareto
    tiers = Section("tiers", t("tiers_title"))
    if p["top_share"] is None:
        tiers.notes.append(t("pareto_none"))
    else:
        tiers.notes.append(
            t(
                "pareto_holds" if p["holds"] else "pareto_fails",
                top=fmt_count(p["top_count"]),
                buyers=fmt_count(p["buyers"]),
                share=fmt_share(p["top_share"]),
            )
        )
    if r.left_out is not None and (r.left_out.undated or r.left_out.unlinked):
        tiers.notes.append(notices.left_out(*r.left_out).text(lang))
    if with_charts:
        tiers.charts.append(
            (
                t("tiers_chart"),
                svg(charts.pyramid([label(x, lang) for x in r.tiers["tier"][:-1]], r.tiers["customers"][:-1])),
            )
        )
        tiers.charts.append(
            (
                t("pareto_chart"),
                svg(
                    charts.lorenz(
                        r.lorenz["buyers_share"], r.lorenz["revenue_share"], t("buyers_axis"), t("revenue_axis")
                    )
                ),
            )
        )
    tiers.tables.append(
        Table(
            "tiers",
            [t("col_tier"), t("col_customers"), t("col_revenue"), t("col_share")],
            [Kind.TEXT, Kind.COUNT, Kind.MONEY, Kind.SHARE],
            [[label(x.tier, lang), x.customers, x.revenue, x.share] for x in r.tiers.itertuples(index=False)],
        )
    )
    out.append(tiers)

    # Lifecycle
    life = Section("lifecycle", t("lifecycle_title"))
    if with_charts:
        life.charts.append(
            (
                t("lifecycle_chart"),
                svg(
                    charts.hbars(
                        [label(x, lang) for x in r.lifecycle["lifecycle"]],
                        r.lifecycle["customers"],
                        [fmt_count(v) for v in r.lifecycle["customers"]],
                    )
                ),
            )
        )
    life.tables.append(
        Table(
            "lifecycle",
            [t("col_lifecycle"), t("col_customers"), t("col_customers_prev"), t("col_delta")],
            [Kind.TEXT, Kind.COUNT, Kind.COUNT, Kind.DELTA],
            [[label(x, lang), c, pv, d] for x, c, pv, d in r.lifecycle.itertuples(index=False)],
        )
    )
    out.append(life)

    # Pipeline
    pipe = Section("pipeline", t("funnel_title"), t("funnel_intro"))
    main = r.funnel[r.funnel["Stage"] != Stage.LOST]
    if with_charts:
        pipe.charts.append(
            (
                t("funnel_chart"),
                svg(
                    charts.funnel(
                        [label(s, lang) for s in main["Stage"]],
                        main["reached"],
                        [("→ " + fmt_share(c)) if c == c else "" for c in main["conversion"]],
                    )
                ),
            )
        )
    pipe.tables.append(
        Table(
            "funnel",
            [t("col_stage"), t("col_deals"), t("col_amount"), t("col_weighted"), t("col_reached"), t("col_conversion")],
            [Kind.TEXT, Kind.COUNT, Kind.MONEY, Kind.MONEY, Kind.COUNT, Kind.SHARE],
            [
                [label(f.Stage, lang), f.deals, f.amount, f.weighted, f.reached, f.conversion]
                for f in r.funnel.itertuples(index=False)
            ],
        )
    )
    pipe.tables.append(
        Table(
            "won_lost",
            [
                t("col_owner"),
                t("col_won"),
                t("col_won_amount"),
                t("col_lost"),
                t("col_won_prev"),
                t("col_won_amount_prev"),
                t("col_lost_prev"),
            ],
            [Kind.TEXT, Kind.COUNT, Kind.MONEY, Kind.COUNT, Kind.COUNT, Kind.MONEY, Kind.COUNT],
            [
                [_owner(w.Owner, lang), w.won, w.won_amount, w.lost, w.won_prev, w.won_amount_prev, w.lost_prev]
                for w in r.won_lost.itertuples(index=False)
            ],
            caption=t("won_lost_title"),
        )
    )
    if r.unstaged:
        pipe.notes.append(t("unstaged", n=len(r.unstaged), deals=listed(r.unstaged, lang)))
    out.append(pipe)

    fc = Section("forecast", t("forecast_title", quarter=str(r.quarter)), t("forecast_intro", as_of=str(r.end.date())))
    if with_charts and len(r.forecast):
        fc.charts.append(
            (
                t("forecast_chart"),
                svg(
                    charts.stacked_hbars(
                        [_owner(o, lang) for o in r.forecast["Owner"]],
                        r.forecast["won"],
                        r.forecast["weighted"],
                        t("col_won_to_date"),
                        t("col_weighted"),
                    )
                ),
            )
        )
    fc.tables.append(forecast_display(r.forecast, lang, "Owner"))
    out.append(fc)

    # Movers
    mv = Section("movers", t("movers_title"), t("movers_intro"))
    pii = ["Name", "Email", "Phone"] if r.include_pii else []
    headers = [
        t("col_id"),
        *(t(f"col_{c.lower()}") for c in pii),
        t("move"),
        t("col_nesl_prev"),
        t("col_nesl"),
        t("col_segment_prev"),
        t("col_segment"),
        t("col_monetary"),
    ]
    kinds = [Kind.TEXT] * (6 + len(pii)) + [Kind.MONEY]
    rows = []
    for m in r.movers.itertuples(index=False):
        extra = [_pii(r, m.ID, c) for c in pii]
        rows.append(
            [
                m.ID,
                *extra,
                _move_text(m.move, lang),
                label(m.nesl_prev, lang),
                label(m.nesl, lang),
                label(m.segment_prev, lang),
                label(m.segment, lang),
                m.monetary,
            ]
        )
    mv.tables.append(Table("movers", headers, kinds, rows, more=r.movers_total - len(r.movers)))
    out.append(mv)
    return out


def _pii(r: MonthlyReport, cid: Any, column: str) -> Any:
    if r.pii.empty or cid not in r.pii.index:
        return None
    v = r.pii.at[cid, column]
    return None if v is None or (isinstance(v, float) and v != v) else str(v)


def forecast_display(frame: pd.DataFrame, lang: Lang | str, key: str) -> Table:
    """A forecast table (:func:`~sheetcrm.pipeline.forecast.forecast_table`) with a total row."""

    def t(k: str) -> str:
        return text(k, lang)

    rows = [
        [
            _owner(row[key], Lang(str(lang))) if key == "Owner" else label(row[key], lang),
            row["deals_won"],
            row["won"],
            row["deals_open"],
            row["open"],
            row["weighted"],
            row["commit"],
            row["best_case"],
            row["forecast"],
        ]
        for _, row in frame.iterrows()
    ]
    sums = frame.drop(columns=[key]).sum(numeric_only=True)
    rows.append(
        [
            t("total"),
            *(
                sums[c]
                for c in ("deals_won", "won", "deals_open", "open", "weighted", "commit", "best_case", "forecast")
            ),
        ]
    )
    return Table(
        "forecast",
        [
            t("col_owner" if key == "Owner" else "col_stage"),
            t("col_won"),
            t("col_won_to_date"),
            t("col_open_deals"),
            t("col_pipeline"),
            t("col_weighted"),
            t("col_commit"),
            t("col_best_case"),
            t("col_forecast"),
        ],
        [Kind.TEXT, Kind.COUNT, Kind.MONEY, Kind.COUNT, Kind.MONEY, Kind.MONEY, Kind.MONEY, Kind.MONEY, Kind.MONEY],
        rows,
    )


#: Column keys of the library's frames -> catalog keys of their headers.
HEADERS: Final[dict[str, str]] = {
    "Owner": "col_owner",
    "Stage": "col_stage",
    "ID": "col_id",
    "Name": "col_deal",
    "deals_won": "col_won",
    "won": "col_won_to_date",
    "deals_open": "col_open_deals",
    "open": "col_pipeline",
    "weighted": "col_weighted",
    "commit": "col_commit",
    "best_case": "col_best_case",
    "forecast": "col_forecast",
    "date": "col_date",
    "amount": "col_amount",
    "Probability": "col_probability",
    "won_deal": "col_won_deal",
    "kind": "col_kind",
    "tab": "col_record",
    "id": "col_id",
    "name": "col_deal",
    "owner": "col_owner",
    "days": "col_days",
    "why": "col_why",
    "todo": "col_todo",
}


def display_frame(frame: pd.DataFrame, lang: Lang | str) -> pd.DataFrame:
    """``frame`` with its column keys replaced by their headers in ``lang`` (for people;
    CSV and JSON keep the keys)."""
    return frame.rename(columns={k: text(v, lang) for k, v in HEADERS.items() if k in frame.columns})


def kpis(r: MonthlyReport) -> list[tuple[str, str, str]]:
    """The headline cards: (label, figure, note)."""
    lang, h = r.lang, r.headline()
    return [
        (text("kpi_customers", lang), fmt_count(h["buyers"]), ""),
        (text("kpi_revenue", lang, months=r.lookback_months), fmt_money(h["revenue"]), r.currency),
        (text("kpi_slipped", lang), fmt_count(h["slipped"]), ""),
        (text("kpi_back", lang), fmt_count(h["back"]), ""),
        (text("kpi_first", lang), fmt_count(h["first"]), ""),
        (text("kpi_won", lang), fmt_count(h["won"]), text("vs_prev", lang, delta=fmt_delta(h["won"] - h["won_prev"]))),
        (text("kpi_forecast", lang, quarter=str(r.quarter)), fmt_money(h["forecast"]), r.currency),
        (text("kpi_pareto", lang), fmt_share(h["top_share"]), ""),
    ]


# ------------------------------------------------------------------ renderers


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sheetcrm.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_cell
    return env


def _context(r: MonthlyReport, with_charts: bool) -> dict[str, Any]:
    lang = r.lang
    return {
        "r": r,
        "lang": lang,
        "html_lang": "zh-Hant-TW" if lang == Lang.ZH_TW else "en",
        "t": lambda key, **kw: text(key, lang, **kw),
        "title": text("title", lang, month=str(r.month)),
        "subtitle": text(
            "subtitle",
            lang,
            end=str(r.end.date()),
            prev_end=str(r.prev_end.date()),
            customers=fmt_count(len(r.customers)),
            tab=r.contacts_tab or Tab.CONTACTS.label(lang),
        ),
        "privacy": text("pii_shown" if r.include_pii else "pii_hidden", lang),
        "kpis": kpis(r),
        "sections": sections(r, with_charts),
        "currency": r.currency,
    }


def to_html(r: MonthlyReport) -> str:
    """The report as one self-contained HTML page (styles and SVG charts inline)."""
    return _env().get_template("report.html.j2").render(**_context(r, True))


def md_cell(value: Any) -> str:
    """A Markdown table cell: pipes, backslashes and the characters that start links,
    emphasis or HTML escaped, line breaks flattened."""
    s = " ".join(str(value).split())
    out = []
    for ch in s:
        if ch in "\\`*_[]<>|!#~&":
            out.append("\\" + ch if ch not in "<>&" else {"<": "&lt;", ">": "&gt;", "&": "&amp;"}[ch])
        else:
            out.append(ch)
    return "".join(out)


def to_markdown(r: MonthlyReport) -> str:
    """The report as GitHub-flavoured Markdown, under :data:`MARKDOWN_LIMIT` bytes."""
    ctx = _context(r, False)
    for sec in ctx["sections"]:
        for table in sec.tables:
            if len(table.rows) > MARKDOWN_ROWS:
                table.more += len(table.rows) - MARKDOWN_ROWS
                table.rows = table.rows[:MARKDOWN_ROWS]
    md = _env().get_template("report.md.j2").render(**ctx)
    if len(md.encode("utf-8")) > MARKDOWN_LIMIT:  # cannot happen with capped tables; never hand CI a cut page
        from sheetcrm.exceptions import ReportError

        raise ReportError(f"the Markdown report is {len(md.encode())} bytes, over GitHub's 1 MiB limit")
    return md


def neutralise(value: Any) -> Any:
    """A CSV cell that a spreadsheet would run as a formula (= + - @ tab CR first) gets a
    leading apostrophe so it shows as the text it is."""
    if isinstance(value, str) and value.startswith(CSV_TRIGGERS):
        return "'" + value
    return value


def customer_rows(r: MonthlyReport) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the per-customer table (CSV and the tab's last block)."""
    lang = r.lang
    pii = ["Name", "Email", "Phone"] if r.include_pii else []
    header = [
        text("col_id", lang),
        *(text(f"col_{c.lower()}", lang) for c in pii),
        text("col_nesl", lang),
        text("col_segment", lang),
        text("col_tier", lang),
        text("col_lifecycle", lang),
        text("col_nesl_prev", lang),
        text("col_segment_prev", lang),
        text("col_change", lang),
    ]
    rows = []
    for c in r.customers.itertuples(index=False):
        changes = []
        if c.move is not None:
            changes.append(f"{_short(c.nesl_prev)}→{_short(c.nesl)} {_move_text(c.move, lang)}")
        if c.segment_prev is not None and str(c.segment_prev) != str(c.segment):
            changes.append(f"{label(c.segment_prev, lang)}→{label(c.segment, lang)}")
        rows.append(
            [
                c.ID,
                *(_pii(r, c.ID, col) for col in pii),
                _short(c.nesl),
                label(c.segment, lang),
                label(c.tier, lang),
                label(c.lifecycle, lang),
                _short(c.nesl_prev),
                label(c.segment_prev, lang),
                "; ".join(changes),
            ]
        )
    return header, rows


def _short(n: Any) -> str:
    return "" if n is None else str(n.value if isinstance(n, NESL) else n)


def to_csv(r: MonthlyReport) -> bytes:
    """One row per customer, UTF-8 with a BOM (Excel in Taiwan reads it right), every cell
    neutralised against CSV injection."""
    header, rows = customer_rows(r)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    writer.writerows([[neutralise("" if v is None else v) for v in row] for row in rows])
    return buf.getvalue().encode("utf-8-sig")


def tab_rows(r: MonthlyReport) -> list[list[Any]]:
    """The report as the rows of a ``Report YYYY-MM`` tab: title, headline figures, then
    each table (title, header, rows). Numbers stay numbers; every text is written as text
    (never a formula) by the backend. The per-customer rows are the CSV's, not the tab's:
    a workbook near Google's 10-million-cell ceiling has no room for 100k more rows."""
    ctx = _context(r, False)
    rows: list[list[Any]] = [[ctx["title"]], [ctx["subtitle"]], [ctx["privacy"]], []]
    for k_label, figure, note in ctx["kpis"]:
        rows.append([k_label, figure, note] if note else [k_label, figure])
    rows.append([])
    for sec in ctx["sections"]:
        rows.append([sec.title])
        rows.extend([n] for n in sec.notes)
        for table in sec.tables:
            if table.caption:
                rows.append([table.caption])
            rows.append(list(table.headers))
            rows.extend([_cell(v) for v in row] for row in table.rows)
            rows.append([])
    return rows


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def write_files(r: MonthlyReport, out_dir: Any, formats: Sequence[str]) -> list[Path]:
    """Write ``report-YYYY-MM.<ext>`` for each of ``formats`` into ``out_dir``."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"report-{r.month}"
    paths: list[Path] = []
    for f in (Format(x) for x in formats):
        path = folder / f"{stem}.{f.value}"
        if f is Format.HTML:
            path.write_text(to_html(r), encoding="utf-8")
        elif f is Format.MD:
            path.write_text(to_markdown(r), encoding="utf-8")
        elif f is Format.CSV:
            path.write_bytes(to_csv(r))
        else:
            from sheetcrm.backends.xlsx import write_sheet_file

            write_sheet_file(path, text("report_tab", r.lang, month=str(r.month)), tab_rows(r))
        paths.append(path)
    return paths
