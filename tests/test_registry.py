import pytest

from fairdg.registry import Registry, UnknownNameError


def test_register_get_and_suggest():
    reg = Registry("thing")
    reg.register("alpha", 1, "first")
    reg.register("beta", 2, "second", paper="X 2020")
    assert reg.get("alpha") == 1
    assert reg.get("BETA") == 2
    assert reg.names() == ["alpha", "beta"]
    assert "alpha" in reg and "gamma" not in reg
    with pytest.raises(UnknownNameError, match=r"Did you mean 'alpha'\?.*Valid things: alpha"):
        reg.get("alpah")


def test_duplicate_and_uppercase_names_rejected():
    reg = Registry("thing")
    reg.register("a", 1, "x")
    with pytest.raises(ValueError, match="duplicate"):
        reg.register("a", 2, "y")
    with pytest.raises(ValueError, match="lowercase"):
        reg.register("B", 2, "y")


def test_project_registries_are_consistent():
    from fairdg.algorithms import ALGORITHMS, Algorithm
    from fairdg.data import DATASETS

    assert "erm" in ALGORITHMS and "adult" in DATASETS
    for entry in ALGORITHMS.entries():
        assert issubclass(entry.obj, Algorithm), entry.name
        assert entry.description
