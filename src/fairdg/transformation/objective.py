"""Losses of T (FDDG appendix C.4, equation (9)): reconstruction, sensitive, adversarial.

Generator side (encoders, decoders, h), with x in model space and codes s', a' ~ N(0, I):

- data reconstruction: ``recon_x * |G_out(m, s) - x|_1`` with ``(m, s) = E(x)`` and the inner
  ``recon_m * |G_in(E_c(m), E_a(m)) - m|_1``;
- latent reconstruction through a decoded sample ``x_f = G_out(m_f, s')``,
  ``m_f = G_in(c, a')``: re-encode x_f and ask for the factors back: ``recon_m * |E_m(x_f) -
  m_f|_1``, ``recon_c * |E_c(E_m(x_f)) - c|_1``, ``recon_a * |E_a(E_m(x_f)) - a'|_1``,
  ``recon_s * |E_s(x_f) - s'|_1``. Re-encoding the decoded image (not only the decoded m)
  makes the sampled sensitive code recoverable from the image itself, which is what DataAug
  relies on;
- prior matching (ours): ``prior * (|mean s|^2 + |cov s - I|^2 + the same for a)`` on the
  batch of real codes, so that codes drawn from N(0, I) look like encoded ones (without it, on
  ccMNIST every a' ~ N(0, I) fell on one side of h and every x' got the same label);
- sensitive loss: ``sensitive * CE(h(E_a(m)), z)``, and (our addition, see below)
  ``sensitive_cycle * CE(h(E_a(E_m(x_f))), argmax h(a'))`` with E_m, E_a and h frozen in this
  term (its gradient trains the decoders only);
- adversarial (least squares, as MUNIT): ``gan_x * sum_scales mean((D_x(x_f | z') - 1)^2)``
  and ``gan_m * mean((D_m(m_f) - 1)^2)``; with ``conditional_gan`` (ours, default) D_x has one
  head per sensitive group and judges real x by the head of z and x_f by that of its label
  z' = argmax h(a') (z without the sensitive factor), so x_f must look like a real image *of
  group z'*.

Why our three additions (conditional GAN, prior matching, sensitive cycle). On ccMNIST (red
held out, 600 steps, lr 1e-3; probes trained on real data read the digit class and the
background of x'), the paper's terms alone gave faithful reconstructions but a background of
x' that agreed with z' = h(a') only at chance (0.47): the style code, a global colour code
like the background, decided it. Adding the cycle term left that at 0.46; the conditional
discriminator raised it to 0.95 but every a' ~ N(0, I) then fell on the same side of h (all
x' white); prior matching fixed that: agreement 0.997, z' = 1 for 58% of draws, digit class
kept 0.886 (the probe's accuracy on real images: 0.936). The cycle term was not ablated on its
own. Set the three weights / ``conditional_gan`` to 0 / False for the paper's objective.

Discriminator side: ``mean((D(real) - 1)^2) + mean(D(fake)^2)`` per level, real m = E_m(x)
(labels as above for D_x).
Without the sensitive factor the inner terms vanish and m_f = m.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable

import torch
import torch.nn.functional as F

from fairdg.transformation.model import TransformationModel


def total_of(values: Iterable[torch.Tensor]) -> torch.Tensor:
    """The sum of `values` (at least one), added in order as the builtin `sum` adds them."""
    return functools.reduce(operator.add, values)


def lsgan_real(outputs: list[torch.Tensor]) -> torch.Tensor:
    """Least-squares loss pushing every score of every scale towards 1."""
    return total_of(((o - 1.0) ** 2).mean() for o in outputs)


def lsgan_fake(outputs: list[torch.Tensor]) -> torch.Tensor:
    """Least-squares loss pushing every score towards 0."""
    return total_of((o**2).mean() for o in outputs)


def _l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).abs().mean()


def _frozen(module: torch.nn.Module, *args: torch.Tensor) -> torch.Tensor:
    """``module(*args)`` with its parameters detached: gradients reach the inputs only."""
    params = {name: p.detach() for name, p in module.named_parameters()}
    return torch.func.functional_call(module, params, args)


def _frozen_sensitive_logits(model: TransformationModel, x: torch.Tensor) -> torch.Tensor:
    """h(E_a(E_m(x))) as read by the encoders and h without training them: the decoders must
    make x show the sensitive attribute the way real data show it (the encoders learn it from
    real data only), rather than the encoders learning to read a hidden code."""
    m = _frozen(model.enc_semantic, x)
    return _frozen(model.h, _frozen(model.enc_sensitive, m))


def prior_mismatch(codes: torch.Tensor) -> torch.Tensor:
    """``|mean|^2 + |cov - I|_F^2`` of a batch of codes: 0 when they match N(0, I) in the first
    two moments."""
    centred = codes - codes.mean(0)
    cov = centred.T @ centred / max(len(codes) - 1, 1)
    eye = torch.eye(codes.shape[1], device=codes.device)
    return (codes.mean(0) ** 2).sum() + ((cov - eye) ** 2).sum()


def _fake_labels(
    model: TransformationModel, a_new: torch.Tensor | None, z: torch.Tensor
) -> torch.Tensor:
    """The sensitive label of decoded samples: argmax h(a'), or z without the factor."""
    if a_new is None:
        return z
    return model.sensitive_logits(a_new).argmax(1).detach()


def _judge(model: TransformationModel, x: torch.Tensor, z: torch.Tensor) -> list[torch.Tensor]:
    """Outer discriminator scores, by the head of each sample's label when conditional."""
    return model.dis_outer(x, z if model.config.conditional_gan else None)


def generator_loss(
    model: TransformationModel, x: torch.Tensor, z: torch.Tensor
) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted generator-side loss on a minibatch (x in data space) and its terms."""
    w = model.config.weights
    xm = model.to_model(x)
    m, s = model.encode(xm)
    c, a = model.split(m)
    terms: dict[str, torch.Tensor] = {"recon_x": _l1(model.decode(m, s), xm)}
    terms["prior"] = prior_mismatch(s) + (prior_mismatch(a) if a is not None else 0.0)
    s_new, a_new = model.sample_codes(len(x), x.device)
    m_fake = model.merge(c, a_new)
    x_fake = model.decode(m_fake, s_new)
    m_back, s_back = model.encode(x_fake)
    z_fake = _fake_labels(model, a_new, z)
    terms["recon_s"] = _l1(s_back, s_new)
    terms["gan_x"] = lsgan_real(_judge(model, x_fake, z_fake))
    if a is not None:  # the inner level: T has the sensitive factor
        terms["recon_m"] = _l1(model.merge(c, a), m) + _l1(m_back, m_fake)
        c_back, a_back = model.split_sensitive(m_back)
        terms["recon_c"] = _l1(c_back, c)
        terms["recon_a"] = _l1(a_back, a_new)
        terms["sensitive"] = F.cross_entropy(model.sensitive_logits(a), z)
        terms["sensitive_cycle"] = F.cross_entropy(_frozen_sensitive_logits(model, x_fake), z_fake)
        terms["gan_m"] = lsgan_real(model.dis_inner(m_fake))
    else:
        terms["recon_m"] = _l1(m_back, m)
    total = total_of(w[name] * value for name, value in terms.items())
    stats = {name: float(value.detach()) for name, value in terms.items()}
    stats["gen_loss"] = float(total.detach())
    return total, stats


def discriminator_loss(
    model: TransformationModel, x: torch.Tensor, z: torch.Tensor
) -> tuple[torch.Tensor, dict[str, float]]:
    """LSGAN loss of the discriminators: real inputs -> 1, decoded samples -> 0."""
    w = model.config.weights
    with torch.no_grad():
        xm = model.to_model(x)
        m, _ = model.encode(xm)
        c, _ = model.split(m)
        s_new, a_new = model.sample_codes(len(x), x.device)
        m_fake = model.merge(c, a_new)
        x_fake = model.decode(m_fake, s_new)
        z_fake = _fake_labels(model, a_new, z)
    terms = {"dis_x": lsgan_real(_judge(model, xm, z)) + lsgan_fake(_judge(model, x_fake, z_fake))}
    if model.config.use_sensitive:
        terms["dis_m"] = lsgan_real(model.dis_inner(m)) + lsgan_fake(model.dis_inner(m_fake))
    total = w["gan_x"] * terms["dis_x"] + w["gan_m"] * terms.get("dis_m", 0.0)
    stats = {name: float(value.detach()) for name, value in terms.items()}
    return total, stats
