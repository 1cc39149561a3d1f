// The signatures page: enrol a person from 1-5 images, verify one, list the people enrolled.
// Every call carries the API key typed at the top (kept for this tab only).
import { $, call, esc, fmt, say } from "./app.js";

const chosen = { enroll: [], verify: [] };

function headers() {
  sessionStorage.setItem("signatures-key", $("key").value);
  return { "X-API-Key": $("key").value.trim() };
}

function dropZone(name, zone, input, most) {
  const take = (files) => {
    const images = [...files].filter((f) => f.type.startsWith("image/"));
    if (images.length > most || (files.length && !images.length)) {
      return say($("message"), `give ${most === 1 ? "one image" : `1 to ${most} images`}`, "error");
    }
    chosen[name] = images;
    $(`${name}-thumbs`).querySelectorAll("img").forEach((img) => URL.revokeObjectURL(img.src));
    $(`${name}-thumbs`).replaceChildren(...images.map((f) => {
      const img = document.createElement("img");
      img.src = URL.createObjectURL(f);
      img.title = f.name;
      return img;
    }));
  };
  input.onchange = () => take(input.files);
  zone.ondragover = (e) => { e.preventDefault(); zone.classList.add("over"); };
  zone.ondragleave = () => zone.classList.remove("over");
  zone.ondrop = (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    take(e.dataTransfer.files);
  };
}

function user(id) {
  const value = $(id).value.trim();
  if (!value) throw new Error("give a user id");
  return encodeURIComponent(value);
}

async function enroll() {
  try {
    if (!chosen.enroll.length) throw new Error("choose 1 to 5 genuine signatures");
    const form = new FormData();
    chosen.enroll.forEach((f) => form.append("files", f, f.name));
    form.append("method", $("method").value);
    const got = await call(`/api/signatures/users/${user("enroll-user")}/enroll`,
      { method: "POST", body: form, headers: headers() });
    say($("enroll-result"), `enrolled ${got.user_id}: ${got.method}, ${got.n_refs} reference(s), base ${got.base_version}`, "good");
    say($("message"), "");
    if (!$("verify-user").value) $("verify-user").value = got.user_id;
    users();
  } catch (e) {
    say($("message"), e.message, "error");
  }
}

async function verify() {
  try {
    if (chosen.verify.length !== 1) throw new Error("choose one signature to verify");
    const form = new FormData();
    form.append("file", chosen.verify[0], chosen.verify[0].name);
    const v = await call(`/api/signatures/users/${user("verify-user")}/verify`,
      { method: "POST", body: form, headers: headers() });
    say($("message"), "");
    // the threshold in the middle; the score left (forged side) or right (genuine side) of it
    const span = Math.max(2 * Math.abs(v.score - v.threshold), 0.5 * Math.abs(v.threshold), 1e-6);
    const at = (x) => `${Math.max(0, Math.min(100, 50 + (50 * (x - v.threshold)) / span))}%`;
    $("verdict").innerHTML =
      `<p class="msg ${v.genuine ? "good" : "error"}" id="decision"><b>${v.genuine ? "genuine" : "forged"}</b>` +
      ` · score ${fmt(v.score, 4)} vs threshold ${fmt(v.threshold, 4)}</p>` +
      `<div class="meter"><div class="fill" style="width:${at(v.score)};background:${v.genuine ? "#157f3b" : "#b42318"}"></div>` +
      `<div class="tick" style="left:${at(v.threshold)}" title="threshold"></div></div>` +
      `<p class="muted">method ${esc(v.method)} · base ${esc(v.base_version)} · a score at or above the threshold is genuine</p>`;
  } catch (e) {
    say($("message"), e.message, "error");
  }
}

async function users() {
  try {
    const got = await call("/api/signatures/users?limit=100", { headers: headers() });
    $("users-total").textContent = `${got.total} enrolled`;
    $("users").replaceChildren(...got.users.map((u) => Object.assign(document.createElement("li"), { textContent: u })));
  } catch (e) {
    say($("message"), e.message, "error");
  }
}

async function main() {
  $("key").value = sessionStorage.getItem("signatures-key") || "";
  dropZone("enroll", $("enroll-drop"), $("enroll-files"), 5);
  dropZone("verify", $("verify-drop"), $("verify-file"), 1);
  $("enroll").onclick = enroll;
  $("verify").onclick = verify;
  $("refresh").onclick = users;
  try {
    const methods = await call("/api/signatures/methods");
    $("method").replaceChildren(...methods.map((m) => new Option(m, m)));
    if (methods.includes("svdd")) $("method").value = "svdd"; // the service's default
  } catch (e) {
    say($("message"), e.message, "error");
  }
}

main();
