"""When GitHub would turn a repository's schedule off.

GitHub disables the scheduled workflows of a public repository in which nothing has
happened for 60 days, silently: the runs just stop. A scheduled sync passes the date of
the repository's last commit (``git log -1 --format=%cI``) and its summary says when the
schedule lapses, with a warning once the day is near.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sheetcrm.exceptions import Phrase, WorkflowOptionError
from sheetcrm.i18n import N_, tr

#: GitHub's rule: schedules stop after this many days without repository activity.
INACTIVITY_DAYS = 60
#: From this many days before the lapse on, the summary and the run's annotations warn.
WARN_DAYS = 14


@dataclass(frozen=True)
class ScheduleLapse:
    """``last_activity``: the date of the last commit; ``lapses_on``: the first day GitHub
    may no longer run the schedule; ``days_left``: days from ``today`` until then (0 or
    less: it may already be off for the next run); ``warn``: close enough to say so loudly."""

    last_activity: dt.date
    lapses_on: dt.date
    days_left: int

    @property
    def warn(self) -> bool:
        return self.days_left <= WARN_DAYS

    def sentence(self, lang: str = "en") -> str:
        """One line for a person in ``lang``, saying what to do when the day is near."""
        fields = {
            "days": INACTIVITY_DAYS,
            "last": self.last_activity.isoformat(),
            "lapses_on": self.lapses_on.isoformat(),
            "left": self.days_left,
        }
        if self.days_left <= 0:
            return tr(
                lang,
                "GitHub turns this repository's scheduled workflows off after {days} days without activity"
                " (public repositories): the last commit is of {last}, so the schedule lapses on about"
                " {lapses_on}, which has passed: push a commit (or re-enable the workflow under Actions)"
                " to keep the schedule running.",
                **fields,
            )
        if self.warn:
            return tr(
                lang,
                "GitHub turns this repository's scheduled workflows off after {days} days without activity"
                " (public repositories): the last commit is of {last}, so the schedule lapses on about"
                " {lapses_on}, in {left} day(s): push a commit, or re-enable the workflow under Actions"
                " once it is off, to keep the schedule running.",
                **fields,
            )
        return tr(
            lang,
            "GitHub turns this repository's scheduled workflows off after {days} days without activity"
            " (public repositories): the last commit is of {last}, so the schedule lapses on about"
            " {lapses_on} ({left} days from now).",
            **fields,
        )


def parse_activity(text: str) -> dt.date:
    """A date or ISO 8601 date-time (as ``git log --format=%cI`` prints it) as a UTC date."""
    value = text.strip()
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise WorkflowOptionError(
            Phrase(
                N_(
                    "--last-activity {value} is not a date; give an ISO 8601 date or "
                    "date-time, e.g. the output of: {command}"
                ),
                {"value": repr(value[:40]), "command": "git log -1 --format=%cI"},
            )
        ) from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC)
    return stamp.date()


def schedule_lapse(last_activity: dt.date | str, today: dt.date | None = None) -> ScheduleLapse:
    """When the schedule lapses, counted from ``last_activity`` (a date, or text for
    :func:`parse_activity`); ``today`` defaults to today in UTC."""
    last = parse_activity(last_activity) if isinstance(last_activity, str) else last_activity
    now = today or dt.datetime.now(dt.UTC).date()
    lapses_on = last + dt.timedelta(days=INACTIVITY_DAYS)
    return ScheduleLapse(last, lapses_on, (lapses_on - now).days)
