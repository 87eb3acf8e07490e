"""DANN and CDANN: domain-adversarial representations, as in DomainBed.

- DANN (Ganin et al. 2016, "Domain-adversarial training of neural networks"): a discriminator
  predicts the training domain of a representation; the featurizer and classifier minimise the
  cross-entropy minus ``dann_lambda`` times the discriminator's loss.
- CDANN (Li et al. 2018, "Deep domain generalization via conditional invariant adversarial
  networks"): the discriminator sees the representation plus a learned embedding of the class,
  and its loss weights every class equally (class-conditional invariance).

Updates alternate: of every ``1 + d_steps_per_g_step`` updates, ``d_steps_per_g_step`` are
discriminator steps (its own Adam, on its loss plus ``dann_grad_penalty`` times the squared
gradient of its summed loss with respect to its input) and one is a generator step (featurizer
and classifier). Both Adams use ``betas = (dann_beta1, 0.9)``. The optional relaxed-DP penalty
(``fair_lambda``) is added to the generator's loss. Unlike DomainBed, the gradient penalty
enters the discriminator's loss only (the generator does not maximise it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch, cat
from fairdg.hparams import Choice, HParam, Interval, LogUniform


def mlp(n_inputs: int, n_outputs: int, width: int, depth: int, dropout: float) -> nn.Sequential:
    """``depth`` linear layers (``depth >= 2``) with ReLU and dropout between them."""
    layers: list[nn.Module] = []
    size = n_inputs
    for _ in range(depth - 1):
        layers += [nn.Linear(size, width), nn.ReLU(), nn.Dropout(dropout)]
        size = width
    layers.append(nn.Linear(size, n_outputs))
    return nn.Sequential(*layers)


class AdversarialBase(FeaturizerClassifier):
    """Featurizer + classifier (generator) against a domain discriminator."""

    HPARAMS = {
        "dann_lambda": HParam(
            1.0, LogUniform(-2, 2), "weight of the adversarial term", Interval(0)
        ),
        "dann_grad_penalty": HParam(
            0.0, LogUniform(-2, 1), "disc. input-gradient penalty", Interval(0)
        ),
        "dann_beta1": HParam(
            0.5,
            Choice((0.0, 0.5)),
            "Adam beta1 of both optimisers",
            Interval(0, 1, high_open=True),
        ),
        "d_steps_per_g_step": HParam(
            1,
            LogUniform(0, 3, base=2, integer=True),
            "discriminator steps per generator step",
            Interval(1, integer=True),
        ),
        "disc_width": HParam(
            256,
            LogUniform(6, 10, base=2, integer=True),
            "discriminator width",
            Interval(1, integer=True),
        ),
        "disc_depth": HParam(
            3, Choice((3, 4, 5)), "discriminator linear layers", Interval(2, integer=True)
        ),
        "disc_dropout": HParam(
            0.0, Choice((0.0, 0.1, 0.5)), "discriminator dropout", Interval(0, 1, high_open=True)
        ),
    }
    conditional: ClassVar[bool] = False

    update_count: torch.Tensor  # a registered buffer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        depth = int(self.hparams["disc_depth"])
        rep = self.featurizer.n_outputs
        self.discriminator = mlp(
            rep,
            self.num_domains,
            int(self.hparams["disc_width"]),
            depth,
            float(self.hparams["disc_dropout"]),
        )
        disc_params = list(self.discriminator.parameters())
        if self.conditional:
            self.class_embeddings = nn.Embedding(self.num_classes, rep)
            disc_params += list(self.class_embeddings.parameters())
        self.disc_optimizer = self.make_optimizer(disc_params)
        self.register_buffer("update_count", torch.zeros((), dtype=torch.long))

    def make_optimizer(self, params) -> torch.optim.Optimizer:
        return torch.optim.Adam(
            params,
            lr=self.hparams["lr"],
            weight_decay=self.hparams["weight_decay"],
            betas=(self.hparams["dann_beta1"], 0.9),
            **self.adam_implementation(),
        )

    def disc_loss(
        self, features: torch.Tensor, y: torch.Tensor, d: torch.Tensor, grad_penalty: float = 0.0
    ) -> torch.Tensor:
        """The discriminator's cross-entropy (class-balanced for CDANN) + gradient penalty."""
        disc_input = features + self.class_embeddings(y) if self.conditional else features
        out = self.discriminator(disc_input)
        if self.conditional:  # every class present in the batch weighs the same in total
            counts = torch.bincount(y, minlength=self.num_classes)
            weights = 1.0 / (counts[y] * (counts > 0).sum()).to(out.dtype)
            loss = (weights * F.cross_entropy(out, d, reduction="none")).sum()
        else:
            loss = F.cross_entropy(out, d)
        if grad_penalty > 0:
            grad = torch.autograd.grad(
                F.cross_entropy(out, d, reduction="sum"), [disc_input], create_graph=True
            )[0]
            loss = loss + grad_penalty * grad.pow(2).sum(1).mean()
        return loss

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        self.update_count += 1
        pooled = cat(batches)
        x = pooled.x
        y = pooled.y
        d = torch.cat([torch.full_like(b.y, i) for i, b in enumerate(batches)])
        d_steps = int(self.hparams["d_steps_per_g_step"])
        self.optimizer.zero_grad(set_to_none=True)
        self.disc_optimizer.zero_grad(set_to_none=True)

        if int(self.update_count) % (1 + d_steps) < d_steps:  # discriminator step
            gp = float(self.hparams["dann_grad_penalty"])
            with torch.no_grad():
                features = self.featurize(x)
            loss = self.disc_loss(features.requires_grad_(gp > 0), y, d, gp)
            loss.backward()
            self.disc_optimizer.step()
            return {"disc_loss": loss.item()}

        features = self.featurize(x)  # generator step
        logits = self.classifier(features)
        nll = F.cross_entropy(logits, y)
        disc = self.disc_loss(features, y, d)
        loss = nll - self.hparams["dann_lambda"] * disc
        stats = {"loss": nll.item(), "gen_loss": loss.item(), "disc_loss": disc.item()}
        loss = self.add_fairness(loss, logits, pooled.z, stats, pooled.y)
        loss.backward()
        self.optimizer.step()
        return stats

    def extra_state(self) -> dict[str, Any]:
        return {**super().extra_state(), "disc_optimizer": self.disc_optimizer.state_dict()}

    def load_extra(self, state: Mapping[str, Any]) -> None:
        super().load_extra(state)
        if "disc_optimizer" in state:
            self.disc_optimizer.load_state_dict(state["disc_optimizer"])


class DANN(AdversarialBase):
    """Unconditional domain-adversarial training."""


class CDANN(AdversarialBase):
    """Class-conditional, class-balanced domain-adversarial training."""

    conditional = True
