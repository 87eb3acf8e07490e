"""V-REx: risk extrapolation (Krueger et al. 2021, "Out-of-distribution generalization via risk
extrapolation").

Objective: the mean of the training domains' cross-entropy risks plus ``lambda_t`` times their
variance. ``lambda_t`` is 1 for the first ``vrex_penalty_anneal_iters`` updates and
``vrex_lambda`` after, with Adam reset at the switch (as DomainBed does for IRM). One update is
one Adam step on that objective (plus the optional relaxed-DP penalty, ``fair_lambda``).
"""

from __future__ import annotations

from fairdg.algorithms.annealed import AnnealedPenalty
from fairdg.hparams import HParam, Interval, LogUniform
from fairdg.losses import vrex_penalty


class VREx(AnnealedPenalty):
    """Mean domain risk + the variance of the domain risks, annealed."""

    HPARAMS = {
        "vrex_lambda": HParam(
            1e1, LogUniform(-1, 5), "variance penalty weight after annealing", Interval(0)
        ),
        "vrex_penalty_anneal_iters": HParam(
            500,
            LogUniform(0, 4, integer=True),
            "updates with penalty weight 1 before vrex_lambda",
            Interval(0, integer=True),
        ),
    }
    LAMBDA = "vrex_lambda"
    ANNEAL = "vrex_penalty_anneal_iters"

    def penalty(self, logits, ys, risks):
        return vrex_penalty(risks)
