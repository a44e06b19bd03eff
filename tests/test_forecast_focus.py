"""The quarter forecast, the funnel and the focus list: pure functions on small inline
frames, then the focus list of the hand-made workbook against a list made by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest

import sheetcrm
from sheetcrm.pipeline.focus import FocusKind, customer_focus, deal_focus, focus_list, gone_focus, last_activity
from sheetcrm.pipeline.forecast import ForecastBy, Quarter, forecast_table, funnel, quarter_deals, won_lost
from sheetcrm.report.catalog import text
from sheetcrm.schema import NESL, Lang, Rhythm, Stage, Tab
from sheetcrm.settings import Settings

T = pd.Timestamp


def deals(*rows: tuple) -> pd.DataFrame:
    """ID, Owner, Stage, Amount, Probability, Expected Close, Closed."""
    cols = ["ID", "Owner", "Stage", "Amount", "Probability", "Expected Close", "Closed"]
    frame = pd.DataFrame([list(r) for r in rows], columns=cols)
    for c in ("ID", "Owner", "Stage"):
        frame[c] = pd.Series([r[cols.index(c)] for r in rows], dtype=object)
    for c in ("Expected Close", "Closed"):
        frame[c] = pd.to_datetime(frame[c])
    frame["Amount"] = frame["Amount"].astype("float64")
    return frame


@pytest.mark.parametrize(
    ("text_in", "year", "q", "start", "end"),
    [
        ("2026Q4", 2026, 4, "2026-10-01", "2026-12-31"),
        ("2026-q1", 2026, 1, "2026-01-01", "2026-03-31"),
        ("Q2 2027", 2027, 2, "2027-04-01", "2027-06-30"),
        (" 2025Q3 ", 2025, 3, "2025-07-01", "2025-09-30"),
    ],
)
def test_quarters_parse_and_span_their_months(text_in, year, q, start, end) -> None:
    quarter = Quarter.parse(text_in)
    assert (quarter.year, quarter.q, quarter.start, quarter.end) == (year, q, T(start), T(end))
    assert str(quarter) == f"{year}Q{q}"
    assert Quarter.of(end) == quarter


@pytest.mark.parametrize("bad", ["2026Q5", "Q4", "2026-10", "", "fourth"])
def test_a_quarter_that_is_not_one_is_refused(bad) -> None:
    with pytest.raises(ValueError, match="quarter"):
        Quarter.parse(bad)


AS_OF = T("2026-11-15")
Q4 = Quarter(2026, 4)
BOOK = deals(
    ("D1", "Amy", Stage.LEAD, 1000, 0.10, "2026-11-30", None),  # open, in Q4
    ("D2", "Amy", Stage.NEGOTIATION, 2000, 0.75, "2026-12-15", None),  # commit
    ("D3", "Bob", Stage.PROPOSAL, 4000, 0.50, "2027-01-10", None),  # next quarter: out
    ("D4", "Bob", Stage.WON, 3000, 1.0, "2026-10-01", "2026-10-20"),  # won in Q4
    ("D5", "Bob", Stage.WON, 9000, 1.0, None, "2026-09-30"),  # won in Q3: out
    ("D6", None, Stage.QUALIFIED, np.nan, 0.25, "2026-10-05", None),  # no amount, no owner
    ("D7", "Amy", Stage.LOST, 500, 0.0, "2026-11-01", "2026-11-02"),  # lost: out
)


def test_quarter_deals_are_won_in_the_quarter_or_expected_to_close_in_it() -> None:
    got = quarter_deals(BOOK, Q4, AS_OF)
    assert list(got["ID"]) == ["D6", "D4", "D1", "D2"]
    assert list(got["won"]) == [False, True, False, False]


def test_forecast_by_owner_sums_by_hand() -> None:
    got = forecast_table(BOOK, Q4, AS_OF, ForecastBy.OWNER)
    want = pd.DataFrame(
        {
            "Owner": pd.Series(["Amy", "Bob", None], dtype=object),
            "deals_won": np.array([0, 1, 0], dtype=np.int64),
            "won": [0.0, 3000.0, 0.0],
            "deals_open": np.array([2, 0, 1], dtype=np.int64),
            "open": [3000.0, 0.0, 0.0],
            "weighted": [100.0 + 1500.0, 0.0, 0.0],
            "commit": [2000.0, 3000.0, 0.0],
            "best_case": [3000.0, 3000.0, 0.0],
            "forecast": [1600.0, 3000.0, 0.0],
        }
    )
    pd.testing.assert_frame_equal(got, want)


def test_forecast_by_stage_lists_every_stage_and_adds_up_to_the_owners() -> None:
    by_stage = forecast_table(BOOK, Q4, AS_OF, ForecastBy.STAGE)
    assert list(by_stage["Stage"]) == [Stage.LEAD, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION, Stage.WON]
    by_owner = forecast_table(BOOK, Q4, AS_OF, ForecastBy.OWNER)
    for col in ("won", "open", "weighted", "commit", "best_case", "forecast"):
        assert by_stage[col].sum() == pytest.approx(by_owner[col].sum()), col


def test_a_won_deal_closed_after_as_of_is_not_won_yet() -> None:
    got = forecast_table(BOOK, Q4, T("2026-10-19"))
    assert got["won"].sum() == 0


def test_funnel_counts_reached_and_conversion() -> None:
    f = funnel(BOOK)
    assert list(f["deals"]) == [1, 1, 1, 1, 2, 1]
    assert list(f["reached"]) == [6, 5, 4, 3, 2, 0]
    np.testing.assert_allclose(f["conversion"].to_numpy()[:4], [5 / 6, 4 / 5, 3 / 4, 2 / 3])
    assert f["conversion"].iloc[4:].isna().all()
    assert f.loc[4, "amount"] == 12000.0


def test_won_lost_counts_by_owner_in_the_period() -> None:
    got = won_lost(BOOK, "2026-10-01", "2026-11-30")
    want = pd.DataFrame(
        {
            "Owner": pd.Series(["Amy", "Bob"], dtype=object),
            "won": np.array([0, 1], dtype=np.int64),
            "won_amount": [0.0, 3000.0],
            "lost": np.array([1, 0], dtype=np.int64),
            "lost_amount": [500.0, 0.0],
        }
    )
    pd.testing.assert_frame_equal(got, want)


# ----------------------------------------------------------------------- focus


def focus_deals() -> pd.DataFrame:
    frame = deals(
        ("F1", "Amy", Stage.LEAD, 100, 0.1, "2026-12-30", None),
        ("F2", "Bob", Stage.PROPOSAL, 200, 0.5, "2026-11-18", None),
        ("F3", "Amy", Stage.WON, 300, 1.0, "2026-11-16", "2026-11-01"),
        ("F4", "Bob", Stage.QUALIFIED, 400, 0.25, "2026-12-30", None),
    )
    frame["Next Step"] = pd.Series(["call", None, "thank", "visit"], dtype=object)
    frame["Next Step Due"] = pd.to_datetime(["2026-11-10", "2026-11-20", "2026-11-10", "2026-11-30"])
    frame["Stage Since"] = pd.to_datetime(["2026-11-01", "2026-09-01", "2026-11-01", "2026-11-01"])
    return frame


ACTS = pd.DataFrame(
    {"Date": pd.to_datetime(["2026-11-12", "2026-09-02"]), "Opportunity ID": pd.Series(["F1", "F2"], dtype=object)}
)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (
            7,
            [
                (FocusKind.OVERDUE, "F1", -5),
                (FocusKind.DUE, "F2", 5),
                (FocusKind.CLOSING, "F2", 3),
                (FocusKind.STALE, "F2", -74),
            ],
        ),
        (2, [(FocusKind.OVERDUE, "F1", -5), (FocusKind.STALE, "F2", -74)]),
        (
            20,
            [
                (FocusKind.OVERDUE, "F1", -5),
                (FocusKind.DUE, "F2", 5),
                (FocusKind.DUE, "F4", 15),
                (FocusKind.CLOSING, "F2", 3),
                (FocusKind.STALE, "F2", -74),
            ],
        ),
    ],
)
def test_deal_focus_rows_by_window(days, expected) -> None:
    rows = focus_list(
        deal_focus(focus_deals(), ACTS, AS_OF, Settings(), days=days), customer_focus(no_customers(), AS_OF)
    )
    assert list(zip(rows["kind"], rows["id"], rows["days"], strict=True)) == expected


def no_customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ID": pd.Series([], dtype=object),
            "Owner": pd.Series([], dtype=object),
            "nesl_before": pd.Series([], dtype=object),
            "nesl": pd.Series([], dtype=object),
            "main_before": pd.Series([], dtype=bool),
            "important": pd.Series([], dtype=bool),
            "last_purchase": pd.Series([], dtype="datetime64[ns]"),
        }
    )


@pytest.mark.parametrize(
    ("before", "now", "main", "important", "listed"),
    [
        (NESL.E, NESL.S, True, False, True),
        (NESL.E, NESL.S, False, True, True),
        (NESL.E, NESL.S, False, False, False),  # an ordinary customer
        (NESL.S, NESL.S, True, True, False),  # asleep already
        (NESL.E, NESL.E, True, True, False),  # still buying
        (NESL.S, NESL.L, True, True, False),  # lost, not just asleep
    ],
)
def test_customers_who_just_went_to_sleep_and_matter(before, now, main, important, listed) -> None:
    customers = pd.DataFrame(
        {
            "ID": pd.Series(["P-1"], dtype=object),
            "Owner": pd.Series(["Amy"], dtype=object),
            "nesl_before": pd.Series([before], dtype=object),
            "nesl": pd.Series([now], dtype=object),
            "main_before": [main],
            "important": [important],
            "last_purchase": pd.to_datetime(["2026-10-10"]),
        }
    )
    rows = customer_focus(customers, AS_OF)
    assert len(rows) == int(listed)
    if listed:
        assert rows.loc[0, "days"] == -36 and rows.loc[0, "tab"] == Tab.CONTACTS


@pytest.mark.parametrize("lang", [Lang.EN, Lang.ZH_TW])
def test_focus_of_the_hand_made_workbook(report_workbook, lang) -> None:
    rows = sheetcrm.focus(report_workbook, 7, as_of="2026-11-22", lang=lang)
    got = list(zip(rows["kind"], rows["id"], rows["owner"], strict=True))
    assert got == [
        (FocusKind.OVERDUE, "OP-01", "Amy Rep"),  # next step due 11-20
        (FocusKind.DUE, "OP-02", "Bob Rep"),  # due 11-25
        (FocusKind.CLOSING, "OP-02", "Bob Rep"),  # expected close 11-27
        (FocusKind.LATE, "OP-03", "Amy Rep"),  # expected close 10-20, still open
        (FocusKind.LATE, "OP-01", "Amy Rep"),  # expected close 11-15, still open
        (FocusKind.STALE, "OP-04", "Bob Rep"),  # last activity 10-01
        (FocusKind.SLEEPING, "P-10", "Bob Rep"),  # important, last purchase 10-20: E on 11-15, S on 11-22
    ]
    assert rows.loc[0, "why"] == text("why_overdue", lang, step="call back", date="2026-11-20", days=2)
    why = str(rows.loc[3, "why"])
    assert "2026-10-20" in why and "33" in why and rows.loc[3, "days"] == -33
    assert rows.loc[3, "todo"] == text("todo_late", lang)
    assert rows.loc[6, "todo"] == text("todo_sleeping", lang)
    # A deal by its name too; a customer by ID only.
    assert rows["name"].tolist() == ["deal one", "deal two", "deal two", "deal three", "deal one", "deal four", None]
    only_amy = sheetcrm.focus(report_workbook, 7, as_of="2026-11-22", owner=" amy rep ")
    assert list(only_amy["id"]) == ["OP-01", "OP-03", "OP-01"]


def test_focus_names_no_customer(report_workbook, report_crm) -> None:
    rows = sheetcrm.focus(report_workbook, 30, as_of="2026-11-22")
    body = rows.to_csv()
    for c in report_crm[Tab.CONTACTS]:
        assert c["Name"] not in body and (c.get("Email") or "@@") not in body
    assert dt.date(2026, 11, 22)  # as_of given: the list does not depend on today


@pytest.mark.parametrize(
    ("rhythm", "nesl", "listed"),
    [
        (Rhythm.LIKELY_GONE, NESL.E, True),  # NESL still calls them existing; their rhythm does not
        (Rhythm.LIKELY_GONE, NESL.S, True),
        (Rhythm.LIKELY_GONE, NESL.L, False),  # NESL already says lost: nothing new to say
        (Rhythm.AT_RISK, NESL.E, False),
        (Rhythm.ACTIVE, NESL.S, False),
        (None, NESL.E, False),  # no fit (too few repeat buyers): no rhythm, no row
    ],
)
@pytest.mark.parametrize("lang", [Lang.EN, Lang.ZH_TW])
def test_customers_likely_gone_by_their_own_rhythm(rhythm, nesl, listed, lang) -> None:
    customers = pd.DataFrame(
        {
            "ID": pd.Series(["P-1"], dtype=object),
            "Owner": pd.Series(["Amy"], dtype=object),
            "nesl": pd.Series([nesl], dtype=object),
            "rhythm": pd.Series([rhythm], dtype=object),
            "p_alive": [0.12],
            "last_purchase": pd.to_datetime(["2026-10-10"]),
        }
    )
    rows = gone_focus(customers, AS_OF, lang)
    assert len(rows) == int(listed)
    if listed:
        assert rows.loc[0, "kind"] == FocusKind.GONE and rows.loc[0, "days"] == -36
        assert rows.loc[0, "why"] == text(
            "why_gone", lang, p="0.12", date="2026-10-10", days=36, nesl=NESL(nesl).label(lang)
        )
        assert rows.loc[0, "todo"] == text("todo_gone", lang)
        assert list(focus_list(rows.iloc[:0], rows)["kind"]) == [FocusKind.GONE]


@pytest.mark.parametrize("deal_ids", [[], ["OP-1", "OP-2"]])
def test_last_activity_of_deals_in_a_workbook_without_activities(deal_ids: list[str]) -> None:
    # A new team's first workbook: deals, or nothing at all, and no activity yet.
    deals = pd.DataFrame({"ID": pd.Series(deal_ids, dtype=object)})
    activities = pd.DataFrame({"Date": pd.Series([], dtype=object), "Opportunity ID": pd.Series([], dtype=object)})
    expected = pd.Series([pd.NaT] * len(deal_ids), index=deals.index, dtype="datetime64[ns]")
    pd.testing.assert_series_equal(last_activity(deals, activities, "2026-11-30"), expected)


def test_focus_on_a_new_workbook_lists_nothing(tmp_path) -> None:
    path = tmp_path / "crm.xlsx"
    sheetcrm.init_workbook(path)
    assert sheetcrm.focus(path, 7, as_of="2026-11-30").empty


def test_a_deal_whose_stage_is_no_stage_is_left_out_and_named(tmp_path) -> None:
    from click.testing import CliRunner

    from sheetcrm.cli import cli
    from tests.helpers import save_sheets

    path = save_sheets(
        tmp_path / "deals.xlsx",
        {
            "公司": [["公司名稱"], ["阿福小吃店"]],
            "連絡人": [["姓名", "公司"], ["王小明", "阿福小吃店"]],
            "機會": [
                ["案名", "客戶", "階段", "金額", "預計成交日", "負責業務", "編號"],
                ["年菜訂購", "阿福小吃店", "洽談", 8000, dt.datetime(2026, 12, 20), "阿美", "OP-1"],  # no stage
                ["門市陳列", "王小明", "報價", 1200, dt.datetime(2026, 12, 10), "阿美", "OP-2"],
            ],
            "拜訪紀錄": [["日期", "類型", "客戶", "金額"]],
        },
    )
    result = sheetcrm.forecast(path, "2026Q4", as_of="2026-11-30")
    assert result.unstaged == ("年菜訂購 (OP-1)",)  # as people find it in the sheet
    assert result.deals[["ID", "Name"]].to_numpy().tolist() == [["OP-2", "門市陳列"]]  # not counted as a Lead
    assert result.table["open"].sum() == 1200
    focus = sheetcrm.focus(path, 30, as_of="2026-11-30")
    assert "OP-1" not in set(focus["id"]) and focus.attrs["unstaged"] == ("年菜訂購 (OP-1)",)
    said = CliRunner().invoke(cli, ["forecast", str(path), "--as-of", "2026-11-30", "--format", "csv"])
    assert said.exit_code == 0
    assert said.stdout.lstrip("\ufeff").splitlines()[0].startswith("Owner,")  # the data alone on stdout
    assert text("unstaged", Lang.ZH_TW, n=1, deals="年菜訂購 (OP-1)") in said.stderr
    from sheetcrm.report.render import to_markdown

    report = sheetcrm.monthly_report(path, "2026-11")
    assert report.unstaged == ("年菜訂購 (OP-1)",)
    assert int(report.funnel["deals"].sum()) == 1
    assert text("unstaged", Lang.ZH_TW, n=1, deals="年菜訂購 (OP-1)") in to_markdown(report)


def test_a_deal_whose_stage_stops_being_a_stage_weighs_nothing_in_the_sheet_either(tmp_path) -> None:
    from tests.helpers import save_sheets

    path = save_sheets(
        tmp_path / "deals.xlsx",
        {
            "公司": [["公司名稱"], ["阿福小吃店"]],
            "連絡人": [["姓名", "公司"], ["王小明", "阿福小吃店"]],
            "機會": [["案名", "客戶", "階段", "金額", "編號"], ["年菜訂購", "阿福小吃店", "提案", 8000, "OP-1"]],
            "拜訪紀錄": [["日期", "類型", "客戶", "金額"]],
        },
    )
    sheetcrm.open(path).sync(as_of="2026-11-20")
    wb = openpyxl.load_workbook(path)
    ws = wb["機會"]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("加權金額") + 1).value == 4000
    ws.cell(2, header.index("階段") + 1).value = "洽談"  # not a stage word
    wb.save(path)
    sheetcrm.open(path).sync(as_of="2026-11-30")
    row = dict(zip(header, [c.value for c in openpyxl.load_workbook(path)["機會"][2]], strict=False))
    assert row["成交機率"] is None and row["加權金額"] is None, row
    assert row["上次同步階段"] == "提案" and row["階段"] == "洽談", row  # remembered; the typed word kept


def test_a_won_deal_nobody_dated_is_won_when_it_entered_won(tmp_path) -> None:
    from tests.helpers import save_sheets

    path = save_sheets(
        tmp_path / "won.xlsx",
        {
            "公司": [["公司名稱"], ["山嵐民宿"]],
            "連絡人": [["姓名", "公司"], ["林小姐", "山嵐民宿"]],
            "商機": [
                ["案名", "客戶", "階段", "金額", "預計成交日", "結案日期", "編號"],
                ["中秋禮盒", "林小姐", "提案", 20000, None, None, "OP-1"],  # the order below wins it
                ["年節禮盒", "林小姐", "成交", 8000, dt.datetime(2026, 11, 5), None, "OP-2"],  # typed won, no Closed
                ["尾牙", "林小姐", "成交", 5000, None, None, "OP-3"],  # won, nothing says when
            ],
            "交易紀錄": [
                ["日期", "類型", "客戶", "機會", "金額"],
                [dt.datetime(2026, 10, 8), "訂單", "林小姐", "中秋禮盒", 20000],
            ],
        },
    )
    result = sheetcrm.forecast(path, "2026Q4", as_of="2026-11-30")
    won = result.deals.set_index("ID")
    assert won.loc["OP-1", "won"] and won.loc["OP-2", "won"], won
    assert result.table["won"].sum() == 28000
    assert result.undated == ("尾牙 (OP-3)",)
    # After a sync, the day sheetcrm first saw OP-3 won is kept in Stage Since: it is won then.
    sheetcrm.open(path).sync(as_of="2026-11-30")
    again = sheetcrm.forecast(path, "2026Q4", as_of="2026-11-30")
    assert again.undated == () and again.table["won"].sum() == 33000


def test_deals_no_quarter_can_hold_are_named(tmp_path) -> None:
    from click.testing import CliRunner

    from sheetcrm.cli import cli
    from tests.helpers import save_sheets

    path = save_sheets(
        tmp_path / "dates.xlsx",
        {
            "公司": [["公司名稱"], ["山嵐民宿"]],
            "連絡人": [["姓名", "公司"], ["林小姐", "山嵐民宿"]],
            "商機": [
                ["案名", "客戶", "階段", "金額", "預計成交日", "結案日期"],
                ["客房茶包", "山嵐民宿", "確認需求", 35000, "12/20", None],  # no year: unreadable
                ["中秋禮盒", "林小姐", "成交", 20000, None, None],  # won, never said when
                ["年節禮盒", "林小姐", "提案", 8000, dt.datetime(2026, 12, 10), None],
            ],
            "交易紀錄": [["日期", "類型", "客戶", "金額"]],
        },
    )
    result = sheetcrm.forecast(path, "2026Q4", as_of="2026-11-30")
    assert result.deals["Name"].tolist() == ["年節禮盒"]
    assert result.unpriced == ()
    assert result.undated == ("客房茶包 (商機!2)", "中秋禮盒 (商機!3)")  # no ID yet: by sheet row
    said = CliRunner().invoke(cli, ["forecast", str(path), "--as-of", "2026-11-30"])
    assert text("undated", Lang.ZH_TW, n=2, deals="客房茶包 (商機!2), 中秋禮盒 (商機!3)") in said.stderr


def test_focus_says_today_and_says_when_nothing_is_due(tmp_path) -> None:
    from click.testing import CliRunner

    from sheetcrm.cli import cli
    from tests.helpers import save_sheets

    path = save_sheets(
        tmp_path / "due.xlsx",
        {
            "Contacts": [["Name"], ["Amy"]],
            "Opportunities": [
                ["Name", "Contact ID", "Stage", "Next Step", "Next Step Due"],
                ["Renewal", "Amy", "Proposal", "call Amy", dt.datetime(2026, 11, 30)],
            ],
            "Activities": [["Date", "Type", "Contact ID"]],
        },
    )
    rows = sheetcrm.focus(path, 7, as_of="2026-11-30")
    assert rows["why"].tolist() == ["next step 'call Amy' is due today"]
    none = CliRunner().invoke(cli, ["focus", str(path), "--days", "7", "--as-of", "2026-12-05", "--owner", "Nobody"])
    assert none.exit_code == 0 and "Nothing due in the next 7 day(s)" in none.output, none.output


def test_a_deal_of_the_quarter_without_an_amount_is_named(tmp_path) -> None:
    from click.testing import CliRunner

    from sheetcrm.cli import cli
    from tests.helpers import save_sheets

    path = save_sheets(
        tmp_path / "amounts.xlsx",
        {
            "Contacts": [["Name"], ["Amy"]],
            "Opportunities": [
                ["ID", "Name", "Contact ID", "Stage", "Amount", "Expected Close"],
                ["OP-1", "Renewal", "Amy", "Proposal", None, dt.datetime(2026, 12, 10)],
                ["OP-2", "Upsell", "Amy", "Proposal", 1000, dt.datetime(2026, 12, 12)],
                ["OP-3", "Next year", "Amy", "Proposal", None, dt.datetime(2027, 3, 1)],  # another quarter
            ],
            "Activities": [["Date", "Type", "Contact ID"]],
        },
    )
    result = sheetcrm.forecast(path, "2026Q4", as_of="2026-11-30")
    assert result.unpriced == ("Renewal (OP-1)",) and result.table["open"].sum() == 1000
    said = CliRunner().invoke(cli, ["forecast", str(path), "--as-of", "2026-11-30", "--lang", "en"])
    assert "1 deal(s) of the quarter have no Amount that can be read and count as 0: Renewal (OP-1)" in said.stderr


def test_a_negative_deal_amount_is_an_error_and_weighs_nothing(tmp_path) -> None:
    from tests.helpers import save_sheets

    path = save_sheets(
        tmp_path / "minus.xlsx",
        {
            "Contacts": [["Name"], ["Amy"]],
            "Opportunities": [
                ["ID", "Name", "Contact ID", "Stage", "Amount", "Expected Close"],
                ["OP-1", "Refund?", "Amy", "Proposal", -500, dt.datetime(2026, 12, 10)],
            ],
            "Activities": [["Date", "Type", "Contact ID"]],
        },
    )
    book = sheetcrm.open(path)
    assert (book.validate()["severity"] == "error").any()
    result = book.sync(as_of="2026-11-30", dry_run=True)
    assert pd.isna(result.computed[Tab.OPPORTUNITIES]["Weighted Amount"].iloc[0])
    assert sheetcrm.forecast(path, "2026Q4", as_of="2026-11-30").unpriced == ("Refund? (OP-1)",)
