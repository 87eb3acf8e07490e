"""fairness_auc against an O(n^2) reference, scipy's Mann-Whitney U and sklearn's ROC AUC."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import mannwhitneyu
from sklearn.metrics import roc_auc_score

import fairdg.metrics as fm


def quadratic_auc(s1, s0):
    """P(s1 > s0) + 0.5 P(s1 = s0) by comparing every pair."""
    wins = sum((a > b) + 0.5 * (a == b) for a in s1 for b in s0)
    return wins / (len(s1) * len(s0))


def folded(value):
    return max(value, 1.0 - value)


def test_hand_computed_with_ties():
    # b over a: 0.8 -> 3, 0.7 -> 3, 0.4 -> 1 + tie, 0.6 -> 2 + tie; 10 / 16
    scores = [0.9, 0.4, 0.6, 0.2, 0.8, 0.7, 0.4, 0.6]
    z = ["a"] * 4 + ["b"] * 4
    assert fm.fairness_auc(None, scores, sensitive_features=z) == 0.625
    # folding: swapping the group names gives the same value
    assert fm.fairness_auc(None, scores, sensitive_features=["b"] * 4 + ["a"] * 4) == 0.625


def test_constant_predictor_is_fair():
    # the FDDG code counts strict wins only and would give 1.0 here
    assert fm.fairness_auc(None, np.full(8, 0.3), sensitive_features=[0, 1] * 4) == 0.5


def test_perfect_separation():
    assert fm.fairness_auc(None, [0.1, 0.2, 0.8, 0.9], sensitive_features=[0, 0, 1, 1]) == 1.0
    assert fm.fairness_auc(None, [0.1, 0.2, 0.8, 0.9], sensitive_features=[1, 1, 0, 0]) == 1.0


def test_three_groups_largest_pair():
    # pairs: (0, 1) 0.875, (0, 2) 0.75, (1, 2) A = 0.25 -> folded 0.75
    scores = [0.1, 0.5, 0.5, 0.6, 0.2, 0.55]
    z = [0, 0, 1, 1, 2, 2]
    assert fm.fairness_auc(None, scores, sensitive_features=z) == 0.875


def test_score_validation():
    z = [0, 0, 1, 1]
    with pytest.raises(ValueError, match="y_score must be finite.*1 NaN"):
        fm.fairness_auc(None, [0.1, np.nan, 0.3, 0.4], sensitive_features=z)
    with pytest.raises(ValueError, match=r"y_score must be probabilities in \[0, 1\].*1\.5"):
        fm.fairness_auc(None, [0.1, 1.5, 0.3, 0.4], sensitive_features=z)
    with pytest.raises(ValueError, match=r"y_score must be probabilities in \[0, 1\].*-0\.1"):
        fm.fairness_auc(None, [0.1, -0.1, 0.3, 0.4], sensitive_features=z)
    with pytest.raises(ValueError, match="y_score=3, sensitive_features=4"):
        fm.fairness_auc(None, [0.1, 0.2, 0.3], sensitive_features=z)
    with pytest.raises(ValueError, match="single group 0"):
        fm.fairness_auc(None, [0.1, 0.2, 0.3, 0.4], sensitive_features=[0, 0, 0, 0])
    with pytest.raises(ValueError, match=r"shape \(n_samples,\)"):
        fm.fairness_auc(None, np.full((4, 2), 0.5), sensitive_features=z)
    with pytest.raises(ValueError, match="on_undefined"):
        fm.fairness_auc(None, [0.1, 0.2, 0.3, 0.4], sensitive_features=z, on_undefined="nan")


@st.composite
def scored_groups(draw, max_groups=2):
    n_groups = draw(st.integers(2, max_groups))
    tied = draw(st.booleans())  # few distinct values: many ties
    values = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]) if tied else st.floats(0.0, 1.0)
    scores, z = [], []
    for g in range(n_groups):
        size = draw(st.integers(1, 25))
        scores += draw(st.lists(values, min_size=size, max_size=size))
        z += [g] * size
    order = draw(st.permutations(range(len(z))))
    return np.array(scores)[order], np.array(z)[order]


@settings(deadline=None, max_examples=150)
@given(scored_groups())
def test_two_groups_against_references(data):
    scores, z = data
    s1, s0 = scores[z == 1], scores[z == 0]
    value = fm.fairness_auc(None, scores, sensitive_features=z)
    assert value == pytest.approx(folded(quadratic_auc(s1, s0)), abs=1e-12)
    u = mannwhitneyu(s1, s0).statistic
    assert value == pytest.approx(folded(u / (len(s1) * len(s0))), abs=1e-12)
    if len(np.unique(z)) == 2:
        assert value == pytest.approx(folded(roc_auc_score(z, scores)), abs=1e-12)


@settings(deadline=None, max_examples=60)
@given(scored_groups(max_groups=5))
def test_many_groups_against_reference(data):
    scores, z = data
    pairs = itertools.combinations(np.unique(z), 2)
    expected = max(folded(quadratic_auc(scores[z == b], scores[z == a])) for a, b in pairs)
    assert fm.fairness_auc(None, scores, sensitive_features=z) == pytest.approx(
        expected, abs=1e-12
    )


def test_large_input_exact():
    rng = np.random.default_rng(0)
    z = rng.integers(0, 2, 200_000)
    scores = np.round(rng.random(z.size) * 0.5 + 0.1 * z, 3)  # many ties
    value = fm.fairness_auc(None, scores, sensitive_features=z)
    assert math.isclose(value, folded(roc_auc_score(z, scores)), abs_tol=1e-12)
