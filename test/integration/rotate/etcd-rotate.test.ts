/**
 * The rotate action against real daemons: a real etcd (Debian etcd-server) serving client
 * and peer TLS with P-521 certificates from the project's scripts (gen-lab.sh), on a lab node
 * behind a real sshd in a network namespace (test/helpers/sshd.ts); the signer is another
 * lab node. The action runs node-csr / sign / install / lock over SSH with NodeAgent.exec.
 *
 * The netns has no systemd: a "unit" is a process supervised by unitctl.sh (beside this
 * file: start/stop/restart/is-active/logs), which the plan's UnitControl calls instead of
 * systemctl. Everything else is the real thing.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import {
  GateFailedError,
  LockHeldError,
  type LockOwner,
  planRotate,
  type RotateDeps,
  type RotatePlan,
  rotateJob,
  type UnitControl,
} from '../../../src/actions/rotate/index.js';
import type { NodeSpec } from '../../../src/config/types.js';
import type { NodeAgent } from '../../../src/nodes/agent.js';
import { defaultLayout } from '../../../src/pki/layout-data.js';
import type { SshPool } from '../../../src/ssh/pool.js';
import { CutContext } from '../../helpers/cut-context.js';
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
const UNITCTL = join(HERE, 'unitctl.sh');

const tools = {
  nodeCsr: join(PKI_SCRIPTS, 'node-csr.sh'),
  sign: join(PKI_SCRIPTS, 'sign.sh'),
  install: join(PKI_SCRIPTS, 'install.sh'),
  lock: join(PKI_SCRIPTS, 'lock.sh'),
};

const missing = etcdSupport();
if (missing && process.env.CI !== 'true') process.stderr.write(`[skip] rotate/etcd: ${missing}\n`);

describeLab('rotate: real etcd behind real sshd, scripts over NodeAgent.exec', (lab) => {
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
  const loads: ChildProcess[] = [];

  const inNs = (argv: string[], input?: string) =>
    execFileSync('ip', ['netns', 'exec', ns, ...argv], {
      encoding: 'utf8',
      timeout: 30_000,
      ...(input !== undefined ? { input } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  const unit = (verb: string, u: string) => inNs([UNITCTL, join(tmp, 'units'), verb, u]);
  const pidOf = (u: string) => readFileSync(join(tmp, 'units', `${u}.pid`), 'utf8').trim();
  const serialOf = (path: string) => new X509Certificate(readFileSync(path)).serialNumber;
  /** openssl: the public keys of the certificate and key at the configured paths match. */
  const pairMatches = (id: string): boolean => {
    const cert = join(dir, `${id}.pem`);
    const key = join(dir, `${id}-key.pem`);
    const a = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-pubkey'], {
      encoding: 'utf8',
    });
    const b = execFileSync('openssl', ['pkey', '-in', key, '-pubout'], { encoding: 'utf8' });
    return a === b;
  };
  const servedSerial = (port = 2379): string => {
    const out = inNs(
      [
        'openssl',
        's_client',
        '-connect',
        `${addr}:${port}`,
        '-cert',
        join(dir, 'etcd-peer.pem'),
        '-key',
        join(dir, 'etcd-peer-key.pem'),
        '-showcerts',
      ],
      '',
    );
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)?.[0];
    if (!pem) throw new Error(`no certificate served:\n${out}`);
    return new X509Certificate(pem).serialNumber;
  };

  /** The load of load.mjs in the node's namespace; stop() ends it and returns its summary. */
  const startLoad = () =>
    startEtcdLoad(
      ns,
      tmp,
      {
        host: addr,
        port: 2379,
        ca: [`${dir}/etcd-ca.pem`, pki.root.cert],
        cert: `${dir}/etcd-peer.pem`,
        key: `${dir}/etcd-peer-key.pem`,
        maxMs: 120_000,
        writeEveryMs: 20,
        hammers: 2,
      },
      loads,
    );

  const who = (pid: number): LockOwner => ({ owner: 'tester@k8ops', host: 'testhost', pid });
  const deps = (pid: number, alive: (p: number) => boolean = () => false): RotateDeps => ({
    agent: (n) => agents.get(n),
    who: who(pid),
    pidAlive: alive,
    gateTimeoutMs: 8000,
    pollMs: 300,
    execTimeoutMs: 60_000,
  });
  const plan = (
    only: string[],
    extra: Partial<Parameters<typeof planRotate>[0]> = {},
  ): RotatePlan => {
    const r = planRotate({
      layout: defaultLayout(),
      node,
      signer,
      pkiDir: dir,
      only,
      tools,
      units,
      signerCaDir: pki.caDir,
      ...extra,
    });
    if (!r.ok) throw new Error(r.error);
    return r.plan;
  };

  it('has etcd and the PKI tools (etcd-server, etcd-client, cfssl, openssl, jq)', () => {
    if (missing && process.env.CI === 'true') throw new Error(missing);
    if (missing) return;
    expect(missing).toBeUndefined();
  });

  const live = missing ? it.skip : it;

  live(
    'set-up: gen-lab PKI for the node, etcd serving client + peer TLS (P-521) under unitctl',
    async () => {
      const l = lab();
      tmp = mkdtempSync(join(tmpdir(), 'k8ops-rotate-'));
      ({ ns, addr, pki, dir, node, signer, pool, agents } = await etcdNodeLab(l, tmp));
      const udir = join(tmp, 'units');
      execFileSync('mkdir', ['-p', udir, join(tmp, 'etcd-data')]);
      units = {
        name: 'unitctl (test supervisor)',
        restart: (u) => [UNITCTL, udir, 'restart', u],
        isActive: (u) => [UNITCTL, udir, 'is-active', u],
        logs: (u) => [UNITCTL, udir, 'logs', u],
      };
      writeEtcdUnit(join(udir, 'etcd.service.run'), {
        name: 'node1',
        addr,
        dir,
        dataDir: join(tmp, 'etcd-data'),
      });
      unit('start', 'etcd.service');
      const healthy = await waitHealthy(() => inNs(etcdHealthArgv({ addr, dir })));
      expect(healthy, readFileSync(join(udir, 'etcd.service.log'), 'utf8')).toBe(true);
      // Served over TLS with the gen-lab P-521 certificate.
      expect(servedSerial()).toBe(serialOf(join(dir, 'etcd-server.pem')));
      const key = new X509Certificate(readFileSync(join(dir, 'etcd-server.pem'))).publicKey;
      expect(key.asymmetricKeyDetails?.namedCurve).toBe('secp521r1');
    },
    300_000,
  );

  live(
    'rotates etcd-server under a write every 20 ms and back-to-back handshakes: 0 failures, new serial served, same etcd pid',
    async () => {
      const before = serialOf(join(dir, 'etcd-server.pem'));
      const pid = pidOf('etcd.service');
      // The client's own pair is read once at its start (the peer pair, not rotated here).
      const load = startLoad();
      await new Promise((r) => setTimeout(r, 2000));

      const ctx = new CutContext();
      const res = await rotateJob(plan(['etcd-server']), deps(4242)).run(ctx);
      await new Promise((r) => setTimeout(r, 2000));
      const s = await load.stop();
      process.stderr.write(`[rotate/etcd] load during rotation: ${JSON.stringify(s)}\n`);
      expect(res.installed).toEqual(['etcd-server']);
      expect(res.restarted).toEqual([]); // etcd re-reads its pair per handshake
      // A write every 20 ms is the writer's pace; P-521 handshakes on two busy cores may slow it.
      expect(s.writes).toBeGreaterThan(10);
      expect(s.handshakes).toBeGreaterThan(s.writes);
      expect(s.failedWrites, s.errors.join('\n')).toBe(0);
      expect(s.failedHandshakes, s.errors.join('\n')).toBe(0);
      const after = serialOf(join(dir, 'etcd-server.pem'));
      expect(after).not.toBe(before);
      expect(servedSerial()).toBe(after);
      expect(pidOf('etcd.service')).toBe(pid);
      expect(pairMatches('etcd-server')).toBe(true);
      expect(serialOf(join(dir, 'etcd-server.pem.prev'))).toBe(before);
      expect(ctx.steps.map((x) => `${x.state} ${x.name}`)).toEqual([
        'ok node1: lock',
        'ok node1: etcd-server: key + CSR',
        'ok node1: etcd-server: fetch CSR',
        'ok node2: etcd-server: sign',
        'ok node1: etcd-server: install',
        'skipped node1: etcd.service: restart',
        'ok node1: etcd.service: gate: etcd.service active',
        'ok node1: etcd.service: gate: etcd endpoint health (mTLS)',
        'ok node1: etcd.service: gate: etcd serves the new certificate',
        'ok node1: unlock',
      ]);
    },
    240_000,
  );

  live(
    'the same load detects a mismatch window: a swap of key then certificate by two renames (the old install.sh, window widened to 1 s) refuses handshakes',
    async () => {
      // The signal the test above relies on: without the one-rename switch, etcd refuses
      // handshakes while the new key sits beside the old certificate.
      const csr = execFileSync(
        tools.nodeCsr,
        [
          '--node',
          'node1',
          '--roles',
          'etcd,worker',
          '--addresses',
          addr,
          '--pki-dir',
          dir,
          '--only',
          'etcd-server',
        ],
        { encoding: 'utf8' },
      ).trim();
      const chain = join(tmp, 'old-style.pem');
      execFileSync(tools.sign, [
        '--node',
        'node1',
        '--roles',
        'etcd,worker',
        '--addresses',
        addr,
        '--ca-dir',
        pki.caDir,
        '--id',
        'etcd-server',
        '--csr',
        csr,
        '--out',
        chain,
      ]);
      const load = startLoad();
      await new Promise((r) => setTimeout(r, 1500));
      // key first (rename over the configured path), then the certificate, 1 s apart
      execFileSync('mv', [
        '-f',
        '-T',
        join(dir, 'etcd-server-key.pem.new'),
        join(dir, 'etcd-server-key.pem'),
      ]);
      await new Promise((r) => setTimeout(r, 1000));
      writeFileSync(join(dir, '.etcd-server.pem.tmp'), readFileSync(chain));
      execFileSync('mv', [
        '-f',
        '-T',
        join(dir, '.etcd-server.pem.tmp'),
        join(dir, 'etcd-server.pem'),
      ]);
      await new Promise((r) => setTimeout(r, 1500));
      const s = await load.stop();
      process.stderr.write(`[rotate/etcd] load during a two-rename swap: ${JSON.stringify(s)}\n`);
      expect(s.failedHandshakes + s.failedWrites).toBeGreaterThan(0);
      expect(s.errors.join('\n')).toMatch(/alert|handshake|socket|ECONNRESET|disconnected/i);
      // install.sh takes the plain pair in again: links through .pairs, matching, served.
      const r = execFileSync(
        tools.install,
        ['--node', 'node1', '--id', 'etcd-server', '--cert', chain, '--pki-dir', dir],
        { encoding: 'utf8' },
      );
      expect(r).toBe('installed etcd-server\n');
      expect(pairMatches('etcd-server')).toBe(true);
      expect(servedSerial()).toBe(serialOf(join(dir, 'etcd-server.pem')));
    },
    240_000,
  );

  live(
    'cut after every step (k8ops killed), re-run: converges, the pair on disk matches after every cut, one rotation per run',
    async () => {
      const total = 10; // the steps of the run above
      for (let k = 1; k < total; k++) {
        const before = serialOf(join(dir, 'etcd-server.pem'));
        const cut = new CutContext(k);
        await expect(rotateJob(plan(['etcd-server']), deps(5000 + k)).run(cut)).rejects.toThrow();
        // Steps 1..k ran; nothing ran on a host after the cut.
        expect(
          cut.steps.slice(0, k).every((x) => x.state !== 'failed'),
          `cut after ${k}`,
        ).toBe(true);
        expect(
          cut.steps.slice(k).every((x) => x.state !== 'ok'),
          `cut after ${k}`,
        ).toBe(true);
        expect(pairMatches('etcd-server'), `pair after a cut after step ${k}`).toBe(true);
        // The re-run: a new process of the same owner on the same host (the cut one is dead).
        const again = new CutContext();
        const res = await rotateJob(plan(['etcd-server']), deps(6000 + k)).run(again);
        expect(pairMatches('etcd-server'), `pair after the re-run of cut ${k}`).toBe(true);
        const after = serialOf(join(dir, 'etcd-server.pem'));
        expect(servedSerial()).toBe(after);
        // Cut after the install (step 5 or later): the re-run resumes, it does not rotate again.
        if (k >= 5) {
          expect(res.resumed, `cut ${k}`).toBe(true);
          expect(again.steps.find((x) => x.name.includes('key + CSR'))?.state).toBe('skipped');
        }
        expect(after, `cut ${k}: rotated once`).not.toBe(before);
        // The lock is free again.
        const show = execFileSync(tools.lock, ['show', '--pki-dir', dir], { encoding: 'utf8' });
        expect(JSON.parse(show)).toEqual({ held: false });
      }
    },
    600_000,
  );

  live(
    'two rotations of one node at once: the second is refused and names the holder',
    async () => {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const first = new CutContext(Number.POSITIVE_INFINITY, async (name) => {
        if (name === 'node1: lock') {
          locked();
          await held;
        }
      });
      const a = rotateJob(
        plan(['etcd-server']),
        deps(7001, (p) => p === 7001),
      ).run(first);
      await isLocked;
      const second = { ...deps(7002, (p) => p === 7001) };
      const err = await rotateJob(plan(['etcd-server']), second)
        .run(new CutContext())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockHeldError);
      expect((err as Error).message).toMatch(
        /tester@k8ops on testhost \(pid 7001\), held for \d+ s/,
      );
      release();
      await a;
    },
    240_000,
  );

  live(
    'a unit that refuses the new certificate: gate fails, previous pair restored, unit active again, job names the gate',
    async () => {
      const udir = join(tmp, 'units');
      // "fussy": serves TLS with the kubelet-client pair on 4443, but only with the serial it was
      // first started with — any other certificate makes it exit at start.
      const allowed = serialOf(join(dir, 'kubelet-client.pem'));
      writeFileSync(
        join(udir, 'fussy.service.run'),
        [
          '#!/bin/sh',
          `s=$(openssl x509 -in ${dir}/kubelet-client.pem -noout -serial | cut -d= -f2)`,
          `if [ "$s" != "${allowed}" ]; then echo "fussy: refusing certificate serial $s"; exit 1; fi`,
          `exec openssl s_server -quiet -accept ${addr}:4443 -cert ${dir}/kubelet-client.pem -key ${dir}/kubelet-client-key.pem -www`,
          '',
        ].join('\n'),
      );
      chmodSync(join(udir, 'fussy.service.run'), 0o755);
      unit('start', 'fussy.service');
      expect(() => unit('is-active', 'fussy.service')).not.toThrow();
      // The layout as this cluster has it: kubelet-client is used by fussy.service.
      const layout = defaultLayout();
      layout.certs = layout.certs.map((c) =>
        c.id === 'kubelet-client' ? { ...c, units: ['fussy.service'] } : c,
      );
      const ctx = new CutContext();
      const err = await rotateJob(
        plan(['kubelet-client'], {
          layout,
          gates: {
            'fussy.service': [
              { kind: 'unit-active', name: 'fussy.service active', unit: 'fussy.service' },
            ],
          },
        }),
        deps(8001),
      )
        .run(ctx)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GateFailedError);
      const g = err as GateFailedError;
      expect(g.gate).toBe('fussy.service active');
      expect(g.message).toContain('gate "fussy.service active" of fussy.service failed');
      expect(g.logTail.join('\n')).toContain('fussy: refusing certificate serial');
      expect(serialOf(join(dir, 'kubelet-client.pem'))).toBe(allowed);
      expect(pairMatches('kubelet-client')).toBe(true);
      expect(() => unit('is-active', 'fussy.service')).not.toThrow();
      expect(ctx.steps.map((s) => `${s.state} ${s.name}`)).toEqual([
        'ok node1: lock',
        'ok node1: kubelet-client: key + CSR',
        'ok node1: kubelet-client: fetch CSR',
        'ok node2: kubelet-client: sign',
        'ok node1: kubelet-client: install',
        'ok node1: fussy.service: restart',
        'failed node1: fussy.service: gate: fussy.service active',
        'ok node1: fussy.service: rollback',
        'ok node1: unlock',
      ]);
      unit('stop', 'fussy.service');
    },
    240_000,
  );

  it('tear-down', async () => {
    for (const p of loads) p.kill();
    if (ns && tmp && existsSync(join(tmp, 'units'))) {
      try {
        unit('stop', 'etcd.service');
        unit('stop', 'fussy.service');
      } catch {
        // not started
      }
    }
    for (const a of agents?.values() ?? []) await a.close();
    await pool?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
});
