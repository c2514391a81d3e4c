/**
 * The rotation of an intermediate CA against real daemons: a real etcd (Debian etcd-server)
 * serving client and peer TLS with P-521 certificates from the project's scripts (gen-lab),
 * on a lab node behind a real sshd in a network namespace; the signer (the CA directory
 * with the intermediates' keys) is another lab node, the root key stays in the lab's
 * offline/ directory and signs only in the ceremony step the test runs as an operator
 * would (issue-intermediate.sh --csr). The action runs ca-rotate / bundle-install / lock
 * over SSH with NodeAgent.exec; etcd is supervised by unitctl.sh (no systemd in a netns).
 *
 * Asserted: the job stops at the ceremony without the root; bundle lead (the successor in
 * the bundle, etcd restarted and gated before anything is signed by it); etcd serving a
 * write every 20 ms without a failure through the switch and the re-signing of its server
 * certificate by the successor, with old- and new-signed client certificates both
 * accepted; a retire refused while a leaf of the old version is installed; every bundle
 * verifying every installed leaf after every step (openssl verify); and convergence after
 * a cut after every step of the run.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import {
  type CaRotatePlan,
  caRotateJob,
  type LockOwner,
  pemFingerprints,
  planCaRotate,
  planRotate,
  type RotateDeps,
  rotateJob,
  type UnitControl,
} from '../../../src/actions/rotate/index.js';
import type { NodeSpec } from '../../../src/config/types.js';
import type { NodeAgent } from '../../../src/nodes/agent.js';
import { planNode } from '../../../src/pki/layout.js';
import { defaultLayout } from '../../../src/pki/layout-data.js';
import type { SshPool } from '../../../src/ssh/pool.js';
import { CutContext, cutPoints } from '../../helpers/cut-context.js';
import {
  etcdHealthArgv,
  etcdNodeLab,
  etcdSupport,
  startEtcdLoad,
  waitHealthy,
  writeEtcdUnit,
} from '../../helpers/etcd-unit.js';
import { type Lab, PKI_SCRIPTS } from '../../helpers/pki-lab.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const HERE = import.meta.dirname;
const UNITCTL = join(HERE, 'unitctl-node.sh');
const CA = 'etcd-ca';

const script = (n: string) => join(PKI_SCRIPTS, `${n}.sh`);
const caTools = {
  caRotate: script('ca-rotate'),
  bundleInstall: script('bundle-install'),
  lock: script('lock'),
};
const leafTools = {
  nodeCsr: script('node-csr'),
  sign: script('sign'),
  install: script('install'),
  lock: script('lock'),
};

const missing = etcdSupport();
if (missing && process.env.CI !== 'true') process.stderr.write(`[skip] rotate/ca: ${missing}\n`);

describeLab('rotate --ca: an intermediate with a real etcd behind real sshd', (lab) => {
  let tmp = '';
  let pki: Lab;
  let pool: SshPool;
  let node: NodeSpec;
  let signer: NodeSpec;
  let agents: Map<string, NodeAgent>;
  let units: UnitControl;
  let ns = '';
  let addr = '';
  let dir = '';
  let udir = '';
  const loads: ChildProcess[] = [];

  const inNs = (argv: string[], input?: string) =>
    execFileSync('ip', ['netns', 'exec', ns, ...argv], {
      encoding: 'utf8',
      timeout: 30_000,
      ...(input !== undefined ? { input } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  /** unitctl for node1 from the test (SSH_CONNECTION names the node's unit directory). */
  const unit = (verb: string, u: string) =>
    execFileSync(UNITCTL, [udir, verb, u], {
      encoding: 'utf8',
      env: { ...process.env, SSH_CONNECTION: `x 1 ${addr} 22` },
    });
  const pidOf = (u: string) => readFileSync(join(udir, addr, `${u}.pid`), 'utf8').trim();
  const cert = (path: string) => new X509Certificate(readFileSync(path));
  const hex = (s: string | undefined) => (s ?? '').replaceAll(':', '').toLowerCase();
  const akiOf = (path: string) => {
    const t = execFileSync(
      'openssl',
      ['x509', '-in', path, '-noout', '-ext', 'authorityKeyIdentifier'],
      {
        encoding: 'utf8',
      },
    );
    return hex(/([0-9A-F]{2}(:[0-9A-F]{2})+)/.exec(t)?.[1]);
  };
  const skidOfPem = (pem: string) => {
    const f = join(tmp, 'skid.pem');
    writeFileSync(f, pem);
    const t = execFileSync(
      'openssl',
      ['x509', '-in', f, '-noout', '-ext', 'subjectKeyIdentifier'],
      {
        encoding: 'utf8',
      },
    );
    return hex(/([0-9A-F]{2}(:[0-9A-F]{2})+)/.exec(t)?.[1]);
  };
  const bundleFps = () => pemFingerprints(readFileSync(join(dir, 'etcd-ca.pem'), 'utf8'));

  /**
   * openssl: every installed leaf of node1 verifies against the node's bundle of its CA
   * (the leaf alone, -partial_chain: the bundle holds the intermediates, not the root).
   */
  const everyLeafVerifies = (when: string) => {
    const np = planNode(defaultLayout(), node, { pkiDir: dir });
    let n = 0;
    for (const c of np.certs) {
      if (!existsSync(c.certPath)) continue;
      const bundle = np.bundles.find((b) => b.cas.includes(c.ca));
      if (!bundle) continue;
      const leaf = join(tmp, 'leaf.pem');
      execFileSync('openssl', ['x509', '-in', c.certPath, '-out', leaf]);
      try {
        execFileSync(
          'openssl',
          ['verify', '-no-CApath', '-no-CAstore', '-partial_chain', '-CAfile', bundle.path, leaf],
          { encoding: 'utf8', stdio: 'pipe' },
        );
      } catch (e) {
        throw new Error(
          `${when}: ${c.id} does not verify against ${bundle.path}: ${(e as { stderr?: string }).stderr}`,
        );
      }
      n++;
    }
    expect(n, when).toBeGreaterThanOrEqual(4);
  };
  const etcdHealthy = () => inNs(etcdHealthArgv({ addr, dir }, 'etcd-server'));

  const who = (pid: number): LockOwner => ({ owner: 'tester@k8ops', host: 'testhost', pid });
  const deps = (pid: number): RotateDeps => ({
    agent: (n) => agents.get(n),
    who: who(pid),
    pidAlive: () => false,
    gateTimeoutMs: 15_000,
    pollMs: 300,
    execTimeoutMs: 60_000,
  });
  const plan = (
    o: { successor?: string; leadMs?: number; early?: boolean; start?: boolean } = {},
  ): CaRotatePlan => {
    const r = planCaRotate({
      layout: defaultLayout(),
      nodes: [node, signer],
      signer,
      pkiDir: dir,
      caDir: pki.caDir,
      ca: CA,
      tools: caTools,
      units,
      bundleLeadMs: o.leadMs ?? 0,
      ...(o.early ? { retireEarly: true } : {}),
      ...(o.start === false ? { start: false } : {}),
      ...(o.successor !== undefined ? { successor: o.successor } : {}),
    });
    if (!r.ok) throw new Error(r.error);
    return r.plan;
  };
  const caStatus = () =>
    JSON.parse(
      execFileSync(caTools.caRotate, ['status', '--ca', CA, '--ca-dir', pki.caDir], {
        encoding: 'utf8',
      }),
    );
  /** The operator's ceremony: the root (offline/) signs the CSR the job printed. */
  const ceremony = (csr: string): string => {
    const f = join(tmp, 'successor.csr');
    writeFileSync(f, csr);
    return execFileSync(
      script('issue-intermediate'),
      ['--root-dir', join(pki.dir, 'offline'), '--ca', CA, '--csr', f],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  };
  const rotateLeaves = async (ids: string[], pid: number) => {
    const r = planRotate({
      layout: defaultLayout(),
      node,
      signer,
      pkiDir: dir,
      only: ids,
      tools: leafTools,
      units,
      signerCaDir: pki.caDir,
    });
    if (!r.ok) throw new Error(r.error);
    return rotateJob(r.plan, deps(pid)).run(new CutContext());
  };

  /** load.mjs with the client pair given (a writer every 20 ms, one handshake hammer). */
  const startLoad = (clientCert: string, clientKey: string) =>
    startEtcdLoad(
      ns,
      tmp,
      {
        host: addr,
        port: 2379,
        ca: [`${dir}/etcd-ca.pem`, pki.root.cert],
        cert: clientCert,
        key: clientKey,
        maxMs: 180_000,
        writeEveryMs: 20,
        hammers: 1,
      },
      loads,
    );

  it('has etcd and the PKI tools (etcd-server, etcd-client, cfssl, openssl, jq)', () => {
    if (missing && process.env.CI === 'true') throw new Error(missing);
    expect(true).toBe(true);
  });
  const live = missing ? it.skip : it;

  live(
    'set-up: gen-lab PKI, etcd serving client + peer TLS (P-521) on node1, node2 the signer',
    async () => {
      const l = lab();
      tmp = mkdtempSync(join(tmpdir(), 'k8ops-ca-rotate-'));
      ({ ns, addr, pki, dir, node, signer, pool, agents } = await etcdNodeLab(l, tmp));
      udir = join(tmp, 'units');
      mkdirSync(join(udir, addr), { recursive: true });
      mkdirSync(join(tmp, 'etcd-data'));
      units = {
        name: 'unitctl (test supervisor)',
        restart: (u) => [UNITCTL, udir, 'restart', u],
        isActive: (u) => [UNITCTL, udir, 'is-active', u],
        logs: (u) => [UNITCTL, udir, 'logs', u],
      };
      writeEtcdUnit(join(udir, addr, 'etcd.service.run'), {
        name: 'node1',
        addr,
        dir,
        dataDir: join(tmp, 'etcd-data'),
        netns: ns,
      });
      unit('start', 'etcd.service');
      const healthy = await waitHealthy(etcdHealthy);
      expect(healthy, readFileSync(join(udir, addr, 'etcd.service.log'), 'utf8')).toBe(true);
      everyLeafVerifies('set-up');
      expect(bundleFps()).toHaveLength(1);
    },
    300_000,
  );

  let successor = '';
  live(
    'without the root the job stops at the ceremony: the successor key + CSR at the signer, nothing else changed',
    async () => {
      const before = readFileSync(join(dir, 'etcd-ca.pem'), 'utf8');
      const ctx = new CutContext();
      const r = await caRotateJob(plan(), deps(1001)).run(ctx);
      expect(r.phase).toBe('pending');
      expect(r.waiting?.kind).toBe('ceremony');
      const csr = r.waiting?.kind === 'ceremony' ? r.waiting.csr : '';
      expect(csr).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
      expect(ctx.trace).toEqual([
        `ok node2: ${CA}: lock (CA directory)`,
        `ok node2: ${CA}: status`,
        `ok node2: ${CA}: successor key + CSR`,
        `skipped node2: ${CA}: accept the successor`,
        `ok node2: ${CA}: unlock`,
      ]);
      expect(ctx.lines.join('\n')).toContain(`issue-intermediate.sh --root-dir`);
      // The key stays at the signer (0600), the node's bundle is untouched.
      const pk = join(pki.caDir, '.cas', CA, 'pending-key.pem');
      expect(execFileSync('stat', ['-c', '%a', pk], { encoding: 'utf8' }).trim()).toBe('600');
      expect(readFileSync(join(dir, 'etcd-ca.pem'), 'utf8')).toBe(before);
      // Run again: the same pending key (the same CSR's public key), still waiting.
      const again = await caRotateJob(plan(), deps(1002)).run(new CutContext());
      const again_csr = again.waiting?.kind === 'ceremony' ? again.waiting.csr : '';
      const pub = (c: string) =>
        execFileSync('openssl', ['req', '-noout', '-pubkey'], { input: c, encoding: 'utf8' });
      expect(pub(again_csr)).toBe(pub(csr));
      // A successor signed from another CSR (another key) is refused at accept.
      const otherKey = join(tmp, 'other-key.pem');
      execFileSync('openssl', [
        'genpkey',
        '-algorithm',
        'EC',
        '-pkeyopt',
        'ec_paramgen_curve:P-521',
        '-out',
        otherKey,
      ]);
      const otherCsr = execFileSync(
        'openssl',
        ['req', '-new', '-key', otherKey, '-sha512', '-subj', '/O=k8ops/CN=etcd-ca'],
        { encoding: 'utf8' },
      );
      const wrong = ceremony(otherCsr);
      const err = await caRotateJob(plan({ successor: wrong }), deps(1003))
        .run(new CutContext())
        .catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/does not carry the pending key/);
      expect(caStatus().phase).toBe('pending');
      successor = ceremony(csr);
    },
    240_000,
  );

  live(
    'bundle lead: the successor joins the bundle, etcd restarted and gated, then it waits for bundleLead before the switch',
    async () => {
      const pid = pidOf('etcd.service');
      const ctx = new CutContext();
      const r = await caRotateJob(plan({ successor, leadMs: 3_600_000 }), deps(1101)).run(ctx);
      expect(r.phase).toBe('bundled');
      expect(r.waiting).toMatchObject({ kind: 'time', what: 'switch' });
      expect(r.changed).toEqual(['node1: etcd-ca-bundle']);
      expect(r.restarted).toEqual(['node1: etcd.service']);
      expect(pidOf('etcd.service')).not.toBe(pid);
      const st = caStatus();
      expect(st.phase).toBe('bundled');
      expect(bundleFps()).toEqual([st.current.fingerprint, st.next.fingerprint]);
      everyLeafVerifies('after the bundle lead');
      etcdHealthy();
      expect(ctx.trace).toContain('ok node1: etcd.service: gate: etcd endpoint health (mTLS)');
      expect(ctx.trace).toContain(`skipped node2: ${CA}: switch`);
      // Nothing signs with the successor yet.
      expect(readFileSync(join(pki.caDir, `${CA}.pem`), 'utf8')).not.toContain(
        successor.trim().split('\n')[1],
      );
    },
    240_000,
  );

  live(
    'etcd keeps serving a write every 20 ms through the switch and its server certificate re-signed by the successor; old- and new-signed clients both accepted',
    async () => {
      const nextSkid = skidOfPem(successor);
      const oldServer = cert(join(dir, 'etcd-server.pem')).serialNumber;
      const pid = pidOf('etcd.service');
      // The client presents the peer pair signed by the OLD intermediate (read once at start).
      const load = startLoad(join(dir, 'etcd-peer.pem'), join(dir, 'etcd-peer-key.pem'));
      await new Promise((r) => setTimeout(r, 1500));
      const r = await caRotateJob(plan({ successor, leadMs: 0 }), deps(1201)).run(new CutContext());
      expect(r.phase).toBe('switched');
      expect(r.waiting).toMatchObject({ kind: 'time', what: 'retire' });
      const leaf = await rotateLeaves(['etcd-server'], 1202);
      expect(leaf.installed).toEqual(['etcd-server']);
      await new Promise((r2) => setTimeout(r2, 2000));
      const s = await load.stop();
      process.stderr.write(`[rotate/ca] load through the switch: ${JSON.stringify(s)}\n`);
      expect(s.writes).toBeGreaterThan(10);
      expect(s.failedWrites, String(s.errors)).toBe(0);
      expect(s.failedHandshakes, String(s.errors)).toBe(0);
      // The server certificate is the successor's now, served without a restart.
      expect(cert(join(dir, 'etcd-server.pem')).serialNumber).not.toBe(oldServer);
      expect(akiOf(join(dir, 'etcd-server.pem'))).toBe(nextSkid);
      expect(pidOf('etcd.service')).toBe(pid);
      const served = inNs(
        [
          'openssl',
          's_client',
          '-connect',
          `${addr}:2379`,
          '-cert',
          `${dir}/etcd-peer.pem`,
          '-key',
          `${dir}/etcd-peer-key.pem`,
          '-showcerts',
        ],
        '',
      );
      const pem =
        /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(served)?.[0] ?? '';
      expect(new X509Certificate(pem).serialNumber).toBe(
        cert(join(dir, 'etcd-server.pem')).serialNumber,
      );
      // A client certificate signed by the successor is accepted too (the bundle holds both).
      const newClient = await rotateLeaves(['etcd-peer'], 1203);
      expect(newClient.installed).toEqual(['etcd-peer']);
      expect(akiOf(join(dir, 'etcd-peer.pem'))).toBe(nextSkid);
      inNs([
        'etcdctl',
        `--endpoints=https://${addr}:2379`,
        '--cacert',
        `${dir}/etcd-ca.pem`,
        '--cert',
        `${dir}/etcd-peer.pem`,
        '--key',
        `${dir}/etcd-peer-key.pem`,
        'put',
        'after-switch',
        'ok',
      ]);
      everyLeafVerifies('after the switch');
    },
    300_000,
  );

  live(
    'the retire waits for the last leaf of the old version; with --retire-now (no leaf of it installed) the bundle holds the successor alone',
    async () => {
      const before = await caRotateJob(plan(), deps(1301)).run(new CutContext());
      expect(before.waiting).toMatchObject({ kind: 'time', what: 'retire' });
      // etcd-server and etcd-peer were re-signed by the successor (the test above), and
      // apiserver-etcd-client is not on this node: nothing of the old version is installed.
      const st = caStatus();
      expect(st.old).not.toBeNull();
      const done = await caRotateJob(plan({ early: true }), deps(1302)).run(new CutContext());
      expect(done.phase).toBe('steady');
      expect(done.changed).toEqual(['node1: etcd-ca-bundle']);
      expect(bundleFps()).toEqual([st.current.fingerprint]);
      everyLeafVerifies('after the retire');
      etcdHealthy();
      expect(existsSync(join(pki.caDir, '.cas', CA, st.old.version))).toBe(false);
    },
    240_000,
  );

  live(
    'a retire is refused (nothing written) while a leaf signed by the old version is installed',
    async () => {
      // A full rotation up to the switch, without re-signing etcd-peer this time.
      const c1 = await caRotateJob(plan(), deps(1401)).run(new CutContext());
      const s1 = ceremony(c1.waiting?.kind === 'ceremony' ? c1.waiting.csr : '');
      const sw = await caRotateJob(plan({ successor: s1, leadMs: 0 }), deps(1402)).run(
        new CutContext(),
      );
      expect(sw.phase).toBe('switched');
      await rotateLeaves(['etcd-server'], 1403);
      const bundle = readFileSync(join(dir, 'etcd-ca.pem'), 'utf8');
      const ctx = new CutContext();
      const err = await caRotateJob(plan({ early: true }), deps(1404))
        .run(ctx)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(
        /etcd-peer .* would not verify against the new bundle/,
      );
      expect(ctx.trace).toContain(
        `failed node1: etcd-ca-bundle: every leaf verifies without the old version`,
      );
      expect(caStatus().phase).toBe('switched');
      expect(readFileSync(join(dir, 'etcd-ca.pem'), 'utf8')).toBe(bundle);
      // The leaf moves to the successor; then the retire goes through.
      await rotateLeaves(['etcd-peer'], 1405);
      const ok = await caRotateJob(plan({ early: true }), deps(1406)).run(new CutContext());
      expect(ok.phase).toBe('steady');
      expect(bundleFps()).toHaveLength(1);
      everyLeafVerifies('after the second retire');
    },
    300_000,
  );

  /**
   * The state files of a rotation (the signer's CA directory, node1's PKI directory) saved
   * and put back, so that every cut starts from the same state; etcd is restarted after a
   * restore so that what it loaded (its trust bundle) is what the disk holds again.
   */
  const snapshot = (name: string) => {
    const to = join(tmp, 'snap', name);
    rmSync(to, { recursive: true, force: true });
    mkdirSync(to, { recursive: true });
    execFileSync('cp', ['-a', pki.caDir, join(to, 'ca')]);
    execFileSync('cp', ['-a', dir, join(to, 'node')]);
    return async () => {
      for (const [from, into] of [
        [join(to, 'ca'), pki.caDir],
        [join(to, 'node'), dir],
      ] as const) {
        rmSync(into, { recursive: true, force: true });
        execFileSync('cp', ['-a', from, into]);
      }
      unit('restart', 'etcd.service');
      expect(await waitHealthy(etcdHealthy, 120, 250), 'etcd after a restore').toBe(true);
    };
  };
  const locksFree = () => {
    for (const d of [dir, pki.caDir])
      expect(
        JSON.parse(execFileSync(caTools.lock, ['show', '--pki-dir', d], { encoding: 'utf8' })),
      ).toEqual({ held: false });
  };

  // Each cut starts from a saved state (files put back, etcd restarted), not from a whole
  // new rotation: one phase run per cut point.
  live(
    'cut after every step of the switch (k8ops killed), re-run: converges; every bundle verifies every installed leaf and etcd comes back healthy',
    async () => {
      const c = await caRotateJob(plan(), deps(2000)).run(new CutContext());
      const s = ceremony(c.waiting?.kind === 'ceremony' ? c.waiting.csr : '');
      const restore = snapshot('before-switch');
      const whole = new CutContext();
      const w = await caRotateJob(plan({ successor: s, leadMs: 0 }), deps(2001)).run(whole);
      expect(w.phase).toBe('switched');
      expect(whole.steps.length).toBeGreaterThan(10);
      for (const k of cutPoints(whole.steps.length, 'rotate/ca')) {
        await restore();
        const base = 3000 + k * 10;
        const cut = new CutContext(k);
        await caRotateJob(plan({ successor: s, leadMs: 0 }), deps(base))
          .run(cut)
          .catch(() => undefined);
        expect(
          cut.steps.slice(k).every((x) => x.state !== 'ok'),
          `cut ${k}`,
        ).toBe(true);
        everyLeafVerifies(`cut after step ${k} (${cut.steps[k - 1]?.name})`);
        const a = await caRotateJob(plan({ successor: s, leadMs: 0 }), deps(base + 1)).run(
          new CutContext(),
        );
        expect(a.phase, `re-run after cut ${k} (${cut.steps[k - 1]?.name})`).toBe('switched');
        expect(bundleFps(), `cut ${k}`).toHaveLength(2);
        etcdHealthy();
        everyLeafVerifies(`converged after cut ${k}`);
        locksFree();
      }
    },
    1_800_000,
  );

  live(
    'cut after every step of the retire (k8ops killed), re-run: converges to the successor alone; every bundle verifies every installed leaf and etcd comes back healthy',
    async () => {
      // From the switched state the test above left: the leaves move to the successor.
      await rotateLeaves(['etcd-server', 'etcd-peer'], 4000);
      const restore = snapshot('before-retire');
      const whole = new CutContext();
      const w = await caRotateJob(plan({ early: true }), deps(4001)).run(whole);
      expect(w.phase).toBe('steady');
      expect(whole.steps.length).toBeGreaterThan(10);
      for (const k of cutPoints(whole.steps.length, 'rotate/ca')) {
        await restore();
        const base = 5000 + k * 10;
        const cut = new CutContext(k);
        await caRotateJob(plan({ early: true }), deps(base))
          .run(cut)
          .catch(() => undefined);
        expect(
          cut.steps.slice(k).every((x) => x.state !== 'ok'),
          `cut ${k}`,
        ).toBe(true);
        everyLeafVerifies(`retire cut after step ${k} (${cut.steps[k - 1]?.name})`);
        // The re-run finishes what is under way (a cut after the last step left nothing).
        const b = await caRotateJob(plan({ early: true, start: false }), deps(base + 1)).run(
          new CutContext(),
        );
        expect(b.phase, `retire re-run after cut ${k} (${cut.steps[k - 1]?.name})`).toBe('steady');
        expect(bundleFps(), `cut ${k}`).toHaveLength(1);
        etcdHealthy();
        everyLeafVerifies(`converged after retire cut ${k}`);
        locksFree();
      }
    },
    1_800_000,
  );

  it('tear-down', async () => {
    for (const p of loads) p.kill();
    if (udir && addr && existsSync(join(udir, addr))) {
      try {
        unit('stop', 'etcd.service');
      } catch {
        // not started
      }
    }
    for (const a of agents?.values() ?? []) await a.close();
    await pool?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
});
