"""The workbook object of the Python API: ``sheetcrm.open(path)``.

It reads the workbook once through its backend, binds every tab to the schema, and
offers the tabs as typed DataFrames, ``validate()`` and ``sync()``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sheetcrm.backends.base import Backend
from sheetcrm.backends.xlsx import XlsxBackend
from sheetcrm.engine.bind import RawTabs, Table, bind_all
from sheetcrm.engine.validate import validate_tables
from sheetcrm.schema import Tab
from sheetcrm.settings import Settings

if TYPE_CHECKING:
    from sheetcrm.engine.sync import SyncResult


class Workbook:
    """A CRM workbook, read and bound to the schema.

    Tabs are typed DataFrames (``wb.contacts``, ``wb.table("Opportunities")``) whose
    columns are the schema's English headers plus ``_row``, the sheet row.
    """

    def __init__(self, backend: Backend, raw: RawTabs | None = None) -> None:
        self.backend = backend
        if raw is None:
            self.reload()
        else:
            self._bind(raw)

    def reload(self) -> None:
        """Read the workbook again (after someone edited it)."""
        self._bind(self.backend.read())

    def _bind(self, raw: RawTabs) -> None:
        self._stale = False
        self._tables, self._settings, self._settings_problems = bind_all(raw)

    def mark_stale(self) -> None:
        """The workbook was written: read it again when next asked for."""
        self._stale = True

    @property
    def tables(self) -> dict[Tab, Table]:
        if self._stale:
            self.reload()
        return self._tables

    @property
    def settings(self) -> Settings:
        if self._stale:
            self.reload()
        return self._settings

    @property
    def location(self) -> str:
        return self.backend.location

    def table(self, tab: Tab | str) -> pd.DataFrame:
        """The typed DataFrame of ``tab`` (English or Chinese tab name)."""
        parsed = tab if isinstance(tab, Tab) else Tab.parse(tab)
        if parsed is None:
            raise KeyError(f"no tab {tab!r}; expected one of {', '.join(Tab)}")
        return self.tables[parsed].typed

    companies = property(lambda self: self.table(Tab.COMPANIES), doc="Companies, typed.")
    contacts = property(lambda self: self.table(Tab.CONTACTS), doc="Contacts, typed.")
    opportunities = property(lambda self: self.table(Tab.OPPORTUNITIES), doc="Opportunities, typed.")
    activities = property(lambda self: self.table(Tab.ACTIVITIES), doc="Activities, typed.")
    team = property(lambda self: self.table(Tab.TEAM), doc="Team, typed.")

    def validate(self, lang: str | None = None) -> pd.DataFrame:
        """Every problem in the workbook: columns tab, row, id, column, value, problem,
        severity, worded in ``lang`` (default: the workbook's language). Reads only."""
        tables = self.tables
        return validate_tables(
            tables, self._settings_problems, str(lang or self.settings.language), self.settings.currency
        )

    def sync(self, as_of: Any = None, *, dry_run: bool = False, **kwargs: Any) -> SyncResult:
        """Validate, compute and write the computed cells (see :func:`sheetcrm.engine.sync.sync`)."""
        from sheetcrm.engine.sync import sync

        return sync(self, as_of=as_of, dry_run=dry_run, **kwargs)

    def __repr__(self) -> str:
        counts = ", ".join(f"{t.value}={len(tb)}" for t, tb in self.tables.items() if t is not Tab.LOG)
        return f"<sheetcrm.Workbook {self.location!r}: {counts}>"


def is_google_target(target: str | os.PathLike[str]) -> bool:
    """True when ``target`` is a Google Sheets URL or a bare spreadsheet key (and not an
    existing local file)."""
    text = str(target)
    if text.startswith(("http://", "https://")):
        return True
    try:
        exists = Path(text).exists()
    except OSError:  # not a usable path (too long): not a Google key either
        return False
    return not Path(text).suffix and not exists and len(text) >= 20 and "/" not in text


def open_backend(target: str | os.PathLike[str], *, credentials: Any = None, client: Any = None) -> Backend:
    """The backend for ``target``: a local .xlsx path, or a Google Sheets URL or key
    (see :func:`open_workbook` for ``credentials`` and ``client``)."""
    if is_google_target(target):
        from sheetcrm.backends.gsheets import GoogleSheetsBackend
        from sheetcrm.google.connect import connect

        gc, creds = connect(credentials, client=client)
        return GoogleSheetsBackend(str(target), gc, creds)
    return XlsxBackend(Path(target))


def open_workbook(target: str | os.PathLike[str], *, credentials: Any = None, client: Any = None) -> Workbook:
    """Open a CRM workbook: a local .xlsx path, or a Google Sheets URL or key.

    For Google Sheets, ``credentials`` is a key file path or google-auth credentials
    (default: resolved as :func:`sheetcrm.google.auth.load_credentials` says), or ``client`` a
    ready gspread client.
    """
    return Workbook(open_backend(target, credentials=credentials, client=client))
