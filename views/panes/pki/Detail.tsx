/** The details of the selected row: every field, scrolled by j/k, the countdown live. */
import { Box, Text } from 'ink';
import { rowLabel, rowSeverity, SEVERITY_MARK } from '../../../src/pki/text.js';
import type { TreeRowItem } from '../../../src/pki/tree.js';
import type { Clock } from '../../../src/store/clock.js';
import { useTheme } from '../../theme.js';
import { type DetailLine, detailHeight, detailLines, LABEL_W } from './detail-lines.js';
import { CertCountdown, severityColor } from './parts.js';

export function PkiDetail({
  item,
  clock,
  renewBeforeMs,
  scroll,
  width,
  height,
}: {
  item: TreeRowItem;
  clock: Clock;
  renewBeforeMs?: number | undefined;
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
              <CertCountdown clock={clock} cert={item} fine renewBeforeMs={renewBeforeMs} />
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
