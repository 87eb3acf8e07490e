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
- ``-v`` / ``-q`` (more detail / no progress) are accepted before and after the command.

`run_config` adds one flag per `RunConfig` field (its help and default come from the field, so
a field added to RunConfig has a flag in every command that trains); `config_of` builds the
config back through `fairdg.training.config.build_config`, from the flags given only.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fairdg.training.config import RunConfig

Parser = argparse.ArgumentParser


def parse_assignments(values: Sequence[str], what: str) -> dict[str, Any]:
    """``KEY=VALUE`` texts as a dict (`fairdg.hparams.parse_assignments`, loaded on use: the
    parser of ``fairdg --help`` needs no numpy)."""
    from fairdg.hparams import parse_assignments as parse

    return parse(values, what)


UNSET = argparse.SUPPRESS  # a config flag not given leaves the base config's value


def dataset(
    p: Parser,
    *,
    default: str | None = None,
    required: bool = False,
    several: bool = False,
    help: str | None = None,
    shown: str | None = None,
) -> None:
    """``--dataset NAME``; with `several`, ``--datasets NAME ...`` (``--dataset`` also works).
    `shown`: the default named in the help when `default` is `UNSET`."""
    text = help or f"dataset name{'s' if several else ''}; see `fairdg datasets`"
    if (shown or default) not in (None, UNSET):
        text += f" (default: {shown or default})"
    p.add_argument(
        *(("--datasets", "--dataset") if several else ("--dataset",)),
        dest="datasets" if several else "dataset",
        nargs="+" if several else None,
        default=default,
        required=required,
        metavar="NAME",
        help=text,
    )


def data_options(p: Parser, *, help: str = "e.g. domain=race, root=DIR", default=None) -> None:
    """``--data-option KEY=VALUE``, repeatable (``data_options_of(args)`` parses them)."""
    p.add_argument(
        "--data-option",
        action="append",
        metavar="KEY=VALUE",
        default=[] if default is None else default,
        help=f"loader option, repeatable ({help})",
    )


def data_options_of(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed ``--data-option`` values."""
    return parse_assignments(getattr(args, "data_option", []), "--data-option")


def algorithm(p: Parser, *, default: str, shown: str | None = None) -> None:
    """``--algorithm NAME``."""
    p.add_argument(
        "--algorithm",
        default=default,
        metavar="NAME",
        help=f"algorithm name (default: {shown or default}); see `fairdg algorithms`",
    )


def hparams(p: Parser, *, default=None) -> None:
    """``--hparam KEY=VALUE``, repeatable (``hparams_of(args)`` parses them)."""
    p.add_argument(
        "--hparam",
        action="append",
        metavar="KEY=VALUE",
        default=[] if default is None else default,
        help="hyperparameter override, repeatable (e.g. lr=1e-3); each algorithm trained "
        "receives the keys it declares, a key none of them declares is an error",
    )


def hparams_of(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed ``--hparam`` values."""
    return parse_assignments(getattr(args, "hparam", []), "--hparam")


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


def test_domains(
    p: Parser,
    *,
    sweep: bool = False,
    help: str = "domains held out from training (default: none)",
    default=None,
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
        default=(["all"] if sweep else []) if default is None else default,
        metavar="NAME",
        help=help,
    )


def seed(p: Parser, *, help: str, default: int | str = 0, shown: int = 0) -> None:
    """``--seed N``."""
    p.add_argument("--seed", type=int, default=default, help=f"{help} (default: {shown})")


def seeds(p: Parser) -> None:
    """``--seeds N``: how many seeds (trials)."""
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (trials)")


def steps(p: Parser, *, default: int | str | None = None, shown: int | None = None) -> None:
    """``--steps N`` (default: the dataset's)."""
    if default is None or isinstance(default, int):  # not UNSET: the default is shown
        shown = default
    where = "the dataset's" if shown is None else str(shown)
    p.add_argument("--steps", type=int, default=default, help=f"training steps (default: {where})")


def _device(value: str) -> str:
    if value != "auto":
        return value
    import torch  # only for `auto`: listing commands start without torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def device(p: Parser, *, per_worker: bool = False, default: str = "cpu") -> None:
    """``--device``; ``auto`` is resolved here, or by each worker when `per_worker`."""
    where = "each worker" if per_worker else "this machine"
    p.add_argument(
        "--device",
        default=default,
        type=str if per_worker else _device,
        help=f"torch device: cpu (default), cuda, cuda:1, or auto (cuda when {where} has one)",
    )


def output(
    p: Parser, *, help: str, default: str | None = None, required: bool = False, shown=None
) -> None:
    """``--output PATH``: what it is depends on the command; `help` says it."""
    shown = shown if default is UNSET else default
    text = f"{help} (default: {shown})" if shown is not None else help
    p.add_argument("--output", default=default, required=required, metavar="PATH", help=text)


def quiet(p: Parser, *, default: bool | str = UNSET) -> None:
    """``-q`` / ``--quiet``: no progress bars or lines (before or after the command)."""
    p.add_argument(
        "-q", "--quiet", action="store_true", default=default, help="no progress bars or lines"
    )


def verbose(p: Parser, *, default: bool | str = UNSET) -> None:
    """``-v`` / ``--verbose``: log details, and tracebacks of errors."""
    p.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log progress details"
    )


def positive(value: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {value!r}")
    return number


def workers(p: Parser, *, default: int | None, help: str) -> None:
    """``--workers N``: training processes at once; `help` says which and the default."""
    p.add_argument("--workers", type=positive, default=default, metavar="N", help=help)


def json(p: Parser, *, help: str) -> None:
    """``--json``: machine-readable output; `help` says what is printed."""
    p.add_argument("--json", action="store_true", help=help)


def force(p: Parser, *, help: str) -> None:
    """``--force``."""
    p.add_argument("--force", action="store_true", help=help)


# -- the flags of a RunConfig ------------------------------------------------------------------
# Fields spelled otherwise on the command line, with the attribute argparse stores them in and
# how that value becomes the field's value.
_FORMS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "data_options": ("data_option", lambda v: parse_assignments(v, "--data-option")),
    "hparams": ("hparam", lambda v: parse_assignments(v, "--hparam")),
    "output_dir": ("output", str),
}


def run_config(
    p: Parser,
    base: RunConfig,
    *,
    skip: Sequence[str] = (),
    per_worker: bool = False,
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """One flag per `RunConfig` field not in `skip`, its help from the field and the default
    shown from `base`; a flag not given leaves `base`'s value (`config_of`). ``quiet`` is the
    global ``-q``."""
    from fairdg.training.config import FIELDS, field_help  # `fairdg --help` needs no config

    for name, f in FIELDS.items():
        shown = getattr(base, name)
        if name in skip or name == "quiet":
            continue
        if name == "dataset":
            dataset(p, default=UNSET, shown=shown)
        elif name == "data_options":
            data_options(p, default=UNSET)
        elif name == "algorithm":
            algorithm(p, default=UNSET, shown=shown)
        elif name == "hparams":
            hparams(p, default=UNSET)
        elif name == "test_domains":
            test_domains(p, default=UNSET)
        elif name == "seed":
            seed(p, help=field_help(name), default=UNSET, shown=shown)
        elif name == "steps":
            steps(p, default=UNSET, shown=shown)
        elif name == "device":
            device(p, per_worker=per_worker, default=UNSET)
        elif name == "output_dir":
            output(p, help=field_help(name), default=UNSET, shown=shown)
        else:
            _generic(p, name, f, shown, (aliases or {}).get(name, ()))


def _generic(p: Parser, name: str, f, shown: Any, aliases: Sequence[str]) -> None:
    """``--<field-name>`` typed by the field's annotation (booleans: ``--x`` / ``--no-x``)."""
    from fairdg.training.config import field_help

    flag = "--" + name.replace("_", "-")
    text = f"{field_help(name)} (default: {'none' if shown is None else shown})"
    if isinstance(shown, bool):
        p.add_argument(
            flag, *aliases, dest=name, action=argparse.BooleanOptionalAction,
            default=UNSET, help=text,
        )  # fmt: skip
        return
    choices = f.metadata.get("choices")
    kind = str(f.type)
    metavar = "N" if kind.startswith("int") else "X" if kind.startswith("float") else "VALUE"
    p.add_argument(
        flag, *aliases, dest=name, default=UNSET, choices=choices, help=text,
        metavar=None if choices else metavar,
    )  # fmt: skip


def config_of(args: argparse.Namespace, base: RunConfig) -> RunConfig:
    """`base` with the config flags given in `args` (text typed by `build_config`)."""
    from fairdg.training.config import FIELDS, build_config

    values = {}
    for name in FIELDS:
        attribute, convert = _FORMS.get(name, (name, lambda v: v))
        if hasattr(args, attribute) and name != "quiet":
            values[name] = convert(getattr(args, attribute))
    if getattr(args, "quiet", False):
        values["quiet"] = True
    return build_config(values, base, what="flag")
