"""Benchmark: compute and plan a sync at Google Sheets' ceiling of about 10 million cells.

    python scripts/bench_sync.py                 # 1M activities, 100k contacts, 20k companies, 50k deals
    python scripts/bench_sync.py --scale 0.1     # a tenth of that
    python scripts/bench_sync.py --no-lifetimes  # skip the lifetimes comparison

Builds the workbook in memory as a backend would return it from one values.batchGet
(dates as serial numbers, amounts as numbers, labels as text), then times each step of a
sync without I/O: bind (header matching and parsing every cell), validate, compute,
plan. Prints seconds and peak RSS per step, then times the RFM step against
``lifetimes.utils.summary_data_from_transaction_data`` on the same transactions.
Targets (2-core machine): compute + plan under 60 s and 2 GB peak RSS; RFM at least 5x
faster than lifetimes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import psutil

from sheetcrm.backends.base import RawTab
from sheetcrm.cells.serial import SERIAL_EPOCH
from sheetcrm.customers.rfm import customer_index, rfm_table
from sheetcrm.engine.bind import bind_all
from sheetcrm.engine.compute import compute
from sheetcrm.engine.plan import plan
from sheetcrm.engine.validate import validate_tables
from sheetcrm.schema import TABS, ActivityType, Stage, Tab
from sheetcrm.settings import Settings, settings_rows

AS_OF = dt.date(2026, 11, 22)
EPOCH = SERIAL_EPOCH.date()


class PeakRSS:
    """Samples this process's RSS every 20 ms; ``peak`` is the highest seen since reset."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.02)

    def reset(self) -> None:
        self.peak = self.proc.memory_info().rss

    def stop(self) -> None:
        self._stop.set()


def serial(days_before: np.ndarray) -> np.ndarray:
    return (AS_OF - EPOCH).days - days_before


def build(scale: float, seed: int = 7) -> dict[Tab, RawTab]:
    """The workbook as raw tabs: every people's column of the schema filled."""
    rng = np.random.default_rng(seed)
    n_co, n_ct = int(20_000 * scale), int(100_000 * scale)
    n_op, n_ac = int(50_000 * scale), int(1_000_000 * scale)
    co_ids = np.array([f"CO-{i:06d}" for i in range(1, n_co + 1)], dtype=object)
    ct_ids = np.array([f"P-{i:06d}" for i in range(1, n_ct + 1)], dtype=object)
    op_ids = np.array([f"OP-{i:06d}" for i in range(1, n_op + 1)], dtype=object)
    reps = [f"Rep {i}" for i in range(8)]

    def tab(tab: Tab, columns: dict[str, Any], n: int) -> RawTab:
        keys = list(columns)
        cols = [[v] * n if v is None or np.isscalar(v) else list(v) for v in columns.values()]
        rows = [list(r) for r in zip(*cols, strict=True)]
        return RawTab(tab, TABS[tab].title(), keys, rows)

    companies = tab(
        Tab.COMPANIES,
        {
            "ID": co_ids,
            "Name": [f"Company {i}" for i in range(n_co)],
            "Industry": rng.choice(["Retail", "Manufacturing", "Tech"], n_co).astype(object),
            "Region": rng.choice(["台北", "台中", "高雄"], n_co).astype(object),
            "Size": "11-50",
            "Owner": rng.choice(reps, n_co).astype(object),
            "Source": "展覽",
            "Created": serial(rng.integers(0, 900, n_co)).tolist(),
        },
        n_co,
    )
    contacts = tab(
        Tab.CONTACTS,
        {
            "ID": ct_ids,
            "Company ID": rng.choice(co_ids, n_ct),
            "Name": [f"Person {i}" for i in range(n_ct)],
            "Title": "Manager",
            "Role": "Decision Maker",
            "Email": [f"p{i}@example.com" for i in range(n_ct)],
            "Phone": [f"09{i:08d}" for i in range(n_ct)],
            "Owner": rng.choice(reps, n_ct).astype(object),
            "Source": "官網",
            "Created": serial(rng.integers(0, 900, n_ct)).tolist(),
            "Opt-out": False,
        },
        n_ct,
    )
    op_company = rng.choice(co_ids, n_op)
    opps = tab(
        Tab.OPPORTUNITIES,
        {
            "ID": op_ids,
            "Company ID": op_company,
            "Contact ID": rng.choice(ct_ids, n_op),
            "Name": [f"Deal {i}" for i in range(n_op)],
            "Stage": rng.choice([s.value for s in Stage], n_op).astype(object),
            "Amount": rng.integers(1, 500, n_op).astype(float) * 1000,
            "Expected Close": serial(rng.integers(-90, 90, n_op)).tolist(),
            "Owner": rng.choice(reps, n_op).astype(object),
            "Next Step": "call back",
            "Next Step Due": serial(rng.integers(-30, 30, n_op)).tolist(),
            "Closed": None,
            "Lost Reason": None,
        },
        n_op,
    )
    types = [
        ActivityType.PURCHASE.value,
        ActivityType.ORDER.value,
        ActivityType.CALL.value,
        ActivityType.DEMO.value,
        ActivityType.PROPOSAL.value,
        ActivityType.EMAIL.value,
    ]
    ac_type = rng.choice(types, n_ac, p=[0.45, 0.15, 0.15, 0.1, 0.05, 0.1]).astype(object)
    buy = np.isin(ac_type, types[:2])
    activities = tab(
        Tab.ACTIVITIES,
        {
            "ID": [f"A-{i:07d}" for i in range(1, n_ac + 1)],
            "Date": serial(rng.integers(0, 540, n_ac)).tolist(),
            "Type": ac_type,
            "Contact ID": rng.choice(ct_ids, n_ac),
            "Company ID": rng.choice(co_ids, n_ac),
            "Opportunity ID": np.where(rng.random(n_ac) < 0.1, rng.choice(op_ids, n_ac), None),
            "Amount": np.where(buy, rng.integers(1, 200, n_ac) * 100.0, None),
            "Owner": rng.choice(reps, n_ac).astype(object),
            "Subject": "bench",
        },
        n_ac,
    )
    team = RawTab(Tab.TEAM, "Team", ["Name", "Weight", "Active"], [[r, 1, True] for r in reps])
    settings = RawTab(Tab.SETTINGS, "Settings", ["Key", "Value", "Description"], settings_rows())
    log = RawTab(Tab.LOG, "Log", [c.key for c in TABS[Tab.LOG].columns], [])
    return {t.tab: t for t in (companies, contacts, opps, activities, team, settings, log)}


def timed(name: str, rss: PeakRSS, fn: Callable[[], Any], results: list[tuple[str, float, int]]) -> Any:
    gc.collect()
    rss.reset()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    results.append((name, seconds, rss.peak))
    print(f"  {name:<10} {seconds:8.2f} s   peak RSS {rss.peak / 2**20:8.0f} MiB", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the 10M-cell workbook")
    ap.add_argument("--no-lifetimes", action="store_true", help="skip the lifetimes comparison")
    args = ap.parse_args()

    rss = PeakRSS()
    results: list[tuple[str, float, int]] = []
    print(f"Building the workbook (scale {args.scale})...", flush=True)
    raw = timed("generate", rss, lambda: build(args.scale), results)
    cells = sum(len(t.header) * (len(t.rows) + 1) for t in raw.values())
    print(f"  {cells:,} cells: " + ", ".join(f"{len(t.rows):,} {t.tab.value.lower()}" for t in raw.values()))
    print("Sync steps (no I/O):")
    tables, settings, settings_problems = timed("bind", rss, lambda: bind_all(raw), results)
    problems = timed("validate", rss, lambda: validate_tables(tables, settings_problems), results)
    computed = timed("compute", rss, lambda: compute(tables, settings, AS_OF, problems), results)
    the_plan = timed("plan", rss, lambda: plan(tables, computed, settings, AS_OF, "bench"), results)
    print(f"  plan: {len(the_plan.write.cells):,} cells to write, {len(problems):,} problems")
    steps = {n: (s, p) for n, s, p in results}
    cp = steps["compute"][0] + steps["plan"][0]
    total = sum(steps[n][0] for n in ("bind", "validate", "compute", "plan"))
    peak = max(p for n, _, p in results)
    print(
        f"compute + plan: {cp:.1f} s (target < 60 s); bind..plan: {total:.1f} s; "
        f"peak RSS {peak / 2**20:.0f} MiB (target < 2048 MiB)"
    )

    # The same transactions twice: with the categorical customer keys sync uses, and with
    # plain object keys as most code would hand them to lifetimes.
    tx = computed.transactions
    ids = customer_index(tables[Tab.CONTACTS].typed["ID"])
    frames = {"categorical keys": tx, "object keys": tx.astype({"contact_id": object})}
    print(f"RFM on {len(tx):,} transactions of {tx['contact_id'].nunique():,} contacts:")
    ours: dict[str, float] = {}
    for label, frame in frames.items():
        t0 = time.perf_counter()
        rfm_table(frame, ids, "contact_id", pd.Timestamp(AS_OF), Settings())
        ours[label] = time.perf_counter() - t0
        print(f"  sheetcrm rfm_table ({label}): {ours[label]:.2f} s")
    if args.no_lifetimes:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lifetimes.utils import summary_data_from_transaction_data

            for label, frame in frames.items():
                data = frame[["contact_id", "date", "amount"]].dropna(subset=["contact_id"])
                t0 = time.perf_counter()
                summary_data_from_transaction_data(
                    data,
                    "contact_id",
                    "date",
                    monetary_value_col="amount",
                    observation_period_end=pd.Timestamp(AS_OF),
                    freq="D",
                )
                theirs = time.perf_counter() - t0
                print(
                    f"  lifetimes summary_data_from_transaction_data ({label}): {theirs:.2f} s; "
                    f"sheetcrm is {theirs / ours[label]:.1f}x faster (target >= 5x)"
                )
    except Exception as exc:  # lifetimes is unmaintained; report rather than crash
        print(f"  lifetimes could not run here: {type(exc).__name__}: {exc}")
    rss.stop()


if __name__ == "__main__":
    main()
