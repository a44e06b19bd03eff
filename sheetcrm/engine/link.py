"""Linking: what a person typed in a reference column -> the record it means.

People type a company's name in a contact's Company column and a customer's name (or
email, or phone) in an activity, as well as IDs. Every reference column accepts an ID or
the name form, matched on the normalised text of :mod:`sheetcrm.cells.normalize` (the
same folding likely-duplicate checks use). Pure: bound tables in, resolved IDs and
problems out; the person's cells are never changed.

* an ID of an existing record (or of one getting a new ID this run) links;
* a unique match by name, email or phone links, and the row's Problems says so
  ("matched 台灣好物 by name");
* several matches: a problem listing the candidates (narrowed first by the row's company,
  as a person would);
* no match: a problem saying "did you mean ..." with the closest names; text that looks
  like an ID of the tab (a deleted record) stays a dangling reference.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sheetcrm.cells.normalize import fold_email, fold_name, fold_phone, normalize_company_name
from sheetcrm.engine.bind import PROBLEM_COLUMNS, ROW, Table, column_label, empty_problems
from sheetcrm.exceptions import Joined, Phrase, Worded
from sheetcrm.i18n import N_
from sheetcrm.schema import ColumnType, Severity, Tab

#: Severity of a problem row that only tells what sheetcrm understood.
NOTE = Severity.NOTE
#: Tabs whose reference columns are linked, in an order where a row's company is linked
#: before the contact or deal it narrows.
LINK_ORDER = (Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES)
MAX_CANDIDATES = 5
HOW = {"id": N_("ID"), "name": N_("name"), "email": N_("email"), "phone": N_("phone")}
_ID_LIKE = re.compile(r"^[A-Za-z]{1,4}-?\d+$")


@dataclass
class Targets:
    """The records of one tab a reference can name: their IDs (new ones included),
    display names, each one's company (by ID), and (:attr:`keys`) the folded keys
    (kind, key) -> IDs."""

    ids: pd.Series
    names: pd.Series
    company: pd.Series
    #: The tab's typed frame (rows with an ID only), for :attr:`keys`.
    records: pd.DataFrame
    tab: Tab

    @functools.cached_property
    def known(self) -> set[Any]:
        """Every ID a reference may hold."""
        return set(self.ids.to_numpy(dtype=object).tolist())

    @functools.cached_property
    def name_of(self) -> dict[Any, Any]:
        """ID -> display name (built on first use)."""
        return dict(zip(self.ids.tolist(), self.names.reindex(self.ids.index).tolist(), strict=True))

    @functools.cached_property
    def keys(self) -> dict[tuple[str, str], list[str]]:
        """(kind, folded key) -> the IDs of the records it names. Built on first use: a
        workbook whose references are all IDs never needs it."""
        keys: dict[tuple[str, str], list[str]] = {}
        id_list = self.ids.tolist()
        t = self.records

        def add(kind: str, folded: pd.Series) -> None:
            for key, record in zip(folded.tolist(), id_list, strict=True):
                if isinstance(key, str) and key:
                    keys.setdefault((kind, key), []).append(record)

        add("name", t["Name"].map(lambda n: _fold_target_name(self.tab, n), na_action="ignore"))
        if self.tab is Tab.CONTACTS:
            # Typed emails and phones are already parsed (phones to +886...): fold no further
            # than fold_email / fold_phone would.
            add("email", t["Email"].str.casefold())
            for col in ("Phone", "Mobile"):
                if col in t:
                    add("phone", t[col])
        return keys


def _fold_target_name(tab: Tab, name: object) -> str:
    return normalize_company_name(name) if tab is Tab.COMPANIES else fold_name(name)


def targets(table: Table, new_ids: pd.Series, company: pd.Series | None = None) -> Targets:
    """Index the records of ``table`` for linking (``new_ids``: the IDs blank rows get
    this run; ``company``: each record's linked Company ID, indexed like the typed frame,
    for narrowing)."""
    t = table.typed
    ids = t["ID"].copy()
    if len(new_ids):
        ids.loc[new_ids.index] = new_ids
    keep = ids.notna()
    ids, names = ids[keep].astype(str), t.loc[keep, "Name"]
    by_id = pd.Series(company[keep].to_numpy() if company is not None else None, index=ids.to_numpy(), dtype=object)
    return Targets(
        ids,
        names.fillna("").astype(str),
        by_id[~by_id.index.duplicated()],
        t.loc[keep, [c for c in ("Name", "Email", "Phone", "Mobile") if c in t]],
        table.tab,
    )


_SIX_DIGITS = re.compile(r"\d{6,}")
_PHONE_PUNCTUATION = re.compile(r"[\s\-()]")


def _how(tab: Tab, text: str) -> list[tuple[str, str]]:
    """The (kind, folded key) a typed text could match, most specific first."""
    out: list[tuple[str, str]] = []
    if tab is Tab.CONTACTS:
        if "@" in text and (email := fold_email(text)):
            out.append(("email", email))
        if _SIX_DIGITS.search(_PHONE_PUNCTUATION.sub("", text)) and (phone := fold_phone(text)):
            out.append(("phone", phone))
    out.append(("name", _fold_target_name(tab, text)))
    return out


_DIFFLIB_POOL = 5000


def _folded_names(found: Targets, tab: Tab) -> dict[str, str]:
    cached = found.__dict__.get("_folded")
    if cached is None:
        cached = dict(zip(found.names.map(lambda n: _fold_target_name(tab, n)), found.names, strict=True))
        found.__dict__["_folded"] = cached
    return cached


@dataclass
class Resolution:
    id: str | None
    kind: str  # "id", "name", "email", "phone", "ambiguous", "none", "dangling"
    candidates: tuple[str, ...] = ()


def resolve(text: str, tab: Tab, found: Targets, known: set[str], company: str | None = None) -> Resolution:
    """What one typed reference means among ``found`` (``known``: its IDs)."""
    if text in known:
        return Resolution(text, "id")
    for kind, key in _how(tab, text):
        hits = list(dict.fromkeys(found.keys.get((kind, key), [])))
        if len(hits) > 1 and company is not None:
            narrowed = [h for h in hits if found.company.get(h) == company]
            hits = narrowed or hits
        if len(hits) == 1:
            return Resolution(hits[0], kind)
        if hits:
            return Resolution(None, "ambiguous", tuple(hits))
    if _ID_LIKE.match(text.strip()):
        return Resolution(None, "dangling")
    names = _folded_names(found, tab)
    key = _fold_target_name(tab, text)
    pool = list(names)
    if len(pool) > _DIFFLIB_POOL:  # difflib compares with every name: keep those sharing a character
        chars = set(key)
        pool = [n for n in pool if chars & set(n)][:_DIFFLIB_POOL]
    close = difflib.get_close_matches(key, pool, n=3, cutoff=0.5)
    return Resolution(None, "none", tuple(names[c] for c in close))


def link_references(
    tables: dict[Tab, Table], new_ids: dict[Tab, pd.Series], lang: str
) -> tuple[dict[Tab, dict[str, pd.Series]], pd.DataFrame]:
    """Resolve every reference cell of every tab.

    In: bound tables, the IDs blank rows get this run (:func:`~sheetcrm.engine.ids.issue_ids`)
    and the workbook's language. Out: per tab, per reference column, the linked ID of each
    record (None when the cell is blank or links nothing; indexed like the typed frame),
    and the problems (columns of :data:`~sheetcrm.engine.bind.PROBLEM_COLUMNS`; severity
    "note" for a link made by name, email or phone, "error" for an ambiguous, unknown or
    dangling reference).
    """
    resolved: dict[Tab, dict[str, pd.Series]] = {}
    problems: list[pd.DataFrame] = []
    companies_of: dict[Tab, pd.Series] = {}
    # (target tab, candidate ID) -> [(tab, text, rows, all candidates)] of the references
    # that could be it and others: said on the candidate's own row too, as what it misses.
    unclaimed: dict[tuple[Tab, str], list[tuple[str, str, int, tuple[str, ...]]]] = {}
    cache: dict[Tab, Targets] = {}

    def target_index(tab: Tab) -> Targets:
        if tab not in cache:
            cache[tab] = targets(tables[tab], new_ids.get(tab, pd.Series(dtype=object)), companies_of.get(tab))
        return cache[tab]

    for tab in LINK_ORDER:
        table = tables.get(tab)
        if table is None:
            continue
        out: dict[str, pd.Series] = {}
        # The row's company first: it narrows an ambiguous contact or deal name.
        # A reference into a tab the workbook does not keep (a shop's 公司 column, with no
        # companies tab) is the people's own text: nothing to link it to, nothing wrong.
        refs = sorted(
            (
                c
                for c in table.spec.columns
                if c.type is ColumnType.REF
                and c.ref is not None
                and c.key in table.raw
                and c.ref in tables
                and tables[c.ref].present
            ),
            key=lambda c: c.key != "Company ID",
        )
        for col in refs:
            assert col.ref is not None
            found = target_index(col.ref)
            known = found.known
            values = table.typed[col.key]
            linked = pd.Series(None, index=values.index, dtype=object)
            exact = values.notna() & values.isin(known)
            linked[exact] = values[exact]
            rest = values.notna() & ~exact
            row_company = out.get("Company ID") if col.key != "Company ID" else None
            if rest.any():
                pending = pd.DataFrame(
                    {
                        "text": values[rest].astype(str),
                        "company": row_company[rest] if row_company is not None else None,
                    }
                )
                # Resolve each distinct (text, company) once: names repeat across rows.
                codes = pending.groupby(["text", "company"], sort=False, dropna=False).ngroup().to_numpy()
                firsts = np.unique(codes, return_index=True)[1]
                ids = np.empty(len(firsts), dtype=object)
                messages = np.empty(len(firsts), dtype=object)
                notes = np.empty(len(firsts), dtype=bool)
                as_company = np.full(len(firsts), None, dtype=object)
                distinct = pending.iloc[firsts]
                for k, (text, company) in enumerate(zip(distinct["text"], distinct["company"], strict=True)):
                    res = resolve(text, col.ref, found, known, company if isinstance(company, str) else None)
                    if res.kind == "ambiguous":
                        n = int((codes == k).sum())
                        for candidate in res.candidates:
                            unclaimed.setdefault((col.ref, candidate), []).append(
                                (table.title, text, n, res.candidates)
                            )
                    ids[k] = res.id
                    notes[k] = res.id is not None
                    messages[k] = _message(res, text, col.ref, tables[col.ref].title, found, lang)
                    if res.kind == "none" and col.key == "Contact ID" and Tab.COMPANIES in tables:
                        # A shop's 客戶 is often a company: a name no contact has may be one.
                        firms = target_index(Tab.COMPANIES)
                        firm = resolve(text, Tab.COMPANIES, firms, firms.known, None)
                        if firm.id is not None:
                            as_company[k], notes[k] = firm.id, True
                            messages[k] = _message(firm, text, Tab.COMPANIES, tables[Tab.COMPANIES].title, firms, lang)
                        elif firm.kind == "none" and firm.candidates:
                            # A misspelt shop (好日子咖非) is as likely as a misspelt person.
                            near = Resolution(None, "none", (*res.candidates, *firm.candidates)[:3])
                            messages[k] = _message(near, text, col.ref, tables[col.ref].title, found, lang)
                linked[rest] = ids[codes]
                firm_ids = pd.Series(as_company[codes], index=values[rest].index, dtype=object)
                if firm_ids.notna().any():
                    # The row's company, where the sheet names none (or none that links).
                    row_firm = out.get("Company ID", pd.Series(None, index=values.index, dtype=object))
                    out["Company ID"] = row_firm.where(row_firm.notna(), firm_ids.reindex(values.index))
                id_values = table.ids().loc[rest] if table.spec.id_column == "ID" else None
                problems.append(
                    pd.DataFrame(
                        {
                            "tab": table.title,
                            "row": table.typed.loc[rest, ROW].astype(int).to_numpy(),
                            "id": id_values.to_numpy() if id_values is not None else None,
                            "column": _column(table, col.key),
                            "value": pending["text"].to_numpy(),
                            "problem": messages[codes],
                            "severity": np.where(notes[codes], NOTE, "error").astype(object),
                        }
                    )
                )
            out[col.key] = linked
        resolved[tab] = out
        if "Company ID" in out:
            companies_of[tab] = out["Company ID"]
    if unclaimed:
        problems.append(_unclaimed(unclaimed, tables, new_ids, lang))
    frame = pd.concat(problems, ignore_index=True)[PROBLEM_COLUMNS] if problems else empty_problems()
    return resolved, frame


def _unclaimed(
    unclaimed: dict[tuple[Tab, str], list[tuple[str, str, int, tuple[str, ...]]]],
    tables: dict[Tab, Table],
    new_ids: dict[Tab, pd.Series],
    lang: str,
) -> pd.DataFrame:
    """A warning on each record that references name ambiguously (two 洪雅婷): what it
    misses (her orders count for nobody), so that a customer shown as never buying says why."""
    rows = []
    for tab in dict.fromkeys(t for t, _ in unclaimed):
        table = tables[tab]
        ids = table.typed["ID"].astype(object)
        issued = new_ids.get(tab)
        if issued is not None and len(issued):
            ids = ids.where(ids.notna(), issued.reindex(ids.index))
        at = dict(zip(ids.astype(str), table.typed[ROW].astype(int), strict=True))
        for (target, candidate), refs in unclaimed.items():
            if target is not tab or candidate not in at:
                continue
            for title, text, n, candidates in refs:
                others = ", ".join(c for c in candidates if c != candidate)
                said = Phrase(
                    N_(
                        "{n} row(s) of {tab} name {text}, which could also be {others}: they count for "
                        "neither; write the ID in those rows, or merge the duplicates"
                    ),
                    {"n": n, "tab": title, "text": text, "others": others},
                )
                rows.append(
                    {
                        "tab": table.title,
                        "row": at[candidate],
                        "id": candidate,
                        "column": _column(table, "Name"),
                        "value": None,
                        "problem": Worded(said, lang),
                        "severity": Severity.WARNING,
                    }
                )
    return pd.DataFrame(rows, columns=PROBLEM_COLUMNS) if rows else empty_problems()


def _column(table: Table, key: str) -> str:
    return column_label(table.headers, key)


def _message(res: Resolution, text: str, tab: Tab, title: str, found: Targets, lang: str) -> Worded:
    """What a person reads about one reference, in ``lang`` (re-worded in another by
    validation: see :class:`~sheetcrm.exceptions.Worded`)."""
    if res.id is not None:
        name = found.name_of.get(res.id)
        how = Phrase(HOW[res.kind])
        if isinstance(name, str) and name.strip() and name.strip() != text.strip():
            # Say whom it matched, not only what was typed ("台灣好物" -> the full company name).
            said = Phrase(
                N_("matched {text} by {how} to {name} ({id})"), {"text": text, "how": how, "name": name, "id": res.id}
            )
        else:
            said = Phrase(N_("matched {text} by {how} ({id})"), {"text": text, "how": how, "id": res.id})
    elif res.kind == "ambiguous":
        shown = [f"{c} {found.name_of.get(c) or ''}".strip() for c in res.candidates]
        more = len(shown) - MAX_CANDIDATES
        listed = ", ".join(shown[:MAX_CANDIDATES]) + (f" (+{more})" if more > 0 else "")
        said = Phrase(
            N_("{text} could be any of {candidates}; write the ID of the one you mean"),
            {"text": text, "candidates": listed},
        )
    elif res.kind == "dangling":
        said = Phrase(
            N_("{text} matches no ID in the {tab} tab (a deleted record?); expected the ID or name of an existing one"),
            {"text": text, "tab": title},
        )
    elif res.candidates:
        said = Phrase(
            N_("{text} matches no ID or name in the {tab} tab; did you mean {names}?"),
            {"text": text, "tab": title, "names": Joined(N_(" or "), tuple(res.candidates))},
        )
    else:
        said = Phrase(
            N_("{text} matches no ID or name in the {tab} tab; expected the ID or name of an existing one"),
            {"text": text, "tab": title},
        )
    return Worded(said, lang)
