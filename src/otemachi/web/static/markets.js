// The markets page: replay bundled datasets through the stored forecaster over a WebSocket and
// draw each symbol's closes with the forecast fan (return quantiles as prices), the high/low
// range and P(up) of each horizon, and the pipeline's latency.
import { $, call, esc, fmt, say } from "./app.js";

const WINDOW = 120; // bars of history drawn
const charts = {}; // symbol -> {plot, times, closes, forecast, table}
let socket = null;
let meta = null;
let frames = 0;
const latencies = [];

async function main() {
  try {
    const datasets = await call("/api/markets/datasets");
    for (const [name, d] of Object.entries(datasets)) {
      const label = document.createElement("label");
      label.title = d.description;
      label.innerHTML = `<input type="checkbox" name="dataset" value="${esc(name)}"${name === "sp500" ? " checked" : ""}> ${esc(name)}`;
      $("datasets").append(label);
    }
  } catch (e) {
    say($("message"), e.message, "error");
  }
  $("start").onclick = start;
  $("stop").onclick = stop;
}

function start() {
  stop();
  const chosen = [...document.querySelectorAll("input[name=dataset]:checked")].map((i) => i.value);
  if (!chosen.length) return say($("message"), "choose at least one dataset", "error");
  $("charts").replaceChildren();
  Object.keys(charts).forEach((k) => delete charts[k]);
  frames = 0;
  latencies.length = 0;
  say($("message"), "loading the model and the bars…");
  const query = new URLSearchParams({ data: chosen.join(","), bars: $("bars").value, speed: $("speed").value });
  socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/markets/replay?${query}`);
  let ended = false;
  socket.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    ended ||= Boolean(msg.end || msg.error);
    receive(msg);
  };
  socket.onclose = (event) => {
    $("start").disabled = false;
    $("stop").disabled = true;
    if (!ended && event.code !== 1000 && event.code !== 1005) {
      say($("message"), `the replay stopped (WebSocket close ${event.code}${event.reason ? `: ${event.reason}` : ""})`, "error");
    }
  };
  $("start").disabled = true;
  $("stop").disabled = false;
}

function stop() {
  if (socket) socket.close();
  socket = null;
}

function receive(msg) {
  if (msg.error) return say($("message"), `${msg.error}: ${msg.detail}`, "error"); // textContent
  if (msg.start) return begin(msg.start);
  if (msg.end) return say($("message"), `replay finished: ${msg.frames} bar times`, "good");
  frames += 1;
  for (const f of msg.forecasts) {
    const c = charts[f.symbol];
    const bar = msg.bars[f.symbol];
    c.times.push(msg.time.slice(0, 10));
    c.closes.push(bar.close);
    c.forecast = f;
    latencies.push(f.latency_ms);
    if (latencies.length > 2000) latencies.shift(); // the median of the latest ones
    redraw(f.symbol);
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const last = latencies[latencies.length - 1];
  $("status").textContent = `model ${meta.model_version} · ${frames} bar times · latency last ${fmt(last, 3)} ms, ` +
    `median ${fmt(sorted[Math.floor(sorted.length / 2)], 3)} ms (bar in to forecast out)`;
  $("message").textContent = "";
  $("message").className = "msg";
}

function begin(start) {
  meta = start;
  for (const symbol of start.symbols) {
    const box = document.createElement("section");
    box.className = "card";
    box.dataset.symbol = symbol;
    box.innerHTML = `<h2>${esc(symbol)}</h2><div class="chart"></div><table class="forecast"></table>`;
    $("charts").append(box);
    const h = start.history[symbol] || { time: [], close: [] };
    charts[symbol] = {
      box, times: h.time.map((t) => t.slice(0, 10)), closes: [...h.close], forecast: null, updates: 0,
      plot: makePlot(box.querySelector(".chart")),
    };
    redraw(symbol);
  }
}

function makePlot(element) {
  const fan = (label, color, width = 1, dash = undefined) =>
    ({ label, stroke: color, width, dash, spanGaps: true, points: { show: false } });
  return new uPlot({
    width: Math.min(1100, element.parentElement.clientWidth - 30), height: 300,
    scales: { x: { time: false } },
    axes: [{ values: (u, ticks) => ticks.map((t) => label(element, t)) }, { size: 70 }],
    series: [
      {}, { label: "close", stroke: "#14213d", width: 1.5 },
      fan("q10", "#9bb5e0"), fan("q25", "#5a86cf"), fan("median", "#1f5fbf", 2),
      fan("q75", "#5a86cf"), fan("q90", "#9bb5e0"),
      fan("high (median)", "#157f3b", 1, [4, 4]), fan("low (median)", "#b42318", 1, [4, 4]),
    ],
    bands: [{ series: [6, 2], fill: "rgba(31,95,191,0.10)" }, { series: [5, 3], fill: "rgba(31,95,191,0.18)" }],
  }, [[], [], [], [], [], [], [], [], []], element);
}

function label(element, t) {
  const c = Object.values(charts).find((c) => c.plot && c.plot.root.parentElement === element);
  if (!c || !Number.isInteger(t)) return "";
  const first = Math.max(0, c.closes.length - WINDOW);
  const i = first + t;
  return i < c.times.length ? c.times[i] : `+${i - c.times.length + 1}`;
}

function redraw(symbol) {
  const c = charts[symbol];
  const closes = c.closes.slice(-WINDOW);
  const n = closes.length;
  const f = c.forecast;
  const horizons = meta.horizons;
  const span = n + (f ? Math.max(...horizons) : 0);
  const x = Array.from({ length: span }, (_, i) => i);
  const empty = () => new Array(span).fill(null);
  const close = empty();
  closes.forEach((v, i) => (close[i] = v));
  const levels = meta.quantiles.length;
  const mid = meta.quantiles.includes(0.5) ? meta.quantiles.indexOf(0.5) : Math.floor(levels / 2);
  const drawn = [0, Math.min(1, mid), mid, Math.max(levels - 2, mid), levels - 1]; // outer, inner, median
  const q = drawn.map(() => empty());
  const hi = empty();
  const lo = empty();
  if (f) {
    const last = closes[n - 1];
    q.forEach((s) => (s[n - 1] = last));
    hi[n - 1] = last;
    lo[n - 1] = last;
    horizons.forEach((h, k) => {
      drawn.forEach((level, j) => (q[j][n - 1 + h] = last * Math.exp(f.ret_q[k][level])));
      hi[n - 1 + h] = last * Math.exp(f.high_q[k][mid]);
      lo[n - 1 + h] = last * Math.exp(f.low_q[k][mid]);
    });
    table(c, f, last, mid);
  }
  c.plot.setData([x, close, ...q, hi, lo]);
  c.updates += 1;
  c.box.dataset.updates = c.updates;
}

function table(c, f, last, mid) {
  const pct = (r) => `${fmt(100 * (Math.exp(r) - 1))}%`;
  const rows = meta.horizons.map((h, k) => {
    const r = f.ret_q[k];
    return `<tr><td>h = ${h}</td><td>${fmt(f.p_up[k], 3)}</td><td>${pct(r[mid])}</td>` +
      `<td>${pct(r[0])} … ${pct(r[r.length - 1])}</td>` +
      `<td>${fmt(last * Math.exp(f.low_q[k][mid]))} – ${fmt(last * Math.exp(f.high_q[k][mid]))}</td></tr>`;
  }).join("");
  c.box.querySelector("table.forecast").innerHTML =
    `<tr><th>as of ${esc(f.time.slice(0, 10))}</th><th>P(up)</th><th>median return</th>` +
    `<th>${Math.round(100 * (meta.quantiles[meta.quantiles.length - 1] - meta.quantiles[0]))}% interval</th><th>low – high (medians)</th></tr>${rows}`;
}

main();
