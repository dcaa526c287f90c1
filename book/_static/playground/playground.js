// The live playground: controls, the animation loop, the reader's own points and the
// state in the page's address. Mounts itself on every element with class
// "live-playground"; needs nothing but the modules next to it.
import { ACTIVATIONS, INITS, OPTIMIZERS, countRegions } from "./nn.js";
import { DATASETS, isRegression } from "./data.js";
import { Run } from "./run.js";
import * as S from "./state.js";
import * as D from "./draw.js";

const LR = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 1.5, 3, 10];
const L2 = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
const MAX_UNITS_SHOWN = 16;      // per layer; the rest are summed up in a note
const CELL = 30;                 // px of one unit map
const FRAME_BUDGET_MS = 9;       // training time per frame before steps are cut

const CSS = `
.lp{font:13px/1.4 system-ui,sans-serif;border:1px solid #ccc;border-radius:6px;padding:8px;
 margin:1em 0;background:#fff;color:#222;max-width:100%;box-sizing:border-box}
.lp *{box-sizing:border-box}
.lp-row{display:flex;flex-wrap:wrap;gap:6px 10px;align-items:center;margin:4px 0}
.lp button{font:inherit;padding:2px 8px;border:1px solid #999;border-radius:4px;background:#f4f4f4;
 color:#222;cursor:pointer}
.lp button.lp-play{min-width:5em;font-weight:600}
.lp label{display:inline-flex;gap:4px;align-items:center;white-space:nowrap}
.lp select,.lp input{font:inherit;max-width:10em;color:#222;background:#fff}
.lp input[type=number]{width:5.5em}
.lp-grid{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
.lp canvas{display:block;max-width:100%;border:1px solid #ddd}
.lp-main{width:min(100%,330px)}
.lp-main canvas{width:320px;height:auto;aspect-ratio:1;cursor:crosshair}
.lp-side{display:flex;flex-direction:column;gap:6px;max-width:100%}
.lp-units{overflow-x:auto;max-width:100%}
.lp-info{font-variant-numeric:tabular-nums;min-height:2.8em}
.lp-state input{width:100%;max-width:none;font-family:monospace;font-size:12px}
.lp-msg{color:#b00}
.lp textarea{width:100%;font:12px monospace;height:4em}
.lp small{color:#555}
@media print{.live-playground{display:none}}
`;

function el(tag, attrs = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of [].concat(children)) e.append(c);
  return e;
}

function options(select, values, current) {
  const list = values.map(String);
  if (!list.includes(String(current))) list.push(String(current));   // a value from a link
  select.replaceChildren(...list.map((v) => el("option", { value: v, text: v })));
  select.value = String(current);
}

/** Read a state from the page address (#data=...), or null. */
export function stateFromHash(hash) {
  const text = decodeURIComponent(hash.replace(/^#/, "").replace(/\+/g, " "));
  return text.startsWith("data=") ? S.decode(text) : null;
}

export function hashOf(state) {
  return "#" + encodeURIComponent(S.encode(state)).replace(/%20/g, "+")
    .replace(/%3D/g, "=").replace(/%2C/g, ",").replace(/%3B/g, ";");
}

class Playground {
  constructor(root) {
    this.root = root;
    this.playing = false;
    this.stats = { steps: 0, frames: 0, trainMs: 0, drawMs: 0 };
    this.msPerStep = 0.01;
    this.drawEvery = 1;
    this.build();
    let state = S.decode(root.dataset.state || S.PRESETS["ring, ReLU"]), problem = "";
    try {
      state = stateFromHash(location.hash) || state;
    } catch (e) {
      problem = `the link's state could not be read: ${e.message}`;
    }
    this.load(state, false);
    this.message(problem);
    requestAnimationFrame((t) => this.tick(t));
  }

  build() {
    const f = (this.fields = {});
    const field = (key, label, control, hint = "") => {
      control.dataset.key = key;
      control.addEventListener("change", () => this.fromControls());
      f[key] = control;
      return el("label", hint ? { title: hint } : {}, [label, control]);
    };
    const number = (min, max, step) => el("input", { type: "number", min, max, step });
    this.playButton = el("button", { class: "lp-play", onclick: () => this.toggle() }, "play");
    const bar = el("div", { class: "lp-row" }, [
      this.playButton,
      el("button", { onclick: () => this.stepOnce(), title: "one mini-batch step" }, "step"),
      el("button", { onclick: () => this.load(this.run.state) , title: "start again from the initial weights" }, "reset"),
      el("label", { title: "mini-batch steps per animation frame; 'epoch' trains one " +
                           "pass over the training set per frame" },
         ["steps per frame", this.speed = el("select")]),
      this.counter = el("span", { class: "lp-info" }),
    ]);
    options(this.speed, ["epoch", 1, 5, 25, 100], "epoch");
    const presets = el("div", { class: "lp-row" }, [el("small", { text: "presets:" }),
      ...Object.entries(S.PRESETS).map(([name, text]) =>
        el("button", { onclick: () => this.load(S.decode(text)), "data-preset": name }, name))]);
    const controls = el("div", { class: "lp-row" }, [
      field("dataset", "data", el("select")),
      field("noise", "noise", number(0, 1, 0.01)),
      field("n", "points", number(0, 5000, 10), "generated points (0: only your own)"),
      field("test_fraction", "test share", number(0.05, 0.9, 0.05)),
      field("activation", "activation", el("select")),
      field("k", "maxout k", number(1, 8, 1)),
      field("widths", "hidden widths", el("input", { type: "text", size: 12 }),
            "units per hidden layer joined by '-', up to 8 layers of 64: e.g. 3-3-3"),
      field("lr", "learning rate", el("select")),
      field("optimizer", "optimiser", el("select")),
      field("batch_size", "batch", number(1, 5000, 1)),
      field("l2", "L2", el("select")),
      field("grad_at_zero", "ReLU'(0)", el("select"), "the derivative used at exactly 0"),
      field("init", "init", el("select")),
      field("seed", "seed", number(0, 2 ** 31 - 1, 1)),
    ]);
    options(f.dataset, DATASETS, "ring");
    options(f.activation, Object.keys(ACTIVATIONS), "relu");
    options(f.optimizer, OPTIMIZERS, "sgd");
    options(f.init, INITS, "he");
    options(f.grad_at_zero, [0, 0.5, 1], 0);

    this.canvas = el("canvas", { width: 320, height: 320, role: "img",
                                 "aria-label": "the network's output over the input plane" });
    this.canvas.addEventListener("click", (e) => this.click(e));
    this.info = el("div", { class: "lp-info" });
    this.classPick = el("select", { "aria-label": "class of a clicked point" });
    options(this.classPick, ["class 0 (blue)", "class 1 (orange)"], "class 0 (blue)");
    this.ownOnly = el("input", { type: "checkbox",
                                 onchange: () => this.fromControls() });
    this.csv = el("textarea", { placeholder: "x1,x2,label per line (2-D) or x,y (1-D)",
                                "aria-label": "points as CSV" });
    const own = el("div", {}, [
      el("div", { class: "lp-row" }, [this.pointHint = el("small"), this.classPick]),
      el("div", { class: "lp-row" }, [
        el("button", { onclick: () => this.clearPoints() }, "clear my points"),
        el("label", {}, [this.ownOnly, "only my points"]),
      ]),
      el("details", {}, [el("summary", { text: "paste points (CSV)" }), this.csv,
        el("button", { onclick: () => this.pastePoints() }, "add these points")]),
    ]);
    const main = el("div", { class: "lp-main" }, [this.canvas, this.info, own]);
    this.lossCanvas = el("canvas", { width: 300, height: 130, role: "img",
                                     "aria-label": "training (solid) and test (dashed) loss" });
    this.units = el("canvas", { width: 100, height: 100, role: "img",
                                "aria-label": "each hidden unit's output over the input" });
    const side = el("div", { class: "lp-side" }, [
      el("small", { text: "loss: train (solid), test (dashed)" }), this.lossCanvas,
      this.unitNote = el("small"), el("div", { class: "lp-units" }, [this.units])]);
    this.stateBox = el("input", { type: "text", "aria-label": "the state as text",
                                  spellcheck: "false" });
    this.stateBox.addEventListener("change", () => {
      try {
        this.load(S.decode(this.stateBox.value));
      } catch (e) {
        this.message(e.message);
      }
    });
    this.msg = el("span", { class: "lp-msg", role: "status" });
    const stateRow = el("div", { class: "lp-state" }, [
      el("small", { text: "state (the notebook's playground reads the same text; the " +
                          "page's address holds it, so a link reproduces this setup):" }),
      this.stateBox, this.msg]);
    this.root.replaceChildren(el("div", { class: "lp" }, [
      bar, presets, controls, el("div", { class: "lp-grid" }, [main, side]), stateRow]));
  }

  message(text) {
    this.msg.textContent = text;
  }

  /** A new run of `state`; the controls, the state text and the address show it. */
  load(state, keepPlaying = true) {
    this.run = new Run(state);
    this.message("");
    const reg = this.run.data.regression;
    const g = reg ? 200 : this.gridSize();
    this.grid = D.makeGrid(reg, g);
    this.g = g;
    this.nGrid = reg ? g : g * g;
    this.surface = document.createElement("canvas");
    this.surface.width = reg ? 1 : g;
    this.surface.height = reg ? 1 : g;
    this.surfaceImage = new ImageData(this.surface.width, this.surface.height);
    this.unitImage = reg ? null : new ImageData(g, g);
    this.unitCanvas = document.createElement("canvas");
    this.unitCanvas.width = this.unitCanvas.height = g;
    if (reg) {
      const ys = [...this.run.data.y, ...this.run.data.yt];
      const lo = Math.min(...ys), hi = Math.max(...ys), pad = 0.25 * (hi - lo) + 1e-3;
      this.ylim = [lo - pad, hi + pad];
    }
    this.show(state);
    this.drawEvery = 1;
    this.frame = 0;
    this.draw();
    if (!keepPlaying) this.setPlaying(false);
  }

  // a finer surface for small nets, a coarser one when a grid pass would cost a frame
  gridSize() {
    const w = this.run.state.widths, k = this.run.net.k;
    let cost = 2 * w[0] * k;
    for (let i = 1; i < w.length; i++) cost += w[i - 1] * w[i] * k;
    return cost < 2000 ? 48 : cost < 10000 ? 32 : 24;
  }

  show(state) {
    const f = this.fields;
    options(f.dataset, DATASETS, state.dataset);
    options(f.activation, Object.keys(ACTIVATIONS), state.activation);
    options(f.optimizer, OPTIMIZERS, state.optimizer);
    options(f.init, INITS, state.init);
    options(f.lr, LR, state.lr);
    options(f.l2, L2, state.l2);
    options(f.grad_at_zero, [0, 0.5, 1], state.grad_at_zero);
    for (const key of ["noise", "n", "test_fraction", "k", "batch_size", "seed"]) {
      f[key].value = String(state[key]);
    }
    f.widths.value = state.widths.join("-");
    f.k.disabled = state.activation !== "maxout";
    f.grad_at_zero.disabled = !("grad_at_zero" in ACTIVATIONS[state.activation].params);
    this.ownOnly.checked = state.n === 0;
    this.ownOnly.disabled = state.points.length < 2 && state.n !== 0;
    const reg = isRegression(state.dataset);
    this.classPick.hidden = reg;
    this.pointHint.textContent = reg ? "click the plot to add a sample (x, y)" :
      "click the plot to add a point of (shift-click: the other class)";
    this.stateBox.value = S.encode(state);
    const hash = hashOf(state);
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }

  fromControls() {
    const f = this.fields, old = this.run.state;
    try {
      const fields = { ...old };
      for (const key of ["dataset", "activation", "optimizer", "init"]) fields[key] = f[key].value;
      for (const key of ["noise", "test_fraction", "lr", "l2", "grad_at_zero"]) {
        fields[key] = Number(f[key].value);
      }
      for (const key of ["n", "k", "batch_size", "seed"]) fields[key] = Number(f[key].value);
      const widths = f.widths.value.trim();
      if (!/^\d+(-\d+)*$/.test(widths)) {
        throw new Error(`widths must be hidden widths joined by '-', e.g. 3-3-3; got '${widths}'`);
      }
      fields.widths = widths.split("-").map(Number);
      if (isRegression(fields.dataset) !== isRegression(old.dataset)) {
        fields.points = [];      // own points belong to one kind of data (2-D or 1-D)
        if (fields.n === 0) fields.n = S.DEFAULTS.n;
      }
      if (this.ownOnly.checked && old.n !== 0) fields.n = 0;
      else if (!this.ownOnly.checked && fields.n === 0) fields.n = S.DEFAULTS.n;
      this.load(S.makeState(fields));
    } catch (e) {
      this.message(e.message);
    }
  }

  setPlaying(on) {
    this.playing = on;
    this.playButton.textContent = on ? "pause" : "play";
  }

  toggle() {
    this.setPlaying(!this.playing);
  }

  stepOnce() {
    this.setPlaying(false);
    this.run.step(1);
    this.draw();
  }

  // --- the reader's points -----------------------------------------------------------

  addPoints(points) {
    const state = this.run.state;
    try {
      const next = S.makeState({ ...state, points: [...state.points, ...points] });
      this.run.addPoints(next);
      this.show(next);
      this.draw();
    } catch (e) {
      this.message(e.message);
    }
  }

  click(event) {
    const rect = this.canvas.getBoundingClientRect();
    const px = ((event.clientX - rect.left) / rect.width) * this.canvas.width;
    const py = ((event.clientY - rect.top) / rect.height) * this.canvas.height;
    const reg = this.run.data.regression;
    const [a, b] = D.view(this.canvas, reg, this.ylim).inv(px, py);
    const round = (v) => Math.round(v * 100) / 100;
    if (reg) this.addPoints([[round(a), round(b)]]);
    else {
      const label = (this.classPick.selectedIndex + (event.shiftKey ? 1 : 0)) % 2;
      this.addPoints([[round(a), round(b), label]]);
    }
  }

  pastePoints() {
    try {
      const reg = this.run.data.regression;
      const rows = this.csv.value.split(/\r?\n/).map((l) => l.trim())
        .filter((l) => l && !/^[a-z#]/i.test(l))   // skip a header line and comments
        .map((l) => l.split(/[,;\s]+/).map(Number));
      for (const r of rows) {
        if (r.length !== (reg ? 2 : 3) || r.some((v) => !Number.isFinite(v))) {
          throw new Error(`each line must be ${reg ? "x,y" : "x1,x2,label"}; got ` +
                          `'${r.join(",")}'`);
        }
      }
      const round = (v) => Math.round(v * 1000) / 1000;
      this.addPoints(rows.map((r) => r.map(round)));
    } catch (e) {
      this.message(e.message);
    }
  }

  clearPoints() {
    const s = this.run.state;
    this.load(S.makeState({ ...s, points: [], n: s.n === 0 ? S.DEFAULTS.n : s.n }));
  }

  // --- the loop ------------------------------------------------------------------------

  stepsPerFrame() {
    const choice = this.speed.value;
    const wanted = choice === "epoch" ?
      Math.ceil(this.run.data.nTrain / Math.min(this.run.state.batch_size, this.run.data.nTrain)) :
      Number(choice);
    // keep the page responsive: at most FRAME_BUDGET_MS of training per frame
    return Math.max(1, Math.min(wanted, Math.floor(FRAME_BUDGET_MS / this.msPerStep)));
  }

  tick() {
    if (this.playing && !this.run.diverged) {
      const n = this.stepsPerFrame(), t0 = performance.now();
      this.run.step(n);
      const t1 = performance.now();
      this.msPerStep = 0.8 * this.msPerStep + 0.2 * ((t1 - t0) / n);
      this.stats.steps += n;
      this.stats.trainMs += t1 - t0;
      this.frame += 1;
      if (this.frame % this.drawEvery === 0) this.draw();
      else this.drawInfo();
      this.stats.frames += 1;
    } else if (this.playing) this.setPlaying(false);
    requestAnimationFrame((t) => this.tick(t));
  }

  // --- drawing -------------------------------------------------------------------------

  draw() {
    const t0 = performance.now();
    const run = this.run, net = run.net, reg = run.data.regression;
    if (!this.gridPass || this.gridPass.net !== net) {
      this.gridPass = net.newPass(this.nGrid);
      this.gridPass.net = net;
    }
    const P = net.forward(this.grid, this.nGrid, this.gridPass);
    this.regions = ACTIVATIONS[run.state.activation].piecewiseLinear ? countRegions(net, P) : null;
    const ctx = this.canvas.getContext("2d");
    const v = D.view(this.canvas, reg, this.ylim);
    const W = this.canvas.width, H = this.canvas.height;
    if (reg) {
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, W, H);
      ctx.fillStyle = "#e6e6e6";      // beyond the training interval [-4, 4]
      ctx.fillRect(0, 0, v.x(-4), H);
      ctx.fillRect(v.x(4), 0, W - v.x(4), H);
      ctx.strokeStyle = "#ccc";
      ctx.beginPath();
      ctx.moveTo(0, v.y(0));
      ctx.lineTo(W, v.y(0));
      ctx.stroke();
      D.drawPoints(ctx, v, run.data, true);
      ctx.strokeStyle = "#d62728";
      ctx.lineWidth = 2;
      ctx.beginPath();
      for (let i = 0; i < this.nGrid; i++) {
        const x = v.x(this.grid[i]), y = v.y(P.out[i]);
        if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      }
      ctx.stroke();
      ctx.lineWidth = 1;
    } else {
      D.paintSurface(this.surfaceImage, P.out);
      this.surface.getContext("2d").putImageData(this.surfaceImage, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(this.surface, 0, 0, W, H);
      D.drawPoints(ctx, v, run.data, false);
    }
    this.drawUnits(P);
    D.drawLoss(this.lossCanvas, run.history);
    this.drawInfo();
    const ms = performance.now() - t0;
    this.stats.drawMs += ms;
    // a big net's surface costs more than a frame: redraw it every few frames
    this.drawEvery = Math.max(1, Math.min(30, Math.ceil(ms / 10)));
  }

  drawUnits(P) {
    const net = this.run.net, reg = this.run.data.regression;
    const e = this.run.latest();
    const layers = net.hidden.length;
    const shown = Math.min(MAX_UNITS_SHOWN, Math.max(...net.widths));
    const c = this.units, w = layers * (CELL + 4) + 2, h = shown * (CELL + 4) + 2;
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    const ctx = c.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
    const uctx = this.unitCanvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    let hidden = 0;
    for (let l = 0; l < layers; l++) {
      const width = net.widths[l], hArr = P.h[l];
      hidden += Math.max(0, width - shown);
      for (let u = 0; u < Math.min(width, shown); u++) {
        const x = 2 + l * (CELL + 4), y = 2 + u * (CELL + 4);
        if (reg) {
          let lo = Infinity, hi = -Infinity;
          for (let i = 0; i < this.nGrid; i++) {
            lo = Math.min(lo, hArr[i * width + u]);
            hi = Math.max(hi, hArr[i * width + u]);
          }
          ctx.strokeStyle = "#333";
          ctx.beginPath();
          for (let i = 0; i < this.nGrid; i += 4) {
            const t = hi > lo ? (hArr[i * width + u] - lo) / (hi - lo) : 0.5;
            const px = x + (i / (this.nGrid - 1)) * CELL, py = y + CELL - t * CELL;
            if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py);
          }
          ctx.stroke();
        } else {
          D.paintUnit(this.unitImage, hArr, width, u, this.nGrid);
          uctx.putImageData(this.unitImage, 0, 0);
          ctx.drawImage(this.unitCanvas, x, y, CELL, CELL);
        }
        ctx.strokeStyle = "#bbb";
        ctx.strokeRect(x - 0.5, y - 0.5, CELL + 1, CELL + 1);
        if (e.dead[l][u]) {      // dead: never positive on the training set
          ctx.strokeStyle = "#e00";
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.moveTo(x, y); ctx.lineTo(x + CELL, y + CELL);
          ctx.moveTo(x + CELL, y); ctx.lineTo(x, y + CELL);
          ctx.stroke();
          ctx.lineWidth = 1;
        }
      }
    }
    const act = this.run.state.activation;
    this.unitNote.textContent = "each hidden unit's output (columns: layers)" +
      (hidden ? `; ${hidden} more units not shown` : "") +
      (this.run.canDie ? "; red cross: dead unit" : `; ${act} units cannot die`);
  }

  drawInfo() {
    const run = this.run, e = run.latest();
    const fmt = (x) => (Number.isFinite(x) ? x.toFixed(3) : "—");
    const dead = e.dead.flat().filter(Boolean).length, all = e.dead.flat().length;
    const acc = run.data.regression ? "" :
      ` · accuracy train ${fmt(e.trainAcc)}, test ${fmt(e.testAcc)}`;
    this.info.textContent = `loss train ${fmt(e.train)}, test ${fmt(e.test)}${acc}` +
      ` · dead units ${run.canDie ? `${dead} of ${all}` : "— (cannot die)"}` +
      ` · linear regions ${this.regions === null ? "— (not piecewise linear)" :
        `${this.regions} on the drawn ${run.data.regression ? "line" : "grid"}`}` +
      (run.diverged ? " · DIVERGED" : "");
    this.info.dataset.loss = String(e.train);
    this.counter.textContent = `step ${run.stepCount} · epoch ` +
      `${Math.floor((run.stepCount * Math.min(run.state.batch_size, run.data.nTrain)) /
        run.data.nTrain)}`;
  }
}

/** Mount a playground on each `.live-playground` element of the page. */
export function mountAll() {
  if (!document.getElementById("live-playground-css")) {
    document.head.append(el("style", { id: "live-playground-css" }, CSS));
  }
  return Array.from(document.querySelectorAll(".live-playground")).map((root) => {
    root.playground = new Playground(root);
    return root.playground;
  });
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
}
