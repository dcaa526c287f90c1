import numpy as np
import pytest
import torch

from rectified import data, polarity


def test_centred_inverse_is_the_negative():
    raw = data.digits(standardize=False)
    X = polarity.centre_images(raw.X_test)
    assert np.allclose(polarity.centre_images(16.0 - raw.X_test), -X, atol=1e-12)
    assert np.allclose(X.mean(axis=1), 0, atol=1e-12)
    d = polarity.centred_digits()
    assert d.X_train.shape[1] == 64 and d.n_classes == 10


@pytest.mark.parametrize("layers, expected", [
    ("none", [0.0, 0.0]), ("first", [2.0, 0.0]), ("all", [2.0, 2.0])])
def test_polarity_net_puts_abs_where_asked(layers, expected):
    net = polarity.polarity_net(polarity.PolarityState(layers))
    assert [float(act(torch.tensor(-2.0))) for act in net.acts] == expected
    assert torch.all(net.linears[0].bias == 0)
    assert not net.linears[0].bias.requires_grad


@pytest.mark.parametrize("layers", ["first", "all"])
def test_abs_in_the_first_layer_makes_every_layer_blind_to_the_sign(layers):
    r = polarity.compute_polarity(polarity.PolarityState(layers, epochs=1))
    assert r.feature_gap == (0.0, 0.0)
    assert r.accuracy_inverted == r.accuracy > 0.5


def test_a_relu_net_sees_the_inverse_as_another_image():
    r = polarity.compute_polarity(polarity.PolarityState("none", epochs=2))
    assert all(gap > 0.1 for gap in r.feature_gap)
    assert r.accuracy_inverted < r.accuracy - 0.3


@pytest.mark.parametrize("kwargs, error", [
    (dict(abs_layers="middle"), ValueError), (dict(seed=-1), ValueError),
    (dict(epochs=0), ValueError), (dict(lr=0.0), ValueError),
    (dict(widths=[64]), TypeError), (dict(widths=()), TypeError),
    (dict(widths=(0,)), ValueError)])
def test_polarity_state_checks(kwargs, error):
    with pytest.raises(error):
        polarity.PolarityState(**kwargs)
    with pytest.raises(TypeError, match="PolarityState"):
        polarity.polarity_net("first")
