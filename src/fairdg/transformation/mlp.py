"""MLP networks of T for tabular data (FDDG appendix C.5, NYSF).

Every block is ``Linear -> ReLU -> Linear``; decoders take the concatenated codes (no AdaIN).
With F features, hidden size h (32), semantic size M (16) and content size K (8):

=============================  ==========================
style encoder E_s              F -> h -> style_dim
semantic encoder E_m           F -> h -> M
decoder G_out(m, s)            (M + style_dim) -> h -> F
content encoder E_c            M -> M -> K
sensitive encoder E_a          M -> M / 2 -> sensitive_dim
semantic decoder G_in(c, a)    (K + sensitive_dim) -> M -> M
outer discriminator D_x        F -> h -> h / 2
inner discriminator D_m        M -> M / 2 -> M / 2
=============================  ==========================

For NYSF's F = 51 these are exactly the authors' sizes. Discriminators output a vector of
scores (LSGAN on every element, as the authors' 16- and 8-dimensional outputs).
"""

from __future__ import annotations

import torch
from torch import nn


class TwoLayer(nn.Sequential):
    """``Linear -> ReLU -> Linear`` (the authors' block for every tabular network)."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
        super().__init__(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))


class ConcatDecoder(nn.Module):
    """G(h, code) = TwoLayer([h, code])."""

    def __init__(self, n_in: int, code_dim: int, n_hidden: int, n_out: int) -> None:
        super().__init__()
        self.net = TwoLayer(n_in + code_dim, n_hidden, n_out)

    def forward(self, h: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([h, code.flatten(1)], dim=1))


class VectorDiscriminator(nn.Module):
    """Scores a vector with a two-layer MLP; returns a list (one "scale") like the image one."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, heads: int = 1) -> None:
        super().__init__()
        self.heads, self.n_out = heads, n_out
        self.net = TwoLayer(n_in, n_hidden, n_out * heads)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> list[torch.Tensor]:
        out = self.net(x.flatten(1)).view(len(x), self.heads, self.n_out)
        if labels is not None:  # the head of each sample's label
            return [out[torch.arange(len(out), device=out.device), labels]]
        return [out.flatten(1)]
