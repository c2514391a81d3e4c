/**
 * The one sanitiser for text from outside (node output, certificate fields, file names,
 * kube payloads, inventory text in error messages): every character that can drive a
 * terminal or reorder what it shows — C0 controls (newline and tab included: a field is
 * one line), DEL, C1 controls, the bidi embeddings/overrides/isolates and marks, the line
 * and paragraph separators — becomes a visible escape (`\x1b`, `\x9b`, `\u202e`). Applied
 * where data enters the model (the session wraps every source), so no raw control byte
 * reaches a terminal, a JSON document, a metrics file or a forged line of output.
 */

// C0, DEL, C1; ALM; LRM, RLM; LS, PS; LRE…RLO; LRI…PDI.
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_TEST = new RegExp(UNSAFE.source);

const escapeChar = (c: string): string => {
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** Whether `s` holds a character the sanitiser would escape. */
export const hasUnsafeText = (s: string): boolean => UNSAFE_TEST.test(s);

/** `s` with every unsafe character shown as a visible escape; `s` itself when clean. */
export function visible(s: string): string {
  return UNSAFE_TEST.test(s) ? s.replace(UNSAFE, escapeChar) : s;
}

/**
 * `v` with every string inside it (object values, array items; not keys of plain data
 * that k8ops builds) made visible. Copy on write: the same object comes back when nothing
 * needed escaping, so snapshots keep their identity; anything but plain objects, arrays
 * and strings (numbers, buffers, class instances) is returned as is.
 */
export function visibleDeep<T>(v: T, depth = 0): T {
  if (typeof v === 'string') return visible(v) as T;
  if (v === null || typeof v !== 'object' || depth > 32) return v;
  if (known.has(v)) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const item = v[i] as unknown;
      const clean = visibleDeep(item, depth + 1);
      if (clean !== item) {
        out ??= v.slice();
        out[i] = clean;
      }
    }
    return (out ?? v) as T;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  let out: Record<string, unknown> | undefined;
  for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
    const clean = visibleDeep(item, depth + 1);
    if (clean !== item) {
      out ??= { ...(v as Record<string, unknown>) };
      out[k] = clean;
    }
  }
  if (!out) return v;
  return (Object.isFrozen(v) ? Object.freeze(out) : out) as T;
}

/** Objects `visibleOnce` made visible: a later `visibleDeep` returns them as they are. */
const known = new WeakSet<object>();

/**
 * `visibleDeep(v)`, remembered: a later `visibleDeep` of the result, of any plain object or
 * array in it, or of an object that holds them, does not walk them again (a stream's
 * snapshots share most of their rows; a snapshot is re-sent while nobody shows it). What
 * it returns must not be changed afterwards: nothing in it is checked again.
 */
export function visibleOnce<T extends object>(v: T): T {
  const clean = visibleDeep(v);
  remember(clean, 0);
  return clean;
}

function remember(v: unknown, depth: number): void {
  if (v === null || typeof v !== 'object' || depth > 32 || known.has(v)) return;
  if (Array.isArray(v)) {
    for (const item of v) remember(item, depth + 1);
  } else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return;
    for (const k in v) remember((v as Record<string, unknown>)[k], depth + 1);
  }
  known.add(v);
}

// DEL, C1, and the bidi/separator characters: JSON.stringify leaves them raw.
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON text for output: JSON.stringify escapes C0 but leaves DEL, C1 and the bidi
 * characters raw; they are written as `\uXXXX` here (the same string when parsed).
 */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    JSON_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
