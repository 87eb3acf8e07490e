"""Reproductions of the papers' tables: ``fairdg reproduce NAME [--quick]``.

Each is one module defining ``Spec`` (its options), ``plan(spec)`` and ``report(results, spec)``
on the shared protocol (`fairdg.reproductions.protocol`), and one line in `_ENTRIES`. A module
is imported only when its reproduction runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fairdg.registry import Registry


@dataclass(frozen=True)
class ReproOptions:
    """The options of ``fairdg reproduce``: where, how small, how many seeds, on what device,
    how many training processes at once (``workers``; None: one per core for a quick run on
    the CPU, else 1), and ``extra`` (``--option KEY=VALUE``:
    the reproduction's own options, or RunConfig fields for all its runs)."""

    output: str = "fairdg-runs/reproduce"
    quick: bool = False
    seeds: int | None = None
    device: str = "cpu"
    quiet: bool = False
    workers: int | None = 1
    extra: dict[str, Any] = field(default_factory=dict)


REPRODUCTIONS = Registry("reproduction")

# name, module, description, paper
_ENTRIES: list[tuple[str, str, str, str]] = [
    ("affinity-adult", "affinity_adult", "Adult: Tables 2 and 3, re-attachment, lambda sweep",
     "affinity 3.2"),
    ("affinity-da-rotated", "affinity_da_rotated",
     "MNIST -> MNIST-R few-shot adaptation: Table 6, figure 7", "affinity 4"),
    ("affinity-da-svhn", "affinity_da_svhn",
     "SVHN -> MNIST few-shot adaptation: Table 7 (needs the SVHN .mat files)", "affinity 4"),
    ("affinity-mnist", "affinity_mnist",
     "MNIST/MNIST-I: Tables 1a (lambda) and 1b (representation size), t-SNE", "affinity 2.1"),
    ("affinity-celeba", "affinity_celeba",
     "CelebA, frozen VGG19 + 124-unit fair layer: Tables 4, 5, figure 6 (fixture here)",
     "affinity 3.3"),
    ("fddg-ccmnist", "fddg_ccmnist",
     "colour ccMNIST: 17 baselines, ablations, FDDG, each domain held out", "FDDG Tables 6, 10"),
    ("fddg-ccmnist-cpu", "fddg_ccmnist_cpu",
     "ccMNIST CPU regime: all 22 rows, the paper's selection, FDDG - ERM verdict with intervals",
     "FDDG Table 6, issue 24"),
    ("fairness-adult", "fairness_adult",
     "Adult (sex; age domains held out): penalty, tolerance, fairlearn, side by side",
     "docs/fairness.md"),
    ("fddg-nysf-synthetic", "fddg_nysf",
     "NYSF (or synthetic stand-in): 16 baselines, ablations, FDDG", "FDDG Tables 9, 13"),
]  # fmt: skip
for _name, _module, _description, _paper in _ENTRIES:
    REPRODUCTIONS.register(_name, f"fairdg.reproductions.{_module}", _description, _paper)

__all__ = ["REPRODUCTIONS", "ReproOptions"]
