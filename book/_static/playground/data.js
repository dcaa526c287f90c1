// The playground's data sets, generated from a seed like rectified.data generates them:
// the same shapes and formulas, drawn with this page's own random generator (so the points
// differ from the notebook's, the set does not).
import { Random } from "./nn.js";

// 2-D sets live in roughly [-1, 1]², two balanced classes labelled 0 and 1.
const SETS_2D = {
  ring(n, noise, rng) {   // a disk (radius ≤ 0.5) inside a ring (radius 0.7–1.0)
    return points(n, (i) => {
      const y = i % 2;
      const r = y === 0 ? rng.uniform(0, 0.5) : rng.uniform(0.7, 1.0);
      const t = rng.uniform(0, 2 * Math.PI);
      return [r * Math.cos(t), r * Math.sin(t), y];
    }, noise, rng);
  },
  xor(n, noise, rng) {    // class 1 where x₁·x₂ < 0
    return points(n, () => {
      const a = rng.uniform(0.05, 1) * (rng.uniform() < 0.5 ? -1 : 1);
      const b = rng.uniform(0.05, 1) * (rng.uniform() < 0.5 ? -1 : 1);
      return [a, b, a * b < 0 ? 1 : 0];
    }, noise, rng);
  },
  gaussians(n, noise, rng) {   // two blobs of std `noise`, centres 1 apart on the diagonal
    return points(n, (i) => {
      const y = i % 2, c = (1 / (2 * Math.SQRT2)) * (y === 1 ? 1 : -1);
      return [c + noise * rng.normal(), c + noise * rng.normal(), y];
    }, 0, rng);
  },
  spiral(n, noise, rng) {  // two interleaved spirals of 1.5 turns
    return points(n, (i) => {
      const y = i % 2, t = rng.uniform(0.05, 1);
      const angle = 2 * Math.PI * 1.5 * t + Math.PI * y;
      return [t * Math.cos(angle), t * Math.sin(angle), y];
    }, noise, rng);
  },
  moons(n, noise, rng) {   // two interleaving half circles
    return points(n, (i) => {
      const y = i % 2, t = rng.uniform(0, Math.PI);
      const [a, b] = y === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
      return [(a - 0.5) / 1.5, (b - 0.25) / 1.5, y];
    }, noise, rng);
  },
};

// 1-D regression targets on [-4, 4]
export const TARGETS_1D = {
  sine: Math.sin,
  exp: (x) => Math.exp(x / 2) / Math.exp(2),   // ≤ 1 on [-4, 4]
  abs: Math.abs,
};

export const DATASETS_2D = Object.keys(SETS_2D);
export const DATASETS = [...DATASETS_2D, ...Object.keys(TARGETS_1D)];
export const isRegression = (name) => name in TARGETS_1D;

function points(n, draw, noise, rng) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    const [a, b, y] = draw(i);
    rows.push([a + noise * rng.normal(), b + noise * rng.normal(), y]);
  }
  return rows;
}

/**
 * The data of a playground state: { X, y, Xt, yt, nTrain, nTest, inputs, regression }.
 * X (nTrain × inputs) and Xt are Float64Arrays; y holds class indices (Int32Array) or
 * targets (Float64Array). `n` points are generated with `seed` and split (shuffled) into
 * train and test with `test_fraction`; the reader's own `points` join the training set.
 */
export function makeData({ dataset, n, noise, seed, test_fraction: testFraction,
                           points: own = [] }) {
  const regression = isRegression(dataset);
  const rng = new Random(seed * 2 + 1);
  let rows;
  if (n === 0) rows = [];
  else if (regression) {
    rows = [];
    for (let i = 0; i < n; i++) {
      const x = rng.uniform(-4, 4);
      rows.push([x, TARGETS_1D[dataset](x) + noise * rng.normal()]);
    }
  } else rows = SETS_2D[dataset](n, noise, rng);
  const order = rng.shuffle([...rows.keys()]);
  const nTest = n === 0 ? 0 : Math.max(1, Math.round(testFraction * n));
  const test = order.slice(0, nTest).map((i) => rows[i]);
  const train = order.slice(nTest).map((i) => rows[i]).concat(own.map((p) => p.slice()));
  const inputs = regression ? 1 : 2;
  const pack = (set) => {
    const X = new Float64Array(set.length * inputs);
    const y = regression ? new Float64Array(set.length) : new Int32Array(set.length);
    set.forEach((r, i) => {
      for (let j = 0; j < inputs; j++) X[i * inputs + j] = r[j];
      y[i] = r[inputs];
    });
    return [X, y];
  };
  const [X, y] = pack(train), [Xt, yt] = pack(test);
  return { X, y, Xt, yt, nTrain: train.length, nTest: test.length, inputs, regression,
           nOwn: own.length };
}
