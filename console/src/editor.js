// The transform editor: CodeMirror 6 with JavaScript, line numbers, bracket
// matching, and lint diagnostics from the server's own compiler, so what the
// editor accepts is what a save accepts.
import { EditorView, basicSetup } from "codemirror";
import { javascript } from "@codemirror/lang-javascript";
import { linter, lintGutter, forceLinting } from "@codemirror/lint";
import { keymap } from "@codemirror/view";
import { Prec } from "@codemirror/state";

/** nonce is the CSP nonce the server put in the page, for CodeMirror's one <style> element. */
function nonce() {
  const m = document.querySelector('meta[name="csp-nonce"]');
  const v = m ? m.getAttribute("content") : "";
  return v && !v.startsWith("__") ? v : "";
}

/** diagnosticAt turns a transform error (line, column from 1) into a CodeMirror diagnostic. */
export function diagnosticAt(doc, err, source) {
  const lineNo = Math.min(Math.max(err.line || 1, 1), doc.lines);
  const line = doc.line(lineNo);
  const from = Math.min(line.from + Math.max((err.column || 1) - 1, 0), line.to);
  const to = from < line.to ? line.to : Math.min(from + 1, doc.length);
  return { from, to, severity: "error", source, message: `Line ${lineNo}${err.column ? ", column " + err.column : ""}: ${err.message}` };
}

/**
 * createEditor mounts the editor. check(code) resolves to a transform error
 * ({line, column, message}) or null; it runs debounced as the merchant types.
 * runtimeError() gives the last test run's error for the current code, if any;
 * onLint(diagnostics) lets the page repeat them in words beside the editor.
 */
export function createEditor(parent, { code, check, runtimeError, onChange, onRun, onSave, onLint }) {
  const lint = linter(async (view) => {
    const current = view.state.doc.toString();
    const err = await check(current);
    if (view.state.doc.toString() !== current) return [];
    const rt = err ? null : runtimeError(current);
    const diags = err ? [diagnosticAt(view.state.doc, err, "syntax")] : rt ? [diagnosticAt(view.state.doc, rt, "test run")] : [];
    onLint(diags);
    return diags;
  }, { delay: 500 });
  const keys = Prec.highest(keymap.of([
    { key: "Mod-Enter", run: () => { onRun(); return true; }, preventDefault: true },
    { key: "Mod-s", run: () => { onSave(); return true; }, preventDefault: true },
  ]));
  const extensions = [basicSetup, javascript(), lint, lintGutter(), keys,
    EditorView.updateListener.of((u) => { if (u.docChanged) onChange(u.state.doc.toString()); }),
    EditorView.contentAttributes.of({ "aria-label": "Transform script" })];
  const n = nonce();
  if (n) extensions.push(EditorView.cspNonce.of(n));
  const view = new EditorView({ doc: code, parent, extensions });
  return {
    view,
    get code() { return view.state.doc.toString(); },
    set(code) { view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: code } }); },
    relint() { forceLinting(view); },
    destroy() { view.destroy(); },
  };
}
