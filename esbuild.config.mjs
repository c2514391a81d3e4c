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
  // CommonJS dependencies inside an ESM bundle still use require(), __dirname, __filename.
  banner: {
    js: [
      "import { createRequire as __k8opsRequire } from 'node:module';",
      "import { fileURLToPath as __k8opsPath } from 'node:url';",
      'const require = __k8opsRequire(import.meta.url);',
      'const __filename = __k8opsPath(import.meta.url);',
      "const __dirname = __k8opsPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  plugins: [
    {
      // ssh2's native crypto binding and cpu-features are optional (loaded in try/catch);
      // they are not built here, and ssh2 falls back to pure JS.
      name: 'optional-native',
      setup(b) {
        b.onResolve({ filter: /\.node$|^cpu-features$/ }, (args) => ({
          path: args.path,
          external: true,
        }));
      },
    },
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
