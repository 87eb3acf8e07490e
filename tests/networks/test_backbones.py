"""Backbones: torchvision's parameter counts and key layout, weight files, freezing."""

from __future__ import annotations

import logging

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from fairdg.cli import main
from fairdg.data.celeba_fixture import write_celeba_fixture
from fairdg.networks import NETWORK_HPARAMS, build_featurizer
from fairdg.networks import backbones as bb
from fairdg.networks.resnet import resnet18, resnet50
from fairdg.networks.vgg import vgg16, vgg19

# torchvision.models.<name>(weights=None): sum(p.numel() for p in parameters()), 1,000 classes
COUNTS = {
    resnet18: 11_689_512,
    resnet50: 25_557_032,
    vgg16: 138_357_544,
    vgg19: 143_667_240,
}


def _count(builder) -> int:
    with torch.device("meta"):  # shapes only: no memory, no initialisation cost
        model = builder()
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("builder", list(COUNTS), ids=lambda b: b.__name__)
def test_parameter_counts_match_torchvision(builder):
    assert _count(builder) == COUNTS[builder]


def test_resnet18_key_layout_is_torchvision():
    with torch.device("meta"):
        state = resnet18().state_dict()
    assert len(state) == 122  # 62 parameters + 60 batch-norm buffers in torchvision
    assert tuple(state["conv1.weight"].shape) == (64, 3, 7, 7)
    assert tuple(state["layer2.0.downsample.0.weight"].shape) == (128, 64, 1, 1)
    assert "layer4.1.bn2.num_batches_tracked" in state
    assert tuple(state["fc.weight"].shape) == (1000, 512)


def test_resnet50_and_vgg_key_layout():
    with torch.device("meta"):
        r50, v19 = resnet50().state_dict(), vgg19().state_dict()
    assert tuple(r50["layer1.0.conv3.weight"].shape) == (256, 64, 1, 1)
    assert tuple(r50["layer3.0.conv2.weight"].shape) == (256, 256, 3, 3)  # v1.5 stride here
    assert len(r50) == 320
    assert tuple(v19["features.34.weight"].shape) == (512, 512, 3, 3)
    assert tuple(v19["classifier.0.weight"].shape) == (4096, 25088)
    assert tuple(v19["classifier.6.weight"].shape) == (1000, 4096)
    assert len(v19) == 38


def _random_state(builder, seed: int) -> dict[str, torch.Tensor]:
    """A random state dict in the layout a torchvision checkpoint has (not from our modules'
    initialisation, so a load that silently kept our weights would be caught)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in builder().state_dict().items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(7)
        elif key.endswith("running_var"):
            state[key] = torch.rand(value.shape, generator=g) + 0.5
        else:
            state[key] = torch.randn(value.shape, generator=g) * 0.05
    return state


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_weights_file_loads_strict_and_reproduces_outputs(tmp_path, suffix):
    state = _random_state(resnet18, seed=1)
    path = tmp_path / f"resnet18{suffix}"
    if suffix == ".pth":
        torch.save(state, path)
    else:
        save_file(state, str(path))
    reference = resnet18()
    reference.load_state_dict(state, strict=True)
    reference.eval()
    featurizer = build_featurizer(
        (3, 32, 32),
        {**_defaults(), "backbone": "resnet18", "pretrained": str(path), "freeze": "none"},
    )
    featurizer.eval()
    x = torch.rand(2, 3, 32, 32)
    normalised = (x - torch.tensor(bb.IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(
        bb.IMAGENET_STD
    ).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = torch.flatten(reference.avgpool(_trunk(reference, normalised)), 1)
        torch.testing.assert_close(featurizer(x), expected)
        # and the full network with its head: our module + the file == torchvision's forward
        full = bb.build_backbone("resnet18", str(path)).eval()
        torch.testing.assert_close(full(normalised), reference(normalised))


def _trunk(m, x):
    x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    return m.layer4(m.layer3(m.layer2(m.layer1(x))))


def _defaults():
    return {name: hp.default for name, hp in NETWORK_HPARAMS.items()}


def test_wrong_layout_is_a_clear_error(tmp_path):
    state = _random_state(resnet18, seed=0)
    del state["fc.bias"]
    state["head.weight"] = torch.zeros(1)
    path = tmp_path / "bad.pth"
    torch.save({"state_dict": state}, path)
    with pytest.raises(ValueError, match=r"1 missing key\(s\) \['fc.bias'\].*head.weight"):
        bb.build_backbone("resnet18", str(path))


def test_random_weights_message_once(caplog, monkeypatch):
    monkeypatch.setattr(bb, "_warned_random", set())
    with caplog.at_level(logging.WARNING, logger="fairdg"):
        bb.build_backbone("resnet18")
        bb.build_backbone("resnet18")
    assert sum("random weights" in r.message for r in caplog.records) == 1


def test_freeze_modes():
    hp = {**_defaults(), "backbone": "resnet18"}
    bn = build_featurizer((3, 32, 32), {**hp, "freeze": "bn"}).train()
    assert all(not m.training for m in bn.modules() if isinstance(m, nn.BatchNorm2d))
    before = bn.net.bn1.running_mean.clone()
    bn(torch.rand(4, 3, 32, 32))
    assert torch.equal(bn.net.bn1.running_mean, before)
    frozen = build_featurizer((3, 32, 32), {**hp, "freeze": "all", "rep_layer": True}).train()
    trainable = [n for n, p in frozen.named_parameters() if p.requires_grad]
    assert trainable == ["project.0.weight", "project.0.bias"]
    assert frozen(torch.rand(2, 1, 32, 32)).shape == (2, hp["rep_dim"])  # grey -> 3 channels


def test_bad_backbone_options():
    hp = _defaults()
    with pytest.raises(ValueError, match="backbone"):
        build_featurizer((3, 8, 8), {**hp, "backbone": "resnet34"})
    with pytest.raises(ValueError, match="freeze"):
        build_featurizer((3, 8, 8), {**hp, "backbone": "resnet18", "freeze": "some"})
    with pytest.raises(ValueError, match="needs images"):
        build_featurizer((10,), {**hp, "backbone": "resnet18"})


@pytest.mark.slow
def test_cli_run_with_a_torchvision_weights_file(tmp_path, capsys):
    root = write_celeba_fixture(tmp_path / "celeba", n=60, size=(12, 14))
    weights = tmp_path / "resnet18.safetensors"
    save_file(_random_state(resnet18, seed=2), str(weights))
    argv = ["run", "--dataset", "celeba", "--data-option", f"root={root}", "--data-option",
            "image_size=16", "--algorithm", "erm", "--compare", "none", "--steps", "2",
            "--hparam", "backbone=resnet18", "--hparam", f"pretrained={weights}", "--hparam",
            "freeze=bn", "--hparam", "batch_size=8", "--output", str(tmp_path / "runs"),
            "--quiet"]  # fmt: skip
    assert main(argv) == 0
    assert "erm on celeba: 2 steps" in capsys.readouterr().out
