"""Fair assignment of records without an Owner to active Team members (seed 000, "how to
hand out new customers fairly").

Pure functions over DataFrames: :func:`team_frame` (who may get what), one function per
strategy taking the records to assign (row order) and returning each one's Owner and
reason, :func:`plan_assignment` (the one write: Owner cells with compare-and-set, the
round-robin cursor in Settings, a Log row per assignment) and :func:`relay_changes` (what
sync adds after stage moves when ``assign.relay`` is on). :func:`assign` runs it against
a backend. Every strategy is deterministic: the same sheet gives the same owners.
"""

from __future__ import annotations

import datetime as dt
import heapq
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sheetcrm.backends.append import NewRows
from sheetcrm.backends.base import (
    Backend,
    ChangeKind,
    RawTab,
    WritePlan,
    WriteReport,
    log_entry,
    norm_cell,
    summary_at,
)
from sheetcrm.cells.normalize import fold_name
from sheetcrm.cells.parse import is_blank
from sheetcrm.engine.bind import Table, bind_tabs
from sheetcrm.exceptions import AssignmentError, Phrase
from sheetcrm.i18n import N_
from sheetcrm.schema import LabeledEnum, Lang, Stage, Tab, normalize_label
from sheetcrm.settings import SETTING_DEFS, Settings
from sheetcrm.team.common import cell_changes, header, new_rows, run_id, write_plan
from sheetcrm.team.messages import say


class Strategy(LabeledEnum):
    """How empty Owner cells are filled."""

    ROUND_ROBIN = ("round-robin", "輪流", "roundrobin", "rr", "輪流分配")
    WEIGHTED = ("weighted", "依權重", "權重")
    TERRITORY = ("territory", "依區域", "區域")
    BALANCED = ("balanced", "依價值平衡", "value", "價值")
    RELAY = ("relay", "接力")


ASSIGN_TABS = (Tab.CONTACTS, Tab.COMPANIES, Tab.OPPORTUNITIES)
CURSOR_KEY = "assign.cursor"
#: Columns of an assignment: the record's index in its table, ID, Owner and why.
ASSIGNMENT_COLUMNS = ["index", "id", "owner", "reason"]
_SPLIT = re.compile(r"[,，、;；/|\n]+")


# ------------------------------------------------------------------------------ team


def team_frame(team: pd.DataFrame) -> pd.DataFrame:
    """The Team tab (typed) -> one row per member in sheet order: ``name``, ``active``
    (False only when Active says so), ``weight`` (Weight, 1 when blank, 0 and below takes
    nothing in weighted and balanced), and ``regions``, ``industries`` (folded labels)
    and ``stages`` (Stage members) as frozensets."""
    names = team["Name"].map(lambda v: None if is_blank(v) else str(v).strip())
    keep = names.notna().to_numpy()
    t = team[keep]
    active = t["Active"].astype("boolean").fillna(True).astype(bool) if "Active" in t else True
    weight = pd.to_numeric(t["Weight"], errors="coerce").fillna(1.0).astype(float)
    return pd.DataFrame(
        {
            "name": names[keep].to_numpy(),
            "active": np.asarray(active, dtype=bool) if not isinstance(active, bool) else True,
            "weight": weight.to_numpy(),
            "regions": t["Regions"].map(_labels).to_numpy(),
            "industries": t["Industries"].map(_labels).to_numpy(),
            "stages": t["Stages"].map(_stages).to_numpy(),
        }
    ).reset_index(drop=True)


def _labels(cell: Any) -> frozenset[str]:
    if is_blank(cell):
        return frozenset()
    return frozenset(normalize_label(p) for p in _SPLIT.split(str(cell)) if p.strip())


def _stages(cell: Any) -> frozenset[Stage]:
    if is_blank(cell):
        return frozenset()
    found = (Stage.parse(p) for p in _SPLIT.split(str(cell)) if p.strip())
    return frozenset(s for s in found if s is not None)


# ------------------------------------------------------------------------- records


def records_to_assign(tab: Tab, tables: dict[Tab, Table]) -> pd.DataFrame:
    """Records of ``tab`` whose Owner cell is blank, in sheet order: ``id``, ``region``,
    ``industry`` (folded; a contact's and a deal's come from their company), ``value``
    (expected value: a company's Size, a deal's Amount, a contact's Monetary) and
    ``stage`` (deals)."""
    table = tables[tab]
    typed = table.typed
    blank = table.raw_column("Owner").map(is_blank).to_numpy(dtype=bool)
    rows = typed[blank]
    companies = tables[Tab.COMPANIES].typed
    if tab is Tab.COMPANIES:
        region, industry = rows["Region"], rows["Industry"]
    else:
        by_id = companies.drop_duplicates("ID").set_index("ID")
        cid = rows["Company ID"]
        region = cid.map(by_id["Region"]) if len(by_id) else cid.map(lambda _v: None)
        industry = cid.map(by_id["Industry"]) if len(by_id) else cid.map(lambda _v: None)
    if tab is Tab.COMPANIES:
        value = rows["Size"].map(size_value)
    elif tab is Tab.OPPORTUNITIES:
        value = pd.to_numeric(rows["Amount"], errors="coerce")
    else:
        value = pd.to_numeric(rows["Monetary"], errors="coerce")
    return pd.DataFrame(
        {
            "id": table.raw_column("ID")[blank].map(lambda v: None if is_blank(v) else str(norm_cell(v))),
            "region": region.map(_fold_one),
            "industry": industry.map(_fold_one),
            "value": value.fillna(0.0).clip(lower=0.0).astype(float),
            "stage": rows.get("Stage", None),
        },
        index=rows.index,
    )


def _fold_one(v: Any) -> str | None:
    return None if is_blank(v) else normalize_label(v)


_SIZE_WORDS = {"微": 5.0, "小": 20.0, "small": 20.0, "中": 100.0, "medium": 100.0, "大": 500.0, "large": 500.0}


def size_value(cell: Any) -> float:
    """A company's Size cell as a number: ``"50"``, ``"50-99"`` (midpoint), ``"200人"``,
    ``"1,000+"``, or a word (small/medium/large, 小/中/大); 0 when unknown."""
    if is_blank(cell):
        return 0.0
    if isinstance(cell, int | float):
        return float(cell)
    text = str(cell).replace(",", "")
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]
    if numbers:
        return sum(numbers[:2]) / len(numbers[:2])
    folded = text.strip().casefold()
    for word, value in _SIZE_WORDS.items():
        if word in folded:
            return value
    return 0.0


# ---------------------------------------------------------------------- strategies


def _result(records: pd.DataFrame, owners: list[Any], reasons: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {"index": records.index, "id": records["id"].to_numpy(), "owner": owners, "reason": reasons},
        index=records.index,
    )


def _start_after(team: pd.DataFrame, cursor: str) -> int:
    """Index into the active members of the one after ``cursor`` in team order (a cursor
    naming an inactive or departed member resumes after where they stood)."""
    active = team.index[team["active"]].to_list()
    if not active:
        return 0
    names = [fold_name(n) for n in team["name"]]
    at = names.index(fold_name(cursor)) if cursor and fold_name(cursor) in names else -1
    later = [i for i, pos in enumerate(active) if pos > at]
    return later[0] if later else 0


def round_robin(records: pd.DataFrame, team: pd.DataFrame, cursor: str, lang: Lang | str = Lang.EN) -> pd.DataFrame:
    """Each record in row order to the next active member, starting after ``cursor`` (the
    member who got the last one); returns index, id, owner, reason."""
    names = team.loc[team["active"], "name"].to_list()
    start = _start_after(team, cursor)
    owners = [names[(start + i) % len(names)] for i in range(len(records))]
    prev = [cursor, *owners[:-1]]
    reasons = [say("assign.round_robin", lang, prev=p) if p else say("assign.round_robin_first", lang) for p in prev]
    return _result(records, owners, reasons)


def weighted(records: pd.DataFrame, team: pd.DataFrame, lang: Lang | str = Lang.EN) -> pd.DataFrame:
    """Each record to the member whose share would stay lowest relative to their Weight
    ((count + 1) / weight; ties to the earlier member): counts end proportional to Weight."""
    members = team[team["active"] & (team["weight"] > 0)]
    heap = [(1.0 / w, i, 0) for i, w in zip(members.index, members["weight"], strict=True)]
    heapq.heapify(heap)
    owners, reasons = [], []
    weights: dict[Any, Any] = team["weight"].to_dict()
    for _ in range(len(records)):
        _key, i, count = heapq.heappop(heap)
        w = float(weights[i])
        owners.append(team.at[i, "name"])
        reasons.append(say("assign.weighted", lang, weight=f"{w:g}", count=count))
        heapq.heappush(heap, ((count + 2) / w, i, count + 1))
    return _result(records, owners, reasons)


def balanced(records: pd.DataFrame, team: pd.DataFrame, lang: Lang | str = Lang.EN) -> pd.DataFrame:
    """Even out expected value, not head count: records by value, largest first, each to
    the active member with the lowest value so far (then fewest records, then team order):
    the greedy largest-first rule, within a largest record of the optimum. Weight only
    decides who takes part (0 takes nothing); capacity is the weighted strategy's job."""
    members = team[team["active"] & (team["weight"] > 0)]
    heap = [(0.0, 0, i) for i in members.index]
    heapq.heapify(heap)
    order = records.sort_values("value", ascending=False, kind="stable")
    totals = dict.fromkeys(members.index, 0.0)
    owner_of: dict[Any, str] = {}
    reason_of: dict[Any, str] = {}
    for ix, value in zip(order.index, order["value"], strict=True):
        _load, count, i = heapq.heappop(heap)
        owner_of[ix] = str(team["name"].at[i])
        reason_of[ix] = say("assign.balanced", lang, value=value, total=totals[i])
        totals[i] += float(value)
        heapq.heappush(heap, (totals[i], count + 1, i))
    return _result(records, [owner_of[i] for i in records.index], [reason_of[i] for i in records.index])


def territory(records: pd.DataFrame, team: pd.DataFrame, cursor: str, lang: Lang | str = Lang.EN) -> pd.DataFrame:
    """Each record to a member covering its Region and Industry (both, else Region, else
    Industry; among several, the one given fewest so far, then team order); records no one
    covers go round-robin after ``cursor``."""
    active = team[team["active"]]
    given = dict.fromkeys(active.index, 0)
    owners: list[Any] = [None] * len(records)
    reasons: list[Any] = [None] * len(records)
    left: list[int] = []
    regions: dict[Any, Any] = active["regions"].to_dict()
    industries: dict[Any, Any] = active["industries"].to_dict()
    for n, (region, industry) in enumerate(zip(records["region"], records["industry"], strict=True)):
        in_region = [i for i in active.index if region and region in regions[i]]
        in_industry = [i for i in active.index if industry and industry in industries[i]]
        both = [i for i in in_region if i in in_industry]
        pool, what = (
            (both, f"{region} + {industry}") if both else (in_region, region) if in_region else (in_industry, industry)
        )
        if not pool:
            left.append(n)
            continue
        pick = min(pool, key=lambda i: (given[i], i))
        given[pick] += 1
        owners[n] = team.at[pick, "name"]
        reasons[n] = say("assign.territory", lang, what=what)
    if left:
        rest = round_robin(records.iloc[left], team, cursor, lang)
        for n, owner, row in zip(left, rest["owner"], records.iloc[left].itertuples(), strict=True):
            owners[n] = owner
            what = " + ".join(str(v) for v in (row.region, row.industry) if v) or "-"
            reasons[n] = say("assign.territory_fallback", lang, what=what)
    return _result(records, owners, reasons)


def relay(records: pd.DataFrame, team: pd.DataFrame, lang: Lang | str = Lang.EN) -> pd.DataFrame:
    """Each deal to the member whose Stages include its stage (among several, the one given
    fewest so far, then team order); a stage no active member handles is left empty."""
    active = team[team["active"]]
    given = dict.fromkeys(active.index, 0)
    owners: list[Any] = []
    reasons: list[Any] = []
    handles: dict[Any, Any] = active["stages"].to_dict()
    for stage in records["stage"] if "stage" in records else [None] * len(records):
        pool = [i for i in active.index if isinstance(stage, Stage) and stage in handles[i]]
        label = stage.label(lang) if isinstance(stage, Stage) else "-"
        if not pool:
            owners.append(None)
            reasons.append(say("assign.relay_none", lang, stage=label))
            continue
        pick = min(pool, key=lambda i: (given[i], i))
        given[pick] += 1
        owners.append(team.at[pick, "name"])
        reasons.append(say("assign.relay", lang, stage=label))
    return _result(records, owners, reasons)


def choose_owners(
    records: pd.DataFrame, team: pd.DataFrame, strategy: Strategy, cursor: str = "", lang: Lang | str = Lang.EN
) -> pd.DataFrame:
    """Owners for ``records`` (from :func:`records_to_assign`) by ``strategy``: columns
    index, id, owner (None when nobody fits), reason. Raises :class:`AssignmentError` when
    no Team member is active."""
    if not team["active"].any():
        raise AssignmentError(
            Phrase(N_("no active Team member to assign to; add reps to the Team tab (Active = TRUE)")),
            tab=Tab.TEAM.value,
        )
    if records.empty:
        return pd.DataFrame(columns=ASSIGNMENT_COLUMNS)
    if strategy is Strategy.ROUND_ROBIN:
        return round_robin(records, team, cursor, lang)
    if strategy is Strategy.WEIGHTED:
        return weighted(records, team, lang)
    if strategy is Strategy.BALANCED:
        return balanced(records, team, lang)
    if strategy is Strategy.TERRITORY:
        return territory(records, team, cursor, lang)
    return relay(records, team, lang)


def new_cursor(chosen: pd.DataFrame, strategy: Strategy, cursor: str) -> str:
    """The round-robin cursor after this run: the last member a turn went to."""
    if strategy not in (Strategy.ROUND_ROBIN, Strategy.TERRITORY) or chosen.empty:
        return cursor
    turns = chosen[chosen["reason"].astype(str).str.contains("round-robin|輪流", regex=True)]
    return str(turns["owner"].iloc[-1]) if len(turns) else cursor


# -------------------------------------------------------------------------- plan


def plan_assignment(
    tab: Tab,
    chosen: pd.DataFrame,
    tables: dict[Tab, Table],
    settings: Settings,
    *,
    cursor: str | None,
    strategy: Strategy,
    now: dt.datetime,
    run: str = "",
) -> WritePlan:
    """The one write: each chosen Owner with compare-and-set (written only if the cell is
    still empty), the round-robin cursor when it moved, and a Log row per assignment."""
    lang = str(settings.language)
    table = tables[tab]
    if "Owner" not in table.headers.positions:
        raise AssignmentError(
            Phrase(N_("there is no Owner column; add one (Owner or {owner}) to the header row"), {"owner": "負責人"}),
            tab=table.title,
        )
    chosen = chosen[chosen["owner"].notna()]
    idx = pd.Index(chosen["index"])
    cells = [cell_changes(table, idx, "Owner", pd.Series(chosen["owner"].to_numpy(), index=idx), kind=ChangeKind.OWNER)]
    owner_header = header(tab, "Owner", lang)
    log = [
        log_entry(now, run, table.title, rid, owner_header, "", owner, reason, about="Owner")
        for rid, owner, reason in zip(chosen["id"], chosen["owner"], chosen["reason"], strict=True)
    ]
    appends: list[NewRows] = []
    if cursor is not None and cursor != settings.assign_cursor:
        cells_or_row = cursor_change(tables[Tab.SETTINGS], cursor, lang)
        if isinstance(cells_or_row, NewRows):
            appends.append(cells_or_row)
        else:
            cells.append(cells_or_row)
        log.append(
            log_entry(
                now,
                run,
                tables[Tab.SETTINGS].title,
                CURSOR_KEY,
                "Value",
                settings.assign_cursor,
                cursor,
                say("log.cursor", lang),
            )
        )
    if len(chosen):
        summary = say("log.assign_summary", lang, tab=table.title, strategy=strategy.label(lang), assigned=len(chosen))
        log.append(log_entry(now, run, reason=summary))
    return write_plan(tables, settings, cells, appends, log)


def cursor_change(settings_table: Table, cursor: str, lang: str) -> pd.DataFrame | NewRows:
    """The Settings Value cell of ``assign.cursor`` set to ``cursor`` (compare-and-set), or
    a new Settings row when the key is not in the tab yet."""
    keys = settings_table.raw_column("Key").map(lambda v: "" if is_blank(v) else str(v).strip())
    at = keys.index[keys == CURSOR_KEY]
    if len(at) == 1 and "Value" in settings_table.headers.positions:
        return cell_changes(settings_table, at, "Value", pd.Series({at[0]: cursor}), kind=ChangeKind.SETTING)
    d = next(d for d in SETTING_DEFS if d.key == CURSOR_KEY)
    description = d.description_zh if lang == Lang.ZH_TW else d.description
    record = pd.DataFrame({"Key": [CURSOR_KEY], "Value": [cursor], "Description": [description]})
    rows, _absent = new_rows(settings_table, record)
    if rows is None:
        raise AssignmentError(Phrase(N_("the Settings tab has no Key and Value columns")), tab=settings_table.title)
    return rows


def relay_changes(
    opportunities: Table, stages: pd.DataFrame, team: pd.DataFrame, settings: Settings, *, now: dt.datetime, run: str
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Owner changes sync makes when ``assign.relay`` is on: a deal whose Stage moved (by
    sheetcrm or a person) goes to the member whose Stages include the new stage, unless
    its owner already handles it. Returns plan cells (compare-and-set on the Owner as
    read) and Log rows."""
    lang = str(settings.language)
    if not settings.assign_relay or stages.empty or "Owner" not in opportunities.headers.positions:
        return cell_changes(opportunities, pd.Index([]), "Owner", pd.Series(dtype=object), kind=ChangeKind.OWNER), []
    members = team_frame(team)
    moved = stages[stages["change"].isin(["advanced", "filled", "person"])]
    if moved.empty or not members["active"].any():
        return cell_changes(opportunities, pd.Index([]), "Owner", pd.Series(dtype=object), kind=ChangeKind.OWNER), []
    owner_now = opportunities.raw_column("Owner")[moved.index]
    handles = {
        fold_name(n): s for n, s, a in zip(members["name"], members["stages"], members["active"], strict=True) if a
    }
    keep = [
        i
        for i in moved.index
        if isinstance(moved.at[i, "Stage"], Stage)
        and (is_blank(owner_now[i]) or moved.at[i, "Stage"] not in handles.get(fold_name(owner_now[i]), frozenset()))
    ]
    records = pd.DataFrame(
        {
            "id": opportunities.raw_column("ID")[keep].map(lambda v: str(norm_cell(v))),
            "stage": moved.loc[keep, "Stage"],
        },
        index=pd.Index(keep),
    )
    chosen = relay(records, members, lang)
    chosen = chosen[chosen["owner"].notna()]
    idx = pd.Index(chosen["index"])
    cells = cell_changes(
        opportunities, idx, "Owner", pd.Series(chosen["owner"].to_numpy(), index=idx), kind=ChangeKind.OWNER
    )
    owner_header = header(Tab.OPPORTUNITIES, "Owner", lang)
    log = [
        log_entry(
            now,
            run,
            opportunities.title,
            rid,
            owner_header,
            "" if is_blank(o) else str(o),
            owner,
            reason,
            about="Owner",
        )
        for rid, o, owner, reason in zip(chosen["id"], owner_now[idx], chosen["owner"], chosen["reason"], strict=True)
    ]
    return cells, log


# -------------------------------------------------------------------- orchestration


@dataclass
class AssignResult:
    """What ``assign`` did: ``assignments`` (id, name, owner, reason), ``per_rep`` counts, the
    planned write and the backend's report (None on a dry run)."""

    tab: Tab
    strategy: Strategy
    assignments: pd.DataFrame
    left: int
    plan: WritePlan
    report: WriteReport | None
    dry_run: bool
    lang: Lang
    #: The tab's name in the workbook (客戶名單), as people know it.
    title: str = ""

    @property
    def per_rep(self) -> pd.Series:
        return self.assignments["owner"].value_counts(sort=False)

    def summary_lines(self, lang: Lang | str | None = None) -> list[str]:
        """What the run did, in ``lang`` (default: the workbook's)."""
        lang = lang or self.lang
        lines = [
            say(
                "assign.summary",
                lang,
                tab=self.title if self.title and str(lang) == self.lang else self.tab.label(lang),
                assigned=int(self.assignments["owner"].notna().sum()),
                strategy=self.strategy.label(lang),
                left=self.left,
            )
        ]
        lines += [say("assign.per_rep", lang, rep=rep, count=int(n)) for rep, n in self.per_rep.items()]
        if self.dry_run:
            lines.append(say("dry_run", lang))
        elif self.report is not None and self.report.skipped:
            lines.append(say("skipped", lang, n=len(self.report.skipped)))
        return lines


def assign(
    backend: Backend,
    *,
    tab: Tab = Tab.CONTACTS,
    strategy: Strategy | str | None = None,
    dry_run: bool = False,
    raw: dict[Tab, RawTab] | None = None,
) -> AssignResult:
    """Fill the empty Owner cells of ``tab`` in the workbook behind ``backend`` by
    ``strategy`` (default: the ``assign.strategy`` setting), in one write."""
    raw = raw if raw is not None else backend.read()
    tables, settings, _issues = bind_tabs(raw, (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.TEAM, Tab.LOG))
    chosen_strategy = Strategy.parse(strategy or settings.assign_strategy)
    if chosen_strategy is None:
        raise AssignmentError(
            Phrase(
                N_("unknown strategy {strategy}; use one of {choices}"),
                {"strategy": repr(strategy), "choices": ", ".join(Strategy)},
            )
        )
    lang = settings.language
    if not tables[Tab.TEAM].present:
        raise AssignmentError(
            Phrase(
                N_("the workbook has no Team tab ({names}); add one listing your reps: Name, and Active = TRUE"),
                {"names": ", ".join((Tab.TEAM.zh, Tab.TEAM.value, *Tab.TEAM.aliases))},
            )
        )
    team = team_frame(tables[Tab.TEAM].typed)
    records = records_to_assign(tab, tables)
    chosen = choose_owners(records, team, chosen_strategy, settings.assign_cursor, lang)
    # Without a Settings tab there is nowhere to keep whose turn is next: the next run
    # starts the round again (a tab sheetcrm made up would surprise people).
    cursor = new_cursor(chosen, chosen_strategy, settings.assign_cursor) if Tab.SETTINGS in raw else None
    now = dt.datetime.now().replace(microsecond=0)
    plan = plan_assignment(
        tab,
        chosen,
        tables,
        settings,
        cursor=cursor,
        strategy=chosen_strategy,
        now=now,
        run=run_id(now),
    )
    report = None if dry_run or plan.empty else backend.write(plan)
    assigned = chosen[chosen["owner"].notna()]
    # By name too: an ID sync issued is not what people know a customer by.
    names = tables[tab].typed["Name"].reindex(assigned["index"]).to_numpy(dtype=object)
    return AssignResult(
        tab,
        chosen_strategy,
        assigned.assign(name=names)[["id", "name", "owner", "reason"]].reset_index(drop=True),
        len(records) - len(assigned),
        plan,
        report,
        dry_run,
        lang,
        tables[tab].title,
    )


def assign_target(target: str | os.PathLike[str], *, credentials: Any = None, **kwargs: Any) -> AssignResult:
    """:func:`assign` on the workbook at ``target``: what the ``assign`` command runs."""
    from sheetcrm.workbook import open_backend

    return assign(open_backend(target, credentials=credentials), **kwargs)


def add_relay(
    plan: WritePlan, tables: dict[Tab, Table], stages: pd.DataFrame, settings: Settings, *, now: dt.datetime, run: str
) -> int:
    """Add :func:`relay_changes` to a sync's ``plan`` (cells after the Stage moves, Log
    rows before the run's summary row). Returns the number of Owner changes."""
    cells, log = relay_changes(tables[Tab.OPPORTUNITIES], stages, tables[Tab.TEAM].typed, settings, now=now, run=run)
    if not log:
        return 0
    plan.cells = pd.concat([c for c in (plan.cells, cells) if len(c)], ignore_index=True)
    note = log_entry(now, run, reason=say("log.relay_summary", settings.language, n=len(log)))
    at = summary_at(plan.log)
    plan.log = [*plan.log[:at], *log, *plan.log[at:]] if plan.log else [*log, note]
    return len(log)
