"""Everything the team commands say, in English and Traditional Chinese, in one catalog.

Kept in one module so it can move into a shared i18n catalog as a whole. ``say(key,
lang, **values)`` formats the message in ``lang`` (a workbook's ``language`` setting).
"""

from __future__ import annotations

from typing import Any

from sheetcrm.schema import Lang

MESSAGES: dict[str, tuple[str, str]] = {
    # lead import: per-row outcomes
    "lead.added": ("new {noun}", "新{noun_zh}"),
    "lead.no_name": ("no Name", "缺少姓名"),
    "lead.bad_cell": ("{column}: {problem}", "{column}：{problem}"),
    "lead.same_email": ("same email as {ids}", "電子郵件與 {ids} 相同"),
    "lead.same_phone": ("same phone as {ids}", "電話與 {ids} 相同"),
    "lead.same_name": ("same name and company as {ids}", "姓名與公司與 {ids} 相同"),
    "lead.same_in_file": ("same {what} as file row {row}", "{what}與檔案第 {row} 列相同"),
    "lead.key.email": ("email", "電子郵件"),
    "lead.key.phone": ("phone", "電話"),
    "lead.key.name": ("name and company", "姓名與公司"),
    "lead.merged": ("filled {n} blank cell(s) of {id}", "補上 {id} 的 {n} 個空白欄位"),
    "lead.ambiguous": ("matches several records ({ids}); decide by hand", "符合多筆紀錄（{ids}），請人工決定"),
    "lead.company_ambiguous": ("company {name!r} matches {ids}; not linked", "公司「{name}」符合 {ids}，未連結"),
    # lead import: Log reasons and summary
    "log.lead_added": ("added from {file} (source {source})", "由 {file} 匯入（來源 {source}）"),
    "log.company_added": ("company added from {file} (source {source})", "由 {file} 匯入的公司（來源 {source}）"),
    "log.merged": ("blank cell filled from {file} row {row}", "由 {file} 第 {row} 列補上空白欄位"),
    "log.import_summary": (
        "import {file}: {added} added, {companies} compan(ies) added, {duplicates} likely duplicate(s), "
        "{merged} merged, {rejected} rejected",
        "匯入 {file}：新增 {added} 筆、新增公司 {companies} 家、疑似重複 {duplicates} 筆、"
        "合併 {merged} 筆、拒絕 {rejected} 筆",
    ),
    "import.summary": (
        "{total} row(s) read: {added} added, {duplicates} likely duplicate(s) listed for a person to decide, "
        "{merged} merged into blank cells, {rejected} rejected; {companies} new compan(ies).",
        "共讀取 {total} 列：新增 {added} 筆，疑似重複 {duplicates} 筆待人工決定，合併 {merged} 筆，"
        "拒絕 {rejected} 筆；新增公司 {companies} 家。",
    ),
    "import.rejected_line": ("  row {row}: {reason}", "  第 {row} 列：{reason}"),
    "import.duplicate_line": ("  row {row}: {reason}", "  第 {row} 列：{reason}"),
    "import.unused_columns": (
        'Columns not imported (unknown header; use --map "HEADER=Column"): {columns}',
        '未匯入的欄位（無法辨識的標題；可用 --map "標題=欄位"）：{columns}',
    ),
    "import.absent_columns": (
        "The workbook's {tab} tab has no column for: {columns} (not imported)",
        "工作簿的 {tab} 分頁沒有這些欄位：{columns}（未匯入）",
    ),
    # assignment
    "assign.round_robin": ("round-robin: next in turn after {prev}", "輪流分配：接在 {prev} 之後"),
    "assign.round_robin_first": ("round-robin: first in turn", "輪流分配：第一位"),
    "assign.weighted": ("weighted: Weight {weight}, {count} so far", "依權重：權重 {weight}，本次已分配 {count} 筆"),
    "assign.territory": ("territory: covers {what}", "依區域：負責 {what}"),
    "assign.territory_fallback": (
        "territory: no rep covers {what}; round-robin",
        "依區域：無人負責 {what}，改為輪流分配",
    ),
    "assign.balanced": (
        "balanced: value {value:,.0f}, lowest total so far ({total:,.0f})",
        "依價值平衡：價值 {value:,.0f}，目前累計最少（{total:,.0f}）",
    ),
    "assign.relay": ("relay: handles stage {stage}", "接力：負責「{stage}」階段"),
    "assign.relay_none": ("relay: no active rep handles stage {stage}", "接力：沒有在職業務負責「{stage}」階段"),
    "assign.summary": (
        "{tab}: {assigned} empty Owner cell(s) filled ({strategy}); {left} left empty.",
        "{tab}：以「{strategy}」填入 {assigned} 個空白負責人；{left} 個仍空白。",
    ),
    "assign.per_rep": ("  {rep}: {count}", "  {rep}：{count} 筆"),
    "log.assign_summary": (
        "assign {tab} ({strategy}): {assigned} owner(s) set",
        "分配{tab}（{strategy}）：設定 {assigned} 位負責人",
    ),
    "log.cursor": ("round-robin cursor", "輪流分配游標"),
    "log.relay_summary": ("relay: {n} deal owner(s) changed with the stage", "接力：{n} 筆機會依階段更換負責人"),
    # invitations
    "invite.opted_out": ("opted out", "拒絕聯繫"),
    "invite.unreachable": ("no email or phone to reach them", "沒有電子郵件或電話可聯繫"),
    "invite.recent": ("invited within {days} days ({date})", "{days} 天內已邀請（{date}）"),
    "invite.summary": (
        "{n} to invite to {event}; left out: {opted_out} opted out, {unreachable} unreachable, "
        "{recent} invited recently, {filtered} not matching the filters.",
        "邀請 {event}：{n} 位；排除：拒絕聯繫 {opted_out} 位、無法聯繫 {unreachable} 位、"
        "近期已邀請 {recent} 位、不符條件 {filtered} 位。",
    ),
    "invite.unreachable_list": ("Unreachable (no email or phone): {names}", "無法聯繫（沒有電子郵件或電話）：{names}"),
    "invite.recorded": ("Recorded {n} Event Invited activit(ies).", "已記錄 {n} 筆活動邀請。"),
    "log.invited": ("invited to {event}", "邀請參加 {event}"),
    "log.id_filled": (
        "filled a missing ID (the {event} invitation refers to it)",
        "補上缺少的編號（{event} 邀請記錄引用此編號）",
    ),
    "invite.id_not_filled": (
        "The ID of {ids} could not be filled (the sheet changed meanwhile), so their invitation "
        "refers to an ID no row holds: run 'sheetcrm sync', then correct Contact ID on those activities.",
        "{ids} 的編號未能補上（工作表同時被修改），其邀請記錄引用的編號不存在："
        "請執行 sheetcrm sync，再修正這些活動的連絡人編號。",
    ),
    "log.invite_summary": ("invite {event}: {n} invitation(s) recorded", "邀請 {event}：記錄 {n} 筆邀請"),
    # common
    "dry_run": ("Dry run: nothing was written.", "試算：未寫入任何資料。"),
    "skipped": (
        "{n} change(s) skipped because the sheet changed meanwhile (see the Log).",
        "{n} 項變更因工作表同時被修改而略過（見同步紀錄）。",
    ),
    "written": ("Written: {cells} cell(s), {rows} new row(s).", "已寫入：{cells} 個儲存格、{rows} 列新資料。"),
}


def say(key: str, lang: Lang | str = Lang.EN, **values: Any) -> str:
    """The message ``key`` in ``lang`` with ``values`` filled in."""
    en, zh = MESSAGES[key]
    return (zh if str(lang) == Lang.ZH_TW else en).format(**values)
