"""Sweeps: skip completed runs, survive crashing runs, resume after being killed, run on Ray."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fairdg.experiments.protocol import SweepSpec, expand
from fairdg.experiments.sweep import plan, run_state, run_sweep
from fairdg.records import load_jsonl, read_json
from fairdg.runlock import is_locked
from fairdg.training.config import SWEEP_BASE

TESTS = Path(__file__).resolve().parents[1]


def tiny_configs(dataset, output, n_trials=2, steps=6, **changes):
    spec = SweepSpec(
        datasets=(dataset.name,),
        n_trials=n_trials,
        test_domains=("d0",),
        base=SWEEP_BASE.replace(steps=steps, output_dir=str(output), **changes),
    )
    return expand(spec, lambda name, options: dataset.domain_names)


def assert_complete_once(config):
    """done.json, one evaluation per step, no checkpoint left, no failure."""
    folder = Path(config.output_dir) / config.run_id()
    assert run_state(config) == "done"
    steps = [r["step"] for r in load_jsonl(folder / "results.jsonl")[0]]
    assert steps == sorted(set(steps)) and steps[-1] == config.steps
    assert not (folder / "checkpoint.pt").exists()
    assert not (folder / "failed.json").exists()


def test_local_sweep_skips_completed_runs(tiny_tabular, tmp_path):
    configs = tiny_configs(tiny_tabular, tmp_path)
    first = run_sweep(configs, "local", datasets={"tiny": tiny_tabular}, progress=False)
    assert (first.total, first.completed, first.skipped_done) == (2, 2, 0) and first.ok
    for config in configs:
        assert_complete_once(config)
    stamps = {
        c.run_id(): (tmp_path / c.run_id() / "done.json").stat().st_mtime_ns for c in configs
    }
    again = run_sweep(configs + configs, "local", datasets={"tiny": tiny_tabular}, progress=False)
    assert (again.total, again.completed, again.skipped_done) == (2, 0, 2)
    assert stamps == {
        c.run_id(): (tmp_path / c.run_id() / "done.json").stat().st_mtime_ns for c in configs
    }


def test_crashing_run_is_recorded_and_retried(tiny_tabular, tmp_path):
    datasets = {"tiny": tiny_tabular}
    # "tiny" is not a registered dataset: without the in-memory copy the run crashes on load
    lonely = tiny_configs(tiny_tabular, tmp_path, n_trials=1)[0]
    result = run_sweep([lonely], "local", progress=False)
    assert [f["run_id"] for f in result.failed] == [lonely.run_id()] and not result.ok
    assert run_state(lonely) == "failed"
    skipped = run_sweep([lonely], "local", datasets=datasets, progress=False)
    assert (skipped.skipped_failed, skipped.completed) == (1, 0)  # failed runs wait for a retry
    retried = run_sweep([lonely], "local", datasets=datasets, retry_failed=True, progress=False)
    assert retried.completed == 1 and retried.ok
    assert_complete_once(lonely)  # failed.json is gone once the run succeeds

    # one crash among runs that finish (worker processes run the same `execute`; the killed
    # sweep test below covers that launcher)
    broken = lonely.replace(seed=9, hparams={"no_such_knob": 1})
    others = tiny_configs(tiny_tabular, tmp_path, n_trials=3)[1:]
    result = run_sweep([others[0], broken, others[1]], "local", datasets=datasets, progress=False)
    assert result.completed == 2 and [f["run_id"] for f in result.failed] == [broken.run_id()]
    failure = read_json(tmp_path / broken.run_id() / "failed.json")
    assert "no_such_knob" in failure["error"] and "Traceback" in failure["traceback"]
    assert failure["config"]["hparams"] == {"no_such_knob": 1}
    for config in others:
        assert_complete_once(config)
    assert plan([broken, *others])["failed"] == [broken]


SCRIPT = """
import sys
import torch
sys.path.insert(0, {tests!r})
from conftest import make_tiny
from fairdg.experiments.protocol import SweepSpec, expand
from fairdg.experiments.sweep import run_sweep
from fairdg.training.config import SWEEP_BASE

if __name__ == "__main__":
    torch.set_num_threads(1)
    dataset = make_tiny()
    spec = SweepSpec(datasets=("tiny",), n_trials=6, test_domains=("d0",),
                     base=SWEEP_BASE.replace(steps={steps}, eval_every=20, output_dir={output!r}))
    configs = expand(spec, lambda name, options: dataset.domain_names)
    result = run_sweep(configs, sys.argv[1], workers=1, datasets={{"tiny": dataset}},
                       progress=False)
    print(result.summary())
"""


@pytest.mark.slow
@pytest.mark.kill_resume
def test_killed_sweep_resumes_every_run_exactly_once(tmp_path):
    output = tmp_path / "runs"
    script = tmp_path / "sweep.py"
    script.write_text(
        textwrap.dedent(SCRIPT.format(tests=str(TESTS), output=str(output), steps=200))
    )
    # killed while a worker process runs (processes launcher); resumed in one process
    process = subprocess.Popen(
        [sys.executable, str(script), "processes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    summary = output / "results.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if any(output.glob("*/done.json")):  # a run is complete (its summary line may
            break  # come before its done.json: waiting for that line would race)
        time.sleep(0.05)
    assert process.poll() is None, "the sweep finished before it could be interrupted"
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    assert process.returncode != 0, out
    # Deterministic count: the sweep waits for its terminated workers before it exits, so no
    # worker is still finishing a run (and so holding its lock) while done.json is counted.
    assert not [p for p in output.iterdir() if p.is_dir() and is_locked(p)]
    done_before = len(list(output.glob("*/done.json")))
    assert 1 <= done_before < 6
    rerun = subprocess.run(
        [sys.executable, str(script), "local"], capture_output=True, text=True, timeout=120
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"{6 - done_before} completed now, {done_before} already done" in rerun.stdout
    configs = [
        SweepSpec(
            datasets=("tiny",),
            n_trials=6,
            test_domains=("d0",),
            base=SWEEP_BASE.replace(steps=200, eval_every=20, output_dir=str(output)),
        )
    ]
    configs = expand(configs[0], lambda name, options: ["d0", "d1", "d2"])
    for config in configs:
        assert_complete_once(config)
    ids = [json.loads(line)["run_id"] for line in summary.read_text().splitlines()]
    assert sorted(ids) == sorted(c.run_id() for c in configs)  # each exactly once


@pytest.mark.slow
def test_ray_launcher_runs_two_runs(tiny_tabular, tmp_path):
    ray = pytest.importorskip("ray")
    configs = tiny_configs(tiny_tabular, tmp_path)
    try:
        result = run_sweep(
            configs,
            "ray",
            datasets={"tiny": tiny_tabular},
            progress=False,
            ray_init={"num_cpus": 2},
        )
    finally:
        assert not ray.is_initialized()  # the launcher shuts down the Ray it started
    assert result.completed == 2 and result.ok
    for config in configs:
        assert_complete_once(config)


def test_unknown_launcher(tmp_path, tiny_tabular):
    with pytest.raises(ValueError, match="launcher must be one of"):
        run_sweep(tiny_configs(tiny_tabular, tmp_path), "slurm")


def test_ray_missing_gives_install_hint(monkeypatch):
    from fairdg.experiments import launchers

    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(RuntimeError, match=r"pip install 'fairdg\[ray\]'"):
        launchers.import_ray()
