import matplotlib.pyplot as plt
import numpy as np
import pytest

from rectified import data, models, piecewise, plots, propagation, widgets
from rectified.train import TrainConfig, train


def render_interpolant(state):
    """The introduction's widget render: state → result → figure."""
    return plots.draw_interpolant(piecewise.compute_interpolant(state))


def test_use_style_sets_the_house_style():
    plots.use_style()
    assert plt.rcParams["axes.spines.top"] is False


def test_activation_curves_draw_one_line_per_name():
    ax = plots.activation_curves(["relu", "tanh", "leaky_relu"], slope=0.2)
    lines = [l for l in ax.get_lines() if l.get_label() in ("relu", "tanh", "leaky_relu")]
    assert len(lines) == 3
    leaky = [l for l in lines if l.get_label() == "leaky_relu"][0]
    x, y = leaky.get_data()
    assert np.isclose(y[0], 0.2 * x[0])
    fig, ax2 = plt.subplots()
    assert plots.activation_curves("sigmoid", ax=ax2, derivative=True) is ax2
    assert "derivative" in ax2.get_ylabel()


def test_decision_boundary_and_training_curves():
    ds = data.classification_2d("ring", n=100)
    net = models.MLP(2, [8], 2)
    ax = plots.decision_boundary(net, ds.X_train, ds.y_train, X_test=ds.X_test,
                                 y_test=ds.y_test, resolution=30, title="ring")
    assert ax.get_title() == "ring" and len(ax.collections) >= 4
    h = train(net, ds, TrainConfig(lr=0.1, epochs=2, diagnostics=False))
    ax = plots.training_curves({"relu": h}, metric="train_acc", log=True)
    assert ax.get_yscale() == "log" and ax.get_lines()[0].get_color() == plots.COLORS["relu"]


def test_layer_bars():
    ax = plots.layer_bars({"relu": [1, 2, 3], "tanh": [3, 2, 1]}, log=True, ylabel="norm",
                          title="t")
    assert len(ax.patches) == 6 and ax.get_ylabel() == "norm"
    assert plots.color("unknown", 3) == "C3"


def test_interpolant_error_shrinks_with_units():
    results = [piecewise.compute_interpolant(piecewise.InterpolantState(n_units=n))
               for n in (2, 8, 32)]
    errors = [r.max_error for r in results]
    assert errors[0] > errors[1] > errors[2]
    r = results[1]
    assert r.units.shape == (600, 8) and len(r.kinks) == 8
    np.testing.assert_allclose(r.kink_values, np.sin(r.kinks))
    assert r.max_error == pytest.approx(np.abs(r.y_net - r.y_target).max())
    assert abs(r.y_net[0] - r.y_target[0]) < 1e-5 and abs(r.y_net[-1] - r.y_target[-1]) < 1e-5
    with pytest.raises(ValueError, match="lo < hi, got lo=1.0"):
        piecewise.compute_interpolant(piecewise.InterpolantState(lo=1.0, hi=-1.0))
    with pytest.raises(TypeError, match="InterpolantState"):
        piecewise.compute_interpolant({"n_units": 3})


def test_draw_interpolant_draws_one_line_per_unit():
    r = piecewise.compute_interpolant(piecewise.InterpolantState(n_units=3))
    fig = plots.draw_interpolant(r)
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 3 + 3
    fig, ax = plt.subplots()
    assert plots.draw_interpolant(r, ax=ax) is fig


def test_small_multiples_tiles_renders():
    states = [piecewise.InterpolantState(n_units=n) for n in (1, 2, 3, 4)]
    gallery = widgets.small_multiples(render_interpolant, states, titles=list("abcd"),
                                      ncols=2)
    assert gallery.n_panels == 4 and ">d</figcaption>" in gallery._repr_html_()


def test_interactive_redraws_when_a_control_moves():
    import ipywidgets as w

    box = widgets.interactive(render_interpolant, piecewise.InterpolantState(),
                              n_units=(1, 16), target=list(data.TARGETS_1D),
                              hi=w.FloatSlider(min=1, max=8), static=False)
    assert "text/html" not in box._repr_mimebundle_()
    slider = box.children[0].children[0]
    slider.value = 9
    assert box.state().n_units == 9
    box.children[0].children[1].value = "abs"
    assert box.state().target == "abs"
    box2 = widgets.interactive(
        lambda s: plots.draw_activation(propagation.compute_activation(s)),
        propagation.ActivationState(), param=(0.0, 1.0), derivative=True,
        static={"param": [0.0, 1.0]})
    assert box2.state().name == "relu"
    assert 'alt="2 panels: &#x27;relu' in box2._repr_mimebundle_()["text/html"]


def test_static_version_has_one_frame_per_combination_and_switching_script():
    box = widgets.interactive(render_interpolant, piecewise.InterpolantState(n_units=4),
                              n_units=(1, 16), target=["sine", "abs"])
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    page = bundle["text/html"]
    import json
    import re

    payload = json.loads(re.search(r'class="rw-data">(.*?)</script>', page).group(1))
    # n_units: 7 evenly spaced values in [1, 16] (rounded; the current value 4 is one);
    # target: both options
    assert payload["labels"]["n_units"] == ["1", "4", "6", "8", "11", "14", "16"]
    assert payload["labels"]["target"] == ["sine", "abs"]
    assert len(payload["frames"]) == 7 * 2
    assert payload["frames"]["1|0"].startswith("data:image/png;base64,")
    assert 'type="range"' in page and "<select" in page and "addEventListener" in page
    # the frame shown first is the current state's
    assert 'value="1"' in page and payload["frames"]["1|0"] in page
    with pytest.raises(ValueError, match="would need 64 frames"):
        widgets.interactive(render_interpolant, piecewise.InterpolantState(),
                            n_units=(1, 64), static={"n_units": list(range(1, 65))},
                            max_frames=40)
    with pytest.raises(ValueError, match="have no control"):
        widgets.interactive(render_interpolant, piecewise.InterpolantState(),
                            n_units=(1, 8), static={"target": ["sine"]})
    # a selection slider's frames are its options, as a dropdown's
    import ipywidgets

    box = widgets.interactive(render_interpolant, piecewise.InterpolantState(n_units=5),
                              n_units=ipywidgets.SelectionSlider(options=[2, 5, 9]))
    payload = json.loads(re.search(r'class="rw-data">(.*?)</script>',
                                   box._repr_mimebundle_()["text/html"]).group(1))
    assert payload["labels"]["n_units"] == ["2", "5", "9"]
