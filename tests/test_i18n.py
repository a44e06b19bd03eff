"""The message catalog: every message has both languages, the compiled catalog is current,
and the language spoken follows the workbook, the locale and --lang."""

from __future__ import annotations

import gettext
import re
import string

import pytest
from babel.messages.mofile import read_mo

import sheetcrm
from sheetcrm.cells.parse import CellParseError, parse_date, parse_email, parse_enum, parse_money, parse_phone
from sheetcrm.cells.wording import parse_problem
from sheetcrm.cli import output_lang
from sheetcrm.i18n import LOCALE_DIR, locale_language, tools, tr, translations
from sheetcrm.schema import Stage, Tab


@pytest.fixture(scope="module")
def catalog():
    return tools.merged("zh-TW")


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_message_in_the_code_has_a_chinese_translation(catalog) -> None:
    assert tools.untranslated(catalog) == [], "run python -m sheetcrm.i18n.tools and translate"
    assert len([m for m in catalog if m.id]) > 50


def test_translations_keep_every_placeholder(catalog) -> None:
    for message in catalog:
        if message.id:
            assert _fields(message.string) == _fields(message.id), message.id


def test_the_shipped_po_and_mo_are_current(catalog) -> None:
    po = tools.po_path("zh-TW")
    assert po.read_bytes() == tools.po_bytes(catalog), "run python -m sheetcrm.i18n.tools"
    with po.with_suffix(".mo").open("rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    assert compiled == {m.id: m.string for m in catalog if m.id}


def test_the_catalog_sits_inside_the_package() -> None:
    # The wheel ships the package folder, so the catalog must live in it.
    assert (LOCALE_DIR / "zh_TW" / "LC_MESSAGES" / "sheetcrm.mo").is_file()
    assert isinstance(translations("zh-TW"), gettext.GNUTranslations)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "matched 台灣好物 by name (CO-0001)"),
        ("zh-TW", "依名稱比對到 台灣好物（CO-0001）"),
    ],
)
def test_tr_translates_then_fills(lang: str, expected: str) -> None:
    how = tr(lang, "name")
    assert tr(lang, "matched {text} by {how} ({id})", text="台灣好物", how=how, id="CO-0001") == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "zh_TW.UTF-8"}, "zh-TW"),
        ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh-TW"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_TW.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
    ],
)
def test_locale_language(env: dict[str, str], expected: str) -> None:
    assert locale_language(env) == expected


@pytest.mark.parametrize(
    ("chosen", "workbook", "locale", "expected"),
    [
        (None, "zh-TW", "C", "zh-TW"),
        (None, "en", "zh_TW.UTF-8", "zh-TW"),
        (None, "en", "C", "en"),
        ("en", "zh-TW", "zh_TW.UTF-8", "en"),
        ("zh-TW", "en", "C", "zh-TW"),
    ],
)
def test_the_cli_speaks_the_workbooks_or_the_locales_language(monkeypatch, chosen, workbook, locale, expected) -> None:
    for key in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LANG", locale)
    assert output_lang(chosen, workbook) == expected


def test_chinese_text_has_no_english_words_left(catalog) -> None:
    for message in catalog:
        if message.id and message.string:
            # Examples of what people may type (true/false, name@example.com) stay as typed.
            examples = set(re.findall(r"[A-Za-z]+", re.split(r" like |\(or ", message.id, maxsplit=1)[-1]))
            text = re.sub(r"\{\w+\}", "", message.string)
            # What a person types or looks up as written stays English: commands (gh ..., in
            # backticks), paths and the English docs' section titles (in 〈〉).
            text = re.sub(r"`[^`]*`|〈[^〉]*〉|\bgh [^，。（]*|[\w.-]*[/.][\w/.-]+|Actions →[^）]*", "", text)
            names = {"sheetcrm", "sync", "RFM", "plan", "csv", "GitHub", "Actions", "JSON", "NESL"}
            words = set(re.findall(r"[A-Za-z]{3,}", text)) - examples - names
            assert not words, (message.id, words)


@pytest.mark.parametrize(
    ("parser", "value", "expected"),
    [
        (parse_date, "3月5日", "'3月5日' 不是有效的日期（沒有年份；會被讀成今年的"),
        (parse_money, "abc", "'abc' 不是有效的金額；應為金額，例如"),
        (parse_phone, "call me", "'call me' 不是有效的電話號碼（含有字母）"),
        (parse_email, "a@", "'a@' 不是有效的電子郵件地址（@ 後面沒有內容）"),
        (parse_email, "amy@gmail", "'amy@gmail' 不是有效的電子郵件地址（網域 'gmail' 沒有點，應像 example.com）"),
        (lambda v: parse_enum(v, Stage), "Closing", "'Closing' 不是有效的階段；應為下列之一：潛在, 確認需求"),
    ],
)
def test_cells_that_do_not_parse_are_told_in_chinese(parser, value: str, expected: str) -> None:
    with pytest.raises(CellParseError) as err:
        parser(value)
    assert parse_problem(str(err.value), "zh-TW").startswith(expected)
    assert parse_problem(str(err.value), "en") == str(err.value)


def test_cell_problems_are_worded_in_the_language_asked_not_the_workbooks(make_workbook, small_crm) -> None:
    small_crm[Tab.CONTACTS][0]["Phone"] = "call me"
    workbook = sheetcrm.open(make_workbook(small_crm))
    problems = {
        lang: workbook.validate(lang).query("column.str.startswith('Phone')")["problem"] for lang in ("en", "zh-TW")
    }
    assert problems["en"].iloc[0].startswith("'call me' is not a phone number (it contains letters)")
    assert problems["zh-TW"].iloc[0].startswith("'call me' 不是有效的電話號碼（含有字母）")


@pytest.mark.parametrize(
    ("key", "value", "en", "zh"),
    [
        (
            "rfm.lookback_months",
            "soon",
            "setting 'rfm.lookback_months': 'soon' cannot be used; expected a whole number of months; "
            "using the default '12'",
            "設定 'rfm.lookback_months'：'soon' 無法使用；應為月數（整數）；改用預設值 '12'",
        ),
        (
            "rfm.lookback_months",
            "-2",
            "setting 'rfm.lookback_months': '-2' is not positive; expected a whole number of months; "
            "using the default '12'",
            "設定 'rfm.lookback_months'：'-2' 不是正數；應為月數（整數）；改用預設值 '12'",
        ),
        (
            "language",
            "klingon",
            "setting 'language': unknown language 'klingon'; expected en or zh-TW; using the default 'en'",
            "設定 'language'：不認得的語言 'klingon'；應為en 或 zh-TW；改用預設值 'en'",
        ),
    ],
)
def test_settings_problems_are_worded_in_the_language_asked(make_workbook, small_crm, key, value, en, zh) -> None:
    small_crm[Tab.SETTINGS] = [{"Key": key, "Value": value}]
    workbook = sheetcrm.open(make_workbook(small_crm))
    told = {
        lang: workbook.validate(lang).query("tab == 'Settings' and column == 'Value'")["problem"].tolist()
        for lang in ("en", "zh-TW")
    }
    assert told == {"en": [en], "zh-TW": [zh]}


def test_link_problems_are_worded_in_the_language_asked_not_the_workbooks(make_workbook, small_crm) -> None:
    small_crm[Tab.CONTACTS][1]["Company ID"] = "Harbor Logistics Ltd."
    small_crm[Tab.CONTACTS][0]["Company ID"] = "Nowhere Trading"
    workbook = sheetcrm.open(make_workbook(small_crm))
    told = {
        lang: workbook.validate(lang)
        .query("tab == 'Contacts' and column.str.startswith('Company')")["problem"]
        .tolist()
        for lang in ("en", "zh-TW")
    }
    assert told["en"] == [
        "Nowhere Trading matches no ID or name in the Companies tab; expected the ID or name of an existing one",
        "matched Harbor Logistics Ltd. by name (CO-0002)",
    ]
    assert told["zh-TW"][1] == "依名稱比對到 Harbor Logistics Ltd.（CO-0002）"
    assert told["zh-TW"][0].startswith("Nowhere Trading") and "Companies" in told["zh-TW"][0]
    assert told["zh-TW"][0] != told["en"][0]
