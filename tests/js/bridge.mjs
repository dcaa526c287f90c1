// The browser playground seen from Python (tests/test_playground_js.py): reads a JSON
// request on stdin and writes the answer as JSON on stdout.
//   {"facts": true}               -> activations with their facts, state defaults, limits
//   {"forward": [case, ...]}      -> each case's network outputs (and hidden outputs)
//   {"texts": [text, ...]}        -> each text decoded and encoded again
import { readFileSync } from "node:fs";

import { ACTIVATIONS, INITS, MLP, OPTIMIZERS } from "../../book/_static/playground/nn.js";
import { DATASETS } from "../../book/_static/playground/data.js";
import * as S from "../../book/_static/playground/state.js";

const request = JSON.parse(readFileSync(0, "utf8"));
const answer = {};

if (request.facts) {
  answer.activations = Object.values(ACTIVATIONS).map((a) => ({
    name: a.name, params: a.params, kinks: a.kinks, grad_params: a.gradParams,
    shape_param: a.shapeParam, negative_slope: a.negativeSlope,
    piecewise_linear: a.piecewiseLinear, can_die: a.canDie, grouped: a.grouped,
  }));
  answer.state = { defaults: S.DEFAULTS, keys: S.KEYS, int_ranges: S.INT_RANGES,
                   float_ranges: S.FLOAT_RANGES, presets: S.PRESETS, datasets: DATASETS,
                   inits: INITS, optimizers: OPTIMIZERS, max_layers: S.MAX_LAYERS,
                   max_width: S.MAX_WIDTH, max_points: S.MAX_POINTS,
                   max_coord: S.MAX_COORD, max_text: S.MAX_TEXT };
}

if (request.forward) {
  answer.forward = request.forward.map((c) => {
    const net = new MLP(c.inputs, c.widths, c.outputs, c.activation, { k: c.k });
    net.setWeights(c.weights, c.slopes);
    const n = c.X.length;
    const P = net.forward(Float64Array.from(c.X.flat()), n);
    const rows = (a, m) => Array.from({ length: n }, (_, i) => Array.from(a.slice(i * m, (i + 1) * m)));
    return { out: rows(P.out, c.outputs), hidden: P.h.map((h, l) => rows(h, c.widths[l])) };
  });
}

if (request.texts) {
  answer.texts = request.texts.map((t) => {
    try {
      return { text: S.encode(S.decode(t)) };
    } catch (e) {
      return { error: e.message };
    }
  });
}

process.stdout.write(JSON.stringify(answer));
