"""How long linking references typed as names, emails and phones takes.

A shop-sized workbook scaled up: 20,000 companies, 100,000 contacts and 300,000
activities whose Contact column holds a name, an email or a phone (a third each) and
whose Company column holds a company name. Prints the time of binding with linking, and
of linking alone.

    .venv/bin/python scripts/bench_link.py [--contacts 100000] [--activities 300000]
"""

from __future__ import annotations

import argparse
import random
import time

from sheetcrm.backends.base import RawTab
from sheetcrm.engine.bind import bind_all
from sheetcrm.engine.ids import issue_ids
from sheetcrm.engine.link import link_references
from sheetcrm.schema import Lang, Tab


def build(companies: int, contacts: int, activities: int, seed: int = 7) -> dict[Tab, RawTab]:
    rng = random.Random(seed)
    co_names = [f"公司{i:05d}股份有限公司" for i in range(companies)]
    people = []
    for i in range(contacts):
        company = co_names[rng.randrange(companies)][:-6]  # typed without 股份有限公司
        people.append([None, f"客戶{i:06d}", company, f"09{i:08d}", f"c{i}@example.com"])
    acts = []
    for i in range(activities):
        p = people[rng.randrange(contacts)]
        how = i % 3
        ref = p[1] if how == 0 else p[3] if how == 1 else p[4]
        acts.append([None, "2026-03-05", "購買", ref, p[2], 1000])
    return {
        Tab.COMPANIES: RawTab(Tab.COMPANIES, "公司", ["編號", "公司名稱"], [[None, n] for n in co_names]),
        Tab.CONTACTS: RawTab(Tab.CONTACTS, "連絡人", ["編號", "姓名", "公司", "手機", "電子郵件"], people),
        Tab.OPPORTUNITIES: RawTab(Tab.OPPORTUNITIES, "機會", ["編號", "案名"], []),
        Tab.ACTIVITIES: RawTab(Tab.ACTIVITIES, "活動紀錄", ["編號", "日期", "類型", "客戶", "公司", "金額"], acts),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=300_000)
    args = parser.parse_args()
    raw = build(args.companies, args.contacts, args.activities)
    t0 = time.perf_counter()
    tables, settings, problems = bind_all(raw)
    bound = time.perf_counter() - t0
    linked = tables[Tab.ACTIVITIES].typed["Contact ID"].str.startswith("P-").mean()
    t0 = time.perf_counter()
    link_references(tables, issue_ids(tables), str(settings.language))
    again = time.perf_counter() - t0
    print(
        f"{args.companies:,} companies, {args.contacts:,} contacts, {args.activities:,} activities "
        f"({'Chinese' if settings.language == Lang.ZH_TW else 'English'} headers)"
    )
    print(f"bind with linking: {bound:.1f} s; linking alone: {again:.1f} s; activities linked: {linked:.1%}")
    print(f"notes and problems: {len(problems):,}")


if __name__ == "__main__":
    main()
