"""Experiment tracking (`fairdg.tracking`): TensorBoard's and MLflow's own readers see every
evaluation and the final record of a run, a resumed run included; without the extra, one line
says how to install it."""

import importlib.util
import json

import pytest

from fairdg import tracking
from fairdg.cli import main
from fairdg.training import RunConfig, train
from fairdg.training import loop as loop_module


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


def _history(result):
    lines = (result.run_dir / "results.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _kill_after_evaluation(monkeypatch, at_step):
    """Kill the run after the tracker received the evaluation of `at_step`, before that
    evaluation's checkpoint: the resumed run evaluates that step again."""
    original = loop_module.save_state

    def save(path, algorithm, sampler, step, *rest):
        if step == at_step:
            raise KeyboardInterrupt
        return original(path, algorithm, sampler, step, *rest)

    monkeypatch.setattr(loop_module, "save_state", save)
    return original


def test_tracker_is_not_hashed_and_checked():
    assert RunConfig(tracker="mlflow").run_id() == RunConfig().run_id()
    with pytest.raises(ValueError, match="tracker must be one of tensorboard, mlflow"):
        RunConfig(tracker="wandb")


def test_scalars_flatten_evaluation_with_degenerate_flag():
    record = {
        "step": 5,
        "stats": {"loss": 0.5},
        "metrics": {
            "val": {"accuracy": 0.8, "positive_rate": 1.0, "degenerate": "constant", "n": 10},
            "test": {"accuracy": 0.7, "positive_rate": 0.4, "undefined": {"dp_ratio": "why"}},
        },
    }
    assert tracking.scalars(record) == {
        "train.loss": 0.5,
        "val.accuracy": 0.8,
        "val.positive_rate": 1.0,
        "val.n": 10.0,
        "val.degenerate": 1.0,
        "test.accuracy": 0.7,
        "test.positive_rate": 0.4,
        "test.degenerate": 0.0,
    }


def test_missing_extra_is_one_line_with_install_command(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a)
    )
    assert main(["run", "--tracker", "mlflow", "--steps", "1"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "--tracker mlflow" in error[0]
    assert "pip install 'fairdg[tracking]'" in error[0]
    with pytest.raises(tracking.TrackerUnavailableError, match=r"fairdg\[tracking\]"):
        tracking.start(RunConfig(tracker="mlflow"))


def _tensorboard_scalars(logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    return events


@pytest.mark.slow  # two trainings of the tiny model and the tracker's own imports
def test_tensorboard_receives_every_evaluation_once_after_resume(
    tmp_path, tiny_tabular, monkeypatch
):
    pytest.importorskip("tensorboard", reason="needs the extra fairdg[tracking]")
    config = _config(tmp_path, tracker="tensorboard")
    original = _kill_after_evaluation(monkeypatch, at_step=15)
    with pytest.raises(KeyboardInterrupt):
        train(config, dataset=tiny_tabular)
    monkeypatch.setattr(loop_module, "save_state", original)
    result = train(config, dataset=tiny_tabular)

    events = _tensorboard_scalars(tmp_path / "runs" / "tensorboard" / config.run_id())
    accuracy = events.Scalars("val/accuracy")
    history = _history(result)
    assert [e.step for e in accuracy] == [h["step"] for h in history] == [5, 10, 15, 20]
    for event, line in zip(accuracy, history, strict=True):
        assert event.value == pytest.approx(line["metrics"]["val"]["accuracy"], rel=1e-6)
    assert {"train/loss", "test/positive_rate", "test/degenerate", "d2/test/accuracy"} <= set(
        events.Tags()["scalars"]
    )
    selected = events.Scalars("selected/test.accuracy")
    assert [e.step for e in selected] == [result.record["selected_step"]]
    assert selected[0].value == pytest.approx(result.record["metrics"]["test"]["accuracy"])
    text = events.Tensors("fairdg/record/text_summary")[0].tensor_proto.string_val[0].decode()
    assert json.loads(text.strip("`\n")) == result.record


@pytest.mark.slow  # two trainings of the tiny model and the tracker's own imports
def test_mlflow_file_store_round_trips_the_run(tmp_path, tiny_tabular, monkeypatch):
    mlflow = pytest.importorskip("mlflow", reason="needs the extra fairdg[tracking]")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # what the tracker sets, undone after
    config = _config(tmp_path, tracker="mlflow", hparams={"lr": 0.01})
    original = _kill_after_evaluation(monkeypatch, at_step=15)
    with pytest.raises(KeyboardInterrupt):
        train(config, dataset=tiny_tabular)
    monkeypatch.setattr(loop_module, "save_state", original)
    result = train(config, dataset=tiny_tabular)

    client = mlflow.MlflowClient((tmp_path / "runs" / "mlruns").resolve().as_uri())
    experiment = client.get_experiment_by_name("fairdg").experiment_id
    runs = client.search_runs([experiment], f"tags.`fairdg.run_id` = '{config.run_id()}'")
    assert len(runs) == 1  # the resumed fairdg run continued its MLflow run
    run = runs[0]
    assert run.info.status == "FINISHED"
    by_step = {m.step: m.value for m in client.get_metric_history(run.info.run_id, "val.accuracy")}
    history = _history(result)
    assert by_step == pytest.approx({h["step"]: h["metrics"]["val"]["accuracy"] for h in history})
    test = result.record["metrics"]["test"]
    assert run.data.metrics["selected.test.accuracy"] == pytest.approx(test["accuracy"])
    assert run.data.metrics["selected.test.positive_rate"] == pytest.approx(test["positive_rate"])
    assert run.data.params["hparams.lr"] == "0.01" and run.data.params["algorithm"] == "erm"
    record = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/record.json")
    assert record == result.record


def test_failing_tracker_warns_once_and_training_goes_on(
    tmp_path, tiny_tabular, monkeypatch, caplog
):
    calls = []

    class Broken(tracking.Tracker):
        name = "broken"

        def _evaluation(self, record):
            calls.append(record["step"])
            raise OSError("disk full")

    monkeypatch.setattr(tracking, "start", lambda config, resumed_at=0: Broken())
    result = train(_config(tmp_path), dataset=tiny_tabular)
    warnings = [r.getMessage() for r in caplog.records if "tracker broken" in r.getMessage()]
    assert calls == [5] and len(warnings) == 1 and "disk full" in warnings[0]
    assert [h["step"] for h in _history(result)] == [5, 10, 15, 20]
