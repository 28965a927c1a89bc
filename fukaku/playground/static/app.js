// The fukaku playground page. It builds its controls from the server's /api/limits, keeps the whole setup in
// the URL's #fragment (so a link restores it), creates a training session on the server, and draws the
// snapshots the session streams over its WebSocket: epoch, loss curves, the decision map with the points,
// a heat-map per neuron, the weights as links and the per-layer gradient norms. All training is the
// server's (fukaku); this file only sends commands and draws.

const NEGATIVE = [245, 147, 34];   // TensorFlow Playground's colours: orange for −1 ...
const NEUTRAL = [232, 234, 235];   // ... light grey for 0 ...
const POSITIVE = [8, 119, 189];    // ... blue for +1
const DOMAIN = 6;                  // the points and the heat-maps cover [−6, 6]²
const HISTORY = 1000;              // epochs kept on the curves (as the server)
const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REGULARIZATION_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5];
const NEW_LAYER_UNITS = 2;
const LAYER_COLOURS = ["#0877bd", "#f59322", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const LABELS = {
  linear: "Linear", relu: "ReLU", tanh: "Tanh", sigmoid: "Sigmoid", leaky_relu: "Leaky ReLU", elu: "ELU",
  swish: "Swish", gelu: "GELU", sgd: "SGD", momentum: "SGD + momentum", adam: "Adam", none: "None", l1: "L1",
  l2: "L2", classification: "Classification", regression: "Regression", circle: "Circle", xor: "Exclusive or",
  gauss: "Gaussian", spiral: "Spiral", "reg-plane": "Plane", "reg-gauss": "Multi-Gaussian",
  x1: "X\u2081", x2: "X\u2082", "x1^2": "X\u2081\u00b2", "x2^2": "X\u2082\u00b2", "x1*x2": "X\u2081X\u2082",
  "sin(x1)": "sin(X\u2081)", "sin(x2)": "sin(X\u2082)",
};

// The four steps of seed 003's exercise. Each sets the whole network up, from the Playground's defaults.
const TOUR = [
  {
    title: "1. Linear",
    config: { dataset: "circle", features: ["x1", "x2"], hidden: [4], activation: "linear" },
    text: "Step 1: one hidden layer of four units with the linear activation, on the circle data. Press run.",
    watch: "Watch the output: the boundary stays a straight line and the test loss stays near 0.5, the loss of "
      + "answering 0 everywhere. A linear network cannot put a disc on one side and the ring around it on the other.",
    verdict: (loss) => loss > 0.35 ? "near chance, as the seed says" : "lower than a linear model should reach",
  },
  {
    title: "2. More linear units",
    config: { dataset: "circle", features: ["x1", "x2"], hidden: [8, 8], activation: "linear" },
    text: "Step 2: more units and a second layer, still linear. Does more capacity help?",
    watch: "It does not: a composition of linear maps is one linear map, so the test loss stays near 0.5 "
      + "however many linear units you add.",
    verdict: (loss) => loss > 0.35 ? "still near chance, as the seed says" : "lower than a linear model should reach",
  },
  {
    title: "3. Nonlinear",
    config: { dataset: "circle", features: ["x1", "x2"], hidden: [4], activation: "tanh" },
    text: "Step 3: the same four units with tanh. Try ReLU and sigmoid from the Activation menu as well.",
    watch: "The boundary bends round the disc and the test loss falls towards 0 (below 0.1 within a few hundred "
      + "epochs; sigmoid units take longer).",
    verdict: (loss) => loss < 0.1 ? "solved, as the seed says" : "still learning",
  },
  {
    title: "4. The spiral",
    config: { dataset: "spiral", features: ["x1", "x2", "sin(x1)", "sin(x2)"], hidden: [8, 8], activation: "tanh" },
    text: "Step 4: the spiral. A setup to start from: features X\u2081, X\u2082, sin(X\u2081), sin(X\u2082) and "
      + "two layers of eight tanh units. Then tune: features, layers, units, learning rate, optimizer.",
    watch: "Aim for a test loss of 0.2 or less. Then look for the smallest network that still gets there, or try "
      + "X\u2081 and X\u2082 alone with three layers of ReLU units and Adam.",
    verdict: (loss) => loss <= 0.2 ? "test loss at or below 0.2: the goal of step 4" : "not yet at 0.2",
  },
];

const $ = (id) => document.getElementById(id);
const state = {
  limits: null, defaults: null, config: null, session: null, socket: null, running: false,
  wantRun: false, needData: false, pendingReset: false, data: null, snapshot: null, tourStep: null, reconnects: 0,
  closing: false,
  curve: { start: 0, train: [], test: [], grads: [] },
};

// ---------------------------------------------------------------- colours and heat-maps
const COLOURS = new Uint32Array(256);     // int8 value (as a byte) → RGBA, smooth
const SIGNS = new Uint32Array(256);       // int8 value → RGBA, discretised to the sign
(function buildColours() {
  const little = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  const pack = ([r, g, b]) => little ? (255 << 24 | b << 16 | g << 8 | r) >>> 0 : (r << 24 | g << 16 | b << 8 | 255) >>> 0;
  for (let byte = 0; byte < 256; byte++) {
    const t = (byte < 128 ? byte : byte - 256) / 127;
    COLOURS[byte] = pack(mix(t));
    SIGNS[byte] = pack(t < 0 ? NEGATIVE : POSITIVE);
  }
})();

function mix(t) {
  const end = t < 0 ? NEGATIVE : POSITIVE, a = Math.min(1, Math.abs(t));
  return NEUTRAL.map((c, i) => Math.round(c + (end[i] - c) * a));
}

function css(t) { return `rgb(${mix(t).join(",")})`; }

function decode(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return bytes;  // each byte is an int8 value; the colour tables are indexed by the byte
}

function paint(canvas, bytes, density, discrete = false) {
  if (canvas.width !== density) { canvas.width = density; canvas.height = density; }
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(density, density);
  const pixels = new Uint32Array(image.data.buffer), table = discrete ? SIGNS : COLOURS;
  for (let i = 0; i < bytes.length; i++) pixels[i] = table[bytes[i]];
  ctx.putImageData(image, 0, 0);
}

// Heat-maps of the input features (they do not change with training, so the page draws them itself),
// scaled to [−1, 1] over the domain.
const FEATURE_VALUES = {
  x1: (x1) => x1 / DOMAIN, x2: (x1, x2) => x2 / DOMAIN,
  "x1^2": (x1) => (x1 * x1) / (DOMAIN * DOMAIN / 2) - 1, "x2^2": (x1, x2) => (x2 * x2) / (DOMAIN * DOMAIN / 2) - 1,
  "x1*x2": (x1, x2) => (x1 * x2) / (DOMAIN * DOMAIN), "sin(x1)": (x1) => Math.sin(x1), "sin(x2)": (x1, x2) => Math.sin(x2),
};

function featureMap(name, density = 25) {
  const bytes = new Uint8Array(density * density);
  for (let row = 0; row < density; row++) {
    for (let col = 0; col < density; col++) {
      const x1 = -DOMAIN + (2 * DOMAIN * col) / (density - 1), x2 = DOMAIN - (2 * DOMAIN * row) / (density - 1);
      bytes[row * density + col] = Math.round(FEATURE_VALUES[name](x1, x2) * 127) & 255;
    }
  }
  return bytes;
}

// ---------------------------------------------------------------- the setup and the URL
const ARRAYS = new Set(["features", "hidden"]);

function configToHash(config) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(config)) params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  if ($("show-test").checked) params.set("show_test", "1");
  if ($("discretize").checked) params.set("discretize", "1");
  if (state.tourStep !== null) params.set("tour", String(state.tourStep + 1));
  return "#" + params.toString();
}

function hashToConfig(hash, defaults) {
  const params = new URLSearchParams(hash.replace(/^#/, "")), config = {};
  for (const [key, fallback] of Object.entries(defaults)) {
    if (!params.has(key)) continue;
    const text = params.get(key);
    if (key === "hidden") config[key] = text === "" ? [] : text.split(",").map(Number);
    else if (ARRAYS.has(key)) config[key] = text === "" ? [] : text.split(",");
    else if (typeof fallback === "boolean") config[key] = text === "true";
    else if (typeof fallback === "number") config[key] = Number(text);
    else config[key] = text;
  }
  const tour = Number(params.get("tour"));
  return { config, showTest: params.get("show_test") === "1", discretize: params.get("discretize") === "1",
    tour: Number.isInteger(tour) && tour >= 1 && tour <= TOUR.length ? tour - 1 : null };
}

function writeUrl() {
  history.replaceState(null, "", configToHash(state.config));
}

// ---------------------------------------------------------------- server
async function api(path, options = {}) {
  const response = await fetch(path, { headers: { "Content-Type": "application/json" }, ...options });
  const body = response.status === 204 ? null : await response.json();
  if (!response.ok) throw Object.assign(new Error(body?.error ?? response.statusText), { field: body?.field, status: response.status });
  return body;
}

async function createSession(config) {
  const created = await api("/api/sessions", { method: "POST", body: JSON.stringify(config) });
  state.session = created.id;
  state.config = created.config;
  $("export-checkpoint").href = `/api/sessions/${created.id}/export/checkpoint`;
  $("export-script").href = `/api/sessions/${created.id}/export/script`;
  return created;
}

function openSocket() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/sessions/${state.session}/ws`);
  state.socket = socket;
  socket.onopen = () => {
    state.reconnects = 0;
    if (state.wantRun) send({ action: "run" });
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "snapshot") onSnapshot(message);
    else if (message.type === "error") showError(message.error, message.field);
  };
  socket.onclose = () => { if (socket === state.socket && !state.closing) reconnect(); };
}

async function reconnect() {
  state.wantRun = state.running;
  setRunning(false);
  if (state.reconnects >= 5) {
    showError("The connection to the playground server is lost. Is `fukaku playground` still running? Reload the page to retry.");
    return;
  }
  state.reconnects += 1;
  await new Promise((resolve) => setTimeout(resolve, 500 * state.reconnects));
  try {
    await api(`/api/sessions/${state.session}`);
  } catch (error) {
    if (error.status !== 404) { reconnect(); return; }
    try { await createSession(state.config); } catch (again) { showError(again.message, again.field); reconnect(); return; }
    state.needData = true;
    showInfo("The server had ended this session (idle or restarted); a new one starts from the same setup.");
  }
  openSocket();
}

function send(message) {
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(message));
}

async function loadData() {
  state.data = await api(`/api/sessions/${state.session}/data`);
  drawPoints();
}

// A new setup: the server validates it, restarts training from epoch 0 and keeps running if it was.
function change(patch) {
  const config = { ...state.config, ...patch };
  clearError();
  state.config = config;
  writeUrl();
  if ("features" in patch || "hidden" in patch) buildNetwork();   // otherwise the diagram stays as it is
  syncControls();
  state.needData = true;
  restart(config);
}

// Ask the server to start again (with a new setup, or the same), keep running if it was, and show nothing
// of the old run meanwhile: snapshots already on their way are dropped until the restarted one (curve from 0).
function restart(config) {
  const wasRunning = state.running;
  state.pendingReset = true;
  $("epoch").textContent = "000,000";
  for (const id of ["test-loss", "train-loss"]) { $(id).dataset.value = ""; $(id).textContent = "\u2013"; }
  send(config ? { action: "reset", config } : { action: "reset" });
  if (wasRunning) send({ action: "run" });
}

// ---------------------------------------------------------------- snapshots
function onSnapshot(snapshot) {
  if (state.pendingReset && snapshot.curve.from !== 0) return;   // from before the restart
  state.pendingReset = false;
  state.snapshot = snapshot;
  setRunning(snapshot.running);
  if (snapshot.epoch === 0 && state.needData) { state.needData = false; loadData().catch((e) => showError(e.message)); }
  $("epoch").textContent = String(snapshot.epoch).padStart(6, "0").replace(/(\d{3})$/, ",$1");
  showLoss("test-loss", snapshot.test_loss);
  showLoss("train-loss", snapshot.train_loss);
  extendCurves(snapshot);
  drawNeurons(snapshot);
  drawOutput();
  drawLinks(snapshot.weights);
  drawLossChart();
  drawGradChart();
  updateTourStatus();
}

function showLoss(id, value) {
  const el = $(id);
  el.dataset.value = String(value);
  el.textContent = Number.isFinite(value) ? value.toFixed(3) : String(value);
}

function extendCurves({ curve, grad_norms: grads }) {
  const c = state.curve, end = c.start + c.test.length;
  if (curve.from === 0 || curve.from < c.start || curve.from > end) {
    Object.assign(c, { start: curve.from, train: [], test: [], grads: [] });
  } else {
    const keep = curve.from - c.start;
    c.train.length = c.test.length = c.grads.length = keep;
  }
  c.train.push(...curve.train);
  c.test.push(...curve.test);
  c.grads.push(...grads);
  const excess = c.test.length - HISTORY;
  if (excess > 0) { c.train.splice(0, excess); c.test.splice(0, excess); c.grads.splice(0, excess); c.start += excess; }
}

function setRunning(running) {
  state.running = running;
  const button = $("run");
  button.innerHTML = running ? "&#10074;&#10074;" : "&#9654;";
  button.setAttribute("aria-label", running ? "Pause" : "Run");
  button.classList.toggle("playing", running);
}

// ---------------------------------------------------------------- drawing
function drawNeurons(snapshot) {
  const layers = snapshot.layers, density = snapshot.density;
  document.querySelectorAll("#hidden-columns .node-column").forEach((column, l) => {
    column.querySelectorAll("canvas").forEach((canvas, u) => {
      if (layers[l + 1]?.[u]) paint(canvas, decode(layers[l + 1][u]), density);
    });
  });
  const output = layers[layers.length - 1][0];
  paint($("output-column").querySelector("canvas"), decode(output), density, $("discretize").checked);
}

function drawOutput() {
  const s = state.snapshot;
  if (!s) return;
  const [map, density] = s.output ? [s.output, s.output_density] : [s.layers[s.layers.length - 1][0], s.density];
  paint($("output-map"), decode(map), density, $("discretize").checked);
}

function drawPoints() {
  const canvas = $("points-layer"), ctx = canvas.getContext("2d"), size = canvas.width;
  ctx.clearRect(0, 0, size, size);
  if (!state.data) return;
  const scale = size / (2 * DOMAIN), radius = size / 80;
  const sets = [[state.data.train, "white"], ...($("show-test").checked ? [[state.data.test, "black"]] : [])];
  for (const [points, stroke] of sets) {
    points.x.forEach(([x1, x2], i) => {
      ctx.beginPath();
      ctx.arc((x1 + DOMAIN) * scale, (DOMAIN - x2) * scale, radius, 0, 2 * Math.PI);
      ctx.fillStyle = css(Math.max(-1, Math.min(1, points.y[i])));   // classes are ±1; regression targets in [−1, 1]
      ctx.fill();
      ctx.lineWidth = size / 400;
      ctx.strokeStyle = stroke;
      ctx.stroke();
    });
  }
}

function drawLossChart() {
  const canvas = $("loss-chart"), ctx = canvas.getContext("2d"), { train, test } = state.curve;
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  if (test.length < 2) return;
  const top = Math.max(...train, ...test, 1e-6);
  for (const [values, colour] of [[train, "#9aa0a6"], [test, "#202124"]]) {
    ctx.beginPath();
    values.forEach((v, i) => {
      const x = (i / (values.length - 1)) * (w - 2) + 1, y = h - 2 - (Math.min(v, top) / top) * (h - 4);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
}

function drawGradChart() {
  const canvas = $("grad-chart"), ctx = canvas.getContext("2d"), grads = state.curve.grads;
  const w = canvas.width, h = canvas.height, left = 34;
  ctx.clearRect(0, 0, w, h);
  const values = grads.flatMap((g) => g ?? []).filter((v) => v > 0);
  const layers = Math.max(0, ...grads.map((g) => g?.length ?? 0));
  drawGradLegend(layers);
  if (values.length === 0 || grads.length < 2) return;
  const lo = Math.floor(Math.log10(Math.min(...values))), hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values))));
  const y = (v) => h - 6 - ((Math.log10(v) - lo) / (hi - lo)) * (h - 12);
  ctx.font = "10px sans-serif";
  ctx.fillStyle = "#5f6368";
  ctx.strokeStyle = "#e0e0e0";
  ctx.lineWidth = 1;
  for (let p = lo; p <= hi; p++) {
    const yy = y(10 ** p);
    ctx.fillText(`1e${p}`, 0, yy + 3);
    ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(w, yy); ctx.stroke();
  }
  for (let l = 0; l < layers; l++) {
    ctx.beginPath();
    let moved = false;
    grads.forEach((g, i) => {
      const v = g?.[l];
      if (!(v > 0)) { moved = false; return; }
      const x = left + (i / (grads.length - 1)) * (w - left - 1);
      moved ? ctx.lineTo(x, y(v)) : ctx.moveTo(x, y(v));
      moved = true;
    });
    ctx.strokeStyle = LAYER_COLOURS[l % LAYER_COLOURS.length];
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
}

function drawGradLegend(layers) {
  const legend = $("grad-legend");
  if (legend.childElementCount === layers) return;
  legend.replaceChildren(...Array.from({ length: layers }, (_, l) => {
    const item = document.createElement("span"), chip = document.createElement("i");
    chip.style.background = LAYER_COLOURS[l % LAYER_COLOURS.length];
    item.append(chip, l === layers - 1 ? "output" : `layer ${l + 1}`);
    return item;
  }));
}

// ---------------------------------------------------------------- the network diagram
function node(kind, label) {
  const box = document.createElement("div"), canvas = document.createElement("canvas");
  box.className = `node ${kind}`;
  canvas.width = canvas.height = 25;
  box.append(canvas);
  if (label) { const text = document.createElement("span"); text.textContent = label; box.append(text); }
  return box;
}

function buildNetwork() {
  const features = $("feature-column");
  features.replaceChildren(...state.limits.features.map((name) => {
    const box = node("feature", LABELS[name]);
    box.classList.toggle("inactive", !state.config.features.includes(name));
    box.dataset.feature = name;
    box.title = `${LABELS[name]}: click to ${state.config.features.includes(name) ? "remove" : "add"} this feature`;
    box.setAttribute("role", "button");
    box.tabIndex = 0;
    paint(box.querySelector("canvas"), featureMap(name), 25);
    return box;
  }));
  const maxUnits = state.limits.bounds.units[1];
  $("hidden-columns").replaceChildren(...state.config.hidden.map((units, l) => {
    const column = document.createElement("div"), head = document.createElement("div");
    column.className = "node-column hidden";
    head.className = "column-head";
    const plus = roundButton("+", `Add a unit to layer ${l + 1}`, () => setUnits(l, units + 1), units >= maxUnits);
    const minus = roundButton("\u2212", `Remove a unit from layer ${l + 1}`, () => setUnits(l, units - 1), units <= 1);
    const caption = document.createElement("span");
    caption.textContent = `${units} neuron${units === 1 ? "" : "s"}`;
    head.append(plus, minus, caption);
    column.append(head, ...Array.from({ length: units }, () => node("neuron")));
    return column;
  }));
  $("output-column").replaceChildren(node("neuron output", "output"));
  $("layer-count").textContent = String(state.config.hidden.length);
  $("add-layer").disabled = state.config.hidden.length >= state.limits.bounds.layers[1];
  $("remove-layer").disabled = state.config.hidden.length === 0;
  buildLinks();
}

function roundButton(text, label, onClick, disabled) {
  const button = document.createElement("button");
  Object.assign(button, { type: "button", className: "round tiny", textContent: text, disabled, onclick: onClick });
  button.setAttribute("aria-label", label);
  return button;
}

function setUnits(layer, units) {
  const hidden = [...state.config.hidden];
  hidden[layer] = units;
  change({ hidden });
}

// Links: one SVG path per weight, from the right edge of a unit to the left edge of the next layer's unit.
let links = [];   // links[l][out][in] → path

function columnsOfNodes() {
  const active = [...document.querySelectorAll("#feature-column .node:not(.inactive)")];
  const hidden = [...document.querySelectorAll("#hidden-columns .node-column")].map((c) => [...c.querySelectorAll(".node")]);
  return [active, ...hidden, [...document.querySelectorAll("#output-column .node")]];
}

function buildLinks() {
  const svg = $("links"), area = $("network").getBoundingClientRect(), columns = columnsOfNodes();
  svg.setAttribute("viewBox", `0 0 ${area.width} ${area.height}`);
  svg.setAttribute("width", area.width);
  svg.setAttribute("height", area.height);
  const anchor = (el, side) => {
    const r = el.querySelector("canvas").getBoundingClientRect();
    return [(side === "right" ? r.right : r.left) - area.left, r.top + r.height / 2 - area.top];
  };
  const paths = [];
  links = columns.slice(1).map((targets, l) => targets.map((target, o) => columns[l].map((source, i) => {
    const [x0, y0] = anchor(source, "right"), [x1, y1] = anchor(target, "left"), mid = (x0 + x1) / 2;
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", `M${x0},${y0} C${mid},${y0} ${mid},${y1} ${x1},${y1}`);
    path.dataset.link = `${l},${o},${i}`;
    paths.push(path);
    return path;
  })));
  svg.replaceChildren(...paths);
  if (state.snapshot) drawLinks(state.snapshot.weights);
}

function drawLinks(weights) {
  if (!weights || weights.length !== links.length) return;
  links.forEach((layer, l) => layer.forEach((row, o) => row.forEach((path, i) => {
    const w = weights[l]?.[o]?.[i];
    if (w === undefined) return;
    path.setAttribute("stroke", css(Math.max(-1, Math.min(1, w))));
    path.setAttribute("stroke-width", (0.6 + Math.min(Math.abs(w), 4) * 1.3).toFixed(2));
  })));
}

function showWeight(event) {
  const path = event.target.closest("path");
  const tip = $("links").querySelector("title") ?? document.createElementNS("http://www.w3.org/2000/svg", "title");
  if (!path || !state.snapshot) return;
  const [l, o, i] = path.dataset.link.split(",").map(Number);
  tip.textContent = `weight ${state.snapshot.weights[l][o][i].toFixed(3)}`;
  path.append(tip);
}

// ---------------------------------------------------------------- controls
function fillSelect(id, values, label = (v) => LABELS[v] ?? String(v)) {
  $(id).replaceChildren(...values.map((v) => new Option(label(v), String(v))));
}

function setSelect(id, value) {
  const select = $(id);
  if (![...select.options].some((o) => o.value === String(value))) select.add(new Option(String(value), String(value)));
  select.value = String(value);
}

function datasetThumbnail(name) {
  const canvas = document.createElement("canvas"), ctx = canvas.getContext("2d"), s = 48;
  canvas.width = canvas.height = s;
  const dot = (x, y, t) => { ctx.fillStyle = css(t); ctx.beginPath(); ctx.arc(x, y, 1.6, 0, 2 * Math.PI); ctx.fill(); };
  const c = s / 2;
  ctx.fillStyle = css(0);
  ctx.fillRect(0, 0, s, s);
  for (let k = 0; k < 140; k++) {
    // an even, repeatable scatter (the R2 low-discrepancy sequence), no randomness
    const u = (k * 0.7548776662) % 1, v = (k * 0.5698402910) % 1, x = 2 + u * (s - 4), y = 2 + v * (s - 4);
    const a = 2 * Math.PI * u, side = k % 2;
    if (name === "circle") { const r = side ? 8 * v : 14 + 7 * v; dot(c + r * Math.cos(a), c + r * Math.sin(a), side ? 1 : -1); }
    else if (name === "xor") dot(x, y, (x - c) * (y - c) < 0 ? 1 : -1);
    else if (name === "gauss") { const r = 7 * v, d = side ? 11 : -11; dot(c + d + r * Math.cos(a), c - d + r * Math.sin(a), side ? 1 : -1); }
    else if (name === "spiral") { const r = v * 21, t = 1.75 * 2 * Math.PI * v + side * Math.PI; dot(c + r * Math.sin(t), c - r * Math.cos(t), side ? -1 : 1); }
    else if (name === "reg-plane") dot(x, y, ((x - c) - (y - c)) / (s / 2));
    else dot(x, y, Math.cos((x - c) / 7) * Math.sin((y - c) / 7));
  }
  return canvas;
}

function buildDatasets() {
  const names = state.limits.datasets[state.config.problem];
  $("datasets").replaceChildren(...names.map((name) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "dataset";
    button.dataset.dataset = name;
    button.title = LABELS[name];
    button.setAttribute("aria-label", LABELS[name]);
    button.classList.toggle("selected", name === state.config.dataset);
    button.append(datasetThumbnail(name));
    button.onclick = () => change({ dataset: name });
    return button;
  }));
}

const SLIDERS = {   // control id → [config value → slider value, slider value → config value, shown text]
  train_ratio: [(v) => Math.round(v * 100), (s) => s / 100, (v) => `${Math.round(v * 100)}%`],
  noise: [(v) => Math.round(v * 100), (s) => s / 100, (v) => String(Math.round(v * 100))],
  batch_size: [(v) => v, (s) => s, String],
  points: [(v) => v, (s) => s, String],
};

function syncControls() {
  const c = state.config;
  for (const id of ["learning_rate", "activation", "optimizer", "regularization", "regularization_rate", "dropout", "problem"]) setSelect(id, c[id]);
  $("batch_norm").checked = c.batch_norm;
  for (const [id, [toSlider, , text]] of Object.entries(SLIDERS)) {
    $(id).value = String(toSlider(c[id]));
    $(`${id}-value`).textContent = text(c[id]);
  }
  buildDatasets();
}

function buildControls() {
  const L = state.limits;
  fillSelect("learning_rate", LEARNING_RATES);
  fillSelect("activation", L.activations);
  fillSelect("optimizer", L.optimizers);
  fillSelect("regularization", L.regularizations);
  fillSelect("regularization_rate", REGULARIZATION_RATES);
  fillSelect("dropout", DROPOUTS);
  fillSelect("problem", L.problems);
  const b = L.bounds;
  Object.assign($("batch_size"), { min: b.batch_size[0], max: b.batch_size[1] });
  Object.assign($("points"), { min: Math.max(100, b.points[0]), max: b.points[1] });
  for (const id of ["learning_rate", "regularization_rate", "dropout"]) $(id).onchange = (e) => change({ [id]: Number(e.target.value) });
  for (const id of ["activation", "optimizer", "regularization"]) $(id).onchange = (e) => change({ [id]: e.target.value });
  $("problem").onchange = (e) => change({ problem: e.target.value, dataset: L.datasets[e.target.value][0] });
  $("batch_norm").onchange = (e) => change({ batch_norm: e.target.checked });
  for (const [id, [, fromSlider, text]] of Object.entries(SLIDERS)) {
    $(id).oninput = (e) => { $(`${id}-value`).textContent = text(fromSlider(Number(e.target.value))); };
    $(id).onchange = (e) => change({ [id]: fromSlider(Number(e.target.value)) });
  }
  $("regenerate").onclick = () => change({ seed: Math.floor(Math.random() * 2 ** 31) });
  $("run").onclick = () => send({ action: state.running ? "pause" : "run" });
  $("step").onclick = () => send({ action: "step" });
  $("reset").onclick = () => restart(null);
  $("add-layer").onclick = () => change({ hidden: [...state.config.hidden, NEW_LAYER_UNITS] });
  $("remove-layer").onclick = () => change({ hidden: state.config.hidden.slice(0, -1) });
  const toggleFeature = (box) => {
    const name = box.dataset.feature, on = state.config.features.includes(name);
    if (on && state.config.features.length === 1) { showError("Keep at least one input feature.", "features"); return; }
    change({ features: on ? state.config.features.filter((f) => f !== name) : [...state.config.features, name] });
  };
  $("feature-column").onclick = (e) => { const box = e.target.closest(".node"); if (box) toggleFeature(box); };
  $("feature-column").onkeydown = (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggleFeature(e.target); } };
  $("show-test").onchange = () => { writeUrl(); drawPoints(); };
  $("discretize").onchange = () => { writeUrl(); if (state.snapshot) { drawOutput(); drawNeurons(state.snapshot); } };
  $("links").addEventListener("mouseover", showWeight);
  $("share").onclick = copyLink;
  $("tour-toggle").onclick = () => openTour(state.tourStep ?? 0);
  $("tour-close").onclick = closeTour;
  $("tour-apply").onclick = () => applyTourStep(state.tourStep);
  let resizing;
  window.addEventListener("resize", () => { clearTimeout(resizing); resizing = setTimeout(buildLinks, 100); });
  window.addEventListener("pagehide", () => {
    state.closing = true;
    fetch(`/api/sessions/${state.session}`, { method: "DELETE", keepalive: true });
  });
}

async function copyLink() {
  writeUrl();
  try {
    await navigator.clipboard.writeText(location.href);
    showInfo("Link copied: it restores this setup.");
  } catch {
    showInfo(`Share this link: ${location.href}`);
  }
}

// ---------------------------------------------------------------- the guided tour
function openTour(step) {
  state.tourStep = step;
  $("tour").hidden = false;
  $("tour-steps").replaceChildren(...TOUR.map((s, i) => {
    const tab = document.createElement("button");
    Object.assign(tab, { type: "button", textContent: s.title, className: i === step ? "selected" : "" });
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-selected", String(i === step));
    tab.dataset.step = String(i + 1);
    tab.onclick = () => openTour(i);
    return tab;
  }));
  $("tour-text").textContent = TOUR[step].text;
  $("tour-watch").textContent = TOUR[step].watch;
  updateTourStatus();
  writeUrl();
}

function closeTour() {
  state.tourStep = null;
  $("tour").hidden = true;
  writeUrl();
}

function applyTourStep(step) {
  const base = { ...state.defaults, seed: state.config.seed };
  change({ ...base, ...TOUR[step].config });
  if (!state.running) send({ action: "run" });
}

function updateTourStatus() {
  const step = state.tourStep, s = state.snapshot;
  if (step === null || !s) return;
  const matches = Object.entries(TOUR[step].config).every(([k, v]) => JSON.stringify(state.config[k]) === JSON.stringify(v));
  $("tour-status").textContent = matches && s.epoch > 0
    ? `After ${s.epoch} epochs the test loss is ${s.test_loss.toFixed(3)}: ${TOUR[step].verdict(s.test_loss)}.`
    : "Press the button to set this step up; it starts training.";
}

// ---------------------------------------------------------------- messages
let messageTimer;
function showMessage(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = `message ${kind}`;
  box.hidden = false;
  clearTimeout(messageTimer);
  messageTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 10000 : 4000);
}
function showInfo(text) { showMessage(text, "info"); }
function showError(text, field) {
  showMessage(text, "error");
  document.querySelectorAll(".invalid").forEach((el) => el.classList.remove("invalid"));
  if (field && $(field)) $(field).classList.add("invalid");
}
function clearError() { document.querySelectorAll(".invalid").forEach((el) => el.classList.remove("invalid")); }

// ---------------------------------------------------------------- start
async function start() {
  state.limits = await api("/api/limits");
  state.defaults = state.limits.defaults;
  const fromUrl = hashToConfig(location.hash, state.defaults);
  $("show-test").checked = fromUrl.showTest;
  $("discretize").checked = fromUrl.discretize;
  buildControls();
  try {
    await createSession({ ...state.defaults, ...fromUrl.config });
  } catch (error) {
    if (error.status !== 422) throw error;
    await createSession(state.defaults);
    showError(`The link's setup was refused (${error.message}); starting from the defaults.`, error.field);
  }
  writeUrl();
  syncControls();
  buildNetwork();
  await loadData();
  if (fromUrl.tour !== null) openTour(fromUrl.tour);
  openSocket();
}

start().catch((error) => showError(`The playground could not start: ${error.message}`));
