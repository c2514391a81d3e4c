/**
 * `k8ops flows [--json] [--follow] [--last N] [--node NAME] [FILTER…]`: Hubble flows of
 * every node (or one): from hubble-relay when the inventory names it (one stream, dialled
 * through a node's SSH connection; --node becomes a server-side node filter), else from
 * each node's hubble.sock through the SSH connection. FILTER is
 * the Flows pane's filter syntax (`verdict:DROPPED ns:shop pod:api port:8080 node:…
 * reason:POLICY_DENY dir:ingress proto:tcp`), sent to the agents as server-side filters.
 * `--json` prints one GetFlowsResponse per line as `hubble observe -o jsonpb` does (flows,
 * and LostEvents in --follow). Without --follow: the last N flows (default 20) across the
 * nodes in time order, then (text only) each node's ring. With --follow: flows as they
 * come, until interrupted; a full stdout pipe pauses the streams (the agents' rings
 * overwrite, announced as LostEvents) instead of buffering here.
 * Exit: 0 ok; 1 a node's Hubble did not answer (the others' flows are printed), or relay
 * reports agents it cannot reach; 2 usage or configuration; 3 no node's Hubble answered,
 * or relay did not answer.
 */
import { sideName } from '../features/flows/aggregate.js';
import { type HubbleEndpoint, socketEndpoint } from '../features/flows/endpoint.js';
import { parseFlowQuery } from '../features/flows/filter.js';
import { RELAY_ROW, relayReach } from '../features/flows/model.js';
import { hubbleSocket, inventoryRelay } from '../features/flows/sources.js';
import type { FlowRecord, LostEventRecord, ServerStatusRecord } from '../features/flows/types.js';
import { safeJson } from '../store/sanitise.js';
import { holdOpen, isSubcommand, type Out, parseSubcommand } from './common.js';
import { openSession, SESSION_OPTIONS, sessionArgs } from './open.js';

export const FLOWS_EXIT = { ok: 0, partial: 1, usage: 2, unreachable: 3 } as const;

const OPTIONS = {
  ...SESSION_OPTIONS,
  json: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  last: { type: 'string' },
  node: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const FLOWS_HELP = `Usage: k8ops flows [--json] [--follow] [--last N] [--node NAME] [FILTER…] [--demo | --inventory FILE]

Hubble flows from hubble-relay when the inventory names it (network.hubble.relay: one
stream, dialled through a node's SSH connection), else from each node's hubble.sock
(network.hubble.socket) through the SSH connection. FILTER terms are sent as server-side
filters:
  verdict:DROPPED  ns:NAMESPACE  pod:[NS/]PREFIX  port:N  node:NAME  reason:POLICY_DENY
  dir:ingress|egress  proto:tcp|udp|…   (different keys AND, repeated keys or a,b OR;
  ns, pod and port match either side, as hubble observe --namespace/--pod/--port)
  --json     one JSON object per line, as \`hubble observe -o jsonpb\`
  --follow   keep streaming new flows until interrupted
  --last N   flows without --follow (default 20)
  --node N   only this node (with relay: a node filter)
Exit: 0 ok, 1 a node's Hubble did not answer (or relay misses agents), 2 usage error,
3 no node answered (or relay did not answer).
`;

/** Whether argv's subcommand (first positional) is `flows`: cli.ts hands it here. */
export const isFlowsArgv = (argv: readonly string[]): boolean =>
  isSubcommand('flows', argv, OPTIONS);

interface FlowsDeps {
  out: Out;
  err: Out;
  env: NodeJS.ProcessEnv;
  /** Ends a --follow run (default: SIGINT or SIGTERM). */
  stop?: Promise<void>;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');

/** `Dec  6 04:00:00.007` (hubble observe's compact time). */
export function flowTime(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '-';
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
}

/** One flow as a line of text. */
export function flowLine(f: FlowRecord): string {
  const proto = f.l7 ? `${f.l4}/${f.l7}` : f.l4 || '-';
  const verdict =
    f.verdict === 'DROPPED' ? `DROPPED (${f.dropReason || 'unknown reason'})` : f.verdict;
  return [
    flowTime(f.timeMs),
    f.node || '-',
    `${sideName(f.src, true)} -> ${sideName(f.dst, true)}`,
    proto,
    f.direction || '-',
    verdict,
    f.info,
  ]
    .join('  ')
    .trimEnd();
}

const lostJson = (l: LostEventRecord) => ({
  lost_events: {
    source: l.source,
    num_events_lost: String(l.count),
    ...(l.cpu !== undefined ? { cpu: l.cpu } : {}),
  },
  node_name: l.node,
  time: new Date(l.timeMs).toISOString(),
});

export async function flowsCommand(argv: readonly string[], deps: FlowsDeps): Promise<number> {
  const { out, err, env } = deps;
  const parsed = parseSubcommand('flows', argv, OPTIONS, err, FLOWS_EXIT.usage);
  if (!parsed.ok) return parsed.exit;
  const { usage } = parsed;
  const v = parsed.values;
  const positionals = parsed.positionals.slice(1);
  if (v.help) {
    out.write(FLOWS_HELP);
    return FLOWS_EXIT.ok;
  }
  if (v.demo && v.inventory) return usage('--demo and --inventory exclude each other');
  const last = v.last === undefined ? 20 : Number(v.last);
  if (!Number.isInteger(last) || last < 1 || last > 100_000)
    return usage(`--last: expected a number 1–100000, got "${v.last}"`);
  if (v.follow && v.last !== undefined) return usage('--last and --follow exclude each other');
  const q0 = parseFlowQuery(positionals.join(' '));
  if (!q0.ok) return usage(q0.error);
  const json = v.json === true;

  const opened = await openSession(sessionArgs(v, 'flows', { readOnly: true }), err, env, [
    { sources: [] },
  ]);
  if (!opened.ok) return FLOWS_EXIT.usage;
  const session = opened.session;
  try {
    const inv = session.inventory;
    const nodes = inv.nodes.filter((n) => v.node === undefined || n.name === v.node);
    if (nodes.length === 0) return usage(`--node: no node "${v.node}" in the inventory`);
    let query = q0.query;
    let streams: Streams;
    const path = hubbleSocket(inv);
    if (path === undefined) {
      // hubble-relay: one stream for every node; --node becomes a server-side node filter.
      if (v.node !== undefined) {
        if (/(^|\s)node:/.test(query.text))
          return usage('--node and a node: filter exclude each other');
        const q = parseFlowQuery(`${query.text} node:${v.node}`);
        if (!q.ok) return usage(q.error);
        query = q.query;
      }
      const kube = session.kube;
      const endpoint = inventoryRelay(
        inv,
        session.agents,
        kube?.getService
          ? (ns, name, o) => kube.getService!(ns, name, { timeoutMs: o.timeoutMs })
          : undefined,
      );
      if (!endpoint) return usage('network.hubble names no relay');
      streams = [{ node: RELAY_ROW, endpoint }];
    } else {
      streams = nodes.flatMap((n) => {
        const a = session.agents.get(n.name);
        return a ? [{ node: n.name, endpoint: socketEndpoint(a, path) }] : [];
      });
    }
    return await holdOpen(() =>
      v.follow ? follow(streams, query, json, deps) : once(streams, query, last, json, out, err),
    );
  } finally {
    await session.close();
  }
}

/** What is read: one stream per node (agent sockets), or hubble-relay's one. */
type Streams = Array<{ node: string; endpoint: HubbleEndpoint }>;

async function once(
  streams: Streams,
  query: import('../features/flows/filter.js').FlowQuery,
  last: number,
  json: boolean,
  out: Out,
  err: Out,
): Promise<number> {
  const { fetchFlows } = await import('../features/flows/fetch.js');
  const { responseJson } = await import('../features/flows/codec.js');
  const results = await Promise.all(
    streams.map(async (a) => ({
      node: a.node,
      r: await fetchFlows(a.endpoint, { number: last, whitelist: query.whitelist }, 15_000),
    })),
  );
  const flows: FlowRecord[] = [];
  for (const { r } of results)
    for (const ev of r.events) if (ev.kind === 'flow') flows.push(ev.flow);
  flows.sort((a, b) => a.timeMs - b.timeMs || a.nanos - b.nanos);
  for (const f of flows.slice(-last)) {
    if (json) out.write(`${safeJson(responseJson(f.raw) ?? {})}\n`);
    else out.write(`${flowLine(f)}\n`);
  }
  let failed = 0;
  for (const { node, r } of results) {
    if (r.error) {
      failed++;
      err.write(`k8ops flows: ${node}: ${r.error}\n`);
    }
    if (r.malformed)
      err.write(`k8ops flows: ${node}: ${r.malformed} malformed responses skipped\n`);
    for (const ev of r.events)
      if (ev.kind === 'lost') {
        if (json) out.write(`${safeJson(lostJson(ev.lost))}\n`);
        else err.write(`k8ops flows: ${node}: ${ev.lost.count} events lost (${ev.lost.source})\n`);
      }
    if (!json && r.status)
      err.write(
        `k8ops flows: ${node}: ring ${r.status.numFlows}/${r.status.maxFlows} flows, ${r.status.seenFlows} seen${r.status.version ? `, hubble ${r.status.version}` : ''}${r.label && r.label !== node ? ` (${r.label})` : ''}\n`,
      );
    // hubble-relay answered, but not for every node: their flows are missing (exit 1).
    if (r.status && relayMissing(r.status)) {
      failed++;
      err.write(`k8ops flows: ${node}: ${relayReach(relayInfo(r.status))}\n`);
    }
  }
  if (failed >= results.length && results.every((x) => x.r.error)) return FLOWS_EXIT.unreachable;
  return failed > 0 ? FLOWS_EXIT.partial : FLOWS_EXIT.ok;
}

const relayInfo = (s: ServerStatusRecord) => ({
  ...(s.connectedNodes !== undefined ? { connected: s.connectedNodes } : {}),
  ...(s.unavailableNodes !== undefined ? { unavailable: s.unavailableNodes } : {}),
  unavailableNodes: s.unavailableNodeNames,
});

/** Relay's ServerStatus names agents it cannot reach. */
const relayMissing = (s: ServerStatusRecord): boolean =>
  (s.unavailableNodes ?? 0) > 0 || s.unavailableNodeNames.length > 0;

async function follow(
  streams: Streams,
  query: import('../features/flows/filter.js').FlowQuery,
  json: boolean,
  deps: FlowsDeps,
): Promise<number> {
  const { out, err } = deps;
  const { FlowFollower } = await import('../features/flows/follow.js');
  const { responseJson } = await import('../features/flows/codec.js');
  let closed = false;
  const followers: InstanceType<typeof FlowFollower>[] = [];
  const write = (line: string) => {
    if (closed) return;
    if (!out.write(line)) {
      for (const f of followers) f.pause();
      out.once('drain', () => {
        for (const f of followers) f.resume();
      });
    }
  };
  let missing = false;
  for (const a of streams) {
    let lastError: string | undefined;
    let lastReach = '';
    const f = new FlowFollower(a.endpoint, query, {
      backlog: 0,
      capacity: 1000,
      onFlow: (flow) =>
        write(json ? `${safeJson(responseJson(flow.raw) ?? {})}\n` : `${flowLine(flow)}\n`),
      onLost: (l) => {
        if (json) write(`${safeJson(lostJson(l))}\n`);
        else err.write(`k8ops flows: ${a.node}: ${l.count} events lost (${l.source})\n`);
      },
    });
    const tick = setInterval(() => {
      if (f.error !== lastError) {
        lastError = f.error;
        if (f.error) err.write(`k8ops flows: ${a.node}: ${f.error} (retrying)\n`);
      }
      // hubble-relay: say when agents drop out of (or come back to) its reach.
      const s = f.server;
      const reach = s && relayMissing(s) ? relayReach(relayInfo(s)) : '';
      if (reach !== lastReach) {
        lastReach = reach;
        if (reach) {
          missing = true;
          err.write(`k8ops flows: ${a.node}: ${reach}\n`);
        }
      }
    }, 500);
    tick.unref();
    followers.push(f);
    f.start();
  }
  const onError = () => {
    closed = true;
  };
  out.on('error', onError);
  const stop =
    deps.stop ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  await stop;
  closed = true;
  await Promise.all(followers.map((f) => f.stop()));
  out.off('error', onError);
  const answered = followers.filter((f) => f.connects > 0).length;
  if (answered === 0 && followers.length > 0) return FLOWS_EXIT.unreachable;
  return answered < followers.length || missing ? FLOWS_EXIT.partial : FLOWS_EXIT.ok;
}
