"""The transformation models a reproduction's plan trains before its runs: reused when their
artifact exists and loads, fitted in this process or in forked processes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from fairdg.experiments.launchers import side_by_side, start_method
from fairdg.training.progress import progress_line
from fairdg.transformation import load_transformation


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


def fit_transformations(
    transformations: Mapping[Path, Callable[[], None]],
    workers: int = 1,
    device: str = "cpu",
    quiet: bool = False,
) -> None:
    """The missing transformation models (artifact path -> the function that fits it): one
    after the other in this process, or, with `workers` > 1 where forking is safe
    (`fairdg.experiments.launchers.start_method`), that many at a time in forked processes of
    one torch thread each (`fairdg.experiments.launchers.side_by_side`; each fit is seeded and
    writes its own artifact). Each fit prints a progress line when it starts and ends, unless
    `quiet`."""
    todo = [(path, fit) for path, fit in transformations.items() if not usable(path)]
    missing = [fit for _, fit in todo]
    if not quiet:
        missing = [_announced(path, fit, i, len(todo)) for i, (path, fit) in enumerate(todo, 1)]
    if workers <= 1 or len(missing) <= 1 or start_method([{"device": device}]) != "fork":
        for fit in missing:
            fit()
        return
    side_by_side(missing, threads=1, workers=workers)


def _announced(path: Path, fit: Callable[[], None], i: int, n: int) -> Callable[[], None]:
    """`fit` with a progress line when it starts and when it ends (a log sees them)."""

    def announced() -> None:
        started = time.perf_counter()
        progress_line(f"transformation model {i}/{n}: fitting {path.name}")
        fit()
        progress_line(f"transformation model {i}/{n}: {path.name} done in "
                      f"{time.perf_counter() - started:.0f} s")  # fmt: skip

    return announced
