/**
 * The rotate planner (pure): which certificates, grouped by unit in dependency order, which
 * units restart and why, the gates, the commands per host; and the lock holder parser.
 */
import { describe, expect, it } from 'vitest';
import {
  describeHolder,
  firstPemSerial,
  parseLockHolder,
  planCommands,
  planRotate,
  type RotatePlan,
  UNIT_ORDER,
} from '../../../src/actions/rotate/index.js';
import type { NodeSpec } from '../../../src/config/types.js';
import { UNIT_ORDER as FEATURE_UNIT_ORDER } from '../../../src/features/rotation/plan.js';
import { defaultLayout } from '../../../src/pki/layout-data.js';

const cp1: NodeSpec = {
  name: 'cp-1',
  index: 0,
  host: 'cp-1',
  addresses: ['10.77.0.11'],
  roles: ['control-plane', 'etcd'],
};
const w1: NodeSpec = {
  name: 'worker-1',
  index: 3,
  host: 'worker-1',
  addresses: ['10.77.0.21', 'fd00:77::21'],
  roles: ['worker'],
};
const who = { owner: 'op@k8ops', host: 'admin', pid: 42 };

function plan(node: NodeSpec, only?: string[], hasKube = false): RotatePlan {
  const r = planRotate({
    layout: defaultLayout(),
    node,
    signer: cp1,
    pkiDir: '/etc/kubernetes/pki',
    ...(only ? { only } : {}),
    hasKube,
  });
  if (!r.ok) throw new Error(r.error);
  return r.plan;
}

describe('planRotate', () => {
  it('a control-plane + etcd node: units in dependency order, restart only where needed', () => {
    const p = plan(cp1);
    expect(p.groups.map((g) => g.unit)).toEqual([
      null,
      'etcd.service',
      'kube-apiserver.service',
      'kube-controller-manager.service',
      'kube-scheduler.service',
      'kube-addon-manager.service',
      'kubelet.service',
    ]);
    const g = (u: string | null) => p.groups.find((x) => x.unit === u)!;
    expect(g(null).uses).toEqual(['cluster-admin']);
    expect(g('etcd.service')).toMatchObject({ restart: false, pickup: 'per-handshake' });
    expect(g('etcd.service').uses).toEqual(['etcd-server', 'etcd-peer']);
    // The etcd client pair is read once by the API server: that alone makes it restart.
    expect(g('kube-apiserver.service').restart).toBe(true);
    expect(g('kube-apiserver.service').why.join('\n')).toContain(
      'apiserver-etcd-client: the etcd client pair is read once at start',
    );
    expect(g('kubelet.service').restart).toBe(true);
    // Every certificate is installed exactly once, before the first unit using it.
    expect(p.groups.flatMap((x) => x.certs.map((c) => c.id)).sort()).toEqual([...p.ids].sort());
  });

  it('only the serving certificate of the API server: no restart (reloaded from disk)', () => {
    const p = plan(cp1, ['kube-apiserver']);
    expect(p.groups).toHaveLength(1);
    expect(p.groups[0]).toMatchObject({
      unit: 'kube-apiserver.service',
      restart: false,
      pickup: 'dynamic',
    });
    expect(p.groups[0]!.gates.map((x) => x.name)).toEqual([
      'kube-apiserver.service active',
      'API server /readyz',
      'API server serves the new certificate',
    ]);
  });

  it('etcd gates: mTLS endpoint health and the served serial, at the node address', () => {
    const p = plan(cp1, ['etcd-server']);
    const gates = p.groups[0]!.gates;
    expect(gates.map((x) => x.kind)).toEqual(['unit-active', 'etcd-health', 'served-serial']);
    const health = gates[1]!;
    expect(health.kind === 'etcd-health' && health.argv).toEqual([
      'etcdctl',
      '--endpoints=https://10.77.0.11:2379',
      '--cacert',
      '/etc/kubernetes/pki/etcd-ca.pem',
      '--cert',
      '/etc/kubernetes/pki/etcd-server.pem',
      '--key',
      '/etc/kubernetes/pki/etcd-server-key.pem',
      '--command-timeout=5s',
      '-w',
      'json',
      'endpoint',
      'health',
      '--cluster',
    ]);
  });

  it('a worker: kubelet restarts; node Ready is a gate only with a kube API', () => {
    expect(plan(w1).groups.map((g) => g.unit)).toEqual(['kubelet.service']);
    expect(plan(w1).groups[0]!.gates.map((x) => x.kind)).toEqual(['unit-active', 'exec']);
    expect(plan(w1, undefined, true).groups[0]!.gates.at(-1)).toEqual({
      kind: 'node-ready',
      name: 'node worker-1 Ready',
      node: 'worker-1',
    });
  });

  it('refuses an id the node does not hold, naming the ones it does', () => {
    const r = planRotate({
      layout: defaultLayout(),
      node: w1,
      signer: cp1,
      pkiDir: '/etc/kubernetes/pki',
      only: ['etcd-server'],
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(
      /worker-1 holds no enabled certificate "etcd-server".*kubelet/,
    );
  });

  it('commands: lock first, then per certificate node-csr → CSR → sign at the signer → install → note; release last', () => {
    const cmds = planCommands(plan(w1, ['kubelet']), who);
    expect(cmds.map((c) => `${c.host}: ${c.argv.slice(0, 2).join(' ')}`)).toEqual([
      'worker-1: k8ops-pki-lock acquire',
      'worker-1: k8ops-pki-node-csr --node',
      'worker-1: cat --',
      'cp-1: k8ops-pki-sign --node',
      'worker-1: k8ops-pki-install --node',
      'worker-1: k8ops-pki-lock note',
      'worker-1: systemctl restart',
      'worker-1: systemctl is-active',
      'worker-1: curl -fsS',
      'worker-1: k8ops-pki-install --node',
      'worker-1: systemctl restart',
      'worker-1: journalctl -u',
      'worker-1: k8ops-pki-lock release',
    ]);
    expect(cmds[0]!.argv).toEqual([
      'k8ops-pki-lock',
      'acquire',
      '--owner',
      'op@k8ops',
      '--host',
      'admin',
      '--pid',
      '42',
      '--pki-dir',
      '/etc/kubernetes/pki',
    ]);
    // node-csr and sign get the same node parameters (the CSR is checked against them).
    const params = [
      '--node',
      'worker-1',
      '--roles',
      'worker',
      '--addresses',
      '10.77.0.21,fd00:77::21',
    ];
    expect(cmds[1]!.argv.slice(1, 7)).toEqual(params);
    expect(cmds[3]!.argv.slice(1, 7)).toEqual(params);
    expect(cmds[9]!.when).toBe('kubelet.service fails a gate');
    expect(cmds[9]!.argv).toContain('--rollback');
  });

  it('the Rotation pane and the action share one restart order', () => {
    expect(FEATURE_UNIT_ORDER).toBe(UNIT_ORDER);
  });
});

describe('the lock holder (lock.sh show / acquire answers)', () => {
  it('parses a holder and describes it with its age', () => {
    const h = parseLockHolder(
      '{"held":true,"owner":"op@k8ops","host":"admin","pid":42,"since":1796528432,"ageSeconds":4000,"installed":["etcd-server","../x"]}\n',
    );
    expect(h).toEqual({
      owner: 'op@k8ops',
      host: 'admin',
      pid: 42,
      since: 1796528432,
      ageSeconds: 4000,
      installed: ['etcd-server'],
    });
    expect(describeHolder(h!)).toBe(
      'op@k8ops on admin (pid 42), held for 66 min since 2026-12-06T03:40:32Z',
    );
    // A holder that died between mkdir and writing its record.
    expect(
      describeHolder(
        parseLockHolder(
          '{"held":true,"owner":"","host":"","pid":null,"since":0,"ageSeconds":90000}',
        )!,
      ),
    ).toMatch(/^an unknown owner \(it died while taking the lock\), held for 25 h/);
    expect(parseLockHolder('{"held":false}')).toBeUndefined();
  });

  it('never throws on garbage (seeded random inputs), and never returns non-id installs', () => {
    let seed = 0x2f6e2b1;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pieces = [
      '{',
      '}',
      '"held":true',
      ',',
      '"installed":',
      '[',
      ']',
      '"a b"',
      '1e999',
      'null',
      '"\u001b[2J"',
      '\n',
      '"pid":-1',
    ];
    for (let i = 0; i < 2000; i++) {
      let s = '';
      const n = Math.floor(rnd() * 12);
      for (let j = 0; j < n; j++) s += pieces[Math.floor(rnd() * pieces.length)];
      const h = parseLockHolder(s);
      if (h) for (const id of h.installed) expect(id).toMatch(/^[a-z0-9][a-z0-9-]{0,63}$/);
      expect(firstPemSerial(s)).toBeUndefined();
    }
    expect(
      firstPemSerial('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
    ).toBeUndefined();
  });
});
