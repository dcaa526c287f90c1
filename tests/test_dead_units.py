"""Dead-unit machinery of the dying ReLU chapter: margins, unit traces, born-dead Monte Carlo,
the pixel-scaled digits and the dead-unit map widget."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rectified import data, diagnostics, models, plots
from rectified.diagnostics import first_dead_layer, max_pre_activation
from rectified.train import TrainConfig, UnitTrace, trace_units, train


def test_max_pre_activation_is_the_margin_that_decides_death():
    X = np.random.default_rng(0).standard_normal((50, 3)).astype(np.float32)
    net = models.MLP(3, [5, 4], 2, seed=1)
    with torch.no_grad():
        net.linears[0].bias[0] = -100.0                   # unit 0 of layer 1 is dead
    margins = max_pre_activation(net, X)
    pres = diagnostics.pre_activations(net, X)
    for m, z, dead in zip(margins, pres, diagnostics.dead_units(net, X)):
        np.testing.assert_allclose(m, z.max(dim=0).values.numpy())
        np.testing.assert_array_equal(m <= 0, dead)
    assert margins[0][0] < 0


def test_on_record_is_called_at_every_record():
    ds = data.classification_2d("xor", n=80)
    seen = []
    hist = train(models.MLP(2, [4], 2, seed=0), ds, TrainConfig(lr=0.1, epochs=3, batch_size=20),
                 on_record=lambda m, h: seen.append(len(h.step)))
    assert seen == list(range(1, len(hist.step) + 1))


def test_trace_units_keeps_one_margin_row_per_record():
    ds = data.classification_2d("ring", n=100)
    net = models.MLP(2, [6, 5], 2, seed=0)
    tr = trace_units(net, ds, TrainConfig(lr=0.5, steps=12, batch_size=10, record_every=3,
                                          diagnostics=False))
    assert isinstance(tr, UnitTrace)
    assert [m.shape for m in tr.margin] == [(5, 6), (5, 5)]
    np.testing.assert_array_equal(tr.step, [0, 3, 6, 9, 12])
    final = max_pre_activation(net, ds.X_train)
    for layer in range(2):
        np.testing.assert_allclose(tr.margin[layer][-1], final[layer], rtol=1e-6)
        np.testing.assert_array_equal(~tr.alive(layer)[-1], diagnostics.dead_units(net, ds.X_train)[layer])
    with pytest.raises(ValueError, match="layer"):
        tr.alive(2)


def test_batched_draws_follow_the_library_inits():
    gen = torch.Generator().manual_seed(0)
    W, b = models.draw_init("he", 8, 50, gen, 0.1, batch=(400,))
    assert W.shape == (400, 8, 50) and b.shape == (400, 8)
    assert abs(W.std().item() - np.sqrt(2 / 50)) < 0.01 and torch.all(b == 0.1)
    # asymmetric: each unit's 6 entries (5 weights and the bias) hold one
    # Beta(2, 1) draw (mean 2/3, mean square 1/2) among N(0, 0.6007²/5)
    # draws (Lu et al.'s scale), so the squared length is 1/2 + 0.6007²
    W, b = models.draw_init("asymmetric", 20000, 5, gen, 0.0, batch=(1,))
    vectors = torch.cat([W[0], b[0, :, None]], dim=1)          # (units, fan_in + 1)
    assert abs(vectors.mean().item() - (2 / 3) / 6) < 0.01
    others = vectors[vectors != vectors.max(dim=1, keepdim=True).values]
    assert abs(others.std().item() - models.RAI_SIGMA / np.sqrt(5)) < 0.01
    assert abs((vectors ** 2).sum(dim=1).mean().item()
               - (0.5 + models.RAI_SIGMA ** 2)) < 0.02
    assert torch.all(vectors.max(dim=1).values > 0)


def test_first_dead_layer_agrees_with_the_mlp_diagnostics():
    X = np.random.default_rng(1).standard_normal((20, 3)).astype(np.float32)
    for seed in range(12):
        first = first_dead_layer(X, 2, 6, n_nets=1, init="asymmetric", seed=seed)[0]
        gen = torch.Generator().manual_seed(seed)
        layers, fan_in = [], 3
        for _ in range(6):
            W, b = models.draw_init("asymmetric", 2, fan_in, gen, 0.0, batch=(1,))
            layers.append((W[0].numpy(), b[0].numpy()))
            fan_in = 2
        dead_by = [diagnostics.all_dead_layer(models.MLP.from_weights(
            layers[:depth] + [(np.ones((1, 2)), np.zeros(1))]), X) for depth in range(1, 7)]
        expected = dead_by.index(True) + 1 if any(dead_by) else 0
        assert first == expected


def test_first_dead_layer_matches_the_one_input_formula():
    # one input, zero bias, symmetric weights: each layer zeroes it with probability 2^-w
    x = np.ones((1, 4), dtype=np.float32)
    first = first_dead_layer(x, 2, 5, n_nets=20000, init="he", seed=0)
    p = 1 - 0.75 ** 5
    assert abs((first > 0).mean() - p) < 4 * np.sqrt(p * (1 - p) / 20000)
    asym = first_dead_layer(x, 2, 5, n_nets=20000, init="asymmetric", seed=0)
    assert (asym > 0).mean() < (first > 0).mean()


@pytest.mark.parametrize("kwargs, match", [
    ({"init": "xavier"}, "init"), ({"width": 0}, "width"), ({"depth": 2.5}, "depth"),
    ({"n_nets": True}, "n_nets"), ({"X": np.zeros(3)}, "shape")])
def test_first_dead_layer_rejects_bad_arguments(kwargs, match):
    args = {"X": np.zeros((2, 3)), "width": 2, "depth": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        first_dead_layer(**args)


def test_digits_pixels_are_in_the_unit_interval():
    ds = data.digits_pixels()
    assert ds.X_train.min() == 0 and ds.X_train.max() == 1 and ds.X_test.max() <= 1
    assert ds.X_train.shape == (1348, 64) and ds.n_classes == 10
    np.testing.assert_allclose(ds.X_train * 16, data.digits(standardize=False).X_train)


def test_every_dead_map_remedy_builds_and_unknown_ones_fail():
    for remedy in diagnostics.DEAD_MAP_REMEDIES:
        model, cfg = diagnostics.dead_map_setup(
            diagnostics.DeadMapState(remedy=remedy, width=4, depth=1))
        assert isinstance(model, models.MLP) and cfg.batch_size == 32
    model, cfg = diagnostics.dead_map_setup(diagnostics.DeadMapState(remedy="adam", lr=0.01))
    assert cfg.optimizer == "adam" and cfg.lr == 0.01
    model, _ = diagnostics.dead_map_setup(diagnostics.DeadMapState(remedy="batchnorm_before"))
    assert model.batchnorm == "before"
    _, cfg = diagnostics.dead_map_setup(
        diagnostics.DeadMapState(remedy="clip_1.0"))
    assert cfg.clip == 1.0 and cfg.optimizer == "sgd"
    with pytest.raises(ValueError, match="remedy 'dropout'"):
        diagnostics.dead_map_setup(diagnostics.DeadMapState(remedy="dropout"))
    with pytest.raises(ValueError, match="width"):
        diagnostics.dead_map_setup(diagnostics.DeadMapState(width=0))
    with pytest.raises(TypeError, match="DeadMapState"):
        diagnostics.dead_map_setup({"lr": 0.5})


def test_compute_dead_map_sorts_units_by_lifetime_and_matches_its_trace():
    state = diagnostics.DeadMapState(lr=2.0, epochs=1, width=6, depth=2, record_every=20)
    result = diagnostics.compute_dead_map(state)
    trace = result.trace
    assert result.state == state and len(result.alive) == 2
    for layer, alive in enumerate(result.alive):
        assert alive.shape == (6, len(trace.step))
        lifetimes = alive.sum(1)
        assert (np.diff(lifetimes) <= 0).all()                  # longest-lived first
        assert sorted(lifetimes) == sorted(trace.alive(layer).sum(0))
    np.testing.assert_array_equal(result.step, trace.history.step)
    np.testing.assert_array_equal(result.test_acc, trace.history.test_acc)
    last = np.concatenate([trace.alive(l)[-1] for l in range(2)])
    assert result.dead_fraction == pytest.approx(1 - last.mean())
    assert result.diverged == trace.history.diverged
    assert result.final_test_acc == trace.history.test_acc[-1]
    # the same state gives the same run
    again = diagnostics.compute_dead_map(state)
    for a, b in zip(result.alive, again.alive):
        np.testing.assert_array_equal(a, b)


def test_draw_dead_map_draws_map_and_accuracy():
    state = diagnostics.DeadMapState(lr=2.0, epochs=1, width=6, depth=2, record_every=20)
    fig = plots.draw_dead_map(diagnostics.compute_dead_map(state))
    assert len(fig.axes) == 2
    plt.close(fig)


def test_dead_overlap_counts_units_dead_at_birth_and_after():
    X = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    before = models.MLP(3, [5, 4], 2, seed=0)
    after = models.MLP(3, [5, 4], 2, seed=0)
    with torch.no_grad():
        before.linears[0].bias[:2] = -100.0      # units 0, 1 dead at the start
        after.linears[0].bias[1:4] = -100.0      # units 1-3 dead at the end
    first, second = diagnostics.dead_overlap(before, after, X)
    assert (first.born, first.after, first.both) == (2, 3, 1)
    assert (first.units, first.new) == (5, 2)
    expected = int(diagnostics.dead_units(after, X)[1].sum())
    assert second.after == expected and second.units == 4
    with pytest.raises(ValueError, match="hidden widths"):
        diagnostics.dead_overlap(before, models.MLP(3, [6, 4], 2), X)


def test_trace_steps_measures_each_update_relative_to_the_weights():
    ds = data.classification_2d("ring", n=60)
    net = models.MLP(2, [6, 5], 2, seed=0)
    W0 = [lin.weight.detach().clone() for lin in net.linears]
    cfg = TrainConfig(lr=0.3, steps=4, batch_size=20, diagnostics=False)
    tr = diagnostics.trace_steps(net, ds, cfg)
    assert tr.relative.shape == (4, 1, 2) and tr.norm.shape == (5, 1, 2)
    np.testing.assert_allclose(tr.norm[0, 0], [float(w.norm()) for w in W0],
                               rtol=1e-6)
    trained = [float(lin.weight.detach().norm()) for lin in net.linears]
    np.testing.assert_allclose(tr.norm[-1, 0], trained, rtol=1e-6)
    # the same run through train.train ends at the same weights
    twin = models.MLP(2, [6, 5], 2, seed=0)
    train(twin, ds, cfg)
    for a, b in zip(net.linears, twin.linears):
        torch.testing.assert_close(a.weight, b.weight)
    # one plain SGD step lr·g: the trace keeps its length relative to W
    one = models.MLP(2, [6, 5], 2, seed=0)
    full = TrainConfig(lr=0.3, steps=1, batch_size=None, diagnostics=False)
    step = diagnostics.trace_steps(one, ds, full).relative[0, 0]
    moved = [float((l.weight.detach() - w).norm() / w.norm())
             for l, w in zip(one.linears, W0)]
    np.testing.assert_allclose(step, moved, rtol=1e-5)


def test_trace_steps_keeps_a_row_per_ensemble_member_and_rejects_others():
    ds = data.classification_2d("xor", n=60)
    ens = models.MLPEnsemble([models.MLP(2, [4], 2, seed=s) for s in range(3)])
    cfgs = [TrainConfig(lr=lr, steps=3, batch_size=20, seed=s)
            for s, lr in enumerate((0.01, 0.1, 1.0))]
    tr = diagnostics.trace_steps(ens, ds, cfgs)
    assert tr.relative.shape == (3, 3, 1) and len(tr.histories) == 3
    # relative steps grow with the learning rate, member by member
    assert (np.diff(tr.relative.mean(axis=0)[:, 0]) > 0).all()
    with pytest.raises(TypeError, match="MLP or MLPEnsemble"):
        diagnostics.trace_steps(torch.nn.Linear(2, 2), ds, cfgs[0])
