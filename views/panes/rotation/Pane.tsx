/**
 * The Rotation pane: a timeline of the next 30 days (one row per node and per
 * intermediate, a marker at each scheduled rotation, a "now" line), then the selected
 * node's plan in detail (which certificates, which units restart in what order, the health
 * gate) and the conflicts. The preview's settings come from the keys (+/-, [/]); it is
 * labelled "preview only" until `w` saves it into the inventory file. The timeline is bucketed per column
 * from the hour, so it is redrawn when the schedule or the hour changes, not every second.
 */
import { Box, Text } from 'ink';
import { memo, type ReactNode, useMemo } from 'react';
import type { RotationModel } from '../../../src/features/rotation/model.js';
import type { NodeSchedule, Schedule } from '../../../src/features/rotation/plan.js';
import { formatCountdownCoarse } from '../../../src/pki/expiry.js';
import type { Clock } from '../../../src/store/clock.js';
import { Countdown } from '../../components/Countdown.js';
import { windowStart } from '../../components/Table.js';
import { useNow } from '../../hooks/useClock.js';
import { type Theme, useTheme } from '../../theme.js';
import type { OtherRow, RotationDerived, RotationUi } from './bindings.js';
import {
  axisLine,
  gridRuns,
  keypairLabel,
  LEGEND,
  MARK,
  type Run,
  type TimelineRow,
  type Tone,
  timelineKeys,
  timelineRows,
  timelineWindow,
} from './timeline.js';

export const TIMELINE_DAYS = 30;
const DAY = 86_400_000;

export interface RotationPaneProps {
  model: RotationModel;
  ui: RotationUi;
  derived: RotationDerived;
  clock: Clock;
  width: number;
  height: number;
}

const toneColor = (t: Theme, tone: Tone): string | undefined =>
  tone === 'ok'
    ? t.ok
    : tone === 'warn'
      ? t.warn
      : tone === 'bad'
        ? t.bad
        : tone === 'accent'
          ? t.accent
          : t.dim;

const iso = (t: number): string => `${new Date(t).toISOString().slice(5, 16).replace('T', ' ')}Z`;
const dur = (ms: number): string => formatCountdownCoarse(ms);

/**
 * One timeline row: the label, the empty grid (the same string on every row: Ink tokenises
 * each distinct string once per frame) and the row's marks drawn over it. Compared by
 * signature, so a `+` that moves no marker of this row across a column re-renders nothing.
 */
const TrackRow = memo(
  function TrackRow({
    row,
    grid,
    selected,
    labelWidth,
    cols,
  }: {
    row: TimelineRow;
    grid: ReactNode;
    selected: boolean;
    labelWidth: number;
    cols: number;
  }) {
    const theme = useTheme();
    const label =
      row.label.length > labelWidth ? `${row.label.slice(0, labelWidth - 1)}…` : row.label;
    return (
      <Box height={1}>
        <Box width={labelWidth + 2} flexShrink={0}>
          <Text wrap="truncate">
            <Text color={selected ? theme.accent : undefined} bold={selected} inverse={selected}>
              {`${selected ? '>' : ' '}${label.padEnd(labelWidth)}`}
            </Text>
          </Text>
        </Box>
        <Box width={cols} height={1}>
          {grid}
          {row.marks.map((m) => (
            <Box key={m.col} position="absolute" left={m.col} height={1}>
              <Text color={toneColor(theme, m.tone)} wrap="truncate">
                {m.text}
              </Text>
            </Box>
          ))}
        </Box>
      </Box>
    );
  },
  (a, b) =>
    a.row.sig === b.row.sig &&
    a.grid === b.grid &&
    a.selected === b.selected &&
    a.labelWidth === b.labelWidth &&
    a.cols === b.cols,
);

/** The empty grid, one styled line (every row draws this same element). */
function Grid({ runs }: { runs: readonly Run[] }) {
  const theme = useTheme();
  return (
    <Text wrap="truncate">
      {runs.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: runs are positional
        <Text key={i} color={toneColor(theme, r.tone)}>
          {r.text}
        </Text>
      ))}
    </Text>
  );
}

/** The timeline: axis and rows, from the schedule at the hour (not the second). */
const Timeline = memo(function Timeline({
  schedule,
  nodes,
  keypairs,
  selected,
  hour,
  width,
  height,
}: {
  schedule: Schedule;
  nodes: readonly string[];
  /** Key pair rows (`sa:<id>`). */
  keypairs: readonly string[];
  /** The selected row's key (`node:<name>`, `ca:<fingerprint>`, `sa:<id>`). */
  selected: string;
  hour: number;
  width: number;
  height: number;
}) {
  const theme = useTheme();
  const allLabels = [
    ...nodes,
    ...schedule.intermediates.map((c) => c.cn),
    ...keypairs.map(keypairLabel),
  ];
  const labelWidth = Math.max(6, Math.min(16, Math.max(0, ...allLabels.map((l) => l.length))));
  const cols = Math.max(4, width - labelWidth - 2);
  const w = useMemo(() => timelineWindow(hour, TIMELINE_DAYS, cols), [hour, cols]);
  // Only the rows on screen are computed (a window around the selected node).
  const keys = useMemo(() => timelineKeys(schedule, nodes, keypairs), [schedule, nodes, keypairs]);
  const body = Math.max(0, height - 1);
  const sel = Math.max(0, keys.indexOf(selected));
  const start = windowStart(sel, keys.length, body);
  const visibleKeys = useMemo(() => keys.slice(start, start + body), [keys, start, body]);
  const visible = useMemo(() => timelineRows(schedule, visibleKeys, w), [schedule, visibleKeys, w]);
  const grid = useMemo(() => <Grid runs={gridRuns(w)} />, [w]);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box height={1}>
        <Text color={theme.dim} wrap="truncate">
          {`${' '.repeat(labelWidth + 2)}${axisLine(w)}`}
        </Text>
      </Box>
      {visible.map((r) => (
        <TrackRow
          key={r.key}
          row={r}
          grid={grid}
          selected={r.key === selected}
          labelWidth={labelWidth}
          cols={cols}
        />
      ))}
    </Box>
  );
});

interface Line {
  key: string;
  node: React.ReactNode;
}

function detailLines(
  n: NodeSchedule | undefined,
  schedule: Schedule,
  nodeCount: number,
  clock: Clock,
  theme: Theme,
): Line[] {
  const out: Line[] = [];
  if (!n) return [{ key: 'none', node: <Text color={theme.dim}>no node selected</Text> }];
  out.push({
    key: 'head',
    node: (
      <Text>
        <Text bold>{n.name}</Text>
        {` · node ${n.index} of ${nodeCount} · slot +${dur(n.offsetMs)} · ${n.roles.join(', ')}`}
      </Text>
    ),
  });
  if (n.error !== undefined) {
    out.push({
      key: 'err',
      node: <Text color={theme.bad}>{`certificates unreadable: ${n.error}`}</Text>,
    });
  } else if (n.pending) {
    out.push({ key: 'pending', node: <Text color={theme.dim}>no answer yet</Text> });
  }
  const until = schedule.now + TIMELINE_DAYS * DAY;
  const events = n.events.filter((e) => e.at <= until);
  if (events.length === 0 && !n.error && !n.pending)
    out.push({
      key: 'none',
      node: <Text color={theme.dim}>{`no rotation in the next ${TIMELINE_DAYS} days`}</Text>,
    });
  for (const e of events) {
    out.push({
      key: `e${e.at}`,
      node: (
        <Text>
          <Text
            color={e.overdue ? theme.warn : theme.accent}
          >{`${MARK.rotation} ${iso(e.at)} `}</Text>
          {e.overdue ? (
            <Text color={theme.warn}>overdue</Text>
          ) : (
            <Countdown clock={clock} notAfter={e.at} fine={false} />
          )}
          {`  ${e.certs.join(', ')}`}
          <Text color={theme.dim}>{`  restart: ${e.units.join(', ') || 'none'}`}</Text>
        </Text>
      ),
    });
  }
  if (events.some((e) => e.units.length > 0))
    out.push({
      key: 'gate',
      node: (
        <Text color={theme.dim}>
          gate: each unit, one at a time, active within 120 s (systemctl is-active), else the
          previous key and certificate are put back
        </Text>
      ),
    });
  return out;
}

/** The details of a selected intermediate or the service-account keys (`c`), and what R does. */
function otherRowLines(row: OtherRow, schedule: Schedule, theme: Theme): Line[] {
  const out: Line[] = [];
  if (row.kind === 'ca') {
    const c = schedule.intermediates.find((x) => `ca:${x.fingerprint}` === row.key);
    out.push({
      key: 'head',
      node: (
        <Text>
          <Text bold>{row.label}</Text>
          {c
            ? ` · successor in every bundle by ${iso(c.bundleByMs)} · signs from ${iso(c.dueMs)} · expires ${iso(c.notAfter)}`
            : ''}
        </Text>
      ),
    });
    out.push({
      key: 'steps',
      node: (
        <Text color={theme.dim}>
          R: successor key + CSR at the signer; the root signs offline (k8ops rotate --ca{' '}
          {row.target} --successor FILE); bundles on every node, units restarted one at a time; the
          switch after the bundle lead; the retire after its last leaf
        </Text>
      ),
    });
  } else {
    out.push({
      key: 'head',
      node: (
        <Text>
          <Text bold>{row.label}</Text>
          {' · no expiry: rotated on demand'}
        </Text>
      ),
    });
    out.push({
      key: 'steps',
      node: (
        <Text color={theme.dim}>
          R: a new signing key on each control-plane node (never copied); every API server trusts
          every new public key, then each node switches, one at a time; the old keys stay trusted
          for the overlap, then a later run drops them
        </Text>
      ),
    });
  }
  out.push({
    key: 'esc',
    node: <Text color={theme.dim}>c: next row · Esc: back to the node list's node</Text>,
  });
  return out;
}

export function RotationPane({ model, derived, clock, width, height }: RotationPaneProps) {
  const theme = useTheme();
  // The timeline's origin moves per hour; nothing here reads the second.
  const hour = Math.floor(useNow(clock, 'minute') / 3_600_000) * 3_600_000;
  const { schedule, settings } = derived;
  const base = model.settings;
  const rb = (v: number | undefined) => (v === undefined ? '⅓ lifetime' : dur(v));
  const conflicts = schedule.conflicts;
  const node = schedule.nodes.find((n) => n.name === derived.selected);
  const keypairs = useMemo(
    () => derived.rows.filter((r) => r.kind === 'sa-key').map((r) => r.target),
    [derived.rows],
  );
  const timelineRowCount =
    derived.nodes.length +
    schedule.intermediates.filter((c) => !c.superseded).length +
    keypairs.length;

  const detail = derived.row
    ? otherRowLines(derived.row, schedule, theme)
    : detailLines(node, schedule, model.input.nodeCount, clock, theme);
  const conflictLines: Line[] = conflicts.map((c, i) => ({
    key: `c${i}`,
    node: <Text color={theme.bad}>{`${MARK.conflict} ${c.kind}: ${c.message}`}</Text>,
  }));

  // Height: settings line, timeline (axis + rows), a rule, the details and conflicts.
  const head = 1;
  const wantDetail = Math.min(detail.length + conflictLines.length + 1, 10);
  const timelineH = Math.max(
    Math.min(2, height - head),
    Math.min(timelineRowCount + 1, height - head - wantDetail),
  );
  const rest = Math.max(0, height - head - timelineH);
  const lines: Line[] = [];
  if (rest > 0)
    lines.push({
      key: 'rule',
      node: <Text color={theme.dim}>{`-- ${LEGEND} `.padEnd(width, '-')}</Text>,
    });
  const room = rest - lines.length;
  const conflictRoom = Math.min(conflictLines.length, Math.max(1, Math.floor(room / 2)));
  const detailRoom = Math.max(
    0,
    room - (conflictLines.length > 0 ? Math.min(conflictRoom, room) : 0),
  );
  lines.push(...detail.slice(0, detailRoom));
  const leftForConflicts = rest - lines.length;
  if (leftForConflicts > 0 && conflictLines.length > 0) {
    const shown =
      conflictLines.length <= leftForConflicts
        ? conflictLines
        : [
            ...conflictLines.slice(0, leftForConflicts - 1),
            {
              key: 'more',
              node: (
                <Text
                  color={theme.bad}
                >{`… ${conflictLines.length - leftForConflicts + 1} more conflicts (k8ops rotate plan)`}</Text>
              ),
            },
          ];
    lines.push(...shown);
  }

  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Box height={1} overflow="hidden">
        <Text wrap="truncate">
          <Text color={theme.warn} bold>
            {derived.changed ? 'PREVIEW ONLY, not saved (w saves)' : 'PREVIEW ONLY, not saved'}
          </Text>
          <Text color={conflicts.length ? theme.bad : theme.ok}>
            {conflicts.length
              ? ` · ${MARK.conflict} ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}`
              : ' · no conflicts'}
          </Text>
          <Text>{` · spread ${dur(settings.spreadMs)}`}</Text>
          {settings.spreadMs !== base.spreadMs ? (
            <Text color={theme.dim}>{` (inventory ${dur(base.spreadMs)})`}</Text>
          ) : null}
          <Text>{` · renew before ${rb(settings.renewBeforeMs)}`}</Text>
          {settings.renewBeforeMs !== base.renewBeforeMs ? (
            <Text color={theme.dim}>{` (inventory ${rb(base.renewBeforeMs)})`}</Text>
          ) : null}
        </Text>
      </Box>
      {timelineH > 0 ? (
        <Timeline
          schedule={schedule}
          nodes={derived.nodes}
          keypairs={keypairs}
          selected={derived.row?.key ?? `node:${derived.selected}`}
          hour={hour}
          width={width}
          height={timelineH}
        />
      ) : null}
      {lines.map((l) => (
        <Box key={l.key} height={1} width={width}>
          <Text wrap="truncate">{l.node}</Text>
        </Box>
      ))}
    </Box>
  );
}
