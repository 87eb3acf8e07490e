"""Plots (Pareto front, PNG files) and the `fairdg report` command on the golden records."""

from __future__ import annotations

import numpy as np
import pytest

from fairdg.cli import main
from fairdg.reporting.collect import collect
from fairdg.reporting.plots import learning_curves_figure, pareto_front, write_plots


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
    figure = learning_curves_figure(evals, "erm-B-t1-h1")
    labels = [line.get_label() for ax in figure.axes for line in ax.get_lines()]
    assert "loss" in labels and "val.accuracy" in labels
    with pytest.raises(ValueError, match="no evaluations recorded"):
        learning_curves_figure(evals, "nope")


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
