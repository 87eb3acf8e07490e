"""Helpers of the reliability tests: a table, a finished ``csv`` run of it (trained once per
session by the ``table_run`` fixture), damage done to run files, the CLI run in-process.

The table has an identifier (dropped), two numbers (age, income), a category (job), the
sensitive column sex and an integer target y (0 / 1); the run saves model.pt and
preprocessing.json like any ``fairdg run --dataset csv``.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, Phase, settings

from fairdg.checkpoint import save_checkpoint
from fairdg.cli import main
from fairdg.training import RunResult
from fairdg.training import loop as loop_module


def make_table(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """Rows whose target depends on income and job; sex shifts income."""
    r = np.random.default_rng(seed)
    sex = r.choice(["female", "male"], n)
    job = r.choice(["clerk", "manager", "technician"], n)
    income = np.round(r.normal(50, 15, n) + 8 * (sex == "male"), 2)
    age = r.integers(18, 70, n)
    logit = 0.1 * (income - 52) + 1.2 * (job == "manager")
    y = (r.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {"id": np.arange(n), "age": age, "income": income, "job": job, "sex": sex, "y": y}
    )


TABLE_OPTIONS = {"target": "y", "sensitive": "sex", "drop": "id"}


@dataclass
class TableRun:
    """The trained run, the table it was trained on and the folder holding both."""

    result: RunResult
    table: pd.DataFrame
    folder: Path

    @property
    def run_dir(self) -> Path:
        return self.result.run_dir

    def copy(self, to: Path) -> Path:
        """A copy of the run folder (damaged by the test, never the original)."""
        return Path(shutil.copytree(self.run_dir, to / self.run_dir.name))

    def run_argv(self, output: Path) -> list[str]:
        """``fairdg run`` arguments of this very run (same run id) writing under `output`."""
        options = {"path": str(self.folder / "table.csv"), **TABLE_OPTIONS}
        argv = ["run", "--dataset", "csv", "--algorithm", "erm", "--compare", "none", "--quiet"]
        argv += ["--steps", "30", "--eval-every", "10", "--min-group-size", "5"]
        for key, value in options.items():
            argv += ["--data-option", f"{key}={value}"]
        return [*argv, "--output", str(output)]

    def predict_argv(self, run_dir: Path, folder: Path, *extra: str) -> list[str]:
        """``fairdg predict`` of `run_dir` on new rows written to ``folder/new.csv``."""
        if not (folder / "new.csv").exists():
            self.rows().to_csv(folder / "new.csv", index=False)
        files = ["--input", str(folder / "new.csv"), "--output", str(folder / "out.csv")]
        return ["predict", str(run_dir), *files, *extra]

    def rows(self, n: int = 8) -> pd.DataFrame:
        """New rows: the feature columns (and id) of the first `n` rows of the table."""
        return self.table[["id", "age", "income", "job"]].head(n).copy()


def cli(argv: list[str]) -> tuple[int, str, str]:
    """``fairdg ARGV`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def fails_with_one_line(argv: list[str], *needles: str) -> str:
    """Assert ``fairdg ARGV`` exits 2 with one line on stderr holding every needle; return it."""
    code, _, err = cli(argv)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (code, err)
    assert lines[0].startswith("fairdg: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def rewrite_model(run_dir: Path, change) -> None:
    """Apply `change(state)` to run_dir's model.pt and record the new file's sha256, as a run
    that wrote such a file would have (the damage is in the content, not caught by a checksum)."""
    state = torch.load(run_dir / "model.pt", weights_only=True)
    change(state)
    save_checkpoint(run_dir / "model.pt", state, sidecar=True)


def edit_json(path: Path, change) -> None:
    """Apply `change(data)` (in place) to a JSON file."""
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def flip_tensor_bytes(path: Path, count: int = 40) -> None:
    """Invert `count` bytes inside the largest stored tensor of a torch zip file."""
    with zipfile.ZipFile(path) as archive:
        member = max(
            archive.infolist(), key=lambda i: i.file_size if "/data/" in i.filename else 0
        )
    data = bytearray(path.read_bytes())
    local = member.header_offset
    name_len, extra_len = struct.unpack("<HH", data[local + 26 : local + 30])
    start = local + 30 + name_len + extra_len + member.file_size // 3
    data[start : start + count] = bytes(b ^ 0xFF for b in data[start : start + count])
    path.write_bytes(bytes(data))


def fuzz_settings(examples: int):
    """Hypothesis settings of the fuzz tests: derandomized (CI is reproducible), no shrinking
    (bounded CI time)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def interrupt_at_evaluation(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    """The training loop raises KeyboardInterrupt at its `n`-th evaluation (a Ctrl-C or a
    kill there), after checkpointing the ones before."""
    real, calls = loop_module.evaluate_split, []

    def evaluate(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(loop_module, "evaluate_split", evaluate)
