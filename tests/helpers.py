"""What tests share besides fixtures: the run date, and building workbooks from records.

Tests import these from here, never from ``conftest`` (pytest owns that module).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import openpyxl
import pandas as pd

from sheetcrm.schema import TABS, Tab, normalize_label

if TYPE_CHECKING:
    from sheetcrm.testing import FakeSheetsServer

#: The day every test syncs as of.
AS_OF = dt.date(2026, 11, 22)

#: Records to put in a workbook: tab -> rows keyed by English column key or any header text.
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


def save_sheets(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """A workbook typed by hand, as a person lays it out: each worksheet (in order) and its
    rows, header first, saved at ``path``."""
    wb = openpyxl.Workbook()
    wb.remove(wb.worksheets[0])
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def upload_xlsx(fake: FakeSheetsServer, path: Path, title: str = "CRM") -> str:
    """Put every tab of the .xlsx at ``path`` into a new spreadsheet on the fake, the way
    uploading the file to Google Drive would; returns its key."""
    wb = openpyxl.load_workbook(path, data_only=True)
    sheets = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    return fake.create_spreadsheet(title, sheets)


def write_service_account_key(path: Path, *, pem: str, email: str, token_uri: str) -> Path:
    """A service-account key file at ``path`` whose token_uri is ``token_uri`` (the fake's
    /token, so the real google-auth JWT flow runs against 127.0.0.1)."""
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "demo-project",
                "private_key_id": "0123456789abcdef0123456789abcdef01234567",
                "private_key": pem,
                "client_email": email,
                "client_id": "123456789012345678901",
                "token_uri": token_uri,
            }
        )
    )
    return path


#: The day the customer-rule tests compute as of.
TX_AS_OF = pd.Timestamp("2025-06-30")


def tx_of(rows: list[tuple[str, int, float]], as_of: pd.Timestamp = TX_AS_OF) -> pd.DataFrame:
    """A transactions frame (as :func:`sheetcrm.customers.transactions.transactions` gives)
    from (contact, age in days before ``as_of``, amount as a cell holds it)."""
    n = len(rows)
    return pd.DataFrame(
        {
            "date": pd.Series([as_of - pd.Timedelta(days=r[1]) for r in rows], dtype="datetime64[ns]"),
            "amount": pd.Series([r[2] for r in rows], dtype="float64"),
            "contact_id": pd.Series([r[0] for r in rows], dtype=object),
            "company_id": pd.Series([None] * n, dtype=object),
            "opportunity_id": pd.Series([None] * n, dtype=object),
            "source_id": pd.Series([f"A-{i}" for i in range(n)], dtype=object),
            "source": pd.Series(["activity"] * n, dtype=object),
        }
    )


def ids(*values: str) -> pd.Index:
    """Customer IDs as an object Index."""
    return pd.Index(list(values), dtype=object)


def sheet_state(fake: Any, key: str) -> dict[str, list[list[Any]]]:
    """Every tab's values on the fake, the Log's Time and Run columns left out (they
    differ per run): what two runs that converged must agree on."""
    out = {}
    for title in fake.sheet_titles(key):
        rows = fake.get_values(key, title)
        if title == "Log" and rows:
            drop = {rows[0].index(h) for h in ("Time", "Run")}
            rows = [[v for i, v in enumerate(r) if i not in drop] for r in rows]
        out[title] = rows
    return out


def as_typed_text(path: Path) -> Path:
    """Make every cell holding "=..." a text cell, as a person's typed text is stored
    (openpyxl would otherwise have saved it as a formula)."""
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    wb.save(path)
    return path


S = TypeVar("S", bound="socketserver.BaseServer")


@contextlib.contextmanager
def serving(server: S) -> Iterator[S]:
    """``server`` answering on its own thread until the block ends, then closed."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
