"""The protocol the reproductions share: train, hold out, seeds, a table beside the paper's.

- Single runs (the affinity paper's tables): `train_and_load` trains one run with
  `fairdg.training.train` (resumable, skipped when done) into ``<output>/runs/<run id>/``,
  evaluated at its last step (``eval_every = steps``: the paper reports the trained model, not a
  checkpoint picked on validation), and reloads it from its ``model.pt`` with
  `fairdg.interpret.load_run` for probes and pictures.
- Domain-generalisation tables (`hold_out_each`): hold out each domain in turn (the others are
  the sources), train every method (a table row) for several seeds, read the held-out domain's
  metrics at the last evaluation (the final iterate: no model selection, the same rule for
  every method); a reproduction says what a row means through
  ``configure(method, target, seed) -> RunConfig`` (`fairdg.reproductions.fddg_protocol` adds
  the transformation model its methods need).
- Tables (`results_table`, `markdown_table`): cells are the mean ± sample standard deviation
  over seeds, the paper's value beside ours (`paper_cell`, or the paper's rows under ours), and
  targets as met / MISSED lines (`target_line`).
"""

from __future__ import annotations

import difflib
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from fairdg import records
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


def check_options(name: str, extra: Mapping[str, Any], known: Iterable[str]) -> None:
    """A clear error for an ``--option`` key that reproduction `name` does not read (a typo
    would otherwise be ignored silently), naming the closest valid key."""
    known = sorted(known)
    unknown = sorted(set(extra) - set(known))
    if unknown:
        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{name}: unknown option(s) {unknown}{hint}; valid: {known}")


def choice_option(
    name: str, extra: Mapping[str, Any], key: str, choices: Iterable[str], default: str
) -> str:
    """``--option key=VALUE`` of reproduction `name`, one of `choices` (`default` when absent);
    anything else is an error listing them."""
    value, choices = str(extra.get(key, default)), sorted(choices)
    if value not in choices:
        raise ValueError(f"{name}: {key} must be one of {choices}, got {value!r}")
    return value


def seeds_for(options: ReproOptions, full: int) -> list[int]:
    """The seeds of a reproduction: ``--seeds``, else 1 in quick mode, else `full`."""
    n = options.seeds or (1 if options.quick else full)
    if n < 1:
        raise ValueError(f"seeds must be a positive integer, got {n}")
    return list(range(n))


# -- hold out each domain ------------------------------------------------------------------------
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
