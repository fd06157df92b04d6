// The loss explorer: sliders for each loss's parameters, curves recomputed by zoograd's
// WebAssembly module (createZoograd, from module.cpp) and drawn by zgChart. window.zgReady
// resolves once every section has drawn; every redraw fires the document event "zg-drawn".
"use strict";

window.zgReady = (async () => {
  const status = document.getElementById("status");
  const M = await createZoograd();
  const call = request => {
    const p = M.ccall("zg_explore", "number", ["string"], [JSON.stringify(request)]);
    const answer = JSON.parse(M.UTF8ToString(p));
    M.ccall("zg_free", null, ["number"], [p]);
    if (answer.error) throw new Error(answer.error);
    return answer;
  };
  const $ = id => document.getElementById(id);
  const linspace = (lo, hi, n) => Array.from({length: n}, (_, i) => lo + (hi - lo) * i / (n - 1));
  const degrees = v => v.map(x => x === null ? null : x * 180 / Math.PI);
  const drawn = () => document.dispatchEvent(new Event("zg-drawn"));
  const guarded = (errorId, draw) => () => {
    try {
      draw();
      if (errorId) $(errorId).textContent = "";
    } catch (e) {
      if (!errorId) throw e;
      $(errorId).textContent = e.message;
    }
    drawn();
  };

  // A labelled slider whose value shows beside it; change(value) runs on every move.
  const slider = (parent, id, label, min, max, step, value, change) => {
    const box = document.createElement("div");
    box.className = "control";
    box.innerHTML = `<label for="${id}"></label><input type="range" id="${id}"><output for="${id}"></output>`;
    box.querySelector("label").textContent = label;
    const input = box.querySelector("input"), out = box.querySelector("output");
    Object.assign(input, {min, max, step});
    input.value = value;
    out.textContent = String(value);
    input.addEventListener("input", () => {
      out.textContent = input.value;
      change(Number(input.value));
    });
    parent.appendChild(box);
    return input;
  };
  const option = (select, value, label) => {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    select.appendChild(o);
  };

  // ---- target logits and binary boundaries ----
  const angular = {sphereface_m: 4, sphereface_lambda: 0, cosface_m: 0.35, arcface_m: 0.5, m1: 1, m2: 0.3, m3: 0.2};
  const angularSliders = [["sphereface_m", "SphereFace m", 1, 6, 1], ["sphereface_lambda", "SphereFace λ", 0, 20, 0.5],
                          ["cosface_m", "CosFace m", 0, 0.8, 0.01], ["arcface_m", "ArcFace m", 0, 1.2, 0.01],
                          ["m1", "combined m1", 0.5, 2, 0.05], ["m2", "combined m2", 0, 1, 0.01], ["m3", "combined m3", 0, 0.6, 0.01]];
  const theta = linspace(0, Math.PI, 361), cosines = linspace(-1, 1, 401);
  const boundaryLoss = $("boundary-loss");
  // The first run of defined values, as [index of the first, index after the last].
  const run = values => {
    const a = values.findIndex(v => v !== null);
    if (a < 0) return [0, 0];
    let b = a;
    while (b < values.length && values[b] !== null) ++b;
    return [a, b];
  };
  const colours = zgChart.palette;
  const drawAngular = guarded("target-error", () => {
    const answer = call({op: "target_logits", settings: angular, theta});
    if (!boundaryLoss.options.length) {
      answer.losses.forEach((l, k) => option(boundaryLoss, k, l.name.split(" ")[0] === "modified" ? "modified softmax" : l.name.split(" ")[0]));
      boundaryLoss.value = 2;
    }
    zgChart.draw($("chart-target"), {
      x: {label: "θ, angle to the class's weight (degrees)", min: 0, max: 180, ticks: [0, 45, 90, 135, 180]},
      y: {label: "target logit / s (cosine units)", min: -1.5, max: 1.1},
      series: answer.losses.map(l => ({id: l.name, label: l.name, x: degrees(theta), y: l.target_logit}))});
    const loss = answer.losses[Number(boundaryLoss.value)];
    const b1 = degrees(loss.class1_boundary), t = degrees(theta);
    const [a, b] = run(b1);
    const up = [[t[a], 180], ...t.slice(a, b).map((x, i) => [x, b1[a + i]]), [t[b - 1], 180]];
    zgChart.draw($("chart-theta"), {
      x: {label: "θ1 (degrees)", min: 0, max: 180, ticks: [0, 45, 90, 135, 180]},
      y: {label: "θ2 (degrees)", min: 0, max: 180, ticks: [0, 45, 90, 135, 180]}, equal: true,
      fills: b > a ? [{points: up, colour: colours[0], label: "class 1 meets its margin"},
                      {points: up.map(([x, y]) => [y, x]), colour: colours[3], label: "class 2 meets its margin"}] : [],
      series: [{id: "class 1 boundary", label: "class 1 boundary", x: t, y: b1, colour: "#1e1e1e"},
               {id: "class 2 boundary", label: "class 2 boundary", x: b1, y: t, colour: colours[1]},
               {id: "diagonal", label: "θ1 = θ2", x: [0, 180], y: [0, 180], colour: "#5a5a5a", dashed: true, width: 1.5}]});
    const inCos = call({op: "target_logits", settings: angular, theta: cosines.map(c => Math.acos(c))}).losses[Number(boundaryLoss.value)];
    const tc = inCos.target_logit.map(v => v !== null && v >= -1 ? v : null);
    const [c0, c1] = run(tc);
    const below = [[cosines[c0], -1], ...cosines.slice(c0, c1).map((x, i) => [x, tc[c0 + i]]), [cosines[c1 - 1], -1]];
    zgChart.draw($("chart-cos"), {
      x: {label: "cos θ1 (dimensionless)", min: -1, max: 1}, y: {label: "cos θ2 (dimensionless)", min: -1, max: 1}, equal: true,
      fills: c1 > c0 ? [{points: below, colour: colours[0], label: "class 1 meets its margin"},
                        {points: below.map(([x, y]) => [y, x]), colour: colours[3], label: "class 2 meets its margin"}] : [],
      series: [{id: "class 1 boundary", label: "class 1 boundary", x: cosines, y: tc, colour: "#1e1e1e"},
               {id: "class 2 boundary", label: "class 2 boundary", x: tc, y: cosines, colour: colours[1]},
               {id: "diagonal", label: "cos θ1 = cos θ2", x: [-1, 1], y: [-1, 1], colour: "#5a5a5a", dashed: true, width: 1.5}]});
  });
  for (const [key, label, min, max, step] of angularSliders)
    slider($("angular-controls"), "angular-" + key, label, min, max, step, angular[key], v => { angular[key] = v; drawAngular(); });
  boundaryLoss.addEventListener("change", drawAngular);

  // ---- focal loss ----
  let gamma = 2;
  const p_t = linspace(0.0025, 0.9975, 399);
  const drawFocal = guarded(null, () => zgChart.draw($("chart-focal"), {
    x: {label: "p_t, the probability of the true class (probability)", min: 0, max: 1},
    y: {label: "loss (nats)", min: 0, max: 5},
    series: [{id: "cross-entropy", label: "γ = 0 (cross-entropy)", x: p_t, y: call({op: "focal", gamma: 0, p_t}).loss, dashed: true},
             {id: "focal", label: "γ = " + gamma, x: p_t, y: call({op: "focal", gamma, p_t}).loss}]}));
  slider($("focal-controls"), "focal-gamma", "γ", 0, 5, 0.1, gamma, v => { gamma = v; drawFocal(); });

  // ---- regression ----
  const regression = {delta: 1, beta: 1, tau: 0.9};
  const errors = linspace(-3, 3, 301);
  const drawRegression = guarded(null, () => {
    const curves = call({op: "regression", settings: regression, errors}).curves;
    const x = {label: "error e = prediction − target (units of the target)", min: -3, max: 3};
    zgChart.draw($("chart-regression"), {x, y: {label: "loss (squared units for MSE)", min: 0, max: 4},
      series: curves.map(c => ({id: c.label, label: c.label, x: errors, y: c.loss, dashed: c.label.startsWith("smooth")}))});
    zgChart.draw($("chart-regression-grad"), {x, y: {label: "dℓ/d(prediction) (per target unit)", min: -2.5, max: 2.5},
      series: curves.map(c => ({id: c.label, label: c.label, x: errors, y: c.grad, dashed: c.label.startsWith("smooth")}))});
  });
  for (const [key, label, min, max, step] of [["delta", "Huber δ", 0.1, 3, 0.05], ["beta", "smooth L1 β", 0.1, 3, 0.05], ["tau", "quantile τ", 0.05, 0.95, 0.01]])
    slider($("regression-controls"), "regression-" + key, label, min, max, step, regression[key], v => { regression[key] = v; drawRegression(); });

  // ---- NormFace ----
  const normface = {classes: 10, s_max: 64};
  const drawNormface = guarded("normface-error", () => {
    const s = linspace(1, normface.s_max, 253), a = call({op: "normface", classes: normface.classes, s});
    // float64 resolves logsumexp(z) − z_y only to about 1e-16·s: below 1e-12 rounding would show.
    zgChart.draw($("chart-normface"), {x: {label: "scale s (logit units)", min: 1, max: normface.s_max},
      y: {label: "lowest softmax loss (nats, log scale)", log: true},
      series: [{id: "library", label: "normface_loss", x: s, y: a.library.map(v => v !== null && v >= 1e-12 ? v : null), width: 3},
               {id: "closed form", label: "closed form", x: s, y: a.closed_form, dashed: true, colour: "#1e1e1e"}]});
  });
  const classes = document.createElement("div");
  classes.className = "control";
  classes.innerHTML = `<label for="normface-classes">classes C</label><input id="normface-classes" type="number" min="2" max="100000" value="10" style="width:7em">`;
  $("normface-controls").appendChild(classes);
  $("normface-classes").addEventListener("input", e => { normface.classes = Math.round(Number(e.target.value)); drawNormface(); });
  slider($("normface-controls"), "normface-smax", "largest s", 2, 128, 1, normface.s_max, v => { normface.s_max = v; drawNormface(); });

  // ---- any catalog loss along one input ----
  const catalog = call({op: "catalog"}).losses;
  const select = $("catalog-loss"), reduction = $("catalog-reduction"), inputSelect = $("catalog-input"), index = $("catalog-index");
  for (const l of catalog) option(select, l.name, l.name);
  select.value = "cross_entropy";
  const state = {params: {}, halfWidth: 2};
  const spec = () => catalog.find(l => l.name === select.value);
  const flat = nested => Array.isArray(nested) ? nested.flatMap(flat) : [nested];
  // A slider's range from the parameter's default and its help text.
  const range = p => {
    const d = p.default;
    if (/^1:|0\/1|boolean/.test(p.help) || ["easy_margin", "log_input", "full", "swap"].includes(p.name)) return [0, 1, 1];
    if (/integer/.test(p.help)) return [Math.min(1, d), Math.max(6, 2 * d), 1];
    if (d === 0) return [0, 1, 0.01];
    const hi = 2 * Math.abs(d), unit = Math.pow(10, Math.floor(Math.log10(hi / 100)));
    // A round step (1, 2 or 5 times a power of ten) about a hundredth of the range.
    const step = [5, 2, 1].map(k => k * unit).find(v => v <= hi / 100);
    return [d < 0 ? -hi : 0, hi, step];
  };
  const drawCatalog = guarded("catalog-error", () => {
    const s = spec(), input = inputSelect.value, k = Number(index.value);
    const base = flat(s.sample[input])[k];
    if (base === undefined) throw new Error(`${input} has ${flat(s.sample[input]).length} elements; choose an element below that`);
    const values = linspace(base - state.halfWidth, base + state.halfWidth, 201);
    const request = {name: s.name, set: state.params, reduction: reduction.value, input, index: k, inputs: s.sample};
    const a = call(Object.assign({op: "sweep", values}, request));
    const what = `${input}[${k}] (value of the element)`;
    zgChart.draw($("chart-catalog-loss"), {x: {label: what}, y: {label: `loss (${reduction.value} over samples)`},
      series: [{id: "loss", label: s.name, x: values, y: a.loss}]});
    zgChart.draw($("chart-catalog-grad"), {x: {label: what}, y: {label: `∂loss/∂${input}[${k}] (per input unit)`},
      series: [{id: "grad", label: "gradient", x: values, y: a.grad, colour: zgChart.palette[1]}]});
    $("catalog-request").textContent = JSON.stringify(request);
    const sets = Object.entries(state.params).map(([key, v]) => ` --set ${key}=${v}`).join("");
    $("catalog-command").textContent = `echo '${JSON.stringify({inputs: s.sample})}' | zoograd loss eval ${s.name}${sets} --reduction ${reduction.value}`;
    if (a.domain) $("catalog-error").textContent = "Some points are outside the loss's domain: " + a.domain;
  });
  const chooseLoss = () => {
    const s = spec();
    $("catalog-formula").textContent = s.formula;
    reduction.innerHTML = "";
    for (const r of s.reductions) if (r !== "none") option(reduction, r, r);
    inputSelect.innerHTML = "";
    for (const i of s.inputs) if (i.differentiable) option(inputSelect, i.name, `${i.name} ${i.shape}`);
    index.value = 0;
    const controls = $("catalog-controls");
    controls.innerHTML = "";
    state.params = {};
    for (const p of s.params) {
      state.params[p.name] = p.default;
      const [min, max, step] = range(p);
      slider(controls, "catalog-param-" + p.name, p.name, min, max, step, p.default, v => { state.params[p.name] = v; drawCatalog(); });
    }
    slider(controls, "catalog-width", "± range", 0.5, 5, 0.5, state.halfWidth, v => { state.halfWidth = v; drawCatalog(); });
    drawCatalog();
  };
  select.addEventListener("change", chooseLoss);
  for (const e of [reduction, inputSelect, index]) e.addEventListener("change", drawCatalog);

  drawAngular();
  drawFocal();
  drawRegression();
  drawNormface();
  chooseLoss();
  status.textContent = `Ready: zoograd's ${catalog.length} losses, running in WebAssembly.`;
  document.body.dataset.ready = "yes";
  drawn();
})().catch(e => {
  document.getElementById("status").textContent = "The explorer could not start: " + e.message;
  document.getElementById("status").className = "error";
  throw e;
});
