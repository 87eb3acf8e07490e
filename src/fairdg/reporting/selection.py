"""Model selection from recorded evaluations (after DomainBed's ``model_selection.py``).

Selection never retrains: it chooses, for every (experiment, algorithm, target domain, trial),
one recorded evaluation -- a hyperparameter configuration and a step -- and reports that
evaluation's test metrics. It works in two stages, each picking the highest validation score
(ties: the earliest step, then the lowest hyperparameter seed):

1. within a run, the step (early stopping by the validation score);
2. among the runs of the group (one per hyperparameter configuration), the configuration.

Only complete runs (``done.json``) that hold out at most one domain take part; runs holding
out two domains are the validation runs of leave-one-domain-out selection. Methods:

``training``  training-domain validation: ``val.accuracy``, the accuracy on the pooled
              validation rows of the source domains.
``lodo``      leave-one-domain-out validation (DomainBed's definition). For target ``t`` and
              each source ``s`` a second run holds out ``{t, s}``: trained on the other
              sources with the same configuration and trial, it is scored on all rows of
              ``s``. The score of step ``k`` is the mean over sources ``s`` of those
              accuracies at step ``k``; a step missing any source's run is not eligible.
              `fairdg sweep --lodo` produces the pair runs (with 3 domains: 2x the runs).
``oracle``    test-domain validation: ``oracle.accuracy``, the accuracy on the held-out
              domain's validation rows, at the last step of each run only (no early stopping,
              as in DomainBed). It looks at the target and is an upper reference, not a result.
``fair``      fairness-aware training-domain validation: the highest ``val.accuracy`` among
              evaluations whose ``val.dp_ratio`` is at least a threshold (default 0.8, the
              "four-fifths rule") and that are not degenerate; a group where no evaluation
              qualifies has no selection.

Degenerate predictors (``val.degenerate``, `fairdg.metrics.degenerate`: a constant model is
"fair" by every gap and ratio) are never picked by ``fair``. ``training`` and ``lodo`` rank
them last, as the training loop does: one is selected only when every candidate is degenerate
(tables then flag its fairness cells). A run with a fairness constraint (``fair_tolerance``)
is selected under ``training`` by the loop's own rule: the highest ``val.accuracy`` among its
evaluations that meet the tolerance on validation (``val.dp_diff``, ``val.eodds_diff`` or
``val.eopp_diff`` per ``fair_metric``) and are not degenerate, else the closest one.
``oracle`` is a reference and left as it is (its degenerate choices are flagged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from fairdg.metrics.catalogue import FAIR_METRIC_KEYS

GROUP = ["experiment", "algorithm", "target", "trial"]
_MATCH = ["experiment", "algorithm", "candidate", "trial", "target", "step"]


@dataclass(frozen=True)
class SelectionMethod:
    """A model-selection rule: its key, label for tables, and whether it sees the target."""

    name: str
    label: str
    oracle: bool = False


METHODS = {
    m.name: m
    for m in (
        SelectionMethod("training", "training-domain validation"),
        SelectionMethod("lodo", "leave-one-domain-out validation"),
        SelectionMethod("oracle", "test-domain validation (oracle, reference only)", True),
        SelectionMethod("fair", "training-domain validation with val DP ratio >= {threshold:g}"),
    )
}


def method(name: str) -> SelectionMethod:
    """The selection method called `name`."""
    if name not in METHODS:
        raise ValueError(f"selection method must be one of {list(METHODS)}, got {name!r}")
    return METHODS[name]


def label(name: str, dp_threshold: float = 0.8) -> str:
    """The printable name of selection method `name` (with its DP threshold)."""
    return method(name).label.format(threshold=dp_threshold)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].astype(float)
    return pd.Series(np.nan, index=frame.index)


def _domain_accuracy(frame: pd.DataFrame, domain: str) -> pd.Series:
    """Accuracy on all rows of a held-out domain: its val and test parts weighted by size."""
    total = pd.Series(0.0, index=frame.index)
    correct = pd.Series(0.0, index=frame.index)
    for part in ("val", "test"):
        n = _column(frame, f"{domain}/{part}.n")
        acc = _column(frame, f"{domain}/{part}.accuracy")
        correct = correct + acc * n
        total = total + n
    return (correct / total).where(total > 0)


def lodo_scores(main: pd.DataFrame, evals: pd.DataFrame) -> pd.Series:
    """Leave-one-domain-out score of every evaluation in `main` (NaN when incomplete)."""
    aux = evals[(evals["status"] == "done") & (evals["n_test"] == 2)]
    pieces = []
    for key, part in aux.groupby("test_domains", sort=False):
        pair = cast(tuple[str, str], key)  # the stubs type a group key as a scalar
        for target, held in ((pair[0], pair[1]), (pair[1], pair[0])):
            piece = part[["experiment", "algorithm", "candidate", "trial", "step"]].copy()
            piece["target"], piece["val_domain"] = target, held
            piece["accuracy"] = _domain_accuracy(part, held)
            pieces.append(piece)
    if not pieces:
        return pd.Series(np.nan, index=main.index)
    long = pd.concat(pieces).dropna(subset=["accuracy"])
    agg = long.groupby(_MATCH).agg(score=("accuracy", "mean"), found=("val_domain", "nunique"))
    joined = main[_MATCH + ["n_domains"]].merge(agg, left_on=_MATCH, right_index=True, how="left")
    joined.index = main.index  # a left merge on unique keys keeps the rows and their order
    complete = joined["found"] == joined["n_domains"] - 1
    return joined["score"].where(complete)


def degenerate(frame: pd.DataFrame, set_name: str = "val") -> pd.Series:
    """Whether each evaluation's `set_name` predictions are degenerate (unknown: False)."""
    return _column(frame, f"{set_name}.degenerate").fillna(0.0) > 0


def _constraint_gap(frame: pd.DataFrame) -> pd.Series:
    """Each evaluation's validation gap in its run's constrained notion (NaN: unconstrained)."""
    gap = pd.Series(np.nan, index=frame.index)
    metric = frame["fair_metric"] if "fair_metric" in frame else pd.Series("dp", frame.index)
    for notion, key in FAIR_METRIC_KEYS.items():
        rows = metric == notion
        gap[rows] = _column(frame, f"val.{key}")[rows]
    return gap


def ranked(evals: pd.DataFrame, name: str, dp_threshold: float = 0.8) -> pd.DataFrame:
    """The evaluations eligible for selection with their ``tier`` and ``score`` (both larger
    is better; the tier first): see the module docstring."""
    main = evals[(evals["status"] == "done") & (evals["n_test"] <= 1)]
    score = scores(evals, name, dp_threshold)
    tier = pd.Series(2, index=main.index)
    if name in ("training", "lodo"):
        tier[degenerate(main)] = 0
    if name == "training" and "fair_tolerance" in main:
        tolerance = _column(main, "fair_tolerance")
        gap = _constraint_gap(main)
        missed = tolerance.notna() & ~(gap <= tolerance) & (tier == 2)
        tier[missed] = 1
        score = score.where(~missed, -gap.fillna(np.inf))  # the closest first
    out = main.assign(score=score, tier=tier)
    return out.dropna(subset=["score"])


def scores(evals: pd.DataFrame, name: str, dp_threshold: float = 0.8) -> pd.Series:
    """Validation score of every evaluation eligible for selection (NaN: not eligible)."""
    main = evals[(evals["status"] == "done") & (evals["n_test"] <= 1)]
    if name == "training":
        return _column(main, "val.accuracy")
    if name == "fair":
        if not isinstance(dp_threshold, (int, float)) or math.isnan(dp_threshold):
            raise ValueError(f"dp_threshold must be a number in [0, 1], got {dp_threshold!r}")
        fair = (_column(main, "val.dp_ratio") >= dp_threshold) & ~degenerate(main)
        return _column(main, "val.accuracy").where(fair)
    if name == "oracle":
        last = main["step"] == main.groupby("run_id")["step"].transform("max")
        return _column(main, "oracle.accuracy").where(last)
    if name == "lodo":
        return lodo_scores(main, evals)
    method(name)  # raises with the valid names
    raise AssertionError  # unreachable


def _best(frame: pd.DataFrame, by: list[str], ties: list[str]) -> pd.DataFrame:
    """The first row of each `by` group by (tier, score) descending, then `ties` ascending."""
    order = frame.sort_values(
        [*by, "tier", "score", *ties],
        ascending=[True] * len(by) + [False, False] + [True] * len(ties),
        kind="stable",
    )
    return order.groupby(by, sort=True).head(1)


def select_steps(
    evals: pd.DataFrame, name: str = "training", dp_threshold: float = 0.8
) -> pd.DataFrame:
    """Stage 1: the selected evaluation of every eligible run (columns ``score``, ``tier``)."""
    main = ranked(evals, name, dp_threshold)
    if main.empty:
        return main.assign(selection=name)
    chosen = _best(main, ["run_id"], ["step"])
    return chosen.sort_values("run_id", kind="stable").assign(selection=name)


def select(evals: pd.DataFrame, name: str = "training", dp_threshold: float = 0.8) -> pd.DataFrame:
    """Both stages: one selected evaluation per (experiment, algorithm, target, trial).

    Parameters
    ----------
    evals
        `Collection.evaluations()`.
    name
        ``"training"``, ``"lodo"``, ``"oracle"`` or ``"fair"`` (see the module docstring).
    dp_threshold
        The validation DP-ratio floor of ``"fair"``.

    Returns
    -------
    pandas.DataFrame
        The selected rows of `evals` with the columns ``score`` (the validation score that
        chose them), ``tier`` (2: not degenerate and within its run's constraint, 1: outside
        it, 0: degenerate) and ``selection`` (the method).
    """
    per_run = select_steps(evals, name, dp_threshold)
    if per_run.empty:
        return per_run.reset_index(drop=True)
    chosen = _best(per_run, GROUP, ["hparams_seed", "candidate"])
    return chosen.sort_values(GROUP, kind="stable").reset_index(drop=True)


__all__ = [
    "GROUP",
    "METHODS",
    "SelectionMethod",
    "degenerate",
    "label",
    "lodo_scores",
    "method",
    "ranked",
    "scores",
    "select",
    "select_steps",
]
