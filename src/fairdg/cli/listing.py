"""``fairdg datasets`` and ``fairdg algorithms``: what is available, with options and knobs."""

from __future__ import annotations

import argparse
import json

from fairdg.algorithms import ALGORITHMS
from fairdg.data import DATASETS, dataset_options, load_dataset
from fairdg.hparams import describe, parse_assignments


def add_parser(sub) -> None:
    p = sub.add_parser("datasets", help="list datasets (or --show NAME for its counts)")
    p.add_argument("--show", metavar="NAME", help="load NAME and print per-domain (y, z) counts")
    p.add_argument("--data-option", action="append", metavar="KEY=VALUE", default=[],
                   help="loader option for --show, repeatable")
    p.add_argument("--json", action="store_true", help="print --show's summary as JSON")
    p.set_defaults(func=datasets_command)
    p = sub.add_parser("algorithms", help="list algorithms and their hyperparameters")
    p.add_argument("names", nargs="*", help="only these algorithms")
    p.set_defaults(func=algorithms_command)


def datasets_command(args: argparse.Namespace) -> int:
    if args.show:
        dataset = load_dataset(args.show, **parse_assignments(args.data_option, "--data-option"))
        summary = dataset.summary()
        if args.json:
            print(json.dumps(summary, indent=2))
            return 0
        print(f"{dataset.name}: input {tuple(dataset.input_shape)}, classes {dataset.class_names}, "
              f"sensitive {dataset.sensitive_name} {dataset.group_names}")
        for name, row in summary["domains"].items():
            dep = row["dependence"]
            counts = "  ".join(
                f"y={c},z={g}: {row['counts'][i][j]}"
                for i, c in enumerate(dataset.class_names)
                for j, g in enumerate(dataset.group_names)
            )
            dep_text = "n/a" if dep is None else f"{dep:.3f}"
            print(f"  {name}: n={row['n']}  dependence={dep_text}  {counts}")
        return 0
    for entry in DATASETS.entries():
        print(f"{entry.name:16s} {entry.description}")
        options = ", ".join(f"{k}={v!r}" for k, v in dataset_options(entry.name).items())
        print(f"{'':16s} options: {options}")
    return 0


def algorithms_command(args: argparse.Namespace) -> int:
    names = args.names or ALGORITHMS.names()
    for name in names:
        entry = ALGORITHMS.entry(name)
        print(f"{entry.name:12s} {entry.description}" + (f" [{entry.paper}]" if entry.paper else ""))
        for knob, default, space, help_text in describe(entry.obj.declared_hparams()):
            print(f"    {knob:28s} {default:>10s}  {space:24s} {help_text}")
    return 0
