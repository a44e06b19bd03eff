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
    public = {n for n, v in vars(sheetcrm).items()
              if not n.startswith("_") and not inspect.ismodule(v)}
    assert public <= set(sheetcrm.__all__), public - set(sheetcrm.__all__)


def test_all_is_sorted_and_unique() -> None:
    assert len(set(sheetcrm.__all__)) == len(sheetcrm.__all__)
