// diagnosticAt puts the server's line and column (from 1) on the right span.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Text } from "@codemirror/state";
import { diagnosticAt } from "../src/editor.js";

const doc = Text.of(["function handler(w) {", "  let x = ;", "  return w;", "}"]);

test("a compile error is marked from its column to the end of its line, naming the line", () => {
  const d = diagnosticAt(doc, { line: 2, column: 11, message: "Unexpected token ;" }, "syntax");
  assert.equal(doc.lineAt(d.from).number, 2);
  assert.equal(d.from, doc.line(2).from + 10);
  assert.equal(d.to, doc.line(2).to);
  assert.equal(d.message, "Line 2, column 11: Unexpected token ;");
  assert.equal(d.severity, "error");
});

test("a line past the end is clamped to the last line, a missing column to the line start", () => {
  const d = diagnosticAt(doc, { line: 99, message: "boom" }, "test run");
  assert.equal(doc.lineAt(d.from).number, 4);
  assert.equal(d.from, doc.line(4).from);
  assert.equal(d.message, "Line 4: boom");
});
