"""The demo workbook's content: a small Taiwanese air-purifier company ("AirBreeze") that
sells to businesses (deals in Opportunities, repeat consumable orders) and to consumers
(purchases in Activities), run by a team of six.

:func:`demo_tables` returns, for every tab, the header row (people's columns only, in the
workbook's language, plus one extra column people added: ``Notes`` / ``備註`` on Contacts)
and the data rows as raw cell values, the way people really type them. Output depends
only on ``seed``, ``as_of``, ``lang`` and ``size``; ``lang`` changes headers and labels
(stages, activity types, roles, team roles, industries, settings descriptions) but never
which records exist.

What the data holds, so every part of sheetcrm has something to find:

- Stages mostly lag behind the evidence in Activities (a demo logged but the deal still
  says Lead; an order logged but the deal still says Negotiation), so sync advances them.
- Open deals whose Expected Close has passed (overdue), and whose last activity is old
  (stale); Won deals with a Closed date, Lost deals with a Lost Reason.
- Consumers in every NESL / RFM class: never bought, one-time buyers, frequent recent
  buyers (some with more than three purchases in the last month), big spenders, buyers
  who stopped 2-5 months ago (sleeping), 7+ months ago (lost), and some who came back
  after a long gap (win-back). Companies with repeat orders that continue or stop.
- Event Invited / Event Attended history, opt-outs, rows with no Owner, an inactive rep
  who still owns records.

Planted mistakes (:data:`PLANTED_MISTAKES` lists the fixed ones; they sit at the same rows
and IDs for every seed, size, date and language; :func:`planted_mistakes` returns them
with their cell values plus the seed-dependent sprinkle):

==================  =========================  ==============  ===========================
kind                where                      column          what
==================  =========================  ==============  ===========================
date_text           Companies CO-0002          Created         ``2026/3/5``
date_text           Contacts P-0005            Created         ``民國115年3月5日``
date_text           Contacts P-0010            Created         ``2026年3月5日``
date_text           Opportunities OP-0004      Expected Close  ``115/3/5`` (ROC year)
money_text          Opportunities OP-0003      Amount          ``NT$1,200``
money_text          Opportunities OP-0006      Amount          ``1,200元``
money_text          Opportunities OP-0009      Amount          ``１２００`` (full-width)
duplicate_company   Companies CO-0017          Name            another form of CO-0004's
                                                               name (股份有限公司 added or
                                                               dropped, or full-width
                                                               letters)
blank_id            Companies row 26           ID              sync fills it
bad_email           Contacts P-0008            Email           ``amy.chen@gmail``
phone_letters       Contacts P-0014            Phone           a letter O typed for a 0
dangling_ref        Contacts P-0020            Company ID      a company that does not exist
duplicate_contact   Contacts P-0031            Phone (+Name)   same name and phone as P-0003
blank_id            Contacts row 37            ID              sync fills it
unknown_stage       Opportunities OP-0012      Stage           ``Closing``
blank_id            Opportunities row 19       ID              sync fills it
bad_date            Activities A-00010         Date            ``2026/13/45`` (as_of's year)
blank_id            Activities rows 42, 122    ID              sync fills them
==================  =========================  ==============  ===========================

The values shown are the forms; the real values are each record's own date or amount.
``severity`` is "problem" for what validation must report (blank IDs are for sync to fill)
and "parse" for readable text a reader must convert.

Sprinkle: besides those, about 7% of the other date and money cells (Created, Expected
Close, Next Step Due, Closed, Date, Amount) are typed as text in one of the forms above
(``2026/3/5``, ``民國115年3月5日``, ``115/3/5``, ``2026年3月5日``; ``NT$1,200``, ``1,200元``,
``１２００``, ``1,200``); they hold the right value and a reader must parse them. With the
fixed ones that is about 1% of all cells.

Nothing else is wrong: every other reference resolves (Company, Contact, Opportunity IDs
and Owner names), a deal's contact works at the deal's company, every stage, activity type
and role is an exact label of the workbook's language, and no other two contacts or
companies look alike (same email, phone, name at the same company, or folded name).

Rows are given by sheet row number (the header is row 1). Counts at ``size=1``: 6 reps,
300 companies, 1,000 contacts (60% B2B), 400 opportunities, about 5,200 activities over
the 18 months before ``as_of`` (:func:`history_start`). Small sizes keep floors (30
companies, 60 contacts, 25 opportunities) so every planted mistake has its row.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetcrm.schema import TABS, ActivityType, ContactRole, Lang, Stage, Tab
from sheetcrm.settings import settings_rows

__all__ = [
    "EXTRA_COLUMN",
    "EXTRA_COLUMN_TAB",
    "PLANTED_MISTAKES",
    "TEAM",
    "DemoResult",
    "demo_tables",
    "header_keys",
    "history_start",
    "make_demo",
    "planted_mistakes",
    "write_demo_workbook",
]

Table = tuple[list[str], list[list[Any]]]

#: The tab that carries a column people added and the schema does not know.
EXTRA_COLUMN_TAB: Tab = Tab.CONTACTS
#: That column's header in each language; it sits right after Phone.
EXTRA_COLUMN: dict[Lang, str] = {Lang.EN: "Notes", Lang.ZH_TW: "備註"}
_EXTRA_KEY = "__extra__"
_EXTRA_AFTER = "Phone"

HISTORY_MONTHS = 18
SPRINKLE_RATE = 0.07
_MIN_COMPANIES, _MIN_CONTACTS, _MIN_OPPORTUNITIES = 30, 60, 25

# --------------------------------------------------------------------------------------
# Planted mistakes at fixed places (0-based data row index; sheet row = index + 2)
# --------------------------------------------------------------------------------------

_CO_DATE_TEXT, _CO_DUP_OF, _CO_DUP, _CO_BLANK = 1, 3, 16, 24
_CT_DUP_OF, _CT_DATE_ROC, _CT_BAD_EMAIL, _CT_DATE_CJK = 2, 4, 7, 9
_CT_PHONE, _CT_DANGLING, _CT_DUP, _CT_BLANK = 13, 19, 30, 35
_OP_MONEY_NT, _OP_DATE_ROC, _OP_MONEY_YUAN, _OP_MONEY_FW = 2, 3, 5, 8
_OP_UNKNOWN_STAGE, _OP_BLANK = 11, 17
_AC_BAD_DATE, _AC_BLANK = 9, (40, 120)

BAD_EMAIL = "amy.chen@gmail"
BAD_EMAIL_NAME = "Amy Chen"
UNKNOWN_STAGE = "Closing"

_ID_FORMAT: dict[Tab, str] = {
    Tab.COMPANIES: "CO-{:04d}",
    Tab.CONTACTS: "P-{:04d}",
    Tab.OPPORTUNITIES: "OP-{:04d}",
    Tab.ACTIVITIES: "A-{:05d}",
}


def _fixed_id(tab: Tab, index: int) -> str:
    return _ID_FORMAT[tab].format(index + 1)


def _m(
    tab: Tab, index: int, column: str, kind: str, severity: str, note: str, blank: bool = False, **extra: Any
) -> dict[str, Any]:
    return {
        "tab": tab,
        "id": None if blank else _fixed_id(tab, index),
        "row": index + 2,
        "column": column,
        "kind": kind,
        "severity": severity,
        "note": note,
        **extra,
    }


#: The fixed planted mistakes: same rows and IDs for every seed, size, date and language.
#: Each dict has ``tab`` (:class:`Tab`), ``id`` (None for a blank-ID row), ``row`` (sheet
#: row, header = 1), ``column`` (schema key), ``kind``, ``severity`` ("parse": readable
#: text a reader must convert; "problem": validation must report it) and ``note``; a
#: duplicate also has ``duplicate_of``. :func:`planted_mistakes` adds each cell's value.
PLANTED_MISTAKES: list[dict[str, Any]] = [
    _m(Tab.COMPANIES, _CO_DATE_TEXT, "Created", "date_text", "parse", "date as 2026/3/5", format="ymd_slash"),
    _m(
        Tab.COMPANIES,
        _CO_DUP,
        "Name",
        "duplicate_company",
        "problem",
        "another form of the name of CO-0004",
        duplicate_of=_fixed_id(Tab.COMPANIES, _CO_DUP_OF),
    ),
    _m(Tab.COMPANIES, _CO_BLANK, "ID", "blank_id", "problem", "no ID; sync fills it", blank=True),
    _m(Tab.CONTACTS, _CT_DATE_ROC, "Created", "date_text", "parse", "date as 民國115年3月5日", format="roc_cjk"),
    _m(Tab.CONTACTS, _CT_BAD_EMAIL, "Email", "bad_email", "problem", "email without a domain suffix"),
    _m(Tab.CONTACTS, _CT_DATE_CJK, "Created", "date_text", "parse", "date as 2026年3月5日", format="ymd_cjk"),
    _m(Tab.CONTACTS, _CT_PHONE, "Phone", "phone_letters", "problem", "letter O typed for a zero"),
    _m(Tab.CONTACTS, _CT_DANGLING, "Company ID", "dangling_ref", "problem", "refers to a company that does not exist"),
    _m(
        Tab.CONTACTS,
        _CT_DUP,
        "Phone",
        "duplicate_contact",
        "problem",
        "same name and phone as P-0003",
        duplicate_of=_fixed_id(Tab.CONTACTS, _CT_DUP_OF),
        columns=("Name", "Phone"),
    ),
    _m(Tab.CONTACTS, _CT_BLANK, "ID", "blank_id", "problem", "no ID; sync fills it", blank=True),
    _m(Tab.OPPORTUNITIES, _OP_MONEY_NT, "Amount", "money_text", "parse", "amount as NT$1,200", format="nt_dollar"),
    _m(
        Tab.OPPORTUNITIES,
        _OP_DATE_ROC,
        "Expected Close",
        "date_text",
        "parse",
        "date as 115/3/5 (ROC year)",
        format="roc_slash",
    ),
    _m(Tab.OPPORTUNITIES, _OP_MONEY_YUAN, "Amount", "money_text", "parse", "amount as 1,200元", format="yuan"),
    _m(
        Tab.OPPORTUNITIES,
        _OP_MONEY_FW,
        "Amount",
        "money_text",
        "parse",
        "amount in full-width digits",
        format="fullwidth",
    ),
    _m(
        Tab.OPPORTUNITIES,
        _OP_UNKNOWN_STAGE,
        "Stage",
        "unknown_stage",
        "problem",
        f"stage {UNKNOWN_STAGE!r} is not a stage",
    ),
    _m(Tab.OPPORTUNITIES, _OP_BLANK, "ID", "blank_id", "problem", "no ID; sync fills it", blank=True),
    _m(Tab.ACTIVITIES, _AC_BAD_DATE, "Date", "bad_date", "problem", "month 13, day 45 is not a date"),
    *(_m(Tab.ACTIVITIES, i, "ID", "blank_id", "problem", "no ID; sync fills it", blank=True) for i in _AC_BLANK),
]

# --------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------

_REGIONS: list[tuple[str, float]] = [
    ("台北", 28),
    ("新北", 14),
    ("桃園", 10),
    ("新竹", 12),
    ("台中", 13),
    ("台南", 7),
    ("高雄", 10),
    ("Hong Kong", 6),
]

# key, en, zh, name words (zh, en), weight
_INDUSTRIES: list[tuple[str, str, str, list[tuple[str, str]], float]] = [
    (
        "mfg",
        "Manufacturing",
        "製造業",
        [("精密", "Precision"), ("機械", "Machinery"), ("工業", "Industrial"), ("金屬", "Metalworks")],
        18,
    ),
    (
        "semi",
        "Semiconductor",
        "半導體",
        [
            ("晶創科技", "Semiconductor"),
            ("半導體", "Semitech"),
            ("微電子", "Microelectronics"),
            ("晶圓材料", "Wafer Materials"),
        ],
        9,
    ),
    ("elec", "Electronics", "電子", [("電子", "Electronics"), ("光電", "Optronics"), ("電機", "Electric")], 11),
    ("retail", "Retail", "零售", [("百貨", "Department Store"), ("生活", "Living"), ("選物", "Select")], 9),
    (
        "fnb",
        "Food & Beverage",
        "餐飲",
        [("食品", "Foods"), ("餐飲", "Dining"), ("茶業", "Tea"), ("烘焙", "Bakery"), ("咖啡", "Coffee")],
        11,
    ),
    (
        "logi",
        "Logistics",
        "物流",
        [("物流", "Logistics"), ("運通", "Express"), ("倉儲", "Warehousing"), ("航運", "Shipping")],
        8,
    ),
    ("bio", "Biotech & Healthcare", "生技醫療", [("生技", "Biotech"), ("醫材", "Medical"), ("藥品", "Pharma")], 8),
    (
        "soft",
        "Software & IT",
        "軟體服務",
        [("資訊", "Information"), ("數位", "Digital"), ("雲端", "Cloud"), ("軟體", "Software")],
        10,
    ),
    ("trade", "Trading", "貿易", [("貿易", "Trading"), ("國際", "International"), ("實業", "Enterprise")], 9),
    (
        "build",
        "Construction",
        "建築營造",
        [("營造", "Construction"), ("建設", "Development"), ("工程", "Engineering")],
        7,
    ),
]
_IND_BY_KEY = {i[0]: i for i in _INDUSTRIES}

_TW_PREFIXES: list[tuple[str, str]] = [
    ("宏達", "hongda"),
    ("佳和", "chiaho"),
    ("全興", "chuanhsing"),
    ("振豐", "chenfeng"),
    ("立群", "lichun"),
    ("冠宇", "kuanyu"),
    ("鼎盛", "tingsheng"),
    ("瑞昇", "juisheng"),
    ("泰益", "taiyi"),
    ("興隆", "hsinglung"),
    ("昇陽", "shengyang"),
    ("聯昌", "lienchang"),
    ("晉緯", "chinwei"),
    ("欣揚", "hsinyang"),
    ("光宇", "kuangyu"),
    ("協益", "hsiehyi"),
    ("大展", "tachan"),
    ("竣達", "chunta"),
    ("永捷", "yungchieh"),
    ("旭東", "hsutung"),
    ("凱力", "kaili"),
    ("明遠", "mingyuan"),
    ("正道", "chengtao"),
    ("誠美", "chengmei"),
    ("德昌", "techang"),
    ("華群", "huachun"),
    ("嘉禾", "chiaho2"),
    ("巨翔", "chuhsiang"),
    ("東信", "tunghsin"),
    ("力鼎", "liting"),
    ("品達", "pinta"),
    ("茂林", "maolin"),
    ("金泰", "chintai"),
    ("宇達", "yuta"),
    ("百勝", "paisheng"),
    ("信昌", "hsinchang"),
    ("啟航", "chihang"),
    ("源興", "yuanhsing"),
    ("安捷", "anchieh"),
    ("富順", "fushun"),
    ("育昇", "yusheng"),
    ("禾豐", "hofeng"),
    ("新揚", "hsinyang2"),
    ("晨光", "chenkuang"),
    ("青峰", "chingfeng"),
    ("亞昕", "yahsin"),
    ("宏恩", "hungen"),
    ("億昌", "yichang"),
    ("聖泰", "shengtai"),
    ("碩研", "shuoyen"),
    ("展鴻", "chanhung"),
    ("利晉", "lichin"),
    ("通懋", "tungmao"),
    ("合勤", "hochin"),
    ("佑昌", "yuchang"),
    ("順發", "shunfa"),
    ("瑞儀", "juiyi"),
    ("天成", "tiencheng"),
    ("耀華", "yaohua"),
    ("同益", "tungyi"),
]
_EN_PREFIXES = [
    "Formosa",
    "Jade",
    "Lotus",
    "Orchid",
    "Sunrise",
    "Pacific",
    "Island",
    "Summit",
    "Bluewave",
    "Maple",
    "Northstar",
    "Golden Bay",
    "Silverline",
    "Camphor",
    "Alishan",
    "Tamsui",
    "Keelung",
    "Puli",
    "Yushan",
    "Kenting",
]
_HK_PREFIXES = [
    "Harbor",
    "Kowloon",
    "Victoria",
    "Pearl River",
    "Lantau",
    "Causeway",
    "Peak",
    "Tsuen Wan",
    "Aberdeen",
    "Sai Kung",
]
_CITY_FOR_NAME = {
    "台北": "台北",
    "新北": "北台",
    "桃園": "桃園",
    "新竹": "新竹",
    "台中": "台中",
    "台南": "台南",
    "高雄": "高雄",
}

_SIZES: list[tuple[str, float]] = [("1-10", 24), ("11-50", 35), ("51-200", 22), ("201-500", 11), ("500+", 8)]
_SIZE_DEALS = {"1-10": 0.6, "11-50": 1.0, "51-200": 1.6, "201-500": 2.2, "500+": 2.8}
_CO_SOURCES: list[tuple[str, float]] = [
    ("展覽", 18),
    ("官網", 16),
    ("轉介紹", 16),
    ("Cold call", 12),
    ("LinkedIn", 9),
    ("電話開發", 10),
    ("舊客戶介紹", 8),
    ("Google 廣告", 7),
    ("經銷商", 4),
]
_B2C_SOURCES: list[tuple[str, float]] = [
    ("官網", 25),
    ("Facebook", 16),
    ("Instagram", 10),
    ("門市", 20),
    ("轉介紹", 10),
    ("蝦皮", 9),
    ("LINE 官方帳號", 8),
    ("展覽", 2),
]

_SURNAMES: list[tuple[str, str, float]] = [
    ("陳", "Chen", 11),
    ("林", "Lin", 8),
    ("黃", "Huang", 6),
    ("張", "Chang", 5.5),
    ("李", "Lee", 5),
    ("王", "Wang", 4),
    ("吳", "Wu", 4),
    ("劉", "Liu", 3),
    ("蔡", "Tsai", 3),
    ("楊", "Yang", 2.5),
    ("許", "Hsu", 2.3),
    ("鄭", "Cheng", 2),
    ("謝", "Hsieh", 1.7),
    ("郭", "Kuo", 1.6),
    ("洪", "Hung", 1.3),
    ("曾", "Tseng", 1.2),
    ("邱", "Chiu", 1.2),
    ("廖", "Liao", 1.1),
    ("賴", "Lai", 1),
    ("周", "Chou", 1),
    ("葉", "Yeh", 0.9),
    ("蘇", "Su", 0.8),
    ("莊", "Chuang", 0.7),
    ("呂", "Lu", 0.7),
    ("江", "Chiang", 0.6),
]
_GIVEN: list[tuple[str, str]] = [
    ("怡君", "Yi-Chun"),
    ("志豪", "Chih-Hao"),
    ("雅婷", "Ya-Ting"),
    ("家豪", "Chia-Hao"),
    ("淑芬", "Shu-Fen"),
    ("俊傑", "Chun-Chieh"),
    ("美玲", "Mei-Ling"),
    ("建宏", "Chien-Hung"),
    ("佳穎", "Chia-Ying"),
    ("宗翰", "Tsung-Han"),
    ("詩涵", "Shih-Han"),
    ("冠廷", "Kuan-Ting"),
    ("欣怡", "Hsin-Yi"),
    ("承恩", "Cheng-En"),
    ("宜蓁", "Yi-Chen"),
    ("柏翰", "Po-Han"),
    ("思妤", "Szu-Yu"),
    ("彥廷", "Yen-Ting"),
    ("郁婷", "Yu-Ting"),
    ("哲瑋", "Che-Wei"),
    ("婉婷", "Wan-Ting"),
    ("信宏", "Hsin-Hung"),
    ("靜宜", "Ching-Yi"),
    ("明輝", "Ming-Hui"),
    ("秀英", "Hsiu-Ying"),
    ("國華", "Kuo-Hua"),
    ("麗華", "Li-Hua"),
    ("文傑", "Wen-Chieh"),
    ("惠雯", "Hui-Wen"),
    ("志明", "Chih-Ming"),
    ("佩珊", "Pei-Shan"),
    ("育誠", "Yu-Cheng"),
    ("筱涵", "Hsiao-Han"),
    ("子軒", "Tzu-Hsuan"),
    ("品妍", "Pin-Yen"),
    ("俊宏", "Chun-Hung"),
    ("怡萱", "Yi-Hsuan"),
    ("家瑜", "Chia-Yu"),
    ("冠霖", "Kuan-Lin"),
    ("雅雯", "Ya-Wen"),
    ("宏銘", "Hung-Ming"),
    ("淑惠", "Shu-Hui"),
    ("孟儒", "Meng-Ju"),
    ("昱廷", "Yu-Ting"),
    ("嘉玲", "Chia-Ling"),
    ("俊賢", "Chun-Hsien"),
    ("瑞文", "Jui-Wen"),
    ("書豪", "Shu-Hao"),
    ("雅琪", "Ya-Chi"),
    ("志偉", "Chih-Wei"),
    ("佳蓉", "Chia-Jung"),
    ("世昌", "Shih-Chang"),
    ("美慧", "Mei-Hui"),
    ("振宇", "Chen-Yu"),
    ("曉雯", "Hsiao-Wen"),
    ("正雄", "Cheng-Hsiung"),
]
_EN_FIRST = [
    "Amy",
    "Jason",
    "Kevin",
    "Tina",
    "Vivian",
    "Eric",
    "Grace",
    "Jerry",
    "Irene",
    "Peter",
    "Winnie",
    "Allen",
    "Cindy",
    "Frank",
    "Joanne",
    "Ivy",
    "Ben",
    "Sandy",
    "Leo",
    "Ruby",
    "Sean",
    "Emily",
    "Tony",
    "Sharon",
    "Michael",
    "Joyce",
    "Alex",
    "Claire",
    "Vincent",
    "Wendy",
    "Ken",
    "Maggie",
]
_HK_SURNAMES = ["Chan", "Wong", "Leung", "Cheung", "Lau", "Lee", "Ho", "Ng", "Tsang", "Yip", "Lam", "Chow"]

# zh title, en title, role, weight
_TITLES: list[tuple[str, str, ContactRole, float]] = [
    ("總經理", "General Manager", ContactRole.DECISION_MAKER, 10),
    ("執行長", "CEO", ContactRole.DECISION_MAKER, 3),
    ("廠長", "Plant Manager", ContactRole.DECISION_MAKER, 5),
    ("營運長", "COO", ContactRole.DECISION_MAKER, 2),
    ("採購經理", "Purchasing Manager", ContactRole.BUYER, 10),
    ("採購專員", "Buyer", ContactRole.BUYER, 8),
    ("總務主任", "Facilities Manager", ContactRole.INFLUENCER, 9),
    ("財務經理", "Finance Manager", ContactRole.INFLUENCER, 4),
    ("董事長特助", "Assistant to the Chairman", ContactRole.INFLUENCER, 3),
    ("資訊主管", "IT Manager", ContactRole.TECHNICAL, 5),
    ("設備工程師", "Equipment Engineer", ContactRole.TECHNICAL, 6),
    ("研發工程師", "R&D Engineer", ContactRole.TECHNICAL, 3),
    ("行政專員", "Admin Officer", ContactRole.USER, 8),
    ("店長", "Store Manager", ContactRole.USER, 4),
    ("業務經理", "Sales Manager", ContactRole.OTHER, 3),
]

_B2C_DOMAINS: list[tuple[str, float]] = [
    ("gmail.com", 52),
    ("yahoo.com.tw", 18),
    ("hotmail.com", 9),
    ("outlook.com", 8),
    ("icloud.com", 7),
    ("msa.hinet.net", 6),
]

# area code, local digits, first digits, region
_AREA: dict[str, tuple[str, int, str]] = {
    "台北": ("02", 8, "2"),
    "新北": ("02", 8, "2"),
    "桃園": ("03", 7, "3"),
    "新竹": ("03", 7, "5"),
    "台中": ("04", 8, "2"),
    "台南": ("06", 7, "2"),
    "高雄": ("07", 7, "3"),
}

_PRODUCTS: list[tuple[str, str]] = [
    ("辦公室空氣清淨機導入", "Office air purifier rollout"),
    ("廠房空氣品質監測系統", "Factory air-quality monitoring"),
    ("年度濾網維護合約", "Annual filter service contract"),
    ("無塵室環控升級", "Cleanroom environment upgrade"),
    ("門市除濕淨化方案", "Store dehumidifier & purifier package"),
    ("智慧空調節能專案", "Smart HVAC energy saving"),
    ("員工宿舍空氣淨化", "Dormitory air purification"),
    ("醫療級空氣淨化設備", "Medical-grade air purification"),
    ("新辦公室空調規劃", "New office HVAC planning"),
    ("倉儲除濕設備", "Warehouse dehumidifiers"),
]

_SUBJECTS: dict[ActivityType, list[str]] = {
    ActivityType.CALL: [
        "初次電話聯繫",
        "Intro call",
        "電話追蹤進度",
        "Follow-up call",
        "確認需求細節",
        "Check budget and timing",
        "詢問決策流程",
        "回電討論規格",
    ],
    ActivityType.EMAIL: [
        "寄送產品型錄",
        "Sent brochure",
        "會後感謝信",
        "Follow-up email",
        "回覆技術問題",
        "寄送案例分享",
        "Sent spec sheet",
    ],
    ActivityType.MEETING: [
        "需求訪談會議",
        "Kick-off meeting",
        "線上會議 (Teams)",
        "與採購開會",
        "Meeting with facilities team",
    ],
    ActivityType.VISIT: ["現場勘查", "Site survey", "拜訪工廠", "拜訪總經理", "Visited HQ"],
    ActivityType.DEMO: ["產品展示", "Product demo", "線上 Demo", "試機兩週", "Trial unit installed"],
    ActivityType.PROPOSAL: ["提案簡報", "Proposal sent", "寄送提案書", "Proposal v2"],
    ActivityType.QUOTE: ["報價單 v1", "Quotation sent", "修正報價 v2", "議價後新報價"],
    ActivityType.CONTRACT: ["寄送合約", "Contract sent for signature", "合約用印中", "合約法務審閱"],
    ActivityType.ORDER: ["訂單確認", "PO received", "簽約下單", "Signed and ordered"],
    ActivityType.NOTE: [
        "客戶反映噪音問題",
        "Prefers LINE over email",
        "預算下季才核",
        "換窗口了",
        "Asked about warranty",
        "老闆很在意電費",
        "競爭對手也有報價",
        "Decision after Lunar New Year",
    ],
}
_REPEAT_SUBJECTS = [
    "濾網補貨",
    "Filter restock",
    "耗材訂購",
    "Quarterly consumables order",
    "加購清淨機",
    "Extra units ordered",
]
_PURCHASE_SUBJECTS = [
    "官網訂購",
    "門市購買",
    "Online order",
    "濾網更換",
    "清淨機 X500",
    "蝦皮訂單",
    "保養方案續約",
    "除濕機 D20",
    "LINE 下單",
    "Gift set",
]
_SERVICE_SUBJECTS = [
    "詢問保固",
    "預約到府保養",
    "Warranty question",
    "Delivery date check",
    "濾網怎麼換",
    "Asked for invoice copy",
]
_B2B_NOTES = _SUBJECTS[ActivityType.NOTE]
_B2C_NOTES = [
    "VIP 客戶",
    "偏好 LINE 聯絡",
    "Prefers email",
    "週末不接電話",
    "住新竹，可到府",
    "家有嬰兒，重視靜音",
    "Corporate gift buyer",
]
_EVENTS: list[tuple[str, str]] = [
    ("春季新品發表會", "Spring Launch"),
    ("空氣品質論壇", "Clean Air Forum"),
    ("客戶感恩茶會", "Customer Appreciation Tea"),
    ("智慧辦公研討會", "Smart Office Seminar"),
    ("秋季體驗日", "Autumn Experience Day"),
]
_NEXT_STEPS: dict[Stage, list[str]] = {
    Stage.LEAD: ["安排初次拜訪", "Book first visit", "寄型錄", "Call back"],
    Stage.QUALIFIED: ["準備提案", "Prepare proposal", "安排 Demo", "Site survey"],
    Stage.PROPOSAL: ["追蹤報價", "Follow up on quote", "修改報價", "Meet purchasing"],
    Stage.NEGOTIATION: ["確認合約條款", "Confirm contract terms", "等待用印", "Final price approval"],
}
_LOST_REASONS = [
    "價格太高",
    "Price too high",
    "選擇競爭對手",
    "Chose competitor",
    "預算凍結",
    "時程延後",
    "No response",
    "需求改變",
]

# --------------------------------------------------------------------------------------
# Team
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rep:
    name: str
    email: str
    role: tuple[str, str]  # en, zh
    stages: tuple[Stage, ...]
    regions: tuple[str, ...]
    industries: tuple[str, ...]  # industry keys
    weight: int
    active: bool


_DOMAIN = "airbreeze-demo.com.tw"
_SALES = ("Sales", "業務")
_AM = ("Account Manager", "客戶經理")
_PRESALES = ("Presales", "售前顧問")

#: The six reps. David Wu has left (Active false) but still owns records.
TEAM: tuple[Rep, ...] = (
    Rep(
        "王小明",
        f"ming.wang@{_DOMAIN}",
        _SALES,
        (Stage.LEAD, Stage.QUALIFIED),
        ("台北", "新北"),
        ("mfg", "retail", "fnb"),
        3,
        True,
    ),
    Rep(
        "Jessica Lin",
        f"jessica.lin@{_DOMAIN}",
        _AM,
        (Stage.WON,),
        ("台北", "新北", "桃園", "新竹"),
        ("soft", "trade", "retail"),
        2,
        True,
    ),
    Rep(
        "張志豪",
        f"chihhao.chang@{_DOMAIN}",
        _PRESALES,
        (Stage.PROPOSAL, Stage.NEGOTIATION),
        ("新竹", "桃園", "台中"),
        ("semi", "elec", "mfg"),
        2,
        True,
    ),
    Rep(
        "Kevin Huang",
        f"kevin.huang@{_DOMAIN}",
        _SALES,
        (Stage.LEAD, Stage.QUALIFIED, Stage.PROPOSAL),
        ("台中", "台南", "高雄"),
        ("mfg", "logi", "build"),
        2,
        True,
    ),
    Rep(
        "林雅婷",
        f"yating.lin@{_DOMAIN}",
        _SALES,
        (Stage.LEAD, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION),
        ("高雄", "台南", "台中"),
        ("fnb", "bio", "retail"),
        1,
        True,
    ),
    Rep(
        "David Wu",
        f"david.wu@{_DOMAIN}",
        _SALES,
        (Stage.LEAD, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION),
        ("Hong Kong", "台北"),
        ("trade", "logi", "soft"),
        1,
        False,
    ),
)
_TEAM_NAMES = frozenset(r.name for r in TEAM) | {BAD_EMAIL_NAME}
_LEFT_DAYS_AGO = 130  # David Wu left this many days before as_of
_COVER = "Jessica Lin"  # who takes over the activities of a rep who left

# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Company:
    name: str
    core: str
    lang_zh: bool
    domain: str
    industry: str
    region: str
    size: str
    owner: str | None
    source: str
    created: dt.date
    contacts: list[_Contact] = field(default_factory=list)
    id: str | None = None


@dataclass(eq=False)
class _Contact:
    company: _Company | None
    name: str
    title: str | None
    role: ContactRole
    email: str | None
    phone: str | None
    owner: str | None
    source: str
    created: dt.date
    opt_out: bool = False
    note: str | None = None
    quiet: bool = False  # no activity or deal may point at it
    company_id_override: str | None = None
    id: str | None = None


@dataclass(eq=False)
class _Deal:
    company: _Company
    contact: _Contact
    name: str
    stage: Stage
    amount: int | None
    expected_close: dt.date | None
    owner: str | None
    next_step: str | None
    next_step_due: dt.date | None
    closed: dt.date | None
    lost_reason: str | None
    first: dt.date
    id: str | None = None


@dataclass(eq=False)
class _Act:
    date: dt.date
    type: ActivityType
    contact: _Contact | None
    company: _Company | None
    deal: _Deal | None
    amount: int | None
    owner: str | None
    subject: str
    seq: int = 0
    id: str | None = None


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _months_before(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def history_start(as_of: dt.date) -> dt.date:
    """First day of the demo's activity history: 18 months before ``as_of``."""
    return _months_before(as_of, HISTORY_MONTHS)


def _wchoice(rng: random.Random, items: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([i[0] for i in items], weights=[i[1] for i in items])[0]


def _day_between(rng: random.Random, a: dt.date, b: dt.date) -> dt.date:
    if b <= a:
        return a
    return a + dt.timedelta(days=rng.randint(0, (b - a).days))


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


def _date_text(d: dt.date, fmt: str) -> str:
    roc = d.year - 1911
    return {
        "ymd_slash": f"{d.year}/{d.month}/{d.day}",
        "roc_cjk": f"民國{roc}年{d.month}月{d.day}日",
        "roc_slash": f"{roc}/{d.month}/{d.day}",
        "ymd_cjk": f"{d.year}年{d.month}月{d.day}日",
    }[fmt]


def _money_text(amount: int | float, fmt: str) -> str:
    n = round(amount)
    return {
        "nt_dollar": f"NT${n:,}",
        "yuan": f"{n:,}元",
        "fullwidth": _fullwidth(str(n)),
        "comma": f"{n:,}",
    }[fmt]


_DATE_FORMATS = ("ymd_slash", "roc_cjk", "roc_slash", "ymd_cjk")
_MONEY_FORMATS = ("nt_dollar", "yuan", "fullwidth", "comma")


def header_keys(tab: Tab) -> list[str]:
    """Column keys of the demo's header row for ``tab``, in order; the extra people's
    column is ``"__extra__"``. Log, which has no people's columns, gets all its columns."""
    spec = TABS[tab]
    cols = spec.columns if tab is Tab.LOG else spec.people_columns
    keys = [c.key for c in cols]
    if tab is EXTRA_COLUMN_TAB:
        keys.insert(keys.index(_EXTRA_AFTER) + 1, _EXTRA_KEY)
    return keys


def _headers(tab: Tab, lang: Lang) -> list[str]:
    spec = TABS[tab]
    return [EXTRA_COLUMN[lang] if k == _EXTRA_KEY else spec.column(k).header(lang) for k in header_keys(tab)]


# --------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------


class _Gen:
    def __init__(self, seed: int, as_of: dt.date, size: float) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.start = history_start(as_of)
        self.left = as_of - _days(_LEFT_DAYS_AGO)
        self.n_companies = max(_MIN_COMPANIES, round(300 * size))
        self.n_contacts = max(_MIN_CONTACTS, round(1000 * size))
        self.n_deals = max(_MIN_OPPORTUNITIES, round(400 * size))
        self.scale = self.n_contacts / 1000
        self.cores: set[str] = set()
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.companies: list[_Company] = []
        self.contacts: list[_Contact] = []
        self.deals: list[_Deal] = []
        self.acts: list[_Act] = []
        self.deal_acts: dict[int, list[_Act]] = {}
        self.names_at: dict[int, set[str]] = {}
        self.names: set[str] = set()
        self.quiet_companies: set[int] = set()  # id() of companies nothing may point at

    # ---- people --------------------------------------------------------------------

    def pick_rep(self, region: str | None, industry: str | None, when: dt.date) -> str:
        weights = []
        for rep in TEAM:
            w = float(rep.weight)
            if not rep.active and when > self.left:
                w = 0.0
            if region is not None and region in rep.regions:
                w *= 3
            if industry is not None and industry in rep.industries:
                w *= 2
            if rep.role is _PRESALES:
                w *= 0.4
            weights.append(w)
        return self.rng.choices([r.name for r in TEAM], weights=weights)[0]

    def act_owner(self, owner: str | None, when: dt.date) -> str | None:
        if owner == TEAM[-1].name and when > self.left:
            return _COVER
        return owner

    def person_name(
        self, hk: bool = False, zh_bias: float = 0.6, avoid: set[str] | None = None
    ) -> tuple[str, str, str]:
        """(display name, given romanized, surname romanized); never a rep's name nor one
        in ``avoid``, and a name no other contact has while the name pools last."""
        tries = 0
        while True:
            name, g, s = self._person_name(hk, zh_bias)
            tries += 1
            if name in _TEAM_NAMES or (avoid is not None and name in avoid):
                continue
            if name not in self.names or tries > 80:
                self.names.add(name)
                return name, g, s

    def _person_name(self, hk: bool, zh_bias: float) -> tuple[str, str, str]:
        rng = self.rng
        if hk and rng.random() < 0.7:
            first, last = rng.choice(_EN_FIRST), rng.choice(_HK_SURNAMES)
            return f"{first} {last}", first.lower(), last.lower()
        s_zh, s_en, _ = _wchoice_row(rng, _SURNAMES)
        g_zh, g_en = rng.choice(_GIVEN)
        r = rng.random()
        if r < zh_bias:
            return f"{s_zh}{g_zh}", g_en.replace("-", "").lower(), s_en.lower()
        first = rng.choice(_EN_FIRST)
        if r < zh_bias + 0.27:
            return f"{first} {s_en}", first.lower(), s_en.lower()
        if r < zh_bias + 0.35:
            return f"{first} {s_en} {s_zh}{g_zh}", first.lower(), s_en.lower()
        return f"{s_zh}{g_zh} ({first})", first.lower(), s_en.lower()

    def unique_email(self, local: str, domain: str) -> str:
        email = f"{local}@{domain}"
        n = 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        return email

    def mobile(self, hk: bool = False) -> str:
        rng = self.rng
        while True:
            if hk:
                digits = rng.choice("5689") + "".join(rng.choice("0123456789") for _ in range(7))
            else:
                digits = "09" + "".join(rng.choice("0123456789") for _ in range(8))
            if digits not in self.phones:
                self.phones.add(digits)
                break
        if hk:
            return f"+852 {digits[:4]} {digits[4:]}"
        r = rng.random()
        if r < 0.55:
            return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
        if r < 0.75:
            return digits
        if r < 0.85:
            return f"{digits[:4]} {digits[4:7]} {digits[7:]}"
        if r < 0.95:
            return f"+886 {digits[1:4]} {digits[4:7]} {digits[7:]}"
        return f"+886-{digits[1:4]}-{digits[4:7]}-{digits[7:]}"

    def landline(self, region: str) -> str:
        rng = self.rng
        if region not in _AREA:
            while True:
                digits = rng.choice("23") + "".join(rng.choice("0123456789") for _ in range(7))
                if digits not in self.phones:
                    self.phones.add(digits)
                    return f"+852 {digits[:4]} {digits[4:]}"
        area, n, first = _AREA[region]
        while True:
            local = first + "".join(rng.choice("0123456789") for _ in range(n - 1))
            if area + local not in self.phones:
                self.phones.add(area + local)
                break
        cut = 4 if n == 8 else 3
        body = f"{local[:cut]}-{local[cut:]}"
        ext = f"#{rng.randint(100, 899)}" if rng.random() < 0.15 else ""
        if rng.random() < 0.65:
            return f"({area}){body}{ext}"
        return f"{area}-{body}{ext}"

    # ---- companies -----------------------------------------------------------------

    def company_name(self, region: str, ind: str) -> tuple[str, str, bool, str]:
        """(name, core, zh?, email domain), unique by core."""
        rng = self.rng
        words = _IND_BY_KEY[ind][3]
        for _ in range(200):
            zh_word, en_word = rng.choice(words)
            if region == "Hong Kong":
                if rng.random() < 0.7:
                    pre = rng.choice(_HK_PREFIXES)
                    core = f"{pre} {en_word}"
                    suffix = _wchoice(rng, [(" Ltd.", 4), (" Limited", 3), (" Co., Limited", 2)])
                    domain = _slug(core) + ".com.hk"
                    zh = False
                else:
                    pre_zh, pre_en = rng.choice(_TW_PREFIXES)
                    core = f"香港{pre_zh}{zh_word}"
                    suffix = "有限公司"
                    domain = f"{pre_en}-{_slug(en_word)}.com.hk"
                    zh = True
            else:
                r = rng.random()
                if r < 0.15:
                    pre = rng.choice(_EN_PREFIXES)
                    core = f"{pre} {en_word}"
                    suffix = _wchoice(rng, [(" Co., Ltd.", 5), (" Inc.", 3), (" Corp.", 2)])
                    domain = _slug(core) + rng.choice([".com.tw", ".com"])
                    zh = False
                elif r < 0.25:
                    pre_en = _slug(en_word)
                    core = f"{_CITY_FOR_NAME[region]}{zh_word}"
                    suffix = _wchoice(rng, [("股份有限公司", 3), ("有限公司", 2), ("", 3)])
                    domain = f"{pre_en}-{_AREA[region][0]}{rng.randint(10, 99)}.com.tw"
                    zh = True
                else:
                    pre_zh, pre_en = rng.choice(_TW_PREFIXES)
                    core = f"{pre_zh}{zh_word}"
                    suffix = _wchoice(rng, [("股份有限公司", 45), ("有限公司", 22), ("", 33)])
                    domain = f"{pre_en}-{_slug(en_word)}.com.tw"
                    zh = True
            key = core.casefold()
            if key not in self.cores:
                self.cores.add(key)
                return core + suffix, core, zh, domain
        raise RuntimeError("ran out of company names")  # pragma: no cover

    def make_company(self, created: dt.date | None = None, owner_blank: float = 0.04) -> _Company:
        rng = self.rng
        region = _wchoice(rng, _REGIONS)
        ind_weights = [
            (k, w * (2.5 if region == "新竹" and k in ("semi", "elec") else 1)) for k, _, _, _, w in _INDUSTRIES
        ]
        ind = _wchoice(rng, ind_weights)
        name, core, zh, domain = self.company_name(region, ind)
        if created is None:
            if rng.random() < 0.65:
                created = self.start - _days(rng.randint(1, 1500))
            else:
                created = _day_between(rng, self.start, self.as_of - _days(20))
        owner = None if rng.random() < owner_blank else self.pick_rep(region, ind, created)
        return _Company(
            name=name,
            core=core,
            lang_zh=zh,
            domain=domain,
            industry=ind,
            region=region,
            size=_wchoice(rng, _SIZES),
            owner=owner,
            source=_wchoice(rng, _CO_SOURCES),
            created=created,
        )

    def build_companies(self) -> None:
        n = self.n_companies - 2
        cos = [self.make_company() for _ in range(n)]
        cos.sort(key=lambda c: c.created)
        # CO-0017: the same company typed again, another form of CO-0004's name
        orig = cos[_CO_DUP_OF]
        dup = _Company(
            name=_name_variant(orig.name),
            core=orig.core,
            lang_zh=orig.lang_zh,
            domain=orig.domain,
            industry=orig.industry,
            region=orig.region,
            size=orig.size,
            owner=self.pick_rep(orig.region, orig.industry, self.as_of),
            source=_wchoice(self.rng, _CO_SOURCES),
            created=self.as_of - _days(self.rng.randint(20, 200)),
        )
        cos.insert(_CO_DUP, dup)
        # A company added a few days ago, no ID yet, no contacts, no owner.
        new = self.make_company(created=self.as_of - _days(self.rng.randint(1, 4)), owner_blank=1.0)
        cos.insert(_CO_BLANK, new)
        self.companies = cos
        self.quiet_companies = {id(dup), id(new)}

    # ---- contacts ------------------------------------------------------------------

    def b2b_contact(self, co: _Company, created: dt.date | None = None) -> _Contact:
        rng = self.rng
        hk = co.region == "Hong Kong"
        taken = self.names_at.setdefault(id(co), set())
        name, g, s = self.person_name(hk=hk, zh_bias=0.62 if co.lang_zh else 0.25, avoid=taken)
        taken.add(name)
        zh_t, en_t, role, _ = _wchoice_row(rng, _TITLES)
        title = zh_t if (co.lang_zh and rng.random() < 0.85) else en_t
        r = rng.random()
        if r < 0.08:
            email = None
        elif r < 0.16:
            email = self.unique_email(f"{g}{s}{rng.randint(1, 99)}", "gmail.com")
        else:
            local = rng.choice([f"{g}.{s}", f"{g}", f"{s}.{g}", f"{g}{s[0]}"])
            email = self.unique_email(local, co.domain)
        r = rng.random()
        phone = None if r < 0.07 else self.landline(co.region) if r < 0.62 else self.mobile(hk=hk)
        if created is None:
            lo = max(co.created, self.start - _days(365))
            created = _day_between(rng, lo, self.as_of - _days(3))
        return _Contact(
            company=co,
            name=name,
            title=title,
            role=role,
            email=email,
            phone=phone,
            owner=co.owner,
            source=co.source if rng.random() < 0.7 else _wchoice(rng, _CO_SOURCES),
            created=created,
            opt_out=rng.random() < 0.025,
            note=rng.choice(_B2B_NOTES) if rng.random() < 0.06 else None,
        )

    def b2c_contact(self, created: dt.date | None = None, owner_blank: float = 0.05) -> _Contact:
        rng = self.rng
        name, g, s = self.person_name(zh_bias=0.7)
        r = rng.random()
        if r < 0.12:
            email = None
        else:
            local = rng.choice(
                [f"{g}{s}", f"{g}.{s}", f"{s}{g}", f"{g}{rng.randint(60, 99)}", f"{g}_{rng.randint(1, 999)}"]
            )
            email = self.unique_email(local, _wchoice(rng, _B2C_DOMAINS))
        phone = None if rng.random() < 0.06 else self.mobile()
        if created is None:
            created = _day_between(rng, self.start - _days(365), self.as_of - _days(1))
        owner = None if rng.random() < owner_blank else self.pick_rep(None, None, created)
        return _Contact(
            company=None,
            name=name,
            title=None,
            role=ContactRole.CUSTOMER,
            email=email,
            phone=phone,
            owner=owner,
            source=_wchoice(rng, _B2C_SOURCES),
            created=created,
            opt_out=rng.random() < 0.03,
            note=rng.choice(_B2C_NOTES) if rng.random() < 0.12 else None,
        )

    def build_contacts(self) -> None:
        rng = self.rng
        n = self.n_contacts - 3
        n_b2b = round(n * 0.6)
        live = [c for c in self.companies if id(c) not in self.quiet_companies]
        with_contacts = [c for c in live if rng.random() < 0.96]
        owners: list[_Company] = list(with_contacts[:n_b2b])
        weights = [_SIZE_DEALS[c.size] for c in with_contacts]
        owners += rng.choices(with_contacts, weights=weights, k=n_b2b - len(owners))
        people = [self.b2b_contact(co) for co in owners]
        people += [self.b2c_contact() for _ in range(n - len(people))]
        people.sort(key=lambda p: p.created)
        for p in people:
            if p.company is not None:
                p.company.contacts.append(p)
        # P-0020: a contact whose company was deleted (dangling Company ID)
        ghost_co = rng.choice(live)
        dangling = self.b2b_contact(ghost_co, created=self.as_of - _days(rng.randint(30, 300)))
        dangling.quiet = True
        dangling.company_id_override = "__dangling__"
        people.insert(_CT_DANGLING, dangling)
        # P-0031: P-0003 typed in again (same name and phone)
        orig = people[_CT_DUP_OF]
        for p in (orig, people[_CT_PHONE]):
            if p.phone is None:
                p.phone = self.mobile()
        dup = _Contact(
            company=orig.company,
            name=orig.name,
            title=orig.title,
            role=orig.role,
            email=None,
            phone=orig.phone,
            owner=self.pick_rep(None, None, self.as_of),
            source=orig.source,
            created=self.as_of - _days(rng.randint(10, 150)),
            quiet=True,
        )
        people.insert(_CT_DUP, dup)
        # A consumer added yesterday without an ID
        new = self.b2c_contact(created=self.as_of - _days(1), owner_blank=1.0)
        new.quiet, new.opt_out = True, False
        people.insert(_CT_BLANK, new)
        self.contacts = people

    # ---- deals ---------------------------------------------------------------------

    def build_deals(self) -> None:
        rng = self.rng
        cands = [c for c in self.companies if c.contacts]
        weights = [_SIZE_DEALS[c.size] for c in cands]
        plans: list[tuple[_Deal, list[_Act]]] = []
        for _ in range(self.n_deals - 1):
            d0 = _day_between(rng, self.start, self.as_of - _days(3))
            for _try in range(30):
                co = rng.choices(cands, weights=weights)[0]
                if co.created + _days(3) <= d0 and any(c.created <= d0 for c in co.contacts):
                    break
            plans.append(self.plan_deal(co, d0))
        plans.sort(key=lambda p: p[0].first)

        # OP-0012 gets the unknown stage: make it an open deal.
        def is_open(plan: tuple[_Deal, list[_Act]]) -> bool:
            return not plan[0].stage.is_closed and all(a.type is not ActivityType.ORDER for a in plan[1])

        k = _OP_UNKNOWN_STAGE
        if not is_open(plans[k]):
            for j in [*range(k + 1, len(plans)), *range(k - 1, -1, -1)]:
                if is_open(plans[j]):
                    plans[k], plans[j] = plans[j], plans[k]
                    break
        # A deal added today, no ID, no activity yet.
        co = rng.choice(cands)
        lead = _Deal(
            company=co,
            contact=rng.choice(co.contacts),
            name=self.deal_name(co),
            stage=Stage.LEAD,
            amount=None,
            expected_close=self.as_of + _days(rng.randint(45, 120)),
            owner=co.owner,
            next_step=rng.choice(_NEXT_STEPS[Stage.LEAD]),
            next_step_due=self.as_of + _days(rng.randint(2, 10)),
            closed=None,
            lost_reason=None,
            first=self.as_of,
        )
        plans.insert(_OP_BLANK, (lead, []))
        for i in (_OP_MONEY_NT, _OP_MONEY_YUAN, _OP_MONEY_FW):
            if plans[i][0].amount is None:
                plans[i][0].amount = rng.randint(8, 60) * 10000
        if plans[_OP_DATE_ROC][0].expected_close is None:
            plans[_OP_DATE_ROC][0].expected_close = self.as_of + _days(rng.randint(10, 90))
        self.deals = [p[0] for p in plans]
        for deal, acts in plans:
            self.deal_acts[id(deal)] = acts
            self.acts.extend(acts)

    def deal_name(self, co: _Company) -> str:
        zh, en = self.rng.choice(_PRODUCTS)
        return f"{co.core} - {zh}" if co.lang_zh else f"{co.core} - {en}"

    def plan_deal(self, co: _Company, d0: dt.date) -> tuple[_Deal, list[_Act]]:
        rng, as_of = self.rng, self.as_of
        live = [c for c in co.contacts if not c.quiet]
        known = [c for c in live if c.created <= d0] or live
        key = [c for c in known if c.role in (ContactRole.DECISION_MAKER, ContactRole.BUYER)]
        contact = rng.choice(key) if key and rng.random() < 0.7 else rng.choice(known)
        d0 = max(d0, co.created + _days(3), contact.created)
        age = (as_of - d0).days
        closed = age > 40 and rng.random() < min(0.8, age / 300)
        if closed:
            outcome = "won" if rng.random() < 0.55 else "lost"
        else:
            outcome = "active" if rng.random() < 0.68 else "stalled"
        level = 4 if outcome == "won" else _wchoice(rng, [(0, 22), (1, 32), (2, 28), (3, 18)])
        steps = _deal_steps(rng, level)
        dates, d = [], d0
        for i, _ in enumerate(steps):
            if i:
                d = d + _days(rng.randint(3, 20))
            dates.append(d)
        lost_on: dt.date | None = None
        if outcome == "lost":
            lost_on = dates[-1] + _days(rng.randint(5, 30))
        if dates[-1] > as_of or (lost_on is not None and lost_on > as_of):
            keep = [i for i, x in enumerate(dates) if x <= as_of]
            steps, dates = [steps[i] for i in keep], [dates[i] for i in keep]
            outcome, lost_on = "active", None
            if not steps:
                steps, dates = [ActivityType.CALL], [d0]
        if outcome == "active":
            target = as_of - _days(rng.randint(0, 24))
            shift = (target - dates[-1]).days
            if shift > 0:
                shift = min(shift, (as_of - dates[-1]).days)
                dates = [x + _days(shift) for x in dates]
        owner = co.owner
        left = owner == TEAM[-1].name and dates[0] > self.left
        if (owner is None and rng.random() < 0.7) or left:
            owner = self.pick_rep(co.region, co.industry, dates[0])
        if rng.random() < 0.01:
            owner = None
        raw = _round_amount(rng.lognormvariate(math.log(280_000), 0.85), 1000)
        amount: int | None = max(30_000, min(raw, 5_000_000))
        evidence = _evidence(steps)
        last = dates[-1]
        stage: Stage
        closed_on: dt.date | None = None
        lost_reason: str | None = None
        next_step: str | None = None
        next_due: dt.date | None = None
        if outcome == "won":
            if rng.random() < 0.65:
                stage, closed_on = Stage.WON, last
            else:
                stage = Stage.NEGOTIATION if rng.random() < 0.7 else Stage.PROPOSAL
            expected: dt.date | None = last + _days(rng.randint(-30, 20))
            if rng.random() < 0.03:
                amount = None  # won without amount
        elif outcome == "lost":
            assert lost_on is not None
            stage, closed_on = Stage.LOST, lost_on
            lost_reason = rng.choice(_LOST_REASONS) if rng.random() < 0.9 else None
            expected = lost_on + _days(rng.randint(-20, 40))
        else:
            r = rng.random()
            if evidence.order > 0 and r < 0.72:
                lag = 1 if rng.random() < 0.75 else rng.randint(1, evidence.order)
                stage = list(Stage)[evidence.order - lag]
            elif r > 0.95 and evidence.order < 3:
                stage = list(Stage)[evidence.order + 1]
            else:
                stage = evidence
            if rng.random() < 0.16:
                expected = as_of - _days(rng.randint(3, 75))
            else:
                expected = as_of + _days(rng.randint(7, 150))
            if stage is Stage.LEAD and rng.random() < 0.1:
                expected = None
            if stage in (Stage.LEAD, Stage.QUALIFIED) and rng.random() < 0.2:
                amount = None
            if rng.random() < 0.85:
                next_step = rng.choice(_NEXT_STEPS[stage])
                next_due = as_of + _days(rng.randint(-12, 21))
        deal = _Deal(
            company=co,
            contact=contact,
            name=self.deal_name(co),
            stage=stage,
            amount=amount,
            expected_close=expected,
            owner=owner,
            next_step=next_step,
            next_step_due=next_due,
            closed=closed_on,
            lost_reason=lost_reason,
            first=dates[0],
        )
        acts: list[_Act] = []
        for t, when in zip(steps, dates, strict=True):
            known = [c for c in live if c.created <= when]
            who = contact if rng.random() < 0.8 or not known else rng.choice(known)
            amt = None
            if t is ActivityType.ORDER:
                base = amount if amount is not None else _round_amount(rng.lognormvariate(math.log(250_000), 0.6), 1000)
                if rng.random() < 0.3:
                    base = _round_amount(base * rng.uniform(0.88, 0.98), 1000)
                amt = base
                who = contact
            acts.append(
                _Act(
                    date=when,
                    type=t,
                    contact=who,
                    company=co,
                    deal=deal,
                    amount=amt,
                    owner=self.act_owner(owner or co.owner or self.pick_rep(co.region, co.industry, when), when),
                    subject=rng.choice(_SUBJECTS[t]),
                )
            )
        return deal, acts

    # ---- other activities ------------------------------------------------------------

    def add(
        self,
        when: dt.date,
        t: ActivityType,
        contact: _Contact | None,
        subject: str,
        amount: int | None = None,
        deal: _Deal | None = None,
        owner: str | None = None,
    ) -> None:
        co = contact.company if contact is not None else (deal.company if deal else None)
        if owner is None and contact is not None:
            owner = contact.owner
        self.acts.append(
            _Act(
                date=when,
                type=t,
                contact=contact,
                company=co,
                deal=deal,
                amount=amount,
                owner=self.act_owner(owner, when),
                subject=subject,
            )
        )

    def build_repeat_orders(self) -> None:
        rng = self.rng
        seen: set[int] = set()
        for deal in self.deals:
            won = [a for a in self.deal_acts[id(deal)] if a.type is ActivityType.ORDER]
            if not won or id(deal.company) in seen or rng.random() > 0.5:
                continue
            seen.add(id(deal.company))
            self.repeat_series(deal.company, deal.contact, won[0].date + _days(rng.randint(25, 90)))
        # long-standing accounts that reorder without a deal in the window
        old = [c for c in self.companies if c.contacts and c.created < self.start and id(c) not in seen]
        for co in rng.sample(old, k=min(len(old), round(len(self.companies) * 0.07))):
            live = [c for c in co.contacts if not c.quiet]
            if live:
                c = rng.choice(live)
                self.repeat_series(co, c, max(c.created, self.start + _days(rng.randint(0, 60))))

    def repeat_series(self, co: _Company, contact: _Contact, first: dt.date) -> None:
        rng = self.rng
        base = rng.lognormvariate(math.log(28_000), 0.6)
        r = rng.random()
        stop = (
            self.as_of
            if r < 0.6
            else self.as_of - _days(rng.randint(45, 160))
            if r < 0.8
            else self.as_of - _days(rng.randint(200, 400))
        )
        d = first
        while d <= stop:
            self.add(
                d,
                ActivityType.ORDER,
                contact,
                rng.choice(_REPEAT_SUBJECTS),
                amount=_round_amount(base * rng.uniform(0.6, 1.5), 100),
                owner=co.owner,
            )
            d += _days(rng.randint(28, 110))

    def build_purchases(self) -> None:
        rng, as_of, start = self.rng, self.as_of, self.start
        consumers = [c for c in self.contacts if c.company is None and not c.quiet]
        for c in consumers:
            e0 = max(start, c.created)
            avail = (as_of - e0).days
            feasible = [("never", 14.0), ("one_time", 20.0), ("frequent", 11.0), ("regular", 18.0)]
            if avail >= 75:
                feasible.append(("sleeping", 15.0))
            if avail >= 230:
                feasible.append(("lost", 14.0))
            if avail >= 300:
                feasible.append(("winback", 8.0))
            profile = _wchoice(rng, feasible)
            dates = _purchase_dates(rng, profile, e0, as_of)
            vip = rng.random() < 0.05
            base = rng.uniform(15_000, 40_000) if vip else rng.lognormvariate(math.log(2_400), 0.75)
            web = rng.random() < 0.3
            for d in dates:
                amt = _round_amount(max(290.0, base * rng.uniform(0.6, 1.5)), 10)
                if rng.random() < 0.3 and amt > 1000:
                    amt = _round_amount(amt, 100) - 10
                self.add(
                    d,
                    ActivityType.PURCHASE,
                    c,
                    rng.choice(_PURCHASE_SUBJECTS),
                    amount=amt,
                    owner=None if web else c.owner,
                )

    def build_events(self) -> None:
        rng, as_of, start = self.rng, self.as_of, self.start
        span = (as_of - start).days
        names = rng.sample(_EVENTS, k=4)
        for i, (zh, en) in enumerate(names):
            day = start + _days(int(span * (i + 0.7) / 4.2))
            day = min(day, as_of - _days(4))
            invited_on = max(start, day - _days(rng.randint(10, 21)))
            subject = f"{day.year} {zh} {en}"
            eligible = [c for c in self.contacts if not c.quiet and not c.opt_out and c.created <= invited_on]
            k = min(len(eligible), round(len(self.contacts) * rng.uniform(0.11, 0.15)))
            for c in rng.sample(eligible, k=k):
                when = _day_between(rng, invited_on, min(as_of, invited_on + _days(5)))
                self.add(when, ActivityType.EVENT_INVITED, c, subject)
                if rng.random() < 0.35 and day <= as_of:
                    self.add(day, ActivityType.EVENT_ATTENDED, c, subject)

    def build_notes_and_service(self) -> None:
        rng, as_of = self.rng, self.as_of
        consumers = [c for c in self.contacts if c.company is None and not c.quiet]
        for _ in range(round(330 * self.scale)):
            c = rng.choice(consumers)
            t = ActivityType.CALL if rng.random() < 0.6 else ActivityType.EMAIL
            when = _day_between(rng, max(self.start, c.created), as_of)
            self.add(when, t, c, rng.choice(_SERVICE_SUBJECTS), owner=c.owner or self.pick_rep(None, None, when))
        with_acts = [d for d in self.deals if self.deal_acts[id(d)]]
        b2b = [c for c in self.contacts if c.company is not None and not c.quiet]
        for _ in range(round(320 * self.scale)):
            r = rng.random()
            if r < 0.6 and with_acts:
                deal = rng.choice(with_acts)
                acts = self.deal_acts[id(deal)]
                when = _day_between(rng, acts[0].date, min(as_of, acts[-1].date + _days(10)))
                self.add(when, ActivityType.NOTE, deal.contact, rng.choice(_B2B_NOTES), deal=deal, owner=acts[0].owner)
            else:
                c = rng.choice(b2b if r < 0.85 else consumers)
                when = _day_between(rng, max(self.start, c.created), as_of)
                notes = _B2B_NOTES if c.company is not None else _B2C_NOTES
                self.add(
                    when, ActivityType.NOTE, c, rng.choice(notes), owner=c.owner or self.pick_rep(None, None, when)
                )

    def finish_activities(self) -> None:
        rng = self.rng
        for i, a in enumerate(self.acts):
            a.seq = i
        self.acts.sort(key=lambda a: (a.date, a.seq))
        # A-00010: a call logged with an impossible date.
        b2b = [c for c in self.contacts if c.company is not None and not c.quiet]
        c = rng.choice(b2b)
        bad = _Act(
            date=self.acts[_AC_BAD_DATE].date,
            type=ActivityType.CALL,
            contact=c,
            company=c.company,
            deal=None,
            amount=None,
            owner=c.owner or TEAM[0].name,
            subject=rng.choice(_SUBJECTS[ActivityType.CALL]),
        )
        self.acts.insert(_AC_BAD_DATE, bad)

    def run(self) -> None:
        self.build_companies()
        self.build_contacts()
        self.build_deals()
        self.build_repeat_orders()
        self.build_purchases()
        self.build_events()
        self.build_notes_and_service()
        self.finish_activities()
        records: list[tuple[Tab, Sequence[_Company | _Contact | _Deal | _Act], set[int]]] = [
            (Tab.COMPANIES, self.companies, {_CO_BLANK}),
            (Tab.CONTACTS, self.contacts, {_CT_BLANK}),
            (Tab.OPPORTUNITIES, self.deals, {_OP_BLANK}),
            (Tab.ACTIVITIES, self.acts, set(_AC_BLANK)),
        ]
        for tab, rows, blanks in records:
            for i, rec in enumerate(rows):
                rec.id = None if i in blanks else _fixed_id(tab, i)


def _wchoice_row(rng: random.Random, rows: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    return rng.choices(list(rows), weights=[r[-1] for r in rows])[0]


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


def _round_amount(x: float, unit: int) -> int:
    return max(unit, round(x / unit) * unit)


def _name_variant(name: str) -> str:
    """Another way people type the same company's name."""
    for suffix in ("股份有限公司", "有限公司"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    if any(c.isascii() and c.isalpha() for c in name):
        return _fullwidth(name)
    return name + "股份有限公司"


def _deal_steps(rng: random.Random, level: int) -> list[ActivityType]:
    A = ActivityType
    steps: list[ActivityType] = [rng.choice([A.CALL, A.EMAIL]) for _ in range(rng.randint(1, 2))]
    if level >= 1:
        if rng.random() < 0.4:
            steps.append(rng.choice([A.CALL, A.EMAIL]))
        steps.append(rng.choice([A.MEETING, A.VISIT, A.DEMO]))
        if rng.random() < 0.35:
            steps.append(A.DEMO)
    if level >= 2:
        steps += rng.choice([[A.PROPOSAL], [A.QUOTE], [A.PROPOSAL, A.QUOTE], [A.QUOTE, A.CALL, A.QUOTE]])
        if rng.random() < 0.4:
            steps.append(rng.choice([A.CALL, A.EMAIL, A.MEETING]))
    if level >= 3:
        steps.append(A.CONTRACT)
        if rng.random() < 0.3:
            steps.append(A.CALL)
    if level >= 4:
        steps.append(A.ORDER)
    return steps


def _evidence(steps: Sequence[ActivityType]) -> Stage:
    A = ActivityType
    best = Stage.LEAD
    for t in steps:
        s = {
            A.DEMO: Stage.QUALIFIED,
            A.MEETING: Stage.QUALIFIED,
            A.VISIT: Stage.QUALIFIED,
            A.PROPOSAL: Stage.PROPOSAL,
            A.QUOTE: Stage.PROPOSAL,
            A.CONTRACT: Stage.NEGOTIATION,
            A.ORDER: Stage.WON,
        }.get(t, Stage.LEAD)
        if s.order > best.order:
            best = s
    return best


def _purchase_dates(rng: random.Random, profile: str, e0: dt.date, as_of: dt.date) -> list[dt.date]:
    avail = (as_of - e0).days
    out: list[dt.date] = []

    def series(first: dt.date, last: dt.date, gmin: int, gmax: int) -> list[dt.date]:
        ds, d = [], first
        while d <= last:
            ds.append(d)
            d += _days(rng.randint(gmin, gmax))
        return ds

    if profile == "one_time":
        out = [e0 + _days(rng.randint(0, avail))]
    elif profile == "frequent":
        first = max(e0, as_of - _days(rng.randint(45, 300)))
        main = rng.random() < 0.35
        out = series(first, as_of, 5, 8) if main else series(first, as_of, 7, 25)
        if main:
            out = [d for d in out if d < as_of - _days(40)][::2] + [d for d in out if d >= as_of - _days(40)]
        if (as_of - out[-1]).days > 10:
            out.append(as_of - _days(rng.randint(0, 10)))
    elif profile == "regular":
        out = series(e0 + _days(rng.randint(0, min(90, avail))), as_of, 30, 90)
        if not out:
            out = [as_of - _days(rng.randint(0, 20))]
    elif profile == "sleeping":
        end = as_of - _days(rng.randint(60, min(150, avail)))
        first = _day_between(rng, e0, end - _days(min(30, (end - e0).days)))
        out = series(first, end, 20, 70)
        if out[-1] < end - _days(40):
            out.append(end)
    elif profile == "lost":
        end = as_of - _days(rng.randint(210, min(480, avail)))
        out = [end - _days(g) for g in sorted(rng.sample(range(0, 120), k=rng.randint(1, 4)), reverse=True)]
        out = [d for d in out if d >= e0] or [end]
    elif profile == "winback":
        gap_end = as_of - _days(rng.randint(240, min(420, avail)))
        old = [gap_end - _days(g) for g in sorted(rng.sample(range(0, 90), k=rng.randint(1, 4)), reverse=True)]
        old = [d for d in old if d >= e0] or [gap_end]
        back = sorted(as_of - _days(rng.randint(0, 40)) for _ in range(rng.randint(1, 2)))
        out = old + back
    return sorted(out)


# --------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------


@dataclass
class _Result:
    tables: dict[Tab, Table]
    mistakes: list[dict[str, Any]]


def _ind_label(key: str, lang: Lang) -> str:
    ind = _IND_BY_KEY[key]
    return ind[2] if lang == Lang.ZH_TW else ind[1]


def _ref(rec: _Company | _Contact | _Deal | None) -> str | None:
    return None if rec is None else rec.id


def _render(g: _Gen, lang: Lang) -> dict[Tab, list[dict[str, Any]]]:
    zh = lang == Lang.ZH_TW
    dangling = _ID_FORMAT[Tab.COMPANIES].format(len(g.companies) + 41)
    out: dict[Tab, list[dict[str, Any]]] = {}
    out[Tab.TEAM] = [
        {
            "Name": r.name,
            "Email": r.email,
            "Role": r.role[1] if zh else r.role[0],
            "Stages": ", ".join(s.label(lang) for s in r.stages),
            "Regions": ", ".join(r.regions),
            "Industries": ", ".join(_ind_label(k, lang) for k in r.industries),
            "Weight": r.weight,
            "Active": r.active,
        }
        for r in TEAM
    ]
    out[Tab.COMPANIES] = [
        {
            "ID": c.id,
            "Name": c.name,
            "Industry": _ind_label(c.industry, lang),
            "Region": c.region,
            "Size": c.size,
            "Owner": c.owner,
            "Source": c.source,
            "Created": c.created,
        }
        for c in g.companies
    ]
    out[Tab.CONTACTS] = [
        {
            "ID": p.id,
            "Company ID": dangling if p.company_id_override else _ref(p.company),
            "Name": p.name,
            "Title": p.title,
            "Role": p.role.label(lang),
            "Email": p.email,
            "Phone": p.phone,
            _EXTRA_KEY: p.note,
            "Owner": p.owner,
            "Source": p.source,
            "Created": p.created,
            "Opt-out": p.opt_out,
        }
        for p in g.contacts
    ]
    out[Tab.OPPORTUNITIES] = [
        {
            "ID": d.id,
            "Company ID": _ref(d.company),
            "Contact ID": _ref(d.contact),
            "Name": d.name,
            "Stage": d.stage.label(lang),
            "Amount": d.amount,
            "Expected Close": d.expected_close,
            "Owner": d.owner,
            "Next Step": d.next_step,
            "Next Step Due": d.next_step_due,
            "Closed": d.closed,
            "Lost Reason": d.lost_reason,
        }
        for d in g.deals
    ]
    out[Tab.ACTIVITIES] = [
        {
            "ID": a.id,
            "Date": a.date,
            "Type": a.type.label(lang),
            "Contact ID": _ref(a.contact),
            "Company ID": _ref(a.company),
            "Opportunity ID": _ref(a.deal),
            "Amount": a.amount,
            "Owner": a.owner,
            "Subject": a.subject,
        }
        for a in g.acts
    ]
    return out


_SPRINKLE_COLUMNS: dict[Tab, tuple[str, ...]] = {
    Tab.COMPANIES: ("Created",),
    Tab.CONTACTS: ("Created",),
    Tab.OPPORTUNITIES: ("Amount", "Expected Close", "Next Step Due", "Closed"),
    Tab.ACTIVITIES: ("Date", "Amount"),
}


def _plant(g: _Gen, rows: dict[Tab, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Type the planted mistakes into the rows; return them with their values."""
    mistakes: list[dict[str, Any]] = []
    for spec_m in PLANTED_MISTAKES:
        m = dict(spec_m)
        row = rows[m["tab"]][m["row"] - 2]
        kind, col = m["kind"], m["column"]
        if kind == "date_text":
            row[col] = _date_text(row[col], m["format"])
        elif kind == "money_text":
            row[col] = _money_text(row[col], m["format"])
        elif kind == "bad_email":
            row["Name"], row[col] = BAD_EMAIL_NAME, BAD_EMAIL
        elif kind == "phone_letters":
            row[col] = str(row[col]).replace("0", "O", 1)
        elif kind == "unknown_stage":
            row[col] = UNKNOWN_STAGE
        elif kind == "bad_date":
            row[col] = f"{g.as_of.year}/13/45"
        m["value"] = row[col]
        mistakes.append(m)
    fixed = {(m["tab"], m["row"]) for m in PLANTED_MISTAKES}
    rng = g.rng
    for tab, cols in _SPRINKLE_COLUMNS.items():
        for i, row in enumerate(rows[tab]):
            if (tab, i + 2) in fixed:
                continue
            for col in cols:
                value = row[col]
                if value is None or rng.random() >= SPRINKLE_RATE:
                    continue
                if isinstance(value, dt.date):
                    fmt = rng.choice(_DATE_FORMATS)
                    row[col], kind = _date_text(value, fmt), "date_text"
                else:
                    fmt = rng.choice(_MONEY_FORMATS if value >= 1000 else _MONEY_FORMATS[:3])
                    row[col], kind = _money_text(value, fmt), "money_text"
                mistakes.append(
                    {
                        "tab": tab,
                        "id": row["ID"],
                        "row": i + 2,
                        "column": col,
                        "kind": kind,
                        "severity": "parse",
                        "format": fmt,
                        "note": "sprinkled",
                        "value": row[col],
                        "typed": value,
                    }
                )
    return mistakes


@functools.lru_cache(maxsize=8)
def _generate(seed: int, as_of: dt.date, size: float) -> tuple[_Gen, dict[Lang, _Result]]:
    g = _Gen(seed, as_of, size)
    g.run()
    return g, {}


def _result(seed: int, as_of: dt.date, lang: Lang, size: float) -> _Result:
    g, by_lang = _generate(seed, as_of, size)
    if lang not in by_lang:
        # Planting draws from a fresh stream so every language gets the same sprinkle.
        g.rng = random.Random(f"{seed}:plant")
        rows = _render(g, lang)
        mistakes = _plant(g, rows)
        tables: dict[Tab, Table] = {}
        for tab in (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES, Tab.TEAM):
            keys = header_keys(tab)
            tables[tab] = (_headers(tab, lang), [[r.get(k) for k in keys] for r in rows[tab]])
        settings: list[list[Any]] = [list(r) for r in settings_rows(lang)]
        tables[Tab.SETTINGS] = (_headers(Tab.SETTINGS, lang), settings)
        tables[Tab.LOG] = (_headers(Tab.LOG, lang), [])
        by_lang[lang] = _Result(tables, mistakes)
    return by_lang[lang]


def _args(as_of: dt.date | None, lang: Lang | str, size: float) -> tuple[dt.date, Lang, float]:
    if size <= 0:
        raise ValueError(f"size must be positive, not {size!r}")
    return (as_of or dt.date.today(), Lang(str(lang)), float(size))


def demo_tables(
    seed: int = 2026, as_of: dt.date | None = None, lang: Lang = Lang.EN, size: float = 1.0
) -> dict[Tab, tuple[list[str], list[list[Any]]]]:
    """For each tab (Companies, Contacts, Opportunities, Activities, Team, Settings; Log
    empty), the header row and the data rows as raw cell values (str, int, float,
    datetime.date, bool, None), the way people really type them.

    Headers are the schema's people's columns in ``lang`` (no computed columns), in schema
    order, plus one column people added that the schema does not know (:data:`EXTRA_COLUMN`
    on :data:`EXTRA_COLUMN_TAB`, right after Phone). Log has no people's columns; its header
    row holds all its columns and it has no rows.

    ``as_of`` defaults to today; activities fall within the 18 months before it
    (:func:`history_start`). ``size`` scales the record counts (1 = the real demo: 300
    companies, 1,000 contacts, 400 opportunities, about 5,000 activities). The same
    arguments always give the same tables; only ``random.Random(seed)`` is used. Each call
    returns fresh lists, safe to change.

    The planted mistakes are in the module docstring, :data:`PLANTED_MISTAKES` and
    :func:`planted_mistakes`.
    """
    as_of_, lang_, size_ = _args(as_of, lang, size)
    res = _result(seed, as_of_, lang_, size_)
    return {tab: (list(header), [list(r) for r in rows]) for tab, (header, rows) in res.tables.items()}


def planted_mistakes(
    seed: int = 2026, as_of: dt.date | None = None, lang: Lang = Lang.EN, size: float = 1.0
) -> list[dict[str, Any]]:
    """Every planted mistake in ``demo_tables(seed, as_of, lang, size)``: the fixed ones of
    :data:`PLANTED_MISTAKES` with their ``value``, then the sprinkled text dates and amounts
    (``note`` "sprinkled", ``typed`` the clean value they stand for)."""
    as_of_, lang_, size_ = _args(as_of, lang, size)
    return [dict(m) for m in _result(seed, as_of_, lang_, size_).mistakes]


# ------------------------------------------------------------------ the demo workbook


#: A count of each tab's records in Chinese: the measure word, then the noun.
_ZH_COUNTED = {
    Tab.COMPANIES: "家公司",
    Tab.CONTACTS: "位連絡人",
    Tab.OPPORTUNITIES: "個機會",
    Tab.ACTIVITIES: "筆活動紀錄",
}


@dataclass
class DemoResult:
    """What ``make_demo`` made: the file, the record counts, and the main job's result."""

    path: Path
    counts: dict[str, int]
    sync: Any
    lang: str = "en"
    #: A sample lead file beside the workbook, to try ``sheetcrm import`` with.
    leads: Path | None = None

    @property
    def counts_text(self) -> str:
        """The record counts, in the demo's language ("300 companies, 1,000 contacts, ...")."""
        if self.lang == Lang.ZH_TW:
            return "、".join(f"{n:,} {_ZH_COUNTED[Tab(tab)]}" for tab, n in self.counts.items())
        return ", ".join(f"{n:,} {tab.lower()}" for tab, n in self.counts.items())

    @property
    def summary_lines(self) -> list[str]:
        return list(self.sync.summary_lines())


def write_demo_workbook(
    path: str | os.PathLike[str], tables: dict[Tab, tuple[list[str], list[list[Any]]]], lang: Lang = Lang.EN
) -> Path:
    """Write ``tables`` (as :func:`demo_tables` returns them) into a copy of the empty
    template at ``path``: each value under its column's header, the extra column appended
    to the right of the header. Saved atomically."""
    from openpyxl import load_workbook

    from sheetcrm.backends.xlsx import XlsxBackend
    from sheetcrm.schema import TABS, match_headers
    from sheetcrm.template import template_path

    target = Path(path)
    wb = load_workbook(template_path(lang))
    for tab, (header, rows) in tables.items():
        spec = TABS[tab]
        ws = wb[spec.title(lang)]
        template_header = [c.value for c in ws[1]]
        positions = match_headers(spec, template_header, ws.title).positions
        demo_map = match_headers(spec, header, ws.title)
        where: list[int] = [0] * len(header)
        for key, i in demo_map.positions.items():
            where[i] = positions[key]
        for i in demo_map.extras:
            where[i] = len(template_header)
            template_header.append(header[i])
            ws.cell(row=1, column=where[i] + 1, value=header[i])
        if tab is Tab.SETTINGS:
            ws.delete_rows(2, ws.max_row)
        width = len(template_header)
        for r, values in enumerate(rows, start=2):
            line: list[Any] = [None] * width
            for i, value in enumerate(values):
                line[where[i]] = value
            for c, value in enumerate(line, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
    XlsxBackend(target).save(wb)
    return target


def make_demo(
    path: str | os.PathLike[str] = "sheetcrm-demo.xlsx",
    *,
    lang: Lang | str = Lang.EN,
    seed: int = 2026,
    as_of: dt.date | None = None,
    size: float = 1.0,
    force: bool = True,
    sync: bool = True,
) -> DemoResult:
    """Generate the demo workbook at ``path`` and run the main job (sync) on it.

    Refuses to replace an existing file unless ``force``. Returns a :class:`DemoResult`.
    """
    from sheetcrm.exceptions import Phrase, WorkbookExistsError
    from sheetcrm.i18n import N_
    from sheetcrm.template import xlsx_target
    from sheetcrm.workbook import open_workbook

    lang = Lang(lang)
    target = xlsx_target(path)
    if target.exists() and not force:
        raise WorkbookExistsError(
            Phrase(N_("{path} already exists; pass --force to replace it"), {"path": repr(str(target))})
        )
    as_of = as_of or dt.date.today()
    tables = demo_tables(seed=seed, as_of=as_of, lang=lang, size=size)
    write_demo_workbook(target, tables, lang)
    counts = {
        tab.value: len(rows)
        for tab, (_h, rows) in tables.items()
        if tab in (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES)
    }
    leads = write_demo_leads(target.with_name(f"{target.stem}-leads.csv"), tables, lang)
    result = open_workbook(target).sync(as_of=as_of) if sync else None
    return DemoResult(target, counts, result, str(lang), leads)


def write_demo_leads(path: Path, tables: dict[Tab, tuple[list[str], list[list[Any]]]], lang: Lang) -> Path:
    """A small lead file to try ``sheetcrm import`` with, written to ``path`` (UTF-8 with
    BOM, so Excel opens it): new people (one at a company the workbook has, one at a new
    company), one already in the workbook under the same email and one under the same
    phone (both held back as duplicates), and one whose email is not an address (rejected)."""
    import csv

    headers, rows = tables[Tab.CONTACTS]
    at = {key: headers.index(h) for key, h in zip(header_keys(Tab.CONTACTS), headers, strict=True)}
    co_keys = header_keys(Tab.COMPANIES)
    co_id, co_name = co_keys.index("ID"), co_keys.index("Name")
    company_names = {r[co_id]: r[co_name] for r in tables[Tab.COMPANIES][1]}
    with_email = next(r for r in rows if r[at["Email"]] and r[at["Company ID"]])
    with_phone = next(r for r in rows if (r[at["Mobile"]] or r[at["Phone"]]) and r is not with_email)
    known = company_names.get(with_email[at["Company ID"]], with_email[at["Company ID"]])
    zh = lang == Lang.ZH_TW
    leads = [
        ["王大同" if zh else "Grace Lin", known, "grace.lin@example.com", "0910-222-333"],
        ["陳思妤" if zh else "Tom Hsu", "青松設計" if zh else "Pine Design Studio", "tom@pine-design.example", ""],
        [with_email[at["Name"]], known, str(with_email[at["Email"]]).upper(), ""],
        [with_phone[at["Name"]], "", "", with_phone[at["Mobile"]] or with_phone[at["Phone"]]],
        ["林志明" if zh else "Ken Wu", "", "ken.wu@@example", ""],
    ]
    heading = ["姓名", "公司", "電子郵件", "手機"] if zh else ["Name", "Company", "Email", "Mobile"]
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows([heading, *leads])
    return path
