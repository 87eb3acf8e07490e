"""``fairdg sweep``: every algorithm x configuration x trial x held-out domain, resumable."""

from __future__ import annotations

import argparse
import os

from fairdg.cli import flags
from fairdg.datasets_info import DATASET_INFO
from fairdg.experiments.spec import SweepSpec, held_out_sets
from fairdg.training.config import SWEEP_BASE, check_registered

# The axes of a sweep (its own flags) and the RunConfig fields they vary.
SWEPT = ("dataset", "algorithm", "hparams_seed", "seed", "test_domains", "quiet")
ALIASES = {"save_model": ("--save-models",)}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a hyperparameter / held-out-domain sweep (resumable)",
        description="Expand datasets x algorithms x hyperparameter configurations x trials x "
        "held-out domains into runs and execute those not done yet. Start it again to resume; "
        "then `fairdg report OUTPUT` prints the tables.",
    )
    flags.dataset(p, several=True, required=True)
    p.add_argument(
        "--algorithms",
        nargs="+",
        default=["erm"],
        metavar="NAME",
        help="algorithm names (default: erm); see `fairdg algorithms`",
    )
    p.add_argument(
        "--n-hparams",
        type=int,
        default=1,
        help="hyperparameter configurations per algorithm: seed 0 = defaults, "
        "seeds 1.. draw from the declared ranges (default: 1; DomainBed: 20)",
    )
    p.add_argument(
        "--n-trials",
        type=int,
        default=1,
        help="trials (seeds 0..T-1) per configuration (default: 1; DomainBed: 3)",
    )
    flags.test_domains(p, sweep=True)
    p.add_argument(
        "--lodo",
        action="store_true",
        help="also run each (target, source) pair held out, which "
        "leave-one-domain-out selection needs (more runs)",
    )
    # every other RunConfig field, for every run of the sweep
    flags.run_config(p, SWEEP_BASE, skip=SWEPT, per_worker=True, aliases=ALIASES)
    p.add_argument(
        "--launcher",
        choices=["local", "processes", "ray"],
        default="local",
        help="local: one run after the other; processes: --workers processes on "
        "this machine; ray: Ray tasks (default: local)",
    )
    flags.workers(
        p,
        default=os.cpu_count() or 1,
        help="worker processes of the processes launcher (default: CPU count)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads per run (default: all cores for local, 1 per worker "
        "for processes); small models are often fastest with 1",
    )
    p.add_argument(
        "--ray-address",
        default=None,
        help="Ray cluster to join ('auto', 'ray://host:10001'); default: start "
        "Ray on this machine",
    )
    p.add_argument("--ray-cpus", type=float, default=1.0, help="CPUs per Ray task (default 1)")
    p.add_argument(
        "--ray-gpus",
        type=float,
        default=None,
        help="GPUs per Ray task (default: 1 when the cluster has GPUs, else 0)",
    )
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="rerun runs that failed before (their folder holds failed.json)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print how many runs are done, failed, interrupted and new; run nothing",
    )
    p.set_defaults(func=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    spec = SweepSpec(
        datasets=tuple(args.datasets),
        algorithms=tuple(args.algorithms),
        n_hparams=args.n_hparams,
        n_trials=args.n_trials,
        test_domains=tuple(args.test_domains),
        lodo=args.lodo,
        base=flags.config_of(args, SWEEP_BASE).replace(quiet=True),
    )
    for dataset in spec.datasets:  # every name before torch loads
        for algorithm in spec.algorithms:
            check_registered(spec.base.replace(dataset=dataset, algorithm=algorithm))
        domains = DATASET_INFO[dataset.lower()].domains_for(spec.base.data_options)
        if domains is not None:  # else the data tell, once loaded
            held_out_sets(domains, spec.test_domains, spec.lodo)
    from fairdg.experiments.protocol import expand  # torch
    from fairdg.experiments.sweep import plan, run_sweep

    configs = expand(spec)
    output = spec.base.output_dir
    if args.dry_run:
        groups = plan(configs)
        print(
            f"{sum(map(len, groups.values()))} runs in {output}: "
            + ", ".join(f"{len(v)} {k}" for k, v in groups.items())
        )
        return 0
    result = run_sweep(
        configs,
        args.launcher,
        workers=args.workers,
        threads=args.threads,
        retry_failed=args.retry_failed,
        ray_address=args.ray_address,
        ray_cpus_per_task=args.ray_cpus,
        ray_gpus_per_task=args.ray_gpus,
        progress=not args.quiet,
    )
    print(result.summary())
    for outcome in result.failed[:10]:
        print(f"  failed {outcome['run_id']}: {outcome['error']}")
    print(f"tables: fairdg report {output}")
    return 0 if result.ok else 1
