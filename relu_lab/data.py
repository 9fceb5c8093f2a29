"""Small data sets for the chapters, generated from a seed or shipped in this package.

Nothing is downloaded: the synthetic sets are drawn from a seeded generator, and the
handwritten digits (1,797 images of 8 x 8 pixels) ship inside relu_lab as a 45 kB file.
:func:`xor` is introduced in chapter 2, :func:`digits` in chapter 4.
"""

from __future__ import annotations

from dataclasses import dataclass

from importlib.resources import files

import numpy as np
import torch

from relu_lab._validation import check_positive_int, check_probability, check_real

__all__ = ["Dataset", "xor", "two_moons", "spirals", "digits", "train_test_split"]


@dataclass(frozen=True)
class Dataset:
    """Inputs ``X`` (float32, one row per example) and integer class labels ``y``."""

    X: torch.Tensor
    y: torch.Tensor
    name: str = "data"

    def __post_init__(self) -> None:
        if not isinstance(self.X, torch.Tensor) or not isinstance(self.y, torch.Tensor):
            raise TypeError("Dataset X and y must be torch tensors")
        if self.X.ndim != 2:
            raise ValueError(f"Dataset X must be 2-D (examples x features), got shape {tuple(self.X.shape)}")
        if self.y.shape != (self.X.shape[0],):
            raise ValueError(f"Dataset y must have shape ({self.X.shape[0]},), got {tuple(self.y.shape)}")
        if len(self.y) == 0:
            raise ValueError("Dataset must hold at least one example")

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of input features (columns of ``X``)."""
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes, taken as ``max(y) + 1``."""
        return int(self.y.max()) + 1


def _make(X: np.ndarray, y: np.ndarray, name: str) -> Dataset:
    return Dataset(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int64), name)


def xor(n: int = 200, noise: float = 0.15, seed: int = 0) -> Dataset:
    """Points around the four corners of the square [-1, 1]^2, labelled by XOR.

    Corners (-1, -1) and (1, 1) are class 0, (-1, 1) and (1, -1) class 1, so no straight
    line separates the classes.

    Examples
    --------
    >>> d = xor(8, seed=0)
    >>> d.X.shape, d.y.tolist()
    (torch.Size([8, 2]), [0, 1, 1, 0, 0, 1, 1, 0])
    """
    n = check_positive_int(n, "n", minimum=4)
    noise = check_real(noise, "noise")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(check_positive_int(seed, "seed", minimum=0))
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=np.float64)
    idx = np.arange(n) % 4
    X = corners[idx] + noise * rng.standard_normal((n, 2))
    y = (corners[idx, 0] * corners[idx, 1] < 0).astype(np.int64)
    return _make(X, y, "xor")


def two_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles (scikit-learn's ``make_moons``), seeded.

    Examples
    --------
    >>> two_moons(10).X.shape
    torch.Size([10, 2])
    """
    from sklearn.datasets import make_moons

    n = check_positive_int(n, "n", minimum=2)
    noise = check_real(noise, "noise")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    X, y = make_moons(n_samples=n, noise=noise, random_state=check_positive_int(seed, "seed", minimum=0))
    return _make(X, y, "two_moons")


def spirals(n: int = 200, noise: float = 0.1, turns: float = 1.5, seed: int = 0) -> Dataset:
    """Two interleaved spirals, one per class.

    Examples
    --------
    >>> d = spirals(6)
    >>> d.X.shape, d.y.tolist()
    (torch.Size([6, 2]), [0, 1, 0, 1, 0, 1])
    """
    n = check_positive_int(n, "n", minimum=2)
    noise = check_real(noise, "noise")
    turns = check_real(turns, "turns")
    if noise < 0 or turns <= 0:
        raise ValueError(f"noise must be >= 0 and turns > 0, got noise={noise}, turns={turns}")
    rng = np.random.default_rng(check_positive_int(seed, "seed", minimum=0))
    y = np.arange(n) % 2
    t = np.sqrt(rng.uniform(0.05, 1.0, n)) * turns * 2 * np.pi
    angle = t + np.pi * y
    X = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1) / (turns * 2 * np.pi)
    X += noise * rng.standard_normal((n, 2))
    return _make(X, y, "spirals")


def digits() -> Dataset:
    """The handwritten digits: 1,797 images of 8 x 8 pixels, 10 classes.

    Pixel values (0 to 16) are scaled to [0, 1]. These are the UCI "Optical Recognition
    of Handwritten Digits" data (Alpaydin & Kaynak, 1998; CC BY 4.0), the same array as
    scikit-learn's ``load_digits``. They ship inside relu_lab (``digits.npz``,
    unsigned bytes) so that loading them takes milliseconds and downloads nothing;
    importing scikit-learn to read its copy would cost a second in every chapter.

    Examples
    --------
    >>> d = digits()
    >>> len(d), d.n_features, d.n_classes
    (1797, 64, 10)
    """
    with np.load(files("relu_lab").joinpath("digits.npz").open("rb")) as f:
        pixels, labels = f["pixels"], f["labels"]
    return _make(pixels.astype(np.float64) / 16.0, labels.astype(np.int64), "digits")


def train_test_split(data: Dataset, test_fraction: float = 0.25, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Shuffle ``data`` with ``seed`` and split it into a training and a test set.

    Examples
    --------
    >>> train, test = train_test_split(digits(), test_fraction=0.25)
    >>> len(train), len(test)
    (1348, 449)
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a relu_lab.data.Dataset, got {type(data).__name__}")
    test_fraction = check_probability(test_fraction, "test_fraction")
    n_test = int(round(len(data) * test_fraction))
    if n_test < 1 or n_test >= len(data):
        raise ValueError(f"test_fraction={test_fraction} leaves an empty training or test set for {len(data)} examples")
    g = torch.Generator().manual_seed(check_positive_int(seed, "seed", minimum=0))
    order = torch.randperm(len(data), generator=g)
    test_idx, train_idx = order[:n_test], order[n_test:]
    return (
        Dataset(data.X[train_idx], data.y[train_idx], f"{data.name} (train)"),
        Dataset(data.X[test_idx], data.y[test_idx], f"{data.name} (test)"),
    )
