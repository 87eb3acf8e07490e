"""Every metric of one prediction pass, from a single set of per-group confusion counts."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from fairdg.metrics import group as _group
from fairdg.metrics._validation import (
    as_1d,
    as_binary,
    check_on_undefined,
    check_same_length,
    check_scores,
    encode_groups,
    to_numpy,
    undefined,
)
from fairdg.metrics.auc import auc_from_codes
from fairdg.metrics.catalogue import CATALOGUE

__all__ = ["evaluate"]

# Binary-task summary metrics from the per-group counts: result key -> function, from the
# catalogue (a new one is an entry there).
_BINARY_SUMMARIES = {m.key: m.from_counts for m in CATALOGUE.values() if m.from_counts}


def evaluate(
    y_true: Any,
    scores: Any,
    *,
    sensitive: Any,
    threshold: float = 0.5,
    on_undefined: str = "warn",
) -> dict[str, float]:
    """All metrics of one set of predictions, as a flat dict of python floats.

    The per-group confusion counts are computed once (one ``np.unique`` and one ``bincount``)
    and every metric is derived from them, so one inference pass per split serves them all.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels: 0/1 for a binary task, class ids ``0 .. C-1`` for a multi-class task.
    scores : array-like of shape (n_samples,) or (n_samples, C)
        1-D: probability of class 1 (binary task). 2-D: class probabilities; ``C == 2`` is a
        binary task using column 1, ``C > 2`` a multi-class task with ``y_pred = argmax``.
        Finite and in [0, 1].
    sensitive : array-like of shape (n_samples,)
        Group labels (ints or strings), two or more groups.
    threshold : float
        Binary task: ``y_pred = scores > threshold`` (strictly, as ``argmax`` of two equal
        probabilities and scikit-learn's ``predict`` both give 0). Ignored for multi-class.
    on_undefined : {"warn", "raise", "ignore"}
        What to do when a value is undefined (it is NaN either way). ``"warn"`` emits a single
        :class:`UndefinedMetricWarning` naming every undefined key and the reason.

    Returns
    -------
    dict[str, float]
        Binary task: ``n``, ``accuracy``, ``dp_diff``, ``dp_ratio``, ``eopp_diff`` (TPR
        difference), ``tnr_diff``, ``eodds_diff``, ``eodds_ratio``, ``fairness_auc`` and, per group
        ``g`` (``str(g)``), ``count/g``, ``accuracy/g``, ``selection_rate/g``, ``tpr/g``,
        ``tnr/g``. Multi-class task: ``n``, ``accuracy``, ``accuracy_gap`` (largest minus
        smallest per-group accuracy), ``count/g``, ``accuracy/g``. See the individual metric
        functions for the formulas and when each value is undefined.
    """
    check_on_undefined(on_undefined)
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise ValueError(f"threshold must be a number in [0, 1]; got {threshold!r}")
    if not 0.0 <= threshold <= 1.0:  # also rejects NaN
        raise ValueError(f"threshold must be a number in [0, 1]; got {threshold!r}")
    s = to_numpy(scores)
    if s.ndim == 2 and s.shape[1] > 2:
        return _evaluate_multiclass(y_true, check_scores(s, ndim=2), sensitive)
    if s.ndim == 2:
        if s.shape[1] != 2:
            raise ValueError(
                "scores must have shape (n_samples,) or (n_samples, C) with C >= 2; "
                f"got shape {s.shape}"
            )
        s = check_scores(s, ndim=2)[:, 1]
    else:
        s = check_scores(s)

    true = as_binary(y_true, "y_true")
    n = check_same_length(y_true=true, scores=s)
    groups, codes = encode_groups(sensitive, n, "scores")
    pred = (s > threshold).astype(np.int8)
    counts = _group.GroupCounts.from_codes(groups, codes, pred, true)

    results: dict[str, float] = {"n": float(n), "accuracy": float(counts.correct.sum() / n)}
    undefined_keys: dict[str, list[str]] = {}  # reason -> keys it makes NaN
    for key, metric in _BINARY_SUMMARIES.items():
        value, reasons = metric(counts)
        results[key] = value
        for reason in reasons:
            undefined_keys.setdefault(reason, []).append(key)
    results["fairness_auc"] = auc_from_codes(s, codes, len(groups))

    per_group = {
        "count": counts.count,
        "accuracy": counts.correct / counts.count,
        "selection_rate": counts.selection_rate(),
        "tpr": counts.tpr(),
        "tnr": counts.tnr(),
    }
    for name, values in per_group.items():
        for g, value in zip(groups, values.tolist(), strict=True):
            results[f"{name}/{g}"] = float(value)
    _attach_group_keys(results, undefined_keys, counts)

    if undefined_keys:
        reasons = [f"{', '.join(keys)} ({reason})" for reason, keys in undefined_keys.items()]
        undefined("evaluate", reasons, on_undefined, subject="evaluate: undefined values")
    return results


def _attach_group_keys(
    results: dict[str, float], undefined_keys: dict[str, list[str]], counts: _group.GroupCounts
) -> None:
    """File the NaN per-group ``tpr/g`` and ``tnr/g`` entries under the reason for them."""
    for rate, reasons in (("tpr", counts.tpr_reasons()), ("tnr", counts.tnr_reasons())):
        keys = [f"{rate}/{g}" for g in counts.groups if math.isnan(results[f"{rate}/{g}"])]
        if keys:
            undefined_keys.setdefault(reasons[0], []).extend(keys)


def _evaluate_multiclass(
    y_true: Any, probabilities: np.ndarray, sensitive: Any
) -> dict[str, float]:
    """Accuracy overall and per group for class probabilities of shape (n, C), C > 2."""
    n_classes = probabilities.shape[1]
    true = as_1d(y_true, "y_true")
    if true.dtype.kind not in "iuf" or not np.all(
        (true >= 0) & (true < n_classes) & (true % 1 == 0)
    ):
        raise ValueError(
            f"y_true must hold class ids 0 .. {n_classes - 1} (scores have {n_classes} columns); "
            f"got {true.dtype} values in [{true.min()!r}, {true.max()!r}]"
        )
    n = check_same_length(y_true=true, scores=probabilities)
    groups, codes = encode_groups(sensitive, n, "scores")
    correct = np.argmax(probabilities, axis=1) == true
    count = np.bincount(codes, minlength=len(groups))
    group_accuracy = np.bincount(codes[correct], minlength=len(groups)) / count

    results = {
        "n": float(n),
        "accuracy": float(np.count_nonzero(correct) / n),
        "accuracy_gap": float(group_accuracy.max() - group_accuracy.min()),
    }
    for g, c in zip(groups, count.tolist(), strict=True):
        results[f"count/{g}"] = float(c)
    for g, a in zip(groups, group_accuracy.tolist(), strict=True):
        results[f"accuracy/{g}"] = float(a)
    return results
