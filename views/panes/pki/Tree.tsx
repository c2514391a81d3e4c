/** The certificate tree: summary line, header, the visible window of rows, a footer. */
import { Box, Text } from 'ink';
import type { PkiReport } from '../../../src/pki/report.js';
import { SEVERITY_MARK } from '../../../src/pki/text.js';
import type { TreeRow, TreeRowItem } from '../../../src/pki/tree.js';
import type { PkiCheck } from '../../../src/pki/types.js';
import type { Clock } from '../../../src/store/clock.js';
import { windowStart } from '../../components/Table.js';
import { useTheme } from '../../theme.js';
import { EXPIRES_W, Row, severityColor } from './parts.js';

export interface PkiTreeProps {
  report: PkiReport;
  /** Visible rows (sorted, filtered) in display order. */
  rows: readonly TreeRow[];
  /** Key of the selected row. */
  selected: string | undefined;
  sel: TreeRow | undefined;
  order: 'tree' | 'worst';
  filter: string;
  clock: Clock;
  width: number;
  height: number;
}

export function PkiTree({
  report,
  rows,
  selected,
  sel,
  order,
  filter,
  clock,
  width,
  height,
}: PkiTreeProps) {
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
            renewBeforeMs={report.renewBeforeMs}
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
    text = item.note
      ? `${item.subject}: ${item.note}`
      : `${item.subject} is on no node: signatures up to it are not verified`;
  }
  return (
    <Box height={1} width={width} overflow="hidden">
      <Text color={color} wrap="truncate">
        {text}
      </Text>
    </Box>
  );
}
