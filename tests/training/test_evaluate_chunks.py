"""Inference for evaluation: chunks from a per-layer memory budget, inference mode."""

import torch

from fairdg.algorithms.erm import ERM
from fairdg.training.evaluate import chunk_size, predict_proba


def _cnn():
    torch.manual_seed(0)
    hparams = {"cnn_width": 8, "rep_dim": 4}
    return ERM((2, 10, 10), 3, 1, hparams).eval()


def test_chunk_size_follows_the_largest_layer():
    algorithm = _cnn()
    x = torch.randn(5, 2, 10, 10)
    largest = 8 * 10 * 10 * 4  # the first convolution's output per image, float32 bytes
    assert chunk_size(algorithm, x, budget=10 * largest) == 10
    assert chunk_size(algorithm, x, budget=1) == 1  # never below one row
    assert not any(m._forward_hooks for m in algorithm.modules())  # probe hooks removed


def test_predict_proba_chunks_agree_and_return_ordinary_tensors():
    algorithm = _cnn()
    x = torch.randn(37, 2, 10, 10)
    whole = predict_proba(algorithm, x, batch_size=37)
    for kwargs in ({"batch_size": 5}, {"budget": 3 * 8 * 10 * 10 * 4}, {}):
        chunked = predict_proba(algorithm, x, **kwargs)
        torch.testing.assert_close(chunked, whole)
    assert not whole.is_inference() and not whole.requires_grad
    assert whole.shape == (37, 3)
    assert predict_proba(algorithm, x[:0]).shape == (0, 3)
