/**
 * The rotation model over store snapshots and the `rotate plan` exit code: 3 when a node's
 * certificates cannot be read, else 1 with a conflict, else 0; a missing file is due now.
 */
import { describe, expect, it } from 'vitest';
import { rotateExitCode, rotationPlanJson } from '../../../../src/commands/rotate.js';
import { demoInventory } from '../../../../src/demo/inventory.js';
import { buildRotationModel } from '../../../../src/features/rotation/model.js';
import { planSchedule } from '../../../../src/features/rotation/plan.js';
import type { CertFile, CertSummary } from '../../../../src/pki/types.js';
import type { Snapshot } from '../../../../src/store/types.js';

const NOW = Date.UTC(2026, 11, 6);
const D = 86_400_000;

const cert = (over: Partial<CertSummary>): CertSummary => ({
  subject: 'CN=x',
  commonName: 'x',
  organizations: [],
  issuer: 'CN=kubernetes-ca,O=k8ops',
  serial: '1',
  notBefore: NOW - D,
  notAfter: NOW + 13 * D,
  fingerprint: Math.random().toString(16),
  keyAlgorithm: 'ECDSA',
  signatureAlgorithm: 'ecdsa-with-SHA512',
  dnsNames: [],
  ipAddresses: [],
  isCA: false,
  keyUsages: [],
  extKeyUsages: [],
  ...over,
});

function reader(files: Map<string, CertFile[] | Error>) {
  return <T>(scope: string, _source: string): Snapshot<T> => {
    const v = files.get(scope);
    if (v instanceof Error)
      return {
        error: { message: v.message },
        updatedAt: NOW,
        stale: true,
      } as unknown as Snapshot<T>;
    return { value: v as T, updatedAt: NOW, stale: false } as unknown as Snapshot<T>;
  };
}

describe('rotation model', () => {
  const inv = demoInventory();
  const pki = inv.pki.dir;
  const kubelet = (node: string, nb: number): CertFile => ({
    node,
    path: `${pki}/kubelet.pem`,
    certs: [cert({ notBefore: nb, notAfter: nb + 14 * D })],
    errors: [],
  });

  it('reads the layout’s certificates from the certs snapshots; a missing file is due now', () => {
    const files = new Map<string, CertFile[] | Error>(
      inv.nodes.map((n) => [n.name, [kubelet(n.name, NOW - D)]]),
    );
    const m = buildRotationModel(inv, reader(files), NOW);
    const w1 = m.schedule.nodes.find((n) => n.name === 'worker-1')!;
    expect(w1.leaves.find((l) => l.id === 'kubelet')).toMatchObject({
      reason: 'scheduled',
      units: ['kubelet.service'],
    });
    expect(w1.leaves.find((l) => l.id === 'kubelet-client')).toMatchObject({
      reason: 'missing',
      scheduledMs: NOW,
    });
    expect(m.unreachable).toEqual([]);
  });

  it('exit 0 clean, 1 with a conflict, 3 with a node unreadable (the highest)', () => {
    // Only the kubelet certificates, all fresh: nothing due soon, no conflict.
    const clean = (nb: number) =>
      new Map<string, CertFile[] | Error>(inv.nodes.map((n) => [n.name, [kubelet(n.name, nb)]]));
    const only = (m: ReturnType<typeof buildRotationModel>) => {
      for (const n of m.input.nodes)
        (n as { leaves: readonly unknown[] }).leaves = n.leaves.filter((l) => l.id === 'kubelet');
      return m;
    };
    const ok = only(buildRotationModel(inv, reader(clean(NOW - D)), NOW));
    ok.schedule = planSchedule(ok.input, ok.settings, NOW);
    expect(rotateExitCode(ok)).toBe(0);
    // A 4-day spread leaves worker-3 (offset 3 d 8 h) 1 d 8 h: under minRemaining (48 h).
    const wide = { ...inv, rotation: { ...inv.rotation, spreadMs: 4 * D } };
    const late = only(buildRotationModel(wide, reader(clean(NOW - D)), NOW));
    late.schedule = planSchedule(late.input, late.settings, NOW);
    expect(late.schedule.conflicts.some((c) => c.kind === 'min-remaining')).toBe(true);
    expect(rotateExitCode(late)).toBe(1);
    const files = clean(NOW - 13 * D);
    files.set('worker-2', new Error('ssh: connect timed out'));
    const down = buildRotationModel(inv, reader(files), NOW);
    expect(down.unreachable).toEqual(['worker-2']);
    expect(rotateExitCode(down)).toBe(3);
    const doc = rotationPlanJson(down, 30, { cluster: 'c', mode: 'demo' });
    expect(doc.unreachable).toEqual(['worker-2']);
  });
});
