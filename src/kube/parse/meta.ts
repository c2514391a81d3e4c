/**
 * What every parser shares: safe readers over untrusted JSON, ObjectMeta, the object key
 * the watcher stores items under, terminal-safe text, and conditions. The parsers are pure
 * and never throw: a malformed object yields `undefined` (skipped by the watcher) or a
 * value with the fields that were readable.
 */
import type { KubeCondition } from '../types.js';

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const obj = (v: unknown): Obj => (isObj(v) ? v : {});
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const MAX_TEXT = 1024;
/** Remote text for the terminal: control characters (escape sequences) out, bounded length. */
export const clip = (s: string | undefined, max = MAX_TEXT): string | undefined => {
  if (s === undefined) return undefined;
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

/**
 * Any JSON value, shown short for a problem message: a scalar quoted (clipped), a list or
 * an object named as such — never String() of an object, which throws for `{"toString": 0}`.
 */
export const shown = (v: unknown, max = 32): string =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
    ? JSON.stringify(clip(String(v), max))
    : v === null || v === undefined
      ? String(v)
      : Array.isArray(v)
        ? 'a list'
        : 'an object';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  labels: Record<string, string>;
}

export function meta(o: unknown): ObjectMeta | undefined {
  const m = obj(obj(o).metadata);
  const name = str(m.name);
  if (!name) return undefined;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(m.labels))) if (typeof v === 'string') labels[k] = v;
  const out: ObjectMeta = { name, labels };
  const ns = str(m.namespace);
  if (ns) out.namespace = ns;
  const rv = str(m.resourceVersion);
  if (rv) out.resourceVersion = rv;
  return out;
}

export function objectKey(o: unknown): string | undefined {
  const m = meta(o);
  return m ? `${m.namespace ?? ''}/${m.name}` : undefined;
}

/** `status.conditions` of a Node, Pod or CiliumBGPNodeConfig. */
export function conditions(v: unknown): KubeCondition[] {
  const out: KubeCondition[] = [];
  for (const c of arr(v)) {
    const o = obj(c);
    const type = str(o.type);
    const status = str(o.status);
    if (!type || !status) continue;
    const cond: KubeCondition = { type, status };
    const reason = str(o.reason);
    if (reason) cond.reason = clip(reason)!;
    const message = str(o.message);
    if (message) cond.message = clip(message)!;
    const t = str(o.lastTransitionTime);
    if (t) cond.lastTransitionTime = t;
    out.push(cond);
  }
  return out;
}
