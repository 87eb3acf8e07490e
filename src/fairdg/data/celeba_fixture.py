"""A generated stand-in for CelebA in the real file formats (for tests, CI and CPU demos).

`write_celeba_fixture` writes ``list_attr_celeba.txt`` (the 40 real attribute names, values
-1/1), ``list_eval_partition.txt`` (80 / 10 / 10 % train / val / test) and JPEG images under
``img_align_celeba/``. Each attribute adds its own fixed smooth colour pattern to a grey face-
sized image (plus noise), so every attribute can be predicted from the pixels. Attractive
depends on Male with the skew the affinity paper reports for CelebA (about 77 % of the women
and 23 % of the men labelled attractive). It is NOT CelebA: numbers computed on it only show
that the pipeline runs and reacts to the loss, never the paper's results.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ATTRIBUTES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose "
    "Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee "
    "Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes "
    "No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling "
    "Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace "
    "Wearing_Necktie Young"
).split()
P_ATTRACTIVE = {0: 0.77, 1: 0.23}  # P(Attractive | Male = m), the paper's skew


def _patterns(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """One smooth (low-frequency) colour pattern per attribute, shape (40, H, W, 3)."""
    coarse = rng.normal(size=(len(ATTRIBUTES), 4, 4, 3))
    rows = np.linspace(0, 3, height)
    cols = np.linspace(0, 3, width)
    r0, c0 = np.floor(rows).astype(int).clip(0, 2), np.floor(cols).astype(int).clip(0, 2)
    fr, fc = (rows - r0)[:, None, None], (cols - c0)[None, :, None]
    out = np.empty((len(ATTRIBUTES), height, width, 3))
    for a in range(len(ATTRIBUTES)):  # bilinear upsampling of a 4 x 4 grid
        g = coarse[a]
        top = g[r0][:, c0] * (1 - fc) + g[r0][:, c0 + 1] * fc
        bottom = g[r0 + 1][:, c0] * (1 - fc) + g[r0 + 1][:, c0 + 1] * fc
        out[a] = top * (1 - fr) + bottom * fr
    return out


def fixture_attributes(n: int, seed: int = 0) -> np.ndarray:
    """(n, 40) array of 0/1 attributes with the Attractive-Male skew."""
    rng = np.random.default_rng(seed)
    values = (rng.random((n, len(ATTRIBUTES))) < 0.5).astype(int)
    male = values[:, ATTRIBUTES.index("Male")]
    p = np.where(male == 1, P_ATTRACTIVE[1], P_ATTRACTIVE[0])
    values[:, ATTRIBUTES.index("Attractive")] = (rng.random(n) < p).astype(int)
    return values


def write_celeba_fixture(
    root: str | Path, n: int = 2000, seed: int = 0, size: tuple[int, int] = (44, 54)
) -> Path:
    """Write the fixture into `root` (created) and return it; an existing one is kept."""
    from PIL import Image

    root = Path(root)
    if (root / "list_eval_partition.txt").is_file():
        return root
    folder = root / "img_align_celeba"
    folder.mkdir(parents=True, exist_ok=True)
    values = fixture_attributes(n, seed)
    rng = np.random.default_rng(seed + 1)
    width, height = size
    patterns = _patterns(rng, height, width)
    signs = values * 2 - 1
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    for i, name in enumerate(names):
        pixels = 0.5 + 0.03 * np.tensordot(signs[i], patterns, axes=1)
        pixels += rng.normal(scale=0.05, size=pixels.shape)
        image = (pixels.clip(0, 1) * 255).astype(np.uint8)
        Image.fromarray(image).save(folder / name, quality=95)
    lines = [str(n), " ".join(ATTRIBUTES)]
    lines += [name + " " + " ".join(f"{v:2d}" for v in signs[i]) for i, name in enumerate(names)]
    parts = [
        f"{name} {0 if i < 0.8 * n else (1 if i < 0.9 * n else 2)}" for i, name in enumerate(names)
    ]
    # the list files last: their presence marks a complete fixture
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (root / "list_eval_partition.txt").write_text("\n".join(parts) + "\n")
    return root
