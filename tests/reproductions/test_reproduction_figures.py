"""The reproductions' figures, checked through matplotlib's objects: labels from the metric
catalogue (unit and direction), accuracy in %, shared axes, paper widths, PNG and PDF."""

from __future__ import annotations

import pytest
import torch

from fairdg.reporting.figures import save
from fairdg.reproductions.affinity_adult import sweep_figure
from fairdg.reproductions.affinity_da import figure7, plot_figure7
from fairdg.reproductions.fddg import dp_vs_dependence_figure
from fairdg.reproductions.fddg_hue import BINS, hue_figure, plot_hue_histograms


def _both_written(png):
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"


def test_lambda_sweep_figure(tmp_path):
    metrics = {"accuracy": 0.84, "dp_diff": 0.1, "eopp_diff": 0.05}
    curve = [(t, 0.8 + t / 10, 0.2 - t / 10, 0.1 - t / 20) for t in (0.3, 0.5, 0.7)]
    fig = sweep_figure([0.1, 1.0], [[metrics], [metrics]], [metrics], curve)
    left, right = fig.axes
    assert [left.get_xlabel(), right.get_xlabel()] == ["test accuracy (%, ↑ better)"] * 2
    assert left.get_ylabel() == "test DP gap (↓ fairer)"
    assert right.get_ylabel() == "test EOpp gap (↓ fairer)"
    assert [left.get_title(), right.get_title()] == [
        "parity gap (paper's name)",
        "equality gap (paper's name)",
    ]
    assert left.get_shared_x_axes().joined(left, right)
    assert left.get_shared_y_axes().joined(left, right)
    sweep = left.get_lines()[1]
    assert sweep.get_xdata().tolist() == [84.0, 84.0]  # accuracy drawn in %
    assert tuple(fig.get_size_inches())[0] == 7.0 and len(fig.legends) == 1
    _both_written(save(fig, tmp_path / "lambda_sweep.png"))


def test_figure7(tmp_path):
    curves = {"affinity": [[0.5, 0.6], [0.8, 0.9]], "target": [[0.3, 0.4], [0.7, 0.8]]}
    fig = figure7([1, 5], curves, "MNIST -> MNIST-R", ("only source", 0.4))
    (ax,) = fig.axes
    assert ax.get_ylabel() == "target test accuracy (%, ↑ better)"
    assert ax.get_xlabel() == "labelled target samples per class"
    assert ax.get_ylim() == (0, 100)
    assert ax.get_lines()[0].get_ydata().tolist() == pytest.approx([55, 85])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "5"]
    assert tuple(fig.get_size_inches())[0] == 3.4
    _both_written(plot_figure7(tmp_path / "figure7.png", [1, 5], curves, "t"))


def test_dp_vs_dependence_figure(tmp_path):
    rows = [
        {"method": m, "target": t, "seed": s, "dp_ratio": 0.5 + 0.1 * s}
        for m in ("erm", "fddg")
        for t in ("a", "b")
        for s in range(2)
    ]
    fig = dp_vs_dependence_figure(rows, {"a": 0.1, "b": 0.9}, title="ccMNIST")
    (ax,) = fig.axes
    assert ax.get_ylabel() == "target DP ratio (↑ fairer)"
    assert ax.get_xlabel() == "dependence score of the target domain"
    assert ax.get_title() == "ccMNIST"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "DP ratio of the true labels",
        "ERM",
        "FDDG",
    ]
    assert tuple(fig.get_size_inches())[0] == 3.4
    _both_written(save(fig, tmp_path / "dp-vs-dependence.png"))


def test_hue_figure(tmp_path):
    flat = torch.full((BINS,), 1 / BINS)
    report = {"source": flat, "target": flat, "augmented": flat}
    fig = hue_figure(report, "0 held out")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "hue of digit pixels (degrees)"
    assert ax.get_ylabel() == "share of digit pixels (%)"
    assert max(ax.get_lines()[0].get_ydata()) == pytest.approx(100 / BINS)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "source domains",
        "target domain",
        "x'' (DataAug)",
    ]
    assert tuple(fig.get_size_inches())[0] == 3.4
    _both_written(plot_hue_histograms(report, tmp_path / "hue.png", "0 held out"))
