"""Do T's sampled styles leave the source colours? Hue of digit pixels in x'' vs real domains.

On ccMNIST the covariate shift is the digit colour (one hue per domain) and the background is
black or white (no hue). For FDDG's synthetic domains to help on an unseen colour, the styles
T samples must put digits in hues other than the sources'. `hue_report` takes the coloured
(digit) pixels of real rows -- saturation above a threshold, which excludes the grey
backgrounds -- and measures the hue of the same pixels in x'' = DataAug(x) (the content, hence
the digit's position, is kept), against the hues of the source and target domains' digits.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from fairdg.algorithms.augment import rgb_to_hsv
from fairdg.reporting.figures import legend_below, new_figure, save, styled
from fairdg.transformation.model import TransformationModel

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BINS = 36  # 10 degrees each


def rgb_to_hue_saturation(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pixel HSV hue in [0, 1) and saturation of images ``(N, 3, H, W)`` (clamped to
    [0, 1]; `fairdg.algorithms.augment.rgb_to_hsv`)."""
    hsv = rgb_to_hsv(x.clamp(0, 1))
    return hsv[:, 0] % 1.0, hsv[:, 1]


def digit_mask(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Coloured (digit) pixels of real ccMNIST images: saturation above `threshold`."""
    return rgb_to_hue_saturation(x)[1] > threshold


def histogram(hues: torch.Tensor) -> torch.Tensor:
    """Normalised histogram of hues over `BINS` equal bins of [0, 1)."""
    counts = torch.bincount((hues * BINS).long().clamp(0, BINS - 1), minlength=BINS).float()
    return counts / counts.sum().clamp_min(1.0)


def _near(hues: torch.Tensor, centres: list[float], width: float = 1 / 12) -> torch.Tensor:
    """Rows of `hues` within `width` (30 degrees) of any centre, on the hue circle."""
    near = torch.zeros_like(hues, dtype=torch.bool)
    for c in centres:
        d = (hues - c).abs()
        near |= torch.minimum(d, 1 - d) <= width
    return near


def _mode(hues: torch.Tensor) -> float:
    return (int(histogram(hues).argmax()) + 0.5) / BINS


@torch.no_grad()
def hue_report(
    model: TransformationModel,
    sources: list[torch.Tensor],
    target: torch.Tensor,
    z: torch.Tensor,
    seed: int = 0,
    saturated: float = 0.2,
    style_scale: float = 1.0,
) -> dict[str, object]:
    """Hue of digit pixels: real source domains, real target domain, x'' from the sources.

    Returns the histograms (``source``, ``target``, ``augmented``), and for x'': the share of
    digit pixels that are coloured at all (saturation above `saturated`), and among those the
    shares near a source hue, near the target hue (30 degrees either side of each domain's most
    frequent hue), and near neither. ``style_scale`` draws the styles from N(0, scale^2 I)
    instead of T's prior (`TransformationModel.augment`).
    """
    x = torch.cat(sources)
    mask = digit_mask(x)
    generator = torch.Generator(device=x.device).manual_seed(seed)
    augmented, _ = model.augment(x, z, generator=generator, style_scale=style_scale)
    hue_aug, sat_aug = rgb_to_hue_saturation(augmented)
    coloured = mask & (sat_aug > saturated)
    src_hues = [rgb_to_hue_saturation(s)[0][digit_mask(s)] for s in sources]
    tgt_hues = rgb_to_hue_saturation(target)[0][digit_mask(target)]
    src_centres = [_mode(h) for h in src_hues if len(h)]
    tgt_centre = _mode(tgt_hues) if len(tgt_hues) else math.nan
    aug = hue_aug[coloured]
    near_src, near_tgt = _near(aug, src_centres), _near(aug, [tgt_centre])
    n = max(len(aug), 1)
    return {
        "source": histogram(torch.cat(src_hues)),
        "target": histogram(tgt_hues),
        "augmented": histogram(aug),
        "coloured_share": float(coloured.sum() / mask.sum().clamp_min(1)),
        "near_source": float(near_src.sum()) / n,
        "near_target": float(near_tgt.sum()) / n,
        "near_neither": float((~near_src & ~near_tgt).sum()) / n,
    }


def plot_hue_histograms(report: dict[str, object], path: str | Path, title: str = "") -> Path:
    """`hue_figure` written as PNG and PDF (`path` with each suffix); the PNG's path."""
    return save(hue_figure(report, title), path)


@styled
def hue_figure(report: dict[str, Any], title: str = "") -> Figure:
    """The three hue histograms (source domains, target domain, x'' = DataAug(x)), one paper
    column wide."""
    centres = [(i + 0.5) * 360 / BINS for i in range(BINS)]
    fig, axes = new_figure(1, 1)
    ax = axes[0, 0]
    for name, colour in (("source", "0.5"), ("target", "tab:red"), ("augmented", "tab:blue")):
        label = {"source": "source domains", "target": "target domain"}.get(name, "x'' (DataAug)")
        percent = [100 * v for v in report[name].tolist()]
        ax.step(centres, percent, where="mid", color=colour, label=label)
    ax.set_xlabel("hue of digit pixels (degrees)")
    ax.set_ylabel("share of digit pixels (%)")
    ax.set(xlim=(0, 360), xticks=range(0, 361, 60), title=title)
    legend_below(fig, ax)
    return fig
