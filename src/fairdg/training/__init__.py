"""Training: run configuration, the loop, evaluation and checkpoints."""

from fairdg.training.config import RunConfig
from fairdg.training.loop import RunResult, prepare, train

__all__ = ["RunConfig", "RunResult", "prepare", "train"]
