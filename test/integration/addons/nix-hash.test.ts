/**
 * k8ops's Nix hashes against the real Nix (Debian nix-bin): `nix-hash --flat --base32`,
 * `nix-prefetch-url file://…` (what fetchurl's sha256 means) and `nix hash file` (SRI),
 * on the same files.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  formatPin,
  fromNixBase32,
  nixBase32,
  pinDigest,
  samePin,
} from '../../../src/actions/addons/nix-hash.js';
import { describeWith } from '../nix/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ops-nixhash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NIX_ENV = { ...process.env, NIX_CONFIG: 'build-users-group =' };

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: NIX_ENV });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

const sha = (b: Buffer) => new Uint8Array(createHash('sha256').update(b).digest());

describeWith(['nix-hash', 'nix-prefetch-url', 'nix'], 'Nix hashes (real nix-bin)', () => {
  it('base32 and SRI agree with nix-hash, nix-prefetch-url and nix hash file', () => {
    for (const size of [0, 1, 31, 32, 33, 1000, 65_537]) {
      const body = randomBytes(size);
      const f = join(dir, `f${size}.bin`);
      writeFileSync(f, body);
      const d = sha(body);
      expect(nixBase32(d), `size ${size}`).toBe(
        run('nix-hash', ['--type', 'sha256', '--flat', '--base32', f]),
      );
      expect(nixBase32(d)).toBe(
        run('nix-prefetch-url', [`file://${f}`])
          .split('\n')
          .pop(),
      );
      expect(formatPin(d, 'sri')).toBe(
        run('nix', ['--extra-experimental-features', 'nix-command', 'hash', 'file', f]),
      );
      expect(formatPin(d, 'prefixed')).toBe(`sha256:${nixBase32(d)}`);
    }
  });
});

it('base32 round-trips and pins compare by digest whatever their style', () => {
  for (let i = 0; i < 200; i++) {
    const d = new Uint8Array(randomBytes(32));
    const b32 = nixBase32(d);
    expect(b32).toMatch(/^[0-9a-df-np-sv-z]{52}$/);
    expect(Buffer.from(fromNixBase32(b32)!).equals(Buffer.from(d))).toBe(true);
    expect(samePin(b32, formatPin(d, 'sri'))).toBe(true);
    expect(samePin(`sha256:${b32}`, b32)).toBe(true);
  }
  expect(pinDigest('')).toBeUndefined();
  expect(pinDigest('sha256-abc=')).toBeUndefined();
  expect(pinDigest('e'.repeat(52))).toBeUndefined(); // e is not in Nix's alphabet
  // The top bits of the first character must be zero for 32 bytes (52×5 = 260 bits).
  expect(fromNixBase32(`z${'0'.repeat(51)}`)).toBeUndefined();
});
