"""Plots (Pareto front, PNG files) and the `fairdg report` command on the golden records."""

from __future__ import annotations

import numpy as np
import pytest

from fairdg.cli import main
from fairdg.reporting.collect import collect
from fairdg.reporting.plots import (
    learning_curves_figure,
    pareto_front,
    tradeoff_figure,
    write_plots,
)
from fairdg.reporting.selection import select_steps


def test_pareto_front():
    x = [0.9, 0.8, 0.5, 0.7, np.nan, 0.9]
    y = [0.6, 0.8, 0.9, 0.7, 1.0, 0.5]
    # (0.7, 0.7) is dominated by (0.8, 0.8); (0.9, 0.5) by (0.9, 0.6); NaN is never on it
    assert pareto_front(x, y).tolist() == [True, True, True, False, False, False]
    # smaller x is better: (0.5, 0.9) dominates everything with lower accuracy
    assert pareto_front(x, y, maximize_x=False).tolist() == [
        False,
        False,
        True,
        False,
        False,
        False,
    ]


def test_write_plots(golden, tmp_path):
    evals = collect(golden).evaluations()
    paths = write_plots(evals, tmp_path / "plots")
    names = sorted(p.name for p in paths)
    assert names[-1] == "tradeoff-toy.png"
    assert {"curves-erm-A-t0-h0.png", "curves-irm-A-t0-h0.png"} <= set(names)
    assert all(p.stat().st_size > 1000 for p in paths)
    assert all(p.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-" for p in paths)  # beside
    with pytest.raises(ValueError, match="no evaluations recorded"):
        learning_curves_figure(evals, "nope")


def test_tradeoff_figure_labels_axes_and_size(golden):
    points = select_steps(collect(golden).evaluations(), "training")
    figure = tradeoff_figure(points, "toy", order=["A", "B"])
    panels = [ax for ax in figure.axes if ax.axison]
    assert [ax.get_title() for ax in panels] == ["target A", "target B"]
    assert panels[0].get_ylabel() == "test accuracy (%, ↑ better)"
    assert panels[0].get_xlabel() == "test DP ratio (↑ fairer)"
    assert panels[1].get_ylabel() == ""  # shared y: labelled on the left panel only
    assert panels[0].get_shared_y_axes().joined(panels[0], panels[1])
    assert panels[0].get_shared_x_axes().joined(panels[0], panels[1])
    accuracy = points[points["target"] == "A"]["test.accuracy"].max() * 100
    drawn = [c.get_offsets()[:, 1] for c in panels[0].collections if len(c.get_offsets())]
    assert max(y.max() for y in drawn) == pytest.approx(accuracy)  # accuracy in %
    assert tuple(figure.get_size_inches()) == (7.0, 2.1)  # two paper columns, one row
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert {"erm", "irm", "Pareto front"} <= set(legend)
    smaller = tradeoff_figure(points, "toy", fairness="dp_diff")
    assert smaller.axes[0].get_xlabel() == "test DP gap (↓ fairer)"


def test_learning_curves_labels_axes_and_size(golden):
    evals = collect(golden).evaluations()
    figure = learning_curves_figure(evals, "erm-B-t1-h1")
    used = [ax for ax in figure.axes if ax.axison]
    labels = [line.get_label() for ax in used for line in ax.get_lines()]
    assert "loss" in labels and "val.accuracy" in labels and "test.accuracy" in labels
    assert [ax.get_ylabel() for ax in used] == [
        "loss terms (update statistics)",
        "accuracy (%, ↑ better)",
        "DP ratio (↑ fairer)",
        "fairness AUC (↓ fairer)",
        "positive rate (%)",
    ]
    assert [ax.get_xlabel() for ax in used] == ["", "", "step", "step", "step"]  # lowest ones
    assert all(used[0].get_shared_x_axes().joined(used[0], ax) for ax in used)
    accuracy = next(line for line in used[1].get_lines() if line.get_label() == "val.accuracy")
    run = evals[evals["run_id"] == "erm-B-t1-h1"].sort_values("step")
    assert accuracy.get_ydata().tolist() == pytest.approx((run["val.accuracy"] * 100).tolist())
    assert figure.get_size_inches()[0] == 7.0
    spare = [ax for ax in figure.axes if not ax.axison]
    legend = [t.get_text() for t in spare[0].get_legend().get_texts()]
    assert legend[:2] == ["validation", "test"]


def test_report_command(golden, tmp_path, capsys):
    out = tmp_path / "report"
    assert (
        main(
            [
                "report",
                str(golden),
                "--selection",
                "all",
                "--save",
                str(out),
                "--plot",
                "--curves",
                "erm-B-t1-h0",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "24 runs under" in captured.out and "21 done, 1 failed, 2 partial" in captured.out
    for title in (
        "training-domain validation",
        "leave-one-domain-out validation",
        "oracle, reference only",
        "val DP ratio >= 0.8",
    ):
        assert title in captured.out
    assert "problem(s) in the records, skipped" in captured.err
    assert {p.name for p in out.iterdir()} >= {
        "tables.md",
        "tables.tex",
        "tables.csv",
        "tradeoff-toy.png",
        "curves-erm-B-t1-h0.png",
    }
    assert main(["report", str(golden), "--format", "csv", "--metrics", "accuracy", "acc"]) == 0
    out, err = capsys.readouterr()
    assert "experiment,selection,algorithm,target,metric,mean,std,n" in out
    assert "metric 'acc' is not recorded" in err
    assert main(["report", str(golden), "--plot", "--curves", "erm-B-t1"]) == 2  # ambiguous
    assert "2 runs match 'erm-B-t1'" in capsys.readouterr().err
