"""Fairness AUC: how well the model's score separates the sensitive groups (0.5 = fair)."""

from __future__ import annotations

from typing import Any

import numpy as np

from fairdg.metrics._validation import (
    check_on_undefined,
    check_scores,
    check_unused_y_true,
    encode_groups,
    fairlearn_signature,
)

__all__ = ["fairness_auc"]


def _mann_whitney(sorted_scores: np.ndarray, is_second: np.ndarray) -> float:
    """``A = P(s1 > s0) + 0.5 P(s1 = s0)`` from scores sorted ascending.

    ``is_second`` marks the samples of group 1. Mid-ranks are computed per block of tied scores;
    everything is kept as integers (twice the rank) so that the sum is exact.
    """
    n = sorted_scores.shape[0]
    new_block = np.empty(n, dtype=bool)
    new_block[0] = True
    np.not_equal(sorted_scores[1:], sorted_scores[:-1], out=new_block[1:])
    starts = np.flatnonzero(new_block)
    ends = np.append(starts[1:], n)
    twice_mid_rank = starts + ends + 1  # ranks are 1-based: mean of starts+1 .. ends
    second_per_block = np.add.reduceat(is_second.astype(np.int64), starts)
    n1 = int(second_per_block.sum())
    n0 = n - n1
    twice_rank_sum = int(np.dot(twice_mid_rank.astype(np.int64), second_per_block))
    twice_u = twice_rank_sum - n1 * (n1 + 1)
    return twice_u / (2 * n0 * n1)


def auc_from_codes(scores: np.ndarray, codes: np.ndarray, n_groups: int) -> float:
    """Largest folded pairwise AUC for validated ``scores`` and group ``codes`` (0..n_groups-1)."""
    order = np.argsort(scores)  # one sort serves every pair: a subset of a sorted array is sorted
    sorted_scores, sorted_codes = scores[order], codes[order]
    best = 0.5
    for a in range(n_groups):
        for b in range(a + 1, n_groups):
            if n_groups == 2:
                pair_scores, is_second = sorted_scores, sorted_codes == b
            else:
                in_pair = (sorted_codes == a) | (sorted_codes == b)
                pair_scores, is_second = sorted_scores[in_pair], sorted_codes[in_pair] == b
            value = _mann_whitney(pair_scores, is_second)
            best = max(best, value, 1.0 - value)
    return float(best)


@fairlearn_signature(took_y_true=False)
def fairness_auc(
    y_true: Any, y_score: Any, *, sensitive_features: Any, on_undefined: str = "warn"
) -> float:
    """Fairness AUC: how well the score separates two groups, folded to [0.5, 1] (0.5 = fair).

    For two groups 0 and 1 (the sorted group labels), with ``x1`` drawn from group 1 and ``x0``
    from group 0::

        A = P(s(x1) > s(x0)) + 0.5 * P(s(x1) = s(x0))
        fairness_auc = max(A, 1 - A)

    ``A`` is the Mann-Whitney U statistic over ``n0 * n1``, computed from mid-ranks in
    O(n log n); it equals ``sklearn.metrics.roc_auc_score(z, scores)``. After folding, which
    group is called 1 does not matter. With more than two groups: the largest folded value over
    all pairs of groups.

    Reproduces the FDDG paper's "AUC" column, with one deliberate difference: the FDDG code
    counts only strict wins ``s(x1) > s(x0)`` in a quadratic loop, so a constant predictor
    scores 1.0 there; here ties count one half and a constant predictor scores 0.5.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or None
        Not used (the value depends on the scores only); accepted so that every metric takes
        fairlearn's ``(y_true, y_pred, *, sensitive_features=)``.
    y_score : array-like of shape (n_samples,)
        Predicted probability of the positive class, finite and in [0, 1].
    sensitive_features : array-like of shape (n_samples,)
        Group labels (ints or strings), two or more groups.
    on_undefined : {"warn", "raise", "ignore"}
        Accepted for a uniform signature; the value is always defined once there are two groups
        (each group present has at least one sample).

    Returns
    -------
    float
        Value in [0.5, 1].
    """
    check_on_undefined(on_undefined)
    s = check_scores(y_score, "y_score")
    groups, codes = encode_groups(sensitive_features, s.shape[0], "y_score")
    check_unused_y_true(y_true, s.shape[0])
    return auc_from_codes(s, codes, len(groups))
