"""EIIL: environment inference for invariant learning (Creager, Jacobsen & Zemel, ICML 2021).

Three stages, as in the paper (section 3) and the authors' code (ecreager/eiil,
``opt_env/utils/opt_utils.py``, ``split_data_opt``):

1. a reference model is trained by ERM (the first ``eiil_ref_steps`` updates; it is then frozen);
2. environment inference (EI): a soft assignment ``q_i = sigmoid(w_i)`` of each sample to one of
   two environments *maximises* the IRMv1 penalty of the reference model,
   ``sum_e || d/ds R_e(s * f_ref) ||^2`` with ``R_1 = mean_i q_i l_i``,
   ``R_2 = mean_i (1 - q_i) l_i`` (Adam on w, ``eiil_ei_steps`` steps at ``eiil_ei_lr``), then
   each sample goes to the environment of its larger weight;
3. a fresh classifier is trained with IRM (IRMv1 penalty, weight ``eiil_irm_lambda``) on the
   inferred environments.

The derivative ``g_i = d l_i(s * f_ref(x_i)) / ds`` at ``s = 1`` is a fixed number per sample, so
the EI objective is ``(mean q g)^2 + (mean (1 - q) g)^2``: cheap to optimise.

Where we differ: the authors infer environments once on the whole pooled training set (10,000
Adam steps at lr 1e-3); an `Algorithm` sees only minibatches, so we run EI on every minibatch of
stage 3 with the frozen reference model (fewer steps, larger lr). The observed domains are
ignored after stage 1, as in EIIL (it does not need domain labels). ``predict`` uses the
reference model until stage 3 starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch, cat
from fairdg.hparams import Fixed, HParam, Interval, LogUniform
from fairdg.losses import irm_penalty
from fairdg.networks import build_classifier, build_featurizer


def scale_gradients(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``g_i = d CE(s * logits_i, y_i) / ds`` at s = 1, for each row (no graph kept)."""
    logits = logits.detach()
    with torch.enable_grad():
        scale = torch.ones(len(y), device=logits.device, requires_grad=True)
        losses = F.cross_entropy(logits * scale[:, None], y, reduction="none")
        (grad,) = torch.autograd.grad(losses.sum(), [scale])
    return grad


def infer_environments(grads: torch.Tensor, steps: int, lr: float) -> torch.Tensor:
    """EI: soft assignment maximising the two environments' IRMv1 penalties; returns the hard
    environment (0 or 1) of each row. ``w`` starts from N(0, 1) (torch's global generator)."""
    w = torch.randn(len(grads), device=grads.device, requires_grad=True)
    optimizer = torch.optim.Adam([w], lr=lr)
    with torch.enable_grad():
        for _ in range(steps):
            q = torch.sigmoid(w)
            penalty = (q * grads).mean() ** 2 + ((1 - q) * grads).mean() ** 2
            optimizer.zero_grad()
            (-penalty).backward()
            optimizer.step()
    return (w.detach() > 0).long()


class EIIL(FeaturizerClassifier):
    """ERM reference model, environment inference, then IRM on the inferred environments."""

    HPARAMS: ClassVar[dict[str, HParam]] = {
        "eiil_ref_steps": HParam(
            500,
            LogUniform(1, 3.5, integer=True),
            "ERM updates of the reference model",
            Interval(0, integer=True),
        ),
        "eiil_ei_steps": HParam(
            50, Fixed(), "Adam steps of environment inference per batch", Interval(1, integer=True)
        ),
        "eiil_ei_lr": HParam(
            0.1, Fixed(), "learning rate of environment inference", Interval(0, low_open=True)
        ),
        "eiil_irm_lambda": HParam(
            1e2, LogUniform(-1, 5), "IRM penalty weight on the inferred environments", Interval(0)
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reference = nn.Sequential(
            build_featurizer(self.input_shape, self.hparams),
            build_classifier(self.featurizer.n_outputs, self.num_classes),
        )
        self.ref_optimizer = self.make_optimizer(self.reference.parameters())
        self.register_buffer("update_count", torch.zeros((), dtype=torch.long))

    @property
    def inferring(self) -> bool:
        """True once the reference model is trained (stage 3)."""
        return int(self.update_count) >= int(self.hparams["eiil_ref_steps"])

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x) if self.inferring else self.reference(x)

    def featurize(self, x: torch.Tensor) -> torch.Tensor:
        return self.featurizer(x) if self.inferring else self.reference[0](x)

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        x, y, z, _ = cat(batches)
        if not self.inferring:  # stage 1: the ERM reference model
            logits = self.reference(x)
            loss = F.cross_entropy(logits, y)
            stats = {"loss": loss.item(), "ref_ce": loss.item()}
            total = self.add_fairness(loss, logits, z, stats, y)
            self.ref_optimizer.zero_grad(set_to_none=True)
            total.backward()
            self.ref_optimizer.step()
            self.update_count += 1
            return stats
        envs = self.environments(x, y)
        logits = self.network(x)
        risks, penalties = [], []
        for e in (0, 1):
            rows = envs == e
            if rows.any():
                risks.append(F.cross_entropy(logits[rows], y[rows]))
                penalties.append(irm_penalty(logits[rows], y[rows]))
        nll, penalty = torch.stack(risks).mean(), torch.stack(penalties).mean()
        loss = nll + self.hparams["eiil_irm_lambda"] * penalty
        stats = {"loss": loss.item(), "nll": nll.item(), "penalty": penalty.item()}
        stats["env1_share"] = envs.float().mean().item()
        total = self.add_fairness(loss, logits, z, stats, y)
        self.step(total)
        self.update_count += 1
        return stats

    @torch.no_grad()
    def environments(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Stage 2 on one batch: the inferred environment (0/1) of each row."""
        grads = scale_gradients(self.reference(x), y)
        return infer_environments(
            grads, int(self.hparams["eiil_ei_steps"]), float(self.hparams["eiil_ei_lr"])
        )

    def extra_state(self) -> dict[str, Any]:
        return {**super().extra_state(), "ref_optimizer": self.ref_optimizer.state_dict()}

    def load_extra(self, state: dict[str, Any]) -> None:
        super().load_extra(state)
        if "ref_optimizer" in state:
            self.ref_optimizer.load_state_dict(state["ref_optimizer"])
