"""The report's charts: matplotlib (Agg) figures saved as inline SVG text.

Text stays text in the SVG (``svg.fonttype = none``) so the page's CJK font stack renders
Chinese labels, and the SVG carries no date, so the same data gives the same bytes.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

#: Palette (colour-blind safe, Okabe–Ito), the current period first.
NOW, PREV, ACCENT, GREY = "#0072B2", "#9ecae1", "#D55E00", "#999999"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
#: Fonts matplotlib measures text with (the browser draws it with the page's stack).
FONTS = ["Noto Sans CJK TC", "Noto Sans CJK JP", "Noto Sans TC", "Microsoft JhengHei", "PingFang TC", "DejaVu Sans"]
#: Most points a line chart draws (a 100k-buyer curve is thinned to this).
MAX_POINTS = 400


@contextmanager
def _figure(width: float, height: float) -> Iterator[Figure]:
    with plt.rc_context(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "sheetcrm",
            "font.family": "sans-serif",
            "font.sans-serif": FONTS,
            "font.size": 12,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.edgecolor": "#666666",
            "axes.titlesize": 11,
        }
    ):
        fig = Figure(figsize=(width, height), layout="constrained")
        yield fig


def to_svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element (no XML prolog or doctype, for inline HTML)."""
    buf = io.StringIO()
    with warnings.catch_warnings():
        # Glyphs missing from the measuring font only shift a label's width estimate;
        # the browser draws the text with the page's fonts.
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*missing.*")
        warnings.filterwarnings("ignore", message=r".*findfont.*")
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]


def grouped_bars(
    labels: Sequence[str], now: npt.ArrayLike, prev: npt.ArrayLike, now_label: str, prev_label: str
) -> str:
    """Vertical bars, this period beside the previous one, per category."""
    x = np.arange(len(labels))
    with _figure(5.0, 3.0) as fig:
        ax = fig.subplots()
        ax.bar(x - 0.2, prev, 0.4, label=prev_label, color=PREV)
        bars = ax.bar(x + 0.2, now, 0.4, label=now_label, color=NOW)
        ax.bar_label(bars, padding=2, fontsize=10)
        ax.set_xticks(x, labels)
        ax.legend(frameon=False, loc="upper right")
        ax.margins(y=0.15)
        return to_svg(fig)


def hbars(labels: Sequence[str], values: npt.ArrayLike, value_text: Sequence[str]) -> str:
    """Horizontal bars, largest on top, each labelled with its text."""
    y = np.arange(len(labels))[::-1]
    with _figure(5.0, 0.38 * len(labels) + 0.8) as fig:
        ax = fig.subplots()
        bars = ax.barh(y, values, color=NOW)
        ax.bar_label(bars, labels=list(value_text), padding=3, fontsize=10)
        ax.set_yticks(y, labels)
        ax.tick_params(axis="x", labelbottom=False, bottom=False)
        ax.spines["bottom"].set_visible(False)
        ax.margins(x=0.25)
        return to_svg(fig)


def pyramid(labels: Sequence[str], counts: npt.ArrayLike) -> str:
    """The customer pyramid: centred bars, top tier on top."""
    n = len(labels)
    y = np.arange(n)[::-1]
    values = np.asarray(counts, dtype="float64")
    with _figure(5.0, 0.45 * n + 0.6) as fig:
        ax = fig.subplots()
        widest = max(values.max(initial=0.0), 1.0)
        bars = ax.barh(y, values, left=-values / 2, color=[PALETTE[i % len(PALETTE)] for i in range(n)])
        ax.bar_label(
            bars,
            labels=[f"{lab}  {int(v):,}" for lab, v in zip(labels, values, strict=True)],
            label_type="center",
            fontsize=11,
            color="#111111",
        )
        ax.set_xlim(-widest / 2 * 1.1, widest / 2 * 1.1)
        ax.set_axis_off()
        return to_svg(fig)


def lorenz(buyers_share: npt.ArrayLike, revenue_share: npt.ArrayLike, x_label: str, y_label: str) -> str:
    """Cumulative revenue share against buyer share, with the 20% line."""
    x = np.asarray(buyers_share, dtype="float64")
    y = np.asarray(revenue_share, dtype="float64")
    if len(x) > MAX_POINTS:
        keep = np.unique(np.linspace(0, len(x) - 1, MAX_POINTS).round().astype(int))
        x, y = x[keep], y[keep]
    with _figure(4.8, 3.2) as fig:
        ax = fig.subplots()
        ax.plot(x * 100, y * 100, color=NOW, linewidth=2)
        ax.plot([0, 100], [0, 100], color=GREY, linewidth=1, linestyle=":")
        ax.axvline(20, color=ACCENT, linewidth=1, linestyle="--")
        ax.axhline(80, color=ACCENT, linewidth=1, linestyle="--")
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 101)
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.xaxis.set_major_formatter("{x:.0f}%")
        ax.yaxis.set_major_formatter("{x:.0f}%")
        return to_svg(fig)


def funnel(labels: Sequence[str], reached: npt.ArrayLike, notes: Sequence[str]) -> str:
    """The funnel: centred bars of deals reaching each stage, with the conversion notes."""
    return _centred(labels, reached, notes)


def _centred(labels: Sequence[str], values: npt.ArrayLike, notes: Sequence[str]) -> str:
    n = len(labels)
    y = np.arange(n)[::-1]
    v = np.asarray(values, dtype="float64")
    with _figure(5.0, 0.5 * n + 0.6) as fig:
        ax = fig.subplots()
        widest = max(v.max(initial=0.0), 1.0)
        ax.barh(y, v, left=-v / 2, color=NOW, height=0.7)
        for yi, lab, val, note in zip(y, labels, v, notes, strict=True):
            ax.text(-widest * 0.62, yi, lab, ha="right", va="center", fontsize=11)
            ax.text(widest * 0.62, yi, f"{int(val):,}  {note}".rstrip(), ha="left", va="center", fontsize=11)
        ax.set_xlim(-widest * 1.3, widest * 1.3)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_axis_off()
        return to_svg(fig)


def stacked_hbars(
    labels: Sequence[str], first: npt.ArrayLike, second: npt.ArrayLike, first_label: str, second_label: str
) -> str:
    """Horizontal stacked bars (won, then weighted open pipeline) per owner."""
    y = np.arange(len(labels))[::-1]
    with _figure(5.0, 0.35 * len(labels) + 1.0) as fig:
        ax = fig.subplots()
        ax.barh(y, first, color=NOW, label=first_label)
        ax.barh(y, second, left=first, color=PREV, label=second_label)
        ax.set_yticks(y, labels)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        ax.legend(frameon=False, loc="lower right", fontsize=10)
        return to_svg(fig)
