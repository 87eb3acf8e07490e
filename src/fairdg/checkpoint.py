"""Checkpoints written atomically, read with a clear error when corrupt."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file that cannot be read."""


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint; a truncated or foreign file raises `CorruptCheckpointError`."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:  # torch raises many types for a bad file
        raise CorruptCheckpointError(
            f"checkpoint {path} is corrupt or not a fairdg checkpoint ({type(err).__name__}: "
            f"{err}); delete it to start the run again from step 0"
        ) from err
    if not isinstance(state, dict) or "format" not in state:
        raise CorruptCheckpointError(
            f"checkpoint {path} is not a fairdg checkpoint (no 'format' key); delete it to start "
            "the run again"
        )
    return state
