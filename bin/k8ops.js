#!/usr/bin/env node
// Shim: load the bundled CLI (`npm run build`: tsc into dist/, then esbuild into
// dist/k8ops.mjs). The bundle is built with React's production build.
const { main } = await import('../dist/k8ops.mjs');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`k8ops: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
