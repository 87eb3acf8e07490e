"""The flags of a training run (`fairdg run`) and plain-text tables shared by commands.

Each flag is defined once, in `fairdg.cli.flags`."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from fairdg.cli import flags


def add_run_flags(
    p: argparse.ArgumentParser, dataset: str = "adult", algorithm: str = "erm"
) -> None:
    """The flags of one training run (`config_kwargs` reads them back)."""
    flags.dataset(p, default=dataset)
    flags.data_options(p)
    flags.algorithm(p, default=algorithm)
    flags.hparams(p)
    flags.hparams_seed(p)
    flags.test_domains(p)
    flags.seed(p)
    p.add_argument(
        "--transformation",
        default=None,
        metavar="PATH",
        help="trained transformation model for FDDG (from `fairdg transform train`)",
    )
    flags.steps(p)
    flags.eval_every(p)
    p.add_argument(
        "--selection",
        default="val.accuracy",
        help="model selection criterion <set>.<metric> (default: val.accuracy)",
    )
    flags.min_group_size(p)
    flags.device(p)
    flags.precision(p)
    flags.output(p, default="fairdg-runs", help="folder of run folders and results.jsonl")
    flags.quiet(p)
    flags.tracker(p)


def config_kwargs(args: argparse.Namespace) -> dict:
    """RunConfig keyword arguments from the shared flags."""
    from fairdg.data import typed_dataset_options  # the data registry imports torch

    return dict(
        dataset=args.dataset,
        data_options=typed_dataset_options(args.dataset, flags.data_options_of(args)),
        algorithm=args.algorithm,
        hparams=flags.hparams_of(args),
        hparams_seed=args.hparams_seed,
        test_domains=tuple(args.test_domains),
        seed=args.seed,
        transformation=getattr(args, "transformation", None),
        steps=args.steps,
        eval_every=args.eval_every,
        selection=args.selection,
        min_group_size=getattr(args, "min_group_size", 30),
        device=args.device,
        precision=getattr(args, "precision", "fp32"),
        output_dir=args.output,
        quiet=args.quiet,
        compile=getattr(args, "compile", False),
        tracker=getattr(args, "tracker", None),
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
