"""Reproduction of the affinity paper's SVHN -> MNIST few-shot adaptation (section 4): Table 7.

Needs SVHN's official ``train_32x32.mat`` and ``test_32x32.mat``
(``$FAIRDG_DATA/svhn``, or ``root``) and the MNIST files (``$FAIRDG_DATA/mnist``); without them
it stops with the message of `fairdg.data.svhn` saying where to put them.

Setting (paper): source SVHN (all 73,257 training images), target MNIST resized to 32 x 32 and
replicated to three channels, a few labelled MNIST training images, the paper's CNN (two
double-convolution blocks of 32 and 64 filters, a 20-unit representation on which the affinity
loss acts; `fairdg.networks.svhn_cnn`). Rows: only SVHN; baseline (cross-entropy on SVHN and
the MNIST samples) + 100 / + 200 MNIST samples; affinity + 10 / + 100 / + 200 MNIST samples.
Columns: accuracy on SVHN's test images and on MNIST's. The paper gives no steps, batch,
optimiser or lambda: Adam (lr 1e-3), 64 SVHN + 64 MNIST rows per step, 5,000 steps, and the
lambda of ``affinity-da-rotated`` (0.3). We have not run the full mode: SVHN is not on our
machines.
"""

from __future__ import annotations

from dataclasses import dataclass

from fairdg.data import svhn as svhn_data
from fairdg.data.sources import locate
from fairdg.reproductions.affinity_da import DASpec
from fairdg.reproductions.protocol import (
    Plan,
    Results,
    markdown_table,
    mean_std,
    option,
    paper_cell,
)

# label, method, MNIST samples per class, paper (SVHN accuracy, MNIST accuracy)
ROWS = (
    ("only SVHN", "source", 0, (0.91, 0.11)),
    ("baseline + 100 MNIST samples", "target", 10, (0.91, 0.11)),
    ("baseline + 200 MNIST samples", "target", 20, (0.91, 0.13)),
    ("affinity + 10 MNIST samples", "affinity", 1, (0.91, 0.75)),
    ("affinity + 100 MNIST samples", "affinity", 10, (0.91, 0.80)),
    ("affinity + 200 MNIST samples", "affinity", 20, (0.92, 0.85)),
)


@dataclass(frozen=True)
class Spec(DASpec):
    """The options of ``affinity-da-svhn``."""

    steps: int = option(5000, 300, "Adam steps")
    mnist_root: str = option("", help="folder of the MNIST files (default: $FAIRDG_DATA/mnist)")
    n_source: int | None = option(None, 5000, "SVHN training images (default: all 73,257)")
    n_test: int | None = option(None, 1000, "test images per domain (default: all)")


def plan(spec: Spec) -> Plan:
    """Every row of Table 7 for every seed; the SVHN files are checked first."""
    locate("svhn", svhn_data.FILES, root=spec.root or None)
    keys = [
        (method, spec.n_source, k, seed)
        for seed in range(spec.seeds)
        for k in sorted({row[2] for row in ROWS})
        for _, method, per_class, _ in ROWS
        if per_class == k
    ]
    where = {"mnist_root": spec.mnist_root or None}
    return Plan(runs={key: spec.task("svhn", *key, spec.n_test, **where) for key in keys})


def report(results: Results, spec: Spec) -> str:
    """Table 7."""
    found: dict[tuple, list[dict[str, float]]] = {}
    for key in results.plan.runs:
        found.setdefault(key[:3], []).append(results.record(key))
    lines = [
        "# Few-shot domain adaptation SVHN -> MNIST (affinity paper, section 4)",
        "",
        f"{spec.seeds} seed(s), {spec.steps} steps of Adam (lr {1e-3:g}) on 64 SVHN + "
        f"64 MNIST rows (only SVHN: 128 SVHN rows), the paper's CNN "
        f"(32-32 / 64-64, 20-unit representation), affinity lambda {spec.lambda_:g} (form "
        f"`{spec.form}`); cells: ours (mean ± sample std over seeds) followed by the paper's "
        "value."
        + (
            f" Quick mode: {spec.n_source:,} SVHN training images, {spec.n_test:,} test images "
            "per domain, not the full protocol."
            if spec.quick
            else ""
        ),
        "",
        "## Table 7",
        "",
    ]
    rows = []
    for label, method, k, paper in ROWS:
        runs = found.get((method, spec.n_source, k), [])
        rows.append(
            [
                label,
                paper_cell(mean_std([r["svhn"] for r in runs]), paper[0]),
                paper_cell(mean_std([r["mnist"] for r in runs]), paper[1]),
            ]
        )
    rows.append(["Ganin et al. (unlabelled MNIST; quoted by the paper)", "-", "(0.74)"])
    lines.append(markdown_table(["", "accuracy SVHN (source)", "accuracy MNIST (target)"], rows))
    return "\n".join(lines) + "\n"
