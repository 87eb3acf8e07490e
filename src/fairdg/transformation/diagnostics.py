"""Does T do what DataAug needs? Measurements on real data, and the figure-4 image grid
(`grid_figure`: a header over each column).

`augmentation_report` trains two small probes on real source data, one for the target y and
one for the sensitive attribute z (the featurizer of `fairdg.networks` + a linear head, each
trained on minibatches balanced over the (y, z) cells so that neither leans on the other
attribute), then augments held-out rows and reports:

- ``recon_mae``: mean absolute reconstruction error per input value (data space);
- ``probe_y_accuracy``: the y probe's accuracy on the real rows (its ceiling);
- ``label_kept``: how often the y probe still gives the true y on x' (content preserved);
- ``z_flip``: how often z' = h(a') differs from the row's z (new sensitive factor);
- ``z_prime_share``: the share of the most frequent z' (near 1: every a' gets the same label);
- ``z_consistent``: how often the z probe reads z' off x' (the image shows the sampled
  sensitive attribute, e.g. the background colour on ccMNIST).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from fairdg.networks import NETWORK_HPARAMS, build_classifier, build_featurizer
from fairdg.reporting.figures import ONE_COLUMN, new_figure, save, styled
from fairdg.transformation.model import TransformationModel

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def fit_probe(
    x: torch.Tensor,
    t: torch.Tensor,
    num_classes: int,
    steps: int = 300,
    batch_size: int = 64,
    seed: int = 0,
    balance: torch.Tensor | None = None,
) -> nn.Module:
    """A small classifier of `t` from `x` (Adam, lr 1e-3), in eval mode.

    ``balance`` (e.g. z for a probe of y) makes every minibatch draw the (t, balance) cells
    equally often, so the probe cannot lean on a correlation between t and that attribute.
    """
    torch.manual_seed(seed)
    cells = t * (int(balance.max()) + 1) + balance if balance is not None else t
    members = [(cells == c).nonzero().flatten() for c in torch.unique(cells)]
    hparams = {name: hp.default for name, hp in NETWORK_HPARAMS.items()}
    hparams["cnn_width"] = 16
    featurizer = build_featurizer(tuple(x.shape[1:]), hparams)
    net = nn.Sequential(featurizer, build_classifier(featurizer.n_outputs, num_classes))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    per_cell = max(1, batch_size // len(members))
    for _ in range(steps):
        idx = torch.cat([m[torch.randint(len(m), (per_cell,), generator=g)] for m in members])
        loss = F.cross_entropy(net(x[idx]), t[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()


@torch.no_grad()
def _predict(net: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    return torch.cat([net(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def fit_probes(
    train: Sequence[torch.Tensor],
    num_classes: int,
    num_groups: int,
    steps: int = 300,
    seed: int = 0,
) -> tuple[nn.Module, nn.Module]:
    """The y probe (balanced over z) and the z probe (balanced over y) on ``(x, y, z)``."""
    x, y, z = train
    return (
        fit_probe(x, y, num_classes, steps, seed=seed, balance=z),
        fit_probe(x, z, num_groups, steps, seed=seed + 1, balance=y),
    )


@torch.no_grad()
def augmentation_report(
    model: TransformationModel,
    train: Sequence[torch.Tensor] | None,
    test: Sequence[torch.Tensor],
    num_classes: int,
    num_groups: int,
    probe_steps: int = 300,
    seed: int = 0,
    probes: tuple[nn.Module, nn.Module] | None = None,
) -> dict[str, Any]:
    """Measure T on ``test = (x, y, z)`` with probes fitted on ``train = (x, y, z)`` (or the
    given ``probes``, from `fit_probes`)."""
    x, y, z = test
    if probes is None:
        if train is None:
            raise ValueError("augmentation_report needs the training rows or fitted probes")
        with torch.enable_grad():
            probes = fit_probes(train, num_classes, num_groups, probe_steps, seed)
    probe_y, probe_z = probes
    model.eval()
    g = torch.Generator(device=x.device).manual_seed(seed)
    x_rec = torch.cat([model.reconstruct(x[i : i + 256]) for i in range(0, len(x), 256)])
    parts = [
        model.augment(x[i : i + 256], z[i : i + 256], generator=g) for i in range(0, len(x), 256)
    ]
    x_aug = torch.cat([p[0] for p in parts])
    z_aug = torch.cat([p[1] for p in parts])
    pred_real, pred_aug = _predict(probe_y, x), _predict(probe_y, x_aug)
    out = {
        "n": len(y),
        "recon_mae": float((x_rec - x).abs().mean()),
        "probe_y_accuracy": float((pred_real == y).float().mean()),
        "probe_z_accuracy": float((_predict(probe_z, x) == z).float().mean()),
        "label_kept": float((pred_aug == y).float().mean()),
        # the probe's own errors set aside: does x' get the label the probe gave x?
        "label_agreement": float((pred_aug == pred_real).float().mean()),
        "z_flip": float((z_aug != z).float().mean()),
        "z_prime_share": float(z_aug.bincount(minlength=num_groups).max()) / len(z_aug),
        "z_consistent": float((_predict(probe_z, x_aug) == z_aug).float().mean()),
    }
    return out


@torch.no_grad()
def grid_columns(
    model: TransformationModel,
    x: torch.Tensor,
    z: torch.Tensor | None = None,
    samples: int = 3,
    seed: int = 0,
) -> list[tuple[str, torch.Tensor]]:
    """The columns of figure 4, each ``(header, images in [0, 1])``: the real images x, T's
    reconstruction and `samples` draws x'' = DataAug(x) (new style and sensitive factor)."""
    if x.dim() != 4:
        raise ValueError(f"figure_grid needs images (N, C, H, W), got shape {tuple(x.shape)}")
    g = torch.Generator(device=x.device).manual_seed(seed)
    columns = [("x", x), ("recon.", model.reconstruct(x))]
    subscript = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")  # x''₁: no mathtext font in the PDF
    columns += [
        (f"x''{str(i + 1).translate(subscript)}", model.augment(x, z, generator=g)[0])
        for i in range(samples)
    ]
    lo = model.config.x_low if model.config.x_low is not None else float(x.min())
    hi = model.config.x_high if model.config.x_high is not None else float(x.max())
    return [(h, ((c - lo) / max(hi - lo, 1e-12)).clamp(0, 1).cpu()) for h, c in columns]


def figure_grid(
    model: TransformationModel,
    x: torch.Tensor,
    z: torch.Tensor | None = None,
    samples: int = 3,
    seed: int = 0,
) -> torch.Tensor:
    """Rows of [original, reconstruction, `samples` x DataAug], as one (C, H', W') image in
    [0, 1] (figure 4 of the paper, without headers: `grid_figure` draws it with them)."""
    cells = [c for _, c in grid_columns(model, x, z, samples, seed)]
    n, ch, h, w = x.shape
    pad = 2
    grid = torch.ones(ch, n * (h + pad) + pad, len(cells) * (w + pad) + pad)
    for j, col in enumerate(cells):
        for i in range(n):
            top, left = pad + i * (h + pad), pad + j * (w + pad)
            grid[:, top : top + h, left : left + w] = col[i]
    return grid


@styled
def grid_figure(
    model: TransformationModel,
    x: torch.Tensor,
    z: torch.Tensor | None = None,
    samples: int = 3,
    seed: int = 0,
    group_names: Sequence[str] | None = None,
) -> Figure:
    """Figure 4 of the paper: one row per image, one column per `grid_columns` entry under its
    header, each row named by its sensitive group where `z` is given; one paper column wide."""
    columns = grid_columns(model, x, z, samples, seed)
    cell = ONE_COLUMN / len(columns)
    fig, axes = new_figure(len(x), len(columns), width=ONE_COLUMN, panel_height=cell, packed=True)
    for j, (header, images) in enumerate(columns):
        axes[0, j].set_title(header)
        for i in range(len(x)):
            picture = images[i].permute(1, 2, 0).numpy()
            gray = picture.shape[2] == 1
            axes[i, j].imshow(picture[..., 0] if gray else picture, cmap="gray" if gray else None,
                              vmin=0, vmax=1, interpolation="nearest")  # fmt: skip
            axes[i, j].set(xticks=[], yticks=[])
            axes[i, j].grid(False)
    for i, group in enumerate(z.tolist() if z is not None else []):
        name = group_names[group] if group_names else f"z = {group}"
        axes[i, 0].set_ylabel(textwrap.fill(name, 11), fontsize=6)  # "black\nbackground"
    return fig


def save_grid(
    model: TransformationModel,
    x: torch.Tensor,
    path: str | Path,
    z: torch.Tensor | None = None,
    group_names: Sequence[str] | None = None,
) -> Path:
    """`grid_figure` written as PNG and PDF (`path` with each suffix); the PNG's path."""
    return save(grid_figure(model, x, z, group_names=group_names), path)
