"""Lead import: a campaign's list of people (CSV or .xlsx) into Contacts and Companies,
without duplicates.

Pure steps over DataFrames: :func:`read_lead_file` (bytes -> a frame of the file's
cells), :func:`lead_frame` (headers matched in English or Chinese, ``--map`` for odd
ones), :func:`plan_leads` (every row parsed with the schema's parsers and matched against
the workbook with :mod:`sheetcrm.cells.normalize`; outcomes and one write plan).
:func:`import_leads` reads through a backend and writes the plan in one write.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sheetcrm.backends.append import NewRows
from sheetcrm.backends.base import Backend, ChangeKind, RawTab, WritePlan, WriteReport, log_entry
from sheetcrm.cells.normalize import (
    email_keys,
    fold_column,
    fold_distinct,
    normalize_company_name,
    person_keys,
    phone_keys,
)
from sheetcrm.cells.parse import ParseOptions, is_blank, parse_column
from sheetcrm.cells.wording import cell_problem
from sheetcrm.engine.bind import ROW, Table, bind_tabs
from sheetcrm.engine.compute import next_ids
from sheetcrm.exceptions import LeadFileError, Phrase, shown
from sheetcrm.i18n import N_
from sheetcrm.schema import COMPANIES, CONTACTS, TABS, Column, LabeledEnum, Lang, Tab, normalize_label
from sheetcrm.settings import Settings
from sheetcrm.team.common import OWN_COLUMN, as_people_write, cell_changes, header, new_rows, run_id, write_plan
from sheetcrm.team.messages import say


class LeadStatus(LabeledEnum):
    """What became of one row of a lead file."""

    ADDED = ("added", "新增")
    DUPLICATE = ("duplicate", "疑似重複")
    MERGED = ("merged", "已合併")
    REJECTED = ("rejected", "拒絕")


#: The lead column holding the company's name (Companies' Name).
COMPANY = "Company"
_CONTACT_KEYS = ("Name", "Title", "Role", "Email", "Mobile", "Phone", "Owner", "Source", "Created", "Opt-out")
_COMPANY_KEYS = ("Industry", "Region", "Size")
#: Cells of an existing contact that ``merge_empty`` may fill when blank.
MERGE_KEYS = ("Company ID", "Title", "Role", "Email", "Mobile", "Phone")
OUTCOME_COLUMNS = ["row", "status", "id", "name", "reason"]


def lead_columns() -> dict[str, Column]:
    """The columns a lead file may have, by key: the contact's, the company's name and its
    Industry, Region and Size."""
    out = {k: CONTACTS.column(k) for k in _CONTACT_KEYS}
    out[COMPANY] = Column(COMPANY, "公司", aliases=("公司名稱", "Company Name", "Organization", "Organisation", "單位"))
    out.update({k: COMPANIES.column(k) for k in _COMPANY_KEYS})
    return out


# ------------------------------------------------------------------------- reading


#: How a lead file is named in a message when its path is not known.
THE_FILE = Phrase(N_("the file"))


def decode_lead_bytes(data: bytes, name: str | Phrase = THE_FILE) -> str:
    """Text of a CSV file saved by Excel or anything else: UTF-8 (with or without BOM),
    UTF-16 with BOM, or Big5/CP950 (Excel in Taiwan). Each is tried strictly, in that
    order; bytes valid in none of them are a :class:`LeadFileError`."""
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "cp950"]
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LeadFileError(
        Phrase(
            N_(
                "{name} is neither UTF-8 nor Big5 text; open it in Excel and save it as "
                "'CSV UTF-8 (comma delimited)', then import again"
            ),
            {"name": name},
        )
    )


def read_lead_file(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The cells of a lead file (.csv, .txt or .xlsx) as text, one column per header cell
    (as written in the file), indexed by file row number (the header is row 1). Blank
    cells are None; fully blank rows are dropped."""
    path = Path(path)
    if not path.is_file():
        raise LeadFileError(Phrase(N_("no lead file at {path}"), {"path": shown(path)}))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        text = decode_lead_bytes(path.read_bytes(), shown(path))
        dialect: Any = (
            csv.excel_tab if suffix == ".tsv" or ("\t" in text[:2000] and "," not in text[:2000]) else csv.excel
        )
        grid: list[list[Any]] = [list(r) for r in csv.reader(io.StringIO(text, newline=""), dialect)]
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise LeadFileError(
                Phrase(N_("{path} cannot be read as .xlsx ({kind})"), {"path": shown(path), "kind": type(exc).__name__})
            ) from None
        try:
            grid = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
    else:
        raise LeadFileError(
            Phrase(N_("{path} is not a .csv or .xlsx file; save the lead list as CSV or Excel"), {"path": shown(path)})
        )
    return grid_frame(grid, shown(path))


def grid_frame(grid: list[list[Any]], name: str | Phrase = THE_FILE) -> pd.DataFrame:
    """Rows of cells (the first is the header) -> the frame :func:`read_lead_file` returns."""
    if not grid or not any(not is_blank(c) for c in grid[0]):
        raise LeadFileError(Phrase(N_("{name} has no header row in its first row"), {"name": name}))
    head = ["" if c is None else str(c).strip() for c in grid[0]]
    width = len(head)
    rows = [[None if is_blank(c) else c for c in (r + [None] * width)[:width]] for r in grid[1:]]
    frame = pd.DataFrame(rows, columns=pd.Index(head, dtype=object), index=range(2, len(rows) + 2), dtype=object)
    return frame[~frame.isna().all(axis=1)]


def lead_frame(cells: pd.DataFrame, mapping: dict[str, str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The file's columns under lead keys (:func:`lead_columns`): headers in English,
    Chinese or an alias; ``mapping`` (file header -> column, e.g. {"手機": "Phone"}) for
    others. Returns the frame (raw cells) and the headers left unused."""
    columns = lead_columns()
    index: dict[str, str] = {}
    for key, col in columns.items():
        for label in col.labels():
            index.setdefault(normalize_label(label), key)
    wanted: dict[str, str] = {}
    for theirs, ours in (mapping or {}).items():
        found = index.get(normalize_label(ours))
        if found is None:
            raise LeadFileError(
                Phrase(
                    N_("--map {pair}: {column} is not a lead column; use one of {columns}"),
                    {"pair": f"{theirs}={ours}", "column": repr(ours), "columns": ", ".join(columns)},
                )
            )
        wanted[normalize_label(theirs)] = found
    out: dict[str, pd.Series] = {}
    unused: list[str] = []
    for pos, head in enumerate(cells.columns):
        folded = normalize_label(head)
        hit = wanted.get(folded) or index.get(folded)
        if hit is None or hit in out:
            if str(head):
                unused.append(str(head))
            continue
        out[hit] = cells.iloc[:, pos]
    if "Name" not in out:
        raise LeadFileError(
            Phrase(
                N_(
                    "the lead file has no Name column ({name}); name its header Name or {name}, "
                    'or map it with --map "HEADER=Name"'
                ),
                {"name": "姓名"},
            )
        )
    return pd.DataFrame(out, index=cells.index), unused


# ------------------------------------------------------------------------ planning


@dataclass
class LeadPlan:
    """What an import does: ``outcomes`` (one row per lead: file row, status, ID, name,
    reason), ``write`` (the one write), ``counts`` and ``notes`` (columns not imported)."""

    outcomes: pd.DataFrame
    write: WritePlan
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)


def plan_leads(
    leads: pd.DataFrame,
    tables: dict[Tab, Table],
    settings: Settings,
    *,
    source: str,
    file_name: str,
    merge_empty: bool = False,
    today: dt.date,
    now: dt.datetime,
    run: str = "",
    lang: str | None = None,
    own: pd.DataFrame | None = None,
) -> LeadPlan:
    """Check every lead (``leads``: raw cells under lead keys, indexed by file row) and plan
    the import into ``tables`` (Contacts and Companies bound).

    A row is rejected when its Name is blank or a cell does not parse; a duplicate when
    its email, phone, or name and company (each folded by :mod:`sheetcrm.cells.normalize`)
    match a contact or an earlier row of the file: duplicates are listed, never merged
    silently; with ``merge_empty`` a duplicate of exactly one contact fills that contact's
    blank cells. Other rows become new contacts (fresh IDs, Source, Created) and their
    unknown companies new companies.

    Outcomes and notes are told in ``lang`` (default: the workbook's language); what is
    written into the workbook (its Log) always in the workbook's language. ``own``: more
    cells of each lead for the Contacts tab's own columns, under :data:`OWN_COLUMN` keys.
    """
    wb = str(settings.language)
    lang = str(lang or wb)
    opts = ParseOptions.from_settings(settings)
    columns = lead_columns()
    contacts, companies = tables[Tab.CONTACTS], tables[Tab.COMPANIES]
    leads = leads.reindex(columns=[k for k in columns if k in leads or k in ("Name",)])

    # 1. parse: the schema's parsers, one problem per row (the first column that fails).
    typed: dict[str, pd.Series] = {}
    reason = pd.Series(None, index=leads.index, dtype=object)
    for key in leads.columns:
        values, problems = parse_column(leads[key], columns[key], opts)
        values.index = leads.index
        typed[key] = values
        bad = problems.notna().to_numpy() & reason.isna().to_numpy()
        if bad.any():
            reason[bad] = [
                say(
                    "lead.bad_cell",
                    lang,
                    column=columns[key].header(lang),
                    problem=cell_problem(p, lang),
                )
                for p in problems[bad]
            ]
    no_name = leads["Name"].map(is_blank).to_numpy()
    reason[no_name] = say("lead.no_name", lang)
    status = pd.Series(LeadStatus.ADDED, index=leads.index, dtype=object)
    status[reason.notna()] = LeadStatus.REJECTED
    ok = status == LeadStatus.ADDED

    # 2. companies: the lead's company by folded name.
    co_key_existing = fold_column(companies.raw_column("Name"), normalize_company_name)
    co_ids_existing = companies.raw_column("ID")
    lead_co = leads[COMPANY] if COMPANY in leads else pd.Series(None, index=leads.index, dtype=object)
    # A lead file exported from this workbook names companies by ID (CO-0036): that company.
    named_by_id = {
        str(i).strip().upper(): n
        for i, n in zip(co_ids_existing, companies.raw_column("Name"), strict=True)
        if not is_blank(i) and not is_blank(n)
    }
    lead_co = lead_co.map(lambda v: named_by_id.get(str(v).strip().upper(), v) if isinstance(v, str) else v)
    lead_co_key = fold_column(lead_co, normalize_company_name)
    co_id_text = _keys(companies)
    co_index = _index(co_key_existing, co_id_text, lead_co_key)

    # 3. duplicates against Contacts: email, then phone, then name + company (the company
    # cell holds an ID or, in a sheet kept by names, the name itself).
    contacts_company = contacts.raw_column("Company ID")
    existing_company_name = contacts_company.map(dict(zip(co_id_text, companies.raw_column("Name"), strict=True)))
    existing_company_name = existing_company_name.where(existing_company_name.notna(), contacts_company)
    # Binding parsed every Email and Phone cell with the parsers fold_email and fold_phone
    # use: their results are the folded keys, so no cell is parsed twice. A lead whose
    # email or phone did not parse is rejected above and never matched.
    existing = {
        "email": email_keys(contacts.typed["Email"]),
        # Either phone column (手機 Mobile, 電話 Phone) identifies a person.
        "phone": phone_keys(contacts.typed["Phone"]).fillna(phone_keys(contacts.typed["Mobile"])),
        "name": person_keys(contacts.raw_column("Name"), existing_company_name),
    }
    lead_keys = {
        "email": email_keys(typed["Email"]) if "Email" in typed else _nones(leads.index),
        "phone": (phone_keys(typed["Phone"]) if "Phone" in typed else _nones(leads.index)).fillna(
            phone_keys(typed["Mobile"]) if "Mobile" in typed else _nones(leads.index)
        ),
        "name": person_keys(leads["Name"], lead_co),
    }
    contact_ids = _keys(contacts)
    match: dict[Any, list[str]] = {}
    for which in ("email", "phone", "name"):
        index = _index(existing[which], contact_ids, lead_keys[which])
        hits = lead_keys[which][ok.to_numpy()].dropna().map(index).dropna()
        hits = hits[~hits.index.isin(list(match))]
        if len(hits):
            match.update(hits.to_dict())
            status.loc[hits.index] = LeadStatus.DUPLICATE
            reason.loc[hits.index] = [say(f"lead.same_{which}", lang, ids=_shown_ids(ids)) for ids in hits]
    # ... and against earlier rows of the file.
    for which in ("email", "phone", "name"):
        alive = (status == LeadStatus.ADDED) | (status == LeadStatus.DUPLICATE)
        keys = lead_keys[which][alive.to_numpy()].dropna()
        first = pd.Series(keys.index, index=keys.index).groupby(keys.to_numpy(), sort=False).transform("first")
        later = first[(first != first.index).to_numpy() & (status[first.index] == LeadStatus.ADDED).to_numpy()]
        if len(later):
            status.loc[later.index] = LeadStatus.DUPLICATE
            what = say(f"lead.key.{which}", lang)
            reason.loc[later.index] = [say("lead.same_in_file", lang, what=what, row=int(at)) for at in later]

    # 4. merge into blank cells of the one matching contact.
    cells: list[pd.DataFrame] = []
    log: list[dict[str, Any]] = []
    merged = 0
    # Company references go in as people keep that column: names where they type names.
    company_names = pd.Series(companies.typed["Name"].to_numpy(dtype=object), index=co_id_text.to_numpy())
    if merge_empty:
        by_id = pd.Series(contacts.typed.index, index=contact_ids.to_numpy())
        by_id = by_id[~by_id.index.duplicated(keep=False)]
        for row, ids in match.items():
            if len(ids) != 1:
                reason[row] = say("lead.ambiguous", lang, ids=_shown_ids(ids))
                continue
            at = by_id.get(ids[0])
            if at is None:
                continue
            fills: dict[str, Any] = {}
            for key in MERGE_KEYS:
                if key not in contacts.headers.positions or not is_blank(contacts.raw_column(key).at[at]):
                    continue
                if key == "Company ID":
                    company = pd.Series([_company_id(lead_co_key.get(row), co_index)], dtype=object)
                    value = as_people_write(contacts.raw_column(key), company, company_names).iloc[0]
                else:
                    value = _cell(leads, key, row)
                if not is_blank(value):
                    fills[key] = value
            for key, value in fills.items():
                cells.append(cell_changes(contacts, pd.Index([at]), key, pd.Series({at: value}), kind=ChangeKind.MERGE))
                log.append(
                    log_entry(
                        now,
                        run,
                        contacts.title,
                        ids[0],
                        header(Tab.CONTACTS, key, wb),
                        "",
                        value,
                        say("log.merged", wb, file=file_name, row=int(row)),
                        about=key,
                    )
                )
            status[row] = LeadStatus.MERGED
            reason[row] = say("lead.merged", lang, n=len(fills), id=ids[0])
            merged += 1

    # 5. new companies, then new contacts. A company new to the workbook but close to one
    # it has (春水茶房 / 春水茶坊) holds its leads back for a person: added, it would split
    # that customer's history in two.
    added = status == LeadStatus.ADDED
    notes: list[str] = []
    new_co = lead_co_key[added & lead_co_key.notna()]
    new_co = new_co[~new_co.isin(list(co_index)) & ~new_co.duplicated()]
    close = pd.Series(_similar_companies(companies, lead_co[new_co.index]), index=new_co.index, dtype=object)
    held = lead_co_key.isin(set(new_co[close != ""])) & added
    for row in status.index[held]:
        similar = close[new_co.index[new_co == lead_co_key[row]][0]]
        status[row] = LeadStatus.DUPLICATE
        reason[row] = say("lead.company_close", lang, name=lead_co[row], similar=similar)
    added = status == LeadStatus.ADDED
    # A workbook kept without a companies tab (a shop's) gets no companies: the lead's
    # company goes into the contact's company column as the text it is.
    new_co = new_co[close == ""] if companies.present else new_co[:0]
    co_new_ids = next_ids(co_ids_existing, COMPANIES.id_prefix, len(new_co))
    co_index.update({k: [i] for k, i in zip(new_co, co_new_ids, strict=True)})
    company_records = pd.DataFrame(
        {
            "ID": co_new_ids,
            "Name": _text(lead_co[new_co.index]),
            **{k: _text(leads[k][new_co.index]) for k in _COMPANY_KEYS if k in leads},
            "Source": source or Path(file_name).stem,
            "Created": today,
        },
        index=new_co.index,
    )
    rows_added = status.index[added]
    ct_new_ids = next_ids(contact_ids, CONTACTS.id_prefix, len(rows_added))
    company_ids = lead_co_key[rows_added].map(lambda k: _company_id(k, co_index))
    for row in rows_added[company_ids.isna() & lead_co_key[rows_added].notna()] if companies.present else []:
        notes.append(
            say("lead.company_ambiguous", lang, name=lead_co[row], ids=_shown_ids(co_index.get(lead_co_key[row], [])))
        )
    contact_records = pd.DataFrame(index=rows_added)
    contact_records["ID"] = ct_new_ids
    company_names = pd.concat([company_names, company_records.set_index("ID")["Name"]])
    contact_records["Company ID"] = (
        as_people_write(contacts.raw_column("Company ID"), company_ids, company_names)
        if companies.present
        else _text(lead_co[rows_added])
    )
    for key in _CONTACT_KEYS:
        if key in leads:
            contact_records[key] = typed[key][rows_added] if key == "Created" else _text(leads[key][rows_added])
    if own is not None:
        for key in own.columns:
            contact_records[key] = _text(own[key][rows_added])
    if source or "Source" not in contact_records:
        contact_records["Source"] = source or Path(file_name).stem
    else:
        contact_records["Source"] = contact_records["Source"].where(
            contact_records["Source"].notna(), Path(file_name).stem
        )
    created = contact_records["Created"] if "Created" in contact_records else _nones(rows_added)
    contact_records["Created"] = [today if pd.isna(v) else pd.Timestamp(v).date() for v in created]
    appends: list[NewRows] = []
    for tab, records in ((Tab.COMPANIES, company_records), (Tab.CONTACTS, contact_records)):
        rows, absent = new_rows(tables[tab], records.dropna(axis=1, how="all"))
        if rows is not None:
            appends.append(rows)
        if absent:
            missing = ", ".join(TABS[tab].column(k).header(lang) for k in absent)
            notes.append(say("import.absent_columns", lang, tab=tables[tab].title, columns=missing))

    def add_entry(table: Table, rid: str, name: Any, why: str) -> dict[str, Any]:
        if "ID" in table.headers.positions:
            return log_entry(now, run, table.title, rid, header(table.tab, "ID", wb), "", rid, why, about="ID")
        # A tab kept without IDs gets none from an import (the next sync numbers it): the
        # Log names the row by what it holds, not by an ID no cell has.
        return log_entry(now, run, table.title, "", header(table.tab, "Name", wb), "", name, why)

    for rid, name in zip(co_new_ids, company_records["Name"], strict=True):
        why = say("log.company_added", wb, file=file_name, source=source or Path(file_name).stem)
        log.append(add_entry(companies, rid, name, why))
    for rid, name, src in zip(ct_new_ids, contact_records["Name"], contact_records["Source"], strict=True):
        log.append(add_entry(contacts, rid, name, say("log.lead_added", wb, file=file_name, source=src)))

    status.loc[rows_added] = LeadStatus.ADDED
    found_ids = pd.Series(None, index=leads.index, dtype=object)
    found_ids[rows_added] = ct_new_ids
    for row, found in match.items():
        found_ids[row] = ", ".join(found)
    reason[rows_added] = say("lead.added", lang)
    counts = {
        "total": len(leads),
        "added": len(rows_added),
        "duplicates": int((status == LeadStatus.DUPLICATE).sum()),
        "merged": merged,
        "rejected": int((status == LeadStatus.REJECTED).sum()),
        "companies": len(co_new_ids),
    }
    if log or appends or cells:
        log.append(log_entry(now, run, reason=say("log.import_summary", wb, file=file_name, **counts)))
    outcomes = pd.DataFrame(
        {
            "row": leads.index.astype(int),
            "status": [LeadStatus(s).label(lang) for s in status],
            "id": found_ids.to_numpy(),
            "name": _text(leads["Name"]).to_numpy(),
            "reason": reason.to_numpy(),
        }
    )
    return LeadPlan(outcomes, write_plan(tables, settings, cells, appends, log), counts, notes)


def _nones(index: pd.Index) -> pd.Series:
    return pd.Series(None, index=index, dtype=object)


def _text(values: pd.Series) -> pd.Series:
    """Cells as a person typed them (trimmed text; numbers and dates as they are)."""
    return values.map(lambda v: None if is_blank(v) else (v.strip() if isinstance(v, str) else v))


def _cell(frame: pd.DataFrame, key: str, row: Any) -> Any:
    if key not in frame:
        return None
    v = frame.at[row, key]
    return None if is_blank(v) else (v.strip() if isinstance(v, str) else v)


def _keys(table: Table) -> pd.Series:
    """Each record's ID as text or, for one not numbered yet (typed since the last sync),
    its place (連絡人!4): a key a lead can be matched to and a person can find either way,
    so that a person already in the sheet is not added again."""
    ids = _id_texts(table.raw_column("ID"))
    return ids.where(ids.notna(), table.title + "!" + table.typed[ROW].astype(str))


def _id_texts(values: pd.Series) -> pd.Series:
    """:func:`_id_text` of each cell, computed once per distinct value."""
    return fold_distinct(values, _id_text)


def _id_text(value: Any) -> str | None:
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _index(keys: pd.Series, ids: pd.Series, wanted: pd.Series | None = None) -> dict[Any, list[str]]:
    """Folded key -> the IDs (``ids``: as :func:`_id_texts` gives them, in row order) of the
    records holding it; with ``wanted``, only the keys found there (the lead file's), which
    is all a lookup ever asks for: the dict then holds thousands of keys, not the
    workbook's hundred thousand."""
    k = keys.to_numpy(dtype=object)
    i = ids.to_numpy(dtype=object)
    keep = pd.notna(k) & pd.notna(i)
    if wanted is not None:
        keep &= keys.isin(pd.unique(wanted.dropna().to_numpy(dtype=object))).to_numpy()
    out: dict[Any, list[str]] = {}
    for key, rid in zip(k[keep].tolist(), i[keep].tolist(), strict=True):
        out.setdefault(key, []).append(rid)
    return out


#: How alike a new company's name must be to a known one to hold its leads back: one
#: character off in four (春水茶房 / 春水茶坊), not two names that share a word (大同 / 大華).
SIMILAR_COMPANY = 0.75


def _similar_companies(companies: Table, names: pd.Series) -> list[str]:
    """For each new company's name, the known companies whose names are close to it
    ("" for none): linking's suggestions for a name that matches nothing, the closest."""
    from sheetcrm.engine.link import resolve, targets

    # A company not numbered yet (no sync since it was typed) is as known as any other.
    keys = _keys(companies)
    blank = companies.typed["ID"].isna()
    found = targets(companies, keys[blank])
    out = []
    for name in names:
        res = resolve(str(name), Tab.COMPANIES, found, found.known)
        mine = normalize_company_name(str(name))
        close = [
            c
            for c in res.candidates
            if difflib.SequenceMatcher(None, mine, normalize_company_name(c)).ratio() >= SIMILAR_COMPANY
        ]
        out.append(", ".join(close) if res.kind == "none" else "")
    return out


def _company_id(key: Any, index: dict[Any, list[str]]) -> str | None:
    found = index.get(key) if key is not None else None
    return found[0] if found and len(found) == 1 else None


def _shown_ids(ids: list[str]) -> str:
    return ", ".join(ids[:3]) + (f" (+{len(ids) - 3})" if len(ids) > 3 else "")


# --------------------------------------------------------------------- orchestration


@dataclass
class ImportResult:
    """What ``import`` did: per-row ``outcomes``, ``counts``, ``notes``, the planned write
    and the backend's report (None on a dry run)."""

    outcomes: pd.DataFrame
    counts: dict[str, int]
    notes: list[str]
    plan: WritePlan
    report: WriteReport | None
    dry_run: bool
    lang: Lang

    def summary_lines(self) -> list[str]:
        lang = self.lang
        lines = [say("import.summary", lang, **self.counts)]
        rejected = self.outcomes[self.outcomes["status"] == LeadStatus.REJECTED.label(lang)]
        lines += [say("import.rejected_line", lang, row=r.row, reason=r.reason) for r in rejected.itertuples()]
        dupes = self.outcomes[self.outcomes["status"] == LeadStatus.DUPLICATE.label(lang)]
        lines += [say("import.duplicate_line", lang, row=r.row, reason=r.reason) for r in dupes.itertuples()]
        lines += self.notes
        if self.dry_run:
            lines.append(say("dry_run", lang))
        elif self.report is not None:
            lines.append(say("written", lang, cells=self.report.written, rows=self.report.appended))
            if self.report.skipped:
                lines.append(say("skipped", lang, n=len(self.report.skipped)))
            lines += [note.in_language(lang) for note in self.report.notes]
        return lines


def import_leads(
    backend: Backend,
    leads_path: str | os.PathLike[str],
    *,
    source: str | None = None,
    mapping: dict[str, str] | None = None,
    merge_empty: bool = False,
    dry_run: bool = False,
    today: dt.date | None = None,
    raw: dict[Tab, RawTab] | None = None,
    lang: str | None = None,
) -> ImportResult:
    """Import the lead file at ``leads_path`` into the workbook behind ``backend``: read it
    once (or use ``raw`` already read), plan (:func:`plan_leads`), write once unless
    ``dry_run``. ``source`` fills Source (default: the file's own Source column, else the
    file name). ``lang`` is the language of the outcomes and summary (default: the
    workbook's)."""
    cells = read_lead_file(leads_path)
    leads, unused = lead_frame(cells, mapping)
    raw = raw if raw is not None else backend.read()
    tables, settings, _issues = bind_tabs(raw, (Tab.COMPANIES, Tab.CONTACTS, Tab.LOG))
    # A column the file shares by name with one of the people's own on the Contacts tab
    # (備註, 生日) goes there too: a lead's note is not left behind.
    heads = tables[Tab.CONTACTS].headers
    own_at = {normalize_label(heads.texts[i]): i for i in heads.extras if i < len(heads.texts) and heads.texts[i]}
    at = {str(h): k for k, h in enumerate(cells.columns)}
    kept = [h for h in unused if normalize_label(h) in own_at]
    own = pd.DataFrame(
        {f"{OWN_COLUMN}{own_at[normalize_label(h)]}": cells.iloc[:, at[h]] for h in kept}, index=cells.index
    )
    unused = [h for h in unused if h not in kept]
    now = dt.datetime.now().replace(microsecond=0)
    name = Path(leads_path).name
    plan = plan_leads(
        leads,
        tables,
        settings,
        source=source or "",
        file_name=name,
        merge_empty=merge_empty,
        today=today or now.date(),
        now=now,
        run=run_id(now),
        lang=lang,
        own=own,
    )
    spoken = Lang(lang or settings.language)
    if unused:
        plan.notes.insert(0, say("import.unused_columns", spoken, columns=", ".join(unused)))
    report = None if dry_run or plan.write.empty else backend.write(plan.write)
    return ImportResult(plan.outcomes, plan.counts, plan.notes, plan.write, report, dry_run, spoken)


def import_target(
    target: str | os.PathLike[str], leads_path: str | os.PathLike[str], *, credentials: Any = None, **kwargs: Any
) -> ImportResult:
    """:func:`import_leads` into the workbook at ``target`` (an .xlsx path or a Google
    Sheets URL or key): what the ``import`` command runs."""
    from sheetcrm.workbook import open_backend

    return import_leads(open_backend(target, credentials=credentials), leads_path, **kwargs)
