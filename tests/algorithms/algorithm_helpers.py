"""Shared helpers of the algorithm tests: build any registered algorithm small, draw batches."""

from __future__ import annotations

from typing import Any

import torch

from fairdg.algorithms import ALGORITHMS, Algorithm, build_algorithm
from fairdg.data.base import Batch, MultiDomainDataset
from fairdg.hparams import declared_subset
from fairdg.training.sampler import DomainSampler
from fairdg.transformation import TransformationModel, default_config

# Small networks so that every test takes milliseconds; keys an algorithm does not declare are
# dropped (resolve() rejects unknown keys).
SMALL = {"batch_size": 8, "cnn_width": 8, "mlp_width": 16, "disc_width": 16}
# scikit-learn / fairlearn models: a few regularised fits (tiny images are nearly separable,
# which costs lbfgs hundreds of iterations per fit)
SMALL |= {"expgrad_max_iter": 3, "lr_c": 0.1}


def build(name: str, dataset: MultiDomainDataset, seed: int = 0, **overrides: Any) -> Algorithm:
    """Construct `name` for `dataset` (all its domains train) under ``torch.manual_seed(seed)``."""
    cls = ALGORITHMS.get(name)
    hparams = declared_subset(cls.declared_hparams(), {**SMALL, **overrides})
    torch.manual_seed(seed)
    return build_algorithm(
        name,
        dataset.input_shape,
        dataset.num_classes,
        len(dataset.domains),
        hparams,
        num_groups=dataset.num_groups,
        **extras(cls, dataset),
    )


def extras(cls: type[Algorithm], dataset: MultiDomainDataset) -> dict[str, Any]:
    """Extra constructor arguments a registry-driven test passes to build `cls` on a tiny
    `dataset`: a small untrained transformation model (fixed seed) for the FDDG variants that
    use one, the domains as training rows for those that take them (EIIL), nothing for the
    others."""
    if cls.USES_TRAINING_DATA:
        return {"train_domains": list(dataset.domains)}
    if not cls.USES_TRANSFORMATION:
        return {}
    small = {
        "width": 4,
        "semantic_channels": 8,
        "content_channels": 8,
        "mlp_dim": 8,
        "disc_width": 4,
        "hidden": 8,
        "semantic_dim": 8,
        "content_dim": 4,
    }
    image = {"x_low": 0.0, "x_high": 1.0} if len(dataset.input_shape) == 3 else {}
    config = default_config(dataset, use_sensitive=cls.SENSITIVE_FACTOR, **small, **image)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = TransformationModel(config)
    model.meta = {"dataset": dataset.name, "train_domains": []}
    return {"transformation": model}


def draw(
    dataset: MultiDomainDataset, n_steps: int, batch_size: int = 8, seed: int = 0
) -> list[list[Batch]]:
    """`n_steps` lists of per-domain minibatches, fixed by `seed`."""
    sampler = DomainSampler(dataset.domains, batch_size, seed)
    return [sampler() for _ in range(n_steps)]


def flat_state(algorithm: Algorithm) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in algorithm.state_dict().items()}
