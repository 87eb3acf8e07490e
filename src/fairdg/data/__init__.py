"""Datasets: the multi-domain data model and a registry of loaders.

``load_dataset(name, root=None, **options)`` builds a `MultiDomainDataset`. The registry is
built from the info records of the torch-free `fairdg.datasets_info`: each names its loader,
``"<module>:<function>"`` in this package, once. To add a dataset, write ``data/<name>.py``
with its loader and add its `DatasetInfo` to ``DATASET_INFO``; nothing here changes.
"""

from __future__ import annotations

import inspect
from importlib import import_module
from typing import Any

import torch
import torch.nn.functional as F

from fairdg.data.base import Batch, Domain, MultiDomainDataset, Split
from fairdg.data.info import DatasetInfo, without_location
from fairdg.datasets_info import DATASET_INFO
from fairdg.parsing import typed_options
from fairdg.registry import Registry

DATASETS = Registry("dataset")
for _name, _info in DATASET_INFO.items():  # in the info table's order
    _module, _, _function = _info.loader.partition(":")
    _loader = getattr(import_module(f"fairdg.data.{_module}"), _function)
    DATASETS.register(_name, _loader, _info.description, _info.paper, info=_info)


def dataset_info(name: str) -> DatasetInfo:
    """The static `DatasetInfo` of a registered dataset (no data are loaded)."""
    return DATASETS.entry(name).info


def dataset_options(name: str) -> dict[str, Any]:
    """The keyword options of a dataset's loader with their defaults."""
    loader = DATASETS.get(name)
    params = inspect.signature(loader).parameters
    return {
        k: (None if p.default is inspect.Parameter.empty else p.default)
        for k, p in params.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }


def load_dataset(name: str, root: str | None = None, **options: Any) -> MultiDomainDataset:
    """Load a registered dataset by name.

    Raises
    ------
    ValueError
        For an unknown name (with the closest valid one) or an unknown option (listing the
        valid options).
    """
    loader = DATASETS.get(name)
    valid = dataset_options(name)
    image_size = options.pop("image_size", None)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for dataset {name!r}; "
            f"valid options: {', '.join(sorted([*valid, 'image_size']))}"
        )
    options = typed_options(loader, options, "data option")
    if image_size is None:
        return loader(root=root, **options)
    image_size = _check_image_size(name, image_size, options)
    if "size" in valid:  # image folders decode (and cache) at this size directly
        return loader(root=root, **options, size=image_size)
    return resize_images(loader(root=root, **options), image_size)


def _check_image_size(name: str, value: Any, options: dict[str, Any]) -> int:
    if "size" in options:
        raise ValueError(f"dataset {name!r}: give image_size= or size=, not both")
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if size < 4 or str(size) != str(value).strip():
        raise ValueError(
            f"dataset {name!r}: image_size must be an integer >= 4 (pixels), got {value!r}"
        )
    return size


def resize_images(dataset: MultiDomainDataset, size: int) -> MultiDomainDataset:
    """Every domain's images resized (bilinear) to ``size x size``; data option ``image_size``
    of the datasets whose loader has no ``size`` (MNIST variants, ccMNIST, digits)."""
    if len(dataset.input_shape) != 3:
        raise ValueError(
            f"dataset {dataset.name!r} is not an image dataset (input shape "
            f"{dataset.input_shape}); drop the image_size option"
        )
    for domain in dataset.domains:
        domain.x = torch.cat(
            [
                F.interpolate(domain.x[i : i + 1024], size=(size, size), mode="bilinear")
                for i in range(0, len(domain.x), 1024)
            ]
        )
    dataset.input_shape = (dataset.input_shape[0], size, size)
    dataset.meta = {**dataset.meta, "image_size": size}
    return dataset


def typed_dataset_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """`options` typed from the signature of dataset `name`'s loader (``"False"`` -> False);
    unchanged for an unknown dataset name, which `load_dataset` reports."""
    if name not in DATASETS:
        return dict(options)
    return typed_options(DATASETS.get(name), options, "data option")


__all__ = [
    "DATASETS",
    "Batch",
    "DatasetInfo",
    "Domain",
    "MultiDomainDataset",
    "Split",
    "dataset_info",
    "dataset_options",
    "without_location",
    "load_dataset",
    "typed_dataset_options",
]
