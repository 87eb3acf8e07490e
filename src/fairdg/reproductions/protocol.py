"""The one protocol of the reproductions: a typed spec, its plan, the engine, its report.

A reproduction module (``fairdg reproduce NAME``) declares

- ``Spec``: a frozen dataclass derived from `Spec` whose fields are its options, each an
  `option` with its full and quick values and a help line. `parse_spec` reads ``--quick``,
  ``--seeds`` and ``--option KEY=VALUE`` into it: a value is typed by the field's annotation
  (`fairdg.parsing`), a choice checked, an unknown key refused with the closest one. Keys that
  are `RunConfig` fields which no plan sets (``min_group_size``, ``precision`` ...) apply to
  every run.
- ``plan(spec) -> Plan``: the runs (`RunConfig` or `fairdg.experiments.tasks.Task`) by the key
  its report looks them up with, the transformation models to train first and the in-memory
  datasets the runs use.
- ``report(results, spec) -> str``: the markdown report from `Results` (records, selections
  through `fairdg.reporting`, and trained models reloaded from run folders for probes).

`run_reproduction` is plan -> the transformation models -> the sweep engine
(`fairdg.experiments.sweep`: skip done runs, resume interrupted ones, retry failed ones, local or
worker processes with ``--workers``) -> report. Cells are ``mean ± sample std`` over seeds
(`mean_std`), the paper's value beside ours (`paper_cell`), targets as met / MISSED lines.
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
import typing
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import import_module
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from fairdg import records
from fairdg.data.base import MultiDomainDataset
from fairdg.experiments.launchers import dataset_key, torch_threads, usable_cores
from fairdg.experiments.sweep import run_sweep
from fairdg.experiments.tasks import Task, task_result
from fairdg.interpret import (
    LoadedRun,
    linear_probes,
    load_run,
    plot_r_histograms,
    plot_tsne,
    pooled,
    reattach,
    representations,
    subsample,
)
from fairdg.parsing import coerce
from fairdg.registry import close_match
from fairdg.reporting.collect import collect
from fairdg.reproductions import REPRODUCTIONS, ReproOptions
from fairdg.reproductions.artifacts import fit_transformations
from fairdg.training.config import FIELDS, RunConfig, build_config

# RunConfig fields that a reproduction's plan sets itself (its options set them, if anything);
# every other field is an ``--option`` applied to all its runs.
PLANNED = (
    "dataset", "data_options", "algorithm", "hparams", "hparams_seed", "test_domains", "seed",
    "steps", "eval_every", "selection", "transformation", "output_dir", "save_model",
)  # fmt: skip
_SAME = object()


def option(full: Any, quick: Any = _SAME, help: str = "", choices: Sequence[str] = ()) -> Any:
    """A spec field: its full value, its ``--quick`` value (default: the same) and help."""
    metadata = {"quick": quick, "help": help, "choices": tuple(choices)}
    if isinstance(full, list | dict):
        return field(default_factory=lambda: type(full)(full), metadata=metadata)
    return field(default=full, metadata=metadata)


@dataclass(frozen=True)
class BaseSpec:
    """What every reproduction's spec holds besides its options.

    ``name`` (the registry name), ``quick``, ``folder`` (the ``--output`` folder), ``device``
    and ``run_options`` (`RunConfig` fields for every run).
    """

    name: str = ""
    quick: bool = False
    folder: str = "."
    device: str = "cpu"
    run_options: dict[str, Any] = field(default_factory=dict)
    BASE: ClassVar[tuple[str, ...]] = ("name", "quick", "folder", "device", "run_options")

    @classmethod
    def options(cls) -> dict[str, dataclasses.Field]:
        """The options by their ``--option`` key (a field ``lambda_`` is the key ``lambda``)."""
        return {f.name.rstrip("_"): f for f in dataclasses.fields(cls) if f.name not in cls.BASE}

    @property
    def out(self) -> Path:
        """Where its runs and figures go: ``<output>/<name>[<suffix>][-quick]``."""
        return Path(self.folder) / (self.name + self.suffix() + ("-quick" if self.quick else ""))

    def suffix(self) -> str:
        """A variant's part of the folder name (none by default)."""
        return ""

    def config(self, **fields: Any) -> RunConfig:
        """A run of this reproduction: `fields`, then the ``--option`` RunConfig fields."""
        base = RunConfig(device=self.device, quiet=True, **fields)
        return base.replace(**self.run_options)


def run_options(values: Mapping[str, Any], name: str = "reproduce") -> dict[str, Any]:
    """``--option`` values that are `RunConfig` fields, checked (typed) by the one builder;
    the fields a plan sets are refused."""
    planned = sorted(set(values) & set(PLANNED))
    if planned:
        raise ValueError(f"{name}: {planned} is set by the reproduction's plan, not an option")
    config = build_config(values, what=f"{name} option")
    return {key: getattr(config, key) for key in values}


def parse_spec(spec: type[BaseSpec], name: str, options: ReproOptions) -> BaseSpec:
    """The one option parser: full or quick values, ``--seeds``, ``--option`` (typed)."""
    fields = spec.options()
    hints = typing.get_type_hints(spec)
    given = dict(options.extra)
    if options.seeds is not None:
        given["seeds"] = options.seeds
    unknown = sorted(set(given) - set(fields) - set(FIELDS))
    if unknown:
        valid = sorted(fields)
        raise ValueError(
            f"{name}: unknown option(s) {unknown}{close_match(unknown[0], valid)}; valid: "
            f"{valid} and the RunConfig fields {sorted(set(FIELDS) - set(PLANNED))}"
        )
    values = {}
    for key, f in fields.items():
        quick = f.metadata["quick"]
        value = quick if options.quick and quick is not _SAME else _default(f)
        if key in given:
            value = coerce(given[key], hints[f.name], f"{name}: option {key!r}")
        choices = f.metadata["choices"]
        if choices and value not in choices:
            raise ValueError(f"{name}: {key} must be one of {list(choices)}, got {value!r}")
        values[f.name] = value
    extra = run_options({k: v for k, v in given.items() if k not in fields}, name)
    return spec(name, options.quick, str(options.output), options.device, extra, **values)


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise TypeError(f"option {f.name} has no default")


def positive(values: Sequence[int], what: str) -> tuple[int, ...]:
    """Distinct integers >= 1 in increasing order (an error naming `what` otherwise)."""
    chosen = tuple(sorted(set(values)))
    if not chosen or chosen[0] < 1:
        raise ValueError(f"{what} must be integers >= 1, got {list(values)!r}")
    return chosen


# -- plans, the engine and results -------------------------------------------------------------
@dataclass
class Plan:
    """What a reproduction runs.

    Parameters
    ----------
    runs
        Key -> `RunConfig` or `Task`; the report looks results up by these keys.
    datasets
        In-memory datasets the runs use, by name or by `dataset_key` (views sharing a name).
    transformations
        Artifact path -> a function that trains and writes it; run first, in order, where the
        artifact is missing.
    notes
        Whatever else the reproduction's report needs from its plan.
    """

    runs: dict[Any, RunConfig | Task] = field(default_factory=dict)  # keys: tuples, mostly
    datasets: dict[str, MultiDomainDataset] = field(default_factory=dict)
    transformations: dict[Path, Callable[[], None]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def dataset(self, config: RunConfig) -> MultiDomainDataset | None:
        """The in-memory dataset of `config`, if the plan holds it."""
        found = self.datasets.get(dataset_key(config.dataset, config.data_options))
        return found if found is not None else self.datasets.get(config.dataset)


@dataclass
class Results:
    """The outcome of a plan, read from the run folders (what the reports see)."""

    plan: Plan
    device: str = "cpu"

    def folder(self, key: Hashable) -> Path:
        run = self.plan.runs[key]
        return Path(run.output_dir) / run.run_id()

    def error(self, key: Hashable) -> str | None:
        """Why run `key` has no result (its failure, or "not run"), None when done."""
        folder = self.folder(key)
        if (folder / "done.json").exists():
            return None
        if (folder / "failed.json").exists():
            return str(records.read_json(folder / "failed.json").get("error"))
        return "not run (a worker died, or the run is locked by another process)"

    def record(self, key: Hashable) -> dict[str, Any]:
        """A run's final record (``done.json``) or a task's result; an error when missing."""
        error = self.error(key)
        if error is not None:
            raise RuntimeError(f"run {self.folder(key)} has no result: {error}")
        if isinstance(self.plan.runs[key], Task):
            result = task_result(self.folder(key))
            if result is None:
                raise RuntimeError(f"task {self.folder(key)} holds no result")
            return result
        return records.read_json(self.folder(key) / "done.json")

    def last(self, key: Hashable) -> dict[str, Any]:
        """The last evaluation record of run `key`."""
        history, _ = records.load_jsonl(self.folder(key) / "results.jsonl")
        if not history:
            raise RuntimeError(f"run {self.folder(key)} has no evaluation records")
        return history[-1]

    @cached_property
    def evaluations(self) -> pd.DataFrame:
        """`fairdg.reporting` evaluations of the plan's runs (earlier runs in the same folders,
        of other settings, are left out)."""
        folders = {Path(r.output_dir) for r in self.plan.runs.values() if isinstance(r, RunConfig)}
        frames = [collect(folder).evaluations() for folder in sorted(folders) if folder.is_dir()]
        evals = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        ids = {r.run_id() for r in self.plan.runs.values()}
        return evals[evals["run_id"].isin(ids)].copy() if len(evals) else evals  # one block

    def load(self, key: Hashable) -> LoadedRun:
        """Run `key`'s trained model, from its folder (`fairdg.interpret.load_run`)."""
        config = self.plan.runs[key]
        if not isinstance(config, RunConfig):
            raise TypeError(f"{key!r} is a task, not a training run: it has no model to load")
        return load_run(self.folder(key), device=self.device, dataset=self.plan.dataset(config))


def execute(plan: Plan, workers: int = 1, quiet: bool = True, device: str = "cpu") -> Results:
    """The missing transformation models (`fit_transformations`), then the runs not done yet
    (failed ones again) on the sweep engine: in this process, or in `workers` processes of one
    torch thread each."""
    fit_transformations(plan.transformations, workers, device, quiet)
    run_sweep(
        list(plan.runs.values()),
        "local" if workers == 1 else "processes",
        workers=workers,
        retry_failed=True,
        datasets=plan.datasets,
        progress=not quiet,
    )
    return Results(plan, device)


def default_workers(options: ReproOptions) -> int:
    """``--workers`` when not given: one process per core, of one torch thread each, for a
    quick run on the CPU (its small models gain nothing from a second thread, whose work is
    mostly waiting for the first, and the runs are many); 1 otherwise, one process with all of
    torch's threads, as the full results were measured (a CNN's last digits depend on its
    number of threads)."""
    if options.workers is not None:
        return options.workers
    return usable_cores() if options.quick and options.device == "cpu" else 1


def run_reproduction(name: str, options: ReproOptions) -> str:
    """Run a registered reproduction and return its markdown report. A quick one with workers
    keeps this process (data, plan, report) to one torch thread too, as every worker: its
    narrow networks gain nothing from a second thread. A full one keeps all of torch's threads
    here, as its results were measured."""
    module = import_module(REPRODUCTIONS.get(name))
    spec = parse_spec(module.Spec, name, options)
    workers = default_workers(options)
    with torch_threads(1 if options.quick and workers > 1 else None):
        results = execute(module.plan(spec), workers, options.quiet, options.device)
        return module.report(results, spec)


def report_path(name: str, options: ReproOptions) -> Path:
    """Where ``fairdg reproduce`` writes the report: ``<output>/<name>[<suffix>][-quick].md``,
    beside the folder of its runs, so a variant (e.g. grayscale) keeps its own report."""
    spec = parse_spec(import_module(REPRODUCTIONS.get(name)).Spec, name, options)
    return spec.out.with_name(spec.out.name + ".md")


def probe_runs(results: Results, seeds: int, lam: float):
    """The affinity reproductions' probes (Tables 3 and 5): per seed, the test metrics and
    linear probes of the runs ``("erm+z" | "erm", seed, None)`` and ``("affinity", seed, lam)``
    reloaded from their folders, and the re-attachment of z (eq. 4) to ERM and affinity.

    Returns ``analyses`` (kind -> one dict per seed; kinds erm+z, erm, affinity, reattached),
    ``fits`` (erm, affinity -> re-attachments) and the seed-0 ERM and affinity models."""
    analyses: dict[str, list[dict]] = {k: [] for k in ("erm+z", "erm", "affinity", "reattached")}
    fits: dict[str, list] = {"erm": [], "affinity": []}
    kept: dict[str, LoadedRun] = {}
    for seed in range(seeds):
        for kind, value in (("erm+z", None), ("erm", None), ("affinity", lam)):
            loaded = results.load((kind, seed, value))
            kept.setdefault(kind, loaded)
            test = results.record((kind, seed, value))["metrics"]["test"]
            analyses[kind].append({**test, **linear_probes(loaded.algorithm, loaded.split)})
            if kind in fits:
                fits[kind].append(reattach(loaded.algorithm, loaded.split))
        fit = fits["affinity"][-1]
        analyses["reattached"].append({**fit.metrics, **fit.sensitive_probe})
    return analyses, fits, kept


def tsne_png(path: Path, runs: dict[str, LoadedRun]) -> Path:
    """Figure 3: the t-SNE of 2,000 test rows' representations of each named run."""
    panels = []
    for name, run in runs.items():
        x, y, z = pooled(run.split, "test")
        pick = subsample(len(y), 2000, 0)
        panels.append((name, representations(run.algorithm, x[pick]), y[pick], z[pick]))
    data = next(iter(runs.values())).dataset
    return plot_tsne(panels, path, class_names=data.class_names, group_names=data.group_names)


def r_hist_png(path: Path, fits: dict[str, Any], group_names: Sequence[str]) -> Path:
    """Figures 5 and 6: histograms of r (eq. 4) per group of each named re-attachment."""
    panels = [(name, fit.r_test, fit.z_test) for name, fit in fits.items()]
    return plot_r_histograms(panels, path, group_names=group_names)


def write_results(spec: BaseSpec, fits: dict[str, list] | None = None, **data: Any) -> None:
    """Raw numbers next to the report (``results.json``): the spec's options as ``settings``,
    `data`, and the re-attachment weights of `fits`."""
    settings = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    data = {"settings": settings, **data}
    if fits is not None:
        data["reattachment"] = {
            k: [{"w_r": f.w_r, "w_z": f.w_z, "b": f.b} for f in v] for k, v in fits.items()
        }
    records.write_json(spec.out / "results.json", json.loads(json.dumps(data, default=float)))


# -- cells and tables --------------------------------------------------------------------------
def defined(values: Sequence[float | None]) -> list[float]:
    """The values that are numbers (None and NaN, undefined metrics, left out)."""
    return [float(v) for v in values if v is not None and not math.isnan(v)]


def mean(values: Sequence[float | None]) -> float:
    """The mean of the defined values; NaN when none is defined."""
    numbers = defined(values)
    return statistics.fmean(numbers) if numbers else math.nan


def mean_and_std(values: Sequence[float | None]) -> tuple[float, float]:
    """Mean and sample standard deviation of the defined values (0 for one, NaN for none)."""
    numbers = defined(values)
    if not numbers:
        return math.nan, math.nan
    return statistics.fmean(numbers), statistics.stdev(numbers) if len(numbers) > 1 else 0.0


def mean_std(values: Sequence[float | None], digits: int = 3) -> str:
    """``"m ± s"`` with the sample standard deviation (``"m"`` for one value, "-" for none)."""
    numbers = defined(values)
    if not numbers:
        return "-"
    m, s = mean_and_std(numbers)
    return f"{m:.{digits}f}" + (f" ± {s:.{digits}f}" if len(numbers) > 1 else "")


def number(value: Any) -> float:
    """A metric as a float; undefined ones (NaN, stored as null in JSON records) are NaN."""
    return math.nan if value is None else float(value)


def paper_cell(ours: str, paper: float | str | None) -> str:
    """Our value followed by the paper's in parentheses."""
    return ours if paper is None or paper == "" else f"{ours} ({paper})"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table with one header row."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows])


def target_line(name: str, value: float, op: str, bound: float) -> str:
    """``- name: value (target op bound): met / MISSED``."""
    met = value <= bound if op == "<=" else value >= bound
    return f"- {name}: {value:.3f} (target {op} {bound}): {'met' if met else 'MISSED'}"


def quick_note(spec: BaseSpec, text: str = " -- this is a quick run, not the full one") -> str:
    """`text` in quick mode (a heading's warning), else nothing."""
    return text if spec.quick else ""
