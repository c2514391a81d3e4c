/**
 * Addon sync against a real HTTPS server on loopback (a self-signed certificate made with
 * openssl, trusted through `ca`): pins equal `nix-prefetch-url` of the same bytes, only the
 * pinned values of the manifest change, the result is accepted by nix/lib/addons.nix
 * (real nix-instantiate), a changed upstream is a pin mismatch, and a download cut
 * half-way leaves the manifest untouched.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fetchAndHash } from '../../../src/actions/addons/fetch.js';
import { parseManifest } from '../../../src/actions/addons/manifest.js';
import { addonSyncJob, loadSyncPlan, type SyncRequest } from '../../../src/actions/addons/sync.js';
import { recordingContext } from '../../helpers/job-context.js';
import { describeWith, nixEval } from '../nix/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ops-addons-'));
const NIX_ENV = { ...process.env, NIX_CONFIG: 'build-users-group =' };
let server: Server;
let base: string;
let ca: string;
/** What the server serves, by path. Tests change it. */
const files = new Map<string, Buffer>();
let servedCut = 0;

beforeAll(async () => {
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
      join(dir, 'srv.key'),
      '-out',
      join(dir, 'srv.crt'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  ca = readFileSync(join(dir, 'srv.crt'), 'utf8');
  server = createServer({ key: readFileSync(join(dir, 'srv.key')), cert: ca }, (req, res) => {
    const path = req.url ?? '/';
    if (path.startsWith('/redirect/')) {
      res.writeHead(302, { location: path.slice('/redirect'.length) });
      res.end();
      return;
    }
    if (path.startsWith('/cut/')) {
      servedCut++;
      res.writeHead(200, { 'content-length': '200000' });
      res.write(randomBytes(50_000), () => res.socket?.destroy());
      return;
    }
    const body = files.get(path);
    if (!body) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** A manifest shaped like nix/addons/addons.json (comment, notes, nested values). */
function manifest(entries: string): string {
  return `{
  "$comment": "test manifest: formatting must survive a sync",
  "version": 1,
  "addons": [
${entries}
  ]
}
`;
}
const entry = (name: string, version: string, path: string, sha = '', extra = '') => `    {
      "name": "${name}",
      "version": "${version}",
      "format": "yaml",
      "url": "${base}${path}",
      "sha256": "${sha}"${extra}
    }`;

function nixPrefetch(body: Buffer): string {
  const f = join(dir, `blob-${randomBytes(4).toString('hex')}`);
  writeFileSync(f, body);
  return spawnSync('nix-prefetch-url', [`file://${f}`], {
    encoding: 'utf8',
    env: NIX_ENV,
  }).stdout.trim();
}

async function sync(req: SyncRequest) {
  const plan = await loadSyncPlan(req);
  if (!plan.ok) throw new Error(plan.error);
  const ctx = recordingContext();
  const job = addonSyncJob(req, plan, { fetchOptions: { ca } });
  try {
    return { outcome: await job.run(ctx), ctx, error: undefined };
  } catch (e) {
    return { outcome: (e as { outcome?: unknown }).outcome, ctx, error: e as Error };
  }
}

describeWith(
  ['nix-prefetch-url', 'nix-instantiate', 'openssl'],
  'addon sync (HTTPS on loopback, real Nix)',
  () => {
    it('pins every addon with the hash nix-prefetch-url gives; only the pins change; Nix accepts it', async () => {
      const a = randomBytes(300_000);
      const b = randomBytes(1234);
      files.set('/rel/v1.2.3/a.yaml', a);
      files.set('/files/v0.9.0/b.yaml', b);
      const path = join(dir, 'pin.json');
      const before = manifest(
        [
          entry('alpha', '1.2.3', '/rel/v1.2.3/a.yaml', '', ',\n      "note": "kept as is"'),
          entry('beta', '0.9.0', '/redirect/files/v0.9.0/b.yaml'),
        ].join(',\n'),
      );
      writeFileSync(path, before, { mode: 0o640 });
      const { outcome, error } = await sync({ manifestPath: path });
      expect(error).toBeUndefined();
      const after = readFileSync(path, 'utf8');
      const pins = parseManifest(after);
      if (!pins.ok) throw new Error(pins.error);
      expect(pins.addons.map((x) => x.sha256)).toEqual([nixPrefetch(a), nixPrefetch(b)]);
      // Every line but the two sha256 lines is byte-for-byte the same.
      const bl = before.split('\n');
      const al = after.split('\n');
      expect(al.length).toBe(bl.length);
      const changed = bl.flatMap((l, i) => (l === al[i] ? [] : [i]));
      expect(changed.map((i) => al[i]!.trim().split(':')[0])).toEqual(['"sha256"', '"sha256"']);
      expect(statSync(path).mode & 0o777).toBe(0o640);
      expect(outcome).toMatchObject({ written: true });
      const ok = nixEval<boolean>(
        `(import ./nix/lib/addons.nix { manifest = builtins.fromJSON args.text; }).ok`,
        { text: after },
      );
      expect(ok).toBe(true);

      // A second run: every pin unchanged, nothing to write.
      const again = await sync({ manifestPath: path });
      expect(again.error).toBeUndefined();
      expect(again.outcome).toMatchObject({ written: false, diff: '' });
      expect(readFileSync(path, 'utf8')).toBe(after);
    });

    it('a changed upstream at the same version is a pin mismatch: reported, nothing written', async () => {
      const v1 = randomBytes(5000);
      files.set('/rel/v2.0.0/c.yaml', v1);
      const path = join(dir, 'changed.json');
      writeFileSync(path, manifest(entry('gamma', '2.0.0', '/rel/v2.0.0/c.yaml', nixPrefetch(v1))));
      const verify = await sync({ manifestPath: path, verify: true });
      expect(verify.error).toBeUndefined();
      files.set('/rel/v2.0.0/c.yaml', randomBytes(5000));
      const text = readFileSync(path, 'utf8');
      const v = await sync({ manifestPath: path, verify: true });
      expect(v.error?.message).toMatch(/pin mismatch: gamma/);
      const s = await sync({ manifestPath: path });
      expect(s.error?.message).toMatch(/pin mismatch: gamma .*nothing written/);
      expect(readFileSync(path, 'utf8')).toBe(text);
      const forced = await sync({ manifestPath: path, acceptChanged: true });
      expect(forced.error).toBeUndefined();
      expect(readFileSync(path, 'utf8')).not.toBe(text);
    });

    it('a download cut half-way leaves the manifest untouched, even when other addons succeeded', async () => {
      files.set('/rel/v3.0.0/d.yaml', randomBytes(777));
      const path = join(dir, 'cut.json');
      const text = manifest(
        [
          entry('delta', '3.0.0', '/rel/v3.0.0/d.yaml'),
          entry('eps', '9.9.9', '/cut/v9.9.9/e.yaml'),
        ].join(',\n'),
      );
      writeFileSync(path, text);
      const cutsBefore = servedCut;
      const r = await sync({ manifestPath: path });
      expect(servedCut).toBe(cutsBefore + 1);
      expect(r.error?.message).toMatch(/eps: .*(cut|got 50000 of 200000)/);
      expect(r.error?.message).toMatch(/nothing written/);
      expect(readFileSync(path, 'utf8')).toBe(text);
    });

    it('a version bump rewrites version, url and pin together', async () => {
      const v2 = randomBytes(4096);
      files.set('/rel/v1.1.0/z.yaml', randomBytes(10));
      files.set('/rel/v1.2.0/z.yaml', v2);
      const path = join(dir, 'bump.json');
      writeFileSync(path, manifest(entry('zeta', '1.1.0', '/rel/v1.1.0/z.yaml')));
      const r = await sync({ manifestPath: path, versions: { zeta: '1.2.0' } });
      expect(r.error).toBeUndefined();
      const m = parseManifest(readFileSync(path, 'utf8'));
      if (!m.ok) throw new Error(m.error);
      expect(m.addons[0]).toMatchObject({
        version: '1.2.0',
        url: `${base}/rel/v1.2.0/z.yaml`,
        sha256: nixPrefetch(v2),
      });
    });
  },
);

it('refuses http://, too many bytes, 404 and an untrusted certificate with a typed error', async () => {
  await expect(fetchAndHash('http://127.0.0.1:1/x')).rejects.toMatchObject({ kind: 'insecure' });
  files.set('/big/v1/x', randomBytes(10_000));
  await expect(fetchAndHash(`${base}/big/v1/x`, { ca, maxBytes: 1000 })).rejects.toMatchObject({
    kind: 'too-large',
  });
  await expect(fetchAndHash(`${base}/none`, { ca })).rejects.toMatchObject({ kind: 'http' });
  await expect(fetchAndHash(`${base}/big/v1/x`)).rejects.toMatchObject({ kind: 'network' });
});
