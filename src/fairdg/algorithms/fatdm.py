"""FATDM: fairness and accuracy under domain generalisation (Pham, Zhang & Zhang, ICLR 2023,
"Fairness and Accuracy under Domain Generalization"; authors' code pth1993/FATDM,
``FATDM/models/fatdm.py``).

Two domain-transformation models between source domains are learned first: one maps x from its
domain to another while keeping the class y (``domain_y_transfer``), the other keeping the
(class, sensitive group) cell (``domain_ya_transfer``; the authors train StarGANs per
condition). The classifier's representation g must be invariant under both, which matches
P(g(X) | Y) (accuracy) and P(g(X) | Y, Z) (equalised odds) across domains; a fairness loss is
added (the code's ``MeanLoss``). One update is one Adam step on

    CE(f(x), y) + alpha * (||g(T_y(x)) - g(x)||^2 + ||g(T_yz(x)) - g(x)||^2) + w * L_fair

with mean squared distances and the target domain of each row drawn by permuting the batch's
domains (as the code). L_fair is the code's mean-gap loss for equalised odds: the sum over
classes y of (mean log p(1 | x; z = 1, y) - mean log p(1 | x; z = 0, y))^2 (log-sigmoid of the
code's single logit; log-softmax of class 1 here).

Where we differ: one transformation model T (`fairdg.transformation`, trained without the
sensitive factor on the source domains) stands in for both StarGANs: x is translated to domain
d' by decoding its content with the style code of a random row of domain d' *with the same y*
(T_y) or *the same (y, z)* (T_yz) in the minibatch (exemplar-guided translation). A row whose
condition has no row of another domain in the batch is left untranslated (distance 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F

from fairdg.algorithms.constrained import WithTransformation, random_partners
from fairdg.data.base import Batch, cat
from fairdg.hparams import HParam, Interval, LogUniform


def equalized_odds_gap(scores: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Sum over classes of the squared difference between the groups' mean scores (the largest
    difference for more than two groups; classes with one group in the batch add 0)."""
    total = scores.sum() * 0.0
    for c in torch.unique(y):
        rows = y == c
        groups = torch.unique(z[rows])
        if len(groups) < 2:
            continue
        means = torch.stack([scores[rows & (z == g)].mean() for g in groups])
        total = total + (means.max() - means.min()) ** 2
    return total


class FATDM(WithTransformation):
    """CE + invariance of g under class- and cell-preserving domain translations + EO loss."""

    HPARAMS: ClassVar[dict[str, HParam]] = {
        "fatdm_alpha": HParam(
            1.0, LogUniform(-2, 1), "weight of the invariance terms", Interval(0)
        ),
        "fatdm_fair_weight": HParam(
            1.0,
            LogUniform(-2, 1),
            "weight of the equalised-odds mean-difference loss",
            Interval(0),
        ),
    }

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        x, y, z, domain = cat(batches)
        features = self.featurizer(x)
        logits = self.classifier(features)
        ce = F.cross_entropy(logits, y)
        x_y = self.swap_style(x, random_partners(y, group=domain))
        x_yz = self.swap_style(x, random_partners(y * self.num_groups + z, group=domain))
        reg_y = F.mse_loss(self.featurizer(x_y), features)
        reg_yz = F.mse_loss(self.featurizer(x_yz), features)
        fair = equalized_odds_gap(F.log_softmax(logits, dim=1)[:, -1], y, z)
        h = self.hparams
        loss = ce + h["fatdm_alpha"] * (reg_y + reg_yz) + h["fatdm_fair_weight"] * fair
        stats = {
            "loss": loss.item(),
            "ce": ce.item(),
            "reg_y": reg_y.item(),
            "reg_yz": reg_yz.item(),
            "eo_gap": fair.item(),
        }
        total = self.add_fairness(loss, logits, z, stats, y)
        self.step(total)
        return stats
