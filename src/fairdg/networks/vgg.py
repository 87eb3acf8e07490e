"""VGG-16 and VGG-19 (Simonyan and Zisserman 2015; configurations D and E, no batch norm) in
plain torch, with torchvision's module names (``features``, ``avgpool``, ``classifier``), so a
torchvision checkpoint loads with ``strict=True``. With the 1,000-class head: 138,357,544 and
143,667,240 parameters.
"""

from __future__ import annotations

import torch
from torch import nn

CONFIGS = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M"]
    + [512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"]
    + [512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_features(config: list) -> nn.Sequential:
    """The convolutional part: 3x3 convolutions + ReLU, ``"M"`` a 2x2 max pooling."""
    layers: list[nn.Module] = []
    channels = 3
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """torchvision's VGG. ``penultimate(x)`` returns the 4,096 activations of the second fully
    connected layer (after its ReLU and dropout), the representation that frozen-VGG studies use.
    """

    def __init__(self, config: list, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = make_features(config)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        self.n_features = 4096
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:  # VGG's convolutions have one
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def penultimate(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier[:-1](x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


def vgg16(num_classes: int = 1000) -> VGG:
    """VGG-16 (configuration D, torchvision layout)."""
    return VGG(CONFIGS["vgg16"], num_classes)


def vgg19(num_classes: int = 1000) -> VGG:
    """VGG-19 (configuration E, torchvision layout)."""
    return VGG(CONFIGS["vgg19"], num_classes)
