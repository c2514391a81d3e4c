/**
 * A one-member etcd (Debian etcd-server) for the rotation tests: the run file unitctl.sh
 * supervises, client and peer TLS with a lab node's gen-lab pair (P-521), and `etcdctl
 * endpoint health` over mTLS to wait for it. The tests that need etcd skip (or fail under
 * CI=true) with the reason `etcdSupport()` gives.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeSpec } from '../../src/config/types.js';
import type { NodeAgent } from '../../src/nodes/agent.js';
import { SshNodeAgent } from '../../src/nodes/ssh-agent.js';
import { SshPool } from '../../src/ssh/pool.js';
import { buildLab, pkiToolSupport } from './pki-lab.js';
import type { SshLab } from './sshd.js';

export const ETCD = '/usr/bin/etcd';
export const ETCDCTL = '/usr/bin/etcdctl';

/** Why etcd tests cannot run here (undefined: they can). */
export function etcdSupport(): string | undefined {
  if (!existsSync(ETCD)) return `${ETCD} missing (apt-get install etcd-server)`;
  if (!existsSync(ETCDCTL)) return 'etcdctl missing (apt-get install etcd-client)';
  const p = pkiToolSupport();
  return p.ok ? undefined : p.reason;
}

export interface EtcdMember {
  name: string;
  /** The address it listens on (client 2379, peer 2380). */
  addr: string;
  /** The node's PKI directory (etcd-server, etcd-peer, etcd-ca.pem). */
  dir: string;
  dataDir: string;
  /** Run it inside this network namespace (`ip netns exec`); absent: where unitctl runs. */
  netns?: string;
}

/** Write `runFile`: the program unitctl starts for etcd.service (one member, mTLS both ways). */
export function writeEtcdUnit(runFile: string, m: EtcdMember): void {
  const url = (p: number) => `https://${m.addr}:${p}`;
  const d = m.dir;
  writeFileSync(
    runFile,
    [
      '#!/bin/sh',
      `exec ${m.netns ? `ip netns exec ${m.netns} ` : ''}${ETCD} --name ${m.name} --data-dir ${m.dataDir} --logger zap --log-level warn \\`,
      `  --listen-client-urls ${url(2379)} --advertise-client-urls ${url(2379)} \\`,
      `  --cert-file ${d}/etcd-server.pem --key-file ${d}/etcd-server-key.pem \\`,
      `  --trusted-ca-file ${d}/etcd-ca.pem --client-cert-auth \\`,
      `  --listen-peer-urls ${url(2380)} --initial-advertise-peer-urls ${url(2380)} \\`,
      `  --initial-cluster ${m.name}=${url(2380)} \\`,
      `  --peer-cert-file ${d}/etcd-peer.pem --peer-key-file ${d}/etcd-peer-key.pem \\`,
      `  --peer-trusted-ca-file ${d}/etcd-ca.pem --peer-client-cert-auth`,
      '',
    ].join('\n'),
  );
  chmodSync(runFile, 0o755);
}

/** `etcdctl … endpoint health` over mTLS with the node's `pair` (argv, for `ip netns exec`). */
export const etcdHealthArgv = (m: Pick<EtcdMember, 'addr' | 'dir'>, pair = 'etcd-peer') => [
  ETCDCTL,
  `--endpoints=https://${m.addr}:2379`,
  '--cacert',
  `${m.dir}/etcd-ca.pem`,
  '--cert',
  `${m.dir}/${pair}.pem`,
  '--key',
  `${m.dir}/${pair}-key.pem`,
  '--command-timeout=5s',
  'endpoint',
  'health',
];

/** Call `healthy` (it throws while etcd is not) until it passes: true, or false after `tries`. */
export async function waitHealthy(healthy: () => unknown, tries = 60, everyMs = 500) {
  for (let i = 0; i < tries; i++) {
    try {
      healthy();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
  return false;
}

export interface LoadSummary {
  writes: number;
  failedWrites: number;
  handshakes: number;
  failedHandshakes: number;
  errors: string[];
  ms: number;
}
export interface LoadConfig {
  host: string;
  port: number;
  /** CA files the client trusts. */
  ca: string[];
  cert: string;
  key: string;
  maxMs: number;
  writeEveryMs: number;
  /** Connections doing nothing but TLS handshakes beside the writer. */
  hammers: number;
}
const LOAD = join(import.meta.dirname, '..', 'integration', 'rotate', 'load.mjs');

/**
 * test/integration/rotate/load.mjs (a writer every `writeEveryMs` and handshake hammers)
 * inside network namespace `ns`; `stop()` ends it (a stop file in `tmp`) and returns its
 * summary. `children` collects the process for a tear-down that kills what is left.
 */
export function startEtcdLoad(
  ns: string,
  tmp: string,
  cfg: LoadConfig,
  children: ChildProcess[],
): { stop(): Promise<LoadSummary> } {
  const stopFile = join(tmp, `load-${children.length}.stop`);
  const p = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      process.execPath,
      '--no-deprecation',
      LOAD,
      JSON.stringify({ ...cfg, stopFile }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(p);
  let out = '';
  let errOut = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (errOut += d));
  const exited = new Promise<void>((r) => p.on('exit', () => r()));
  return {
    async stop() {
      writeFileSync(stopFile, '');
      await exited;
      if (errOut !== '') throw new Error(`load.mjs: ${errOut}`);
      return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as LoadSummary;
    },
  };
}

/**
 * The two lab nodes of the rotation tests: node1 an etcd member with a gen-lab PKI
 * (P-521), node2 the signer (its CA directory is the lab's); an SSH pool through the lab
 * and an agent per node.
 */
export async function etcdNodeLab(l: SshLab, tmp: string) {
  const ns = l.hosts.node1.ns;
  const addr = l.hosts.node1.address;
  const pki = await buildLab(join(tmp, 'pki'), [
    { name: 'node1', roles: ['etcd', 'worker'], addresses: [addr] },
  ]);
  const node: NodeSpec = {
    name: 'node1',
    index: 0,
    host: 'node1',
    addresses: [addr],
    roles: ['etcd', 'worker'],
  };
  const signer: NodeSpec = {
    name: 'node2',
    index: 1,
    host: 'node2',
    addresses: [],
    roles: ['worker'],
  };
  const pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
  const agents = new Map<string, NodeAgent>([
    ['node1', new SshNodeAgent(node, { pool })],
    ['node2', new SshNodeAgent(signer, { pool })],
  ]);
  return { ns, addr, pki, dir: pki.nodes.node1!.dir, node, signer, pool, agents };
}
