"""Shared fixtures: workbooks built from the real template, filled through openpyxl."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from sheetcrm.schema import TABS, Lang, Tab, normalize_label
from sheetcrm.template import init_workbook

AS_OF = dt.date(2026, 11, 22)

Rows = dict[Tab, list[dict[str, Any]]]


def fill_workbook(path: Path, rows: Rows) -> None:
    """Append records (dicts keyed by English column key or by any header text) to the
    tabs of the workbook at ``path``, placing each value under its header."""
    wb = openpyxl.load_workbook(path)
    for tab, records in rows.items():
        spec = TABS[tab]
        title = next(t for t in wb.sheetnames if Tab.parse(t) is tab)
        ws = wb[title]
        header = [c.value for c in ws[1]]
        folded = {normalize_label(h): i for i, h in enumerate(header) if h}
        for key, col in ((c.key, c) for c in spec.columns):
            for label in col.labels():
                if normalize_label(label) in folded:
                    folded.setdefault(normalize_label(key), folded[normalize_label(label)])
        start = ws.max_row + 1
        for n, record in enumerate(records):
            for key, value in record.items():
                if normalize_label(key) not in folded:
                    col_idx = len(header)
                    header.append(key)
                    ws.cell(row=1, column=col_idx + 1, value=key)
                    folded[normalize_label(key)] = col_idx
                ws.cell(row=start + n, column=folded[normalize_label(key)] + 1, value=value)
    wb.save(path)


@pytest.fixture
def make_workbook(tmp_path: Path) -> Callable[..., Path]:
    """Build an .xlsx CRM workbook from the template and fill it with ``rows``."""
    counter = iter(range(1000))

    def make(rows: Rows | None = None, lang: Lang = Lang.EN, name: str | None = None) -> Path:
        path = tmp_path / (name or f"crm-{next(counter)}.xlsx")
        init_workbook(path, lang)
        if rows:
            fill_workbook(path, rows)
        return path

    return make


@pytest.fixture
def small_crm() -> Rows:
    """A small but complete CRM: two companies, three contacts, two deals, purchases."""
    d = dt.date
    return {
        Tab.TEAM: [
            {"Name": "Amy Chen", "Email": "amy@example.com", "Weight": 1, "Active": True},
            {"Name": "王小明", "Weight": 2, "Active": True},
        ],
        Tab.COMPANIES: [
            {"ID": "CO-0001", "Name": "宏達精密股份有限公司", "Region": "台北", "Owner": "Amy Chen"},
            {"ID": "CO-0002", "Name": "Harbor Logistics Ltd.", "Region": "Hong Kong", "Owner": "王小明"},
        ],
        Tab.CONTACTS: [
            {
                "ID": "P-0001",
                "Company ID": "CO-0001",
                "Name": "林志玲",
                "Email": "lin@example.com",
                "Phone": "0912-345-678",
                "Owner": "Amy Chen",
            },
            {
                "ID": "P-0002",
                "Company ID": "CO-0002",
                "Name": "John Wu",
                "Email": "john@example.com",
                "Owner": "王小明",
            },
            {"ID": "P-0003", "Name": "陳小華", "Role": "Customer", "Phone": "(02)2345-6789"},
        ],
        Tab.OPPORTUNITIES: [
            {
                "ID": "OP-0001",
                "Company ID": "CO-0001",
                "Contact ID": "P-0001",
                "Name": "ERP rollout",
                "Stage": "Lead",
                "Amount": 120000,
                "Expected Close": d(2026, 12, 31),
                "Owner": "Amy Chen",
            },
            {
                "ID": "OP-0002",
                "Company ID": "CO-0002",
                "Contact ID": "P-0002",
                "Name": "Fleet tracking",
                "Stage": "Qualified",
                "Amount": 50000,
                "Expected Close": d(2026, 10, 1),
                "Owner": "王小明",
            },
        ],
        Tab.ACTIVITIES: [
            {
                "ID": "A-00001",
                "Date": d(2026, 10, 5),
                "Type": "Demo",
                "Contact ID": "P-0001",
                "Company ID": "CO-0001",
                "Opportunity ID": "OP-0001",
                "Subject": "demo",
            },
            {
                "ID": "A-00002",
                "Date": d(2026, 11, 2),
                "Type": "Quote",
                "Contact ID": "P-0001",
                "Company ID": "CO-0001",
                "Opportunity ID": "OP-0001",
                "Subject": "quote",
            },
            {
                "ID": "A-00003",
                "Date": d(2026, 11, 10),
                "Type": "Purchase",
                "Contact ID": "P-0003",
                "Amount": 1200,
                "Subject": "shop",
            },
            {
                "ID": "A-00004",
                "Date": d(2026, 6, 1),
                "Type": "Purchase",
                "Contact ID": "P-0003",
                "Amount": 800,
                "Subject": "shop",
            },
            {
                "ID": "A-00005",
                "Date": d(2026, 3, 1),
                "Type": "Order",
                "Contact ID": "P-0002",
                "Company ID": "CO-0002",
                "Amount": 30000,
                "Subject": "first order",
            },
        ],
    }


# ------------------------------------------------------------ Google Sheets, faked locally


@pytest.fixture
def fake():
    """A local Sheets v4 API on 127.0.0.1 (sheetcrm.testing)."""
    from sheetcrm.testing import FakeSheetsServer

    with FakeSheetsServer() as server:
        yield server


def upload_xlsx(fake, path: Path, title: str = "CRM") -> str:
    """Put every tab of the .xlsx at ``path`` into a new spreadsheet on the fake, the way
    uploading the file to Google Drive would; returns its key."""
    wb = openpyxl.load_workbook(path, data_only=True)
    sheets = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    return fake.create_spreadsheet(title, sheets)


@pytest.fixture
def google_client(fake):
    """A real gspread client with sheetcrm's bounded retries, aimed at the fake, that
    does not sleep between retries."""
    from google.oauth2.credentials import Credentials

    from sheetcrm.google.http import make_client

    return make_client(Credentials(token="test-token"), base_url=fake.url, sleep=lambda _s: None, timeout=(2.0, 1.0))


@pytest.fixture
def google_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No real home directory (OAuth tokens are cached there) and no credentials or
    spreadsheet taken from the environment. Returns the stand-in home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for var in (
        "SHEETCRM_CREDENTIALS_JSON",
        "SHEETCRM_CREDENTIALS",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "SHEETCRM_SPREADSHEET",
    ):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch):
    """Fail the test on any connection or DNS lookup beyond 127.0.0.1, and keep
    google-auth from its own calls to Google."""
    import socket

    import google.auth.credentials as gcreds

    # google-auth (2.6x) looks up a service account's "regional access boundary" at
    # iamcredentials.googleapis.com after its first token; that cannot go to the fake.
    rab = getattr(gcreds, "CredentialsWithRegionalAccessBoundary", None)
    if rab is not None and hasattr(rab, "_is_regional_access_boundary_lookup_required"):
        monkeypatch.setattr(rab, "_is_regional_access_boundary_lookup_required", lambda self: False)
    loopback = {"127.0.0.1", "::1", "localhost"}
    attempts: list[str] = []
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect_guard(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in loopback:
            attempts.append(str(host))
            raise OSError(f"the test forbids connecting to {host!r}")
        return real_connect(self, address)

    def getaddrinfo_guard(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name not in loopback:
            attempts.append(str(name))
            raise socket.gaierror(socket.EAI_NONAME, f"the test forbids resolving {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect_guard)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo_guard)
    yield
    assert not attempts, f"network beyond 127.0.0.1 was attempted: {sorted(set(attempts))}"
