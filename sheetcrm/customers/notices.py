"""What the customer numbers tell an owner about a sync, in English and Traditional Chinese.

The customer notices: a dimension quintiles could not split, why P(alive) was or was not
fitted, and the one-time note that the customer rules changed. Their words are catalog
messages (:mod:`sheetcrm.i18n`); :mod:`sheetcrm.engine.compute` collects them, the sync
summary prints them and the Log keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sheetcrm.exceptions import Phrase
from sheetcrm.i18n import N_
from sheetcrm.schema import Lang, Tab


class NoticeKind(StrEnum):
    FLAT_SCORE = "flat score"
    RHYTHM_FITTED = "rhythm fitted"
    RHYTHM_EMPTY = "rhythm empty"
    RULES_CHANGED = "rules changed"
    LEFT_OUT = "purchases left out"


@dataclass(frozen=True)
class Notice:
    """One notice: which tab it is about (None: the whole workbook), its kind, and what it
    says (a catalog :class:`~sheetcrm.exceptions.Phrase`). A notice that is not ``told``
    goes to the Log only, not to the run's summary."""

    tab: Tab | None
    kind: NoticeKind
    phrase: Phrase
    told: bool = True

    def text(self, lang: Lang | str = Lang.EN) -> str:
        return self.phrase.render(str(lang))

    @property
    def en(self) -> str:
        return self.text(Lang.EN)

    @property
    def zh(self) -> str:
        return self.text(Lang.ZH_TW)


#: Each notice, as said of contacts and of companies: Chinese counts people and companies
#: with different measure words (位, 家), so each tab has its own sentence.
_FLAT = {
    Tab.CONTACTS: N_(
        "Contacts: all {customers} contacts scored on {letter} have the same {what} ({value}), so quintiles "
        "cannot tell them apart and all get {letter}{score}. Set fixed bounds in the Settings key "
        "rfm.cut_points if {letter} should separate them."
    ),
    Tab.COMPANIES: N_(
        "Companies: all {customers} companies scored on {letter} have the same {what} ({value}), so quintiles "
        "cannot tell them apart and all get {letter}{score}. Set fixed bounds in the Settings key "
        "rfm.cut_points if {letter} should separate them."
    ),
}
_WHAT = {
    "R": N_("days since the last purchase"),
    "F": N_("purchases in the look-back window"),
    "M": N_("amount in the look-back window"),
}
_FITTED = {
    Tab.CONTACTS: N_(
        "Contacts: P(alive) from {model} fitted on {buyers} contacts who bought ({repeat} bought again) in "
        "{seconds} s: {active} active, {at_risk} at risk, {gone} likely gone."
    ),
    Tab.COMPANIES: N_(
        "Companies: P(alive) from {model} fitted on {buyers} companies who bought ({repeat} bought again) in "
        "{seconds} s: {active} active, {at_risk} at risk, {gone} likely gone."
    ),
}
_TOO_FEW = {
    Tab.CONTACTS: N_(
        "Contacts: P(alive), Expected 90d and Rhythm left empty: only {repeat} of the contacts bought more than once, "
        "and the model needs {needed} (Settings key rhythm.min_repeat_buyers) to say anything reliable."
    ),
    Tab.COMPANIES: N_(
        "Companies: P(alive), Expected 90d and Rhythm left empty: only {repeat} of the companies bought more than "
        "once, and the model needs {needed} (Settings key rhythm.min_repeat_buyers) to say anything reliable."
    ),
}
_FAILED = {
    Tab.CONTACTS: N_(
        "Contacts: P(alive), Expected 90d and Rhythm left empty: the {model} fit did not converge ({reason}). "
        "The other customer columns are unaffected."
    ),
    Tab.COMPANIES: N_(
        "Companies: P(alive), Expected 90d and Rhythm left empty: the {model} fit did not converge ({reason}). "
        "The other customer columns are unaffected."
    ),
}
_RULES = N_(
    "Customer rules v2 apply from this sync (if the workbook was scored before, some R/F/M, Segment and Tier "
    "cells change now). Money is summed exactly (11.77 + 13.97 is 25.74, so equal spenders score alike). F and "
    "M quintiles are taken among buyers who bought in the look-back window; a buyer with nothing in the window "
    "is F1 M1 (one order a year no longer makes a Champion). Tiers rank buyers who spent in the window; nothing "
    "or a net refund is General. New columns P(alive), Expected 90d and Rhythm judge churn by each customer's "
    "own buying rhythm. Details: docs/customer-rules.md."
)

#: Start of the rules-changed note (:data:`_RULES`) in each language; a Log holding
#: either has had it.
RULES_MARKER_EN = "Customer rules v2"
RULES_MARKER_ZH = "顧客規則第2版"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def flat_score(tab: Tab, dimension: str, customers: int, value: float, score: int) -> Notice:
    fields = {
        "customers": f"{customers:,}",
        "letter": dimension,
        "what": Phrase(_WHAT[dimension]),
        "value": _number(value),
        "score": score,
    }
    return Notice(tab, NoticeKind.FLAT_SCORE, Phrase(_FLAT[tab], fields))


def rhythm_fitted(
    tab: Tab, model: str, buyers: int, repeat: int, active: int, at_risk: int, gone: int, seconds: float
) -> Notice:
    counts = {"buyers": buyers, "repeat": repeat, "active": active, "at_risk": at_risk, "gone": gone}
    fields = {"model": model, "seconds": f"{seconds:.1f}", **{k: f"{n:,}" for k, n in counts.items()}}
    return Notice(tab, NoticeKind.RHYTHM_FITTED, Phrase(_FITTED[tab], fields))


def rhythm_too_few(tab: Tab, repeat: int, needed: int) -> Notice:
    fields = {"repeat": f"{repeat:,}", "needed": f"{needed:,}"}
    return Notice(tab, NoticeKind.RHYTHM_EMPTY, Phrase(_TOO_FEW[tab], fields))


def rhythm_failed(tab: Tab, model: str, reason: str) -> Notice:
    return Notice(tab, NoticeKind.RHYTHM_EMPTY, Phrase(_FAILED[tab], {"model": model, "reason": reason}))


#: The same note for a workbook never scored before: nothing of it changes, so nothing to
#: explain; one line in its Log, carrying the marker, is all a later sync looks for.
_RULES_FIRST = N_("Customer rules v2 score this workbook from its first sync (docs/customer-rules.md).")


def rules_changed(told: bool = True) -> Notice:
    """The note that the customer rules changed: told in full to a workbook scored under
    the old ones, one quiet line in the Log of one that never was."""
    return Notice(None, NoticeKind.RULES_CHANGED, Phrase(_RULES if told else _RULES_FIRST), told)


_LEFT_OUT = N_(
    "{n} purchase(s) worth {amount} count for no customer: {undated} without a date that can be read, "
    "{unlinked} naming no customer that can be told apart; the Problems cell of each says why"
)


def left_out(undated: int, unlinked: int, amount: float) -> Notice:
    """Purchases that count for nobody (:func:`~sheetcrm.customers.transactions.left_out_purchases`)."""
    fields = {"n": f"{undated + unlinked:,}", "undated": f"{undated:,}", "unlinked": f"{unlinked:,}"}
    return Notice(None, NoticeKind.LEFT_OUT, Phrase(_LEFT_OUT, {**fields, "amount": _number(amount)}))


def has_rules_note(reasons: list[object]) -> bool:
    """Whether a Log's Reason cells already hold the rules-changed note."""
    return any(isinstance(r, str) and (RULES_MARKER_EN in r or RULES_MARKER_ZH in r) for r in reasons)
