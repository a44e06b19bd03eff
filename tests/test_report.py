"""The monthly report: every figure equals a count made here, independently, from the
hand-made workbook's rows (plain Python loops over the fixture, no sheetcrm code), in
English and in Traditional Chinese; and the report keeps people's data out by default."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

import sheetcrm
from sheetcrm.report.monthly import Move
from sheetcrm.report.render import (
    MARKDOWN_LIMIT,
    label,
    neutralise,
    tab_rows,
    to_csv,
    to_html,
    to_markdown,
)
from sheetcrm.schema import NESL, Lang, Segment, Tab, Tier
from tests.helpers import as_typed_text

END, PREV_END = dt.date(2026, 10, 31), dt.date(2026, 9, 30)
MONTH = "2026-10"
PROB = {"Lead": 0.10, "Qualified": 0.25, "Proposal": 0.50, "Negotiation": 0.75, "Won": 1.0, "Lost": 0.0}
LANGS = [Lang.EN, Lang.ZH_TW]


def sheet_rows(rows: dict[Tab, list[dict[str, Any]]]) -> dict[Tab, list[dict[str, Any]]]:
    """The fixture without the tests' own annotations (keys starting with "_")."""
    return {tab: [{k: v for k, v in r.items() if not k.startswith("_")} for r in recs] for tab, recs in rows.items()}


@pytest.fixture
def report_book(make_workbook, report_crm) -> Path:
    return as_typed_text(make_workbook(sheet_rows(report_crm)))


@pytest.fixture(scope="module")
def reports(report_workbook) -> dict[Lang, Any]:
    """The 2026-10 report of the shared workbook in each language, with its renderings
    (html, markdown, tab rows)."""
    out = {}
    wb = sheetcrm.open(report_workbook)
    for lang in LANGS:
        r = sheetcrm.monthly_report(wb, MONTH, lang=lang)
        out[lang] = (r, to_html(r), to_markdown(r), tab_rows(r))
    return out


# --------------------------------------------------------------- independent counts


def purchases(rows) -> list[tuple[str, dt.date, float]]:
    """(contact, date, amount) of every transaction: purchase-type activities with an
    amount, and Won deals with a contact, a Closed date and an amount."""
    out = [
        (a["Contact ID"], a["Date"], float(a["Amount"]))
        for a in rows[Tab.ACTIVITIES]
        if a["Type"] in ("Purchase", "Order") and a.get("Amount") is not None and a.get("Contact ID")
    ]
    out += [
        (o["Contact ID"], o["Closed"], float(o["Amount"]))
        for o in rows[Tab.OPPORTUNITIES]
        if o["Stage"] == "Won" and o.get("Contact ID") and o.get("Closed")
    ]
    return out


def window_start(month_end: dt.date) -> dt.date:
    """First day of the 12-month look-back window ending on a month's last day."""
    return (
        dt.date(month_end.year, month_end.month + 1, 1) if month_end.month < 12 else dt.date(month_end.year + 1, 1, 1)
    )


def window_start_12(month_end: dt.date) -> dt.date:
    start = window_start(month_end)
    return start.replace(year=start.year - 1)


def nesl_on(rows, day: dt.date) -> dict[str, str]:
    last: dict[str, dt.date] = {}
    for contact, when, _amount in purchases(rows):
        if when <= day:
            last[contact] = max(last.get(contact, when), when)
    out = {}
    for c in rows[Tab.CONTACTS]:
        if c["ID"] not in last:
            out[c["ID"]] = "N"
            continue
        age = (day - last[c["ID"]]).days
        out[c["ID"]] = "E" if age <= 30 else "S" if age <= 180 else "L"
    return out


def monetary_on(rows, day: dt.date) -> dict[str, float]:
    start = window_start_12(day)
    sums: dict[str, float] = defaultdict(float)
    for contact, when, amount in purchases(rows):
        if start <= when <= day:
            sums[contact] += amount
    return {c["ID"]: sums.get(c["ID"], 0.0) for c in rows[Tab.CONTACTS]}


def buyers_on(rows, day: dt.date) -> set[str]:
    return {contact for contact, when, _ in purchases(rows) if when <= day}


# --------------------------------------------------------------- figures


@pytest.mark.parametrize("lang", LANGS)
def test_nesl_counts_and_moves_equal_independent_counts(reports, report_crm, lang) -> None:
    r, html, md, rows = reports[lang]
    now, before = nesl_on(report_crm, END), nesl_on(report_crm, PREV_END)
    got = {n.value: (c, p) for n, c, p in zip(r.nesl["nesl"], r.nesl["customers"], r.nesl["prev"], strict=True)}
    for cls in "NESL":
        assert got[cls] == (Counter(now.values())[cls], Counter(before.values())[cls]), cls
    pairs = Counter((before[c], now[c]) for c in now)
    for f in "NESL":
        for t in "NESL":
            assert r.matrix.loc[NESL(f), NESL(t)] == pairs[(f, t)], (f, t)
    moves = dict(zip(r.moves["move"], r.moves["customers"], strict=True))
    assert moves[Move.POTENTIAL_DIVORCE] == pairs[("E", "S")] == 1
    assert moves[Move.DIVORCE] == pairs[("S", "L")] == 1
    assert moves[Move.WIN_BACK] == pairs[("S", "E")] + pairs[("L", "E")] == 2
    assert moves[Move.FIRST_PURCHASE] == pairs[("N", "E")] == 3
    movers = set(r.movers["ID"])
    assert movers == {c for c in now if now[c] != before[c]}
    # rendered: the tab holds the same numbers under the labels of the language
    for cls in "NESL":
        assert [label(NESL(cls), lang), got[cls][0], got[cls][1], got[cls][0] - got[cls][1]] in rows
    assert f"| {label(NESL.E, lang)} | {got['E'][0]} | {got['E'][1]} |" in md
    assert sheetcrm.report.catalog.text("move_potential_divorce", lang) in html


@pytest.mark.parametrize("lang", LANGS)
def test_segment_sizes_and_revenue_equal_independent_sums(reports, report_crm, lang) -> None:
    r, _html, _md, rows = reports[lang]
    money_now, money_prev = monetary_on(report_crm, END), monetary_on(report_crm, PREV_END)
    seg_now = dict(zip(r.customers["ID"], r.customers["segment"], strict=True))
    seg_prev = dict(zip(r.customers["ID"], r.customers["segment_prev"], strict=True))
    for row in r.segments.itertuples(index=False):
        members = [c for c, s in seg_now.items() if s == row.segment]
        before = [c for c, s in seg_prev.items() if s == row.segment]
        assert row.customers == len(members)
        assert row.delta == len(members) - len(before)
        assert row.revenue == pytest.approx(sum(money_now[c] for c in members))
        assert row.revenue_prev == pytest.approx(sum(money_prev[c] for c in before))
    # non-buyers are Prospects; buyers are not
    buyers = buyers_on(report_crm, END)
    assert {c for c, s in seg_now.items() if s == Segment.PROSPECT} == set(seg_now) - buyers
    assert r.segments["revenue"].sum() == pytest.approx(sum(money_now.values()))
    for row in r.segments.itertuples(index=False):
        assert [label(row.segment, lang), row.customers, row.delta, row.revenue, row.revenue_delta] in rows


@pytest.mark.parametrize("lang", LANGS)
def test_pyramid_and_80_20_share_equal_independent_counts(reports, report_crm, lang) -> None:
    r, html, md, _rows = reports[lang]
    buyers = buyers_on(report_crm, END)
    money = monetary_on(report_crm, END)
    values = sorted((money[c] for c in buyers), reverse=True)
    top = math.ceil(0.2 * len(values))
    assert r.pareto["buyers"] == len(buyers) == 9
    assert r.pareto["top_count"] == top == 2
    assert r.pareto["top_share"] == pytest.approx(sum(values[:top]) / sum(values))
    assert r.pareto["holds"] == (sum(values[:top]) / sum(values) >= 0.8)
    tiers = dict(zip(r.customers["ID"], r.customers["tier"], strict=True))
    assert {c for c, t in tiers.items() if t == Tier.POTENTIAL} == set(tiers) - buyers
    for row in r.tiers.itertuples(index=False):
        members = [c for c, t in tiers.items() if t == row.tier]
        assert row.customers == len(members)
        assert row.revenue == pytest.approx(sum(money[c] for c in members))
    share = f"{r.pareto['top_share'] * 100:.1f}%"
    assert share in html and share in md


@pytest.mark.parametrize("lang", LANGS)
def test_lifecycle_counts_cover_every_customer(reports, report_crm, lang) -> None:
    r = reports[lang][0]
    life = dict(zip(r.customers["ID"], r.customers["lifecycle"], strict=True))
    for row in r.lifecycle.itertuples(index=False):
        assert row.customers == sum(1 for v in life.values() if v == row.lifecycle)
    assert r.lifecycle["customers"].sum() == len(report_crm[Tab.CONTACTS])
    now, before = nesl_on(report_crm, END), nesl_on(report_crm, PREV_END)
    assert life["P-01"] == sheetcrm.Lifecycle.POTENTIAL_DIVORCE  # E -> S
    assert life["P-02"] == sheetcrm.Lifecycle.DIVORCE  # S -> L
    assert life["P-04"] == sheetcrm.Lifecycle.WIN_BACK and (before["P-04"], now["P-04"]) == ("L", "E")


@pytest.mark.parametrize("lang", LANGS)
def test_funnel_and_conversion_equal_independent_counts(reports, report_crm, lang) -> None:
    r, html, _md, _rows = reports[lang]
    deals = report_crm[Tab.OPPORTUNITIES]
    at_end = Counter(o["_stage_at_month_end"] for o in deals)
    amount: defaultdict[str, float] = defaultdict(float)
    for o in deals:
        amount[o["_stage_at_month_end"]] += o["Amount"]
    order = ["Lead", "Qualified", "Proposal", "Negotiation", "Won"]
    reached = {s: sum(at_end[t] for t in order[i:]) for i, s in enumerate(order)}
    f = r.funnel.set_index(r.funnel["Stage"].map(str))
    for s in [*order, "Lost"]:
        assert f.loc[s, "deals"] == at_end[s], s
        assert f.loc[s, "amount"] == pytest.approx(amount[s]), s
    for a, b in itertools.pairwise(order):
        assert f.loc[a, "reached"] == reached[a]
        assert f.loc[a, "conversion"] == pytest.approx(reached[b] / reached[a])
    assert math.isnan(f.loc["Won", "conversion"])
    assert f"{reached['Qualified'] / reached['Lead'] * 100:.1f}%" in html


@pytest.mark.parametrize("lang", LANGS)
def test_won_lost_by_owner_this_month_and_last(reports, report_crm, lang) -> None:
    r = reports[lang][0]
    deals = report_crm[Tab.OPPORTUNITIES]

    def tally(first: dt.date, last: dt.date, stage: str) -> dict[str, tuple[int, float]]:
        out: dict[str, tuple[int, float]] = {}
        for o in deals:
            if o["Stage"] == stage and o.get("Closed") and first <= o["Closed"] <= last:
                n, a = out.get(o["Owner"], (0, 0.0))
                out[o["Owner"]] = (n + 1, a + o["Amount"])
        return out

    won, lost = tally(dt.date(2026, 10, 1), END, "Won"), tally(dt.date(2026, 10, 1), END, "Lost")
    won_prev = tally(dt.date(2026, 9, 1), PREV_END, "Won")
    wl = r.won_lost.set_index("Owner")
    for owner in ("Amy Rep", "Bob Rep"):
        assert wl.loc[owner, "won"] == won.get(owner, (0, 0))[0]
        assert wl.loc[owner, "won_amount"] == pytest.approx(won.get(owner, (0, 0.0))[1])
        assert wl.loc[owner, "lost"] == lost.get(owner, (0, 0))[0]
        assert wl.loc[owner, "won_prev"] == won_prev.get(owner, (0, 0))[0]
    assert r.headline()["won"] == sum(n for n, _ in won.values()) == 1


def independent_forecast(report_crm, as_of: dt.date) -> dict[str, dict[str, float]]:
    """Q4 2026 per owner from the fixture: stage at the month end, probabilities above."""
    q_start, q_end = dt.date(2026, 10, 1), dt.date(2026, 12, 31)
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for o in report_crm[Tab.OPPORTUNITIES]:
        stage = o["_stage_at_month_end"]
        f = out[o["Owner"]]
        if stage == "Won" and o.get("Closed") and q_start <= o["Closed"] <= as_of:
            f["won"] += o["Amount"]
        elif stage not in ("Won", "Lost") and o.get("Expected Close") and q_start <= o["Expected Close"] <= q_end:
            f["open"] += o["Amount"]
            f["weighted"] += o["Amount"] * PROB[stage]
            f["commit"] += o["Amount"] if stage == "Negotiation" else 0.0
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_quarter_forecast_equals_independent_sums(reports, report_workbook, report_crm, lang) -> None:
    r = reports[lang][0]
    expected = independent_forecast(report_crm, END)
    fc = r.forecast.set_index("Owner")
    for owner, e in expected.items():
        assert fc.loc[owner, "won"] == pytest.approx(e["won"])
        assert fc.loc[owner, "open"] == pytest.approx(e["open"])
        assert fc.loc[owner, "weighted"] == pytest.approx(e["weighted"])
        assert fc.loc[owner, "forecast"] == pytest.approx(e["won"] + e["weighted"])
        assert fc.loc[owner, "commit"] == pytest.approx(e["won"] + e["commit"])
        assert fc.loc[owner, "best_case"] == pytest.approx(e["won"] + e["open"])
    lib = sheetcrm.forecast(report_workbook, "2026Q4", as_of=END)
    pd.testing.assert_frame_equal(lib.table, r.forecast)
    by_stage = sheetcrm.forecast(report_workbook, "2026Q4", by="stage", as_of=END).table
    assert by_stage["forecast"].sum() == pytest.approx(r.forecast["forecast"].sum())


# --------------------------------------------------------------- people's data


def every_pii(rows, book: Path) -> list[str]:
    """Every name, email and phone as typed, and as sheetcrm reads it (phones normalised)."""
    values = []
    for tab in (Tab.CONTACTS, Tab.COMPANIES):
        for rec in rows[tab]:
            values += [str(rec[k]) for k in ("Name", "Email", "Phone") if rec.get(k)]
    wb = sheetcrm.open(book)
    for frame in (wb.contacts, wb.companies):
        for key in ("Name", "Email", "Phone"):
            if key in frame:
                values += [str(v) for v in frame[key].dropna()]
    return sorted(set(values))


def outputs(book: Path, out: Path, lang: Lang, include_pii: bool) -> dict[str, str]:
    """Every output of the report as text: html, md, csv, the standalone xlsx and the tab."""
    done = sheetcrm.run_report(
        book, MONTH, out=out, formats=("html", "md", "csv", "xlsx"), lang=lang, tab=True, include_pii=include_pii
    )
    texts = {p.suffix: p.read_bytes().decode("utf-8-sig") for p in done.paths if p.suffix != ".xlsx"}
    for name, path, sheet in (("xlsx", out / f"report-{MONTH}.xlsx", None), ("tab", book, done.tab)):
        wb = openpyxl.load_workbook(path)
        ws = wb[sheet] if sheet else wb.worksheets[0]
        texts[name] = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    return texts


@pytest.mark.parametrize("lang", LANGS)
def test_no_name_email_or_phone_anywhere_by_default(report_book, report_crm, tmp_path, lang) -> None:
    texts = outputs(report_book, tmp_path / "out", lang, include_pii=False)
    assert set(texts) == {".html", ".md", ".csv", "xlsx", "tab"}
    for fmt, body in texts.items():
        for value in every_pii(report_crm, report_book):
            assert value not in body, (fmt, value)
        assert "HYPERLINK" not in body, fmt


@pytest.mark.parametrize("lang", LANGS)
def test_include_pii_shows_them_and_a_formula_name_stays_text(report_book, report_crm, tmp_path, lang) -> None:
    texts = outputs(report_book, tmp_path / "out", lang, include_pii=True)
    contact_pii = [str(c[k]) for c in report_crm[Tab.CONTACTS] for k in ("Name", "Email", "Phone") if c.get(k)]
    csv_cells = {v for row in csv.reader(io.StringIO(texts[".csv"])) for v in row}
    for value in contact_pii:
        assert neutralise(value) in csv_cells, value
    formula = '=HYPERLINK("http://x")'
    html = texts[".html"].replace("=HYPERLINK(&#34;http://x&#34;)", formula)  # as the escaped text reads
    movers = {"P-01", "P-02", "P-03", "P-04", "P-05", "P-09", "P-10"}  # NESL changed: listed with their names
    for c in report_crm[Tab.CONTACTS]:
        assert (c["Name"] in texts["tab"] and c["Name"] in html) == (c["ID"] in movers), c["ID"]
    assert "=HYPERLINK(&#34;http://x&#34;)" in texts[".html"] and 'href="http://x"' not in html
    assert '\'=HYPERLINK(""http://x"")' in texts[".csv"]  # neutralised and quoted
    assert formula in texts["tab"] and formula in texts["xlsx"]
    for path, sheet in (
        (report_book, sheetcrm.report.catalog.text("report_tab", lang, month=MONTH)),
        (tmp_path / "out" / f"report-{MONTH}.xlsx", None),
    ):
        wb = openpyxl.load_workbook(path)
        ws = wb[sheet] if sheet else wb.worksheets[0]
        cells = [c for row in ws.iter_rows() for c in row if c.value == formula]
        assert cells and all(c.data_type == "s" for c in cells)


# --------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+886 912", "'+886 912"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (12, 12),
        (None, None),
    ],
)
def test_csv_cells_that_would_run_as_formulas_are_neutralised(value, written) -> None:
    assert neutralise(value) == written


@pytest.mark.parametrize("lang", LANGS)
def test_csv_has_a_bom_and_one_row_per_customer(reports, report_crm, lang) -> None:
    r = reports[lang][0]
    data = to_csv(r)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 1 + len(report_crm[Tab.CONTACTS])
    by_id = {row[0]: row for row in rows[1:]}
    now, before = nesl_on(report_crm, END), nesl_on(report_crm, PREV_END)
    assert {i: row[1] for i, row in by_id.items()} == now
    assert {i: row[5] for i, row in by_id.items()} == before
    change = sheetcrm.report.catalog.text("move_potential_divorce", lang)
    assert by_id["P-01"][-1].startswith(f"E→S {change}")
    assert by_id["P-07"][-1] == ""


def test_markdown_fits_a_job_summary(reports) -> None:
    md = reports[Lang.EN][2]
    assert len(md.encode()) < MARKDOWN_LIMIT
    assert md.startswith("# Monthly segment report 2026-10")


def test_default_language_follows_the_workbook_headers(make_workbook, report_workbook, report_crm) -> None:
    zh = as_typed_text(make_workbook(sheet_rows(report_crm), lang=Lang.ZH_TW))
    assert sheetcrm.monthly_report(zh, MONTH).lang == Lang.ZH_TW
    assert sheetcrm.monthly_report(report_workbook, MONTH).lang == Lang.EN


def test_default_month_is_the_last_complete_one(report_workbook) -> None:
    today = pd.Timestamp.today()
    assert str(sheetcrm.monthly_report(report_workbook).month) == str(pd.Period(today, freq="M") - 1)


def test_a_second_tab_run_replaces_the_tab(report_book, tmp_path) -> None:
    for _ in range(2):
        done = sheetcrm.run_report(report_book, MONTH, out=tmp_path, formats=(), tab=True)
    wb = openpyxl.load_workbook(report_book)
    assert done.tab == "Report 2026-10" and wb.sheetnames.count(done.tab) == 1
    assert wb[done.tab]["A1"].value == "Monthly segment report 2026-10"
    assert sheetcrm.open(report_book).validate() is not None  # the workbook still reads


def test_a_bad_month_is_a_one_line_error(report_workbook) -> None:
    with pytest.raises(sheetcrm.SheetCRMError, match="not a month"):
        sheetcrm.monthly_report(report_workbook, "October")


def test_a_month_that_has_not_ended_is_refused(report_workbook) -> None:
    running = pd.Period(pd.Timestamp.today(), freq="M")
    with pytest.raises(sheetcrm.SheetCRMError, match=f"{running} has not ended yet; the last complete month is"):
        sheetcrm.monthly_report(report_workbook, str(running))


def test_a_contact_created_after_the_month_is_not_yet_its_customer(tmp_path) -> None:
    import datetime as dt

    from tests.helpers import save_sheets

    path = save_sheets(
        tmp_path / "later.xlsx",
        {
            "Contacts": [["Name", "Created"], ["Amy", dt.datetime(2026, 6, 10)], ["Ben", None]],
            "Activities": [["Date", "Type", "Contact ID", "Amount"], [dt.datetime(2026, 6, 12), "Order", "Amy", 500]],
        },
    )
    march = sheetcrm.monthly_report(path, "2026-03")
    assert len(march.customers) == 1  # Ben, who has no Created date; Amy came in June
    june = sheetcrm.monthly_report(path, "2026-06")
    assert len(june.customers) == 2 and june.pareto["buyers"] == 1
