"""Benchmark: a whole sync, step by step, in memory and end to end on a local .xlsx.

    python scripts/bench_sync.py                 # in memory: 1M activities, 100k contacts, 20k companies, 50k deals
    python scripts/bench_sync.py --scale 0.1     # a tenth of that
    python scripts/bench_sync.py --no-lifetimes  # skip the lifetimes comparison
    python scripts/bench_sync.py --google --fit --scale 0.05 --no-lifetimes
        # the Google path end to end through the local fake: read, compute, plan, write
    python scripts/bench_sync.py --xlsx mid      # .xlsx end to end: 25k contacts, 70k activities (+ openpyxl baseline)
    python scripts/bench_sync.py --xlsx mid --no-openpyxl  # the same without the openpyxl baseline
    python scripts/bench_sync.py --xlsx ceiling  # .xlsx end to end at the 10M-cell ceiling
    python scripts/bench_sync.py --xlsx unnumbered  # 100k contacts, 300k activities, no IDs at all

``--fit`` shrinks the workbook so that it fits Google's 10-million-cell limit *including*
the computed columns sync adds (the full-size workbook is 13.9M cells with them); the
scale given then multiplies that fitted size. ``--google`` uploads the workbook into a
local ``sheetcrm.testing.FakeSheetsServer`` and times a first sync and a no-op sync
through the real gspread client, printing the requests each made and how its CPU splits
between the fake (in this process, in its own thread) and sheetcrm with gspread.

With ``--xlsx`` the workbook is saved as a real .xlsx (dates as date cells) in a temporary
folder, then synced twice through :class:`~sheetcrm.backends.xlsx.XlsxBackend`: a first
sync and a sync with nothing to write, each step timed (read, bind, validate, compute,
plan, write) with its peak RSS. At mid size the same file and the same plan also go
through the previous openpyxl read and write path, for comparison. Targets (2-core
machine): mid-size first sync <= 10 s and no-op sync <= 4 s; reading >= 3x and writing >=
5x faster than openpyxl; the ceiling under 2 GB peak RSS; the unnumbered first sync < 60 s.

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
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
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
from sheetcrm.schema import TABS, ActivityType, ColumnType, Stage, Tab
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


def build(
    scale: float, seed: int = 7, counts: tuple[int, int, int, int] | None = None, numbered: bool = True
) -> dict[Tab, RawTab]:
    """The workbook as raw tabs: every people's column of the schema filled. ``counts``
    (companies, contacts, deals, activities) overrides ``scale``; without ``numbered``
    every ID cell is blank (a shop's first sync: sheetcrm fills them all)."""
    rng = np.random.default_rng(seed)
    n_co, n_ct = int(20_000 * scale), int(100_000 * scale)
    n_op, n_ac = int(50_000 * scale), int(1_000_000 * scale)
    if counts is not None:
        n_co, n_ct, n_op, n_ac = counts
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
    if not numbered:
        for raw in (companies, contacts, opps, activities):
            for row in raw.rows:
                row[0] = None
    team = RawTab(Tab.TEAM, "Team", ["Name", "Weight", "Active"], [[r, 1, True] for r in reps])
    settings = RawTab(Tab.SETTINGS, "Settings", ["Key", "Value", "Description"], settings_rows())
    log = RawTab(Tab.LOG, "Log", [c.key for c in TABS[Tab.LOG].columns], [])
    return {t.tab: t for t in (companies, contacts, opps, activities, team, settings, log)}


def timed(name: str, rss: PeakRSS, fn: Callable[[], Any], results: list[tuple[str, float, int]]) -> Any:
    gc.collect()
    rss.reset()
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    results.append((name, seconds, rss.peak))
    # CPU seconds beside wall seconds: on a machine shared with other work the wall clock
    # says more about the neighbours than about sheetcrm.
    print(f"  {name:<10} {seconds:8.2f} s  (CPU {cpu:7.2f} s)   peak RSS {rss.peak / 2**20:8.0f} MiB", flush=True)
    return out


#: Google Sheets' limit on the cells of a spreadsheet.
GOOGLE_CELL_LIMIT = 10_000_000
#: Room --fit leaves for what a first sync adds besides the computed columns: the Log tab
#: (Google counts its whole grid, 1,000 x 26 when created, then one row per change logged).
#: Fitted to the last cell, the first sync's grid growth is refused by Google (and the fake).
GOOGLE_FIT_ROOM = 300_000


def cells_with_computed(raw: dict[Tab, RawTab]) -> int:
    """Cells of the workbook once sync has added every computed column of the schema."""
    return sum(max(len(TABS[t.tab].columns), len(t.header)) * (len(t.rows) + 1) for t in raw.values())


def google_sync(raw: dict[Tab, RawTab], rss: PeakRSS, results: list[tuple[str, float, int]]) -> None:
    """Upload ``raw`` into a local fake and time a first sync and a no-op sync through the
    real gspread client (read, compute, plan, write), printing the requests made."""
    from collections import Counter

    from google.oauth2.credentials import Credentials

    import sheetcrm
    from sheetcrm.google.http import make_client
    from sheetcrm.testing import FakeSheetsServer

    with FakeSheetsServer(seed=0) as fake:
        sheets = {t.title: [list(t.header), *t.rows] for t in raw.values()}
        key = timed("upload", rss, lambda: fake.create_spreadsheet("bench", sheets, fit_grid=True), results)
        client = make_client(Credentials(token="bench"), base_url=fake.url, timeout=(30.0, 3600.0))
        url = f"https://docs.google.com/spreadsheets/d/{key}/edit"
        for label in ("first sync", "no-op sync"):
            fake.reset_counters()
            c0 = time.process_time()
            result = timed(label, rss, lambda: sheetcrm.open(url, client=client).sync(as_of=AS_OF), results)
            cpu = time.process_time() - c0
            kinds = Counter(str(r.endpoint) for r in fake.requests)
            # The write's payloads: the batchUpdates after the one that locks and re-reads.
            payloads = sum(
                1
                for r in fake.requests
                if r.endpoint == "spreadsheets.batchUpdate" and "addProtectedRange" not in r.batch_kinds
            )
            print(
                f"    {len(fake.requests)} requests ({', '.join(f'{n} {k}' for k, n in kinds.items())}); "
                f"write in {payloads} payload(s); {result.counts.get('cells_written', 0):,} cells written",
                flush=True,
            )
            # The fake runs in this process: its share of the CPU is Google's work, not sheetcrm's.
            fake_cpu = sorted(r.cpu_seconds or 0.0 for r in fake.requests)
            print(
                f"    CPU: fake {sum(fake_cpu):.2f} s (per request: median {fake_cpu[len(fake_cpu) // 2]:.2f} s, "
                f"largest {fake_cpu[-1]:.2f} s), sheetcrm and gspread {cpu - sum(fake_cpu):.2f} s",
                flush=True,
            )


# ------------------------------------------------------------------ .xlsx end to end

XLSX_CASES = {
    # companies, contacts, deals, activities; numbered; compare with openpyxl
    "mid": ((5_000, 25_000, 12_500, 70_000), True, True),
    "ceiling": ((20_000, 100_000, 50_000, 1_000_000), True, False),
    "unnumbered": ((20_000, 100_000, 25_000, 300_000), False, False),
}


def save_xlsx(raw: dict[Tab, RawTab], path: Path) -> None:
    """Save raw tabs as a real .xlsx the way a person's workbook is: date columns as date
    cells (XlsxWriter, row by row in constant memory)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    for tab, t in raw.items():
        ws = book.add_worksheet(t.title)
        spec = TABS[tab]
        keys = {c.key: c for c in spec.columns}
        dates = [i for i, h in enumerate(t.header) if h in keys and keys[h].type is ColumnType.DATE]
        ws.write_row(0, 0, t.header)
        for r, row in enumerate(t.rows, start=1):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if c in dates and isinstance(value, int | float):
                    ws.write_number(r, c, value, date_fmt)
                elif isinstance(value, str):
                    ws.write_string(r, c, value)
                elif isinstance(value, bool | np.bool_):
                    ws.write_boolean(r, c, bool(value))
                else:
                    ws.write_number(r, c, float(value))
    book.close()


class OpenpyxlBaseline:
    """The previous .xlsx path, kept here for comparison: read with openpyxl's streaming
    reader, write by loading the whole workbook, changing the planned cells and saving."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[Tab, RawTab]:
        from openpyxl import load_workbook

        from sheetcrm.schema import find_tabs

        wb = load_workbook(self.path, read_only=True, data_only=True)
        out: dict[Tab, RawTab] = {}
        for tab, title in find_tabs(wb.sheetnames).items():
            rows_iter = wb[title].iter_rows(values_only=True)
            header = _trim(next(rows_iter, ()))
            rows = [_trim(r) for r in rows_iter]
            while rows and not rows[-1]:
                rows.pop()
            out[tab] = RawTab(tab, title, header, rows)
        wb.close()
        return out

    def write(self, the_plan: Any, to: Path) -> int:
        from openpyxl import load_workbook

        wb = load_workbook(self.path, rich_text=True)
        for _tab, title, col, text in the_plan.headers:
            wb[title].cell(row=1, column=col + 1, value=text)
        cells = the_plan.cells
        written = 0
        for title, row, col, new in zip(cells["title"], cells["row"], cells["col"], cells["new"], strict=True):
            cell = wb[title].cell(row=int(row), column=int(col) + 1)
            cell.value = new
            if isinstance(new, str) and new.startswith("="):
                cell.data_type = "s"
            written += 1
        ws = wb[the_plan.log_title]
        for values in the_plan.log:
            r = ws.max_row + 1
            for c, value in enumerate(values, start=1):
                ws.cell(row=r, column=c, value=value)
        wb.save(to)
        return written


def _trim(values: tuple[Any, ...]) -> list[Any]:
    row = list(values)
    while row and (row[-1] is None or row[-1] == ""):
        row.pop()
    return row


def cpu_timed(
    name: str, rss: PeakRSS, fn: Callable[[], Any], results: list[tuple[str, float, int]], cpu: dict[str, float]
) -> Any:
    """:func:`timed`, also noting the step's CPU seconds in ``cpu``."""
    c0 = time.process_time()
    out = timed(name, rss, fn, results)
    cpu[name] = time.process_time() - c0
    return out


def xlsx_sync(path: Path, rss: PeakRSS, label: str) -> tuple[dict[str, tuple[float, int]], dict[str, float], Any]:
    """One whole sync of the .xlsx at ``path``, each step timed; returns the wall and CPU
    timings and the plan."""
    from sheetcrm.backends.xlsx import XlsxBackend

    results: list[tuple[str, float, int]] = []
    cpu: dict[str, float] = {}
    backend = XlsxBackend(path)
    # What sync itself does: each tab bound as soon as it is parsed, while calamine parses
    # the larger ones in other threads. Timed first, on the same file; apart below, step by step.
    t0 = time.perf_counter()
    bind_all(backend.read_each())
    overlapped = time.perf_counter() - t0
    gc.collect()
    print(f"{label}:")
    # Popped by bind, as sync_target lets go of it: the bound tables are all the later steps need.
    read = {"raw": cpu_timed("read", rss, backend.read, results, cpu)}
    tables, settings, settings_problems = cpu_timed("bind", rss, lambda: bind_all(read.pop("raw")), results, cpu)
    problems = cpu_timed("validate", rss, lambda: validate_tables(tables, settings_problems), results, cpu)
    computed = cpu_timed("compute", rss, lambda: compute(tables, settings, AS_OF, problems), results, cpu)
    the_plan = cpu_timed("plan", rss, lambda: plan(tables, computed, settings, AS_OF, "bench"), results, cpu)
    cells = len(the_plan.write.cells)
    if the_plan.write.empty:
        results.append(("write", 0.0, 0))
        cpu["write"] = 0.0
        print("  write         0.00 s   (nothing to write)")
    else:
        cpu_timed("write", rss, lambda: backend.write(the_plan.write), results, cpu)
    total = sum(s for _, s, _ in results)
    peak = max(p for _, _, p in results)
    print(
        f"  => end to end {total:.2f} s (CPU {sum(cpu.values()):.2f} s), peak RSS {peak / 2**20:.0f} MiB; "
        f"{cells:,} cells and {len(the_plan.write.log):,} Log rows written",
        flush=True,
    )
    print(
        f"  read + bind overlapped, as sync runs them: {overlapped:.2f} s (timed apart above:"
        f" {results[0][1] + results[1][1]:.2f} s)",
        flush=True,
    )
    return {n: (s, p) for n, s, p in results}, cpu, the_plan


def cli_syncs(original: Path, path: Path) -> None:
    """What a person waits for at the prompt: ``sheetcrm sync`` in a new process (Python's
    start and the imports included) on a copy of the original, then again with nothing to
    change."""
    import shutil
    import subprocess

    shutil.copyfile(original, path)
    command = [sys.executable, "-c", "from sheetcrm.cli import main; main()", "sync", str(path), "--quiet"]
    command += ["--as-of", AS_OF.isoformat()]
    print("From the command line (sheetcrm sync, a new process each):")
    for label in ("first sync", "no-op sync"):
        t0 = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        took = time.perf_counter() - t0
        if done.returncode not in (0, 1):  # 1: done, with validation problems
            raise SystemExit(f"sheetcrm sync failed ({done.returncode}): {done.stderr[-2000:]}")
        print(f"  {label:<11} {took:6.2f} s")


def run_xlsx(case: str, openpyxl: bool = True) -> None:
    import shutil
    import tempfile

    counts, numbered, baseline = XLSX_CASES[case]
    baseline = baseline and openpyxl
    rss = PeakRSS()
    folder = Path(tempfile.mkdtemp(prefix="sheetcrm-bench-"))
    try:
        path = folder / "bench.xlsx"
        raw = build(1.0, counts=counts, numbered=numbered)
        cells = sum(len(t.header) * (len(t.rows) + 1) for t in raw.values())
        print(
            f"Case {case}: {cells:,} cells: "
            + ", ".join(f"{len(t.rows):,} {t.tab.value.lower()}" for t in raw.values())
        )
        t0 = time.perf_counter()
        save_xlsx(raw, path)
        del raw
        gc.collect()
        print(f"  saved {path.stat().st_size / 2**20:.1f} MiB .xlsx in {time.perf_counter() - t0:.1f} s (not timed)")
        original = folder / "original.xlsx"
        shutil.copyfile(path, original)
        first, first_cpu, the_plan = xlsx_sync(path, rss, "First sync (sheetcrm: calamine read, streamed write)")
        if not baseline:
            # Only the openpyxl comparison needs the first plan; a real second sync holds
            # nothing of the first, so neither does its peak RSS here.
            del the_plan
            gc.collect()
        again, again_cpu, _ = xlsx_sync(path, rss, "Sync right after (nothing to change)")
        old: dict[str, float] = {}
        old_cpu: dict[str, float] = {}
        if baseline:
            print("Previous openpyxl path, same original file and same plan:")
            base = OpenpyxlBaseline(original)
            results: list[tuple[str, float, int]] = []
            cpu_timed("read", rss, base.read, results, old_cpu)
            cpu_timed("write", rss, lambda: base.write(the_plan.write, folder / "openpyxl.xlsx"), results, old_cpu)
            old = {n: s for n, s, _ in results}
        print()
        print("Wall seconds (CPU seconds in brackets; factors from CPU, which the neighbours move far less):")
        print(f"{'step':<10} {'first sync':>22} {'no-op sync':>22}" + (f" {'openpyxl':>24}" if old else ""))
        for step in ("read", "bind", "validate", "compute", "plan", "write"):
            line = (
                f"{step:<10} {first[step][0]:>9.2f} s (CPU {first_cpu[step]:6.2f})"
                f" {again[step][0]:>9.2f} s (CPU {again_cpu[step]:6.2f})"
            )
            if step in old:
                line += (
                    f" {old[step]:>9.2f} s (CPU {old_cpu[step]:6.2f})"
                    f"  {old_cpu[step] / max(first_cpu[step], 1e-9):.1f}x"
                )
            print(line)
        tot1 = sum(s for s, _ in first.values())
        tot2 = sum(s for s, _ in again.values())
        peak = max(p for _, p in [*first.values(), *again.values()])
        print(
            f"{'total':<10} {tot1:>9.2f} s (CPU {sum(first_cpu.values()):6.2f})"
            f" {tot2:>9.2f} s (CPU {sum(again_cpu.values()):6.2f})   peak RSS {peak / 2**20:.0f} MiB"
        )
        cli_syncs(original, folder / "cli.xlsx")
    finally:
        rss.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the 10M-cell workbook")
    ap.add_argument("--no-lifetimes", action="store_true", help="skip the lifetimes comparison")
    ap.add_argument("--fit", action="store_true", help="fit Google's 10M-cell limit with the computed columns")
    ap.add_argument("--google", action="store_true", help="also time the Google path through the local fake")
    ap.add_argument("--xlsx", choices=sorted(XLSX_CASES), help="time a whole sync of a real .xlsx instead")
    ap.add_argument(
        "--no-openpyxl", action="store_true", help="with --xlsx mid: skip the (minutes long) openpyxl comparison"
    )
    args = ap.parse_args()
    if args.xlsx:
        run_xlsx(args.xlsx, openpyxl=not args.no_openpyxl)
        return

    rss = PeakRSS()
    results: list[tuple[str, float, int]] = []
    scale = args.scale
    if args.fit:
        full = cells_with_computed(build(0.01)) / 0.01
        scale *= min(1.0, (GOOGLE_CELL_LIMIT - GOOGLE_FIT_ROOM) / full)
    print(f"Building the workbook (scale {scale:.4f})...", flush=True)
    raw = timed("generate", rss, lambda: build(scale), results)
    cells = sum(len(t.header) * (len(t.rows) + 1) for t in raw.values())
    print(f"  {cells:,} cells: " + ", ".join(f"{len(t.rows):,} {t.tab.value.lower()}" for t in raw.values()))
    print(f"  {cells_with_computed(raw):,} cells with the computed columns (Google's limit: 10,000,000)")
    if args.google:
        print("The Google path through the local fake:")
        google_sync(raw, rss, results)
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
