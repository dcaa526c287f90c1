// Unit tests of the browser playground's network, data and state (node --test).
import { test } from "node:test";
import assert from "node:assert/strict";

import { ACTIVATIONS, MLP, Optimizer, Random, countRegions, erf } from
  "../../book/_static/playground/nn.js";
import { makeData, DATASETS } from "../../book/_static/playground/data.js";
import { DEFAULTS, PRESETS, decode, encode, makeState } from
  "../../book/_static/playground/state.js";
import { Run } from "../../book/_static/playground/run.js";

const NAMES = Object.keys(ACTIVATIONS);

test("erf matches known values", () => {
  const known = [[0, 0], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
                 [2, 0.9953222650189527], [3, 0.9999779095030014], [-1.5, -0.9661051464753108]];
  for (const [x, v] of known) assert.ok(Math.abs(erf(x) - v) < 1e-13, `erf(${x})`);
});

test("each activation's derivative matches a finite difference", () => {
  for (const name of NAMES) {
    const a = ACTIVATIONS[name];
    const shape = a.shapeParam ? a.params[a.shapeParam] : 0;
    for (const z of [-2.3, -0.7, -0.01, 0.013, 0.4, 1.9]) {
      const h = 1e-6;
      const fd = (a.f(z + h, shape) - a.f(z - h, shape)) / (2 * h);
      assert.ok(Math.abs(fd - a.df(z, shape, 0)) < 1e-6, `${name} at ${z}`);
    }
  }
});

test("ReLU'(0) is the chosen value", () => {
  for (const g0 of [0, 0.5, 1]) assert.equal(ACTIVATIONS.relu.df(0, 0, g0), g0);
});

function lossOf(net, X, y, n, kind) {
  return net.loss(net.forward(X, n), y, kind);
}

// central differences of the mean loss against backward(), for every parameter
function checkGradients(name, { kind = "cross_entropy", k = 2, widths = [4, 3] } = {}) {
  const rng = new Random(7);
  const inputs = kind === "mse" ? 1 : 2, n = 5;
  const net = new MLP(inputs, widths, kind === "mse" ? 1 : 2, name,
                      { k, seed: 3, init: "xavier" });
  const X = Float64Array.from({ length: n * inputs }, () => rng.uniform(-1, 1));
  const y = kind === "mse" ? Float64Array.from({ length: n }, () => rng.normal())
    : Int32Array.from({ length: n }, (_, i) => i % 2);
  const P = net.forward(X, n);
  net.loss(P, y, kind);
  const grads = net.backward(X, P).map((g) => Float64Array.from(g));
  net.parameters().forEach((p, j) => {
    for (let i = 0; i < p.length; i++) {
      const keep = p[i], h = 1e-6;
      p[i] = keep + h;
      const up = lossOf(net, X, y, n, kind);
      p[i] = keep - h;
      const down = lossOf(net, X, y, n, kind);
      p[i] = keep;
      const fd = (up - down) / (2 * h);
      assert.ok(Math.abs(fd - grads[j][i]) < 1e-6 * Math.max(1, Math.abs(fd)),
                `${name}: parameter array ${j}[${i}] fd ${fd} vs ${grads[j][i]}`);
    }
  });
}

test("backpropagation matches finite differences for every activation", () => {
  for (const name of NAMES) checkGradients(name);
  checkGradients("maxout", { k: 3, widths: [3, 2] });
  checkGradients("tanh", { kind: "mse", widths: [5] });
  checkGradients("prelu", { kind: "mse", widths: [4, 4, 2] });
});

test("every optimiser lowers the loss of a small problem", () => {
  for (const opt of ["sgd", "momentum", "adam"]) {
    const run = new Run(decode(`data=moons widths=6 opt=${opt} lr=${opt === "adam" ? 0.01 : 0.1}`));
    const before = run.evaluate().train;
    run.step(300);
    assert.ok(run.evaluate().train < 0.8 * before, opt);
  }
});

test("L2 shrinks the weights, not the biases", () => {
  const net = new MLP(2, [3], 2, "relu", { seed: 1 });
  net.grads.forEach((g) => g.fill(0));
  net.hidden[0].b.fill(1);
  const w = Array.from(net.hidden[0].W), opt = new Optimizer(net, "sgd", 0.1, 0.5);
  opt.step();
  net.hidden[0].W.forEach((v, i) => assert.ok(Math.abs(v - w[i] * 0.95) < 1e-12));
  assert.deepEqual(Array.from(net.hidden[0].b), [1, 1, 1]);
});

test("the same state gives the same run", () => {
  const a = new Run(decode(PRESETS["ring, ReLU"])).step(100);
  const b = new Run(decode(PRESETS["ring, ReLU"])).step(100);
  assert.deepEqual(a.history, b.history);
  const c = new Run(decode(PRESETS["ring, ReLU"] + " seed=1")).step(100);
  assert.notDeepEqual(a.history, c.history);
});

test("ReLU learns the ring; a linear net cannot", () => {
  const relu = new Run(decode("data=ring widths=8-8 lr=0.1")).step(1500);
  const linear = new Run(decode("data=ring widths=8-8 lr=0.1 act=linear")).step(1500);
  assert.ok(relu.evaluate().trainAcc > 0.9, `relu ${relu.evaluate().trainAcc}`);
  assert.ok(linear.evaluate().trainAcc < 0.75, `linear ${linear.evaluate().trainAcc}`);
});

test("a dead unit is found only where units can die", () => {
  for (const act of ["relu", "tanh", "leaky_relu", "maxout"]) {
    const run = new Run(decode(`data=ring widths=4 act=${act}`));
    run.net.hidden[0].b.fill(-100);
    const dead = run.evaluate().dead.flat().filter(Boolean).length;
    assert.equal(dead, act === "relu" ? 4 : 0, act);
  }
});

test("linear regions: one for a linear net, several for ReLU, counted on a grid", () => {
  const grid = new Float64Array(2 * 400);
  for (let i = 0; i < 400; i++) {
    grid[2 * i] = (i % 20) / 10 - 1;
    grid[2 * i + 1] = Math.floor(i / 20) / 10 - 1;
  }
  const lin = new MLP(2, [5, 5], 2, "linear", { seed: 0 });
  assert.equal(countRegions(lin, lin.forward(grid, 400)), 1);
  const one = new MLP(2, [1], 2, "relu", { seed: 0 });
  one.hidden[0].W.set([1, 0]);
  one.hidden[0].b[0] = 0.05;     // one kink line, x = -0.05, inside the grid
  assert.equal(countRegions(one, one.forward(grid, 400)), 2);
  const relu = new MLP(2, [6, 6], 2, "relu", { seed: 0 });
  assert.ok(countRegions(relu, relu.forward(grid, 400)) > 4);
});

test("data sets: seeded, split, the reader's points join the training set", () => {
  for (const dataset of DATASETS) {
    const s = makeState({ dataset });
    const a = makeData(s), b = makeData(s);
    assert.deepEqual(a, b);
    assert.equal(a.nTrain + a.nTest, 300);
    assert.equal(a.nTest, 90);
  }
  const own = makeData(makeState({ n: 0, points: [[0.1, 0.2, 1], [0.3, 0.4, 0]] }));
  assert.equal(own.nTrain, 2);
  assert.equal(own.nTest, 0);
  assert.deepEqual(Array.from(own.y), [1, 0]);
});

test("the text form round-trips, with the reader's points", () => {
  for (const text of Object.values(PRESETS)) {
    assert.deepEqual(decode(encode(decode(text))), decode(text));
  }
  assert.equal(encode(DEFAULTS), "data=ring");
  const full = makeState({ dataset: "spiral", noise: 0.1, n: 200, test_fraction: 0.5,
    activation: "maxout", widths: [5, 6], k: 3, lr: 0.5, optimizer: "adam", batch_size: 7,
    l2: 1e-3, grad_at_zero: 0.5, init: "xavier", seed: 4,
    points: [[0.25, -0.5, 1], [1e-7, 0, 0]] });
  assert.deepEqual(decode(encode(full)), full);
  assert.deepEqual(decode("data=sine pts=1.5,2;-3,0.25").points, [[1.5, 2], [-3, 0.25]]);
});

test("bad text is a clear error", () => {
  const cases = [["data=circle", /dataset must be one of/], ["act=swish", /activation must/],
    ["widths=0-3", /widths must be/], ["lr=0", /lr must be/], ["g0=2", /grad_at_zero/],
    ["n=5", /n must be an int from 10/], ["depth=3", /cannot read/], ["lr=fast", /number/],
    ["n=0", /at least 2 points/], ["pts=0,0,2", /label 0 or 1/], ["pts=11,0,1", /point/],
    ["data=sine pts=1,2,1", /x,y/]];
  for (const [text, message] of cases) assert.throws(() => decode(text), message, text);
  const many = Array.from({ length: 201 }, () => "0,0,1").join(";");
  assert.throws(() => decode(`pts=${many}`), /at most 200/);
});
