"""``fairdg reproduce fairness-adult --quick``: every row of docs/fairness.md's tables on the
bundled Adult, through the sweep engine; a second call trains nothing."""

from __future__ import annotations

import pytest

from fairdg.cli import main
from fairdg.records import variant_name
from fairdg.reproductions.fairness_adult import METHODS

pytest.importorskip("fairlearn")


@pytest.mark.slow
def test_quick_mode_tables_and_resume(tmp_path, capsys):
    argv = ["reproduce", "fairness-adult", "--quick", "--output", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    report = (tmp_path / "fairness-adult-quick.md").read_text()
    assert "### adult\n" in report and "### adult[domain=age]" in report
    for algorithm, hparams in METHODS:
        row = f"| {variant_name(algorithm, hparams)} |"
        assert report.count(row) == 2, row  # in both tables
    assert "| algorithm | iid |" in report and "age45+" in report
    assert "accuracy (%) / DP gap / EOdds gap / positive rate (%)" in report
    assert "seed 0:" in report and "test DP difference" in report
    assert "Cost: 16 runs" in report
    runs = tmp_path / "fairness-adult-quick" / "runs"
    done = {p: p.stat().st_mtime_ns for p in runs.glob("*/done.json")}
    assert len(done) == 16
    capsys.readouterr()
    assert main(argv) == 0  # found done: nothing trains again, the same tables
    assert {p: p.stat().st_mtime_ns for p in runs.glob("*/done.json")} == done
    again = (tmp_path / "fairness-adult-quick.md").read_text()
    assert again.split("Cost:")[0] == report.split("Cost:")[0]
