/**
 * The example lab with its pins filled by the addon sync itself: a temporary copy of
 * nix/addons/addons.json whose URLs point at synthetic release artefacts (a YAML manifest,
 * Helm chart archives, a source tarball, a CLI archive — made here with `tar`) on a loopback
 * HTTPS server, pinned by the real sync job (download, hash, write); then
 *  - Nix's own fetcher accepts every pin for its URL (`builtins.fetchurl` over HTTPS, the
 *    server's certificate in NIX_SSL_CERT_FILE): the pins are what a build will check;
 *  - every node of nix/example evaluates (nix-instantiate, the harness's stand-in nixpkgs)
 *    with the addons module on — enabled on the control-plane node, where the addon manager
 *    runs, each deployable addon handed to multiYamlAddons with its pinned fetch.
 * The committed manifest's pins stay empty (this machine reaches no GitHub).
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseManifest } from '../../../src/actions/addons/manifest.js';
import { addonSyncJob, loadSyncPlan } from '../../../src/actions/addons/sync.js';
import { type ArtefactServer, startArtefactServer } from '../../helpers/artefact-server.js';
import { recordingContext } from '../../helpers/job-context.js';
import { describeWith, NIX_DIR, nixEvalRaw, ROOT } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'k8ops-example-pinned-'));
/** In every artefact: new bytes each run, so Nix's store cannot answer in the server's place. */
const NONCE = randomBytes(8).toString('hex');
let srv: ArtefactServer | undefined;
afterAll(async () => {
  await srv?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A program's exit status and output, without blocking the event loop (bounded: 120 s). */
function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: ROOT, env, timeout: 120_000, maxBuffer: 16 << 20 },
      (e, stdout, stderr) =>
        resolve({
          status: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
        }),
    );
  });
}

interface Decl {
  name: string;
  version: string;
  format: string;
  url: string;
  sha256: string;
  binary?: string;
  paths?: string[];
}

/** A synthetic artefact in the addon's format (real archives where the format is one). */
function artefact(a: Decl): Buffer {
  if (a.format === 'yaml')
    return Buffer.from(
      `# synthetic ${a.name} ${a.version} (run ${NONCE})\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${a.name}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${a.name}-version\n  namespace: ${a.name}\ndata:\n  version: "${a.version}"\n`,
    );
  const d = join(tmp, 'src', a.name);
  rmSync(d, { recursive: true, force: true });
  if (a.format === 'helm') {
    mkdirSync(join(d, a.name, 'templates'), { recursive: true });
    writeFileSync(
      join(d, a.name, 'Chart.yaml'),
      `apiVersion: v2\nname: ${a.name}\nversion: ${a.version}\nappVersion: ${a.version}\n`,
    );
    writeFileSync(join(d, a.name, 'values.yaml'), 'replicas: 1\n');
  } else if (a.format === 'tarball') {
    for (const p of a.paths ?? ['manifests']) {
      mkdirSync(join(d, `${a.name}-${a.version}`, p), { recursive: true });
      writeFileSync(join(d, `${a.name}-${a.version}`, p, '00-namespace.yaml'), 'kind: Namespace\n');
    }
  } else {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, a.binary ?? a.name), `#!/bin/sh\necho ${a.name} ${a.version}\n`);
  }
  writeFileSync(join(d, 'RUN'), `${NONCE}\n`);
  const out = join(tmp, `${a.name}.tgz`);
  // A fixed mtime and owner: the same bytes on every run.
  execFileSync(
    'tar',
    ['--mtime=2026-01-01', '--owner=0', '--group=0', '--numeric-owner', '-czf', out, '-C', d, '.'],
    {
      env: { ...process.env, GZIP: '-n' },
    },
  );
  return readFileSync(out);
}

describeWith(
  ['nix-instantiate', 'openssl', 'tar'],
  'nix/example with pins filled by the addon sync (synthetic artefacts on loopback HTTPS)',
  () => {
    let manifestFile = '';
    let pinned: Decl[] = [];

    beforeAll(async () => {
      srv = await startArtefactServer();
      const text = readFileSync(join(NIX_DIR, 'addons', 'addons.json'), 'utf8');
      const m = parseManifest(text);
      if (!m.ok) throw new Error(m.error);
      let copy = text;
      for (const a of m.addons as Decl[]) {
        const u = new URL(a.url);
        const path = `/${u.host}${u.pathname}`;
        srv.files.set(path, artefact(a));
        // Only the URL changes in the copy (it still names the version).
        copy = copy.replace(`"url": "${a.url}"`, `"url": "${srv.base}${path}"`);
      }
      manifestFile = join(tmp, 'addons.json');
      writeFileSync(manifestFile, copy);
    }, 60_000);

    it('the sync pins every addon of the example from the loopback server (nothing else in the copy changes)', async () => {
      const before = readFileSync(manifestFile, 'utf8');
      const plan = await loadSyncPlan({ manifestPath: manifestFile });
      if (!plan.ok) throw new Error(plan.error);
      const job = addonSyncJob({ manifestPath: manifestFile }, plan, {
        fetchOptions: { ca: srv!.ca },
      });
      const out = await job.run(recordingContext());
      expect(out.written).toBe(true);
      expect(out.results.map((r) => [r.name, r.status])).toEqual(
        plan.entries.map((e) => [e.name, 'pinned']),
      );
      const after = readFileSync(manifestFile, 'utf8');
      const changed = after.split('\n').filter((l, i) => l !== before.split('\n')[i]);
      expect(changed).toHaveLength(plan.entries.length);
      for (const l of changed) expect(l).toMatch(/^\s+"sha256": "[0-9a-df-np-sv-z]{52}",?$/);
      const m = parseManifest(after);
      if (!m.ok) throw new Error(m.error);
      pinned = m.addons as Decl[];
      expect(m.addons.every((a) => a.problems.length === 0)).toBe(true);
      // The committed manifest is untouched: its pins stay empty here.
      const committed = parseManifest(readFileSync(join(NIX_DIR, 'addons', 'addons.json'), 'utf8'));
      expect(committed.ok && committed.addons.every((a) => a.sha256 === '')).toBe(true);
    }, 120_000);

    it("Nix's own fetcher accepts every pin for its URL (builtins.fetchurl over HTTPS)", async () => {
      expect(pinned.length).toBeGreaterThan(0);
      // Asynchronously: the server answering Nix runs in this process.
      const r = await run(
        'nix-instantiate',
        [
          '--eval',
          '--strict',
          '--json',
          '-E',
          `map (a: builtins.fetchurl { inherit (a) url sha256; }) (builtins.fromJSON (builtins.readFile ${manifestFile})).addons`,
        ],
        { ...process.env, NIX_CONFIG: 'build-users-group =', NIX_SSL_CERT_FILE: srv!.caFile },
      );
      expect(r.stderr.replace(/^warning: .*\n/gm, ''), r.stderr).toBe('');
      expect(r.status).toBe(0);
      const paths = JSON.parse(r.stdout) as string[];
      expect(paths).toHaveLength(pinned.length);
      for (const p of paths) expect(p).toMatch(/^\/nix\/store\/[0-9a-df-np-sv-z]{32}-/);
      // Every artefact was fetched by Nix itself (besides the sync's download).
      for (const a of pinned)
        expect(srv!.hits.get(new URL(a.url).pathname)).toBeGreaterThanOrEqual(2);
    }, 120_000);

    it('every node of nix/example evaluates with the addons module on (the pins reach the fetches)', () => {
      const results: Record<string, unknown> = {};
      for (const name of ['cp-1', 'worker-1', 'worker-2']) {
        const r = nixEvalRaw(
          `let
             f = import ./test/integration/nix/harness/flake.nix;
             sys = f.outputs.nixosConfigurations.\${args.name}.extendModules {
               modules = [ { k8ops.addons.manifestFile = /. + args.manifest; } ];
             };
             c = sys.config;
             top = c.system.build.toplevel;
           in builtins.seq top.outPath {
             toplevel = top.outPath;
             assertionsOk = builtins.all (a: a.assertion) c.assertions;
             addons = c.k8ops.addons.enable;
             multiYaml = builtins.mapAttrs (_: a: { inherit (a) name version; src = toString a.src; }) c.services.kubernetes.addonManager.multiYamlAddons;
           }`,
          { name, manifest: manifestFile },
        );
        expect(r.stderr.replace(/^warning: .*\n/gm, ''), `${name}: ${r.stderr}`).toBe('');
        expect(r.status, name).toBe(0);
        results[name] = JSON.parse(r.stdout);
      }
      const cp = results['cp-1'] as {
        toplevel: string;
        assertionsOk: boolean;
        addons: boolean;
        multiYaml: Record<string, { name: string; version: string; src: string }>;
      };
      expect(cp.toplevel).toMatch(/-nixos-system-cp-1$/);
      expect(cp.assertionsOk).toBe(true);
      expect(cp.addons).toBe(true);
      const deployable = pinned.filter((a) => a.format !== 'cli');
      expect(Object.keys(cp.multiYaml).sort()).toEqual(deployable.map((a) => a.name).sort());
      for (const a of deployable) expect(cp.multiYaml[a.name]!.version).toBe(a.version);
      for (const a of deployable)
        expect(cp.multiYaml[a.name]!.src).toMatch(
          new RegExp(
            `^/nix/store/[0-9a-z]{32}-k8ops-addon-${a.name}-${a.version.replaceAll('.', '\\.')}/manifest\\.yaml$`,
          ),
        );
      for (const w of ['worker-1', 'worker-2']) {
        const x = results[w] as {
          toplevel: string;
          assertionsOk: boolean;
          addons: boolean;
          multiYaml: object;
        };
        expect(x.toplevel).toMatch(new RegExp(`-nixos-system-${w}$`));
        expect(x.assertionsOk).toBe(true);
        // The addon manager runs on control-plane nodes only: the module is off here.
        expect(x.addons).toBe(false);
        expect(x.multiYaml).toEqual({});
      }
    }, 180_000);
  },
);
