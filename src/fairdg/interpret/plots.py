"""Pictures of representations: t-SNE (the affinity paper's figure 3) and histograms of the
re-attachment's r per group (figures 5 and 6), baseline next to the fair model.

matplotlib is used through `matplotlib.figure.Figure` (the Agg canvas), so nothing depends on
a display or changes the user's pyplot backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from fairdg.records import write_atomically


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


def _scatter(ax, points, labels, names, title) -> None:
    """Points in a random order (no group drawn on top of another), coloured by label."""
    labels = np.asarray(labels)
    cmap = "tab10" if len(names) <= 10 else "tab20"
    order = np.random.default_rng(0).permutation(len(labels))
    colours = [_colour(cmap, int(v)) for v in labels[order]]
    ax.scatter(points[order, 0], points[order, 1], s=3, alpha=0.6, c=colours, rasterized=True)
    for i, name in enumerate(names):  # legend entries only
        if (labels == i).any():
            ax.scatter([], [], s=12, color=_colour(cmap, i), label=str(name))
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=7, loc="best", frameon=False)


def _colour(cmap: str, i: int):
    from matplotlib import colormaps

    return colormaps[cmap](i % colormaps[cmap].N)


def plot_tsne(
    panels: Sequence[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]],
    path: str | Path,
    *,
    class_names: Sequence[str],
    group_names: Sequence[str],
    seed: int = 0,
    max_iter: int = 1000,
) -> Path:
    """One column per model (``(title, features, y, z)``): t-SNE coloured by target (top row)
    and by sensitive group (bottom row), written as a PNG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * len(panels), 8.0), dpi=110)
    axes = fig.subplots(2, len(panels), squeeze=False)
    for col, (title, features, y, z) in enumerate(panels):
        points = tsne_embedding(features, seed=seed, max_iter=max_iter)
        _scatter(axes[0, col], points, y, class_names, f"{title}: target")
        _scatter(axes[1, col], points, z, group_names, f"{title}: sensitive group")
    fig.tight_layout()
    return write_atomically(path, fig.savefig)


def plot_r_histograms(
    panels: Sequence[tuple[str, torch.Tensor, torch.Tensor]],
    path: str | Path,
    *,
    group_names: Sequence[str],
    bins: int = 50,
) -> Path:
    """One panel per model (``(title, r, z)``): normalised histograms of r for each group."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5 * len(panels), 3.4), dpi=110)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, r, z) in zip(axes, panels, strict=True):
        r, z = np.asarray(r, dtype=float), np.asarray(z)
        edges = np.linspace(np.percentile(r, 0.5), np.percentile(r, 99.5), bins + 1)
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
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("r (standardised)")
        ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return write_atomically(path, fig.savefig)
