"""What the customer numbers tell an owner about a sync, in English and Traditional Chinese.

The one catalog of the customer notices: a dimension quintiles could not split, why
P(alive) was or was not fitted, and the one-time note that the customer rules changed.
:mod:`sheetcrm.engine.compute` collects them; the sync summary prints them and the Log
keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sheetcrm.schema import Lang, Tab


class NoticeKind(StrEnum):
    FLAT_SCORE = "flat score"
    RHYTHM_FITTED = "rhythm fitted"
    RHYTHM_EMPTY = "rhythm empty"
    RULES_CHANGED = "rules changed"


@dataclass(frozen=True)
class Notice:
    """One notice: which tab it is about (None: the whole workbook), its kind, its text."""

    tab: Tab | None
    kind: NoticeKind
    en: str
    zh: str

    def text(self, lang: Lang | str = Lang.EN) -> str:
        return self.zh if str(lang) == Lang.ZH_TW else self.en


_NOUN = {Tab.CONTACTS: ("contacts", "連絡人"), Tab.COMPANIES: ("companies", "公司")}
#: The Chinese measure word counting each tab's customers (位 for people, 家 for companies).
_UNIT = {Tab.CONTACTS: "位", Tab.COMPANIES: "家"}
_WHAT = {
    "R": ("days since the last purchase", "距上次購買天數", "R"),
    "F": ("purchases in the look-back window", "回顧期間購買次數", "F"),
    "M": ("amount in the look-back window", "回顧期間購買金額", "M"),
}

#: Start of the rules-changed note in each language; a Log holding either has had it.
RULES_MARKER_EN = "Customer rules v2"
RULES_MARKER_ZH = "顧客規則第2版"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def flat_score(tab: Tab, dimension: str, customers: int, value: float, score: int) -> Notice:
    en_noun, zh_noun = _NOUN[tab]
    what_en, what_zh, letter = _WHAT[dimension]
    shown = _number(value)
    return Notice(
        tab,
        NoticeKind.FLAT_SCORE,
        f"{tab.value}: all {customers:,} {en_noun} scored on {letter} have the same {what_en} ({shown}), "
        f"so quintiles cannot tell them apart and all get {letter}{score}. Set fixed bounds in the "
        f"Settings key rfm.cut_points if {letter} should separate them.",
        f"{tab.zh}：參與 {letter} 評分的 {customers:,} {_UNIT[tab]}{zh_noun}{what_zh}都相同（{shown}），"
        f"五分位無法區分，全部為 {letter}{score}。如需區分，請在設定 rfm.cut_points 指定固定切點。",
    )


def rhythm_fitted(
    tab: Tab, model: str, buyers: int, repeat: int, active: int, at_risk: int, gone: int, seconds: float
) -> Notice:
    en_noun, zh_noun = _NOUN[tab]
    return Notice(
        tab,
        NoticeKind.RHYTHM_FITTED,
        f"{tab.value}: P(alive) from {model} fitted on {buyers:,} {en_noun} who bought ({repeat:,} bought again) "
        f"in {seconds:.1f} s: {active:,} active, {at_risk:,} at risk, {gone:,} likely gone.",
        f"{tab.zh}：存活機率以 {model} 模型依 {buyers:,} {_UNIT[tab]}購買過的{zh_noun}"
        f"（其中 {repeat:,} {_UNIT[tab]}回購）估計，"
        f"費時 {seconds:.1f} 秒：活躍 {active:,}、有流失風險 {at_risk:,}、可能已流失 {gone:,}。",
    )


def rhythm_too_few(tab: Tab, repeat: int, needed: int) -> Notice:
    en_noun, zh_noun = _NOUN[tab]
    return Notice(
        tab,
        NoticeKind.RHYTHM_EMPTY,
        f"{tab.value}: P(alive), Expected 90d and Rhythm left empty: only {repeat:,} {en_noun} bought more than "
        f"once, and the model needs {needed:,} (Settings key rhythm.min_repeat_buyers) to say anything reliable.",
        f"{tab.zh}：存活機率、預期90天購買次數與購買節奏留白：只有 {repeat:,} {_UNIT[tab]}{zh_noun}購買超過一次，"
        f"模型至少需要 {needed:,} {_UNIT[tab]}（設定 rhythm.min_repeat_buyers）才可靠。",
    )


def rhythm_failed(tab: Tab, model: str, reason: str) -> Notice:
    return Notice(
        tab,
        NoticeKind.RHYTHM_EMPTY,
        f"{tab.value}: P(alive), Expected 90d and Rhythm left empty: the {model} fit did not converge "
        f"({reason}). The other customer columns are unaffected.",
        f"{tab.zh}：存活機率、預期90天購買次數與購買節奏留白：{model} 模型估計未收斂（{reason}）。"
        "其他顧客欄位不受影響。",
    )


def rules_changed() -> Notice:
    return Notice(
        None,
        NoticeKind.RULES_CHANGED,
        f"{RULES_MARKER_EN} apply from this sync (if the workbook was scored before, some R/F/M, Segment and "
        "Tier cells change now). Money is summed exactly (11.77 + 13.97 is 25.74, so equal spenders score "
        "alike). F and M quintiles are taken among buyers who bought in the look-back window; a buyer with "
        "nothing in the window is F1 M1 (one order a year no longer makes a Champion). Tiers rank buyers who "
        "spent in the window; nothing or a net refund is General. New columns P(alive), Expected 90d and "
        "Rhythm judge churn by each customer's own buying rhythm. Details: docs/customer-rules.md.",
        f"{RULES_MARKER_ZH}自本次同步起適用（若本活頁簿先前已評分，部分 R/F/M、顧客分群與價值層級會隨之改變）。"
        "金額精確加總（11.77 + 13.97 即 25.74，消費相同者分數相同）。F 與 M 的五分位只在回顧期間內有購買的顧客中"
        "計算；期間內沒有購買者為 F1 M1（一年一張訂單不再成為冠軍顧客）。價值層級只排名期間內有消費的顧客；"
        "沒有消費或淨退款者為一般。新增存活機率、預期90天購買次數與購買節奏三欄，依每位顧客自己的購買節奏"
        "判斷流失。詳見 docs/customer-rules.md。",
    )


def has_rules_note(reasons: list[object]) -> bool:
    """Whether a Log's Reason cells already hold the rules-changed note."""
    return any(isinstance(r, str) and (RULES_MARKER_EN in r or RULES_MARKER_ZH in r) for r in reasons)
