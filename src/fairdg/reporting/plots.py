"""Plots from records: the accuracy-fairness trade-off and learning curves (matplotlib, no GUI).

Figures are built with `matplotlib.figure.Figure` and saved directly, so no pyplot state or
interactive backend is involved (safe on servers and inside other programs). They follow
`fairdg.reporting.figures`: paper column widths, axis labels from the metric catalogue with
their unit and direction, accuracy in %, PNG and PDF.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from fairdg.metrics.catalogue import is_minimised
from fairdg.reporting.collect import IID
from fairdg.reporting.figures import (
    grid_shape,
    hide_unused,
    legend_below,
    metric_label,
    new_figure,
    save,
    scaled,
    styled,
)
from fairdg.reporting.selection import degenerate, select_steps

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def pareto_front(
    x: ArrayLike, y: ArrayLike, maximize_x: bool = True, maximize_y: bool = True
) -> np.ndarray:
    """Boolean mask of the points no other point dominates (at least as good in both, better
    in one). NaN points are never on the front."""
    xa = np.asarray(x, dtype=float) * (1 if maximize_x else -1)
    ya = np.asarray(y, dtype=float) * (1 if maximize_y else -1)
    valid = np.isfinite(xa) & np.isfinite(ya)
    mask = np.zeros(len(xa), dtype=bool)
    xs, ys = xa[valid], ya[valid]
    for i in np.flatnonzero(valid):
        dominated = (xs >= xa[i]) & (ys >= ya[i]) & ((xs > xa[i]) | (ys > ya[i]))
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


def _panel_title(target: str) -> str:
    return "no domain held out" if target == IID else f"target {target}"


@styled
def tradeoff_figure(
    points: pd.DataFrame,
    experiment: str,
    fairness: str = "dp_ratio",
    accuracy: str = "accuracy",
    order: Sequence[str] = (),
) -> Figure:
    """One panel per target domain (at most four in a row, axes shared): each run a point
    (test fairness, test accuracy in %) at the step chosen by training-domain validation,
    coloured by algorithm, the Pareto front marked; constant predictors drawn apart."""
    rank = {name: i for i, name in enumerate(order)}
    targets = sorted(
        points["target"].unique(), key=lambda t: (t == IID, rank.get(t, len(rank)), t)
    )
    rows, columns = grid_shape(len(targets))
    fig, axes = new_figure(rows, columns, panel_height=2.1, sharex=True, sharey=True)
    algorithms = sorted(points["algorithm"].unique())
    colours = {a: f"C{i % 10}" for i, a in enumerate(algorithms)}
    for ax, target in zip(axes.flat, targets, strict=False):
        part = points[points["target"] == target]
        xs, ys, front, constant = tradeoff_points(part, fairness, accuracy)
        x, y = scaled(fairness, xs), scaled(accuracy, ys)
        for algorithm in algorithms:
            mine = (part["algorithm"] == algorithm).to_numpy() & ~constant
            ax.scatter(
                x[mine], y[mine], s=14, alpha=0.75, color=colours[algorithm], label=algorithm
            )
        if constant.any():  # drawn apart, never on the front
            ax.scatter(x[constant], y[constant], s=24, marker="x", color="grey",
                       label="constant predictor (not on the front)")  # fmt: skip
        if front.any():
            on = np.argsort(x[front])
            ax.plot(x[front][on], y[front][on], color="black", lw=0.8, ls="--", zorder=0,
                    label="Pareto front")  # fmt: skip
            ax.scatter(x[front], y[front], s=40, facecolors="none", edgecolors="black", lw=0.8)
        ax.set_title(_panel_title(target))
        ax.set_xlabel(metric_label(fairness, "test"))
        ax.set_ylabel(metric_label(accuracy, "test"))
    for ax in axes.flat:
        ax.label_outer()  # shared axes: labels on the outer panels only
    hide_unused(axes, len(targets))
    legend_below(fig, axes.flat, ncols=6)  # every panel's entries: one may lack an algorithm
    fig.suptitle(f"{experiment}: accuracy-fairness trade-off (one point per run)")
    return fig


def learning_curves_figure(
    evals: pd.DataFrame,
    run_id: str,
    metrics: Sequence[str] = ("accuracy", "dp_ratio", "fairness_auc", "positive_rate"),
) -> Figure:
    """Loss terms (``stats.*``) and, one panel each, validation (solid) and test (dotted)
    metrics of one run against the step (x axes shared); evaluations whose validation
    predictions are degenerate are marked with a grey x."""
    run = evals[evals["run_id"] == run_id].sort_values("step")
    if run.empty:
        raise ValueError(f"run_id: no evaluations recorded for run {run_id!r}")
    return _curves(run, run_id, metrics)


@styled
def _curves(run: pd.DataFrame, run_id: str, metrics: Sequence[str]) -> Figure:
    rows, columns = grid_shape(1 + len(metrics), 3)
    fig, axes = new_figure(rows, columns, panel_height=1.8, sharex=True)
    loss, *panels = axes.flat[: 1 + len(metrics)]
    for column in [c for c in run.columns if c.startswith("stats.")]:
        if run[column].notna().any():
            loss.plot(run["step"], run[column], marker=".", label=column.removeprefix("stats."))
    loss.set_ylabel("loss terms (update statistics)")
    if loss.get_legend_handles_labels()[0]:
        # a white box: with several terms there is no empty corner, and a line under the
        # bare labels made them hard to read
        loss.legend(fontsize=6, frameon=True, framealpha=0.85, edgecolor="none")
    constant = degenerate(run, "val").to_numpy()
    for i, (ax, metric) in enumerate(zip(panels, metrics, strict=True)):
        for set_name, style in (("val", "-"), ("test", ":")):
            column = f"{set_name}.{metric}"
            if column in run and run[column].notna().any():
                ax.plot(run["step"], scaled(metric, run[column]), ls=style, color=f"C{i}",
                        marker=".", label=column)  # fmt: skip
        if constant.any() and f"val.{metric}" in run:
            ax.scatter(run["step"][constant], scaled(metric, run[f"val.{metric}"][constant]),
                       marker="x", s=30, color="grey", zorder=3,
                       label="constant predictor (val)" if i == 0 else "_constant")  # fmt: skip
        ax.set_ylabel(metric_label(metric))
    for i, ax in enumerate(axes.flat[: 1 + len(metrics)]):  # x shared: the lowest panels
        ax.set_xlabel("" if i + columns < 1 + len(metrics) else "step")
    spare = hide_unused(axes, 1 + len(metrics))
    _set_legend(fig, spare, panels)
    first = run.iloc[0]
    fig.suptitle(
        f"run {run_id}: {first['algorithm']} on {first['experiment']}, "
        f"target {first['target']}, trial {first['trial']}"
    )
    return fig


def _set_legend(fig: Figure, spare: list[Axes], panels: Sequence[Axes]) -> None:
    """Validation solid, test dotted (and the constant-predictor mark): one legend, in a
    spare panel where there is one, else below the figure."""
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D

    handles: list[Artist] = [
        Line2D([], [], color="0.3", ls="-", marker=".", label="validation"),
        Line2D([], [], color="0.3", ls=":", marker=".", label="test"),
    ]
    marks = [
        c for ax in panels for c in ax.collections if c.get_label() == "constant predictor (val)"
    ]
    handles += marks[:1]
    if spare:
        spare[0].legend(handles=handles, loc="center")
    else:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))


def write_plots(
    evals: pd.DataFrame,
    folder: str | Path,
    run_ids: Sequence[str] = (),
    fairness: str = "dp_ratio",
    domain_order: Mapping[str, Sequence[str]] | None = None,
) -> list[Path]:
    """Write the trade-off figure of every experiment and the learning curves of `run_ids`
    (default: the first complete run of each experiment and algorithm), each as PNG and PDF;
    returns the PNG paths. `domain_order` (experiment -> domains, see `tables.domain_order`)
    orders the panels."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    points = select_steps(evals, "training")
    for experiment, part in points.groupby("experiment"):
        order = (domain_order or {}).get(str(experiment), ())
        figure = tradeoff_figure(part, str(experiment), fairness, order=order)
        written.append(save(figure, folder / f"tradeoff-{_slug(str(experiment))}.png"))
    done = evals[(evals["status"] == "done") & (evals["n_test"] <= 1)]
    if not run_ids:
        firsts = done.sort_values("run_id").groupby(["experiment", "algorithm"])["run_id"].first()
        run_ids = list(firsts)
    for run_id in run_ids:
        figure = learning_curves_figure(evals, run_id)
        written.append(save(figure, folder / f"curves-{_slug(run_id)}.png"))
    return written


__all__ = [
    "learning_curves_figure",
    "pareto_front",
    "tradeoff_figure",
    "tradeoff_points",
    "write_plots",
]
