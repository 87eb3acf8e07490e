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
    # the summary holds the runs in the order they finished (side by side on two cores)
    records = {r["algorithm"]: r for r in _records(runs)}
    assert sorted(records) == ["affinity", "erm"]
    assert records["affinity"]["hparams"]["affinity_lambda"] == 0.1
    assert records["affinity"]["hparams"]["lr"] == records["erm"]["hparams"]["lr"] == 0.002
    assert out.index("affinity on adult") < out.index("erm on adult")  # printed in order

    affinity_dir, erm_dir = (runs / records[name]["run_id"] for name in ("affinity", "erm"))
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


def test_the_run_and_its_comparison_train_side_by_side_only_with_a_core_each(monkeypatch):
    from fairdg.cli.run import BASE, _threads_each

    pair = [BASE, BASE.replace(algorithm="erm")]
    assert _threads_each(pair, cores=2) == 1
    assert _threads_each(pair, cores=1) == 0  # one after the other
    assert _threads_each(pair[:1], cores=2) == 0
    assert _threads_each([c.replace(device="cuda") for c in pair], cores=8) == 0
    monkeypatch.setenv("WORLD_SIZE", "2")  # torchrun's processes train each run together
    assert _threads_each(pair, cores=8) == 0
