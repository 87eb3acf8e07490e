"""Every registered dataset loads through `load_dataset` from fake raw files, and splits."""

import math

import pytest
from data_fakes import (
    write_fake_celeba,
    write_fake_fairface,
    write_fake_mnist,
    write_fake_nysf,
    write_fake_svhn,
    write_fake_yfcc,
)

from fairdg.data import DATASETS, dataset_options, load_dataset


def _people(path):
    rows = ["x,colour,y,z"] + [f"{i},{'rgb'[i % 3]},{i % 2},{i // 2 % 2}" for i in range(40)]
    path.write_text("\n".join(rows) + "\n")
    return {"path": str(path), "target": "y", "sensitive": "z"}


FAKES = {
    "adult": lambda tmp: {},
    "mnist-inverted": lambda tmp: {"root": write_fake_mnist(tmp / "mnist", 100, 50)},
    "mnist-rotated": lambda tmp: {
        "root": write_fake_mnist(tmp / "mnist", 100, 50),
        "n_source": 50,
        "target_labeled_per_class": 2,
    },
    "ccmnist": lambda tmp: {"root": write_fake_mnist(tmp / "mnist", 100, 50)},
    "svhn": lambda tmp: {
        "root": write_fake_svhn(tmp / "svhn"),
        "mnist_root": str(write_fake_mnist(tmp / "mnist", 100, 50)),
        "target_labeled_per_class": 2,
    },
    "synthetic": lambda tmp: {"n_per_domain": 50},
    "digits": lambda tmp: {},
    "nysf": lambda tmp: {"root": write_fake_nysf(tmp / "2011.csv").parent},
    "fairface": lambda tmp: {"root": write_fake_fairface(tmp / "ff", 28, 14), "size": 8},
    "celeba": lambda tmp: {"root": write_fake_celeba(tmp / "celeba"), "size": 8},
    "yfcc": lambda tmp: {"root": write_fake_yfcc(tmp / "yfcc"), "size": 8},
    "csv": lambda tmp: _people(tmp / "people.csv"),
}


def test_every_dataset_has_a_fake():
    assert sorted(FAKES) == sorted(DATASETS.names())


@pytest.mark.parametrize("name", sorted(FAKES))
def test_loads_splits_and_summarises(name, tmp_path, unverified_mnist, unverified_svhn):
    options = FAKES[name](tmp_path)
    assert set(options) - {"root"} <= set(dataset_options(name))
    ds = load_dataset(name, **options)
    assert ds.name == name and len(ds.domains) >= 1 and ds.default_steps > 0
    summary = ds.summary()
    for row in summary["domains"].values():
        assert sum(map(sum, row["counts"])) == row["n"]
        if ds.num_classes == 2:
            assert (
                row["dependence"] is None
                or 0 <= row["dependence"] <= 1
                or math.isnan(row["dependence"])
            )
    split = ds.split(seed=0, test_domains=ds.domain_names[-1:] if len(ds.domains) > 1 else ())
    assert all(len(d) for d in split.train())
