/**
 * The NGINX pane: where the access log comes from, the ingress cache over the chosen window
 * (1, 5 or 15 min: `w`) — request rate, hit ratio, counts per cache status, bytes served
 * from the cache, upstream p50/p95, status classes, a 15-minute sparkline — per host
 * (busiest first; a host that never caches is flagged), the lines that did not parse
 * (counted always, shown with `u`), the proxy cache's size on disk per nginx and zone
 * against max_size, and the ACME certificates of the ingress with their countdowns and
 * checks. Capped to its height.
 */
import { Box, Text } from 'ink';
import { useMemo } from 'react';
import type { AcmeRow } from '../../../src/features/nginx/acme.js';
import { formatDuration } from '../../../src/features/nginx/format-time.js';
import {
  CACHE_LABELS,
  fmtBytes,
  fmtPct,
  fmtRate,
  fmtSeconds,
  type HostStats,
  type NginxModel,
  sparkline,
} from '../../../src/features/nginx/model.js';
import { CACHE_STATUSES } from '../../../src/features/nginx/parse.js';
import { roleUrgency } from '../../../src/pki/expiry.js';
import { SEVERITY_MARK } from '../../../src/pki/text.js';
import type { Clock } from '../../../src/store/clock.js';
import { Countdown } from '../../components/Countdown.js';
import { type Column, Table } from '../../components/Table.js';
import { useNow } from '../../hooks/useClock.js';
import { useTheme } from '../../theme.js';
import type { NginxDerived, NginxUi } from './bindings.js';

export interface NginxPaneProps {
  model: NginxModel;
  ui: NginxUi;
  derived: NginxDerived;
  clock: Clock;
  width: number;
  height: number;
}

const num = (n: number) => String(n);

function hostColumns(wi: number, theme: ReturnType<typeof useTheme>): Column<HostStats>[] {
  const w = (h: HostStats) => h.windows[wi]!;
  const cacheCols: Column<HostStats>[] = CACHE_STATUSES.map((s, i) => ({
    key: s,
    title: CACHE_LABELS[s],
    width: s === 'REVALIDATED' || s === 'STALE' ? 7 : 6,
    align: 'right',
    render: (h) => <Text wrap="truncate">{num(w(h).cache[CACHE_STATUSES[i]!])}</Text>,
  }));
  return [
    {
      key: 'host',
      title: 'HOST',
      width: 28,
      render: (h) => (
        <Text wrap="truncate" color={h.neverCaches ? theme.warn : undefined}>
          {h.host}
        </Text>
      ),
    },
    {
      key: 'rate',
      title: 'REQ/S',
      width: 8,
      align: 'right',
      render: (h) => <Text>{fmtRate(w(h).rate)}</Text>,
    },
    {
      key: 'hit',
      title: 'HIT%',
      width: 8,
      align: 'right',
      render: (h) => (
        <Text color={h.neverCaches ? theme.warn : undefined}>
          {h.neverCaches ? 'never' : fmtPct(w(h).hitRatio)}
        </Text>
      ),
    },
    ...cacheCols,
    {
      key: '5xx',
      title: '5XX',
      width: 6,
      align: 'right',
      render: (h) => (
        <Text color={w(h).classes['5xx']! > 0 ? theme.bad : undefined}>
          {num(w(h).classes['5xx'] ?? 0)}
        </Text>
      ),
    },
    {
      key: 'cached',
      title: 'CACHED',
      width: 10,
      align: 'right',
      render: (h) => <Text>{fmtBytes(w(h).cacheBytes)}</Text>,
    },
    {
      key: 'p95',
      title: 'UP P95',
      width: 9,
      align: 'right',
      render: (h) => <Text>{fmtSeconds(w(h).upstreamP95)}</Text>,
    },
    {
      key: 'spark',
      title: ' LAST 15 MIN',
      width: 32,
      render: (h) => (
        <Text color={theme.accent} wrap="truncate">
          {` ${sparkline(h.spark)}`}
        </Text>
      ),
    },
  ];
}

/** The columns that fit `width`, the most important first, shown in their own order. */
function fitColumns<R>(cols: Column<R>[], priority: readonly string[], width: number): Column<R>[] {
  const keep = new Set<string>();
  let used = 0;
  for (const key of priority) {
    const c = cols.find((x) => x.key === key);
    if (!c || used + c.width > width) continue;
    keep.add(key);
    used += c.width;
  }
  return cols.filter((c) => keep.has(c.key));
}

const HOST_PRIORITY = [
  'host',
  'rate',
  'hit',
  'HIT',
  'MISS',
  'BYPASS',
  '-',
  'EXPIRED',
  'STALE',
  '5xx',
  'UPDATING',
  'REVALIDATED',
  'cached',
  'p95',
  'spark',
];
const ACME_PRIORITY = ['name', 'expires', 'check', 'ready', 'renewal', 'issuer'];

function Renewal({ clock, at }: { clock: Clock; at: number | undefined }) {
  const now = useNow(clock, 'minute');
  if (at === undefined) return <Text>—</Text>;
  const d = at - now;
  return (
    <Text wrap="truncate">
      {d >= 0 ? `in ${formatDuration(d)}` : `due ${formatDuration(-d)} ago`}
    </Text>
  );
}

function acmeColumns(
  clock: Clock,
  theme: ReturnType<typeof useTheme>,
  width: number,
): Column<AcmeRow>[] {
  // The findings take what is left (the issuer only on a wide pane).
  const fixed = 28 + 7 + 18 + 16 + (width >= 130 ? 30 : 0);
  const checkWidth = Math.max(20, width - fixed);
  const sevColor = (r: AcmeRow) =>
    r.worst === 'critical' ? theme.bad : r.worst === 'warning' ? theme.warn : theme.ok;
  return [
    {
      key: 'name',
      title: 'CERTIFICATE',
      width: 28,
      render: (r) => (
        <Text wrap="truncate" color={sevColor(r)}>
          {`${r.worst ? SEVERITY_MARK[r.worst] : SEVERITY_MARK.ok} ${r.namespace}/${r.name}`}
        </Text>
      ),
    },
    {
      key: 'issuer',
      title: 'ISSUER',
      width: 30,
      render: (r) => <Text wrap="truncate">{r.issuer}</Text>,
    },
    {
      key: 'ready',
      title: 'READY',
      width: 7,
      render: (r) => (
        <Text color={r.ready ? theme.ok : theme.warn}>
          {r.ready === undefined ? '?' : r.ready ? 'True' : 'False'}
        </Text>
      ),
    },
    {
      key: 'expires',
      title: 'EXPIRES IN',
      width: 18,
      render: (r) =>
        r.notAfter === undefined ? (
          <Text>—</Text>
        ) : (
          <Countdown
            clock={clock}
            notAfter={r.notAfter}
            fine={false}
            urgencyAt={(now) =>
              roleUrgency(
                'leaf',
                { notBefore: r.notBefore ?? r.notAfter! - 90 * 86_400_000, notAfter: r.notAfter! },
                now,
              )
            }
          />
        ),
    },
    {
      key: 'renewal',
      title: 'RENEWAL',
      width: 16,
      render: (r) => <Renewal clock={clock} at={r.renewalTime} />,
    },
    {
      key: 'check',
      title: 'HOSTS · CHECKS',
      width: checkWidth,
      render: (r) => (
        <Text wrap="truncate" color={r.findings.length > 0 ? sevColor(r) : undefined}>
          {r.findings.length > 0
            ? r.findings.map((f) => f.message).join(' · ')
            : `${r.sans.join(', ')}${r.ingressHosts.length > 0 ? ' ✓ covers every Ingress host' : ''}`}
        </Text>
      ),
    },
  ];
}

/** One line: each nginx's cache zone on disk against max_size (the inventory's zone first). */
function CacheLine({
  cache: c,
  theme,
}: {
  cache: NginxModel['cache'];
  theme: ReturnType<typeof useTheme>;
}) {
  const parts = c.rows.map((r) => {
    const size =
      r.bytes === undefined
        ? `? (${r.error ?? 'not read'})`
        : `${fmtBytes(r.bytes)} of ${r.maxBytes === undefined ? 'unlimited' : `${fmtBytes(r.maxBytes)} (${fmtPct(r.fill ?? 0)})`}`;
    return {
      text: `${r.zone} ${size} on ${r.node}`,
      bad: r.bytes === undefined,
      full: (r.fill ?? 0) >= 0.95,
    };
  });
  return (
    <Text wrap="truncate">
      <Text color={theme.dim}>{'cache on disk '}</Text>
      {parts.length === 0 ? (
        <Text color={theme.dim}>
          {c.errors.length > 0
            ? ''
            : c.pending > 0
              ? 'reading…'
              : c.nginxNodes === 0
                ? 'no nginx found on the nodes'
                : 'no proxy_cache_path in the nginx configuration'}
        </Text>
      ) : null}
      {parts.map((p, i) => (
        <Text key={p.text} color={p.bad ? theme.bad : p.full ? theme.warn : undefined}>
          {i > 0 ? ' · ' : ''}
          {p.text}
        </Text>
      ))}
      {c.errors.length > 0 ? (
        <Text color={theme.bad}>{`${parts.length > 0 ? ' · ' : ''}${c.errors.join(' · ')}`}</Text>
      ) : null}
    </Text>
  );
}

export function NginxPane({ model: m, ui, derived, clock, width, height }: NginxPaneProps) {
  const theme = useTheme();
  const wi = derived.windowIndex;
  // The same columns while the window, theme and width hold: a table's rows are memoised on
  // them, so an unchanged row (an ACME certificate between minutes) is not drawn again.
  const hostCols = useMemo(
    () => fitColumns(hostColumns(wi, theme), HOST_PRIORITY, width),
    [wi, theme, width],
  );
  const acmeCols = useMemo(
    () => fitColumns(acmeColumns(clock, theme, width), ACME_PRIORITY, width),
    [clock, theme, width],
  );
  const o = m.overall.windows[wi]!;
  const acmeRows = m.acme.rows;
  const acmeLines =
    m.acme.absent || m.acme.error || m.acme.pending || acmeRows.length === 0
      ? 2
      : Math.min(acmeRows.length, 6) + 2;
  const unparsedLines = ui.showUnparsed ? Math.min(m.samples.length, 5) + 1 : 0;
  // The host table as tall as its rows, within what is left.
  const hostsHeight = Math.max(
    2,
    Math.min(m.hosts.length + 1, height - 7 - acmeLines - unparsedLines),
  );
  const statuses = CACHE_STATUSES.map((s) => `${CACHE_LABELS[s]} ${o.cache[s]}`).join('  ');
  const staleNote =
    o.cache.STALE > 0
      ? o.staleFailed > 0
        ? ` · ${o.staleFailed} STALE because the upstream failed (5xx or no answer)`
        : ' · STALE: background refreshes (the upstream answered)'
      : '';
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text wrap="truncate" color={theme.dim}>
        {`${m.sourceText} · ${m.lines} lines, ${m.unparseable} unparseable${m.missed > 0 ? `, ${m.missed} missed` : ''}`}
      </Text>
      <Text wrap="truncate" color={theme.bad}>
        {m.errors.length > 0 ? m.errors.join(' · ') : m.pending ? '' : ' '}
      </Text>
      <Text wrap="truncate">
        <Text bold>{`all hosts · last ${derived.minutes} min: `}</Text>
        {`${fmtRate(o.rate)} req/s · hit ${fmtPct(o.hitRatio)} · from cache ${fmtBytes(o.cacheBytes)} of ${fmtBytes(o.bytes)} · upstream p50 ${fmtSeconds(o.upstreamP50)} p95 ${fmtSeconds(o.upstreamP95)} · ${Object.entries(
          o.classes,
        )
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
          .join(' ')}`}
      </Text>
      <Text wrap="truncate">{`${statuses}${staleNote}`}</Text>
      <Text wrap="truncate">
        <Text color={theme.dim}>{'requests, last 15 min '}</Text>
        <Text color={theme.accent}>{sparkline(m.overall.spark)}</Text>
      </Text>
      <CacheLine cache={m.cache} theme={theme} />
      <Table
        columns={hostCols}
        rows={m.hosts}
        rowKey={(h) => h.host}
        height={hostsHeight}
        width={width}
        empty={
          m.pending
            ? 'waiting for the first log lines…'
            : 'no access log lines in the last 15 minutes'
        }
      />
      {ui.showUnparsed ? (
        <Box flexDirection="column">
          <Text
            bold
          >{`lines that did not parse (${m.unparseable}; the last ${m.samples.length})`}</Text>
          {m.samples.slice(-5).map((s, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the last five, redrawn as a whole
            <Text key={i} wrap="truncate" color={theme.dim}>
              {`${s.error}: ${s.line}`}
            </Text>
          ))}
        </Box>
      ) : null}
      <Text bold wrap="truncate">
        {'ACME certificates (cert-manager)'}
      </Text>
      {m.acme.absent || m.acme.error || m.acme.pending || acmeRows.length === 0 ? (
        <Text wrap="truncate" color={m.acme.error ? theme.bad : theme.dim}>
          {m.acme.error ??
            m.acme.absent ??
            (m.acme.pending ? 'waiting for the kube watch…' : 'no Certificates')}
        </Text>
      ) : (
        <Table
          columns={acmeCols}
          rows={acmeRows}
          rowKey={(r) => `${r.namespace}/${r.name}`}
          height={Math.min(acmeRows.length, 6) + 1}
          width={width}
        />
      )}
    </Box>
  );
}
