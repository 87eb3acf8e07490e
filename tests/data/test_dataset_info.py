"""`DatasetInfo`: typed, matches the loaded data, and run identity ignores where data live."""

import ast
import shutil
from pathlib import Path

import pytest

from fairdg import datasets_info, records
from fairdg.data import DATASETS, DatasetInfo, dataset_info, dataset_options, load_dataset
from fairdg.datasets_info import DATASET_INFO, Expression, loader_options
from fairdg.experiments.protocol import registered_domains
from fairdg.training import RunConfig, train

STORED = Path(__file__).resolve().parents[1] / "fixtures" / "stored-runs"


def test_every_dataset_has_a_typed_info():
    for name in DATASETS:
        info = dataset_info(name)
        assert isinstance(info, DatasetInfo), name
        assert info.default_steps > 0 and "batch_size" in info.default_hparams, name


def test_the_torch_free_table_is_the_registry():
    """Listings read `fairdg.datasets_info` without importing the loaders: its entries, loader
    names and option defaults (read from the loaders' source) are the registry's."""
    assert list(DATASET_INFO) == list(DATASETS)
    for name in DATASETS:
        loader = DATASETS.get(name)
        assert DATASET_INFO[name].loader == f"{loader.__module__.split('.')[-1]}:{loader.__name__}"
        assert DATASETS.entry(name).description == DATASET_INFO[name].description
        listed, loaded = loader_options(name), dataset_options(name)
        assert list(listed) == list(loaded), name
        assert all(v == loaded[k] for k, v in listed.items() if not isinstance(v, Expression))


def test_a_default_that_is_no_constant_is_listed_as_its_expression(tmp_path):
    """Loader defaults need not be literals: the torch-free listing shows the expression."""
    module = tmp_path / "loader.py"
    module.write_text("SIZE = 4\n\ndef load(root=None, size=SIZE, n=2 * SIZE, f=len):\n    pass\n")
    node = ast.parse(module.read_text()).body[1]
    values = [datasets_info._value(d, module) for d in node.args.defaults[1:]]
    assert values == [4, "2 * SIZE", "len"] and isinstance(values[1], Expression)
    assert repr(values[1]) == "2 * SIZE"  # how `fairdg datasets` prints it


@pytest.mark.parametrize("name", ["adult", "digits", "synthetic"])
def test_info_matches_the_loaded_dataset(name):
    info, dataset = dataset_info(name), load_dataset(name)
    assert tuple(dataset.domain_names) == info.domains
    assert dataset.default_steps == info.default_steps
    assert dataset.default_hparams == dict(info.default_hparams)
    assert info.input_kind == ("image" if len(dataset.input_shape) == 3 else "tabular")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mnist-inverted", "mnist-rotated", "ccmnist"])
def test_info_matches_the_reference_data(name, reference_data):
    info, dataset = dataset_info(name), load_dataset(name)
    assert tuple(dataset.domain_names) == info.domains
    assert dataset.default_steps == info.default_steps
    assert dataset.default_hparams == dict(info.default_hparams)


def test_sweeps_plan_domains_without_loading(monkeypatch):
    from fairdg.experiments import protocol

    def no_load(*args, **kwargs):
        raise AssertionError("loaded the data to learn its domain names")

    monkeypatch.setattr(protocol, "load_dataset", no_load)
    assert registered_domains("ccmnist", {"root": "/elsewhere"}) == ["red", "green", "blue"]
    with pytest.raises(AssertionError):  # other options may change the domains: load
        registered_domains("adult", {"domain": "race"})


def test_data_location_is_outside_the_run_id():
    base = RunConfig(dataset="ccmnist", data_options={"p": 0.2})
    moved = base.replace(data_options={"p": 0.2, "root": "/data", "download": True})
    assert moved.run_id() == base.run_id()
    assert base.replace(data_options={"p": 0.3}).run_id() != base.run_id()


def test_stored_run_keeps_its_id_and_is_reused_without_loading_data(tmp_path, monkeypatch):
    """A run folder written by fairdg before these changes (config.json + done.json)."""
    from fairdg.training import loop

    (stored,) = [p for p in STORED.iterdir() if p.is_dir()]
    saved = records.read_json(stored / "config.json")
    run_id = saved.pop("run_id")
    config = RunConfig.from_dict(saved).replace(output_dir=str(tmp_path))
    assert config.run_id() == run_id == stored.name
    assert records.read_json(stored / "done.json")["run_id"] == run_id

    shutil.copytree(stored, tmp_path / run_id)

    def no_load(*args, **kwargs):
        raise AssertionError("a finished run reloaded its data")

    monkeypatch.setattr(loop, "load_dataset", no_load)
    result = train(config)
    assert result.algorithm is None and result.record["run_id"] == run_id
