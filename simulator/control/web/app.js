// The control plane's web UI: plain DOM over the JSON API (no build step, nothing fetched from elsewhere).
// The fleet refreshes every few seconds; an open meter shows its details, its objects' values
// (attribute 2 of the classes whose value is small), and its frames live from the server-sent
// trace stream, read with fetch so that the bearer token goes in a header, never in a URL.
"use strict";

const REFRESH_MS = 2000;
const VALUE_CLASSES = new Set([1, 3, 4, 5, 8, 70]);  // Data, registers, Clock, Disconnect control
const TRACE_KEEP = 200;
const ERRORS_KEEP = 20;

const $ = (id) => document.getElementById(id);
let openSerial = null;
let openGroup = null;
let traceAbort = null;
let traceSeq = 0;  // the newest frame shown: the ring read and the stream never show one twice
let traceAtSeq = new Set();  // what was shown of that frame (an APDU's segments share their frame's number)
let objectRows = [];

// -- the API -----------------------------------------------------------------------------------

function headers(json) {
  const h = {"Accept": "application/json"};
  const token = $("token").value.trim();
  if (token) h["Authorization"] = "Bearer " + token;
  if (json) h["Content-Type"] = "application/json";
  return h;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method, headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (!response.ok) {
    const why = data && data.error ? data.error : response.statusText;
    throw new Error(`${method} ${path}: ${response.status} ${why}`);
  }
  return data;
}

function items(answer, key) {
  if (Array.isArray(answer)) return answer;
  return answer && Array.isArray(answer[key]) ? answer[key] : [];
}

function meterPath(serial) { return "/api/meters/" + encodeURIComponent(serial); }

// -- showing values ----------------------------------------------------------------------------

// A value typed as `cosem-sim decode --json` shows Data, in decode's words.
function valueText(v) {
  if (v && typeof v === "object" && "type" in v && "value" in v) {
    if (Array.isArray(v.value)) return `${v.type}[${v.value.length}] (` + v.value.map(valueText).join(", ") + ")";
    const reading = v.date_time ?? v.obis;
    return `${v.type} ${plain(v.value)}` + (reading ? ` (${reading})` : "");
  }
  return plain(v);
}

function plain(v) {
  if (v === null || v === undefined) return "-";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) return v.length ? v.map(plain).join("\n") : "-";
  if (typeof v === "object") {
    if ("transport" in v && "port" in v) {  // an address the meter answers at
      const where = `${v.transport} ${v.host}:${v.port}`;
      return v.physical_address === undefined ? where : `${where} physical address ${v.physical_address}`;
    }
    if ("type" in v && "value" in v) return valueText(v);
    if ("kind" in v) return Object.entries(v).map(([k, x]) => k === "kind" ? x : `${k} ${plain(x)}`).join(" ");
    return Object.entries(v).map(([k, x]) => `${k}: ${plain(x)}`).join("; ");
  }
  return String(v);
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function noteError(error) {
  const list = $("errors");
  const li = document.createElement("li");
  li.textContent = new Date().toISOString().slice(11, 19) + " " + (error.message || String(error));
  list.prepend(li);
  while (list.children.length > ERRORS_KEEP) list.lastChild.remove();
}

// -- the fleet ---------------------------------------------------------------------------------

async function refreshFleet() {
  const group = $("group-filter").value;
  const query = group ? "?group=" + encodeURIComponent(group) + "&limit=1000" : "?limit=1000";
  const answer = await api("GET", "/api/meters" + query);
  const meters = items(answer, "meters");
  const body = $("meters").tBodies[0];
  body.replaceChildren(...meters.map(meterRow));
  const total = answer && typeof answer.total === "number" ? answer.total : meters.length;
  const connected = meters.filter((m) => m.state === "connected").length;
  const shown = total > meters.length ? ` (the first ${meters.length} shown)` : "";
  $("fleet-summary").textContent = `${total} meters, ${connected} connected${shown}`;
  if (!group) fillGroups(meters);
}

// The wire as /metrics counts it: connections open, associations and refusals; a refusal or a
// refused association since the page opened goes to the recent errors.
let lastCounts = null;

function samples(text) {
  const out = [];
  for (const line of text.split("\n")) {
    const m = /^(cosem_[a-z_]+)(?:\{(.*)\})? ([-+0-9.eEInfa]+)$/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const [, k, v] of (m[2] || "").matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.push({name: m[1].replace(/_total$/, ""), labels, value: Number(m[3])});  // a counter's sample
  }
  return out;
}

async function refreshWire() {
  const response = await fetch("/metrics", {headers: headers(false)});
  if (!response.ok) throw new Error(`GET /metrics: ${response.status} ${response.statusText}`);
  const all = samples(await response.text());
  const pick = (name) => all.filter((x) => x.name === name);
  const open = pick("cosem_connections_open");
  const total = open.reduce((n, x) => n + x.value, 0);
  const byTransport = open.filter((x) => x.value).map((x) => `${x.labels.transport} ${x.value}`).join(", ");
  $("wire-connections").textContent = `${total}` + (byTransport ? ` (${byTransport})` : "");
  const counts = new Map();
  for (const x of pick("cosem_refusals")) counts.set(`refused: ${x.labels.reason}`, x.value);
  for (const x of pick("cosem_associations")) {
    if (x.labels.outcome === "accepted") continue;
    if (x.labels.outcome === "released") continue;
    counts.set(`association ${x.labels.outcome} (client ${x.labels.client_sap})`, x.value);
  }
  const accepted = pick("cosem_associations").filter((x) => x.labels.outcome === "accepted")
    .reduce((n, x) => n + x.value, 0);
  $("wire-associations").textContent = String(accepted);
  $("wire-refusals").textContent = [...counts].filter(([, n]) => n).map(([k, n]) => `${k.replace(/^refused: /, "")} ${n}`)
    .join(", ") || "none";
  if (lastCounts) {
    for (const [what, n] of counts) {
      const grown = n - (lastCounts.get(what) ?? 0);
      if (grown > 0) noteError(new Error(`${what}` + (grown > 1 ? ` (${grown} times)` : "")));
    }
  }
  lastCounts = counts;
}

function meterRow(m) {
  const row = document.createElement("tr");
  row.className = "state-" + (m.state || "idle");
  const link = document.createElement("a");
  link.href = "#meter=" + encodeURIComponent(m.serial);
  link.textContent = m.serial;
  link.setAttribute("aria-label", "Meter " + m.serial);
  row.appendChild(document.createElement("td")).appendChild(link);
  cell(row, m.group ?? "-");
  cell(row, m.model ?? "-");
  cell(row, m.state ?? "-");
  return row;
}

function fillGroups(meters) {
  const select = $("group-filter");
  const known = new Set([...select.options].map((o) => o.value));
  for (const name of new Set(meters.map((m) => m.group).filter(Boolean))) {
    if (!known.has(name)) select.add(new Option(name, name));
  }
}

async function refreshClock() {
  const t = await api("GET", "/api/time");
  if (!t) return;
  const state = t.paused ? "paused" : `rate ${t.rate}`;
  const iso = typeof t.iso === "string" ? t.iso.slice(0, 19).replace("T", " ") + " UTC" : t.epoch;
  $("clock").textContent = `fleet time: ${iso} (${state})`;
}

// -- one meter ---------------------------------------------------------------------------------

async function openMeter(serial) {
  if (openSerial === serial) return;
  closeTrace();
  openSerial = serial;
  objectRows = [];
  $("meter").hidden = false;
  $("meter-title").textContent = "Meter " + serial;
  $("meter-details").replaceChildren();
  $("objects").tBodies[0].replaceChildren();
  $("trace").replaceChildren();
  traceSeq = 0;
  traceAtSeq = new Set();
  $("faults").replaceChildren();
  $("events").replaceChildren();
  await Promise.all([refreshMeter(), refreshEvents(), loadObjects(), loadTrace()]);
  openTrace(serial);
}

async function refreshMeter() {
  const serial = openSerial;
  if (!serial) return;
  const m = await api("GET", meterPath(serial));
  if (serial !== openSerial || !m) return;
  openGroup = m.group ?? null;
  $("fault-group").labels[0].lastChild.textContent = ` On the whole group${openGroup ? " (" + openGroup + ")" : ""}`;
  const list = $("meter-details");
  const entries = [];
  for (const [key, value] of Object.entries(m)) {
    if (key === "faults") continue;
    const dt = document.createElement("dt");
    dt.textContent = key.replaceAll("_", " ");
    const dd = document.createElement("dd");
    dd.textContent = plain(value);
    entries.push(dt, dd);
  }
  list.replaceChildren(...entries);
  const faults = Array.isArray(m.faults) ? m.faults : [];
  $("faults").replaceChildren(...faults.map((f) => {
    const li = document.createElement("li");
    li.textContent = plain(f);
    return li;
  }));
}

// The object list by logical device; a device's objects are named "obis" alone when the meter has one.
// The events injected into the meter (its generated ones are in its event logs, as a client reads them).
async function refreshEvents() {
  const serial = openSerial;
  const answer = await api("GET", meterPath(serial) + "/events");
  if (serial !== openSerial) return;
  const all = [...items(answer, "events"), ...items(answer, "alarms")];
  $("events").replaceChildren(...all.map((e) => {
    const li = document.createElement("li");
    li.textContent = e.kind === "alarm" ? `alarm register ${e.register} bits ${e.bits} at ${e.at}`
      : `${e.kind}${e.phase ? " L" + e.phase : ""} ${e.start} to ${e.end} (${e.duration_s} s)`;
    return li;
  }));
}

async function loadObjects() {
  const serial = openSerial;
  const answer = await api("GET", meterPath(serial) + "/objects");
  if (serial !== openSerial) return;
  const devices = answer && Array.isArray(answer.logical_devices) ? answer.logical_devices
    : [{server_sap: null, objects: items(answer, "objects")}];
  const several = devices.length > 1;
  const body = $("objects").tBodies[0];
  objectRows = [];
  const rows = [];
  for (const device of devices) {
    for (const o of device.objects) {
      const row = document.createElement("tr");
      const where = several ? ` (logical device ${device.server_sap})` : "";
      cell(row, o.obis + where);
      cell(row, `${o["class"] ?? ""} (${o.class_id})`);
      cell(row, o.name ?? "");
      const value = cell(row, "");
      value.className = "value";
      value.setAttribute("aria-label", "Value of " + o.obis + where);
      if (VALUE_CLASSES.has(Number(o.class_id))) objectRows.push({obis: o.obis, ld: device.server_sap, cell: value});
      rows.push(row);
    }
  }
  body.replaceChildren(...rows);
  await refreshValues();
}

async function refreshValues() {
  const serial = openSerial;
  for (const row of objectRows) {
    if (serial !== openSerial) return;
    const ld = row.ld === null || row.ld === undefined ? "" : "?ld=" + row.ld;
    try {
      const answer = await api("GET", `${meterPath(serial)}/objects/${encodeURIComponent(row.obis)}/2${ld}`);
      row.cell.textContent = answer.hidden ? "(secret)" : answer.text ?? valueText(answer.value);
    } catch (e) {
      row.cell.textContent = "(" + e.message.replace(/^.*: \d+ /, "") + ")";
    }
  }
}

// -- the trace ---------------------------------------------------------------------------------

function frameText(f) {
  if (typeof f !== "object" || f === null) return String(f);
  const time = typeof f.time === "string" ? f.time.slice(11, 23) : f.time;
  const head = [time, f.direction, f.transport, f.peer, f.client_sap !== undefined && f.client_sap !== null
    ? "client " + f.client_sap : null, f.note].filter((x) => x !== undefined && x !== null).join(" ");
  return head + "\n" + (f.hex ?? "") + (f.text ? "\n" + f.text : "");
}

function addFrame(f) {
  if ($("trace-pause").checked) return;
  if (f && typeof f.seq === "number") {
    const shown = (f.hex ?? "") + "\n" + (f.text ?? "");
    if (f.seq < traceSeq || (f.seq === traceSeq && traceAtSeq.has(shown))) return;
    if (f.seq > traceSeq) { traceSeq = f.seq; traceAtSeq = new Set(); }
    traceAtSeq.add(shown);
  }
  const list = $("trace");
  const li = document.createElement("li");
  const pre = document.createElement("pre");
  pre.textContent = frameText(f);
  li.appendChild(pre);
  if (f && f.direction) li.className = "dir-" + String(f.direction).replace(/[^a-z]/gi, "");
  list.appendChild(li);
  while (list.children.length > TRACE_KEEP) list.firstChild.remove();
  li.scrollIntoView({block: "nearest"});
}

async function loadTrace() {
  const serial = openSerial;
  const frames = items(await api("GET", meterPath(serial) + "/trace"), "frames");
  if (serial === openSerial) frames.forEach(addFrame);
}

function closeTrace() {
  if (traceAbort) traceAbort.abort();
  traceAbort = null;
}

// Server-sent events over fetch: `data:` lines up to a blank line make one event (JSON).
async function openTrace(serial) {
  const abort = new AbortController();
  traceAbort = abort;
  try {
    const response = await fetch("/api/trace/stream?serial=" + encodeURIComponent(serial),
      {headers: {...headers(false), "Accept": "text/event-stream"}, signal: abort.signal});
    if (!response.ok) throw new Error(`trace stream: ${response.status} ${response.statusText}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let name = "message";
    let data = [];
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, "");
        buffer = buffer.slice(end + 1);
        if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        else if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line === "" && data.length) {
          const text = data.join("\n");
          let event;
          try { event = JSON.parse(text); } catch (e) { event = text; }
          if (name === "skipped") addFrame(`(${event.frames ?? event} frames skipped: the page did not keep up)`);
          else addFrame(event);
          name = "message";
          data = [];
        }
      }
    }
  } catch (e) {
    if (!abort.signal.aborted) noteError(e);
  }
}

// -- events and faults -------------------------------------------------------------------------

async function injectEvent(kind) {
  const body = {kind, duration_s: Number($("event-duration").value)};
  if (kind === "voltage-sag" || kind === "voltage-swell") body.phase = Number($("event-phase").value);
  await api("POST", meterPath(openSerial) + "/events", body);
  await Promise.all([refreshMeter(), refreshEvents()]);
}

async function addFault() {
  const kind = $("fault-kind").value;
  const body = {kind};
  if (kind === "delay") {
    body.ms = Number($("fault-ms").value);
    body.jitter_ms = Number($("fault-jitter").value);
  }
  if (kind === "drop" || kind === "corrupt" || kind === "close") body.ratio = Number($("fault-ratio").value);
  if (kind === "refuse") body.diagnostic = $("fault-diagnostic").value;
  await api("POST", faultTarget() + "/faults", body);
  await refreshMeter();
}

// The meter's own faults, or with "On the whole group" its group's (every meter of it).
function faultTarget() {
  if ($("fault-group").checked && openGroup) return "/api/groups/" + encodeURIComponent(openGroup);
  return meterPath(openSerial);
}

async function clearFaults() {
  await api("DELETE", faultTarget() + "/faults");
  await refreshMeter();
}

// -- wiring ------------------------------------------------------------------------------------

function guarded(fn) {
  return (...args) => fn(...args).catch(noteError);
}

function route() {
  const match = /^#meter=(.+)$/.exec(location.hash);
  if (match) guarded(openMeter)(decodeURIComponent(match[1]));
}

function every(ms, fn) {
  let busy = false;
  setInterval(() => {
    if (busy || document.hidden) return;
    busy = true;
    fn().catch(noteError).finally(() => { busy = false; });
  }, ms);
}

document.addEventListener("DOMContentLoaded", () => {
  const token = $("token");
  token.value = sessionStorage.getItem("cosem-sim-token") || "";
  token.addEventListener("change", () => {
    sessionStorage.setItem("cosem-sim-token", token.value);
    guarded(refreshFleet)();
    if (openSerial) { const s = openSerial; openSerial = null; guarded(openMeter)(s); }
  });
  $("token-form").addEventListener("submit", (e) => { e.preventDefault(); token.dispatchEvent(new Event("change")); });
  $("group-filter").addEventListener("change", guarded(refreshFleet));
  for (const button of document.querySelectorAll("[data-event]")) {
    button.addEventListener("click", guarded(() => injectEvent(button.dataset.event)));
  }
  $("fault-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(addFault)(); });
  $("fault-clear").addEventListener("click", guarded(clearFaults));
  $("trace-clear").addEventListener("click", () => $("trace").replaceChildren());
  window.addEventListener("hashchange", route);
  guarded(refreshFleet)();
  guarded(refreshClock)();
  guarded(refreshWire)();
  route();
  every(REFRESH_MS, refreshFleet);
  every(REFRESH_MS, refreshWire);
  every(REFRESH_MS, refreshClock);
  every(REFRESH_MS, async () => { if (openSerial) await refreshMeter(); });
  every(REFRESH_MS * 2, async () => { if (openSerial) await refreshValues(); });
  // The stream is the fast path; the ring read catches what it missed (its opening, a dropped stream).
  every(REFRESH_MS, async () => { if (openSerial) await loadTrace(); });
});
