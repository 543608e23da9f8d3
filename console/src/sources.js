// Sources: where the payment platform posts. List, create (the secret shown
// once), rotate the secret, delete.
import { h, fill, errorBox, when, copyButton, confirmDialog, field } from "./ui.js";
import { api } from "./api.js";

/** KINDS are the source kinds with what the merchant pastes where. */
export const KINDS = {
  "standard-webhooks": { label: "Dodo Payments (Standard Webhooks)", platform: "Dodo Payments → Developer → Webhooks → Add endpoint", secretHint: "Leave empty to generate one, or paste the whsec_ secret Dodo shows for the endpoint." },
  stripe: { label: "Stripe", platform: "Stripe Dashboard → Developers → Webhooks → Add endpoint", secretHint: "Paste the endpoint's whsec_ signing secret from Stripe." },
  cryptomus: { label: "Cryptomus", platform: "Cryptomus → Settings → API: set the callback URL", secretHint: "Paste your Cryptomus payment API key." },
  hmac: { label: "Any HMAC-signed webhook", platform: "Your platform's webhook settings", secretHint: "Paste the shared HMAC secret." },
};

function ingestURL(s) { return location.origin + s.ingest_path; }

function settingsBlock(s, secret) {
  const k = KINDS[s.kind] || KINDS.hmac;
  const url = ingestURL(s);
  return h("div", { class: "settings", role: "group", "aria-label": "Settings to paste into the platform" },
    h("p", {}, "In ", h("strong", {}, k.platform), ", paste:"),
    h("dl", {},
      h("dt", {}, "Endpoint URL"), h("dd", {}, h("code", {}, url), " ", copyButton(url, "Copy ingest URL")),
      secret ? [h("dt", {}, "Signing secret"), h("dd", {}, h("code", { class: "secret" }, secret), " ", copyButton(secret, "Copy signing secret"))] : null),
    secret ? h("p", { class: "warn" }, "This secret is shown once. Copy it now: afterwards it is masked everywhere.") : null);
}

/** sourcesPage lists the tenant's sources with a create form. */
export async function sourcesPage({ main }) {
  const list = h("div", {});
  const created = h("div", { "aria-live": "polite" });
  const name = h("input", { type: "text", required: true, maxlength: 200, placeholder: "Dodo live" });
  const kind = h("select", {}, Object.entries(KINDS).map(([v, k]) => h("option", { value: v }, k.label)));
  const secret = h("input", { type: "password", autocomplete: "off" });
  const hint = h("small", {}, KINDS["standard-webhooks"].secretHint);
  kind.addEventListener("change", () => (hint.textContent = KINDS[kind.value].secretHint));
  const msg = h("div", {});
  const form = h("form", { class: "card", "aria-label": "New source" },
    h("h2", {}, "New source"),
    field("Name", name), field("Platform", kind),
    h("div", { class: "field" }, h("label", { for: "src-secret" }, "Signing secret"), Object.assign(secret, { id: "src-secret" }), hint),
    h("button", { type: "submit", class: "primary" }, "Create source"), msg);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    fill(msg);
    const body = { name: name.value.trim(), kind: kind.value };
    if (secret.value) body.secret = secret.value;
    try {
      const s = await api("POST", "/v1/sources", body);
      form.reset();
      fill(created, h("section", { class: "card ok", "aria-label": "Source created" },
        h("h2", {}, `Source "${s.name}" created`), settingsBlock(s, s.secret),
        h("p", {}, "Next: ", h("a", { href: "/console/destinations/new?source_id=" + encodeURIComponent(s.id) }, "add a destination"), " for it.")));
      await load();
    } catch (err) { fill(msg, errorBox(err)); }
  });

  async function load() {
    const { data } = await api("GET", "/v1/sources");
    if (!data.length) {
      fill(list, h("p", { class: "empty" }, "No sources yet: create one below, then point your payment platform at its URL."));
      return;
    }
    fill(list, h("ul", { class: "cards" }, data.map((s) => sourceCard(s, load))));
  }
  fill(main, h("h1", {}, "Sources"),
    h("p", { class: "muted" }, "A source is one payment platform account posting signed webhooks to hookshift."),
    created, list, form);
  await load();
}

function sourceCard(s, reload) {
  const out = h("div", { "aria-live": "polite" });
  const rotate = async () => {
    try {
      const r = await api("POST", `/v1/sources/${encodeURIComponent(s.id)}/rotate-secret`);
      fill(out, h("p", {}, "New secret below. The old one keeps working until ",
        h("strong", {}, when(r.previous_secret_expires_at)), ": update the platform before then."), settingsBlock(r, r.secret));
    } catch (err) { fill(out, errorBox(err)); }
  };
  const del = async () => {
    if (!(await confirmDialog(`Delete source "${s.name}"? Webhooks posted to it will be refused.`))) return;
    try { await api("DELETE", `/v1/sources/${encodeURIComponent(s.id)}`); await reload(); } catch (err) { fill(out, errorBox(err)); }
  };
  return h("li", { class: "card" },
    h("h2", {}, s.name), h("p", { class: "muted" }, (KINDS[s.kind] || {}).label || s.kind, " · ", h("code", {}, s.id)),
    h("p", {}, "Ingest URL: ", h("code", {}, ingestURL(s)), " ", copyButton(ingestURL(s), `Copy ingest URL of ${s.name}`)),
    h("p", {}, "Secret: ", h("code", {}, s.secret),
      s.previous_secret_expires_at ? [" · previous secret valid until ", when(s.previous_secret_expires_at)] : null),
    h("div", { class: "row" },
      h("a", { href: `/console/events?source_id=${encodeURIComponent(s.id)}` }, "Events"),
      h("a", { href: `/console/destinations?source_id=${encodeURIComponent(s.id)}` }, "Destinations"),
      h("button", { type: "button", onclick: rotate, "aria-label": `Rotate secret of ${s.name}` }, "Rotate secret"),
      h("button", { type: "button", class: "danger", onclick: del, "aria-label": `Delete source ${s.name}` }, "Delete")),
    out);
}
