"""sheetcrm: a working CRM in the spreadsheet a small team already uses.

>>> import sheetcrm
>>> wb = sheetcrm.open("sheetcrm-demo.xlsx")
>>> problems = wb.validate()
"""


__version__ = "0.1.0"

from .demo import make_demo
from .exceptions import (
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
from .schema import NESL, ActivityType, ContactRole, Lang, Lifecycle, Segment, Stage, Tab, Tier
from .settings import Settings
from .sync import SyncResult
from .template import init_workbook
from .workbook import Workbook
from .workbook import open_workbook as open

__all__ = [
    "NESL",
    "ActivityType",
    "AuthError",
    "ConflictError",
    "ContactRole",
    "Lang",
    "Lifecycle",
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
    "init_workbook",
    "make_demo",
    "open",
]
