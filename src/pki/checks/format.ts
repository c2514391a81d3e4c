/** Small formatters shared by the check groups' messages. */
import { posix } from 'node:path';
import type { CertSummary } from '../types.js';

export const base = (p: string): string => posix.basename(p);
export const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');
export const octal = (m: number): string => m.toString(8).padStart(4, '0');
export const short = (hex: string): string => `${hex.slice(0, 12)}…`;
export const list = (xs: readonly string[]): string => xs.join(', ');
export const cnOf = (c: CertSummary): string => c.commonName ?? c.subject;
