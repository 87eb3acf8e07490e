"""Convolutional networks of T for images (after MUNIT's tiny configuration, scaled down).

Outer level on images x (C, H, W) scaled to [-1, 1]:
- `SemanticEncoder` E_m: conv 5x5 (w) -> n stride-2 convs (doubling to the semantic channels) ->
  residual blocks, all with instance norm: the semantic map m (C_m, H / 2^n, W / 2^n).
- `CodeEncoder` E_s: conv stack with stride-2 steps, global average pooling, a linear map to the
  style code (no normalisation, so global colour survives).
- `AdaINDecoder` G_out(m, s): residual blocks with adaptive instance norm whose scales and
  shifts come from an MLP of the code, n x (upsample 2, conv 3x3, layer norm), conv 5x5, tanh.
Inner level on m: `ContentEncoder` E_c (conv 3x3 + residual blocks, instance norm),
`CodeEncoder` E_a (as E_s, on m), `AdaINDecoder` G_in(c, a) (same pattern, no upsampling, linear
output). `PatchDiscriminator` (multi-scale for images, one scale for m) scores patches (LSGAN).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "in":
        return nn.InstanceNorm2d(channels, affine=False)
    if kind == "ln":  # layer norm over (C, H, W) with a per-channel affine map
        return nn.GroupNorm(1, channels)
    return nn.Identity()


class ConvBlock(nn.Sequential):
    """conv (reflection padding) -> norm -> activation."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        stride: int = 1,
        norm: str = "none",
        act: str = "relu",
    ) -> None:
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(kernel // 2 if kernel % 2 else kernel // 2 - 1),
            nn.Conv2d(c_in, c_out, kernel, stride),
            _norm(norm, c_out),
        ]
        if act == "relu":
            layers.append(nn.ReLU())
        elif act == "lrelu":
            layers.append(nn.LeakyReLU(0.2))
        elif act == "tanh":
            layers.append(nn.Tanh())
        super().__init__(*layers)


def adaptive_instance_norm(
    x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor
) -> torch.Tensor:
    """Instance norm with a per-sample, per-channel scale (around 1) and shift."""
    return F.instance_norm(x) * (1 + scale[:, :, None, None]) + shift[:, :, None, None]


class AdaINResBlock(nn.Module):
    """Residual block of two 3x3 convolutions, each followed by AdaIN with given parameters."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.conv1 = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3))
        self.conv2 = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3))

    n_params_per_channel = 4  # scale and shift of two AdaIN layers

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        s1, b1, s2, b2 = params.chunk(4, dim=1)
        h = F.relu(adaptive_instance_norm(self.conv1(x), s1, b1))
        return x + adaptive_instance_norm(self.conv2(h), s2, b2)


class ResBlock(nn.Module):
    """Two 3x3 convolutions with a skip connection."""

    def __init__(self, channels: int, norm: str) -> None:
        super().__init__()
        self.body = nn.Sequential(
            ConvBlock(channels, channels, 3, norm=norm),
            ConvBlock(channels, channels, 3, norm=norm, act="none"),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SemanticEncoder(nn.Module):
    """E_m: image -> semantic map."""

    def __init__(self, c_in: int, width: int, c_out: int, n_down: int, n_res: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBlock(c_in, width, 5, norm="in")]
        channels = width
        for i in range(n_down):
            nxt = c_out if i == n_down - 1 else min(2 * channels, c_out)
            layers.append(ConvBlock(channels, nxt, 4, stride=2, norm="in"))
            channels = nxt
        layers += [ResBlock(channels, "in") for _ in range(n_res)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ContentEncoder(nn.Module):
    """E_c: semantic map -> content map (same spatial size)."""

    def __init__(self, c_in: int, c_out: int, n_res: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            ConvBlock(c_in, c_out, 3, norm="in"), *[ResBlock(c_out, "in") for _ in range(n_res)]
        )

    def forward(self, m: torch.Tensor) -> torch.Tensor:
        return self.net(m)


class CodeEncoder(nn.Module):
    """E_s / E_a: map -> global code vector (strided convs, global average pool, linear)."""

    def __init__(self, c_in: int, width: int, code_dim: int, n_down: int, first_kernel: int):
        super().__init__()
        layers: list[nn.Module] = [ConvBlock(c_in, width, first_kernel)]
        channels = width
        for _ in range(n_down):
            layers.append(ConvBlock(channels, 2 * channels, 4, stride=2))
            channels *= 2
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, code_dim)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class AdaINDecoder(nn.Module):
    """G(map, code): AdaIN residual blocks, optional upsampling, output convolution.

    The AdaIN scales and shifts of every block come from one MLP of the code. ``out_size``
    (H, W) forces the output size (odd image sizes after downsampling).
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        code_dim: int,
        mlp_dim: int,
        n_res: int,
        n_up: int,
        final: str,
        out_size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.res = nn.ModuleList(AdaINResBlock(c_in) for _ in range(n_res))
        up: list[nn.Module] = []
        channels = c_in
        for _ in range(n_up):
            up += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                ConvBlock(channels, max(channels // 2, 8), 3, norm="ln"),
            ]
            channels = max(channels // 2, 8)
        self.up = nn.Sequential(*up)
        self.out = ConvBlock(channels, c_out, 5 if final == "tanh" else 3, act=final)
        self.out_size = out_size
        self.n_block_params = AdaINResBlock.n_params_per_channel * c_in
        self.mlp = nn.Sequential(
            nn.Linear(code_dim, mlp_dim),
            nn.ReLU(),
            nn.Linear(mlp_dim, mlp_dim),
            nn.ReLU(),
            nn.Linear(mlp_dim, self.n_block_params * n_res),
        )

    def forward(self, h: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        params = self.mlp(code.flatten(1)).split(self.n_block_params, dim=1)
        for block, p in zip(self.res, params, strict=True):
            h = block(h, p)
        out = self.out(self.up(h))
        if self.out_size is not None and tuple(out.shape[-2:]) != tuple(self.out_size):
            out = F.interpolate(out, size=self.out_size, mode="bilinear", align_corners=False)
        return out


class PatchDiscriminator(nn.Module):
    """Multi-scale LSGAN patch discriminator: one small conv net per scale, outputs concatenated.

    Each scale: conv 4x4 stride 2 (w) -> LeakyReLU -> conv 4x4 stride 2 (2w) -> LeakyReLU ->
    conv 1x1 -> one score per patch and head; the input is average-pooled by 2 between scales.
    """

    def __init__(self, c_in: int, width: int, scales: int, heads: int = 1) -> None:
        super().__init__()
        self.nets = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(c_in, width, 4, 2, 1),
                nn.LeakyReLU(0.2),
                nn.Conv2d(width, 2 * width, 4, 2, 1),
                nn.LeakyReLU(0.2),
                nn.Conv2d(2 * width, heads, 1),
            )
            for _ in range(scales)
        )

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Patch scores per scale; with ``labels``, each sample's score map is that of its
        label's head (a discriminator conditioned on the label)."""
        outs = []
        for i, net in enumerate(self.nets):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            out = net(x)
            if labels is not None:
                out = out[torch.arange(len(out), device=out.device), labels].unsqueeze(1)
            outs.append(out)
        return outs
