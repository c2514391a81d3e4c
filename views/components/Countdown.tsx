/**
 * A live countdown to a certificate's notAfter from the one shared clock: to the second
 * where the operator looks (`fine`: the selected row, the details), per minute elsewhere,
 * so a frame is drawn only when visible text changes. Coloured by urgency, whose rule
 * (the renew window) is src/'s: the caller passes how to judge it.
 */
import { Text } from 'ink';
import { formatCountdown, formatCountdownCoarse, type Urgency } from '../../src/pki/expiry.js';
import type { Clock } from '../../src/store/clock.js';
import { useNow } from '../hooks/useClock.js';
import { type Theme, useTheme } from '../theme.js';

export const urgencyColor = (theme: Theme, u: Urgency | undefined): string | undefined =>
  u === 'expired' ? theme.bad : u === 'renew' ? theme.warn : u === 'soon' ? theme.accent : theme.ok;

export interface CountdownProps {
  clock: Clock;
  notAfter: number;
  /** Tick every second (else every minute, without seconds). */
  fine: boolean;
  /** Urgency at `now` (colours the text); absent: no colour of its own. */
  urgencyAt?: (now: number) => Urgency;
}

export function Countdown({ clock, notAfter, fine, urgencyAt }: CountdownProps) {
  const theme = useTheme();
  const now = useNow(clock, fine ? 'second' : 'minute');
  const left = notAfter - now;
  const text = fine ? formatCountdown(left) : formatCountdownCoarse(left);
  return (
    <Text color={urgencyAt ? urgencyColor(theme, urgencyAt(now)) : undefined} wrap="truncate">
      {text}
    </Text>
  );
}
