"""scikit-learn's bundled 8 x 8 handwritten digits (UCI Optical Recognition of Handwritten
Digits, test part; 1,797 images), with the MNIST variants as options, so that every image
experiment has an offline default.

``variant``:

- ``"inverted"`` (as ``mnist-inverted``): every image as it is (z = 0) and inverted (z = 1);
  one domain; target = the digit (10 classes).
- ``"rotated"`` (as ``mnist-rotated``): source = the images (z = 0), target = rotated by
  ``angle`` (z = 1); ``target_labeled_per_class`` rotated samples per class are always trained
  on and the test split is the rotated copy of a held-out ``test_fraction`` of the images.
- ``"coloured"`` (as ``ccmnist``): three domains red / green / blue, y = digit >= 5,
  z = y XOR Bernoulli(p_e) with exact per-class flip counts, digit coloured by domain on a
  white (z = 1) or black (z = 0) background; images 3 x 8 x 8.

Pixel values (0-16 in scikit-learn) are scaled to [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.data.ccmnist import DEFAULT_P, DOMAINS, _per_domain, flips
from fairdg.data.mnist import CLASS_NAMES, few_per_class
from fairdg.data.transforms import COLOURS, colourise, invert, rotate
from fairdg.datasets_info import DATASET_INFO

VARIANTS = ("inverted", "rotated", "coloured")
SOURCE = "scikit-learn load_digits (UCI Optical Recognition of Handwritten Digits), CC BY 4.0"


def _images() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    return x, torch.as_tensor(bunch.target, dtype=torch.long)


def load_digits(
    root: str | None = None,
    *,
    variant: str = "inverted",
    flatten: bool = False,
    angle: float = 30.0,
    target_labeled_per_class: int = 5,
    p: Sequence[float] | float = DEFAULT_P,
    test_fraction: float = 0.25,
    seed: int = 0,
) -> MultiDomainDataset:
    """The 8 x 8 digits as a multi-domain dataset (bundled with scikit-learn; `root` unused).

    Parameters
    ----------
    variant
        ``"inverted"``, ``"rotated"`` or ``"coloured"`` (see the module docstring).
    flatten
        Features as 64-vectors (MLP) instead of (C, 8, 8) images (CNN).
    angle, target_labeled_per_class
        The rotated variant's rotation (degrees) and labelled target samples per class.
    p
        The coloured variant's flip probability P(z != y) per domain (red, green, blue).
    test_fraction
        Share of the images held out as the test split (inverted and rotated variants).
    seed
        Seed of the held-out split, the target samples and the flips.
    """
    if variant not in VARIANTS:
        raise ValueError(f"digits: variant must be one of {VARIANTS}, got {variant!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"digits: test_fraction must lie in (0, 1), got {test_fraction!r}")
    x, digit = _images()
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(digit), generator=g)
    is_test = torch.zeros(len(digit), dtype=torch.bool)
    is_test[order[: int(test_fraction * len(digit))]] = True
    meta: dict[str, Any] = {"source": SOURCE, "variant": variant}
    if variant == "inverted":
        domains = [_inverted(x, digit, is_test)]
        classes, groups, sensitive = CLASS_NAMES, ["original", "inverted"], "inverted"
    elif variant == "rotated":
        domains = [_rotated(x, digit, is_test, order, target_labeled_per_class, angle)]
        classes, groups = CLASS_NAMES, ["source", "target"]
        sensitive = "domain (source / rotated target)"
    else:
        meta["p"] = _per_domain(p, "p", 0.0, 1.0)
        domains = _coloured(x, digit, order, meta["p"], g)
        classes, groups = ["0-4", "5-9"], ["black background", "white background"]
        sensitive = "background colour"
    if flatten:
        for d in domains:
            d.x = d.x.flatten(1)
    return MultiDomainDataset(
        name="digits",
        domains=domains,
        input_shape=tuple(domains[0].x.shape[1:]),
        class_names=classes,
        group_names=groups,
        sensitive_name=sensitive,
        default_steps=DATASET_INFO["digits"].default_steps,
        default_hparams=dict(DATASET_INFO["digits"].default_hparams),
        meta=meta,
    )


def _inverted(x: torch.Tensor, digit: torch.Tensor, is_test: torch.Tensor) -> Domain:
    z = torch.arange(2 * len(digit)) // len(digit)
    return Domain(
        "digits+inverted",
        torch.cat([x, invert(x)]),
        torch.cat([digit, digit]),
        z,
        test_mask=torch.cat([is_test, is_test]),
    )


def _rotated(x, digit, is_test, order, k: int, angle: float) -> Domain:
    train_order = order[~is_test[order]]
    target_i = few_per_class(digit, k, train_order)
    source_i = train_order[~torch.isin(train_order, target_i)]
    test_i = is_test.nonzero().flatten()
    xs = torch.cat([x[source_i], rotate(x[target_i], angle), rotate(x[test_i], angle)])
    n_s, n_t = len(source_i), len(target_i)
    train_mask = torch.zeros(len(xs), dtype=torch.bool)
    test_mask = torch.zeros(len(xs), dtype=torch.bool)
    train_mask[n_s : n_s + n_t] = True
    test_mask[n_s + n_t :] = True
    z = (torch.arange(len(xs)) >= n_s).long()
    y = digit[torch.cat([source_i, target_i, test_i])]
    return Domain("digits->rotated", xs, y, z, test_mask=test_mask, train_mask=train_mask)


def _coloured(x, digit, order, probs, g) -> list[Domain]:
    domains = []
    for e, (name, prob) in enumerate(zip(DOMAINS, probs, strict=True)):
        index = order[e::3]  # round-robin deal, as ccMNIST
        y = (digit[index] >= 5).long()
        z = y ^ flips(y, prob, True, g)
        domains.append(Domain(name, colourise(x[index], COLOURS[name], z), y, z))
    return domains
