"""relu_lab.regions: activation patterns and linear regions on a 2-D grid."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from relu_lab.data import xor
from relu_lab.models import mlp
from relu_lab.regions import (
    Grid,
    RegionMap,
    activation_patterns,
    class_map,
    grid_2d,
    linear_regions,
    local_affine_map,
    max_regions_one_layer,
    pattern_labels,
    plot_boundary,
    plot_decision,
    plot_regions,
)


def _set_linear(layer: nn.Linear, weight, bias) -> None:
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=layer.weight.dtype))
        layer.bias.copy_(torch.as_tensor(bias, dtype=layer.bias.dtype))


def _triangle_net() -> nn.Sequential:
    """Three ReLU units whose switch lines x1 = -1, x2 = -1 and x1 + x2 = 1 form a triangle."""
    net = mlp([2, 3, 1])
    _set_linear(net[0], [[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], [1.0, 1.0, 1.0])
    return net


# ---------------------------------------------------------------- grid


def test_grid_order_and_shape():
    g = grid_2d((0, 2), (10, 13), resolution=4)
    assert g.shape == (4, 4)
    assert g.extent == (0.0, 2.0, 10.0, 13.0)
    assert g.points.dtype == torch.float32 and tuple(g.points.shape) == (16, 2)
    img = g.image(g.points)
    assert np.allclose(img[2, 3], [g.xs[3], g.ys[2]])  # row i is ys[i], column j is xs[j]


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"xlim": (1, 1)}, ValueError, "xlim must have low < high"),
    ({"ylim": (2, -2)}, ValueError, "ylim must have low < high"),
    ({"xlim": "ab"}, TypeError, "xlim must be a pair"),
    ({"xlim": (0, 1, 2)}, TypeError, "xlim must be a pair"),
    ({"ylim": (0, float("inf"))}, ValueError, "ylim\\[1\\] must be finite"),
    ({"resolution": 1}, ValueError, "resolution must be >= 2"),
    ({"resolution": 2.5}, TypeError, "resolution must be an integer"),
])
def test_grid_validation(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        grid_2d(**kwargs)


def test_grid_image_checks_length():
    g = grid_2d(resolution=3)
    with pytest.raises(ValueError, match="one entry per grid point"):
        g.image(np.zeros(8))


# ---------------------------------------------------------------- patterns


def test_patterns_match_manual_preactivations():
    net = mlp([2, 5, 4, 1], init="default", seed=3)
    x = torch.randn(50, 2)
    with torch.no_grad():
        z1 = net[0](x)
        z2 = net[2](torch.relu(z1))
    expected = torch.cat([z1 > 0, z2 > 0], dim=1).numpy()
    assert np.array_equal(activation_patterns(net, x), expected)
    assert np.array_equal(activation_patterns(net, x, layers=["relu2"]), (z2 > 0).numpy())


@pytest.mark.parametrize("activation", ["leaky_relu", "prelu"])
def test_patterns_of_leaky_units_are_the_signs_of_preactivations(activation):
    net = mlp([2, 6, 1], activation=activation, init="default", seed=1)
    x = torch.randn(40, 2)
    with torch.no_grad():
        z = net[0](x)
    assert np.array_equal(activation_patterns(net, x), (z > 0).numpy())


def test_patterns_accept_a_grid_and_cast_to_the_model_dtype():
    net = mlp([2, 3, 1]).double()
    g = grid_2d(resolution=4)
    assert activation_patterns(net, g).shape == (16, 3)


def test_pattern_validation():
    net = mlp([2, 3, 1])
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        activation_patterns("net", torch.zeros(1, 2))
    with pytest.raises(TypeError, match="inputs must be a torch.Tensor or a Grid"):
        activation_patterns(net, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="inputs must be 2-D"):
        activation_patterns(net, torch.zeros(2))
    with pytest.raises(ValueError, match="layers \\['relu7'\\] are not activation layers"):
        activation_patterns(net, torch.zeros(1, 2), layers=["relu7"])
    with pytest.raises(TypeError, match="layers must be a non-empty sequence"):
        activation_patterns(net, torch.zeros(1, 2), layers="relu1")
    with pytest.raises(ValueError, match="no activation layer"):
        activation_patterns(mlp([2, 3, 1], activation="identity"), torch.zeros(1, 2))


def test_pattern_labels_first_appearance_order():
    p = np.array([[0, 1], [1, 1], [0, 1], [0, 0], [1, 1]], dtype=bool)
    labels, n = pattern_labels(p)
    assert labels.tolist() == [0, 1, 0, 2, 1] and n == 3
    with pytest.raises(TypeError, match="boolean"):
        pattern_labels(p.astype(int))
    with pytest.raises(ValueError, match="at least one row"):
        pattern_labels(np.zeros((0, 3), dtype=bool))


@pytest.mark.parametrize("units", [1, 3, 16, 64, 65, 130])
def test_pattern_labels_match_unique_rows(units):
    # The packed-bits keys must number rows exactly as np.unique over whole rows does.
    rng = np.random.default_rng(units)
    p = rng.random((500, units)) < 0.5
    p[250:] = p[rng.integers(0, 250, size=250)]          # many repeated rows
    labels, n = pattern_labels(p)
    _, first, inverse = np.unique(p, axis=0, return_index=True, return_inverse=True)
    expected = np.argsort(np.argsort(first))[inverse.ravel()]
    assert n == len(first) and np.array_equal(labels, expected)
    # equal labels exactly for equal rows
    assert all(np.array_equal(p[i], p[j]) == (labels[i] == labels[j])
               for i, j in rng.integers(0, 500, size=(200, 2)))


# ---------------------------------------------------------------- regions


def test_three_lines_in_general_position_make_seven_regions():
    regions = linear_regions(_triangle_net(), grid_2d(resolution=120))
    assert isinstance(regions, RegionMap)
    assert regions.n_regions == 7 == max_regions_one_layer(2, 3)
    assert regions.labels.shape == (120, 120) and regions.layers == ("relu1",)


def test_one_layer_never_exceeds_the_hyperplane_bound():
    for seed in range(5):
        net = mlp([2, 6, 1], init="default", seed=seed)
        assert linear_regions(net, grid_2d(resolution=80)).n_regions <= max_regions_one_layer(2, 6)


def test_deeper_layers_refine_the_first():
    net = mlp([2, 8, 8, 1], init="default", seed=0)
    g = grid_2d(resolution=100)
    first, both = linear_regions(net, g, layers=["relu1"]), linear_regions(net, g)
    assert both.n_regions >= first.n_regions
    # every region of both layers lies inside one region of the first layer
    for k in range(both.n_regions):
        assert len(np.unique(first.labels[both.labels == k])) == 1


def test_linear_regions_validation():
    with pytest.raises(TypeError, match="grid must be a relu_lab.regions.Grid"):
        linear_regions(mlp([2, 3, 1]), np.zeros((3, 3)))


# ---------------------------------------------------------------- affine maps


def test_local_affine_map_fits_the_whole_region():
    net = mlp([2, 8, 8, 2], init="default", seed=2)
    g = grid_2d(resolution=60)
    regions = linear_regions(net, g)
    labels = regions.labels.ravel()
    k = np.bincount(labels).argmax()
    pts = g.points[labels == k]
    W, b = local_affine_map(net, pts[0])
    with torch.no_grad():
        out = net(pts).double().numpy()
    assert np.allclose(out, pts.double().numpy() @ W.T + b, atol=1e-5)


def test_local_affine_map_of_linear_layers_is_their_product():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).double()
    W, b = local_affine_map(net, np.ones(3))
    W1, b1, W2, b2 = (p.detach().numpy() for p in net.parameters())
    assert np.allclose(W, W2 @ W1) and np.allclose(b, W2 @ b1 + b2)


def test_local_affine_map_leaves_the_model_alone():
    net = mlp([2, 3, 1])
    before = [p.detach().clone() for p in net.parameters()]
    local_affine_map(net, torch.tensor([0.5, -0.5]))
    assert all(p.dtype == torch.float32 and torch.equal(p, q) for p, q in zip(net.parameters(), before))
    assert all(p.grad is None for p in net.parameters())


def test_local_affine_map_validation():
    net = mlp([2, 3, 1])
    with pytest.raises(ValueError, match="1-D"):
        local_affine_map(net, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="finite"):
        local_affine_map(net, [np.nan, 0.0])
    with pytest.raises(TypeError, match="model must be"):
        local_affine_map(None, [0.0, 0.0])


def test_max_regions_one_layer():
    assert max_regions_one_layer(2, 8) == 37
    assert max_regions_one_layer(2, 0) == 1
    assert max_regions_one_layer(3, 2) == 4  # two planes in space: at most four pieces
    with pytest.raises(ValueError, match="n_inputs must be >= 1"):
        max_regions_one_layer(0, 3)
    with pytest.raises(TypeError, match="n_units must be an integer"):
        max_regions_one_layer(2, 1.5)


# ---------------------------------------------------------------- classes and plots


def test_class_map_single_output_and_argmax():
    single = nn.Sequential(nn.Linear(2, 1))
    _set_linear(single[0], [[1.0, 0.0]], [0.0])
    g = grid_2d((-1, 1), (-1, 1), resolution=3)
    assert class_map(single, g).tolist() == [[0, 0, 1]] * 3
    double = nn.Sequential(nn.Linear(2, 2))
    _set_linear(double[0], [[0.0, 1.0], [0.0, -1.0]], [0.0, 0.0])
    assert class_map(double, g)[:, 0].tolist() == [1, 0, 0]  # ties (x2 = 0) go to class 0


def test_plots_draw_and_validate():
    net = _triangle_net()
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3)
    assert plot_regions(linear_regions(net, grid_2d(resolution=30)), ax1) is ax1
    assert plot_decision(mlp([2, 4, 2], seed=1), xor(20), ax=ax2) is ax2
    assert plot_boundary(mlp([2, 4, 2], seed=1), grid_2d(resolution=30), ax3) is ax3
    plt.close(fig)
    with pytest.raises(TypeError, match="regions must be a RegionMap"):
        plot_regions(np.zeros((3, 3)))
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_regions(linear_regions(net, grid_2d(resolution=5)), ax="left")
    with pytest.raises(TypeError, match="data must be a relu_lab.data.Dataset"):
        plot_decision(net, np.zeros((3, 2)))
    assert isinstance(grid_2d(resolution=2), Grid)
    plt.close("all")


def test_region_patterns_and_annotations():
    g = grid_2d(resolution=60)
    regions = linear_regions(_triangle_net(), g)
    assert regions.patterns.shape == (7, 3)
    # the pattern stored for each region is the pattern of every point in it
    every = activation_patterns(_triangle_net(), g)
    for k in range(regions.n_regions):
        assert (every[regions.labels.ravel() == k] == regions.patterns[k]).all()
    # inside the triangle all three units are on; no region has all three off
    assert sorted(map(tuple, regions.patterns.astype(int)))[-1] == (1, 1, 1)
    assert not (~regions.patterns).all(axis=1).any()
    ax = plot_regions(regions, annotate=True)
    assert "units 1, 2, 3 on" in {t.get_text() for t in ax.texts}
    plt.close(ax.figure)
