"""Hand-computed examples and edge cases for the group fairness metrics.

The running example (8 samples, groups "a" and "b"):

    group a: y_true 1 1 0 0, y_pred 1 0 1 0 -> SR 1/2, TPR 1/2, TNR 1/2, FPR 1/2, accuracy 1/2
    group b: y_true 1 1 1 0, y_pred 1 1 0 1 -> SR 3/4, TPR 2/3, TNR 0,   FPR 1,   accuracy 1/2
"""

import math

import numpy as np
import pytest

import fairdg.metrics as fm
from fairdg.metrics import UndefinedMetricWarning

Y_TRUE = np.array([1, 1, 0, 0, 1, 1, 1, 0])
Y_PRED = np.array([1, 0, 1, 0, 1, 1, 0, 1])
Z = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])

PAIRWISE = [
    fm.equal_opportunity_difference,
    fm.true_negative_rate_difference,
    fm.equalized_odds_difference,
    fm.equalized_odds_ratio,
]


def test_accuracy():
    assert fm.accuracy(Y_TRUE, Y_PRED) == 0.5
    assert fm.accuracy([0, 1, 2, 2], [0, 2, 2, 2]) == 0.75  # multi-class labels


def test_selection_rate():
    assert fm.selection_rate(None, Y_PRED, sensitive_features=Z) == {"a": 0.5, "b": 0.75}
    rates = fm.selection_rate(None, Y_PRED, sensitive_features=np.where(Z == "a", 7, 3))
    assert rates == {3: 0.75, 7: 0.5}
    assert all(type(k) is int for k in rates)


def test_hand_computed_values():
    assert fm.demographic_parity_difference(None, Y_PRED, sensitive_features=Z) == pytest.approx(
        0.25
    )
    assert fm.demographic_parity_ratio(None, Y_PRED, sensitive_features=Z) == pytest.approx(2 / 3)
    assert fm.equal_opportunity_difference(Y_TRUE, Y_PRED, sensitive_features=Z) == pytest.approx(
        1 / 6
    )
    assert fm.true_negative_rate_difference(Y_TRUE, Y_PRED, sensitive_features=Z) == pytest.approx(
        0.5
    )
    # max(TPR diff 1/6, FPR diff 1/2); min(TPR ratio 3/4, FPR ratio 1/2)
    assert fm.equalized_odds_difference(Y_TRUE, Y_PRED, sensitive_features=Z) == pytest.approx(0.5)
    assert fm.equalized_odds_ratio(Y_TRUE, Y_PRED, sensitive_features=Z) == pytest.approx(0.5)


def test_three_groups():
    # groups 0: SR 1/2, 1: SR 1, 2: SR 0  (integer labels, unsorted order)
    y_pred = [1, 0, 1, 1, 0, 0, 1, 0]
    z = [0, 0, 1, 1, 2, 2, 0, 0]
    assert fm.selection_rate(None, y_pred, sensitive_features=z) == {0: 0.5, 1: 1.0, 2: 0.0}
    assert fm.demographic_parity_difference(None, y_pred, sensitive_features=z) == 1.0
    assert fm.demographic_parity_ratio(None, y_pred, sensitive_features=z) == 0.0


def test_fair_predictor():
    y_pred = [1, 0, 1, 0, 1, 0, 1, 0]
    assert fm.demographic_parity_difference(None, y_pred, sensitive_features=Z) == 0.0
    assert fm.demographic_parity_ratio(None, y_pred, sensitive_features=Z) == 1.0


def test_bool_and_float_labels():
    value = fm.equal_opportunity_difference(
        Y_TRUE.astype(float), Y_PRED.astype(bool), sensitive_features=Z.tolist()
    )
    assert value == pytest.approx(1 / 6)


# --- undefined values -------------------------------------------------------------------------

NO_POSITIVE_B = np.array([1, 1, 0, 0, 0, 0, 0, 0])  # group b has no y_true = 1


@pytest.mark.parametrize(
    "metric", [m for m in PAIRWISE if m is not fm.true_negative_rate_difference]
)
def test_group_without_positives_warns(metric):
    with pytest.warns(UndefinedMetricWarning, match="TPR needs positives.*group 'b' has none"):
        assert math.isnan(metric(NO_POSITIVE_B, Y_PRED, sensitive_features=Z))


@pytest.mark.parametrize(
    "metric", [m for m in PAIRWISE if m is not fm.true_negative_rate_difference]
)
def test_group_without_positives_raises(metric):
    with pytest.raises(ValueError, match="group 'b' has none"):
        metric(NO_POSITIVE_B, Y_PRED, sensitive_features=Z, on_undefined="raise")


@pytest.mark.parametrize("metric", PAIRWISE)
def test_undefined_ignored_silently(metric):
    # warnings are errors in the test run: a warning here would fail the test
    y_true = [0, 0, 0, 0, 1, 1, 1, 1]  # group a has no positives, group b no negatives
    assert math.isnan(metric(y_true, Y_PRED, sensitive_features=Z, on_undefined="ignore"))


def test_group_without_negatives():
    y_true = [1, 1, 1, 1, 1, 1, 0, 0]  # group a has no negatives
    with pytest.warns(UndefinedMetricWarning, match="TNR needs negatives.*group 'a' has none"):
        assert math.isnan(fm.true_negative_rate_difference(y_true, Y_PRED, sensitive_features=Z))
    with pytest.warns(UndefinedMetricWarning, match="FPR needs negatives.*group 'a'"):
        assert math.isnan(fm.equalized_odds_difference(y_true, Y_PRED, sensitive_features=Z))
    # the TPR difference only needs positives
    assert fm.equal_opportunity_difference(y_true, Y_PRED, sensitive_features=Z) == pytest.approx(
        0.5
    )


def test_several_groups_named():
    z = ["a", "a", "b", "b", "c", "c", "d", "d"]
    y_true = [1, 0, 0, 0, 1, 0, 0, 0]
    with pytest.warns(UndefinedMetricWarning, match="groups 'b', 'd' have none"):
        fm.equal_opportunity_difference(y_true, Y_PRED, sensitive_features=z)


def test_dp_ratio_all_zero_predictions():
    with pytest.warns(UndefinedMetricWarning, match="selection rate ratio is 0/0"):
        assert math.isnan(
            fm.demographic_parity_ratio(None, np.zeros(8, int), sensitive_features=Z)
        )
    with pytest.raises(ValueError, match="0/0"):
        fm.demographic_parity_ratio(
            None, np.zeros(8, int), sensitive_features=Z, on_undefined="raise"
        )
    # the difference is defined (0)
    assert fm.demographic_parity_difference(None, np.zeros(8, int), sensitive_features=Z) == 0.0


def test_eodds_ratio_zero_denominator():
    y_pred = Y_TRUE.copy()  # a perfect predictor has FPR 0 in every group
    with pytest.warns(UndefinedMetricWarning, match="FPR ratio is 0/0"):
        assert math.isnan(fm.equalized_odds_ratio(Y_TRUE, y_pred, sensitive_features=Z))
    assert fm.equalized_odds_difference(Y_TRUE, y_pred, sensitive_features=Z) == 0.0


# --- input validation -------------------------------------------------------------------------


def test_single_group_is_named():
    with pytest.raises(ValueError, match="single group 'a'"):
        fm.demographic_parity_difference(None, Y_PRED, sensitive_features=["a"] * 8)
    with pytest.raises(ValueError, match="single group 3"):
        fm.equal_opportunity_difference(Y_TRUE, Y_PRED, sensitive_features=[3] * 8)


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="y_true=8, y_pred=7"):
        fm.equalized_odds_difference(Y_TRUE, Y_PRED[:7], sensitive_features=Z)
    with pytest.raises(ValueError, match="y_pred=8, sensitive_features=7"):
        fm.demographic_parity_difference(None, Y_PRED, sensitive_features=Z[:7])
    with pytest.raises(ValueError, match="y_true=8, y_pred=7"):
        fm.accuracy(Y_TRUE, Y_PRED[:7])


def test_empty_input():
    with pytest.raises(ValueError, match="y_pred must not be empty"):
        fm.demographic_parity_difference(None, [], sensitive_features=[])
    with pytest.raises(ValueError, match="y_true must not be empty"):
        fm.accuracy([], [])


@pytest.mark.parametrize("bad", [[0, 1, 2, 1, 0, 1, 0, 1], [-1, 1, -1, 1, -1, 1, -1, 1]])
def test_non_binary_labels(bad):
    with pytest.raises(ValueError, match=r"y_pred must hold binary labels 0/1.*\[(-1|2)\]"):
        fm.demographic_parity_difference(None, bad, sensitive_features=Z)
    with pytest.raises(ValueError, match="y_true must hold binary labels"):
        fm.equal_opportunity_difference(bad, Y_PRED, sensitive_features=Z)


def test_string_labels_rejected():
    with pytest.raises(ValueError, match="y_true must hold binary labels"):
        fm.equal_opportunity_difference(list("yynnyyyn"), Y_PRED, sensitive_features=Z)


def test_two_dimensional_inputs():
    with pytest.raises(ValueError, match=r"y_true must be a 1-D array.*shape \(8, 1\)"):
        fm.equal_opportunity_difference(Y_TRUE[:, None], Y_PRED, sensitive_features=Z)
    with pytest.raises(ValueError, match="sensitive_features must be a 1-D array"):
        fm.demographic_parity_difference(None, Y_PRED, sensitive_features=Z[:, None])


def test_nan_sensitive_rejected():
    with pytest.raises(ValueError, match="sensitive_features must not contain NaN"):
        fm.demographic_parity_difference(
            None, Y_PRED, sensitive_features=[0, 0, 1, 1, np.nan, 0, 1, 0]
        )


def test_unsortable_sensitive_rejected():
    z = np.array([1, "a", 1, "a", None, 1, "a", 1], dtype=object)
    with pytest.raises(ValueError, match="sensitive_features must hold comparable group labels"):
        fm.demographic_parity_difference(None, Y_PRED, sensitive_features=z)


def test_bad_on_undefined():
    with pytest.raises(ValueError, match=r"on_undefined must be one of .*'loud'"):
        fm.equal_opportunity_difference(Y_TRUE, Y_PRED, sensitive_features=Z, on_undefined="loud")


def test_sensitive_is_keyword_only():
    with pytest.raises(TypeError):
        fm.demographic_parity_difference(None, Y_PRED, Z)  # type: ignore[misc]


def test_torch_tensors_accepted():
    torch = pytest.importorskip("torch")
    y_true, y_pred = torch.tensor(Y_TRUE), torch.tensor(Y_PRED, dtype=torch.float32)
    z = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    assert fm.accuracy(y_true, y_pred) == 0.5
    assert fm.equalized_odds_ratio(y_true, y_pred, sensitive_features=z) == pytest.approx(0.5)
    assert fm.selection_rate(None, y_pred.bool(), sensitive_features=z) == {0: 0.5, 1: 0.75}
    scores = torch.tensor([0.9, 0.4, 0.6, 0.2, 0.8, 0.7, 0.4, 0.6], requires_grad=True)
    assert fm.fairness_auc(None, scores, sensitive_features=z) == 0.625
    assert fm.evaluate(y_true, scores, sensitive_features=z)["dp_ratio"] == pytest.approx(2 / 3)


def test_import_does_not_import_torch():
    import subprocess
    import sys
    from pathlib import Path

    src = Path(fm.__file__).resolve().parents[2]
    code = "import sys, fairdg.metrics; sys.exit('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(src)}, check=False)
    assert done.returncode == 0, "importing fairdg.metrics imported torch"
