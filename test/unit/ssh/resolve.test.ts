import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Inventory, NodeSpec } from '../../../src/config/types.js';
import {
  computeFallback,
  expandTokens,
  hostConfigFromSshG,
  parseJumpSpec,
  parseSshG,
  routeRequestForNode,
} from '../../../src/ssh/resolve.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'ssh');

describe('parseSshG (captured `ssh -G` output)', () => {
  const raw = parseSshG(readFileSync(join(FIX, 'ssh-G.node-1.txt'), 'utf8'));
  it('keeps multi-valued keywords', () => {
    expect(raw.get('identityfile')).toEqual(['~/.ssh/%r@%h', '/keys/id_%n']);
    expect(raw.get('userknownhostsfile')).toEqual([
      '/etc/k8ops/known_hosts',
      '/root/.ssh/known_hosts',
    ]);
    expect(raw.get('globalknownhostsfile')).toEqual([
      '/etc/ssh/ssh_known_hosts',
      '/etc/ssh/ssh_known_hosts2',
    ]);
    expect(raw.get('proxyjump')).toEqual(['bastion,ops2@hop2:2222']);
  });
  it('becomes a HostConfig with tokens expanded', () => {
    const h = hostConfigFromSshG(raw, 'node-1');
    expect(h).toMatchObject({
      alias: 'node-1',
      hostname: 'node-1',
      user: 'ops',
      port: 2200,
      identityFiles: [`${homedir()}/.ssh/ops@node-1`, '/keys/id_node-1'],
      proxyJump: ['bastion', 'ops2@hop2:2222'],
      strictHostKeyChecking: 'accept-new',
      serverAliveInterval: 5,
      serverAliveCountMax: 3,
      connectTimeout: 7,
      hostKeyAlias: 'node-alias',
      identitiesOnly: false,
      hashKnownHosts: false,
      source: 'ssh -G',
    });
    expect(h.proxyCommand).toBeUndefined();
  });
  it('bastion: defaults as ssh prints them', () => {
    const h = hostConfigFromSshG(
      parseSshG(readFileSync(join(FIX, 'ssh-G.bastion.txt'), 'utf8')),
      'bastion',
    );
    expect(h).toMatchObject({
      hostname: '192.0.2.10',
      user: 'jump',
      port: 2222,
      proxyJump: [],
      strictHostKeyChecking: 'ask',
    });
    expect(h.connectTimeout).toBeUndefined();
    expect(h.identityFiles).toContain(`${homedir()}/.ssh/id_ed25519`);
  });
  it('tolerates junk and CRLF', () => {
    const r = parseSshG('User a\r\n\n  weird\nport 22\r\n');
    expect(r.get('user')).toEqual(['a']);
    expect(r.get('port')).toEqual(['22']);
    expect(r.get('weird')).toEqual(['']);
  });
  it('proxyjump none and proxycommand', () => {
    const h = hostConfigFromSshG(parseSshG('proxyjump none\nproxycommand nc %h %p\n'), 'x');
    expect(h.proxyJump).toEqual([]);
    expect(h.proxyCommand).toBe('nc %h %p');
  });
});

describe('parseJumpSpec', () => {
  it('parses the ProxyJump forms', () => {
    expect(parseJumpSpec('bastion')).toEqual({ host: 'bastion' });
    expect(parseJumpSpec('ops@bastion:2222')).toEqual({ user: 'ops', host: 'bastion', port: 2222 });
    expect(parseJumpSpec('ssh://ops@bastion:2222')).toEqual({
      user: 'ops',
      host: 'bastion',
      port: 2222,
    });
    expect(parseJumpSpec('[2001:db8::1]:22')).toEqual({ host: '2001:db8::1', port: 22 });
    expect(parseJumpSpec('2001:db8::1')).toEqual({ host: '2001:db8::1' });
  });
  it('rejects hostile or broken specs', () => {
    for (const bad of [
      '-oProxyCommand=x',
      'a;b',
      'u$(x)@h',
      'h:0',
      'h:99999',
      '[::1',
      'h:port',
      '',
      'a b',
    ]) {
      expect(parseJumpSpec(bad)).toHaveProperty('error');
    }
  });
});

describe('expandTokens', () => {
  it('expands ~ and %-tokens', () => {
    const ctx = { alias: 'n1', hostname: '10.0.0.1', user: 'ops', port: 2222 };
    expect(expandTokens('~/.ssh/%r@%h:%p-%n%%', ctx)).toBe(
      `${homedir()}/.ssh/ops@10.0.0.1:2222-n1%`,
    );
    expect(expandTokens('%d/x', ctx)).toBe(`${homedir()}/x`);
  });
});

describe('computeFallback (ssh-config package)', () => {
  it('first value wins, defaults filled in, Match exec never run', () => {
    const text = `Host n1
  HostName 10.0.0.1
Match exec "touch /tmp/k8ops-should-not-exist"
  User exec-user
Host *
  User ops
  Port 2200
`;
    const raw = computeFallback(text, 'n1');
    expect(raw.get('hostname')).toEqual(['10.0.0.1']);
    expect(raw.get('user')).toEqual(['ops']);
    expect(raw.get('port')).toEqual(['2200']);
    expect(raw.get('identityfile')).toContain('~/.ssh/id_ed25519');
    expect(computeFallback(text, 'n1', { user: 'root', port: 22 }).get('port')).toEqual(['22']);
  });
});

describe('routeRequestForNode', () => {
  const inv: Pick<Inventory, 'ssh'> = {
    ssh: { jump: ['bastion'], connectTimeoutMs: 5000, user: 'ops', knownHosts: '/kh' },
  };
  const n = (ssh?: NodeSpec['ssh']): NodeSpec => ({
    name: 'n',
    index: 0,
    host: 'n.example',
    addresses: [],
    roles: ['worker'],
    ...(ssh ? { ssh } : {}),
  });
  it('node overrides, then inventory defaults', () => {
    expect(routeRequestForNode(inv, n())).toEqual({
      host: 'n.example',
      user: 'ops',
      jump: ['bastion'],
      knownHosts: '/kh',
      defaultConnectTimeoutMs: 5000,
    });
    expect(
      routeRequestForNode(inv, n({ user: 'root', jump: [], port: 2222, connectTimeoutMs: 100 })),
    ).toEqual({
      host: 'n.example',
      user: 'root',
      port: 2222,
      jump: [],
      knownHosts: '/kh',
      connectTimeoutMs: 100,
      defaultConnectTimeoutMs: 5000,
    });
    const none: Pick<Inventory, 'ssh'> = { ssh: { jump: [], connectTimeoutMs: 5000 } };
    expect(routeRequestForNode(none, n())).toEqual({
      host: 'n.example',
      defaultConnectTimeoutMs: 5000,
    });
  });
});
