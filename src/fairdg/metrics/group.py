"""Group fairness metrics computed from per-group confusion counts.

For groups ``a`` of the sensitive attribute z (any number, two or more):

- selection rate ``SR_a = P(y_hat = 1 | z = a)``
- true positive rate ``TPR_a = P(y_hat = 1 | y = 1, z = a)``
- true negative rate ``TNR_a = P(y_hat = 0 | y = 0, z = a)``, ``FPR_a = 1 - TNR_a``

Differences are ``max_a - min_a`` (0 = fair), ratios ``min_a / max_a`` (1 = fair). A value that
needs a rate of a group without the samples to define it (TPR of a group without positives) or
a ratio with a zero denominator is undefined: NaN, with an :class:`UndefinedMetricWarning` by
default.
Unlike fairlearn, a group without positives never gets a TPR of 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fairdg.metrics._validation import (
    as_1d,
    as_binary,
    check_on_undefined,
    check_same_length,
    check_unused_y_true,
    encode_groups,
    fairlearn_signature,
    rate_reasons,
    undefined,
)

__all__ = [
    "accuracy",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "selection_rate",
    "true_negative_rate_difference",
]

Result = tuple[float, list[str]]  # a value and the reasons it is undefined (empty if defined)


@dataclass(frozen=True)
class GroupCounts:
    """Confusion counts per group: ``table[a, y, y_hat]`` is the number of samples of group a."""

    groups: list[Any]
    table: np.ndarray

    @classmethod
    def from_codes(
        cls, groups: list[Any], codes: np.ndarray, y_pred: np.ndarray, y_true: np.ndarray | None
    ) -> GroupCounts:
        """Count with one ``bincount`` over ``code * 4 + y * 2 + y_hat`` (y = 0 when absent)."""
        flat = codes * 4 + y_pred
        if y_true is not None:
            flat = flat + 2 * y_true
        table = np.bincount(flat, minlength=4 * len(groups)).reshape(len(groups), 2, 2)
        return cls(groups, table)

    @property
    def count(self) -> np.ndarray:
        return self.table.sum(axis=(1, 2))

    @property
    def selected(self) -> np.ndarray:
        return self.table[:, :, 1].sum(axis=1)

    @property
    def correct(self) -> np.ndarray:
        return self.table[:, 0, 0] + self.table[:, 1, 1]

    @property
    def positives(self) -> np.ndarray:
        return self.table[:, 1, :].sum(axis=1)

    @property
    def negatives(self) -> np.ndarray:
        return self.table[:, 0, :].sum(axis=1)

    def selection_rate(self) -> np.ndarray:
        return self.selected / self.count

    def tpr(self) -> np.ndarray:
        return _divide(self.table[:, 1, 1], self.positives)

    def tnr(self) -> np.ndarray:
        return _divide(self.table[:, 0, 0], self.negatives)

    def fpr(self) -> np.ndarray:
        return _divide(self.table[:, 0, 1], self.negatives)

    def tpr_reasons(self) -> list[str]:
        return rate_reasons(self.positives, self.groups, "TPR", "positives (y_true = 1)")

    def tnr_reasons(self, what: str = "TNR") -> list[str]:
        return rate_reasons(self.negatives, self.groups, what, "negatives (y_true = 0)")


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise ratio with NaN where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return numerator / denominator


def _difference(rates: np.ndarray, reasons: list[str]) -> Result:
    if reasons:
        return float("nan"), reasons
    return float(rates.max() - rates.min()), []


def _ratio(rates: np.ndarray, reasons: list[str], what: str) -> Result:
    if reasons:
        return float("nan"), reasons
    high = rates.max()
    if high == 0:
        return float("nan"), [f"the {what} ratio is 0/0: every group has {what} 0"]
    return float(rates.min() / high), []


# Internal forms returning (value, reasons); `evaluate` reuses them on a single GroupCounts.
def dp_difference(c: GroupCounts) -> Result:
    return _difference(c.selection_rate(), [])


def dp_ratio(c: GroupCounts) -> Result:
    return _ratio(c.selection_rate(), [], "selection rate")


def eopp_difference(c: GroupCounts) -> Result:
    return _difference(c.tpr(), c.tpr_reasons())


def tnr_difference(c: GroupCounts) -> Result:
    return _difference(c.tnr(), c.tnr_reasons())


def eodds_difference(c: GroupCounts) -> Result:
    reasons = c.tpr_reasons() + c.tnr_reasons("FPR")
    if reasons:
        return float("nan"), reasons
    return max(_difference(c.tpr(), [])[0], _difference(c.fpr(), [])[0]), []


def eodds_ratio(c: GroupCounts) -> Result:
    reasons = c.tpr_reasons() + c.tnr_reasons("FPR")
    if reasons:
        return float("nan"), reasons
    tpr, tpr_reasons = _ratio(c.tpr(), [], "TPR")
    fpr, fpr_reasons = _ratio(c.fpr(), [], "FPR")
    if tpr_reasons or fpr_reasons:
        return float("nan"), tpr_reasons + fpr_reasons
    return min(tpr, fpr), []


def _counts(y_true: Any, y_pred: Any, sensitive_features: Any, on_undefined: str) -> GroupCounts:
    """Validate binary inputs and count them per group."""
    check_on_undefined(on_undefined)
    pred = as_binary(y_pred, "y_pred")
    true = None
    if y_true is not None:
        true = as_binary(y_true, "y_true")
        check_same_length(y_true=true, y_pred=pred)
    groups, codes = encode_groups(sensitive_features, pred.shape[0])
    return GroupCounts.from_codes(groups, codes, pred, true)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of correct predictions, ``mean(y_true == y_pred)``.

    Works for binary and multi-class labels (any comparable class ids).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.

    Returns
    -------
    float
        Accuracy in [0, 1]; the "accuracy" column of both papers.
    """
    true, pred = as_1d(y_true, "y_true"), as_1d(y_pred, "y_pred")
    check_same_length(y_true=true, y_pred=pred)
    return float(np.mean(true == pred))


@fairlearn_signature(took_y_true=False)
def selection_rate(y_true: Any, y_pred: Any, *, sensitive_features: Any) -> dict[Any, float]:
    """Selection rate per group, ``SR_a = P(y_hat = 1 | z = a)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or None
        Not used (the value depends on the predictions only); accepted, as in fairlearn, so
        that every metric takes ``(y_true, y_pred, *, sensitive_features=)``.
    y_pred : array-like of shape (n_samples,)
        Binary predictions (0/1).
    sensitive_features : array-like of shape (n_samples,)
        Group labels (ints or strings), two or more groups.

    Returns
    -------
    dict
        Group label -> selection rate, groups in sorted order. Always defined (every group
        present has at least one sample).
    """
    c = _counts(None, y_pred, sensitive_features, "ignore")
    check_unused_y_true(y_true, int(c.count.sum()))
    return dict(zip(c.groups, c.selection_rate().tolist(), strict=True))


@fairlearn_signature(took_y_true=False)
def demographic_parity_difference(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, on_undefined: str = "warn"
) -> float:
    """Demographic parity difference, ``max_a SR_a - min_a SR_a`` (0 = fair).

    Reproduces the affinity paper's "parity gap" and equals fairlearn's
    ``demographic_parity_difference``. With more than two groups: largest minus smallest
    selection rate over all groups. Always defined (``on_undefined`` is accepted for a uniform
    signature).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or None
        Not used (the value depends on the predictions only); accepted, as in fairlearn, so
        that every metric takes ``(y_true, y_pred, *, sensitive_features=)``.
    y_pred : array-like of shape (n_samples,)
        Binary predictions (0/1).
    sensitive_features : array-like of shape (n_samples,)
        Group labels, two or more groups.
    on_undefined : {"warn", "raise", "ignore"}
        What to do when the value is undefined.

    Returns
    -------
    float
        Value in [0, 1].
    """
    counts = _counts(None, y_pred, sensitive_features, on_undefined)
    check_unused_y_true(y_true, int(counts.count.sum()))
    value, reasons = dp_difference(counts)
    return undefined("demographic_parity_difference", reasons, on_undefined) if reasons else value


@fairlearn_signature(took_y_true=False)
def demographic_parity_ratio(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, on_undefined: str = "warn"
) -> float:
    """Demographic parity ratio, ``min_a SR_a / max_a SR_a`` (1 = fair).

    Reproduces the FDDG paper's "DP" column (the FDDG code folds the two-group ratio to <= 1,
    which is what min / max does); equals fairlearn's ``demographic_parity_ratio``. With more
    than two groups: smallest over largest selection rate over all groups.

    Undefined (NaN; warning, error or silence by ``on_undefined``) when no group has a positive
    prediction (0/0). The FDDG code returns 0 there, which reads as maximally unfair.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or None
        Not used (the value depends on the predictions only); accepted, as in fairlearn, so
        that every metric takes ``(y_true, y_pred, *, sensitive_features=)``.
    y_pred : array-like of shape (n_samples,)
        Binary predictions (0/1).
    sensitive_features : array-like of shape (n_samples,)
        Group labels, two or more groups.
    on_undefined : {"warn", "raise", "ignore"}
        What to do when the value is undefined.

    Returns
    -------
    float
        Value in [0, 1], or NaN when undefined.
    """
    counts = _counts(None, y_pred, sensitive_features, on_undefined)
    check_unused_y_true(y_true, int(counts.count.sum()))
    value, reasons = dp_ratio(counts)
    return undefined("demographic_parity_ratio", reasons, on_undefined) if reasons else value


@fairlearn_signature()
def equal_opportunity_difference(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, on_undefined: str = "warn"
) -> float:
    """Equal opportunity difference, ``max_a TPR_a - min_a TPR_a`` (0 = fair).

    Reproduces the affinity paper's "equality gap"; equals fairlearn's
    ``equal_opportunity_difference`` when every TPR is defined. With more than two groups:
    largest minus smallest TPR over all groups.

    Undefined (NaN) when a group has no positives (``y_true = 1``). fairlearn gives such a group
    a TPR of 0 instead, which can make the difference look large.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Binary labels and predictions (0/1).
    sensitive_features : array-like of shape (n_samples,)
        Group labels, two or more groups.
    on_undefined : {"warn", "raise", "ignore"}
        What to do when the value is undefined.

    Returns
    -------
    float
        Value in [0, 1], or NaN when undefined.
    """
    value, reasons = eopp_difference(_counts(y_true, y_pred, sensitive_features, on_undefined))
    return undefined("equal_opportunity_difference", reasons, on_undefined) if reasons else value


@fairlearn_signature()
def true_negative_rate_difference(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, on_undefined: str = "warn"
) -> float:
    """True negative rate difference, ``max_a TNR_a - min_a TNR_a`` (0 = fair).

    Reproduces the affinity paper's "equality gap (TNR)"; equals fairlearn's
    ``true_negative_rate_difference`` when every TNR is defined (and the FPR difference, since
    ``FPR = 1 - TNR``). With more than two groups: largest minus smallest TNR.

    Undefined (NaN) when a group has no negatives (``y_true = 0``).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Binary labels and predictions (0/1).
    sensitive_features : array-like of shape (n_samples,)
        Group labels, two or more groups.
    on_undefined : {"warn", "raise", "ignore"}
        What to do when the value is undefined.

    Returns
    -------
    float
        Value in [0, 1], or NaN when undefined.
    """
    value, reasons = tnr_difference(_counts(y_true, y_pred, sensitive_features, on_undefined))
    return undefined("true_negative_rate_difference", reasons, on_undefined) if reasons else value


@fairlearn_signature()
def equalized_odds_difference(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, on_undefined: str = "warn"
) -> float:
    """Equalized odds difference, ``max(TPR difference, FPR difference)`` (0 = fair).

    Each difference is ``max_a - min_a`` over all groups; the larger one is returned, as
    fairlearn's ``equalized_odds_difference`` with its default ``agg="worst_case"``.

    Undefined (NaN) when a group has no positives (TPR) or no negatives (FPR).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Binary labels and predictions (0/1).
    sensitive_features : array-like of shape (n_samples,)
        Group labels, two or more groups.
    on_undefined : {"warn", "raise", "ignore"}
        What to do when the value is undefined.

    Returns
    -------
    float
        Value in [0, 1], or NaN when undefined.
    """
    value, reasons = eodds_difference(_counts(y_true, y_pred, sensitive_features, on_undefined))
    return undefined("equalized_odds_difference", reasons, on_undefined) if reasons else value


@fairlearn_signature()
def equalized_odds_ratio(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, on_undefined: str = "warn"
) -> float:
    """Equalized odds ratio, ``min(TPR ratio, FPR ratio)`` (1 = fair).

    Each ratio is ``min_a / max_a`` over all groups; the smaller one is returned, as fairlearn's
    ``equalized_odds_ratio`` with ``agg="worst_case"``. The FDDG code's "eo" is the TPR ratio
    alone; report both when comparing with that paper's "EO" column.

    Undefined (NaN) when a group has no positives or no negatives, or when every group has TPR 0
    or every group has FPR 0 (a ratio 0/0). The FDDG code returns 0 for an undefined ratio.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Binary labels and predictions (0/1).
    sensitive_features : array-like of shape (n_samples,)
        Group labels, two or more groups.
    on_undefined : {"warn", "raise", "ignore"}
        What to do when the value is undefined.

    Returns
    -------
    float
        Value in [0, 1], or NaN when undefined.
    """
    value, reasons = eodds_ratio(_counts(y_true, y_pred, sensitive_features, on_undefined))
    return undefined("equalized_odds_ratio", reasons, on_undefined) if reasons else value
