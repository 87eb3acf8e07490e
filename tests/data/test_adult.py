"""UCI Adult: bundled copy, reference files, preprocessing, paper's split sizes."""

import gzip
import hashlib

import pytest
import torch

from fairdg.data import load_dataset
from fairdg.data.adult import FILES, _bundled_paths


@pytest.fixture(scope="module")
def adult():
    return load_dataset("adult")


def test_bundled_copy_matches_original_checksums():
    paths = _bundled_paths()
    for spec in FILES:
        digest = hashlib.md5(gzip.decompress(paths[spec.name].read_bytes())).hexdigest()
        assert digest == spec.md5


def test_paper_split_sizes_and_labels(adult):
    split = adult.split(seed=0)
    sizes = {part: len(d) for part, d in split.parts["all"].items()}
    assert sizes == {"train": 26049, "val": 6512, "test": 16281}
    d = adult.domains[0]
    # 7,841 of adult.data and 3,846 of adult.test earn >50K (the trailing '.' is handled)
    assert int(d.y[~d.test_mask].sum()) == 7841 and int(d.y[d.test_mask].sum()) == 3846
    assert adult.group_names == ["female", "male"]
    assert not any(n.startswith("sex_") for n in adult.feature_names)
    train = split.parts["all"]["train"].x[:, adult.standardize]
    assert torch.allclose(train.mean(0), torch.zeros(len(adult.standardize)), atol=1e-4)


def test_options(adult):
    with_z = load_dataset("adult", include_sensitive=True)
    assert with_z.input_shape[0] == adult.input_shape[0] + 2
    dropped = load_dataset("adult", drop_missing=True)
    assert len(dropped) == 45222
    race = load_dataset("adult", sensitive="race", race_groups="all")
    assert race.num_groups == 5
    for domain in ("race", "age", "workclass"):
        ds = load_dataset("adult", domain=domain)
        assert len(ds.domains) >= 3 and len(ds) == 48842


def test_bad_options():
    with pytest.raises(ValueError, match="unknown option.*'color'.*valid options"):
        load_dataset("adult", color=1)
    with pytest.raises(ValueError, match="domain must be one of"):
        load_dataset("adult", domain="planet")
    with pytest.raises(ValueError, match="sensitive must be"):
        load_dataset("adult", sensitive="height")


def test_reads_reference_folder(reference_data):
    ds = load_dataset("adult", root=reference_data / "adult")
    assert len(ds) == 48842


def test_missing_folder_error_names_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="(?s)missing file.*adult.data.*download=True"):
        load_dataset("adult", root=tmp_path)
