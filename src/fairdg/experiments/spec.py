"""What a sweep is, without torch: its axes (`SweepSpec`) and its held-out domain sets.

A sweep is the product dataset x algorithm x hyperparameter configuration x trial x held-out
domain set, each element a `RunConfig` (DomainBed's protocol, METHODS.md "Protocol"):

- held-out domains: ``"all"`` holds every domain out in turn (the others are the sources);
  ``"none"`` trains on every domain (in-domain test); a name holds that domain out;
  ``"a+b"`` holds ``a`` and ``b`` out together. A dataset with one domain has nothing to hold
  out, so ``"all"`` means ``"none"`` there.
- hyperparameter configurations: ``hparams_seed`` 0 .. N-1, where 0 is the defaults and a seed
  > 0 draws every searchable knob from its declared space (`fairdg.hparams`).
- trials: ``seed`` 0 .. T-1 (the data split, initialisation and minibatch order).
- leave-one-domain-out validation (``lodo=True``): for every held-out target ``t`` and every
  source ``s``, one more run holding out ``{t, s}``; it trains on the remaining sources and
  is validated on ``s``. DomainBed's leave-one-domain-out selection reads these runs (see
  `fairdg.reporting.selection`). A pair run serves both of its domains as targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fairdg.training.config import SWEEP_BASE, RunConfig

ALL, NONE, JOINT = "all", "none", "+"


def split_joint(item: str, domains: Sequence[str]) -> list[str]:
    """The domain names in ``"a+b"``; a name that itself holds ``+`` (Adult's ``age45+``)
    stays whole: known names are matched first, longest first, and a part that matches no
    name is returned as it is (the caller reports it as unknown)."""

    def parts(rest: str) -> list[str] | None:
        for name in sorted(domains, key=len, reverse=True):
            if rest == name:
                return [name]
            if rest.startswith(name + JOINT):
                tail = parts(rest[len(name) + 1 :])
                if tail is not None:
                    return [name, *tail]
        return None

    return parts(item) or item.split(JOINT)


def held_out_sets(
    domains: Sequence[str], spec: Sequence[str] = (ALL,), lodo: bool = False
) -> list[tuple[str, ...]]:
    """The held-out domain sets of a sweep, in the dataset's domain order.

    Parameters
    ----------
    domains
        The dataset's domain names.
    spec
        ``["all"]``, ``["none"]``, or domain names (``"a+b"`` holds a and b out together).
    lodo
        Add the pair runs that leave-one-domain-out validation needs.
    """
    order = {name: i for i, name in enumerate(domains)}

    def canonical(names: Sequence[str]) -> tuple[str, ...]:
        unknown = [n for n in names if n not in order]
        if unknown:
            raise ValueError(
                f"test_domains: unknown domain(s) {unknown}; valid: "
                f"{list(domains)}, 'all' or 'none'"
            )
        return tuple(sorted(set(names), key=order.__getitem__))

    spec = list(spec) or [ALL]
    if ALL in spec or NONE in spec:
        if len(spec) > 1:
            raise ValueError(f"test_domains: 'all' and 'none' stand alone, got {spec}")
        single = ALL in spec and len(domains) > 1
        sets: list[tuple[str, ...]] = [(name,) for name in domains] if single else [()]
    else:
        sets = [canonical(split_joint(item, domains)) for item in spec]
    for held in sets:
        if held and len(held) == len(domains):
            raise ValueError(
                f"test_domains: {list(held)} holds out every domain; "
                "leave at least one to train on"
            )
    if lodo:
        sets += _lodo_pairs(domains, sets)
    return list(dict.fromkeys(sets))  # drop duplicates, keep order


def _lodo_pairs(domains: Sequence[str], sets: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Pair runs ``{t, s}`` for every single target ``t`` and every source ``s``."""
    targets = [held[0] for held in sets if len(held) == 1]
    if targets and len(domains) < 3:
        raise ValueError(
            f"lodo: leave-one-domain-out validation needs at least 3 domains (one "
            f"target, one validation domain, one to train on), got {list(domains)}"
        )
    order = {name: i for i, name in enumerate(domains)}
    pairs = []
    for target in targets:
        for source in domains:
            if source != target:
                pairs.append(tuple(sorted((target, source), key=order.__getitem__)))
    return pairs


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: what to run, how many configurations and trials, what to hold out.

    Every run is `base` varied with ``replace`` along the sweep's axes: dataset, algorithm,
    hyperparameter seed, trial seed and held-out domains. ``base.hparams`` are overrides
    shared by the algorithms, each applied to the algorithms that declare it.

    Parameters
    ----------
    datasets, algorithms
        Registry names (or names of in-memory datasets passed to `expand`).
    n_hparams
        Hyperparameter configurations per algorithm: seeds 0 (defaults) .. n_hparams - 1.
    n_trials
        Trials (seeds 0 .. n_trials - 1) per configuration.
    test_domains
        See `held_out_sets`.
    lodo
        Also run the pair hold-outs of leave-one-domain-out validation.
    base
        Every other field of the runs (loader options, overrides, steps, device, output ...).
    """

    datasets: tuple[str, ...]
    algorithms: tuple[str, ...] = ("erm",)
    n_hparams: int = 1
    n_trials: int = 1
    test_domains: tuple[str, ...] = (ALL,)
    lodo: bool = False
    base: RunConfig = SWEEP_BASE

    def __post_init__(self) -> None:
        for name in ("datasets", "algorithms", "test_domains"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        for name in ("datasets", "algorithms"):
            if not getattr(self, name):
                raise ValueError(f"{name}: give at least one name, got none")
        for name in ("n_hparams", "n_trials"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
