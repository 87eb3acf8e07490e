"""One entry per metric key: its direction, label, scale and paper column.

Model selection (``training/evaluate.py``), the Pareto fronts of ``reporting/plots.py``, the
tables of ``reporting/tables.py``, the CLI's result columns and ``docs/metrics.md`` all read this
catalogue, so a new metric is its function, one entry here and its test. Per-group keys
(``accuracy/g``, ``tpr/g`` ...) are looked up by the part before the slash. A binary-task
summary computed from the per-group confusion counts names its function (``from_counts``) and
`evaluate` picks it up from here. This module does not import torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fairdg.metrics import group as _group

__all__ = [
    "CATALOGUE",
    "FAIR_METRIC_KEYS",
    "Metric",
    "RUN_TABLE",
    "SUMMARY_KEYS",
    "entry",
    "is_minimised",
    "short_name",
]


@dataclass(frozen=True)
class Metric:
    """What one ``evaluate`` key means.

    Parameters
    ----------
    key : str
        The key in ``evaluate``'s result (per-group keys: the part before ``/``).
    name : str
        What it measures, in words.
    direction : {"max", "min", "none"}
        Whether larger or smaller values are better (fairer); ``"none"`` for counts.
    label : str
        Short column label for tables.
    percent : bool
        Shown x100 in tables, as in the papers.
    paper : str
        The paper column it reproduces ("" if none).
    fairness : bool
        A fairness measure (a candidate x axis of the trade-off plot).
    from_counts : callable or None
        For a binary-task summary: the function of the per-group confusion counts
        (`fairdg.metrics.group.GroupCounts`) that returns ``(value, reasons undefined)``;
        `evaluate` computes every such entry, in catalogue order.
    axis : str
        Axis label of figures where `label` is too terse ("" : `label`).
    """

    key: str
    name: str
    direction: str
    label: str
    percent: bool = False
    paper: str = ""
    fairness: bool = False
    from_counts: Callable[[Any], tuple[float, list[str]]] | None = None
    axis: str = ""


_ENTRIES = (
    Metric("n", "number of rows", "none", "n"),
    Metric("loss", "training loss", "min", "loss"),
    Metric(
        "accuracy", "accuracy", "max", "accuracy", percent=True, paper="accuracy (both papers)"
    ),
    Metric(
        "positive_rate",
        "share of rows predicted positive (overall selection rate)",
        "none",
        "positive rate",
        percent=True,
    ),
    Metric(
        "accuracy_gap",
        "largest minus smallest per-group accuracy (multi-class)",
        "min",
        "accuracy gap",
        fairness=True,
    ),
    Metric(
        "dp_diff",
        "demographic parity difference",
        "min",
        "DP gap",
        paper='affinity "parity gap"',
        fairness=True,
        from_counts=_group.dp_difference,
    ),
    Metric(
        "dp_ratio",
        "demographic parity ratio",
        "max",
        "DP",
        paper='FDDG "DP"',
        fairness=True,
        from_counts=_group.dp_ratio,
        axis="DP ratio",
    ),
    Metric(
        "eopp_diff",
        "equal opportunity (TPR) difference",
        "min",
        "EOpp gap",
        paper='affinity "equality gap"',
        fairness=True,
        from_counts=_group.eopp_difference,
    ),
    Metric(
        "tnr_diff",
        "true negative rate difference",
        "min",
        "TNR gap",
        paper='affinity "equality gap (TNR)"',
        fairness=True,
        from_counts=_group.tnr_difference,
    ),
    Metric(
        "eodds_diff",
        "equalized odds difference",
        "min",
        "EOdds gap",
        paper='fairlearn default (agg="worst_case")',
        fairness=True,
        from_counts=_group.eodds_difference,
    ),
    Metric(
        "eodds_ratio",
        "equalized odds ratio",
        "max",
        "EOdds ratio",
        paper='FDDG "EO" (see below)',
        fairness=True,
        from_counts=_group.eodds_ratio,
    ),
    Metric(
        "fairness_auc",
        "AUC of the scores between groups, folded",
        "min",
        "AUC",
        paper='FDDG "AUC"',
        fairness=True,
        axis="fairness AUC",
    ),
    Metric("count", "rows of group g", "none", "count"),
    Metric("selection_rate", "selection rate of group g", "none", "SR"),
    Metric("tpr", "true positive rate of group g", "none", "TPR"),
    Metric("tnr", "true negative rate of group g", "none", "TNR"),
)

CATALOGUE: dict[str, Metric] = {m.key: m for m in _ENTRIES}

# Summary keys (one value per evaluated set, not per group), in catalogue order.
SUMMARY_KEYS = tuple(m.key for m in _ENTRIES if m.direction != "none")

# Columns of the result table `fairdg run` prints: the positive rate beside the fairness
# figures, since a constant predictor is "fair" by all of them.
RUN_TABLE = (
    "accuracy",
    "positive_rate",
    "dp_diff",
    "dp_ratio",
    "eopp_diff",
    "eodds_diff",
    "fairness_auc",
)

# The evaluation key (hard decisions) on which each fairness notion of the ``fair_metric``
# knob is checked: model selection of runs with ``fair_tolerance``, in training and reporting.
FAIR_METRIC_KEYS = {"dp": "dp_diff", "eo": "eodds_diff", "eopp": "eopp_diff"}


def entry(key: str) -> Metric | None:
    """The catalogue entry of an ``evaluate`` key (``"tpr/0"`` -> ``tpr``), or None."""
    return CATALOGUE.get(key.partition("/")[0])


def is_minimised(key: str) -> bool:
    """Whether smaller values of `key` are better (unknown keys: larger is better)."""
    found = entry(key)
    return found is not None and found.direction == "min"


def short_name(key: str) -> str:
    """Table label of `key`, with ``(%)`` for percent metrics (unknown keys: the key)."""
    found = entry(key)
    if found is None:
        return key
    group = key.partition("/")[2]
    return found.label + (f"/{group}" if group else "") + (" (%)" if found.percent else "")
