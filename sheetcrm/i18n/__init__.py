"""The one message catalog: every text a person reads, in English and Traditional Chinese.

Messages are written in the code in English, as the first argument after the language of
:func:`tr` (``tr(lang, "matched {text} by {how}", text=..., how=...)``), and translated
through gettext catalogs compiled by Babel (``locales/<lang>/LC_MESSAGES/sheetcrm.po``,
shipped with their ``.mo`` in the wheel). A word used inside another message is marked
with :func:`N_` and translated when used. How to add a message: docs/architecture.md.
"""

from __future__ import annotations

import functools
import gettext
import locale
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DOMAIN = "sheetcrm"
LOCALE_DIR = Path(__file__).parent / "locales"
#: gettext's name of each workbook language that has a catalog.
CATALOG_LANGUAGES = {"zh-TW": "zh_TW"}

__all__ = ["CATALOG_LANGUAGES", "DOMAIN", "LOCALE_DIR", "N_", "locale_language", "tr", "translations"]


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` ("en" or "zh-TW"); English needs none (messages are English)."""
    name = CATALOG_LANGUAGES.get(str(lang))
    if name is None:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[name])


def tr(lang: Any, message: str, /, **fields: Any) -> str:
    """``message`` in ``lang``, with ``{name}`` fields filled from ``fields``."""
    text = translations(str(lang)).gettext(message)
    return text.format(**fields) if fields else text


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it yet."""
    return message


def locale_language(environ: Mapping[str, str] | None = None) -> str:
    """ "zh-TW" when the user's locale is Chinese (LC_ALL, LC_MESSAGES, LANG, LANGUAGE), else "en"."""
    env = os.environ if environ is None else environ
    for key in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(key)
        if value:
            return "zh-TW" if value.lower().startswith("zh") else "en"
    try:
        current = locale.getlocale(locale.LC_MESSAGES)[0] or ""
    except (ValueError, AttributeError):  # pragma: no cover - platform without LC_MESSAGES
        current = ""
    return "zh-TW" if current.lower().startswith("zh") else "en"
