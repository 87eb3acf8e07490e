"""Flags and printing shared by several commands."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from fairdg.hparams import parse_assignments

TABLE_METRICS = ("accuracy", "dp_diff", "dp_ratio", "eopp_diff", "eodds_diff", "fairness_auc")


def add_run_flags(
    p: argparse.ArgumentParser, dataset: str = "adult", algorithm: str = "erm"
) -> None:
    p.add_argument(
        "--dataset",
        default=dataset,
        help=f"dataset name (default: {dataset}); see `fairdg datasets`",
    )
    p.add_argument(
        "--data-option",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="loader option, repeatable (e.g. domain=race, root=DIR)",
    )
    p.add_argument(
        "--algorithm",
        default=algorithm,
        help=f"algorithm name (default: {algorithm}); see `fairdg algorithms`",
    )
    p.add_argument(
        "--hparam",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="hyperparameter override, repeatable (e.g. lr=1e-3)",
    )
    p.add_argument(
        "--hparams-seed",
        type=int,
        default=0,
        help="draw hyperparameters from their search spaces (0 = defaults)",
    )
    p.add_argument(
        "--test-domains",
        nargs="*",
        default=[],
        metavar="NAME",
        help="domains held out from training (default: none)",
    )
    p.add_argument("--seed", type=int, default=0, help="trial seed: split, init, batches")
    p.add_argument(
        "--transformation",
        default=None,
        metavar="PATH",
        help="trained transformation model for FDDG (from `fairdg transform train`)",
    )
    p.add_argument(
        "--steps", type=int, default=None, help="training steps (default: the dataset's)"
    )
    p.add_argument(
        "--eval-every", type=int, default=None, help="evaluate every N steps (default: steps / 10)"
    )
    p.add_argument(
        "--selection",
        default="val.accuracy",
        help="model selection criterion <set>.<metric> (default: val.accuracy)",
    )
    p.add_argument("--device", default="cpu", help="torch device: cpu (default), cuda, cuda:1")
    p.add_argument(
        "--precision",
        default="fp32",
        choices=("fp32", "bf16"),
        help="fp32 (default) or bf16 autocast (CUDA only)",
    )
    p.add_argument(
        "--output",
        default="fairdg-runs",
        help="folder of run folders and results.jsonl (default: ./fairdg-runs)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def config_kwargs(args: argparse.Namespace) -> dict:
    """RunConfig keyword arguments from the shared flags."""
    return dict(
        dataset=args.dataset,
        data_options=parse_assignments(args.data_option, "--data-option"),
        algorithm=args.algorithm,
        hparams=parse_assignments(args.hparam, "--hparam"),
        hparams_seed=args.hparams_seed,
        test_domains=tuple(args.test_domains),
        seed=args.seed,
        transformation=getattr(args, "transformation", None),
        steps=args.steps,
        eval_every=args.eval_every,
        selection=args.selection,
        device=args.device,
        precision=getattr(args, "precision", "fp32"),
        output_dir=args.output,
        quiet=args.quiet,
    )


def fmt(value: object, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain aligned text table."""
    cells = [list(map(str, header))] + [[fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
