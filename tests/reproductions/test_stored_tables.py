"""Tables stay the same for the same runs: the report rebuilt from record folders written by
fairdg before its reproductions became specs on the sweep engine (tests/fixtures/
reproduce-fddg-nysf: the folders, and the table and check lines that version printed). The
run ids the plan computes today are those of the stored runs, so nothing is trained again."""

from __future__ import annotations

import shutil
from pathlib import Path

from fairdg.reproductions import ReproOptions, fddg_nysf
from fairdg.reproductions.protocol import Results, parse_spec

STORED = Path(__file__).resolve().parents[1] / "fixtures" / "reproduce-fddg-nysf"
OPTIONS = {
    "methods": "erm,fddg,mbdg", "steps": 4, "t_steps": 4, "n_per_domain": 200, "targets": "env0",
    "n_hparams": 2, "selection": "fair-threshold",  # the rule they were read by (then "fair")
}  # fmt: skip


def test_the_stored_runs_give_the_stored_table(tmp_path, monkeypatch):
    shutil.copytree(STORED / "out", tmp_path / "out")
    monkeypatch.chdir(tmp_path)  # the runs were recorded with the relative --output out
    options = ReproOptions(output="out", quick=True, quiet=True, extra=OPTIONS)
    spec = parse_spec(fddg_nysf.Spec, "fddg-nysf-synthetic", options)
    plan = fddg_nysf.plan(spec)
    results = Results(plan)
    assert all(results.error(key) is None for key in plan.runs)  # every run id is stored
    text = fddg_nysf.report(results, spec)
    lines = [line for line in text.splitlines() if line.startswith(("|", "- ", "  - "))]
    assert lines == (STORED / "expected.md").read_text().splitlines()
