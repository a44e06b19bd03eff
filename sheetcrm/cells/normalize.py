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

__all__ = ["fold_column", "fold_email", "fold_name", "fold_phone", "normalize_company_name", "person_key"]

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


def fold_column(values: pd.Series, fold: Any) -> pd.Series:
    """``fold`` applied once per distinct value of ``values`` (missing and blank give
    None), aligned with ``values``: a column of 100,000 cells with repeats folds fast."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    folded = [None if is_blank(u) else fold(u) for u in uniques]
    table = pd.Series([*folded, None], dtype=object)
    out = table.iloc[codes].reset_index(drop=True)  # code -1 (missing) picks the trailing None
    out.index = values.index
    return out.where(out.map(lambda v: v is not None and v != ""), None)


def person_key(name: object, company: object) -> str | None:
    """A person's name with their company's name, folded: the key two records of one
    person share when neither has an email or phone in common (None without a name)."""
    if is_blank(name):
        return None
    company_key = "" if is_blank(company) else normalize_company_name(company)
    return f"{fold_name(name)}\x1f{company_key}"
