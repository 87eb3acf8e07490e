"""The FDDG paper's model selection, as we read it: leave-one-training-domain-out accuracy among
non-degenerate evaluations, with the leave-one-domain-out fairness recorded beside it.

What the paper says (seed 004, appendix C.6 and C.7, verbatim):

    "We monitor the accuracy and the value of fairness metrics from the validation set and
    select the best ones." (C.6)

    "The model selection in domain generalization is intrinsically a learning problem, followed
    by [12], we use leave-one-domain-out validation criteria, which is one of the three selection
    methods stated in [48]. Specifically, we evaluate FDDG on the held-out training domain and
    average the performance of domains over the held-out one." (C.7; [12] is MBDG, [48]
    DomainBed)

Our reading (rule ``"paper"``):

1. *The validation set* is C.7's: for target ``t`` and every source ``s``, a run with the same
   configuration and trial trained without ``t`` and ``s`` is evaluated on all rows of ``s``;
   an evaluation's score is the mean over the sources of those accuracies at the same step
   (DomainBed's leave-one-domain-out, `fairdg.reporting.selection.lodo_scores`).
2. *Select the best ones*: the highest score, per run (the step) and then per group (the
   configuration), as in MBDG and DomainBed, which select on accuracy. The paper does not say
   how accuracy and fairness are combined; we select on accuracy alone and *monitor* fairness:
   the selected evaluation carries its leave-one-domain-out DP ratio and positive rate (means
   over the held-out sources), reported beside it. A rule that trades accuracy for fairness
   on validation would need a threshold or a weight the paper does not give (the former
   default, validation DP ratio >= 0.8, is kept as ``fair-threshold`` and is ours).
3. *Never a constant predictor*: an evaluation is not eligible when its own validation
   predictions (``val``: the sources' pooled validation rows) are degenerate
   (`fairdg.metrics.degenerate`: positive rate outside [0.02, 0.98] or no score spread), or
   when the model of any of its leave-one-domain-out folds is degenerate on its held-out
   source (the fold's recorded flags, or its pooled positive rate outside the bound). A
   constant model has a DP ratio of 1 and an accuracy equal to the majority share: both say
   nothing about the method.

A group whose evaluations are all ineligible has no selection (the reproductions then say
why). Ties: the earliest step, then the lowest hyperparameter seed. Pure pandas, no torch.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from fairdg.metrics.degenerate import DEFAULT_MIN_POSITIVE_RATE
from fairdg.reporting.selection import GROUP

NAME = "paper"
LABEL = (
    "leave-one-training-domain-out accuracy among non-degenerate evaluations, fairness "
    "recorded (our reading of FDDG appendix C.6-C.7)"
)
_MATCH = ["experiment", "algorithm", "candidate", "trial", "target", "step"]
FOLD_COLUMNS = ("lodo_accuracy", "lodo_dp_ratio", "lodo_positive_rate", "lodo_degenerate")


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].astype(float)
    return pd.Series(np.nan, index=frame.index)


def flagged(frame: pd.DataFrame, set_name: str) -> pd.Series:
    """Whether each evaluation's `set_name` predictions are flagged degenerate (unknown:
    not flagged)."""
    return _column(frame, f"{set_name}.degenerate").fillna(0.0) > 0


def held_out_metrics(frame: pd.DataFrame, domain: str) -> pd.DataFrame:
    """Accuracy, positive rate, DP ratio and degeneracy of each evaluation on all rows of a
    held-out `domain` (its ``val`` and ``test`` parts pooled by their sizes).

    The pooled selection rate of group g is sum(rate_g * n_g) / sum(n_g) over the parts; the
    DP ratio is the smallest group rate over the largest (NaN when the largest is 0).
    """
    total, correct, positive = (pd.Series(0.0, index=frame.index) for _ in range(3))
    rated: dict[str, pd.Series] = {}
    counted: dict[str, pd.Series] = {}
    marked = pd.Series(False, index=frame.index)
    for part in ("val", "test"):
        name = f"{domain}/{part}"
        n = _column(frame, f"{name}.n").fillna(0.0)
        total += n
        correct += (_column(frame, f"{name}.accuracy") * n).fillna(0.0)
        positive += (_column(frame, f"{name}.positive_rate") * n).fillna(0.0)
        marked |= flagged(frame, name)
        for column in frame.columns:
            if column.startswith(f"{name}.count/"):
                group = column.rpartition("count/")[2]
                n_g = _column(frame, column).fillna(0.0)
                rate = _column(frame, f"{name}.selection_rate/{group}")
                counted[group] = counted.get(group, 0.0) + n_g
                rated[group] = rated.get(group, 0.0) + (rate * n_g).fillna(0.0)
    rates = pd.DataFrame({g: rated[g] / counted[g].where(counted[g] > 0) for g in rated})
    top = rates.max(axis=1) if len(rates.columns) else pd.Series(np.nan, index=frame.index)
    low = rates.min(axis=1) if len(rates.columns) else pd.Series(np.nan, index=frame.index)
    size = total.where(total > 0)
    rate = positive / size
    bound = DEFAULT_MIN_POSITIVE_RATE
    return pd.DataFrame(
        {
            "lodo_accuracy": correct / size,
            "lodo_positive_rate": rate,
            "lodo_dp_ratio": low / top.where(top > 0),
            "lodo_degenerate": marked | (rate < bound) | (rate > 1 - bound),
        },
        index=frame.index,
    )


def fold_metrics(evals: pd.DataFrame) -> pd.DataFrame:
    """Per (experiment, algorithm, candidate, trial, target, step): the mean over held-out
    sources of the folds' metrics, whether any fold is degenerate, and how many folds have an
    accuracy (``found``)."""
    aux = evals[(evals["status"] == "done") & (evals["n_test"] == 2)]
    pieces = []
    for key, part in aux.groupby("test_domains", sort=False):
        pair = cast(tuple[str, str], key)  # the stubs type a group key as a scalar
        for target, held in ((pair[0], pair[1]), (pair[1], pair[0])):
            piece = part[["experiment", "algorithm", "candidate", "trial", "step"]].copy()
            piece["target"], piece["val_domain"] = target, held
            pieces.append(piece.join(held_out_metrics(part, held)))
    if not pieces:
        return pd.DataFrame(columns=[*_MATCH, *FOLD_COLUMNS, "found"]).set_index(_MATCH)
    long = pd.concat(pieces).dropna(subset=["lodo_accuracy"])
    return long.groupby(_MATCH).agg(
        lodo_accuracy=("lodo_accuracy", "mean"),
        lodo_dp_ratio=("lodo_dp_ratio", "mean"),
        lodo_positive_rate=("lodo_positive_rate", "mean"),
        lodo_degenerate=("lodo_degenerate", "any"),
        found=("val_domain", "nunique"),
    )


def paper_scores(evals: pd.DataFrame) -> pd.DataFrame:
    """The evaluations that can be selected (complete runs holding out one domain) with their
    fold metrics and ``score``: the leave-one-domain-out accuracy, NaN when not eligible."""
    main = evals[(evals["status"] == "done") & (evals["n_test"] == 1)]
    folds = fold_metrics(evals)
    joined = main[_MATCH + ["n_domains"]].merge(
        folds, left_on=_MATCH, right_index=True, how="left"
    )
    joined.index = main.index  # a left merge on unique keys keeps the rows and their order
    complete = joined["found"] == joined["n_domains"] - 1
    eligible = complete & ~joined["lodo_degenerate"].astype("boolean").fillna(True)
    eligible &= ~flagged(main, "val")
    out = joined[list(FOLD_COLUMNS)].copy()
    out["lodo_degenerate"] = out["lodo_degenerate"].astype("boolean")
    out["score"] = joined["lodo_accuracy"].where(eligible.astype(bool))
    return out


def select_paper(evals: pd.DataFrame) -> pd.DataFrame:
    """One selected evaluation per (experiment, algorithm, target, trial) by rule ``"paper"``
    (module docstring): the rows of `evals` with ``score``, the fold metrics and
    ``selection``."""
    scored = paper_scores(evals)
    main = evals.loc[scored.index].drop(columns=[c for c in scored if c in evals], errors="ignore")
    main = main.join(scored).dropna(subset=["score"])
    if main.empty:
        return main.assign(selection=NAME).reset_index(drop=True)
    per_run = main.sort_values(["run_id", "score", "step"], ascending=[True, False, True])
    per_run = per_run.groupby("run_id", sort=False).head(1)
    order = [*GROUP, "score", "hparams_seed", "candidate"]
    ascending = [True] * len(GROUP) + [False, True, True]
    chosen = per_run.sort_values(order, ascending=ascending, kind="stable")
    chosen = chosen.groupby(GROUP, sort=False).head(1)
    return chosen.assign(selection=NAME).reset_index(drop=True)


__all__ = [
    "FOLD_COLUMNS",
    "LABEL",
    "NAME",
    "flagged",
    "fold_metrics",
    "held_out_metrics",
    "paper_scores",
    "select_paper",
]
