import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { directEndpoint } from '../../../src/kube/endpoint.js';
import { kubeconfigFiles, loadKubeContext } from '../../../src/kube/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ops-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(
  name: string,
  o: {
    clusters: Array<[string, string, string?]>;
    users: string[];
    contexts: Array<[string, string, string]>;
    current?: string;
  },
): string {
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    ...o.clusters.flatMap(([n, server, tls]) => [
      `- name: ${n}`,
      '  cluster:',
      `    server: ${server}`,
      ...(tls ? [`    tls-server-name: ${tls}`] : []),
    ]),
    'users:',
    ...o.users.flatMap((u) => [`- name: ${u}`, '  user:', `    token: tok-${u}`]),
    'contexts:',
    ...o.contexts.flatMap(([n, c, u]) => [
      `- name: ${n}`,
      '  context:',
      `    cluster: ${c}`,
      `    user: ${u}`,
    ]),
    ...(o.current ? [`current-context: ${o.current}`] : []),
    '',
  ];
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n'));
  return p;
}

const a = kubeconfig('a.yaml', {
  clusters: [['prod', 'https://10.77.0.11:6443', 'kube-api.lab']],
  users: ['admin'],
  contexts: [['prod', 'prod', 'admin']],
  current: 'prod',
});
const b = kubeconfig('b.yaml', {
  clusters: [
    ['prod', 'https://evil.example:6443'],
    ['staging', 'https://[fd00::1]:6443'],
  ],
  users: ['admin', 'ci'],
  contexts: [
    ['prod', 'staging', 'ci'],
    ['staging', 'staging', 'ci'],
  ],
  current: 'staging',
});

describe('kubeconfig files', () => {
  it('explicit path > KUBECONFIG > ~/.kube/config', () => {
    expect(kubeconfigFiles({ path: '~/k.yaml', home: '/home/op', env: { KUBECONFIG: a } })).toEqual(
      { files: ['/home/op/k.yaml'], origin: 'explicit' },
    );
    expect(
      kubeconfigFiles({ env: { KUBECONFIG: `${a}${delimiter}${delimiter}${b}${delimiter}${a}` } }),
    ).toEqual({ files: [a, b], origin: 'KUBECONFIG' });
    expect(kubeconfigFiles({ env: {}, home: '/home/op' })).toEqual({
      files: ['/home/op/.kube/config'],
      origin: 'default',
    });
  });

  it('merges a KUBECONFIG list like kubectl: first definition and first current-context win; missing files skipped', async () => {
    const r = await loadKubeContext({
      env: { KUBECONFIG: [join(dir, 'missing.yaml'), a, b].join(delimiter) },
    });
    if (!r.ok) throw r.error;
    expect(r.config.files).toEqual([a, b]);
    expect(r.config.context).toBe('prod');
    expect(r.config.contextInfo).toEqual({
      name: 'prod',
      cluster: 'prod',
      user: 'admin',
      server: 'https://10.77.0.11:6443',
      current: true,
    });
    expect(r.config.contexts.map((c) => c.name)).toEqual(['prod', 'staging']);
    const ep = directEndpoint(r.config);
    expect(ep).toMatchObject({
      serverHost: '10.77.0.11',
      serverPort: 6443,
      verifyName: 'kube-api.lab',
      sni: 'kube-api.lab',
      via: 'direct',
    });
    expect((await ep.credentials()).headers.Authorization).toBe('Bearer tok-admin');
  });

  it('selects another context, IPv6 servers verify their IP (no SNI)', async () => {
    const r = await loadKubeContext({
      env: { KUBECONFIG: [a, b].join(delimiter) },
      context: 'staging',
    });
    if (!r.ok) throw r.error;
    const ep = directEndpoint(r.config);
    expect(ep).toMatchObject({
      serverHost: 'fd00::1',
      verifyName: 'fd00::1',
      target: '[fd00::1]:6443',
    });
    expect(ep.sni).toBeUndefined();
    const back = r.config.withContext('prod');
    expect(back.ok && back.config.context).toBe('prod');
  });

  it('a missing context is a clear error listing the available ones', async () => {
    const r = await loadKubeContext({ path: a, context: 'nope' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe('context-missing');
      expect(r.error.message).toBe(`context "nope" not found in ${a}; available: prod`);
    }
  });

  it('hostile context names are listed escaped and selectable by what is shown', async () => {
    const evil = kubeconfig('evil', {
      clusters: [['c', 'https://127.0.0.1:6443']],
      users: ['u'],
      contexts: [['"ok\\e]0;pwned\\a"', 'c', 'u']],
    });
    const r = await loadKubeContext({ path: evil, context: 'nope' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toBe(
        `context "nope" not found in ${evil}; available: ok\\x1b]0;pwned\\x07`,
      );
      expect(r.error.message).not.toMatch(/[\u0000-\u001f]/);
    }
    const shown = await loadKubeContext({ path: evil, context: 'ok\\x1b]0;pwned\\x07' });
    if (!shown.ok) throw shown.error;
    expect(shown.config.contexts.map((c) => c.name)).toEqual(['ok\\x1b]0;pwned\\x07']);
  });

  it('no current-context and none given', async () => {
    const p = kubeconfig('nocurrent.yaml', {
      clusters: [['c', 'https://h:6443']],
      users: ['u'],
      contexts: [['x', 'c', 'u']],
    });
    const r = await loadKubeContext({ path: p });
    expect(!r.ok && r.error.message).toBe(
      `no context selected: ${p} has no current-context and none was given (--context or inventory kube.context); available: x`,
    );
  });

  it('missing files: explicit, KUBECONFIG, default', async () => {
    const e1 = await loadKubeContext({ path: join(dir, 'nope.yaml') });
    expect(!e1.ok && e1.error.toInfo()).toEqual({
      kind: 'kubeconfig',
      message: `kubeconfig ${join(dir, 'nope.yaml')} not found (inventory kube.kubeconfig)`,
    });
    const e2 = await loadKubeContext({ env: { KUBECONFIG: join(dir, 'x1') } });
    expect(!e2.ok && e2.error.message).toBe(
      `no kubeconfig: none of the KUBECONFIG files exist (${join(dir, 'x1')})`,
    );
    const home = join(dir, 'home');
    mkdirSync(home, { recursive: true });
    const e3 = await loadKubeContext({ env: {}, home });
    expect(!e3.ok && e3.error.message).toBe(
      `no kubeconfig: ${join(home, '.kube', 'config')} not found and KUBECONFIG is not set`,
    );
  });

  it('broken entries: invalid YAML, dangling cluster/user, plain http', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'clusters: [\n');
    const r1 = await loadKubeContext({ path: bad });
    expect(!r1.ok && r1.error.kind).toBe('kubeconfig');
    expect(!r1.ok && r1.error.message).toContain(`kubeconfig ${bad}:`);
    const dangling = kubeconfig('dangling.yaml', {
      clusters: [],
      users: ['u'],
      contexts: [['x', 'gone', 'u']],
      current: 'x',
    });
    const r2 = await loadKubeContext({ path: dangling });
    expect(!r2.ok && r2.error.message).toBe(
      `context "x" refers to cluster "gone", which is not in ${dangling}`,
    );
    const http = kubeconfig('http.yaml', {
      clusters: [['c', 'http://h:8080']],
      users: ['u'],
      contexts: [['x', 'c', 'u']],
      current: 'x',
    });
    const r3 = await loadKubeContext({ path: http });
    expect(!r3.ok && r3.error.message).toBe(
      'cluster "c" server "http://h:8080": k8ops only talks HTTPS to the API server',
    );
  });

  it('a client-certificate file that went missing is a kubeconfig error when credentials are read', async () => {
    const p = join(dir, 'certfile.yaml');
    writeFileSync(
      p,
      [
        'apiVersion: v1',
        'clusters:',
        '- name: c',
        '  cluster:',
        '    server: https://h:6443',
        'users:',
        '- name: u',
        '  user:',
        '    client-certificate: gone.pem',
        '    client-key: gone-key.pem',
        'contexts:',
        '- name: x',
        '  context:',
        '    cluster: c',
        '    user: u',
        'current-context: x',
        '',
      ].join('\n'),
    );
    const r = await loadKubeContext({ path: p });
    if (!r.ok) throw r.error;
    await expect(directEndpoint(r.config).credentials()).rejects.toMatchObject({
      kind: 'kubeconfig',
      message: expect.stringContaining(join(dir, 'gone.pem')),
    });
  });
});
