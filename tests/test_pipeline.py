"""Tests for sheetcrm.pipeline.stages: stage advancement on evidence, people's edits, computed
columns and flags. Small inline DataFrames; one volume smoke test."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sheetcrm.pipeline.stages import (
    RESULT_COLUMNS,
    STAGE_ORDER,
    STAGES,
    advance_stages,
    pipeline_summary,
    stage_from_order,
    stage_order,
)
from sheetcrm.schema import ActivityType, Flag, Lang, Stage
from sheetcrm.settings import Settings

A = ActivityType
S = Stage
AS_OF = pd.Timestamp("2026-03-10")
OLD = pd.Timestamp("2026-01-05")  # a Stage Since well before the activities
NAT = pd.NaT
SETTINGS = Settings()

OPP_DEFAULTS: dict[str, Any] = {
    "ID": "OP-1",
    "Stage": S.LEAD,
    "Amount": 1000.0,
    "Expected Close": NAT,
    "Closed": NAT,
    "Stage Seen": S.LEAD,
    "Stage Since": OLD,
    "Stage Reason": "first seen 2026-01-05",
}
OBJECT_COLUMNS = {
    "ID",
    "Stage",
    "Stage Seen",
    "Stage Reason",
    "change",
    "evidence",
    "Flags",
    "Opportunity ID",
    "Type",
}
DATE_COLUMNS = {"Expected Close", "Closed", "Stage Since", "Date"}
FLOAT_COLUMNS = {"Amount", "Probability", "Weighted Amount"}


def typed(data: dict[str, list[Any]], index: Any = None) -> pd.DataFrame:
    """A DataFrame with the typed-input dtypes (object enums/text, datetime64[ns], ...)."""
    cols: dict[str, pd.Series] = {}
    for name, values in data.items():
        if name in OBJECT_COLUMNS:
            cols[name] = pd.Series(values, dtype=object, index=index)
        elif name in DATE_COLUMNS:
            cols[name] = pd.Series(
                pd.to_datetime(pd.Series(values, dtype=object)).to_numpy(dtype="datetime64[ns]"), index=index
            )
        elif name in FLOAT_COLUMNS:
            cols[name] = pd.Series(values, dtype="float64", index=index)
        elif name == "Days in Stage":
            cols[name] = pd.Series(values, dtype="Int64", index=index)
        else:
            raise KeyError(name)
    return pd.DataFrame(cols, index=index)


def opps(*rows: dict[str, Any], index: Any = None) -> pd.DataFrame:
    """Opportunities from partial row dicts (missing keys take OPP_DEFAULTS; IDs OP-1...)."""
    full = []
    for i, row in enumerate(rows, start=1):
        full.append({**OPP_DEFAULTS, "ID": f"OP-{i}", **row})
    return typed({k: [r[k] for r in full] for k in OPP_DEFAULTS}, index=index)


def acts(*rows: tuple[str | None, str | None, Any, str | None]) -> pd.DataFrame:
    """Activities from (ID, Date, Type, Opportunity ID) tuples."""
    columns = ("ID", "Date", "Type", "Opportunity ID")
    return typed({c: [r[i] for r in rows] for i, c in enumerate(columns)})


NO_ACTS = acts()


def run(
    o: pd.DataFrame, a: pd.DataFrame = NO_ACTS, as_of: pd.Timestamp = AS_OF, settings: Settings = SETTINGS
) -> pd.DataFrame:
    result = advance_stages(o, a, as_of, settings)
    assert list(result.columns) == list(RESULT_COLUMNS)
    assert result.index.equals(o.index)
    return result


def check(result: pd.DataFrame, **expected: Any) -> None:
    """assert_frame_equal on the named columns of ``result``."""
    assert_frame_equal(result[list(expected)], typed(expected, index=result.index))


def feed_back(o: pd.DataFrame, result: pd.DataFrame) -> pd.DataFrame:
    """The opportunities as the next sync reads them after ``result`` was written."""
    o = o.copy()
    for col in ("Stage", "Stage Seen", "Stage Since", "Stage Reason"):
        o[col] = result[col]
    return o


# ------------------------------------------------------------------ helpers


def test_stage_order_helpers() -> None:
    assert [STAGE_ORDER[s] for s in STAGES] == list(range(6))
    got = stage_order(pd.Series([S.WON, None, "Lead", "nonsense"], dtype=object))
    assert got.tolist()[0] == 4 and got.tolist()[2] == 0
    assert got.isna().tolist() == [False, True, False, True]
    assert list(stage_from_order([0, 5, -1, np.nan])) == [S.LEAD, S.LOST, None, None]


# ------------------------------------------------------------------ evidence


@pytest.mark.parametrize(
    ("atype", "stage"),
    [
        (A.DEMO, S.QUALIFIED),
        (A.MEETING, S.QUALIFIED),
        (A.VISIT, S.QUALIFIED),
        (A.PROPOSAL, S.PROPOSAL),
        (A.QUOTE, S.PROPOSAL),
        (A.CONTRACT, S.NEGOTIATION),
        (A.ORDER, S.WON),
        (A.PURCHASE, S.WON),
    ],
)
def test_default_rules_advance(atype: ActivityType, stage: Stage) -> None:
    r = run(opps({}), acts(("A-0012", "2026-03-05", atype, "OP-1")))
    check(
        r,
        Stage=[stage],
        change=["advanced"],
        evidence=["A-0012"],
        **{
            "Stage Seen": [stage],
            "Stage Since": ["2026-03-05"],
            "Stage Reason": [f"{atype.value} A-0012 on 2026-03-05"],
            "Days in Stage": [5],
        },
    )


@pytest.mark.parametrize(
    "atype",
    [A.CALL, A.EMAIL, A.NOTE, A.OTHER, A.EVENT_INVITED, A.EVENT_ATTENDED, None, "Demoo"],
)
def test_types_without_rule_or_invalid_never_count(atype: Any) -> None:
    r = run(opps({}), acts(("A-1", "2026-03-05", atype, "OP-1")))
    check(r, Stage=[S.LEAD], change=[None], evidence=[None], **{"Stage Since": [OLD]})


@pytest.mark.parametrize(
    ("activities", "stage", "evidence", "since"),
    [
        # the highest stage wins, whatever the dates
        (
            [("A-1", "2026-03-01", A.CONTRACT, "OP-1"), ("A-2", "2026-03-08", A.DEMO, "OP-1")],
            S.NEGOTIATION,
            "A-1",
            "2026-03-01",
        ),
        # the earliest activity reaching that stage is the evidence
        (
            [("A-9", "2026-03-02", A.QUOTE, "OP-1"), ("A-3", "2026-03-07", A.PROPOSAL, "OP-1")],
            S.PROPOSAL,
            "A-9",
            "2026-03-02",
        ),
        # same day: the smallest ID (as text)
        (
            [
                ("A-20", "2026-03-02", A.QUOTE, "OP-1"),
                ("A-10", "2026-03-02", A.PROPOSAL, "OP-1"),
                ("A-3", "2026-03-03", A.PROPOSAL, "OP-1"),
            ],
            S.PROPOSAL,
            "A-10",
            "2026-03-02",
        ),
        # a missing activity ID loses a tie
        (
            [(None, "2026-03-02", A.QUOTE, "OP-1"), ("A-5", "2026-03-02", A.QUOTE, "OP-1")],
            S.PROPOSAL,
            "A-5",
            "2026-03-02",
        ),
        # other deals' and unlinked activities are not evidence
        (
            [
                ("A-1", "2026-03-02", A.ORDER, "OP-2"),
                ("A-2", "2026-03-02", A.ORDER, None),
                ("A-3", "2026-03-04", A.DEMO, "OP-1"),
            ],
            S.QUALIFIED,
            "A-3",
            "2026-03-04",
        ),
    ],
)
def test_target_and_evidence_choice(
    activities: list[tuple[str | None, str, Any, str | None]],
    stage: Stage,
    evidence: str,
    since: str,
) -> None:
    r = run(opps({}), acts(*activities))
    check(r, Stage=[stage], change=["advanced"], evidence=[evidence], **{"Stage Since": [since]})


def test_deals_without_ids_yet_are_placed_too() -> None:
    # a sheet never synced: forecast and focus place its deals before sync numbers them
    result = run(opps({"ID": None, "Stage": Stage.PROPOSAL}, {"ID": None}), acts((None, "2026-03-01", "Call", None)))
    check(result, Stage=[Stage.PROPOSAL, Stage.LEAD])


def test_a_deal_first_seen_closed_has_been_in_its_stage_since_it_closed() -> None:
    first_seen = {"Stage Seen": None, "Stage Since": None, "Stage Reason": None}
    result = run(
        opps(
            {**first_seen, "Stage": S.WON, "Closed": "2026-01-20"},
            {**first_seen, "Stage": S.LOST, "Closed": None},  # closed, but nobody said when
            {**first_seen, "Stage": S.WON, "Closed": "2026-04-01"},  # after the as-of day: not yet
        )
    )
    check(result, **{"Stage Since": ["2026-01-20", "2026-03-10", "2026-03-10"]})
    assert result["Days in Stage"].tolist() == [49, 0, 0]


def test_evidence_without_activity_id_still_counts() -> None:
    r = run(opps({}), acts((None, "2026-03-05", A.DEMO, "OP-1")))
    check(r, Stage=[S.QUALIFIED], change=["advanced"], evidence=[None], **{"Stage Reason": ["Demo on 2026-03-05"]})


@pytest.mark.parametrize(
    ("date", "moves"),
    [
        ("2026-03-10", True),  # dated as_of: counts (same day)
        ("2026-03-11", False),  # after as_of: ignored
        ("2027-01-01", False),
        (None, False),  # no date: ignored
    ],
)
def test_evidence_dates_relative_to_as_of(date: str | None, moves: bool) -> None:
    r = run(opps({}), acts(("A-1", date, A.PROPOSAL, "OP-1")))
    assert r["Stage"].iloc[0] is (S.PROPOSAL if moves else S.LEAD)
    assert r["change"].iloc[0] == ("advanced" if moves else None)


@pytest.mark.parametrize(
    ("date", "moves"),
    [
        ("2026-03-03", True),  # after Stage Since
        ("2026-03-02", True),  # on Stage Since (same day): counts
        ("2026-03-01", False),  # before Stage Since: already accounted for
    ],
)
def test_evidence_relative_to_stage_since(date: str, moves: bool) -> None:
    o = opps({"Stage": S.QUALIFIED, "Stage Seen": S.QUALIFIED, "Stage Since": "2026-03-02"})
    r = run(o, acts(("A-1", date, A.QUOTE, "OP-1")))
    assert r["Stage"].iloc[0] is (S.PROPOSAL if moves else S.QUALIFIED)


def test_no_stage_since_counts_all_evidence() -> None:
    o = opps({"Stage Since": NAT, "Stage Seen": None, "Stage Reason": None})
    r = run(o, acts(("A-1", "2020-01-01", A.DEMO, "OP-1")))
    check(r, Stage=[S.QUALIFIED], change=["advanced"], **{"Stage Since": ["2020-01-01"]})


# ------------------------------------------------------------------ never backward / closed


@pytest.mark.parametrize("current", [S.QUALIFIED, S.PROPOSAL, S.NEGOTIATION])
@pytest.mark.parametrize("atype", [A.DEMO, A.QUOTE, A.CONTRACT])
def test_never_backward(current: Stage, atype: ActivityType) -> None:
    o = opps({"Stage": current, "Stage Seen": current, "Stage Reason": "kept as is"})
    r = run(o, acts(("A-1", "2026-03-05", atype, "OP-1")))
    expected = max(
        current,
        S.QUALIFIED if atype is A.DEMO else S.PROPOSAL if atype is A.QUOTE else S.NEGOTIATION,
        key=lambda s: s.order,
    )
    assert r["Stage"].iloc[0] is expected
    if expected is current:
        check(r, change=[None], evidence=[None], **{"Stage Since": [OLD], "Stage Reason": ["kept as is"]})


@pytest.mark.parametrize("closed", [S.WON, S.LOST])
@pytest.mark.parametrize("atype", [A.DEMO, A.QUOTE, A.CONTRACT, A.ORDER, A.PURCHASE])
def test_never_out_of_won_or_lost(closed: Stage, atype: ActivityType) -> None:
    o = opps({"Stage": closed, "Stage Seen": closed, "Stage Reason": "closed"})
    r = run(o, acts(("A-1", "2026-03-05", atype, "OP-1")))
    check(r, Stage=[closed], change=[None], evidence=[None], **{"Stage Since": [OLD], "Stage Reason": ["closed"]})


def test_lost_is_never_reached_by_evidence_even_if_a_rule_says_so() -> None:
    settings = SETTINGS.replace(stage_rules={A.NOTE: S.LOST, A.DEMO: S.QUALIFIED})
    r = run(
        opps({}, {}),
        acts(
            ("A-1", "2026-03-05", A.NOTE, "OP-1"),
            ("A-2", "2026-03-05", A.NOTE, "OP-2"),
            ("A-3", "2026-03-06", A.DEMO, "OP-2"),
        ),
        settings=settings,
    )
    check(r, Stage=[S.LEAD, S.QUALIFIED], change=[None, "advanced"], evidence=[None, "A-3"])


# ------------------------------------------------------------------ people's edits


def test_person_backward_move_respected_then_newer_evidence_moves_it() -> None:
    o = opps({"Stage": S.LEAD, "Stage Seen": S.PROPOSAL, "Stage Reason": "Quote A-1 on ..."})
    a = acts(
        ("A-1", "2026-02-01", A.QUOTE, "OP-1"), ("A-2", "2026-03-10", A.CONTRACT, "OP-1")
    )  # on the day it is noticed
    r = run(o, a)
    check(
        r,
        Stage=[S.LEAD],
        change=["person"],
        evidence=[None],
        **{
            "Stage Seen": [S.LEAD],
            "Stage Since": ["2026-03-10"],
            "Stage Reason": ["changed by a person (noticed 2026-03-10)"],
            "Days in Stage": [0],
        },
    )
    # next sync, a week later: the activity dated on the day of the edit still does not
    # count; nothing newer yet -> unchanged
    o2 = feed_back(o, r)
    r2 = run(o2, a, as_of=pd.Timestamp("2026-03-17"))
    check(
        r2,
        Stage=[S.LEAD],
        change=[None],
        **{
            "Stage Since": ["2026-03-10"],
            "Days in Stage": [7],
            "Stage Reason": ["changed by a person (noticed 2026-03-10)"],
        },
    )
    # a newer demo moves it forward again
    a3 = pd.concat([a, acts(("A-3", "2026-03-11", A.DEMO, "OP-1"))], ignore_index=True)
    r3 = run(o2, a3, as_of=pd.Timestamp("2026-03-17"))
    check(
        r3,
        Stage=[S.QUALIFIED],
        change=["advanced"],
        evidence=["A-3"],
        **{
            "Stage Since": ["2026-03-11"],
            "Stage Reason": ["Demo A-3 on 2026-03-11"],
        },
    )


@pytest.mark.parametrize(
    ("stage", "seen"),
    [
        (S.WON, S.QUALIFIED),
        (S.LOST, S.NEGOTIATION),
        (S.LOST, S.LEAD),
        (S.NEGOTIATION, S.WON),
        (S.LEAD, S.LOST),
        (S.WON, S.LOST),
        (S.PROPOSAL, S.LEAD),  # forward by hand
    ],
)
def test_person_moves_respected_including_to_and_from_closed(stage: Stage, seen: Stage) -> None:
    o = opps({"Stage": stage, "Stage Seen": seen})
    a = acts(("A-1", "2026-02-01", A.ORDER, "OP-1"), ("A-2", "2026-03-10", A.ORDER, "OP-1"))
    r = run(o, a)
    check(r, Stage=[stage], change=["person"], evidence=[None], **{"Stage Seen": [stage], "Stage Since": [AS_OF]})
    # and it stays that way with no newer evidence
    r2 = run(feed_back(o, r), a)
    check(r2, Stage=[stage], change=[None], **{"Stage Since": [AS_OF]})


def test_person_move_out_of_won_is_not_rewon_by_the_old_order() -> None:
    o = opps({"Stage": S.NEGOTIATION, "Stage Seen": S.WON})
    a = acts(("A-1", "2026-02-01", A.ORDER, "OP-1"))
    r = run(o, a)
    r2 = run(feed_back(o, r), a, as_of=pd.Timestamp("2026-04-01"))
    check(r2, Stage=[S.NEGOTIATION], change=[None])
    a3 = pd.concat([a, acts(("A-7", "2026-03-20", A.ORDER, "OP-1"))], ignore_index=True)
    r3 = run(feed_back(o, r), a3, as_of=pd.Timestamp("2026-04-01"))
    check(r3, Stage=[S.WON], change=["advanced"], evidence=["A-7"])


# ------------------------------------------------------------------ blank stage / first seen


@pytest.mark.parametrize(
    ("activities", "stage", "evidence", "since", "reason"),
    [
        ([], S.LEAD, None, "2026-03-10", "blank stage set to Lead (2026-03-10)"),
        ([("A-1", "2026-03-01", A.CALL, "OP-1")], S.LEAD, None, "2026-03-10", "blank stage set to Lead (2026-03-10)"),
        (
            [("A-1", "2025-06-01", A.MEETING, "OP-1"), ("A-2", "2025-07-01", A.QUOTE, "OP-1")],
            S.PROPOSAL,
            "A-2",
            "2025-07-01",
            "Quote A-2 on 2025-07-01",
        ),
        ([("A-1", "2026-03-01", A.PURCHASE, "OP-1")], S.WON, "A-1", "2026-03-01", "Purchase A-1 on 2026-03-01"),
        (
            [("A-1", "2026-03-11", A.PURCHASE, "OP-1")],
            S.LEAD,
            None,
            "2026-03-10",
            "blank stage set to Lead (2026-03-10)",
        ),
    ],
)
@pytest.mark.parametrize("seen", [None, S.NEGOTIATION])  # new row / a person cleared it
def test_blank_stage_is_filled(
    activities: list[tuple[str, str, Any, str]],
    stage: Stage,
    evidence: str | None,
    since: str,
    reason: str,
    seen: Stage | None,
) -> None:
    o = opps({"Stage": None, "Stage Seen": seen, "Stage Since": "2026-02-01", "Stage Reason": None})
    r = run(o, acts(*activities))
    check(
        r,
        Stage=[stage],
        change=["filled"],
        evidence=[evidence],
        **{
            "Stage Seen": [stage],
            "Stage Since": [since],
            "Stage Reason": [reason],
        },
    )
    r2 = run(feed_back(o, r), acts(*activities))
    check(r2, Stage=[stage], change=[None], **{"Stage Since": [since], "Stage Reason": [reason]})


def test_unknown_stage_value_is_treated_as_blank() -> None:
    r = run(opps({"Stage": "nonsense", "Stage Seen": None}))
    check(r, Stage=[S.LEAD], change=["filled"])


def test_first_seen_deal_gets_stage_since_and_reason() -> None:
    o = opps(
        {"Stage": S.PROPOSAL, "Stage Seen": None, "Stage Since": NAT, "Stage Reason": None},
        {"Stage": S.PROPOSAL, "Stage Seen": None, "Stage Since": "2026-02-01", "Stage Reason": "imported"},
        {"Stage": S.PROPOSAL, "Stage Seen": S.PROPOSAL, "Stage Since": "2026-02-01", "Stage Reason": None},
    )
    r = run(o)
    check(
        r,
        Stage=[S.PROPOSAL] * 3,
        change=[None] * 3,
        **{
            "Stage Seen": [S.PROPOSAL] * 3,
            "Stage Since": ["2026-03-10", "2026-02-01", "2026-02-01"],
            "Stage Reason": ["first seen 2026-03-10", "imported", "in this stage since 2026-02-01"],
            "Days in Stage": [0, 37, 37],
        },
    )


def test_unchanged_deal_keeps_its_reason_text() -> None:
    o = opps({"Stage": S.QUALIFIED, "Stage Seen": S.QUALIFIED, "Stage Reason": "some old text"})
    r = run(o, acts(("A-1", "2026-03-05", A.CALL, "OP-1")))
    check(r, **{"Stage Reason": ["some old text"], "Stage Since": [OLD]})


# ------------------------------------------------------------------ flags


@pytest.mark.parametrize(
    ("row", "activities", "flags"),
    [
        # stale: latest linked activity more than stale_days (30) before as_of
        ({}, [("A-1", "2026-02-07", A.CALL, "OP-1")], "stale"),
        ({}, [("A-1", "2026-02-08", A.CALL, "OP-1")], None),  # exactly 30 days: not stale
        (
            {},
            [("A-1", "2026-02-07", A.CALL, "OP-1"), ("A-2", "2026-03-01", None, "OP-1")],
            None,
        ),  # any linked activity, even of an unknown type, is activity
        (
            {},
            [("A-1", "2026-02-07", A.CALL, "OP-1"), ("A-2", "2026-03-12", A.CALL, "OP-1")],
            "stale",
        ),  # activities after as_of do not count
        ({}, [], "stale"),  # no activity: Stage Since (2026-01-05) is the last sign of life
        ({"Stage Since": "2026-02-20"}, [], None),
        ({"Stage": S.WON, "Stage Seen": S.WON}, [], None),  # closed deals are never stale
        ({"Stage": S.LOST, "Stage Seen": S.LOST}, [], None),
        # overdue: open deal whose Expected Close < as_of
        ({"Expected Close": "2026-03-09", "Stage Since": "2026-03-01"}, [], "overdue"),
        ({"Expected Close": "2026-03-10", "Stage Since": "2026-03-01"}, [], None),
        ({"Expected Close": "2026-03-09", "Stage": S.WON, "Stage Seen": S.WON}, [], None),
        ({"Expected Close": "2026-01-09"}, [], "stale; overdue"),
        # won without amount
        ({"Stage": S.WON, "Stage Seen": S.WON, "Amount": np.nan}, [], "won without amount"),
        ({"Stage": S.WON, "Stage Seen": S.WON, "Amount": 0.0}, [], "won without amount"),
        ({"Stage": S.WON, "Stage Seen": S.WON, "Amount": 5.0}, [], None),
        ({"Stage": S.LOST, "Stage Seen": S.LOST, "Amount": np.nan}, [], None),
        ({"Amount": np.nan}, [("A-1", "2026-03-01", A.ORDER, "OP-1")], "won without amount"),
    ],
)
def test_flags(row: dict[str, Any], activities: list[tuple[str, str, Any, str]], flags: str | None) -> None:
    r = run(opps(row), acts(*activities))
    check(r, Flags=[flags])


def test_flags_in_chinese_and_stale_days_from_settings() -> None:
    o = opps(
        {"Expected Close": "2026-03-01", "Stage Since": "2026-03-01"},
        {"Stage": S.WON, "Stage Seen": S.WON, "Amount": np.nan},
    )
    r = run(o, settings=SETTINGS.replace(language=Lang.ZH_TW, stale_days=5))
    stale, overdue = Flag.STALE.label(Lang.ZH_TW), Flag.OVERDUE.label(Lang.ZH_TW)
    check(r, Flags=[f"{stale}; {overdue}", Flag.WON_NO_AMOUNT.label(Lang.ZH_TW)])


# ------------------------------------------------------------------ probability / amounts


def test_probability_and_weighted_amount_from_settings() -> None:
    o = opps(
        *({"Stage": s, "Stage Seen": s, "Amount": 200.0} for s in STAGES),
        {"Stage": S.PROPOSAL, "Stage Seen": S.PROPOSAL, "Amount": np.nan},
    )
    r = run(o)
    check(
        r,
        Probability=[0.10, 0.25, 0.50, 0.75, 1.0, 0.0, 0.50],
        **{"Weighted Amount": [20.0, 50.0, 100.0, 150.0, 200.0, 0.0, np.nan]},
    )
    custom = SETTINGS.replace(
        stage_probability={
            S.LEAD: 5.0,
            S.QUALIFIED: 20.0,
            S.PROPOSAL: 40.0,
            S.NEGOTIATION: 80.0,
            S.WON: 100.0,
            S.LOST: 0.0,
        }
    )
    r = run(o, settings=custom)
    check(
        r,
        Probability=[0.05, 0.20, 0.40, 0.80, 1.0, 0.0, 0.40],
        **{"Weighted Amount": [10.0, 40.0, 80.0, 160.0, 200.0, 0.0, np.nan]},
    )


def test_probability_follows_the_new_stage() -> None:
    r = run(opps({"Amount": 100.0}), acts(("A-1", "2026-03-05", A.CONTRACT, "OP-1")))
    check(r, Probability=[0.75], **{"Weighted Amount": [75.0]})


# ------------------------------------------------------------------ custom rules


def test_custom_rules_from_settings() -> None:
    settings, problems = Settings.from_table(
        pd.DataFrame(
            {
                "Key": ["pipeline.rules"],
                "Value": ["電話=>確認需求; Demo=>Proposal; Order=>Negotiation"],
                "_row": [2],
            }
        )
    )
    assert problems == []
    o = opps({}, {}, {}, {})
    a = acts(
        ("A-1", "2026-03-05", A.CALL, "OP-1"),
        ("A-2", "2026-03-05", A.DEMO, "OP-2"),
        ("A-3", "2026-03-05", A.ORDER, "OP-3"),
        ("A-4", "2026-03-05", A.QUOTE, "OP-4"),
    )  # Quote no longer has a rule
    r = run(o, a, settings=settings)
    check(r, Stage=[S.QUALIFIED, S.PROPOSAL, S.NEGOTIATION, S.LEAD], evidence=["A-1", "A-2", "A-3", None])


# ------------------------------------------------------------------ language


def test_reasons_in_chinese() -> None:
    zh = SETTINGS.replace(language=Lang.ZH_TW)
    o = opps(
        {},
        {"Stage": S.QUALIFIED, "Stage Seen": S.PROPOSAL},
        {"Stage": None, "Stage Seen": None},
        {"Stage Seen": None, "Stage Since": NAT, "Stage Reason": None},
    )
    r = run(o, acts(("A-0012", "2026-03-05", A.DEMO, "OP-1")), settings=zh)
    check(
        r,
        **{
            "Stage Reason": [
                "展示 A-0012（2026-03-05）",
                "由人員變更（2026-03-10 發現）",
                "空白階段設為潛在（2026-03-10）",
                "首次同步（2026-03-10）",
            ]
        },
    )


def test_person_edit_noticed_in_one_language_is_still_recognised_in_the_other() -> None:
    o = opps({"Stage": S.LEAD, "Stage Seen": S.PROPOSAL})
    a = acts(("A-1", "2026-03-10", A.CONTRACT, "OP-1"))
    r = run(o, a, settings=SETTINGS.replace(language=Lang.ZH_TW))
    r2 = run(feed_back(o, r), a, as_of=pd.Timestamp("2026-03-12"))
    check(r2, Stage=[S.LEAD], change=[None])


# ------------------------------------------------------------------ idempotence


def _mixed_book() -> tuple[pd.DataFrame, pd.DataFrame]:
    o = opps(
        {},  # advanced
        {"Stage": S.LEAD, "Stage Seen": S.PROPOSAL},  # person, backward
        {"Stage": S.WON, "Stage Seen": S.NEGOTIATION, "Amount": 0.0},  # person, to Won
        {"Stage": None, "Stage Seen": None, "Stage Reason": None},  # filled on evidence
        {"Stage": None, "Stage Seen": None, "Stage Reason": None},  # filled with Lead
        {"Stage Seen": None, "Stage Since": NAT, "Stage Reason": None},  # first seen
        {"Stage": S.NEGOTIATION, "Stage Seen": S.NEGOTIATION, "Expected Close": "2026-03-01"},
        {"Stage": S.LOST, "Stage Seen": S.LOST},
        index=pd.Index([10, 3, 7, 1, 99, 4, 5, 6], name="row"),
    )
    a = acts(
        ("A-1", "2026-03-05", A.DEMO, "OP-1"),
        ("A-2", "2026-03-10", A.CONTRACT, "OP-2"),
        ("A-3", "2026-02-01", A.QUOTE, "OP-2"),
        ("A-4", "2026-02-11", A.MEETING, "OP-4"),
        ("A-5", "2026-03-09", A.CALL, "OP-5"),
        ("A-6", "2026-03-15", A.ORDER, "OP-6"),
        ("A-7", "2026-03-02", A.ORDER, "OP-8"),
    )
    return o, a


def test_mixed_book_full_frame() -> None:
    o, a = _mixed_book()
    r = run(o, a)
    expected = typed(
        {
            "Stage": [S.QUALIFIED, S.LEAD, S.WON, S.QUALIFIED, S.LEAD, S.LEAD, S.NEGOTIATION, S.LOST],
            "change": ["advanced", "person", "person", "filled", "filled", None, None, None],
            "evidence": ["A-1", None, None, "A-4", None, None, None, None],
            "Stage Seen": [S.QUALIFIED, S.LEAD, S.WON, S.QUALIFIED, S.LEAD, S.LEAD, S.NEGOTIATION, S.LOST],
            "Stage Since": [
                "2026-03-05",
                "2026-03-10",
                "2026-03-10",
                "2026-02-11",
                "2026-03-10",
                "2026-03-10",
                OLD,
                OLD,
            ],
            "Stage Reason": [
                "Demo A-1 on 2026-03-05",
                "changed by a person (noticed 2026-03-10)",
                "changed by a person (noticed 2026-03-10)",
                "Meeting A-4 on 2026-02-11",
                "blank stage set to Lead (2026-03-10)",
                "first seen 2026-03-10",
                "first seen 2026-01-05",
                "first seen 2026-01-05",
            ],
            "Days in Stage": [5, 0, 0, 27, 0, 0, 64, 64],
            "Probability": [0.25, 0.10, 1.0, 0.25, 0.10, 0.10, 0.75, 0.0],
            "Weighted Amount": [250.0, 100.0, 0.0, 250.0, 100.0, 100.0, 750.0, 0.0],
            "Flags": [None, None, "won without amount", None, None, None, "stale; overdue", None],
        },
        index=o.index,
    )
    assert_frame_equal(r, expected)


@pytest.mark.parametrize("language", [Lang.EN, Lang.ZH_TW])
def test_idempotent(language: Lang) -> None:
    o, a = _mixed_book()
    settings = SETTINGS.replace(language=language)
    r1 = run(o, a, settings=settings)
    o2 = feed_back(o, r1)
    r2 = run(o2, a, settings=settings)
    # nothing changes: same stored columns, no change, no evidence
    assert r2["change"].isna().all() and r2["evidence"].isna().all()
    stored = [c for c in RESULT_COLUMNS if c not in ("change", "evidence")]
    assert_frame_equal(r2[stored], r1[stored])
    # and a third run is identical to the second, frame for frame
    r3 = run(feed_back(o2, r2), a, settings=settings)
    assert_frame_equal(r3, r2)


# ------------------------------------------------------------------ input shapes


def test_default_pandas_dtypes_are_accepted() -> None:
    """Frames built without explicit dtypes (pandas 3 infers ``str``) work the same."""
    o = pd.DataFrame(
        {
            "ID": ["OP-1", "OP-2"],
            "Stage": ["Lead", None],
            "Amount": [1.0, None],
            "Expected Close": pd.Series([None, None], dtype="datetime64[ns]"),
            "Closed": pd.Series([None, None], dtype="datetime64[ns]"),
            "Stage Seen": ["Lead", None],
            "Stage Since": pd.to_datetime(pd.Series(["2026-01-05", None])),
            "Stage Reason": ["x", None],
        }
    )
    a = pd.DataFrame(
        {"ID": ["A-1"], "Date": pd.to_datetime(["2026-03-05"]), "Type": ["Demo"], "Opportunity ID": ["OP-1"]}
    )
    r = run(o, a)
    check(
        r,
        Stage=[S.QUALIFIED, S.LEAD],
        change=["advanced", "filled"],
        evidence=["A-1", None],
        **{"Stage Since": ["2026-03-05", "2026-03-10"]},
    )
    assert all(isinstance(s, Stage) for s in r["Stage"])


def test_empty_inputs() -> None:
    o = opps({}).iloc[:0]
    r = run(o)
    assert r.empty and list(r.columns) == list(RESULT_COLUMNS)
    assert r["Days in Stage"].dtype == "Int64"
    assert r["Stage Since"].dtype == "datetime64[ns]"


def test_duplicate_opportunity_ids_each_get_the_evidence() -> None:
    o = opps({"ID": "OP-1"}, {"ID": "OP-1", "Stage": S.PROPOSAL, "Stage Seen": S.PROPOSAL}, {"ID": None})
    r = run(o, acts(("A-1", "2026-03-05", A.DEMO, "OP-1"), ("A-2", "2026-03-05", A.QUOTE, None)))
    check(r, Stage=[S.QUALIFIED, S.PROPOSAL, S.LEAD], change=["advanced", None, None])


# ------------------------------------------------------------------ summary


def test_pipeline_summary() -> None:
    o = opps(
        {"Amount": 100.0},
        {"Amount": 300.0},
        {"Stage": S.WON, "Stage Seen": S.WON},
        {"Stage": S.LOST, "Stage Seen": S.LOST, "Amount": np.nan},
        index=pd.Index(["a", "b", "c", "d"]),
    )
    r = run(o, acts(("A-1", "2026-03-05", A.QUOTE, "OP-2")))
    summary = pipeline_summary(r, o)
    expected = pd.DataFrame(
        {
            "Deals": np.array([1, 0, 1, 0, 1, 1], dtype=np.int64),
            "Amount": [100.0, 0.0, 300.0, 0.0, 1000.0, 0.0],
            "Weighted Amount": [10.0, 0.0, 150.0, 0.0, 1000.0, 0.0],
        },
        index=pd.Index(list(STAGES), dtype=object, name="Stage"),
    )
    assert_frame_equal(summary, expected)


# ------------------------------------------------------------------ volume


def test_volume_smoke() -> None:
    """20k deals and 200k activities run through (not timed; see the module docs)."""
    rng = np.random.default_rng(7)
    n, m = 20_000, 200_000
    stages = np.array([*STAGES, None], dtype=object)
    types = np.array([*ActivityType, None], dtype=object)
    ids = np.array([f"OP-{i:06d}" for i in range(n)], dtype=object)
    base = np.datetime64("2025-01-01", "ns")
    o = pd.DataFrame(
        {
            "ID": pd.Series(ids, dtype=object),
            "Stage": pd.Series(stages[rng.integers(0, 7, n)], dtype=object),
            "Amount": rng.random(n) * 1e5,
            "Expected Close": base + rng.integers(0, 700, n).astype("timedelta64[D]"),
            "Closed": np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"),
            "Stage Seen": pd.Series(stages[rng.integers(0, 7, n)], dtype=object),
            "Stage Since": base + rng.integers(0, 400, n).astype("timedelta64[D]"),
            "Stage Reason": pd.Series([None] * n, dtype=object),
        }
    )
    a = pd.DataFrame(
        {
            "ID": pd.Series([f"A-{i:07d}" for i in range(m)], dtype=object),
            "Date": base + rng.integers(0, 500, m).astype("timedelta64[D]"),
            "Type": pd.Series(types[rng.integers(0, len(types), m)], dtype=object),
            "Opportunity ID": pd.Series(ids[rng.integers(0, n, m)], dtype=object),
        }
    )
    r = run(o, a, as_of=pd.Timestamp("2026-05-01"))
    assert len(r) == n and r["Stage"].notna().all()
    old, new = stage_order(o["Stage"]), stage_order(r["Stage"])
    assert ((new >= old) | old.isna()).all()  # never backward
    closed = old >= S.WON.order
    assert (r.loc[closed, "Stage"] == o.loc[closed, "Stage"]).all()  # never out of Won/Lost
    r2 = run(feed_back(o, r), a, as_of=pd.Timestamp("2026-05-01"))
    assert r2["change"].isna().all()


def test_inputs_are_not_modified_and_as_of_is_taken_as_a_day() -> None:
    o, a = _mixed_book()
    o_before, a_before = o.copy(deep=True), a.copy(deep=True)
    r = advance_stages(o, a, pd.Timestamp("2026-03-10 17:45"), SETTINGS)
    assert_frame_equal(o, o_before)
    assert_frame_equal(a, a_before)
    assert_frame_equal(r, run(o, a))
