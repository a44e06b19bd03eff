"""Benchmark: the monthly report on the 10-million-cell benchmark workbook.

    python scripts/bench_report.py               # 1M activities, 100k contacts, 20k companies, 50k deals
    python scripts/bench_report.py --scale 0.1   # a tenth of that

Builds the workbook exactly as scripts/bench_sync.py does (in memory, as one
values.batchGet would return it), binds it, then times the report: the figures of
2026-10 (two customer snapshots, the pipeline as of the month end), and each rendering
(HTML with its charts, Markdown, CSV, the tab's rows). Prints seconds, peak RSS and the
size of each output. Targets (2-core machine): report under 60 s and 2 GB peak RSS;
Markdown under 1 MiB (GitHub's job-summary limit).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sync import PeakRSS, build

from sheetcrm.backends.memory import MemoryBackend
from sheetcrm.report.render import MARKDOWN_LIMIT, tab_rows, to_csv, to_html, to_markdown
from sheetcrm.report.run import monthly_report
from sheetcrm.workbook import Workbook

MONTH = "2026-10"


def timed(name: str, rss: PeakRSS, fn: Callable[[], Any], results: dict[str, tuple[float, int]]) -> Any:
    gc.collect()
    rss.reset()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    results[name] = (seconds, rss.peak)
    print(f"  {name:<10} {seconds:8.2f} s   peak RSS {rss.peak / 2**20:8.0f} MiB", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the 10M-cell workbook")
    args = ap.parse_args()
    rss = PeakRSS()
    results: dict[str, tuple[float, int]] = {}
    print(f"Building the workbook (scale {args.scale})...", flush=True)
    raw = timed("generate", rss, lambda: build(args.scale), results)
    cells = sum(len(t.header) * (len(t.rows) + 1) for t in raw.values())
    print(f"  {cells:,} cells")
    wb = timed("bind", rss, lambda raw=raw: Workbook(MemoryBackend(raw), raw), results)
    del raw
    print(f"Report {MONTH}:")
    report = timed("figures", rss, lambda: monthly_report(wb, MONTH), results)
    html = timed("html", rss, lambda: to_html(report), results)
    md = timed("markdown", rss, lambda: to_markdown(report), results)
    csv = timed("csv", rss, lambda: to_csv(report), results)
    rows = timed("tab rows", rss, lambda: tab_rows(report), results)
    seconds = sum(results[n][0] for n in ("figures", "html", "markdown", "csv", "tab rows"))
    peak = max(p for _, p in results.values())
    md_bytes = len(md.encode("utf-8"))
    print(
        f"report (figures + every format): {seconds:.1f} s (target < 60 s); peak RSS {peak / 2**20:.0f} MiB "
        f"(target < 2048 MiB)"
    )
    print(
        f"sizes: HTML {len(html.encode()) / 1024:.0f} KiB, Markdown {md_bytes / 1024:.1f} KiB "
        f"({md_bytes / MARKDOWN_LIMIT:.1%} of GitHub's 1 MiB), CSV {len(csv) / 2**20:.1f} MiB "
        f"({len(report.customers):,} customers), tab {len(rows):,} rows"
    )
    rss.stop()


if __name__ == "__main__":
    main()
