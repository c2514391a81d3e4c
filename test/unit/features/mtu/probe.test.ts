/**
 * The path-MTU planner: which address a node is probed at (hostile values refused), the
 * ping argv, the bisection over simulated paths (a router that sends "Frag needed", a
 * black hole that drops silently, a dead peer), and the bounds on probes in flight.
 * The real probes in network namespaces are in test/integration/mtu-netns.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../../../src/config/types.js';
import type { PingOutcome } from '../../../../src/features/mtu/parse.js';
import {
  findPathMtu,
  Limiter,
  pingArgv,
  probeAddressOf,
  probePeers,
} from '../../../../src/features/mtu/probe.js';
import { HOSTILE } from '../../../helpers/hostile.js';

const node = (over: Partial<NodeSpec>): NodeSpec => ({
  name: 'n1',
  index: 0,
  host: 'n1',
  addresses: [],
  roles: ['worker'],
  ...over,
});

describe('probe address', () => {
  it('first IPv4, else first IPv6, else a host that is an IP or a DNS name', () => {
    expect(probeAddressOf(node({ addresses: ['fd00::1', '10.0.0.1'] }))).toBe('10.0.0.1');
    expect(probeAddressOf(node({ addresses: ['fd00::1'] }))).toBe('fd00::1');
    expect(probeAddressOf(node({ host: '10.1.2.3' }))).toBe('10.1.2.3');
    expect(probeAddressOf(node({ host: 'n1.lab.example' }))).toBe('n1.lab.example');
    // An ssh alias would not resolve on the node.
    expect(probeAddressOf(node({ host: 'n1' }))).toBeUndefined();
  });
  it('refuses hostile values (options, shell, control characters)', () => {
    for (const bad of ['-f', '--help', 'a;reboot', '$(id)', 'a b', ...Object.values(HOSTILE)])
      expect(probeAddressOf(node({ host: bad, addresses: [bad] }))).toBeUndefined();
  });
  it('argv: payload = MTU − 28 (IPv4) or − 48 with -6 (IPv6), DF set, one echo, 1 s', () => {
    expect(pingArgv('10.0.0.1', 9216)).toEqual([
      'ping',
      '-n',
      '-M',
      'do',
      '-s',
      '9188',
      '-c',
      '1',
      '-W',
      '1',
      '10.0.0.1',
    ]);
    expect(pingArgv('fd00::1', 9216)).toEqual([
      'ping',
      '-6',
      '-n',
      '-M',
      'do',
      '-s',
      '9168',
      '-c',
      '1',
      '-W',
      '1',
      'fd00::1',
    ]);
  });
});

/** A simulated path: passes ≤ mtu; above it a router says so, or (silent) nothing. */
const path =
  (mtu: number, how: 'icmp' | 'silent' | 'local' | 'icmp-no-mtu') =>
  async (size: number): Promise<PingOutcome> => {
    if (size <= mtu) return { kind: 'ok' };
    if (how === 'silent') return { kind: 'timeout' };
    if (how === 'local') return { kind: 'too-big', where: 'local', mtu };
    if (how === 'icmp-no-mtu') return { kind: 'too-big', where: 'remote', from: '10.0.0.254' };
    return { kind: 'too-big', where: 'remote', from: '10.0.0.254', mtu };
  };

describe('findPathMtu', () => {
  it('a clean path: one probe', async () => {
    expect(await findPathMtu(path(9216, 'icmp'), 9216)).toEqual({
      status: 'ok',
      mtu: 9216,
      probes: 1,
    });
  });
  it('a router names its next-hop MTU: confirmed with one more probe', async () => {
    expect(await findPathMtu(path(1500, 'icmp'), 9216)).toEqual({
      status: 'low',
      mtu: 1500,
      probes: 2,
      reportedBy: '10.0.0.254',
    });
    expect(await findPathMtu(path(1500, 'local'), 9216)).toMatchObject({
      status: 'low',
      mtu: 1500,
      reportedBy: 'local',
    });
  });
  it('no MTU in the ICMP: bisection finds it exactly', async () => {
    const r = await findPathMtu(path(8000, 'icmp-no-mtu'), 9216);
    expect(r).toMatchObject({ status: 'low', mtu: 8000 });
    expect(r.probes).toBeLessThanOrEqual(16);
  });
  it('a lying ICMP (the named MTU does not pass) falls back to bisection', async () => {
    const liar = async (size: number): Promise<PingOutcome> =>
      size <= 4000 ? { kind: 'ok' } : { kind: 'too-big', where: 'remote', from: 'r', mtu: 5000 };
    expect(await findPathMtu(liar, 9216)).toMatchObject({ status: 'low', mtu: 4000 });
  });
  it('a black hole: bounds, never a single number', async () => {
    const r = await findPathMtu(path(3000, 'silent'), 9216);
    expect(r).toMatchObject({ status: 'black-hole', okUpTo: 3000, failFrom: 3001 });
    const capped = await findPathMtu(path(3000, 'silent'), 9216, { maxProbes: 4 });
    expect(capped.probes).toBe(4);
    expect(capped.status).toBe('black-hole');
    expect(capped.okUpTo! <= 3000 && capped.failFrom! > 3000).toBe(true);
  });
  it('one lost echo at the target is asked again, not taken for a black hole', async () => {
    let n = 0;
    const flaky = async (): Promise<PingOutcome> =>
      n++ === 0 ? { kind: 'timeout' } : { kind: 'ok' };
    expect(await findPathMtu(flaky, 9216)).toEqual({ status: 'ok', mtu: 9216, probes: 2 });
  });
  it('no reply at all, and errors, are said as such', async () => {
    expect(await findPathMtu(async () => ({ kind: 'timeout' }), 9216)).toMatchObject({
      status: 'unreachable',
      probes: 3,
    });
    expect(
      await findPathMtu(
        async () => ({ kind: 'error', message: 'Destination Net Unreachable' }),
        9216,
      ),
    ).toEqual({ status: 'error', message: 'Destination Net Unreachable', probes: 1 });
  });
});

describe('probePeers bounds', () => {
  it('at most the limiter in flight overall, perNode pairs per node, one probe per pair', async () => {
    const limiter = new Limiter(8);
    const perPair = new Map<string, number>();
    let pairViolation = false;
    const perFrom = new Map<number, number>();
    let perFromPeak = 0;
    const execFrom = (from: number) => async (argv: readonly string[]) => {
      const to = `${from}->${argv.at(-1)!}`;
      const n = (perPair.get(to) ?? 0) + 1;
      perPair.set(to, n);
      if (n > 1) pairViolation = true;
      perFrom.set(from, (perFrom.get(from) ?? 0) + 1);
      perFromPeak = Math.max(perFromPeak, perFrom.get(from)!);
      await new Promise((r) => setTimeout(r, 5));
      perFrom.set(from, perFrom.get(from)! - 1);
      perPair.set(to, (perPair.get(to) ?? 1) - 1);
      const size = Number(argv[argv.indexOf('-s') + 1]) + 28;
      return size <= 1500
        ? { stdout: '1 packets transmitted, 1 received\n', stderr: '', code: 0 }
        : { stdout: '', stderr: 'ping: local error: message too long, mtu=1500\n', code: 1 };
    };
    const peers = Array.from({ length: 9 }, (_, i) => ({
      name: `p${i}`,
      address: `10.0.0.${i + 1}`,
    }));
    // Ten nodes probing at once through one limiter.
    const all = await Promise.all(
      Array.from({ length: 10 }, (_, from) =>
        probePeers(execFrom(from), peers, 9216, { limiter, perNode: 3 }),
      ),
    );
    expect(limiter.peak).toBe(8);
    expect(pairViolation).toBe(false);
    expect(perFromPeak).toBeLessThanOrEqual(3);
    for (const rows of all)
      expect(rows.map((r) => [r.to, r.status, r.mtu])).toEqual(
        peers.map((p) => [p.name, 'low', 1500]),
      );
  });
  it('a peer without an address is an error row, not a probe', async () => {
    const rows = await probePeers(
      async () => ({ stdout: '', stderr: '', code: 0 }),
      [{ name: 'x' }],
      9216,
    );
    expect(rows).toEqual([expect.objectContaining({ to: 'x', status: 'error', probes: 0 })]);
  });
});
