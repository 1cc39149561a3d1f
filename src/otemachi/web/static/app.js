// Shared by the otemachi pages: JSON calls whose failures carry the server's own message.

export async function call(path, options = {}) {
  const reply = await fetch(path, options);
  const text = await reply.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!reply.ok) {  // every refusal is {"error", "detail"}: the detail says what was wrong
    throw new Error((body && body.detail) || `${reply.status} ${reply.statusText}`);
  }
  return body;
}

export function post(body) {
  return { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
}

export function say(element, text, kind = "info") {
  element.textContent = text;
  element.className = `msg ${kind}`;
}

export function $(id) {
  return document.getElementById(id);
}

export function fmt(x, digits = 2) {
  return Number.isFinite(x) ? x.toFixed(digits) : "–";
}

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(value) {  // text for innerHTML: never markup
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
