"""Pictures of representations: t-SNE (the affinity paper's figure 3) and histograms of the
re-attachment's r per group (figures 5 and 6), baseline next to the fair model.

matplotlib is used through `matplotlib.figure.Figure` (the Agg canvas), so nothing depends on
a display or changes the user's pyplot backend; sizes, labels and files follow
`fairdg.reporting.figures` (paper column widths, PNG and PDF).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from fairdg.reporting.figures import new_figure, save, styled, width_for

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def tsne_embedding(
    features: torch.Tensor, *, seed: int = 0, perplexity: float = 30.0, max_iter: int = 1000
):
    """2-D t-SNE (scikit-learn, PCA initialisation) of `features`, a numpy array (n, 2)."""
    from sklearn.manifold import TSNE

    x = np.asarray(features, dtype=np.float32)
    perplexity = min(perplexity, max(1.0, (len(x) - 1) / 3))
    tsne = TSNE(2, perplexity=perplexity, init="pca", random_state=seed, max_iter=max_iter)
    return tsne.fit_transform(x)


def subsample(n_total: int, n: int, seed: int = 0) -> torch.Tensor:
    """Indices of a random subsample of at most `n` of `n_total` rows (sorted)."""
    if n_total <= n:
        return torch.arange(n_total)
    g = torch.Generator().manual_seed(seed)
    return torch.sort(torch.randperm(n_total, generator=g)[:n]).values


def _scatter(ax: Axes, points: np.ndarray, labels: Any, names: Sequence[str]) -> None:
    """Points in a random order (no group drawn on top of another), coloured by label."""
    labels = np.asarray(labels)
    cmap = "tab10" if len(names) <= 10 else "tab20"
    order = np.random.default_rng(0).permutation(len(labels))
    colours = [_colour(cmap, int(v)) for v in labels[order]]
    ax.scatter(points[order, 0], points[order, 1], s=2, alpha=0.6, c=colours, rasterized=True)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def _legend_handles(ax: Axes, labels: Any, names: Sequence[str]) -> list:
    """Legend entries of the labels present (drawn once per row, beside its last panel)."""
    from matplotlib.lines import Line2D

    present = set(np.asarray(labels).tolist())
    cmap = "tab10" if len(names) <= 10 else "tab20"
    return [
        Line2D([], [], ls="", marker="o", ms=4, color=_colour(cmap, i), label=str(name))
        for i, name in enumerate(names)
        if i in present
    ]


def _colour(cmap: str, i: int) -> Any:
    from matplotlib import colormaps

    return colormaps[cmap](i % colormaps[cmap].N)


Panel = tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]


@styled
def tsne_figure(
    panels: Sequence[Panel],
    *,
    class_names: Sequence[str],
    group_names: Sequence[str],
    seed: int = 0,
    max_iter: int = 1000,
) -> Figure:
    """One column per model (``(title, features, y, z)``, the title its header): the t-SNE of
    its representation coloured by target (top row) and by sensitive group (bottom row)."""
    fig, axes = new_figure(
        2, len(panels), panel_height=min(2.4, width_for(len(panels)) / len(panels))
    )
    rows = (("coloured by target", class_names, 2), ("coloured by group", group_names, 3))
    for col, panel in enumerate(panels):
        points = tsne_embedding(panel[1], seed=seed, max_iter=max_iter)
        axes[0, col].set_title(panel[0])
        for row, (_, names, index) in enumerate(rows):
            _scatter(axes[row, col], points, panel[index], names)
    for row, (header, names, index) in enumerate(rows):
        axes[row, 0].set_ylabel(header)
        labels = np.concatenate([np.asarray(p[index]) for p in panels])
        handles = _legend_handles(axes[row, -1], labels, names)
        axes[row, -1].legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def plot_tsne(
    panels: Sequence[Panel],
    path: str | Path,
    *,
    class_names: Sequence[str],
    group_names: Sequence[str],
    seed: int = 0,
    max_iter: int = 1000,
) -> Path:
    """`tsne_figure` written as PNG and PDF (`path` with each suffix); the PNG's path."""
    fig = tsne_figure(
        panels, class_names=class_names, group_names=group_names, seed=seed, max_iter=max_iter
    )
    return save(fig, path)


@styled
def r_histograms_figure(
    panels: Sequence[tuple[str, torch.Tensor, torch.Tensor]],
    *,
    group_names: Sequence[str],
    bins: int = 50,
) -> Figure:
    """One panel per model (``(title, r, z)``): normalised histograms of r for each group, the
    axes shared (the same bins in every panel) so the panels compare at a glance."""
    fig, axes = new_figure(1, len(panels), sharex=True, sharey=True)
    rs = [np.asarray(r, dtype=float) for _, r, _ in panels]
    pooled = np.concatenate(rs)
    edges = np.linspace(np.percentile(pooled, 0.5), np.percentile(pooled, 99.5), bins + 1)
    for ax, (title, _, groups), r in zip(axes[0], panels, rs, strict=True):
        z = np.asarray(groups)
        for g, name in enumerate(group_names):
            if (z == g).any():
                ax.hist(
                    np.clip(r[z == g], edges[0], edges[-1]),
                    bins=edges,
                    density=True,
                    alpha=0.5,
                    label=str(name),
                    color=_colour("tab10", g),
                )
        ax.set_title(title)
        ax.set_xlabel("r (standardised)")
    axes[0, 0].set_ylabel("density")
    axes[0, -1].legend(title="group")
    return fig


def plot_r_histograms(
    panels: Sequence[tuple[str, torch.Tensor, torch.Tensor]],
    path: str | Path,
    *,
    group_names: Sequence[str],
    bins: int = 50,
) -> Path:
    """`r_histograms_figure` written as PNG and PDF (`path` with each suffix); the PNG's path."""
    return save(r_histograms_figure(panels, group_names=group_names, bins=bins), path)
