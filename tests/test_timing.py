"""The timing harness (rectified.timing)."""

import itertools

import numpy as np
import pytest
import torch

from rectified import timing


def _fake_clock(step=0.5):
    ticks = itertools.count()
    return lambda: next(ticks) * step


def test_time_call_counts_warmup_repeats_and_number():
    calls = []
    t = timing.time_call(lambda: calls.append(1), repeats=4, warmup=2, number=3, label="f",
                         clock=_fake_clock(0.6))
    assert len(calls) == 2 + 4 * 3
    assert t.label == "f" and len(t.times) == 4 and t.number == 3
    assert t.median == pytest.approx(0.2) and t.best == pytest.approx(0.2)
    assert t.spread == pytest.approx(0.0)
    assert "median" in repr(t)


def test_time_many_interleaves_and_keeps_order():
    order = []
    res = timing.time_many({"a": lambda: order.append("a"), "b": lambda: order.append("b")},
                           repeats=3, warmup=1)
    assert list(res) == ["a", "b"]
    assert order == ["a", "b"] + ["a", "b"] * 3          # warm-up, then round-robin
    synced = []
    timing.time_many({"a": lambda: None}, repeats=2, warmup=0, sync=lambda: synced.append(1))
    assert len(synced) == 1 + 2 * 2


def test_robust_ratio_between_cheap_and_expensive_work():
    # a copy of 1e6 floats versus 200 of them: the ratio is huge, so even a loaded machine
    # keeps it above 5
    big, small = np.ones(1_000_000), np.ones(200)
    res = timing.time_many({"big": big.copy, "small": small.copy}, repeats=5)
    assert res["big"].median > 5 * res["small"].median
    assert timing.bandwidth_gb_s(res["big"], 2 * big.nbytes) > 0


def test_forward_backward_runs_a_backward_pass():
    x = torch.linspace(-2, 2, 11)
    seen = []

    def fn(t):
        seen.append(t.requires_grad)
        return torch.relu(t)

    step = timing.forward_backward(fn, x)
    step()
    assert all(seen) and not x.requires_grad
    t = timing.time_call(step, repeats=2)
    assert t.median > 0


def test_forward_backward_can_share_one_input_and_upstream():
    leaf = torch.linspace(-2, 2, 11).requires_grad_(True)
    upstream = torch.full((11,), 2.0)
    relu_step = timing.forward_backward(torch.relu, leaf, upstream=upstream)
    tanh_step = timing.forward_backward(torch.tanh, leaf, upstream=upstream)
    relu_step()
    torch.testing.assert_close(leaf.grad, 2.0 * (leaf.detach() > 0).float())
    tanh_step()                                   # the grad is reset, not summed
    torch.testing.assert_close(leaf.grad, 2.0 * (1 - torch.tanh(leaf.detach()) ** 2))
    with pytest.raises(ValueError, match="upstream"):
        timing.forward_backward(torch.relu, leaf, upstream=torch.ones(3))


def test_cuda_sync_and_argument_errors():
    assert timing.cuda_sync("cpu") is None
    if torch.cuda.is_available():
        sync = timing.cuda_sync("cuda")
        sync()
    else:
        with pytest.raises(ValueError, match="no CUDA"):
            timing.cuda_sync("cuda")
    with pytest.raises(ValueError, match="non-empty"):
        timing.time_many({})
    with pytest.raises(TypeError, match="callable"):
        timing.time_many({"x": 3})
    with pytest.raises(ValueError, match="repeats"):
        timing.time_call(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="nbytes"):
        timing.bandwidth_gb_s(timing.time_call(lambda: None), 0)
    assert timing.Timing("z", (0.0, 0.0)).spread == float("inf")


def test_peak_memory_counts_numpy_temporaries():
    x = np.ones((512, 512), dtype=np.float32)
    assert round(timing.peak_memory(lambda: np.maximum(x, 0)) / x.nbytes) == 1
    assert round(timing.peak_memory(lambda: 1 / (1 + np.exp(-x))) / x.nbytes) == 2
    with pytest.raises(TypeError, match="callable"):
        timing.peak_memory(x)


def test_multiply_adds_of_a_matmul_and_an_activation():
    x, w = torch.ones(8, 5), torch.ones(5, 3)
    assert timing.multiply_adds(lambda: x @ w) == 8 * 5 * 3
    assert timing.multiply_adds(lambda: torch.relu(x)) == 0
    with pytest.raises(TypeError, match="callable"):
        timing.multiply_adds(None)
