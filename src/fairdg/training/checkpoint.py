"""Checkpoint I/O for training: re-exported from the bottom-floor `fairdg.checkpoint`."""

from fairdg.checkpoint import (
    CorruptCheckpointError,
    UnsafeCheckpointError,
    load_checkpoint,
    save_checkpoint,
)

__all__ = ["CorruptCheckpointError", "UnsafeCheckpointError", "load_checkpoint", "save_checkpoint"]
