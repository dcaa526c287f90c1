"""Every activation's derivative against finite differences and torch autograd, plus the
algebraic properties the book relies on."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rectified import activations as A

NAMES = A.names()
# Points away from the kink at 0; away_from_kinks drops those near the others.
X = np.concatenate([np.linspace(-6, -0.05, 60), np.linspace(0.05, 6, 60)])


def away_from_kinks(act):
    """X without the points within 0.01 of one of the activation's kinks."""
    keep = np.ones(X.shape, bool)
    for k in act.kinks:
        keep &= np.abs(X - k) > 0.01
    return X[keep]
PARAMS = {"leaky_relu": [{"slope": 0.01}, {"slope": 0.3}], "prelu": [{"alpha": 0.25}],
          "elu": [{"alpha": 1.0}, {"alpha": 0.5}], "softplus": [{"beta": 1.0}, {"beta": 3.0}],
          "silu": [{"beta": 1.0}, {"beta": 1.7}]}
CASES = [(n, p) for n in NAMES for p in PARAMS.get(n, [{}])]


@pytest.mark.parametrize("name,params", CASES)
def test_derivative_matches_central_differences(name, params):
    act = A.get(name, **params)
    x = away_from_kinks(act)
    h = 1e-6
    numeric = (act(x + h) - act(x - h)) / (2 * h)
    np.testing.assert_allclose(act.grad(x), numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,params", CASES)
def test_numpy_matches_torch_value_and_autograd(name, params):
    act = A.get(name, **params)
    x = away_from_kinks(act)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = act.torch(t)
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), act(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), act.grad(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_torch_module_matches_function(name):
    x = torch.linspace(-3, 3, 41)
    module = A.torch_module(name, num_parameters=1)
    np.testing.assert_allclose(module(x).detach().numpy(), A.get(name)(x.numpy()), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("g", [0.0, 0.5, 1.0])
def test_relu_grad_at_zero_is_selectable_in_numpy_and_torch(g):
    x = np.array([-1.0, 0.0, 2.0])
    assert A.relu_grad(x, grad_at_zero=g).tolist() == [0.0, g, 1.0]
    assert A.get("relu", grad_at_zero=g).grad(x).tolist() == [0.0, g, 1.0]
    t = torch.tensor(x, requires_grad=True)
    A.relu_torch(t, grad_at_zero=g).sum().backward()
    assert t.grad.tolist() == [0.0, g, 1.0]


def test_relu_default_derivative_at_zero_matches_torch_relu():
    t = torch.zeros(3, requires_grad=True)
    torch.relu(t).sum().backward()
    assert t.grad.tolist() == A.relu_grad(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("g", [-1.0, 0.0, 0.5, 1.0])
def test_abs_grad_at_zero_in_numpy_and_torch(g):
    act = A.get("abs", grad_at_zero=g)
    t = torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64, requires_grad=True)
    act.torch(t).sum().backward()
    assert t.grad.tolist() == act.grad(t.detach().numpy()).tolist() == [-1.0, g, 1.0]


def test_known_identities():
    x = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(A.tanh(x), 2 * A.sigmoid(2 * x) - 1, atol=1e-12)
    np.testing.assert_allclose(A.softplus_grad(x), A.sigmoid(x), atol=1e-12)
    np.testing.assert_allclose(A.relu(x) - A.relu(-x), x, atol=1e-12)
    np.testing.assert_allclose(A.abs_(x), A.leaky_relu(x, slope=-1.0), atol=1e-12)
    np.testing.assert_allclose(A.gelu_tanh(x), A.gelu(x), atol=1e-3)
    np.testing.assert_allclose(A.prelu_grad_alpha(x), np.minimum(x, 0))
    assert np.isclose(A.SELU_SCALE, 1.0507, atol=1e-4) and np.isclose(A.SELU_ALPHA, 1.6733, atol=1e-4)


def test_saturating_derivatives_are_bounded():
    x = np.linspace(-20, 20, 2001)
    assert A.sigmoid_grad(x).max() == pytest.approx(0.25)
    assert A.tanh_grad(x).max() == pytest.approx(1.0)
    assert A.sigmoid_grad(np.array([10.0]))[0] < 1e-4


def test_extreme_inputs_stay_finite():
    x = np.array([-1e4, -50.0, 50.0, 1e4])
    for name in NAMES:
        act = A.get(name)
        assert np.all(np.isfinite(act(x))), name
        assert np.all(np.isfinite(act.grad(x))), name


def test_maxout_groups_consecutive_pieces_and_routes_gradient():
    z = np.array([[1.0, 5.0, -2.0, 0.0, 3.0, 3.0]])
    assert A.maxout(z, 2).tolist() == [[5.0, 0.0, 3.0]]
    assert A.maxout(z, 3).tolist() == [[5.0, 3.0]]
    assert A.maxout_grad(z, 2).tolist() == [[0, 1, 0, 1, 1, 0]]
    t = torch.tensor(z, requires_grad=True)
    A.maxout_torch(t, 3).sum().backward()
    np.testing.assert_array_equal(A.maxout(z, 3), A.maxout_torch(torch.tensor(z), 3).numpy())
    assert t.grad.sum().item() == 2.0


def test_maxout_derivative_against_finite_differences():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 12))
    h = 1e-6
    for i in range(12):
        e = np.zeros(12)
        e[i] = h
        numeric = (A.maxout(z + e, 4) - A.maxout(z - e, 4)).sum(axis=1) / (2 * h)
        np.testing.assert_allclose(A.maxout_grad(z, 4)[:, i], numeric, atol=1e-6)


def test_registry_repr_and_names():
    assert "relu" in A.names() and len(A.names()) == 16
    assert repr(A.get("leaky_relu", slope=0.2)) == "Activation(leaky_relu, slope=0.2)"
    assert A.get(A.get("tanh")).name == "tanh"
    assert A.get("ReLU").name == "relu"


finite = st.floats(-1e3, 1e3, allow_nan=False, width=64)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=finite))
def test_relu_is_idempotent(x):
    np.testing.assert_array_equal(A.relu(A.relu(x)), A.relu(x))


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=finite), st.floats(0, 100))
def test_rectifiers_are_positively_homogeneous(x, a):
    for f in (A.relu, lambda v: A.leaky_relu(v, 0.1), A.abs_):
        np.testing.assert_allclose(f(a * x), a * f(x), rtol=1e-12, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=finite))
def test_relu_output_nonnegative_and_below_identity_plus_abs(x):
    y = A.relu(x)
    assert np.all(y >= 0) and np.all(y >= x)
    np.testing.assert_allclose(y, (x + np.abs(x)) / 2)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 30), elements=finite))
def test_monotone_activations_are_monotone(x):
    xs = np.sort(x)
    for name in ("relu", "leaky_relu", "elu", "selu", "softplus", "sigmoid", "tanh"):
        assert np.all(np.diff(A.get(name)(xs)) >= 0), name


def test_registry_facts():
    assert [n for n in A.names() if A.get(n).piecewise_linear] == \
        ["relu", "leaky_relu", "prelu", "abs", "linear", "relu6"]
    assert sorted(A.PIECEWISE_LINEAR) == sorted(["relu", "leaky_relu", "prelu", "abs", "linear"])
    assert [n for n in A.names(include_grouped=True) if A.get(n).can_die] == \
        ["relu", "relu6", "relu2"]        # 0 with slope 0 on the whole negative side
    assert A.get("leaky_relu", slope=0.0).can_die and not A.get("leaky_relu").can_die
    assert A.get("leaky_relu", slope=0.2).negative_slope == 0.2
    assert A.get("abs").negative_slope == -1.0 and A.get("tanh").negative_slope is None
    assert {n: A.get(n).shape_param for n in A.names() if A.get(n).shape_param} == \
        {"leaky_relu": "slope", "prelu": "alpha", "elu": "alpha", "softplus": "beta",
         "silu": "beta"}
    assert A.parameters("leaky_relu") == {"slope": 0.01}


def test_maxout_is_a_registry_entry():
    assert "maxout" not in A.names() and "maxout" in A.names(include_grouped=True)
    m = A.get("maxout", k=3)
    assert m.pieces == 3 and m.piecewise_linear and not m.can_die
    assert A.get("relu").pieces == 1
    z = np.arange(6.0)
    np.testing.assert_array_equal(m(z), [2.0, 5.0])
    np.testing.assert_array_equal(m.torch(torch.arange(6.0)).numpy(), [2.0, 5.0])
    with pytest.raises(ValueError, match="k must be >= 1"):
        A.get("maxout", k=0)


def test_bounded_and_squared_rectifiers():
    x = np.array([-4.0, -3.0, -1.0, 0.0, 2.0, 3.0, 6.0, 8.0])
    assert A.relu6(x).tolist() == [0, 0, 0, 0, 2, 3, 6, 6]
    assert A.relu6_grad(x).tolist() == [0, 0, 0, 0, 1, 1, 0, 0]
    assert A.hard_swish(x).tolist() == pytest.approx(
        [0, 0, -1 / 3, 0, 2 * 5 / 6, 3, 6, 8])
    assert A.hard_sigmoid(np.array([-3.0, 0.0, 3.0])).tolist() == [0, 0.5, 1]
    assert A.relu2(x).tolist() == [0, 0, 0, 0, 4, 9, 36, 64]
    assert A.relu2_grad(x).tolist() == [0, 0, 0, 0, 4, 6, 12, 16]
    # hard-swish stays within 0.15 of SiLU everywhere
    grid = np.linspace(-8, 8, 1601)
    assert np.abs(A.hard_swish(grid) - A.silu(grid)).max() < 0.15
    assert A.get("relu6").kinks == (0.0, 6.0)
    assert "relu6" not in A.PIECEWISE_LINEAR      # two kinks: no region counting
