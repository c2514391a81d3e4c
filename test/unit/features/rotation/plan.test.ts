/**
 * The rotation planner: the slot formula (whole seconds, as nix/lib/rotation.nix), the
 * scheduled time (as k8ops-rotate-due), every conflict the preview flags, and a property
 * over generated inventories (fixed seed, bounded count): no schedule puts two
 * control-plane rotations closer than cpGap without flagging that pair.
 */
import { describe, expect, it } from 'vitest';
import type { Role } from '../../../../src/config/types.js';
import {
  DEFAULT_BUNDLE_LEAD_MS,
  type IntermediateInput,
  type LeafInput,
  type NodeInput,
  type PlanSettings,
  planSchedule,
  restartOrder,
  scheduledAt,
  slotOffsetMs,
} from '../../../../src/features/rotation/plan.js';
import { LEAF_LIFETIME_MS } from '../../../../src/pki/expiry.js';
import { mulberry32 as rng } from '../../../../src/store/prng.js';

const S = 1000;
const H = 3600 * S;
const D = 24 * H;
const NOW = Date.UTC(2026, 11, 6, 0, 0, 0);

const SETTINGS: PlanSettings = {
  spreadMs: 24 * H,
  cpGapMs: H / 2,
  minRemainingMs: 48 * H,
  bundleLeadMs: DEFAULT_BUNDLE_LEAD_MS,
};

const CA: IntermediateInput = {
  cn: 'kubernetes-ca',
  subject: 'CN=kubernetes-ca,O=k8ops',
  fingerprint: 'ca1',
  notBefore: NOW - 10 * D,
  notAfter: NOW + 50 * D,
};

const leaf = (id: string, notBefore: number, extra: Partial<LeafInput> = {}): LeafInput => ({
  id,
  path: `/etc/kubernetes/pki/${id}.pem`,
  notBefore,
  notAfter: notBefore + LEAF_LIFETIME_MS,
  units: ['kubelet.service'],
  issuer: CA.subject,
  ...extra,
});

const node = (name: string, index: number, roles: Role[], leaves: LeafInput[]): NodeInput => ({
  name,
  index,
  roles,
  leaves,
});

describe('slot formula', () => {
  it.each([
    [0, 6, 24 * H, 0],
    [1, 6, 24 * H, 4 * H],
    [5, 6, 24 * H, 20 * H],
    [1, 7, 24 * H, Math.floor(86_400 / 7) * S],
    [3, 4, 0, 0],
    [0, 1, 24 * H, 0],
    [2, 3, 24 * H + 500, 16 * H], // spread taken in whole seconds
  ])('node %i of %i, spread %i ms → %i ms', (i, n, spread, offset) => {
    expect(slotOffsetMs(i, n, spread)).toBe(offset);
  });

  it('scheduled = notAfter − ⌊lifetime/3⌋ + offset, in whole seconds', () => {
    const nb = NOW;
    const na = NOW + 14 * D + 1000; // lifetime not divisible by 3 seconds
    const r = scheduledAt({ notBefore: nb, notAfter: na }, 4 * H, undefined);
    const lifetimeS = (na - nb) / S;
    expect(r.renewBeforeMs).toBe(Math.floor(lifetimeS / 3) * S);
    expect(r.scheduledMs).toBe(na - Math.floor(lifetimeS / 3) * S + 4 * H);
    expect(r.scheduledMs % S).toBe(0);
    const c = scheduledAt({ notBefore: nb, notAfter: na }, 0, 2 * D + 250);
    expect(c.scheduledMs).toBe(na - 2 * D);
  });

  it('restart order follows the hook: etcd first, kubelet last, unknown units after', () => {
    expect(
      restartOrder(['kubelet.service', 'x.service', 'etcd.service', 'kube-apiserver.service']),
    ).toEqual(['etcd.service', 'kube-apiserver.service', 'kubelet.service', 'x.service']);
  });
});

describe('conflicts', () => {
  it('a clean schedule: 3 control-plane + 3 workers issued together, default settings', () => {
    const nodes = ['cp-1', 'cp-2', 'cp-3', 'w-1', 'w-2', 'w-3'].map((n, i) =>
      node(n, i, i < 3 ? ['control-plane', 'etcd'] : ['worker'], [leaf('kubelet', NOW - D)]),
    );
    const s = planSchedule({ nodes, nodeCount: 6, intermediates: [CA] }, SETTINGS, NOW);
    expect(s.conflicts).toEqual([]);
    expect(s.nodes.map((n) => n.events[0]!.at - s.nodes[0]!.events[0]!.at)).toEqual([
      0,
      4 * H,
      8 * H,
      12 * H,
      16 * H,
      20 * H,
    ]);
    expect(s.nodes[0]!.events[0]).toMatchObject({
      certs: ['kubelet'],
      units: ['kubelet.service'],
      controlPlane: true,
      overdue: false,
    });
  });

  it('cp-gap: two control-plane nodes whose slots fall closer than cpGap', () => {
    // 100 nodes over 24 h: 14.4 min apart; cp-1 and cp-2 are neighbours.
    const nodes = [
      node('cp-1', 0, ['control-plane'], [leaf('kube-apiserver', NOW)]),
      node('cp-2', 1, ['control-plane'], [leaf('kube-apiserver', NOW)]),
      node('cp-3', 50, ['control-plane'], [leaf('kube-apiserver', NOW)]),
    ];
    const s = planSchedule({ nodes, nodeCount: 100, intermediates: [CA] }, SETTINGS, NOW);
    expect(s.conflicts.map((c) => [c.kind, c.other, c.subject])).toEqual([
      ['cp-gap', 'cp-1', 'cp-2'],
    ]);
    expect(s.conflicts[0]!.message).toContain('14 min apart (minimum 30 min)');
    // Widening the spread clears it.
    const wide = planSchedule(
      { nodes, nodeCount: 100, intermediates: [CA] },
      { ...SETTINGS, spreadMs: 60 * H },
      NOW,
    );
    expect(wide.conflicts).toEqual([]);
  });

  it('cp-gap ignores workers and one node’s own certificates', () => {
    const nodes = [
      node('cp-1', 0, ['control-plane'], [leaf('a', NOW), leaf('b', NOW + 60 * S)]),
      node('w-1', 1, ['worker'], [leaf('kubelet', NOW)]),
    ];
    const s = planSchedule({ nodes, nodeCount: 100, intermediates: [CA] }, SETTINGS, NOW);
    expect(s.conflicts).toEqual([]);
    expect(s.nodes[0]!.events.map((e) => e.certs)).toEqual([['a'], ['b']]);
  });

  it('min-remaining: a spread that pushes a leaf past notAfter − minRemaining', () => {
    const nodes = [0, 1, 2].map((i) => node(`w-${i}`, i, ['worker'], [leaf('kubelet', NOW)]));
    // renew 3 d before; a 3-day spread leaves node 2 with 3 d − 2 d = 1 d.
    const s = planSchedule(
      { nodes, nodeCount: 3, intermediates: [CA] },
      { ...SETTINGS, renewBeforeMs: 3 * D, spreadMs: 3 * D },
      NOW,
    );
    expect(s.conflicts.map((c) => [c.kind, c.subject, c.cert])).toEqual([
      ['min-remaining', 'w-2', 'kubelet'],
    ]);
    expect(s.conflicts[0]!.message).toContain('with 24 h left (minimum 48 h)');
  });

  it('outlives-intermediate: a leaf re-issued when its intermediate has less than its lifetime left', () => {
    const shortCa = { ...CA, notAfter: NOW + 15 * D };
    const nodes = [node('w-1', 0, ['worker'], [leaf('kubelet', NOW - 5 * D)])];
    const s = planSchedule({ nodes, nodeCount: 1, intermediates: [shortCa] }, SETTINGS, NOW);
    const kinds = s.conflicts.map((c) => c.kind);
    expect(kinds).toContain('outlives-intermediate');
    expect(s.conflicts.find((c) => c.kind === 'outlives-intermediate')!.message).toContain(
      'after its intermediate kubernetes-ca',
    );
    // With the successor issued (a newer certificate of the same name), it is signed by it.
    const successor = { ...CA, fingerprint: 'ca2', notBefore: NOW, notAfter: NOW + 60 * D };
    const ok = planSchedule(
      { nodes, nodeCount: 1, intermediates: [shortCa, successor] },
      SETTINGS,
      NOW,
    );
    expect(ok.conflicts).toEqual([]);
    expect(ok.intermediates.map((i) => [i.fingerprint, i.superseded])).toEqual([
      ['ca1', true],
      ['ca2', false],
    ]);
  });

  it('no-bundle-lead: an intermediate due within bundleLead and no successor issued', () => {
    const dueSoon = { ...CA, notAfter: NOW + 16 * D + 12 * H }; // due in 12 h
    const s = planSchedule({ nodes: [], nodeCount: 0, intermediates: [dueSoon] }, SETTINGS, NOW);
    expect(s.conflicts.map((c) => [c.kind, c.subject])).toEqual([
      ['no-bundle-lead', 'kubernetes-ca'],
    ]);
    expect(s.intermediates[0]).toMatchObject({
      dueMs: NOW + 12 * H,
      bundleByMs: NOW - 12 * H,
    });
    const early = { ...CA, notAfter: NOW + 16 * D + 25 * H };
    expect(
      planSchedule({ nodes: [], nodeCount: 0, intermediates: [early] }, SETTINGS, NOW).conflicts,
    ).toEqual([]);
  });

  it('a missing certificate is due at once; an overdue one is marked', () => {
    const nodes = [
      node(
        'w-1',
        0,
        ['worker'],
        [
          { id: 'kubelet', path: '/x/kubelet.pem', units: ['kubelet.service'] },
          leaf('kube-proxy-client', NOW - 12 * D, { units: ['kube-proxy.service'] }),
        ],
      ),
    ];
    const s = planSchedule({ nodes, nodeCount: 1, intermediates: [CA] }, SETTINGS, NOW);
    expect(s.nodes[0]!.leaves.map((l) => [l.id, l.reason])).toEqual([
      ['kube-proxy-client', 'overdue'],
      ['kubelet', 'missing'],
    ]);
    expect(s.nodes[0]!.events.every((e) => e.overdue)).toBe(true);
  });
});

describe('property: control-plane rotations closer than cpGap are always flagged', () => {
  it('250 generated inventories (seed 15)', () => {
    const r = rng(15);
    const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    for (let k = 0; k < 250; k++) {
      const count = int(1, 60);
      const settings: PlanSettings = {
        spreadMs: int(0, 72) * H + int(0, 3599) * S,
        cpGapMs: int(1, 120) * 60 * S,
        minRemainingMs: int(0, 96) * H,
        bundleLeadMs: DEFAULT_BUNDLE_LEAD_MS,
        ...(r() < 0.5 ? { renewBeforeMs: int(1, 200) * H } : {}),
      };
      const issued = NOW - int(0, 13) * D;
      const nodes: NodeInput[] = [];
      for (let i = 0; i < count; i++) {
        const cp = r() < 0.3;
        const leaves: LeafInput[] = [];
        const nLeaves = int(1, 4);
        for (let j = 0; j < nLeaves; j++)
          leaves.push(leaf(`c${j}`, r() < 0.7 ? issued : issued + int(-3600, 3600) * S));
        nodes.push(node(`n${i}`, i, cp ? ['control-plane'] : ['worker'], leaves));
      }
      const s = planSchedule({ nodes, nodeCount: count, intermediates: [CA] }, settings, NOW);
      const flagged = new Set(
        s.conflicts.filter((c) => c.kind === 'cp-gap').map((c) => `${c.other}\u0000${c.subject}`),
      );
      const cp = s.nodes.filter((n) => n.controlPlane).flatMap((n) => n.events);
      for (const a of cp)
        for (const b of cp) {
          if (a.node === b.node || b.at < a.at || b.at - a.at >= settings.cpGapMs) continue;
          if (a.at === b.at) {
            expect(
              flagged.has(`${a.node}\u0000${b.node}`) || flagged.has(`${b.node}\u0000${a.node}`),
            ).toBe(true);
          } else expect(flagged.has(`${a.node}\u0000${b.node}`)).toBe(true);
        }
      // Every flagged pair is real.
      for (const c of s.conflicts.filter((c) => c.kind === 'cp-gap')) {
        const a = s.nodes.find((n) => n.name === c.other)!;
        const b = s.nodes.find((n) => n.name === c.subject)!;
        expect(
          a.events.some((x) => b.events.some((y) => Math.abs(x.at - y.at) < settings.cpGapMs)),
        ).toBe(true);
      }
    }
  });
});
