"""Every error sheetcrm raises, under one base class.

Each error carries the tab, sheet row and column it is about (where it is about one),
and its message names the object and the fix. The CLI turns any :class:`SheetCRMError`
into a one-line message and exit code 2; anything else is a bug.
"""

from __future__ import annotations


class SheetCRMError(Exception):
    """Base class of all sheetcrm errors.

    ``tab``, ``row`` (1-based sheet row) and ``column`` (header text) locate the cell or
    range the error is about, when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        tab: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.tab = tab
        self.row = row
        self.column = column
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.tab:
            where.append(f"tab {self.tab!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


def shown(text: object) -> str:
    """``text`` a person gave (a path, key or URL) quoted for a message, unless it looks
    like a credential's contents pasted where a path belongs: those are never echoed."""
    value = str(text)
    if "\n" in value or "{" in value or "PRIVATE KEY" in value or len(value) > 300:
        return (
            "(the text given, not shown: it looks like a key's contents rather than a "
            "path; put a key's JSON in SHEETCRM_CREDENTIALS_JSON)"
        )
    return repr(value)


class SchemaError(SheetCRMError):
    """The workbook's layout does not match the schema (missing tab or column, duplicate
    or ambiguous header)."""


class WorkbookNotFoundError(SheetCRMError):
    """The workbook file, spreadsheet key or URL does not lead to a workbook."""


class WorkbookFormatError(SheetCRMError):
    """The file exists but is not a workbook sheetcrm can read (.xlsx expected)."""


class WorkbookWriteError(SheetCRMError):
    """Writing the workbook failed; the workbook was left as it was."""


class WorkbookBusyError(WorkbookWriteError):
    """The workbook is open in Excel or LibreOffice (or another program holds a lock on it)."""


class WorkbookExistsError(SheetCRMError):
    """``init`` would overwrite an existing workbook."""


class SettingsError(SheetCRMError):
    """A value in the Settings tab cannot be used."""


class ConflictError(SheetCRMError):
    """The sheet changed under sheetcrm in a way that makes the planned write unsafe."""


class WorkbookChangedError(ConflictError):
    """Someone saved the workbook file while sheetcrm was writing it; nothing was written."""


class AuthError(SheetCRMError):
    """Credentials are missing, unreadable or refused. Never contains secret material."""


class PermissionDeniedError(AuthError):
    """The credentials work but may not open this spreadsheet."""


class QuotaError(SheetCRMError):
    """The API kept refusing (rate limit, server error or timeout) past the retry budget."""


class AnswerLostError(SheetCRMError):
    """A request that must not be sent twice (it creates a spreadsheet, a tab, a share,
    rows) was sent, and its answer was lost (timeout, dropped connection): Google may have
    applied it. The caller looks at the spreadsheet and carries on from what is there.
    ``method`` and ``path`` (no query) name the request."""

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class LeadFileError(SheetCRMError):
    """A lead file cannot be read: missing, not CSV or .xlsx, undecodable, or without a
    Name column."""


class AssignmentError(SheetCRMError):
    """Owners cannot be assigned: no active Team member, or no Owner column."""


class ReportError(SheetCRMError):
    """A report, forecast or focus option that cannot be used (a month, quarter, date or
    format that is not one); the message says how to write it."""


class OutputExistsError(SheetCRMError):
    """A file sheetcrm was asked to write already exists and may hold someone's changes."""


class WorkflowOptionError(SheetCRMError):
    """An option for a generated GitHub Actions workflow cannot be used."""


class ProblemsFoundError(SheetCRMError):
    """``--fail-on-problems`` was given and validation found problems: nothing was written."""
