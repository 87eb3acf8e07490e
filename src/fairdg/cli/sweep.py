"""``fairdg sweep``: every algorithm x configuration x trial x held-out domain, resumable."""

from __future__ import annotations

import argparse
import os

from fairdg.cli import flags


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
    flags.steps(p)
    flags.eval_every(p)
    flags.data_options(p, help="for every dataset, e.g. domain=age")
    flags.hparams(p)
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
    flags.device(p, per_worker=True)
    flags.output(p, default="fairdg-runs/sweep", help="folder of run folders")
    p.add_argument(
        "--save-models",
        action="store_true",
        help="keep each run's selected model (model.pt); off by default in sweeps",
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
    flags.quiet(p)
    flags.tracker(p)
    p.set_defaults(func=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    from fairdg.experiments.protocol import SweepSpec, expand
    from fairdg.experiments.sweep import plan, run_sweep

    spec = SweepSpec(
        datasets=tuple(args.datasets),
        algorithms=tuple(args.algorithms),
        n_hparams=args.n_hparams,
        n_trials=args.n_trials,
        test_domains=tuple(args.test_domains),
        lodo=args.lodo,
        data_options=flags.data_options_of(args),
        hparams=flags.hparams_of(args),
        steps=args.steps,
        eval_every=args.eval_every,
        device=args.device,
        output_dir=args.output,
        quiet=True,
        save_model=args.save_models,
    )
    configs = expand(spec)
    if args.tracker is not None:  # how results are reported, outside the run ids
        configs = [c.replace(tracker=args.tracker) for c in configs]
    if args.dry_run:
        groups = plan(configs)
        print(
            f"{sum(map(len, groups.values()))} runs in {args.output}: "
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
        progress=None if not args.quiet else False,
    )
    print(result.summary())
    for outcome in result.failed[:10]:
        print(f"  failed {outcome['run_id']}: {outcome['error']}")
    print(f"tables: fairdg report {args.output}")
    return 0 if result.ok else 1
