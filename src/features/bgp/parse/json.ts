/** JSON text → a value, or why not (never throws). */
import type { Parsed } from '../types.js';

export function parseJson(text: unknown, what: string): Parsed<unknown> {
  if (typeof text !== 'string') return { ok: false, error: `${what}: no text` };
  const t = text.trim();
  if (t === '') return { ok: false, error: `${what}: empty output` };
  try {
    return { ok: true, value: JSON.parse(t) };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, error: `${what}: not JSON (${msg.slice(0, 120)})` };
  }
}

/** An IPv4/IPv6 address or prefix as printed by the daemons (loose; nothing else passes). */
export const isAddressLike = (s: unknown): s is string =>
  typeof s === 'string' &&
  s.length <= 64 &&
  /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(s) &&
  /[.:]/.test(s);
