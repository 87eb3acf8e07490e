"""Image transformations used to build dataset variants: inversion, rotation, colouring.

Pure torch, batched, deterministic; images are float tensors of shape (N, C, H, W) in [0, 1].
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# RGB of the digit colour per domain of coloured variants (ccMNIST: red, green, blue; its
# six-colour option adds cyan, magenta, yellow).
COLOURS = {
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "cyan": (0.0, 1.0, 1.0),
    "magenta": (1.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
}


def invert(images: torch.Tensor) -> torch.Tensor:
    """``1 - x`` (the paper's 255 - v on the [0, 1] scale)."""
    return 1.0 - images


def rotate(images: torch.Tensor, angle: float, chunk: int = 8192) -> torch.Tensor:
    """Rotate images counter-clockwise by `angle` degrees about their centre.

    Bilinear interpolation, zero fill outside the original image (MNIST-R of the affinity
    paper). Corners that leave the frame are cut; rotating by ``-angle`` afterwards restores
    the image inside the inscribed disc up to interpolation blur.

    Parameters
    ----------
    images
        Float tensor (N, C, H, W).
    angle
        Degrees, counter-clockwise as displayed (row 0 at the top).
    chunk
        Images per call of ``grid_sample`` (bounds peak memory).
    """
    if images.dim() != 4:
        raise ValueError(f"rotate expects images of shape (N, C, H, W), got {tuple(images.shape)}")
    if not torch.is_floating_point(images):
        raise TypeError(f"rotate expects a float tensor, got {images.dtype}")
    if angle % 360 == 0:
        return images.clone()
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    # affine_grid maps each output pixel (x right, y down, in [-1, 1]) to the input pixel it
    # samples. With y pointing down, this matrix turns the picture counter-clockwise on screen
    # (checked in the tests: a mark at the top moves to the left for +90 degrees).
    matrix = torch.tensor([[cos, -sin, 0.0], [sin, cos, 0.0]], dtype=images.dtype)
    out = torch.empty_like(images)
    for start in range(0, len(images), chunk):
        part = images[start : start + chunk]
        grid = F.affine_grid(matrix.expand(len(part), 2, 3), list(part.shape), align_corners=False)
        out[start : start + chunk] = F.grid_sample(
            part, grid, mode="bilinear", padding_mode="zeros", align_corners=False
        )
    return out


def colourise(
    images: torch.Tensor,
    colour: tuple[float, float, float],
    background: torch.Tensor,
    threshold: float | None = 0.5,
) -> torch.Tensor:
    """Paint grey-scale digits in `colour` on a black (0) or white (1) background.

    Parameters
    ----------
    images
        (N, 1, H, W) in [0, 1].
    colour
        RGB of the digit.
    background
        (N,) values in {0, 1}: black or white background per image.
    threshold
        Binarise the digit at this intensity first (ccMNIST); None keeps the grey levels as
        the digit's opacity.

    Returns
    -------
    (N, 3, H, W) float tensor in [0, 1].
    """
    if images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"colourise expects (N, 1, H, W) images, got {tuple(images.shape)}")
    back = background.to(images.dtype).view(-1, 1, 1)
    if threshold is not None:  # binary digit: pick colour or background, no arithmetic
        digit = images[:, 0] > threshold
        out = torch.empty(len(images), 3, *images.shape[2:], dtype=images.dtype)
        for c in range(3):
            out[:, c] = torch.where(digit, colour[c], back)
        return out
    rgb = torch.tensor(colour, dtype=images.dtype).view(1, 3, 1, 1)
    return images * rgb + (1.0 - images) * back.unsqueeze(1)


def resize_rgb(images: torch.Tensor, size: int = 32) -> torch.Tensor:
    """Grey-scale images (N, 1, H, W) resized to ``size`` x ``size`` (bilinear, as torchvision's
    ``Resize`` on tensors with ``antialias=False``) and replicated to three channels: MNIST in
    SVHN's format (N, 3, 32, 32) for SVHN -> MNIST adaptation."""
    if images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"resize_rgb expects (N, 1, H, W) images, got {tuple(images.shape)}")
    out = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    return out.clamp_(0.0, 1.0).expand(-1, 3, -1, -1).contiguous()
