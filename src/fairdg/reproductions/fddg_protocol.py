"""The FDDG reproductions' protocol: leave one domain out, ERM + ablations + FDDG, a table.

Built on the shared protocol of `fairdg.reproductions.protocol` (hold out each domain, several
seeds, a table beside the paper's), with the transformation models the FDDG rows need.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairdg import records
from fairdg.data.base import MultiDomainDataset
from fairdg.reproductions import protocol
from fairdg.training import RunConfig
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


def run_plan(
    plan: Plan, output: str | Path, device: str = "cpu", quiet: bool = False
) -> tuple[list[dict[str, Any]], dict[str, Path]]:
    """Run every (target, method, seed); returns one row per run and the T artifact paths."""
    output = Path(output)
    t_paths: dict[str, Path] = {}

    def configure(method: str, target: str, seed: int) -> RunConfig:
        algorithm = method.partition(":")[0]
        path = None
        if algorithm in NEEDS_T:
            sensitive = NEEDS_T[algorithm]
            key = f"{target}/{'sf' if sensitive else 'nosf'}"
            if key not in t_paths:
                t_paths[key] = transformation_path(
                    plan, target, sensitive, output / "transformations", device, True
                )
            path = t_paths[key]
        return RunConfig(
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

    rows = protocol.hold_out_each(
        plan.dataset,
        plan.methods,
        plan.seeds,
        configure,
        CELL,
        targets=plan.targets,
        desc=f"FDDG reproduction on {plan.dataset.name}",
        quiet=quiet,
    )
    return rows, t_paths


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
    """Markdown table: rows methods (ours, then the paper's), columns targets (with their
    dependence score) and the average; cells "DP / AUC / accuracy"."""
    columns = {t: f"{t} ({dependence.get(t, math.nan):.2f})" for t in targets}
    return protocol.results_table(rows, methods, columns, CELL, _fmt, LABELS, paper)


def averages(rows: list[dict[str, Any]], method: str) -> dict[str, float]:
    """Mean over targets of the per-target mean of each cell metric."""
    out = {}
    for metric in CELL:
        per_target: dict[str, list[float]] = {}
        for r in rows:
            if r["method"] == method and not math.isnan(protocol.number(r[metric])):
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
            mean, std = protocol.mean_and_std(
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
