/**
 * The Overview pane: one row per node (SSH, kube Ready, the worst certificate's countdown,
 * its file, the age of the last refresh), cluster totals, and the selected node's details.
 * Only the selected row's countdown ticks every second; the others change once a minute.
 */
import { Box, Text } from 'ink';
import type { Role } from '../../../src/config/types.js';
import {
  formatAge,
  type Overview,
  type OverviewRow,
  type OverviewTotals,
} from '../../../src/features/overview/model.js';
import type { Clock } from '../../../src/store/clock.js';
import { Countdown, urgencyColor } from '../../components/Countdown.js';
import { type Column, Table } from '../../components/Table.js';
import { useNow } from '../../hooks/useClock.js';
import { useTheme } from '../../theme.js';

const ROLE_SHORT: Record<Role, string> = { 'control-plane': 'cp', worker: 'worker', etcd: 'etcd' };

function Age({ clock, at }: { clock: Clock; at?: number }) {
  const now = useNow(clock, 'minute');
  if (at === undefined) return <>—</>;
  // Minute granularity: "<1m" until the next minute tick, then whole minutes.
  const age = now - at;
  return <>{age < 60_000 ? '<1m' : formatAge(age)}</>;
}

export interface OverviewPaneProps {
  overview: Overview;
  rows: readonly OverviewRow[];
  selected?: string;
  clock: Clock;
  width: number;
  height: number;
}

export function OverviewPane({
  overview,
  rows,
  selected,
  clock,
  width,
  height,
}: OverviewPaneProps) {
  const theme = useTheme();
  const fixed = 12 + 10 + 11 + 11 + 15 + 6;
  const certWidth = width - fixed;
  const columns: Column<OverviewRow>[] = [
    { key: 'name', title: 'NAME', width: 12, render: (r) => r.name },
    {
      key: 'roles',
      title: 'ROLES',
      width: 10,
      render: (r) => r.roles.map((x) => ROLE_SHORT[x]).join(','),
    },
    {
      key: 'reach',
      title: 'SSH',
      width: 11,
      render: (r) =>
        r.reach === 'up' ? (
          <Text color={r.stale ? theme.warn : theme.ok}>{`up ${Math.round(r.rttMs ?? 0)}ms`}</Text>
        ) : r.reach === 'down' ? (
          <Text color={theme.bad}>down</Text>
        ) : (
          <Text color={theme.dim}>…</Text>
        ),
    },
    {
      key: 'kube',
      title: 'KUBE',
      width: 11,
      render: (r) => (
        <Text
          color={
            r.kube === 'Ready'
              ? theme.ok
              : r.kube === 'NotReady'
                ? theme.bad
                : r.kube === 'unknown'
                  ? theme.warn
                  : theme.dim
          }
        >
          {r.kube === 'no-source' ? 'no source' : r.kube === 'pending' ? '…' : r.kube}
        </Text>
      ),
    },
    {
      key: 'expiry',
      title: 'NEXT EXPIRY',
      width: 15,
      render: (r, sel) =>
        r.worst ? (
          <Text color={urgencyColor(theme, r.worst.urgency)}>
            <Countdown clock={clock} notAfter={r.worst.notAfter} fine={sel} />
          </Text>
        ) : r.certError ? (
          <Text color={theme.warn}>error</Text>
        ) : (
          <Text color={theme.dim}>…</Text>
        ),
    },
    ...(certWidth >= 8
      ? [
          {
            key: 'cert',
            title: 'CERT',
            width: certWidth,
            render: (r: OverviewRow) =>
              r.worst ? (r.worst.path.split('/').pop() ?? r.worst.path) : '',
          },
        ]
      : []),
    {
      key: 'age',
      title: 'AGE',
      width: 6,
      align: 'right',
      render: (r) => <Age clock={clock} at={r.lastRefresh} />,
    },
  ];

  const sel = rows.find((r) => r.name === selected);
  const t = overview.totals;
  const detailHeight = height >= 16 ? 5 : 0;
  // The table takes what its rows need (up to the space left), so totals and details follow it.
  const tableHeight = Math.max(2, Math.min(rows.length + 1, height - 1 - detailHeight));
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Table
        columns={columns}
        rows={rows}
        rowKey={(r) => r.name}
        selectedKey={selected}
        height={tableHeight}
        width={width}
        empty="no node matches the filter"
      />
      <Box height={1} overflow="hidden">
        <Text wrap="truncate" color={theme.dim}>
          {`${t.reachable}/${t.nodes} reachable · ${t.ready} Ready · ${t.certsDue} certs due${apiText(t.api)}`}
        </Text>
      </Box>
      {detailHeight > 0 ? <Detail row={sel} width={width} height={detailHeight} /> : null}
    </Box>
  );
}

function Detail({ row, width, height }: { row?: OverviewRow; width: number; height: number }) {
  const theme = useTheme();
  if (!row) return <Box height={height} />;
  const lines: Array<[string, string, string | undefined]> = [
    ['node', `${row.name} (index ${row.index}, ${row.roles.join(', ')})`, undefined],
    [
      'ssh',
      row.reach === 'down'
        ? `unreachable: ${row.reachError ?? 'unknown error'}`
        : [row.route ?? '—', row.os, row.auth && `auth ${row.auth}`].filter(Boolean).join(' · '),
      row.reach === 'down' ? theme.bad : undefined,
    ],
    [
      'kube',
      row.kube === 'no-source'
        ? 'no Kubernetes API source configured yet'
        : `${row.kube}${row.kubeReason ? `: ${row.kubeReason}` : ''}`,
      undefined,
    ],
    [
      'cert',
      row.certError
        ? `error: ${row.certError}`
        : row.worst
          ? `${row.worst.path} (${row.worst.commonName ?? 'no CN'}) ${row.worst.urgency}${row.badCertFiles ? ` · ${row.badCertFiles} unreadable file(s)` : ''}`
          : '—',
      row.certError ? theme.warn : undefined,
    ],
  ];
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden" marginTop={0}>
      <Text color={theme.dim}>{'─'.repeat(Math.max(0, width))}</Text>
      {lines.map(([k, v, c]) => (
        <Box key={k} height={1}>
          <Box width={6} flexShrink={0}>
            <Text color={theme.dim}>{k}</Text>
          </Box>
          <Text color={c} wrap="truncate">
            {v}
          </Text>
        </Box>
      ))}
    </Box>
  );
}

/** API server reachability for the totals line. */
function apiText(api: OverviewTotals['api']): string {
  if (!api) return '';
  if (api.reachable === false) return ` · API unreachable${api.error ? `: ${api.error}` : ''}`;
  if (api.reachable === null) return ' · API …';
  return ` · API ${api.serverVersion ?? 'up'}${api.via === 'tunnel' ? ' (SSH tunnel)' : ''}`;
}
