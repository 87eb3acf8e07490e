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
        labels = draw(
            st.lists(st.integers(-50, 50), min_size=n_groups, max_size=n_groups, unique=True)
        )
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


def all_rates(y_true, y_pred, z):
    """One fairlearn MetricFrame with every rate (fairlearn's named metrics are built on it)."""
    metrics = {
        "sr": fairlearn_metrics.selection_rate,
        "tpr": fairlearn_metrics.true_positive_rate,
        "tnr": fairlearn_metrics.true_negative_rate,
        "fpr": fairlearn_metrics.false_positive_rate,
    }
    return fairlearn_metrics.MetricFrame(
        metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=z
    )


def all_defined(frame, y_pred):
    rates = frame.by_group
    return bool(y_pred.any()) and rates["tpr"].max() > 0 and rates["fpr"].max() > 0


@settings(deadline=None, max_examples=150)
@given(grouped_predictions())
def test_agrees_with_fairlearn_metric_frame(data):
    y_true, y_pred, z = data
    frame = all_rates(y_true, y_pred, z)
    assume(all_defined(frame, y_pred))  # every ratio defined
    diff, ratio, rates = frame.difference(), frame.ratio(), frame.by_group

    expected = {
        "dp_diff": diff["sr"],
        "dp_ratio": ratio["sr"],
        "eopp_diff": diff["tpr"],
        "tnr_diff": diff["tnr"],
        "eodds_diff": max(diff["tpr"], diff["fpr"]),
        "eodds_ratio": min(ratio["tpr"], ratio["fpr"]),
    }
    ours = {
        "dp_diff": fm.demographic_parity_difference(y_true, y_pred, sensitive_features=z),
        "dp_ratio": fm.demographic_parity_ratio(y_true, y_pred, sensitive_features=z),
        "eopp_diff": fm.equal_opportunity_difference(y_true, y_pred, sensitive_features=z),
        "tnr_diff": fm.true_negative_rate_difference(y_true, y_pred, sensitive_features=z),
        "eodds_diff": fm.equalized_odds_difference(y_true, y_pred, sensitive_features=z),
        "eodds_ratio": fm.equalized_odds_ratio(y_true, y_pred, sensitive_features=z),
    }
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, abs=TOL), key

    selection = fm.selection_rate(y_true, y_pred, sensitive_features=z)
    assert set(selection) == set(rates.index)
    # evaluate derives the same values from its single set of counts
    result = fm.evaluate(y_true, y_pred.astype(float), sensitive_features=z, threshold=0.5)
    for group in rates.index:
        assert selection[group] == pytest.approx(rates["sr"][group], abs=TOL)
        assert result[f"selection_rate/{group}"] == pytest.approx(rates["sr"][group], abs=TOL)
        assert result[f"tpr/{group}"] == pytest.approx(rates["tpr"][group], abs=TOL)
        assert result[f"tnr/{group}"] == pytest.approx(rates["tnr"][group], abs=TOL)
    for key, value in ours.items():
        assert result[key] == value


@settings(deadline=None, max_examples=30)
@given(grouped_predictions())
def test_agrees_with_fairlearn_functions(data):
    y_true, y_pred, z = data
    assume(all_defined(all_rates(y_true, y_pred, z), y_pred))
    fl = {"sensitive_features": z}
    same = [  # called with the same arguments: (y_true, y_pred, *, sensitive_features=)
        (fm.demographic_parity_difference, fairlearn_metrics.demographic_parity_difference),
        (fm.demographic_parity_ratio, fairlearn_metrics.demographic_parity_ratio),
        (fm.equal_opportunity_difference, fairlearn_metrics.equal_opportunity_difference),
        (fm.true_negative_rate_difference, fairlearn_metrics.true_negative_rate_difference),
        (fm.equalized_odds_difference, fairlearn_metrics.equalized_odds_difference),
        (fm.equalized_odds_ratio, fairlearn_metrics.equalized_odds_ratio),
    ]
    for ours, theirs in same:
        expected = theirs(y_true, y_pred, **fl)
        assert ours(y_true, y_pred, sensitive_features=z) == pytest.approx(expected, abs=TOL)


def test_fairlearn_gives_tpr_zero_where_we_give_nan():
    """The documented difference: a group without positives."""
    y_true = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    y_pred = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    z = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    tpr = by_group(fairlearn_metrics.true_positive_rate, y_true, y_pred, z)
    assert tpr[1] == 0.0
    assert np.isnan(
        fm.equal_opportunity_difference(
            y_true, y_pred, sensitive_features=z, on_undefined="ignore"
        )
    )
