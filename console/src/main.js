// The console's shell: who is signed in, the navigation, and the router
// that maps /console/... paths to pages.
import { h, fill, errorBox, confirmDialog } from "./ui.js";
import { session, signIn, signOut, whenSignedOut } from "./api.js";
import { sourcesPage } from "./sources.js";
import { destinationsPage, newDestinationPage } from "./destinations.js";
import { destinationPage } from "./destination.js";
import { eventsPage, eventPage } from "./events.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let who = null;
let leaveGuard = null; // a page with unsaved changes sets this

/** setLeaveGuard lets a page ask before the merchant leaves it. */
export function setLeaveGuard(f) { leaveGuard = f; }

window.addEventListener("beforeunload", (e) => {
  if (leaveGuard && leaveGuard()) { e.preventDefault(); e.returnValue = ""; }
});

/** go navigates inside the console without a reload, asking first if the page has unsaved changes. */
export async function go(path, replace) {
  if (leaveGuard && leaveGuard() && !(await confirmDialog("You have unsaved changes to the script. Leave this page and lose them?", "Leave"))) return;
  leaveGuard = null;
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  route();
}

// Links inside the console navigate without a reload.
document.addEventListener("click", (e) => {
  const a = e.target.closest && e.target.closest("a[href^='/console/']");
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || a.target) return;
  e.preventDefault();
  go(a.getAttribute("href"));
});
window.addEventListener("popstate", () => { leaveGuard = null; route(); });
whenSignedOut(() => { who = null; route(); });

let stopPage = null; // a page's cleanup (live updates)
let nextPath = ""; // where to go after signing in
let leftAt = "";

function renderNav() {
  if (!who) { fill(nav); return; }
  const here = location.pathname;
  const link = (href, text) => h("a", { href, "aria-current": here.startsWith(href) ? "page" : null }, text);
  fill(nav,
    link("/console/sources", "Sources"),
    link("/console/destinations", "Destinations"),
    link("/console/events", "Events"),
    h("span", { class: "who" }, who.tenant_name || who.tenant_id || ""),
    h("button", { type: "button", class: "link", onclick: doSignOut }, "Sign out"));
}

async function doSignOut() {
  if (leaveGuard && leaveGuard() && !(await confirmDialog("You have unsaved changes to the script. Sign out and lose them?", "Sign out"))) return;
  leaveGuard = null;
  await signOut().catch(() => {});
  who = null;
  go("/console/signin");
}

function signInPage() {
  const token = h("input", { type: "password", id: "token", autocomplete: "off", required: true, "aria-label": "Tenant token" });
  const msg = h("div", { "aria-live": "polite" });
  if (new URLSearchParams(location.search).get("error") === "link_invalid")
    fill(msg, h("p", { class: "error", role: "alert" }, "This sign-in link has already been used or has expired. Ask for a new one, or paste your tenant token."));
  const form = h("form", { class: "card narrow" },
    h("h1", {}, "Sign in to hookshift"),
    h("p", {}, "Paste your tenant token, or open the console from your payment platform's dashboard (a portal link signs you in by itself)."),
    h("div", { class: "field" }, h("label", { for: "token" }, "Tenant token"), token),
    h("button", { type: "submit", class: "primary" }, "Sign in"), msg);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      who = await signIn(token.value.trim());
      token.value = "";
      const to = nextPath || "/console/events";
      nextPath = "";
      go(to, true);
    } catch (err) {
      fill(msg, errorBox(err));
    }
  });
  return form;
}

let current = 0; // the navigation being shown; an older one that finishes late must not draw

async function route() {
  const my = ++current;
  if (stopPage) { stopPage(); stopPage = null; }
  leftAt = location.pathname + location.search;
  const path = location.pathname.replace(/\/+$/, "");
  if (!who) {
    let s;
    try { s = await session(); } catch (err) { if (my === current) fill(main, errorBox(err)); return; }
    if (my !== current) return;
    who = s;
  }
  if (!who) {
    renderNav();
    if (path !== "/console/signin") history.replaceState(null, "", "/console/signin");
    if (leftAt && !leftAt.startsWith("/console/signin") && leftAt.replace(/\/+$/, "") !== "/console") nextPath = leftAt;
    fill(main, signInPage());
    main.querySelector("input")?.focus();
    document.title = "Sign in · hookshift";
    return;
  }
  if (path === "/console" || path === "/console/signin") { history.replaceState(null, "", "/console/events"); return route(); }
  renderNav();
  const m = path.match(/^\/console\/(sources|destinations|events)(?:\/([^/]+))?$/);
  // Each page draws into its own element: a page still loading when the
  // merchant moves on draws into a detached one, and its live updates and
  // leave guard are dropped at once instead of outliving it.
  const view = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  fill(main, view);
  const ctx = {
    main: view, go,
    setStop: (f) => { if (my === current) stopPage = f; else f(); },
    setLeaveGuard: (f) => { if (my === current) setLeaveGuard(f); },
  };
  try {
    if (!m) fill(view, h("h1", {}, "Not found"), h("p", {}, "No page here. ", h("a", { href: "/console/events" }, "See your events.")));
    else if (m[1] === "sources") { document.title = "Sources · hookshift"; await sourcesPage(ctx); }
    else if (m[1] === "destinations" && !m[2]) { document.title = "Destinations · hookshift"; await destinationsPage(ctx); }
    else if (m[1] === "destinations" && m[2] === "new") { document.title = "New destination · hookshift"; await newDestinationPage(ctx); }
    else if (m[1] === "destinations") { document.title = "Destination · hookshift"; await destinationPage(ctx, decodeURIComponent(m[2])); }
    else if (m[1] === "events" && !m[2]) { document.title = "Events · hookshift"; await eventsPage(ctx); }
    else { document.title = "Event · hookshift"; await eventPage(ctx, decodeURIComponent(m[2])); }
  } catch (err) {
    fill(view, h("h1", {}, "Something went wrong"), errorBox(err));
  }
  if (my !== current) return;
  const h1 = view.querySelector("h1");
  // Move focus to the new page's heading, unless the merchant already went
  // into the page (e.g. started typing in the editor while it loaded).
  const a = document.activeElement;
  if (h1 && (!a || a === document.body || a === main || !main.contains(a))) { h1.tabIndex = -1; h1.focus({ preventScroll: true }); }
}

route();
