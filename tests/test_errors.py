"""Wrong input gets an error that names the argument, the bad value and what is allowed."""

import threading

import numpy as np
import pytest
import torch

from rectified import (activations, continual, data, diagnostics, models, piecewise, plots,
                       recurrence, widgets)
from rectified.train import TrainConfig, Trainer, train


def render_interpolant(state):
    return plots.draw_interpolant(piecewise.compute_interpolant(state))


BAD = [
    # (callable, exception, message fragment)
    (lambda: activations.get("relu7"), ValueError, "known activations: relu, leaky_relu"),
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
    (lambda: data.ring(n=1), ValueError, "n must be an int in [2, 10000000]"),
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
    (lambda: models.MLP(2, [4], 2, dropout=1.0), ValueError, "dropout must be a finite number in [0, 1)"),
    (lambda: models.MLP(2, [4], 2, init_scale=0), ValueError, "init_scale must be"),
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
    (lambda: TrainConfig(epochs=1, weight_decay=-1e-4), ValueError, "weight_decay must be a finite number >= 0"),
    (lambda: TrainConfig(epochs=1, clip=0), ValueError, "clip must be a finite number > 0"),
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
     "n_units must be an int in [1, 512]"),
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

NAN, INF = float("nan"), float("inf")
EMPTY = np.zeros((0, 2))


def relu_net(out=1):
    return models.MLP(2, [3], out)


def empty_dataset():
    X, y = np.zeros((0, 2), np.float32), np.zeros(0, np.int64)
    return data.Dataset(X, y, X, y, "empty", 2)


def nan_dataset():
    X = np.full((4, 2), np.nan, np.float32)
    return data.Dataset(X, np.zeros(4, np.int64), X, np.zeros(4, np.int64), "nan", 2)


# Each bad value is refused where it enters (constructor or top of the function), by name.
BAD += [
    # hangs and silent garbage
    (lambda: diagnostics.regions_along_line(relu_net(), [0, 0], [1, 1], eps=-1e-3),
     ValueError, "eps must be a finite number in (0, 1)"),
    (lambda: diagnostics.regions_along_line(relu_net(), [0, 0], [1, 1], eps=NAN),
     ValueError, "eps must be a finite number in (0, 1)"),
    (lambda: diagnostics.regions_along_line(relu_net(), [0, NAN], [1, 1]), ValueError,
     "start must hold finite numbers"),
    (lambda: diagnostics.first_dead_layer(EMPTY, 3, 2, n_nets=5), ValueError,
     "X must not be empty"),
    (lambda: diagnostics.first_dead_layer(np.ones((4, 2)), 3, 2, bias_init=NAN), ValueError,
     "bias_init must be a finite number"),
    (lambda: diagnostics.first_dead_layer(np.ones((4, 2)), 3, 2, seed=-1), ValueError,
     "seed must be an int in [0,"),
    (lambda: diagnostics.dead_units(relu_net(), EMPTY), ValueError, "X must not be empty"),
    (lambda: diagnostics.dead_units(relu_net(), np.full((3, 2), np.nan)), ValueError,
     "X must hold finite numbers"),
    (lambda: diagnostics.activation_rate(relu_net(), EMPTY), ValueError, "X must not be empty"),
    (lambda: diagnostics.gradient_norms(relu_net(2), EMPTY, np.zeros(0)), ValueError,
     "X must not be empty"),
    (lambda: diagnostics.gradient_norms(relu_net(2), np.zeros((3, 2)), np.zeros(2)),
     ValueError, "X and y must have the same length"),
    (lambda: diagnostics.regions_on_grid(relu_net(), xlim=(NAN, 1)), ValueError,
     "xlim must hold finite numbers"),
    (lambda: diagnostics.regions_on_grid(relu_net(), ylim=(1, 0)), ValueError,
     "ylim must be a pair (lo, hi)"),
    (lambda: diagnostics.regions_on_grid(relu_net(), resolution=100_000), ValueError,
     "resolution must be an int in [2, 2000]"),
    (lambda: diagnostics.DeadMapState(depth=0), ValueError, "depth must be an int in [1, 64]"),
    (lambda: diagnostics.DeadMapState(width=10 ** 6), ValueError,
     "width must be an int in [1, 4096]"),
    (lambda: diagnostics.DeadMapState(lr=NAN), ValueError, "lr must be a finite number > 0"),
    (lambda: diagnostics.DeadMapState(remedy="dropout"), ValueError, "unknown remedy 'dropout'"),
    (lambda: data.spiral(turns=NAN), ValueError, "turns must be a finite number > 0"),
    (lambda: data.gaussians(distance=INF), ValueError, "distance must be a finite number >= 0"),
    (lambda: data.xor(margin=2), ValueError, "margin must be a finite number in [0, 1)"),
    (lambda: data.xor(noise="0.1"), TypeError, "noise must be a finite number >= 0"),
    (lambda: data.ring(seed=-1), ValueError, "seed must be an int in [0,"),
    (lambda: data.ring(n=10 ** 12), ValueError, "n must be an int in [2, 10000000]"),
    (lambda: data.split(EMPTY, np.zeros(0)), ValueError, "X must not be empty"),
    (lambda: data.split(np.full((4, 2), np.nan), np.zeros(4)), ValueError,
     "X must hold finite numbers"),
    (lambda: data.split(np.zeros((4, 2)), np.zeros(4), test_fraction="0.2"), TypeError,
     "test_fraction must be a finite number"),
    (lambda: data.regression_1d(lo=NAN), ValueError, "lo must be a finite number"),
    (lambda: data.adding_problem(n=10 ** 6, length=10 ** 6), ValueError,
     "n * length must be <="),
    (lambda: data.permuted(data.classification_2d("xor"), seed=-3), ValueError,
     "seed must be an int in [0,"),
    (lambda: models.MLP(2, [3], 1, bias_init=NAN), ValueError,
     "bias_init must be a finite number"),
    (lambda: models.MLP(2, [], 2), ValueError, "hidden widths must be a non-empty list"),
    (lambda: models.MLP(2, [3], 2, seed=-1), ValueError, "seed must be an int in [0,"),
    (lambda: models.MLP(2, [3], 2, dropout="0.5"), TypeError, "dropout must be a finite number"),
    (lambda: models.MLP(2, [3], 2, k=2.5), TypeError, "k must be an int >= 1"),
    (lambda: models.Maxout(2, 3, k=2.5), TypeError, "k must be an int >= 1"),
    (lambda: models.Maxout(0, 3), ValueError, "in_features must be a positive int"),
    (lambda: models.ElmanRNN(2, 8, 1, scale=NAN), ValueError, "scale must be a finite number"),
    (lambda: models.relu_interpolant([0, 1, 2], [0, NAN, 1]), ValueError,
     "values must hold finite numbers"),
    (lambda: models.relu_interpolant([0, INF], [0, 1]), ValueError,
     "knots must hold finite numbers"),
    (lambda: models.generator(-1), ValueError, "seed must be an int in [0,"),
    # blame in the right place: at the config, not at step 1
    (lambda: TrainConfig(epochs=1, weight_decay=NAN), ValueError,
     "weight_decay must be a finite number >= 0"),
    (lambda: TrainConfig(epochs=1, momentum=5), ValueError,
     "momentum must be a finite number in [0, 1]"),
    (lambda: TrainConfig(epochs=1, seed="a"), TypeError, "seed must be an int"),
    (lambda: TrainConfig(epochs=1, seed=-1), ValueError, "seed must be an int in [0,"),
    (lambda: TrainConfig(epochs=1, lr="0.1"), TypeError, "lr must be a finite number > 0"),
    (lambda: TrainConfig(epochs=1, activation_l1=INF), ValueError,
     "activation_l1 must be a finite number >= 0"),
    (lambda: TrainConfig(epochs=1, stop_at_train_acc=1.5), ValueError,
     "stop_at_train_acc must be a finite number in [0, 1]"),
    (lambda: TrainConfig(epochs=1, diagnostics="yes"), TypeError,
     "diagnostics must be a bool"),
    (lambda: train(relu_net(2), empty_dataset(), TrainConfig(epochs=1)), ValueError,
     "data.X_train must not be empty"),
    (lambda: train(relu_net(2), nan_dataset(), TrainConfig(epochs=1)), ValueError,
     "data.X_train must hold finite numbers"),
    # errors that name the argument instead of numpy's or torch's internals
    (lambda: activations.get("leaky_relu", slope="a"), TypeError,
     "parameter slope of 'leaky_relu' must be a number"),
    (lambda: activations.get("elu", alpha=True), TypeError,
     "parameter alpha of 'elu' must be a number"),
    (lambda: widgets.small_multiples(render_interpolant, [piecewise.InterpolantState()],
                                     ncols=0), ValueError, "ncols must be an int in [1, 100]"),
    (lambda: widgets.small_multiples(render_interpolant, [piecewise.InterpolantState()],
                                     dpi=NAN), ValueError, "dpi must be a finite number"),
    (lambda: widgets.small_multiples(None, [piecewise.InterpolantState()]), TypeError,
     "render must be a callable"),
    (lambda: recurrence.compute_recurrence(recurrence.RecurrenceState(scale=NAN)), ValueError,
     "scale must be a finite number >= 0"),
    (lambda: recurrence.RecurrenceState(length=10 ** 9), ValueError,
     "length must be an int in [1, 100000]"),
    (lambda: recurrence.RecurrenceState(seed=-1), ValueError, "seed must be an int in [0,"),
    (lambda: recurrence.AddingState(arm="GRU"), ValueError, "arm must be one of"),
    (lambda: recurrence.AddingState(lrs=(0.01, -1)), ValueError,
     "each of lrs must be a finite number > 0"),
    (lambda: piecewise.InterpolantState(n_units=1_000_000), ValueError,
     "n_units must be an int in [1, 512]"),
    (lambda: piecewise.InterpolantState(lo=NAN), ValueError, "lo must be a finite number"),
    (lambda: piecewise.InterpolantState(target=3), ValueError, "unknown target 3"),
    (lambda: piecewise.MaxoutFitState(k=1000), ValueError, "k must be an int in [1, 64]"),
    (lambda: continual.ForgettingState(width=0), ValueError, "width must be an int in [1, 4096]"),
    (lambda: continual.ForgettingState(dropout=1.0), ValueError,
     "dropout must be a finite number in [0, 1)"),
    (lambda: continual.ForgettingState(activation="swish"), ValueError,
     "unknown activation 'swish'"),
]

#: Seconds one bad call may take: a check that loops or allocates without end fails here.
TIMEOUT_S = 10


def call_with_timeout(call, seconds=TIMEOUT_S):
    """Run ``call`` in a daemon thread; fail the test if it has not returned in time, else
    re-raise what it raised (or return its result)."""
    box = {}

    def target():
        try:
            box["result"] = call()
        except BaseException as err:           # handed back to the test's thread
            box["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"the call did not return within {seconds} s")
    if "error" in box:
        raise box["error"]
    return box.get("result")


@pytest.mark.parametrize("call,exc,fragment", BAD, ids=[f"bad{i:02d}" for i in range(len(BAD))])
def test_bad_input_raises_a_clear_error(call, exc, fragment):
    with pytest.raises(exc) as info:
        call_with_timeout(call)
    assert fragment in str(info.value)


def test_at_least_sixty_bad_inputs_are_checked():
    assert len(BAD) >= 60


def test_cuda_request_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present, so asking for one is not an error here")
    with pytest.raises(ValueError, match="no CUDA device"):
        models.resolve_device("cuda")


def test_the_shared_checks_name_the_argument_and_return_plain_values():
    from rectified import checks

    assert checks.check_int("n", np.int64(3), 1, 5) == 3
    assert checks.check_number("x", np.float32(0.5), 0, 1) == 0.5
    assert checks.check_seed("seed", 0) == 0
    assert checks.check_choice("kind", "a", ("a", "b")) == "a"
    t = torch.ones(2, 3)
    assert checks.check_array("X", t, 2) is t
    assert checks.check_array("X", [[1, 2]], {1, 2}).shape == (1, 2)
    cases = [
        (lambda: checks.check_int("n", True), TypeError, "n must be an int"),
        (lambda: checks.check_int("n", 7, hi=5), ValueError, "n must be an int <= 5, got 7"),
        (lambda: checks.check_number("x", "1"), TypeError, "x must be a finite number"),
        (lambda: checks.check_number("x", 1.0, hi=1, hi_open=True), ValueError,
         "x must be a finite number < 1"),
        (lambda: checks.check_seed("seed", 2 ** 64), ValueError,
         "seed must be an int in [0,"),
        (lambda: checks.check_array("X", ["a", "b"]), TypeError, "X must be an array of numbers"),
        (lambda: checks.check_array("X", [[1], [2, 3]]), TypeError,
         "X must be an array of numbers"),
        (lambda: checks.check_array("X", np.zeros(3), 2), ValueError, "X must have 2 dimensions"),
        (lambda: checks.check_array("X", torch.tensor([1.0, float("inf")])), ValueError,
         "X must hold finite numbers"),
        (lambda: checks.check_array("X", np.zeros((3, 0))), ValueError, "X must not be empty"),
        (lambda: checks.check_array("X", np.zeros(1), min_rows=2), ValueError,
         "at least 2 rows"),
        (lambda: checks.check_choice("kind", ["a"], ("a", "b")), ValueError,
         "kind must be one of 'a', 'b'"),
        (lambda: checks.check_type("state", 3, str, "a str"), TypeError,
         "state must be a str, got int"),
    ]
    for call, exc, fragment in cases:
        with pytest.raises(exc) as info:
            call()
        assert fragment in str(info.value)
