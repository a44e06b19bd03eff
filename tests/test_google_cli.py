"""The CLI against the local Google Sheets fake, each run checked through the library or
the fake's state: init --google, validate, sync --backup, pull, usage errors, and the 403
and 404 messages.

Credentials are a fake service-account key whose token_uri is the fake's /token (the real
google-auth JWT flow runs against 127.0.0.1); SHEETCRM_SHEETS_API_URL sends every Sheets
and Drive call to the fake.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from openpyxl.utils import get_column_letter

import sheetcrm
from sheetcrm.cells.serial import SERIAL_EPOCH
from sheetcrm.cli import cli
from sheetcrm.google import http as sheetcrm_http
from sheetcrm.google.connect import ENV_API_URL
from sheetcrm.schema import TABS, ColumnType, Lang, Tab
from sheetcrm.settings import settings_rows
from tests.helpers import AS_OF, upload_xlsx, write_service_account_key

SA_EMAIL = "sheetcrm-cli@demo-project.iam.gserviceaccount.com"
ZH = Lang.ZH_TW


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated(loopback_only: None, google_env: Path, monkeypatch: pytest.MonkeyPatch, fake) -> Iterator[None]:
    """No real home directory, no credentials from the environment, Google API calls to
    the fake, no sleeping between retries, and no network beyond 127.0.0.1."""
    monkeypatch.setenv(ENV_API_URL, fake.url)
    monkeypatch.setitem(sheetcrm_http.DEFAULT_OPTIONS, "sleep", lambda _s: None)
    monkeypatch.setitem(sheetcrm_http.DEFAULT_OPTIONS, "timeout", (10.0, 120.0))
    yield


@pytest.fixture
def sa_json(fake, tmp_path: Path, pem: str) -> Path:
    return write_service_account_key(tmp_path / "sa.json", pem=pem, email=SA_EMAIL, token_uri=f"{fake.url}/token")


@pytest.fixture
def crm_key(fake, make_workbook, small_crm) -> str:
    key = upload_xlsx(fake, make_workbook(small_crm))
    fake.reset_counters()
    return key


def _url(key: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"


def _invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows with None as "", trailing empty cells and trailing empty rows dropped (the
    way the Sheets API returns values)."""
    out = []
    for row in rows:
        cells = ["" if v is None else v for v in row]
        while cells and cells[-1] == "":
            cells.pop()
        out.append(cells)
    while out and not out[-1]:
        out.pop()
    return out


def _xlsx_rows(path: Path) -> dict[str, list[list[Any]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: _trim([list(r) for r in ws.iter_rows(values_only=True)]) for ws in wb.worksheets}


def _as_serials(rows: list[list[Any]]) -> list[list[Any]]:
    """Dates and datetimes as Google serial numbers (days since 1899-12-30), rounded to
    the second."""

    def serial(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return round((v - SERIAL_EPOCH).total_seconds()) / 86400
        if isinstance(v, dt.date):
            return (v - SERIAL_EPOCH.date()).days
        if isinstance(v, float):
            return round(v * 86400) / 86400 if 1 < v < 2958466 and not v.is_integer() else v
        return v

    return [[serial(v) for v in row] for row in rows]


# --------------------------------------------------------------------------------------
# init --google
# --------------------------------------------------------------------------------------


def test_init_google_creates_the_whole_workbook_in_chinese(fake, sa_json: Path, google_client) -> None:
    result = _invoke(
        "init",
        "--google",
        "--credentials",
        str(sa_json),
        "--title",
        "T",
        "--share",
        "someone@example.com",
        "--lang",
        "zh-TW",
    )
    assert result.exit_code == 0, result.output
    found = re.search(r"https://docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]+)/edit", result.stdout)
    assert found and result.stdout.startswith(f"已建立 {found.group(0)}。")
    assert f"sheetcrm sync --spreadsheet {found.group(0)}" in result.stdout
    key = found.group(1)
    assert fake.spreadsheet_ids() == [key]
    assert fake.spreadsheet_resource(key)["properties"]["title"] == "T"

    # every tab, in schema order, with its Chinese title and headers and a frozen header
    assert fake.sheet_titles(key) == [spec.title(ZH) for spec in TABS.values()]
    for spec in TABS.values():
        title = spec.title(ZH)
        assert fake.get_values(key, title)[0] == [c.header(ZH) for c in spec.template_columns], title
        assert fake.sheet_properties(key, title)["gridProperties"]["frozenRowCount"] == 1, title

        # dropdowns on every people column with a closed vocabulary (or TRUE/FALSE), from row 2 down
        for i, col in enumerate(spec.template_columns):
            letter = get_column_letter(i + 1)
            rule = fake.data_validation(key, title, f"{letter}2")
            wants_dropdown = not col.computed and (col.enum is not None or col.type is ColumnType.BOOL)
            if not wants_dropdown:
                assert rule is None, (title, col.key)
                continue
            choices = col.enum.choices(ZH) if col.enum is not None else ["TRUE", "FALSE"]
            assert rule["condition"]["type"] == "ONE_OF_LIST", (title, col.key)
            assert [v["userEnteredValue"] for v in rule["condition"]["values"]] == choices
            assert rule.get("showCustomUi") is True
            assert fake.data_validation(key, title, f"{letter}900") == rule  # the whole column
            assert fake.data_validation(key, title, f"{letter}1") is None  # not the header

        # computed columns protected with a warning only (people may still type over them)
        protected = fake.protected_ranges(key, title)
        computed = [i for i, c in enumerate(spec.template_columns) if c.computed]
        assert sorted(p["range"]["startColumnIndex"] for p in protected) == computed, title
        for p in protected:
            assert p["warningOnly"] is True
            assert p["range"]["endColumnIndex"] == p["range"]["startColumnIndex"] + 1
            assert "startRowIndex" not in p["range"] or p["range"]["startRowIndex"] == 0
    assert any(fake.protected_ranges(key, TABS[Tab.CONTACTS].title(ZH)))

    # the default Settings, in Chinese
    settings = fake.get_values(key, TABS[Tab.SETTINGS].title(ZH))
    assert settings[1:] == _trim([list(r) for r in settings_rows(ZH)])

    # created through Drive, shared with the person as an editor, with a notification
    created = [r for r in fake.requests if r.endpoint == "drive.files.create"]
    assert len(created) == 1 and created[0].json["name"] == "T"
    assert created[0].json["mimeType"] == "application/vnd.google-apps.spreadsheet"
    shares = [r for r in fake.requests if r.endpoint == "drive.permissions.create"]
    assert len(shares) == 1 and shares[0].status == 200
    assert shares[0].path == f"/drive/v3/files/{key}/permissions"
    assert {k: shares[0].json[k] for k in ("type", "role", "emailAddress")} == {
        "type": "user",
        "role": "writer",
        "emailAddress": "someone@example.com",
    }
    assert shares[0].query.get("sendNotificationEmail", "").lower() == "true"

    # the library reads it back: clean, Chinese settings, every tab bound
    wb = sheetcrm.open(_url(key), client=google_client)
    assert wb.validate().empty
    assert str(wb.settings.language) == ZH
    assert set(wb.tables) >= {Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES, Tab.TEAM}
    assert all(len(wb.table(t)) == 0 for t in (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES))


def test_init_google_without_share_sends_no_permission_request(fake, sa_json: Path) -> None:
    result = _invoke("init", "--google", "--credentials", str(sa_json))
    assert result.exit_code == 0, result.output
    assert not [r for r in fake.requests if r.endpoint == "drive.permissions.create"]
    (key,) = fake.spreadsheet_ids()
    assert fake.spreadsheet_resource(key)["properties"]["title"] == "sheetcrm CRM"
    assert fake.sheet_titles(key) == [spec.title(Lang.EN) for spec in TABS.values()]


# --------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------


def test_validate_exit_codes_and_json_match_the_library(fake, sa_json: Path, crm_key: str, google_client) -> None:
    creds = ("--credentials", str(sa_json))
    clean = _invoke("validate", "--spreadsheet", _url(crm_key), *creds)
    assert clean.exit_code == 0, clean.output
    assert "No problems found." in clean.stdout
    assert all(r.method == "GET" or r.endpoint == "oauth2.token" for r in fake.requests), "validate only reads"

    # a person types a stage that does not exist and an activity date that is not a date
    opps = fake.get_values(crm_key, "Opportunities")
    acts = fake.get_values(crm_key, "Activities")
    stage = get_column_letter(opps[0].index("Stage") + 1)
    date = get_column_letter(acts[0].index("Date") + 1)
    fake.set_values(crm_key, "Opportunities", f"{stage}3", [["Maybe someday"]])
    fake.set_values(crm_key, "Activities", f"{date}2", [["next Tuesday"]])
    before = {t: fake.get_values(crm_key, t) for t in fake.sheet_titles(crm_key)}

    table = _invoke("validate", "--spreadsheet", _url(crm_key), *creds)
    assert table.exit_code == 1, table.output
    assert re.search(r"\d+ problem\(s\): \d+ error\(s\)", table.stderr)
    as_json = _invoke("validate", "--spreadsheet", crm_key, *creds, "--format", "json")
    assert as_json.exit_code == 1, as_json.output
    problems = json.loads(as_json.stdout)
    where = {(p["tab"], p["row"], p["column"]) for p in problems}
    assert {("Opportunities", 3, f"Stage ({stage})"), ("Activities", 2, f"Date ({date})")} <= where, where
    assert all(set(p) >= {"tab", "row", "id", "column", "value", "problem", "severity"} for p in problems)
    library = sheetcrm.open(_url(crm_key), client=google_client).validate()
    assert problems == json.loads(library.to_json(orient="records", force_ascii=False))
    errors_only = json.loads(
        _invoke("validate", "--spreadsheet", crm_key, *creds, "--format", "json", "--errors-only").stdout
    )
    assert errors_only == [p for p in problems if p["severity"] == "error"]
    assert {t: fake.get_values(crm_key, t) for t in fake.sheet_titles(crm_key)} == before


# --------------------------------------------------------------------------------------
# sync --backup
# --------------------------------------------------------------------------------------


def test_sync_backup_is_saved_before_writing_and_equals_the_sheet_as_read(
    fake, sa_json: Path, crm_key: str, google_client, tmp_path: Path
) -> None:
    # an earlier run filled the Log (Time is a datetime column), then a person adds a purchase
    sheetcrm.open(_url(crm_key), client=google_client).sync(as_of=AS_OF)
    acts = fake.get_values(crm_key, "Activities")
    header = acts[0]
    new: dict[str, object] = dict.fromkeys(header, "")
    new.update(
        {
            "ID": "A-00006",
            "Date": "2026-11-20",
            "Type": "Purchase",
            "Contact ID": "P-0002",
            "Company ID": "CO-0002",
            "Amount": 500,
            "Subject": "reorder",
        }
    )
    fake.set_values(crm_key, "Activities", f"A{len(acts) + 1}", [[new[h] for h in header]])
    as_read = {t: _trim(fake.get_values(crm_key, t)) for t in fake.sheet_titles(crm_key)}
    assert len(as_read["Log"]) > 1

    backups = tmp_path / "backups"
    at_write: list[list[Path]] = []

    def when_the_write_arrives(server, _number: int) -> None:
        if "updateCells" in server.requests[-1].batch_kinds:
            at_write.append(sorted(backups.glob("*.xlsx")))

    fake.between_requests(when_the_write_arrives)
    fake.reset_counters()
    result = _invoke(
        "sync",
        "--spreadsheet",
        crm_key,
        "--credentials",
        str(sa_json),
        "--as-of",
        AS_OF.isoformat(),
        "--backup",
        str(backups),
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"Cells written: [1-9]", result.stdout)
    assert "saved a copy to" in result.stderr

    saved = sorted(backups.glob("*.xlsx"))
    assert len(saved) == 1 and saved[0].name.startswith("sheetcrm-backup-")
    assert at_write == [saved], "the copy must exist before the write request"
    copy = _xlsx_rows(saved[0])
    assert list(copy) == [t for t in fake.sheet_titles(crm_key) if t in copy]
    assert set(copy) == set(as_read)
    for title, rows in as_read.items():
        assert _as_serials(copy[title]) == _as_serials(rows), title
    # the copy is the sheet before the write: the sync changed it since
    contacts = sheetcrm.open(_url(crm_key), client=google_client).table(Tab.CONTACTS).set_index("ID")
    assert contacts.loc["P-0002", "Monetary"] == 30500
    monetary = copy["Contacts"][0].index("Monetary")
    assert [r[0] for r in copy["Contacts"][1:]] == ["P-0001", "P-0002", "P-0003"]
    assert copy["Contacts"][2][monetary] == 30000
    assert _trim(fake.get_values(crm_key, "Log")) != as_read["Log"]


def test_sync_of_a_chinese_spreadsheet_speaks_chinese_from_its_first_line(
    fake, sa_json: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_i18n import _tea_shop

    for var in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    key = upload_xlsx(fake, _tea_shop(tmp_path / "shop.xlsx"))
    fake.reset_counters()
    result = _invoke("sync", "--spreadsheet", key, "--credentials", str(sa_json), "--dry-run", "--as-of", "2026-11-30")
    assert result.exit_code == 0, result.output
    progress = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert progress[0].startswith("讀取 ") and progress[1] == "解析每個儲存格...", progress
    # The tab names came from the metadata request the read needs anyway: no extra request.
    sheets = [r.endpoint for r in fake.requests if r.endpoint != "oauth2.token"]
    assert sheets == ["spreadsheets.get", "values.batchGet"], sheets


# --------------------------------------------------------------------------------------
# pull
# --------------------------------------------------------------------------------------


def test_pull_saves_tabs_headers_values_and_dates_as_dates(
    fake, sa_json: Path, crm_key: str, google_client, tmp_path: Path
) -> None:
    sheetcrm.open(_url(crm_key), client=google_client).sync(as_of=AS_OF)
    before = {t: fake.get_values(crm_key, t) for t in fake.sheet_titles(crm_key)}
    target = tmp_path / "copy.xlsx"
    fake.reset_counters()
    result = _invoke("pull", "--spreadsheet", _url(crm_key), "--credentials", str(sa_json), "--to", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Saved {target}"
    assert all(r.method == "GET" for r in fake.requests if r.endpoint != "oauth2.token")
    assert {t: fake.get_values(crm_key, t) for t in fake.sheet_titles(crm_key)} == before

    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == fake.sheet_titles(crm_key)
    copy = _xlsx_rows(target)
    for title in wb.sheetnames:
        sheet = _trim(before[title])
        assert copy[title][0] == sheet[0], title  # headers
        assert _as_serials(copy[title]) == _as_serials(sheet), title  # values
        assert all(cell.font.bold for cell in wb[title][1] if cell.value is not None)
        assert wb[title].freeze_panes == "A2"

    # dates as dates, in every date column
    acts = wb["Activities"]
    date_col = [c.value for c in acts[1]].index("Date") + 1
    first = acts.cell(row=2, column=date_col)
    assert isinstance(first.value, dt.datetime) and first.value.date() == dt.date(2026, 10, 5)
    assert first.number_format == "yyyy-mm-dd"
    assert all(isinstance(acts.cell(row=r, column=date_col).value, dt.datetime) for r in range(2, acts.max_row + 1))
    opps = wb["Opportunities"]
    close = [c.value for c in opps[1]].index("Expected Close") + 1
    assert opps.cell(row=2, column=close).value == dt.datetime(2026, 12, 31)
    log = wb["Log"]
    time_col = [c.value for c in log[1]].index("Time") + 1
    assert isinstance(log.cell(row=2, column=time_col).value, dt.datetime)
    # text that merely looks like a number or a date stays as it was
    contacts = wb["Contacts"]
    phone = [c.value for c in contacts[1]].index("Phone") + 1
    assert contacts.cell(row=2, column=phone).value == "0912-345-678"

    # the library reads the copy exactly as it reads the spreadsheet
    local = sheetcrm.open(target)
    remote = sheetcrm.open(_url(crm_key), client=google_client)
    for tab in (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES, Tab.TEAM):
        pd.testing.assert_frame_equal(local.table(tab), remote.table(tab), check_dtype=False, obj=str(tab))


def test_pull_to_a_folder_makes_a_timestamped_copy(sa_json: Path, crm_key: str, tmp_path: Path) -> None:
    result = _invoke("pull", "--spreadsheet", crm_key, "--credentials", str(sa_json), "--to", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    (saved,) = (tmp_path / "out").glob("sheetcrm-backup-*.xlsx")
    assert result.stdout.strip() == f"Saved {saved}"


# --------------------------------------------------------------------------------------
# usage errors, 403 and 404
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["validate"], ["sync"], ["pull", "--to", "copy.xlsx"]])
@pytest.mark.parametrize("given", ["both", "neither", "PATH and SHEETCRM_SPREADSHEET"])
def test_path_and_spreadsheet_together_or_neither_is_a_usage_error(
    fake, sa_json: Path, crm_key: str, tmp_path: Path, monkeypatch, command: list[str], given: str
) -> None:
    monkeypatch.chdir(tmp_path)
    local = tmp_path / "local.xlsx"
    args = [*command, "--credentials", str(sa_json)]
    env: dict[str, str] = {}
    if given == "both":
        args += [str(local), "--spreadsheet", _url(crm_key)]
    elif given == "PATH and SHEETCRM_SPREADSHEET":
        args += [str(local)]
        env["SHEETCRM_SPREADSHEET"] = _url(crm_key)
    result = _invoke(*args, env=env)
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.stderr
    assert "give either PATH (a local .xlsx) or --spreadsheet KEY_OR_URL" in result.stderr
    assert "Traceback" not in result.output
    assert fake.request_count == 0
    assert not (tmp_path / "copy.xlsx").exists()


def test_spreadsheet_from_the_environment_alone_is_enough(sa_json: Path, crm_key: str) -> None:
    result = _invoke("validate", "--credentials", str(sa_json), env={"SHEETCRM_SPREADSHEET": _url(crm_key)})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", [["validate"], ["sync", "-q"], ["pull", "--to", "copy.xlsx"]])
def test_403_names_the_service_account_and_says_to_share(
    fake, sa_json: Path, crm_key: str, tmp_path: Path, monkeypatch, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    fake.make_private(crm_key)
    result = _invoke(*command, "--spreadsheet", _url(crm_key), "--credentials", str(sa_json))
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: no permission to open spreadsheet")
    assert crm_key in line
    assert f"share the spreadsheet with {SA_EMAIL}" in line and "Editor" in line
    assert "Traceback" not in result.output
    assert not (tmp_path / "copy.xlsx").exists()


@pytest.mark.parametrize("command", [["validate"], ["sync", "-q"], ["pull", "--to", "copy.xlsx"]])
def test_404_says_to_check_the_key_or_url(fake, sa_json: Path, tmp_path: Path, monkeypatch, command: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    missing = "1NoSuchSpreadsheet0000000000000000000000000"
    result = _invoke(*command, "--spreadsheet", _url(missing), "--credentials", str(sa_json))
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and missing in line
    assert "check the key or URL" in line
    assert "Traceback" not in result.output
    assert [r.status for r in fake.requests if r.endpoint == "spreadsheets.get"] == [404]


def test_a_deleted_spreadsheet_is_a_404_too(fake, sa_json: Path, crm_key: str) -> None:
    fake.delete_spreadsheet(crm_key)
    result = _invoke("sync", "-q", "--spreadsheet", crm_key, "--credentials", str(sa_json))
    assert result.exit_code == 2 and "check the key or URL" in result.stderr
