"""Featurizers and heads, built from an input shape and hyperparameters.

``build_featurizer(input_shape, hparams)`` returns a module mapping inputs to the
representation (``rep_dim`` features): an MLP for tabular vectors (`fairdg.networks.mlp`), the
small CNN of DomainBed's MNIST experiments (`fairdg.networks.cnn`) for images, or with
``backbone=resnet18|resnet50|vgg16|vgg19`` a torchvision-layout backbone (`fairdg.networks.resnet`,
`fairdg.networks.vgg`, loaded and frozen by `fairdg.networks.backbones`). One module per network
family; `fairdg.networks.factory` chooses among them.
"""

from fairdg.networks.cnn import SmallCNN
from fairdg.networks.factory import NETWORK_HPARAMS, build_featurizer
from fairdg.networks.heads import build_classifier
from fairdg.networks.mlp import MLP

__all__ = ["MLP", "NETWORK_HPARAMS", "SmallCNN", "build_classifier", "build_featurizer"]
