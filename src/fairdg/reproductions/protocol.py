"""The shared protocol of the reproductions' domain-generalisation tables.

Hold out each domain in turn (the others are the sources), train every method (a table row) for
several seeds with `fairdg.training.train` (resumable: done runs are read back), read the
held-out domain's metrics at the last evaluation (the final iterate: no model selection, the
same rule for every method), and print one table: rows the methods, columns the held-out
domains and their average, each cell the mean ± sample standard deviation over seeds, with the
paper's rows beside ours.

A reproduction says what a row means through ``configure(method, target, seed) -> RunConfig``
(`fairdg.reproductions.fddg_protocol` adds the transformation model its methods need).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from fairdg import records
from fairdg.data.base import MultiDomainDataset
from fairdg.training import RunConfig, train

Configure = Callable[[str, str, int], RunConfig]
Format = Callable[[str, float, float | None], str]


def hold_out_each(
    dataset: MultiDomainDataset,
    methods: Sequence[str],
    seeds: int,
    configure: Configure,
    metrics: Sequence[str],
    targets: Sequence[str] | None = None,
    desc: str = "reproduction",
    quiet: bool = False,
) -> list[dict[str, Any]]:
    """Run every (target, method, seed) and return one row per run.

    Parameters
    ----------
    dataset
        The data; every domain is held out in turn unless `targets` names some.
    methods
        Row names, passed to `configure`.
    seeds
        Seeds ``0 .. seeds - 1`` of every (target, method).
    configure
        ``(method, target, seed) -> RunConfig`` of one run.
    metrics
        The test metrics of the held-out domain kept in each row (undefined ones as NaN).

    Returns
    -------
    list of dict
        ``method``, ``target``, ``seed``, one value per metric, ``stats`` (the training losses
        at the last evaluation), ``run_dir`` and ``wall_seconds``.
    """
    targets = list(targets or dataset.domain_names)
    bar = tqdm(
        total=len(targets) * len(methods) * seeds,
        desc=desc,
        leave=False,
        disable=quiet or not sys.stderr.isatty(),
    )
    rows = []
    for target in targets:
        for method in methods:
            for seed in range(seeds):
                started = time.perf_counter()
                result = train(configure(method, target, seed), dataset=dataset)
                last = last_evaluation(result.run_dir)
                values = last["metrics"]["test"]
                rows.append(
                    {
                        "method": method,
                        "target": target,
                        "seed": seed,
                        **{m: number(values.get(m)) for m in metrics},
                        "stats": last["stats"],
                        "run_dir": str(result.run_dir),
                        "wall_seconds": time.perf_counter() - started,
                    }
                )
                bar.update(1)
    bar.close()
    return rows


def last_evaluation(run_dir: Path) -> dict[str, Any]:
    """The last evaluation record of a run folder (an error when it has none)."""
    history, _ = records.load_jsonl(run_dir / "results.jsonl")
    if not history:
        raise RuntimeError(f"run {run_dir} has no evaluation records")
    return history[-1]


def number(value: Any) -> float:
    """A metric as a float; undefined ones (NaN, stored as null in JSON records) are NaN."""
    return math.nan if value is None else float(value)


def mean_and_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation of the defined values (0 for one, NaN for none)."""
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def results_table(
    rows: list[dict[str, Any]],
    methods: Sequence[str],
    columns: Mapping[str, str],
    metrics: Sequence[str],
    fmt: Format,
    labels: Mapping[str, str] | None = None,
    paper: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Markdown table: rows methods (ours, then the paper's), columns targets and the average.

    Parameters
    ----------
    columns
        Target -> column header, in column order.
    metrics
        The metrics of each cell, joined with " / ".
    fmt
        ``(metric, mean, std or None) -> text`` of one value (std None in the average column).
    labels
        Row labels of the methods (default: the method names).
    paper
        The paper's rows: label -> cells (one per column, then the average).
    """
    labels = labels or {}
    header = ["method", *columns.values(), "Avg"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method in methods:
        cells, means = [], {m: [] for m in metrics}
        for target in columns:
            sel = [r for r in rows if r["method"] == method and r["target"] == target]
            parts = []
            for metric in metrics:
                mean, std = mean_and_std([r[metric] for r in sel])
                means[metric].append(mean)
                parts.append(fmt(metric, mean, std))
            cells.append(" / ".join(parts))
        avg = " / ".join(
            fmt(m, statistics.fmean(means[m]), None) if means[m] else "nan" for m in metrics
        )
        lines.append(f"| {labels.get(method, method)} | " + " | ".join(cells) + f" | {avg} |")
    for label, cells in (paper or {}).items():
        lines.append(f"| *paper: {label}* | " + " | ".join(cells) + " |")
    return "\n".join(lines)
