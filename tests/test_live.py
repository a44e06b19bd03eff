"""The main flows against a real Google spreadsheet (``pytest -m live``).

Skipped unless these are set:

* ``SHEETCRM_LIVE_SPREADSHEET``: the key or URL of a *scratch* spreadsheet, shared with
  the account below as Editor. Its content is replaced: every test first writes the small
  CRM of ``tests/conftest.py`` into it (tabs added, other tabs deleted, values cleared);
* ``SHEETCRM_CREDENTIALS_JSON`` (the key's JSON inline) or ``SHEETCRM_CREDENTIALS`` (a
  path): a service-account key or authorized-user JSON, resolved by
  ``sheetcrm.google.auth.load_credentials`` as every command resolves it;
* ``SHEETCRM_LIVE_CREATE=1`` (optional): also run ``sheetcrm init --google``, which
  creates a new spreadsheet in the account's Drive (needs the drive.file scope) and
  deletes it afterwards.

The flows are the ones tests/test_cassettes.py replays: validate, sync (twice: the second
plans nothing), pull, init. ``SHEETCRM_SHEETS_API_URL`` sends the traffic to another
server instead (a local ``FakeSheetsServer``), as for every command.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

import sheetcrm
from sheetcrm.backends.backup import pull
from sheetcrm.backends.gsheets import spreadsheet_key
from sheetcrm.cli import cli
from sheetcrm.google.connect import connect
from sheetcrm.schema import Lang, Tab
from sheetcrm.template import init_workbook
from sheetcrm.workbook import open_backend
from tests.helpers import AS_OF
from tests.test_cassettes import MISTAKES, live_create, live_settings, put_rows, workbook_rows

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        live_settings() is None,
        reason="live Google Sheets tests need SHEETCRM_LIVE_SPREADSHEET (key or URL of a scratch "
        "spreadsheet; its content is replaced) and credentials in SHEETCRM_CREDENTIALS_JSON "
        "or SHEETCRM_CREDENTIALS",
    ),
]


@pytest.fixture(scope="module")
def live() -> tuple[Any, Any, str]:
    """(gspread client, credentials, spreadsheet key) of the scratch spreadsheet."""
    settings = live_settings()
    assert settings is not None
    client, credentials = connect(create=live_create())
    return client, credentials, spreadsheet_key(settings[0])


@pytest.fixture
def crm_xlsx(make_workbook: Callable[..., Path], small_crm: Any) -> Path:
    return make_workbook(small_crm, name="crm.xlsx")


@pytest.fixture
def messy_xlsx(make_workbook: Callable[..., Path], small_crm: Any) -> Path:
    for tab, index, column, value in MISTAKES:
        small_crm[tab][index][column] = value
    return make_workbook(small_crm, name="messy.xlsx")


def _upload(live: tuple[Any, Any, str], path: Path) -> str:
    """Write the workbook at ``path`` into the scratch spreadsheet; returns its URL."""
    client, _creds, key = live
    put_rows(client, key, workbook_rows(path))
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"


def test_live_validate(live: tuple[Any, Any, str], messy_xlsx: Path) -> None:
    problems = sheetcrm.open(_upload(live, messy_xlsx), client=live[0]).validate()
    assert len(problems) >= len(MISTAKES)
    expected = sheetcrm.open(messy_xlsx).validate()
    pd.testing.assert_frame_equal(problems.reset_index(drop=True), expected.reset_index(drop=True))


def test_live_sync_twice(live: tuple[Any, Any, str], crm_xlsx: Path, tmp_path: Path) -> None:
    client = live[0]
    live_url = _upload(live, crm_xlsx)
    first = sheetcrm.open(live_url, client=client).sync(as_of=AS_OF)
    assert first.report is not None and not first.report.skipped
    assert first.report.requests == 2  # re-read + one values.batchUpdate (4 with the 2 reads)
    assert first.counts["cells_written"] == len(first.changes) > 0
    local = tmp_path / "local.xlsx"
    local.write_bytes(crm_xlsx.read_bytes())
    expected = sheetcrm.open(local).sync(as_of=AS_OF)
    cols = ["tab", "id", "column", "new", "kind"]
    pd.testing.assert_frame_equal(
        first.changes[cols].reset_index(drop=True), expected.changes[cols].reset_index(drop=True)
    )

    again = sheetcrm.open(live_url, client=client).sync(as_of=AS_OF)
    assert again.changes.empty and again.report is None

    g, x = sheetcrm.open(live_url, client=client), sheetcrm.open(local)
    for tab, columns in {
        Tab.CONTACTS: ["ID", "NESL", "Segment", "Tier", "Lifecycle", "Recency", "Monetary"],
        Tab.OPPORTUNITIES: ["ID", "Stage", "Probability", "Weighted Amount", "Stage Since"],
    }.items():
        pd.testing.assert_frame_equal(g.table(tab)[columns], x.table(tab)[columns])
    assert len(g.table(Tab.LOG)) == first.report.log_rows


def test_live_pull(live: tuple[Any, Any, str], messy_xlsx: Path, tmp_path: Path) -> None:
    saved = pull(open_backend(_upload(live, messy_xlsx), client=live[0]), tmp_path / "copy.xlsx")
    assert workbook_rows(saved) == workbook_rows(messy_xlsx)


def test_live_init_google(live: tuple[Any, Any, str], tmp_path: Path) -> None:
    if not live_create():
        pytest.skip("init --google creates a spreadsheet in Drive: set SHEETCRM_LIVE_CREATE=1 to run it")
    client = live[0]
    title = f"sheetcrm live test {dt.datetime.now():%Y-%m-%d %H:%M:%S}"
    result = CliRunner().invoke(cli, ["init", "--google", "--title", title, "--lang", "en"])
    assert result.exit_code == 0, result.output
    found = re.search(r"Created (https://docs\.google\.com/spreadsheets/d/[A-Za-z0-9_-]+/edit)", result.output)
    assert found, result.output
    url = found.group(1)
    try:
        wb = sheetcrm.open(url, client=client)
        template = tmp_path / "template.xlsx"
        init_workbook(template, Lang.EN)
        local = sheetcrm.open(template)
        assert {t: tb.title for t, tb in wb.tables.items()} == {t: tb.title for t, tb in local.tables.items()}
        pd.testing.assert_frame_equal(wb.validate().reset_index(drop=True), local.validate().reset_index(drop=True))
        assert wb.settings == local.settings
    finally:
        client.del_spreadsheet(spreadsheet_key(url))
