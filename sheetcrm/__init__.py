"""sheetcrm: a working CRM in the spreadsheet a small team already uses.

>>> import sheetcrm
>>> wb = sheetcrm.open("sheetcrm-demo.xlsx")
>>> problems = wb.validate()
"""

__version__ = "0.1.0"

import importlib as _importlib
import typing as _typing

from sheetcrm.exceptions import (
    AuthError,
    ConflictError,
    PermissionDeniedError,
    QuotaError,
    SchemaError,
    SettingsError,
    SheetCRMError,
    WorkbookExistsError,
    WorkbookFormatError,
    WorkbookNotFoundError,
    WorkbookWriteError,
)
from sheetcrm.schema import NESL, ActivityType, ContactRole, Lang, Lifecycle, Segment, Stage, Tab, Tier

if _typing.TYPE_CHECKING:
    from sheetcrm.demo import make_demo
    from sheetcrm.engine.sync import SyncResult
    from sheetcrm.report.monthly import MonthlyReport
    from sheetcrm.report.run import focus, forecast, monthly_report, run_report
    from sheetcrm.settings import Settings
    from sheetcrm.template import init_workbook
    from sheetcrm.workbook import Workbook
    from sheetcrm.workbook import open_workbook as open

# What needs pandas, gspread or the demo data is imported on first use, so that
# ``import sheetcrm`` and ``sheetcrm --help`` stay fast.
_LAZY = {
    "make_demo": ("sheetcrm.demo", "make_demo"),
    "SyncResult": ("sheetcrm.engine.sync", "SyncResult"),
    "Settings": ("sheetcrm.settings", "Settings"),
    "init_workbook": ("sheetcrm.template", "init_workbook"),
    "Workbook": ("sheetcrm.workbook", "Workbook"),
    "open": ("sheetcrm.workbook", "open_workbook"),
    "MonthlyReport": ("sheetcrm.report.monthly", "MonthlyReport"),
    "monthly_report": ("sheetcrm.report.run", "monthly_report"),
    "run_report": ("sheetcrm.report.run", "run_report"),
    "forecast": ("sheetcrm.report.run", "forecast"),
    "focus": ("sheetcrm.report.run", "focus"),
}


def __getattr__(name: str) -> _typing.Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'sheetcrm' has no attribute {name!r}") from None
    value = getattr(_importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "NESL",
    "ActivityType",
    "AuthError",
    "ConflictError",
    "ContactRole",
    "Lang",
    "Lifecycle",
    "MonthlyReport",
    "PermissionDeniedError",
    "QuotaError",
    "SchemaError",
    "Segment",
    "Settings",
    "SettingsError",
    "SheetCRMError",
    "Stage",
    "SyncResult",
    "Tab",
    "Tier",
    "Workbook",
    "WorkbookExistsError",
    "WorkbookFormatError",
    "WorkbookNotFoundError",
    "WorkbookWriteError",
    "__version__",
    "focus",
    "forecast",
    "init_workbook",
    "make_demo",
    "monthly_report",
    "open",
    "run_report",
]
