/**
 * The BGP collectors' error paths, with a local HTTP server standing in for the Cilium
 * agent behind forwardSocket (a plain 127.0.0.1 listener, as the forward is) and an exec
 * that answers like a failing, hanging or garbled router CLI.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  collectCilium,
  collectRouter,
  routerCommands,
} from '../../../../src/features/bgp/sources.js';
import type { NodeAgent, NodeExecResult } from '../../../../src/nodes/agent.js';

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  servers = [];
});

async function agentServing(handler: (path: string) => [number, string]): Promise<NodeAgent> {
  const server = createServer((req, res) => {
    const [code, body] = handler(req.url ?? '/');
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    forwardSocket: async () => ({
      host: '127.0.0.1',
      port,
      address: `127.0.0.1:${port}`,
      target: 'n1:/var/run/cilium/cilium.sock',
      close: async () => {},
    }),
  } as unknown as NodeAgent;
}

const signal = new AbortController().signal;

describe('Cilium side (agent API behind forwardSocket)', () => {
  it('501 Disabled: BGP control plane off, not an error', async () => {
    const agent = await agentServing(() => [501, '"Disabled"']);
    expect(await collectCilium(agent, signal)).toMatchObject({ peers: [], disabled: true });
  });
  it('a 500 is an error that names the request and status', async () => {
    const agent = await agentServing(() => [500, '{"message":"boom"}']);
    await expect(collectCilium(agent, signal)).rejects.toThrow(/GET \/v1\/bgp\/peers → HTTP 500/);
  });
  it('garbage instead of JSON is a parse error', async () => {
    const agent = await agentServing(() => [200, '<html>']);
    await expect(collectCilium(agent, signal)).rejects.toMatchObject({ kind: 'parse' });
  });
  it('a peer whose routes cannot be read keeps the peer, with the reason', async () => {
    const agent = await agentServing((path) =>
      path.startsWith('/v1/bgp/peers')
        ? [
            200,
            '[{"peer-address":"10.0.0.1","peer-asn":65000,"local-asn":65010,"session-state":"established","families":[{"afi":"ipv4","safi":"unicast"}]}]',
          ]
        : [500, 'oops'],
    );
    const v = await collectCilium(agent, signal);
    expect(v.peers).toHaveLength(1);
    expect(v.routeErrors['10.0.0.1']).toMatch(/HTTP 500/);
  });
  it('nothing listening behind the forward: a clear error, not a hang', async () => {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as AddressInfo;
    await new Promise((ok) => server.close(ok));
    const agent = {
      forwardSocket: async () => ({
        host: '127.0.0.1',
        port,
        address: '',
        target: 'n1:/var/run/cilium/cilium.sock',
        close: async () => {},
      }),
    } as unknown as NodeAgent;
    await expect(collectCilium(agent, signal, 2000)).rejects.toThrow(
      /n1:\/var\/run\/cilium\/cilium\.sock: GET \/v1\/bgp\/peers/,
    );
  });
});

describe('router side (exec)', () => {
  const router = (exec: (argv: readonly string[]) => Promise<NodeExecResult>) =>
    ({ exec }) as unknown as NodeAgent;
  it('asks each kind with the configured socket / API, one quoted word per argument', () => {
    expect(routerCommands({ name: 'r', kind: 'gobgp', host: 'r', api: '[fd00::1]:50051' })).toEqual(
      {
        neighbors: ['gobgp', '-u', 'fd00::1', '-p', '50051', '-j', 'neighbor'],
        rib: ['gobgp', '-u', 'fd00::1', '-p', '50051', '-j', 'global', 'rib'],
      },
    );
    expect(
      routerCommands({ name: 'r', kind: 'bird', host: 'r', socket: '/run/bird/bird.ctl' })
        .protocols,
    ).toEqual(['birdc', '-s', '/run/bird/bird.ctl', 'show', 'protocols', 'all']);
  });
  it('birdc failing (daemon stopped): the router result carries the error, never rejects', async () => {
    const r = await collectRouter(
      { name: 'tor', kind: 'bird', host: 'tor' },
      router(async () => ({
        stdout: '',
        stderr:
          'Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory\n',
        code: 1,
      })),
      signal,
    );
    expect(r.error).toMatch(/birdc exited 1: Unable to connect/);
    expect(r.timedOut).toBeUndefined();
  });
  it('a hung CLI (deadline passed): timedOut, its own state', async () => {
    const r = await collectRouter(
      { name: 'tor', kind: 'gobgp', host: 'tor' },
      router(async () => {
        throw Object.assign(new Error('tor: command timed out after 6000 ms'), { kind: 'timeout' });
      }),
      signal,
    );
    expect(r).toMatchObject({ timedOut: true });
    expect(r.error).toMatch(/no answer in 6000 ms/);
  });
  it('garbled gobgp output: a parse error value', async () => {
    const r = await collectRouter(
      { name: 'tor', kind: 'gobgp', host: 'tor' },
      router(async () => ({ stdout: 'rpc error: code = Unavailable', stderr: '', code: 0 })),
      signal,
    );
    expect(r.error).toMatch(/gobgp -j neighbor: not JSON/);
    expect(r.sessions).toEqual([]);
  });
  it('no agent for a router', async () => {
    expect(
      (await collectRouter({ name: 'tor', kind: 'gobgp', host: 'tor' }, undefined, signal)).error,
    ).toMatch(/no agent/);
  });
});
