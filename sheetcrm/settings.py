"""Settings: the owner-editable knobs kept in the Settings tab, their defaults, and the
typed :class:`Settings` object the domain modules take.

A key missing from the tab takes its default; a value that cannot be used is reported as a
problem on the Settings row and the default is used, so one typo never stops a sync.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from sheetcrm.exceptions import Phrase, SettingValueError, Worded
from sheetcrm.i18n import N_
from sheetcrm.schema import ActivityType, Lang, Stage, Tab


@dataclass(frozen=True)
class SettingDef:
    key: str
    default: str
    description: str
    description_zh: str


SETTING_DEFS: tuple[SettingDef, ...] = (
    SettingDef(
        "language", "en", "Language of headers and computed labels: en or zh-TW.", "標題與計算欄位的語言：en 或 zh-TW。"
    ),
    SettingDef(
        "dates.day_first",
        "false",
        "Read 3/5/2026, 05.03.2026 and 5-3-2026 as 3 May (true) instead of March 5 (false).",
        "日期 3/5/2026 以日/月解讀（true）或月/日解讀（false）。",
    ),
    SettingDef(
        "money.decimal_comma",
        "false",
        "Read 1.200,50 as one thousand two hundred point five (European style), in amounts and numbers.",
        "金額使用逗號作小數點（如 1.200,50）。",
    ),
    SettingDef("money.currency", "TWD", "Currency of amounts, for reports.", "金額幣別（報表用）。"),
    SettingDef(
        "rfm.lookback_months", "12", "Months of history counted for Frequency and Monetary.", "計算 F 與 M 的回顧月數。"
    ),
    SettingDef(
        "rfm.cut_points",
        "",
        "Optional fixed score cut points for small books, e.g. "
        "R=30,60,90,180; F=1,2,4,8; M=1000,5000,20000,50000 (four ascending bounds each).",
        "小型名單可改用固定切點，例如 R=30,60,90,180; F=1,2,4,8; M=1000,5000,20000,50000。",
    ),
    SettingDef(
        "nesl.existing_days",
        "30",
        "Last transaction within this many days: E (existing).",
        "最近一次交易在此天數內：E 既有顧客。",
    ),
    SettingDef(
        "nesl.sleeping_days",
        "180",
        "Last transaction within this many days (but past the E window): S (sleeping); older: L (lost).",
        "最近一次交易在此天數內（超過 E）：S 沉睡；更久：L 流失。",
    ),
    SettingDef(
        "nesl.main_customer_count",
        "3",
        "More than this many transactions in the E window marks a main customer.",
        "E 期間內交易次數多於此數：主力顧客。",
    ),
    SettingDef(
        "nesl.important_amount",
        "100000",
        "Monetary above this amount marks an important customer.",
        "M 超過此金額：重要顧客。",
    ),
    SettingDef(
        "tiers.shares",
        "5,15,30,45",
        "Percent of buyers in the strategic, high-profit, major and general tiers.",
        "戰略型、高收益、主要、一般各占購買顧客的百分比。",
    ),
    SettingDef(
        "rhythm.min_repeat_buyers",
        "200",
        "P(alive) and Expected 90d are fitted only when at least this many customers bought twice or more.",
        "至少有這麼多位回購顧客時，才計算存活機率與預期90天購買次數。",
    ),
    SettingDef(
        "rhythm.active_p",
        "0.7",
        "P(alive) at or above this: rhythm Active.",
        "存活機率不低於此值：購買節奏為活躍。",
    ),
    SettingDef(
        "rhythm.gone_p",
        "0.3",
        "P(alive) below this: rhythm Likely gone (in between: At risk).",
        "存活機率低於此值：可能已流失（介於兩者之間：有流失風險）。",
    ),
    SettingDef(
        "rhythm.model",
        "MBG/NBD",
        "Buy-till-you-die model for P(alive): MBG/NBD (default) or BG/NBD.",
        "計算存活機率的模型：MBG/NBD（預設）或 BG/NBD。",
    ),
    SettingDef(
        "pipeline.stages",
        "Lead:10, Qualified:25, Proposal:50, Negotiation:75, Won:100, Lost:0",
        "Win probability (percent) of each stage.",
        "各階段的成交機率（百分比）。",
    ),
    SettingDef(
        "pipeline.rules",
        "Demo|Meeting|Visit=>Qualified; Proposal|Quote=>Proposal; Contract Sent=>Negotiation; Order|Purchase=>Won",
        "Which activity linked to a deal moves it to at least which stage.",
        "哪一類活動可將機會推進到哪個階段（至少）。",
    ),
    SettingDef(
        "synonyms.stage",
        "報價=Proposal; 報價中=Proposal; 談判=Negotiation; 談判中=Negotiation; 洽談中=Qualified; 結案=Won",
        "Words your team types for a Stage: word=Stage; word=Stage; ... (add your own).",
        "團隊對階段的慣用說法：說法=階段; 說法=階段; ...（可自行增加）。",
    ),
    SettingDef(
        "synonyms.activity_type",
        "電訪=Call; 打電話=Call; 來電=Call; LINE=Message; Line訊息=Message; 出貨=Delivery; 寄件=Delivery; "
        "面談=Meeting; 來店=Visit",
        "Words your team types for an activity Type: word=Type; ... (add your own).",
        "團隊對活動類型的慣用說法：說法=類型; ...（可自行增加）。",
    ),
    SettingDef(
        "links.write_ids",
        "false",
        "When a reference is typed as a name, also write the ID it matched into a computed "
        "'... ID (resolved)' column (the typed cell is never changed).",
        "參照欄位以名稱填寫時，另將比對到的編號寫入計算欄「…（比對）」（不更動原儲存格）。",
    ),
    SettingDef(
        "pipeline.stale_days",
        "30",
        "An open deal with no activity for this many days is flagged stale.",
        "未結案機會超過此天數沒有活動即標記停滯。",
    ),
    SettingDef(
        "assign.strategy",
        "round-robin",
        "How 'sheetcrm assign' fills empty Owner cells: round-robin, weighted, territory, balanced or relay.",
        "sheetcrm assign 填入空白負責人的方式：round-robin 輪流、weighted 依權重、territory 依區域、"
        "balanced 依價值平衡、relay 接力。",
    ),
    SettingDef(
        "assign.cursor",
        "",
        "The Team member who got the last round-robin assignment; the next run starts after them (sheetcrm keeps it).",
        "上次輪流分配到的業務；下次從其後一位開始（由 sheetcrm 維護）。",
    ),
    SettingDef(
        "assign.relay",
        "false",
        "true: sync hands a deal to the Team member whose Stages include its new stage after a stage move.",
        "true：同步推進階段後，將機會交給負責新階段的業務（接力）。",
    ),
    SettingDef(
        "invite.recent_days",
        "90",
        "'sheetcrm invite' leaves out people invited within this many days unless told otherwise.",
        "sheetcrm invite 預設排除此天數內已邀請過的人。",
    ),
)

DEFAULTS: dict[str, str] = {d.key: d.default for d in SETTING_DEFS}


@dataclass(frozen=True)
class Settings:
    """Typed settings. Build with :func:`Settings.from_table` or ``Settings()`` for defaults."""

    language: Lang = Lang.EN
    day_first: bool = False
    decimal_comma: bool = False
    currency: str = "TWD"
    lookback_months: int = 12
    cut_points: Mapping[str, tuple[float, float, float, float]] = field(default_factory=dict)
    existing_days: int = 30
    sleeping_days: int = 180
    main_customer_count: int = 3
    important_amount: float = 100000.0
    tier_shares: tuple[float, float, float, float] = (5.0, 15.0, 30.0, 45.0)
    min_repeat_buyers: int = 200
    active_p: float = 0.7
    gone_p: float = 0.3
    rhythm_model: str = "MBG/NBD"
    stage_probability: Mapping[Stage, float] = field(
        default_factory=lambda: {
            Stage.LEAD: 10.0,
            Stage.QUALIFIED: 25.0,
            Stage.PROPOSAL: 50.0,
            Stage.NEGOTIATION: 75.0,
            Stage.WON: 100.0,
            Stage.LOST: 0.0,
        }
    )
    stage_rules: Mapping[ActivityType, Stage] = field(
        default_factory=lambda: parse_stage_rules(DEFAULTS["pipeline.rules"])
    )
    stale_days: int = 30
    #: Extra words for vocabulary cells: (enum name, word, member value), from synonyms.*.
    synonyms: tuple[tuple[str, str, str], ...] = field(
        default_factory=lambda: (
            parse_synonyms(DEFAULTS["synonyms.stage"], Stage)
            + parse_synonyms(DEFAULTS["synonyms.activity_type"], ActivityType)
        )
    )
    write_resolved_ids: bool = False
    #: True when the language came from the Settings tab rather than the defaults.
    language_set: bool = False
    assign_strategy: str = "round-robin"
    assign_cursor: str = ""
    assign_relay: bool = False
    invite_recent_days: int = 90

    def replace(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_table(cls, table: pd.DataFrame | None) -> tuple[Settings, list[dict[str, Any]]]:
        """Read the Settings tab (columns Key, Value, ``_row``).

        Returns the settings and a list of problems (dicts with tab, row, column, value,
        message) for values that could not be used; those keys keep their defaults.
        """
        values = dict(DEFAULTS)
        rows: dict[str, int] = {}
        if table is not None and len(table):
            for key, value, row in zip(table["Key"], table["Value"], table["_row"], strict=True):
                if key is None or pd.isna(key):
                    continue
                k = str(key).strip()
                values[k] = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()
                rows[k] = int(row)
        problems: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}

        def take(key: str, attr: str, conv: Any, expected: str) -> None:
            try:
                kwargs[attr] = conv(values[key])
            except (ValueError, KeyError) as exc:
                # Python's own words (a float() that failed) are not a person's; ours are.
                why = exc.phrase if isinstance(exc, SettingValueError) and exc.phrase else None
                problems.append(
                    {
                        "tab": Tab.SETTINGS.value,
                        "row": rows.get(key),
                        "column": "Value",
                        "value": values[key],
                        "message": Worded(
                            Phrase(
                                N_("setting {key}: {detail}; expected {expected}; using the default {default}"),
                                {
                                    "key": repr(key),
                                    "detail": why or Phrase(N_("{value} cannot be used"), {"value": repr(values[key])}),
                                    "expected": Phrase(expected),
                                    "default": repr(DEFAULTS[key]),
                                },
                            )
                        ),
                    }
                )
                kwargs[attr] = conv(DEFAULTS[key])

        take("language", "language", _lang, N_("en or zh-TW"))
        take("dates.day_first", "day_first", _bool, N_("true or false"))
        take("money.decimal_comma", "decimal_comma", _bool, N_("true or false"))
        take("money.currency", "currency", lambda v: v or "TWD", N_("a currency code"))
        take("rfm.lookback_months", "lookback_months", _positive_int, N_("a whole number of months"))
        take("rfm.cut_points", "cut_points", parse_cut_points, N_("R=a,b,c,d; F=...; M=..."))
        take("nesl.existing_days", "existing_days", _positive_int, N_("a whole number of days"))
        take("nesl.sleeping_days", "sleeping_days", _positive_int, N_("a whole number of days"))
        take("nesl.main_customer_count", "main_customer_count", _positive_int, N_("a whole number"))
        take("nesl.important_amount", "important_amount", _nonneg_float, N_("an amount"))
        take("tiers.shares", "tier_shares", _shares, N_("four percentages adding up to at most 100"))
        take("rhythm.min_repeat_buyers", "min_repeat_buyers", _positive_int, N_("a whole number of customers"))
        take("rhythm.active_p", "active_p", _probability, N_("a number from 0 to 1"))
        take("rhythm.gone_p", "gone_p", _probability, N_("a number from 0 to 1"))
        take("rhythm.model", "rhythm_model", _rhythm_model, N_("MBG/NBD or BG/NBD"))
        take("pipeline.stages", "stage_probability", parse_stage_probabilities, N_("Stage:percent, ..."))
        take("pipeline.rules", "stage_rules", parse_stage_rules, N_("Type|Type=>Stage; ..."))
        take("pipeline.stale_days", "stale_days", _positive_int, N_("a whole number of days"))
        take("links.write_ids", "write_resolved_ids", _bool, N_("true or false"))
        take("synonyms.stage", "_stage_words", lambda v: parse_synonyms(v, Stage), N_("word=Stage; ..."))
        take("synonyms.activity_type", "_type_words", lambda v: parse_synonyms(v, ActivityType), N_("word=Type; ..."))
        # A team's own words add to the built-in ones (first, so that theirs win a clash):
        # writing 已報價=Proposal must not make 洽談中 unknown.
        own = kwargs.pop("_stage_words") + kwargs.pop("_type_words")
        kwargs["synonyms"] = tuple(dict.fromkeys(own + Settings().synonyms))
        kwargs["language_set"] = "language" in rows and bool(values["language"])
        take("assign.strategy", "assign_strategy", _strategy, N_("round-robin, weighted, territory, balanced or relay"))
        take("assign.cursor", "assign_cursor", str, N_("a Team member's name"))
        take("assign.relay", "assign_relay", _bool, N_("true or false"))
        take("invite.recent_days", "invite_recent_days", _positive_int, N_("a whole number of days"))
        settings = cls(**kwargs)
        if settings.sleeping_days <= settings.existing_days:
            problems.append(
                {
                    "tab": Tab.SETTINGS.value,
                    "row": rows.get("nesl.sleeping_days"),
                    "column": "Value",
                    "value": values["nesl.sleeping_days"],
                    "message": Worded(
                        Phrase(
                            N_(
                                "setting 'nesl.sleeping_days' must be larger than 'nesl.existing_days'; "
                                "using the defaults 30 and 180"
                            )
                        )
                    ),
                }
            )
            settings = settings.replace(existing_days=30, sleeping_days=180)
        if settings.gone_p > settings.active_p:
            problems.append(
                {
                    "tab": Tab.SETTINGS.value,
                    "row": rows.get("rhythm.gone_p"),
                    "column": "Value",
                    "value": values["rhythm.gone_p"],
                    "message": Worded(
                        Phrase(
                            N_(
                                "setting 'rhythm.gone_p' must not be above 'rhythm.active_p'; "
                                "using the defaults 0.7 and 0.3"
                            )
                        )
                    ),
                }
            )
            settings = settings.replace(active_p=0.7, gone_p=0.3)
        return settings, problems


def _bad(template: str, **fields: Any) -> SettingValueError:
    return SettingValueError(Phrase(template, fields))


def _lang(v: str) -> Lang:
    folded = v.strip().lower().replace("_", "-")
    if folded in ("en", "english", "英文"):
        return Lang.EN
    if folded in ("zh-tw", "zh", "中文", "繁體中文", "zh-hant"):
        return Lang.ZH_TW
    raise _bad(N_("unknown language {value}"), value=repr(v))


def _strategy(v: str) -> str:
    from sheetcrm.team.assign import Strategy

    parsed = Strategy.parse(v or "round-robin")
    if parsed is None:
        raise _bad(N_("unknown strategy {value}"), value=repr(v))
    return parsed.value


def _bool(v: str) -> bool:
    from sheetcrm.cells.parse import CellParseError, parse_bool

    if not v.strip():
        return False
    try:
        return parse_bool(v)
    except CellParseError:
        raise _bad(N_("{value} is not true or false"), value=repr(v)) from None


def _positive_int(v: str) -> int:
    n = int(float(v))
    if n <= 0:
        raise _bad(N_("{value} is not positive"), value=repr(v))
    return n


def _nonneg_float(v: str) -> float:
    from sheetcrm.cells.parse import CellParseError, parse_money

    try:
        n = parse_money(v)
    except CellParseError:
        raise _bad(N_("{value} is not an amount"), value=repr(v)) from None
    if n < 0:
        raise _bad(N_("{value} is negative"), value=repr(v))
    return n


def _probability(v: str) -> float:
    p = float(v.strip().rstrip("%")) / (100.0 if v.strip().endswith("%") else 1.0)
    if not 0.0 <= p <= 1.0:
        raise _bad(N_("{value} is not between 0 and 1"), value=repr(v))
    return p


def _rhythm_model(v: str) -> str:
    folded = re.sub(r"[\s/_-]+", "", v).upper()
    for name in ("MBG/NBD", "BG/NBD"):
        if folded == name.replace("/", ""):
            return name
    raise _bad(N_("unknown model {value}"), value=repr(v))


def _shares(v: str) -> tuple[float, float, float, float]:
    parts = [float(p) for p in re.split(r"[,\s/]+", v.strip()) if p]
    if len(parts) != 4 or any(p < 0 for p in parts) or sum(parts) > 100.0001:
        raise _bad(N_("{value} is not four percentages adding up to at most 100"), value=repr(v))
    return (parts[0], parts[1], parts[2], parts[3])


def parse_cut_points(v: str) -> dict[str, tuple[float, float, float, float]]:
    """``"R=30,60,90,180; F=1,2,4,8"`` -> {"R": (30, 60, 90, 180), "F": (1, 2, 4, 8)}."""
    out: dict[str, tuple[float, float, float, float]] = {}
    for part in filter(None, (p.strip() for p in v.split(";"))):
        name, _, bounds = part.partition("=")
        name = name.strip().upper()
        nums = [float(b) for b in bounds.split(",") if b.strip()]
        if name not in ("R", "F", "M") or len(nums) != 4 or nums != sorted(nums):
            raise _bad(N_("{value} is not R|F|M=four ascending numbers"), value=repr(part))
        out[name] = (nums[0], nums[1], nums[2], nums[3])
    return out


def parse_stage_probabilities(v: str) -> dict[Stage, float]:
    out: dict[Stage, float] = {}
    for part in filter(None, (p.strip() for p in v.split(","))):
        name, _, pct = part.partition(":")
        stage = Stage.parse(name)
        if stage is None:
            raise _bad(N_("unknown stage {value}"), value=repr(name.strip()))
        prob = float(pct.strip().rstrip("%"))
        if not 0 <= prob <= 100:
            raise _bad(N_("probability {value} is not between 0 and 100"), value=repr(pct.strip()))
        out[stage] = prob
    missing = [s.value for s in Stage if s not in out]
    if missing:
        raise _bad(N_("no probability for {stages}"), stages=", ".join(missing))
    return out


def parse_stage_rules(v: str) -> dict[ActivityType, Stage]:
    out: dict[ActivityType, Stage] = {}
    for part in filter(None, (p.strip() for p in v.split(";"))):
        types, arrow, stage_name = part.partition("=>")
        stage = Stage.parse(stage_name)
        if not arrow or stage is None or stage is Stage.LOST:
            raise _bad(N_("{value} is not 'Type|Type=>Stage'"), value=repr(part))
        for name in types.split("|"):
            atype = ActivityType.parse(name)
            if atype is None:
                raise _bad(N_("unknown activity type {value}"), value=repr(name.strip()))
            out[atype] = stage
    return out


def parse_synonyms(v: str, enum_cls: type[Stage] | type[ActivityType]) -> tuple[tuple[str, str, str], ...]:
    """``"報價=Proposal; LINE=Message"`` -> ((enum name, "報價", "Proposal"), ...). The
    target may be written in English or Chinese; ``=``, ``＝`` and ``→`` all separate a
    word from its target, and ``;``, ``,``, ``、`` or a new line one pair from the next."""
    out: list[tuple[str, str, str]] = []
    for part in filter(None, (p.strip() for p in re.split(r"[;；,，、\n]", v))):
        word, sep, target = [*(x.strip() for x in re.split(r"(=>|=|＝|→)", part, maxsplit=1)), "", ""][:3]
        member = enum_cls.parse(target) if sep else None
        if not word or member is None:
            raise _bad(N_("{value} is not 'word={kind}' with a known {kind}"), value=repr(part), kind=enum_cls.__name__)
        out.append((enum_cls.__name__, word, member.value))
    return tuple(out)


def default_value(d: SettingDef, lang: Lang | str = Lang.EN) -> str:
    """The default of setting ``d`` as written in a new workbook of ``lang``: stages and
    activity types named in that language (they are read in either)."""
    if str(lang) != Lang.ZH_TW:
        return d.default
    zh = Lang.ZH_TW
    if d.key == "pipeline.stages":
        return ", ".join(f"{stage.label(zh)}:{pct:g}" for stage, pct in parse_stage_probabilities(d.default).items())
    if d.key == "pipeline.rules":
        by_stage: dict[Stage, list[ActivityType]] = {}
        for atype, stage in parse_stage_rules(d.default).items():
            by_stage.setdefault(stage, []).append(atype)
        rules = ("|".join(t.label(zh) for t in types) + f"=>{stage.label(zh)}" for stage, types in by_stage.items())
        return "; ".join(rules)
    if d.key in ("synonyms.stage", "synonyms.activity_type"):
        enum_cls: type[Stage] | type[ActivityType] = Stage if d.key == "synonyms.stage" else ActivityType
        pairs = parse_synonyms(d.default, enum_cls)
        return "; ".join(f"{word}={enum_cls(value).label(zh)}" for _, word, value in pairs)
    return d.default


def settings_rows(lang: Lang | str = Lang.EN) -> list[list[str | None]]:
    """Rows (Key, Value, Description) that ``init`` writes into a new Settings tab."""
    zh = str(lang) == Lang.ZH_TW
    return [
        [
            d.key,
            str(lang) if d.key == "language" else default_value(d, lang) or None,
            d.description_zh if zh else d.description,
        ]
        for d in SETTING_DEFS
    ]
