"""The one normalisation used to match people and companies.

Validation's likely-duplicate check, linking a reference cell by name, email or phone, and
lead import all fold text the same way, here. Pure functions over scalars and Series.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pandas as pd

from sheetcrm.cells.parse import CellParseError, is_blank, parse_email, parse_phone

__all__ = ["fold_email", "fold_name", "fold_phone", "normalize_company_name"]

_LEGAL_SUFFIXES = re.compile(
    r"(股份有限公司|有限公司|股份公司|公司|企業社|工作室|集團|"
    r"co\.?,?\s*ltd\.?|ltd\.?|limited|inc\.?|corp\.?|corporation|company|co\.?|llc|plc|gmbh)$"
)
_PUNCT = r"[\s\.,，。、()（）「」'\"&\-]+"


def normalize_company_name(name: object) -> str:
    """Fold a company name for matching: width, case, spaces, punctuation and legal
    suffixes (股份有限公司, Ltd., Inc. ...) removed."""
    text = unicodedata.normalize("NFKC", str(name)).casefold().strip()
    text = re.sub(_PUNCT + "$", "", text)
    prev = None
    while prev != text:
        prev = text
        text = _LEGAL_SUFFIXES.sub("", text).strip(" .,，")
    return re.sub(_PUNCT, "", text)


def fold_name(name: object) -> str:
    """Fold a person's name for matching: full-width to half-width, case and all spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(name)).casefold())


def fold_email(value: Any) -> str | None:
    """An email cell folded for matching (trimmed, lower case), or None when blank or not
    an email."""
    if is_blank(value):
        return None
    try:
        return parse_email(value).casefold()
    except CellParseError:
        return None


def fold_phone(value: Any) -> str | None:
    """A phone cell folded for matching (``+886 2 2345 6789``, ``02-2345-6789`` and
    ``０２２３４５６７８９`` all give ``+886223456789``), or None when blank or not a phone."""
    if is_blank(value):
        return None
    try:
        return parse_phone(value)
    except CellParseError:
        return None


def fold_series(values: pd.Series, fold: Any) -> pd.Series:
    """``fold`` applied to every non-missing value of ``values`` (missing stays missing)."""
    return values.map(fold, na_action="ignore")
