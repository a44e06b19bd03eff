"""Benchmark sheetcrm's RFM against lifetimes' summary_data_from_transaction_data.

Generates ``--n`` transactions (default 1,000,000) over ``--customers`` customers (default
100,000), seeded, and times on the very same transactions:

* ours — :func:`sheetcrm.customers.rfm.rfm_table` (recency, frequency, monetary, R/F/M scores and
  segments, every customer);
* lifetimes — ``lifetimes.utils.summary_data_from_transaction_data`` (frequency, recency,
  T and monetary only, daily periods).

Each timing runs in a fresh child process (same seed, so the same data) so that each
reports its own peak RSS; a third child only builds the data, giving the baseline that
both peaks include. Prints seconds (best of ``--repeat``), the ratio and the memory.

If lifetimes cannot be imported, or crashes under this pandas, that is printed and our
timing is still reported. Usage::

    python scripts/bench_rfm.py [--n 1000000] [--customers 100000] [--seed 7] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

AS_OF = pd.Timestamp("2026-03-31")
HISTORY_DAYS = 3 * 365


def make_transactions(n: int, customers: int, seed: int) -> tuple[pd.DataFrame, pd.Index]:
    """``n`` transactions over ``customers`` customers (object-dtype IDs like the typed
    frames sheetcrm reads; each cell its own str object, as from a sheet), dated over the
    three years up to :data:`AS_OF`, amounts lognormal; plus the index of all customers
    (about a tenth of whom never bought)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"P-{i:06d}" for i in range(customers)], dtype=object)
    buyers = max(1, int(customers * 0.9))
    # skewed: some customers buy far more often than others
    weights = rng.pareto(1.5, buyers) + 1.0
    who = rng.choice(buyers, size=n, p=weights / weights.sum())
    contact = np.array([f"P-{i:06d}" for i in who], dtype=object)
    days = rng.integers(0, HISTORY_DAYS, size=n)
    dates = (AS_OF - pd.to_timedelta(days, unit="D")).as_unit("ns")
    tx = pd.DataFrame(
        {
            "date": pd.Series(np.asarray(dates, dtype="datetime64[ns]")),
            "amount": np.round(rng.lognormal(7.0, 1.0, size=n), 0),
            "contact_id": pd.Series(contact, dtype=object),
            "company_id": pd.Series(np.full(n, None, dtype=object), dtype=object),
            "opportunity_id": pd.Series(np.full(n, None, dtype=object), dtype=object),
            "source_id": pd.Series(np.array([f"A-{i}" for i in range(n)], dtype=object), dtype=object),
            "source": pd.Series(np.full(n, "activity", dtype=object), dtype=object),
        }
    )
    return tx, pd.Index(ids, dtype=object)


def peak_rss_mb() -> float:
    """Peak resident set size of this process, MB (ru_maxrss is KB on Linux, B on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _best(fn: Any, repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def child(which: str, n: int, customers: int, seed: int, repeat: int) -> dict[str, Any]:
    """Run one measurement in this process; return a JSON-able dict."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    tx, ids = make_transactions(n, customers, seed)
    out: dict[str, Any] = {"which": which}
    if which == "ours":
        from sheetcrm.customers.rfm import rfm_table
        from sheetcrm.settings import Settings

        seconds, table = _best(lambda: rfm_table(tx, ids, "contact_id", AS_OF, Settings()), repeat)
        out.update(seconds=seconds, rows=len(table), buyers=int(table["r"].notna().sum()))
    elif which == "lifetimes":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from lifetimes.utils import summary_data_from_transaction_data
        except Exception as exc:
            out.update(error=f"lifetimes failed to import: {type(exc).__name__}: {exc}")
            return out
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                seconds, summary = _best(
                    lambda: summary_data_from_transaction_data(
                        tx,
                        "contact_id",
                        "date",
                        monetary_value_col="amount",
                        observation_period_end=AS_OF,
                        freq="D",
                    ),
                    repeat,
                )
        except Exception as exc:
            out.update(error=f"lifetimes crashed: {type(exc).__name__}: {exc}", trace=traceback.format_exc(limit=3))
            return out
        out.update(seconds=seconds, rows=len(summary))
        # cross-check after timing: days since last purchase must agree with ours
        from sheetcrm.customers.rfm import rfm_table
        from sheetcrm.settings import Settings

        ours = rfm_table(tx, ids, "contact_id", AS_OF, Settings())
        theirs = (summary["T"] - summary["recency"]).astype("int64")
        mine = ours["recency"].reindex(theirs.index).astype("int64")
        out.update(recency_agrees=bool((theirs == mine).all()))
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1_000_000, help="transactions (default 1,000,000)")
    p.add_argument("--customers", type=int, default=100_000, help="customers (default 100,000)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=3, help="timed runs each, best kept (default 3)")
    p.add_argument("--child", choices=["baseline", "ours", "lifetimes"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.child, args.n, args.customers, args.seed, args.repeat)))
        return 0

    print(f"pandas {pd.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    print(f"{args.n:,} transactions over {args.customers:,} customers, seed {args.seed}, best of {args.repeat}")
    results: dict[str, dict[str, Any]] = {}
    for which in ("baseline", "ours", "lifetimes"):
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                which,
                "--n",
                str(args.n),
                "--customers",
                str(args.customers),
                "--seed",
                str(args.seed),
                "--repeat",
                str(args.repeat),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = proc.stdout.strip().splitlines()
        try:
            results[which] = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            tail = proc.stderr.strip()[-2000:]
            results[which] = {"error": f"child exited {proc.returncode}: {tail}"}

    base = results["baseline"].get("peak_rss_mb", float("nan"))
    print(f"data only:  peak RSS {base:8.1f} MB")
    ours = results["ours"]
    if "error" in ours:
        print(f"ours:       FAILED: {ours['error']}")
        return 1
    print(
        f"ours:       {ours['seconds']:8.3f} s   peak RSS {ours['peak_rss_mb']:8.1f} MB "
        f"(+{ours['peak_rss_mb'] - base:.1f} MB over the data)   "
        f"{ours['rows']:,} customers, {ours['buyers']:,} buyers"
    )
    lt = results["lifetimes"]
    if "error" in lt:
        print(f"lifetimes:  NOT COMPARED: {lt['error']}")
        if lt.get("trace"):
            print(lt["trace"])
        return 0
    print(
        f"lifetimes:  {lt['seconds']:8.3f} s   peak RSS {lt['peak_rss_mb']:8.1f} MB "
        f"(+{lt['peak_rss_mb'] - base:.1f} MB over the data)   {lt['rows']:,} customers; "
        f"recency agrees with ours: {lt['recency_agrees']}"
    )
    ratio = lt["seconds"] / ours["seconds"]
    verdict = "met" if ratio >= 5 else "NOT met"
    print(f"ratio:      ours is {ratio:.1f}x faster (target >= 5x: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
