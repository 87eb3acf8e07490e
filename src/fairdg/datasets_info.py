"""`DatasetInfo`: what a registered dataset is, known without loading it.

Each dataset module declares one `DatasetInfo` per registry entry. Listings print it, sweeps
plan their hold-outs from its domain names, and a finished run checks its recorded
hyperparameters against its defaults, all without reading the data files.

This module is at the bottom floor (standard library only, no torch) so that what is known
about a dataset without loading it can be read without importing the data package;
``fairdg.data.info`` re-exports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

INPUT_KINDS = ("tabular", "image")
SOURCES = ("files", "bundled", "generated", "user file")
# Loader options that say where the data are or how they are held and decoded, not what they
# are: outside a run's identity.
LOCATION_OPTIONS = ("root", "download", "memory_limit_gb", "workers")


@dataclass(frozen=True)
class DatasetInfo:
    """Static description of one registered dataset.

    Parameters
    ----------
    input_kind : {"tabular", "image"}
        Whether samples are feature vectors or images.
    shape : str
        The input shape in words (it may depend on options).
    domains : tuple of str
        Domain names under the default options; empty when only the data tell.
    classes, groups : str
        The classes of the target and the sensitive groups, in words.
    source : {"files", "bundled", "generated", "user file"}
        Where the samples come from.
    default_steps : int
        Training steps of a run that sets none.
    default_hparams : mapping
        The dataset's hyperparameter defaults (they override the algorithms' defaults).
    domains_note : str
        How options change the domains, in words.
    folder : str
        Sub-folder of the data root that holds the files (source "files").
    files : tuple of str
        File names looked for in `folder`.
    bundled : str
        Who ships a copy of the data, if anyone.
    """

    input_kind: str
    shape: str
    domains: tuple[str, ...]
    classes: str
    groups: str
    source: str
    default_steps: int
    default_hparams: Mapping[str, Any] = field(default_factory=dict)
    domains_note: str = ""
    folder: str = ""
    files: tuple[str, ...] = ()
    bundled: str = ""

    def __post_init__(self) -> None:
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {self.input_kind!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        object.__setattr__(self, "domains", tuple(self.domains))
        object.__setattr__(self, "files", tuple(self.files))

    def domains_for(self, options: Mapping[str, Any]) -> tuple[str, ...] | None:
        """Domain names under loader `options`, when known without loading: the declared
        names if the options are only about where the data live, else None."""
        if not self.domains or set(options) - set(LOCATION_OPTIONS):
            return None
        return self.domains


def without_location(options: Mapping[str, Any]) -> dict[str, Any]:
    """Loader options without those that only say where the data are or how they are held
    (``root``, ``download``, ``memory_limit_gb``, ``workers``): what identifies the data."""
    return {k: v for k, v in options.items() if k not in LOCATION_OPTIONS}


__all__ = ["LOCATION_OPTIONS", "DatasetInfo", "without_location"]
