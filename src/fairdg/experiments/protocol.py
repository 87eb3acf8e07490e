"""The experimental protocol: which runs a sweep consists of.

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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from fairdg.algorithms import ALGORITHMS
from fairdg.data import DATASETS, dataset_info, load_dataset
from fairdg.hparams import check_overrides, declared_subset
from fairdg.records import canonical_json
from fairdg.training.config import RunConfig

ALL, NONE, JOINT = "all", "none", "+"

DomainLookup = Callable[[str, Mapping[str, Any]], list[str]]


@lru_cache(maxsize=16)
def _registered_domains(dataset: str, options_json: str) -> tuple[str, ...]:
    import json

    return tuple(load_dataset(dataset, **json.loads(options_json)).domain_names)


def registered_domains(dataset: str, data_options: Mapping[str, Any]) -> list[str]:
    """Domain names of a registered dataset: from its `DatasetInfo` when the options leave
    them as declared, else by loading it (once per process and options)."""
    known = dataset_info(dataset).domains_for(data_options)
    if known is not None:
        return list(known)
    return list(_registered_domains(dataset, canonical_json(dict(data_options))))


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
        sets = [(name,) for name in domains] if single else [()]
    else:
        sets = [canonical(item.split(JOINT)) for item in spec]
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


def hparams_for(algorithm: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides that `algorithm` declares (a sweep over several algorithms shares them)."""
    return declared_subset(ALGORITHMS.get(algorithm).declared_hparams(), overrides)


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: what to run, how many configurations and trials, what to hold out.

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
    data_options, hparams
        Loader options shared by every dataset; hyperparameter overrides, each applied to the
        algorithms that declare it.
    steps, eval_every, device, output_dir, quiet, save_model
        Passed to every `RunConfig`.
    """

    datasets: tuple[str, ...]
    algorithms: tuple[str, ...] = ("erm",)
    n_hparams: int = 1
    n_trials: int = 1
    test_domains: tuple[str, ...] = (ALL,)
    lodo: bool = False
    data_options: dict[str, Any] = field(default_factory=dict)
    hparams: dict[str, Any] = field(default_factory=dict)
    steps: int | None = None
    eval_every: int | None = None
    device: str = "cpu"
    output_dir: str = "fairdg-runs/sweep"
    quiet: bool = True
    save_model: bool = False

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


def expand(spec: SweepSpec, domain_lookup: DomainLookup | None = None) -> list[RunConfig]:
    """Every run of a sweep, as `RunConfig` objects in a stable order.

    Parameters
    ----------
    spec
        The sweep.
    domain_lookup
        ``(dataset, data_options) -> domain names``; default: load the registered dataset.
        Pass one to sweep over in-memory datasets.

    Raises
    ------
    ValueError
        For an unknown dataset, algorithm or domain, a hyperparameter override that none
        of the algorithms declares, or one outside the knob's declared valid values.
    """
    if domain_lookup is None:
        for name in spec.datasets:
            DATASETS.entry(name)
        domain_lookup = registered_domains
    for name in spec.algorithms:
        ALGORITHMS.entry(name)
    per_algorithm = {a: hparams_for(a, spec.hparams) for a in spec.algorithms}
    unused = sorted(set(spec.hparams) - {k for h in per_algorithm.values() for k in h})
    if unused:
        raise ValueError(
            f"hparams: {unused} is declared by none of the algorithms "
            f"{list(spec.algorithms)}; see `fairdg algorithms`"
        )
    for algorithm, overrides in per_algorithm.items():  # bad values fail before any run
        check_overrides(ALGORITHMS.get(algorithm).declared_hparams(), overrides)
    configs = []
    for dataset in spec.datasets:
        domains = domain_lookup(dataset, spec.data_options)
        for held_out in held_out_sets(domains, spec.test_domains, spec.lodo):
            for algorithm in spec.algorithms:
                for hparams_seed in range(spec.n_hparams):
                    for trial in range(spec.n_trials):
                        configs.append(
                            RunConfig(
                                dataset=dataset,
                                data_options=spec.data_options,
                                algorithm=algorithm,
                                hparams=per_algorithm[algorithm],
                                hparams_seed=hparams_seed,
                                test_domains=held_out,
                                seed=trial,
                                steps=spec.steps,
                                eval_every=spec.eval_every,
                                device=spec.device,
                                output_dir=spec.output_dir,
                                quiet=spec.quiet,
                                save_model=spec.save_model,
                            )
                        )
    return configs
