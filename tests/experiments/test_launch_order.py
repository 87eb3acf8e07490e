"""Worker pools: longest runs first, fork only where it is safe."""

from fairdg.experiments import launchers


def test_longest_runs_first_ties_in_order():
    tasks = [{"id": 0, "steps": 10}, {"id": 1, "steps": None}, {"id": 2, "steps": 50}]
    tasks += [{"id": 3, "steps": 10}]
    assert [t["id"] for t in launchers.longest_first(tasks)] == [1, 2, 0, 3]


def test_gpu_runs_are_never_forked():
    assert launchers.start_method([{"device": "cuda"}]) == "spawn"
    assert launchers.start_method([{"device": "cpu"}]) in ("fork", "spawn")
