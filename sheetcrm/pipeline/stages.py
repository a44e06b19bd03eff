"""Pipeline: move deals forward on evidence, respect people's edits, and compute the
pipeline's computed columns (Stage Since, Days in Stage, Probability, Weighted Amount,
Stage Reason, Flags).

Pure and vectorised: DataFrames in, DataFrames out, no I/O and no per-row Python loops.
The rules are written out, with examples, in ``docs/pipeline-rules.md``; in short:

* **Evidence.** An activity linked to a deal (``Opportunity ID``), dated on or before
  ``as_of``, whose Type maps to a stage in ``settings.stage_rules``, is evidence that the
  deal reached at least that stage. The *target* is the highest stage among the counted
  activities; the *evidence* is the earliest counted activity that reaches it (ties: the
  smallest activity ID, compared as text; a missing ID sorts last).
* **Which activities count.** Those dated on or after the deal's current Stage Since (all
  of them when Stage Since is missing), and evidence sheetcrm has not seen before (a blank
  ``Seen`` in ``activities``) whatever its date. After a person's edit, only activities
  dated strictly after the day the edit was noticed (see below); new evidence that is
  ignored for that reason is flagged.
* **Never backward, never out of Won/Lost.** The new stage is ``max(current, target)`` by
  stage order; closed deals never move on evidence; evidence never reaches Lost.
* **People win.** ``Stage != Stage Seen`` (Stage Seen set) means a person changed the
  stage since the last sync: the new stage is theirs, Stage Since becomes ``as_of`` and
  the reason says "changed by a person (noticed <as_of>)". sheetcrm recognises that reason
  on later runs, so activities dated on the day of the edit never undo it.
* **Blank Stage** is filled with the target of all evidence up to ``as_of``, or Lead.

Running again with the output fed back (``Stage``, ``Stage Seen``, ``Stage Since``,
``Stage Reason``) and no new data changes nothing.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Final

import numpy as np
import pandas as pd

from sheetcrm.i18n import N_, tr
from sheetcrm.schema import ActivityType, Flag, Lang, Stage
from sheetcrm.settings import Settings

__all__ = [
    "CLOSED_STAGES",
    "OPEN_STAGES",
    "RESULT_COLUMNS",
    "STAGES",
    "STAGE_ORDER",
    "SUMMARY_COLUMNS",
    "StageChange",
    "advance_stages",
    "evidence_seen",
    "pipeline_summary",
    "stage_from_order",
    "stage_order",
]

#: Stages in pipeline order (Lead ... Won, Lost).
STAGES: Final[tuple[Stage, ...]] = tuple(Stage)
#: Stage -> its position in :data:`STAGES` (Lead 0 ... Won 4, Lost 5).
STAGE_ORDER: Final[Mapping[Stage, int]] = {s: s.order for s in STAGES}
OPEN_STAGES: Final[tuple[Stage, ...]] = tuple(s for s in STAGES if not s.is_closed)
CLOSED_STAGES: Final[tuple[Stage, ...]] = tuple(s for s in STAGES if s.is_closed)


class StageChange(StrEnum):
    """What happened to a deal's Stage in a run (the ``change`` column)."""

    #: Moved forward on evidence.
    ADVANCED = "advanced"
    #: A person's edit noticed: Stage differed from Stage Seen.
    PERSON = "person"
    #: A blank Stage set to the evidence target or Lead.
    FILLED = "filled"

    @classmethod
    def made_by_sheetcrm(cls) -> tuple[StageChange, ...]:
        """The changes sheetcrm writes into the Stage cell."""
        return (cls.ADVANCED, cls.FILLED)


def deal_amounts(amounts: pd.Series) -> np.ndarray:
    """Deals' Amount cells as float64: NaN where missing, unreadable or below 0 (validation
    calls a negative deal amount an error, so it weighs nothing)."""
    out = pd.to_numeric(amounts, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return np.where(out < 0, np.nan, out)


#: Columns of :func:`advance_stages`'s result, in order.
RESULT_COLUMNS: Final[tuple[str, ...]] = (
    "Stage",
    "change",
    "evidence",
    "Stage Seen",
    "Stage Since",
    "Stage Reason",
    "Days in Stage",
    "Probability",
    "Weighted Amount",
    "Flags",
)
#: Columns of :func:`pipeline_summary`'s result, in order.
SUMMARY_COLUMNS: Final[tuple[str, ...]] = ("Deals", "Amount", "Weighted Amount")

_STAGE_ARRAY = np.array((*STAGES, None), dtype=object)  # order -> member; -1 -> None
_WON = Stage.WON.order
_LEAD = Stage.LEAD.order
_NS_PER_DAY: Final = 86_400_000_000_000

#: Stage Reason texts. ``{date}`` is a YYYY-MM-DD date; ``{type}``/``{stage}`` labels in
#: the workbook's language; ``{id}`` an activity ID.
_REASON_MESSAGES: Final[Mapping[str, str]] = {
    "evidence": N_("{type} {id} on {date}"),
    "evidence_no_id": N_("{type} on {date}"),
    "person": N_("changed by a person (noticed {date})"),
    "filled": N_("blank stage set to {stage} ({date})"),
    "first_seen": N_("first seen {date}"),
    "since": N_("in this stage since {date}"),
}


def _reasons(lang: str) -> dict[str, str]:
    """The Stage Reason templates in ``lang``, from the catalog (fields left to fill)."""
    return {key: tr(lang, message) for key, message in _REASON_MESSAGES.items()}


_REASONS: Final[Mapping[str, Mapping[str, str]]] = {lang: _reasons(lang) for lang in (Lang.EN, Lang.ZH_TW)}


# --------------------------------------------------------------------------- helpers


def stage_order(values: pd.Series | Any) -> pd.Series:
    """Stage members (or their English values) -> float order (Lead 0 ... Lost 5).

    Takes a Series (or anything ``pd.Series`` accepts); returns a float64 Series on the same
    index with NaN for None, NaN and anything that is not a stage.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    return series.map(dict(STAGE_ORDER)).astype("float64")


def stage_from_order(orders: Any) -> np.ndarray:
    """Integer orders (-1 or NaN for none) -> object array of Stage members (None)."""
    arr = np.asarray(orders, dtype="float64")
    idx = np.where(np.isnan(arr), -1, arr).astype(np.int64)
    return _STAGE_ARRAY[idx]


def _lang(settings: Settings) -> str:
    return Lang.ZH_TW if str(settings.language) == Lang.ZH_TW else Lang.EN


def _dates(series: pd.Series) -> np.ndarray:
    """A date column -> datetime64[ns] numpy array (NaT for missing)."""
    return pd.to_datetime(series).to_numpy(dtype="datetime64[ns]")


def _day_strings(dates: np.ndarray) -> np.ndarray:
    """datetime64 array -> object array of 'YYYY-MM-DD' (NaT -> 'NaT')."""
    return np.datetime_as_string(dates, unit="D").astype(object)


def _objects(series: pd.Series) -> np.ndarray:
    """A column -> a new object array with None for missing (NaN, NA, None)."""
    arr = series.to_numpy(dtype=object, copy=True)
    arr[pd.isna(arr)] = None
    return arr


def _render(template: str, n: int, **fields: Any) -> np.ndarray:
    """Vectorised ``str.format``: each field is a scalar str or an object array of str."""
    out = np.full(n, "", dtype=object)
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        if literal:
            out = out + literal
        if name is not None:
            value = fields[name]
            out = out + (value if isinstance(value, np.ndarray) else str(value))
    return out


def _flag_texts(lang: str) -> np.ndarray:
    """Bit pattern (1 stale, 2 overdue, 4 won without amount, 8 new evidence ignored) ->
    Flags text (None for 0)."""
    flags = (Flag.STALE, Flag.OVERDUE, Flag.WON_NO_AMOUNT, Flag.EVIDENCE_IGNORED)
    texts: list[str | None] = []
    for code in range(1 << len(flags)):
        labels = [f.label(lang) for bit, f in enumerate(flags) if code & (1 << bit)]
        texts.append("; ".join(labels) if labels else None)
    return np.array(texts, dtype=object)


# --------------------------------------------------------------------------- main


def advance_stages(
    opportunities: pd.DataFrame,
    activities: pd.DataFrame,
    as_of: pd.Timestamp,
    settings: Settings,
) -> pd.DataFrame:
    """Compute each deal's stage and the pipeline's computed columns as of ``as_of``.

    In:

    * ``opportunities`` — any index; columns ``ID`` (str|None), ``Stage`` (Stage|None),
      ``Amount`` (float64), ``Expected Close`` and ``Closed`` (datetime64, NaT missing),
      ``Stage Seen`` (Stage|None: what sheetcrm wrote at its last sync), ``Stage Since``
      (datetime64: when the deal entered its stage), ``Stage Reason`` (str|None).
    * ``activities`` — columns ``ID`` (str|None), ``Date`` (datetime64), ``Type``
      (ActivityType|None), ``Opportunity ID`` (str|None). Other columns are ignored.
    * ``as_of`` — the day of the run (normalised to midnight).
    * ``settings`` — uses ``stage_rules``, ``stage_probability`` (percent),
      ``stale_days`` and ``language``.

    Out: a DataFrame with the same index as ``opportunities`` and the columns

    * ``Stage`` (Stage) — the new stage;
    * ``change`` (StageChange|None) — None, ``ADVANCED`` (moved on evidence), ``PERSON`` (a
      person's edit noticed: Stage differed from Stage Seen) or ``FILLED`` (blank Stage
      set to the evidence target or Lead);
    * ``evidence`` (str|None) — ID of the activity behind an advance or a fill;
    * ``Stage Seen`` (Stage) — equal to the new Stage;
    * ``Stage Since`` (datetime64[ns]) — the evidence date after an advance/fill on
      evidence, ``as_of`` after a person's edit, a Lead fill, or when it was missing;
      otherwise unchanged;
    * ``Stage Reason`` (str) — unchanged for unchanged deals (written when missing);
    * ``Days in Stage`` (Int64) — ``as_of - Stage Since`` in days;
    * ``Probability`` (float64, 0–1) — ``settings.stage_probability[Stage] / 100``;
    * ``Weighted Amount`` (float64) — ``Amount * Probability``, NaN when Amount is missing
      or negative (:func:`deal_amounts`);
    * ``Flags`` (str|None) — labels of stale / overdue / won without amount, ``"; "``-joined
      in ``settings.language``.

    See the module docstring and ``docs/pipeline-rules.md`` for the rules.
    """
    lang = _lang(settings)
    texts = _REASONS[lang]
    as_of_ts = pd.Timestamp(as_of).normalize().as_unit("ns")
    as_of64 = as_of_ts.to_datetime64()
    as_of_str = str(as_of_ts.date())
    n = len(opportunities)
    opp_index = opportunities.index

    # ---- the deals' current state (numpy arrays, one element per row)
    cur = stage_order(opportunities["Stage"]).to_numpy()
    seen = stage_order(opportunities["Stage Seen"]).to_numpy()
    since = _dates(opportunities["Stage Since"])
    reason = _objects(opportunities["Stage Reason"])
    amount = deal_amounts(opportunities["Amount"])
    expected = _dates(opportunities["Expected Close"])

    blank = np.isnan(cur)
    person = ~blank & ~np.isnan(seen) & (cur != seen)
    closed = np.isin(cur, [s.order for s in CLOSED_STAGES])
    since_missing = np.isnat(since)

    # A person's edit noticed on an earlier run: its reason is still in the Stage Reason
    # and its date is the Stage Since. Activities of that day must not undo it.
    since_str = _day_strings(since)
    person_marked = np.zeros(n, dtype=bool)
    has_reason = ~pd.isna(reason)
    for table in _REASONS.values():
        expected_text = _render(table["person"], n, date=since_str)
        person_marked |= has_reason & ~since_missing & (reason == expected_text)

    # Rows whose evidence is looked at, and from when.
    eligible = blank | (~person & ~closed)
    use_cutoff = ~blank & ~since_missing  # blank: all evidence up to as_of counts
    strict = person_marked

    # ---- activities
    # One factorisation of both ID columns gives shared integer codes (-1: missing ID);
    # activity codes that no opportunity has are set to -1.
    codes, uniq = pd.factorize(
        np.concatenate(
            [
                opportunities["ID"].to_numpy(dtype=object),
                activities["Opportunity ID"].to_numpy(dtype=object),
            ]
        )
    )
    o_code, a_code = codes[:n], codes[n:]
    known = np.zeros(len(uniq) + 1, dtype=bool)
    known[o_code] = True  # o_code == -1 marks the spare last slot
    known[-1] = False
    a_code = np.where(known[a_code], a_code, -1)
    a_date = _dates(activities["Date"])
    a_valid = (a_code >= 0) & ~np.isnat(a_date) & (a_date <= as_of64)

    # Latest linked activity (any type) per opportunity ID, for the stale flag.
    # One spare slot: with no ID at all (a sheet never synced) there is no code to index.
    last_by_code = np.full(len(uniq) + 1, np.datetime64("NaT"), dtype="datetime64[ns]")
    if a_valid.any():
        last = pd.Series(a_date[a_valid]).groupby(a_code[a_valid]).max()
        last_by_code[last.index.to_numpy()] = last.to_numpy(dtype="datetime64[ns]")
    last_activity = np.where(o_code >= 0, last_by_code[np.maximum(o_code, 0)], np.datetime64("NaT")).astype(
        "datetime64[ns]"
    )

    # Evidence candidates: typed, ruled, linked and dated <= as_of.
    rules: dict[object, int] = {}
    for atype, rule_stage in settings.stage_rules.items():
        parsed = Stage.parse(rule_stage)
        if parsed is not None and parsed is not Stage.LOST:  # Lost is never reached by evidence
            rules[atype] = parsed.order
    a_rule = activities["Type"].map(rules).to_numpy(dtype="float64", na_value=np.nan)
    cand_mask = a_valid & ~np.isnan(a_rule)
    # Evidence sheetcrm has not counted before (a blank Seen) moves a deal whatever its
    # date: people log activities days after they happen.
    a_new = np.isnat(_dates(activities["Seen"])) if "Seen" in activities else np.zeros(len(activities), dtype=bool)
    cand = pd.DataFrame(
        {
            "code": a_code[cand_mask],
            "date": a_date[cand_mask].view("int64"),
            "order": a_rule[cand_mask].astype(np.int64),
            "act": np.flatnonzero(cand_mask),
            "new": a_new[cand_mask],
        }
    )
    # New evidence that would move a deal a person set the stage of (now, or on an earlier
    # run and dated before that edit) is not counted; the deal's Flags say so.
    guarded = ~blank & ~closed & (person | person_marked) & (o_code >= 0)
    ignored = np.zeros(n, dtype=bool)
    if guarded.any() and len(cand):
        g = pd.DataFrame(
            {"code": o_code[guarded], "pos": np.flatnonzero(guarded), "cutoff": since[guarded].view("int64")}
        )
        gm = cand[cand["new"]].merge(g, on="code", how="inner", sort=False)
        pos_g = gm["pos"].to_numpy()
        beyond = gm["order"].to_numpy() > cur[pos_g]
        before_edit = person[pos_g] | (gm["date"].to_numpy() <= gm["cutoff"].to_numpy())
        ignored[pos_g[beyond & before_edit]] = True
    rows_mask = eligible & (o_code >= 0)
    rows = pd.DataFrame(
        {
            "code": o_code[rows_mask],
            "pos": np.flatnonzero(rows_mask),
            "cutoff": since[rows_mask].view("int64"),
            "use_cutoff": use_cutoff[rows_mask],
            "strict": strict[rows_mask],
        }
    )
    m = cand.merge(rows, on="code", how="inner", sort=False)
    counted = (
        ~m["use_cutoff"]
        | (m["date"] > m["cutoff"])
        | ((m["date"] == m["cutoff"]) & ~m["strict"])
        | (m["new"] & ~m["strict"])
    )
    m = m.loc[counted, ["pos", "date", "order", "act"]]
    # Highest stage, then earliest date, then smallest activity ID.
    m = m[m["order"] == m.groupby("pos")["order"].transform("max")]
    m = m[m["date"] == m.groupby("pos")["date"].transform("min")]
    if m["pos"].duplicated().any():
        aid = _objects(activities["ID"].iloc[m["act"].to_numpy()])
        m = m.assign(aid=aid)
        m = m.sort_values(["pos", "aid"], na_position="last", kind="stable")
        m = m.drop_duplicates("pos", keep="first")
    target = np.full(n, np.nan)
    ev_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    ev_act = np.full(n, -1, dtype=np.int64)
    pos = m["pos"].to_numpy()
    target[pos] = m["order"].to_numpy()
    ev_date[pos] = m["date"].to_numpy().view("datetime64[ns]")
    ev_act[pos] = m["act"].to_numpy()
    has_target = ~np.isnan(target)

    # ---- decisions
    filled_ev = blank & has_target
    filled_lead = blank & ~has_target
    advanced = eligible & ~blank & has_target & (target > cur)
    moved_on_evidence = filled_ev | advanced

    new_order = np.where(blank, np.where(has_target, target, _LEAD), cur)
    new_order = np.where(advanced, target, new_order).astype(np.int64)

    change = np.full(n, None, dtype=object)
    change[advanced] = StageChange.ADVANCED
    change[person] = StageChange.PERSON
    change[blank] = StageChange.FILLED

    evidence = np.full(n, None, dtype=object)
    evidence[moved_on_evidence] = _objects(activities["ID"].iloc[ev_act[moved_on_evidence]])

    new_since = np.where(since_missing, as_of64, since).astype("datetime64[ns]")
    # A deal first seen closed has been in its stage since it closed, when the sheet says so.
    closed_on = _dates(opportunities["Closed"])
    known_close = since_missing & closed & ~np.isnat(closed_on) & (closed_on <= as_of64)
    new_since[known_close] = closed_on[known_close]
    new_since[person | filled_lead] = as_of64
    new_since[moved_on_evidence] = ev_date[moved_on_evidence]

    # ---- reasons (only for rows that need a new one)
    new_reason = reason.copy()
    if moved_on_evidence.any():
        idx = np.flatnonzero(moved_on_evidence)
        a_types = _objects(activities["Type"].iloc[ev_act[idx]])
        type_labels = _type_labels(a_types, lang)
        ids = evidence[idx]
        no_id = pd.isna(ids)
        dates = _day_strings(new_since[idx])
        with_id = _render(
            texts["evidence"], len(idx), type=type_labels, id=np.where(no_id, "", ids).astype(object), date=dates
        )
        without_id = _render(texts["evidence_no_id"], len(idx), type=type_labels, date=dates)
        new_reason[idx] = np.where(no_id, without_id, with_id)
    new_reason[person] = texts["person"].format(date=as_of_str)
    new_reason[filled_lead] = texts["filled"].format(stage=Stage.LEAD.label(lang), date=as_of_str)
    no_reason = pd.isna(new_reason)
    if no_reason.any():
        first_seen = no_reason & np.isnan(seen)
        new_reason[first_seen] = texts["first_seen"].format(date=as_of_str)
        again = no_reason & ~np.isnan(seen)
        new_reason[again] = _render(texts["since"], int(again.sum()), date=_day_strings(new_since[again]))

    # ---- computed numbers
    new_stage = stage_from_order(new_order)
    days = ((as_of64 - new_since).astype("timedelta64[ns]").view("int64")) // _NS_PER_DAY
    prob_by_order = np.array(
        [float(settings.stage_probability.get(s, np.nan)) / 100.0 for s in STAGES],
        dtype="float64",
    )
    probability = prob_by_order[new_order]
    weighted = amount * probability

    # ---- flags
    is_open = new_order < _WON
    recent = np.where(np.isnat(last_activity), new_since, last_activity)
    stale_cut = as_of64 - np.timedelta64(int(settings.stale_days), "D")
    stale = is_open & ~np.isnat(recent) & (recent < stale_cut)
    overdue = is_open & ~np.isnat(expected) & (expected < as_of64)
    won_no_amount = (new_order == _WON) & (np.isnan(amount) | (amount == 0))
    code = (
        stale.astype(np.int64)
        | (overdue.astype(np.int64) << 1)
        | (won_no_amount.astype(np.int64) << 2)
        | (ignored.astype(np.int64) << 3)
    )
    flags = _flag_texts(lang)[code]

    return pd.DataFrame(
        {
            "Stage": pd.Series(new_stage, index=opp_index, dtype=object),
            "change": pd.Series(change, index=opp_index, dtype=object),
            "evidence": pd.Series(evidence, index=opp_index, dtype=object),
            "Stage Seen": pd.Series(new_stage.copy(), index=opp_index, dtype=object),
            "Stage Since": pd.Series(new_since, index=opp_index, dtype="datetime64[ns]"),
            "Stage Reason": pd.Series(new_reason, index=opp_index, dtype=object),
            "Days in Stage": pd.Series(days, index=opp_index).astype("Int64"),
            "Probability": pd.Series(probability, index=opp_index, dtype="float64"),
            "Weighted Amount": pd.Series(weighted, index=opp_index, dtype="float64"),
            "Flags": pd.Series(flags, index=opp_index, dtype=object),
        },
        index=opp_index,
    )


def _type_label(value: object, lang: str) -> str:
    member = value if isinstance(value, ActivityType) else ActivityType.parse(value)
    return member.label(lang) if member is not None else str(value)


def _type_labels(values: np.ndarray, lang: str) -> np.ndarray:
    mapping = {t: t.label(lang) for t in ActivityType}
    labels = pd.Series(values, dtype=object).map(mapping)
    missing = labels.isna().to_numpy()
    out = labels.to_numpy(dtype=object)
    if missing.any():
        out[missing] = [_type_label(v, lang) for v in values[missing]]
    return out


def evidence_seen(
    opportunities: pd.DataFrame, activities: pd.DataFrame, as_of: pd.Timestamp, settings: Settings
) -> pd.Series:
    """The Seen date of each activity: when sheetcrm first counted it as evidence.

    In: ``opportunities`` (column ``ID``), ``activities`` (``Opportunity ID``, ``Date``,
    ``Type`` and, when the sheet has it, ``Seen``), ``as_of`` and ``settings``
    (``stage_rules``). Out: datetime64 Series indexed like ``activities``: the Seen already
    there, ``as_of`` for evidence (linked to a known deal, of a ruled type, dated on or
    before ``as_of``) seen for the first time, NaT otherwise.
    """
    seen = (
        pd.to_datetime(activities["Seen"])
        if "Seen" in activities
        else pd.Series(pd.NaT, index=activities.index, dtype="datetime64[ns]")
    )
    known = activities["Opportunity ID"].isin(set(opportunities["ID"].dropna()))
    ruled = activities["Type"].isin(list(settings.stage_rules))
    dated = pd.to_datetime(activities["Date"]) <= pd.Timestamp(as_of).normalize()
    first = seen.isna() & known & ruled & dated.fillna(False)
    return seen.where(~first, pd.Timestamp(as_of).normalize()).astype("datetime64[ns]")


# --------------------------------------------------------------------------- summary


def pipeline_summary(result: pd.DataFrame, opportunities: pd.DataFrame) -> pd.DataFrame:
    """Deals, amount and weighted amount per stage — the pipeline funnel for reports.

    In: ``result`` from :func:`advance_stages` (uses ``Stage`` and ``Weighted Amount``) and
    the ``opportunities`` it was computed from (uses ``Amount``; rows are matched by
    index, which must be the same as ``result``'s).

    Out: one row per stage in pipeline order (every stage, zeros included), index
    ``Stage`` (object dtype, Stage members), columns ``Deals`` (int64), ``Amount`` and
    ``Weighted Amount`` (float64 sums; missing amounts count as 0). Deals whose Stage is
    missing are not counted.
    """
    if result.index.equals(opportunities.index):
        amount_series = opportunities["Amount"]
    else:
        amount_series = opportunities["Amount"].reindex(result.index)
    amount = deal_amounts(amount_series)
    weighted = pd.to_numeric(result["Weighted Amount"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    order = stage_order(result["Stage"]).to_numpy()
    ok = ~np.isnan(order)
    codes = order[ok].astype(np.int64)
    k = len(STAGES)
    deals = np.bincount(codes, minlength=k).astype(np.int64)
    amount_sum = np.bincount(codes, weights=np.nan_to_num(amount[ok]), minlength=k)
    weighted_sum = np.bincount(codes, weights=np.nan_to_num(weighted[ok]), minlength=k)
    index = pd.Index(list(STAGES), dtype=object, name="Stage")
    return pd.DataFrame(
        {"Deals": deals, "Amount": amount_sum, "Weighted Amount": weighted_sum},
        index=index,
    )
