from __future__ import annotations

import pytest

from sheetcrm.exceptions import SchemaError
from sheetcrm.schema import (
    CONTACTS,
    NESL,
    OPPORTUNITIES,
    TABS,
    ActivityType,
    ContactRole,
    LabeledEnum,
    Lang,
    Lifecycle,
    Owner,
    Segment,
    Stage,
    Tab,
    Tier,
    find_tabs,
    match_headers,
    normalize_label,
)

VOCABULARIES = [Tab, Stage, ActivityType, ContactRole, NESL, Segment, Tier, Lifecycle]


@pytest.mark.parametrize(
    "a,b",
    [
        ("Company ID", "company id"),
        ("Company ID", "  COMPANY   ID "),
        ("Company ID", "Ｃｏｍｐａｎｙ　ＩＤ"),
        ("公司編號", " 公司 編號 "),
        ("Opt-out", "opt out"),
        ("Next Step Due", "next_step_due"),
    ],
)
def test_normalize_label_folds_case_space_and_width(a: str, b: str) -> None:
    assert normalize_label(a) == normalize_label(b)


@pytest.mark.parametrize("enum", VOCABULARIES)
def test_every_label_and_alias_parses_back_to_its_member(enum: type[LabeledEnum]) -> None:
    for member in enum:
        for text in (member.value, member.zh, *member.aliases):
            assert enum.parse(text) is member, text
            assert enum.parse(f" {text.upper()} ") is member


@pytest.mark.parametrize("enum", VOCABULARIES)
def test_no_label_means_two_members(enum: type[LabeledEnum]) -> None:
    seen: dict[str, LabeledEnum] = {}
    for member in enum:
        for text in {normalize_label(t) for t in (member.value, member.zh, *member.aliases)}:
            assert seen.setdefault(text, member) is member, f"{text!r} is ambiguous in {enum.__name__}"


@pytest.mark.parametrize("spec", list(TABS.values()), ids=lambda s: s.tab.value)
def test_no_header_label_is_ambiguous_within_a_tab(spec) -> None:
    seen: dict[str, str] = {}
    for col in spec.columns:
        for label in {normalize_label(x) for x in col.labels()}:
            assert seen.setdefault(label, col.key) == col.key, f"{label!r} in {spec.tab.value}"


def test_stage_and_id_are_the_only_shared_columns() -> None:
    shared = {(s.tab, c.key) for s in TABS.values() for c in s.columns if c.owner is Owner.SHARED}
    assert {k for _, k in shared} == {"ID", "Stage"}


@pytest.mark.parametrize("lang", list(Lang))
def test_headers_in_either_language_match(lang: Lang) -> None:
    header = [c.header(lang) for c in CONTACTS.columns]
    hm = match_headers(CONTACTS, header)
    assert hm.positions == {c.key: i for i, c in enumerate(CONTACTS.columns)}
    assert hm.extras == () and hm.missing == ()


def test_reordered_mixed_language_and_extra_columns() -> None:
    header = ["My notes", "姓名", None, "ｅｍａｉｌ", "ID", "公司編號", "Birthday"]
    hm = match_headers(CONTACTS, header)
    assert hm.positions == {"Name": 1, "Email": 3, "ID": 4, "Company ID": 5}
    assert hm.extras == (0, 6)
    assert "Phone" in hm.missing


def test_duplicate_header_names_both_columns() -> None:
    with pytest.raises(SchemaError) as err:
        match_headers(CONTACTS, ["ID", "Name", "Email", "電子郵件"])
    msg = str(err.value)
    assert "C ('Email')" in msg and "D ('電子郵件')" in msg and "Contacts" in msg


def test_missing_required_column_names_the_tab() -> None:
    with pytest.raises(SchemaError, match=r"tab 'Opportunities'.*'Name' \(or '機會名稱'\)"):
        match_headers(OPPORTUNITIES, ["ID", "Stage", "Amount"])


def test_a_missing_id_column_is_no_error_sync_adds_it() -> None:
    headers = match_headers(CONTACTS, ["Name", "Email"])
    assert "ID" in headers.missing and headers.positions == {"Name": 0, "Email": 1}


@pytest.mark.parametrize(
    "titles,expected",
    [
        (["Companies", "Contacts"], {Tab.COMPANIES: "Companies", Tab.CONTACTS: "Contacts"}),
        (
            ["公司", "連絡人", "機會", "活動紀錄"],
            {Tab.COMPANIES: "公司", Tab.CONTACTS: "連絡人", Tab.OPPORTUNITIES: "機會", Tab.ACTIVITIES: "活動紀錄"},
        ),
        (["Companies 公司", "Sheet1", "notes"], {Tab.COMPANIES: "Companies 公司"}),
    ],
)
def test_find_tabs(titles: list[str], expected: dict[Tab, str]) -> None:
    assert find_tabs(titles) == expected


def test_two_worksheets_claiming_one_tab() -> None:
    with pytest.raises(SchemaError, match="both look like the Companies tab"):
        find_tabs(["Companies", "公司"])
