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
- sensitive loss: ``sensitive * CE(h(E_a(m)), z)``;
- adversarial (least squares, as MUNIT): ``gan_x * sum_scales mean((D_x(x_f) - 1)^2)`` and
  ``gan_m * mean((D_m(m_f) - 1)^2)``.

Discriminator side: ``mean((D(real) - 1)^2) + mean(D(fake)^2)`` per level, real m = E_m(x).
Without the sensitive factor the inner terms vanish and m_f = m.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fairdg.transformation.model import TransformationModel


def lsgan_real(outputs: list[torch.Tensor]) -> torch.Tensor:
    """Least-squares loss pushing every score of every scale towards 1."""
    return sum(((o - 1.0) ** 2).mean() for o in outputs)


def lsgan_fake(outputs: list[torch.Tensor]) -> torch.Tensor:
    """Least-squares loss pushing every score towards 0."""
    return sum((o**2).mean() for o in outputs)


def _l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).abs().mean()


def generator_loss(
    model: TransformationModel, x: torch.Tensor, z: torch.Tensor
) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted generator-side loss on a minibatch (x in data space) and its terms."""
    w = model.config.weights
    xm = model.to_model(x)
    m, s = model.encode(xm)
    c, a = model.split(m)
    terms: dict[str, torch.Tensor] = {"recon_x": _l1(model.decode(m, s), xm)}
    s_new, a_new = model.sample_codes(len(x), x.device)
    m_fake = model.merge(c, a_new)
    x_fake = model.decode(m_fake, s_new)
    m_back, s_back = model.encode(x_fake)
    terms["recon_s"] = _l1(s_back, s_new)
    terms["gan_x"] = lsgan_real(model.dis_outer(x_fake))
    if model.config.use_sensitive:
        terms["recon_m"] = _l1(model.merge(c, a), m) + _l1(m_back, m_fake)
        c_back, a_back = model.split(m_back)
        terms["recon_c"] = _l1(c_back, c)
        terms["recon_a"] = _l1(a_back, a_new)
        terms["sensitive"] = F.cross_entropy(model.sensitive_logits(a), z)
        terms["gan_m"] = lsgan_real(model.dis_inner(m_fake))
    else:
        terms["recon_m"] = _l1(m_back, m)
    total = sum(w[name] * value for name, value in terms.items())
    stats = {name: float(value.detach()) for name, value in terms.items()}
    stats["gen_loss"] = float(total.detach())
    return total, stats


def discriminator_loss(
    model: TransformationModel, x: torch.Tensor
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
    terms = {"dis_x": lsgan_real(model.dis_outer(xm)) + lsgan_fake(model.dis_outer(x_fake))}
    if model.config.use_sensitive:
        terms["dis_m"] = lsgan_real(model.dis_inner(m)) + lsgan_fake(model.dis_inner(m_fake))
    total = w["gan_x"] * terms["dis_x"] + w["gan_m"] * terms.get("dis_m", 0.0)
    stats = {name: float(value.detach()) for name, value in terms.items()}
    return total, stats
