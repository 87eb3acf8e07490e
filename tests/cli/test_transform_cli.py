"""`fairdg transform train | show` end to end on the bundled digits (8 x 8 images)."""

from __future__ import annotations

import pytest

from fairdg.cli import main

SMALL = ["--steps", "2", "--set", "width=4", "--set", "batch_size=8", "--quiet"]


def test_train_show_and_refusals(tmp_path, capsys):
    artifact = tmp_path / "t.pt"
    assert (
        main(["transform", "train", "--dataset", "digits", "--output", str(artifact), *SMALL]) == 0
    )
    assert artifact.exists()
    written = artifact.read_bytes()

    # an existing artifact is not replaced without --force
    assert (
        main(["transform", "train", "--dataset", "digits", "--output", str(artifact), *SMALL]) == 2
    )
    assert "already exists; pass --force" in capsys.readouterr().err
    assert artifact.read_bytes() == written

    grid = tmp_path / "grid.png"
    assert (
        main(["transform", "show", str(artifact), "--dataset", "digits", "--output", str(grid)])
        == 0
    )
    assert grid.stat().st_size > 0 and grid.with_suffix(".pdf").stat().st_size > 0

    # data of another shape than T was trained on: a clear error, not a torch shape error
    args = ["transform", "show", str(artifact), "--dataset", "digits"]
    assert main([*args, "--data-option", "variant=coloured", "--output", str(grid)]) == 2
    err = capsys.readouterr().err
    assert "was trained on dataset 'digits' with inputs of shape (1, 8, 8)" in err


def test_run_with_a_transformation_compares_with_erm_without_it(tmp_path, capsys):
    artifact = tmp_path / "t.pt"
    assert (
        main(["transform", "train", "--dataset", "digits", "--output", str(artifact), *SMALL]) == 0
    )
    run = ["run", "--dataset", "digits", "--algorithm", "fddg", "--transformation", str(artifact)]
    assert main([*run, "--steps", "2", "--quiet", "--output", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "note: erm runs without --transformation" in out
    assert "fddg on digits" in out and "erm on digits" in out


def test_paper_objective_flag(tmp_path, capsys):
    artifact = tmp_path / "paper.pt"
    args = ["transform", "train", "--dataset", "digits", "--no-sensitive", "--objective", "paper"]
    assert main([*args, "--output", str(artifact), *SMALL]) == 0
    assert main(["transform", "show", str(artifact), "--dataset", "digits"]) == 0
    assert "sensitive factor: no, objective: paper" in capsys.readouterr().out
    # --set applies after the named objective
    from fairdg.cli.transform import config_from_flags
    from fairdg.data import load_dataset

    digits = load_dataset("digits")
    config = config_from_flags(digits, ["weights.prior=0.5"], True, "paper")
    assert not config.conditional_gan and config.weights["sensitive_cycle"] == 0.0
    assert config.weights["prior"] == 0.5 and config.objective == "mixed"
    assert config_from_flags(digits, [], False).objective == "ours"
    with pytest.raises(SystemExit) as exit_:  # argparse: one usage line, exit status 2
        main([*args[:-1], "nope", "--output", str(tmp_path / "x.pt"), *SMALL])
    assert exit_.value.code == 2
