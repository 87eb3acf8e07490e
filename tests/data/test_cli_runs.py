"""Datasets through the command line: `fairdg run --dataset X` and `fairdg datasets --show X`."""

import json

import pytest

from fairdg.cli import main


def _run(tmp_path, capsys, *args):
    code = main(
        [
            "run",
            "--algorithm",
            "erm",
            "--steps",
            "5",
            "--quiet",
            "--output",
            str(tmp_path / "runs"),
            *args,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    return out


@pytest.mark.slow
def test_run_synthetic(tmp_path, capsys):
    out = _run(
        tmp_path,
        capsys,
        "--dataset",
        "synthetic",
        "--data-option",
        "n_per_domain=200",
        "--test-domains",
        "env3",
    )
    assert "erm on synthetic: 5 steps" in out and "oracle" in out


@pytest.mark.slow
def test_run_ccmnist_fake(tmp_path, capsys, fake_mnist):
    out = _run(
        tmp_path,
        capsys,
        "--dataset",
        "ccmnist",
        "--data-option",
        f"root={fake_mnist}",
        "--data-option",
        "subsample=60",
        "--hparam",
        "batch_size=8",
        "--test-domains",
        "blue",
    )
    assert "erm on ccmnist: 5 steps" in out


@pytest.mark.slow
def test_run_mnist_rotated_reports_rotated_test_accuracy(tmp_path, capsys, fake_mnist):
    _run(
        tmp_path,
        capsys,
        "--dataset",
        "mnist-rotated",
        "--data-option",
        f"root={fake_mnist}",
        "--data-option",
        "n_source=100",
        "--data-option",
        "target_labeled_per_class=2",
    )
    record = json.loads((tmp_path / "runs" / "results.jsonl").read_text().splitlines()[-1])
    test = record["metrics"]["test"]
    assert test["n"] == 200 and 0 <= test["accuracy"] <= 1  # the 200 rotated test images


def test_datasets_show(capsys):
    assert main(["datasets", "--show", "synthetic", "--data-option", "n_per_domain=100"]) == 0
    out = capsys.readouterr().out
    assert "synthetic: 400 samples" in out and "dependence" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("env")]
    assert [r[:2] for r in rows] == [[f"env{i}", "100"] for i in range(4)]
    assert all(sum(map(int, r[2:6])) == 100 for r in rows)


def test_datasets_listing(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRDG_DATA", str(tmp_path))
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("ccmnist", "mnist-rotated", "nysf", "fairface", "celeba", "yfcc", "csv"):
        assert f"\n{name}: " in "\n" + out
    assert str(tmp_path / "mnist") in out and "(not found)" in out
    assert main(["datasets", "digits"]) == 0
    assert "bundled with scikit-learn" in capsys.readouterr().out
