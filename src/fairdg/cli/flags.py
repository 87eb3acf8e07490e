"""Flags shared by several commands, each defined once, here.

A command adds a flag by calling its function (``flags.dataset(p, required=True)``); what may
differ between commands (the default, whether it is required, where ``--output`` writes) is a
parameter, the spelling and the parsing are not. Conventions that hold for every command:

- ``--dataset NAME`` names one dataset (``sweep`` also takes several: ``--datasets A B``, of
  which ``--dataset`` is the same flag).
- ``--data-option KEY=VALUE`` and ``--hparam KEY=VALUE`` are repeatable.
- ``--hparam``: each algorithm that a command trains (``run`` and its ``--compare``, every
  algorithm of a ``sweep``) receives the keys that it declares; a key that none of them
  declares is an error before anything runs.
- ``--device``: ``cpu`` (default), ``cuda``, ``cuda:1``, ..., or ``auto`` (CUDA where the
  process that trains has it: this process, or each worker of a sweep).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from fairdg.hparams import parse_assignments
from fairdg.tracking import TRACKERS, require

Parser = argparse.ArgumentParser


def dataset(
    p: Parser,
    *,
    default: str | None = None,
    required: bool = False,
    several: bool = False,
    help: str | None = None,
) -> None:
    """``--dataset NAME``; with `several`, ``--datasets NAME ...`` (``--dataset`` also works)."""
    text = help or f"dataset name{'s' if several else ''}; see `fairdg datasets`"
    if default is not None:
        text += f" (default: {default})"
    p.add_argument(
        *(("--datasets", "--dataset") if several else ("--dataset",)),
        dest="datasets" if several else "dataset",
        nargs="+" if several else None,
        default=default,
        required=required,
        metavar="NAME",
        help=text,
    )


def data_options(p: Parser, *, help: str = "e.g. domain=race, root=DIR") -> None:
    """``--data-option KEY=VALUE``, repeatable (``data_options_of(args)`` parses them)."""
    p.add_argument(
        "--data-option",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help=f"loader option, repeatable ({help})",
    )


def data_options_of(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed ``--data-option`` values."""
    return parse_assignments(args.data_option, "--data-option")


def algorithm(p: Parser, *, default: str) -> None:
    """``--algorithm NAME``."""
    p.add_argument(
        "--algorithm",
        default=default,
        metavar="NAME",
        help=f"algorithm name (default: {default}); see `fairdg algorithms`",
    )


def hparams(p: Parser) -> None:
    """``--hparam KEY=VALUE``, repeatable (``hparams_of(args)`` parses them)."""
    p.add_argument(
        "--hparam",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="hyperparameter override, repeatable (e.g. lr=1e-3); each algorithm trained "
        "receives the keys it declares, a key none of them declares is an error",
    )


def hparams_of(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed ``--hparam`` values."""
    return parse_assignments(args.hparam, "--hparam")


def split_hparams(
    algorithms: Sequence[str], overrides: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """The ``--hparam`` overrides each algorithm declares; a key none declares is an error."""
    from fairdg.experiments.protocol import hparams_for  # cli: a command's modules load lazily

    per_algorithm = {a: hparams_for(a, overrides) for a in algorithms}
    unused = sorted(set(overrides) - {k for h in per_algorithm.values() for k in h})
    if unused:
        raise ValueError(
            f"--hparam: unknown hyperparameter(s) {unused}, declared by none of the "
            f"algorithms {list(dict.fromkeys(algorithms))}; see `fairdg algorithms`"
        )
    return per_algorithm


def hparams_seed(p: Parser) -> None:
    """``--hparams-seed N``."""
    p.add_argument(
        "--hparams-seed",
        type=int,
        default=0,
        help="draw hyperparameters from their search spaces (0 = defaults)",
    )


def test_domains(
    p: Parser, *, sweep: bool = False, help: str = "domains held out from training (default: none)"
) -> None:
    """``--test-domains NAME ...``: none by default; in a sweep ``all``, ``none`` or names."""
    if sweep:
        help = (
            "'all' (default: each domain held out in turn), 'none' (train on all domains), "
            "or domain names held out in turn ('a+b' holds a and b out together)"
        )
    p.add_argument(
        "--test-domains",
        nargs="+" if sweep else "*",
        default=["all"] if sweep else [],
        metavar="NAME",
        help=help,
    )


def seed(p: Parser, *, help: str = "trial seed: split, init, batches") -> None:
    """``--seed N`` (default 0)."""
    p.add_argument("--seed", type=int, default=0, help=f"{help} (default: 0)")


def seeds(p: Parser) -> None:
    """``--seeds N``: how many seeds (trials)."""
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (trials)")


def steps(p: Parser, *, default: int | None = None) -> None:
    """``--steps N`` (default: the dataset's)."""
    where = "the dataset's" if default is None else str(default)
    p.add_argument("--steps", type=int, default=default, help=f"training steps (default: {where})")


def eval_every(p: Parser) -> None:
    """``--eval-every N``."""
    p.add_argument(
        "--eval-every", type=int, default=None, help="evaluate every N steps (default: steps / 10)"
    )


def min_group_size(p: Parser) -> None:
    """``--min-group-size N``: smaller groups make comparing metrics undefined (recorded)."""
    p.add_argument(
        "--min-group-size",
        type=int,
        default=30,
        metavar="N",
        help="metrics comparing a sensitive group with fewer rows in an evaluation set are "
        "recorded as undefined, with the reason (default: 30)",
    )


def _device(value: str) -> str:
    if value != "auto":
        return value
    import torch  # only for `auto`: listing commands start without torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def device(p: Parser, *, per_worker: bool = False) -> None:
    """``--device``; ``auto`` is resolved here, or by each worker when `per_worker`."""
    where = "each worker" if per_worker else "this machine"
    p.add_argument(
        "--device",
        default="cpu",
        type=str if per_worker else _device,
        help=f"torch device: cpu (default), cuda, cuda:1, or auto (cuda when {where} has one)",
    )


def precision(p: Parser) -> None:
    """``--precision fp32|bf16`` (bf16: autocast on CUDA only)."""
    p.add_argument(
        "--precision",
        default="fp32",
        choices=("fp32", "bf16"),
        help="fp32 (default) or bf16 autocast (CUDA only)",
    )


def output(p: Parser, *, help: str, default: str | None = None, required: bool = False) -> None:
    """``--output PATH``: what it is depends on the command; `help` says it."""
    text = f"{help} (default: {default})" if default is not None else help
    p.add_argument("--output", default=default, required=required, metavar="PATH", help=text)


def quiet(p: Parser) -> None:
    """``--quiet``."""
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {value!r}")
    return number


def workers(p: Parser, *, default: int, help: str) -> None:
    """``--workers N``: training processes at once; `help` says which and the default."""
    p.add_argument("--workers", type=_positive, default=default, metavar="N", help=help)


def compile(p: Parser) -> None:
    """``--compile``: torch.compile the algorithm's networks (a speed option, outside run ids)."""
    p.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the algorithm's networks (first steps pay the compilation; "
        "see docs/experiments.md for when it helps)",
    )


def force(p: Parser, *, help: str) -> None:
    """``--force``."""
    p.add_argument("--force", action="store_true", help=help)


def _tracker(value: str) -> str:
    if value not in TRACKERS:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(TRACKERS)}, got {value!r}")
    try:
        require(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix(f"--tracker {value} ")) from err
    return value


def tracker(p: Parser) -> None:
    """``--tracker tensorboard|mlflow``: also send evaluations and the final record there."""
    p.add_argument(
        "--tracker",
        default=None,
        type=_tracker,
        metavar="{tensorboard,mlflow}",
        help="also send each evaluation and the final record to TensorBoard "
        "(OUTPUT/tensorboard) or MLflow ($MLFLOW_TRACKING_URI, else OUTPUT/mlruns); needs "
        "pip install 'fairdg[tracking]'",
    )
