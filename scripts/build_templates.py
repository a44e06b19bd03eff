"""Write templates/sheetcrm-<lang>.xlsx from the schema (run after changing schema.py).

python scripts/build_templates.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sheetcrm.schema import Lang
from sheetcrm.template import build_workbook

# A fixed timestamp keeps rebuilt templates byte-stable apart from real changes.
STAMP = dt.datetime(2026, 1, 1)


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "templates"
    out.mkdir(exist_ok=True)
    for lang in Lang:
        wb = build_workbook(lang)
        wb.properties.created = STAMP
        wb.properties.modified = STAMP
        path = out / f"sheetcrm-{lang.value}.xlsx"
        wb.save(path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
