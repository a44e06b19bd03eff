"""Keeping the catalog: extract every message from the source, merge into each language's
``.po``, compile the ``.mo`` that ships in the wheel, and check nothing is untranslated.

Needs Babel (the ``test`` extra); the running program never imports this module. Run
``python -m sheetcrm.i18n.tools`` after adding or changing a message, fill the new
``msgstr`` entries it reports in ``locales/zh_TW/LC_MESSAGES/sheetcrm.po``, run it again.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from sheetcrm.i18n import CATALOG_LANGUAGES, DOMAIN, LOCALE_DIR

#: How messages are marked in the code: tr(lang, "message", ...), N_("word") and
#: validation's per-row _each(lang, "message", ...).
KEYWORDS = {"tr": (2,), "N_": None, "_each": (2,)}
SOURCE = Path(__file__).resolve().parents[1]
_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def extract() -> dict[str, set[str]]:
    """Every message in the source -> the flags Babel gives it (python-brace-format)."""
    found: dict[str, set[str]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(SOURCE), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=()
    ):
        text = message if isinstance(message, str) else message[0]
        if text:
            found.setdefault(text, set())
            if "{" in text:
                found[text].add("python-brace-format")
    return found


def po_path(lang: str) -> Path:
    return LOCALE_DIR / CATALOG_LANGUAGES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=CATALOG_LANGUAGES[lang], domain=DOMAIN)
    with path.open("rb") as fh:
        return read_po(fh, locale=CATALOG_LANGUAGES[lang], domain=DOMAIN)


def merged(lang: str) -> Catalog:
    """The catalog of ``lang`` with exactly the source's messages, translations kept."""
    old = {m.id: m.string for m in read_catalog(lang) if m.id}
    # Fixed dates: the .po changes only when its messages do.
    out = Catalog(
        locale=CATALOG_LANGUAGES[lang],
        domain=DOMAIN,
        project="sheetcrm",
        fuzzy=False,
        creation_date=_EPOCH,
        revision_date=_EPOCH,
    )
    for text, flags in sorted(extract().items()):
        out.add(text, old.get(text, ""), flags=sorted(flags))
    return out


def untranslated(catalog: Catalog) -> list[str]:
    return [str(m.id) for m in catalog if m.id and not m.string]


def po_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=120, sort_output=True, no_location=True)
    return buf.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Update every ``.po`` and ``.mo``; report untranslated messages (exit 1 if any)."""
    missing = 0
    for lang in CATALOG_LANGUAGES:
        catalog = merged(lang)
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(po_bytes(catalog))
        path.with_suffix(".mo").write_bytes(mo_bytes(catalog))
        for text in untranslated(catalog):
            print(f"{lang}: no translation for {text!r}", file=sys.stderr)
            missing += 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
