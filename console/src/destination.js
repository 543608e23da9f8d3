// One destination: its health and settings, the transform editor with its
// test pane, versions and env, and "replay every failure since".
import { h, fill, errorBox, when, confirmDialog, field, pretty } from "./ui.js";
import { api, ApiError } from "./api.js";
import { poll } from "./live.js";
import { createEditor } from "./editor.js";
import { diffView } from "./diff.js";
import { integrations } from "./catalog.js";
import { healthText, healthBadge } from "./destinations.js";

const LINT_PAYLOAD = { type: "lint.check", data: {} };

/** destinationPage renders /console/destinations/{id}. */
export async function destinationPage({ main, go, setStop, setLeaveGuard }, id) {
  const path = "/v1/destinations/" + encodeURIComponent(id);
  let d = await api("GET", path);
  const [cat, src] = await Promise.all([integrations(api), api("GET", "/v1/sources/" + encodeURIComponent(d.source_id)).catch(() => null)]);
  const spec = cat.find((i) => i.name === d.integration) || { config_fields: [], templates: [] };

  // Header: health, enable/disable, delete.
  const head = h("div", {});
  const headMsg = h("div", { "aria-live": "polite" });
  function renderHead() {
    const hl = d.health || {};
    fill(head,
      h("h1", {}, d.name),
      h("p", { class: "muted" }, spec.title || d.integration, " · ", h("code", {}, d.url), src ? [" · from ", h("a", { href: "/console/sources" }, src.name)] : null),
      h("section", { class: "card", "aria-label": "Health" },
        h("p", {}, healthBadge(d), " ", healthText(d)),
        h("dl", { class: "inline" },
          h("dt", {}, "Circuit"), h("dd", {}, hl.circuit || "closed"),
          h("dt", {}, "Last success"), h("dd", {}, hl.last_success_at ? when(hl.last_success_at) : hl.failing_since ? "before " + when(hl.failing_since) : "no failures recorded"),
          d.disabled ? [h("dt", {}, "Disabled because"), h("dd", {}, d.disabled_reason || "disabled by the merchant")] : null),
        h("div", { class: "row" },
          h("button", { type: "button", onclick: toggle }, d.disabled ? "Enable" : "Disable"),
          h("a", { href: "/console/events?source_id=" + encodeURIComponent(d.source_id) }, "Events of this source"),
          h("button", { type: "button", class: "danger", onclick: del }, "Delete destination")),
        headMsg));
  }
  async function toggle() {
    try { d = { ...d, ...(await api("PATCH", path, { disabled: !d.disabled })) }; renderHead(); } catch (err) { fill(headMsg, errorBox(err)); }
  }
  async function del() {
    if (!(await confirmDialog(`Delete destination "${d.name}"? Its events stop being forwarded.`))) return;
    try { await api("DELETE", path); setLeaveGuard(null); go("/console/destinations"); } catch (err) { fill(headMsg, errorBox(err)); }
  }
  renderHead();

  // Settings.
  const sName = h("input", { type: "text", value: d.name, maxlength: 200 });
  const sURL = spec.url_field ? null : h("input", { type: "url", value: d.url });
  const sConfig = spec.config_fields.map((f) => ({ f, input: h("input", { type: f.secret ? "password" : "text", autocomplete: "off", value: f.secret ? "" : d.config[f.name] || "", placeholder: f.secret && d.config[f.name] ? "unchanged (stored encrypted)" : "" }) }));
  const sTypes = h("input", { type: "text", value: d.event_types.join(", "), placeholder: "every event" });
  const sMsg = h("div", { "aria-live": "polite" });
  const settings = h("form", { class: "card", "aria-label": "Settings" },
    field("Name", sName), sURL ? field("URL", sURL) : null,
    sConfig.map(({ f, input }) => field(f.label, input, f.secret ? "Leave empty to keep the stored value." : f.description)),
    field("Event types (comma separated; empty: every event)", sTypes),
    h("button", { type: "submit" }, "Save settings"), sMsg);
  settings.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { name: sName.value.trim(), event_types: sTypes.value.split(",").map((s) => s.trim()).filter(Boolean), config: {} };
    if (sURL && sURL.value !== d.url) body.url = sURL.value.trim();
    for (const { f, input } of sConfig) if (input.value || !f.secret) body.config[f.name] = input.value;
    try { d = { ...d, ...(await api("PATCH", path, body)) }; renderHead(); fill(sMsg, h("p", { class: "okmsg" }, "Settings saved.")); }
    catch (err) { fill(sMsg, errorBox(err)); }
  });

  // Transform editor, env, test input.
  let saved = { code: (d.transform && d.transform.code) || "", env: JSON.stringify(d.env || {}), enabled: d.transform ? d.transform.enabled : false };
  let lastRun = null; // {code, error}
  const enabled = h("input", { type: "checkbox", checked: saved.enabled, id: "tr-enabled" });
  const envBox = h("div", { class: "env" });
  const envRows = [];
  function envRow(k = "", v = "") {
    const key = h("input", { type: "text", value: k, "aria-label": "Variable name", placeholder: "NAME" });
    const val = h("input", { type: "text", value: v, "aria-label": "Variable value", placeholder: "value" });
    const row = h("div", { class: "row" }, key, val);
    const entry = { key, val, row };
    row.append(h("button", { type: "button", class: "small", "aria-label": "Remove variable", onclick: () => { envRows.splice(envRows.indexOf(entry), 1); row.remove(); dirtyCheck(); } }, "×"));
    key.addEventListener("input", dirtyCheck); val.addEventListener("input", dirtyCheck);
    envRows.push(entry);
    envList.append(row);
  }
  const envList = h("div", {});
  fill(envBox, h("h3", {}, "Env variables (webhook.env)"), envList,
    h("button", { type: "button", class: "small", onclick: () => envRow() }, "Add variable"));
  for (const [k, v] of Object.entries(d.env || {})) envRow(k, v);
  const env = () => Object.fromEntries(envRows.filter((r) => r.key.value.trim()).map((r) => [r.key.value.trim(), r.val.value]));

  const input = h("select", { id: "test-input" });
  const payload = h("textarea", { id: "test-payload", rows: 12, spellcheck: "false", "aria-label": "Test input JSON" });
  let samples = [], events = [];
  try { samples = (await api("GET", "/v1/samples?source_kind=" + encodeURIComponent(src ? src.kind : ""))).data || []; } catch { samples = []; }
  try { events = (await api("GET", "/v1/events?limit=10&source_id=" + encodeURIComponent(d.source_id))).data || []; } catch { events = []; }
  fill(input,
    samples.length ? h("optgroup", { label: "Samples" }, samples.map((s, i) => h("option", { value: "s" + i }, `${s.name} (${s.event_type})`))) : null,
    events.length ? h("optgroup", { label: "Recent events of this source" }, events.map((e, i) => h("option", { value: "e" + i }, `${e.type} · ${when(e.received_at)}`))) : null,
    h("option", { value: "json" }, "JSON edited by hand"));
  async function pickInput() {
    const v = input.value;
    if (v[0] === "s") payload.value = pretty(samples[+v.slice(1)].payload);
    else if (v[0] === "e") {
      const e = events[+v.slice(1)];
      const full = e.payload ? e : await api("GET", "/v1/events/" + encodeURIComponent(e.id)).catch(() => e);
      payload.value = pretty(full.payload || {});
    }
  }
  input.addEventListener("change", pickInput);
  payload.addEventListener("input", () => { input.value = "json"; });
  const wanted = samples.findIndex((s) => !d.event_types.length || d.event_types.includes(s.event_type));
  if (wanted > 0) input.value = "s" + wanted;
  if (!samples.length && !events.length) payload.value = pretty({ type: "payment.succeeded", data: {} });
  else await pickInput();

  const result = h("section", { class: "card result", role: "region", "aria-label": "Test result", "aria-live": "polite" },
    h("p", { class: "muted" }, "Press Run test (Ctrl/Cmd+Enter) to see the request this script would send. Nothing is sent."));
  const saveMsg = h("div", { "aria-live": "polite" });
  const editorBox = h("div", { class: "editor" });
  const lintStatus = h("p", { id: "lint-status", class: "error", "aria-live": "polite" });
  const dirtyMark = h("span", { class: "muted", "aria-live": "polite" });
  const dirty = () => editor && (editor.code !== saved.code || JSON.stringify(env()) !== saved.env || enabled.checked !== saved.enabled);
  function dirtyCheck() { dirtyMark.textContent = dirty() ? "Unsaved changes" : ""; }
  enabled.addEventListener("change", dirtyCheck);

  async function check(code) {
    if (!code.trim()) return null;
    try {
      await api("POST", "/v1/transforms/test", { code, payload: LINT_PAYLOAD, env: env() });
      return null;
    } catch (err) {
      const e = err instanceof ApiError && err.status === 422 && err.body && err.body.error;
      return e && e.kind === "syntax" ? e : null; // a runtime error on the lint probe is not the script's fault
    }
  }

  async function runTest() {
    let body;
    try { body = testBody(); } catch (err) { fill(result, errorBox(err)); return; }
    fill(result, h("p", { class: "muted" }, "Running…"));
    const code = editor.code;
    // The destination's own delivery path (its URL, headers and credentials,
    // masked) with the editor's script and env: nothing is saved or sent.
    try {
      const r = await api("POST", path + "/test", body);
      lastRun = { code, error: null };
      renderResult(r);
    } catch (err) {
      const e = err.status === 422 && err.body && err.body.error;
      if (e) {
        lastRun = { code, error: e };
        fill(result, h("h3", {}, "The script failed"), h("p", { class: "error", role: "alert" }, e.line ? `Line ${e.line}${e.column ? ", column " + e.column : ""}: ${e.message}` : e.message),
          logsView(err.body.logs));
      } else fill(result, errorBox(err));
    }
    editor.relint();
  }
  function testBody() {
    const body = { env: env() };
    if (editor.code.trim()) body.code = editor.code;
    const v = input.value;
    if (v[0] === "e") body.event_id = events[+v.slice(1)].id;
    else body.payload = parse(payload.value);
    if (v[0] === "s") body.event_type = samples[+v.slice(1)].event_type;
    return body;
  }
  function parse(text) {
    try { return JSON.parse(text); } catch (e) { throw new Error("The test input is not valid JSON: " + e.message); }
  }
  function renderResult(r) {
    const input = parse(payload.value || "{}");
    const how = h("p", { class: "muted" }, dirty() ? "The script in the editor (not saved yet) and the env beside it, run as a delivery would run them. Nothing was sent."
      : "The saved script, run as a delivery would run it. Nothing was sent.");
    const took = h("p", { class: "muted" }, `Ran in ${r.duration_ms < 1 ? "under 1" : Math.round(r.duration_ms)} ms`);
    if (r.cancel) {
      fill(result, h("h3", {}, "Cancelled"), how, h("p", {}, "The script cancelled this event: nothing would be sent, and it counts as done."),
        logsView(r.logs), took);
      return;
    }
    fill(result,
      h("h3", {}, "Request"), how,
      h("p", {}, h("strong", {}, r.method), " ", h("code", {}, r.url)),
      Object.keys(r.headers || {}).length
        ? h("table", { class: "headers", "aria-label": "Headers" }, h("tbody", {}, Object.entries(r.headers).map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, v)))))
        : h("p", { class: "muted" }, "No headers."),
      h("h3", {}, "Payload"), h("pre", { class: "json", tabindex: 0, "aria-label": "Output payload" }, pretty(r.payload)),
      logsView(r.logs), took,
      h("h3", {}, "Diff: input payload → output payload"), diffView(pretty(input), pretty(r.payload), "Payload diff"));
  }

  async function save() {
    fill(saveMsg, h("p", { class: "muted" }, "Saving…"));
    const code = editor.code;
    try {
      const r = await api("PATCH", path, { transform: { code, enabled: enabled.checked }, env: env() });
      d = { ...d, ...r };
      saved = { code, env: JSON.stringify(env()), enabled: enabled.checked };
      dirtyCheck();
      fill(saveMsg, h("p", { class: "okmsg" }, "Saved."));
      await loadVersions();
    } catch (err) {
      const e = err.status === 422 && err.body && err.body.error;
      fill(saveMsg, errorBox(e && e.line ? new Error(`Not saved: line ${e.line}: ${e.message}`) : err));
    }
  }

  const editor = createEditor(editorBox, { code: saved.code, check, runtimeError: (code) => (lastRun && lastRun.code === code && lastRun.error && lastRun.error.line ? lastRun.error : null),
    onChange: dirtyCheck, onRun: runTest, onSave: save,
    onLint: (diags) => { lintStatus.textContent = diags.map((x) => x.message).join("\n"); } });
  setLeaveGuard(() => dirty());
  const onKey = (e) => {
    if (e.defaultPrevented) return; // the editor's own keymap took it
    if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); save(); }
    else if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); runTest(); }
  };
  document.addEventListener("keydown", onKey);

  // Versions.
  const versions = h("div", {});
  const versionOut = h("div", { "aria-live": "polite" });
  async function loadVersions() {
    let vs;
    try { vs = (await api("GET", path + "/transform/versions")).data || []; } catch (err) { fill(versions, errorBox(err)); return; }
    if (!vs.length) { fill(versions, h("p", { class: "empty" }, "No saved versions yet: every Save makes one.")); return; }
    fill(versions, h("ol", { class: "versions", "aria-label": "Versions" }, vs.map((v, i) => h("li", {},
      h("span", {}, `Version ${v.version}`, i === 0 ? " (current)" : ""), " ", h("time", { datetime: v.created_at }, when(v.created_at)),
      h("button", { type: "button", class: "small", "aria-label": `Diff version ${v.version} against the editor`, onclick: () => fill(versionOut, h("h3", {}, `Version ${v.version} → editor`), diffView(v.code, editor.code, `Diff of version ${v.version}`)) }, "Diff"),
      i === 0 ? null : h("button", { type: "button", class: "small", "aria-label": `Roll back to version ${v.version}`, onclick: () => rollback(v) }, "Roll back")))));
  }
  async function rollback(v) {
    if (dirty() && !(await confirmDialog(`Discard unsaved changes and roll back to version ${v.version}?`, "Roll back"))) return;
    try {
      await api("POST", path + "/transform/rollback", { version: v.version });
      const fresh = await api("GET", path);
      d = { ...d, ...fresh };
      saved = { code: (d.transform && d.transform.code) || "", env: saved.env, enabled: d.transform ? d.transform.enabled : false };
      editor.set(saved.code);
      dirtyCheck();
      fill(versionOut, h("p", { class: "okmsg" }, `Rolled back to version ${v.version}: saved as a new version.`));
      await loadVersions();
    } catch (err) { fill(versionOut, errorBox(err)); }
  }

  // Replay failures since.
  const since = h("input", { type: "datetime-local", id: "replay-since", value: localInput(new Date(Date.now() - 24 * 3600e3)) });
  const replayMsg = h("div", { "aria-live": "polite" });
  const replay = h("form", { class: "card", "aria-label": "Replay failures" },
    h("h2", {}, "Replay every failure since…"),
    h("p", { class: "muted" }, "After fixing the script or the endpoint, send the failed deliveries again through the current script."),
    field("Since", since), h("button", { type: "submit" }, "Replay failures"), replayMsg);
  // While a replay runs, the count of failures left (GET .../failures) falls
  // as the worker claims and delivers each one: a live progress count.
  let progress = null;
  const stopProgress = () => { if (progress) { progress.stop(); progress = null; } };
  replay.addEventListener("submit", async (e) => {
    e.preventDefault();
    stopProgress();
    try {
      const from = new Date(since.value).toISOString();
      const r = await api("POST", path + "/replay", { since: from, status: "failed" });
      if (!r.replayed) { fill(replayMsg, h("p", { class: "okmsg" }, "No failed deliveries since then: nothing to replay.")); return; }
      const total = r.replayed, more = r.more ? "+" : "";
      const show = (left) => fill(replayMsg, h("p", { class: "okmsg", role: "status" },
        `Replayed ${Math.max(0, total - left)} of ${total}${more} failed deliveries` +
        (left > 0 ? ` (${left} still failed; up to ${r.per_second} per second)` : ": all delivered.")));
      show(total);
      let last = total, still = 0;
      progress = poll(async () => {
        const f = await api("GET", path + "/failures?since=" + encodeURIComponent(from));
        show(f.failed);
        if (f.failed === 0 || (f.failed === last && ++still > 20)) stopProgress();
        else if (f.failed !== last) still = 0;
        const changed = f.failed !== last;
        last = f.failed;
        return changed;
      });
    } catch (err) { fill(replayMsg, errorBox(err)); }
  });

  fill(main, head,
    h("section", { class: "transform", "aria-label": "Transform" },
      h("div", { class: "row spread" }, h("h2", {}, "Transform"), dirtyMark),
      h("div", { class: "split" },
        h("div", { class: "pane" }, editorBox, lintStatus,
          h("div", { class: "row" },
            h("button", { type: "button", class: "primary", onclick: runTest, title: "Ctrl/Cmd+Enter" }, "Run test"),
            h("button", { type: "button", onclick: save, title: "Ctrl/Cmd+S" }, "Save"),
            h("label", { class: "check", for: "tr-enabled" }, enabled, "Script enabled")),
          saveMsg, result),
        h("div", { class: "pane side" },
          h("h3", {}, "Test input"), field("Input", input), payload, envBox,
          h("h3", {}, "Versions"), versions, versionOut))),
    replay,
    h("details", {}, h("summary", {}, "Settings"), settings));
  await loadVersions();
  setStop(() => { stopProgress(); document.removeEventListener("keydown", onKey); editor.destroy(); });
}

/** logsView shows the script's console output, or says there was none. */
function logsView(logs) {
  return [h("h3", {}, "Logs"), logs && logs.length ? h("pre", { class: "logs", tabindex: 0, "aria-label": "Script logs" }, logs.join("\n")) : h("p", { class: "muted" }, "No console output.")];
}

function localInput(t) {
  const p = (n) => String(n).padStart(2, "0");
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}`;
}
