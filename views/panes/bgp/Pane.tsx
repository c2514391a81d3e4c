/**
 * The BGP pane: one row per session with both sides on it (Cilium's agent on the node, the
 * upstream router), disagreements marked; a status line for nodes/routers that could not
 * be read; Enter opens a session's details. Capped to its height (the Table virtualises).
 */
import { Box, Text } from 'ink';
import { formatUptime, prefixCell, vipCell } from '../../../src/features/bgp/format.js';
import type { BgpModel, BgpRow } from '../../../src/features/bgp/model.js';
import type { Clock } from '../../../src/store/clock.js';
import { type Column, Table } from '../../components/Table.js';
import { useNow } from '../../hooks/useClock.js';
import { useTheme } from '../../theme.js';
import type { BgpDerived, BgpUi } from './bindings.js';
import { detailLines } from './detail-lines.js';

export interface BgpPaneProps {
  model: BgpModel;
  ui: BgpUi;
  derived: BgpDerived;
  clock: Clock;
  width: number;
  height: number;
}

function Detail({
  row,
  model,
  ui,
  clock,
  width,
  height,
}: {
  row: BgpRow;
  model: BgpModel;
  ui: BgpUi;
  clock: Clock;
  width: number;
  height: number;
}) {
  const theme = useTheme();
  const now = useNow(clock, 'second');
  const lines = detailLines(row, model, now, width);
  const shown = lines.slice(ui.scroll, ui.scroll + Math.max(1, height - 1));
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text color={theme.dim} wrap="truncate">
        {`Session ${row.node} ↔ ${row.peerAddress} — lines ${ui.scroll + 1}–${ui.scroll + shown.length} of ${lines.length}`}
      </Text>
      {shown.map((l, i) => (
        <Text
          // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
          key={i}
          wrap="truncate"
          bold={l.tone === 'head'}
          color={
            l.tone === 'bad'
              ? theme.bad
              : l.tone === 'warn'
                ? theme.warn
                : l.tone === 'dim'
                  ? theme.dim
                  : undefined
          }
        >
          {l.text.slice(0, Math.max(1, width)) || ' '}
        </Text>
      ))}
    </Box>
  );
}

export function BgpPane({ model, ui, derived, clock, width, height }: BgpPaneProps) {
  const theme = useTheme();
  const sel = derived.rows.find((r) => r.key === derived.selected);
  if (ui.detail && sel)
    return <Detail row={sel} model={model} ui={ui} clock={clock} width={width} height={height} />;
  const tone = (r: BgpRow) =>
    r.severity === 'critical' ? theme.bad : r.severity === 'warning' ? theme.warn : undefined;
  const colWidth = (title: string, cell: (r: BgpRow) => string, min: number, max: number) =>
    Math.min(max, Math.max(min, title.length + 1, ...derived.rows.map((r) => cell(r).length + 1)));
  const asn = (r: BgpRow) => `${r.localAsn ?? '-'}→${r.peerAsn ?? '-'}`;
  const vips = (r: BgpRow) =>
    `${vipCell(r, 2)}${r.vipsMissing.length ? ` (${r.vipsMissing.length} missing)` : ''}`;
  // Every column but VIPS sized to its content; kept by priority while they fit the width.
  const all: Array<Column<BgpRow> & { prio: number }> = [
    {
      key: 'mark',
      title: '',
      width: 2,
      prio: 0,
      render: (r) => (
        <Text color={tone(r)}>
          {r.severity === 'ok' ? ' ' : r.severity === 'critical' ? '✗' : '!'}
        </Text>
      ),
    },
    {
      key: 'node',
      title: 'NODE',
      width: colWidth('NODE', (r) => r.node, 6, 20),
      prio: 1,
      render: (r) => <Text wrap="truncate">{r.node}</Text>,
    },
    {
      key: 'peer',
      title: 'PEER',
      width: colWidth('PEER', (r) => r.peerAddress, 8, 40),
      prio: 2,
      render: (r) => <Text wrap="truncate">{r.peerAddress}</Text>,
    },
    {
      key: 'router',
      title: 'ROUTER',
      width: colWidth('ROUTER', (r) => r.router ?? '-', 6, 16),
      prio: 7,
      render: (r) => <Text wrap="truncate">{r.router ?? '-'}</Text>,
    },
    {
      key: 'asn',
      title: 'AS L→P',
      width: colWidth('AS L→P', asn, 8, 24),
      prio: 8,
      render: (r) => <Text wrap="truncate">{asn(r)}</Text>,
    },
    {
      key: 'state',
      title: 'STATE',
      width: colWidth('STATE', (r) => r.state, 6, 26),
      prio: 3,
      render: (r) => (
        <Text color={r.established ? theme.ok : tone(r)} wrap="truncate">
          {r.state}
        </Text>
      ),
    },
    {
      key: 'up',
      title: 'UPTIME',
      width: colWidth('UPTIME', (r) => formatUptime(r.uptimeMs), 6, 9),
      prio: 4,
      render: (r) => <Text wrap="truncate">{formatUptime(r.uptimeMs)}</Text>,
    },
    {
      key: 'pfx',
      title: 'RCV/ACC/ADV',
      width: colWidth('RCV/ACC/ADV', prefixCell, 6, 18),
      prio: 5,
      render: (r) => <Text wrap="truncate">{prefixCell(r)}</Text>,
    },
    {
      key: 'flaps',
      title: 'FLAPS',
      width: 6,
      prio: 6,
      align: 'right',
      render: (r) => <Text color={r.flaps > 0 ? theme.warn : undefined}>{String(r.flaps)}</Text>,
    },
  ];
  const keep = new Set<string>();
  let used = 0;
  for (const c of [...all].sort((a, b) => a.prio - b.prio)) {
    if (used + c.width > width) break;
    keep.add(c.key);
    used += c.width;
  }
  const cols: Column<BgpRow>[] = all.filter((c) => keep.has(c.key));
  if (width - used >= 10)
    cols.push({
      key: 'vips',
      title: ' VIPS',
      width: width - used,
      render: (r) => (
        <Text
          color={r.vipsMissing.length ? theme.warn : undefined}
          wrap="truncate"
        >{` ${vips(r)}`}</Text>
      ),
    });
  const t = model.totals;
  const notes: string[] = [];
  for (const n of model.nodes) {
    if (n.unreachable) notes.push(`${n.node}: unreachable`);
    else if (n.error) notes.push(`${n.node}: ${n.error}`);
    else if (n.disabled) notes.push(`${n.node}: BGP control plane off`);
  }
  for (const r of model.routers)
    if (r.read === 'timeout' || r.read === 'error')
      notes.push(`router ${r.name}: ${r.read}${r.error ? ` — ${r.error}` : ''}`);
  const pending = model.nodes.every((n) => n.pending) && model.rows.length === 0;
  const sub = sel?.problems[0] ? `${sel.node} ${sel.peerAddress}: ${sel.problems[0]}` : '';
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text wrap="truncate">
        <Text bold>{`${t.established}/${t.sessions} established`}</Text>
        <Text color={t.critical ? theme.bad : theme.dim}>{`  ${t.critical} critical`}</Text>
        <Text color={t.warnings ? theme.warn : theme.dim}>{`  ${t.warnings} warnings`}</Text>
        <Text
          color={theme.dim}
        >{`  routers: ${model.routers.map((r) => `${r.name} ${r.established}/${r.sessions}`).join(', ') || 'none configured'}${ui.filter ? `  filter /${ui.filter}` : ''}`}</Text>
      </Text>
      <Text color={notes.length ? theme.warn : theme.dim} wrap="truncate">
        {notes.length
          ? notes.join('  ·  ')
          : 'Cilium agent per node · routers over SSH · flaps counted since the console started'}
      </Text>
      <Table
        columns={cols}
        rows={derived.rows}
        rowKey={(r) => r.key}
        {...(derived.selected !== undefined ? { selectedKey: derived.selected } : {})}
        height={Math.max(2, height - 3)}
        width={width}
        empty={
          pending
            ? 'waiting for the agents and routers…'
            : 'no BGP sessions (no peers on the agents, no routers configured)'
        }
      />
      <Text color={sel?.severity === 'critical' ? theme.bad : theme.warn} wrap="truncate">
        {sub || ' '}
      </Text>
    </Box>
  );
}
