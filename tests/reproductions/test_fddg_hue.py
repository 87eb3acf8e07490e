"""Hue diagnostics of T's sampled styles on coloured digits."""

from __future__ import annotations

import pytest
import torch

from fairdg.reproductions.fddg_hue import (
    BINS,
    digit_mask,
    histogram,
    hue_report,
    rgb_to_hue_saturation,
)


def _digits(colour: tuple[float, float, float], n: int = 4, white: bool = False) -> torch.Tensor:
    """n 3x8x8 images: a coloured 4x4 'digit' on a black (or white) background."""
    x = torch.ones(n, 3, 8, 8) if white else torch.zeros(n, 3, 8, 8)
    x[:, :, 2:6, 2:6] = torch.tensor(colour).view(1, 3, 1, 1)
    return x


def test_hue_and_saturation_of_primaries_and_greys():
    x = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 0], [0.5, 0.5, 0.5]])
    hue, sat = rgb_to_hue_saturation(x.T.reshape(1, 3, 5, 1))
    assert hue.flatten().tolist() == pytest.approx([0.0, 1 / 3, 2 / 3, 1 / 6, 0.0])
    assert sat.flatten().tolist() == pytest.approx([1, 1, 1, 1, 0])
    mask = digit_mask(_digits((0, 1, 0), white=True))
    assert int(mask.sum()) == 4 * 16  # the digit only, not the white background
    assert histogram(torch.tensor([0.0, 0.5, 0.51])).sum() == pytest.approx(1.0)
    assert len(histogram(torch.tensor([0.1]))) == BINS


class _RollColours:
    """A stand-in T whose DataAug moves every colour channel by one (red -> green ...)."""

    def augment(self, x, z, generator=None, style_scale=1.0):
        return x.roll(1, dims=1), z


def test_hue_report_sees_styles_land_on_the_target_colour():
    red, green, blue = _digits((1, 0, 0)), _digits((0, 1, 0)), _digits((0, 0, 1))
    z = torch.zeros(8, dtype=torch.long)
    # sources red and green; rolled: red -> green, green -> blue (the target)
    report = hue_report(_RollColours(), [red, green], blue, z)
    assert report["coloured_share"] == pytest.approx(1.0)
    assert report["near_target"] == pytest.approx(0.5)  # the rolled green digits
    assert report["near_source"] == pytest.approx(0.5)  # the rolled red digits (now green)
    assert report["near_neither"] == pytest.approx(0.0)
    assert report["augmented"].sum() == pytest.approx(1.0)


def test_wider_styles_are_drawn_from_a_wider_prior():
    """``style_scale`` multiplies the sampled style codes (the rest of DataAug unchanged)."""
    from fairdg.transformation.config import TransformationConfig
    from fairdg.transformation.model import TransformationModel

    config = TransformationConfig(input_shape=(4,))
    model = TransformationModel(config).eval()
    x, z = torch.randn(6, 4), torch.zeros(6, dtype=torch.long)
    codes = []
    model.decode = lambda m, s: codes.append(s) or m[:, :4] * 0  # record the style used
    for scale in (1.0, 3.0):
        model.augment(x, z, generator=torch.Generator().manual_seed(0), style_scale=scale)
    assert torch.allclose(codes[1], 3.0 * codes[0])
