"""Load a finished run folder back into a trained algorithm and its data split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairdg import records
from fairdg.algorithms import Algorithm
from fairdg.checkpoint import load_checkpoint
from fairdg.data.base import MultiDomainDataset, Split
from fairdg.training import RunConfig, prepare


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
    """Rebuild the algorithm of `run_dir` (``config.json``) and load its ``model.pt``.

    The data split is recomputed from the run's seed (splits are deterministic). `dataset`
    skips reloading the data; `extra` goes to the algorithm's constructor as in `train`.

    Raises
    ------
    FileNotFoundError
        When the folder has no ``config.json`` or no ``model.pt`` (run with model saving).
    """
    run_dir = Path(run_dir)
    for name in ("config.json", "model.pt"):
        if not (run_dir / name).is_file():
            raise FileNotFoundError(
                f"{run_dir / name} not found: run_dir must be a finished run folder "
                "(fairdg-runs/<run id>/) trained with model saving on"
            )
    stored = records.read_json(run_dir / "config.json")
    stored.pop("run_id", None)
    config = RunConfig.from_dict(stored).replace(device=device)
    dataset, split, hparams, algorithm = prepare(config, dataset, **extra)
    state = load_checkpoint(run_dir / "model.pt", map_location=device)
    algorithm.load_state_dict(state["model"])
    algorithm.eval()
    return LoadedRun(run_dir, config, dataset, split, hparams, algorithm)
