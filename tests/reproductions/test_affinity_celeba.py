"""`fairdg reproduce affinity-celeba` end to end on a tiny generated CelebA fixture."""

from __future__ import annotations

import json

import pytest

from fairdg.cli import main
from fairdg.data import load_dataset
from fairdg.data.celeba_fixture import ATTRIBUTES, P_ATTRACTIVE, write_celeba_fixture


def test_fixture_has_celeba_formats_and_the_skew(tmp_path):
    root = write_celeba_fixture(tmp_path / "celeba", n=200, size=(12, 14))
    data = load_dataset("celeba", root=str(root), image_size=8)
    assert data.input_shape == (3, 8, 8) and len(data) == 200
    header = (root / "list_attr_celeba.txt").read_text().splitlines()[1].split()
    assert header == ATTRIBUTES and len(ATTRIBUTES) == 40
    counts = data.domains[0].counts(2, 2).double()  # rows y, columns z (Male)
    rates = counts[1] / counts.sum(0)
    assert abs(float(rates[0]) - P_ATTRACTIVE[0]) < 0.15
    assert abs(float(rates[1]) - P_ATTRACTIVE[1]) < 0.15


@pytest.mark.slow
def test_reproduction_runs_on_the_fixture_and_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FAIRDG_DATA", str(tmp_path / "none"))
    argv = ["reproduce", "affinity-celeba", "--quick", "--output", str(tmp_path), "--quiet"]
    for option in ("backbone=resnet18", "n=120", "image_size=16", "steps=20", "figures=true"):
        argv += ["--option", option]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "GENERATED CelebA fixture" in out and "RANDOM weights" in out
    assert "## Table 4" in out and "lambda = 0.07" in out and "(0.62)" in out
    assert "## Table 5" in out and "z reattached" in out
    folder = tmp_path / "affinity-celeba-quick"
    assert (folder / "r_hist.png").stat().st_size > 0
    saved = json.loads((folder / "results.json").read_text())
    assert {r["kind"] for r in saved["runs"]} == {"erm", "affinity"}
    assert len(saved["analyses"]["reattached"]) == 1
