"""MLDG: meta-learning for domain generalisation (Li, Yang, Song & Hospedales 2018), first-order,
as in DomainBed.

Objective: ``L_train(theta) + beta * L_test(theta - alpha grad L_train(theta))``, where each
update splits the training domains at random into meta-train and meta-test domains (the last
``mldg_n_meta_test`` of a permutation, at most all but one) and pairs every meta-train domain
with a meta-test domain. For each pair, a copy of the network takes one fresh-Adam step on the
meta-train risk; the gradient of the meta-train risk at ``theta`` and ``beta`` times the
gradient of the meta-test risk at the adapted copy (first order: no second derivatives) are
accumulated, divided by the number of domains, and the model takes one Adam step with their
sum. With one training domain its batch is split in halves. The optional relaxed-DP penalty
(``fair_lambda``) adds its gradient on the real pooled batch at ``theta``.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch, cat
from fairdg.hparams import Choice, HParam, Interval, LogUniform

Pair = tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def meta_train_test_pairs(batches: Sequence[Batch], n_meta_test: int) -> list[Pair]:
    """Pairs ((x_i, y_i), (x_j, y_j)) of meta-train and meta-test data, cut to a common size."""
    if len(batches) == 1:
        x, y = batches[0].x, batches[0].y
        half = len(y) // 2
        return [((x[:half], y[:half]), (x[half : 2 * half], y[half : 2 * half]))]
    n_test = min(max(1, n_meta_test), len(batches) - 1)
    perm = torch.randperm(len(batches)).tolist()
    meta_train, meta_test = perm[:-n_test], perm[-n_test:]
    pairs = []
    for i, j in zip(meta_train, itertools.cycle(meta_test)):
        n = min(len(batches[i].y), len(batches[j].y))
        pairs.append(((batches[i].x[:n], batches[i].y[:n]), (batches[j].x[:n], batches[j].y[:n])))
    return pairs


class MLDG(FeaturizerClassifier):
    """First-order MLDG."""

    HPARAMS = {
        "mldg_beta": HParam(
            1.0, LogUniform(-1, 1), "weight of the meta-test gradient", Interval(0)
        ),
        "mldg_n_meta_test": HParam(
            2, Choice((1, 2)), "meta-test domains per update", Interval(1, integer=True)
        ),
    }

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        beta = float(self.hparams["mldg_beta"])
        n_domains = len(batches)
        params = list(self.network.parameters())
        self.optimizer.zero_grad(set_to_none=False)
        accumulated = []  # the parameters' .grad, summed into across meta-train/test pairs
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            accumulated.append(p.grad)

        objective = 0.0
        for (xi, yi), (xj, yj) in meta_train_test_pairs(batches, self.hparams["mldg_n_meta_test"]):
            # inner step on a copy: the copy ends at theta - Adam step, with grads G_i at theta
            inner = copy.deepcopy(self.network)
            inner_opt = self.make_optimizer(inner.parameters())
            inner_loss = F.cross_entropy(inner(xi), yi)
            inner_opt.zero_grad()
            inner_loss.backward()
            inner_opt.step()
            for acc, q in zip(accumulated, inner.parameters(), strict=True):
                if q.grad is not None:
                    acc.add_(q.grad / n_domains)
            # meta-test gradient G_j at the adapted copy, first order
            outer_loss = F.cross_entropy(inner(xj), yj)
            grads = torch.autograd.grad(outer_loss, list(inner.parameters()), allow_unused=True)
            for acc, g in zip(accumulated, grads, strict=True):
                if g is not None:
                    acc.add_(beta * g / n_domains)
            objective += inner_loss.item() + beta * outer_loss.item()

        stats = {"loss": objective / n_domains}
        if self.fairness_on:
            pooled = cat(batches)
            logits = self.predict(pooled.x)
            zero = logits.sum() * 0.0
            fair = self.add_fairness(zero, logits, pooled.z, stats, pooled.y)
            fair.backward()  # adds the penalty's gradient to the accumulated G_i + beta G_j
        self.optimizer.step()
        return stats
