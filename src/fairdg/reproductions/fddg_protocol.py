"""The FDDG reproductions' protocol: leave one domain out, ERM + ablations + FDDG, a table.

For every target domain (held out in turn; the others are the sources) this trains the
transformation models T the methods need (with and without the sensitive factor; on the
sources' training rows only, cached under ``<output>/transformations``, one per target and shared
by the trials), then every method for every trial seed with `fairdg.training.train`, and reads
the metrics of the held-out domain at the last evaluation (the final iterate: no model
selection, the same rule for every method). Cells are "DP / AUC / accuracy" as in the paper's
tables, each the mean +/- sample standard deviation over trials; the average column is the mean
over targets.
"""

from __future__ import annotations

import hashlib
import math
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from fairdg import records
from fairdg.data.base import MultiDomainDataset
from fairdg.training import RunConfig, train
from fairdg.transformation import (
    default_config,
    fit_transformation,
    load_transformation,
    save_transformation,
)

METHODS = ("erm", "fddg-no-sf", "fddg-no-t", "fddg-no-fc", "fddg")
LABELS = {
    "erm": "ERM",
    "fddg-no-sf": "FDDG w/o sf",
    "fddg-no-t": "FDDG w/o T",
    "fddg-no-fc": "FDDG w/o fc",
    "fddg": "FDDG",
    "fddg:max": "FDDG, separate gaps (ours)",
}
# Variants: a row name "<algorithm>:<variant>" runs <algorithm> with these hyperparameters.
VARIANTS = {"fddg:max": {"fddg_fair_sets": "max"}}
CELL = ("dp_ratio", "fairness_auc", "accuracy")
NEEDS_T = {"fddg": True, "fddg-no-fc": True, "fddg-no-sf": False}  # method -> sensitive factor


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
    plan: Plan, target: str, use_sensitive: bool, folder: Path, device: str, quiet: bool
) -> Path:
    """Train (or reuse) T for `target` held out; returns the artifact path."""
    key = records.canonical_json(
        {
            "dataset": plan.dataset.name,
            "options": plan.data_options,
            "target": target,
            "sensitive": use_sensitive,
            "steps": plan.t_steps,
            "config": plan.t_config,
            "max_train": plan.t_max_train,
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
    config = default_config(plan.dataset, use_sensitive=use_sensitive, **plan.t_config)
    model = fit_transformation(
        plan.dataset,
        config,
        test_domains=[target],
        seed=0,
        steps=plan.t_steps,
        device=device,
        quiet=quiet,
        max_train=plan.t_max_train,
    )
    save_transformation(model, path)
    return path


def last_evaluation(run_dir: Path) -> dict[str, Any]:
    """The last evaluation record of a run folder (an error when it has none)."""
    history, _ = records.load_jsonl(run_dir / "results.jsonl")
    if not history:
        raise RuntimeError(f"run {run_dir} has no evaluation records")
    return history[-1]


def run_plan(
    plan: Plan, output: str | Path, device: str = "cpu", quiet: bool = False
) -> tuple[list[dict[str, Any]], dict[str, Path]]:
    """Run every (target, method, seed); returns one row per run and the T artifact paths."""
    output = Path(output)
    targets = list(plan.targets or plan.dataset.domain_names)
    total = len(targets) * len(plan.methods) * plan.seeds
    bar = tqdm(
        total=total,
        desc=f"FDDG reproduction on {plan.dataset.name}",
        leave=False,
        disable=quiet or not sys.stderr.isatty(),
    )
    rows, t_paths = [], {}
    for target in targets:
        for method in plan.methods:
            path = None
            algorithm = method.partition(":")[0]
            if algorithm in NEEDS_T:
                sensitive = NEEDS_T[algorithm]
                path = transformation_path(
                    plan, target, sensitive, output / "transformations", device, True
                )
                t_paths[f"{target}/{'sf' if sensitive else 'nosf'}"] = path
            for seed in range(plan.seeds):
                started = time.perf_counter()
                config = RunConfig(
                    dataset=plan.dataset.name,
                    data_options=plan.data_options,
                    algorithm=algorithm,
                    hparams={
                        **plan.hparams,
                        **VARIANTS.get(method, {}),
                        **plan.method_hparams.get(method, {}),
                    },
                    test_domains=(target,),
                    seed=seed,
                    steps=plan.steps,
                    eval_every=plan.eval_every,
                    transformation=None if path is None else str(path),
                    device=device,
                    output_dir=str(output / "runs"),
                    quiet=True,
                    save_model=False,
                )
                result = train(config, dataset=plan.dataset)
                last = last_evaluation(result.run_dir)
                metrics = last["metrics"]["test"]
                rows.append(
                    {
                        "method": method,
                        "target": target,
                        "seed": seed,
                        **{m: _number(metrics.get(m)) for m in CELL},
                        "stats": last["stats"],
                        "run_dir": str(result.run_dir),
                        "wall_seconds": time.perf_counter() - started,
                    }
                )
                bar.update(1)
    bar.close()
    return rows, t_paths


def _number(value: Any) -> float:
    """A metric as a float; undefined ones (NaN, stored as null in JSON records) are NaN."""
    return math.nan if value is None else float(value)


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _fmt(metric: str, mean: float, std: float | None) -> str:
    scale, digits = (100.0, 2) if metric == "accuracy" else (1.0, 2)
    if math.isnan(mean):
        return "nan"
    text = f"{scale * mean:.{digits}f}"
    return text if std is None else f"{text} ± {scale * std:.{digits}f}"


def results_table(
    rows: list[dict[str, Any]],
    methods: Sequence[str],
    targets: Sequence[str],
    dependence: dict[str, float],
    paper: dict[str, list[str]] | None = None,
) -> str:
    """Markdown table: rows methods (ours, then the paper's), columns targets and the average."""
    header = ["method"] + [f"{t} ({dependence.get(t, math.nan):.2f})" for t in targets] + ["Avg"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method in methods:
        cells, means = [], {m: [] for m in CELL}
        for target in targets:
            sel = [r for r in rows if r["method"] == method and r["target"] == target]
            parts = []
            for metric in CELL:
                mean, std = _mean_std([r[metric] for r in sel])
                means[metric].append(mean)
                parts.append(_fmt(metric, mean, std))
            cells.append(" / ".join(parts))
        avg = " / ".join(
            _fmt(m, statistics.fmean(means[m]), None) if means[m] else "nan" for m in CELL
        )
        lines.append(f"| {LABELS.get(method, method)} | " + " | ".join(cells) + f" | {avg} |")
    for label, cells in (paper or {}).items():
        lines.append(f"| *paper: {label}* | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def averages(rows: list[dict[str, Any]], method: str) -> dict[str, float]:
    """Mean over targets of the per-target mean of each cell metric."""
    out = {}
    for metric in CELL:
        per_target: dict[str, list[float]] = {}
        for r in rows:
            if r["method"] == method and not math.isnan(_number(r[metric])):
                per_target.setdefault(r["target"], []).append(r[metric])
        out[metric] = (
            statistics.fmean(statistics.fmean(v) for v in per_target.values())
            if per_target
            else math.nan
        )
    return out


def checks(rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets on the averages over held-out domains: each FDDG row against ERM
    (DP ratio +0.10, AUC closer to 0.5, accuracy within 3 points), each ablation against FDDG."""
    avg = {m: averages(rows, m) for m in {r["method"] for r in rows}}
    out: list[str] = []
    if "erm" not in avg:
        return out
    e = avg["erm"]
    for method in ("fddg", "fddg:max"):
        if method not in avg:
            continue
        f, name = avg[method], LABELS[method]
        out += [
            f"- {name}: DP ratio {f['dp_ratio']:.3f} vs ERM {e['dp_ratio']:.3f} (difference "
            f"{f['dp_ratio'] - e['dp_ratio']:+.3f}; target >= +0.10); fairness AUC distance to "
            f"0.5 {abs(f['fairness_auc'] - 0.5):.3f} vs ERM {abs(e['fairness_auc'] - 0.5):.3f} "
            f"(target: closer); accuracy {100 * f['accuracy']:.2f} vs ERM "
            f"{100 * e['accuracy']:.2f} (difference {100 * (f['accuracy'] - e['accuracy']):+.2f}"
            " points; target within 3)"
        ]
    if "fddg" not in avg:
        return out
    f = avg["fddg"]
    for method in ("fddg-no-sf", "fddg-no-t", "fddg-no-fc"):
        if method in avg:
            a = avg[method]
            worse = [
                name
                for name, bad in (
                    ("DP", a["dp_ratio"] < f["dp_ratio"]),
                    ("AUC", abs(a["fairness_auc"] - 0.5) > abs(f["fairness_auc"] - 0.5)),
                )
                if bad
            ]
            out.append(
                f"- {LABELS[method]}: DP {a['dp_ratio']:.3f}, AUC {a['fairness_auc']:.3f}, "
                f"accuracy {100 * a['accuracy']:.2f}; worse than FDDG on: "
                f"{', '.join(worse) or 'neither fairness metric'}"
            )
    return out


def plot_dp_vs_dependence(
    rows: list[dict[str, Any]],
    dependence: dict[str, float],
    path: str | Path,
    methods: Sequence[str] = ("erm", "fddg"),
    title: str = "",
) -> Path:
    """Per-target DP ratio against the target's dependence score (mean and std over trials)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.6), dpi=150)
    ax.plot([0, 1], [0, 1], color="0.7", lw=1, ls="--", label="DP of the true labels")
    for i, method in enumerate(methods):
        xs, ys, es = [], [], []
        for target, score in dependence.items():
            mean, std = _mean_std(
                [r["dp_ratio"] for r in rows if r["method"] == method and r["target"] == target]
            )
            if not math.isnan(mean):
                xs.append(score)
                ys.append(mean)
                es.append(std)
        offset = (i - (len(methods) - 1) / 2) * 0.01  # keep error bars apart
        ax.errorbar(
            [x + offset for x in xs],
            ys,
            yerr=es,
            fmt="o",
            capsize=3,
            label=LABELS.get(method, method),
        )
        if i == 0:  # name each target once
            for target, x, y in zip(dependence, xs, ys, strict=False):
                ax.annotate(
                    target, (x, y), textcoords="offset points", xytext=(6, -10), fontsize=7
                )
    ax.set_xlabel("dependence score of the target domain")
    ax.set_ylabel("DP ratio on the target domain")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
