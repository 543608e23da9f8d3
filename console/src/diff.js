// A line diff (longest common subsequence) for payloads and script versions:
// small inputs, so the plain O(n·m) table is fine; past a bound it falls back
// to "everything changed" rather than stall the page.
import { h } from "./ui.js";

const MAX_CELLS = 4_000_000;

/** diffLines returns [{op: " "|"-"|"+", line}] turning a into b. */
export function diffLines(a, b) {
  const x = a.split("\n"), y = b.split("\n");
  const n = x.length, m = y.length;
  if (n * m > MAX_CELLS) return [...x.map((line) => ({ op: "-", line })), ...y.map((line) => ({ op: "+", line }))];
  const t = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      t[i][j] = x[i] === y[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push({ op: " ", line: x[i] }); i++; j++; }
    else if (t[i + 1][j] >= t[i][j + 1]) out.push({ op: "-", line: x[i++] });
    else out.push({ op: "+", line: y[j++] });
  }
  while (i < n) out.push({ op: "-", line: x[i++] });
  while (j < m) out.push({ op: "+", line: y[j++] });
  return out;
}

/** diffView renders a diff as a <pre> with removed and added lines marked. */
export function diffView(a, b, label) {
  const rows = diffLines(a, b);
  if (rows.every((r) => r.op === " ")) return h("p", { class: "muted" }, "No differences.");
  return h("pre", { class: "diff", "aria-label": label, tabindex: 0 },
    rows.map((r) => r.op === "-" ? h("del", {}, "- " + r.line)
      : r.op === "+" ? h("ins", {}, "+ " + r.line) : h("span", {}, "  " + r.line)));
}
