"""Buy-till-you-die models: BG/NBD and MBG/NBD fitted by maximum likelihood.

Pure functions over pandas frames. The input is a *summary frame*, one row per customer
(any index) with three float columns in one time unit (sheetcrm uses weeks, days / 7):

* ``frequency`` — repeat purchase periods: distinct purchase days after the first;
* ``recency`` — time from the first to the last purchase (0 for a one-time buyer);
* ``T`` — time from the first purchase to the end of the observation (as-of day).

:func:`summary` builds it from transactions. :func:`fit` estimates the four parameters
(``r``, ``alpha`` of the gamma-Poisson purchase process, ``a``, ``b`` of the beta dropout
probability); :func:`p_alive` and :func:`expected_purchases` apply a fit to a summary.

The models (Fader, Hardie & Lee 2005, "Counting your customers the easy way"; Batislam,
Denizel & Filiztekin 2007 for MBG/NBD): BG/NBD lets a customer drop out only after a
repeat purchase, so a one-time buyer is always "alive"; MBG/NBD also lets them drop out
at time zero, so one-time buyers who stay quiet get P(alive) < 1. MBG/NBD is the default.

Every likelihood term is computed in log space (``gammaln``, ``betaln``, ``logaddexp``) and
the conditional expectation's hypergeometric function is taken after Euler's
transformation, whose parameters do not grow with the customer's frequency, so nothing
overflows for a customer with thousands of purchases or decades of history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

#: The parameters of both models, in the order :func:`fit` optimises them.
PARAMS: tuple[str, ...] = ("r", "alpha", "a", "b")

#: Columns of a summary frame.
SUMMARY_COLUMNS: tuple[str, ...] = ("frequency", "recency", "T")

#: Largest gradient (of the mean log-likelihood, in log-parameters) the fit stops at.
GRADIENT_TOLERANCE = 1e-7

#: Days per model time unit: sheetcrm fits in weeks, as the literature does.
UNIT_DAYS = 7.0


class Model(StrEnum):
    """Which buy-till-you-die model to fit."""

    BG_NBD = "BG/NBD"
    MBG_NBD = "MBG/NBD"


DEFAULT_MODEL = Model.MBG_NBD


@dataclass(frozen=True)
class Fit:
    """A fitted model.

    ``params``: float Series indexed by :data:`PARAMS`. ``converged``: the optimiser
    reported success and every parameter is finite and positive; only then should the
    fit be used. ``log_likelihood``: summed over customers at ``params``. ``customers`` /
    ``repeat_buyers``: rows of the summary fitted / rows with frequency > 0.
    ``message``: the optimiser's own words (why it stopped).
    """

    model: Model
    params: pd.Series
    converged: bool
    log_likelihood: float
    iterations: int
    customers: int
    repeat_buyers: int
    message: str = ""


def summary(
    code: np.ndarray,
    age: np.ndarray,
    customers: int,
    *,
    unit_days: float = UNIT_DAYS,
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """The summary frame of transactions given as integer arrays.

    In: ``code[i]`` — the customer of transaction i as a position ``0 <= code < customers``
    (e.g. from :func:`pandas.factorize` or categorical codes; negative codes are dropped);
    ``age[i]`` — whole days from its date to the as-of day (0 = on it; transactions after
    the as-of day must be left out by the caller); ``customers`` — how many customers;
    ``unit_days`` — days per model time unit (7: weeks); ``index`` — labels for the rows.

    Out: a frame of ``customers`` rows (on ``index``, else a RangeIndex) with float
    columns :data:`SUMMARY_COLUMNS`, plus ``buyer`` (bool). Purchases on the same day count
    as one period, as in the models' derivation. Customers with no transaction get
    frequency 0, recency 0 and T NaN, and ``buyer`` False; they cannot be scored.
    """
    code = np.asarray(code, dtype=np.int64)
    age = np.asarray(age, dtype=np.int64)
    keep = code >= 0
    code, age = code[keep], age[keep]
    if len(age) and age.min() < 0:
        raise ValueError("transactions after the as-of day (negative age) must be left out")
    span = int(age.max()) + 1 if len(age) else 1
    # one entry per (customer, day): same-day purchases are one period
    days = np.sort(code * span + age)
    if len(days):
        days = days[np.concatenate(([True], days[1:] != days[:-1]))]
    dcode, dage = days // span, days % span
    first = np.full(customers, -1, dtype=np.int64)
    np.maximum.at(first, dcode, dage)
    last = np.full(customers, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(last, dcode, dage)
    periods = np.bincount(dcode, minlength=customers)
    buyer = first >= 0
    frame = pd.DataFrame(
        {
            "frequency": np.where(buyer, periods - 1, 0).astype("float64"),
            "recency": np.where(buyer, first - last, 0).astype("float64") / unit_days,
            "T": np.where(buyer, first.astype("float64") / unit_days, np.nan),
            "buyer": buyer,
        },
        index=index if index is not None else pd.RangeIndex(customers),
    )
    return frame


def _arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = [c for c in SUMMARY_COLUMNS if c not in frame]
    if missing:
        raise ValueError(f"summary frame needs columns {SUMMARY_COLUMNS}; missing {missing}")
    x, t_x, big_t = (frame[c].to_numpy(dtype="float64", na_value=np.nan) for c in SUMMARY_COLUMNS)
    return x, t_x, big_t


@dataclass(frozen=True)
class _Histories:
    """Customer histories as the likelihood needs them: each of x, t_x and T as its
    distinct values and, per customer, the position of theirs. The special functions (the
    costly part of the likelihood) then run once per distinct value — a few dozen
    frequencies and a few hundred ages in weeks — not once per customer."""

    x: np.ndarray
    ux: np.ndarray
    ix: np.ndarray
    utx: np.ndarray
    itx: np.ndarray
    ut: np.ndarray
    it: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> _Histories:
        (ux, ix), (utx, itx), (ut, it) = (np.unique(v, return_inverse=True) for v in (x, t_x, big_t))
        return cls(x, ux, ix, utx, itx, ut, it)

    def by_x(self, values: np.ndarray) -> np.ndarray:
        """A function of the distinct frequencies, per customer."""
        return values[self.ix]


def _log_terms(params: np.ndarray, h: _Histories, model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer: the log-likelihood without its mixing term (``base``), the log-odds
    ``odds`` of the "dropped out at the last purchase" branch against the "still alive"
    branch, and ``has`` (whether that branch exists). ``ll = base + has·log(1 + e^odds)``
    and P(alive) = 1 / (1 + has·e^odds)."""
    r, alpha, a, b = params
    x, ux = h.x, h.ux
    log_alpha_t = np.log(alpha + h.ut)[h.it]
    base = h.by_x(special.gammaln(r + ux)) - special.gammaln(r) + r * math.log(alpha) - (r + x) * log_alpha_t
    shift = (r + x) * (log_alpha_t - np.log(alpha + h.utx)[h.itx])
    if model is Model.MBG_NBD:
        base = base + h.by_x(special.betaln(a, b + ux + 1)) - special.betaln(a, b)
        odds = math.log(a) - h.by_x(np.log(b + ux)) + shift
        has = np.ones_like(x, dtype=bool)
    else:
        base = base + h.by_x(special.betaln(a, b + ux)) - special.betaln(a, b)
        has = x > 0
        # b + x - 1 is only used where x >= 1, so it stays positive
        odds = math.log(a) - h.by_x(np.log(np.where(ux > 0, b + ux - 1, 1.0))) + shift
    return base, odds, has


def log_likelihood(params: Any, frame: pd.DataFrame, model: Model = DEFAULT_MODEL) -> pd.Series:
    """Each customer's log-likelihood under ``params`` (``r, alpha, a, b``, a mapping or a
    sequence in that order).

    In: a summary frame (:data:`SUMMARY_COLUMNS`, rows with NaN T are not buyers and get NaN).
    Out: float Series on the frame's index.
    """
    p = _param_array(params)
    base, odds, has = _log_terms(p, _Histories.of(*_arrays(frame)), model)
    ll = base + np.where(has, np.logaddexp(0.0, odds), 0.0)
    return pd.Series(ll, index=frame.index, name="log_likelihood")


def _param_array(params: Any) -> np.ndarray:
    if isinstance(params, pd.Series | dict):
        return np.array([float(params[k]) for k in PARAMS])
    arr = np.asarray(params, dtype="float64")
    if arr.shape != (4,):
        raise ValueError(f"params must be the four values {PARAMS}")
    return arr


def _objective(log_p: np.ndarray, h: _Histories, w: np.ndarray, total: float, model: Model) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood over customers and its gradient, in log-parameters.

    The gradient is analytic (digamma terms); with ``s = expit(odds)`` the weight of the
    dropout branch, d ll / d p = d base / d p + has · s · d odds / d p.
    """
    p = np.exp(log_p)
    r, alpha, a, b = p
    base, odds, has = _log_terms(p, h, model)
    s = np.where(has, special.expit(odds), 0.0)
    ll = base + np.where(has, np.logaddexp(0.0, odds), 0.0)
    x, ux = h.x, h.ux
    log_at, log_atx = np.log(alpha + h.ut)[h.it], np.log(alpha + h.utx)[h.itx]
    inv_at, inv_atx = (1.0 / (alpha + h.ut))[h.it], (1.0 / (alpha + h.utx))[h.itx]
    d_r = h.by_x(special.digamma(r + ux)) - special.digamma(r) + math.log(alpha) - log_at + s * (log_at - log_atx)
    d_alpha = r / alpha - (r + x) * inv_at + s * (r + x) * (inv_at - inv_atx)
    # MBG/NBD's dropout terms take x + 1 where BG/NBD's take x
    k = 1.0 if model is Model.MBG_NBD else 0.0
    dg_abx = h.by_x(special.digamma(a + b + ux + k))
    d_a = special.digamma(a + b) - dg_abx + s / a
    d_b = h.by_x(special.digamma(b + ux + k)) - special.digamma(b) + special.digamma(a + b) - dg_abx
    if model is Model.MBG_NBD:
        d_b = d_b - s * h.by_x(1.0 / (b + ux))
    else:
        d_b = d_b - s * h.by_x(1.0 / np.where(ux > 0, b + ux - 1, 1.0))
    # weighted sums without BLAS: its worker threads spin and cost more than they save on
    # a shared 2-core machine for vectors of this size
    grad = np.array([np.sum(w * d) for d in (d_r, d_alpha, d_a, d_b)]) * p
    value = -float(np.sum(w * ll)) / total
    if not math.isfinite(value):
        return math.inf, np.zeros(4)
    return value, -grad / total


def fit(
    frame: pd.DataFrame,
    model: Model | str = DEFAULT_MODEL,
    *,
    max_iterations: int = 500,
) -> Fit:
    """Fit ``model`` to a summary frame by maximum likelihood.

    In: a summary frame (:data:`SUMMARY_COLUMNS`; rows whose T is NaN or not positive —
    non-buyers, or a first purchase on the as-of day — carry no information and are left
    out). Out: a :class:`Fit`. Never raises for data that merely fits badly: a fit that
    does not converge comes back with ``converged=False`` and the optimiser's message.
    Raises ``ValueError`` when no row is usable.

    Customers with the same (frequency, recency, T) are fitted once with a weight, so the
    cost grows with the number of distinct histories, not of customers. The optimiser is
    L-BFGS-B on the logarithms of the parameters (which keeps them positive) with the
    analytic gradient of :func:`_objective`, started at r = a = b = 1 and alpha = mean T.
    """
    model = Model(model)
    x, t_x, big_t = _arrays(frame)
    usable = np.isfinite(x) & np.isfinite(t_x) & np.isfinite(big_t) & (big_t > 0)
    if not usable.any():
        raise ValueError("no customer with a first purchase before the as-of day to fit on")
    grouped = (
        pd.DataFrame({"x": x[usable], "t_x": t_x[usable], "T": big_t[usable]})
        .value_counts(sort=False)
        .reset_index(name="w")
    )
    gx, gtx, gt, w = (grouped[c].to_numpy(dtype="float64") for c in ("x", "t_x", "T", "w"))
    total = float(w.sum())
    start = np.log([1.0, max(float(np.average(gt, weights=w)), 1e-3), 1.0, 1.0])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = optimize.minimize(
            _objective,
            start,
            args=(_Histories.of(gx, gtx, gt), w, total, model),
            jac=True,
            method="L-BFGS-B",
            # the logs of the parameters stay in a range where exp() is finite and the
            # likelihood's gamma terms are meaningful
            bounds=[(-30.0, 30.0)] * 4,
            options={"maxiter": max_iterations, "gtol": GRADIENT_TOLERANCE, "ftol": 1e-12},
        )
    params = np.exp(result.x)
    at_bound = bool(np.any(np.abs(result.x) >= 30.0 - 1e-6))
    repeat_buyers = int((x[usable] > 0).sum())
    # A line search that cannot improve any more on a flat optimum is a converged fit when
    # the gradient there is flat too; floating point ends many fits that way.
    flat = bool(np.all(np.isfinite(result.jac))) and float(np.max(np.abs(result.jac))) < GRADIENT_TOLERANCE * 100
    converged = (bool(result.success) or flat) and bool(np.all(np.isfinite(params))) and not at_bound
    message = str(result.message)
    if at_bound:
        message = f"a parameter ran to the edge of its range ({message})"
    if not repeat_buyers:
        # Without a single repeat purchase the purchase rate and the dropout cannot be told
        # apart: the optimiser "converges" to arbitrary parameters.
        converged = False
        message = "no repeat buyer: the purchase rate cannot be told apart from dropout"
    return Fit(
        model=model,
        params=pd.Series(params, index=list(PARAMS), name="params"),
        converged=converged,
        log_likelihood=-float(result.fun) * total,
        iterations=int(result.nit),
        customers=int(usable.sum()),
        repeat_buyers=repeat_buyers,
        message=message,
    )


def p_alive(frame: pd.DataFrame, fitted: Fit) -> pd.Series:
    """P(alive): the probability that each customer has not dropped out as of the end of
    their observation (T), given their history.

    In: a summary frame and a fit. Out: float Series 0–1 on the frame's index, NaN where T
    is NaN (non-buyers). BG/NBD gives 1 to every one-time buyer; MBG/NBD does not.
    """
    x, t_x, big_t = _arrays(frame)
    with np.errstate(over="ignore", invalid="ignore"):
        _, odds, has = _log_terms(fitted.params.to_numpy(), _Histories.of(x, t_x, big_t), fitted.model)
        p = np.where(has, special.expit(-odds), 1.0)
    p = np.where(np.isnan(big_t), np.nan, p)
    return pd.Series(p, index=frame.index, name="p_alive")


def expected_purchases(frame: pd.DataFrame, fitted: Fit, t: float) -> pd.Series:
    """Expected number of purchase periods in the next ``t`` time units, given history.

    In: a summary frame, a fit, ``t`` ≥ 0 in the frame's time unit (90 days = 90 / 7 weeks).
    Out: float Series ≥ 0 on the frame's index, NaN where T is NaN.

    E[Y(t) | x, t_x, T] = P(alive) · (a + b + x + k) / (a − 1) · (1 − (1 − z)^(a − 1) ·
    ₂F₁(a + b + k − r, a − 1; a + b + x + k; z)) with z = t / (α + T + t), k = 0 for
    MBG/NBD and k = −1 for BG/NBD: the usual (α + T)/(α + T + t))^(r + x) · ₂F₁(r + x, …)
    after Euler's transformation, so its parameters no longer grow with x.
    """
    if t < 0:
        raise ValueError("t must be >= 0")
    x, _, big_t = _arrays(frame)
    r, alpha, a, b = fitted.params.to_numpy()
    k = 0.0 if fitted.model is Model.MBG_NBD else -1.0
    if abs(a - 1.0) < 1e-9:
        a = 1.0 + 1e-9  # the formula's removable singularity at a = 1
    z = t / (alpha + np.where(np.isnan(big_t), 0.0, big_t) + t)
    with np.errstate(over="ignore", invalid="ignore"):
        hyp = special.hyp2f1(a + b + k - r, a - 1.0, a + b + x + k, z)
        bracket = 1.0 - np.exp((a - 1.0) * np.log1p(-z)) * hyp
        value = (a + b + x + k) / (a - 1.0) * bracket
    alive = p_alive(frame, fitted).to_numpy()
    out = np.where(np.isnan(big_t), np.nan, np.clip(value * alive, 0.0, None))
    return pd.Series(out, index=frame.index, name="expected")
