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
  if (!reply.ok) {
    let detail = body && body.detail;
    if (Array.isArray(detail)) {  // FastAPI's validation errors: field path and message
      detail = detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
    }
    throw new Error(detail || `${reply.status} ${reply.statusText}`);
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
