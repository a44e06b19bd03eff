"""Rhythm-aware churn beside NESL: P(alive), expected purchases and a rhythm class.

NESL calls every customer silent for six months lost, whatever their habit. Here a
buy-till-you-die model (:mod:`sheetcrm.customers.btyd`, MBG/NBD by default) is fitted on
the whole book's history, and each customer is judged against their *own* rhythm: a yearly
buyer quiet for seven months is still likely alive, a weekly buyer quiet for three weeks
is not.

In: a transactions frame, the customers, as of a day (the same as :func:`~sheetcrm.customers.rfm.rfm_table`).
Out: :class:`RhythmResult` — a frame with ``p_alive`` and ``expected_90d`` (float, NaN when
not computed) and ``rhythm`` (:class:`~sheetcrm.schema.Rhythm` or None), the fit, and a
:class:`~sheetcrm.customers.notices.Notice` saying what was done or why the columns stay empty.

The columns stay empty (and the notice says why) when fewer than
``settings.min_repeat_buyers`` customers bought twice or more, or when the fit does not
converge; a fit never raises into the sync.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from sheetcrm.customers import btyd, notices
from sheetcrm.customers.rfm import Key, book
from sheetcrm.customers.transactions import DateLike
from sheetcrm.schema import Rhythm, Tab
from sheetcrm.settings import Settings

#: Days ahead of ``Expected 90d``.
HORIZON_DAYS = 90

#: Columns of :attr:`RhythmResult.table`, in order.
RHYTHM_COLUMNS: tuple[str, ...] = ("p_alive", "expected_90d", "rhythm")

_RHYTHMS = np.array([Rhythm.LIKELY_GONE, Rhythm.AT_RISK, Rhythm.ACTIVE, None], dtype=object)


class RhythmResult(NamedTuple):
    table: pd.DataFrame
    fit: btyd.Fit | None
    notice: notices.Notice


def rhythm_class(p_alive: pd.Series, settings: Settings) -> pd.Series:
    """Rhythm of each P(alive): Active at or above ``settings.active_p``, Likely gone
    below ``settings.gone_p``, At risk in between, None where P(alive) is missing.

    In: float Series 0–1 (NaN missing). Out: object Series on the same index.
    """
    p = p_alive.to_numpy(dtype="float64", na_value=np.nan)
    code = np.select(
        [np.isnan(p), p >= settings.active_p, p >= settings.gone_p],
        [3, 2, 1],
        default=0,
    )
    return pd.Series(_RHYTHMS[code], index=p_alive.index, dtype=object, name="rhythm")


def _empty(index: pd.Index) -> pd.DataFrame:
    n = len(index)
    return pd.DataFrame(
        {
            "p_alive": np.full(n, np.nan),
            "expected_90d": np.full(n, np.nan),
            "rhythm": pd.Series(np.full(n, None, dtype=object), index=index, dtype=object),
        },
        index=index,
    )


def rhythm_table(
    tx: pd.DataFrame,
    customer_ids: pd.Index | pd.Series | Sequence[Any],
    key: Key | str,
    as_of: DateLike,
    settings: Settings,
    tab: Tab = Tab.CONTACTS,
) -> RhythmResult:
    """P(alive), expected purchases in the next :data:`HORIZON_DAYS` days and rhythm class
    of every given customer as of ``as_of``.

    In: ``tx``, ``customer_ids``, ``key``, ``as_of`` as for
    :func:`~sheetcrm.customers.rfm.rfm_table` (the whole history up to as_of is used, not
    only the look-back window); ``settings`` — ``min_repeat_buyers``, ``active_p``,
    ``gone_p``, ``rhythm_model``; ``tab`` — whose customers these are (for the notice).

    Out: :class:`RhythmResult`. ``table`` is indexed by customer ID like ``rfm_table``,
    columns :data:`RHYTHM_COLUMNS`: ``p_alive`` (float 0–1), ``expected_90d`` (float ≥ 0),
    NaN for non-buyers and for everyone when not fitted; ``rhythm`` (:class:`Rhythm` or
    None). Time is in weeks (days / 7) and same-day purchases are one purchase, as in the
    literature. A customer whose first purchase is on ``as_of`` has no history to fit
    yet but is scored with the fitted model.
    """
    b = book(tx, customer_ids, key, as_of, settings.lookback_months, decimals=0)
    summary = btyd.summary(b.code, b.age, len(b.index), index=b.index)
    model = btyd.Model(settings.rhythm_model)
    buyers = summary["buyer"].to_numpy()
    repeat = int((summary["frequency"].to_numpy() > 0).sum())
    table = _empty(b.index)
    if repeat < settings.min_repeat_buyers:
        return RhythmResult(table, None, notices.rhythm_too_few(tab, repeat, settings.min_repeat_buyers))
    started = time.perf_counter()
    try:
        fitted = btyd.fit(summary[buyers], model)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
        # a fit never blocks a sync: the columns stay empty and the notice says why
        return RhythmResult(table, None, notices.rhythm_failed(tab, model, str(exc)))
    if not fitted.converged:
        return RhythmResult(table, fitted, notices.rhythm_failed(tab, model, fitted.message))
    p = btyd.p_alive(summary, fitted)
    expected = btyd.expected_purchases(summary, fitted, HORIZON_DAYS / btyd.UNIT_DAYS)
    table["p_alive"] = p.to_numpy()
    table["expected_90d"] = expected.to_numpy()
    table["rhythm"] = rhythm_class(p, settings)
    seconds = time.perf_counter() - started
    counts = table["rhythm"].value_counts()
    notice = notices.rhythm_fitted(
        tab,
        str(model),
        int(buyers.sum()),
        repeat,
        int(counts.get(Rhythm.ACTIVE, 0)),
        int(counts.get(Rhythm.AT_RISK, 0)),
        int(counts.get(Rhythm.LIKELY_GONE, 0)),
        seconds,
    )
    return RhythmResult(table, fitted, notice)
