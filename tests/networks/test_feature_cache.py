"""Frozen-feature cache: computed once, equal to the backbone's features, used by training."""

from __future__ import annotations

import torch

from fairdg.networks import NETWORK_HPARAMS
from fairdg.networks.backbones import BackboneFeaturizer, build_backbone
from fairdg.networks.feature_cache import frozen_features
from fairdg.training import RunConfig, train
from fairdg.training.loop import prepare


def _hparams(**kw):
    return {**{k: hp.default for k, hp in NETWORK_HPARAMS.items()}, **kw}


def test_features_equal_backbone_and_are_cached(tiny_image, tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRDG_CACHE", str(tmp_path))
    path = tmp_path / "w.pth"  # random weights, read back from one file by both sides
    torch.save(build_backbone("resnet18").state_dict(), path)
    hp = _hparams(backbone="resnet18", freeze="all", pretrained=str(path))
    first = frozen_features(tiny_image, hp, batch_size=16, quiet=True)
    assert first.input_shape == (512,)
    assert len(list((tmp_path / "features" / "tiny-image").glob("*.npy"))) == 3
    reference = BackboneFeaturizer("resnet18", str(path), "all").eval()
    with torch.no_grad():
        expected = reference(tiny_image.domains[1].x)
    torch.testing.assert_close(first.domains[1].x, expected, rtol=1e-4, atol=1e-5)
    stamps = {f: f.stat().st_mtime_ns for f in (tmp_path / "features").rglob("*.npy")}
    again = frozen_features(tiny_image, hp, batch_size=16, quiet=True)  # from the cache
    assert {f: f.stat().st_mtime_ns for f in (tmp_path / "features").rglob("*.npy")} == stamps
    assert torch.equal(again.domains[1].x, first.domains[1].x)
    assert not list((tmp_path / "features").rglob("*.part"))


def test_training_with_freeze_all_trains_only_the_head(tiny_image, tmp_path):
    config = RunConfig(
        dataset="tiny-image",
        algorithm="erm",
        hparams={"backbone": "resnet18", "freeze": "all", "rep_layer": True},
        steps=3,
        output_dir=str(tmp_path / "runs"),
        quiet=True,
    )
    dataset, split, _, algorithm = prepare(config, tiny_image)
    assert dataset.input_shape == (512,) and split.train()[0].x.shape[1:] == (512,)
    names = [n for n, _ in algorithm.named_parameters()]
    assert not any("net." in n for n in names)  # no backbone weights in the trained model
    result = train(config, tiny_image)
    assert result.record["steps"] == 3 and "accuracy" in result.record["metrics"]["test"]
