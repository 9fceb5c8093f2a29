"""Tests for relu_lab.transformer.sign_products (feed_forward is tested with the models)."""

from __future__ import annotations

import pytest
import torch

from relu_lab.transformer import sign_products


def test_sign_products_is_seeded_and_labelled_by_two_sign_xors():
    a, b = sign_products(500, 6, seed=1), sign_products(500, 6, seed=1)
    assert torch.equal(a.X, b.X) and torch.equal(a.y, b.y)
    assert not torch.equal(a.X, sign_products(500, 6, seed=2).X)
    assert a.X.dtype == torch.float32 and a.X.shape == (500, 6) and set(a.y.tolist()) == {0, 1, 2, 3}
    assert a.n_classes == 4


def test_sign_products_label_is_unchanged_by_x_to_minus_x_so_linear_fails():
    d = sign_products(4000, 8, seed=0)
    # least-squares linear read-out with a bias, one-hot targets
    X1 = torch.cat([d.X, torch.ones(len(d), 1)], 1).double()
    T = torch.nn.functional.one_hot(d.y, 4).double()
    W = torch.linalg.lstsq(X1, T).solution
    acc = float(((X1 @ W).argmax(1) == d.y).double().mean())
    assert acc < 0.35  # chance is 0.25


@pytest.mark.parametrize("kwargs, exc", [
    (dict(n=0), ValueError), (dict(d_model=3), ValueError), (dict(seed=-1), ValueError),
    (dict(n=10.0), TypeError)])
def test_sign_products_validates(kwargs, exc):
    with pytest.raises(exc):
        sign_products(**kwargs)
