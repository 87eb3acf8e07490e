"""Shared pieces of the affinity paper's reproductions (`affinity_mnist`, `affinity_adult`).

A run is trained with `fairdg.training.train` (resumable, skipped when done) into
``<output>/runs/<run id>/`` and evaluated at its last step (``eval_every = steps``: the paper
reports the trained model, not a checkpoint picked on validation); it is then reloaded from its
``model.pt`` with `fairdg.interpret.load_run` for probes and pictures.
"""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from fairdg.data.base import MultiDomainDataset
from fairdg.interpret import LoadedRun, load_run
from fairdg.reproductions import ReproOptions
from fairdg.training import RunConfig, train


def train_and_load(
    options: ReproOptions,
    output: Path,
    dataset: MultiDomainDataset,
    *,
    algorithm: str,
    hparams: dict[str, Any],
    seed: int,
    steps: int,
    data_options: dict[str, Any] | None = None,
    load: bool = True,
) -> tuple[dict[str, Any], LoadedRun | None]:
    """Train one run (or find it done) and reload its final model (None when not `load`)."""
    config = RunConfig(
        dataset=dataset.name,
        data_options=dict(data_options or {}),
        algorithm=algorithm,
        hparams=hparams,
        seed=seed,
        steps=steps,
        eval_every=steps,
        device=options.device,
        output_dir=str(output / "runs"),
        quiet=True,
    )
    result = train(config, dataset=dataset)
    if not load:
        return result.record, None
    return result.record, load_run(result.run_dir, dataset=dataset, device=options.device)


def progress(items: Sequence, options: ReproOptions, desc: str) -> Iterable:
    """A tqdm bar over `items` (hidden when quiet or not a terminal)."""
    return tqdm(items, desc=desc, disable=options.quiet or not sys.stderr.isatty(), leave=False)


def mean_std(values: Sequence[float], digits: int = 3) -> str:
    """``"m ± s"`` with the sample standard deviation (``"m"`` for one value, "-" for none)."""
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return "-"
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def mean(values: Sequence[float]) -> float:
    """The mean of the defined values (None and NaN left out); NaN when none is defined."""
    values = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.fmean(values) if values else math.nan


def paper_cell(ours: str, paper: float | str | None) -> str:
    """Our value followed by the paper's in parentheses."""
    if paper is None or paper == "":
        return ours
    return f"{ours} ({paper})"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table with one header row."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def target_line(name: str, value: float, op: str, bound: float) -> str:
    """``- name: value (target op bound): met / MISSED``."""
    met = value <= bound if op == "<=" else value >= bound
    status = "met" if met else "MISSED"
    return f"- {name}: {value:.3f} (target {op} {bound}): {status}"


def seeds_for(options: ReproOptions, full: int) -> list[int]:
    """The seeds of a reproduction: ``--seeds``, else 1 in quick mode, else `full`."""
    n = options.seeds or (1 if options.quick else full)
    if n < 1:
        raise ValueError(f"seeds must be a positive integer, got {n}")
    return list(range(n))
