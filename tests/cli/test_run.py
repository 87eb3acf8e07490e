"""``fairdg run`` (Affinity next to ERM by default) and ``fairdg interpret`` on Adult."""

from __future__ import annotations

import json

import pytest

from fairdg.cli import main


def _records(folder):
    lines = (folder / "results.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


@pytest.mark.slow
def test_default_run_is_affinity_next_to_erm_then_interpret(capsys, tmp_path):
    runs = tmp_path / "runs"
    args = ["run", "--steps", "20", "--eval-every", "20", "--quiet", "--output", str(runs)]
    assert main(args + ["--hparam", "affinity_lambda=0.1", "--hparam", "lr=0.002"]) == 0
    out = capsys.readouterr().out
    assert "note: erm runs without --hparam affinity_lambda" in out
    rows = [line.split()[:2] for line in out.split("\n\n")[-1].splitlines()[2:]]
    assert ["affinity", "test"] in rows and ["erm", "test"] in rows and "dp_diff" in out
    records = _records(runs)
    assert [r["algorithm"] for r in records] == ["affinity", "erm"]
    assert records[0]["hparams"]["affinity_lambda"] == 0.1
    assert records[0]["hparams"]["lr"] == records[1]["hparams"]["lr"] == 0.002

    affinity_dir, erm_dir = (runs / r["run_id"] for r in records)
    pictures = tmp_path / "pictures"
    argv = [
        "interpret",
        str(affinity_dir),
        "--baseline",
        str(erm_dir),
        "--tsne",
        "--hist",
        "--samples",
        "60",
        "--output",
        str(pictures),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "sensitive_accuracy/female" in out and "w_z (male vs female)" in out
    for name in ("tsne.png", "r_hist.png"):
        assert (pictures / name).read_bytes()[:4] == b"\x89PNG"


def test_compare_none_and_unknown_compare(capsys, tmp_path):
    args = [
        "run",
        "--steps",
        "5",
        "--eval-every",
        "5",
        "--quiet",
        "--output",
        str(tmp_path),
        "--algorithm",
        "erm",
    ]
    assert main(args + ["--compare", "nope"]) == 2
    assert "unknown algorithm 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "results.jsonl").exists()  # nothing trained before the error
    assert main(args + ["--compare", "none"]) == 0
    assert [r["algorithm"] for r in _records(tmp_path)] == ["erm"]


def test_interpret_missing_run_folder(capsys, tmp_path):
    assert main(["interpret", str(tmp_path / "nope")]) == 2
    assert "nope not found: give a finished run folder" in capsys.readouterr().err
