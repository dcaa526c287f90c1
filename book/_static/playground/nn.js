// A small fully connected network with backpropagation, written out by hand: the
// playground's engine in the browser. It mirrors the Python library (rectified.models.MLP
// trained by rectified.train): the same activations and facts about them, the same
// initialisations, losses, optimisers and L2 penalty. Weights are stored like torch's
// nn.Linear: W[out][in] row-major in one Float64Array per layer.

// --- Random numbers ------------------------------------------------------------------------

/** A seeded generator of uniform numbers in [0, 1) (mulberry32), with normals. */
export class Random {
  constructor(seed) {
    this.s = (seed >>> 0) ^ 0x9e3779b9;
    this.spare = null;
  }
  uniform(lo = 0, hi = 1) {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return lo + (hi - lo) * u;
  }
  normal() {  // Box-Muller, two normals per pair of uniforms
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u = 1 - this.uniform(), v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  int(n) {
    return Math.floor(this.uniform() * n);
  }
  shuffle(a) {  // in place, Fisher-Yates
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]; a[i] = a[j]; a[j] = t;
    }
    return a;
  }
}

// --- Activations -----------------------------------------------------------------------------

export const SELU_ALPHA = 1.6732632423543772848170429916717;
export const SELU_SCALE = 1.0507009873554804934193349852946;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** erf(x) to about 1e-15: series for small |x|, a continued fraction for large |x|. */
export function erf(x) {
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = a, sum = a;
    for (let n = 1; n < 80; n++) {
      term *= -a * a / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * sum * 2 / Math.sqrt(Math.PI);
  }
  // erfc(a) = exp(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...))))
  let f = a;
  for (let n = 60; n >= 1; n--) f = a + (n / 2) / f;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}
const Phi = (x) => 0.5 * (1 + erf(x / Math.SQRT2));
const sigmoid = (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

// Each entry: f(z, a) and df(z, a), with a the entry's shape parameter (slope, alpha,
// beta; learned per unit for PReLU) and, for ReLU and |z|, g0 the value taken at exactly 0.
// The facts (params, kinks, gradParams, shapeParam, negativeSlope, piecewiseLinear,
// canDie, grouped) are those of the Python registry (rectified.activations); a test
// compares the two.
const SPECS = {
  relu: {
    params: { grad_at_zero: 0 }, kinks: [0], gradParams: ["grad_at_zero"],
    negativeSlope: 0, piecewiseLinear: true,
    f: (z) => (z > 0 ? z : 0),
    df: (z, a, g0) => (z > 0 ? 1 : z < 0 ? 0 : g0),
  },
  leaky_relu: {
    params: { slope: 0.01 }, kinks: [0], shapeParam: "slope", negativeSlope: 0.01,
    piecewiseLinear: true,
    f: (z, a) => (z > 0 ? z : a * z),
    df: (z, a) => (z > 0 ? 1 : a),
  },
  prelu: {
    params: { alpha: 0.25 }, kinks: [0], shapeParam: "alpha", negativeSlope: 0.25,
    piecewiseLinear: true, learned: true,
    f: (z, a) => (z > 0 ? z : a * z),
    df: (z, a) => (z > 0 ? 1 : a),
  },
  elu: {
    params: { alpha: 1 }, kinks: [0], shapeParam: "alpha",
    f: (z, a) => (z > 0 ? z : a * Math.expm1(z)),
    df: (z, a) => (z > 0 ? 1 : a * Math.exp(z)),
  },
  selu: {
    params: {}, kinks: [0],
    f: (z) => SELU_SCALE * (z > 0 ? z : SELU_ALPHA * Math.expm1(z)),
    df: (z) => SELU_SCALE * (z > 0 ? 1 : SELU_ALPHA * Math.exp(z)),
  },
  softplus: {
    params: { beta: 1 }, shapeParam: "beta",
    f: (z, a) => softplus(a * z) / a,
    df: (z, a) => sigmoid(a * z),
  },
  gelu: {
    params: {},
    f: (z) => z * Phi(z),
    df: (z) => Phi(z) + z * Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI),
  },
  gelu_tanh: {
    params: {},
    f: (z) => 0.5 * z * (1 + Math.tanh(SQRT_2_OVER_PI * (z + GELU_C * z * z * z))),
    df: (z) => {
      const t = Math.tanh(SQRT_2_OVER_PI * (z + GELU_C * z * z * z));
      const dt = (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * z * z);
      return 0.5 * (1 + t) + 0.5 * z * dt;
    },
  },
  silu: {
    params: { beta: 1 }, shapeParam: "beta",
    f: (z, a) => z * sigmoid(a * z),
    df: (z, a) => {
      const s = sigmoid(a * z);
      return s + a * z * s * (1 - s);
    },
  },
  sigmoid: {
    params: {},
    f: sigmoid,
    df: (z) => {
      const s = sigmoid(z);
      return s * (1 - s);
    },
  },
  tanh: {
    params: {},
    f: Math.tanh,
    df: (z) => {
      const t = Math.tanh(z);
      return 1 - t * t;
    },
  },
  abs: {
    params: { grad_at_zero: 0 }, kinks: [0], gradParams: ["grad_at_zero"],
    negativeSlope: -1, piecewiseLinear: true,
    f: Math.abs,
    df: (z, a, g0) => (z > 0 ? 1 : z < 0 ? -1 : g0),
  },
  linear: {
    params: {}, negativeSlope: 1, piecewiseLinear: true,
    f: (z) => z,
    df: () => 1,
  },
  maxout: {
    params: { k: 2 }, piecewiseLinear: true, grouped: true,
    f: (z) => z, df: () => 1,   // the max over each group is taken by the layer
  },
  relu6: {
    params: {}, kinks: [0, 6], negativeSlope: 0, piecewiseLinear: true,
    f: (z) => Math.min(Math.max(z, 0), 6),
    df: (z) => (z > 0 && z < 6 ? 1 : 0),
  },
  hard_swish: {
    params: {}, kinks: [-3, 3],
    f: (z) => z * Math.min(Math.max(z + 3, 0), 6) / 6,
    df: (z) => (z < -3 ? 0 : z > 3 ? 1 : (2 * z + 3) / 6),   // as the library, at the kinks too
  },
  relu2: {
    params: {}, negativeSlope: 0,
    f: (z) => (z > 0 ? z * z : 0),
    df: (z) => (z > 0 ? 2 * z : 0),
  },
};

/** The activations, in the registry's (gallery) order, with their facts. */
export const ACTIVATIONS = Object.fromEntries(Object.entries(SPECS).map(([name, s]) => [
  name, Object.freeze({
    name, params: { ...s.params }, kinks: s.kinks || [], gradParams: s.gradParams || [],
    shapeParam: s.shapeParam || null,
    negativeSlope: s.negativeSlope === undefined ? null : s.negativeSlope,
    piecewiseLinear: !!s.piecewiseLinear, grouped: !!s.grouped, learned: !!s.learned,
    // a unit can be dead (output and gradient both exactly 0 on a whole input set) only
    // where the function is 0 with slope 0 for z < 0
    canDie: s.negativeSlope === 0,
    f: s.f, df: s.df,
  }),
]));

// --- Initialisations -------------------------------------------------------------------------

export const INITS = ["he", "xavier", "lecun", "standard", "asymmetric"];
const RAI_SIGMA = 0.6007;

/** Weights (fanOut × fanIn) and biases of one layer, drawn like rectified.models.draw_init
 * (same distributions; the random numbers themselves differ from torch's). */
export function drawInit(scheme, fanOut, fanIn, rng) {
  const W = new Float64Array(fanOut * fanIn), b = new Float64Array(fanOut);
  if (scheme === "asymmetric") {
    const sigma = RAI_SIGMA / Math.sqrt(fanIn);
    for (let o = 0; o < fanOut; o++) {
      const full = new Float64Array(fanIn + 1);
      for (let i = 0; i <= fanIn; i++) full[i] = rng.normal() * sigma;
      full[rng.int(fanIn + 1)] = Math.sqrt(rng.uniform());   // Beta(2, 1) > 0
      W.set(full.subarray(0, fanIn), o * fanIn);
      b[o] = full[fanIn];
    }
    return { W, b };
  }
  for (let i = 0; i < W.length; i++) {
    if (scheme === "he") W[i] = rng.normal() * Math.sqrt(2 / fanIn);
    else if (scheme === "lecun") W[i] = rng.normal() * Math.sqrt(1 / fanIn);
    else if (scheme === "xavier") W[i] = rng.uniform(-1, 1) * Math.sqrt(6 / (fanIn + fanOut));
    else if (scheme === "standard") W[i] = rng.uniform(-1, 1) / Math.sqrt(fanIn);
    else throw new Error(`unknown init ${scheme}; known: ${INITS.join(", ")}`);
  }
  return { W, b };
}

// --- The network -----------------------------------------------------------------------------

/** Outputs of forward() for n inputs: per hidden layer the pre-activations z (n × width·k)
 * and outputs h (n × width), and the network's output (n × outputs). */
class Pass {
  constructor(net, n) {
    this.n = n;
    this.z = net.hidden.map((L) => new Float64Array(n * L.rows));
    this.h = net.hidden.map((L) => new Float64Array(n * L.width));
    this.arg = net.hidden.map((L) => (net.k > 1 ? new Int32Array(n * L.width) : null));
    this.out = new Float64Array(n * net.outputs);
    // backward buffers
    this.dh = net.hidden.map((L) => new Float64Array(n * L.width));
    this.dz = net.hidden.map((L) => new Float64Array(n * L.rows));
    this.dout = new Float64Array(n * net.outputs);
  }
}

/**
 * An MLP: inputs → hidden widths → outputs, with one activation (a name of ACTIVATIONS).
 * options: { k (maxout pieces), gradAtZero, init, seed }.
 */
export class MLP {
  constructor(inputs, widths, outputs, activation = "relu", options = {}) {
    const act = ACTIVATIONS[activation];
    if (!act) throw new Error(`unknown activation ${activation}`);
    this.act = act;
    this.activation = activation;
    this.inputs = inputs;
    this.outputs = outputs;
    this.widths = widths.slice();
    this.k = act.grouped ? options.k ?? 2 : 1;
    this.g0 = options.gradAtZero ?? 0;
    const shape = act.shapeParam ? act.params[act.shapeParam] : 0;
    const rng = new Random(options.seed ?? 0);
    const init = options.init ?? "he";
    let fanIn = inputs;
    // hidden[l] = { W, b, rows (= width·k), width, a (per-unit shape parameter) }
    this.hidden = this.widths.map((width) => {
      const rows = width * this.k;
      const { W, b } = drawInit(init, rows, fanIn, rng);
      const layer = { W, b, rows, width, fanIn, a: new Float64Array(width).fill(shape) };
      fanIn = width;
      return layer;
    });
    const { W, b } = drawInit(init, outputs, fanIn, rng);
    this.out = { W, b, rows: outputs, width: outputs, fanIn };
    this.passes = new Map();
    this.grads = this.parameters().map((p) => new Float64Array(p.length));
  }

  /** The arrays that training changes, in a fixed order: per hidden layer W, b (and the
   * learned slopes a for PReLU), then the output W, b. */
  parameters() {
    const ps = [];
    for (const L of this.hidden) {
      ps.push(L.W, L.b);
      if (this.act.learned) ps.push(L.a);
    }
    ps.push(this.out.W, this.out.b);
    return ps;
  }

  /** Which parameters the L2 penalty applies to: weight matrices only. */
  decays() {
    const ds = [];
    for (let l = 0; l < this.hidden.length; l++) {
      ds.push(true, false);
      if (this.act.learned) ds.push(false);
    }
    ds.push(true, false);
    return ds;
  }

  /** Set the weights from [[W (rows of lists), b], ...] (hidden layers then output), as
   * Python's MLP.from_weights takes them; PReLU slopes from `slopes` (one list per layer). */
  setWeights(weights, slopes = null) {
    const layers = [...this.hidden, this.out];
    weights.forEach(([W, b], l) => {
      layers[l].W.set(W.flat());
      layers[l].b.set(b);
    });
    if (slopes) slopes.forEach((a, l) => this.hidden[l].a.set(a));
  }

  pass(n) {
    if (!this.passes.has(n)) {
      if (this.passes.size > 8) this.passes.clear();
      this.passes.set(n, new Pass(this, n));
    }
    return this.passes.get(n);
  }

  /** Buffers of a forward pass of n inputs that no other pass shares. */
  newPass(n) {
    return new Pass(this, n);
  }

  /** Forward n inputs (X: n × inputs, row-major); returns the Pass with every layer (by
   * default buffers shared by every pass of n inputs; give `P` from newPass to keep one). */
  forward(X, n, P = this.pass(n)) {
    const k = this.k, { f } = this.act;
    let H = X, width = this.inputs;
    for (let l = 0; l < this.hidden.length; l++) {
      const L = this.hidden[l], z = P.z[l], h = P.h[l], arg = P.arg[l];
      affine(H, n, width, L, z);
      if (k > 1) {
        for (let i = 0; i < n * L.width; i++) {   // maxout: the first maximum wins
          let best = z[i * k], at = 0;
          for (let j = 1; j < k; j++) if (z[i * k + j] > best) { best = z[i * k + j]; at = j; }
          h[i] = best;
          arg[i] = at;
        }
      } else {
        const a = L.a;
        for (let i = 0, c = 0; i < n * L.width; i++) {
          h[i] = f(z[i], a[c]);
          if (++c === L.width) c = 0;
        }
      }
      H = h;
      width = L.width;
    }
    affine(H, n, width, this.out, P.out);
    return P;
  }

  /** The mean loss of the last forward pass against targets y (class indices for
   * classification with 2+ outputs, values for regression), and its gradient in P.dout. */
  loss(P, y, kind) {
    const n = P.n, m = this.outputs, out = P.out, d = P.dout;
    let total = 0;
    if (kind === "mse") {   // torch's mse_loss: the mean over every element
      for (let i = 0; i < n * m; i++) {
        const e = out[i] - y[i];
        total += e * e;
        d[i] = (2 * e) / (n * m);
      }
      return total / (n * m);
    }
    for (let i = 0; i < n; i++) {   // softmax cross-entropy
      let mx = -Infinity;
      for (let j = 0; j < m; j++) mx = Math.max(mx, out[i * m + j]);
      let s = 0;
      for (let j = 0; j < m; j++) s += Math.exp(out[i * m + j] - mx);
      const lse = mx + Math.log(s);
      total += lse - out[i * m + y[i]];
      for (let j = 0; j < m; j++) {
        d[i * m + j] = (Math.exp(out[i * m + j] - lse) - (j === y[i] ? 1 : 0)) / n;
      }
    }
    return total / n;
  }

  /** Backpropagate P.dout through the network of the last forward(X, n); gradients are
   * written (not added) into this.grads, in the order of parameters(). */
  backward(X, P) {
    const n = P.n, k = this.k, { df } = this.act, g0 = this.g0;
    const grads = this.grads, learned = this.act.learned;
    const per = learned ? 3 : 2;
    const L = this.hidden.length;
    let dnext = P.dout, next = this.out;
    for (let l = L; l >= 0; l--) {
      const layer = l === L ? this.out : this.hidden[l];
      const dz = l === L ? P.dout : P.dz[l];
      const Hin = l === 0 ? X : P.h[l - 1];
      const gW = grads[l === L ? per * L : per * l], gb = grads[(l === L ? per * L : per * l) + 1];
      if (l < L) {
        // dz from dh = dnext · W_next
        const dh = P.dh[l], z = P.z[l], a = layer.a, width = layer.width;
        matTN(dnext, next.W, n, next.rows, width, dh);
        if (k > 1) {
          dz.fill(0);
          const arg = P.arg[l];
          for (let i = 0; i < n * width; i++) dz[i * k + arg[i]] = dh[i];
        } else {
          for (let i = 0, c = 0; i < n * width; i++) {
            dz[i] = dh[i] * df(z[i], a[c], g0);
            if (++c === width) c = 0;
          }
          if (learned) {   // ∂PReLU/∂α = min(z, 0)
            const ga = grads[per * l + 2];
            ga.fill(0);
            for (let i = 0, c = 0; i < n * width; i++) {
              if (z[i] < 0) ga[c] += dh[i] * z[i];
              if (++c === width) c = 0;
            }
          }
        }
      }
      // gW = dzᵀ · Hin, gb = Σ dz
      const rows = layer.rows, cols = layer.fanIn;
      gW.fill(0);
      gb.fill(0);
      for (let i = 0; i < n; i++) {
        for (let r = 0; r < rows; r++) {
          const g = dz[i * rows + r];
          if (g === 0) continue;
          gb[r] += g;
          const o = r * cols, hi = i * cols;
          for (let c = 0; c < cols; c++) gW[o + c] += g * Hin[hi + c];
        }
      }
      dnext = dz;
      next = layer;
    }
    return grads;
  }

  /** Output for one input (an array); handy in tests. */
  predict(x) {
    return Array.from(this.forward(Float64Array.from(x), 1).out);
  }
}

// out (n × rows) = H (n × cols) · Wᵀ + b
function affine(H, n, cols, L, out) {
  const { W, b, rows } = L;
  for (let i = 0; i < n; i++) {
    const hi = i * cols, oi = i * rows;
    for (let r = 0; r < rows; r++) {
      let s = b[r];
      const o = r * cols;
      for (let c = 0; c < cols; c++) s += W[o + c] * H[hi + c];
      out[oi + r] = s;
    }
  }
}

// dh (n × cols) = D (n × rows) · W (rows × cols), for a maxout layer below: cols is its width
function matTN(D, W, n, rows, cols, dh) {
  dh.fill(0);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < rows; r++) {
      const g = D[i * rows + r];
      if (g === 0) continue;
      const o = r * cols, hi = i * cols;
      for (let c = 0; c < cols; c++) dh[hi + c] += g * W[o + c];
    }
  }
}

// --- Optimisers ------------------------------------------------------------------------------

export const OPTIMIZERS = ["sgd", "momentum", "adam"];

/** The training engine's update rules (rectified.train): SGD, SGD with momentum 0.9
 * (v ← μv + g, W ← W − lr·v) and Adam (torch's rule), each with the L2 penalty λ·W added
 * to the gradient of weight matrices only. */
export class Optimizer {
  constructor(net, kind = "sgd", lr = 0.03, l2 = 0) {
    if (!OPTIMIZERS.includes(kind)) throw new Error(`unknown optimiser ${kind}`);
    Object.assign(this, { net, kind, lr, l2, t: 0 });
    this.params = net.parameters();
    this.decay = net.decays();
    this.m = this.params.map((p) => new Float64Array(p.length));
    this.v = this.params.map((p) => new Float64Array(p.length));
  }
  step() {
    const { lr, l2, kind } = this;
    const grads = this.net.grads;
    this.t += 1;
    const c1 = 1 - 0.9 ** this.t, c2 = Math.sqrt(1 - 0.999 ** this.t);
    this.params.forEach((p, j) => {
      const g = grads[j], m = this.m[j], v = this.v[j], lam = this.decay[j] ? l2 : 0;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i] + lam * p[i];
        if (kind === "sgd") p[i] -= lr * gi;
        else if (kind === "momentum") {
          m[i] = 0.9 * m[i] + gi;
          p[i] -= lr * m[i];
        } else {
          m[i] += (gi - m[i]) * 0.1;
          v[i] = 0.999 * v[i] + 0.001 * gi * gi;
          p[i] -= ((lr / c1) * m[i]) / (Math.sqrt(v[i]) / c2 + 1e-8);
        }
      }
    });
  }
}

// --- Linear regions --------------------------------------------------------------------------

/** A hash of each input's activation pattern in the last forward pass: which piece every
 * hidden unit is on (z > 0 for the ReLU family, the arg-max for maxout). For a
 * piecewise-linear net, equal patterns mean the same linear region. */
export function patternHashes(net, P) {
  const n = P.n, out = new Uint32Array(n).fill(2166136261);
  if (net.activation === "linear") return out;   // one affine map everywhere
  for (let l = 0; l < net.hidden.length; l++) {
    const L = net.hidden[l];
    for (let i = 0; i < n; i++) {
      let h = out[i];
      for (let u = 0; u < L.width; u++) {
        const piece = net.k > 1 ? P.arg[l][i * L.width + u] : P.z[l][i * L.rows + u] > 0 ? 1 : 0;
        h = Math.imul(h ^ (piece + 1 + ((u & 7) << 4)), 16777619) >>> 0;
      }
      out[i] = h;
    }
  }
  return out;
}

/** Distinct activation patterns among inputs (a lower bound on the linear regions they
 * meet, as rectified.diagnostics.regions_on_grid counts them). */
export function countRegions(net, P) {
  return new Set(patternHashes(net, P)).size;
}
