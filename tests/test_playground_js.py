"""The browser playground (book/_static/playground/*.js) against the Python library: the
same activations with the same facts, the same state text form, and the same network
outputs on the same weights. Runs the JavaScript with Node.js (tests/js/bridge.mjs)."""

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from rectified import activations, models
from rectified import playground as P

ROOT = Path(__file__).resolve().parents[1]
BRIDGE = ROOT / "tests" / "js" / "bridge.mjs"
NODE = shutil.which("node")

if NODE is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must test the browser playground: Node.js is missing")
    pytest.skip("Node.js is not installed", allow_module_level=True)


def _ask(request: dict, tmp_path: Path) -> dict:
    """Send ``request`` to the JavaScript side (through a JSON file, kept for a failing
    test's reader) and return its answer."""
    fixture = tmp_path / "request.json"
    fixture.write_text(json.dumps(request))
    with fixture.open() as stdin:
        done = subprocess.run([NODE, str(BRIDGE)], stdin=stdin, capture_output=True,
                              text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    return _ask({"facts": True}, tmp_path_factory.mktemp("facts"))


def test_the_same_activations_with_the_same_facts(facts):
    js = {a["name"]: a for a in facts["activations"]}
    assert list(js) == activations.names(include_grouped=True)
    for name, a in js.items():
        act = activations.get(name)
        assert a["params"] == pytest.approx(dict(act.params)), name
        assert a["kinks"] == list(act.kinks), name
        assert a["grad_params"] == list(act.grad_params), name
        assert a["shape_param"] == act.shape_param, name
        assert a["negative_slope"] == act.negative_slope, name
        assert a["piecewise_linear"] == act.piecewise_linear, name
        assert a["can_die"] == act.can_die, name
        assert a["grouped"] == (act.pieces > 1), name


def test_the_same_state_defaults_limits_and_presets(facts):
    js, default = facts["state"], P.PlaygroundState()
    for short, name in P._KEYS.items():
        assert js["keys"][short] == name
        value = getattr(default, name)
        expected = list(value) if isinstance(value, tuple) else value
        assert js["defaults"][name] == expected, name
    assert list(js["keys"]) == list(P._KEYS)
    assert js["presets"] == P.PRESETS
    assert js["datasets"] == list(P.DATASETS)
    assert sorted(js["inits"]) == sorted(models.INITS)
    assert js["optimizers"] == list(P._OPTIMIZERS)
    assert {k: tuple(v) for k, v in js["int_ranges"].items()} == P._INT_RANGES
    assert {k: tuple(v) for k, v in js["float_ranges"].items()} == P._FLOAT_RANGES
    assert (js["max_layers"], js["max_width"], js["max_points"], js["max_coord"],
            js["max_text"]) == (P.MAX_LAYERS, P.MAX_WIDTH, P.MAX_POINTS, P.MAX_COORD,
                                P.MAX_TEXT)


TEXTS = [*P.PRESETS.values(), "data=ring",
         "data=spiral noise=0.1 n=200 test=0.5 act=maxout widths=5-6 k=3 lr=0.5 opt=adam "
         "batch=7 l2=0.001 g0=0.5 init=xavier seed=4",
         "data=ring n=0 pts=0.12,-0.5,1;-0.25,0.75,0;1e-05,0,1",
         "data=sine act=tanh pts=4.5,1.25;-4.75,-0.5", "data=xor lr=1e-4 noise=0"]


def test_each_side_reads_the_others_text(tmp_path):
    answers = _ask({"texts": TEXTS}, tmp_path)["texts"]
    for text, answer in zip(TEXTS, answers):
        assert "error" not in answer, (text, answer)
        # JavaScript's text of the setup is the same setup in Python, and vice versa
        assert P.PlaygroundState.decode(answer["text"]) == P.PlaygroundState.decode(text)
    python_texts = [P.PlaygroundState.decode(t).encode() for t in TEXTS]
    again = _ask({"texts": python_texts}, tmp_path)["texts"]
    assert [a["text"] for a in again] == [a["text"] for a in answers]


def test_bad_text_is_refused_on_both_sides(tmp_path):
    bad = ["data=circle", "widths=0-3", "lr=0", "n=5", "n=0", "pts=0,0,2", "pts=11,0,1",
           "data=sine pts=1,2,1", "act=swish", "g0=2"]
    for text, answer in zip(bad, _ask({"texts": bad}, tmp_path)["texts"]):
        assert "error" in answer, text
        with pytest.raises(ValueError):
            P.PlaygroundState.decode(text)


def _case(name: str, seed: int) -> tuple[dict, np.ndarray, list]:
    regression = name in ("gelu", "silu", "selu")      # a few nets with one output
    inputs, outputs = (1, 1) if regression else (2, 2)
    k = 3 if name == "maxout" else 2
    widths = [5, 4, 3]
    model = models.MLP(inputs, widths, outputs, activation=name, k=k, seed=seed,
                       init="xavier").double()
    slopes = None
    if name == "prelu":    # learned slopes, one per unit, away from the default
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for act in model.acts:
                act.weight.copy_(torch.rand(act.weight.shape, generator=gen,
                                            dtype=torch.float64))
        slopes = [act.weight.tolist() for act in model.acts]
    X = np.random.default_rng(seed).uniform(-2, 2, (64, inputs))
    with torch.no_grad():
        out, _, posts = model.forward_hidden(torch.as_tensor(X))
    case = {"activation": name, "inputs": inputs, "outputs": outputs, "widths": widths,
            "k": k, "slopes": slopes, "X": X.tolist(),
            "weights": [[layer.weight.tolist(), layer.bias.tolist()]
                        for layer in model.weight_layers]}
    return case, out.numpy(), [p.numpy() for p in posts]


def test_forward_outputs_equal_the_librarys_for_every_activation(tmp_path):
    names = activations.names(include_grouped=True)
    cases = [_case(name, seed) for seed, name in enumerate(names)]
    answers = _ask({"forward": [c for c, _, _ in cases]}, tmp_path)["forward"]
    assert len(answers) == len(names)
    for name, (case, out, posts), answer in zip(names, cases, answers):
        assert np.abs(out).max() > 1e-3, name      # a net whose output is not trivially 0
        np.testing.assert_allclose(answer["out"], out, atol=1e-5, rtol=1e-5,
                                   err_msg=name)
        for layer, (js, py) in enumerate(zip(answer["hidden"], posts)):
            np.testing.assert_allclose(js, py, atol=1e-5, rtol=1e-5,
                                       err_msg=f"{name}, hidden layer {layer}")
        assert not math.isnan(np.asarray(answer["out"]).sum())
