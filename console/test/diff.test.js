// Unit tests of the console's pure helpers, with node's own test runner:
// node --test console/test/
import { test } from "node:test";
import assert from "node:assert/strict";
import { diffLines } from "../src/diff.js";

test("diffLines keeps common lines and marks the rest", () => {
  const rows = diffLines("a\nb\nc", "a\nx\nc");
  assert.deepEqual(rows, [
    { op: " ", line: "a" }, { op: "-", line: "b" }, { op: "+", line: "x" }, { op: " ", line: "c" },
  ]);
});

test("diffLines of equal texts has no change", () => {
  assert.ok(diffLines("one\ntwo", "one\ntwo").every((r) => r.op === " "));
});

test("diffLines handles additions at the end and removals at the start", () => {
  assert.deepEqual(diffLines("x\na", "a\nb"), [{ op: "-", line: "x" }, { op: " ", line: "a" }, { op: "+", line: "b" }]);
});

test("diffLines past its size bound replaces everything rather than stall", () => {
  const big = Array.from({ length: 2100 }, (_, i) => "l" + i).join("\n");
  const rows = diffLines(big, big + "\nend");
  assert.equal(rows.filter((r) => r.op === "-").length, 2100);
  assert.equal(rows.filter((r) => r.op === "+").length, 2101);
});
