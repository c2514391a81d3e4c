/**
 * The planner is memoised (per node, what does not depend on the spread) and lazy (a node's
 * leaves and timer runs are built when read): it must give exactly the schedule of the
 * eager planner it replaced (plan-reference.ts, kept verbatim as the oracle), byte for byte
 * as JSON, whatever order of settings the same input is re-planned with (the Rotation
 * pane's `+`/`-`/`[`/`]`), over generated inventories with missing, expired and overdue
 * certificates, unknown issuers, key ids and superseded intermediates.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Role } from '../../../../src/config/types.js';
import {
  allEvents,
  DEFAULT_BUNDLE_LEAD_MS,
  type IntermediateInput,
  type LeafInput,
  type NodeInput,
  type PlanInput,
  type PlanSettings,
  planSchedule,
  type Schedule,
} from '../../../../src/features/rotation/plan.js';
import { referencePlanSchedule } from './plan-reference.js';

const S = 1000;
const H = 3600 * S;
const D = 24 * H;
const NOW = Date.UTC(2026, 11, 6, 0, 0, 0);

const caArb = (i: number) =>
  fc
    .record({
      name: fc.constantFrom('kubernetes-ca', 'etcd-ca'),
      skid: fc.option(fc.constantFrom('k1', 'k2'), { nil: undefined }),
      notBefore: fc.integer({ min: -60, max: 0 }),
      notAfter: fc.integer({ min: -2, max: 70 }),
    })
    .map(
      (c): IntermediateInput => ({
        cn: c.name,
        subject: `CN=${c.name}`,
        fingerprint: `fp${i}`,
        notBefore: NOW + c.notBefore * D,
        notAfter: NOW + c.notAfter * D + 1234,
        ...(c.skid ? { subjectKeyId: c.skid } : {}),
      }),
    );

const leafArb = (j: number) =>
  fc
    .record({
      missing: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
      issued: fc.integer({ min: -20 * 24, max: 2 * 24 }),
      ms: fc.integer({ min: 0, max: 999 }),
      lifetimeH: fc.constantFrom(14 * 24, 14 * 24, 7 * 24, 30 * 24, 1),
      issuer: fc.constantFrom('CN=kubernetes-ca', 'CN=etcd-ca', 'CN=other', undefined),
      aki: fc.option(fc.constantFrom('k1', 'k2'), { nil: undefined }),
      units: fc.subarray([
        'kubelet.service',
        'etcd.service',
        'kube-apiserver.service',
        'x.service',
      ]),
      same: fc.boolean(),
    })
    .map((l): LeafInput => {
      const nb = NOW + l.issued * H + l.ms;
      const base: LeafInput = { id: `c${j}`, path: `/p/c${j}.pem`, units: l.units };
      if (l.missing && !l.same) return base;
      return {
        ...base,
        notBefore: l.same ? NOW - 3 * D : nb,
        notAfter: (l.same ? NOW - 3 * D : nb) + l.lifetimeH * H,
        ...(l.issuer !== undefined ? { issuer: l.issuer } : {}),
        ...(l.aki ? { authorityKeyId: l.aki } : {}),
      };
    });

const inputArb: fc.Arbitrary<PlanInput> = fc
  .record({
    cas: fc
      .integer({ min: 0, max: 4 })
      .chain((k) => fc.tuple(...Array.from({ length: k }, (_, i) => caArb(i)))),
    nodes: fc.array(
      fc.record({
        cp: fc.boolean(),
        leaves: fc
          .integer({ min: 0, max: 5 })
          .chain((k) => fc.tuple(...Array.from({ length: k }, (_, j) => leafArb(j)))),
        state: fc.constantFrom('ok', 'ok', 'ok', 'error', 'pending'),
      }),
      { minLength: 1, maxLength: 12 },
    ),
    extra: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ cas, nodes, extra }) => ({
    intermediates: cas as IntermediateInput[],
    nodeCount: nodes.length + extra,
    nodes: nodes.map(
      (n, i): NodeInput => ({
        name: `n${i}`,
        index: i,
        roles: (n.cp ? ['control-plane', 'etcd'] : ['worker']) as Role[],
        leaves: n.leaves as LeafInput[],
        ...(n.state === 'error' ? { error: 'unreachable' } : {}),
        ...(n.state === 'pending' ? { pending: true } : {}),
      }),
    ),
  }));

const settingsArb: fc.Arbitrary<PlanSettings> = fc
  .record({
    spread: fc.integer({ min: 0, max: 7 * 24 * 3600 }),
    renew: fc.option(fc.integer({ min: 1, max: 13 * 24 }), { nil: undefined }),
    cpGap: fc.integer({ min: 1, max: 240 }),
    minRemaining: fc.integer({ min: 0, max: 96 }),
  })
  .map((s) => ({
    spreadMs: s.spread * S,
    cpGapMs: s.cpGap * 60 * S,
    minRemainingMs: s.minRemaining * H,
    bundleLeadMs: DEFAULT_BUNDLE_LEAD_MS,
    ...(s.renew !== undefined ? { renewBeforeMs: s.renew * H } : {}),
  }));

const json = (s: Schedule) => JSON.stringify(s);

describe('incremental planner = the eager planner it replaced', () => {
  it('the same schedule, byte for byte, for any sequence of settings over one input', () => {
    fc.assert(
      fc.property(
        inputArb,
        fc.array(settingsArb, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: -3 * D, max: 3 * D }),
        (input, seq, dNow) => {
          for (const settings of seq) {
            // Now anywhere, and exactly on a notAfter and on a scheduled time (the edges of
            // expired and overdue).
            const first = referencePlanSchedule(input, settings, NOW + dNow);
            const dated = first.nodes.flatMap((n) => n.leaves).filter((l) => l.notAfter);
            const nows = [NOW + dNow];
            if (dated.length > 0) nows.push(dated[0]!.notAfter!, dated.at(-1)!.scheduledMs);
            for (const now of nows) {
              const want = referencePlanSchedule(input, settings, now);
              const got = planSchedule(input, settings, now);
              // Read nothing first: the conflicts are computed without building the lists.
              expect(got.conflicts).toEqual(want.conflicts);
              expect(json(got)).toBe(json(want));
              expect(allEvents(got)).toEqual(allEvents(want));
            }
          }
        },
      ),
      { numRuns: 300, seed: 15 },
    );
  });

  it('a re-planned node gives fresh lists (nothing shared between two schedules)', () => {
    const input: PlanInput = {
      nodeCount: 2,
      intermediates: [],
      nodes: [0, 1].map((i) => ({
        name: `n${i}`,
        index: i,
        roles: ['worker'] as Role[],
        leaves: [
          {
            id: 'a',
            path: '/a',
            notBefore: NOW - D,
            notAfter: NOW + 13 * D,
            units: ['kubelet.service'],
          },
        ],
      })),
    };
    const settings: PlanSettings = { spreadMs: D, cpGapMs: H, minRemainingMs: 0, bundleLeadMs: D };
    const a = planSchedule(input, settings, NOW);
    const b = planSchedule(input, { ...settings, spreadMs: 2 * D }, NOW);
    expect(b.nodes[1]!.events[0]!.at - a.nodes[1]!.events[0]!.at).toBe(D / 2);
    a.nodes[1]!.events[0]!.certs.push('mutated');
    expect(b.nodes[1]!.events[0]!.certs).toEqual(['a']);
    expect(planSchedule(input, settings, NOW).nodes[1]!.events[0]!.certs).toEqual(['a']);
    // An assigned list is kept (the fields stay plain data to a caller).
    a.nodes[0]!.events = [];
    expect(a.nodes[0]!.events).toEqual([]);
  });
});
