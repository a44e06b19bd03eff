"""The one place that knows the workbook: tabs, columns, types, aliases, owners, and the
closed vocabularies (stages, activity types, roles, NESL, segments, tiers, lifecycle).

Everything else reads this module; nothing else hard-codes a header. Column keys are the
English headers (``"Company ID"``), so DataFrames read the same whatever language the
workbook's headers are in.
"""

from __future__ import annotations

import builtins
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Self

from sheetcrm.cells.a1 import column_letters
from sheetcrm.exceptions import Joined, Phrase, SchemaError, Worded
from sheetcrm.i18n import N_


def normalize_label(text: object) -> str:
    """Fold a header or vocabulary label for matching.

    Full-width and half-width forms are unified (NFKC), case is folded, and all spaces,
    inner ones included, are dropped; ``"Ｃｏｍｐａｎｙ  id"`` and ``"company ID"`` fold alike.
    """
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\s_\-]+", "", folded)


#: First cells that make a row a sum of the rows above (合計 | … | =SUM(D2:D40)), no record.
TOTAL_MARKS = frozenset(
    normalize_label(m) for m in ("合計", "總計", "小計", "總和", "Total", "Totals", "Subtotal", "Sum")
)


def is_total_mark(cell: object) -> bool:
    """Whether ``cell`` (a row's first filled cell) says the row is a totals row."""
    return isinstance(cell, str) and normalize_label(cell) in TOTAL_MARKS


class Lang(StrEnum):
    """Languages a workbook's headers and computed labels can be written in."""

    EN = "en"
    ZH_TW = "zh-TW"


class LabeledEnum(StrEnum):
    """A closed vocabulary whose members have an English value and a Chinese label.

    Members are declared as ``NAME = ("English", "中文", "alias", ...)``. :meth:`parse`
    accepts either label or an alias, ignoring case, spaces and full-width forms.
    """

    zh: str
    aliases: tuple[str, ...]

    def __new__(cls, value: str, zh: str = "", *aliases: str) -> Self:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.zh = zh or value
        obj.aliases = aliases
        return obj

    def label(self, lang: Lang | str = Lang.EN) -> str:
        """The member as written in a workbook of ``lang``."""
        return self.zh if str(lang) == Lang.ZH_TW else self.value

    @classmethod
    def lookup(cls) -> dict[str, Self]:
        """Folded label -> member, for every English value, Chinese label and alias."""
        cache_name = "_lookup_cache"
        cached = cls.__dict__.get(cache_name)
        if cached is None:
            cached = {}
            for member in cls:
                for text in (member.value, member.zh, *member.aliases):
                    cached.setdefault(normalize_label(text), member)
            setattr(cls, cache_name, cached)
        return cached

    @classmethod
    def parse(cls, text: object) -> Self | None:
        """The member ``text`` names, or None when it names none."""
        if text is None:
            return None
        return cls.lookup().get(normalize_label(text))

    @classmethod
    def choices(cls, lang: Lang | str = Lang.EN) -> list[str]:
        return [m.label(lang) for m in cls]


class Tab(LabeledEnum):
    COMPANIES = ("Companies", "公司", "公司資料", "客戶公司")
    CONTACTS = (
        "Contacts",
        "連絡人",
        "聯絡人",
        "顧客",
        "客戶",
        "客戶名單",
        "顧客名單",
        "客戶資料",
        "顧客資料",
        "通訊錄",
    )
    OPPORTUNITIES = ("Opportunities", "機會", "商機", "銷售機會", "案件")
    ACTIVITIES = (
        "Activities",
        "活動紀錄",
        "活動記錄",
        "活動",
        "互動紀錄",
        "拜訪紀錄",
        "拜訪記錄",
        "交易紀錄",
        "交易記錄",
        "銷售紀錄",
        "銷售記錄",
        "訂單紀錄",
        "訂單記錄",
        "聯絡紀錄",
        "聯絡記錄",
    )
    TEAM = ("Team", "團隊", "業務團隊")
    SETTINGS = ("Settings", "設定")
    LOG = ("Log", "同步紀錄", "同步記錄")


#: Activities tabs a shop keeps as its order book: every row is a sale unless its Type
#: says otherwise, so the Type column may be left out and a blank Type is an Order.
ORDER_BOOKS = frozenset(
    normalize_label(t) for t in ("交易紀錄", "交易記錄", "銷售紀錄", "銷售記錄", "訂單紀錄", "訂單記錄")
)


def is_order_book(title: object) -> bool:
    """Whether the Activities tab titled ``title`` is an order book (交易紀錄, 訂單紀錄...)."""
    return title is not None and normalize_label(title) in ORDER_BOOKS


#: What one row of each tab is, for messages ("every company row needs a Name").
RECORD_NOUN: dict[Tab, str] = {
    Tab.COMPANIES: N_("company"),
    Tab.CONTACTS: N_("contact"),
    Tab.OPPORTUNITIES: N_("opportunity"),
    Tab.ACTIVITIES: N_("activity"),
    Tab.TEAM: N_("team member"),
    Tab.SETTINGS: N_("setting"),
    Tab.LOG: N_("log entry"),
}


class Stage(LabeledEnum):
    """Pipeline stages, in order. Won and Lost are closed."""

    LEAD = ("Lead", "潛在", "潛在商機", "開發中", "初步接觸")
    QUALIFIED = ("Qualified", "確認需求", "需求確認")
    PROPOSAL = ("Proposal", "提案", "提案中", "已提案", "已報價")
    NEGOTIATION = ("Negotiation", "議約", "議價", "議約中", "議價中")
    WON = ("Won", "成交", "已成交", "Closed Won")
    LOST = ("Lost", "失敗", "未成交", "Closed Lost")

    @property
    def is_closed(self) -> bool:
        return self in (Stage.WON, Stage.LOST)

    @property
    def order(self) -> int:
        return list(Stage).index(self)


class ActivityType(LabeledEnum):
    CALL = ("Call", "電話", "通話")
    EMAIL = ("Email", "郵件", "電子郵件", "E-mail")
    MEETING = ("Meeting", "會議", "開會")
    VISIT = ("Visit", "拜訪", "訪談")
    DEMO = ("Demo", "展示", "產品展示", "示範")
    PROPOSAL = ("Proposal", "提案", "提案書")
    QUOTE = ("Quote", "報價", "報價單")
    CONTRACT = ("Contract Sent", "寄送合約", "合約", "Contract", "合約寄出")
    ORDER = ("Order", "訂單", "下單")
    PURCHASE = ("Purchase", "購買", "消費")
    EVENT_INVITED = ("Event Invited", "活動邀請", "邀請")
    EVENT_ATTENDED = ("Event Attended", "活動出席", "出席")
    MESSAGE = ("Message", "訊息", "簡訊", "Chat", "SMS")
    DELIVERY = ("Delivery", "交貨", "送貨", "Shipment")
    NOTE = ("Note", "備註", "筆記")
    OTHER = ("Other", "其他")


#: Activity types that are transactions when they carry an Amount.
PURCHASE_TYPES: frozenset[ActivityType] = frozenset({ActivityType.ORDER, ActivityType.PURCHASE})


class ContactRole(LabeledEnum):
    DECISION_MAKER = ("Decision Maker", "決策者")
    INFLUENCER = ("Influencer", "影響者")
    USER = ("User", "使用者")
    BUYER = ("Buyer", "採購", "採購人員")
    TECHNICAL = ("Technical", "技術", "技術人員")
    CUSTOMER = ("Customer", "顧客", "個人顧客")
    OTHER = ("Other", "其他")


class NESL(LabeledEnum):
    """Customer relationship class of seed 000, table 4."""

    N = ("N", "新顧客", "New")
    E = ("E", "既有顧客", "Existing")
    S = ("S", "沉睡顧客", "Sleeping", "沉睡的顧客")
    L = ("L", "流失顧客", "Lost", "流失的顧客")


class Segment(LabeledEnum):
    """RFM segments from the recency/frequency score grid, plus Prospect (no purchase)."""

    CHAMPIONS = ("Champions", "冠軍顧客")
    LOYAL = ("Loyal", "忠誠顧客")
    POTENTIAL_LOYALIST = ("Potential Loyalist", "潛力忠誠顧客")
    NEW_CUSTOMERS = ("New Customers", "新進顧客")
    PROMISING = ("Promising", "有望顧客")
    NEED_ATTENTION = ("Need Attention", "需要關注")
    ABOUT_TO_SLEEP = ("About to Sleep", "即將沉睡")
    AT_RISK = ("At Risk", "流失風險")
    CANT_LOSE = ("Can't Lose Them", "不能失去")
    HIBERNATING = ("Hibernating", "冬眠顧客")
    LOST = ("Lost", "已流失")
    PROSPECT = ("Prospect", "潛在顧客")


class Tier(LabeledEnum):
    """The customer pyramid of seed 003."""

    STRATEGIC = ("Strategic", "戰略型")
    HIGH_PROFIT = ("High-profit", "高收益")
    MAJOR = ("Major", "主要")
    GENERAL = ("General", "一般")
    POTENTIAL = ("Potential", "潛在")


class Lifecycle(LabeledEnum):
    """Stone & Woodcock's eight relationship stages (seed 001)."""

    RECRUIT = ("Recruit", "招募")
    WELCOME = ("Welcome", "歡迎")
    GETTING_TO_KNOW = ("Getting to Know", "開始了解")
    ACCOUNT_MANAGEMENT = ("Account Management", "帳戶管理")
    INTENSIVE_CARE = ("Intensive Care", "加強影響")
    POTENTIAL_DIVORCE = ("Potential Divorce", "潛在離婚")
    DIVORCE = ("Divorce", "離婚")
    WIN_BACK = ("Win-back", "恢復")


class Rhythm(LabeledEnum):
    """Rhythm-aware churn class from P(alive) (thresholds ``rhythm.active_p`` and
    ``rhythm.gone_p`` in Settings)."""

    ACTIVE = ("Active", "活躍", "alive")
    AT_RISK = ("At risk", "有流失風險", "risk")
    LIKELY_GONE = ("Likely gone", "可能已流失", "gone")


class Flag(LabeledEnum):
    """Marks written into a row's Flags cell."""

    STALE = ("stale", "停滯")
    OVERDUE = ("overdue", "逾期")
    WON_NO_AMOUNT = ("won without amount", "成交無金額")
    MAIN = ("main customer", "主力顧客")
    IMPORTANT = ("important", "重要顧客")
    EVIDENCE_IGNORED = (
        "new activity ignored: a person set the stage after it",
        "新活動未採用：人員在其後設定了階段",
    )


class Severity(StrEnum):
    """How bad a problem is: an ``ERROR`` is a value sheetcrm cannot use; a ``WARNING`` is
    one it can use but that is probably a mistake (a likely duplicate, a dangling owner); a
    ``NOTE`` says how sheetcrm understood a cell (a reference matched by name), no problem."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class ColumnType(StrEnum):
    TEXT = "text"
    ID = "id"
    REF = "ref"
    DATE = "date"
    MONEY = "money"
    NUMBER = "number"
    INTEGER = "integer"
    ENUM = "enum"
    EMAIL = "email"
    PHONE = "phone"
    BOOL = "bool"
    DATETIME = "datetime"


#: Number format patterns (Excel and Google Sheets read them alike) by column type.
NUMBER_FORMATS: dict[ColumnType, str] = {
    ColumnType.DATE: "yyyy-mm-dd",
    ColumnType.DATETIME: "yyyy-mm-dd hh:mm",
    ColumnType.MONEY: "#,##0.##",
}
PERCENT_FORMAT = "0%"


class Owner(StrEnum):
    """Who may write a column."""

    PEOPLE = "people"
    SHEETCRM = "sheetcrm"
    #: People's cells that sheetcrm may write with compare-and-set: Stage and a missing ID.
    SHARED = "shared"


@dataclass(frozen=True)
class Column:
    """One column of a tab. ``key`` is the English header and the DataFrame column name."""

    key: str
    zh: str
    type: ColumnType = ColumnType.TEXT
    required: bool = False
    owner: Owner = Owner.PEOPLE
    ref: Tab | None = None
    enum: builtins.type[LabeledEnum] | None = None
    aliases: tuple[str, ...] = ()
    description: str = ""
    #: False for computed columns added only when they have something to show.
    in_template: bool = True
    #: A fraction from 0 to 1 shown as a percentage (formatted ``0%``, kept to 4 decimals).
    percent: bool = False
    #: Holds days to come (Expected Close, Next Step Due), which problems with a date say.
    ahead: bool = False

    def header(self, lang: Lang | str = Lang.EN) -> str:
        return self.zh if str(lang) == Lang.ZH_TW else self.key

    @property
    def number_format(self) -> str | None:
        """How the workbook shows the column's values (an Excel / Google Sheets pattern)."""
        return PERCENT_FORMAT if self.percent else NUMBER_FORMATS.get(self.type)

    @property
    def computed(self) -> bool:
        return self.owner is Owner.SHEETCRM

    def labels(self) -> tuple[str, ...]:
        return (self.key, self.zh, *self.aliases)


@dataclass(frozen=True)
class TabSpec:
    tab: Tab
    columns: tuple[Column, ...]
    #: Key column of each record (None for the append-only Log).
    id_column: str | None = "ID"
    #: Prefix of the IDs sheetcrm fills in (``C-0001``).
    id_prefix: str = ""
    _by_key: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key.update({c.key: c for c in self.columns})

    def column(self, key: str) -> Column:
        return self._by_key[key]

    def has(self, key: str) -> bool:
        return key in self._by_key

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def people_columns(self) -> list[Column]:
        return [c for c in self.columns if not c.computed]

    @property
    def computed_columns(self) -> list[Column]:
        return [c for c in self.columns if c.computed]

    @property
    def template_columns(self) -> list[Column]:
        """The columns a new workbook starts with."""
        return [c for c in self.columns if c.in_template]

    def title(self, lang: Lang | str = Lang.EN) -> str:
        return self.tab.label(lang)


T = ColumnType


def _id(prefix_note: str = "") -> Column:
    return Column(
        "ID",
        "編號",
        T.ID,
        owner=Owner.SHARED,
        aliases=("代號", "序號", "No", "No."),
        description=f"Stable record ID{prefix_note}; sheetcrm fills a blank one, never renumbers.",
    )


_OWNER = Column(
    "Owner",
    "負責人",
    aliases=("負責業務", "業務", "業務員", "Sales Rep"),
    description="Name of the rep in Team who owns the record.",
)
_SOURCE = Column("Source", "來源", aliases=("客戶來源", "名單來源"))
_CREATED = Column("Created", "建立日期", T.DATE, aliases=("建立時間", "建檔日期", "Created At"))
_PROBLEMS = Column(
    "Problems",
    "問題",
    owner=Owner.SHEETCRM,
    aliases=("資料問題",),
    description="What validation found wrong in this row.",
)


def _company_ref() -> Column:
    return Column(
        "Company ID",
        "公司編號",
        T.REF,
        ref=Tab.COMPANIES,
        aliases=("公司代號", "公司", "Company", "客戶公司"),
        description="The company's ID or its name.",
    )


def _contact_ref(*extra: str) -> Column:
    return Column(
        "Contact ID",
        "連絡人編號",
        T.REF,
        ref=Tab.CONTACTS,
        aliases=("聯絡人編號", "連絡人", "聯絡人", "Contact", *extra),
        description="The contact's ID, name, email or phone.",
    )


def _resolved(key: str, zh: str) -> Column:
    """Where the Settings switch ``links.write_ids`` puts the ID a name was matched to: a
    column of sheetcrm's, never the person's cell."""
    return Column(
        f"{key} (resolved)",
        f"{zh}（比對）",
        T.TEXT,
        owner=Owner.SHEETCRM,
        description=f"The {key} sheetcrm matched the person's text to.",
        in_template=False,
    )


def _customer_computed() -> tuple[Column, ...]:
    c = Owner.SHEETCRM
    return (
        Column("Last Purchase", "最近購買日", T.DATE, owner=c, aliases=("最近交易日",)),
        Column("Recency", "最近購買天數", T.INTEGER, owner=c, aliases=("Recency Days",)),
        Column("Frequency", "購買次數", T.INTEGER, owner=c),
        Column("Monetary", "購買金額", T.MONEY, owner=c),
        Column("R", "R分數", T.INTEGER, owner=c, aliases=("R Score",)),
        Column("F", "F分數", T.INTEGER, owner=c, aliases=("F Score",)),
        Column("M", "M分數", T.INTEGER, owner=c, aliases=("M Score",)),
        Column("RFM Score", "RFM分數", owner=c, aliases=("RFM",)),
        Column("Segment", "顧客分群", T.ENUM, owner=c, enum=Segment, aliases=("分群",)),
        Column("NESL", "顧客關係", T.ENUM, owner=c, enum=NESL, aliases=("NESL分類",)),
        Column("Tier", "價值層級", T.ENUM, owner=c, enum=Tier, aliases=("層級",)),
        Column("Lifecycle", "生命週期", T.ENUM, owner=c, enum=Lifecycle),
        Column(
            "P(alive)",
            "存活機率",
            T.NUMBER,
            owner=c,
            aliases=("P alive", "Probability Alive", "仍活躍機率"),
            description="Chance (0-1) that the customer still buys, from their own rhythm (MBG/NBD).",
        ),
        Column(
            "Expected 90d",
            "預期90天購買次數",
            T.NUMBER,
            owner=c,
            aliases=("Expected 90 days", "預期購買次數"),
            description="Purchases expected in the next 90 days (MBG/NBD).",
        ),
        Column("Rhythm", "購買節奏", T.ENUM, owner=c, enum=Rhythm, aliases=("Rhythm Class", "節奏")),
        Column("Flags", "提醒", owner=c, aliases=("標記",)),
        _PROBLEMS,
    )


COMPANIES = TabSpec(
    Tab.COMPANIES,
    (
        _id(),
        Column("Name", "公司名稱", required=True, aliases=("公司", "名稱", "客戶名稱", "Company", "Company Name")),
        Column("Industry", "產業", aliases=("行業", "產業別")),
        Column("Region", "地區", aliases=("區域", "縣市")),
        Column("Size", "規模", aliases=("公司規模", "員工人數")),
        _OWNER,
        _SOURCE,
        _CREATED,
        *_customer_computed(),
    ),
    id_prefix="CO-",
)

CONTACTS = TabSpec(
    Tab.CONTACTS,
    (
        _id(),
        _company_ref(),
        Column("Name", "姓名", required=True, aliases=("名稱", "連絡人", "聯絡人", "Contact", "Full Name", "客戶姓名")),
        Column("Title", "職稱", aliases=("Job Title",)),
        Column("Role", "角色", T.ENUM, enum=ContactRole),
        Column("Email", "電子郵件", T.EMAIL, aliases=("E-mail", "郵件", "信箱", "電子信箱", "Email Address")),
        Column("Mobile", "手機", T.PHONE, aliases=("行動電話", "手機號碼", "Cell", "Cell Phone")),
        Column("Phone", "電話", T.PHONE, aliases=("聯絡電話", "市話", "Tel", "Telephone")),
        _OWNER,
        _SOURCE,
        _CREATED,
        Column("Opt-out", "拒絕聯繫", T.BOOL, aliases=("Opt out", "Unsubscribed", "退訂", "不聯繫")),
        *_customer_computed(),
        _resolved("Company ID", "公司編號"),
    ),
    id_prefix="P-",
)

OPPORTUNITIES = TabSpec(
    Tab.OPPORTUNITIES,
    (
        _id(),
        _company_ref(),
        # A shop's 客戶 may be a person or a company: linking tries contacts, then companies.
        _contact_ref("客戶", "顧客", "客戶名稱", "客戶姓名", "Customer"),
        Column(
            "Name",
            "機會名稱",
            required=True,
            aliases=("名稱", "案名", "案件", "案件名稱", "商機名稱", "專案名稱", "Deal", "Deal Name"),
        ),
        Column(
            "Stage",
            "階段",
            T.ENUM,
            owner=Owner.SHARED,
            enum=Stage,
            aliases=("銷售階段", "進度"),
            description="Pipeline stage; sheetcrm only moves it forward on evidence.",
        ),
        Column("Amount", "金額", T.MONEY, aliases=("預估金額", "Value")),
        Column(
            "Expected Close",
            "預計成交日",
            T.DATE,
            aliases=("預計結案日", "預計成交", "預計成交日期", "Close Date"),
            ahead=True,
        ),
        _OWNER,
        Column("Next Step", "下一步", aliases=("下一步行動",)),
        Column(
            "Next Step Due",
            "下一步期限",
            T.DATE,
            aliases=("下一步日期", "下次聯絡日", "下次聯絡", "追蹤日期"),
            ahead=True,
        ),
        Column("Closed", "結案日期", T.DATE, aliases=("結案日", "Closed On")),
        Column("Lost Reason", "失敗原因", aliases=("未成交原因",)),
        Column("Probability", "成交機率", T.NUMBER, owner=Owner.SHEETCRM, aliases=("機率",), percent=True),
        Column("Weighted Amount", "加權金額", T.MONEY, owner=Owner.SHEETCRM),
        Column("Stage Since", "階段起始日", T.DATE, owner=Owner.SHEETCRM),
        Column("Days in Stage", "階段天數", T.INTEGER, owner=Owner.SHEETCRM),
        Column(
            "Stage Seen",
            "上次同步階段",
            T.ENUM,
            owner=Owner.SHEETCRM,
            enum=Stage,
            description="The Stage sheetcrm saw at its last sync; a difference is a person's edit.",
        ),
        Column(
            "Stage Reason",
            "階段依據",
            owner=Owner.SHEETCRM,
            description="Why the deal is in its stage (the activity or the person's edit).",
        ),
        Column("Flags", "提醒", owner=Owner.SHEETCRM, aliases=("標記",)),
        _PROBLEMS,
        _resolved("Company ID", "公司編號"),
        _resolved("Contact ID", "連絡人編號"),
    ),
    id_prefix="OP-",
)

ACTIVITIES = TabSpec(
    Tab.ACTIVITIES,
    (
        _id(),
        Column(
            "Date", "日期", T.DATE, required=True, aliases=("活動日期", "交易日期", "訂單日期", "購買日期", "消費日期")
        ),
        Column("Type", "類型", T.ENUM, required=True, enum=ActivityType, aliases=("活動類型", "種類", "方式")),
        # An order book names its buyer: 客戶姓名, 訂購人 (no other column of this tab is a name).
        _contact_ref("客戶", "顧客", "客戶名稱", "客戶姓名", "顧客姓名", "姓名", "訂購人", "購買人", "Customer"),
        _company_ref(),
        Column(
            "Opportunity ID",
            "機會編號",
            T.REF,
            ref=Tab.OPPORTUNITIES,
            aliases=("商機編號", "機會", "商機", "案名", "案件", "案件名稱", "Opportunity", "Deal"),
            description="The deal's ID or its name.",
        ),
        Column("Amount", "金額", T.MONEY, aliases=("交易金額", "訂單金額", "消費金額", "總金額", "總價")),
        _OWNER,
        Column("Subject", "主旨", aliases=("內容", "摘要", "說明", "Notes")),
        Column(
            "Seen",
            "首次採計",
            T.DATE,
            owner=Owner.SHEETCRM,
            description="When sheetcrm first counted this activity as evidence for its deal; "
            "a blank one is new evidence, which moves the deal whatever its date.",
        ),
        _PROBLEMS,
        _resolved("Contact ID", "連絡人編號"),
        _resolved("Company ID", "公司編號"),
        _resolved("Opportunity ID", "機會編號"),
    ),
    id_prefix="A-",
)

TEAM = TabSpec(
    Tab.TEAM,
    (
        Column("Name", "姓名", required=True, aliases=("名稱", "業務", "Rep")),
        Column("Email", "電子郵件", T.EMAIL, aliases=("E-mail", "信箱")),
        Column("Role", "角色", aliases=("職務",)),
        Column("Stages", "負責階段"),
        Column("Regions", "負責地區"),
        Column("Industries", "負責產業"),
        Column("Weight", "權重", T.NUMBER, aliases=("產能",)),
        Column("Active", "在職", T.BOOL, aliases=("啟用", "有效")),
        _PROBLEMS,
    ),
    id_column="Name",
)

SETTINGS = TabSpec(
    Tab.SETTINGS,
    (
        Column("Key", "設定項", required=True, aliases=("項目", "Setting")),
        Column("Value", "設定值", aliases=("值",)),
        Column("Description", "說明", aliases=("描述",)),
    ),
    id_column="Key",
)


class LogField(StrEnum):
    """The Log tab's columns, left to right: what one sync changed, and why."""

    TIME = "Time"
    RUN = "Run"
    TAB = "Tab"
    ID = "ID"
    COLUMN = "Column"
    OLD = "Old"
    NEW = "New"
    REASON = "Reason"


LOG = TabSpec(
    Tab.LOG,
    tuple(
        Column(en, zh, ty, owner=Owner.SHEETCRM)
        for en, zh, ty in (
            (LogField.TIME.value, "時間", T.DATETIME),
            (LogField.RUN.value, "執行編號", T.TEXT),
            (LogField.TAB.value, "分頁", T.TEXT),
            (LogField.ID.value, "編號", T.TEXT),
            (LogField.COLUMN.value, "欄位", T.TEXT),
            (LogField.OLD.value, "舊值", T.TEXT),
            (LogField.NEW.value, "新值", T.TEXT),
            (LogField.REASON.value, "原因", T.TEXT),
        )
    ),
    id_column=None,
)

TABS: dict[Tab, TabSpec] = {s.tab: s for s in (COMPANIES, CONTACTS, OPPORTUNITIES, ACTIVITIES, TEAM, SETTINGS, LOG)}

#: Tabs whose rows are records that validation and sync look at.
DATA_TABS: tuple[Tab, ...] = (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES, Tab.TEAM)


def spec(tab: Tab | str) -> TabSpec:
    parsed = tab if isinstance(tab, Tab) else Tab.parse(tab)
    if parsed is None:
        raise SchemaError(f"unknown tab {tab!r}; expected one of {', '.join(Tab)}")
    return TABS[parsed]


@dataclass(frozen=True)
class HeaderMap:
    """Where each schema column sits in a tab's header row.

    ``positions`` maps column key -> 0-based index for the columns present; ``extras``
    lists the indexes of headers that belong to people (unknown to the schema) and are
    never touched; ``missing`` the schema columns that are absent.
    """

    tab: Tab
    title: str
    positions: dict[str, int]
    extras: tuple[int, ...]
    missing: tuple[str, ...]
    width: int
    #: The header row's cells as text ("" for blank), to name columns as people wrote them.
    texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeaderIssue:
    """One thing wrong with a header row: the message, and the 0-based column (or None)."""

    message: str
    column: int | None = None


def _label_index(tab_spec: TabSpec) -> dict[str, list[Column]]:
    index: dict[str, list[Column]] = {}
    for col in tab_spec.columns:
        for label in col.labels():
            bucket = index.setdefault(normalize_label(label), [])
            if col not in bucket:
                bucket.append(col)
    return index


def recognised_count(tab_spec: TabSpec, row: Sequence[Any]) -> int:
    """How many cells of ``row`` are a header of ``tab_spec`` (to find the header row
    below title rows)."""
    index = _label_index(tab_spec)
    return sum(1 for cell in row if cell is not None and normalize_label(cell) in index)


def read_headers(
    tab_spec: TabSpec, header: Sequence[Any], title: str | None = None
) -> tuple[HeaderMap, list[HeaderIssue]]:
    """Match a header row to the schema without raising: the map of what was recognised,
    and every issue (ambiguous header, two headers for one column, missing required
    column) at once. An order book (:func:`is_order_book` of ``title``) needs no Type."""
    index = _label_index(tab_spec)
    positions: dict[str, int] = {}
    extras: list[int] = []
    issues: list[HeaderIssue] = []
    for i, cell in enumerate(header):
        if cell is None or str(cell).strip() == "":
            continue
        candidates = index.get(normalize_label(cell), [])
        if len(candidates) > 1:
            names = Joined(N_(" and "), tuple(repr(c.key) for c in candidates))
            issues.append(
                HeaderIssue(
                    Worded(
                        Phrase(
                            N_(
                                "header {header} is ambiguous: it could mean {names}; "
                                "rename it to one of their exact headers"
                            ),
                            {"header": repr(cell), "names": names},
                        )
                    ),
                    i,
                )
            )
            continue
        if not candidates:
            extras.append(i)
            continue
        key = candidates[0].key
        if key in positions:
            first = positions[key]
            issues.append(
                HeaderIssue(
                    Worded(
                        Phrase(
                            N_(
                                "columns {first} ({first_header}) and {second} ({second_header}) both mean {key}; "
                                "rename or delete one of them"
                            ),
                            {
                                "first": column_letters(first),
                                "first_header": repr(header[first]),
                                "second": column_letters(i),
                                "second_header": repr(cell),
                                "key": repr(key),
                            },
                        )
                    ),
                    i,
                )
            )
            continue
        positions[key] = i
    missing = tuple(k for k in tab_spec.keys if k not in positions)
    for key in missing:
        col = tab_spec.column(key)
        if col.required and not (key == "Type" and tab_spec.tab is Tab.ACTIVITIES and is_order_book(title)):
            issues.append(
                HeaderIssue(
                    Worded(
                        Phrase(
                            N_("required column {key} (or {zh}) is missing from the header row; add it"),
                            {"key": repr(key), "zh": repr(col.zh)},
                        )
                    )
                )
            )
    texts = tuple("" if c is None else str(c).strip() for c in header)
    return HeaderMap(tab_spec.tab, tab_spec.title(), positions, tuple(extras), missing, len(header), texts), issues


def misspelt_headers(tab_spec: TabSpec, found: HeaderMap) -> list[tuple[int, Column]]:
    """(position, column) for each header of the people's own that is one slip off a
    column the tab lacks (``Stgae`` for Stage, ``Emial`` for Email): read under its own
    name it is left alone, and what it holds is not read. Only words of four characters
    or more are compared, where a ratio of 0.8 means a letter or two."""
    import difflib

    labels: dict[str, Column] = {}
    for key in found.missing:
        col = tab_spec.column(key)
        for text in (col.key, col.zh, *col.aliases):
            labels.setdefault(normalize_label(text), col)
    out = []
    for pos in found.extras:
        typed = normalize_label(found.texts[pos]) if pos < len(found.texts) else ""
        if len(typed) < 4:
            continue
        close = difflib.get_close_matches(typed, [k for k in labels if len(k) >= 4], n=1, cutoff=0.8)
        if close:
            out.append((pos, labels[close[0]]))
    return out


def match_headers(tab_spec: TabSpec, header: Sequence[Any], title: str | None = None, header_row: int = 1) -> HeaderMap:
    """Match a tab's header row to its schema columns.

    Header text may be English, Traditional Chinese or a known alias; matching ignores
    case, spaces and full-width forms. Raises :class:`SchemaError` naming every issue at
    once: two headers meaning the same column, a header that could mean two columns, and
    each missing required column.
    """
    title = title or tab_spec.title()
    found, issues = read_headers(tab_spec, header, title)
    if issues:
        first = issues[0].column
        raise SchemaError(
            Phrase(N_("{issues}"), {"issues": Joined(N_("; "), tuple(i.message for i in issues))}),
            tab=title,
            row=header_row,
            column=column_letters(first) if first is not None and len(issues) == 1 else None,
        )
    return HeaderMap(tab_spec.tab, title, found.positions, found.extras, found.missing, found.width, found.texts)


def find_tabs(titles: Iterable[str]) -> dict[Tab, str]:
    """Map each schema tab to the worksheet title that holds it (English or Chinese name,
    or a bilingual ``"Companies 公司"``). Raises :class:`SchemaError` when two worksheets
    claim one tab."""
    found: dict[Tab, str] = {}
    for title in titles:
        tab = Tab.parse(title)
        if tab is None:
            parts = re.split(r"[\s/|()（）]+", title.strip())
            hits = {t for t in (Tab.parse(p) for p in parts if p) if t is not None}
            tab = hits.pop() if len(hits) == 1 else None
        if tab is None:
            continue
        if tab in found:
            raise SchemaError(
                Phrase(
                    N_("worksheets {first} and {second} both look like the {tab} tab; rename one of them"),
                    {"first": repr(found[tab]), "second": repr(title), "tab": tab.value},
                ),
                tab=title,
            )
        found[tab] = title
    return found
