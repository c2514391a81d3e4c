/**
 * The Flows pane: the streams' state and counts, a verdict-rate sparkline over the last
 * minute, the newest flows (time, node, verdict, source → destination, L4/L7, drop reason,
 * direction), drops grouped by reason, top talkers and lost events. Redrawn once a second
 * (the feature's `drawEvery`: on the clock's tick, whatever the flow rate) and on a key;
 * capped to its height.
 */
import { Box, Text } from 'ink';
import { useEffect } from 'react';
import { sideName } from '../../../src/features/flows/aggregate.js';
import { type FlowsModel, RELAY_ROW, relayReach } from '../../../src/features/flows/model.js';
import { consoleFlowQuery } from '../../../src/features/flows/query.js';
import type { FlowRecord } from '../../../src/features/flows/types.js';
import { type Column, Table } from '../../components/Table.js';
import { useTheme } from '../../theme.js';
import { type FlowsDerived, type FlowsUi, flowKey } from './bindings.js';

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of `values` (oldest first), scaled to their maximum. */
export function sparkline(values: readonly number[], width: number): string {
  const v = values.slice(-width);
  const max = Math.max(1, ...v);
  return v.map((x) => (x <= 0 ? ' ' : BARS[Math.min(7, Math.floor((x / max) * 7.999))])).join('');
}

const hms = (ms: number): string => {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '-' : d.toISOString().slice(11, 23);
};

const shortNode = (n: string): string => n.slice(n.lastIndexOf('/') + 1);

/** hubble-relay says some agents are out of its reach. */
const relayMissing = (m: FlowsModel): boolean =>
  (m.relay?.unavailable ?? 0) > 0 || (m.relay?.unavailableNodes.length ?? 0) > 0;

const fmt = (n: number): string => n.toLocaleString('en-US');

/** `s` cut to `w` columns with an ellipsis, so a column keeps a blank before the next. */
const cut = (s: string, w: number): string =>
  s.length <= w ? s : `${s.slice(0, Math.max(0, w - 1))}…`;

export interface FlowsPaneProps {
  /** What is shown comes from `derived.model` (the frozen one while paused). */
  ui: FlowsUi;
  derived: FlowsDerived;
  width: number;
  height: number;
}

export function FlowsPane({ ui, derived, width, height }: FlowsPaneProps) {
  const theme = useTheme();
  // The pane's filter drives the server-side filters, once typing settles.
  useEffect(() => {
    const t = setTimeout(() => consoleFlowQuery.set(ui.filter), 400);
    return () => clearTimeout(t);
  }, [ui.filter]);

  const m = derived.model;
  if (ui.detail && derived.detail) {
    const { lines, height: h } = derived.detail;
    const shown = lines.slice(ui.scroll, ui.scroll + h);
    return (
      <Box flexDirection="column" height={height} overflow="hidden">
        <Text bold wrap="truncate">
          Flow {ui.scroll + 1}–{Math.min(lines.length, ui.scroll + h)} of {lines.length} lines
          (hubble observe -o jsonpb)
        </Text>
        {shown.map((l, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines of one document, in order
          <Text key={i} wrap="truncate">
            {l}
          </Text>
        ))}
      </Box>
    );
  }

  const streaming = m.nodes.filter((n) => n.state === 'streaming').length;
  const failing = m.nodes.filter((n) => n.error !== undefined);
  const fills = m.nodes.flatMap((n) => (n.ring && n.ring.max > 0 ? [n.ring.num / n.ring.max] : []));
  const fill = fills.length ? Math.round(Math.max(...fills) * 100) : undefined;
  const lastFull = m.rate.at(-2);
  const side = Math.max(24, Math.floor(width / 2) - 1);
  const bottom = Math.min(7, Math.max(3, Math.floor(height / 4)));
  const problems = failing.length > 0 ? 1 : 0;
  const tableHeight = Math.max(3, height - 3 - problems - bottom - (m.note ? 1 : 0));

  // Narrow panes shorten the drop reason; the pair column takes what is left.
  const reasonWidth = width >= 140 ? 26 : 16;
  const fixed = 13 + 10 + 10 + 9 + reasonWidth + 8;
  const pair = Math.max(20, width - fixed - 1);
  const columns: Column<FlowRecord>[] = [
    { key: 'time', title: 'TIME', width: 13, render: (f) => hms(f.timeMs) },
    { key: 'node', title: 'NODE', width: 10, render: (f) => shortNode(f.node) },
    {
      key: 'verdict',
      title: 'VERDICT',
      width: 10,
      render: (f, sel) => (
        <Text
          color={
            sel
              ? undefined
              : f.verdict === 'DROPPED'
                ? theme.bad
                : f.verdict === 'FORWARDED'
                  ? theme.ok
                  : theme.warn
          }
        >
          {f.verdict}
        </Text>
      ),
    },
    {
      key: 'pair',
      title: 'SOURCE -> DESTINATION',
      width: pair,
      render: (f) => cut(`${sideName(f.src, false)} -> ${sideName(f.dst, true)}`, pair - 1),
    },
    {
      key: 'proto',
      title: 'L4/L7',
      width: 9,
      render: (f) => (f.l7 ? `${f.l4}/${f.l7}` : f.l4 || '-'),
    },
    {
      key: 'reason',
      title: 'DROP REASON',
      width: reasonWidth,
      render: (f) => cut(f.dropReason, reasonWidth - 1),
    },
    { key: 'dir', title: 'DIR', width: 8, render: (f) => f.direction.toLowerCase() },
  ];

  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text wrap="truncate">
        {ui.paused ? (
          <Text inverse color={theme.warn}>
            {' PAUSED '}
          </Text>
        ) : null}
        {ui.paused ? ' ' : ''}
        {derived.filterError ? (
          <Text color={theme.bad}>filter: {derived.filterError} · </Text>
        ) : null}
        {m.relay || (m.nodes.length === 1 && m.nodes[0]?.node === RELAY_ROW) ? (
          <Text color={streaming === 1 && !relayMissing(m) ? theme.ok : theme.warn}>
            {streaming === 1 ? 'relay streaming' : 'relay not streaming'}
            {m.relay ? ` · ${relayReach(m.relay)}` : ''}
          </Text>
        ) : (
          <Text color={streaming === m.nodes.length ? theme.ok : theme.warn}>
            {streaming}/{m.nodes.length} streaming
          </Text>
        )}
        {/* The filter early in the line: what the counts are of, before they get cut. */}
        {derived.filterError ? null : (
          <Text color={theme.dim}> · filter: {m.query || '(none: / sets one)'}</Text>
        )}
        {' · '}
        {fmt(m.total)} flows
        {' · '}
        <Text color={theme.ok}>fwd {fmt(m.byVerdict.FORWARDED ?? 0)}</Text>{' '}
        <Text color={theme.bad}>drop {fmt(m.byVerdict.DROPPED ?? 0)}</Text>
        {' · '}
        <Text color={m.lostTotal > 0 ? theme.warn : undefined}>lost {fmt(m.lostTotal)}</Text>
        {fill !== undefined ? ` · agent ring ${fill}% full` : ''}
      </Text>
      <Text wrap="truncate">
        <Text color={theme.dim}>fwd/s </Text>
        <Text color={theme.ok}>
          {sparkline(
            m.rate.map((p) => p.forwarded),
            Math.min(60, side - 20),
          ).padEnd(Math.min(60, side - 20))}
        </Text>
        <Text> {String(lastFull?.forwarded ?? 0).padStart(5)}</Text>
        <Text color={theme.dim}> drop/s </Text>
        <Text color={theme.bad}>
          {sparkline(
            m.rate.map((p) => p.dropped),
            Math.min(60, side - 20),
          ).padEnd(Math.min(60, side - 20))}
        </Text>
        <Text> {String(lastFull?.dropped ?? 0).padStart(4)}</Text>
      </Text>
      {m.note ? (
        <Text color={theme.dim} wrap="truncate">
          {m.note}
        </Text>
      ) : null}
      {failing.length > 0 ? (
        <Text color={theme.bad} wrap="truncate">
          {/* A relay's error already names it (and the node it is dialled through). */}
          {failing
            .map((n) => (n.node === RELAY_ROW ? n.error : `${n.node}: ${n.error}`))
            .join(' · ')}
        </Text>
      ) : null}
      <Table
        columns={columns}
        rows={derived.rows}
        rowKey={flowKey}
        byPosition
        {...(derived.selected !== undefined ? { selectedKey: derived.selected } : {})}
        height={tableHeight}
        width={width}
        empty={streaming === 0 ? 'connecting to Hubble…' : 'no flows match'}
      />
      <Box height={bottom + 1} overflow="hidden">
        <Box flexDirection="column" width={side}>
          <Text bold wrap="truncate">
            Drops by reason
          </Text>
          {m.drops.length === 0 ? <Text color={theme.dim}>none</Text> : null}
          {m.drops.slice(0, bottom - 1).map((d) => (
            <Text key={d.reason} wrap="truncate">
              <Text color={theme.bad}>{fmt(d.count).padStart(7)}</Text> {d.reason}
            </Text>
          ))}
          <Text color={m.lostTotal > 0 ? theme.warn : theme.dim} wrap="truncate">
            {m.lost.length > 0
              ? `lost ${fmt(m.lostTotal)}: last ${m.lost[0]?.count} ${m.lost[0]?.source} on ${shortNode(m.lost[0]?.node ?? '')}`
              : 'no lost events'}
          </Text>
        </Box>
        <Box flexDirection="column" width={Math.max(10, width - side)}>
          <Text bold wrap="truncate">
            Top talkers (flows, drops)
          </Text>
          {m.talkers.slice(0, bottom).map((t) => (
            <Text key={t.key} wrap="truncate">
              {fmt(t.flows).padStart(7)}{' '}
              {t.drops > 0 ? <Text color={theme.bad}>{fmt(t.drops).padStart(5)}</Text> : '     '}{' '}
              {t.key}
            </Text>
          ))}
        </Box>
      </Box>
    </Box>
  );
}
