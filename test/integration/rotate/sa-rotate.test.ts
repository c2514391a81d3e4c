/**
 * The rotation of the service-account keys over real sshd: two control-plane lab nodes
 * (node1, node2, each its own PKI directory from the project's gen-lab, sharing the first
 * service-account key as gen-lab makes it), sa-rotate.sh / lock.sh run over SSH with
 * NodeAgent.exec. No API server runs here: kube-apiserver.service and
 * kube-controller-manager.service are stand-ins under unitctl (one unit directory per node)
 * that do what the real ones do with these files: read the signing key and the public-key
 * file (--service-account-key-file) ONCE at start. Their gate (sa-token-check.sh) signs a
 * JWT-shaped payload with the key the running stand-in loaded and verifies it against the
 * public keys it loaded, with openssl (ES512).
 *
 * Asserted with node:crypto (ES512 JWTs): during the overlap a token signed with the old key
 * and tokens signed with each node's new key verify against every node's installed and
 * loaded public-key file; after the drop only the new ones do; no private key is copied
 * between nodes (each node's new key is its own); a stand-in that refuses its new key fails
 * the gate and gets the previous key back; and a cut after every step converges with no
 * moment where a running stand-in signs with a key another running one does not trust.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, sign, verify } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import {
  GateFailedError,
  type LockOwner,
  planSaRotate,
  type RotateDeps,
  type SaRotatePlan,
  saRotateJob,
  type UnitControl,
} from '../../../src/actions/rotate/index.js';
import type { NodeSpec } from '../../../src/config/types.js';
import type { NodeAgent } from '../../../src/nodes/agent.js';
import { SshNodeAgent } from '../../../src/nodes/ssh-agent.js';
import { defaultLayout } from '../../../src/pki/layout-data.js';
import { splitPem } from '../../../src/pki/pem.js';
import { SshPool } from '../../../src/ssh/pool.js';
import { CutContext, cutPoints } from '../../helpers/cut-context.js';
import { buildLab, type Lab, PKI_SCRIPTS } from '../../helpers/pki-lab.js';
import { describeLab } from '../../helpers/sshd-suite.js';

const HERE = import.meta.dirname;
const UNITCTL = join(HERE, 'unitctl-node.sh');
const TOKEN_CHECK = join(HERE, 'sa-token-check.sh');
const tools = { saRotate: join(PKI_SCRIPTS, 'sa-rotate.sh'), lock: join(PKI_SCRIPTS, 'lock.sh') };
const APISERVER = 'kube-apiserver.service';
const CM = 'kube-controller-manager.service';

/** A JWT-shaped token, ES512 (the raw r||s signature a JWS carries). */
function token(privatePem: string, sub: string): string {
  const b64 = (x: string | Buffer) => Buffer.from(x).toString('base64url');
  const head = b64(JSON.stringify({ alg: 'ES512', typ: 'JWT' }));
  const body = b64(JSON.stringify({ iss: 'https://kubernetes.default.svc', sub }));
  const sig = sign('sha512', Buffer.from(`${head}.${body}`), {
    key: privatePem,
    dsaEncoding: 'ieee-p1363',
  });
  return `${head}.${body}.${b64(sig)}`;
}
/** Whether one of the public keys of a --service-account-key-file verifies the token. */
function accepted(tok: string, pubFile: string): boolean {
  const [h, b, s] = tok.split('.');
  for (const blk of splitPem(pubFile).blocks) {
    if (blk.label !== 'PUBLIC KEY') continue;
    const key = createPublicKey({ key: Buffer.from(blk.der), format: 'der', type: 'spki' });
    if (
      verify(
        'sha512',
        Buffer.from(`${h}.${b}`),
        { key, dsaEncoding: 'ieee-p1363' },
        Buffer.from(s!, 'base64url'),
      )
    )
      return true;
  }
  return false;
}
const pubCount = (text: string) =>
  splitPem(text).blocks.filter((b) => b.label === 'PUBLIC KEY').length;

describeLab('rotate --sa-key: per-node service-account keys over real sshd', (lab) => {
  let tmp = '';
  let pki: Lab;
  let pool: SshPool;
  let nodes: NodeSpec[] = [];
  let agents: Map<string, NodeAgent>;
  let units: UnitControl;
  let udir = '';
  const addr: Record<string, string> = {};
  const dirOf = (n: string) => pki.nodes[n]!.dir;
  const ud = (n: string) => join(udir, addr[n]!);
  const unit = (n: string, verb: string, u: string) =>
    execFileSync(UNITCTL, [udir, verb, u], {
      encoding: 'utf8',
      env: { ...process.env, SSH_CONNECTION: `x 1 ${addr[n]} 22` },
    });
  const read = (p: string) => readFileSync(p, 'utf8');

  const who = (pid: number): LockOwner => ({ owner: 'tester@k8ops', host: 'testhost', pid });
  const deps = (pid: number): RotateDeps => ({
    agent: (n) => agents.get(n),
    who: who(pid),
    pidAlive: () => false,
    gateTimeoutMs: 5000,
    pollMs: 250,
    execTimeoutMs: 60_000,
  });
  const plan = (overlapMs: number, start = true): SaRotatePlan => {
    const gate = [
      { kind: 'unit-active' as const, name: `${APISERVER} active`, unit: APISERVER },
      {
        kind: 'exec' as const,
        name: 'a token of the loaded key verifies (ES512)',
        argv: [TOKEN_CHECK, udir],
      },
    ];
    const r = planSaRotate({
      layout: defaultLayout(),
      nodes,
      pkiDir: '/nonexistent',
      pkiDirOf: (n) => dirOf(n.name),
      tools,
      units,
      overlapMs,
      start,
      gates: {
        [APISERVER]: gate,
        [CM]: [{ kind: 'unit-active', name: `${CM} active`, unit: CM }],
      },
    });
    if (!r.ok) throw new Error(r.error);
    return r.plan;
  };

  /**
   * No running stand-in signs with a key another running one does not trust, and no
   * node's key on disk is untrusted by another node's file on disk (a restart at any moment
   * keeps every token valid).
   */
  const invariant = (when: string) => {
    for (const a of Object.keys(addr))
      for (const b of Object.keys(addr)) {
        const loaded = token(read(join(ud(a), 'apiserver.key.loaded')), `loaded ${a}`);
        expect(
          accepted(loaded, read(join(ud(b), 'apiserver.pub.loaded'))),
          `${when}: ${a}'s running key at ${b}'s running API server`,
        ).toBe(true);
        const disk = token(read(join(dirOf(a), 'sa-key.pem')), `disk ${a}`);
        expect(
          accepted(disk, read(join(dirOf(b), 'sa.pub'))),
          `${when}: ${a}'s key on disk at ${b}'s sa.pub`,
        ).toBe(true);
      }
  };

  it('set-up: gen-lab for two control-plane nodes (one shared first key), the stand-ins started', async () => {
    const l = lab();
    tmp = mkdtempSync(join(tmpdir(), 'k8ops-sa-rotate-'));
    addr.node1 = l.hosts.node1.address;
    addr.node2 = l.hosts.node2.address;
    pki = await buildLab(join(tmp, 'pki'), [
      { name: 'node1', roles: ['control-plane'], addresses: [addr.node1] },
      { name: 'node2', roles: ['control-plane'], addresses: [addr.node2] },
    ]);
    nodes = ['node1', 'node2'].map((name, index) => ({
      name,
      index,
      host: name,
      addresses: [addr[name]!],
      roles: ['control-plane'],
    }));
    pool = new SshPool({ sshConfigFile: l.configFile, agentSocket: 'none' });
    agents = new Map(nodes.map((n) => [n.name, new SshNodeAgent(n, { pool }) as NodeAgent]));
    udir = join(tmp, 'units');
    units = {
      name: 'unitctl (test supervisor)',
      restart: (u) => [UNITCTL, udir, 'restart', u],
      isActive: (u) => [UNITCTL, udir, 'is-active', u],
      logs: (u) => [UNITCTL, udir, 'logs', u],
    };
    for (const n of ['node1', 'node2']) {
      mkdirSync(ud(n), { recursive: true });
      const d = dirOf(n);
      const u = ud(n);
      writeFileSync(
        join(u, `${APISERVER}.run`),
        [
          '#!/bin/sh',
          '# kube-apiserver stand-in: reads its service-account files once, at start.',
          'set -eu',
          `if [ -f ${u}/pin ] && [ "$(openssl pkey -in ${d}/sa-key.pem -pubout)" != "$(cat ${u}/pin)" ]; then`,
          '  echo "kube-apiserver (stand-in): refusing a signing key other than the pinned one"; exit 1',
          'fi',
          `cp ${d}/sa-key.pem ${u}/apiserver.key.loaded`,
          `cp ${d}/sa.pub ${u}/apiserver.pub.loaded`,
          'exec sleep 1000000',
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(u, `${CM}.run`),
        ['#!/bin/sh', `cp ${d}/sa-key.pem ${u}/cm.key.loaded`, 'exec sleep 1000000', ''].join('\n'),
      );
      chmodSync(join(u, `${APISERVER}.run`), 0o755);
      chmodSync(join(u, `${CM}.run`), 0o755);
      unit(n, 'start', APISERVER);
      unit(n, 'start', CM);
    }
    // gen-lab's first key: the same on both nodes (copied), trusted alone.
    expect(read(join(dirOf('node1'), 'sa-key.pem'))).toBe(read(join(dirOf('node2'), 'sa-key.pem')));
    expect(pubCount(read(join(dirOf('node1'), 'sa.pub')))).toBe(1);
    invariant('set-up');
  }, 240_000);

  it('a rotation: each node its own new key; during the overlap the old and every new key verify at every API server', async () => {
    const oldKey = read(join(dirOf('node1'), 'sa-key.pem'));
    const ctx = new CutContext();
    const r = await saRotateJob(plan(3_600_000), deps(101)).run(ctx);
    expect(r.phase).toBe('overlap');
    expect(r.switched).toEqual(['node1', 'node2']);
    expect(r.waiting?.what).toBe('drop');
    expect(r.waiting!.at).toBeGreaterThan(Date.now() + 3_500_000);
    // trust: only the API servers; switch: API server and controller-manager; node by node.
    expect(r.restarted).toEqual([
      `node1: ${APISERVER}`,
      `node2: ${APISERVER}`,
      `node1: ${APISERVER}`,
      `node1: ${CM}`,
      `node2: ${APISERVER}`,
      `node2: ${CM}`,
    ]);
    const k1 = read(join(dirOf('node1'), 'sa-key.pem'));
    const k2 = read(join(dirOf('node2'), 'sa-key.pem'));
    expect(k1).not.toBe(oldKey);
    expect(k2).not.toBe(oldKey);
    expect(k1).not.toBe(k2); // never copied between nodes
    expect(
      execFileSync('stat', ['-c', '%a', join(dirOf('node1'), 'sa-key.pem')], {
        encoding: 'utf8',
      }).trim(),
    ).toBe('600');
    // The running processes loaded the new files.
    expect(read(join(ud('node1'), 'cm.key.loaded'))).toBe(k1);
    expect(read(join(ud('node2'), 'apiserver.key.loaded'))).toBe(k2);
    for (const n of ['node1', 'node2']) {
      const pub = read(join(dirOf(n), 'sa.pub'));
      expect(pubCount(pub), n).toBe(3);
      expect(read(join(ud(n), 'apiserver.pub.loaded'))).toBe(pub);
      for (const [k, name] of [
        [oldKey, 'old'],
        [k1, 'node1 new'],
        [k2, 'node2 new'],
      ] as const)
        expect(accepted(token(k, name), pub), `${name} token at ${n}`).toBe(true);
    }
    invariant('overlap');
    // Again within the overlap: nothing to do, nothing restarted.
    const again = await saRotateJob(plan(3_600_000), deps(102)).run(new CutContext());
    expect(again.phase).toBe('overlap');
    expect(again.restarted).toEqual([]);
    expect(again.switched).toEqual([]);
  }, 240_000);

  it('after the overlap the old public key leaves: old tokens fail, the new ones verify; the previous keys are removed', async () => {
    const oldPub = splitPem(read(join(dirOf('node1'), 'sa.pub'))).blocks.length;
    expect(oldPub).toBe(3);
    const prev = read(join(dirOf('node1'), '.sa', 'service-account', 'previous-key.pem'));
    const r = await saRotateJob(plan(0), deps(201)).run(new CutContext());
    expect(r.phase).toBe('steady');
    expect(r.restarted).toEqual([`node1: ${APISERVER}`, `node2: ${APISERVER}`]);
    const k1 = read(join(dirOf('node1'), 'sa-key.pem'));
    const k2 = read(join(dirOf('node2'), 'sa-key.pem'));
    for (const n of ['node1', 'node2']) {
      const pub = read(join(dirOf(n), 'sa.pub'));
      expect(pubCount(pub)).toBe(2);
      expect(accepted(token(prev, 'old'), pub), `old at ${n}`).toBe(false);
      expect(accepted(token(k1, 'n1'), pub)).toBe(true);
      expect(accepted(token(k2, 'n2'), pub)).toBe(true);
      expect(existsSync(join(dirOf(n), '.sa', 'service-account', 'previous-key.pem'))).toBe(false);
    }
    invariant('after the drop');
    // Nothing under way: --due's run (start false) does nothing.
    const idle = await saRotateJob(plan(0, false), deps(202)).run(new CutContext());
    expect(idle.phase).toBe('steady');
    expect(idle.restarted).toEqual([]);
  }, 240_000);

  it('an API server that refuses its new key: the gate fails, the previous key is back, the unit active again, the job names the gate', async () => {
    const before2 = read(join(dirOf('node2'), 'sa-key.pem'));
    writeFileSync(
      join(ud('node2'), 'pin'),
      execFileSync('openssl', ['pkey', '-in', join(dirOf('node2'), 'sa-key.pem'), '-pubout'], {
        encoding: 'utf8',
      }),
    );
    const ctx = new CutContext();
    const err = await saRotateJob(plan(0), deps(301))
      .run(ctx)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateFailedError);
    const g = err as GateFailedError;
    expect(g.node).toBe('node2');
    expect(g.gate).toBe(`${APISERVER} active`);
    expect(g.message).toContain('the previous signing key is back');
    expect(g.logTail.join('\n')).toContain('refusing a signing key other than the pinned one');
    expect(read(join(dirOf('node2'), 'sa-key.pem'))).toBe(before2);
    expect(() => unit('node2', 'is-active', APISERVER)).not.toThrow();
    invariant('after the rollback');
    // The operator lets it through: the re-run converges (node1 switched already).
    rmSync(join(ud('node2'), 'pin'));
    const r = await saRotateJob(plan(0), deps(302)).run(new CutContext());
    expect(r.phase).toBe('steady');
    expect(read(join(dirOf('node2'), 'sa-key.pem'))).not.toBe(before2);
    invariant('converged after the rollback');
  }, 240_000);

  // Every step of a whole rotation (about 46 with two nodes), each cut then re-run: about
  // 30 min on a busy 2-core machine (1773 s measured), hence the timeout.
  it('cut after every step (k8ops killed), re-run: converges, and at every cut every running API server trusts every running and on-disk signing key', async () => {
    // One whole rotation in one run (overlap 0: the switch and the drop), to know its steps.
    const whole = new CutContext();
    const w = await saRotateJob(plan(0), deps(400)).run(whole);
    expect(w.phase).toBe('steady');
    const total = whole.steps.length;
    process.stderr.write(
      `[rotate/sa] one whole run: ${whole.steps.map((x) => `${x.name} ${x.ms ?? 0} ms`).join('; ')}\n`,
    );
    expect(total).toBeGreaterThan(30);
    for (const k of cutPoints(total, 'rotate/sa')) {
      const cut = new CutContext(k);
      await saRotateJob(plan(0), deps(1000 + k * 10))
        .run(cut)
        .catch(() => undefined);
      expect(
        cut.steps.slice(k).every((x) => x.state !== 'ok'),
        `cut ${k}`,
      ).toBe(true);
      invariant(`cut after step ${k} (${cut.steps[k - 1]?.name})`);
      // The re-run finishes what is under way (as --due does: it starts nothing new).
      const r = await saRotateJob(plan(0, false), deps(1000 + k * 10 + 1)).run(new CutContext());
      expect(r.phase, `re-run after cut ${k} (${cut.steps[k - 1]?.name})`).toBe('steady');
      for (const n of ['node1', 'node2'])
        expect(pubCount(read(join(dirOf(n), 'sa.pub'))), `cut ${k}`).toBe(2);
      invariant(`converged after cut ${k}`);
      for (const n of ['node1', 'node2'])
        expect(
          JSON.parse(
            execFileSync(tools.lock, ['show', '--pki-dir', dirOf(n)], { encoding: 'utf8' }),
          ),
        ).toEqual({ held: false });
    }
  }, 3_600_000);

  it('tear-down', async () => {
    for (const n of Object.keys(addr)) {
      try {
        unit(n, 'stop', APISERVER);
        unit(n, 'stop', CM);
      } catch {
        // not started
      }
    }
    for (const a of agents?.values() ?? []) await a.close();
    await pool?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
});
