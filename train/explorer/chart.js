// Line charts in SVG for the loss explorer: axes with round ticks (linear or log), labels with
// units, curves, shaded regions and a legend. Every curve's path carries the values it draws
// (data-x, data-y as JSON, null where the curve breaks), so what the page shows can be checked.
"use strict";

const zgChart = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 610, H = 400, LEFT = 74, RIGHT_LEGEND = 220, TOP = 16, BOTTOM = 58;
  const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  const el = (name, attrs, parent) => {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  };
  const text = (parent, x, y, s, attrs) => {
    const t = el("text", Object.assign({x, y, "font-size": 14, fill: "#1e1e1e"}, attrs || {}), parent);
    t.textContent = s;
    return t;
  };
  const format = v => {
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
    return String(Number(v.toPrecision(4)));
  };
  const superscript = n => String(n).replace(/-/g, "⁻").replace(/\d/g, d => "⁰¹²³⁴⁵⁶⁷⁸⁹"[d]);

  // About five round values in [lo, hi]; powers of ten on a log axis.
  const ticks = (lo, hi, log) => {
    const out = [];
    if (log) {
      const a = Math.ceil(Math.log10(lo) - 1e-9), b = Math.floor(Math.log10(hi) + 1e-9);
      const step = Math.max(1, Math.ceil((b - a + 1) / 7));
      for (let e = a; e <= b; e += step) out.push(Math.pow(10, e));
      return out;
    }
    const span = hi - lo;
    let step = Math.pow(10, Math.floor(Math.log10(span / 5)));
    for (const m of [1, 2, 5, 10]) if (span / (step * m) <= 6) { step *= m; break; }
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(Math.abs(v) < 1e-12 * span ? 0 : v);
    return out;
  };

  const extent = (values, log) => {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (v !== null && isFinite(v) && (!log || v > 0)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (!isFinite(lo)) return log ? [1, 10] : [0, 1];
    if (hi <= lo) return log ? [lo / 10, hi * 10] : [lo - 0.5, hi + 0.5];
    if (log) return [lo, hi];
    const pad = 0.05 * (hi - lo);
    return [lo - pad, hi + pad];
  };

  // spec: {x: {label, min, max, log, ticks}, y: {...}, series: [{id, label, x, y, colour, dashed, width}],
  //        fills: [{points: [[x, y], ...], colour, alpha, label}], equal: bool}
  function draw(svg, spec) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("width", W);
    svg.setAttribute("height", H);
    const right = W - RIGHT_LEGEND, bottom = H - BOTTOM;
    const xs = spec.series.flatMap(s => s.x), ys = spec.series.flatMap(s => s.y);
    let [x0, x1] = extent(xs, spec.x.log), [y0, y1] = extent(ys, spec.y.log);
    if (spec.x.min !== undefined) x0 = spec.x.min;
    if (spec.x.max !== undefined) x1 = spec.x.max;
    if (spec.y.min !== undefined) y0 = spec.y.min;
    if (spec.y.max !== undefined) y1 = spec.y.max;
    let left = LEFT, top = TOP, r = right, b = bottom;
    if (spec.equal) {  // one data unit spans as many pixels on both axes: shrink the longer side
      const per = Math.max((x1 - x0) / (r - left), (y1 - y0) / (b - top));
      const w = (x1 - x0) / per, h = (y1 - y0) / per;
      left += (r - left - w) / 2; r = left + w; top += (b - top - h) / 2; b = top + h;
    }
    const lg = v => Math.log10(v);
    const px = v => spec.x.log ? left + (lg(v) - lg(x0)) / (lg(x1) - lg(x0)) * (r - left) : left + (v - x0) / (x1 - x0) * (r - left);
    const py = v => spec.y.log ? b - (lg(v) - lg(y0)) / (lg(y1) - lg(y0)) * (b - top) : b - (v - y0) / (y1 - y0) * (b - top);
    const clipId = svg.id + "-clip";
    const defs = el("defs", {}, svg);
    el("rect", {x: left, y: top, width: r - left, height: b - top}, el("clipPath", {id: clipId}, defs));
    const grid = el("g", {stroke: "#dcdcdc", "stroke-width": 1}, svg);
    const xt = (spec.x.ticks || ticks(x0, x1, spec.x.log)).filter(v => v >= x0 && v <= x1);
    const yt = (spec.y.ticks || ticks(y0, y1, spec.y.log)).filter(v => v >= y0 && v <= y1);
    const label = (v, log) => log ? (Math.abs(lg(v) - Math.round(lg(v))) < 1e-9 ? "10" + superscript(Math.round(lg(v))) : format(v)) : format(v);
    for (const v of xt) {
      el("line", {x1: px(v), x2: px(v), y1: top, y2: b}, grid);
      text(svg, px(v), b + 20, label(v, spec.x.log), {"text-anchor": "middle"});
    }
    for (const v of yt) {
      el("line", {x1: left, x2: r, y1: py(v), y2: py(v)}, grid);
      text(svg, left - 6, py(v) + 5, label(v, spec.y.log), {"text-anchor": "end"});
    }
    const plot = el("g", {"clip-path": `url(#${clipId})`}, svg);
    for (const f of spec.fills || []) {
      if (f.points.length < 3) continue;
      el("polygon", {points: f.points.map(([x, y]) => `${px(x)},${py(y)}`).join(" "), fill: f.colour, "fill-opacity": f.alpha || 0.25}, plot);
    }
    const legend = [];
    spec.series.forEach((s, k) => {
      const colour = s.colour || palette[k % palette.length];
      let d = "", pen = false;
      for (let i = 0; i < s.x.length; ++i) {
        const ok = s.x[i] !== null && s.y[i] !== null && isFinite(s.x[i]) && isFinite(s.y[i]) &&
                   (!spec.x.log || s.x[i] > 0) && (!spec.y.log || s.y[i] > 0);
        if (!ok) { pen = false; continue; }
        // Far outside the area a point is pulled in, so huge values stay drawable.
        const X = Math.max(-1e4, Math.min(1e4, px(s.x[i]))), Y = Math.max(-1e4, Math.min(1e4, py(s.y[i])));
        d += (pen ? "L" : "M") + X.toFixed(2) + "," + Y.toFixed(2);
        pen = true;
      }
      el("path", {id: svg.id + "--" + String(s.id || s.label).replace(/[^A-Za-z0-9]+/g, "-"), d, fill: "none", stroke: colour, "stroke-width": s.width || 2, "stroke-dasharray": s.dashed ? "8 5" : "none",
                  "data-series": s.id || s.label, "data-x": JSON.stringify(s.x), "data-y": JSON.stringify(s.y)}, plot);
      if (s.label) legend.push({label: s.label, colour, dashed: s.dashed});
    });
    for (const f of spec.fills || []) if (f.label) legend.push({label: f.label, colour: f.colour, fill: true});
    el("rect", {x: left, y: top, width: r - left, height: b - top, fill: "none", stroke: "#1e1e1e"}, svg);
    text(svg, (left + r) / 2, H - 12, spec.x.label, {"text-anchor": "middle", "font-size": 15});
    text(svg, 0, 0, spec.y.label, {"text-anchor": "middle", "font-size": 15, transform: `translate(18 ${(top + b) / 2}) rotate(-90)`});
    legend.forEach((e, k) => {
      const y = TOP + 10 + 22 * k, x = right + 14;
      if (e.fill) el("rect", {x, y: y - 7, width: 22, height: 14, fill: e.colour, "fill-opacity": 0.35}, svg);
      else el("line", {x1: x, x2: x + 22, y1: y, y2: y, stroke: e.colour, "stroke-width": 2.5, "stroke-dasharray": e.dashed ? "6 4" : "none"}, svg);
      text(svg, x + 28, y + 5, e.label);
    });
  }

  return {draw, palette};
})();
