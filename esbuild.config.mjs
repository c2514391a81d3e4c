// Bundle the compiled CLI (dist/views/main.js, from tsc) into one ESM file, dist/k8ops.mjs,
// which bin/k8ops.js loads. Resolving and linking ~400 modules of Ink, React and friends costs
// ~400 ms at every start; the bundle loads in ~80 ms (measured by `npm run bench`).
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/views/main.js'],
  outfile: 'dist/k8ops.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  // React's production build: the development one costs several times more CPU per frame.
  define: { 'process.env.NODE_ENV': '"production"' },
  // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __k8opsRequire } from 'node:module'; const require = __k8opsRequire(import.meta.url);",
  },
  plugins: [
    {
      // Ink imports react-devtools-core only when DEV=true; it is not a dependency.
      name: 'no-devtools',
      setup(b) {
        b.onResolve({ filter: /^react-devtools-core$/ }, () => ({
          path: 'react-devtools-core',
          namespace: 'stub',
        }));
        b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
          contents: 'export default { initialize() {}, connectToDevTools() {} };',
          loader: 'js',
        }));
      },
    },
  ],
});
