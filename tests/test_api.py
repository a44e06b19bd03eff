"""The public API stays small and honest: everything in __all__ exists, is documented,
and nothing public is missing from it."""

from __future__ import annotations

import inspect

import sheetcrm


def test_all_names_exist_and_are_documented() -> None:
    for name in sheetcrm.__all__:
        obj = getattr(sheetcrm, name)
        if name != "__version__":
            assert inspect.getdoc(obj), f"sheetcrm.{name} has no docstring"


def test_no_public_name_outside_all() -> None:
    public = {n for n, v in vars(sheetcrm).items() if not n.startswith("_") and not inspect.ismodule(v)}
    assert public <= set(sheetcrm.__all__), public - set(sheetcrm.__all__)


def test_all_has_no_repeats() -> None:
    # Its order is ruff's (RUF022), checked by `ruff check` in CI.
    assert len(set(sheetcrm.__all__)) == len(sheetcrm.__all__)


def test_every_lazy_name_is_public_and_every_public_name_resolves() -> None:
    lazy = set(sheetcrm._LAZY)
    assert lazy <= set(sheetcrm.__all__), lazy - set(sheetcrm.__all__)
    assert set(dir(sheetcrm)) == set(sheetcrm.__all__)


def test_import_loads_no_heavy_dependency() -> None:
    """``import sheetcrm`` (and so ``sheetcrm --help``) must not pull in pandas, gspread or
    the demo data; they load when a command needs them."""
    import subprocess
    import sys

    code = (
        "import sys, sheetcrm, sheetcrm.cli; "
        "print(sorted(m for m in ('pandas', 'gspread', 'openpyxl', 'sheetcrm.demo') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
