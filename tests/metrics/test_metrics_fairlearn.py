"""Agreement with fairlearn on random inputs where every rate is defined."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")

import fairdg.metrics as fm  # noqa: E402

TOL = 1e-12


@st.composite
def grouped_predictions(draw):
    """Two to five groups (int or string labels), each with a positive and a negative."""
    n_groups = draw(st.integers(2, 5))
    if draw(st.booleans()):
        labels = draw(st.lists(st.integers(-50, 50), min_size=n_groups, max_size=n_groups, unique=True))
    else:
        text = st.text(alphabet="abxyz _", min_size=1, max_size=4)
        labels = draw(st.lists(text, min_size=n_groups, max_size=n_groups, unique=True))
    y_true, y_pred, z = [], [], []
    for label in labels:
        size = draw(st.integers(2, 15))
        bits = st.lists(st.integers(0, 1), min_size=size, max_size=size)
        y_true += [1, 0] + draw(bits)[2:]
        y_pred += draw(bits)
        z += [label] * size
    order = draw(st.permutations(range(len(z))))
    return np.array(y_true)[order], np.array(y_pred)[order], np.array(z)[order]


def by_group(metric, y_true, y_pred, z):
    frame = fairlearn_metrics.MetricFrame(
        metrics=metric, y_true=y_true, y_pred=y_pred, sensitive_features=z
    )
    return frame.by_group


@settings(deadline=None, max_examples=150)
@given(grouped_predictions())
def test_agrees_with_fairlearn(data):
    y_true, y_pred, z = data
    fl = {"sensitive_features": z}
    tpr = by_group(fairlearn_metrics.true_positive_rate, y_true, y_pred, z)
    fpr = by_group(fairlearn_metrics.false_positive_rate, y_true, y_pred, z)
    assume(y_pred.any() and tpr.max() > 0 and fpr.max() > 0)  # every ratio defined

    pairs = [
        (
            fm.demographic_parity_difference(y_pred, sensitive=z),
            fairlearn_metrics.demographic_parity_difference(y_true, y_pred, **fl),
        ),
        (
            fm.demographic_parity_ratio(y_pred, sensitive=z),
            fairlearn_metrics.demographic_parity_ratio(y_true, y_pred, **fl),
        ),
        (
            fm.equal_opportunity_difference(y_true, y_pred, sensitive=z),
            fairlearn_metrics.equal_opportunity_difference(y_true, y_pred, **fl),
        ),
        (
            fm.true_negative_rate_difference(y_true, y_pred, sensitive=z),
            fairlearn_metrics.true_negative_rate_difference(y_true, y_pred, **fl),
        ),
        (
            fm.equalized_odds_difference(y_true, y_pred, sensitive=z),
            fairlearn_metrics.equalized_odds_difference(y_true, y_pred, **fl),
        ),
        (
            fm.equalized_odds_ratio(y_true, y_pred, sensitive=z),
            fairlearn_metrics.equalized_odds_ratio(y_true, y_pred, **fl),
        ),
    ]
    for ours, theirs in pairs:
        assert ours == pytest.approx(theirs, abs=TOL)

    rates = fm.selection_rate(y_pred, sensitive=z)
    expected = by_group(fairlearn_metrics.selection_rate, y_true, y_pred, z)
    assert set(rates) == set(expected.index)
    for group, rate in rates.items():
        assert rate == pytest.approx(expected[group], abs=TOL)

    # evaluate derives the same values from its single set of counts
    result = fm.evaluate(y_true, y_pred.astype(float), sensitive=z, threshold=0.5)
    tnr = by_group(fairlearn_metrics.true_negative_rate, y_true, y_pred, z)
    for group in tpr.index:
        assert result[f"tpr/{group}"] == pytest.approx(tpr[group], abs=TOL)
        assert result[f"tnr/{group}"] == pytest.approx(tnr[group], abs=TOL)
        assert result[f"selection_rate/{group}"] == pytest.approx(expected[group], abs=TOL)
    keys = ["dp_diff", "dp_ratio", "eopp_diff", "tnr_diff", "eodds_diff", "eodds_ratio"]
    for key, (ours, _) in zip(keys, pairs, strict=True):
        assert result[key] == ours


def test_fairlearn_gives_tpr_zero_where_we_give_nan():
    """The documented difference: a group without positives."""
    y_true = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    y_pred = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    z = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    tpr = by_group(fairlearn_metrics.true_positive_rate, y_true, y_pred, z)
    assert tpr[1] == 0.0
    assert np.isnan(fm.equal_opportunity_difference(y_true, y_pred, sensitive=z, on_undefined="ignore"))
