"""Draw one of every figure fairdg makes into a folder, for a look (issue 26 point 4).

    python scripts/figure_gallery.py OUT    # about 2 minutes on 2 cores

The trade-off plot and the learning curves come from a small sweep on the synthetic dataset
(3 algorithms x 3 held-out domains x 2 trials, 150 steps); the figure-4 grid from a
transformation model trained 200 steps on the bundled digits; the t-SNE, the histograms of r
and the reproductions' figures from generated numbers (their layout, labels and sizes are what
this shows, not results). Every figure is written as PNG and PDF.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from fairdg.interpret.plots import plot_r_histograms, plot_tsne
from fairdg.reporting.figures import save
from fairdg.reproductions.affinity_adult import sweep_figure
from fairdg.reproductions.affinity_da import figure7
from fairdg.reproductions.fddg import dp_vs_dependence_figure
from fairdg.reproductions.fddg_hue import BINS, hue_figure


def _fairdg(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "fairdg", *args], check=True)


def records_figures(out: Path) -> None:
    """Trade-off plot and learning curves of a small sweep, through `fairdg report --plot`."""
    runs = out / "runs"
    _fairdg("sweep", "--datasets", "synthetic", "--algorithms", "erm", "irm", "mmd",
            "--n-trials", "2", "--steps", "150", "--output", str(runs), "--quiet")  # fmt: skip
    _fairdg("report", str(runs), "--plot", "--save", str(out / "report"))


def grid_figure(out: Path) -> None:
    """The figure-4 grid of a transformation model trained briefly on the bundled digits."""
    artifact = out / "t-digits.pt"
    _fairdg("transform", "train", "--dataset", "digits", "--steps", "200", "--output",
            str(artifact), "--quiet", "--force")  # fmt: skip
    _fairdg("transform", "show", str(artifact), "--dataset", "digits", "--rows", "6",
            "--output", str(out / "figure4-grid.png"))  # fmt: skip


def representation_figures(out: Path) -> None:
    """t-SNE and histograms of r on generated representations (10 classes, 2 groups)."""
    g = torch.Generator().manual_seed(0)

    def panel(name: str, shift: float):
        y, z = torch.randint(0, 10, (400,), generator=g), torch.randint(0, 2, (400,), generator=g)
        features = torch.randn(400, 8, generator=g) + 0.5 * y[:, None] + shift * z[:, None]
        return name, features, y, z

    plot_tsne([panel("ERM", 2.0), panel("Affinity", 0.0)], out / "tsne.png",
              class_names=[str(i) for i in range(10)], group_names=["female", "male"])  # fmt: skip
    z = torch.arange(600) % 2
    r = torch.randn(600, generator=g)
    plot_r_histograms([("ERM", r + z, z), ("Affinity", r, z)], out / "r_hist.png",
                      group_names=["female", "male"])  # fmt: skip


def reproduction_figures(out: Path) -> None:
    """The lambda sweep, figure 7, DP ratio against dependence and the hue histograms."""
    runs = [
        [{"accuracy": 0.84 - i / 100, "dp_diff": 0.18 - 0.04 * i, "eopp_diff": 0.1 - i / 50}]
        for i in range(4)
    ]
    erm = [{"accuracy": 0.85, "dp_diff": 0.19, "eopp_diff": 0.11}]
    thresholds = np.linspace(0.1, 0.9, 9)
    curve = [(t, 0.85 - abs(t - 0.5) / 10, 0.2 * (1 - t), 0.12 * (1 - t)) for t in thresholds]
    save(sweep_figure([0.01, 0.1, 1.0, 3.0], runs, erm, curve), out / "lambda_sweep.png")
    curves = {"affinity": [[0.5, 0.6], [0.6, 0.7], [0.8, 0.85]],
              "target": [[0.3, 0.4], [0.5, 0.6], [0.75, 0.82]]}  # fmt: skip
    save(
        figure7([1, 5, 20], curves, "MNIST -> MNIST-R", ("only source", 0.42)), out / "figure7.png"
    )
    rows = [{"method": m, "target": t, "seed": s, "dp_ratio": 0.5 + 0.3 * (m == "fddg") + 0.05 * s}
            for m in ("erm", "fddg") for t in ("0", "1", "2") for s in range(3)]  # fmt: skip
    dependence = {"0": 0.2, "1": 0.5, "2": 0.9}
    save(dp_vs_dependence_figure(rows, dependence, title="ccMNIST"), out / "dp-vs-dependence.png")
    bump = lambda c: torch.softmax(torch.tensor(-((np.arange(BINS) - c) ** 2) / 4.0), 0)  # noqa: E731
    hues = {"source": bump(5) + bump(20), "target": bump(30), "augmented": bump(10)}
    save(hue_figure(hues, "0 held out, T: ours"), out / "hue.png")


def main() -> int:
    """Draw every figure into the folder named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the figures (created)")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    representation_figures(out)
    reproduction_figures(out)
    grid_figure(out)
    records_figures(out)
    print(f"figures (PNG and PDF) in {out}:")
    for path in sorted(out.rglob("*.png")):
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
