"""Plots from records: the accuracy-fairness trade-off and learning curves (matplotlib, no GUI).

Figures are built with `matplotlib.figure.Figure` and saved directly, so no pyplot state or
interactive backend is involved (safe on servers and inside other programs).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fairdg.metrics.catalogue import is_minimised
from fairdg.records import write_atomically
from fairdg.reporting.collect import IID
from fairdg.reporting.selection import degenerate, select_steps


def pareto_front(
    x: Sequence[float], y: Sequence[float], maximize_x: bool = True, maximize_y: bool = True
) -> np.ndarray:
    """Boolean mask of the points no other point dominates (at least as good in both, better
    in one). NaN points are never on the front."""
    x = np.asarray(x, dtype=float) * (1 if maximize_x else -1)
    y = np.asarray(y, dtype=float) * (1 if maximize_y else -1)
    valid = np.isfinite(x) & np.isfinite(y)
    mask = np.zeros(len(x), dtype=bool)
    xs, ys = x[valid], y[valid]
    for i in np.flatnonzero(valid):
        dominated = (xs >= x[i]) & (ys >= y[i]) & ((xs > x[i]) | (ys > y[i]))
        mask[i] = not dominated.any()
    return mask


def tradeoff_points(
    part: pd.DataFrame, fairness: str = "dp_ratio", accuracy: str = "accuracy"
) -> tuple[pd.Series, pd.Series, np.ndarray, np.ndarray]:
    """Test fairness (x) and accuracy (y) of selected evaluations, the mask of the Pareto front
    and the mask of degenerate evaluations (a constant predictor on the validation or the test
    rows: "fair" by every measure, so never on the front)."""
    xs = part.get(f"test.{fairness}", pd.Series(np.nan, part.index)).astype(float)
    ys = part.get(f"test.{accuracy}", pd.Series(np.nan, part.index)).astype(float)
    constant = (degenerate(part, "val") | degenerate(part, "test")).to_numpy()
    front = pareto_front(xs.where(~constant), ys, maximize_x=not is_minimised(fairness))
    return xs, ys, front, constant


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "plot"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def tradeoff_figure(
    points: pd.DataFrame,
    experiment: str,
    fairness: str = "dp_ratio",
    accuracy: str = "accuracy",
    order: Sequence[str] = (),
):
    """One panel per target domain: each run a point (test fairness, test accuracy) at the step
    chosen by training-domain validation, coloured by algorithm, the Pareto front marked."""
    rank = {name: i for i, name in enumerate(order)}
    targets = sorted(
        points["target"].unique(), key=lambda t: (t == IID, rank.get(t, len(rank)), t)
    )
    fig = _figure(4.0 * max(1, len(targets)), 3.6)
    axes = fig.subplots(1, max(1, len(targets)), squeeze=False)[0]
    algorithms = sorted(points["algorithm"].unique())
    colours = {a: f"C{i % 10}" for i, a in enumerate(algorithms)}
    for ax, target in zip(axes, targets, strict=False):
        part = points[points["target"] == target]
        xs, ys, front, constant = tradeoff_points(part, fairness, accuracy)
        for algorithm in algorithms:
            mine = (part["algorithm"] == algorithm).to_numpy() & ~constant
            ax.scatter(
                xs[mine], ys[mine], s=22, alpha=0.75, color=colours[algorithm], label=algorithm
            )
        if constant.any():  # drawn apart, never on the front
            ax.scatter(
                xs[constant],
                ys[constant],
                s=40,
                marker="x",
                color="grey",
                label="constant predictor (not on the front)",
            )
        if front.any():
            order = np.argsort(xs.to_numpy()[front])
            ax.plot(
                xs.to_numpy()[front][order],
                ys.to_numpy()[front][order],
                color="black",
                lw=1,
                ls="--",
                zorder=0,
                label="Pareto front",
            )
            ax.scatter(xs[front], ys[front], s=70, facecolors="none", edgecolors="black")
        ax.set_title(f"target {target}")
        ax.set_xlabel(f"test {fairness}")
        ax.set_ylabel(f"test {accuracy}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    fig.suptitle(f"{experiment}: accuracy-fairness trade-off (one point per run)")
    return fig


def learning_curves_figure(
    evals: pd.DataFrame,
    run_id: str,
    metrics: Sequence[str] = ("accuracy", "dp_ratio", "fairness_auc", "positive_rate"),
):
    """Loss terms (``stats.*``) and validation / test metrics of one run against the step;
    evaluations whose validation predictions are degenerate are marked with a grey x."""
    run = evals[evals["run_id"] == run_id].sort_values("step")
    if run.empty:
        raise ValueError(f"run_id: no evaluations recorded for run {run_id!r}")
    fig = _figure(10.0, 3.8)
    left, right = fig.subplots(1, 2)
    for column in [c for c in run.columns if c.startswith("stats.")]:
        if run[column].notna().any():
            left.plot(run["step"], run[column], marker=".", label=column.removeprefix("stats."))
    left.set_title("update statistics (loss terms)")
    for i, metric in enumerate(metrics):
        for set_name, style in (("val", "-"), ("test", ":")):
            column = f"{set_name}.{metric}"
            if column in run and run[column].notna().any():
                right.plot(
                    run["step"], run[column], ls=style, color=f"C{i}", marker=".", label=column
                )
    constant = degenerate(run, "val").to_numpy()
    if constant.any() and metrics and f"val.{metrics[0]}" in run:
        right.scatter(
            run["step"][constant],
            run[f"val.{metrics[0]}"][constant],
            marker="x",
            s=60,
            color="grey",
            zorder=3,
            label="constant predictor (val)",
        )
    right.set_title("validation (solid) and test (dotted) metrics")
    for ax in (left, right):
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    first = run.iloc[0]
    fig.suptitle(
        f"run {run_id}: {first['algorithm']} on {first['experiment']}, "
        f"target {first['target']}, trial {first['trial']}"
    )
    return fig


def write_plots(
    evals: pd.DataFrame,
    folder: str | Path,
    run_ids: Sequence[str] = (),
    fairness: str = "dp_ratio",
    domain_order: Mapping[str, Sequence[str]] | None = None,
) -> list[Path]:
    """Write the trade-off figure of every experiment and the learning curves of `run_ids`
    (default: the first complete run of each experiment and algorithm) as PNG files.
    `domain_order` (experiment -> domains, see `tables.domain_order`) orders the panels."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    points = select_steps(evals, "training")
    for experiment, part in points.groupby("experiment"):
        path = folder / f"tradeoff-{_slug(experiment)}.png"
        order = (domain_order or {}).get(experiment, ())
        figure = tradeoff_figure(part, experiment, fairness, order=order)
        write_atomically(path, functools.partial(figure.savefig, dpi=120))
        written.append(path)
    done = evals[(evals["status"] == "done") & (evals["n_test"] <= 1)]
    if not run_ids:
        firsts = done.sort_values("run_id").groupby(["experiment", "algorithm"])["run_id"].first()
        run_ids = list(firsts)
    for run_id in run_ids:
        path = folder / f"curves-{_slug(run_id)}.png"
        figure = learning_curves_figure(evals, run_id)
        write_atomically(path, functools.partial(figure.savefig, dpi=120))
        written.append(path)
    return written


__all__ = [
    "learning_curves_figure",
    "pareto_front",
    "tradeoff_figure",
    "tradeoff_points",
    "write_plots",
]
