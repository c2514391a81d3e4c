/**
 * PEM splitting (RFC 7468, lax on whitespace and on text between blocks).
 * Pure: never throws; every problem is a PemBlockError value.
 */
import type { PemBlockError } from './types.js';

export interface PemBlock {
  /** The label between `BEGIN ` and `-----`, e.g. `CERTIFICATE`. */
  label: string;
  der: Uint8Array;
  /** 1-based index of the block in the file (counting every BEGIN line). */
  index: number;
}

export interface PemSplit {
  blocks: PemBlock[];
  errors: PemBlockError[];
}

const BEGIN_RE = /^-----BEGIN ([^-]*(?:-[^-]+)*)-----$/;
const END_RE = /^-----END ([^-]*(?:-[^-]+)*)-----$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
/** RFC 1421 headers that may precede the body of legacy encrypted keys. */
const HEADER_RE = /^[A-Za-z][A-Za-z0-9-]*:/;

interface OpenBlock {
  label: string;
  index: number;
  line: number;
  body: string[];
  inHeaders: boolean;
}

function looksBinary(text: string): boolean {
  const sample = text.slice(0, 512);
  let odd = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffd) odd++;
  }
  return odd > 0;
}

function decodeBody(open: OpenBlock): { der: Uint8Array } | { error: string } {
  const b64 = open.body.join('');
  if (b64.length === 0) return { error: `${open.label} block has no data` };
  if (!BASE64_RE.test(b64)) return { error: `${open.label} block: invalid base64 characters` };
  if (b64.length % 4 !== 0) {
    return { error: `${open.label} block: base64 length ${b64.length} is not a multiple of 4` };
  }
  const buf = Buffer.from(b64, 'base64');
  return { der: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
}

/** Split a PEM file (one block or a bundle) into DER blocks. */
export function splitPem(text: string): PemSplit {
  const blocks: PemBlock[] = [];
  const errors: PemBlockError[] = [];
  if (typeof text !== 'string' || text.trim().length === 0) {
    return { blocks, errors: [{ block: 0, message: 'empty file' }] };
  }
  const lines = text.split(/\r\n|\r|\n/);
  let open: OpenBlock | undefined;
  let count = 0;

  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    const lineNo = i + 1;
    const begin = BEGIN_RE.exec(line);
    if (begin) {
      if (open) {
        errors.push({
          block: open.index,
          message: `${open.label} block starting at line ${open.line} is not terminated (BEGIN at line ${lineNo} before its END)`,
        });
      }
      count++;
      open = { label: begin[1] ?? '', index: count, line: lineNo, body: [], inHeaders: true };
      continue;
    }
    const end = END_RE.exec(line);
    if (end) {
      const label = end[1] ?? '';
      if (!open) {
        errors.push({ block: 0, message: `line ${lineNo}: END ${label} without a BEGIN` });
        continue;
      }
      if (label !== open.label) {
        errors.push({
          block: open.index,
          message: `BEGIN ${open.label} (line ${open.line}) ends with END ${label} (line ${lineNo})`,
        });
      } else {
        const decoded = decodeBody(open);
        if ('der' in decoded)
          blocks.push({ label: open.label, der: decoded.der, index: open.index });
        else errors.push({ block: open.index, message: decoded.error });
      }
      open = undefined;
      continue;
    }
    if (!open) continue; // text between blocks (comments, openssl "Bag Attributes", …)
    if (line.length === 0) {
      open.inHeaders = false;
      continue;
    }
    if (open.inHeaders && HEADER_RE.test(line)) continue;
    open.inHeaders = false;
    // Tolerate inner whitespace (some tools wrap with spaces); base64 itself has none.
    open.body.push(line.replace(/\s+/g, ''));
  }

  if (open) {
    errors.push({
      block: open.index,
      message: `${open.label} block starting at line ${open.line} is truncated (no END line)`,
    });
  }
  if (count === 0 && errors.length === 0) {
    errors.push({
      block: 0,
      message: looksBinary(text) ? 'no PEM blocks (binary data; DER?)' : 'no PEM blocks',
    });
  }
  return { blocks, errors };
}
