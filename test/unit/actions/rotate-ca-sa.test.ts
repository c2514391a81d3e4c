/**
 * The intermediate and service-account rotations, pure parts: which nodes hold the bundles
 * and which of their units restart (reload.json), the commands per host in order, the
 * status parsers (hostile text never throws, a public key must have the digest it claims),
 * the SA phase, what `--due` considers due, and the console's action for the new kinds.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bundleReaders,
  caFinishArgv,
  keypairReaders,
  parseCaStatus,
  parseSaStatus,
  planCaCommands,
  planCaRotate,
  planSaCommands,
  planSaRotate,
  pubSha256,
  type SaStatus,
  saPhase,
} from '../../../src/actions/rotate/index.js';
import { rotateAction } from '../../../src/actions/rotate/prepare.js';
import { caDueReason } from '../../../src/commands/rotate-run.js';
import type { NodeSpec } from '../../../src/config/types.js';
import { demoInventory } from '../../../src/demo/inventory.js';
import { defaultLayout } from '../../../src/pki/layout-data.js';

const node = (name: string, index: number, roles: NodeSpec['roles'], addr: string): NodeSpec => ({
  name,
  index,
  host: name,
  addresses: [addr],
  roles,
});
const NODES = [
  node('w-1', 3, ['worker'], '10.77.0.21'),
  node('cp-1', 0, ['control-plane', 'etcd'], '10.77.0.11'),
  node('cp-2', 1, ['control-plane', 'etcd'], '10.77.0.12'),
  node('e-1', 2, ['etcd'], '10.77.0.31'),
];
const who = { owner: 'op@k8ops', host: 'admin', pid: 42 };
const ca = (id: string, o: Partial<Parameters<typeof planCaRotate>[0]> = {}) => {
  const r = planCaRotate({
    layout: defaultLayout(),
    nodes: NODES,
    signer: NODES[1]!,
    pkiDir: '/etc/kubernetes/pki',
    ca: id,
    bundleLeadMs: 86_400_000,
    ...o,
  });
  if (!r.ok) throw new Error(r.error);
  return r.plan;
};

describe('planCaRotate', () => {
  it('refuses the root and unknown CAs, naming the intermediates', () => {
    const base = {
      layout: defaultLayout(),
      nodes: NODES,
      signer: NODES[1]!,
      pkiDir: '/p',
      bundleLeadMs: 0,
    };
    const root = planCaRotate({ ...base, ca: 'k8s-root' });
    expect(root.ok || root.error).toMatch(/is the root: its key stays offline/);
    const nope = planCaRotate({ ...base, ca: 'nope' });
    expect(nope.ok || nope.error).toMatch(/intermediates: kubernetes-ca, etcd-ca, front-proxy-ca/);
    const bad = planCaRotate({ ...base, ca: 'etcd-ca', successor: 'not a pem' });
    expect(bad.ok || bad.error).toMatch(/no PEM certificate/);
  });

  it('etcd-ca: the etcd and control-plane nodes, control plane and etcd first; etcd and the API server restart (read once)', () => {
    const p = ca('etcd-ca');
    expect(p.bundles).toEqual(['etcd-ca-bundle']);
    expect(p.nodes.map((n) => n.node.name)).toEqual(['cp-1', 'cp-2', 'e-1']);
    expect(p.nodes[0]!.units.map((u) => [u.unit, u.restart])).toEqual([
      ['etcd.service', true],
      ['kube-apiserver.service', true],
    ]);
    // An etcd-only node runs no API server.
    expect(p.nodes[2]!.units.map((u) => u.unit)).toEqual(['etcd.service']);
    expect(p.nodes[0]!.units[0]!.gates.map((g) => g.name)).toContain('etcd endpoint health (mTLS)');
    expect(p.leafHolders.map((n) => n.node.name)).toEqual(['cp-1', 'cp-2', 'e-1']);
  });

  it('kubernetes-ca reaches the workers (kubelet restarts); front-proxy-ca needs no restart (reloaded from disk)', () => {
    const k = ca('kubernetes-ca');
    expect(k.nodes.map((n) => n.node.name)).toEqual(['cp-1', 'cp-2', 'w-1']);
    expect(k.nodes.at(-1)!.units.map((u) => `${u.unit}:${u.restart}`)).toContain(
      'kubelet.service:true',
    );
    const f = ca('front-proxy-ca');
    expect(f.nodes.map((n) => n.node.name)).toEqual(['cp-1', 'cp-2']);
    expect(f.nodes[0]!.units).toEqual([
      expect.objectContaining({ unit: 'kube-apiserver.service', restart: false }),
    ]);
    expect(bundleReaders('front-proxy-ca-bundle')[0]!.pickup).toBe('dynamic');
  });

  it('commands: the CA directory lock first and last; stage before the ceremony before accept; every node pushed before mark, switch, retire, finish', () => {
    const p = ca('etcd-ca');
    const cmds = planCaCommands(p, who);
    const at = (pred: (c: (typeof cmds)[number]) => boolean) => cmds.findIndex(pred);
    const argv = (c: (typeof cmds)[number]) => c.argv.join(' ');
    expect(argv(cmds[0]!)).toMatch(/^k8ops-pki-lock acquire .* --pki-dir \/var\/lib\/k8ops\/ca$/);
    expect(argv(cmds.at(-1)!)).toMatch(
      /^k8ops-pki-lock release .* --pki-dir \/var\/lib\/k8ops\/ca$/,
    );
    const stage = at((c) => c.argv[1] === 'stage');
    const offline = at((c) => c.host.startsWith('offline'));
    const accept = at((c) => c.argv[1] === 'accept');
    const lastPush = Math.max(
      ...cmds.map((c, i) =>
        c.argv.includes('--certs') && !c.argv.includes('--check') && c.when?.includes('bundle lead')
          ? i
          : -1,
      ),
    );
    const mark = at((c) => c.argv[1] === 'mark-bundled');
    const sw = at((c) => c.argv[1] === 'switch');
    const retire = at((c) => c.argv[1] === 'retire');
    const finish = at((c) => argv(c) === caFinishArgv(p).join(' '));
    expect(stage < offline && offline < accept && accept < lastPush).toBe(true);
    expect(lastPush < mark && mark < sw && sw < retire && retire < finish).toBe(true);
    // Only the offline machine sees the root; nothing on a node names the root key.
    expect(cmds.filter((c) => argv(c).includes('k8s-root-key'))).toEqual([]);
    expect(cmds[offline]!.argv).toContain('--csr');
    // Stdin carries what k8ops moves: the successor, the bundles.
    expect(cmds[accept]!.stdin).toMatch(/root-signed successor/);
  });
});

describe('parseCaStatus', () => {
  const good = {
    version: 1,
    ca: 'etcd-ca',
    phase: 'bundled',
    now: 1_800_000_000,
    current: {
      version: 'v-0123456789abcdef',
      fingerprint: 'ab'.repeat(32),
      notBefore: 1,
      notAfter: 2,
      subjectKeyId: 'cd',
    },
    next: {
      version: 'v-fedcba9876543210',
      fingerprint: 'ef'.repeat(32),
      notBefore: 1,
      notAfter: 3,
      subjectKeyId: '',
    },
    old: null,
    pending: false,
    bundledAt: 1_799_999_000,
    switchedAt: null,
    leafMaxSeconds: 1_209_600,
    retireFrom: null,
  };
  it('reads the status; the last line of the output', () => {
    const st = parseCaStatus(`noise\n${JSON.stringify(good)}\n`);
    expect(st).toMatchObject({
      phase: 'bundled',
      bundledAt: 1_799_999_000,
      next: { version: 'v-fedcba9876543210' },
    });
  });
  it('refuses what is not one: other version, phase, a missing current, a fingerprint that is not hex', () => {
    expect(parseCaStatus(JSON.stringify({ ...good, version: 2 }))).toBeUndefined();
    expect(parseCaStatus(JSON.stringify({ ...good, phase: 'owned' }))).toBeUndefined();
    expect(parseCaStatus(JSON.stringify({ ...good, current: null }))).toBeUndefined();
    expect(parseCaStatus(JSON.stringify({ ...good, ca: '../x' }))).toBeUndefined();
    expect(
      parseCaStatus(JSON.stringify({ ...good, next: { ...good.next, fingerprint: '\u001b[2J' } })),
    ).toBeUndefined();
  });
  it('never throws on garbage', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.anything().map((x) => JSON.stringify(x) ?? ''),
        ),
        (t) => {
          const r = parseCaStatus(t);
          return r === undefined || typeof r.phase === 'string';
        },
      ),
      { numRuns: 500 },
    );
  });
  it('what --due finds due in each phase', () => {
    const DAY = 86_400;
    const st = parseCaStatus(JSON.stringify(good))!;
    // bundled 1000 s ago, lead 24 h: not yet; lead 0: the switch.
    expect(caDueReason(st, 86_400_000)).toBeUndefined();
    expect(caDueReason(st, 0)).toBe('the successor starts signing');
    const steady = {
      ...st,
      phase: 'steady' as const,
      current: { ...st.current, notAfter: st.now + 16 * DAY },
    };
    expect(caDueReason(steady, 86_400_000)).toMatch(/successor was due in the bundles by/);
    expect(
      caDueReason({ ...steady, current: { ...steady.current, notAfter: st.now + 60 * DAY } }, 0),
    ).toBeUndefined();
    expect(caDueReason({ ...st, phase: 'pending' }, 0)).toMatch(/root/);
    expect(caDueReason({ ...st, phase: 'switched', retireFrom: st.now + 10 }, 0)).toBeUndefined();
    expect(caDueReason({ ...st, phase: 'switched', retireFrom: st.now - 10 }, 0)).toMatch(/leaves/);
    expect(caDueReason({ ...st, phase: 'retired' }, 0)).toMatch(/still to leave/);
  });
});

const pubPem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey.export({
    type: 'spki',
    format: 'pem',
  }) as string;
const digest = (pem: string) => pubSha256(pem)!;

describe('parseSaStatus and the SA phase', () => {
  const cur = pubPem();
  const pend = pubPem();
  const good = {
    version: 1,
    id: 'service-account',
    key: '/p/sa-key.pem',
    pub: '/p/sa.pub',
    now: 1_800_000_000,
    current: { sha256: digest(cur), pem: cur },
    pending: { sha256: digest(pend), pem: pend },
    previous: null,
    trusted: [digest(cur)],
    switchedAt: null,
    restartPending: false,
  };
  it('reads a status; a public key must have the digest it claims (else refused)', () => {
    expect(parseSaStatus(JSON.stringify(good))).toMatchObject({
      pending: { sha256: digest(pend) },
    });
    expect(
      parseSaStatus(JSON.stringify({ ...good, current: { sha256: digest(pend), pem: cur } })),
    ).toBeUndefined();
    expect(
      parseSaStatus(
        JSON.stringify({
          ...good,
          current: { sha256: digest(cur), pem: '-----BEGIN PRIVATE KEY-----\n' },
        }),
      ),
    ).toBeUndefined();
    expect(parseSaStatus(JSON.stringify({ ...good, trusted: ['x'] }))).toBeUndefined();
    const sha = createHash('sha256').update('x').digest('hex');
    expect(
      pubSha256(
        `-----BEGIN PUBLIC KEY-----\n${Buffer.from(sha).toString('base64')}\n-----END PUBLIC KEY-----\n`,
      ),
    ).toBeUndefined();
  });
  it('never throws on garbage', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (t) => {
        parseSaStatus(t);
        return true;
      }),
      { numRuns: 500 },
    );
  });
  it('phase: steady, switching (a pending key or some switched), overlap (all switched)', () => {
    const st = parseSaStatus(JSON.stringify(good))! as SaStatus;
    const idle = { ...st, pending: null };
    const sw = { ...st, pending: null, previous: st.current, switchedAt: 1 };
    expect(saPhase([idle, idle])).toBe('steady');
    expect(saPhase([st, idle])).toBe('switching');
    expect(saPhase([sw, st])).toBe('switching');
    expect(saPhase([sw, sw])).toBe('overlap');
  });
});

describe('planSaRotate', () => {
  it('the control-plane nodes; a trust change restarts the API server, a switch also the controller-manager', () => {
    const r = planSaRotate({
      layout: defaultLayout(),
      nodes: NODES,
      pkiDir: '/etc/kubernetes/pki',
    });
    if (!r.ok) throw new Error(r.error);
    expect(r.plan.nodes.map((n) => n.node.name)).toEqual(['cp-1', 'cp-2']);
    expect(r.plan.overlapMs).toBe(48 * 3_600_000);
    expect(keypairReaders('service-account').map((u) => [u.unit, u.files])).toEqual([
      ['kube-apiserver.service', ['key', 'pub']],
      ['kube-controller-manager.service', ['key']],
    ]);
    const cmds = planSaCommands(r.plan, who);
    const lastTrust = Math.max(
      ...cmds.map((c, i) => (c.argv[1] === 'trust' && c.when?.startsWith('a rotation') ? i : -1)),
    );
    const firstSwitch = cmds.findIndex((c) => c.argv[1] === 'switch');
    expect(firstSwitch).toBeGreaterThan(lastTrust);
    expect(planSaRotate({ layout: defaultLayout(), nodes: [NODES[0]!], pkiDir: '/p' }).ok).toBe(
      false,
    );
  });
});

describe('the console action for the new kinds', () => {
  const deps = (mode: 'live' | 'demo') => ({
    inventory: demoInventory(),
    agents: new Map(),
    mode,
    hasKube: false,
  });
  it('an intermediate: typed confirmation with its id, the plan in a few lines; the service-account keys likewise', async () => {
    const r = await rotateAction.prepare(
      { action: 'rotate', targets: ['kubernetes-ca'], options: { kind: 'ca' } },
      deps('live'),
    );
    if (!r.ok) throw new Error(r.message);
    expect(r.prepared.confirm).toBe('kubernetes-ca');
    expect(r.prepared.spec.title).toBe('rotate intermediate kubernetes-ca (6 nodes)');
    expect(r.prepared.planText[0]).toMatch(/needs the root's signature \(offline ceremony\)/);
    const s = await rotateAction.prepare(
      { action: 'rotate', targets: ['service-account'], options: { kind: 'sa-key' } },
      deps('live'),
    );
    if (!s.ok) throw new Error(s.message);
    expect(s.prepared.confirm).toBe('service-account');
    expect(s.prepared.spec.title).toBe('rotate service-account keys (3 control-plane nodes)');
    const root = await rotateAction.prepare(
      { action: 'rotate', targets: ['k8s-root'], options: { kind: 'ca' } },
      deps('live'),
    );
    expect(root.ok).toBe(false);
    const demo = await rotateAction.prepare(
      { action: 'rotate', targets: ['etcd-ca'], options: { kind: 'ca' } },
      deps('demo'),
    );
    expect(!demo.ok && demo.message).toMatch(/--ca etcd-ca --dry-run --demo/);
  });
});
