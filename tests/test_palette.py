"""The book's colours stay distinguishable for colour-blind readers.

Each colour is seen as with full protanopia, deuteranopia and tritanopia (the simulation
matrices of Machado, Oliveira and Fernandes 2009, severity 1, applied in linear RGB), and
every pair of activation colours, and the two class colours, must stay at least
``MIN_DELTA_E`` apart in CIELAB (CIE76) under normal vision and under each simulation.
A difference of about 10 is an easy glance for thin lines; the palette's worst pair is
about 16."""

import itertools

import numpy as np
import pytest

from rectified import activations, plots

MIN_DELTA_E = 15.0

SIMULATIONS = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def _linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ np.clip(linear_rgb, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _closest_pair(colours: dict, simulation: np.ndarray):
    labs = {n: _lab(simulation @ _linear(c)) for n, c in colours.items()}
    return min((float(np.linalg.norm(labs[a] - labs[b])), a, b)
               for a, b in itertools.combinations(labs, 2))


@pytest.mark.parametrize("vision", SIMULATIONS)
def test_activation_colours_stay_apart(vision):
    gap, a, b = _closest_pair(plots.COLORS, SIMULATIONS[vision])
    assert gap >= MIN_DELTA_E, f"{a} and {b} differ by only {gap:.1f} ({vision})"


@pytest.mark.parametrize("vision", SIMULATIONS)
def test_class_colours_stay_apart(vision):
    gap, _, _ = _closest_pair(dict(enumerate(plots.CLASS_COLORS)), SIMULATIONS[vision])
    assert gap >= 2 * MIN_DELTA_E


def test_the_check_catches_a_red_green_pair():
    red_green = {"a": "#d62728", "b": "#2ca02c"}     # the old ReLU and SiLU colours
    assert _closest_pair(red_green, SIMULATIONS["normal"])[0] > 60
    assert _closest_pair(red_green, SIMULATIONS["deuteranopia"])[0] < 10


def test_every_activation_has_a_colour():
    assert set(activations.names(include_grouped=True)) <= set(plots.COLORS)
