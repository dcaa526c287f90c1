// Drawing the playground on canvases: the network's output over the input plane (or its
// curve for 1-D data), the loss curves, and a small map of every hidden unit.
export const EXTENT = 1.4;           // the 2-D view is [-1.4, 1.4]², as in the notebook
export const X1D = [-5, 5];          // the 1-D view; training data lie in [-4, 4]
export const CLASS_COLORS = ["#1f77b4", "#ff7f0e"];
const RGB = [[31, 119, 180], [255, 127, 14]];

/** The grid the surface and unit maps are computed on: g×g points over the view (2-D),
 * or g points along x (1-D). */
export function makeGrid(regression, g) {
  if (regression) {
    return Float64Array.from({ length: g }, (_, i) => X1D[0] + (i * (X1D[1] - X1D[0])) / (g - 1));
  }
  const X = new Float64Array(2 * g * g);
  for (let r = 0; r < g; r++) {
    for (let c = 0; c < g; c++) {
      X[2 * (r * g + c)] = -EXTENT + ((c + 0.5) * 2 * EXTENT) / g;
      X[2 * (r * g + c) + 1] = EXTENT - ((r + 0.5) * 2 * EXTENT) / g;   // row 0 at the top
    }
  }
  return X;
}

/** P(class 1) on the grid as colours into an ImageData: blue for class 0, orange for 1,
 * white at the boundary. */
export function paintSurface(image, out) {
  const px = image.data;
  for (let i = 0; i < out.length / 2; i++) {
    const d = out[2 * i + 1] - out[2 * i];
    const p = 1 / (1 + Math.exp(-d));
    const c = RGB[p > 0.5 ? 1 : 0], t = Math.min(1, Math.abs(p - 0.5) * 2) * 0.6;
    px[4 * i] = 255 + (c[0] - 255) * t;
    px[4 * i + 1] = 255 + (c[1] - 255) * t;
    px[4 * i + 2] = 255 + (c[2] - 255) * t;
    px[4 * i + 3] = 255;
  }
}

/** One hidden unit's output over the grid, scaled to its own range, into an ImageData. */
export function paintUnit(image, h, width, unit, n) {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = h[i * width + unit];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo && Number.isFinite(hi - lo) ? 1 / (hi - lo) : 0;
  const px = image.data;
  for (let i = 0; i < n; i++) {
    const t = (h[i * width + unit] - lo) * scale;     // 0 → dark blue, 1 → yellow
    px[4 * i] = 40 + 210 * t;
    px[4 * i + 1] = 30 + 200 * t;
    px[4 * i + 2] = 110 - 80 * t;
    px[4 * i + 3] = 255;
  }
}

/** Map data coordinates to canvas pixels. */
export function view(canvas, regression, ylim) {
  const w = canvas.width, h = canvas.height;
  if (!regression) {
    return { x: (a) => ((a + EXTENT) / (2 * EXTENT)) * w, y: (b) => ((EXTENT - b) / (2 * EXTENT)) * h,
             inv: (px, py) => [(px / w) * 2 * EXTENT - EXTENT, EXTENT - (py / h) * 2 * EXTENT] };
  }
  const [lo, hi] = ylim;
  return { x: (a) => ((a - X1D[0]) / (X1D[1] - X1D[0])) * w, y: (b) => ((hi - b) / (hi - lo)) * h,
           inv: (px, py) => [X1D[0] + (px / w) * (X1D[1] - X1D[0]), hi - (py / h) * (hi - lo)] };
}

/** Training points filled, test points hollow, the reader's own points with a black ring. */
export function drawPoints(ctx, v, data, regression) {
  const dot = (x, y, r, fill, stroke) => {
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    if (fill) { ctx.fillStyle = fill; ctx.fill(); }
    if (stroke) { ctx.strokeStyle = stroke; ctx.stroke(); }
  };
  const k = data.inputs;
  ctx.lineWidth = 1;
  const own0 = data.nTrain - data.nOwn;
  for (let i = 0; i < data.nTrain; i++) {
    const x = v.x(data.X[i * k]), y = v.y(regression ? data.y[i] : data.X[i * k + 1]);
    const color = regression ? "#666" : CLASS_COLORS[data.y[i]];
    if (i >= own0) dot(x, y, 4.5, color, "#000");
    else dot(x, y, 2.5, color, null);
  }
  for (let i = 0; i < data.nTest; i++) {
    const x = v.x(data.Xt[i * k]), y = v.y(regression ? data.yt[i] : data.Xt[i * k + 1]);
    dot(x, y, 2.8, null, regression ? "#333" : CLASS_COLORS[data.yt[i]]);
  }
}

/** Train (solid) and test (dashed) loss against step, log scale. */
export function drawLoss(canvas, history) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, h);
  const all = [...history.train, ...history.test].filter((x) => Number.isFinite(x) && x > 0);
  if (!all.length) return;
  let lo = Math.floor(Math.log10(Math.min(...all))), hi = Math.ceil(Math.log10(Math.max(...all)));
  if (hi <= lo) hi = lo + 1;
  const last = history.step[history.step.length - 1] || 1;
  let xmax = 100;
  while (xmax < last) xmax *= 2;
  const left = 34, bottom = h - 16;
  const X = (s) => left + (s / xmax) * (w - left - 6);
  const Y = (v) => 6 + ((hi - Math.log10(v)) / (hi - lo)) * (bottom - 6);
  ctx.font = "10px sans-serif";
  ctx.fillStyle = "#444";
  ctx.strokeStyle = "#ddd";
  for (let e = lo; e <= hi; e++) {
    ctx.beginPath();
    ctx.moveTo(left, Y(10 ** e));
    ctx.lineTo(w, Y(10 ** e));
    ctx.stroke();
    ctx.fillText(`1e${e}`, 2, Y(10 ** e) + 3);
  }
  ctx.fillText(`step ${xmax}`, w - 60, h - 3);
  ctx.fillText("0", left, h - 3);
  for (const [key, dash] of [["train", []], ["test", [4, 3]]]) {
    ctx.beginPath();
    ctx.setLineDash(dash);
    ctx.strokeStyle = "#000";
    let started = false;
    history[key].forEach((v, i) => {
      if (!(Number.isFinite(v) && v > 0)) return;
      const x = X(history.step[i]), y = Y(v);
      if (started) ctx.lineTo(x, y);
      else { ctx.moveTo(x, y); started = true; }
    });
    ctx.stroke();
  }
  ctx.setLineDash([]);
}
