"""A planted constant predictor goes through every selection rule, table renderer and plot of
reporting/: no fairness-aware rule selects it, no front draws it, every table flags it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fairdg.cli import main
from fairdg.reporting.collect import collect
from fairdg.reporting.plots import learning_curves_figure, tradeoff_points, write_plots
from fairdg.reporting.selection import METHODS, ranked, select
from fairdg.reporting.tables import DAGGER, DEGENERATE_NOTE, build_summary, render

REASON = "constant predictor: positive rate 1.000 outside [0.02, 0.98] (min_positive_rate)"


def metrics(acc, dp_ratio, rate, constant=False):
    one = {
        "n": 100,
        "accuracy": acc,
        "dp_ratio": dp_ratio,
        "dp_diff": 1 - dp_ratio,
        "fairness_auc": 0.5 if constant else 0.6,
        "positive_rate": rate,
    }
    if constant:
        one["degenerate"] = REASON
    domains = {f"{d}/{p}": {"n": 10, "accuracy": acc} for d in ("A", "B") for p in ("val", "test")}
    return {"val": dict(one), "test": dict(one), "oracle": dict(one), **domains}


CONSTANT = metrics(0.95, 1.0, 1.0, constant=True)  # the most accurate and the "fairest"


def planted(root: Path, write_run) -> Path:
    for target in ("A", "B"):
        for trial in (0, 1):
            base = {"test_domains": [target], "seed": trial}
            fine = [{"step": s, "metrics": metrics(0.7, 0.85, 0.4)} for s in (5, 10)]
            write_run(root, f"erm-{target}-{trial}", base, fine)
            # a run that is constant early and fine later: the later step must win
            mixed = [
                {"step": 5, "metrics": CONSTANT},
                {"step": 10, "metrics": metrics(0.6, 0.9, 0.3)},
            ]
            write_run(root, f"mixed-{target}-{trial}", {**base, "algorithm": "mixed"}, mixed)
            # a run that is constant throughout: flagged wherever it is shown
            always = [{"step": s, "metrics": CONSTANT} for s in (5, 10)]
            write_run(root, f"const-{target}-{trial}", {**base, "algorithm": "const"}, always)
    return root


@pytest.fixture
def runs(tmp_path, run_writer):
    return planted(tmp_path / "planted", run_writer)


@pytest.mark.parametrize("name", list(METHODS))
def test_every_rule_ranks_or_drops_the_constant_predictor(runs, name):
    evals = collect(runs).evaluations()
    chosen = select(evals, name)
    if name == "lodo":  # no pair runs here: nothing selected, but the ranking puts it last
        assert chosen.empty
        rows = ranked(evals, "training")
        assert (rows.loc[rows["val.degenerate"] == 1, "tier"] == 0).all()
        return
    mixed = chosen[chosen["algorithm"] == "mixed"]
    const = chosen[chosen["algorithm"] == "const"]
    if name == "fair":  # fairness-aware: never selects a degenerate evaluation
        assert (chosen["val.degenerate"] == 0).all() and const.empty
        assert (mixed["step"] == 10).all() and len(mixed) == 4
    elif name == "training":  # ranked last: chosen only when every evaluation is degenerate
        assert (mixed["step"] == 10).all()
        assert len(const) == 4 and (const["tier"] == 0).all()
    else:  # oracle: a reference, the last step of each run; flagged in the tables below
        assert (const["val.degenerate"] == 1).all()


@pytest.mark.parametrize("fmt", ["markdown", "latex", "csv"])
def test_every_renderer_flags_its_fairness_cells(runs, fmt):
    summary = build_summary(collect(runs), list(METHODS))
    text = render(summary, fmt)
    if fmt == "csv":
        rows = [line.split(",") for line in text.splitlines()[1:]]
        header = text.splitlines()[0].split(",")
        at = {c: header.index(c) for c in ("algorithm", "metric", "cell", "selection")}
        const = [r for r in rows if r[at["algorithm"]] == "const"]
        for row in const:
            flagged = DAGGER in row[-1]
            assert flagged == (row[at["metric"]] in ("dp_ratio", "fairness_auc"))
        assert not any(DAGGER in r[-1] for r in rows if r[at["algorithm"]] == "erm")
        return
    dagger = DAGGER if fmt == "markdown" else r"$^\dagger$"
    lines = text.splitlines()
    const = [line for line in lines if line.lstrip("| ").startswith("const")]
    assert const and all(dagger in line for line in const)
    # DP / AUC flagged; accuracy and the positive rate are the evidence, shown as they are
    markdown = render(summary, "markdown")
    cell = next(line for line in markdown.splitlines() if line.startswith("| const"))
    assert f"| const | 1.00 ± 0.00{DAGGER} / 0.50 ± 0.00{DAGGER} / 95.00 ± 0.00 / 100.00" in cell
    assert DEGENERATE_NOTE.split(":")[0] in markdown
    assert not any(DAGGER in line for line in markdown.splitlines() if line.startswith("| erm"))
    assert "positive rate" in markdown  # beside the fairness figures


def test_no_front_draws_it(runs, tmp_path):
    evals = collect(runs).evaluations()
    points = select(evals, "training")
    for _, part in points.groupby("target"):
        xs, ys, front, constant = tradeoff_points(part)
        assert constant.sum() == 2 and not (front & constant).any()  # trials 0 and 1
        assert front.any()
    paths = write_plots(evals, tmp_path / "plots", ["const-A-0"])
    assert len(paths) == 2 and all(p.stat().st_size > 1000 for p in paths)
    figure = learning_curves_figure(evals, "const-A-0")
    labels = [c.get_label() for ax in figure.axes for c in ax.collections]
    assert "constant predictor (val)" in labels


def test_report_prints_one_warning_line(runs, capsys):
    assert main(["report", str(runs), "--selection", "training", "fair"]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "constant predictor" in line]
    assert len(warnings) == 1 and "const" in warnings[0] and "mixed" not in warnings[0]


def test_records_say_why(runs):
    record = json.loads((runs / "const-A-0" / "results.jsonl").read_text().splitlines()[0])
    assert record["metrics"]["val"]["degenerate"] == REASON
