"""bootstrap: percentile intervals, joint resampling of positional and keyword arrays."""

import math

import numpy as np
import pytest

import fairdg.metrics as fm
from fairdg.metrics import UndefinedMetricWarning

RNG = np.random.default_rng(0)
Y_TRUE = RNG.integers(0, 2, 300)
Y_PRED = np.where(RNG.random(300) < 0.8, Y_TRUE, 1 - Y_TRUE)
Z = RNG.choice(["a", "b"], 300)


def test_interval_contains_point():
    point, low, high = fm.bootstrap(fm.accuracy, Y_TRUE, Y_PRED, n=300)
    assert point == fm.accuracy(Y_TRUE, Y_PRED)
    assert low < point < high
    assert high - low < 0.2


def test_reproducible_with_seed():
    first = fm.bootstrap(fm.accuracy, Y_TRUE, Y_PRED, n=200, seed=3)
    assert fm.bootstrap(fm.accuracy, Y_TRUE, Y_PRED, n=200, seed=3) == first
    assert fm.bootstrap(fm.accuracy, Y_TRUE, Y_PRED, n=200, seed=4) != first


def test_wider_confidence_gives_wider_interval():
    _, low90, high90 = fm.bootstrap(fm.accuracy, Y_TRUE, Y_PRED, n=300, confidence=0.9)
    _, low99, high99 = fm.bootstrap(fm.accuracy, Y_TRUE, Y_PRED, n=300, confidence=0.99)
    assert low99 <= low90 and high90 <= high99


def test_sensitive_keyword_is_resampled_with_rows():
    point, low, high = fm.bootstrap(
        fm.equal_opportunity_difference,
        Y_TRUE,
        Y_PRED,
        sensitive_features=Z,
        n=200,
        on_undefined="warn",
    )
    assert point == fm.equal_opportunity_difference(Y_TRUE, Y_PRED, sensitive_features=Z)
    assert low <= point <= high


def test_which_keywords_are_resampled():
    seen = []

    def metric(values, *, rows, tag, threshold):
        seen.append((len(values), len(rows), tag, threshold))
        assert np.array_equal(values, rows)  # resampled jointly with the positional array
        return float(np.mean(values))

    values = np.arange(4.0)
    fm.bootstrap(metric, values, rows=values.copy(), tag="abcd", threshold=0.5, n=5)
    assert all(s == (4, 4, "abcd", 0.5) for s in seen)  # the length-4 string passed through


def test_undefined_replicates_dropped_with_one_warning():
    z = np.array(["a"] * 298 + ["b"] * 2)  # group b is often absent from a resample
    with pytest.warns(UndefinedMetricWarning, match="of 100 bootstrap replicates were undefined"):
        point, low, high = fm.bootstrap(_dp, Y_PRED, sensitive_features=z, n=100)
    assert not math.isnan(point) and low <= high


def _dp(y_pred, *, sensitive_features):
    return fm.demographic_parity_difference(None, y_pred, sensitive_features=sensitive_features)


def test_all_replicates_undefined():
    with pytest.warns(UndefinedMetricWarning):
        point, low, high = fm.bootstrap(lambda a: math.nan, Y_TRUE, n=10)
    assert math.isnan(point) and math.isnan(low) and math.isnan(high)


def test_raise_policy_propagates():
    z = np.array(["a"] * 298 + ["b"] * 2)
    y_true = Y_TRUE.copy()
    y_true[-2:] = [0, 1]  # group b: one positive, often lost in a resample
    assert not math.isnan(fm.equal_opportunity_difference(y_true, Y_PRED, sensitive_features=z))
    with pytest.raises(ValueError, match="TPR needs positives"):
        fm.bootstrap(
            fm.equal_opportunity_difference,
            y_true,
            Y_PRED,
            sensitive_features=z,
            n=50,
            on_undefined="raise",
        )


def test_argument_validation():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        fm.bootstrap(fm.accuracy, Y_TRUE, Y_PRED, n=0)
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\)"):
        fm.bootstrap(fm.accuracy, Y_TRUE, Y_PRED, confidence=95)
    with pytest.raises(ValueError, match="at least one positional array"):
        fm.bootstrap(fm.accuracy)
    with pytest.raises(ValueError, match="got lengths 300, 299"):
        fm.bootstrap(fm.accuracy, Y_TRUE, Y_PRED[:299])
    with pytest.raises(TypeError, match="returns a single number"):
        fm.bootstrap(fm.evaluate, Y_TRUE, Y_PRED.astype(float), sensitive_features=Z, n=2)
