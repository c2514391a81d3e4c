/**
 * `k8ops certs --path` (built) on many distinct P-521 leaves: the signatures are verified in
 * parallel batches through the system openssl, across the cores; the report must
 * be exactly the one of node:crypto alone (K8OPS_OPENSSL_VERIFY=0), leaf by leaf, on a mixed
 * tree: two CAs (one under a subdirectory), a leaf whose signature was altered, a leaf
 * presented with the wrong CA's name, and a certificate file that is not one.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt } from '../helpers/build.js';
import { distinctLeaves } from '../helpers/distinct-leaves.mjs';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

let home: string;
let tree: string;

/** A PEM certificate with one byte of its signature changed (still parses). */
function alterSignature(pem: string): string {
  const b64 = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(b64, 'base64');
  // The signature's last byte: an INTEGER's final byte inside the BIT STRING at the end.
  der[der.length - 1] = der[der.length - 1]! ^ 0x01;
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function certs(extraEnv: Record<string, string>) {
  const r = spawnSync('node', [BIN, 'certs', '--json', '--path', tree], {
    encoding: 'utf8',
    timeout: 240_000,
    maxBuffer: 256 << 20,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      XDG_CACHE_HOME: join(home, 'cache'),
      K8OPS_NO_VERDICT_CACHE: '1',
      ...extraEnv,
    },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The document without what changes from one second to the next. */
function stable(stdout: string): unknown {
  const doc = JSON.parse(stdout) as Record<string, unknown>;
  delete doc.generatedAt;
  return JSON.parse(JSON.stringify(doc, (k, v) => (k === 'remainingSeconds' ? undefined : v)));
}

beforeAll(() => {
  if (!haveOpenssl) return;
  ensureBuilt();
  home = mkdtempSync(join(tmpdir(), 'k8ops-e2e-parallel-'));
  tree = join(home, 'pki');
  mkdirSync(join(tree, 'etcd'), { recursive: true });
  // 600 leaves of one CA (more than one batch: the queue is cut into even batches), 40 of
  // another under etcd/.
  const a = distinctLeaves({ dir: join(home, 'a'), count: 600, ca: 'Parallel CA A' });
  const b = distinctLeaves({ dir: join(home, 'b'), count: 40, ca: 'Parallel CA B' });
  for (const [i, f] of a.files.entries()) {
    const pem = readFileSync(f, 'utf8');
    writeFileSync(join(tree, `a-${i}.pem`), i === 17 ? alterSignature(pem) : pem);
  }
  writeFileSync(join(tree, 'ca-a.pem'), readFileSync(a.caFile));
  for (const [i, f] of b.files.entries())
    writeFileSync(join(tree, 'etcd', `b-${i}.pem`), readFileSync(f));
  writeFileSync(join(tree, 'etcd', 'ca-b.pem'), readFileSync(b.caFile));
  writeFileSync(
    join(tree, 'garbage.pem'),
    '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
  );
}, 120_000);
afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!haveOpenssl)(
  'certs --path: parallel verification gives the serial verdicts',
  () => {
    it('openssl batches across the cores and node:crypto alone: the same report, the bad signature found', () => {
      // openssl through a wrapper that records each batch's child count (its file arguments).
      const log = join(home, 'batches.log');
      const wrapper = join(home, 'openssl-wrapper.sh');
      writeFileSync(
        wrapper,
        `#!/bin/sh\nn=0; for a in "$@"; do case "$a" in *.der) n=$((n+1));; esac; done\necho "$n" >> '${log}'\nexec openssl "$@"\n`,
        { mode: 0o755 },
      );
      const batched = certs({ K8OPS_OPENSSL: wrapper });
      const serial = certs({ K8OPS_OPENSSL_VERIFY: '0' });
      expect(batched.stderr).toBe('');
      expect(serial.stderr).toBe('');
      const doc = JSON.parse(batched.stdout) as {
        summary: { certificates: number };
        checks: Array<{ id: string; path: string }>;
      };
      expect(doc.summary.certificates).toBe(642);
      const bad = doc.checks.filter((c) => c.id === 'bad-signature').map((c) => c.path);
      expect(bad).toEqual([join(tree, 'a-17.pem')]);
      expect(doc.checks.some((c) => c.path === join(tree, 'garbage.pem'))).toBe(true);
      expect(stable(batched.stdout)).toEqual(stable(serial.stdout));
      // Every pair went to openssl, in batches across the cores (queued as the files are
      // parsed: CA A's 600 pairs once its file is parsed, CA B's 40 after).
      const sizes = readFileSync(log, 'utf8').trim().split('\n').map(Number);
      expect(sizes.reduce((x, y) => x + y, 0)).toBe(640);
      expect(sizes.length).toBeGreaterThanOrEqual(Math.min(2, availableParallelism()));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(1024);
      expect(batched.code).toBe(2);
      expect(serial.code).toBe(2);
    }, 300_000);
  },
);
