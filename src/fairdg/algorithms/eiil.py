"""EIIL: environment inference for invariant learning (Creager, Jacobsen & Zemel, ICML 2021).

Three stages, as in the paper (section 3) and the authors' code (ecreager/eiil,
``opt_env/irm_cmnist.py``; ``opt_env/utils/opt_utils.py``: ``split_data_opt``,
``train_irm_batch``):

1. a reference model is trained by ERM (the first ``eiil_ref_steps`` updates; it is then frozen);
2. environment inference (EI), **once, on the pooled training rows of every source domain**: a
   soft assignment ``q_i = sigmoid(w_i)`` of each row to one of two environments *maximises*
   the IRMv1 penalty of the reference model, ``sum_e || d/ds R_e(s * f_ref) ||^2`` with
   ``R_1 = mean_i q_i l_i``, ``R_2 = mean_i (1 - q_i) l_i`` (Adam on w from N(0, 1),
   ``eiil_ei_steps`` = 10,000 steps at ``eiil_ei_lr`` = 1e-3, the authors' values); each row
   goes to the environment of its larger weight;
3. a fresh classifier is trained with IRM on the two inferred environments, on the authors'
   schedule: penalty weight 1 for the first ``eiil_irm_anneal`` = 100 updates of this stage,
   then ``eiil_irm_lambda`` = 1e4 with the whole loss divided by it (to keep gradients in
   range), and an L2 term ``eiil_l2 * sum ||w||^2`` = 1e-3 over all weights (in both training
   stages, as their code).

The derivative ``g_i = d l_i(s * f_ref(x_i)) / ds`` at ``s = 1`` is a fixed number per row, so
the EI objective is ``(mean q g)^2 + (mean (1 - q) g)^2``: cheap to optimise even for 10,000
steps. The observed domains are ignored after stage 1, as in EIIL (it needs no domain labels):
each stage-3 update draws ``batch_size`` rows from each inferred environment (torch's global
generator, checkpointed by the training loop) instead of the loop's per-domain batches.
``predict`` uses the reference model until stage 3 starts.

Where we differ from the authors' code: their IRM stage is full-batch on each environment
with the squared gradient as penalty; ours takes minibatches of ``batch_size`` rows per
environment and DomainBed's unbiased estimate of that penalty (`fairdg.losses.irm_penalty`,
the product of the two half-batch gradients), whose expectation is the full-batch value. The
stage-1 reference model is our small network, not their MLP.

``eiil_inference="batch"`` (ours, the former default) infers environments on every stage-3
minibatch instead, with the loop's batches and the frozen reference model; with it use a few
steps at a large rate (``eiil_ei_steps=50``, ``eiil_ei_lr=0.1``).

The pooled rows come from the training loop: ``USES_TRAINING_DATA`` makes ``prepare`` pass the
sources' training rows as ``train_domains``. A model rebuilt for prediction needs none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch, Domain, cat
from fairdg.hparams import Fixed, HParam, Interval, LogUniform, OneOf
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


def squared_weights(module: nn.Module) -> torch.Tensor:
    """``sum ||w||^2`` over every parameter (the authors' L2 term, biases included)."""
    return torch.stack([p.pow(2).sum() for p in module.parameters()]).sum()


class EIIL(FeaturizerClassifier):
    """ERM reference model, environment inference, then IRM on the inferred environments."""

    USES_TRAINING_DATA: ClassVar[bool] = True
    HPARAMS: ClassVar[dict[str, HParam]] = {
        "eiil_ref_steps": HParam(
            500,
            LogUniform(1, 3.5, integer=True),
            "ERM updates of the reference model",
            Interval(0, integer=True),
        ),
        "eiil_inference": HParam(
            "pooled",
            Fixed(),
            "environment inference once on the pooled training rows (the authors') or on "
            "every minibatch ('batch', ours)",
            OneOf(("pooled", "batch")),
        ),
        "eiil_ei_steps": HParam(
            10_000, Fixed(), "Adam steps of environment inference", Interval(1, integer=True)
        ),
        "eiil_ei_lr": HParam(
            1e-3, Fixed(), "learning rate of environment inference", Interval(0, low_open=True)
        ),
        "eiil_irm_lambda": HParam(
            1e4, LogUniform(-1, 5), "IRM penalty weight after the anneal", Interval(0)
        ),
        "eiil_irm_anneal": HParam(
            100,
            Fixed(),
            "IRM-stage updates with penalty weight 1 before eiil_irm_lambda",
            Interval(0, integer=True),
        ),
        "eiil_l2": HParam(1e-3, Fixed(), "weight of the L2 term sum ||w||^2", Interval(0)),
    }

    update_count: torch.Tensor  # a registered buffer

    def __init__(
        self, *args: Any, train_domains: Sequence[Domain] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.reference = nn.Sequential(
            build_featurizer(self.input_shape, self.hparams),
            build_classifier(self.featurizer.n_outputs, self.num_classes),
        )
        self.ref_optimizer = self.make_optimizer(self.reference.parameters())
        self.register_buffer("update_count", torch.zeros((), dtype=torch.long))
        # the pooled training rows (kept out of the state dict: a saved model holds weights)
        self.train_domains = list(train_domains) if train_domains is not None else None
        self.env_rows: list[torch.Tensor] | None = None  # (domain, row) pairs per environment

    @property
    def inferring(self) -> bool:
        """True once the reference model is trained (stage 3)."""
        return int(self.update_count) >= int(self.hparams["eiil_ref_steps"])

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x) if self.inferring else self.reference(x)

    def featurize(self, x: torch.Tensor) -> torch.Tensor:
        return self.featurizer(x) if self.inferring else self.reference[0](x)

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        if not self.inferring:
            return self._reference_step(cat(batches))
        if self.hparams["eiil_inference"] == "batch":
            x, y, z, _ = cat(batches)
            envs = self.environments(x, y)
        else:
            x, y, z, envs = self._environment_batch(batches[0].x.device)
        return self._irm_step(x, y, z, envs)

    def _reference_step(self, batch: Batch) -> dict[str, float]:
        """Stage 1: ERM (mean CE of the pooled batch) + the L2 term on the reference model."""
        logits = self.reference(batch.x)
        ce = F.cross_entropy(logits, batch.y)
        loss = ce + self.hparams["eiil_l2"] * squared_weights(self.reference)
        stats = {"loss": loss.item(), "ref_ce": ce.item()}
        total = self.add_fairness(loss, logits, batch.z, stats, batch.y)
        self.ref_optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.ref_optimizer.step()
        self.update_count += 1
        return stats

    def _irm_step(self, x, y, z, envs) -> dict[str, float]:
        """Stage 3: mean environment risk + lambda_t * mean IRMv1 penalty + L2, divided by
        lambda_t once it exceeds 1 (the authors' ``train_irm_batch``)."""
        logits = self.network(x)
        risks, penalties = [], []
        for e in (0, 1):
            rows = envs == e
            if rows.any():
                risks.append(F.cross_entropy(logits[rows], y[rows]))
                penalties.append(irm_penalty(logits[rows], y[rows]))
        nll, penalty = torch.stack(risks).mean(), torch.stack(penalties).mean()
        irm_updates = int(self.update_count) - int(self.hparams["eiil_ref_steps"])
        weight = (
            float(self.hparams["eiil_irm_lambda"])
            if irm_updates >= int(self.hparams["eiil_irm_anneal"])
            else 1.0
        )
        loss = nll + self.hparams["eiil_l2"] * squared_weights(self.network) + weight * penalty
        if weight > 1.0:  # rescale the whole loss to keep gradients in range
            loss = loss / weight
        stats = {"loss": loss.item(), "nll": nll.item(), "penalty": penalty.item()}
        stats["penalty_weight"] = weight
        stats["env1_share"] = envs.float().mean().item()
        total = self.add_fairness(loss, logits, z, stats, y)
        self.step(total)
        self.update_count += 1
        return stats

    @torch.no_grad()
    def environments(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Stage 2 on the rows given: the inferred environment (0/1) of each row."""
        grads = scale_gradients(self.reference(x), y)
        return infer_environments(
            grads, int(self.hparams["eiil_ei_steps"]), float(self.hparams["eiil_ei_lr"])
        )

    def _domains(self) -> list[Domain]:
        if not self.train_domains:
            raise ValueError(
                "EIIL infers environments on the pooled training rows: build it with "
                "train_domains=split.train() (the training loop does), or use "
                "--hparam eiil_inference=batch"
            )
        return self.train_domains

    @torch.no_grad()
    def infer_pooled(self, device: torch.device) -> None:
        """Stage 2, once: environments of every pooled training row (reference model frozen).
        ``env_rows[e]`` holds the (domain, row) pairs of environment e (no pooled copy of the
        data is made)."""
        domains = self._domains()
        was_training = self.reference.training
        self.reference.eval()
        logits = [
            self.reference(d.x[i : i + 512].to(device))
            for d in domains
            for i in range(0, len(d), 512)
        ]
        self.reference.train(was_training)
        y = torch.cat([d.y for d in domains]).to(device)
        grads = scale_gradients(torch.cat(logits), y)
        envs = infer_environments(
            grads, int(self.hparams["eiil_ei_steps"]), float(self.hparams["eiil_ei_lr"])
        ).cpu()
        pairs = torch.cat(
            [
                torch.stack([torch.full((len(d),), k), torch.arange(len(d))], dim=1)
                for k, d in enumerate(domains)
            ]
        )
        self.env_rows = [pairs[envs == e] for e in (0, 1)]

    def _environment_batch(self, device: torch.device):
        """``batch_size`` rows drawn (with replacement) from each non-empty inferred
        environment, with their environment index."""
        if self.env_rows is None:
            self.infer_pooled(device)
        size = int(self.hparams["batch_size"])
        parts: list[list[torch.Tensor]] = [[], [], [], []]
        assert self.env_rows is not None  # set by infer_pooled
        for e, pairs in enumerate(self.env_rows):
            if not len(pairs):
                continue
            drawn = pairs[torch.randint(len(pairs), (size,))]
            for k, domain in enumerate(self._domains()):
                rows = drawn[drawn[:, 0] == k, 1]
                for i, a in enumerate("xyz"):
                    parts[i].append(getattr(domain, a)[rows])
                parts[3].append(torch.full((len(rows),), e, dtype=torch.long))
        x, y, z, envs = (torch.cat(p).to(device) for p in parts)
        return x, y, z, envs

    def extra_state(self) -> dict[str, Any]:
        state = {**super().extra_state(), "ref_optimizer": self.ref_optimizer.state_dict()}
        if self.env_rows is not None:
            state["env_rows"] = [rows.clone() for rows in self.env_rows]
        return state

    def load_extra(self, state: Mapping[str, Any]) -> None:
        super().load_extra(state)
        if "ref_optimizer" in state:
            self.ref_optimizer.load_state_dict(state["ref_optimizer"])
        if "env_rows" in state:
            self.env_rows = [torch.as_tensor(rows, dtype=torch.long) for rows in state["env_rows"]]
