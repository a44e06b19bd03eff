"""Deals move on evidence logged late (dated in the past), unless a person set the stage."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

import sheetcrm
from sheetcrm.pipeline.stages import advance_stages, evidence_seen
from sheetcrm.schema import ActivityType, Flag, Stage
from sheetcrm.settings import Settings

AS_OF = pd.Timestamp("2026-03-31")
NaT = pd.NaT


def _deal(stage: Stage, seen: Stage, since: str, reason: str | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ID": ["OP-1"],
            "Stage": [stage],
            "Amount": [1000.0],
            "Expected Close": [NaT],
            "Closed": [NaT],
            "Stage Seen": [seen],
            "Stage Since": [pd.Timestamp(since)],
            "Stage Reason": [reason],
        }
    )


def _activity(date: str, seen: str | None, atype: ActivityType = ActivityType.CONTRACT) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ID": ["A-9"],
            "Date": [pd.Timestamp(date)],
            "Type": [atype],
            "Opportunity ID": ["OP-1"],
            "Seen": [pd.Timestamp(seen) if seen else NaT],
        }
    )


PERSON = "changed by a person (noticed 2026-03-20)"


@pytest.mark.parametrize(
    ("deal", "activity", "stage", "flagged"),
    [
        # New evidence dated before Stage Since still moves the deal.
        (_deal(Stage.PROPOSAL, Stage.PROPOSAL, "2026-03-10"), _activity("2026-03-01", None), Stage.NEGOTIATION, False),
        # The same evidence, already counted on an earlier run, does not.
        (
            _deal(Stage.PROPOSAL, Stage.PROPOSAL, "2026-03-10"),
            _activity("2026-03-01", "2026-03-02"),
            Stage.PROPOSAL,
            False,
        ),
        # A person changed the Stage since the last sync: theirs wins, the deal says why.
        (_deal(Stage.PROPOSAL, Stage.NEGOTIATION, "2026-03-10"), _activity("2026-03-01", None), Stage.PROPOSAL, True),
        # A person's earlier edit: new evidence dated before it is ignored, and flagged ...
        (
            _deal(Stage.QUALIFIED, Stage.QUALIFIED, "2026-03-20", PERSON),
            _activity("2026-03-15", None),
            Stage.QUALIFIED,
            True,
        ),
        # ... and evidence dated after it counts.
        (
            _deal(Stage.QUALIFIED, Stage.QUALIFIED, "2026-03-20", PERSON),
            _activity("2026-03-25", None),
            Stage.NEGOTIATION,
            False,
        ),
        # Evidence that would not move the deal is not "ignored".
        (
            _deal(Stage.PROPOSAL, Stage.NEGOTIATION, "2026-03-10"),
            _activity("2026-03-01", None, ActivityType.DEMO),
            Stage.PROPOSAL,
            False,
        ),
    ],
)
def test_late_evidence(deal: pd.DataFrame, activity: pd.DataFrame, stage: Stage, flagged: bool) -> None:
    result = advance_stages(deal, activity, AS_OF, Settings())
    assert result["Stage"].iloc[0] is stage
    flags = result["Flags"].iloc[0] or ""
    assert (Flag.EVIDENCE_IGNORED.value in flags) is flagged


def test_evidence_is_marked_seen_once() -> None:
    deal = _deal(Stage.PROPOSAL, Stage.PROPOSAL, "2026-03-10")
    acts = pd.concat(
        [
            _activity("2026-03-01", None),
            _activity("2026-03-02", "2026-03-05"),
            _activity("2026-04-02", None),  # after as_of: not yet
            _activity("2026-03-02", None, ActivityType.NOTE),  # no rule: not evidence
        ],
        ignore_index=True,
    )
    seen = evidence_seen(deal, acts, AS_OF, Settings())
    # pandas-stubs leave None out of to_datetime's list type, though pandas reads it as NaT
    dates = pd.to_datetime(["2026-03-31", "2026-03-05", None, None])  # type: ignore[arg-type]
    expected = pd.Series(dates.astype("datetime64[ns]"), name="Seen")
    pd.testing.assert_series_equal(seen.rename("Seen"), expected, check_freq=False)


def test_a_late_logged_activity_moves_the_deal_in_a_real_sync(make_workbook, small_crm) -> None:
    path = make_workbook(small_crm)
    sheetcrm.open(path).sync(as_of="2026-11-22")
    deal = sheetcrm.open(path).opportunities.set_index("ID").loc["OP-0001"]
    assert deal["Stage"] is Stage.PROPOSAL and deal["Stage Since"] == pd.Timestamp("2026-11-02")
    # A contract sent on 1 November is logged today, after the deal moved on the 2 November quote.
    wb = openpyxl.load_workbook(path)
    ws = wb["Activities"]
    header = [c.value for c in ws[1]]
    row: dict[object, object] = {
        "ID": "A-00009",
        "Date": dt.date(2026, 11, 1),
        "Type": "Contract Sent",
        "Opportunity ID": "OP-0001",
    }
    ws.append([row.get(h) for h in header])
    wb.save(path)
    result = sheetcrm.open(path).sync(as_of="2026-11-23")
    assert result.counts["stage_moves"] == 1
    deal = sheetcrm.open(path).opportunities.set_index("ID").loc["OP-0001"]
    assert deal["Stage"] is Stage.NEGOTIATION
    again = sheetcrm.open(path).sync(as_of="2026-11-23")
    assert again.counts["stage_moves"] == 0
