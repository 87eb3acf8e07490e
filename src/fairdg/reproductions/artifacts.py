"""The transformation models a reproduction's plan trains before its runs: reused when their
artifact exists and loads, fitted in this process or in forked processes."""

from __future__ import annotations

import multiprocessing
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

from fairdg.experiments.launchers import start_method
from fairdg.transformation import load_transformation

# The transformation models being fitted by forked processes (inherited, never pickled).
_PENDING: list[Callable[[], None]] = []


def usable(path: Path) -> bool:
    """Whether a transformation artifact exists and loads (a corrupt one is deleted)."""
    if not path.exists():
        return False
    try:
        load_transformation(path)
    except ValueError:
        path.unlink()
        return False
    return True


def _fit_pending(index: int) -> None:
    torch.set_num_threads(1)  # one core per process: processes x threads = cores
    _PENDING[index]()


def fit_transformations(
    transformations: Mapping[Path, Callable[[], None]], workers: int = 1, device: str = "cpu"
) -> None:
    """The missing transformation models (artifact path -> the function that fits it): one
    after the other in this process, or, with `workers` > 1 where forking is safe
    (`fairdg.experiments.launchers.start_method`), that many at a time in forked processes of
    one torch thread each (each fit is seeded and writes its own artifact)."""
    missing = [fit for path, fit in transformations.items() if not usable(path)]
    if workers <= 1 or len(missing) <= 1 or start_method([{"device": device}]) != "fork":
        for fit in missing:
            fit()
        return
    _PENDING[:] = missing
    try:
        with warnings.catch_warnings():  # Python >= 3.12 warns on fork with torch's threads
            warnings.simplefilter("ignore", DeprecationWarning)
            context = multiprocessing.get_context("fork")
            with context.Pool(min(workers, len(missing))) as pool:
                pool.map(_fit_pending, range(len(missing)), chunksize=1)
    finally:
        _PENDING.clear()
