/**
 * The rotate planner: for one node, which certificates (the layout's for its roles, or the
 * ids asked for), grouped by the unit that uses them in dependency order (etcd →
 * kube-apiserver → controller-manager/scheduler → … → kubelet), whether that unit restarts
 * or picks the pair up by itself (reload.ts), its health gates, and the exact commands per
 * host. Pure: the job (job.ts) runs what it says, `--dry-run` prints it.
 *
 * The commands are the node timer's (nix/modules/scripts/k8ops-rotate-hook.sh): lock, then
 * per certificate `node-csr --only ID` (on the node) → `sign --csr -` (at the signer) →
 * `install --cert -` (on the node), then per unit restart (if needed) and the gates.
 */
import type { NodeSpec } from '../../config/types.js';
import type { ClusterParams, Layout, PlannedCert } from '../../pki/layout.js';
import { planNode } from '../../pki/layout.js';
import { bundlePath, ETCD_HEALTH_GATE, etcdHealthArgv } from '../etcd-health.js';
import { type Pickup, pickupOf, unitRank } from './reload.js';

/** The node-side programs (the k8ops-pki-* commands of nix/modules/node-tools.nix). */
export interface RotateTools {
  nodeCsr: string;
  sign: string;
  install: string;
  lock: string;
}
export const DEFAULT_TOOLS: RotateTools = {
  nodeCsr: 'k8ops-pki-node-csr',
  sign: 'k8ops-pki-sign',
  install: 'k8ops-pki-install',
  lock: 'k8ops-pki-lock',
};

/** How a unit is restarted, checked and its log read: systemd on a node. */
export interface UnitControl {
  /** What the plan calls it, e.g. `systemd`. */
  name: string;
  restart(unit: string): string[];
  isActive(unit: string): string[];
  logs(unit: string): string[];
}
export const SYSTEMD: UnitControl = {
  name: 'systemd',
  restart: (u) => ['systemctl', 'restart', u],
  isActive: (u) => ['systemctl', 'is-active', '--quiet', u],
  logs: (u) => ['journalctl', '-u', u, '-n', '20', '--no-pager', '-o', 'cat'],
};

/** A health gate: a real check of the component with its new certificate. */
export type Gate =
  | { kind: 'unit-active'; name: string; unit: string }
  /** Passes when the program exits 0. */
  | { kind: 'exec'; name: string; argv: string[] }
  /** `etcdctl endpoint health` over mTLS, judged by etcdHealthResult (actions/etcd-health.ts). */
  | { kind: 'etcd-health'; name: string; argv: string[] }
  /**
   * Passes when the certificate the component serves (the first PEM block `argv` prints,
   * e.g. `openssl s_client -showcerts`) has the serial of the installed `certPath`.
   */
  | { kind: 'served-serial'; name: string; argv: string[]; certPath: string }
  /** Passes when the node is Ready through the kube API (skipped without one). */
  | { kind: 'node-ready'; name: string; node: string };

export interface UnitGroup {
  /** The unit, or null for certificates no unit uses (cluster-admin). */
  unit: string | null;
  /** Certificates installed before this unit is handled (those whose first unit it is). */
  certs: PlannedCert[];
  /** Every rotated certificate this unit uses (rolled back together when its gate fails). */
  uses: string[];
  restart: boolean;
  pickup: Pickup;
  why: string[];
  gates: Gate[];
}

export interface RotatePlan {
  node: NodeSpec;
  /** The inventory node that signs (holds the intermediate CA keys). */
  signer: NodeSpec;
  pkiDir: string;
  /** Node parameters both node-csr and sign get (the CSR is checked against them). */
  params: string[];
  tools: RotateTools;
  units: UnitControl;
  groups: UnitGroup[];
  ids: string[];
  signerCaDir?: string;
}

export interface PlanRotateOptions {
  layout: Layout;
  node: NodeSpec;
  signer: NodeSpec;
  pkiDir: string;
  /** Only these certificate ids (default: every enabled one the node's roles need). */
  only?: readonly string[];
  cluster?: ClusterParams;
  tools?: RotateTools;
  units?: UnitControl;
  /** Gates per unit instead of the defaults (tests; a cluster with other ports). */
  gates?: Readonly<Record<string, Gate[]>>;
  /** Check node Ready through the kube API after a kubelet restart. */
  hasKube?: boolean;
  /** The signer's CA directory when it is not the layout's caDir. */
  signerCaDir?: string;
}

export type PlanResult = { ok: true; plan: RotatePlan } | { ok: false; error: string };

const pathOfBundle = bundlePath;

/** The default gates of a unit on `node`, given the certificates rotated on it. */
export function defaultGates(
  unit: string,
  node: NodeSpec,
  certs: readonly PlannedCert[],
  layout: Layout,
  pkiDir: string,
  hasKube: boolean,
): Gate[] {
  const gates: Gate[] = [{ kind: 'unit-active', name: `${unit} active`, unit }];
  const byId = new Map(certs.map((c) => [c.id, c]));
  const addr = node.addresses[0] ?? '127.0.0.1';
  const host = addr.includes(':') ? `[${addr}]` : addr;
  if (unit === 'etcd.service') {
    const server = byId.get('etcd-server');
    const bundle = pathOfBundle(layout, pkiDir, 'etcd-ca');
    // The same command the rebuild roll-out's etcd gate runs (actions/etcd-health.ts).
    const argv = etcdHealthArgv(node, server, bundle);
    if (server && bundle && argv) {
      gates.push({ kind: 'etcd-health', name: ETCD_HEALTH_GATE, argv });
      gates.push({
        kind: 'served-serial',
        name: 'etcd serves the new certificate',
        argv: [
          'openssl',
          's_client',
          '-connect',
          `${host}:2379`,
          '-CAfile',
          bundle,
          '-cert',
          server.certPath,
          '-key',
          server.keyPath,
          '-showcerts',
        ],
        certPath: server.certPath,
      });
    }
  } else if (unit === 'kube-apiserver.service') {
    const bundle = pathOfBundle(layout, pkiDir, 'kubernetes-ca');
    gates.push({
      kind: 'exec',
      name: 'API server /readyz',
      argv: [
        'curl',
        '-fsS',
        '--max-time',
        '5',
        ...(bundle ? ['--cacert', bundle] : ['-k']),
        'https://127.0.0.1:6443/readyz',
      ],
    });
    const serving = byId.get('kube-apiserver');
    if (serving && bundle)
      gates.push({
        kind: 'served-serial',
        name: 'API server serves the new certificate',
        argv: [
          'openssl',
          's_client',
          '-connect',
          '127.0.0.1:6443',
          '-CAfile',
          bundle,
          '-showcerts',
        ],
        certPath: serving.certPath,
      });
  } else if (unit === 'kube-controller-manager.service') {
    gates.push({
      kind: 'exec',
      name: 'controller-manager /healthz',
      argv: ['curl', '-fsSk', '--max-time', '5', 'https://127.0.0.1:10257/healthz'],
    });
  } else if (unit === 'kube-scheduler.service') {
    gates.push({
      kind: 'exec',
      name: 'scheduler /healthz',
      argv: ['curl', '-fsSk', '--max-time', '5', 'https://127.0.0.1:10259/healthz'],
    });
  } else if (unit === 'kubelet.service') {
    gates.push({
      kind: 'exec',
      name: 'kubelet /healthz',
      argv: ['curl', '-fsS', '--max-time', '5', 'http://127.0.0.1:10248/healthz'],
    });
    if (hasKube)
      gates.push({ kind: 'node-ready', name: `node ${node.name} Ready`, node: node.name });
  }
  return gates;
}

export function planRotate(o: PlanRotateOptions): PlanResult {
  const np = planNode(o.layout, o.node, { ...(o.cluster ?? {}), pkiDir: o.pkiDir });
  let certs = np.certs;
  if (o.only && o.only.length > 0) {
    const known = new Set(certs.map((c) => c.id));
    const unknown = o.only.filter((id) => !known.has(id));
    if (unknown.length > 0)
      return {
        ok: false,
        error: `${o.node.name} holds no enabled certificate ${unknown.map((u) => `"${u}"`).join(', ')} (its roles: ${o.node.roles.join(', ')}; ids: ${[...known].join(', ')})`,
      };
    const want = new Set(o.only);
    certs = certs.filter((c) => want.has(c.id));
  }
  if (certs.length === 0)
    return { ok: false, error: `${o.node.name}: nothing to rotate (no certificate for its roles)` };

  // Each certificate is installed just before the first of its units (in dependency order)
  // is handled; a unit restarts when one of its certificates needs it.
  const firstUnit = (c: PlannedCert): string | null =>
    c.units.length === 0 ? null : [...c.units].sort((a, b) => unitRank(a) - unitRank(b))[0]!;
  const units = [...new Set(certs.flatMap((c) => c.units))].sort(
    (a, b) => unitRank(a) - unitRank(b) || (a < b ? -1 : 1),
  );
  const groups: UnitGroup[] = [];
  const orphans = certs.filter((c) => firstUnit(c) === null);
  if (orphans.length > 0)
    groups.push({
      unit: null,
      certs: orphans,
      uses: orphans.map((c) => c.id),
      restart: false,
      pickup: 'none',
      why: orphans.map((c) => `${c.id}: ${pickupOf(c.id).why}`),
      gates: [],
    });
  for (const unit of units) {
    const uses = certs.filter((c) => c.units.includes(unit));
    const rules = uses.map((c) => ({ id: c.id, ...pickupOf(c.id) }));
    const restart = rules.some((r) => r.pickup === 'restart');
    const pickup: Pickup = restart
      ? 'restart'
      : rules.every((r) => r.pickup === 'per-handshake')
        ? 'per-handshake'
        : 'dynamic';
    groups.push({
      unit,
      certs: uses.filter((c) => firstUnit(c) === unit),
      uses: uses.map((c) => c.id),
      restart,
      pickup,
      why: rules.map((r) => `${r.id}: ${r.why}`),
      gates:
        o.gates?.[unit] ?? defaultGates(unit, o.node, uses, o.layout, o.pkiDir, o.hasKube === true),
    });
  }
  const params = ['--node', o.node.name, '--roles', o.node.roles.join(',')];
  if (o.node.addresses.length > 0) params.push('--addresses', o.node.addresses.join(','));
  else params.push('--addresses', '');
  if (o.cluster?.apiserverAddress) params.push('--apiserver-address', o.cluster.apiserverAddress);
  if (o.cluster?.clusterDomain) params.push('--cluster-domain', o.cluster.clusterDomain);
  if (o.cluster?.serviceCIDR) params.push('--service-cidr', o.cluster.serviceCIDR);
  return {
    ok: true,
    plan: {
      node: o.node,
      signer: o.signer,
      pkiDir: o.pkiDir,
      params,
      tools: o.tools ?? DEFAULT_TOOLS,
      units: o.units ?? SYSTEMD,
      groups,
      ids: certs.map((c) => c.id),
      ...(o.signerCaDir ? { signerCaDir: o.signerCaDir } : {}),
    },
  };
}

// ---------------------------------------------------------------------------- commands

export const lockArgv = (p: RotatePlan, who: LockOwner, resumePid?: number): string[] => [
  p.tools.lock,
  'acquire',
  '--owner',
  who.owner,
  '--host',
  who.host,
  '--pid',
  String(who.pid),
  ...(resumePid !== undefined ? ['--resume-pid', String(resumePid)] : []),
  '--pki-dir',
  p.pkiDir,
];
export const csrArgv = (p: RotatePlan, id: string): string[] => [
  p.tools.nodeCsr,
  ...p.params,
  '--pki-dir',
  p.pkiDir,
  '--only',
  id,
];
export const signArgv = (p: RotatePlan, id: string): string[] => [
  p.tools.sign,
  ...p.params,
  ...(p.signerCaDir ? ['--ca-dir', p.signerCaDir] : []),
  '--id',
  id,
  '--csr',
  '-',
];
export const installArgv = (p: RotatePlan, id: string): string[] => [
  p.tools.install,
  '--node',
  p.node.name,
  '--id',
  id,
  '--cert',
  '-',
  '--pki-dir',
  p.pkiDir,
];
export const rollbackArgv = (p: RotatePlan, id: string): string[] => [
  p.tools.install,
  '--node',
  p.node.name,
  '--id',
  id,
  '--rollback',
  '--pki-dir',
  p.pkiDir,
];

/** Who takes the node's lock: written into it, shown to whoever finds it held. */
export interface LockOwner {
  owner: string;
  host: string;
  pid: number;
}

export interface PlannedCommand {
  host: string;
  argv: string[];
  /** What goes to its stdin, described (the CSR, the chain). */
  stdin?: string;
  /** When it runs only on a condition (a failed gate). */
  when?: string;
}

/** The commands as a job's recorded plan shows them (host, argv, condition). */
export const planCommandsJson = (commands: readonly PlannedCommand[]) =>
  commands.map((c) => ({ host: c.host, argv: c.argv, ...(c.when ? { when: c.when } : {}) }));

/** The units as a job's recorded plan shows them (restart or not, the gates' names). */
export const planUnitsJson = (
  units: readonly { unit: string | null; restart: boolean; gates: readonly { name: string }[] }[],
) => units.map((u) => ({ unit: u.unit, restart: u.restart, gates: u.gates.map((g) => g.name) }));

/** Every command the job runs, per host, in order: what `--dry-run` prints. */
export function planCommands(p: RotatePlan, who: LockOwner): PlannedCommand[] {
  const n = p.node.name;
  const out: PlannedCommand[] = [{ host: n, argv: lockArgv(p, who) }];
  for (const g of p.groups) {
    for (const c of g.certs) {
      out.push({ host: n, argv: csrArgv(p, c.id) });
      out.push({ host: n, argv: ['cat', '--', `${p.pkiDir}/csr/${c.id}.csr`] });
      out.push({ host: p.signer.name, argv: signArgv(p, c.id), stdin: `the CSR of ${c.id}` });
      out.push({ host: n, argv: installArgv(p, c.id), stdin: `the chain of ${c.id}` });
      out.push({
        host: n,
        argv: [p.tools.lock, 'note', '--token', '<token>', '--id', c.id, '--pki-dir', p.pkiDir],
      });
    }
    if (g.unit === null) continue;
    if (g.restart) out.push({ host: n, argv: p.units.restart(g.unit) });
    for (const gate of g.gates) {
      if (gate.kind === 'unit-active') out.push({ host: n, argv: p.units.isActive(gate.unit) });
      else if (gate.kind === 'exec' || gate.kind === 'etcd-health')
        out.push({ host: n, argv: gate.argv });
      else if (gate.kind === 'served-serial') {
        out.push({ host: n, argv: gate.argv, stdin: 'nothing' });
        out.push({ host: n, argv: ['openssl', 'x509', '-in', gate.certPath, '-noout', '-serial'] });
      } else out.push({ host: 'kube API', argv: ['get', 'node', gate.node] });
    }
    const when = `${g.unit} fails a gate`;
    for (const id of g.uses) out.push({ host: n, argv: rollbackArgv(p, id), when });
    out.push({ host: n, argv: p.units.restart(g.unit), when });
    out.push({ host: n, argv: p.units.logs(g.unit), when });
  }
  out.push({
    host: n,
    argv: [p.tools.lock, 'release', '--token', '<token>', '--pki-dir', p.pkiDir],
  });
  return out;
}
