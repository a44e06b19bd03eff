"""Event invitations (seed 000, "whom to invite"): pick customers by segment, NESL, tier,
owner and attendance history, leave out opt-outs, the unreachable and the recently
invited, rank by value then recency, and record the invitations as activities.

:func:`invitation_list` is pure (contacts with their customer metrics and the activities
in, the ranked list and the people left out with why); :func:`invite` runs it against a
backend and, with ``record``, appends an ``Event Invited`` activity per person in one
write, so next time the history says who was invited and who came.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sheetcrm.backends.base import Backend, ChangeKind, RawTab, WritePlan, WriteReport, log_entry
from sheetcrm.cells.normalize import fold_name
from sheetcrm.cells.parse import is_blank
from sheetcrm.engine.bind import Table, bind_all, empty_problems
from sheetcrm.engine.compute import as_of_date, compute, next_ids
from sheetcrm.schema import ACTIVITIES, NESL, TABS, ActivityType, LabeledEnum, Lang, Segment, Tab, Tier
from sheetcrm.settings import Settings
from sheetcrm.team.common import as_people_write, cell_changes, header, new_rows, run_id, write_plan
from sheetcrm.team.messages import say


class Excluded(LabeledEnum):
    """Why someone is not on the list."""

    OPTED_OUT = ("opted out", "拒絕聯繫")
    OPT_OUT_UNCLEAR = ("opt-out cell unreadable", "拒絕聯繫欄無法判讀")
    UNREACHABLE = ("unreachable", "無法聯繫")
    RECENT = ("invited recently", "近期已邀請")
    FILTERED = ("not matching", "不符條件")
    LIMIT = ("past the limit", "超過人數上限")


LIST_COLUMNS = [
    "ID",
    "Name",
    "Email",
    "Mobile",
    "Phone",
    "Owner",
    "Segment",
    "NESL",
    "Tier",
    "Monetary",
    "Last Purchase",
    "Attended",
    "Last Invited",
]


def list_headings(lang: Lang | str) -> dict[str, str]:
    """:data:`LIST_COLUMNS` -> how a person reads them in ``lang``: the Contacts tab's
    headers, and the catalog's words for the two columns it has not."""
    contacts = TABS[Tab.CONTACTS]
    headings = {key: contacts.column(key).header(lang) for key in LIST_COLUMNS if key in contacts.keys}
    headings["Attended"] = say("invite.heading.attended", lang)
    headings["Last Invited"] = say("invite.heading.last_invited", lang)
    return headings


@dataclass(frozen=True)
class InviteFilters:
    """Who may be invited: any of ``segments``/``nesl``/``tiers``/``owners`` (empty: all),
    ``attended_before`` (came to an event before), not invited within ``recent_days``
    (0: no such limit; None: the ``invite.recent_days`` setting), at most ``limit`` people (None: all)."""

    segments: tuple[Segment, ...] = ()
    nesl: tuple[NESL, ...] = ()
    tiers: tuple[Tier, ...] = ()
    owners: tuple[str, ...] = ()
    attended_before: bool = False
    recent_days: int | None = None
    limit: int | None = None


def parse_choices(values: Iterable[str], enum: type[LabeledEnum], what: str) -> tuple[Any, ...]:
    """``["E", "S"]`` or ``["E,S"]`` -> members of ``enum``; unknown names are a ValueError
    naming the choices."""
    out = []
    for value in values:
        for part in str(value).split(","):
            if not part.strip():
                continue
            member = enum.parse(part)
            if member is None:
                named = ", ".join(f"{m.value} ({m.zh})" if m.zh != m.value else m.value for m in enum)
                raise ValueError(f"unknown {what} {part.strip()!r}; use one of {named}")
            out.append(member)
    return tuple(out)


#: Marks that mean "no" by one convention (V/X) and "ticked" by another: in an Opt-out
#: cell they say neither for sure.
_EITHER_WAY = frozenset({"x", "✗", "×", "✕"})


def _unclear_opt_out(contacts: Any) -> np.ndarray:
    """Which contacts' Opt-out cell reads as neither yes nor no: it does not parse, or it
    holds an x (a tick to some, a no to others)."""
    marks = contacts.raw_column("Opt-out").map(lambda v: isinstance(v, str) and v.strip().lower() in _EITHER_WAY)
    return np.asarray(contacts.unreadable("Opt-out"), dtype=bool) | marks.to_numpy(dtype=bool)


def _dialled(number: Any) -> Any:
    """A stored phone (+886981755421) as dialled in Taiwan (0981755421); others as stored."""
    if isinstance(number, str) and number.startswith("+886"):
        return "0" + number[4:]
    return number


def relabel(listed: pd.DataFrame, lang: Lang | str) -> pd.DataFrame:
    """An invitation list (:data:`LIST_COLUMNS`) with its Segment, NESL and Tier (members,
    or labels in either language) told in ``lang``."""
    out = listed.copy()
    for key, enum in (("Segment", Segment), ("NESL", NESL), ("Tier", Tier)):
        if key in out:
            out[key] = out[key].map(lambda v, e=enum: m.label(lang) if (m := e.parse(v)) is not None else v)
    return out


def invitation_list(
    contacts: pd.DataFrame,
    metrics: pd.DataFrame,
    activities: pd.DataFrame,
    filters: InviteFilters,
    as_of: pd.Timestamp,
    lang: Lang | str = Lang.EN,
    unclear_opt_out: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The invitation list and who was left out.

    ``contacts``: the typed Contacts tab; ``metrics``: their customer metrics (Segment,
    NESL, Tier, Monetary, Last Purchase), indexed alike; ``activities``: the typed
    Activities tab. Returns (``invite``: :data:`LIST_COLUMNS`, ranked by Monetary then
    most recent purchase then ID; ``left_out``: ID, Name, why) — opt-outs and people with
    no valid Email, Mobile or Phone are always left out, whatever the filters, and so are
    the people whose Opt-out cell holds something that does not read as yes or no
    (``unclear_opt_out``, bool per contact): asking them first is the safe side.
    """
    people = contacts[["ID", "Name", "Email", "Mobile", "Phone", "Owner", "Opt-out"]].copy()
    for key in ("Segment", "NESL", "Tier", "Monetary", "Last Purchase"):
        people[key] = metrics.get(key, None)
    ids = people["ID"].astype(object)
    kinds = activities["Type"]
    attended = activities[kinds == ActivityType.EVENT_ATTENDED].groupby("Contact ID").size()
    invited = activities[kinds == ActivityType.EVENT_INVITED].groupby("Contact ID")["Date"].max()
    people["Attended"] = ids.map(lambda i: int(attended.get(i, 0)) if isinstance(i, str) else 0).astype(int)
    people["Last Invited"] = pd.to_datetime(ids.map(lambda i: invited.get(i) if isinstance(i, str) else None))

    why = pd.Series(None, index=people.index, dtype=object)
    why[people["Opt-out"].astype("boolean").fillna(False).to_numpy(dtype=bool)] = Excluded.OPTED_OUT
    if unclear_opt_out is not None:
        why[unclear_opt_out & why.isna().to_numpy()] = Excluded.OPT_OUT_UNCLEAR
    unreachable = people[["Email", "Mobile", "Phone"]].map(is_blank).all(axis=1)
    why[unreachable & why.isna()] = Excluded.UNREACHABLE
    if filters.recent_days:
        since = as_of - pd.Timedelta(days=filters.recent_days)
        recent = (people["Last Invited"] >= since).fillna(False).to_numpy(dtype=bool)
        why[recent & why.isna().to_numpy()] = Excluded.RECENT
    match = pd.Series(True, index=people.index)
    for key, wanted in (("Segment", filters.segments), ("NESL", filters.nesl), ("Tier", filters.tiers)):
        if wanted:
            match &= people[key].isin(list(wanted))
    if filters.owners:
        owners = {fold_name(o) for o in filters.owners}
        match &= people["Owner"].map(lambda v: not is_blank(v) and fold_name(v) in owners)
    if filters.attended_before:
        match &= people["Attended"] > 0
    why[~match.to_numpy() & why.isna().to_numpy()] = Excluded.FILTERED

    chosen = people[why.isna()].copy()
    chosen["_m"] = pd.to_numeric(chosen["Monetary"], errors="coerce").fillna(0.0)
    chosen = chosen.sort_values(["_m", "Last Purchase", "ID"], ascending=[False, False, True], na_position="last")
    if filters.limit is not None:
        # Those the limit cuts off are left out too, and said so: the counts add up.
        why[chosen.index[filters.limit :]] = Excluded.LIMIT
        chosen = chosen.head(filters.limit)
    out = relabel(chosen[LIST_COLUMNS], lang)
    left = people[why.notna()]
    left_out = pd.DataFrame(
        {"ID": left["ID"], "Name": left["Name"], "why": why[why.notna()].map(lambda w: w.label(lang))}
    )
    return out.reset_index(drop=True), left_out.reset_index(drop=True)


def plan_invitations(
    invite_list: pd.DataFrame,
    contacts: pd.DataFrame,
    tables: dict[Tab, Table],
    settings: Settings,
    *,
    event: str,
    today: dt.date,
    now: dt.datetime,
    run: str = "",
    id_fills: pd.Series | None = None,
) -> WritePlan:
    """An ``Event Invited`` activity per person on the list (fresh ID, today's date, the
    contact, their company and owner, the event as Subject), appended to Activities; a
    Log row each.

    ``id_fills`` (new ID by Contacts' table index) are the IDs ``invite_list`` gives to
    contacts whose ID cell is blank: those on the list get their ID cell filled in the same
    write, with compare-and-set as sync fills IDs, so the activity refers to an ID the
    contact's row holds rather than one the next sync might hand out differently.
    (Binding guarantees Contacts has an ID column.)"""
    lang = str(settings.language)
    activities = tables[Tab.ACTIVITIES]
    contacts_table = tables[Tab.CONTACTS]
    cells: list[pd.DataFrame] = []
    log: list[dict[str, Any]] = []
    fills = id_fills[id_fills.isin(set(invite_list["ID"]))] if id_fills is not None else pd.Series(dtype=object)
    if len(fills):
        change = cell_changes(contacts_table, fills.index, "ID", fills, kind=ChangeKind.ID)
        change["record_id"] = fills.to_numpy()  # the row is known by the ID it is about to hold
        cells.append(change)
        ct_header = header(Tab.CONTACTS, "ID", lang)
        reason = say("log.id_filled", lang, event=event)
        log += [log_entry(now, run, contacts_table.title, cid, ct_header, "", cid, reason, about="ID") for cid in fills]
    by_id = contacts.drop_duplicates("ID").set_index("ID")
    who = invite_list["ID"]
    new_ids = next_ids(activities.typed["ID"], ACTIVITIES.id_prefix, len(who))
    contact_names = contacts_table.typed.set_index(contacts_table.ids())["Name"]
    companies = tables[Tab.COMPANIES]
    company_names = companies.typed.set_index(companies.ids())["Name"]
    records = pd.DataFrame(
        {
            "ID": new_ids,
            "Date": today,
            "Type": ActivityType.EVENT_INVITED.label(lang),
            "Contact ID": as_people_write(activities.raw_column("Contact ID"), who, contact_names).to_numpy(),
            "Company ID": as_people_write(
                activities.raw_column("Company ID"), who.map(by_id["Company ID"]), company_names
            ).to_numpy(),
            "Owner": who.map(by_id["Owner"]).to_numpy(),
            "Subject": event,
        }
    )
    # Without a Subject column the event's name would be in the Log only: the tab gets one.
    rows, _absent = new_rows(activities, records.dropna(axis=1, how="all"), add=("Subject", "Type"), lang=lang)
    id_header = header(Tab.ACTIVITIES, "ID", lang)
    log += [
        log_entry(
            now,
            run,
            activities.title,
            aid,
            id_header,
            "",
            aid,
            f"{say('log.invited', lang, event=event)} ({cid})",
            about="ID",
        )
        for aid, cid in zip(new_ids, who, strict=True)
    ]
    if log:
        log.append(log_entry(now, run, reason=say("log.invite_summary", lang, event=event, n=len(new_ids))))
    return write_plan(tables, settings, cells, [rows] if rows is not None else [], log)


@dataclass
class InviteResult:
    """The invitation list, who was left out and why, and (with ``record``) the write."""

    event: str
    invite: pd.DataFrame
    left_out: pd.DataFrame
    lang: Lang
    plan: WritePlan | None = None
    report: WriteReport | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def summary_lines(self, lang: Lang | str | None = None) -> list[str]:
        """What the run found and did, in ``lang`` (default: the workbook's)."""
        lang = lang or self.lang
        n = self.left_out["why"].value_counts()
        lines = [
            say(
                "invite.summary",
                lang,
                n=len(self.invite),
                event=self.event,
                opted_out=int(n.get(Excluded.OPTED_OUT.label(self.lang), 0)),
                unreachable=int(n.get(Excluded.UNREACHABLE.label(self.lang), 0)),
                recent=int(n.get(Excluded.RECENT.label(self.lang), 0)),
                filtered=int(n.get(Excluded.FILTERED.label(self.lang), 0)),
                limit=int(n.get(Excluded.LIMIT.label(self.lang), 0)),
            )
        ]
        # left_out says why in the workbook's language.
        for why, key in (
            (Excluded.UNREACHABLE, "invite.unreachable_list"),
            (Excluded.OPT_OUT_UNCLEAR, "invite.unclear_list"),
        ):
            these = self.left_out[self.left_out["why"] == why.label(self.lang)]
            if len(these):
                names = ", ".join(f"{r.Name} ({r.ID})" for r in these.head(20).itertuples())
                lines.append(say(key, lang, names=names + (" ..." if len(these) > 20 else "")))
        if self.report is not None:
            lines.append(say("invite.recorded", lang, n=self.report.appended))
            if self.report.skipped:
                lines.append(say("skipped", lang, n=len(self.report.skipped)))
            lines += [note.in_language(lang) for note in self.report.notes]
            lost = self.ids_not_filled()
            if lost:
                lines.append(say("invite.id_not_filled", lang, ids=", ".join(lost)))
        return lines

    def ids_not_filled(self) -> list[str]:
        """Contact IDs the write was to fill but skipped (a person changed the cell or row
        meanwhile): invitations recorded for them refer to an ID no row holds."""
        if self.report is None or self.plan is None or self.plan.cells.empty:
            return []
        planned = self.plan.cells[self.plan.cells["kind"] == "id"]
        titles = set(planned["title"])
        skipped = {str(s.get("id")) for s in self.report.skipped if s.get("tab") in titles and s.get("column") == "ID"}
        return [str(i) for i in planned["record_id"] if str(i) in skipped]


def invite(
    backend: Backend,
    *,
    event: str,
    filters: InviteFilters | None = None,
    record: bool = False,
    as_of: Any = None,
    raw: dict[Tab, RawTab] | None = None,
) -> InviteResult:
    """The invitation list for ``event`` from the workbook behind ``backend`` (customer
    metrics computed as of ``as_of``, default today); with ``record``, one write appending
    an ``Event Invited`` activity per person."""
    raw = raw if raw is not None else backend.read()
    tables, settings, _issues = bind_all(raw)
    filters = filters or InviteFilters()
    if filters.recent_days is None:
        filters = dataclasses.replace(filters, recent_days=settings.invite_recent_days)
    when = as_of_date(as_of)
    computed = compute(tables, settings, when, empty_problems())
    contacts = tables[Tab.CONTACTS].typed.copy()
    for key in ("Mobile", "Phone"):
        # A valid number as the person typed it (0912-345-678), not in its stored form;
        # one the spreadsheet stored as a number (981755421, its 0 lost) as dialled.
        cells = tables[Tab.CONTACTS].raw_column(key)
        typed_as = [
            None if is_blank(v) else _dialled(n) if isinstance(v, int | float) else str(v).strip()
            for v, n in zip(cells, contacts[key], strict=True)
        ]
        contacts[key] = pd.Series(typed_as, index=contacts.index, dtype=object).where(contacts[key].notna(), None)
    id_fills = computed.ids[Tab.CONTACTS]
    contacts["ID"] = contacts["ID"].where(contacts["ID"].notna(), id_fills.reindex(contacts.index))
    lang = settings.language
    listed, left_out = invitation_list(
        contacts,
        computed.customers[Tab.CONTACTS],
        tables[Tab.ACTIVITIES].typed,
        filters,
        when,
        lang,
        unclear_opt_out=_unclear_opt_out(tables[Tab.CONTACTS]),
    )
    result = InviteResult(event, listed, left_out, lang)
    if record and len(listed):
        now = dt.datetime.now().replace(microsecond=0)
        result.plan = plan_invitations(
            listed,
            contacts,
            tables,
            settings,
            event=event,
            today=when.date(),
            now=now,
            run=run_id(now),
            id_fills=id_fills,
        )
        result.report = backend.write(result.plan)
    return result


def invite_target(target: str | os.PathLike[str], *, credentials: Any = None, **kwargs: Any) -> InviteResult:
    """:func:`invite` on the workbook at ``target``: what the ``invite`` command runs."""
    from sheetcrm.workbook import open_backend

    return invite(open_backend(target, credentials=credentials), **kwargs)
