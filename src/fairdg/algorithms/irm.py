"""IRM: invariant risk minimisation (Arjovsky, Bottou, Gulrajani & Lopez-Paz 2019), IRMv1.

Objective: the mean over training domains of the cross-entropy plus ``lambda_t`` times the mean
over domains of the IRMv1 penalty (the squared gradient of the domain's risk with respect to a
dummy scale on the logits, estimated without bias from the two halves of the domain's batch).
``lambda_t`` is 1 for the first ``irm_penalty_anneal_iters`` updates and ``irm_lambda`` after;
Adam is reset at the switch because the gradient scale jumps (as in DomainBed). One update is
one Adam step on that objective (plus the optional relaxed-DP penalty, ``fair_lambda``).

`AnnealedPenalty` is shared with V-REx (`fairdg.algorithms.vrex`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F

from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch, cat
from fairdg.hparams import HParam, Interval, LogUniform
from fairdg.losses import irm_penalty


class AnnealedPenalty(FeaturizerClassifier):
    """Mean domain risk + ``lambda_t * penalty``, with weight 1 until the anneal step, then the
    full weight and a fresh Adam. Subclasses name their two knobs and define `penalty`.
    """

    LAMBDA: ClassVar[str]
    ANNEAL: ClassVar[str]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # counts updates; a buffer so that it is checkpointed with the weights
        self.register_buffer("update_count", torch.zeros((), dtype=torch.long))

    def penalty(
        self, logits: list[torch.Tensor], ys: list[torch.Tensor], risks: torch.Tensor
    ) -> torch.Tensor:
        raise NotImplementedError

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        count = int(self.update_count)
        anneal = int(self.hparams[self.ANNEAL])
        weight = float(self.hparams[self.LAMBDA]) if count >= anneal else 1.0
        if count == anneal:
            self.optimizer = self.make_optimizer(self.network.parameters())

        pooled = cat(batches)
        logits = self.predict(pooled.x)
        per_domain = list(torch.split(logits, [len(b.y) for b in batches]))
        ys = [b.y for b in batches]
        risks = torch.stack([F.cross_entropy(lg, y) for lg, y in zip(per_domain, ys, strict=True)])
        nll = risks.mean()
        penalty = self.penalty(per_domain, ys, risks)
        loss = nll + weight * penalty
        stats = {"loss": loss.item(), "nll": nll.item(), "penalty": penalty.item()}
        total = self.add_fairness(loss, logits, pooled.z, stats)
        self.step(total)
        self.update_count += 1
        return stats


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
