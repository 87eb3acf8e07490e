"""The Python example of docs/practitioners.md runs as written (DataFrame -> FairClassifier ->
MetricFrame -> ThresholdOptimizer -> predictions on a held-out CSV)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

DOC = Path(__file__).resolve().parents[2] / "docs" / "practitioners.md"


def test_practitioners_example_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], str(DOC), "exec"), {"__name__": "__docs__"})
    out = capsys.readouterr().out
    assert "DP difference after ThresholdOptimizer" in out
    predictions = pd.read_csv(tmp_path / "predictions.csv")
    assert len(predictions) == 200 and "credit" not in predictions.columns
    assert set(predictions["prediction"]) <= {"good", "bad"}
    assert predictions["score"].between(0, 1).all()
