"""Every error sheetcrm raises, under one base class.

Each error carries the tab, sheet row and column it is about (where it is about one),
and its message names the object and the fix. The CLI turns any :class:`SheetCRMError`
into a one-line message and exit code 2; anything else is a bug.

Every message is scrubbed of secrets when the error is made (:func:`~sheetcrm.google.redact.redact`:
keys, tokens and the exact values of the credentials in use), so ``str``, ``repr`` and
``vars`` of any sheetcrm error are safe to print or log. An error made from a
:class:`Phrase` (a catalog message) is told in either language by :meth:`SheetCRMError.in_language`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sheetcrm.google.redact import redact
from sheetcrm.i18n import N_


@dataclass(frozen=True)
class Phrase:
    """A catalog message (marked with ``N_``) and its fields, told in a language later.
    A field that is itself a :class:`Phrase` is told in the same language."""

    template: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str = "en") -> str:
        """The message in ``lang`` ("en" or "zh-TW")."""
        from sheetcrm.i18n import tr

        values = {
            k: v.render(lang)
            if isinstance(v, Phrase | Joined)
            else v.in_language(lang)
            if isinstance(v, Worded | Named)
            else v
            for k, v in self.fields.items()
        }
        return tr(lang, self.template, **values)

    def redacted(self) -> Phrase:
        """The same phrase with secrets scrubbed from its text fields."""
        return Phrase(self.template, {k: _redacted(v) for k, v in self.fields.items()})


def _redacted(value: Any) -> Any:
    if isinstance(value, Phrase):
        return value.redacted()
    if isinstance(value, Worded):
        return Worded(value.phrase.redacted(), value.lang)
    if isinstance(value, Named):  # a column's name, never a secret
        return value
    return redact(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Joined:
    """Items joined by a catalog word (``N_(" or ")``), as a field of a :class:`Phrase`.
    An item that can be told in either language (a :class:`Worded`, a sheetcrm error) is
    told in the language asked for."""

    separator: str
    items: tuple[str | SheetCRMError, ...]

    def render(self, lang: str = "en") -> str:
        from sheetcrm.i18n import tr

        return tr(lang, self.separator).join(
            item.in_language(lang) if isinstance(item, Worded | SheetCRMError | Named) else item for item in self.items
        )


class Worded(str):
    """Text a person reads, told in one language, that can be told in the other: a
    :class:`Phrase` rendered. Problems found while binding (before anyone asked for a
    language) are kept so, and worded again in the language validation is asked for."""

    phrase: Phrase
    lang: str

    def __new__(cls, phrase: Phrase, lang: str = "en") -> Worded:
        text = super().__new__(cls, phrase.render(lang))
        text.phrase, text.lang = phrase, lang
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (Worded, (self.phrase, self.lang))

    def in_language(self, lang: str) -> str:
        return self.phrase.render(lang)


def worded(template: str, **fields: Any) -> Worded:
    """A catalog message (marked with ``N_``) with its fields, as English text that can be
    told again in Chinese (progress lines a command prints in its workbook's language)."""
    return Worded(Phrase(template, fields))


class Named(str):
    """A name with a Chinese form (a column's header), as a field of a :class:`Phrase`:
    English as a string, told in the language the phrase is told in."""

    zh: str

    def __new__(cls, en: str, zh: str) -> Named:
        text = super().__new__(cls, en)
        text.zh = zh
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (Named, (str(self), self.zh))

    def in_language(self, lang: str) -> str:
        return self.zh if lang == "zh-TW" else str(self)


#: The language of the workbook being worked on, once binding knows it: what a command
#: tells its errors in unless ``--lang`` says otherwise (set anew for each command).
WORKBOOK_LANGUAGE: ContextVar[str | None] = ContextVar("sheetcrm_workbook_language", default=None)


class SheetCRMError(Exception):
    """Base class of all sheetcrm errors.

    ``message`` is English text, or a :class:`Phrase` from the catalog (then
    :meth:`in_language` tells it in Chinese too). ``tab``, ``row`` (1-based sheet row) and
    ``column`` (header text) locate the cell or range the error is about, when there is one.
    """

    #: The catalog message this error was made from, if any.
    phrase: Phrase | None = None

    def __init__(
        self,
        message: str | Phrase,
        *,
        tab: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.tab = tab
        self.row = row
        self.column = column
        if isinstance(message, Phrase):
            self.phrase = message.redacted()
            message = self.phrase.render("en")
        self.message = redact(message)
        super().__init__(self._render(self.message))

    def in_language(self, lang: str) -> str:
        """The message in ``lang`` ("en" or "zh-TW"): translated when the error was made
        from a :class:`Phrase`, else as written (English)."""
        if self.phrase is None or lang == "en":
            return str(self)
        return self._render(redact(self.phrase.render(lang)), lang)

    def _render(self, message: str, lang: str = "en") -> str:
        from sheetcrm.i18n import tr

        where = []
        if self.tab:
            where.append(f"{tr(lang, 'tab')} {self.tab!r}")
        if self.row is not None:
            where.append(f"{tr(lang, 'row')} {self.row}")
        if self.column:
            where.append(f"{tr(lang, 'column')} {self.column!r}")
        return f"{', '.join(where)}: {message}" if where else message


def shown(text: object) -> str:
    """``text`` a person gave (a path, key or URL) quoted for a message, unless it looks
    like a credential's contents pasted where a path belongs: those are never echoed."""
    value = str(text)
    if "\n" in value or "{" in value or "PRIVATE KEY" in value or len(value) > 300:
        # English where it is written into text; told again in Chinese as a Phrase's field.
        return Worded(_NOT_SHOWN)
    return repr(value)


_NOT_SHOWN = Phrase(
    N_(
        "(the text given, not shown: it looks like a key's contents rather than a path; put a key's JSON in {variable})"
    ),
    {"variable": "SHEETCRM_CREDENTIALS_JSON"},
)


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


class SettingValueError(SettingsError, ValueError):
    """A Settings value that does not parse (a ValueError too, for the parsers' callers);
    made from a :class:`Phrase` saying what is wrong with it."""


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

    def __init__(self, message: str | Phrase, *, method: str = "", path: str = "") -> None:
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
