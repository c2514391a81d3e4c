/**
 * Signature checks through the system OpenSSL, in batches: `openssl verify` with the issuers
 * as the only trust anchors (`-partial_chain -trusted ISSUERS`), no default store, no time
 * check, every child as its own DER file in a private temporary directory (mode 0700).
 *
 * Why: Node's bundled OpenSSL is built without the 64-bit NIST P-521 code that Debian's
 * has (`enable-ec_nistp_64_gcc_128`; `nm -D $(which node)` lists EC_GFp_nistz256_method but
 * no EC_GFp_nistp521_method, Debian's libcrypto.so.3 has it): a P-521 verification costs
 * ~1.0 ms in node:crypto and ~0.36 ms in `openssl speed ecdsap521`, ~0.55 ms per
 * certificate in `openssl verify`. A cold PKI read is mostly P-521 verifications.
 *
 * Only `<file>: OK` lines count; a child openssl does not confirm is decided by node:crypto
 * (src/pki/verify-batch.ts), so a missing, old or failing openssl costs time, not verdicts.
 * Only public certificates are written, never keys. `K8OPS_OPENSSL_VERIFY=0` turns it off;
 * `K8OPS_OPENSSL` names the binary (default: `openssl` on PATH).
 */
import { spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  mkdtempSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '../store/trace.js';
import { type BatchRunner, SignatureBatcher, VerifierUnavailable } from './verify-batch.js';

/** Which of `names` `openssl verify` printed as verified (`<name>: OK` on stdout). Pure. */
export function parseVerifyOk(stdout: string, names: readonly string[]): boolean[] {
  const ok = new Set<string>();
  for (const line of stdout.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l.endsWith(': OK')) ok.add(l.slice(0, -4));
  }
  return names.map((n) => ok.has(n));
}

/** The argument list for one batch (file names are ours: `issuers.pem`, `0.der`, …). */
export function verifyArgs(issuerFile: string, childFiles: readonly string[]): string[] {
  return [
    'verify',
    '-no-CAfile',
    '-no-CApath',
    '-no-CAstore',
    '-partial_chain',
    '-no_check_time',
    '-trusted',
    issuerFile,
    ...childFiles,
  ];
}

export interface OpensslRunnerOptions {
  bin?: string;
  /** A batch running longer is killed, and its pairs fall back. */
  timeoutMs?: number;
  /** Where the per-batch temporary directories go (default: scratchDir()). */
  tmpDir?: string;
}

/** A BatchRunner over `openssl verify` (see the module comment). */
export function opensslRunner(opts: OpensslRunnerOptions = {}): BatchRunner {
  const bin = opts.bin ?? 'openssl';
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return async (issuerDers, childDers) => {
    // Written synchronously: a few dozen small files, ~10 µs each, and the batch starts now
    // rather than after thread-pool round trips queued behind other work.
    const dir = mkdtempSync(join(opts.tmpDir ?? scratchDir(), 'k8ops-verify-'));
    liveDirs.add(dir);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', removeLiveDirs);
    }
    try {
      const issuerFile = join(dir, 'issuers.pem');
      writeFileSync(issuerFile, issuerDers.map(derToPem).join(''), { mode: 0o600 });
      const names = childDers.map((der, i) => {
        const name = join(dir, `${i}.der`);
        writeFileSync(name, der, { mode: 0o600 });
        return name;
      });
      trace('verify:batch', { pairs: childDers.length });
      const { code, stdout, stderr, spawnError } = await run(
        bin,
        verifyArgs(issuerFile, names),
        timeoutMs,
      );
      trace('verify:batch-end', { pairs: childDers.length });
      if (spawnError)
        throw new VerifierUnavailable(`${bin} cannot be started: ${spawnError.message}`);
      const oks = parseVerifyOk(stdout, names);
      // 0: all verified; 2: some did not. Anything else with nothing verified is openssl
      // refusing the command itself (an OpenSSL 1.1 without -no-CAstore, say).
      if (code !== 0 && code !== 2 && !oks.includes(true)) {
        const first = stderr.split('\n').find((l) => l.trim() !== '') ?? `exit ${code}`;
        throw new VerifierUnavailable(`${bin} verify failed: ${first.trim()}`);
      }
      return oks;
    } finally {
      removeBatchDir(dir, childDers.length);
      liveDirs.delete(dir);
    }
  };
}

/**
 * Remove a batch directory: its files are known (`issuers.pem`, `0.der` …), so each is
 * unlinked by name; rmSync's recursive walk (a readdir and an lstat per entry) cost as
 * much again for a batch of 800 children. Anything else found there falls back to it.
 */
function removeBatchDir(dir: string, children: number): void {
  try {
    for (let i = 0; i < children; i++) unlinkSync(join(dir, `${i}.der`));
    unlinkSync(join(dir, 'issuers.pem'));
    rmdirSync(dir);
  } catch {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Batch directories in use, removed on exit too (a quit in the middle of a batch). */
const liveDirs = new Set<string>();
let exitHook = false;
function removeLiveDirs(): void {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

/**
 * Where batch files go: a memory file system when there is one ($XDG_RUNTIME_DIR, else
 * /dev/shm), since creating a file on a disk-backed /tmp costs ~0.2 ms here, as much as
 * the verification it feeds. The directory is mkdtemp's (0700) and removed after the batch.
 */
export function scratchDir(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of [env.XDG_RUNTIME_DIR, '/dev/shm']) {
    if (!dir) continue;
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
      if (statSync(dir).isDirectory()) return dir;
    } catch {
      // not there, or not ours to write: try the next
    }
  }
  return tmpdir();
}

function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  spawnError?: Error;
}

const OUTPUT_CAP = 4 << 20;

function run(bin: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (stdout.length < OUTPUT_CAP) stdout += d;
    });
    child.stderr.on('data', (d: string) => {
      if (stderr.length < OUTPUT_CAP) stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (spawnError) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr, spawnError });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let shared: SignatureBatcher | null | undefined;

/**
 * The process-wide batcher over the system openssl, or null when it is turned off
 * (`K8OPS_OPENSSL_VERIFY=0`). A missing openssl is found on the first batch, which then
 * falls back like every later one.
 */
export function opensslBatcher(env: NodeJS.ProcessEnv = process.env): SignatureBatcher | null {
  if (shared !== undefined) return shared;
  const off = env.K8OPS_OPENSSL_VERIFY;
  shared =
    off === '0' || off === 'false' || off === 'off'
      ? null
      : new SignatureBatcher({
          runner: opensslRunner(env.K8OPS_OPENSSL ? { bin: env.K8OPS_OPENSSL } : {}),
          parallel: Math.max(1, availableParallelism()),
          minBatch: 8,
          // A cold scan of 5,000 distinct leaves: 6 batches of 834 rather than 40 of 128
          // (each process start forks this process: ~10 ms of its main thread).
          maxBatch: 1024,
          windowMs: 8,
        });
  return shared;
}
