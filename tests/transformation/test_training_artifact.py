"""T's trainer (source domains only, loss goes down) and the artifact (save, load, errors)."""

from __future__ import annotations

import pytest
import torch

from fairdg.checkpoint import save_checkpoint
from fairdg.data.synthetic import load_synthetic
from fairdg.transformation import (
    TransformationModel,
    check_compatible,
    default_config,
    evaluate_transformation,
    fit_transformation,
    load_transformation,
    save_transformation,
)
from fairdg.transformation.diagnostics import (
    augmentation_report,
    figure_grid,
    grid_figure,
    save_grid,
)

SMALL = {"hidden": 16, "semantic_dim": 8, "content_dim": 4, "batch_size": 16}
IMAGE_SMALL = {
    "width": 4,
    "semantic_channels": 8,
    "content_channels": 8,
    "mlp_dim": 8,
    "disc_width": 4,
    "batch_size": 16,
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """T fitted for 20 steps on small synthetic data with env2 held out, and its artifact."""
    dataset = load_synthetic(n_domains=3, n_per_domain=40, n_features=6)
    model = fit_transformation(
        dataset, default_config(dataset, **SMALL), test_domains=["env2"], steps=20, quiet=True
    )
    path = tmp_path_factory.mktemp("t") / "t.pt"
    save_transformation(model, path)
    return dataset, model, path


def test_training_lowers_reconstruction_error(tiny_tabular):
    config = default_config(tiny_tabular, **SMALL, lr=3e-3)
    split = tiny_tabular.split(0, ["d2"])
    x = torch.cat([d.x for d in split.train()])
    z = torch.cat([d.z for d in split.train()])
    torch.manual_seed(0)
    before = evaluate_transformation(TransformationModel(config), x, z)["recon_mae"]
    model = fit_transformation(tiny_tabular, config, test_domains=["d2"], steps=60, quiet=True)
    after = evaluate_transformation(model, x, z)["recon_mae"]
    assert after < 0.8 * before
    history = model.meta["history"]
    assert history[-1]["recon_x"] < history[0]["recon_x"]


def test_trained_on_source_training_rows_only(trained):
    dataset, model, _ = trained
    meta = model.meta
    assert meta["train_domains"] == ["env0", "env1"] and meta["test_domains"] == ["env2"]
    split = dataset.split(0, ["env2"])
    assert meta["n_train"] == sum(len(d) for d in split.train())
    assert 0 <= meta["val_metrics"]["sensitive_accuracy"] <= 1


def test_image_range_is_taken_from_the_training_rows(tiny_image):
    model = fit_transformation(
        tiny_image, default_config(tiny_image, **IMAGE_SMALL), steps=2, quiet=True
    )
    x = torch.cat([d.x for d in tiny_image.split(0).train()])
    assert model.config.x_low == pytest.approx(float(x.min()))
    assert model.config.x_high == pytest.approx(float(x.max()))


def test_round_trip_gives_the_same_augmentations(trained):
    _, model, path = trained
    loaded = load_transformation(path)
    assert loaded.config == model.config and loaded.meta["train_domains"] == ["env0", "env1"]
    x, z = torch.randn(5, 6), torch.tensor([0, 1, 0, 1, 1])
    a = model.augment(x, z, generator=torch.Generator().manual_seed(3))
    b = loaded.augment(x, z, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_loading_with_a_different_config_is_a_clear_error(trained):
    _, model, path = trained
    other = model.config.replace(hidden=32, use_sensitive=False)
    with pytest.raises(ValueError, match=r"different config \(.*hidden: expected 32, file has 16"):
        load_transformation(path, config=other)


def test_corrupt_or_foreign_files_are_clear_errors(trained, tmp_path):
    _, model, path = trained
    broken = tmp_path / "broken.pt"
    broken.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="corrupt or unreadable.*fairdg transform train"):
        load_transformation(broken)
    foreign = tmp_path / "run.pt"
    save_checkpoint(foreign, {"format": 1, "model": {}})
    with pytest.raises(ValueError, match="not a transformation model"):
        load_transformation(foreign)
    mismatched = tmp_path / "mismatched.pt"
    data = torch.load(path, weights_only=True)
    data["config"]["hidden"] = 64  # weights no longer fit the stored config
    save_checkpoint(mismatched, data)
    with pytest.raises(ValueError, match="do not fit the config"):
        load_transformation(mismatched)
    with pytest.raises(FileNotFoundError, match="fairdg transform train"):
        load_transformation(tmp_path / "missing.pt")


def test_compatibility_checks(trained):
    dataset, model, _ = trained
    check_compatible(model, dataset.name, dataset.input_shape, ["env2"])  # fine
    with pytest.raises(ValueError, match=r"trained on domain\(s\) \['env1'\].*leak"):
        check_compatible(model, dataset.name, dataset.input_shape, ["env1"])
    with pytest.raises(ValueError, match="trained on dataset 'synthetic'"):
        check_compatible(model, "adult", dataset.input_shape, [])
    with pytest.raises(ValueError, match="inputs of shape"):
        check_compatible(model, dataset.name, (7,), [])


def test_diagnostics_and_grid(tiny_image, tmp_path):
    model = fit_transformation(
        tiny_image, default_config(tiny_image, **IMAGE_SMALL), steps=2, quiet=True
    )
    d = tiny_image.domains[0]
    report = augmentation_report(
        model, (d.x, d.y, d.z), (d.x[:10], d.y[:10], d.z[:10]), 2, 2, probe_steps=3
    )
    for key in (
        "recon_mae",
        "label_kept",
        "label_agreement",
        "z_flip",
        "z_consistent",
        "probe_y_accuracy",
    ):
        assert 0 <= report[key] <= (1 if key != "recon_mae" else 10)
    grid = figure_grid(model, d.x[:4], d.z[:4])
    assert grid.shape == (3, 4 * 10 + 2, 5 * 10 + 2)  # 4 rows, 5 columns of 8 + 2 padding
    fig = grid_figure(model, d.x[:4], d.z[:4], group_names=["g0", "g1"])
    top = [ax for ax in fig.axes if ax.get_subplotspec().rowspan.start == 0]
    assert [ax.get_title() for ax in top] == ["x", "recon.", "x''₁", "x''₂", "x''₃"]  # headers
    left = [ax.get_ylabel() for ax in fig.axes if ax.get_subplotspec().colspan.start == 0]
    assert left == [["g0", "g1"][int(v)] for v in d.z[:4]]  # each row's group
    assert tuple(fig.get_size_inches())[0] == 3.4  # one paper column
    png = save_grid(model, d.x[:4], tmp_path / "grid.png", d.z[:4])
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
