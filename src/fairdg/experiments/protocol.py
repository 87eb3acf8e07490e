"""The experimental protocol: `expand` turns a `SweepSpec` into its runs, checked against the
registries (what a sweep is, its axes and its held-out domain sets, is defined torch-free in
`fairdg.experiments.spec`, DomainBed's protocol, METHODS.md "Protocol")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from fairdg.algorithms import ALGORITHMS
from fairdg.data import DATASETS, dataset_info, load_dataset
from fairdg.experiments.spec import ALL, JOINT, NONE, SweepSpec, held_out_sets
from fairdg.hparams import check_overrides, declared_subset
from fairdg.records import canonical_json
from fairdg.training.config import RunConfig

__all__ = ["ALL", "JOINT", "NONE", "SweepSpec", "expand", "held_out_sets", "registered_domains"]

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


def hparams_for(algorithm: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides that `algorithm` declares (a sweep over several algorithms shares them)."""
    return declared_subset(ALGORITHMS.get(algorithm).declared_hparams(), overrides)


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
    shared = spec.base.hparams
    per_algorithm = {a: hparams_for(a, shared) for a in spec.algorithms}
    unused = sorted(set(shared) - {k for h in per_algorithm.values() for k in h})
    if unused:
        raise ValueError(
            f"hparams: {unused} is declared by none of the algorithms "
            f"{list(spec.algorithms)}; see `fairdg algorithms`"
        )
    for algorithm, overrides in per_algorithm.items():  # bad values fail before any run
        check_overrides(ALGORITHMS.get(algorithm).declared_hparams(), overrides)
    configs = []
    for dataset in spec.datasets:
        domains = domain_lookup(dataset, spec.base.data_options)
        for held_out in held_out_sets(domains, spec.test_domains, spec.lodo):
            for algorithm in spec.algorithms:
                for hparams_seed in range(spec.n_hparams):
                    for trial in range(spec.n_trials):
                        configs.append(
                            spec.base.replace(
                                dataset=dataset,
                                algorithm=algorithm,
                                hparams=per_algorithm[algorithm],
                                hparams_seed=hparams_seed,
                                test_domains=held_out,
                                seed=trial,
                            )
                        )
    return configs
