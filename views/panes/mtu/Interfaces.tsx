/**
 * One node's interfaces (Enter in the MTU pane): name, role, MTU, target, verdict, state
 * and the bond/bridge it belongs to; then Cilium's device/route MTU against the expected
 * values, and the node's paths below target. j/k scroll the interfaces; Esc closes.
 */
import { Box, Text } from 'ink';
import type { LinkRow, MtuModel, MtuNodeRow } from '../../../src/features/mtu/model.js';
import { type Column, Table } from '../../components/Table.js';
import { useTheme } from '../../theme.js';
import { DETAIL_CHROME } from './bindings.js';
import { findingsOf, healthColor } from './Pane.js';

export function Interfaces({
  model,
  row,
  scroll,
  width,
  height,
}: {
  model: MtuModel;
  row: MtuNodeRow;
  scroll: number;
  width: number;
  height: number;
}) {
  const theme = useTheme();
  const columns: Column<LinkRow>[] = [
    { key: 'name', title: 'INTERFACE', width: 18, render: (l) => l.name },
    { key: 'role', title: 'ROLE', width: 10, render: (l) => l.role },
    { key: 'mtu', title: 'MTU', width: 7, align: 'right', render: (l) => String(l.mtu) },
    { key: 'sp', title: '', width: 2, render: () => '' },
    {
      key: 'exp',
      title: 'TARGET',
      width: 8,
      render: (l) => (l.expected ? String(l.expected) : '-'),
    },
    {
      key: 'verdict',
      title: 'VERDICT',
      width: 8,
      render: (l) => (
        <Text color={l.verdict === 'n/a' ? theme.dim : healthColor(theme, l.severity)}>
          {l.verdict}
        </Text>
      ),
    },
    { key: 'state', title: 'STATE', width: 10, render: (l) => l.operstate },
    {
      key: 'master',
      title: 'PORT OF',
      width: Math.max(6, Math.min(16, width - 59)),
      render: (l) => l.master ?? '',
    },
  ];
  const bodyRows = Math.max(1, height - DETAIL_CHROME);
  const visible = row.links.slice(scroll, scroll + bodyRows);
  const c = row.cilium;
  const cilium =
    c.state === 'ok'
      ? `cilium: device ${c.deviceMtu ?? '?'} (expected ${c.expectedDeviceMtu}), route ${c.routeMtu ?? '?'}` +
        (c.expectedRouteMtu !== undefined
          ? ` (expected ${c.expectedRouteMtu}: ${c.mode}${c.tunnelProtocol ? ` ${c.tunnelProtocol}` : ''}, from ${c.modeFrom === 'agent' ? "the agent's config" : 'its tunnel device'})`
          : '') +
        (c.datapathMode ? `, datapath ${c.datapathMode}` : '')
      : c.state === 'pending'
        ? 'cilium: …'
        : `cilium: ${c.error ?? c.state}`;
  const paths = findingsOf(model, row).filter((f) => f.startsWith('path'));
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate">
        {`${row.name} — interfaces (${row.links.length}), target ${model.target}`}
        <Text color={healthColor(theme, row.health)}>{`  ${row.health}`}</Text>
        {row.links.length > bodyRows ? (
          <Text color={theme.dim}>{`  rows ${scroll + 1}–${scroll + visible.length}`}</Text>
        ) : null}
      </Text>
      {row.reach === 'down' ? (
        <Text color={theme.bad}>{`unreachable: ${row.error ?? ''}`}</Text>
      ) : null}
      {row.parseError ? <Text color={theme.warn}>{row.parseError}</Text> : null}
      <Table
        columns={columns}
        rows={visible}
        rowKey={(l) => l.name}
        height={Math.min(bodyRows, visible.length) + 1}
        width={width}
        empty="no interface read yet"
      />
      <Text
        wrap="truncate"
        color={healthColor(theme, c.state === 'pending' ? 'pending' : c.severity)}
      >
        {cilium}
      </Text>
      {c.findings.slice(0, 2).map((f) => (
        <Text key={f} wrap="truncate" color={theme.warn}>{`  ${f}`}</Text>
      ))}
      {paths.slice(0, Math.max(0, 3 - c.findings.slice(0, 2).length)).map((f) => (
        <Text key={f} wrap="truncate" color={theme.bad}>{`${f}`}</Text>
      ))}
    </Box>
  );
}
