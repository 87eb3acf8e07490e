"""A finished run folder back as its trained algorithm and its data split.

The model comes from `fairdg.load_model`, fairdg's one loader of finished runs: rebuilt from
the hyperparameters the run stored (not today's defaults) and checked file by file. The data
split is recomputed from the run's seed (splits are deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairdg.algorithms import Algorithm
from fairdg.data import load_dataset
from fairdg.data.base import MultiDomainDataset, Split
from fairdg.networks.feature_cache import frozen_features, uses_feature_cache
from fairdg.predict import load_model
from fairdg.training import RunConfig


@dataclass
class LoadedRun:
    """A trained run: its configuration, data split and algorithm (in eval mode)."""

    run_dir: Path
    config: RunConfig
    dataset: MultiDomainDataset
    split: Split
    hparams: dict[str, Any]
    algorithm: Algorithm


def load_run(
    run_dir: str | Path,
    *,
    device: str = "cpu",
    dataset: MultiDomainDataset | None = None,
    **extra: Any,
) -> LoadedRun:
    """The algorithm of `run_dir` (`fairdg.load_model`) with its dataset and data split.

    `dataset` skips reloading the data; `extra` goes to the algorithm's constructor as in
    `train`.

    Raises
    ------
    FileNotFoundError
        When the folder has no ``model.pt`` (run with model saving) or no ``done.json``.
    fairdg.records.CorruptRunError
        A damaged or inconsistent run file, named with its field.
    """
    model = load_model(run_dir, device=device, **extra)
    if model.config is None:
        raise FileNotFoundError(f"{run_dir} holds no config.json: not a run folder")
    config = model.config.replace(device=device)
    if dataset is None:
        dataset = load_dataset(config.dataset, **config.data_options)
    if uses_feature_cache(model.hparams, dataset.input_shape):  # trained on frozen features
        dataset = frozen_features(dataset, model.hparams, device, quiet=config.quiet)
    split = config.split_data(dataset)
    return LoadedRun(Path(run_dir), config, dataset, split, dict(model.hparams), model.algorithm)
