/**
 * BGP against real daemons, read by k8ops over real sshd (test/helpers/sshd.ts lab: nodes
 * in a network namespace behind a bastion):
 * - node1's BGP speaker is a real gobgpd (AS 65010; Cilium embeds GoBGP) bound to node1's
 *   address, peering with two routers in the same namespace: BIRD 2 on hop2's address and
 *   a gobgpd router on node2's address (both AS 65000, hold time 9 s).
 * - The routers are read by the product's router source over SSH to hop2 / node2
 *   (`birdc -s … show …`, `gobgp -u … -j …`).
 * - Cilium's side comes from a STAND-IN FOR THE CILIUM AGENT: an HTTP server on a unix
 *   socket (the test's, shared with the node's sshd through the file system) answering
 *   `/v1/bgp/peers` and `/v1/bgp/routes` with BgpPeer/BgpRoute payloads built — as the
 *   agent builds them from its embedded GoBGP — from node1's real gobgpd, reached by the
 *   product through NodeAgent.forwardSocket (an SSH streamlocal forward), as in production.
 * BIRD accepts every route but one VIP (import filter), so that VIP is a real "advertised
 * by Cilium, absent from the router's RIB" disagreement.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Inventory, NodeSpec } from '../../../src/config/types.js';
import { type BgpModel, type BgpRow, buildBgpModel } from '../../../src/features/bgp/model.js';
import {
  bgpRoutersSource,
  ciliumBgpSourceAt,
  routerSpec,
} from '../../../src/features/bgp/sources.js';
import { reachSource } from '../../../src/features/overview/sources.js';
import type { NodeAgent } from '../../../src/nodes/agent.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import { createSession, type Session } from '../../../src/session/session.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const run = promisify(execFile);
const HOLD = 9;
const BINARIES = ['/usr/bin/gobgpd', '/usr/bin/gobgp', '/usr/sbin/bird', '/usr/sbin/birdc'];
const missingBinaries = BINARIES.filter((b) => !existsSync(b));

const POD_CIDR = '10.199.64.0/24';
const VIPS = ['10.199.96.10/32', '10.199.96.11/32'];
const FILTERED_VIP = '10.199.96.11/32';
const BIRD_STATIC = ['10.199.200.0/24', '10.199.201.0/24'];
const GOBGP_ROUTER_LOCAL = '10.199.202.0/24';

const gobgpToml = (o: {
  as: number;
  addr: string;
  neighbors: Array<{ addr: string; as: number }>;
}) =>
  [
    '[global.config]',
    `  as = ${o.as}`,
    `  router-id = "${o.addr}"`,
    `  local-address-list = ["${o.addr}"]`,
    ...o.neighbors.flatMap((n) => [
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${n.addr}"`,
      `    peer-as = ${n.as}`,
      '  [neighbors.transport.config]',
      `    local-address = "${o.addr}"`,
      '  [neighbors.timers.config]',
      `    hold-time = ${HOLD}`,
      '    keepalive-interval = 3',
      '    connect-retry = 3',
    ]),
    '',
  ].join('\n');

/** The fields of `gobgp -j neighbor` the stand-in reads (as Cilium reads GoBGP's peer state). */
interface GobgpPeer {
  conf?: { local_asn?: number };
  state?: { neighbor_address?: string; peer_asn?: number; session_state?: number };
  timers?: { state?: { negotiated_hold_time?: number; uptime?: { seconds?: number } } };
  afi_safis?: Array<{ state?: { received?: number; accepted?: number } }>;
}

const STATE_NAMES: Record<number, string> = {
  1: 'idle',
  2: 'connect',
  3: 'active',
  4: 'open_sent',
  5: 'open_confirm',
  6: 'established',
};

describeLab('BGP: gobgpd and BIRD in netns, read over real sshd', (lab) => {
  if (missingBinaries.length > 0) {
    it(`has gobgpd and bird2 installed${process.env.CI === 'true' ? '' : ' [skipped]'}`, (ctx) => {
      if (process.env.CI === 'true') throw new Error(`missing: ${missingBinaries.join(', ')}`);
      ctx.skip();
    });
    return;
  }
  const procs: ChildProcess[] = [];
  let birdPid: number | undefined;
  let server: Server | undefined;
  let session: Session | undefined;
  let ns = '';
  let addr = { node1: '', node2: '', hop2: '' };
  let dir = '';
  let birdConf = '';

  const gobgp = (host: string, ...args: string[]) =>
    run('ip', ['netns', 'exec', ns, 'gobgp', '-u', host, '-p', '50051', '-j', ...args], {
      timeout: 5000,
    }).then((r) => JSON.parse(r.stdout) as unknown);

  const startBird = async () => {
    const pidFile = join(dir, 'bird.pid');
    rmSync(pidFile, { force: true });
    await run('ip', [
      'netns',
      'exec',
      ns,
      'bird',
      '-c',
      birdConf,
      '-s',
      join(dir, 'bird.ctl'),
      '-P',
      pidFile,
    ]);
    const { readFileSync } = await import('node:fs');
    birdPid = Number(readFileSync(pidFile, 'utf8').trim());
  };

  /** Refresh every source, then the model (bounded polling, never a tight window). */
  const refreshModel = async (source?: string): Promise<BgpModel> => {
    const s = session!;
    await s.scheduler.refresh(source ? { source } : {});
    return buildBgpModel({
      inventory: s.inventory,
      read: (scope, src) => s.store.get(scope, src),
      now: Date.now(),
      hasKube: false,
    });
  };
  const pollModel = async (
    what: string,
    ok: (m: BgpModel) => boolean,
    timeoutMs: number,
    source?: string,
  ): Promise<{ m: BgpModel; ms: number }> => {
    const t0 = Date.now();
    let m = await refreshModel(source);
    while (!ok(m)) {
      if (Date.now() - t0 > timeoutMs)
        throw new Error(
          `${what}: not within ${timeoutMs} ms; last model: ${JSON.stringify(m.rows, null, 1).slice(0, 3000)}`,
        );
      await new Promise((r) => setTimeout(r, 1000));
      m = await refreshModel(source);
    }
    return { m, ms: Date.now() - t0 };
  };
  const row = (m: BgpModel, router: string): BgpRow | undefined =>
    m.rows.find((r) => r.router === router && r.node === 'node1');

  beforeAll(async () => {
    const l = lab();
    dir = l.dir;
    ns = l.hosts.node1.ns;
    addr = {
      node1: l.hosts.node1.address,
      node2: l.hosts.node2.address,
      hop2: l.hosts.hop2.address,
    };
    // --- daemons ---
    writeFileSync(
      join(dir, 'node1.toml'),
      gobgpToml({
        as: 65010,
        addr: addr.node1,
        neighbors: [
          { addr: addr.hop2, as: 65000 },
          { addr: addr.node2, as: 65000 },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'router.toml'),
      gobgpToml({ as: 65000, addr: addr.node2, neighbors: [{ addr: addr.node1, as: 65010 }] }),
    );
    birdConf = join(dir, 'bird.conf');
    writeFileSync(
      birdConf,
      `router id ${addr.hop2};
protocol device {}
protocol static lab_static { ipv4; ${BIRD_STATIC.map((p) => `route ${p} blackhole;`).join(' ')} }
filter from_k8s { if net = ${FILTERED_VIP} then reject; accept; }
protocol bgp k8s_node1 {
  local ${addr.hop2} as 65000; neighbor ${addr.node1} as 65010;
  strict bind yes; hold time ${HOLD}; keepalive time 3; connect retry time 3; multihop;
  ipv4 { import filter from_k8s; export where proto = "lab_static"; next hop self; };
}
`,
    );
    for (const [conf, api] of [
      ['node1.toml', addr.node1],
      ['router.toml', addr.node2],
    ] as const) {
      const p = spawn(
        'ip',
        [
          'netns',
          'exec',
          ns,
          'gobgpd',
          '-f',
          join(dir, conf),
          '--api-hosts',
          `${api}:50051`,
          '--pprof-disable',
        ],
        { stdio: 'ignore' },
      );
      procs.push(p);
    }
    await startBird();
    const until = Date.now() + 20_000;
    for (;;) {
      try {
        await gobgp(addr.node1, 'global');
        await gobgp(addr.node2, 'global');
        break;
      } catch (e) {
        if (Date.now() > until) throw e;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    for (const p of [POD_CIDR, ...VIPS])
      await run('ip', [
        'netns',
        'exec',
        ns,
        'gobgp',
        '-u',
        addr.node1,
        '-p',
        '50051',
        'global',
        'rib',
        'add',
        p,
        '-a',
        'ipv4',
      ]);
    await run('ip', [
      'netns',
      'exec',
      ns,
      'gobgp',
      '-u',
      addr.node2,
      '-p',
      '50051',
      'global',
      'rib',
      'add',
      GOBGP_ROUTER_LOCAL,
      '-a',
      'ipv4',
    ]);

    // --- the stand-in for the Cilium agent (payloads built from node1's gobgpd) ---
    const sock = join(dir, 'cilium.sock');
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const reply = (code: number, body: unknown) => {
        res.writeHead(code, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const answer = async () => {
        if (url.pathname === '/v1/bgp/peers') {
          const list = (await gobgp(addr.node1, 'neighbor')) as GobgpPeer[];
          const now = Date.now();
          const peers = await Promise.all(
            list.map(async (p) => {
              const st = p.state ?? {};
              const est = st.session_state === 6 && st.neighbor_address !== undefined;
              const fam = p.afi_safis?.[0]?.state ?? {};
              // Cilium asks GoBGP per neighbor, which counts advertised routes too.
              const out = est
                ? ((await gobgp(addr.node1, 'neighbor', st.neighbor_address ?? '', 'adj-out').catch(
                    () => ({}),
                  )) as object)
                : {};
              const peer: Record<string, unknown> = {
                'configured-hold-time-seconds': HOLD,
                'configured-keep-alive-time-seconds': 3,
                'connect-retry-time-seconds': 3,
                families: [
                  {
                    afi: 'ipv4',
                    safi: 'unicast',
                    ...(fam.received ? { received: fam.received } : {}),
                    ...(fam.accepted ? { accepted: fam.accepted } : {}),
                    ...(Object.keys(out).length ? { advertised: Object.keys(out).length } : {}),
                  },
                ],
                'graceful-restart': {},
                'local-asn': p.conf?.local_asn,
                'peer-address': st.neighbor_address,
                'peer-asn': st.peer_asn,
                'peer-port': 179,
                'session-state': STATE_NAMES[st.session_state ?? 0] ?? 'unknown',
              };
              if (est) {
                peer['applied-hold-time-seconds'] = p.timers?.state?.negotiated_hold_time;
                peer['uptime-nanoseconds'] =
                  (now - (p.timers?.state?.uptime?.seconds ?? 0) * 1000) * 1e6;
              }
              return peer;
            }),
          );
          return reply(200, peers);
        }
        if (url.pathname === '/v1/bgp/routes') {
          const n = url.searchParams.get('neighbor');
          if (url.searchParams.get('table_type') !== 'adj-rib-out' || !n)
            return reply(400, { message: 'test stand-in answers adj-rib-out per neighbor only' });
          const out = (await gobgp(addr.node1, 'neighbor', n, 'adj-out').catch(
            () => ({}),
          )) as object;
          return reply(
            200,
            Object.keys(out).map((prefix) => ({
              paths: [
                {
                  best: true,
                  family: { afi: 'ipv4', safi: 'unicast' },
                  nlri: {},
                  'path-attributes': [],
                },
              ],
              prefix,
              'router-asn': 65010,
            })),
          );
        }
        reply(404, { message: 'path not found' });
      };
      answer().catch((e: unknown) => reply(500, { message: String(e) }));
    });
    await new Promise<void>((ok) => server!.listen(sock, ok));

    // --- k8ops: inventory, agents over the lab's sshd, the product's sources ---
    const node1: NodeSpec = {
      name: 'node1',
      index: 0,
      host: 'node1',
      addresses: [addr.node1],
      roles: ['worker'],
    };
    const inventory: Inventory = {
      source: '<test>',
      cluster: 'bgp-lab',
      nodes: [node1],
      ssh: { jump: [], connectTimeoutMs: 5000 },
      kube: { tunnel: false },
      pki: { dir: '/var/lib/kubernetes/secrets', rootOffline: true },
      rotation: { spreadMs: 86_400_000, cpGapMs: 1_800_000, minRemainingMs: 172_800_000 },
      network: {
        targetMtu: 9216,
        bgpRouters: [
          { name: 'tor-bird', kind: 'bird', host: 'hop2', socket: join(dir, 'bird.ctl') },
          { name: 'tor-gobgp', kind: 'gobgp', host: 'node2', api: `${addr.node2}:50051` },
        ],
      },
      ingress: { namespace: 'ingress-nginx', cacheZone: 'static' },
      addons: {},
    };
    const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
    const agents = new Map<string, NodeAgent>([
      ['node1', new SshNodeAgent(node1, { pool, inventory })],
    ]);
    const routerAgents = new Map<string, NodeAgent>(
      inventory.network.bgpRouters.map((r) => [
        r.name,
        new SshNodeAgent(routerSpec(r), { pool, inventory }),
      ]),
    );
    session = createSession({
      mode: 'live',
      inventory,
      agents,
      routerAgents,
      readOnly: true,
      features: [{ sources: [ciliumBgpSourceAt(sock), bgpRoutersSource, reachSource] }],
      onClose: () => pool.close(),
    });
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    for (const p of procs) p.kill('SIGTERM');
    if (birdPid) {
      try {
        process.kill(birdPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('both sides of each session on one row, prefix counts as configured, the filtered VIP flagged', async () => {
    const { m } = await pollModel(
      'both sessions established on both sides',
      (x) =>
        ['tor-bird', 'tor-gobgp'].every((r) => {
          const w = row(x, r);
          return (
            w?.established === true &&
            w.cilium?.advertised === 3 &&
            (w.routerSide?.received ?? 0) >= 3
          );
        }),
      60_000,
    );
    expect(m.rows).toHaveLength(2);
    const bird = row(m, 'tor-bird')!;
    expect(bird).toMatchObject({
      peerAddress: addr.hop2,
      nodeAddress: addr.node1,
      localAsn: 65010,
      peerAsn: 65000,
    });
    expect(bird.cilium).toMatchObject({
      state: 'established',
      received: BIRD_STATIC.length,
      advertised: 3,
    });
    expect(bird.routerSide).toMatchObject({
      state: 'established',
      localAddress: addr.hop2,
      localAsn: 65000,
      peerAsn: 65010,
      received: 3,
      accepted: 2, // one VIP rejected by BIRD's import filter
      advertised: BIRD_STATIC.length,
      holdTimeSeconds: HOLD,
    });
    expect(bird.vips).toEqual(VIPS);
    expect(bird.routerRoutes).toEqual([POD_CIDR, VIPS[0]].sort());
    expect(bird.vipsMissing).toEqual([FILTERED_VIP]);
    expect(bird.severity).toBe('warning');
    expect(bird.problems.join('\n')).toMatch(
      /absent from router tor-bird's RIB: 10\.199\.96\.11\/32/,
    );
    expect(bird.uptimeMs).toBeGreaterThanOrEqual(0);

    const gob = row(m, 'tor-gobgp')!;
    expect(gob.cilium).toMatchObject({ received: 1, advertised: 3 });
    expect(gob.routerSide).toMatchObject({ localAddress: addr.node2, received: 3, accepted: 3 });
    expect(gob.routerRoutes).toEqual([POD_CIDR, ...VIPS].sort());
    expect(gob.vipsMissing).toEqual([]);
    expect(gob.severity).toBe('ok');
    expect(m.exitCode).toBe(1);
  }, 90_000);

  it('BIRD frozen: the row leaves Established once the hold time (9 s) runs out, the router shown as not answering', async () => {
    expect(birdPid).toBeGreaterThan(0);
    process.kill(birdPid!, 'SIGSTOP');
    try {
      // GoBGP's hold timer (9 s) drops the session: Cilium's side polled about every
      // second (the router, frozen, would hold each poll for its 6 s deadline).
      const { ms } = await pollModel(
        'Cilium side leaves Established',
        (x) => row(x, 'tor-bird')?.cilium?.state !== 'established',
        HOLD * 1000 + 30_000,
        'bgp-cilium',
      );
      process.stderr.write(
        `[bgp-lab] Cilium side left Established ${ms} ms after BIRD froze (hold ${HOLD} s)\n`,
      );
      // The hold time, not a default 90 s one or a TCP timeout: a bound with slack for load.
      expect(ms).toBeLessThan(2 * HOLD * 1000 + 5000);
      // The whole row (the router's query times out on its own deadline).
      const { m } = await pollModel(
        'router shown as not answering',
        (x) => row(x, 'tor-bird')?.routerRead === 'timeout',
        30_000,
      );
      const bird = row(m, 'tor-bird')!;
      expect(bird.established).toBe(false);
      expect(bird.routerRead).toBe('timeout');
      expect(bird.problems.join('\n')).toMatch(/router tor-bird not answering/);
      expect(bird.severity).toBe('critical');
      expect(row(m, 'tor-gobgp')?.established).toBe(true);
      expect(m.exitCode).toBe(2);
    } finally {
      process.kill(birdPid!, 'SIGKILL');
      process.kill(birdPid!, 'SIGCONT');
    }
  }, 90_000);

  it('BIRD stopped: the router unreadable (its own error); started again: Established on both sides, the flap counted', async () => {
    const { m } = await pollModel(
      'router unreadable while BIRD is gone',
      (x) => row(x, 'tor-bird')?.routerRead === 'error',
      30_000,
    );
    expect(row(m, 'tor-bird')!.problems.join('\n')).toMatch(
      /Unable to connect to server control socket/,
    );
    await startBird();
    const { m: up } = await pollModel(
      'Established again on both sides',
      (x) =>
        row(x, 'tor-bird')?.established === true &&
        row(x, 'tor-bird')?.routerSide?.state === 'established',
      60_000,
    );
    const bird = row(up, 'tor-bird')!;
    expect(bird.flaps).toBeGreaterThanOrEqual(1);
    expect(bird.cilium?.flaps).toBeGreaterThanOrEqual(1);
    // Prefix counts are back to what was configured.
    const { m: settled } = await pollModel(
      'prefix counts back',
      (x) =>
        row(x, 'tor-bird')?.routerSide?.accepted === 2 &&
        row(x, 'tor-bird')?.cilium?.received === 2,
      30_000,
    );
    expect(row(settled, 'tor-bird')!.vipsMissing).toEqual([FILTERED_VIP]);
    expect(row(settled, 'tor-gobgp')!.flaps).toBe(0);
  }, 150_000);
});
