"""evaluate: the flat dict of every metric, binary and multi-class."""

import math

import numpy as np
import pytest

import fairdg.metrics as fm
from fairdg.metrics import UndefinedMetricWarning

# The running example of test_metrics_group.py; thresholding these scores at 0.5 gives its y_pred.
Y_TRUE = np.array([1, 1, 0, 0, 1, 1, 1, 0])
SCORES = np.array([0.9, 0.4, 0.6, 0.2, 0.8, 0.7, 0.4, 0.6])
Z = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])

BINARY_KEYS = ["n", "accuracy", "positive_rate", "dp_diff", "dp_ratio", "eopp_diff"]
BINARY_KEYS += ["tnr_diff", "eodds_diff", "eodds_ratio", "fairness_auc"]
PER_GROUP = ["count", "accuracy", "selection_rate", "tpr", "tnr"]


def test_binary_hand_computed():
    result = fm.evaluate(Y_TRUE, SCORES, sensitive_features=Z)
    expected = {
        "n": 8,
        "accuracy": 0.5,
        "positive_rate": 5 / 8,
        "dp_diff": 0.25,
        "dp_ratio": 2 / 3,
        "eopp_diff": 1 / 6,
        "tnr_diff": 0.5,
        "eodds_diff": 0.5,
        "eodds_ratio": 0.5,
        "fairness_auc": 0.625,
        "count/a": 4,
        "count/b": 4,
        "accuracy/a": 0.5,
        "accuracy/b": 0.5,
        "selection_rate/a": 0.5,
        "selection_rate/b": 0.75,
        "tpr/a": 0.5,
        "tpr/b": 2 / 3,
        "tnr/a": 0.5,
        "tnr/b": 0.0,
    }
    assert set(result) == set(BINARY_KEYS) | {f"{m}/{g}" for m in PER_GROUP for g in "ab"}
    assert result == pytest.approx(expected, abs=1e-15)
    assert all(type(v) is float for v in result.values())


def test_two_column_scores_are_binary():
    two_columns = np.stack([1 - SCORES, SCORES], axis=1)
    assert fm.evaluate(Y_TRUE, two_columns, sensitive_features=Z) == fm.evaluate(
        Y_TRUE, SCORES, sensitive_features=Z
    )


def test_threshold_is_strict():
    # a score equal to the threshold predicts 0 (as argmax of [0.5, 0.5] and sklearn's predict)
    result = fm.evaluate([1, 0, 1, 0], [0.5, 0.5, 0.7, 0.7], sensitive_features=[0, 0, 1, 1])
    assert result["selection_rate/0"] == 0.0
    assert result["selection_rate/1"] == 1.0
    result = fm.evaluate(
        [1, 0, 1, 0], [0.5, 0.5, 0.7, 0.7], sensitive_features=[0, 0, 1, 1], threshold=0.6
    )
    assert result["dp_diff"] == 1.0
    result = fm.evaluate(
        [1, 0, 1, 0], [0.5, 0.5, 0.7, 0.7], sensitive_features=[0, 0, 1, 1], threshold=0.1
    )
    assert result["dp_diff"] == 0.0


def test_multiclass_hand_computed():
    # predictions 0 1 2 0 | 1 1 2 2; group 0 gets 3 of 4 right, group 1 gets 2 of 4
    probabilities = np.eye(3)[[0, 1, 2, 0, 1, 1, 2, 2]] * 0.7 + 0.1
    y_true = [0, 1, 2, 1, 1, 0, 2, 0]
    result = fm.evaluate(y_true, probabilities, sensitive_features=[0, 0, 0, 0, 1, 1, 1, 1])
    assert result == pytest.approx(
        {
            "n": 8,
            "accuracy": 5 / 8,
            "accuracy_gap": 0.25,
            "count/0": 4,
            "count/1": 4,
            "accuracy/0": 0.75,
            "accuracy/1": 0.5,
        }
    )
    assert list(result) == [
        "n",
        "accuracy",
        "accuracy_gap",
        "count/0",
        "count/1",
        "accuracy/0",
        "accuracy/1",
    ]


def test_multiclass_label_validation():
    probabilities = np.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"y_true must hold class ids 0 \.\. 2"):
        fm.evaluate([0, 1, 3, 1], probabilities, sensitive_features=[0, 0, 1, 1])
    with pytest.raises(ValueError, match="y_true=3, scores=4"):
        fm.evaluate([0, 1, 2], probabilities, sensitive_features=[0, 0, 1, 1])


def test_undefined_values_single_warning():
    y_true = [1, 1, 1, 1, 0, 0, 0, 0]  # group a has no negatives, group b no positives
    with pytest.warns(UndefinedMetricWarning) as record:
        result = fm.evaluate(y_true, SCORES, sensitive_features=Z)
    assert len(record) == 1
    message = str(record[0].message)
    assert "tpr/b" in message and "tnr/a" in message and "group 'b' has none" in message
    for key in ["eopp_diff", "tnr_diff", "eodds_diff", "eodds_ratio", "tpr/b", "tnr/a"]:
        assert math.isnan(result[key]), key
    for key in ["dp_diff", "dp_ratio", "fairness_auc", "tpr/a", "tnr/b", "accuracy"]:
        assert not math.isnan(result[key]), key


def test_undefined_raise_and_ignore():
    y_true = [1, 1, 1, 1, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="evaluate: undefined values"):
        fm.evaluate(y_true, SCORES, sensitive_features=Z, on_undefined="raise")
    result = fm.evaluate(y_true, SCORES, sensitive_features=Z, on_undefined="ignore")
    assert math.isnan(result["eopp_diff"])


def test_validation():
    with pytest.raises(ValueError, match="scores must be finite"):
        fm.evaluate(Y_TRUE, np.where(SCORES > 0.8, np.nan, SCORES), sensitive_features=Z)
    with pytest.raises(ValueError, match=r"scores must be probabilities in \[0, 1\]"):
        fm.evaluate(Y_TRUE, SCORES * 2, sensitive_features=Z)
    with pytest.raises(ValueError, match=r"scores must be probabilities in \[0, 1\]"):
        fm.evaluate(Y_TRUE, np.stack([1 - SCORES, SCORES * 2], axis=1), sensitive_features=Z)
    with pytest.raises(ValueError, match="y_true must hold binary labels"):
        fm.evaluate([0, 1, 2, 0, 1, 2, 0, 1], SCORES, sensitive_features=Z)
    with pytest.raises(ValueError, match="y_true=7, scores=8"):
        fm.evaluate(Y_TRUE[:7], SCORES, sensitive_features=Z)
    with pytest.raises(ValueError, match="scores=8, sensitive_features=7"):
        fm.evaluate(Y_TRUE, SCORES, sensitive_features=Z[:7])
    with pytest.raises(ValueError, match="single group 'a'"):
        fm.evaluate(Y_TRUE, SCORES, sensitive_features=["a"] * 8)
    with pytest.raises(ValueError, match=r"shape \(8, 1\)"):
        fm.evaluate(Y_TRUE, SCORES[:, None], sensitive_features=Z)
    with pytest.raises(ValueError, match="y_true must be a 1-D array"):
        fm.evaluate(Y_TRUE[:, None], SCORES, sensitive_features=Z)
    with pytest.raises(ValueError, match="threshold must be a number in"):
        fm.evaluate(Y_TRUE, SCORES, sensitive_features=Z, threshold=1.5)
    with pytest.raises(ValueError, match="on_undefined must be one of"):
        fm.evaluate(Y_TRUE, SCORES, sensitive_features=Z, on_undefined="skip")
    with pytest.raises(ValueError, match="scores must be a non-empty"):
        fm.evaluate([], [], sensitive_features=[])


def test_matches_individual_functions_on_random_data():
    rng = np.random.default_rng(1)
    n = 5_000
    z = rng.choice(["x", "y", "w"], n)
    y_true = rng.integers(0, 2, n)
    scores = np.clip(0.3 * y_true + 0.2 * (z == "x") + 0.5 * rng.random(n), 0, 1)
    y_pred = (scores > 0.5).astype(int)
    result = fm.evaluate(y_true, scores, sensitive_features=z)
    assert result["accuracy"] == fm.accuracy(y_true, y_pred)
    assert result["dp_diff"] == fm.demographic_parity_difference(
        None, y_pred, sensitive_features=z
    )
    assert result["dp_ratio"] == fm.demographic_parity_ratio(None, y_pred, sensitive_features=z)
    assert result["eopp_diff"] == fm.equal_opportunity_difference(
        y_true, y_pred, sensitive_features=z
    )
    assert result["tnr_diff"] == fm.true_negative_rate_difference(
        y_true, y_pred, sensitive_features=z
    )
    assert result["eodds_diff"] == fm.equalized_odds_difference(
        y_true, y_pred, sensitive_features=z
    )
    assert result["eodds_ratio"] == fm.equalized_odds_ratio(y_true, y_pred, sensitive_features=z)
    assert result["fairness_auc"] == fm.fairness_auc(None, scores, sensitive_features=z)
    for g in ["w", "x", "y"]:
        assert result[f"count/{g}"] == np.sum(z == g)
        assert result[f"accuracy/{g}"] == pytest.approx(np.mean(y_pred[z == g] == y_true[z == g]))


@pytest.mark.parametrize(
    "labels",
    [
        np.array([3, 1, 3, -2, 1]),
        np.array([0, 1, 1, 0], dtype=np.uint8),
        np.array([-128, 127, 0], dtype=np.int8),
        np.array([5, 10**9, 5]),  # a wide range: np.unique's path
        np.random.default_rng(0).integers(0, 7, 500),
    ],
)
def test_integer_group_codes_match_np_unique(labels):
    """Integer labels are encoded without a sort; the result is np.unique's, as python ints."""
    from fairdg.metrics._validation import encode_groups

    groups, codes = encode_groups(labels)
    expected, inverse = np.unique(labels, return_inverse=True)
    assert groups == expected.tolist() and all(type(g) is int for g in groups)
    assert np.array_equal(codes, inverse.reshape(-1))
