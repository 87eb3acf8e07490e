"""Algorithms: one file each, one line each in `_ENTRIES`.

``ALGORITHMS.get(name)`` returns the class; ``build_algorithm`` constructs one for a dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fairdg.algorithms.base import Algorithm
from fairdg.algorithms.erm import ERM
from fairdg.registry import Registry

ALGORITHMS = Registry("algorithm")

_ENTRIES = [
    ("erm", ERM, "empirical risk minimisation on the pooled training domains", "Vapnik 1998"),
]
for _name, _cls, _description, _paper in _ENTRIES:
    ALGORITHMS.register(_name, _cls, _description, _paper)


def build_algorithm(
    name: str,
    input_shape: tuple[int, ...],
    num_classes: int,
    num_domains: int,
    hparams: Mapping[str, Any] | None = None,
    num_groups: int = 2,
    **extra: Any,
) -> Algorithm:
    """Construct a registered algorithm (``extra`` carries objects such as a transformation)."""
    cls = ALGORITHMS.get(name)
    return cls(input_shape, num_classes, num_domains, hparams, num_groups=num_groups, **extra)


__all__ = ["ALGORITHMS", "Algorithm", "build_algorithm"]
