"""Shapes and losses of every network of T, convolutional (8, 28, 64 pixels) and MLP."""

from __future__ import annotations

import math

import pytest
import torch

from fairdg.transformation import TransformationConfig, TransformationModel
from fairdg.transformation.objective import discriminator_loss, generator_loss

SMALL = {"width": 4, "semantic_channels": 8, "content_channels": 8, "mlp_dim": 8, "disc_width": 4}
SHAPES = [(3, 8, 8), (3, 28, 28), (1, 64, 64), (6,), (51,)]


def make(shape, use_sensitive=True, **changes) -> TransformationModel:
    extra = {"x_low": 0.0, "x_high": 1.0} if len(shape) == 3 else {}
    torch.manual_seed(0)
    config = TransformationConfig(
        input_shape=shape, use_sensitive=use_sensitive, **{**SMALL, **extra, **changes}
    )
    return TransformationModel(config)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_factor_shapes(shape):
    model = make(shape)
    cfg = model.config
    x = torch.rand(3, *shape)
    m, s = model.encode(model.to_model(x))
    c, a = model.split(m)
    assert s.shape == (3, cfg.style_dim) and a.shape == (3, cfg.sensitive_dim)
    if cfg.family == "conv":
        factor = 2**cfg.downsamplings
        size = tuple(math.ceil(n / factor) for n in shape[1:])
        assert m.shape == (3, cfg.semantic_channels, *size)
        assert c.shape == (3, cfg.content_channels, *size)
    else:
        assert m.shape == (3, cfg.semantic_dim) and c.shape == (3, cfg.content_dim)
    assert model.merge(c, a).shape == m.shape
    assert model.decode(m, s).shape == x.shape
    assert model.sensitive_logits(a).shape == (3, cfg.num_groups)
    for outputs in (model.dis_outer(x), model.dis_inner(m)):
        assert outputs and all(o.shape[0] == 3 for o in outputs)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("use_sensitive", [True, False])
def test_augment_and_reconstruct_shapes(shape, use_sensitive):
    model = make(shape, use_sensitive)
    x, z = torch.rand(4, *shape), torch.tensor([0, 1, 1, 0])
    x_new, z_new = model.augment(x, z)
    assert x_new.shape == x.shape and z_new.shape == (4,)
    assert model.reconstruct(x).shape == x.shape
    if not use_sensitive:  # no sensitive factor: the label is kept
        assert torch.equal(z_new, z)
    if len(shape) == 3:  # decoder output (tanh) mapped back into the data range
        assert x_new.min() >= 0.0 and x_new.max() <= 1.0


def test_image_discriminator_scales_follow_image_size():
    assert make((3, 8, 8)).config.discriminator_scales == 2
    assert make((3, 28, 28)).config.discriminator_scales == 3
    assert len(make((3, 28, 28)).dis_outer(torch.rand(2, 3, 28, 28))) == 3


@pytest.mark.parametrize("shape", [(3, 8, 8), (6,)], ids=str)
@pytest.mark.parametrize("use_sensitive", [True, False])
def test_losses_are_finite_and_reach_their_networks(shape, use_sensitive):
    model = make(shape, use_sensitive)
    x, z = torch.rand(6, *shape), torch.tensor([0, 1] * 3)
    loss, stats = generator_loss(model, x, z)
    expected = {"recon_x", "recon_m", "recon_s", "gan_x", "prior", "gen_loss"}
    if use_sensitive:
        expected |= {"recon_c", "recon_a", "sensitive", "sensitive_cycle", "gan_m"}
    assert set(stats) == expected
    assert all(math.isfinite(v) and v >= 0 for v in stats.values())
    loss.backward()
    generator = dict(model.named_parameters())
    for name in ("enc_semantic", "enc_style", "dec_outer") + (
        ("enc_content", "enc_sensitive", "dec_inner", "h") if use_sensitive else ()
    ):
        grads = [p.grad for n, p in generator.items() if n.startswith(name + ".")]
        assert grads and all(g is not None for g in grads), name
    model.zero_grad(set_to_none=True)
    d_loss, d_stats = discriminator_loss(model, x, z)
    d_loss.backward()
    assert set(d_stats) == ({"dis_x", "dis_m"} if use_sensitive else {"dis_x"})
    assert all(p.grad is not None for p in model.discriminator_parameters())
    assert all(p.grad is None for p in model.generator_parameters())  # fakes are detached


def test_weights_scale_their_terms():
    model = make((6,))
    x, z = torch.rand(6, 6), torch.tensor([0, 1] * 3)
    torch.manual_seed(1)
    total, stats = generator_loss(model, x, z)
    weights = model.config.weights
    expected = sum(weights[k] * v for k, v in stats.items() if k != "gen_loss")
    assert total.item() == pytest.approx(expected, rel=1e-5)
    assert weights["recon_x"] == 10 and weights["recon_m"] == 5  # the authors' defaults


def test_scaling_round_trip_and_config_errors():
    model = make((3, 8, 8), x_low=-2.0, x_high=2.0)
    x = torch.rand(2, 3, 8, 8) * 4 - 2
    assert torch.allclose(model.to_data(model.to_model(x)), x, atol=1e-6)
    assert model.to_model(torch.tensor(2.0)) == 1.0
    with pytest.raises(ValueError, match="input_shape"):
        TransformationConfig(input_shape=(3, 8))
    with pytest.raises(ValueError, match="unknown loss weight"):
        TransformationConfig(input_shape=(4,), weights={"recon_y": 1.0})
    with pytest.raises(ValueError, match="width must be a positive integer"):
        TransformationConfig(input_shape=(4,), width=0)
    with pytest.raises(ValueError, match="x_low < x_high"):
        TransformationConfig(input_shape=(3, 8, 8), x_low=1.0, x_high=0.0)
    with pytest.raises(ValueError, match="no sensitive factor"):
        make((6,), use_sensitive=False).predict_sensitive(torch.rand(2, 6))
