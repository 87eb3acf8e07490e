"""Few-shot domain adaptation of the affinity paper (section 4), shared by the reproductions
``affinity-da-rotated`` (MNIST -> MNIST-R, Table 6) and ``affinity-da-svhn`` (SVHN -> MNIST,
Table 7), and their figure 7 (target accuracy against the labelled target samples per class).

The domain is the attribute to ignore: z = 0 for source rows, 1 for the few labelled target
rows. Every method trains the same network from the same initialisation with Adam; one step
draws ``batch`` source rows and ``batch`` target rows (with replacement; the target rows are
few, so a balanced batch is the only way most steps see one):

- ``source``: cross-entropy on ``2 * batch`` source rows only (the "only source" column);
- ``target``: cross-entropy on the source and target rows;
- ``augment``: the same with the target rows randomly rotated and shifted at every step
  (`fairdg.algorithms.augment.random_affine`; the "+ target samples and data augmentation" column);
- ``augment-only`` (ours): cross-entropy on ``2 * batch`` augmented target rows, no source
  rows (a reading of the paper's augmentation column, which is the same for both source sizes);
- ``affinity``: cross-entropy on the source and target rows plus ``lambda`` times the affinity
  loss of the representation with the domain as the group, in the form of the ``affinity``
  algorithm's defaults (equation (3): source anchors, normalised by ``|Y| |X1|``).

Each run is a `fairdg.experiments.tasks.Task` of the sweep engine (``<folder>/runs/<id>/``:
skipped when done, sent to ``--workers`` processes), so an interrupted reproduction resumes and
a second call only redraws the tables. (Runs kept in the ``runs.json`` of earlier versions are
not read: they are trained again.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fairdg.algorithms.affinity import FORMS, Affinity, loss_options
from fairdg.algorithms.augment import random_affine
from fairdg.data import load_dataset
from fairdg.data import svhn as svhn_data
from fairdg.data.base import Domain
from fairdg.experiments.tasks import Task
from fairdg.losses import affinity_loss
from fairdg.networks import MLP
from fairdg.networks.svhn_cnn import SVHNCNN
from fairdg.reporting.figures import metric_label, new_figure, save, scaled, styled
from fairdg.reproductions.protocol import BaseSpec, option

if TYPE_CHECKING:
    from matplotlib.figure import Figure

METHODS = ("source", "target", "augment", "affinity", "augment-only")
# lambda of the affinity method: picked on 3,000 rotated MNIST *training* images (not the test
# set) among 0.03, 0.1, 0.3, 1, 10 (validation accuracy 0.832, 0.842, 0.845, 0.832, 0.26; seed 0,
# 10,000 source images, 2,000 steps); the paper gives none for section 4.
LAMBDA = 0.3
LABELS = {
    "source": "only source",
    "target": "+ target samples",
    "augment": "+ target samples and data augmentation",
    "affinity": "affinity (+ target samples)",
    "augment-only": "target samples only, with data augmentation (ours; not in the paper)",
}


@dataclass
class DAData:
    """Source and labelled target training rows, and the evaluation sets ``{name: (x, y)}``."""

    source_x: torch.Tensor
    source_y: torch.Tensor
    target_x: torch.Tensor
    target_y: torch.Tensor
    evaluate: dict[str, tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class DASettings:
    """Training settings of one run (the method, seed and data come separately)."""

    steps: int = 2000
    batch: int = 64
    lr: float = 1e-3
    lam: float = 0.3
    form: str = "eq3"
    degrees: float = 15.0
    translate: float = 0.1
    device: str = "cpu"


@dataclass(frozen=True)
class DASpec(BaseSpec):
    """The options both adaptation reproductions have."""

    seeds: int = option(3, 1, "trials (each its own draw of source and target images)")
    lambda_: float = option(LAMBDA, help="the affinity loss's weight")
    form: str = option("eq3", help="the affinity loss's form", choices=tuple(FORMS))
    root: str = option("", help="folder of the data files (default: $FAIRDG_DATA/...)")
    steps: int = option(2000, 800, "Adam steps")  # each reproduction sets its own

    def task(self, table, method, n_source, per_class, seed, n_test, **where) -> Task:
        """One run: what changes its result is in its id (the old ``runs.json`` key); `where`
        the data are (``mnist_root``) is not."""
        augments = method.startswith("augment")
        params = {
            "table": table, "method": method, "n_source": n_source, "per_class": per_class,
            "seed": seed, "steps": self.steps, "batch": 64, "lr": 1e-3, "form": self.form,
            "lam": self.lambda_ if method == "affinity" else 0.0,
            "degrees": getattr(self, "degrees", 15.0) if augments else None,
            "translate": getattr(self, "translate", 0.1) if augments else None, "n_test": n_test,
        }  # fmt: skip
        context = {"root": self.root or None, "device": self.device, **where}
        return Task(da_run, params, str(self.out / "runs"), context)


def affinity_options(form: str) -> dict[str, Any]:
    """`affinity_loss` keyword arguments of the ``affinity`` algorithm's defaults in `form`."""
    defaults = {name: hp.default for name, hp in Affinity.declared_hparams().items()}
    return loss_options({**defaults, **FORMS[form]})


def _draw(n: int, size: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randint(n, (size,), generator=generator)


def train_one(
    data: DAData,
    method: str,
    make_featurizer: Callable[[], MLP | SVHNCNN],
    settings: DASettings,
    seed: int,
) -> nn.Module:
    """Train featurizer -> linear classifier with `method` and return it (eval mode)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    torch.manual_seed(seed)
    featurizer = make_featurizer()
    model = nn.Sequential(featurizer, nn.Linear(featurizer.n_outputs, 10)).to(settings.device)
    # multi-tensor Adam: the same operations as the per-tensor loop (the same weights, bit for
    # bit, on a CPU), one call each for all parameters
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, foreach=True)
    g = torch.Generator().manual_seed(10_000 + seed)
    options = affinity_options(settings.form)
    dev = settings.device
    for _ in range(settings.steps):
        if method == "source":
            i = _draw(len(data.source_y), 2 * settings.batch, g)
            x, y = data.source_x[i].to(dev), data.source_y[i].to(dev)
            loss = F.cross_entropy(model(x), y)
        elif method == "augment-only":
            j = _draw(len(data.target_y), 2 * settings.batch, g)
            xt = random_affine(
                data.target_x[j], settings.degrees, (settings.translate, settings.translate), g
            )
            loss = F.cross_entropy(model(xt.to(dev)), data.target_y[j].to(dev))
        else:
            i = _draw(len(data.source_y), settings.batch, g)
            j = _draw(len(data.target_y), settings.batch, g)
            xt = data.target_x[j]
            if method == "augment":
                xt = random_affine(
                    xt, settings.degrees, (settings.translate, settings.translate), g
                )
            x = torch.cat([data.source_x[i], xt]).to(dev)
            y = torch.cat([data.source_y[i], data.target_y[j]]).to(dev)
            rep = featurizer(x)
            loss = F.cross_entropy(model[1](rep), y)
            if method == "affinity":
                domain = torch.cat(
                    [torch.zeros(len(i), dtype=torch.long), torch.ones(len(j), dtype=torch.long)]
                ).to(dev)
                loss = loss + settings.lam * affinity_loss(rep, y, domain, **options)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: str = "cpu") -> float:
    """Top-1 accuracy of `model` on (x, y), in chunks."""
    correct = 0
    for start in range(0, len(y), 2048):
        logits = model(x[start : start + 2048].to(device))
        correct += int((logits.argmax(1).cpu() == y[start : start + 2048]).sum())
    return correct / len(y)


def da_run(table, method, seed, root=None, mnist_root=None, device="cpu", **p) -> dict:
    """One run of `table` ("rotated" or "svhn"): train with `method`, return the accuracy on
    each evaluation set (the function of the engine's tasks)."""
    settings = DASettings(
        steps=p["steps"], batch=p["batch"], lr=p["lr"], lam=p["lam"], form=p["form"],
        degrees=p["degrees"] or 15.0, translate=p["translate"] or 0.1, device=device,
    )  # fmt: skip
    key = (p["n_source"], p["per_class"], seed, p["n_test"])
    make: Callable[[], MLP | SVHNCNN]
    if table == "rotated":
        data, make = _rotated(root, *key), lambda: MLP(784, 20, 128, 2, 0.0)
    else:
        data, make = _svhn(root, mnist_root, *key), lambda: SVHNCNN((3, 32, 32), 20)
    model = train_one(data, method, make, settings, seed)
    return {name: accuracy(model, x, y, device) for name, (x, y) in data.evaluate.items()}


@functools.lru_cache(maxsize=1)  # one data set in memory at a time (SVHN is large)
def _rotated(root, n_source: int, per_class: int, seed: int, n_test: int | None) -> DAData:
    ds = load_dataset(
        "mnist-rotated", root=root, n_source=n_source, target_labeled_per_class=per_class,
        flatten=False, seed=seed,
    )  # fmt: skip
    (d,) = ds.domains
    test_mask, train_mask = _masks(d)
    test = test_mask.nonzero().flatten()
    if n_test is not None:
        g = torch.Generator().manual_seed(seed)
        test = test[torch.randperm(len(test), generator=g)[:n_test]]
    source = ((d.z == 0) & ~test_mask).nonzero().flatten()
    target = train_mask.nonzero().flatten()
    return DAData(
        d.x[source], d.y[source], d.x[target], d.y[target], {"target": (d.x[test], d.y[test])}
    )


def _masks(d: Domain) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed test rows and the labelled target rows of an adaptation dataset's domain."""
    if d.test_mask is None or d.train_mask is None:
        raise ValueError(f"domain {d.name!r} lacks its test rows or labelled target rows")
    return d.test_mask, d.train_mask


@functools.lru_cache(maxsize=1)
def _svhn_test(root, n_test: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """SVHN's test images (the source column), read once per process."""
    (_, _), (test_x, test_y), _ = svhn_data.load_arrays(root)
    pick = _subset(len(test_y), n_test, 0).numpy()
    x = torch.from_numpy(np.ascontiguousarray(test_x[pick])).float().div_(255.0)
    return x, torch.from_numpy(test_y[pick])


def _subset(n_total: int, n: int | None, seed: int) -> torch.Tensor:
    if n is None or n >= n_total:
        return torch.arange(n_total)
    return torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))[:n]


@functools.lru_cache(maxsize=1)
def _svhn(root, mnist_root, n_source, per_class: int, seed: int, n_test) -> DAData:
    ds = load_dataset(
        "svhn", root=root, mnist_root=mnist_root, n_source=n_source,
        target_labeled_per_class=per_class, n_test=n_test, seed=seed,
    )  # fmt: skip
    (d,) = ds.domains
    test_mask, train_mask = _masks(d)
    source = (d.z == 0).nonzero().flatten()
    target = train_mask.nonzero().flatten()
    test = test_mask.nonzero().flatten()
    return DAData(
        d.x[source], d.y[source], d.x[target], d.y[target],
        {"svhn": _svhn_test(root, n_test), "mnist": (d.x[test], d.y[test])},
    )  # fmt: skip


def plot_figure7(
    path: Path,
    per_class: list[int],
    curves: dict[str, list[list[float]]],
    title: str,
    reference: tuple[str, float] | None = None,
) -> Path:
    """`figure7` written as PNG and PDF (`path` with each suffix); the PNG's path."""
    return save(figure7(per_class, curves, title, reference), path)


@styled
def figure7(
    per_class: list[int],
    curves: dict[str, list[list[float]]],
    title: str,
    reference: tuple[str, float] | None = None,
) -> Figure:
    """Target accuracy in % (mean and min-max band over seeds) against labelled target samples
    per class, one line per method, log-scaled x axis, and an optional horizontal `reference`
    ``(label, accuracy)``; one paper column wide."""
    fig, axes = new_figure(1, 1, panel_height=2.6)
    ax = axes[0, 0]
    for method, runs in curves.items():
        means = scaled("accuracy", [sum(r) / len(r) for r in runs])
        ax.plot(per_class, means, marker="o", label=LABELS.get(method, method))
        band = [scaled("accuracy", [bound(r) for r in runs]) for bound in (min, max)]
        ax.fill_between(per_class, *band, alpha=0.2)
    if reference is not None:
        ax.axhline(
            float(scaled("accuracy", reference[1])), color="grey", ls="--", label=reference[0]
        )
    ax.set_xscale("log")
    ax.set_xticks(per_class, [str(k) for k in per_class])
    ax.minorticks_off()
    ax.set_xlabel("labelled target samples per class")
    ax.set_ylabel(metric_label("accuracy", "target test"))
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.legend(loc="lower right")
    return fig
