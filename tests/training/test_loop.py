"""The training engine: records, determinism, best-checkpoint selection, resume, errors."""

import json

import pytest
import torch

from fairdg.algorithms.erm import ERM
from fairdg.checkpoint import CorruptCheckpointError, load_checkpoint, save_checkpoint
from fairdg.training import RunConfig, train


def _config(tmp_path, **kw):
    base = dict(
        dataset="tiny",
        algorithm="erm",
        steps=20,
        eval_every=5,
        quiet=True,
        output_dir=str(tmp_path / "runs"),
        test_domains=("d2",),
    )
    return RunConfig(**{**base, **kw})


def _params(algorithm):
    return torch.cat([p.detach().flatten() for p in algorithm.parameters()])


def test_run_writes_records_and_summary(tmp_path, tiny_tabular):
    result = train(_config(tmp_path), dataset=tiny_tabular)
    run = result.run_dir
    assert (run / "config.json").exists() and (run / "env.json").exists()
    assert (run / "done.json").exists() and (run / "model.pt").exists()
    assert not (run / "checkpoint.pt").exists()
    lines = (run / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [5, 10, 15, 20]
    record = result.record
    for key in (
        "dataset",
        "algorithm",
        "hparams",
        "seed",
        "steps",
        "train_domains",
        "test_domains",
        "metrics",
        "wall_seconds",
        "fairdg_version",
    ):
        assert key in record
    assert record["train_domains"] == ["d0", "d1"] and record["test_domains"] == ["d2"]
    assert {"val", "test", "oracle", "d0/val", "d2/test"} <= set(record["metrics"])
    assert 0 <= record["metrics"]["test"]["accuracy"] <= 1
    assert record["hparams"]["batch_size"] == 8  # the dataset's default applies
    summary = (tmp_path / "runs" / "results.jsonl").read_text().splitlines()
    assert len(summary) == 1 and json.loads(summary[0])["run_id"] == record["run_id"]


def test_selected_step_is_best_validation(tmp_path, tiny_tabular):
    result = train(_config(tmp_path), dataset=tiny_tabular)
    accs = {h["step"]: h["metrics"]["val"]["accuracy"] for h in result.history}
    assert result.record["selected_step"] in accs
    assert accs[result.record["selected_step"]] == max(accs.values())


def test_same_seed_same_numbers(tmp_path, tiny_tabular):
    a = train(_config(tmp_path / "a"), dataset=tiny_tabular)
    b = train(_config(tmp_path / "b"), dataset=tiny_tabular)
    c = train(_config(tmp_path / "c", seed=1), dataset=tiny_tabular)
    assert torch.equal(_params(a.algorithm), _params(b.algorithm))
    assert not torch.equal(_params(a.algorithm), _params(c.algorithm))


@pytest.mark.kill_resume
def test_resumed_run_equals_straight_run(tmp_path, tiny_image, monkeypatch):
    straight = train(_config(tmp_path / "s"), dataset=tiny_image)
    original = ERM.update

    calls = []

    def crash_at_12(self, batches):
        calls.append(1)
        if len(calls) == 13:  # the update of step 12 (counted from 0)
            raise KeyboardInterrupt
        return original(self, batches)

    monkeypatch.setattr(ERM, "update", crash_at_12)
    config = _config(tmp_path / "r")
    with pytest.raises(KeyboardInterrupt):
        train(config, dataset=tiny_image)
    run_dir = tmp_path / "r" / "runs" / config.run_id()
    assert (run_dir / "checkpoint.pt").exists() and not (run_dir / "done.json").exists()
    monkeypatch.setattr(ERM, "update", original)
    resumed = train(config, dataset=tiny_image)
    assert torch.equal(_params(straight.algorithm), _params(resumed.algorithm))
    steps = [h["step"] for h in resumed.history]
    assert steps == [5, 10, 15, 20]
    assert resumed.record["metrics"] == straight.record["metrics"]


def test_done_run_is_skipped_unless_forced(tmp_path, tiny_tabular):
    config = _config(tmp_path)
    first = train(config, dataset=tiny_tabular)
    again = train(config, dataset=tiny_tabular)
    assert again.algorithm is None and again.record == first.record
    forced = train(config, dataset=tiny_tabular, force=True)
    assert forced.algorithm is not None


def test_done_run_with_changed_defaults_is_not_reused(tmp_path, tiny_tabular, monkeypatch):
    """The run id hashes the explicit overrides only: when a default changes between versions
    the cached run is refused with a clear error instead of being reused silently."""
    from fairdg.hparams import Fixed, HParam

    config = _config(tmp_path)
    train(config, dataset=tiny_tabular)
    changed = {**ERM.declared_hparams(), "lr": HParam(0.123, Fixed(), "learning rate")}
    monkeypatch.setattr(ERM, "declared_hparams", classmethod(lambda cls: changed))
    with pytest.raises(ValueError, match=r"other hyperparameter defaults.*lr: .* then, 0.123 now"):
        train(config, dataset=tiny_tabular)
    assert train(config, dataset=tiny_tabular, force=True).record["hparams"]["lr"] == 0.123
    # a knob added since (absent from the record) does not count as a change
    added = {**changed, "new_knob": HParam(1, Fixed(), "added later")}
    monkeypatch.setattr(ERM, "declared_hparams", classmethod(lambda cls: added))
    assert train(config, dataset=tiny_tabular).algorithm is None


def test_corrupt_checkpoint_gives_clear_error(tmp_path, tiny_tabular):
    config = _config(tmp_path)
    run_dir = tmp_path / "runs" / config.run_id()
    run_dir.mkdir(parents=True)
    (run_dir / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptCheckpointError, match="corrupt.*delete it"):
        train(config, dataset=tiny_tabular)


def test_checkpoint_roundtrip_and_foreign_file(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"format": 1, "w": torch.ones(2)})
    assert torch.equal(load_checkpoint(path)["w"], torch.ones(2))
    torch.save({"w": 1}, tmp_path / "foreign.pt")
    with pytest.raises(CorruptCheckpointError, match="not a fairdg checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")


def test_config_validation_and_hash():
    a = RunConfig(dataset="adult", hparams={"lr": 1e-3})
    assert (
        a.run_id()
        == RunConfig(
            dataset="adult", hparams={"lr": 1e-3}, device="cuda", output_dir="elsewhere"
        ).run_id()
    )
    assert a.run_id() != RunConfig(dataset="adult", hparams={"lr": 2e-3}).run_id()
    assert RunConfig.from_dict(a.to_dict()) == a
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        RunConfig(steps=0)
    with pytest.raises(ValueError, match="selection must look like"):
        RunConfig(selection="accuracy")
    with pytest.raises(ValueError, match="unknown RunConfig field"):
        RunConfig.from_dict({"datset": "adult"})


def test_unknown_hyperparameter_and_algorithm(tmp_path, tiny_tabular):
    with pytest.raises(ValueError, match="unknown hyperparameter.*'lrr'.*valid keys"):
        train(_config(tmp_path, hparams={"lrr": 1}), dataset=tiny_tabular)
    with pytest.raises(ValueError, match="unknown algorithm 'ermm'.*Did you mean 'erm'"):
        train(_config(tmp_path, algorithm="ermm"), dataset=tiny_tabular)


@pytest.mark.kill_resume
def test_kill_between_summary_and_done_marker_finishes_once(tmp_path, tiny_tabular, monkeypatch):
    from fairdg import records
    from fairdg.training import loop

    config = _config(tmp_path)
    original = records.write_json

    def killed_at_done(path, obj):
        if str(path).endswith("done.json"):
            raise KeyboardInterrupt
        return original(path, obj)

    monkeypatch.setattr(loop.records, "write_json", killed_at_done)
    with pytest.raises(KeyboardInterrupt):
        train(config, dataset=tiny_tabular)
    monkeypatch.setattr(loop.records, "write_json", original)
    result = train(config, dataset=tiny_tabular)
    summary = (tmp_path / "runs" / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["run_id"] for line in summary] == [config.run_id()]
    assert [h["step"] for h in result.history] == [5, 10, 15, 20]
    assert not (result.run_dir / "checkpoint.pt").exists()
