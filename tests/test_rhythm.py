"""Rhythm-aware churn: P(alive), Expected 90d and Rhythm, from the library to the sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import cast

import numpy as np
import openpyxl
import pandas as pd
import pytest

import sheetcrm
from sheetcrm.customers import btyd, notices
from sheetcrm.customers.notices import RULES_MARKER_EN, RULES_MARKER_ZH, NoticeKind
from sheetcrm.customers.rhythm import RHYTHM_COLUMNS, rhythm_class, rhythm_table
from sheetcrm.schema import Lang, Rhythm, Tab
from sheetcrm.settings import Settings
from tests.helpers import TX_AS_OF, tx_of

AS_OF = TX_AS_OF


def rhythmic_book(customers: int = 150, seed: int = 3) -> list[tuple[str, int, float]]:
    """Purchase histories drawn from the MBG/NBD story itself (seeded): each customer buys at
    their own gamma-distributed weekly rate and, at their first purchase and after each one,
    leaves for good with their own beta-distributed probability. First purchases fall
    over the 52 weeks before the last 52."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, int, float]] = []
    for i in range(customers):
        rate = rng.gamma(0.6, 1 / 3.0)  # purchases per week
        drop = rng.beta(0.8, 2.5)
        day = int(rng.integers(365, 730))  # age of the first purchase
        while day >= 0:
            rows.append((f"P-{i:03d}", day, 100.0))
            if rng.random() < drop:
                break
            day -= max(1, round(7 * rng.exponential(1 / rate)))
    return rows


def repeat_buyers(rows: list[tuple[str, int, float]]) -> int:
    days: dict[str, set[int]] = {}
    for customer, age, _ in rows:
        days.setdefault(customer, set()).add(age)
    return sum(1 for d in days.values() if len(d) > 1)


# --- rhythm class ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "rhythm"),
    [
        (1.0, Rhythm.ACTIVE),
        (0.7, Rhythm.ACTIVE),
        (0.6999, Rhythm.AT_RISK),
        (0.3, Rhythm.AT_RISK),
        (0.2999, Rhythm.LIKELY_GONE),
        (0.0, Rhythm.LIKELY_GONE),
        (np.nan, None),
    ],
)
def test_rhythm_class_boundaries(p: float, rhythm: Rhythm | None) -> None:
    assert rhythm_class(pd.Series([p]), Settings()).iloc[0] is rhythm


@pytest.mark.parametrize(("active", "gone", "rhythm"), [(0.5, 0.2, Rhythm.ACTIVE), (0.9, 0.6, Rhythm.LIKELY_GONE)])
def test_rhythm_class_follows_settings(active: float, gone: float, rhythm: Rhythm) -> None:
    assert rhythm_class(pd.Series([0.55]), Settings(active_p=active, gone_p=gone)).iloc[0] is rhythm


# --- rhythm_table ----------------------------------------------------------------------


def test_fitted_book() -> None:
    rows = [*rhythmic_book(), ("ONCE", 100, 50.0), ("TODAY", 0, 50.0)]
    customers = pd.Index([*dict.fromkeys(r[0] for r in rows), "NEVER"], dtype=object)
    result = rhythm_table(tx_of(rows), customers, "contact_id", AS_OF, Settings(min_repeat_buyers=20))
    table = result.table
    assert list(table.columns) == list(RHYTHM_COLUMNS)
    assert result.fit is not None and result.fit.converged and result.fit.model is btyd.Model.MBG_NBD
    assert result.notice.kind is NoticeKind.RHYTHM_FITTED
    buyers = table.drop(index="NEVER")
    assert buyers["p_alive"].between(0, 1).all() and (buyers["expected_90d"] >= 0).all()
    assert 0 < cast(float, table.loc["ONCE", "p_alive"]) < 1  # MBG/NBD: a one-time buyer can be gone
    assert table.loc[["NEVER"]].isna().all(axis=None)
    # a weekly buyer who stopped a year ago is gone; one who bought last week is not
    weekly = [(f"W-{k}", age, 10.0) for k, start in ((0, 0), (1, 365)) for age in range(start + 364, start - 1, -7)]
    both = rhythm_table(
        tx_of(rows + weekly),
        customers.append(pd.Index(["W-0", "W-1"])),
        "contact_id",
        AS_OF,
        Settings(min_repeat_buyers=20),
    ).table
    assert both.loc["W-0", "rhythm"] is Rhythm.ACTIVE and both.loc["W-1", "rhythm"] is Rhythm.LIKELY_GONE
    assert cast(float, both.loc["W-0", "expected_90d"]) > 5 > cast(float, both.loc["W-1", "expected_90d"])


def test_bg_nbd_by_setting() -> None:
    rows = [*rhythmic_book(), ("ONCE", 100, 50.0)]
    customers = pd.Index(dict.fromkeys(r[0] for r in rows), dtype=object)
    result = rhythm_table(
        tx_of(rows), customers, "contact_id", AS_OF, Settings(min_repeat_buyers=20, rhythm_model="BG/NBD")
    )
    assert result.fit is not None and result.fit.model is btyd.Model.BG_NBD
    assert result.table.loc["ONCE", "p_alive"] == 1.0  # BG/NBD's known blind spot


@pytest.mark.parametrize(("more", "fitted"), [(0, True), (1, False)])
def test_too_few_repeat_buyers_leaves_the_columns_empty(more: int, fitted: bool) -> None:
    rows = rhythmic_book()
    customers = pd.Index(dict.fromkeys(r[0] for r in rows), dtype=object)
    repeat = repeat_buyers(rows)
    needed = repeat + more  # the boundary of the setting is at the book's repeat buyers
    result = rhythm_table(tx_of(rows), customers, "contact_id", AS_OF, Settings(min_repeat_buyers=needed))
    assert bool(result.table["p_alive"].notna().any()) is fitted
    if not fitted:
        assert result.table.isna().all(axis=None)
        assert result.notice.kind is NoticeKind.RHYTHM_EMPTY
        assert f"only {repeat}" in result.notice.en and f"needs {needed}" in result.notice.en
        assert "rhythm.min_repeat_buyers" in result.notice.zh


def test_a_fit_that_fails_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = rhythmic_book()
    customers = pd.Index(dict.fromkeys(r[0] for r in rows), dtype=object)
    settings = Settings(min_repeat_buyers=1)

    def not_converged(frame, model):
        params = pd.Series([1.0, 1.0, 1.0, 1.0], index=list(btyd.PARAMS))
        return btyd.Fit(btyd.Model(model), params, False, -1.0, 500, len(frame), 1, "ABNORMAL_TERMINATION")

    monkeypatch.setattr(btyd, "fit", not_converged)
    result = rhythm_table(tx_of(rows), customers, "contact_id", AS_OF, settings)
    assert result.table.isna().all(axis=None)
    assert result.notice.kind is NoticeKind.RHYTHM_EMPTY and "ABNORMAL_TERMINATION" in result.notice.en

    def broken(frame, model):
        raise FloatingPointError("overflow in the likelihood")

    monkeypatch.setattr(btyd, "fit", broken)
    result = rhythm_table(tx_of(rows), customers, "contact_id", AS_OF, settings)
    assert result.table.isna().all(axis=None) and "overflow" in result.notice.en


# --- settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "attr", "expected", "problem"),
    [
        ("rhythm.min_repeat_buyers", "50", "min_repeat_buyers", 50, False),
        ("rhythm.min_repeat_buyers", "0", "min_repeat_buyers", 200, True),
        ("rhythm.active_p", "80%", "active_p", 0.8, False),
        ("rhythm.active_p", "1.5", "active_p", 0.7, True),
        ("rhythm.gone_p", "0.1", "gone_p", 0.1, False),
        ("rhythm.gone_p", "0.9", "gone_p", 0.3, True),  # above active_p: both defaults
        ("rhythm.model", "bg/nbd", "rhythm_model", "BG/NBD", False),
        ("rhythm.model", "Pareto/NBD", "rhythm_model", "MBG/NBD", True),
    ],
)
def test_rhythm_settings(key: str, value: str, attr: str, expected: object, problem: bool) -> None:
    table = pd.DataFrame({"Key": [key], "Value": [value], "_row": [5]})
    settings, problems = Settings.from_table(table)
    assert getattr(settings, attr) == expected
    assert bool(problems) is problem
    if problem:
        assert problems[0]["row"] == 5 and key in problems[0]["message"]


# --- through a workbook ------------------------------------------------------------------


def _cells(path: Path, title: str) -> pd.DataFrame:
    rows = list(openpyxl.load_workbook(path)[title].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _workbook_rows(min_repeat: int | None) -> dict[Tab, list[dict[str, object]]]:
    book = [*rhythmic_book(customers=60), ("ONCE", 100, 50.0)]
    contacts = [*list(dict.fromkeys(r[0] for r in book)), "NEVER"]
    as_of = AS_OF.date()
    rows: dict[Tab, list[dict[str, object]]] = {
        Tab.CONTACTS: [{"ID": c, "Name": f"Customer {c}"} for c in contacts],
        Tab.ACTIVITIES: [
            {
                "ID": f"A-{i:05d}",
                "Date": as_of - dt.timedelta(days=age),
                "Type": "Purchase",
                "Contact ID": c,
                "Amount": amt,
            }
            for i, (c, age, amt) in enumerate(book)
        ],
    }
    if min_repeat is not None:
        rows[Tab.SETTINGS] = [{"Key": "rhythm.min_repeat_buyers", "Value": min_repeat}]
    return rows


@pytest.mark.parametrize("lang", [Lang.EN, Lang.ZH_TW])
def test_sync_writes_p_alive_under_bilingual_headers(make_workbook, lang: Lang) -> None:
    path = make_workbook(_workbook_rows(min_repeat=10), lang=lang)
    result = sheetcrm.open(path).sync(as_of=AS_OF.date())
    title = Tab.CONTACTS.label(lang)
    contacts = _cells(path, title).set_index("ID" if lang is Lang.EN else "編號")
    header = {
        Lang.EN: ("P(alive)", "Expected 90d", "Rhythm"),
        Lang.ZH_TW: ("存活機率", "預期90天購買次數", "購買節奏"),
    }[lang]
    p_alive, expected, rhythm = (contacts[h] for h in header)
    assert p_alive.drop("NEVER").between(0, 1).all() and pd.isna(p_alive["NEVER"])
    assert (p_alive.drop("NEVER").round(2) == p_alive.drop("NEVER")).all()  # two decimals
    assert (expected.drop("NEVER") >= 0).all()
    assert set(rhythm.dropna()) <= {r.label(lang) for r in Rhythm}
    assert 0 < p_alive["ONCE"] < 1
    fitted = [line for line in result.counts["notices"] if "MBG/NBD" in line]
    assert len(fitted) == 1
    # notices come in the workbook's language
    assert ("存活機率" in fitted[0]) is (lang is Lang.ZH_TW)
    # A workbook never scored before has no scores the new rules change: the note goes to
    # its Log only (so no later sync tells it either).
    marker = RULES_MARKER_ZH if lang is Lang.ZH_TW else RULES_MARKER_EN
    assert not any(marker in line for line in result.counts["notices"])
    log, reason = ("Log", "Reason") if lang is Lang.EN else ("同步紀錄", "原因")
    assert _cells(path, log)[reason].dropna().str.contains(marker).sum() == 1


def test_a_workbook_scored_under_the_old_rules_is_told_of_the_new_ones(make_workbook) -> None:
    rows = _workbook_rows(min_repeat=None)
    rows[Tab.CONTACTS][0]["Segment"] = "Champions"  # a score from an earlier sync
    result = sheetcrm.open(make_workbook(rows)).sync(as_of=AS_OF.date())
    assert sum(RULES_MARKER_EN in line for line in result.counts["notices"]) == 1


def test_sync_explains_empty_columns_and_notes_the_new_rules_once(make_workbook) -> None:
    path = make_workbook(_workbook_rows(min_repeat=None))  # 20 repeat buyers < 200
    first = sheetcrm.open(path).sync(as_of=AS_OF.date())
    contacts = _cells(path, "Contacts")
    assert "P(alive)" not in contacts or contacts["P(alive)"].isna().all()
    why = [line for line in first.summary_lines() if "left empty" in line]
    assert len(why) == 1 and why[0].startswith("Contacts:")  # no company bought: nothing to say
    log = _cells(path, "Log")["Reason"].dropna()
    assert log.str.contains("rhythm.min_repeat_buyers").sum() == 1
    assert log.str.contains(RULES_MARKER_EN).sum() == 1
    # the next sync that writes says why again, but not the rules note
    wb = openpyxl.load_workbook(path)
    ws = wb["Activities"]
    ws.append(["A-99999", AS_OF.date(), "Purchase", "NEVER"])
    wb.save(path)
    header = [c.value for c in ws[1]]
    ws.cell(row=ws.max_row, column=header.index("Amount") + 1, value=10)
    wb.save(path)
    second = sheetcrm.open(path).sync(as_of=AS_OF.date())
    assert not any(RULES_MARKER_EN in line for line in second.summary_lines())
    log = _cells(path, "Log")["Reason"].dropna()
    assert log.str.contains(RULES_MARKER_EN).sum() == 1
    assert log.str.contains("rhythm.min_repeat_buyers").sum() == 2


@pytest.mark.parametrize(
    "tab,counted",
    [
        (Tab.CONTACTS, "只有 62 位連絡人購買超過一次，模型至少需要 200 位"),
        (Tab.COMPANIES, "只有 62 家公司購買超過一次，模型至少需要 200 家"),
    ],
)
def test_chinese_notices_count_companies_as_companies(tab: Tab, counted: str) -> None:
    assert counted in notices.rhythm_too_few(tab, 62, 200).zh
    fitted = notices.rhythm_fitted(tab, "MBG/NBD", 448, 268, 271, 121, 56, 0.1).zh
    unit = "家" if tab is Tab.COMPANIES else "位"
    assert f"依 448 {unit}購買過的" in fitted and f"其中 268 {unit}回購" in fitted


@pytest.mark.parametrize("told", [True, False])
@pytest.mark.parametrize("lang", [Lang.EN, Lang.ZH_TW])
def test_the_rules_note_from_the_catalog_is_recognised_in_a_log(lang: Lang, told: bool) -> None:
    said = notices.rules_changed(told).text(lang)
    assert notices.has_rules_note([said]) and not notices.has_rules_note(
        [notices.rhythm_too_few(Tab.CONTACTS, 1, 2).text(lang)]
    )
