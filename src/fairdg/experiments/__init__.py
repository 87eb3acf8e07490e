"""Experiments: the engine of run configs, sweeps and launchers.

``expand(SweepSpec(...))`` lists the runs of a sweep (`protocol`); ``run_sweep(configs,
launcher)`` executes those not done yet (`sweep`, `launchers`). The papers' tables are
reproduced in `fairdg.reproductions`.
"""

from fairdg.experiments.protocol import SweepSpec, expand, held_out_sets
from fairdg.experiments.sweep import SweepResult, plan, run_state, run_sweep
from fairdg.training.config import RunConfig

__all__ = [
    "RunConfig",
    "SweepResult",
    "SweepSpec",
    "expand",
    "held_out_sets",
    "plan",
    "run_state",
    "run_sweep",
]
