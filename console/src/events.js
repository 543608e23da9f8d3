// Events: search with the filters in the URL, newest first, paged; one
// event's payload, deliveries and attempts, with Replay. Both update live.
import { h, fill, errorBox, when, badge, pretty, field } from "./ui.js";
import { api } from "./api.js";
import { watch } from "./live.js";

const FILTERS = [
  ["email", "Customer email", "email"],
  ["customer_id", "Customer id", "text"],
  ["payment_id", "Payment id", "text"],
  ["type", "Event type", "text"],
];

/** eventsPage renders /console/events?filters. */
export async function eventsPage({ main, go, setStop }) {
  const q = new URLSearchParams(location.search);
  const { data: sources } = await api("GET", "/v1/sources");
  const srcName = Object.fromEntries(sources.map((s) => [s.id, s.name]));
  const inputs = {};
  const form = h("form", { class: "card filters", role: "search", "aria-label": "Search events" },
    FILTERS.map(([k, label, type]) => field(label, (inputs[k] = h("input", { type, name: k, value: q.get(k) || "" })))),
    field("Source", (inputs.source_id = h("select", { name: "source_id" }, h("option", { value: "" }, "All sources"),
      sources.map((s) => h("option", { value: s.id, selected: q.get("source_id") === s.id }, s.name))))),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Search"),
      h("a", { href: "/console/events" }, "Clear")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k, el] of Object.entries(inputs)) if (el.value.trim()) p.set(k, el.value.trim());
    go("/console/events" + (p.toString() ? "?" + p : ""));
  });
  const list = h("div", { "aria-live": "polite" });
  const pager = h("div", { class: "row" });
  const apiQuery = new URLSearchParams();
  for (const k of ["email", "customer_id", "payment_id", "type", "source_id"]) if (q.get(k)) apiQuery.set(k, q.get(k));
  apiQuery.set("limit", "25");
  const cursor = q.get("cursor") || "";
  let shown = null;

  async function load() {
    const p = new URLSearchParams(apiQuery);
    if (cursor) p.set("cursor", cursor);
    const { data, next_cursor } = await api("GET", "/v1/events?" + p);
    const sig = data.map((e) => e.id).join(",");
    if (sig === shown) return false;
    shown = sig;
    if (!data.length) {
      const filtered = [...apiQuery.keys()].some((k) => k !== "limit");
      fill(list, h("p", { class: "empty" }, filtered ? "No events match these filters. Clear them to see every event."
        : sources.length ? ["No events yet: point your payment platform at your source's ingest URL (see ", h("a", { href: "/console/sources" }, "Sources"), ")."]
          : ["No events yet: ", h("a", { href: "/console/sources" }, "create a source"), " and point your payment platform at it."]));
    } else {
      fill(list, h("div", { class: "scroll" }, h("table", { class: "events" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Received"), h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Source"), h("th", { scope: "col" }, "Event"))),
        h("tbody", {}, data.map((e) => h("tr", {},
          h("td", {}, when(e.received_at)), h("td", {}, e.type), h("td", {}, srcName[e.source_id] || e.source_id),
          h("td", {}, h("a", { href: "/console/events/" + encodeURIComponent(e.id) }, e.id))))))));
    }
    const here = new URLSearchParams(location.search);
    here.delete("cursor");
    fill(pager, cursor ? h("a", { href: "/console/events" + (here.toString() ? "?" + here : "") }, "Newest") : null,
      next_cursor ? h("a", { href: "/console/events?" + new URLSearchParams([...here, ["cursor", next_cursor]]) }, "Older events") : null);
    return true;
  }
  fill(main, h("h1", {}, "Events"), form, list, pager);
  await load();
  if (!cursor) { const w = watch(load); setStop(w.stop); } // only the first page updates live
}

/** eventPage renders /console/events/{id}. */
export async function eventPage({ main, setStop }, id) {
  const path = "/v1/events/" + encodeURIComponent(id);
  let ev = await api("GET", path);
  const { data: dests } = await api("GET", "/v1/destinations?source_id=" + encodeURIComponent(ev.source_id)).catch(() => ({ data: [] }));
  const destName = Object.fromEntries(dests.map((d) => [d.id, d.name]));
  const msg = h("div", { "aria-live": "polite" });
  const deliveries = h("div", { "aria-live": "polite" });
  let shown = null;
  let live;

  async function replay(destinationID) {
    try {
      const r = await api("POST", path + "/replay", destinationID ? { destination_id: destinationID } : {});
      const n = (r.destination_ids || []).length;
      fill(msg, h("p", { class: "okmsg" }, n ? `Replaying to ${n} destination${n > 1 ? "s" : ""}.` : "No enabled destination wants this event."));
      live && live.hurry();
    } catch (err) { fill(msg, errorBox(err)); }
  }
  function render() {
    const sig = JSON.stringify(ev.deliveries);
    if (sig === shown) return false;
    shown = sig;
    if (!ev.deliveries.length) {
      fill(deliveries, h("p", { class: "empty" }, dests.length ? "No deliveries yet: they appear here as the workers run." : ["No destination takes this event: ", h("a", { href: "/console/destinations/new?source_id=" + encodeURIComponent(ev.source_id) }, "add a destination"), ", then replay."]));
      return true;
    }
    fill(deliveries, ev.deliveries.map((dl) => {
      const name = destName[dl.destination_id] || dl.destination_id;
      return h("section", { class: "card delivery", "aria-label": "Delivery to " + name, "data-status": dl.status },
        h("div", { class: "row spread" },
          h("h3", {}, h("a", { href: "/console/destinations/" + encodeURIComponent(dl.destination_id) }, name), " ", badge(dl.status)),
          h("button", { type: "button", onclick: () => replay(dl.destination_id), title: "Replay to " + name }, "Replay")),
        dl.last_error ? h("p", { class: "error" }, dl.last_error) : null,
        dl.attempts && dl.attempts.length ? h("table", { class: "attempts", "aria-label": "Attempts to " + name },
          h("thead", {}, h("tr", {}, ["#", "Time", "Outcome", "Status", "Duration", "Error", "Logs"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, dl.attempts.map((a) => h("tr", {},
            h("td", { "data-label": "#" }, a.number), h("td", { "data-label": "Time" }, when(a.at)),
            h("td", { "data-label": "Outcome" }, a.outcome), h("td", { "data-label": "Status" }, a.status_code || "—"),
            h("td", { "data-label": "Duration" }, `${Math.round(a.duration_ms)} ms`),
            h("td", { "data-label": "Error" }, a.error ? (a.line ? `Line ${a.line}: ` : "") + a.error : "—", a.request ? h("div", { class: "muted" }, a.request) : null),
            h("td", { "data-label": "Logs" }, a.logs && a.logs.length ? h("pre", {}, a.logs.join("\n")) : "—")))))
          : h("p", { class: "muted" }, "No attempt yet."));
    }));
    return true;
  }
  fill(main,
    h("h1", {}, ev.type), h("p", { class: "muted" }, "Received ", when(ev.received_at), " · ", h("code", {}, ev.id)),
    h("div", { class: "row" }, h("a", { href: "/console/events?source_id=" + encodeURIComponent(ev.source_id) }, "All events of this source"),
      h("button", { type: "button", onclick: () => replay("") }, "Replay all")),
    msg, h("h2", {}, "Deliveries"), deliveries,
    h("h2", {}, "Payload"), h("pre", { class: "json", tabindex: 0, "aria-label": "Event payload" }, pretty(ev.payload)));
  render();
  live = watch(async () => { ev = await api("GET", path); return render(); }, ev.id);
  setStop(live.stop);
}
