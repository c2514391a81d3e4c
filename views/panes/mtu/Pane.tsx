/**
 * The MTU pane: one row per node (links off target, the lowest link, Cilium's device and
 * route MTU against what the routing mode implies), the node × node path-MTU matrix
 * (row → column; a failing cell shows the path MTU bisection found), and the selected
 * node's findings. `Enter` lists the node's interfaces (Interfaces.tsx).
 */
import { Box, Text } from 'ink';
import {
  cellText,
  type MatrixCell,
  type MtuModel,
  type MtuNodeRow,
  type NodeHealth,
} from '../../../src/features/mtu/model.js';
import { formatAge } from '../../../src/features/overview/model.js';
import type { Clock } from '../../../src/store/clock.js';
import { type Column, Table } from '../../components/Table.js';
import { useNow } from '../../hooks/useClock.js';
import { type Theme, useTheme } from '../../theme.js';
import type { MtuDerived, MtuUi } from './bindings.js';
import { Interfaces } from './Interfaces.js';

export const healthColor = (t: Theme, h: NodeHealth | 'pending'): string | undefined =>
  h === 'ok' || h === 'info'
    ? t.ok
    : h === 'warn'
      ? t.warn
      : h === 'bad' || h === 'down'
        ? t.bad
        : t.dim;

function ciliumText(r: MtuNodeRow): string {
  const c = r.cilium;
  if (c.state === 'pending') return '…';
  if (c.state === 'absent') return 'no agent';
  if (c.state === 'error') return 'error';
  return `${c.deviceMtu ?? '?'}/${c.routeMtu ?? '?'}`;
}

function Probed({ clock, at, probing }: { clock: Clock; at?: number; probing: boolean }) {
  const now = useNow(clock, 'minute');
  if (probing) return <>probing…</>;
  if (at === undefined) return <>not probed yet</>;
  const age = now - at;
  return <>probed {age < 60_000 ? '<1m' : formatAge(age)} ago</>;
}

function Matrix({ model, width, height }: { model: MtuModel; width: number; height: number }) {
  const theme = useTheme();
  const names = model.matrix.nodes;
  const rowHead = Math.min(14, Math.max(6, ...names.map((n) => n.length + 1)));
  const cellW = Math.min(10, Math.max(7, ...names.map((n) => Math.min(n.length, 9) + 1)));
  const cols = Math.max(1, Math.floor((width - rowHead) / cellW));
  const shown = names.slice(0, cols);
  const rows = model.matrix.cells.slice(0, Math.max(0, height - 1));
  const color = (c: MatrixCell) =>
    c.severity === 'pending'
      ? theme.dim
      : c.status === 'self'
        ? theme.dim
        : healthColor(theme, c.severity);
  return (
    <Box flexDirection="column" height={Math.min(height, rows.length + 1)} overflow="hidden">
      <Box>
        <Box width={rowHead}>
          <Text bold color={theme.dim} wrap="truncate">
            {'from\\to'}
          </Text>
        </Box>
        {shown.map((n) => (
          <Box key={n} width={cellW}>
            <Text bold color={theme.dim} wrap="truncate">
              {n}
            </Text>
          </Box>
        ))}
        {shown.length < names.length ? (
          <Text color={theme.dim}>{` +${names.length - shown.length}`}</Text>
        ) : null}
      </Box>
      {rows.map((row, i) => (
        <Box key={names[i]}>
          <Box width={rowHead}>
            <Text wrap="truncate">{names[i]}</Text>
          </Box>
          {row.slice(0, cols).map((c) => (
            <Box key={c.to} width={cellW}>
              <Text color={color(c)} wrap="truncate">
                {cellText(c, model.target)}
              </Text>
            </Box>
          ))}
        </Box>
      ))}
    </Box>
  );
}

/** The selected node's findings: links off target, Cilium's, paths from it below target. */
export function findingsOf(model: MtuModel, r: MtuNodeRow): string[] {
  const out: string[] = [];
  if (r.reach === 'down') out.push(`unreachable: ${r.error ?? ''}`);
  if (r.parseError) out.push(`ip -j -d link show: ${r.parseError}`);
  for (const l of r.offTarget)
    out.push(`${l.name} (${l.role}) MTU ${l.mtu}, target ${l.expected}${l.up ? '' : ' (down)'}`);
  if (r.cilium.error) out.push(`cilium: ${r.cilium.error}`);
  for (const f of r.cilium.findings) out.push(`cilium: ${f}`);
  const i = model.matrix.nodes.indexOf(r.name);
  for (const c of model.matrix.cells[i] ?? []) {
    if (c.status === 'low')
      out.push(
        `path → ${c.to}: ${c.mtu ?? '?'}${c.reportedBy === 'local' ? ' (own route: message too long)' : c.reportedBy ? ` (Frag needed from ${c.reportedBy})` : ''}`,
      );
    else if (c.status === 'black-hole')
      out.push(`path → ${c.to}: black hole (ok ≤ ${c.okUpTo}, fail ≥ ${c.failFrom})`);
    else if (c.status === 'unreachable' || c.status === 'error')
      out.push(`path → ${c.to}: ${c.status}${c.message ? `: ${c.message}` : ''}`);
  }
  return out;
}

export interface MtuPaneProps {
  model: MtuModel;
  ui: MtuUi;
  derived: MtuDerived;
  clock: Clock;
  width: number;
  height: number;
}

export function MtuPane({ model, ui, derived, clock, width, height }: MtuPaneProps) {
  const theme = useTheme();
  const sel = derived.selected;
  if (ui.detail && sel)
    return <Interfaces model={model} row={sel} scroll={ui.scroll} width={width} height={height} />;
  const t = model.totals;
  // Fixed columns, LOWEST takes what is left (10–22); MODE goes first when narrow.
  const showMode = width >= 75;
  const lowestW = Math.max(10, Math.min(22, width - (12 + 8 + 10 + 12 + (showMode ? 13 : 0))));
  const columns: Column<MtuNodeRow>[] = [
    { key: 'name', title: 'NODE', width: 12, render: (r) => r.name },
    {
      key: 'health',
      title: 'HEALTH',
      width: 8,
      render: (r) => (
        <Text color={healthColor(theme, r.health)}>{r.health === 'pending' ? '…' : r.health}</Text>
      ),
    },
    {
      key: 'links',
      title: 'OFF/ALL',
      width: 10,
      render: (r) =>
        r.reach === 'down' ? (
          <Text color={theme.bad}>down</Text>
        ) : r.parseError ? (
          <Text color={theme.warn}>unreadable</Text>
        ) : r.reach === 'pending' ? (
          <Text color={theme.dim}>…</Text>
        ) : (
          <Text
            color={r.offTarget.length ? healthColor(theme, r.offTarget[0]!.severity) : theme.ok}
          >
            {`${r.offTarget.length}/${r.links.length}`}
          </Text>
        ),
    },
    {
      key: 'lowest',
      title: 'LOWEST',
      width: lowestW,
      render: (r) =>
        r.lowest ? (
          <Text color={r.lowest.mtu < model.target ? theme.bad : undefined}>
            {`${r.lowest.name} ${r.lowest.mtu}`}
          </Text>
        ) : (
          ''
        ),
    },
    {
      key: 'cilium',
      title: 'CIL DEV/RT',
      width: 12,
      render: (r) => (
        <Text
          color={healthColor(theme, r.cilium.state === 'pending' ? 'pending' : r.cilium.severity)}
        >
          {ciliumText(r)}
        </Text>
      ),
    },
  ];
  if (showMode)
    columns.push({
      key: 'mode',
      title: 'MODE',
      width: 13,
      render: (r) =>
        r.cilium.mode
          ? `${r.cilium.mode}${r.cilium.tunnelProtocol ? `/${r.cilium.tunnelProtocol}` : ''}`
          : '',
    });
  const tableH = Math.min(derived.rows.length + 1, Math.max(2, Math.floor((height - 3) / 2)));
  const matrixH = Math.min(model.matrix.nodes.length + 1, Math.max(2, height - tableH - 4));
  const findings = sel ? findingsOf(model, sel) : [];
  const findH = Math.max(0, height - tableH - matrixH - 3);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text wrap="truncate">
        <Text bold>{`target ${model.target}`}</Text>
        <Text color={theme.dim}>{' · links off target '}</Text>
        <Text color={t.linksOff ? theme.warn : theme.ok}>{String(t.linksOff)}</Text>
        <Text color={theme.dim}>{' · paths below target '}</Text>
        <Text color={t.pathsLow ? theme.bad : theme.ok}>{`${t.pathsLow}/${t.pathsProbed}`}</Text>
        <Text color={theme.dim}>
          {' · '}
          <Probed
            clock={clock}
            probing={model.matrix.probing}
            {...(model.matrix.probedAt !== undefined ? { at: model.matrix.probedAt } : {})}
          />
        </Text>
      </Text>
      <Table
        columns={columns}
        rows={derived.rows}
        rowKey={(r) => r.name}
        {...(sel ? { selectedKey: sel.name } : {})}
        height={tableH}
        width={width}
        empty="no node matches the filter"
      />
      <Text bold color={theme.dim}>
        path MTU (row → column, ping -M do)
      </Text>
      <Matrix model={model} width={width} height={matrixH} />
      {findH > 0 && sel ? (
        <Box flexDirection="column" height={findH + 1} overflow="hidden">
          <Text
            bold
            color={theme.dim}
            wrap="truncate"
          >{`${sel.name}: ${findings.length ? `${findings.length} finding(s)` : 'no finding'}`}</Text>
          {findings.slice(0, findH).map((f) => (
            <Text key={f} wrap="truncate" color={theme.warn}>
              {`  ${f}`}
            </Text>
          ))}
        </Box>
      ) : null}
    </Box>
  );
}
