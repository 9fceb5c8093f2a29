"""The one place where relu_lab touches global random state.

Introduced in chapter 3; every chapter calls :func:`seed_everything` in its first cell.
Other relu_lab functions take an explicit ``seed`` and leave the global generators alone.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from relu_lab._validation import check_positive_int

__all__ = ["seed_everything"]


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's, NumPy's and PyTorch's global generators.

    Parameters
    ----------
    seed : int, default 0
        A non-negative integer.

    Returns
    -------
    numpy.random.Generator
        A fresh NumPy generator seeded with ``seed``, for code that prefers an explicit one.

    Examples
    --------
    >>> rng = seed_everything(42)
    >>> a = torch.rand(1).item(); _ = seed_everything(42)
    >>> a == torch.rand(1).item()
    True
    """
    seed = check_positive_int(seed, "seed", minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)
