"""Fairness and accuracy metrics: pure functions of arrays with fairlearn's signature,
``metric(y_true, y_pred, *, sensitive_features=...)`` (demographic parity, selection rates and
the fairness AUC read no ``y_true`` but take it, as fairlearn does; ``sensitive=`` and the old
argument order are accepted with a `DeprecationWarning` for one release).

Inputs may be numpy arrays, lists, pandas objects or torch tensors (converted without importing
torch). An undefined value is NaN with an :class:`UndefinedMetricWarning` by default, never 0;
``on_undefined="raise"`` raises a ``ValueError`` and ``"ignore"`` stays silent. See
``docs/metrics.md`` for the formulas and the paper columns they reproduce.
"""

from fairdg.metrics._validation import UndefinedMetricWarning
from fairdg.metrics.auc import fairness_auc
from fairdg.metrics.bootstrap import bootstrap
from fairdg.metrics.evaluate import evaluate
from fairdg.metrics.group import (
    accuracy,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    equalized_odds_ratio,
    selection_rate,
    true_negative_rate_difference,
)

__all__ = [
    "UndefinedMetricWarning",
    "accuracy",
    "bootstrap",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "evaluate",
    "fairness_auc",
    "selection_rate",
    "true_negative_rate_difference",
]
