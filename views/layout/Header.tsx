import { Box, Text } from 'ink';
import type { OverviewTotals } from '../../src/features/overview/model.js';
import { formatCountdown } from '../../src/pki/expiry.js';
import type { Session } from '../../src/session/session.js';
import { useNow } from '../hooks/useClock.js';
import { useTheme } from '../theme.js';

/** Local wall clock; the only other per-second redraw besides the countdowns. */
function WallClock({ session }: { session: Session }) {
  const now = useNow(session.clock, 'second');
  const d = new Date(now);
  const hh = String(d.getHours()).padStart(2, '0');
  const mm = String(d.getMinutes()).padStart(2, '0');
  const ss = String(d.getSeconds()).padStart(2, '0');
  return <Text>{`${hh}:${mm}:${ss}`}</Text>;
}

function NextExpiry({
  session,
  notAfter,
  node,
  short,
}: {
  session: Session;
  notAfter: number;
  node: string;
  short: boolean;
}) {
  const theme = useTheme();
  const now = useNow(session.clock, 'second');
  const left = notAfter - now;
  return (
    <Text color={left <= 0 ? theme.bad : theme.accent} wrap="truncate">
      {short ? 'exp' : 'next expiry'} {node} {formatCountdown(left)}
    </Text>
  );
}

export function Header({
  session,
  totals,
  columns,
}: {
  session: Session;
  totals: OverviewTotals;
  columns: number;
}) {
  const theme = useTheme();
  const reachColor = totals.reachable === totals.nodes ? theme.ok : theme.bad;
  return (
    <Box width={columns} height={1} overflow="hidden">
      <Box flexShrink={0}>
        <Text bold>k8ops </Text>
        <Text>{session.inventory.cluster} </Text>
        <Text color={theme.dim}>ctx </Text>
        <Text>{session.context ?? '—'} </Text>
        {session.mode === 'demo' ? (
          <Text color={theme.badge} inverse bold>
            {' DEMO '}
          </Text>
        ) : null}
        {totals.api?.via === 'tunnel' ? (
          <Text color={theme.accent} inverse>
            {' TUNNEL '}
          </Text>
        ) : null}
        {totals.api?.reachable === false ? (
          <Text color={theme.bad} inverse>
            {' API ✗ '}
          </Text>
        ) : null}
        {session.readOnly ? (
          <Text color={theme.warn} inverse>
            {' READ-ONLY '}
          </Text>
        ) : null}
        <Text> nodes </Text>
        <Text color={reachColor}>
          {totals.reachable}/{totals.nodes}
        </Text>
        <Text> </Text>
      </Box>
      <Box flexGrow={1} flexShrink={1} overflow="hidden">
        {totals.worst ? (
          <NextExpiry
            session={session}
            notAfter={totals.worst.notAfter}
            node={totals.worst.node}
            short={columns < 100}
          />
        ) : null}
      </Box>
      <Box flexShrink={0} marginLeft={1}>
        <WallClock session={session} />
      </Box>
    </Box>
  );
}
