"""What the team commands (import, assign, invite) say, by key.

The English messages sit here, marked for the one catalog (:mod:`sheetcrm.i18n`), which
holds their translations; ``say(key, lang, **values)`` gives the message in ``lang`` (a
workbook's ``language`` setting) with ``values`` filled in.
"""

from __future__ import annotations

from typing import Any

from sheetcrm.i18n import N_, tr
from sheetcrm.schema import Lang

MESSAGES: dict[str, str] = {
    "lead.added": N_("new contact"),
    "lead.no_name": N_("no Name"),
    "lead.bad_cell": N_("{column}: {problem}"),
    "lead.same_email": N_("same email as {ids}"),
    "lead.same_phone": N_("same phone as {ids}"),
    "lead.same_name": N_("same name and company as {ids}"),
    "lead.same_in_file": N_("same {what} as file row {row}"),
    "lead.key.email": N_("email"),
    "lead.key.phone": N_("phone"),
    "lead.key.name": N_("name and company"),
    "lead.merged": N_("filled {n} blank cell(s) of {id}"),
    "lead.ambiguous": N_("matches several records ({ids}); decide by hand"),
    "lead.company_ambiguous": N_("company {name!r} matches {ids}; not linked"),
    "lead.company_close": N_(
        "company {name!r} is new but close to {similar}: if it is the same, write that name in the file;"
        " if not, add {name!r} to the Companies tab first; then import again"
    ),
    "log.lead_added": N_("added from {file} (source {source})"),
    "log.company_added": N_("company added from {file} (source {source})"),
    "log.merged": N_("blank cell filled from {file} row {row}"),
    "log.import_summary": N_(
        "import {file}: {added} added, {companies} compan(ies) added, {duplicates} likely"
        " duplicate(s), {merged} merged, {rejected} rejected"
    ),
    "import.summary": N_(
        "{total} row(s) read: {added} added, {duplicates} likely duplicate(s) listed for a person to"
        " decide, {merged} merged into blank cells, {rejected} rejected; {companies} new compan(ies)."
    ),
    "import.rejected_line": N_("  row {row}: {reason}"),
    "import.duplicate_line": N_("  row {row}: {reason}"),
    "import.unused_columns": N_('Columns not imported (unknown header; use --map "HEADER=Column"): {columns}'),
    "import.absent_columns": N_("The workbook's {tab} tab has no column for: {columns} (not imported)"),
    "assign.round_robin": N_("round-robin: next in turn after {prev}"),
    "assign.round_robin_first": N_("round-robin: first in turn"),
    "assign.weighted": N_("weighted: Weight {weight}, {count} so far"),
    "assign.territory": N_("territory: covers {what}"),
    "assign.territory_fallback": N_("territory: no rep covers {what}; round-robin"),
    "assign.balanced": N_("balanced: value {value:,.0f}, lowest total so far ({total:,.0f})"),
    "assign.relay": N_("relay: handles stage {stage}"),
    "assign.relay_none": N_("relay: no active rep handles stage {stage}"),
    "assign.summary": N_("{tab}: {assigned} empty Owner cell(s) filled ({strategy}); {left} left empty."),
    "assign.per_rep": N_("  {rep}: {count}"),
    "log.assign_summary": N_("assign {tab} ({strategy}): {assigned} owner(s) set"),
    "log.cursor": N_("round-robin cursor"),
    "log.relay_summary": N_("relay: {n} deal owner(s) changed with the stage"),
    "invite.opted_out": N_("opted out"),
    "invite.unreachable": N_("no email or phone to reach them"),
    "invite.recent": N_("invited within {days} days ({date})"),
    "invite.summary": N_(
        "{n} to invite to {event}; left out: {opted_out} opted out, {unreachable} unreachable,"
        " {recent} invited recently, {filtered} not matching the filters, {limit} past --limit."
    ),
    "invite.unreachable_list": N_("Unreachable (no email or phone): {names}"),
    "invite.unclear_list": N_(
        "Left out, their Opt-out cell reads as neither yes nor no (write yes or no there, then run again): {names}"
    ),
    "invite.heading.attended": N_("Attended"),
    "invite.heading.last_invited": N_("Last Invited"),
    "invite.recorded": N_("Recorded {n} invitation(s) in the activities, as Event Invited."),
    "log.invited": N_("invited to {event}"),
    "log.id_filled": N_("filled a missing ID (the {event} invitation refers to it)"),
    "invite.id_not_filled": N_(
        "The ID of {ids} could not be filled (the sheet changed meanwhile), so their invitation"
        " refers to an ID no row holds: run 'sheetcrm sync', then correct Contact ID on those activities."
    ),
    "log.invite_summary": N_("invite {event}: {n} invitation(s) recorded"),
    "dry_run": N_("Dry run: nothing was written."),
    "skipped": N_("{n} change(s) skipped because the sheet changed meanwhile (see the Log)."),
    "written": N_("Written: {cells} cell(s), {rows} new row(s)."),
}


def say(key: str, lang: Lang | str = Lang.EN, **values: Any) -> str:
    """The message ``key`` in ``lang`` with ``values`` filled in."""
    return tr(Lang.ZH_TW if str(lang) == Lang.ZH_TW else Lang.EN, MESSAGES[key], **values)
