"""The tutorial docs/tutorial/adult_practitioner.py (a jupytext percent notebook) runs as written,
as a script in a fresh process with warnings as errors, and leaves its figures and table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial" / "adult_practitioner.py"


@pytest.mark.slow
def test_tutorial_runs(tmp_path):
    pytest.importorskip("fairlearn", reason="the tutorial uses fairlearn (extra dev)")
    env = {**os.environ, "FAIRDG_TUTORIAL_OUTPUT": str(tmp_path / "out"), "MPLBACKEND": "Agg"}
    env.setdefault("OMP_NUM_THREADS", "1")
    done = subprocess.run(
        [sys.executable, "-W", "error", str(TUTORIAL)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "degenerate: constant predictor" in done.stdout  # the reject-everyone model
    out = tmp_path / "out"
    for figure in ("selection_rate_by_sex.png", "gap_vs_accuracy.png"):
        assert (out / figure).stat().st_size > 10_000
    results = pd.read_csv(out / "results.csv", index_col=[0, 1])
    assert len(results) == 6 and results["selection_rate"].between(0, 1).all()
    assert {"seen bands", "age<30"} == set(results.index.get_level_values(1))
