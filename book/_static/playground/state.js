// The playground's state and its text form, the same as the notebook's
// (rectified.playground.PlaygroundState): `data=ring act=relu widths=3-3-3 lr=0.03`.
// A text either side writes, the other side reads. A test compares the defaults, limits,
// keys and presets here with the Python ones.
import { ACTIVATIONS, INITS, OPTIMIZERS } from "./nn.js";
import { DATASETS, isRegression } from "./data.js";

export const DEFAULTS = Object.freeze({
  dataset: "ring", noise: 0.05, n: 300, test_fraction: 0.3, activation: "relu",
  widths: [4, 4], k: 2, lr: 0.03, optimizer: "sgd", batch_size: 10, l2: 0,
  grad_at_zero: 0, init: "he", seed: 0, points: [],
});

// short keys of the text form, in the order they are written
export const KEYS = {
  data: "dataset", noise: "noise", n: "n", test: "test_fraction", act: "activation",
  widths: "widths", k: "k", lr: "lr", opt: "optimizer", batch: "batch_size", l2: "l2",
  g0: "grad_at_zero", init: "init", seed: "seed", pts: "points",
};

export const MAX_LAYERS = 8, MAX_WIDTH = 64, MAX_POINTS = 200, MAX_COORD = 10;
export const MAX_TEXT = 6000;
export const INT_RANGES = { n: [10, 5000], k: [1, 8], batch_size: [1, 5000],
                            seed: [0, 2 ** 31 - 1] };
// [low, high, low excluded]
export const FLOAT_RANGES = { noise: [0, 1, false], test_fraction: [0, 0.9, true],
                              lr: [0, 10, true], l2: [0, 1, false],
                              grad_at_zero: [0, 1, false] };

export const PRESETS = {
  "ring, ReLU": "data=ring act=relu widths=3-3-3 lr=0.03 l2=0.001",
  "ring, tanh": "data=ring act=tanh widths=3-3-3 lr=0.03 l2=0.001",
  "ring, linear": "data=ring act=linear widths=3-3-3 lr=0.03 l2=0.001",
  "ring, sigmoid": "data=ring act=sigmoid widths=3-3-3 lr=0.03 l2=0.001",
  "dying at a high learning rate": "data=spiral act=relu widths=8-8 lr=1.5",
  "deep sigmoid stall": "data=xor act=sigmoid widths=8-8-8-8-8-8 lr=0.1 init=standard",
  "sine with ReLU": "data=sine act=relu widths=16 lr=0.01 opt=adam",
};

const CHOICES = { dataset: DATASETS, activation: Object.keys(ACTIVATIONS),
                  optimizer: OPTIMIZERS, init: INITS };
const INTS = new Set(["n", "k", "batch_size", "seed"]);

/** A complete, checked state from some of its fields (the rest default); throws an Error
 * naming the field, the bad value and what is allowed. */
export function makeState(fields = {}) {
  const s = { ...DEFAULTS, ...fields };
  for (const [name, allowed] of Object.entries(CHOICES)) {
    if (!allowed.includes(s[name])) {
      throw new Error(`${name} must be one of ${allowed.join(", ")}; got '${s[name]}'`);
    }
  }
  const w = s.widths;
  if (!Array.isArray(w) || w.length < 1 || w.length > MAX_LAYERS ||
      w.some((x) => !Number.isInteger(x) || x < 1 || x > MAX_WIDTH)) {
    throw new Error(`widths must be 1 to ${MAX_LAYERS} hidden layers of 1 to ${MAX_WIDTH} ` +
                    `units, e.g. 3-3-3; got ${JSON.stringify(w)}`);
  }
  for (const [name, [lo, hi]] of Object.entries(INT_RANGES)) {
    const v = s[name];
    const ok = Number.isInteger(v) && ((lo <= v && v <= hi) || (name === "n" && v === 0));
    if (!ok) throw new Error(`${name} must be an int from ${lo} to ${hi}` +
                             (name === "n" ? " (or 0: only your own points)" : "") +
                             `; got ${v}`);
  }
  for (const [name, [lo, hi, open]] of Object.entries(FLOAT_RANGES)) {
    const v = s[name];
    if (typeof v !== "number" || !Number.isFinite(v) || (open ? v <= lo : v < lo) || v > hi) {
      throw new Error(`${name} must be a finite number in ${open ? "(" : "["}${lo}, ${hi}]; ` +
                      `got ${v}`);
    }
  }
  s.points = checkPoints(s.points, isRegression(s.dataset));
  if (s.n === 0 && s.points.length < 2) {
    throw new Error("n=0 trains on your own points only: add at least 2 points");
  }
  s.widths = w.slice();
  return Object.freeze(s);
}

function checkPoints(points, regression) {
  const size = regression ? 2 : 3;
  if (!Array.isArray(points) || points.length > MAX_POINTS) {
    throw new Error(`points must be a list of at most ${MAX_POINTS} points`);
  }
  return points.map((p) => {
    const bad = !Array.isArray(p) || p.length !== size ||
      p.some((v) => typeof v !== "number" || !Number.isFinite(v)) ||
      p.slice(0, 2).some((v) => Math.abs(v) > MAX_COORD) ||
      (!regression && p[2] !== 0 && p[2] !== 1);
    if (bad) {
      throw new Error(`each point must be ${regression ? "x,y" : "x1,x2,label (label 0 or 1)"}` +
                      ` with coordinates from -${MAX_COORD} to ${MAX_COORD}; ` +
                      `got ${JSON.stringify(p)}`);
    }
    return p.slice();
  });
}

const num = (v) => String(v);

/** The state as text: only the fields that differ from the defaults (data always). */
export function encode(s) {
  const parts = [];
  for (const [short, name] of Object.entries(KEYS)) {
    const v = s[name], d = DEFAULTS[name];
    let text;
    if (name === "widths") {
      if (v.join("-") === d.join("-")) continue;
      text = v.join("-");
    } else if (name === "points") {
      if (!v.length) continue;
      text = v.map((p) => p.map(num).join(",")).join(";");
    } else {
      if (v === d && short !== "data") continue;
      text = typeof v === "number" ? num(v) : v;
    }
    parts.push(`${short}=${text}`);
  }
  return parts.join(" ");
}

/** Parse encode()'s text (key=value pairs separated by spaces) into a checked state. */
export function decode(text) {
  if (typeof text !== "string") throw new Error("expected the playground's text form");
  if (text.length > MAX_TEXT) {
    throw new Error(`the state text is ${text.length} characters long; at most ${MAX_TEXT}`);
  }
  const fields = {};
  for (const part of text.split(/\s+/).filter(Boolean)) {
    const at = part.indexOf("=");
    const key = part.slice(0, at), value = part.slice(at + 1);
    if (at < 0 || !(key in KEYS)) {
      throw new Error(`cannot read '${part}'; use key=value with keys ` +
                      Object.keys(KEYS).join(", "));
    }
    const name = KEYS[key];
    if (name in fields) throw new Error(`${key} is given twice in the state text`);
    const number = (v) => {
      const x = v.trim() === "" ? NaN : Number(v);
      if (Number.isNaN(x)) throw new Error(`${key} must be a number; got '${v}'`);
      return x;
    };
    if (name === "widths") {
      fields.widths = value.split("-").map((v) => {
        if (!/^\d+$/.test(v)) throw new Error(`widths must be hidden widths joined by '-', ` +
                                             `e.g. 3-3-3; got '${value}'`);
        return Number(v);
      });
    } else if (name === "points") {
      fields.points = value.split(";").filter(Boolean).map((p) => p.split(",").map(number));
    } else if (INTS.has(name)) {
      if (!/^[+-]?\d+$/.test(value)) throw new Error(`${key} must be a whole number; ` +
                                                    `got '${value}'`);
      fields[name] = Number(value);
    } else if (name in FLOAT_RANGES) fields[name] = number(value);
    else fields[name] = value;
  }
  return makeState(fields);
}

/** Whether two states are the same setup. */
export const sameState = (a, b) => encode(a) === encode(b);
