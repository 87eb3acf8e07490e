"""``fairdg reproduce NAME``: rerun a table of one of the papers and print it next to theirs."""

from __future__ import annotations

import argparse

from fairdg.cli import flags
from fairdg.hparams import parse_assignments
from fairdg.records import atomic_write_text
from fairdg.reproductions import REPRODUCTIONS, ReproOptions


def add_parser(sub) -> None:
    p = sub.add_parser(
        "reproduce",
        help="reproduce a table of the papers",
        description="Reproductions: "
        + ", ".join(f"{e.name} ({e.description})" for e in REPRODUCTIONS.entries()),
    )
    p.add_argument("name", nargs="?", help="reproduction name; omit to list them")
    p.add_argument("--quick", action="store_true", help="small version (one seed, few steps)")
    flags.seeds(p)
    flags.output(p, default="fairdg-runs/reproduce", help="output folder")
    flags.device(p)
    flags.workers(
        p,
        default=None,
        help="training processes at once, one torch thread each (default: one per core with "
        "--quick on the CPU, else 1: one process with all of torch's threads)",
    )
    p.add_argument(
        "--option",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="the reproduction's option, or a RunConfig field for all its runs "
        "(e.g. min_group_size=50), repeatable; a typo names the closest",
    )
    p.set_defaults(func=reproduce_command)


def reproduce_command(args: argparse.Namespace) -> int:
    if not args.name:
        for entry in REPRODUCTIONS.entries():
            print(f"{entry.name:24s} {entry.description} [{entry.paper}]")
        return 0
    REPRODUCTIONS.entry(args.name)  # before torch
    from fairdg.reproductions.protocol import report_path, run_reproduction

    options = ReproOptions(
        output=args.output,
        quick=args.quick,
        seeds=args.seeds,
        device=args.device,
        quiet=args.quiet,
        workers=args.workers,
        extra=parse_assignments(args.option, "--option"),
    )
    report = run_reproduction(args.name, options)
    path = report_path(args.name, options)
    atomic_write_text(path, report)
    print(report)
    print(f"\nwritten to {path}")
    return 0
