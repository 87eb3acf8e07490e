"""Random data augmentation written in torch: colour jitter for images, noise for tabular rows.

The colour operations follow torchvision's ``ColorJitter`` semantics on RGB batches
``(N, 3, H, W)`` with values in [0, 1], with one random factor per image:

- brightness ``b``: ``x * b``;
- contrast ``c``: ``c * x + (1 - c) * mean(gray(x))`` (the mean over the image);
- saturation ``s``: ``s * x + (1 - s) * gray(x)``;
- hue ``h`` (in turns, ``-0.5 <= h <= 0.5``): the hue channel of HSV shifted by ``h``.

Results are clamped to [0, 1]. Randomness comes from the ``generator`` passed in (torch's global
generator by default), so runs are reproducible under ``torch.manual_seed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

_GRAY = (0.299, 0.587, 0.114)  # ITU-R 601-2 luma, as torchvision


def _per_image(factor: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(factor, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma of RGB images, shape ``(N, 1, H, W)``."""
    w = torch.tensor(_GRAY, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def adjust_brightness(x: torch.Tensor, factor: torch.Tensor | float) -> torch.Tensor:
    """Brightness: ``x * factor`` (one factor per image, or one for all), clamped to [0, 1]."""
    return (x * _per_image(factor, x)).clamp(0, 1)


def adjust_contrast(x: torch.Tensor, factor: torch.Tensor | float) -> torch.Tensor:
    """Contrast: blend with the mean luma of each image, ``f x + (1 - f) mean``, clamped."""
    mean = grayscale(x).mean(dim=(1, 2, 3), keepdim=True)
    f = _per_image(factor, x)
    return (f * x + (1 - f) * mean).clamp(0, 1)


def adjust_saturation(x: torch.Tensor, factor: torch.Tensor | float) -> torch.Tensor:
    """Saturation: blend with the image's own luma, ``f x + (1 - f) gray(x)``, clamped."""
    f = _per_image(factor, x)
    return (f * x + (1 - f) * grayscale(x)).clamp(0, 1)


def rgb_to_hsv(x: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1] to HSV with all three channels in [0, 1]."""
    r, g, b = x.unbind(1)
    maxc, _ = x.max(1)
    minc, _ = x.min(1)
    delta = maxc - minc
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    h = torch.where(
        maxc == r,
        ((g - b) / safe) % 6,
        torch.where(maxc == g, (b - r) / safe + 2, (r - g) / safe + 4),
    )
    h = torch.where(delta > 0, h / 6, torch.zeros_like(h))
    s = torch.where(
        maxc > 0,
        delta / torch.where(maxc > 0, maxc, torch.ones_like(maxc)),
        torch.zeros_like(maxc),
    )
    return torch.stack([h, s, maxc], dim=1)


def hsv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """Inverse of `rgb_to_hsv`."""
    h, s, v = x.unbind(1)
    # f(n) = v - v s max(0, min(k, 4 - k, 1)), k = (n + 6 h) mod 6, for n = 5, 3, 1 -> r, g, b
    channels = []
    for n in (5.0, 3.0, 1.0):
        k = (n + 6 * h) % 6
        channels.append(v - v * s * torch.clamp(torch.minimum(k, 4 - k), 0, 1))
    return torch.stack(channels, dim=1)


def adjust_hue(x: torch.Tensor, shift: torch.Tensor | float) -> torch.Tensor:
    """Hue: the HSV hue channel shifted by `shift` turns (in [-0.5, 0.5]), wrapped around."""
    hsv = rgb_to_hsv(x)
    s = torch.as_tensor(shift, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
    hue = (hsv[:, 0] + s) % 1.0
    return hsv_to_rgb(torch.stack([hue, hsv[:, 1], hsv[:, 2]], dim=1)).clamp(0, 1)


def _factors(n: int, spread: float, x: torch.Tensor, generator) -> torch.Tensor:
    """Uniform factors in [max(0, 1 - spread), 1 + spread]."""
    low, high = max(0.0, 1.0 - spread), 1.0 + spread
    u = torch.rand(n, generator=generator, dtype=x.dtype, device=x.device)
    return low + (high - low) * u


def color_jitter(
    x: torch.Tensor,
    brightness: float = 0.0,
    contrast: float = 0.0,
    saturation: float = 0.0,
    hue: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Randomly jitter a batch of RGB images, one set of factors per image.

    Parameters
    ----------
    x
        Images ``(N, 3, H, W)`` in [0, 1]. Single-channel images get brightness and contrast
        only (saturation and hue are not defined for them).
    brightness, contrast, saturation
        Spread ``a >= 0``: each factor is drawn from ``U(max(0, 1 - a), 1 + a)``; 0 disables.
    hue
        Spread ``0 <= h <= 0.5``: the shift is drawn from ``U(-h, h)`` (in turns); 0 disables.
    generator
        Source of randomness (torch's global generator when None).

    The four operations are applied in a random order, as in torchvision.
    """
    for name, value in (
        ("brightness", brightness),
        ("contrast", contrast),
        ("saturation", saturation),
    ):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
    if not 0 <= hue <= 0.5:
        raise ValueError(f"hue must be in [0, 0.5], got {hue!r}")
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"x must be images of shape (N, 1 or 3, H, W), got {tuple(x.shape)}")
    n, rgb = x.shape[0], x.shape[1] == 3
    ops: list[tuple[Callable[[torch.Tensor, Any], torch.Tensor], torch.Tensor]] = []
    if brightness > 0:
        ops.append((adjust_brightness, _factors(n, brightness, x, generator)))
    if contrast > 0:
        ops.append(
            (adjust_contrast if rgb else _gray_contrast, _factors(n, contrast, x, generator))
        )
    if saturation > 0 and rgb:
        ops.append((adjust_saturation, _factors(n, saturation, x, generator)))
    if hue > 0 and rgb:
        u = torch.rand(n, generator=generator, dtype=x.dtype, device=x.device)
        ops.append((adjust_hue, (2 * u - 1) * hue))
    order = torch.randperm(len(ops), generator=generator).tolist() if ops else []
    for i in order:
        op, factor = ops[i]
        x = op(x, factor)
    return x


def _gray_contrast(x: torch.Tensor, factor: torch.Tensor | float) -> torch.Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    f = _per_image(factor, x)
    return (f * x + (1 - f) * mean).clamp(0, 1)


def gaussian_noise(
    x: torch.Tensor, std: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``x + N(0, std^2)`` element-wise (for standardised tabular features)."""
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std!r}")
    if std == 0:
        return x
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    return x + std * noise


def random_affine(
    x: torch.Tensor,
    degrees: float = 15.0,
    translate: tuple[float, float] = (0.1, 0.1),
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Random rotation and shift of each image (torchvision's ``RandomAffine(degrees,
    translate)`` without scale and shear): an angle uniform in ``[-degrees, degrees]``
    (counter-clockwise as displayed), a shift uniform in ``[-translate[0] W, translate[0] W]``
    horizontally and ``[-translate[1] H, translate[1] H]`` vertically (pixels), bilinear, zero
    fill. Images ``(N, C, H, W)``, float; the rotation is about the image centre.

    Parameters
    ----------
    degrees
        Largest rotation in degrees (>= 0).
    translate
        Largest shift as fractions of the width and of the height (each in [0, 1]).
    generator
        Source of randomness (torch's global generator when None).
    """
    if x.dim() != 4 or not torch.is_floating_point(x):
        raise ValueError(f"random_affine expects float images (N, C, H, W), got {tuple(x.shape)}")
    if degrees < 0 or not all(0 <= t <= 1 for t in translate):
        raise ValueError(
            f"random_affine: degrees must be >= 0 and translate in [0, 1], got {degrees!r}, "
            f"{translate!r}"
        )
    n, _, h, w = x.shape
    u = torch.rand(n, 3, generator=generator, dtype=x.dtype) * 2 - 1  # in [-1, 1)
    theta = torch.deg2rad(u[:, 0] * degrees)
    # shift in affine_grid's normalised coordinates: 2 pixels / size per pixel
    tx, ty = u[:, 1] * translate[0] * 2, u[:, 2] * translate[1] * 2
    cos, sin = torch.cos(theta), torch.sin(theta)
    # output pixel p samples the input at R^-1 (p - t): rotate the picture by +theta on screen
    # (y points down, as `fairdg.data.transforms.rotate`) and move it by (tx, ty)
    matrix = torch.stack(
        [
            torch.stack([cos, -sin, -(cos * tx - sin * ty)], 1),
            torch.stack([sin, cos, -(sin * tx + cos * ty)], 1),
        ],
        1,
    ).to(x.device)
    grid = torch.nn.functional.affine_grid(matrix, list(x.shape), align_corners=False)
    return torch.nn.functional.grid_sample(
        x, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
