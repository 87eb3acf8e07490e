"""fairlearn's signature everywhere, ``(y_true, y_pred, *, sensitive_features=)``, and the
spellings of fairdg 0.1 (``sensitive=``, no ``y_true``) accepted with a DeprecationWarning."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import fairdg.metrics as fm

Y_TRUE = np.array([1, 1, 0, 0, 1, 1, 1, 0])
SCORES = np.array([0.9, 0.4, 0.6, 0.2, 0.8, 0.7, 0.4, 0.6])
Y_PRED = (SCORES > 0.5).astype(int)
Z = np.array(["a"] * 4 + ["b"] * 4)

PREDICTION_METRICS = [
    fm.demographic_parity_difference,
    fm.demographic_parity_ratio,
    fm.equal_opportunity_difference,
    fm.true_negative_rate_difference,
    fm.equalized_odds_difference,
    fm.equalized_odds_ratio,
    fm.selection_rate,
]


@pytest.mark.parametrize("metric", [*PREDICTION_METRICS, fm.fairness_auc, fm.evaluate])
def test_every_metric_has_fairlearns_signature(metric):
    parameters = inspect.signature(metric).parameters
    first, second = list(parameters)[:2]
    assert first == "y_true" and second in ("y_pred", "y_score", "scores")
    assert parameters["sensitive_features"].kind is inspect.Parameter.KEYWORD_ONLY


@pytest.mark.parametrize("metric", PREDICTION_METRICS)
def test_y_true_is_taken_and_checked(metric):
    value = metric(Y_TRUE, Y_PRED, sensitive_features=Z)
    if metric in (fm.demographic_parity_difference, fm.demographic_parity_ratio):
        assert value == metric(None, Y_PRED, sensitive_features=Z)  # not read
    with pytest.raises(ValueError, match="y_true=7, y_pred=8"):
        metric(Y_TRUE[:7], Y_PRED, sensitive_features=Z)


def test_old_keyword_warns_and_gives_the_same_value():
    new = fm.equalized_odds_ratio(Y_TRUE, Y_PRED, sensitive_features=Z)
    with pytest.warns(DeprecationWarning, match=r"use equalized_odds_ratio\(\.\.\., sensitive_fe"):
        assert fm.equalized_odds_ratio(Y_TRUE, Y_PRED, sensitive=Z) == new
    with pytest.warns(DeprecationWarning, match="sensitive_features="):
        assert fm.evaluate(Y_TRUE, SCORES, sensitive=Z) == fm.evaluate(
            Y_TRUE, SCORES, sensitive_features=Z
        )
    with pytest.raises(TypeError, match="pass one"):
        fm.equalized_odds_ratio(Y_TRUE, Y_PRED, sensitive=Z, sensitive_features=Z)


@pytest.mark.parametrize(
    ("metric", "second"),
    [
        (fm.demographic_parity_difference, Y_PRED),
        (fm.demographic_parity_ratio, Y_PRED),
        (fm.selection_rate, Y_PRED),
        (fm.fairness_auc, SCORES),
    ],
)
def test_old_order_without_y_true_warns_and_gives_the_same_value(metric, second):
    new = metric(Y_TRUE, second, sensitive_features=Z)
    name = metric.__name__
    with pytest.warns(DeprecationWarning) as caught:
        assert metric(second, sensitive=Z) == new
    messages = [str(w.message) for w in caught]
    assert any(f"pass y_true first as fairlearn does: {name}(y_true" in m for m in messages)
    assert any(f"{name}(sensitive=...) is deprecated" in m for m in messages)


def test_same_arguments_as_fairlearn():
    from fairlearn import metrics as fl

    for ours, theirs in (
        (fm.demographic_parity_difference, fl.demographic_parity_difference),
        (fm.demographic_parity_ratio, fl.demographic_parity_ratio),
        (fm.equalized_odds_difference, fl.equalized_odds_difference),
    ):
        args, kwargs = (Y_TRUE, Y_PRED), {"sensitive_features": Z}
        assert ours(*args, **kwargs) == pytest.approx(theirs(*args, **kwargs))
