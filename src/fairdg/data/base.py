"""The data model: a multi-domain dataset of (x, y, z) per domain, validated on construction.

Every dataset in fairdg is a `MultiDomainDataset`: a list of `Domain` objects, each with float
features ``x`` (or uint8 images, read as float in [0, 1] batch by batch: `fairdg.data.storage`),
an integer target ``y``, an integer sensitive attribute ``z`` and a name, plus
the input shape and the names of the classes and sensitive groups. Training reads it through
`MultiDomainDataset.split`, which fixes the train / validation / test rows of every domain from
a seed and standardises the columns listed in ``standardize`` with training statistics only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import torch

from fairdg.data.dependence import dependence_score
from fairdg.data.splits import stratified_split
from fairdg.data.storage import ImageRows


class Batch(NamedTuple):
    """One minibatch from one domain: features, target, sensitive attribute, domain index."""

    x: torch.Tensor
    y: torch.Tensor
    z: torch.Tensor
    d: torch.Tensor


def cat(batches: Sequence[Batch]) -> Batch:
    """The per-domain minibatches of one update pooled into one `Batch` (x, y, z, d each
    concatenated in domain order); a single batch is returned as it is, not copied."""
    if len(batches) == 1:
        return batches[0]
    return Batch(*(torch.cat(parts) for parts in zip(*batches, strict=True)))


@dataclass
class Domain:
    """The samples of one domain.

    ``test_mask`` (optional, bool) marks rows that a dataset defines as its test split (UCI
    Adult's ``adult.test``); the other rows are then split into train and validation only.
    ``train_mask`` (optional, bool) marks rows that always go to the training split (the few
    labelled target samples of few-shot adaptation); requires ``test_mask``.
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor
    z: torch.Tensor
    test_mask: torch.Tensor | None = None
    train_mask: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, index: torch.Tensor) -> Domain:
        """The rows `index`; uint8 images are not copied (an `ImageRows` view)."""
        x: torch.Tensor | ImageRows
        if isinstance(self.x, ImageRows):
            x = self.x.rows(index)
        elif self.x.dtype == torch.uint8:
            x = ImageRows(self.x, index)
        else:
            x = self.x[index]
        # an ImageRows stands in for a tensor (`__torch_function__`, `__getattr__`)
        return Domain(self.name, cast(torch.Tensor, x), self.y[index], self.z[index])

    def counts(self, num_classes: int, num_groups: int) -> torch.Tensor:
        """Table of sample counts, shape (num_classes, num_groups)."""
        flat = self.y * num_groups + self.z
        return torch.bincount(flat, minlength=num_classes * num_groups).view(
            num_classes, num_groups
        )


@dataclass
class Split:
    """The rows of every domain assigned to train / val / test, standardised.

    ``parts[domain_name][part]`` is a `Domain` holding those rows. For a held-out test domain,
    ``val`` is kept for oracle selection only and ``test`` holds all its other rows.
    """

    dataset: MultiDomainDataset
    parts: dict[str, dict[str, Domain]]
    train_domains: list[str]
    test_domains: list[str]
    mean: torch.Tensor | None = None
    std: torch.Tensor | None = None

    def train(self) -> list[Domain]:
        return [self.parts[name]["train"] for name in self.train_domains]


@dataclass
class MultiDomainDataset:
    """A dataset of several domains with a target and a sensitive attribute.

    Parameters
    ----------
    name
        Registry name of the dataset.
    domains
        The domains, in a fixed order (the domain index of a sample is its position here).
    input_shape
        ``(num_features,)`` for tabular data, ``(C, H, W)`` for images.
    class_names, group_names
        Names of the target classes and of the sensitive groups; ``y`` and ``z`` index them.
    sensitive_name
        What the sensitive attribute is ("sex", "background colour", ...).
    standardize
        Indices of feature columns to standardise with training-split statistics (tabular).
    feature_names
        Optional names of the feature columns.
    meta
        Free-form description (source, licence, options) shown by ``fairdg datasets --show``.
    default_steps
        Training steps of a run on this dataset unless the user says otherwise.
    default_hparams
        Hyperparameter values suited to this dataset (network sizes, learning rate), applied
        after the algorithm's defaults and before sampled or explicit values.
    preprocessing
        Tabular data from a table (``csv``): how raw columns became the features, plain JSON
        (`fairdg.data.tabular.fit_encoding`), stored with a trained model so that new rows are
        encoded alike (``fairdg predict``).
    """

    name: str
    domains: list[Domain]
    input_shape: tuple[int, ...]
    class_names: list[str]
    group_names: list[str]
    sensitive_name: str = "z"
    standardize: Sequence[int] | None = None
    feature_names: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    default_steps: int = 2000
    default_hparams: dict[str, Any] = field(default_factory=dict)
    preprocessing: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.input_shape = tuple(int(s) for s in self.input_shape)
        self._validate()

    # -- validation ----------------------------------------------------------------------------
    def _validate(self) -> None:
        if not self.domains:
            raise ValueError(f"dataset {self.name!r} has no domains")
        names = [d.name for d in self.domains]
        if len(set(names)) != len(names):
            raise ValueError(f"dataset {self.name!r}: duplicate domain names {names}")
        for domain in self.domains:
            self._validate_domain(domain)

    def _validate_domain(self, d: Domain) -> None:
        where = f"dataset {self.name!r}, domain {d.name!r}"
        n = d.x.shape[0]
        if d.y.shape != (n,) or d.z.shape != (n,):
            raise ValueError(
                f"{where}: lengths disagree: x has {n} rows, y has shape {tuple(d.y.shape)}, "
                f"z has shape {tuple(d.z.shape)}; each must be one value per row"
            )
        if n == 0:
            raise ValueError(f"{where}: the domain is empty")
        if tuple(d.x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"{where}: x has sample shape {tuple(d.x.shape[1:])}, expected {self.input_shape}"
            )
        if d.x.dtype == torch.uint8 and len(self.input_shape) == 3:
            pass  # image pixels (0-255), read as float in [0, 1] batch by batch; always finite
        elif not torch.is_floating_point(d.x):
            raise TypeError(f"{where}: x must be float (or uint8 images), got {d.x.dtype}")
        elif (bad := ~torch.isfinite(d.x)).any():
            rows = bad.reshape(n, -1).any(dim=1).nonzero().flatten()
            raise ValueError(
                f"{where}: x holds NaN or inf in {len(rows)} row(s) (first: {rows[:5].tolist()}); "
                "impute or drop those rows before building the dataset"
            )
        for label, values, names in (("y", d.y, self.class_names), ("z", d.z, self.group_names)):
            if values.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
                raise TypeError(f"{where}: {label} must be an integer tensor, got {values.dtype}")
            low, high = int(values.min()), int(values.max())
            if low < 0 or high >= len(names):
                raise ValueError(
                    f"{where}: {label} values must lie in [0, {len(names) - 1}] "
                    f"({len(names)} names: {names}), got range [{low}, {high}]"
                )
        d.y, d.z = d.y.long(), d.z.long()
        present = torch.unique(d.z).tolist()
        if len(present) < 2:
            missing = [g for i, g in enumerate(self.group_names) if i not in present]
            raise ValueError(
                f"{where}: only sensitive group {self.group_names[present[0]]!r} is present; "
                f"every domain needs at least two groups (missing: {missing}). "
                "Merge this domain with another or drop it"
            )
        if d.test_mask is not None and d.test_mask.shape != (n,):
            raise ValueError(f"{where}: test_mask must have one value per row")
        if d.train_mask is not None:
            if d.test_mask is None or d.train_mask.shape != (n,):
                raise ValueError(f"{where}: train_mask needs a test_mask and one value per row")
            if (d.train_mask & d.test_mask).any():
                raise ValueError(f"{where}: rows marked in both train_mask and test_mask")

    # -- description ---------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def num_groups(self) -> int:
        return len(self.group_names)

    @property
    def domain_names(self) -> list[str]:
        return [d.name for d in self.domains]

    def domain(self, name: str) -> Domain:
        for d in self.domains:
            if d.name == name:
                return d
        raise ValueError(
            f"dataset {self.name!r} has no domain {name!r}; domains: {self.domain_names}"
        )

    def __len__(self) -> int:
        return sum(len(d) for d in self.domains)

    def summary(self) -> dict[str, Any]:
        """Counts of (y, z) per domain and the dependence score of each domain."""
        rows = {}
        for d in self.domains:
            counts = d.counts(self.num_classes, self.num_groups)
            rows[d.name] = {
                "n": len(d),
                "counts": counts.tolist(),
                "dependence": dependence_score(counts) if self.num_classes == 2 else None,
            }
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "classes": self.class_names,
            "groups": self.group_names,
            "sensitive": self.sensitive_name,
            "domains": rows,
            **({"meta": self.meta} if self.meta else {}),
        }

    # -- splitting -----------------------------------------------------------------------------
    def _check_parts(self, parts: dict[str, dict[str, Domain]], train_names: list[str]) -> None:
        """Refuse a split that leaves a training domain no row to train on (too few rows),
        before any training time is spent."""
        empty = [n for n in train_names if len(parts[n]["train"].y) == 0]
        if empty:
            counts = ", ".join(
                f"{n!r}: {sum(len(p.y) for p in parts[n].values())} rows" for n in empty
            )
            raise ValueError(
                f"dataset {self.name!r}: too few rows to split into train/val/test ({counts}); "
                "every domain needs at least ~10 rows: add rows, or merge or drop small domains"
            )

    def split(
        self,
        seed: int = 0,
        test_domains: Sequence[str] = (),
        val_fraction: float = 0.2,
        test_fraction: float = 0.2,
    ) -> Split:
        """Assign each domain's rows to train / val / test, stratified by (y, z).

        Rows marked by a domain's ``test_mask`` form its test split; the rest is split into
        train and val with `val_fraction`. Domains without a mask are split three ways. A
        held-out test domain keeps its val rows for oracle selection and all other rows as test.
        Columns in ``standardize`` are standardised with the mean and standard deviation of the
        pooled training rows of the training domains.
        """
        unknown = [t for t in test_domains if t not in self.domain_names]
        if unknown:
            raise ValueError(
                f"unknown test domain(s) {unknown} for dataset {self.name!r}; "
                f"domains: {self.domain_names}"
            )
        test_set = set(test_domains)
        if len(test_set) == len(self.domains):
            raise ValueError(
                f"all domains of {self.name!r} are test domains; leave at least one to train on"
            )
        parts: dict[str, dict[str, Domain]] = {}
        for index, d in enumerate(self.domains):
            strata = d.y * self.num_groups + d.z
            generator = torch.Generator().manual_seed(seed * 1_000_003 + index)
            if d.test_mask is not None:
                fixed = d.test_mask if d.train_mask is None else d.test_mask | d.train_mask
                rest = (~fixed).nonzero().flatten()
                train_i, held = stratified_split(strata[rest], [val_fraction], generator)
                idx = {"train": rest[train_i], "val": rest[held[0]]}
                if d.train_mask is not None:
                    always = d.train_mask.nonzero().flatten()
                    idx["train"] = torch.sort(torch.cat([idx["train"], always])).values
                idx["test"] = d.test_mask.nonzero().flatten()
            else:
                train_i, (val_i, test_i) = stratified_split(
                    strata, [val_fraction, test_fraction], generator
                )
                idx = {"train": train_i, "val": val_i, "test": test_i}
            if d.name in test_set:
                idx["test"] = torch.sort(torch.cat([idx.pop("train"), idx["test"]])).values
            parts[d.name] = {part: d.subset(i) for part, i in idx.items()}
        train_names = [n for n in self.domain_names if n not in test_set]
        self._check_parts(parts, train_names)
        mean = std = None
        if self.standardize is not None and len(self.standardize):
            cols = torch.as_tensor(list(self.standardize), dtype=torch.long)
            pooled = torch.cat([parts[n]["train"].x[:, cols] for n in train_names])
            mean, std = pooled.mean(0), pooled.std(0)
            std = torch.where(std > 1e-12, std, torch.ones_like(std))
            for domain_parts in parts.values():
                for part in domain_parts.values():
                    x = part.x.clone()
                    x[:, cols] = (x[:, cols] - mean) / std
                    part.x = x
        return Split(
            self, parts, train_names, [n for n in self.domain_names if n in test_set], mean, std
        )
