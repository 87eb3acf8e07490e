"""FarconVAE: fair representations by distributional contrastive disentanglement (Oh, Lee, Kim,
Park & Song, KDD 2022, "Learning Fair Representation via Distributional Contrastive
Disentanglement"; authors' code changdaeoh/FarconVAE, ``loss.py`` and ``model/farcon.py``).

A VAE whose encoder gives two Gaussian latents, a non-sensitive one ``zx`` and a sensitive one
``zs``; the decoder rebuilds x and z from ``(zx, zs)``; the classifier reads ``zx``. Each row x
is paired with a contrastive partner x' of the same class and the other sensitive group. One
update is one Adam step on

    recon(x, z) + recon(x', z')                                    (both rows)
    + beta * KL(q(zx, zs | .) || N(0, I))                          (both rows)
    + CE(predictor(zx), y)                                         (both rows)
    + alpha * [d(zx, zx') + exp(-d(zs, zs')) + exp(-d(zx, zs)) + exp(-d(zx', zs'))]
    + gamma * [recon(dec(zx', zs) -> x, z) + recon(dec(zx, zs') -> x', z')]

where d is the symmetrised KL between the rows' diagonal Gaussians divided by the latent size
(``compute_bi_kld``), the Gaussian-kernel form (``dcd_g``, the default kernel), and the last
line is the swap reconstruction: zx carries what x and x' share (y), zs what differs (z).

Where we differ from the code: the encoder reads x only (the code's encoder also reads s and y,
which a classifier cannot do at test time); reconstruction is the mean squared error for x
(the code's BCE assumes inputs in [0, 1]) and cross-entropy for z; one Adam for VAE and
predictor (the code has two AMSGrad Adams on the same loss with the same settings); no fade-in
or KL annealing (the code anneals over the first tenth of training); partners are drawn inside
the minibatch (a row with no partner there is paired with itself).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from fairdg.algorithms.base import Algorithm
from fairdg.algorithms.constrained import random_partners
from fairdg.data.base import Batch, cat
from fairdg.hparams import Fixed, HParam, Interval, LogUniform
from fairdg.networks import build_featurizer


def gaussian_kl(mu_p, logvar_p, mu_q, logvar_q) -> torch.Tensor:
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
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        k = int(self.hparams["farcon_latent"])
        self.latent = k
        self.encoder = build_featurizer(self.input_shape, self.hparams)
        self.heads = nn.Linear(self.encoder.n_outputs, 4 * k)  # mu_x, mu_s, logvar_x, logvar_s
        width = int(self.hparams["farcon_decoder_width"])
        self.n_pixels = math.prod(self.input_shape)
        self.decoder = nn.Sequential(
            nn.Linear(2 * k, width), nn.GELU(), nn.Linear(width, self.n_pixels + self.num_groups)
        )
        self.predictor = nn.Linear(k, self.num_classes)
        self.optimizer = self.make_optimizer(self.parameters())

    def encode(self, x: torch.Tensor):
        """x -> (mu_x, logvar_x), (mu_s, logvar_s)."""
        mu_x, mu_s, lv_x, lv_s = self.heads(self.encoder(x)).chunk(4, dim=1)
        return (mu_x, lv_x), (mu_s, lv_s)

    def featurize(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)[0][0]

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.predictor(self.featurize(x))

    @staticmethod
    def sample(params: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        mu, logvar = params
        return mu + torch.randn_like(mu) * (0.5 * logvar).exp()

    def recon_loss(self, zx, zs, x, z) -> torch.Tensor:
        out = self.decoder(torch.cat([zx, zs], dim=1))
        x_rec = out[:, : self.n_pixels]
        return F.mse_loss(x_rec, x.flatten(1)) + F.cross_entropy(out[:, self.n_pixels :], z)

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        x, y, z, _ = cat(batches)
        partner = random_partners(y, group=z)  # same class, other sensitive group
        x2, z2 = x[partner], z[partner]
        qx1, qs1 = self.encode(x)
        qx2, qs2 = self.encode(x2)
        zx1, zs1, zx2, zs2 = (self.sample(q) for q in (qx1, qs1, qx2, qs2))
        recon = 0.5 * (self.recon_loss(zx1, zs1, x, z) + self.recon_loss(zx2, zs2, x2, z2))
        prior = [(torch.zeros_like(q[0]), torch.zeros_like(q[1])) for q in (qx1,)]
        kl = torch.stack([gaussian_kl(*q, *prior[0]).mean() for q in (qx1, qs1, qx2, qs2)]).mean()
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
