/**
 * The MTU parsers on outputs captured from the real tools (test/fixtures/mtu, each with the
 * command that made it): `ip -j -d link show` classified by role, iputils `ping -M do`
 * outcomes, Cilium's `/v1/config`. And a fast-check property: garbage never throws.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyLink,
  parseCiliumConfig,
  parseIpLinks,
  parsePing,
} from '../../../../src/features/mtu/parse.js';

const FIX = join(import.meta.dirname, '../../../fixtures/mtu');
const text = (f: string) => readFileSync(join(FIX, f), 'utf8');
const ping = (f: string) => {
  const d = JSON.parse(text(f)) as { stdout: string; stderr: string; code: number };
  return parsePing(d.stdout, d.stderr, d.code);
};
const roles = (f: string) => {
  const p = parseIpLinks(text(f));
  if (!p.ok) throw new Error(p.error);
  return Object.fromEntries(p.value.links.map((l) => [l.name, [classifyLink(l), l.mtu]]));
};

describe('ip -j -d link show', () => {
  it('classifies a Cilium node captured from a netns (veth, bridge, vxlan, lxc, loopback)', () => {
    expect(roles('ip-link-cilium-node.json')).toEqual({
      lo: ['loopback', 65536],
      uplink0: ['veth', 9216],
      eth0: ['veth', 9216],
      uplink1: ['veth', 1500],
      'eth0.mgmt': ['veth', 1500],
      br0: ['bridge', 9216],
      cilium_net: ['cilium', 9216],
      cilium_host: ['cilium', 9216],
      cilium_vxlan: ['tunnel', 9216],
      lxc1a2b3c4d5e6f: ['lxc', 9216],
      lxc_health: ['lxc', 9216],
    });
  });

  it('reads ports, peers in other namespaces and the tunnel details', () => {
    const p = parseIpLinks(text('ip-link-cilium-node.json'));
    if (!p.ok) throw new Error(p.error);
    const by = new Map(p.value.links.map((l) => [l.name, l]));
    expect(by.get('eth0')).toMatchObject({ master: 'br0', slaveKind: 'bridge', up: true });
    expect(by.get('lxc1a2b3c4d5e6f')?.peerInOtherNetns).toBe(true);
    expect(by.get('cilium_vxlan')?.tunnel).toEqual({ external: true, port: 8472, id: 0 });
    expect(p.value.skipped).toEqual([]);
  });

  it('classifies a real NIC (virtio, no link kind)', () => {
    expect(roles('ip-link-host-nic.json')).toEqual({ eth0: ['nic', 1400] });
  });

  it('classifies bond, its PCI ports, a VLAN, dummy and geneve (hand-written fixture)', () => {
    expect(roles('ip-link-constructed.json')).toEqual({
      eno1: ['nic', 9216],
      eno2: ['nic', 9216],
      bond0: ['bond', 9216],
      'bond0.100': ['vlan', 1500],
      dummy0: ['other', 1500],
      cilium_geneve: ['tunnel', 9216],
    });
  });

  it('skips a malformed entry and names it; rejects what is not a list of links', () => {
    const p = parseIpLinks('[{"ifname":"a","mtu":1500},{"ifname":"b"},7]');
    expect(p).toEqual({
      ok: true,
      value: {
        links: [expect.objectContaining({ name: 'a', mtu: 1500 })],
        skipped: ['b: no mtu', 'entry 2 is not an object'],
      },
    });
    expect(parseIpLinks('Object "link" is unknown, try "ip help".')).toMatchObject({ ok: false });
    expect(parseIpLinks('{"ifname":"a"}')).toMatchObject({ ok: false });
    expect(parseIpLinks('[7]')).toMatchObject({ ok: false });
    expect(parseIpLinks('[]')).toEqual({ ok: true, value: { links: [], skipped: [] } });
  });
});

describe('ping -M do -c 1 -W 1 (iputils 20221126)', () => {
  it('success', () => {
    expect(ping('ping-ok.json')).toEqual({ kind: 'ok' });
    expect(ping('ping-ok-1500.json')).toEqual({ kind: 'ok' });
  });
  it("a router's Frag needed, with its address and the next-hop MTU", () => {
    expect(ping('ping-frag-needed.json')).toEqual({
      kind: 'too-big',
      where: 'remote',
      from: expect.stringMatching(/^10\.246\.\d+\.1$/),
      mtu: 1500,
    });
  });
  it('a local "message too long" (own interface, or a cached path MTU)', () => {
    expect(ping('ping-local-too-big.json')).toEqual({ kind: 'too-big', where: 'local', mtu: 1500 });
    expect(ping('ping-local-too-big-cached.json')).toEqual({
      kind: 'too-big',
      where: 'local',
      mtu: 1500,
    });
  });
  it('silence is a timeout; an ICMP error is an error with its text', () => {
    expect(ping('ping-timeout.json')).toEqual({ kind: 'timeout' });
    expect(ping('ping-net-unreachable.json')).toEqual({
      kind: 'error',
      message: 'Destination Net Unreachable',
    });
  });
  it('IPv6: Packet Too Big from the router, "mtu: N" locally, success', () => {
    expect(ping('ping6-frag-needed.json')).toEqual({
      kind: 'too-big',
      where: 'remote',
      from: 'fd16:16:a::1',
      mtu: 1500,
    });
    expect(ping('ping6-local-too-big.json')).toEqual({
      kind: 'too-big',
      where: 'local',
      mtu: 1500,
    });
    expect(ping('ping6-ok-1500.json')).toEqual({ kind: 'ok' });
  });
  it('a missing ping and a bad address are errors', () => {
    expect(parsePing('', 'sh: 1: ping: not found\n', 127)).toMatchObject({ kind: 'error' });
    expect(parsePing('', 'ping: nosuch: Name or service not known\n', 2)).toEqual({
      kind: 'error',
      message: 'ping: nosuch: Name or service not known',
    });
  });
});

describe('Cilium GET /v1/config', () => {
  // Shaped like Cilium 1.17's DaemonConfigurationStatus
  // (cilium/cilium api/v1/models/daemon_configuration_status.go).
  const body = JSON.stringify({
    spec: { options: {}, 'policy-enforcement': 'default' },
    status: {
      addressing: { ipv4: { enabled: true, ip: '10.0.1.2' } },
      datapathMode: 'veth',
      deviceMTU: 9216,
      routeMTU: 9166,
      'ipam-mode': 'kubernetes',
      masquerade: true,
      daemonConfigurationMap: { RoutingMode: 'tunnel', EnableIPv4: true },
    },
  });
  it('reads device and route MTU, datapath mode and routing mode', () => {
    expect(parseCiliumConfig(body)).toEqual({
      ok: true,
      value: { deviceMtu: 9216, routeMtu: 9166, datapathMode: 'veth', routingMode: 'tunnel' },
    });
  });
  it('omitted zero values stay absent; garbage is an error', () => {
    expect(parseCiliumConfig('{"status":{}}')).toEqual({ ok: true, value: {} });
    expect(parseCiliumConfig('<html>')).toMatchObject({ ok: false });
    expect(parseCiliumConfig('{"spec":{}}')).toMatchObject({ ok: false });
  });
});

describe('never throws on garbage (fast-check)', () => {
  const garbage = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify([v, { ifname: v, mtu: v, linkinfo: v, flags: v }])),
  );
  it('parseIpLinks / classifyLink', () => {
    fc.assert(
      fc.property(garbage, (s) => {
        const p = parseIpLinks(s);
        if (p.ok) for (const l of p.value.links) classifyLink(l);
      }),
      { numRuns: 400, seed: 16 },
    );
  });
  it('parsePing', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.option(fc.integer()), (o, e, c) => {
        const r = parsePing(o, e, c);
        expect(['ok', 'too-big', 'timeout', 'error']).toContain(r.kind);
      }),
      { numRuns: 400, seed: 16 },
    );
  });
  it('parseCiliumConfig', () => {
    fc.assert(
      fc.property(garbage, (s) => {
        parseCiliumConfig(s);
      }),
      { numRuns: 400, seed: 16 },
    );
  });
});
