"""The comparison protocol on synthetic metrics whose answer is known."""

import math

import numpy as np
import pytest

from rectified import compare as C


def _draws(mean, n, seed, sd=1.0):
    return np.random.default_rng(seed).normal(mean, sd, n)


def test_a_clear_difference_is_decided_for_the_better_arm():
    a, b = _draws(0.0, 8, 1), _draws(3.0, 8, 2)
    cmp = C.compare(a, b, "fast", "slow")              # lower is better
    assert cmp.decision == C.A_BETTER and cmp.winner == "fast"
    lo, hi = cmp.interval
    assert lo < cmp.difference < hi < 0
    C.assert_better(cmp, "fast")
    with pytest.raises(AssertionError, match="expected slow better"):
        C.assert_better(cmp, "slow")
    with pytest.raises(AssertionError, match="no distinguishable difference"):
        C.assert_indistinguishable(cmp)
    flipped = C.compare(a, b, "fast", "slow", lower_is_better=False)
    assert flipped.decision == C.B_BETTER and flipped.winner == "slow"


def test_equal_arms_are_mostly_not_distinguishable():
    # two arms drawn from one distribution: a 95% interval excludes 0 in about 5% of draws
    ties = [C.compare(_draws(0, 7, s), _draws(0, 7, 100 + s), seed=s).decision == C.TIE
            for s in range(60)]
    assert 0.85 <= np.mean(ties) <= 1.0
    C.assert_indistinguishable(C.compare(_draws(0, 7, 0), _draws(0, 7, 100)))


def test_a_difference_smaller_than_the_seed_spread_is_not_decided():
    a = np.array([1.00, 1.30, 0.80, 1.10, 0.90])
    cmp = C.compare(a, a + 0.005, "A", "B")
    assert cmp.decision == C.TIE and cmp.winner is None
    assert "not distinguishable at this scale" in cmp.describe()


def test_pairing_uses_the_per_seed_differences():
    base = _draws(0, 6, 3, sd=5.0)      # seeds differ a lot, the arms by a constant 1
    assert C.compare(base, base + 1.0).decision == C.TIE
    paired = C.compare(base, base + 1.0, paired=True)
    assert paired.decision == C.A_BETTER and paired.interval == (-1.0, -1.0)
    with pytest.raises(ValueError, match="same number of seeds"):
        C.compare(base, base[:5], paired=True)


def test_runs_that_never_reach_the_target_count_as_infinite():
    never = [math.inf] * 5
    cmp = C.compare([3.0, 4.0, 3.5, 2.5, 3.2], never, "reaches", "stalls")
    assert cmp.decision == C.A_BETTER and cmp.interval[0] == -math.inf
    assert C.compare(never, never).decision == C.TIE


def test_the_protocol_refuses_too_few_seeds_and_nan():
    with pytest.raises(ValueError, match="at least 5"):
        C.compare([1, 2, 3], [1, 2, 3, 4, 5], "three", "five")
    with pytest.raises(ValueError, match="NaN"):
        C.compare([1, 2, 3, 4, math.nan], [1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="level"):
        C.compare([1] * 5, [2] * 5, level=1.5)
    with pytest.raises(ValueError, match="winner must be"):
        C.assert_better(C.compare([1] * 5, [2] * 5), "C")


def test_choose_lr_finds_the_best_median_and_flags_an_edge():
    inside = C.choose_lr({0.05: [5, 6, 5], 0.1: [3, 2, 3], 0.2: [4, 4, 9]})
    assert inside.best == 0.1 and not inside.at_edge and inside.best_median == 3
    edge = C.choose_lr({0.05: [5, 6], 0.1: [3, 4], 0.2: [1, 2]})
    assert edge.best == 0.2 and edge.at_edge
    higher = C.choose_lr({0.05: [0.5], 0.1: [0.9], 0.2: [0.7]}, lower_is_better=False)
    assert higher.best == 0.1 and not higher.at_edge
    flat = C.choose_lr({0.1: [1.0], 0.2: [1.0]})
    assert flat.best == 0.1 and not flat.at_edge      # a tie is not an edge optimum


def test_choose_lr_rejects_coarse_or_bad_grids():
    with pytest.raises(ValueError, match="factor 2"):
        C.choose_lr({0.01: [1], 0.1: [1]})              # a step of 10
    with pytest.raises(ValueError, match="> 0"):
        C.choose_lr({0.0: [1], 0.1: [1]})
    with pytest.raises(ValueError, match="at least one"):
        C.choose_lr({})


def test_tune_lr_extends_the_grid_until_the_best_is_bracketed():
    asked = []

    def evaluate(lrs):            # best at lr = 2**-7 = 0.0078, far below the first grid
        asked.extend(lrs)
        return {lr: [abs(math.log2(lr) + 7)] for lr in lrs}

    choice = C.tune_lr(evaluate, [0.05, 0.1, 0.2])
    assert choice.best == pytest.approx(0.05 / 8) and not choice.at_edge
    assert asked[3:] == pytest.approx([0.025, 0.0125, 0.00625, 0.003125])
    capped = C.tune_lr(evaluate, [0.05, 0.1, 0.2], max_extensions=1)
    assert capped.at_edge and capped.best == pytest.approx(0.025)


def test_an_arm_summary_holds_its_values_median_and_interval():
    s = C.arm("relu", [3.0, 1.0, 2.0, 5.0, 4.0])
    assert s.median == 3.0 and list(s.values) == [3.0, 1.0, 2.0, 5.0, 4.0]
    assert 1.0 <= s.interval[0] <= 3.0 <= s.interval[1] <= 5.0
    assert C.arm("one value", [2.0] * 5).interval == (2.0, 2.0)


def test_draw_arms_shows_every_seed():
    import matplotlib.pyplot as plt

    from rectified import plots

    arms = [C.arm("relu", [1.0, 2.0, 3.0, 2.5, 1.5]), C.arm("tanh", [2.0, 4.0, math.inf,
                                                                       3.0, 3.5])]
    fig = plots.draw_arms(arms, ylabel="epochs to target")
    ax = fig.axes[0]
    points = [l for l in ax.lines if l.get_marker() in ("o", "^")]
    assert len(points) == 10 and sum(l.get_marker() == "^" for l in points) == 1
    assert [t.get_text() for t in ax.get_xticklabels()] == ["relu", "tanh"]
    plt.close(fig)


# --- Training speed: what one grid cell's picture shows ---------------------------------------

def _speed_runs():
    """(arm, lr, depth) -> two fake histories whose accuracy rises linearly with the step."""
    from rectified.train import History

    def hist(speed):
        h = History(config={})
        for k in range(6):
            h.step.append(10 * k)
            h.epoch.append(float(k))
            h.train_acc.append(min(1.0, 0.1 + speed * k))
        return h

    return {(arm, lr, 3): [hist(base * (1 + lr)), hist(base)]
            for arm, base in (("relu (He)", 0.2), ("tanh (Glorot)", 0.3),
                              ("sigmoid (Glorot)", 0.1))
            for lr in (0.1, 0.2, 0.4)}


def test_steps_to_target_interpolates_between_records():
    from rectified.train import History

    h = History(config={})
    for step, acc in ((0, 0.1), (10, 0.5), (20, 0.9), (30, 1.0)):
        h.step.append(step)
        h.train_acc.append(acc)
    assert C.steps_to_target(h, 0.7) == pytest.approx(15.0)
    assert C.steps_to_target(h, 0.7, interpolate=False) == 20.0
    assert C.steps_to_target(h, 0.05) == 0.0
    assert C.steps_to_target(h, 1.0) == 30.0
    h.train_acc[-1] = 0.95
    assert C.steps_to_target(h, 1.0) == math.inf
    with pytest.raises(ValueError, match="target_acc"):
        C.steps_to_target(h, 1.5)


def test_compute_training_speed_scales_the_best_rate_and_picks_each_rivals_best():
    runs = _speed_runs()
    r = C.compute_training_speed(C.SpeedState("tanh (Glorot)", lr_factor=0.5, depth=3),
                                 runs)
    assert r.best_lr == 0.4 and r.lr == 0.2           # half the best, among the rates run
    assert len(r.curves) == 2 and r.target_error == pytest.approx(5.0)
    steps, error = r.curves[1]
    np.testing.assert_allclose(error, 100 * (1 - np.minimum(1.0, 0.1 + 0.3 * steps / 10)),
                               atol=1e-9)
    assert set(r.rivals) == {"relu (He)", "sigmoid (Glorot)"}
    rate, curves, median = r.rivals["relu (He)"]
    assert rate == 0.4 and len(curves) == 2
    expected = np.median([C.steps_to_target(h, 0.95) for h in runs[("relu (He)", 0.4, 3)]])
    assert median == pytest.approx(expected)
    assert r.median_steps == pytest.approx(
        np.median([C.steps_to_target(h, 0.95) for h in runs[("tanh (Glorot)", 0.2, 3)]]))
    far = C.compute_training_speed(C.SpeedState("tanh (Glorot)", lr_factor=100, depth=3),
                                   runs)
    assert far.lr == 0.4                               # snaps to the largest rate run
    missed = C.compute_training_speed(C.SpeedState("sigmoid (Glorot)", depth=3,
                                                   target=0.99), runs)
    assert missed.median_steps == math.inf


def test_compute_training_speed_checks_its_inputs():
    runs = _speed_runs()
    with pytest.raises(ValueError, match="no runs for arm 'gelu'"):
        C.compute_training_speed(C.SpeedState("gelu", depth=3), runs)
    with pytest.raises(ValueError, match="no runs"):
        C.compute_training_speed(C.SpeedState("relu (He)", depth=1), runs)
    with pytest.raises(ValueError, match="target"):
        C.compute_training_speed(C.SpeedState(depth=3, target=1.5), runs)
    with pytest.raises(ValueError, match="lr_factor"):
        C.compute_training_speed(C.SpeedState(depth=3, lr_factor=0), runs)
    with pytest.raises(TypeError, match="SpeedState"):
        C.compute_training_speed(("relu", 0.1), runs)


def test_draw_training_speed_returns_its_figure():
    import matplotlib.pyplot as plt

    from rectified import plots

    result = C.compute_training_speed(C.SpeedState("relu (He)", depth=3), _speed_runs())
    fig = plots.draw_training_speed(result)
    assert len(fig.axes) == 1
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("sigmoid (Glorot)" in t for t in labels)
    plt.close(fig)


def test_comparison_table_has_one_row_per_comparison():
    a, b = [1.0, 2.0, 1.5, 1.2, 1.1], [5.0, 6.0, 5.5, 5.2, 5.1]
    table = C.comparison_table([C.compare(a, b, "fast", "slow"),
                                C.compare(a, a, "same", "again")], fmt=".1f")
    lines = table.splitlines()
    assert len(lines) == 4 and lines[2].startswith("| fast | slow | 1.2 | 5.2 |")
    assert "fast better" in lines[2] and C.TIE in lines[3]
    with pytest.raises(TypeError, match="Comparison"):
        C.comparison_table(["not a comparison"])
