"""ccMNIST (FDDG, appendix C.1): coloured digits on coloured backgrounds, dependence shift.

Construction (METHODS.md, "Datasets"): the 70,000 MNIST training and test images are shuffled
(seeded) and dealt round-robin into three domains, red, green and blue. Target y = 1 for digits
5-9 and 0 for 0-4 (the paper's text; the authors' script uses the reverse). Sensitive
z = y XOR f with f ~ Bernoulli(p_e) per domain; the binarised digit (intensity > 0.5) is painted
in the domain's colour on a white background when z = 1 and a black one when z = 0. Images are
3 x 28 x 28 floats in [0, 1] (the authors resize to 224; we keep 28 on CPU).

The dependence score of a domain, min_a P(y=1|z=a) / max_a P(y=1|z=a), is p / (1 - p) for
balanced classes, so the default p = (0.1, 0.3, 0.465) gives the paper's 0.11, 0.43, 0.87.
With ``exact=True`` (default) the flips are drawn without replacement: exactly
round(p * n) samples of each class in a domain get the flipped background, so the realised
score equals the requested one up to class imbalance (within 0.005 on MNIST); ``exact=False``
draws i.i.d. Bernoulli flips as in the authors' script (about +/- 0.01 of sampling noise).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.data.mnist import SOURCE, load_arrays, to_float
from fairdg.data.transforms import COLOURS, colourise
from fairdg.datasets_info import CCMNIST_DOMAINS, DATASET_INFO

DOMAINS = CCMNIST_DOMAINS
DEFAULT_P = (0.1, 0.3, 0.465)


def _per_domain(value, name: str, low: float, high: float) -> list[float]:
    values = [value] * 3 if isinstance(value, int | float) else list(value)
    if len(values) != 3 or not all(
        isinstance(v, int | float) and low <= v <= high for v in values
    ):
        raise ValueError(
            f"ccmnist: {name} must be a number or 3 numbers (red, green, blue) in "
            f"[{low}, {high}], got {value!r}"
        )
    return [float(v) for v in values]


def flips(y: torch.Tensor, p: float, exact: bool, generator: torch.Generator) -> torch.Tensor:
    """0/1 flips with rate `p`: exactly round(p n_c) per class c, or i.i.d. Bernoulli(p)."""
    if not exact:
        return (torch.rand(len(y), generator=generator) < p).long()
    out = torch.zeros(len(y), dtype=torch.long)
    for c in torch.unique(y):
        members = (y == c).nonzero().flatten()
        chosen = members[torch.randperm(len(members), generator=generator)]
        out[chosen[: round(p * len(members))]] = 1
    return out


def load_ccmnist(
    root: str | None = None,
    *,
    p: Sequence[float] | float = DEFAULT_P,
    dependence: Sequence[float] | float | None = None,
    subsample: int | None = None,
    exact: bool = True,
    seed: int = 0,
    download: bool = False,
) -> MultiDomainDataset:
    """Coloured MNIST with a per-domain dependence between digit class and background.

    Parameters
    ----------
    root
        Folder holding the four MNIST IDX files (default: ``$FAIRDG_DATA/mnist`` or the cache).
    p
        Flip probability per domain (red, green, blue): P(z != y). 0.5 makes y and z independent.
    dependence
        Alternatively the requested dependence score per domain in (0, 1]; sets
        p = d / (1 + d) and overrides `p`.
    subsample
        Keep this many images per domain (None: all, 23,333 or 23,334), for quick runs.
    exact
        Exact flip counts per class (True) or i.i.d. Bernoulli flips (False).
    seed
        Seed of the shuffle, the flips and the subsample.
    download
        Fetch missing MNIST files into the cache.
    """
    if dependence is not None:
        deps = _per_domain(dependence, "dependence", 1e-6, 1.0)
        probs = [d / (1 + d) for d in deps]
    else:
        probs = _per_domain(p, "p", 0.0, 1.0)
    if subsample is not None and (not isinstance(subsample, int) or not 2 <= subsample <= 23_333):
        raise ValueError(
            f"ccmnist: subsample must be an integer in [2, 23333] or None, got {subsample!r}"
        )
    (train_x, train_y), (test_x, test_y), paths = load_arrays(root, download)
    images = np.concatenate([train_x, test_x])
    digits = torch.from_numpy(np.concatenate([train_y, test_y]).astype(np.int64))
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(digits), generator=g)

    domains = []
    for e, (name, prob) in enumerate(zip(DOMAINS, probs, strict=True)):
        index = order[e::3]  # round-robin deal
        if subsample is not None:
            index = index[:subsample]
        y = (digits[index] >= 5).long()
        z = y ^ flips(y, prob, exact, g)
        x = colourise(to_float(images[index.numpy()]), COLOURS[name], z)
        domains.append(Domain(name, x, y, z))
    return MultiDomainDataset(
        name="ccmnist",
        domains=domains,
        input_shape=(3, 28, 28),
        class_names=["0-4", "5-9"],
        group_names=["black background", "white background"],
        sensitive_name="background colour",
        default_steps=DATASET_INFO["ccmnist"].default_steps,
        default_hparams=dict(DATASET_INFO["ccmnist"].default_hparams),
        meta={
            "source": SOURCE,
            "construction": "FDDG appendix C.1 (28 x 28, CPU)",
            "p": probs,
            "requested_dependence": [q / (1 - q) if q < 0.5 else (1 - q) / q for q in probs],
            "exact": exact,
            "files": {k: str(v) for k, v in paths.items()},
        },
    )
