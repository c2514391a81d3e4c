/**
 * The lines of the PKI details (pure): every field of the selected row, wrapped to the
 * pane's width. The details view draws them; the pane's keys bound scrolling by their count.
 */
import { SEVERITY_MARK } from '../../../src/pki/text.js';
import type { TreeRowItem } from '../../../src/pki/tree.js';
import type { PkiCheck, Severity } from '../../../src/pki/types.js';

export interface DetailLine {
  key: string;
  label: string;
  text: string;
  color?: 'bad' | 'warn' | 'accent' | 'ok' | 'dim';
  /** The live countdown line (rendered with the per-second clock). */
  countdown?: boolean;
}

export const LABEL_W = 13;

/** Word-wrap `text` to `width` columns (long words are cut). */
function wrap(text: string, width: number): string[] {
  if (width <= 0) return [text];
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      let w = word;
      while ([...w].length > width) {
        if (line) {
          out.push(line);
          line = '';
        }
        out.push([...w].slice(0, width).join(''));
        w = [...w].slice(width).join('');
      }
      if (!line) line = w;
      else if ([...line].length + 1 + [...w].length <= width) line += ` ${w}`;
      else {
        out.push(line);
        line = w;
      }
    }
    out.push(line);
  }
  return out;
}

const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');
const sevColor = (s: Severity): DetailLine['color'] =>
  s === 'critical' ? 'bad' : s === 'warning' ? 'warn' : 'accent';

/** Every line of the details of `item`, wrapped to `width` (shared with the App for scrolling). */
export function detailLines(item: TreeRowItem, width: number): DetailLine[] {
  const textW = Math.max(10, width - LABEL_W);
  const raw: Array<Omit<DetailLine, 'key'>> = [];
  const add = (label: string, text: string, color?: DetailLine['color']) =>
    raw.push(color ? { label, text, color } : { label, text });
  const checks = (list: readonly PkiCheck[]) => {
    if (list.length === 0) add('checks', `${SEVERITY_MARK.ok} every check passed`, 'ok');
    for (const c of list)
      add(
        'checks',
        `${SEVERITY_MARK[c.severity]} ${c.severity} ${c.id} (${c.node} ${c.path}): ${c.message}`,
        sevColor(c.severity),
      );
  };
  switch (item.kind) {
    case 'cert': {
      const c = item.cert;
      add('subject', c.subject);
      add(
        'issuer',
        `${c.issuer} (chain ${item.chain})`,
        item.chain === 'verified' || item.chain === 'self-signed' ? undefined : 'bad',
      );
      add('serial', c.serial);
      add(
        'role',
        `${item.role}${c.isCA ? `, CA${c.pathLen !== undefined ? ` pathlen ${c.pathLen}` : ''}` : ''}`,
      );
      add('key', `${c.keyAlgorithm}${c.curve ? ` ${c.curve}` : ''} · ${c.signatureAlgorithm}`);
      const sans = [...c.dnsNames.map((d) => `DNS:${d}`), ...c.ipAddresses.map((i) => `IP:${i}`)];
      add('SANs', sans.length ? sans.join(', ') : '—');
      add('key usages', c.keyUsages.length ? c.keyUsages.join(', ') : '—');
      add('EKUs', c.extKeyUsages.length ? c.extKeyUsages.join(', ') : '—');
      add('not before', iso(c.notBefore));
      add('not after', iso(c.notAfter));
      raw.push({ label: 'expires in', text: '', countdown: true });
      add('fingerprint', `SHA-256 ${c.fingerprint}`);
      if (c.spkiSha256) add('public key', `SHA-256 ${c.spkiSha256}`);
      for (const l of item.locations)
        add('location', `${l.node} ${l.path}${l.index > 0 ? ` (#${l.index + 1} in file)` : ''}`);
      checks(item.checks);
      break;
    }
    case 'file':
      add('node', item.node);
      add('path', item.path);
      checks(item.checks);
      break;
    case 'node':
      add('node', item.node);
      add('problem', item.message, 'bad');
      break;
    case 'missing':
      add('subject', item.subject);
      add('status', 'on no node (an offline root, or a missing intermediate)', 'dim');
      add('issues', `${item.children.length} certificate(s) here`);
      break;
    case 'group':
      add('group', item.title);
      break;
  }
  const out: DetailLine[] = [];
  raw.forEach((r, i) => {
    if (r.countdown) {
      out.push({ ...r, key: `${i}` });
      return;
    }
    wrap(r.text, textW).forEach((t, j) => {
      out.push({ ...r, key: `${i}.${j}`, label: j === 0 ? r.label : '', text: t });
    });
  });
  return out;
}

/** Lines of the details area (title and hint take two). */
export const detailHeight = (height: number): number => Math.max(1, height - 2);
