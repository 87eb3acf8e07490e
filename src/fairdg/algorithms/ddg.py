"""DDG: disentanglement-constrained domain generalisation (Zhang, Zhang, Tang & Yan, CVPR 2022,
"Towards Principled Disentanglement for Domain Generalization").

Inputs are factored into a *semantic* factor (the classifier's representation f_sem(x)) and a
*variation* factor v(x). The generative model that supplies v and re-synthesises images is
trained first on the source domains (the authors' stage 0; here `fairdg.transformation` trained
without the sensitive factor, v = its style code). The classifier is then trained by
primal-dual updates (the authors' stage 1, hlzhang109/DDG ``algorithms.py``, class ``DDG``):

    x~   = G(content(x), v(x_j))                 variation of another row j of the batch
    inv  = KL(f(x) || f(x~))                     predictions must not change   (<= gamma)
    id   = CE(f(x~), y)                          the label survives the swap   (weight)
    rec  = mean_i max(0, |D(f_sem(x_p), v(x_i)) - x_i|_1 - margin)
           x_p a random row of the same class: the semantic factor of a positive pair and the
           variation of x must rebuild x (the disentanglement constraint; D is a decoder
           trained with the classifier)
    L    = CE(f(x), y) + lambda_inv inv + id_weight id + lambda_rec rec

then ``lambda_inv <- max(0, lambda_inv + eta (inv - gamma))`` and
``lambda_rec <- clip(lambda_rec + eta_rec (mean recon error - margin), 0, 1)`` (the code's
``recon_xp_w`` update, clipped to [0, 1] as there).

``ddg-fc`` (FDDG's "DDG-FC") adds the relaxed-DP constraint of FDDG's definition 1 on the real
minibatch with its own multiplier and margin.

Where we differ: the authors' stage 1 regenerates x~ with the stage-0 generator decoding the
*classifier's* semantic features (their generator's content input is f_sem); ours decodes T's
own content code, and D (an MLP from the representation and the variation code) carries the
reconstruction constraint instead. Positive pairs are same-class rows of the minibatch (theirs
come from the data loader). The code's margin 0.025 and eta 0.01 are the defaults.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from fairdg.algorithms.constrained import PrimalDual, prediction_kl, random_partners
from fairdg.data.base import Batch, cat
from fairdg.hparams import Choice, Fixed, HParam, Interval, LogUniform, Uniform


class DDG(PrimalDual):
    """Invariance under resampled variation + semantic reconstruction, both primal-dual."""

    HPARAMS: ClassVar[dict[str, HParam]] = {
        "ddg_gamma": HParam(
            0.025, LogUniform(-4, -1.6), "margin of the KL invariance", Interval(0)
        ),
        "ddg_eta": HParam(
            0.05, Uniform(0.001, 0.1), "dual step size of the KL multiplier", Interval(0)
        ),
        "ddg_id_weight": HParam(
            0.5, Choice((0.1, 0.2, 0.5, 1.0)), "weight of CE on the swapped samples", Interval(0)
        ),
        "ddg_margin": HParam(
            0.025, Fixed(), "margin of the reconstruction constraint", Interval(0)
        ),
        "ddg_recon_eta": HParam(
            0.01, Fixed(), "dual step size of the reconstruction weight", Interval(0)
        ),
        "ddg_recon_init": HParam(
            0.5,
            Choice((0.1, 0.2, 0.5, 1.0)),
            "initial reconstruction multiplier (in [0, 1])",
            Interval(0, 1),
        ),
        "ddg_decoder_width": HParam(
            128, Fixed(), "hidden units of the decoder D", Interval(1, integer=True)
        ),
    }
    FAIRNESS: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        width = int(self.hparams["ddg_decoder_width"])
        style = self.transformation.config.style_dim
        image = len(self.input_shape) == 3
        self.decoder = nn.Sequential(
            nn.Linear(self.featurizer.n_outputs + style, width),
            nn.ReLU(),
            nn.Linear(width, math.prod(self.input_shape)),
            *([nn.Tanh()] if image else []),  # images: T's model space [-1, 1]
        )
        self.optimizer = self.make_optimizer(
            list(self.network.parameters()) + list(self.decoder.parameters())
        )
        init = [1.0, self.hparams["ddg_recon_init"]]
        if self.FAIRNESS:
            init.append(self.hparams["ddg_fair_lambda_init"])
        self.init_multipliers(init)

    def _recon_errors(self, x: torch.Tensor, y: torch.Tensor, style: torch.Tensor):
        """Per-row L1 error of D(f_sem(x_p), v(x)) against x (model space)."""
        partner = random_partners(y)
        rebuilt = self.decoder(torch.cat([self.featurize(x[partner]), style], dim=1))
        target = self.transformation.to_model(x).flatten(1)
        return (rebuilt - target).abs().mean(1)

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        x, y, z, _ = cat(batches)
        t = self.transformation
        logits = self.predict(x)
        ce = F.cross_entropy(logits, y)
        with torch.no_grad():
            style = t.encode(t.to_model(x))[1]
        x_swap = self.swap_style(x, torch.randperm(len(x), device=x.device))
        swap_logits = self.predict(x_swap)
        inv = prediction_kl(logits, swap_logits)
        ident = F.cross_entropy(swap_logits, y)
        errors = self._recon_errors(x, y, style)
        margin = self.hparams["ddg_margin"]
        recon = (errors - margin).clamp_min(0.0).mean()
        lam = self.multipliers
        total = ce + lam[0] * inv + self.hparams["ddg_id_weight"] * ident + lam[1] * recon
        stats = {
            "ce": ce.item(),
            "inv_constraint": inv.item(),
            "swap_ce": ident.item(),
            "recon_error": errors.mean().item(),
        }
        violations = [inv.detach() - self.hparams["ddg_gamma"], errors.mean().detach() - margin]
        steps = [self.hparams["ddg_eta"], self.hparams["ddg_recon_eta"]]
        if self.FAIRNESS:
            fair = self.fairness_penalty(logits, z)
            total = total + lam[2] * fair
            violations.append(fair.detach() - self.hparams["ddg_fair_gamma"])
            steps.append(self.hparams["ddg_fair_eta"])
            stats["fair_constraint"] = fair.item()
        total = self.add_fairness(total, logits, z, stats, y)
        self.step(total)
        self.dual_update(torch.stack(violations), steps)
        self.multipliers[1].clamp_(max=1.0)  # the code clips the reconstruction weight at 1
        stats["loss"] = total.item()
        stats["lambda_inv"] = float(self.multipliers[0])
        stats["lambda_recon"] = float(self.multipliers[1])
        if self.FAIRNESS:
            stats["lambda_fair"] = float(self.multipliers[2])
        return stats


class DDGFC(DDG):
    """DDG with a relaxed-DP constraint (FDDG definition 1) and its own multiplier."""

    HPARAMS: ClassVar[dict[str, HParam]] = {
        "ddg_fair_gamma": HParam(
            0.025, LogUniform(-4, -1.6), "margin of the relaxed-DP constraint", Interval(0)
        ),
        "ddg_fair_eta": HParam(
            0.05, Uniform(0.001, 0.1), "dual step size of the fairness multiplier", Interval(0)
        ),
        "ddg_fair_lambda_init": HParam(1.0, Fixed(), "initial fairness multiplier", Interval(0)),
    }
    FAIRNESS: ClassVar[bool] = True
