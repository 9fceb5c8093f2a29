"""relu_lab.activations against torch.nn.functional, forward and autograd backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import relu_lab.activations as A

FLOAT_DTYPES = [np.float16, np.float32, np.float64]
SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0]


def float_arrays(dtype):
    """Arrays that mix ordinary, subnormal, huge and special values."""
    width = np.dtype(dtype).itemsize * 8
    info = np.finfo(dtype)
    elements = st.one_of(
        st.floats(width=width, allow_nan=True, allow_infinity=True, allow_subnormal=True),
        st.sampled_from(SPECIALS + [float(info.max), float(-info.max), float(info.smallest_subnormal)]),
        st.floats(-10, 10, width=width),
    )
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, max_side=6), elements=elements)


def torch_pair(name: str, x: np.ndarray, **kw):
    """PyTorch's forward value and autograd derivative of activation `name` at x."""
    t = torch.from_numpy(np.array(x, copy=True)).requires_grad_(True)
    fns = {
        "relu": F.relu,
        "leaky_relu": lambda t: F.leaky_relu(t, kw.get("negative_slope", 0.01)),
        "prelu": lambda t: F.prelu(t, torch.tensor([kw.get("weight", 0.25)], dtype=t.dtype)),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "elu": lambda t: F.elu(t, kw.get("alpha", 1.0)),
        "gelu": F.gelu,
        "silu": F.silu,
    }
    y = fns[name](t)
    (g,) = torch.autograd.grad(y.sum(), t) if t.numel() else (torch.zeros_like(t),)
    return y.detach().numpy(), g.numpy()


# Piecewise-linear functions must agree bit for bit, sign of zero included.
EXACT = {"relu", "leaky_relu", "prelu"}


#: assert_same's relative tolerance for smooth functions, per dtype (a few units in the
#: last place).
RTOL = {np.float16: 2e-3, np.float32: 2e-6, np.float64: 1e-12}


def assert_same(ours: np.ndarray, theirs: np.ndarray, exact: bool) -> None:
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    if exact:
        np.testing.assert_array_equal(ours, theirs)
        finite_zero = ours == 0
        np.testing.assert_array_equal(np.signbit(ours[finite_zero]), np.signbit(theirs[finite_zero]))
    else:
        # Both sides round differently (erf's tail, exp's last bit), so allow a few
        # units in the last place relative to the value, and absolutely near zero.
        rtol = RTOL[ours.dtype.type]
        atol = 4 * float(np.finfo(ours.dtype).eps)
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS))
@given(data=st.data())
def test_matches_torch(name, dtype, data):
    x = data.draw(float_arrays(dtype))
    f, df = A.get_activation(name)
    ref_y, ref_g = torch_pair(name, x)
    with np.errstate(all="ignore"):
        if name in EXACT:
            assert_same(f(x), ref_y, exact=True)
        ours = df(x)
    if name not in EXACT:
        # PyTorch's smooth kernels order their operations differently in the vectorised
        # body, the scalar tail and per dtype, so where an intermediate overflows
        # (|x| near the dtype's maximum, or +-inf) torch disagrees with itself. Compare
        # here where it is self-consistent; test_smooth_at_infinity covers +-inf.
        keep = np.isnan(x) | (np.abs(x) <= 1e4)
        with np.errstate(all="ignore"):
            assert_same(np.where(keep, f(x), 0), np.where(keep, ref_y, 0), exact=False)
        ours, ref_g = np.where(keep, ours, 0), np.where(keep, ref_g, 0)
    if name == "elu":
        # torch's ELU backward gives 1 or NaN at NaN depending on the element's position
        # (vectorised body or scalar tail); ours is always NaN.
        nan = np.isnan(x)
        assert np.isnan(ours[nan]).all()
        ours, ref_g = np.where(nan, 0, ours), np.where(nan, 0, ref_g)
    assert_same(ours, ref_g, name in EXACT)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS))
def test_smooth_at_infinity(name, dtype):
    """At +-inf, agree with PyTorch's scalar path (one element at a time)."""
    f, df = A.get_activation(name)
    for value in (np.inf, -np.inf):
        x = np.array([value], dtype=dtype)
        ref_y, ref_g = torch_pair(name, x)
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(f(x), ref_y)
            np.testing.assert_array_equal(df(x), ref_g)


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.2, 1.0, -0.5, 3.0])
@given(x=float_arrays(np.float32))
def test_leaky_relu_slopes_match_torch(slope, x):
    ref_y, ref_g = torch_pair("leaky_relu", x, negative_slope=slope)
    assert_same(A.leaky_relu(x, slope), ref_y, exact=True)
    assert_same(A.leaky_relu_derivative(x, slope), ref_g, exact=True)


def test_prelu_channelwise_matches_torch():
    x = torch.randn(4, 3, 5, generator=torch.Generator().manual_seed(0), requires_grad=True)
    w = torch.tensor([0.1, 0.25, 0.7])
    y = F.prelu(x, w)
    (g,) = torch.autograd.grad(y.sum(), x)
    np.testing.assert_array_equal(A.prelu(x.detach().numpy(), w.numpy()), y.detach().numpy())
    np.testing.assert_array_equal(A.prelu_derivative(x.detach().numpy(), w.numpy()), g.numpy())


def test_defaults_follow_torch():
    assert A.leaky_relu(-100.0) == -1.0  # negative_slope=0.01
    assert A.prelu(-4.0) == -1.0  # weight=0.25
    assert torch.nn.PReLU().weight.item() == 0.25
    assert torch.nn.LeakyReLU().negative_slope == 0.01


def test_special_values_documented():
    x = np.array([-0.0, 0.0, np.nan, np.inf, -np.inf])
    y = A.relu(x)
    assert np.signbit(y[0]) and y[0] == 0  # relu(-0.0) is -0.0
    assert np.isnan(y[2]) and y[3] == np.inf and y[4] == 0
    np.testing.assert_array_equal(A.relu_derivative(x), [0, 0, 1, 1, 0])  # autograd: 1 at NaN
    assert np.isnan(A.leaky_relu(-np.inf, 0.0))  # -inf * 0


@pytest.mark.parametrize("dtype", FLOAT_DTYPES + [np.int64, np.int8, np.uint8, np.bool_])
@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS))
def test_dtype_and_shape(name, dtype):
    f, df = A.get_activation(name)
    x = np.arange(-3, 3).reshape(2, 3).astype(dtype)
    expected = dtype if np.dtype(dtype).kind == "f" else np.float64
    for out in (f(x), df(x)):
        assert out.shape == (2, 3)
        assert out.dtype == expected


def test_integers_promote_to_float64():
    out = A.relu([-2, 3])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.0, 3.0])


def test_accepts_scalars_lists_and_tensors():
    assert float(A.relu(-3)) == 0.0
    np.testing.assert_array_equal(A.relu([[1.0, -1.0]]), [[1.0, 0.0]])
    np.testing.assert_array_equal(A.relu(torch.tensor([-1.0, 2.0], requires_grad=True)), [0.0, 2.0])


def test_empty_arrays():
    for name, (f, df) in A.ACTIVATIONS.items():
        assert f(np.array([], dtype=np.float32)).shape == (0,)
        assert df(np.zeros((0, 3))).shape == (0, 3)


# -------------------------------------------------------------- identities

finite64 = hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=8),
                      elements=st.floats(-1e300, 1e300, allow_subnormal=True))


@given(x=finite64)
def test_relu_odd_part_is_identity(x):
    np.testing.assert_array_equal(A.relu(x) - A.relu(-x), x)


@given(x=finite64)
def test_relu_is_mean_of_x_and_abs(x):
    np.testing.assert_array_equal(A.relu(x), (x + np.abs(x)) / 2)


@given(x=finite64)
def test_leaky_relu_limits(x):
    # Slope 0 is ReLU and slope 1 the identity, for finite x (at -inf, -inf * 0 is NaN).
    np.testing.assert_array_equal(A.leaky_relu(x, 0.0), A.relu(x))
    np.testing.assert_array_equal(A.leaky_relu(x, 1.0), x)


@given(x=hnp.arrays(np.float64, 10, elements=st.floats(-300, 300)))
def test_tanh_from_sigmoid(x):
    np.testing.assert_allclose(A.tanh(x), 2 * A.sigmoid(2 * x) - 1, atol=1e-15, rtol=1e-12)


@given(x=finite64, c=st.floats(0, 1e6))
def test_relu_positive_homogeneity(x, c):
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(A.relu(c * x), c * A.relu(x))


def test_sigmoid_derivative_peaks_at_quarter():
    x = np.linspace(-10, 10, 20001)
    d = A.sigmoid_derivative(x)
    assert d.max() == 0.25 and x[d.argmax()] == 0


# ------------------------------------------------------------- bad input

@pytest.mark.parametrize("bad, exc, words", [
    ("abc", TypeError, "x must be a real number"),
    (["a", "b"], TypeError, "x must be a real number"),
    ([1 + 2j], TypeError, "complex"),
    ([[1.0, 2.0], [3.0]], TypeError, "x must be a real number"),
    ({"a": 1}, TypeError, "x must be a real number"),
    (None, TypeError, "x must be a real number"),
])
@pytest.mark.parametrize("name", sorted(A.ACTIVATIONS))
def test_bad_x(name, bad, exc, words):
    f, df = A.get_activation(name)
    for fn in (f, df):
        with pytest.raises(exc, match=words):
            fn(bad)


@pytest.mark.parametrize("fn", [A.leaky_relu, A.leaky_relu_derivative])
@pytest.mark.parametrize("slope, exc", [(np.nan, ValueError), (np.inf, ValueError), ("0.1", TypeError),
                                        (True, TypeError), ([0.1], TypeError), (None, TypeError)])
def test_bad_negative_slope(fn, slope, exc):
    with pytest.raises(exc, match="negative_slope"):
        fn([1.0], slope)


@pytest.mark.parametrize("weight, exc, words", [
    (np.nan, ValueError, "weight must be finite"),
    ([0.1, 0.2], ValueError, "one per channel"),
    ([[0.1]], ValueError, "1-D"),
    ("w", TypeError, "weight"),
    ([0.1, np.inf, 0.3], ValueError, "finite"),
])
def test_bad_prelu_weight(weight, exc, words):
    with pytest.raises(exc, match=words):
        A.prelu(np.zeros((2, 3)), weight)


def test_bad_activation_name():
    with pytest.raises(ValueError, match="name must be one of"):
        A.get_activation("rulu")
    with pytest.raises(TypeError, match="name must be a string"):
        A.get_activation(3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_of_a_large_array_is_blocked_but_identical(dtype):
    # Above one block relu_lab computes the sigmoid block by block; every element must
    # get exactly what the one-pass formula gives, on contiguous and strided input.
    x = np.random.default_rng(5).standard_normal(3 * A._BLOCK + 7).astype(dtype) * 30
    x[:4] = [np.inf, -np.inf, np.nan, -0.0]
    for v in (x, x[::3], x.reshape(-1, 1)):
        with np.errstate(over="ignore"):
            ref = 1 / (1 + np.exp(-v))
        np.testing.assert_array_equal(A.sigmoid(v), ref)
        assert A.sigmoid(v).dtype == dtype and A.sigmoid(v).shape == v.shape
