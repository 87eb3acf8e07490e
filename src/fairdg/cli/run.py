"""``fairdg run``: train one algorithm on one dataset and print its test metrics."""

from __future__ import annotations

import argparse

from fairdg.cli.common import TABLE_METRICS, add_run_flags, config_kwargs, print_table
from fairdg.training import RunConfig, train


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="train and evaluate one run",
                       description="Train an algorithm on a dataset and print test metrics. "
                       "With no arguments: ERM on the bundled UCI Adult data.")
    add_run_flags(p)
    p.add_argument("--force", action="store_true",
                   help="rerun even if an identical run is already complete")
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    config = RunConfig(**config_kwargs(args))
    result = train(config, force=args.force)
    record = result.record
    print(f"{record['algorithm']} on {record['dataset']}: {record['steps']} steps, "
          f"selected step {record['selected_step']} by {record['selection']}, "
          f"{record['wall_seconds']:.1f} s; run folder {result.run_dir}")
    metrics = record["metrics"]
    sets = [s for s in ("val", "test", "oracle") if s in metrics]
    rows = [[s, *(metrics[s].get(m) for m in TABLE_METRICS)] for s in sets]
    print_table(["set", *TABLE_METRICS], rows)
    return 0
