"""relu_lab.modern against torch.nn.functional and autograd: values, kinks, specials, dtypes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import relu_lab.modern as M
from relu_lab.activations import get_activation
from tests.test_activations import FLOAT_DTYPES, RTOL, assert_same, float_arrays

TORCH = {
    "relu6": F.relu6,
    "hardswish": F.hardswish,
    "selu": F.selu,
    "squared_relu": lambda t: F.relu(t).square(),
}
# Piecewise-linear ones agree bit for bit, sign of zero included; the others within
# a few units in the last place (assert_same's tolerance).
EXACT = {"relu6"}


def torch_pair(name, x):
    t = torch.from_numpy(np.array(x, copy=True)).requires_grad_(True)
    y = TORCH[name](t)
    (g,) = torch.autograd.grad(y.sum(), t) if t.numel() else (torch.zeros_like(t),)
    return y.detach().numpy(), g.numpy()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(M.MODERN_ACTIVATIONS))
@given(data=st.data())
def test_matches_torch(name, dtype, data):
    x = data.draw(float_arrays(dtype))
    f, df = get_activation(name)
    ref_y, ref_g = torch_pair(name, x)
    with np.errstate(all="ignore"):
        ours_y, ours_g = f(x), df(x)
    # At NaN, PyTorch's backward of these gives one value in its vectorised body and
    # another in its scalar tail. Ours is NaN for the smooth ones (as elu') and 1 for
    # relu6 (as relu'); test_documented_edges pins them.
    if name in ("selu", "hardswish", "relu6"):
        nan = np.isnan(x)
        ours_g, ref_g = np.where(nan, 0, ours_g), np.where(nan, 0, ref_g)
    if name not in EXACT:
        # Where an intermediate overflows (|x| near the dtype's maximum) the vectorised
        # and scalar kernels of torch disagree with each other; compare below that.
        keep = np.isnan(x) | (np.abs(x) <= 1e4)
        ours_y, ref_y = np.where(keep, ours_y, 0), np.where(keep, ref_y, 0)
        ours_g, ref_g = np.where(keep, ours_g, 0), np.where(keep, ref_g, 0)
    assert_same(ours_y, ref_y, name in EXACT)
    assert_same(ours_g, ref_g, name in EXACT)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_kinks_and_specials_match_torch_exactly(dtype):
    x = np.array([-np.inf, -6, -3, -1e-30, -0.0, 0.0, 1e-30, 3, 6, np.inf], dtype=dtype)
    for name in ("relu6", "hardswish", "squared_relu"):
        f, df = get_activation(name)
        ref_y, ref_g = torch_pair(name, x)
        with np.errstate(all="ignore"):
            assert_same(f(x), ref_y, exact=True)
            assert_same(df(x), ref_g, exact=True)


def test_documented_edges():
    np.testing.assert_array_equal(M.relu6_derivative([0.0, 6.0, np.nan]), [0, 0, 1])
    np.testing.assert_array_equal(M.hardswish_derivative([-3.0, 3.0]), [0, 1])
    assert np.isnan(M.hardswish_derivative(np.nan))
    assert np.isnan(M.hardswish(-np.inf))
    assert np.signbit(M.relu6(-0.0)) and np.signbit(M.selu(-0.0))
    assert np.isnan(M.selu_derivative(np.nan))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [np.int64, np.bool_])
@pytest.mark.parametrize("name", sorted(M.MODERN_ACTIVATIONS))
def test_dtype_and_shape(name, dtype):
    f, df = get_activation(name)
    x = np.arange(-4, 4).reshape(2, 4).astype(dtype)
    expected = dtype if np.dtype(dtype).kind == "f" else np.float64
    for out in (f(x), df(x)):
        assert out.shape == (2, 4) and out.dtype == expected


GATED = {
    "glu": (M.glu, F.glu),
    "geglu": (M.geglu, lambda t, dim=-1: (lambda a, b: a * F.gelu(b))(*t.chunk(2, dim))),
    "swiglu": (M.swiglu, lambda t, dim=-1: (lambda a, b: a * F.silu(b))(*t.chunk(2, dim))),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(GATED))
@given(x=st.data())
def test_gated_units_match_torch(name, dtype, x):
    arr = x.draw(hnp.arrays(dtype, st.tuples(st.integers(1, 3), st.sampled_from([2, 4, 6])),
                            elements=st.floats(-20, 20, width=np.dtype(dtype).itemsize * 8)))
    ours, theirs = GATED[name]
    for dim in (-1, 0) if arr.shape[0] % 2 == 0 else (-1,):
        ref = theirs(torch.from_numpy(arr.copy()), dim=dim).numpy()
        got = ours(arr, dim=dim)
        assert got.shape == ref.shape and got.dtype == ref.dtype
        # a * gate(b): the gate's own rounding, which assert_same allows, is multiplied
        # by |a| (up to 20 here). In float32 both libraries compute GELU's tail as
        # x * (1 + erf(x / sqrt 2)) / 2, whose cancellation leaves errors of a few 1e-7
        # near x = -3, so the absolute tolerance scales with |a|.
        a = np.abs(np.split(arr, 2, axis=dim)[0]).astype(np.float64)
        rtol = RTOL[got.dtype.type]
        atol = 4 * float(np.finfo(got.dtype).eps) * np.maximum(a, 1)
        err = np.abs(got.astype(np.float64) - ref.astype(np.float64))
        assert (err <= rtol * np.abs(ref.astype(np.float64)) + atol).all(), (got, ref)


def test_glu_nan_and_inf_follow_torch():
    x = np.array([np.nan, 1.0, 2.0, np.inf, np.inf, -np.inf], dtype=np.float32)
    for name, (ours, theirs) in GATED.items():
        ref = theirs(torch.from_numpy(x.copy())).numpy()
        np.testing.assert_array_equal(ours(x), ref, err_msg=name)


@pytest.mark.parametrize("fn", [M.glu, M.geglu, M.swiglu])
def test_gated_units_validate(fn):
    with pytest.raises(ValueError, match="even size along dim=-1"):
        fn([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="at least one dimension"):
        fn(1.0)
    with pytest.raises(ValueError, match=r"dim must be in \[-1, 0\]"):
        fn([1.0, 2.0], dim=1)
    with pytest.raises(TypeError, match="dim must be an integer"):
        fn([1.0, 2.0], dim=0.5)
    with pytest.raises(TypeError, match="x must be a real number"):
        fn("ab")


def test_get_activation_lists_modern_names():
    with pytest.raises(ValueError, match="relu6"):
        get_activation("relu7")


# ------------------------------------------------------------------ quantize


def test_quantize_rounds_to_levels_and_clips():
    from relu_lab.modern import quantize

    x = np.linspace(-1, 8, 1001)
    q = quantize(x, 6.0)
    step = 6 / 255
    assert np.all(np.abs(q - np.clip(x, 0, 6)) <= step / 2 + 1e-12)
    assert len(np.unique(q)) <= 256 and q.min() == 0 and q.max() == 6
    np.testing.assert_allclose(np.unique(q) / step, np.round(np.unique(q) / step))
    assert quantize(np.array([0.5, np.nan], dtype=np.float32), 1.0).dtype == np.float32
    assert np.isnan(quantize([np.nan], 1.0)[0])


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(high=0.0), ValueError, "high must be positive"),
    (dict(high=float("inf")), ValueError, "high must be positive and finite"),
    (dict(high="6"), TypeError, "high must be a real number"),
    (dict(high=6.0, bits=0), ValueError, "bits must be between 1 and 16"),
    (dict(high=6.0, bits=8.0), TypeError, "bits must be an integer"),
])
def test_quantize_bad_input(kwargs, exc, words):
    from relu_lab.modern import quantize

    with pytest.raises(exc, match=words):
        quantize([1.0], **kwargs)


def test_quantization_error_pools_layers():
    from relu_lab.models import mlp
    a = [torch.tensor([[0.1, 0.7]]), torch.tensor([[3.3, 0.0]])]
    q = [torch.as_tensor(M.quantize(t.numpy(), hi)) for t, hi in zip(a, [1.0, 4.0])]
    want = (sum(((qi - ai) ** 2).sum() for qi, ai in zip(q, a)) / sum((ai ** 2).sum() for ai in a)) ** 0.5
    assert M.quantization_error(a, [1.0, 4.0]) == pytest.approx(float(want))
    assert M.quantization_error(a, [1.0, 4.0], bits=16) < M.quantization_error(a, [1.0, 4.0])


@pytest.mark.parametrize("args, exc", [
    (([], []), TypeError), (([torch.ones(2)], [1.0, 2.0]), ValueError),
    (([torch.zeros(2)], [1.0]), ValueError), (([torch.ones(2)], 1.0), TypeError),
    (([torch.ones(2)], [0.0]), ValueError)])
def test_quantization_error_validates(args, exc):
    with pytest.raises(exc):
        M.quantization_error(*args)


def test_quantized_accuracy_rounds_every_hidden_layer_and_restores():
    from relu_lab.data import digits
    from relu_lab.models import mlp
    net, d = mlp([64, 16, 16, 10], seed=0), digits()
    with torch.no_grad():
        exact = float((net(d.X).argmax(1) == d.y).float().mean())
    fine = M.quantized_accuracy(net, d.X, d.y, [50.0, 50.0], bits=16)
    assert abs(fine - exact) <= 3 / len(d.y)  # a tie or two may flip
    coarse = M.quantized_accuracy(net, d.X, d.y, [1e-3, 1e-3], bits=1)  # all clipped
    assert coarse != exact
    with torch.no_grad():  # hooks removed
        assert float((net(d.X).argmax(1) == d.y).float().mean()) == exact
    with pytest.raises(ValueError, match="one range per layer"):
        M.quantized_accuracy(net, d.X, d.y, [1.0])
    with pytest.raises(TypeError, match="model"):
        M.quantized_accuracy("net", d.X, d.y, [1.0])
