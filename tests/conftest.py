"""Shared fixtures: tiny synthetic multi-domain datasets and the reference-data folder.

``tiny_tabular`` and ``tiny_image`` are small datasets (three domains, a few dozen samples each,
binary target and sensitive attribute) on which any algorithm can take a few steps in
milliseconds. ``reference_data`` is the folder named by ``$FAIRDG_DATA`` (a copy of the real
MNIST and UCI Adult files); tests that need it skip when it is not set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from threadpoolctl import threadpool_limits

from fairdg.data.base import Domain, MultiDomainDataset

# The tests train tiny models, for which intra-op threads only add overhead, and a busy machine
# makes oversubscribed threads many times slower (spinning OpenMP threads: a fairlearn sweep
# took 134 s instead of 26 s at load 4). torch's threads here, numpy's and scipy's BLAS
# (scikit-learn, fairlearn) through threadpoolctl.
torch.set_num_threads(1)
threadpool_limits(1)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Every test starts on one torch thread, even after code that sets its own (a Ray task
    run in this process does not restore it)."""
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(1)


def make_tiny(
    image: bool = False,
    n_per_domain: int = 48,
    n_domains: int = 3,
    seed: int = 0,
    n_features: int = 6,
) -> MultiDomainDataset:
    """y depends on x, z on y (per-domain strength), and x shifts by domain."""
    g = torch.Generator().manual_seed(seed)
    domains = []
    for d in range(n_domains):
        y = torch.arange(n_per_domain) % 2
        flip = torch.rand(n_per_domain, generator=g) < 0.2 + 0.2 * d
        z = (y ^ flip.long()).long()
        z[:2] = torch.tensor([0, 1])  # both groups always present
        if image:
            x = torch.rand(n_per_domain, 3, 8, 8, generator=g) * 0.5
            x[:, d % 3] += y.view(-1, 1, 1).float() * 0.5
        else:
            x = torch.randn(n_per_domain, n_features, generator=g) + d * 0.5
            x[:, 0] += 2.0 * y.float()
            x[:, 1] += z.float()
        domains.append(Domain(f"d{d}", x.float(), y.long(), z))
    shape = (3, 8, 8) if image else (n_features,)
    return MultiDomainDataset(
        name="tiny-image" if image else "tiny",
        domains=domains,
        input_shape=shape,
        class_names=["neg", "pos"],
        group_names=["a", "b"],
        standardize=None if image else list(range(n_features)),
        default_steps=20,
        default_hparams={"batch_size": 8},
    )


@pytest.fixture
def tiny_tabular() -> MultiDomainDataset:
    return make_tiny(image=False)


@pytest.fixture
def tiny_image() -> MultiDomainDataset:
    return make_tiny(image=True)


@pytest.fixture(params=["tabular", "image"])
def tiny(request) -> MultiDomainDataset:
    return make_tiny(image=request.param == "image")


@pytest.fixture
def reference_data() -> Path:
    """The folder of real reference data (``$FAIRDG_DATA``); skips when absent."""
    root = os.environ.get("FAIRDG_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("FAIRDG_DATA is not set to a folder of reference data (mnist/, adult/)")
    return Path(root)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never touch the user's download cache from tests."""
    monkeypatch.setenv("FAIRDG_CACHE", str(tmp_path_factory.mktemp("cache")))
