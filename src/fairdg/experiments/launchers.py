"""Launchers: execute a list of runs sequentially, in worker processes, or as Ray tasks.

Every launcher calls `execute` once per run and reports each outcome through ``on_result``
as soon as it is known (the sweep's progress bar and tallies). `execute` never raises for a
failing run: it writes ``failed.json`` (error and traceback) into the run folder and returns
a ``"failed"`` outcome, so one crash does not stop a sweep. Interrupting a launcher stops its
workers; the runs in flight resume from their last checkpoint next time.

A task is a run (``RunConfig.to_dict()``, plain data that crosses processes cheaply) or a
`fairdg.experiments.tasks.Task`. In-memory datasets are passed by name, or by `dataset_key`
where two share a name (a dataset and a view of it with other options).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import platform
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from fairdg import records
from fairdg.data import load_dataset, without_location
from fairdg.experiments.tasks import Task
from fairdg.records import canonical_json
from fairdg.runlock import RunLockedError
from fairdg.training import RunConfig, train

Outcome = dict[str, Any]
Work = dict[str, Any] | Task  # a run (its RunConfig as a dict) or another task
OnResult = Callable[[Outcome], None]
LAUNCHERS = ("local", "processes", "ray")

# One loaded dataset per process: consecutive runs of a sweep usually share it, and keeping only
# the last one bounds memory (an image dataset can take a few hundred MB).
_DATASET_CACHE: dict[str, Any] = {}


# In-memory datasets handed to forked workers: inherited with the process, never pickled.
_INHERITED: dict[str, Any] = {}


def dataset_key(name: str, data_options: Mapping[str, Any] | None = None) -> str:
    """The key of an in-memory dataset that shares its name with another: name and options."""
    return canonical_json([name, without_location(data_options or {})])


def _provided(datasets: Mapping[str, Any] | None, task: Any) -> Any:
    """The in-memory dataset of a run, if one is given (by `dataset_key`, else by name)."""
    if not datasets or isinstance(task, Task):
        return None
    found = datasets.get(dataset_key(task["dataset"], task.get("data_options")))
    return found if found is not None else datasets.get(task["dataset"])


def _dataset_for(config, provided):
    if provided is not None:
        return provided
    inherited = _provided(_INHERITED, config.to_dict())
    if inherited is not None:
        return inherited
    key = canonical_json([config.dataset, config.data_options])
    if key not in _DATASET_CACHE:
        _DATASET_CACHE.clear()
        _DATASET_CACHE[key] = load_dataset(config.dataset, **config.data_options)
    return _DATASET_CACHE[key]


def _resolve_device(device: str) -> str:
    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def _work(task: dict[str, Any] | Task, dataset: Any) -> tuple[Any, Any]:
    """The run (or task) of `task` and the function that does its work."""
    if isinstance(task, Task):
        return task, task.execute
    config = RunConfig.from_dict(task)
    config = config.replace(device=_resolve_device(config.device))
    return config, lambda: train(config, dataset=_dataset_for(config, dataset))


def execute(task: dict[str, Any] | Task, dataset: Any = None) -> Outcome:
    """Run one configuration (or task) to completion; record a crash in ``failed.json``
    instead of raising.

    Parameters
    ----------
    task
        ``RunConfig.to_dict()`` (plain data, so it crosses process boundaries cheaply), or a
        `Task`.
    dataset
        An in-memory dataset to use instead of loading ``config.dataset`` by name.

    Returns
    -------
    dict
        ``{"run_id", "status": "done" | "failed" | "locked", "seconds", "error"}``; "locked":
        another process is training the run (it is skipped).
    """
    config, work = _work(task, dataset)
    run_dir = Path(config.output_dir) / config.run_id()
    started = time.perf_counter()
    try:
        work()
    except RunLockedError as err:  # another process trains it: not ours to record or redo
        return {
            "run_id": config.run_id(),
            "status": "locked",
            "error": str(err),
            "seconds": time.perf_counter() - started,
        }
    except Exception as err:  # any failure of the run is recorded, never fatal to the sweep
        error = f"{type(err).__name__}: {err}"
        records.write_json(
            run_dir / "failed.json",
            {
                "run_id": config.run_id(),
                "config": config.to_dict() if isinstance(config, RunConfig) else None,
                "error": error,
                "traceback": traceback.format_exc(),
                "host": platform.node(),
                "pid": os.getpid(),
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        return {
            "run_id": config.run_id(),
            "status": "failed",
            "error": error,
            "seconds": time.perf_counter() - started,
        }
    (run_dir / "failed.json").unlink(missing_ok=True)  # a retried run that now succeeded
    return {
        "run_id": config.run_id(),
        "status": "done",
        "error": None,
        "seconds": time.perf_counter() - started,
    }


def _lost(task: dict[str, Any] | Task, why: str) -> Outcome:
    config = task if isinstance(task, Task) else RunConfig.from_dict(task)
    return {
        "run_id": config.run_id(),
        "status": "lost",
        "error": why,
        "seconds": 0.0,
    }


# -- local -------------------------------------------------------------------------------------
def launch_local(
    tasks: Sequence[Work],
    on_result: OnResult,
    datasets: Mapping[str, Any] | None = None,
    threads: int | None = None,
) -> None:
    """Run the tasks one after the other in this process (with `threads` torch threads)."""
    with torch_threads(threads):
        for task in tasks:
            on_result(execute(task, _provided(datasets, task)))


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set to `threads` inside the block (None or 0: unchanged)."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# -- processes ---------------------------------------------------------------------------------
def _watch_parent(parent: int) -> None:
    # A worker whose sweep process died (even by SIGKILL) exits instead of finishing its run
    # unobserved, so a restarted sweep never races an orphan on the same run folder.
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(parent: int, threads: int) -> None:
    torch.set_num_threads(threads)  # one core per worker: workers x threads = cores
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker inherits the sweep's handler
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _stop(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor has no public way to kill busy workers before Python 3.14
    # (terminate_workers); shutdown() alone would wait for the runs in flight.
    # The workers are waited for, so that when the sweep has returned (or its process has
    # exited) no worker is still finishing a run: what is on disk then stays as it is.
    processes = list(getattr(pool, "_processes", {}).values())
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
            process.join()
    pool.shutdown(wait=False, cancel_futures=True)


def longest_first(tasks: Sequence[Work]) -> list[Work]:
    """The tasks by decreasing number of steps (a dataset's default, ``None``, first), ties in
    their given order: a pool that starts the longest runs first does not end on one."""
    return sorted(tasks, key=lambda task: -(_steps(task) or float("inf")))


def _steps(task: dict | Task) -> int | None:
    if isinstance(task, Task):
        return task.params.get("steps")
    return task.get("steps")


def start_method(tasks: Sequence[Work]) -> str:
    """``"fork"`` where it is safe and available (Linux-like systems, CPU runs, CUDA not
    initialised in this process), else ``"spawn"``. Forked workers start in milliseconds with
    this process's imports and loaded datasets; spawned ones import torch and load the data
    again (seconds each)."""
    if "fork" not in multiprocessing.get_all_start_methods() or platform.system() != "Linux":
        return "spawn"
    if any(not isinstance(task, Task) and task.get("device", "cpu") != "cpu" for task in tasks):
        return "spawn"
    return "spawn" if torch.cuda.is_initialized() else "fork"


def _preload(tasks: Sequence[Work]) -> None:
    """Load the dataset of the sweep into this process's cache before forking (when the tasks
    share one), so that every worker inherits it instead of loading it again."""
    runs = [task for task in tasks if not isinstance(task, Task)]
    keys = {canonical_json([task["dataset"], task.get("data_options", {})]) for task in runs}
    if len(keys) == 1 and _provided(_INHERITED, runs[0]) is None:
        try:
            _dataset_for(RunConfig.from_dict(runs[0]), None)
        except Exception:  # noqa: BLE001 - each run reports its own loading error
            _DATASET_CACHE.clear()


def launch_processes(
    tasks: Sequence[Work],
    on_result: OnResult,
    workers: int = 2,
    datasets: Mapping[str, Any] | None = None,
    threads: int = 1,
    method: str | None = None,
) -> None:
    """Run the tasks in a pool of `workers` processes, longest runs first.

    The workers live for the whole sweep and keep the last dataset they used loaded. They are
    forked where that is safe (see `start_method`; ``method`` overrides it): they then inherit
    this process's imports, the sweep's dataset (loaded here first) and the in-memory
    `datasets`, and start in milliseconds; spawned workers import torch and load the data
    themselves. A worker that dies (killed, out of memory) breaks the pool: its run and the
    runs not yet started come back as ``"lost"`` and resume when the sweep is started again.
    """
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    tasks = longest_first(tasks)
    method = method or start_method(tasks)
    if method == "fork":
        _INHERITED.clear()
        _INHERITED.update(datasets or {})
        datasets = None  # inherited by the workers, not pickled with every task
        _preload(tasks)
    pool = ProcessPoolExecutor(
        max_workers=min(workers, max(1, len(tasks))),
        mp_context=multiprocessing.get_context(method),
        initializer=_init_worker,
        initargs=(os.getpid(), threads),
    )
    try:
        with warnings.catch_warnings():  # Python >= 3.12 warns on fork with torch's threads
            warnings.simplefilter("ignore", DeprecationWarning)
            futures = {
                pool.submit(execute, task, _provided(datasets, task)): task for task in tasks
            }
        for future in as_completed(futures):
            try:
                on_result(future.result())
            except BrokenProcessPool as err:
                on_result(_lost(futures[future], f"worker process died: {err}"))
    except BaseException:
        _stop(pool)
        raise
    finally:
        _INHERITED.clear()
    pool.shutdown(wait=True)


# -- side by side ------------------------------------------------------------------------------
# The calls of `side_by_side`, inherited by its forked processes (closures are never pickled).
_CALLS: list[Callable[[], Any]] = []


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _call(index: int) -> Any:
    return _CALLS[index]()


def side_by_side(
    calls: Sequence[Callable[[], Any]], threads: int = 1, workers: int | None = None
) -> list[Any]:
    """Make the `calls` in forked processes, `workers` at once (default: all of them), each
    with `threads` torch threads, and return their results (pickled back) in order.

    For CPU jobs that share this process's imports and loaded data (`fairdg run` and its
    comparison, a reproduction's transformation models): forked processes start in
    milliseconds, and small models side by side on one thread each train faster than one after
    the other on all threads. Only where `start_method` allows forking (the caller checks:
    ``start_method([]) == "fork"``). The first call that raises (in order) has its exception
    raised here and the others stopped; so does Ctrl-C.
    """
    _CALLS[:] = calls
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(workers or len(calls), len(calls))),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_init_worker,
        initargs=(os.getpid(), threads),
    )
    try:
        with warnings.catch_warnings():  # Python >= 3.12 warns on fork with torch's threads
            warnings.simplefilter("ignore", DeprecationWarning)
            futures = [pool.submit(_call, i) for i in range(len(calls))]
        results = [future.result() for future in futures]
    except BaseException:
        _stop(pool)
        raise
    finally:
        _CALLS.clear()
    pool.shutdown(wait=True)
    return results


# -- ray ---------------------------------------------------------------------------------------
def _ray_execute(task: dict, dataset: Any, threads: int) -> Outcome:
    torch.set_num_threads(max(1, threads))
    return execute(task, dataset)


def import_ray():
    """Import Ray or explain how to install it."""
    try:
        import ray
    except ImportError as err:
        raise RuntimeError(
            "the ray launcher needs Ray, an optional dependency: pip install 'fairdg[ray]'"
        ) from err
    return ray


def launch_ray(
    tasks: Sequence[Work],
    on_result: OnResult,
    address: str | None = None,
    cpus_per_task: float = 1.0,
    gpus_per_task: float | None = None,
    datasets: Mapping[str, Any] | None = None,
    init_options: Mapping[str, Any] | None = None,
) -> None:
    """Run the tasks as Ray tasks, on a local Ray instance or the cluster at `address`.

    Parameters
    ----------
    address
        ``None`` starts Ray on this machine (unless it is already initialised); ``"auto"`` or
        ``"ray://host:10001"`` joins an existing cluster.
    cpus_per_task, gpus_per_task
        Resources each run reserves; ``gpus_per_task=None`` reserves one GPU per run when the
        cluster has GPUs and none otherwise (pair it with ``device="auto"``).
    init_options
        Extra keyword arguments of ``ray.init`` (e.g. ``num_cpus``).
    """
    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            **dict(init_options or {}),
        )
    pending: dict[Any, Work] = {}
    try:
        if gpus_per_task is None:
            gpus_per_task = 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0
        remote = ray.remote(num_cpus=cpus_per_task, num_gpus=gpus_per_task)(_ray_execute)
        shared = {name: ray.put(data) for name, data in (datasets or {}).items()}
        threads = max(1, int(cpus_per_task))
        for task in longest_first(tasks):
            ref = remote.remote(task, _provided(shared, task), threads)
            pending[ref] = task
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                task = pending.pop(ref)
                try:
                    on_result(ray.get(ref))
                except ray.exceptions.RayError as err:  # the worker died, not the run
                    on_result(_lost(task, f"ray task failed: {err}"))
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
