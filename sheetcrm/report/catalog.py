"""Every text the report, forecast and focus list show a person, in English and
Traditional Chinese.

One catalog, keyed by message ID; :func:`text` looks a message up in a language and fills
its ``{fields}``. Vocabulary labels (stages, NESL, segments, tiers, lifecycle) come from
the schema's enums, not from here. Kept in one module so it can move to a shared catalog.
"""

from __future__ import annotations

from typing import Any, Final

from sheetcrm.schema import Lang

_EN, _ZH = Lang.EN, Lang.ZH_TW

MESSAGES: Final[dict[str, dict[str, str]]] = {
    # ---- page
    "title": {_EN: "Monthly segment report {month}", _ZH: "{month} 月度顧客分群報告"},
    "subtitle": {
        _EN: "As of {end}, compared with {prev_end}. Customers are the Contacts tab ({customers} people).",
        _ZH: "截至 {end}，與 {prev_end} 比較。顧客為連絡人分頁（共 {customers} 人）。",
    },
    "generated": {_EN: "Made by sheetcrm from {source}.", _ZH: "由 sheetcrm 依 {source} 產生。"},
    "pii_hidden": {
        _EN: "Customers are shown by ID only; names, emails and phones are left out (use --include-pii to show them).",
        _ZH: "顧客只以編號顯示，不含姓名、電子郵件與電話（加上 --include-pii 才會顯示）。",
    },
    "pii_shown": {
        _EN: "This report contains names, emails and phone numbers: share it with care.",
        _ZH: "本報告含姓名、電子郵件與電話，請謹慎分享。",
    },
    "contents": {_EN: "Contents", _ZH: "目錄"},
    # ---- headline
    "headline": {_EN: "This month at a glance", _ZH: "本月重點"},
    "kpi_customers": {_EN: "Buying customers", _ZH: "有交易顧客"},
    "kpi_revenue": {_EN: "Revenue, last {months} months", _ZH: "近 {months} 個月營收"},
    "kpi_slipped": {_EN: "Went to sleep (E→S)", _ZH: "轉為沉睡 (E→S)"},
    "kpi_back": {_EN: "Came back (S/L→E)", _ZH: "恢復往來 (S/L→E)"},
    "kpi_first": {_EN: "First purchase (N→E)", _ZH: "首次購買 (N→E)"},
    "kpi_won": {_EN: "Won this month", _ZH: "本月成交"},
    "kpi_forecast": {_EN: "Weighted forecast {quarter}", _ZH: "{quarter} 加權預測"},
    "kpi_pareto": {_EN: "Revenue from the top 20%", _ZH: "前 20% 顧客營收占比"},
    "vs_prev": {_EN: "{delta} since last month", _ZH: "較上月 {delta}"},
    # ---- NESL
    "nesl_title": {_EN: "New, existing, sleeping, lost (NESL)", _ZH: "新顧客、既有、沉睡、流失 (NESL)"},
    "nesl_intro": {
        _EN: "How many customers are in each class at the month end, and who moved between classes since last month.",
        _ZH: "月底時各類顧客人數，以及與上月相比移動的人數。",
    },
    "nesl_chart": {_EN: "Customers by NESL class", _ZH: "各 NESL 類別顧客數"},
    "moves_title": {_EN: "Moves since last month", _ZH: "與上月相比的移動"},
    "matrix_caption": {
        _EN: "Rows: class at the previous month end; columns: class at this month end.",
        _ZH: "列：上月底類別；欄：本月底類別。",
    },
    "from_to": {_EN: "last month ↓ / now →", _ZH: "上月 ↓ / 本月 →"},
    "move_potential_divorce": {_EN: "potential divorce", _ZH: "潛在離婚"},
    "move_divorce": {_EN: "divorce", _ZH: "離婚"},
    "move_win_back": {_EN: "win-back", _ZH: "恢復"},
    "move_first_purchase": {_EN: "first purchase", _ZH: "首次購買"},
    "move_new_record": {_EN: "new in the sheet", _ZH: "新建資料"},
    "move_other": {_EN: "other move", _ZH: "其他移動"},
    "move": {_EN: "Move", _ZH: "移動"},
    # ---- RFM
    "segments_title": {_EN: "RFM segments", _ZH: "RFM 顧客分群"},
    "segments_intro": {
        _EN: "Customers and their revenue (last {months} months) per segment, with the change since last month.",
        _ZH: "各分群的顧客數與營收（近 {months} 個月），以及與上月相比的變化。",
    },
    "segments_chart": {_EN: "Revenue by RFM segment", _ZH: "各 RFM 分群營收"},
    # ---- tiers
    "tiers_title": {_EN: "Value pyramid and the 80/20 check", _ZH: "顧客價值金字塔與 80/20 檢查"},
    "tiers_chart": {_EN: "Customers per value tier", _ZH: "各價值層級顧客數"},
    "pareto_chart": {_EN: "Share of revenue by share of buyers", _ZH: "買家占比對應的營收占比"},
    "pareto_holds": {
        _EN: "The top 20% of buyers ({top} of {buyers}) bring {share} of revenue: the 80/20 rule holds.",
        _ZH: "前 20% 的買家（{buyers} 人中的 {top} 人）貢獻 {share} 營收：符合 80/20 法則。",
    },
    "pareto_fails": {
        _EN: "The top 20% of buyers ({top} of {buyers}) bring {share} of"
        " revenue: less than 80%, revenue is spread wider.",
        _ZH: "前 20% 的買家（{buyers} 人中的 {top} 人）貢獻 {share} 營收：未達 80%，營收較分散。",
    },
    "pareto_none": {_EN: "No revenue in the window: no 80/20 check.", _ZH: "期間內沒有營收，無法做 80/20 檢查。"},
    "buyers_axis": {_EN: "Share of buyers, highest value first", _ZH: "買家占比（價值由高到低）"},
    "revenue_axis": {_EN: "Share of revenue", _ZH: "營收占比"},
    # ---- lifecycle
    "lifecycle_title": {_EN: "Lifecycle", _ZH: "顧客生命週期"},
    "lifecycle_chart": {_EN: "Customers per lifecycle stage", _ZH: "各生命週期階段顧客數"},
    # ---- pipeline
    "funnel_title": {_EN: "Pipeline funnel", _ZH: "銷售漏斗"},
    "funnel_intro": {
        _EN: "Deals by stage at the month end; conversion is the share of"
        " deals that reached a stage and went on to the next.",
        _ZH: "月底各階段的機會；轉換率為到達該階段的機會中，再往下一階段前進的比例。",
    },
    "funnel_chart": {_EN: "Deals reaching each stage", _ZH: "到達各階段的機會數"},
    "won_lost_title": {_EN: "Won and lost, this month and last", _ZH: "本月與上月的成交與失敗"},
    "forecast_title": {_EN: "Forecast for {quarter}", _ZH: "{quarter} 業績預測"},
    "forecast_intro": {
        _EN: "Deals closing in the quarter, as of {as_of}: won so far, open pipeline weighted by stage"
        " probability, commit (deals in Negotiation) and best case (every open deal won).",
        _ZH: "截至 {as_of}，預計於本季結案的機會：已成交、依階段機率加權的未結案金額、"
        "確定 (議約中的機會) 與最佳情況 (所有未結案機會都成交)。",
    },
    "forecast_chart": {_EN: "Won and weighted pipeline by owner", _ZH: "各負責人的已成交與加權金額"},
    "movers_title": {_EN: "Customers who moved most", _ZH: "變動最大的顧客"},
    "movers_intro": {
        _EN: "Customers whose NESL class changed, the most valuable first.",
        _ZH: "NESL 類別有變動的顧客，價值高者優先。",
    },
    "none": {_EN: "None.", _ZH: "無。"},
    "total": {_EN: "Total", _ZH: "合計"},
    "no_owner": {_EN: "(no owner)", _ZH: "（無負責人）"},
    "more_rows": {_EN: "... and {n} more.", _ZH: "……另有 {n} 筆。"},
    # ---- column headers
    "col_id": {_EN: "ID", _ZH: "編號"},
    "col_name": {_EN: "Name", _ZH: "姓名"},
    "col_email": {_EN: "Email", _ZH: "電子郵件"},
    "col_phone": {_EN: "Phone", _ZH: "電話"},
    "col_nesl": {_EN: "NESL", _ZH: "顧客關係"},
    "col_nesl_prev": {_EN: "NESL last month", _ZH: "上月顧客關係"},
    "col_segment": {_EN: "Segment", _ZH: "顧客分群"},
    "col_segment_prev": {_EN: "Segment last month", _ZH: "上月顧客分群"},
    "col_tier": {_EN: "Tier", _ZH: "價值層級"},
    "col_lifecycle": {_EN: "Lifecycle", _ZH: "生命週期"},
    "col_monetary": {_EN: "Monetary", _ZH: "購買金額"},
    "col_change": {_EN: "Changed since last month", _ZH: "與上月相比的變化"},
    "col_class": {_EN: "Class", _ZH: "類別"},
    "col_customers": {_EN: "Customers", _ZH: "顧客數"},
    "col_customers_prev": {_EN: "Last month", _ZH: "上月"},
    "col_delta": {_EN: "Change", _ZH: "變化"},
    "col_revenue": {_EN: "Revenue", _ZH: "營收"},
    "col_revenue_prev": {_EN: "Revenue last month", _ZH: "上月營收"},
    "col_revenue_delta": {_EN: "Revenue change", _ZH: "營收變化"},
    "col_share": {_EN: "Share of revenue", _ZH: "營收占比"},
    "col_stage": {_EN: "Stage", _ZH: "階段"},
    "col_deals": {_EN: "Deals", _ZH: "機會數"},
    "col_amount": {_EN: "Amount", _ZH: "金額"},
    "col_reached": {_EN: "Reached", _ZH: "到達數"},
    "col_conversion": {_EN: "To next stage", _ZH: "轉換至下一階段"},
    "col_owner": {_EN: "Owner", _ZH: "負責人"},
    "col_won": {_EN: "Won", _ZH: "成交"},
    "col_won_amount": {_EN: "Won amount", _ZH: "成交金額"},
    "col_lost": {_EN: "Lost", _ZH: "失敗"},
    "col_won_prev": {_EN: "Won last month", _ZH: "上月成交"},
    "col_won_amount_prev": {_EN: "Won amount last month", _ZH: "上月成交金額"},
    "col_lost_prev": {_EN: "Lost last month", _ZH: "上月失敗"},
    "col_won_to_date": {_EN: "Won to date", _ZH: "已成交"},
    "col_open_deals": {_EN: "Open deals", _ZH: "未結案機會"},
    "col_pipeline": {_EN: "Open amount", _ZH: "未結案金額"},
    "col_weighted": {_EN: "Weighted", _ZH: "加權金額"},
    "col_commit": {_EN: "Commit", _ZH: "確定"},
    "col_best_case": {_EN: "Best case", _ZH: "最佳情況"},
    "col_forecast": {_EN: "Forecast", _ZH: "預測"},
    "col_expected_close": {_EN: "Expected close", _ZH: "預計成交日"},
    "col_closed": {_EN: "Closed", _ZH: "結案日期"},
    "col_probability": {_EN: "Probability", _ZH: "成交機率"},
    "col_days": {_EN: "Days", _ZH: "天數"},
    "col_kind": {_EN: "What", _ZH: "項目"},
    "col_record": {_EN: "Record", _ZH: "資料"},
    "col_date": {_EN: "Date", _ZH: "日期"},
    "col_why": {_EN: "Why", _ZH: "原因"},
    "col_todo": {_EN: "What to do", _ZH: "建議行動"},
    # ---- focus
    "focus_due": {_EN: "next step due", _ZH: "下一步到期"},
    "focus_overdue": {_EN: "next step overdue", _ZH: "下一步逾期"},
    "focus_stale": {_EN: "stale deal", _ZH: "停滯機會"},
    "focus_closing": {_EN: "expected to close", _ZH: "即將成交"},
    "focus_sleeping": {_EN: "customer went to sleep", _ZH: "顧客轉為沉睡"},
    "focus_gone": {_EN: "customer likely gone", _ZH: "顧客可能已流失"},
    "why_due": {
        _EN: "next step '{step}' is due {date} (in {days} day(s))",
        _ZH: "下一步「{step}」於 {date} 到期（{days} 天後）",
    },
    "why_overdue": {
        _EN: "next step '{step}' was due {date} ({days} day(s) ago)",
        _ZH: "下一步「{step}」已於 {date} 到期（逾期 {days} 天）",
    },
    "why_stale": {
        _EN: "no activity since {date} ({days} days) in stage {stage}",
        _ZH: "自 {date} 起沒有活動（{days} 天），目前階段 {stage}",
    },
    "why_closing": {
        _EN: "expected to close {date}, {stage}, amount {amount}",
        _ZH: "預計 {date} 成交，{stage}，金額 {amount}",
    },
    "why_gone": {
        _EN: "P(alive) {p} by their own buying rhythm, last purchase {date} ({days} days ago), still {nesl} by NESL",
        _ZH: "依其購買節奏存活機率為 {p}，最近購買 {date}（{days} 天前），NESL 仍為{nesl}",
    },
    "why_sleeping": {
        _EN: "{marks} customer, last purchase {date} ({days} days ago): went from E to S",
        _ZH: "{marks}，最近購買 {date}（{days} 天前）：由既有顧客轉為沉睡",
    },
    "todo_due": {_EN: "do the next step, then set a new one", _ZH: "執行下一步，並設定新的下一步"},
    "todo_overdue": {_EN: "do it now or set a new date", _ZH: "立即執行，或重新設定期限"},
    "todo_stale": {
        _EN: "call the customer and log the activity, or close the deal as Lost",
        _ZH: "聯繫顧客並記錄活動，或將機會結案為失敗",
    },
    "todo_closing": {_EN: "confirm the close date with the customer", _ZH: "與顧客確認成交日期"},
    "todo_gone": {
        _EN: "reach out now, before the fixed NESL windows call them lost",
        _ZH: "趁 NESL 尚未判定流失，現在就主動聯繫",
    },
    "todo_sleeping": {
        _EN: "call before they are lost; offer what they bought last",
        _ZH: "在流失前致電聯繫，推薦上次購買的商品",
    },
    "mark_main": {_EN: "main", _ZH: "主力顧客"},
    "mark_important": {_EN: "important", _ZH: "重要顧客"},
    "mark_join": {_EN: " and ", _ZH: "、"},
    "no_date": {_EN: "(no date)", _ZH: "（無日期）"},
    "no_step": {_EN: "(none written)", _ZH: "（未填寫）"},
    # ---- CLI
    "wrote": {_EN: "Wrote {path}", _ZH: "已寫入 {path}"},
    "wrote_tab": {
        _EN: "Wrote tab '{title}' ({rows} rows) into {location}",
        _ZH: "已將「{title}」分頁（{rows} 列）寫入 {location}",
    },
    "report_tab": {_EN: "Report {month}", _ZH: "報告 {month}"},
    "progress_reading": {_EN: "reading {location}", _ZH: "讀取 {location}"},
    "progress_month": {_EN: "computing customers as of {date}", _ZH: "計算 {date} 的顧客資料"},
    "progress_pipeline": {_EN: "computing the pipeline", _ZH: "計算銷售漏斗"},
    "progress_render": {_EN: "writing {fmt}", _ZH: "輸出 {fmt}"},
}


def lang_of(lang: Lang | str | None) -> Lang:
    """``lang`` as a :class:`Lang` (English for None or anything unknown)."""
    return Lang.ZH_TW if str(lang) == Lang.ZH_TW else Lang.EN


def text(key: str, lang: Lang | str, **fields: Any) -> str:
    """Message ``key`` in ``lang`` with ``fields`` filled in. Raises ``KeyError`` for an
    unknown key (a typo must fail in the tests, not show a blank)."""
    template = MESSAGES[key][lang_of(lang)]
    return template.format(**fields) if fields else template


def fmt_money(value: Any, lang: Lang | str = Lang.EN, currency: str = "") -> str:
    """An amount as people read it: thousands separators, no decimals for whole amounts,
    two otherwise, the currency code in front when given; a missing amount is "–"."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "–"
    if number != number:
        return "–"
    body = f"{number:,.0f}" if round(number, 2).is_integer() else f"{number:,.2f}"
    return f"{currency} {body}" if currency else body


def fmt_count(value: Any) -> str:
    return f"{int(value):,}"


def fmt_delta(value: Any, money: bool = False) -> str:
    """A change with its sign (+3, −2, 0)."""
    number = float(value)
    if number == 0:
        return "0"
    body = fmt_money(abs(number)) if money else f"{abs(round(number)):,}"
    return ("+" if number > 0 else "−") + body


def fmt_share(value: Any) -> str:
    """A 0–1 share as a percent with one decimal; missing is "–"."""
    if value is None or value != value:
        return "–"
    return f"{float(value) * 100:.1f}%"
