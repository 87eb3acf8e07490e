"""Colour jitter and feature noise (fairdg.algorithms.augment), against hand-computed cases."""

from __future__ import annotations

import pytest
import torch

from fairdg.algorithms.augment import (
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    color_jitter,
    gaussian_noise,
    grayscale,
    hsv_to_rgb,
    rgb_to_hsv,
)


def _images(n=4, seed=0):
    return torch.rand(n, 3, 5, 5, generator=torch.Generator().manual_seed(seed))


def test_neutral_factors_are_identities():
    x = _images()
    assert torch.allclose(adjust_brightness(x, 1.0), x)
    assert torch.allclose(adjust_contrast(x, 1.0), x)
    assert torch.allclose(adjust_saturation(x, 1.0), x)
    assert torch.allclose(adjust_hue(x, 0.0), x, atol=1e-5)
    assert torch.allclose(adjust_hue(x, 1.0), x, atol=1e-5)  # a full turn
    assert torch.equal(color_jitter(x), x)


def test_hsv_round_trip_and_known_colours():
    x = _images(8)
    assert torch.allclose(hsv_to_rgb(rgb_to_hsv(x)), x, atol=1e-5)
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    assert torch.allclose(rgb_to_hsv(red).flatten(), torch.tensor([0.0, 1.0, 1.0]))
    green = torch.tensor([0.0, 1.0, 0.0]).view(1, 3, 1, 1)
    assert torch.allclose(adjust_hue(red, 1 / 3), green, atol=1e-6)
    gray = torch.full((1, 3, 1, 1), 0.4)
    assert torch.allclose(adjust_hue(gray, 0.25), gray)  # no hue to shift


def test_saturation_contrast_brightness_formulas():
    x = _images()
    gray = grayscale(x)
    assert torch.allclose(adjust_saturation(x, 0.0), gray.expand_as(x))
    flat = adjust_contrast(x, 0.0)
    assert torch.allclose(flat, gray.mean(dim=(1, 2, 3), keepdim=True).expand_as(x))
    assert torch.allclose(adjust_brightness(x, 0.5), 0.5 * x)
    assert adjust_brightness(x, 3.0).max() <= 1.0  # clamped


def test_color_jitter_is_random_per_image_in_range_and_seeded():
    x = _images(6).clone()
    x[1] = x[0]
    args = dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.2)
    out = color_jitter(x, **args, generator=torch.Generator().manual_seed(3))
    again = color_jitter(x, **args, generator=torch.Generator().manual_seed(3))
    assert out.shape == x.shape and torch.equal(out, again)
    assert 0 <= float(out.min()) and float(out.max()) <= 1
    assert not torch.allclose(out[0], out[1])  # same image, different factors
    one_channel = color_jitter(x[:, :1], **args)
    assert one_channel.shape == (6, 1, 5, 5)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"brightness": -0.1}, "brightness"), ({"hue": 0.7}, "hue"), ({"contrast": -1}, "contrast")],
)
def test_color_jitter_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        color_jitter(_images(), **kwargs)
    with pytest.raises(ValueError, match="shape"):
        color_jitter(torch.rand(4, 10))


def test_gaussian_noise():
    x = torch.zeros(4000, 5)
    assert torch.equal(gaussian_noise(x, 0.0), x)
    noisy = gaussian_noise(x, 0.3, generator=torch.Generator().manual_seed(0))
    assert float(noisy.std()) == pytest.approx(0.3, rel=0.05)
    with pytest.raises(ValueError, match="std"):
        gaussian_noise(x, -1.0)
