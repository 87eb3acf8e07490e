"""IRM: invariant risk minimisation (Arjovsky, Bottou, Gulrajani & Lopez-Paz 2019), IRMv1.

Objective: the mean over training domains of the cross-entropy plus ``lambda_t`` times the mean
over domains of the IRMv1 penalty (the squared gradient of the domain's risk with respect to a
dummy scale on the logits, estimated without bias from the two halves of the domain's batch).
``lambda_t`` is 1 for the first ``irm_penalty_anneal_iters`` updates and ``irm_lambda`` after;
Adam is reset at the switch because the gradient scale jumps (as in DomainBed). One update is
one Adam step on that objective (plus the optional relaxed-DP penalty, ``fair_lambda``).

The annealing schedule is `fairdg.algorithms.annealed.AnnealedPenalty`, shared with V-REx.
"""

from __future__ import annotations

import torch

from fairdg.algorithms.annealed import AnnealedPenalty
from fairdg.hparams import HParam, Interval, LogUniform
from fairdg.losses import irm_penalty


class IRM(AnnealedPenalty):
    """Cross-entropy + the IRMv1 penalty, annealed."""

    HPARAMS = {
        "irm_lambda": HParam(
            1e2, LogUniform(-1, 5), "IRM penalty weight after annealing", Interval(0)
        ),
        "irm_penalty_anneal_iters": HParam(
            500,
            LogUniform(0, 4, integer=True),
            "updates with penalty weight 1 before irm_lambda",
            Interval(0, integer=True),
        ),
    }
    LAMBDA = "irm_lambda"
    ANNEAL = "irm_penalty_anneal_iters"

    def penalty(self, logits, ys, risks):
        return torch.stack([irm_penalty(lg, y) for lg, y in zip(logits, ys, strict=True)]).mean()
