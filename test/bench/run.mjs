#!/usr/bin/env node
// npm run bench: every benchmark, one after the other. Each prints its own table.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const only = process.argv[2];
let failed = 0;
for (const name of [
  'console.mjs',
  'pki.mjs',
  'ssh.mjs',
  'fanout.mjs',
  'rotation.mjs',
  'addons.mjs',
  'rebuild.mjs',
  'mtu.mjs',
  'bgp.mjs',
  'nginx.mjs',
  'flows.mjs',
]) {
  if (only && !name.startsWith(only)) continue;
  const file = join(here, name);
  if (!existsSync(file)) continue;
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
