"""Experiments: the engine of run configs, sweeps and launchers.

``expand(SweepSpec(...))`` lists the runs of a sweep (`spec`, `protocol`); ``run_sweep(configs,
launcher)`` executes those not done yet (`sweep`, `launchers`); `tasks` holds work other than a
training run. The papers' tables are reproduced in `fairdg.reproductions` on this engine. The
names below load their module (and torch) on first use, so that `fairdg.experiments.spec`
stays torch-free (the command line checks a sweep before torch).
"""

_NAMES = {
    "SweepSpec": "spec",
    "held_out_sets": "spec",
    "expand": "protocol",
    "SweepResult": "sweep",
    "plan": "sweep",
    "run_state": "sweep",
    "run_sweep": "sweep",
    "Task": "tasks",
}


def __getattr__(name: str):
    if name in _NAMES:
        from importlib import import_module

        return getattr(import_module(f"fairdg.experiments.{_NAMES[name]}"), name)
    raise AttributeError(f"module 'fairdg.experiments' has no attribute {name!r}")


__all__ = sorted(_NAMES)
