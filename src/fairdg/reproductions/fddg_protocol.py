"""The FDDG reproductions' protocol: leave one domain out, Table 6's rows, a table.

Built on the shared protocol of `fairdg.reproductions.protocol` (last evaluation, metric
values, the table beside the paper's); its own loop over (target, method, seed) because a row
here may run several hyperparameter candidates, select among them by the paper's rule and
survive a failed run, which `protocol.hold_out_each` does not do.

For every target domain (held out in turn; the others are the sources) this trains the
transformation models T the methods need (with and without the sensitive factor; on the
sources' training rows only, cached under ``<output>/transformations``, one per target and shared
by the trials), then every method for every hyperparameter candidate and trial seed with
`fairdg.training.train` (runs of a method under ``<output>/runs/<method>``), and reads the
metrics of the held-out domain at the evaluation chosen by ``Plan.selection``:

``last``  the last evaluation of the default configuration (no model selection);
``fair``  the paper's rule (appendix C.6/C.7: "we monitor the accuracy and the value of fairness
          metrics from the validation set and select the best ones"), through
          `fairdg.reporting.selection`: the highest validation accuracy of the sources among the
          evaluations (configuration and step) whose validation DP ratio is at least 0.8; a
          group where none qualifies falls back to the highest validation accuracy
          (``training``), and the row says so (column ``selected_by``).

A run that fails is recorded (``error``) with undefined metrics and the plan goes on. Cells are
"DP / AUC / accuracy" as in the paper's tables, each the mean +/- sample standard deviation over
trials; the average column is the mean over targets.
"""

from __future__ import annotations

import hashlib
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from fairdg import records
from fairdg.data.base import MultiDomainDataset
from fairdg.experiments import launchers
from fairdg.reporting.collect import collect
from fairdg.reporting.selection import select
from fairdg.reproductions import protocol
from fairdg.reproductions.fddg_paper import BASELINES
from fairdg.reproductions.fddg_tables import (  # noqa: F401 (re-exported)
    CELL,
    LABELS,
    averages,
    checks,
    plot_dp_vs_dependence,
    results_table,
    table6_checks,
)
from fairdg.training import RunConfig
from fairdg.transformation import (
    default_config,
    fit_transformation,
    load_transformation,
    save_transformation,
)

METHODS = ("erm", "fddg-no-sf", "fddg-no-t", "fddg-no-fc", "fddg")
ABLATIONS = ("fddg-no-sf", "fddg-no-t", "fddg-no-fc")
# Table 6: the 17 baselines, the three ablations, FDDG (the paper's order)
TABLE6 = (*BASELINES, *ABLATIONS, "fddg")
# Variants: a row name "<algorithm>:<variant>" runs <algorithm> with these hyperparameters.
VARIANTS = {"fddg:max": {"fddg_fair_sets": "max"}}
# ... or with a T trained with these TransformationConfig changes: the paper's objective alone,
# without our three additions (conditional discriminator, prior matching, sensitive cycle).
T_VARIANTS = {
    "fddg:paper-t": {"conditional_gan": False, "weights": {"sensitive_cycle": 0.0, "prior": 0.0}}
}
# algorithm -> whether its T has the sensitive factor (MBDG, DDG, FATDM: one level, none)
NEEDS_T = {
    "fddg": True,
    "fddg-no-fc": True,
    "fddg-no-sf": False,
    "mbdg": False,
    "mbdg-fc": False,
    "ddg": False,
    "ddg-fc": False,
    "fatdm": False,
}
SELECTIONS = ("last", "fair")


def staged_overrides(steps: int) -> dict[str, dict[str, Any]]:
    """Methods whose penalty switches on after a number of updates (500 by default: IRM's and
    V-REx's annealing, EIIL's reference model) switch at half of a short run, so that the
    second stage happens at all (the reproductions run 100 to 1,000 steps)."""
    half = max(1, steps // 2)
    return {
        "irm": {"irm_penalty_anneal_iters": half},
        "vrex": {"vrex_penalty_anneal_iters": half},
        "eiil": {"eiil_ref_steps": half},
    }


@dataclass(frozen=True)
class Plan:
    """What a reproduction runs: data, methods, trials, classifier and T budgets."""

    dataset: MultiDomainDataset
    data_options: dict[str, Any]
    seeds: int
    steps: int
    eval_every: int
    hparams: dict[str, Any] = field(default_factory=dict)
    method_hparams: dict[str, dict[str, Any]] = field(default_factory=dict)
    t_steps: int = 1500
    t_config: dict[str, Any] = field(default_factory=dict)
    t_max_train: int | None = None
    methods: tuple[str, ...] = METHODS
    targets: tuple[str, ...] | None = None
    n_hparams: int = 1
    selection: str = "last"
    t_select: str = "val_loss"

    def __post_init__(self) -> None:
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {self.selection!r}")
        if self.selection == "last" and self.n_hparams != 1:
            raise ValueError("selection 'last' takes the default configuration: n_hparams=1")


def methods_option(extra: dict[str, Any], default: tuple[str, ...]) -> tuple[str, ...]:
    """The rows to run: ``--option methods=a,b`` or `default`; unknown names are an error."""
    if not extra.get("methods"):
        return default
    chosen = tuple(str(extra["methods"]).split(","))
    unknown = [m for m in chosen if m not in LABELS]
    if unknown:
        raise ValueError(f"--option methods: unknown {unknown}; valid: {sorted(LABELS)}")
    return chosen


def transformation_path(
    plan: Plan,
    target: str,
    use_sensitive: bool,
    folder: Path,
    device: str,
    quiet: bool,
    changes: dict[str, Any] | None = None,
) -> Path:
    """Train (or reuse) T for `target` held out; returns the artifact path. `changes` are
    TransformationConfig changes of a T variant (`T_VARIANTS`)."""
    t_config = {**plan.t_config, **(changes or {})}
    key = records.canonical_json(
        {
            "dataset": plan.dataset.name,
            "options": plan.data_options,
            "target": target,
            "sensitive": use_sensitive,
            "steps": plan.t_steps,
            "config": t_config,
            "max_train": plan.t_max_train,
            "select": plan.t_select,
        }
    )
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    path = folder / f"{plan.dataset.name}-{target}-{'sf' if use_sensitive else 'nosf'}-{digest}.pt"
    if path.exists():
        try:
            load_transformation(path)
            return path
        except ValueError:  # a corrupt cache entry: train again
            path.unlink()
    config = default_config(plan.dataset, use_sensitive=use_sensitive, **t_config)
    model = fit_transformation(
        plan.dataset,
        config,
        test_domains=[target],
        seed=0,
        steps=plan.t_steps,
        device=device,
        quiet=quiet,
        max_train=plan.t_max_train,
        select=plan.t_select,
    )
    save_transformation(model, path)
    return path


def _t_for(plan: Plan, method: str, target: str, output: Path, device: str):
    """(key, path) of the T that `method` needs for `target`, or (None, None)."""
    algorithm = method.partition(":")[0]
    if algorithm not in NEEDS_T:
        return None, None
    sensitive = NEEDS_T[algorithm]
    changes = T_VARIANTS.get(method)
    path = transformation_path(
        plan, target, sensitive, output / "transformations", device, True, changes
    )
    key = f"{target}/{'sf' if sensitive else 'nosf'}" + (f"/{method}" if changes else "")
    return key, path


def _config(plan: Plan, method: str, target: str, h: int, seed: int, t_path, output, device):
    """The run of one (method, target, configuration, trial)."""
    return RunConfig(
        dataset=plan.dataset.name,
        data_options=plan.data_options,
        algorithm=method.partition(":")[0],
        hparams={
            **plan.hparams,
            **VARIANTS.get(method, {}),
            **plan.method_hparams.get(method, {}),
        },
        hparams_seed=h,
        test_domains=(target,),
        seed=seed,
        steps=plan.steps,
        eval_every=plan.eval_every,
        transformation=None if t_path is None else str(t_path),
        device=device,
        output_dir=str(output / "runs" / method.replace(":", "-")),
        quiet=True,
        save_model=False,
    )


def run_plan(
    plan: Plan,
    output: str | Path,
    device: str = "cpu",
    quiet: bool = False,
    workers: int = 1,
) -> tuple[list[dict[str, Any]], dict[str, Path]]:
    """Run every (target, method, configuration, seed); returns one row per (target, method,
    seed) at the selected evaluation (`Plan.selection`) and the T artifact paths.

    The transformation models are trained first (one after the other, on every core); the runs
    then go through the sweeps' launchers (`fairdg.experiments.launchers`): in this process when
    `workers` is 1, else in `workers` processes of one torch thread each. Done runs are read
    back, so an interrupted reproduction resumes where it stopped, with any `workers`."""
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"--workers must be a positive integer, got {workers!r}")
    output = Path(output)
    targets = list(plan.targets or plan.dataset.domain_names)
    t_paths, configs = {}, {}
    for target in targets:
        for method in plan.methods:
            key, path = _t_for(plan, method, target, output, device)
            if key is not None:
                t_paths[key] = path
            for seed in range(plan.seeds):
                for h in range(plan.n_hparams):
                    configs[(target, method, seed, h)] = _config(
                        plan, method, target, h, seed, path, output, device
                    )
    outcomes = _launch(list(configs.values()), plan.dataset, workers, quiet)
    rows = []
    for target in targets:
        for method in plan.methods:
            for seed in range(plan.seeds):
                runs = []
                for h in range(plan.n_hparams):
                    config = configs[(target, method, seed, h)]
                    outcome = outcomes[config.run_id()]
                    run_dir = Path(config.output_dir) / config.run_id()
                    runs.append((run_dir, outcome["error"], outcome["seconds"]))
                rows.append(_row(plan, method, target, seed, runs))
    if plan.selection != "last":
        rows = _selected(rows, output, {config.run_id() for config in configs.values()})
    return rows, t_paths


def _launch(configs, dataset, workers: int, quiet: bool) -> dict[str, dict[str, Any]]:
    """Run the configurations; returns each run id's outcome (``error`` None when done)."""
    outcomes: dict[str, dict[str, Any]] = {}
    bar = tqdm(
        total=len(configs),
        desc=f"FDDG reproduction on {dataset.name}",
        leave=False,
        disable=quiet or not sys.stderr.isatty(),
    )

    def on_result(outcome: dict[str, Any]) -> None:
        if outcome["status"] == "locked":
            outcome = {**outcome, "error": f"run locked by another process: {outcome['error']}"}
        elif outcome["status"] != "done" and not outcome.get("error"):
            outcome = {**outcome, "error": outcome["status"]}
        outcomes[outcome["run_id"]] = outcome
        bar.update(1)

    tasks = [config.to_dict() for config in configs]
    datasets = {dataset.name: dataset}
    try:
        if workers == 1:
            launchers.launch_local(tasks, on_result, datasets=datasets)
        else:
            launchers.launch_processes(
                tasks, on_result, workers=min(workers, len(tasks)), datasets=datasets
            )
    finally:
        bar.close()
    return outcomes


def _row(plan: Plan, method: str, target: str, seed: int, runs) -> dict[str, Any]:
    """The row of one (method, target, trial) from its configurations' (run folder, error,
    seconds); metrics are filled here for ``last``, by `_selected` for ``fair``."""
    row: dict[str, Any] = {"method": method, "target": target, "seed": seed}
    errors = [error for _, error, _ in runs if error is not None]
    if plan.selection == "last" and not errors:
        last = protocol.last_evaluation(runs[0][0])
        metrics = last["metrics"]["test"]
        row.update({m: protocol.number(metrics.get(m)) for m in CELL})
        row.update(stats=last["stats"], run_dir=str(runs[0][0]), selected_by="last")
    else:
        row.update({m: math.nan for m in CELL})
    row["wall_seconds"] = sum(seconds for _, _, seconds in runs)
    if errors and (plan.selection == "last" or len(errors) == len(runs)):
        row["error"] = errors[0]
    elif errors:  # the rule selects among the configurations that completed
        row["failed_configs"] = errors
    return row


def _selected(rows: list[dict[str, Any]], output: Path, run_ids: set[str]) -> list[dict[str, Any]]:
    """Fill the rows' metrics from the paper's selection rule over each method's runs of this
    plan (`run_ids`: runs left in the folder by an earlier plan with more configurations or
    other settings are not candidates)."""
    for method in {r["method"] for r in rows}:
        folder = output / "runs" / method.replace(":", "-")
        if not folder.is_dir():
            continue
        evals = collect(folder).evaluations()
        evals = evals[evals["run_id"].isin(run_ids)]
        chosen = {}
        for rule in ("training", "fair"):  # "fair" overrides where some evaluation qualifies
            for _, pick in select(evals, rule).iterrows():
                chosen[(pick["target"], int(pick["trial"]))] = (rule, pick)
        for row in rows:
            if row["method"] != method or "error" in row:
                continue
            rule, pick = chosen.get((row["target"], row["seed"]), (None, None))
            if pick is None:
                row["error"] = "no complete run to select from"
                continue
            row.update({m: protocol.number(pick.get(f"test.{m}")) for m in CELL})
            row.update(
                selected_by=rule,
                hparams_seed=int(pick["hparams_seed"]),
                step=int(pick["step"]),
                run_id=pick["run_id"],
            )
    return rows
