"""The message catalog: every message has both languages, the compiled catalog is current,
and the language spoken follows the workbook, the locale and --lang."""

from __future__ import annotations

import gettext
import re
import string
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.mofile import read_mo
from click.testing import CliRunner

import sheetcrm
from sheetcrm.automation.workflows import WorkflowOptions
from sheetcrm.backends.gsheets import spreadsheet_key
from sheetcrm.cells.parse import CellParseError, parse_date, parse_email, parse_enum, parse_money, parse_phone
from sheetcrm.cells.wording import parse_problem
from sheetcrm.cli import cli, output_lang
from sheetcrm.exceptions import SheetCRMError
from sheetcrm.google.auth import load_credentials
from sheetcrm.i18n import LOCALE_DIR, locale_language, tools, tr, translations
from sheetcrm.report.run import monthly_report
from sheetcrm.schema import TABS, Lang, Stage, Tab, match_headers
from sheetcrm.team.leads import lead_frame, read_lead_file
from sheetcrm.template import init_workbook


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
            names = {"sheetcrm", "sync", "RFM", "plan", "csv", "GitHub", "Actions", "JSON", "NESL", "API"}
            words = set(re.findall(r"[A-Za-z]{3,}", text)) - examples - names
            assert not words, (message.id, words)


@pytest.mark.parametrize(
    ("parser", "value", "expected"),
    [
        (parse_date, "3月5日", "'3月5日' 不是有效的日期（沒有年份，因此不採用；請加上年份，最近的這一天是"),
        (parse_money, "abc", "'abc' 不是有效的金額；應為金額，例如"),
        (parse_phone, "call me", "'call me' 不是有效的電話號碼（含有字母）"),
        (parse_phone, "12345", "'12345' 不是有效的電話號碼（只有 5 位數字；電話號碼應有 7 到 15 位）"),
        (parse_date, "2027年2月", "'2027年2月' 不是有效的日期（只有月份沒有日；請加上日，例如 2026年3月5日）"),
        (parse_email, "a@", "'a@' 不是有效的電子郵件地址（@ 後面沒有內容）"),
        (parse_email, "amy@gmail", "'amy@gmail' 不是有效的電子郵件地址（網域 'gmail' 沒有點，應像 example.com）"),
        (
            parse_email,
            "amy@gmail,com",
            "'amy@gmail,com' 不是有效的電子郵件地址（網域 'gmail,com' 該用點的地方用了逗號，應像 example.com）",
        ),
        (
            lambda v: parse_enum(v, Stage),
            "Closing",
            "'Closing' 不是有效的階段（自己慣用的說法可以寫進設定的 synonyms.stage，例如 簽約中=Negotiation）；"
            "應為下列之一：潛在",
        ),
        (parse_date, "2026/13/45", "'2026/13/45' 不是有效的日期（沒有 13 月）；應為日期"),
        (parse_date, "2026-02-30", "'2026-02-30' 不是有效的日期（2026 年 02 月沒有 30 日）；應為日期"),
        (parse_date, "3000-01-01", "'3000-01-01' 不是有效的日期（3000 年不在 1900–2200 之間）；應為日期"),
        (
            parse_date,
            "13/5/2026",
            "'13/5/2026' 不是有效的日期（沒有 13 月；目前先讀月再讀日：如果您的日期是日在前（13/5 是 5 月 13 日），"
            "請在設定中把 dates.day_first 設為 true）",
        ),
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
        lang: workbook.validate(lang).query("tab == 'Settings' and column.str.startswith('Value')")["problem"].tolist()
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


def _file(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(b"not a workbook")
    return path


@pytest.mark.parametrize(
    ("fail", "en", "zh"),
    [
        (
            lambda d: sheetcrm.open(d / "missing.xlsx"),
            "no workbook at {p}; check the path, or create one with 'sheetcrm init PATH' or 'sheetcrm demo PATH'",
            "找不到活頁簿 {p}；請檢查路徑，或用 'sheetcrm init PATH' 或 'sheetcrm demo PATH' 建立一個",
        ),
        (lambda d: sheetcrm.open(d), "{p} is a folder; expected an .xlsx file", "{p} 是資料夾；應為 .xlsx 檔案"),
        (
            lambda d: sheetcrm.open(_file(d, "old.xls")),
            "{p} is not an .xlsx workbook; save it as Excel Workbook (.xlsx) first",
            "{p} 不是 .xlsx 活頁簿；請先另存為「Excel 活頁簿 (.xlsx)」",
        ),
        (
            lambda d: read_lead_file(_file(d, "leads.pdf")),
            "{p} is not a .csv or .xlsx file; save the lead list as CSV or Excel",
            "{p} 不是 .csv 或 .xlsx 檔案；請把名單存成 CSV 或 Excel 檔",
        ),
        (
            lambda d: lead_frame(pd.DataFrame({"手機": ["0912"]}), {"手機": "Nope"}),
            "--map 手機=Nope: 'Nope' is not a lead column; use one of ",
            "--map 手機=Nope：'Nope' 不是名單的欄位；請用下列之一：",
        ),
        (
            lambda d: monthly_report(init_workbook(d / "crm.xlsx"), month="October"),
            "'October' is not a month; write it like 2026-10",
            "'October' 不是月份；請寫成 2026-10 這樣",
        ),
        (
            lambda d: WorkflowOptions(every="7x"),
            "--every '7x' is not an interval a schedule can keep; use one of ",
            "--every '7x' 不是排程能維持的間隔；請用下列之一：",
        ),
        (
            lambda d: load_credentials(d / "key.json", env={}),
            "credentials file {p} does not exist; set SHEETCRM_CREDENTIALS_JSON to the key's JSON, "
            "or pass --credentials FILE; see README",
            "憑證檔案 {p} 不存在；請把金鑰的 JSON 設定到 SHEETCRM_CREDENTIALS_JSON，"
            "或用 --credentials FILE 指定；詳見 README",
        ),
        (
            lambda d: match_headers(TABS[Tab.CONTACTS], ["Email", "電子郵件"], title="Contacts"),
            "tab 'Contacts', row 1: columns A ('Email') and B ('電子郵件') both mean 'Email'; rename or delete one "
            "of them; required column 'Name' (or '姓名') is missing from the header row; add it",
            "分頁 'Contacts', 列 1: A 欄（'Email'）與 B 欄（'電子郵件'）都代表 'Email'；請將其中一欄改名或刪除；"
            "標題列缺少必要欄位 'Name'（或 '姓名'）；請加上",
        ),
        (
            lambda d: spreadsheet_key("my crm"),
            "'my crm' is neither a Google Sheets URL nor a spreadsheet key; copy the URL",
            "'my crm' 既不是 Google 試算表的網址，也不是試算表金鑰；請從瀏覽器的網址列複製網址",
        ),
    ],
    ids=[
        "missing",
        "folder",
        "xls",
        "lead-pdf",
        "lead-map",
        "month",
        "workflow-every",
        "credentials",
        "header",
        "google-key",
    ],
)
def test_library_errors_are_told_in_both_languages(tmp_path: Path, fail, en: str, zh: str) -> None:
    with pytest.raises(SheetCRMError) as err:
        fail(tmp_path)
    # The path (the error's own, so a folder, file or key is named as the code names it).
    quoted = re.search(r"'/[^']*'", str(err.value))
    fields = {"p": quoted.group(0) if quoted else ""}
    assert str(err.value).startswith(en.format(**fields))
    assert err.value.in_language("zh-TW").startswith(zh.format(**fields))
    assert err.value.in_language("en") == str(err.value)


def test_the_cli_says_a_missing_workbook_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "missing.xlsx"
    result = CliRunner().invoke(cli, ["validate", str(path), "--lang", "zh-TW"])
    assert result.exit_code == 2
    assert f"錯誤：找不到活頁簿 {str(path)!r}；請檢查路徑" in result.output
    assert "no workbook" not in result.output


def test_a_key_pasted_for_a_path_is_echoed_in_neither_language(tmp_path: Path) -> None:
    pasted = '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANsecret"}'
    with pytest.raises(SheetCRMError) as err:
        load_credentials(pasted, env={})
    told = {lang: err.value.in_language(lang) for lang in ("en", "zh-TW")}
    assert told["en"].startswith("credentials file (the text given, not shown: it looks like a key's contents")
    assert told["zh-TW"].startswith("憑證檔案 （所給的文字不予顯示：它看起來是金鑰的內容")
    assert not any("MIIE" in text or "PRIVATE" in text for text in told.values())


def test_a_syncs_progress_lines_speak_the_workbooks_language(make_workbook, small_crm) -> None:
    path = make_workbook(small_crm, Lang.ZH_TW)
    got = CliRunner().invoke(cli, ["sync", str(path), "--as-of", "2026-11-30"], env={"LANG": "en_US.UTF-8"})
    assert got.exit_code in (0, 1), got.output
    # Once the workbook is read its language is known: every later step is told in it.
    for line in ("檢查每一列...", "為連絡人評分...", "寫入分頁 '連絡人'..."):
        assert line in got.stderr
    assert "writing" not in got.stderr and "scoring" not in got.stderr
    english = CliRunner().invoke(cli, ["sync", str(path), "--as-of", "2026-11-30", "--lang", "en"])
    assert "scoring contacts..." in english.stderr


def test_a_chinese_workbook_that_cannot_be_bound_is_told_so_in_chinese(monkeypatch, tmp_path) -> None:
    from click.testing import CliRunner

    from sheetcrm.cli import cli
    from tests.helpers import save_sheets

    for key in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")  # the locale would say English
    path = save_sheets(
        tmp_path / "shop.xlsx",
        {"公司": [["公司名稱"]], "連絡人": [["姓名"]], "商機": [["金額"]]},  # no activities; deals without names
    )
    got = CliRunner().invoke(cli, ["sync", str(path), "-q"])
    assert got.exit_code != 0
    # Both at once, in Chinese: the missing tab and the other tab's layout problem.
    assert "錯誤：活頁簿沒有 活動紀錄 分頁" in got.output and "機會名稱" in got.output, got.output


def _tea_shop(path):
    import datetime as dt

    from tests.helpers import save_sheets

    return save_sheets(
        path,
        {
            "公司": [["公司名稱"], ["春水茶坊"]],
            "客戶名單": [["姓名", "公司", "手機"], ["吳佩珊", "春水茶坊", "0912-345-678"]],
            "商機": [
                ["案名", "客戶", "階段", "金額", "預計成交"],
                ["禮盒", "吳佩珊", "提案", 3000, dt.datetime(2026, 12, 5)],
            ],
            "交易紀錄": [["日期", "類型", "客戶", "金額"], [dt.datetime(2026, 11, 2), "訂單", "吳佩珊", 1200]],
        },
    )


def test_a_shop_named_its_own_way_is_spoken_to_in_its_words(monkeypatch, tmp_path) -> None:
    from click.testing import CliRunner

    from sheetcrm.cli import cli

    for key in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    path = _tea_shop(tmp_path / "shop.xlsx")
    runner = CliRunner()
    dry = runner.invoke(cli, ["sync", str(path), "--dry-run", "-q", "--as-of", "2026-11-30"])
    assert dry.exit_code == 0, dry.output
    first = dry.output.splitlines()[1].split()
    assert first[3:] == ["編號", "CO-0001", "補上編號"]  # the column by its header, the kind in words
    assert "客戶名單 1 筆" in dry.output and "交易紀錄 1 筆" in dry.output  # the tabs as the shop names them
    english = runner.invoke(cli, ["sync", str(path), "--dry-run", "-q", "--as-of", "2026-11-30", "--lang", "en"])
    notices = [line for line in english.output.splitlines() if line.startswith(("Contacts:", "Companies:"))]
    assert notices and all(line.isascii() for line in notices), english.output
    assert "Read 1 companies, 1 客戶名單" in english.output
    inspected = runner.invoke(cli, ["inspect", str(path)])
    assert "已辨識" in inspected.output and "recognised" not in inspected.output
    forecast = runner.invoke(cli, ["forecast", str(path), "--as-of", "2026-11-30", "--lang", "en"])
    assert forecast.exit_code == 0 and "Deals won" in forecast.output, forecast.output
    assign = runner.invoke(cli, ["assign", str(path), "--dry-run"])
    assert assign.exit_code != 0 and "活頁簿沒有團隊分頁" in assign.output, assign.output


def test_sync_speaks_a_chinese_workbooks_language_from_its_first_line(monkeypatch, tmp_path) -> None:
    from click.testing import CliRunner

    from sheetcrm.cli import cli

    for key in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    path = _tea_shop(tmp_path / "shop.xlsx")
    got = CliRunner().invoke(cli, ["sync", str(path), "--dry-run", "--as-of", "2026-11-30"])
    progress = [line.strip() for line in got.stderr.splitlines() if line.startswith("  ")]
    assert progress[:2] == [f"讀取 '{path}'...", "解析每個儲存格..."], progress
