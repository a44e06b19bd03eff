"""The one normalisation used to match people and companies.

Validation's likely-duplicate check, linking a reference cell by name, email or phone, and
lead import all fold text the same way, here. Pure functions over scalars and Series.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from sheetcrm.cells.parse import CellParseError, is_blank, parse_email, parse_phone

__all__ = [
    "email_keys",
    "fold_column",
    "fold_distinct",
    "fold_email",
    "fold_name",
    "fold_phone",
    "normalize_company_name",
    "person_key",
    "person_keys",
    "phone_keys",
]

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
    out = fold_distinct(values, fold)
    return out.where(out.notna() & (out != ""), None)


def person_key(name: object, company: object) -> str | None:
    """A person's name with their company's name, folded: the key two records of one
    person share when neither has an email or phone in common (None without a name)."""
    if is_blank(name):
        return None
    company_key = "" if is_blank(company) else normalize_company_name(company)
    return f"{fold_name(name)}\x1f{company_key}"


def fold_distinct(values: pd.Series, fold: Any) -> pd.Series:
    """``fold`` applied once per distinct non-blank text of ``values`` (and to each other
    non-blank cell on its own); blank cells give None. Unlike :func:`fold_column` a fold
    that returns ``""`` keeps it.

    Only text is grouped: pandas deems ``7``, ``7.0`` and ``True`` one value, yet a fold
    may render them differently."""
    cells = values.to_numpy(dtype=object)
    text = np.fromiter((type(v) is str for v in cells), dtype=bool, count=len(cells))
    out = np.full(len(cells), None, dtype=object)
    if text.any():
        codes, uniques = pd.factorize(cells[text])
        folded = np.array([None, *(None if is_blank(u) else fold(u) for u in uniques)], dtype=object)
        out[text] = folded[codes + 1]
    other = np.flatnonzero(~text)
    out[other] = [None if is_blank(v) else fold(v) for v in cells[other]]
    return pd.Series(out, index=values.index, dtype=object)


def person_keys(names: pd.Series, companies: pd.Series) -> pd.Series:
    """:func:`person_key` of each (name, company) pair of two aligned Series, folding each
    distinct name and each distinct company once (a workbook repeats its companies)."""
    name_key = fold_distinct(names, fold_name)
    company_key = fold_distinct(companies, normalize_company_name)
    pairs = zip(name_key.to_numpy(dtype=object), company_key.to_numpy(dtype=object), strict=True)
    keys = [None if n is None else f"{n}\x1f{'' if c is None else c}" for n, c in pairs]
    return pd.Series(keys, index=names.index, dtype=object)


def email_keys(parsed: pd.Series) -> pd.Series:
    """The :func:`fold_email` keys of a column already parsed as EMAIL (``parse_column``'s
    typed output: the parsed address, or None for a blank or bad cell), without parsing
    any cell again."""
    keys = [v.casefold() if isinstance(v, str) else None for v in parsed.to_numpy(dtype=object)]
    return pd.Series(keys, index=parsed.index, dtype=object)


def phone_keys(parsed: pd.Series) -> pd.Series:
    """The :func:`fold_phone` keys of a column already parsed as PHONE (the parsed number
    is the key; None for a blank or bad cell)."""
    keys = [v if isinstance(v, str) else None for v in parsed.to_numpy(dtype=object)]
    return pd.Series(keys, index=parsed.index, dtype=object)
