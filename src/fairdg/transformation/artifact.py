"""T as an artifact: one ``.pt`` file holding its config, weights and what it was trained on.

Written atomically (`fairdg.checkpoint.save_checkpoint`), so an interrupted save never
leaves a half-written file under the final name. Loading checks the file kind, rebuilds T from
the stored config and loads the weights strictly; a mismatch with a config the caller expects,
a corrupt file or a model trained on a held-out domain is a clear error.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path

import torch

from fairdg.checkpoint import CorruptCheckpointError, load_checkpoint, save_checkpoint
from fairdg.transformation.config import TransformationConfig
from fairdg.transformation.model import TransformationModel

ARTIFACT_KIND = "fairdg-transformation"
ARTIFACT_FORMAT = 1
TRAIN_HINT = (
    "train one with `fairdg transform train --dataset NAME --test-domains DOMAIN ... "
    "--output PATH`"
)


def save_transformation(model: TransformationModel, path: str | os.PathLike) -> Path:
    """Write `model` (config, weights on the CPU, ``meta``) to `path` atomically."""
    path = Path(path)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    save_checkpoint(
        path,
        {
            "format": ARTIFACT_FORMAT,
            "kind": ARTIFACT_KIND,
            "config": model.config.to_dict(),
            "state": state,
            "meta": dict(model.meta),
        },
    )
    return path


def load_transformation(
    path: str | os.PathLike,
    config: TransformationConfig | None = None,
    map_location: str | torch.device = "cpu",
) -> TransformationModel:
    """Load a saved T (in eval mode).

    Raises
    ------
    FileNotFoundError
        No file at `path` (the message says how to train one).
    ValueError
        The file is corrupt or not a transformation artifact, its weights do not fit its
        config, or `config` is given and differs from the stored one (differences listed).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no transformation model at {path}; {TRAIN_HINT}")
    try:
        data = load_checkpoint(path, map_location=map_location)
    except CorruptCheckpointError as err:
        raise ValueError(
            f"transformation artifact {path} is corrupt or unreadable: {err}. "
            f"Delete it and {TRAIN_HINT}"
        ) from err
    if data.get("kind") != ARTIFACT_KIND:
        raise ValueError(
            f"{path} is not a transformation model (kind {data.get('kind')!r}, "
            f"expected {ARTIFACT_KIND!r}); {TRAIN_HINT}"
        )
    if data["format"] != ARTIFACT_FORMAT:
        raise ValueError(
            f"{path} has artifact format {data['format']!r}; this fairdg reads "
            f"format {ARTIFACT_FORMAT}. Retrain it: {TRAIN_HINT}"
        )
    stored = TransformationConfig.from_dict(data["config"])
    if config is not None:
        diff = config.differences(stored)
        if diff:
            listed = "; ".join(
                f"{k}: expected {a!r}, file has {b!r}" for k, (a, b) in diff.items()
            )
            raise ValueError(
                f"transformation artifact {path} was trained with a different config ({listed})"
            )
    model = TransformationModel(stored)
    try:
        model.load_state_dict(data["state"])
    except RuntimeError as err:
        raise ValueError(
            f"the weights in {path} do not fit the config stored with them "
            f"(a foreign or damaged file): {err}"
        ) from err
    model.meta = dict(data.get("meta", {}))
    return model.to(map_location).eval()


def check_compatible(
    model: TransformationModel,
    dataset_name: str | None,
    input_shape: Sequence[int],
    test_domains: Sequence[str] = (),
) -> None:
    """Refuse a T for another dataset or shape, or one that saw a held-out domain in training
    (the one compatibility check; `dataset_name` None skips the dataset check)."""
    meta = model.meta
    if tuple(model.config.input_shape) != tuple(input_shape):
        raise ValueError(
            f"the transformation model takes inputs of shape "
            f"{tuple(model.config.input_shape)}, the data have shape "
            f"{tuple(input_shape)}; {TRAIN_HINT}"
        )
    trained_on = meta.get("dataset")
    if trained_on is not None and dataset_name is not None and trained_on != dataset_name:
        raise ValueError(
            f"the transformation model was trained on dataset {trained_on!r}, "
            f"this run uses {dataset_name!r}; {TRAIN_HINT}"
        )
    seen = set(meta.get("train_domains", ())) & set(test_domains)
    if seen:
        raise ValueError(
            f"the transformation model was trained on domain(s) {sorted(seen)} "
            f"that this run holds out (test domains {list(test_domains)}): the "
            f"held-out data would leak into training; train T with "
            f"--test-domains {shlex.join(test_domains)}"
        )
