"""Start-up: commands that need no model never import torch; a closed stdout ends quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fairdg.cli import COMMANDS, build_parser, command_module

PROBE = """
import sys
from fairdg.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as stop:  # --help
    code = stop.code
heavy = sorted(m for m in ("torch", "matplotlib", "sklearn") if m in sys.modules)
print("HEAVY=" + ",".join(heavy))
sys.exit(code)
"""


def _env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}


def _fake_runs(root: Path, n: int = 2) -> Path:
    for i in range(n):
        run = root / f"run{i}"
        run.mkdir(parents=True)
        config = {"run_id": f"run{i}", "dataset": "toy", "data_options": {}, "algorithm": "erm"}
        config |= {"hparams": {}, "hparams_seed": 0, "test_domains": ["A"], "seed": i}
        (run / "config.json").write_text(json.dumps(config))
        metrics = {"val": {"accuracy": 0.5}, "test": {"accuracy": 0.6}, "A/test": {"n": 3}}
        (run / "results.jsonl").write_text(json.dumps({"step": 1, "metrics": metrics}) + "\n")
        (run / "done.json").write_text(json.dumps({"run_id": f"run{i}"}))
    return root


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["algorithms", "--help"],
        ["report", "RUNS"],
        ["datasets"],
        ["transform", "train", "--help"],
    ],
)
def test_commands_without_a_model_do_not_import_torch(tmp_path, argv):
    argv = [str(_fake_runs(tmp_path / "runs")) if a == "RUNS" else a for a in argv]
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=_env()
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "HEAVY=", out.stdout[-500:]


def test_closed_stdout_ends_quietly():
    read, write = os.pipe()
    os.close(read)  # nobody reads: the first write fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "fairdg", "--help"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
    finally:
        os.close(write)
    assert done.returncode == 0 and done.stderr == ""


def test_command_table_matches_the_modules():
    """`fairdg --help` prints the one-line help of COMMANDS; each module registers the same."""
    parser = build_parser("*")
    sub = next(a for a in parser._actions if a.dest == "command")
    helps = {action.dest: action.help for action in sub._choices_actions}
    assert helps == {name: help_text for name, (_module, help_text) in COMMANDS.items()}
    for name in COMMANDS:
        assert name in sub.choices and command_module(name) is not None


def test_a_command_parses_with_only_its_module():
    args = build_parser("algorithms").parse_args(["algorithms", "erm"])
    assert args.names == ["erm"] and callable(args.func)
