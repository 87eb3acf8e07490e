"""Sweeps: run many configurations with a launcher, skipping what is already done.

A run's folder ``<output>/<run_id>`` tells its state: ``done.json`` (complete: skipped),
``failed.json`` (crashed: skipped unless ``retry_failed``), a checkpoint or evaluations without
``done.json`` (interrupted: resumed from its checkpoint), nothing (new). Starting the same sweep
again therefore finishes exactly the runs that are missing; an interrupted sweep loses at most
the progress of the runs in flight since their last checkpoint.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from fairdg.experiments import launchers
from fairdg.experiments.tasks import Task
from fairdg.runlock import is_locked
from fairdg.training.config import RunConfig

STATES = ("done", "failed", "locked", "partial", "new")


def run_state(config: RunConfig | Task) -> str:
    """``"done"``, ``"failed"``, ``"locked"`` (another process trains it: skipped),
    ``"partial"`` (interrupted; resumes) or ``"new"``."""
    folder = Path(config.output_dir) / config.run_id()
    if (folder / "done.json").exists():
        return "done"
    if is_locked(folder):
        return "locked"
    if (folder / "failed.json").exists():
        return "failed"
    if (folder / "checkpoint.pt").exists() or (folder / "results.jsonl").exists():
        return "partial"
    return "new"


@dataclass
class SweepResult:
    """What a sweep did: how many runs it skipped, completed, and which failed or were lost."""

    total: int = 0
    skipped_done: int = 0
    skipped_failed: int = 0
    skipped_locked: int = 0
    completed: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    lost: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.lost and not self.skipped_failed

    def summary(self) -> str:
        parts = [
            f"{self.total} runs: {self.completed} completed now",
            f"{self.skipped_done} already done",
        ]
        if self.skipped_locked:
            parts.append(f"{self.skipped_locked} being trained by another process (skipped)")
        if self.skipped_failed:
            parts.append(f"{self.skipped_failed} failed before (skipped; --retry-failed reruns)")
        if self.failed:
            parts.append(f"{len(self.failed)} failed (see failed.json in their folders)")
        if self.lost:
            parts.append(f"{len(self.lost)} lost to dead workers (start the sweep again)")
        return ", ".join(parts)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while the sweep runs, so launchers stop their workers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_line(outcome: dict[str, Any], n: int, total: int, result: SweepResult, started) -> str:
    """``run 3/20 done (a1b2c3d4e5f6 failed, 12.3 s); 1 failed; ETA 4 min``: one line per
    finished run, for logs (the ETA assumes the runs left take as long as those done)."""
    elapsed = time.perf_counter() - started
    status = outcome["status"]
    text = f"run {n}/{total} done ({outcome['run_id']} {status}, {outcome['seconds']:.1f} s)"
    bad = len(result.failed) + len(result.lost)
    text += f"; {bad} failed" if bad else ""
    if n < total:
        text += f"; ETA {_duration(elapsed / n * (total - n))}"
    return text


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def plan(configs: Sequence[RunConfig | Task]) -> dict[str, list[RunConfig | Task]]:
    """Group the (deduplicated) runs of a sweep by state."""
    unique = {c.run_id(): c for c in configs}
    groups: dict[str, list[RunConfig | Task]] = {state: [] for state in STATES}
    for config in unique.values():
        groups[run_state(config)].append(config)
    return groups


def run_sweep(
    configs: Sequence[RunConfig | Task],
    launcher: str = "local",
    *,
    workers: int = 2,
    threads: int | None = None,
    retry_failed: bool = False,
    datasets: Mapping[str, Any] | None = None,
    ray_address: str | None = None,
    ray_cpus_per_task: float = 1.0,
    ray_gpus_per_task: float | None = None,
    ray_init: Mapping[str, Any] | None = None,
    progress: bool | None = True,
) -> SweepResult:
    """Run every configuration that is not done yet.

    Parameters
    ----------
    configs
        The runs (duplicates by run id are run once), or tasks (`fairdg.experiments.tasks`).
    launcher
        ``"local"`` (sequential, this process), ``"processes"`` (`workers` spawned processes,
        one torch thread each) or ``"ray"`` (Ray tasks; see `launchers.launch_ray`).
    threads
        Torch threads per run: default all cores for ``"local"``, 1 per worker for
        ``"processes"``. Small models often run faster with 1 thread, especially on a busy
        machine.
    retry_failed
        Rerun runs that have a ``failed.json``.
    datasets
        In-memory datasets by name, used instead of loading ``config.dataset``.
    progress
        Show progress (default True): a bar over runs on a terminal, else one line per
        finished run on stderr (done / total, failures, ETA); False: nothing.

    Returns
    -------
    SweepResult
    """
    if launcher not in launchers.LAUNCHERS:
        raise ValueError(f"launcher must be one of {launchers.LAUNCHERS}, got {launcher!r}")
    groups = plan(configs)
    todo = groups["partial"] + groups["new"] + (groups["failed"] if retry_failed else [])
    result = SweepResult(
        total=sum(map(len, groups.values())),
        skipped_done=len(groups["done"]),
        skipped_failed=0 if retry_failed else len(groups["failed"]),
        skipped_locked=len(groups["locked"]),
    )
    if not todo:
        return result
    show = progress is not False
    tty = sys.stderr.isatty()
    bar = tqdm(
        total=len(todo), desc=f"sweep ({launcher})", unit="run", disable=not show or not tty
    )
    started, finished = time.perf_counter(), [0]

    def on_result(outcome: dict[str, Any]) -> None:
        finished[0] += 1
        if outcome["status"] == "done":
            result.completed += 1
        elif outcome["status"] == "locked":  # taken by another process after planning
            result.skipped_locked += 1
        else:
            (result.failed if outcome["status"] == "failed" else result.lost).append(outcome)
        bar.update(1)
        bar.set_postfix(failed=len(result.failed), refresh=False)
        if show and not tty:
            print(f"fairdg: {run_line(outcome, finished[0], len(todo), result, started)}",
                  file=sys.stderr, flush=True)  # fmt: skip

    tasks: list[launchers.Work] = [c.to_dict() if isinstance(c, RunConfig) else c for c in todo]
    try:
        with _sigterm_as_interrupt():
            if launcher == "local":
                launchers.launch_local(tasks, on_result, datasets=datasets, threads=threads)
            elif launcher == "processes":
                launchers.launch_processes(
                    tasks, on_result, workers=workers, datasets=datasets, threads=threads or 1
                )
            else:
                launchers.launch_ray(
                    tasks,
                    on_result,
                    address=ray_address,
                    cpus_per_task=ray_cpus_per_task,
                    gpus_per_task=ray_gpus_per_task,
                    datasets=datasets,
                    init_options=ray_init,
                )
    finally:
        bar.close()
    return result
