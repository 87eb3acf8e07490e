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
    fairlearn_signature,
    to_numpy,
    undefined,
)
from fairdg.metrics.auc import auc_from_codes
from fairdg.metrics.catalogue import CATALOGUE

__all__ = ["evaluate", "evaluate_with_reasons", "mark_small_groups"]

# Binary-task summary metrics from the per-group counts: result key -> function, from the
# catalogue (a new one is an entry there).
_BINARY_SUMMARIES = {m.key: m.from_counts for m in CATALOGUE.values() if m.from_counts}


@fairlearn_signature()
def evaluate(
    y_true: Any,
    scores: Any,
    *,
    sensitive_features: Any,
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
    sensitive_features : array-like of shape (n_samples,)
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
        Binary task: ``n``, ``accuracy``, ``positive_rate`` (share predicted 1), ``dp_diff``,
        ``dp_ratio``, ``eopp_diff`` (TPR difference), ``tnr_diff``, ``eodds_diff``,
        ``eodds_ratio``, ``fairness_auc`` and, per group ``g`` (``str(g)``), ``count/g``,
        ``accuracy/g``, ``selection_rate/g``, ``tpr/g``, ``tnr/g``. Multi-class task: ``n``,
        ``accuracy``, ``accuracy_gap`` (largest minus smallest per-group accuracy),
        ``count/g``, ``accuracy/g``. See the individual metric functions for the formulas and
        when each value is undefined.
    """
    check_on_undefined(on_undefined)
    _check_threshold(threshold)
    s = to_numpy(scores)
    if s.ndim == 2 and s.shape[1] > 2:
        return _evaluate_multiclass(y_true, check_scores(s, ndim=2), sensitive_features)
    results, undefined_keys = _evaluate_binary(y_true, s, sensitive_features, threshold)
    if undefined_keys:
        reasons = [f"{', '.join(keys)} ({reason})" for reason, keys in undefined_keys.items()]
        undefined("evaluate", reasons, on_undefined, subject="evaluate: undefined values")
    return results


def _check_threshold(threshold: float) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise ValueError(f"threshold must be a number in [0, 1]; got {threshold!r}")
    if not 0.0 <= threshold <= 1.0:  # also rejects NaN
        raise ValueError(f"threshold must be a number in [0, 1]; got {threshold!r}")


@fairlearn_signature()
def evaluate_with_reasons(
    y_true: Any,
    scores: Any,
    *,
    sensitive_features: Any,
    threshold: float = 0.5,
    min_group_size: int = 0,
    where: str = "",
) -> tuple[dict[str, float], dict[str, str]]:
    """`evaluate` without warnings: the metrics and, per undefined (NaN) key, the reason.

    ``min_group_size`` > 0 also marks as undefined every metric that compares a group with
    fewer rows than that (the summary metrics and that group's own rates; ``count/g`` stays):
    a group of one person decides a DP ratio or a fairness AUC on its own. The reason names
    the group and its size (``"group 'x' has 1 row in test"``, `where` naming the rows).
    """
    _check_threshold(threshold)
    if (
        isinstance(min_group_size, bool)
        or not isinstance(min_group_size, int)
        or min_group_size < 0
    ):
        raise ValueError(f"min_group_size must be a non-negative integer; got {min_group_size!r}")
    s = to_numpy(scores)
    if s.ndim == 2 and s.shape[1] > 2:
        results = _evaluate_multiclass(y_true, check_scores(s, ndim=2), sensitive_features)
        reasons: dict[str, str] = {}
    else:
        results, undefined_keys = _evaluate_binary(y_true, s, sensitive_features, threshold)
        reasons = {}
        for reason, keys in undefined_keys.items():
            for key in keys:
                reasons[key] = f"{reasons[key]}; {reason}" if key in reasons else reason
    mark_small_groups(results, reasons, min_group_size, where)
    return results, reasons


# Keys that compare groups: undefined when any group is below min_group_size.
COMPARING = (*_BINARY_SUMMARIES, "fairness_auc", "accuracy_gap")
PER_GROUP_RATES = ("accuracy", "selection_rate", "tpr", "tnr")


def mark_small_groups(
    results: dict[str, float], reasons: dict[str, str], min_group_size: int, where: str = ""
) -> None:
    """Set to NaN (with a reason) what compares a group smaller than `min_group_size`."""
    small = [
        (key.partition("/")[2], int(value))
        for key, value in results.items()
        if key.startswith("count/") and value < min_group_size
    ]
    if not small:
        return
    suffix = f" in {where}" if where else ""
    why = "; ".join(f"group {g!r} has {n} row{'s' if n != 1 else ''}{suffix}" for g, n in small)
    why += f" (min_group_size={min_group_size})"
    for key in COMPARING:
        if key in results:
            results[key] = float("nan")
            reasons[key] = why
    for g, n in small:
        for rate in PER_GROUP_RATES:
            key = f"{rate}/{g}"
            if key in results:
                results[key] = float("nan")
                reasons[key] = f"group {g!r} has {n} row{'s' if n != 1 else ''}{suffix}"


def _evaluate_binary(
    y_true: Any, s: np.ndarray, sensitive_features: Any, threshold: float
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Binary-task metrics and, per reason, the keys it makes undefined."""
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
    groups, codes = encode_groups(sensitive_features, n, "scores")
    pred = (s > threshold).astype(np.int8)
    counts = _group.GroupCounts.from_codes(groups, codes, pred, true)

    results: dict[str, float] = {
        "n": float(n),
        "accuracy": float(counts.correct.sum() / n),
        "positive_rate": float(np.count_nonzero(pred) / n),
    }
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

    return results, undefined_keys


def _attach_group_keys(
    results: dict[str, float], undefined_keys: dict[str, list[str]], counts: _group.GroupCounts
) -> None:
    """File the NaN per-group ``tpr/g`` and ``tnr/g`` entries under the reason for them."""
    for rate, reasons in (("tpr", counts.tpr_reasons()), ("tnr", counts.tnr_reasons())):
        keys = [f"{rate}/{g}" for g in counts.groups if math.isnan(results[f"{rate}/{g}"])]
        if keys:
            undefined_keys.setdefault(reasons[0], []).extend(keys)


def _evaluate_multiclass(
    y_true: Any, probabilities: np.ndarray, sensitive_features: Any
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
    groups, codes = encode_groups(sensitive_features, n, "scores")
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
