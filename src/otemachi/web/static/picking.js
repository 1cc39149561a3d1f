// The picking page: a scene's camera image, an instruction typed or spoken, the robot's
// questions (shown and spoken), the decision drawn on the image, and the arm carrying it out.
import { $, call, esc, fmt, post, say } from "./app.js";

const BOXES = { tl: "top left", tr: "top right", bl: "bottom left", br: "bottom right" };
let scene = null; // the scene spec shown
let said = ""; // the instruction (typed, or the transcript of a spoken one)
let answers = []; // answers to the questions asked about it
let doubtful = false; // the recogniser doubted the spoken instruction: the robot asks about it
let readings = []; // the recogniser's readings of the spoken instruction, weighed when deciding
let decision = null;
let recording = null;

async function show(body) {
  const got = await call("/api/picking/scene", post(body));
  scene = got.scene;
  $("camera").src = got.image;
  $("after").hidden = true;
  return got;
}

async function newScene(body) {
  try {
    await show(body);
    reset();
    $("caption").textContent = `${scene.objects.length} objects`;
  } catch (e) {
    say($("message"), e.message, "error");
  }
}

function reset() {
  said = "";
  answers = [];
  doubtful = false;
  readings = [];
  decision = null;
  $("asking").hidden = true;
  $("execute").hidden = true;
  $("decision").textContent = "";
  $("transcript").textContent = "";
  say($("message"), "");
}

function common() {
  return { scene, oracle_boxes: $("oracle").checked };
}

async function decideTyped() {
  const text = $("instruction").value.trim();
  if (!text) return say($("message"), "type an instruction first", "error");
  reset();
  said = text;
  await decide();
}

async function decide() {
  await run(() => call("/api/picking/decide", post({ ...common(), instruction: said, answers, doubtful, readings })));
}

async function run(request) {
  say($("message"), "deciding…");
  try {
    shown(await request());
  } catch (e) {
    say($("message"), e.message, "error");
  }
}

function shown(d) {
  decision = d;
  if (d.transcript) {
    said = d.transcript.text;
    doubtful = d.transcript.doubtful;
    readings = d.transcript.readings;
    $("transcript").textContent = `heard (${d.transcript.backend}): “${said}”`;
    $("instruction").value = said;
  }
  const where = BOXES[d.destination] || d.destination;
  $("decision").innerHTML = `<p><b>target</b> ${esc(d.target ?? "none")} (p = ${fmt(d.confidence)}) → <b>${esc(where)}</b> box` +
    ` · ${d.questions_asked} question(s) asked</p>`;
  $("decision").dataset.target = d.target ?? "";
  mark(d);
  if (d.question) {
    $("question").textContent = d.question;
    $("asking").hidden = false;
    $("execute").hidden = true;
    say($("message"), "the robot is not sure; answer its question");
    new Audio(d.question_audio).play().catch(() => {}); // muted pages just show the question
  } else {
    $("asking").hidden = true;
    $("execute").hidden = !d.target;
    say($("message"), "decided", "good");
  }
}

async function mark(d) {
  const shown = scene;
  try {
    const label = said.slice(0, 80);
    const got = await call("/api/picking/scene", post({ scene, mark: { box: d.box, destination: d.destination, label } }));
    if (scene !== shown) return; // a new scene came meanwhile: this mark is of the old one
    $("camera").src = got.image;
    $("camera").dataset.marked = "1";
  } catch (e) {
    say($("message"), e.message, "error");
  }
}

async function reply() {
  const text = $("answer").value.trim();
  if (!text) return;
  answers.push(text);
  $("answer").value = "";
  await decide();
}

async function execute() {
  say($("message"), "the arm is moving (a few seconds)…");
  $("execute").disabled = true;
  try {
    const got = await call("/api/picking/execute",
      post({ scene, target: decision.target, destination: decision.destination }));
    $("after").src = got.image;
    $("after").hidden = false;
    say($("message"), got.ok ? "placed" : `failed: ${got.failure} ${got.detail}`, got.ok ? "good" : "error");
  } catch (e) {
    say($("message"), e.message, "error");
  } finally {
    $("execute").disabled = false;
  }
}

async function mic() {
  if (recording === "starting") return;
  if (recording) return finishRecording();
  recording = "starting";
  let stream = null;
  let context = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    context = new AudioContext();
    await context.audioWorklet.addModule("/static/recorder.js");
    const node = new AudioWorkletNode(context, "recorder");
    const chunks = [];
    node.port.onmessage = (event) => chunks.push(event.data);
    context.createMediaStreamSource(stream).connect(node);
    node.connect(context.destination);
    recording = { stream, context, chunks };
    $("mic").classList.add("recording");
    $("mic").textContent = "■ Stop and send";
    say($("message"), "recording: say the instruction, then press stop");
  } catch (e) {
    recording = null;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    if (context) context.close();
    say($("message"), `no microphone: ${e.message}`, "error");
  }
}

async function finishRecording() {
  const { stream, context, chunks } = recording;
  recording = null;
  stream.getTracks().forEach((t) => t.stop());
  const rate = context.sampleRate;
  await context.close();
  $("mic").classList.remove("recording");
  $("mic").textContent = "● Speak";
  reset();
  const form = new FormData();
  form.append("audio", wav(chunks, rate), "instruction.wav");
  form.append("scene", JSON.stringify(scene));
  form.append("oracle_boxes", String($("oracle").checked));
  if ($("asr").value) form.append("asr", $("asr").value);
  await run(() => call("/api/picking/decide", { method: "POST", body: form }));
}

function wav(chunks, rate) {
  const n = chunks.reduce((s, c) => s + c.length, 0);
  const view = new DataView(new ArrayBuffer(44 + 2 * n));
  const text = (at, s) => [...s].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + 2 * n, true);
  text(8, "WAVEfmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, 2 * rate, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, 2 * n, true);
  let at = 44;
  for (const chunk of chunks) {
    for (const v of chunk) {
      view.setInt16(at, Math.max(-1, Math.min(1, v)) * 0x7fff, true);
      at += 2;
    }
  }
  return new Blob([view], { type: "audio/wav" });
}

async function uploadSpec() {
  const file = $("spec").files[0];
  if (!file) return;
  let spec;
  try {
    spec = JSON.parse(await file.text());
  } catch {
    return say($("message"), `${file.name} is not JSON`, "error");
  }
  await newScene({ scene: spec });
}

$("new-scene").onclick = () => newScene({ seed: Number($("seed").value) });
$("spec").onchange = uploadSpec;
$("decide").onclick = decideTyped;
$("instruction").onkeydown = (e) => e.key === "Enter" && decideTyped();
$("reply").onclick = reply;
$("answer").onkeydown = (e) => e.key === "Enter" && reply();
$("execute").onclick = execute;
$("mic").onclick = mic;
newScene({ seed: Number($("seed").value) });
