"""Progress reaches logs: a piped run prints a line per evaluation while it trains; a sweep a
line per finished run; ``-q`` silences both."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fairdg.experiments.protocol import SweepSpec, expand
from fairdg.experiments.sweep import run_sweep
from fairdg.training.config import SWEEP_BASE


def _run(tmp_path, *extra: str, steps: int = 300) -> subprocess.Popen:
    argv = ["run", "--algorithm", "erm", "--compare", "none", "--steps", str(steps)]
    argv += ["--eval-every", "10", "--output", str(tmp_path), *extra]
    return subprocess.Popen(
        [sys.executable, "-m", "fairdg", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_a_piped_run_prints_its_first_evaluation_while_training(tmp_path):
    with _run(tmp_path) as proc:
        lines = []
        while not any("step 10/300" in line for line in lines):
            line = proc.stderr.readline()
            assert line, "the run ended without a progress line: " + "".join(lines)
            lines.append(line)
        # the first evaluation's line arrives while 290 steps are still to train: it is
        # written and flushed as it happens, not when the run ends
        assert proc.poll() is None
        assert lines[0].startswith("fairdg: ") and "300 steps" in lines[0]
        assert "train loss" in lines[-1] and "val accuracy" in lines[-1]
        assert "val DP difference" in lines[-1] and lines[-1].rstrip().endswith(" s")
        proc.communicate(timeout=600)
    assert proc.returncode == 0


@pytest.mark.slow
def test_quiet_silences_the_lines(tmp_path):
    with _run(tmp_path, "-q", steps=20) as proc:
        out, err = proc.communicate(timeout=600)
    assert "step 10/20" not in err and "erm on adult" in out


def test_a_sweep_prints_a_line_per_finished_run(tiny_tabular, tmp_path, capsys):
    base = SWEEP_BASE.replace(steps=2, output_dir=str(tmp_path))
    spec = SweepSpec(datasets=("tiny",), n_trials=2, test_domains=("d0",), base=base)
    configs = expand(spec, lambda name, options: tiny_tabular.domain_names)
    run_sweep(configs, "local", datasets={"tiny": tiny_tabular})
    lines = [line for line in capsys.readouterr().err.splitlines() if "run " in line]
    assert len(lines) == 2 and "run 1/2 done" in lines[0] and "ETA" in lines[0]
    assert "run 2/2 done" in lines[1] and "ETA" not in lines[1]
    run_sweep(configs, "local", datasets={"tiny": tiny_tabular}, progress=False)
    assert "run " not in capsys.readouterr().err
