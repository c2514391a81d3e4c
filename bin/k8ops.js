#!/usr/bin/env node
// Shim: load the compiled CLI (built by `npm run build` into dist/).
import { main } from '../dist/src/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`k8ops: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
