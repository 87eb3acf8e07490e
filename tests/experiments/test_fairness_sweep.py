"""The standard fairness tools through `fairdg sweep` (a held-out domain) and `fairdg report`
on Adult: their rows sit in the same tables as fairdg's methods."""

from __future__ import annotations

import pytest

from fairdg.cli import main

pytest.importorskip("fairlearn")


@pytest.mark.slow
def test_fairlearn_rows_in_the_report_of_an_adult_sweep(tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = [
        "sweep", "--datasets", "adult", "--data-option", "domain=age",
        "--algorithms", "erm", "lr", "fairlearn-expgrad", "fairlearn-threshold",
        "--hparam", "fair_tolerance=0.05", "--hparam", "expgrad_max_iter=3",
        "--test-domains", "age45+", "--steps", "20", "--threads", "1", "--output", str(out),
        "--quiet",
    ]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--metrics", "accuracy", "dp_diff"]) == 0
    report = capsys.readouterr().out
    table = report.split("| algorithm |")[1]
    header = table.splitlines()[0]
    assert "age45+" in header  # the held-out domain
    rows = {line.split("|")[1].strip() for line in table.splitlines()[2:] if line.startswith("|")}
    # erm receives the tolerance (a variant row); the others do not declare it
    assert rows == {"erm+fair_tolerance=0.05", "lr", "fairlearn-expgrad", "fairlearn-threshold"}
    assert "positive rate" in report
