"""A reproduction killed (SIGKILL) while its runs train in two worker processes finishes when
started again, with the table of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

# training-domain validation: no leave-one-domain-out pair runs (4 runs in all)
OPTIONS = ["methods=erm,irm", "steps=150", "n_per_domain=300", "targets=env0,env1"]
OPTIONS += ["selection=training"]


def _command(output, workers: int) -> list[str]:
    argv = [sys.executable, "-m", "fairdg", "reproduce", "fddg-nysf-synthetic", "--quick"]
    argv += ["--output", str(output), "--workers", str(workers)]
    return argv + [arg for option in OPTIONS for arg in ("--option", option)]


def _table(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("|", "- "))]


@pytest.mark.slow
def test_killed_reproduction_resumes_with_the_same_table(tmp_path):
    pipes = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "text": True}
    with subprocess.Popen(_command(tmp_path / "killed", 2), **pipes) as proc:
        for line in proc.stderr:  # the first finished run: others are in flight
            if "run 1/4 done" in line:
                break
        assert proc.poll() is None, "the reproduction ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    resumed = subprocess.run(_command(tmp_path / "killed", 2), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    # the finished run is reused; how many of the others the kill caught in flight depends on
    # the machine's speed (all of them may have finished), so only "not all 4 again" is certain
    assert "run 1/4 done" not in resumed.stderr
    whole = subprocess.run(_command(tmp_path / "whole", 1), capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr[-2000:]
    assert _table(resumed.stdout) == _table(whole.stdout) and len(_table(whole.stdout)) > 4
