"""Model selection and tables on the hand-made records of conftest.py, against hand-computed
values.

Chosen evaluations (test.accuracy), worked out from the tables in conftest.py:

- training (best val.accuracy over steps, then over hparams seeds):
  A/t0: hp0 best .80 @10 vs hp1 .75 @5 -> .62;  A/t1: hp0 .65 @10 vs hp1 .70 @5 -> .73;
  B/t0: hp0 .55 @10 vs hp1 .58 @10 -> .84;      B/t1: hp0 .90 @5 vs hp1 .89 @10 -> .91.
- fair (val.dp_ratio >= 0.8): A/t0: hp0 .70 @5 (.80 @10 has DP .50) vs hp1 .75 @5 -> .63;
  A/t1: hp0 .65 @10, hp1 none -> .72;  B/t0: hp0 .55 @10 vs hp1 .52 @5 -> .82;
  B/t1: hp0 .90 @5 vs hp1 .89 @10 -> .91.
- oracle (oracle.accuracy at the last step): A/t0: .65 vs .55 -> .62; A/t1: .52 vs .60 -> .74;
  B/t0: .45 vs .42 -> .82; B/t1: .85 vs .70 -> .92.
- lodo (mean over sources of the pair runs' accuracy on the left-out source):
  A/t0: hp1 @10 (.9 + .8) / 2 = .85 (hp0 @10 would score (1.0 + ?) but A+C lacks step 10)
  -> .64;  A/t1: hp0 @5 .9 -> .71;  B/t0: hp0 @5 .8 -> .81;  B/t1: hp1 @5 .8 -> .93.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from fairdg.reporting.collect import collect
from fairdg.reporting.selection import select
from fairdg.reporting.tables import build_summary, render

EXPECTED = {  # method: {(target, trial): test.accuracy}
    "training": {("A", 0): 0.62, ("A", 1): 0.73, ("B", 0): 0.84, ("B", 1): 0.91},
    "fair": {("A", 0): 0.63, ("A", 1): 0.72, ("B", 0): 0.82, ("B", 1): 0.91},
    "oracle": {("A", 0): 0.62, ("A", 1): 0.74, ("B", 0): 0.82, ("B", 1): 0.92},
    "lodo": {("A", 0): 0.64, ("A", 1): 0.71, ("B", 0): 0.81, ("B", 1): 0.93},
}
SQRT2 = math.sqrt(2.0)


@pytest.mark.parametrize("method", list(EXPECTED))
def test_selected_evaluations(golden, method):
    evals = collect(golden).evaluations()
    chosen = select(evals, method, dp_threshold=0.8)
    erm = chosen[chosen["algorithm"] == "erm"]
    got = {
        (t, k): acc
        for t, k, acc in zip(erm["target"], erm["trial"], erm["test.accuracy"], strict=True)
    }
    assert got == pytest.approx(EXPECTED[method])
    # the unfinished, crashed and corrupt runs (val accuracy 1.0) are never chosen
    assert (chosen["test.accuracy"] > 0.0).all()
    irm = chosen[chosen["algorithm"] == "irm"]
    assert len(irm) == (0 if method == "lodo" else 1)


@pytest.mark.parametrize("method", list(EXPECTED))
def test_means_and_sample_stds(golden, method):
    summary = build_summary(collect(golden), [method], ["accuracy"])
    cells = summary[summary["algorithm"] == "erm"].set_index("target")
    picks = EXPECTED[method]
    a, b = (picks["A", 0], picks["A", 1]), (picks["B", 0], picks["B", 1])
    avg = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)  # the average is taken within each trial
    for target, (x, y) in (("A", a), ("B", b), ("Avg", avg)):
        # two trials: mean (x + y) / 2, sample std |x - y| / sqrt(2)
        assert cells.at[target, "mean"] == pytest.approx((x + y) / 2)
        assert cells.at[target, "std"] == pytest.approx(abs(x - y) / SQRT2)
        assert cells.at[target, "n"] == 2
    assert list(cells.index) == ["A", "B", "Avg"]  # domain order, then the average


def test_training_selection_numbers_by_hand(golden):
    summary = build_summary(
        collect(golden), ["training"], ["dp_ratio", "fairness_auc", "accuracy"]
    )
    erm = summary[summary["algorithm"] == "erm"].set_index(["target", "metric"])
    # A: accuracy (.62, .73); dp_ratio = accuracy - .5 -> (.12, .23); AUC .5 + hp / 10 with
    # hp0 then hp1 -> (.5, .6)
    assert erm.at[("A", "accuracy"), "mean"] == pytest.approx(0.675)
    assert erm.at[("A", "accuracy"), "std"] == pytest.approx(0.0777817, abs=1e-6)
    assert erm.at[("A", "dp_ratio"), "mean"] == pytest.approx(0.175)
    assert erm.at[("A", "fairness_auc"), "mean"] == pytest.approx(0.55)
    assert erm.at[("Avg", "accuracy"), "mean"] == pytest.approx(0.775)  # (.73 + .82) / 2
    assert erm.at[("Avg", "accuracy"), "std"] == pytest.approx(0.0636396, abs=1e-6)
    # irm: a single run on A: a mean without std; no complete trial for the average
    irm = summary[summary["algorithm"] == "irm"].set_index(["target", "metric"])
    assert irm.at[("A", "accuracy"), "mean"] == 0.5 and math.isnan(
        irm.at[("A", "accuracy"), "std"]
    )
    assert irm.at[("Avg", "accuracy"), "n"] == 0


def test_rendered_tables(golden):
    summary = build_summary(collect(golden), ["training", "oracle"])
    markdown = render(summary, "markdown")
    assert "### toy: training-domain validation" in markdown
    assert "oracle, reference only" in markdown
    assert "| algorithm | A | B | Avg |" in markdown
    # DP / AUC / accuracy (%) of erm on A under training-domain validation
    assert "| erm | 0.17 ± 0.08 / 0.55 ± 0.07 / 67.50 ± 7.78 |" in markdown
    assert "| irm | 0.25 / 0.75 / 50.00 | – / – / – | – / – / – |" in markdown
    latex = render(summary, "latex")
    assert r"\begin{tabular}{lccc}" in latex and r"67.50 $\pm$ 7.78" in latex
    csv = render(summary, "csv")
    frame = pd.read_csv(pd.io.common.StringIO(csv))
    assert set(frame.columns) >= {
        "experiment",
        "selection",
        "algorithm",
        "target",
        "metric",
        "mean",
        "std",
        "n",
        "cell",
    }
    assert len(frame) == len(summary)
    with pytest.raises(ValueError, match="fmt must be one of"):
        render(summary, "html")


def test_fair_threshold_is_a_parameter(golden):
    evals = collect(golden).evaluations()
    strict = select(evals, "fair", dp_threshold=0.99)
    # only B/t1 hp0 (DP .99 at both steps) qualifies among erm runs
    erm = strict[strict["algorithm"] == "erm"]
    assert list(zip(erm["target"], erm["trial"], erm["test.accuracy"], strict=True)) == [
        ("B", 1, 0.91)
    ]
    with pytest.raises(ValueError, match="selection method must be one of"):
        select(evals, "best")
