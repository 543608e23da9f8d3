package transformer

// preludeJS runs once when a runtime is created, before any merchant code.
// It is called with the console object, the read-only helpers and the size
// caps, and returns the two functions the engine drives every run with:
//
//   - run(wrapper, method, url, eventType, payload, env) calls the
//     script's wrapper to get a fresh handler, calls it, and reduces the
//     result to plain values (a status array; for a request, the method,
//     URL and header strings handed to report, and the payload's JSON bytes
//     written by encodePayload) so that Go never reads a script-owned
//     object and so never triggers a script getter outside the guarded
//     call.
//   - describe(thrown) renders a thrown value as "Name: message" without
//     letting a hostile toString escape.
//
// After it returns the runtime's built-ins and global object are frozen, so
// a run cannot leave behind a mutated prototype or global for the next run.
const preludeJS = `(function (consoleObj, helpers, MAX_STR, MAX_ARR, LIMIT_MARKER, newGuard, BIGINT_REFUSAL, encodePayload, report) {
'use strict';
const G = globalThis;
const apply = Reflect.apply, Reflect_apply = Reflect.apply, defineProperty = Object.defineProperty,
  getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor,
  getPrototypeOf = Object.getPrototypeOf, ownKeys = Reflect.ownKeys,
  freeze = Object.freeze, objectKeys = Object.keys, isArray = Array.isArray,
  StringCtor = String, PromiseCtor = Promise, MathTrunc = Math.trunc, NumberCtor = Number;

function method(obj, name, fn) {
  defineProperty(obj, name, { value: fn, writable: true, enumerable: false, configurable: true });
}
function lengthOf(o) {
  const n = NumberCtor(o.length);
  return n > 0 ? MathTrunc(n) : 0;
}
function tooLong(what) {
  return new RangeError(what + ' ' + LIMIT_MARKER);
}

// Size caps on the built-ins that can build a huge value in one native call,
// where the wall-time interrupt cannot reach.
const origRepeat = String.prototype.repeat;
method(String.prototype, 'repeat', function repeat(count) {
  if (this === undefined || this === null) return apply(origRepeat, this, [count]);
  const s = StringCtor(this);
  const n = MathTrunc(NumberCtor(count));
  if (n > 0 && s.length * n > MAX_STR) throw tooLong('String.prototype.repeat result');
  return apply(origRepeat, s, [count]);
});
for (const name of ['padStart', 'padEnd']) {
  const orig = String.prototype[name];
  method(String.prototype, name, { [name](maxLength, fill) {
    if (NumberCtor(maxLength) > MAX_STR) throw tooLong('String.prototype.' + name + ' result');
    return apply(orig, this, arguments);
  } }[name]);
}
const origJoin = Array.prototype.join, origPush = Array.prototype.push;
method(Array.prototype, 'join', function join(separator) {
  const o = Object(this);
  const len = lengthOf(o);
  if (len > MAX_ARR) throw tooLong('Array.prototype.join length');
  const sep = separator === undefined ? ',' : StringCtor(separator);
  let total = len > 0 ? sep.length * (len - 1) : 0;
  if (total > MAX_STR) throw tooLong('Array.prototype.join result');
  const parts = [];
  for (let i = 0; i < len; i++) {
    const v = o[i];
    const p = v === undefined || v === null ? '' : StringCtor(v);
    total += p.length;
    if (total > MAX_STR) throw tooLong('Array.prototype.join result');
    apply(origPush, parts, [p]);
  }
  return apply(origJoin, parts, [sep]);
});
// goja's native array methods walk every index up to length, holes
// included, without checking the interrupt: on a sparse array of length
// 2**32-1 one indexOf runs for minutes and one JSON.stringify needs 20 GB.
// Every built-in that walks, copies or spreads an array-like by its length
// refuses lengths above MAX_ARR first.
const ArrayProto = Array.prototype;
// The Array methods whose result is the same with an absent argument as
// with an undefined one (not lastIndexOf, reduce, splice, ...).
const twoArgs = new Set(['includes', 'indexOf', 'find', 'findIndex', 'findLast', 'findLastIndex', 'some', 'every',
  'forEach', 'map', 'filter']);
function capLength(o, what) {
  if (o !== null && o !== undefined && lengthOf(Object(o)) > MAX_ARR) throw tooLong(what + ' length');
}
for (const name of ['concat', 'copyWithin', 'every', 'fill', 'filter', 'find', 'findIndex', 'findLast',
  'findLastIndex', 'forEach', 'includes', 'indexOf', 'lastIndexOf', 'map', 'reduce', 'reduceRight', 'reverse',
  'shift', 'slice', 'some', 'sort', 'splice', 'toLocaleString', 'toReversed', 'toSorted', 'toSpliced', 'unshift',
  'with', 'keys', 'entries']) {
  const orig = ArrayProto[name];
  if (typeof orig !== 'function') continue;
  const what = 'Array.prototype.' + name;
  let wrapped;
  if (name === 'concat') {
    wrapped = { concat() {
      capLength(this, what);
      for (let i = 0; i < arguments.length; i++) if (isArray(arguments[i])) capLength(arguments[i], what);
      return apply(orig, this, arguments);
    } }.concat;
  } else if (twoArgs.has(name)) {
    // Methods that treat a missing argument as undefined take a fixed
    // pair: no arguments object and no argument list per call.
    wrapped = { [name](a, b) { capLength(this, what); return orig.call(this, a, b); } }[name];
  } else {
    wrapped = { [name]() { capLength(this, what); return apply(orig, this, arguments); } }[name];
  }
  method(ArrayProto, name, wrapped);
}
// values is also Array.prototype[Symbol.iterator], used by spread, for-of,
// destructuring, Array.from, new Set(...) and friends.
const origValues = ArrayProto.values;
const values = function values() { capLength(this, 'array iteration'); return apply(origValues, this, []); };
method(ArrayProto, 'values', values);
method(ArrayProto, Symbol.iterator, values);
const flat = function flat(depth) {
  const d = depth === undefined ? 1 : MathTrunc(NumberCtor(depth)) || 0;
  const out = [];
  const rec = function (a, d) {
    const n = lengthOf(a);
    if (n > MAX_ARR) throw tooLong('Array.prototype.flat length');
    for (let i = 0; i < n; i++) {
      if (!(i in a)) continue;
      const v = a[i];
      if (d > 0 && isArray(v)) rec(v, d - 1); else apply(origPush, out, [v]);
      if (out.length > MAX_ARR) throw tooLong('Array.prototype.flat result');
    }
  };
  rec(Object(this), d);
  return out;
};
method(ArrayProto, 'flat', flat);
const wrappedMap = ArrayProto.map;
method(ArrayProto, 'flatMap', function flatMap(fn, thisArg) {
  return apply(flat, apply(wrappedMap, this, [fn, thisArg]), [1]);
});
const origFrom = Array.from;
method(Array, 'from', function from(items) {
  capLength(items, 'Array.from');
  return apply(origFrom, this, arguments);
});
const FunctionProtoApply = Function.prototype.apply;
method(Function.prototype, 'apply', { apply(thisArg, args) {
  capLength(args, 'Function.prototype.apply arguments');
  return Reflect_apply(FunctionProtoApply, this, [thisArg, args]);
} }.apply);
for (const name of ['apply', 'construct']) {
  const orig = Reflect[name];
  method(Reflect, name, { [name](target, thisOrArgs, args) {
    capLength(name === 'apply' ? args : thisOrArgs, 'Reflect.' + name + ' arguments');
    return Reflect_apply(orig, Reflect, arguments);
  } }[name]);
}
// String replacement patterns amplify in native code too: $& by the match,
// and $' (or its mirror, the prefix) and a capture inside a lookaround by
// the whole string, per
// match. A replacement with a '$' is expanded here instead (as goja's
// writeSubstitution does), one match at a time, counting the result.
function substituter(rs, base, what) {
  let total = base;
  const add = function (s) {
    total += s.length;
    if (total > MAX_STR) throw tooLong(what + ' result');
    return s;
  };
  return function () {
    let last = arguments.length - 1, groups;
    if (typeof arguments[last] !== 'string') { groups = arguments[last]; last--; }
    const str = arguments[last], position = arguments[last - 1], numCaptures = last - 1;
    const matched = arguments[0], tailPos = position + matched.length;
    const args = arguments;
    const capture = function (i) { const c = args[i]; return c === undefined ? '' : StringCtor(c); };
    let out = '';
    const rl = rs.length;
    for (let i = 0; i < rl; i++) {
      const c = rs[i];
      if (c !== '$' || i === rl - 1) { out += add(c); continue; }
      const ch = rs[i + 1];
      if (ch === '$') out += add('$');
      else if (ch === '\x60') out += add(apply(StringSlice, str, [0, position]));
      else if (ch === "'") out += add(tailPos < str.length ? apply(StringSlice, str, [tailPos]) : '');
      else if (ch === '&') out += add(matched);
      else if (ch === '<') {
        const j = apply(StringIndexOf, rs, ['>', i + 2]);
        if (j >= 0 && groups !== undefined) {
          const g = groups[apply(StringSlice, rs, [i + 2, j])];
          out += add(g === undefined ? '' : StringCtor(g));
          i = j;
          continue;
        }
        out += add('$<');
      } else {
        let index = 0, j = i + 1;
        const lim = j + 2 < rl ? j + 2 : rl;
        for (; j < lim; j++) {
          const d = rs[j];
          if (d < '0' || d > '9') break;
          const m = index * 10 + (d.charCodeAt(0) - 48);
          if (m >= numCaptures) break;
          index = m;
        }
        if (index > 0) { out += add(capture(index)); i = j - 1; continue; }
        out += add('$' + ch);
      }
      i++;
    }
    return out;
  };
}
const StringSlice = String.prototype.slice, StringIndexOf = String.prototype.indexOf,
  StringIncludes = String.prototype.includes;
for (const name of ['replace', 'replaceAll']) {
  const orig = String.prototype[name];
  const what = 'String.prototype.' + name;
  method(String.prototype, name, { [name](pattern, replacement) {
    if (typeof replacement === 'string' && this !== null && this !== undefined) {
      const len = StringCtor(this).length;
      if ((pattern === null || (typeof pattern !== 'object' && typeof pattern !== 'function')) &&
          apply(StringIncludes, replacement, ['$'])) {
        return apply(orig, this, [pattern, substituter(replacement, len, what)]);
      }
      if (replacement.length > 1 && len * replacement.length > MAX_STR) throw tooLong(what + ' result');
    }
    return apply(orig, this, arguments);
  } }[name]);
}
// String.prototype.replace hands a RegExp pattern to this method, which a
// script can also call directly.
const origSymReplace = RegExp.prototype[Symbol.replace];
method(RegExp.prototype, Symbol.replace, { [Symbol.replace](string, replaceValue) {
  if (typeof replaceValue !== 'function') {
    const s = StringCtor(string), rs = StringCtor(replaceValue);
    if (apply(StringIncludes, rs, ['$'])) {
      return apply(origSymReplace, this, [s, substituter(rs, s.length, 'RegExp.prototype[Symbol.replace]')]);
    }
    if (rs.length > 1 && s.length * rs.length > MAX_STR) throw tooLong('RegExp.prototype[Symbol.replace] result');
    return apply(origSymReplace, this, [s, rs]);
  }
  return apply(origSymReplace, this, arguments);
} }[Symbol.replace]);
// concat and String.raw join any number of strings in one native call.
const origConcat = String.prototype.concat;
method(String.prototype, 'concat', function concat() {
  if (this === undefined || this === null) return apply(origConcat, this, arguments);
  const parts = [StringCtor(this)];
  let total = parts[0].length;
  for (let i = 0; i < arguments.length; i++) {
    const p = StringCtor(arguments[i]);
    total += p.length;
    if (total > MAX_STR) throw tooLong('String.prototype.concat result');
    apply(origPush, parts, [p]);
  }
  return apply(origJoin, parts, ['']);
});
method(String, 'raw', function raw(template) {
  if (template === undefined || template === null) throw new TypeError('String.raw needs a template object');
  const rv = Object(template).raw;
  if (rv === undefined || rv === null) throw new TypeError('String.raw needs a template object with raw');
  const r = Object(rv);
  const n = lengthOf(r);
  if (n > MAX_ARR) throw tooLong('String.raw length');
  let out = '';
  for (let i = 0; i < n; i++) {
    const p = StringCtor(r[i]);
    if (out.length + p.length > MAX_STR) throw tooLong('String.raw result');
    out += p;
    if (i + 1 === n) break;
    if (i + 1 < arguments.length) {
      const sub = StringCtor(arguments[i + 1]);
      if (out.length + sub.length > MAX_STR) throw tooLong('String.raw result');
      out += sub;
    }
  }
  return out;
});
// JSON.stringify walks arrays natively; a replacer runs for every value,
// after toJSON, so it can refuse a huge array before it is walked and keep a
// running total of the output size. Without a script replacer the guard is
// newGuard's, in Go, which is much cheaper to call than a JS function.
const origStringify = JSON.stringify;
// With indentation (space) every value's line repeats the indent of its
// depth, so the guard also counts the indent: the JS guard keeps each
// holder's depth.
const NumberProto = Number.prototype, StringProto = String.prototype, isPrototypeOf = Object.prototype.isPrototypeOf;
function gapOf(space) {
  if (typeof space === 'object' && space !== null) {
    if (apply(isPrototypeOf, NumberProto, [space])) space = NumberCtor(space);
    else if (apply(isPrototypeOf, StringProto, [space])) space = StringCtor(space);
  }
  if (typeof space === 'number') {
    const n = MathTrunc(space);
    return n >= 1 ? (n > 10 ? 10 : n) : 0;
  }
  if (typeof space === 'string') return space.length > 10 ? 10 : space.length;
  return 0;
}
const stringify = function stringify(value, replacer, space) {
  const gap = gapOf(space);
  if ((replacer === undefined || replacer === null) && gap === 0) {
    return apply(origStringify, JSON, [value, newGuard(), space]);
  }
  let total = 0;
  const user = typeof replacer === 'function' ? replacer : null;
  const allow = isArray(replacer) ? new Set(apply(wrappedMap, replacer, [StringCtor])) : null;
  const depths = gap === 0 ? null : new Map();
  const guard = function (k, v) {
    if (allow !== null && k !== '' && !isArray(this) && !allow.has(k)) return undefined;
    if (user !== null) v = apply(user, this, [k, v]);
    if (typeof v === 'string') total += v.length;
    else if (isArray(v)) capLength(v, 'JSON.stringify array');
    total += k.length + 8;
    if (depths !== null) {
      const d = depths.get(this) || 0;
      total += gap * d + 2; // its line
      if (v !== null && typeof v === 'object') {
        total += gap * d + 1; // its closing line
        depths.set(v, d + 1);
      }
    }
    if (total > MAX_STR) throw tooLong('JSON.stringify result');
    return v;
  };
  return apply(origStringify, JSON, [value, guard, space]);
};
method(JSON, 'stringify', stringify);

// No code generation from strings: an indirect eval or new Function could
// declare global lexical bindings, which live in the runtime, not in the
// per-run global object, and would outlive the run.
function noCodegen() { throw new EvalError('code generation from strings is disabled in transforms'); }
const FunctionProto = Function.prototype;
for (const proto of [FunctionProto, getPrototypeOf(function* () {}), getPrototypeOf(async function () {})]) {
  const stub = function () { noCodegen(); };
  defineProperty(stub, 'prototype', { value: proto });
  defineProperty(proto, 'constructor', { value: stub });
  if (proto === FunctionProto) defineProperty(G, 'Function', { value: stub });
}
delete G.eval;

// Binary buffers can allocate gigabytes in one constructor call and no
// transform needs them.
for (const name of ['ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array',
  'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float16Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'WebAssembly', 'Atomics']) {
  delete G[name];
}

// No BigInt (see bigint.go): literals are refused at compile time, and the
// one function that makes a BigInt from a number or string throws.
const noBigInt = function BigInt(value) { throw new TypeError(BIGINT_REFUSAL); };
defineProperty(G, 'BigInt', { value: noBigInt, writable: false, enumerable: false, configurable: false });

defineProperty(G, 'console', { value: consoleObj, writable: false, enumerable: false, configurable: false });
for (const k of ownKeys(helpers)) {
  defineProperty(G, k, { value: helpers[k], writable: false, enumerable: false, configurable: false });
}

// Freezing Object.prototype and friends turns "obj.toString = f" on an
// ordinary object into a TypeError (the "override mistake"). Keep the
// assignment working for the names scripts commonly assign, by making them
// accessors that define an own property on the receiver.
function enableOverride(obj, name) {
  const d = getOwnPropertyDescriptor(obj, name);
  if (!d || !('value' in d)) return;
  const value = d.value;
  defineProperty(obj, name, {
    get() { return value; },
    set(v) {
      if (this === obj) throw new TypeError('Cannot assign to read only property ' + StringCtor(name) + ' of a built-in');
      defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
    },
    enumerable: d.enumerable, configurable: false,
  });
}
for (const n of ['constructor', 'toString', 'valueOf', 'toLocaleString', 'hasOwnProperty',
  'isPrototypeOf', 'propertyIsEnumerable']) enableOverride(Object.prototype, n);
for (const E of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
  for (const n of ['name', 'message', 'constructor', 'toString']) enableOverride(E.prototype, n);
}
enableOverride(FunctionProto, 'toString');
enableOverride(Array.prototype, 'toString');

const runFn = function run(wrapper, method, url, eventType, payload, env) {
  const webhook = { method: method, url: url, payload: payload, eventType: eventType, env: env };
  const handler = wrapper();
  if (typeof handler !== 'function') return NOHANDLER;
  const out = handler(webhook);
  if (out === undefined || out === null) return CANCEL;
  if (out instanceof PromiseCtor) return ['invalid', 'handler must return the webhook itself, not a Promise: async handlers are not supported'];
  if (typeof out !== 'object' || isArray(out)) {
    return ['invalid', 'handler must return the webhook object (or null to cancel), got ' + (isArray(out) ? 'an array' : typeof out)];
  }
  const cancel = out.cancel;
  if (cancel !== undefined && cancel !== null && typeof cancel !== 'boolean') {
    return ['invalid', 'cancel must be a boolean, got ' + typeof cancel];
  }
  if (cancel === true) return CANCEL;
  const m = out.method, u = out.url, h = out.headers, p = out.payload;
  if (m !== undefined && typeof m !== 'string') return ['invalid', 'method must be a string, got ' + typeof m];
  if (u !== undefined && typeof u !== 'string') return ['invalid', 'url must be a string, got ' + typeof u];
  const hasHeaders = h !== undefined && h !== null;
  if (hasHeaders) {
    if (typeof h !== 'object' || isArray(h)) return ['invalid', 'headers must be an object of strings'];
    const hk = objectKeys(h); // an index loop: for-of makes an iterator result per key
    for (let i = 0; i < hk.length; i++) {
      const k = hk[i], v = h[k];
      if (typeof v !== 'string') return ['invalid', 'header ' + stringify(k) + ' must be a string, got ' + typeof v];
      report.header(k, v);
    }
  }
  if (p === undefined || typeof p === 'function' || typeof p === 'symbol') {
    return ['invalid', 'payload must be a JSON value, got ' + typeof p];
  }
  let encoded;
  try {
    encoded = encodePayload(p); // JSON.stringify's bytes, kept in Go (output.go)
  } catch (e) {
    return ['invalid', 'payload cannot be encoded as JSON: ' + describeFn(e)];
  }
  if (!encoded) return ['invalid', 'payload cannot be encoded as JSON'];
  report.request(m, u, hasHeaders);
  return OK;
};
// The constant answers of run(), made once (frozen below with the rest).
const OK = ['ok'], CANCEL = ['cancel'], NOHANDLER = ['nohandler'];

const describeFn = function describe(e) {
  try {
    if (e !== null && typeof e === 'object') {
      const name = e.name, msg = e.message;
      if (typeof msg === 'string') {
        return (typeof name === 'string' && name !== '' ? name + ': ' : '') + msg;
      }
      return stringify(e) || StringCtor(e);
    }
    return StringCtor(e);
  } catch (_) {
    return 'uncaught exception (not printable)';
  }
};

// Freeze every intrinsic reachable from the global object, plus the
// intrinsics only reachable through instances (iterator and generator
// prototypes).
const roots = [G, getPrototypeOf(function* () {}), getPrototypeOf(async function () {}),
  getPrototypeOf([][Symbol.iterator]()),
  getPrototypeOf(new Map()[Symbol.iterator]()), getPrototypeOf(new Set()[Symbol.iterator]()),
  getPrototypeOf(''[Symbol.iterator]()), getPrototypeOf('a'.matchAll(/a/g)), runFn, describeFn, stringify,
  OK, CANCEL, NOHANDLER, report];
const seen = new Set();
while (roots.length) {
  const o = roots.pop();
  if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
  seen.add(o);
  apply(origPush, roots, [getPrototypeOf(o)]);
  for (const k of ownKeys(o)) {
    const d = getOwnPropertyDescriptor(o, k);
    if ('value' in d) apply(origPush, roots, [d.value]);
    else apply(origPush, roots, [d.get, d.set]);
  }
  freeze(o);
}
return [runFn, describeFn, stringify];
})`
