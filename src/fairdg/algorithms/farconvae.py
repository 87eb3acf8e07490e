"""FarconVAE: fair representations by distributional contrastive disentanglement (Oh, Lee, Kim,
Park & Song, KDD 2022, "Learning Fair Representation via Distributional Contrastive
Disentanglement"; authors' code changdaeoh/FarconVAE, ``loss.py``, ``model/farcon.py``,
``train/train_farcon.py``, ``eval.py``).

A VAE whose encoder gives two Gaussian latents, a non-sensitive one ``zx`` and a sensitive one
``zs``; the decoder rebuilds x and z from ``(zx, zs)``; a predictor reads ``zx``. Each row x is
paired with a contrastive partner x' that differs in z only. One update of the first stage is
one Adam step on

    recon(x, z) + recon(x', z')                                    (both rows)
    + beta * KL(q(zx, zs | .) || N(0, I))                          (both rows)
    + CE(predictor(zx), y)                                         (both rows)
    + alpha * [d(zx, zx') + exp(-d(zs, zs')) + exp(-d(zx, zs)) + exp(-d(zx', zs'))]
    + gamma * [recon(dec(zx', zs) -> x, z) + recon(dec(zx, zs') -> x', z')]

where d is the symmetrised KL between the rows' diagonal Gaussians divided by the latent size
(``compute_bi_kld``), the Gaussian-kernel form (``dcd_g``, the default kernel), and the last
line is the swap reconstruction: zx carries what x and x' share, zs what differs (z).

As the authors (the defaults):

- ``farcon_pairing="flip"``: the partner is **the same row with z flipped** (their
  ``cont_x, cont_s = x, 1 - s``); the encoder reads x and z (one-hot; image channels);
- ``farcon_eval="frozen"``: after ``farcon_vae_steps`` updates the VAE is frozen and a
  separate linear classifier is trained on its non-sensitive representation (their two-stage
  evaluation, ``z_evaluator`` with the default ``eval_model="lr"``); ``predict`` uses the
  joint predictor until then, the separate classifier after.

Where we differ from the code: a classifier sees x only, so the representation fed to the
separate classifier (and returned by ``featurize``) is the mean of zx **averaged over both
values of z** (their test-time encoder reads the true s and a pseudo-label y from a second
classifier); the encoder does not read y (theirs does); x is reconstructed with the mean
squared error (the code's BCE assumes [0, 1] inputs) and z with cross-entropy; one Adam for VAE
and predictor (the code: two AMSGrad Adams on the same loss with the same settings); no
fade-in or KL annealing (the code anneals over the first tenth of training); the separate
classifier reads the latent mean, not a sample, and trains on minibatches for the rest of the
run. Options of ours: ``farcon_pairing="row"`` (a random row of the same y and the other z in
the minibatch, encoder on x only; this project's former default) and ``farcon_eval="joint"``
(predict with the jointly trained predictor throughout; the former default).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from fairdg.algorithms.base import Algorithm
from fairdg.algorithms.constrained import random_partners
from fairdg.data.base import Batch, cat
from fairdg.hparams import Fixed, HParam, Interval, LogUniform, OneOf
from fairdg.networks import build_featurizer


def gaussian_kl(
    mu_p: torch.Tensor, logvar_p: torch.Tensor, mu_q: torch.Tensor, logvar_q: torch.Tensor
) -> torch.Tensor:
    """Per-row KL(N(mu_p, var_p) || N(mu_q, var_q)) of diagonal Gaussians, over the latent
    size (the code's ``kld_exact`` before its batch mean)."""
    var_p, var_q = logvar_p.exp(), logvar_q.exp()
    kl = 0.5 * (logvar_q - logvar_p + (var_p + (mu_p - mu_q) ** 2) / var_q - 1)
    return kl.mean(1)


def symmetric_kl(a: tuple, b: tuple) -> torch.Tensor:
    """Batch mean of the symmetrised KL between two rows' Gaussians ``(mu, logvar)``."""
    return 0.5 * (gaussian_kl(*a, *b) + gaussian_kl(*b, *a)).mean()


class FarconVAE(Algorithm):
    """Two-latent VAE with a distributional contrastive loss and swap reconstruction."""

    HPARAMS: ClassVar[dict[str, HParam]] = {
        "farcon_latent": HParam(
            16, Fixed(), "size of each latent (zx and zs)", Interval(1, integer=True)
        ),
        "farcon_alpha": HParam(
            1.0, LogUniform(-1, 1), "weight of the contrastive loss", Interval(0)
        ),
        "farcon_beta": HParam(0.2, LogUniform(-2, 0), "weight of the KL prior term", Interval(0)),
        "farcon_gamma": HParam(
            1.0, LogUniform(-1, 1), "weight of the swap reconstruction", Interval(0)
        ),
        "farcon_decoder_width": HParam(
            128, Fixed(), "hidden units of the decoder", Interval(1, integer=True)
        ),
        "farcon_pairing": HParam(
            "flip",
            Fixed(),
            "contrastive partner: the same row with z flipped (the authors') or another "
            "row of the same y and the other z ('row', ours)",
            OneOf(("flip", "row")),
        ),
        "farcon_eval": HParam(
            "frozen",
            Fixed(),
            "predict with a separate linear classifier trained on the frozen representation "
            "(the authors') or with the jointly trained predictor ('joint', ours)",
            OneOf(("frozen", "joint")),
        ),
        "farcon_vae_steps": HParam(
            500,
            Fixed(),
            "VAE updates before it is frozen and the separate classifier trains ('frozen')",
            Interval(0, integer=True),
        ),
    }

    update_count: torch.Tensor  # a registered buffer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        k = int(self.hparams["farcon_latent"])
        self.latent = k
        self.reads_z = self.hparams["farcon_pairing"] == "flip"
        shape = list(self.input_shape)
        if self.reads_z:  # z enters as one-hot channels (images) or features
            shape[0] += self.num_groups
        self.encoder = build_featurizer(tuple(shape), self.hparams)
        self.heads = nn.Linear(self.encoder.n_outputs, 4 * k)  # mu_x, mu_s, logvar_x, logvar_s
        width = int(self.hparams["farcon_decoder_width"])
        self.n_pixels = math.prod(self.input_shape)
        self.decoder = nn.Sequential(
            nn.Linear(2 * k, width), nn.GELU(), nn.Linear(width, self.n_pixels + self.num_groups)
        )
        self.predictor = nn.Linear(k, self.num_classes)
        self.optimizer = self.make_optimizer(self.parameters())
        self.register_buffer("update_count", torch.zeros((), dtype=torch.long))
        if self.hparams["farcon_eval"] == "frozen":  # the authors' separate linear evaluator
            self.evaluator = nn.Linear(k, self.num_classes)
            self.eval_optimizer = self.make_optimizer(self.evaluator.parameters())

    @property
    def frozen(self) -> bool:
        """True once the VAE is frozen and the separate classifier trains."""
        return self.hparams["farcon_eval"] == "frozen" and int(self.update_count) >= int(
            self.hparams["farcon_vae_steps"]
        )

    def encode(self, x: torch.Tensor, z: torch.Tensor | None = None):
        """(x, z) -> (mu_x, logvar_x), (mu_s, logvar_s); z is read with ``pairing="flip"``."""
        if self.reads_z:
            if z is None:
                raise ValueError("FarconVAE with farcon_pairing=flip encodes (x, z): pass z")
            onehot = F.one_hot(z, self.num_groups).to(x.dtype)
            if x.dim() == 4:
                onehot = onehot[:, :, None, None].expand(-1, -1, *x.shape[2:])
            x = torch.cat([x, onehot], dim=1)
        mu_x, mu_s, lv_x, lv_s = self.heads(self.encoder(x)).chunk(4, dim=1)
        return (mu_x, lv_x), (mu_s, lv_s)

    def featurize(self, x: torch.Tensor) -> torch.Tensor:
        """The mean of zx; averaged over every value of z when the encoder reads z (a
        classifier does not see z)."""
        if not self.reads_z:
            return self.encode(x)[0][0]
        means = [
            self.encode(x, torch.full((len(x),), g, dtype=torch.long, device=x.device))[0][0]
            for g in range(self.num_groups)
        ]
        return torch.stack(means).mean(0)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        head = self.evaluator if self.frozen else self.predictor
        return head(self.featurize(x))

    @staticmethod
    def sample(params: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        mu, logvar = params
        return mu + torch.randn_like(mu) * (0.5 * logvar).exp()

    def recon_loss(self, zx, zs, x, z) -> torch.Tensor:
        out = self.decoder(torch.cat([zx, zs], dim=1))
        x_rec = out[:, : self.n_pixels]
        return F.mse_loss(x_rec, x.flatten(1)) + F.cross_entropy(out[:, self.n_pixels :], z)

    def partners(self, x, y, z) -> tuple[torch.Tensor, torch.Tensor]:
        """The contrastive partner of each row: (x, another z), or a row of the same y and
        another z from the minibatch (itself when there is none)."""
        if self.reads_z:
            return x, (z + 1) % self.num_groups
        partner = random_partners(y, group=z)
        return x[partner], z[partner]

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        x, y, z, _ = cat(batches)
        stats = self._evaluator_step(x, y, z) if self.frozen else self._vae_step(x, y, z)
        self.update_count += 1
        return stats

    def _evaluator_step(self, x, y, z) -> dict[str, float]:
        """Second stage: CE of the separate linear classifier on the frozen representation."""
        with torch.no_grad():
            features = self.featurize(x)
        logits = self.evaluator(features)
        loss = F.cross_entropy(logits, y)
        stats = {"loss": loss.item(), "eval_ce": loss.item()}
        total = self.add_fairness(loss, logits, z, stats, y)
        self.eval_optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.eval_optimizer.step()
        return stats

    def _vae_step(self, x, y, z) -> dict[str, float]:
        x2, z2 = self.partners(x, y, z)
        qx1, qs1 = self.encode(x, z)
        qx2, qs2 = self.encode(x2, z2)
        zx1, zs1, zx2, zs2 = (self.sample(q) for q in (qx1, qs1, qx2, qs2))
        recon = 0.5 * (self.recon_loss(zx1, zs1, x, z) + self.recon_loss(zx2, zs2, x2, z2))
        prior = (torch.zeros_like(qx1[0]), torch.zeros_like(qx1[1]))
        kl = torch.stack(
            [gaussian_kl(q[0], q[1], *prior).mean() for q in (qx1, qs1, qx2, qs2)]
        ).mean()
        logits = self.predictor(zx1)
        pred = 0.5 * (F.cross_entropy(logits, y) + F.cross_entropy(self.predictor(zx2), y))
        contrast = (
            symmetric_kl(qx1, qx2)
            + torch.exp(-symmetric_kl(qs1, qs2))
            + torch.exp(-symmetric_kl(qx1, qs1))
            + torch.exp(-symmetric_kl(qx2, qs2))
        )
        swap = 0.5 * (self.recon_loss(zx2, zs1, x, z) + self.recon_loss(zx1, zs2, x2, z2))
        h = self.hparams
        loss = (
            recon
            + h["farcon_beta"] * kl
            + pred
            + h["farcon_alpha"] * contrast
            + h["farcon_gamma"] * swap
        )
        stats = {
            "loss": loss.item(),
            "recon": recon.item(),
            "kl": kl.item(),
            "pred": pred.item(),
            "contrast": contrast.item(),
            "swap": swap.item(),
        }
        total = self.add_fairness(loss, logits, z, stats, y)
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.optimizer.step()
        return stats

    def extra_state(self) -> dict[str, Any]:
        state = super().extra_state()
        if hasattr(self, "eval_optimizer"):
            state["eval_optimizer"] = self.eval_optimizer.state_dict()
        return state

    def load_extra(self, state: Mapping[str, Any]) -> None:
        super().load_extra(state)
        if "eval_optimizer" in state and hasattr(self, "eval_optimizer"):
            self.eval_optimizer.load_state_dict(state["eval_optimizer"])
