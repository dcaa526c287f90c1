// A playground state being trained: its data, network, optimiser and loss history, as the
// notebook's rectified.playground.Run (no drawing here, so node's tests can use it).
import { ACTIVATIONS, MLP, Optimizer, Random } from "./nn.js";
import { makeData } from "./data.js";

const MAX_RECORDS = 1000;

export class Run {
  constructor(state) {
    this.state = state;
    this.data = makeData(state);
    const d = this.data;
    this.lossKind = d.regression ? "mse" : "cross_entropy";
    this.net = new MLP(d.inputs, state.widths, d.regression ? 1 : 2, state.activation, {
      k: state.k, init: state.init, seed: state.seed * 2 + 2,
      gradAtZero: "grad_at_zero" in ACTIVATIONS[state.activation].params ?
        state.grad_at_zero : 0,
    });
    this.optimizer = new Optimizer(this.net, state.optimizer, state.lr, state.l2);
    this.rng = new Random(state.seed * 2 + 3);
    this.order = [];
    this.stepCount = 0;
    this.diverged = false;
    this.history = { step: [], train: [], test: [] };
    this.batchX = new Float64Array(0);
    this.record();
  }

  /** Add the reader's points to the training set of this run, keeping the weights and
   * the optimiser's state (training goes on with them from the next epoch). */
  addPoints(state) {
    const d = this.data, fresh = makeData({ ...state, n: 0, test_fraction: 0.3 });
    const k = d.inputs, keep = d.nTrain - d.nOwn;
    const X = new Float64Array((keep + fresh.nTrain) * k);
    X.set(d.X.subarray(0, keep * k));
    X.set(fresh.X, keep * k);
    const y = new d.y.constructor(keep + fresh.nTrain);
    y.set(d.y.subarray(0, keep));
    y.set(fresh.y, keep);
    Object.assign(d, { X, y, nTrain: keep + fresh.nTrain, nOwn: fresh.nTrain });
    this.state = state;
    this.order = [];
  }

  get canDie() {
    return ACTIVATIONS[this.state.activation].canDie;
  }

  /** Train n mini-batch steps (none once diverged), then record the losses. */
  step(n = 1) {
    const d = this.data, inputs = d.inputs, net = this.net;
    const batch = Math.min(this.state.batch_size, d.nTrain);
    if (this.batchX.length !== batch * inputs) {
      this.batchX = new Float64Array(batch * inputs);
      this.batchY = d.regression ? new Float64Array(batch) : new Int32Array(batch);
    }
    for (let s = 0; s < n && !this.diverged; s++) {
      if (this.order.length === 0) {   // a new epoch: a fresh order, last batch may be short
        const idx = this.rng.shuffle([...Array(d.nTrain).keys()]);
        for (let i = 0; i < idx.length; i += batch) this.order.push(idx.slice(i, i + batch));
        this.order.reverse();
      }
      const rows = this.order.pop();
      const m = rows.length;
      const X = m === batch ? this.batchX : new Float64Array(m * inputs);
      const Y = m === batch ? this.batchY : new d.y.constructor(m);
      rows.forEach((r, i) => {
        for (let j = 0; j < inputs; j++) X[i * inputs + j] = d.X[r * inputs + j];
        Y[i] = d.y[r];
      });
      const P = net.forward(X, m);
      const loss = net.loss(P, Y, this.lossKind);
      if (!Number.isFinite(loss)) {   // stop, keeping the weights of the last good step
        this.diverged = true;
        break;
      }
      net.backward(X, P);
      this.optimizer.step();
      this.stepCount += 1;
    }
    this.record();
    return this;
  }

  /** evaluate() as of the last record, or now if the run has changed since. */
  latest() {
    const key = `${this.stepCount}/${this.data.nTrain}`;
    if (this.latestKey !== key) {
      this.latestEval = this.evaluate();
      this.latestKey = key;
    }
    return this.latestEval;
  }

  record() {
    const e = this.evaluate(), h = this.history;
    this.latestEval = e;
    this.latestKey = `${this.stepCount}/${this.data.nTrain}`;
    if (h.step.length && h.step[h.step.length - 1] === this.stepCount) return;
    if (!Number.isFinite(e.train)) this.diverged = true;
    h.step.push(this.stepCount);
    h.train.push(e.train);
    h.test.push(e.test);
    if (h.step.length > MAX_RECORDS) {   // keep every other record: the curve's shape stays
      for (const key of ["step", "train", "test"]) {
        h[key] = h[key].filter((_, i) => i % 2 === 0 || i === h[key].length - 1);
      }
    }
  }

  /** Loss and accuracy on the whole training and test sets, and per hidden layer which
   * units are dead (pre-activation ≤ 0 on every training input; only where the activation
   * lets a unit die). */
  evaluate() {
    const d = this.data, net = this.net;
    const P = net.forward(d.X, d.nTrain);
    const train = net.loss(P, d.y, this.lossKind);
    const trainAcc = this.accuracy(P, d.y);
    const dead = net.hidden.map((L, l) => {
      const flags = new Array(L.width).fill(this.canDie && d.nTrain > 0);
      if (!this.canDie) return flags;
      const z = P.z[l];
      for (let i = 0; i < d.nTrain; i++) {
        for (let u = 0; u < L.width; u++) if (z[i * L.rows + u] > 0) flags[u] = false;
      }
      return flags;
    });
    let test = NaN, testAcc = NaN;
    if (d.nTest > 0) {
      const Q = net.forward(d.Xt, d.nTest);
      test = net.loss(Q, d.yt, this.lossKind);
      testAcc = this.accuracy(Q, d.yt);
    }
    return { train, test, trainAcc, testAcc, dead };
  }

  accuracy(P, y) {
    if (this.data.regression) return NaN;
    let right = 0;
    for (let i = 0; i < P.n; i++) right += (P.out[2 * i + 1] > P.out[2 * i] ? 1 : 0) === y[i];
    return right / P.n;
  }
}
