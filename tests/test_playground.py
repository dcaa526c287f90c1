import io
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from rectified import playground as P


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_every_preset_round_trips_through_its_text():
    for name, text in P.PRESETS.items():
        state = P.PlaygroundState.decode(text)
        assert P.PlaygroundState.decode(state.encode()) == state, name
    default = P.PlaygroundState()
    assert default.encode() == "data=ring"
    full = P.PlaygroundState(dataset="spiral", noise=0.1, n=200, test_fraction=0.5,
                             activation="maxout", widths=(5, 6), k=3, lr=0.5,
                             optimizer="adam", batch_size=7, l2=1e-3, grad_at_zero=0.5,
                             init="xavier", seed=4)
    assert P.PlaygroundState.decode(full.encode()) == full
    assert len(full.encode()) < 140


@pytest.mark.parametrize("text,fragment", [
    ("data=circle", "dataset must be one of"), ("act=swish", "activation must be one of"),
    ("opt=rmsprop", "optimizer must be one of"), ("init=kaiming", "init must be one of"),
    ("widths=0-3", "widths must be"), ("lr=0", "lr must be"), ("g0=2", "grad_at_zero"),
    ("n=5", "n must be an int from 10"), ("depth=3", "cannot read"),
    ("lr=fast", "lr must be a number"),
])
def test_bad_text_is_a_clear_error(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        P.PlaygroundState.decode(text)


def test_decode_needs_text():
    with pytest.raises(TypeError):
        P.PlaygroundState.decode(3)


def test_same_state_same_run_and_relu_learns_the_ring():
    state = P.PlaygroundState.decode("data=ring widths=8-8 lr=0.1")
    a, b = P.Run(state).step(300), P.Run(state).step(300)
    assert a.train_loss == b.train_loss and a.steps == [0, 300]
    assert a.accuracy()[0] > 0.9 and a.train_loss[-1] < a.train_loss[0]


def test_a_run_is_the_training_engine_stepped_by_hand():
    from rectified.train import TrainConfig, train

    state = P.PlaygroundState.decode("data=moons widths=6 lr=0.1 opt=momentum l2=0.001 batch=16")
    run = P.Run(state).step(40).step(25)
    assert run.steps == [0, 40, 65] and run.step_count == 65
    assert run.train_loss is run.trainer.history.loss and run.optimizer is run.trainer.optimizer
    fresh = P.Run(state)
    ref = train(fresh.model, fresh.data, TrainConfig(
        optimizer="momentum", lr=0.1, weight_decay=0.001, batch_size=16, steps=65,
        record_every=65, seed=0, diagnostics=False))
    assert ref.loss[-1] == run.train_loss[-1] and ref.test_loss[-1] == run.test_loss[-1]
    assert all(torch.equal(p, q) for p, q in zip(fresh.model.parameters(),
                                                 run.model.parameters()))


def test_linear_activation_cannot_learn_the_ring():
    run = P.Run(P.PlaygroundState.decode("data=ring act=linear widths=3-3-3")).step(300)
    assert run.accuracy()[0] < 0.75


def test_high_learning_rate_kills_units_and_divergence_stops_training():
    run = P.Run(P.PlaygroundState.decode(P.PRESETS["dying at a high learning rate"]))
    run.step(300)
    assert sum(d.sum() for d in run.dead_units()) >= 4
    wild = P.Run(P.PlaygroundState.decode("data=sine widths=32-32 lr=10 act=relu"))
    wild.step(50)
    assert wild.diverged
    before, records = wild.step_count, list(wild.steps)
    assert wild.step(10).step_count == before and wild.steps == records
    assert math.isfinite(wild.train_loss[-1])       # the last record is before the blow-up


@pytest.mark.parametrize("text", ["data=xor act=maxout k=3 widths=4", "data=sine widths=8",
                                  "data=gaussians act=prelu", "data=moons act=relu g0=1"])
def test_render_draws_boundary_loss_and_unit_maps(text):
    run = P.Run(P.PlaygroundState.decode(text)).step(20)
    fig = P.render(run)
    assert len(fig.axes) >= 3
    assert "step 20" in fig.axes[0].get_title()
    assert np.isnan(run.accuracy()[0]) == run.state.is_regression


def test_dead_units_are_crossed_out():
    run = P.Run(P.PlaygroundState.decode("data=ring widths=4"))
    with torch.no_grad():
        run.model.linears[0].bias[:] = -100.0
    fig = P.render(run)
    crossed = [ax for ax in fig.axes[2:] if sum(line.get_visible() for line in ax.lines) == 2]
    assert len(crossed) == 4


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "leaky_relu", "maxout"])
def test_units_that_cannot_die_are_never_called_dead(act):
    run = P.Run(P.PlaygroundState.decode(f"data=ring act={act} widths=4"))
    with torch.no_grad():       # every pre-activation far below zero
        run.model.linears[0].bias[:] = -100.0
    assert not run.can_die and not any(d.any() for d in run.dead_units())
    fig = P.render(run)
    assert not any(line.get_visible() for ax in fig.axes[2:] for line in ax.lines)
    assert any("cannot die" in t.get_text() for t in fig.texts)


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


@pytest.mark.parametrize("text", ["data=ring act=relu widths=3-3-3 lr=0.03",
                                  "data=sine widths=6", "data=xor act=maxout k=2 widths=5"])
def test_a_live_frame_is_the_same_picture_as_a_full_redraw(text):
    """The live scene keeps a bitmap of the still parts and redraws only what changes; the
    result must be what drawing the whole figure from scratch gives, frame after frame,
    including after the loss axes grow."""
    live = P.Scene(P.Run(P.PlaygroundState.decode(text)), live=True)
    limits = []
    for steps in (0, 7, 0, 120):
        live.run.step(steps)
        frame = _pixels(live.update().frame())
        limits.append(live._loss_limits)
        fig = P.render(live.run)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=72)
        plt.close(fig)
        full = _pixels(buf.getvalue())
        assert frame.shape == full.shape
        # anti-aliased edges may differ by a shade where a redrawn artist meets the bitmap
        assert np.mean(np.abs(frame - full) > 8) < 0.0005, text
    # the whole figure is drawn once, then again only when the loss axes change (at the
    # latest when training passes 100 steps)
    changes = sum(a != b for a, b in zip(limits, limits[1:]))
    assert limits[-1][0] == 200 and changes >= 1
    assert live.full_draws == 1 + changes


def test_loss_axes_grow_rarely_in_whole_steps():
    run = P.Run(P.PlaygroundState.decode("data=xor widths=4"))
    assert P._loss_limits(run)[0] == 100
    run.step(150)
    xmax, lo, hi = P._loss_limits(run)
    assert xmax == 200 and lo <= min(run.train_loss) and hi >= max(run.test_loss)
    assert np.log10(lo) == int(np.log10(lo)) and np.log10(hi) == int(np.log10(hi))
    run.train_loss[:], run.test_loss[:] = [np.nan] * len(run.steps), [np.inf] * len(run.steps)
    assert P._loss_limits(run) == (200, 0.1, 10.0)     # a diverged run still gets axes


def test_only_a_live_scene_makes_frames():
    with pytest.raises(ValueError, match="live=True"):
        P.Scene(P.Run(P.PlaygroundState())).frame()


def test_frame_times_benchmark_returns_one_time_per_frame():
    times = P.frame_times(P.PlaygroundState(), frames=3, steps_per_frame=2)
    assert times.shape == (3,) and np.all(times > 0)


def test_widget_steps_resets_and_loads_states_from_text_and_presets():
    box = P.widget("data=xor widths=4 lr=0.1", steps_per_frame=3)
    c = box.controls
    assert box.run().state.dataset == "xor" and c["widths"].value == "4"
    picture = box.children[1]
    before = bytes(picture.value)
    assert before.startswith(b"\x89PNG\r\n\x1a\n")
    c["step"].click()
    assert bytes(picture.value) != before   # a new frame after every step
    c["play"].value = 1            # one tick of the play button
    assert box.run().step_count == 6
    c["reset"].click()
    assert box.run().step_count == 0
    c["text"].value = "data=spiral act=tanh widths=5-5"
    assert box.run().state.activation == "tanh" and c["activation"].value == "tanh"
    assert c["preset"].value == "(custom)"
    c["preset"].value = "sine with ReLU"
    assert box.run().state.dataset == "sine" and c["text"].value == P.PRESETS["sine with ReLU"].replace(" act=relu", "")
    c["widths"].value = "3-3"
    assert box.run().state.widths == (3, 3) and c["preset"].value == "(custom)"
    assert P.widget(P.PRESETS["ring, ReLU"]).controls["preset"].value == "ring, ReLU"
    c["widths"].value = "0"
    assert "widths must be" in box.children[0].children[3].children[1].value
    c["text"].value = "nonsense"
    assert "cannot read" in box.children[0].children[3].children[1].value


def test_widget_says_in_static_html_that_it_needs_a_kernel():
    bundle = P.widget("data=xor widths=2")._repr_mimebundle_()
    assert "running kernel" in bundle["text/html"]


@pytest.mark.parametrize("text, field", [
    ("n=100000000", "n"), ("n=5", "n"), ("lr=a", "lr"), ("lr=0", "lr"), ("lr=nan", "lr"),
    ("lr=100", "lr"), ("seed=-1", "seed"), ("seed=x", "seed"), ("widths=3-a", "widths"),
    ("widths=100", "widths"), ("widths=1-1-1-1-1-1-1-1-1", "widths"), ("noise=inf", "noise"),
    ("noise=2", "noise"), ("k=2.5", "k"), ("k=9", "k"), ("batch=0", "batch_size"),
    ("l2=-1", "l2"), ("l2=nan", "l2"), ("g0=2", "grad_at_zero"), ("test=1", "test_fraction"),
    ("act=relu7", "activation"), ("opt=lbfgs", "optimizer"), ("init=zero", "init"),
    ("data=moons2", "dataset"), ("lr=0.1 lr=0.2", "lr"), ("momentum=5", "momentum"),
])
def test_each_bad_field_is_named_in_its_own_message(text, field):
    with pytest.raises(ValueError, match=field):
        P.PlaygroundState.decode(text)


def test_a_state_text_of_absurd_length_is_refused():
    with pytest.raises(ValueError, match="characters long"):
        P.PlaygroundState.decode("seed=1 " * 1000)


@pytest.mark.parametrize("bad", [{"n": 2.5}, {"seed": True}, {"widths": "3-3"},
                                 {"lr": "0.1"}, {"noise": None}])
def test_wrong_types_are_refused_when_the_state_is_built(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        P.PlaygroundState(**bad)


def test_every_value_a_control_can_produce_round_trips_exactly():
    import ipywidgets as w

    lr = w.FloatLogSlider(min=-4, max=1, step=0.25)
    noise = w.FloatSlider(min=0, max=0.5, step=0.01)
    lrs = [10 ** (-4 + 0.25 * i) for i in range(21)]
    for value in lrs:
        lr.value = value
        s = P.PlaygroundState(lr=lr.value)
        assert P.PlaygroundState.decode(s.encode()) == s
    for i in range(51):
        noise.value = i * 0.01
        s = P.PlaygroundState(noise=noise.value, l2=1 / 3, grad_at_zero=0.5, batch_size=i + 1)
        assert P.PlaygroundState.decode(s.encode()) == s


def test_the_readers_points_join_the_training_set_and_round_trip():
    base = P.Run(P.PlaygroundState.decode("data=ring"))
    state = P.PlaygroundState.decode("data=ring pts=0.12,-0.5,1;-0.25,0.75,0")
    assert state.points == ((0.12, -0.5, 1), (-0.25, 0.75, 0))
    assert P.PlaygroundState.decode(state.encode()) == state
    run = P.Run(state)
    assert len(run.Xtr) == len(base.Xtr) + 2 and len(run.Xte) == len(base.Xte)
    assert run.ytr[-2:].tolist() == [1, 0]
    assert np.allclose(run.Xtr[-2:].numpy(), [[0.12, -0.5], [-0.25, 0.75]])
    sine = P.PlaygroundState(dataset="sine", points=[(4.5, 1), (-4.75, -0.5)])
    assert sine.points == ((4.5, 1.0), (-4.75, -0.5))
    assert P.Run(sine).ytr[-1].tolist() == [-0.5]


def test_n_zero_trains_on_the_readers_points_alone():
    pts = ";".join(f"{x},{y},{int(x * x + y * y < 0.25)}"
                   for x in (-0.9, -0.45, 0, 0.45, 0.9) for y in (-0.9, -0.3, 0.3, 0.9))
    run = P.Run(P.PlaygroundState.decode(f"data=ring n=0 widths=8-8 lr=0.1 pts={pts}"))
    assert len(run.Xtr) == 20 and len(run.Xte) == 0
    run.step(400)
    assert run.train_loss[-1] < run.train_loss[0] and math.isnan(run.test_loss[-1])
    assert run.accuracy()[0] >= 0.9 and math.isnan(run.accuracy()[1])
    P.render(run)
    plt.close("all")


@pytest.mark.parametrize("text,fragment", [
    ("n=0", "at least 2 points"), ("pts=0,0,2", "label 0 or 1"),
    ("pts=11,0,1", "within"), ("data=sine pts=1,2,1", r"\(x, y\)"),
    ("pts=0,0,x", r"pts \(points\) must be points"),
])
def test_bad_points_are_a_clear_error(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        P.PlaygroundState.decode(text)
    many = ";".join(["0,0,1"] * (P.MAX_POINTS + 1))
    with pytest.raises(ValueError, match="at most 200"):
        P.PlaygroundState.decode(f"pts={many}")
    with pytest.raises(ValueError, match="characters long"):
        P.PlaygroundState.decode("data=ring " * 700)


def test_the_widget_reads_a_state_with_points_and_drops_them_for_1d_data():
    box = P.widget("data=ring n=0 pts=0.1,0.2,1;-0.5,0.5,0")
    assert box.run().state.points == ((0.1, 0.2, 1), (-0.5, 0.5, 0))
    assert "pts=" in box.controls["text"].value
    box.controls["dataset"].value = "sine"
    state = box.run().state
    assert state.dataset == "sine" and state.points == () and state.n == 300
    plt.close("all")
