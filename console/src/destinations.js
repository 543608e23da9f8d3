// Destinations: the list, and creation from the catalog (integration card →
// generated config form → template → event types).
import { h, fill, errorBox, field } from "./ui.js";
import { api } from "./api.js";
import { EVENT_TYPES, integrations } from "./catalog.js";

/** health says in words how a destination is doing. */
export function healthText(d) {
  if (d.disabled) return "Disabled: " + (d.disabled_reason || "by the merchant");
  const c = d.health && d.health.circuit;
  if (c === "open") return `Paused after ${d.health.consecutive_failures} failures in a row (circuit open)`;
  if (c === "half_open") return "Trying again after failures (circuit half open)";
  if (d.health && d.health.consecutive_failures) return `${d.health.consecutive_failures} recent failures`;
  return "Healthy";
}

/** healthBadge is a one-word summary of healthText, coloured like a delivery status. */
export function healthBadge(d) {
  const c = d.health && d.health.circuit;
  const [word, tone] = d.disabled ? ["disabled", "failed"] : c === "open" ? ["paused", "retrying"] : c === "half_open" ? ["recovering", "retrying"] : ["healthy", "delivered"];
  return h("span", { class: "badge badge-" + tone }, word);
}

/** destinationsPage lists destinations, optionally of one source. */
export async function destinationsPage({ main }) {
  const sourceID = new URLSearchParams(location.search).get("source_id") || "";
  const [{ data }, { data: sources }] = await Promise.all([
    api("GET", "/v1/destinations" + (sourceID ? "?source_id=" + encodeURIComponent(sourceID) : "")),
    api("GET", "/v1/sources"),
  ]);
  const srcName = Object.fromEntries(sources.map((s) => [s.id, s.name]));
  const add = h("a", { class: "button primary", href: "/console/destinations/new" + (sourceID ? "?source_id=" + encodeURIComponent(sourceID) : "") }, "Add destination");
  let body;
  if (!sources.length) body = h("p", { class: "empty" }, "No sources yet: ", h("a", { href: "/console/sources" }, "create a source"), " first, then add a destination for it.");
  else if (!data.length) body = h("p", { class: "empty" }, "No destinations yet: add one to forward your payments to DataFast, Slack or any URL.");
  else body = h("ul", { class: "cards" }, data.map((d) => h("li", { class: "card" },
    h("h2", {}, h("a", { href: "/console/destinations/" + encodeURIComponent(d.id) }, d.name)),
    h("p", { class: "muted" }, d.integration, " · from ", srcName[d.source_id] || d.source_id),
    h("p", {}, healthBadge(d), " ", healthText(d)))));
  fill(main, h("div", { class: "row spread" }, h("h1", {}, "Destinations"), add), body);
}

/** newDestinationPage creates a destination through the catalog's forms. */
export async function newDestinationPage({ main, go }) {
  const [cat, { data: sources }] = await Promise.all([integrations(api), api("GET", "/v1/sources")]);
  if (!sources.length) {
    fill(main, h("h1", {}, "New destination"), h("p", { class: "empty" }, "A destination forwards a source's events: ", h("a", { href: "/console/sources" }, "create a source"), " first."));
    return;
  }
  const pre = new URLSearchParams(location.search).get("source_id");
  const source = h("select", { id: "dst-source" }, sources.map((s) => h("option", { value: s.id, selected: s.id === pre }, `${s.name} (${s.kind})`)));
  const formBox = h("div", {});
  const cards = h("div", { class: "grid", role: "radiogroup", "aria-label": "Integration" },
    cat.map((it) => {
      const r = h("input", { type: "radio", name: "integration", value: it.name, id: "int-" + it.name });
      r.addEventListener("change", () => fill(formBox, integrationForm(it)));
      return h("label", { class: "card pick", for: "int-" + it.name }, r, h("strong", {}, it.title || it.name), h("small", {}, it.description));
    }));

  function integrationForm(it) {
    const kind = () => (sources.find((s) => s.id === source.value) || {}).kind;
    const name = h("input", { type: "text", required: true, maxlength: 200, value: it.title || it.name });
    const config = it.config_fields.map((f) => ({ f, input: h("input", { type: f.secret ? "password" : "text", autocomplete: "off", required: f.required, name: f.name }) }));
    const url = it.url_field ? null : h("input", { type: "url", placeholder: it.default_url || "https://…", required: !it.default_url });
    const tpl = h("select", {}, h("option", { value: "" }, "No script (send the event as it is)"),
      it.templates.map((t) => h("option", { value: t.name, selected: t.name === (it.default_template || it.templates[0]?.name) }, `${t.name}: ${t.description}`)));
    const typesBox = h("fieldset", { class: "types" });
    const other = h("input", { type: "text", placeholder: "other.type, family.*" });
    function renderTypes() {
      const t = it.templates.find((x) => x.name === tpl.value);
      const want = new Set((t && t.event_types) || it.default_event_types || []);
      const known = [...new Set([...(EVENT_TYPES[kind()] || []), ...want])];
      fill(typesBox, h("legend", {}, "Event types (none checked: every event)"),
        known.length ? known.map((et) => h("label", { class: "check" }, h("input", { type: "checkbox", value: et, checked: want.has(et) }), et))
          : h("p", { class: "muted" }, "This source kind has no fixed list: type the event types below, or leave empty for every event."));
    }
    tpl.addEventListener("change", renderTypes);
    source.addEventListener("change", renderTypes);
    renderTypes();
    const msg = h("div", {});
    const form = h("form", { class: "card", "aria-label": `Configure ${it.title || it.name}` },
      h("h2", {}, `Configure ${it.title || it.name}`),
      field("Name", name),
      config.map(({ f, input }) => field(f.label + (f.required ? "" : " (optional)"), input, f.description + (f.secret ? " Stored encrypted; never shown again." : ""))),
      url ? field("URL", url, it.default_url ? "Leave empty for " + it.default_url : "The https URL to deliver to.") : null,
      field("Template", tpl, "The script you start from; you can edit it next."),
      typesBox, field("Other event types (comma separated)", other),
      h("button", { type: "submit", class: "primary" }, "Create destination"), msg);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      fill(msg);
      const body = { source_id: source.value, name: name.value.trim(), integration: it.name, config: {} };
      for (const { f, input } of config) if (input.value) body.config[f.name] = input.value;
      if (url && url.value) body.url = url.value.trim();
      const types = [...typesBox.querySelectorAll("input:checked")].map((c) => c.value)
        .concat(other.value.split(",").map((s) => s.trim()).filter(Boolean));
      body.event_types = types;
      const t = it.templates.find((x) => x.name === tpl.value);
      body.transform = t ? { code: t.code, enabled: true } : { code: "", enabled: false };
      try {
        const d = await api("POST", "/v1/destinations", body);
        go("/console/destinations/" + encodeURIComponent(d.id));
      } catch (err) { fill(msg, errorBox(err)); }
    });
    return form;
  }

  fill(main, h("h1", {}, "New destination"),
    h("div", { class: "card" }, field("Source", source, "Events from this source are forwarded.")),
    h("h2", {}, "Pick an integration"), cards, formBox);
}
