"""Worker pools: longest runs first, fork only where it is safe."""

from fairdg.experiments import launchers


def test_longest_runs_first_ties_in_order():
    tasks = [{"id": 0, "steps": 10}, {"id": 1, "steps": None}, {"id": 2, "steps": 50}]
    tasks += [{"id": 3, "steps": 10}]
    assert [t["id"] for t in launchers.longest_first(tasks)] == [1, 2, 0, 3]


def test_gpu_runs_are_never_forked():
    assert launchers.start_method([{"device": "cuda"}]) == "spawn"
    assert launchers.start_method([{"device": "cpu"}]) in ("fork", "spawn")


def _pid_and_threads(tag):
    import os

    import torch

    return tag, os.getpid(), torch.get_num_threads()


def test_side_by_side_runs_the_calls_in_forked_processes_in_order():
    import os

    import pytest

    if launchers.start_method([]) != "fork":
        pytest.skip("no fork here")
    shared = {"big": list(range(10))}  # inherited with the process, never pickled
    calls = [lambda: _pid_and_threads(sum(shared["big"])), lambda: _pid_and_threads("b")]
    (a, pid_a, threads_a), (b, pid_b, threads_b) = launchers.side_by_side(calls, threads=1)
    assert (a, b) == (45, "b") and threads_a == threads_b == 1
    assert os.getpid() not in (pid_a, pid_b)


def test_side_by_side_raises_the_first_error_of_its_calls():
    import pytest

    if launchers.start_method([]) != "fork":
        pytest.skip("no fork here")

    def bad():
        raise ValueError("--data-option x: not a column")

    with pytest.raises(ValueError, match="not a column"):
        launchers.side_by_side([lambda: 1, bad], threads=1)
    assert launchers._CALLS == []
