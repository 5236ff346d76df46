// Eckart dashboard: lists the adapters and plots one adapter's spectrum, energy curve, rank sweep and
// the base-weight energy table and the quantization error, all from this server's API, as inline SVG drawn here (no libraries).
// Plotted marks carry classes and data-* counts (`sv-point`, `energy-point`, `sweep-point`…) so a
// headless browser test can check them against the API's numbers.
import { APIError, KEY_STORAGE, api, apiKey, getEvents } from "./api.js";
import { fmt, fmtInt, pct } from "./format.js";
import { frame, polyline, s } from "./plot.js";

const KEY_NEEDED = "This server needs an API key: paste it above and press “Use key”.";
const THRESHOLDS = ["0.90", "0.95", "0.99"];
// Okabe–Ito: distinguishable with the common colour-vision deficiencies, legible on light and dark.
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C8C00", "#7F5FBF"];

const state = {
  adapters: [],
  adapter: null,       // selected adapter id
  spectrum: null,      // GET /diagnostics/spectrum answer
  module: null,        // selected module name
  sweep: null,         // POST /diagnostics/rank-sweep answer
  base: null,          // GET /diagnostics/spectrum?base=true answer
  quantization: null,  // GET /diagnostics/quantization answer
  model: null,
};

// ---------------------------------------------------------------- small DOM helpers

const $ = (id) => document.getElementById(id);

/** An HTML element with attributes (`class`, `data-*`, properties such as `textContent`) and children. */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}


function setStatus(id, text, kind = "") {
  const node = $(id);
  node.textContent = text || "";
  node.className = "status" + (kind ? " " + kind : "");
}

function showBanner(text) {
  const banner = $("banner");
  banner.textContent = text;
  banner.hidden = !text;
}

/** "not available" wording for a failed request, naming the server's reason. */
function unavailable(what, error) {
  if (error.status === 401) showBanner(KEY_NEEDED);
  if (error.status === 404 && error.code === "not_found") return `${what} is not available on this server (${error.message}).`;
  return `${what} is not available: ${error.message}`;
}

function placeholder(container, text) {
  container.replaceChildren(h("p", { class: "placeholder", text }));
}

// ---------------------------------------------------------------- header: model and key

async function loadModel() {
  try {
    const model = await api("/model");
    state.model = model;
    const parts = [model.name, model.architecture, `${model.kind}`, `${fmtInt(model.parameters)} parameters`, `${model.layers} layers`];
    $("model-info").textContent = parts.join(" · ");
  } catch (error) {
    $("model-info").textContent = unavailable("The model description", error);
  }
}

function setupKeyForm() {
  $("api-key").value = apiKey();
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, $("api-key").value.trim());
    showBanner("");
    start();
  });
  $("key-forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    $("api-key").value = "";
  });
}

// ---------------------------------------------------------------- adapters

async function loadAdapters() {
  setStatus("adapters-status", "Loading…");
  try {
    state.adapters = (await api("/adapters")).adapters;
  } catch (error) {
    state.adapters = [];
    $("adapter-list").replaceChildren();
    setStatus("adapters-status", unavailable("The adapter list", error), "error");
    return;
  }
  renderAdapters();
  setStatus("adapters-status", state.adapters.length
    ? `${state.adapters.length} adapter${state.adapters.length === 1 ? "" : "s"}`
    : "No adapters yet. Upload one with curl -F id=… -F config=@adapter_config.json -F weights=@adapter_model.safetensors /adapters.");
}

function renderAdapters() {
  $("adapter-list").replaceChildren(...state.adapters.map((a) => h("li", {},
    h("button", {
      type: "button", class: "adapter", "data-adapter": a.id, "aria-current": a.id === state.adapter ? "true" : null,
      onclick: () => selectAdapter(a.id),
    },
    h("span", { class: "adapter-id", text: a.id }),
    h("span", { class: "adapter-meta", text: `${a.variant} · r=${a.rank} · α=${fmt(a.alpha)}${a.use_rslora ? " · rsLoRA" : ""}` }),
    h("span", { class: "adapter-meta", text: `${targetSummary(a.targets)} · ${fmtInt(a.parameters)} params` })))));
}

/** "query, key, value in 18 modules" rather than eighteen full module names. */
function targetSummary(targets) {
  const kinds = [...new Set(targets.map(kindOf))];
  return `${kinds.join(", ")} in ${targets.length} module${targets.length === 1 ? "" : "s"}`;
}

async function selectAdapter(id) {
  const switching = state.adapter !== null && state.adapter !== id;
  state.adapter = id;
  state.spectrum = null;
  state.sweep = null;
  const url = new URL(location.href);
  url.searchParams.set("adapter", id);
  if (switching) url.searchParams.delete("module");   // ?module= names a module of the adapter it came with
  history.replaceState(null, "", url);
  renderAdapters();
  for (const node of ["spectrum-adapter", "sweep-adapter"]) $(node).textContent = id;
  await loadSpectrum();
  await loadSweep();
}

// ---------------------------------------------------------------- spectrum

/** The projection a module name ends in (`…attention.self.query` → `query`). */
function kindOf(name) {
  const parts = name.split(".");
  return parts[parts.length - 1];
}

function colourOf(kind) {
  const kinds = [...new Set(state.spectrum.modules.map((m) => kindOf(m.name)))];
  return PALETTE[kinds.indexOf(kind) % PALETTE.length];
}

async function loadSpectrum() {
  setStatus("spectrum-status", "Computing the spectrum…");
  const select = $("module-select");
  select.disabled = true;
  try {
    state.spectrum = await api(`/diagnostics/spectrum?adapter=${encodeURIComponent(state.adapter)}`);
  } catch (error) {
    state.spectrum = null;
    select.replaceChildren();
    for (const id of ["sv-plot", "energy-plot"]) placeholder($(id), "No spectrum.");
    $("module-table").tBodies[0].replaceChildren();
    $("sv-legend").replaceChildren();
    setStatus("spectrum-status", unavailable("The spectrum", error), "error");
    return;
  }
  const modules = state.spectrum.modules;
  const wanted = new URL(location.href).searchParams.get("module");
  state.module = modules.some((m) => m.name === wanted) ? wanted : modules.length ? modules[0].name : null;
  select.replaceChildren(...modules.map((m) => h("option", { value: m.name, text: m.name })));
  select.value = state.module || "";
  select.disabled = modules.length === 0;
  const summary = state.spectrum.summary;
  setStatus("spectrum-status", `${modules.length} modules · total rank ${fmtInt(summary.total_rank)} · `
    + `mean k90/k95/k99 ${THRESHOLDS.map((t) => fmt(summary.mean_energy_rank[t])).join(" / ")} · `
    + `mean stable rank ${fmt(summary.mean_stable_rank)}${state.spectrum.dora ? " · DoRA: σ of s·BA; the table adds ‖W′ − W‖" : ""}`);
  renderSpectrum();
}

function selectModule(name) {
  state.module = name;
  $("module-select").value = name;
  const url = new URL(location.href);
  url.searchParams.set("module", name);
  history.replaceState(null, "", url);
  renderSpectrum();
}

function renderSpectrum() {
  if (!state.spectrum) return;
  renderSingularValues();
  renderEnergy();
  renderModuleTable();
}

function renderSingularValues() {
  const container = $("sv-plot");
  const modules = state.spectrum.modules;
  const all = modules.flatMap((m) => m.singular_values);
  const positive = all.filter((v) => v > 0);
  if (!positive.length) {
    placeholder(container, all.length ? "Every singular value is zero: the updates are all zero." : "This adapter has no modules.");
    return;
  }
  const top = Math.max(...positive);
  // Values far below the largest (or exactly zero) sit on the axis floor instead of stretching it.
  const floor = Math.max(Math.min(...positive), top * 1e-8);
  const longest = Math.max(...modules.map((m) => m.singular_values.length));
  const pad = 10 ** Math.max(0.03, 0.06 * Math.log10(top / floor));   // a little room above and below, in log units
  const f = frame(container, {
    x: { domain: longest > 1 ? [1, longest] : [0, 2], integer: true, label: "index i (descending)" },
    y: { domain: [floor / pad, top * pad], log: true, label: "σᵢ" },
    label: `Singular values of ${modules.length} modules of adapter ${state.adapter}, log scale`,
  });
  const ordered = [...modules.filter((m) => m.name !== state.module), ...modules.filter((m) => m.name === state.module)];
  for (const m of ordered) {
    const selected = m.name === state.module;
    const colour = colourOf(kindOf(m.name));
    const points = m.singular_values.map((v, i) => [f.x(i + 1), f.y(Math.max(v, floor))]);
    const series = s("g", {
      class: "sv-series" + (selected ? " selected" : ""), "data-module": m.name, "data-count": m.singular_values.length,
      "data-kind": kindOf(m.name), stroke: colour, fill: colour,
    });
    series.addEventListener("click", () => selectModule(m.name));
    series.append(s("title", { text: m.name }));
    series.append(polyline(points, { class: "sv-line" }));
    m.singular_values.forEach((v, i) => {
      series.append(s("circle", {
        class: "sv-point" + (v < floor ? " clamped" : ""), cx: points[i][0].toFixed(1), cy: points[i][1].toFixed(1), r: selected ? 4 : 2.5,
      }, s("title", { text: `${m.name}\nσ${i + 1} = ${fmt(v, 4)}${v < floor ? " (below the axis)" : ""}` })));
    });
    f.plot.append(series);
  }
  const kinds = [...new Set(modules.map((m) => kindOf(m.name)))];
  $("sv-legend").replaceChildren(...kinds.map((k) => h("li", {},
    h("span", { class: "swatch", "data-colour": colourOf(k), "aria-hidden": "true" }), k)));
  for (const swatch of $("sv-legend").querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.colour;
}

function renderEnergy() {
  const container = $("energy-plot");
  const modules = state.spectrum.modules;
  const m = modules.find((x) => x.name === state.module);
  $("energy-module").textContent = m ? m.name : "";
  if (!m || !m.energy.length) {
    placeholder(container, "No module selected.");
    return;
  }
  const longest = Math.max(...modules.map((x) => x.energy.length));
  const f = frame(container, {
    x: { domain: [0, longest], integer: true, label: "rank k" },
    y: { domain: [0, 1], ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], format: (v) => `${Math.round(v * 100)} %`, label: "energy kept" },
    label: `Cumulative energy of ${m.name}`,
    marginRight: 50,
    marginTop: 28,
  });
  // The other modules, faint, for context.
  const others = s("g", { class: "energy-others", "aria-hidden": "true" });
  for (const other of modules) {
    if (other === m) continue;
    others.append(polyline([[f.x(0), f.y(0)], ...other.energy.map((e, i) => [f.x(i + 1), f.y(e)])], { class: "energy-other" }));
  }
  f.plot.append(others);
  // Dashed thresholds at 90/95/99 %, labelled in the right margin.
  const marks = s("g", { class: "energy-thresholds" });
  const right = f.width - f.m.right;
  let labelY = Infinity;
  for (const t of THRESHOLDS) {
    const py = f.y(Number(t));
    labelY = Math.min(py, labelY - 12);   // keep the labels 12 px apart: the lines themselves are close
    marks.append(s("line", { class: "energy-threshold", "data-threshold": t, x1: f.m.left, x2: right, y1: py, y2: py }));
    marks.append(s("text", { class: "threshold-label", x: right + 5, y: labelY, "dominant-baseline": "middle", text: pct(Number(t)) }));
  }
  // Where the selected module reaches each threshold (one label when several share a rank).
  const byRank = new Map();
  for (const t of THRESHOLDS) {
    const k = m.energy_rank[t];
    byRank.set(k, [...(byRank.get(k) || []), Math.round(Number(t) * 100)]);
  }
  let slot = 0;
  for (const [k, percents] of [...byRank.entries()].sort((a, b) => a[0] - b[0])) {
    const px = f.x(k);
    const top = f.y(Number(THRESHOLDS[0]));
    marks.append(s("line", { class: "energy-rank", "data-rank": k, x1: px, x2: px, y1: top, y2: f.height - f.m.bottom }));
    marks.append(s("text", {
      class: "rank-label", x: px - 4, y: f.y(0.08) - slot * 15, "text-anchor": "end",
      text: `${percents.join("/")} % at k = ${k}`,
    }));
    slot += 1;
  }
  f.plot.append(marks);
  const colour = colourOf(kindOf(m.name));
  const curve = s("g", { class: "energy-curve", "data-module": m.name, "data-count": m.energy.length, stroke: colour, fill: colour });
  const points = m.energy.map((e, i) => [f.x(i + 1), f.y(e)]);
  curve.append(polyline([[f.x(0), f.y(0)], ...points], { class: "energy-line" }));
  m.energy.forEach((e, i) => curve.append(s("circle", { class: "energy-point", cx: points[i][0].toFixed(1), cy: points[i][1].toFixed(1), r: 3.5 },
    s("title", { text: `k = ${i + 1}: ${pct(e, 2)} of ‖ΔW‖²` }))));
  f.plot.append(curve);
}

function renderModuleTable() {
  // DoRA also rescales W's rows, so its whole change W′ − W differs from s·BA: one more column.
  const dora = Boolean(state.spectrum.dora);
  $("effective-column").hidden = !dora;
  const rows = state.spectrum.modules.map((m) => {
    const selected = m.name === state.module;
    const effective = m.effective_update;
    return h("tr", { class: selected ? "selected" : null, "aria-selected": selected ? "true" : "false", "data-module": m.name },
      h("th", { scope: "row" }, h("button", { type: "button", class: "link", onclick: () => selectModule(m.name), text: m.name })),
      h("td", { text: m.shape.join(" × ") }),
      h("td", { class: "num", text: String(m.rank) }),
      h("td", { class: "num", text: fmt(m.spectral_norm) }),
      h("td", { class: "num", text: fmt(m.frobenius_norm) }),
      dora ? h("td", { class: "num", text: effective ? fmt(effective.frobenius_norm) : "–" }) : null,
      h("td", { class: "num", text: fmt(m.stable_rank) }),
      h("td", { class: "num", text: fmt(m.entropy_rank) }),
      ...THRESHOLDS.map((t) => h("td", { class: "num", text: String(m.energy_rank[t]) })));
  });
  $("module-table").tBodies[0].replaceChildren(...rows);
}

// ---------------------------------------------------------------- rank sweep

/** Ranks 0…r when the adapter is small enough to sweep every rank; the server's default otherwise. */
function sweepRanks() {
  if (!state.spectrum || !state.spectrum.modules.length) return undefined;
  const top = Math.max(...state.spectrum.modules.map((m) => m.rank));
  if (top > 64) return undefined;
  return Array.from({ length: top + 1 }, (_, k) => k);
}

async function loadSweep(probeText = "") {
  setStatus("sweep-status", probeText ? "Tokenizing the probe and sweeping…" : "Sweeping ranks…");
  const body = { adapter: state.adapter };
  const ranks = sweepRanks();
  if (ranks) body.ranks = ranks;
  try {
    if (probeText) {
      const { tokens } = await api("/tokenize", { method: "POST", body: { text: probeText } });
      body.probe = { tokens: [tokens] };   // one probe sequence
    }
    state.sweep = await api("/diagnostics/rank-sweep", { method: "POST", body });
  } catch (error) {
    if (probeText && state.sweep) {   // keep the sweep without a probe on screen
      setStatus("sweep-status", unavailable("The rank sweep with a probe", error), "error");
      return;
    }
    state.sweep = null;
    for (const id of ["sweep-plot", "probe-plot"]) placeholder($(id), "No sweep.");
    $("probe-figure").hidden = true;
    $("sweep-table").tHead.replaceChildren();
    $("sweep-table").tBodies[0].replaceChildren();
    setStatus("sweep-status", unavailable(probeText ? "The rank sweep with a probe" : "The rank sweep", error), "error");
    return;
  }
  const rows = state.sweep.sweep;
  const probed = rows.some((r) => r.probe);
  const probeInfo = state.sweep.probe;
  setStatus("sweep-status", `${rows.length} ranks` + (probed ? ` · probe ${JSON.stringify(probeText)}`
    + (probeInfo ? ` (${probeInfo.tokens} tokens${probeInfo.full_adapter_perplexity ? `, full-adapter perplexity ${fmt(probeInfo.full_adapter_perplexity)}` : ""})` : "") : ""));
  renderSweep();
}

/** What the probe measured: KL for decoders, cosine similarity for encoders. */
function probeMetric(rows) {
  const probe = rows.find((r) => r.probe)?.probe;
  if (!probe) return null;
  if ("mean_kl" in probe) return { key: "mean_kl", label: "mean KL(full ‖ truncated)", className: "kl-point", caption: "Mean KL divergence of next-token distributions vs rank" };
  for (const key of ["mean_cosine_similarity", "mean_cosine"]) {
    if (key in probe) return { key, label: "mean cosine to full", className: "cosine-point", caption: "Mean cosine similarity of embeddings vs rank" };
  }
  return null;
}

function renderSweep() {
  if (!state.sweep) return;
  const rows = state.sweep.sweep;
  const ranks = rows.map((r) => r.rank);
  const xDomain = [Math.min(...ranks), Math.max(...ranks)];
  if (xDomain[0] === xDomain[1]) xDomain[1] += 1;
  const topError = Math.max(1, ...rows.map((r) => r.relative_error));
  const f = frame($("sweep-plot"), {
    x: { domain: xDomain, integer: true, label: "rank k" },
    y: { domain: [0, topError], format: (v) => `${Math.round(v * 100)} %`, label: "relative error" },
    label: `Relative truncation error of adapter ${state.adapter} at ${rows.length} ranks`,
  });
  // Each module's own error, faint, behind the adapter's total.
  const perModule = s("g", { class: "sweep-modules", "aria-hidden": "true" });
  const names = rows.length ? rows[0].modules.map((x) => x.name) : [];
  names.forEach((name, j) => perModule.append(polyline(rows.map((r) => [f.x(r.rank), f.y(r.modules[j].relative_error)]),
    { class: "sweep-module-line", "data-module": name })));
  f.plot.append(perModule);
  const series = s("g", { class: "sweep-series", "data-count": rows.length });
  const points = rows.map((r) => [f.x(r.rank), f.y(r.relative_error)]);
  series.append(polyline(points, { class: "sweep-line" }));
  rows.forEach((r, i) => series.append(s("circle", { class: "sweep-point", cx: points[i][0].toFixed(1), cy: points[i][1].toFixed(1), r: 4 },
    s("title", { text: `rank ${r.rank}: error ${pct(r.relative_error, 2)}, ${fmtInt(r.parameters)} parameters` }))));
  f.plot.append(series);

  const metric = probeMetric(rows);
  const probed = metric ? rows.filter((r) => r.probe && Number.isFinite(r.probe[metric.key])) : [];
  $("probe-figure").hidden = !probed.length;
  if (probed.length) {
    const values = probed.map((r) => r.probe[metric.key]);
    let yDomain = [Math.min(0, ...values), Math.max(...values)];
    if (metric.className === "cosine-point") yDomain = [Math.min(...values), 1];
    if (yDomain[0] === yDomain[1]) yDomain = [yDomain[0] - 0.5, yDomain[1] + 0.5];
    $("probe-caption").textContent = metric.caption;
    const g = frame($("probe-plot"), {
      x: { domain: xDomain, integer: true, label: "rank k" }, y: { domain: yDomain, label: metric.label },
      label: `${metric.caption} for adapter ${state.adapter}`,
    });
    const probeSeries = s("g", { class: "probe-series", "data-metric": metric.key, "data-count": probed.length });
    const pts = probed.map((r) => [g.x(r.rank), g.y(r.probe[metric.key])]);
    probeSeries.append(polyline(pts, { class: "probe-line" }));
    probed.forEach((r, i) => probeSeries.append(s("circle", { class: metric.className, cx: pts[i][0].toFixed(1), cy: pts[i][1].toFixed(1), r: 4 },
      s("title", { text: `rank ${r.rank}: ${metric.label} ${fmt(r.probe[metric.key], 4)}` }))));
    g.plot.append(probeSeries);
  }
  renderSweepTable(rows);
}

function renderSweepTable(rows) {
  const probeKeys = [...new Set(rows.flatMap((r) => Object.keys(r.probe || {})))];
  const energy = rows.some((r) => "energy_kept" in r);
  const table = $("sweep-table");
  table.tHead.replaceChildren(h("tr", {},
    h("th", { scope: "col", class: "num", text: "Rank" }), h("th", { scope: "col", class: "num", text: "Parameters" }),
    h("th", { scope: "col", class: "num", text: "Relative error" }),
    energy ? h("th", { scope: "col", class: "num", text: "Energy kept" }) : null,
    ...probeKeys.map((k) => h("th", { scope: "col", class: "num", text: k.replaceAll("_", " ") }))));
  table.tBodies[0].replaceChildren(...rows.map((r) => h("tr", {},
    h("td", { class: "num", text: String(r.rank) }), h("td", { class: "num", text: fmtInt(r.parameters) }),
    h("td", { class: "num", text: pct(r.relative_error, 2) }),
    energy ? h("td", { class: "num", text: pct(r.energy_kept, 2) }) : null,
    ...probeKeys.map((k) => h("td", { class: "num", text: r.probe ? fmt(r.probe[k], 4) : "–" })))));
}

// ---------------------------------------------------------------- base-weight energy

async function loadBase() {
  const button = $("base-load");
  button.disabled = true;
  $("base-progress-row").hidden = false;
  $("base-progress").removeAttribute("value");
  $("base-progress-text").textContent = "Starting…";
  setStatus("base-status", "");
  try {
    let result = null, failure = null;
    const json = await getEvents("/diagnostics/spectrum?base=true", (name, data) => {
      const payload = JSON.parse(data);
      if (name === "progress") showBaseProgress(payload);
      else if (name === "result") result = payload;
      else if (name === "error") failure = payload.error || payload;
    });
    if (json) result = json;   // the server answered with plain JSON
    if (failure) throw new APIError(500, failure.code || "error", failure.message || "the stream reported an error");
    if (!result) throw new APIError(0, "stream_ended", "the stream ended before its result");
    state.base = result;
  } catch (error) {
    state.base = null;
    $("base-table-box").hidden = true;
    setStatus("base-status", unavailable("The base-weight spectrum", error), "error");
    return;
  } finally {
    button.disabled = false;
    $("base-progress-row").hidden = true;
  }
  renderBase();
}

function showBaseProgress({ done, total, module, cached }) {
  const bar = $("base-progress");
  bar.max = Math.max(1, total);
  bar.value = done;
  $("base-progress-text").textContent = `${done} / ${total}${module ? " · " + module : ""}${cached ? " (cached)" : ""}`;
}

function renderBase() {
  const base = state.base;
  const table = $("base-table");
  table.tBodies[0].replaceChildren(...base.table.map((row) => h("tr", { "data-projection": row.projection },
    h("th", { scope: "row", text: row.projection }),
    h("td", { class: "num", text: String(row.modules) }),
    h("td", { class: "num", text: String(row.full_rank) }),
    ...THRESHOLDS.map((t) => h("td", { class: "num", text: fmt(row.mean_energy_rank[t]) })),
    h("td", {}, fractionBars(row.mean_energy_rank_fraction)))));
  $("base-table-box").hidden = false;
  setStatus("base-status", `${base.model || "base model"} · ${base.modules.length} modules${base.cached ? " · from the server's cache" : ""}`);
}

/** Three small bars for the 90/95/99 % shares of the full rank. */
function fractionBars(fractions) {
  return h("div", { class: "bars" }, ...THRESHOLDS.map((t) => {
    const share = Math.max(0, Math.min(1, fractions[t] || 0));
    const bar = h("span", { class: "bar", title: `${Math.round(Number(t) * 100)} %: ${pct(share, 1)} of full rank` },
      h("span", { class: "fill", "data-threshold": t }), h("span", { class: "bar-text", text: pct(share, 0) }));
    bar.firstChild.style.width = `${(share * 100).toFixed(1)}%`;
    return bar;
  }));
}

// ---------------------------------------------------------------- quantization error

async function loadQuantization() {
  const button = $("quant-load");
  const type = $("quant-type").value;
  const withAdapter = $("quant-adapter").checked && state.adapter;
  const query = new URLSearchParams();
  if (type) query.set("type", type);
  if (withAdapter) query.set("adapter", state.adapter);
  button.disabled = true;
  setStatus("quant-status", "Measuring the quantization error of every base projection…");
  try {
    state.quantization = await api(`/diagnostics/quantization?${query}`);
  } catch (error) {
    state.quantization = null;
    $("quant-figure").hidden = true;
    $("quant-table-box").hidden = true;
    setStatus("quant-status", unavailable("The quantization error", error), "error");
    return;
  } finally {
    button.disabled = false;
  }
  renderQuantization();
}

function renderQuantization() {
  const q = state.quantization;
  const modules = q.modules;
  const kinds = [...new Set(modules.map((m) => kindOf(m.name)))];
  const colour = (name) => PALETTE[kinds.indexOf(kindOf(name)) % PALETTE.length];
  $("quant-figure").hidden = false;
  const top = Math.max(...modules.map((m) => m.relative_error), 1e-9);
  const f = frame($("quant-plot"), {
    x: { domain: modules.length > 1 ? [1, modules.length] : [0, 2], integer: true, label: "module (layer order)" },
    y: { domain: [0, top * 1.08], label: "‖E‖ / ‖W‖" },
    label: `Relative quantization error of ${modules.length} base modules`,
  });
  const series = s("g", { class: "quant-series", "data-count": modules.length });
  modules.forEach((m, i) => {
    const point = s("circle", {
      class: "quant-point", "data-module": m.name, "data-relative-error": m.relative_error,
      cx: f.x(i + 1).toFixed(1), cy: f.y(m.relative_error).toFixed(1), r: 3, fill: colour(m.name),
    }, s("title", { text: `${m.name} (${m.type})\n‖E‖/‖W‖ = ${pct(m.relative_error, 2)}` }));
    series.append(point);
  });
  f.plot.append(series);
  $("quant-legend").replaceChildren(...kinds.map((k) => h("li", {},
    h("span", { class: "swatch", "data-colour": colour(k), "aria-hidden": "true" }), k)));
  for (const swatch of $("quant-legend").querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.colour;

  const dash = "–";
  $("quant-table").tBodies[0].replaceChildren(...modules.map((m) => h("tr", { "data-quant-module": m.name },
    h("th", { scope: "row", text: m.name }),
    h("td", { text: m.type }),
    h("td", { class: "num", text: pct(m.relative_error, 2) }),
    h("td", { class: "num", text: fmt(m.error_singular_values[0] ?? 0, 4) }),
    h("td", { class: "num", text: m.adapter ? fmt(m.adapter.update_to_error) : dash }),
    h("td", { class: "num", text: m.adapter ? `${fmt(m.adapter.subspace_overlap.left)} / ${fmt(m.adapter.subspace_overlap.right)}` : dash }),
    h("td", { class: "num", text: m.adapter ? `${fmt(m.adapter.random_overlap.left)} / ${fmt(m.adapter.random_overlap.right)}` : dash }))));
  $("quant-table-box").hidden = false;
  setStatus("quant-status", `${modules.length} modules · ‖E‖/‖W‖ over all ${pct(q.summary.relative_error, 2)}`
    + (q.adapter ? ` · adapter ${q.adapter} (${modules.filter((m) => m.adapter).length} adapted modules)` : ""));
}

// ---------------------------------------------------------------- start

async function start() {
  document.body.dataset.state = "loading";
  const params = new URL(location.href).searchParams;
  await Promise.all([loadModel(), loadAdapters()]);
  const wanted = params.get("adapter");
  const id = state.adapters.some((a) => a.id === wanted) ? wanted : state.adapters[0]?.id;
  if (wanted && wanted !== id) showBanner(`There is no adapter ${wanted}${id ? `; showing ${id}` : ""}.`);
  if (id) {
    await selectAdapter(id);
    // ?probe=TEXT sweeps once more with that probe (bookmarkable; the test uses it).
    const probe = params.get("probe");
    if (probe) {
      $("probe-text").value = probe;
      await loadSweep(probe);
    }
  }
  else {
    for (const p of ["sv-plot", "energy-plot", "sweep-plot"]) placeholder($(p), "Upload an adapter to see its diagnostics.");
  }
  if (params.get("base") === "1") await loadBase();
  // ?quant=q8_0 (or ?quant=served) measures the quantization error on load (bookmarkable; the test uses it).
  const quant = params.get("quant");
  if (quant) {
    if (quant !== "served") $("quant-type").value = quant;
    await loadQuantization();
  }
  document.body.dataset.state = "ready";
}

function redrawOnResize() {
  let timer = null, lastWidth = 0;
  new ResizeObserver((entries) => {
    const width = Math.round(entries[0].contentRect.width);
    if (width === lastWidth) return;
    lastWidth = width;
    clearTimeout(timer);
    timer = setTimeout(() => { if (state.spectrum) renderSpectrum(); if (state.sweep) renderSweep(); }, 120);
  }).observe($("main"));
}

document.addEventListener("DOMContentLoaded", () => {
  setupKeyForm();
  $("module-select").addEventListener("change", (e) => selectModule(e.target.value));
  $("probe-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (state.adapter) loadSweep($("probe-text").value.trim());
  });
  $("base-load").addEventListener("click", () => loadBase());
  $("quant-load").addEventListener("click", () => loadQuantization());
  $("reload").addEventListener("click", (e) => { e.preventDefault(); start(); });
  redrawOnResize();
  start();
});
