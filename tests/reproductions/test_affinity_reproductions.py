"""End-to-end reproductions of the affinity paper in their smallest form (marked slow)."""

from __future__ import annotations

import json
import re

import pytest

from fairdg.reproductions import ReproOptions
from fairdg.reproductions.protocol import run_reproduction


def _row(report: str, label: str) -> list[str]:
    line = next(line for line in report.splitlines() if line.startswith(f"| {label}"))
    return [cell.strip() for cell in line.strip("|").split("|")][1:]


def _ours(cell: str) -> float:
    return float(re.match(r"[0-9.]+", cell).group())


@pytest.mark.slow
def test_adult_quick_reproduction(tmp_path):
    """Tables 2 and 3 render next to the paper's numbers; the affinity representation leaks
    less sex information than ERM's (lower probe AUC). The parity gap of the classifier is NOT
    asserted to fall: on Adult it does not (see docs/affinity.md)."""
    options = ReproOptions(
        output=str(tmp_path),
        quick=True,
        quiet=True,
        extra={"steps": 100, "lambdas": [1.0], "lambda": 1.0},
    )
    report = run_reproduction("affinity-adult", options)
    assert "## Table 2" in report and "## Table 3" in report and "(0.065)" in report
    auc = [_ours(c) for c in _row(report, "probe AUC (sex)")]  # with z, without z, affinity, ...
    assert auc[2] < auc[1]
    assert _ours(_row(report, "probe accuracy female")[3]) == 1.0  # z reattached: read off z
    # quick mode writes beside, never over, a full reproduction's folder
    results = json.loads((tmp_path / "affinity-adult-quick" / "results.json").read_text())
    assert {r["kind"] for r in results["runs"]} == {"erm", "erm+z", "affinity"}
    assert (tmp_path / "affinity-adult-quick" / "lambda_sweep.png").exists()
    assert not (tmp_path / "affinity-adult").exists()


@pytest.mark.slow
def test_mnist_quick_reproduction(tmp_path, reference_data):
    options = ReproOptions(
        output=str(tmp_path),
        quick=True,
        quiet=True,
        # equation (3)'s 1 / |Y| makes lambda 0.01 too weak to act within 60 steps
        extra={
            "steps": 60,
            "root": str(reference_data / "mnist"),
            "lambdas": [0, 0.1],
            "lambda": 0.1,
        },
    )
    report = run_reproduction("affinity-mnist", options)
    sensitive = [_ours(c) for c in _row(report, "accuracy sensitive (probe)")]
    assert "Table 1a" in report and "Table 1b" in report and "form `eq3`" in report
    assert sensitive[1] < sensitive[0]  # lambda 0.1 hides the inversion better than lambda 0
