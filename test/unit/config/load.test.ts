import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  formatIssue,
  type InventoryIssue,
  type LoadResult,
  loadInventory,
  parseInventory,
} from '../../../src/config/load.js';
import type { Inventory } from '../../../src/config/types.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/inventory');
const HOME = '/home/op';
const H = 3_600_000;

function parse(text: string): LoadResult {
  return parseInventory(text, '/srv/k8ops/k8ops.yaml', { home: HOME });
}

function ok(text: string): { inventory: Inventory; warnings: InventoryIssue[] } {
  const r = parse(text);
  if (!r.ok)
    throw new Error(`expected success, got:\n${r.errors.map((e) => formatIssue(e)).join('\n')}`);
  return r;
}

function errors(text: string): InventoryIssue[] {
  const r = parse(text);
  if (r.ok) throw new Error('expected errors, the file loaded');
  return r.errors;
}

/** The one error of a file (fails if there are more or none). */
function onlyError(text: string): InventoryIssue {
  const e = errors(text);
  expect(e.map((i) => formatIssue(i))).toHaveLength(1);
  return e[0]!;
}

/** 1-based line of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`${needle} not in text`);
  return i + 1;
}

/** 1-based column where `needle` starts on its line. */
function colOf(text: string, needle: string): number {
  const line = text.split('\n').find((l) => l.includes(needle))!;
  return line.indexOf(needle) + 1;
}

/** A valid base; tests append to it or replace lines. */
const BASE = `cluster: lab
nodes:
  - name: cp-1
    roles: [control-plane, etcd]
  - name: cp-2
    roles: [control-plane, etcd]
  - name: worker-1
    roles: [worker]
`;

describe('k8ops.example.yaml', () => {
  it('loads without errors or warnings and documents a 3+3 cluster behind a bastion', async () => {
    const r = await loadInventory(join(ROOT, 'k8ops.example.yaml'), { home: HOME });
    if (!r.ok) throw new Error(r.errors.map((e) => formatIssue(e)).join('\n'));
    expect(r.warnings).toEqual([]);
    const inv = r.inventory;
    expect(inv.source).toBe(join(ROOT, 'k8ops.example.yaml'));
    expect(inv.cluster).toBe('lab');
    expect(inv.nodes.map((n) => [n.name, n.index, n.roles])).toEqual([
      ['cp-1', 0, ['control-plane', 'etcd']],
      ['cp-2', 1, ['control-plane', 'etcd']],
      ['cp-3', 2, ['control-plane', 'etcd']],
      ['worker-1', 3, ['worker']],
      ['worker-2', 4, ['worker']],
      ['worker-3', 5, ['worker']],
    ]);
    expect(inv.nodes[0]?.host).toBe('10.77.0.11');
    expect(inv.nodes[0]?.addresses).toEqual(['10.77.0.11', 'fd77::11']);
    expect(inv.nodes[0]?.ssh).toBeUndefined();
    expect(inv.nodes[5]?.ssh).toEqual({ user: 'ops', port: 2222 });
    expect(inv.ssh).toEqual({
      user: 'root',
      jump: ['ops@bastion.example.net:22'],
      knownHosts: '/home/op/.ssh/known_hosts',
      identity: '/home/op/.ssh/id_ed25519',
      port: 22,
      connectTimeoutMs: 5_000,
    });
    expect(inv.kube).toEqual({
      kubeconfig: '/home/op/.kube/config',
      context: 'admin@lab',
      tunnel: true,
    });
    expect(inv.pki).toEqual({ dir: '/etc/kubernetes/pki', signer: 'cp-1', rootOffline: true });
    expect(inv.rotation).toEqual({
      spreadMs: 24 * H,
      cpGapMs: 30 * 60_000,
      minRemainingMs: 48 * H,
    });
    expect(inv.rotation.renewBeforeMs).toBeUndefined();
    expect(inv.network).toEqual({
      targetMtu: 9216,
      bgpRouters: [{ name: 'tor-1', kind: 'gobgp', host: '10.77.0.1' }],
      hubble: { kind: 'relay', address: 'hubble-relay.kube-system.svc:80' },
    });
    expect(inv.ingress).toEqual({ namespace: 'ingress-nginx', cacheZone: 'ingress_cache' });
    expect(inv.addons).toEqual({ manifest: join(ROOT, 'nix/addons/addons.json') });
  });
});

describe('defaults', () => {
  it('fills in every default for a minimal file', () => {
    const { inventory, warnings } = ok(BASE);
    expect(warnings).toEqual([]);
    expect(inventory).toEqual({
      source: '/srv/k8ops/k8ops.yaml',
      cluster: 'lab',
      nodes: [
        { name: 'cp-1', index: 0, host: 'cp-1', addresses: [], roles: ['control-plane', 'etcd'] },
        { name: 'cp-2', index: 1, host: 'cp-2', addresses: [], roles: ['control-plane', 'etcd'] },
        { name: 'worker-1', index: 2, host: 'worker-1', addresses: [], roles: ['worker'] },
      ],
      ssh: { jump: [], connectTimeoutMs: 5_000 },
      kube: { tunnel: false },
      pki: { dir: '/etc/kubernetes/pki', rootOffline: true },
      rotation: { spreadMs: 24 * H, cpGapMs: 30 * 60_000, minRemainingMs: 48 * H },
      network: {
        targetMtu: 9216,
        bgpRouters: [],
        hubble: { kind: 'node-socket', socket: '/var/run/cilium/hubble.sock' },
      },
      ingress: { namespace: 'ingress-nginx', cacheZone: 'ingress_cache' },
      addons: {},
      rebuild: { runOn: 'local' },
    } satisfies Inventory);
  });

  it('rebuild: a local flake path is resolved against the file, a flake URL kept, a hostile one refused', () => {
    const local = ok(`${BASE}rebuild:\n  flake: ../cluster\n`).inventory;
    expect(local.rebuild?.flake).toBe(join(dirname(local.source), '..', 'cluster'));
    const url = ok(`${BASE}rebuild:\n  flake: github:org/cluster?ref=main\n  runOn: node\n`);
    expect(url.inventory.rebuild).toEqual({ flake: 'github:org/cluster?ref=main', runOn: 'node' });
    const onNode = ok(`${BASE}rebuild:\n  flake: /srv/cluster\n  runOn: node\n`);
    expect(onNode.inventory.rebuild?.flake).toBe('/srv/cluster');
    for (const bad of ['"-x"', '"a b"', '"x#y"', '"$(id)"'])
      expect(parse(`${BASE}rebuild:\n  flake: ${bad}\n`).ok, bad).toBe(false);
  });

  it('rebuild.timeout: a duration (one node’s nixos-rebuild), unset by default', () => {
    expect(ok(`${BASE}rebuild:\n  timeout: 45m\n`).inventory.rebuild?.timeoutMs).toBe(45 * 60_000);
    expect(ok(`${BASE}rebuild:\n  flake: /x\n`).inventory.rebuild?.timeoutMs).toBeUndefined();
    for (const bad of ['0s', '10', 'soon'])
      expect(parse(`${BASE}rebuild:\n  timeout: ${bad}\n`).ok, bad).toBe(false);
  });

  it('addons.applyOn names nodes of the inventory; addons.convergeTimeout is a duration', () => {
    const { inventory } = ok(`${BASE}addons:\n  applyOn: [cp-1]\n  convergeTimeout: 15m\n`);
    expect(inventory.addons).toEqual({ applyOn: ['cp-1'], convergeTimeoutMs: 15 * 60_000 });
    expect(ok(BASE).inventory.addons.applyOn).toBeUndefined();
    const text = `${BASE}addons:\n  applyOn: [cp-1, cp-9]\n`;
    const e = onlyError(text);
    expect(e.path).toBe('addons.applyOn[1]');
    expect(e.line).toBe(lineOf(text, 'applyOn'));
    expect(e.message).toMatch(
      /^addons\.applyOn names "cp-9", which is not a node of this inventory \(cp-1, /,
    );
    expect(parse(`${BASE}addons:\n  applyOn: []\n`).ok).toBe(false);
    expect(parse(`${BASE}addons:\n  convergeTimeout: 10\n`).ok).toBe(false);
    expect(parse(`${BASE}addons:\n  applyOn: ['-rf']\n`).ok).toBe(false);
  });

  it('treats empty optional sections and values as unset', () => {
    const { inventory } = ok(`${BASE}kube:\nssh:\n  user:\nrotation:\n  spread:\n`);
    expect(inventory.kube).toEqual({ tunnel: false });
    expect(inventory.ssh.user).toBeUndefined();
    expect(inventory.rotation.spreadMs).toBe(24 * H);
  });

  it('resolves relative paths against the file and ~ against the home directory', async () => {
    const r = await loadInventory(join(FIXTURES, 'minimal.yaml'), { home: HOME });
    if (!r.ok) throw new Error(r.errors.map((e) => formatIssue(e)).join('\n'));
    expect(r.inventory.addons.manifest).toBe(join(FIXTURES, 'addons.json'));
    expect(r.inventory.ssh.identity).toBe('/home/op/.ssh/id_ed25519');
    expect(r.inventory.nodes[0]?.roles).toEqual(['control-plane', 'etcd', 'worker']);
  });

  it('parses durations and explicit indexes', () => {
    const text = BASE.replace('  - name: cp-1\n', '  - name: cp-1\n    index: 2\n').replace(
      '  - name: worker-1\n',
      '  - name: worker-1\n    index: 0\n',
    );
    const { inventory } = ok(
      `${text}rotation:\n  renewBefore: 4d16h\n  spread: 12h\n  cpGap: 1h30m\n  minRemaining: 36h\n`,
    );
    expect(inventory.nodes.map((n) => n.index)).toEqual([2, 1, 0]);
    expect(inventory.rotation).toEqual({
      renewBeforeMs: 4 * 24 * H + 16 * H,
      spreadMs: 12 * H,
      cpGapMs: 1.5 * H,
      minRemainingMs: 36 * H,
    });
  });
});

describe('YAML features', () => {
  it('anchors, aliases and merge keys share settings between nodes', () => {
    const text = `cluster: lab
nodes:
  - &cp
    name: cp-1
    roles: [control-plane, etcd]
    ssh: {user: ops}
  - <<: *cp
    name: cp-2
  - name: worker-1
    roles: [worker]
    ssh: {user: ops}
`;
    const { inventory } = ok(text);
    expect(inventory.nodes[1]).toEqual({
      name: 'cp-2',
      index: 1,
      host: 'cp-2',
      addresses: [],
      roles: ['control-plane', 'etcd'],
      ssh: { user: 'ops' },
    });
  });

  it('an unknown key brought in by a merge is still reported', () => {
    const text = 'cluster: lab\ncommon: &c {rols: [worker]}\nnodes:\n  - <<: *c\n    name: w\n';
    const messages = errors(text).map((e) => `${e.path}: ${e.message}`);
    expect(messages).toContainEqual(expect.stringMatching(/^common: unknown key "common"/));
    expect(messages).toContainEqual(expect.stringMatching(/^nodes\[0\]\.rols: unknown key "rols"/));
  });
});

describe('ssh settings', () => {
  it.each([
    ['a list', 'jump: [ops@bastion:2222, inner]', ['ops@bastion:2222', 'inner']],
    ['one string', 'jump: bastion', ['bastion']],
    ['the comma form', 'jump: "ops@bastion:2222, inner"', ['ops@bastion:2222', 'inner']],
    ['none', 'jump: none', []],
  ])('jump as %s', (_, line, expected) => {
    expect(ok(`${BASE}ssh:\n  ${line}\n`).inventory.ssh.jump).toEqual(expected);
  });

  it('keeps per-node overrides apart from the defaults', () => {
    const text = BASE.replace(
      '    roles: [worker]\n',
      '    roles: [worker]\n    ssh: {user: ops, jump: none, identity: ~/k, connectTimeout: 10s}\n',
    );
    const { inventory } = ok(`${text}ssh:\n  user: root\n  jump: bastion\n`);
    expect(inventory.ssh.user).toBe('root');
    expect(inventory.ssh.jump).toEqual(['bastion']);
    expect(inventory.nodes[2]?.ssh).toEqual({
      user: 'ops',
      jump: [],
      identity: '/home/op/k',
      connectTimeoutMs: 10_000,
    });
  });

  it('rejects a bad hop inside a jump list at its own line', () => {
    const text = `${BASE}ssh:\n  jump:\n    - bastion\n    - "ops@inner;reboot"\n`;
    const e = onlyError(text);
    expect(e.path).toBe('ssh.jump[1]');
    expect(e.line).toBe(lineOf(text, 'inner;reboot'));
    expect(e.message).toMatch(
      /^invalid jump host "ops@inner;reboot": host "inner;reboot" contains ";"/,
    );
  });
});

describe('hubble', () => {
  it('accepts a node socket', () => {
    const { inventory } = ok(`${BASE}network:\n  hubble: {socket: /run/cilium/hubble.sock}\n`);
    expect(inventory.network.hubble).toEqual({
      kind: 'node-socket',
      socket: '/run/cilium/hubble.sock',
    });
  });
  it('refuses both relay and socket', () => {
    const text = `${BASE}network:\n  hubble: {relay: "relay:80", socket: /x.sock}\n`;
    const e = onlyError(text);
    expect(e.path).toBe('network.hubble');
    expect(e.line).toBe(lineOf(text, 'hubble:'));
    expect(e.message).toMatch(/not both/);
  });
  it('refuses a relay without a port', () => {
    const text = `${BASE}network:\n  hubble:\n    relay: hubble-relay\n`;
    const e = onlyError(text);
    expect(e.path).toBe('network.hubble.relay');
    expect(e.line).toBe(lineOf(text, 'relay: hubble-relay'));
    expect(e.message).toMatch(/missing ":port"/);
  });
  it('relay with its server TLS: files relative to the inventory, the chart’s relay name by default', () => {
    const { inventory } = ok(
      `${BASE}network:\n  hubble:\n    relay: hubble-relay.kube-system.svc:443\n    tls:\n      ca: certs/relay-ca.pem\n      cert: /etc/k8ops/client.pem\n      key: /etc/k8ops/client-key.pem\n`,
    );
    expect(inventory.network.hubble).toEqual({
      kind: 'relay',
      address: 'hubble-relay.kube-system.svc:443',
      tls: {
        ca: '/srv/k8ops/certs/relay-ca.pem',
        serverName: 'ui.hubble-relay.cilium.io',
        cert: '/etc/k8ops/client.pem',
        key: '/etc/k8ops/client-key.pem',
      },
    });
    const named = ok(
      `${BASE}network:\n  hubble:\n    relay: 10.96.0.5:443\n    tls: {ca: /ca.pem, serverName: hubble.hubble-relay.cilium.io}\n`,
    ).inventory.network.hubble;
    expect(named).toEqual({
      kind: 'relay',
      address: '10.96.0.5:443',
      tls: { ca: '/ca.pem', serverName: 'hubble.hubble-relay.cilium.io' },
    });
  });
  it('refuses tls without relay, a certificate without its key, a server name that is no host name', () => {
    const noRelay = `${BASE}network:\n  hubble:\n    socket: /x.sock\n    tls: {ca: /ca.pem}\n`;
    expect(onlyError(noRelay).message).toMatch(/tls applies to hubble-relay only/);
    const half = `${BASE}network:\n  hubble:\n    relay: r:443\n    tls: {ca: /ca.pem, cert: /c.pem}\n`;
    expect(onlyError(half).message).toMatch(/set both cert and key/);
    const name = `${BASE}network:\n  hubble:\n    relay: r:443\n    tls: {ca: /ca.pem, serverName: "a b"}\n`;
    const e = onlyError(name);
    expect(e.path).toBe('network.hubble.tls.serverName');
    expect(e.message).toMatch(/invalid server name/);
    const noCa = `${BASE}network:\n  hubble:\n    relay: r:443\n    tls: {serverName: x.example}\n`;
    expect(onlyError(noCa).path).toBe('network.hubble.tls.ca');
  });
});

describe('bad files: each error names the right line and says what is expected', () => {
  it('duplicate node name', () => {
    const text = BASE.replace('name: cp-2', 'name: cp-1');
    const e = onlyError(text);
    expect(e.path).toBe('nodes[1].name');
    expect(e.line).toBe(5);
    expect(e.column).toBe(11);
    expect(e.message).toBe(
      'duplicate node name "cp-1" (first used by nodes[0] at line 3); names must be unique',
    );
  });

  it('duplicate index', () => {
    const text = BASE.replace('  - name: cp-2\n', '  - name: cp-2\n    index: 0\n');
    const e = onlyError(text);
    expect(e.path).toBe('nodes[1].index');
    expect(e.line).toBe(lineOf(text, 'index: 0'));
    expect(e.message).toMatch(/^duplicate index 0: nodes\[0\] "cp-1" at line 3 also has it/);
  });

  it('unknown role, formatted like a compiler message', async () => {
    const path = join(FIXTURES, 'bad-role.yaml');
    const r = await loadInventory(path);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => formatIssue(e, { relativeTo: FIXTURES }))).toEqual([
      'bad-role.yaml:8:13: nodes[2].roles[0]: unknown role "master"; expected one of control-plane, worker, etcd',
    ]);
    expect(formatIssue(r.errors[0]!)).toBe(
      `${path}:8:13: nodes[2].roles[0]: unknown role "master"; expected one of control-plane, worker, etcd`,
    );
  });

  it('duplicate role', () => {
    const text = BASE.replace('roles: [worker]', 'roles: [worker, etcd, worker]');
    const e = onlyError(text);
    expect(e.path).toBe('nodes[2].roles[2]');
    expect(e.line).toBe(lineOf(text, 'etcd, worker]'));
    expect(e.column).toBe(colOf(text, 'worker]'));
    expect(e.message).toBe('duplicate role "worker"');
  });

  it.each([
    ['a;b', /contains ";", a shell metacharacter/],
    ['cp 2', /contains whitespace/],
    ['$(reboot)', /contains "\$", a shell metacharacter/],
    ['-oProxyCommand=x', /starts with "-"/],
  ])('bad host name %j', (host, reason) => {
    const text = BASE.replace('  - name: cp-2\n', `  - name: cp-2\n    host: "${host}"\n`);
    const e = onlyError(text);
    expect(e.path).toBe('nodes[1].host');
    expect(e.line).toBe(lineOf(text, 'host:'));
    expect(e.column).toBe(colOf(text, '"'));
    expect(e.message).toContain(`invalid host ${JSON.stringify(host)}: `);
    expect(e.message).toMatch(reason);
    expect(e.message).toMatch(
      /expected a host name \(RFC 1123\), an IPv4\/IPv6 address, or an ssh alias/,
    );
  });

  it('unknown key (typo) at the key, with a suggestion and the allowed keys', () => {
    const text = BASE.replace('    roles: [worker]', '    rols: [worker]');
    const e = errors(text);
    const typo = e.find((i) => i.path === 'nodes[2].rols');
    expect(typo).toBeDefined();
    expect(typo?.line).toBe(lineOf(text, 'rols:'));
    expect(typo?.column).toBe(5);
    expect(typo?.message).toBe(
      'unknown key "rols" (did you mean "roles"?); allowed keys: name, index, host, addresses, roles, ssh',
    );
    // …and the real key is then missing: reported at the node's mapping.
    const missing = e.find((i) => i.path === 'nodes[2].roles');
    expect(missing?.message).toBe('missing required field "roles"');
    expect(missing?.line).toBe(lineOf(text, 'name: worker-1'));
  });

  it('unknown top-level key without a close match lists the allowed keys', () => {
    const text = `${BASE}colour: blue\n`;
    const e = onlyError(text);
    expect(e.path).toBe('colour');
    expect(e.line).toBe(lineOf(text, 'colour'));
    expect(e.column).toBe(1);
    expect(e.message).toBe(
      'unknown key "colour"; allowed keys: cluster, nodes, ssh, kube, pki, rotation, network, ingress, addons, rebuild',
    );
  });

  it('snake_case key suggests the camelCase one', () => {
    const e = onlyError(`${BASE}ssh:\n  known_hosts: ~/.ssh/kh\n`);
    expect(e.message).toMatch(/^unknown key "known_hosts" \(did you mean "knownHosts"\?\)/);
  });

  it('missing required field points at the mapping that lacks it', () => {
    const text = BASE.replace(
      '  - name: cp-2\n    roles: [control-plane, etcd]\n',
      '  - name: cp-2\n',
    );
    const e = onlyError(text);
    expect(e.path).toBe('nodes[1].roles');
    expect(e.line).toBe(lineOf(text, 'name: cp-2'));
    expect(e.column).toBe(5);
    expect(e.message).toBe('missing required field "roles"');
  });

  it('missing top-level field points at the document', () => {
    const e = onlyError(BASE.replace('cluster: lab\n', ''));
    expect(e.path).toBe('cluster');
    expect(e.line).toBe(1);
    expect(e.message).toBe('missing required field "cluster"');
  });

  it('required field with an empty value points at the key', () => {
    const text = BASE.replace('cluster: lab', 'cluster:');
    const e = onlyError(text);
    expect(e.line).toBe(1);
    expect(e.column).toBe(1);
    expect(e.message).toBe('"cluster" has no value; expected a string');
  });

  it.each([
    ['index: "0"', 'nodes[1].index', 'expected a number, got string "0"'],
    ['index: 1.5', 'nodes[1].index', 'invalid index 1.5: expected a whole number ≥ 0'],
    ['roles: worker', 'nodes[1].roles', 'expected a list, got string "worker"'],
  ])('wrong type: %s', (line, path, message) => {
    const text = BASE.replace(
      '  - name: cp-2\n    roles: [control-plane, etcd]\n',
      `  - name: cp-2\n    ${line}\n`,
    );
    const e = errors(text).find((i) => i.path === path);
    expect(e?.message).toBe(message);
    expect(e?.line).toBe(lineOf(text, line));
  });

  it('wrong type: a number where a name is expected suggests quoting', () => {
    const text = BASE.replace('name: worker-1', 'name: 1234');
    const e = onlyError(text);
    expect(e.path).toBe('nodes[2].name');
    expect(e.message).toBe('expected a string, got number 1234 (quote it: "1234")');
  });

  it('wrong type: a section given as a scalar, a duration without unit, a boolean as text', () => {
    const text = `${BASE}kube: yes\nrotation:\n  spread: 30\nnetwork:\n  targetMtu: jumbo\n`;
    const e = errors(text);
    expect(e.map((i) => [i.path, i.line, i.message])).toEqual([
      ['kube', lineOf(text, 'kube:'), 'expected a mapping, got string "yes"'],
      [
        'rotation.spread',
        lineOf(text, 'spread:'),
        'expected a duration such as 30m, 1h30m or 4d16h, got number 30 (add a unit: 30s, 30m, 30h…)',
      ],
      ['network.targetMtu', lineOf(text, 'targetMtu'), 'expected a number, got string "jumbo"'],
    ]);
  });

  it('YAML syntax error has the line and column of the offending character and stops there', () => {
    const text = `${BASE.replace('roles: [worker]', 'roles: [worker]]')}pki: {dir: ../x}\n`;
    const all = errors(text);
    // The stray "]" derails the parser for the next line too; one error per line is kept.
    expect(all.map((i) => i.line)).toEqual([8, 9]);
    const e = all[0]!;
    expect(e.line).toBe(lineOf(text, 'worker]]'));
    expect(e.column).toBe(colOf(text, ']]') + 1);
    expect(e.message).toBe('YAML: Unexpected flow-seq-end token in YAML stream: "]"');
    expect(formatIssue(e)).toBe(
      `/srv/k8ops/k8ops.yaml:8:20: YAML: Unexpected flow-seq-end token in YAML stream: "]"`,
    );
  });

  it('YAML duplicate key is an error at the second key', () => {
    const text = 'cluster: lab\ncluster: lab2\nnodes: []\n';
    const e = onlyError(text);
    expect(e.line).toBe(2);
    expect(e.message).toBe('YAML: Map keys must be unique');
  });

  it('tab indentation is a YAML error with its line', () => {
    const e = errors('cluster: lab\nnodes:\n\t- name: cp-1\n');
    expect(e[0]?.line).toBe(3);
    expect(e[0]?.message).toMatch(/^YAML: .*[Tt]ab/);
  });

  it('unsafe pki dir with ".."', () => {
    const text = `${BASE}pki:\n  dir: /etc/kubernetes/../../root\n`;
    const e = onlyError(text);
    expect(e.path).toBe('pki.dir');
    expect(e.line).toBe(lineOf(text, 'dir:'));
    expect(e.column).toBe(8);
    expect(e.message).toMatch(
      /^invalid path "\/etc\/kubernetes\/\.\.\/\.\.\/root": contains a "\.\." segment/,
    );
  });

  it('index out of range', () => {
    const text = BASE.replace('  - name: worker-1\n', '  - name: worker-1\n    index: 3\n');
    const e = onlyError(text);
    expect(e.path).toBe('nodes[2].index');
    expect(e.line).toBe(lineOf(text, 'index: 3'));
    expect(e.message).toBe('index 3 is out of range; expected 0..2 (there are 3 nodes)');
  });

  it('negative index', () => {
    const e = onlyError(
      BASE.replace('  - name: worker-1\n', '  - name: worker-1\n    index: -1\n'),
    );
    expect(e.message).toBe('invalid index -1: expected a whole number ≥ 0');
  });

  it('empty node list and empty role list', () => {
    expect(onlyError('cluster: lab\nnodes: []\n').message).toBe('at least one node is required');
    expect(onlyError(BASE.replace('roles: [worker]', 'roles: []')).message).toBe(
      'at least one role is required; expected some of control-plane, worker, etcd',
    );
  });

  it('unknown BGP router kind and duplicate router names', () => {
    const text = `${BASE}network:\n  bgpRouters:\n    - {name: tor, kind: frr}\n    - {name: tor, kind: bird}\n`;
    const e = errors(text);
    expect(e.map((i) => [i.path, i.line, i.message])).toEqual([
      [
        'network.bgpRouters[0].kind',
        lineOf(text, 'frr'),
        'unknown router kind "frr"; expected one of gobgp, bird',
      ],
      [
        'network.bgpRouters[1].name',
        lineOf(text, 'bird'),
        `duplicate router name "tor" (first used by bgpRouters[0] at line ${lineOf(text, 'frr')}); names must be unique`,
      ],
    ]);
  });

  it('MTU outside 68..65535 and a bad port', () => {
    const e = errors(`${BASE}network: {targetMtu: 67}\nssh: {port: 70000}\n`);
    expect(e.map((i) => i.message)).toEqual([
      'invalid MTU 67: expected a whole number 68..65535',
      'invalid port 70000: port 70000 is out of range; expected 1..65535',
    ]);
  });

  it('bad durations say what was wrong', () => {
    const text = `${BASE}rotation:\n  renewBefore: 5x\n  cpGap: -5m\n`;
    const e = errors(text);
    expect(e.map((i) => i.path)).toEqual(['rotation.renewBefore', 'rotation.cpGap']);
    expect(e[0]?.message).toMatch(
      /^invalid duration "5x": unknown unit "x"; expected "auto" or a duration such as 30m/,
    );
    expect(e[1]?.message).toMatch(/^invalid duration "-5m": durations cannot be negative/);
  });

  it('the file that is not a mapping', () => {
    expect(onlyError('- cp-1\n- cp-2\n').message).toBe('expected a mapping, got a list');
  });

  it('an empty file', () => {
    const e = onlyError('# nothing yet\n');
    expect(e.line).toBe(1);
    expect(e.message).toMatch(/^the file is empty/);
  });

  it('collects every error at once, in file order', () => {
    const text = `cluster: Lab
nodes:
  - name: cp-1
    host: "a;b"
    roles: [control-plane, master]
  - name: cp-1
    index: 7
    roles: [worker]
    adresses: [10.0.0.1]
pki:
  dir: ../pki
`;
    const e = errors(text);
    expect(e.map((i) => `${i.line}:${i.path}`)).toEqual([
      '1:cluster',
      '4:nodes[0].host',
      '5:nodes[0].roles[1]',
      '6:nodes[1].name',
      '7:nodes[1].index',
      '9:nodes[1].adresses',
      '11:pki.dir',
    ]);
    expect(e[0]?.message).toBe('invalid cluster name "Lab": contains uppercase letters; use "lab"');
    expect(e[4]?.message).toBe('index 7 is out of range; expected 0..1 (there are 2 nodes)');
    expect(e[5]?.message).toMatch(/did you mean "addresses"/);
  });
});

describe('cross-field warnings and the signer', () => {
  it('warns when no node is control-plane', () => {
    const { warnings } = ok('cluster: lab\nnodes:\n  - name: w\n    roles: [worker]\n');
    expect(warnings.map((w) => [w.path, w.line, w.message])).toEqual([
      [
        'nodes',
        3,
        'no node has the control-plane role; kube and rotation checks need at least one',
      ],
    ]);
  });

  it('accepts a node as signer silently, warns for an outside host, refuses an unsafe one', () => {
    expect(ok(`${BASE}pki: {signer: cp-2}\n`).warnings).toEqual([]);

    const outside = ok(`${BASE}pki: {signer: ca.example.net}\n`);
    expect(outside.inventory.pki.signer).toBe('ca.example.net');
    expect(outside.warnings.map((w) => w.message)).toEqual([
      'signer "ca.example.net" is not a node of this inventory (cp-1, cp-2, worker-1); it will be reached as an ssh host',
    ]);

    const text = `${BASE}pki:\n  signer: "cp-1; reboot"\n`;
    const e = onlyError(text);
    expect(e.path).toBe('pki.signer');
    expect(e.line).toBe(lineOf(text, 'signer'));
    expect(e.message).toMatch(
      /^invalid signer "cp-1; reboot": not a node of this inventory .* not a valid host: contains whitespace/,
    );
  });

  it('warns on a host or address shared by two nodes', () => {
    const text = BASE.replace(
      '  - name: cp-2\n',
      '  - name: cp-2\n    host: cp-1\n    addresses: [10.0.0.1]\n',
    ).replace('  - name: cp-1\n', '  - name: cp-1\n    addresses: [10.0.0.1]\n');
    const { warnings } = ok(text);
    expect(warnings.map((w) => w.path)).toEqual(['nodes[1].host', 'nodes[1].addresses[0]']);
  });

  it('warns when renewBefore is not longer than minRemaining', () => {
    const { warnings } = ok(`${BASE}rotation: {renewBefore: 24h}\n`);
    expect(warnings.map((w) => w.message)).toEqual([
      'renewBefore (1d) is not longer than minRemaining (2d); every scheduled rotation would be flagged',
    ]);
  });
});

describe('loadInventory and formatIssue', () => {
  it('reports a missing file as an issue instead of throwing', async () => {
    const r = await loadInventory('/nonexistent/k8ops.yaml');
    expect(r).toEqual({
      ok: false,
      errors: [
        { file: '/nonexistent/k8ops.yaml', line: 0, column: 0, path: '', message: 'no such file' },
      ],
    });
    if (!r.ok) expect(formatIssue(r.errors[0]!)).toBe('/nonexistent/k8ops.yaml: no such file');
  });

  it('refuses a file larger than 1 MiB without reading all of it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8ops-load-'));
    try {
      const big = join(dir, 'k8ops.yaml');
      writeFileSync(big, `${BASE}# ${'x'.repeat(2 * 1024 * 1024)}\n`);
      const r = await loadInventory(big);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errors[0]?.message).toMatch(/is larger than 1048576 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a directory', async () => {
    const r = await loadInventory(FIXTURES);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.message).toMatch(/is a directory/);
  });

  it('formats warnings and leaves out an empty path', () => {
    const issue: InventoryIssue = {
      file: 'k8ops.yaml',
      line: 3,
      column: 1,
      path: '',
      message: 'x',
    };
    expect(formatIssue(issue)).toBe('k8ops.yaml:3:1: x');
    expect(formatIssue({ ...issue, path: 'nodes' }, { warning: true })).toBe(
      'k8ops.yaml:3:1: warning: nodes: x',
    );
  });
});
