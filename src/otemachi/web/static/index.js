// The landing page: each system, its stored models, and the server's health.
import { $, call, esc, say } from "./app.js";

function card(name, system) {
  const section = document.createElement("section");
  section.className = "card";
  section.dataset.system = name;
  const rows = system.models.map((m) =>
    `<tr><td>${esc(m.name)}</td><td>${esc(m.kind)}</td><td><code>${esc(m.version)}</code></td><td>${esc(m.saved)}</td></tr>`).join("");
  section.innerHTML = `<h2><a href="/${esc(name)}">${esc(name)}</a></h2><p>${esc(system.summary)}</p>` +
    (rows
      ? `<table><tr><th>stored model</th><th>kind</th><th>version</th><th>saved (UTC)</th></tr>${rows}</table>`
      : `<p class="muted">No trained model is stored yet: run <code>otemachi ${esc(name)} train</code>.</p>`);
  return section;
}

async function main() {
  try {
    const health = await call("/healthz");
    $("health").textContent = `${health.status}, version ${health.version}`;
    const systems = await call("/api/systems");
    for (const [name, system] of Object.entries(systems)) $("systems").append(card(name, system));
  } catch (e) {
    say($("message"), e.message, "error");
  }
}

main();
