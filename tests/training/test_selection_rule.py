"""Checkpoint selection of the training loop: a degenerate evaluation is never preferred to a
non-degenerate one, and a constrained run (``fair_tolerance``) chooses among the evaluations that
meet the tolerance on validation (highest validation accuracy), else the closest, and says so."""

from __future__ import annotations

import itertools
import math

import pytest

from fairdg.training import RunConfig, train
from fairdg.training import loop as loop_module
from fairdg.training.evaluate import Selection


def ev(acc, dp=0.1, degenerate=False):
    val = {"accuracy": acc, "dp_diff": dp, "eodds_diff": dp, "eopp_diff": dp}
    if degenerate:
        val["degenerate"] = "constant predictor: positive rate 1.000 outside [0.02, 0.98]"
    return {"val": val, "test": dict(val)}


def best(selection, evaluations):
    chosen = None
    for i, metrics in enumerate(evaluations):
        if chosen is None or selection.rank(metrics) > selection.rank(evaluations[chosen]):
            chosen = i
    return chosen


def test_degenerate_is_never_preferred_whatever_the_order():
    evaluations = [ev(0.9, degenerate=True), ev(0.7), ev(0.95, degenerate=True), ev(0.72)]
    selection = Selection("val.accuracy")
    for order in itertools.permutations(range(4)):
        assert order[best(selection, [evaluations[i] for i in order])] == 3


def test_all_degenerate_picks_the_best_and_the_record_says_so():
    selection = Selection("val.accuracy")
    evaluations = [ev(0.6, degenerate=True), ev(0.7, degenerate=True)]
    assert best(selection, evaluations) == 1
    assert "every evaluation is degenerate" in selection.note(evaluations[1])["selection_note"]
    assert selection.note(ev(0.7)) == {}  # an ordinary choice needs no note


def test_minimised_criterion_and_nan():
    selection = Selection("val.dp_diff")
    assert best(selection, [ev(0.8, dp=0.2), ev(0.8, dp=math.nan), ev(0.7, dp=0.05)]) == 2


def test_constrained_run_takes_the_most_accurate_that_meets_the_tolerance():
    selection = Selection.of("val.accuracy", {"fair_tolerance": 0.05, "fair_metric": "dp"})
    evaluations = [
        ev(0.90, dp=0.20),  # accurate but unfair
        ev(0.80, dp=0.04),
        ev(0.85, dp=0.05),  # meets it (<=)
        ev(0.95, dp=0.00, degenerate=True),  # meets it trivially: constant
    ]
    assert best(selection, evaluations) == 2
    note = selection.note(evaluations[2])
    assert note["constraint"] == {
        "metric": "val.dp_diff",
        "tolerance": 0.05,
        "value": 0.05,
        "met": True,
    }
    assert "among the evaluations with val.dp_diff <= 0.05" in note["selection_note"]


def test_constrained_run_that_never_meets_it_takes_the_closest():
    selection = Selection.of("val.accuracy", {"fair_tolerance": 0.02, "fair_metric": "eo"})
    evaluations = [ev(0.90, dp=0.20), ev(0.80, dp=0.06), ev(0.5, dp=0.0, degenerate=True)]
    assert best(selection, evaluations) == 1
    note = selection.note(evaluations[1])
    assert note["constraint"]["metric"] == "val.eodds_diff" and not note["constraint"]["met"]
    assert "the closest one (val.eodds_diff 0.0600)" in note["selection_note"]


@pytest.fixture
def scripted(monkeypatch):
    """The loop's evaluations replaced by a script (one metrics dict per evaluation)."""
    script = []

    def fake_evaluate(*args, **kwargs):
        return script.pop(0)

    monkeypatch.setattr(loop_module, "evaluate_split", fake_evaluate)
    return script


def test_the_loop_records_its_constrained_choice(tmp_path, tiny_tabular, scripted):
    scripted += [ev(0.9, dp=0.3), ev(0.8, dp=0.01), ev(0.99, dp=0.0, degenerate=True)]
    config = RunConfig(
        dataset="tiny",
        hparams={"fair_tolerance": 0.05},
        steps=3,
        eval_every=1,
        quiet=True,
        output_dir=str(tmp_path),
    )
    record = train(config, dataset=tiny_tabular).record
    assert record["selected_step"] == 2
    assert record["constraint"]["met"] and record["constraint"]["value"] == 0.01


def test_the_loop_never_selects_a_degenerate_evaluation_over_another(
    tmp_path, tiny_tabular, scripted
):
    scripted += [ev(0.6), ev(0.95, degenerate=True), ev(0.7, degenerate=True)]
    config = RunConfig(dataset="tiny", steps=3, eval_every=1, quiet=True, output_dir=str(tmp_path))
    record = train(config, dataset=tiny_tabular).record
    assert record["selected_step"] == 1 and "selection_note" not in record
