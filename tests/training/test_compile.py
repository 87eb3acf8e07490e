"""``--compile``: outside the run id, networks compiled in place, one clear line when the
compiler stack fails. torch.compile itself is replaced by a stand-in here (compiling for real
takes tens of seconds on CPU; benchmarks/engine.py --compile measures it)."""

from __future__ import annotations

import pytest
import torch

from fairdg.algorithms import build_algorithm
from fairdg.cli import build_parser, flags
from fairdg.training import RunConfig
from fairdg.training import compiled as compiled_module
from fairdg.training.compiled import CompileUnavailableError, check_compiler, compile_networks


def test_compile_stays_out_of_the_run_id():
    config = RunConfig(dataset="synthetic", steps=5)
    assert config.replace(compile=True).run_id() == config.run_id()
    assert "compile" not in config.hashed_dict()


def test_run_flag_reaches_the_config():
    args = build_parser("run").parse_args(["run", "--compile"])
    assert flags.config_of(args, RunConfig()).compile is True
    assert flags.config_of(build_parser("run").parse_args(["run"]), RunConfig()).compile is False


def test_networks_are_compiled_in_place_with_the_same_state_keys(monkeypatch):
    calls = []

    def fake_compile(fn, *args, **kwargs):
        calls.append(fn)
        return fn

    monkeypatch.setattr(torch, "compile", fake_compile)
    algorithm = build_algorithm("erm", (6,), 2, 1, {"batch_size": 8})
    keys = list(algorithm.state_dict())
    names = compile_networks(algorithm)
    assert names and all(dict(algorithm.named_children())[n] is not None for n in names)
    assert len(calls) == 1 + len(names)  # the probe, then one per network
    assert list(algorithm.state_dict()) == keys


def test_a_failing_compiler_is_one_line(monkeypatch):
    def broken(fn, *args, **kwargs):
        def call(*a, **k):
            raise RuntimeError("no working C++ compiler found\nlong explanation")

        return call

    monkeypatch.setattr(compiled_module.torch, "compile", broken)
    with pytest.raises(CompileUnavailableError) as caught:
        check_compiler()
    message = str(caught.value)
    assert "\n" not in message and "--compile" in message and "C++ compiler" in message
