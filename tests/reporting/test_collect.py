"""Collecting run folders: statuses, columns, and damaged files reported, never fatal."""

from __future__ import annotations

import sys

import pytest

from fairdg.reporting.collect import collect, experiment_name


def test_runs_and_statuses(golden):
    collection = collect(golden)
    runs = collection.runs_frame().set_index("run_id")
    assert runs.at["erm-partial", "status"] == "partial"
    assert runs.at["erm-crashed", "status"] == "failed"
    assert runs.at["erm-crashed", "error"] == "ValueError: boom"
    assert runs.at["erm-corrupt", "status"] == "partial"  # unreadable done.json: not complete
    assert runs.at["erm-A-t0-h0", "status"] == "done"
    # 8 erm runs holding out A or B, 12 pair runs, 1 irm run
    assert (runs["status"] == "done").sum() == 8 + 12 + 1
    assert runs.at["erm-AB-t0-h0", "target"] == "A+B" and runs.at["erm-A-t0-h0", "n_domains"] == 3


def test_problems_are_reported(golden):
    problems = "\n".join(collect(golden).problems)
    assert "erm-corrupt/done.json: unreadable" in problems
    assert "erm-A-t0-h0/results.jsonl:3: unparsable line skipped" in problems
    assert "stray: config is not a fairdg run config" in problems


def test_evaluation_columns(golden):
    evals = collect(golden).evaluations()
    row = evals[(evals["run_id"] == "erm-A-t0-h0") & (evals["step"] == 5)].iloc[0]
    assert row["val.accuracy"] == 0.70 and row["oracle.accuracy"] == 0.60
    assert row["stats.loss"] == pytest.approx(0.2)
    assert row["C/val.n"] == 10 and row["experiment"] == "toy" and row["trial"] == 0
    assert list(evals[evals["run_id"] == "erm-A-t0-h0"]["step"]) == [5, 10]


def test_missing_folder_and_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no folder of runs"):
        collect(tmp_path / "nope")
    empty = collect(tmp_path)
    assert empty.runs == [] and empty.evaluations().empty and empty.runs_frame().empty


def test_experiment_name():
    assert experiment_name("adult", {}) == "adult"
    assert experiment_name("adult", {"sensitive": "race", "domain": "age"}) == (
        "adult[domain=age,sensitive=race]"
    )


def test_reporting_never_imports_torch():
    import subprocess

    code = "import sys, fairdg.reporting, fairdg.reporting.plots; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
