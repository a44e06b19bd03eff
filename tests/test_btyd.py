"""BG/NBD and MBG/NBD (sheetcrm.customers.btyd) against the literature and lifetimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from scipy import optimize

from sheetcrm.customers import btyd
from sheetcrm.customers.btyd import Model


def _our_summary(tx: pd.DataFrame) -> pd.DataFrame:
    """Our summary of the CDNOW calibration transactions, on lifetimes' customer order."""
    end = pd.Timestamp("1997-09-30")
    codes, customers = pd.factorize(tx["customer_id"])
    age = (end - tx["date"]).dt.days.to_numpy()
    return btyd.summary(codes, age, len(customers), index=pd.Index(customers, name="customer_id"))


@pytest.fixture(scope="module")
def cdnow(cdnow_calibration):
    tx, theirs = cdnow_calibration
    ours = _our_summary(tx).loc[theirs.index]
    return ours, theirs


def test_summary_matches_lifetimes_on_cdnow(cdnow):
    ours, theirs = cdnow
    assert_frame_equal(
        ours[["frequency", "recency", "T"]], theirs[["frequency", "recency", "T"]], check_names=False, rtol=1e-12
    )


def test_summary_counts_days_not_orders():
    # customer 0: two orders on day 20 ago and one 6 days ago; customer 1: one order today;
    # customer 2: none
    frame = btyd.summary(
        np.array([0, 0, 0, 1]),
        np.array([20, 20, 6, 0]),
        3,
        unit_days=1,
        index=pd.Index(["P-1", "P-2", "P-3"], name="ID"),
    )
    expected = pd.DataFrame(
        {
            "frequency": [1.0, 0.0, 0.0],
            "recency": [14.0, 0.0, 0.0],
            "T": [20.0, 0.0, np.nan],
            "buyer": [True, True, False],
        },
        index=pd.Index(["P-1", "P-2", "P-3"], name="ID"),
    )
    assert_frame_equal(frame, expected)


def test_bg_nbd_reproduces_fader_hardie_lee_2005(cdnow):
    ours, _ = cdnow
    fitted = btyd.fit(ours, Model.BG_NBD)
    assert fitted.converged
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert fitted.params[name] == pytest.approx(value, abs=0.005), name
    assert fitted.customers == 2357
    assert fitted.repeat_buyers == int((ours["frequency"] > 0).sum())
    # the published log-likelihood of the fit
    assert fitted.log_likelihood == pytest.approx(-9582.4, abs=0.05)


@pytest.mark.parametrize(
    ("model", "fitter_name"),
    [(Model.BG_NBD, "BetaGeoFitter"), (Model.MBG_NBD, "ModifiedBetaGeoFitter")],
)
def test_fit_matches_lifetimes(cdnow, model, fitter_name):
    import lifetimes

    ours, theirs = cdnow
    fitted = btyd.fit(ours, model)
    reference = getattr(lifetimes, fitter_name)().fit(theirs["frequency"], theirs["recency"], theirs["T"])
    for name in btyd.PARAMS:
        assert fitted.params[name] == pytest.approx(reference.params_[name], abs=0.005), name
    first = theirs.index[:50]
    mine = btyd.p_alive(ours.loc[first], fitted).to_numpy()
    expected = reference.conditional_probability_alive(
        theirs.loc[first, "frequency"],
        theirs.loc[first, "recency"],
        theirs.loc[first, "T"],
    )
    np.testing.assert_allclose(mine, expected, atol=0.01)
    horizon = 90 / 7
    mine_e = btyd.expected_purchases(ours.loc[first], fitted, horizon).to_numpy()
    expected_e = reference.conditional_expected_number_of_purchases_up_to_time(
        horizon,
        theirs.loc[first, "frequency"],
        theirs.loc[first, "recency"],
        theirs.loc[first, "T"],
    )
    np.testing.assert_allclose(mine_e, np.asarray(expected_e), atol=0.01)


def test_mbg_is_the_default(cdnow):
    ours, _ = cdnow
    assert btyd.fit(ours).model is Model.MBG_NBD


@pytest.mark.parametrize(("model", "one_time_alive"), [(Model.MBG_NBD, "below 1"), (Model.BG_NBD, "exactly 1")])
def test_one_time_buyer_p_alive(cdnow, model, one_time_alive):
    ours, _ = cdnow
    fitted = btyd.fit(ours, model)
    one_timer = pd.DataFrame({"frequency": [0.0], "recency": [0.0], "T": [30.0]})
    p = float(btyd.p_alive(one_timer, fitted).iloc[0])
    if one_time_alive == "below 1":
        assert 0 < p < 1
    else:
        assert p == 1.0


@pytest.mark.parametrize("model", list(Model))
def test_p_alive_falls_with_silence_and_rises_with_rhythm(cdnow, model):
    ours, _ = cdnow
    fitted = btyd.fit(ours, model)
    frame = pd.DataFrame(
        {
            "frequency": [5.0, 5.0, 5.0, 1.0],
            "recency": [30.0, 20.0, 10.0, 10.0],
            "T": [31.0, 31.0, 31.0, 31.0],
        }
    )
    p = btyd.p_alive(frame, fitted).to_numpy()
    assert p[0] > p[1] > p[2]  # longer silence after the last purchase: less likely alive
    assert p[3] > p[2]  # the same silence is more telling for a frequent buyer


@pytest.mark.parametrize("model", list(Model))
def test_gradient_is_the_derivative_of_the_likelihood(cdnow, model):
    ours, _ = cdnow
    rows = ours.iloc[:300]
    x, t_x, big_t = (rows[c].to_numpy() for c in ("frequency", "recency", "T"))
    w = np.ones(len(rows))
    point = np.log([0.5, 5.0, 0.9, 2.0])

    def value(p):
        return btyd._objective(p, btyd._Histories.of(x, t_x, big_t), w, float(len(rows)), model)[0]

    def grad(p):
        return btyd._objective(p, btyd._Histories.of(x, t_x, big_t), w, float(len(rows)), model)[1]

    assert optimize.check_grad(value, grad, point) < 1e-5


@pytest.mark.parametrize("model", list(Model))
def test_extreme_histories_do_not_overflow(model):
    params = pd.Series([0.5, 6.0, 0.9, 1.6], index=list(btyd.PARAMS))
    fitted = btyd.Fit(model, params, True, 0.0, 0, 0, 0)
    frame = pd.DataFrame(
        {
            "frequency": [5000.0, 0.0, 1.0, 20000.0],
            "recency": [5000.0, 0.0, 1e-3, 5199.0],
            "T": [5200.0, 1e5, 1e5, 5200.0],
        }
    )
    for values in (
        btyd.log_likelihood(params, frame, model),
        btyd.p_alive(frame, fitted),
        btyd.expected_purchases(frame, fitted, 90 / 7),
    ):
        assert np.isfinite(values.to_numpy()).all()
    assert btyd.p_alive(frame, fitted).between(0, 1).all()
    # a customer buying ~4 a week until yesterday is alive and keeps buying
    assert btyd.p_alive(frame, fitted).iloc[3] > 0.9
    assert btyd.expected_purchases(frame, fitted, 1.0).iloc[3] > 1


def test_non_buyers_get_nan():
    params = pd.Series([0.5, 6.0, 0.9, 1.6], index=list(btyd.PARAMS))
    fitted = btyd.Fit(Model.MBG_NBD, params, True, 0.0, 0, 0, 0)
    frame = btyd.summary(np.array([0]), np.array([10]), 2)
    assert btyd.p_alive(frame, fitted).isna().tolist() == [False, True]
    assert btyd.expected_purchases(frame, fitted, 2.0).isna().tolist() == [False, True]


@pytest.mark.parametrize("model", list(Model))
def test_no_repeat_buyer_is_not_a_fit(model):
    frame = pd.DataFrame({"frequency": [0.0] * 4, "recency": [0.0] * 4, "T": [10.0, 20.0, 30.0, 40.0]})
    fitted = btyd.fit(frame, model)
    assert not fitted.converged
    assert "repeat" in fitted.message


def test_nothing_to_fit_raises():
    frame = pd.DataFrame({"frequency": [0.0], "recency": [0.0], "T": [np.nan]})
    with pytest.raises(ValueError, match="no customer"):
        btyd.fit(frame)


def test_identical_histories_are_fitted_once_with_a_weight(cdnow):
    ours, _ = cdnow
    doubled = pd.concat([ours, ours], ignore_index=True)
    single, double = btyd.fit(ours), btyd.fit(doubled)
    np.testing.assert_allclose(single.params.to_numpy(), double.params.to_numpy(), rtol=1e-4)
    assert double.log_likelihood == pytest.approx(2 * single.log_likelihood, rel=1e-6)
