/** Small parts of the PKI pane: severity colours, the certificate countdown, a tree row. */
import { Box, Text } from 'ink';
import { memo } from 'react';
import { roleUrgency } from '../../../src/pki/expiry.js';
import { rowLabel, rowSeverity, SEVERITY_MARK, whereText } from '../../../src/pki/text.js';
import type { TreeCert, TreeRow } from '../../../src/pki/tree.js';
import type { Severity } from '../../../src/pki/types.js';
import type { Clock } from '../../../src/store/clock.js';
import { Countdown } from '../../components/Countdown.js';
import { type Theme, useTheme } from '../../theme.js';

export const severityColor = (theme: Theme, s: Severity | 'ok' | undefined): string | undefined =>
  s === 'critical'
    ? theme.bad
    : s === 'warning'
      ? theme.warn
      : s === 'info'
        ? theme.accent
        : s === 'ok'
          ? theme.ok
          : theme.dim;

/** A certificate's countdown, coloured by its renew window (leaves per inventory, CAs per design). */
export function CertCountdown({
  clock,
  cert,
  fine,
  renewBeforeMs,
}: {
  clock: Clock;
  cert: TreeCert;
  fine: boolean;
  renewBeforeMs?: number | undefined;
}) {
  return (
    <Countdown
      clock={clock}
      notAfter={cert.cert.notAfter}
      fine={fine}
      urgencyAt={(now) => roleUrgency(cert.role, cert.cert, now, renewBeforeMs)}
    />
  );
}

export const EXPIRES_W = 16;

interface RowProps {
  row: TreeRow;
  selected: boolean;
  clock: Clock;
  renewBeforeMs?: number | undefined;
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
          <CertCountdown clock={clock} cert={item} fine={selected} renewBeforeMs={renewBeforeMs} />
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
export const Row = memo(RowImpl);
