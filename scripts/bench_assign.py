"""Benchmark: fairness of each assignment strategy, and lead import at scale.

    python scripts/bench_assign.py              # 1,000 leads x 6 reps; 50,000 leads into the 10M-cell workbook
    python scripts/bench_assign.py --scale 0.1  # the import against a tenth of that workbook

Part 1 assigns 1,000 leads (expected values drawn from a skewed, log-normal distribution,
as purchasing power is) across 6 reps (one inactive, weights 1-3) with every strategy and
prints the largest and smallest count per rep and the spread (max - min) of expected value
per rep; balanced must beat round-robin on that spread. Part 2 builds the benchmark
workbook of scripts/bench_sync.py (about 10 million cells) in memory and times importing
50,000 leads (a tenth of them duplicates in assorted spellings) through the memory
backend: read, bind, dedupe, plan and write. Goal: under 30 s.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sheetcrm.backends.memory import MemoryBackend
from sheetcrm.schema import Stage, Tab
from sheetcrm.team.assign import Strategy, choose_owners, team_frame
from sheetcrm.team.leads import import_leads


def _bench_sync() -> object:
    path = Path(__file__).with_name("bench_sync.py")
    spec = importlib.util.spec_from_file_location("bench_sync", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def fairness(n: int = 1000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    team = team_frame(
        pd.DataFrame(
            {
                "Name": [f"Rep {i}" for i in range(6)],
                "Active": [True, True, True, True, True, False],
                "Weight": [1, 1, 2, 1, 3, 1],
                "Regions": ["North", "South", "North", "East", "West", "North"],
                "Industries": ["Retail", None, "Tech", None, "Tech", None],
                "Stages": ["Lead", "Qualified", "Proposal", "Negotiation", "Lead, Qualified", "Won"],
            }
        )
    )
    records = pd.DataFrame(
        {
            "id": [f"P-{i:05d}" for i in range(n)],
            "region": rng.choice(["north", "south", "east", "west", "central"], n),
            "industry": rng.choice(["retail", "tech", "food"], n),
            "value": np.round(rng.lognormal(10, 1.2, n), 0),
            "stage": [list(Stage)[i] for i in rng.integers(0, 4, n)],
        }
    )
    rows = []
    for strategy in Strategy:
        chosen = choose_owners(records, team, strategy, cursor="")
        got = chosen[chosen["owner"].notna()]
        counts = got["owner"].value_counts().reindex(team.loc[team["active"], "name"], fill_value=0)
        values = records.loc[got.index, "value"].groupby(got["owner"]).sum().reindex(counts.index, fill_value=0)
        rows.append(
            {
                "strategy": strategy.value,
                "assigned": len(got),
                "max count": int(counts.max()),
                "min count": int(counts.min()),
                "value spread": float(values.max() - values.min()),
                "inactive got": int((got["owner"] == "Rep 5").sum()),
            }
        )
    return pd.DataFrame(rows)


def leads_file(folder: Path, n: int, raw: dict, seed: int = 11) -> Path:
    rng = np.random.default_rng(seed)
    contacts = raw[Tab.CONTACTS]
    header = contacts.header
    name_col, email_col, phone_col = header.index("Name"), header.index("Email"), header.index("Phone")
    path = folder / "leads.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh)
        out.writerow(["姓名", "公司", "電子郵件", "手機", "Region"])
        for i in range(n):
            if i % 10 == 0:  # a known person, spelled differently
                row = contacts.rows[int(rng.integers(len(contacts.rows)))]
                email = str(row[email_col] or "").upper()
                phone = str(row[phone_col] or "").replace("-", " ")
                out.writerow([row[name_col], "", email, phone, "North"])
            else:
                out.writerow(
                    [f"Expo Lead {i}", f"Fair Company {i % 4000} Ltd.", f"expo{i}@fair.example", f"07-{i:07d}", "North"]
                )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="size of the workbook the leads go into")
    parser.add_argument("--leads", type=int, default=50_000)
    args = parser.parse_args()

    print("Assignment of 1,000 leads across 6 reps (Rep 5 inactive; weights 1,1,2,1,3):")
    table = fairness()
    print(table.to_string(index=False))
    rr = table.set_index("strategy").at["round-robin", "value spread"]
    bal = table.set_index("strategy").at["balanced", "value spread"]
    print(f"balanced value spread {bal:,.0f} vs round-robin {rr:,.0f}: {'better' if bal < rr else 'NOT better'}")

    bench = _bench_sync()
    t0 = time.perf_counter()
    raw = bench.build(args.scale)  # type: ignore[attr-defined]
    cells = sum(len(t.header) * (len(t.rows) + 1) for t in raw.values())
    print(f"\nWorkbook built: {cells:,} cells in {time.perf_counter() - t0:.1f} s")
    backend = MemoryBackend(raw)
    with tempfile.TemporaryDirectory() as folder:
        path = leads_file(Path(folder), args.leads, raw)
        t0, c0 = time.perf_counter(), time.process_time()
        result = import_leads(backend, path, source="Bench Expo", today=dt.date(2026, 11, 22), raw=backend.read())
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"Import of {args.leads:,} leads: {took:.1f} s (goal < 30 s); counts {result.counts}")
    # The machine is shared: CPU time and the load average tell a slow run from a busy machine.
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"  CPU time of the import: {cpu:.1f} s; load average while it ran: {load:.1f} on {os.cpu_count()} cores")
    print(f"Rows appended: {result.report.appended if result.report else 0:,}")


if __name__ == "__main__":
    main()
