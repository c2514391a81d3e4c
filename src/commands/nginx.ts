/**
 * `k8ops nginx [--json]`: the NGINX pane headless, from the same model — the ingress cache
 * per host over 1/5/15 minutes, the lines that did not parse, and the ACME certificates.
 * Exit code: 0 ok; 1 an ACME certificate has a finding; 3 no access log could be read.
 */
import type { AcmeRow } from '../features/nginx/acme.js';
import {
  CACHE_LABELS,
  fmtBytes,
  fmtPct,
  fmtRate,
  fmtSeconds,
  type HostStats,
  type NginxModel,
  nginxFeature,
  sparkline,
} from '../features/nginx/model.js';
import { CACHE_STATUSES } from '../features/nginx/parse.js';
import { formatCountdownCoarse } from '../pki/expiry.js';
import type { Session } from '../session/session.js';
import { safeJson } from '../store/sanitise.js';
import { EXIT, formatTable, holdOpen, type Out, settleOnce } from './common.js';

export const NGINX_EXIT = { ...EXIT, noLog: 3 } as const;

export function nginxExitCode(m: NginxModel): number {
  if (m.source === 'none' || (m.lines === 0 && m.errors.length > 0)) return NGINX_EXIT.noLog;
  if (m.acme.rows.some((r) => r.findings.length > 0)) return NGINX_EXIT.problem;
  return NGINX_EXIT.ok;
}

const modelOf = (session: Session, now: number): NginxModel =>
  nginxFeature.model({
    inventory: session.inventory,
    read: (s, src) => session.store.get(s, src),
    now,
    hasKube: session.hasKube,
  });

const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());

function acmeJson(r: AcmeRow, now: number): unknown {
  return {
    namespace: r.namespace,
    name: r.name,
    secretName: r.secretName,
    issuer: r.issuer,
    ready: r.ready ?? null,
    readyReason: r.readyReason ?? null,
    issuing: r.issuing,
    notAfter: iso(r.notAfter),
    remainingSeconds: r.notAfter === undefined ? null : Math.floor((r.notAfter - now) / 1000),
    statusNotAfter: iso(r.statusNotAfter),
    renewalTime: iso(r.renewalTime),
    fingerprint: r.cert?.fingerprint ?? null,
    sans: r.sans,
    ingressHosts: r.ingressHosts,
    uncovered: r.uncovered,
    secretError: r.secretError ?? null,
    findings: r.findings,
    severity: r.worst ?? null,
  };
}

const hostJson = (h: HostStats) => ({
  host: h.host,
  neverCaches: h.neverCaches,
  windows: h.windows,
  sparkline: { stepSeconds: 30, requests: h.spark },
});

/** The cache on disk: one line per nginx and zone, size against max_size. */
function cacheText(m: NginxModel): string[] {
  const c = m.cache;
  const out = ['proxy cache on disk (du of each proxy_cache_path, per nginx):'];
  for (const e of c.errors) out.push(`  error: ${e}`);
  if (c.rows.length === 0) {
    if (c.errors.length === 0)
      out.push(
        c.nginxNodes === 0
          ? '  no nginx master process found on the nodes'
          : '  no proxy_cache_path in the nginx configuration',
      );
    return out;
  }
  out.push(
    ...formatTable(
      ['NODE', 'NGINX PID', 'ZONE', 'ON DISK', 'MAX_SIZE', 'FILL', 'PATH'],
      c.rows.map((r) => [
        r.node,
        String(r.pid),
        r.configured ? `${r.zone} *` : r.zone,
        r.bytes === undefined ? `— (${r.error ?? 'not read'})` : fmtBytes(r.bytes),
        r.maxBytes === undefined ? 'unlimited' : fmtBytes(r.maxBytes),
        r.fill === undefined ? '—' : fmtPct(r.fill),
        r.path,
      ]),
    ).map((l) => `  ${l}`),
  );
  if (c.rows.some((r) => r.configured)) out.push('  * the zone ingress.cacheZone names');
  return out;
}

export async function nginxCommand(session: Session, json: boolean, out: Out): Promise<number> {
  await settleOnce(session);
  // Log lines arrive through the kube log follow (or the first tail) just after the watches
  // answer: wait a little for the first ones, bounded.
  await holdOpen(async () => {
    const end = Date.now() + 3000;
    while (Date.now() < end) {
      const m = modelOf(session, Date.now());
      if (m.source === 'none' || m.lines > 0 || m.errors.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  const now = Date.now();
  const m = modelOf(session, now);
  if (json) {
    const doc = {
      cluster: session.inventory.cluster,
      mode: session.mode,
      context: session.context ?? null,
      generatedAt: iso(now),
      exitCode: nginxExitCode(m),
      source: { kind: m.source, text: m.sourceText, errors: m.errors },
      lines: { total: m.lines, parsed: m.parsed, unparseable: m.unparseable, missed: m.missed },
      unparsedSamples: m.samples,
      lastLineAt: iso(m.lastLineAt),
      overall: hostJson(m.overall),
      hosts: m.hosts.map(hostJson),
      acme: {
        absent: m.acme.absent ?? null,
        error: m.acme.error ?? null,
        certificates: m.acme.rows.map((r) => acmeJson(r, now)),
      },
      cache: {
        nginxNodes: m.cache.nginxNodes,
        zones: m.cache.rows.map((r) => ({
          node: r.node,
          pid: r.pid,
          zone: r.zone,
          configured: r.configured,
          path: r.path,
          bytes: r.bytes ?? null,
          maxBytes: r.maxBytes ?? null,
          fill: r.fill ?? null,
          error: r.error ?? null,
        })),
        errors: m.cache.errors,
      },
    };
    out.write(`${safeJson(doc, 2)}\n`);
    return nginxExitCode(m);
  }
  const lines: string[] = [];
  lines.push(`source: ${m.sourceText}`);
  for (const e of m.errors) lines.push(`error: ${e}`);
  lines.push(
    `lines: ${m.lines} read, ${m.unparseable} unparseable${m.missed > 0 ? `, ${m.missed} missed` : ''}`,
  );
  for (const s of m.samples) lines.push(`  unparsed (${s.error}): ${s.line}`);
  const o = m.overall.windows;
  lines.push(
    `all hosts: ${o.map((w) => `${w.minutes}m ${fmtRate(w.rate)} req/s hit ${fmtPct(w.hitRatio)}`).join(' · ')}`,
  );
  lines.push(`requests, last 15 min: ${sparkline(m.overall.spark)}`);
  const o5 = o[1]!;
  if (o5.cache.STALE > 0)
    lines.push(
      `STALE in 5 min: ${o5.cache.STALE}, of which ${o5.staleFailed} because the upstream failed (5xx or no answer); the rest are background refreshes`,
    );
  lines.push('');
  const w = 1; // the 5-minute window
  const header = [
    'HOST',
    'REQ/S',
    'HIT%',
    ...CACHE_STATUSES.map((s) => CACHE_LABELS[s]),
    '5XX',
    'CACHED',
    'UP P50',
    'UP P95',
  ];
  const rows = [...m.hosts, m.overall].map((h) => {
    const x = h.windows[w]!;
    return [
      h.host,
      fmtRate(x.rate),
      h.neverCaches ? 'never' : fmtPct(x.hitRatio),
      ...CACHE_STATUSES.map((s) => String(x.cache[s])),
      String(x.classes['5xx'] ?? 0),
      fmtBytes(x.cacheBytes),
      fmtSeconds(x.upstreamP50),
      fmtSeconds(x.upstreamP95),
    ];
  });
  lines.push('last 5 minutes:');
  lines.push(...formatTable(header, rows));
  lines.push('');
  lines.push(...cacheText(m));
  lines.push('');
  lines.push('ACME certificates (cert-manager):');
  if (m.acme.error) lines.push(`  error: ${m.acme.error}`);
  else if (m.acme.absent) lines.push(`  ${m.acme.absent}`);
  else if (m.acme.rows.length === 0) lines.push('  none');
  else
    lines.push(
      ...formatTable(
        ['CERTIFICATE', 'ISSUER', 'READY', 'EXPIRES IN', 'RENEWAL', 'FINDINGS'],
        m.acme.rows.map((r) => [
          `${r.namespace}/${r.name}`,
          r.issuer,
          r.ready === undefined ? '?' : String(r.ready),
          r.notAfter === undefined ? '-' : formatCountdownCoarse(r.notAfter - now),
          r.renewalTime === undefined ? '-' : iso(r.renewalTime)!,
          r.findings.length > 0 ? r.findings.map((f) => `${f.id}: ${f.message}`).join('; ') : 'ok',
        ]),
      ).map((l) => `  ${l}`),
    );
  out.write(`${lines.join('\n')}\n`);
  return nginxExitCode(m);
}
