"""-FC variants have their own rows; small groups are marked in metrics and tables."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from fairdg.cli.run import _plain
from fairdg.metrics import evaluate
from fairdg.metrics.evaluate import evaluate_with_reasons
from fairdg.reporting.collect import collect
from fairdg.reporting.tables import UNDEFINED_NOTE, build_summary, render
from fairdg.training import RunConfig


def _run(root, name, algorithm, hparams, test_metrics):
    folder = root / name
    folder.mkdir(parents=True)
    config = {
        "dataset": "toy",
        "data_options": {},
        "algorithm": algorithm,
        "hparams": hparams,
        "hparams_seed": 0,
        "test_domains": ["A"],
        "seed": 0,
        "steps": 10,
        "eval_every": 10,
        "selection": "val.accuracy",
        "transformation": None,
        "run_id": name,
    }
    (folder / "config.json").write_text(json.dumps(config))
    record = {
        "step": 10,
        "metrics": {"val": {"accuracy": 0.7}, "test": test_metrics, "A/test": {"n": 9}},
    }
    (folder / "results.jsonl").write_text(json.dumps(record) + "\n")
    (folder / "done.json").write_text(json.dumps({"run_id": name}))


def test_fc_runs_have_their_own_row_and_undefined_cells_a_footnote(tmp_path):
    defined = {"accuracy": 0.8, "dp_ratio": 0.9, "fairness_auc": 0.6}
    marked = {
        "accuracy": 0.7,
        "dp_ratio": None,
        "fairness_auc": None,
        "undefined": {"dp_ratio": "group 'x' has 1 row in test (min_group_size=30)"},
    }
    _run(tmp_path, "plain", "erm", {}, defined)
    _run(tmp_path, "fc", "erm", {"fair_lambda": 1.0}, marked)
    _run(tmp_path, "zero", "erm", {"fair_lambda": 0.0}, defined)
    evals = collect(tmp_path).evaluations()
    assert sorted(evals["algorithm"]) == ["erm", "erm", "erm+fair_lambda"]
    assert "test.undefined" not in evals.columns
    text = render(build_summary(collect(tmp_path)))
    rows = {
        line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| erm")
    }
    assert set(rows) == {"erm", "erm+fair_lambda"}
    assert "– / – / 70.00" in rows["erm+fair_lambda"] and UNDEFINED_NOTE in text


def test_compare_baseline_is_the_plain_algorithm():
    config = RunConfig(algorithm="affinity", hparams={"fair_lambda": 1.0, "lr": 0.01})
    plain = _plain(config.replace(algorithm="erm"))
    assert plain.algorithm == "erm" and plain.hparams == {"lr": 0.01}


def test_min_group_size_marks_comparisons_with_reasons():
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1, 1])
    scores = np.array([0.2, 0.9, 0.6, 0.7, 0.1, 0.8, 0.3, 0.4, 0.9])
    groups = np.array(["a", "a", "a", "a", "b", "b", "b", "b", "c"])
    plain = evaluate(y, scores, sensitive_features=groups, on_undefined="ignore")
    results, reasons = evaluate_with_reasons(
        y, scores, sensitive_features=groups, min_group_size=2, where="test"
    )
    assert math.isnan(results["dp_ratio"]) and math.isnan(results["fairness_auc"])
    assert reasons["dp_ratio"] == "group 'c' has 1 row in test (min_group_size=2)"
    assert results["count/c"] == 1 and math.isnan(results["accuracy/c"])
    assert (
        results["accuracy/a"] == plain["accuracy/a"] and results["accuracy"] == plain["accuracy"]
    )
    same, none = evaluate_with_reasons(
        y[:8], scores[:8], sensitive_features=groups[:8], min_group_size=4
    )
    assert none == {} and same == pytest.approx(
        evaluate(y[:8], scores[:8], sensitive_features=groups[:8])
    )
    _, tpr = evaluate_with_reasons(
        y, scores, sensitive_features=groups
    )  # group c has no negatives
    assert "TNR needs negatives" in tpr["tnr_diff"]
