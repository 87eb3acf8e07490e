"""Experiments: run configs, sweeps, launchers and reproductions of the papers' tables."""

from fairdg.training.config import RunConfig

__all__ = ["RunConfig"]
