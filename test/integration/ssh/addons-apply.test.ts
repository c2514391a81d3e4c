/**
 * `k8ops addons sync` with its apply (the built CLI), end to end against:
 * - real OpenSSH (a bastion and three nodes, test/helpers/sshd.ts) and the stand-in for
 *   nixos-rebuild (test/helpers/fake-nixos-rebuild.ts: nixos-rebuild cannot run here) that
 *   activates on the target through `ssh $NIX_SSHOPTS`, as `k8ops rebuild`'s tests use it;
 * - the Kubernetes-API-shaped test server (test/helpers/kube-api-server.ts: no kube-apiserver
 *   runs here; it speaks the API over TLS with client certificates and answers list/watch of
 *   Deployments with payloads shaped like the real ones). The test plays the addon manager:
 *   when the stand-in's activation on node1 has ended, it rolls the ingress-nginx Deployment
 *   to the new version (label and image), as kube-addon-manager would after the switch;
 * - a real HTTPS server on loopback serving the release artefact (trusted through
 *   NODE_EXTRA_CA_CERTS, as an operator behind a TLS proxy would).
 * Asserts: the rebuild runs on the addon-manager node only (node1, the control-plane), after
 * the pin write; convergence reported; no convergence → the timeout naming the addon, exit 1;
 * a failing rebuild stops the job, the pins stay written, and it says so.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadInventory } from '../../../src/config/load.js';
import { openLiveSession } from '../../../src/session/live.js';
import { BIN, ensureBuilt } from '../../helpers/build.js';
import { installFakeNixosRebuild } from '../../helpers/fake-nixos-rebuild.js';
import {
  fixture,
  generateKubePki,
  type KubeApiServer,
  type KubePki,
  kubeconfigYaml,
  startKubeApiServer,
} from '../../helpers/kube-api-server.js';
import { describeLab } from '../../helpers/sshd-suite.js';

type KObj = Parameters<KubeApiServer['put']>[1];

let kubePki: KubePki | undefined;
let artefacts: Server | undefined;
let base = '';
let srvDir = '';
const files = new Map<string, Buffer>();

beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  artefacts?.closeAllConnections();
  await new Promise((r) => (artefacts ? artefacts.close(r) : r(undefined)));
  kubePki?.cleanup();
});

describeLab(
  'k8ops addons sync: apply on the addon-manager node and watch the versions converge (real sshd, stand-in nixos-rebuild, Kubernetes-API-shaped server)',
  (lab) => {
    let n = 0;
    let kube: KubeApiServer | undefined;

    beforeAll(async () => {
      const l = lab();
      srvDir = join(l.dir, 'addons-apply-srv');
      mkdirSync(srvDir, { recursive: true });
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
          join(srvDir, 'srv.key'),
          '-out',
          join(srvDir, 'srv.crt'),
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      artefacts = createServer(
        { key: readFileSync(join(srvDir, 'srv.key')), cert: readFileSync(join(srvDir, 'srv.crt')) },
        (req, res) => {
          const body = files.get(req.url ?? '');
          res.writeHead(body ? 200 : 404, body ? { 'content-length': String(body.length) } : {});
          res.end(body ?? 'not found');
        },
      );
      await new Promise<void>((r) => artefacts!.listen(0, '127.0.0.1', r));
      base = `https://127.0.0.1:${(artefacts.address() as AddressInfo).port}`;
      kubePki = await generateKubePki();
    }, 120_000);
    afterAll(async () => {
      await kube?.close();
    });

    /** The ingress-nginx Deployment at `version` (label and image tag, as its chart sets them). */
    function ingressAt(version: string): KObj {
      const d = fixture<KObj>('deployment-ingress-nginx-controller.json');
      d.metadata.labels = {
        ...d.metadata.labels,
        'app.kubernetes.io/version': version,
        'helm.sh/chart': `ingress-nginx-${version}`,
      };
      const c = (d.spec as { template: { spec: { containers: Array<{ image: string }> } } })
        .template.spec.containers[0]!;
      c.image = `registry.k8s.io/ingress-nginx/controller:v${version}`;
      return d;
    }

    async function setup(opts: { applyOn?: string } = {}) {
      const l = lab();
      const dir = join(l.dir, `addons-apply-${++n}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const fake = installFakeNixosRebuild(dir);
      await kube?.close();
      kube = await startKubeApiServer({ pki: kubePki! });
      // The lab's nodes in the API: node1 the control-plane (Ready, its Cilium agent Ready).
      for (const [name, cp] of [
        ['node1', true],
        ['node2', false],
        ['node3', false],
      ] as const) {
        const node = fixture<KObj>('node.json');
        node.metadata.name = name;
        node.metadata.labels = { ...node.metadata.labels, 'kubernetes.io/hostname': name };
        if (!cp) delete node.metadata.labels['node-role.kubernetes.io/control-plane'];
        kube.put('nodes', node);
        const p = fixture<KObj>('pod-cilium.json');
        p.metadata.name = `cilium-${name}`;
        (p.spec as { nodeName: string }).nodeName = name;
        kube.put('pods', p);
      }
      kube.put('deployments', ingressAt('1.13.3'));
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        kubeconfigYaml({
          server: kube.url,
          caPem: kubePki!.ca.certPem,
          certPem: kubePki!.admin.certPem,
          keyPem: kubePki!.adminKeySec1Pem,
        }),
        { mode: 0o600 },
      );
      const artefact = randomBytes(30_000);
      const path = `/kubernetes/ingress-nginx/controller-v1.14.0-${n}/deploy.yaml`;
      files.set(path, artefact);
      const manifest = join(dir, 'addons.json');
      const text = `${JSON.stringify(
        {
          version: 1,
          addons: [
            {
              name: 'ingress-nginx',
              version: '1.14.0',
              format: 'yaml',
              url: `${base}${path}`,
              sha256: '',
            },
          ],
        },
        null,
        2,
      )}\n`;
      writeFileSync(manifest, text);
      const inventory = join(dir, 'k8ops.yaml');
      writeFileSync(
        inventory,
        [
          'cluster: sshlab',
          'nodes:',
          '  - name: node1',
          '    roles: [control-plane]',
          '  - name: node2',
          '    roles: [worker]',
          '  - name: node3',
          '    roles: [worker]',
          'kube:',
          `  kubeconfig: ${kubeconfig}`,
          'rebuild:',
          '  flake: /srv/cluster',
          'addons:',
          `  manifest: ${manifest}`,
          ...(opts.applyOn ? [`  applyOn: [${opts.applyOn}]`] : []),
          '',
        ].join('\n'),
      );
      const run = (args: string[]) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const p = spawn(
            'node',
            [
              BIN,
              'addons',
              'sync',
              ...args,
              '--inventory',
              inventory,
              '--ssh-config',
              l.configFile,
            ],
            {
              env: {
                PATH: `${fake.binDir}:${process.env.PATH ?? ''}`,
                HOME: l.home,
                XDG_CACHE_HOME: join(dir, 'cache'),
                XDG_STATE_HOME: join(dir, 'state'),
                NODE_EXTRA_CA_CERTS: join(srvDir, 'srv.crt'),
              },
              stdio: ['ignore', 'pipe', 'pipe'],
            },
          );
          let stdout = '';
          let stderr = '';
          p.stdout.on('data', (d) => (stdout += d));
          p.stderr.on('data', (d) => (stderr += d));
          const t = setTimeout(() => p.kill('SIGKILL'), 100_000);
          p.on('close', (code) => {
            clearTimeout(t);
            resolve({ code, stdout, stderr });
          });
        });
      const lines = (f: string) =>
        existsSync(join(dir, f))
          ? readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)
          : [];
      /**
       * The addon manager's stand-in: when node1's activation has ended, roll the Deployment to
       * `version`. Also records the manifest as the activation saw it start (pinned or not).
       */
      const seen: { pinAtStart?: string } = {};
      let stop = false;
      const addonManager = async (version: string | undefined) => {
        for (let i = 0; i < 2000 && !stop; i++) {
          const acts = lines('activations');
          if (seen.pinAtStart === undefined && acts.includes('node1 start'))
            seen.pinAtStart = (
              JSON.parse(readFileSync(manifest, 'utf8')) as { addons: Array<{ sha256: string }> }
            ).addons[0]!.sha256;
          if (acts.includes('node1 end')) {
            // The addon manager applies a while after the switch: the watch sees the old first.
            await new Promise((r) => setTimeout(r, 3000));
            if (version && !stop) kube!.put('deployments', ingressAt(version));
            return;
          }
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      const done = () => {
        stop = true;
      };
      return { dir, run, lines, manifest, text, addonManager, seen, done, l, inventory };
    }

    const pinOf = (file: string) =>
      (JSON.parse(readFileSync(file, 'utf8')) as { addons: Array<{ sha256: string }> }).addons[0]!
        .sha256;

    it('writes the pin, rebuilds node1 only (after the write), and reports ingress-nginx converged', async () => {
      const { run, lines, manifest, addonManager, seen, done } = await setup();
      const watcher = addonManager('1.14.0');
      const r = await run(['--yes', '--converge-timeout', '60s']);
      done();
      await watcher;
      if (process.env.SHOW_OUTPUT)
        writeFileSync(process.env.SHOW_OUTPUT, `${r.stderr}\n---\n${r.stdout}\n`);
      expect(r.code, r.stderr).toBe(0);
      expect(pinOf(manifest)).toMatch(/^[0-9a-z]{52}$/);
      // The rebuild ran on the addon-manager node only, with the pins already written.
      expect(lines('calls').map((c) => c.split('|').slice(0, 2))).toEqual([['switch', 'node1']]);
      expect(seen.pinAtStart).toBe(pinOf(manifest));
      // The job's phases in order: the write, node1's rebuild and gate, the watch.
      expect(r.stderr).toMatch(
        /write .*addons\.json[\s\S]*node1: nixos-rebuild[\s\S]*node1: gate ssh: ok[\s\S]*node1: gate node Ready: ok[\s\S]*watch the deployed versions converge/,
      );
      // The watch saw the old version, then the new one.
      expect(r.stderr).toMatch(
        /ingress-nginx: still old version 1\.13\.3 \(declared 1\.14\.0\)[\s\S]*ingress-nginx: converged: runs 1\.14\.0/,
      );
      expect(r.stdout).toMatch(/^wrote .*addons\.json; rebuilt node1$/m);
      expect(r.stdout).toMatch(/^ingress-nginx: converged: runs 1\.14\.0$/m);
    }, 150_000);

    it('a Deployment that never moves: the watch times out naming the addon and its old version, exit 1', async () => {
      const { run, lines, manifest, addonManager, done } = await setup();
      const watcher = addonManager(undefined);
      const r = await run(['--yes', '--converge-timeout', '4s', '--json']);
      done();
      await watcher;
      expect(r.code, r.stderr).toBe(1);
      expect(lines('calls').map((c) => c.split('|')[1])).toEqual(['node1']);
      expect(r.stderr).toMatch(
        /not converged after \d+ s: ingress-nginx still old version 1\.13\.3 \(declared 1\.14\.0\)/,
      );
      expect(r.stderr).toMatch(/the pins are written to .*addons\.json and node1 rebuilt/);
      expect(pinOf(manifest)).toMatch(/^[0-9a-z]{52}$/);
      const doc = JSON.parse(r.stdout) as {
        written: boolean;
        apply: {
          nodes: string[];
          converge: { converged: boolean; rows: Array<{ state: string }> };
        };
      };
      expect(doc.written).toBe(true);
      expect(doc.apply.nodes).toEqual(['node1']);
      expect(doc.apply.converge.converged).toBe(false);
      expect(doc.apply.converge.rows.map((x) => x.state)).toEqual(['old-version']);
    }, 150_000);

    it('a failing rebuild stops the job; the pins stay written and it says how to apply them', async () => {
      const { dir, run, lines, manifest, done } = await setup();
      writeFileSync(join(dir, 'node1.mode'), 'fail');
      const r = await run(['--yes']);
      done();
      expect(r.code).toBe(1);
      expect(lines('calls').map((c) => c.split('|')[1])).toEqual(['node1']);
      expect(r.stderr).toMatch(
        /the pins are written to .*addons\.json \(the file is the declared state\) but applying them failed: node1 failed while activating/,
      );
      expect(r.stderr).toMatch(/apply them with k8ops rebuild node1/);
      expect(r.stderr).not.toMatch(/watch the deployed versions converge/);
      expect(pinOf(manifest)).toMatch(/^[0-9a-z]{52}$/);
    }, 150_000);

    it('addons.applyOn chooses the node; --no-apply only writes; --dry-run prints the commands; --read-only refuses', async () => {
      const { run, lines, manifest, text, l, done } = await setup({ applyOn: 'node2' });
      done();
      const plan = await run(['--dry-run']);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toMatch(
        /^download https:\/\/127\.0\.0\.1:\d+\/kubernetes\/ingress-nginx\//m,
      );
      expect(plan.stdout).toContain(
        `  NIX_SSHOPTS='-F ${l.configFile} -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5' nixos-rebuild switch --flake /srv/cluster#node2 --target-host root@node2\n`,
      );
      expect(plan.stdout).toMatch(/for at most 10m/);
      expect(readFileSync(manifest, 'utf8')).toBe(text);
      const ro = await run(['--yes', '--read-only']);
      expect(ro.code).toBe(2);
      expect(ro.stderr).toMatch(/--read-only/);
      const noApply = await run(['--yes', '--no-apply']);
      expect(noApply.code, noApply.stderr).toBe(0);
      expect(pinOf(manifest)).toMatch(/^[0-9a-z]{52}$/);
      expect(noApply.stdout).toMatch(/apply it with a rebuild/);
      expect(lines('calls')).toEqual([]);
    }, 150_000);

    it('S in the console (live session): the confirmation offers the apply; the job writes, rebuilds node1, and each addon line says converged', async () => {
      const { lines, manifest, addonManager, done, l, inventory } = await setup();
      const loaded = await loadInventory(inventory);
      if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
      const saved = { PATH: process.env.PATH, HOME: process.env.HOME };
      // nixos-rebuild is found on PATH (the stand-in), and ssh reads the lab's home.
      process.env.PATH = `${join(inventory, '..', 'bin')}:${saved.PATH ?? ''}`;
      process.env.HOME = l.home;
      const session = await openLiveSession({
        inventory: loaded.inventory,
        readOnly: false,
        sshConfigFile: l.configFile,
        stateDir: join(inventory, '..', 'console-state'),
        fetchCa: readFileSync(join(srvDir, 'srv.crt'), 'utf8'),
      });
      try {
        session.start();
        const p = await session.jobs.prepare({ action: 'addon-sync', targets: ['ingress-nginx'] });
        if (!p.ok) throw new Error(p.message);
        expect(p.job.options.map((o) => [o.id, o.value])).toEqual([
          ['scope', 'ingress-nginx'],
          ['apply', 'yes'],
        ]);
        expect(p.job.planText.join('\n')).toMatch(/then apply: nixos-rebuild switch of node1/);
        const watcher = addonManager('1.14.0');
        const s = session.jobs.start(p.job.token);
        if (!s.ok) throw new Error(s.message);
        const rec = await session.jobs.handle(s.id)!.done;
        done();
        await watcher;
        expect(rec.state, rec.error).toBe('ok');
        expect(lines('calls').map((c) => c.split('|').slice(0, 2))).toEqual([['switch', 'node1']]);
        expect(pinOf(manifest)).toMatch(/^[0-9a-z]{52}$/);
        // The Jobs pane's lines: the addon's and the rebuilt node's.
        expect(rec.progress).toEqual(
          expect.arrayContaining([
            { target: 'ingress-nginx', text: 'converged: runs 1.14.0' },
            { target: 'node1', text: expect.stringMatching(/^done in [\d.]+ s · gate passed$/) },
          ]),
        );
        expect(rec.steps.map((x) => `${x.state} ${x.name}`)).toEqual([
          'ok ingress-nginx 1.14.0: download and hash',
          `ok write ${manifest}`,
          'ok node1: nixos-rebuild',
          'ok node1: health gate',
          'ok watch the deployed versions converge',
        ]);
      } finally {
        done();
        await session.close();
        process.env.PATH = saved.PATH;
        process.env.HOME = saved.HOME;
      }
    }, 150_000);
  },
);
