"""`TransformationModel` T: two levels of autoencoders and a sensitive classifier (FDDG C.4).

Outer level: x -> (semantic factor m = E_m(x), style code s = E_s(x)), G_out(m, s) -> x.
Inner level: m -> (content factor c = E_c(m), sensitive code a = E_a(m)), G_in(c, a) -> m.
Sensitive classifier h(a) -> logits of z. Style and sensitive codes have N(0, I) priors.
Without the sensitive factor (``use_sensitive=False``, the "w/o sf" ablation) there is no inner
level: m is the content.

`augment` is DataAug of algorithm 1 (lines 15-20): keep the content of x, draw a' and s' from
their priors, decode x' = G_out(G_in(c, a'), s') and label it z' = argmax h(a'). Images are
mapped from the data range [x_low, x_high] to the decoder's [-1, 1] and back, so callers work
in data space throughout.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from fairdg.transformation import conv, mlp
from fairdg.transformation.config import TransformationConfig


class TransformationModel(nn.Module):
    """T, built from a `TransformationConfig`; see the module docstring.

    ``meta`` (a dict, not part of the state) records what T was trained on: dataset name,
    training and held-out domains, seed, steps and validation metrics.
    """

    # built by one family (conv.py or mlp.py); the inner level only with the sensitive factor
    enc_semantic: nn.Module
    enc_style: nn.Module
    dec_outer: nn.Module
    dis_outer: nn.Module
    enc_content: nn.Module
    enc_sensitive: nn.Module
    dec_inner: nn.Module
    dis_inner: nn.Module

    def __init__(self, config: TransformationConfig) -> None:
        super().__init__()
        self.config = config
        self.meta: dict[str, Any] = {}
        self._heads = config.num_groups if config.conditional_gan else 1
        if config.family == "conv":
            self._build_conv(config)
        else:
            self._build_mlp(config)
        if config.use_sensitive:
            self.h = nn.Linear(config.sensitive_dim, config.num_groups)

    # -- construction -------------------------------------------------------------------------
    def _build_conv(self, cfg: TransformationConfig) -> None:
        channels, height, width = cfg.input_shape
        n_down, cm = cfg.downsamplings, cfg.semantic_channels
        self.enc_semantic = conv.SemanticEncoder(channels, cfg.width, cm, n_down, cfg.n_res)
        self.enc_style = conv.CodeEncoder(channels, cfg.width, cfg.style_dim, 2, 5)
        self.dec_outer = conv.AdaINDecoder(
            cm,
            channels,
            cfg.style_dim,
            cfg.mlp_dim,
            cfg.n_res,
            n_down,
            "tanh",
            out_size=(height, width),
        )
        self.dis_outer = conv.PatchDiscriminator(
            channels, cfg.disc_width, cfg.discriminator_scales, self._heads
        )
        if cfg.use_sensitive:
            cc = cfg.content_channels
            self.enc_content = conv.ContentEncoder(cm, cc, cfg.n_res)
            self.enc_sensitive = conv.CodeEncoder(cm, cfg.width, cfg.sensitive_dim, 1, 3)
            self.dec_inner = conv.AdaINDecoder(
                cc, cm, cfg.sensitive_dim, cfg.mlp_dim, cfg.n_res, 0, "none"
            )
            self.dis_inner = conv.PatchDiscriminator(cm, cfg.disc_width, 1)

    def _build_mlp(self, cfg: TransformationConfig) -> None:
        (n_features,) = cfg.input_shape
        hid, sem, con = cfg.hidden, cfg.semantic_dim, cfg.content_dim
        self.enc_semantic = mlp.TwoLayer(n_features, hid, sem)
        self.enc_style = mlp.TwoLayer(n_features, hid, cfg.style_dim)
        self.dec_outer = mlp.ConcatDecoder(sem, cfg.style_dim, hid, n_features)
        self.dis_outer = mlp.VectorDiscriminator(n_features, hid, max(hid // 2, 1), self._heads)
        if cfg.use_sensitive:
            self.enc_content = mlp.TwoLayer(sem, sem, con)
            self.enc_sensitive = mlp.TwoLayer(sem, max(sem // 2, 1), cfg.sensitive_dim)
            self.dec_inner = mlp.ConcatDecoder(con, cfg.sensitive_dim, sem, sem)
            self.dis_inner = mlp.VectorDiscriminator(sem, max(sem // 2, 1), max(sem // 2, 1))

    def generator_parameters(self) -> list[nn.Parameter]:
        """Encoders, decoders and h (everything but the discriminators)."""
        return [p for name, p in self.named_parameters() if not name.startswith("dis_")]

    def discriminator_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if name.startswith("dis_")]

    # -- scaling between data space and the decoder's range ---------------------------------
    def to_model(self, x: torch.Tensor) -> torch.Tensor:
        lo, hi = self.config.x_low, self.config.x_high
        return x if lo is None or hi is None else (x - lo) * (2.0 / (hi - lo)) - 1.0

    def to_data(self, x: torch.Tensor) -> torch.Tensor:
        lo, hi = self.config.x_low, self.config.x_high
        return x if lo is None or hi is None else (x + 1.0) * ((hi - lo) / 2.0) + lo

    # -- the factors (model space) ------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x -> (semantic factor m, style code s)."""
        return self.enc_semantic(x), self.enc_style(x)

    def decode(self, m: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return self.dec_outer(m, s)

    def split(self, m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """m -> (content factor c, sensitive code a); without the inner level (m, None)."""
        if not self.config.use_sensitive:
            return m, None
        return self.split_sensitive(m)

    def split_sensitive(self, m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """m -> (content factor c, sensitive code a) of a T with the sensitive factor."""
        if not self.config.use_sensitive:
            raise ValueError(
                "this transformation model has no sensitive factor (trained with "
                "use_sensitive=False)"
            )
        return self.enc_content(m), self.enc_sensitive(m)

    def merge(self, c: torch.Tensor, a: torch.Tensor | None) -> torch.Tensor:
        return c if not self.config.use_sensitive else self.dec_inner(c, a)

    def sensitive_logits(self, a: torch.Tensor) -> torch.Tensor:
        return self.h(a)

    def sample_codes(
        self, n: int, device: torch.device, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, Any]:
        """(s', a') from N(0, I); a' is None without the sensitive factor."""
        cfg = self.config
        s = torch.randn(n, cfg.style_dim, generator=generator, device=device)
        a = (
            torch.randn(n, cfg.sensitive_dim, generator=generator, device=device)
            if cfg.use_sensitive
            else None
        )
        return s, a

    # -- data-space API -----------------------------------------------------------------------
    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """G_out(G_in(E_c(m), E_a(m)), E_s(x)) with m = E_m(x), in data space."""
        m, s = self.encode(self.to_model(x))
        return self.to_data(self.decode(self.merge(*self.split(m)), s))

    @torch.no_grad()
    def predict_sensitive(self, x: torch.Tensor) -> torch.Tensor:
        """argmax h(E_a(E_m(x))): the sensitive group T reads off an input."""
        if not self.config.use_sensitive:
            raise ValueError(
                "this transformation model has no sensitive factor (trained with "
                "use_sensitive=False), so it cannot predict z"
            )
        _, a = self.split_sensitive(self.encode(self.to_model(x))[0])
        return self.sensitive_logits(a).argmax(1)

    @torch.no_grad()
    def augment(
        self,
        x: torch.Tensor,
        z: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        resample_style: bool = True,
        resample_sensitive: bool = True,
        style_scale: float = 1.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """DataAug: x in a synthetic domain with new style and sensitive factors.

        Returns ``(x', z')`` with z' = argmax h(a'). Without the sensitive factor (or with
        ``resample_sensitive=False``) the sensitive factor is kept and z' = z, which must then
        be given. ``style_scale`` draws the new style from N(0, scale^2 I) instead of the prior
        N(0, I) (a diagnostic: do styles far out in the prior reach unseen domains?).
        """
        xm = self.to_model(x)
        m = self.enc_semantic(xm)
        s = None if resample_style else self.enc_style(xm)
        c, a = self.split(m)
        s_new, a_new = self.sample_codes(len(x), x.device, generator)
        s_new = s_new * style_scale
        keep_sensitive = not self.config.use_sensitive or not resample_sensitive
        if keep_sensitive:
            if z is None:
                raise ValueError(
                    "augment needs z when the sensitive factor is kept "
                    "(no sensitive factor, or resample_sensitive=False)"
                )
            a_new, z_new = a, z
        else:
            z_new = self.sensitive_logits(a_new).argmax(1)
        x_new = self.decode(self.merge(c, a_new), s_new if s is None else s)
        return self.to_data(x_new), z_new

    def forward(self, x: torch.Tensor, z: torch.Tensor | None = None):
        return self.augment(x, z)
