"""GroupDRO: distributionally robust optimisation over groups (Sagawa, Koh, Hashimoto & Liang
2020, algorithm 1).

Objective: minimise the worst group's risk through a soft maximum. The group weights ``q``
follow exponentiated-gradient ascent, ``q_g <- q_g exp(eta R_g)`` then normalised to sum to 1,
and the model takes one Adam step on ``sum_g q_g R_g``. Groups are the training domains
(DomainBed) or, with ``groupdro_groups=domain_sensitive``, the (domain, sensitive group) pairs:
the fairness user's variant, which protects the worst-off group within every domain. A group
absent from a minibatch keeps its weight and adds nothing to the loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch, cat
from fairdg.hparams import Fixed, HParam, Interval, LogUniform, OneOf

GROUPINGS = ("domain", "domain_sensitive")


class GroupDRO(FeaturizerClassifier):
    """Exponentiated weights over groups; loss = weighted sum of group risks."""

    HPARAMS = {
        "groupdro_eta": HParam(
            1e-2, LogUniform(-3, -1), "step size of the group-weight ascent", Interval(0)
        ),
        "groupdro_groups": HParam(
            "domain",
            Fixed(),
            "groups: 'domain' or 'domain_sensitive' (domain x sensitive group)",
            OneOf(GROUPINGS),
        ),
    }

    q: torch.Tensor  # a registered buffer

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        grouping = self.hparams["groupdro_groups"]
        per_domain = self.num_groups if grouping == "domain_sensitive" else 1
        n = self.num_domains * per_domain
        self.register_buffer("q", torch.full((n,), 1.0 / n))

    def group_index(self, batch: Batch, domain: int) -> torch.Tensor:
        """Group of every row: the domain, or ``domain * num_groups + z``."""
        if self.hparams["groupdro_groups"] == "domain":
            return torch.full_like(batch.y, domain)
        return domain * self.num_groups + batch.z

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        pooled = cat(batches)
        x = pooled.x
        y = pooled.y
        groups = torch.cat([self.group_index(b, i) for i, b in enumerate(batches)])
        logits = self.predict(x)
        losses = F.cross_entropy(logits, y, reduction="none")
        n = len(self.q)
        counts = torch.bincount(groups, minlength=n).to(losses.dtype)
        sums = losses.new_zeros(n).index_add(0, groups, losses)
        present = counts > 0
        risks = sums / counts.clamp_min(1)

        # exponentiated-gradient step on the weights of the groups seen in this batch
        with torch.no_grad():
            q = self.q * torch.where(
                present, torch.exp(self.hparams["groupdro_eta"] * risks), torch.ones_like(risks)
            )
            self.q.copy_(q / q.sum())
        loss = (self.q * risks).sum()
        stats = {
            "loss": loss.item(),
            "worst_risk": risks[present].max().item(),
            "max_weight": self.q.max().item(),
        }
        total = self.add_fairness(loss, logits, pooled.z, stats, pooled.y)
        self.step(total)
        return stats
