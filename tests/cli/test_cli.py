"""The command line: listings, errors with exit code 2, and an end-to-end run on Adult."""

import json

import pytest

from fairdg.cli import main


def test_unknown_dataset_is_one_line_and_exit_2(capsys):
    assert main(["run", "--dataset", "nope", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown dataset 'nope'" in err[0] and "adult" in err[0]


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--algorithm", "nope", "unknown algorithm 'nope'"),
        ("--hparam", "nope=1", "unknown hyperparameter"),
        ("--data-option", "nope=1", "unknown option"),
        ("--hparam", "lr", "expects KEY=VALUE"),
    ],
)
def test_bad_flags_exit_2(capsys, tmp_path, flag, value, message):
    assert main(["run", flag, value, "--quiet", "--output", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_listings(capsys):
    assert main(["datasets"]) == 0
    assert "adult" in capsys.readouterr().out
    assert main(["algorithms", "erm"]) == 0
    out = capsys.readouterr().out
    assert "erm" in out and "lr" in out and "10^U(-4.5, -2.5)" in out
    assert main(["datasets", "--show", "adult", "--data-option", "domain=age"]) == 0
    assert "age45+" in capsys.readouterr().out


@pytest.mark.slow
def test_run_on_adult_end_to_end(capsys, tmp_path):
    args = ["run", "--algorithm", "erm", "--steps", "60", "--quiet", "--output", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "test" in out
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(records) == 1 and records[0]["dataset"] == "adult"
    assert records[0]["metrics"]["test"]["accuracy"] > 0.75


def test_absent_accelerator_is_a_clear_error(capsys, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert main(["run", "--device", "cuda", "--quiet", "--output", str(tmp_path)]) == 2
    assert "CUDA is not available" in capsys.readouterr().err
    assert main(["run", "--device", "tpu9", "--quiet", "--output", str(tmp_path)]) == 2
    assert "device must look like" in capsys.readouterr().err
