"""``fairdg datasets`` and ``fairdg algorithms``: what is available, with options and knobs."""

from __future__ import annotations

import argparse
import json

from fairdg.cli import flags
from fairdg.cli.common import fmt, print_table
from fairdg.datasets_info import DATASET_INFO, DatasetInfo, loader_options, search_dirs
from fairdg.hparams import describe
from fairdg.registry import unknown_name_message

# The registries import torch: they are imported inside the command functions (deliberate lazy
# imports), so that the parser (``fairdg algorithms --help``) does not. The dataset listing
# reads only the torch-free `fairdg.datasets_info`.


def add_parser(sub) -> None:
    p = sub.add_parser(
        "datasets",
        help="list datasets (or --show NAME for its counts)",
        description="List the datasets: shapes, domains, groups, where their "
        "files are looked for and their options; --show NAME loads one and "
        "prints its per-domain (y, z) counts and dependence scores.",
    )
    p.add_argument("names", nargs="*", help="only these datasets")
    p.add_argument(
        "--show",
        nargs="?",
        const=True,
        metavar="NAME",
        help="load a dataset (NAME or --dataset NAME) and print its per-domain (y, z) counts",
    )
    flags.dataset(p, help="the dataset --show loads (--dataset alone implies --show)")
    flags.data_options(p, help="for --show")
    flags.json(p, help="print --show's summary as JSON")
    p.set_defaults(func=datasets_command)
    p = sub.add_parser("algorithms", help="list algorithms and their hyperparameters")
    p.add_argument("names", nargs="*", help="only these algorithms")
    p.set_defaults(func=algorithms_command)


def datasets_command(args: argparse.Namespace) -> int:
    if args.show or args.dataset:
        name = args.show if isinstance(args.show, str) else args.dataset
        if isinstance(args.show, str) and args.dataset not in (None, args.show):
            raise ValueError(f"--show {args.show} and --dataset {args.dataset}: name one dataset")
        if name is None:
            raise ValueError("--show needs a dataset: --show NAME or --dataset NAME")
        return show_dataset(name, flags.data_options_of(args), as_json=args.json)
    for name in args.names or DATASET_INFO:
        info = _info(name)
        paper = f" [{info.paper}]" if info.paper else ""
        print(f"{name}: {info.description}{paper}")
        domains = ", ".join(info.domains)
        if info.domains_note:
            domains = f"{domains} ({info.domains_note})" if domains else info.domains_note
        rows = [("shape", f"{info.shape} ({info.input_kind})"), ("domains", domains)]
        rows += [("classes", info.classes), ("groups", info.groups)]
        rows += [("data", data_location(info))]
        for key, text in rows:
            print(f"    {key + ':':9s} {text}")
        options = ", ".join(f"{k}={v!r}" for k, v in loader_options(name).items() if k != "root")
        print(f"    {'options:':9s} {options}")
    return 0


def _info(name: str) -> DatasetInfo:
    if name.lower() not in DATASET_INFO:  # the closest valid name, without torch
        raise ValueError(unknown_name_message("dataset", name, DATASET_INFO))
    return DATASET_INFO[name.lower()]


def data_location(info: DatasetInfo) -> str:
    """Where a dataset's files are looked for, and whether they are there (names only)."""
    if info.source == "generated":
        return "generated, no files"
    if info.source == "user file":
        return "your CSV file (path=FILE)"
    if not info.folder:
        return f"bundled with {info.bundled}" if info.bundled else "see --show"
    folders = search_dirs(info.folder)
    found = [str(d) for d in folders if d.is_dir() and any(d.iterdir())]
    files = ", ".join(info.files)
    where = "; ".join(str(d) for d in folders)
    status = f"found in {found[0]}" if found else "not found"
    bundled = f"; bundled copy in {info.bundled}" if info.bundled else ""
    return f"{files} in root=DIR or {where} ({status}{bundled})"


def show_dataset(name: str, options: dict, as_json: bool = False) -> int:
    """Print per-domain (y, z) counts and dependence scores of a loaded dataset."""
    from fairdg.data import load_dataset

    dataset = load_dataset(name, **options)
    summary = dataset.summary()
    if as_json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    print(
        f"{dataset.name}: {len(dataset)} samples, input {tuple(dataset.input_shape)}, "
        f"classes {dataset.class_names}, sensitive {dataset.sensitive_name} "
        f"{dataset.group_names}"
    )
    cells = [(i, j) for i in range(dataset.num_classes) for j in range(dataset.num_groups)]
    if len(cells) <= 8:  # one row per domain: y=i,z=j columns
        print(
            "  "
            + "  ".join(f"y={i}: {c}" for i, c in enumerate(dataset.class_names))
            + "  |  "
            + "  ".join(f"z={j}: {g}" for j, g in enumerate(dataset.group_names))
        )
        header = ["domain", "n", *(f"y={i},z={j}" for i, j in cells), "dependence"]
        rows = [
            [n, r["n"], *(r["counts"][i][j] for i, j in cells), _dep(r["dependence"])]
            for n, r in summary["domains"].items()
        ]
    else:  # many classes: one row per (domain, class), one column per group
        header = ["domain", "y", *(f"z={g}" for g in dataset.group_names), "n"]
        rows = [
            [n, c, *r["counts"][i], sum(r["counts"][i])]
            for n, r in summary["domains"].items()
            for i, c in enumerate(dataset.class_names)
        ]
    print_table(header, rows)
    if dataset.num_classes == 2:
        print("dependence = min_z P(y=1|z) / max_z P(y=1|z) (1 = independent)")
    for domain in dataset.domains:
        if domain.test_mask is not None:
            print(f"  {domain.name}: {int(domain.test_mask.sum())} rows form the fixed test split")
        if domain.train_mask is not None:
            print(
                f"  {domain.name}: {int(domain.train_mask.sum())} rows always in the training "
                "split"
            )
    return 0


def _dep(value) -> str:
    return "n/a" if value is None else fmt(value, 3)


def algorithms_command(args: argparse.Namespace) -> int:
    from fairdg.algorithms import ALGORITHMS, Algorithm
    from fairdg.data import DATASETS, dataset_info

    names = args.names or ALGORITHMS.names()
    entries = [ALGORITHMS.entry(name) for name in names]
    shared = Algorithm.declared_hparams()
    print("shared by every algorithm (dataset defaults override the default):")
    overrides = {n: dataset_info(n).default_hparams for n in DATASETS.names()}
    for knob, default, space, help_text in describe(shared):
        per_dataset = ", ".join(
            f"{n} {v!r}"
            for n, d in overrides.items()
            for k, v in d.items()
            if k == knob and v != shared[knob].default
        )
        print(f"    {knob:28s} {default:>10s}  {space:24s} {help_text}")
        if per_dataset:
            print(f"    {'':28s} {'':>10s}  datasets: {per_dataset}")
    for entry in entries:
        print(
            f"{entry.name:12s} {entry.description}" + (f" [{entry.paper}]" if entry.paper else "")
        )
        own = {k: hp for k, hp in entry.obj.declared_hparams().items() if shared.get(k) != hp}
        for knob, default, space, help_text in describe(own):
            print(f"    {knob:28s} {default:>10s}  {space:24s} {help_text}")
    return 0
