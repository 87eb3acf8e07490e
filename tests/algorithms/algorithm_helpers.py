"""Shared helpers of the algorithm tests: build any registered algorithm small, draw batches."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from fairdg.algorithms import ALGORITHMS, Algorithm, build_algorithm
from fairdg.data.base import Batch, MultiDomainDataset
from fairdg.training.sampler import DomainSampler

# Small networks so that every test takes milliseconds; keys an algorithm does not declare are
# dropped (resolve() rejects unknown keys).
SMALL = {"batch_size": 8, "cnn_width": 8, "mlp_width": 16, "disc_width": 16}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Run torch on one thread (import this fixture into a test module to apply it there).

    On tiny tensors extra threads only add overhead, and on a loaded two-core machine their
    spin-waiting made the algorithm tests about ten times slower (81 s against 8 s).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(name: str, dataset: MultiDomainDataset, seed: int = 0, **overrides: Any) -> Algorithm:
    """Construct `name` for `dataset` (all its domains train) under ``torch.manual_seed(seed)``."""
    cls = ALGORITHMS.get(name)
    declared = cls.declared_hparams()
    hparams = {k: v for k, v in {**SMALL, **overrides}.items() if k in declared}
    torch.manual_seed(seed)
    return build_algorithm(
        name,
        dataset.input_shape,
        dataset.num_classes,
        len(dataset.domains),
        hparams,
        num_groups=dataset.num_groups,
        **cls.test_extras(dataset),
    )


def draw(
    dataset: MultiDomainDataset, n_steps: int, batch_size: int = 8, seed: int = 0
) -> list[list[Batch]]:
    """`n_steps` lists of per-domain minibatches, fixed by `seed`."""
    sampler = DomainSampler(dataset.domains, batch_size, seed)
    return [sampler() for _ in range(n_steps)]


def flat_state(algorithm: Algorithm) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in algorithm.state_dict().items()}
