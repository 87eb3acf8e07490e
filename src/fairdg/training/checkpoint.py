"""Compatibility name: checkpoint I/O lives in the bottom-floor module `fairdg.checkpoint`."""

from fairdg.checkpoint import CorruptCheckpointError, load_checkpoint, save_checkpoint

__all__ = ["CorruptCheckpointError", "load_checkpoint", "save_checkpoint"]
