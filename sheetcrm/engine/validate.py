"""Validation: every problem in the workbook's records, one row per bad cell.

Pure functions over bound :class:`~sheetcrm.engine.bind.Table` objects; nothing is written.
A problem names the tab, sheet row, record ID, column (header and letter), the value as
typed, and what is wrong and expected. ``severity`` is a :class:`~sheetcrm.schema.Severity`:
ERROR for values sheetcrm cannot use, WARNING for values it can use but that are probably
mistakes (likely duplicates).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from sheetcrm.cells.normalize import fold_name, normalize_company_name
from sheetcrm.cells.parse import blank_mask, named_currency
from sheetcrm.cells.wording import cell_problem
from sheetcrm.customers.transactions import purchase_mask, won_unrecorded
from sheetcrm.engine.bind import PROBLEM_COLUMNS, ROW, Table, column_label, empty_problems
from sheetcrm.exceptions import Worded
from sheetcrm.i18n import N_, tr
from sheetcrm.schema import PURCHASE_TYPES, RECORD_NOUN, TABS, ColumnType, Lang, Severity, Tab

_TAB_ORDER = {t: i for i, t in enumerate(TABS)}


def _col(table: Table, key: str) -> str:
    return column_label(table.headers, key)


def _each(lang: str, message: str, where: pd.Series | None = None, **fields: pd.Series | str) -> pd.Series:
    """``message`` translated once, then filled per row from Series (or scalar) fields;
    only for the rows where ``where`` holds (None elsewhere), when given."""
    template = tr(lang, message)
    index = next(v.index for v in fields.values() if isinstance(v, pd.Series))
    rows = where.fillna(False).astype(bool).to_numpy() if where is not None else np.ones(len(index), dtype=bool)
    columns = {
        k: (v[rows].astype(str).tolist() if isinstance(v, pd.Series) else [v] * int(rows.sum()))
        for k, v in fields.items()
    }
    out = np.full(len(index), None, dtype=object)
    out[rows] = [template.format(**dict(zip(columns, row, strict=True))) for row in zip(*columns.values(), strict=True)]
    return pd.Series(out, index=index, dtype=object)


def _noun(tab: Tab, lang: str) -> str:
    return tr(lang, RECORD_NOUN[tab])


def _problems(
    table: Table, mask: pd.Series, key: str, message: pd.Series | str, severity: Severity = Severity.ERROR
) -> pd.DataFrame:
    """Problem rows for the records where ``mask`` holds."""
    hits = mask.fillna(False).astype(bool).to_numpy()
    if not hits.any():
        return empty_problems()
    id_key = table.spec.id_column
    raw = table.raw
    return pd.DataFrame(
        {
            "tab": table.title,
            "row": table.typed[ROW].to_numpy()[hits],
            "id": table.ids().to_numpy()[hits] if id_key else None,
            "column": _col(table, key),
            "value": (raw[key].to_numpy()[hits] if key in raw else None),
            "problem": message.to_numpy()[hits] if isinstance(message, pd.Series) else message,
            "severity": severity,
        }
    )


def required_problems(table: Table, lang: str = "en") -> list[pd.DataFrame]:
    """Blank cells in required columns."""
    out = []
    for col in table.spec.columns:
        if col.required and col.key in table.raw:
            missing = table.typed[col.key].isna()
            missing[missing] = blank_mask(table.raw[col.key][missing])
            out.append(
                _problems(
                    table,
                    missing,
                    col.key,
                    tr(
                        lang,
                        "{column} is empty; every {noun} row needs one",
                        column=col.header(lang),
                        noun=_noun(table.tab, lang),
                    ),
                )
            )
    return out


def duplicate_id_problems(table: Table, lang: str = "en") -> list[pd.DataFrame]:
    """IDs used on more than one row: every such row is reported, naming the others."""
    key = table.spec.id_column
    if key is None or key not in table.raw:
        return []
    ids = table.typed[key]
    dup = ids.notna() & ids.duplicated(keep=False)
    if not dup.any():
        return []
    rows_by_id = table.typed[ROW][dup].groupby(ids[dup]).agg(lambda r: sorted(r.tolist()))
    others = pd.Series(
        [
            ", ".join(str(r) for r in rows_by_id[i] if r != row)
            for i, row in zip(ids[dup], table.typed[ROW][dup], strict=True)
        ],
        index=ids[dup].index,
    ).reindex(ids.index)
    message = (
        _each(
            lang,
            "ID '{value}' is also used on row(s) {rows}; each ID must be unique: change one, "
            "or clear the ID and sheetcrm fills a new one",
            dup,
            value=ids,
            rows=others.fillna(""),
        )
        if key == "ID"
        else _each(
            lang,
            "name '{value}' is also used on row(s) {rows}; each name must be unique",
            dup,
            value=ids,
            rows=others.fillna(""),
        )
    )
    return [_problems(table, dup, key, message)]


def activity_problems(table: Table, lang: str = "en") -> list[pd.DataFrame]:
    """Activities that link to nothing, and purchases without an amount."""
    t = table.typed
    links = t[["Contact ID", "Company ID", "Opportunity ID"]].notna().any(axis=1)
    out = [
        _problems(
            table,
            ~links & t["Type"].notna(),
            "Contact ID",
            tr(
                lang,
                "the activity names no contact, company or opportunity (by ID or name); "
                "expected at least one so it counts for someone",
            ),
            Severity.WARNING,
        )
    ]
    purchase = t["Type"].isin(list(PURCHASE_TYPES))
    no_amount = purchase & t["Amount"].isna()
    no_amount[no_amount] = blank_mask(table.raw_column("Amount")[no_amount])
    out.append(
        _problems(
            table,
            no_amount,
            "Amount",
            tr(lang, "a purchase without an Amount does not count in RFM; expected the amount paid"),
            Severity.WARNING,
        )
    )
    return out


def won_problems(table: Table, activities: Table, lang: str = "en") -> list[pd.DataFrame]:
    """Won deals that count as no purchase: no purchase activity records them and they
    have no Closed date to date them by."""
    t, a = table.typed, activities.typed
    # Timeless, unlike the transactions of a given day: any purchase naming the deal
    # records it, dated or not.
    recorded = a.loc[purchase_mask(a), "Opportunity ID"]
    # A deal without an ID yet is named by the ID this sync gives it (activities link to that).
    deals = t[["Stage"]].assign(ID=table.ids())
    undated = pd.Series(won_unrecorded(deals, recorded), index=t.index) & t["Closed"].isna()
    undated[undated] = blank_mask(table.raw_column("Closed")[undated])
    return [
        _problems(
            table,
            undated,
            "Closed",
            tr(
                lang,
                "a Won deal without a Closed date (and no Order activity) does not count as a "
                "purchase; expected the date it was won",
            ),
            Severity.WARNING,
        )
    ]


def amount_problems(table: Table, lang: str = "en", currency: str = "TWD") -> list[pd.DataFrame]:
    """Negative amounts: on an Order or Purchase activity a refund, which counts (a
    warning, so a slip of the minus sign is seen); anywhere else an error. An amount typed
    in a currency other than the workbook's (US$ 1,000 where it counts in TWD) is a
    warning: it is counted as if it were the workbook's."""
    refunds = purchase_mask(table.typed) if table.tab is Tab.ACTIVITIES else None
    out = []
    for col in table.spec.people_columns:
        if col.type is ColumnType.MONEY and col.key in table.raw:
            named = table.raw[col.key].map(named_currency)
            other = (named.notna() & (named != currency.upper())).to_numpy(dtype=bool) & table.typed[
                col.key
            ].notna().to_numpy(dtype=bool)
            if other.any():
                for code in sorted(set(named[other])):
                    said = tr(
                        lang,
                        "{column} is in {code}, but the workbook counts in {currency} (Settings money.currency): "
                        "it is counted as that many {currency}; convert it",
                        column=col.header(lang),
                        code=code,
                        currency=currency.upper(),
                    )
                    which = other & (named == code).to_numpy(dtype=bool)
                    out.append(
                        _problems(table, pd.Series(which, index=table.typed.index), col.key, said, Severity.WARNING)
                    )
            negative = (table.typed[col.key] < 0).to_numpy(dtype=bool, copy=True)
            header = col.header(lang)
            if refunds is not None and col.key == "Amount":
                said = tr(
                    lang,
                    "{column} is negative: it counts as a refund and lowers the customer's Monetary; "
                    "if it is no refund, remove the minus sign",
                    column=header,
                )
                out.append(
                    _problems(
                        table, pd.Series(negative & refunds, index=table.typed.index), col.key, said, Severity.WARNING
                    )
                )
                negative &= ~refunds
            said = tr(lang, "{column} is negative; expected an amount of 0 or more", column=header)
            out.append(_problems(table, pd.Series(negative, index=table.typed.index), col.key, said))
    return out


def owner_problems(table: Table, team: Table, lang: str = "en") -> list[pd.DataFrame]:
    """Owners that are not a rep in Team (only when Team lists anyone)."""
    if "Owner" not in table.raw or team.typed.empty:
        return []
    names = set(team.typed["Name"].dropna().map(fold_name))
    owners = table.typed["Owner"]
    # Each distinct owner is folded once: a few reps own thousands of rows.
    codes, distinct = pd.factorize(owners.to_numpy(dtype=object))
    known = np.array([fold_name(v) in names for v in distinct] + [True], dtype=bool)
    unknown = pd.Series(~known[codes], index=owners.index)
    return [
        _problems(
            table,
            unknown,
            "Owner",
            _each(
                lang,
                "Owner '{owner}' is not a Name in the {tab} tab; expected one of the team's names",
                unknown,
                owner=owners,
                tab=team.title,
            ),
            Severity.WARNING,
        )
    ]


def team_problems(table: Table, lang: str = "en") -> list[pd.DataFrame]:
    return [
        _problems(
            table,
            table.typed["Weight"] <= 0,
            "Weight",
            tr(lang, "Weight must be above 0; expected a capacity like 1, 2 or 0.5"),
        )
    ]


def _shared_phone_key(t: pd.DataFrame) -> pd.Series:
    """For contacts, a key equal for rows sharing a phone number in either phone column
    (Mobile or Phone): the index of the first row holding any of the row's numbers."""
    phones = pd.concat([t[c].dropna() for c in ("Phone", "Mobile") if c in t])
    if phones.empty:
        return pd.Series(None, index=t.index, dtype=object)
    first_of_number = pd.Series(phones.index, index=phones.to_numpy()).groupby(level=0).min()
    first = pd.Series(phones.map(first_of_number).to_numpy(), index=phones.index).groupby(level=0).min()
    rows = first.reindex(t.index)
    held = rows.notna().to_numpy()
    out = np.full(len(rows), None, dtype=object)
    out[held] = ["row" + str(v) for v in rows[held].astype(np.int64).tolist()]
    return pd.Series(out, index=t.index, dtype=object)


def _map_distinct(values: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """``fn`` of every value of ``values`` (missing ones stay None), called once per
    distinct value."""
    codes, distinct = pd.factorize(values.to_numpy(dtype=object))
    mapped = np.empty(len(distinct) + 1, dtype=object)
    mapped[:-1] = [fn(v) for v in distinct]
    mapped[-1] = None
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def likely_duplicate_problems(table: Table, lang: str = "en") -> list[pd.DataFrame]:
    """Rows that probably describe the same company or person as an earlier row.

    Companies: same folded name. Contacts: same email, a number in either phone column
    (Mobile, Phone) that an earlier row also has, or same folded name at the same company.
    Each later row is reported once, naming the first.
    """
    t = table.typed
    if t.empty:
        return []
    keys: list[tuple[str, str, pd.Series]] = []
    if table.spec.tab is Tab.COMPANIES:
        keys.append(("Name", N_("name"), _map_distinct(t["Name"], normalize_company_name)))
    else:
        keys.append(("Email", N_("email"), t["Email"]))
        keys.append(("Phone" if t["Phone"].notna().any() else "Mobile", N_("phone"), _shared_phone_key(t)))
        folded = _map_distinct(t["Name"], fold_name)
        keys.append(("Name", N_("name and company"), folded + "|" + t["Company ID"].fillna("")))
    seen = pd.Series(False, index=t.index)
    out = []
    for key, what, values in keys:
        values = values.where(values.notna() & (values.astype(object) != ""))
        dup = values.notna() & values.duplicated(keep="first") & ~seen
        if not dup.any():
            continue
        first_idx = values[values.notna()].drop_duplicates(keep="first")
        first_of = pd.Series(first_idx.index, index=first_idx.to_numpy())
        firsts = values[dup].map(first_of)
        ref = [
            tr(lang, "{id} (row {row})", id=i, row=r)
            for i, r in zip(
                table.ids().loc[firsts].fillna(tr(lang, "(no ID)")).astype(str),
                t.loc[firsts, ROW].astype(str),
                strict=True,
            )
        ]
        message = pd.Series("", index=t.index, dtype=object)
        message.loc[dup.to_numpy()] = np.array(
            [
                tr(
                    lang,
                    "likely the same {noun} as {other}: same {what}; merge the rows or make them differ",
                    noun=_noun(table.tab, lang),
                    other=r,
                    what=tr(lang, what),
                )
                for r in ref
            ],
            dtype=object,
        )
        if key in ("Phone", "Mobile"):
            # Name the column that holds the shared number: a mobile shared, not the landline.
            numbers = pd.concat([t[c].dropna() for c in ("Phone", "Mobile")])
            shared = set(numbers[numbers.duplicated(keep=False)].tolist())
            on_mobile = dup & t["Mobile"].isin(shared) & ~t["Phone"].isin(shared)
            out.append(_problems(table, on_mobile, "Mobile", message, Severity.WARNING))
            out.append(_problems(table, dup & ~on_mobile, "Phone", message, Severity.WARNING))
        else:
            out.append(_problems(table, dup, key, message, Severity.WARNING))
        seen |= dup
    return out


def worded_cell_problems(problems: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Binding's cell problems (worded in English, the parsers' own words) in ``lang``: the
    same frame, its ``problem`` column translated once per distinct text."""
    if lang == Lang.EN or not len(problems):
        return problems
    texts = problems["problem"]
    worded = {t: cell_problem(t, lang) for t in pd.unique(texts)}
    return problems.assign(problem=texts.map(worded))


def worded_bind_problems(problems: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Binding's Settings and link problems (worded in the workbook's language before
    anyone asked for one) in ``lang``: the same frame, each :class:`Worded` problem told
    again where it was told in the other language."""
    if not len(problems):
        return problems
    texts = problems["problem"]
    again = {t: t.in_language(lang) for t in pd.unique(texts) if isinstance(t, Worded) and t.lang != lang}
    return problems.assign(problem=texts.map(lambda t: again.get(t, t))) if again else problems


def validate_tables(
    tables: dict[Tab, Table], settings_problems: pd.DataFrame | None = None, lang: str = "en", currency: str = "TWD"
) -> pd.DataFrame:
    """All problems in the bound tables, sorted by tab, row and column, worded in ``lang``.

    ``settings_problems``: what binding found (Settings values, links made by name and
    references that link nothing; see :func:`~sheetcrm.engine.bind.bind_all`);
    ``currency``: the workbook's (Settings money.currency). Returns a
    DataFrame with columns tab, row, id, column, value, problem, severity ("error",
    "warning", or "note" for a link made by name).
    """
    parts: list[pd.DataFrame] = []
    if settings_problems is not None:
        parts.append(worded_bind_problems(settings_problems, lang))
    for tab, table in tables.items():
        if tab is Tab.LOG:
            continue
        parts.append(worded_cell_problems(table.problems, lang))
        parts.extend(required_problems(table, lang))
        parts.extend(duplicate_id_problems(table, lang))
        parts.extend(amount_problems(table, lang, currency))
        if tab is Tab.ACTIVITIES:
            parts.extend(activity_problems(table, lang))
        if tab is Tab.OPPORTUNITIES:
            parts.extend(won_problems(table, tables[Tab.ACTIVITIES], lang))
        if tab in (Tab.COMPANIES, Tab.CONTACTS):
            parts.extend(likely_duplicate_problems(table, lang))
        if tab in (Tab.COMPANIES, Tab.CONTACTS, Tab.OPPORTUNITIES, Tab.ACTIVITIES):
            parts.extend(owner_problems(table, tables[Tab.TEAM], lang))
        if tab is Tab.TEAM:
            parts.extend(team_problems(table, lang))
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_problems()
    problems = pd.concat(parts, ignore_index=True)[PROBLEM_COLUMNS]
    titles = {table.title: _TAB_ORDER[tab] for tab, table in tables.items()}
    problems["value"] = problems["value"].map(lambda v: "" if v is None or v != v else str(v))
    order = problems["tab"].map(titles).fillna(len(TABS))
    problems = (
        problems.assign(_o=order)
        .sort_values(["_o", "row", "column"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )
    problems["row"] = problems["row"].astype("Int64")
    return problems
