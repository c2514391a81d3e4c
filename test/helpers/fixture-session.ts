/**
 * A Session whose store is filled from fixtures (no agents, nothing polled): views are
 * tested against exactly these snapshots.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Inventory, NodeSpec } from '../../src/config/types.js';
import type { KubeNodeStatus, KubeSource } from '../../src/kube/types.js';
import type { ProbeResult } from '../../src/nodes/agent.js';
import type { CertFile, CertSummary } from '../../src/pki/types.js';
import { createSession, type Session } from '../../src/session/session.js';
import { CLUSTER_SCOPE } from '../../src/store/types.js';

const DAY = 86_400_000;

export const FIXTURE_NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

const node = (name: string, index: number, roles: NodeSpec['roles']): NodeSpec => ({
  name,
  index,
  host: name,
  addresses: [`10.77.0.${10 + index}`],
  roles,
});

export function fixtureInventory(): Inventory {
  return {
    source: '/fixture/k8ops.yaml',
    cluster: 'fixture-lab',
    nodes: [
      node('cp-1', 0, ['control-plane', 'etcd']),
      node('cp-2', 1, ['control-plane', 'etcd']),
      node('cp-3', 2, ['control-plane', 'etcd']),
      node('worker-1', 3, ['worker']),
      node('worker-2', 4, ['worker']),
      node('worker-3', 5, ['worker']),
    ],
    ssh: { jump: ['bastion'], connectTimeoutMs: 5000 },
    kube: { tunnel: false, context: 'fixture-ctx' },
    pki: { dir: '/etc/kubernetes/pki', rootOffline: true },
    rotation: { spreadMs: DAY, cpGapMs: 30 * 60_000, minRemainingMs: 2 * DAY },
    network: { targetMtu: 9216, bgpRouters: [] },
    ingress: { namespace: 'ingress-nginx', cacheZone: 'ingress_cache' },
    addons: {},
  };
}

export function cert(cn: string, notBefore: number, lifetimeMs: number): CertSummary {
  return {
    subject: `CN=${cn}`,
    commonName: cn,
    organizations: [],
    issuer: 'CN=kubernetes-ca',
    serial: '01',
    notBefore,
    notAfter: notBefore + lifetimeMs,
    fingerprint: cn.padEnd(64, '0'),
    keyAlgorithm: 'ECDSA',
    curve: 'P-521',
    signatureAlgorithm: 'ecdsa-with-SHA512',
    dnsNames: [],
    ipAddresses: [],
    isCA: false,
    keyUsages: [],
    extKeyUsages: [],
  };
}

export interface FixtureOptions {
  /** Node names whose reach snapshot is a failure. */
  down?: string[];
  notReady?: string[];
  withKube?: boolean;
  /** Jobs and audit log (default: a fresh path under the temp dir, created only if a job runs). */
  stateDir?: string;
}

let stateDirs = 0;

/**
 * cp-1..worker-3, leaf lifetimes 14 d issued `i` days before FIXTURE_NOW, so node i's
 * worst certificate has 14 − i days left; worker-2 (i = 4) … all distinct.
 */
export function fixtureSession(opts: FixtureOptions = {}): Session {
  const inventory = fixtureInventory();
  const kube: KubeSource | undefined = opts.withKube
    ? { context: 'fixture-ctx', listNodes: async () => [], close: async () => {} }
    : undefined;
  const session = createSession({
    mode: 'live',
    inventory,
    agents: new Map(),
    kube,
    readOnly: false,
    context: 'fixture-ctx',
    now: () => FIXTURE_NOW,
    stateDir: opts.stateDir ?? join(tmpdir(), `k8ops-fixture-state-${process.pid}-${stateDirs++}`),
  });
  const at = FIXTURE_NOW - 5_000;
  for (const n of inventory.nodes) {
    if (opts.down?.includes(n.name)) {
      session.store.fail(
        n.name,
        'reach',
        { kind: 'unreachable', message: 'connect ETIMEDOUT 10.77.0.15:22' },
        at,
      );
    } else {
      const probe: ProbeResult = {
        rttMs: 3 + n.index,
        route: 'via bastion',
        os: 'NixOS 25.05 (Warbler)',
      };
      session.store.succeed(n.name, 'reach', probe, at);
    }
    const files: CertFile[] = [
      {
        node: n.name,
        path: '/etc/kubernetes/pki/kubelet.pem',
        certs: [cert(`system:node:${n.name}`, FIXTURE_NOW - n.index * DAY - 3_600_000, 14 * DAY)],
        errors: [],
      },
    ];
    session.store.succeed(n.name, 'certs', files, at);
  }
  if (opts.withKube) {
    const nodes: KubeNodeStatus[] = inventory.nodes.map((n) => ({
      name: n.name,
      ready: !opts.notReady?.includes(n.name),
      reason: opts.notReady?.includes(n.name) ? 'KubeletNotReady' : undefined,
      kubeletVersion: 'v1.33.4',
    }));
    session.store.succeed(CLUSTER_SCOPE, 'kube', nodes, at);
  }
  session.store.flushSync();
  return session;
}
