"""FDDG's transformation model T: modules, its own training, save / load as an artifact.

``fit_transformation(dataset, test_domains=...)`` trains T on the source domains;
``save_transformation`` / ``load_transformation`` move it to and from a ``.pt`` artifact that
classifier runs reference by path (``RunConfig.transformation``); ``T.augment(x)`` is DataAug.

The names load on first use (PEP 562), so that reading the configuration (``OBJECTIVES``,
``TransformationConfig``; e.g. ``fairdg transform --help``) does not import torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from fairdg.transformation.config import (
    DEFAULT_WEIGHTS,
    OBJECTIVES,
    TransformationConfig,
    objective_changes,
)

if TYPE_CHECKING:
    from fairdg.transformation.artifact import (
        check_compatible,
        load_transformation,
        save_transformation,
    )
    from fairdg.transformation.model import TransformationModel
    from fairdg.transformation.trainer import (
        default_config,
        evaluate_transformation,
        fit_transformation,
    )

_LAZY = {
    "check_compatible": "artifact",
    "load_transformation": "artifact",
    "save_transformation": "artifact",
    "TransformationModel": "model",
    "default_config": "trainer",
    "evaluate_transformation": "trainer",
    "fit_transformation": "trainer",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_WEIGHTS",
    "OBJECTIVES",
    "TransformationConfig",
    "TransformationModel",
    "check_compatible",
    "default_config",
    "evaluate_transformation",
    "fit_transformation",
    "load_transformation",
    "objective_changes",
    "save_transformation",
]
