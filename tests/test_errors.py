"""Wrong input gets an error that names the argument, the bad value and what is allowed."""

import numpy as np
import pytest
import torch

from rectified import activations, data, diagnostics, models, piecewise, plots, widgets
from rectified.train import TrainConfig, Trainer, train


def render_interpolant(state):
    return plots.draw_interpolant(piecewise.compute_interpolant(state))


BAD = [
    # (callable, exception, message fragment)
    (lambda: activations.get("relu6"), ValueError, "known activations: relu, leaky_relu"),
    (lambda: activations.get(3), TypeError, "must be a str"),
    (lambda: activations.get("relu", slope=0.1), ValueError, "its parameters: grad_at_zero"),
    (lambda: activations.get("relu", grad_at_zero=2), ValueError, "allowed values lie in [0.0, 1.0]"),
    (lambda: activations.relu_grad(np.zeros(2), grad_at_zero=-0.5), ValueError, "not a subgradient"),
    (lambda: activations.relu_grad(np.zeros(2), grad_at_zero="half"), TypeError, "must be a number"),
    (lambda: activations.get("softplus", beta=0), ValueError, "beta of 'softplus' must be > 0"),
    (lambda: activations.get("elu", alpha=-1.0), ValueError, "alpha of 'elu' must be >= 0"),
    (lambda: activations.get("leaky_relu", slope=float("nan")), ValueError, "must be finite"),
    (lambda: activations.maxout(np.zeros((2, 5)), 2), ValueError, "divisible by k=2"),
    (lambda: activations.maxout(np.zeros((2, 4)), 0), ValueError, "k must be >= 1"),
    (lambda: activations.maxout(np.zeros((2, 4)), 2.0), TypeError, "k must be an int"),
    (lambda: data.classification_2d("circles"), ValueError, "known: ring, xor"),
    (lambda: data.ring(n=1), ValueError, "n must be >= 2"),
    (lambda: data.ring(n=10.5), TypeError, "n must be an int"),
    (lambda: data.xor(noise=-0.1), ValueError, "noise must be a finite number >= 0"),
    (lambda: data.split(np.zeros((4, 2)), np.zeros(3)), ValueError, "same length"),
    (lambda: data.split(np.zeros((4, 2)), np.zeros(4), test_fraction=1.5), ValueError,
     "strictly between 0 and 1"),
    (lambda: data.regression_1d("cosine"), ValueError, "known: sine, exp, abs"),
    (lambda: data.regression_1d(lo=1, hi=0), ValueError, "need lo < hi"),
    (lambda: models.MLP(2, [4], 2, init="kaiming"), ValueError, "known inits: he, xavier"),
    (lambda: models.MLP(2, [4, 0], 2), ValueError, "positive ints"),
    (lambda: models.MLP(2, [4], 2, activation="swish"), ValueError, "unknown activation 'swish'"),
    (lambda: models.MLP(2, [4], 2, batchnorm="middle"), ValueError, "batchnorm must be one of"),
    (lambda: models.MLP(2, [4], 2, dropout=1.0), ValueError, "dropout must lie in [0, 1)"),
    (lambda: models.MLP(2, [4], 2, init_scale=0), ValueError, "init scale must be"),
    (lambda: models.MLP(2, [4], 2, seed="0"), TypeError, "seed must be an int"),
    (lambda: models.MLP(0, [4], 2), ValueError, "in_features must be a positive int"),
    (lambda: models.MLP.from_weights([(np.ones((3, 2)), np.zeros(3))]), ValueError,
     "at least one hidden layer"),
    (lambda: models.MLP.from_weights([(np.ones((3, 2)), np.zeros(3)), (np.ones((1, 4)), np.zeros(1))]),
     ValueError, "do not chain"),
    (lambda: models.ElmanRNN(2, 8, 1, recurrent_init="eye"), ValueError, "known: gaussian, identity"),
    (lambda: models.ElmanRNN(2, 8, 1).forward_states(torch.zeros(3, 2)), ValueError,
     "(batch, time, features)"),
    (lambda: models.SmallCNN(channels=(4,)), ValueError, "pair of positive ints"),
    (lambda: models.resolve_device("tpu"), ValueError, "'cpu', 'cuda' or 'auto'"),
    (lambda: models.relu_interpolant([0, 0, 1], [1, 2, 3]), ValueError, "strictly increasing"),
    (lambda: models.relu_interpolant([0, 1], [1, 2, 3]), ValueError, "equal length"),
    (lambda: TrainConfig(optimizer="rmsprop", epochs=1), ValueError, "known: sgd, momentum, adam"),
    (lambda: TrainConfig(lr=-1, epochs=1), ValueError, "lr must be a finite number > 0"),
    (lambda: TrainConfig(), ValueError, "exactly one of epochs and steps"),
    (lambda: TrainConfig(epochs=1, steps=5), ValueError, "exactly one of epochs and steps"),
    (lambda: TrainConfig(epochs=0), ValueError, "epochs must be a positive int"),
    (lambda: TrainConfig(epochs=1, batch_size=2.5), ValueError, "batch_size must be a positive int"),
    (lambda: TrainConfig(epochs=1, loss="hinge"), ValueError, "unknown loss 'hinge'"),
    (lambda: TrainConfig(epochs=1, weight_decay=-1e-4), ValueError, "weight_decay must be >= 0"),
    (lambda: TrainConfig(epochs=1, clip=0), ValueError, "clip must be > 0"),
    (lambda: train(models.MLP(2, [3], 2), (np.zeros((4, 2)), np.zeros(4)), TrainConfig(epochs=1)),
     TypeError, "must be a rectified.data.Dataset"),
    (lambda: train(models.MLP(2, [3], 2), data.classification_2d("xor"), {"epochs": 1}),
     TypeError, "cfg must be a TrainConfig"),
    (lambda: train(torch.zeros(3), data.classification_2d("xor"), TrainConfig(epochs=1)),
     TypeError, "model must be a torch nn.Module or a rectified.models.MLPEnsemble, got Tensor"),
    (lambda: train(models.MLPEnsemble([models.MLP(2, [3], 2)] * 2), data.classification_2d("xor"),
                   [TrainConfig(epochs=1, seed=0), TrainConfig(epochs=2, seed=1)]),
     ValueError, "epochs must be the same for all members, got 1 and 2"),
    (lambda: Trainer(models.MLP(2, [3], 2), data.classification_2d("xor"),
                     TrainConfig(epochs=1)).step(1.5),
     ValueError, "n must be an int >= 0 (steps to take), got 1.5"),
    (lambda: diagnostics.regions_along_line(models.MLP(2, [3], 1, activation="tanh"), [0, 0], [1, 1]),
     ValueError, "activation is one of"),
    (lambda: diagnostics.regions_along_line(models.MLP(2, [3], 1), [0], [1]), ValueError,
     "points of the input space (dimension 2)"),
    (lambda: diagnostics.regions_on_grid(models.MLP(2, [3], 1), resolution=1), ValueError,
     "resolution must be an int >= 2"),
    (lambda: diagnostics.dead_units(models.ElmanRNN(2, 3, 1), np.zeros((2, 3, 2))), TypeError,
     "must expose forward_hidden"),
    (lambda: diagnostics.gradient_norms(models.MLP(2, [3], 2), np.zeros((2, 2)), np.zeros(2), "l1"),
     ValueError, "loss must be"),
    (lambda: diagnostics.spectral_radius(np.ones((2, 3))), ValueError, "square matrix"),
    (lambda: diagnostics.largest_singular_value(np.ones(3)), ValueError, "2-D matrix"),
    (lambda: plots.decision_boundary(models.MLP(3, [2], 2), np.zeros((4, 3)), np.zeros(4)),
     ValueError, "shape (n, 2)"),
    (lambda: plots.training_curves({"a": object()}, metric="accuracy"), ValueError, "no metric"),
    (lambda: plots.layer_bars({}), ValueError, "at least one"),
    (lambda: piecewise.compute_interpolant(piecewise.InterpolantState(target="tan")),
     ValueError, "unknown target"),
    (lambda: piecewise.compute_interpolant(piecewise.InterpolantState(n_units=0)), ValueError,
     "n_units must be a positive int"),
    (lambda: widgets.interactive(render_interpolant, piecewise.InterpolantState(), depth=(1, 3)),
     ValueError, "no field(s) ['depth']"),
    (lambda: widgets.interactive(render_interpolant, {"n_units": 3}), TypeError,
     "must be a dataclass"),
    (lambda: widgets.interactive(render_interpolant, piecewise.InterpolantState(), n_units=3),
     TypeError, "control for 'n_units'"),
    (lambda: widgets.small_multiples(render_interpolant, []), ValueError, "at least one"),
    (lambda: widgets.small_multiples(render_interpolant, [piecewise.InterpolantState()],
                                     titles=["a", "b"]), ValueError, "2 titles for 1 states"),
]


@pytest.mark.parametrize("call,exc,fragment", BAD, ids=[f"bad{i:02d}" for i in range(len(BAD))])
def test_bad_input_raises_a_clear_error(call, exc, fragment):
    with pytest.raises(exc) as info:
        call()
    assert fragment in str(info.value)


def test_at_least_fifteen_bad_inputs_are_checked():
    assert len(BAD) >= 15


def test_cuda_request_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present, so asking for one is not an error here")
    with pytest.raises(ValueError, match="no CUDA device"):
        models.resolve_device("cuda")
