/**
 * Where a Hubble stream goes (endpoint.ts): hubble-relay's address as the inventory names
 * it, a Service name resolved through the kube API (the Service fixture has the Cilium
 * chart's shape), the node it is dialled through and the next one after a failure, relay's
 * TLS files. The dialers here are stand-ins that record what they were asked; the SSH
 * forward itself is tested against real sshd (test/integration/flows/relay-sshd.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  relayEndpoint,
  serviceName,
  socketEndpoint,
} from '../../../../src/features/flows/endpoint.js';
import { parseService } from '../../../../src/kube/parse/service.js';
import type { KubeService } from '../../../../src/kube/types.js';
import type { LocalForward } from '../../../../src/store/io.js';

const fixture = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '../../../fixtures/kube/service-hubble-relay.json'),
    'utf8',
  ),
) as unknown;

function dialer(name: string, calls: string[], fail = false) {
  return {
    name,
    dialer: {
      forwardTcp: async (host: string, port: number): Promise<LocalForward> => {
        calls.push(`${name}->${host}:${port}`);
        if (fail) throw new Error(`${name}: connection lost\u001b[2J`);
        return {
          host: '127.0.0.1',
          port: 1,
          address: '127.0.0.1:1',
          target: `${name}:${host}:${port}`,
          close: async () => {},
        };
      },
    },
  };
}

describe('parseService', () => {
  it('reads the hubble-relay Service of the Cilium chart: ClusterIP and port 80 → 4245', () => {
    expect(parseService(fixture)).toEqual({
      namespace: 'kube-system',
      name: 'hubble-relay',
      type: 'ClusterIP',
      clusterIP: '10.96.148.27',
      ports: [{ port: 80, targetPort: 4245, protocol: 'TCP' }],
    });
  });

  it('a headless Service has no ClusterIP; garbage is undefined, never a throw', () => {
    const headless = structuredClone(fixture) as { spec: { clusterIP: string } };
    headless.spec.clusterIP = 'None';
    expect(parseService(headless)?.clusterIP).toBeUndefined();
    for (const bad of [null, 1, 'x', [], {}, { metadata: { name: 7 } }])
      expect(parseService(bad)).toBeUndefined();
    const odd = {
      metadata: { name: 'a\u001b[2Jb' },
      spec: { ports: [{ port: 0 }, { port: 'x' }] },
    };
    // The control character is gone (the rest of the sequence is plain text).
    expect(parseService(odd)).toMatchObject({ name: 'a [2Jb', ports: [] });
  });
});

describe('serviceName', () => {
  it('knows NAME.NS.svc[.cluster.local]; anything else is dialled as it is', () => {
    expect(serviceName('hubble-relay.kube-system.svc')).toEqual({
      name: 'hubble-relay',
      namespace: 'kube-system',
    });
    expect(serviceName('hubble-relay.kube-system.svc.cluster.local')).toEqual({
      name: 'hubble-relay',
      namespace: 'kube-system',
    });
    expect(serviceName('10.96.0.1')).toBeUndefined();
    expect(serviceName('relay.example.com')).toBeUndefined();
  });
});

describe('relayEndpoint', () => {
  const svc = parseService(fixture) as KubeService;

  it('resolves a Service name to its ClusterIP through the kube API and dials it from a node', async () => {
    const calls: string[] = [];
    const asked: string[] = [];
    const e = relayEndpoint({
      address: 'hubble-relay.kube-system.svc:80',
      via: [dialer('cp-1', calls)],
      getService: async (ns, name) => {
        asked.push(`${ns}/${name}`);
        return svc;
      },
    });
    const o = await e.open({ timeoutMs: 1000 });
    expect(asked).toEqual(['kube-system/hubble-relay']);
    expect(calls).toEqual(['cp-1->10.96.148.27:80']);
    expect(o.label).toBe('hubble-relay hubble-relay.kube-system.svc:80 (10.96.148.27:80) via cp-1');
    expect(o.tls).toBeUndefined();
  });

  it('without a kube source the name goes to the node as it is (its resolver decides)', async () => {
    const calls: string[] = [];
    const e = relayEndpoint({
      address: 'hubble-relay.kube-system.svc:80',
      via: [dialer('cp-1', calls)],
    });
    await e.open({ timeoutMs: 1000 });
    expect(calls).toEqual(['cp-1->hubble-relay.kube-system.svc:80']);
  });

  it('says why a Service cannot be dialled: not found, headless, another port', async () => {
    const calls: string[] = [];
    const open = (address: string, s: () => Promise<KubeService>) =>
      relayEndpoint({ address, via: [dialer('cp-1', calls)], getService: s }).open({
        timeoutMs: 1000,
      });
    await expect(
      open('hubble-relay.kube-system.svc:80', async () => {
        throw new Error('services "hubble-relay" not found');
      }),
    ).rejects.toThrow(
      'hubble-relay hubble-relay.kube-system.svc:80: Service kube-system/hubble-relay: services "hubble-relay" not found',
    );
    await expect(
      open('hubble-relay.kube-system.svc:80', async () => {
        const { clusterIP: _ip, ...headless } = svc;
        return headless;
      }),
    ).rejects.toThrow(/has no ClusterIP \(headless\)/);
    await expect(open('hubble-relay.kube-system.svc:443', async () => svc)).rejects.toThrow(
      'Service kube-system/hubble-relay has no port 443 (it has 80)',
    );
    expect(calls).toEqual([]);
  });

  it('after a failure the next open goes through the next node; a failed forward moves on too', async () => {
    const calls: string[] = [];
    const e = relayEndpoint({
      address: '10.96.148.27:80',
      via: [dialer('cp-1', calls, true), dialer('cp-2', calls), dialer('cp-3', calls)],
    });
    // cp-1's forward fails (its connection is gone): the error names it, visibly.
    await expect(e.open({ timeoutMs: 1000 })).rejects.toThrow(
      'hubble-relay 10.96.148.27:80 via cp-1: cp-1: connection lost\\x1b[2J',
    );
    const o = await e.open({ timeoutMs: 1000 });
    expect(o.label).toBe('hubble-relay 10.96.148.27:80 via cp-2');
    // The stream through cp-2 then failed: the next open uses cp-3, then round to cp-1.
    e.failed?.();
    expect((await e.open({ timeoutMs: 1000 })).label).toMatch(/via cp-3$/);
    e.failed?.();
    await expect(e.open({ timeoutMs: 1000 })).rejects.toThrow(/via cp-1/);
    expect(calls).toEqual([
      'cp-1->10.96.148.27:80',
      'cp-2->10.96.148.27:80',
      'cp-3->10.96.148.27:80',
      'cp-1->10.96.148.27:80',
    ]);
  });

  it('reads relay’s TLS files at each open; a missing one is named', async () => {
    const files: Record<string, string> = {
      '/k/ca.pem': 'CA',
      '/k/c.pem': 'CERT',
      '/k/c.key': 'KEY',
    };
    const read = async (p: string) => {
      const v = files[p];
      if (v === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return Buffer.from(v);
    };
    const calls: string[] = [];
    const e = relayEndpoint({
      address: '10.96.148.27:443',
      tls: {
        ca: '/k/ca.pem',
        serverName: 'ui.hubble-relay.cilium.io',
        cert: '/k/c.pem',
        key: '/k/c.key',
      },
      via: [dialer('cp-1', calls)],
      readFile: read,
    });
    const o = await e.open({ timeoutMs: 1000 });
    expect(o.tls).toEqual({
      ca: Buffer.from('CA'),
      serverName: 'ui.hubble-relay.cilium.io',
      cert: Buffer.from('CERT'),
      key: Buffer.from('KEY'),
    });
    delete files['/k/ca.pem'];
    await expect(e.open({ timeoutMs: 1000 })).rejects.toThrow(
      "hubble-relay 10.96.148.27:443: TLS CA /k/ca.pem: ENOENT: no such file or directory, open '/k/ca.pem'",
    );
  });

  it('no node to dial from, or a bad address: an error, never a throw elsewhere', async () => {
    await expect(
      relayEndpoint({ address: 'r:80', via: [] }).open({ timeoutMs: 10 }),
    ).rejects.toThrow('no node to dial it from');
    await expect(
      relayEndpoint({ address: 'no-port', via: [dialer('a', [])] }).open({ timeoutMs: 10 }),
    ).rejects.toThrow(/^hubble-relay no-port: /);
  });
});

describe('socketEndpoint', () => {
  it('forwards the node’s socket; a failure names the path', async () => {
    const e = socketEndpoint(
      {
        forwardSocket: async (p) => {
          throw new Error(`${p}: No such file or directory`);
        },
      },
      '/var/run/cilium/hubble.sock',
    );
    expect(e.failed).toBeUndefined();
    await expect(e.open({ timeoutMs: 10 })).rejects.toThrow(
      /^\/var\/run\/cilium\/hubble\.sock: No such file or directory$/,
    );
  });
});
