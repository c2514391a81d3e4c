/**
 * The node-index rotation slot (nix/lib/rotation.nix: offset = i × spread / N, DESIGN.md
 * "Rotation schedule"), the rotation plan node-tools writes (nix/lib/node-tools.nix), and the
 * timer's script nix/modules/scripts/k8ops-rotate-due.sh run for real against P-521
 * certificates made by openssl.
 */

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pickupOf, UNIT_ORDER } from '../../../src/actions/rotate/reload.js';
import { planNode } from '../../../src/pki/layout.js';
import { describeWith, loadLayout, nixEval, nixEvalRaw, ROOT } from './helpers.js';

const SCRIPT = join(ROOT, 'nix/modules/scripts/k8ops-rotate-due.sh');
const DAY = 86_400;

describeWith(['nix-instantiate'], 'rotation slot and plan (evaluated)', () => {
  it.each([
    [0, 6, DAY, 0],
    [1, 6, DAY, 4 * 3600],
    [5, 6, DAY, 20 * 3600],
    [2, 3, DAY, 16 * 3600],
    [1, 7, DAY, Math.floor(DAY / 7)],
    [0, 1, DAY, 0],
    [3, 4, 0, 0],
  ])('node %i of %i, spread %i s → offset %i s', (index, count, spreadSeconds, offset) => {
    const r = nixEval<{ offsetSeconds: number }>('import ./nix/lib/rotation.nix args.p', {
      p: { index, count, spreadSeconds },
    });
    expect(r.offsetSeconds).toBe(offset);
    expect(r.offsetSeconds).toBe(Math.floor((index * spreadSeconds) / count));
  });

  it('refuses an index outside the inventory', () => {
    const r = nixEvalRaw('import ./nix/lib/rotation.nix { index = 3; count = 3; }');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('node index 3 is outside 0…2');
  });

  it('the rotation plan lists every certificate of the node with its units', () => {
    const node = { name: 'worker-1', roles: ['worker' as const], addresses: ['10.77.0.21'] };
    const plan = nixEval<{
      node: string;
      offsetSeconds: number;
      renewBeforeSeconds: null;
      certs: unknown[];
    }>(
      `(import ./nix/lib/node-tools.nix {
         pkiPlan = (import ./nix/lib/pki-options.nix { layout = builtins.fromJSON (builtins.readFile ./nix/pki/layout.json); node = args.node; }).plan;
         rotation = import ./nix/lib/rotation.nix { index = 1; count = 3; };
       }).rotationPlan`,
      { node },
    );
    const expected = planNode(loadLayout(), node, {});
    expect(plan).toEqual({
      node: 'worker-1',
      offsetSeconds: 8 * 3600,
      renewBeforeSeconds: null,
      // The restart order and whether each pair needs a restart: the rotate action's table.
      unitOrder: UNIT_ORDER,
      certs: expected.certs.map((c) => ({
        id: c.id,
        certPath: c.certPath,
        units: c.units,
        restart: pickupOf(c.id).pickup === 'restart',
      })),
    });
  });

  it('picks the PKI scripts present in nix/pki as k8ops-pki-<command>', () => {
    const r = nixEval<{
      scripts: { command: string; file: string; bin: string }[];
      missing: string[];
    }>('import ./nix/lib/node-tools.nix { entries = args.entries; }', {
      entries: {
        'sign.sh': 'regular',
        'node-csr.sh': 'regular',
        status: 'regular',
        'layout.json': 'regular',
        lib: 'directory',
        'install.sh': 'directory',
      },
    });
    expect(r.scripts).toEqual([
      { command: 'node-csr', file: 'node-csr.sh', bin: 'k8ops-pki-node-csr' },
      { command: 'sign', file: 'sign.sh', bin: 'k8ops-pki-sign' },
      { command: 'status', file: 'status', bin: 'k8ops-pki-status' },
    ]);
    expect(r.missing).toEqual([
      'init-root',
      'issue-intermediate',
      'bundles',
      'install',
      'sa-keygen',
      'gen-lab',
      'lock',
      'ca-rotate',
      'bundle-install',
      'sa-rotate',
    ]);
  });

  it('every PKI command is present in nix/pki as it is', () => {
    const r = nixEval<{ scripts: { bin: string }[]; missing: string[] }>(
      'import ./nix/lib/node-tools.nix { entries = builtins.readDir ./nix/pki; }',
    );
    expect(r.missing).toEqual([]);
    expect(r.scripts.map((s) => s.bin)).toEqual([
      'k8ops-pki-init-root',
      'k8ops-pki-issue-intermediate',
      'k8ops-pki-bundles',
      'k8ops-pki-node-csr',
      'k8ops-pki-sign',
      'k8ops-pki-install',
      'k8ops-pki-sa-keygen',
      'k8ops-pki-status',
      'k8ops-pki-gen-lab',
      'k8ops-pki-lock',
      'k8ops-pki-ca-rotate',
      'k8ops-pki-bundle-install',
      'k8ops-pki-sa-rotate',
    ]);
  });
});

interface Summary {
  node: string;
  now: number;
  offsetSeconds: number;
  due: string[];
  hookRan: boolean;
  hookStatus: number | null;
  certs: {
    id: string;
    due: boolean;
    reason: string | null;
    notBefore: number | null;
    notAfter: number | null;
    scheduled: number | null;
  }[];
}

describeWith(['openssl', 'jq', 'flock'], 'k8ops-rotate-due (real openssl certificates)', () => {
  let dir = '';
  let notBefore = 0;
  let notAfter = 0;
  const offset = 4 * 3600;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'k8ops-rotate-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-521',
        '-nodes',
        '-keyout',
        join(dir, 'kubelet-key.pem'),
        '-out',
        join(dir, 'kubelet.pem'),
        '-days',
        '14',
        '-subj',
        '/CN=system:node:worker-1',
      ],
      { stdio: 'ignore' },
    );
    const dates = execFileSync(
      'openssl',
      ['x509', '-noout', '-startdate', '-enddate', '-in', join(dir, 'kubelet.pem')],
      { encoding: 'utf8' },
    );
    const get = (k: string) =>
      Date.parse(/^.*=(.*)$/m.exec(dates.split('\n').find((l) => l.startsWith(k))!)![1]!) / 1000;
    notBefore = get('notBefore');
    notAfter = get('notAfter');
    writeFileSync(join(dir, 'garbage.pem'), '-----BEGIN CERTIFICATE-----\nnot base64\n');
    writeFileSync(
      join(dir, 'hook.sh'),
      [
        '#!/bin/sh',
        'echo "rotating: $*" > "$(dirname "$0")/hook.out"',
        'exit "$' + '{HOOK_EXIT:-0}"',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'hook.sh'), 0o755);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const plan = (
    certs: { id: string; certPath: string }[],
    renewBeforeSeconds: number | null = null,
  ) => {
    const p = join(dir, 'plan.json');
    writeFileSync(
      p,
      JSON.stringify({
        node: 'worker-1',
        offsetSeconds: offset,
        renewBeforeSeconds,
        certs: certs.map((c) => ({ ...c, units: [] })),
      }),
    );
    return p;
  };
  const run = (
    planFile: string,
    now: number,
    env: Record<string, string> = {},
    extra: string[] = [],
  ) => {
    rmSync(join(dir, 'hook.out'), { force: true });
    const r = spawnSync('bash', [SCRIPT, '--plan', planFile, '--now', String(now), ...extra], {
      encoding: 'utf8',
      env: {
        ...process.env,
        K8OPS_ROTATE_HOOK: join(dir, 'hook.sh'),
        K8OPS_ROTATE_LOCK: join(dir, 'lock'),
        ...env,
      },
    });
    const out = join(dir, 'hook.out');
    const hook = existsSync(out) ? readFileSync(out, 'utf8').trim() : '';
    return {
      status: r.status,
      summary: r.stdout ? (JSON.parse(r.stdout) as Summary) : undefined,
      stderr: r.stderr,
      hook,
    };
  };
  const kubelet = () => ({ id: 'kubelet', certPath: join(dir, 'kubelet.pem') });

  it('is due at notAfter − lifetime/3 + offset, not a second before', () => {
    const lifetime = notAfter - notBefore;
    const scheduled = notAfter - Math.floor(lifetime / 3) + offset;
    const before = run(plan([kubelet()]), scheduled - 1);
    expect(before.status).toBe(0);
    expect(before.summary!.due).toEqual([]);
    expect(before.summary!.certs[0]).toMatchObject({
      id: 'kubelet',
      due: false,
      notBefore,
      notAfter,
      scheduled,
    });
    expect(before.hook).toBe('');
    expect(before.stderr).toContain('nothing due; next at');

    const at = run(plan([kubelet()]), scheduled);
    expect(at.status).toBe(0);
    expect(at.summary).toMatchObject({
      node: 'worker-1',
      due: ['kubelet'],
      hookRan: true,
      hookStatus: 0,
      offsetSeconds: offset,
    });
    expect(at.summary!.certs[0]!.reason).toBe('scheduled');
    expect(at.hook).toBe('rotating: kubelet');
  });

  it('honours a configured renewBefore', () => {
    const scheduled = notAfter - 2 * 86_400 + offset;
    expect(run(plan([kubelet()], 2 * 86_400), scheduled - 1).summary!.due).toEqual([]);
    expect(run(plan([kubelet()], 2 * 86_400), scheduled).summary!.due).toEqual(['kubelet']);
  });

  it('a missing, an unreadable and an expired certificate are due at once', () => {
    const p = plan([
      kubelet(),
      { id: 'kubelet-client', certPath: join(dir, 'missing.pem') },
      { id: 'broken', certPath: join(dir, 'garbage.pem') },
    ]);
    const r = run(p, notBefore + 60);
    expect(r.summary!.due).toEqual(['kubelet-client', 'broken']);
    expect(r.summary!.certs.map((c) => c.reason)).toEqual([null, 'missing', 'unreadable']);
    expect(r.hook).toBe('rotating: kubelet-client broken');
    expect(run(plan([kubelet()]), notAfter + 1).summary!.certs[0]!.reason).toBe('expired');
  });

  it('reports only with --dry-run or without a hook; passes the hook’s failure on', () => {
    const due = notAfter - 10;
    const dry = run(plan([kubelet()]), due, {}, ['--dry-run']);
    expect(dry.summary).toMatchObject({ due: ['kubelet'], hookRan: false });
    expect(dry.hook).toBe('');
    const noHook = run(plan([kubelet()]), due, { K8OPS_ROTATE_HOOK: '' });
    expect(noHook.summary!.hookRan).toBe(false);
    const failing = run(plan([kubelet()]), due, { HOOK_EXIT: '7' });
    expect(failing.status).toBe(7);
    expect(failing.summary).toMatchObject({ hookRan: true, hookStatus: 7 });
  });

  it('one rotation at a time: a held lock exits 3 without running the hook', async () => {
    const holder = spawn('flock', [join(dir, 'lock'), 'sleep', '5'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const r = run(plan([kubelet()]), notAfter - 10);
      expect(r.status).toBe(3);
      expect(r.hook).toBe('');
      expect(r.stderr).toContain('another rotation holds');
    } finally {
      holder.kill();
    }
  });

  it('rejects bad input with exit 2', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ node: 'x', offsetSeconds: -5, certs: [] }));
    expect(run(bad, 1).status).toBe(2);
    expect(spawnSync('bash', [SCRIPT, '--plan', join(dir, 'nope.json')]).status).toBe(2);
    expect(spawnSync('bash', [SCRIPT, '--bogus']).status).toBe(2);
  });
});

const HOOK = join(ROOT, 'nix/modules/scripts/k8ops-rotate-hook.sh');

describeWith(
  ['openssl', 'jq', 'cfssl', 'cfssljson'],
  'k8ops-rotate-hook (the PKI scripts of nix/pki on a gen-lab PKI, signer local)',
  () => {
    let dir = '';
    let env: Record<string, string> = {};
    const serial = (file: string) =>
      execFileSync('openssl', ['x509', '-noout', '-serial', '-in', file], {
        encoding: 'utf8',
      }).trim();

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'k8ops-hook-'));
      execFileSync(
        'bash',
        [
          join(ROOT, 'nix/pki/gen-lab.sh'),
          '--apiserver-address',
          '10.77.0.10',
          join(dir, 'lab'),
          'worker-1:worker:10.77.0.21',
        ],
        { stdio: 'ignore' },
      );
      // The commands node-tools installs, and a systemctl that records what it is asked.
      const bin = join(dir, 'bin');
      execFileSync('mkdir', ['-p', bin]);
      for (const c of ['node-csr', 'sign', 'install', 'lock']) {
        writeFileSync(
          join(bin, `k8ops-pki-${c}`),
          `#!/bin/sh\nexec bash ${join(ROOT, `nix/pki/${c}.sh`)} "$@"\n`,
        );
        chmodSync(join(bin, `k8ops-pki-${c}`), 0o755);
      }
      writeFileSync(
        join(bin, 'systemctl'),
        [
          '#!/bin/sh',
          `echo "$*" >> ${join(dir, 'systemctl.log')}`,
          'if [ "$1" = is-active ]; then exit "$' + '{FAKE_INACTIVE:-0}"; fi',
          '',
        ].join('\n'),
      );
      chmodSync(join(bin, 'systemctl'), 0o755);
      const pki = join(dir, 'lab', 'worker-1');
      writeFileSync(
        join(dir, 'plan.json'),
        JSON.stringify({
          node: 'worker-1',
          offsetSeconds: 0,
          renewBeforeSeconds: null,
          unitOrder: UNIT_ORDER,
          certs: ['kubelet', 'kubelet-client'].map((id) => ({
            id,
            certPath: join(pki, `${id}.pem`),
            units: ['kubelet.service'],
            restart: true,
          })),
        }),
      );
      env = {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        K8OPS_NODE: 'worker-1',
        K8OPS_ROLES: 'worker',
        K8OPS_ADDRESSES: '10.77.0.21',
        K8OPS_APISERVER_ADDRESS: '10.77.0.10',
        K8OPS_PKI_DIR: pki,
        K8OPS_SIGNER: 'local',
        K8OPS_CA_DIR: join(dir, 'lab', 'ca'),
        K8OPS_ROTATION_PLAN: join(dir, 'plan.json'),
        K8OPS_UNIT_TIMEOUT: '0',
      } as Record<string, string>;
    }, 120_000);
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('rotates: new key and certificate, previous pair kept, kubelet restarted once', () => {
      const cert = join(dir, 'lab', 'worker-1', 'kubelet.pem');
      const before = serial(cert);
      rmSync(join(dir, 'systemctl.log'), { force: true });
      const r = spawnSync('bash', [HOOK, 'kubelet', 'kubelet-client'], { encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(0);
      expect(serial(cert)).not.toBe(before);
      expect(serial(`${cert}.prev`)).toBe(before);
      expect(readFileSync(join(dir, 'systemctl.log'), 'utf8').trim().split('\n')).toEqual([
        'restart kubelet.service',
        'is-active --quiet kubelet.service',
      ]);
      // The new chain verifies against the node's bundle, and its key matches.
      const v = spawnSync(
        'openssl',
        [
          'verify',
          '-partial_chain',
          '-CAfile',
          join(dir, 'lab', 'worker-1', 'kubernetes-ca.pem'),
          cert,
        ],
        { encoding: 'utf8' },
      );
      expect(v.stdout).toContain(': OK');
    });

    it('rolls back when the unit does not come up with the new certificate', () => {
      const cert = join(dir, 'lab', 'worker-1', 'kubelet.pem');
      const before = serial(cert);
      rmSync(join(dir, 'systemctl.log'), { force: true });
      const r = spawnSync('bash', [HOOK, 'kubelet'], {
        encoding: 'utf8',
        env: { ...env, FAKE_INACTIVE: '3' },
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('the previous ones are back');
      expect(serial(cert)).toBe(before);
      expect(readFileSync(join(dir, 'systemctl.log'), 'utf8').trim().split('\n')).toEqual([
        'restart kubelet.service',
        'is-active --quiet kubelet.service',
        'restart kubelet.service',
      ]);
    });

    it('takes the node lock k8ops takes: held by the console → exit 3 naming it, nothing installed', () => {
      const pki = join(dir, 'lab', 'worker-1');
      const cert = join(pki, 'kubelet.pem');
      const before = serial(cert);
      const lock = join(ROOT, 'nix/pki/lock.sh');
      const held = spawnSync(
        lock,
        ['acquire', '--owner', 'op@k8ops', '--host', 'admin', '--pid', '77', '--pki-dir', pki],
        { encoding: 'utf8' },
      );
      expect(held.status, held.stderr).toBe(0);
      const token = (JSON.parse(held.stdout) as { token: string }).token;
      try {
        const r = spawnSync('bash', [HOOK, 'kubelet'], { encoding: 'utf8', env });
        expect(r.status).toBe(3);
        expect(r.stderr).toMatch(
          /another rotation holds the node's lock: .*"owner":"op@k8ops","host":"admin","pid":77/,
        );
        expect(serial(cert)).toBe(before);
      } finally {
        spawnSync(lock, ['release', '--token', token, '--pki-dir', pki]);
      }
      // Free again: the hook takes it, and gives it back when done.
      const ok = spawnSync('bash', [HOOK, 'kubelet'], { encoding: 'utf8', env });
      expect(ok.status, ok.stderr).toBe(0);
      expect(
        JSON.parse(spawnSync(lock, ['show', '--pki-dir', pki], { encoding: 'utf8' }).stdout),
      ).toEqual({
        held: false,
      });
    });

    it('restarts only a unit whose certificate needs it (reload.json), still checking it is active', () => {
      const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as {
        certs: { restart: boolean }[];
      };
      const reloading = join(dir, 'plan-reload.json');
      writeFileSync(
        reloading,
        JSON.stringify({ ...plan, certs: plan.certs.map((c) => ({ ...c, restart: false })) }),
      );
      rmSync(join(dir, 'systemctl.log'), { force: true });
      const r = spawnSync('bash', [HOOK, 'kubelet'], {
        encoding: 'utf8',
        env: { ...env, K8OPS_ROTATION_PLAN: reloading },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('kubelet.service picks its new pair up by itself: no restart');
      expect(readFileSync(join(dir, 'systemctl.log'), 'utf8').trim().split('\n')).toEqual([
        'is-active --quiet kubelet.service',
      ]);
    });

    it('refuses an id that is not one', () => {
      const r = spawnSync('bash', [HOOK, 'kubelet;rm'], { encoding: 'utf8', env });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('invalid certificate id');
    });
  },
);
