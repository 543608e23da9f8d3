// Small DOM helpers: the console builds its pages from plain elements, with
// no framework and no inline styles or handlers (the CSP forbids them).

/** h builds an element: h("button", {onclick, "aria-label": "..."}, "text", child...). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** clear empties an element and fills it with children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** when formats a time for people, in their locale, or "never". */
export function when(t) {
  if (!t || t.startsWith("0001-")) return "never";
  const d = new Date(t);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** errorBox shows an API error as the API's own message. */
export function errorBox(err) {
  return h("p", { class: "error", role: "alert" }, err && err.message ? err.message : String(err));
}

/** status renders a delivery status as a labelled badge. */
export function badge(status) {
  return h("span", { class: "badge badge-" + status }, status);
}

/** copyButton copies text and says so. */
export function copyButton(text, label) {
  const b = h("button", { type: "button", class: "small", "aria-label": label }, "Copy");
  b.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = "Copied";
    } catch {
      b.textContent = "Select and copy";
    }
    setTimeout(() => (b.textContent = "Copy"), 2000);
  });
  return b;
}

/** confirmDialog asks a yes/no question in a modal <dialog>; resolves true on yes. */
export function confirmDialog(question, yes = "Delete") {
  return new Promise((resolve) => {
    const d = h("dialog", { "aria-label": "Confirm" },
      h("p", {}, question),
      h("div", { class: "row" },
        h("button", { type: "button", class: "danger", onclick: () => { d.close(); resolve(true); } }, yes),
        h("button", { type: "button", onclick: () => { d.close(); resolve(false); } }, "Cancel")));
    d.addEventListener("close", () => { d.remove(); resolve(false); });
    document.body.append(d);
    d.showModal();
  });
}

/** field is a labelled form control. */
export function field(label, control, hint) {
  const id = control.id || (control.id = "f" + Math.random().toString(36).slice(2, 9));
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("small", {}, hint) : null);
}

/** pretty formats a JSON value for reading. */
export function pretty(v) {
  if (typeof v === "string") {
    try { return JSON.stringify(JSON.parse(v), null, 2); } catch { return v; }
  }
  return JSON.stringify(v, null, 2);
}
