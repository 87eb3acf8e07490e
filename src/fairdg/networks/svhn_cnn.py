"""The affinity paper's CNN for SVHN -> MNIST (section 4).

"A Convolutional Neural Network with two double-convolutional layers containing 32 and 64
nodes, respectively ... A 20-dim. feature representation on top of this architecture is applied
to calculate the affinity loss." The paper gives no kernel sizes, pooling or padding; we use the
usual VGG-style block: two 3 x 3 convolutions (padding 1) with ReLU, then 2 x 2 max pooling.
"""

from __future__ import annotations

import torch
from torch import nn


def _double_conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class SVHNCNN(nn.Module):
    """``[conv3x3(32) ReLU conv3x3(32) ReLU maxpool2] [same with 64] -> Linear(rep_dim) ReLU``.

    Parameters
    ----------
    input_shape
        ``(C, H, W)`` of the images (SVHN and the resized MNIST: (3, 32, 32)); H and W must be
        multiples of 4.
    rep_dim
        Units of the representation (the paper: 20), the layer the affinity loss acts on.
    widths
        Filters of the two double-convolution blocks (the paper: 32 and 64).
    """

    def __init__(
        self,
        input_shape: tuple[int, int, int] = (3, 32, 32),
        rep_dim: int = 20,
        widths: tuple[int, int] = (32, 64),
    ) -> None:
        super().__init__()
        c, h, w = input_shape
        if h % 4 or w % 4:
            raise ValueError(f"SVHNCNN needs H and W divisible by 4, got {input_shape}")
        self.trunk = nn.Sequential(
            _double_conv(c, widths[0]), _double_conv(widths[0], widths[1]), nn.Flatten()
        )
        self.project = nn.Sequential(
            nn.Linear(widths[1] * (h // 4) * (w // 4), rep_dim), nn.ReLU()
        )
        self.n_outputs = rep_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.trunk(x))
