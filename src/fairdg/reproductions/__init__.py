"""Reproductions of the papers' tables: ``fairdg reproduce NAME [--quick]``.

A reproduction is a function ``(options: ReproOptions) -> str`` that runs the experiments of a
table, writes its outputs under ``options.output`` and returns a markdown report (our numbers next
to the paper's). Each lives in its own module; add it with one line in `_ENTRIES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from fairdg.registry import Registry


@dataclass(frozen=True)
class ReproOptions:
    """Options shared by every reproduction.

    ``quick`` runs a small version (one seed, few steps, a subsample) for CI; ``seeds`` overrides
    the number of seeds; ``workers`` runs that many training processes at once (the
    reproductions in `PARALLEL`); ``extra`` holds reproduction-specific ``KEY=VALUE`` options.
    """

    output: str = "fairdg-runs/reproduce"
    quick: bool = False
    seeds: int | None = None
    device: str = "cpu"
    quiet: bool = False
    workers: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


REPRODUCTIONS = Registry("reproduction")

# name, "module:function", description, paper. Modules are imported only when run.
_ENTRIES: list[tuple[str, str, str, str]] = [
    (
        "affinity-adult",
        "fairdg.reproductions.affinity_adult:reproduce",
        "Adult: Tables 2 and 3, re-attachment, lambda sweep",
        "affinity 3.2",
    ),
    (
        "affinity-da-rotated",
        "fairdg.reproductions.affinity_da_rotated:reproduce",
        "MNIST -> MNIST-R few-shot adaptation: Table 6, figure 7",
        "affinity 4",
    ),
    (
        "affinity-da-svhn",
        "fairdg.reproductions.affinity_da_svhn:reproduce",
        "SVHN -> MNIST few-shot adaptation: Table 7 (needs the SVHN .mat files)",
        "affinity 4",
    ),
    (
        "affinity-mnist",
        "fairdg.reproductions.affinity_mnist:reproduce",
        "MNIST/MNIST-I: Tables 1a (lambda) and 1b (representation size), t-SNE",
        "affinity 2.1",
    ),
    (
        "affinity-celeba",
        "fairdg.reproductions.affinity_celeba:reproduce",
        "CelebA, frozen VGG19 + 124-unit fair layer: Tables 4, 5, figure 6 (fixture here)",
        "affinity 3.3",
    ),
    (
        "fddg-ccmnist",
        "fairdg.reproductions.fddg_ccmnist:run",
        "colour ccMNIST: 17 baselines, ablations, FDDG, each domain held out",
        "FDDG Tables 6, 10",
    ),
    (
        "fairness-adult",
        "fairdg.reproductions.fairness_adult:reproduce",
        "Adult (sex; age domains held out): penalty, tolerance, fairlearn, side by side",
        "docs/fairness.md",
    ),
    (
        "fddg-nysf-synthetic",
        "fairdg.reproductions.fddg_nysf:run",
        "NYSF (or synthetic stand-in): 16 baselines, ablations, FDDG",
        "FDDG Tables 9, 13",
    ),
]
# The reproductions whose runs go through the sweeps' launchers (``--workers N``).
PARALLEL = frozenset({"fairness-adult", "fddg-ccmnist", "fddg-nysf-synthetic"})
for _name, _target, _description, _paper in _ENTRIES:
    REPRODUCTIONS.register(_name, _target, _description, _paper)


def run_reproduction(name: str, options: ReproOptions) -> str:
    """Run a registered reproduction and return its markdown report."""
    if options.workers != 1 and name not in PARALLEL:
        raise ValueError(
            f"--workers: {name} runs its trainings one after another; drop --workers "
            f"(it applies to {', '.join(sorted(PARALLEL))})"
        )
    module_name, _, function = REPRODUCTIONS.get(name).partition(":")
    return getattr(import_module(module_name), function)(options)
