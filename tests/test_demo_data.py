"""The demo workbook's content (sheetcrm.demo): deterministic, realistic, consistent, and
carrying exactly the mistakes it says it plants."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from itertools import pairwise
from typing import Any

import pytest

from sheetcrm import demo
from sheetcrm.demo import (
    EXTRA_COLUMN,
    EXTRA_COLUMN_TAB,
    PLANTED_MISTAKES,
    demo_tables,
    history_start,
    planted_mistakes,
)
from sheetcrm.schema import (
    TABS,
    ActivityType,
    ContactRole,
    Lang,
    Stage,
    Tab,
    match_headers,
    normalize_label,
)
from sheetcrm.settings import settings_rows

AS_OF = dt.date(2026, 3, 15)
ALL_TABS = {Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES, Tab.TEAM, Tab.SETTINGS, Tab.LOG}
LANGS = (Lang.EN, Lang.ZH_TW)


# ---- helpers ---------------------------------------------------------------------------


def records(tables: dict[Tab, Any], tab: Tab) -> list[dict[str, Any]]:
    """Rows of ``tab`` as dicts keyed by schema key (the extra column as "__extra__")."""
    keys = demo.header_keys(tab)
    return [dict(zip(keys, row, strict=True)) for row in tables[tab][1]]


_DATE_PATTERNS = (
    (re.compile(r"^民國(\d{2,3})年(\d{1,2})月(\d{1,2})日$"), True),
    (re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"), False),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), False),
    (re.compile(r"^(\d{2,3})/(\d{1,2})/(\d{1,2})$"), True),
)


def parse_date(value: Any) -> dt.date:
    """A demo date cell: a date, or text in one of the planted forms."""
    if isinstance(value, dt.date):
        return value
    for pattern, roc in _DATE_PATTERNS:
        m = pattern.match(str(value))
        if m:
            y, mo, d = (int(g) for g in m.groups())
            return dt.date(y + 1911 if roc else y, mo, d)
    raise ValueError(f"not a date: {value!r}")


def parse_money(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value)
    text = unicodedata.normalize("NFKC", str(value))
    text = text.removeprefix("NT$").removesuffix("元").replace(",", "")
    return int(text)


@pytest.fixture(scope="module")
def en() -> dict[Tab, Any]:
    return demo_tables(as_of=AS_OF)


@pytest.fixture(scope="module")
def zh() -> dict[Tab, Any]:
    return demo_tables(as_of=AS_OF, lang=Lang.ZH_TW)


@pytest.fixture(scope="module")
def small() -> dict[Tab, Any]:
    return demo_tables(seed=5, as_of=AS_OF, size=0.05)


# ---- determinism -----------------------------------------------------------------------


def test_same_arguments_same_output() -> None:
    a = demo_tables(seed=11, as_of=AS_OF, size=0.1)
    b = demo_tables(seed=11, as_of=AS_OF, size=0.1)
    assert a == b
    assert planted_mistakes(seed=11, as_of=AS_OF, size=0.1) == planted_mistakes(seed=11, as_of=AS_OF, size=0.1)


def test_fresh_copies_each_call() -> None:
    a = demo_tables(seed=11, as_of=AS_OF, size=0.1)
    a[Tab.COMPANIES][1][0][1] = "changed"
    a[Tab.COMPANIES][0].append("changed")
    b = demo_tables(seed=11, as_of=AS_OF, size=0.1)
    assert b[Tab.COMPANIES][1][0][1] != "changed"
    assert "changed" not in b[Tab.COMPANIES][0]


def test_different_seed_different_output() -> None:
    a = demo_tables(seed=11, as_of=AS_OF, size=0.1)
    b = demo_tables(seed=12, as_of=AS_OF, size=0.1)
    for tab in (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES):
        assert a[tab][1] != b[tab][1]


def test_no_global_random_state_used() -> None:
    import random

    random.seed(1)
    a = demo_tables(seed=21, as_of=AS_OF, size=0.05)
    random.seed(2)
    demo._generate.cache_clear()
    b = demo_tables(seed=21, as_of=AS_OF, size=0.05)
    assert a == b


def test_language_changes_labels_not_records(en: dict[Tab, Any], zh: dict[Tab, Any]) -> None:
    for tab in (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES, Tab.TEAM):
        assert len(en[tab][1]) == len(zh[tab][1])
        e, z = records(en, tab), records(zh, tab)
        id_key = TABS[tab].id_column or "ID"
        assert [r[id_key] for r in e] == [r[id_key] for r in z]
    e_ops, z_ops = records(en, Tab.OPPORTUNITIES), records(zh, Tab.OPPORTUNITIES)
    for a, b in zip(e_ops, z_ops, strict=True):
        assert a["Amount"] == b["Amount"] and a["Contact ID"] == b["Contact ID"]
        sa, sb = Stage.parse(a["Stage"]), Stage.parse(b["Stage"])
        assert sa == sb
    assert planted_mistakes(as_of=AS_OF) == planted_mistakes(as_of=AS_OF, lang=Lang.ZH_TW)


def test_as_of_defaults_to_today() -> None:
    tables = demo_tables(size=0.05)
    dates = [parse_date(r["Date"]) for r in records(tables, Tab.ACTIVITIES) if not str(r["Date"]).endswith("/13/45")]
    assert max(dates) <= dt.date.today()
    assert min(dates) >= history_start(dt.date.today())


def test_bad_size_rejected() -> None:
    with pytest.raises(ValueError):
        demo_tables(size=0)


# ---- shape -----------------------------------------------------------------------------


def test_counts_at_size_one(en: dict[Tab, Any]) -> None:
    counts = {tab: len(rows) for tab, (_, rows) in en.items()}
    assert set(counts) == ALL_TABS
    assert counts[Tab.TEAM] == 6
    assert counts[Tab.COMPANIES] == 300
    assert counts[Tab.CONTACTS] == 1000
    assert counts[Tab.OPPORTUNITIES] == 400
    assert 4500 <= counts[Tab.ACTIVITIES] <= 6000
    assert counts[Tab.LOG] == 0
    assert counts[Tab.SETTINGS] == len(settings_rows())
    contacts = records(en, Tab.CONTACTS)
    b2b = [c for c in contacts if c["Company ID"] is not None]
    assert 0.55 <= len(b2b) / len(contacts) <= 0.65
    assert 3 <= sum(1 for c in contacts if c["Opt-out"] is True) <= 60
    companies = records(en, Tab.COMPANIES)
    assert 5 <= sum(1 for c in companies if c["Owner"] is None) <= 30


def test_size_scales_counts() -> None:
    small = demo_tables(as_of=AS_OF, size=0.2)
    assert len(small[Tab.COMPANIES][1]) == 60
    assert len(small[Tab.CONTACTS][1]) == 200
    assert len(small[Tab.OPPORTUNITIES][1]) == 80
    assert 700 <= len(small[Tab.ACTIVITIES][1]) <= 1400
    assert len(small[Tab.TEAM][1]) == 6


@pytest.mark.parametrize("lang", LANGS)
def test_headers_are_people_columns_plus_one_extra(lang: Lang) -> None:
    tables = demo_tables(seed=3, as_of=AS_OF, lang=lang, size=0.05)
    for tab, (header, _rows) in tables.items():
        spec = TABS[tab]
        if tab is Tab.LOG:
            assert header == [c.header(lang) for c in spec.template_columns]
            continue
        expected = [c.header(lang) for c in spec.people_columns]
        if tab is EXTRA_COLUMN_TAB:
            assert EXTRA_COLUMN[lang] in header
            assert [h for h in header if h != EXTRA_COLUMN[lang]] == expected
        else:
            assert header == expected
        hmap = match_headers(spec, header)
        assert set(hmap.missing) == {c.key for c in spec.computed_columns}
        extras = [header[i] for i in hmap.extras]
        assert extras == ([EXTRA_COLUMN[lang]] if tab is EXTRA_COLUMN_TAB else [])
        assert not any(spec.column(k).computed for k in hmap.positions)


def test_cell_types(en: dict[Tab, Any]) -> None:
    allowed = (str, int, float, dt.date, bool, type(None))
    for tab, (header, rows) in en.items():
        assert all(isinstance(h, str) for h in header)
        for row in rows:
            assert len(row) == len(header), tab
            assert all(isinstance(v, allowed) for v in row), (tab, row)


def test_settings_tab(zh: dict[Tab, Any]) -> None:
    assert zh[Tab.SETTINGS][1] == [list(r) for r in settings_rows(Lang.ZH_TW)]


def test_ids_formatted_unique_and_blanks_planted(en: dict[Tab, Any]) -> None:
    patterns = {
        Tab.COMPANIES: r"CO-\d{4}",
        Tab.CONTACTS: r"P-\d{4}",
        Tab.OPPORTUNITIES: r"OP-\d{4}",
        Tab.ACTIVITIES: r"A-\d{5}",
    }
    planted_blank = {(m["tab"], m["row"]) for m in PLANTED_MISTAKES if m["kind"] == "blank_id"}
    assert len(planted_blank) == 5
    for tab, pattern in patterns.items():
        ids = [r["ID"] for r in records(en, tab)]
        blanks = {(tab, i + 2) for i, v in enumerate(ids) if v is None}
        assert blanks == {b for b in planted_blank if b[0] is tab}
        present = [v for v in ids if v is not None]
        assert len(present) == len(set(present))
        assert all(re.fullmatch(pattern, v) for v in present)
    team = [r["Name"] for r in records(en, Tab.TEAM)]
    assert len(set(team)) == 6


# ---- consistency -----------------------------------------------------------------------


def _dangling(tables: dict[Tab, Any]) -> set[tuple[Tab, str, str]]:
    """(tab, row ID, column) of every reference that does not resolve."""
    ids = {
        tab: {r["ID"] for r in records(tables, tab) if r["ID"]}
        for tab in (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES)
    }
    team = {r["Name"] for r in records(tables, Tab.TEAM)}
    bad: set[tuple[Tab, str, str]] = set()
    for tab in (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES):
        spec = TABS[tab]
        for r in records(tables, tab):
            for col in spec.people_columns:
                v = r.get(col.key)
                if v is None:
                    continue
                if col.ref is not None and v not in ids[col.ref]:
                    bad.add((tab, r["ID"], col.key))
                if col.key == "Owner" and v not in team:
                    bad.add((tab, r["ID"], col.key))
    return bad


@pytest.mark.parametrize("fixture", ["en", "small", "zh"])
def test_every_reference_resolves_except_the_planted_one(fixture: str, request: pytest.FixtureRequest) -> None:
    tables = request.getfixturevalue(fixture)
    planted = {(m["tab"], m["id"], m["column"]) for m in PLANTED_MISTAKES if m["kind"] == "dangling_ref"}
    assert _dangling(tables) == planted


def test_links_agree(en: dict[Tab, Any]) -> None:
    contact_company = {r["ID"]: r["Company ID"] for r in records(en, Tab.CONTACTS)}
    deal_company = {r["ID"]: r["Company ID"] for r in records(en, Tab.OPPORTUNITIES)}
    for d in records(en, Tab.OPPORTUNITIES):
        assert d["Company ID"] is not None and d["Contact ID"] is not None
        assert contact_company[d["Contact ID"]] == d["Company ID"], d
    linked: Counter[str] = Counter()
    for a in records(en, Tab.ACTIVITIES):
        if a["Contact ID"] is not None:
            assert contact_company[a["Contact ID"]] == a["Company ID"], a
        if a["Opportunity ID"] is not None:
            assert deal_company[a["Opportunity ID"]] == a["Company ID"], a
            linked[a["Opportunity ID"]] += 1
    assert len(linked) >= 0.9 * len(deal_company)


def test_b2c_contacts_are_customers(en: dict[Tab, Any]) -> None:
    for c in records(en, Tab.CONTACTS):
        role = ContactRole.parse(c["Role"])
        if c["Company ID"] is None:
            assert role is ContactRole.CUSTOMER and c["Title"] is None
        else:
            assert role is not ContactRole.CUSTOMER


@pytest.mark.parametrize("fixture", ["en", "small"])
def test_activities_within_18_months(fixture: str, request: pytest.FixtureRequest) -> None:
    tables = request.getfixturevalue(fixture)
    start = history_start(AS_OF)
    assert start == dt.date(2024, 9, 15)
    bad_rows = {m["row"] for m in PLANTED_MISTAKES if m["tab"] is Tab.ACTIVITIES and m["kind"] == "bad_date"}
    dates = []
    for i, a in enumerate(records(tables, Tab.ACTIVITIES)):
        if i + 2 in bad_rows:
            with pytest.raises(ValueError):
                parse_date(a["Date"])
            continue
        dates.append(parse_date(a["Date"]))
    assert all(start <= d <= AS_OF for d in dates)
    if fixture == "en":
        assert min(dates) - start < dt.timedelta(days=10)
        assert AS_OF - max(dates) < dt.timedelta(days=3)


@pytest.mark.parametrize("lang", LANGS)
def test_vocabulary_uses_exact_labels(lang: Lang) -> None:
    tables = demo_tables(as_of=AS_OF, lang=lang, size=0.3)
    unknown = {(m["tab"], m["id"]) for m in PLANTED_MISTAKES if m["kind"] == "unknown_stage"}
    stages = {s.label(lang) for s in Stage}
    for d in records(tables, Tab.OPPORTUNITIES):
        if (Tab.OPPORTUNITIES, d["ID"]) in unknown:
            assert d["Stage"] == "Closing" and Stage.parse(d["Stage"]) is None
        else:
            assert d["Stage"] in stages
    types = {t.label(lang) for t in ActivityType}
    assert all(a["Type"] in types for a in records(tables, Tab.ACTIVITIES))
    roles = {r.label(lang) for r in ContactRole}
    assert all(c["Role"] in roles for c in records(tables, Tab.CONTACTS))
    for rep in records(tables, Tab.TEAM):
        assert all(s in stages for s in rep["Stages"].split(", "))


def test_team(en: dict[Tab, Any]) -> None:
    team = records(en, Tab.TEAM)
    assert sum(1 for r in team if r["Active"] is False) == 1
    assert all(r["Active"] in (True, False) for r in team)
    assert all(r["Weight"] in (1, 2, 3) for r in team)
    assert {r["Role"] for r in team} == {"Sales", "Account Manager", "Presales"}
    assert any(re.search(r"[\u4e00-\u9fff]", r["Name"]) for r in team)
    assert any(re.fullmatch(r"[A-Za-z ]+", r["Name"]) for r in team)
    regions = {x for r in team for x in r["Regions"].split(", ")}
    company_regions = {c["Region"] for c in records(en, Tab.COMPANIES)}
    assert company_regions <= regions
    industries = {x for r in team for x in r["Industries"].split(", ")}
    assert industries <= {c["Industry"] for c in records(en, Tab.COMPANIES)}


# ---- realism ---------------------------------------------------------------------------


def _evidence(types: list[str]) -> Stage:
    rules = {
        ActivityType.DEMO: Stage.QUALIFIED,
        ActivityType.MEETING: Stage.QUALIFIED,
        ActivityType.VISIT: Stage.QUALIFIED,
        ActivityType.PROPOSAL: Stage.PROPOSAL,
        ActivityType.QUOTE: Stage.PROPOSAL,
        ActivityType.CONTRACT: Stage.NEGOTIATION,
        ActivityType.ORDER: Stage.WON,
    }
    best = Stage.LEAD
    for t in types:
        s = rules.get(ActivityType.parse(t), Stage.LEAD)  # type: ignore[arg-type]
        best = s if s.order > best.order else best
    return best


def test_pipeline_mostly_lags_evidence(en: dict[Tab, Any]) -> None:
    by_deal: dict[str, list[str]] = {}
    for a in records(en, Tab.ACTIVITIES):
        if a["Opportunity ID"]:
            by_deal.setdefault(a["Opportunity ID"], []).append(a["Type"])
    lag = same = 0
    won = lost = overdue = 0
    for d in records(en, Tab.OPPORTUNITIES):
        stage = Stage.parse(d["Stage"])
        if stage is Stage.WON:
            won += 1
            assert d["Closed"] is not None
            assert "Order" in by_deal.get(d["ID"], [])
        elif stage is Stage.LOST:
            lost += 1
            assert d["Closed"] is not None
        elif stage is not None:
            ev = _evidence(by_deal.get(d["ID"], []))
            lag += ev.order > stage.order
            same += ev.order == stage.order
            close = d["Expected Close"]
            if close is not None and parse_date(close) < AS_OF:
                overdue += 1
    assert lag > same
    assert won >= 40 and lost >= 40 and overdue >= 20
    reasons = [d["Lost Reason"] for d in records(en, Tab.OPPORTUNITIES) if Stage.parse(d["Stage"]) is Stage.LOST]
    assert sum(r is not None for r in reasons) >= 0.8 * len(reasons)
    blank_owner = sum(d["Owner"] is None for d in records(en, Tab.OPPORTUNITIES))
    assert 1 <= blank_owner <= 25


def test_consumers_fall_in_every_class(en: dict[Tab, Any]) -> None:
    consumers = {c["ID"] for c in records(en, Tab.CONTACTS) if c["Company ID"] is None}
    buys: dict[str, list[tuple[dt.date, int]]] = {}
    for a in records(en, Tab.ACTIVITIES):
        if a["Contact ID"] in consumers and ActivityType.parse(a["Type"]) is ActivityType.PURCHASE:
            assert a["Amount"] is not None
            buys.setdefault(a["Contact ID"], []).append((parse_date(a["Date"]), parse_money(a["Amount"])))
    classes: Counter[str] = Counter()
    for cid in consumers:
        history = sorted(buys.get(cid, []))
        if not history:
            classes["N"] += 1
            continue
        days = (AS_OF - history[-1][0]).days
        classes["E" if days <= 30 else "S" if days <= 180 else "L"] += 1
        if sum(1 for d, _ in history if (AS_OF - d).days <= 30) > 3:
            classes["main"] += 1
        if sum(m for d, m in history if (AS_OF - d).days <= 365) > 100_000:
            classes["important"] += 1
        if len(history) == 1:
            classes["one-time"] += 1
        gaps = [(b[0] - a[0]).days for a, b in pairwise(history)]
        if days <= 60 and gaps and max(gaps) > 200:
            classes["win-back"] += 1
        if 60 <= days <= 150:
            classes["sleeping 2-5 months"] += 1
        if days >= 210:
            classes["lost 7+ months"] += 1
    for name in ("N", "E", "S", "L", "one-time", "sleeping 2-5 months", "lost 7+ months"):
        assert classes[name] >= 30, (name, classes)
    for name in ("main", "important", "win-back"):
        assert classes[name] >= 3, (name, classes)


def test_events_notes_and_repeat_orders(en: dict[Tab, Any]) -> None:
    acts = records(en, Tab.ACTIVITIES)
    types = Counter(ActivityType.parse(a["Type"]) for a in acts)
    assert types[ActivityType.EVENT_INVITED] > types[ActivityType.EVENT_ATTENDED] > 50
    assert types[ActivityType.NOTE] > 100
    repeat = [a for a in acts if ActivityType.parse(a["Type"]) is ActivityType.ORDER and a["Opportunity ID"] is None]
    assert len(repeat) > 50 and all(a["Company ID"] and a["Amount"] is not None for a in repeat)
    opted_out = {c["ID"] for c in records(en, Tab.CONTACTS) if c["Opt-out"] is True}
    invited = {a["Contact ID"] for a in acts if ActivityType.parse(a["Type"]) is ActivityType.EVENT_INVITED}
    assert not invited & opted_out
    subjects = [a["Subject"] for a in acts]
    assert any(re.search(r"[\u4e00-\u9fff]", s) for s in subjects)
    assert any(re.fullmatch(r"[A-Za-z0-9 ,.&()#-]+", s) for s in subjects)


def test_names_phones_and_emails_look_taiwanese(en: dict[Tab, Any]) -> None:
    names = [c["Name"] for c in records(en, Tab.COMPANIES)]
    assert sum(n.endswith("股份有限公司") for n in names) > 50
    assert any(n.endswith(("Ltd.", "Limited")) for n in names)
    contacts = records(en, Tab.CONTACTS)
    phones = [c["Phone"] for c in contacts if c["Phone"]]
    assert any(re.fullmatch(r"09\d\d-\d{3}-\d{3}", p) for p in phones)
    assert any(re.fullmatch(r"\(02\)\d{4}-\d{4}(#\d+)?", p) for p in phones)
    assert any(p.startswith("+886") for p in phones)
    emails = [c["Email"] for c in contacts if c["Email"]]
    assert len(emails) == len(set(emails))
    planted_email = {m["id"] for m in PLANTED_MISTAKES if m["kind"] == "bad_email"}
    for c in contacts:
        if c["Email"] and c["ID"] not in planted_email:
            assert re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", c["Email"]), c
    letters = {m["id"] for m in PLANTED_MISTAKES if m["kind"] == "phone_letters"}
    for c in contacts:
        if c["Phone"] and c["ID"] not in letters:
            assert re.fullmatch(r"[\d()+\- #]+", c["Phone"]), c


def test_no_unplanted_duplicates(en: dict[Tab, Any]) -> None:
    contacts = records(en, Tab.CONTACTS)
    seen: dict[tuple[str, str], str] = {}
    dups = set()
    for c in contacts:
        if c["Phone"]:
            key = (c["Name"], re.sub(r"\D", "", c["Phone"]))
            if key in seen:
                dups.add((seen[key], c["ID"]))
            seen.setdefault(key, c["ID"])
    planted = {(m["duplicate_of"], m["id"]) for m in PLANTED_MISTAKES if m["kind"] == "duplicate_contact"}
    assert dups == planted
    cores: dict[str, str | None] = {}
    cdups = set()
    for c in records(en, Tab.COMPANIES):
        core = _core(c["Name"])
        if core in cores:
            cdups.add((cores[core], c["ID"]))
        cores.setdefault(core, c["ID"])
    planted = {(m["duplicate_of"], m["id"]) for m in PLANTED_MISTAKES if m["kind"] == "duplicate_company"}
    assert cdups == planted


def _core(name: str) -> str:
    folded = normalize_label(name)
    for suffix in ("股份有限公司", "有限公司", "co.,ltd.", "inc.", "corp.", "ltd.", "limited", "co.,limited"):
        folded = folded.removesuffix(suffix)
    return folded


# ---- planted mistakes ------------------------------------------------------------------


def test_planted_mistakes_constant_shape() -> None:
    kinds = Counter(m["kind"] for m in PLANTED_MISTAKES)
    assert kinds == {
        "date_text": 4,
        "money_text": 3,
        "duplicate_company": 1,
        "blank_id": 5,
        "bad_email": 1,
        "phone_letters": 1,
        "dangling_ref": 1,
        "duplicate_contact": 1,
        "unknown_stage": 1,
        "bad_date": 1,
    }
    for m in PLANTED_MISTAKES:
        assert m["tab"] in TABS and TABS[m["tab"]].has(m["column"])
        assert m["severity"] in ("parse", "problem")
        assert (m["id"] is None) == (m["kind"] == "blank_id")
    formats = {m["format"] for m in PLANTED_MISTAKES if m["kind"] == "date_text"}
    assert formats == {"ymd_slash", "roc_cjk", "roc_slash", "ymd_cjk"}
    assert {m["format"] for m in PLANTED_MISTAKES if m["kind"] == "money_text"} == {"nt_dollar", "yuan", "fullwidth"}
    assert all(m["kind"] in (demo.__doc__ or "") for m in PLANTED_MISTAKES)


@pytest.mark.parametrize(("seed", "size", "lang"), [(2026, 1.0, Lang.EN), (5, 0.05, Lang.EN), (9, 0.3, Lang.ZH_TW)])
def test_planted_mistakes_are_where_they_say(seed: int, size: float, lang: Lang) -> None:
    tables = demo_tables(seed=seed, as_of=AS_OF, lang=lang, size=size)
    found = planted_mistakes(seed=seed, as_of=AS_OF, lang=lang, size=size)
    fixed = [m for m in found if m.get("note") != "sprinkled"]
    assert [{k: v for k, v in m.items() if k != "value"} for m in fixed] == PLANTED_MISTAKES
    for m in found:
        header_keys = demo.header_keys(m["tab"])
        row = dict(zip(header_keys, tables[m["tab"]][1][m["row"] - 2], strict=True))
        assert row["ID"] == m["id"]
        assert row[m["column"]] == m["value"]
        check_mistake(m, row, tables)
    sprinkled = [m for m in found if m.get("note") == "sprinkled"]
    assert {m["format"] for m in sprinkled if m["kind"] == "date_text"} == {
        "ymd_slash",
        "roc_cjk",
        "roc_slash",
        "ymd_cjk",
    }
    assert {m["format"] for m in sprinkled if m["kind"] == "money_text"} >= {"nt_dollar", "yuan", "fullwidth"}
    cells = sum(len(r) for _, rows in tables.values() for r in rows)
    assert 0.005 <= len(found) / cells <= 0.02


def check_mistake(m: dict[str, Any], row: dict[str, Any], tables: dict[Tab, Any]) -> None:
    kind, value = m["kind"], m["value"]
    if kind == "date_text":
        assert isinstance(value, str)
        parsed = parse_date(value)
        if "typed" in m:
            assert parsed == m["typed"]
        patterns = {
            "ymd_slash": r"\d{4}/\d{1,2}/\d{1,2}",
            "roc_cjk": r"民國\d{3}年\d+月\d+日",
            "roc_slash": r"\d{3}/\d{1,2}/\d{1,2}",
            "ymd_cjk": r"\d{4}年\d+月\d+日",
        }
        assert re.fullmatch(patterns[m["format"]], value)
    elif kind == "money_text":
        assert isinstance(value, str)
        amount = parse_money(value)
        assert amount > 0
        if "typed" in m:
            assert amount == m["typed"]
        patterns = {
            "nt_dollar": r"NT\$[\d,]+",
            "yuan": r"[\d,]+元",
            "fullwidth": r"[０-９]+",
            "comma": r"\d{1,3}(,\d{3})+",
        }
        assert re.fullmatch(patterns[m["format"]], value), value
    elif kind == "bad_email":
        assert value == "amy.chen@gmail" and row["Name"] == "Amy Chen"
    elif kind == "unknown_stage":
        assert value == "Closing"
    elif kind == "bad_date":
        assert value == f"{AS_OF.year}/13/45"
    elif kind == "phone_letters":
        assert re.search(r"[A-Za-z]", value)
        assert re.fullmatch(r"[\dO()+\- #]+", value)
    elif kind == "blank_id":
        assert value is None
        assert row["ID"] is None
    elif kind == "dangling_ref":
        companies = {r["ID"] for r in records(tables, Tab.COMPANIES)}
        assert re.fullmatch(r"CO-\d{4}", value) and value not in companies
    elif kind == "duplicate_contact":
        other = next(r for r in records(tables, Tab.CONTACTS) if r["ID"] == m["duplicate_of"])
        assert other["Name"] == row["Name"] and other["Phone"] == row["Phone"]
        assert other["ID"] != row["ID"]
    elif kind == "duplicate_company":
        other = next(r for r in records(tables, Tab.COMPANIES) if r["ID"] == m["duplicate_of"])
        assert other["Name"] != row["Name"]
        assert _core(other["Name"]) == _core(row["Name"])
    else:  # pragma: no cover
        raise AssertionError(kind)


def test_blank_id_rows_are_not_referenced(en: dict[Tab, Any]) -> None:
    # Nothing can point at a row without an ID, so the blank ones are unreferenced and the
    # Activities blank rows are ordinary ones.
    for m in PLANTED_MISTAKES:
        if m["kind"] == "blank_id" and m["tab"] is not Tab.ACTIVITIES:
            row = en[m["tab"]][1][m["row"] - 2]
            assert row[demo.header_keys(m["tab"]).index("ID")] is None


def test_most_cells_are_clean(en: dict[Tab, Any]) -> None:
    dates = [r["Date"] for r in records(en, Tab.ACTIVITIES)]
    assert sum(isinstance(d, dt.date) for d in dates) / len(dates) > 0.9
    amounts = [r["Amount"] for r in records(en, Tab.ACTIVITIES) if r["Amount"] is not None]
    assert sum(isinstance(a, int | float) for a in amounts) / len(amounts) > 0.9
