"""Shared fixtures: workbooks built from the real template, filled through openpyxl."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sheetcrm.schema import Lang, Tab
from sheetcrm.template import init_workbook
from tests.helpers import Rows, as_typed_text, fill_workbook


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


@pytest.fixture(scope="session")
def pem() -> str:
    """A fresh RSA private key (PKCS#8 PEM) for service-account key files: google-auth
    signs real JWTs with it against the fake's /token."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


@pytest.fixture
def fake():
    """A local Sheets v4 API on 127.0.0.1 (sheetcrm.testing)."""
    from sheetcrm.testing import FakeSheetsServer

    with FakeSheetsServer() as server:
        yield server


@pytest.fixture
def google_client(fake):
    """A real gspread client with sheetcrm's bounded retries, aimed at the fake, that
    does not sleep between retries. Its read timeout is far longer than any answer of the
    fake on a loaded machine: no test result depends on the machine's load."""
    from google.oauth2.credentials import Credentials

    from sheetcrm.google.http import make_client

    return make_client(Credentials(token="test-token"), base_url=fake.url, sleep=lambda _s: None, timeout=(10.0, 120.0))


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


@pytest.fixture(scope="session")
def cdnow_calibration() -> Any:
    """The 1/10 CDNOW sample that lifetimes ships, calibrated to 1997-09-30 in weeks:
    ``(transactions, summary)`` where transactions has columns ``customer_id`` and ``date``
    (calibration period only) and summary is lifetimes' own frequency / recency / T, indexed by
    customer ID. Fader, Hardie & Lee (2005) fit BG/NBD on exactly this."""
    import pandas as pd
    from lifetimes.datasets import load_dataset
    from lifetimes.utils import summary_data_from_transaction_data

    raw = load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+")
    raw.columns = ["customer_id", "customer_index", "date", "quantity", "amount"]
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    end = pd.Timestamp("1997-09-30")
    tx = raw.loc[raw["date"] <= end, ["customer_id", "date"]].reset_index(drop=True)
    days = summary_data_from_transaction_data(tx, "customer_id", "date", observation_period_end=end, freq="D")
    weeks = days.assign(recency=days["recency"] / 7, T=days["T"] / 7)
    return tx, weeks


# ------------------------------------------------------------ the monthly report


@pytest.fixture(scope="session")
def report_crm() -> Rows:
    """A hand-made CRM for the 2026-10 report: every NESL move, a win-back from L, a main
    and an important customer, deals in every stage (one closed after the month end, so
    still open then), won and lost in October and September, and a customer whose name is
    a formula. ``_stage_at_month_end`` (not a column: stripped before filling) is what
    each deal's stage was on 2026-10-31, for the tests' own counts."""
    d = dt.date
    buy = "Purchase"

    def act(
        i: int, day: dt.date, typ: str, contact: str | None, amount: float | None = None, opp: str | None = None
    ) -> dict[str, Any]:
        return {
            "ID": f"A-{i:04d}",
            "Date": day,
            "Type": typ,
            "Contact ID": contact,
            "Amount": amount,
            "Opportunity ID": opp,
            "Subject": "x",
        }

    return {
        Tab.TEAM: [{"Name": "Amy Rep", "Active": True}, {"Name": "Bob Rep", "Active": True}],
        Tab.COMPANIES: [{"ID": "CO-01", "Name": "Quorra Precision 宏達", "Owner": "Amy Rep"}],
        Tab.CONTACTS: [
            {"ID": "P-01", "Name": '=HYPERLINK("http://x")', "Email": "hyper@quorra.example", "Owner": "Amy Rep"},
            {
                "ID": "P-02",
                "Name": "Zed Quorra",
                "Email": "zed@quorra.example",
                "Phone": "0912-000-111",
                "Owner": "Bob Rep",
            },
            {"ID": "P-03", "Name": "林志玲", "Phone": "(02)2345-6789", "Owner": "Amy Rep"},
            {"ID": "P-04", "Name": "Wanda Xylo", "Email": "wanda@xylo.example", "Owner": "Bob Rep"},
            {"ID": "P-05", "Name": "陳小華", "Phone": "0988-765-432", "Owner": "Amy Rep"},
            {"ID": "P-06", "Name": "Mallory Main", "Email": "mallory@main.example", "Owner": "Bob Rep"},
            {"ID": "P-07", "Name": "Nobody Yetbought", "Email": "nobody@yet.example", "Owner": "Amy Rep"},
            {"ID": "P-08", "Name": "Lorna Longgone", "Phone": "+852 9123 4567", "Owner": "Bob Rep"},
            {"ID": "P-09", "Name": "Dex Dealwon", "Email": "dex@deal.example", "Owner": "Amy Rep"},
            {"ID": "P-10", "Name": "Ivy Important", "Email": "ivy@important.example", "Owner": "Bob Rep"},
        ],
        Tab.OPPORTUNITIES: [
            {
                "ID": "OP-01",
                "Company ID": "CO-01",
                "Name": "deal one",
                "Stage": "Lead",
                "Amount": 1000,
                "Expected Close": d(2026, 11, 15),
                "Owner": "Amy Rep",
                "Next Step": "call back",
                "Next Step Due": d(2026, 11, 20),
                "_stage_at_month_end": "Lead",
            },
            {
                "ID": "OP-02",
                "Company ID": "CO-01",
                "Name": "deal two",
                "Stage": "Qualified",
                "Amount": 2000,
                "Expected Close": d(2026, 11, 27),
                "Owner": "Bob Rep",
                "Next Step": "send quote",
                "Next Step Due": d(2026, 11, 25),
                "_stage_at_month_end": "Qualified",
            },
            {
                "ID": "OP-03",
                "Company ID": "CO-01",
                "Name": "deal three",
                "Stage": "Proposal",
                "Amount": 3000,
                "Expected Close": d(2026, 10, 20),
                "Owner": "Amy Rep",
                "_stage_at_month_end": "Proposal",
            },
            {
                "ID": "OP-04",
                "Company ID": "CO-01",
                "Name": "deal four",
                "Stage": "Negotiation",
                "Amount": 4000,
                "Expected Close": d(2026, 12, 20),
                "Owner": "Bob Rep",
                "_stage_at_month_end": "Negotiation",
            },
            {
                "ID": "OP-W1",
                "Contact ID": "P-09",
                "Name": "won in october",
                "Stage": "Won",
                "Amount": 8000,
                "Expected Close": d(2026, 10, 10),
                "Closed": d(2026, 10, 12),
                "Owner": "Amy Rep",
                "_stage_at_month_end": "Won",
            },
            {
                "ID": "OP-W2",
                "Company ID": "CO-01",
                "Name": "won in september",
                "Stage": "Won",
                "Amount": 6000,
                "Closed": d(2026, 9, 10),
                "Owner": "Bob Rep",
                "_stage_at_month_end": "Won",
            },
            {
                "ID": "OP-W3",
                "Company ID": "CO-01",
                "Name": "won in november",
                "Stage": "Won",
                "Amount": 1000,
                "Expected Close": d(2026, 11, 3),
                "Closed": d(2026, 11, 3),
                "Owner": "Amy Rep",
                "_stage_at_month_end": "Proposal",
            },
            {
                "ID": "OP-L1",
                "Company ID": "CO-01",
                "Name": "lost in october",
                "Stage": "Lost",
                "Amount": 500,
                "Closed": d(2026, 10, 5),
                "Owner": "Amy Rep",
                "_stage_at_month_end": "Lost",
            },
            {
                "ID": "OP-L2",
                "Company ID": "CO-01",
                "Name": "lost in november",
                "Stage": "Lost",
                "Amount": 700,
                "Expected Close": d(2026, 11, 30),
                "Closed": d(2026, 11, 5),
                "Owner": "Bob Rep",
                "_stage_at_month_end": "Lead",
            },
        ],
        Tab.ACTIVITIES: [
            act(1, d(2026, 9, 15), buy, "P-01", 1000),
            act(2, d(2026, 4, 15), buy, "P-02", 2000),
            act(3, d(2026, 6, 1), buy, "P-03", 500),
            act(4, d(2026, 10, 20), buy, "P-03", 700),
            act(5, d(2025, 12, 1), buy, "P-04", 300),
            act(6, d(2026, 10, 25), "Order", "P-04", 400),
            act(7, d(2026, 10, 10), buy, "P-05", 5000),
            act(8, d(2026, 9, 20), buy, "P-06", 100),
            act(9, d(2026, 10, 5), buy, "P-06", 100),
            act(10, d(2026, 10, 15), buy, "P-06", 100),
            act(11, d(2026, 10, 20), buy, "P-06", 100),
            act(12, d(2026, 10, 28), buy, "P-06", 100),
            act(13, d(2025, 1, 10), buy, "P-08", 250),
            act(14, d(2026, 10, 20), buy, "P-10", 200000),
            act(15, d(2026, 10, 2), "Proposal", None, None, "OP-W3"),
            act(16, d(2026, 10, 1), "Call", None, None, "OP-04"),
            act(17, d(2026, 10, 3), "Call", "P-07", None),
        ],
    }


@pytest.fixture(scope="session")
def report_workbook(tmp_path_factory: pytest.TempPathFactory, report_crm: Rows) -> Path:
    """The ``report_crm`` rows in an English .xlsx workbook (annotations left out, a typed
    "=..." stored as the text it is), shared by the tests that only read it."""
    path = tmp_path_factory.mktemp("report") / "report-crm.xlsx"
    init_workbook(path, Lang.EN)
    fill_workbook(
        path,
        {
            tab: [{k: v for k, v in r.items() if not k.startswith("_")} for r in recs]
            for tab, recs in report_crm.items()
        },
    )
    return as_typed_text(path)
