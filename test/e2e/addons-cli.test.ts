/**
 * `k8ops addons` as a user runs it (the built binary): the demo's drift and missing pin;
 * `sync` and `verify` against a real HTTPS server on loopback (its self-signed certificate
 * trusted through NODE_EXTRA_CA_CERTS, as an operator behind a TLS proxy would), the
 * pins equal to nix-prefetch-url's; not confirmed, read-only and a changed upstream.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt } from '../helpers/build.js';
import { describeWith } from '../integration/nix/helpers.js';

let home: string;
let server: Server;
let base: string;
const files = new Map<string, Buffer>();

beforeAll(async () => {
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'k8ops-addons-cli-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(home, 'srv.key'),
      '-out',
      join(home, 'srv.crt'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  server = createServer(
    { key: readFileSync(join(home, 'srv.key')), cert: readFileSync(join(home, 'srv.crt')) },
    (req, res) => {
      const body = files.get(req.url ?? '');
      res.writeHead(body ? 200 : 404, body ? { 'content-length': String(body.length) } : {});
      res.end(body ?? 'not found');
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  rmSync(home, { recursive: true, force: true });
});

/** Run the built CLI asynchronously (the HTTPS server lives in this process). */
function k8ops(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('node', [BIN, ...args], {
      cwd: home,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        XDG_CACHE_HOME: join(home, 'cache'),
        XDG_CONFIG_HOME: join(home, 'config'),
        XDG_STATE_HOME: join(home, 'state'),
        NODE_EXTRA_CA_CERTS: join(home, 'srv.crt'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

const manifest = (entries: Array<[string, string, string, string?]>) =>
  `${JSON.stringify(
    {
      version: 1,
      addons: entries.map(([name, version, path, sha256 = '']) => ({
        name,
        version,
        format: 'yaml',
        url: `${base}${path}`,
        sha256,
      })),
    },
    null,
    2,
  )}\n`;

describe('k8ops addons (built)', () => {
  it('the demo: one drift (cilium) and one missing pin (kube-prometheus), exit 1', async () => {
    const r = await k8ops(['addons', '--demo', '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as {
      rows: Array<{ name: string; state: string; verdict: string; pinned: boolean }>;
      exitCode: number;
    };
    expect(doc.exitCode).toBe(1);
    const by = Object.fromEntries(doc.rows.map((x) => [x.name, x]));
    expect(by.cilium).toMatchObject({ state: 'drift', verdict: 'warning' });
    expect(by['cert-manager']).toMatchObject({ state: 'in-sync', verdict: 'ok' });
    expect(by['kube-prometheus']).toMatchObject({ pinned: false, verdict: 'warning' });
    const text = await k8ops(['addons', '--demo']);
    expect(text.stdout).toMatch(
      /^cilium +1\.17\.8 +helm .* drift +declared 1\.17\.8, running v1\.18\.2$/m,
    );
  });

  it('usage: unknown action, --version outside sync, sync on the demo without --manifest', async () => {
    expect((await k8ops(['addons', 'frob'])).code).toBe(2);
    expect((await k8ops(['addons', '--version', 'a=1'])).code).toBe(2);
    const demo = await k8ops(['addons', 'sync', '--demo']);
    expect(demo.code).toBe(2);
    expect(demo.stderr).toMatch(/demo lab downloads nothing/);
  });
});

describeWith(
  ['nix-prefetch-url', 'openssl'],
  'k8ops addons sync/verify (built, HTTPS on loopback)',
  () => {
    it('sync writes the pins nix-prefetch-url computes; verify then passes; a changed upstream fails it', async () => {
      const a = randomBytes(40_000);
      files.set('/r/v1.0.0/a.yaml', a);
      files.set('/r/v2.0.0/b.yaml', randomBytes(100));
      const path = join(home, 'addons.json');
      const text = manifest([
        ['alpha', '1.0.0', '/r/v1.0.0/a.yaml'],
        ['beta', '2.0.0', '/r/v2.0.0/b.yaml'],
      ]);
      writeFileSync(path, text);

      // Not a terminal and no --yes: the diff is shown, nothing written, exit 1.
      const asked = await k8ops(['addons', 'sync', '--manifest', path, '--no-apply']);
      expect(asked.code).toBe(1);
      expect(asked.stdout).toMatch(/^\+ +"sha256": "[0-9a-z]{52}",?$/m);
      expect(asked.stderr).toMatch(/pass --yes/);
      expect(readFileSync(path, 'utf8')).toBe(text);

      const ro = await k8ops(['addons', 'sync', '--manifest', path, '--yes', '--read-only']);
      expect(ro.code).toBe(2);
      // Applying needs the inventory (nodes, rebuild.flake): without one, say so, write nothing.
      const noInv = await k8ops(['addons', 'sync', '--manifest', path, '--yes']);
      expect(noInv.code).toBe(2);
      expect(noInv.stderr).toMatch(/pass --no-apply to only write them/);
      expect(readFileSync(path, 'utf8')).toBe(text);
      expect(readFileSync(path, 'utf8')).toBe(text);

      const done = await k8ops([
        'addons',
        'sync',
        'alpha',
        '--manifest',
        path,
        '--yes',
        '--no-apply',
      ]);
      expect(done.code, done.stderr).toBe(0);
      const f = join(home, 'a.bin');
      writeFileSync(f, a);
      const expected = spawnSync('nix-prefetch-url', [`file://${f}`], {
        encoding: 'utf8',
        env: { ...process.env, NIX_CONFIG: 'build-users-group =' },
      }).stdout.trim();
      const after = JSON.parse(readFileSync(path, 'utf8')) as { addons: Array<{ sha256: string }> };
      expect(after.addons.map((x) => x.sha256)).toEqual([expected, '']); // only alpha was asked for

      expect((await k8ops(['addons', 'verify', 'alpha', '--manifest', path])).code).toBe(0);
      files.set('/r/v1.0.0/a.yaml', randomBytes(40_000));
      const changed = await k8ops(['addons', 'verify', 'alpha', '--manifest', path]);
      expect(changed.code).toBe(1);
      expect(changed.stderr).toMatch(/pin mismatch: alpha/);
    });
  },
);
