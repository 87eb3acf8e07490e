"""Experiments: the engine of run configs, sweeps and launchers.

``expand(SweepSpec(...))`` lists the runs of a sweep (`spec`, `protocol`); ``run_sweep(configs,
launcher)`` executes those not done yet (`sweep`, `launchers`). The papers' tables are
reproduced in `fairdg.reproductions` on this engine. The package imports nothing itself, so
that `fairdg.experiments.spec` stays torch-free (the command line checks a sweep before torch).
"""
