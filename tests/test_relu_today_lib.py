"""The ReLU-today chapter's library: character corpus, gated feed-forward character
models, zero counting and skipping, post-training quantisation, and their drawings."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from rectified import (activations, compare, data, gating, models, plots, quantise,
                       sparsity, train)

TEXT = "def f(a, b):\n    return a + b  # add\n" * 40


@pytest.fixture(scope="module")
def corpus():
    return data.char_corpus(text=TEXT, context=4)


# --- data ---------------------------------------------------------------------------------

def test_char_corpus_windows_and_split(corpus):
    ds = corpus.dataset
    assert corpus.context == 4 and corpus.n_chars == len(TEXT)
    assert ds.n_classes == len(set(TEXT)) == len(corpus.vocab)
    assert list(corpus.vocab) == sorted(set(TEXT))
    # each example is 4 consecutive characters and the one after them
    window = "".join(corpus.vocab[i] for i in ds.X_train[5])
    assert window + corpus.vocab[ds.y_train[5]] == TEXT[5:10]
    # split by position, 80 : 10 : 10, nothing shared
    n = len(TEXT)
    assert len(ds.X_train) == int(0.8 * n) - 4
    assert len(ds.X_test) == int(0.9 * n) - int(0.8 * n) - 4
    assert len(corpus.X_test) == n - int(0.9 * n) - 4
    assert corpus.source == "<text>" and len(corpus.sha256) == 64


def test_stdlib_corpus_is_read_from_disk():
    text, path = data.stdlib_text("bisect")
    assert path.endswith("bisect.py") and "def insort" in text
    c = data.char_corpus("bisect", context=3)
    assert c.n_chars == len(text) and c.source == path


def test_char_corpus_rejects_bad_input():
    with pytest.raises(ValueError, match="too short"):
        data.char_corpus(text="abc" * 5, context=8)
    with pytest.raises(TypeError):
        data.char_corpus(text=3)
    with pytest.raises(TypeError):
        data.stdlib_text(7)
    with pytest.raises(ValueError, match="no Python source"):
        data.stdlib_text("sys")
    with pytest.raises(ValueError):
        data.char_corpus(text=TEXT, context=0)


# --- gating -------------------------------------------------------------------------------

def test_gated_width_matches_parameter_count():
    assert gating.hidden_width("relu", 96) == 96
    assert gating.hidden_width("swiglu", 96) == 64
    specs = {a: gating.FFNSpec(vocab=20, arm=a) for a in gating.FFN_ARMS}
    assert len({s.ffn_params for s in specs.values()}) == 1
    assert len({s.n_params for s in specs.values()}) == 1
    lm = gating.FFNLanguageModel(specs["geglu"], seeds=[0])
    assert sum(p.numel() for p in lm.parameters()) == specs["geglu"].n_params
    with pytest.raises(ValueError):
        gating.ffn_arm("tanh")


def test_feed_forward_numpy_matches_the_formula():
    rng = np.random.default_rng(0)
    x, W1, V, W2 = (rng.standard_normal(s) for s in ((5, 4), (4, 6), (4, 6), (6, 4)))
    plain = gating.feed_forward(x, W1, W2, "relu")
    np.testing.assert_allclose(plain, np.maximum(x @ W1, 0) @ W2)
    glu = gating.feed_forward(x, W1, W2, "reglu", V=V)
    np.testing.assert_allclose(glu, (np.maximum(x @ W1, 0) * (x @ V)) @ W2)
    with pytest.raises(ValueError, match="needs V"):
        gating.feed_forward(x, W1, W2, "swiglu")
    with pytest.raises(ValueError, match="takes no V"):
        gating.feed_forward(x, W1, W2, "gelu", V=V)


def test_ensemble_members_match_models_run_alone(corpus):
    spec = gating.FFNSpec(vocab=corpus.dataset.n_classes, context=4, d_model=8, d_ff=12,
                          blocks=2, arm="swiglu", embed=4)
    lm = gating.FFNLanguageModel(spec, seeds=[3, 7])
    X = torch.as_tensor(corpus.dataset.X_train[:10])
    out, pres, posts = lm.forward_hidden(X)
    assert out.shape == (2, 10, spec.vocab) and len(pres) == 2
    assert posts[0].shape == (2, 10, 8)
    alone = gating.FFNLanguageModel(spec, seeds=[7])
    torch.testing.assert_close(alone(X)[0], out[1])
    torch.testing.assert_close(lm.select([1])(X)[0], out[1])
    torch.testing.assert_close(lm(X, members=[1])[0], out[1])
    # per-member inputs (K, B, T) give the same as a shared batch
    torch.testing.assert_close(lm(X.expand(2, *X.shape)), out)
    with pytest.raises(ValueError, match="shape"):
        lm(X[:, :3])
    with pytest.raises(IndexError):
        lm.select([2])


def test_large_evaluations_run_in_pieces(corpus, monkeypatch):
    spec = gating.FFNSpec(vocab=corpus.dataset.n_classes, context=4, d_model=8, d_ff=6,
                          embed=4)
    lm = gating.FFNLanguageModel(spec, seeds=[0, 1])
    X = torch.as_tensor(corpus.dataset.X_train[:50])
    with torch.no_grad():
        whole = lm.forward_hidden(X)
        monkeypatch.setattr(gating, "_CHUNK", 16)
        pieces = lm.forward_hidden(X)
        logits = lm(X)
    torch.testing.assert_close(pieces[0], whole[0])
    torch.testing.assert_close(logits, whole[0])
    torch.testing.assert_close(pieces[2][0], whole[2][0])


def test_swapping_the_activation_keeps_the_weights(corpus):
    spec = gating.FFNSpec(vocab=corpus.dataset.n_classes, context=4, d_model=8, d_ff=6,
                          arm="gelu", embed=4)
    lm = gating.FFNLanguageModel(spec, seeds=[0, 1])
    relu = lm.with_arm("relu")
    assert relu.spec.arm == "relu" and relu.act.name == "relu"
    for p, q in zip(lm.parameters(), relu.parameters()):
        assert torch.equal(p, q)
    X = torch.as_tensor(corpus.dataset.X_train[:30])
    with torch.no_grad():
        _, pres, posts = relu.forward_hidden(X)
    assert torch.equal(posts[0], torch.relu(pres[0]))
    with pytest.raises(ValueError, match="swap plain"):
        lm.with_arm("reglu")


def test_compute_lm_tunes_and_scores(corpus):
    state = gating.LMState(arm="reglu", d_model=8, d_ff=12, steps=30, batch_size=16,
                           lrs=(0.01, 0.02), seeds=(0, 1), max_extensions=1, context=4)
    r = gating.compute_lm(state, corpus)
    assert r.lr in r.choice.grid and len(r.choice.grid) in (2, 3)
    assert r.val_bpc.shape == r.test_bpc.shape == (2,)
    assert np.all(np.isfinite(r.test_bpc))
    # below the uniform guess of log2(vocab) bits after 30 steps
    assert np.all(r.val_bpc < math.log2(corpus.dataset.n_classes))
    np.testing.assert_allclose(r.val_bpc, gating.bits_per_char(
        gating.loss_per_member(r.model, corpus.dataset.X_test, corpus.dataset.y_test)),
        rtol=1e-4)
    assert len(r.histories) == 2 and len(r.model) == 2
    with pytest.raises(TypeError):
        gating.compute_lm("relu", corpus)


def test_lm_state_checks():
    with pytest.raises(ValueError):
        gating.LMState(arm="nope")
    with pytest.raises(ValueError):
        gating.LMState(seeds=(1, 1))
    with pytest.raises(ValueError):
        gating.LMState(lrs=())
    with pytest.raises(ValueError):
        gating.LMState(lrs=(-1.0,))
    with pytest.raises(ValueError):
        gating.FFNSpec(vocab=1)
    with pytest.raises(ValueError, match="at least one seed"):
        gating.FFNLanguageModel(gating.FFNSpec(vocab=5), seeds=[])


# --- sparsity -----------------------------------------------------------------------------

def test_zero_counts():
    h = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 3.0, 0.0], [1.0, 0.0, 0.0]])
    assert sparsity.zero_fraction(h) == 8 / 12
    assert sparsity.zero_fraction(torch.as_tensor(h)) == pytest.approx(8 / 12)
    assert sparsity.shared_zero_fraction(h, 1) == pytest.approx(8 / 12)
    # batches of 2 rows: unit 0 zero in both rows of the first, unit 2 in the second
    assert sparsity.shared_zero_fraction(h, 2) == pytest.approx(2 / 6)
    assert sparsity.shared_zero_fraction(h, 4) == 0.0
    with pytest.raises(ValueError):
        sparsity.shared_zero_fraction(h, 5)


def test_skipping_zero_rows_is_exact_and_counts_flops():
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(50, 7, generator=gen)
    h = torch.relu(torch.randn(50, generator=gen))
    torch.testing.assert_close(sparsity.skip_zero_rows(h, W), h @ W)
    assert sparsity.matmul_flops(50, 7) == 700
    assert sparsity.matmul_flops(50, 7, nonzero=10) == 140
    with pytest.raises(ValueError):
        sparsity.matmul_flops(50, 7, nonzero=51)


def test_skip_timing_result():
    st = sparsity.SkipState(units=64, out=16, sparsities=(0.0, 0.5, 0.9), repeats=2,
                            number=2)
    r = sparsity.compute_skip_timing(st)
    assert r.nonzero.tolist() == [64, 32, 6]
    assert r.dense_flops == 2048 and r.skip_flops.tolist() == [2048, 1024, 192]
    np.testing.assert_allclose(r.flop_ratio, [1, 2, 2048 / 192])
    assert r.max_error < 1e-5 and np.all(r.dense_seconds > 0)
    be = r.break_even()
    assert math.isnan(be) or be in st.sparsities
    with pytest.raises(ValueError):
        sparsity.SkipState(sparsities=(1.0,))
    with pytest.raises(ValueError):
        sparsity.SkipState(sparsities=())


# --- quantisation -------------------------------------------------------------------------

def test_uniform_and_weight_quantisers():
    assert quantise.quantise_uniform([0.0, 0.26, 9.0, -3.0], 0.5, 0, 15).tolist() == \
        [0, 1, 15, 0]
    W = np.array([[0.5, -1.0], [0.25, 0.0]])
    q, s = quantise.quantise_weights(W, 8)
    assert s == pytest.approx(1 / 127) and q.min() == -127
    np.testing.assert_allclose(q * s, W, atol=s / 2)


@pytest.fixture(scope="module")
def nets():
    ds = data.classification_2d("ring", n=200, seed=0)
    out = {}
    for name in ("relu", "relu6"):
        nets_ = [models.MLP(2, [16, 16], 2, activation=name, seed=s) for s in range(2)]
        for net in nets_:
            train.train(net, ds, train.TrainConfig(optimizer="adam", lr=0.02, epochs=30,
                                                   diagnostics=False))
        out[name] = nets_
    return out, ds


def test_quantisation_matches_float_at_many_bits(nets):
    by_act, ds = nets
    r = quantise.compute_quantisation(quantise.QuantState("relu6", bits=12), by_act,
                                      ds.X_train, ds.X_test, ds.y_test)
    assert r.activation == "relu6" and np.all(r.ranges <= 6)
    assert np.all(r.logit_error < 0.02)
    assert np.all(np.abs(r.acc_change) <= 0.02)
    np.testing.assert_allclose(r.step, r.ranges[:, -1] / (2 ** 12 - 1))
    # the dequantised outputs sit within one step of the float ones
    assert np.abs(r.dequantised - r.values).max() < 0.05
    low = quantise.compute_quantisation(quantise.QuantState("relu6", bits=2), by_act,
                                        ds.X_train, ds.X_test, ds.y_test)
    assert np.all(low.logit_error > r.logit_error)
    np.testing.assert_allclose(quantise.layer_ranges(by_act["relu6"][0], ds.X_train),
                               r.ranges[0])


def test_quantisation_checks(nets):
    by_act, ds = nets
    with pytest.raises(ValueError):
        quantise.QuantState("gelu")
    with pytest.raises(ValueError, match="no nets"):
        quantise.compute_quantisation(quantise.QuantState("relu"), {"relu6": []},
                                      ds.X_train, ds.X_test, ds.y_test)
    with pytest.raises(ValueError, match="use"):
        quantise.compute_quantisation(quantise.QuantState("relu"),
                                      {"relu": by_act["relu6"]},
                                      ds.X_train, ds.X_test, ds.y_test)
    with pytest.raises(ValueError, match="at least one"):
        quantise.compute_quantisation(quantise.QuantState("relu"), {"relu": []},
                                      ds.X_train, ds.X_test, ds.y_test)
    with pytest.raises(ValueError, match="seed_index"):
        quantise.compute_quantisation(quantise.QuantState("relu", seed_index=5), by_act,
                                      ds.X_train, ds.X_test, ds.y_test)


# --- activations and drawings -------------------------------------------------------------

def test_new_activations_train_in_an_mlp_ensemble():
    ds = data.classification_2d("xor", n=100, seed=0)
    for name in ("relu6", "hard_swish", "relu2"):
        ens = models.MLPEnsemble([models.MLP(2, [8], 2, activation=name, seed=s)
                                  for s in range(2)])
        hists = train.train(ens, ds, train.TrainConfig(lr=0.1, epochs=2))
        assert all(np.isfinite(h.loss[-1]) for h in hists)
    assert activations.get("relu6").can_die


def test_drawings_smoke(nets):
    by_act, ds = nets
    r = quantise.compute_quantisation(quantise.QuantState("relu", bits=3), by_act,
                                      ds.X_train, ds.X_test, ds.y_test)
    assert plots.draw_quantisation(r) is not None
    st = sparsity.SkipState(units=32, out=8, sparsities=(0.0, 0.5), repeats=1, number=1)
    assert plots.draw_skip_timing(sparsity.compute_skip_timing(st)) is not None
    assert compare.arm("x", [1.0, 2.0, 3.0]).median == 2.0
    matplotlib.pyplot.close("all")
