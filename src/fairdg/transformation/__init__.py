"""FDDG's transformation model T: modules, its own training, save / load as an artifact.

``fit_transformation(dataset, test_domains=...)`` trains T on the source domains;
``save_transformation`` / ``load_transformation`` move it to and from a ``.pt`` artifact that
classifier runs reference by path (``RunConfig.transformation``); ``T.augment(x)`` is DataAug.
"""

from fairdg.transformation.artifact import (
    check_compatible,
    load_transformation,
    save_transformation,
)
from fairdg.transformation.config import (
    DEFAULT_WEIGHTS,
    OBJECTIVES,
    TransformationConfig,
    objective_changes,
)
from fairdg.transformation.model import TransformationModel
from fairdg.transformation.trainer import (
    default_config,
    evaluate_transformation,
    fit_transformation,
)

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
