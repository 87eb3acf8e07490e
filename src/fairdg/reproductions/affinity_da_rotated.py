"""Reproduction of the affinity paper's MNIST -> MNIST-R few-shot adaptation (section 4):
Table 6 and figure 7.

Needs the MNIST files (``$FAIRDG_DATA/mnist`` or ``--option root=DIR``).

Setting (paper): source MNIST (1,000 or 10,000 training images), target MNIST-R (every image
rotated by 30 degrees), 200 labelled target images (20 per class), MLP 784-128-128-20 (ReLU;
the affinity loss acts on the 20 units, the domain is the ignored attribute), accuracy on the
10,000 rotated test images. The paper gives no steps, batch, optimiser or lambda: we train 2,000
Adam steps (lr 1e-3) on 64 source + 64 target rows, and lambda 0.3 was picked on 3,000 rotated
*training* images (never the test set) among 0.03, 0.1, 0.3, 1 and 10 (seed 0, 10,000 source
images; docs/affinity.md). The augmentation baseline rotates each target image by a random
angle in [-15, 15] degrees and shifts it by up to 10% of its size (torchvision's
``RandomAffine(15, translate=(0.1, 0.1))``), drawn anew at every step; the paper does not give
its augmentation. Two more columns are ours, not the paper's: the same 200 target samples without
augmentation, and the augmented target samples alone. See `fairdg.reproductions.affinity_da`
for the methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fairdg.experiments.tasks import Task
from fairdg.reproductions.affinity_da import LABELS, DASpec, plot_figure7
from fairdg.reproductions.protocol import (
    Plan,
    Results,
    markdown_table,
    mean,
    mean_std,
    option,
    paper_cell,
    positive,
    quick_note,
    target_line,
)
from fairdg.training.config import RunConfig

PAPER_TABLE6 = {  # source samples: (only source, + aug, affinity)
    1000: (0.52, 0.76, 0.78),
    10000: (0.67, 0.76, 0.82),
}
TABLE_METHODS = ("source", "augment", "affinity", "target", "augment-only")


@dataclass(frozen=True)
class Spec(DASpec):
    """The options of ``affinity-da-rotated``."""

    steps: int = option(2000, 800, "Adam steps")
    per_class: list[int] = option([1, 5, 10, 20, 50, 100], [1, 5, 20, 100], "figure 7's x axis")
    n_sources: list[int] = option([1000, 10000], help="source images (Table 6's rows)")
    degrees: float = option(15.0, help="the augmentation's rotation range, in degrees")
    translate: float = option(0.1, help="the augmentation's largest shift, of the size")
    figure: bool = option(True, help="figure 7")

    def __post_init__(self) -> None:
        object.__setattr__(self, "per_class", positive(self.per_class, f"{self.name}: per_class"))
        object.__setattr__(self, "n_sources", positive(self.n_sources, f"{self.name}: n_sources"))

    @property
    def figure_source(self) -> int:
        return self.n_sources[-1]

    @property
    def figure_methods(self) -> tuple[str, ...]:
        return ("augment", "affinity") if self.quick else ("target", "augment", "affinity")

    @property
    def n_test(self) -> int | None:
        return 2000 if self.quick else None


def plan(spec: Spec) -> Plan:
    """Table 6's runs (20 labelled target images per class), then figure 7's."""
    keys = [
        (m, n, 20, s) for s in range(spec.seeds) for n in spec.n_sources for m in TABLE_METHODS
    ]
    keys += [
        (method, spec.figure_source, k, seed)
        for seed in range(spec.seeds)
        for k in (spec.per_class if spec.figure else [])
        for method in spec.figure_methods
        if (method, spec.figure_source, k, seed) not in keys
    ]
    runs: dict[Any, RunConfig | Task] = {
        key: spec.task("rotated", *key, spec.n_test) for key in keys
    }
    return Plan(runs=runs)


def report(results: Results, spec: Spec) -> str:
    """Table 6, figure 7 (and its table), the targets."""
    found: dict[tuple, list[dict[str, float]]] = {}
    for key in results.plan.runs:
        found.setdefault(key[:3], []).append(results.record(key))
    figure = None
    if spec.figure:
        curves = {
            m: [[r["target"] for r in found[(m, spec.figure_source, k)]] for k in spec.per_class]
            for m in spec.figure_methods
        }
        figure = plot_figure7(
            spec.out / "figure7.png",
            list(spec.per_class),
            curves,
            f"MNIST -> MNIST-R, {spec.figure_source:,} source images, {spec.seeds} seed(s)",
            ("only source", mean(_acc(found, "source", spec.figure_source, 20))),
        )
    return _report(spec, found, figure)


def _acc(results, method, n_source, k) -> list[float]:
    return [r["target"] for r in results.get((method, n_source, k), [])]


def _report(spec: Spec, results, figure) -> str:
    lines = [
        "# Few-shot domain adaptation MNIST -> MNIST-R (affinity paper, section 4)",
        "",
        f"{spec.seeds} seed(s) (each its own draw of source and target images), {spec.steps} "
        f"steps of Adam (lr {1e-3:g}) on 64 source + 64 target rows, MLP "
        f"784-128-128-20, affinity lambda {spec.lambda_:g} (form `{spec.form}`), augmentation: "
        f"rotation in ±{spec.degrees:g} degrees and shift up to {spec.translate:g} of the size. "
        "Accuracy on "
        + (f"{spec.n_test:,} of " if spec.n_test else "")
        + "the rotated MNIST test images; cells: ours (mean ± sample std over seeds) followed "
        "by the paper's value in parentheses."
        + (
            " Quick mode: fewer steps and test images, not the full protocol."
            if spec.quick
            else ""
        ),
        "",
        "## Table 6 (200 target samples, 20 per class)",
        "",
    ]
    rows = []
    for n_source in spec.n_sources:
        paper = PAPER_TABLE6.get(n_source, (None, None, None))
        cells = [
            paper_cell(mean_std(_acc(results, m, n_source, 20)), p)
            for m, p in zip(("source", "augment", "affinity"), paper, strict=True)
        ]
        ours = [mean_std(_acc(results, m, n_source, 20)) for m in ("target", "augment-only")]
        rows.append([f"{n_source:,}", *cells, *ours])
    header = ["# source samples", *(LABELS[m] for m in ("source", "augment", "affinity"))]
    header.append("+ 200 target samples, no augmentation (ours; not in the paper)")
    header.append("200 target samples only, with augmentation (ours; not in the paper)")
    lines.append(markdown_table(header, rows))
    if figure is not None:
        lines += ["", f"## Figure 7 ({spec.figure_source:,} source images)", ""]
        figure_rows = [
            [k, *(mean_std(_acc(results, m, spec.figure_source, k)) for m in spec.figure_methods)]
            for k in spec.per_class
        ]
        lines.append(
            markdown_table(
                ["target samples per class", *(LABELS[m] for m in spec.figure_methods)],
                figure_rows,
            )
        )
        lines += ["", f"Figure: `{figure}`"]
    lines += _targets(spec, results)
    return "\n".join(lines) + "\n"


def _targets(spec: Spec, results) -> list[str]:
    if not {1000, 10000} <= set(spec.n_sources):
        return []
    lines = ["", "## Targets" + quick_note(spec, " -- quick run, not the full one"), ""]
    big = {m: mean(_acc(results, m, 10000, 20)) for m in ("augment", "affinity")}
    small = {m: mean(_acc(results, m, 1000, 20)) for m in ("augment", "affinity")}
    gain, small_gain = big["affinity"] - big["augment"], small["affinity"] - small["augment"]
    return lines + [
        target_line("10,000 source: affinity", big["affinity"], ">=", 0.80),
        target_line("10,000 source: affinity - augmentation", gain, ">=", 0.03),
        target_line("1,000 source: affinity - augmentation", small_gain, ">=", 0),
    ]
