/**
 * The PKI pane: the certificate tree (root → intermediates → leaves, each certificate once
 * with the node and file it lives in), a check-severity marker per row, live countdowns
 * (the selected row ticks every second, the others every minute, from the one shared
 * clock), and the details of the selected row (Enter; j/k scroll; Esc closes). Capped to
 * its height; only the visible window of rows is rendered.
 */
import { Box, Text } from 'ink';
import { memo } from 'react';
import {
  formatCountdown,
  formatCountdownCoarse,
  renewWindowMs,
  type Urgency,
  urgency,
} from '../../src/pki/expiry.js';
import type { PkiReport } from '../../src/pki/report.js';
import { rowLabel, rowSeverity, SEVERITY_MARK, whereText } from '../../src/pki/text.js';
import type { TreeCert, TreeRow, TreeRowItem } from '../../src/pki/tree.js';
import type { PkiCheck, Severity } from '../../src/pki/types.js';
import type { Clock } from '../../src/store/clock.js';
import { windowStart } from '../components/Table.js';
import { useNow } from '../hooks/useClock.js';
import { type Theme, useTheme } from '../theme.js';

export interface PkiPaneProps {
  report: PkiReport;
  /** Visible rows (sorted, filtered) in display order. */
  rows: readonly TreeRow[];
  /** Key of the selected row (the first row when undefined). */
  selected?: string;
  order: 'tree' | 'worst';
  filter: string;
  detail: boolean;
  scroll: number;
  clock: Clock;
  /** The inventory's renew window for leaves (undefined: one third of the lifetime). */
  renewBeforeMs?: number;
  width: number;
  height: number;
}

const severityColor = (theme: Theme, s: Severity | 'ok' | undefined): string | undefined =>
  s === 'critical'
    ? theme.bad
    : s === 'warning'
      ? theme.warn
      : s === 'info'
        ? theme.accent
        : s === 'ok'
          ? theme.ok
          : theme.dim;

const urgencyColor = (theme: Theme, u: Urgency): string | undefined =>
  u === 'expired' ? theme.bad : u === 'renew' ? theme.warn : u === 'soon' ? theme.accent : theme.ok;

/** The renew window the countdown colour uses: leaves per inventory, CAs per design. */
function certUrgency(t: TreeCert, now: number, renewBeforeMs: number | undefined): Urgency {
  return urgency(t.cert, now, renewWindowMs(t.role, t.cert, renewBeforeMs));
}

function Countdown({
  clock,
  cert,
  fine,
  renewBeforeMs,
}: {
  clock: Clock;
  cert: TreeCert;
  fine: boolean;
  renewBeforeMs?: number;
}) {
  const theme = useTheme();
  const now = useNow(clock, fine ? 'second' : 'minute');
  const left = cert.cert.notAfter - now;
  return (
    <Text color={urgencyColor(theme, certUrgency(cert, now, renewBeforeMs))} wrap="truncate">
      {fine ? formatCountdown(left) : formatCountdownCoarse(left)}
    </Text>
  );
}

const EXPIRES_W = 16;

interface RowProps {
  row: TreeRow;
  selected: boolean;
  clock: Clock;
  renewBeforeMs?: number;
  labelWidth: number;
  whereWidth: number;
}

function RowImpl({ row, selected, clock, renewBeforeMs, labelWidth, whereWidth }: RowProps) {
  const theme = useTheme();
  const item = row.item;
  const sev = rowSeverity(item);
  const label = `${'  '.repeat(row.depth)}${rowLabel(item)}`;
  const dim = item.kind === 'group' || item.kind === 'missing';
  return (
    <Box height={1}>
      <Box width={2} flexShrink={0}>
        <Text color={severityColor(theme, sev)} bold={sev === 'critical'}>
          {sev ? SEVERITY_MARK[sev] : ' '}
        </Text>
      </Box>
      <Box width={labelWidth - 1} flexShrink={0}>
        <Text inverse={selected} color={dim ? theme.dim : undefined} wrap="truncate">
          {label}
        </Text>
      </Box>
      <Box width={1} flexShrink={0} />
      <Box width={EXPIRES_W} flexShrink={0}>
        {item.kind === 'cert' ? (
          <Countdown clock={clock} cert={item} fine={selected} renewBeforeMs={renewBeforeMs} />
        ) : null}
      </Box>
      <Box width={whereWidth} flexShrink={0}>
        <Text color={theme.dim} wrap="truncate">
          {item.kind === 'cert' ? whereText(item) : item.kind === 'file' ? item.path : ''}
        </Text>
      </Box>
    </Box>
  );
}
const Row = memo(RowImpl);

export function PkiPane(props: PkiPaneProps) {
  const { rows, width, height, detail } = props;
  const selectedKey = props.selected ?? rows[0]?.key;
  const sel = rows.find((r) => r.key === selectedKey);
  if (detail && sel)
    return (
      <PkiDetail
        item={sel.item}
        clock={props.clock}
        renewBeforeMs={props.renewBeforeMs}
        scroll={props.scroll}
        width={width}
        height={height}
      />
    );
  return <PkiTree {...props} selected={selectedKey} sel={sel} />;
}

function PkiTree({
  report,
  rows,
  selected,
  sel,
  order,
  filter,
  clock,
  renewBeforeMs,
  width,
  height,
}: PkiPaneProps & { sel?: TreeRow }) {
  const theme = useTheme();
  const c = report.counts;
  const whereWidth = width >= 90 ? 30 : width >= 70 ? 20 : 14;
  const labelWidth = Math.max(10, width - 2 - EXPIRES_W - whereWidth);
  const footer = height >= 8 ? 1 : 0;
  const body = Math.max(0, height - 2 - footer);
  const idx = Math.max(
    0,
    rows.findIndex((r) => r.key === selected),
  );
  const start = windowStart(idx, rows.length, body);
  const visible = rows.slice(start, start + body);
  const pending = report.pending.length;
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Box height={1} overflow="hidden">
        <Text wrap="truncate">
          <Text>{`${report.certificates} certs · ${report.files} files · `}</Text>
          <Text
            color={c.critical ? theme.bad : theme.dim}
          >{`${SEVERITY_MARK.critical} ${c.critical} `}</Text>
          <Text
            color={c.warning ? theme.warn : theme.dim}
          >{`${SEVERITY_MARK.warning} ${c.warning} `}</Text>
          <Text color={theme.dim}>{`${SEVERITY_MARK.info} ${c.info}`}</Text>
          {report.unreachable.length ? (
            <Text color={theme.bad}>{` · ${report.unreachable.length} unreachable`}</Text>
          ) : null}
          {pending ? <Text color={theme.dim}>{` · ${pending} pending`}</Text> : null}
          <Text color={theme.dim}>{` · ${order === 'worst' ? 'worst first' : 'tree order'}`}</Text>
          {filter ? <Text color={theme.accent}>{` · /${filter}`}</Text> : null}
        </Text>
      </Box>
      <Box height={1}>
        <Box width={2 + labelWidth} flexShrink={0}>
          <Text bold color={theme.dim} wrap="truncate">
            {'  CERTIFICATE'}
          </Text>
        </Box>
        <Box width={EXPIRES_W} flexShrink={0}>
          <Text bold color={theme.dim}>
            EXPIRES
          </Text>
        </Box>
        <Box width={whereWidth} flexShrink={0}>
          <Text bold color={theme.dim} wrap="truncate">
            WHERE
          </Text>
        </Box>
      </Box>
      <Box flexDirection="column" height={body} overflow="hidden">
        {rows.length === 0 ? (
          <Text color={theme.dim} wrap="truncate">
            {filter
              ? `no certificate matches /${filter} (Esc clears)`
              : pending
                ? 'waiting for the nodes…'
                : 'no certificates'}
          </Text>
        ) : null}
        {visible.map((r) => (
          <Row
            key={r.key}
            row={r}
            selected={r.key === selected}
            clock={clock}
            renewBeforeMs={renewBeforeMs}
            labelWidth={labelWidth}
            whereWidth={whereWidth}
          />
        ))}
      </Box>
      {footer ? <Footer item={sel?.item} width={width} /> : null}
    </Box>
  );
}

function worstCheck(checks: readonly PkiCheck[]): PkiCheck | undefined {
  const rank = { critical: 3, warning: 2, info: 1 } as const;
  return [...checks].sort((a, b) => rank[b.severity] - rank[a.severity])[0];
}

/** One line about the selected row: its worst finding, or its chain verdict. */
function Footer({ item, width }: { item?: TreeRowItem; width: number }) {
  const theme = useTheme();
  let text = '';
  let color: string | undefined = theme.dim;
  if (item?.kind === 'cert' || item?.kind === 'file') {
    const w = worstCheck(item.checks);
    if (w) {
      const more = item.checks.length > 1 ? ` (+${item.checks.length - 1})` : '';
      text = `${SEVERITY_MARK[w.severity]} ${w.id}: ${w.message}${more}`;
      color = severityColor(theme, w.severity);
    } else if (item.kind === 'cert') {
      text = `${SEVERITY_MARK.ok} chain ${item.chain} · ${item.cert.keyAlgorithm} ${item.cert.curve ?? ''} · Enter for details`;
    }
  } else if (item?.kind === 'node') {
    text = `${item.node}: ${item.message}`;
    color = theme.bad;
  } else if (item?.kind === 'missing') {
    text = `${item.subject} is on no node: signatures up to it are not verified`;
  }
  return (
    <Box height={1} width={width} overflow="hidden">
      <Text color={color} wrap="truncate">
        {text}
      </Text>
    </Box>
  );
}

// ---------------------------------------------------------------------------------------
// Details

export interface DetailLine {
  key: string;
  label: string;
  text: string;
  color?: 'bad' | 'warn' | 'accent' | 'ok' | 'dim';
  /** The live countdown line (rendered with the per-second clock). */
  countdown?: boolean;
}

const LABEL_W = 13;

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

function PkiDetail({
  item,
  clock,
  renewBeforeMs,
  scroll,
  width,
  height,
}: {
  item: TreeRowItem;
  clock: Clock;
  renewBeforeMs?: number;
  scroll: number;
  width: number;
  height: number;
}) {
  const theme = useTheme();
  const lines = detailLines(item, width);
  const h = detailHeight(height);
  const top = Math.max(0, Math.min(scroll, Math.max(0, lines.length - h)));
  const shown = lines.slice(top, top + h);
  const color = (c: DetailLine['color']) => (c ? theme[c] : undefined);
  const title = `${rowSeverity(item) ? `${SEVERITY_MARK[rowSeverity(item)!]} ` : ''}${rowLabel(item)}`;
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Box height={1} overflow="hidden">
        <Text bold color={severityColor(theme, rowSeverity(item))} wrap="truncate">
          {title}
        </Text>
      </Box>
      <Box flexDirection="column" height={h} overflow="hidden">
        {shown.map((l) => (
          <Box key={l.key} height={1}>
            <Box width={LABEL_W} flexShrink={0}>
              <Text color={theme.dim}>{l.label}</Text>
            </Box>
            {l.countdown && item.kind === 'cert' ? (
              <Countdown clock={clock} cert={item} fine renewBeforeMs={renewBeforeMs} />
            ) : (
              <Text color={color(l.color)} wrap="truncate">
                {l.text}
              </Text>
            )}
          </Box>
        ))}
      </Box>
      <Box height={1} overflow="hidden">
        <Text color={theme.dim} wrap="truncate">
          {lines.length > h
            ? `lines ${top + 1}–${Math.min(lines.length, top + h)} of ${lines.length} · j/k scroll · Esc closes`
            : 'Esc closes'}
        </Text>
      </Box>
    </Box>
  );
}
