/**
 * The PKI in the built k8ops: `k8ops certs` (--json, --prometheus, text, --node, --path,
 * exit codes) on the demo lab and on local directories, and the PKI pane in a real
 * terminal (tmux): tree, worst-first, details, Esc, quit.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt } from '../helpers/build.js';
import { haveTmux, TmuxTerm } from '../helpers/tmux.js';

let home: string;
let env: Record<string, string>;
beforeAll(() => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'k8ops-e2e-pki-'));
  env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_STATE_HOME: join(home, 'state'),
  };
}, 120_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

function k8ops(args: string[]) {
  const r = spawnSync('node', [BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: home,
    env,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface CertsDoc {
  version: number;
  exitCode: number;
  source: string;
  summary: {
    critical: number;
    warning: number;
    info: number;
    certificates: number;
    unreachable: string[];
  };
  nodes: Array<{ name: string; certs: string; status: string }>;
  tree: Array<{
    role: string;
    commonName: string;
    chain: string;
    children: Array<{ commonName: string; children: unknown[] }>;
  }>;
  checks: Array<{ id: string; severity: string; node: string; path: string; message: string }>;
}

describe('k8ops certs (built) on the demo lab', () => {
  it('--json: the tree from the root, both intended faults, exit 1 (warnings)', () => {
    const r = k8ops(['certs', '--json', '--demo']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as CertsDoc;
    expect(doc.version).toBe(1);
    expect(doc.exitCode).toBe(1);
    expect(doc.source).toBe('demo');
    // 49 node certificates and the demo's three ACME (cert-manager) ones, as in the PKI pane.
    expect(doc.summary).toMatchObject({
      critical: 0,
      warning: 2,
      certificates: 52,
      unreachable: [],
    });
    expect(doc.nodes.map((n) => [n.name, n.certs, n.status])).toEqual(
      ['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2', 'worker-3'].map((n) => [n, 'ok', 'ok']),
    );
    expect(doc.tree).toHaveLength(2);
    expect(doc.tree[0]).toMatchObject({
      role: 'root',
      commonName: 'k8s-root',
      chain: 'self-signed',
    });
    const acme = doc.tree[1] as unknown as {
      role: string;
      subject: string;
      children: Array<{ commonName: string; locations: Array<{ node: string; path: string }> }>;
    };
    expect(acme.role).toBe('missing');
    expect(acme.subject).toBe('ACME (cert-manager)');
    // Soonest expiry first; static-tls is the one six hours from its renewal time.
    expect(acme.children.map((c) => c.locations[0]!.path)).toEqual([
      'shop/static-tls',
      'shop/shop-tls',
      'shop/api-tls',
    ]);
    expect(doc.tree[0]!.children.map((c) => c.commonName)).toEqual([
      'etcd-ca',
      'front-proxy-ca',
      'kubernetes-ca',
    ]);
    expect(doc.checks.map((c) => [c.id, c.node])).toEqual([
      ['renew-window', 'worker-2'],
      ['key-mode', 'worker-3'],
    ]);
    expect(r.stdout).not.toContain('"der"');
  });

  it('--node limits to one node; --prometheus prints textfile metrics; text has a tree', () => {
    const one = k8ops(['certs', '--json', '--demo', '--node', 'worker-1']);
    expect(one.code).toBe(0);
    const doc = JSON.parse(one.stdout) as CertsDoc;
    expect(doc.nodes.map((n) => n.name)).toEqual(['worker-1']);
    expect(doc.summary.warning).toBe(0);
    // The ACME branch is cluster-wide: not with --node.
    expect(doc.tree).toHaveLength(1);
    const prom = k8ops(['certs', '--prometheus', '--demo']);
    expect(prom.code).toBe(1);
    expect(prom.stdout).toContain('# TYPE k8ops_cert_not_after_seconds gauge');
    expect(prom.stdout).toMatch(
      /k8ops_cert_check\{node="worker-2",path="\/etc\/kubernetes\/pki\/kubelet\.pem",check="renew-window",severity="warning"\} 1/,
    );
    // The ACME certificates as series of the node "cluster", path namespace/secret.
    expect(prom.stdout).toMatch(
      /^k8ops_cert_not_after_seconds\{node="cluster",path="shop\/static-tls",index="0",cn="static\.lab\.k8ops\.test",issuer="\(STAGING\) k8ops demo ACME E1",role="leaf"\} \d+$/m,
    );
    const text = k8ops(['certs', '--demo']);
    expect(text.stdout).toMatch(/^✓ k8s-root\s+\d+d \d\d:\d\d:\d\d\s+cp-1:k8s-root\.pem$/m);
    expect(text.stdout).toMatch(/^! {5}system:node:worker-2\s+4d .*worker-2:kubelet\.pem$/m);
    expect(text.stdout).toContain('FINDINGS');
    expect(text.stdout).toMatch(/^ {2}ACME \(cert-manager\) — /m);
    expect(text.stdout).toMatch(
      /^✓ {3}static\.lab\.k8ops\.test\s+\d+d \d\d:\d\d:\d\d\s+cluster:static-tls$/m,
    );
    expect(k8ops(['certs', '--demo', '--node', 'nope']).code).toBe(2);
    expect(k8ops(['overview', '--node', 'cp-1', '--demo']).stderr).toContain(
      '--node belongs to the certs subcommand',
    );
  });
});

describe('k8ops certs --path (built) on local directories', () => {
  let lab: string;
  beforeAll(() => {
    // The demo lab (generated by the tests above, or now) is a set of node directories.
    lab = join(home, 'cache', 'k8ops', 'demo-lab', 'nodes');
    if (!existsSync(lab)) k8ops(['certs', '--json', '--demo']);
  }, 60_000);

  it('a healthy node directory: exit 0; --node names it (CN/SAN checked against the name)', () => {
    const dir = join(lab, 'worker-1', 'etc', 'kubernetes', 'pki');
    const r = k8ops(['certs', '--json', '--path', dir, '--node', 'worker-1']);
    const doc = JSON.parse(r.stdout) as CertsDoc;
    // Owners are this machine's (not kubernetes/root as on a node): ignore owner findings.
    const real = doc.checks.filter((c) => c.id !== 'key-owner' && c.severity !== 'info');
    expect(real).toEqual([]);
    expect(doc.source).toBe('path');
    expect(doc.tree[0]).toMatchObject({ role: 'missing' }); // the root is not on the node
    // Without an inventory the node's addresses are unknown: its IP SAN is an extra (info)
    // that says so; with one, the address is the node's own and nothing is extra.
    const extras = doc.checks.filter((c) => c.id === 'san-extra');
    expect(extras.length).toBeGreaterThan(0);
    for (const c of extras)
      expect(c.message).toMatch(/10\.77\.0\.21 \(the node's addresses are unknown/);
    const inv = join(home, 'worker-1.yaml');
    writeFileSync(
      inv,
      'cluster: lab\nnodes:\n  - name: worker-1\n    host: 10.77.0.21\n    addresses: [10.77.0.21]\n    roles: [worker]\n',
    );
    const withInv = k8ops([
      'certs',
      '--json',
      '--path',
      dir,
      '--node',
      'worker-1',
      '--inventory',
      inv,
    ]);
    expect(withInv.stderr).toBe('');
    const invDoc = JSON.parse(withInv.stdout) as CertsDoc;
    expect(invDoc.checks.filter((c) => c.id === 'san-extra')).toEqual([]);
    expect(invDoc.checks.filter((c) => c.id !== 'key-owner' && c.severity !== 'info')).toEqual([]);
    const anon = JSON.parse(k8ops(['certs', '--json', '--path', dir]).stdout) as CertsDoc;
    expect(anon.nodes.map((n) => n.name)).toEqual(['local']);
    expect(anon.checks.filter((c) => c.id === 'cn')).toEqual([]); // system:node:<any name> accepted
  });

  it('broken copies: warnings exit 1, critical exit 2, an unreadable directory is a usage error', () => {
    const src = join(lab, 'worker-1', 'etc', 'kubernetes', 'pki');
    const copy = mkdtempSync(join(home, 'pki-'));
    cpSync(src, copy, { recursive: true });
    chmodSync(join(copy, 'kubelet-key.pem'), 0o644);
    const warn = k8ops(['certs', '--json', '--path', copy, '--node', 'worker-1']);
    expect(warn.code).toBe(1);
    expect((JSON.parse(warn.stdout) as CertsDoc).checks.map((c) => c.id)).toContain('key-mode');
    // The key of the client certificate under the serving certificate's name.
    cpSync(join(copy, 'kubelet-client-key.pem'), join(copy, 'kubelet-key.pem'));
    chmodSync(join(copy, 'kubelet-key.pem'), 0o600);
    const crit = k8ops(['certs', '--json', '--path', copy, '--node', 'worker-1']);
    expect(crit.code).toBe(2);
    expect((JSON.parse(crit.stdout) as CertsDoc).checks).toContainEqual(
      expect.objectContaining({ id: 'key-mismatch', severity: 'critical' }),
    );
    writeFileSync(join(copy, 'kubelet.pem'), 'garbage');
    const garbage = k8ops(['certs', '--path', copy]);
    expect(garbage.stdout).toMatch(/unparseable/);
    expect(k8ops(['certs', '--path', join(home, 'nope')]).code).toBe(2);
    expect(readdirSync(copy)).toContain('kubelet.pem');
  });
});

const tmux = haveTmux();
describe.skipIf(!tmux)('the PKI pane in tmux (built)', () => {
  it('2, s, j, j, Enter shows the details of the renew-window leaf; Esc; q', async () => {
    const term = new TmuxTerm('pki', env);
    try {
      term.start(`node ${BIN} --demo; echo "k8ops-exit=$?"; sleep 30`, 120, 40);
      await term.waitFor(
        (x) => x.includes('DEMO') && /\d+d \d\d:\d\d/.test(x),
        'the overview',
        30_000,
      );
      term.send('2');
      // Wait for the whole frame: a capture can land between two writes of one frame.
      let s = await term.waitFor(
        (x) =>
          /52 certs · 61 files/.test(x) && x.includes('j/k move  Enter details  s worst first'),
        "the PKI tree (49 node certificates + the demo's 3 ACME ones) with its key hints",
      );
      expect(s).toMatch(/CERTIFICATE\s+EXPIRES\s+WHERE/);
      expect(s).toContain('j/k move  Enter details  s worst first');
      term.send('s');
      s = await term.waitFor((x) => x.includes('· worst first'), 'worst first');
      term.send('j');
      await term.waitFor((x) => /^.*✓ {3}kubernetes-ca/m.test(x), 'moved');
      term.send('j');
      term.send('Enter');
      s = await term.waitFor(
        (x) =>
          x.includes('expires in') &&
          x.includes('subject      O=system:nodes, CN=system:node:worker-2') &&
          x.includes('checks       ! warning renew-window'),
        'the details',
      );
      expect(s).toContain('subject      O=system:nodes, CN=system:node:worker-2');
      expect(s).toContain('checks       ! warning renew-window');
      const lines = s.replace(/\n$/, '').split('\n');
      expect(lines.length).toBeLessThanOrEqual(40);
      term.send('Escape');
      s = await term.waitFor((x) => /CERTIFICATE\s+EXPIRES/.test(x), 'details closed');
      term.send('q');
      s = await term.waitFor((x) => x.includes('k8ops-exit=0'), 'exit');
    } finally {
      term.kill();
    }
  }, 60_000);
});
