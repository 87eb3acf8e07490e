"""The degenerate-predictor rule: constant models are named, whatever their fairness numbers."""

import math

import numpy as np
import pytest
import torch

from fairdg.metrics.degenerate import degenerate_reason
from fairdg.reporting.collect import degenerate_flag
from fairdg.training.evaluate import _metrics


def test_positive_rate_outside_the_bounds_is_degenerate():
    scores = np.linspace(0.1, 0.9, 11)
    assert degenerate_reason(scores, positive_rate=0.5) is None
    assert degenerate_reason(scores, positive_rate=0.02) is None  # the bound itself is fine
    assert "0.010" in degenerate_reason(scores, positive_rate=0.01)
    assert "0.990" in degenerate_reason(scores, positive_rate=0.99)
    assert degenerate_reason(scores, positive_rate=0.99, min_positive_rate=0.0) is None
    assert degenerate_reason(scores, positive_rate=1.0, min_positive_rate=0.0) is not None


def test_no_score_spread_is_degenerate_even_at_a_middling_rate():
    assert "no spread" in degenerate_reason(np.full(5, 0.7), positive_rate=0.5)


def test_one_predicted_class_is_degenerate_for_multiclass():
    assert degenerate_reason(np.eye(3)[[0, 0]], predicted_classes=1) is not None
    assert degenerate_reason(np.eye(3)[[0, 1]], predicted_classes=2) is None


@pytest.mark.parametrize("bad", [-0.1, 0.5, "0.1", True, math.nan])
def test_bound_is_checked(bad):
    with pytest.raises(ValueError, match="min_positive_rate"):
        degenerate_reason([0.1, 0.2], positive_rate=0.5, min_positive_rate=bad)


def test_a_constant_model_is_flagged_in_the_record_with_its_perfect_fairness():
    y = torch.tensor([0, 1, 0, 1, 1, 0, 1, 0])
    groups = np.array(["a"] * 4 + ["b"] * 4, dtype=object)
    constant = torch.tensor([[0.2, 0.8]] * 8)
    out = _metrics(y, constant, groups, 0, "test")
    assert out["positive_rate"] == 1.0 and out["dp_ratio"] == 1.0 and out["dp_diff"] == 0.0
    assert "constant predictor" in out["degenerate"]
    assert degenerate_flag(out) == 1.0
    varied = torch.tensor([[0.8, 0.2], [0.3, 0.7]] * 4)
    assert "degenerate" not in _metrics(y, varied, groups, 0, "test")


def test_records_without_the_flag_are_judged_from_their_group_rates():
    old = {"count/a": 10.0, "count/b": 30.0, "selection_rate/a": 1.0, "selection_rate/b": 1.0}
    assert degenerate_flag(old) == 1.0
    assert degenerate_flag({**old, "selection_rate/b": 0.5}) == 0.0
    assert math.isnan(degenerate_flag({"accuracy": 0.5}))
