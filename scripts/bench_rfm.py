"""Benchmark the customer numbers on the 10-million-cell benchmark workbook.

    python scripts/bench_rfm.py                 # the full workbook (scripts/bench_sync.py's build)
    python scripts/bench_rfm.py --scale 0.1     # a tenth of it
    python scripts/bench_rfm.py --no-lifetimes  # skip the comparison

Builds the workbook of ``scripts/bench_sync.py`` in memory (1M activities, 100k contacts,
20k companies, 50k deals at scale 1), binds it and takes its transactions as of the
benchmark day, then prints:

* the buy-till-you-die fit (:func:`sheetcrm.customers.rhythm.rhythm_table`, MBG/NBD and
  BG/NBD): summary, fit and scoring time, parameters, convergence (goal: under 30 s);
* RFM (:func:`sheetcrm.customers.rfm.rfm_table`: recency, frequency, exact monetary,
  scores and segments of every contact) against ``lifetimes``'
  ``summary_data_from_transaction_data`` (frequency, recency, T and monetary only) on the
  same transactions, with the contact IDs as plain Python strings (each its own object,
  as read from a sheet), as pandas' ``str`` dtype, and as categoricals (what sync hands
  over). Goal: at least 5x faster, plain strings included. Best of ``--repeat`` runs;
  lifetimes' days since the last purchase are checked against ours.

Times are printed as CPU seconds of this process (``time.process_time``) and wall seconds.
Both sides are single-threaded, so on a shared machine the CPU figure is the fair
comparison (wall time there also measures whoever else is running); the ratio is given for
both.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sheetcrm.customers import btyd
from sheetcrm.customers.rfm import customer_index, rfm_table
from sheetcrm.customers.rhythm import rhythm_table
from sheetcrm.customers.transactions import transactions
from sheetcrm.engine.bind import bind_all
from sheetcrm.schema import Tab
from sheetcrm.settings import Settings


def _bench_sync() -> Any:
    """scripts/bench_sync.py as a module (scripts/ is not a package)."""
    path = Path(__file__).resolve().parent / "bench_sync.py"
    spec = importlib.util.spec_from_file_location("bench_sync", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best CPU seconds, best wall seconds and the last result of ``repeat`` runs."""
    cpu, wall, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    return cpu, wall, out


def fresh_strings(values: pd.Series) -> pd.Series:
    """The IDs as an object column of distinct str objects, as a sheet's cells arrive
    (not the few shared objects a categorical's ``astype(object)`` would hand out)."""
    return pd.Series([None if v is None or v != v else "".join(v) for v in values.astype(object)], dtype=object)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the 10M-cell workbook")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of each RFM, best kept")
    ap.add_argument("--no-lifetimes", action="store_true", help="skip the lifetimes comparison")
    args = ap.parse_args()
    bench = _bench_sync()
    as_of = pd.Timestamp(bench.AS_OF)
    print(f"pandas {pd.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    t0 = time.perf_counter()
    raw = bench.build(args.scale)
    cells = sum(len(t.header) * (len(t.rows) + 1) for t in raw.values())
    tables, _, _ = bind_all(raw)
    tx = transactions(tables[Tab.ACTIVITIES].typed, tables[Tab.OPPORTUNITIES].typed, as_of)
    ids = customer_index(tables[Tab.CONTACTS].typed["ID"])
    print(
        f"workbook: {cells:,} cells built and bound in {time.perf_counter() - t0:.0f} s; "
        f"{len(tx):,} transactions of {tx['contact_id'].nunique():,} of {len(ids):,} contacts as of {as_of:%Y-%m-%d}"
    )

    print("Buy-till-you-die fit on the contacts (whole history, weeks):")
    for model in btyd.Model:
        fit_settings = Settings(rhythm_model=model.value)
        c0, t0 = time.process_time(), time.perf_counter()
        result = rhythm_table(tx, ids, "contact_id", as_of, fit_settings, Tab.CONTACTS)
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
        fit = result.fit
        if fit is None:
            print(f"  {model}: not fitted: {result.notice.en}")
            continue
        params = ", ".join(f"{k} {v:.4g}" for k, v in fit.params.items())
        print(
            f"  {model}: {total:.2f} s wall, {cpu:.2f} s CPU in all (goal < 30 s); "
            f"{fit.customers:,} buyers, {fit.repeat_buyers:,} repeat; "
            f"{fit.iterations} iterations, converged {fit.converged}; {params}"
        )
        print(f"    {result.notice.en}")

    frames = {
        "plain str objects": tx.assign(contact_id=fresh_strings(tx["contact_id"])),
        "pandas str dtype": tx.assign(contact_id=tx["contact_id"].astype("str")),
        "categorical": tx.assign(contact_id=tx["contact_id"].astype("category")),
    }
    print(f"RFM of {len(ids):,} contacts, best of {args.repeat}:")
    ours: dict[str, tuple[float, float]] = {}
    reference = None
    for label, frame in frames.items():
        cpu, wall, table = best(lambda f=frame: rfm_table(f, ids, "contact_id", as_of, Settings()), args.repeat)
        ours[label] = (cpu, wall)
        reference = table if reference is None else reference
        print(f"  sheetcrm rfm_table ({label}): {cpu:.3f} s CPU, {wall:.3f} s wall")
    if args.no_lifetimes:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lifetimes.utils import summary_data_from_transaction_data
    except Exception as exc:  # lifetimes is unmaintained; say so rather than crash
        print(f"  lifetimes could not be imported here: {type(exc).__name__}: {exc}")
        return
    for label, frame in frames.items():
        data = frame[["contact_id", "date", "amount"]].dropna(subset=["contact_id"])

        def theirs(data: pd.DataFrame = data) -> pd.DataFrame:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return summary_data_from_transaction_data(
                    data, "contact_id", "date", monetary_value_col="amount", observation_period_end=as_of, freq="D"
                )

        try:
            cpu, wall, summary = best(theirs, args.repeat)
        except Exception as exc:
            print(f"  lifetimes ({label}) crashed: {type(exc).__name__}: {exc}")
            continue
        assert reference is not None
        days = (summary["T"] - summary["recency"]).astype("int64")
        agrees = bool((reference["recency"].reindex(days.index.astype(object)).astype("int64") == days).all())
        ratio, wall_ratio = cpu / ours[label][0], wall / ours[label][1]
        print(
            f"  lifetimes summary_data_from_transaction_data ({label}): {cpu:.3f} s CPU, {wall:.3f} s wall; "
            f"sheetcrm is {ratio:.1f}x faster in CPU (goal >= 5x: {'met' if ratio >= 5 else 'NOT met'}), "
            f"{wall_ratio:.1f}x in wall time; days since last purchase agree: {agrees}"
        )
    print(f"finished {dt.datetime.now():%H:%M:%S}")


if __name__ == "__main__":
    main()
