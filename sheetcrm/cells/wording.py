"""What a cell that did not parse is told, in the workbook's language.

The parsers of :mod:`sheetcrm.cells.parse` say what is wrong in English, in a few fixed
shapes ("'x' is not a date (detail); expected ..."). For a Chinese workbook the shape, the
noun, the known details and what was expected are put through the catalog; a detail the
catalog does not know is kept as written rather than lost.
"""

from __future__ import annotations

import calendar
import functools
import re
from typing import Any

from sheetcrm.i18n import N_, tr

_SHAPES = (
    (
        re.compile(r"^(?P<value>.+?) is not (?P<noun>an? [\w ]+?|yes or no)(?P<detail> \(.*\))?$", re.S),
        N_("{value} is not {noun}"),
    ),
    (
        re.compile(r"^(?P<value>.+?) is a true/false value, not (?P<noun>an? [\w ]+?)$", re.S),
        N_("{value} is a true/false value, not {noun}"),
    ),
    (re.compile(r"^(?P<value>.+?) is a date, not (?P<noun>an? [\w ]+?)$", re.S), N_("{value} is a date, not {noun}")),
    (re.compile(r"^(?P<value>.+?) is too large$", re.S), N_("{value} is too large")),
    (
        re.compile(r"^(?P<value>.+?) spans more than one line; an ID is one line$", re.S),
        N_("{value} spans more than one line; an ID is one line"),
    ),
    (re.compile(r"^(?P<value>.+?) contains control characters$", re.S), N_("{value} contains control characters")),
    (
        re.compile(r"^(?P<value>.+?) is a time of day without a date$", re.S),
        N_("{value} is a time of day without a date"),
    ),
    (re.compile(r"^the cell is blank$"), N_("the cell is blank")),
)
NOUNS = {
    "a date": N_("a date"),
    "an amount": N_("an amount"),
    "a number": N_("a number"),
    "a whole number": N_("a whole number"),
    "an ID": N_("an ID"),
    "an email address": N_("an email address"),
    "a phone number": N_("a phone number"),
    "yes or no": N_("yes or no"),
    "a stage": N_("a stage"),
    "an activity type": N_("an activity type"),
    "a contact role": N_("a contact role"),
    "a segment": N_("a segment"),
    "a tier": N_("a tier"),
    "a lifecycle": N_("a lifecycle"),
    "a NESL": N_("a NESL"),
}
DETAILS = (
    N_("it has no year; add the year, like 2026/3/5"),
    N_("it has no day; add the day, like 2026/3/5"),
    N_("it is a month without a day; add the day, like 2026年3月5日"),
    N_("write the year in full, like 2026年3月5日"),
    N_("write the year in full, like 2026/3/5 or 3/5/2026, or an ROC year first, like 115/3/5"),
    N_("write the ROC year first, like 民國115/3/5"),
    N_("it is a negative number"),
    N_("it has more than one minus sign"),
    N_("remove the currency"),
    N_("there is no number in it"),
    N_("it is too large"),
    N_("its separators are in the wrong places: thousands go in groups of three"),
    N_("it holds more than one address; keep one per cell"),
    N_("it contains a space"),
    N_("it has no @"),
    N_("it has more than one @"),
    N_("nothing before the @"),
    N_("nothing after the @"),
    N_("it is negative"),
    N_("it holds more than one number; keep one per cell"),
    N_("it contains letters"),
    N_("it contains characters that are not part of a phone number"),
    N_("'+' may only come first"),
    N_("a word of your own for one can go in the Settings key synonyms.stage, like 簽約中=Negotiation"),
    N_("a word of your own for one can go in the Settings key synonyms.activity_type, like 來店=Visit"),
)
EXPECTED = (
    N_("an ID on a single line, like CO-0001 or 12"),
    N_("a date like 2026-03-05, 2026/3/5, 2026年3月5日, 民國115年3月5日 or 115/3/5"),
    N_(
        "a date and time like 2026-03-05 14:30, 2026/3/5 下午2:30 or 2026-03-05T14:30:00 "
        "(or a date like 2026-03-05, 2026/3/5, 2026年3月5日 or 115/3/5)"
    ),
    N_("yes or no (or true/false, y/n, 1/0, 是/否, 對/錯, v/x, ✓/✗)"),
    N_("an email address like name@example.com"),
    N_("a phone number like 02-2345-6789, 0912-345-678 or +886 2 2345 6789"),
    N_("an amount like 1200, 1,200.50, NT$1,200, -500 or 1.2萬"),
    N_("an amount like 1200, 1.200,50, €1.200,50, -500 or 1,2萬"),
    N_("a whole number like 12, 1,200 or -3"),
    N_("a whole number like 12, 1.200 or -3"),
    N_("a number like 1200, 1,200.5 or -3"),
    N_("a number like 1200, 1.200,5 or -3"),
)
_NO_YEAR = re.compile(
    r"^it has no year, so it is left out; add the year: "
    r"the (?P<which>latest such day was|next such day is) (?P<date>\S+)$"
)
#: The two endings of a yearless date's message: a past day for most columns, the day to
#: come for the columns that hold days ahead (Expected Close, Next Step Due).
_NO_YEAR_SAID = {
    "latest such day was": N_("it has no year, so it is left out; add the year: the latest such day was {date}"),
    "next such day is": N_("it has no year, so it is left out; add the year: the next such day is {date}"),
}
#: Details that quote part of the value: pattern -> message with that part as {part}.
_QUOTING = (
    (
        re.compile(r"^the domain (?P<part>.+) has no dot, as in example\.com$"),
        N_("the domain {part} has no dot, as in example.com"),
    ),
    (
        re.compile(r"^the domain (?P<part>.+) has a comma where a dot goes, as in example\.com$"),
        N_("the domain {part} has a comma where a dot goes, as in example.com"),
    ),
    (re.compile(r"^(?P<part>.+) cannot come before the @$"), N_("{part} cannot come before the @")),
    (re.compile(r"^(?P<part>.+) is not a domain name$"), N_("{part} is not a domain name")),
    (
        re.compile(r"^it has (?P<part>\d+) digits; a phone number has 7 to 15$"),
        N_("it has {part} digits; a phone number has 7 to 15"),
    ),
    (
        re.compile(r"^it has (?P<part>\d+) digits with the country code; at most 15$"),
        N_("it has {part} digits with the country code; at most 15"),
    ),
)
_ONE_OF = re.compile(r"^one of (?P<en>.*?)(?: \(or (?P<zh>.*)\))?$")


@functools.cache
def _known(lang: str) -> tuple[dict[str, str], dict[str, str]]:
    return {d: tr(lang, d) for d in DETAILS}, {e: tr(lang, e) for e in EXPECTED}


#: A date that does not exist, as parse._make_date says it: the detail, then how the
#: date was read (parse._order_hint) when reading it the other way round would work.
_NO_SUCH_DATE = (
    (
        re.compile(r"^year (?P<year>-?\d+) is outside (?P<low>\d+)–(?P<high>\d+)$"),
        N_("year {year} is outside {low}–{high}"),
    ),
    (re.compile(r"^there is no month (?P<month>\d+)$"), N_("there is no month {month}")),
    (
        re.compile(r"^(?P<name>[A-Z][a-z]+) (?P<year>\d+) has no day (?P<day>\d+)$"),
        N_("{year}-{month} has no day {day}"),
    ),
)
_READ_MONTH_FIRST = re.compile(
    r"^it is read month first: if your dates are day first \((?P<first>\d+)/(?P<second>\d+) = \d+ \w+\), "
    r"set dates\.day_first to true in Settings$"
)
_READ_DAY_FIRST = N_(
    "it is read day first because dates.day_first is true in Settings: set it to false if your dates are month first"
)


def _date_detail(detail: str, lang: str) -> str | None:
    """A date detail (with its reading hint) in ``lang``, or None if it is not one."""
    what, _, hint = detail.partition("; ")
    for shape, template in _NO_SUCH_DATE:
        if (m := shape.match(what)) is None:
            continue
        fields = m.groupdict()
        if "name" in fields:
            fields["month"] = f"{list(calendar.month_name).index(fields.pop('name')):02d}"
        worded = tr(lang, template, **fields)
        if not hint:
            return worded
        if hint == _READ_DAY_FIRST:
            return worded + tr(lang, "; {hint}", hint=tr(lang, _READ_DAY_FIRST))
        if (h := _READ_MONTH_FIRST.match(hint)) is not None:
            said = tr(
                lang,
                "it is read month first: if your dates are day first ({first}/{second} is day {first} of "
                "month {second}), set dates.day_first to true in Settings",
                first=h["first"],
                second=h["second"],
            )
            return worded + tr(lang, "; {hint}", hint=said)
        return None
    return None


def _worded_detail(detail: str, details: dict[str, str], lang: str) -> str:
    for shape, template in _QUOTING:
        if (quoted := shape.match(detail)) is not None:
            return tr(lang, template, part=quoted["part"])
    return _date_detail(detail, lang) or details.get(detail, detail)


def cell_problem(problem: Any, lang: str) -> str:
    """A cell's problem as binding or a parser gave it (a :class:`~sheetcrm.exceptions.Worded`
    message, or a parser's English words) told in ``lang``."""
    from sheetcrm.exceptions import Worded

    return problem.in_language(lang) if isinstance(problem, Worded) else parse_problem(str(problem), lang)


def parse_problem(text: str, lang: str) -> str:
    """A parse problem (``"<message>; expected <expected>"``) worded in ``lang``."""
    if lang == "en" or not text:
        return text
    details, expected_texts = _known(lang)
    message, sep, expected = text.partition("; expected ")
    worded = message
    for pattern, template in _SHAPES:
        m = pattern.match(message)
        if m is None:
            continue
        fields = m.groupdict()
        noun = fields.get("noun")
        worded = tr(lang, template, value=fields.get("value", ""), noun=tr(lang, NOUNS.get(noun, noun)) if noun else "")
        detail = (fields.get("detail") or "").strip()[1:-1]
        if detail:
            if (no_year := _NO_YEAR.match(detail)) is not None:
                detail = tr(lang, _NO_YEAR_SAID[no_year["which"]], date=no_year["date"])
            else:
                detail = _worded_detail(detail, details, lang)
            worded += tr(lang, " ({detail})", detail=detail)
        break
    if not sep:
        return worded
    if (one_of := _ONE_OF.match(expected)) is not None and expected not in expected_texts:
        choices = one_of["zh"] or one_of["en"]
        return tr(
            lang,
            "{problem}; expected {expected}",
            problem=worded,
            expected=tr(lang, "one of {choices}", choices=choices),
        )
    return tr(lang, "{problem}; expected {expected}", problem=worded, expected=expected_texts.get(expected, expected))
